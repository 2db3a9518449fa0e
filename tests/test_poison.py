"""Issue 14, the reading side: no poison pill. One bad input (a malformed attribute, a page
nested too deep, a bug the reader trips on) never stops the site: it is mended or left out,
named, and the pass goes on with the other dumps."""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime

import feedparser
import pytest
from conftest import NOW, REPO, run_cli, write_config
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.errors import ConfigError, DumpError, SlowDumpError
from feeds.ingest.budget import Deadline
from feeds.ingest.html.page import MAX_DEPTH
from feeds.ingest.html.sanitise import clean_html


def listing(body: str, url: str = "https://p.example/a", title: str = "A post") -> str:
    """A listing page of one post whose content is `body`."""
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body class="blog">'
            f'<article class="post hentry"><h2 class="entry-title"><a href="{url}">{title}</a></h2>'
            '<time class="published" datetime="2025-02-20T10:00:00+00:00">20 February</time>'
            f'<div class="entry-content">{body}</div></article></body></html>')


# -- 1. a malformed attribute ---------------------------------------------------------------

@pytest.mark.parametrize(("srcset", "src"), [
    (", x.jpg", "https://p.example/x.jpg"),
    (",x.jpg 2x", "https://p.example/x.jpg"),
    ("x.jpg 1x, y.jpg 2x", "https://p.example/x.jpg"),
    ("x.jpg,, y.jpg 2x", "https://p.example/x.jpg"),
    (",", None), (" ", None), (" , , ", None), ("\t,\n", None),
])
def test_a_srcset_of_any_shape_gives_its_first_image_or_none(srcset, src):
    cleaned = clean_html(f'<p>Text</p><img srcset="{srcset}" alt="a">', "https://p.example/")
    assert cleaned.startswith("<p>Text</p>")
    assert (f'<img alt="a" src="{src}"/>' in cleaned) if src else "<img" not in cleaned


#: The attributes clean_html reads by hand (before nh3 sanitises the rest).
READ_BY_HAND = ("srcset", "src", "sizes", "style", "width", "height", "data-src", "data-lazy-src",
                "data-original", "data-orig-file", "data-medium-file", "data-large-file", "data", "href", "cite")


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(("img", "iframe", "video", "audio", "embed", "object", "source", "a", "q", "blockquote")),
       st.sampled_from(READ_BY_HAND),
       st.lists(st.sampled_from([*" ,\t\n;:/.#?&[]%@'\"1x2w", "http://[", "javascript:", "data:,"]),
                max_size=12).map("".join))
def test_any_attribute_value_is_mended_or_dropped_never_raises(tag, name, value):
    assert isinstance(clean_html(f'<{tag} {name}="{html.escape(value)}">x</{tag}>', "https://p.example/"), str)


def test_an_image_with_a_malformed_srcset_does_not_stop_the_pass(tmp_path):
    (tmp_path / "dumps").mkdir()
    (tmp_path / "dumps" / "page.html").write_text(
        listing('<p>Text and a picture.</p><img srcset=", x.jpg" alt="A picture">'), encoding="utf-8")
    cfg = write_config(tmp_path, [str(tmp_path / "dumps" / "*.html")])
    proc = run_cli("-c", str(cfg), "--now", NOW)
    assert proc.returncode == 0, proc.stderr
    [entry] = feedparser.parse((tmp_path / "out" / "atom.xml").read_bytes()).entries
    assert entry.title == "A post"
    assert 'src="https://socialistchina.org/x.jpg"' in entry.content[0].value  # (relative to the site's URL)


# -- 2. deep nesting ------------------------------------------------------------------------

def timed_read(path, data: bytes, readers=None):
    """read_dump's posts (or the DumpError it raised) and the seconds it took."""
    import time

    from feeds import config
    from feeds.ingest import READERS, read_dump

    cfg = config.parse({"site": {"title": "T", "url": "https://p.example/", "timezone": "UTC"}})
    now = datetime.fromisoformat(NOW)
    start = time.perf_counter()
    try:  # (a deadline: were reading slow again, the test would fail in 30 s, not hang)
        result: object = read_dump(str(path), data, now, cfg, now, deadline=Deadline(str(path), 30),
                                   readers=readers or READERS).posts
    except DumpError as exc:
        result = exc
    return result, time.perf_counter() - start


