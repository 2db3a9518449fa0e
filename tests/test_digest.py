"""The weekly digest: periods, what it lists, how it renders, the message, the archive."""

from __future__ import annotations

import dataclasses
import email
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import feedparser
import pytest
from bs4 import BeautifulSoup
from conftest import make_site, run_cli, write_config

from feeds import config, pipeline
from feeds.addresses import parse_address
from feeds.digest import archive, render, select
from feeds.digest.period import Period, PeriodError, Schedule
from feeds.models import DigestPost
from feeds.publish.stage import fingerprint
from feeds.publish.templates import Templates
from feeds.store import Store

LONDON = config.parse({"site": {"timezone": "Europe/London", "title": "T", "url": "https://example.org/"}})


# -- periods ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, period", [("2025-W07", "2025-W07"), ("2025-w7", "2025-W07"),
                                          (" 2020-W53 ", "2020-W53")])
def test_parse_period(text, period):
    assert Period.parse(text, "week").label == period


@pytest.mark.parametrize("text", ["2025-07", "2025-W54", "2025-W53", "W07", "2025-W00", "", "9999-W52", "0001-W01"])
def test_parse_period_says_what_is_expected(text):
    with pytest.raises(PeriodError, match="like 2025-W07"):
        Period.parse(text, "week")


def test_week_bounds_follow_local_midnight_across_a_dst_change():
    tz = LONDON.site.tz
    start, end = Period.parse("2025-W13").bounds(tz)  # 24–30 March 2025; clocks go forward on the 30th
    assert start == datetime(2025, 3, 24, 0, tzinfo=UTC)
    assert end == datetime(2025, 3, 30, 23, tzinfo=UTC)  # Monday 31 March 00:00 BST
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(days=7, hours=-1)  # a 167-hour week
    assert Period.of(datetime(2025, 3, 30, 22, 59, tzinfo=UTC), tz, "week").label == "2025-W13"
    assert Period.of(datetime(2025, 3, 30, 23, 0, tzinfo=UTC), tz, "week").label == "2025-W14"


def test_due_at_the_configured_local_hour_after_the_week():
    tz = LONDON.site.tz
    # Default: Monday 08:00 local. In summer that is 07:00 UTC.
    assert Schedule.of(LONDON).due(Period.parse("2025-W13")) == datetime(2025, 3, 31, 8, tzinfo=tz)
    assert Schedule.of(LONDON).due_period(datetime(2025, 3, 31, 6, 59, tzinfo=UTC)).label == "2025-W12"
    assert Schedule.of(LONDON).due_period(datetime(2025, 3, 31, 7, 0, tzinfo=UTC)).label == "2025-W13"
    friday = dataclasses.replace(LONDON, digest=dataclasses.replace(LONDON.digest, weekday="friday", hour=17))
    assert Schedule.of(friday).due(Period.parse("2025-W07")) == datetime(2025, 2, 21, 17, tzinfo=tz)
    assert Schedule.of(friday).due_period(datetime(2025, 2, 21, 16, 0, tzinfo=UTC)).label == "2025-W06"
    assert Schedule.of(friday).due_period(datetime(2025, 2, 21, 17, 0, tzinfo=UTC)).label == "2025-W07"


@pytest.mark.parametrize("period, label", [
    ("2025-W07", "10–16 February 2025"),
    ("2025-W09", "24 February – 2 March 2025"),
    ("2025-W01", "30 December 2024 – 5 January 2025"),
])
def test_week_label(period, label):
    assert Period.parse(period).describe() == label


# -- what a digest lists ------------------------------------------------------------------

def _dump(*titles: str, more: str = "") -> str:
    """A listing page of cut posts, each closed by the marker line."""
    return "\n\n".join(f"{t}\n\nThe opening paragraph of the post, long enough to read as prose here.{more}\n\n"
                       f"Continue reading {t}" for t in titles)


