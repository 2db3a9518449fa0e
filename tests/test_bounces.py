"""`feeds bounces MAILBOX`: delivery status notifications (RFC 3464) read from a real mbox file and
a real Maildir folder (standard library `mailbox`) take hard-bounced subscribers off the list."""

from __future__ import annotations

import mailbox
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import run_cli

from feeds.store import Store

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
NOW = "2025-03-02T09:00:00+00:00"


#: The Message-IDs of the digests the ledger shows were sent (see project()).
SENT = {"Gone@example.net": "<digest.2025-W09.aaa@example.org>",
        "full@example.org": "<digest.2025-W09.bbb@example.org>",
        "fine@example.org": "<digest.2025-W09.ccc@example.org>"}


def dsn(*recipients: tuple[str, str, str], returned: str | None = "", headers_only: bool = False) -> bytes:
    """A bounce as a mail server writes it: (address, Action, Status) per recipient, returning the
    digest sent to the first (or the message whose Message-ID is `returned`; None: nothing returned)."""
    blocks = "".join(f"\nFinal-Recipient: rfc822; {a}\nAction: {action}\nStatus: {status}\n"
                     f"Diagnostic-Code: smtp; {status[0]}50 {status} mailbox trouble\n"
                     for a, action, status in recipients)
    msg_id = returned if returned != "" else SENT.get(recipients[0][0].replace("Example.NET", "example.net"), "")
    kind = "text/rfc822-headers" if headers_only else "message/rfc822"
    original = (f"--B\nContent-Type: {kind}\n\nMessage-ID: {msg_id}\nSubject: The digest\n\n"
                f"{'' if headers_only else 'Hello'}\n" if returned is not None else "")
    return ("From: MAILER-DAEMON@mx.example.net\nTo: digest@example.org\nSubject: Undelivered Mail Returned\n"
            "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
            "--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n"
            "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n"
            f"{blocks}\n{original}--B--\n").encode()


PLAIN = b"From: someone@example.org\nTo: digest@example.org\nSubject: thanks, 5.1.1 Status: failed\n\nLovely.\n"

MESSAGES = [
    dsn(("Gone@Example.NET", "failed", "5.1.1")),
    dsn(("full@example.org", "delayed", "4.2.2"), ("stranger@example.org", "failed", "5.1.1")),
    PLAIN,
    dsn(("full@example.org", "failed", "4.4.7")),
]


def project(root: Path) -> Path:
    (root / "feeds.toml").write_text('[state]\npath = "state/feeds.sqlite3"\n', encoding="utf-8")
    with Store(root / "state" / "feeds.sqlite3") as store:
        for address in ("Gone@example.net", "full@example.org", "fine@example.org"):
            store.subscribe(address, source="command", now=T0)
        with store.transaction():
            store.set_digest("2025-W09", "mailed", T0, 1, composed=T0, seen_upto=0)
            store.add_deliveries("2025-W09", list(SENT.items()), T0)
        for address in SENT:
            store.mark("2025-W09", address, "sent", T0)
    return root


def as_mbox(root: Path) -> Path:
    box = mailbox.mbox(root / "bounces.mbox")
    for data in MESSAGES:
        box.add(data)
    box.close()
    return root / "bounces.mbox"


def as_maildir(root: Path) -> Path:
    box = mailbox.Maildir(root / "Maildir")
    for data in MESSAGES:
        box.add(data)
    box.close()
    return root / "Maildir"


@pytest.mark.parametrize("make", [as_mbox, as_maildir])
def test_a_hard_bounce_marks_the_subscriber_bounced_and_soft_ones_are_only_counted(tmp_path, make):
    root = project(tmp_path)
    path = make(root)
    proc = run_cli("-c", str(root / "feeds.toml"), "--now", NOW, "bounces", str(path), cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "Gone@example.net: bounced (5.1.1: smtp; 550 5.1.1 mailbox trouble); it is sent no more digests",
        f"bounces {path}: 4 message(s), 3 delivery report(s): 1 address(es) marked bounced, 0 bounced already, "
        "0 naming no digest sent to them (passed over), 2 soft bounce(s) (4.x.x: not marked, the next digest "
        "is tried)"]
    assert proc.stderr.strip() == "stranger@example.org: bounced, but is not on the list"
    with Store(root / "state" / "feeds.sqlite3") as store:
        assert {s.address: (s.status, s.source) for s in store.subscribers()} == {
            "Gone@example.net": ("bounced", "bounce"), "full@example.org": ("active", "command"),
            "fine@example.org": ("active", "command")}
        assert store.history("Gone@example.net")[-1] == ("bounced", "bounce", datetime.fromisoformat(NOW))
    again = run_cli("-c", str(root / "feeds.toml"), "--now", NOW, "bounces", str(path), cwd=root)
    assert "0 address(es) marked bounced, 1 bounced already" in again.stdout


