"""HTML dumps through a whole pass: with the seeds, into valid feeds with clean content.

The pages are our own cases in tests/html/ and, where ../shared/html-dumps/ is beside the clone,
the real pages kept there (tests/html/README.md); a check of one real page is skipped, naming
the folder, where it is not."""

from __future__ import annotations

import json
import shutil

import feedparser
import pytest
from bs4 import BeautifulSoup
from conftest import REPO, SEEDS, SHARED_HTML, run_cli, write_config

OWN = REPO / "tests" / "html"
HTML = sorted(OWN.glob("*.html")) + (sorted(SHARED_HTML.glob("*.html")) if SHARED_HTML.is_dir() else [])
NOW = "2025-03-01T09:00:00+00:00"
NO_SHARED = pytest.mark.skipif(not SHARED_HTML.is_dir(), reason=f"third-party pages not read: no folder {SHARED_HTML} "
                                                               "(they are kept there, beside the clone, not copied)")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("html")
    (root / "dumps").mkdir()
    for f in [*SEEDS, *HTML]:
        shutil.copy(f, root / "dumps" / f.name)
    cfg = write_config(root, [str(root / "dumps" / "*.txt"), str(root / "dumps" / "*.html")])
    cfg.write_text(cfg.read_text().replace("[output]\n", "[output]\nmax_entries = 200\n"), encoding="utf-8")
    proc = run_cli("-c", str(cfg), "--now", NOW)
    assert proc.returncode == 0, proc.stderr
    return root


def _expected() -> dict[str, dict]:
    posts = {}
    for f in HTML:
        for p in json.loads(f.with_suffix(".expected.json").read_text(encoding="utf-8"))["posts"]:
            posts[p["title"]] = p
    return posts


@pytest.mark.parametrize("name", ["atom.xml", "rss.xml"])
def test_feeds_are_valid_and_content_is_clean(built, name):
    parsed = feedparser.parse((built / "out" / name).read_bytes())
    assert parsed.bozo == 0 and len(parsed.entries) == 38 + len(_expected())
    for e in parsed.entries:
        html = e.content[0].value if "content" in e else e.summary
        soup = BeautifulSoup(html, "html.parser")
        assert not soup.find(["script", "iframe", "style", "object", "embed"]), e.title
        assert not any(t.has_attr(a) and a.startswith("on") for t in soup.find_all(True) for a in t.attrs), e.title
        for tag in soup.find_all(["a", "img"]):
            url = tag.get("href") or tag.get("src")
            if url:
                assert url.startswith(("http://", "https://", "mailto:")), (e.title, url)


def test_html_posts_keep_their_url_date_author_and_categories(built):
    parsed = feedparser.parse((built / "out" / "atom.xml").read_bytes())
    by_title = {e.title: e for e in parsed.entries}
    for title, want in _expected().items():
        e = by_title[title]
        assert e.link == want["url"]
        assert e.get("author") == want["author"]
        assert [t.term for t in e.get("tags", [])] == want["categories"]
        if want["published"] and len(want["published"]) > 10:
            assert e.published_parsed is not None
            from datetime import datetime
            assert datetime.fromisoformat(e.published) == datetime.fromisoformat(want["published"])
        elif want["published"]:
            assert e.published.startswith(want["published"])


@pytest.mark.parametrize("site", ["http://www.example.org/",
                                  pytest.param("http://www.echte-demokratie-jetzt.de/", marks=NO_SHARED)])
def test_youtube_embeds_become_links(built, site):
    parsed = feedparser.parse((built / "out" / "atom.xml").read_bytes())
    demo = [e for e in parsed.entries if e.link.startswith(site)]
    bodies = " ".join(e.content[0].value for e in demo)
    assert "Embedded content: " in bodies and "<iframe" not in bodies


ONE_ENTRY = [
    (OWN / "listing-wordpress-german-dates.html", "Warum so schwarz sehen?",
     "http://www.example.org/2013/07/warum-so-schwarz-sehen/", "ulla", ["Allgemein"], "2013-07-23"),
    pytest.param(SHARED_HTML / "listing-echte-demokratie-blog.html", "Sei doch nicht so negativ!",
                 "http://www.echte-demokratie-jetzt.de/2013/07/sei-doch-nicht-so-negativ/", "uriebe", ["Allgemein"],
                 "2013-07-23", marks=NO_SHARED)]


