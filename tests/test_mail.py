"""Delivering the digest to a real SMTP server (aiosmtpd on 127.0.0.1), through the ledger.

Each test runs the real CLI against the seeds: in the test's process, or as a process where one
is killed or stopped. With --now on Monday 17 February 2025 09:00 (London), the digest of 2025-W07
(10–16 February) is due.
"""

from __future__ import annotations

import asyncio
import email
import json
import os
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from bs4 import BeautifulSoup
from conftest import REPO, SEEDS, run_cli, write_config

DUE = "2025-02-17T09:00:00+00:00"
RECIPIENTS = ["ana@example.org", "ben@example.net", "chloe@example.com", "dev@example.org"]
SUBJECT = "Friends of Socialist China — week of 10–16 February 2025"
LOCAL = "http://127.0.0.1:8000/"  # conftest's base_url: a preview
BASE = "https://feeds.example.org/"  # where out/ is served, for a site that mails its digest


class Server:
    """An aiosmtpd handler that keeps what it receives; it can refuse or interrupt on purpose."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.rcpt_replies: dict[str, list[str]] = {}  # recipient → replies to give, in turn, before accepting
        self.kill_after: str | None = None  # recipient: take its message, then signal the client
        self.kill_signal = signal.SIGKILL
        self.victim: int | None = None
        self.mail_replies: list[str] = []  # replies to MAIL FROM, in turn, before accepting
        self.rcpt_stall: dict[str, float] = {}  # recipient → seconds to wait before answering its RCPT TO
        self.rcpt_drop: set[str] = set()  # recipients whose RCPT TO gets no answer: the connection is closed
        self.rcpt_seen: list[str] = []  # every RCPT TO, in order
        self.kill_at_rcpt: str | None = None  # recipient: signal the client at its RCPT TO (nothing handed over)
        self.drop_data: set[str] = set()  # recipients whose message gets no answer: the connection is closed
        self.lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        with self.lock:
            if self.mail_replies:
                return self.mail_replies.pop(0)
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        with self.lock:
            self.rcpt_seen.append(address)
            stall, drop = self.rcpt_stall.get(address), address in self.rcpt_drop
        if address == self.kill_at_rcpt and self.victim:
            os.kill(self.victim, self.kill_signal)
        if stall:
            await asyncio.sleep(stall)  # the client gave up meanwhile: this answer goes nowhere
            return "451 4.4.2 Too late"
        if drop:
            server.transport.close()
            return "421 4.4.2 Closing"  # (never reaches the client: the connection is closed)
        with self.lock:
            replies = self.rcpt_replies.get(address)
            if replies:
                return replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.drop_data & set(envelope.rcpt_tos):
            server.transport.close()  # mid-DATA: the client never hears whether the message was taken
            return "421 4.4.2 Closing"
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        if self.kill_after in envelope.rcpt_tos and self.victim:
            os.kill(self.victim, self.kill_signal)  # after the server took it, before the client hears 250
        return "250 Message accepted for delivery"

    def received(self, recipient: str) -> list[EmailMessage]:
        return [email.message_from_bytes(data, policy=policy.default)  # type: ignore[misc]
                for _, tos, data in self.messages if recipient in tos]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    handler = Server()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port  # type: ignore[attr-defined]
    yield handler
    controller.stop()


def site(root: Path, port: int | None, recipients: list[str] = RECIPIENTS, extra: str = "") -> Path:
    seeds = root / "seeds"
    seeds.mkdir(exist_ok=True)
    for s in SEEDS:
        (seeds / s.name).write_bytes(s.read_bytes())
    listed = ", ".join(f'"{r}"' for r in recipients)
    digest = (f'[digest]\nrecipients = [{listed}]\nsender = "FoSC digest <digest@example.org>"\n'
              'unsubscribe_url = "https://example.org/unsubscribe?email={email}"\n'
              'unsubscribe_mailto = "mailto:leave@example.org?subject=unsubscribe%20{email}"\n')
    mail = (f'[mail]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nattempts = 3\nbackoff = 0.05\n'
            'timeout = 10\n' if port else "")
    cfg = write_config(root, [str(seeds / "*.txt")], digest + mail + extra)
    if port:  # mailed: links that work for the readers (with a loopback base_url, nothing is mailed)
        cfg.write_text(cfg.read_text().replace(f'base_url = "{LOCAL}"', f'base_url = "{BASE}"'))
    return cfg


def feeds(cfg: Path, *args: str, now: str = DUE) -> subprocess.CompletedProcess[str]:
    return run_cli("-c", str(cfg), "--now", now, *args, cwd=cfg.parent)


def ledger(root: Path) -> dict[str, sqlite3.Row]:
    db = sqlite3.connect(root / "state" / "feeds.sqlite3")
    db.row_factory = sqlite3.Row
    rows = {r["recipient"]: r for r in db.execute("SELECT * FROM deliveries")}
    db.close()
    return rows


def test_digest_sent_once_with_every_header_both_parts_and_working_links(tmp_path, smtp):
    cfg = site(tmp_path, smtp.port)
    proc = feeds(cfg)
    assert proc.returncode == 0, proc.stderr
    assert "digest 2025-W07:" in proc.stdout and "4 email(s) sent" in proc.stdout

    rows = ledger(tmp_path)
    ids = set()
    for r in RECIPIENTS:
        [msg] = smtp.received(r)
        assert msg["From"] == "FoSC digest <digest@example.org>" and msg["To"] == r
        assert msg["Subject"] == SUBJECT
        assert msg["Date"] == "Mon, 17 Feb 2025 08:00:00 +0000"  # when the week's digest was due
        assert msg["Message-ID"] == rows[r]["message_id"]
        ids.add(msg["Message-ID"])
        assert msg["List-Id"] == "Friends of Socialist China digest <digest.socialistchina.org>"
        assert msg["List-Unsubscribe"].strip() == (f"<mailto:leave@example.org?subject=unsubscribe%20{r}>, "
                                           f"<https://example.org/unsubscribe?email={r}>")
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg.get_content_type() == "multipart/alternative"
        text_part, html_part = msg.iter_parts()
        assert text_part.get_content_type() == "text/plain" and html_part.get_content_type() == "text/html"
        text, html = (p.get_content().replace("\r\n", "\n") for p in (text_part, html_part))  # CRLF on the wire

        # The text part stands on its own: it opens with the subject, no preheader, no blank screen.
        assert text.startswith(SUBJECT + "\n")
        assert "new posts:" not in text.split("\n\n")[0]  # the preheader's wording
        soup = BeautifulSoup(html, "html.parser")
        titles = [a.get_text() for a in soup.select("td.item h2 a")]
        assert titles and all(t in " ".join(text.split()) for t in titles)  # wrapped at 72 columns
        # Every link is absolute, and every link to this site resolves to a file under out/.
        hrefs = [a["href"] for a in soup.find_all("a")]
        assert all(h.startswith(("http://", "https://", "mailto:")) for h in hrefs), hrefs
        for h in hrefs:
            if h.startswith(BASE):
                assert (tmp_path / "out" / h.removeprefix(BASE)).is_file(), h
            if "posts/" in h:
                assert h in text  # the text part names the same URLs
        assert f"{BASE}digests/2025-W07.html" in hrefs  # view in browser
        assert f"https://example.org/unsubscribe?email={r}" in hrefs  # footer
        assert "<style" not in html.split("</head>")[1]  # styles are inlined …
        assert soup.select_one("td.item")["style"]  # … into style attributes
        assert soup.select_one("div.preheader").get_text().startswith("21 new posts: ")
        assert rows[r]["status"] == "sent" and rows[r]["sent_at"] and rows[r]["attempts"] == 1
    assert len(ids) == len(RECIPIENTS)

    # A second and third pass in the same week send nothing more.
    for later in ("2025-02-17T10:00:00+00:00", "2025-02-21T18:00:00+00:00"):
        again = feeds(cfg, now=later)
        assert again.returncode == 0, again.stderr
    assert len(smtp.messages) == len(RECIPIENTS)
    # So does asking explicitly.
    assert feeds(cfg, "digest", "--send", now="2025-02-18T09:00:00+00:00").returncode == 0
    assert len(smtp.messages) == len(RECIPIENTS)


def test_message_id_is_the_same_for_the_same_period_and_recipient(tmp_path, smtp):
    one, two = tmp_path / "one", tmp_path / "two"
    for root in (one, two):
        root.mkdir()
        assert feeds(site(root, smtp.port, RECIPIENTS[:2])).returncode == 0
    first, second = smtp.messages[:2], smtp.messages[2:]
    assert [m[2] for m in first] == [m[2] for m in second]  # the same bytes, Message-ID included


def test_temporary_failure_is_retried_and_each_recipient_gets_one(tmp_path, smtp):
    smtp.rcpt_replies[RECIPIENTS[2]] = ["451 4.3.0 Try again later"]
    cfg = site(tmp_path, smtp.port)
    proc = feeds(cfg)
    assert proc.returncode == 0, proc.stderr
    for r in RECIPIENTS:
        assert len(smtp.received(r)) == 1, r
    rows = ledger(tmp_path)
    assert rows[RECIPIENTS[2]]["attempts"] == 2 and rows[RECIPIENTS[2]]["status"] == "sent"
    assert rows[RECIPIENTS[0]]["attempts"] == 1


def test_temporary_failures_beyond_the_attempts_wait_for_the_next_pass(tmp_path, smtp):
    smtp.rcpt_replies[RECIPIENTS[1]] = ["451 4.3.0 Busy"] * 3
    cfg = site(tmp_path, smtp.port)
    proc = feeds(cfg)
    assert proc.returncode == 1
    assert f"{RECIPIENTS[1]}: 451 4.3.0 Busy" in proc.stderr and "will retry next pass" in proc.stderr
    assert ledger(tmp_path)[RECIPIENTS[1]]["status"] == "pending"
    assert [len(smtp.received(r)) for r in RECIPIENTS] == [1, 0, 1, 1]
    assert feeds(cfg, now="2025-02-17T10:00:00+00:00").returncode == 0
    assert [len(smtp.received(r)) for r in RECIPIENTS] == [1, 1, 1, 1]


MANY = [f"reader{n:02d}@example.org" for n in range(8)]


@pytest.mark.parametrize("trouble", ["stall", "drop"])
def test_one_recipient_without_an_answer_does_not_hold_back_the_rest(tmp_path, smtp, trouble):
    """A RCPT TO answered later than mail.timeout, or a connection closed at it, is that
    recipient's temporary failure: retried on a new connection, then left for the next pass,
    while the others are delivered in the same pass; once the server answers, it is delivered.
    Everyone gets the digest once."""
    slow = MANY[2]
    if trouble == "stall":
        smtp.rcpt_stall[slow] = 3  # seconds; mail.timeout is 1
    else:
        smtp.rcpt_drop.add(slow)
    cfg = site(tmp_path, smtp.port, MANY)
    cfg.write_text(cfg.read_text().replace("timeout = 10", "timeout = 1"))
    proc = feeds(cfg)
    assert proc.returncode == 1
    assert [len(smtp.received(r)) for r in MANY] == [0 if r == slow else 1 for r in MANY]
    assert smtp.rcpt_seen.count(slow) == 3  # mail.attempts, each on a new connection
    assert f"digest not delivered (will retry next pass): 2025-W07 {slow}: " in proc.stderr
    assert "could not take mail" not in proc.stderr and "not tried" not in proc.stderr
    assert "8 recipient(s), 7 email(s) sent, 0 refused, 1 to retry, 0 uncertain" in proc.stdout
    rows = ledger(tmp_path)
    assert rows[slow]["status"] == "pending" and rows[slow]["attempts"] == 3
    assert {rows[r]["status"] for r in MANY if r != slow} == {"sent"}

    smtp.rcpt_stall.clear()
    smtp.rcpt_drop.clear()  # the server is fixed
    again = feeds(cfg, now="2025-02-17T10:00:00+00:00")
    assert again.returncode == 0, again.stderr
    assert [len(smtp.received(r)) for r in MANY] == [1] * len(MANY)
    assert {r["status"] for r in ledger(tmp_path).values()} == {"sent"}
    assert feeds(cfg, now="2025-02-18T10:00:00+00:00").returncode == 0
    assert len(smtp.messages) == len(MANY)


def test_a_server_that_answers_no_recipient_is_given_up_after_three(tmp_path, smtp):
    """When RCPT TO goes unanswered for three recipients in a row, the server is taken as unable
    to take mail: the rest are not tried (each would wait mail.timeout, attempt after attempt)."""
    for r in MANY:
        smtp.rcpt_stall[r] = 3
    cfg = site(tmp_path, smtp.port, MANY)
    cfg.write_text(cfg.read_text().replace("timeout = 10", "timeout = 1").replace("attempts = 3", "attempts = 1"))
    proc = feeds(cfg)
    assert proc.returncode == 1
    assert smtp.rcpt_seen == MANY[:3] and smtp.messages == []
    assert "not tried: no answer to RCPT TO for 3 recipients in a row" in proc.stderr
    assert {r["status"] for r in ledger(tmp_path).values()} == {"pending"}
    smtp.rcpt_stall.clear()
    again = feeds(cfg, now="2025-02-17T10:00:00+00:00")
    assert again.returncode == 0, again.stderr
    assert [len(smtp.received(r)) for r in MANY] == [1] * len(MANY)


def test_permanent_failure_is_recorded_and_the_rest_are_sent(tmp_path, smtp):
    smtp.rcpt_replies[RECIPIENTS[1]] = ["550 5.1.1 No such user"] * 5
    cfg = site(tmp_path, smtp.port)
    proc = feeds(cfg)
    assert proc.returncode == 1
    assert f"digest refused: 2025-W07 {RECIPIENTS[1]}: 550 5.1.1 No such user" in proc.stderr
    rows = ledger(tmp_path)
    assert rows[RECIPIENTS[1]]["status"] == "failed" and rows[RECIPIENTS[1]]["reply"] == "550 5.1.1 No such user"
    assert rows[RECIPIENTS[1]]["attempts"] == 1  # a 5xx is not retried
    assert [len(smtp.received(r)) for r in RECIPIENTS] == [1, 0, 1, 1]
    # Not retried by later passes either.
    assert feeds(cfg, now="2025-02-17T10:00:00+00:00").returncode == 0
    assert len(smtp.messages) == 3


def test_killed_after_the_hand_off_does_not_send_again(tmp_path, smtp):
    cfg = site(tmp_path, smtp.port)
    smtp.kill_after = RECIPIENTS[1]
    env = {**os.environ, "PYTHONPATH": str(REPO), "TZ": "UTC", "LC_ALL": "C.UTF-8"}
    proc = subprocess.Popen([sys.executable, "-m", "feeds", "-c", str(cfg), "--now", DUE], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    smtp.victim = proc.pid
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert [len(smtp.received(r)) for r in RECIPIENTS] == [1, 1, 0, 0]
    assert ledger(tmp_path)[RECIPIENTS[1]]["status"] == "sending"

    smtp.kill_after = None
    restart = feeds(cfg, now="2025-02-17T09:05:00+00:00")
    assert restart.returncode == 1  # says that one delivery is uncertain
    assert f"may or may not have been delivered (not sent again): 2025-W07 {RECIPIENTS[1]}" in restart.stderr
    assert [len(smtp.received(r)) for r in RECIPIENTS] == [1, 1, 1, 1]  # the rest resumed, no one twice
    rows = ledger(tmp_path)
    assert rows[RECIPIENTS[1]]["status"] == "unknown"
    assert {rows[r]["status"] for r in (RECIPIENTS[0], *RECIPIENTS[2:])} == {"sent"}
    assert feeds(cfg, now="2025-02-18T09:00:00+00:00").returncode == 0  # reported once, not forever
    assert len(smtp.messages) == 4


@pytest.mark.parametrize("trouble", ["refused", "dropped mid-DATA"])
def test_a_failure_recorded_by_a_pass_that_was_then_killed_is_named_by_the_next_pass_once(tmp_path, smtp, trouble):
    """The pass that records a refusal (5xx) or an uncertain hand-off dies before it can say so:
    the next pass names it on stderr and exits 1; the one after does not name it again."""
    cfg = site(tmp_path, smtp.port)
    if trouble == "refused":
        smtp.rcpt_replies[RECIPIENTS[1]] = ["550 5.1.1 No such user"] * 5
        named = f"digest refused: 2025-W07 {RECIPIENTS[1]}: 550 5.1.1 No such user"
    else:
        smtp.drop_data.add(RECIPIENTS[1])
        named = f"digest may or may not have been delivered (not sent again): 2025-W07 {RECIPIENTS[1]}: "
    smtp.kill_at_rcpt = RECIPIENTS[2]  # after the second recipient's outcome is recorded
    env = {**os.environ, "PYTHONPATH": str(REPO), "TZ": "UTC", "LC_ALL": "C.UTF-8"}
    proc = subprocess.Popen([sys.executable, "-m", "feeds", "-c", str(cfg), "--now", DUE], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    smtp.victim = proc.pid
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL and RECIPIENTS[1] not in err
    rows = ledger(tmp_path)
    assert rows[RECIPIENTS[1]]["status"] == ("failed" if trouble == "refused" else "unknown")

    smtp.kill_at_rcpt = None
    after = feeds(cfg, now="2025-02-17T09:05:00+00:00")
    assert after.returncode == 1
    lines = [line for line in after.stderr.splitlines() if RECIPIENTS[1] in line]
    assert len(lines) == 1 and lines[0].startswith(f"feeds: {named}"), after.stderr
    assert [len(smtp.received(r)) for r in RECIPIENTS] == [1, 0, 1, 1]  # the rest resumed, no one twice

    later = feeds(cfg, now="2025-02-17T10:00:00+00:00")  # named once, not on every pass
    assert later.returncode == 0 and RECIPIENTS[1] not in later.stderr, later.stderr
    assert len(smtp.messages) == 3
    status = feeds(cfg, "status", now="2025-02-17T10:00:00+00:00")
    assert f"not sent:     2025-W07 {RECIPIENTS[1]}: {rows[RECIPIENTS[1]]['status']}" in status.stdout  # (still)


def test_a_failure_named_by_the_pass_that_records_it_is_not_named_again(tmp_path, smtp):
    smtp.drop_data.add(RECIPIENTS[0])
    cfg = site(tmp_path, smtp.port)
    first = feeds(cfg)
    assert first.returncode == 1
    assert f"may or may not have been delivered (not sent again): 2025-W07 {RECIPIENTS[0]}: " in first.stderr
    assert [len(smtp.received(r)) for r in RECIPIENTS] == [0, 1, 1, 1]
    again = feeds(cfg, now="2025-02-17T10:00:00+00:00")
    assert again.returncode == 0 and RECIPIENTS[0] not in again.stderr, again.stderr


def test_sigterm_during_delivery_stops_after_the_message_in_hand_and_the_next_pass_sends_the_rest(tmp_path, smtp):
    cfg = site(tmp_path, smtp.port)
    smtp.kill_after, smtp.kill_signal = RECIPIENTS[1], signal.SIGTERM
    env = {**os.environ, "PYTHONPATH": str(REPO), "TZ": "UTC", "LC_ALL": "C.UTF-8"}
    proc = subprocess.Popen([sys.executable, "-m", "feeds", "-c", str(cfg), "--now", DUE], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    smtp.victim = proc.pid
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err  # asked to stop, and it did: not a failure
    assert "SIGTERM: stopping at the next safe point" in err and "not delivered" not in err
    assert out.startswith("feeds: stopped at a safe point as asked: 2 dump(s) read; digest 2025-W07: ")
    assert "2 email(s) sent, 2 email(s) not sent yet" in out
    rows = ledger(tmp_path)
    assert [rows[r]["status"] for r in RECIPIENTS] == ["sent", "sent", "pending", "pending"]

    smtp.kill_after = None
    again = feeds(cfg, now="2025-02-17T09:05:00+00:00")
    assert again.returncode == 0, again.stderr
    assert [len(smtp.received(r)) for r in RECIPIENTS] == [1, 1, 1, 1]
    assert {r["status"] for r in ledger(tmp_path).values()} == {"sent"}


def test_server_down_leaves_the_digest_pending_until_it_is_back(tmp_path):
    port = free_port()  # nothing listens there
    cfg = site(tmp_path, port)
    proc = feeds(cfg)
    assert proc.returncode == 1
    assert "will retry next pass" in proc.stderr and "Connection refused" in proc.stderr
    assert {r["status"] for r in ledger(tmp_path).values()} == {"pending"}

    handler = Server()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert feeds(cfg, now="2025-02-17T11:00:00+00:00").returncode == 0
    finally:
        controller.stop()
    assert [len(handler.received(r)) for r in RECIPIENTS] == [1, 1, 1, 1]


def test_without_smtp_the_messages_go_to_the_outbox(tmp_path):
    cfg = site(tmp_path, None, RECIPIENTS[:2])
    assert f'base_url = "{LOCAL}"' in cfg.read_text()  # a preview's: the outbox mails no one, so nothing is refused
    proc = feeds(cfg)
    assert proc.returncode == 0, proc.stderr
    box = tmp_path / "out" / "outbox" / "2025-W07"
    files = sorted(box.glob("*.eml"))
    assert [f.name for f in files] == sorted(f"{r}.eml" for r in RECIPIENTS[:2])
    msg = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert msg["Subject"] == SUBJECT and msg.get_content_type() == "multipart/alternative"
    before = {f: f.stat().st_mtime_ns for f in files}
    assert feeds(cfg, now="2025-02-17T10:00:00+00:00").returncode == 0
    assert {f: f.stat().st_mtime_ns for f in files} == before
    assert {r["status"] for r in ledger(tmp_path).values()} == {"sent"}


def test_bad_addresses_in_the_recipients_file_are_reported_and_skipped(tmp_path, smtp):
    listing = tmp_path / "recipients.txt"
    listing.write_text("# the list\nana@example.org\nnot an address\nben@example.net  # Ben\n"
                       "eve@example.org\\r\\nBcc: all@example.org\nANA@example.org\n", encoding="utf-8")
    cfg = site(tmp_path, smtp.port, [], extra="")
    cfg.write_text(cfg.read_text().replace("recipients = []", f'recipients_file = "{listing}"'))
    proc = feeds(cfg)
    assert proc.returncode == 1
    assert f"{listing}:3:" in proc.stderr and f"{listing}:5:" in proc.stderr and "skipped" in proc.stderr
    assert sorted(to for _, tos, _ in smtp.messages for to in tos) == ["ana@example.org", "ben@example.net"]


NAMED = ["Ana Núñez <ana@example.org>", "chloe@example.com"]
NAMED_IN_FILE = """"Ben O'Brien, Jr." <ben@example.net>\n"""


def named_site(root: Path, port: int | None) -> Path:
    """Recipients with names, in the config and in a recipients file, and one without."""
    (root / "recipients.txt").write_text(NAMED_IN_FILE, encoding="utf-8")
    cfg = site(root, port, NAMED)
    cfg.write_text(cfg.read_text().replace("[digest]\n", f'[digest]\nrecipients_file = "{root / "recipients.txt"}"\n'))
    return cfg


def names_in_to(messages: dict[str, bytes]) -> dict[str, tuple[str, str]]:
    """Each message's To, parsed: its one address's (name, address), by the address it went to."""
    found = {}
    for rcpt, data in messages.items():
        msg = email.message_from_bytes(data, policy=policy.default)
        [to] = msg["To"].addresses
        assert len(msg.get_all("To")) == 1 and "Bcc" not in msg and "Cc" not in msg
        found[rcpt] = (to.display_name, to.addr_spec)
    return found


EXPECTED_TO = {"ana@example.org": ("Ana Núñez", "ana@example.org"), "chloe@example.com": ("", "chloe@example.com"),
               "ben@example.net": ("Ben O'Brien, Jr.", "ben@example.net")}


def test_to_names_the_recipient_as_configured(tmp_path, smtp):
    cfg = named_site(tmp_path, smtp.port)
    proc = feeds(cfg)
    assert proc.returncode == 0, proc.stderr
    assert sorted(to for _, tos, _ in smtp.messages for to in tos) == sorted(EXPECTED_TO)  # RCPT TO: the address
    assert names_in_to({tos[0]: data for _, tos, data in smtp.messages}) == EXPECTED_TO
    assert set(ledger(tmp_path)) == set(EXPECTED_TO)


def test_to_names_the_recipient_in_the_outbox_too(tmp_path):
    cfg = named_site(tmp_path, None)
    assert feeds(cfg).returncode == 0
    box = tmp_path / "out" / "outbox" / "2025-W07"
    assert names_in_to({r: (box / f"{r}.eml").read_bytes() for r in EXPECTED_TO}) == EXPECTED_TO


@pytest.mark.parametrize("name", ["Eve\nBcc: all@example.org", "Eve\r\nBcc: all@example.org", "Eve\rBcc: all@example.org"])
def test_a_name_with_a_line_break_never_reaches_a_header(tmp_path, smtp, name):
    listed = json.dumps(f"{name} <eve@example.org>")  # (a TOML string)
    cfg = site(tmp_path, smtp.port, [])
    cfg.write_text(cfg.read_text().replace("recipients = []", f"recipients = [{listed}]"))
    proc = feeds(cfg)
    assert proc.returncode == 2 and "digest.recipients[0]" in proc.stderr and "single line" in proc.stderr
    assert smtp.messages == [] and not (tmp_path / "state").exists()


@pytest.mark.parametrize("brk", ["\u2028", "\x85", "\x0b", "\x1c"])
def test_a_name_broken_by_a_unicode_line_break_in_the_recipients_file_stays_in_to(tmp_path, smtp, brk):
    """Python splits the file's lines there too: "Bcc: …" starts a line (an address named so), not a header."""
    listing = tmp_path / "recipients.txt"
    listing.write_text(f"Eve{brk}Bcc: all@example.org <eve@example.org>\n", encoding="utf-8")
    cfg = site(tmp_path, smtp.port, [])
    cfg.write_text(cfg.read_text().replace("recipients = []", f'recipients_file = "{listing}"'))
    assert feeds(cfg).returncode == 1  # "Eve" alone is no address: skipped, and said
    assert [tos for _, tos, _ in smtp.messages] == [["eve@example.org"]]
    assert names_in_to({"eve@example.org": smtp.messages[0][2]}) == {
        "eve@example.org": ("Bcc: all@example.org", "eve@example.org")}


