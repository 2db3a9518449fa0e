"""Saved HTML pages against what a correct reader extracts (NAME.expected.json beside each).

Our own cases (tests/html/*.html, written for this project; tests/html/README.md says what each
pins) run always. Other sites' real pages are read from ../shared/html-dumps/ beside the clone,
where it exists, and are skipped, naming the folder, where it does not: they are not ours to
copy into the project."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import SHARED_HTML

from feeds.errors import DumpError
from feeds.ingest.html.page import block_texts
from feeds.ingest.html.posts import read_html
from feeds.ingest.html.sanitise import clean_html
from feeds.ingest.text import strip_xml_forbidden

OWN = Path(__file__).parent / "html"
CASES = sorted(OWN.glob("*.html"))
NO_SHARED = f"third-party pages not read: no folder {SHARED_HTML} (they are kept there, beside the clone, not copied)"
SHARED = (sorted(SHARED_HTML.glob("*.html")) if SHARED_HTML.is_dir()
          else [pytest.param(None, marks=pytest.mark.skip(reason=NO_SHARED))])


def _gives_exactly_the_expected_posts(page: Path) -> None:
    expected = json.loads(page.with_suffix(".expected.json").read_text(encoding="utf-8"))
    got = read_html(str(page), page.read_bytes())
    assert got.kind == expected["kind"]
    assert [p.title for p in got.posts] == [p["title"] for p in expected["posts"]]
    for post, want in zip(got.posts, expected["posts"], strict=True):
        assert {"title": post.title, "url": post.url, "published": post.published, "author": post.author,
                "categories": list(post.categories), "truncated": post.truncated} == \
            {k: want[k] for k in ("title", "url", "published", "author", "categories", "truncated")}
        if "first_words" in want:
            assert post.body_element is not None
            words = " ".join(block_texts(post.body_element)).split()
            assert " ".join(words[:12]) == want["first_words"]
            assert " ".join(words[-12:]) == want["last_words"]


@pytest.mark.parametrize("page", CASES, ids=[c.stem for c in CASES])
def test_page_gives_exactly_the_expected_posts(page: Path) -> None:
    _gives_exactly_the_expected_posts(page)


@pytest.mark.parametrize("page", SHARED, ids=lambda p: p.stem if isinstance(p, Path) else "missing")
def test_third_party_page_gives_exactly_the_expected_posts(page: Path) -> None:
    _gives_exactly_the_expected_posts(page)


def _stems(folder: Path, suffix: str) -> set[str]:
    return {p.name.removesuffix(suffix) for p in folder.glob(f"*{suffix}")}


def test_every_case_has_its_expected_file_and_each_expected_file_its_case() -> None:
    assert CASES, f"no cases in {OWN}"
    assert _stems(OWN, ".html") == _stems(OWN, ".expected.json")
    if SHARED_HTML.is_dir():
        assert _stems(SHARED_HTML, ".html") == _stems(SHARED_HTML, ".expected.json")


def test_no_case_is_a_copy_of_a_third_party_page() -> None:
    """Other sites' pages stay in the shared folder: none of ours is a byte copy of one."""
    if not SHARED_HTML.is_dir():
        pytest.skip(NO_SHARED)
    theirs = {hashlib.sha256(p.read_bytes()).hexdigest(): p.name
              for p in SHARED_HTML.parent.rglob("*") if p.is_file()}
    copies = [(p.name, theirs[d]) for p in sorted(OWN.iterdir())
              if (d := hashlib.sha256(p.read_bytes()).hexdigest()) in theirs]
    assert copies == []


def test_the_minified_listing_holds_the_unclosed_div_trap() -> None:
    """Each post's header leaves a div open. lxml then nests every later post inside the one
    before (so a post would find every later post's date); the reader's parser must not."""
    data = (OWN / "listing-wordpress-minified.html").read_bytes()
    assert [len(a.select("time")) for a in BeautifulSoup(data, "lxml").find_all("article")] == [3, 2, 1]
    page = read_html("listing-wordpress-minified.html", data)
    assert len({p.published for p in page.posts}) == len(page.posts) == 3


# -- pages that once went wrong (from a review) ---------------------------------------------

