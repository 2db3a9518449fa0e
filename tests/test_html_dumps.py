"""Saved HTML pages (tests/html/*.html) against what a correct reader extracts (NAME.expected.json
beside each). Seven are real pages from public test corpora (see tests/html/README.md); three
are written here in the markup of other engines' stock themes (a WordPress block theme, Ghost's
Casper, Jekyll's minima) so the reader is held to conventions, not to those seven sites."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feeds.dumps.html import block_texts, read_html

CASES = sorted((Path(__file__).parent / "html").glob("*.html"))


@pytest.mark.parametrize("page", CASES, ids=[c.stem for c in CASES])
def test_page_gives_exactly_the_expected_posts(page: Path) -> None:
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


def test_cases_are_there() -> None:
    assert len(CASES) == 10