def test_no_new_posts_no_email(tmp_path, smtp):
    cfg = site(tmp_path, smtp.port)
    # Seeds read for the first time in 2026: every post is older than the week by far more
    # than the back-fill window, so the first digest lists nothing and is not sent.
    proc = feeds(cfg, now="2026-03-02T09:00:00+00:00")
    assert proc.returncode == 0, proc.stderr
    assert "digest 2026-W09: no new posts, no email" in proc.stdout
    assert smtp.messages == [] and ledger(tmp_path) == {}


# -- TLS and login ------------------------------------------------------------------------

def _certificate(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("no openssl on PATH to make a test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"digest", b"s3cret")
    return AuthResult(success=ok, handled=False)


def test_past_weeks_are_archived_and_never_mailed_only_the_week_due_is(tmp_path, smtp):
    """The first pass archives the weeks before the one due, by publication date, and mails
    only the week due; later passes mail no past week, and the mailed week's page stays as mailed."""
    cfg = site(tmp_path, smtp.port)
    proc = feeds(cfg)
    assert proc.returncode == 0, proc.stderr
    assert "digest 2025-W07: 21 post(s) for 4 recipient(s), 4 email(s) sent" in proc.stdout  # the back-fill guard
    assert sorted(to for _, tos, _ in smtp.messages for to in tos) == sorted(RECIPIENTS)
    assert {m["Subject"] for r in RECIPIENTS for m in smtp.received(r)} == {SUBJECT}
    out = tmp_path / "out" / "digests"

    def listed(week: str) -> int:
        soup = BeautifulSoup((out / f"{week}.html").read_text(encoding="utf-8"), "html.parser")
        return len(soup.select("td.item")) + len(soup.select("td.rest li"))

    # W06's posts were all in W07's window: mailed there. The 17 older ones are archived by week.
    assert sorted(p.name for p in out.glob("*-W*.html")) == [f"2025-W0{n}.html" for n in (2, 3, 4, 5, 7)]
    assert [listed(w) for w in ("2025-W07", "2025-W05", "2025-W04", "2025-W03", "2025-W02")] == [21, 5, 6, 5, 1]
    mailed = (out / "2025-W07.html").read_bytes()
    for later in ("2025-02-24T09:00:00+00:00", "2026-11-23T09:00:00+00:00"):
        again = feeds(cfg, now=later)
        assert again.returncode == 0 and "no new posts, no email" in again.stdout, again.stderr
    assert len(smtp.messages) == len(RECIPIENTS)
    assert {r["period"] for r in ledger(tmp_path).values()} == {"2025-W07"}
    assert (out / "2025-W07.html").read_bytes() == mailed


def tls_server(tmp_path, security: str):
    """A started aiosmtpd over STARTTLS or implicit TLS that wants a login (digest / s3cret):
    (controller, handler, port, the certificate to trust)."""
    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler, port = Server(), free_port()
    tls = ({"tls_context": context, "require_starttls": True} if security == "starttls"
           else {"ssl_context": context, "server_hostname": "127.0.0.1", "auth_require_tls": False})
    # (aiosmtpd only knows of TLS it started itself: with implicit TLS it must be told AUTH is fine)
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=_authenticator,
                            auth_required=True, **tls)
    controller.start()
    return controller, handler, port, cert


@pytest.mark.parametrize("security", ["starttls", "tls"])
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")  # it is TLS: see tls_server
def test_tls_and_login_with_the_password_from_the_environment(tmp_path, security):
    controller, handler, port, cert = tls_server(tmp_path, security)
    try:
        cfg = site(tmp_path, port, RECIPIENTS[:2])
        cfg.write_text(cfg.read_text().replace('security = "none"', f'security = "{security}"\nusername = "digest"\n'
                                               f'password_env = "TEST_SMTP_PASSWORD"\ncafile = "{cert}"'))
        missing = feeds(cfg)
        assert missing.returncode == 2 and "export TEST_SMTP_PASSWORD=" in missing.stderr
        os.environ["TEST_SMTP_PASSWORD"] = "wrong"
        # (In this process: a connection whose login was refused and left open would be an
        # unclosed socket, an error here.)
        wrong = run_cli("-c", str(cfg), "--now", DUE, cwd=cfg.parent)
        assert wrong.returncode == 2 and "SMTP login to 127.0.0.1 as 'digest' refused (535" in wrong.stderr
        assert handler.messages == [] and {r["status"] for r in ledger(tmp_path).values()} == {"pending"}
        os.environ["TEST_SMTP_PASSWORD"] = "s3cret"
        right = feeds(cfg)
        assert right.returncode == 0, right.stderr
        assert [len(handler.received(r)) for r in RECIPIENTS[:2]] == [1, 1]
    finally:
        os.environ.pop("TEST_SMTP_PASSWORD", None)
        controller.stop()


def test_digest_send_composes_and_delivers_the_due_digest(tmp_path, smtp):
    cfg = site(tmp_path, smtp.port, RECIPIENTS[:2])
    assert feeds(cfg, now="2025-02-17T07:00:00+00:00").returncode == 0  # W06's digest: due since the 10th
    assert len(smtp.messages) == 2
    (tmp_path / "seeds" / "later.txt").write_text(
        "A post that arrived on Monday morning\n\nIts opening paragraph, in a dump saved after the pass.\n\n"
        "Continue reading A post that arrived on Monday morning\n", encoding="utf-8")
    assert feeds(cfg, "run", now="2025-02-17T07:30:00+00:00").returncode == 0  # stores it; W07 not due yet
    assert len(smtp.messages) == 2
    proc = feeds(cfg, "digest", "--send", now="2025-02-17T08:05:00+00:00")
    assert proc.returncode == 0, proc.stderr
    assert "digest 2025-W07: 1 post(s) for 2 recipient(s), 2 email(s) sent" in proc.stdout
    msg = smtp.received(RECIPIENTS[0])[-1]
    assert msg["Subject"] == SUBJECT and "A post that arrived on Monday morning" in msg.get_body(("plain",)).get_content()
    assert feeds(cfg, "digest", "--send", now="2025-02-17T08:10:00+00:00").returncode == 0
    assert len(smtp.messages) == 4



def test_a_server_refusing_the_sender_fails_nobody(tmp_path, smtp):
    smtp.mail_replies = ["530 5.7.0 Authentication required"] * 3  # every attempt of the first pass
    cfg = site(tmp_path, smtp.port)
    proc = feeds(cfg)
    assert proc.returncode == 1 and "refused the sender" in proc.stderr and "530 5.7.0" in proc.stderr
    assert {r["status"] for r in ledger(tmp_path).values()} == {"pending"}  # nobody failed
    assert smtp.messages == []
    fixed = feeds(cfg, now="2025-02-17T10:00:00+00:00")
    assert fixed.returncode == 0, fixed.stderr
    assert [len(smtp.received(r)) for r in RECIPIENTS] == [1, 1, 1, 1]


def test_a_server_that_will_not_talk_is_not_hammered(tmp_path):
    port, greetings = free_port(), []
    listener = socket.create_server(("127.0.0.1", port))

    def busy() -> None:  # an SMTP server answering every connection "421 busy"
        listener.settimeout(20)
        try:
            while True:
                conn, _ = listener.accept()
                greetings.append(1)
                conn.sendall(b"421 4.3.2 Too busy, try later\r\n")
                conn.close()
        except OSError:
            pass

    thread = threading.Thread(target=busy, daemon=True)
    thread.start()
    try:
        proc = feeds(site(tmp_path, port))
    finally:
        listener.close()
    assert proc.returncode == 1 and "421 4.3.2 Too busy" in proc.stderr
    assert len(greetings) == 3  # the attempts of the first recipient, not three for each of the four
    assert {r["status"] for r in ledger(tmp_path).values()} == {"pending"}


def test_an_address_removed_before_delivery_is_not_sent_the_pending_digest(tmp_path, smtp):
    port = free_port()  # down at first
    cfg = site(tmp_path, port)
    assert feeds(cfg).returncode == 1
    cfg.write_text(cfg.read_text().replace(f'"{RECIPIENTS[1]}", ', "").replace(f"port = {port}", f"port = {smtp.port}"))
    assert feeds(cfg, now="2025-02-17T10:00:00+00:00").returncode == 0
    assert [len(smtp.received(r)) for r in RECIPIENTS] == [1, 0, 1, 1]
    assert ledger(tmp_path)[RECIPIENTS[1]]["status"] == "cancelled"


def test_an_empty_recipients_file_does_not_use_up_the_digest(tmp_path):
    listing = tmp_path / "recipients.txt"
    listing.write_text("# being rewritten\n", encoding="utf-8")
    cfg = site(tmp_path, None, [])
    cfg.write_text(cfg.read_text().replace("recipients = []", f'recipients_file = "{listing}"'))
    first = feeds(cfg)
    assert first.returncode == 1 and "digest not composed" in first.stderr
    listing.write_text("ana@example.org\n", encoding="utf-8")
    second = feeds(cfg, now="2025-02-17T10:00:00+00:00")
    assert "digest 2025-W07: 21 post(s) for 1 recipient(s)" in second.stdout
    assert (tmp_path / "out" / "outbox" / "2025-W07" / "ana@example.org.eml").is_file()


def test_outbox_file_names_are_one_per_address(tmp_path):
    cfg = site(tmp_path, None, ["a'b@example.org", "a_b@example.org", "a/b@example.org"])
    assert feeds(cfg).returncode == 0
    names = sorted(p.name for p in (tmp_path / "out" / "outbox" / "2025-W07").iterdir())
    assert names == ["a%27b@example.org.eml", "a%2Fb@example.org.eml", "a_b@example.org.eml"]


# -- never mailed with dead links or a sender the config does not claim -------------------

def test_a_loopback_base_url_mails_nothing_and_the_fixed_config_mails_it_once(tmp_path, smtp):
    cfg = site(tmp_path, smtp.port, RECIPIENTS[:2])
    cfg.write_text(cfg.read_text().replace(BASE, LOCAL))
    for when in (DUE, "2025-02-17T10:00:00+00:00"):
        refused = feeds(cfg, now=when)
        assert refused.returncode == 1, refused.stderr
        [line] = [x for x in refused.stderr.splitlines() if "digest not mailed" in x]
        assert "(2 message(s) wait for a pass with this fixed)" in line
        assert f"site.base_url = '{LOCAL}' is a loopback address" in line and "set [site] base_url to" in line
        assert smtp.messages == []
        assert {r["status"] for r in ledger(tmp_path).values()} == {"pending"}
    # Nothing else was held back: the pass stored, published and archived as usual.
    assert (tmp_path / "out" / "atom.xml").is_file() and (tmp_path / "out" / "digests" / "2025-W07.html").is_file()

    cfg.write_text(cfg.read_text().replace(LOCAL, BASE))
    fixed = feeds(cfg, now="2025-02-17T11:00:00+00:00")
    assert fixed.returncode == 0, fixed.stderr
    assert "2 email(s) sent" in fixed.stdout
    for r in RECIPIENTS[:2]:
        [msg] = smtp.received(r)
        assert f"{BASE}digests/2025-W07.html" in msg.get_body(("plain",)).get_content()  # the links work now
    assert feeds(cfg, now="2025-02-18T09:00:00+00:00").returncode == 0
    assert len(smtp.messages) == 2


@pytest.mark.parametrize("fix", ["site.url", "digest.sender"])
def test_a_sender_on_a_domain_the_config_does_not_claim_mails_nothing_until_fixed(tmp_path, smtp, fix):
    cfg = site(tmp_path, smtp.port, RECIPIENTS[:1])
    text = cfg.read_text()
    url, sender = 'url = "https://socialistchina.org/"\n', 'sender = "FoSC digest <digest@example.org>"\n'
    assert text.count(f"\n{url}") == 1 and text.count(sender) == 1
    cfg.write_text(text.replace(f"\n{url}", "\n").replace(sender, ""))
    refused = feeds(cfg)
    assert refused.returncode == 1, refused.stderr
    [line] = [x for x in refused.stderr.splitlines() if "digest not mailed" in x]
    assert "the digest's sender would be digest@feeds.example.org, on a domain this configuration does not claim: " \
           "site.url is empty" in line
    assert "SPF and DMARC" in line and "Set [site] url" in line and "[digest] sender" in line
    assert smtp.messages == []

    text = cfg.read_text()
    cfg.write_text(text.replace("[site]\n", f"[site]\n{url}") if fix == "site.url" else
                   text.replace("[digest]\n", f"[digest]\n{sender}"))
    fixed = feeds(cfg, now="2025-02-17T10:00:00+00:00")
    assert fixed.returncode == 0, fixed.stderr
    [msg] = smtp.received(RECIPIENTS[0])
    assert msg["From"] == ("Friends of Socialist China <digest@socialistchina.org>" if fix == "site.url"
                           else "FoSC digest <digest@example.org>")
    assert feeds(cfg, now="2025-02-18T10:00:00+00:00").returncode == 0
    assert len(smtp.messages) == 1


@pytest.mark.parametrize("site_table, sender, refused", [
    ({"url": "https://example.org/", "base_url": "https://example.org/feeds/"}, "", []),
    ({"url": "https://example.org/"}, "", ["site.base_url"]),  # the default base_url: 127.0.0.1
    ({"url": "https://example.org/", "base_url": "http://localhost:8000/"}, "", ["site.base_url"]),
    ({"url": "https://example.org/", "base_url": "http://app.localhost/"}, "", ["site.base_url"]),
    ({"url": "https://example.org/", "base_url": "http://127.3.2.1/"}, "", ["site.base_url"]),
    ({"url": "https://example.org/", "base_url": "http://[::1]:8000/"}, "", ["site.base_url"]),
    ({"url": "https://example.org/", "base_url": "http://[::ffff:127.0.0.1]/"}, "", ["site.base_url"]),
    ({"url": "https://example.org/", "base_url": "http://0.0.0.0:8000/"}, "", ["site.base_url"]),
    ({"url": "https://example.org/", "base_url": "http://192.168.1.20/"}, "", []),  # an intranet's: may be read
    ({"base_url": "https://example.org/feeds/"}, "", ["sender would be digest@example.org"]),
    ({"base_url": "https://example.org/feeds/"}, "d@example.org", []),
    ({"url": "http://127.0.0.1/", "base_url": "https://example.org/"}, "", ["site.url = 'http://127.0.0.1/'"]),
    ({"url": "https://example.org/", "base_url": "https://example.org/"}, "d@127.0.0.1", ["digest.sender"]),
    ({}, "", ["site.base_url", "sender would be digest@127.0.0.1"]),  # the defaults
])
def test_what_may_be_mailed(site_table, sender, refused):
    from feeds import config, mail

    cfg = config.parse({"site": site_table, "digest": {"sender": sender} if sender else {}})
    found = mail.refusals(cfg)
    assert len(found) == len(refused) and all(r in f for r, f in zip(refused, found, strict=True)), found


def test_a_domain_is_claimed_by_site_url_or_a_parent_of_its_host():
    from feeds import config, mail

    cfg = config.parse({"site": {"url": "https://www.example.org/"}})
    assert [d for d in ("www.example.org", "example.org", "EXAMPLE.org.", "org", "ample.org", "mail.example.org",
                        "example.com") if mail.claims(cfg, d)] == ["www.example.org", "example.org", "EXAMPLE.org."]
    assert not mail.claims(config.parse({"site": {"base_url": "https://example.org/"}}), "example.org")
