"""`arxiv-digest export-site DIR`: every published document as static files for nginx, a CDN
or an object store.

Reads dwarf writes: a day is written once and polled all day. The bytes come from the same
`Digest` document methods the web app serves (no second renderer), so a static copy is the
dynamic output byte for byte. Each file gets a `.gz` sibling (the stored gzip copy, mtime 0,
so stable), its mtime set to the document's Last-Modified, and its content-hash ETag is
recorded in `etags.json` and in the generated nginx snippet (`nginx.conf`).

URL → file: a URL whose last segment has an extension (`.atom`, `.rss`, `.json`, `.md`, `.bib`, `.ris`)
is written as is; the others get one from their type (`.html`, `.json`, `.opml`), which
the snippet's `try_files` adds back. Pages 2… of the days API are `days.page-N.json`,
mapped from `?page=N`.
"""
from __future__ import annotations

import json
import logging
import math
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .documents import DAY_FORMATS, FORMATS, PAGE_SIZE, PAPER_FORMATS
from .urls import Urls

if TYPE_CHECKING:  # the façade writes a copy of each publication with this module's helpers (recover.py)
    from .pipeline import Digest

log = logging.getLogger(__name__)

#: Suffix added to the file of a URL without an extension, by content type.
_SUFFIX = {"text/html": ".html", "application/json": ".json", "text/x-opml": ".opml"}
#: Paths as the app serves them (root-relative).
_PATHS = Urls("")
#: A page of a feed's days listing: /api/v1/feeds/<feed>/days (page 1) or …/days.page-<n>.
_DAYS_PAGE = re.compile(r"(/api/v1/feeds/[^/]+)/days(?:\.page-(\d+))?")


@dataclass
class ExportedFile:
    url: str        # path part of the URL the app serves it at
    path: str       # file under the export directory, relative, with "/"
    etag: str       # the app's ETag (content hash of the body; the gzip copy is "<etag>-gz")
    content_type: str
    size: int


@dataclass
class Export:
    directory: Path
    base: str
    files: list[ExportedFile] = field(default_factory=list)
    #: Documents whose bytes changed since the last export (the others were left alone).
    written: int = 0
    #: URLs not written because their file would not be a plain path inside `directory`.
    skipped: list[str] = field(default_factory=list)


def file_for(url: str, content_type: str) -> str:
    """The relative file path that holds the document served at `url`."""
    if url == "/":
        return "index.html"
    last = url.rsplit("/", 1)[-1]
    rel = url.lstrip("/")
    if "." in last and not last.split(".")[-1].isdigit():  # 2601.19887 is an id, not an extension
        return rel
    return rel + _SUFFIX[content_type.split(";")[0].strip()]


def documents(digest: Digest, base: str):
    """(url, RenderedDoc) of every document the app serves from stored bytes."""
    yield "/", digest.site_document("index", base)
    yield "/opml", digest.site_document("opml", base)
    yield "/api/v1/feeds", digest.site_document("feeds", base)
    papers: set[str] = set()
    for feed in digest.specs:
        dates = digest.day_dates(feed)
        for fmt in FORMATS:  # before a first day too: the OPML and index link to them
            yield _PATHS.feed(feed, fmt), digest.document(feed, fmt, base)
        if not dates:
            continue
        for date in dates:
            for fmt in DAY_FORMATS:
                yield _PATHS.day(feed, date, fmt), digest.day_document(feed, date, fmt, base)
            day = digest.day(feed, date)
            papers.update(e.paper.arxiv_id for e in (day.entries if day else ()))
        for page in range(1, max(1, math.ceil(len(dates) / PAGE_SIZE)) + 1):
            doc, _ = digest.days_document(feed, page, PAGE_SIZE, base)
            yield f"/api/v1/feeds/{feed}/days" if page == 1 else f"/api/v1/feeds/{feed}/days.page-{page}", doc
    for arxiv_id in sorted(papers):
        for fmt in PAPER_FORMATS:
            url = _PATHS.api_paper(arxiv_id) if fmt == "api" else _PATHS.paper(arxiv_id, fmt)
            yield url, digest.paper_document(arxiv_id, base, fmt)


def confined(directory: Path, rel: str) -> Path | None:
    """`directory / rel` when `rel` is a plain relative path that stays inside `directory`
    (no "..", no absolute path, no symlink leading out), else None.

    URLs carry paper ids, and an id is data from upstream: it must never steer a write."""
    if (not rel or rel.startswith("/") or "\\" in rel or "\x00" in rel
            or posixpath.normpath(rel) != rel or any(part in ("", ".", "..") for part in rel.split("/"))):
        return None
    root = directory.resolve()
    target = (root / rel).resolve()
    return target if root in target.parents else None


