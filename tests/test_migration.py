"""A store made by the feeds before identity by URL, title and opening (schema version 5) is
migrated on open without losing an entry or changing what was published: every key, id, slug,
date and text stays, and so does its rowid (the digest counts entries by it).

The fixture, tests/identity/store-v5.sql, is the SQL dump of a store that feeds at main 4c7d6f6
made from notes.txt and weekly-links.html beside it, in a folder holding them as dumps/ and the
config written by `_site` below: `python -m feeds --now 2024-05-13T09:00:00+00:00`. That feeds
kept the listing's three posts titled "Weekly links" as one entry (the one it stored last)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import feedparser
from conftest import REPO, run_cli

from feeds.store import SCHEMA_VERSION, Store

CASES = REPO / "tests" / "identity"
OLD_COLUMNS = ("key", "id", "slug", "title", "source_html", "summary", "text", "truncated", "published", "updated",
               "date_source", "first_seen", "url", "source", "month", "author", "categories")
CONFIG = """\
[site]
title = "A small blog of our own"
url = "https://blog.example.net/"
base_url = "https://feeds.example.net/"
[input]
paths = ["dumps/*.txt", "dumps/*.html"]
[digest]
recipients = ["Reader <reader@example.org>"]
[output]
dir = "out"
[state]
path = "state/feeds.sqlite3"
"""


def _site(root: Path) -> Path:
    """The folder the fixture's store was made in, with that store as version 5 left it."""
    (root / "dumps").mkdir(parents=True)
    for name in ("notes.txt", "weekly-links.html"):
        shutil.copyfile(CASES / name, root / "dumps" / name)
    (root / "feeds.toml").write_text(CONFIG, encoding="utf-8")
    (root / "state").mkdir()
    db = sqlite3.connect(root / "state" / "feeds.sqlite3")
    db.executescript((CASES / "store-v5.sql").read_text(encoding="utf-8"))
    db.execute("PRAGMA user_version = 5")
    db.close()
    return root / "state" / "feeds.sqlite3"


def _rows(path: Path) -> dict[str, tuple]:
    db = sqlite3.connect(path)
    try:
        return {r[1]: r for r in db.execute(f"SELECT rowid, {', '.join(OLD_COLUMNS)} FROM entries")}
    finally:
        db.close()


def test_the_migration_keeps_every_entry_id_slug_and_rowid(tmp_path):
    path = _site(tmp_path)
    before = _rows(path)
    assert len(before) == 4 and "weekly links" in before
    with Store(path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        identities = {r[0]: tuple(r[1:]) for r in store.db.execute(
            "SELECT key, url_key, title_key, opening, typo_key FROM entries")}
        assert store.count() == 4
    assert _rows(path) == before, "every column of every entry as it was, and its rowid"
    url_key, title_key, opening, typo_key = identities["weekly links"]
    assert url_key == "https://blog.example.net/2024/04/weekly-links"  # (its '#more' and trailing '/' dropped)
    assert title_key == "weekly links" and opening.startswith("how a village in wales")
    assert typo_key == "how a village in wales rebuilt its bus #"
    assert identities["the bridge reopens on monday"][0] is None


def test_a_pass_after_the_migration_keeps_every_published_id_and_finds_the_posts_that_were_lost(tmp_path):
    path = _site(tmp_path)
    before = _rows(path)
    proc = run_cli("-c", "feeds.toml", "--now", "2024-05-20T09:00:00+00:00", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    after = _rows(path)
    for key, row in before.items():  # id, slug, first seen and rowid as they were
        assert (after[key][0], after[key][2], after[key][3], after[key][12]) == (row[0], row[2], row[3], row[12])
    atom = feedparser.parse((tmp_path / "out" / "atom.xml").read_bytes())
    ids = {e.id for e in atom.entries}
    assert {row[2] for row in before.values()} <= ids, "every id published before is published again"
    weekly = sorted((e.id, e.link) for e in atom.entries if e.title == "Weekly links")
    assert len(weekly) == 3, "the two posts the old identity merged away come back as entries of their own"
    old = before["weekly links"][2]
    assert dict(weekly)[old] == "https://blog.example.net/2024/04/weekly-links/#more", "the stored one stays itself"
    for slug in ("weekly-links", "weekly-links-2", "weekly-links-3", "the-bridge-reopens-on-monday"):
        assert (tmp_path / "out" / "posts" / f"{slug}.html").is_file()
