"""The records handed between stages. All frozen; no I/O here."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal, NamedTuple

BlockKind = Literal["para", "bullet"]
DateSource = Literal["explicit", "inferred", "first-seen"]

#: Rank of each date source: a higher rank replaces a lower one, never the reverse.
DATE_SOURCE_RANK: dict[str, int] = {"first-seen": 0, "inferred": 1, "explicit": 2}

#: An entry keeps at most this many categories, the first its dump names (the pass warns
#: when it leaves some out). Each is an element in every feed that lists the entry and,
#: with category feeds, a feed of its own that lists the entry with all of them: work and
#: bytes grow as the square of a post's categories (10,000 tags made a pass take hours).
MAX_CATEGORIES = 100


class _BlockFields(NamedTuple):
    line: int  # 1-based line number in the dump
    text: str  # as in the dump (non-breaking spaces kept), without the bullet sign
    kind: BlockKind
    key: str  # the text for matching: non-breaking spaces folded, whitespace collapsed


class Block(_BlockFields):
    """One paragraph or bullet line of a dump. Immutable.

    A named tuple rather than a frozen dataclass: a large ingest makes hundreds of
    thousands of them, and a frozen dataclass takes five times as long to make.
    """

    __slots__ = ()

    def __new__(cls, line: int, text: str, kind: BlockKind = "para", key: str = "") -> Block:
        return tuple.__new__(cls, (line, text, kind, key or match_key(text)))


def match_key(text: str) -> str:
    """Text for matching: non-breaking spaces folded to spaces, whitespace collapsed."""
    return " ".join(text.replace("\u00a0", " ").split())


@dataclasses.dataclass(frozen=True, slots=True)
class Dump:
    """A dump file read into blocks."""

    path: str
    blocks: tuple[Block, ...]
    warnings: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Post:
    """A post found in a dump: its title and its body blocks, in page order."""

    dump: str
    title: str
    start_line: int  # the title's line
    end_line: int  # the post's last line of text (not the marker line)
    truncated: bool
    body: tuple[Block, ...]
    position: int  # 0 for the newest (topmost) post of its page
    url: str | None = None  # the post's original URL, when a dump gives it (HTML dumps)
    published: datetime | None = None  # the date the dump gives (HTML dumps): date_source "explicit"
    author: str | None = None
    categories: tuple[str, ...] = ()
    html: str | None = None  # the body as cleaned HTML (HTML dumps); None: made from the blocks


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    """A post normalised for publication, as kept in the store."""

    key: str  # the normalised title: identity within the site
    id: str  # minted once, never recomputed
    slug: str
    title: str
    source_html: str | None  # the body as HTML when a dump gave HTML; None: made from `text`
    summary: str
    text: str  # the body as plain text: paragraphs separated by blank lines, bullets after "• "
    truncated: bool
    published: datetime
    updated: datetime
    date_source: DateSource
    first_seen: datetime
    source: str  # "<dump>:<line>" of the copy the entry's text comes from
    author: str | None = None  # as an HTML dump names it; None: the site's author
    categories: tuple[str, ...] = ()  # categories and tags, as an HTML dump lists them


@dataclasses.dataclass(frozen=True, slots=True)
class DigestPost:
    """What a digest shows of a post: no body."""

    key: str
    title: str
    summary: str
    slug: str
    published: datetime
    url: str | None  # the original URL, when a dump gave one


@dataclasses.dataclass(frozen=True)
class DumpRecord:
    path: str
    size: int
    mtime_ns: int
    sha256: str
    status: str
    posts: int
    error: str | None


@dataclasses.dataclass(frozen=True)
class StoredEntry:
    """An entry as stored: the Entry fields plus the original URL (or None)."""

    entry: Entry
    url: str | None


@dataclasses.dataclass(frozen=True)
class ParsedDump:
    """One dump read: its record, its posts (finished) and each post's identity."""

    path: str
    record: DumpRecord
    posts: tuple[Post, ...]
    keys: tuple[str, ...]  # each post's identity (normalise.identity of its title)
    latest: datetime  # when the dump was written (or now, if earlier): its posts existed by then


@dataclasses.dataclass(frozen=True)
class Limits:
    """How much of the stored history a batch is dated with, and how it is read."""

    #: A batch is dated with the stored pages linked to it, a step of links at a time, until
    #: they show this many stored posts besides the batch's own. A site dumped week after week
    #: links every page it ever had; the dates of posts further away are settled: they stay as
    #: stored, and bound the dates of the posts above them.
    link_limit: int = 400
    #: Stored entries are read this many at a time (one query each).
    chunk: int = 500


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """What the store holds that dating and deciding one batch need, read in one step before
    them: the rules then ask the store nothing."""

    entries: Mapping[str, StoredEntry]  # the stored entries of the batch's posts and the linked pages' posts
    pages: Mapping[str, Sequence[str]]  # stored pages linked to the batch by shared posts: path -> keys, topmost first
    written: Mapping[str, datetime]  # when each of those pages was written (not after the pass's now)
    settled: frozenset[str]  # stored posts at the edge of the link limit: their dates stay as stored
    slugs: Mapping[str, frozenset[str]]  # a new post's slug base that may be taken -> the stored slugs
    # equal to it or numbered after it (base-2, …)

    @classmethod
    def empty(cls) -> Snapshot:
        """What an empty store holds."""
        return cls({}, {}, {}, frozenset(), {})


class Sighting(NamedTuple):
    """Where a dump showed a post."""

    key: str
    position: int
    start_line: int
    end_line: int
    truncated: bool


@dataclasses.dataclass(frozen=True)
class EntryIntent:
    """An entry to insert or update, with its original URL and its archive month (YYYY-MM)."""

    entry: Entry
    url: str | None
    month: str


@dataclasses.dataclass(frozen=True)
class DumpIntent:
    """What storing one dump writes: its entries (in order), where it showed each post, its record."""

    path: str
    record: DumpRecord
    entries: tuple[EntryIntent, ...]
    sightings: tuple[Sighting, ...]


@dataclasses.dataclass(frozen=True)
class Intents:
    """What storing a batch changes, for the store to apply in one transaction."""

    dumps: tuple[DumpIntent, ...]
    redated: tuple[EntryIntent, ...]  # stored posts the batch's pages moved that none of them shows
    pending_entries: frozenset[str]  # keys of the entries to publish again
    pending_months: frozenset[str]  # archive months to publish again
    new: int
    updated: int
