"""The digest goes to the list's active subscribers only, with RFC 8058 one-click unsubscribe
links signed for each: delivered to a real SMTP server (aiosmtpd on 127.0.0.1) by the real
command line, the headers parsed with `email` and the tokens verified with feeds.tokens."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime
from email import policy
from pathlib import Path

from bs4 import BeautifulSoup
from conftest import run_cli
from test_mail import DUE, ledger, site, smtp  # noqa: F401 (smtp: the fixture)

from feeds import tokens
from feeds.store import Store

SECRET = "k9P2mXq7Lr4TzW1vB8nC5sD3fG6hJ0aE-yU_iO"
WEB = "https://list.example.org/news/"
CONFIGURED = ["ana@example.org", "ben@example.net"]
T0 = datetime(2025, 2, 10, 12, 0, tzinfo=UTC)


def feeds(cfg: Path, *args: str, now: str = DUE, secret: str | None = SECRET):
    env = {"FEEDS_SECRET": secret} if secret is not None else {}
    return run_cli("-c", str(cfg), "--now", now, *args, cwd=cfg.parent, env=env)


def store(root: Path) -> Store:
    return Store(root / "state" / "feeds.sqlite3")


def with_list(root: Path, port: int) -> Path:
    """A site whose config lists two recipients, and a list that holds four more: one added by the
    operator (active), one who confirmed (active), one who never confirmed, one who left."""
    cfg = site(root, port, CONFIGURED, extra=f'[web]\nurl = "{WEB}"\n')
    with store(root) as s:
        s.subscribe("cleo@example.com", "Cleo", source="command", now=T0)
        s.subscribe("dan@example.org", source="form", now=T0)
        s.confirm("dan@example.org", now=T0)
        s.subscribe("eve@example.org", source="form", now=T0)  # pending: never clicked
        s.subscribe("fay@example.org", source="command", now=T0)
        s.unsubscribe("fay@example.org", how="one-click", now=T0)
    return cfg


def test_the_digest_reaches_the_active_subscribers_only_each_with_a_one_click_link_signed_for_them(tmp_path, smtp):  # noqa: F811
    cfg = with_list(tmp_path, smtp.port)
    proc = feeds(cfg)
    assert proc.returncode == 0, proc.stderr
    assert "for 4 recipient(s)" in proc.stdout and "4 email(s) sent" in proc.stdout
    active = ["ana@example.org", "ben@example.net", "cleo@example.com", "dan@example.org"]
    assert sorted(r for _, tos, _ in smtp.messages for r in tos) == active
    secret = SECRET.encode()
    for address in active:
        [msg] = smtp.received(address)
        https, mailto = re.fullmatch(r"<([^>]+)>, <([^>]+)>", msg["List-Unsubscribe"].strip()).groups()
        assert https.startswith(f"{WEB}unsubscribe?token=") and mailto.startswith("mailto:")
        token = https.split("token=", 1)[1]
        assert tokens.verify(secret, token, "unsubscribe", now=datetime(2035, 1, 1, tzinfo=UTC)) == address
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text_part, html_part = msg.iter_parts()
        footer = [a["href"] for a in BeautifulSoup(html_part.get_content(), "html.parser").find_all("a")
                  if a.get_text() == "Unsubscribe"]
        assert footer == [https], "the footer's link is the header's"
        assert f"Unsubscribe: {https}" in text_part.get_content()
    assert msg["To"] == "dan@example.org"
    [cleo] = smtp.received("cleo@example.com")
    assert cleo["To"] == "Cleo <cleo@example.com>", "addressed with the name the list holds"
    assert set(ledger(tmp_path)) == set(active)
    with store(tmp_path) as s:
        assert {sub.address: sub.sent for sub in s.subscribers()} == {
            **dict.fromkeys(active, 1), "eve@example.org": 0, "fay@example.org": 0}


def test_a_configured_recipient_who_unsubscribed_stays_so_and_check_names_them(tmp_path, smtp):  # noqa: F811
    cfg = site(tmp_path, smtp.port, CONFIGURED)
    with store(tmp_path) as s:
        s.subscribe("ben@example.net", source="config", now=T0)
        s.unsubscribe("ben@example.net", how="one-click", now=T0)
    proc = feeds(cfg)
    assert proc.returncode == 0, proc.stderr
    assert [tos for _, tos, _ in smtp.messages] == [["ana@example.org"]]
    with store(tmp_path) as s:
        assert s.subscriber("ben@example.net").status == "unsubscribed"
        assert s.subscriber("ana@example.org").source == "config"
    check = run_cli("-c", str(cfg), "check", cwd=tmp_path, env={"FEEDS_SECRET": SECRET})
    assert ("digest: warning: ben@example.net is in [digest] recipients but left the list (unsubscribed, by "
            "one-click, 2025-02-10): it is not mailed") in check.stdout


def test_a_recipient_taken_out_of_the_config_leaves_the_list_and_comes_back_when_listed_again(tmp_path, smtp):  # noqa: F811
    cfg = site(tmp_path, None, CONFIGURED)  # the outbox
    assert feeds(cfg).returncode == 0
    cfg.write_text(cfg.read_text().replace('"ben@example.net"', ""), encoding="utf-8")
    assert feeds(cfg, now="2025-02-18T09:00:00+00:00").returncode == 0
    with store(tmp_path) as s:
        assert s.history("ben@example.net")[-1][:2] == ("unsubscribed", "config")
        assert s.active_addresses() == [("ana@example.org", "")]
    cfg.write_text(cfg.read_text().replace('"ana@example.org", ', '"ana@example.org", "ben@example.net"'),
                   encoding="utf-8")
    assert feeds(cfg, now="2025-02-19T09:00:00+00:00").returncode == 0
    with store(tmp_path) as s:
        assert [a for a, _ in s.active_addresses()] == CONFIGURED


def test_without_the_secret_the_digest_waits_in_the_ledger_and_the_pass_says_how_to_make_one(tmp_path, smtp):  # noqa: F811
    cfg = with_list(tmp_path, smtp.port)
    proc = feeds(cfg, secret=None)
    assert proc.returncode == 1
    assert "[web] url is set" in proc.stderr and "secrets.token_urlsafe(32)" in proc.stderr
    assert "export FEEDS_SECRET=" in proc.stderr
    assert smtp.messages == []
    assert {r["status"] for r in ledger(tmp_path).values()} == {"pending"}
    proc = feeds(cfg, now="2025-02-17T10:00:00+00:00")
    assert proc.returncode == 0, proc.stderr
    assert len(smtp.messages) == 4 and {r["status"] for r in ledger(tmp_path).values()} == {"sent"}


def test_the_outbox_too_waits_for_the_secret(tmp_path):
    cfg = site(tmp_path, None, CONFIGURED, extra=f'[web]\nurl = "{WEB}"\n')
    proc = feeds(cfg, secret="too short")
    assert proc.returncode == 1 and "fewer than 32 characters" in proc.stderr
    assert not list((tmp_path / "out" / "outbox").glob("**/*.eml"))
    assert "too short" not in proc.stderr + proc.stdout, "the secret is never shown"


def test_check_says_whether_the_secret_is_set_never_its_value_and_how_to_make_one(tmp_path):
    cfg = site(tmp_path, None, CONFIGURED)
    plain = run_cli("-c", str(cfg), "check", cwd=tmp_path, env={"FEEDS_SECRET": ""})
    assert plain.returncode == 0, plain.stdout
    assert "web: no [web] url: no endpoint" in plain.stdout and "secrets.token_urlsafe(32)" in plain.stdout
    cfg.write_text(cfg.read_text() + f'[web]\nurl = "{WEB}"\n', encoding="utf-8")
    missing = run_cli("-c", str(cfg), "check", cwd=tmp_path, env={"FEEDS_SECRET": ""})
    assert missing.returncode == 2
    [line] = [x for x in missing.stdout.splitlines() if x.startswith("web: error:")]
    assert "FEEDS_SECRET is not set" in line and "secrets.token_urlsafe(32)" in line
    present = run_cli("-c", str(cfg), "check", cwd=tmp_path, env={"FEEDS_SECRET": SECRET})
    assert present.returncode == 0, present.stdout
    assert f"web: [web] url is {WEB}; the secret in FEEDS_SECRET is set" in present.stdout
    assert SECRET not in present.stdout + present.stderr


def test_the_preview_carries_the_endpoints_link_when_the_secret_is_set(tmp_path):
    cfg = site(tmp_path, None, CONFIGURED, extra=f'[web]\nurl = "{WEB}"\n')
    assert feeds(cfg).returncode == 0
    proc = feeds(cfg, "digest", "--period", "2025-W07", "--preview")
    assert proc.returncode == 0, proc.stderr
    msg = email.message_from_bytes((tmp_path / "out" / "preview" / "2025-W07.eml").read_bytes(),
                                   policy=policy.default)
    https = msg["List-Unsubscribe"].split(">")[0].lstrip("<")
    assert tokens.verify(SECRET.encode(), https.split("token=")[1], "unsubscribe", now=T0) == "reader@example.org"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_list_unsubscribe_header_on_the_wire_is_plain_urls_not_encoded_words(tmp_path, smtp):  # noqa: F811
    """RFC 2369: the header is <URL>s. A signed link is longer than a header line's 78 characters, and
    `email` would wrap it as RFC 2047 encoded words (=?utf-8?q?=3Chttps=3A//...), which no mail client
    decodes in this header: Gmail's button would be gone. Read as a mail client reads it (compat32)."""
    cfg = with_list(tmp_path, smtp.port)
    assert feeds(cfg).returncode == 0
    assert len(smtp.messages) == 4
    for _, [address], raw in smtp.messages:
        msg = email.message_from_bytes(raw, policy=policy.compat32)  # the header's text, nothing decoded
        value = " ".join(str(msg["List-Unsubscribe"]).split())  # unfolded
        assert "=?" not in value, value
        https, mailto = re.fullmatch(r"<(https://[^>]+)>, <(mailto:[^>]+)>", value).groups()
        token = https.removeprefix(f"{WEB}unsubscribe?token=")
        assert tokens.verify(SECRET.encode(), token, "unsubscribe", now=T0) == address
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_check_names_a_configured_recipient_who_left_and_waits_to_confirm_again(tmp_path, smtp):  # noqa: F811
    cfg = site(tmp_path, smtp.port, CONFIGURED)
    with store(tmp_path) as s:
        s.subscribe("ben@example.net", source="config", now=T0)
        s.unsubscribe("ben@example.net", how="one-click", now=T0)
        s.subscribe("ben@example.net", source="form", now=T0)  # anyone may type it into the form
    proc = feeds(cfg)
    assert proc.returncode == 0, proc.stderr
    assert [tos for _, tos, _ in smtp.messages] == [["ana@example.org"]]
    check = run_cli("-c", str(cfg), "check", cwd=tmp_path, env={"FEEDS_SECRET": SECRET})
    assert ("digest: warning: ben@example.net is in [digest] recipients but left the list (unsubscribed, by "
            "one-click) and asked to join again with the form: it is not mailed until it confirms") in check.stdout


def test_one_who_unsubscribes_while_a_pass_is_mailing_is_not_mailed_by_it(tmp_path, smtp):  # noqa: F811
    """A pass to a long list takes a while; an unsubscribe that comes meanwhile (the endpoint writes it
    at once) counts for the messages not yet handed over: RFC 8058's 'stop sending' is now."""
    import threading
    import time

    cfg = with_list(tmp_path, smtp.port)
    smtp.rcpt_stall["ana@example.org"] = 1  # the pass is busy with the first (then told 451: retried later)

    def click() -> None:  # the endpoint's one-click POST, while the pass waits on ana's RCPT TO
        deadline = time.monotonic() + 30
        while "ana@example.org" not in smtp.rcpt_seen and time.monotonic() < deadline:
            time.sleep(0.05)
        with store(tmp_path) as s:
            s.unsubscribe("dan@example.org", how="one-click", now=T0)

    clicking = threading.Thread(target=click)
    clicking.start()
    proc = feeds(cfg)
    clicking.join(timeout=30)
    assert "will retry next pass): 2025-W07 ana@example.org: 451" in proc.stderr
    assert smtp.received("dan@example.org") == []
    assert ledger(tmp_path)["dan@example.org"]["status"] == "cancelled"
    assert sorted(r for _, tos, _ in smtp.messages for r in tos) == ["ben@example.net", "cleo@example.com"]
