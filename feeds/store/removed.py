"""Entries a person removed (`feeds entries remove`): moved whole to removed_entries, where they
are tombstones (a copy of one in a dump is not stored again) until `--undo` moves them back with
their key, id, slug and rowid. Both moves mark the entry and its month for the next publish,
which removes the page of a removed entry and leaves it out of the feeds, index and archive."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime

from feeds.models import StoredEntry
from feeds.store.base import iso
from feeds.store.entries import Entries
from feeds.store.schema import ENTRY_COLUMNS

_COLS = ", ".join(ENTRY_COLUMNS)


class Removed(Entries):
    def find_entry(self, ref: str) -> tuple[StoredEntry, str | None] | None:
        """The entry (or removed entry) whose id or slug is `ref`, and when it was removed (None: it is not)."""
        for table, removed in (("entries", "NULL"), ("removed_entries", "removed")):
            row = self.db.execute(f"SELECT *, {removed} AS removed_at FROM {table} WHERE id = ? OR slug = ?",
                                  (ref, ref)).fetchone()
            if row is not None:
                return self._row_to_entry(row), row["removed_at"]
        return None

    def remove_entry(self, key: str, now: datetime) -> None:
        """Move an entry to removed_entries (in the caller's transaction); the next publish drops it."""
        self.db.execute(f"INSERT INTO removed_entries ({_COLS}, removed, row) SELECT {_COLS}, ?, rowid "
                        "FROM entries WHERE key = ?", (iso(now), key))
        self._pend(key, "removed_entries")
        self.db.execute("DELETE FROM entries WHERE key = ?", (key,))

    def restore_entry(self, key: str) -> None:
        """Move a removed entry back, with its rowid when no entry took it since (in the caller's transaction)."""
        row = self.db.execute("SELECT row FROM removed_entries WHERE key = ?", (key,)).fetchone()
        free = not self.db.execute("SELECT 1 FROM entries WHERE rowid = ?", (row[0],)).fetchone()
        self.db.execute(f"INSERT INTO entries ({'rowid, ' if free else ''}{_COLS}) "
                        f"SELECT {'row, ' if free else ''}{_COLS} FROM removed_entries WHERE key = ?", (key,))
        self.db.execute("DELETE FROM removed_entries WHERE key = ?", (key,))
        self._pend(key, "entries")

    def _pend(self, key: str, table: str) -> None:
        month = self.db.execute(f"SELECT month FROM {table} WHERE key = ?", (key,)).fetchone()[0]
        self.add_pending("entry", [key])
        self.add_pending("month", [month])

    def removed_among(self, keys: Iterable[str]) -> list[StoredEntry]:
        """The removed entries of these keys (a publish removes their pages)."""
        return [self._row_to_entry(r) for r in self._rows_where_in("SELECT * FROM removed_entries", "key",
                                                                   sorted(set(keys)))]

    def listing(self) -> list[sqlite3.Row]:
        """Every entry and removed entry, newest first: what `feeds entries list` shows (no bodies)."""
        cols = "id, slug, title, url, published, updated, date_source, first_seen, truncated, author, categories"
        return self.db.execute(
            f"SELECT {cols}, NULL AS removed FROM entries UNION ALL SELECT {cols}, removed FROM removed_entries "
            "ORDER BY published DESC, slug").fetchall()