def _page(body: str, head: str = "", body_class: str = "blog") -> bytes:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8">{head}</head>'
            f'<body class="{body_class}">{body}</body></html>').encode()


def _card(title: str, href: str, extra: str = "") -> str:
    return (f'<article class="post hentry"><h2 class="entry-title"><a href="{href}">{title}</a></h2>'
            f'<time class="published" datetime="2024-03-12T10:00:00+00:00">12 March</time>'
            f'<div class="entry-content"><p>Body of {title}.</p>{extra}</div></article>')


def test_a_malformed_link_is_dropped_not_fatal():
    page = read_html("p.html", _page(_card("Bad URL post", "http://[::1/") + _card("Fine", "https://x.example/f")))
    assert [(p.title, p.url) for p in page.posts] == [("Bad URL post", None), ("Fine", "https://x.example/f")]
    # the link's text stays; the link and the image, whose URLs cannot be made absolute, go
    assert clean_html('<p><a href="http://[::1/">x</a><img src="http://[::1/a.png"></p>',
                      "https://x.example/") == "<p>x</p>"


def test_only_web_urls_become_post_links():
    page = read_html("p.html", _page(_card("Trap", "javascript:alert(document.domain)") + _card("Data", "data:text/html,x")))
    assert [p.url for p in page.posts] == [None, None]
    single = read_html("s.html", _page(_card("One", "#"), head='<link rel="canonical" href="javascript:alert(1)">',
                                       body_class="single"))
    assert single.kind == "post" and single.posts[0].url is None


def test_relative_links_resolve_against_base_then_canonical_then_the_site():
    cards = _card("One", "/2024/03/one/") + _card("Two", "two.html")
    assert [p.url for p in read_html("p.html", _page(cards), "https://site.example/blog/").posts] == \
        ["https://site.example/2024/03/one/", "https://site.example/blog/two.html"]
    assert [p.url for p in read_html("p.html", _page(cards)).posts] == [None, None]  # nothing to resolve against
    based = _page(cards, head='<base href="https://mirror.example/">'
                              '<link rel="canonical" href="https://site.example/blog/">')
    assert [p.url for p in read_html("p.html", based).posts] == ["https://mirror.example/2024/03/one/",
                                                                  "https://mirror.example/two.html"]


def test_a_page_with_nothing_that_marks_posts_is_not_guessed_at():
    listing = _page('<h1>My site</h1><ul class="post-list"><li><span>Jan 5, 2024</span><h3><a href="/a">A</a></h3>'
                    '</li><li><h3><a href="/b">B</a></h3></li></ul>', body_class="")
    with pytest.raises(DumpError, match="no posts found"):
        read_html("home.html", listing)


def test_a_stray_byte_does_not_turn_a_utf8_page_into_cp1252():
    data = _page(_card("Café crème — naïve", "https://u.example/p")).replace(b"Body of", b"Body \x93of")
    [post] = read_html("p.html", data).posts
    assert post.title == "Café crème — naïve"


def test_lazy_images_and_embeds_resolve():
    html = clean_html('<p><img src="https://x.example/lazy-images/images/1x1.trans.gif" '
                      'data-lazy-src="/real.jpg"><iframe src="about:blank" '
                      'data-lazy-src="https://www.youtube.com/embed/abc"></iframe></p>', "https://x.example/")
    assert 'src="https://x.example/real.jpg"' in html and "1x1" not in html
    assert "Embedded content: https://www.youtube.com/embed/abc" in html and "about:blank" not in html


def test_an_excerpt_that_is_only_a_more_link_leaves_an_empty_body():
    card = ('<article class="post hentry"><h2 class="entry-title"><a href="https://e.example/a">Photo post</a></h2>'
            '<div class="entry-summary"><a class="more-link" href="https://e.example/a">Read more</a></div></article>')
    [post] = read_html("p.html", _page(card + _card("Other", "https://e.example/b"))).posts[:1]
    assert post.truncated and "<>" not in clean_html(post.body, None) and "Read more" not in post.body


