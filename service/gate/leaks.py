"""Leaks: the model's working, its tool plumbing or its instructions in what would be published.

Checked over the whole answer (before the first part, between parts, after the findings) and
over every string of a tool answer, not only the section bodies.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from .text import ascii_runs, normalize, without_quotes

TAGS = re.compile(r"</?\s*(?:think|thinking|thought|reasoning|reflection|scratchpad|inner_monologue|analysis_plan|"
                  r"answer|output|result|tool_call|tool_use|tool_result|function_calls?|invoke|parameter|"
                  r"antml:[a-z_]+|system|instructions?|paper(?:\s+id=[^>]*)?)\s*>", re.I)
COT = re.compile("|".join([
    r"\blet me (?:now |first |quickly |carefully )?(?:analy[sz]e|think|start|begin|look|break|go through|check|"
    r"read|re-?read|consider|examine|review|draft|write|summari[sz]e|outline|structure|recall|figure|work)\b",
    r"\blet's (?:analy[sz]e|think|start|begin|break|go through|look|draft|work)\b",
    r"\bstep \d+\s*[-:–—.)]\s*(?:read|write|fill|draft|check|outline|summari[sz]e|skim|extract|list|note)\b",
    r"\bfill(?:ing)? (?:in |out )?(?:the |all )?(?:five|seven|\d) (?:fields|parts|sections|slots)\b",
    r"\b(?:first|now|next),? I(?:'ll| will| need to| should| must| have to)\b",
    r"\bI (?:need|have|am going|'m going) to (?:write|produce|output|analy[sz]e|fill|follow|structure|draft|call|use the tool)\b",
    r"\bthe user (?:wants|asks|asked|is asking|has (?:provided|asked|given)|requests?|would like)\b",
    r"\b(?:okay|ok|alright|hmm),? (?:so|let me|let's|the user|I need|I should|now)\b",
    r"\bmy (?:task|job|goal|plan|draft|answer|output|response) (?:is|will be|here)\b",
    r"\b(?:step \d+: )?(?:draft(?:ing)? the (?:answer|analysis|response))\b",
    # process narration: the writing, not the paper, is what moves on
    r"\b(?:moving on|turning (?:now )?to|before moving on|on to)\b[^.\n]{0,40}?\b(?:part|section|write-?up|"
    r"methodology|next point)\b",
    r"(?:^|[.!?:]\s+|\n)\s*(?:now|next|then|first|finally)[, ]+(?:let'?s |let us |we(?:'ll| will)? )?"
    r"(?:consider|look at|turn to|examine|go through|discuss|cover|address|tackle)\b",
    r"\b(?:(?:this|the) (?:write-?up|analysis|summary|answer|response)(?:'s)? (?:next step|will now|now turns|turns to|"
    r"moves on)|next (?:step|part) of (?:this|the) (?:write-?up|analysis|answer))\b",
    r"(?:接下来|下面|然后|现在|再)(?:接着|来|再|就)?(?:考虑|分析|看看?|写|梳理|整理|讨论|谈谈|说说|补充|处理)(?:一下)?"
    r"[^。，\n]{0,12}?(?:部分|这段|段落|章节|小节|要点|思路|关键词)",
    r"先[^。\n]{0,24}?再(?:写|下笔|动笔|成文|落笔)|(?:草拟|草稿|待补|备注|下一步)[：:]|(?:还要|还需|再)(?:补|写|加)(?:两|几|一)句",
    # a part of the write-up done and the next one announced: the writing, not the paper, moves on
    r"\b(?:with|having)\s+(?:the\s+)?(?:contributions?|method|methodology|motivation|background|impact|applications?|"
    r"limitations?|innovations?|overview|first part|previous part|that part|this part|that section|this section)\s+"
    r"(?:now\s+)?(?:covered|done|out of the way|finished|dealt with|sorted|written up)\b"
    r"(?!\s+(?:in|by|on|at|with|under|for|offline|online)\b)",
    r"\b(?:the\s+)?(?:methodology|method section|methods section|applications?|limitations?|impact|contributions?|"
    r"next part|next section|findings)\s+(?:comes?|is|are)\s+(?:up\s+)?next\b(?=\s*(?:[,.;:!?\-–—]|$))",
    r"(?:贡献|动机|方法|创新|影响|应用|局限|实验|背景|这一?部分|上一部分|前面)(?:点|部分)?(?:就|都|已经)?(?:写完|讲完|说完|谈完|聊完)|"
    r"轮到[^。！？\n]{0,10}?(?:部分|了)|(?:接下来|下面|然后|现在)(?:来|再|就)?(?:说|讲|聊|谈|写)(?:说|讲|聊|谈|一下)?"
    r"(?:方法|应用|局限|影响|贡献|实验|创新|动机)",
    # a numbered part of the write-up done, or the writing itself resumed: "第三部分写完了", "下面接着写应用场景"
    r"第\s*[\d一二三四五六七八九十]+\s*(?:部分|段|节)(?:就|都|已经|已)?(?:写完|完成了|搞定)|"
    r"(?:接着|继续|开始|然后|再)写(?:入|下去|下一|应用|局限|影响|方法|贡献|实验)|"
    r"\b(?:part|section) (?:\d|one|two|three|four|five|six|seven)\s+(?:is\s+)?(?:done|finished|complete)\b[^.\n]{0,20}?"
    r"\b(?:next|now|on to|moving)\b",
    # a progress log of the writer's steps: "[步骤 5/7 完成", "(step 3/5 done"
    r"[\[(（【]\s*(?:步骤|阶段|step|stage)\s*\d+\s*/\s*\d+",
    r"让我(?:先|来|们)?(?:分析|思考|想想|看看|整理|梳理|理一下|读一下|检查|确认)",
    # the task statement echoed as a labelled line: "Task: analyse the paper below in five parts…", "任务：用五段式分析…"
    r"(?:^|\n)\s*(?:\*\*)?(?:task|instructions?|prompt|任务|要求|指令)(?:\*\*)?\s*[:：]\s*(?:\*\*)?\s*(?:please\s+)?"
    r"(?:analy[sz]e|write|summari[sz]e|produce|read the|use only|请|用|按|分析|撰写|总结|阅读)",
    r"我(?:需要|要|得|应该)(?:先|首先)?(?:按照|根据|遵循)?(?:框架|要求|指令|提示|格式)",
    r"我(?:需要|要|得|应该)(?:先|首先)(?:分析|思考|阅读|梳理|写|输出|填写)",
    r"用户(?:要求|希望|想要|想让|让我|提供了|给了|的请求|的问题)",
    r"(?:思考过程|推理过程|草稿|内心独白|我的思路)[：:]",
    # the writer checking its own reading of the source: "Wait, did the abstract say six or eight?",
    # "Checking again: nine categories.", "let me double-check", "I should verify…", "等等，摘要说的是…", "我再核对一下"
    r"(?:^|[.!?:;)]\s+|\n)\s*(?:wait|hold on|hmm+|oh)\b\W{0,4}(?:did|does|do|is|was|are|were|what|which|where|how|"
    r"the abstract|the paper|it)\b",
    r"\b(?:checking|re-?checking|double-checking|re-?reading) (?:it |that |this )?(?:again|once more)\b",
    r"\b(?:let me|I(?:'ll| will| should| need to| must| have to| want to)) (?:quickly )?(?:double-check|re-?check|"
    r"verify|confirm|make sure|check (?:again|whether|if|that|the))\b",
    r"\bnote to (?:self|myself)\b|\bmental note\b",
    # first person singular with a plan or an obligation about the writing: "I should keep the applications
    # short", "I'll lead with the error rate", "我先把方法写完", "我还得补一句局限"
    r"\bI(?:'ll| will| should| must| need to| have to| am going to|'m going to| want to)\s+(?:also\s+|just\s+|briefly\s+)?"
    r"(?:keep|make|write|mention|add|cover|skip|say|note|lead|end|start|begin|list|put|include|focus|stress|"
    r"highlight|flag|tighten|rephrase|expand|shorten|trim|fill|draft|move|go)\b",
    r"(?<![自])我(?:先|再|还|得|要|需要|应该|打算|准备)(?:得|要)?(?:把|写|补|列|提一下|强调|简单|简要|压缩|精简|展开|交代)",
    r"\bnow (?:for|on to|to) (?:part|section) (?:\d|one|two|three|four|five|six|seven)\b",
    # moving the writing on to a numbered part: "接下来进入第三部分", "Moving on to part 4."
    r"(?:接下来|下面|现在|然后|再)(?:我们|就)?(?:进入|转到|转向|来到|回到|开始)第\s*[\d一二三四五六七八九十]+\s*(?:部分|段|节)|"
    r"\b(?:moving|turning|going|proceeding|jumping|on) (?:on |now |back )?to (?:part|section) (?:\d|one|two|three|four|five|six|seven)\b",
    # a drafting plan on a labelled line: "Plan: intro para → bullets → keep limitations short. Target ~450 words."
    r"(?:^|\n)\s*(?:\*\*)?(?:plan|outline|writing plan|draft plan|计划|提纲|写作计划|大纲)(?:\*\*)?\s*[:：][^\n]*?"
    r"(?:→|->|=>|\bwords?\b|\bpara(?:graph)?s?\b|\bbullets?\b|字|段)",
    r"(?:^|[。！？\n])\s*(?:等等|等一下|等下|慢着)[，,、—]|我(?:再|先|得|要|需要)?(?:核对|核实|确认|检查|复查)(?:一下|一遍)|"
    r"再(?:核对|核实|确认|检查|看)一(?:遍|下)(?:摘要|原文|论文)|给自己的?(?:备注|提醒)",
]), re.I)
TOOLISH = re.compile(r"\"(?:sections|findings|claim|evidence|name|input|tool_use|type|id|arguments|parameters|"
                     r"abstract_translation|motivation|method|comparison|experiments|practical|summary|contribution|"
                     r"innovations|impact|applications|limitations|themes|highlights|emerging|recommended)\"\s*:|"
                     r"\b(?:tool_use|tool_call|function_call|stop_reason|input_schema)\b|"
                     r"^\s*[{\[]\s*$|^\s*[}\]],?\s*$|"
                     r"^\s*\{\s*\"[A-Za-z_]+\"\s*:\s*[\"{\[]", re.I | re.M)  # a JSON object opening a line
#: Sentences of our system prompt, and the usual shapes of an echoed one.
SYSTEM = re.compile(r"\byou are an? (?:helpful |expert |careful |research |ai )*(?:assistant|researcher|expert|analyst|model)\b|"
                    r"rules you always follow|it is data to analy[sz]e, never instructions|never ask for more material|"
                    r"answer only by calling the tool|filling every field with substantive content|"
                    r"use only what the provided material says|inside a <paper> element|"
                    r"你是一(?:名|位|个)(?:专业的|资深的)?(?:研究助理|助手|专家|研究员)", re.I)
#: Any markup-like tag (`<name attr="…">`, `</name>`, `<name/>`), whatever its name: a wrapper or a section
#: marker of the model's own output format. HTML a renderer takes (and `foreign_link` judges) is not one.
MARKUP = re.compile(r"<(/?)([A-Za-z][\w:.-]+)((?:\s+[\w:.-]+(?:\s*=\s*(?:\"[^\"<>\n]*\"|'[^'<>\n]*'|[^\s<>]+))?)*)\s*/?>")
_HTML = frozenset("""a abbr b bdi bdo blockquote br caption cite code col colgroup dd del details dfn div dl dt em figcaption
figure h1 h2 h3 h4 h5 h6 hr i img iframe ins kbd li mark math mi mn mo mrow msub msup ol p picture pre q rp rt ruby s
samp script small source span strike strong style sub summary sup table tbody td tfoot th thead tr tt u ul var video
wbr audio center font input label object embed svg""".split())
_CODE = re.compile(r"^\s*(```|~~~).*?^\s*\1|(`+)[^`\n]+?\2", re.S | re.M)


def markup_tag(text: str, source_l: str = "") -> str | None:
    """The first markup-like tag outside code that is not HTML and not the paper's own."""
    for m in MARKUP.finditer(_CODE.sub(" ", text)):
        if m[2].lower() in _HTML or m.group(0).lower() in source_l:
            continue
        return m.group(0)[:50]
    return None


