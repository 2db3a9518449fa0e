"""A pass end to end, in-process and through the real CLI, on a real SQLite file."""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from conftest import NOW, SEEDS, make_site, run_cli, seeds_site_and_reference, write_config

from feeds import config
from feeds.models import Limits
from feeds.pipeline import run_once
from feeds.store import Store

T0 = datetime(2025, 3, 1, 9, tzinfo=UTC)
T1 = datetime(2025, 3, 8, 9, tzinfo=UTC)

WHOLE = """Bridge to reopen after repairs on 3 February 2025

The old stone bridge will reopen to traffic on Monday after eight months of repairs, the council said on 3 February 2025.

Engineers replaced two of its arches and strengthened the piers against floods.
"""
CUT = """Bridge to reopen after repairs on 3 February 2025

The old stone bridge will reopen to traffic on Monday after eight months of repairs, the council said on 3 February 2025.

Continue reading Bridge to reopen after repairs on 3 February 2025
"""


def snapshot(out: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(out)): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(out.rglob("*"))
            if p.is_file()}


def test_first_pass_then_nothing_new(project):
    root, cfg = project
    first = run_cli("-c", str(cfg), "--now", NOW, check=True)
    assert "2 dump(s) read" in first.stdout and "38 new" in first.stdout
    out = root / "out"
    assert len(list((out / "posts").glob("*.html"))) == 38
    before = snapshot(out)
    second = run_cli("-c", str(cfg), "--now", NOW, check=True)
    assert "nothing new" in second.stdout and "0 dump(s) read, 2 unchanged" in second.stdout
    assert snapshot(out) == before, "same bytes and same mtimes"


def test_touched_but_unchanged_dump_is_not_parsed_again(project):
    root, cfg = project
    run_cli("-c", str(cfg), "--now", NOW, check=True)
    for p in (root / "seeds").glob("*.txt"):
        os.utime(p, None)
    again = run_cli("-c", str(cfg), "--now", NOW, check=True)
    assert "0 dump(s) read, 2 unchanged" in again.stdout


def test_ids_survive_republishing_and_a_later_clock(project):
    root, cfg = project
    run_cli("-c", str(cfg), "--now", NOW, check=True)
    ids = [e.id for e in feedparser.parse(str(root / "out" / "atom.xml")).entries]
    for p in (root / "out").rglob("*.xml"):
        p.unlink()
    run_cli("-c", str(cfg), "--now", "2025-06-01T00:00:00+00:00", check=True)
    run_cli("-c", str(cfg), "--now", "2025-07-01T00:00:00+00:00", "run", "--rebuild", check=True)
    assert [e.id for e in feedparser.parse(str(root / "out" / "atom.xml")).entries] == ids
    assert len(set(ids)) == 38


def test_broken_dump_is_named_and_skipped_and_nothing_is_lost(project):
    root, cfg = project
    run_cli("-c", str(cfg), "--now", NOW, check=True)
    before = snapshot(root / "out")
    (root / "seeds" / "zz_broken.txt").write_bytes(b"\x00\x01\x02binary" * 100)
    (root / "seeds" / "zz_empty.txt").write_bytes(b"")
    proc = run_cli("-c", str(cfg), "--now", NOW)
    assert proc.returncode == 1
    assert "zz_broken.txt: looks binary" in proc.stderr and "zz_empty.txt: the file is empty" in proc.stderr
    assert snapshot(root / "out") == before
    again = run_cli("-c", str(cfg), "--now", NOW)
    assert again.returncode == 1 and "zz_broken.txt" in again.stderr, "still reported until fixed"


def test_a_good_dump_beside_a_broken_one_is_still_read(tmp_path):
    cfg = make_site(tmp_path, {"a": b"\xff\xfe\x00\x00garbage" * 50, "b": WHOLE})
    with Store(cfg.state.path) as store:
        report = run_once(cfg, store, T0)
    assert report.new == 1 and len(report.skipped) == 1 and "a.txt" in report.skipped[0]


