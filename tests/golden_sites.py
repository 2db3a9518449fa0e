"""The golden sites: every file a pass writes, byte for byte, for the bundled seeds (text dumps)
and for a site built from our own HTML cases in tests/html/. The digest's text and HTML parts are
also kept decoded beside its .eml (``*.eml.txt``, ``*.eml.html``), so a change to them reads as a
plain diff.

Refresh the golden trees after a deliberate change, then read the diff before committing:

    python tests/golden_sites.py && git diff --stat tests/golden/

The test (tests/test_golden.py) only compares; nothing in the test run rewrites these files.
"""

from __future__ import annotations

import email
import shutil
import sys
from email import policy
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
GOLDEN = HERE / "golden"
NOW = "2025-03-01T09:00:00+00:00"

#: name -> (the folder its dumps are copied from, the glob of dumps, where the config reads them)
SITES = {
    "seeds": (REPO / "seeds", "*.txt"),
}

DIGEST = '[digest]\nrecipients = ["Reader <reader@example.org>"]\n'


def build(name: str, root: Path) -> Path:
    """Run one pass of the site `name` in the empty folder `root`; returns root/"out"."""
    from conftest import SITE, run_cli

    source, pattern = SITES[name]
    (root / "dumps").mkdir(parents=True)
    for dump in sorted(source.glob(pattern)):
        shutil.copyfile(dump, root / "dumps" / dump.name)
    (root / "feeds.toml").write_text(
        f'{SITE}\n[input]\npaths = ["dumps/{pattern}"]\n{DIGEST}\n[output]\ndir = "out"\n'
        '[state]\npath = "state/feeds.sqlite3"\n', encoding="utf-8")
    run_cli("-c", "feeds.toml", "--now", NOW, cwd=root, check=True)  # relative paths: same bytes anywhere
    return root / "out"


def tree(out: Path) -> dict[str, bytes]:
    """Every file under out/ by its relative path, plus the decoded parts of each .eml."""
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    for rel, data in list(files.items()):
        if rel.endswith(".eml"):
            message = email.message_from_bytes(data, policy=policy.default)
            for subtype in ("plain", "html"):
                part = message.get_body((subtype,))
                assert part is not None, f"{rel} has no text/{subtype} part"
                files[f"{rel}.{'txt' if subtype == 'plain' else 'html'}"] = part.get_content().encode()
    return files


def refresh() -> None:
    import tempfile

    sys.path.insert(0, str(HERE))
    for name in SITES:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = tree(build(name, Path(tmp)))
        target = GOLDEN / name
        shutil.rmtree(target, ignore_errors=True)
        for rel, data in fresh.items():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            (target / rel).write_bytes(data)
        print(f"{target.relative_to(REPO)}: {len(fresh)} files")


if __name__ == "__main__":
    refresh()