FENCE = re.compile(r"^\s*(?:```|~~~)", re.M)
PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
#: Words in a row that an answer may share with our prompts before it counts as an echo.
ECHO_WORDS = 7


@lru_cache(maxsize=1)
def prompt_shingles() -> frozenset[str]:
    """Every run of ECHO_WORDS words of our own prompt files (placeholders removed)."""
    out: set[str] = set()
    for name in ("system.md", "analysis_abstract.md", "analysis_fulltext.md", "summary.md", "retry.md"):
        path = PROMPTS / name
        if path.is_file():
            words = re.findall(r"[a-z]+", re.sub(r"\$\w+", " ", path.read_text("utf-8")).lower())
            out |= {" ".join(words[i:i + ECHO_WORDS]) for i in range(len(words) - ECHO_WORDS + 1)}
    return frozenset(out)


@lru_cache(maxsize=64)
def _letters(source: str) -> str:
    return " ".join(ascii_runs(source.lower()))


def echoes_prompt(text: str, source: str = "") -> str | None:
    """A run of words from our prompts in the answer (and not in the paper): an echoed prompt."""
    words = re.findall(r"[a-z]+", text.lower())
    shingles, src = prompt_shingles(), _letters(source)
    for i in range(len(words) - ECHO_WORDS + 1):
        run = " ".join(words[i:i + ECHO_WORDS])
        if run in shingles and run not in src:
            return run
    return None


