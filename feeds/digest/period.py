"""A digest's period, and the only code that knows the cadence (`[digest] every`).

A period is a day, an ISO week or a calendar month in the site's time zone, named by its
label: "2025-02-14", "2025-W07", "2025-02". It runs from local midnight to local midnight
(so a week with a daylight-saving change lasts 167 or 169 hours), and its digest is due
after it ends, at the schedule's hour in the site's zone:

- a day: the next day at `hour`;
- a week: at `weekday` and `hour` after the week (default: the Monday right after, 08:00);
- a month: on `day` of the next month (clamped to its length: 31 is its last day) at `hour`.

Labels sort in time order within a cadence; `Period`s compare by when they end, so a digest
of another cadence (the state of a site that changed `every`) still compares by time.
"""

from __future__ import annotations

import calendar
import dataclasses
import functools
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from feeds.config import Config
from feeds.errors import FeedsError

CADENCES = ("day", "week", "month")
#: The years a period can be of: its digest's send time must be a date too.
FIRST_YEAR, LAST_YEAR = 1970, 9000


class PeriodError(FeedsError):
    pass


@dataclasses.dataclass(frozen=True)
class Words:
    """How the digests of a cadence are spoken of, in subjects, pages and templates."""

    unit: str  # "week": "the posts of the week", "every week's new posts"
    adjective: str  # "weekly": "the weekly digest"
    example: str  # a label, for messages


WORDS = {"day": Words("day", "daily", "2025-02-14"), "week": Words("week", "weekly", "2025-W07"),
         "month": Words("month", "monthly", "2025-02")}

_FORMS = {
    "week": (re.compile(r"(\d{4})-[Ww](\d{1,2})"), "an ISO week; write it like 2025-W07 (weeks 01 to 52, or 53 "
                                                    "in long years, of a year from 1970 to 9000)"),
    "day": (re.compile(r"(\d{4})-(\d{2})-(\d{2})"), "a day; write it like 2025-02-14 (a date of a year from "
                                                    "1970 to 9000)"),
    "month": (re.compile(r"(\d{4})-(\d{2})"), "a month; write it like 2025-02 (months 01 to 12 of a year from "
                                              "1970 to 9000)"),
}


@dataclasses.dataclass(frozen=True)
class Schedule:
    """When digests are due: `[digest] every`, `weekday`, `day`, `hour`, in the site's zone."""

    every: str
    tz: ZoneInfo
    hour: int = 8
    weekday: int = 0  # Monday
    day: int = 1  # of the month

    @classmethod
    def of(cls, config: Config) -> Schedule:
        d = config.digest
        return cls(d.every, config.site.tz, d.hour, d.weekday_number, d.day)

    def period_of(self, moment: datetime) -> Period:
        return Period.of(moment, self.tz, self.every)

    def parse(self, text: str) -> Period:
        """A label of this schedule's cadence; PeriodError saying what is expected."""
        return Period.parse(text, self.every)

    def due(self, period: Period) -> datetime:
        """When the period's digest is due (see the module's docstring)."""
        end = period.end
        if period.cadence == "week":
            day = end + timedelta(days=self.weekday)
        elif period.cadence == "month":
            day = end.replace(day=min(self.day, calendar.monthrange(end.year, end.month)[1]))
        else:
            day = end
        return datetime.combine(day, time(self.hour), tzinfo=self.tz)

    def due_period(self, now: datetime) -> Period:
        """The latest period whose digest is due at `now`."""
        previous = self.period_of(now).shift(-1)
        return previous if self.due(previous) <= now else previous.shift(-1)

    def next_due(self, now: datetime) -> datetime:
        """The next digest slot strictly after `now` (a slot is due within the period after)."""
        this = self.period_of(now)
        return next(due for due in (self.due(p) for p in (this.shift(-1), this, this.shift(1))) if due > now)

    def longest_wait(self) -> timedelta:
        """More than the time from any moment to the next slot (the longest period, and a day for a
        daylight-saving change and a clamped day of the month): a wait longer than this means the
        clock went back."""
        return timedelta(days={"day": 1, "week": 7, "month": 31}[self.every] + 1)


