"""Delivering a digest: over SMTP, or as .eml files in the outbox, through the ledger.

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
       └──(the address is no longer configured)──▶ cancelled
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
import os
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from email.headerregistry import Address
from pathlib import Path
from urllib.parse import quote, urlsplit

from feeds import addresses
from feeds.addresses import parse_address
from feeds.config import Config
from feeds.digest import Rendered, Renderer, Selection, build_message, select
from feeds.errors import ConfigError, FeedsError
from feeds.publish import write_if_changed
from feeds.store import Store

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


# -- transports ---------------------------------------------------------------------------

class Reply(Exception):
    """The server answered no: `code` 4xx (try again later) or 5xx (give up)."""

    def __init__(self, code: int, text: str):
        self.code, self.text = code, text
        super().__init__(f"{code} {text}")

    @property
    def temporary(self) -> bool:
        return 400 <= self.code < 500


class Unavailable(Exception):
    """The server cannot take mail now, for anyone: no connection, or it refused the connection
    or the sender (MAIL FROM). Not a recipient's failure: the rest wait for the next pass."""


class Unanswered(Exception):
    """RCPT TO got no answer within mail.timeout, or the connection closed at it: nothing was
    handed over. A temporary failure of this recipient (a server that is slow to look one address
    up, or stumbles on it), not of the server: the others go on."""


class Ambiguous(Exception):
    """The message was handed over but no answer came: it may have been delivered."""


class Outbox:
    """Writes each message to <outbox>/<period>/<recipient>.eml."""

    name = "outbox"

    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, period: str, recipient: str) -> Path:
        """One file per address: characters a file name should not hold are %-escaped (one to one)."""
        return self.folder / period / (quote(recipient, safe="@.+-_") + ".eml")

    def send(self, period: str, sender: str, recipient: str, data: bytes, handing_over: Callable[[], None]) -> str:
        handing_over()
        path = self.path(period, recipient)
        write_if_changed(path, data, durable=True)
        return f"written to {path}"

    def close(self) -> None:
        pass


