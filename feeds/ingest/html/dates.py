"""The dates a saved page gives for its posts: machine-readable (ISO) values, dates written
in a byline or text (English, German, French, Spanish, Italian, Dutch or Portuguese month
names, or day.month.year in figures as German, Russian and others write it), which are
plausible, and the aware time a post is dated with.

(The month table overlaps feeds.dates' and feeds.ingest.segment's: one multilingual table
could serve all three; left for when the dating room settles.)
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from zoneinfo import ZoneInfo

#: An ISO date and time as pages write them: "2024-03-12", "2024-03-12T10:00:00Z",
#: Hugo's "2024-03-12 00:00:00 +0000 UTC".
ISO_TIME = re.compile(r"\s*(?P<date>\d{4}-\d{2}-\d{2})(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?"
                      r"\s*(?P<zone>Z|[+-]\d{2}:?\d{2})?")


_MONTHS = {}
for _names in (
        "january february march april may june july august september october november december",
        "jan feb mar apr may jun jul aug sep oct nov dec",
        "januar februar märz april mai juni juli august september oktober november dezember",
        "jänner feber maerz",
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
        "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
        "januari februari maart april mei juni juli augustus september oktober november december",
        "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro"):
    words = _names.split()
    if len(words) == 12:
        _MONTHS.update({w: i + 1 for i, w in enumerate(words)})
_MONTHS.update({"jänner": 1, "feber": 2, "maerz": 3, "sept": 9})
_MONTH = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_TEXT_DATES = [  # (pattern, groups as day, month, year)
    (re.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th|er)?\.?\s*(?:de\s+)?(?P<m>{_MONTH})\.?,?\s*(?:de\s+)?(?P<y>\d{{4}})\b",
                re.I), None),
    (re.compile(rf"\b(?P<m>{_MONTH})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})\b", re.I), None),
    (re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b"), None),
    (re.compile(r"(?<![\d.])(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})\b"), None),  # 05.12.2022 (day first)
]


class PlausibleDates:
    """Is a date a page gives plausible for a post? Not before 1990 (before the web); not
    more than a day after the page was saved, when that is known (`written`; the day leaves
    room for time zones); else not after the year 9000. Other dates are mistakes or
    placeholders (0001-01-01, 9999-12-31) that date arithmetic does not survive. Each one
    refused is named in `warnings`. A value that does not parse is left to the pass, which
    ignores it (explicit_time, below)."""

    EARLIEST = date(1990, 1, 1)
    LATEST = date(9000, 12, 31)

    def __init__(self, path: str, written: datetime | None = None):
        self.path, self.written = path, written
        self.warnings: dict[str, None] = {}  # (in order, each once)

    def __call__(self, value: str) -> bool:
        match = ISO_TIME.match(value)
        try:
            day = date.fromisoformat(match["date"]) if match else None
        except ValueError:
            day = None
        if match is None or day is None:
            return True
        if day < self.EARLIEST:
            why = f"before {self.EARLIEST.isoformat()}"
        elif self.written is not None and self._moment(match, day) > self.written + timedelta(days=1):
            why = (f"more than a day after the page was saved, or the pass's clock if earlier "
                   f"({self.written.isoformat(timespec='seconds')})")
        elif self.written is None and day > self.LATEST:
            why = f"after {self.LATEST.isoformat()}"
        else:
            return True
        self.warnings[f"{self.path}: ignored the date {value!r}, {why}; the post is dated otherwise"] = None
        return False

    @staticmethod
    def _moment(match: re.Match[str], day: date) -> datetime:
        """The time a matched value means (UTC when it names no zone: a day's margin covers that)."""
        try:
            moment = datetime.fromisoformat(f"{match['date']}T{match['time'] or '00:00'}"
                                            f"{(match['zone'] or '').replace('Z', '+00:00')}")
        except ValueError:  # (a time such as 25:00: the day alone)
            moment = datetime.combine(day, datetime.min.time())
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_text_date(text: str) -> date | None:
    """The first calendar date written in `text`, in one of the month-name languages above."""
    for pattern, _ in _TEXT_DATES:
        m = pattern.search(text)
        if not m:
            continue
        month = m["m"]
        number = int(month) if month.isdigit() else _MONTHS.get(month.lower().rstrip("."))
        try:
            return date(int(m["y"]), number or 0, int(m["d"]))
        except (ValueError, TypeError):
            continue
    return None


def explicit_time(value: str | None, tz: ZoneInfo, latest: datetime, rank: int) -> datetime | None:
    """A date an HTML page gives, as an aware time: a time without a zone is in the site's;
    a date alone is at noon (minus the post's rank in minutes, to keep the page's order),
    never after the dump was written."""
    match = ISO_TIME.match(value or "")
    if not match:
        return None
    try:
        if not match["time"]:
            day = datetime.fromisoformat(match["date"]).date()
            return min(datetime.combine(day, dt_time(12), tzinfo=tz) - timedelta(minutes=rank), latest)
        zone = (match["zone"] or "").replace("Z", "+00:00")
        moment = datetime.fromisoformat(f"{match['date']}T{match['time']}{zone}")
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)