def test_a_link_marked_as_more_both_cuts_the_post_and_goes_from_its_body():
    """Whatever makes a link a "more" link (here only its class, class="more": its words and
    target say nothing) both marks the post as cut and removes the link: a feed adds its own."""
    card = ('<article class="post hentry"><h2 class="entry-title"><a href="https://e.example/a">Long post</a></h2>'
            '<div class="entry-content"><p>The opening paragraph of a long post.</p>'
            '<p><a class="more" href="https://e.example/a?from=listing">Keep going</a></p></div></article>')
    [post] = read_html("p.html", _page(card + _card("Other", "https://e.example/b"))).posts[:1]
    assert post.truncated
    assert "The opening paragraph" in post.body and "Keep going" not in post.body


def test_a_read_more_link_to_the_post_cuts_it_when_the_title_link_is_relative():
    """The title links "/a", the "Read more" link the whole URL of the same post: the link is
    dropped from the body, so the post must be marked as cut (the feed adds its own link)."""
    card = ('<article class="post hentry"><h2 class="entry-title"><a href="/a">Long post</a></h2>'
            '<div class="entry-content"><p>The opening paragraph of a long post.</p>'
            '<p><a href="https://e.example/a">Read more</a></p></div></article>')
    page = read_html("p.html", _page(card + _card("Other", "https://e.example/b")), "https://e.example/")
    [post] = page.posts[:1]
    assert post.url == "https://e.example/a" and "Read more" not in post.body
    assert post.truncated


def test_hugo_style_dates_are_read():
    from datetime import UTC, datetime

    from feeds.ingest.html.dates import explicit_time

    tz = datetime.now(UTC).astimezone().tzinfo
    assert explicit_time("2024-03-12 00:00:00 +0000 UTC", tz, datetime(2025, 1, 1, tzinfo=UTC), 0) == \
        datetime(2024, 3, 12, tzinfo=UTC)
    assert explicit_time("comment_date", tz, datetime(2025, 1, 1, tzinfo=UTC), 0) is None


def test_characters_xml_forbids_are_stripped_from_every_field():
    """Control characters in a page (as they are, or as numeric references) are removed from
    the title, URL, author, categories and body, so that no feed writer refuses the post."""
    card = ('<article class="post hentry"><h2 class="entry-title"><a href="https://e.example/t\x01wo">Two \x07 bell'
            '</a></h2><time class="published" datetime="2024-03-12T10:00:00+00:00">12 March</time>'
            '<span class="fn">Au\x01thor</span><a rel="tag" href="/t">Ta\x02g</a>'
            '<div class="entry-content"><p>Te\x01xt with a \x00NUL, &#1;&#x8;&#129;&#xFFFE; and \x1bmore.</p></div>'
            '</article>')
    page = read_html("ctrl.html", _page(card + _card("Other", "https://e.example/b")))
    post = page.posts[0]
    assert (post.title, post.url, post.author, post.categories) == \
        ("Two bell", "https://e.example/two", "Author", ("Tag",))
    assert block_texts(post.body_element) == ["Text with a NUL, and more."]
    assert strip_xml_forbidden(post.body) == post.body and "Text with a NUL," in post.body
    assert page.warnings == ("ctrl.html: removed 11 characters that XML forbids",)
    single = read_html("one.html", _page(
        '<script type="application/ld+json">{"@type": "BlogPosting", "headline": "Head\\u0001line", '
        '"author": {"name": "A\\u0002B"}}</script><article><div class="entry-content"><p>Body.</p></div></article>',
        head='<link rel="canonical" href="https://e.example/one">', body_class=""))
    assert (single.posts[0].title, single.posts[0].author) == ("Headline", "AB")
    assert read_html("p.html", _page(_card("Clean", "https://e.example/c"))).warnings == ()