def _pass(cfg, when: str) -> pipeline.Report:
    with Store(cfg.state.path) as store:
        return pipeline.run_once(cfg, store, datetime.fromisoformat(when))


def test_each_post_is_announced_once_and_an_edit_is_not_announced_again(tmp_path):
    cfg = make_site(tmp_path, {"a": _dump("Harvest festival draws record crowds", "New railway line opens in the north")})
    _pass(cfg, "2025-02-17T09:00:00+00:00")  # first seen now, dated (first-seen) now: in the window
    with Store(cfg.state.path) as store:
        mailed = store.digest("2025-W07")
        assert mailed["kind"] == "mailed" and mailed["posts"] == 2
        assert [p.key for p in store.digest_posts("2025-W07")] == ["harvest festival draws record crowds",
                                                 "new railway line opens in the north"]
    # A week later: one new post, and the other post again, edited (a longer opening).
    (tmp_path / "dumps" / "b.txt").write_text(_dump("Fresh news of the week for the digest",
                                                     "New railway line opens in the north",
                                                     more=" Now with a second sentence."), encoding="utf-8")
    report = _pass(cfg, "2025-02-24T09:00:00+00:00")
    assert report.updated == 1
    with Store(cfg.state.path) as store:
        keys = [p.key for p in store.digest_posts("2025-W08")]
        assert keys == ["fresh news of the week for the digest"]  # the edit is not announced again


def test_window_keeps_last_week_out_of_a_first_digest(tmp_path):
    cfg = make_site(tmp_path, {"a": _dump("A post from the week before the week")})
    with Store(cfg.state.path) as store:
        pipeline.run_once(cfg, store, datetime(2025, 2, 24, 9, tzinfo=UTC))
        store.db.execute("UPDATE entries SET published = ?", ("2025-02-02T12:00:00+00:00",))  # 15 days before W08
        store.db.execute("DELETE FROM digest_entries")
        store.db.execute("DELETE FROM digests")
        assert select.select_new(store, cfg, Period.parse("2025-W08")) == []
        store.db.execute("UPDATE entries SET published = ?", ("2025-02-11T12:00:00+00:00",))  # within 7 days
        assert len(select.select_new(store, cfg, Period.parse("2025-W08"))) == 1


def test_a_missed_week_is_caught_up_once_without_losing_posts(tmp_path):
    cfg = make_site(tmp_path, {"a": _dump("The first post of the site ever seen")})
    # No back-fill window: only the rule's anchor on the previous digest keeps week 6's post.
    cfg = dataclasses.replace(cfg, digest=dataclasses.replace(cfg.digest, window_days=0))
    _pass(cfg, "2025-02-03T09:00:00+00:00")  # the digest of W05
    (tmp_path / "dumps" / "b.txt").write_text(_dump("A post first seen in week six"), encoding="utf-8")
    _pass(cfg, "2025-02-05T09:00:00+00:00")
    # Down from before W06's slot (10 February 08:00) until after W07's (17 February 08:00).
    (tmp_path / "dumps" / "c.txt").write_text(_dump("A post first seen in week eight"), encoding="utf-8")
    _pass(cfg, "2025-02-19T09:00:00+00:00")
    _pass(cfg, "2025-02-19T10:00:00+00:00")
    with Store(cfg.state.path) as store:
        periods = [r["period"] for r in store.digests(with_empty=True)]
        assert periods == ["2025-W07", "2025-W05"]  # one catch-up digest, not one per missed week
        assert [p.key for p in store.digest_posts("2025-W07")] == ["a post first seen in week eight", "a post first seen in week six"]


# -- rendering ----------------------------------------------------------------------------

def _entry(i: int, title: str | None = None) -> DigestPost:
    title = title or f"Post number {i} of a long week, with a title of a usual length"
    return DigestPost(key=title.casefold(), title=title, slug=f"post-{i}",
                      summary=("A summary of about three hundred characters, as feeds makes them. " * 5)[:300],
                      published=datetime(2025, 2, 16, 12, tzinfo=UTC) - timedelta(minutes=i), url=None)


