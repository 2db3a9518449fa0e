"""The command line: ``python -m feeds [options] [command]``. Thin: parse, call, report.

The arguments are declared in feeds.arguments; each ``cmd_*`` takes them and calls one
function of the stage it names (a pass: feeds.runner), then says what came of it and
returns the exit status.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from feeds import config as config_mod
from feeds.arguments import build_parser
from feeds.errors import ConfigError, FeedsError, LockedError, StateFullError
from feeds.progress import Progress, bar
from feeds.runner import locked_store as _locked_store  # (the names cmd_digest uses)
from feeds.runner import record_named as _said
from feeds.runner import run_pass
from feeds.stopflag import Stop

if TYPE_CHECKING:
    from feeds.report import Report

log = logging.getLogger("feeds")

EXIT_OK, EXIT_SKIPPED, EXIT_CONFIG, EXIT_SOFTWARE, EXIT_LOCKED, EXIT_INTERRUPTED = 0, 1, 2, 70, 75, 130
EXIT_PIPE = 141  # 128 + SIGPIPE: what a shell shows for a writer whose reader went away

#: How a pass shows its progress: called once per pass, it gives the callback (or None: no display).
ProgressFactory = Callable[[], Progress | None]


def main(argv: Sequence[str] | None = None, *, progress: ProgressFactory = bar) -> int:
    """Run the command; output into a pipe whose reader went away (`feeds inspect … | head -1`)
    ends it quietly, with EXIT_PIPE, as SIGPIPE ends other commands (Python ignores SIGPIPE, and
    its sockets need that). `progress`: a bar on a terminal, by default."""
    try:
        status = _main(argv, progress)
        sys.stdout.flush()  # what is still buffered: a reader gone shows here, not as a warning at exit
        return status
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that nothing left in the buffer is written at exit
        os.close(devnull)
        return EXIT_PIPE


def _main(argv: Sequence[str] | None, progress: ProgressFactory) -> int:
    args = build_parser().parse_args(argv)
    try:
        _setup_logging(args.verbose, args.quiet, args.log_file)
    except OSError as exc:
        print(f"feeds: --log-file {args.log_file}: {exc.strerror}; name a file in a folder you can write to",
              file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "init":  # (before loading: there is no file yet)
        return cmd_init(args.config)
    try:
        return _command(args, progress)
    except BrokenPipeError:  # the output's reader went away: main() ends quietly
        raise
    except (FeedsError, KeyboardInterrupt) as exc:
        return _refused(exc)
    except Exception:  # a bug, not bad input: show it whole, with its own exit status
        log.exception("unexpected error; please report it with the traceback above")
        return EXIT_SOFTWARE


def _command(args: argparse.Namespace, progress: ProgressFactory) -> int:
    """Load the configuration, fix the clock, run the command named."""
    if args.command == "check":  # (it loads the configuration itself, and reports what is wrong with it)
        return cmd_check(args.config, args.now)
    cfg = config_mod.load(args.config)
    now = args.now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=cfg.site.tz)
    command = args.command or "run"
    if command == "inspect":
        if args.explain:
            return cmd_explain(cfg, args.paths, now, as_json=args.json)
        return cmd_inspect(cfg, args.paths, now, as_json=args.json)
    if command == "entries":
        return cmd_entries(cfg, args, now)
    if command == "subscribers":
        return cmd_subscribers(cfg, args, now)
    if command == "bounces":
        from feeds import bounces

        return bounces.run(cfg, Path(args.mailbox), now)
    clock = (lambda: now) if args.now else (lambda: datetime.now(UTC))
    if command == "serve":
        return cmd_serve(cfg, args.bind, args.port)
    if command == "status":
        return cmd_status(cfg, now, as_json=args.json)
    if command == "loop":
        return cmd_loop(cfg, args.now, quiet=args.quiet, progress=progress)
    if command == "digest":
        return cmd_digest(cfg, now, clock, period=args.period, preview=args.preview, send=args.send,
                          quiet=args.quiet)
    with Stop() as stop:
        return cmd_run(cfg, now, clock, rebuild=getattr(args, "rebuild", False), quiet=args.quiet, stop=stop,
                       progress=progress)


def _refused(exc: FeedsError | KeyboardInterrupt) -> int:
    """An error feeds reports to its user (or a second Ctrl-C): one line on stderr, and its exit status."""
    if isinstance(exc, KeyboardInterrupt):
        print("feeds: interrupted; what was stored and published before stays", file=sys.stderr)
        return EXIT_INTERRUPTED
    if isinstance(exc, ConfigError):
        print(f"feeds: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"feeds: {exc}", file=sys.stderr)
    if isinstance(exc, LockedError):
        return EXIT_LOCKED
    return EXIT_SKIPPED if isinstance(exc, StateFullError) else EXIT_CONFIG  # a disk full under the state: as out/


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


def cmd_run(cfg: config_mod.Config, now: datetime, clock: Callable[[], datetime], *, rebuild: bool, quiet: bool,
            stop: Stop | None = None, progress: ProgressFactory = bar) -> int:
    # FEEDS_BATCH_BYTES: a smaller batch, for tests that kill passes half-way through many batches.
    batch = os.environ.get("FEEDS_BATCH_BYTES")
    report = run_pass(cfg, now, clock, rebuild=rebuild, progress=progress(), tell=_tell,
                      should_stop=stop.is_set if stop else lambda: False, batch_bytes=int(batch) if batch else None)
    summary = report.summary()
    log.info("pass done: %s", summary)  # for --log-file
    print(f"feeds: {summary}", file=sys.stderr if quiet else sys.stdout, flush=True)
    return EXIT_SKIPPED if report.skipped or report.failed or report.problems else EXIT_OK


def _tell(report: Report) -> None:
    """What a pass skipped, quarantined or could not do: a line each on stderr."""
    for line in report.skipped:
        print(f"feeds: skipped {line}", file=sys.stderr)
    for line in report.failed:
        print(f"feeds: quarantined {line}", file=sys.stderr)
    for line in report.problems:
        print(f"feeds: {line}", file=sys.stderr)


def cmd_loop(cfg: config_mod.Config, fixed: datetime | None, *, quiet: bool, progress: ProgressFactory = bar) -> int:
    """Passes on a schedule until SIGTERM or Ctrl-C."""
    from feeds.scheduler import Loop

    clock = _running_clock(fixed, cfg.site.tz)
    with Stop() as stop:
        def one_pass(why: str) -> None:
            log.info("pass (%s)", why)
            try:
                cmd_run(cfg, clock(), clock, rebuild=False, quiet=quiet, stop=stop, progress=progress)
            except LockedError as exc:
                log.warning("%s", exc)

        print(f"feeds: loop started: a pass every {cfg.loop.interval} minute(s) and at the digest slot; "
              "SIGTERM or Ctrl-C stops it", flush=True)
        loop = Loop(cfg, one_pass, clock=clock, sleep=stop.wait, stop=stop)
        loop.run()
    print(f"feeds: loop stopped after {loop.passes} pass(es), {loop.failures} failed", flush=True)
    return EXIT_OK


def _running_clock(fixed: datetime | None, tz: tzinfo) -> Callable[[], datetime]:
    """The real clock; with --now, one that starts there (in the site's zone when it has none) and runs on."""
    if fixed is None:
        return lambda: datetime.now(UTC)
    start_at = fixed if fixed.tzinfo else fixed.replace(tzinfo=tz)
    start = time.monotonic()
    return lambda: start_at + timedelta(seconds=time.monotonic() - start)


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


def cmd_entries(cfg: config_mod.Config, args: argparse.Namespace, now: datetime) -> int:
    from feeds import entries

    if args.action == "list":
        return entries.list_entries(cfg, as_json=args.json)
    return entries.remove(cfg, args.ref, now, undo=args.undo)


def cmd_subscribers(cfg: config_mod.Config, args: argparse.Namespace, now: datetime) -> int:
    from feeds import subscribers

    if args.action == "list":
        return subscribers.list_subscribers(cfg, status=args.status, as_json=args.json)
    if args.action == "export":
        return subscribers.export(cfg, status=args.status)
    if args.action == "import":
        return subscribers.import_file(cfg, Path(args.file), now)
    return (subscribers.add if args.action == "add" else subscribers.remove)(cfg, args.addresses, now)


def cmd_explain(cfg: config_mod.Config, paths: Sequence[str], now: datetime, *, as_json: bool) -> int:
    from feeds.inspect import explain_paths, explained

    pages, errors = explain_paths(cfg, paths, now)
    for err in errors:
        print(f"feeds: skipped {err}", file=sys.stderr)
    for page in pages:
        print(json.dumps(page, ensure_ascii=False) if as_json else explained(page))
    return EXIT_SKIPPED if errors or any(not p["posts"] for p in pages) else EXIT_OK


def cmd_serve(cfg: config_mod.Config, bind: str, port: int) -> int:
    from feeds.serve import serve

    return serve(cfg, bind, port)
