"""Find the posts in the blocks of one listing-page dump.

A listing page shows posts newest first. A long post shows its opening and ends
with a marker line, ``<marker> <exact title>``; it starts at the nearest earlier
block whose text equals that title. The stretches between such posts hold zero or
more whole posts, whose starts are found from the text alone:

* a post starts with a *heading-like* block (short, no sentence-final punctuation)
  followed by a prose paragraph: not a bullet, a footnote, another heading or a
  wire-service dateline ("BEIJING, Jan. 18 (Xinhua) —", which opens a republished
  news article inside a post);
* a heading announced by the block before it ("The following articles were
  originally published by …", or a line ending in a colon) is the title of an
  article the post republishes, not a new post;
* a heading followed by an editorial introduction ("The following article is …",
  "In the article below …") starts a post;
* otherwise a heading starts a post only when it is title-shaped (at least four
  words, not a rhetorical question) and it and the paragraphs after it are about
  something else than the post it would end: a subheading ("Trump's new Monroe
  Doctrine") carries on the vocabulary of its post. Similarity is the cosine of
  tf-idf word vectors, with words weighted by how rare they are in the dump.

Site chrome (a banner before the first post, a comment form or navigation after
the last) is left out. Nothing here knows any particular site.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING

from feeds.config import DEFAULT_CHROME
from feeds.ingest import repeats
from feeds.ingest.repeats import NO_EDGES, Edges
from feeds.models import Block, Post

if TYPE_CHECKING:
    from feeds.ingest.cards import Markers

# A line ends like a sentence: [.,;:…] and any closing quotes or brackets ("… end.”)").
_TERMINAL_CHARS = ".,;:…"
_CLOSING = "\"”’»)]"
_TITLE_ENDS = ("→", "»", "›", "…", "...")
_TITLE_END = re.compile(r"\s*[→»›…]+$|\s*\.\.\.$")
_FOOTNOTE = re.compile(r"^\[\d+\]")
_MONTH = (r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?")
# "BEIJING, Jan. 18 (Xinhua) —", "Jan. 18 (Nhân Dân) —", "Beijing, January 13th (IDCPC) —",
# "WASHINGTON (AP) —": an optional place, an optional date, the agency in brackets, a dash.
_DATELINE = re.compile(
    rf"^(?:[A-Z][\w .'’-]{{1,40}},\s*)?(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s*)?"
    r"\([^()]{2,40}\)\s*[—–-]")
_DATELINE_PLACE = re.compile(r"^[A-Z][A-Z .'’-]{1,40}\s*\([^()]{2,40}\)\s*[—–-]")
# An editorial line introducing a post: what the article, speech or report below is.
_INTRODUCES = re.compile(
    r"\b(?:the following (?:\w+ )?(?:articles?|texts?|reports?|speech(?:es)?|interviews?|pieces?|statements?)"
    r"|(?:articles?|texts?|pieces?) (?:was|were|is|are) originally|originally (?:published|appeared)"
    r"|(?:republish|reprint|reproduce|publish|embed)(?:ed)? (?:\w+ ){0,6}below|(?:article|piece|text) below)\b",
    re.IGNORECASE)
# A line announcing that text follows: the heading after it is that text's title.
_ANNOUNCES_TEXT = re.compile(
    r"\b(?:the following (?:\w+ )?(?:articles?|texts?|speech(?:es)?|statements?|pieces?)"
    r"|(?:articles?|texts?|pieces?) (?:was|were|is|are) (?:originally|first) (?:published|carried)"
    r"|(?:republish|reprint|reproduce)(?:ed)? (?:\w+ ){0,6}(?:below|here))\b",
    re.IGNORECASE)
_STOP = frozenset("""a an the and or but of to in on at by for from with as is are was were be been
its it this that these those his her their our your my we you they he she not no so if than then
into over under about after before between against during via per all any some more most new
how what why who when where which will would can could should may might must do does did has have had
""".split())

# Thresholds (bench/segment_margins.py shows the margins on any dumps): a heading and
# the SECTION_BLOCKS blocks after it start a new post when their tf-idf cosine similarity
# to the open post is below the limit. Measured: boundaries between the seeds' posts
# 0.02-0.17; between two posts on one subject that share paragraphs (an event's
# announcement and its report) up to 0.54; headings inside posts 0.09-0.43, of which
# the long ones (LONG_TITLE_WORDS or more) were all questions, announced or followed
# by a dateline, which are decided before the similarity. Hence a high limit for long
# title-shaped headings and a low one for short ones.
SECTION_BLOCKS = 2
TITLE_SIMILARITY = 0.12
LONG_TITLE_WORDS = 8
LONG_TITLE_SIMILARITY = 0.6
# A short heading (under SHORT_TITLE_WORDS words, or SHORT_TITLE_CHARS characters: "Programming
# Sucks") starts a post only below a lower limit, under the 0.09 of the headings inside posts
# measured: short subheadings ("What we found") are the commonest kind. A short question
# ("What is multipolarity?") is a section of an explainer, not a title.
MIN_TITLE_WORDS = 2
MIN_TITLE_CHARS = 8
SHORT_TITLE_WORDS = 4
SHORT_TITLE_CHARS = 20
SHORT_TITLE_SIMILARITY = 0.08


@dataclasses.dataclass(frozen=True, slots=True)
class Segmentation:
    posts: tuple[Post, ...]
    chrome: tuple[Block, ...]  # blocks left out as site chrome
    notes: tuple[str, ...]  # things a person may want to know (title not found, …)
    dates: tuple[date | None, ...] = ()  # per post, the day its metadata lines give (cards), or none


def heading_like(block: Block) -> bool:
    """A line that could be a title or a subheading."""
    text = block.key
    if block.kind != "para" or not 2 <= len(text) <= 160 or text.count(" ") >= 30:
        return False
    first = text[0]
    if not (first.isalnum() or first in "‘“\"'¿¡«("):
        return False
    return not ends_sentence(text) and not _FOOTNOTE.match(text) and not is_dateline(text)


def ends_sentence(text: str) -> bool:
    body = text.rstrip(_CLOSING)
    return bool(body) and body[-1] in _TERMINAL_CHARS


def is_dateline(text: str) -> bool:
    return bool(_DATELINE.match(text) or _DATELINE_PLACE.match(text))


def is_prose(block: Block) -> bool:
    """A paragraph that can open a post's body."""
    return (block.kind == "para" and not heading_like(block) and not _FOOTNOTE.match(block.key)
            and not is_dateline(block.key) and len(block.key) >= 20)


