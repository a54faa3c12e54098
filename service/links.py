"""The one link policy: which hrefs may be live links in anything we publish.

A prompt-injected paper asks the model for a phishing link, and Markdown has many ways
to spell one (reference definitions, autolinks, entity- or backslash-escaped schemes,
protocol-relative URLs, userinfo tricks). So the question is never "does the text look
like a URL" but "which hrefs will markdown-it produce", and every one of those must be an
http(s) URL that is in the paper's source text (scheme-less spellings in the source count)
or a link we generate ourselves. The quality gate and every renderer ask this module, so
they judge the same thing; neither relies on the other having done it.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterable
from functools import cache, lru_cache
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

#: A host name: ASCII labels (IDNs arrive punycoded from markdown-it), a letter TLD.
_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})")
#: A URL in running text, with or without a scheme ("github.com/a/b" counts).
_SOURCE_URL = re.compile(
    r"(?<![\w@.\-/:])(?:https?://)?(?:www\.)?"
    r"(?P<host>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})(?![\w-])"
    r"(?::(?P<port>\d{1,5}))?(?P<rest>[/?#][^\s<>\"'`\]\[{}|\\^，。）】；、]*)?", re.I)
_TRAILING = ".,;:!?)'\"*_，。）】；、」』！？：”’»"
#: CJK and full-width characters: a URL glued to Chinese text ("…/DuwatBench）和评测工具") ends
#: there. GFM would run on to the next space, so escape_text writes such a link explicitly.
_CJK = "\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef"
#: Text a GFM renderer or a linkifier turns into a link on its own (no Markdown syntax needed);
#: it runs to a space or "<", and a web link (scheme:// or www.) also to CJK text when
#: something comes before it (anything else, "mailto:ＥＶＩＬ…" included, keeps GFM's whole
#: run, so nothing a linkifier could read is left unjudged). A scheme counts after any
#: non-ASCII-letter (GFM finds "https://" right after "文"). Every alternative starts at a boundary, so scanning hostile
#: text (one 600 kB word) stays linear.
_WEB = r"(?:(?<![a-z0-9+.\-])[a-z][a-z0-9+.\-]{0,31}://|(?<![a-z0-9.\-])www\.)"
_LINKISH = re.compile(rf"(?i){_WEB}[^\s<{_CJK}]+"  # a web link with something before the CJK text
                      rf"|(?:{_WEB}|\b(?:mailto|xmpp|javascript|data|vbscript|file):|(?<!/)//)[^\s<]*"  # else GFM's whole run
                      rf"|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: How far GFM's autolink reads from a link's start: to a space or "<".
_GFM_RUN = re.compile(r"[^\s<]*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: Upper bound of links remembered from one paper's text.
MAX_SOURCE_LINKS = 200


@cache
def md() -> MarkdownIt:
    """The one markdown-it configuration every renderer and the gate use (raw HTML off)."""
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def _walk(tokens: Iterable[Token]) -> Iterable[Token]:
    for t in tokens:
        yield t
        if t.children:
            yield from _walk(t.children)


def rendered_hrefs(markdown: str) -> list[str]:
    """Every href and src markdown-it would produce from `markdown`, in order."""
    return _hrefs(_walk(md().parse(markdown)))


def _hrefs(tokens: Iterable[Token]) -> list[str]:
    out = []
    for t in tokens:
        if t.type == "link_open":
            out.append(str(t.attrGet("href") or ""))
        elif t.type == "image":
            out.append(str(t.attrGet("src") or ""))
    return out


def _key(host: str, port: str | None, rest: str) -> str:
    """Scheme-less comparison form: lower-case, no www., no default port, decoded, no trailing /."""
    host = host.lower().removeprefix("www.")
    port = f":{port}" if port and port not in ("80", "443") else ""
    rest = unicodedata.normalize("NFKC", unquote(rest)).lower().rstrip(_TRAILING).rstrip("/")
    return f"{host}{port}{rest}"


#: What every URL's host contains ("label.tld"): words without it cannot hold a URL.
_HOSTISH = re.compile(r"[a-z0-9]\.[a-z]{2}", re.I)


def _url_words(text: str) -> list[str]:
    """The whitespace-separated words of `text` that can hold a URL. A URL never spans
    whitespace and a word start passes _SOURCE_URL's look-behind, so scanning these words
    finds exactly what scanning the whole text does, without running the slow pattern over a
    20k-token full text. Linear: each character is stepped over at most once."""
    out, seen = [], 0
    for m in _HOSTISH.finditer(text):
        if m.start() < seen:
            continue
        start = m.start()
        while start > seen and not text[start - 1].isspace():
            start -= 1
        end = m.end()
        while end < len(text) and not text[end].isspace():
            end += 1
        out.append(text[start:end])
        seen = end
    return out


@lru_cache(maxsize=64)  # the gate asks for one source's URLs once per part it checks
def source_keys(source_text: str) -> frozenset[str]:
    """The comparison forms of every URL written in `source_text`."""
    text = unicodedata.normalize("NFKC", source_text)
    return frozenset(_key(m["host"], m["port"], m["rest"] or "")
                     for word in _url_words(text) for m in _SOURCE_URL.finditer(word))


def source_links(source_text: str) -> tuple[str, ...]:
    """The URLs written in a paper's text, as written (for renderers that only see the abstract)."""
    found = dict.fromkeys(m.group(0).rstrip(_TRAILING) for m in _SOURCE_URL.finditer(
        unicodedata.normalize("NFKC", source_text)))
    return tuple(found)[:MAX_SOURCE_LINKS]


