"""Crash safety: a real `python -m feeds` killed with SIGKILL at random moments of passes over a
large input. After every kill, every file in out/ parses and the store passes
`PRAGMA integrity_check`; when a pass completes, out/ is byte for byte what an
uninterrupted pass writes. And two passes started at once: exactly one does the work.

The default run kills 8 passes, so a crash regression shows there too; the `slow` run (`pytest
-m slow`, in CI) kills FEEDS_KILL_ROUNDS (default 200). The kills are shared among as many
workers as there are cores.
"""

from __future__ import annotations

import email
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from email import policy
from pathlib import Path

import feedparser
import pytest
from bs4 import BeautifulSoup
from conftest import REPO
from lxml import etree

sys.path.insert(0, str(REPO / "bench"))
from bench import build_corpus  # noqa: E402

NOW = "2025-02-24T09:00:00+00:00"  # the digest of 2025-W08 is due: it is mailed (to the outbox) too
ROUNDS = int(os.environ.get("FEEDS_KILL_ROUNDS", "200"))
QUICK_ROUNDS = 8
SERIES = 8  # kills in a row, then a pass runs to its end
BATCH = "300000"  # bytes: a pass stores the 40 dumps in about 15 batches, so kills land between them


def _config(root: Path, corpus: Path) -> Path:
    cfg = root / "feeds.toml"
    cfg.write_text(f'[site]\ntitle = "Crash"\nurl = "https://example.org/"\ntimezone = "Europe/London"\n'
                   f'[input]\npaths = ["{corpus}/*.txt"]\n[digest]\nrecipients = ["a@example.org", '
                   f'"b@example.org"]\n[output]\ndir = "{root / "out"}"\n'
                   f'[state]\npath = "{root / "state" / "feeds.sqlite3"}"\n', encoding="utf-8")
    return cfg


def _command(cfg: Path) -> list[str]:
    return [sys.executable, "-m", "feeds", "-c", str(cfg), "--now", NOW, "-q"]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "FEEDS_BATCH_BYTES": BATCH}


def _tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


class Checker:
    """Checks the files that changed since it last looked (an unchanged file was checked then)."""

    def __init__(self) -> None:
        self.seen: dict[Path, tuple[int, int]] = {}
        self.checked = 0

    def out(self, out: Path) -> None:
        for path in out.rglob("*"):
            if not path.is_file() or path.name.endswith(".tmp"):  # a killed write's leftover: swept next pass
                continue
            stamp = (path.stat().st_mtime_ns, path.stat().st_size)
            if self.seen.get(path) == stamp:
                continue
            self.seen[path] = stamp
            self.checked += 1
            data = path.read_bytes()
            if path.suffix == ".xml":
                parsed = feedparser.parse(data)
                assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
                assert parsed.version == ("rss20" if path.name == "rss.xml" else "atom10"), path
            elif path.suffix == ".html":
                text = data.decode("utf-8")
                assert text.rstrip().endswith("</html>"), f"{path} is cut short"
                assert BeautifulSoup(text, "html.parser").find("body") is not None, path
            elif path.suffix == ".json":
                assert json.loads(data)["version"] == "https://jsonfeed.org/version/1.1", path
            elif path.suffix == ".xsl":
                etree.fromstring(data)  # raises if cut short
            elif path.suffix == ".eml":
                msg = email.message_from_bytes(data, policy=policy.default)
                assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"], path
            else:
                raise AssertionError(f"unexpected file {path}")

    @staticmethod
    def store(db: Path) -> None:
        if not db.exists():
            return
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if con.execute("PRAGMA user_version").fetchone()[0] == 0:
                assert not tables  # killed before the schema was made: it is made whole or not at all
            else:
                assert {"entries", "dumps", "digests", "deliveries"} <= tables
        finally:
            con.close()