def test_a_title_of_nothing_but_characters_xml_forbids_is_no_title():
    """A headline of control characters alone leaves no title: no post (a feed entry with an
    empty title would stop every pass's publishing); a listing keeps its other posts, and
    a category or an author of them alone is none."""
    with pytest.raises(DumpError, match="no posts found"):
        read_html("ld.html", _page(
            '<script type="application/ld+json">{"@type": "BlogPosting", "headline": "\\u0001\\u0002"}</script>'
            '<h1 class="entry-title">&#1;</h1><article><div class="entry-content"><p>Body.</p></div></article>',
            head='<link rel="canonical" href="https://e.example/one">', body_class=""))
    card = ('<article class="post hentry"><h2 class="entry-title"><a href="https://e.example/x">&#1; &#2;</a></h2>'
            '<div class="entry-content"><p>Text.</p></div></article>')
    other = ('<article class="post hentry"><h2 class="entry-title"><a href="https://e.example/b">Other</a></h2>'
             '<span class="fn">&#1;</span><a rel="tag" href="/t">&#2;</a>'
             '<div class="entry-content"><p>Text.</p></div></article>')
    page = read_html("list.html", _page(card + other + _card("Third", "https://e.example/c")))
    assert [(p.title, p.author, p.categories) for p in page.posts] == [("Other", None, ()), ("Third", None, ())]


@pytest.mark.parametrize("value, why", [
    ("0001-01-01T00:00:00Z", "before 1990-01-01"), ("1989-12-31", "before 1990-01-01"),
    ("9999-12-31T23:59:59Z", "more than a day after the page was saved, or the pass's clock if earlier (2025-03-01T09:00:00+00:00)"),
    ("2025-03-02T10:00:00+00:00", "more than a day after the page was saved, or the pass's clock if earlier (2025-03-01T09:00:00+00:00)"),
    ("2400-01-01", "more than a day after the page was saved, or the pass's clock if earlier (2025-03-01T09:00:00+00:00)")])
def test_an_implausible_date_is_ignored_with_a_warning(value, why):
    """A date before 1990 or more than a day after the page was saved is a mistake or a
    placeholder: it is ignored, as a malformed one is, and the page's next date counts."""
    from datetime import UTC, datetime

    saved = datetime(2025, 3, 1, 9, tzinfo=UTC)
    card = _card("Odd date", "https://e.example/a").replace("2024-03-12T10:00:00+00:00", value)
    page = read_html("odd.html", _page(card + _card("Other", "https://e.example/b")), written=saved)
    assert [p.published for p in page.posts] == [None, "2024-03-12T10:00:00+00:00"]
    assert page.warnings == (f"odd.html: ignored the date {value!r}, {why}; the post is dated otherwise",)
    fallback = card.replace("</time>", '</time><abbr class="published" title="2024-03-13T08:00:00Z">13 March</abbr>')
    assert read_html("odd.html", _page(fallback), written=saved).posts[0].published == "2024-03-13T08:00:00Z"


def test_when_the_page_was_saved_is_not_known_dates_up_to_the_year_9000_are_kept():
    card = _card("Odd date", "https://e.example/a")
    page = read_html("odd.html", _page(card.replace("2024-03-12T10:00:00+00:00", "9000-12-31T23:59:59Z")))
    assert page.posts[0].published == "9000-12-31T23:59:59Z" and page.warnings == ()
    page = read_html("odd.html", _page(card.replace("2024-03-12T10:00:00+00:00", "9999-12-31T23:59:59Z")))
    assert page.posts[0].published is None
    assert page.warnings == ("odd.html: ignored the date '9999-12-31T23:59:59Z', after 9000-12-31; "
                             "the post is dated otherwise",)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be"])
def test_a_page_with_a_utf16_or_utf32_byte_order_mark_is_read(codec):
    """As a text dump is: the byte-order mark says the encoding, whatever the page declares."""
    text = _page(_card("Café crème — naïve", "https://u.example/p") + _card("Zweiter Beitrag", "https://u.example/z")
                 ).decode("utf-8")
    bom = {"utf-16-le": "\ufeff", "utf-16-be": "\ufeff", "utf-32-be": "\ufeff"}.get(codec, "")
    page = read_html("wide.html", (bom + text).encode(codec))
    assert [p.title for p in page.posts] == ["Café crème — naïve", "Zweiter Beitrag"]
    assert block_texts(page.posts[0].body_element) == ["Body of Café crème — naïve."]


def test_a_page_whose_byte_order_mark_lies_is_named():
    with pytest.raises(DumpError, match="starts with a utf-16 byte-order mark but does not decode"):
        read_html("odd.html", "\ufeff<p>x</p>".encode("utf-16-le") + b"\x00\xd8")