def test_cut_copy_never_replaces_a_whole_one_and_updated_moves_only_on_change(tmp_path):
    cfg = make_site(tmp_path, {"1": WHOLE})
    dumps = tmp_path / "dumps"
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0)
        first = store.newest()[0].entry
        assert not first.truncated and first.date_source == "inferred"
        assert first.published.date().isoformat() == "2025-02-03"
        (dumps / "2.txt").write_text(CUT)
        report = run_once(cfg, store, T1)
        assert report.updated == 0 and store.newest()[0].entry == first
        (dumps / "3.txt").write_text(WHOLE.replace("eight months", "nine months"))
        report = run_once(cfg, store, T1)
        edited = store.newest()[0].entry
        assert report.updated == 1 and "nine months" in edited.text
        assert edited.updated == T1 and edited.id == first.id and edited.published == first.published


def test_two_new_posts_of_one_dump_with_the_same_slug_get_two_slugs(tmp_path):
    """Entries of a dump are stored together at its end: slugs given earlier in the same
    dump must count as taken (and one already stored too). (Four posts: each opens with other
    words, else titles this alike would be one post with its title's typo fixed: feeds.identity.)"""
    def cut(title: str, day: int) -> str:
        return (f"{title}\n\nThe council met on {day} February 2025 and spoke at length.\n\n"
                f"Continue reading {title}\n")
    cfg = make_site(tmp_path, {"1": cut("Hello, world again", 3) + "\n" + cut("Hello world again!", 4)})
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0)
        (tmp_path / "dumps" / "2.txt").write_text(cut("Hello: world again", 5) + "\n" + cut("HELLO WORLD AGAIN?", 6))
        run_once(cfg, store, T1)
        slugs = sorted(s.entry.slug for s in store.newest())
    assert slugs == ["hello-world-again", "hello-world-again-2", "hello-world-again-3", "hello-world-again-4"]


def test_whole_copy_replaces_a_cut_one(tmp_path):
    cfg = make_site(tmp_path, {"1": CUT})
    dumps = tmp_path / "dumps"
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0)
        assert store.newest()[0].entry.truncated
        (dumps / "2.txt").write_text(WHOLE)
        run_once(cfg, store, T1)
        entry = store.newest()[0].entry
        assert not entry.truncated and "arches" in entry.text and entry.updated == T1


def test_schema_is_versioned_and_newer_databases_are_refused(tmp_path):
    path = tmp_path / "s.sqlite3"
    Store(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] >= 1
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.execute("PRAGMA user_version = 999")
    db.commit()
    db.close()
    cfg = write_config(tmp_path, [str(tmp_path / "*.txt")])
    (tmp_path / "state").mkdir()
    os.replace(path, tmp_path / "state" / "feeds.sqlite3")
    proc = run_cli("-c", str(cfg), "--now", NOW)
    assert proc.returncode == 2 and "newer than this feeds" in proc.stderr


def test_second_pass_waits_for_none_and_exits_75(project):
    root, cfg = project
    lock = root / "state" / "feeds.sqlite3.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        proc = run_cli("-c", str(cfg), "--now", NOW)
    assert proc.returncode == 75 and "another feeds pass is running" in proc.stderr
    assert not (root / "out").exists()
    assert run_cli("-c", str(cfg), "--now", NOW).returncode == 0, "a released lock blocks nothing"


def test_asked_to_stop_between_dumps_keeps_what_was_stored_and_the_next_pass_finishes(tmp_path):
    cfg, reference = seeds_site_and_reference(tmp_path, "stopped", T0)
    asked: list[int] = []

    def should_stop() -> bool:  # asked once per dump read: yes at the second
        asked.append(1)
        return len(asked) >= 2

    with Store(cfg.state.path) as store:
        report = run_once(cfg, store, T0, should_stop=should_stop, batch_bytes=1)  # each dump stored at once
        assert report.stopped and report.summary().startswith("stopped at a safe point as asked: 2 dump(s) read")
        assert store.count() == 20 and not report.files_written and not cfg.output.dir.exists()
        again = run_once(cfg, store, T0)
    assert not again.stopped and again.new == 18
    assert store_rows(cfg.state.path) == store_rows(tmp_path / "reference" / "state" / "feeds.sqlite3")
    assert {k: v[0] for k, v in snapshot(cfg.output.dir).items()} == reference, "the same files as one uninterrupted pass"


