"""No poison pill on the storing and publishing side (issue 14): one post, whatever it holds,
never stops a pass from storing and publishing the others."""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

from conftest import examples, make_site
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from feeds import config
from feeds.ingest.text import strip_xml_forbidden
from feeds.normalise import identity
from feeds.pipeline import run_once
from feeds.store import Store

T0 = datetime(2025, 3, 1, 9, tzinfo=UTC)


def cut(title: str, day: int = 3) -> str:
    """A post as a text dump shows it: its title, a paragraph, and the marker that names it."""
    return f"{title}\n\nThe council met on {day} February 2025 and spoke at length.\n\nContinue reading {title}\n"


def stored_slugs(store: Store) -> dict[str, str]:
    return {row[0]: row[1] for row in store.db.execute("SELECT key, slug FROM entries")}


# -- slugs ----------------------------------------------------------------------------------

def test_a_title_whose_slug_a_numbered_slug_took_first_gets_the_next_number(tmp_path):
    """"Hello World 2" stored first takes hello-world-2; then "Hello World" and "Hello, World"
    in one dump: the second of them must not be given hello-world-2 again (that was an
    IntegrityError on every pass from then on, and nothing new was ever stored)."""
    cfg = make_site(tmp_path, {"1": cut("Hello World 2")})
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0)
        # (two posts: each opens with its own words, else a comma between two titles over one text
        # would be a typo fixed, one post: feeds.identity)
        (tmp_path / "dumps" / "2.txt").write_text(cut("Hello World", 4) + "\n" + cut("Hello, World", 5))
        report = run_once(cfg, store, T0 + timedelta(days=7))
        assert report.new == 2
        assert sorted(stored_slugs(store).values()) == ["hello-world", "hello-world-2", "hello-world-3"]
        assert stored_slugs(store)[identity("Hello World 2")] == "hello-world-2"


# Titles that collide: "Hello", "hello," and "HELLO!" are three posts with one slug, and
# "Hello 2" is a post whose slug is another's numbered one. Some titles of any text besides.
_titles = st.builds(str.__add__, st.sampled_from(["Hello", "hello,", "HELLO!", "¡Hello", "Con"]),
                    st.sampled_from(["", " 2", " 3", " 2 2", "-2"])) | st.text(
    st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12).map(strip_xml_forbidden).filter(str.strip)


def listing(titles: list[str]) -> str:
    """A saved listing page of an HTML dump, a post per title (its URL made from the title)."""
    posts = "".join(
        f'<article class="post"><h2 class="entry-title"><a href="https://example.org/p/{n}">{escape(t)}</a></h2>'
        f'<div class="entry-content"><p>Text of a post.</p></div></article>\n'
        for t in titles for n in [hashlib.sha1(t.encode()).hexdigest()[:12]])
    return f"<!doctype html><html><head><title>Blog</title></head><body><main>{posts}</main></body></html>"


def html_site(root: Path, **output: object) -> config.Config:
    """A config for in-process passes over root/dumps/*.html."""
    (root / "dumps").mkdir(exist_ok=True)
    return config.parse({"site": {"title": "T", "url": "https://example.org/", "timezone": "Europe/London"},
                         "input": {"paths": [str(root / "dumps" / "*.html")]},
                         "output": {"dir": str(root / "out"), **output},
                         "state": {"path": str(root / "state" / "feeds.sqlite3")}})


