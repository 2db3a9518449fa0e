"""Site chrome found across dumps: the lines every page of a site opens and closes with (its
header, menus, sidebar and footer), found by comparing the text dumps of one pass. Pure: the
pages' lines come in as parameters (feeds.ingest.reader.Site reads them).

What a site repeats on every page is chrome; what a few pages share may be a post. So:

- The site's opening (closing) run is the lines that *every* page of the site opens (closes)
  with, line for line, once copies are set aside. It takes at least `MIN_PAGES` different
  pages: two can share a post (a home page and a category page both open with the newest
  post; a cut and a whole copy of one post open alike).
- Copies of one page tell nothing: two pages that share more than `COPY_SHARE` of their prose
  lines (of `PROSE_WORDS` words or more: posts' text, where menus and headings are short) are
  one page dumped twice (a full archive on two days, one new post apart), and count once. Else
  the posts they share at their end would be taken for a footer.
- A run is cut back to a post boundary of the dump read alone: the opening run stops where
  the post that the pages part ways in starts (three home pages whose newest post, "Weekly
  links", has the same title but another text keep that title), and neither run takes a post
  that has what posts have and chrome has not: a date, or a cut ("Continue reading").
- The lines left are chrome, neither posts nor post text: the dump is read again without
  them (a footer that ran into the last post's text, a site's tagline read as a post).

Lynx's link numbers ("[12]Home") differ from page to page for the same link; they are not
compared.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING

from feeds.models import Block, Post

if TYPE_CHECKING:
    from feeds.ingest.segment import Segmentation

#: Different pages that must share a run for it to be the site's chrome.
MIN_PAGES = 3
#: Two pages sharing more than this share of their prose lines (Jaccard) are copies of one page.
COPY_SHARE = 0.8
#: A line of this many words or more is prose, as posts' text is.
PROSE_WORDS = 6

_LINK_NUMBER = re.compile(r"\[\d+\]")


def edge_key(key: str) -> str:
    """A line's text as pages are compared: lynx's link numbers ("[12]") left out."""
    return _LINK_NUMBER.sub("", key).strip() if "[" in key else key


@dataclasses.dataclass(frozen=True)
class Edges:
    """The lines (edge keys) every page of the site opens with, and closes with."""

    head: tuple[str, ...] = ()
    tail: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.head or self.tail)


#: No run: a page read alone, or a site of too few pages.
NO_EDGES = Edges()


def _common(a: Sequence[str], b: Sequence[str]) -> int:
    """How many lines `a` and `b` both open with."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _prose(page: Sequence[str]) -> set[str]:
    """A page's prose lines (all its lines, if it has none): what tells copies of one page."""
    return {line for line in page if line.count(" ") + 1 >= PROSE_WORDS} or set(page)


def _copy(prose: set[str], kept: Sequence[set[str]]) -> bool:
    return any(len(prose & other) > COPY_SHARE * len(prose | other) for other in kept)


def site_edges(pages: Iterable[Sequence[str] | None]) -> Edges:
    """The site's opening and closing runs over its pages' lines (each page: its lines' edge
    keys; None or empty: a page that cannot be read). Taken lazily: once no line is common to
    the pages so far, the rest are not looked at."""
    head: Sequence[str] | None = None
    tail: Sequence[str] = ()
    shortest = 0
    kept: list[set[str]] = []  # the prose of pages that are not copies of each other (MIN_PAGES at most)
    for page in pages:
        if not page:
            continue
        if head is None:
            head, tail, shortest = page, page[::-1], len(page)
        else:
            head, tail = head[:_common(head, page)], tail[:_common(tail, page[::-1])]
            shortest = min(shortest, len(page))
        if not head and not tail:
            return NO_EDGES
        if len(kept) < MIN_PAGES and not _copy(prose := _prose(page), kept):
            kept.append(prose)
    if head is None or len(kept) < MIN_PAGES:
        return NO_EDGES
    tail = tail[:max(0, shortest - len(head))]  # (no line of a page in both runs)
    return Edges(tuple(head), tuple(tail[::-1]))


