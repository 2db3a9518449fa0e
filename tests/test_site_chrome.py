"""Site chrome across dumps (feeds.ingest.repeats): what every page of a site opens and closes
with is chrome, neither posts nor post text; what two pages, or copies of one page, share is
not. Each case is a folder of tests/site_chrome/: the pages of one site and expected.json (the
titles each page gives when read with the others, or null: each page reads as it does alone)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import make_site, run_cli, write_config

from feeds import config
from feeds.ingest import READERS, read_dump
from feeds.ingest.files import Sites
from feeds.ingest.repeats import Edges, edge_key, site_edges
from feeds.models import Post
from feeds.pipeline import run_once
from feeds.store import Store

CASES = Path(__file__).parent / "site_chrome"
WHEN = datetime(2026, 12, 3, 12, tzinfo=UTC)
CONFIG = config.parse({"site": {"title": "T", "url": "https://example.org/"}})


def _read(paths: list[Path], *, together: bool) -> dict[str, tuple[Post, ...]]:
    sites = Sites([str(p) for p in paths], READERS, CONFIG.input.max_bytes)
    return {p.stem: read_dump(str(p), p.read_bytes(), WHEN, CONFIG, WHEN, site=sites.of(str(p)) if together else None).posts
            for p in paths}


def _shape(posts: tuple[Post, ...]) -> list[tuple[str, int, int]]:
    return [(p.title, p.start_line, p.end_line) for p in posts]


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir()))
def test_site_chrome_case(case: str) -> None:
    folder = CASES / case
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    pages = sorted(folder.glob("*.txt"))
    alone, together = _read(pages, together=False), _read(pages, together=True)
    if expected["titles"] is None:
        assert {k: _shape(v) for k, v in together.items()} == {k: _shape(v) for k, v in alone.items()}
        return
    assert {k: [p.title for p in v] for k, v in together.items()} == expected["titles"], expected["about"]
    for name, posts in together.items():
        for post in posts:
            text = "\n".join([post.title, *(b.text for b in post.body)])
            assert not any(phrase in text for phrase in expected["not_in_posts"]), (name, post.title, text)


def test_read_alone_the_header_and_footer_are_taken_for_posts_and_text() -> None:
    """What the header-footer case shows is the pages read together, not each read alone."""
    pages = sorted((CASES / "header-footer").glob("*.txt"))
    alone = _read(pages, together=False)
    titles = [p.title for posts in alone.values() for p in posts]
    texts = [b.text for posts in alone.values() for p in posts for b in p.body]
    assert "Harbour Notes" in titles
    assert any(t.startswith("About this blog") or t.startswith("Copyright") for t in texts)


def test_fewer_than_three_different_pages_give_no_edges() -> None:
    a = ["Site", "Menu", "First post", "Its text.", "Footer"]
    b = ["Site", "Menu", "Other post", "Other text.", "Footer"]
    assert not site_edges([a, b])
    assert not site_edges([a, a, a, b])  # (copies are one page)
    c = ["Site", "Menu", "Third post", "Third text.", "More text.", "Footer"]
    assert site_edges([a, b, c]) == Edges(("Site", "Menu"), ("Footer",))


def test_lynx_link_numbers_are_not_compared() -> None:
    assert edge_key("[12]Home [13]Archive") == "Home Archive"
    pages = [[f"[{n}]Home", f"post {n}", f"text {n}", f"[{n + 9}]About"] for n in (1, 4, 7)]
    assert site_edges([[edge_key(x) for x in p] for p in pages]) == Edges(("Home",), ("About",))


def test_a_pass_stores_no_header_as_a_post(tmp_path: Path) -> None:
    pages = {p.stem: p.read_text(encoding="utf-8") for p in sorted((CASES / "header-footer").glob("*.txt"))}
    cfg = make_site(tmp_path, pages)
    with Store(cfg.state.path) as store:
        run_once(cfg, store, WHEN)
        titles = sorted(e.entry.title for e in store.each())
    assert titles == sorted({"The winter mooring list", "A new crane for the slipway", "Tide tables for December",
                             "Fuel berth opening hours change", "Dredging the harbour entrance", "New lights on the east pier",
                             "Results of the autumn regatta", "Repairs to the north slipway"})


def test_inspect_reads_the_pages_it_is_given_together_and_one_page_alone() -> None:
    pages = [str(p) for p in sorted((CASES / "header-footer").glob("*.txt"))]
    together = [json.loads(line)["title"] for line in run_cli("inspect", "--json", *pages, check=True).stdout.splitlines()]
    alone = [json.loads(line)["title"] for line in run_cli("inspect", "--json", pages[0], check=True).stdout.splitlines()]
    assert "Harbour Notes" not in together and len(together) == 12
    assert "Harbour Notes" in alone


def test_check_reads_the_dumps_together_as_a_pass_does(tmp_path: Path) -> None:
    folder = CASES / "header-footer"
    cfg = write_config(tmp_path, [str(folder / "*.txt")])
    out = run_cli("-c", str(cfg), "check").stdout
    for page in ("home", "news", "page2"):
        assert f"a pass would read {folder / page}.txt (new: 4 post(s))" in out, out