def _selection(entries) -> select.Selection:
    return select.Selection(Period.parse("2025-W07"), "mailed", datetime(2025, 2, 17, 8, tzinfo=UTC), tuple(entries))


def test_a_week_of_100_posts_stays_under_90_kb_and_lists_the_rest():
    rendered = render.Renderer(LONDON).render(_selection(_entry(i) for i in range(100)), "a@example.org")
    size = len(rendered.html.encode("utf-8"))
    assert size < render.MAX_HTML_BYTES, size
    assert rendered.full == 20 and rendered.listed == 80
    soup = BeautifulSoup(rendered.html, "html.parser")
    assert len(soup.select("td.item")) == 20 and len(soup.select("td.rest li")) == 80
    assert "And 80 more" in soup.get_text()
    assert "And 80 more:" in rendered.text


def test_a_huge_week_shrinks_to_fit_and_links_to_the_web_page():
    big = dataclasses.replace(LONDON, digest=dataclasses.replace(LONDON.digest, max_full=500))
    rendered = render.Renderer(big).render(_selection(_entry(i) for i in range(600)), "a@example.org")
    assert len(rendered.html.encode("utf-8")) <= render.MAX_HTML_BYTES
    assert rendered.full < 500 and rendered.full + rendered.listed < 600
    assert "See all 600 posts of the week on the web" in rendered.html
    assert "http://127.0.0.1:8000/digests/2025-W07.html" in rendered.text
    page = render.Renderer(big).render(_selection(_entry(i) for i in range(600)), web=True)
    soup = BeautifulSoup(page.html, "html.parser")
    assert len(soup.select("td.item")) + len(soup.select("td.rest li")) == 600  # the web copy lists them all
    assert "See all" not in page.html and "View in browser" not in page.html


def test_titles_and_summaries_are_escaped_exactly_once():
    title = 'Tom & Jerry <script>alert("x")</script> “quoted”'
    rendered = render.Renderer(LONDON).render(_selection([_entry(0, title)]), "a@example.org")
    assert "Tom &amp; Jerry &lt;script&gt;" in rendered.html and "&amp;amp;" not in rendered.html
    assert "<script>" not in rendered.html
    soup = BeautifulSoup(rendered.html, "html.parser")
    assert soup.select_one("td.item h2 a").get_text() == title
    assert title in rendered.text  # text is text


def test_the_text_parts_signature_separator_is_dash_dash_space_on_its_own_line():
    """"-- " (RFC 3676, 4.3): what mail clients know the footer by; "--" is just text to them."""
    sel = _selection([_entry(0)])
    rendered = render.Renderer(LONDON).render(sel, "a@example.org")
    msg = render.build_message(LONDON, rendered, parse_address("a@example.org"), sel.date,
                               "<x@example.org>")
    text_part, _ = email.message_from_bytes(msg.as_bytes(), policy=policy.default).iter_parts()
    lines = text_part.get_content().replace("\r\n", "\n").split("\n")  # as the client decodes it
    assert lines.count("-- ") == 1 and "--" not in lines
    assert lines[lines.index("-- ") + 1].startswith("View this digest in a browser: ")


def test_no_text_from_a_dump_reaches_a_header():
    cfg = config.parse({"site": {"title": "Site\u2028Bcc: everyone@example.org\u2029X-Evil: 1",
                                 "timezone": "Europe/London"}})  # what the config lets through
    entry = _entry(0, "A title\rBcc: victim@example.org\nSubject: spam")
    rendered = render.Renderer(cfg).render(_selection([entry]), "a@example.org")
    msg = render.build_message(cfg, rendered, parse_address("a@example.org"),
                               datetime(2025, 2, 17, 8, tzinfo=UTC), "<x@example.org>")
    parsed = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert sorted(parsed.keys()) == sorted(["From", "To", "Subject", "Date", "Message-ID", "List-Id",
                                            "List-Unsubscribe", "MIME-Version", "Content-Type"])
    assert parsed["Subject"] == "Site Bcc: everyone@example.org X-Evil: 1 — week of 10–16 February 2025"
    assert "Bcc" not in parsed and "X-Evil" not in parsed


