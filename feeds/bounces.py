"""`feeds bounces MAILBOX`: read delivery status notifications (RFC 3464) and take the addresses
that bounced for good off the list.

MAILBOX is an mbox file or a Maildir folder (standard library `mailbox`), such as where the
sender's bounces are delivered. Each message that is a ``multipart/report`` with a
``message/delivery-status`` part is read, per recipient: ``Action: failed`` with a 5.x.x
``Status`` is a hard bounce, and a subscriber on the list becomes ``bounced`` (source
"bounce"); a 4.x.x status (or ``Action: delayed``) is a soft one, only counted: the server may
take the next digest. Other messages are passed over. Reading a mailbox again changes nothing
more. Nothing in the mailbox is changed or removed.

Anyone can mail the bounce address, and a report is easy to forge: a hard bounce is believed only
when the report returns the headers of a digest we sent to that address (RFC 3464 reports carry
them, as ``message/rfc822`` or ``text/rfc822-headers``) and the delivery ledger holds its
Message-ID for that address. With the list's secret set, a Message-ID is keyed by it (see
`feeds.digest.select.message_id`), so a stranger cannot write one. Other reports are named and
passed over: the operator decides (`feeds subscribers remove`).
"""

from __future__ import annotations

import dataclasses
import email
import mailbox
import sys
from collections.abc import Iterator
from datetime import datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from pathlib import Path

from feeds.config import Config
from feeds.errors import FeedsError
from feeds.store import Store
from feeds.store.subscribers import normal_address


@dataclasses.dataclass(frozen=True)
class Bounce:
    """One recipient's line of a delivery status notification."""

    address: str
    hard: bool  # 5.x.x and failed: the address does not take mail
    status: str  # the enhanced status code, such as 5.1.1
    diagnostic: str  # the server's words, if given
    message_id: str = ""  # the Message-ID of the message returned with the report, if it was


def read_reports(msg: Message) -> list[Bounce]:
    """The recipients a message reports as not delivered (none: not a delivery status report)."""
    if msg.get_content_type() != "multipart/report":
        return []
    found = []
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        blocks = payload[1:] if isinstance(payload, list) else []  # (the first: per-message fields)
        for block in blocks:
            bounce = _recipient(block) if isinstance(block, Message) else None
            if bounce is not None:
                found.append(bounce)
    returned = _returned_id(msg)
    return [dataclasses.replace(b, message_id=returned) for b in found]


def _returned_id(msg: Message) -> str:
    """The Message-ID of the message a report returns (whole, or its headers only), or ''."""
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                return str(inner.get("Message-ID") or "").strip()
        elif kind == "text/rfc822-headers":
            text = part.get_payload(decode=True) or b""
            headers = HeaderParser().parsestr(bytes(text).decode("utf-8", "replace"))
            return str(headers.get("Message-ID") or "").strip()
    return ""


def _recipient(block: Message) -> Bounce | None:
    recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
    kind, _, address = recipient.partition(";")
    address = address.strip() if address else kind.strip()
    action = str(block.get("Action") or "").strip().lower()
    status = str(block.get("Status") or "").strip().split(" ")[0]
    if "@" not in address or action not in ("failed", "delayed") or status[:1] not in ("4", "5"):
        return None
    diagnostic = " ".join(str(block.get("Diagnostic-Code") or "").split())
    return Bounce(address.strip("<>"), action == "failed" and status.startswith("5"), status, diagnostic)


def messages(path: Path) -> Iterator[EmailMessage]:
    """Each message of an mbox file or a Maildir folder; FeedsError if it is neither."""
    if path.is_dir():
        if not (path / "cur").is_dir() or not (path / "new").is_dir():
            raise FeedsError(f"bounces: {path} is a folder but no Maildir (no cur/ and new/); name the Maildir "
                             "or an mbox file")
        box: mailbox.Mailbox = mailbox.Maildir(path, factory=None, create=False)
    elif path.is_file():
        box = mailbox.mbox(path, create=False)
    else:
        raise FeedsError(f"bounces: {path} does not exist; name an mbox file or a Maildir folder")
    try:
        for key in sorted(box.keys()):
            yield email.message_from_bytes(box.get_bytes(key), policy=policy.default)
    finally:
        box.close()


@dataclasses.dataclass
class Tally:
    """What a reading found: messages, reports, and the hard bounces by what was done with them."""

    read: int = 0
    reports: int = 0
    soft: int = 0
    marked: int = 0
    known: int = 0
    unmatched: int = 0
    unknown: set[str] = dataclasses.field(default_factory=set)


def run(cfg: Config, path: Path, now: datetime) -> int:
    """Read the mailbox, mark hard bounces, say what was found; the exit status (0)."""
    tally = Tally()
    with Store(cfg.state.path) as store:
        for msg in messages(path):
            tally.read += 1
            found = read_reports(msg)
            tally.reports += bool(found)
            for bounce in found:
                if bounce.hard:
                    _hard_bounce(store, bounce, now, tally)
                else:
                    tally.soft += 1
    for address in sorted(tally.unknown):
        print(f"{address}: bounced, but is not on the list", file=sys.stderr)
    print(f"bounces {path}: {tally.read} message(s), {tally.reports} delivery report(s): {tally.marked} "
          f"address(es) marked bounced, {tally.known} bounced already, {tally.unmatched} naming no digest sent "
          f"to them (passed over), {tally.soft} soft bounce(s) (4.x.x: not marked, the next digest is tried)")
    return 0


def _hard_bounce(store: Store, bounce: Bounce, now: datetime, tally: Tally) -> None:
    try:
        address = normal_address(bounce.address)
    except ValueError as exc:  # (anyone can mail the bounce address)
        print(f"{exc}; passed over", file=sys.stderr)
        return
    if store.subscriber(address) is None:
        tally.unknown.add(address)
    elif not store.was_mailed(bounce.message_id, address):
        tally.unmatched += 1
        returned = f"returns {bounce.message_id}" if bounce.message_id else "returns no message's headers"
        print(f"{address}: a report of a hard bounce that {returned}, no digest sent to this address: passed "
              "over (a forged report, or a server that returns nothing); if the address is gone for good: "
              f"feeds subscribers remove {address}", file=sys.stderr)
    elif store.set_left(address, "bounced", how="bounce", now=now):
        tally.marked += 1
        why = f"{bounce.status}: {bounce.diagnostic}" if bounce.diagnostic else bounce.status
        print(f"{address}: bounced ({why}); it is sent no more digests")
    else:
        tally.known += 1
