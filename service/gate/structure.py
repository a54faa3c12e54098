"""Structure: the framework's parts, present, with substance, not echoing the template, not cut off."""
from __future__ import annotations

import re
from functools import lru_cache

from ..prompts import Framework
from .specificity import field_list
from .text import CJK, normalize

MIN_SECTION_CHARS = 12
PLACEHOLDER = re.compile(r"^\s*(?:[\[\(（【<{]?\s*(?:\.{2,}|…+|待补充|待填写|此处填写|内容|TODO|TBD|N/?A|"
                         r"placeholder|content here|your (?:text|answer) here|无)\s*[\]\)）】>}]?\s*)+$", re.I)
PREAMBLE = re.compile(
    r"^\s*(?:(?:好的|当然|没问题|嗯)[，,！!。]?.{0,80}?(?:我将|我会|我来|下面|以下是?)[^\n。：:]*[。：:]\s*"
    r"|(?:Sure|Certainly|Of course|Okay|OK)[,.!]?[^\n]{0,160}?(?:I will|I'll|here is|here's|below)[^\n]*?[.:]\s*"
    r"|(?:Here is|Here's|Below is)[^\n]{0,160}?[.:]\s*)", re.I)
_MARK = r"(?:\*\*|__)"
#: A part label before the title: "Part 1 —", "Section 2:", "第 1 部分 —", "【一】", "(3)".
_PART_LABEL = (r"(?:(?:(?:part|section|step)\s*(?:\d+|[IVX]{1,4})|第\s*[\d一二三四五六七]\s*(?:部分|节|段|点)"
               r"|【\s*[\d一二三四五六七]\s*】|[(（]\s*[\d一二三四五六七]\s*[)）])\s*[—–\-:：.、]?\s*)")
_HEADING = (rf"^\s*(?:#{{1,6}}\s*)?{_MARK}?\s*(?:(?:\d+|[一二三四五六七]|[IVX]{{1,4}})\s*[.、)．]\s*)?{_MARK}?\s*"
            rf"(?i:{_PART_LABEL})?{_MARK}?\s*"
            rf"[【\[]?(?P<title>[^*\n【】\[\]]{{1,LONG}}?)[】\]]?\s*{_MARK}?\s*[:：]?\s*{_MARK}?\s*$")
HEADING = re.compile(_HEADING.replace("LONG", "60"))
#: A markdown heading may carry more words after the part's name ("## 5. Limitations inferable from
#: the abstract (as far as the abstract shows)"); a plain line that long is a sentence.
MD_HEADING = re.compile(r"(?=\s*#{1,6}\s)" + _HEADING.replace("LONG", "110"))
#: So may a whole bold line ("**Main contribution: calibrated exposure as a plug-in re-ranker**"): a
#: subtitle after the part's name, the line's only text, is a heading's form, not a sentence's.
BOLD_HEADING = re.compile(r"(?=\s*(?:\*\*|__)[^*\n]+(?:\*\*|__)\s*$)" + _HEADING.replace("LONG", "110"))
#: The number before a title ("**5. …**", "五、…"): a title in other words is the part of that number.
_NUMBERED = re.compile(rf"^\s*(?:#{{1,6}}\s*)?{_MARK}?\s*(\d|[一二三四五六七])\s*[.、)．]")
FINDINGS_HEADING = re.compile(r"^\s*(?:#{1,6}\s*)?(?:\*\*|__)?\s*(?:key findings|关键发现|主要发现)", re.I)
END = re.compile(r"[。！？.!?）)\]」』”\"*`|$]\s*$")
LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)、])\s+")
#: A line that stops on a word that cannot end a phrase: a cut, not a terse list item.
#: "…does not say which", "it is unclear which": an embedded question, complete as it stands.
_ASKED = "".join(f"(?<!{w} )" for w in ("say", "says", "said", "tell", "tells", "show", "shows", "know", "state",
                                          "states", "specify", "report", "reveal", "clear", "unclear", "decide"))
