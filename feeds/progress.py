"""A progress bar on a terminal, for passes over many dumps (a back-fill)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

#: What a pass calls as it reads dumps: (dumps read, dumps to read, the one being read).
Progress = Callable[[int, int, str], None]

#: Fewer dumps than this show no bar.
MANY = 20


def bar() -> Progress | None:
    """A progress callback drawing a bar on stderr when it is a terminal; None when it is not."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    drawn: list[tqdm] = []

    def show(n: int, total: int, path: str) -> None:
        if total < MANY:
            return
        if not drawn:
            try:  # a terminal that reports no width (some ptys) would get no bar at all
                width = os.get_terminal_size(sys.stderr.fileno()).columns or 80
            except OSError:
                width = 80
            drawn.append(tqdm(total=total, unit="dump", desc="reading dumps", file=sys.stderr, leave=False,
                              ncols=min(width, 100)))
        drawn[0].update(n - drawn[0].n)
        if n == total:
            drawn[0].close()
    return show
