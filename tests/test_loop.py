"""The scheduler loop with an injected clock: no real sleeping, real passes on a real store.

`schedule` reads the clock itself (`datetime.datetime.now()`), as its own tests know:
here its `datetime` is pointed at the same fake clock the loop is given.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import textwrap
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import schedule
from conftest import examples, make_site

from feeds import pipeline
from feeds.digest.period import Schedule
from feeds.errors import ConfigError
from feeds.lock import exclusive
from feeds.scheduler import Loop
from feeds.store import Store


class FakeTime:
    """A clock that moves only when the loop sleeps; it stops the loop at `end`."""

    def __init__(self, start: datetime, end: datetime):
        self.now, self.end = start, end
        self.naps: list[float] = []

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> bool:
        assert seconds > 0, "the loop must never spin"
        self.naps.append(seconds)
        self.now = min(self.now + timedelta(seconds=seconds), self.end)
        return self.now >= self.end

    def jump(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def fake_schedule_clock(monkeypatch):
    """Point `schedule`'s clock at a FakeTime (set its .time before use)."""
    holder: dict[str, FakeTime] = {}

    class FakeDatetime(dt.datetime):
        @classmethod
        def now(cls, tz=None):  # naive local time when tz is None, as schedule expects
            moment = holder["time"].now
            return moment.astimezone(tz) if tz else moment.astimezone().replace(tzinfo=None)

    monkeypatch.setattr(schedule, "datetime", types.SimpleNamespace(datetime=FakeDatetime, time=dt.time,
                                                                    timedelta=dt.timedelta))
    return holder


def _dump(*titles: str) -> str:
    return "\n\n".join(f"{t}\n\nThe opening paragraph of the post, long enough to read as prose here.\n\n"
                       f"Continue reading {t}" for t in titles)


def _site(tmp_path: Path, interval: int = 60):
    cfg = make_site(tmp_path, {"first": _dump("The first post the site ever had")})
    return dataclasses.replace(cfg, loop=dataclasses.replace(cfg.loop, interval=interval),
                               digest=dataclasses.replace(cfg.digest, recipients=("reader@example.org",)))


def _passes(cfg, time: FakeTime, drops: dict[datetime, tuple[str, str]] | None = None):
    """A real pass, as the CLI runs it (lock, store, run_once), dropping dumps in when their time comes."""
    log: list[tuple[str, datetime]] = []
    drops = dict(drops or {})

    def one_pass(why: str) -> None:
        for when in sorted(drops):
            if when <= time.now:
                name, text = drops.pop(when)
                (Path(cfg.input.paths[0]).parent / name).write_text(text, encoding="utf-8")
        log.append((why, time.now))
        with exclusive(cfg.state.path.with_name("feeds.sqlite3.lock")), Store(cfg.state.path) as store:
            pipeline.run_once(cfg, store, time.now)
    return one_pass, log


def _mailed(cfg) -> dict[str, str]:
    with Store(cfg.state.path) as store:
        return {r["period"]: r["composed"] for r in store.digests() if r["kind"] == "mailed"}


def test_a_week_of_passes_sends_one_digest_at_its_slot(tmp_path, fake_schedule_clock):
    cfg = _site(tmp_path)
    time = FakeTime(datetime(2025, 2, 10, 9, 30, tzinfo=UTC), datetime(2025, 2, 17, 12, 0, tzinfo=UTC))
    fake_schedule_clock["time"] = time
    # A new dump lands on Wednesday: the next pass publishes it; the digest announces it on Monday.
    one_pass, log = _passes(cfg, time, {datetime(2025, 2, 12, 14, 0, tzinfo=UTC):
                                        ("wednesday.txt", _dump("News from the middle of the week"))})
    loop = Loop(cfg, one_pass, clock=time.clock, sleep=time.sleep)
    loop.run()

    whys = [w for w, _ in log]
    assert whys[0] == "start" and whys.count("digest slot") == 1
    assert 7 * 24 - 2 <= whys.count("interval") <= 7 * 24 + 3  # hourly, for a week
    assert max(time.naps) <= 3600 and loop.failures == 0
    # At start, W06's digest (of the first post) was due: composed then. W07's at its slot, 08:00.
    assert _mailed(cfg) == {"2025-W06": "2025-02-10T09:30:00+00:00", "2025-W07": "2025-02-17T08:00:00+00:00"}
    with Store(cfg.state.path) as store:
        assert [p.key for p in store.digest_posts("2025-W07")] == ["news from the middle of the week"]
    published = [when for why, when in log if why == "interval" and when >= datetime(2025, 2, 12, 14, tzinfo=UTC)]
    page = tmp_path / "out" / "posts" / "news-from-the-middle-of-the-week.html"
    assert page.is_file() and published[0] < datetime(2025, 2, 12, 15, 1, tzinfo=UTC)  # the next pass
    outbox = sorted((tmp_path / "out" / "outbox").rglob("*.eml"))
    assert [p.relative_to(tmp_path / "out" / "outbox").as_posix() for p in outbox] == \
        ["2025-W06/reader@example.org.eml", "2025-W07/reader@example.org.eml"]


