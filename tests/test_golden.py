"""Golden sites: every file a pass writes (feeds, pages, archive, digest pages, the digest's .eml
and its decoded text and HTML parts), byte for byte, for the seeds and for our own HTML cases.

After a deliberate change, refresh them with `python tests/golden_sites.py` and read
`git diff tests/golden/` before committing. This test never rewrites them.
"""

from __future__ import annotations

import pytest
from golden_sites import GOLDEN, SITES, build, tree


@pytest.fixture(scope="module", params=sorted(SITES))
def site(request, tmp_path_factory):
    name = request.param
    return name, tree(build(name, tmp_path_factory.mktemp(name)))


def test_the_same_files_are_written(site):
    name, fresh = site
    kept = {p.relative_to(GOLDEN / name).as_posix() for p in (GOLDEN / name).rglob("*") if p.is_file()}
    assert kept, f"no golden tree {GOLDEN / name}: run python tests/golden_sites.py"
    assert sorted(fresh) == sorted(kept)


def test_every_file_matches_its_golden_byte_for_byte(site):
    name, fresh = site
    differ = [rel for rel, data in fresh.items()
              if not (GOLDEN / name / rel).is_file() or (GOLDEN / name / rel).read_bytes() != data]
    assert not differ, f"{len(differ)} file(s) differ from tests/golden/{name}/: {differ[:10]}"


def test_the_golden_trees_hold_every_kind_of_output():
    """What the goldens must pin (issue 15): feeds, pages, archive and the digest as mailed."""
    seeds = {p.relative_to(GOLDEN / "seeds").as_posix() for p in (GOLDEN / "seeds").rglob("*")}
    for must in ("atom.xml", "rss.xml", "feed.json", "index.html", "digests/index.html", "digests/atom.xml",
                 "digests/2025-W08.html", "outbox/2025-W08/reader@example.org.eml",
                 "outbox/2025-W08/reader@example.org.eml.txt", "outbox/2025-W08/reader@example.org.eml.html"):
        assert must in seeds, must
    assert any(p.startswith("posts/") for p in seeds) and any(p.startswith("archive/") for p in seeds)
