"""`arxiv-digest export-site DIR`: static files equal to what the app serves (no nginx needed)."""
from __future__ import annotations

import gzip
import hashlib
import json
import re

from service.cli import main
from service.export_site import export_site, file_for
from service.pipeline import make_digest
from service.web import create_app

BASE = "https://digest.example"


def test_file_for_keeps_extensions_and_adds_them_by_type():
    assert file_for("/", "text/html; charset=utf-8") == "index.html"
    assert file_for("/feeds/cs-cv.atom", "application/atom+xml") == "feeds/cs-cv.atom"
    assert file_for("/feeds/cs-cv/2026-01-28", "text/html; charset=utf-8") == "feeds/cs-cv/2026-01-28.html"
    assert file_for("/api/v1/papers/2601.19887", "application/json") == "api/v1/papers/2601.19887.json"
    assert file_for("/opml", "text/x-opml; charset=utf-8") == "opml.opml"


def test_export_site_writes_every_document_as_served(env, monkeypatch, tmp_path):
    monkeypatch.setenv("DIGEST_PUBLIC_URL", BASE)  # the app answers for the exported site's address
    digest = make_digest()
    client = create_app(digest_obj=digest).test_client()
    digest.refresh("cs-cv")
    out = tmp_path / "site"
    result = export_site(digest, out, BASE)
    urls = {f.url for f in result.files}
    expected = {"/", "/opml", "/api/v1/feeds", "/feeds/cs-cv.atom", "/feeds/cs-cv.rss", "/feeds/cs-cv.json",
                "/feeds/cs-cv/2026-01-28", "/feeds/cs-cv/2026-01-28.md", "/feeds/cs-cv/2026-01-28.atom",
                "/api/v1/feeds/cs-cv/days", "/api/v1/feeds/cs-cv/days/2026-01-28", "/api/v1/papers/2601.19887",
                "/feeds/cs-cv.zotero.atom", "/feeds/cs-cv/2026-01-28.bib", "/feeds/cs-cv/2026-01-28.ris",
                "/feeds/cs-cv/2026-01-28.json", "/papers/2601.19887", "/papers/2601.19887.bib",
                "/papers/2601.19887.ris", "/papers/2601.19887.json"}
    assert expected <= urls
    assert len([u for u in urls if u.startswith("/api/v1/papers/")]) == 10
    manifest = json.loads((out / "etags.json").read_text("utf-8"))
    for f in result.files:
        body = (out / f.path).read_bytes()
        assert gzip.decompress((out / f"{f.path}.gz").read_bytes()) == body
        assert f.etag == hashlib.sha256(body).hexdigest()[:32] == manifest[f.url]["etag"]
    # byte for byte what the app serves at the same URL for the same base URL
    for f in result.files:
        resp = client.get(f.url, base_url=BASE)
        assert resp.status_code == 200, f.url
        assert resp.data == (out / f.path).read_bytes(), f.url
        assert resp.headers["ETag"] == f'"{f.etag}"'
        assert resp.headers["Content-Type"] == f.content_type
    snippet = (out / "nginx.conf").read_text("utf-8")
    assert "gzip_static on;" in snippet and "try_files $uri $uri.html $uri.json $uri.opml =404;" in snippet
    assert f'"/feeds/cs-cv.atom" {manifest["/feeds/cs-cv.atom"]["etag"]};' in snippet
    assert '"application/feed+json; charset=utf-8" json;' in snippet
    assert f"root {out.resolve()};" in snippet
    # nginx refuses a map with a key twice ("conflicting parameter"): the days map holds the
    # days listing's pages only, not other URLs under /days (a day's /quality report)
    maps = re.findall(r"^map \S+ (\S+) \{\n(.*?)^\}", snippet, re.M | re.S)
    for name, body in maps:
        keys = re.findall(r'^    ("[^"]*"|\S+) ', body, re.M)
        assert len(keys) == len(set(keys)), name
    days = dict(re.findall(r'^    "(\S+)" (\w+);', dict(maps)["$digest_days_etag"], re.M))
    assert days == {"/api/v1/feeds/cs-cv/days.page-1": manifest["/api/v1/feeds/cs-cv/days"]["etag"]}
    digest.close()


def test_export_site_cli(env, tmp_path, capsys):
    assert main(["refresh", "cs-cv"]) == 0
    out = tmp_path / "site"
    assert main(["export-site", str(out), "--base", BASE]) == 0
    assert "nginx.conf" in capsys.readouterr().out
    assert (out / "feeds/cs-cv.atom").exists() and (out / "feeds/cs-cv.atom.gz").exists()
    assert b"https://digest.example/feeds/cs-cv.atom" in (out / "feeds/cs-cv.atom").read_bytes()


def test_export_site_from_another_directory_uses_the_checkout_and_is_incremental(tmp_path, monkeypatch, capsys):
    """Without DIGEST_* paths the checkout's feeds/ and var/ are used, wherever the shell is;
    an empty store still exports the feeds the OPML links to; a second export writes nothing."""
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for name in ("DIGEST_DATA_DIR", "DIGEST_FEEDS_DIR", "DIGEST_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    var = root / "var"
    existed = var.exists()
    try:
        assert main(["export-site", str(tmp_path / "site"), "--base", BASE]) == 0
        first = capsys.readouterr().out
        assert not (elsewhere / "var").exists() and not (elsewhere / "feeds").exists()
        assert (tmp_path / "site" / "feeds" / "cs-cv.atom").exists()  # the OPML's link resolves
        assert main(["export-site", str(tmp_path / "site"), "--base", BASE]) == 0
        assert " 0 of them new or changed" in capsys.readouterr().out and "exported" in first
    finally:
        if not existed:
            shutil.rmtree(var, ignore_errors=True)
