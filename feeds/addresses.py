"""Email addresses: parsing one, and the digest's addresses worked out from the config.

`parse_address` and `one_line` are pure text functions (stdlib only): the config's checks use
the first to refuse a bad address as the file is loaded, mail and the digest use both. The
rest say who a digest is from and how to leave its list, from the [site] and [digest] tables.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.headerregistry import Address
from typing import TYPE_CHECKING
from urllib.parse import quote

from feeds import tokens

if TYPE_CHECKING:
    from feeds.config import Config


def one_line(text: str) -> str:
    """Text fit for a mail header: line breaks and control characters become spaces."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", text).split())


_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")


def parse_address(text: str) -> Address:
    """An email address, bare or as "Name <address>"; ValueError saying what is wrong.

    Only ASCII addresses with a dotted domain are taken: that is what every SMTP
    server accepts without the SMTPUTF8 extension.
    """
    if any(c in text for c in "\r\n\0"):
        raise ValueError("a line break in an address")
    match = re.fullmatch(r"\s*(?:(.*?)\s*<([^<>]*)>|([^<>\s]*))\s*", text)
    if not match:
        raise ValueError("not an address")
    name, addr = (match.group(1) or "").strip().strip('"'), match.group(2) or match.group(3) or ""
    if not _ADDRESS.fullmatch(addr) or ".." in addr or addr.startswith(".") or ".@" in addr:
        raise ValueError(f"{addr!r} is not an address like name@example.org")
    user, domain = addr.rsplit("@", 1)
    return Address(display_name=" ".join(name.split()), username=user, domain=domain.lower())


def sender(config: Config) -> Address:
    """The digest's From address: as configured, else the site's title at digest@<its domain>."""
    if config.digest.sender:
        return parse_address(config.digest.sender)
    return Address(display_name=one_line(config.site.title), username="digest", domain=config.site.domain)


def list_id(config: Config) -> str:
    return config.digest.list_id or f"digest.{config.site.domain}"


def unsubscribe_mailto(config: Config) -> str:
    """The mailto: unsubscribe link: as configured, else a mail to the sender."""
    return config.digest.unsubscribe_mailto or f"mailto:{sender(config).addr_spec}?subject=unsubscribe"


def unsubscribe_links(config: Config, address: str, secret: bytes = b"") -> tuple[str, str]:
    """(mailto:, https:// or '') unsubscribe links for one address, its {email} filled in.

    With [web] url set, the https link is the endpoint's one-click unsubscribe, with a token
    signed for the address with `secret` (none given: no https link; a pass does not mail
    without it, see mail.secret_refusal); else [digest] unsubscribe_url, if any."""
    email = quote(address, safe="@")
    mailto = unsubscribe_mailto(config).replace("{email}", email)
    if config.web.url:
        return mailto, unsubscribe_url(config, address, secret) if secret and address else ""
    return mailto, config.digest.unsubscribe_url.replace("{email}", email)


#: The time an unsubscribe token is signed at: it has no expiry, so the time is not in it, and
#: one address always gets the same link (a digest's bytes stay deterministic).
_SIGNED = datetime(1970, 1, 1, tzinfo=UTC)


def unsubscribe_url(config: Config, address: str, secret: bytes) -> str:
    """The endpoint's one-click unsubscribe URL for `address`: [web] url + unsubscribe?token=…"""
    return f"{config.web.url}unsubscribe?token={tokens.sign(secret, tokens.UNSUBSCRIBE, address, now=_SIGNED)}"
