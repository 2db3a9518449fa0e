"""The command line: ``python -m feeds [options] [command]``. Thin: parse, call, report."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import select
import signal
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from feeds import __version__
from feeds import config as config_mod
from feeds.errors import ConfigError, FeedsError, LockedError, StateFullError

if TYPE_CHECKING:
    from feeds.store import Store

log = logging.getLogger("feeds")

EXIT_OK, EXIT_SKIPPED, EXIT_CONFIG, EXIT_SOFTWARE, EXIT_LOCKED, EXIT_INTERRUPTED = 0, 1, 2, 70, 75, 130
EXIT_PIPE = 141  # 128 + SIGPIPE: what a shell shows for a writer whose reader went away

DESCRIPTION = """\
Turn dumps of a website's pages (text, or saved HTML) into feeds (Atom, RSS,
JSON Feed), a page per post, and a weekly digest email.

With no command, runs one pass: reads the dumps named in feeds.toml (default
seeds/*.txt) that are new or changed, stores their posts in SQLite (default
state/feeds.sqlite3), writes what changed under out/ (atom.xml, rss.xml,
feed.json, index.html, posts/<slug>.html) and, when the week's digest is due, mails it
(or writes it to out/outbox/) and archives it under out/digests/. Safe to run
from cron: one pass at a time, and a digest is never sent twice.
"""

EPILOG = """\
exit status: 0 done (or stopped at a safe point by SIGTERM or Ctrl-C); 1 done, but
a dump was skipped or quarantined, an input path matched nothing, a post failed to
render, a file under out/ could not be written (a full disk), a recipient was
skipped or a digest did not reach someone (each named on stderr); 2 bad
configuration or usage; 70 an unexpected error (a bug: the traceback is printed);
75 another pass holds the lock (try again later; nothing was touched); 130 stopped
at once by a second Ctrl-C; 141 the output's reader went away (as in "| head -1";
quietly, no traceback).

examples:
  python -m feeds init                 write a commented starter feeds.toml here
  python -m feeds check                is everything ready? (sends nothing, writes nothing)
  python -m feeds                      one pass over seeds/ into out/ (cron: every few minutes)
  python -m feeds loop                 passes on a schedule, as a service
  python -m feeds status               the last pass, the next digest, undelivered recipients
  python -m feeds inspect seeds/*.txt  show the posts found, touch nothing
  python -m feeds serve                preview out/ at http://127.0.0.1:8000/
"""


def _now(value: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--now {value!r} is not an ISO 8601 time; write e.g. 2025-02-17T09:00:00+00:00") from None
    # A fixed clock far from the real one is a typo (2205 for 2025); passed on, it would
    # record a digest for that week, and the ledger would hold back every week before it.
    real = datetime.now(UTC)
    aware = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    if dt.year < 1970 or aware > real + timedelta(days=366):
        raise argparse.ArgumentTypeError(
            f"--now {value!r} is out of range: give a time from 1970 to a year after this machine's "
            f"clock ({real:%Y-%m-%d}); check the year")
    return dt


def _port(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 0 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(
            f"--port {value!r} is not a port; give a number from 0 to 65535 (0: any free port)")
    return int(value)


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
    common.add_argument("--log-file", metavar="FILE", default=default(None),
                        help="also write the log, with times, to FILE (warnings and errors still go to stderr)")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options(top=False)
    parser = argparse.ArgumentParser(prog="python -m feeds", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     parents=[_common_options(top=True)])
    parser.add_argument("--version", action="version", version=f"feeds {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="command")

    sub.add_parser("init", parents=[common], help="write a commented starter feeds.toml",
                   description="Write a starter configuration to ./feeds.toml (or the -c FILE path): every key "
                               "of every section with its default and a line on what it does, ready to edit. "
                               "An existing file is never overwritten (exit status 2).",
                   epilog="examples:\n  python -m feeds init                 ./feeds.toml\n"
                          "  python -m feeds init -c site/feeds.toml",
                   formatter_class=argparse.RawDescriptionHelpFormatter)

    sub.add_parser(
        "check", parents=[common], help="check the config, templates, dumps and mail server; change nothing",
        description="Check what a pass needs, one finding per line: the configuration loads; each template "
                    "renders with sample data; the dumps a pass would read (new or changed since the last "
                    "pass) and those it would skip; the digest's recipients; and, when [mail] host is set, "
                    "the SMTP server: connect, EHLO, STARTTLS or implicit TLS, AUTH (when mail.username is "
                    "set and its password variable is), MAIL FROM, then a reset: no message is sent. Writes "
                    "nothing: the state is only read, out/ is not touched.",
        epilog="exit status: 0 all well; 1 warnings (a pass would work, but skip something or hold back the "
               "digest); 2 errors (a pass would stop, or could not mail)",
        formatter_class=argparse.RawDescriptionHelpFormatter)

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
                         help="one JSON object per post per line: dump, title, url, published, date_source, "
                              "author, categories, truncated, start_line, end_line, slug, position")

    dig = sub.add_parser(
        "digest", parents=[common], help="render, preview or send the weekly digest email",
        description="Render the weekly digest of an ISO week (default: the latest week whose digest is due) "
                    "into the archive, out/digests/<week>.html. A week that was mailed shows what was mailed; "
                    "another past week lists the posts published in it. Nothing is sent unless --send.",
        epilog="examples:\n  python -m feeds digest --period 2025-W07 --preview\n"
               "  python -m feeds digest --send          deliver the digest due now (what a pass does)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    dig.add_argument("--period", metavar="PERIOD", help="the period, in the site's time zone, as [digest] every "
                                                        "counts it: a week like 2025-W07 (the default), a day like "
                                                        "2025-02-14, a month like 2025-02")
    mode = dig.add_mutually_exclusive_group()
    mode.add_argument("--preview", action="store_true",
                      help="also write the email as HTML, text and .eml under out/preview/ and print their "
                           "paths and sizes")
    mode.add_argument("--send", action="store_true",
                      help="compose the digest due now (once per week) and deliver it through the ledger: "
                           "SMTP when [mail] host is set, else .eml files in the outbox")

    sub.add_parser("loop", parents=[common], help="run passes on a schedule until stopped",
                   description="Run a pass now, then every [loop] interval minutes (default 15) and at the "
                               "weekly digest slot, until SIGTERM or Ctrl-C (the pass in progress stops at a safe "
                               "point; exit status 0). A slot missed while feeds was not running is caught up "
                               "once, at start. One summary line per pass.")
    status = sub.add_parser("status", parents=[common], help="the last pass, the next digest, the ledger",
                            description="Show the last pass (when, what it did, its problems), the digest due "
                                        "next, how many dumps, entries and digests are stored, and the "
                                        "recipients a digest did not reach. Reads the state; changes nothing.")
    status.add_argument("--json", action="store_true", help="the same as one JSON object")

    serve = sub.add_parser("serve", parents=[common], help="serve out/ on 127.0.0.1:8000 to preview it",
                           description="Serve the output folder over HTTP so a browser or a feed reader "
                                       "can subscribe to http://127.0.0.1:8000/atom.xml.")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0: any free port)")
    serve.add_argument("--bind", default="127.0.0.1", help="address (default 127.0.0.1)")
    return parser


def _setup_logging(verbose: int, quiet: bool, log_file: str | None = None) -> None:
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s" if verbose < 2
                                           else "%(levelname)s %(name)s: %(message)s"))
    handlers: list[logging.Handler] = [handler]
    if log_file:
        handler.setLevel(max(level, logging.WARNING))
        to_file = logging.FileHandler(log_file, encoding="utf-8")
        to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        to_file.setLevel(logging.DEBUG if verbose >= 2 else logging.INFO)
        handlers.append(to_file)
        level = min(level, to_file.level)
    root = logging.getLogger("feeds")
    for old in root.handlers:
        old.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    root.propagate = False


class _Stop:
    """SIGTERM and Ctrl-C ask the pass (or the loop) to stop at its next safe point; a second
    one stops at once.

    The handler sets a flag and logs. It runs between two bytecodes of whatever the main
    thread was doing, so it must take no lock that is not re-entrant (logging's are):
    setting a threading.Event there deadlocked when the signal came while the loop's sleep
    (Event.wait) held that event's lock, and then no signal could stop the loop. The sleep,
    wait(), wakes through signal.set_wakeup_fd: the signal's byte makes a pipe readable.
    """

    def __init__(self) -> None:
        self.requested = False

    def __enter__(self) -> _Stop:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._previous_fd = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        self._previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGTERM, signal.SIGINT)}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(self._previous_fd)
        os.close(self._read)
        os.close(self._write)

    def is_set(self) -> bool:
        return self.requested

    def wait(self, timeout: float) -> bool:
        """Sleep up to `timeout` seconds, less if a stop is asked; True if one was."""
        deadline = time.monotonic() + timeout
        while not self.requested and (left := deadline - time.monotonic()) > 0:
            if select.select([self._read], [], [], left)[0]:  # a signal came: drain its bytes, look again
                with contextlib.suppress(BlockingIOError):
                    while os.read(self._read, 512):
                        pass
        return self.requested

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        log.warning("%s: stopping at the next safe point (send it again to stop at once)",
                    signal.Signals(signum).name)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; output into a pipe whose reader went away (`feeds inspect … | head -1`)
    ends it quietly, with EXIT_PIPE, as SIGPIPE ends other commands (Python ignores SIGPIPE, and
    its sockets need that)."""
    try:
        status = _main(argv)
        sys.stdout.flush()  # what is still buffered: a reader gone shows here, not as a warning at exit
        return status
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that nothing left in the buffer is written at exit
        os.close(devnull)
        return EXIT_PIPE


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _setup_logging(args.verbose, args.quiet, args.log_file)
    except OSError as exc:
        print(f"feeds: --log-file {args.log_file}: {exc.strerror}; name a file in a folder you can write to",
              file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "init":  # (before loading: there is no file yet)
        return cmd_init(args.config)
    try:
        if args.command == "check":  # (it loads the configuration itself, and reports what is wrong with it)
            return cmd_check(args.config, args.now)
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
        if command == "status":
            return cmd_status(cfg, now, as_json=args.json)
        if command == "loop":
            return cmd_loop(cfg, args.now, quiet=args.quiet)
        if command == "digest":
            return cmd_digest(cfg, now, clock, period=args.period, preview=args.preview, send=args.send,
                              quiet=args.quiet)
        with _Stop() as stop:
            return cmd_run(cfg, now, clock, rebuild=getattr(args, "rebuild", False), quiet=args.quiet, stop=stop)
    except ConfigError as exc:
        print(f"feeds: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except LockedError as exc:
        print(f"feeds: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except StateFullError as exc:  # a disk full under the state: like one under out/, exit 1
        print(f"feeds: {exc}", file=sys.stderr)
        return EXIT_SKIPPED
    except FeedsError as exc:
        print(f"feeds: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        print("feeds: interrupted; what was stored and published before stays", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the output's reader went away: main() ends quietly
        raise
    except Exception:  # a bug, not bad input: show it whole, with its own exit status
        log.exception("unexpected error; please report it with the traceback above")
        return EXIT_SOFTWARE


def _progress():
    """A progress bar on a terminal, for passes over many dumps (a back-fill)."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar: list[tqdm] = []

    def show(n: int, total: int, path: str) -> None:
        if total < 20:
            return
        if not bar:
            try:  # a terminal that reports no width (some ptys) would get no bar at all
                width = os.get_terminal_size(sys.stderr.fileno()).columns or 80
            except OSError:
                width = 80
            bar.append(tqdm(total=total, unit="dump", desc="reading dumps", file=sys.stderr, leave=False,
                            ncols=min(width, 100)))
        bar[0].update(n - bar[0].n)
        if n == total:
            bar[0].close()
    return show


def _locked_store(cfg: config_mod.Config):
    from contextlib import ExitStack

    from feeds.lock import exclusive
    from feeds.store import Store

    stack = ExitStack()
    stack.enter_context(exclusive(cfg.state.path.with_name(cfg.state.path.name + ".lock")))
    try:
        return stack, stack.enter_context(Store(cfg.state.path))
    except BaseException:  # a store that cannot be opened: the lock is released at once
        stack.close()
        raise


def _said(store: Store, named: list[tuple[str, str]]) -> None:
    """These failed or unknown deliveries were named on stderr: the next pass does not name them
    again. (Recorded after saying them: a pass killed in between names them next time, not never.)"""
    if named:
        sys.stderr.flush()
        with store.transaction():
            store.set_named(named)


def cmd_run(cfg: config_mod.Config, now: datetime, clock, *, rebuild: bool, quiet: bool,
            stop: _Stop | None = None) -> int:
    from feeds.pipeline import BATCH_BYTES, check_templates, run_once

    # FEEDS_BATCH_BYTES: a smaller batch, for tests that kill passes half-way through many batches.
    batch_bytes = int(os.environ.get("FEEDS_BATCH_BYTES") or BATCH_BYTES)
    templates = check_templates(cfg)  # a template that is missing or broken stops the pass before the state is made
    first = not cfg.state.path.exists()
    stack, store = _locked_store(cfg)
    with stack:
        try:
            report = run_once(cfg, store, now, rebuild=rebuild, progress=_progress(), clock=clock,
                              should_stop=stop.is_set if stop else lambda: False, batch_bytes=batch_bytes,
                              templates=templates)
        except BaseException:
            if first and store.holds_nothing():  # a first pass that failed leaves no state behind
                store.remove()
            raise
        for line in report.skipped:
            print(f"feeds: skipped {line}", file=sys.stderr)
        for line in report.failed:
            print(f"feeds: quarantined {line}", file=sys.stderr)
        for line in report.problems:
            print(f"feeds: {line}", file=sys.stderr)
        _said(store, report.named)
    summary = report.summary()
    log.info("pass done: %s", summary)  # for --log-file
    print(f"feeds: {summary}", file=sys.stderr if quiet else sys.stdout, flush=True)
    return EXIT_SKIPPED if report.skipped or report.failed or report.problems else EXIT_OK


def cmd_loop(cfg: config_mod.Config, fixed: datetime | None, *, quiet: bool) -> int:
    """Passes on a schedule until SIGTERM or Ctrl-C. With --now, the clock starts there and runs on."""
    from feeds.scheduler import Loop

    if fixed is not None:
        if fixed.tzinfo is None:
            fixed = fixed.replace(tzinfo=cfg.site.tz)
        start = time.monotonic()

        def clock() -> datetime:
            return fixed + timedelta(seconds=time.monotonic() - start)
    else:
        def clock() -> datetime:
            return datetime.now(UTC)

    with _Stop() as stop:
        def one_pass(why: str) -> None:
            log.info("pass (%s)", why)
            try:
                cmd_run(cfg, clock(), clock, rebuild=False, quiet=quiet, stop=stop)
            except LockedError as exc:
                log.warning("%s", exc)

        print(f"feeds: loop started: a pass every {cfg.loop.interval} minute(s) and at the digest slot; "
              "SIGTERM or Ctrl-C stops it", flush=True)
        loop = Loop(cfg, one_pass, clock=clock, sleep=stop.wait, stop=stop)
        loop.run()
    print(f"feeds: loop stopped after {loop.passes} pass(es), {loop.failures} failed", flush=True)
    return EXIT_OK


def cmd_status(cfg: config_mod.Config, now: datetime, *, as_json: bool) -> int:
    from feeds.status import gather, render

    info = gather(cfg, now)
    print(json.dumps(info, ensure_ascii=False, indent=2) if as_json else render(info))
    return EXIT_OK


def cmd_digest(cfg: config_mod.Config, now: datetime, clock, *, period: str | None, preview: bool, send: bool,
               quiet: bool) -> int:
    from feeds.digest import archive, render, stage
    from feeds.publish.stage import fingerprint
    from feeds.publish.templates import Templates

    stamp = fingerprint(cfg, Templates(cfg).hash)
    stack, store = _locked_store(cfg)
    with stack:
        if send:
            outcome = stage.send(store, cfg, now, clock, period, stamp=stamp)
            for line in outcome.problems:
                print(f"feeds: {line}", file=sys.stderr)
            _said(store, outcome.named)
            print(f"feeds: {outcome.summary or 'nothing to send'}", file=sys.stderr if quiet else sys.stdout)
            return EXIT_SKIPPED if outcome.problems else EXIT_OK
        sel = stage.render(store, cfg, now, period, stamp=stamp)
        if not sel.posts:
            print(f"feeds: no posts for {sel.period} ({sel.period.describe()}); nothing written")
            return EXIT_OK
        if sel.kind == "due":
            print(f"{sel.period}: {len(sel.posts)} post(s), due now and not yet mailed: the next pass (or "
                  "digest --send) mails it and puts it in out/digests/")
        else:
            what = "as mailed" if sel.kind == "mailed" else "by publication date"
            print(f"{cfg.output.dir / 'digests' / f'{sel.period}.html'}  {len(sel.posts)} post(s), {what}")
        if preview:
            for path, size in archive.write_preview(cfg, sel):
                note = (f"  (after CSS inlining; the limit is {render.MAX_HTML_BYTES // 1000} KB)"
                        if path.suffix == ".html" else "")
                print(f"{path}  {size / 1000:.1f} KB{note}")
    return EXIT_OK


def cmd_check(path: str | None, now: datetime | None) -> int:
    from feeds.check import check

    return check(path, now)


def cmd_init(path: str | None) -> int:
    from feeds import starter

    target = Path(path or config_mod.DEFAULT_FILE)
    if target.is_dir():
        print(f"feeds: init: {target} is a folder; name the file to write, e.g. -c {target / config_mod.DEFAULT_FILE}",
              file=sys.stderr)
        return EXIT_CONFIG
    try:
        starter.write(target)
    except FileExistsError:
        print(f"feeds: init: {target} exists already and is left as it is; edit it, move it aside, or name "
              "another file with -c FILE", file=sys.stderr)
        return EXIT_CONFIG
    except OSError as exc:
        print(f"feeds: init: cannot write {target} ({exc.strerror or exc}); name a file in a folder you can "
              "write to with -c FILE", file=sys.stderr)
        return EXIT_CONFIG
    print(f"feeds: wrote {target}: set [site] title, url and base_url, then run `python -m feeds check`")
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
