"""Refusals and meta-talk: the model talking to the reader or about itself, its input or its limits.

Structural rather than a phrase list: a sentence is meta-talk when its grammatical person is
the model ("I", "我") or the reader ("you", "您") together with a verb of access, supply or
capability, when it asks the reader something, or when it describes what the *input* lacked
("was not provided"). Quoted material is removed first, so an analysis of a paper *about*
refusals or attacks ("the attacker cannot access the weights") is not meta-talk; nor is an
honest "the abstract does not say".
"""
from __future__ import annotations

import re

from .text import clauses, without_quotes

_I = r"(?:\bI\b|\bI'(?:m|ve|ll|d)\b|\bmy\b|\bme\b)"
_YOU = r"(?:\byou\b|\byour\b|\byou'(?:re|ve|ll|d)\b)"
_ZH_I = r"(?:我(?![们国军方院校司]))"
_ZH_YOU = r"(?:[您你](?!们))"
_ACCESS_EN = (r"(?:access|see|view|open|read|retrieve|browse|download|have|has|had|got|receive[d]?|"
              r"been (?:given|provided|shown)|was (?:given|provided|shown)|were (?:given|provided)|"
              r"only (?:have|see|know)|know|knowledge|training|trained|verify|find|locate|load)")
_CANNOT_EN = (r"(?:can(?:no|')t|cannot|can not|unable|not able|don't|do not|didn't|did not|won't|will not|"
              r"wasn't|was not|haven't|have not|no|without|lack|limited|only)")
_SUPPLY = r"(?:provide|share|upload|paste|send|supply|attach|include|give|forward|specify|clarify|confirm|tell)"

#: The write-up as a thing that reads or receives: "this review", "the present analysis", "本分析".
_WRITEUP = (r"(?:this|the present|the current|my) (?:write-?up|review|analysis|summary|answer|response|report|"
            r"overview|assessment|digest)")
_WRITEUP_ZH = r"(?:本|这份|这篇|此|本次|这次|以上|上述)(?:分析|解读|总结|评述|报告|回答|点评)"