WORD = re.compile(r"[^\W\d_]{3,}")  # a word: a run of three or more letters
# Bytes of UTF-8 text to split words at: ASCII letters lowered, other ASCII bytes made
# spaces, the bytes of non-ASCII characters kept.
_FOLD = bytes(b + 32 if 65 <= b <= 90 else b if 97 <= b <= 122 or b >= 128 else 32 for b in range(256))


def word_counts(text: str) -> Counter[str]:
    """How often each word (WORD in the case-folded text) occurs in a text.

    Stop words and tokens shorter than a word are counted too (weigh() leaves them
    out). The same counts as Counter(WORD.findall(text.casefold())), several times
    faster: the text is split with bytes.translate (which also folds ASCII letters) and
    str.split; only tokens with non-ASCII characters are case-folded and, unless they
    are all letters ("café"), split by the regular expression ("“état’s" -> "état").
    """
    folded = text.encode("utf-8", "surrogatepass").translate(_FOLD).decode("utf-8", "surrogatepass")
    counts = Counter(folded.split())
    if not folded.isascii():
        for token in [t for t in counts if not t.isascii()]:
            n = counts.pop(token)
            token = token.casefold()  # per character, as for the whole text
            for w in (token,) if token.isalpha() else WORD.findall(token):
                counts[w] += n
    return counts