def test_to_holds_the_recipients_name_without_control_characters():
    sel = _selection([_entry(0)])
    msg = render.build_message(LONDON, render.Renderer(LONDON).render(sel, "a@example.org"),
                               parse_address("Ann\x1b[31m Lee\x7f <a@example.org>"), sel.date, "<x@example.org>")
    data = msg.as_bytes()
    assert b"\x1b" not in data and b"\x7f" not in data
    [to] = email.message_from_bytes(data, policy=policy.default)["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Ann [31m Lee", "a@example.org")


def test_the_message_is_the_same_bytes_every_time():
    sel = _selection(_entry(i) for i in range(5))
    make = lambda: render.build_message(  # noqa: E731
        LONDON, render.Renderer(LONDON).render(sel, "a@example.org"), parse_address("a@example.org"),
        sel.date, select.message_id("2025-W07", "a@example.org", LONDON)).as_bytes()
    assert make() == make()
    assert select.message_id("2025-W07", "a@example.org", LONDON) != select.message_id("2025-W07", "b@example.org",
                                                                                        LONDON)
    assert "a@example.org" not in select.message_id("2025-W07", "a@example.org", LONDON)


# -- the archive and the command ----------------------------------------------------------

def test_digest_command_builds_the_archive_of_the_seeds_weeks(project):
    root, cfg = project
    assert run_cli("-c", str(cfg), "--now", "2026-11-23T09:00:00+00:00").returncode == 0
    for week, posts in (("2025-W07", 5), ("2025-W06", 16)):
        (root / "out" / "digests" / f"{week}.html").unlink()  # the pass archived it; the command renders it again
        proc = run_cli("-c", str(cfg), "--now", "2026-11-23T09:00:00+00:00", "digest", "--period", week)
        assert proc.returncode == 0, proc.stderr
        assert f"{week}.html  {posts} post(s), by publication date" in proc.stdout
    out = root / "out" / "digests"
    page = BeautifulSoup((out / "2025-W07.html").read_text(encoding="utf-8"), "html.parser")
    assert page.h1.get_text() == "Week of 10–16 February 2025" and len(page.select("td.item")) == 5
    assert page.select_one("link[rel=canonical]")["href"] == "http://127.0.0.1:8000/digests/2025-W07.html"
    index = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert [a["href"] for a in index.select("main li a")][:2] == ["http://127.0.0.1:8000/digests/2025-W07.html",
                                                                  "http://127.0.0.1:8000/digests/2025-W06.html"]
    feed = feedparser.parse((out / "atom.xml").read_bytes())
    assert feed.bozo == 0 and feed.version == "atom10"
    assert [e.title for e in feed.entries][:2] == ["Friends of Socialist China — week of 10–16 February 2025",
                                               "Friends of Socialist China — week of 3–9 February 2025"]
    assert feed.entries[0].link == "http://127.0.0.1:8000/digests/2025-W07.html"
    # Rendering again changes nothing; a week not over yet is refused with the reason.
    before = {p: p.read_bytes() for p in out.iterdir()}
    assert run_cli("-c", str(cfg), "--now", "2026-11-23T09:00:00+00:00", "digest", "--period", "2025-W07")\
        .returncode == 0
    assert {p: p.read_bytes() for p in out.iterdir()} == before
    early = run_cli("-c", str(cfg), "--now", "2026-11-23T09:00:00+00:00", "digest", "--period", "2026-W48")
    assert early.returncode == 2 and "not over yet" in early.stderr and "latest week due is 2026-W47" in early.stderr