PATTERNS: list[tuple[str, re.Pattern]] = [
    # the model on its own access, knowledge or ability
    ("access", re.compile(rf"{_I}[^.?!\n]{{0,40}}?\b{_CANNOT_EN}\b[^.?!\n]{{0,30}}?\b{_ACCESS_EN}", re.I)),
    ("access", re.compile(rf"{_I}(?:'m| am)\s+(?:unable|not able|not in a position|sorry)\b", re.I)),
    # "training data" alone is a paper's subject ("scaling training data"); a cut-off, or the
    # model's own training data, is the model talking about itself
    ("knowledge", re.compile(r"\b(?:knowledge cut-?off|training(?: data)? cut-?off|as of my (?:last|latest)|"
                             r"(?:beyond|after|outside|past|before) (?:my|the model's) training data|"
                             r"as an? (?:AI|language model|large language model|assistant)|"
                             r"(?:content|usage|safety) polic(?:y|ies))\b", re.I)),
    ("policy", re.compile(rf"{_I}(?:\s+\w+){{0,3}}\s+(?:can(?:no|')t|cannot|won't|will not|must decline|have to decline)\s+"
                          r"(?:help|assist|comply|fulfil|fulfill|do that|provide (?:that|this|an analysis))", re.I)),
    ("policy", re.compile(r"\bI (?:must|have to|need to) (?:decline|refuse)\b|\bI apologi[sz]e\b", re.I)),
    # the reader asked to supply something
    ("request", re.compile(rf"\b(?:please|kindly)\b[^.?!\n]{{0,20}}?\b{_SUPPLY}\b", re.I)),
    ("request", re.compile(rf"\b(?:if|once|when|should|could|would|can)\s+{_YOU}\s+(?:\w+\s+){{0,3}}?{_SUPPLY}", re.I)),
    ("request", re.compile(rf"{_YOU}\s+(?:may|might|could|can|will need to|would need to|need to|should)\s+"
                           rf"(?:\w+\s+){{0,2}}?{_SUPPLY}\b", re.I)),
    ("request", re.compile(r"\blet me know\b|\bfeel free to\b|\bI(?:'d| would) (?:be happy|need)\b|"
                           r"\bI(?:'ll| will) need\b", re.I)),
    # offers of further service: the model closing a conversation, not describing a paper
    ("offer", re.compile(r"\b(?:(?:I'?m|I am|I'd be|I would be)\s+)?(?:happy|glad) to (?:help|dig|expand|elaborate|go|discuss|"
                         r"clarify|explain|walk|provide|answer)|\bhope (?:this|that|it) helps\b|"
                         r"\bif (?:that|this|it) (?:would|could|might)? ?(?:be )?(?:help|useful|helpful)|"
                         r"\bI can (?:also |further )?(?:expand|elaborate|go deeper|dig|provide more|walk you)", re.I)),
    # the input described as missing (passive of supply: the delivery, not the paper, is the subject)
    ("input", re.compile(r"\b(?:full[- ]text|full paper|main text|paper'?s? (?:full )?(?:text|body|content)|pdf|"
                         r"(?:experiment(?:s|al)?|method(?:s|ology)?|results?|evaluation|remaining|other|relevant|later)"
                         r" sections?|sections? (?:on|about|describing) [\w ]{1,30}|appendix|paper itself)\b"
                         r"[^.?!\n]{0,30}?\b(?:(?:was|were|is|are|has been|have been|had been)\s+not|wasn't|weren't|isn't|aren't)"
                         r"\s+(?:provided|given|supplied|shared|included|attached|uploaded|available to me)\b",
                         re.I)),
    ("input", re.compile(r"\b(?:not|only)\s+(?:(?:been|was|were)\s+)?(?:provided|given|supplied|shared)\s+(?:with|to me)\b|"
                         r"\b(?:shared with|given to|provided to|sent to|available to|supplied to) me\b|"
                         r"\b(?:the|this) (?:provided|supplied|given|truncated) (?:text|excerpt|snippet|material|content|input|document)\b|"
                         r"\b(?:text|excerpt|material|content|input) (?:I was|I've been|you) (?:given|provided|shared)\b", re.I)),
    ("input", re.compile(r"\b(?:reached|made it into|was (?:available|given|passed|fed|shown) to|came through to)\s+"
                         r"(?:this|the|my)\s+(?:analysis|summary|answer|response|model|write-?up|assistant)\b|"
                         r"\bwhen this (?:was|is being) written\b|\bat the time (?:this|of this) (?:analysis|answer|summary)\b", re.I)),
    ("title", re.compile(r"\b(?:based|judging|going)\s+(?:solely |only |purely |just )?(?:on|by|from)\s+(?:the\s+)?"
                         r"(?:paper'?s?\s+)?title(?:\s+alone)?\b|\bfrom the title alone\b|\bthe title (?:suggests|implies|hints)\b",
                         re.I)),
    # the input described as missing without any person: a part of the paper that "was not
    # available", material "at hand"/"supplied", "what came through" — a paper always has its
    # sections, only the delivery to the writer can lack them
    ("input", re.compile(r"\b(?:no|without|lacking|absent)\s+(?:the\s+|an?\s+|any\s+)?(?:full[- ]text|full paper|complete paper|"
                         r"main text|pdf|appendix|(?:\w+\s+)?sections?|(?:\w+\s+)?tables?)\b[^.?!\n]{0,24}?"
                         r"\b(?:available|accessible|at hand|to (?:work|go) (?:with|on|from))\b|"
                         r"\b(?:section|appendix|full[- ]text|full paper|pdf|excerpt|portion|rest of the paper|"
                         r"remaining (?:detail|details|text|content|parts?))s?\b[^.?!\n]{0,30}?"
                         r"(?:\b(?:was|were|is|are)\s+(?:not|un)\s*(?:available|accessible|included)\b|"
                         r"\b(?:wasn't|weren't|isn't|aren't)\s+(?:available|accessible|included)\b|"
                         r"\bnot part of (?:what|the (?:input|text|material|excerpt)))", re.I)),
    ("input", re.compile(r"\b(?:text|excerpt|material|materials|document|input|snippet|copy)\s+(?:at hand|supplied|"
                         r"received|available (?:here|to (?:this|the) (?:analysis|summary|write-?up)))\b|"
                         r"\bwhat (?:came through|was (?:received|supplied|provided|given|shared|sent)|(?:is|was) at hand)\b|"
                         r"\bwithout (?:access to |seeing |reading )?the (?:full|complete|entire|whole) "
                         r"(?:paper|text|article|manuscript|pdf)\b|"
                         r"\b(?:could|can)(?:not|n't| not) be (?:retrieved|accessed|loaded|opened|obtained) from\b", re.I)),
    # a refusal on grounds of policy, and the writing declining to give something "here"
    ("policy", re.compile(r"\b(?:for|due to|out of|given)\s+(?:safety|policy|security|ethical|responsible[- ]disclosure)\s+"
                          r"(?:reasons|concerns|considerations|risks)\b[^.\n]{0,80}?\b(?:not|omitted|withheld|won't)\b|"
                          r"\b(?:is|are)\s+not\s+(?:reproduced|detailed|spelled out|repeated|elaborated)\s+here\b", re.I)),
    # the write-up itself as the subject of access, sight or reach: "this review could not consult
    # the body", "the methods were out of reach for this write-up" (a paper never lacks its own parts)
    ("input", re.compile(rf"\b{_WRITEUP}\b[^.?!\n]{{0,20}}?\b(?:could|can|cannot|can't|couldn't|was unable to|"
                         r"is unable to|were unable to|did not|didn't|does not|doesn't|had no (?:way|means) to|"
                         r"has no (?:way|means) to)\s+(?:\w+\s+){0,2}?(?:access|consult|see|read|open|view|retrieve|"
                         r"load|obtain|inspect|examine|get at|reach)\b|"
                         rf"\b{_WRITEUP}\b[^.?!\n]{{0,12}}?\b(?:only )?(?:saw|had access to|has access to|had only|"
                         r"received|was given|was provided|was shown)\b|"
                         rf"\b(?:out of|beyond) (?:the )?reach (?:of|for) {_WRITEUP}\b|"
                         rf"\b(?:unavailable|inaccessible|not available|not accessible|out of reach|beyond reach)\s+"
                         rf"(?:to|for)\s+{_WRITEUP}\b", re.I)),
    ("input", re.compile(rf"{_WRITEUP_ZH}[^。！？\n]{{0,10}}?(?:无法|不能|没能|未能|没有办法|没法)[^。！？\n]{{0,4}}?"
                         r"(?:查看|访问|读到|看到|获取|打开|核实|核对|参考|查阅|读取)|"
                         r"(?:只|仅|没|没有|未)(?:能)?(?:拿到|收到|得到)(?:了)?(?:论文的?)?(?:摘要|全文|正文|PDF|原文|附录|补充材料)|"
                         r"(?:PDF|全文|正文|链接|附件|附录|补充材料|原文)(?![中里内])[^。！？\n]{0,6}?"
                         r"(?:打不开|看不到|拿不到|读不了|下载不了|加载不了|访问不了|获取不到)", re.I)),
    # Chinese
    ("input", re.compile(r"(?:所给|给定|提供|手头|现有|收到)的?(?:材料|资料|文本|内容|节选|片段)(?:中|里)?(?:并)?(?:缺|没有|未|不含|不包括|只有|仅有|无)|"
                         r"(?:材料|资料|文本)(?:中|里)?(?:缺少|缺失|没有包含)(?:附录|实验|方法|正文|全文)")),
    # a failed delivery: the writer's access, even without a person
    ("access", re.compile(r"(?:链接|附件|文件|PDF|全文|正文|补充材料|附录)(?:内容)?(?:未能|无法|没能|不能|没有|未)(?:成功)?"
                         r"(?:加载|打开|下载|访问|获取|读取|显示)")),
    ("access", re.compile(r"\b(?:link|attachment|file|pdf|full[- ]text|supplement(?:ary material)?|appendix)s?\b[^.?!\n]{0,20}?"
                         r"\b(?:could not|couldn't|failed to|did not|didn't|would not|wouldn't)\s+(?:be\s+)?"
                         r"(?:load|open|download|render|be (?:loaded|opened|retrieved|accessed))", re.I)),
    ("policy", re.compile(r"(?:出于|考虑到|基于|鉴于)[^。！？\n]{0,12}(?:安全|政策|合规|风险|伦理)[^。！？\n]{0,30}?"
                          r"(?:不便|不予|不宜|不作|无法)(?:详细|具体)?(?:展开|详述|说明|讨论|提供|给出)|"
                          r"(?:这里|此处|在此)(?:不便|不予|不宜)(?:详细|具体)?(?:展开|详述|说明|讨论)")),
    ("request", re.compile(r"(?:贴|粘贴|复制)(?:过来|上来|进来|在下面|到这里|给我)|发(?:过来|给我)|(?:传|附)(?:上来|过来)")),
    ("access", re.compile(rf"{_ZH_I}[^。！？\n]{{0,12}}?(?:无法|不能|没法|未能|没有办法|不可以|没有|未)[^。！？\n]{{0,8}}?"
                          r"(?:访问|获取|查看|读取|打开|看到|下载|浏览|得到|拿到|检索|联网|权限)")),
    ("access", re.compile(rf"{_ZH_I}(?:只能|仅能)?(?:看到|拿到|获得|收到)的?(?:只有|仅有|仅为|是)")),
    ("knowledge", re.compile(r"知识截止|训练数据截至|截至我的|我的(?:知识|训练数据|训练)|作为(?:一个|一名)?(?:AI|人工智能|语言模型|大语言模型|AI助手)")),
    ("policy", re.compile(rf"{_ZH_I}(?:不能|无法|不便)(?:协助|帮助|提供帮助|完成|满足)|(?:违反|不符合)(?:相关)?(?:政策|规定|准则)")),
    ("offer", re.compile(rf"(?:如需|如果需要|若需要|需要的话)[^。！？\n]{{0,20}}(?:告诉我|联系我|我(?:可以|可|会|再|将))|"
                         rf"随时(?:告诉|问)我|希望(?:以上|这份|这些|本)?(?:分析|内容|解读)?(?:对{_ZH_YOU})?(?:有所|能有|有)帮助|"
                         rf"我(?:可以|还可以|能)(?:进一步|再|继续)(?:展开|补充|分析|解释)|"
                         r"(?:可以|欢迎|随时)(?:继续|接着|再)(?:问|提问|追问|交流)")),
    ("request", re.compile(rf"请(?:{_ZH_YOU})?(?:随时|再|进一步)?(?:提供|上传|发送|粘贴|补充|分享|告知|确认|说明|给出|告诉我)|"
                           rf"(?:如果|若|一旦|待|等){_ZH_YOU}?(?:能|可以|方便)?(?:提供|上传|发送|粘贴|补充|分享)|"
                           rf"{_ZH_YOU}(?:可以|能否|是否可以|能不能|需要)(?:再|进一步)?(?:提供|上传|发送|粘贴|补充|分享|告诉|确认)|"
                           r"欢迎(?:提供|补充|上传)|需要(?:更多|完整|全文)(?:的)?(?:信息|内容|文本|论文)才能")),
    ("input", re.compile(r"(?:未|没有|没)(?:被)?(?:提供|给出|附上|上传|给我)(?:论文|该论文|这篇论文)?(?:的)?"
                         r"(?:全文|正文|完整(?:论文|文本|内容)|实验部分|方法部分|实验章节|方法章节|相关章节|其余章节|PDF)|"
                         r"(?:全文|正文|实验部分|方法部分|实验章节|方法章节|相关章节|其余章节)(?:内容)?(?:并)?(?:未|没有)(?:被)?"
                         r"(?:提供|给出|附上|上传|包含在)|"
                         r"(?:提供|给出|给我)的(?:文本|材料|内容|片段|节选|输入)(?:中|里)?(?:并)?(?:没有|未|不)|"
                         r"(?:未|没有|没)附(?:上|带)?(?:原文|全文|正文)?")),
    ("title", re.compile(r"\b(?:lean(?:s|ing)?|rel(?:y|ies|ying)|draw(?:s|ing|n)?|guess(?:es|ing)?|speculat\w*|"
                         r"extrapolat\w*|work(?:s|ing)? (?:only |just )?from)\b[^.?!\n]{0,24}?\b(?:on|from)\s+(?:the\s+)?"
                         r"(?:paper'?s?\s+)?title\b|\b(?:only|just) (?:the|a) (?:paper'?s?\s+)?title\b", re.I)),
    # a delivery that failed on the writer's side: "the abstract did not come through on my end"
    ("access", re.compile(r"\b(?:abstract|text|paper|pdf|input)\b[^.?!\n]{0,20}?\b(?:did not|didn't|never|failed to)\s+"
                         r"(?:come through|arrive|load|reach me)|\bon my (?:end|side)\b", re.I)),
    ("title", re.compile(r"(?:只|仅)(?:能)?(?:看到|拿到|有|获得|收到)(?:了)?(?:论文)?(?:的)?(?:标题|题目)|"
                         r"(?:根据|凭|从|基于)(?:论文)?(?:的)?(?:标题|题目)[^。，；\n]{0,4}?(?:推测|猜测|推断|猜)|"
                         r"(?:标题|题目)(?:做|作)(?:的|出)(?:推测|猜测|推断)")),
    ("title", re.compile(r"(?:仅|只|单)?(?:根据|凭|从|基于)(?:论文)?(?:的)?(?:标题|题目)(?:来看|看|推测|判断|猜测|推断)|"
                         r"(?:标题|题目)(?:暗示|表明|推测)")),
]
#: The model's own voice: first person singular. An analysis speaks of the paper and its authors
#: ("we" in a translated abstract is the authors); "I", "my", "我将" are the model about itself.
_SELF_EN = re.compile(r"\bI\b(?=\s+[a-z]|'[a-z])|\b[Mm](?:e|y|yself)\b")
_SELF_ZH = re.compile(r"(?<!自)(?<!忘)我(?![们国方军院校司])")
#: "Type I error", "Phase I", "Table I": a Roman numeral, not a pronoun.
_ROMAN = re.compile(r"(?:type|phase|stage|part|table|section|class|level|figure|fig\.|step|round|tier|act|appendix|"
                    r"chapter|group|grade|category|experiment|study|setting|case)s?"
                    r"(?:\s+(?:above|below|beyond|past|than|to|and|or|through|from|like))?\s+$", re.I)


