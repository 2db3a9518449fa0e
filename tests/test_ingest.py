"""The reading room (feeds.ingest): one registry of readers that return finished posts.

A new dump format is one reader registered in one place; the pass never looks inside a
reader's results; bs4 and nh3 stay inside the HTML reader.
"""

from __future__ import annotations

import ast
import dataclasses
import logging
from datetime import datetime

import feedparser
from conftest import NOW, REPO, make_site

from feeds import config, ingest, pipeline
from feeds.errors import DumpError
from feeds.ingest import READERS, html, text
from feeds.ingest.reader import Found, Settings, Source
from feeds.models import Block, Post
from feeds.store import Store


def read_csv(source: Source, settings: Settings) -> Found:
    """A toy format: one post a line, `YYYY-MM-DD,title,text`, newest first."""
    posts = []
    lines = source.data.decode("utf-8").splitlines()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        day, title, body = line.split(",", 2)
        published = datetime.fromisoformat(day).replace(hour=12, tzinfo=settings.tz)
        posts.append(Post(dump=source.path, title=title, start_line=n, end_line=n, truncated=False,
                          body=(Block(n, body),), position=len(posts), published=published))
    if not posts:
        raise DumpError(source.path, "no posts in this CSV dump")
    return Found(tuple(posts[:source.max_posts]), ((logging.INFO, f"{source.path}: {len(posts)} line(s)"),))


def test_a_new_dump_format_is_one_reader_registered_in_one_place(tmp_path):
    cfg = make_site(tmp_path, {"page": "Harbour wall to be repaired\n\nThe council met on Monday and agreed "
                                       "to repair the harbour wall before winter.\n"})
    toy = tmp_path / "dumps" / "posts.csv"
    toy.write_text("2025-02-20,Ferry timetable changes,The spring timetable starts in March.\n"
                   "2025-02-10,New library hours,The library opens on Sundays from now on.\n", encoding="utf-8")
    cfg = dataclasses.replace(cfg, input=dataclasses.replace(cfg.input, paths=(*cfg.input.paths, str(toy))))
    readers = READERS.adding(read_csv, ".csv")

    with Store(cfg.state.path) as store:
        report = pipeline.run_once(cfg, store, datetime.fromisoformat(NOW), readers=readers)
        assert report.dumps_read == 2 and report.new == 3 and not report.skipped and not report.failed
        stored = {e.entry.title: e.entry for e in store.newest()}
    assert stored["Ferry timetable changes"].date_source == "explicit"
    assert stored["Ferry timetable changes"].published.isoformat() == "2025-02-20T12:00:00+00:00"
    assert stored["New library hours"].text == "The library opens on Sundays from now on."
    feed = feedparser.parse((tmp_path / "out" / "atom.xml").read_bytes())
    assert [e.title for e in feed.entries] == ["Harbour wall to be repaired", "Ferry timetable changes",
                                              "New library hours"]  # (the text post: dated when first seen)
    assert (tmp_path / "out" / "posts" / "new-library-hours.html").exists()
    # The registry the pass was given is a new one: the default reads a .csv as text, as before.
    assert READERS.reader_for(str(toy)) is text.read and readers.reader_for(str(toy)) is read_csv


def test_without_its_reader_the_toy_format_is_read_as_text(tmp_path):
    cfg = make_site(tmp_path, {})
    toy = tmp_path / "dumps" / "posts.csv"
    toy.write_text("2025-02-20,Ferry timetable changes,The spring timetable starts in March.\n", encoding="utf-8")
    cfg = dataclasses.replace(cfg, input=dataclasses.replace(cfg.input, paths=(str(toy),)))
    with Store(cfg.state.path) as store:
        report = pipeline.run_once(cfg, store, datetime.fromisoformat(NOW))
    assert report.dumps_read == 0 and report.skipped == [f"{toy}: no posts found (no title followed by text, and "
                                                         "no 'Continue reading <title>' lines)"]


def test_a_reader_is_chosen_by_the_end_of_the_file_name_whatever_its_case():
    assert READERS.reader_for("a/page.HTML") is html.read and READERS.reader_for("p.xhtml") is html.read
    assert READERS.reader_for("notes.txt") is text.read and READERS.reader_for("html") is text.read
    both = READERS.adding(read_csv, ".CSV").adding(text.read, ".old.csv")
    assert both.reader_for("x.csv") is read_csv and both.reader_for("x.old.CSV") is text.read  # the longest wins


def test_an_html_dump_comes_out_as_finished_posts_with_nothing_of_the_parser_in_them():
    page = (b'<html><body class="blog"><article class="post"><h2 class="entry-title"><a href="/one">One</a></h2>'
            b'<time class="published" datetime="2025-02-03">3 Feb</time><div class="entry-content"><p>First '
            b'<b>para</b>.</p><script>x()</script><p>Second.</p></div></article></body></html>')
    cfg = config.parse({"site": {"title": "T", "url": "https://p.example/", "timezone": "UTC"}})
    now = datetime.fromisoformat(NOW)
    parsed = ingest.read_dump("p.html", page, now, cfg, now)
    [post] = parsed.posts
    assert post.url == "https://p.example/one" and post.published.isoformat() == "2025-02-03T12:00:00+00:00"
    assert [b.text for b in post.body] == ["First para.", "Second."] and "<script" not in (post.html or "")

    def plain(value: object) -> bool:
        if isinstance(value, tuple):
            return all(map(plain, value))
        return value is None or type(value) in (str, int, bool, datetime, Block)
    assert all(plain(getattr(post, f.name)) for f in dataclasses.fields(post))


def test_bs4_and_nh3_are_imported_only_inside_the_html_reader():
    outside = []
    for path in sorted((REPO / "feeds").rglob("*.py")):
        if path.is_relative_to(REPO / "feeds" / "ingest" / "html"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            outside += [f"{path.relative_to(REPO)}: {n}" for n in names if n.split(".")[0] in ("bs4", "nh3")]
    assert outside == []


def test_the_parse_fingerprint_covers_every_module_of_the_readers():
    files = {p.relative_to(REPO).with_suffix("") for p in (REPO / "feeds" / "ingest").rglob("*.py")}
    names = {".".join(p.parts[:-1]) if p.name == "__init__" else ".".join(p.parts) for p in files}
    covered = {n for n in names if any(n == r or n.startswith(r + ".") for r in pipeline.READING_CODE)}
    assert covered == names  # (a package named there is hashed whole: feeds.stamps.code_digest)
