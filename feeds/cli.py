"""The command line: ``python -m feeds [options] [command]``. Thin: parse, call, report."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from feeds import __version__
from feeds import config as config_mod
from feeds.errors import ConfigError, FeedsError, LockedError

log = logging.getLogger("feeds")

EXIT_OK, EXIT_SKIPPED, EXIT_CONFIG, EXIT_SOFTWARE, EXIT_LOCKED, EXIT_INTERRUPTED = 0, 1, 2, 70, 75, 130

DESCRIPTION = """\
Turn dumps of a website's pages into Atom and RSS feeds and a page per post.

With no command, runs one pass: reads the dumps named in feeds.toml (default
seeds/*.txt) that are new or changed, stores their posts in SQLite (default
state/feeds.sqlite3) and writes what changed under out/: atom.xml, rss.xml,
index.html and posts/<slug>.html. Safe to run from cron.
"""

EPILOG = """\
exit status: 0 done; 1 done, but some dumps were skipped or an input path matched
nothing (named on stderr); 2 bad configuration or usage; 70 an unexpected error (a
bug: the traceback is printed); 75 another pass holds the lock; 130 interrupted.

examples:
  python -m feeds                      one pass over seeds/ into out/
  python -m feeds inspect seeds/*.txt  show the posts found, touch nothing
  python -m feeds serve                preview out/ at http://127.0.0.1:8000/
"""


def _now(value: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--now {value!r} is not an ISO 8601 time; write e.g. 2025-02-17T09:00:00+00:00") from None
    return dt


def _common_options(top: bool) -> argparse.ArgumentParser:
    """The options every command takes, before or after the command's name.

    On the commands they default to SUPPRESS, so that `-c FILE run` keeps the -c
    given before the command instead of resetting it.
    """
    common = argparse.ArgumentParser(add_help=False)
    default = (lambda value: value) if top else (lambda value: argparse.SUPPRESS)
    common.add_argument("-c", "--config", metavar="FILE", default=default(None),
                        help="configuration file (default: ./feeds.toml if present, else built-in defaults)")
    common.add_argument("--now", type=_now, metavar="ISO-8601", default=default(None),
                        help="fix the clock (e.g. 2025-02-17T09:00:00+00:00) for reproducible builds and tests; "
                             "a time without offset is in the site's time zone")
    common.add_argument("-v", "--verbose", action="count", default=default(0), help="say more (-vv for debugging)")
    common.add_argument("-q", "--quiet", action="store_true", default=default(False),
                        help="only errors, and the summary line")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options(top=False)
    parser = argparse.ArgumentParser(prog="python -m feeds", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     parents=[_common_options(top=True)])
    parser.add_argument("--version", action="version", version=f"feeds {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="command")

    run = sub.add_parser("run", parents=[common], help="one pass (the default command)",
                         description="Read new or changed dumps, store their posts, publish what changed.")
    run.add_argument("--rebuild", action="store_true",
                     help="render every page and feed again (written only where the bytes differ)")

    inspect = sub.add_parser("inspect", parents=[common], help="show the posts found in dumps; touches nothing",
                             description="Read the given dumps and show the posts found in them, with "
                                         "their lines, cut or whole, slug and date. Touches neither the "
                                         "state nor out/.")
    inspect.add_argument("paths", nargs="+", metavar="PATH", help="dump files")
    inspect.add_argument("--json", action="store_true",
                         help="one JSON object per post per line: dump, title, start_line, end_line, "
                              "truncated, slug, published, date_source, position")

    dig = sub.add_parser(
        "digest", parents=[common], help="render, preview or send the weekly digest email",
        description="Render the weekly digest of an ISO week (default: the latest week whose digest is due) "
                    "into the archive, out/digests/<week>.html. A week that was mailed shows what was mailed; "
                    "another past week lists the posts published in it. Nothing is sent unless --send.",
        epilog="examples:\n  python -m feeds digest --period 2025-W07 --preview\n"
               "  python -m feeds digest --send          deliver the digest due now (what a pass does)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    dig.add_argument("--period", metavar="YYYY-Www", help="the ISO week, in the site's time zone, e.g. 2025-W07")
    mode = dig.add_mutually_exclusive_group()
    mode.add_argument("--preview", action="store_true",
                      help="also write the email as HTML, text and .eml under out/preview/ and print their "
                           "paths and sizes")
    mode.add_argument("--send", action="store_true",
                      help="compose the digest due now (once per week) and deliver it through the ledger: "
                           "SMTP when [mail] host is set, else .eml files in the outbox")

    serve = sub.add_parser("serve", parents=[common], help="serve out/ on 127.0.0.1:8000 to preview it",
                           description="Serve the output folder over HTTP so a browser or a feed reader "
                                       "can subscribe to http://127.0.0.1:8000/atom.xml.")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--bind", default="127.0.0.1", help="address (default 127.0.0.1)")
    return parser


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s" if verbose < 2
                                           else "%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("feeds")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose, args.quiet)
    try:
        cfg = config_mod.load(args.config)
        now = args.now or datetime.now(UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=cfg.site.tz)
        command = args.command or "run"
        if command == "inspect":
            return cmd_inspect(cfg, args.paths, now, as_json=args.json)
        clock = (lambda: now) if args.now else (lambda: datetime.now(UTC))
        if command == "serve":
            return cmd_serve(cfg, args.bind, args.port)
        if command == "digest":
            return cmd_digest(cfg, now, clock, period=args.period, preview=args.preview, send=args.send,
                              quiet=args.quiet)
        return cmd_run(cfg, now, clock, rebuild=getattr(args, "rebuild", False), quiet=args.quiet)
    except ConfigError as exc:
        print(f"feeds: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except LockedError as exc:
        print(f"feeds: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except FeedsError as exc:
        print(f"feeds: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        print("feeds: interrupted; what was stored and published before stays", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:  # a bug, not bad input: show it whole, with its own exit status
        log.exception("unexpected error; please report it with the traceback above")
        return EXIT_SOFTWARE


def _progress():
    """A one-line progress display on a terminal, for passes over many dumps."""
    if not sys.stderr.isatty():
        return None

    def show(n: int, total: int, path: str) -> None:
        if total >= 20 and (n == total or n % max(total // 100, 1) == 0):
            sys.stderr.write(f"\rreading dumps: {n}/{total} ({100 * n // total}%)")
            if n == total:
                sys.stderr.write("\n")
            sys.stderr.flush()
    return show


def _locked_store(cfg: config_mod.Config):
    from contextlib import ExitStack

    from feeds.lock import exclusive
    from feeds.store import Store

    stack = ExitStack()
    stack.enter_context(exclusive(cfg.state.path.with_name(cfg.state.path.name + ".lock")))
    return stack, stack.enter_context(Store(cfg.state.path))


def cmd_run(cfg: config_mod.Config, now: datetime, clock, *, rebuild: bool, quiet: bool) -> int:
    from feeds.pipeline import run_once

    stack, store = _locked_store(cfg)
    with stack:
        report = run_once(cfg, store, now, rebuild=rebuild, progress=_progress(), clock=clock)
    for line in report.skipped:
        print(f"feeds: skipped {line}", file=sys.stderr)
    for line in report.problems:
        print(f"feeds: {line}", file=sys.stderr)
    print(f"feeds: {report.summary()}", file=sys.stderr if quiet else sys.stdout)
    return EXIT_SKIPPED if report.skipped or report.problems else EXIT_OK


def cmd_digest(cfg: config_mod.Config, now: datetime, clock, *, period: str | None, preview: bool, send: bool,
               quiet: bool) -> int:
    from feeds import digest
    from feeds.pipeline import Report, digest_stage, publish_digests

    stack, store = _locked_store(cfg)
    with stack:
        due = digest.due_period(now, cfg)
        week = digest.parse_period(period) if period else due
        if send:
            row = store.digest(week)
            if week != due and not (row is not None and row["kind"] == "mailed"):
                raise digest.PeriodError(f"--send delivers the digest due now ({due}); {week} was never composed "
                                         "for mailing. Render a past week without --send.")
            report = Report()
            digest_stage(store, cfg, now, clock, report, changed=False)
            for line in report.problems:
                print(f"feeds: {line}", file=sys.stderr)
            print(f"feeds: {report.digest or 'nothing to send'}", file=sys.stderr if quiet else sys.stdout)
            return EXIT_SKIPPED if report.problems else EXIT_OK
        sel = digest.select(store, cfg, week, now)
        if not sel.posts:
            print(f"feeds: no posts for {week} ({digest.week_label(week, cfg.site.tz)}); nothing written")
            return EXIT_OK
        if sel.kind == "due":
            print(f"{week}: {len(sel.posts)} post(s), due now and not yet mailed: the next pass (or "
                  "digest --send) mails it and puts it in out/digests/")
        else:
            if store.digest(week) is None:
                with store.transaction():
                    store.set_digest(week, "archived", sel.date, len(sel.posts))
            publish_digests(store, cfg, now)
            page = cfg.output.dir / "digests" / f"{week}.html"
            what = "as mailed" if sel.kind == "mailed" else "by publication date"
            print(f"{page}  {len(sel.posts)} post(s), {what}")
        if preview:
            for path, size in digest.write_preview(cfg, sel):
                note = (f"  (after CSS inlining; the limit is {digest.MAX_HTML_BYTES // 1000} KB)"
                        if path.suffix == ".html" else "")
                print(f"{path}  {size / 1000:.1f} KB{note}")
    return EXIT_OK


def cmd_inspect(cfg: config_mod.Config, paths: Sequence[str], now: datetime, *, as_json: bool) -> int:
    from feeds.inspect import inspect_paths

    rows, errors = inspect_paths(cfg, paths, now)
    for err in errors:
        print(f"feeds: skipped {err}", file=sys.stderr)
    if as_json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    else:
        print(f"{'dump':<24} {'#':>3} {'lines':>11} {'':5} {'published':<10} {'source':<10} title")
        for r in rows:
            lines = f"{r['start_line']}-{r['end_line']}"
            print(f"{Path(r['dump']).name[:24]:<24} {r['position'] + 1:>3} {lines:>11} "
                  f"{'cut' if r['truncated'] else 'whole':5} {r['published'][:10]:<10} "
                  f"{r['date_source']:<10} {r['title']}")
        dumps = len({r["dump"] for r in rows})
        cut = sum(r["truncated"] for r in rows)
        print(f"{len(rows)} post(s) in {dumps} dump(s): {cut} cut, {len(rows) - cut} whole; "
              f"{len({r['key'] for r in rows})} distinct")
    return EXIT_SKIPPED if errors else EXIT_OK


def cmd_serve(cfg: config_mod.Config, bind: str, port: int) -> int:
    from feeds.serve import serve

    return serve(cfg, bind, port)
