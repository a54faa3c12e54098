"""LLM and paper text → safe HTML: Markdown rendered by markdown-it, then sanitised by nh3.

Raw HTML in the Markdown is not rendered (markdown-it's `html=False` escapes it), and nh3
removes anything still unsafe, so no script, handler or style ever reaches a reader.
"""
from __future__ import annotations

from functools import cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {"p", "br", "hr", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "code", "pre",
                "ul", "ol", "li", "blockquote", "a", "table", "thead", "tbody", "tr", "th", "td",
                "sub", "sup", "del", "section", "div", "span"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


@cache
def _md() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def sanitize(html: str) -> str:
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")


def markdown_html(text: str) -> str:
    """Markdown → sanitised HTML; headings are demoted so they nest under ours."""
    rendered = _md().render(text)
    for level in (2, 1):
        rendered = rendered.replace(f"<h{level}>", "<h4>").replace(f"</h{level}>", "</h4>")
    return sanitize(rendered)
