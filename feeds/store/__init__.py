"""The SQLite store: every post ever seen, the dumps read, and small state.

Versioned schema (``PRAGMA user_version``, `schema`), migrations applied on open in one
transaction; a database newer than this code is refused. WAL journal. Times are
stored as ISO 8601 in UTC so that they sort as text. `Store` is made of a class per
group of tables (`dumps`, `entries`, `digests`) and of `batches`: the one read that a
batch's dating and merge rules need, and the one write of what they decided.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from feeds.errors import StateError, StateFullError
from feeds.models import MAX_CATEGORIES
from feeds.store.base import from_iso, iso
from feeds.store.batches import Batches
from feeds.store.digests import Digests
from feeds.store.dumps import Dumps, Quarantined
from feeds.store.entries import Entries
from feeds.store.removed import Removed
from feeds.store.schema import MIGRATIONS, SCHEMA_VERSION, register
from feeds.store.subscribers import Subscriber, Subscribers

__all__ = ["MAX_CATEGORIES", "MIGRATIONS", "SCHEMA_VERSION", "DatabaseError", "Quarantined", "Row", "Store",
           "Subscriber", "from_iso", "iso"]

#: A stored row (of the digests and the ledger), read by column name; and what SQLite raises. The
#: store is the only module that imports sqlite3: the rest name these.
Row = sqlite3.Row
DatabaseError = sqlite3.Error

#: SQLite's messages when the disk refuses a write: SQLITE_FULL, SQLITE_IOERR, SQLITE_READONLY.
_NO_ROOM = re.compile(r"database or disk is full|disk I/O error|attempt to write a readonly database")


class Store(Batches, Removed, Dumps, Entries, Digests, Subscribers):
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
            register(self.db)
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
        except BaseException as exc:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            # Another connection (the endpoint's next request, a pass) migrated it while this one
            # waited for the lock: its steps then fail ("table ... already exists"), and all is done.
            if isinstance(exc, sqlite3.OperationalError) and (
                    self.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION):
                return
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


    def holds_nothing(self) -> bool:
        """No dump, entry, digest or subscriber stored: a database a failed first pass made and may remove."""
        return not any(self.db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()
                       for table in ("dumps", "entries", "digests", "deliveries", "subscribers"))

    def remove(self) -> None:
        """Close the database and delete its files (the log and index beside it too)."""
        self.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    # -- meta ------------------------------------------------------------------------
    def meta(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def delete_meta(self, name: str) -> None:
        self.db.execute("DELETE FROM meta WHERE name = ?", (name,))

    def set_meta(self, name: str, value: str) -> None:
        self.db.execute("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE "
                        "SET value = excluded.value", (name, value))
