"""Signed tokens for the links the list mails: confirm a subscription, unsubscribe.

A token carries its purpose, the address and (with a ttl) when it expires, and an
HMAC-SHA256 over all three with a secret read from the environment. It is URL-safe base64
without padding: ``<payload>.<mac>``. Pure (stdlib ``hmac``, ``hashlib``, ``base64``): the
clock is passed in. `verify` gives the address back, or raises BadToken for a token forged,
altered, cut short, expired or made for another purpose; the MAC is compared in constant
time (``hmac.compare_digest``) before anything in the payload is believed.

Purposes: ``"confirm"`` (expires after ``[web] confirm_hours``) and ``"unsubscribe"``
(never expires: it sits in old mails, and a reader may click it years later).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from feeds.errors import ConfigError, FeedsError

if TYPE_CHECKING:
    from feeds.config import Config

CONFIRM = "confirm"
UNSUBSCRIBE = "unsubscribe"

#: The shortest secret taken: 32 characters (token_urlsafe(32) gives 43).
MIN_SECRET = 32

#: How to make a secret, for the messages that ask for one.
MAKE_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'

_VERSION = "1"

#: The longest token taken (an address is at most 254 characters; a token for one, about 430).
MAX_TOKEN = 1024

_TOKEN = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class BadToken(FeedsError):
    """A token that does not hold: forged, altered, cut short, expired, or for another purpose."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).digest()


def sign(secret: bytes, purpose: str, address: str, *, now: datetime, ttl: timedelta | None = None) -> str:
    """A token for `address` and `purpose`, valid until now + ttl (no ttl: for ever)."""
    if not secret:
        raise ValueError("an empty secret signs nothing")
    if any(c in purpose + address for c in "\n\r\0"):
        raise ValueError("a line break in a token's purpose or address")
    expires = "" if ttl is None else str(int((now + ttl).timestamp()))
    payload = "\n".join((_VERSION, purpose, address, expires)).encode("utf-8")
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def verify(secret: bytes, token: str, purpose: str, *, now: datetime) -> str:
    """The address `token` was signed for, if it holds for `purpose` at `now`; else BadToken.

    Only the exact text `sign` gives is taken: no character more or less, none changed (base64
    decoders skip stray characters and ignore a last character's spare bits: not here)."""
    if len(token) > MAX_TOKEN or not _TOKEN.fullmatch(token):
        raise BadToken("not a token: two parts of URL-safe base64 joined by '.'")
    body, _, mac = token.partition(".")
    try:
        payload, given = _unb64(body), _unb64(mac)
    except (binascii.Error, ValueError):
        raise BadToken("not a token: it is not URL-safe base64") from None
    if (_b64(payload), _b64(given)) != (body, mac) or not hmac.compare_digest(given, _mac(secret, payload)):
        raise BadToken("the token's signature does not match: forged, altered or cut short")
    try:
        version, made_for, address, expires = payload.decode("utf-8").split("\n")
    except ValueError:  # (a token this code never signed, with the right secret: not ours)
        raise BadToken("the token is not in a form this feeds signs") from None
    if version != _VERSION:
        raise BadToken(f"the token is of version {version!r}, not {_VERSION}")
    if made_for != purpose:
        raise BadToken(f"the token is for {made_for!r}, not {purpose!r}")
    if expires and now >= datetime.fromtimestamp(int(expires), UTC):
        raise BadToken(f"the token expired at {datetime.fromtimestamp(int(expires), UTC).isoformat()}")
    return address


def secret(config: Config) -> bytes:
    """The signing secret, from the environment variable `[web] secret_env` names; ConfigError
    saying how to make one when it is unset or shorter than MIN_SECRET characters."""
    name = config.web.secret_env
    value = os.environ.get(name, "")
    if len(value) < MIN_SECRET:
        state = "is not set" if not value else f"holds fewer than {MIN_SECRET} characters"
        raise ConfigError("web.secret_env", name,
                          f"an environment variable holding a secret of at least {MIN_SECRET} characters to sign "
                          f"the list's links; {name} {state}: make one with {MAKE_SECRET} and "
                          f"export {name}=<it> where feeds runs", config.source, shown=True)
    return value.encode("utf-8")


def secret_if_set(config: Config) -> bytes:
    """The signing secret, or b"" when it is unset or too short (for what works without one)."""
    value = os.environ.get(config.web.secret_env, "")
    return value.encode("utf-8") if len(value) >= MIN_SECRET else b""
