"""Digest cadences besides the week: [digest] every = "day" | "month" (and "week", unchanged).

Labels, bounds across daylight-saving changes, due times (the month's day clamped to its
length), and real passes: subjects, archive pages, the exactly-once ledger, catch-up once.
"""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import feedparser
import pytest
from bs4 import BeautifulSoup
from conftest import run_cli, write_config

from feeds import config, pipeline, status
from feeds.digest.period import Period, PeriodError, Schedule
from feeds.errors import ConfigError
from feeds.store import Store

LONDON = config.parse({"site": {"timezone": "Europe/London"}}).site.tz


def _schedule(every: str, **keys: object) -> Schedule:
    cfg = config.parse({"site": {"timezone": "Europe/London"}, "digest": {"every": every, **keys}})
    return Schedule.of(cfg)


# -- labels and bounds --------------------------------------------------------------------

@pytest.mark.parametrize("cadence, text, label, described", [
    ("day", "2025-02-14", "2025-02-14", "14 February 2025"),
    ("day", " 2024-02-29 ", "2024-02-29", "29 February 2024"),
    ("week", "2025-w7", "2025-W07", "10–16 February 2025"),
    ("month", "2025-02", "2025-02", "February 2025"),
])
def test_a_label_of_each_cadence_reads_and_prints_back(cadence, text, label, described):
    period = Period.parse(text, cadence)
    assert (period.cadence, period.label, period.describe()) == (cadence, label, described)
    assert Period.parse(label) == period  # a label read from the state names its cadence


@pytest.mark.parametrize("cadence, text, expected", [
    ("day", "2025-02-30", "like 2025-02-14"), ("day", "2025-W07", "like 2025-02-14"),
    ("day", "1969-12-31", "like 2025-02-14"), ("month", "2025-13", "like 2025-02"),
    ("month", "2025-02-14", "like 2025-02"), ("week", "2025-02", "like 2025-W07"),
])
def test_a_label_of_another_form_says_what_the_cadence_expects(cadence, text, expected):
    with pytest.raises(PeriodError, match=expected):
        Period.parse(text, cadence)


def test_periods_shift_and_order_across_years():
    assert Period.parse("2024-12").shift(1).label == "2025-01"
    assert Period.parse("2025-01").shift(-13).label == "2023-12"
    assert Period.parse("2024-12-31").shift(1).label == "2025-01-01"
    assert Period.parse("2025-W01").shift(-1).label == "2024-W52"
    assert Period.parse("2025-01") < Period.parse("2025-02") and Period.parse("2025-02-14") < Period.parse("2025-02")
    assert Period.parse("2025-W07") < Period.parse("2025-02")  # (by their ends: 17 February, 1 March)


def test_a_day_or_month_follows_local_midnight_across_dst_changes():
    spring, autumn = Period.parse("2025-03-30"), Period.parse("2025-10-26")
    start, end = spring.bounds(LONDON)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23)
    start, end = autumn.bounds(LONDON)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=25)
    assert Period.of(datetime(2025, 3, 30, 23, 30, tzinfo=UTC), LONDON, "day").label == "2025-03-31"  # 00:30 BST
    assert Period.of(datetime(2025, 3, 31, 22, 59, tzinfo=UTC), LONDON, "month").label == "2025-03"
    assert Period.of(datetime(2025, 3, 31, 23, 0, tzinfo=UTC), LONDON, "month").label == "2025-04"  # 00:00 BST


# -- due times ----------------------------------------------------------------------------

def test_a_days_digest_is_due_at_the_hour_the_next_day_in_local_time():
    day = _schedule("day", hour=7)
    assert day.due(Period.parse("2025-03-29")) == datetime(2025, 3, 30, 6, tzinfo=UTC)  # 07:00 BST
    assert day.due(Period.parse("2025-02-14")) == datetime(2025, 2, 15, 7, tzinfo=UTC)  # 07:00 GMT
    assert day.due_period(datetime(2025, 3, 30, 5, 59, tzinfo=UTC)).label == "2025-03-28"
    assert day.due_period(datetime(2025, 3, 30, 6, 0, tzinfo=UTC)).label == "2025-03-29"
    assert day.next_due(datetime(2025, 3, 30, 6, 0, tzinfo=UTC)) == datetime(2025, 3, 31, 6, tzinfo=UTC)
    assert day.next_due(datetime(2025, 3, 30, 5, 0, tzinfo=UTC)) == datetime(2025, 3, 30, 6, tzinfo=UTC)


