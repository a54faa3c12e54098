"""OPML 2.0 subscription list of every feed, for importing all of them into a reader at once."""
from __future__ import annotations

import datetime as dt
from email.utils import format_datetime

from lxml import etree

from ..models import FeedSpec
from ..urls import Urls

OPML_TYPE = "text/x-opml; charset=utf-8"


def render_opml(specs: list[FeedSpec], updated: dt.datetime, base: str) -> bytes:
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = "arxiv-digest feeds"
    etree.SubElement(head, "dateModified").text = format_datetime(updated, usegmt=True)
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = etree.SubElement(root, "body")
    for spec in specs:
        etree.SubElement(body, "outline", type="rss", text=spec.title, title=spec.title,
                         xmlUrl=Urls(base).feed(spec.name, "atom"), htmlUrl=Urls(base).index(),
                         description=f"arXiv {', '.join(spec.categories)}", language=spec.language)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")
