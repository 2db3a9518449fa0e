"""The digests: what each lists, and the delivery ledger (who was sent which, and how it went)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from feeds.models import DigestPost
from feeds.store.base import Tables, from_iso, iso


class Digests(Tables):
    def digest(self, period: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM digests WHERE period = ?", (period,)).fetchone()

    def digests(self, *, with_empty: bool = False) -> list[sqlite3.Row]:
        """Every digest (with posts, unless asked), newest period first."""
        where = "" if with_empty else " WHERE posts > 0"
        return self.db.execute(f"SELECT * FROM digests{where} ORDER BY period DESC").fetchall()

    def last_mailed(self) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM digests WHERE kind = 'mailed' ORDER BY period DESC LIMIT 1").fetchone()

    def set_digest(self, period: str, kind: str, date: datetime, posts: int,
                   composed: datetime | None = None, seen_upto: int | None = None) -> None:
        self.db.execute("INSERT INTO digests (period, kind, date, composed, seen_upto, posts) "
                        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (period) DO UPDATE SET kind = excluded.kind, "
                        "date = excluded.date, composed = excluded.composed, seen_upto = excluded.seen_upto, "
                        "posts = excluded.posts",
                        (period, kind, iso(date), iso(composed) if composed else None, seen_upto, posts))

    def last_entry(self) -> int:
        """The rowid of the newest stored entry (rowids only grow: entries are never deleted)."""
        return self.db.execute("SELECT coalesce(max(rowid), 0) FROM entries").fetchone()[0]

    def add_digest_entries(self, period: str, keys: Sequence[str]) -> None:
        """Fix the posts a mailed digest lists; a post already in a digest raises IntegrityError."""
        self.db.executemany("INSERT INTO digest_entries (period, key, position) VALUES (?, ?, ?)",
                            [(period, k, i) for i, k in enumerate(keys)])

    _DIGEST_POST = "SELECT key, title, summary, slug, published, url FROM entries"

    def _digest_post(self, row: sqlite3.Row) -> DigestPost:
        return DigestPost(row[0], row[1], row[2], row[3], from_iso(row[4]), row[5])

    def candidates(self, *, published_from: datetime, published_before: datetime | None = None,
                   stored_after: int | None = None) -> list[DigestPost]:
        """Posts in no digest yet, published in the range (and stored after that rowid), newest first."""
        sql = self._DIGEST_POST + " WHERE published >= ? AND key NOT IN (SELECT key FROM digest_entries)"
        args: list[str] = [iso(published_from)]
        if published_before is not None:
            sql += " AND published < ?"
            args.append(iso(published_before))
        if stored_after is not None:
            sql += " AND rowid > ?"
            args.append(stored_after)  # type: ignore[arg-type]
        return [self._digest_post(r) for r in self.db.execute(sql + " ORDER BY published DESC, key", args)]

    def unannounced_times(self, published_before: datetime) -> Iterator[str]:
        """The publication times (as stored) of the posts in no digest, published before that time."""
        yield from (r[0] for r in self.db.execute(
            "SELECT published FROM entries WHERE published < ? AND key NOT IN (SELECT key FROM digest_entries)",
            (iso(published_before),)))

    def digest_posts(self, period: str) -> list[DigestPost]:
        """The posts a mailed digest lists, in its order."""
        return [self._digest_post(r) for r in self.db.execute(
            "SELECT e.key, e.title, e.summary, e.slug, e.published, e.url FROM digest_entries d "
            "JOIN entries e ON e.key = d.key WHERE d.period = ? ORDER BY d.position", (period,))]

    # -- the delivery ledger -----------------------------------------------------------
    def add_deliveries(self, period: str, rows: Sequence[tuple[str, str]], now: datetime) -> None:
        """(recipient, Message-ID) pairs to deliver; a recipient already in the ledger is kept as is."""
        self.db.executemany("INSERT OR IGNORE INTO deliveries (period, recipient, status, message_id, updated) "
                            "VALUES (?, ?, 'pending', ?, ?)", [(period, r, m, iso(now)) for r, m in rows])

    def deliveries(self, period: str | None = None, status: str | None = None) -> list[sqlite3.Row]:
        sql, args = "SELECT * FROM deliveries WHERE 1", []
        if period is not None:
            sql += " AND period = ?"
            args.append(period)
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        return self.db.execute(sql + " ORDER BY period, rowid", args).fetchall()

    def was_mailed(self, message_id: str, recipient: str) -> bool:
        """Whether the ledger holds a digest with that Message-ID handed to the server for `recipient`
        (whose domain may be spelt in another case)."""
        return self.db.execute("SELECT 1 FROM deliveries WHERE message_id = ? AND lower(recipient) = lower(?) "
                               "AND status IN ('sent', 'unknown', 'failed') LIMIT 1",
                               (message_id, recipient)).fetchone() is not None

    def mark(self, period: str, recipient: str, status: str, now: datetime, *, reply: str | None = None,
             via: str | None = None, attempt: bool = False) -> None:
        """Move a delivery to `status`, committed at once (it is the ledger: it must survive a crash).
        A delivery that becomes failed or unknown is to be named (see `unnamed`), in the same write."""
        self.db.execute(
            "UPDATE deliveries SET status = ?, reply = coalesce(?, reply), via = coalesce(?, via), "
            "attempts = attempts + ?, updated = ?, sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END, "
            "named = CASE WHEN ? IN ('failed', 'unknown') THEN 0 ELSE named END "
            "WHERE period = ? AND recipient = ?",
            (status, reply, via, int(attempt), iso(now), status, iso(now), status, period, recipient))

    def unnamed(self) -> list[sqlite3.Row]:
        """The failed and unknown deliveries not yet named to the operator, oldest first."""
        return self.db.execute("SELECT * FROM deliveries WHERE named = 0 AND status IN ('failed', 'unknown') "
                               "ORDER BY period, rowid").fetchall()

    def set_named(self, rows: Iterable[tuple[str, str]]) -> None:
        """These (period, recipient) deliveries were named: not again."""
        self.db.executemany("UPDATE deliveries SET named = 1 WHERE period = ? AND recipient = ?", list(rows))

    def digest_counts(self) -> tuple[int, int]:
        """How many digests were mailed with posts, and how many past weeks were archived."""
        mailed = self.db.execute("SELECT count(*) FROM digests WHERE kind = 'mailed' AND posts > 0").fetchone()[0]
        archived = self.db.execute("SELECT count(*) FROM digests WHERE kind = 'archived'").fetchone()[0]
        return mailed, archived