@settings(max_examples=examples(full=100, quick=25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_titles, min_size=1, max_size=5), min_size=1, max_size=4))
@example([["Hello World 2"], ["Hello World", "Hello, World"]])
@example([["World 2"], ["World", "world,"], ["World 2 2", "World 2", "World 3"]])
def test_any_titles_in_any_batches_get_unique_slugs_that_never_change(batches):
    """Real passes on a real store, a dump per batch: every pass stores every post it finds
    (an IntegrityError stopped it), slugs are unique, and a slug once given stays."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cfg = html_site(root)
        with Store(cfg.state.path) as store:
            before: dict[str, str] = {}
            for n, titles in enumerate(batches):
                (root / "dumps" / f"{n}.html").write_text(listing(titles), encoding="utf-8")
                run_once(cfg, store, T0 + timedelta(days=n))
                now = stored_slugs(store)
                assert {identity(" ".join(t.split())) for t in titles} <= now.keys()
                assert len(set(now.values())) == len(now)
                assert before.items() <= now.items(), "a stored slug changed"
                before = now


def test_slugs_that_windows_reserves_get_a_suffix(tmp_path):
    """CON, PRN, AUX, NUL, COM0-9 and LPT0-9 are device names on Windows, with any extension:
    posts/con.html or categories/aux/ cannot be made there."""
    reserved = ["con", "prn", "aux", "nul", *(f"{d}{n}" for d in ("com", "lpt") for n in range(10))]
    titles = ["CON", "Prn!", "aux", "Nul.", "COM1", "lpt9", "Com 1", "Console"]
    cfg = html_site(tmp_path, category_feeds=True)
    page = listing(titles).replace("<p>Text of a post.</p>", '<p>Text.</p><a rel="tag" href="/t/aux">AUX</a>'
                                   '<a rel="tag" href="/t/lpt1">LPT1</a>')
    (tmp_path / "dumps" / "1.html").write_text(page, encoding="utf-8")
    with Store(cfg.state.path) as store:
        report = run_once(cfg, store, T0)
        assert report.new == len(titles)
        slugs = set(stored_slugs(store).values())
    assert slugs == {"con-1", "prn-1", "aux-1", "nul-1", "com1-1", "lpt9-1", "com-1", "console"}
    out = cfg.output.dir
    names = [p.name.split(".")[0].lower() for p in (out / "posts").iterdir()]
    names += [p.name.lower() for p in (out / "categories").iterdir()]
    assert not set(names) & set(reserved), sorted(names)
    assert sorted(p.name for p in (out / "categories").iterdir()) == ["aux-1", "lpt1-1"]


# -- many categories ------------------------------------------------------------------------

def tagged_post(tags: int) -> str:
    """A single post's saved page whose footer links `tags` tags (rel=tag)."""
    links = " ".join(f'<a rel="tag" href="https://example.org/tag/t{i}">Topic {i}</a>' for i in range(tags))
    return ('<!doctype html><html><head><title>Tagged</title><link rel="canonical" href="https://example.org/p/1">'
            '</head><body><article class="post"><h1 class="entry-title">A post with many tags</h1>'
            '<time datetime="2025-02-01T10:00:00+00:00">1 February 2025</time>'
            f'<div class="entry-content"><p>Text of the post.</p></div><footer class="tags-links">{links}</footer>'
            '</article></body></html>')