def test_a_page_of_100000_nested_articles_is_read_in_seconds_and_named(tmp_path):
    """The issue's page: 100,000 <article> elements, one in the other (1 MB), a title at the
    bottom. It took time growing faster than N² (8,000: 46 s; this one did not end in 15
    minutes). What is nested more than MAX_DEPTH deep is left out as it is parsed: ~2 s here."""
    path = tmp_path / "deep.html"
    data = ("<html><body>" + "<article>" * 100_000 + '<h2 class="entry-title"><a href="https://p.example/a">'
            "Deep</a></h2><p>Text.</p></body></html>").encode()
    assert len(data) > 900_000
    result, seconds = timed_read(path, data)
    assert seconds < 10, seconds
    assert isinstance(result, DumpError) and str(result).startswith(f"{path}: no posts found")
    kept = MAX_DEPTH  # html, body and 254 articles, of 100,005 elements
    assert f"left out {100_005 - kept} element(s) nested more than {MAX_DEPTH} deep" in str(result)


def test_a_post_holding_100000_nested_elements_keeps_what_is_above_them(tmp_path, caplog):
    path = tmp_path / "deep.html"
    deep = "<div>" * 50_000 + "Buried." + "</div>" * 50_000 + "<span>" * 50_000 + "Buried too."
    data = listing(f"<p>Shown.</p><blockquote>{deep}</blockquote><p>Shown after.</p>").encode()
    with caplog.at_level("WARNING", logger="feeds"):
        [post], seconds = timed_read(path, data)
    assert seconds < 10, seconds
    assert [b.text for b in post.body] == ["Shown.", "Shown after."]
    assert "Buried" not in post.html and "<blockquote>" in post.html
    kept = MAX_DEPTH - 5  # of the divs, and of the spans, below html, body, article, div and blockquote
    assert f"{path}: left out {2 * (50_000 - kept)} element(s) nested more than {MAX_DEPTH} deep, " \
           "and their text" in caplog.messages


def test_elements_left_out_are_closed_as_a_browser_closes_them(tmp_path):
    """End tags close the left-out elements inside them, and a kept element's end tag closes
    what was left out inside it: what follows a deep part is read at its own depth."""
    from feeds.ingest.html.page import Soup

    soup = Soup("<main><div><div><p>kept<b><i>out</i>out</b>kept</p>kept</div><p>kept</p></div>"
                 "<section>kept<br>kept</section></main>", depth=4)
    assert str(soup) == ("<main><div><div><p>keptkept</p>kept</div><p>kept</p></div><section>kept<br/>kept"
                         "</section></main>")
    assert soup.too_deep == 2
    soup = Soup("<main><div><div><p>a<b>out<br>out<img/>out<i>out</p>b</div>c</div>d</main>", depth=4)
    assert str(soup) == "<main><div><div><p>a</p>b</div>c</div>d</main>" and soup.too_deep == 4


def test_json_ld_nested_deeper_than_json_reads_is_passed_over(tmp_path):
    page = listing("<p>Text.</p>").replace("</head>", '<script type="application/ld+json">'
                                                      + "[" * 100_000 + "</script></head>")
    [post], _ = timed_read(tmp_path / "ld.html", page.encode())
    assert post.title == "A post"


# -- 3. quarantine: a bug one dump trips keeps that dump out, not the others ----------------

#: The CLI with a bug planted in the HTML reader: a page holding the word "poison" trips an
#: IndexError. Every page read is logged to $READS.
BUGGY = """
import os, sys
import feeds.ingest.html as html
real = html.read_html
def read_html(path, data, *args, **kwargs):
    with open(os.environ["READS"], "a") as log:
        log.write(path + "\\n")
    if b"poison" in data:
        [][0]
    return real(path, data, *args, **kwargs)
html.read_html = read_html
from feeds.cli import main
sys.exit(main(sys.argv[1:]))
"""