def _excerpt(html, title: str) -> list[str]:
    """The paragraphs a listing shows of the post with this title."""
    from datetime import UTC, datetime

    from feeds.config import load
    from feeds.ingest import read_dump

    now = datetime.fromisoformat(NOW).astimezone(UTC)
    [found] = [p for p in read_dump(str(html), html.read_bytes(), now, load(None), now).posts if p.title == title]
    return [b.text for b in found.body]


@pytest.mark.parametrize(("html", "title", "url", "author", "categories", "day"), ONE_ENTRY)
def test_a_post_in_a_text_dump_and_an_html_dump_is_one_entry(tmp_path, html, title, url, author, categories, day):
    (tmp_path / "dumps").mkdir()
    shutil.copy(html, tmp_path / "dumps" / html.name)
    # The listing shows only the opening of this post; a text dump of the site has it whole (the
    # same opening: a post without a URL is its title and its opening words, feeds.identity).
    whole = "\n\n".join([title, *_excerpt(html, title), *[f"Absatz {i}: Ein ganzer Text, der hier vollständig "
                                                          "steht und weiter geht als der Auszug." for i in range(8)]])
    (tmp_path / "dumps" / "text.txt").write_text(whole + "\n", encoding="utf-8")
    cfg = write_config(tmp_path, [str(tmp_path / "dumps" / "*.txt"), str(tmp_path / "dumps" / "*.html")])
    proc = run_cli("-c", str(cfg), "--now", NOW)
    assert proc.returncode == 0, proc.stderr
    entries = feedparser.parse((tmp_path / "out" / "atom.xml").read_bytes()).entries
    same = [e for e in entries if e.title == title]
    assert len(same) == 1
    e = same[0]
    assert e.link == url
    assert e.author == author and [t.term for t in e.tags] == categories
    assert e.published.startswith(day)
    assert "Absatz 7" in e.content[0].value  # the fuller body: the whole text, not the excerpt


INSPECTED = [
    (OWN / "listing-blogger-hidden-author.html", 4, "Quieter trains: what the new timetable changes",
     "http://blog.example.com/2019/09/quieter-trains-new-timetable.html", "Mira Okafor", "2019-09-24"),
    pytest.param(SHARED_HTML / "listing-googleblog-home.html", 10, "Transparency Report: Making the web a safer place",
                 "http://googleblog.blogspot.com/2013/06/transparency-report-making-web-safer.html", "Lucas Ballard",
                 "2013-06-25", marks=NO_SHARED)]


@pytest.mark.parametrize(("page", "count", "title", "url", "author", "day"), INSPECTED)
def test_inspect_json_on_an_html_page(page, count, title, url, author, day):
    proc = run_cli("inspect", "--json", "--now", NOW, str(page), check=True)
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == count
    first = rows[0]
    assert first["title"] == title
    assert first["url"] == url
    assert first["author"] == author and first["categories"] == [] and first["truncated"] is False
    assert first["published"].startswith(day) and first["date_source"] == "explicit"


# -- JSON Feed 1.1, field by field (https://jsonfeed.org/version/1.1) ----------------------

TOP = {"version", "title", "home_page_url", "feed_url", "description", "user_comment", "next_url", "icon",
       "favicon", "authors", "language", "expired", "hubs", "items"}
ITEM = {"id", "url", "external_url", "title", "content_html", "content_text", "summary", "image", "banner_image",
        "date_published", "date_modified", "authors", "tags", "language", "attachments"}


def _rfc3339(value: str) -> bool:
    import re
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", value))