def test_a_post_with_10000_tags_keeps_100_and_publishes_a_feed_for_each(tmp_path, caplog, monkeypatch):
    """One post with 10,000 rel=tag links cost about N^2.6 to publish (hours, gigabytes): feedgen
    remade its list of an entry's categories at each one added, a query per category read
    every entry, and with category feeds each of N feeds listed the post with its N
    categories. It keeps the first 100 (with a warning) and is published in one pass."""
    import dataclasses
    import logging

    import feedparser

    monkeypatch.setattr(logging.getLogger("feeds"), "propagate", True)  # (the CLI, run in-process before, stops it)
    caplog.set_level(logging.WARNING, logger="feeds")
    cfg = html_site(tmp_path)
    (tmp_path / "dumps" / "post.html").write_text(tagged_post(10_000), encoding="utf-8")
    with Store(cfg.state.path) as store:
        report = run_once(cfg, store, T0)
        assert report.new == 1
        [stored] = store.newest()
        assert stored.entry.categories == tuple(f"Topic {i}" for i in range(100))
        assert "names 10000 categories; the first 100 are kept" in caplog.text
        atom = feedparser.parse((cfg.output.dir / "atom.xml").read_bytes())
        assert atom.bozo == 0 and len(atom.entries[0].tags) == 100

        # Category feeds on: a feed per category kept, read with a fixed number of queries.
        cfg = dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, category_feeds=True))
        statements: list[str] = []
        store.db.set_trace_callback(statements.append)
        run_once(cfg, store, T0)
        store.db.set_trace_callback(None)
    feeds = sorted((cfg.output.dir / "categories").glob("*/atom.xml"))
    assert len(feeds) == 100
    assert sum("json_each" in s for s in statements) <= 2, "a query per category"
    parsed = feedparser.parse(feeds[0].read_bytes())
    assert parsed.bozo == 0 and len(parsed.entries) == 1 and len(parsed.entries[0].tags) == 100
    page = (cfg.output.dir / "posts" / "a-post-with-many-tags.html").read_text(encoding="utf-8")
    assert page.count('rel="alternate" type="application/atom+xml"') == 100 + 1  # (the site's feed too)

    # An entry an older version stored with all 10,000 is published with its first 100 too.
    with Store(cfg.state.path) as store:
        store.db.execute("UPDATE entries SET categories = ?", (json.dumps([f"Topic {i}" for i in range(10_000)]),))
        run_once(cfg, store, T0, rebuild=True)
    assert len(list((cfg.output.dir / "categories").glob("*/atom.xml"))) == 100


# -- one entry's rendering --------------------------------------------------------------------

def _site_with_a_post_template(root: Path, post_template: str) -> Path:
    """A feeds.toml over two text dumps (posts "Boom" and "Calm") whose `[output] templates`
    folder replaces post.html.j2 only."""
    from conftest import REPO, write_config

    (root / "dumps").mkdir(parents=True)
    (root / "dumps" / "a.txt").write_text(cut("Boom") + "\n" + cut("Calm"), encoding="utf-8")
    (root / "tpl").mkdir()
    builtin = (REPO / "templates" / "post.html.j2").read_text(encoding="utf-8")
    (root / "tpl" / "post.html.j2").write_text(builtin.replace("<article>\n", f"<article>\n{post_template}\n"),
                                                encoding="utf-8")
    cfg = write_config(root, [str(root / "dumps" / "*.txt")])
    cfg.write_text(cfg.read_text().replace("[output]\n", f'[output]\ntemplates = "{root / "tpl"}"\n'))
    return cfg


def test_an_entry_whose_page_fails_to_render_is_named_left_pending_and_the_others_are_published(tmp_path):
    """A template that raises for one entry only: that entry is named on stderr in one line
    and tried again on the next pass; the others are published; exit 1 (it was a traceback,
    exit 70, and nothing was published on any pass)."""
    import feedparser
    from conftest import run_cli

    cfg = _site_with_a_post_template(tmp_path, "{% if entry.title == 'Boom' %}{{ 1 // 0 }}{% endif %}")
    out = tmp_path / "out"
    proc = run_cli("-c", str(cfg), "--now", "2025-03-01T09:00:00+00:00")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    [line] = [ln for ln in proc.stderr.splitlines() if "'Boom'" in ln]
    assert "(boom)" in line and "ZeroDivisionError" in line and "please report it" in line and "next pass" in line
    assert (out / "posts" / "calm.html").exists() and not (out / "posts" / "boom.html").exists()
    for name in ("atom.xml", "rss.xml", "feed.json"):
        assert (out / name).exists()
    assert [e.title for e in feedparser.parse((out / "atom.xml").read_bytes()).entries] == ["Calm"]
    assert "boom.html" not in (out / "index.html").read_text(encoding="utf-8")  # (no link to a missing page)
    with Store(tmp_path / "state" / "feeds.sqlite3") as store:
        assert store.pending("entry") == {identity("Boom")}

    again = run_cli("-c", str(cfg), "--now", "2025-03-01T09:00:00+00:00", "-v")  # tried again; -v: its traceback
    assert again.returncode == 1 and "'Boom' (boom)" in again.stderr
    assert "Traceback" in again.stderr and "ZeroDivisionError" in again.stderr

    template = tmp_path / "tpl" / "post.html.j2"  # mended: the next pass publishes the entry
    template.write_text(template.read_text(encoding="utf-8").replace("{{ 1 // 0 }}", ""), encoding="utf-8")
    mended = run_cli("-c", str(cfg), "--now", "2025-03-01T09:00:00+00:00")
    assert mended.returncode == 0, mended.stderr
    assert (out / "posts" / "boom.html").exists() and "boom.html" in (out / "index.html").read_text(encoding="utf-8")
    assert len(feedparser.parse((out / "atom.xml").read_bytes()).entries) == 2