DANGLING = re.compile(rf"(?:[,，、;；:：(（\-–/]|\b(?:the|a|an|of|and|or|to|with|for|in|on|by|that|{_ASKED}which|is|are|as|from|"
                      r"than|its|their|whose|into|at)|(?<![目有])的|和|与|或|以及|及其|并且|而且|通过|对于|由于|因为|但是|"
                      r"其中|(?<![存现所实潜内])在|将|把|被)\s*$", re.I)
#: A part that ends on a link or a path ("… github.com/a/b"): a whole token, not a cut word.
_LINK_END = re.compile(r"(?:https?://|www\.|\b[a-z0-9-]+\.[a-z]{2,}/)\S*$", re.I)
_SENTENCE_END = re.compile(r"[。！？.!?；;，,]\s*$")
_RULE = re.compile(r"(?:\n\s*(?:-{3,}|\*{3,}|_{3,})\s*)+$")


#: A first line that introduces the answer in the model's voice and ends with a colon
#: ("作为一名……专家，我对这篇论文摘要进行了深入分析。以下是我的评估：").
INTRO_LINE = re.compile(r"^[^\n]{0,200}?(?:我|\bI\b|\bmy\b)[^\n]{0,200}[:：]\s*\n", re.I)


def strip_preamble(text: str) -> str:
    """Drop a conversational opening ("好的，作为……我将……。") before publishing."""
    text = PREAMBLE.sub("", text, count=1).lstrip()
    return INTRO_LINE.sub("", text, count=1).lstrip() if INTRO_LINE.match(text) else text


def _bare(body: str) -> tuple[bool, bool]:
    """(only labels such as "**驱动力**：" with nothing after them, only questions)."""
    lines = [x for x in (re.sub(r"[#*_`>\s]|^\s*(?:[-•]|\d+[.)、])", "", ln) for ln in body.splitlines()) if x]
    labels = bool(lines) and all(x.endswith((":", "：")) for x in lines)
    sentences = [x.strip() for x in re.findall(r"[^。！？!?.]+[。！？!?.]?", " ".join(lines)) if x.strip()]
    questions = bool(sentences) and all(x.endswith(("?", "？")) for x in sentences)
    return labels, questions


#: A whole part that is one bracketed line ("<在此列出可能受益的相关领域或应用>", "[Related fields …]").
_BRACKETED = re.compile(r"^\s*(?:<[^<>\n]{6,200}>|\[[^\[\]\n]{6,200}\]|【[^【】\n]{6,200}】|\{[^{}\n]{6,200}\}|"
                        r"[(（][^()（）\n]{6,200}[)）])\s*$")
#: The task addressed to the writer, as a prompt words it: "请明确指出…", "请在此列出…" (the reader is
#: never told to write anything; "请注意" is not this).
_INSTRUCTION_ZH = re.compile(r"请(?:[您你])?(?:在此|在这里|此处)?(?:明确|简要|具体|详细|逐条|分点)?"
                             r"(?:列出|指出|填写|写出|简述|概括|阐述|描述)")


#: The task worded as an order to the writer: "直接说明…", "明确指出…"; "List …", "State plainly …".
_ORDER_ZH = re.compile(r"(?:直接|明确|简要|简单|如实|清楚|请)地?(?:说明|指出|列出|写出|交代|描述|概括|给出)")
_ORDER_EN = re.compile(r"^\W*(?:infer|list|describe|state|say|give|explain|summari[sz]e|name|identify|outline|write)\b", re.I)


def _restated_task(body: str, heading: str) -> bool:
    """The part opens with a line of its own that words the part's title as an order to the writer
    ("从摘要中推断局限性；直接说明摘要没有交代的内容。", "List the related fields and applications."): the
    prompt's instruction echoed in other words, before the real text."""
    paras = [p.strip() for p in re.split(r"\n\s*\n", body.strip()) if p.strip()]
    if len(paras) < 2 or len(paras[0]) > 160 or re.search(r"\d", paras[0]):
        return False
    first = normalize(paras[0])
    if CJK.search(heading):
        core = re.sub(r"[可以出的得了从中]", "", heading)
        return len(core) >= 3 and core in re.sub(r"[可以出的得了从中]", "", first) and bool(_ORDER_ZH.search(first))
    words = {w for w in re.findall(r"[a-z]{4,}", heading.lower()) if w not in ("from", "with", "that", "this")}
    return len(words) >= 2 and bool(_ORDER_EN.search(first)) and words <= set(re.findall(r"[a-z]{4,}", first.lower()))


