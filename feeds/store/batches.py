"""A batch of dumps as the store sees it: one read of what its dating and merge rules need
(`snapshot_for`), and one write of what they decided (`apply`), both inside the batch's
transaction. The rules themselves (`feeds.dating.pages`, `feeds.decide`) ask the store nothing."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from feeds.identity import OPENING_CHARS, Assigner, Identity
from feeds.models import DumpRecord, Intents, Limits, ParsedDump, Post, Snapshot
from feeds.normalise import body_text, may_be_taken
from feeds.store.dumps import Dumps
from feeds.store.entries import Entries

log = logging.getLogger(__name__)

Pages = dict[str, Sequence[str]]


def post_identity(post: Post) -> Identity:
    """What identifies a post (feeds.identity): its URL, title and opening words, read from the
    blocks that make its text's first OPENING_CHARS characters (as its entry's text begins)."""
    shown, length = 0, 0
    while shown < len(post.body) and length < OPENING_CHARS:
        length += len(post.body[shown].text) + 4  # (with the blank line between, or a bullet's "• ")
        shown += 1
    return Identity.of(post.title, body_text(post.body[:shown]), post.url)


class Batches(Dumps, Entries):
    def identify(self, batch: Sequence[ParsedDump]) -> list[ParsedDump]:
        """The batch with each post's key: the stored entry it is a copy of (feeds.identity), or a
        new one. A copy of a removed entry (a tombstone) is left out, with a line in the log."""
        idents = [[post_identity(p) for p in d.posts] for d in batch]
        flat = [i for dump in idents for i in dump]
        assigner = Assigner(self.known_identities((i.url for i in flat if i.url), (i.title for i in flat),
                                                  (i.typo_key for i in flat if i.typo_key)), self.keys_of_title)
        out = []
        for d, dump_idents in zip(batch, idents, strict=True):
            keys = [assigner.key(i) for i in dump_idents]
            if None in keys:
                log.info("%s: %d post(s) removed by `feeds entries remove` left out", d.path, keys.count(None))
                kept = [(p, k) for p, k in zip(d.posts, keys, strict=True) if k is not None]
                d = dataclasses.replace(d, posts=tuple(p for p, _ in kept), keys=tuple(k for _, k in kept))
            else:
                d = dataclasses.replace(d, keys=tuple(k for k in keys if k is not None))
            out.append(d)
        return out

    def snapshot_for(self, pages: Mapping[str, Sequence[str]], bases: Mapping[str, str], now: datetime,
                     limits: Limits) -> Snapshot:
        """What dating and storing a batch need of the store. `pages`: the batch's dumps (path ->
        post keys, topmost first); `bases`: each post key's slug base (normalise.slugify)."""
        linked, written, settled = self.linked_pages(pages, now, limits.link_limit)
        keys = sorted({k for page in (*pages.values(), *linked.values()) for k in page})
        entries = self.get_many(keys, limits.chunk)
        new = [base for key, base in bases.items() if key not in entries]
        taken = may_be_taken(new, self.stored_slugs(new))
        slugs = {base: frozenset(self.slugs_like(base)) for base in sorted(taken)}
        return Snapshot(entries, linked, written, frozenset(settled), slugs)

    def linked_pages(self, pages: Mapping[str, Sequence[str]], now: datetime, link_limit: int
                     ) -> tuple[Pages, dict[str, datetime], set[str]]:
        """The stored pages linked to these by shared posts, a step of links at a time until
        `link_limit` stored posts besides theirs (path -> post keys, topmost first); when each
        was written (not after now); and the settled posts: stored posts of the pages taken
        that pages not taken may also show (their dates stay as stored).

        Within a step, the pages written last are taken first: a post shown on every page (one
        pinned to the top of the listing) links every dump of that page in one step.
        """
        linked: Pages = {}
        written: dict[str, datetime] = {}
        own = {k for page in pages.values() for k in page}
        keys, frontier, seen = set(own), set(own), set(pages)
        records: dict[str, DumpRecord] = {}
        step = 0
        while frontier:  # one step of links at a time
            if step and len(keys) - len(own) >= link_limit:
                return linked, written, frontier  # their other pages are not read
            step += 1
            found = self.pages(self.pages_showing(frontier) - seen)
            if found and not records:
                records = self.dumps()
            frontier = set()
            left = dict(found)
            for path in sorted(found, key=lambda p: (_written(records.get(p), now), p), reverse=True):
                if frontier and len(keys) + len(frontier) - len(own) >= link_limit:  # (frontier: not in keys)
                    break
                linked[path], written[path] = left.pop(path), _written(records.get(path), now)
                seen.add(path)
                frontier.update(k for k in linked[path] if k not in keys)
            keys |= frontier
            if left:  # the limit came within this step
                beyond = {k for page in left.values() for k in page}
                return linked, written, (frontier | (keys & beyond)) - own
        return linked, written, set()

    def apply(self, intents: Intents, now: datetime) -> None:
        """Write what storing a batch decided (inside the batch's transaction): each dump's
        entries in order (new entries' rowids follow the order they were first seen), where it
        showed its posts and its record; the stored posts moved; what is to be published."""
        for dump in intents.dumps:
            self.put((i.entry, i.url, i.month) for i in dump.entries)
            self.replace_sightings(dump.path, dump.sightings)
            self.record_dump(dump.record, now)
        self.put((i.entry, i.url, i.month) for i in intents.redated)
        self.add_pending("entry", sorted(intents.pending_entries))
        self.add_pending("month", sorted(intents.pending_months))


def _written(record: DumpRecord | None, now: datetime) -> datetime:
    """When a stored dump was written, as its modification time says (not after now)."""
    return min(datetime.fromtimestamp(record.mtime_ns / 1e9, now.tzinfo), now) if record else now