def test_a_template_that_fails_for_every_entry_still_stops_the_pass(tmp_path):
    """Not one entry's fault (feeds' sample post fails too): the pass stops, as before."""
    from conftest import run_cli

    cfg = _site_with_a_post_template(tmp_path, "{{ entry.subtitle }}")
    proc = run_cli("-c", str(cfg), "--now", "2025-03-01T09:00:00+00:00")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert "has no attribute 'subtitle'" in proc.stderr
    cfg = _site_with_a_post_template(tmp_path / "b", "{{ 1 // 0 }}")
    proc = run_cli("-c", str(cfg), "--now", "2025-03-01T09:00:00+00:00")
    assert proc.returncode == 70 and "ZeroDivisionError" in proc.stderr


def test_an_entry_whose_feed_item_fails_to_render_is_left_out_of_the_feeds_only(tmp_path, monkeypatch):
    """A bug that shows in one entry's feed item (simulated: Publisher.content raising for it):
    the feeds are written without it, its page is written, and it stays pending."""
    import feedparser

    from feeds.publish.render import Publisher

    content = Publisher.content

    def failing(self, entry, url=None):
        if entry.title == "Boom":
            raise RuntimeError("a bug in one entry's content")
        return content(self, entry, url)

    monkeypatch.setattr(Publisher, "content", failing)
    cfg = make_site(tmp_path, {"a": cut("Boom") + "\n" + cut("Calm")})
    with Store(cfg.state.path) as store:
        report = run_once(cfg, store, T0)
        assert store.pending("entry") == {identity("Boom")}
    [line] = report.problems
    assert line.startswith("'Boom' (boom) was left out of atom.xml, rss.xml, feed.json and is tried again")
    assert "RuntimeError: a bug in one entry's content" in line and "please report it" in line
    out = cfg.output.dir
    assert [e.title for e in feedparser.parse((out / "atom.xml").read_bytes()).entries] == ["Calm"]
    assert (out / "posts" / "boom.html").exists() and (out / "posts" / "calm.html").exists()


# -- a disk that fills ------------------------------------------------------------------------

