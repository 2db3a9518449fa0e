"""The records handed between stages. All frozen; no I/O here."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Literal, NamedTuple

BlockKind = Literal["para", "bullet"]
DateSource = Literal["explicit", "inferred", "first-seen"]

#: Rank of each date source: a higher rank replaces a lower one, never the reverse.
DATE_SOURCE_RANK: dict[str, int] = {"first-seen": 0, "inferred": 1, "explicit": 2}


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