def test_preview_writes_html_text_and_eml_and_prints_sizes(project):
    root, cfg = project
    assert run_cli("-c", str(cfg), "--now", "2026-11-23T09:00:00+00:00").returncode == 0
    proc = run_cli("-c", str(cfg), "--now", "2026-11-23T09:00:00+00:00", "digest", "--period", "2025-W06",
                   "--preview")
    assert proc.returncode == 0, proc.stderr
    preview = root / "out" / "preview"
    for suffix in (".html", ".txt", ".eml"):
        path = preview / f"2025-W06{suffix}"
        assert f"{path}  {path.stat().st_size / 1000:.1f} KB" in proc.stdout
    msg = email.message_from_bytes((preview / "2025-W06.eml").read_bytes(), policy=policy.default)
    assert msg["Subject"] == "Friends of Socialist China — week of 3–9 February 2025"
    assert (preview / "2025-W06.html").stat().st_size < render.MAX_HTML_BYTES


def test_a_pass_at_the_due_time_mails_and_archives_the_digest_once(tmp_path: Path):
    seeds_cfg = write_config(tmp_path, [str(Path(__file__).resolve().parent.parent / "seeds" / "*.txt")],
                             '[digest]\nrecipients = ["reader@example.org"]\n')
    proc = run_cli("-c", str(seeds_cfg), "--now", "2025-02-17T09:00:00+00:00")
    assert proc.returncode == 0, proc.stderr
    # 21 of the 38 posts: the other 17 (back-fill) were published before 3 February, more than
    # window_days before the week began.
    assert "digest 2025-W07: 21 post(s) for 1 recipient(s), 1 email(s) written to" in proc.stdout
    with Store(tmp_path / "state" / "feeds.sqlite3") as store:
        recent = {r[0] for r in store.db.execute("SELECT key FROM entries WHERE published >= ?",
                                                 ("2025-02-03T00:00:00+00:00",))}
        assert set([p.key for p in store.digest_posts("2025-W07")]) == recent and len(recent) == 21
    assert (tmp_path / "out" / "digests" / "2025-W07.html").is_file()
    assert (tmp_path / "out" / "outbox" / "2025-W07" / "reader@example.org.eml").is_file()
    again = run_cli("-c", str(seeds_cfg), "--now", "2025-02-17T09:30:00+00:00")
    assert "digest" not in again.stdout


def test_the_digest_due_now_can_be_previewed_before_it_is_mailed(project):
    root, cfg = project
    assert run_cli("-c", str(cfg), "--now", "2025-02-17T08:30:00+00:00").returncode == 0
    with Store(root / "state" / "feeds.sqlite3") as store:  # as if the pass had not reached the digest
        for table in ("deliveries", "digest_entries", "digests"):
            store.db.execute(f"DELETE FROM {table}")
    (root / "out" / "digests" / "2025-W07.html").unlink()
    proc = run_cli("-c", str(cfg), "--now", "2025-02-17T08:30:00+00:00", "digest", "--preview")
    assert proc.returncode == 0, proc.stderr
    assert "2025-W07: 21 post(s), due now and not yet mailed" in proc.stdout
    assert (root / "out" / "preview" / "2025-W07.eml").is_file()
    assert not (root / "out" / "digests" / "2025-W07.html").exists()  # the archive holds what was mailed
    with Store(root / "state" / "feeds.sqlite3") as store:
        assert store.digest("2025-W07") is None


def test_a_digest_page_is_rendered_again_only_when_what_it_shows_changed(tmp_path):
    cfg = make_site(tmp_path, {"a": _dump("Harvest festival draws record crowds")})
    now = datetime(2025, 2, 17, 9, tzinfo=UTC)
    _pass(cfg, now.isoformat())
    page = tmp_path / "out" / "digests" / "2025-W07.html"
    with Store(cfg.state.path) as store:
        assert archive.publish_digests(store, cfg, now, _stamp(cfg)) == []  # nothing it shows changed
        store.db.execute("UPDATE entries SET summary = 'An edited summary of the festival.'")
        assert str(page) in archive.publish_digests(store, cfg, now, _stamp(cfg))
    assert "An edited summary of the festival." in page.read_text(encoding="utf-8")
    page.unlink()
    with Store(cfg.state.path) as store:
        stamp = _stamp(cfg)
        assert str(page) in archive.publish_digests(store, cfg, now, stamp)  # a deleted page comes back



