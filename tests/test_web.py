"""The list's endpoint over real HTTP: feeds.web's WSGI app served by wsgiref on 127.0.0.1 (a thread, an
ephemeral port), a real SMTP server (aiosmtpd, tests/test_mail.py's), the real store and the real `feeds`
pass. Subscribe → confirmation mail → confirm → the next digest reaches them; one click → unsubscribed →
the next does not; a GET changes nothing; bad tokens 403; the limits hold; the answer tells nothing.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from aiosmtpd.controller import Controller
from conftest import REPO, SEEDS, run_cli, write_config
from test_mail import Server, free_port

from feeds import config as config_mod
from feeds import tokens
from feeds.store import Store
from feeds.web import make_app

SECRET = "a-test-secret-of-more-than-32-characters-0123456789"
ENV = {"FEEDS_SECRET": SECRET}
BASE = "https://feeds.example.org/"  # where out/ is served (a loopback one would mail nothing over SMTP)
DUE_W07 = "2025-02-17T09:00:00+00:00"
DUE_W08 = "2025-02-24T09:00:00+00:00"
START = datetime(2025, 2, 16, 12, 0, tzinfo=UTC)  # the endpoint's clock: before the W07 digest is due


class Clock:
    def __init__(self, now: datetime = START):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class Site:
    """A project with seeds, SMTP on `smtp`, and the endpoint running on 127.0.0.1 (`url`)."""

    def __init__(self, root: Path, smtp_port: int | None, extra: str = "", server_class: type = WSGIServer):
        self.root, self.clock = root, Clock()
        seeds = root / "seeds"
        seeds.mkdir(exist_ok=True)
        for s in SEEDS:
            (seeds / s.name).write_bytes(s.read_bytes())
        self.server: WSGIServer = make_server("127.0.0.1", 0, lambda e, s: [], server_class=server_class,
                                              handler_class=_Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/list/"
        mail = (f'[mail]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\nattempts = 1\ntimeout = 10\n'
                if smtp_port else "")
        self.cfg = write_config(root, [str(seeds / "*.txt")],
                                f'[digest]\nsender = "FoSC digest <digest@example.org>"\n{mail}'
                                f'[web]\nurl = "{self.url}"\n{extra}')
        self.cfg.write_text(self.cfg.read_text().replace('base_url = "http://127.0.0.1:8000/"', f'base_url = "{BASE}"'))
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("FEEDS_SECRET", SECRET)
            self.config = config_mod.load(self.cfg)
            self.server.set_app(make_app(self.config, clock=self.clock))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def request(self, path: str, data: bytes | str | dict[str, str] | None = None, *, method: str | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
        if isinstance(data, dict):
            data = urlencode(data)
        body = data.encode() if isinstance(data, str) else data
        hdrs = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
        req = urllib.request.Request(path if path.startswith("http") else self.url + path, data=body,
                                     headers={**hdrs, **(headers or {})}, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as exc:
            with exc:  # (its socket closed: no ResourceWarning later)
                return exc.code, exc.read(), dict(exc.headers)

    def status(self, address: str) -> str | None:
        with Store(self.config.state.path) as store:
            found = store.subscriber(address)
        return found.status if found else None

    def feeds(self, now: str, *args: str):
        return run_cli("-c", str(self.cfg), "--now", now, *args, cwd=self.root, env=ENV)


@pytest.fixture
def smtp() -> Iterator[Server]:
    """A real SMTP server on 127.0.0.1 that keeps what it receives (tests/test_mail.py's)."""
    handler = Server()
    handler.port = free_port()  # type: ignore[attr-defined]
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)  # type: ignore[attr-defined]
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def site(tmp_path, smtp) -> Iterator[Site]:
    s = Site(tmp_path, smtp.port)
    yield s
    s.close()


