"""Shared fixtures: a project directory with its own config, and the real CLI, in this process or as a
subprocess."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import pytest

from feeds import config

REPO = Path(__file__).resolve().parent.parent
SEEDS = sorted((REPO / "seeds").glob("*.txt"))
#: Other sites' saved pages, with their expected extractions: kept in the shared folder beside
#: the clone (CI has it there), never copied into the project (tests/html/README.md).
SHARED_HTML = REPO.parent / "shared" / "html-dumps"
NOW = "2025-03-01T09:00:00+00:00"


def examples(full: int, quick: int, env: Mapping[str, str] = os.environ) -> int:
    """A hypothesis test's number of examples: `full` with FEEDS_TESTS=full (.ci/run sets it),
    `quick` in the default local run (also a count of rounds for a test that is not hypothesis's)."""
    return full if env.get("FEEDS_TESTS") == "full" else quick

SITE = """\
[site]
title = "Friends of Socialist China"
url = "https://socialistchina.org/"
base_url = "http://127.0.0.1:8000/"
author = "Friends of Socialist China"
language = "en-GB"
timezone = "Europe/London"
description = "Posts from socialistchina.org, as feeds"
"""


def write_config(root: Path, paths: list[str], extra: str = "") -> Path:
    cfg = root / "feeds.toml"
    quoted = ", ".join(f'"{p}"' for p in paths)
    cfg.write_text(f'{SITE}\n[input]\npaths = [{quoted}]\n{extra}\n[output]\ndir = "{root / "out"}"\n'
                   f'[state]\npath = "{root / "state" / "feeds.sqlite3"}"\n', encoding="utf-8")
    return cfg


#: What the command line's process is given besides its arguments: the time zone and locale pinned.
CLI_ENV = {"TZ": "UTC", "LC_ALL": "C.UTF-8"}


def run_process(*args: str, cwd: Path | None = None, check: bool = False,
                env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m feeds ARGS` as a separate process: for what only a process shows (its entry
    point, signals, pipes, locks between processes, a module imported afresh)."""
    environ = {**os.environ, "PYTHONPATH": str(REPO), **CLI_ENV, **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "feeds", *args], cwd=cwd or REPO, env=environ,
                          capture_output=True, text=True, timeout=300)
    return _checked(proc, check)


def run_cli(*args: str, cwd: Path | None = None, check: bool = False,
            env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m feeds ARGS` in this process: `feeds.cli.main(ARGS)` in `cwd` with the
    process's environment (TZ, LC_ALL, and `env`), its stdout and stderr captured as the process's pipes
    would be, its exit status as the process's. Everything it sets is put back: the working
    folder, the environment, the "feeds" logger, sys.stdout and sys.stderr (and the signal
    handlers, which the command puts back itself: tests/test_harness.py checks it all)."""
    from feeds import cli

    out, err = io.StringIO(), io.StringIO()
    with _as_a_process(cwd or REPO, {**CLI_ENV, **(env or {})}):
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cli.main(list(args))
            except SystemExit as exc:  # argparse: usage errors, --help, --version
                status = _exit_status(exc.code, err)
            except Exception:  # uncaught: Python prints the traceback and exits with 1
                traceback.print_exc(file=err)
                status = 1
    proc = subprocess.CompletedProcess(["python", "-m", "feeds", *args], status,
                                       _as_read_from_a_pipe(out.getvalue()), _as_read_from_a_pipe(err.getvalue()))
    return _checked(proc, check)


def _exit_status(code: object, err: io.StringIO) -> int:
    if code is None or isinstance(code, int):
        return code or 0
    print(code, file=err)  # SystemExit("message"), as the interpreter shows it
    return 1


def _as_read_from_a_pipe(text: str) -> str:
    """What `subprocess.run(text=True)` reads: UTF-8 (a character the process could not have
    written fails here, as it would there) with universal newlines."""
    text.encode("utf-8")
    return text.replace("\r\n", "\n").replace("\r", "\n")


@contextlib.contextmanager
def _as_a_process(cwd: Path, env: Mapping[str, str]):
    logger = logging.getLogger("feeds")
    saved_logger = (logger.handlers[:], logger.level, logger.propagate)
    saved_env = {name: os.environ.get(name) for name in env}
    saved_cwd = os.getcwd()
    os.environ.update(env)
    time.tzset()
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        time.tzset()
        for handler in logger.handlers:
            if handler not in saved_logger[0]:
                handler.close()  # (a --log-file's file)
        logger.handlers[:], logger.level, logger.propagate = saved_logger


def _checked(proc: subprocess.CompletedProcess[str], check: bool) -> subprocess.CompletedProcess[str]:
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def shown(detail) -> str:
    """What a reader shows for a text construct that feedparser parsed (a title, a summary):
    plain text as it is, HTML as a browser renders it (its text)."""
    if detail.type == "text/html":
        import warnings

        from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning
        with warnings.catch_warnings():  # (a title such as "a.html" is text, not a file name)
            warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
            return BeautifulSoup(detail.value, "html.parser").get_text()
    assert detail.type == "text/plain", detail.type
    return detail.value


def make_site(root: Path, dumps: dict[str, str | bytes]) -> config.Config:
    """A config for in-process passes over root/dumps/*.txt, with these dumps written there."""
    folder = root / "dumps"
    folder.mkdir(exist_ok=True)
    for name, content in dumps.items():
        path = folder / f"{name}.txt"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return config.parse({"site": {"title": "T", "url": "https://example.org/", "timezone": "Europe/London"},
                         "input": {"paths": [str(folder / "*.txt")]}, "output": {"dir": str(root / "out")},
                         "state": {"path": str(root / "state" / "feeds.sqlite3")}})


def seeds_site_and_reference(root: Path, name: str, now: datetime) -> tuple[config.Config, dict[str, bytes]]:
    """A fresh site over copies of the seeds in root/name, and the files (out/ path -> bytes)
    that one uninterrupted pass over them at `now` writes, made in root/reference."""
    from feeds.pipeline import run_once
    from feeds.store import Store

    seeds = {s.stem: s.read_bytes() for s in SEEDS}
    for folder in ("reference", name):
        (root / folder).mkdir()
    reference = make_site(root / "reference", seeds)
    with Store(reference.state.path) as store:
        run_once(reference, store, now)
    files = {p.relative_to(reference.output.dir).as_posix(): p.read_bytes()
             for p in sorted(reference.output.dir.rglob("*")) if p.is_file()}
    return make_site(root / name, seeds), files


@pytest.fixture
def project(tmp_path: Path):
    """A directory with a feeds.toml reading copies of the seeds from tmp_path/seeds."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for s in SEEDS:
        (seeds / s.name).write_bytes(s.read_bytes())
    cfg = write_config(tmp_path, [str(seeds / "*.txt")])
    return tmp_path, cfg