def test_a_mailbox_that_is_not_there_or_no_maildir_is_named(tmp_path):
    root = project(tmp_path)
    missing = run_cli("-c", str(root / "feeds.toml"), "bounces", str(root / "nope"), cwd=root)
    assert missing.returncode == 2 and "does not exist; name an mbox file or a Maildir folder" in missing.stderr
    (root / "folder").mkdir()
    folder = run_cli("-c", str(root / "feeds.toml"), "bounces", str(root / "folder"), cwd=root)
    assert folder.returncode == 2 and "no Maildir (no cur/ and new/)" in folder.stderr


def test_bounces_has_its_help(tmp_path):
    proc = run_cli("bounces", "--help", cwd=tmp_path)
    assert proc.returncode == 0 and "message/delivery-status" in proc.stdout


def test_a_report_naming_no_usable_address_is_passed_over_and_the_rest_read(tmp_path):
    """Anyone can mail the bounce address: a report whose recipient is no address (or its domain no
    valid name) is named and passed over; it does not stop the command before the real bounces."""
    root = project(tmp_path)
    box = mailbox.mbox(root / "bounces.mbox")
    for data in (dsn(("nobody@", "failed", "5.1.1")), dsn(("x@exa\u00admple..org", "failed", "5.1.1")),
                 MESSAGES[0]):
        box.add(data)
    box.close()
    proc = run_cli("-c", str(root / "feeds.toml"), "--now", NOW, "bounces", str(root / "bounces.mbox"), cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "1 address(es) marked bounced" in proc.stdout
    assert "'nobody@' is not an address like name@example.org; passed over" in proc.stderr
    with Store(root / "state" / "feeds.sqlite3") as store:
        assert store.subscriber("Gone@example.net").status == "bounced"


def test_a_report_that_returns_no_digest_sent_to_the_address_is_passed_over(tmp_path):
    """Anyone can mail the bounce address a report naming a subscriber: it is believed only when it
    returns a digest the ledger shows was sent to that address, whole or its headers only."""
    root = project(tmp_path)
    box = mailbox.mbox(root / "bounces.mbox")
    for data in (dsn(("fine@example.org", "failed", "5.1.1"), returned=None),  # nothing returned
                 dsn(("fine@example.org", "failed", "5.1.1"), returned=SENT["full@example.org"]),  # another's
                 dsn(("fine@example.org", "failed", "5.1.1"), returned="<digest.2025-W09.zzz@example.org>"),
                 dsn(("full@example.org", "failed", "5.1.1"), headers_only=True)):  # (the real one)
        box.add(data)
    box.close()
    proc = run_cli("-c", str(root / "feeds.toml"), "--now", NOW, "bounces", str(root / "bounces.mbox"), cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "1 address(es) marked bounced, 0 bounced already, 3 naming no digest sent to them" in proc.stdout
    assert proc.stderr.count("fine@example.org: a report of a hard bounce that returns") == 3
    assert "feeds subscribers remove fine@example.org" in proc.stderr
    with Store(root / "state" / "feeds.sqlite3") as store:
        assert store.subscriber("fine@example.org").status == "active"
        assert store.subscriber("full@example.org").status == "bounced"


def test_with_the_secret_set_nobody_without_it_can_write_a_digests_message_id(tmp_path, monkeypatch):
    """The Message-ID is made from public things (the list's id, the week, the address): with the
    list's secret set it is keyed by it, so a forged report cannot name it."""
    from feeds import config as config_mod
    from feeds.digest.select import message_id

    cfg = config_mod.parse({"site": {"title": "T", "url": "https://example.org/", "timezone": "UTC"},
                            "web": {"url": "https://example.org/list/"}})
    monkeypatch.delenv("FEEDS_SECRET", raising=False)
    public = message_id("2025-W09", "ann@example.org", cfg)
    monkeypatch.setenv("FEEDS_SECRET", "s" * 43)
    keyed = message_id("2025-W09", "ann@example.org", cfg)
    monkeypatch.setenv("FEEDS_SECRET", "t" * 43)
    other = message_id("2025-W09", "ann@example.org", cfg)
    assert len({public, keyed, other}) == 3
    monkeypatch.setenv("FEEDS_SECRET", "s" * 43)
    assert message_id("2025-W09", "ANN@example.org", cfg) == keyed  # (the same digest: the same id)
    assert all(m.startswith("<digest.2025-W09.") and m.endswith("@example.org>") for m in (public, keyed))