def mails(smtp: Server, to: str, count: int = 1, wait: float = 10) -> list[EmailMessage]:
    """The messages `to` received, waiting (a confirmation is mailed after the answer) for `count`."""
    deadline = time.monotonic() + wait
    while len(smtp.received(to)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return smtp.received(to)


def confirm_link(msg: EmailMessage) -> str:
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    [link] = re.findall(r"^(http\S+confirm\?token=\S+)$", text, flags=re.M)
    return link


def https_unsubscribe(msg: EmailMessage) -> str:
    [link] = [u for u in re.findall(r"<([^>]+)>", str(msg["List-Unsubscribe"])) if u.startswith("http")]
    return link


def subscribe(site: Site, smtp: Server, address: str) -> None:
    """The whole double opt-in, through the form and the mail."""
    status, body, _ = site.request("subscribe", {"address": address, "name": "Ana Lima"})
    assert status == 200, body
    [msg] = mails(smtp, address)
    assert msg["Subject"] == "Confirm your subscription to Friends of Socialist China"
    link = confirm_link(msg)
    assert link.startswith(site.url + "confirm?token=")
    assert site.status(address) == "pending"
    status, body, _ = site.request(link)
    assert status == 200 and b"You are subscribed" in body
    assert site.status(address) == "active"


def test_subscribe_confirm_and_the_next_digest_reaches_them(site, smtp):
    status, body, headers = site.request("subscribe")
    assert status == 200 and b'<form class="list" method="post" action="subscribe">' in body
    assert b"<title>Subscribe \xc2\xb7 Friends of Socialist China</title>" in body  # the site's base template
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    subscribe(site, smtp, "ana@example.org")
    proc = site.feeds(DUE_W07)
    assert proc.returncode == 0, proc.stderr
    for page in ("index.html", "digests/index.html"):  # the site's pages lead to the form
        assert f'<a href="{site.url}subscribe">subscribe</a>' in (site.root / "out" / page).read_text(), page
    [_, digest] = mails(smtp, "ana@example.org", 2)
    assert digest["Subject"] == "Friends of Socialist China — week of 10–16 February 2025"
    link = https_unsubscribe(digest)
    assert link.startswith(site.url + "unsubscribe?token=")
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = digest.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert f'href="{link}"' in html.replace("&amp;", "&")  # the footer's link: the page with the button
    status, body, _ = site.request(link)
    assert status == 200 and b"<button" in body and site.status("ana@example.org") == "active"


def test_nobody_is_mailed_a_digest_who_did_not_confirm(site, smtp):
    assert site.request("subscribe", {"address": "ben@example.net"})[0] == 200
    assert len(mails(smtp, "ben@example.net")) == 1  # the confirmation only
    assert site.feeds(DUE_W07).returncode == 0
    assert len(smtp.received("ben@example.net")) == 1 and site.status("ben@example.net") == "pending"


def test_one_click_unsubscribes_and_the_next_digest_does_not_reach_them(site, smtp):
    for address in ("ana@example.org", "ben@example.net"):
        subscribe(site, smtp, address)
    assert site.feeds(DUE_W07).returncode == 0
    link = https_unsubscribe(mails(smtp, "ana@example.org", 2)[1])
    # A GET (a mail scanner following the link) shows a page with one button and changes nothing.
    status, body, _ = site.request(link)
    assert status == 200 and b"<button" in body and b'name="List-Unsubscribe" value="One-Click"' in body
    assert site.status("ana@example.org") == "active"
    # RFC 8058: the mailbox provider POSTs List-Unsubscribe=One-Click to the link.
    status, body, _ = site.request(link, "List-Unsubscribe=One-Click")
    assert status == 200 and b"You are unsubscribed" in body
    assert site.status("ana@example.org") == "unsubscribed"
    title = "Fresh news of the week for the digest"  # a new post, for the next week's digest
    (site.root / "seeds" / "new.txt").write_text(f"{title}\n\nThe opening paragraph of the post, long enough to "
                                                 f"read as prose here.\n\nContinue reading {title}\n")
    proc = site.feeds("2025-02-20T09:00:00+00:00")  # first seen in W08
    assert proc.returncode == 0, proc.stderr
    proc = site.feeds(DUE_W08)
    assert proc.returncode == 0, proc.stderr
    assert len(smtp.received("ana@example.org")) == 2  # the confirmation and W07, not W08
    assert [m["Subject"] for m in smtp.received("ben@example.net")][1:] == [
        "Friends of Socialist China — week of 10–16 February 2025",
        "Friends of Socialist China — week of 17–23 February 2025"]


def test_the_button_and_a_multipart_one_click_post_unsubscribe_too(site, smtp):
    subscribe(site, smtp, "ana@example.org")
    token = tokens.sign(SECRET.encode(), "unsubscribe", "ana@example.org", now=START)
    status, body, _ = site.request("unsubscribe", {"token": token, "List-Unsubscribe": "One-Click"})
    assert status == 200 and site.status("ana@example.org") == "unsubscribed"
    subscribe(site, smtp, "ben@example.net")
    token = tokens.sign(SECRET.encode(), "unsubscribe", "ben@example.net", now=START)
    multipart = ('--XyZ\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n'
                 '--XyZ--\r\n')
    status, body, _ = site.request(f"unsubscribe?token={token}", multipart,
                                   headers={"Content-Type": "multipart/form-data; boundary=XyZ"})
    assert status == 200, body
    assert site.status("ben@example.net") == "unsubscribed"


def test_a_post_without_the_one_click_body_changes_nothing(site, smtp):
    subscribe(site, smtp, "ana@example.org")
    token = tokens.sign(SECRET.encode(), "unsubscribe", "ana@example.org", now=START)
    assert site.request("unsubscribe", {"token": token})[0] == 400
    assert site.status("ana@example.org") == "active"


def _tamper(token: str) -> str:
    middle = len(token) // 2
    return token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]