def part_problem(body: str, heading: str, key: str, instruction: str) -> tuple[str, str] | None:
    """(code, detail) when a part is a placeholder, an echo of the template, or has no substance."""
    plain = re.sub(r"[#*_`>\-\s\d.:：、]", "", body)
    labels, questions = _bare(body)
    if PLACEHOLDER.match(body) or normalize(body).strip("#*: ") in (heading, key):
        return "template_echo", f"holds a placeholder: {body[:40]!r}"
    if normalize(instruction)[:40] in normalize(body):
        return "template_echo", "repeats the prompt's instruction"
    if _BRACKETED.match(body):
        return "template_echo", f"is a placeholder in brackets: {body.strip()[:40]!r}"
    if _restated_task(body, heading):
        return "template_echo", f"opens with its own instruction: {body.strip()[:40]!r}"
    if _INSTRUCTION_ZH.search(body):
        return "template_echo", f"tells the writer what to write: {body.strip()[:40]!r}"
    if labels or questions:
        return "template_echo", (f"only {'lists empty labels' if labels else 'restates the task as questions'}: "
                                 f"{body[:40]!r}")
    if len(plain) < MIN_SECTION_CHARS and not field_list(body, "zh" if CJK.search(body) else "en"):
        return "empty_section", f"has no substance: {body[:40]!r}"
    return None


#: A prose line (not a list item, a table row or a callout) whose last sentence runs on through a
#: colon or a verb into a closing quote and stops: "…a model that replies "I can't help with that""
#: is cut; a sentence that only ends in a quoted term ("…it calls this "erosion"") is complete when
#: it began as a sentence of its own. Only the run-on case is caught: a colon before the quote.
_QUOTE_CUT = re.compile(r"(?:^|\n)(?![ \t]*(?:[-*+>|•]|\d+[.)]))[^\n]*:[^\n:]*?[\"“][^\"”\n]{3,}[a-z][\"”]$")


def cut_off(last: str) -> str | None:
    """The tail of the part written last when it ends mid-sentence; a list whose items are all
    written without final punctuation is a style, not a cut (unless it stops on a dangling word)."""
    last = _RULE.sub("", last.strip()).rstrip()
    if last and _QUOTE_CUT.search(last):
        return last[-30:]  # prose that stops right after a quote, mid-sentence: …replies "I can't help"
    if not last or END.search(last) or _LINK_END.search(last):
        return None
    lines = [ln for ln in last.splitlines() if ln.strip()]
    final = lines[-1]
    if final.count('"') % 2 or final.count("“") > final.count("”"):
        return last[-30:]  # a quote opened and never closed: cut inside it
    if LIST_ITEM.match(final) and not DANGLING.search(final):
        items = [ln for ln in lines[:-1] if LIST_ITEM.match(ln)]
        lengths = sorted(len(i.strip()) for i in items)
        # far shorter than the others, and only a few words: a complete short clause is a style
        few = len(re.findall(r"[A-Za-z]+|[\u4e00-\u9fff]{2}", final)) < 4
        short = bool(lengths) and len(final.strip()) < 0.35 * lengths[len(lengths) // 2] and few
        if items and sum(bool(_SENTENCE_END.search(i)) for i in items) <= len(items) / 2 and not short:
            return None
    if re.match(r"^\s*>", final) and not DANGLING.search(final) and len(lines) > 1:
        return None  # a callout closing the part
    return last[-30:]


def dangling(last: str) -> str | None:
    """The tail of a part that stops on a word that cannot end a phrase, or inside a quote."""
    last = _RULE.sub("", last.strip()).rstrip()
    final = last.splitlines()[-1] if last else ""
    if final and not _LINK_END.search(final) and (DANGLING.search(final) or final.count('"') % 2
                                                   or final.count("“") > final.count("”")):
        return last[-30:]
    return None


def complete_findings(findings: str) -> bool:
    """The findings after the parts hold at least one item and do not end mid-sentence."""
    return bool(LIST_ITEM.search(findings) or FINDINGS_ITEM.search(findings)) and cut_off(findings) is None


FINDINGS_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)、])\s+\S", re.M)


