"""The text reader on listing pages laid out in cards (feeds.ingest.cards, feeds.ingest.lines):
what its metadata lines give a post, the marker phrases and their configuration. The
segmentation cases themselves are files in tests/dumps/."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from feeds import config
from feeds.ingest import text
from feeds.ingest.budget import Deadline
from feeds.ingest.lines import Markers, author_of, categories_of, dated_item_title, meta_kind
from feeds.ingest.reader import Settings, Source

DUMPS = Path(__file__).parent / "dumps"


def _read(path: Path, latest: datetime, tz: str = "Europe/Berlin", marker: str = "Continue reading"):
    settings = Settings("", "en", marker, (), None, ZoneInfo(tz), tuple(config.Config().input.markers))
    return text.read(Source(str(path), path.read_bytes(), latest, Deadline(str(path), 30.0), 1000), settings)


def test_a_date_line_under_a_title_dates_its_post_at_noon_keeping_the_page_order():
    found = _read(DUMPS / "byline-under-title.txt", datetime(2024, 6, 1, tzinfo=UTC))
    got = [(p.published.isoformat(), p.author) for p in found.posts if p.published]
    assert got == [("2024-03-12T12:00:00+01:00", "Jane Ortiz"), ("2024-03-05T11:59:00+01:00", "Tomas Lind"),
                   ("2024-02-27T11:58:00+01:00", "Jane Ortiz")]


def test_a_post_is_never_dated_after_its_dump_was_written():
    written = datetime(2024, 3, 12, 9, 0, tzinfo=UTC)
    found = _read(DUMPS / "byline-under-title.txt", written)
    assert found.posts[0].published == written


def test_tags_lines_give_categories_and_not_text():
    found = _read(DUMPS / "short-titles-trailing-meta.txt", datetime(2024, 6, 1, tzinfo=UTC))
    tea = found.posts[0]
    assert tea.categories == ("tea", "shops")
    assert not any("Tags" in b.text or "Posted on" in b.text for p in found.posts for b in p.body)


@pytest.mark.parametrize("line, kind", [
    ("By Graham Cluley", "byline"), ("Posted by Miguel Guevara, Product Manager", "byline"),
    ("Submitted by administrator on Tue, 2017-09-05 09:03", "byline"), ("von Petra Lang", "byline"),
    ("August 21, 2019", "date"), ("2020-12-14", "date"), ("6. August 2017", "date"), ("heute, 18:00 Uhr", "date"),
    ("Posted on September 3, 2019 at 6:09 AM • 3 Comments", "byline"), ("12 Kommentare", "count"),
    ("3 minute read", "reading"), ("Tags: squid", "tags"), ("Labels: AMP , FCP", "tags"),
    ("Share on Twitter Share on Facebook", "share"), ("© ENERTRAG Betrieb GmbH / Fotograf: J. Roppel", "credit"),
    ("By the end of the year the council had spent its whole budget on the bridge.", None),
    ("The library reopened on February 8, 2025 after two years of work.", None),
    ("Programming Sucks", None),
])
def test_metadata_lines(line, kind):
    assert meta_kind(line) == kind


def test_authors_and_categories_from_metadata_lines():
    assert author_of("Submitted by administrator on Tue, 2017-09-05 09:03") == "administrator"
    assert author_of("[photo.png] Posted by Miguel Guevara, Product Manager") == "Miguel Guevara"
    assert author_of("Posted on September 3, 2019 at 6:09 AM") is None
    assert categories_of("Labels: AMP , FCP , speed") == ("AMP", "FCP", "speed")


@pytest.mark.parametrize(("line", "kind", "author", "categories"), [
    # WordPress: a date with the author after it, and a category line with no colon
    ("Posted on October 28, 2023 by Ruth", "byline", "Ruth", ()),
    ("Posted in Vegetables, Fruit | Leave a comment", "tags", None, ("Vegetables", "Fruit")),
    ("Leave a comment", "count", None, ()),
    # Blogger's footer: a byline that ends with its comment count and a colon
    ("Posted by Tom Weller at 4:12 PM No comments:", "byline", "Tom Weller", ()),
    ("By the end of the day we had this list:", None, None, ()),
    # Ghost, Medium, Substack: pieces joined by separators, a name among them
    ("Mara Lind · Apr 4, 2024 · 6 min read", "byline", "Mara Lind", ()),
    ("Mar 3, 2024 • Jane Doe", "byline", "Jane Doe", ()),
    ("Apr 4, 2024 · 6 min read", "reading", None, ()),
    ("Home · Archive · About", None, None, ()),
    # German tags with a word the old list of tag words lacked; a Russian date
    ("Themen: Verkehr, Kreistag", "tags", None, ("Verkehr", "Kreistag")),
    ("12 марта 2024", "date", None, ()),
    # a day and month alone (Medium), not inside a title
    ("Mar 3", "date", None, ()),
    ("Notes from the Mar 3 meeting", None, None, ()),
])
def test_metadata_of_other_engines_and_languages(line, kind, author, categories):
    kind_got = meta_kind(line)  # (names and tags are read from metadata lines only)
    assert (kind_got, kind_got and author_of(line), kind_got and categories_of(line)) == \
        (kind, kind and author, kind and categories)


def test_marker_phrases_at_the_start_of_a_line_or_ending_a_paragraph():
    markers = Markers(("Read →", *config.Config().input.markers))
    assert markers.line_title("Read →") == ""
    assert markers.line_title("Read more about The Faces of Open Source") == "about The Faces of Open Source"
    assert markers.line_title("Weiterlesen") == "" and markers.line_title("Lire la suite →") == ""
    assert markers.line_title("[…]") == "" and markers.line_title("Reading the news") is None
    assert markers.ends_paragraph("The society has bought sixty water butts for the plots. … Read more →")
    assert markers.ends_paragraph("Die PNE AG hat die im Jahr 2017 begonnene Transformation … Leggi tutto")
    assert not markers.ends_paragraph("Read more")  # a marker line, not a paragraph
    assert not markers.ends_paragraph("The first swifts screamed over the church tower on Sunday […]")


def test_the_markers_key_is_a_list_beside_the_single_marker(tmp_path):
    (tmp_path / "feeds.toml").write_text('[input]\nmarker = "weiter..."\nmarkers = ["Mehr lesen"]\n',
                                         encoding="utf-8")
    cfg = config.load(tmp_path / "feeds.toml")
    assert cfg.input.marker == "weiter..." and cfg.input.markers == ("Mehr lesen",)
    assert Settings.of(cfg).markers == ("Mehr lesen",) and Settings.of(cfg).marker == "weiter..."
    assert "Weiterlesen" in config.Config().input.markers and "Read more" in config.Config().input.markers


def test_a_list_item_that_starts_with_its_date_gives_its_title():
    assert dated_item_title("Mar 2, 2024 Sorting strings in Go") == "Sorting strings in Go"
    assert dated_item_title("2024-03-02 — Why tests?") == "Why tests?"
    assert dated_item_title("May 2, 2023 by Ana Ruiz") is None  # a byline
    assert dated_item_title("May 2, 2023 We met at the station.") is None  # a sentence
    assert dated_item_title("May 2, 2023 · 4 min read") is None  # metadata
    assert dated_item_title("Sorting strings in Go") is None


@pytest.mark.parametrize("line", ["Mara·Lind", "2020–2024 report", "x|y|z", "Posted·by·X"])
def test_a_separator_sign_with_no_space_around_it_is_not_a_joined_metadata_line(line):
    """(It was split into one part, itself, and asked about again: a RecursionError the fuzz
    test found.)"""
    assert meta_kind(line) in (None, "date", "byline")
