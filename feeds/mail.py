"""Delivering ready messages through the ledger: over SMTP, or as .eml files in the outbox.

The ledger (table `deliveries`) holds one row per (period, recipient). Each step is
committed, and synced to disk, before the next one starts:

    pending ──(MAIL FROM and RCPT TO accepted)──▶ sending ──(250 after DATA)──▶ sent
       │  └──(5xx to RCPT TO)──▶ failed                ├──(4xx / 5xx reply)──▶ pending / failed
       │  └──(4xx to RCPT TO, or no answer to it within mail.timeout, or the connection closed at
       │      it: this recipient's temporary failure, retried with backoff on a new connection,
       │      then left pending for the next pass; the rest go on. No answer for three recipients
       │      in a row: the server cannot take mail, as below)
       │  └──(no connection, or the server refuses it or the sender: nobody's fault; this
       │      recipient and the rest stay pending for the next pass)
       └──(the address is no longer an active subscriber)──▶ cancelled
                                                      └──(no reply: the connection dropped,
                                                         or the process died)──▶ unknown

A row is `sending` only while the message is being handed over. If the process dies
then, nobody knows whether the server took the message. feeds errs on the side of
not sending twice: such a row becomes `unknown`, is reported, and is not sent again
(the recipient may miss that digest; nobody gets it twice). Written to the outbox
instead, a message is simply written again: the file is the same either way.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from email.headerregistry import Address
from urllib.parse import urlsplit

from feeds import addresses, tokens
from feeds.addresses import parse_address
from feeds.config import Config
from feeds.errors import ConfigError
from feeds.store import Row, Store, Subscriber
from feeds.transport import Ambiguous, Outbox, Reply, Smtp, Unanswered, Unavailable

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclasses.dataclass
class Delivery:
    """What delivering did, for the summary line and the exit status."""

    via: str = ""
    sent: int = 0
    deferred: list[str] = dataclasses.field(default_factory=list)  # "period recipient: reply"
    failed: list[str] = dataclasses.field(default_factory=list)
    unknown: list[str] = dataclasses.field(default_factory=list)
    held: int = 0  # not tried because feeds was asked to stop (SIGTERM, Ctrl-C): pending for the next pass
    refused: list[str] = dataclasses.field(default_factory=list)  # why the config may not mail (see refusals)
    held_back: int = 0  # messages not mailed because of `refused`: pending for a pass with a fixed config
    named: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (period, recipient) of the
    # failed and unknown deliveries in `failed` and `unknown`: once said, Store.set_named(named)

    @property
    def problems(self) -> list[str]:
        return ([f"digest not mailed ({self.held_back} message(s) wait for a pass with this fixed): {r}"
                 for r in self.refused]
                + [f"digest not delivered (will retry next pass): {d}" for d in self.deferred]
                + [f"digest refused: {f}" for f in self.failed]
                + [f"digest may or may not have been delivered (not sent again): {u}" for u in self.unknown])


def recipients(config: Config) -> tuple[list[Address], list[str]]:
    """The configured recipients, each once, and the problems with the file's lines."""
    found: dict[str, Address] = {}
    problems: list[str] = []
    for text in config.digest.recipients:  # checked when the config was loaded
        addr = parse_address(text)
        found.setdefault(addr.addr_spec.lower(), addr)
    path = config.digest.recipients_file
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError("digest.recipients_file", str(path),
                              f"a readable UTF-8 file with one address per line ({exc})", config.source) from None
        for number, line in enumerate(lines, 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            try:
                addr = parse_address(text)
            except ValueError as exc:
                problems.append(f"{path}:{number}: {exc}; skipped")
                continue
            found.setdefault(addr.addr_spec.lower(), addr)
    return list(found.values()), problems


def subscribed(store: Store, config: Config, configured: Sequence[Address], now: datetime
               ) -> tuple[list[Address], list[str]]:
    """Whom the digest goes to: the list's active subscribers, with their names, after the
    configured recipients (`recipients`) are brought into it (Store.sync_config: each imported
    as active, one the config added and no longer lists taken off; one who left stays out). A
    recipients file that lists no valid address (being rewritten, say) is not brought in: it
    would take everyone it added off the list. (active, the configured addresses kept out, each
    as "address (status)")."""
    listed: list[Subscriber] = []
    if config.digest.recipients_file is None or configured:
        listed, _ = store.sync_config([(a.addr_spec, a.display_name) for a in configured], now=now)
    active: dict[str, Address] = {}
    for address, name in store.active_addresses():
        active.setdefault(address.lower(), _address(address, name))
    return list(active.values()), [f"{s.address} ({s.status})" for s in listed if s.status != "active"]


def _address(address: str, name: str) -> Address:
    user, _, domain = address.rpartition("@")
    return Address(display_name=name, username=user, domain=domain)


def secret_refusal(config: Config) -> list[str]:
    """With [web] url set the digest carries signed unsubscribe links: without the secret that
    signs them it is not mailed (nor written to the outbox)."""
    if not config.web.url:
        return []
    try:
        tokens.secret(config)
    except ConfigError as exc:
        return [f"[web] url is set, so every digest carries a signed unsubscribe link, but {exc.expected}"]
    return []


# -- what may be mailed ------------------------------------------------------------------

def loopback(host: str) -> bool:
    """Is `host` this machine: localhost (or a name under .localhost), 127.0.0.0/8, ::1 or 0.0.0.0?"""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified


def _public_domain(domain: str) -> bool:
    """A dotted DNS name that is not this machine (nor an IP address: mail wants a domain)."""
    try:
        ipaddress.ip_address(domain.strip("[]"))
        return False
    except ValueError:
        pass
    return "." in domain.strip(".") and not loopback(domain)


def claims(config: Config, domain: str) -> bool:
    """Does the configuration claim `domain` as the site's: site.url's host, or a parent domain of it?"""
    host = (urlsplit(config.site.url).hostname or "").rstrip(".").lower()
    domain = domain.rstrip(".").lower()
    return _public_domain(host) and "." in domain and (host == domain or host.endswith("." + domain))


def refusals(config: Config) -> list[str]:
    """Why a digest must not be mailed over SMTP with this configuration (none: it may be).

    - site.base_url on this machine (loopback): every link in the email would be dead for
      every reader. (Written to the outbox, a digest is mailed to no one: no refusal.)
    - a sender on a domain the configuration does not claim. Receiving servers check the
      sender's domain against its SPF and DMARC records, and reject or junk mail its owner
      did not authorise. The rule: digest.sender set explicitly (on a public domain: the
      operator vouches for it), or else the default digest@<domain> where the domain is
      site.url's host; with site.url empty it would be base_url's, which says where out/ is
      served, not which domain's mail this server may send.
    """
    problems = []
    base = urlsplit(config.site.base_url).hostname or ""
    if loopback(base):
        problems.append(f"site.base_url = {config.site.base_url!r} is a loopback address, so every link in the "
                        "digest would be dead for every reader; set [site] base_url to the public address where "
                        "out/ is served, such as 'https://example.org/feeds/' (or leave [mail] host empty to "
                        "write the digest to the outbox instead)")
    spf = ("receiving servers check a sender's domain against its SPF and DMARC records and reject or junk "
           "mail that domain's owner has not authorised")
    sender = addresses.sender(config)
    if config.digest.sender:
        if not _public_domain(sender.domain):
            problems.append(f"digest.sender = {config.digest.sender!r} is not on a public domain; {spf}: set "
                            "[digest] sender to an address on a domain whose SPF and DMARC allow mail.host to "
                            "send for it, such as 'Digest <digest@example.org>'")
    elif not claims(config, sender.domain):
        where = (f"site.url = {config.site.url!r} has no public domain" if config.site.url else
                 f"site.url is empty, so the domain comes from site.base_url ({config.site.base_url!r}), which "
                 "says where out/ is served, not whose mail this is")
        problems.append(f"the digest's sender would be {sender.addr_spec}, on a domain this configuration does not "
                        f"claim: {where}; {spf}. Set [site] url to the site's address (the sender becomes "
                        "digest@<its host>), or [digest] sender to an address on a domain whose SPF and DMARC "
                        "allow mail.host to send for it")
    return problems


# -- delivering through the ledger -------------------------------------------------------

#: RCPT TO unanswered (every attempt) for this many recipients in a row: the trouble is the
#: server's, not theirs; the rest are not tried, each would wait mail.timeout per attempt.
UNANSWERED_IN_A_ROW = 3


#: Makes the ready message of a (period, recipient) of the ledger: (period, the recipient as the
#: ledger has it, the address to write in To, the Message-ID) -> the message's bytes.
Messages = Callable[[str, str, Address, str], bytes]


def deliver(store: Store, config: Config, clock: Clock, messages: Messages, *,
            sleep: Callable[[float], None] = time.sleep, should_stop: Callable[[], bool] = lambda: False,
            recipients_now: Mapping[str, Address] | None = None) -> Delivery:
    """Deliver every pending (period, recipient) of the ledger; see the module's docstring.

    A recipient no longer on the list (`recipients_now`: the active subscribers, with their
    names, by lower-cased address) is not sent the digests still pending for them (an
    unsubscribe takes effect at once); one on it is addressed with the name given
    ("Name <a@example.org>"). When the server cannot take mail, the rest stay pending for the
    next pass; so do they when `should_stop` says so.
    """
    report = Delivery()
    _recover(store, clock, report)
    pending = store.deliveries(status="pending")
    if recipients_now is not None:
        for row in [r for r in pending if r["recipient"].lower() not in recipients_now]:
            store.mark(row["period"], row["recipient"], "cancelled", clock(),
                       reply="no longer among the recipients; not sent")
        pending = [r for r in pending if r["recipient"].lower() in recipients_now]
    if not pending:
        return report
    refused = (refusals(config) if config.mail.host else []) + secret_refusal(config)
    if refused:  # they stay pending, for a pass with a fixed config
        report.refused, report.held_back = refused, len(pending)
        return report
    transport: Outbox | Smtp = Smtp(config) if config.mail.host else Outbox(config.outbox)
    report.via = transport.name
    try:
        _send_all(store, config, transport, pending, messages, report, clock=clock, sleep=sleep,
                  should_stop=should_stop, recipients_now=recipients_now or {})
    finally:
        transport.close()
    return report


def _recover(store: Store, clock: Clock, report: Delivery) -> None:
    """What a pass that died left: rows `sending` (the hand-off cut short), and rows failed or
    unknown that it recorded but never said (named in this pass, like the ones it records)."""
    for row in store.deliveries(status="sending"):  # left by a process that died mid-hand-off
        if row["via"] == "outbox":
            store.mark(row["period"], row["recipient"], "pending", clock())
        else:
            reply = "the process stopped during the SMTP hand-off; not sent again, to never send twice"
            store.mark(row["period"], row["recipient"], "unknown", clock(), reply=reply)
    for row in store.unnamed():
        reply = row["reply"] or "no reply recorded"
        if not reply.startswith("the process stopped"):
            reply += " (recorded by an earlier pass that ended before saying so)"
        getattr(report, row["status"]).append(f"{row['period']} {row['recipient']}: {reply}")
        report.named.append((row["period"], row["recipient"]))


def _send_all(store: Store, config: Config, transport: Outbox | Smtp, pending: list[Row],
              messages: Messages, report: Delivery, *, clock: Clock, sleep: Callable[[float], None],
              should_stop: Callable[[], bool], recipients_now: Mapping[str, Address]) -> None:
    """Each pending row in turn, until the server cannot take mail or the pass is asked to stop."""
    sender = addresses.sender(config).addr_spec
    unanswered = 0  # recipients in a row whose RCPT TO went unanswered, every attempt
    for i, row in enumerate(pending):
        if should_stop():  # asked, not a failure: the rest stay pending, for the next pass
            report.held = len(pending) - i
            return
        period, recipient = row["period"], row["recipient"]
        if recipients_now and not store.is_active(recipient):  # unsubscribed while this pass was mailing
            store.mark(period, recipient, "cancelled", clock(), reply="unsubscribed during the pass; not sent")
            continue
        to = recipients_now.get(recipient.lower()) or parse_address(recipient)  # (the ledger: no name)
        data = messages(period, recipient, to, row["message_id"])
        outcome, reply = _deliver_one(store, transport, period, sender, recipient, data, clock,
                                      config.mail.attempts, config.mail.backoff, sleep)
        unanswered = unanswered + 1 if outcome == "unanswered" else 0
        if outcome == "sent":
            report.sent += 1
            continue
        if outcome == "unavailable" or unanswered == UNANSWERED_IN_A_ROW:
            # The server cannot take mail: this one and the rest stay pending, for the next pass.
            why = ("the server could not take mail" if outcome == "unavailable" else
                   f"no answer to RCPT TO for {unanswered} recipients in a row")
            report.deferred += [f"{period} {recipient}: {reply}"] + [
                f"{r['period']} {r['recipient']}: not tried: {why}" for r in pending[i + 1:]]
            return
        if outcome == "unanswered":  # this recipient's trouble: the rest go on
            outcome = "deferred"
        getattr(report, outcome).append(f"{period} {recipient}: {reply}")
        if outcome in ("failed", "unknown"):
            report.named.append((period, recipient))


def _deliver_one(store: Store, transport: Outbox | Smtp, period: str, sender: str, recipient: str, data: bytes,
                 clock: Clock, attempts: int, backoff: float, sleep: Callable[[float], None]) -> tuple[str, str]:
    """One message, tried up to `attempts` times: (outcome, the last reply). The outcome is 'sent',
    'deferred' (4xx each time), 'unanswered' (no answer to RCPT TO each time), 'failed' (5xx),
    'unknown' (no answer to the hand-off) or 'unavailable' (the server could not take mail at all)."""

    def handing_over() -> None:
        store.mark(period, recipient, "sending", clock(), via=transport.name)

    reply = ""
    for attempt in range(1, attempts + 1):
        store.mark(period, recipient, "pending", clock(), attempt=True)
        try:
            reply = transport.send(period, sender, recipient, data, handing_over)
        except Reply as exc:
            reply = str(exc)
            store.mark(period, recipient, "pending" if exc.temporary else "failed", clock(), reply=reply)
            log.info("digest %s to %s: %s (attempt %d of %d)", period, recipient, reply, attempt, attempts)
            if not exc.temporary:
                return "failed", reply
        except (Unavailable, Unanswered) as exc:  # the server, or this recipient's RCPT, gave no answer
            reply = str(exc)
            store.mark(period, recipient, "pending", clock(), reply=reply)
            log.info("digest %s to %s: %s (attempt %d of %d)", period, recipient, reply, attempt, attempts)
            if attempt == attempts:
                return ("unanswered" if isinstance(exc, Unanswered) else "unavailable"), reply
        except Ambiguous as exc:
            store.mark(period, recipient, "unknown", clock(), reply=str(exc))
            return "unknown", str(exc)
        else:
            store.mark(period, recipient, "sent", clock(), reply=reply)
            log.info("digest %s to %s: %s", period, recipient, reply)
            return "sent", reply
        if attempt < attempts:
            sleep(backoff * 2 ** (attempt - 1))
    return "deferred", reply
