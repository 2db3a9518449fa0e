"""The mailing list: subscribers, every change of their status, and the confirmation mails sent.

A subscriber is an address (normalised: the local part as given, the domain lower-cased,
IDNA for a non-ASCII one), a name, a status and how and when it was reached:

    (new) ──form──▶ pending ──confirm──▶ active ──one-click, command──▶ unsubscribed
    (new) ──command, import, config──▶ active        ──bounce──▶ bounced (or complained)

A form request for an active subscriber changes nothing; for one who left (unsubscribed,
bounced, complained) it makes them pending again: they must confirm. An import or the
config's recipients never bring back one who left; `feeds subscribers add` (source
"command", the operator's own decision) does. The config's recipients are kept in step with
it (`sync_config`): one it added and no longer lists is unsubscribed, by "config", and only
that one comes back when the config lists it again. Every change is recorded in
subscriber_events. Each method is one transaction (or part of the caller's, if one is open);
`now` is passed in. What a subscriber was sent is read from the delivery ledger.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta

from feeds.store.base import Tables, from_iso, iso

STATUSES = ("pending", "active", "unsubscribed", "bounced", "complained")
SOURCES = ("form", "import", "command", "config", "one-click", "confirm", "bounce")

#: Statuses of one who left the list: only they themselves bring them back (form, then confirm),
#: or the operator (`feeds subscribers add`).
LEFT = ("unsubscribed", "bounced", "complained")

#: Confirmation mails older than this are pruned (the rate limits count within an hour).
KEEP_MAILS = timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class Subscriber:
    address: str
    name: str
    status: str
    source: str  # how the status was reached
    changed: datetime  # when
    created: datetime
    sent: int  # digests delivered to it (the ledger's sent rows)


def normal_address(address: str) -> str:
    """An address as the list keeps it: the local part as given, the domain lower-cased (IDNA,
    ASCII, for a non-ASCII one). ValueError for text with no '@' or with a domain IDNA refuses."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        raise ValueError(f"{address!r} is not an address like name@example.org")
    domain = domain.lower()
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError(f"{address!r}: its domain is not a valid international name ({exc})") from None
    return f"{local}@{domain}"


_SELECT = ("SELECT s.address, s.name, s.status, s.source, s.changed, s.created, "
           "(SELECT count(*) FROM deliveries d WHERE d.recipient = s.address COLLATE NOCASE "
           "AND d.status = 'sent') FROM subscribers s")


def _subscriber(row: sqlite3.Row) -> Subscriber:
    return Subscriber(row[0], row[1], row[2], row[3], from_iso(row[4]), from_iso(row[5]), row[6])


