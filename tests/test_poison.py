"""Issue 14, the reading side: no poison pill. One bad input (a malformed attribute, a page
nested too deep, a bug the reader trips on) never stops the site: it is mended or left out,
named, and the pass goes on with the other dumps."""

from __future__ import annotations

import html

import feedparser
import pytest
from conftest import NOW, run_cli, write_config
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.clean import clean_html


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
