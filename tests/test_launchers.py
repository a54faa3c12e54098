"""Every way the web process is started runs gunicorn with gunicorn.conf.py (worker class,
threads, keep-alive, preload: the settings BENCHMARKS.md measured), and serves wsgi:app."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

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
