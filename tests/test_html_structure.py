"""Finding the posts of a saved page: the engine table, the structure of pages with no post
markup, CSS selectors from the config ([[input.html]]), and `inspect --explain`.

The pages in tests/html_structure/ are our own (invented sites on example domains), each with
NAME.expected.json in the format of tests/html/README.md; `explain-*.html` pages have none:
they give no posts by guessing, and the tests below paste the selectors `--explain` proposes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import run_cli, write_config

from feeds import config
from feeds.errors import ConfigError, DumpError
from feeds.ingest.html.engines import ENGINES, POST_SELECTOR
from feeds.ingest.html.posts import read_html

CASES_DIR = Path(__file__).parent / "html_structure"
CASES = sorted(p for p in CASES_DIR.glob("*.html") if p.with_suffix(".expected.json").exists())
FIELDS = ("title", "url", "published", "author", "categories", "truncated")


@pytest.mark.parametrize("page", CASES, ids=[c.stem for c in CASES])
def test_page_gives_exactly_the_expected_posts(page: Path) -> None:
    expected = json.loads(page.with_suffix(".expected.json").read_text(encoding="utf-8"))
    got = read_html(str(page), page.read_bytes())
    assert got.kind == expected["kind"]
    assert [{f: list(v) if isinstance(v := getattr(p, f), tuple) else v for f in FIELDS} for p in got.posts] == \
        [{f: p[f] for f in FIELDS} for p in expected["posts"]]


def _page(body: str, head: str = '<link rel="canonical" href="https://e.example/list/">') -> bytes:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>".encode()


def _rows(n: int, row: str = '<div class="row"><h3><a href="/p/{i}">Post number {i} here</a></h3>'
                              '<p>Some words of the post number {i}, enough to be an excerpt.</p></div>') -> str:
    return "".join(row.format(i=i) for i in range(1, n + 1))


def test_every_engine_row_is_a_valid_selector_and_finds_its_markup() -> None:
    assert [e.name for e in ENGINES if not e.posts.strip()] == []
    substack = _page(_rows(2, '<div class="post-preview"><a class="post-preview-title" href="/p/{i}">Letter {i}</a>'
                              '<div class="post-preview-description">What letter {i} is about.</div></div>'))
    page = read_html("s.html", substack)
    assert [p.title for p in page.posts] == ["Letter 1", "Letter 2"]
    assert dict(page.posts[0].sources)["post"] == "engine table: Substack"
    assert "div.post-preview" in POST_SELECTOR


def test_repeated_blocks_in_a_menu_sidebar_or_footer_are_not_posts() -> None:
    for box in ("nav", "aside", "footer"):
        with pytest.raises(DumpError, match="no posts found"):
            read_html("m.html", _page(f"<{box}>{_rows(4)}</{box}>"))
    with pytest.raises(DumpError, match="no posts found"):
        read_html("m.html", _page(f'<div class="popular-posts">{_rows(4)}</div>'))
    for heading in ("Most read", "Meistgelesen", "Related stories"):
        with pytest.raises(DumpError, match="no posts found"):
            read_html("m.html", _page(f"<div><h2>{heading}</h2><div>{_rows(4)}</div></div>"))
    assert len(read_html("m.html", _page(f"<div><h2>News</h2><div>{_rows(4)}</div></div>")).posts) == 4


def test_blocks_that_are_mostly_links_are_a_menu_not_posts() -> None:
    columns = "".join(f'<div class="col"><h4>Column number {i}</h4><ul>' + "".join(
        f'<li><a href="/c{i}/{j}">Link to page {j} of column {i}</a></li>' for j in range(4)) + "</ul></div>"
        for i in range(4))
    with pytest.raises(DumpError, match="no posts found"):
        read_html("m.html", _page(f'<div class="site-map">{columns}</div>'))


def test_a_box_of_several_posts_is_not_one_post() -> None:
    """Wrappers that each hold two posts of the same heading level are not blocks; their posts are."""
    pairs = "".join(f'<div class="pair">{_rows(2).replace("number ", f"number {i}.")}</div>' for i in range(3))
    page = read_html("w.html", _page(pairs))
    assert len(page.posts) == 6


def test_the_longest_list_in_the_main_content_wins_over_a_longer_one_outside_it() -> None:
    side = _rows(6, '<div class="item"><a href="/x/{i}">Other site story {i} of the day</a>'
                    '<p>Words of the other story {i} that are long enough.</p></div>')
    page = read_html("l.html", _page(f'<div class="extra">{side}</div><main>{_rows(4)}</main>'))
    assert [p.url for p in page.posts] == [f"https://e.example/p/{i}" for i in range(1, 5)]


def test_a_featured_post_above_marked_posts_is_found_first() -> None:
    cards = "".join(f'<article class="post"><h2 class="entry-title"><a href="/posts/{i}">Card {i}</a></h2>'
                    f'<p>Text {i}.</p></article>' for i in (2, 3))
    hero = '<div class="hero"><h2><a href="/posts/1">The newest one</a></h2><p>Its teaser.</p></div>'
    elsewhere = '<div class="hero"><h2><a href="/about/team">Our team</a></h2></div>'
    page = read_html("f.html", _page(elsewhere + hero + f"<main>{cards}</main>"))
    assert [p.title for p in page.posts] == ["The newest one", "Card 2", "Card 3"]
    assert dict(page.posts[0].sources)["post"] == "structure: featured post above the list"


def test_a_short_list_inside_a_long_text_does_not_make_a_listing() -> None:
    """A post with no markup that lists a few dated links is a post, not a listing of them."""
    prose = "<p>" + "A long paragraph of the post's own text, which goes on. " * 20 + "</p>"
    body = f'<h1>Release notes</h1><div class="entry-content">{prose}{_rows(3)}{prose}</div>'
    page = read_html("p.html", _page(body, '<link rel="canonical" href="https://e.example/notes">'))
    assert page.kind == "post" and [p.title for p in page.posts] == ["Release notes"]


def test_a_page_marked_as_one_post_is_not_read_by_its_structure() -> None:
    head = '<link rel="canonical" href="https://e.example/one"><meta property="og:type" content="article">'
    page = read_html("o.html", _page(f'<h1 class="entry-title">One</h1><div class="entry-content">{_rows(4)}</div>',
                                     head))
    assert page.kind == "post" and [p.title for p in page.posts] == ["One"]


# -- selectors ------------------------------------------------------------------------------

def _selectors(**tables: str) -> tuple:
    return config.parse({"input": {"html": [tables]}}).input.html


def test_selectors_win_over_the_markup_and_read_each_field() -> None:
    body = ('<article class="post"><h2 class="entry-title"><a href="/decoy">Decoy</a></h2></article>'
            '<ul class="news">' + "".join(
                f'<li><b>Item {i}</b><a class="go" href="/n/{i}">open</a><i>Posted 0{i}.03.2024, 9 am</i><em>Ann</em>'
                f'<span class="t">x</span><span class="t">y</span><p>Text {i}.</p></li>' for i in (1, 2)) + "</ul>")
    rules = _selectors(match="*.html", item="ul.news > li", title="b", link="a.go", date="i", date_format="%d.%m.%Y",
                       author="em", content="p", categories="span.t")
    page = read_html("news.html", _page(body), selectors=rules)
    assert [(p.title, p.url, p.published, p.author, p.categories) for p in page.posts] == [
        ("Item 1", "https://e.example/n/1", "2024-03-01", "Ann", ("x", "y")),
        ("Item 2", "https://e.example/n/2", "2024-03-02", "Ann", ("x", "y"))]
    assert "Text 1." in page.posts[0].body and dict(page.posts[0].sources)["published"] == "selector date = 'i'"
    other = read_html("other.html", _page(body), selectors=_selectors(match="news-*.html", item="li"))
    assert [p.title for p in other.posts] == ["Decoy"]  # (a glob that does not match: the markup)


def test_a_selector_that_matches_nothing_is_named_in_a_warning() -> None:
    page = read_html("n.html", _page(_rows(2)), selectors=_selectors(match="n.html", item="div.row", date=".when"))
    assert page.warnings == ("n.html: input.html selector date = '.when' matches nothing in the items ('div.row')",)
    with pytest.raises(DumpError, match="no posts found"):
        read_html("n.html", _page(_rows(2)), selectors=_selectors(match="n.html", item="div.gone"))


@pytest.mark.parametrize(("table", "key", "expected"), [
    ({"match": "a.html", "item": "div["}, "input.html[0].item", "a CSS selector"),
    ({"match": "a.html", "item": "div", "titel": "h2"}, "input.html[0].titel", "unknown key"),
    ({"match": "a.html"}, "input.html[0].item", "a CSS selector for one post"),
    ({"match": "a.html", "item": "div", "date_format": "dd.mm.yyyy"}, "input.html[0].date_format", "strptime"),
])
def test_a_bad_selector_table_stops_the_load_naming_the_key(table: dict, key: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as caught:
        config.parse({"input": {"html": [table]}})
    assert key in str(caught.value)


# -- inspect --explain ----------------------------------------------------------------------

def test_explain_names_the_rule_of_each_post_and_field() -> None:
    result = run_cli("inspect", "--explain", "--json", str(CASES_DIR / "listing-date-headers.html"))
    page = json.loads(result.stdout)
    assert result.returncode == 0 and page["kind"] == "listing"
    first = page["posts"][0]
    assert first["post"] == "structure: repeated blocks ul.entries > li"
    assert first["fields"]["published"] == {"value": "2024-06-05", "rule": "structure: date above the block"}
    assert first["fields"]["author"] == {"value": None, "rule": "none found"}
    assert "item = \"ul.entries > li\"" in page["proposal"]


def test_pasting_the_proposed_selectors_into_feeds_toml_finds_the_posts(tmp_path: Path) -> None:
    page = tmp_path / "explain-bare-titles.html"
    shutil.copyfile(CASES_DIR / page.name, page)
    cfg = write_config(tmp_path, [str(page)])
    before = run_cli("-c", str(cfg), "inspect", "--json", str(page))
    assert before.returncode != 0 and "no posts found" in before.stderr
    explained = run_cli("-c", str(cfg), "inspect", "--explain", str(page))
    assert "proposed selectors" in explained.stdout
    block = explained.stdout[explained.stdout.index("[[input.html]]"):]
    cfg.write_text(cfg.read_text(encoding="utf-8") + "\n" + "\n".join(line.strip() for line in block.splitlines()) + "\n",
                   encoding="utf-8")
    after = run_cli("-c", str(cfg), "inspect", "--json", str(page))
    assert after.returncode == 0, after.stderr
    rows = [json.loads(line) for line in after.stdout.splitlines()]
    assert [(r["title"], r["url"]) for r in rows] == [
        ("New ferry timetable from December", "https://harbour.example.org/press/2024-11-new-ferry-timetable"),
        ("Pier repairs finished ahead of winter", "https://harbour.example.org/press/2024-10-pier-repairs"),
        ("Harbour open day on the last Sunday of September",
         "https://harbour.example.org/press/2024-09-harbour-open-day")]


def test_a_pass_logs_a_selector_that_matches_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    page = tmp_path / "news.html"
    page.write_bytes(_page(_rows(2)))
    cfg = write_config(tmp_path, [str(page)], '[[input.html]]\nmatch = "news.html"\nitem = "div.row"\n'
                                              'author = ".byline"\n')
    result = run_cli("-c", str(cfg), "inspect", str(page))
    assert result.returncode == 0
    assert "input.html selector author = '.byline' matches nothing" in result.stderr + caplog.text


@pytest.mark.parametrize("name", ["listing-party-news", "listing-link-cards-carousel"])
def test_the_proposed_selectors_find_what_the_structure_found_featured_post_included(name: str) -> None:
    import tomllib

    from feeds.ingest.html.explain import explain
    from feeds.ingest.reader import Settings

    page = CASES_DIR / f"{name}.html"
    proposed = explain(str(page), page.read_bytes(), Settings.of(config.Config()))["proposal"]
    rules = config.parse(tomllib.loads(proposed)).input.html
    guessed, selected = read_html(str(page), page.read_bytes()), read_html(str(page), page.read_bytes(),
                                                                           selectors=rules)
    assert [(p.title, p.url) for p in selected.posts] == [(p.title, p.url) for p in guessed.posts]
    assert dict(selected.posts[0].sources)["post"] == "selector item"