#: An opinion on the paper in the first person ("more interesting to me is…", "我认为…") is a
#: reviewer's voice, not the model about itself: it passes unless the same sentence also speaks of
#: the model's abilities, input or next step, or addresses the reader (_OWN).
_OPINION = re.compile(r"\b[Tt]o me\b|\b[Ii]n my (?:view|opinion|reading|judge?ment|estimation|experience)\b|"
                      r"\bI (?:think|find|found|believe|suspect|doubt|would argue|'d argue|would say|expect|like|liked)\b|"
                      r"\bI(?:'d| would)(?: also| still| really)? (?:want|like|love) to (?:know|see|learn|understand)\b|"
                      r"\b[Mm]y (?:main |biggest |chief |one )?(?:reading|guess|take|impression|concern|doubt|worry|question)s?\b|"
                      r"在我看来|我(?:认为|觉得|更关注|更看重|最关注|看来)|依我看|对我(?:来说|而言)")
_OWN = re.compile(r"\bI (?:can|could|am|was|will|shall|should|have|had|do|did|don't|didn't|haven't|won't|wasn't|'ll|'m|'ve)\b|"
                  r"\b[Mm]y (?:knowledge|training|input|access|answer|response|analysis|summary|write-up)\b|\byou(?:r)?\b|"
                  r"\bto (?:see|read|have|get) (?:the )?(?:full[- ]?text|full paper|complete paper|pdf|paper itself|"
                  r"appendi|supplement|rest of the paper|\w+ section)|"
                  r"我(?:无法|不能|没有|没能|未能|将|会|可以|能|要|来|先|再|需要|的(?:知识|训练|回答|分析))|您|你")