@pytest.mark.parametrize("day, month, due", [
    (1, "2025-02", datetime(2025, 3, 1, 8, tzinfo=UTC)),
    (31, "2025-01", datetime(2025, 2, 28, 8, tzinfo=UTC)),  # February has 28 days: its last
    (31, "2024-01", datetime(2024, 2, 29, 8, tzinfo=UTC)),  # a leap year: 29
    (30, "2025-02", datetime(2025, 3, 30, 7, tzinfo=UTC)),  # 08:00 BST, the day clocks go forward
    (31, "2025-03", datetime(2025, 4, 30, 7, tzinfo=UTC)),  # April has 30
])
def test_a_months_digest_is_due_on_the_day_of_the_next_month_clamped_to_its_length(day, month, due):
    monthly = _schedule("month", day=day)
    assert monthly.due(Period.parse(month)) == due
    assert monthly.due_period(due - timedelta(seconds=1)) == Period.parse(month).shift(-1)
    assert monthly.due_period(due).label == month
    assert monthly.next_due(due - timedelta(seconds=1)) == due


@pytest.mark.parametrize("every, keys", [("day", {"hour": 0}), ("day", {"hour": 23}), ("week", {"weekday": "sunday"}),
                                         ("month", {"day": 31}), ("month", {"day": 1, "hour": 23})])
def test_the_next_slot_is_never_further_than_the_loops_longest_wait(every, keys):
    schedule = _schedule(every, **keys)
    now = datetime(2024, 12, 20, 0, 30, tzinfo=UTC)
    while now < datetime(2026, 1, 10, tzinfo=UTC):
        slot = schedule.next_due(now)
        assert now < slot and slot - now < schedule.longest_wait(), now
        assert schedule.due(schedule.due_period(slot)) == slot  # at its slot, a period is the one due
        now += timedelta(hours=17, minutes=13)


@pytest.mark.parametrize("keys, key, expected", [({"every": "fortnight"}, "digest.every", "one of day, week, month"),
                                                 ({"day": 0}, "digest.day", "a day of the month from 1 to 31"),
                                                 ({"day": 32}, "digest.day", "a day of the month from 1 to 31")])
def test_a_bad_cadence_or_day_stops_with_the_key_the_value_and_what_is_right(keys, key, expected):
    with pytest.raises(ConfigError) as caught:
        config.parse({"digest": keys})
    assert caught.value.key == key and caught.value.value == next(iter(keys.values()))
    assert expected in str(caught.value)


# -- real passes --------------------------------------------------------------------------

def _site(root: Path, posts: dict[str, str], **digest_keys: object) -> config.Config:
    """A config over root/dumps/*.html; `posts` ({title: ISO time}) added as one more listing page."""
    folder = root / "dumps"
    folder.mkdir(exist_ok=True)
    name = f"page{len(list(folder.iterdir()))}"
    articles = "".join(
        f'<article><h2><a href="https://example.org/{name}-{i}">{title}</a></h2><time datetime="{when}">'
        f'{when[:10]}</time><p>The opening paragraph of the post, long enough to read as prose here.</p></article>\n'
        for i, (title, when) in enumerate(posts.items()))
    (folder / f"{name}.html").write_text(f"<!doctype html><html><head><title>Blog</title></head><body><main>\n"
                                         f"{articles}</main></body></html>\n", encoding="utf-8")
    return config.parse({"site": {"title": "T", "url": "https://example.org/", "timezone": "Europe/London"},
                         "input": {"paths": [str(folder / "*.html")]}, "output": {"dir": str(root / "out")},
                         "state": {"path": str(root / "state" / "feeds.sqlite3")},
                         "digest": {"recipients": ["reader@example.org"], "window_days": 0, **digest_keys}})


def _pass(cfg: config.Config, when: datetime) -> pipeline.Report:
    with Store(cfg.state.path) as store:
        return pipeline.run_once(cfg, store, when)


def _ledger(cfg: config.Config) -> dict[str, str]:
    with Store(cfg.state.path) as store:
        return {r["period"]: r["status"] for r in store.deliveries()}