def test_a_clock_stepped_back_after_a_digest_loses_no_post(tmp_path):
    cfg = make_site(tmp_path, {"a": _dump("Harvest festival draws record crowds")})
    _pass(cfg, "2025-02-17T09:00:00+00:00")  # W07 composed at 09:00
    (tmp_path / "dumps" / "b.txt").write_text(_dump("New railway line opens in the north"), encoding="utf-8")
    _pass(cfg, "2025-02-17T08:30:00+00:00")  # NTP stepped the clock back: first seen "before" the digest
    _pass(cfg, "2025-02-24T09:00:00+00:00")
    with Store(cfg.state.path) as store:
        assert [p.key for p in store.digest_posts("2025-W08")] == ["new railway line opens in the north"]


# -- the archive of past weeks: every pass --------------------------------------------------

def _html_site(root: Path, pages: dict[str, dict[str, str]], **digest_keys: object) -> config.Config:
    """A config over root/dumps/*.html, with listing pages of dated posts ({title: ISO time}) written there."""
    folder = root / "dumps"
    folder.mkdir(exist_ok=True)
    for name, posts in pages.items():
        articles = "".join(
            f'<article><h2><a href="https://example.org/{i}-{name}">{title}</a></h2>'
            f'<time datetime="{when}">{when[:10]}</time><p>The opening paragraph of the post, long enough '
            f'to read as prose here.</p></article>\n' for i, (title, when) in enumerate(posts.items()))
        (folder / f"{name}.html").write_text(f"<!doctype html><html><head><title>Blog</title></head><body><main>\n"
                                             f"{articles}</main></body></html>\n", encoding="utf-8")
    return config.parse({"site": {"title": "T", "url": "https://example.org/", "timezone": "Europe/London"},
                         "input": {"paths": [str(folder / "*.html")]}, "output": {"dir": str(root / "out")},
                         "state": {"path": str(root / "state" / "feeds.sqlite3")},
                         "digest": {"recipients": ["reader@example.org"], **digest_keys}})


def _shown(page: Path) -> list[str]:
    """The titles a digest's web page lists."""
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    return [a.get_text() for a in soup.select("td.item h2 a")]


