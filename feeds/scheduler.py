"""`python -m feeds loop`: the same pass as `python -m feeds`, on a `schedule` loop.

A pass runs at start (so a digest slot missed while the process was down is caught
up, once: the ledger in SQLite knows which digests were composed), then every
`[loop] interval` minutes (a `schedule` job) and at each digest slot. The
slot is not a `schedule` job: `schedule` works in the machine's naive local time,
so the slot is computed from the calendar in the site's time zone
(`Schedule.next_due`), which stays right across daylight-saving changes. Between
jobs the loop sleeps until the next one (never longer than MAX_NAP, so that a
wall clock that jumps is noticed soon).

Each pass takes the lock, so a loop and a cron job never run at once; a pass that
finds the lock taken is skipped. An exception in a pass is logged with its
traceback and the loop goes on (but for BrokenPipeError: the output's reader went
away, and the loop ends, as SIGPIPE would end it). The loop stops when `stop` is set (SIGTERM,
Ctrl-C): a pass in progress stops at its next safe point.

Nothing here reads the clock or sleeps by itself: `clock` and `sleep` are passed in.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

import schedule

from feeds.config import Config
from feeds.digest.period import Schedule
from feeds.errors import FeedsError

log = logging.getLogger(__name__)

#: The longest sleep, in seconds: the loop looks at the clock at least this often.
MAX_NAP = 300.0

Clock = Callable[[], datetime]
#: Sleeps up to the given seconds; returns True if woken because the loop must stop.
Sleep = Callable[[float], bool]
Pass = Callable[[str], None]  # runs one pass; its argument says why ("start", "interval", "digest slot")


class StopFlag(Protocol):
    """Says whether the loop was asked to stop (a threading.Event, or the CLI's signal flag)."""

    def is_set(self) -> bool: ...


class Loop:
    def __init__(self, config: Config, run_pass: Pass, *, clock: Clock, sleep: Sleep,
                 stop: StopFlag | None = None):
        self.config = config
        self.schedule = Schedule.of(config)
        self.run_pass = run_pass
        self.clock = clock
        self.sleep = sleep
        self.stop: StopFlag = stop or threading.Event()
        self.scheduler = schedule.Scheduler()
        self.scheduler.every(config.loop.interval).minutes.do(self._job, "interval")
        self.passes = 0
        self.failures = 0

    def _job(self, why: str) -> None:
        """One pass, whatever it raises: `schedule` would stop at an exception."""
        self.passes += 1
        try:
            self.run_pass(why)
        except BrokenPipeError:  # the output's reader went away (`loop | head`): see the module's docstring
            raise
        except FeedsError as exc:  # bad input found during the pass (a template removed): its message says it
            self.failures += 1
            log.error("the pass (%s) failed: %s; the loop goes on and tries again at the next job", why, exc)
        except Exception:
            self.failures += 1
            log.exception("the pass (%s) failed; the loop goes on and tries again at the next job", why)

    def run(self) -> None:
        self._job("start")
        slot = self.schedule.next_due(self.clock())
        while not self.stop.is_set():
            now = self.clock()
            idle = self.scheduler.idle_seconds
            wait = min(MAX_NAP, (slot - now).total_seconds(), idle if idle is not None else MAX_NAP)
            if wait > 0 and self.sleep(wait):
                break
            now = self.clock()
            if now >= slot:
                self._job("digest slot")
                slot = self.schedule.next_due(now)
            elif slot - now > self.schedule.longest_wait():
                slot = self.schedule.next_due(now)  # the clock went back: aim again
            if not self.stop.is_set():
                self.scheduler.run_pending()