def test_json_feed_is_valid_json_feed_1_1(built):
    feed = json.loads((built / "out" / "feed.json").read_text(encoding="utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1" and isinstance(feed["title"], str)
    assert set(feed) <= TOP | {k for k in feed if k.startswith("_")}
    assert feed["feed_url"] == "http://127.0.0.1:8000/feed.json" and feed["home_page_url"].startswith("http")
    assert all(isinstance(a, dict) and a.get("name") for a in feed["authors"])
    atom = feedparser.parse((built / "out" / "atom.xml").read_bytes())
    assert [i["id"] for i in feed["items"]] == [e.id for e in atom.entries]  # the same entries, same order
    for item in feed["items"]:
        assert set(item) <= ITEM, set(item) - ITEM
        assert isinstance(item["id"], str) and item["id"]
        assert "content_html" in item or "content_text" in item
        assert item["url"].startswith(("http://", "https://"))
        assert _rfc3339(item["date_published"]) and _rfc3339(item["date_modified"])
        assert all(isinstance(t, str) and t for t in item.get("tags", []))
        assert all(a.get("name") for a in item.get("authors", []))
        soup = BeautifulSoup(item["content_html"], "html.parser")
        assert not soup.find(["script", "iframe"])
        assert all((t.get("href") or t.get("src") or "http").startswith(("http", "mailto:"))
                   for t in soup.find_all(["a", "img"]))


@pytest.mark.parametrize(("title", "author"), [
    ("CSV parsing: fastcsv vs. the standard library", "Noor Haddad"),
    pytest.param("JSON parsing: simdjson vs. JSON for Modern C++", "Daniel Lemire", marks=NO_SHARED)])
def test_json_feed_item_has_its_author_and_no_tags_for_an_empty_category_link(built, title, author):
    feed = json.loads((built / "out" / "feed.json").read_text(encoding="utf-8"))
    [item] = [i for i in feed["items"] if i["title"] == title]
    assert item["authors"] == [{"name": author}] and "tags" not in item


def test_category_feeds_and_websub_hub(tmp_path):
    (tmp_path / "dumps").mkdir()
    for f in HTML:
        shutil.copy(f, tmp_path / "dumps" / f.name)
    cfg = write_config(tmp_path, [str(tmp_path / "dumps" / "*.html")],
                       "")
    cfg.write_text(cfg.read_text().replace("[output]\n", '[output]\ncategory_feeds = true\n'
                                           'hub = "https://hub.example.org/"\n'), encoding="utf-8")
    proc = run_cli("-c", str(cfg), "--now", NOW)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    news = feedparser.parse((out / "categories" / "news" / "atom.xml").read_bytes())
    assert news.bozo == 0 and news.feed.title.endswith(": News")
    assert sorted(e.title for e in news.entries) == sorted(t for t, p in _expected().items() if "News" in p["categories"])
    assert news.feed.links[0].href == "http://127.0.0.1:8000/categories/news/atom.xml"
    assert len(list((out / "categories").glob("*/atom.xml"))) == len({c for p in _expected().values()
                                                                     for c in p["categories"]})
    for name in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse((out / name).read_bytes())
        assert parsed.bozo == 0
        assert any(link.get("rel") == "hub" and link.href == "https://hub.example.org/" for link in parsed.feed.links), name
    assert json.loads((out / "feed.json").read_text())["hubs"] == [{"type": "WebSub", "url": "https://hub.example.org/"}]


def _category_links(page) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """A post page's links to category feeds: (title, href) of each <link rel=alternate> in its head
    beyond the site's three feeds, and (text, href) of each link in its meta line."""
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    head = [(link["title"], link["href"]) for link in soup.head.find_all("link", rel="alternate")
            if "/categories/" in link["href"]]
    return head, [(a.get_text(), a["href"]) for a in soup.select("article p.meta a")]


def test_post_pages_link_the_feed_of_each_of_their_categories(tmp_path):
    (tmp_path / "dumps").mkdir()
    for f in HTML:
        shutil.copy(f, tmp_path / "dumps" / f.name)
    cfg = write_config(tmp_path, [str(tmp_path / "dumps" / "*.html")])
    cfg.write_text(cfg.read_text().replace("[output]\n", "[output]\ncategory_feeds = true\n"), encoding="utf-8")
    assert run_cli("-c", str(cfg), "--now", NOW).returncode == 0
    out = tmp_path / "out"
    base = "http://127.0.0.1:8000/"
    pages = {BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser").h1.get_text(): p
             for p in (out / "posts").glob("*.html")}
    for title, post in _expected().items():
        head, meta = _category_links(pages[title])
        assert [t for t, _ in head] == [f"Friends of Socialist China: {c} (Atom)" for c in post["categories"]], title
        assert [t for t, _ in meta] == post["categories"], title
        assert [h for _, h in head] == [h for _, h in meta]
        for category, (_, href) in zip(post["categories"], head, strict=True):
            assert href.startswith(base + "categories/") and href.endswith("/atom.xml")
            feed = feedparser.parse((out / href.removeprefix(base)).read_bytes())  # it resolves, to that category
            assert feed.bozo == 0 and feed.feed.title.endswith(f": {category}") and title in [e.title for e in feed.entries]
    # The same input, the same pages: a rebuild changes no byte.
    before = {p: p.read_bytes() for p in (out / "posts").glob("*.html")}
    assert run_cli("-c", str(cfg), "--now", NOW, "run", "--rebuild").returncode == 0
    assert {p: p.read_bytes() for p in (out / "posts").glob("*.html")} == before


@pytest.mark.parametrize(("title", "shown"), [
    ("This Queue is so Patient!", "Featured Article, JavaScript, Performance, Web Workers"),
    pytest.param("This API is so Fetching!", "Featured Article, ServiceWorkers, Web Workers, WebAPI", marks=NO_SHARED)])
def test_without_category_feeds_pages_name_their_categories_and_link_no_feed(built, title, shown):
    [page] = [p for p in (built / "out" / "posts").glob("*.html")
              if BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser").h1.get_text() == title]
    assert _category_links(page) == ([], [])
    assert shown in page.read_text(encoding="utf-8")


@pytest.mark.slow  # (14 s of the quick run, most of it the checker on long real pages; CI runs it)
def test_pages_of_html_posts_pass_nu_html_checker(built):
    from test_validity import _nu_check

    out = built / "out"
    expected = _expected()
    pages = [p for p in sorted((out / "posts").glob("*.html"))
             if any(BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser").h1.get_text() == t for t in expected)]
    assert len(pages) == len(expected)
    _nu_check(pages, out)


def test_the_html_body_wins_over_the_same_text(tmp_path):
    (tmp_path / "dumps").mkdir()
    words = "A short note about the harbour wall, written out in full here for the test."
    (tmp_path / "dumps" / "a-text.txt").write_text(f"Harbour wall repaired\n\n{words}\n", encoding="utf-8")
    cfg = write_config(tmp_path, [str(tmp_path / "dumps" / "*.txt"), str(tmp_path / "dumps" / "*.html")])
    assert run_cli("-c", str(cfg), "--now", NOW).returncode == 1  # no .html yet: that path is named
    (tmp_path / "dumps" / "b-post.html").write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="canonical" href="https://h.example/wall/">'
        '</head><body class="single"><article class="post hentry"><h1 class="entry-title">Harbour wall repaired</h1>'
        f'<div class="entry-content"><p>{words}</p><figure><img src="/wall.jpg" alt="The wall"></figure></div>'
        '</article></body></html>', encoding="utf-8")
    assert run_cli("-c", str(cfg), "--now", "2025-03-02T09:00:00+00:00").returncode == 0
    [entry] = feedparser.parse((tmp_path / "out" / "atom.xml").read_bytes()).entries
    assert 'src="https://h.example/wall.jpg"' in entry.content[0].value  # the HTML copy's figure
    assert entry.link == "https://h.example/wall/"


def test_a_category_keeps_its_feed_address(tmp_path):
    (tmp_path / "dumps").mkdir()

    def page(name: str, title: str, category: str) -> None:
        (tmp_path / "dumps" / f"{name}.html").write_text(
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="canonical" href="https://c.example/{name}/">'
            f'</head><body class="single"><article class="post hentry"><h1 class="entry-title">{title}</h1>'
            f'<a rel="category tag" href="/c/">{category}</a><div class="entry-content"><p>Text of {title}.</p>'
            '</div></article></body></html>', encoding="utf-8")

    cfg = write_config(tmp_path, [str(tmp_path / "dumps" / "*.html")])
    cfg.write_text(cfg.read_text().replace("[output]\n", "[output]\ncategory_feeds = true\n"), encoding="utf-8")
    page("one", "Pointers in C", "C")
    page("two", "Templates in C++", "C++")
    assert run_cli("-c", str(cfg), "--now", NOW).returncode == 0
    feed = tmp_path / "out" / "categories" / "c-2" / "atom.xml"
    assert feedparser.parse(feed.read_bytes()).feed.title.endswith(": C++")
    page("three", "Delegates in C#", "C#")  # sorts between C and C++
    assert run_cli("-c", str(cfg), "--now", "2025-03-02T09:00:00+00:00").returncode == 0
    assert feedparser.parse(feed.read_bytes()).feed.title.endswith(": C++")  # still C++ at c-2
    assert feedparser.parse((tmp_path / "out" / "categories" / "c-3" / "atom.xml").read_bytes()
                            ).feed.title.endswith(": C#")


def test_control_characters_in_an_html_dump_do_not_stop_publishing(tmp_path):
    (tmp_path / "dumps").mkdir()
    (tmp_path / "dumps" / "ctrl.html").write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body class="blog">'
        '<article class="post hentry"><h2 class="entry-title"><a href="https://c.example/two">Two \x07 bell</a></h2>'
        '<time class="published" datetime="2025-02-20T10:00:00+00:00">20 February</time><span class="fn">Au\x01thor'
        '</span><div class="entry-content"><p>Te\x01xt with a \x00NUL.</p></div></article></body></html>',
        encoding="utf-8")
    cfg = write_config(tmp_path, [str(tmp_path / "dumps" / "*.html")])
    proc = run_cli("-c", str(cfg), "--now", NOW)
    assert proc.returncode == 0, proc.stderr
    assert "ctrl.html: removed 4 characters that XML forbids" in proc.stderr
    for name in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse((tmp_path / "out" / name).read_bytes())
        assert parsed.bozo == 0 and [e.title for e in parsed.entries] == ["Two bell"]
    assert "Text with a NUL." in feedparser.parse((tmp_path / "out" / "atom.xml").read_bytes()).entries[0].content[0].value


def test_an_entry_stored_with_control_characters_does_not_block_publishing(tmp_path):
    """An entry an older version stored with characters XML forbids is published without them."""
    from datetime import datetime

    from conftest import make_site

    from feeds.pipeline import run_once
    from feeds.store import Store

    config = make_site(tmp_path, {s.stem: s.read_bytes() for s in SEEDS})
    now = datetime.fromisoformat(NOW)
    with Store(config.state.path) as store:
        run_once(config, store, now)
        [key] = [s.entry.key for s in store.newest(1)]
        with store.transaction():
            store.db.execute("UPDATE entries SET title = ?, summary = summary || ?, text = text || ?, "
                             "source_html = ?, author = ?, categories = ?, url = ? WHERE key = ?",
                             ("Bell \x07 title", "\x01", "\x00", "<p>Te\x01xt</p>", "Au\x01thor",
                              '["Ta\\u0002g"]', "https://e.example/\x01x", key))
            store.add_pending("entry", [key])
        report = run_once(config, store, now)
    assert report.files_written
    for name in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse((config.output.dir / name).read_bytes())
        assert parsed.bozo == 0
        assert (parsed.entries[0].title, parsed.entries[0].link) == ("Bell  title", "https://e.example/x")
    [first] = feedparser.parse((config.output.dir / "atom.xml").read_bytes()).entries[:1]
    assert [t.term for t in first.tags] == ["Tag"] and first.author == "Author"
    assert first.content[0].value.startswith("<p>Text</p>")  # (then a cut post's link to its page)


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59+05:00", "2400-01-01T00:00:00Z"])
def test_an_html_dump_with_an_implausible_date_is_read_and_dated_otherwise(tmp_path, value):
    (tmp_path / "dumps").mkdir()
    dump = tmp_path / "dumps" / "odd.html"
    dump.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body class="blog">'
        '<article class="post hentry"><h2 class="entry-title"><a href="https://o.example/a">Odd date</a></h2>'
        f'<time class="published" datetime="{value}">someday</time><div class="entry-content"><p>Text.</p></div>'
        '</article><article class="post hentry"><h2 class="entry-title"><a href="https://o.example/b">Fine date</a>'
        '</h2><time class="published" datetime="2025-02-20T10:00:00+00:00">20 February</time>'
        '<div class="entry-content"><p>More text.</p></div></article></body></html>', encoding="utf-8")
    warning = f"{dump}: ignored the date {value!r}"
    inspected = run_cli("inspect", "--json", "--now", NOW, str(dump))
    assert inspected.returncode == 0 and warning in inspected.stderr, inspected.stderr
    rows = [json.loads(line) for line in inspected.stdout.splitlines()]
    assert [r["date_source"] for r in rows] == ["inferred", "explicit"]
    assert "2025-02-20T10:00:00" < rows[0]["published"] <= NOW[:19]
    cfg = write_config(tmp_path, [str(tmp_path / "dumps" / "*.html")])
    proc = run_cli("-c", str(cfg), "--now", NOW)
    assert proc.returncode == 0 and warning in proc.stderr, proc.stderr
    parsed = feedparser.parse((tmp_path / "out" / "atom.xml").read_bytes())
    assert parsed.bozo == 0 and [e.title for e in parsed.entries] == ["Odd date", "Fine date"]
