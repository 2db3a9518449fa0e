"""Infer the publication dates of a page's posts from the dates they mention.

Pure functions: the dump's time comes in as an argument.

For the posts of one or more overlapping listing pages (newest first):

1. Every day-level date each post mentions is a candidate (`feeds.dating.mentions`).
2. A mentioned date is a lower bound: a post comes out after what it reports and
   after the posts below it. choose() picks, per post, one candidate to accept or
   none, minimising the lag of each post behind the date it accepts plus a cost for
   each mention later than its date (an announced future event). History lies before
   a post's date and is simply not accepted.
3. Posts that accept no date are placed between their dated neighbours (fill());
   posts with nothing to go on are left to the caller (the time they were first seen).
"""

from __future__ import annotations

import heapq
import itertools
from bisect import bisect_left
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, tzinfo

from feeds.dating.mentions import Mention, candidates, reference

#: What it costs (in days of lag) to take one date a post mentions for a future event.
REJECT_COST = 4
#: A top post dated this much after the next is taken to announce a future event.
HISTORY_GAP = timedelta(days=120)


def choose(cands: Sequence[Sequence[date]], fixed: Sequence[bool] = ()) -> list[date | None]:
    """Publication dates (or None) for posts in newest-first order, from their candidates.

    A mentioned date is a lower bound: a post is published after the events it reports,
    and after every post below it. So a post's date is the latest candidate it accepts,
    or the date of the post below it if that is later (a running maximum from the
    bottom of the page). Each post accepts one of its candidates or none; the choice
    minimises, over the page, for each post:

    * accepting c: the lag of its date behind c, plus REJECT_COST for each of its
      candidates after its date (taken for announced future events: a post cannot
      quietly drop a later date it reports);
    * accepting none: REJECT_COST for each candidate after its date, at least once.
      Candidates before its date (history) cost nothing more, whatever the date.

    An announced future event, accepted, would push every post above it later: that
    costs more than rejecting it. A post whose date is `fixed` (given by an HTML dump, or
    settled by an earlier pass) keeps it exactly. Posts that accept nothing get None
    (fill() places them).
    Dynamic programming from the bottom over (post, running maximum).
    """
    n = len(cands)
    is_fixed = [i < len(fixed) and fixed[i] for i in range(n)]
    # Dates as day numbers. state: running max (None: nothing accepted yet) -> (cost, -sum of
    # accepted days); the smaller sum of days breaks ties towards later dates. For each post,
    # a step maps each new state to (the state it came from, the day accepted or None); None
    # for a post with no candidates (every state stays as it is).
    states: _Costs = {None: (0, 0)}
    steps: list[_Back | None] = []
    for i in range(n - 1, -1, -1):
        if not cands[i]:
            steps.append(None)
            continue
        states, back = _step(states, [c.toordinal() for c in cands[i]], is_fixed[i])
        steps.append(back)
    out = _walk_back(states, steps)
    # A top post dated far after the next announces a future event.
    if len(out) > 1 and out[0] and out[1] and out[0] - out[1] > HISTORY_GAP and not is_fixed[0]:
        out[0] = None
    return out


_Costs = dict[int | None, tuple[int, int]]
_Back = dict[int | None, tuple[int | None, int | None]]


def _step(states: _Costs, days: Sequence[int], held: bool) -> tuple[_Costs, _Back]:
    """One post's choices (its candidate `days`, newest first) from each state of the posts
    below it: the new states, and how each was reached."""
    negated = [-d for d in days]  # ascending, for bisect
    new: _Costs = {}
    back: _Back = {}
    # Each state's options, tried in this order (the first of equal costs wins): accepting
    # none; accepting a candidate after m (it becomes the running max); accepting the latest
    # candidate not after m (the others not after m cost more for the same max).
    for m, (cost, neg) in states.items():
        above = len(days) if m is None else bisect_left(negated, -m)  # candidates after m
        if not held:
            option = (cost + REJECT_COST * (above or 1), neg)
            best = new.get(m)
            if best is None or option < best:
                new[m] = option
                back[m] = (m, None)
        for k in range(above):
            c = days[k]
            option = (cost + REJECT_COST * k, neg - c)
            best = new.get(c)
            if best is None or option < best:
                new[c] = option
                back[c] = (m, c)
        if m is not None and above < len(days):
            c = days[above]
            if not held or c == m:  # a fixed date cannot be pushed later
                option = (cost + (m - c) + REJECT_COST * above, neg - c)
                best = new.get(m)
                if best is None or option < best:
                    new[m] = option
                    back[m] = (m, c)
    if not new:  # a settled date that the posts below contradict: keep what is below
        return dict(states), {m: (m, None) for m in states}
    return new, back


def _walk_back(states: _Costs, steps: Sequence[_Back | None]) -> list[date | None]:
    """The dates of the cheapest final state's choices, from the top post down."""
    m = min(states, key=lambda k: states[k])
    out: list[date | None] = []
    for step in reversed(steps):
        prev, pick = (m, None) if step is None else step[m]
        # a post that accepted nothing: fill() places it
        out.append(date.fromordinal(m) if pick is not None and m is not None else None)
        m = prev
    return out


def fill(chosen: Sequence[date | None]) -> list[date | None]:
    """Dates for the posts with none: spread evenly between the dated posts above and
    below (in whole days), or the nearest dated post's when there is only one side."""
    known = [(i, d) for i, d in enumerate(chosen) if d is not None]
    if not known:
        return [None] * len(chosen)
    out: list[date | None] = list(chosen)
    above: tuple[int, date] | None = None
    nxt = 0  # known[nxt] is the first dated post below i (one sweep down the page)
    for i, d in enumerate(chosen):
        if d is not None:
            above = (i, d)
            nxt += 1
            continue
        below = known[nxt] if nxt < len(known) else None
        if above and below:
            (ja, da), (jb, db) = above, below
            span = (da - db).days
            out[i] = db + timedelta(days=round(span * (jb - i) / (jb - ja)))
        else:
            out[i] = (above or below)[1]  # type: ignore[index]
    return out


