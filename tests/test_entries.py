"""`feeds entries list|remove [--undo]` through the real command line, over a site built from our
own cases in tests/identity/: a listing with three posts titled "Weekly links" (three URLs) and a
text dump."""

from __future__ import annotations

import json

import feedparser
from conftest import run_cli
from test_identity_pass import _site as site_of_cases

FIRST, SECOND, THIRD = "2024-05-13T09:00:00+00:00", "2024-05-14T09:00:00+00:00", "2024-05-15T09:00:00+00:00"


def _site(root):
    return site_of_cases(root, "notes.txt", "weekly-links.html")


def _cli(root, *args, now=FIRST):
    return run_cli("-c", "feeds.toml", "--now", now, *args, cwd=root)


def _listed(root):
    proc = _cli(root, "entries", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def _atom_ids(root):
    return {e.id for e in feedparser.parse((root / "out" / "atom.xml").read_bytes()).entries}


def test_three_posts_with_one_title_and_different_urls_stay_three_through_a_pass(tmp_path):
    root = _site(tmp_path)
    assert _cli(root).returncode == 0
    weekly = [e for e in _listed(root) if e["title"] == "Weekly links"]
    assert sorted(e["slug"] for e in weekly) == ["weekly-links", "weekly-links-2", "weekly-links-3"]
    assert sorted(e["url"] for e in weekly) == [
        "https://blog.example.net/2024/04/weekly-links/#more", "https://blog.example.net/2024/05/weekly-links-2/",
        "https://blog.example.net/2024/05/weekly-links-3/?utm_source=rss&utm_medium=feed"]
    assert [e["published"][:10] for e in weekly] == ["2024-05-10", "2024-05-03", "2024-04-26"], "each its own date"
    assert len({e["id"] for e in weekly}) == 3 and all(e["removed"] is None for e in weekly)


def test_entries_list_shows_every_entry_newest_first(tmp_path):
    root = _site(tmp_path)
    assert _cli(root).returncode == 0
    proc = _cli(root, "entries", "list")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 6 and "6 entries" in proc.stderr
    assert lines[0].startswith("2024-05-13  ") or lines[0].startswith("2024-05-10  ")
    assert any(line.startswith("2024-05-10  weekly-links  Weekly links  <https://blog.example.net/2024/05/")
               for line in lines)


def test_entries_list_without_a_state_says_so_and_makes_none(tmp_path):
    root = _site(tmp_path)
    proc = _cli(root, "entries", "list")
    assert proc.returncode == 0 and proc.stdout == "" and "no state" in proc.stderr
    assert not (root / "state").exists()


def test_remove_takes_an_entry_out_and_keeps_it_out_until_undone(tmp_path):
    root = _site(tmp_path)
    assert _cli(root).returncode == 0
    [gone] = [e for e in _listed(root) if e["slug"] == "weekly-links-2"]
    page = root / "out" / "posts" / "weekly-links-2.html"
    assert page.is_file() and gone["id"] in _atom_ids(root)

    proc = _cli(root, "entries", "remove", "weekly-links-2", now=SECOND)
    assert proc.returncode == 0 and "removed weekly-links-2" in proc.stdout, proc.stderr
    [listed] = [e for e in _listed(root) if e["slug"] == "weekly-links-2"]
    assert listed["removed"].startswith("2024-05-14")
    assert _cli(root, now=SECOND).returncode == 0
    assert not page.exists(), "its page goes with the next pass"
    assert gone["id"] not in _atom_ids(root) and "weekly-links-2" not in (root / "out" / "index.html").read_text()

    # An old dump read again (its bytes changed) does not bring it back; the others stay.
    html = root / "dumps" / "weekly-links.html"
    html.write_text(html.read_text(encoding="utf-8") + "<!-- saved again -->\n", encoding="utf-8")
    assert _cli(root, now=SECOND).returncode == 0
    assert not page.exists() and gone["id"] not in _atom_ids(root)
    assert len([e for e in _listed(root) if e["title"] == "Weekly links" and not e["removed"]]) == 2

    proc = _cli(root, "entries", "remove", "--undo", gone["id"], now=THIRD)  # by its id this time
    assert proc.returncode == 0 and "is back" in proc.stdout, proc.stderr
    assert _cli(root, now=THIRD).returncode == 0
    assert page.is_file() and gone["id"] in _atom_ids(root), "back with its id and page"
    [back] = [e for e in _listed(root) if e["slug"] == "weekly-links-2"]
    assert back == {**gone, "removed": None}


def test_remove_names_what_it_cannot_find_and_says_when_there_is_nothing_to_do(tmp_path):
    root = _site(tmp_path)
    assert _cli(root).returncode == 0
    proc = _cli(root, "entries", "remove", "no-such-post")
    assert proc.returncode == 2 and "no-such-post" in proc.stderr and "entries list" in proc.stderr
    proc = _cli(root, "entries", "remove", "--undo", "garden-notes")
    assert proc.returncode == 0 and "not removed" in proc.stdout
    assert len(_listed(root)) == 6


def test_entries_commands_have_help():
    for args in (("entries", "--help"), ("entries", "list", "--help"), ("entries", "remove", "--help")):
        proc = run_cli(*args)
        assert proc.returncode == 0 and "usage:" in proc.stdout