def _post_like(post: Post, day: date | None) -> bool:
    """Has the post what posts have and a site's chrome has not: a date, or a cut?"""
    return post.truncated or day is not None or post.published is not None


#: How many of the opening run's last lines may be the title (and byline, date) of the post the
#: pages part ways in.
TITLE_LINES = 3


@dataclasses.dataclass(frozen=True)
class Cut:
    """Where a dump's own lines start and end, the site's opening and closing runs set aside:
    the lines before the start and from `end` on are chrome. The start is the first of `starts`
    at which the dump, read again from there, has a post starting: the line the pages part ways
    at, then each of the run's last TITLE_LINES lines upwards (the post they part ways in may
    open with a title they share). Else it is `fallback`: the start of that post read alone."""

    starts: tuple[int, ...]
    fallback: int
    end: int


def cut(keys: Sequence[str], lines: Sequence[int], posts: Sequence[Post], days: Sequence[date | None],
        edges: Edges) -> Cut:
    """The dump's `Cut`, by the rules above. `keys` and `lines` are its blocks' edge keys and
    line numbers; `posts` and `days` how it reads alone."""
    end = (lines[-1] + 1) if lines else 0
    starts: tuple[int, ...] = ()
    fallback = 0
    head, tail = len(edges.head), len(edges.tail)
    if head and head < len(keys) and tuple(keys[:head]) == edges.head:
        parting = lines[head]  # the first line that is not the site's
        fallback = max((p.start_line for p in posts if p.start_line <= parting), default=parting)
        starts = (parting, *lines[max(0, head - TITLE_LINES):head][::-1])
        for post, day in zip(posts, days, strict=True):  # a post wholly in the run
            if post.end_line < parting and _post_like(post, day):
                fallback = min(fallback, post.start_line)
                starts = tuple(a for a in starts if a <= fallback)
                break
        starts = tuple(a for a in starts if a > fallback)
    if tail and tail < len(keys) and tuple(keys[len(keys) - tail:]) == edges.tail:
        b = lines[len(keys) - tail]
        for post, day in zip(posts, days, strict=True):
            if post.start_line >= b and _post_like(post, day):
                b = max(b, post.end_line + 1)
        end = min(b, end)
    return Cut(starts, fallback, end)


def without_site_chrome(blocks: Sequence[Block], alone: Segmentation, edges: Edges,
                        read: Callable[[Sequence[Block]], Segmentation]) -> Segmentation:
    """The dump's reading (`alone`: as read alone) with what the site repeats (`edges`) set aside:
    read again (`read`) without it when it touches a post."""
    where = cut([edge_key(x.key) for x in blocks], [x.line for x in blocks], alone.posts,
                alone.dates or (None,) * len(alone.posts), edges)
    if not touches(alone.posts, min(where.starts, default=where.fallback), where.end):
        return alone  # (what the site repeats is already outside its posts)
    for a in (*where.starts, where.fallback):
        kept, site = outside(blocks, a, where.end)
        found = read(kept)
        if a == where.fallback or (found.posts and found.posts[0].start_line == a):
            break
    return dataclasses.replace(found, chrome=tuple(sorted(found.chrome + site, key=lambda x: x.line)))


def outside(blocks: Sequence[Block], a: int, b: int) -> tuple[list[Block], tuple[Block, ...]]:
    """(the blocks from line `a` up to line `b`, those before and after it)."""
    kept = [x for x in blocks if a <= x.line < b]
    return kept, tuple(x for x in blocks if not a <= x.line < b)


def touches(posts: Sequence[Post], a: int, b: int) -> bool:
    """Does a post have a line before `a` or from `b` on (then it must be read again without them)?"""
    return any(p.start_line < a or p.end_line >= b for p in posts)
