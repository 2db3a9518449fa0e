"""A store of schema version 6 (the one before the mailing list) is migrated on open: its
entries, digests and delivery ledger stay as they were, the list's tables are made, and a
subscriber's "digests sent" is read from the ledger that was already there."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from feeds.store import SCHEMA_VERSION, Store
from feeds.store.schema import MIGRATIONS, register

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def _version_6(path):
    """A version-6 store, made by the migrations as they were, with an entry, a digest and its ledger."""
    db = sqlite3.connect(path, isolation_level=None)
    register(db)
    db.executescript("".join(MIGRATIONS[:6]) + "PRAGMA user_version = 6;")
    db.execute("INSERT INTO entries (key, id, slug, title, summary, text, truncated, published, updated, "
               "date_source, first_seen, source, month) VALUES ('post', 'tag:x,2025:post', 'post', 'Post', 's', "
               "'t', 0, '2025-02-20T09:00:00+00:00', '2025-02-20T09:00:00+00:00', 'explicit', "
               "'2025-02-20T09:00:00+00:00', 'd.txt:1', '2025-02')")
    db.execute("INSERT INTO digests (period, kind, date, composed, seen_upto, posts) "
               "VALUES ('2025-W08', 'mailed', '2025-02-24T08:00:00+00:00', '2025-02-24T08:00:00+00:00', 1, 1)")
    db.execute("INSERT INTO deliveries (period, recipient, status, message_id, sent_at, updated) VALUES "
               "('2025-W08', 'Reader@example.org', 'sent', '<m@x>', '2025-02-24T08:00:01+00:00', "
               "'2025-02-24T08:00:01+00:00')")
    db.close()


def _dump(path):
    db = sqlite3.connect(path)
    try:
        return {t: db.execute(f"SELECT rowid, * FROM {t} ORDER BY rowid").fetchall()
                for t in ("entries", "digests", "digest_entries", "deliveries", "meta")}
    finally:
        db.close()


def test_a_version_6_store_gains_the_list_and_keeps_everything_else(tmp_path):
    path = tmp_path / "feeds.sqlite3"
    _version_6(path)
    before = _dump(path)
    with Store(path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 7
        assert store.subscribers() == []
        sub = store.subscribe("reader@EXAMPLE.org", source="config", now=T0)
        assert (sub.status, sub.sent) == ("active", 1), "the ledger's sent digest counts"
        assert store.history("reader@example.org") == [("active", "config", T0)]
    assert _dump(path) == before


def test_a_store_holding_only_subscribers_is_not_empty(tmp_path):
    """A first pass that fails removes a store that holds nothing: never one with a list in it."""
    with Store(tmp_path / "feeds.sqlite3") as store:
        assert store.holds_nothing()
        store.subscribe("a@example.org", source="command", now=T0)
        assert not store.holds_nothing()


def test_connections_opening_the_store_at_once_migrate_it_once_and_all_go_on(tmp_path):
    """After an upgrade the endpoint's requests (threads of `feeds serve`, gunicorn's workers) and a pass
    open the store at the same moment: one migrates it, the others wait, then find it done. Each used to
    run the migration again and stop with "table ... already exists: not a usable feeds database"."""
    import threading

    for path in (tmp_path / "fresh.sqlite3", tmp_path / "v6.sqlite3"):
        if path.name == "v6.sqlite3":
            _version_6(path)
        failures: list[BaseException] = []
        start = threading.Barrier(8)

        def open_it(path=path, failures=failures, start=start) -> None:
            start.wait()
            try:
                Store(path).close()
            except BaseException as exc:  # noqa: BLE001 (collected for the assertion)
                failures.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert failures == [], failures
        with Store(path) as store:
            assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