def test_a_pass_archives_the_seeds_past_weeks_by_publication_date_and_mails_none(project):
    """The first pass long after the seeds' posts (as on a fresh clone with the real clock):
    each week with posts gets its page, as `digest --period` renders it; nothing is mailed."""
    root, cfg = project
    cfg.write_text(cfg.read_text() + '[digest]\nrecipients = ["reader@example.org"]\n', encoding="utf-8")
    proc = run_cli("-c", str(cfg), "--now", "2026-11-23T09:00:00+00:00")
    assert proc.returncode == 0, proc.stderr
    assert "digest 2026-W47: no new posts, no email" in proc.stdout  # the back-fill does not flood the week due
    out = root / "out" / "digests"
    weeks = {"2025-W07": 5, "2025-W06": 16, "2025-W05": 5, "2025-W04": 6, "2025-W03": 5, "2025-W02": 1}
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{w}.html" for w in weeks] + ["atom.xml", "index.html"])
    tz = LONDON.site.tz
    with Store(root / "state" / "feeds.sqlite3") as store:
        assert store.deliveries() == [] and not (root / "out" / "outbox").exists()
        for week, count in weeks.items():
            start, end = Period.parse(week).bounds(tz)
            published = [r[0] for r in store.db.execute(
                "SELECT title FROM entries WHERE published >= ? AND published < ? ORDER BY published DESC, key",
                (start.astimezone(UTC).isoformat(), end.astimezone(UTC).isoformat()))]
            assert _shown(out / f"{week}.html") == published and len(published) == count, week
            assert store.digest(week)["kind"] == "archived"
    index = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert [a["href"] for a in index.select("main li a")] == [f"http://127.0.0.1:8000/digests/{w}.html" for w in weeks]
    feed = feedparser.parse((out / "atom.xml").read_bytes())
    assert feed.bozo == 0 and feed.feed.updated == "2025-02-17T08:00:00+00:00"
    assert [e.link for e in feed.entries] == [f"http://127.0.0.1:8000/digests/{w}.html" for w in weeks]
    # The command renders the same page, and a pass with nothing new changes nothing.
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    proc = run_cli("-c", str(cfg), "--now", "2026-11-23T09:00:00+00:00", "digest", "--period", "2025-W06")
    assert "2025-W06.html  16 post(s), by publication date" in proc.stdout
    again = run_cli("-c", str(cfg), "--now", "2026-11-23T10:00:00+00:00")
    assert "nothing new" in again.stdout
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_only_weeks_before_the_one_due_are_archived_and_a_mailed_week_keeps_what_was_mailed(tmp_path):
    cfg = _html_site(tmp_path, {"a": {"Harvest festival draws record crowds": "2025-01-15T12:00:00+00:00",  # W03
                                      "New railway line opens in the north": "2025-01-22T12:00:00+00:00",  # W04
                                      "Fresh news of the week for the digest": "2025-02-05T12:00:00+00:00"}})  # W06
    out = tmp_path / "out" / "digests"
    _pass(cfg, "2025-02-10T09:00:00+00:00")  # W06 due: mailed, with the posts of its window (from 27 January)
    assert _shown(out / "2025-W06.html") == ["Fresh news of the week for the digest"]
    assert _shown(out / "2025-W03.html") == ["Harvest festival draws record crowds"]  # over, never mailed
    assert _shown(out / "2025-W04.html") == ["New railway line opens in the north"]
    # Monday 07:00: W07 is over but its digest is due at 08:00; W08 has begun. Neither is archived;
    # W05, before the week due (W06), is: no digest will list its post (W07's window begins 3 February).
    _html_site(tmp_path, {"b": {"A post of the current week": "2025-02-17T06:00:00+00:00",
                                "A post of last week, stored late": "2025-02-12T12:00:00+00:00",
                                "A late post of week five": "2025-02-01T12:00:00+00:00"}})
    _pass(cfg, "2025-02-17T07:00:00+00:00")
    assert not (out / "2025-W07.html").exists() and not (out / "2025-W08.html").exists()
    assert _shown(out / "2025-W05.html") == ["A late post of week five"]
    report = _pass(cfg, "2025-02-17T09:00:00+00:00")  # W07 due: the normal path mails it
    assert report.digest.startswith("digest 2025-W07: 2 post(s) for 1 recipient(s)")
    assert _shown(out / "2025-W07.html") == ["A post of the current week", "A post of last week, stored late"]
    assert not (out / "2025-W08.html").exists()
    assert _shown(out / "2025-W05.html") == ["A late post of week five"]
    # A post of mailed W06 first seen two weeks on: W06 shows what was mailed, and W08's window misses it.
    _html_site(tmp_path, {"c": {"A late post of a mailed week": "2025-02-05T18:00:00+00:00"}})
    report = _pass(cfg, "2025-02-24T09:00:00+00:00")
    assert report.digest == "digest 2025-W08: no new posts, no email"
    assert _shown(out / "2025-W06.html") == ["Fresh news of the week for the digest"]
    with Store(cfg.state.path) as store:
        assert {r["period"]: r["kind"] for r in store.digests(with_empty=True)} == {
            "2025-W08": "mailed", "2025-W07": "mailed", "2025-W06": "mailed", "2025-W05": "archived",
            "2025-W04": "archived", "2025-W03": "archived"}
        assert {r["period"] for r in store.deliveries()} == {"2025-W06", "2025-W07"}  # past weeks are not mailed