def test_forged_altered_expired_and_cross_purpose_tokens_get_403_and_change_nothing(site, smtp):
    secret = SECRET.encode()
    site.request("subscribe", {"address": "ana@example.org"})
    good = confirm_link(mails(smtp, "ana@example.org")[0]).split("token=")[1]
    subscribe(site, smtp, "ben@example.net")  # active
    forged = tokens.sign(b"another-secret-of-more-than-32-characters!", "confirm", "ana@example.org", now=START,
                         ttl=timedelta(hours=48))
    wrong_purpose = tokens.sign(secret, "unsubscribe", "ana@example.org", now=START)
    for token in (forged, _tamper(good), good[:-3], wrong_purpose, ""):
        status, body, _ = site.request(f"confirm?token={token}")
        assert status == 403 and b"This link is not valid" in body, token
    site.clock.now = START + timedelta(hours=49)  # [web] confirm_hours = 48
    status, _, _ = site.request(f"confirm?token={good}")
    assert status == 403
    assert site.status("ana@example.org") == "pending"
    # Unsubscribing: a confirmation token, a forged or an altered one, by GET or POST.
    ben_confirm = tokens.sign(secret, "confirm", "ben@example.net", now=site.clock.now, ttl=timedelta(hours=48))
    ben_forged = tokens.sign(b"another-secret-of-more-than-32-characters!", "unsubscribe", "ben@example.net",
                             now=START)
    ben_good = tokens.sign(secret, "unsubscribe", "ben@example.net", now=START)
    for token in (ben_confirm, ben_forged, _tamper(ben_good)):
        assert site.request(f"unsubscribe?token={token}")[0] == 403
        assert site.request(f"unsubscribe?token={token}", "List-Unsubscribe=One-Click")[0] == 403
    assert site.status("ben@example.net") == "active"


def test_the_answer_is_the_same_for_a_known_and_an_unknown_address(site, smtp):
    subscribe(site, smtp, "ana@example.org")
    site.request("subscribe", {"address": "ben@example.net"})  # pending
    answers = {}
    for address in ("ana@example.org", "ben@example.net", "chloe@example.com"):
        status, body, headers = site.request("subscribe", {"address": address})
        answers[address] = (status, body, {k: v for k, v in headers.items() if k != "Date"})
    assert answers["ana@example.org"] == answers["ben@example.net"] == answers["chloe@example.com"]
    assert answers["ana@example.org"][0] == 200
    mails(smtp, "chloe@example.com")
    assert len(smtp.received("ana@example.org")) == 1  # active: not mailed again
    assert len(mails(smtp, "ben@example.net", 2)) == 2  # pending: a new link


def test_the_hourly_limits_hold(tmp_path, smtp):
    site = Site(tmp_path, smtp.port, "per_address_hour = 2\nper_client_hour = 4\n")
    try:
        for _ in range(3):
            assert site.request("subscribe", {"address": "ana@example.org"})[0] == 200
        time.sleep(0.5)
        assert len(mails(smtp, "ana@example.org", 3, wait=1)) == 2  # the third is not mailed
        for address in ("ben@example.net", "chloe@example.com", "dev@example.org"):
            assert site.request("subscribe", {"address": address})[0] == 200
        time.sleep(0.5)
        assert len(mails(smtp, "chloe@example.com")) == 1 and len(smtp.received("dev@example.org")) == 0
        assert site.status("dev@example.org") is None  # past the limit nothing is recorded either
        site.clock.now += timedelta(minutes=61)  # an hour later
        assert site.request("subscribe", {"address": "dev@example.org"})[0] == 200
        assert len(mails(smtp, "dev@example.org")) == 1
    finally:
        site.close()


