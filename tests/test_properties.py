"""Round trips and invariants, with hypothesis. The costlier ones draw fewer examples in the default
local run than in CI (FEEDS_TESTS=full): conftest.examples()."""

from __future__ import annotations

import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import feedparser
from conftest import examples, shown
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from feeds import config
from feeds.ingest.text import strip_xml_forbidden
from feeds.models import Entry
from feeds.pipeline import run_once
from feeds.publish.render import Publisher
from feeds.store import Store

CFG = config.parse({"site": {"title": "T", "url": "https://example.org/", "timezone": "UTC"}})
WHEN = datetime(2025, 2, 3, 12, tzinfo=UTC)

titles = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1).map(
    lambda t: " ".join(strip_xml_forbidden(t).split())).filter(bool)


def entry(title: str) -> Entry:
    return Entry(key=title.casefold(), id="tag:example.org,2025-02-03:x", slug="x", title=title,
                 source_html=None, summary=title, text="body", truncated=False, published=WHEN,
                 updated=WHEN, date_source="inferred", first_seen=WHEN, source="d:1")


def mojibake_shaped(text: str) -> bool:
    """Text that feedparser deliberately "repairs": all Latin-1 and valid UTF-8 once encoded
    as Latin-1 ('Â¡' → '¡'; feedparser/mixin.py, "address common error …"). The XML we write
    holds the text exactly; only that reader heuristic changes it."""
    try:
        return text.encode("iso-8859-1").decode("utf-8") != text
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False


@settings(max_examples=examples(full=300, quick=100), deadline=None)
@given(titles)
@example("</b> &amp; <video> &copy")  # what a reader takes for markup in an RSS title
@example("Tom & Jerry: a < b")
@example("a.html")  # (bs4 warned that it looks like a file name; warnings are errors here)
def test_any_title_survives_atom_and_rss(title):
    assume(not mojibake_shaped(title))
    pub = Publisher(CFG)
    for kind in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse(pub.feed([(entry(title), None)], kind))
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        assert shown(parsed.entries[0].title_detail) == title, kind
        assert shown(parsed.entries[0].summary_detail) == title, kind


WORDS = ("harbour", "council", "library", "orchard", "bridge", "market", "museum", "rail", "river", "school",
         "Jiménez", "café", "naïve", "Zürich", "weekly", "report", "meeting", "workers", "growers", "readers")
paragraph = st.lists(st.sampled_from(WORDS), min_size=8, max_size=30).map(lambda w: " ".join(w).capitalize() + ".")
heading = st.lists(st.sampled_from(WORDS), min_size=4, max_size=9).map(lambda w: " ".join(w).capitalize())


@settings(max_examples=examples(full=25, quick=10), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(heading, st.lists(paragraph, min_size=1, max_size=3), st.booleans()),
                min_size=1, max_size=6, unique_by=lambda p: p[0].casefold()))
def test_ingesting_twice_changes_nothing(posts):
    lines = []
    for title, paras, cut in posts:
        lines += [title, "", *sum(([p, ""] for p in paras), [])]
        if cut:
            lines += [f"Continue reading {title}", ""]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "d").mkdir()
        (root / "d" / "page.txt").write_text("\n".join(lines), encoding="utf-8")
        cfg = config.parse({"site": {"title": "T", "timezone": "UTC"}, "input": {"paths": [str(root / "d" / "*.txt")]},
                            "output": {"dir": str(root / "out")}, "state": {"path": str(root / "s" / "db.sqlite3")}})
        with Store(cfg.state.path) as store:
            run_once(cfg, store, WHEN)
            dump1 = _dump(store.db)
            (root / "d" / "page.txt").touch()
            (root / "d" / "copy.txt").write_text("\n".join(lines), encoding="utf-8")
            report = run_once(cfg, store, WHEN)
            assert report.new == 0 and report.updated == 0
            assert _dump(store.db, skip=("dumps", "sightings")) == _dump_without(dump1, ("dumps", "sightings"))


def _dump(db: sqlite3.Connection, skip: tuple[str, ...] = ()) -> list[tuple[str, list]]:
    """Every table's rows, but the record of the last pass (its summary says what that pass did)."""
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    return [(t, sorted(r for r in map(tuple, db.execute(f"SELECT * FROM {t}")) if t != "meta" or r[0] != "last_pass"))
            for t in tables if t not in skip]


def _dump_without(d: list[tuple[str, list]], skip: tuple[str, ...]) -> list[tuple[str, list]]:
    return [(t, rows) for t, rows in d if t not in skip]


@settings(max_examples=examples(full=500, quick=200), deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",))) | st.text(alphabet="aéB ’“ß_1-\u00a0İﬁ²\u2028x."))
def test_fast_word_counts_are_the_regular_expressions(text):
    """segment.word_counts() splits words by other means than WORD, for speed: the words and
    their counts must be the same (it also counts shorter tokens, which are never weighed)."""
    from collections import Counter

    from feeds.ingest.segment import WORD, word_counts

    got = {w: n for w, n in word_counts(text).items() if len(w) >= 3}
    assert got == Counter(WORD.findall(text.casefold()))


_FORBIDDEN_SAMPLES = "\x00\x01\x08\x0b\x0c\x0e\x1f\x7f\x80\x85\x9f\ufffe\uffff"
_NEAR_MISSES = "\t\n\r \xa0\xa1\xbf\ue000\uf000\ufffd\U00010000"


def _each_in_text(test):
    for c in _FORBIDDEN_SAMPLES + _NEAR_MISSES:
        test = example(f"text {c} text")(test)
    return test


@given(st.text(st.one_of(st.characters(blacklist_categories=("Cs",)),
                         st.sampled_from(_FORBIDDEN_SAMPLES + _NEAR_MISSES))))
@_each_in_text
def test_a_utf8_dump_loses_exactly_the_characters_xml_forbids(text):
    # decode() skips the regular expression when byte searches find nothing it could match.
    from feeds.errors import DumpError
    from feeds.ingest.text import decode

    try:
        got, warnings = decode(text.encode("utf-8"), "d.txt")
    except DumpError:  # empty, or so many controls that it looks binary: not read at all
        assume(False)
    expected = strip_xml_forbidden(text)
    assert got == expected.removeprefix("\ufeff")
    assert any("XML forbids" in w for w in warnings) == (expected != text)


@given(st.text(st.sampled_from('.,;:…"”’»)]ab ?!'), max_size=12))  # (a line holds no line break)
def test_a_line_ends_like_a_sentence_as_the_pattern_says(text):
    # heading_like() tests the end of a line without a regular expression searched from each place.
    import re

    from feeds.ingest.segment import ends_sentence

    assert ends_sentence(text) == bool(re.search(r"[.,;:…][\"”’»)\]]*$", text))


@given(st.text(st.one_of(st.characters(blacklist_categories=("Cs",)),
                         st.sampled_from(" \u00a0\u202f\u2009\u3000\t\u2028•-*ab"))))
@example("x\u202fy z")  # a narrow no-break space, as French puts before a colon
def test_a_lines_matching_key_is_match_key(text):
    """parse_blocks() skips match_key() for lines with no space to fold, for speed: the keys
    must be what match_key() gives, or a title and its marker line would not match."""
    from feeds.ingest.text import parse_blocks
    from feeds.models import match_key

    for block in parse_blocks(text):
        assert block.key == match_key(block.text), block