_LABEL = re.compile(r"^\s*(?:\*\*)?\s*(?:framework|框架|分析框架)\s*(?:\*\*)?\s*[:：]", re.I)
#: A title line in bold, and nothing else on it.
_TITLE = re.compile(r"^\s*\*\*[^*\n]+\*\*\s*$")
_RULE_LINE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")


def stray_opening(opening: str) -> str | None:
    """Prose before the first part that is not a stripped preamble, a title heading, a rule or
    the framework label: the model writing about its answer instead of the paper."""
    rest = [ln for ln in strip_preamble(opening).splitlines()
            if ln.strip() and not re.match(r"^\s*#", ln) and not _RULE_LINE.match(ln) and not _LABEL.match(ln)
            and not _TITLE.match(ln) and not ln.rstrip().endswith((":", "："))]
    return rest[0].strip()[:60] if rest else None


#: The answer's own layout (numbered parts, "five parts", 五段式, 【三】, the format) ...
_OWN_PARTS = re.compile(r"第\s*[\d一二三四五六七]\s*(?:部分|段|节)|[\d一二三四五六七两]\s*个?(?:部分|段落)|[五七]段式?|"
                        r"【\s*[\d一二三四五六七]\s*】|格式|\b(?:five|seven|[1-7])[- ](?:parts?|sections?|fields?|headings?)\b|"
                        r"\bformat\b|\b(?:part|section) [1-7]\b|\b(?:bullets?|paras?)\b|分点|要点列表|"
                        r"~?\s?\d{2,4}\+?\s?(?:words\b|字(?!节|符))", re.I)
#: ... and writing it: placing, ordering, starting (a plan of the write-up, not a note on its basis).
_PLANNING = re.compile(r"→|放在|放到|放进|放入|先|然后|开始|正式|要(?:写|提|放|用|列)|格式用|用【|写进|再写|控制在|"
                       r"\b(?:put|fill|write|then|needs?|needed|keep|start|"
                       r"begin|goes|go in|use|cover|list|target|aim)\b", re.I)


def plan_before_parts(opening: str) -> str | None:
    """A line before the first part that plans the write-up's own parts or format ("数字放在第三部分",
    "five parts, keep it tight"): a draft left in, whatever words it uses. A note on what the analysis
    rests on ("based on the abstract only") names no part of the answer."""
    for ln in strip_preamble(opening).splitlines():
        if (not ln.strip() or re.match(r"^\s*#", ln) or _LABEL.match(ln) or _TITLE.match(ln)
                or _RULE_LINE.match(ln)):
            continue
        if _OWN_PARTS.search(ln) and _PLANNING.search(ln):
            return ln.strip()[:60]
    return None


def stray_after_findings(findings: str) -> str | None:
    """Prose after the last finding (a closing note, a word count)."""
    lines = findings.rstrip().splitlines()
    last_item = max((i for i, ln in enumerate(lines) if LIST_ITEM.match(ln)), default=None)
    if last_item is None:
        return None
    tail = [ln for ln in lines[last_item + 1:] if ln.strip() and not _RULE_LINE.match(ln) and not ln.startswith((" ", "\t"))]
    return tail[0].strip()[:60] if tail else None


#: A bold numbered title with the part's text on the same line ("**1. Main contribution** — SONIC …").
INLINE_HEADING = re.compile(r"^\s*(?:[-*+]\s+)?(?:(?:\d+|[一二三四五六七]|[IVX]{1,4})\s*[.、)．]\s*)?"
                            r"\*\*\s*(?:(?:\d+|[一二三四五六七]|[IVX]{1,4})\s*[.、)．]\s*)?"
                            r"(?P<title>[^*\n]{1,60}?)\s*[:：]?\s*\*\*\s*[—–:：\-]*\s*(?P<rest>\S.*)$")


#: A line that is a heading by its form, not only by its words: markdown or a part label.
_STRONG = re.compile(rf"^\s*(?:#{{1,6}}\s|{_MARK}?\s*(?i:{_PART_LABEL}))")
_STOP = frozenset("the a an and or of from in on to for with its this that what is are key main".split())