def _mail(cfg: config.Config, label: str) -> email.message.EmailMessage:
    data = (cfg.outbox / label / "reader@example.org.eml").read_bytes()
    return email.message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_a_daily_digest_end_to_end(tmp_path):
    cfg = _site(tmp_path, {"Monday news": "2025-02-10T12:00:00+00:00"}, every="day")
    report = _pass(cfg, datetime(2025, 2, 12, 7, 59, tzinfo=UTC))  # the 11th is due at 08:00 on the 12th
    assert report.digest == "digest 2025-02-10: 1 post(s) for 1 recipient(s), 1 email(s) written to " \
                            f"{cfg.outbox}"
    _site(tmp_path, {"Tuesday news": "2025-02-11T12:00:00+00:00"})
    report = _pass(cfg, datetime(2025, 2, 12, 8, 0, tzinfo=UTC))
    assert report.digest.startswith("digest 2025-02-11: 1 post(s) for 1 recipient(s), 1 email(s) written")
    msg = _mail(cfg, "2025-02-11")
    assert msg["Subject"] == "T — 11 February 2025" and msg["Date"] == "Wed, 12 Feb 2025 08:00:00 +0000"
    text = msg.get_body(("plain",)).get_content()
    assert "Tuesday news" in text and "Monday news" not in text and "You receive this daily digest" in text
    page = _soup(cfg.output.dir / "digests" / "2025-02-11.html")
    assert page.h1.get_text() == "11 February 2025" and "All daily digests" in page.get_text()
    index = _soup(cfg.output.dir / "digests" / "index.html")
    assert index.h1.get_text() == "Daily digests"
    assert [li.get_text(" ", strip=True) for li in index.select("main li")] == [
        "11 February 2025 · 1 post", "10 February 2025 · 1 post"]
    feed = feedparser.parse((cfg.output.dir / "digests" / "atom.xml").read_bytes())
    assert feed.bozo == 0 and feed.feed.title == "T: daily digests"
    assert [e.title for e in feed.entries] == ["T — 11 February 2025", "T — 10 February 2025"]
    # Exactly once: more passes that day mail nothing more, and the file is not written again.
    mtime = (cfg.outbox / "2025-02-11" / "reader@example.org.eml").stat().st_mtime_ns
    assert _pass(cfg, datetime(2025, 2, 12, 9, 0, tzinfo=UTC)).digest == ""
    assert (cfg.outbox / "2025-02-11" / "reader@example.org.eml").stat().st_mtime_ns == mtime
    assert _ledger(cfg) == {"2025-02-10": "sent", "2025-02-11": "sent"}
    # Down for three days: one catch-up digest, for the latest day due, with the posts of all three.
    _site(tmp_path, {"Thursday news": "2025-02-13T12:00:00+00:00", "Friday news": "2025-02-14T12:00:00+00:00"})
    report = _pass(cfg, datetime(2025, 2, 16, 9, 0, tzinfo=UTC))
    assert report.digest.startswith("digest 2025-02-15: 2 post(s) for 1 recipient(s), 1 email(s) written")
    assert _ledger(cfg) == {"2025-02-10": "sent", "2025-02-11": "sent", "2025-02-15": "sent"}
    assert "Friday news" in _mail(cfg, "2025-02-15").get_body(("plain",)).get_content()
    assert _pass(cfg, datetime(2025, 2, 17, 8, 0, tzinfo=UTC)).digest == "digest 2025-02-16: no new posts, no email"