def test_a_pass_renders_only_the_past_weeks_whose_posts_changed(tmp_path, monkeypatch):
    cfg = _html_site(tmp_path, {"a": {"Harvest festival draws record crowds": "2025-01-15T12:00:00+00:00",  # W03
                                      "New railway line opens in the north": "2025-01-22T12:00:00+00:00",  # W04
                                      "Fresh news of the week for the digest": "2025-01-29T12:00:00+00:00"}})  # W05
    rendered: list[str] = []
    original = render.Renderer.render
    monkeypatch.setattr(render.Renderer, "render",
                        lambda self, sel, *a, **k: rendered.append(sel.period.label) or original(self, sel, *a, **k))
    out = tmp_path / "out" / "digests"
    _pass(cfg, "2025-03-03T09:00:00+00:00")
    assert sorted(rendered) == ["2025-W03", "2025-W04", "2025-W05"]
    rendered.clear()
    assert _pass(cfg, "2025-03-03T10:00:00+00:00").files_written == [] and rendered == []  # nothing new
    # A post in archived W04, and one in a week that had none (W02): those two pages, no other.
    _html_site(tmp_path, {"b": {"A second post of week four": "2025-01-23T12:00:00+00:00",
                                "A post of week two": "2025-01-08T12:00:00+00:00"}})
    report = _pass(cfg, "2025-03-03T11:00:00+00:00")
    assert sorted(rendered) == ["2025-W02", "2025-W04"]
    assert {str(out / "2025-W02.html"), str(out / "2025-W04.html"), str(out / "index.html"),
            str(out / "atom.xml")} <= set(report.files_written)
    assert _shown(out / "2025-W04.html") == ["A second post of week four", "New railway line opens in the north"]
    assert [e.link.rsplit("/", 1)[1] for e in feedparser.parse((out / "atom.xml").read_bytes()).entries] == [
        "2025-W05.html", "2025-W04.html", "2025-W03.html", "2025-W02.html"]
    with Store(cfg.state.path) as store:
        assert store.deliveries() == []  # past weeks are never mailed
        # The digests' feed holds the newest max_entries digests; the index lists them all.
        capped = dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, max_entries=2))
        archive.publish_digests(store, capped, datetime(2025, 3, 3, 12, tzinfo=UTC), _stamp(capped))
    feed = feedparser.parse((out / "atom.xml").read_bytes())
    assert feed.bozo == 0 and [e.link.rsplit("/", 1)[1] for e in feed.entries] == ["2025-W05.html", "2025-W04.html"]
    assert len(BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "html.parser").select("main li")) == 4


def test_a_pass_stopped_before_the_digest_stage_leaves_the_past_weeks_to_the_next_pass(tmp_path):
    cfg = _html_site(tmp_path, {"a": {"Harvest festival draws record crowds": "2025-01-15T12:00:00+00:00"}})
    _pass(cfg, "2025-03-03T09:00:00+00:00")
    _html_site(tmp_path, {"b": {"New railway line opens in the north": "2025-01-22T12:00:00+00:00"}})
    asked: list[int] = []
    with Store(cfg.state.path) as store:  # asked once for the dump read, then after publishing: stop there
        report = pipeline.run_once(cfg, store, datetime(2025, 3, 3, 10, tzinfo=UTC),
                                   should_stop=lambda: bool(asked.append(1)) or len(asked) > 1)
    assert report.stopped and report.new == 1 and report.digest == ""
    page = tmp_path / "out" / "digests" / "2025-W04.html"
    assert not page.exists()
    report = _pass(cfg, "2025-03-03T11:00:00+00:00")  # nothing new to store, but the archive is finished
    assert report.new == 0 and str(page) in report.files_written
    assert _shown(page) == ["New railway line opens in the north"]


def _stamp(cfg) -> str:
    """What a pass stamps the digests' archive with: the publishing code, config and templates."""
    return fingerprint(cfg, Templates(cfg).hash)
