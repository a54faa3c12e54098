"""Checks for what enters from upstream (arXiv listing, API, full text) before anything keeps it.

One control character in a title used to reach lxml only at publish time, after every LLM
call was paid, and a paper id was used as a file path. So text is cleaned and ids are
validated where they arrive, once, and nothing later has to wonder.
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata

#: Characters XML 1.0 forbids (C0 controls but tab/newline/CR, surrogates, U+FFFE/U+FFFF),
#: and the C1 controls and DEL, which are legal but never text.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
#: A numeric character reference, as it arrives in an XML document.
_CHAR_REF = re.compile(rb"&#(?:[xX](?P<hex>[0-9a-fA-F]{1,8})|(?P<dec>[0-9]{1,10}));")
_ILLEGAL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")

#: arXiv identifiers: new style (0704.0001 on, 5 digits from 1501) and old style (hep-th/9901001),
#: each with an optional version. Nothing else is an id, and nothing else becomes a path or a URL.
#: ASCII only: `\d` alone would take every script's digits (fullwidth ２６０１.１９８８７, a look-alike).
ARXIV_ID = re.compile(r"(?P<id>\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<v>[1-9]\d{0,3}))?", re.ASCII)


#: Field lengths far beyond anything arXiv accepts (abstracts are capped at 1,920 characters,
#: titles are a line): past these, what arrives is not metadata but a way to make us pay.
MAX_TITLE = 1_000
MAX_ABSTRACT = 10_000
MAX_FIELD = 2_000
MAX_AUTHORS = 10_000
CLIPPED = " […]"


def clip(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, marked when cut."""
    if len(text) <= limit:
        return text
    return text[:limit - len(CLIPPED)].rsplit(" ", 1)[0] + CLIPPED


def clean_text(text: str) -> str:
    """NFC text with only characters XML 1.0 (and a reader) can take."""
    return unicodedata.normalize("NFC", _ILLEGAL.sub("", text))


def clean_xml(body: bytes) -> bytes:
    """An upstream XML document without references to (or raw bytes of) forbidden characters,
    so one bad character in one abstract does not make the whole document unreadable."""
    def ref(m: re.Match) -> bytes:
        code = int(m["hex"], 16) if m["hex"] else int(m["dec"])
        return b"" if code > 0x10FFFF or _ILLEGAL.match(chr(code)) else m.group(0)

    return _ILLEGAL_BYTES.sub(b"", _CHAR_REF.sub(ref, body))


def arxiv_id(value: str) -> tuple[str, int | None] | None:
    """(id, version or None) when `value` is exactly an arXiv id, else None."""
    m = ARXIV_ID.fullmatch(value)
    if m is None:
        return None
    if "/" not in m["id"]:  # yymm.number: a real month, four digits before 2015, five after
        yymm, number = m["id"].split(".")
        if not 1 <= int(yymm[2:]) <= 12 or len(number) != (4 if int(yymm) < 1501 else 5):
            return None
    return m["id"], int(m["v"]) if m["v"] else None


def scrub(value):
    """`value` (a dataclass, tuple or str) with every string cleaned; what needs nothing is
    returned as is. For renderers: data stored before it was cleaned on entry still renders."""
    if type(value) is str:  # not str enums
        return clean_text(value) if _ILLEGAL.search(value) else value
    if isinstance(value, tuple):
        cleaned = tuple(scrub(v) for v in value)
        return value if all(a is b for a, b in zip(cleaned, value)) else cleaned
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: new for f in dataclasses.fields(value) if f.init
                   if (new := scrub(old := getattr(value, f.name))) is not old}
        return dataclasses.replace(value, **changes) if changes else value
    return value


def is_versioned_id(arxiv_id_: str, version: str) -> bool:
    """True when `arxiv_id_` is a version-less arXiv id and `version` a plain version number."""
    parsed = arxiv_id(f"{arxiv_id_}v{version}")
    return parsed is not None and parsed[0] == arxiv_id_
