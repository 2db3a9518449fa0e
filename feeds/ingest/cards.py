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

import dataclasses
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
    author_of,
    categories_of,
    classify,
    ends_with_ellipsis,
    short,
)
from feeds.ingest.segment import Segmentation
from feeds.models import Block, Post

__all__ = ["Card", "Markers", "layout", "segmentation"]

#: Metadata kinds that may stand between a title and its text (a byline, a date, an image credit).
LEAD_META = frozenset({"date", "byline", "credit", "reading"})
#: Short lines (a name) that may stand between a title and its byline or date.
LEAD_NAMES = 2
_TAG_WORDS = frozenset({"tags", "tag", "labels", "label", "categories", "category", "topics", "topic", "filed under",
                        "posted in", "schlagwörter", "kategorien", "kategorie", "étiquettes", "catégories",
                        "etiquetas", "categorías", "categorie", "метки", "теги"})
#: Evidence needed for a card layout: this many cards found by their shape.
MIN_CARDS = 2


@dataclasses.dataclass(frozen=True, slots=True)
class Card:
    title: int  # block index of the title
    body: tuple[int, ...]  # block indexes of its text
    truncated: bool
    meta: tuple[int, ...]  # block indexes of its metadata lines (lead and trailing)


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
        self.lead: dict[int, int] = {}  # title index -> index of the first block of its text
        for i in range(self.n):
            end = self._lead_end(i)
            if end is not None:
                self.lead[i] = end
        self.in_lead = {j for i, e in self.lead.items() for j in range(i + 1, e)}

    def c(self, i: int) -> str:
        return self.cls[i][0] if 0 <= i < self.n else ""

    def _lead_end(self, i: int) -> int | None:
        """Where the text starts when block i is a title followed by a byline, a date or an
        image credit (and at most LEAD_NAMES short name lines); None when it is not."""
        if self.c(i) not in (TITLE, BULLET) or len(self.blocks[i].key) > 200:
            return None
        j, names, last_meta = i + 1, 0, None
        while j < self.n and j <= i + 8:
            cls, kind = self.cls[j]
            if cls == META and kind in LEAD_META:
                last_meta = j
            elif cls == TITLE and short(self.blocks[j].key) and names < LEAD_NAMES and last_meta is None:
                names += 1
            elif cls not in (IMAGE, JUNK):
                break
            j += 1
        if last_meta is None:
            return None
        k = last_meta + 1
        while k < self.n and self.c(k) in (IMAGE, JUNK):
            k += 1
        return k if self.c(k) == PROSE else None

    # -- closers -----------------------------------------------------------------------
    def groups(self) -> list[Closer]:
        """Runs of trailing metadata lines, each closing the card above it."""
        found: list[tuple[int, int, bool]] = []
        i = 0
        while i < self.n:
            if self.c(i) != META or i in self.in_lead:
                i += 1
                continue
            a, b = self._extent(i)
            kinds = {self.cls[j][1] for j in range(a, b)} - {None}
            strong = b - a >= 2 or bool(kinds & STRONG_META)
            found.append((a, b, strong))
            i = b
        strong_count = sum(s for _, _, s in found)
        return [Closer(a, b, "group") for a, b, s in found
                if s or (strong_count >= MIN_CARDS and self.c(b) in (TITLE, BULLET))]

    def _extent(self, i: int) -> tuple[int, int]:
        """The run of metadata lines around block i: names listed with it before it (bullets),
        short lines of its kind between and after its metadata lines."""
        blocks, kind = self.blocks, self.blocks[i].kind
        a = i
        while (a - 1 >= 0 and a - 1 not in self.in_lead and kind == "bullet" and self.c(a - 1) == BULLET
               and short(blocks[a - 1].key, 4)):
            a -= 1
        b = i + 1
        while b < self.n and b not in self.in_lead and b not in self.lead:
            if self.c(b) == META or self.c(b) == JUNK:
                b += 1
            elif (self.c(b) in (TITLE, BULLET) and blocks[b].kind == kind and short(blocks[b].key, 4)
                  and not self._starts_text(b + 1)):
                b += 1
            else:
                break
        while b - 1 > i and self.c(b - 1) == JUNK:
            b -= 1
        return a, b

    def _starts_text(self, j: int) -> bool:
        while self.c(j) in (IMAGE, JUNK):
            j += 1
        return self.c(j) == PROSE

    def closers(self) -> list[Closer]:
        out = self.groups()
        for i in range(self.n):
            cls = self.c(i)
            if cls == MARKER:
                title = self.markers.line_title(self.blocks[i].key) or ""
                s = self._title_line(i, title) if title else None
                out.append(Closer(i, i + 1, "titled" if s is not None else "bare", s))
            elif cls in (PROSE, TITLE) and self.markers.ends_paragraph(self.blocks[i].key):
                out.append(Closer(i, i + 1, "para"))
        return sorted(out, key=lambda c: c.start)

    def _title_line(self, m: int, title: str) -> int | None:
        """The nearest line before the marker line m equal to the title it names (or to its
        end: "Read more about <title>")."""
        key = " ".join(title.split())
        for j in range(m - 1, -1, -1):
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
        found = set(self.lead)
        found.update(c.title for c in closers if c.title is not None)
        lo = 0
        for c in closers:
            hi = c.end if c.kind == "para" else c.start
            if not any(lo <= s < hi for s in found):
                t = self.region_title(lo, hi)
                if t is not None:
                    found.add(t)
            lo = c.end
        return sorted(found)

    # -- cards -------------------------------------------------------------------------
    def cards(self) -> list[Card] | None:
        closers = self.closers()
        evidence = max(len(self.lead), sum(c.kind == "group" for c in closers),
                       sum(c.kind == "para" for c in closers), sum(c.kind == "bare" for c in closers))
        if evidence < MIN_CARDS:
            return None
        starts = self.starts(closers)
        cards = []
        for k, s in enumerate(starts):
            self.check()
            nxt = starts[k + 1] if k + 1 < len(starts) else None
            cards.append(self._card(s, nxt, closers))
        with_text = sum(bool(c.body) for c in cards)
        return [c for c in cards if c.body or with_text < MIN_CARDS]

    def _card(self, s: int, nxt: int | None, closers: Sequence[Closer]) -> Card:
        first = self.lead.get(s, s + 1)
        lead_meta = tuple(j for j in range(s + 1, first) if self.c(j) == META)
        limit = self.n if nxt is None else nxt
        closer = next((c for c in closers if first <= c.start < limit or (c.kind == "para" and c.start == s)),
                      None)
        if closer is not None:
            end = closer.end if closer.kind == "para" else closer.start
            body = [j for j in range(first, end) if self.c(j) != JUNK]
            meta = lead_meta + (tuple(range(closer.start, closer.end)) if closer.kind == "group" else ())
            cut = closer.kind != "group"
        else:
            end = limit if nxt is not None else self._text_run(first)
            body = [j for j in range(first, end) if self.c(j) != JUNK]
            while body and (self.c(body[-1]) in (TITLE, META, MARKER)
                            or (self.c(body[-1]) == BULLET and short(self.blocks[body[-1]].key, 4))):
                body.pop()
            meta, cut = lead_meta, False
        while body and self.c(body[0]) == META and body[0] in lead_meta:
            body.pop(0)
        cut = cut or not body or ends_with_ellipsis(self.blocks[body[-1]].key)
        return Card(s, tuple(body), cut, meta)

    def _text_run(self, j: int) -> int:
        """The end of the text that starts at block j when nothing closes it: its paragraphs
        and images, up to the first heading, list item or metadata line."""
        while j < self.n and self.c(j) in (PROSE, IMAGE, JUNK):
            j += 1
        return j


def layout(blocks: Sequence[Block], markers: Markers, check: Callable[[], None] = lambda: None) -> list[Card] | None:
    """The cards of a listing page, top first; None when the page is not laid out in cards."""
    return _Page(blocks, markers, check).cards()


def segmentation(dump: str, blocks: Sequence[Block], cards: Sequence[Card]) -> Segmentation:
    """The posts of the cards, with the author and categories their metadata lines name;
    every block no card holds is chrome."""
    posts: list[Post] = []
    held: set[int] = set()
    for position, card in enumerate(cards):
        title = blocks[card.title]
        body = tuple(blocks[j] for j in card.body)
        meta = [blocks[j].key for j in card.meta]
        author = next((a for a in map(author_of, meta) if a), None)
        categories = tuple(c for line in meta if line.split(":", 1)[0].strip().lower() in _TAG_WORDS
                           for c in categories_of(line))
        posts.append(Post(dump=dump, title=title.key, start_line=title.line,
                          end_line=body[-1].line if body else title.line, truncated=card.truncated, body=body,
                          position=position, author=author, categories=categories))
        held.update((card.title, *card.body, *card.meta))
    chrome = tuple(b for j, b in enumerate(blocks) if j not in held)
    return Segmentation(tuple(posts), chrome, ())
