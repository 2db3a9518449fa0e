"""`feeds check`: the config, the templates, the dumps a pass would read and skip, and the
SMTP server (a real aiosmtpd on 127.0.0.1), each step on its own line; nothing written,
nothing sent."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from conftest import NOW, REPO, SEEDS, run_cli, run_process, write_config
from test_mail import Server, free_port
from test_mail import tls_server as start_tls_server


def feeds(cfg: Path, *args: str, env: dict[str, str] | None = None,
          process: bool = False) -> subprocess.CompletedProcess[str]:
    """`feeds check` and the like, in this process; `process`: as a process, for a check whose SMTP
    connection fails after it was made (mail.Smtp._connect leaves that one for the exit to close:
    in this process, an unclosed socket, an error in the tests)."""
    run = run_process if process else run_cli
    return run("-c", str(cfg), "--now", NOW, *args, cwd=cfg.parent, env=env)


def site(root: Path, extra: str = "", *, base_url: str = "https://feeds.example.org/") -> Path:
    seeds = root / "seeds"
    seeds.mkdir(exist_ok=True)
    for s in SEEDS:
        (seeds / s.name).write_bytes(s.read_bytes())
    cfg = write_config(root, [str(seeds / "*.txt")], extra)
    cfg.write_text(cfg.read_text().replace('base_url = "http://127.0.0.1:8000/"', f'base_url = "{base_url}"'))
    return cfg


def snapshot(root: Path) -> dict[str, str]:
    """Every file under the state and out/ folders, by its bytes."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in ("state", "out") for p in sorted((root / folder).rglob("*")) if p.is_file()}


def test_lists_the_dumps_a_pass_would_read_and_skip_and_changes_nothing(tmp_path):
    cfg = site(tmp_path)
    first = feeds(cfg, "check")
    assert first.returncode == 0, first.stdout + first.stderr
    lines = first.stdout.splitlines()
    for s in SEEDS:
        assert f"dumps: a pass would read {tmp_path / 'seeds' / s.name} (new: 20 post(s))" in lines
    assert "dumps: 2 to read, 0 unchanged since the last pass, 0 to skip" in lines
    assert lines[-1] == "check: all well"
    assert not (tmp_path / "state").exists() and not (tmp_path / "out").exists()

    assert feeds(cfg).returncode == 0  # a pass
    (tmp_path / "seeds" / "empty.txt").write_text("\n", encoding="utf-8")
    changed = tmp_path / "seeds" / SEEDS[0].name
    changed.write_text("A new post on top\n\nIts text, long enough to be a post.\n\n" + changed.read_text(),
                       encoding="utf-8")
    before = snapshot(tmp_path)
    second = feeds(cfg, "check")
    assert second.returncode == 1, second.stdout + second.stderr
    lines = second.stdout.splitlines()
    assert f"dumps: a pass would read {changed} (changed since the last pass: 21 post(s))" in lines
    assert any(line.startswith(f"dumps: warning: a pass would skip {tmp_path / 'seeds' / 'empty.txt'}: ")
               for line in lines), lines
    assert "dumps: 1 to read, 1 unchanged since the last pass, 1 to skip" in lines
    assert lines[-1] == "check: 0 error(s), 1 warning(s)"
    assert snapshot(tmp_path) == before  # the state and out/ as they were: no -wal, no -shm, no lock taken


def test_a_path_that_matches_nothing_is_a_warning(tmp_path):
    cfg = site(tmp_path)
    cfg.write_text(cfg.read_text().replace("*.txt", "*.text"))
    proc = feeds(cfg, "check")
    assert proc.returncode == 1
    assert "no file matches this path (input.paths)" in proc.stdout


def test_a_bad_config_is_an_error_naming_the_key(tmp_path):
    cfg = site(tmp_path, "[loop]\ninterval = 0\n")
    proc = feeds(cfg, "check")
    assert proc.returncode == 2
    assert proc.stdout.splitlines() == [
        f"config: error: {cfg}: loop.interval = 0 is invalid: expected a number of minutes from 1 to 10080 (a week)",
        "check: 1 error(s), 0 warning(s)"]