def _self(sentence: str) -> bool:
    if _OPINION.search(sentence) and not _OWN.search(sentence):
        return False
    for m in _SELF_EN.finditer(sentence):
        if not (m.group(0) == "I" and _ROMAN.search(sentence[:m.start()])):
            return True
    return bool(_SELF_ZH.search(sentence))


#: Questions count when they address the reader or offer the model's further service.
_QUESTION_PERSON = re.compile(rf"{_YOU}|{_I}|\b(?:shall|should) (?:I|we)\b|{_ZH_YOU}|{_ZH_I}|需要我|是否需要")
_PASSIVE_PAPER = re.compile(r"(?:论文|作者|文中|摘要|原文)(?:中)?(?:并)?(?:未|没有)(?:提供|给出|公开)")


def meta_talk(text: str, *, opening: bool = False) -> list[tuple[str, str]]:
    """(kind, sentence) for each sentence that is about the model, the reader or the input.

    `opening`: text before the first part, which is stripped as a preamble; only requests,
    refusals and access talk count there ("我将根据您提供的摘要进行分析" is harmless)."""
    found = []
    for sentence in clauses(without_quotes(text)):
        kinds = [k for k, p in PATTERNS if p.search(sentence)]
        if "input" in kinds and _PASSIVE_PAPER.search(sentence) and len(kinds) == 1:
            kinds = []  # "论文未提供代码": the paper's omission, a fair limitation
        if sentence.rstrip().endswith(("?", "？")) and _QUESTION_PERSON.search(sentence):
            kinds.append("question")
        if not kinds and _self(sentence):
            kinds.append("self")
        if opening:
            kinds = [k for k in kinds if k in ("access", "request", "policy", "knowledge", "question", "title")]
        if kinds:
            found.append((kinds[0], sentence.strip()[:80]))
    return found


