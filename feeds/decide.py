"""The merge rules (pure): what storing a batch of dumps changes, given the snapshot of what
is stored, the batch's dates and `now`. The store applies it (`Store.apply`).

One entry per post: a new post gets its slug (unique against the stored slugs and the
ones this batch gave) and its id, minted once; a post seen again keeps both. The fullest
copy's text wins: a cut copy never replaces a whole one, and `updated` moves only when the
text really changes (or to stay no earlier than a moved date). A date moves to a better
source, or when the pages an inferred date was inferred from changed; an explicit one never.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo

from feeds.models import (
    DATE_SOURCE_RANK,
    MAX_CATEGORIES,
    DumpIntent,
    Entry,
    EntryIntent,
    Intents,
    ParsedDump,
    Post,
    Sighting,
    Snapshot,
    StoredEntry,
)
from feeds.normalise import body_text, mint_id, month_of, slugify, summarise, unique_slug

log = logging.getLogger(__name__)

Dated = tuple[datetime, str]  # (published, date_source)


def slug_bases(batch: Sequence[ParsedDump]) -> dict[str, str]:
    """Each post key's slug base: what the store is asked about before `intents`. (A new key is
    the normalised title, or that, a line break and a number: feeds.identity.)"""
    return {key: slugify(post.title, key.partition("\n")[0])
            for d in batch for post, key in zip(d.posts, d.keys, strict=True)}


def intents(batch: Sequence[ParsedDump], snapshot: Snapshot, dates: Mapping[str, Dated], now: datetime, *,
            tz: tzinfo, domain: str) -> Intents:
    """What storing the batch changes: each dump's entries, in order, as each dump in turn would
    change what the ones before it left; then the stored posts its pages moved. `tz`: the
    site's zone (archive months); `domain`: the site's domain (new ids)."""
    state = _Batch(snapshot, dates, now, tz, domain, dict(snapshot.entries))
    dumps = [_dump(d, state) for d in batch]
    shown = {k for d in batch for k in d.keys}
    redated = redate(snapshot.entries, {k: v for k, v in dates.items() if k not in shown}, tz)
    months = set(state.months)
    for intent in redated:
        months |= {month_of(snapshot.entries[intent.entry.key].entry.published, tz), intent.month}
    return Intents(
        dumps=tuple(d for d, _ in dumps), redated=tuple(redated),
        pending_entries=frozenset(k for _, changed in dumps for k in changed) | {i.entry.key for i in redated},
        pending_months=frozenset(months), new=state.new, updated=state.updated + len(redated))


@dataclasses.dataclass
class _Batch:
    """What the rules are given, the entries as they stand as the batch's dumps go, and what
    the dumps did so far."""

    snapshot: Snapshot
    dates: Mapping[str, Dated]
    now: datetime
    tz: tzinfo
    domain: str
    current: dict[str, StoredEntry]
    minted: set[str] = dataclasses.field(default_factory=set)  # slugs given to new entries of this batch
    months: set[str] = dataclasses.field(default_factory=set)
    new: int = 0
    updated: int = 0


def _dump(d: ParsedDump, state: _Batch) -> tuple[DumpIntent, set[str]]:
    """One dump's intent, and the keys of the entries it changed."""
    changed: set[str] = set()
    rows: list[EntryIntent] = []
    for post, key in zip(d.posts, d.keys, strict=True):
        if len(post.categories) > MAX_CATEGORIES:
            log.warning("%s: %r names %d categories; the first %d are kept (a tag cloud taken for the post's "
                        "tags? every feed listing it would grow as their square)", d.path, post.title,
                        len(post.categories), MAX_CATEGORIES)
            post = dataclasses.replace(post, categories=post.categories[:MAX_CATEGORIES])
        old = state.current.get(key)
        if old is None:
            slug = new_slug(slugify(post.title, key), state.snapshot.slugs, state.minted)
            state.minted.add(slug)
            published, source = state.dates[key]
            entry = make_entry(post, d.path, key, slug, mint_id(state.domain, state.now, slug), published, source,
                               state.now, updated=published)
            url = post.url
            state.new += 1
        else:
            merged = merge(post, d.path, old, state.dates[key], state.now, state.tz)
            if merged is None:
                continue
            entry, moved_from = merged
            state.months |= moved_from
            url = post.url or old.url
            state.updated += 1 if key not in changed else 0
        rows.append(EntryIntent(entry, url, month_of(entry.published, state.tz)))
        state.months.add(rows[-1].month)
        state.current[key] = StoredEntry(entry, url)
        changed.add(key)
    sightings = tuple(Sighting(key, p.position, p.start_line, p.end_line, p.truncated)
                      for p, key in zip(d.posts, d.keys, strict=True))
    return DumpIntent(d.path, d.record, tuple(rows), sightings), changed