@functools.total_ordering
@dataclasses.dataclass(frozen=True)
class Period:
    """A day, an ISO week or a month: its cadence and its first day."""

    cadence: str
    start: date

    @classmethod
    def parse(cls, text: str, cadence: str | None = None) -> Period:
        """A label ('2025-W07', also '2025-w7'; '2025-02-14'; '2025-02') of `cadence`, or of any
        cadence when None (labels read from the state); PeriodError saying what is expected."""
        for name in (cadence,) if cadence else ("week", "day", "month"):
            match = _FORMS[name][0].fullmatch(text.strip())
            if match is None:
                continue
            numbers = [int(n) for n in match.groups()]
            try:
                start = (date.fromisocalendar(numbers[0], numbers[1], 1) if name == "week" else
                         date(numbers[0], numbers[1], numbers[2] if name == "day" else 1))
            except ValueError:
                break
            if FIRST_YEAR <= numbers[0] <= LAST_YEAR:
                return cls(name, start)
            break
        what = _FORMS[cadence][1] if cadence else "a period: a day, an ISO week or a month, like 2025-02-14, " \
                                                  "2025-W07 or 2025-02"
        raise PeriodError(f"--period {text!r} is not {what}")

    @classmethod
    def of(cls, moment: datetime, tz: ZoneInfo, cadence: str) -> Period:
        """The period of `cadence` that holds `moment`, in the zone `tz`."""
        day = moment.astimezone(tz).date()
        if cadence == "week":
            return cls(cadence, day - timedelta(days=day.weekday()))
        return cls(cadence, day.replace(day=1) if cadence == "month" else day)

    @property
    def end(self) -> date:
        """The day after the period (its end, exclusive)."""
        if self.cadence == "month":
            return (self.start + timedelta(days=31)).replace(day=1)
        return self.start + timedelta(days=7 if self.cadence == "week" else 1)

    @property
    def label(self) -> str:
        if self.cadence == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start:%Y-%m-%d}" if self.cadence == "day" else f"{self.start:%Y-%m}"

    def __str__(self) -> str:
        return self.label

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return (self.end, self.start) < (other.end, other.start)

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The period's start and end (exclusive): local midnights in `tz`."""
        return datetime.combine(self.start, time(0), tzinfo=tz), datetime.combine(self.end, time(0), tzinfo=tz)

    def shift(self, count: int) -> Period:
        """The period `count` periods later (earlier when negative)."""
        if self.cadence == "month":
            months = self.start.year * 12 + self.start.month - 1 + count
            return Period(self.cadence, date(months // 12, months % 12 + 1, 1))
        return Period(self.cadence, self.start + timedelta(days=count * (7 if self.cadence == "week" else 1)))

    def describe(self) -> str:
        """'10–16 February 2025' (a week; '24 February – 2 March 2025' across months, '29 December
        2025 – 4 January 2026' across years); '14 February 2025' (a day); 'February 2025' (a month)."""
        first, last = self.start, self.end - timedelta(days=1)
        if self.cadence == "day":
            return f"{first.day} {first:%B} {first.year}"
        if self.cadence == "month":
            return f"{first:%B} {first.year}"
        if first.year != last.year:
            return f"{first.day} {first:%B} {first.year} – {last.day} {last:%B} {last.year}"
        if first.month != last.month:
            return f"{first.day} {first:%B} – {last.day} {last:%B} {last.year}"
        return f"{first.day}–{last.day} {last:%B} {last.year}"

    @property
    def phrase(self) -> str:
        """What the subject names: 'week of 10–16 February 2025', '14 February 2025', 'February 2025'."""
        return f"week of {self.describe()}" if self.cadence == "week" else self.describe()

    @property
    def words(self) -> Words:
        return WORDS[self.cadence]