@pytest.mark.parametrize("name, says", [("post.html.j2", "post.html.j2, line 11"),
                                        ("digests.html.j2", "digests.html.j2, line"),
                                        ("digest.txt.j2", "digest.txt.j2, line 1"),
                                        ("subscribe.html.j2", "subscribe.html.j2, line"),
                                        ("confirm.txt.j2", "confirm.txt.j2, line 1")])
def test_a_template_that_fails_with_sample_data_is_an_error(tmp_path, name, says):
    """Each template is rendered, as a pass or a digest renders it, whatever a pass would write."""
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    text = (templates / name).read_text(encoding="utf-8")
    edited = (text.replace("{% block main %}\n", "{% block main %}\n{{ no_such_name }}\n", 1)
              if "{% block main %}" in text else "{{ no_such_name }}\n" + text)
    (templates / name).write_text(edited, encoding="utf-8")
    cfg = site(tmp_path, f'[output]\ntemplates = "{templates}"\n')
    cfg.write_text(cfg.read_text().replace('\n[output]\ndir', '\ndir'))  # (one [output] table)
    proc = feeds(cfg, "check")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    [line] = [line for line in proc.stdout.splitlines() if line.startswith("templates: error:")]
    assert says in line and "'no_such_name' is undefined" in line


# -- the SMTP server ----------------------------------------------------------------------

def mail_config(root: Path, port: int, extra: str = "") -> Path:
    return site(root, f'[digest]\nrecipients = ["ana@example.org"]\nsender = "Digest <digest@example.org>"\n'
                      f'[mail]\nhost = "127.0.0.1"\nport = {port}\ntimeout = 10\n{extra}')


def smtp_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in proc.stdout.splitlines() if line.startswith("smtp:")]


