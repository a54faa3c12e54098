"""The quality gate: every LLM output gets a verdict before anything stores or publishes it.

Pure functions. Each failed check adds a `Reason` with a machine-readable code; the
seed digest's own failures (requests for the paper, echoed templates, loops, answers
cut off) are what these checks exist for.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from .models import Finding
from .prompts import Framework

MIN_SECTION_CHARS = 12
MIN_EVIDENCE_CHARS = 20

REFUSAL = re.compile("|".join([
    r"请(?:您)?提供", r"一旦您提供", r"如果您(?:能|可以)?提供", r"请(?:上传|发送|粘贴)",
    r"无法(?:访问|获取|查看|读取)(?:该|这篇|论文|全文|文件|链接|内容)",
    r"我(?:没有|无法)(?:访问|获取)", r"未提供(?:论文|全文)",
    r"\bplease (?:provide|share|upload|paste|send)\b",
    r"\bonce you (?:provide|share|upload)\b",
    r"\bI (?:don't|do not|cannot|can't) (?:have )?access\b",
    r"\bI(?:'m| am) (?:unable|not able) to (?:access|read|view|open)\b",
    r"\bcould you (?:please )?(?:provide|share|upload)\b",
    r"\bI(?:'m| am) sorry,? but\b", r"\bas an AI\b",
]), re.I)
PLACEHOLDER = re.compile(r"^\s*(?:[\[\(（【<{]?\s*(?:\.{2,}|…+|待补充|待填写|此处填写|内容|TODO|TBD|N/?A|"
                         r"placeholder|content here|your (?:text|answer) here|无)\s*[\]\)）】>}]?\s*)+$", re.I)
PREAMBLE = re.compile(
    r"^\s*(?:(?:好的|当然|没问题|嗯)[，,！!。]?.{0,80}?(?:我将|我会|我来|下面|以下是?)[^\n。：:]*[。：:]\s*"
    r"|(?:Sure|Certainly|Of course|Okay|OK)[,.!]?[^\n]{0,160}?(?:I will|I'll|here is|here's|below)[^\n]*?[.:]\s*"
    r"|(?:Here is|Here's|Below is)[^\n]{0,160}?[.:]\s*)", re.I)
URL = re.compile(r"(?:https?://|\bwww\.)[^\s)\]>\"'，。）】；、]+", re.I)
#: Markup that can carry a link, a script or an image: never ours to publish unless the paper has it.
MARKUP = re.compile(r"<\s*(?:script|iframe|img|a|object|embed|form|style|link|meta|svg|video|audio|source)\b[^>]*>"
                    r"|<[^>]*\son[a-z]+\s*=[^>]*>", re.I)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
#: Tokens for n-gram repetition: one per Chinese character, one per Latin word or number.
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[A-Za-z0-9]+(?:[.'-][A-Za-z0-9]+)*")
NGRAM = 12
_LATIN = re.compile(r"[A-Za-z]")
_SENTENCE = re.compile(r"[^。！？!?\n.]+(?:[。！？!?.]|\n|$)")


@dataclass(frozen=True)
class Reason:
    code: str
    detail: str

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


@dataclass
class Verdict:
    reasons: list[Reason] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.reasons

    def add(self, code: str, detail: str) -> None:
        self.reasons.append(Reason(code, detail))

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.code for r in self.reasons))


def normalize(text: str) -> str:
    """Unicode- and whitespace-normalised text, for verbatim comparisons."""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                                         "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u00ad": None}))
    return " ".join(text.split())


def strip_preamble(text: str) -> str:
    """Drop a conversational opening ("好的，作为……我将……。") before publishing."""
    return PREAMBLE.sub("", text, count=1).lstrip()


def cjk_share(text: str) -> float:
    cjk, latin = len(_CJK.findall(text)), len(_LATIN.findall(text))
    # A Latin term of ~6 letters stands for ~1-2 Chinese characters of meaning.
    return cjk / (cjk + latin / 4) if cjk + latin else 0.0


def repetition(text: str) -> tuple[float, int]:
    """(share of the text in repeated sentences, max repeats of one sentence)."""
    sentences = [normalize(s) for s in _SENTENCE.findall(text)]
    sentences = [s for s in sentences if len(s) >= 20]
    if not sentences:
        return 0.0, 0
    counts = Counter(sentences)
    repeated = sum(len(s) * (n - 1) for s, n in counts.items() if n > 1)
    return repeated / sum(len(s) for s in sentences), max(counts.values())


def ngram_repetition(text: str, n: int = NGRAM) -> tuple[float, int]:
    """(share of tokens inside a repeated n-gram, longest run of such tokens).

    Catches loops whose copies differ in a counter or have no sentence punctuation at all,
    which sentence counting misses. An n-gram counts as repeated only when an earlier copy
    ends before it starts (a run of one character is not a loop of itself)."""
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    if len(tokens) < 2 * n:
        return 0.0, 0
    first: dict[tuple[str, ...], int] = {}
    repeated = [False] * len(tokens)
    for i in range(len(tokens) - n + 1):
        gram = tuple(tokens[i:i + n])
        if first.setdefault(gram, i) <= i - n:
            repeated[i:i + n] = [True] * n
    longest = run = 0
    for r in repeated:
        run = run + 1 if r else 0
        longest = max(longest, run)
    return sum(repeated) / len(tokens), longest


def check_language(text: str, language: str, verdict: Verdict, where: str) -> None:
    body = URL.sub("", text)
    if len(body) < 80:
        return
    zh, kana = cjk_share(body), len(_KANA.findall(body))
    if language == "zh" and (zh < 0.35 or kana > 0.1 * (kana + len(_CJK.findall(body)))):
        what = "Japanese" if kana and zh >= 0.35 else f"not mostly Chinese ({zh:.0%} Chinese)"
        verdict.add("language", f"{where} is {what}")
    elif language == "en" and (zh > 0.05 or kana > 5):
        verdict.add("language", f"{where} is not English ({zh:.0%} Chinese)")


def check_text(text: str, language: str, verdict: Verdict, where: str = "answer") -> None:
    """Checks that apply to any LLM prose: refusal, loops, language."""
    m = REFUSAL.search(text)
    if m:
        verdict.add("refusal", f"{where} asks for input or refuses: {m.group(0)!r}")
    share, top = repetition(text)
    if share >= 0.2 or top >= 3:
        verdict.add("repetition", f"{where}: {share:.0%} of the text is repeated sentences "
                    f"(one sentence {top}×)")
    check_language(text, language, verdict, where)


def check_loop(text: str, verdict: Verdict, where: str) -> None:
    """A loop inside one piece of prose (applied per part: parts built on one pattern are not loops)."""
    grams, span = ngram_repetition(text)
    if grams >= 0.1 or span >= 60:
        verdict.add("repetition", f"{where}: {grams:.0%} of the text is in repeated {NGRAM}-grams "
                    f"(longest repeated span {span} tokens)")


def links(text: str) -> list[str]:
    return [u.rstrip(".,;:!?") for u in URL.findall(text)]


def check_foreign(text: str, source_text: str, verdict: Verdict) -> None:
    """Links and active markup must come from the paper (prompt injection asks for exactly these).

    Links are judged by `service.links`, the policy the renderers enforce: every href
    markdown-it would produce, however it is spelled, and bare links a linkifier would make."""
    from . import links as link_policy

    foreign = link_policy.foreign_links(text, source_text)
    if foreign:
        verdict.add("foreign_link", f"links that are not in the paper: {', '.join(foreign[:3])}")
    source_norm = normalize(source_text).lower()
    markup = [normalize(m) for m in MARKUP.findall(text)]
    markup = [m for m in markup if m.lower() not in source_norm]
    if markup:
        verdict.add("foreign_link", f"markup that is not in the paper: {markup[0][:50]!r}")


def _bare(body: str) -> tuple[bool, bool]:
    """(only labels such as "**驱动力**：" with nothing after them, only questions)."""
    lines = [x for x in (re.sub(r"[#*_`>\s]|^\s*(?:[-•]|\d+[.)、])", "", ln) for ln in body.splitlines()) if x]
    labels = bool(lines) and all(x.endswith((":", "：")) for x in lines)
    sentences = [x.strip() for x in re.findall(r"[^。！？!?.]+[。！？!?.]?", " ".join(lines)) if x.strip()]
    questions = bool(sentences) and all(x.endswith(("?", "？")) for x in sentences)
    return labels, questions


def check_sections(sections: dict, framework: Framework, language: str, source_text: str,
                   verdict: Verdict) -> list[tuple[str, str]]:
    """Structure and content of each framework part; returns (heading, cleaned body)."""
    out, raw_bodies = [], []
    for i, sec in enumerate(framework.sections):
        heading = sec.headings[language]
        raw = sections.get(sec.key)
        if not isinstance(raw, str) or not raw.strip():
            verdict.add("missing_section", f"part {i + 1} ({heading}) is missing or empty")
            continue
        raw_bodies.append(raw)
        body = strip_preamble(raw) if i == 0 else raw.strip()
        plain = re.sub(r"[#*_`>\-\s\d.:：、]", "", body)
        labels, questions = _bare(body)
        if PLACEHOLDER.match(body) or normalize(body).strip("#*: ") in (heading, sec.key):
            verdict.add("template_echo", f"part {i + 1} ({heading}) holds a placeholder: {body[:40]!r}")
        elif normalize(sec.instruction)[:40] in normalize(body):
            verdict.add("template_echo", f"part {i + 1} ({heading}) repeats the prompt's instruction")
        elif labels or questions:
            verdict.add("template_echo", f"part {i + 1} ({heading}) only "
                        f"{'lists empty labels' if labels else 'restates the task as questions'}: {body[:40]!r}")
        elif len(plain) < MIN_SECTION_CHARS:
            verdict.add("empty_section", f"part {i + 1} ({heading}) has no substance: {body[:40]!r}")
        else:  # one whole part in another language hides in the average of the others
            check_language(body, language, verdict, f"part {i + 1} ({heading})")
            check_loop(body, verdict, f"part {i + 1} ({heading})")
        out.append((heading, body))
    # Refusals hide in what a preamble strip would remove ("好的，请您提供……"): check the raw text.
    check_text("\n".join(raw_bodies), language, verdict)
    check_foreign("\n".join(b for _, b in out), source_text, verdict)
    return out


def ground_findings(raw: object, source_text: str) -> tuple[list[Finding], list[str]]:
    """Keep findings whose evidence is a verbatim quote of the source; report the others."""
    kept, dropped = [], []
    source = normalize(source_text)
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        claim, evidence = str(item.get("claim", "")).strip(), str(item.get("evidence", "")).strip()
        quote = normalize(evidence).strip("\"'“”「」 ")
        if claim and len(quote) >= MIN_EVIDENCE_CHARS and quote in source:
            kept.append(Finding(claim=claim, evidence=quote))
        else:
            dropped.append(evidence[:60])
    return kept, dropped


def check_stop(stop_reason: str | None, tool_input: dict | None, free_text: str, language: str,
               verdict: Verdict) -> bool:
    """Checks on the reply as a whole; False when there is nothing structured to look at."""
    if stop_reason == "max_tokens":
        verdict.add("truncated", "the answer was cut off (stop_reason=max_tokens)")
    if tool_input is None:
        detail = "the model answered in prose instead of calling the tool"
        verdict.add("no_structure", detail)
        if free_text.strip():
            check_text(free_text, language, verdict, where="prose answer")
        return False
    return True


# --- plain-text analyses (lint-analysis, published Markdown) ------------------------------
_HEADING = re.compile(r"^\s*(?:#{1,6}\s*|\*\*\s*)?(?:(?:\d+|[一二三四五六七])[.、)]\s*)?(?P<title>[^*\n]{1,60}?)\s*(?:\*\*)?\s*[:：]?\s*(?:\*\*)?\s*$")
_FINDINGS_HEADING = re.compile(r"^\s*(?:#{1,6}\s*|\*\*\s*)?(?:key findings|关键发现)", re.I)
_QUOTE = re.compile(r"[“\"]([^”\"]{20,})[”\"]|^\s*>\s*(.{20,})$", re.M)
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*\s*%?")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+", re.M)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_END = re.compile(r"[。！？.!?）)\]」』”\"*`|]\s*$")


def split_sections(text: str, frameworks: dict[str, Framework]) -> tuple[Framework | None, dict, str]:
    """Find the framework whose headings the text uses; (framework, key→body, findings text)."""
    lines = text.splitlines()
    best: tuple[int, Framework | None, list[tuple[int, str]]] = (0, None, [])
    for fw in (f for name, f in frameworks.items() if name != "summary"):
        names = {h.lower(): s.key for s in fw.sections for h in (*s.headings.values(), *s.aliases)}
        hits = []
        for i, line in enumerate(lines):
            m = _HEADING.match(line)
            if m:
                title = m["title"].strip().lower()
                # longest name first: "方法设计详解" before a bare "method"
                key = next((k for h, k in sorted(names.items(), key=lambda kv: -len(kv[0]))
                            if title.startswith(h)), None)
                if key and key not in [k for _, k in hits]:
                    hits.append((i, key))
        if len(hits) > best[0]:
            best = (len(hits), fw, hits)
    _, framework, hits = best
    findings_at = next((i for i, line in enumerate(lines) if _FINDINGS_HEADING.match(line)), len(lines))
    sections = {}
    for n, (start, key) in enumerate(hits):
        end = hits[n + 1][0] if n + 1 < len(hits) else findings_at
        end = min(end, findings_at) if start < findings_at else end
        sections[key] = "\n".join(lines[start + 1:end]).strip()
    return framework, sections, "\n".join(lines[findings_at + 1:])


def check_analysis_text(text: str, language: str, frameworks: dict[str, Framework],
                        source_text: str | None = None) -> Verdict:
    """The gate on an analysis as plain Markdown text (what `lint-analysis` runs)."""
    verdict = Verdict()
    framework, sections, findings = split_sections(text, frameworks)
    if framework is None or len(sections) < 2:
        verdict.add("missing_section", "no framework headings found (expected the seven full-text "
                    "parts or the five abstract parts)")
        check_text(text, language, verdict)
        check_loop(text, verdict, "answer")
        check_foreign(text, source_text if source_text is not None else "", verdict)
        return verdict
    check_sections(sections, framework, language, source_text if source_text is not None else text, verdict)
    # what comes before the first part ("好的，请您提供论文……") is stripped, but a request still rejects
    m = REFUSAL.search(text.split(findings)[0] if findings.strip() else text)
    if m and "refusal" not in verdict.codes:
        verdict.add("refusal", f"the opening asks for input or refuses: {m.group(0)!r}")
    # the part written last (not necessarily the framework's last: later ones may never have come)
    last = re.sub(r"(?:\n\s*(?:-{3,}|\*{3,}|_{3,})\s*)+$", "", list(sections.values())[-1].strip())
    if last and not _END.search(last):
        verdict.add("truncated", f"the last part ends mid-sentence: …{last.strip()[-30:]!r}")
    if source_text is not None:
        ground_text(findings, text, source_text, verdict)
    return verdict


def ground_text(findings: str, text: str, source_text: str, verdict: Verdict) -> None:
    """Findings in plain text: each quote verbatim in the source, each bullet with a quote or
    itself a verbatim sentence of the source (the seed's form), and their numbers in the source."""
    source = normalize(source_text)
    for m in _QUOTE.finditer(findings or text):
        quote = normalize(m.group(1) or m.group(2)).strip()
        if _LATIN.search(quote) and quote not in source:
            verdict.add("ungrounded", f"quoted evidence is not in the source: {quote[:50]!r}")
    for bullet in (b for b in _BULLET.split(findings)[1:] if b.strip()):
        plain = normalize(bullet).strip()
        if not _QUOTE.search(bullet) and plain not in source:
            verdict.add("ungrounded", f"a finding has no verbatim evidence: {plain[:50]!r}")
    source = _THOUSANDS.sub("", source)
    claimed = {_THOUSANDS.sub("", n.strip().rstrip("%").strip()) for n in _NUMBER.findall(findings)}
    missing = sorted(n for n in claimed if len(n) > 1 and n not in source)
    if missing:
        verdict.add("ungrounded", f"numbers in the findings are not in the source: {', '.join(missing[:5])}")
