"""`feeds bounces MAILBOX`: read delivery status notifications (RFC 3464) and take the addresses
that bounced for good off the list.

MAILBOX is an mbox file or a Maildir folder (standard library `mailbox`), such as where the
sender's bounces are delivered. Each message that is a ``multipart/report`` with a
``message/delivery-status`` part is read, per recipient: ``Action: failed`` with a 5.x.x
``Status`` is a hard bounce, and a subscriber on the list becomes ``bounced`` (source
"bounce"); a 4.x.x status (or ``Action: delayed``) is a soft one, only counted: the server may
take the next digest. Other messages are passed over. Reading a mailbox again changes nothing
more. Nothing in the mailbox is changed or removed.
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
    return found


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


def run(cfg: Config, path: Path, now: datetime) -> int:
    """Read the mailbox, mark hard bounces, say what was found; the exit status (0)."""
    read = reports = soft = 0
    marked: list[str] = []
    known: list[str] = []
    unknown: set[str] = set()
    with Store(cfg.state.path) as store:
        for msg in messages(path):
            read += 1
            found = read_reports(msg)
            reports += bool(found)
            for bounce in found:
                if not bounce.hard:
                    soft += 1
                    continue
                try:
                    address = normal_address(bounce.address)
                except ValueError as exc:  # (anyone can mail the bounce address)
                    print(f"{exc}; passed over", file=sys.stderr)
                    continue
                if store.subscriber(address) is None:
                    unknown.add(address)
                elif store.set_left(address, "bounced", how="bounce", now=now):
                    marked.append(address)
                    why = f"{bounce.status}: {bounce.diagnostic}" if bounce.diagnostic else bounce.status
                    print(f"{address}: bounced ({why}); it is sent no more digests")
                else:
                    known.append(address)
    for address in sorted(unknown):
        print(f"{address}: bounced, but is not on the list", file=sys.stderr)
    print(f"bounces {path}: {read} message(s), {reports} delivery report(s): {len(marked)} address(es) marked "
          f"bounced, {len(known)} bounced already, {soft} soft bounce(s) (4.x.x: not marked, the next digest "
          "is tried)")
    return 0