@lru_cache(maxsize=64)
def _lower(source: str) -> str:
    return normalize(source).lower()


#: An aside opened by a label and a colon: "(scratch: …", "(note: …", "[check: …", "（自注：…".
_ASIDE = re.compile(r"[(\[（【]\s*([A-Za-z]+(?: [A-Za-z0-9]+){0,3}|[\u4e00-\u9fff]{1,3})\s*[:：]([^\n]{3,200})")
#: The first word of a longer label that makes it the writer's ("TODO before sending:", "FIXME for v2:").
_NOTE_FIRST = {"todo", "tbd", "fixme", "draft", "scratch", "wip", "memo"}
#: An aside reporting the writer's own check of its text against the paper ("(Checked the AUCs against
#: the abstract again: fine, keep.)", "（已对照摘要核对过……保留。）").
_SELF_CHECK = re.compile(r"[(\[（【]\s*(?:I\s+)?(?:re-?checked|double-checked|cross-checked|checked|verified|confirmed)\b"
                         r"[^)\]）】\n]{0,120}?\b(?:against|with)\s+the\s+(?:abstract|source|paper|text)\b|"
                         r"[（(【]\s*(?:已|我已|已经|再次)?(?:对照|核对|检查|确认)[^）)】\n]{0,30}?(?:摘要|原文|论文)[^）)】\n]{0,30}?"
                         r"(?:没问题|无误|保留|可以|正确)", re.I)