def test_a_disk_that_fills_while_publishing_is_one_line_exit_1_and_loses_nothing(tmp_path):
    """A write under out/ that fails (a full disk, a read-only out/) was a traceback, exit 70.
    It is one line naming the file and the error, exit 1; the state is whole, and the next
    pass publishes what this one could not.

    The disk fills for real, as far as the pass can tell: the pass runs with a file-size
    limit (RLIMIT_FSIZE; Python ignores SIGXFSZ, so a write beyond it fails with EFBIG, an
    OSError as ENOSPC is). Tests run as root, for whom a read-only folder is not read-only,
    and cannot mount a small filesystem. The limit is per file and applies to the state too:
    it is set well above the state's files, and one new page is made well beyond it (a post
    of '&', which its page escapes to five times the bytes the store keeps)."""
    import sqlite3
    import subprocess

    import feedparser
    from conftest import write_config

    (tmp_path / "dumps").mkdir()
    (tmp_path / "dumps" / "a.txt").write_text(cut("Small post"), encoding="utf-8")
    cfg = write_config(tmp_path, [str(tmp_path / "dumps" / "*.txt")])
    state, out = tmp_path / "state", tmp_path / "out"

    def feeds(limit: int | None = None) -> subprocess.CompletedProcess[str]:
        return _pass_with_file_size_limit(cfg, limit)

    assert feeds().returncode == 0
    limit = max(p.stat().st_size for p in state.iterdir()) + 2_000_000
    long = cut("A long post").replace("spoke at length.", "spoke at length: " + "&" * 1_000_000)
    (tmp_path / "dumps" / "b.txt").write_text(long + "\n" + cut("A new post"), encoding="utf-8")
    proc = feeds(limit=limit)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) == 1, proc.stderr
    page = out / "posts" / "a-long-post.html"
    assert proc.stderr.startswith(f"feeds: cannot write {page}: File too large (EFBIG); nothing is lost")
    assert max(p.stat().st_size for p in state.iterdir()) < limit

    with sqlite3.connect(state / "feeds.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("SELECT count(*) FROM entries").fetchone()[0] == 3
        assert db.execute("SELECT count(*) FROM pending WHERE kind = 'entry'").fetchone()[0] == 2
    again = feeds()  # room again: what the full disk held back is published
    assert again.returncode == 0, again.stderr
    assert page.stat().st_size > limit + 1_000_000
    titles = [e.title for e in feedparser.parse((out / "atom.xml").read_bytes()).entries]
    assert sorted(titles) == ["A long post", "A new post", "Small post"]
    assert not list(out.rglob(".*.tmp")), "no temporary file left"


# -- links that are not URIs ------------------------------------------------------------------

#: RFC 3986: the characters a URI may hold, and '%' only to start an escape.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_URI_REFERENCE = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def valid_uri(url: str, *, relative: bool = False) -> bool:
    return bool((_URI_REFERENCE if relative else _URI).fullmatch(url)) and not _STRAY_PERCENT.search(url)


@given(st.text())
@example("https://example.org/a b/ü?q=1 2#f g")
@example("https://exa mple.org/")
@example("http://[::1/x")
@example("https://example.org/100%/{x}")
def test_a_url_becomes_a_valid_uri_or_nothing_and_stays_as_it_is_then(text):
    from feeds.uri import uri

    got = uri(text)
    assert got is None or valid_uri(got, relative=True), got
    assert got is None or uri(got) == got


def test_links_with_spaces_and_other_characters_no_uri_holds_are_encoded_or_dropped(tmp_path):
    """An HTML dump's post URL and the links and images in its body were published as the page
    gave them: "/notes/my first post/" made the feeds invalid. What can be is percent-encoded
    (non-ASCII as UTF-8); a link that cannot be a URI (a space in its host) is dropped, its
    text kept."""
    import feedparser

    cfg = html_site(tmp_path)
    body = ('<p>See <a href="/files/annual report 2024.pdf">the report</a>, <a href="/wiki/Zürich {old}">Zürich</a>'
            ' and <a href="http://exa mple.org/">this</a>.</p><p><img src="/img/a photo|1.png" alt="A photo"></p>')
    (tmp_path / "dumps" / "listing.html").write_text(
        '<!doctype html><html><head><title>Notes</title></head><body><main>'
        '<article class="post"><h2 class="entry-title"><a href="/notes/my first post/">My first post</a></h2>'
        f'<div class="entry-content">{body}</div></article>'
        '<article class="post"><h2 class="entry-title"><a href="/notes/second">Second post</a></h2>'
        '<div class="entry-content"><p>Text.</p></div></article></main></body></html>', encoding="utf-8")
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0)
    out = cfg.output.dir
    for name in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse((out / name).read_bytes())
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        first = next(e for e in parsed.entries if e.title == "My first post")
        assert first.link == "https://example.org/notes/my%20first%20post/"
        html = first.content[0].value if "content" in first else first.summary
        urls = re.findall(r'(?:href|src)="([^"]*)"', html)
        assert urls and all(valid_uri(u) for u in urls), urls
        assert "https://example.org/files/annual%20report%202024.pdf" in urls
        assert "https://example.org/wiki/Z%C3%BCrich%20%7Bold%7D" in urls
        assert "https://example.org/img/a%20photo%7C1.png" in urls
        assert len(urls) == 3 and "and this." in html  # (the link to "exa mple.org" went, its text stays)
    item = next(i for i in json.loads((out / "feed.json").read_text())["items"] if i["title"] == "My first post")
    assert item["url"] == "https://example.org/notes/my%20first%20post/"
    page = (out / "posts" / "my-first-post.html").read_text(encoding="utf-8")
    assert '<link rel="canonical" href="https://example.org/notes/my%20first%20post/">' in page