def test_asked_to_stop_while_publishing_leaves_the_digest_to_the_next_pass(tmp_path):
    """A stop asked for after the last dump was read (Ctrl-C while publishing): the pass
    publishes what it stored, and composes no digest; the next pass composes it, and the
    files are those of one uninterrupted pass."""
    cfg, reference = seeds_site_and_reference(tmp_path, "stopped", T0)
    asked: list[int] = []

    def should_stop() -> bool:  # asked once per dump read (two), then after publishing
        asked.append(1)
        return len(asked) > 2

    with Store(cfg.state.path) as store:
        report = run_once(cfg, store, T0, should_stop=should_stop)
        assert report.stopped and len(asked) == 3 and report.digest == ""
        assert store.count() == 38 and (cfg.output.dir / "atom.xml").exists()
        assert store.db.execute("SELECT count(*) FROM digests").fetchone()[0] == 0
        assert not (cfg.output.dir / "digests").exists()
        again = run_once(cfg, store, T0)
        assert not again.stopped and again.digest.startswith("digest 2025-W08: ")
    assert {k: v[0] for k, v in snapshot(cfg.output.dir).items()} == reference, "the same files as one uninterrupted pass"


def test_a_template_edited_within_one_tick_of_the_clock_is_used(tmp_path):
    """A template's new bytes are used even when its size and time are as before (an edit
    within the clock's tick, a deploy that sets every file's time), also by a later pass of
    the same process (a loop), which keeps the templates it compiled."""
    import dataclasses
    import shutil

    from conftest import REPO

    folder = tmp_path / "templates"
    shutil.copytree(REPO / "templates", folder)
    cfg = make_site(tmp_path, {s.stem: s.read_bytes() for s in SEEDS})
    cfg = dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, templates=folder))
    base = folder / "base.html.j2"
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0)
        assert "color: #a3161b" in (cfg.output.dir / "index.html").read_text()
        st = base.stat()
        base.write_text(base.read_text().replace("color: #a3161b", "color: #0b5394"))
        os.utime(base, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert (base.stat().st_size, base.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
        run_once(cfg, store, T0)
    page = (cfg.output.dir / "index.html").read_text()
    assert "color: #0b5394" in page and "color: #a3161b" not in page


def test_turning_category_feeds_or_a_hub_on_publishes_them_at_the_next_pass(tmp_path):
    """The published files depend on `[output] category_feeds` and `hub`: a pass after either
    changed, with nothing new in the dumps, publishes again (they were left out of the
    publishing fingerprint, so nothing changed until some post did)."""
    import dataclasses

    cfg = make_site(tmp_path, {})
    (tmp_path / "dumps" / "tagged.html").write_text(
        '<html><head><link rel="canonical" href="https://example.org/p/1"></head><body><article class="post">'
        '<h1>Tagged</h1><div class="entry-content"><p>Text.</p></div><a rel="tag" href="/t/a">Harbours</a>'
        '</article></body></html>', encoding="utf-8")
    cfg = dataclasses.replace(cfg, input=dataclasses.replace(cfg.input, paths=(str(tmp_path / "dumps" / "*.html"),)))
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0)
        assert not (cfg.output.dir / "categories").exists()
        cfg = dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, category_feeds=True))
        run_once(cfg, store, T0)
        assert (cfg.output.dir / "categories" / "harbours" / "atom.xml").exists()
        cfg = dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, hub="https://hub.example.org/"))
        run_once(cfg, store, T0)
    assert 'rel="hub"' in (cfg.output.dir / "atom.xml").read_text(encoding="utf-8")


