"""The mailing list in the store (feeds.store.subscribers), on a real SQLite file: how each way of
joining and leaving moves a subscriber, the history it leaves, and the confirmation mails' counts
(which hold across connections: the endpoint's rate limit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feeds.store import Store
from feeds.store.subscribers import normal_address

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "state" / "feeds.sqlite3") as s:
        yield s


def test_a_form_request_is_pending_until_confirmed(store):
    sub = store.subscribe("ann@Example.ORG", "Ann", source="form", now=T0)
    assert (sub.address, sub.name, sub.status, sub.source, sub.sent) == ("ann@example.org", "Ann", "pending", "form", 0)
    assert store.active_addresses() == []
    assert store.confirm("ann@EXAMPLE.org", now=T0 + timedelta(minutes=5))
    sub = store.subscriber("ann@example.org")
    assert (sub.status, sub.source, sub.changed, sub.created) == ("active", "confirm", T0 + timedelta(minutes=5), T0)
    assert store.active_addresses() == [("ann@example.org", "Ann")]
    assert not store.confirm("ann@example.org", now=T0), "confirming twice changes nothing"


def test_the_operator_and_the_config_add_active_subscribers(store):
    for i, source in enumerate(("command", "import", "config")):
        assert store.subscribe(f"s{i}@example.org", source=source, now=T0).status == "active"
    assert [a for a, _ in store.active_addresses()] == ["s0@example.org", "s1@example.org", "s2@example.org"]


def test_a_form_request_for_an_active_subscriber_changes_nothing(store):
    store.subscribe("a@example.org", source="command", now=T0)
    sub = store.subscribe("a@example.org", source="form", now=T0 + timedelta(days=1))
    assert (sub.status, sub.source, sub.changed) == ("active", "command", T0)
    assert len(store.history("a@example.org")) == 1


def test_one_who_left_comes_back_only_by_confirming_or_by_the_operator(store):
    store.subscribe("a@example.org", source="config", now=T0)
    assert store.unsubscribe("a@example.org", how="one-click", now=T0 + timedelta(hours=1))
    assert not store.unsubscribe("a@example.org", how="one-click", now=T0 + timedelta(hours=2))
    for source in ("config", "import"):
        assert store.subscribe("a@example.org", source=source, now=T0 + timedelta(days=1)).status == "unsubscribed"
    assert store.subscribe("a@example.org", source="form", now=T0 + timedelta(days=2)).status == "pending"
    assert store.confirm("a@example.org", now=T0 + timedelta(days=2, minutes=1))
    assert store.set_left("a@example.org", "bounced", how="bounce", now=T0 + timedelta(days=3))
    assert store.subscribe("a@example.org", source="config", now=T0 + timedelta(days=4)).status == "bounced"
    assert store.subscribe("a@example.org", source="command", now=T0 + timedelta(days=5)).status == "active"
    assert store.history("a@example.org") == [
        ("active", "config", T0), ("unsubscribed", "one-click", T0 + timedelta(hours=1)),
        ("pending", "form", T0 + timedelta(days=2)), ("active", "confirm", T0 + timedelta(days=2, minutes=1)),
        ("bounced", "bounce", T0 + timedelta(days=3)), ("active", "command", T0 + timedelta(days=5))]


def test_an_import_confirms_a_pending_subscriber_and_names_are_kept_up_to_date(store):
    store.subscribe("a@example.org", "A", source="form", now=T0)
    sub = store.subscribe("a@example.org", "Ann Lee", source="import", now=T0 + timedelta(hours=1))
    assert (sub.status, sub.source, sub.name) == ("active", "import", "Ann Lee")
    assert store.subscribe("a@example.org", source="config", now=T0).name == "Ann Lee", "no name: the name stays"


def test_unknown_addresses_are_neither_confirmed_nor_unsubscribed(store):
    assert not store.confirm("x@example.org", now=T0)
    assert not store.unsubscribe("x@example.org", how="one-click", now=T0)
    assert store.subscriber("x@example.org") is None and store.subscribers() == []


def test_addresses_are_normalised_in_the_domain_only(store):
    assert normal_address(" Ann@Example.ORG ") == "Ann@example.org"
    assert normal_address("ann@bücher.example") == "ann@xn--bcher-kva.example"
    store.subscribe("Ann@example.org", source="command", now=T0)
    store.subscribe("ann@example.org", source="command", now=T0)
    assert [s.address for s in store.subscribers()] == ["Ann@example.org", "ann@example.org"]
    assert store.subscriber("Ann@EXAMPLE.org").address == "Ann@example.org"
    with pytest.raises(ValueError):
        normal_address("no-at-sign")


def test_subscribers_are_listed_by_status(store):
    store.subscribe("p@example.org", source="form", now=T0)
    store.subscribe("a@example.org", source="command", now=T0)
    store.subscribe("u@example.org", source="command", now=T0)
    store.unsubscribe("u@example.org", how="command", now=T0)
    assert [s.address for s in store.subscribers("active")] == ["a@example.org"]
    assert [s.address for s in store.subscribers("pending")] == ["p@example.org"]
    assert [s.address for s in store.subscribers("unsubscribed")] == ["u@example.org"]
    with pytest.raises(ValueError):
        store.subscribers("gone")


def test_digests_sent_come_from_the_ledger(store):
    store.subscribe("Ann@example.org", source="command", now=T0)
    with store.transaction():
        for period in ("2025-W01", "2025-W02", "2025-W03"):
            store.set_digest(period, "mailed", T0, 1, composed=T0, seen_upto=0)
            store.add_deliveries(period, [("Ann@example.org", f"<{period}@x>")], T0)
    store.mark("2025-W01", "Ann@example.org", "sent", T0)
    store.mark("2025-W02", "Ann@example.org", "sent", T0)
    store.mark("2025-W03", "Ann@example.org", "failed", T0)
    assert store.subscriber("Ann@example.org").sent == 2


def test_confirmation_mails_are_counted_by_address_and_client_across_connections(tmp_path):
    path = tmp_path / "feeds.sqlite3"
    with Store(path) as one:
        for minutes in (0, 10, 20):
            one.note_confirmation_mail("a@Example.org", "192.0.2.1", now=T0 + timedelta(minutes=minutes))
        one.note_confirmation_mail("b@example.org", "192.0.2.1", now=T0 + timedelta(minutes=30))
    with Store(path) as two:  # another process, or the endpoint after a restart
        hour_ago = T0 + timedelta(minutes=30) - timedelta(hours=1)
        assert two.confirmation_mails_since(address="a@example.org", since=hour_ago) == 3
        assert two.confirmation_mails_since(client="192.0.2.1", since=hour_ago) == 4
        assert two.confirmation_mails_since(address="a@example.org", since=T0 + timedelta(minutes=5)) == 2
        assert two.confirmation_mails_since(client="198.51.100.7", since=hour_ago) == 0
        two.note_confirmation_mail("c@example.org", "198.51.100.7", now=T0 + timedelta(days=2))
        rows = two.db.execute("SELECT count(*) FROM confirmation_mails").fetchone()[0]
        assert rows == 1, "rows older than a day are pruned"
    with Store(path) as three, pytest.raises(ValueError):
        three.confirmation_mails_since(since=T0)


def test_the_config_is_kept_in_step_but_never_brings_back_one_who_left_by_themselves(store):
    found, gone = store.sync_config([("a@example.org", "Ann"), ("b@example.org", "")], now=T0)
    assert [(s.address, s.status, s.source) for s in found] == [
        ("a@example.org", "active", "config"), ("b@example.org", "active", "config")] and gone == []
    store.unsubscribe("b@example.org", how="one-click", now=T0 + timedelta(hours=1))
    store.subscribe("c@example.org", source="command", now=T0)
    found, gone = store.sync_config([("b@example.org", "")], now=T0 + timedelta(days=1))
    assert [(s.address, s.status) for s in found] == [("b@example.org", "unsubscribed")]
    assert gone == ["a@example.org"], "only the one the config added, not c (the operator's)"
    assert store.subscriber("a@example.org").source == "config"
    assert [a for a, _ in store.active_addresses()] == ["c@example.org"]
    found, _ = store.sync_config([("a@example.org", ""), ("b@example.org", "")], now=T0 + timedelta(days=2))
    assert [s.status for s in found] == ["active", "unsubscribed"], "a comes back; b left by a click"


def test_recording_one_who_left_adds_them_so_or_moves_an_active_one_but_not_one_who_left(store):
    assert store.record_left("new@example.org", "unsubscribed", how="import", now=T0, name="New")
    assert (store.subscriber("new@example.org").status, store.subscriber("new@example.org").name) == (
        "unsubscribed", "New")
    assert store.subscribe("new@example.org", source="import", now=T0).status == "unsubscribed"
    store.subscribe("act@example.org", source="command", now=T0)
    assert store.record_left("act@example.org", "bounced", how="import", now=T0)
    assert not store.record_left("act@example.org", "unsubscribed", how="import", now=T0), "bounced stays"
    assert store.history("new@example.org") == [("unsubscribed", "import", T0)]
    with pytest.raises(ValueError):
        store.record_left("x@example.org", "active", how="import", now=T0)


def test_a_form_request_for_one_who_left_does_not_let_the_config_or_an_import_bring_them_back(store):
    """Anyone may type an address into the form. For one who unsubscribed it makes them pending again;
    the config still listing them (or an import) must not then take that for a confirmation: only
    their click, or the operator's `add`, brings them back."""
    store.sync_config([("a@example.org", "")], now=T0)
    store.subscribe("b@example.org", source="import", now=T0)
    for address in ("a@example.org", "b@example.org"):
        assert store.unsubscribe(address, how="one-click", now=T0 + timedelta(hours=1))
        assert store.subscribe(address, source="form", now=T0 + timedelta(hours=2)).status == "pending"
    found, _ = store.sync_config([("a@example.org", "")], now=T0 + timedelta(days=1))
    assert [s.status for s in found] == ["pending"]
    assert store.subscribe("b@example.org", source="import", now=T0 + timedelta(days=1)).status == "pending"
    assert store.active_addresses() == []
    assert store.confirm("a@example.org", now=T0 + timedelta(days=1, minutes=1))
    assert store.subscribe("b@example.org", source="command", now=T0 + timedelta(days=2)).status == "active"
    # One the config itself took off (and a form request since) comes back with the config, as before.
    store.sync_config([("c@example.org", "")], now=T0 + timedelta(days=3))
    assert store.sync_config([], now=T0 + timedelta(days=4))[1] == ["c@example.org"]
    store.subscribe("c@example.org", source="form", now=T0 + timedelta(days=4, hours=1))
    found, _ = store.sync_config([("c@example.org", "")], now=T0 + timedelta(days=5))
    assert [s.status for s in found] == ["active"]


def test_unsubscribing_takes_off_every_spelling_of_the_address_that_the_digest_merges(store):
    """The config lists Ana@example.org; she also subscribed as ana@example.org. A digest goes to one of
    them (addresses that differ only in case are one recipient to the pass), so her one click names that
    one: the other must not bring her the next digest."""
    store.sync_config([("Ana@example.org", "")], now=T0)
    store.subscribe("ana@example.org", source="form", now=T0)
    assert store.confirm("ana@example.org", now=T0)
    assert store.unsubscribe("Ana@example.org", how="one-click", now=T0 + timedelta(days=1))
    assert store.active_addresses() == []
    assert store.history("ana@example.org")[-1] == ("unsubscribed", "one-click", T0 + timedelta(days=1))
    assert not store.unsubscribe("ANA@example.org", how="one-click", now=T0 + timedelta(days=2))
