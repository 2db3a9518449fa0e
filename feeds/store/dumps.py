"""The dumps read: what each was when last read, and whether it was read, skipped or quarantined."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from feeds.models import DumpRecord
from feeds.store.base import Tables, iso


class Quarantined(NamedTuple):
    """A dump a bug in feeds kept out, as `status` shows it."""

    path: str
    error: str | None
    last_read: str  # as stored (ISO 8601, UTC)
    sha256: str


class Dumps(Tables):
    def dumps(self) -> dict[str, DumpRecord]:
        rows = self.db.execute("SELECT path, size, mtime_ns, sha256, status, posts, error FROM dumps")
        return {r[0]: DumpRecord(*r) for r in rows}

    def record_dump(self, rec: DumpRecord, now: datetime) -> None:
        self.db.execute(
            "INSERT INTO dumps (path, size, mtime_ns, sha256, status, posts, error, first_seen, last_read) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET size = excluded.size, "
            "mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256, status = excluded.status, "
            "posts = excluded.posts, error = excluded.error, last_read = excluded.last_read",
            (rec.path, rec.size, rec.mtime_ns, rec.sha256, rec.status, rec.posts, rec.error,
             iso(now), iso(now)))

    def mark_dumps_unread(self) -> None:
        """Every dump is to be read again (its sha256 forgotten): how dumps are read changed."""
        self.db.execute("UPDATE dumps SET sha256 = ''")

    def touch_dump(self, path: str, mtime_ns: int) -> None:
        """The dump's bytes are unchanged but its time moved: remember the new time."""
        self.db.execute("UPDATE dumps SET mtime_ns = ? WHERE path = ?", (mtime_ns, path))


    def dump_counts(self) -> dict[str, int]:
        """How many dumps have each status ('ok', 'skipped', 'failed')."""
        return {r[0]: r[1] for r in self.db.execute("SELECT status, count(*) FROM dumps GROUP BY status")}

    def quarantined(self) -> list[Quarantined]:
        """The dumps a bug in feeds kept out (status 'failed'), by path."""
        return [Quarantined(*r) for r in self.db.execute(
            "SELECT path, error, last_read, sha256 FROM dumps WHERE status = 'failed' ORDER BY path")]
