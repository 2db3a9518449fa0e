"""The fields of HTML posts from the best source a page has (tests/html_fields/: one small
invented page per rule, with NAME.expected.json beside it, in the format of tests/html/).

Each page pins one convention of the web that the reader follows for a post's fields:
structured data before markup (a date only in JSON-LD, in a CDATA-wrapped @graph; a
published time over a "Last updated" one), a kicker and a badge inside a heading that are
not title, bylines written as text ("By X -", "Posted by X on …", "von X"), tags as plain
links in an <aside> of the post and topic labels printed on a card, an excerpt cut with
"…", titles-only cards, and a post's page with no canonical URL titled by its <title>.
They live in a folder of their own, so that the golden site built from tests/html/*.html
does not grow with them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import SHARED_HTML
from test_html_dumps import _gives_exactly_the_expected_posts

FIELDS = Path(__file__).parent / "html_fields"
CASES = sorted(FIELDS.glob("*.html"))


@pytest.mark.parametrize("page", CASES, ids=[c.stem for c in CASES])
def test_page_gives_exactly_the_expected_fields(page: Path) -> None:
    _gives_exactly_the_expected_posts(page)


def test_every_case_has_its_expected_file() -> None:
    assert CASES, f"no cases in {FIELDS}"
    assert {p.name.removesuffix(".html") for p in CASES} == \
        {p.name.removesuffix(".expected.json") for p in FIELDS.glob("*.expected.json")}


def test_no_case_is_a_copy_of_a_third_party_page() -> None:
    if not SHARED_HTML.is_dir():
        pytest.skip(f"no folder {SHARED_HTML}")
    theirs = {hashlib.sha256(p.read_bytes()).hexdigest() for p in SHARED_HTML.parent.rglob("*") if p.is_file()}
    assert [p.name for p in sorted(FIELDS.iterdir()) if hashlib.sha256(p.read_bytes()).hexdigest() in theirs] == []