def test_links_an_older_version_stored_as_the_page_gave_them_are_mended(tmp_path):
    """Entries stored before links were encoded: their URL is encoded as it is published, and
    their body is made again when the dumps are read again (as they are after an upgrade),
    without moving their `updated`."""
    import feedparser

    cfg = html_site(tmp_path)
    (tmp_path / "dumps" / "listing.html").write_text(
        '<html><body><main><article class="post"><h2 class="entry-title"><a href="/notes/a b">A note</a></h2>'
        '<div class="entry-content"><p>See <a href="/x y">this</a>.</p></div></article></main></body></html>',
        encoding="utf-8")
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0)
        [before] = store.newest()
        assert before.url == "https://example.org/notes/a%20b" and "/x%20y" in before.entry.source_html
        store.db.execute("UPDATE entries SET url = replace(url, '%20', ' '), "  # as an older version stored them
                         "source_html = replace(source_html, '%20', ' ')")
        store.set_meta("parse_fingerprint", "an older version's")
        run_once(cfg, store, T0 + timedelta(days=1))
        [after] = store.newest()
    assert after.url == before.url and after.entry.source_html == before.entry.source_html
    assert after.entry.updated == before.entry.updated
    parsed = feedparser.parse((cfg.output.dir / "atom.xml").read_bytes())
    assert parsed.entries[0].link == "https://example.org/notes/a%20b"
    assert 'href="https://example.org/x%20y"' in parsed.entries[0].content[0].value


# -- a very long post -------------------------------------------------------------------------

def test_a_10_mb_post_is_cut_in_the_feeds_and_whole_on_its_page(tmp_path):
    """A 10 MB post made 10 MB feeds whose text node libxml2 refuses (lxml: "Text node too long,
    try XML_PARSE_HUGE"), under feedgen as under most readers. Its content in each feed is now
    its opening, cut at a paragraph's end, with a link to its page, which holds it whole."""
    import feedparser
    from lxml import etree

    paragraph = "The harbour board met again to discuss the sea wall, the budget and the timetable. " * 12
    body = "\n\n".join(f"{paragraph}Part {i} ends here." for i in range(10_000))
    cfg = make_site(tmp_path, {"long": f"A very long report on the sea wall\n\n{body}\n", "short": cut("Calm")})
    assert len(body) > 10_000_000
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0)
    out = cfg.output.dir
    page_url = cfg.url("posts/a-very-long-report-on-the-sea-wall.html")
    for name in ("atom.xml", "rss.xml"):
        etree.fromstring((out / name).read_bytes())  # (no huge_tree: libxml2's limits)
    from feeds.publish.content import FEED_CONTENT_CHARS

    for name in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse((out / name).read_bytes())
        assert parsed.bozo == 0 and len(parsed.entries) == 2
        long = next(e for e in parsed.entries if e.title.startswith("A very long"))
        html = long.content[0].value if "content" in long else long.description
        assert FEED_CONTENT_CHARS - len(paragraph) < len(html) < FEED_CONTENT_CHARS + 500
        assert html.startswith(f"<p>{paragraph}Part 0 ends here.</p>")
        assert html.endswith(f'ends here.</p>\n<p><a href="{page_url}">Continue reading A very long report on the '
                             'sea wall</a></p>'), html[-300:]
    item = next(i for i in json.loads((out / "feed.json").read_text())["items"] if i["title"].startswith("A very"))
    assert len(item["content_html"]) < FEED_CONTENT_CHARS + 500
    page = (out / "posts" / "a-very-long-report-on-the-sea-wall.html").read_text(encoding="utf-8")
    assert "Part 9999 ends here." in page