def new_slug(base: str, stored: Mapping[str, frozenset[str]], minted: set[str]) -> str:
    """A new entry's slug: `base` when it is free, else base-2, base-3, … the first not stored
    nor given in this batch. `stored` holds, for each base that may be taken, the stored slugs
    equal to it or numbered after it ("Hello World 2" may be stored before "Hello World")."""
    if base not in stored and base not in minted:
        return base
    return unique_slug(base, set(stored.get(base, ())) | minted)


def merge(post: Post, dump: str, old: StoredEntry, dated: Dated, now: datetime, tz: tzinfo
          ) -> tuple[Entry, set[str]] | None:
    """A stored entry as another copy of its post (in `dump`) changes it, and the archive months it left;
    None when the copy changes nothing. An HTML copy names the post's URL, author and
    categories: they are kept."""
    entry = old.entry
    text = body_text(post.body)
    replace_text = fuller(post.truncated, text, entry) or (
        post.html is not None and entry.source_html is None and text == entry.text)
    better_date = new_date(*dated, entry)  # a better source, or other pages
    more: dict[str, object] = {k: v for k, v in (("author", post.author), ("categories", post.categories))
                               if v and v != getattr(entry, k)}
    title = " ".join(post.title.split())
    if title != entry.title and not (post.truncated and not entry.truncated):  # retitled (a cut copy's may be cut)
        more |= {"title": title, "updated": max(now, entry.published, entry.updated)}
    if post.html is not None and entry.source_html not in (None, post.html) and text == entry.text:
        more["source_html"] = post.html  # the same text made anew (newer reading code): links as made now
    new_url = post.url is not None and post.url != old.url
    if not (replace_text or better_date or more or new_url):
        return None
    if replace_text:
        entry = make_entry(post, dump, entry.key, entry.slug, entry.id, entry.published, entry.date_source,
                           entry.first_seen, updated=max(now, entry.published))
        more = {"author": post.author or old.entry.author, "categories": post.categories or old.entry.categories,
                **more}
    if more:
        entry = dataclasses.replace(entry, **more)  # type: ignore[arg-type]
    left: set[str] = set()
    if better_date:
        left.add(month_of(entry.published, tz))
        entry = redated(entry, *dated)
    return entry, left


def fuller(new_truncated: bool, new_text: str, old: Entry) -> bool:
    """Does a new copy replace the stored text? A cut copy never replaces a whole one."""
    if new_text == old.text:
        return False
    if old.truncated and not new_truncated:
        return True
    if new_truncated and not old.truncated:
        return False
    if new_truncated:  # both cut: the longer excerpt
        return len(new_text) > len(old.text)
    return True  # both whole and different: the post was edited


def new_date(published: datetime, source: str, entry: Entry) -> bool:
    """Does a date found now replace the stored one? A better source does; an inferred date
    moves when the pages it was inferred from changed; an explicit one never."""
    return (DATE_SOURCE_RANK[source] > DATE_SOURCE_RANK[entry.date_source]
            or (source == entry.date_source == "inferred" and published != entry.published))


def redated(entry: Entry, published: datetime, source: str) -> Entry:
    """The entry with a new date. `updated` moves only when the text changes, or to stay
    no earlier than the new date."""
    return dataclasses.replace(entry, published=published, date_source=source,  # type: ignore[arg-type]
                               updated=max(entry.updated, published))


def redate(stored: Mapping[str, StoredEntry], dates: Mapping[str, Dated], tz: tzinfo) -> list[EntryIntent]:
    """The stored posts whose dates move: those dated with the batch's pages that none of them
    shows (a post further down an older page), in key order."""
    out = []
    for key in sorted(dates):
        old = stored.get(key)
        if old is not None and new_date(*dates[key], old.entry):
            entry = redated(old.entry, *dates[key])
            out.append(EntryIntent(entry, old.url, month_of(entry.published, tz)))
    return out


def make_entry(post: Post, dump: str, key: str, slug: str, id_: str, published: datetime, source: str,
               first_seen: datetime, *, updated: datetime) -> Entry:
    """An entry made from a copy of its post in `dump` (its text, summary, title, author, categories)."""
    return Entry(key=key, id=id_, slug=slug, title=" ".join(post.title.split()),
                 source_html=post.html, summary=summarise(b.text for b in post.body),
                 text=body_text(post.body), truncated=post.truncated, published=published, updated=updated,
                 date_source=source,  # type: ignore[arg-type]
                 first_seen=first_seen, source=f"{dump}:{post.start_line}", author=post.author,
                 categories=post.categories)
