"""Find the dates a text mentions and infer the publication dates of a page's posts.

Pure functions: the clock and the dump's time come in as arguments.

Inference, for the posts of one or more overlapping listing pages (newest first):

1. Every day-level date each post mentions is a candidate ("16 February 2025",
   "Saturday February 15, 2025", "Feb. 10", "February 23 last year"). A date without
   a year takes the year nearest the dated mentions of its post (or, failing those,
   of the page), agreeing with its weekday if given, or the year "last year", "this
   year" or "next year" names. Dates after the dump was written are dropped.
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
import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, tzinfo

MONTHS = {m: i for i, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
     ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
     ("oct", "october"), ("nov", "november"), ("dec", "december")], start=1) for m in names}
WEEKDAYS = {d: i for i, names in enumerate(
    [("mon", "monday"), ("tue", "tues", "tuesday"), ("wed", "wednesday"), ("thu", "thur", "thurs", "thursday"),
     ("fri", "friday"), ("sat", "saturday"), ("sun", "sunday")]) for d in names}

# Months are found by their capitalised names, as English prose writes them: first
# their three-letter prefixes (a pattern that starts with literal text scans far faster
# than one that starts with \b or a look-ahead), then the whole name, and the day,
# weekday and year around it, with short anchored patterns.
_MONTH_PREFIX = re.compile("|".join(sorted({m[:3].capitalize() for m in MONTHS} | {m[:3].upper() for m in MONTHS})))
_MONTH_WORD = re.compile(r"(?:" + "|".join(
    sorted({m.capitalize() for m in MONTHS} | {m.upper() for m in MONTHS if len(m) > 3},
           key=len, reverse=True)) + r")\b\.?")
_WD = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
# before the month: "[Sunday] 16 [of] ", "Sunday the 2nd of "
_BEFORE = re.compile(rf"(?:\b(?P<wd>{_WD})\.?,?\s+(?:the\s+)?)?\b(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?$",
                     re.IGNORECASE)
# after a "day month": ", 2025" / " 2025"
_YEAR_AFTER = re.compile(r",?\s+(?P<year>(?:1[6-9]|20)\d\d)\b")
# after the month: " 16[th][, 2025]"
_AFTER = re.compile(r"\s+(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\b(?!\s*(?:%|per\b|million|billion|[.,]\d))"
                    r"(?:,?\s+(?P<year>(?:1[6-9]|20)\d\d)\b)?")
# before a "month day": "Saturday "
_WD_BEFORE = re.compile(rf"\b(?P<wd>{_WD})\.?,?\s+$", re.IGNORECASE)
_ISO = re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<mon>[01]\d)-(?P<day>[0-3]\d)\b")
_ISO_HINT = re.compile(r"-[01]\d-")
_RELATIVE_YEAR = re.compile(r",?\s+(last|this|next)\s+year\b", re.IGNORECASE)
_SHIFT = {"last": -1, "this": 0, "next": 1}

#: What it costs (in days of lag) to take one date a post mentions for a future event.
REJECT_COST = 4
#: A top post dated this much after the next is taken to announce a future event.
HISTORY_GAP = timedelta(days=120)


class Mention(tuple[int, int, int | None, int | None, int | None]):
    """(month, day, year or None, weekday or None, year shift or None) as written.

    The shift is -1, 0 or 1 for a date followed by "last year", "this year" or "next year".
    """

    @property
    def month(self) -> int:
        return self[0]

    @property
    def day(self) -> int:
        return self[1]

    @property
    def year(self) -> int | None:
        return self[2]

    @property
    def weekday(self) -> int | None:
        return self[3]

    @property
    def shift(self) -> int | None:
        return self[4]


def find_mentions(text: str) -> list[Mention]:
    """Every day-level date written in the text, in order of appearance."""
    return mentions_in(text, [(0, len(text))])[0]


def mentions_in(text: str, spans: Sequence[tuple[int, int]]) -> list[list[Mention]]:
    """The mentions of each span (start, end) of a text, as find_mentions(text[start:end])
    would give them, in one pass over the text. The spans are in order, apart, and a line
    break or more separates them; what lies around a span is never read.
    """
    found: list[list[Mention]] = [[] for _ in spans]
    if not spans:
        return found
    starts = [lo for lo, _ in spans]
    first, last = spans[0][0], spans[-1][1]
    for hint in _MONTH_PREFIX.finditer(text, first, last):
        start = hint.start()
        k = bisect_right(starts, start) - 1
        lo, hi = spans[k]
        if start > lo and text[start - 1].isalpha():
            continue  # inside a word
        m = _MONTH_WORD.match(text, start, hi)
        if m is None:
            continue  # (also a month that is not whole in its span: outside all spans)
        month = MONTHS[m.group().rstrip(".").lower()]
        before = _BEFORE.search(text, max(lo, start - 32), start) if _day_before(text, start, lo) else None
        if before:  # 16 February [2025] (a weekday the case-blind pattern took from "Frıday" is no weekday)
            year = _YEAR_AFTER.match(text, m.end(), hi)
            wd = before.group("wd")
            found[k].append(Mention((month, int(before.group("day")), int(year.group("year")) if year else None,
                                     WEEKDAYS.get(wd.lower()) if wd else None,
                                     None if year else _shift(text, m.end(), hi))))
            continue
        after = _AFTER.match(text, m.end(), hi)
        if after:  # February 16[, 2025]
            wd_m = _WD_BEFORE.search(text, max(lo, start - 12), start) if _weekday_before(text, start, lo) else None
            found[k].append(Mention((month, int(after.group("day")),
                                     int(after.group("year")) if after.group("year") else None,
                                     WEEKDAYS.get(wd_m.group("wd").lower()) if wd_m else None,
                                     None if after.group("year") else _shift(text, after.end(), hi))))
    if _ISO_HINT.search(text, first, last):  # 2025-02-16, after the others of its span
        iso: list[list[Mention]] = [[] for _ in spans]
        for m in _ISO.finditer(text, first, last):
            k = bisect_right(starts, m.start()) - 1
            if m.end() <= spans[k][1]:
                iso[k].append(Mention((int(m.group("mon")), int(m.group("day")), int(m.group("year")), None, None)))
        found = [f + i for f, i in zip(found, iso, strict=True)]
    return [[f for f in fs if 1 <= f.day <= 31 and 1 <= f.month <= 12] for fs in found]


# The two searches back from a month are slow (a pattern tried at each of 32 places);
# these quick tests of how the text before it ends rule out most months first.
_WEEKDAY_ENDS = tuple(WEEKDAYS)
_DAY_SUFFIXES = ("st", "nd", "rd", "th")


def _day_before(text: str, at: int, lo: int = 0) -> bool:
    """Could _BEFORE match just before `at` (not before `lo`): does the text end in a digit,
    an optional "st"/"nd"/"rd"/"th", spaces and an optional "of"? (Never False when it matches.)"""
    w = text[max(lo, at - 32):at].rstrip()
    if w[-2:].lower() == "of":
        w = w[:-2].rstrip()
    if w[-2:].lower() in _DAY_SUFFIXES:
        w = w[:-2]
    return w[-1:].isdigit()


def _weekday_before(text: str, at: int, lo: int = 0) -> bool:
    """Could _WD_BEFORE match just before `at` (not before `lo`): does the text end in a
    weekday's name, an optional "." and ",", and spaces? (Never False when it matches.)"""
    w = text[max(lo, at - 12):at].rstrip()
    if w.endswith(","):
        w = w[:-1]
    if w.endswith("."):
        w = w[:-1]
    return w.lower().endswith(_WEEKDAY_ENDS)