def test_plain_smtp_each_step_on_its_own_line_and_nothing_sent(tmp_path):
    handler, port = Server(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        proc = feeds(mail_config(tmp_path, port, 'security = "none"\n'), "check")
    finally:
        controller.stop()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = smtp_lines(proc)
    assert lines[:2] == [f"smtp: connect 127.0.0.1:{port} ok", "smtp: EHLO ok"]
    assert lines[2].startswith("smtp: MAIL FROM:<digest@example.org> ok (250") and lines[2].endswith(
        "reset: nothing sent")
    assert len(lines) == 3
    assert handler.messages == []


def test_a_server_that_is_down_is_an_error(tmp_path):
    port = free_port()
    proc = feeds(mail_config(tmp_path, port, 'security = "none"\n'), "check")
    assert proc.returncode == 2
    [line] = smtp_lines(proc)
    assert line.startswith(f"smtp: error: connect 127.0.0.1:{port} failed: cannot talk to 127.0.0.1:{port}")


def test_starttls_asked_of_a_server_without_it_is_an_error(tmp_path):
    handler, port = Server(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        proc = feeds(mail_config(tmp_path, port), "check")  # security: starttls, the default
    finally:
        controller.stop()
    assert proc.returncode == 2
    assert smtp_lines(proc)[-1].startswith("smtp: error: STARTTLS failed: ") and "it has no STARTTLS" in proc.stdout
    assert handler.messages == []


@pytest.fixture
def tls_server(tmp_path, request):
    """An aiosmtpd that wants a login (digest / s3cret), over STARTTLS or implicit TLS."""
    security = request.param
    controller, handler, port, cert = start_tls_server(tmp_path, security)
    extra = f'security = "{security}"\nusername = "digest"\npassword_env = "TEST_SMTP_PASSWORD"\ncafile = "{cert}"\n'
    yield handler, port, security, mail_config(tmp_path, port, extra)
    controller.stop()


@pytest.mark.parametrize("tls_server", ["starttls", "tls"], indirect=True)
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")  # (TLS: see test_mail)
def test_tls_and_auth_with_the_right_password(tls_server):
    handler, port, security, cfg = tls_server
    proc = feeds(cfg, "check", env={"TEST_SMTP_PASSWORD": "s3cret"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = smtp_lines(proc)
    if security == "starttls":
        assert lines[:4] == [f"smtp: connect 127.0.0.1:{port} ok", "smtp: EHLO ok", "smtp: STARTTLS ok (TLSv1.3)",
                             "smtp: AUTH ok (user digest)"]
    else:
        assert lines[:3] == [f"smtp: connect 127.0.0.1:{port} with TLS ok (TLSv1.3)", "smtp: EHLO ok",
                             "smtp: AUTH ok (user digest)"]
    assert lines[-1].startswith("smtp: MAIL FROM:<digest@example.org> ok (250")
    assert handler.messages == []


@pytest.mark.parametrize("tls_server", ["starttls"], indirect=True)
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_auth_refused_is_an_error_and_a_missing_password_a_warning(tls_server):
    handler, port, _, cfg = tls_server
    wrong = feeds(cfg, "check", env={"TEST_SMTP_PASSWORD": "wrong"})
    assert wrong.returncode == 2, wrong.stdout + wrong.stderr
    lines = smtp_lines(wrong)
    assert lines[:3] == [f"smtp: connect 127.0.0.1:{port} ok", "smtp: EHLO ok", "smtp: STARTTLS ok (TLSv1.3)"]
    assert lines[3].startswith("smtp: error: AUTH failed: SMTP login to 127.0.0.1 as 'digest' refused (535")
    assert len(lines) == 4

    missing = feeds(cfg, "check", env={"TEST_SMTP_PASSWORD": ""})
    assert missing.returncode == 1, missing.stdout + missing.stderr
    lines = smtp_lines(missing)
    assert lines[0].startswith("smtp: warning: AUTH not tried: $TEST_SMTP_PASSWORD is not set here")
    assert lines[1:] == [f"smtp: connect 127.0.0.1:{port} ok", "smtp: EHLO ok", "smtp: STARTTLS ok (TLSv1.3)"]
    assert handler.messages == []


# -- what a pass would not mail -----------------------------------------------------------

def test_warns_of_a_digest_a_pass_would_not_mail(tmp_path):
    handler, port = Server(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        cfg = site(tmp_path, f'[digest]\nrecipients = ["ana@example.org"]\n[mail]\nhost = "127.0.0.1"\nport = {port}\n'
                             'security = "none"\n', base_url="http://127.0.0.1:8000/")
        loopback = feeds(cfg, "check")
        cfg.write_text(cfg.read_text().replace('base_url = "http://127.0.0.1:8000/"',
                                               'base_url = "https://feeds.example.org/"'))
        fixed = feeds(cfg, "check")
        cfg.write_text(cfg.read_text().replace('recipients = ["ana@example.org"]\n',
                                               'recipients = ["ana@example.org"]\nsender = "D <d@example.net>"\n'))
        elsewhere = feeds(cfg, "check")
    finally:
        controller.stop()
    assert loopback.returncode == 1, loopback.stdout + loopback.stderr
    [line] = [x for x in loopback.stdout.splitlines() if x.startswith("digest: warning:")]
    assert line.startswith("digest: warning: a pass would not mail the digest (it waits): site.base_url = "
                           "'http://127.0.0.1:8000/' is a loopback address")
    assert smtp_lines(loopback)[0] == f"smtp: connect 127.0.0.1:{port} ok"  # and the server is still checked
    assert fixed.returncode == 0, fixed.stdout
    assert "digest: 1 recipient(s), from Friends of Socialist China <digest@socialistchina.org>; mailed over " \
           f"SMTP through 127.0.0.1:{port}" in fixed.stdout.splitlines()
    # A sender set on another domain is taken as set; check says what it must be allowed.
    assert elsewhere.returncode == 0, elsewhere.stdout
    assert "digest: the sender's domain example.net is not site.url's host nor a parent of it" in elsewhere.stdout
    assert handler.messages == []


def test_the_outbox_with_a_loopback_base_url_is_all_well(tmp_path):
    cfg = site(tmp_path, '[digest]\nrecipients = ["ana@example.org"]\n', base_url="http://127.0.0.1:8000/")
    proc = feeds(cfg, "check")
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.splitlines()[-1] == "check: all well"
