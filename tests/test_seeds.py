"""What the issue expects of the two seed dumps (segmentation and dates)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime

import pytest
from conftest import NOW, SEEDS, run_cli

from feeds.ingest.segment import segment
from feeds.ingest.text import read_text

SEED_000, SEED_003 = SEEDS


def posts_of(path):
    return segment(str(path), read_text(path).blocks).posts


@pytest.mark.parametrize("path, total, cut", [(SEED_000, 20, 13), (SEED_003, 20, 16)])
def test_post_counts(path, total, cut):
    posts = posts_of(path)
    assert len(posts) == total
    assert sum(p.truncated for p in posts) == cut


def test_distinct_posts_across_seeds():
    titles = [p.title for s in SEEDS for p in posts_of(s)]
    assert len(set(titles)) == 38
    assert [t for t, n in Counter(titles).items() if n == 2] and max(Counter(titles).values()) == 2


def test_marker_post_starts_at_the_line_equal_to_its_title():
    by_title = {p.title: p for p in posts_of(SEED_000)}
    post = by_title["Remembering Cha Cha Jiménez"]
    assert post.start_line == 480 and post.truncated
    assert any(b.line == 512 for b in post.body), "the line that merely contains the title stays inside"


def test_banner_is_chrome_not_a_post():
    seg = segment(str(SEED_000), read_text(SEED_000).blocks)
    assert [b.line for b in seg.chrome] == [1]
    assert seg.posts[0].start_line == 3


def test_subheadings_stay_inside_their_post():
    by_start = {p.start_line: p for p in posts_of(SEED_000)}
    panama = by_start[583]
    assert not panama.truncated and panama.end_line == 631
    assert {597, 611, 621} <= {b.line for b in panama.body}


def test_republished_articles_stay_inside_and_the_next_whole_post_is_found():
    by_start = {p.start_line: p for p in posts_of(SEED_003)}
    assert by_start[435].end_line == 788 and not by_start[435].truncated
    inside = {b.line for b in by_start[435].body}
    assert {507, 546, 567, 608, 649, 682, 703, 730} <= inside
    assert by_start[790].end_line == 814 and not by_start[790].truncated


def test_end_line_is_the_last_text_line_not_the_marker():
    first = posts_of(SEED_000)[0]
    assert first.end_line == 31  # line 33 is "Continue reading …"


@pytest.fixture(scope="module")
def inspect_rows() -> list[dict]:
    """What `inspect --json` shows of the seeds (read once for the tests below: it touches nothing)."""
    proc = run_cli("inspect", "--json", "--now", NOW, *map(str, SEEDS), check=True)
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_inferred_dates_follow_page_order_and_are_not_in_the_future(inspect_rows):
    rows = inspect_rows
    assert {r["date_source"] for r in rows} == {"inferred"}
    for dump in {r["dump"] for r in rows}:
        page = [datetime.fromisoformat(r["published"]) for r in rows if r["dump"] == dump]
        assert page == sorted(page, reverse=True), f"{dump}: dates must not increase down the page"
        assert len(set(page)) == len(page), "distinct times keep the order in readers"
    assert max(datetime.fromisoformat(r["published"]) for r in rows) <= datetime.fromisoformat(NOW)


def test_announced_future_event_is_not_the_date_of_its_announcement(inspect_rows):
    rows = {r["start_line"]: r for r in inspect_rows if r["dump"].endswith(SEED_000.name)}
    announcement, report = rows[520], rows[35]  # announces the 16 February webinar; reports on it
    assert datetime.fromisoformat(announcement["published"]) < datetime.fromisoformat(report["published"])
    assert date.fromisoformat(announcement["published"][:10]) < date(2025, 2, 16)


def test_history_does_not_date_a_post(inspect_rows):
    for r in inspect_rows:
        assert r["published"][:4] == "2025", (r["title"], r["published"])


@pytest.mark.parametrize("first, second", [(35, 520), (520, 35), (248, 396), (396, 248)])
def test_whole_posts_on_one_subject_next_to_each_other_stay_two(first, second):
    """An event's announcement and its report (sharing paragraphs), two statements on Gaza:
    appended whole, one after the other, to the page they come from, both are found."""
    text = SEED_000.read_text(encoding="utf-8")
    by_start = {p.start_line: p for p in posts_of(SEED_000)}
    extra = []
    for start in (first, second):
        p = by_start[start]
        extra += [p.title, *(("  • " if b.kind == "bullet" else "") + b.text for b in p.body)]
    page = text + "\n\n" + "\n\n".join(extra) + "\n"
    from feeds.ingest.text import parse_blocks
    found = segment("page.txt", parse_blocks(page)).posts
    assert [p.title for p in found[-2:]] == [by_start[first].title, by_start[second].title]
    assert len(found) == 22