class _Vocabulary:
    """Words weighted by inverse frequency over the blocks of a dump that are compared
    (those outside the posts markers close: a long cut post does not skew them)."""

    def __init__(self, blocks: Sequence[Block], counted: Sequence[int] | None = None):
        counted = range(len(blocks)) if counted is None else counted
        self.counts = word_counts("\n".join(blocks[i].text for i in counted))
        self.n = max(len(counted), 1)
        self._idf: dict[str, float | None] = {}

    def weigh(self, counts: Counter[str]) -> dict[str, float]:
        """The tf-idf vector of word counts: each word's count times its weight."""
        idf = self._idf
        new = counts.keys() - idf.keys()
        if new:
            n1, total, log = self.n + 1, self.counts, math.log
            for w in new:  # None: a stop word or a token too short to be a word
                idf[w] = None if len(w) < 3 or w in _STOP else log(n1 / (total.get(w, 0) + 1)) + 1.0
        return {w: c * x for w, c in counts.items() if (x := idf[w]) is not None}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    dot = sum(x * b.get(w, 0.0) for w, x in a.items())
    na = math.sqrt(sum(x * x for x in a.values()))
    nb = math.sqrt(sum(x * x for x in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def _sentence_like_question(text: str) -> bool:
    """A rhetorical question inside prose, not a title: long, or with a clause after a comma."""
    return text.endswith("?") and (len(text.split()) > 12 or bool(re.search(r",\s+[a-z]", text)))


class _Segmenter:
    def __init__(self, blocks: Sequence[Block], marker: str, chrome: Sequence[str],
                 check: Callable[[], None] = lambda: None, phrases: Sequence[str] = ()):
        self.blocks = list(blocks)
        self.check = check  # raises when the dump has taken too long (feeds.ingest.budget)
        # The marker phrases that are words ("Read more"; an ellipsis alone names no title).
        words = [p for p in phrases if any(c.isalnum() for c in p)] or [" ".join(marker.split())]
        self._markers = [(p, p.casefold()) for p in words]
        self._marker_first = {c for p in words for c in (p[0].lower(), p[0].upper())}
        self.chrome = {" ".join(c.split()).casefold() for c in chrome}
        self._chrome_longest = max(map(len, self.chrome), default=-1)  # (case folding never shortens)
        self._vocab: _Vocabulary | None = None
        self.stretch_blocks: list[int] | None = None  # set by run(); None: weigh words over all blocks
        self.notes: list[str] = []
        self.chrome_blocks: list[Block] = []

    @property
    def vocab(self) -> _Vocabulary:
        """Word weights over the dump, built the first time a stretch needs them."""
        if self._vocab is None:
            self._vocab = _Vocabulary(self.blocks, self.stretch_blocks)
        return self._vocab

    # -- markers ---------------------------------------------------------------------
    def marker_title(self, block: Block) -> str | None:
        """The title a marker line names ('' when the marker names none), or None."""
        text = block.key
        if block.kind != "para" or text[0] not in self._marker_first:
            return None  # the cheap test first: most lines do not even start like a marker
        for marker, folded in self._markers:
            if len(text) <= len(folded) and text.casefold() == folded:
                return ""  # (case folding never makes a text shorter)
            if text[: len(marker) + 1].casefold() != folded + " ":
                continue
            title = text[len(marker) + 1:].strip()
            if title.endswith(_TITLE_ENDS):  # "Continue reading Title →" (the test first: it is rare)
                title = _TITLE_END.sub("", title)
            return title.strip()
        return None

    # -- whole posts in a stretch ------------------------------------------------------
    def starts_post(self, i: int, end: int, post: Counter[str] | None, pending: list[int],
                    title: str = "") -> bool:
        """Does block i (inside a stretch ending before `end`) start a post?

        `post` holds the word counts of the post open at block i (None when none is), and
        `title` its title; the blocks in `pending` are counted into it only when a similarity
        is needed. A heading equal to the open post's title ("Weekly links" each week) is
        weighed without the title's own words, which the two share.
        """
        b = self.blocks[i]
        if not heading_like(b) or i + 1 >= end or not is_prose(self.blocks[i + 1]):
            return False
        if post is None:  # no post open: any heading with a body starts one
            return True
        prev = self.blocks[i - 1]
        if prev.kind == "para" and (prev.key.endswith(":") or _ANNOUNCES_TEXT.search(prev.key)):
            return False  # the title of something the post announced
        if _INTRODUCES.search(self.blocks[i + 1].key):
            return True  # an editorial introduction follows
        if pending:
            post.update(word_counts(self._text(pending)))
            pending.clear()
        if b.key == title:  # the open post's title again
            section = word_counts(self._text(range(i + 1, min(i + 1 + SECTION_BLOCKS, end))))
            return _cosine(self.vocab.weigh(section), self.vocab.weigh(post - word_counts(b.text))) < TITLE_SIMILARITY
        words = len(b.key.split())
        short = words < SHORT_TITLE_WORDS or len(b.key) < SHORT_TITLE_CHARS
        if (words < MIN_TITLE_WORDS or len(b.key) < MIN_TITLE_CHARS or _sentence_like_question(b.key)
                or (short and b.key.endswith("?"))):  # ("What is X?": a section of an explainer)
            return False
        section = word_counts(self._text(range(i, min(i + 1 + SECTION_BLOCKS, end))))
        limit = (LONG_TITLE_SIMILARITY if words >= LONG_TITLE_WORDS else SHORT_TITLE_SIMILARITY if short
                 else TITLE_SIMILARITY)
        return _cosine(self.vocab.weigh(section), self.vocab.weigh(post)) < limit

    def _text(self, indexes: Iterable[int]) -> str:
        return "\n".join(self.blocks[j].text for j in indexes)

    def is_chrome(self, block: Block) -> bool:
        return len(block.key) <= self._chrome_longest and block.key.casefold() in self.chrome

    def split_stretch(self, start: int, end: int) -> list[tuple[int, int]]:
        """Whole posts in blocks[start:end], as (title index, end index) pairs."""
        # Chrome that ends a page (a comment form, navigation) ends the stretch.
        for j in range(start, end):
            if self.is_chrome(self.blocks[j]):
                self.chrome_blocks.extend(self.blocks[j:end])
                end = j
                break
        spans: list[tuple[int, int]] = []
        post: Counter[str] | None = None  # word counts of the open post, counted lazily
        pending: list[int] = []  # blocks of the open post not yet in its word counts
        for i in range(start, end):
            self.check()
            if self.starts_post(i, end, post, pending, self.blocks[spans[-1][0]].key if spans else ""):
                if spans:
                    spans[-1] = (spans[-1][0], i)
                spans.append((i, end))
                post, pending = Counter(), []
            elif post is None:
                self.chrome_blocks.append(self.blocks[i])
                continue
            pending.append(i)
        return spans

    # -- the page ----------------------------------------------------------------------
    def run(self) -> list[tuple[int, int, bool]]:
        """(title index, end index, truncated) for each post, page order."""
        # First the posts the markers close: (stretch start, marker, title index or None, title).
        closed: list[tuple[int, int, int | None, str]] = []
        lo = 0
        first = self._marker_first
        for m, block in enumerate(self.blocks):
            if block.key[0] not in first:
                continue  # the cheap test first, without a call: most lines do not start like the marker
            self.check()
            title = self.marker_title(block)
            if title is None:
                continue
            s = None
            if title:
                key = " ".join(title.split())
                s = next((j for j in range(m - 1, lo - 1, -1) if self.blocks[j].key == key), None)
                if s is None:
                    if heading_like(block) and m + 1 < len(self.blocks) and is_prose(self.blocks[m + 1]):
                        continue  # a title that happens to begin with the marker's words
                    self.notes.append(f"line {block.line}: no line before the marker equals its title "
                                      f"{title!r}; the post is taken to start at the last heading")
            closed.append((lo, m, s, title))
            lo = m + 1
        # Only the stretches between them are ever compared: their words weigh the words.
        self.stretch_blocks = [i for a, m, s, _ in closed for i in range(a, m if s is None else s)]
        self.stretch_blocks += range(lo, len(self.blocks))
        found: list[tuple[int, int, bool]] = []
        for a, m, s, _title in closed:
            if s is None:  # marker without a (findable) title: the last post of the stretch
                spans = self.split_stretch(a, m)
                if not spans:
                    self.notes.append(f"line {self.blocks[m].line}: marker with no post before it; ignored")
                    continue
                found.extend((x, y, False) for x, y in spans[:-1])
                found.append((spans[-1][0], m, True))
            else:
                found.extend((x, y, False) for x, y in self.split_stretch(a, s))
                found.append((s, m, True))
        found.extend((x, y, False) for x, y in self.split_stretch(lo, len(self.blocks)))
        return found


def segment(dump: str, blocks: Sequence[Block], marker: str = "Continue reading",
            chrome: Sequence[str] = DEFAULT_CHROME, check: Callable[[], None] = lambda: None,
            markers: Sequence[str] = (), edges: Edges = NO_EDGES) -> Segmentation:
    """The posts of one dump, newest (topmost) first. `check` is called as the work goes
    on, and may raise to stop it (feeds.ingest.budget.Deadline.check). `marker` and `markers`
    are the phrases that cut a post short. `edges`: what every page of the site opens and
    closes with, the site's chrome (feeds.ingest.repeats).

    A page laid out in cards (feeds.ingest.cards) is read by their shape; any other page by
    the rules above."""
    from feeds.ingest import cards  # (cards builds on the line tests above)

    phrases = cards.Markers((marker, *markers))
    blocks = lynx_references(blocks)
    alone = _segment(dump, blocks, marker, chrome, check, phrases)
    if not edges:
        return alone
    return repeats.without_site_chrome(blocks, alone, edges, lambda kept: _segment(
        dump, kept, marker, chrome, check, phrases))


def _segment(dump: str, blocks: Sequence[Block], marker: str, chrome: Sequence[str], check: Callable[[], None],
             phrases: Markers) -> Segmentation:
    from feeds.ingest import card_posts, cards

    found = cards.layout(blocks, phrases, check)
    if found is not None:
        return card_posts.segmentation(dump, blocks, found)
    seg = _Segmenter(blocks, marker, chrome, check, phrases.phrases)
    posts = []
    for position, (s, e, truncated) in enumerate(seg.run()):
        title_block = seg.blocks[s]
        body = tuple(seg.blocks[s + 1:e])
        posts.append(Post(dump=dump, title=title_block.key, start_line=title_block.line,
                          end_line=body[-1].line if body else title_block.line,
                          truncated=truncated, body=body, position=position))
    return Segmentation(tuple(posts), tuple(seg.chrome_blocks), tuple(seg.notes))


_REFERENCE = re.compile(r"^\d+\.\s+\S+:\S")


def lynx_references(blocks: Sequence[Block]) -> Sequence[Block]:
    """The blocks before the list of links lynx appends to a dump ("References" and numbered
    URLs below it): that list is never a post's."""
    return blocks[:references([b.key for b in blocks])]


def references(keys: Sequence[str]) -> int:
    """Where, in lines with these keys, the list of links lynx appends starts (len(keys): none)."""
    for i in reversed([i for i, k in enumerate(keys) if k == "References"]):
        if i + 1 < len(keys) and _REFERENCE.match(keys[i + 1]):
            return i
    return len(keys)