def _write(path: Path, data: bytes, mtime: float) -> bool:
    """Write atomically, unless the file already holds these bytes (an incremental export
    rewrites only what changed); True if it wrote."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            if path.stat().st_mtime != mtime:
                os.utime(path, (mtime, mtime))
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.utime(tmp, (mtime, mtime))
    tmp.replace(path)
    return True


def export_site(digest: Digest, directory: Path, base: str) -> Export:
    """Write every document (and its .gz sibling), etags.json and nginx.conf under `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    out = Export(directory, base.rstrip("/"))
    for url, doc in documents(digest, out.base):
        rel = file_for(url, doc.content_type)
        path, gz = confined(directory, rel), confined(directory, f"{rel}.gz")
        if path is None or gz is None:
            log.error("export-site: not writing %r: its file %r would not be inside %s", url, rel, directory)
            out.skipped.append(url)
            continue
        mtime = doc.last_modified.timestamp()
        wrote = _write(path, doc.body, mtime)
        _write(gz, doc.gzipped, mtime)
        out.files.append(ExportedFile(url, rel, doc.etag, doc.content_type, len(doc.body)))
        out.written += wrote
    manifest = {f.url: {"file": f.path, "etag": f.etag, "content_type": f.content_type} for f in out.files}
    (directory / "etags.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", "utf-8")
    (directory / "nginx.conf").write_text(nginx_snippet(out), "utf-8")
    return out


def nginx_snippet(export: Export) -> str:
    """An http-context snippet: two maps and a server that serves the export like the app.

    `include` it inside `http { }`; change `listen` and `root` to taste. ETags are the
    app's content hashes (nginx's own mtime-size ETag is off); `If-None-Match` is answered
    with 304 from the same map, `If-Modified-Since` from the file mtime.
    """
    lines = ["# Generated by `arxiv-digest export-site`; include inside http { }.",
             "# One ETag per document: big maps (drop these two if your http { } sets them).",
             "map_hash_max_size 262144;", "map_hash_bucket_size 128;",
             "map $uri $digest_etag {", "    default \"\";"]
    for f in export.files:
        for key in dict.fromkeys((f.url, "/" + f.path)):
            lines.append(f"    {json.dumps(key)} {f.etag};")
    lines += ["}", "map $digest_days $digest_days_etag {", "    default \"\";"]
    for f in export.files:
        if m := _DAYS_PAGE.fullmatch(f.url):  # the listing's pages, not a day (nor its /quality)
            lines.append(f"    {json.dumps(f'{m[1]}/days.page-{m[2] or 1}')} {f.etag};")
    lines += ["}", "map $http_accept_encoding $digest_gz {", "    default \"\";", "    ~*gzip -gz;", "}", ""]
    root = str(export.directory.resolve())
    lines += f"""server {{
    listen 127.0.0.1:8080;
    root {root};
    etag off;
    gzip off;
    gzip_static on;
    gzip_vary on;
    access_log off;
    charset off;
    default_type "application/octet-stream";
    types {{
        "text/html; charset=utf-8" html;
        "application/json; charset=utf-8" json;
        "application/atom+xml; charset=utf-8" atom;
        "application/rss+xml; charset=utf-8" rss;
        "text/markdown; charset=utf-8" md;
        "text/x-opml; charset=utf-8" opml;
        "application/x-bibtex; charset=utf-8" bib;
        "application/x-research-info-systems; charset=utf-8" ris;
    }}
    set $digest_want "\\"$digest_etag$digest_gz\\"";
    if ($http_if_none_match = $digest_want) {{
        return 304;
    }}
    add_header ETag $digest_want;
    add_header Cache-Control "public, max-age=300";
    location = / {{
        try_files /index.html =404;
    }}
    location ~ ^/feeds/[^/]+\\.json$ {{
        types {{ "application/feed+json; charset=utf-8" json; }}
    }}
    location ~ ^/(feeds/[^/]+/[^/]+|papers/.+)\\.json$ {{
        types {{ "application/vnd.citationstyles.csl+json; charset=utf-8" json; }}
    }}
    location ~ ^/api/v1/feeds/(?<digest_feed>[^/]+)/days$ {{
        set $digest_page 1;
        if ($arg_page ~ ^[0-9]+$) {{
            set $digest_page $arg_page;
        }}
        set $digest_days /api/v1/feeds/$digest_feed/days.page-$digest_page;
        set $digest_want "\\"$digest_days_etag$digest_gz\\"";
        if ($http_if_none_match = $digest_want) {{
            return 304;
        }}
        if ($digest_page = 1) {{
            rewrite ^ /api/v1/feeds/$digest_feed/days.json break;
        }}
        rewrite ^ /api/v1/feeds/$digest_feed/days.page-$digest_page.json break;
    }}
    location / {{
        try_files $uri $uri.html $uri.json $uri.opml =404;
    }}
}}
""".splitlines()
    return "\n".join(lines) + "\n"