def test_a_slot_missed_while_down_is_caught_up_once_at_start(tmp_path, fake_schedule_clock):
    cfg = _site(tmp_path)
    before = FakeTime(datetime(2025, 2, 14, 9, 0, tzinfo=UTC), datetime(2025, 2, 14, 9, 0, tzinfo=UTC))
    fake_schedule_clock["time"] = before
    _passes(cfg, before)[0]("start")  # up on Friday, then down over Monday's slot
    (tmp_path / "dumps" / "weekend.txt").write_text(_dump("A post from the weekend"), encoding="utf-8")

    time = FakeTime(datetime(2025, 2, 19, 10, 15, tzinfo=UTC), datetime(2025, 2, 21, 10, 0, tzinfo=UTC))
    fake_schedule_clock["time"] = time
    one_pass, log = _passes(cfg, time)
    Loop(cfg, one_pass, clock=time.clock, sleep=time.sleep).run()
    mailed = _mailed(cfg)
    assert mailed["2025-W07"] == "2025-02-19T10:15:00+00:00"  # at start: once, not zero times
    assert sorted(mailed) == ["2025-W06", "2025-W07"]  # not once per pass
    assert len(log) > 40


def test_the_slot_follows_the_site_clock_across_a_dst_change(tmp_path, fake_schedule_clock):
    cfg = _site(tmp_path, interval=180)
    # Clocks go forward on Sunday 30 March 2025: Monday's 08:00 in London is 07:00 UTC.
    time = FakeTime(datetime(2025, 3, 27, 12, 0, tzinfo=UTC), datetime(2025, 3, 31, 9, 0, tzinfo=UTC))
    fake_schedule_clock["time"] = time
    one_pass, log = _passes(cfg, time, {datetime(2025, 3, 28, 12, tzinfo=UTC): ("late.txt", _dump("A March post"))})
    Loop(cfg, one_pass, clock=time.clock, sleep=time.sleep).run()
    assert ("digest slot", datetime(2025, 3, 31, 7, 0, tzinfo=UTC)) in log
    assert _mailed(cfg)["2025-W13"] == "2025-03-31T07:00:00+00:00"
    # And back in autumn: Monday 27 October 2025 08:00 GMT is 08:00 UTC.
    assert Schedule.of(cfg).next_due(datetime(2025, 10, 25, 12, tzinfo=UTC)) == datetime(2025, 10, 27, 8, tzinfo=UTC)


def test_a_daily_loop_runs_a_pass_at_each_days_local_hour_across_a_dst_change(tmp_path, fake_schedule_clock):
    cfg = _site(tmp_path, interval=180)
    cfg = dataclasses.replace(cfg, digest=dataclasses.replace(cfg.digest, every="day"))
    time = FakeTime(datetime(2025, 3, 28, 9, 0, tzinfo=UTC), datetime(2025, 3, 31, 9, 0, tzinfo=UTC))
    fake_schedule_clock["time"] = time
    one_pass, log = _passes(cfg, time, {datetime(2025, 3, 29, 12, tzinfo=UTC): ("sat.txt", _dump("A Saturday post"))})
    Loop(cfg, one_pass, clock=time.clock, sleep=time.sleep).run()
    # 08:00 in London: GMT on Saturday 29 March, BST from Sunday 30 March.
    assert [when for why, when in log if why == "digest slot"] == [
        datetime(2025, 3, 29, 8, tzinfo=UTC), datetime(2025, 3, 30, 7, tzinfo=UTC), datetime(2025, 3, 31, 7, tzinfo=UTC)]
    assert _mailed(cfg) == {"2025-03-27": "2025-03-28T09:00:00+00:00", "2025-03-29": "2025-03-30T07:00:00+00:00"}


