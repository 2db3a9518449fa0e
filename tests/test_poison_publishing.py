"""No poison pill on the storing and publishing side (issue 14): one post, whatever it holds,
never stops a pass from storing and publishing the others."""

from __future__ import annotations

import hashlib
import tempfile
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

from conftest import make_site
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from feeds import config
from feeds.dumps.text import strip_xml_forbidden
from feeds.normalise import identity
from feeds.pipeline import run_once
from feeds.store import Store

T0 = datetime(2025, 3, 1, 9, tzinfo=UTC)


def cut(title: str) -> str:
    """A post as a text dump shows it: its title, a paragraph, and the marker that names it."""
    return f"{title}\n\nThe council met on 3 February 2025 and spoke at length.\n\nContinue reading {title}\n"


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
        (tmp_path / "dumps" / "2.txt").write_text(cut("Hello World") + "\n" + cut("Hello, World"))
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


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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
