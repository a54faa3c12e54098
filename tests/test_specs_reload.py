"""Feed specs change under a running service: picked up without a restart, and a broken
one never takes the service down."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from service.errors import ConfigError
from service.pipeline import SPECS_CHECK_INTERVAL, make_digest
from service.web import create_app

from .conftest import ROOT


def test_added_edited_and_removed_specs_are_served_without_a_restart(env, feeds_dir):
    d = make_digest()
    client = create_app(digest_obj=d).test_client()
    assert [f["name"] for f in client.get("/api/v1/feeds").json["feeds"]] == ["cs-cv"]
    spec = (feeds_dir / "cs-cv.toml").read_text("utf-8")
    (feeds_dir / "cs-ro.toml").write_text(spec.replace('categories = ["cs.CV"]', 'categories = ["cs.RO"]'), "utf-8")
    (feeds_dir / "cs-cv.toml").write_text(spec.replace('title = "', 'title = "Edited: ', 1), "utf-8")
    time.sleep(SPECS_CHECK_INTERVAL + 0.1)  # the web layer looks at most this often
    assert [f["name"] for f in client.get("/api/v1/feeds").json["feeds"]] == ["cs-cv", "cs-ro"]
    assert b"<title>Edited: " in client.get("/feeds/cs-cv.atom").data  # no publication needed
    assert client.get("/feeds/cs-ro.atom").status_code == 200
    (feeds_dir / "cs-ro.toml").unlink()
    assert d.reload_specs(force=True)
    assert client.get("/feeds/cs-ro.atom").status_code == 404
    d.close()


def test_a_broken_edit_keeps_the_last_good_specs_and_says_why(env, feeds_dir):
    d = make_digest()
    client = create_app(digest_obj=d).test_client()
    good = (feeds_dir / "cs-cv.toml").read_text("utf-8")
    (feeds_dir / "cs-cv.toml").write_text(good.replace('categories = ["cs.CV"]', 'categories = ["cs.cv"]'), "utf-8")
    assert not d.reload_specs(force=True)
    assert client.get("/feeds/cs-cv.atom").status_code == 200
    health = client.get("/healthz").json
    assert "cs-cv.toml: key 'categories': unknown arXiv category 'cs.cv', did you mean 'cs.CV'?" in health["config_error"]
    # a restart (a HUP re-creates the app in new workers) also serves the last good specs
    restarted = make_digest(fallback=True)
    assert restarted.spec("cs-cv").categories == ("cs.CV",) and "cs.cv" in restarted.spec_error
    restarted.close()
    (feeds_dir / "cs-cv.toml").write_text(good, "utf-8")
    d.reload_specs(force=True)
    assert client.get("/healthz").json["config_error"] is None
    d.close()


def test_without_a_last_good_set_a_broken_spec_still_refuses_to_start(env, feeds_dir):
    (feeds_dir / "cs-cv.toml").write_text('title = "x"\ncategories = ["cs.lg"]\n', "utf-8")
    with pytest.raises(ConfigError, match="did you mean 'cs.LG'"):
        make_digest(fallback=True)


def test_gunicorn_with_a_broken_spec_prints_one_line_and_stops(env, feeds_dir, tmp_path):
    (feeds_dir / "cs-cv.toml").write_text('title = "x"\ncategories = ["cs.CV"]\nmax_paper = 3\n', "utf-8")
    (feeds_dir / "notes.yaml").write_text("title: not read\n", "utf-8")
    proc = subprocess.run([sys.executable, "-m", "gunicorn", "--preload", "--bind", "127.0.0.1:0", "--workers", "2", "wsgi:app"],
                          cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 4, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert errors and all("cs-cv.toml: key 'max_paper': unknown key" in line for line in errors), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr


def test_check_validates_specs_with_one_line_and_exit_2(env, feeds_dir, capsys):
    from service.cli import main

    assert main(["check"]) == 0 and capsys.readouterr().out.startswith("ok: 1 feed(s): cs-cv")
    (feeds_dir / "notes.yaml").write_text("title: x\n", "utf-8")
    (feeds_dir / "cs-cv.toml").write_text('title = "x"\ncategories = ["cs.lg"]\n', "utf-8")
    assert main(["check"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith("/category_taxonomy)")  # one line, pointing at the taxonomy
    assert err[0].startswith(f"error: {feeds_dir / 'cs-cv.toml'}: key 'categories': unknown arXiv category "
                             "'cs.lg', did you mean 'cs.LG'? (see ")
