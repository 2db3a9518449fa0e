"""Listing pages laid out as cards: each post a title, perhaps a byline or a date line, its
text (an excerpt or the whole post), perhaps a cut marker and a few lines of metadata (tags,
the date, the author, a comment count, share buttons). Blog engines repeat one card shape
down the page; text renderers (lynx) keep it. The cards are found from that shape:

* a title followed by metadata lines (a byline, a date, an image credit; a short name line
  before a date) and then prose starts a post, whatever the title's length ("Programming
  Sucks");
* a card ends at a *closer*: a marker line ("Read more", "Read more <title>"), a paragraph
  ending with a marker ("… Read more →"), or a group of trailing metadata lines (tags, "Posted
  on <date> • 3 Comments", share lines, an author and a date as list items). The lines of a
  trailing group are the post's metadata, not its text. Between two closers, the post's title
  is the first heading followed by prose; else a heading followed by one line of teaser
  text; else the line just before the closer (a title-only card, such as a list item);
* a card that no closer ends ends where its own text does: the lines after its last
  paragraph (topic labels, an image's alt text, the next card's kicker) are not its text;
* when the page has cards with text, a title with none (a "recent posts" list in a sidebar,
  a gallery) is not a post; when none has text (a list of titles), every such title is one;
* what no card holds is site chrome: the header and menus above the first card, the sidebar
  and the footer below the last one.

A page with no such shape (fewer than two cards of evidence) is left to feeds.ingest.segment.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence

from feeds.ingest.lines import (
    BULLET,
    IMAGE,
    JUNK,
    MARKER,
    META,
    PROSE,
    STRONG_META,
    TITLE,
    Markers,
    classify,
    dated_item_title,
    ends_with_ellipsis,
    name_like,
    short,
)
from feeds.ingest.segment import ends_sentence
from feeds.models import Block

__all__ = ["Card", "Markers", "layout"]

#: Metadata kinds that may stand between a title and its text (a byline, a date, an image credit).
LEAD_META = frozenset({"date", "byline", "credit", "reading"})
#: Short lines (a name) that may stand between a title and its byline or date.
LEAD_NAMES = 1
#: A paragraph that starts a post's text has at least this many words ("___ Go" is a form).
MIN_PROSE_WORDS = 4
#: The first card's title, placed where the other cards have theirs, may end like a sentence
#: only if it is this short.
ALIGNED_PROSE_WORDS = 8
#: Evidence needed for a card layout: this many cards found by their shape.
MIN_CARDS = 2


@dataclasses.dataclass(frozen=True, slots=True)
class Card:
    title: int  # block index of the title
    body: tuple[int, ...]  # block indexes of its text
    truncated: bool
    meta: tuple[int, ...]  # block indexes of its metadata lines (lead and trailing)
    names: tuple[int, ...] = ()  # short lines between its title and its date: its author's name
    title_text: str | None = None  # its title when the line holds more (a list item's date before it)


@dataclasses.dataclass(frozen=True, slots=True)
class Closer:
    start: int  # first block of the closer
    end: int  # the block after it
    kind: str  # "group" (trailing metadata), "bare" (a marker line), "titled" (marker line naming the title),
    # "para" (a paragraph ending with a marker: part of the text)
    title: int | None = None  # for "titled": the line equal to the title, when found


class _Page:
    def __init__(self, blocks: Sequence[Block], markers: Markers, check: Callable[[], None]):
        self.blocks = blocks
        self.markers = markers
        self.check = check
        self.cls = classify(blocks, markers)
        self.n = len(blocks)
        self._closer_starts: list[int] = []
        self.lead: dict[int, int] = {}  # title index -> index of the first block of its text
        self.items = self._dated_items()  # list items "<date> <title>": title index -> title
        for i, (cls, _) in enumerate(self.cls):
            if cls in (TITLE, BULLET) and (end := self._lead_end(i)) is not None:  # (the cheap test first)
                self.lead[i] = end
        self._nested()
        self.before: dict[int, int] = self._dated_first()  # title index -> its date line above it
        self.in_lead.update(self.before.values())
        for i in self.items:
            self.lead.setdefault(i, i + 1)

    def _dated_items(self) -> dict[int, str]:
        """List items that start with their date and go on with a title (an archive list of
        Hugo, Jekyll and many more: "* Mar 2, 2024 Sorting strings in Go"), when at least
        MIN_CARDS of them follow one another: each is a post of its title alone."""
        kinds = ((META, "date"), (BULLET, None))
        found = {i: t for i, b in enumerate(self.blocks)
                 if b.kind == "bullet" and self.cls[i] in kinds and (t := dated_item_title(b.key))}
        runs = sum(1 for i in found if i + 1 in found)
        if runs + 1 < MIN_CARDS:
            return {}
        for i in found:
            self.cls[i] = (BULLET, None)
        return found

    def _dated_first(self) -> dict[int, int]:
        """Cards that give their date above the title (Hugo's and Jekyll's lists: "* 2024-03-02",
        the title, its text): a date line, the title, then prose, at least MIN_CARDS times and
        more often than titles with a byline below. The first such date follows no prose: in a
        page whose dates end each card's text, every date but the last stands before a title too."""
        dated = (META, "date")
        found = {i + 1: i for i, kind in enumerate(self.cls) if kind == dated and self.c(i + 1) in (TITLE, BULLET)
                 and self._starts_text(i + 2) and i + 1 not in self.lead}
        if len(found) < max(MIN_CARDS, len(self.lead) + 1):
            return {}
        first = min(found.values())
        if self.c(first - 1) == PROSE:
            return {}
        for title in found:
            self.lead[title] = title + 1
        return found

    def _nested(self) -> None:
        """Of two anchors one inside the other's lead ("Blog" above a title, a title above its
        author's name), keep the page's shape: the outer ones when most anchors are such pairs."""
        inner = {j for i, e in self.lead.items() for j in range(i + 1, e) if j in self.lead}
        outer = {i for i, e in self.lead.items() if any(j in inner for j in range(i + 1, e))}
        single = len(self.lead) - len(inner) - len(outer)
        drop = inner if len(outer) > single else outer
        self.lead = {i: e for i, e in self.lead.items() if i not in drop}
        self.in_lead = {j for i, e in self.lead.items() for j in range(i + 1, e)}

    def c(self, i: int) -> str:
        return self.cls[i][0] if 0 <= i < self.n else ""

    def _lead_end(self, i: int) -> int | None:
        """Where the text starts when block i is a title followed by a byline, a date or an
        image credit (and at most LEAD_NAMES short lines before them, such as a name, and as
        many after them, such as an image's caption); None when it is not."""
        if self.c(i) not in (TITLE, BULLET) or len(self.blocks[i].key) > 200:
            return None
        j, before, after, seen = i + 1, 0, 0, False
        while j < self.n and j <= i + 8:
            cls, kind = self.cls[j]
            if cls == META and kind in LEAD_META:
                seen = True
            elif cls == TITLE and short(self.blocks[j].key) and (after if seen else before) < LEAD_NAMES:
                after, before = (after + 1, before) if seen else (after, before + 1)
            elif cls == PROSE and seen:
                return j
            elif cls not in (IMAGE, JUNK):
                return None
            j += 1
        return None

    # -- closers -----------------------------------------------------------------------
    def groups(self) -> list[Closer]:
        """Runs of trailing metadata lines, each closing the card above it. A run of one date
        line alone closes cards only in a page where longer runs do."""
        found: list[tuple[int, int, bool]] = []
        i = 0
        while i < self.n:
            if self.c(i) != META or i in self.in_lead:
                i += 1
                continue
            a, b = self._extent(i)
            kinds = {self.cls[j][1] for j in range(a, b)} - {None}
            metas = sum(self.c(j) == META for j in range(a, b))
            found.append((a, b, metas >= 2 or bool(kinds & STRONG_META)))
            i = b
        strong_count = sum(s for _, _, s in found)
        return [Closer(a, b, "group") for a, b, s in found
                if s or (strong_count >= MIN_CARDS and (b >= self.n or self.c(b) in (TITLE, BULLET)))]

    def _extent(self, i: int) -> tuple[int, int]:
        """The run of metadata lines around block i: names listed with it before it (bullets),
        short lines of its kind between and after its metadata lines, one date at most."""
        blocks, kind = self.blocks, self.blocks[i].kind
        a = i
        while (a - 1 >= 0 and a - 1 not in self.in_lead and kind == "bullet" and self.c(a - 1) == BULLET
               and short(blocks[a - 1].key, 4)):
            a -= 1
        if (a == i and self.cls[i][1] == "date" and self.c(i - 1) == TITLE and self.c(i - 2) == PROSE
                and i - 1 not in self.lead and name_like(blocks[i - 1].key)):
            a -= 1  # the author's name between the card's text and its date (Medium: "Priya Shah", "Mar 3")
        b, dated = i + 1, self.cls[i][1] == "date"
        while b < self.n and b not in self.in_lead and b not in self.lead:
            cls, what = self.cls[b]
            if cls == META and not (dated and what == "date"):
                dated = dated or what == "date"
                b += 1
            elif cls == JUNK:
                b += 1
            elif (cls in (TITLE, BULLET) and blocks[b].kind == kind and short(blocks[b].key, 4)
                  and not self._starts_text(b + 1) and not (dated and self._next_is_date(b + 1))):
                b += 1
            else:
                break
        while b - 1 > i and self.c(b - 1) in (JUNK, TITLE, BULLET):
            b -= 1  # short lines count between metadata lines, not after them (a sidebar's heading, a footer)
        return a, b

    def _next_is_date(self, j: int) -> bool:
        while self.c(j) == JUNK:
            j += 1
        return j < self.n and self.cls[j] == (META, "date")

    def _starts_text(self, j: int) -> bool:
        """Does prose start at block j (after images), a paragraph of a few words at least?"""
        while self.c(j) in (IMAGE, JUNK):
            j += 1
        text = self.blocks[j].key if j < self.n else ""
        return self.c(j) == PROSE and (text.count(" ") >= MIN_PROSE_WORDS - 1 or ends_sentence(text))

    def closers(self) -> list[Closer]:
        out = self.groups()
        last = 0  # a marker line's title is looked for back to the marker line before it
        for i in range(self.n):
            cls = self.c(i)
            if cls == MARKER:
                title = self.markers.line_title(self.blocks[i].key) or ""
                s = self._title_line(i, title, last) if title else None
                out.append(Closer(i, i + 1, "titled" if s is not None else "bare", s))
                last = i + 1
            elif cls in (PROSE, TITLE) and self.markers.ends_paragraph(self.blocks[i].key):
                out.append(Closer(i, i + 1, "para"))
        return sorted(out, key=lambda c: c.start)

    def _title_line(self, m: int, title: str, lo: int) -> int | None:
        """The nearest line before the marker line m equal to the title it names (or to its
        end: "Read more about <title>")."""
        key = " ".join(title.split())
        for j in range(m - 1, lo - 1, -1):
            line = self.blocks[j].key
            if line == key or (key.endswith(" " + line) and len(key.split()) - len(line.split()) <= 2
                               and self.c(j) in (TITLE, BULLET)):
                return j
        return None

    # -- titles ------------------------------------------------------------------------
    def region_title(self, lo: int, hi: int) -> int | None:
        """The title of the card in blocks[lo:hi] (hi: its closer, or the block after a
        closing paragraph): the first heading followed by prose; else a heading followed by
        one line of teaser; else the heading or list item just before the closer."""
        for j in range(lo, hi - 1):
            if self.c(j) == TITLE and self._starts_text(j + 1) and self._skip_meta(j + 1) < hi:
                return j
        if hi - 2 >= lo and self.c(hi - 2) == TITLE and self.c(hi - 1) in (TITLE, PROSE):
            return hi - 2
        if hi - 1 >= lo and self.c(hi - 1) in (TITLE, BULLET):
            return hi - 1
        return None

    def _skip_meta(self, j: int) -> int:
        while self.c(j) in (IMAGE, JUNK, META):
            j += 1
        return j

    def starts(self, closers: Sequence[Closer]) -> list[int]:
        """The titles: the lead anchors, the lines marker lines name, and one title per
        stretch between two closers that holds none. The first stretch (which holds the
        page's header too) takes its title where the others have theirs, counted back from
        the closer, when they all agree."""
        found = set(self.lead)
        found.update(c.title for c in closers if c.title is not None)
        regions, lo = [], 0
        ordered = sorted(found)
        for c in closers:
            hi = c.end if c.kind == "para" else c.start
            k = bisect.bisect_left(ordered, lo)
            if not (k < len(ordered) and ordered[k] < hi):
                regions.append((lo, hi))
            lo = c.end
        titles = [self.region_title(a, b) for a, b in regions]
        back = {self._back(t, b) for t, (a, b) in zip(titles[1:], regions[1:], strict=True) if t is not None}
        if regions and regions[0][0] == 0 and len(regions) >= MIN_CARDS and len(back) == 1:
            titles[0] = self._at_back(*regions[0], back.pop()) or titles[0]
        found.update(t for t in titles if t is not None)
        return sorted(found)

    def _back(self, title: int, hi: int) -> int:
        """How many lines of text (not metadata, images or rules) from the title to hi."""
        return sum(self.c(j) not in (META, IMAGE, JUNK) for j in range(title, hi))

    def _at_back(self, lo: int, hi: int, back: int) -> int | None:
        j = hi
        while j > lo and back:
            j -= 1
            back -= self.c(j) not in (META, IMAGE, JUNK)
        if back or self.c(j) not in (TITLE, BULLET, PROSE):
            return None
        # A title that ends like a sentence ("Bounty. Upgraded.") is short; a paragraph is not a title.
        return j if self.c(j) != PROSE or len(self.blocks[j].key.split()) <= ALIGNED_PROSE_WORDS else None

    # -- cards -------------------------------------------------------------------------
    def cards(self) -> list[Card] | None:
        closers = self.closers()
        counts = Counter(c.kind for c in closers)
        most = max([len(self.lead), *(n for kind, n in counts.items() if kind != "titled")])
        if most < MIN_CARDS:
            return None
        # The page's own kinds of evidence: those as frequent as half the most frequent (a
        # footer's share line or a gallery's credits do not make cards in a page of excerpts).
        enough = max(MIN_CARDS, most / 2)
        closers = [c for c in closers if c.kind == "titled" or counts[c.kind] >= enough]
        if len(self.lead) < enough:
            self.lead = {}
        starts = self.starts(closers)
        self._closer_starts = [c.start for c in closers]
        cards = []
        for k, s in enumerate(starts):
            self.check()
            nxt = starts[k + 1] if k + 1 < len(starts) else None
            cards.append(self._card(s, nxt, closers))
        if len(closers) >= MIN_CARDS:  # below the last card a closer ends: a sidebar, a footer
            last = max(c.end for c in closers)
            cards = [c for c in cards if c.title < last]
        with_text = sum(bool(c.body) for c in cards)
        return [c for c in cards if c.body or with_text < MIN_CARDS]

    def _card(self, s: int, nxt: int | None, closers: Sequence[Closer]) -> Card:
        first = self.lead.get(s, s + 1)
        lead_meta = tuple(j for j in range(s + 1, first) if self.c(j) == META)
        if s in self.before:
            lead_meta = (self.before[s], *lead_meta)
        limit = self.n if nxt is None else nxt
        k = bisect.bisect_left(self._closer_starts, first)
        closer = closers[k] if k < len(closers) and closers[k].start < limit else None
        if closer is not None:
            end = closer.end if closer.kind == "para" else closer.start
            body = [j for j in range(first, end) if self.c(j) != JUNK]
            meta = lead_meta + (tuple(range(closer.start, closer.end)) if closer.kind == "group" else ())
            cut = closer.kind != "group"
            after = closers[k + 1] if closer.kind != "group" and k + 1 < len(closers) else None
            if after is not None and after.kind == "group" and after.start < limit and \
                    all(self.c(j) in (JUNK, MARKER) for j in range(closer.end, after.start)):
                meta += tuple(range(after.start, after.end))  # below its more-link: "Posted in X | 2 Comments"
        else:
            end = min(limit, self._text_run(first))
            body = [j for j in range(first, end) if self.c(j) != JUNK]
            while body and (self.c(body[-1]) in (TITLE, META, MARKER)
                            or (self.c(body[-1]) == BULLET and short(self.blocks[body[-1]].key, 4))):
                body.pop()
            meta, cut = lead_meta, False
        while body and self.c(body[0]) == META and body[0] in lead_meta:
            body.pop(0)
        # Cut: a marker closes it, its text ends with an ellipsis, or it has no text or only a
        # standfirst (a line that ends no sentence), as teasers in a news listing.
        cut = (cut or not body or ends_with_ellipsis(self.blocks[body[-1]].key)
               or not any(ends_sentence(self.blocks[j].key) or self.blocks[j].key.endswith(("!", "?"))
                          for j in body))
        names = tuple(j for j in range(s + 1, first) if self.c(j) == TITLE)
        return Card(s, tuple(body), cut, meta, names if len(names) == 1 else (), self.items.get(s))

    def _text_run(self, j: int) -> int:
        """The end of the text that starts at block j when nothing closes it: its paragraphs,
        images and list items, and subheadings followed by a paragraph, up to the first other
        line (a topic label, a metadata line, a short list item such as a menu's)."""
        while j < self.n:
            cls = self.c(j)
            if cls in (PROSE, IMAGE, JUNK) or (cls == BULLET and not short(self.blocks[j].key, 4)):
                j += 1
            elif cls == TITLE and self._starts_text(j + 1):
                j += 1
            else:
                break
        return j


def layout(blocks: Sequence[Block], markers: Markers, check: Callable[[], None] = lambda: None) -> list[Card] | None:
    """The cards of a listing page, top first; None when the page is not laid out in cards."""
    return _Page(blocks, markers, check).cards()