def test_a_trusted_proxy_passes_the_client_address_on(tmp_path, smtp):
    site = Site(tmp_path, smtp.port, 'per_client_hour = 1\ntrusted_proxies = ["127.0.0.1"]\n')
    try:
        for i, client in enumerate(("203.0.113.7", "203.0.113.8", "203.0.113.8")):
            forwarded = f"198.51.100.1, {client}"  # the first hop is what the client wrote: not believed
            site.request("subscribe", {"address": f"p{i}@example.org"}, headers={"X-Forwarded-For": forwarded})
        assert len(mails(smtp, "p0@example.org")) == 1 and len(mails(smtp, "p1@example.org")) == 1
        assert smtp.received("p2@example.org") == []  # 203.0.113.8's second
    finally:
        site.close()


def test_requests_out_of_bounds_are_refused(site):
    assert site.request("subscribe", "address=" + "a" * 9000)[0] == 413
    assert site.request("subscribe", '{"address": "a@example.org"}', headers={"Content-Type": "application/json"}
                        )[0] == 415
    assert site.request("subscribe", method="PUT", data="address=a%40example.org")[0] == 405
    status, _, headers = site.request("confirm", method="DELETE")
    assert status == 405 and headers["Allow"] == "GET, HEAD, POST"
    assert site.request("confirm", data="token=x")[0] == 405  # confirming is a GET
    assert site.request("nothing-here")[0] == 404
    assert site.request("subscribe", headers={"X-Filler": "x" * 9000})[0] == 431
    assert site.request("subscribe", {"address": "not an address"})[0] == 400
    status, body, headers = site.request("subscribe", method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 1000
    assert site.request("subscribe", {"address": "a@example.org"})[0] == 200  # and the endpoint still works


def test_the_pages_pass_the_nu_html_checker(site, smtp, tmp_path):
    from test_validity import _nu_check

    token = tokens.sign(SECRET.encode(), "unsubscribe", "ana@example.org", now=START)
    pages = {"form": site.request("subscribe"), "problem": site.request("subscribe", {"address": "x"}),
             "answer": site.request("subscribe", {"address": "ana@example.org"})}
    pages["confirmed"] = site.request(confirm_link(mails(smtp, "ana@example.org")[0]))
    pages["unsubscribe"] = site.request(f"unsubscribe?token={token}")
    pages["unsubscribed"] = site.request(f"unsubscribe?token={token}", "List-Unsubscribe=One-Click")
    pages["forbidden"] = site.request("confirm?token=forged")
    pages["missing"] = site.request("nothing-here")
    folder = tmp_path / "pages"
    folder.mkdir()
    for name, (_, body, _) in pages.items():
        (folder / f"{name}.html").write_bytes(body)
    (folder / "mail.html").write_bytes(mails(smtp, "ana@example.org")[0].get_body(("html",)).get_content().encode())
    _nu_check(sorted(folder.glob("*.html")), folder)


def test_the_wsgi_app_reads_feeds_config(tmp_path, monkeypatch):
    """`feeds.web:app` as gunicorn imports it: its config from $FEEDS_CONFIG, read at the first request."""
    from wsgiref.util import setup_testing_defaults

    from feeds.web import LazyApp

    cfg = write_config(tmp_path, [str(tmp_path / "seeds" / "*.txt")], '[web]\nurl = "https://example.org/list/"\n')
    monkeypatch.setenv("FEEDS_CONFIG", str(cfg))
    monkeypatch.setenv("FEEDS_SECRET", SECRET)
    environ: dict = {"PATH_INFO": "/list/subscribe"}
    setup_testing_defaults(environ)
    answered = []
    body = b"".join(LazyApp()(environ, lambda status, headers: answered.append(status)))
    assert answered == ["200 OK"] and b'action="subscribe"' in body


def test_feeds_serve_serves_the_endpoint_under_list(tmp_path):
    """`feeds serve` on a local preview: out/ as before, the endpoint at /list/, mail to the outbox."""
    import subprocess
    import sys

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for s in SEEDS:
        (seeds / s.name).write_bytes(s.read_bytes())
    cfg = write_config(tmp_path, [str(seeds / "*.txt")])
    run_cli("-c", str(cfg), "--now", DUE_W07, check=True)
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1", **ENV}
    with subprocess.Popen([sys.executable, "-m", "feeds", "-c", str(cfg), "serve", "--port", "0"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as server:
        try:
            base = server.stdout.readline().split(" at ")[1].split()[0]  # type: ignore[union-attr]
            lines = [server.stdout.readline().strip() for _ in range(2)]  # type: ignore[union-attr]
            assert lines[1] == f"The list's form: {base}list/subscribe", lines  # (after the note on base_url)
            with urllib.request.urlopen(base + "index.html", timeout=10) as resp:
                assert resp.status == 200
            with urllib.request.urlopen(base + "list/subscribe", timeout=10) as resp:
                assert b'action="subscribe"' in resp.read()
            req = urllib.request.Request(base + "list/subscribe", data=b"address=ana%40example.org")
            with urllib.request.urlopen(req, timeout=10) as resp:
                assert resp.status == 200
            time.sleep(0.5)
            [eml] = (tmp_path / "out" / "outbox" / "confirm").glob("*.eml")
            assert f"{base}list/confirm?token=" in eml.read_text()
            with pytest.raises(urllib.error.HTTPError) as refused:  # the outbox is still not served
                urllib.request.urlopen(base + "outbox/confirm/" + eml.name, timeout=10)
            refused.value.close()
            assert refused.value.code == 404
        finally:
            server.terminate()
            server.communicate(timeout=10)
    assert urlsplit(base).hostname == "127.0.0.1"


def test_trusted_proxies_are_addresses_or_networks():
    from feeds.errors import ConfigError

    assert config_mod.parse({"web": {"trusted_proxies": ["127.0.0.1", "10.0.0.0/8", "::1"]}}).web.trusted_proxies == (
        "127.0.0.1/32", "10.0.0.0/8", "::1/128")
    with pytest.raises(ConfigError) as err:
        config_mod.parse({"web": {"trusted_proxies": ["proxy.example.org"]}})
    assert err.value.key == "web.trusted_proxies" and "'proxy.example.org' is neither" in str(err.value)


def test_a_request_waits_for_a_pass_that_holds_the_store(site, smtp):
    """A pass writing a batch holds SQLite's write lock: the form's request waits for it, then succeeds."""
    import sqlite3

    Store(site.config.state.path).close()  # the store made and migrated
    db = sqlite3.connect(site.config.state.path, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")  # as a pass's transaction does
    answers: list[int] = []
    asking = threading.Thread(target=lambda: answers.append(site.request("subscribe", {"address": "ana@example.org"})[0]))
    asking.start()
    time.sleep(1)
    assert answers == [] and site.status("ana@example.org") is None  # waiting
    db.execute("COMMIT")
    db.close()
    asking.join(timeout=30)
    assert answers == [200] and site.status("ana@example.org") == "pending"
    assert len(mails(smtp, "ana@example.org")) == 1


@pytest.mark.parametrize(("remote", "forwarded", "client"), [
    ("203.0.113.7", "", "203.0.113.7"),  # no proxy
    ("203.0.113.7", "198.51.100.1", "203.0.113.7"),  # not a trusted proxy: its header is not believed
    ("127.0.0.1", "198.51.100.1", "198.51.100.1"),
    ("127.0.0.1", "1.2.3.4, 198.51.100.1", "198.51.100.1"),  # the client's own first hop is not believed
    ("127.0.0.1", "198.51.100.1, 10.1.2.3", "198.51.100.1"),  # a second trusted proxy is skipped
    ("127.0.0.1", "2001:db8::5", "2001:db8::5"),
    ("127.0.0.1", "", "127.0.0.1"),
    ("127.0.0.1", "10.0.0.1, 10.0.0.2", "10.0.0.1"),  # only proxies: the first hop
])
def test_the_client_address(remote, forwarded, client):
    import ipaddress

    from feeds.web.request import client_address

    trusted = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/8"))
    assert client_address({"REMOTE_ADDR": remote, "HTTP_X_FORWARDED_FOR": forwarded}, trusted) == client


@pytest.mark.parametrize(("script", "path", "route"), [
    ("", "/list/subscribe", "subscribe"), ("", "/list/", ""),
    ("/list", "/confirm", "confirm"),  # gunicorn with SCRIPT_NAME=/list
    ("", "/unsubscribe", "unsubscribe"),  # a proxy that strips /list
    ("", "/list/a/b", "a/b"),  # (not a page: 404)
])
def test_the_route_below_the_endpoint(script, path, route):
    from feeds.web.request import route as route_of

    assert route_of({"SCRIPT_NAME": script, "PATH_INFO": path}, "/list/") == route


def test_the_form_cannot_carry_a_strangers_text_to_an_inbox(site, smtp):
    """Spammers fill a form's name with their message and someone else's address, so that the
    confirmation mail delivers it. The confirmation names nobody; the name is kept for the digest."""
    spam = "Cheap loans at https://spam.example.net now"
    assert site.request("subscribe", {"address": "ana@example.org", "name": spam})[0] == 200
    [msg] = mails(smtp, "ana@example.org")
    [(_, _, raw)] = [m for m in smtp.messages if "ana@example.org" in m[1]]
    assert b"spam.example.net" not in raw and b"Cheap" not in raw and msg["To"] == "ana@example.org"
    with Store(site.config.state.path) as store:
        assert store.subscriber("ana@example.org").name == spam  # (pending: theirs to confirm)
    subscribe(site, smtp, "ben@example.net")  # active, as "Ana Lima"
    assert site.request("subscribe", {"address": "ben@example.net", "name": spam})[0] == 200
    with Store(site.config.state.path) as store:
        assert store.subscriber("ben@example.net").name == "Ana Lima", "a stranger renamed an active subscriber"
    assert site.feeds(DUE_W07).returncode == 0
    [_, digest] = mails(smtp, "ben@example.net", 2)
    assert digest["To"] == "Ana Lima <ben@example.net>"


def test_the_client_limit_counts_an_ipv6_client_by_its_64_network(tmp_path, smtp):
    """An IPv6 client is given a /64 (2^64 addresses): counted by address, it could take a new one for
    each request and mail any number of strangers through the form."""
    site = Site(tmp_path, smtp.port, 'per_client_hour = 2\ntrusted_proxies = ["127.0.0.1"]\n')
    try:
        for i, client in enumerate(("2001:db8:1:2::7", "2001:db8:1:2::8", "2001:db8:1:2:ffff::9", "2001:db8:1:3::7")):
            site.request("subscribe", {"address": f"p{i}@example.org"}, headers={"X-Forwarded-For": client})
        assert len(mails(smtp, "p0@example.org")) == 1 and len(mails(smtp, "p1@example.org")) == 1
        assert len(mails(smtp, "p3@example.org")) == 1  # another /64
        assert smtp.received("p2@example.org") == [], "the third from one /64"
    finally:
        site.close()


def test_the_form_takes_no_address_the_list_would_refuse(site, smtp):
    """RFC 5321's lengths, as `subscribers add` checks them: 64 characters before the '@', 254 in all.
    A longer one is no mailbox; past about 700 characters its confirmation link could not even be
    opened (a token is at most 1024 characters)."""
    for address in ("a" * 65 + "@example.org", "a@" + "b" * 60 + "." + "c" * 60 + "." + "d" * 60 + "."
                    + "e" * 60 + "." + "f" * 60 + ".org", "a" * 700 + "@example.org"):
        status, body, _ = site.request("subscribe", {"address": address})
        assert status == 400 and b"not an email address" in body, address
        assert site.status(address) is None
    time.sleep(0.5)
    assert smtp.messages == []


def test_the_limits_hold_for_requests_at_the_same_time(tmp_path, smtp):
    """A server answers requests in threads (`feeds serve` does) or workers (gunicorn): counted and
    then recorded in separate transactions, a burst at once all passed the count."""
    import socketserver

    class Threading(socketserver.ThreadingMixIn, WSGIServer):
        daemon_threads = True

    site = Site(tmp_path, smtp.port, "per_address_hour = 2\n", server_class=Threading)
    try:
        answers: list[int] = []
        burst = [threading.Thread(target=lambda: answers.append(site.request(
            "subscribe", {"address": "ana@example.org"})[0])) for _ in range(12)]
        for t in burst:
            t.start()
        for t in burst:
            t.join(timeout=60)
        assert answers == [200] * 12
        mails(smtp, "ana@example.org", 2)
        time.sleep(2)
        assert len(smtp.received("ana@example.org")) == 2
    finally:
        site.close()


def test_the_endpoint_without_its_slash_redirects_and_a_refused_head_has_no_body(site):
    """From /list the form's relative action would post to /subscribe, outside the endpoint: /list is
    sent to /list/ (308, so a POST stays a POST). And a HEAD refused before it is read gets no body."""
    import http.client

    host, port = site.server.server_address[:2]
    for method in ("GET", "POST"):
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            conn.request(method, "/list?from=menu", body=b"" if method == "POST" else None)
            resp = conn.getresponse()
            assert (resp.status, resp.getheader("Location")) == (308, "/list/?from=menu")
            resp.read()
        finally:
            conn.close()
    status, body, _ = site.request(site.url.rstrip("/"))  # (urllib follows it)
    assert status == 200 and b'action="subscribe"' in body
    status, body, headers = site.request("subscribe", method="HEAD", headers={"X-Filler": "x" * 9000})
    assert status == 431 and body == b"" and int(headers["Content-Length"]) > 0


def test_a_real_digests_bounce_is_believed_and_a_forged_one_is_not(site, smtp):
    """The digest a subscriber was sent, returned in a delivery report, marks them bounced; the
    same report returning a Message-ID written without the list's secret changes nothing."""
    import hashlib
    import mailbox

    from feeds import addresses

    subscribe(site, smtp, "ben@example.net")
    subscribe(site, smtp, "cy@example.net")
    assert site.feeds(DUE_W07).returncode == 0
    [_, digest] = mails(smtp, "ben@example.net", 2)
    public = hashlib.sha256(f"{addresses.list_id(site.config)}\n2025-W07\ncy@example.net".encode()).hexdigest()[:24]
    forged_id = f"<digest.2025-W07.{public}@{site.config.site.domain}>"  # (the id without the secret)
    box = mailbox.mbox(site.root / "bounces.mbox")
    for address, returned in (("cy@example.net", forged_id), ("ben@example.net", str(digest["Message-ID"]))):
        box.add(("From: MAILER-DAEMON@mx.example.net\nSubject: Undelivered Mail Returned\nMIME-Version: 1.0\n"
                 "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
                 "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
                 f"Final-Recipient: rfc822; {address}\nAction: failed\nStatus: 5.1.1\n\n"
                 f"--B\nContent-Type: text/rfc822-headers\n\nMessage-ID: {returned}\nSubject: x\n\n--B--\n").encode())
    box.close()
    proc = site.feeds(DUE_W07, "bounces", str(site.root / "bounces.mbox"))
    assert proc.returncode == 0, proc.stderr
    assert "1 address(es) marked bounced" in proc.stdout and "1 naming no digest sent to them" in proc.stdout
    assert (site.status("ben@example.net"), site.status("cy@example.net")) == ("bounced", "active")


def test_the_confirmation_mail_is_worded_by_templates_a_site_may_replace(tmp_path):
    """The confirmation's subject, text and HTML are templates: a site written in French words it in
    French by putting confirm-subject.txt.j2 and confirm.txt.j2 in its `[output] templates` folder."""
    from email.headerregistry import Address

    from feeds.web import confirmation

    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "confirm-subject.txt.j2").write_text("Confirmez votre abonnement à {{ site_title }}\n", encoding="utf-8")
    (folder / "confirm.txt.j2").write_text("Ouvrez {{ link }} dans les {{ hours }} heures.\n", encoding="utf-8")
    cfg = config_mod.parse({"site": {"title": "Le <Site>", "url": "https://example.org/", "timezone": "UTC"},
                            "output": {"templates": str(folder)}}, base=tmp_path)
    link = "https://example.org/list/confirm?token=a&b"
    msg = confirmation.message(cfg, Address(addr_spec="ann@example.org"), link, START, 48)
    assert msg["Subject"] == "Confirmez votre abonnement à Le <Site>"
    assert msg.get_body(("plain",)).get_content() == f"Ouvrez {link} dans les 48 heures.\n"
    html = msg.get_body(("html",)).get_content()  # (the built-in one, escaped)
    assert "<title>Confirmez votre abonnement à Le &lt;Site&gt;</title>" in html and 'token=a&amp;b"' in html
