"""Date a batch of dumps together with the stored pages linked to it (pure).

The pages of the batch are dated together with the stored pages they are linked to by
shared posts (as earlier passes read them; the store's snapshot names them, up to its
link limit): the dates then do not depend on which dumps came in which pass or batch,
and a page read later corrects the inferred dates of posts stored before it
(`feeds.decide` applies that). Beyond the limit, dates are settled: the posts at the edge
keep their stored dates, which bound their neighbours, so a pass's work does not grow with
years of linked history. Pages that share posts are merged into one newest-first order.
Explicit dates (HTML dumps) are kept and bound their neighbours. A post's date mentions
are read from its fullest copy (whole before cut, then the longer text). No post is
dated after the earliest dump that shows it was written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, tzinfo

from feeds.dating.infer import at_page_time, infer, merge_orders
from feeds.dating.mentions import Mention, posts_mentions
from feeds.models import ParsedDump, Post, Snapshot
from feeds.normalise import body_text

#: A page is compared with this many pages written before it, to find posts pinned to its top.
PINNED_COMPARED = 3

Dated = tuple[datetime, str]  # (published, date_source)


def dates_for(batch: Sequence[ParsedDump], snapshot: Snapshot, tz: tzinfo) -> dict[str, Dated]:
    """A publication time and its source for every post of the batch, and for the stored
    posts of the pages linked to it."""
    pages: dict[str, Sequence[str]] = {d.path: d.keys for d in batch} | dict(snapshot.pages)
    written: dict[str, datetime] = {d.path: d.latest for d in batch} | dict(snapshot.written)
    copies: dict[str, list[Post]] = {}  # the batch's copies of each post
    explicit: dict[str, datetime] = {}
    for d in batch:
        for p, k in zip(d.posts, d.keys, strict=True):
            copies.setdefault(k, []).append(p)
            if p.published is not None:
                explicit.setdefault(k, p.published)
    stored = _stored(snapshot, {k for page in pages.values() for k in page}, explicit)
    mentions = _mentions(snapshot, sorted({k for page in pages.values() for k in page}), copies)
    fixed = {**stored.fixed, **explicit}
    latest_of: dict[str, datetime] = {}  # a post existed when the first dump showing it was written
    for path, page in pages.items():
        for k in page:
            latest_of[k] = min(latest_of.get(k, written[path]), written[path])
    # In path order, as one pass reads them. A post pinned to the top of the listing says
    # nothing about the order of the others: it is dated on its own.
    pinned = pinned_posts(pages, written)
    ordered = [[k for k in pages[path] if k not in pinned] for path in sorted(pages)]
    ordered += [[k] for k in sorted(pinned)]
    out: dict[str, Dated] = {}
    for group in linked(ordered):
        order = merge_orders(group)
        known = [fixed[k].astimezone(tz).date() if k in fixed else None for k in order]
        latest = [latest_of[k] for k in order]
        days = infer([mentions.get(k, ()) for k in order], [t.astimezone(tz).date() for t in latest], known)
        times = at_page_time(days, tz, latest, [fixed.get(k) for k in order])
        for rank, (k, t) in enumerate(zip(order, times, strict=True)):
            if k in snapshot.settled and k in stored.dated:
                out[k] = stored.dated[k]
            elif k in explicit:
                out[k] = (explicit[k], "explicit")
            elif t is not None:
                out[k] = (t, "inferred")
            elif k in stored.dated:  # nothing to go on, and a date stored already: it stays
                out[k] = stored.dated[k]
            else:  # nothing to go on: when it was first seen (its dump written), in page order
                out[k] = (latest_of[k] - timedelta(seconds=rank), "first-seen")
    return out


class _Stored:
    """The stored dates of the keys: each one's (published, source), and the dates that stay."""

    def __init__(self) -> None:
        self.dated: dict[str, Dated] = {}
        self.fixed: dict[str, datetime] = {}  # the settled posts' dates (a time first seen bounds nothing)


def _stored(snapshot: Snapshot, keys: set[str], explicit: dict[str, datetime]) -> _Stored:
    """The stored dates of these keys. A stored explicit date stays: it goes into `explicit`."""
    stored = _Stored()
    for k in sorted(keys):
        old = snapshot.entries.get(k)
        if old is None:
            continue
        e = old.entry
        stored.dated[k] = (e.published, e.date_source)
        if k in snapshot.settled:
            if e.date_source != "first-seen":
                stored.fixed[k] = e.published
        elif e.date_source == "explicit":
            explicit[k] = e.published
    return stored


def _mentions(snapshot: Snapshot, keys: Sequence[str], copies: Mapping[str, Sequence[Post]]
              ) -> dict[str, Sequence[Mention]]:
    """The date mentions of each post not settled, read from its fullest copy: the batch's or
    the stored one (whole before cut, then the longer text)."""
    fullest = {}
    for k in keys:
        old = snapshot.entries.get(k)
        if old is not None and k in snapshot.settled:
            continue  # its date stays: no mentions needed
        options = [(not p.truncated, len(t), t, p.title) for p in copies.get(k, ()) for t in [body_text(p.body)]]
        if old is not None:
            options.append((not old.entry.truncated, len(old.entry.text), old.entry.text, old.entry.title))
        if options:
            fullest[k] = max(options)
    return dict(zip(fullest, posts_mentions([[c[3], c[2]] for c in fullest.values()]), strict=True))


def pinned_posts(pages: Mapping[str, Sequence[str]], written: Mapping[str, datetime]) -> set[str]:
    """Posts pinned to the top of a listing ("sticky" posts): a later dump of a page shows a
    post the earlier one did not, below them and above a post both show. On a listing in
    time order new posts come in at the top only, so the posts above such a newcomer stayed
    where they were. Each page is compared with the last pages written before it that
    share a post with it (the dumps of one page follow each other)."""
    shows: dict[str, list[str]] = {}
    for path, keys in pages.items():
        for k in keys:
            shows.setdefault(k, []).append(path)
    pinned: set[str] = set()
    for path, keys in pages.items():
        earlier = {other for k in keys for other in shows[k] if written[other] < written[path]}
        for other in sorted(earlier, key=lambda o: (written[o], o), reverse=True)[:PINNED_COMPARED]:
            before = set(pages[other])
            both = [i for i, k in enumerate(keys) if k in before]
            newcomers = [i for i in range(both[0] + 1, both[-1]) if keys[i] not in before] if both else []
            if newcomers:
                pinned.update(k for k in keys[:newcomers[0]] if k in before)
    return pinned


def linked(pages: Sequence[Sequence[str]]) -> list[list[Sequence[str]]]:
    """Pages grouped by shared keys (union-find), in their original order."""
    parent = list(range(len(pages)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, keys in enumerate(pages):
        for k in keys:
            if k in owner:
                parent[find(i)] = find(owner[k])
            else:
                owner[k] = i
    groups: dict[int, list[Sequence[str]]] = {}
    for i, keys in enumerate(pages):
        groups.setdefault(find(i), []).append(keys)
    return list(groups.values())
