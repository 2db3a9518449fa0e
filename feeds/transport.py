"""Handing a message over: to an SMTP server, or as an .eml file in the outbox.

`Outbox` and `Smtp` take a message's bytes; `mail.deliver` walks the ledger with them and
turns their exceptions into the ledger's states. `probe` is `feeds check`'s look at the server.
"""

from __future__ import annotations

import dataclasses
import os
import smtplib
import ssl
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from feeds import addresses
from feeds.config import Config
from feeds.errors import ConfigError, FeedsError
from feeds.publish.files import write_if_changed


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
        is set. `steps` is told each step as it starts and ends (for `feeds check`). A step that
        fails after the connection was made (STARTTLS, AUTH) closes it: it is not left open."""
        opened: list[smtplib.SMTP] = []
        try:
            return self._handshake(steps or Steps(), opened)
        except BaseException:
            for conn in opened:
                conn.close()
            raise

    def _handshake(self, steps: Steps, opened: list[smtplib.SMTP]) -> smtplib.SMTP:
        m = self.mail
        context = ssl.create_default_context()
        if m.cafile is not None:
            context.load_verify_locations(cafile=str(m.cafile))
        try:
            if m.security == "tls":
                steps.start(f"connect {m.host}:{m.smtp_port} with TLS")
                conn: smtplib.SMTP = smtplib.SMTP_SSL(m.host, m.smtp_port, timeout=m.timeout, context=context)
                opened.append(conn)
                steps.done(_tls(conn))
            else:
                steps.start(f"connect {m.host}:{m.smtp_port}")
                conn = smtplib.SMTP(m.host, m.smtp_port, timeout=m.timeout)
                opened.append(conn)
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
