"""The store's schema: versioned migrations, applied on open in one transaction (``PRAGMA
user_version``); a database newer than this code is refused. A migration may call the SQL
functions `register` gives the connection (what a post's identity is, `feeds.identity`)."""

from __future__ import annotations

import sqlite3

from feeds.identity import Identity, canonical_url, opening
from feeds.normalise import identity

#: An entry's columns that say which post it is (written by `Entries.put`, looked up by
#: `Entries.known_identities`): the canonical URL, the normalised title, the opening words,
#: and what rule 3 looks a post up by (the first of them and the title's numbers: Identity.typo_key).
IDENTITY_COLUMNS = ("url_key", "title_key", "opening", "typo_key")

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
    # 6: identity that loses nothing (feeds.identity): a post is its canonical URL, or its title
    # with its opening words, no longer its title alone. Keys, ids and slugs stay as they are:
    # the key is now only the row's name, given once; these columns say which post it is.
    # Removed entries (`feeds entries remove`) move to removed_entries whole, and are tombstones:
    # a copy of one in a dump is not stored again, until `entries remove --undo` moves it back.
    """
    ALTER TABLE entries ADD COLUMN url_key TEXT;                     -- canonical URL, or NULL
    ALTER TABLE entries ADD COLUMN title_key TEXT NOT NULL DEFAULT '';
    ALTER TABLE entries ADD COLUMN opening TEXT NOT NULL DEFAULT '';  -- the first words, space-separated
    ALTER TABLE entries ADD COLUMN typo_key TEXT NOT NULL DEFAULT '';
    UPDATE entries SET url_key = feeds_url_key(url), title_key = feeds_title_key(title),
                       opening = feeds_opening(text), typo_key = feeds_typo_key(title, text);
    -- (not unique: two entries an older feeds stored for one URL, retitled, both stay)
    CREATE INDEX entries_url_key ON entries (url_key);
    CREATE INDEX entries_title_key ON entries (title_key);
    CREATE INDEX entries_typo_key ON entries (typo_key);
    CREATE TABLE removed_entries (
        key TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, slug TEXT NOT NULL UNIQUE, title TEXT NOT NULL,
        source_html TEXT, summary TEXT NOT NULL, text TEXT NOT NULL, truncated INTEGER NOT NULL,
        published TEXT NOT NULL, updated TEXT NOT NULL, date_source TEXT NOT NULL, first_seen TEXT NOT NULL,
        url TEXT, source TEXT NOT NULL, month TEXT NOT NULL, author TEXT, categories TEXT NOT NULL,
        url_key TEXT, title_key TEXT NOT NULL, opening TEXT NOT NULL, typo_key TEXT NOT NULL,
        removed TEXT NOT NULL,          -- when it was removed
        row INTEGER NOT NULL            -- its rowid in entries, given back by undo (digests count by rowid)
    );
    CREATE INDEX removed_url_key ON removed_entries (url_key);
    CREATE INDEX removed_title_key ON removed_entries (title_key);
    CREATE INDEX removed_typo_key ON removed_entries (typo_key);
    """,
    # 7: the mailing list (feeds.store.subscribers): who is on it, each change of status with when
    # and how it came, and the confirmation mails sent (the endpoint's rate limit, across processes)
    """
    CREATE TABLE subscribers (
        address TEXT PRIMARY KEY,       -- normalised: local part as given, domain lower-cased
        name TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced', 'complained')),
        source TEXT NOT NULL CHECK (source IN ('form', 'import', 'command', 'config', 'one-click', 'confirm',
                                               'bounce')),  -- how the status was reached
        changed TEXT NOT NULL,          -- when
        created TEXT NOT NULL
    );
    CREATE INDEX subscribers_status ON subscribers (status, address);
    CREATE TABLE subscriber_events (   -- every change of status, oldest first
        address TEXT NOT NULL REFERENCES subscribers (address),
        status TEXT NOT NULL,
        source TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX subscriber_events_address ON subscriber_events (address, at);
    CREATE TABLE confirmation_mails (  -- one row per confirmation mail sent; rows older than a day pruned
        address TEXT NOT NULL,
        client TEXT NOT NULL,           -- the requesting client's IP address
        at TEXT NOT NULL
    );
    CREATE INDEX confirmation_mails_address ON confirmation_mails (address, at);
    CREATE INDEX confirmation_mails_client ON confirmation_mails (client, at);
    CREATE INDEX deliveries_recipient ON deliveries (recipient COLLATE NOCASE, status);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)

#: The columns entries and removed_entries share (a later migration adding one to entries adds it to both).
ENTRY_COLUMNS = ("key", "id", "slug", "title", "source_html", "summary", "text", "truncated", "published",
                 "updated", "date_source", "first_seen", "url", "source", "month", "author", "categories",
                 *IDENTITY_COLUMNS)


def identity_values(title: str, text: str, url: str | None) -> tuple[str | None, str, str, str]:
    """An entry's identity columns."""
    ident = Identity.of(title, text, url)
    return ident.url, ident.title, " ".join(ident.opening), ident.typo_key


def register(db: sqlite3.Connection) -> None:
    """The SQL functions migrations call."""
    db.create_function("feeds_url_key", 1, lambda url: canonical_url(url) if url else None, deterministic=True)
    db.create_function("feeds_title_key", 1, identity, deterministic=True)
    db.create_function("feeds_opening", 1, lambda text: " ".join(opening(text)), deterministic=True)
    db.create_function("feeds_typo_key", 2, lambda title, text: Identity.of(title, text, None).typo_key,
                       deterministic=True)
