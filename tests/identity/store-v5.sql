-- A store made by feeds at main 4c7d6f6 (schema version 5), from notes.txt and weekly-links.html
-- beside this file: python -m feeds --now 2024-05-13T09:00:00+00:00 (see tests/test_migration.py)
BEGIN TRANSACTION;
CREATE TABLE category_slugs (
        name TEXT PRIMARY KEY,          -- a category as dumps name it
        slug TEXT NOT NULL UNIQUE       -- its feed's folder, categories/<slug>/, never reused
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
        updated TEXT NOT NULL, named INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (period, recipient)
    );
INSERT INTO "deliveries" VALUES('2024-W19','reader@example.org','sent','<digest.2024-W19.6dc2ddfbe890b3278bda7c2a@blog.example.net>','outbox',1,'written to /tmp/p16h4v5/out/outbox/2024-W19/reader@example.org.eml','2024-05-13T09:00:00+00:00','2024-05-13T09:00:00+00:00',1);
CREATE TABLE digest_entries (
        period TEXT NOT NULL REFERENCES digests (period),
        key TEXT NOT NULL UNIQUE,       -- a post is announced in one digest at most
        position INTEGER NOT NULL,      -- 0 for the newest
        PRIMARY KEY (period, key)
    );
INSERT INTO "digest_entries" VALUES('2024-W19','the bridge reopens on monday',0);
INSERT INTO "digest_entries" VALUES('2024-W19','a year of the reading group',1);
INSERT INTO "digest_entries" VALUES('2024-W19','weekly links',2);
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
INSERT INTO "digests" VALUES('2024-W19','mailed','2024-05-13T08:00:00+00:00','2024-05-13T09:00:00+00:00',4,3);
INSERT INTO "digests" VALUES('2024-W16','archived','2024-04-22T08:00:00+00:00',NULL,NULL,1);
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
INSERT INTO "dumps" VALUES('/tmp/p16h4v5/dumps/notes.txt',620,1796328926981405629,'9c7f7c2553713cf3472f8fc6ba56c5f899efa8d362f4eddbd005e9949c756756','ok',2,NULL,'2024-05-13T09:00:00+00:00','2024-05-13T09:00:00+00:00');
INSERT INTO "dumps" VALUES('/tmp/p16h4v5/dumps/weekly-links.html',1937,1796328926981344775,'45692cf1572a940caa2a016287b6aa0797a5b4b2d20d88a2354fb6a0ed92b72c','ok',4,NULL,'2024-05-13T09:00:00+00:00','2024-05-13T09:00:00+00:00');
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
    , author TEXT, categories TEXT NOT NULL DEFAULT '[]');
