"""Entries (every post ever seen), where each dump showed them, and their categories' slugs."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence

from feeds.identity import Identity, Known
from feeds.models import MAX_CATEGORIES, Entry, StoredEntry
from feeds.store.base import Tables, from_iso, iso
from feeds.store.schema import ENTRY_COLUMNS, identity_values

#: Entries, and the removed ones (tombstones): a new post's slug and key are free of both.
_BOTH = ("entries", "removed_entries")


class Entries(Tables):
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

    def get_many(self, keys: Sequence[str], chunk: int = 500) -> dict[str, StoredEntry]:
        """The stored entries of these keys (those stored), read `chunk` keys a query."""
        rows = self._rows_where_in("SELECT * FROM entries", "key", keys, chunk)
        return {row["key"]: self._row_to_entry(row) for row in rows}

    def stored_slugs(self, slugs: Iterable[str]) -> set[str]:
        """Which of these slugs are stored, by an entry or a removed one (one query for many)."""
        wanted = list(set(slugs))
        return {row[0] for table in _BOTH for row in self._rows_where_in(f"SELECT slug FROM {table}", "slug", wanted)}

    def slugs_like(self, slug: str) -> set[str]:
        """The stored slugs equal to `slug` or numbered after it (`slug-2`, …), of entries and
        removed ones. Asked only for a slug that is taken (stored_slugs() found it, or a post
        before took it): most are not, and need no query of their own."""
        return {r[0] for table in _BOTH for r in self.db.execute(
            f"SELECT slug FROM {table} WHERE slug = ? OR slug GLOB ?", (slug, slug + "-[0-9]*"))}

    def known_identities(self, urls: Iterable[str], titles: Iterable[str], typo_keys: Iterable[str]) -> list[Known]:
        """The stored posts (and removed ones) a batch's posts may be copies of: those with one
        of these canonical URLs, normalised titles or typo keys, and those whose key is one of the titles."""
        found: dict[str, Known] = {}
        wanted = sorted(set(titles))
        lookups = (("url_key", sorted(set(urls))), ("title_key", wanted), ("typo_key", sorted(set(typo_keys))),
                   ("key", wanted))
        for table in _BOTH:
            for column, values in lookups:
                sql = f"SELECT key, url_key, title_key, opening, typo_key FROM {table}"
                for row in self._rows_where_in(sql, column, values):
                    found.setdefault(row[0], Known(row[0], Identity(row[1], row[2], tuple(row[3].split()), row[4]),
                                                   removed=table != "entries"))
        return list(found.values())

    def keys_of_title(self, title: str) -> set[str]:
        """The stored keys (of entries and removed ones) of a title's family: the title, and
        the title followed by a line break and more (identity.Assigner's numbered keys)."""
        return {r[0] for table in _BOTH for r in self.db.execute(
            f"SELECT key FROM {table} WHERE key = ? OR (key > ? AND key < ?)", (title, title + "\n", title + "\x0b"))}

    _PUT_COLUMNS = ENTRY_COLUMNS
    _PUT_SQL = (f"INSERT INTO entries ({', '.join(_PUT_COLUMNS)}) VALUES ({', '.join('?' * len(_PUT_COLUMNS))}) "
                "ON CONFLICT (key) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in _PUT_COLUMNS
                            if c not in ("key", "id", "slug", "first_seen")))

    def put(self, rows: Iterable[tuple[Entry, str | None, str]]) -> None:
        """Insert or update entries, given as (entry, url, month), in order, with what identifies
        each (its canonical URL, title and opening words). An entry's key, id, slug and first-seen
        time never change. (One call for many: much faster.)"""
        self.db.executemany(self._PUT_SQL, [(
            e.key, e.id, e.slug, e.title, e.source_html, e.summary, e.text, int(e.truncated), iso(e.published),
            iso(e.updated), e.date_source, iso(e.first_seen), url, e.source, month, e.author,
            json.dumps(list(e.categories[:MAX_CATEGORIES]), ensure_ascii=False) if e.categories else "[]",
            *identity_values(e.title, e.text, url))
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

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM entries").fetchone()[0]

    def set_month(self, key: str, month: str) -> None:
        self.db.execute("UPDATE entries SET month = ? WHERE key = ?", (month, key))

    def month_of_each(self) -> Iterator[tuple[str, str, str]]:
        """(key, published, month) of every entry."""
        yield from self.db.execute("SELECT key, published, month FROM entries")

    # What a pass stored but has not yet published (written in the same transaction).
    def add_pending(self, kind: str, values: Iterable[str]) -> None:
        self.db.executemany("INSERT OR IGNORE INTO pending (kind, value) VALUES (?, ?)",
                            [(kind, v) for v in values])

    def pending(self, kind: str) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT value FROM pending WHERE kind = ?", (kind,))}

    def clear_pending(self) -> None:
        self.db.execute("DELETE FROM pending")