def _worker(root: Path, corpus: Path, reference: dict[str, bytes], rounds: int, seed: int,
            results: dict[str, object], longest: float, idle: float) -> None:
    rng = random.Random(seed)
    cfg = _config(root, corpus)
    out, db = root / "out", root / "state" / "feeds.sqlite3"
    checker = Checker()
    kills = completed = 0
    try:
        # Kills, not passes, are counted: a pass that ends before its kill (it had little left to
        # do, or the machine was quicker than when the reference was timed) does not use up a kill.
        # The cap only stops a worker whose passes all end first; the test then reports too few.
        # A kill lands anywhere in what is left of the work: a whole pass's time after a fresh
        # start, less what the killed passes did (their time beyond a pass's start-up, `idle`).
        # After SERIES kills in a row a pass runs to its end, is compared with the reference, and
        # the worker starts afresh.
        window, series = longest, 0
        for _ in range(rounds * 4):
            if kills >= rounds:
                break
            proc = subprocess.Popen(_command(cfg), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            at = 300.0 if series >= SERIES else rng.uniform(0.05, window)
            try:
                proc.wait(timeout=at)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                assert series < SERIES, "a pass left to run to its end was still running after 300 s"
                kills += 1
                series += 1
                window = max(idle * 1.5, window - max(0.0, at - idle))
            else:  # the pass finished before the kill: its output must be the uninterrupted one
                window, series = longest, 0
                assert proc.returncode == 0, proc.stderr.read().decode()  # type: ignore[union-attr]
                assert _tree(out) == reference, "a completed pass after kills differs from an uninterrupted one"
                completed += 1
                shutil.rmtree(out, ignore_errors=True)
                shutil.rmtree(root / "state", ignore_errors=True)
                checker.seen.clear()
            finally:
                if proc.stderr:
                    proc.stderr.close()
            checker.out(out)
            checker.store(db)
        # Finish: a normal pass completes whatever the last kill interrupted.
        done = subprocess.run(_command(cfg), env=_env(), capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        checker.out(out)
        checker.store(db)
        assert _tree(out) == reference
        results[f"worker {seed}"] = (kills, completed, checker.checked)
    except BaseException as exc:  # reported by the test
        results[f"worker {seed}"] = exc


@pytest.mark.parametrize("rounds", [pytest.param(QUICK_ROUNDS, id="quick"),
                                    pytest.param(ROUNDS, id="full", marks=pytest.mark.slow)])
def test_sigkill_at_random_points_loses_nothing_and_breaks_nothing(tmp_path, rounds):
    corpus = tmp_path / "corpus"
    manifest = build_corpus(corpus, 40, seed=7, rebuild=True)
    ref_root = tmp_path / "reference"
    ref_root.mkdir()
    started = time.monotonic()
    ref = subprocess.run(_command(_config(ref_root, corpus)), env=_env(), capture_output=True, text=True,
                         timeout=300)
    # A whole pass's time (alone on the machine), and a pass's with nothing to do: the worker's
    # kills land within what is left of the work (counting kills, not passes, where a window of a
    # whole pass's time let 85 of 200 passes end on CI, and 9 of 20 in another run, too few kills).
    longest = time.monotonic() - started
    assert ref.returncode == 0, ref.stderr
    reference = _tree(ref_root / "out")
    started = time.monotonic()  # a pass with nothing to do: its start-up, reading the state, checking
    again = subprocess.run(_command(_config(ref_root, corpus)), env=_env(), capture_output=True, text=True,
                           timeout=300)
    idle = time.monotonic() - started
    assert again.returncode == 0, again.stderr
    assert _tree(ref_root / "out") == reference, "a second pass with nothing new changed a file"
    distinct = {p["title"] for f in manifest["files"] for p in f["posts"]}  # (pages share posts)
    assert len([n for n in reference if n.startswith("posts/")]) == len(distinct) == 720
    assert sorted(n for n in reference if n.startswith("outbox/")) == [
        "outbox/2025-W08/a@example.org.eml", "outbox/2025-W08/b@example.org.eml"]

    workers = max(1, min(4, os.cpu_count() or 1))
    results: dict[str, object] = {}
    threads = []
    for w in range(workers):
        root = tmp_path / f"run{w}"
        root.mkdir()
        share = rounds // workers + (1 if w < rounds % workers else 0)
        threads.append(threading.Thread(target=_worker, args=(root, corpus, reference, share, w, results, longest, idle)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failures = {k: v for k, v in results.items() if isinstance(v, BaseException)}
    if failures:
        raise next(iter(failures.values()))
    kills = sum(v[0] for v in results.values())  # type: ignore[index]
    completed = sum(v[1] for v in results.values())  # type: ignore[index]
    print(f"\n{kills} kills, {completed} passes completed between them, over {workers} worker(s)")
    assert kills == rounds, f"only {kills} of {rounds} passes were killed before they ended"
    # The full run also sees passes complete between kills (after each SERIES of kills at the
    # latest), and compares each with the reference; in both, the last pass, after the last kill, is.
    assert completed >= 1 or rounds == QUICK_ROUNDS
    for w in range(workers):
        assert not list((tmp_path / f"run{w}" / "out").rglob("*.tmp")), "temporary files left behind"


def test_two_passes_started_at_once_one_does_the_work(tmp_path):
    corpus = tmp_path / "corpus"
    build_corpus(corpus, 40, seed=3, rebuild=True)
    cfg = _config(tmp_path, corpus)
    procs = [subprocess.Popen(_command(cfg), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 75], outputs
    loser = outputs[[p.returncode for p in procs].index(75)]
    assert "another feeds pass is running" in loser[1] and loser[0] == ""
    con = sqlite3.connect(tmp_path / "state" / "feeds.sqlite3")
    assert con.execute("SELECT count(*) FROM entries").fetchone()[0] == 720  # 40 linked pages of 20 posts
    con.close()


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_sigterm_or_ctrl_c_stops_a_pass_at_a_safe_point(tmp_path, signal_name):
    import signal as signals

    corpus = tmp_path / "corpus"
    build_corpus(corpus, 40, seed=5, rebuild=True)
    cfg = _config(tmp_path, corpus)
    proc = subprocess.Popen(_command(cfg)[:-1], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Into the pass: once its first batch is stored. The signal lands while it stores the other
    # batches or, on a slow machine, while it publishes or mails; the pass stops at a safe point either
    # way (it has two emails to write after publishing).
    _wait_for_entries(tmp_path / "state" / "feeds.sqlite3", proc)
    proc.send_signal(getattr(signals, signal_name))
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "stopping at the next safe point" in stderr and stdout.startswith("feeds: stopped at a safe point as asked")
    Checker.store(tmp_path / "state" / "feeds.sqlite3")
    again = subprocess.run(_command(cfg)[:-1], env=_env(), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr  # the lock was released; the next pass completes the work
    con = sqlite3.connect(tmp_path / "state" / "feeds.sqlite3")
    assert con.execute("SELECT count(*) FROM entries").fetchone()[0] == 720  # 40 linked pages of 20 posts
    con.close()


def _wait_for_entries(db: Path, proc: subprocess.Popen) -> None:
    """Until a pass has committed some entries (or ended: the test's own assertions then say why)."""
    while proc.poll() is None:
        if db.exists():
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            try:
                if con.execute("SELECT count(*) FROM entries").fetchone()[0]:
                    return
            except sqlite3.OperationalError:  # no table yet: the schema is being applied
                pass
            finally:
                con.close()
        time.sleep(0.005)
