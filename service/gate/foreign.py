"""Links and active markup (moved unchanged from service/quality.py; the link policy is service/links.py's)."""
from __future__ import annotations

import re

from .text import normalize
from .verdict import Verdict

URL = re.compile(r"(?:https?://|\bwww\.)[^\s)\]>\"'，。）】；、]+", re.I)
#: Markup that can carry a link, a script or an image: never ours to publish unless the paper has it.
MARKUP = re.compile(r"<\s*(?:script|iframe|img|a|object|embed|form|style|link|meta|svg|video|audio|source)\b[^>]*>"
                    r"|<[^>]*\son[a-z]+\s*=[^>]*>", re.I)


def links(text: str) -> list[str]:
    return [u.rstrip(".,;:!?") for u in URL.findall(text)]


def check_foreign(text: str, source_text: str, verdict: Verdict) -> None:
    """Links and active markup must come from the paper (prompt injection asks for exactly these).

    Links are judged by `service.links`, the policy the renderers enforce: every href
    markdown-it would produce, however it is spelled, and bare links a linkifier would make."""
    from .. import links as link_policy

    foreign = link_policy.foreign_links(text, source_text)
    if foreign:
        verdict.add("foreign_link", f"links that are not in the paper: {', '.join(foreign[:3])}")
    source_norm = normalize(source_text).lower()
    markup = [normalize(m) for m in MARKUP.findall(text)]
    markup = [m for m in markup if m.lower() not in source_norm]
    if markup:
        verdict.add("foreign_link", f"markup that is not in the paper: {markup[0][:50]!r}")