def infer(posts: Sequence[Sequence[Mention]], uppers: Sequence[date],
          known: Sequence[date | None] = ()) -> list[date | None]:
    """Publication dates for posts in newest-first order, each given as its date mentions.

    `uppers[i]` is the latest date post i can have. `known[i]`, when set, is a date
    settled elsewhere (given by an HTML dump, or by an earlier pass): it is kept and bounds
    its neighbours.
    """
    known = list(known) + [None] * (len(posts) - len(known))
    page_ref = reference([m for ms in posts for m in ms], max(uppers, default=date.max))
    cands = [[k] if k is not None else candidates(ms, page_ref, u)
             for ms, k, u in zip(posts, known, uppers, strict=True)]
    return fill(choose(cands, [k is not None for k in known]))


def merge_orders(pages: Sequence[Sequence[str]]) -> list[str]:
    """One newest-first order of the keys of several pages, consistent with each page.

    Pages overlap where they share posts (page 1 ends with what page 2 begins with).
    A topological merge: a key comes after every key shown above it on any page; ties
    go to the earlier page and position. Where pages disagree (a cycle), the first
    waiting key in page order goes next. (Kahn's algorithm with a heap: n log n, for a
    history of many thousands of linked posts.)
    """
    rank: dict[str, tuple[int, int]] = {}
    for p, keys in enumerate(pages):
        for i, k in enumerate(keys):
            rank.setdefault(k, (p, i))
    by_rank = sorted(rank, key=rank.__getitem__)
    number = {k: n for n, k in enumerate(by_rank)}  # keys as their rank order
    below: list[set[int]] = [set() for _ in by_rank]  # the keys shown right below each
    waiting = [0] * len(by_rank)  # how many distinct keys shown right above each are not placed yet
    for keys in pages:
        for upper, lower in itertools.pairwise(keys):
            u, v = number[upper], number[lower]
            if v not in below[u]:
                below[u].add(v)
                waiting[v] += 1
    ready = [n for n, w in enumerate(waiting) if w == 0]  # (ascending: already a heap)
    placed = [False] * len(by_rank)
    done: list[str] = []
    first = 0  # no key before it in rank order is waiting
    while len(done) < len(by_rank):
        while ready and placed[ready[0]]:
            heapq.heappop(ready)
        if ready:
            n = heapq.heappop(ready)
        else:  # a cycle: take the first in page order
            while placed[first]:
                first += 1
            n = first
        placed[n] = True
        done.append(by_rank[n])
        for v in below[n]:
            waiting[v] -= 1
            if waiting[v] == 0 and not placed[v]:
                heapq.heappush(ready, v)
    return done


def at_page_time(days: Sequence[date | None], tz: tzinfo, latest: Sequence[datetime] = (),
                 fixed: Sequence[datetime | None] = ()) -> list[datetime | None]:
    """Date-only estimates to aware datetimes that keep the page order.

    Each post gets noon in the site's zone, plus one second per post below it on the
    same day, so that sorting by time gives back the page order; counted from below, a
    new post on top of a day leaves the times of the posts under it as they were. A
    second, not a minute: a day with many posts (a history with few dates piles them up
    on one) stays within its day up to 43,200 of them; a minute apart, 721 ran into the
    next day, so that the stored time's day was not the day inferred, and a later pass
    that took it as settled moved its neighbours. No time is later than the post's
    `latest` (when the dump showing it was written); a post pulled earlier by that pulls
    the ones below it along, a second apart. A post with a `fixed` time keeps it: the
    posts below it come before it, and those above it after it (a second apart, when
    their estimates were not already), if their `latest` allows.
    """
    n = len(days)
    held = [*fixed[:n], *[None] * (n - len(fixed))]
    caps = [*(t.astimezone(tz).replace(microsecond=0) for t in latest[:n]), *[None] * (n - len(latest))]
    out: list[datetime | None] = []
    above: datetime | None = None
    for d, rank, keep, cap in zip(days, _below_on_day(days), held, caps, strict=True):
        if d is None:
            out.append(None)
            continue
        t = datetime.combine(d, time(12, 0), tz) + timedelta(seconds=rank)
        if keep is not None:
            t = keep.astimezone(tz)
        else:
            if cap is not None and t > cap:
                t = cap
            if above is not None and t >= above:
                t = above - timedelta(seconds=1)
        out.append(t)
        above = t
    if any(keep is not None for keep in held):
        _after_fixed(out, held, caps)
    return out


def _below_on_day(days: Sequence[date | None]) -> list[int]:
    """How many posts below each one are on its day."""
    below_on_day = [0] * len(days)
    previous: date | None = None
    rank = 0
    for i in range(len(days) - 1, -1, -1):
        d = days[i]
        if d is not None:
            rank = rank + 1 if d == previous else 0
            previous = d
            below_on_day[i] = rank
    return below_on_day


def _after_fixed(out: list[datetime | None], held: Sequence[datetime | None],
                 caps: Sequence[datetime | None]) -> None:
    """Move the posts above a fixed time after it (a second apart), if their cap allows."""
    below: datetime | None = None
    for i in range(len(out) - 1, -1, -1):
        here = out[i]
        if here is None:
            continue
        if below is not None and here <= below and held[i] is None:
            after = below + timedelta(seconds=1)
            cap = caps[i]
            here = after if cap is None else max(here, min(after, cap))
            out[i] = here
        below = here