def test_a_category_an_older_version_stored_with_characters_xml_forbids_gets_its_feed(tmp_path):
    import dataclasses

    cfg = make_site(tmp_path, {s.stem: s.read_bytes() for s in SEEDS})
    cfg = dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, category_feeds=True))
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0)
        store.db.execute("UPDATE entries SET categories = ? WHERE key = (SELECT min(key) FROM entries)",
                         ('["Harb\\u0001ours"]',))
        store.db.commit()
        run_once(cfg, store, T0, rebuild=True)
    [feed] = (cfg.output.dir / "categories").glob("*/atom.xml")
    parsed = feedparser.parse(feed.read_bytes())
    assert parsed.bozo == 0 and parsed.feed.title == "T: Harbours" and len(parsed.entries) == 1


def _bench_site(root: Path, corpus: Path) -> config.Config:
    """An in-process site at root over the dumps of a bench corpus."""
    root.mkdir()
    cfg = make_site(root, {})
    (root / "dumps").rmdir()
    (root / "dumps").symlink_to(corpus)
    return cfg


def test_a_new_page_on_top_of_a_long_history_moves_no_stored_date(tmp_path):
    """The bench's pass (c) on 100 linked pages: a new page on top, whose last posts are the
    first of the stored top page. The pass stores its new posts and moves no stored date
    (a minute apart, the 1,000 posts the corpus piles on one day ran into the next, and
    this pass moved 398 of them)."""
    import sys

    from conftest import REPO
    sys.path.insert(0, str(REPO / "bench"))
    import bench

    bench.build_corpus(tmp_path / "corpus", 100, seed=1, rebuild=True)
    cfg = _bench_site(tmp_path / "site", tmp_path / "corpus")
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0)
        before = dict(store.db.execute("SELECT key, published FROM entries"))
        posts, banners = bench.load_seed_posts()
        text, _ = bench.make_dump(100, 1, posts, banners, below=0)
        bench.write_dump(tmp_path / "corpus", 100, text)
        report = run_once(cfg, store, T0)
        after = dict(store.db.execute("SELECT key, published FROM entries"))
    assert (report.dumps_read, report.new, report.updated) == (1, 18, 0)
    assert {k: after[k] for k in before} == before


@pytest.mark.parametrize("stored", [9, 37])
def test_a_stopped_first_pass_resumes_where_it_stopped_and_writes_what_one_pass_writes(tmp_path, stored):
    """A first pass stopped (or killed) after some batches of a large linked history: the
    next pass reads only the dumps not stored, and writes, and stores, what one
    uninterrupted pass does. (Reading the stored dumps again would date them in another
    context than the one pass did: the posts far from the new pages are settled.)"""
    import sys

    from conftest import REPO
    sys.path.insert(0, str(REPO / "bench"))
    from bench import build_corpus

    build_corpus(tmp_path / "corpus", 40, seed=7, rebuild=True)
    batch = 300_000  # bytes: about 15 batches of two or three dumps
    sites = {name: _bench_site(tmp_path / name, tmp_path / "corpus") for name in ("one", "stopped")}
    with Store(sites["one"].state.path) as store:
        run_once(sites["one"], store, T0, batch_bytes=batch)

    def should_stop() -> bool:  # asked before each dump read is added to the batch
        return store.db.execute("SELECT count(*) FROM dumps").fetchone()[0] >= stored

    cfg = sites["stopped"]
    with Store(cfg.state.path) as store:
        first = run_once(cfg, store, T0, should_stop=should_stop, batch_bytes=batch)
        assert first.stopped
        done = store.db.execute("SELECT count(*) FROM dumps").fetchone()[0]
        again = run_once(cfg, store, T0, batch_bytes=batch)
    assert (again.dumps_read, again.dumps_unchanged) == (40 - done, done), "the stored dumps are not read again"
    assert store_rows(cfg.state.path) == store_rows(sites["one"].state.path)
    assert ({k: v[0] for k, v in snapshot(cfg.output.dir).items()}
            == {k: v[0] for k, v in snapshot(sites["one"].output.dir).items()}), "the files of one pass"