class Smtp:
    """One SMTP connection, opened when first needed, reopened after it drops."""

    name = "smtp"

    def __init__(self, config: Config):
        self.mail = config.mail
        self.source = config.source
        self.password = ""
        if self.mail.username:
            self.password = os.environ.get(self.mail.password_env, "")
            if not self.password:
                raise ConfigError("mail.password_env", self.mail.password_env,
                                  f"an environment variable holding the SMTP password of {self.mail.username!r}; "
                                  f"it is not set: export {self.mail.password_env}=…", self.source)
        self.conn: smtplib.SMTP | None = None

    def _connect(self, steps: Steps | None = None) -> smtplib.SMTP:
        """A connection ready for MAIL FROM: TLS as mail.security says, logged in if a username
        is set. `steps` is told each step as it starts and ends (for `feeds check`)."""
        m = self.mail
        steps = steps or Steps()
        context = ssl.create_default_context()
        if m.cafile is not None:
            context.load_verify_locations(cafile=str(m.cafile))
        try:
            if m.security == "tls":
                steps.start(f"connect {m.host}:{m.smtp_port} with TLS")
                conn: smtplib.SMTP = smtplib.SMTP_SSL(m.host, m.smtp_port, timeout=m.timeout, context=context)
                steps.done(_tls(conn))
            else:
                steps.start(f"connect {m.host}:{m.smtp_port}")
                conn = smtplib.SMTP(m.host, m.smtp_port, timeout=m.timeout)
                steps.done()
            steps.start("EHLO")
            conn.ehlo_or_helo_if_needed()  # (STARTTLS and login would say it first anyway)
            steps.done()
            if m.security == "starttls":
                steps.start("STARTTLS")
                try:
                    conn.starttls(context=context)
                except smtplib.SMTPNotSupportedError:
                    raise ConfigError("mail.security", m.security, f"what {m.host} offers: it has no STARTTLS; "
                                      "use 'tls' (port 465) if it speaks TLS from the start, or 'none' for a "
                                      "local relay", self.source) from None
                steps.done(_tls(conn))
                conn.ehlo_or_helo_if_needed()
            if m.username:
                steps.start("AUTH")
                try:
                    conn.login(m.username, self.password)
                except smtplib.SMTPNotSupportedError:
                    raise ConfigError("mail.username", m.username, f"empty: {m.host} offers no login on this "
                                      "connection (or it needs mail.security 'starttls' or 'tls' first)",
                                      self.source) from None
                steps.done(f"user {m.username}")
        except smtplib.SMTPAuthenticationError as exc:
            raise FeedsError(f"SMTP login to {m.host} as {m.username!r} refused ({exc.smtp_code} "
                             f"{_text(exc.smtp_error)}): check mail.username and ${m.password_env}") from None
        except smtplib.SMTPResponseException as exc:
            raise Unavailable(f"{m.host}:{m.smtp_port} refused the connection: {exc.smtp_code} "
                              f"{_text(exc.smtp_error)}") from None
        except (OSError, smtplib.SMTPException) as exc:  # refused, unreachable, TLS, timeout, dropped
            raise Unavailable(f"cannot talk to {m.host}:{m.smtp_port}: {exc}") from None
        return conn

    def send(self, period: str, sender: str, recipient: str, data: bytes, handing_over: Callable[[], None]) -> str:
        if self.conn is None:
            self.conn = self._connect()
        conn = self.conn
        try:
            code, text = conn.mail(sender)
            if code != 250:
                self._reset()
                raise Unavailable(f"{self.mail.host} refused the sender {sender}: {code} {_text(text)}")
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self.close()
            raise Unavailable(f"connection lost before the hand-off: {exc}") from None
        try:
            code, text = conn.rcpt(recipient)
        except (OSError, smtplib.SMTPServerDisconnected) as exc:  # (a timeout is an OSError)
            self._drop()  # no QUIT: a server that did not answer would keep us waiting again
            why = (f"no answer to RCPT TO within mail.timeout = {self.mail.timeout} s" if "timed out" in str(exc)
                   else f"the connection closed at RCPT TO ({exc})")
            raise Unanswered(why) from None
        if code not in (250, 251):
            self._reset()
            raise Reply(code, _text(text))
        handing_over()
        try:
            code, text = conn.data(data)
        except smtplib.SMTPResponseException as exc:  # DATA itself refused: nothing was handed over
            self._reset()
            raise Reply(exc.smtp_code, _text(exc.smtp_error)) from None
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self.close()
            raise Ambiguous(f"connection lost during the hand-off: {exc}") from None
        if code != 250:
            self._reset()
            raise Reply(code, _text(text))
        return f"{code} {_text(text)}"

    def _reset(self) -> None:
        try:
            assert self.conn is not None
            self.conn.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def _drop(self) -> None:
        """Close the connection without a word to the server."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (OSError, smtplib.SMTPException):
                self.conn.close()
            self.conn = None


class Steps:
    """Told of each step of connecting as it starts and as it ends; this one tells no one."""

    def start(self, step: str) -> None:
        pass

    def done(self, detail: str = "") -> None:
        pass


def _tls(conn: smtplib.SMTP) -> str:
    """The TLS version of a connection, such as 'TLSv1.3'."""
    sock = conn.sock
    return (sock.version() or "TLS") if isinstance(sock, ssl.SSLSocket) else "not encrypted"


def probe(config: Config, say: Callable[[str, str], None]) -> None:
    """Connect to the SMTP server as a pass does (TLS, login), offer the sender, then reset and
    quit: nothing is sent. Each step is said as `say(level, text)`, level 'ok', 'warning' or 'error'."""
    m = config.mail
    login = bool(m.username)
    if login and not os.environ.get(m.password_env):
        say("warning", f"AUTH not tried: ${m.password_env} is not set here, and a pass without it stops "
                       f"(exit status 2) before it connects; export {m.password_env}=… where passes run "
                       f"(mail.username = {m.username!r})")
        config = dataclasses.replace(config, mail=dataclasses.replace(m, username=""))

    class Said(Steps):
        step = ""

        def start(self, step: str) -> None:
            self.step = step

        def done(self, detail: str = "") -> None:
            say("ok", f"{self.step} ok" + (f" ({detail})" if detail else ""))
            self.step = ""

    steps = Said()
    smtp = Smtp(config)
    try:
        conn = smtp._connect(steps)
    except (FeedsError, Unavailable) as exc:
        say("error", f"{steps.step or 'connect'} failed: {exc}")
        return
    smtp.conn = conn
    sender = addresses.sender(config).addr_spec
    try:
        if login and not config.mail.username:  # (a server that wants a login would refuse the sender)
            return
        code, text = conn.mail(sender)
        if code == 250:
            say("ok", f"MAIL FROM:<{sender}> ok ({code} {_text(text)}); reset: nothing sent")
            conn.rset()
        else:
            say("error", f"MAIL FROM:<{sender}> refused: {code} {_text(text)}; a pass could mail no one "
                         "(check digest.sender, and mail.username if the server wants a login)")
    except (OSError, smtplib.SMTPException) as exc:
        say("error", f"MAIL FROM:<{sender}> failed: {exc}")
    finally:
        smtp.close()


def _text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return " ".join(text.split())


# -- delivering through the ledger -------------------------------------------------------

#: RCPT TO unanswered (every attempt) for this many recipients in a row: the trouble is the
#: server's, not theirs; the rest are not tried, each would wait mail.timeout per attempt.
UNANSWERED_IN_A_ROW = 3


def deliver(store: Store, config: Config, clock: Clock, *,
            sleep: Callable[[float], None] = time.sleep, should_stop: Callable[[], bool] = lambda: False,
            recipients_now: Mapping[str, Address] | None = None) -> Delivery:
    """Deliver every pending (period, recipient) of the ledger; see the module's docstring.

    A recipient no longer configured (`recipients_now`: the configured addresses, with their
    names, by lower-cased address) is not sent the digests still pending for them (an
    unsubscribe takes effect at once); one configured is addressed with the name given
    ("Name <a@example.org>"). When the server cannot take mail, the rest stay pending for the
    next pass; so do they when `should_stop` says so.
    """
    report = Delivery()
    for row in store.deliveries(status="sending"):  # left by a process that died mid-hand-off
        if row["via"] == "outbox":
            store.mark(row["period"], row["recipient"], "pending", clock())
        else:
            reply = "the process stopped during the SMTP hand-off; not sent again, to never send twice"
            store.mark(row["period"], row["recipient"], "unknown", clock(), reply=reply)
    # Failed or unknown, and never said: recorded by a pass that died before it could say so
    # (or just now, above). Named in this pass, like the ones it records itself.
    for row in store.unnamed():
        reply = row["reply"] or "no reply recorded"
        if not reply.startswith("the process stopped"):
            reply += " (recorded by an earlier pass that ended before saying so)"
        getattr(report, row["status"]).append(f"{row['period']} {row['recipient']}: {reply}")
        report.named.append((row["period"], row["recipient"]))
    pending = store.deliveries(status="pending")
    if recipients_now is not None:
        for row in [r for r in pending if r["recipient"].lower() not in recipients_now]:
            store.mark(row["period"], row["recipient"], "cancelled", clock(),
                       reply="no longer among the recipients; not sent")
        pending = [r for r in pending if r["recipient"].lower() in recipients_now]
    if not pending:
        return report
    if config.mail.host and (refused := refusals(config)):  # they stay pending, for a pass with a fixed config
        report.refused, report.held_back = refused, len(pending)
        return report
    transport: Outbox | Smtp = Smtp(config) if config.mail.host else Outbox(config.outbox)
    report.via = transport.name
    renderer = Renderer(config)
    sender = addresses.sender(config).addr_spec
    selections: dict[str, Selection] = {}
    # A message differs between recipients only by their unsubscribe links: when those hold no
    # {email}, one rendering serves every recipient of a period (inlining the CSS is the costly
    # part). Only the last is kept: with {email} links, one per recipient would pile up.
    last: tuple[tuple[str, tuple[str, str]], Rendered] | None = None
    unanswered = 0  # recipients in a row whose RCPT TO went unanswered, every attempt
    try:
        for i, row in enumerate(pending):
            if should_stop():  # asked, not a failure: the rest stay pending, for the next pass
                report.held = len(pending) - i
                break
            period, recipient = row["period"], row["recipient"]
            if period not in selections:
                selections[period] = select(store, config, period, clock())
            sel = selections[period]
            key = (period, addresses.unsubscribe_links(config, recipient))
            if last is None or last[0] != key:
                last = (key, renderer.render(sel, recipient))
            to = (recipients_now or {}).get(recipient.lower()) or parse_address(recipient)  # (the ledger: no name)
            msg = build_message(config, last[1], period, to, sel.date, row["message_id"])
            outcome, reply = _deliver_one(store, transport, period, sender, recipient, msg.as_bytes(), clock,
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
                break
            if outcome == "unanswered":  # this recipient's trouble: the rest go on
                outcome = "deferred"
            getattr(report, outcome).append(f"{period} {recipient}: {reply}")
            if outcome in ("failed", "unknown"):
                report.named.append((period, recipient))
    finally:
        transport.close()
    return report


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