#: Clause punctuation inside a title, or six words and a full stop: a list item written as a sentence.
_SENTENCE = re.compile(r"[。，；;！？]|(?:\S+\s+){5,}\S+[.!?]$")


@lru_cache(maxsize=4096)
def _terms(name: str) -> frozenset[str]:
    """Content words (English, stemmed to six letters: "Method" names "methodology") and character
    bigrams (Chinese) of a part name."""
    words = {w.rstrip("s")[:6] for w in re.findall(r"[a-z]{3,}", name.lower()) if w not in _STOP}
    cjk = "".join(re.findall(r"[\u4e00-\u9fff]+", name))
    return frozenset(words | {cjk[i:i + 2] for i in range(len(cjk) - 1)})


def _part_terms(fw: Framework) -> tuple[tuple[str, frozenset[str]], ...]:
    """Each part's key terms, from all its names (computed once per set of names)."""
    return _names_terms(tuple((sec.key, (*sec.headings.values(), *sec.aliases)) for sec in fw.sections))


@lru_cache(maxsize=64)
def _names_terms(parts: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[tuple[str, frozenset[str]], ...]:
    return tuple((key, frozenset().union(*(_terms(h) for h in names))) for key, names in parts)


def _closest_part(title: str, fw: Framework) -> str | None:
    """A heading that names a part in other words ("Core contribution (from the abstract)",
    "方法与关键创新"): the one part sharing the most key terms with it, if that part is unique.
    Short titles only: a heading, not a sentence."""
    if len(title) > 50 or len(title.split()) > 7:
        return None
    got = _terms(title)
    scores = sorted(((len(got & terms), key) for key, terms in _part_terms(fw)), reverse=True)
    if not scores or scores[0][0] == 0 or (len(scores) > 1 and scores[1][0] == scores[0][0]):
        return None
    return scores[0][1]


def _hits(lines: list[str], fw: Framework, inline: bool) -> list[tuple[int, str, str]]:
    """(line, part key, text after the title on that line) for each part heading found."""
    names = sorted(((h.lower(), s.key) for s in fw.sections for h in (*s.headings.values(), *s.aliases)),
                   key=lambda kv: -len(kv[0]))
    hits: list[tuple[int, str, str]] = []
    for i, line in enumerate(lines):
        m = HEADING.match(line) or MD_HEADING.match(line) or BOLD_HEADING.match(line)
        rest = ""
        if not m and inline:
            m = INLINE_HEADING.match(line)
            rest = m["rest"] if m else ""
        if m and not rest and _SENTENCE.search(re.sub(r"[(（][^)）]*[)）]", "", m["title"].strip())):
            continue  # "（1）医学影像，例如摘要提到的……。": a numbered sentence, not a title
        if m:
            title = m["title"].strip().lower()
            name, key = next(((h, k) for h, k in names if title.startswith(h)), ("", None))
            if key and m.re is BOLD_HEADING and not _SUBTITLED.match(title[len(name):]):
                continue  # a bold sentence that opens with a part's name ("**Potential impact is …**")
            if key is None and _STRONG.match(line):
                key = _closest_part(title, fw)
            elif key is None and (num := _NUMBERED.match(line)):
                n = int(num[1]) if num[1].isdigit() else "一二三四五六七".index(num[1]) + 1
                key = _closest_part(title, fw)
                key = key if 0 < n <= len(fw.sections) and fw.sections[n - 1].key == key else None
            if key and key not in [k for _, k, _ in hits]:
                hits.append((i, key, rest))
    return _fill_gaps(lines, fw, hits) if hits else hits


#: What may follow a part's name in a whole bold line: nothing, or a separator before a subtitle.
_SUBTITLED = re.compile(r"\s*(?:$|[:：—–\-(（|/])")


#: A title by its form but not its words: a line ending in a colon, a whole bold line, a line
#: underlined setext-style, or a bold run-in title with the text after it.
_LABEL_LINE = re.compile(r"^\s*(?:\*\*)?\s*(?P<title>[^*\n:：]{2,40}?)\s*[:：]\s*(?:\*\*)?\s*$|"
                         r"^\s*\*\*\s*(?P<bold>[^*\n]{2,40}?)\s*\*\*\s*$")
_RUN_IN = re.compile(r"^\s*\*\*\s*(?P<title>[^*\n]{2,40}?)\s*[.。:：]?\s*\*\*\s*(?P<rest>\S.*)$")


def _weak_title(lines: list[str], i: int) -> tuple[str, str] | None:
    line = lines[i]
    m = _LABEL_LINE.match(line)
    if m:
        return (m["title"] or m["bold"]), ""
    if i + 1 < len(lines) and _SETEXT.match(lines[i + 1]) and line.strip() and len(line.strip()) <= 40:
        return line.strip(), ""
    m = _RUN_IN.match(line)
    return (m["title"], m["rest"]) if m else None


def _fill_gaps(lines: list[str], fw: Framework, hits: list[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
    """A part whose title is in other words AND in a weak form ("从摘要可推断的局限性：", a bold line, a
    setext title, "**Where it applies.** …") is found in the one place it can be: between the parts
    before and after it in the framework's order, when exactly one such line there names it. A bold
    line inside another part cannot take a part whose place is elsewhere."""
    order = [s.key for s in fw.sections]
    found = {k: i for i, k, _ in hits}
    if sorted(found.values()) != [found[k] for k in order if k in found]:
        return hits  # parts out of order: no place to infer
    end = next((i for i, line in enumerate(lines) if FINDINGS_HEADING.match(line)), len(lines))
    out = list(hits)
    for n, key in enumerate(order):
        if key in found:
            continue
        lo = max((found[k] for k in order[:n] if k in found), default=-1)
        hi = min([found[k] for k in order[n + 1:] if k in found] + [end])
        places = [(i, weak[1]) for i in range(lo + 1, hi) if (weak := _weak_title(lines, i))
                  and _closest_part(weak[0].strip().lower(), fw) == key]
        if len(places) == 1:
            out.append((places[0][0], key, places[0][1]))
    return sorted(out)


_SETEXT = re.compile(r"^\s{0,3}(?:=+|-{2,})\s*$")


def split_sections(text: str, frameworks: dict[str, Framework]) -> tuple[Framework | None, dict, str, str]:
    """Find the framework whose headings the text uses: (framework, key->body, findings text, opening).
    Titles with the text on the same line count only when the text has no heading lines."""
    lines = text.splitlines()
    best: tuple[int, Framework | None, list[tuple[int, str, str]]] = (0, None, [])
    for inline in (False, True):
        for fw in (f for name, f in frameworks.items() if name != "summary"):
            hits = _hits(lines, fw, inline)
            if len(hits) > best[0]:
                best = (len(hits), fw, hits)
        if best[0] >= 2:
            break
    _, framework, hits = best
    findings_at = next((i for i, line in enumerate(lines) if FINDINGS_HEADING.match(line)), len(lines))
    sections = {}
    for n, (start, key, rest) in enumerate(hits):
        end = hits[n + 1][0] if n + 1 < len(hits) else findings_at
        end = min(end, findings_at) if start < findings_at else end
        body = lines[start + 1:end]
        if body and _SETEXT.match(body[0]):  # "Title\n=====": the underline is the heading's
            body = body[1:]
        sections[key] = "\n".join(([rest] if rest else []) + body).strip()
    opening = "\n".join(lines[:hits[0][0]]) if hits else ""
    return framework, sections, "\n".join(lines[findings_at + 1:]), opening


def heading_words(text: str, framework: Framework) -> str:
    """The words of the part headings beyond the part's name ("(as far as the abstract shows)"; a
    whole title in other words): published too, so judged too (meta-talk, grounding), once each."""
    lines = text.splitlines()
    names = sorted((h.lower() for s in framework.sections for h in (*s.headings.values(), *s.aliases)), key=len, reverse=True)
    out: list[str] = []
    for i, _, rest in _hits(lines, framework, False):
        m = HEADING.match(lines[i]) or MD_HEADING.match(lines[i]) or BOLD_HEADING.match(lines[i])
        if not m:
            continue
        title = m["title"].strip()
        name = next((h for h in names if title.lower().startswith(h)), "")
        extra = title[len(name):].strip()
        if extra and extra not in out:
            out.append(extra)
    return "\n".join(out)