def href_key(href: str) -> str | None:
    """The comparison form of an http(s) href, or None when it is anything else or ambiguous.

    Refused outright: other schemes, userinfo (`https://good@evil`), backslashes (browsers
    read them as slashes), whitespace and control characters, hosts that are not plain
    ASCII names (percent-encoded, IP literals with tricks, empty)."""
    if not href or "\\" in href or any(ord(c) <= 0x20 or ord(c) == 0x7f for c in href):
        return None
    try:
        parts = urlsplit(href)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not href[len(parts.scheme):].startswith("://"):
        return None
    host = parts.hostname or ""
    if "@" in parts.netloc or not _HOST.fullmatch(host) or parts.netloc.lower() not in (host, f"{host}:{port}"):
        return None
    rest = parts.path + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")
    return _key(host, str(port) if port else None, rest)


def policy(source_text: str, generated: Collection[str] = ()) -> Callable[[str], bool]:
    """`allowed_link` with the source's URLs extracted once (renderers check many hrefs)."""
    keys = source_keys(source_text)
    made = frozenset(generated)

    def allowed(href: str) -> bool:
        if href in made:
            return True
        key = href_key(href)
        if key is None:
            return False
        # the URL itself, or a parent path of one (github.com/a/b of github.com/a/b/tree/main)
        return key in keys or any(k.startswith(key) and k[len(key)] in "/?#" for k in keys if len(k) > len(key))

    return allowed


def allowed_link(href: str, source_text: str, generated: Collection[str] = ()) -> bool:
    """May `href` be a live link? Only an http(s) URL in the paper's source, or one we generate."""
    return policy(source_text, generated)(href)


def foreign_links(markdown: str, source_text: str) -> list[str]:
    """The hrefs of `markdown` the policy refuses, plus bare URLs a linkifier would make live."""
    allowed = policy(source_text)
    tokens = list(_walk(md().parse(markdown)))  # parsed once for hrefs and prose
    found = [h for h in _hrefs(tokens) if not allowed(h)]
    for text in (t.content for t in tokens if t.type == "text"):
        found += [u for _, u in bare_links(text) if not allowed(_absolute(u)) and u.lower() not in _flat(source_text)]
    return list(dict.fromkeys(found))


@lru_cache(maxsize=64)
def _flat(source_text: str) -> str:
    """The source as one lower-case line, for bare links written without a scheme."""
    return " ".join(unicodedata.normalize("NFKC", source_text).split()).lower()


def bare_links(text: str) -> Iterable[tuple[int, str]]:
    """(start, link) of each bare link a GFM renderer or a linkifier could make live in `text`."""
    for m in _LINKISH.finditer(text):
        url = m.group(0).rstrip(_TRAILING)
        if url and _linkable(url):
            yield m.start(), url


def without_links(text: str) -> str:
    """`text` with every bare link replaced by "[link]": for reasons that quote what was refused."""
    out, at = [], 0
    for start, url in bare_links(text):
        out += [text[at:start], "[link]"]
        at = start + len(url)
    return "".join(out) + text[at:]


