"""Golden files: the seeds' atom.xml, rss.xml, feed.json, a digest's web page and one post page,
byte for byte.

Refresh them after a deliberate change with:

    FEEDS_UPDATE_GOLDEN=1 pytest tests/test_golden.py

and read the diff (`git diff tests/golden/`) before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import NOW, run_cli

GOLDEN = Path(__file__).parent / "golden"
FILES = ["atom.xml", "rss.xml", "feed.json", "digests/2025-W08.html",
         "posts/panama-trumps-testing-ground-for-his-new-monroe-doctrine.html"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from conftest import SEEDS, write_config
    root = tmp_path_factory.mktemp("golden")
    (root / "seeds").mkdir()
    for s in SEEDS:
        (root / "seeds" / s.name).write_bytes(s.read_bytes())
    cfg = write_config(root, ["seeds/*.txt"])  # relative: the same paths wherever the test runs
    run_cli("-c", str(cfg), "--now", NOW, cwd=root, check=True)
    return root / "out"


@pytest.mark.parametrize("name", FILES)
def test_matches_golden(built, name):
    fresh = (built / name).read_bytes()
    golden = GOLDEN / Path(name).name
    if os.environ.get("FEEDS_UPDATE_GOLDEN"):
        golden.write_bytes(fresh)
    assert golden.exists(), f"no golden file {golden}: run FEEDS_UPDATE_GOLDEN=1 pytest {__file__}"
    assert fresh.decode() == golden.read_bytes().decode(), f"{name} differs from {golden}"
