"""Hostile dumps, generated: no input stops a pass, loses what was stored or breaks a feed.

Hypothesis draws text and HTML dumps from a grammar of what has gone wrong on real sites and
in adversarial runs: binary bytes, broken UTF-8, control characters, huge lines, markup and
header-injection titles, colliding slugs, malformed attributes (srcset, URLs), deep nesting
and many tags. Each is run through the reader (a dump gives posts or a DumpError, nothing
else) and through whole passes on a real SQLite store (every pass ends with a report; the
entries stored before stay, with their ids; every feed written parses with bozo 0).

FEEDS_FUZZ_EXAMPLES sets the number of reader cases (300 in CI, FEEDS_TESTS=full; 30 in the
default local run; a third as many whole passes); a longer local run:
FEEDS_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py. A failure prints the
drawn input (hypothesis' "Falsifying example"); keep it as a one-file case in tests/dumps/
or tests/html/, or as an @example here.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import feedparser
from conftest import examples
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from feeds import config
from feeds.errors import DumpError
from feeds.ingest import read_dump
from feeds.pipeline import run_once
from feeds.store import Store

EXAMPLES = int(os.environ.get("FEEDS_FUZZ_EXAMPLES") or examples(full=300, quick=30))
NOW = datetime(2025, 3, 3, 9, tzinfo=UTC)
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("FEEDS_FUZZ_RANDOM"),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])

# -- the grammar --------------------------------------------------------------------------

HOSTILE_TEXT = [
    "Hello World", "Hello World 2", "Hello, World", "hello world", "HELLO WORLD!", "Hello World-2",
    "con", "nul", "aux", "com1", "lpt9", "CON", "index", "posts", "..", ".", "-", "_",
    "<script>alert(1)</script>", "</b> &amp; <video> &copy", "Tom & Jerry: a < b", '"quoted" \'single\'',
    "Subject\r\nBcc: victim@example.org", "line\nbreak", "tab\there", "\u2028sep\u2029", "\x85next",
    "\x00nul", "\x1b[31mred\x1b[0m", "\ufffe\uffff", "\ud800", "\u202eevil\u202c", "\u200b", "\ufeffbom",
    "Café crème", "Молдова", "中文标题", "🙂" * 3, "a" * 300, " ".join(["word"] * 200),
    "Continue reading", "Continue reading Hello World", "Read more", "[…]", "…", "Posted by X",
    "2025-02-17", "Monday, 17 February 2025", "17/02/2025", "31 February 2025", "9999-12-31", "0001-01-01",
]
HOSTILE_URLS = [
    "https://example.org/a", "/relative/path", "relative", "#", "", " ", "javascript:alert(1)",
    "data:text/html,x", "http://[::1/", "http://exa mple.org/a b", "https://example.org/%zz", "https://example.org/\x00",
    "https://例え.jp/パス", "//example.org/x", "mailto:a@b", "http://127.0.0.1:99999/", "https://a.example/" + "x" * 3000,
]
HOSTILE_ATTRS = [
    ("srcset", ", x.jpg"), ("srcset", ","), ("srcset", "x.jpg 2x, , y.jpg"), ("srcset", " 1x"), ("srcset", "a b c d"),
    ("sizes", "(max-width"), ("style", "background:url(javascript:x)"), ("datetime", "not a date"),
    ("datetime", "2025-13-45T99:99"), ("datetime", "-0001-01-01"), ("datetime", "2025-02-17T10:00:00+99:00"),
    ("content", "2025-02-17"), ("itemprop", "datePublished"), ("rel", "tag"), ("rel", "author"),
    ("class", "post hentry entry-title published"), ("class", "h-entry p-name dt-published"), ("lang", "ru"),
]

texts = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=80),
                  st.lists(st.sampled_from(HOSTILE_TEXT), min_size=1, max_size=4).map(" ".join))


@st.composite
def text_dumps(draw) -> bytes:
    """A text dump: titles and paragraphs, markers, bullets, with hostile bytes mixed in."""
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["title", "para", "bullet", "marker", "blank", "date", "long"]))
        line = {"title": draw(texts),
                "para": " ".join(draw(st.lists(texts, min_size=1, max_size=8))) + ".",
                "bullet": "* " + draw(texts),
                "marker": "Continue reading " + draw(texts),
                "blank": "",
                "date": draw(st.sampled_from(HOSTILE_TEXT[-8:])),
                "long": "x" * draw(st.integers(1000, 200_000))}[kind]
        lines.append(line)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "latin-1", "cp1251"]))
    data = "\n".join(lines).encode(encoding, errors="replace")
    if draw(st.booleans()):
        data += draw(st.binary(max_size=64))
    return data


@st.composite
def elements(draw, depth: int = 0) -> str:
    tag = draw(st.sampled_from(["article", "div", "section", "h1", "h2", "h3", "a", "img", "time", "p", "ul", "li",
                                "span", "script", "meta", "header", "footer", "nav", "main", "abbr", "br", "table"]))
    attrs = []
    for name, value in draw(st.lists(st.sampled_from(HOSTILE_ATTRS), max_size=3)):
        attrs.append(f'{name}="{value}"')
    if tag in ("a", "img"):
        attrs.append(f'{"href" if tag == "a" else "src"}="{draw(st.sampled_from(HOSTILE_URLS))}"')
    children = ""
    if depth < 4 and tag not in ("img", "br", "meta"):
        children = "".join(draw(st.lists(st.one_of(texts.map(_escape_some(draw)), elements(depth + 1)), max_size=4)))
    return f"<{tag} {' '.join(attrs)}>{children}</{tag}>"


def _escape_some(draw):
    raw = draw(st.booleans())  # some text goes in unescaped: '<' and '&' as sites really leave them
    return (lambda t: t) if raw else (lambda t: t.replace("&", "&amp;").replace("<", "&lt;"))


@st.composite
def html_dumps(draw) -> bytes:
    """A saved page: hostile elements, maybe a deep nest or a post with many tags, JSON-LD."""
    head = ""
    if draw(st.booleans()):
        head += f'<meta charset="{draw(st.sampled_from(["utf-8", "windows-1252", "koi8-r", "nonsense", ""]))}">'
    if draw(st.booleans()):
        head += f'<link rel="canonical" href="{draw(st.sampled_from(HOSTILE_URLS))}">'
    if draw(st.booleans()):
        head += ('<script type="application/ld+json">'
                 + draw(st.sampled_from(['{"@type":"BlogPosting","headline":"LD","datePublished":"2025-02-10"}',
                                         '{"@graph":[{"@type":"Article"}]}', "{not json", "[]", "null",
                                         '{"@type":"ItemList","itemListElement":[1,2,{"url":5}]}']))
                 + "</script>")
    body = "".join(draw(st.lists(elements(), max_size=6)))
    shape = draw(st.sampled_from(["plain", "deep", "tags", "many"]))
    if shape == "deep":
        n = draw(st.integers(100, 3000))
        body += "<article>" * n + "<h2><a href='/x'>Deep</a></h2><p>text</p>" + "</article>" * n
    elif shape == "tags":
        n = draw(st.integers(50, 1500))
        tags = "".join(f'<a rel="tag" href="/t/{i}">tag {i}</a>' for i in range(n))
        body += (f'<article class="post hentry"><h2 class="entry-title"><a href="/p">{draw(texts)}</a></h2>'
                 f'<time class="published" datetime="2025-02-10T10:00:00Z">x</time>'
                 f'<div class="entry-content"><p>{draw(texts)}</p></div><footer>{tags}</footer></article>')
    elif shape == "many":
        title = draw(texts)
        body += "".join(f'<article class="post"><h2><a href="/p{i}">{title} {i % 3}</a></h2><p>text {i}</p></article>'
                        for i in range(draw(st.integers(10, 400))))
    page = f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"
    return page.encode(draw(st.sampled_from(["utf-8", "cp1252", "utf-16"])), errors="replace")


dumps = st.one_of(text_dumps().map(lambda b: (".txt", b)), html_dumps().map(lambda b: (".html", b)))

# -- the properties -----------------------------------------------------------------------

CFG = config.parse({"site": {"title": "T", "url": "https://example.org/", "timezone": "Europe/London"}})


@SETTINGS
@given(dumps)
@example((".html", b'<html><body><article class="post hentry"><h2 class="entry-title"><a href="/a">A</a></h2>'
                   b'<div class="entry-content"><p>x<img srcset=", x.jpg"></p></div></article></body></html>'))
@example((".txt", b"Hello World 2\n\nA post.\n\nHello World\n\nAnother.\n\nHello, World\n\nA third.\n"))
def test_a_reader_gives_posts_or_a_dump_error_and_nothing_else(dump):
    suffix, data = dump
    try:
        parsed = read_dump(f"fuzz{suffix}", data, NOW, CFG, NOW)
    except DumpError as exc:
        assert f"fuzz{suffix}" in str(exc)
        return
    for post in parsed.posts:
        assert post.title and post.title == post.title.strip()
        assert not any(c in post.title for c in "\x00\ufffe\uffff")


def _site(root: Path) -> config.Config:
    return config.parse({
        "site": {"title": "T", "url": "https://example.org/", "timezone": "Europe/London"},
        "input": {"paths": [str(root / "dumps" / "*")]}, "output": {"dir": str(root / "out"), "category_feeds": True},
        "state": {"path": str(root / "state" / "feeds.sqlite3")},
        "digest": {"recipients": ["Ana <ana@example.org>"]}})


GOOD = (b"Harbour council opens new library\n\nThe council opened the new library on the harbour front, "
        b"with a reading room for the growers and the workers of the market.\n\n"
        b"Weekly market moves to the river\n\nFrom next week the market is held by the river bridge, the "
        b"council says, while the square is repaired.\n")


@settings(parent=SETTINGS, max_examples=max(1, EXAMPLES // 3))
@given(st.lists(dumps, min_size=1, max_size=3))
@example([(".txt", b"Hello World\n\nA post.\n\nHello, World\n\nAnother.\n")])
def test_hostile_dumps_never_stop_a_pass_nor_lose_what_was_stored(batch):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "dumps").mkdir()
        (root / "dumps" / "000-good.txt").write_bytes(GOOD)
        cfg = _site(root)
        with Store(cfg.state.path) as store:
            run_once(cfg, store, NOW)
            before = {r["key"]: r["id"] for r in store.db.execute("SELECT key, id FROM entries")}
            assert len(before) == 2
            for i, (suffix, data) in enumerate(batch):
                (root / "dumps" / f"{i + 1:03}-fuzz{suffix}").write_bytes(data)
            report = run_once(cfg, store, NOW.replace(hour=10))
            after = {r["key"]: r["id"] for r in store.db.execute("SELECT key, id FROM entries")}
            assert all(after.get(k) == v for k, v in before.items()), "an entry stored before was lost or re-minted"
            again = run_once(cfg, store, NOW.replace(hour=11))
            assert not again.files_written, "a second pass over the same dumps writes nothing"
        assert report.entries_total == len(after)
        out = root / "out"
        for feed in [out / "atom.xml", out / "rss.xml", *out.glob("categories/*/atom.xml")]:
            parsed = feedparser.parse(feed.read_bytes())
            assert parsed.bozo == 0, (feed.name, parsed.get("bozo_exception"))
        assert len(json.loads((out / "feed.json").read_bytes())["items"]) == min(len(after), cfg.output.max_entries)
