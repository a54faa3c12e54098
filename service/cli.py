"""`arxiv-digest` command line: clear messages and exit codes, never a traceback for bad input."""
from __future__ import annotations

import argparse
import logging
import os
import sys

from .errors import BadRequest, ConfigError, DigestError, RefreshBusy

EXIT_FAILED, EXIT_CONFIG = 1, 2


def _refresh(args) -> int:
    from .pipeline import make_digest

    d = make_digest()
    names = args.feeds or list(d.specs)
    unknown = [n for n in names if n not in d.specs]
    if unknown:
        print(f"error: unknown feed(s): {', '.join(unknown)} (feeds: {', '.join(d.specs)})", file=sys.stderr)
        return EXIT_CONFIG
    if not d.llm_enabled:
        print("note: no feed's LLM key is set (ANTHROPIC_API_KEY, OPENAI_API_KEY or a spec's api_key_env): "
              "publishing without analyses", file=sys.stderr)
    from .progress import TerminalProgress

    progress = TerminalProgress()
    code = 0
    for name in names:
        try:
            result = d.refresh(name, force=args.force, progress=progress)
        except RefreshBusy as e:
            print(f"error: {e}", file=sys.stderr)
            code = EXIT_FAILED
            continue
        print(result.message, file=sys.stdout if result.ok else sys.stderr)
        if not result.ok:
            code = EXIT_FAILED
    return code


def _serve(args) -> int:
    from gunicorn.app.base import BaseApplication

    from .web import create_app

    app = create_app(fallback=True)
    app.extensions["digest"].close()  # built before the workers fork: no SQLite handle may cross it

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("accesslog", "-")

        def load(self):
            return app

    Server().run()
    return 0


def _lint_analysis(args) -> int:
    from .prompts import PromptLibrary
    from .gate import check_analysis_text

    try:
        text = open(args.file, encoding="utf-8").read()
        source = open(args.source, encoding="utf-8").read() if args.source else None
    except (OSError, UnicodeDecodeError) as e:
        print(f"error: cannot read {getattr(e, 'filename', None) or args.file}: {e.strerror if isinstance(e, OSError) else e}",
              file=sys.stderr)
        return EXIT_CONFIG
    verdict = check_analysis_text(text, args.lang, PromptLibrary().frameworks, source)
    if verdict.ok:
        print("ok")
        return 0
    for reason in verdict.reasons:
        print(reason)
    return EXIT_FAILED


