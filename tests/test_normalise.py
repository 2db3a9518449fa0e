from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from feeds.models import Block
from feeds.normalise import (
    WINDOWS_RESERVED,
    blocks_from_text,
    body_html,
    body_text,
    identity,
    slugify,
    summarise,
    unique_slug,
)


def test_identity_folds_quotes_space_case_and_compatibility_forms():
    assert identity("Trump’s  war\u00a0on  CHINA") == identity("trump's war on china")
    assert identity("“Quoted” ﬁnal") == identity('"quoted" final')


@given(st.text())
def test_identity_is_idempotent(title):
    assert identity(identity(title)) == identity(title)


@given(st.text(min_size=1))
def test_slug_is_ascii_and_url_safe(title):
    slug = slugify(title)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug)
    assert slug not in WINDOWS_RESERVED
    assert len(slug) <= 80 or slug.startswith("post-")


def test_slug_examples_and_uniqueness():
    assert slugify("Remembering Cha Cha Jiménez") == "remembering-cha-cha-jimenez"
    assert slugify("Trump’s war on China") == "trumps-war-on-china"
    assert unique_slug("a-title", {"a-title", "a-title-2"}) == "a-title-3"
    assert slugify("中国").startswith("post-")


def test_body_html_escapes_once_and_lists_bullets():
    html = body_html([Block(1, "A & B <i>not markup</i> [1]"), Block(2, "one", "bullet"), Block(3, "two", "bullet"),
                      Block(4, "after")])
    assert html == ("<p>A &amp; B &lt;i&gt;not markup&lt;/i&gt; [1]</p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
                    "<p>after</p>")


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_summary_cut_at_a_word_boundary(paragraphs):
    s = summarise(paragraphs, 300)
    flat = " ".join(" ".join(p.split()) for p in paragraphs)
    assert len(s) <= 301
    if len(flat) <= 300:
        assert s == flat
    else:
        assert s.endswith("…")
        kept = s[:-1]
        assert flat.startswith(kept)
        rest = flat[len(kept):]
        # cut at a word boundary (trailing punctuation trimmed), unless no space came early enough
        assert rest[:1] in (" ", ",", ";", ":", "-", "–", "—") or " " not in flat[150:301]


def test_summary_example():
    text = "word " * 100
    s = summarise([text], 50)
    assert s == ("word " * 10).strip() + "…"


@given(st.lists(st.tuples(st.text(st.characters(blacklist_characters="\n\r"), min_size=1).map(str.strip).filter(bool),
                          st.sampled_from(["para", "bullet"])), max_size=8))
def test_text_gives_back_its_blocks(parts):
    blocks = [Block(0, t, k) for t, k in parts if not (k == "para" and t.startswith("•"))]
    assert [(b.text, b.kind) for b in blocks_from_text(body_text(blocks))] == [(b.text, b.kind) for b in blocks]
