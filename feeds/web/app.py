"""The list's endpoint as a WSGI application: subscribe (double opt-in), confirm, unsubscribe in one click.

    GET  subscribe              the form
    POST subscribe              address, name: recorded `pending`, a confirmation mailed; the same answer
                                whatever the address's state (no enumeration), and no mail past the limits
    GET  confirm?token=…        pending -> active
    GET  unsubscribe?token=…    a page with one button (a GET never unsubscribes: mail scanners follow links)
    POST unsubscribe            token (query or form) and List-Unsubscribe=One-Click (RFC 8058): unsubscribed

A bad token (forged, altered, expired, for another purpose) is answered 403 and changes nothing. The
store is opened for each request (each of its changes one short transaction), so a pass that runs
at the same time only makes a request wait for it.
"""

from __future__ import annotations

import dataclasses
import html
import ipaddress
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, urlsplit

from feeds import tokens
from feeds.addresses import one_line
from feeds.config import DEFAULT_FILE, Config, load
from feeds.digest.period import WORDS
from feeds.errors import ConfigError
from feeds.store import Store
from feeds.subscribers import valid_address
from feeds.web import confirmation
from feeds.web.pages import WebPages
from feeds.web.request import HttpError, Network, Request, Response, read

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
StartResponse = Callable[..., Any]

#: Sent with every answer: never cached (an answer may name an address); no Referer from a page whose
#: URL holds a token; no framing (the unsubscribe button is not to be clicked through another site).
HEADERS = (
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
)
#: A name longer than this is cut (the form's input allows 100 characters).
MAX_NAME = 100
ROUTES = {"": ("GET",), "subscribe": ("GET", "POST"), "confirm": ("GET",), "unsubscribe": ("GET", "POST")}


def utc_now() -> datetime:
    return datetime.now(UTC)