def _shift(text: str, at: int, end: int) -> int | None:
    """-1, 0 or 1 when "last year", "this year" or "next year" follows a date at `at` (before `end`)."""
    rel = _RELATIVE_YEAR.match(text, at, end)
    return _SHIFT[rel.group(1).lower()] if rel else None


def _valid(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def resolve(mention: Mention, reference: date) -> date | None:
    """The date a mention means, its year (if missing) taken nearest the reference."""
    if mention.year is not None:
        return _valid(mention.year, mention.month, mention.day)
    if mention.shift is not None:  # "February 23 last year"
        return _valid(reference.year + mention.shift, mention.month, mention.day)
    options = [d for y in (reference.year - 1, reference.year, reference.year + 1)
               if (d := _valid(y, mention.month, mention.day))]
    if mention.weekday is not None:
        options = [d for d in options if d.weekday() == mention.weekday] or options
    return min(options, key=lambda d: (abs((d - reference).days), d)) if options else None


def _reference(mentions: Sequence[Mention], upper: date) -> date | None:
    """The median of the plausible dates with years: the centre of a text's time."""
    dated = sorted(d for m in mentions if m.year is not None
                   and (d := _valid(m.year, m.month, m.day)) and d <= upper)
    if not dated:
        return None
    # Keep the densest cluster: the dates within a year of the latest plausible one.
    recent = [d for d in dated if (dated[-1] - d).days <= 366]
    return recent[len(recent) // 2]


def post_mentions(texts: Sequence[str]) -> list[Mention]:
    """The date mentions of a post given as its texts (title, paragraphs), in order."""
    return find_mentions("\n".join(texts))


def posts_mentions(posts: Sequence[Sequence[str]]) -> list[list[Mention]]:
    """post_mentions() of each post, in one pass over all their texts."""
    spans, at = [], 0
    for texts in posts:
        end = at + sum(map(len, texts)) + max(len(texts) - 1, 0)
        spans.append((at, end))
        at = end + 1
    return mentions_in("\n".join("\n".join(texts) for texts in posts), spans)


def candidates(mentions: Sequence[Mention], page_reference: date | None, upper: date) -> list[date]:
    """A post's mentioned dates, resolved, not after `upper`, newest first, unique.

    A date without a year is read near the post's own dates with years when those are
    near the page's (a post about 1964 does not pull "Feb. 8" back to 1964).
    """
    ref = _reference(mentions, upper)
    if ref is None or (page_reference is not None and abs((ref - page_reference).days) > 400):
        ref = page_reference
    out: set[date] = set()
    for m in mentions:
        if m.year is None and ref is None:
            continue
        d = resolve(m, ref) if ref else resolve(m, upper)
        if d is not None and d <= upper:
            out.add(d)
    return sorted(out, reverse=True)


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
    # back maps each new state to (the state it came from, the day accepted or None); None for
    # a post with no candidates (every state stays as it is).
    states: dict[int | None, tuple[int, int]] = {None: (0, 0)}
    steps: list[dict[int | None, tuple[int | None, int | None]] | None] = []
    for i in range(n - 1, -1, -1):
        if not cands[i]:
            steps.append(None)
            continue
        days = [c.toordinal() for c in cands[i]]  # newest first
        negated = [-d for d in days]  # ascending, for bisect
        held = is_fixed[i]
        new: dict[int | None, tuple[int, int]] = {}
        back: dict[int | None, tuple[int | None, int | None]] = {}
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
            new, back = dict(states), {m: (m, None) for m in states}
        states = new
        steps.append(back)
    m = min(states, key=lambda k: states[k])
    out: list[date | None] = []
    for step in reversed(steps):  # from the top post down
        prev, pick = (m, None) if step is None else step[m]
        # a post that accepted nothing: fill() places it
        out.append(date.fromordinal(m) if pick is not None and m is not None else None)
        m = prev
    # A top post dated far after the next announces a future event.
    if len(out) > 1 and out[0] and out[1] and out[0] - out[1] > HISTORY_GAP and not is_fixed[0]:
        out[0] = None
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
    page_ref = _reference([m for ms in posts for m in ms], max(uppers, default=date.max))
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
    below_on_day = [0] * n  # how many posts below each one are on its day
    previous: date | None = None
    rank = 0
    for i in range(n - 1, -1, -1):
        d = days[i]
        if d is not None:
            rank = rank + 1 if d == previous else 0
            previous = d
            below_on_day[i] = rank
    out: list[datetime | None] = []
    above: datetime | None = None
    for d, rank, keep, cap in zip(days, below_on_day, held, caps, strict=True):
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
    if any(keep is not None for keep in held):  # the posts above a fixed time: after it
        below: datetime | None = None
        for i in range(n - 1, -1, -1):
            here = out[i]
            if here is None:
                continue
            if below is not None and here <= below and held[i] is None:
                after = below + timedelta(seconds=1)
                cap = caps[i]
                here = after if cap is None else max(here, min(after, cap))
                out[i] = here
            below = here
    return out