#: A document or a part of one, as something handed over (not "the abstract", whose silence is a
#: fair limitation: "the abstract does not say…").
_DOCUMENT = re.compile(r"\b(?:full[- ]?text|full paper|complete paper|body of the (?:paper|article)|main text|pdf|"
                       r"sections?|appendi(?:x|ces)|supplement(?:ary)?(?: material)?|text|document|excerpt|material|"
                       r"manuscript|copy|file|link|attachment|upload)s?\b", re.I)
#: ...and its delivery: reached, opened, seen, supplied or not.
_DELIVERY = re.compile(r"\b(?:access(?:ed|ible)?|(?:un)?available|reach(?:ed)?|consult(?:ed)?|open(?:ed)?|load(?:ed)?|"
                       r"retriev(?:e|ed|able)|obtain(?:ed)?|seen|view(?:ed)?|received?|included|attached|provided|"
                       r"supplied|came through|come through|went through|missing|absent|cut off|truncated)\b", re.I)


#: Something withheld: the input talk is about what did not arrive (or only part of it did).
_LACK = re.compile(r"\b(?:not|no|never|without|only|nothing|none)\b|n't\b|\b(?:missing|absent|unavailable|inaccessible|"
                   r"cut off|truncated)\b", re.I)


def document_talk(text: str, source: str) -> str | None:
    """An English sentence that shares no content word with the paper and speaks of a document
    being delivered, opened or missing: the writer on its input, however it is phrased ("the PDF
    never came through", "sections past the introduction were not seen here")."""
    from .specificity import content_stems
    have = content_stems(source)
    for sentence in clauses(without_quotes(text)):
        if not _DOCUMENT.search(sentence) or not _DELIVERY.search(sentence) or not _LACK.search(sentence):
            continue  # "once text corpora are available" is a prospect, not a missing input
        if not content_stems(sentence) & have:
            return sentence.strip()[:80]
    return None