@pytest.mark.parametrize("chunk", [Limits().chunk, 7])
def test_dates_do_not_depend_on_which_dumps_came_in_which_pass(tmp_path, chunk):
    """The seeds read in one pass, one per pass in either order, or one per batch: the same
    dates. Read alone, the first page dates its lowest posts weeks early (nothing below them);
    the second page, read later, shows posts dated Feb. 3 under them, and moves them (and the
    posts above them on the first page) to where one pass over both puts them. (Also with
    stored entries read 7 at a time, across chunks.)"""
    seeds = {s.stem: s.read_bytes() for s in SEEDS}
    first, second = sorted(seeds)
    runs = {"together": [[first, second]], "first page first": [[first], [second]],
            "second page first": [[second], [first]], "one dump per batch": [[first, second]]}
    dated: dict[str, dict[str, tuple[str, str]]] = {}
    pages: dict[str, dict[str, bytes]] = {}  # the post and archive pages, which show the dates
    for name, passes in runs.items():
        root = tmp_path / name.replace(" ", "-")
        root.mkdir()
        cfg = make_site(root, {})
        reports = []
        with Store(cfg.state.path) as store:
            for dumps in passes:
                for dump in dumps:
                    (root / "dumps" / f"{dump}.txt").write_bytes(seeds[dump])
                reports.append(run_once(cfg, store, T0, batch_bytes=1 if name == "one dump per batch" else 1 << 30,
                                        limits=Limits(chunk=chunk)))
            dated[name] = {r["key"]: (r["published"], r["date_source"])
                           for r in store.db.execute("SELECT key, published, date_source FROM entries")}
        pages[name] = {k: v[0] for k, v in snapshot(cfg.output.dir).items() if k.startswith(("posts/", "archive/"))}
        if name == "first page first":
            assert reports[1].updated >= 8, "the second page moved dates stored by the first pass"
    assert len(dated["together"]) == 38 and {v[1] for v in dated["together"].values()} == {"inferred"}
    for name in runs:
        assert dated[name] == dated["together"], name
        assert pages[name] == pages["together"], f"{name}: moved dates were published again"
    [key] = [k for k in dated["together"] if k.startswith("china and vietnam marching together")]
    assert dated["together"][key][0].startswith("2025-02-03")


def test_dating_finds_the_pages_that_show_a_post_by_an_index(tmp_path):
    """Every pass with a new dump asks which stored pages show its posts: with years of
    sightings that must be an index search, not a scan of the table."""
    with Store(tmp_path / "state.sqlite3") as store:
        asked: list[str] = []
        store.db.set_trace_callback(asked.append)  # the query pages_showing() really runs
        store.pages_showing(["a", "b"])
        store.db.set_trace_callback(None)
        [sql] = asked
        plan = " ".join(str(tuple(r)) for r in store.db.execute(f"EXPLAIN QUERY PLAN {sql}"))
    assert "INDEX sightings_key" in plan, plan


def test_a_new_post_renders_its_own_page_not_every_page(tmp_path, monkeypatch):
    """A new post is among the newest, and its page does not exist yet: that is the pass's
    work, not a sign of a damaged out/ that calls for rendering every page again."""
    from feeds.publish.render import Publisher

    cfg = make_site(tmp_path, {s.stem: s.read_bytes() for s in SEEDS})
    rendered: list[str] = []
    post_page = Publisher.post_page
    monkeypatch.setattr(Publisher, "post_page",
                        lambda self, e, url, **kw: rendered.append(e.slug) or post_page(self, e, url, **kw))
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0)
        assert len(rendered) == 38
        rendered.clear()
        (tmp_path / "dumps" / "new.txt").write_text(
            "Harbour wall to be repaired before winter\n\nThe council said on 27 February 2025 that the "
            "harbour wall will be repaired before winter.\n")
        run_once(cfg, store, T1)
        assert store.newest(1)[0].entry.slug == "harbour-wall-to-be-repaired-before-winter"
    assert rendered == ["harbour-wall-to-be-repaired-before-winter"]
    (cfg.output.dir / "posts" / "a-multipolar-world-or-a-new-cold-war.html").unlink()
    rendered.clear()
    with Store(cfg.state.path) as store:  # a page really missing: everything is checked again
        run_once(cfg, store, T1)
    assert len(rendered) == 39


