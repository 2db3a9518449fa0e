"""One dump per case in tests/dumps/, its expected result in NAME.expected.json beside it.

A regression test is one new pair of files. Expected keys:
  posts: [{title, start_line, end_line, truncated}]  — exactly the posts found, in page order
  error: text the DumpError must contain (the dump is skipped)
  warnings: texts that must appear among the reader's warnings
  chrome_lines: line numbers left out as site chrome
  marker: the configured marker phrase (default "Continue reading")
  markers: the configured list of marker phrases (default: input.markers' default)
  a post may also name its author, categories and date (YYYY-MM-DD), when the dump's metadata lines say them
  known_limit: why the reader does not get this case right yet (the test is a strict xfail)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds import config
from feeds.errors import DumpError
from feeds.ingest import read_dump
from feeds.ingest.segment import segment
from feeds.ingest.text import read_text

CASES = sorted(p for p in (Path(__file__).parent / "dumps").iterdir() if not p.name.endswith(".expected.json"))


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_dump_case(path: Path, request: pytest.FixtureRequest) -> None:
    expected = json.loads(path.with_name(path.stem + ".expected.json").read_text(encoding="utf-8"))
    if "known_limit" in expected:
        request.applymarker(pytest.mark.xfail(reason=expected["known_limit"], strict=True))
    if "error" in expected:
        with pytest.raises(DumpError) as err:  # the pass's own reading, through to finding posts
            read_dump(str(path), path.read_bytes(), datetime.now(UTC), config.Config(),
                       datetime.now(UTC))
        assert expected["error"] in str(err.value)
        assert str(path) in str(err.value), "the message names the file"
        return
    dump = read_text(path)
    for w in expected.get("warnings", []):
        assert any(w in got for got in dump.warnings), (w, dump.warnings)
    if "warnings" not in expected:
        assert dump.warnings == ()
    seg = segment(str(path), dump.blocks, expected.get("marker", "Continue reading"),
                  markers=expected.get("markers", config.Config().input.markers))
    dates = seg.dates or (None,) * len(seg.posts)
    got = [{"title": p.title, "start_line": p.start_line, "end_line": p.end_line, "truncated": p.truncated,
            **({"author": p.author} if "author" in want else {}),
            **({"categories": list(p.categories)} if "categories" in want else {}),
            **({"date": day and day.isoformat()} if "date" in want else {})}
           for p, day, want in zip(seg.posts, dates, expected["posts"] + [{}] * len(seg.posts), strict=False)]
    assert got == expected["posts"]
    assert [p.position for p in seg.posts] == list(range(len(seg.posts)))
    if "chrome_lines" in expected:
        assert [b.line for b in seg.chrome] == expected["chrome_lines"]
    for p in seg.posts:
        for b in p.body:
            assert "\x0b" not in b.text and "\ufffe" not in b.text and "\x01" not in b.text
