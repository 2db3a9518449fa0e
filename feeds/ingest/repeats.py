"""Site chrome found across dumps: the lines a site repeats at the top and the bottom of
every page (its header, menus, sidebar and footer), found by comparing one dump with other
dumps of the same site read in the same pass. Pure: the other dumps' lines come in as a
parameter (feeds.ingest.files reads them).

A line is chrome when this dump and another one open (or close) with the same run of
lines, line for line: two pages of one site share their header and footer, not their
posts. Two copies of one page (the home page dumped on two days with no new post between)
share their posts too: a dump that shares more than half its lines that way with another
is a copy of it, and tells nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

#: Another dump is a copy of this one (and is not compared) when their common opening and
#: closing runs hold more than this share of this dump's lines.
COPY_SHARE = 0.5


def _common_prefix(a: Sequence[str], b: Sequence[str]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def edge_chrome(keys: Sequence[str], others: Sequence[Sequence[str]]) -> frozenset[int]:
    """Indexes of this dump's lines (`keys`, the lines' matching keys in order) that open or
    close it as they open or close another dump of the site (`others`)."""
    found: set[int] = set()
    n = len(keys)
    for other in others:
        head = _common_prefix(keys, other)
        tail = _common_prefix(keys[::-1], other[::-1])
        if head + tail > COPY_SHARE * n or head >= n:
            continue  # a copy of this page
        found.update(range(head))
        found.update(range(n - tail, n))
    return frozenset(found)