class Subscribers(Tables):
    transaction: Callable[[], AbstractContextManager[None]]

    @contextmanager
    def _one(self) -> Iterator[None]:
        """One transaction, or the caller's if one is open."""
        if self.db.in_transaction:
            yield
        else:
            with self.transaction():
                yield

    def subscriber(self, address: str) -> Subscriber | None:
        row = self.db.execute(_SELECT + " WHERE s.address = ?", (normal_address(address),)).fetchone()
        return _subscriber(row) if row else None

    def subscribers(self, status: str | None = None) -> list[Subscriber]:
        """Every subscriber (or those with that status), by address."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"{status!r} is not a status ({', '.join(STATUSES)})")
        where, args = (" WHERE s.status = ?", (status,)) if status else ("", ())
        return [_subscriber(r) for r in self.db.execute(_SELECT + where + " ORDER BY s.address", args)]

    def subscriber_counts(self) -> dict[str, int]:
        """How many subscribers have each status (every status named, 0 or more)."""
        counts = dict.fromkeys(STATUSES, 0)
        counts.update(self.db.execute("SELECT status, count(*) FROM subscribers GROUP BY status").fetchall())
        return counts

    def active_addresses(self) -> list[tuple[str, str]]:
        """(address, name) of every active subscriber, by address: whom a digest goes to."""
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT address, name FROM subscribers WHERE status = 'active' ORDER BY address")]

    def is_active(self, address: str) -> bool:
        """Is `address` (in any case: a pass mails the spellings as one) an active subscriber now?"""
        return self.db.execute("SELECT 1 FROM subscribers WHERE address = ? COLLATE NOCASE AND status = 'active'",
                               (normal_address(address),)).fetchone() is not None

    def subscribe(self, address: str, name: str = "", *, source: str, now: datetime) -> Subscriber:
        """Record a request to join (see the module's docstring); the subscriber as it is then."""
        if source not in ("form", "command", "import", "config"):
            raise ValueError(f"{source!r} is not a way to subscribe (form, command, import, config)")
        address = normal_address(address)
        with self._one():
            row = self.db.execute("SELECT status, source, name FROM subscribers WHERE address = ?",
                                  (address,)).fetchone()
            if row is None:
                self.db.execute("INSERT INTO subscribers (address, name, status, source, changed, created) "
                                "VALUES (?, ?, 'pending', ?, ?, ?)", (address, name, source, iso(now), iso(now)))
                status, how = None, None
            else:
                status, how = row[0], row[1]
                if name and name != row[2] and not (source == "form" and status == "active"):  # (anyone's form)
                    self.db.execute("UPDATE subscribers SET name = ? WHERE address = ?", (name, address))
            if status == "pending" and source in ("import", "config"):
                status, how = self.left_before(address) or (status, how)
            target = _joined(status, how, source)
            if target is not None and target != status:
                self._change(address, target, source, now)
        found = self.subscriber(address)
        assert found is not None
        return found

    def left_before(self, address: str) -> tuple[str, str] | None:
        """(status, source) of the last time this subscriber left the list, if it ever did: one who
        left and is pending again (anyone may type an address into the form) is still one who left
        for an import or the config, until they confirm."""
        row = self.db.execute(f"SELECT status, source FROM subscriber_events WHERE address = ? AND status IN "
                              f"({','.join('?' * len(LEFT))}) ORDER BY rowid DESC LIMIT 1", (address, *LEFT)).fetchone()
        return (row[0], row[1]) if row else None

    def sync_config(self, listed: Sequence[tuple[str, str]], *, now: datetime) -> tuple[list[Subscriber], list[str]]:
        """The config's recipients, (address, name) each: each is subscribed (source "config"); an
        active subscriber the config added (source "config") and no longer lists is unsubscribed
        (source "config", so that listing it again brings it back). One transaction. (The listed
        ones as they are then, and the addresses taken off.)"""
        with self._one():
            found = [self.subscribe(address, name, source="config", now=now) for address, name in listed]
            keep = {s.address for s in found}
            gone = [r[0] for r in self.db.execute(
                "SELECT address FROM subscribers WHERE status = 'active' AND source = 'config' ORDER BY address")
                if r[0] not in keep]
            for address in gone:
                self._change(address, "unsubscribed", "config", now)
        return found, gone

    def confirm(self, address: str, *, now: datetime) -> bool:
        """pending -> active (source "confirm"); False, and nothing changed, for any other status."""
        with self._one():
            return self._change(normal_address(address), "active", "confirm", now, only_from=("pending",))

    def unsubscribe(self, address: str, *, how: str, now: datetime) -> bool:
        """-> unsubscribed, recorded with `how` (one-click, command, form, import); False if unknown or
        unsubscribed already. Every spelling of the address that differs only in case goes with it:
        a pass mails them as one recipient (mail.subscribed), so one click must stop them all."""
        with self._one():
            same = [r[0] for r in self.db.execute("SELECT address FROM subscribers WHERE address = ? COLLATE NOCASE",
                                                  (normal_address(address),))]
            return any([self._change(a, "unsubscribed", how, now, only_from=("pending", "active", "bounced",
                                                                             "complained")) for a in same])

    def set_left(self, address: str, status: str, *, how: str, now: datetime) -> bool:
        """-> bounced or complained (a bounce, a complaint); False if unknown or so already."""
        if status not in ("bounced", "complained"):
            raise ValueError(f"{status!r}: bounced or complained")
        with self._one():
            return self._change(normal_address(address), status, how, now,
                                only_from=tuple(s for s in STATUSES if s != status))

    def record_left(self, address: str, status: str, *, how: str, now: datetime, name: str = "") -> bool:
        """Record that `address` left the list (unsubscribed, bounced, complained), as an import of
        an exported list or `subscribers remove` of an address not yet on it says: a new one is
        added so (then neither the config nor an import adds it); a pending or active one moves
        to it; one who left already stays as it is. Was anything recorded?"""
        if status not in LEFT or how not in SOURCES:
            raise ValueError(f"{status!r} by {how!r}: a status of one who left ({', '.join(LEFT)}), by a source")
        address = normal_address(address)
        with self._one():
            if self.db.execute("SELECT 1 FROM subscribers WHERE address = ?", (address,)).fetchone() is None:
                self.db.execute("INSERT INTO subscribers (address, name, status, source, changed, created) "
                                "VALUES (?, ?, ?, ?, ?, ?)", (address, name, status, how, iso(now), iso(now)))
                return self._change(address, status, how, now)
            return self._change(address, status, how, now, only_from=("pending", "active"))

    def history(self, address: str) -> list[tuple[str, str, datetime]]:
        """(status, source, when) of each change of this subscriber, oldest first."""
        return [(r[0], r[1], from_iso(r[2])) for r in self.db.execute(
            "SELECT status, source, at FROM subscriber_events WHERE address = ? ORDER BY at, rowid",
            (normal_address(address),))]

    def _change(self, address: str, status: str, source: str, now: datetime,
                only_from: tuple[str, ...] | None = None) -> bool:
        """Move to `status` (from one of `only_from`, if given), recording it; was it moved?"""
        if source not in SOURCES:
            raise ValueError(f"{source!r} is not a source ({', '.join(SOURCES)})")
        sql, args = "UPDATE subscribers SET status = ?, source = ?, changed = ? WHERE address = ?", [
            status, source, iso(now), address]
        if only_from is not None:
            sql += f" AND status IN ({','.join('?' * len(only_from))})"
            args += only_from
        if self.db.execute(sql, args).rowcount == 0:
            return False
        self.db.execute("INSERT INTO subscriber_events (address, status, source, at) VALUES (?, ?, ?, ?)",
                        (address, status, source, iso(now)))
        return True

    # -- confirmation mails: the endpoint's rate limits ---------------------------------------
    def note_confirmation_mail(self, address: str, client: str, *, now: datetime) -> None:
        """A confirmation mail was sent to `address` at the request of `client`; rows older than
        KEEP_MAILS are pruned in the same transaction."""
        with self._one():
            self.db.execute("DELETE FROM confirmation_mails WHERE at < ?", (iso(now - KEEP_MAILS),))
            self.db.execute("INSERT INTO confirmation_mails (address, client, at) VALUES (?, ?, ?)",
                            (normal_address(address), client, iso(now)))

    def confirmation_mails_since(self, *, address: str | None = None, client: str | None = None,
                                 since: datetime) -> int:
        """How many confirmation mails went to `address` (or at the request of `client`) since then."""
        if (address is None) == (client is None):
            raise ValueError("count by address or by client, one of them")
        column, value = ("address", normal_address(address)) if address is not None else ("client", client)
        return self.db.execute(f"SELECT count(*) FROM confirmation_mails WHERE {column} = ? AND at >= ?",
                               (value, iso(since))).fetchone()[0]


def _joined(status: str | None, how: str | None, source: str) -> str | None:
    """The status a request to join from `source` leads to from `status`, reached `how` (None: a new
    subscriber); None: unchanged."""
    if source == "form":
        return "pending" if status is None or status in LEFT else None
    if source == "command":
        return "active"
    if source == "config" and (status, how) == ("unsubscribed", "config"):
        return "active"  # the config took them off the list (sync_config), and lists them again
    return "active" if status in (None, "pending") else None  # import, config: never one who left