INSERT INTO "entries" VALUES('the bridge reopens on monday','tag:blog.example.net,2024-05-13:the-bridge-reopens-on-monday','the-bridge-reopens-on-monday','The bridge reopens on Monday',NULL,'The footbridge over the canal reopens on Monday morning, after eight months of repairs to its two iron arches and the steps on the east bank. Engineers from the council replaced the rusted bolts and painted the whole span in the green it had when it was built.','The footbridge over the canal reopens on Monday morning, after eight months of repairs to its two iron arches and the steps on the east bank.

Engineers from the council replaced the rusted bolts and painted the whole span in the green it had when it was built.',1,'2024-05-13T09:00:00+00:00','2024-05-13T09:00:00+00:00','first-seen','2024-05-13T09:00:00+00:00',NULL,'/tmp/p16h4v5/dumps/notes.txt:1','2024-05',NULL,'[]');
INSERT INTO "entries" VALUES('a year of the reading group','tag:blog.example.net,2024-05-13:a-year-of-the-reading-group','a-year-of-the-reading-group','A year of the reading group',NULL,'The reading group met for the twelfth time last Thursday, and we looked back over a year of books chosen by lot from a hat that someone once left in the library. We read novels, two histories of the town, and one very long poem that nobody finished.','The reading group met for the twelfth time last Thursday, and we looked back over a year of books chosen by lot from a hat that someone once left in the library.

We read novels, two histories of the town, and one very long poem that nobody finished.',0,'2024-05-13T08:59:59+00:00','2024-05-13T08:59:59+00:00','first-seen','2024-05-13T09:00:00+00:00',NULL,'/tmp/p16h4v5/dumps/notes.txt:9','2024-05',NULL,'[]');
INSERT INTO "entries" VALUES('weekly links','tag:blog.example.net,2024-05-13:weekly-links','weekly-links','Weekly links','<div>
<p>How a village in Wales rebuilt its bus service with volunteers, and what the council learned from it.</p>
</div>','How a village in Wales rebuilt its bus service with volunteers, and what the council learned from it.','How a village in Wales rebuilt its bus service with volunteers, and what the council learned from it.',0,'2024-05-10T08:00:00+00:00','2024-05-13T09:00:00+00:00','explicit','2024-05-13T09:00:00+00:00','https://blog.example.net/2024/04/weekly-links/#more','/tmp/p16h4v5/dumps/weekly-links.html:24','2024-05',NULL,'[]');
INSERT INTO "entries" VALUES('garden notes','tag:blog.example.net,2024-05-13:garden-notes','garden-notes','Garden notes','<div>
<p>The tomatoes went in late this year, after a cold April, and the beans are only now climbing the canes we put up in March.</p>
</div>','The tomatoes went in late this year, after a cold April, and the beans are only now climbing the canes we put up in March.','The tomatoes went in late this year, after a cold April, and the beans are only now climbing the canes we put up in March.',0,'2024-04-20T08:00:00+00:00','2024-04-20T08:00:00+00:00','explicit','2024-05-13T09:00:00+00:00','https://blog.example.net/2024/04/garden-notes/','/tmp/p16h4v5/dumps/weekly-links.html:31','2024-04',NULL,'[]');
CREATE TABLE meta (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
INSERT INTO "meta" VALUES('parse_fingerprint','2d0e579d8ed60e7d39e0b0c62deb3d3405d0b574c6ebf7aa90f4826fdb7b1d53');
INSERT INTO "meta" VALUES('publish_fingerprint','c4e5fa50c87de020b063076089f6a9477b6b3ad2e7c1dba6d572d2b0f0f6bbed');
INSERT INTO "meta" VALUES('digest_page:2024-W19','62861eb147d64b6e46ff2764219eb92bbd983651843b940f63ed3d6bc4a2b4a6');
INSERT INTO "meta" VALUES('digest_page:2024-W16','16212786246f17ef0b13e46174cb0f34769a97ce101142f3544a57b1dffc17ab');
INSERT INTO "meta" VALUES('digests_published','79af481ca47bb98828bea86f04ebfdaed93e22c57f5a9657653dcc7ca863866d');
INSERT INTO "meta" VALUES('archived_weeks','2024-W19');
INSERT INTO "meta" VALUES('last_pass','{"time": "2024-05-13T09:00:00+00:00", "summary": "2 dump(s) read, 0 unchanged; 6 post(s) found; 4 new, 0 updated entries (4 stored); 15 file(s) written; digest 2024-W19: 3 post(s) for 1 recipient(s), 1 email(s) written to /tmp/p16h4v5/out/outbox; see /tmp/p16h4v5/out/index.html (or: python -m feeds serve)", "skipped": [], "failed": [], "problems": []}');
CREATE TABLE pending (
        kind TEXT NOT NULL CHECK (kind IN ('entry', 'month')),
        value TEXT NOT NULL,
        PRIMARY KEY (kind, value)
    );
CREATE TABLE sightings (
        dump TEXT NOT NULL,
        key TEXT NOT NULL,
        position INTEGER NOT NULL,      -- 0 for the topmost post of the page
        start_line INTEGER NOT NULL,
        end_line INTEGER NOT NULL,
        truncated INTEGER NOT NULL,
        PRIMARY KEY (dump, key)
    );
INSERT INTO "sightings" VALUES('/tmp/p16h4v5/dumps/notes.txt','the bridge reopens on monday',0,1,5,1);
INSERT INTO "sightings" VALUES('/tmp/p16h4v5/dumps/notes.txt','a year of the reading group',1,9,13,0);
INSERT INTO "sightings" VALUES('/tmp/p16h4v5/dumps/weekly-links.html','weekly links',2,24,24,0);
INSERT INTO "sightings" VALUES('/tmp/p16h4v5/dumps/weekly-links.html','garden notes',3,31,31,0);
CREATE INDEX entries_newest ON entries (published DESC, key);
CREATE INDEX entries_month ON entries (month, published DESC);
CREATE INDEX sightings_key ON sightings (key);
COMMIT;