def _texts(markdown: str) -> Iterable[str]:
    """Text that a reader sees as prose (not code), after Markdown parsing."""
    for t in _walk(md().parse(markdown)):
        if t.type == "text":
            yield t.content


def _linkable(candidate: str) -> bool:
    """Would GFM or a linkifier make this a link? (schemes like "Note:" with nothing after are not)."""
    low = candidate.lower()
    return ("://" in low or low.startswith(("www.", "//", "mailto:", "xmpp:", "javascript:", "data:", "vbscript:"))
            or _EMAIL.search(low) is not None)


def _absolute(candidate: str) -> str:
    """A bare link as the href a linkifier would give it."""
    low = candidate.lower()
    if low.startswith("www."):
        return f"http://{candidate}"
    if low.startswith("//"):
        return f"https:{candidate}"
    return candidate


# --- Markdown that stays Markdown, but inert -------------------------------------------------
#: Characters with a meaning anywhere in a line (emphasis, code, links, HTML, entities, GFM
#: tables and strikethrough, "!" before a link we keep); "(" ")" need none once "[" "]" have one.
_ESCAPE = re.compile(r"([\\`*_\[\]<>|~&!])")
#: What starts a block only at the start of a line: list items, headings, setext underlines.
_BLOCK_START = re.compile(r"^(\s*)(?:([-+#=])|(\d{1,9})([.)]))")


def _block_start(m: re.Match) -> str:
    return f"{m[1]}\\{m[2]}" if m[2] else f"{m[1]}{m[3]}\\{m[4]}"


def escape_text(text: str, allowed: Callable[[str], bool] = lambda _: False, line_start: bool = True) -> str:
    """Untrusted plain text as Markdown that renders as exactly that text: every character that
    can make Markdown or HTML is backslash-escaped (block markers when `text` starts a line),
    and a bare link the policy refuses goes in a code span (GFM and linkifiers make bare links
    live; they leave code alone)."""
    out, at = [], 0
    for start, url in bare_links(text):
        if allowed(_absolute(url)):
            if _GFM_RUN.match(text, start).group(0).rstrip(_TRAILING) == url:
                continue  # GFM makes exactly this link live
            # glued to CJK text: written as a link, so no renderer runs it into the next words
            out.append(_escape_plain(text[at:start]))
            out.append(f"[{_escape_plain(url)}](<{out_href(_absolute(url))}>)")
            at = start + len(url)
            continue
        out.append(_escape_plain(text[at:start]))
        out.append(code_span(url))
        at = start + len(url)
    out.append(_escape_plain(text[at:]))
    joined = "".join(out)
    return _BLOCK_START.sub(_block_start, joined, count=1) if line_start else joined


def _escape_plain(text: str) -> str:
    return _ESCAPE.sub(r"\\\1", text)


def code_span(text: str) -> str:
    """`text` as one code span (fenced with more backticks than it holds): shown, never parsed."""
    text = " ".join(text.split())
    fence = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def inert_markdown(markdown: str, allowed: Callable[[str], bool]) -> str:
    """Markdown re-written from markdown-it's parse: the same structure (paragraphs, lists,
    quotes, emphasis, code, tables), every text escaped, links only where `allowed`.

    A refused link becomes its text. Whatever another CommonMark or GFM renderer makes of the
    result, it holds no link but the allowed ones and no raw HTML."""
    return _Writer(allowed).blocks(md().parse(markdown)).strip()