def test_a_pass_that_raises_does_not_stop_the_loop(tmp_path, fake_schedule_clock, caplog):
    cfg = _site(tmp_path)
    time = FakeTime(datetime(2025, 2, 10, 9, 0, tzinfo=UTC), datetime(2025, 2, 10, 15, 0, tzinfo=UTC))
    fake_schedule_clock["time"] = time
    calls: list[str] = []

    def flaky(why: str) -> None:
        calls.append(why)
        if len(calls) in (1, 3):
            raise RuntimeError(f"disk on fire (call {len(calls)})")
        if len(calls) == 4:
            raise ConfigError("output.templates", "/t", "a folder with every template; /t/post.html.j2 is missing")

    with caplog.at_level(logging.ERROR, logger="feeds"):
        loop = Loop(cfg, flaky, clock=time.clock, sleep=time.sleep)
        loop.run()
    assert len(calls) == 6 and loop.failures == 3  # start at 9, then hourly from 10 to 14 (15:00 ends the test)
    failures = [r for r in caplog.records if r.exc_info]  # a bug: with its traceback
    assert len(failures) == 2 and "disk on fire (call 3)" in str(failures[1].exc_info[1])
    [bad_input] = [r.getMessage() for r in caplog.records if not r.exc_info]  # bad input: its message, one line
    assert "the pass (interval) failed: feeds.toml: output.templates = '/t' is invalid" in bad_input


def test_a_clock_that_jumps_back_neither_resends_nor_skips(tmp_path, fake_schedule_clock):
    cfg = _site(tmp_path, interval=120)
    time = FakeTime(datetime(2025, 2, 16, 9, 0, tzinfo=UTC), datetime(2025, 2, 24, 12, 0, tzinfo=UTC))
    fake_schedule_clock["time"] = time
    one_pass, log = _passes(cfg, time, {datetime(2025, 2, 16, 10, tzinfo=UTC): ("a.txt", _dump("Sunday news")),
                                        datetime(2025, 2, 19, 10, tzinfo=UTC): ("b.txt", _dump("Wednesday news"))})
    jumped = []

    def sleep(seconds: float) -> bool:
        stop = time.sleep(seconds)
        if not jumped and time.now >= datetime(2025, 2, 17, 10, tzinfo=UTC):
            jumped.append(time.now)
            time.jump(timedelta(days=-1))  # back to Sunday, after W07's digest went out
        return stop

    Loop(cfg, one_pass, clock=time.clock, sleep=sleep).run()
    assert jumped
    mailed = _mailed(cfg)
    # W06 at start (the first post); W07 once, though its slot came round twice; then W08.
    assert sorted(mailed) == ["2025-W06", "2025-W07", "2025-W08"]
    assert mailed["2025-W07"] == "2025-02-17T08:00:00+00:00"
    with Store(cfg.state.path) as store:
        assert [p.key for p in store.digest_posts("2025-W07")] == ["sunday news"]
        assert [p.key for p in store.digest_posts("2025-W08")] == ["wednesday news"]
        assert [r["recipient"] for r in store.deliveries("2025-W07")] == ["reader@example.org"]
    assert len(list((tmp_path / "out" / "outbox" / "2025-W07").iterdir())) == 1


def test_a_stop_signal_during_the_loops_sleep_never_deadlocks():
    """SIGTERM arriving at any moment of the loop's sleep stops it at once. (The handler used to
    set a threading.Event: when the signal came while the sleep, Event.wait, held that event's
    lock, the handler waited for the lock forever and the loop could not be stopped at all.)
    A child process naps in a tight loop while a thread signals its main thread, a thousand
    times over in CI (FEEDS_TESTS=full), two hundred in a local run; the child must finish in time."""
    import subprocess
    import sys

    times = examples(1000, 200)
    script = textwrap.dedent("""
        import logging, os, random, signal, threading
        from feeds.stopflag import Stop
        logging.disable(logging.WARNING)  # not a thousand "stopping" lines
        main = threading.get_ident()
        for i in range(TIMES):
            with Stop() as stop:
                timer = threading.Timer(random.uniform(0, 0.0005), signal.pthread_kill, (main, signal.SIGTERM))
                timer.start()
                while not stop.wait(0):
                    pass
                timer.join()
                assert stop.is_set()
        print("stopped", TIMES, "times")
    """).replace("TIMES", str(times))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    try:
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail("the child still waits after 60 s: a stop signal deadlocked it")
    assert proc.returncode == 0 and f"stopped {times} times" in proc.stdout, proc.stderr[-2000:]