def test_a_monthly_digest_end_to_end_with_the_day_clamped_and_the_clocks_changed(tmp_path):
    cfg = _site(tmp_path, {"February news": "2025-02-10T12:00:00+00:00", "January news": "2025-01-20T12:00:00+00:00"},
                every="month", day=31)
    report = _pass(cfg, datetime(2025, 2, 28, 8, 0, tzinfo=UTC))  # January's: 31 is February's 28th
    assert report.digest.startswith("digest 2025-01: 2 post(s) for 1 recipient(s), 1 email(s) written")
    msg = _mail(cfg, "2025-01")
    assert msg["Subject"] == "T — January 2025" and msg["Date"] == "Fri, 28 Feb 2025 08:00:00 +0000"
    assert "All 2 posts of the month" not in msg.get_body(("plain",)).get_content()
    assert "You receive this monthly digest" in msg.get_body(("plain",)).get_content()
    page = _soup(cfg.output.dir / "digests" / "2025-01.html")
    assert page.h1.get_text() == "January 2025" and page.title.get_text() == "T — January 2025"
    assert _soup(cfg.output.dir / "digests" / "index.html").h1.get_text() == "Monthly digests"
    assert _pass(cfg, datetime(2025, 3, 15, 9, 0, tzinfo=UTC)).digest == ""
    # February's is due on 31 March at 08:00 BST (07:00 UTC): the clocks went forward on the 30th.
    _site(tmp_path, {"March news": "2025-03-05T12:00:00+00:00"})
    assert _pass(cfg, datetime(2025, 3, 31, 6, 59, tzinfo=UTC)).digest == ""
    report = _pass(cfg, datetime(2025, 3, 31, 7, 0, tzinfo=UTC))
    assert report.digest.startswith("digest 2025-02: 1 post(s) for 1 recipient(s), 1 email(s) written")
    assert _mail(cfg, "2025-02")["Date"] == "Mon, 31 Mar 2025 08:00:00 +0100"
    assert _pass(cfg, datetime(2025, 3, 31, 8, 0, tzinfo=UTC)).digest == ""  # once
    assert _ledger(cfg) == {"2025-01": "sent", "2025-02": "sent"}


def test_digest_period_takes_the_cadences_label(tmp_path):
    cfg = _site(tmp_path, {"January news": "2025-01-20T12:00:00+00:00"}, every="month")
    path = write_config(tmp_path, [str(tmp_path / "dumps" / "*.html")], '[digest]\nevery = "month"\n')
    now = "2025-03-02T09:00:00+00:00"
    proc = run_cli("-c", str(path), "--now", now, "digest", "--period", "2025-W03")
    assert proc.returncode == 2 and "--period '2025-W03' is not a month; write it like 2025-02" in proc.stderr
    assert run_cli("-c", str(path), "--now", now).returncode == 0  # a pass archives January (out of February's window)
    page = cfg.output.dir / "digests" / "2025-01.html"
    page.unlink()
    proc = run_cli("-c", str(path), "--now", now, "digest", "--period", "2025-01", "--preview")
    assert proc.returncode == 0, proc.stderr
    assert f"{page}  1 post(s), by publication date" in proc.stdout and page.is_file()
    assert (cfg.output.dir / "preview" / "2025-01.eml").is_file()
    proc = run_cli("-c", str(path), "--now", now, "digest", "--period", "2025-03")
    assert proc.returncode == 2 and "the month 2025-03 is not over yet" in proc.stderr
    assert "the latest month due is 2025-02" in proc.stderr


def test_a_site_that_changes_its_cadence_mails_each_post_once_and_each_period_once(tmp_path):
    """Labels of two cadences do not sort by time ('2025-W06' after '2025-02'): periods do."""
    weekly = _site(tmp_path, {"Early February news": "2025-02-05T12:00:00+00:00"})
    assert _pass(weekly, datetime(2025, 2, 10, 9, 0, tzinfo=UTC)).digest.startswith("digest 2025-W06: 1 post(s)")
    monthly = _site(tmp_path, {"Mid February news": "2025-02-12T12:00:00+00:00"}, every="month")
    assert _pass(monthly, datetime(2025, 2, 20, 9, 0, tzinfo=UTC)).digest == ""  # January ended before W06
    assert "next digest:  2025-02 (February 2025), due Sat 01 Mar 2025 08:00" in status.render(
        status.gather(monthly, datetime(2025, 2, 20, 9, 0, tzinfo=UTC)))
    report = _pass(monthly, datetime(2025, 3, 1, 8, 0, tzinfo=UTC))
    assert report.digest.startswith("digest 2025-02: 1 post(s) for 1 recipient(s)")
    assert "Early February news" not in _mail(monthly, "2025-02").get_body(("plain",)).get_content()
    assert _pass(monthly, datetime(2025, 3, 1, 9, 0, tzinfo=UTC)).digest == ""
    assert _ledger(monthly) == {"2025-W06": "sent", "2025-02": "sent"}
