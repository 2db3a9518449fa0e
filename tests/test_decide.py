"""The merge rules and the dating of a batch, as pure functions of a snapshot of what is
stored: no SQLite here (the store's read and write are tested through passes)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from feeds import decide
from feeds.dating.pages import dates_for
from feeds.models import Block, DumpRecord, ParsedDump, Post, Snapshot, StoredEntry
from feeds.normalise import body_text, identity, may_be_taken, mint_id, slugify

T0 = datetime(2025, 2, 10, 9, tzinfo=UTC)
NOW = datetime(2025, 3, 1, 9, tzinfo=UTC)
DOMAIN = "example.org"


def post(title: str, *paragraphs: str, truncated: bool = False, position: int = 0, path: str = "d.txt") -> Post:
    body = tuple(Block(2 + i, p) for i, p in enumerate(paragraphs or ("Some text.",)))
    return Post(path, title, 1, 1 + len(body), truncated, body, position)


def dump(path: str, *posts: Post, written: datetime = NOW) -> ParsedDump:
    posts = tuple(dataclasses.replace(p, dump=path, position=i) for i, p in enumerate(posts))
    return ParsedDump(path, DumpRecord(path, 100, 0, "sha", "ok", len(posts), None), posts,
                      tuple(identity(p.title) for p in posts), written)


def stored(p: Post, published: datetime, source: str = "inferred", *, slug: str | None = None,
           url: str | None = None) -> StoredEntry:
    key = identity(p.title)
    slug = slug or slugify(p.title)
    entry = decide.make_entry(p, "old.txt", key, slug, mint_id(DOMAIN, T0, slug), published, source, T0,
                              updated=published)
    return StoredEntry(entry, url)


def snapshot(*entries: StoredEntry, pages: dict | None = None, written: dict | None = None,
             settled: frozenset[str] = frozenset(), slugs: dict | None = None) -> Snapshot:
    return Snapshot({e.entry.key: e for e in entries}, pages or {}, written or {}, settled, slugs or {})


def decided(batch: list[ParsedDump], snap: Snapshot, dates: dict | None = None):
    if dates is None:
        dates = {k: (T0, "inferred") for d in batch for k in d.keys}
    return decide.intents(batch, snap, dates, NOW, tz=UTC, domain=DOMAIN)


WHOLE = post("Bridge to reopen", "The bridge reopens on Monday.", "Engineers replaced two arches.")
CUT = post("Bridge to reopen", "The bridge reopens on Monday.", truncated=True)


def test_a_whole_copy_replaces_a_cut_one_and_keeps_its_id_slug_and_first_seen():
    old = stored(CUT, T0)
    out = decided([dump("new.txt", WHOLE)], snapshot(old))
    [[intent]] = [d.entries for d in out.dumps]
    e = intent.entry
    assert e.text == body_text(WHOLE.body) and not e.truncated
    assert (e.id, e.slug, e.first_seen) == (old.entry.id, old.entry.slug, old.entry.first_seen), "minted once"
    assert e.updated == NOW and e.source == "new.txt:1"
    assert (out.new, out.updated, out.pending_entries) == (0, 1, {e.key})


def test_a_cut_copy_never_replaces_a_whole_one_and_changes_nothing():
    longer_cut = post("Bridge to reopen", "The bridge reopens on Monday." + " More words." * 50, truncated=True)
    out = decided([dump("new.txt", longer_cut)], snapshot(stored(WHOLE, T0)))
    assert out.dumps[0].entries == () and out.updated == 0 and out.pending_entries == frozenset()
    assert [s.key for s in out.dumps[0].sightings] == [identity("Bridge to reopen")], "the sighting is recorded"


def test_of_two_cut_copies_the_longer_wins():
    longer = post("Bridge to reopen", "The bridge reopens on Monday, the council said.", truncated=True)
    assert decided([dump("n.txt", longer)], snapshot(stored(CUT, T0))).dumps[0].entries[0].entry.text == \
        body_text(longer.body)
    assert decided([dump("n.txt", CUT)], snapshot(stored(longer, T0))).dumps[0].entries == ()


def test_updated_moves_only_on_a_real_change():
    old = stored(WHOLE, T0)
    assert decided([dump("again.txt", WHOLE)], snapshot(old)).dumps[0].entries == (), "the same copy again"
    later = T0 + timedelta(days=2)  # the date moves (other pages), the text does not
    [intent] = decided([dump("again.txt", WHOLE)], snapshot(old), {old.entry.key: (later, "inferred")}
                       ).dumps[0].entries
    assert (intent.entry.published, intent.entry.updated) == (later, later), "no earlier than its date; not now"
    earlier = T0 - timedelta(days=2)
    [intent] = decided([dump("again.txt", WHOLE)], snapshot(old), {old.entry.key: (earlier, "inferred")}
                       ).dumps[0].entries
    assert (intent.entry.published, intent.entry.updated) == (earlier, T0)
    edited = post("Bridge to reopen", "The bridge reopens on Tuesday.", "Engineers replaced two arches.")
    [intent] = decided([dump("edit.txt", edited)], snapshot(old)).dumps[0].entries
    assert intent.entry.updated == NOW, "a whole copy with other text: the post was edited"


def test_an_explicit_date_is_never_replaced_and_a_better_source_always_replaces():
    old = stored(WHOLE, T0, "explicit")
    out = decided([dump("a.txt", WHOLE)], snapshot(old), {old.entry.key: (NOW, "inferred")})
    assert out.dumps[0].entries == ()
    seen = stored(WHOLE, T0, "first-seen")
    out = decided([dump("a.txt", WHOLE)], snapshot(seen), {seen.entry.key: (T0 - timedelta(days=9), "inferred")})
    assert out.dumps[0].entries[0].entry.date_source == "inferred"
    assert out.pending_months == {"2025-02"}


def test_a_new_post_gets_an_id_minted_now_and_a_slug_free_of_the_stored_ones():
    new = post("Hello World")
    taken = snapshot(slugs={"hello-world": frozenset({"hello-world", "hello-world-2"})})
    [intent] = decided([dump("a.txt", new)], taken).dumps[0].entries
    assert intent.entry.slug == "hello-world-3"
    assert intent.entry.id == mint_id(DOMAIN, NOW, "hello-world-3") and intent.entry.first_seen == NOW
    [free] = decided([dump("a.txt", new)], snapshot()).dumps[0].entries
    assert free.entry.slug == "hello-world"


def test_posts_of_one_batch_sharing_a_slug_base_are_numbered_across_dumps():
    one, two = post("Hello, World"), post("Hello World!", "Other text.")  # two keys, one slug base
    assert identity(one.title) != identity(two.title) and slugify(one.title) == slugify(two.title)
    out = decided([dump("a.txt", one), dump("b.txt", two)], snapshot(slugs={"hello-world": frozenset()}))
    assert [d.entries[0].entry.slug for d in out.dumps] == ["hello-world", "hello-world-2"]
    assert out.new == 2


def test_which_slug_bases_the_store_is_asked_about():
    assert may_be_taken(["a", "a", "b", "c", "a-2", "a-2x", "b-3", "d-1"], {"b"}) == {"a", "b", "a-2", "b-3"}
    assert may_be_taken(["x", "y"], set()) == set(), "free bases need no query"


def test_a_post_seen_twice_in_one_dump_is_one_entry():
    out = decided([dump("a.txt", WHOLE, WHOLE)], snapshot())
    assert len(out.dumps[0].entries) == 1 and out.new == 1 and len(out.dumps[0].sightings) == 2


def test_dating_with_a_linked_stored_page():
    """A new page shares a post with a stored page: the new post on top is dated after the shared
    one, which the mentions date; a stored explicit date stays; the stored post below the
    shared one, which the batch does not show, is redated by the batch's pages."""
    new = post("Ferry timetable changes", "No date here.")
    shared = post("Council meets", "The council met on 3 February 2025.")
    below = post("Market day", "Stalls were set up as usual.")
    oldest = post("Harbour news", "Published long ago.")
    page = dump("new.txt", new, shared, written=NOW)
    keys = [identity(p.title) for p in (shared, below, oldest)]
    snap = snapshot(stored(shared, T0), stored(below, T0 - timedelta(days=30)),
                    stored(oldest, datetime(2025, 1, 20, 8, tzinfo=UTC), "explicit"),
                    pages={"old.txt": keys}, written={"old.txt": datetime(2025, 2, 5, tzinfo=UTC)})
    dates = dates_for([page], snap, UTC)
    assert set(dates) == {identity(new.title), *keys}
    assert dates[identity(shared.title)] == (datetime(2025, 2, 3, 12, tzinfo=UTC), "inferred"), "its mention"
    assert dates[identity(new.title)][0] > dates[identity(shared.title)][0]
    assert dates[identity(oldest.title)] == (datetime(2025, 1, 20, 8, tzinfo=UTC), "explicit")
    moved = dates[identity(below.title)]
    assert moved[1] == "inferred" and datetime(2025, 1, 20, 8, tzinfo=UTC) < moved[0] < dates[identity(shared.title)][0]
    out = decide.intents([page], snap, dates, NOW, tz=UTC, domain=DOMAIN)
    assert [i.entry.key for i in out.redated] == [identity(below.title)]
    assert out.redated[0].entry.updated == moved[0], "moved, not edited: updated follows the date"
    alone = dates_for([page], snapshot(), UTC)  # without the stored page, the shared post is dated alone
    assert set(alone) == {identity(new.title), identity(shared.title)}


def test_a_settled_post_keeps_its_stored_date():
    shared = post("Council meets", "The council met on 3 February 2025.")
    edge = stored(shared, datetime(2025, 2, 4, 12, tzinfo=UTC))
    page = dump("new.txt", post("Ferry timetable changes"), shared)
    dates = dates_for([page], snapshot(edge, settled=frozenset({edge.entry.key})), UTC)
    assert dates[edge.entry.key] == (datetime(2025, 2, 4, 12, tzinfo=UTC), "inferred")