class _Writer:
    def __init__(self, allowed: Callable[[str], bool]):
        self.allowed = allowed

    def blocks(self, tokens: list[Token]) -> str:
        out: list[str] = []
        stack: list[list] = []  # open containers: [kind ("ul", "ol", "quote"), next number, marker]
        i = 0
        while i < len(tokens):
            t = tokens[i]
            prefix = self._prefix(stack)
            if t.type in ("bullet_list_open", "ordered_list_open"):
                stack.append(["ul" if t.type == "bullet_list_open" else "ol", int(t.attrGet("start") or 1), None])
            elif t.type in ("bullet_list_close", "ordered_list_close", "blockquote_close"):
                stack.pop()
                out.append("")
            elif t.type == "blockquote_open":
                stack.append(["quote", 0, None])
            elif t.type == "list_item_open":
                kind = stack[-1]
                kind[2] = f"{kind[1]}. " if kind[0] == "ol" else "- "
                kind[1] += 1
            elif t.type == "inline":
                out.append(self._lines(prefix, self.inline(t.children or [])))
                self._used(stack)
            elif t.type == "heading_open":
                text = self.inline(tokens[i + 1].children or [])
                out += [self._lines(prefix, f"**{text}**" if text.strip() else ""), ""]
                self._used(stack)
                i += 2
            elif t.type in ("fence", "code_block"):
                body = t.content.rstrip("\n")
                fence = "`" * max(3, max((len(r) for r in re.findall(r"`+", body)), default=0) + 1)
                out += [self._lines(prefix, f"{fence}\n{body}\n{fence}"), ""]
                self._used(stack)
            elif t.type == "table_open":
                i, table = self._table(tokens, i)
                out += [self._lines(prefix, table), ""]
                self._used(stack)
            elif t.type == "paragraph_close" and not t.hidden:
                out.append("")
            i += 1
        return "\n".join(out)

    @staticmethod
    def _prefix(stack: list[list]) -> list[str]:
        """(first line prefix, continuation prefix) of the innermost open containers."""
        first, rest = "", ""
        for kind, _, marker in stack:
            if kind == "quote":
                first, rest = first + "> ", rest + "> "
            elif marker is not None:
                first, rest = first + marker, rest + " " * len(marker)
            else:
                first, rest = first + "   ", rest + "   "
        return [first, rest]

    @staticmethod
    def _used(stack: list[list]) -> None:
        """A list item's marker is written once, on its first block."""
        for entry in stack:
            if entry[0] != "quote" and entry[2] is not None:
                entry[2] = " " * len(entry[2]) if not entry[2].isspace() else entry[2]

    @staticmethod
    def _lines(prefix: list[str], text: str) -> str:
        lines = text.split("\n") or [""]
        return "\n".join((prefix[0] if n == 0 else prefix[1]) + line for n, line in enumerate(lines))

    def _table(self, tokens: list[Token], i: int) -> tuple[int, str]:
        rows: list[list[str]] = []
        head = 0
        while tokens[i].type != "table_close":
            t = tokens[i]
            if t.type == "tr_open":
                rows.append([])
            elif t.type == "inline":
                rows[-1].append(self.inline(t.children or []).replace("\n", " "))
            elif t.type == "thead_close":
                head = len(rows)
            i += 1
        width = max((len(r) for r in rows), default=1)
        lines = []
        for n, row in enumerate(rows):
            lines.append("| " + " | ".join(row + [""] * (width - len(row))) + " |")
            if n + 1 == max(head, 1):
                lines.append("|" + "---|" * width)
        return i, "\n".join(lines)

    def inline(self, children: list[Token]) -> str:
        out: list[str] = []
        text: list[str] = []  # plain text since the last markup: escaped as one run, since a
        hrefs: list[str | None] = []  # refused link's text may join its neighbours into a link

        line_start = [True]  # nothing written since the last line break

        def put(markup: str) -> None:
            run = escape_text("".join(text), self.allowed, line_start=line_start[0])
            text.clear()
            out.extend((run, markup))
            line_start[0] = markup in ("\n", "\\\n") or (line_start[0] and not run and not markup)

        for t in children:
            if t.type == "code_inline":
                put(code_span(t.content))
            elif t.type == "softbreak":
                put("\n")
            elif t.type == "hardbreak":
                put("\\\n")
            elif t.type in ("strong_open", "strong_close"):
                put("**")
            elif t.type in ("em_open", "em_close"):
                put("*")
            elif t.type == "link_open":
                href = str(t.attrGet("href") or "")
                hrefs.append(href if self.allowed(href) and href_key(href) is not None else None)
                if hrefs[-1] is not None:
                    put("[")
            elif t.type == "link_close":
                href = hrefs.pop() if hrefs else None
                if href is not None:
                    put(f"](<{out_href(href)}>)")
            else:  # text, and an image as its alt text (never an image)
                text.append(t.content)
        put("")
        return "".join(out)


def out_href(href: str) -> str:
    """An allowed href inside <…>: markdown-it gave it percent-encoded, so only <, > need care."""
    return href.replace("<", "%3C").replace(">", "%3E")