def test_a_body_is_cut_after_a_block_with_the_elements_open_there_closed():
    from feeds.normalise import cut_html

    html = ('<div><h2>Notes</h2><blockquote><p>' + "word " * 30 + '</p><p>' + "more " * 30 + '</p></blockquote>'
            '<ul><li>one</li><li>two</li></ul></div>')
    assert cut_html(html, len(html)) == html
    cut = cut_html(html, html.index("more") + 20)
    assert cut == '<div><h2>Notes</h2><blockquote><p>' + "word " * 30 + '</p></blockquote></div>'
    # One block longer than the limit: cut at a space, outside the tags, and closed.
    long = '<div><p>' + 'A <a href="https://example.org/x">link</a> and text. ' * 100 + '</p></div>'
    cut = cut_html(long, 500)
    assert len(cut) < 520 and cut.endswith("…</p></div>") and cut.count("<a ") == cut.count("</a>")
    assert '<a href="https://example.org/x">link</a>' in cut and "<a href" not in cut[cut.rfind("</a>"):]


def test_a_full_disk_under_the_state_is_one_line_and_loses_nothing(tmp_path):
    """The state's disk fills while a pass stores a batch (RLIMIT_FSIZE, as above: the database's
    write-ahead log may not grow past the limit). Before, SQLite's OperationalError was a traceback,
    exit 70. Now: one line naming the database, exit 1, the batch rolled back, the database whole;
    with room again the next pass stores it all."""
    import sqlite3
    import subprocess

    from conftest import write_config

    (tmp_path / "dumps").mkdir()
    (tmp_path / "dumps" / "a.txt").write_text(cut("Small post"), encoding="utf-8")
    cfg = write_config(tmp_path, [str(tmp_path / "dumps" / "*.txt")])
    state = tmp_path / "state" / "feeds.sqlite3"

    def feeds(limit: int | None = None) -> subprocess.CompletedProcess[str]:
        return _pass_with_file_size_limit(cfg, limit)

    assert feeds().returncode == 0
    limit = max(p.stat().st_size for p in state.parent.iterdir()) + 200_000
    # (1.4 MB: well past the limit, which the state's own files set: schema 6's tables and
    # indexes, a 32 KB page each, made them some 300 KB larger than the 480 KB this was)
    many = "\n".join(cut(f"Post number {i}").replace("spoke at length.", "spoke at length: " + "words " * 6000)
                     for i in range(40))
    (tmp_path / "dumps" / "b.txt").write_text(many, encoding="utf-8")
    proc = feeds(limit=limit)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith(f"feeds: cannot write the state {state}: "), proc.stderr
    assert ("disk I/O error. Nothing stored before is lost" in proc.stderr  # (EFBIG; ENOSPC: "… disk is full")
            or "database or disk is full. Nothing stored before is lost" in proc.stderr), proc.stderr
    with sqlite3.connect(state) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("SELECT count(*) FROM entries").fetchone()[0] == 1
    again = feeds()
    assert again.returncode == 0, again.stderr
    with sqlite3.connect(state) as db:
        assert db.execute("SELECT count(*) FROM entries").fetchone()[0] == 41


def _pass_with_file_size_limit(cfg, limit: int | None):
    """A pass through the CLI whose files may not grow past `limit` bytes (RLIMIT_FSIZE: a write
    beyond it fails with EFBIG, as one on a full disk fails with ENOSPC); no limit if None."""
    import os
    import resource
    import subprocess
    import sys

    from conftest import REPO

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return subprocess.run([sys.executable, "-m", "feeds", "-c", str(cfg), "--now", "2025-03-01T09:00:00+00:00"],
                          env={**os.environ, "PYTHONPATH": str(REPO), "TZ": "UTC"}, capture_output=True,
                          text=True, timeout=300, preexec_fn=limited if limit else None)
