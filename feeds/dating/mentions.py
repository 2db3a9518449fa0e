"""Find the day-level dates a text mentions, and what each one means.

Pure functions: the dump's time comes in as an argument.

Every day-level date a post mentions is a candidate for its publication date ("16
February 2025", "Saturday February 15, 2025", "Feb. 10", "February 23 last year"). A
date without a year takes the year nearest the dated mentions of its post (or, failing
those, of the page), agreeing with its weekday if given, or the year "last year", "this
year" or "next year" names. Dates after the dump was written are dropped. What is done
with the candidates is `feeds.dating.infer`'s.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from datetime import date

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


def reference(mentions: Sequence[Mention], upper: date) -> date | None:
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
    ref = reference(mentions, upper)
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