def buggy_cli(reads, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TZ": "UTC", "LC_ALL": "C.UTF-8", "READS": str(reads)}
    return subprocess.run([sys.executable, "-c", BUGGY, *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)


def test_a_dump_that_trips_a_bug_is_quarantined_named_and_the_pass_goes_on(tmp_path):
    (tmp_path / "dumps").mkdir()
    good, bad = tmp_path / "dumps" / "good.html", tmp_path / "dumps" / "bad.html"
    good.write_text(listing("<p>Fine.</p>", "https://p.example/good", "Good post"), encoding="utf-8")
    bad.write_text(listing("<p>A poison pill.</p>", "https://p.example/bad", "Bad post"), encoding="utf-8")
    cfg = str(write_config(tmp_path, [str(tmp_path / "dumps" / "*.html")]))
    reads = tmp_path / "reads.log"

    proc = buggy_cli(reads, "-c", cfg, "--now", NOW)
    assert proc.returncode == 1, proc.stderr  # done, but something was left out: not 70
    named = [line for line in proc.stderr.splitlines() if str(bad) in line]
    assert len(named) == 1 and named[0].startswith(f"feeds: quarantined {bad}: IndexError: list index out of "
                                                   "range"), proc.stderr
    assert "please report it" in named[0] and "Traceback" not in proc.stderr
    assert "1 quarantined" in proc.stdout
    entries = feedparser.parse((tmp_path / "out" / "atom.xml").read_bytes()).entries
    assert [e.title for e in entries] == ["Good post"]
    with sqlite3.connect(tmp_path / "state" / "feeds.sqlite3") as db:
        row = db.execute("SELECT status, error, sha256 FROM dumps WHERE path = ?", (str(bad),)).fetchone()
    assert row == ("failed", row[1], hashlib.sha256(bad.read_bytes()).hexdigest())
    assert row[1].startswith("IndexError: list index out of range") and "\n" not in row[1]

    # The next pass, same bytes and same code, names it again but does not read it again.
    reads.unlink()
    again = buggy_cli(reads, "-c", cfg, "--now", NOW)
    assert again.returncode == 1
    [line] = [line for line in again.stderr.splitlines() if str(bad) in line]
    assert line.startswith(f"feeds: quarantined {bad}: IndexError") and "Still left out" in line
    assert not reads.exists()  # (neither dump read: both unchanged)

    # `status` shows it, with its reason, as text and as JSON.
    status = run_cli("-c", cfg, "--now", NOW, "status")
    assert status.returncode == 0
    assert f"quarantined:  {bad}: IndexError: list index out of range" in status.stdout
    assert "stored:       1 dump(s) (0 skipped, 1 quarantined)" in status.stdout
    info = json.loads(run_cli("-c", cfg, "--now", NOW, "status", "--json").stdout)
    [q] = info["quarantined"]
    assert q["path"] == str(bad) and q["reason"] == row[1] and q["sha256"] == row[2]
    assert info["counts"]["dumps_quarantined"] == 1 and info["last_pass"]["failed"] == [line[len("feeds: quarantined "):]]

    check = run_cli("-c", cfg, "--now", NOW, "check")
    assert f"a pass would leave out {bad}, quarantined: IndexError: list index out of range" in check.stdout

    # With -v, the traceback is in the log; when its bytes change, it is read again.
    bad.write_text(listing("<p>Still a poison pill.</p>", "https://p.example/bad", "Bad post"), encoding="utf-8")
    verbose = buggy_cli(reads, "-c", cfg, "--now", NOW, "-v")
    assert verbose.returncode == 1 and reads.read_text().splitlines() == [str(bad)]
    assert "Traceback (most recent call last)" in verbose.stderr and "IndexError" in verbose.stderr
    bad.write_text(listing("<p>Mended.</p>", "https://p.example/bad", "Bad post"), encoding="utf-8")
    mended = buggy_cli(reads, "-c", cfg, "--now", NOW)
    assert mended.returncode == 0, mended.stderr
    assert "quarantined" not in run_cli("-c", cfg, "--now", NOW, "status").stdout


def test_a_quarantined_dump_is_read_again_when_the_reading_code_changes(tmp_path):
    from conftest import make_site

    from feeds import pipeline
    from feeds.ingest import READERS, text
    from feeds.store import Store

    config = make_site(tmp_path, {"a": "First post\n\nIts text, long enough to be a post.\n",
                                  "b": "Second post\n\nA poison pill in its text.\n"})
    calls = []

    def buggy(source, settings):  # the text reader, with a bug planted
        calls.append(source.path)
        if b"poison" in source.data:
            raise KeyError("planted")
        return text.read(source, settings)

    readers = dataclasses.replace(READERS, other=buggy)
    now = datetime.fromisoformat(NOW)
    with Store(config.state.path) as store:
        first = pipeline.run_once(config, store, now, readers=readers)
        assert first.new == 1 and len(first.failed) == 1 and first.failed[0].startswith(
            f"{tmp_path / 'dumps' / 'b.txt'}: KeyError: 'planted' (in feeds/ingest/__init__.py, line ")
        assert store.dumps()[str(tmp_path / "dumps" / "b.txt")].status == "failed"
        calls.clear()
        second = pipeline.run_once(config, store, now, readers=readers)
        assert calls == [] and len(second.failed) == 1 and "Still left out" in second.failed[0]
        with store.transaction():  # as a new version of feeds' readers would find it
            store.set_meta("parse_fingerprint", "older code")
        third = pipeline.run_once(config, store, now, readers=readers)
        assert sorted(calls) == [str(tmp_path / "dumps" / n) for n in ("a.txt", "b.txt")]
        assert len(third.failed) == 1 and "Still left out" not in third.failed[0]


# -- 4. bounded work: bytes, depth (above), posts and time per dump --------------------------

@pytest.mark.parametrize("value", [0, -1, True, "20MB", 2.5, 2**31])
def test_max_bytes_must_be_a_whole_number_of_bytes(tmp_path, value):
    from feeds import config

    with pytest.raises(ConfigError, match=r"input.max_bytes = .* is invalid: expected a whole number of bytes"):
        config.parse({"input": {"max_bytes": value}})
    assert config.parse({"input": {"max_bytes": 1000}}).input.max_bytes == 1000
    assert config.parse({}).input.max_bytes == 20 * 1024 * 1024


def test_a_dump_over_max_bytes_is_named_and_skipped_without_being_read(tmp_path):
    """A 64 GB (sparse) dump: a pass that read it, or even hashed it, would not end."""
    (tmp_path / "dumps").mkdir()
    (tmp_path / "dumps" / "fine.txt").write_text("A post\n\nIts text, long enough to be a post.\n", encoding="utf-8")
    huge = tmp_path / "dumps" / "huge.txt"
    with open(huge, "wb") as f:
        f.truncate(64 * 2**30)
    cfg = str(write_config(tmp_path, [str(tmp_path / "dumps" / "*.txt")]))
    for _ in range(2):  # named again on the next pass, not read then either
        proc = run_cli("-c", cfg, "--now", NOW)
        assert proc.returncode == 1, proc.stderr
        assert (f"feeds: skipped {huge}: 68,719,476,736 bytes, more than input.max_bytes (20,971,520): not read; "
                "raise max_bytes to read it") in proc.stderr.splitlines()
    assert "1 dump(s) (1 skipped)" in run_cli("-c", cfg, "--now", NOW, "status").stdout
    assert f"a pass would skip {huge}: 68,719,476,736 bytes" in run_cli("-c", cfg, "--now", NOW, "check").stdout
    # The limit is configurable. (It bounds the work of reading: a dump read before and unchanged costs none.)
    small = write_config(tmp_path, [str(tmp_path / "dumps" / "fine.txt")], extra="max_bytes = 10")
    assert run_cli("-c", str(small), "--now", NOW).returncode == 0
    with open(tmp_path / "dumps" / "fine.txt", "a", encoding="utf-8") as f:
        f.write("More text.\n")
    assert "fine.txt: 55 bytes, more than input.max_bytes (10): not read" in run_cli("-c", str(small), "--now", NOW).stderr


def test_a_dump_gives_max_posts_at_most_and_says_so(tmp_path, caplog):
    from feeds.ingest import READERS

    readers = dataclasses.replace(READERS, max_posts=2)
    cards = "".join(f'<article class="post"><h2 class="entry-title"><a href="https://p.example/{n}">Post {n}</a>'
                    f'</h2><div class="entry-content"><p>Text {n}.</p></div></article>' for n in range(1, 5))
    html_page = f'<html><body class="blog">{cards}</body></html>'.encode()
    text = "".join(f"Post {n}\n\nThe text of post {n}, and more.\n\nContinue reading Post {n}\n\n"
                   for n in range(1, 5)).encode()
    with caplog.at_level("WARNING", logger="feeds"):
        for name, data in (("page.html", html_page), ("page.txt", text)):
            posts, _ = timed_read(tmp_path / name, data, readers)
            assert [p.title for p in posts] == ["Post 1", "Post 2"]
            assert (f"{tmp_path / name}: 4 posts, more than the 2 a page may give: the first 2 are read, the rest "
                    "left out" if name.endswith(".html") else
                    f"{tmp_path / name}: 4 posts, more than the 2 a dump may give: the first 2 are read, the rest "
                    "left out") in caplog.messages


class Ticks:
    """A clock that moves one second each time it is read."""

    def __init__(self):
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return float(self.reads)


def test_the_deadline_stops_the_html_parser_as_it_goes(tmp_path):
    from feeds.ingest.html.posts import read_html

    data = listing("<p>x</p>" * 20_000).encode()
    clock = Ticks()
    with pytest.raises(SlowDumpError) as raised:
        read_html("p.html", data, deadline=Deadline("p.html", 100, clock=clock))
    assert clock.reads == 102  # (one to start, 101 checks): stopped at once, 20,000 tags before the end
    assert "handle_" in raised.traceback[-2].name  # in the parser
    assert str(raised.value) == "p.html: too slow: not read within 100 s, the time one dump may take"


@pytest.mark.parametrize("after", [1, 50, 500, 5000])
def test_the_deadline_is_kept_in_every_stage_of_an_html_page(tmp_path, after):
    """Wherever the time runs out (parsing, finding posts, cleaning them), reading stops there."""
    from feeds import config
    from feeds.ingest import read_dump

    data = listing("".join(f"<p>Paragraph {n} <b>with</b> <a href='/x'>a link</a>.</p>" for n in range(300))).encode()
    cfg = config.parse({"site": {"url": "https://p.example/"}})
    now = datetime.fromisoformat(NOW)
    clock = Ticks()
    read_dump("p.html", data, now, cfg, now, deadline=Deadline("p.html", 10**9, clock=clock))
    total = clock.reads  # the checks a whole read makes
    assert total > 5000
    clock = Ticks()
    with pytest.raises(SlowDumpError):
        read_dump("p.html", data, now, cfg, now, deadline=Deadline("p.html", after, clock=clock))
    assert clock.reads == after + 2


def test_the_deadline_stops_the_text_segmenter_as_it_goes():
    from feeds.ingest.segment import segment
    from feeds.ingest.text import parse_blocks

    blocks = parse_blocks("".join(f"Title number {n} here\n\nA body of text for post {n}, long enough.\n\n"
                                  for n in range(2000)))
    clock = Ticks()
    with pytest.raises(SlowDumpError):
        segment("d.txt", blocks, check=Deadline("d.txt", 100, clock=clock).check)
    assert clock.reads == 102


def test_a_dump_too_slow_to_read_is_quarantined_and_the_pass_goes_on(tmp_path):
    import time

    from conftest import make_site

    from feeds import pipeline
    from feeds.ingest import READERS
    from feeds.store import Store

    config = make_site(tmp_path, {"fine": "A post\n\nIts text, long enough to be a post.\n"})
    slow = tmp_path / "dumps" / "slow.html"
    slow.write_text(listing("<div><span>x</span></div>" * 50_000), encoding="utf-8")
    config = dataclasses.replace(config, input=dataclasses.replace(
        config.input, paths=(*config.input.paths, str(slow))))
    readers = dataclasses.replace(READERS, seconds=0.5)
    now = datetime.fromisoformat(NOW)
    with Store(config.state.path) as store:
        start = time.monotonic()
        report = pipeline.run_once(config, store, now, readers=readers)
        assert time.monotonic() - start < 10  # (reading the page whole takes ~30 s here)
        assert report.new == 1 and report.dumps_read == 1
        [line] = report.failed
        assert line.startswith(f"{slow}: too slow: not read within 0.5 s, the time one dump may take. "
                               "A bug in feeds: please report it")
        assert store.dumps()[str(slow)].status == "failed"
        again = pipeline.run_once(config, store, now, readers=readers)
        assert again.dumps_unchanged == 2 and "Still left out" in again.failed[0]


# -- 5. `feeds status` shows the quarantined dumps, with their reasons ------------------------

def test_status_lists_each_quarantined_dump_with_its_reason(tmp_path):
    from conftest import make_site

    from feeds import pipeline
    from feeds.ingest import READERS, text
    from feeds.store import Store

    config = make_site(tmp_path, {"fine": "A post\n\nIts text, long enough to be a post.\n",
                                  "buggy": "Another post\n\nA poison pill in its text.\n"})
    slow = tmp_path / "dumps" / "slow.html"
    slow.write_text(listing("<div><span>x</span></div>" * 50_000), encoding="utf-8")
    config = dataclasses.replace(config, input=dataclasses.replace(
        config.input, paths=(*config.input.paths, str(slow))))

    def buggy(source, settings):  # the text reader, with a bug planted
        if b"poison" in source.data:
            raise ZeroDivisionError("division by zero")
        return text.read(source, settings)

    readers = dataclasses.replace(READERS, other=buggy, seconds=0.5)
    with Store(config.state.path) as store:
        pipeline.run_once(config, store, datetime.fromisoformat(NOW), readers=readers)
    cfg = str(write_config(tmp_path, [*config.input.paths]))  # (the same state, for the CLI)

    status = run_cli("-c", cfg, "--now", NOW, "status")
    assert status.returncode == 0, status.stderr
    shown = [line for line in status.stdout.splitlines() if line.startswith("quarantined:")]
    assert shown == [
        f"quarantined:  {tmp_path / 'dumps' / 'buggy.txt'}: ZeroDivisionError: division by zero (in "
        f"feeds/ingest/__init__.py, line {shown[0].split('line ')[1].split(',')[0]}, read_dump) (since Sat 01 Mar "
        "2025 09:00 Europe/London; a bug in feeds: read again when the file or feeds changes)",
        f"quarantined:  {slow}: too slow: not read within 0.5 s, the time one dump may take (since Sat 01 Mar "
        "2025 09:00 Europe/London; a bug in feeds: read again when the file or feeds changes)"]
    assert "stored:       1 dump(s) (0 skipped, 2 quarantined)" in status.stdout
    info = json.loads(run_cli("-c", cfg, "--now", NOW, "status", "--json").stdout)
    assert [(q["path"], q["reason"].split(":")[0], q["since"], q["gone"]) for q in info["quarantined"]] == [
        (str(tmp_path / "dumps" / "buggy.txt"), "ZeroDivisionError", "2025-03-01T09:00:00+00:00", False),
        (str(slow), "too slow", "2025-03-01T09:00:00+00:00", False)]
    assert info["quarantined"][1]["sha256"] == hashlib.sha256(slow.read_bytes()).hexdigest()

    slow.unlink()  # a quarantined dump removed since: the state still knows it, and says it is gone
    assert f"quarantined:  {slow}: too slow: not read within 0.5 s, the time one dump may take (since Sat 01 Mar " \
           "2025 09:00 Europe/London; the file is gone)" in run_cli("-c", cfg, "--now", NOW, "status").stdout


@pytest.mark.parametrize("body", ["x.html", "https://example.org/a", "photo.jpg"])
def test_a_body_that_looks_like_a_file_name_is_markup_without_a_warning(body):
    """bs4 warns (on stderr, at every pass) when the markup it is given looks like a file name or
    a URL; a post's body is always markup (warnings are errors in the tests)."""
    from feeds.ingest.html.sanitise import clean_html

    assert body in clean_html(f"{body}", "https://example.org/")
