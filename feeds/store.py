"""The SQLite store: every post ever seen, the dumps read, and small state.

Versioned schema (``PRAGMA user_version``), migrations applied on open in one
transaction; a database newer than this code is refused. WAL journal. Times are
stored as ISO 8601 in UTC so that they sort as text.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from feeds.errors import StateError, StateFullError
from feeds.models import DigestPost, DumpRecord, Entry, StoredEntry

MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE dumps (
        path TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        status TEXT NOT NULL,           -- 'ok' or 'skipped'
        posts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        first_seen TEXT NOT NULL,
        last_read TEXT NOT NULL
    );
    CREATE TABLE entries (
        key TEXT PRIMARY KEY,           -- normalised title: identity within the site
        id TEXT NOT NULL UNIQUE,        -- minted once, never recomputed
        slug TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        source_html TEXT,               -- the body as an HTML dump gave it; NULL: made from text
        summary TEXT NOT NULL,
        text TEXT NOT NULL,
        truncated INTEGER NOT NULL,
        published TEXT NOT NULL,
        updated TEXT NOT NULL,
        date_source TEXT NOT NULL CHECK (date_source IN ('explicit', 'inferred', 'first-seen')),
        first_seen TEXT NOT NULL,
        url TEXT,                       -- the original URL, when a dump gives one
        source TEXT NOT NULL,           -- dump:line of the copy the text comes from
        month TEXT NOT NULL             -- YYYY-MM of published in the site's zone: the archive page
    );
    CREATE INDEX entries_newest ON entries (published DESC, key);
    CREATE INDEX entries_month ON entries (month, published DESC);
    CREATE TABLE sightings (
        dump TEXT NOT NULL,
        key TEXT NOT NULL,
        position INTEGER NOT NULL,      -- 0 for the topmost post of the page
        start_line INTEGER NOT NULL,
        end_line INTEGER NOT NULL,
        truncated INTEGER NOT NULL,
        PRIMARY KEY (dump, key)
    );
    CREATE TABLE meta (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    -- What a pass stored but has not yet published: written in the same transaction as
    -- the entries, cleared after publishing, so an interrupted pass is finished by the next.
    CREATE TABLE pending (
        kind TEXT NOT NULL CHECK (kind IN ('entry', 'month')),
        value TEXT NOT NULL,
        PRIMARY KEY (kind, value)
    );
    """,
    # 2: the weekly digest: what each digest lists, and the delivery ledger
    """
    CREATE TABLE digests (
        period TEXT PRIMARY KEY,        -- ISO week in the site's zone: 2025-W07
        kind TEXT NOT NULL CHECK (kind IN ('mailed', 'archived')),
        -- mailed: composed when due, its posts fixed in digest_entries, delivered via the ledger;
        -- archived: a past week rendered on request, its posts chosen by publication date
        date TEXT NOT NULL,             -- the digest's date (its Date header): when the week's digest was due
        composed TEXT,                  -- mailed: when it was composed
        seen_upto INTEGER,              -- mailed: the last entry (rowid) stored then; the next digest
                                        -- lists entries stored after it (not by clock: clocks go back)
        posts INTEGER NOT NULL          -- how many posts it lists (0: nothing new, no email)
    );
    CREATE TABLE digest_entries (
        period TEXT NOT NULL REFERENCES digests (period),
        key TEXT NOT NULL UNIQUE,       -- a post is announced in one digest at most
        position INTEGER NOT NULL,      -- 0 for the newest
        PRIMARY KEY (period, key)
    );
    CREATE TABLE deliveries (
        period TEXT NOT NULL REFERENCES digests (period),
        recipient TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'unknown', 'cancelled')),
        -- sending: handed to the server, its answer not yet recorded; found so after a crash it
        -- becomes unknown, and is not sent again (a missed digest rather than a duplicate)
        message_id TEXT NOT NULL,
        via TEXT,                       -- smtp or outbox, once an attempt began
        attempts INTEGER NOT NULL DEFAULT 0,
        reply TEXT,                     -- the server's last answer, or what went wrong
        sent_at TEXT,
        updated TEXT NOT NULL,
        PRIMARY KEY (period, recipient)
    );
    """,
    # 3: what HTML dumps tell of a post
    """
    ALTER TABLE entries ADD COLUMN author TEXT;
    ALTER TABLE entries ADD COLUMN categories TEXT NOT NULL DEFAULT '[]';  -- a JSON list of names
    CREATE TABLE category_slugs (
        name TEXT PRIMARY KEY,          -- a category as dumps name it
        slug TEXT NOT NULL UNIQUE       -- its feed's folder, categories/<slug>/, never reused
    );
    """,
    # 4: which dumps show a post (dating follows shared posts from page to page)
    """
    CREATE INDEX sightings_key ON sightings (key);
    """,
    # 5: whether a failed or unknown delivery was named to the operator (on stderr), so that one
    # recorded by a pass that died before saying so is named by the next, and then never again
    """
    ALTER TABLE deliveries ADD COLUMN named INTEGER NOT NULL DEFAULT 1;  -- 0: failed or unknown, not yet said
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)

#: An entry keeps at most this many categories, the first its dump names (the pass warns
#: when it leaves some out). Each is an element in every feed that lists the entry and,
#: with category feeds, a feed of its own that lists the entry with all of them: work and
#: bytes grow as the square of a post's categories (10,000 tags made a pass take hours).
MAX_CATEGORIES = 100

def iso(dt: datetime) -> str:
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt!r}: every time must carry its zone")
    return dt.astimezone(UTC).isoformat(timespec="seconds")


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


#: SQLite's messages when the disk refuses a write: SQLITE_FULL, SQLITE_IOERR, SQLITE_READONLY.
_NO_ROOM = re.compile(r"database or disk is full|disk I/O error|attempt to write a readonly database")


class Store:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
            self.db.row_factory = sqlite3.Row
            # 32 KB pages (for a new database; an existing one keeps its own). A post's text
            # of a few KB fills most of a 4 or 8 KB page and leaves the rest empty; 32 KB pages
            # hold several, so a large ingest writes 15% fewer bytes, twice (log, then
            # database), and stores ~25% faster than with 8 KB (bench: 1.6 s -> 1.2 s).
            self.db.execute("PRAGMA page_size=32768")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            # Checkpoint the log into the database every ~40 MB, not every 1,000 pages: the same
            # guarantees (NORMAL: never corrupt, at worst the last commits lost on power
            # loss) with far fewer syncs, which dominate a large ingest on a virtual disk.
            page = self.db.execute("PRAGMA page_size").fetchone()[0]
            self.db.execute(f"PRAGMA wal_autocheckpoint={max(1000, 40 * 1024 * 1024 // page)}")
            # A page cache as large as a batch of dumps (pipeline.BATCH_BYTES): a batch is
            # stored in one transaction, and with SQLite's default 2 MB its pages would spill
            # to the log and the indexes be read back from it while the batch is written.
            self.db.execute("PRAGMA cache_size=-16384")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StateError(f"{path}: not a usable feeds database ({exc}). Restore it from a backup; "
                             "starting afresh (moving it aside) rebuilds everything from the dumps but gives "
                             "every post a new id, so feed readers would show them all again.") from None

    @classmethod
    def peek(cls, path: str | Path) -> Store:
        """The state as it is, for reading only (`feeds check`): nothing is made, migrated or
        changed. StateError if it is not a database this feeds can read.

        Opened for writing if it may be (and only read): a read-only connection to a database
        in WAL mode leaves its -wal and -shm files behind, where the last connection to close
        removes them."""
        store = cls.__new__(cls)
        store.path = Path(path)
        uri = store.path.resolve().as_uri()
        try:
            mode = "rw" if os.access(store.path, os.W_OK) and os.access(store.path.parent, os.W_OK) else "ro"
            store.db = sqlite3.connect(f"{uri}?mode={mode}", uri=True, isolation_level=None, timeout=30)
            store.db.row_factory = sqlite3.Row
            version = store.db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise StateError(f"{path}: not a usable feeds database ({exc})") from None
        if version > SCHEMA_VERSION:
            store.close()
            raise StateError(f"{path}: schema version {version} is newer than this feeds ({SCHEMA_VERSION}); "
                             "upgrade feeds or use another state.path")
        return store

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StateError(f"{self.path}: schema version {version} is newer than this feeds "
                             f"({SCHEMA_VERSION}); upgrade feeds or use another state.path")
        if version == SCHEMA_VERSION:
            return
        # One script, one transaction: a crash leaves the old version or the new, whole.
        steps = "".join(MIGRATIONS[version:SCHEMA_VERSION])
        try:
            self.db.executescript(f"BEGIN IMMEDIATE;\n{steps}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    @contextmanager
    def durable(self) -> Iterator[None]:
        """Every commit inside is synced to disk before it returns (the ledger's writes)."""
        self.db.execute("PRAGMA synchronous=FULL")
        try:
            yield
        finally:
            self.db.execute("PRAGMA synchronous=NORMAL")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing. A write the disk refuses (full, a file-size limit, read-only) rolls it
        back and raises StateFullError, whether a statement inside or the commit met it."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self.db.execute("COMMIT")
            except BaseException:
                if self.db.in_transaction:  # (SQLite may have rolled back by itself: SQLITE_FULL)
                    self.db.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            if not _NO_ROOM.search(str(exc)):
                raise
            raise StateFullError(f"cannot write the state {self.path}: {exc}. Nothing stored before is lost "
                                 "(the pass's changes were rolled back); free space on its disk (or make it "
                                 "writable) and the next pass goes on where this one stopped") from None

    # -- dumps -----------------------------------------------------------------------
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

    # -- entries ---------------------------------------------------------------------
    def _row_to_entry(self, row: sqlite3.Row) -> StoredEntry:
        entry = Entry(
            key=row["key"], id=row["id"], slug=row["slug"], title=row["title"],
            source_html=row["source_html"], summary=row["summary"], text=row["text"],
            truncated=bool(row["truncated"]), published=from_iso(row["published"]),
            updated=from_iso(row["updated"]), date_source=row["date_source"],
            first_seen=from_iso(row["first_seen"]),
            source=row["source"], author=row["author"],
            # (at most MAX_CATEGORIES, also of an entry an older version stored with more)
            categories=tuple(json.loads(row["categories"])[:MAX_CATEGORIES]))
        return StoredEntry(entry, row["url"])

    def _rows_where_in(self, select: str, column: str, values: Sequence[str]) -> Iterator[sqlite3.Row]:
        """`select` (a SELECT … FROM a table) WHERE column IN values: one query per 500 values."""
        for i in range(0, len(values), 500):
            chunk = list(values[i:i + 500])
            yield from self.db.execute(f"{select} WHERE {column} IN ({','.join('?' * len(chunk))})", chunk)

    def get_many(self, keys: Sequence[str]) -> dict[str, StoredEntry]:
        rows = self._rows_where_in("SELECT * FROM entries", "key", keys)
        return {row["key"]: self._row_to_entry(row) for row in rows}

    def stored_slugs(self, slugs: Iterable[str]) -> set[str]:
        """Which of these slugs are stored (one query for many)."""
        return {row[0] for row in self._rows_where_in("SELECT slug FROM entries", "slug", list(set(slugs)))}

    def slugs_like(self, slug: str) -> set[str]:
        """The stored slugs equal to `slug` or numbered after it (`slug-2`, …). Asked only for
        a slug that is taken (stored_slugs() found it, or a post before took it): most are
        not, and need no query of their own."""
        rows = self.db.execute("SELECT slug FROM entries WHERE slug = ? OR slug GLOB ?",
                               (slug, slug + "-[0-9]*"))
        return {r[0] for r in rows}

    _PUT_COLUMNS = ("key", "id", "slug", "title", "source_html", "summary", "text", "truncated", "published",
                    "updated", "date_source", "first_seen", "url", "source", "month", "author", "categories")
    _PUT_SQL = (f"INSERT INTO entries ({', '.join(_PUT_COLUMNS)}) VALUES ({', '.join('?' * len(_PUT_COLUMNS))}) "
                "ON CONFLICT (key) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in _PUT_COLUMNS
                            if c not in ("key", "id", "slug", "first_seen")))

    def put(self, rows: Iterable[tuple[Entry, str | None, str]]) -> None:
        """Insert or update entries, given as (entry, url, month), in order. An entry's key,
        id, slug and first-seen time never change. (One call for many: much faster.)"""
        self.db.executemany(self._PUT_SQL, [(
            e.key, e.id, e.slug, e.title, e.source_html, e.summary, e.text, int(e.truncated), iso(e.published),
            iso(e.updated), e.date_source, iso(e.first_seen), url, e.source, month, e.author,
            json.dumps(list(e.categories[:MAX_CATEGORIES]), ensure_ascii=False) if e.categories else "[]")
            for e, url, month in rows])

    def replace_sightings(self, dump: str, rows: Sequence[tuple[str, int, int, int, bool]]) -> None:
        """Where each post of a dump was seen: (key, position, start line, end line, cut)."""
        self.db.execute("DELETE FROM sightings WHERE dump = ?", (dump,))
        self.db.executemany(
            "INSERT OR REPLACE INTO sightings (dump, key, position, start_line, end_line, truncated) "
            "VALUES (?, ?, ?, ?, ?, ?)", [(dump, k, pos, a, b, int(t)) for k, pos, a, b, t in rows])

    def pages_showing(self, keys: Iterable[str]) -> set[str]:
        """The dumps whose posts, as last read, include any of these."""
        return {row[0] for row in self._rows_where_in("SELECT DISTINCT dump FROM sightings", "key", list(set(keys)))}

    def pages(self, dumps: Iterable[str]) -> dict[str, list[str]]:
        """The post keys of each dump as last read, topmost first."""
        out: dict[str, list[str]] = {}
        rows = self._rows_where_in("SELECT dump, key, position FROM sightings", "dump", sorted(set(dumps)))
        for row in sorted(rows, key=lambda r: (r[0], r[2])):
            out.setdefault(row[0], []).append(row[1])
        return out

    def newest(self, limit: int | None = None) -> list[StoredEntry]:
        """Entries newest first (published, then key for a stable order)."""
        sql = "SELECT * FROM entries ORDER BY published DESC, key"
        rows = self.db.execute(sql + (" LIMIT ?" if limit else ""), (limit,) if limit else ())
        return [self._row_to_entry(r) for r in rows]

    def categories(self) -> list[str]:
        """Every category some entry has, sorted by name."""
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT c.value FROM entries, json_each(entries.categories) AS c WHERE c.key < ? "
            "ORDER BY c.value", (MAX_CATEGORIES,))]

    def newest_by_category(self, limit: int) -> dict[str, list[str]]:
        """The keys of every category's newest `limit` entries, newest first: one walk over the
        entries in that order (not a query per category, each reading every entry)."""
        newest: dict[str, list[str]] = {}
        rows = self.db.execute(
            "SELECT c.value, entries.key FROM entries, json_each(entries.categories) AS c WHERE c.key < ? "
            "ORDER BY entries.published DESC, entries.key", (MAX_CATEGORIES,))
        for category, key in rows:
            keys = newest.setdefault(category, [])
            if len(keys) < limit and (not keys or keys[-1] != key):  # (a category named twice: once)
                keys.append(key)
        return newest

    def category_slugs(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self.db.execute("SELECT name, slug FROM category_slugs")}

    def set_category_slug(self, name: str, slug: str) -> None:
        self.db.execute("INSERT INTO category_slugs (name, slug) VALUES (?, ?)", (name, slug))

    def months(self) -> list[tuple[str, int]]:
        """(YYYY-MM, number of entries) for every month with entries, newest first."""
        return [tuple(r) for r in self.db.execute(
            "SELECT month, count(*) FROM entries GROUP BY month ORDER BY month DESC")]

    def month_rows(self, month: str) -> list[sqlite3.Row]:
        """What an archive page needs of a month's entries, newest first: no bodies."""
        return self.db.execute("SELECT key, slug, title, summary, published FROM entries WHERE month = ? "
                               "ORDER BY published DESC, key", (month,)).fetchall()

    def each(self, batch: int = 200) -> Iterator[StoredEntry]:
        """Every entry, newest first, read a batch at a time."""
        cursor = self.db.execute("SELECT * FROM entries ORDER BY published DESC, key")
        while rows := cursor.fetchmany(batch):
            yield from (self._row_to_entry(r) for r in rows)

    def holds_nothing(self) -> bool:
        """No dump, entry or digest stored: a database a failed first pass made and may remove."""
        return not any(self.db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()
                       for table in ("dumps", "entries", "digests", "deliveries"))

    def remove(self) -> None:
        """Close the database and delete its files (the log and index beside it too)."""
        self.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM entries").fetchone()[0]

    def set_month(self, key: str, month: str) -> None:
        self.db.execute("UPDATE entries SET month = ? WHERE key = ?", (month, key))

    def month_of_each(self) -> Iterator[tuple[str, str, str]]:
        """(key, published, month) of every entry."""
        yield from self.db.execute("SELECT key, published, month FROM entries")

    # -- pending publication ---------------------------------------------------------
    def add_pending(self, kind: str, values: Iterable[str]) -> None:
        self.db.executemany("INSERT OR IGNORE INTO pending (kind, value) VALUES (?, ?)",
                            [(kind, v) for v in values])

    def pending(self, kind: str) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT value FROM pending WHERE kind = ?", (kind,))}

    def clear_pending(self) -> None:
        self.db.execute("DELETE FROM pending")

    # -- digests ---------------------------------------------------------------------
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

    # -- meta ------------------------------------------------------------------------
    def meta(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def delete_meta(self, name: str) -> None:
        self.db.execute("DELETE FROM meta WHERE name = ?", (name,))

    def set_meta(self, name: str, value: str) -> None:
        self.db.execute("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE "
                        "SET value = excluded.value", (name, value))