def _client_key(client: str) -> str:
    """Who the client limit counts: an IPv4 address, or an IPv6 address's /64 (one client's usual
    share: counted by address, it could take a new one for every request)."""
    try:
        ip = ipaddress.ip_address(client)
    except ValueError:
        return client
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # (::ffff:192.0.2.1: an IPv4 client)
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class App:
    """The WSGI application (see the module's docstring). `url`: the endpoint's public URL, which the
    confirmation links name (default `[web] url`); `clock` gives the time of each request."""

    def __init__(self, config: Config, *, clock: Clock = utc_now, url: str | None = None):
        self.config, self.clock = config, clock
        self.url = url or config.web.url
        if not self.url:
            raise ConfigError("web.url", "", "the public URL of the list's endpoint, such as "
                              "'https://example.org/list/' (where gunicorn or waitress serves feeds.web:app)",
                              config.source)
        self.url = self.url if self.url.endswith("/") else self.url + "/"
        self.mount = urlsplit(self.url).path or "/"
        self.secret = tokens.secret(config)
        self.trusted: tuple[Network, ...] = tuple(ipaddress.ip_network(n, strict=False)
                                                  for n in config.web.trusted_proxies)
        WebPages(config)  # a missing or broken template stops the start, not the first request
        confirmation.check_templates(config)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        after: list[Callable[[], None]] = []
        try:
            response = self.answer(read(environ, self.mount, self.trusted), after)
        except HttpError as exc:
            response = self.error(exc)
        except Exception:
            log.exception("%s %s failed", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            response = self.error(HttpError(HTTPStatus.INTERNAL_SERVER_ERROR,
                                            "Something went wrong on our side; please try again later."),
                                  plain=True)
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(response.body))),
                   *HEADERS, *response.headers]
        start_response(f"{response.status.value} {response.status.phrase}", headers)
        head = str(environ.get("REQUEST_METHOD", "")).upper() == "HEAD"  # (a refused HEAD too)
        return _Body(b"" if head else response.body, after)

    def answer(self, request: Request, after: list[Callable[[], None]]) -> Response:
        methods = ROUTES.get(request.route)
        if methods is None:
            raise HttpError(HTTPStatus.NOT_FOUND, "There is no such page here.")
        if request.method not in methods:
            raise HttpError(HTTPStatus.METHOD_NOT_ALLOWED, f"{request.method} is not a method this page answers.",
                            [("Allow", ", ".join((*methods, "HEAD")))])
        pages = WebPages(self.config)
        if request.route in ("", "subscribe"):
            if request.method == "GET":
                return Response(HTTPStatus.OK, pages.form())
            return self.subscribe(request, pages, after)
        if request.route == "confirm":
            return self.confirm(request, pages)
        return self.unsubscribe(request, pages)

    def error(self, exc: HttpError, *, plain: bool = False) -> Response:
        """The page of a refusal: the site's look, or plain HTML when the templates may be what failed."""
        if not plain:
            try:
                body = WebPages(self.config).answer(exc.status.phrase, [exc.message])
                return Response(exc.status, body, exc.headers)
            except ConfigError as problem:
                log.error("%s", problem)
        body = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{exc.status.phrase}</title>'
                f"</head><body><h1>{exc.status.phrase}</h1><p>{html.escape(exc.message)}</p></body></html>\n").encode()
        return Response(exc.status, body, exc.headers)

    # -- subscribe --------------------------------------------------------------------------

    def subscribe(self, request: Request, pages: WebPages, after: list[Callable[[], None]]) -> Response:
        """Record the address as pending and mail it a confirmation link, within the limits; the
        answer is the same whatever the address's state and whether a mail was sent."""
        typed, name = request.form.get("address", "").strip(), one_line(request.form.get("name", ""))[:MAX_NAME]
        try:
            address = valid_address(typed)  # (RFC 5321's lengths too, as `subscribers add` checks)
        except ValueError:
            problem = "That is not an email address like name@example.org; please check it."
            return Response(HTTPStatus.BAD_REQUEST, pages.form(problem=problem, address=typed[:254], name=name))
        now = self.clock()
        # One transaction (SQLite's write lock): concurrent requests are counted one after another.
        with Store(self.config.state.path) as store, store.transaction():
            client = _client_key(request.client)
            mail = self._may_mail(store, address.addr_spec, client, now)
            if mail:
                subscriber = store.subscribe(address.addr_spec, name, source="form", now=now)
                mail = subscriber.status == "pending"
            if mail:
                store.note_confirmation_mail(address.addr_spec, client, now=now)
        if mail:  # (to the address alone: a name typed by anyone must not carry their text to an inbox)
            to = Address(addr_spec=address.addr_spec)
            after.append(lambda: self._mail(to, now))  # after the answer: it takes no longer for a new address
        return Response(HTTPStatus.OK, pages.answer("Check your inbox", [
            "If that address can receive the digest, a mail with a link to confirm is on its way to it. "
            "Open the link to start receiving the digest.",
            "No mail? Look in the spam folder, or try again in an hour."]))

    def _may_mail(self, store: Store, address: str, client: str, now: datetime) -> bool:
        """Under both hourly limits: confirmation mails to this address, and asked for by this client."""
        web, since = self.config.web, now - timedelta(hours=1)
        if store.confirmation_mails_since(address=address, since=since) >= web.per_address_hour:
            log.warning("confirmation mail to %s not sent: %d in the last hour (web.per_address_hour)",
                        address, web.per_address_hour)
            return False
        if store.confirmation_mails_since(client=client, since=since) >= web.per_client_hour:
            log.warning("confirmation mail to %s not sent: client %s asked for %d in the last hour "
                        "(web.per_client_hour)", address, client, web.per_client_hour)
            return False
        return True

    def _mail(self, to: Address, now: datetime) -> None:
        hours = self.config.web.confirm_hours
        token = tokens.sign(self.secret, "confirm", to.addr_spec, now=now, ttl=timedelta(hours=hours))
        link = f"{self.url}confirm?token={quote(token)}"
        confirmation.send(self.config, to, confirmation.message(self.config, to, link, now, hours))

    # -- confirm and unsubscribe ------------------------------------------------------------

    def _address(self, token: str, purpose: str, now: datetime) -> str:
        try:
            return tokens.verify(self.secret, token, purpose, now=now)
        except tokens.BadToken as exc:
            log.info("%s refused: %s", purpose, exc)
            what = ("subscribe again with the form: a confirmation link works for "
                    f"{self.config.web.confirm_hours} hours" if purpose == "confirm" else
                    "use the unsubscribe link of the latest digest, whole (a link cut in two by a mail program "
                    "does not work), or reply to the digest to ask to be removed")
            raise HttpError(HTTPStatus.FORBIDDEN, f"This link is not valid: it is incomplete, changed or too old. "
                                                  f"To go on, {what}.") from None

    def confirm(self, request: Request, pages: WebPages) -> Response:
        now = self.clock()
        address = self._address(request.query.get("token", ""), "confirm", now)
        with Store(self.config.state.path) as store:
            done = store.confirm(address, now=now)
            subscriber = store.subscriber(address)
        cadence = self._cadence()
        if done or (subscriber is not None and subscriber.status == "active"):
            return Response(HTTPStatus.OK, pages.answer("You are subscribed", [
                f"{address} will receive the {cadence} digest of {self.config.site.title}.",
                "Every digest ends with a link that unsubscribes you in one click."]))
        return Response(HTTPStatus.OK, pages.answer("Nothing to confirm", [
            f"{address} is not waiting to be confirmed (it may have unsubscribed since). To receive the "
            f"{cadence} digest, subscribe again with the form."]))

    def unsubscribe(self, request: Request, pages: WebPages) -> Response:
        now = self.clock()
        token = request.form.get("token") or request.query.get("token", "")
        address = self._address(token, "unsubscribe", now)
        if request.method == "GET":  # a page with one button: a mail scanner's GET changes nothing
            return Response(HTTPStatus.OK, pages.answer("Unsubscribe?", [
                f"Press the button to stop the {self._cadence()} digest of {self.config.site.title} "
                f"being mailed to {address}."],
                button={"action": "unsubscribe", "token": token, "label": "Unsubscribe"}))
        if request.form.get("List-Unsubscribe") != "One-Click":
            raise HttpError(HTTPStatus.BAD_REQUEST, "The request lacks List-Unsubscribe=One-Click (RFC 8058); "
                                                    "use the button of the unsubscribe page.")
        with Store(self.config.state.path) as store:
            store.unsubscribe(address, how="one-click", now=now)
        return Response(HTTPStatus.OK, pages.answer("You are unsubscribed", [
            f"{address} will receive no more digests from {self.config.site.title}.",
            "Changed your mind? Subscribe again with the form."]))

    def _cadence(self) -> str:
        return WORDS[self.config.digest.every].adjective


class _Body:
    """A response body whose `close` (called by the server once the answer is sent) runs the work
    left for after it: mailing a confirmation, which would otherwise make a new address's answer
    come later than a known one's."""

    def __init__(self, body: bytes, after: list[Callable[[], None]]):
        self.body, self.after = body, after

    def __iter__(self) -> Iterator[bytes]:
        yield self.body

    def close(self) -> None:
        for work in self.after:
            try:
                work()
            except Exception:
                log.exception("after the answer")


def make_app(config: Config, *, clock: Clock = utc_now, url: str | None = None) -> App:
    """The endpoint for `config` (see App)."""
    return App(config, clock=clock, url=url)


@dataclasses.dataclass
class LazyApp:
    """`feeds.web:app` for gunicorn or waitress: the config is read from $FEEDS_CONFIG (default
    ./feeds.toml) when the first request comes, then kept."""

    loaded: App | None = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self.loaded is None:
            self.loaded = make_app(load(os.environ.get("FEEDS_CONFIG") or DEFAULT_FILE))
        return self.loaded(environ, start_response)