def store_rows(path: Path) -> list[tuple]:
    db = sqlite3.connect(path)
    rows = db.execute("SELECT id, slug, title, summary, text, truncated, published, updated, date_source FROM entries ORDER BY id").fetchall()
    db.close()
    return rows


def _post(j: int, day: date) -> str:
    title = f"Harbour council notes number {j}"
    return (f"{title}\n\nThe council met on {day.day} {day:%B} {day.year} to discuss item {j} of its agenda.\n\n"
            f"Continue reading {title}\n")


def _chain_page(n: int) -> str:
    """Listing page n of a site with two posts a day, 20 posts a page: page n shows posts
    18n to 18n + 19 (its last two are the next page's first two, as when two posts came
    out between the dumps). Each post is cut, so the segmenter's choices play no part."""
    return "\n".join(_post(j, date(2025, 2, 27) - timedelta(days=j // 2)) for j in range(18 * n, 18 * n + 20))


def _dates(state: Path) -> dict[str, str]:
    db = sqlite3.connect(state)
    try:
        return dict(db.execute("SELECT key, published FROM entries"))
    finally:
        db.close()


class WatchedStore(Store):
    """A store that notes the pages each batch is dated with: its own and the stored ones linked to it."""

    def __init__(self, path: Path, dated: list[dict[str, Sequence[str]]]):
        super().__init__(path)
        self.dated = dated

    def snapshot_for(self, pages, bases, now, limits):
        snap = super().snapshot_for(pages, bases, now, limits)
        self.dated.append({**pages, **snap.pages})
        return snap


@pytest.mark.parametrize("limit", [40, 10**9])
def test_a_new_page_dates_a_bounded_part_of_a_long_linked_history(tmp_path, limit):
    """A site dumped week after week links every page it ever had. A new page on top is dated
    with at most `Limits.link_limit` stored posts (and one more step of links) around it; further
    down, dates stay as stored and bound the ones above them: the page order holds across the edge.
    On pages whose dates agree, that gives the dates one pass over every page gives."""
    limits = Limits(link_limit=limit)
    linked: list[dict[str, Sequence[str]]] = []
    pages = {f"page-{n:02d}": _chain_page(n) for n in range(12)}
    for folder in ("one-pass", "weekly"):
        (tmp_path / folder).mkdir()
    one_pass = make_site(tmp_path / "one-pass", pages)
    with Store(one_pass.state.path) as store:
        run_once(one_pass, store, T0, limits=limits)
    cfg = make_site(tmp_path / "weekly", {name: text for name, text in pages.items() if name != "page-00"})
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0, limits=limits)
    before = _dates(cfg.state.path)
    (tmp_path / "weekly" / "dumps" / "page-00.txt").write_text(pages["page-00"], encoding="utf-8")
    with WatchedStore(cfg.state.path, linked) as store:
        report = run_once(cfg, store, T1, limits=limits)
        order = [e.entry.key for e in store.newest()]
    after = _dates(cfg.state.path)
    [dated] = linked
    assert len(after) == 18 * 11 + 20 and report.new == 18
    if limit == 40:  # page 0, then pages 1-2 (the limit), then page 3 (the step that passed it)
        assert sorted(dated) == [f"{tmp_path}/weekly/dumps/page-0{n}.txt" for n in range(4)]
        shown = {k for keys in dated.values() for k in keys}
        assert all(after[k] == before[k] for k in before if k not in shown), "dates further down stay"
    else:
        assert len(dated) == 12
    assert order == [f"harbour council notes number {j}" for j in range(18 * 11 + 20)], "page order, edge included"
    assert after == _dates(one_pass.state.path)


def test_a_new_post_on_top_of_a_day_moves_no_other_post(tmp_path):
    """Two dumps of page 1 on one day; the second shows a newer post of that day on top.
    Its posts' times count from the lowest post of the day, so the posts already stored
    keep theirs: the pass stores one new post, updates none, and republishes no page of
    an older post (it used to shift each of them a minute earlier, and rewrite its page)."""
    day = date(2025, 2, 3)
    cfg = make_site(tmp_path, {"morning": "\n".join(_post(j, day) for j in (3, 2, 1))})
    with Store(cfg.state.path) as store:
        run_once(cfg, store, datetime(2025, 2, 3, 18, tzinfo=UTC))
    before = _dates(cfg.state.path)
    (tmp_path / "dumps" / "evening.txt").write_text("\n".join(_post(j, day) for j in (4, 3, 2, 1)), encoding="utf-8")
    with Store(cfg.state.path) as store:
        report = run_once(cfg, store, datetime(2025, 2, 3, 20, tzinfo=UTC))
    after = _dates(cfg.state.path)
    assert (report.new, report.updated) == (1, 0)
    assert {k: v for k, v in after.items() if k in before} == before
    assert after["harbour council notes number 4"] > max(before.values())
    assert not [f for f in report.files_written if "/posts/harbour-council-notes-number-" in f
                and not f.endswith("number-4.html")], report.files_written


PINNED = """Welcome to the council's notes: how to subscribe

This site has collected the council's notes since it began in 2019; here is how to follow them by feed or by email.

Continue reading Welcome to the council's notes: how to subscribe
"""


@pytest.mark.parametrize("limit", [Limits().link_limit, 20])
def test_a_post_pinned_to_the_top_of_the_listing_does_not_date_the_others(tmp_path, limit):
    """Page 1 of a site, dumped weekly for six weeks, with a post pinned above the newest ones
    (WordPress's "sticky" posts). Taken for the newest post of every dump, it held every post
    below it to the time it was first seen: all of them dated 6 January, weeks early. The
    posts get the dates they mention, as on the same site without a pinned post; the pinned
    one keeps the date it was first given. With a small link limit, the newest dumps are
    read first and the rest settled (the pinned post links every dump in one step)."""
    linked: list[dict[str, Sequence[str]]] = []
    dated = {}
    for site in ("pinned", "plain"):
        root = tmp_path / site
        root.mkdir()
        cfg = make_site(root, {})
        for week in range(6):
            written = datetime(2025, 1, 6, 18, tzinfo=UTC) + timedelta(days=7 * week)
            newest = 10 * week + 9  # ten posts a week, two a day
            page = [_post(j, date(2025, 1, 2) + timedelta(days=j // 2)) for j in range(newest, max(newest - 20, -1), -1)]
            dump = root / "dumps" / f"{written:%Y-%m-%d}-page-1.txt"
            dump.write_text("\n".join(([PINNED] if site == "pinned" else []) + page), encoding="utf-8")
            os.utime(dump, (written.timestamp(), written.timestamp()))
            with WatchedStore(cfg.state.path, linked) as store:
                run_once(cfg, store, written + timedelta(hours=1), limits=Limits(link_limit=limit))
        with Store(cfg.state.path) as store:
            dated[site] = {e.entry.title: e.entry.published for e in store.newest()}
    pinned = dated["pinned"].pop("Welcome to the council's notes: how to subscribe")
    # on top of the first dump, above two posts of 6 January: noon and two seconds, and kept
    assert pinned == datetime(2025, 1, 6, 12, 0, 2, tzinfo=UTC)
    assert dated["pinned"] == dated["plain"]
    for title, published in dated["plain"].items():
        j = int(title.rsplit(" ", 1)[1])
        assert published.date() == date(2025, 1, 2) + timedelta(days=j // 2), title
    if limit == 20:  # the last pass: its own dump and the two written last before it (10 older posts each)
        assert sorted(Path(p).name for p in linked[5]) == ["2025-01-27-page-1.txt", "2025-02-03-page-1.txt",
                                                          "2025-02-10-page-1.txt"]


def test_no_feed_is_dated_1970_a_feed_comes_with_its_first_entry(tmp_path):
    """A site whose dumps have no posts yet has no feeds, and no digests' feed until a digest
    lists a post: an empty feed would be dated 1970 (no entry to date it by). Each feed that
    comes is valid and dated by its newest entry."""
    cfg = make_site(tmp_path, {"a": "Just one line, and no post in it.\n"})
    out = cfg.output.dir
    feeds = ["atom.xml", "rss.xml", "feed.json", "digests/atom.xml"]
    with Store(cfg.state.path) as store:
        first = run_once(cfg, store, datetime(2025, 2, 17, 9, tzinfo=UTC))
        assert first.skipped and (out / "index.html").exists() and (out / "digests" / "index.html").exists()
        assert [f for f in feeds if (out / f).exists()] == []
        assert not any(b"1970" in p.read_bytes() for p in out.rglob("*") if p.is_file())
        assert "digests/atom.xml" not in (out / "digests" / "index.html").read_text(encoding="utf-8")
        assert _dead_links(cfg) == []
        assert run_once(cfg, store, datetime(2025, 2, 17, 10, tzinfo=UTC)).files_written == []
        # A post (first seen, so dated, on Wednesday of W08): the feeds come, dated by it.
        (tmp_path / "dumps" / "b.txt").write_text(
            "Harvest festival draws record crowds\n\nThe opening paragraph of the post, long enough to read as "
            "prose here.\n\nContinue reading Harvest festival draws record crowds\n", encoding="utf-8")
        run_once(cfg, store, datetime(2025, 2, 19, 9, tzinfo=UTC))
        for name in ("atom.xml", "rss.xml"):
            parsed = feedparser.parse((out / name).read_bytes())
            assert parsed.bozo == 0 and len(parsed.entries) == 1, name
            assert parsed.feed.updated_parsed[:5] == (2025, 2, 19, 9, 0), name
        assert (out / "feed.json").exists() and not (out / "digests" / "atom.xml").exists()  # W08 not due yet
        run_once(cfg, store, datetime(2025, 2, 24, 9, tzinfo=UTC))  # W08's digest, with the post
    parsed = feedparser.parse((out / "digests" / "atom.xml").read_bytes())
    assert parsed.bozo == 0 and [e.link for e in parsed.entries] == ["http://127.0.0.1:8000/digests/2025-W08.html"]
    assert parsed.feed.updated == "2025-02-24T08:00:00+00:00"
    assert "digests/atom.xml" in (out / "digests" / "index.html").read_text(encoding="utf-8")
    assert _dead_links(cfg) == []


def _dead_links(cfg) -> list[str]:
    """Links and alternates in the pages under out/ that point under base_url at no file there."""
    import re

    dead = []
    for page in cfg.output.dir.rglob("*.html"):
        for href in re.findall(r'href="([^"]+)"', page.read_text(encoding="utf-8")):
            if href.startswith(cfg.site.base_url):
                target = href[len(cfg.site.base_url):].split("#")[0] or "index.html"
                if not (cfg.output.dir / target).is_file():
                    dead.append(f"{page.relative_to(cfg.output.dir)} -> {href}")
    return dead


def _cut(title: str, day: str) -> str:
    """A cut post. (Each opens with other words: titles this alike over one text would be one
    post with its title's typo fixed, feeds.identity.)"""
    return (f"{title}\n\nOn {day} the harbour office wrote about {title.lower()}.\n\n"
            f"Continue reading {title}\n")


def test_a_new_slug_is_numbered_past_the_stored_and_the_batch_slugs(tmp_path):
    """Stored: harbour-news and harbour-news-2-2. A new dump shows 'Harbour news!' (another post
    whose slug base is harbour-news: it becomes harbour-news-2) and 'Harbour news 2', whose base
    harbour-news-2 the first one just took: it must skip the stored harbour-news-2-2 too."""
    cfg = make_site(tmp_path, {"a": _cut("Harbour news", "Monday") + "\n" + _cut("Harbour news 2 2", "Tuesday")})
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0)
    (tmp_path / "dumps" / "b.txt").write_text(_cut("Harbour news!", "Wednesday") + "\n" + _cut("Harbour news 2", "Thursday"),
                                            encoding="utf-8")
    with Store(cfg.state.path) as store:
        report = run_once(cfg, store, T1)
        slugs = {e.entry.title: e.entry.slug for e in store.newest()}
    assert report.new == 2
    assert slugs == {"Harbour news": "harbour-news", "Harbour news 2 2": "harbour-news-2-2",
                     "Harbour news!": "harbour-news-2", "Harbour news 2": "harbour-news-2-3"}
