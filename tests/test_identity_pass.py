"""Identity through whole passes, on our own cases in tests/identity/: a post read first from a
text dump and then from its own page (with its URL) is one entry; a post retitled under its URL
is the same entry, retitled."""

from __future__ import annotations

import json
import shutil

import feedparser
from conftest import REPO, run_cli

CASES = REPO / "tests" / "identity"


def _site(root, *names):
    """A site whose dumps/ holds these cases (paths naming only what is there: a glob that
    matches nothing makes a pass exit 1)."""
    (root / "dumps").mkdir()
    for name in names:
        shutil.copyfile(CASES / name, root / "dumps" / name)
    (root / "feeds.toml").write_text(
        '[site]\ntitle = "A small blog of our own"\nurl = "https://blog.example.net/"\n'
        '[input]\npaths = ["dumps/*"]\n[output]\ndir = "out"\n'
        '[state]\npath = "state/feeds.sqlite3"\n', encoding="utf-8")
    return root


def _entries(root):
    proc = run_cli("-c", "feeds.toml", "entries", "list", "--json", cwd=root, check=True)
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_a_post_first_seen_in_a_text_dump_then_on_its_page_is_one_entry(tmp_path):
    root = _site(tmp_path, "notes.txt")
    run_cli("-c", "feeds.toml", "--now", "2024-05-13T09:00:00+00:00", cwd=root, check=True)
    [before] = [e for e in _entries(root) if e["title"] == "The bridge reopens on Monday"]
    assert before["url"] is None and before["truncated"]
    shutil.copyfile(CASES / "bridge-post.html", root / "dumps" / "bridge-post.html")
    run_cli("-c", "feeds.toml", "--now", "2024-05-14T09:00:00+00:00", cwd=root, check=True)
    [after] = [e for e in _entries(root) if e["title"] == "The bridge reopens on Monday"]
    assert (after["id"], after["slug"]) == (before["id"], before["slug"])
    assert after["url"] == "https://blog.example.net/2024/05/the-bridge-reopens/" and not after["truncated"]
    assert after["published"].startswith("2024-05-11") and after["date_source"] == "explicit"


def test_a_post_retitled_under_its_url_is_the_same_entry_retitled(tmp_path):
    root = _site(tmp_path, "weekly-links.html")
    run_cli("-c", "feeds.toml", "--now", "2024-05-13T09:00:00+00:00", cwd=root, check=True)
    [before] = [e for e in _entries(root) if e["title"] == "Garden notes"]
    page = root / "dumps" / "weekly-links.html"
    page.write_text(page.read_text(encoding="utf-8").replace(">Garden notes<", ">Garden notes: a late spring<"),
                    encoding="utf-8")
    run_cli("-c", "feeds.toml", "--now", "2024-05-14T09:00:00+00:00", cwd=root, check=True)
    entries = _entries(root)
    assert len(entries) == 4 and not [e for e in entries if e["title"] == "Garden notes"]
    [after] = [e for e in entries if e["url"] == before["url"]]
    assert after["title"] == "Garden notes: a late spring"
    assert (after["id"], after["slug"], after["published"]) == (before["id"], before["slug"], before["published"])
    assert after["updated"] > before["updated"]
    atom = feedparser.parse((root / "out" / "atom.xml").read_bytes())
    assert [e.title for e in atom.entries if e.id == before["id"]] == ["Garden notes: a late spring"]
