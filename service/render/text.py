"""LLM and paper text → safe HTML: Markdown rendered by markdown-it, then sanitised by nh3.

Raw HTML in the Markdown is not rendered (markdown-it's `html=False` escapes it), and nh3
removes anything still unsafe, so no script, handler or style ever reaches a reader. Every
href that survives must also pass the link policy (`service.links`): a link the paper's
source does not have becomes its plain text, whatever the gate decided before.
"""
from __future__ import annotations

import re
from collections.abc import Callable

import nh3

from ..links import md

ALLOWED_TAGS = {"p", "br", "hr", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "code", "pre",
                "ul", "ol", "li", "blockquote", "a", "table", "thead", "tbody", "tr", "th", "td",
                "sub", "sup", "del", "section", "div", "span"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
#: An anchor whose href the policy removed: not a link any more, so only its text stays.
_DEAD_ANCHOR = re.compile(r"<a(?=[\s>])(?![^>]*\shref=)[^>]*>(.*?)</a>", re.S)

Policy = Callable[[str], bool]


def sanitize(html: str, allowed: Policy) -> str:
    """nh3 with our tags, http(s) only, and every href asked of the link policy."""
    def attribute(tag: str, name: str, value: str) -> str | None:
        if tag == "a" and name == "href" and not allowed(value):
            return None
        return value

    cleaned = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                        url_schemes={"http", "https"}, link_rel="noopener noreferrer nofollow",
                        attribute_filter=attribute)
    return _DEAD_ANCHOR.sub(r"\1", cleaned)


def markdown_html(text: str, allowed: Policy) -> str:
    """Markdown → sanitised HTML; headings are demoted so they nest under ours."""
    rendered = md().render(text)
    for level in (2, 1):
        rendered = rendered.replace(f"<h{level}>", "<h4>").replace(f"</h{level}>", "</h4>")
    return sanitize(rendered, allowed)