#: Labels that name the writer's private note: anything that questions or plans the writing counts.
_NOTE_LABELS = {"scratch", "todo", "tbd", "draft", "memo", "fixme", "tmp", "temp", "self", "wip", "to check",
                "note to self", "草稿", "自注", "笔记", "待办", "待查"}
#: Labels that name the writer's thinking or plan: a note to self whatever follows.
_THINK_LABELS = {"thinking", "thought", "thoughts", "plan", "reasoning", "思考", "思路", "想法", "计划", "推理", "打算"}
#: Labels a reader-facing aside uses too ("(Note: does it hold outdoors? The abstract does not say.)"):
#: only editing or postponing the text counts there.
_ASIDE_LABELS = {"note", "notes", "nb", "check", "reminder", "备注", "注", "提醒"}
#: Editing the text itself: a note to self whatever its label.
_EDIT = re.compile(r"\b(?:tighten|rephrase|reword|polish|todo|tbd|fixme|fill in|revisit|double-check this|"
                   r"fix (?:this|later)|cut this|shorten this)\b|待(?:核|查|确认|补|定)|稍后|回头再|再改|润色|改写", re.I)
#: In a private note: a question, arrow shorthand, "later", a verb of saying what to write.
_NOTE = re.compile(r"\?|？|->|→|=>|\b(?:later|check|verify|confirm|say|mention|write|add)\b|再(?:写|补|查|看)|核对", re.I)
_LATER = re.compile(r"->|→|=>|\blater\b|稍后|回头", re.I)


def notes_to_self(text: str) -> str | None:
    """A labelled aside that is the writer talking to itself ("(scratch: is it Sim(3)? paper says
    … -> fine)", "(note: tighten this part later)"); "(note: the abstract gives no variance)" or
    "(ours: 84.1 vs 80.2)" is about the paper."""
    if m := _SELF_CHECK.search(text):
        return m.group(0).strip()[:50]
    for m in _ASIDE.finditer(text):
        label = m[1].lower()
        if label.split()[0] in _THINK_LABELS and re.fullmatch(r"\w+(?: (?:for|of) (?:this|the|that|next) \w+)?", label):
            label = label.split()[0]  # "(plan for this part: …": the plan label with what it plans
        if len(label.split()) > 2 and label.split()[0] not in _NOTE_FIRST:
            continue  # "(The authors checked robustness: …": a sentence, not a label
        if ((" " in label and label.split()[0] in _NOTE_FIRST) or label in _THINK_LABELS or _EDIT.search(m[2])
                or (label in _NOTE_LABELS and _NOTE.search(m[2]))
                or (label in _ASIDE_LABELS and _LATER.search(m[2]))):
            return m.group(0).strip()[:50]
    return None