def _log(args) -> int:
    """The LLM call log (oldest first) as a table with a totals line, or JSON lines with
    --json; --rejects shows the rejected answers instead."""
    import json

    from .pipeline import make_digest

    d = make_digest()
    records = d.rejects() if args.rejects else d.call_log()
    if args.paper:
        records = [r for r in records if args.paper in r.get("what", "") or args.paper in r.get("key", "")]
    records = records[-args.limit:] if args.limit else records
    if args.json:
        for record in records:
            print(json.dumps(record, ensure_ascii=False, default=str))
        return 0
    if args.rejects:
        for r in records:
            print(f"{r.get('at', '')[:19]}  {r.get('what', '')}  try {r.get('attempt', '?')}")
            for reason in r.get("reasons", []):
                print(f"    {reason}")
        print(f"{len(records)} rejected answers" if records else "no rejected answers")
        return 0
    if not records:
        print("no LLM calls yet (run `arxiv-digest refresh` with ANTHROPIC_API_KEY set)")
        return 0
    rows = [(r.get("at", "")[:19].replace("T", " "), r.get("what", ""), r.get("model", ""),
             str(r.get("input_tokens", 0)), str(r.get("output_tokens", 0)), f"${r.get('cost_usd', 0):.4f}",
             r.get("verdict", "") + (f" ({r['reasons'][0].split(':', 1)[0]})" if r.get("reasons") else ""))
            for r in records]
    head = ("time (UTC)", "what", "model", "in", "out", "cost", "verdict")
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    right = {3, 4, 5}
    for row in [head, *rows]:
        print("  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip())
    cost = sum(r.get("cost_usd", 0) for r in records)
    passed = sum(1 for r in records if r.get("verdict") == "pass")
    print(f"{len(records)} calls ({passed} passed), {sum(r.get('input_tokens', 0) for r in records)} input and "
          f"{sum(r.get('output_tokens', 0) for r in records)} output tokens, ${cost:.4f}")
    return 0


def _export(args) -> int:
    """One published day to stdout, rendered as the web serves it (md is the seed's format)."""
    import datetime as dt

    from .errors import NotFound
    from .pipeline import make_digest

    d = make_digest()
    if args.feed not in d.specs:
        print(f"error: unknown feed: {args.feed} (feeds: {', '.join(d.specs)})", file=sys.stderr)
        return EXIT_CONFIG
    try:
        date = dt.date.fromisoformat(args.date)
    except ValueError:
        print(f"error: invalid date {args.date!r} (expected YYYY-MM-DD)", file=sys.stderr)
        return EXIT_CONFIG
    fmt = {"json": "api"}.get(args.format, args.format)
    base = d.settings.public_url or "http://localhost:8000"
    try:
        doc = d.day_document(args.feed, date, fmt, base)
    except NotFound as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_CONFIG
    sys.stdout.write(doc.body.decode("utf-8"))
    return 0


def _export_site(args) -> int:
    """Every published document as static files (.gz siblings, ETags, an nginx snippet)."""
    from pathlib import Path

    from .export_site import export_site
    from .pipeline import make_digest

    d = make_digest()
    base = args.base or d.settings.public_url or "http://localhost:8000"
    result = export_site(d, Path(args.dir), base)
    print(f"exported {len(result.files)} documents (+ .gz), {result.written} of them new or changed, "
          f"for {base} to {args.dir}; "
          f"nginx snippet: {Path(args.dir) / 'nginx.conf'}")
    if result.skipped:
        print(f"skipped {len(result.skipped)} documents whose file would lie outside {args.dir}: "
              f"{', '.join(result.skipped[:5])}", file=sys.stderr)
        return 1
    return 0


def _worker(args) -> int:
    from .pipeline import make_digest
    from .worker import Worker

    import signal

    worker = Worker(make_digest(), margin_minutes=args.margin, retry_minutes=args.retry_minutes,
                    catch_up_days=args.catch_up_days)
    print(worker.plan(), file=sys.stderr, flush=True)

    def stop(signum, _frame):
        print(f"worker: {signal.Signals(signum).name}, stopping (a refresh in flight resumes on the next run)",
              file=sys.stderr, flush=True)
        worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    worker.run()
    print("worker: stopped", file=sys.stderr, flush=True)
    # A refresh still in flight in a scheduler thread would keep the process alive until it
    # ends; what it finished is cached, and its LLM calls were reserved before they were
    # sent, so it is safe to leave now and resume on the next run.
    logging.shutdown()
    os._exit(0)


def _date(text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def _backfill(args) -> int:
    from .pipeline import make_digest

    if args.to < args.start:
        print(f"error: --to {args.to} is before --from {args.start}", file=sys.stderr)
        return EXIT_CONFIG
    d = make_digest()
    if args.feed not in d.specs:
        print(f"error: unknown feed: {args.feed} (feeds: {', '.join(d.specs)})", file=sys.stderr)
        return EXIT_CONFIG
    code = 0
    from .progress import TerminalProgress

    for result in d.backfill(args.feed, args.start, args.to, progress=TerminalProgress()):
        print(result.message, file=sys.stdout if result.ok else sys.stderr)
        code = code or (0 if result.ok else EXIT_FAILED)
    return code


def _check(args) -> int:
    """Validate the environment and every feed spec without starting anything: one line,
    exit 0 or 2 (`make run` runs it before gunicorn, so a typo is a clear line, not a boot loop)."""
    from . import config
    from .settings import load_settings

    settings = load_settings()  # ConfigError → one line, exit 2 (main)
    specs = config.load_feed_specs(settings.feeds_dir)
    for path in config.stray_files(settings.feeds_dir):
        print(f"note: {path} is not read: feed specs are TOML files (feeds/<name>.toml)", file=sys.stderr)
    for spec in specs.values():
        if spec.library is not None:  # a library that cannot be read does not stop the feed: a note
            from .library import LibraryError, load
            try:
                lib = load(spec.library)
                print(f"note: {spec.name}: library {lib.path}: {len(lib.items)} items ({lib.format})", file=sys.stderr)
            except LibraryError as e:
                print(f"warning: {spec.name}: {e}; the feed is ranked without it", file=sys.stderr)
        if spec.zotero is not None and spec.zotero.key_env and not settings.api_keys.get(spec.zotero.key_env):
            print(f"warning: {spec.name}: library {spec.zotero}: the environment variable {spec.zotero.key_env} "
                  "(key_env) is not set; the feed is ranked without it", file=sys.stderr)
    print(f"ok: {len(specs)} feed(s): {', '.join(specs)}")
    return 0


def _reindex(args) -> int:
    """Rebuild the search index from what is published (it is derived data)."""
    from .pipeline import make_digest

    d = make_digest()
    rows = d.reindex()
    print(f"search index rebuilt: {rows} entries of {len(d.specs)} feed(s) in {d.index.path}")
    return 0


def _recover(args) -> int:
    from .recover import recover
    from .settings import load_settings

    out = recover(load_settings())
    if out.moved_aside:
        print(f"the unreadable database was moved to {out.moved_aside}")
    print(f"restored {len(out.restored)} published day(s), {len(out.already)} already in the store"
          + (f"; checked {out.checked} copied document(s)" if out.checked else ""))
    for line in out.skipped:
        print(f"skipped: {line}", file=sys.stderr)
    for url in out.mismatched:
        print(f"differs from its copy: {url}", file=sys.stderr)
    return EXIT_FAILED if out.skipped or out.mismatched else 0


def _config_reference(args) -> int:
    from .reference import configuration_markdown

    sys.stdout.write(configuration_markdown())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="arxiv-digest", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("refresh", help="publish the latest announcement for the feeds (all if none)")
    p.add_argument("feeds", nargs="*", metavar="FEED")
    p.add_argument("--force", action="store_true", help="rebuild the day even if it is published and complete")
    p.set_defaults(func=_refresh)
    p = sub.add_parser("backfill", help="publish past announcement days from the arXiv API")
    p.add_argument("feed", metavar="FEED")
    p.add_argument("--from", dest="start", type=_date, required=True, metavar="DATE")
    p.add_argument("--to", type=_date, required=True, metavar="DATE")
    p.set_defaults(func=_backfill)
    p = sub.add_parser("serve", help="serve the feeds with gunicorn")
    p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"),
                   help="interface to listen on (default 127.0.0.1; 0.0.0.0 opens it to the network)")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p.add_argument("--workers", type=int, default=2)
    p.set_defaults(func=_serve)
    p = sub.add_parser("lint-analysis", help="run the quality gate on one analysis text")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--source", metavar="SOURCE_FILE", help="paper text the findings must quote")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.set_defaults(func=_lint_analysis)
    p = sub.add_parser("log", help="show the LLM call log (model, prompt hash, tokens, verdict)")
    p.add_argument("--paper", help="only calls about this arXiv id")
    p.add_argument("--rejects", action="store_true", help="show rejected answers instead")
    p.add_argument("--limit", type=int, default=0, help="only the last N")
    p.add_argument("--json", action="store_true", help="one JSON object per line, for machines")
    p.set_defaults(func=_log)
    p = sub.add_parser("export", help="write one published day to stdout (md: the seed digest's format)")
    p.add_argument("feed", metavar="FEED")
    p.add_argument("--date", required=True, metavar="DATE", help="announcement date, YYYY-MM-DD")
    p.add_argument("--format", choices=("md", "html", "json"), default="md")
    p.set_defaults(func=_export)
    p = sub.add_parser("export-site", help="write every published document as static files for nginx or a CDN")
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--base", metavar="URL", help="external base URL for self links (default: DIGEST_PUBLIC_URL)")
    p.set_defaults(func=_export_site)
    p = sub.add_parser("worker", help="refresh every feed after each arXiv announcement")
    p.add_argument("--margin", type=float, default=30, help="minutes after 20:00 US/Eastern")
    p.add_argument("--retry-minutes", type=float, default=5, help="first retry delay; doubles up to an hour")
    p.add_argument("--catch-up-days", type=int, default=7, help="how far back to publish missed days on start")
    p.set_defaults(func=_worker)
    p = sub.add_parser("check", help="validate the environment and feeds/*.toml (exit 2 with one line if not)")
    p.set_defaults(func=_check)
    p = sub.add_parser("reindex", help="rebuild the search index from every published day")
    p.set_defaults(func=_reindex)
    p = sub.add_parser("recover", help="rebuild the store's published days from their copy in "
                       "DIGEST_DATA_DIR/published (an unreadable database is moved aside first)")
    p.set_defaults(func=_recover)
    p = sub.add_parser("config-reference", help="print every environment variable and feed spec key (Markdown)")
    p.set_defaults(func=_config_reference)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    # urllib3 logs every retry of an unreachable host; our own error names the URL once
    logging.getLogger("urllib3").setLevel(logging.INFO if args.verbose else logging.ERROR)
    try:
        return args.func(args)
    except (ConfigError, BadRequest) as e:  # bad input: a spec, a setting, an argument
        print(f"error: {e}", file=sys.stderr)
        return EXIT_CONFIG
    except DigestError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
