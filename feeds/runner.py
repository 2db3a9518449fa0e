"""A pass as a command runs it: under the lock, with the state open, and nothing left behind
by a first pass that fails.

The commands (feeds.cli) parse their arguments and call one function here or in the stage
they ask for; what a pass must do around the pipeline lives here, not in the command line.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from typing import TYPE_CHECKING

from feeds.config import Config
from feeds.progress import Progress

if TYPE_CHECKING:
    from feeds.report import Report
    from feeds.store import Store


def locked_store(cfg: Config) -> tuple[ExitStack, Store]:
    """The lock beside the state, then the state: (a stack that releases both, the store)."""
    from feeds.lock import exclusive
    from feeds.store import Store

    stack = ExitStack()
    stack.enter_context(exclusive(cfg.state.path.with_name(cfg.state.path.name + ".lock")))
    try:
        return stack, stack.enter_context(Store(cfg.state.path))
    except BaseException:  # a store that cannot be opened: the lock is released at once
        stack.close()
        raise


def record_named(store: Store, named: list[tuple[str, str]]) -> None:
    """These failed or unknown deliveries were named on stderr: the next pass does not name them
    again. (Recorded after saying them: a pass killed in between names them next time, not never.)"""
    if named:
        sys.stderr.flush()
        with store.transaction():
            store.set_named(named)


def run_pass(cfg: Config, now: datetime, clock: Callable[[], datetime], *, rebuild: bool,
             progress: Progress | None, should_stop: Callable[[], bool], batch_bytes: int | None,
             tell: Callable[[Report], None]) -> Report:
    """One pass under the lock. `tell` says the report's problems while the lock is held, so the
    deliveries it names are recorded as named only once they were said."""
    from feeds.pipeline import BATCH_BYTES, check_templates, run_once

    templates = check_templates(cfg)  # a template that is missing or broken stops the pass before the state is made
    first = not cfg.state.path.exists()
    stack, store = locked_store(cfg)
    with stack:
        try:
            report = run_once(cfg, store, now, rebuild=rebuild, progress=progress, clock=clock,
                              should_stop=should_stop, batch_bytes=BATCH_BYTES if batch_bytes is None else batch_bytes,
                              templates=templates)
        except BaseException:
            if first and store.holds_nothing():  # a first pass that failed leaves no state behind
                store.remove()
            raise
        tell(report)
        record_named(store, report.named)
    return report