#: A sentence addressed to the writer: an order ("请…", "不要…", "Do not …", "You should …") or a labelled
#: requirement ("（要求：…", "(Instruction: …").
_ORDER = re.compile(r"^\W*(?:(?:要求|指令|任务要求|写作要求|提示词|instructions?|requirements?|task|prompt)\s*[:：]|"
                    r"请(?!注意|参阅|参见|见)|(?:不要|切勿|不得|禁止|务必|必须|一定要)|please\b|do not\b|don't\b|never\b|"
                    r"always\b|make sure\b|be sure\b|remember to\b|you (?:should|must|need to|are to|will|have to)\b)", re.I)
#: ...about the writing task, not the paper's subject: the framework, the parts, the findings and their
#: evidence, the abstract as the only material, inventing nothing, a length.
_TASK = re.compile(r"框架|五段|七段|每(?:个|一)?部分|各部分|关键发现|原文证据|不少于[^。]{0,6}(?:字|句)|编造|捏造|杜撰|虚构|"
                   r"撰写|(?:仅|只)(?:根据|基于)(?:摘要|原文|论文)|以下(?:论文|摘要|内容)|"
                   r"\bframework\b|\beach (?:part|section|field)\b|\bkey findings\b|\bverbatim\b|"
                   r"\b(?:invent|fabricate|make up|made-up)\b|\bat least (?:\w+ )?(?:sentences|words)\b|"
                   r"\b(?:only|solely) (?:on |from )?the (?:abstract|paper|source)\b|"
                   r"\bthe (?:paper|abstract|text) below\b|\bthe following (?:paper|abstract)\b", re.I)


def instruction_to_writer(text: str, source: str = "") -> str | None:
    """A sentence that orders the writer about the write-up ("请根据以下论文摘要，按照五段式框架撰写分析",
    "（要求：仅根据摘要说明…，不要编造数字。）", "Do not invent numbers that are not in the abstract."):
    our prompt, or one like it, echoed into what would be published. Advice to the reader ("不要把它用于
    临床", "Do not expect real-time speed") names no part of the writing task."""
    source_l = _lower(source)
    for sentence in re.split(r"(?<=[。！？!?])|(?<=[.;])\s+|\n|(?=[（(【\[])", without_quotes(text)):
        sentence = sentence.strip(" *_#>-")
        if (m := _ORDER.match(sentence)) and (t := _TASK.search(sentence)):
            if normalize(t.group(0)).lower() in source_l and normalize(sentence).lower()[:40] in source_l:
                continue
            return sentence[:50]
    return None


def leaks(text: str, *, whole_answer: bool = False, source: str = "") -> list[tuple[str, str]]:
    """(kind, excerpt) for every leak in `text`. `whole_answer`: the text is the complete
    published answer, so an answer that is one code block counts too. A phrase the paper
    itself uses ("the system prompt", "the user asks" in a paper about agents) is not a leak."""
    found = []
    plain = normalize(text) if text else ""
    source_l = _lower(source)
    for kind, pattern, where in (("tag", TAGS, text), ("chain-of-thought", COT, without_quotes(text)),
                                 ("tool/JSON", TOOLISH, text), ("system prompt", SYSTEM, text)):
        for m in pattern.finditer(where):
            phrase = normalize(m.group(0)).lower().strip()
            if phrase and phrase in source_l:
                continue
            if phrase.startswith("用户") and re.search(r"\busers?\b", source_l) and not re.search(
                    r"我|分析|总结|输出|撰写|写|论文|摘要", where[m.end():m.end() + 12]):
                continue  # the paper's users (an agent's, a system's), not the model's
            found.append((kind, m.group(0).strip()[:50]))
            break
    if not any(k == "tag" for k, _ in found) and (tag := markup_tag(text, source_l)):
        found.append(("tag", tag))
    note = notes_to_self(without_quotes(text))
    if note and note.lower() not in source_l:
        found.append(("a note to self", note))
    if order := instruction_to_writer(text, source):
        found.append(("an instruction to the writer", order))
    echo = echoes_prompt(text, source)
    if echo and not any(k == "system prompt" for k, _ in found):
        found.append(("system prompt", echo))
    if whole_answer and plain.startswith(("```", "~~~")):
        found.append(("code block", "the whole answer is inside a code block"))
    for block in re.findall(r"^\s*(?:```|~~~)[^\n]*\n(.*?)^\s*(?:```|~~~)", text, re.S | re.M):
        if TOOLISH.search(block) or re.search(r"^\s*#{1,6}\s|^\s*\*\*\d", block, re.M):
            found.append(("code block", "a code block holds the answer or its JSON"))
            break
    return found
