"""Every way the web process is started runs gunicorn with gunicorn.conf.py (worker class,
threads, keep-alive, preload: the settings BENCHMARKS.md measured), and serves wsgi:app; a
worker started with that file does not traverse what the master loaded."""
from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
#: Where the web process is launched: Procfile (Heroku, Dokku, honcho), `make run`, the
#: systemd unit, the container image (compose runs its CMD).
LAUNCHERS = ("Procfile", "Makefile", "deploy/arxiv-digest-web.service", "Dockerfile", "compose.yaml")


def gunicorn_commands(text: str) -> list[list[str]]:
    """Each command line (shell or a JSON exec list) that runs gunicorn, as its words."""
    commands = []
    for line in text.splitlines():
        if line.lstrip().startswith("#") or not re.search(r"(^|[\s/\"'\[])gunicorn([\"'\s]|$)", line):
            continue
        if m := re.search(r"\[(.*)\]", line):  # ["gunicorn", "-c", ...]
            words = re.findall(r'"([^"]*)"', m[1])
        else:
            words = shlex.split(line.split(":", 1)[1] if re.match(r"^\w+:\s", line) else line)
        start = next(i for i, w in enumerate(words) if w.rsplit("/", 1)[-1] == "gunicorn")
        commands.append(words[start:])
    return commands


def test_every_launcher_runs_gunicorn_with_the_repo_config():
    found = {}
    for name in LAUNCHERS:
        for words in gunicorn_commands((ROOT / name).read_text("utf-8")):
            found.setdefault(name, []).append(words)
            assert words[1:3] == ["-c", "gunicorn.conf.py"], (name, words)
            assert words[-1] == "wsgi:app", (name, words)
    assert set(found) == set(LAUNCHERS) - {"compose.yaml"}  # compose runs the image's CMD
    # the image has the file it names
    assert re.search(r"^COPY .*\bgunicorn\.conf\.py\b", (ROOT / "Dockerfile").read_text("utf-8"), re.M)


def test_gunicorn_commands_parses_each_form():
    assert gunicorn_commands('web: gunicorn -c gunicorn.conf.py --bind 0.0.0.0:${PORT:-8000} wsgi:app') == [
        ["gunicorn", "-c", "gunicorn.conf.py", "--bind", "0.0.0.0:${PORT:-8000}", "wsgi:app"]]
    assert gunicorn_commands('CMD ["gunicorn", "--workers", "2", "wsgi:app"]') == [
        ["gunicorn", "--workers", "2", "wsgi:app"]]
    assert gunicorn_commands("\t$(BIN)/gunicorn --bind x wsgi:app\n# gunicorn -c no") == [
        ["$(BIN)/gunicorn", "--bind", "x", "wsgi:app"]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_worker_never_traverses_what_the_master_loaded():
    """gunicorn.conf.py freezes the preloaded app before each fork: a worker's collections skip
    it (no full collection copying every page of it, BENCHMARKS.md), and it stays shared."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                             "tests.wsgi_gc:app"], cwd=ROOT, env=dict(os.environ, WEB_CONCURRENCY="1"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(200):
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/", timeout=30).json()
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        else:
            raise AssertionError(proc.stderr.read1().decode())
    finally:
        proc.terminate()
        proc.wait(10)
    assert answer["loaded_traversed"] == 0
    assert answer["frozen"] > 1000  # the interpreter's and gunicorn's own objects too
