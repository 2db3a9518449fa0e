"""How long one dump may take to read: a deadline the readers check as they go.

The readers check it inside their own loops (the HTML parser at every tag and text, every
walk down a parsed page, every post, the text segmenter at every line it weighs), so a dump
that would take too long is given up within moments of its deadline, whatever makes it
slow. No signals and no threads: checking the clock is part of the readers' work.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from feeds.errors import SlowDumpError


class Deadline:
    """`check()` raises SlowDumpError once `seconds` have passed on `clock` since it was made."""

    def __init__(self, path: str, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.path, self.seconds, self._clock = path, seconds, clock
        self._end = clock() + seconds

    def check(self) -> None:
        if self._clock() > self._end:
            raise SlowDumpError(self.path, self.seconds)

    @classmethod
    def never(cls) -> Deadline:
        """No limit (a reader called without one)."""
        return cls("", math.inf)
