from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import feedparser
import pytest
from conftest import NOW, REPO, SEEDS, run_cli


@pytest.mark.parametrize("command", [[], ["run"], ["inspect"], ["serve"], ["digest"], ["init"], ["check"]])
def test_every_command_has_help(command):
    proc = run_cli(*command, "--help", check=True)
    assert "usage: python -m feeds" in proc.stdout and len(proc.stdout) > 200


def test_inspect_json_has_the_documented_fields_and_touches_nothing(tmp_path):
    proc = run_cli("inspect", "--json", "--now", NOW, *map(str, SEEDS), cwd=tmp_path, check=True)
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == 40
    for row in rows:
        assert {"dump", "title", "start_line", "end_line", "truncated", "slug", "published", "date_source"} <= set(row)
        assert row["start_line"] <= row["end_line"]
    assert list(tmp_path.iterdir()) == []


def test_inspect_table_for_people():
    proc = run_cli("inspect", "--now", NOW, str(SEEDS[0]), check=True)
    assert "20 post(s) in 1 dump(s): 13 cut, 7 whole" in proc.stdout


def test_inspect_names_a_bad_dump_and_goes_on(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    proc = run_cli("inspect", "--json", str(bad), str(SEEDS[0]))
    assert proc.returncode == 1 and "bad.txt: the file is empty" in proc.stderr
    assert len(proc.stdout.splitlines()) == 20


def test_bad_now_is_a_usage_error():
    proc = run_cli("--now", "yesterday")
    assert proc.returncode == 2 and "ISO 8601" in proc.stderr


@pytest.mark.parametrize("when", ["2205-02-17T09:00:00+00:00", "1969-12-31T23:00:00+00:00"])
def test_a_clock_with_a_mistyped_year_is_refused_before_it_records_anything(project, when):
    """A digest recorded for a week in 2205 would hold back every digest before it."""
    root, cfg = project
    proc = run_cli("-c", str(cfg), "--now", when)
    assert proc.returncode == 2 and "out of range" in proc.stderr and "check the year" in proc.stderr
    assert not (root / "out").exists() and not (root / "state").exists()


@pytest.mark.parametrize("port", ["70000", "-1", "http", "\u00b2"])
def test_serve_refuses_what_is_not_a_port(project, port):
    root, cfg = project
    proc = run_cli("-c", str(cfg), "serve", "--port", port)
    assert proc.returncode == 2 and f"--port '{port}' is not a port" in proc.stderr


def test_serve_on_an_ipv6_address(project):
    root, cfg = project
    run_cli("-c", str(cfg), "--now", NOW, check=True)
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen([sys.executable, "-m", "feeds", "-c", str(cfg), "serve", "--bind", "::1", "--port", "0"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as server:
        try:
            line = server.stdout.readline()
            assert line.startswith("Serving") and " at http://[::1]:" in line, line + server.stderr.read()
            base = line.split(" at ")[1].split()[0]
            with urllib.request.urlopen(base + "atom.xml", timeout=10) as resp:
                assert len(feedparser.parse(resp.read()).entries) == 38
        finally:
            server.terminate()
            server.wait(timeout=10)


def test_serve_on_a_port_in_use_says_so_in_one_line(project):
    import socket

    root, cfg = project
    (root / "out").mkdir()
    (root / "out" / "index.html").write_text("<!DOCTYPE html><title>x</title>\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run_cli("-c", str(cfg), "serve", "--port", str(port))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith(f"feeds: cannot serve on 127.0.0.1:{port}: ")
    assert "choose another --port" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("order", ["before", "after"])
def test_options_before_or_after_the_command(project, order):
    root, cfg = project
    opts = ["-c", str(cfg), "--now", NOW]
    args = [*opts, "run", "--rebuild"] if order == "before" else ["run", "--rebuild", *opts]
    proc = run_cli(*args, cwd=root / "seeds", check=True)
    assert "38 new" in proc.stdout
    assert (root / "out" / "atom.xml").exists() and not (root / "seeds" / "out").exists()


@contextlib.contextmanager
def serving(cfg, *options: str):
    """`feeds serve` on a free port of 127.0.0.1: (its base URL, the process). Stopped on leaving;
    its stderr is then in `process.stderr_text`."""
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen([sys.executable, "-m", "feeds", "-c", str(cfg), *options, "serve", "--port", "0"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as server:
        try:
            line = server.stdout.readline()
            assert line.startswith("Serving"), line
            yield line.split(" at ")[1].split()[0], server
        finally:
            server.terminate()
            server.stderr_text = server.communicate(timeout=10)[1]


def test_serve_lets_a_reader_fetch_the_feed(project):
    root, cfg = project
    run_cli("-c", str(cfg), "--now", NOW, check=True)
    with serving(cfg) as (base, server):
        with urllib.request.urlopen(base + "atom.xml", timeout=10) as resp:
            assert resp.headers["Content-Type"].startswith("application/xml")
            parsed = feedparser.parse(resp.read())
        assert parsed.bozo == 0 and len(parsed.entries) == 38
        with urllib.request.urlopen(base, timeout=10) as resp:
            assert b'rel="alternate" type="application/atom+xml"' in resp.read()
        # The outbox (subscribers' addresses) is under out/ by default, but never served.
        (root / "out" / "outbox" / "2025-W07").mkdir(parents=True)
        (root / "out" / "outbox" / "2025-W07" / "a@example.org.eml").write_text("To: a@example.org\n")
        # Also when out/outbox is a symbolic link to the real outbox elsewhere.
        (root / "elsewhere").mkdir()
        (root / "elsewhere" / "b@example.org.eml").write_text("To: b@example.org\n")
        (root / "out" / "outbox" / "2025-W08").symlink_to(root / "elsewhere")
        for path in ("outbox/2025-W07/a@example.org.eml", "outbox/", "outbox/../outbox/2025-W07/",
                     "outbox/2025-W08/b@example.org.eml", "%6Futbox/2025-W07/a@example.org.eml"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(base + path, timeout=10)
            assert refused.value.code == 404
            refused.value.close()


def test_serve_sends_each_feed_with_a_feed_type(project):
    """JSON Feed as application/feed+json; Atom and RSS as application/xml, which a browser shows
    through out/feed.xsl (as application/atom+xml or rss+xml, Chromium shows the raw text)."""
    root, cfg = project
    run_cli("-c", str(cfg), "--now", NOW, check=True)
    with serving(cfg) as (base, server):
        with urllib.request.urlopen(base + "feed.json", timeout=10) as resp:
            assert resp.headers.get_content_type() == "application/feed+json"
            assert resp.headers.get_content_charset() == "utf-8"
            assert len(json.loads(resp.read())["items"]) == 38
        for name, version in (("atom.xml", "atom10"), ("rss.xml", "rss20")):
            with urllib.request.urlopen(base + name, timeout=10) as resp:
                assert resp.headers.get_content_type() == "application/xml", name
                assert resp.headers.get_content_charset() == "utf-8", name
                assert feedparser.parse(resp.read()).version == version


def _get(base: str, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(base + path, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, b""


def _raw(base: str, request: bytes) -> bytes:
    """A request sent as bytes (no client library to tidy it), and the whole answer."""
    import socket

    host, port = base.removeprefix("http://").rstrip("/").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_serve_follows_no_symbolic_link_out_of_out(project):
    """Only regular files whose real path is inside out/ are served: a link in out/ to a file or a
    folder elsewhere (the state, /etc) is not found; one to a file or a folder inside out/ is."""
    root, cfg = project
    run_cli("-c", str(cfg), "--now", NOW, check=True)
    out = root / "out"
    post = sorted((out / "posts").glob("*.html"))[0].name
    seed = sorted((root / "seeds").glob("*.txt"))[0].name
    (out / "state.sqlite3").symlink_to(root / "state" / "feeds.sqlite3")
    (out / "passwd").symlink_to("/etc/passwd")
    (out / "etc").symlink_to("/etc")
    (out / "seeds").symlink_to(root / "seeds")
    (out / "newest.xml").symlink_to(out / "atom.xml")
    (out / "articles").symlink_to("posts")
    (out / "fifo").mkdir()
    os.mkfifo(out / "fifo" / "pipe")  # inside out/, but no regular file: opening it would wait for ever
    with serving(cfg) as (base, server):
        for path in ("state.sqlite3", "passwd", "etc/passwd", "etc/", "etc", "seeds/", f"seeds/{seed}",
                     "fifo/pipe"):
            assert _get(base, path)[0] == 404, path
        assert _get(base, "newest.xml") == (200, (out / "atom.xml").read_bytes())
        assert _get(base, f"articles/{post}") == (200, (out / "posts" / post).read_bytes())
        assert _get(base, "articles/")[0] == 200  # (a listing: posts/ has no index.html)
        assert _get(base, "atom.xml")[0] == 200


def test_serve_escapes_what_it_logs_and_answers_a_nul_with_400(project):
    root, cfg = project
    run_cli("-c", str(cfg), "--now", NOW, check=True)
    with serving(cfg, "-v") as (base, server):
        assert _get(base, "%1b[31mred%1b]0;owned%07.html")[0] == 404
        raw = _raw(base, b"GET /\x1b[31mred\x1b]0;owned\x07\x9b31m.html HTTP/1.0\r\n\r\n")
        assert raw.startswith(b"HTTP/1.0 404 "), raw
        for path in (b"/%00", b"/posts/%00.html"):
            answer = _raw(base, b"GET " + path + b" HTTP/1.0\r\n\r\n")
            assert answer.startswith(b"HTTP/1.0 400 "), (path, answer)
        assert _raw(base, b"GET /%ff HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 404 ")  # (not UTF-8)
        assert _get(base, "atom.xml")[0] == 200  # still serving
    err = server.stderr_text
    assert "Traceback" not in err and "\x1b" not in err and "\x07" not in err and "\x9b" not in err, err
    assert "GET /\\x1b[31mred\\x1b]0;owned\\x07\\x9b31m.html" in err  # shown, escaped
    assert "%1b[31mred" in err and '"GET /%00 HTTP/1.0" 400' in err


def test_loop_command_runs_a_pass_then_stops_cleanly_on_sigterm(project):
    import signal

    root, cfg = project
    env = {**__import__("os").environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen([sys.executable, "-m", "feeds", "-c", str(cfg), "--now", NOW, "loop"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as loop:
        assert "loop started" in loop.stdout.readline()
        first = loop.stdout.readline()
        assert first.startswith("feeds: 2 dump(s) read") and "38 new" in first
        loop.send_signal(signal.SIGTERM)
        out, err = loop.communicate(timeout=30)
    assert loop.returncode == 0, err
    assert "loop stopped after 1 pass(es), 0 failed" in out and "SIGTERM: stopping" in err
    again = run_cli("-c", str(cfg), "--now", NOW)  # the lock was released
    assert again.returncode == 0 and "nothing new" in again.stdout


def test_loop_command_waits_out_a_pass_that_holds_the_lock(project):
    """`feeds loop` started while another pass (cron's) holds the lock: its pass says so and
    touches nothing, and the loop goes on running (it does not exit) until it is stopped."""
    import signal

    from feeds import config as config_mod
    from feeds.lock import exclusive

    root, cfg = project
    state = config_mod.load(cfg).state.path
    env = {**__import__("os").environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    with exclusive(state.with_name(state.name + ".lock")):
        with subprocess.Popen([sys.executable, "-m", "feeds", "-c", str(cfg), "--now", NOW, "loop"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as loop:
            assert "loop started" in loop.stdout.readline()
            said = ""
            while "another feeds pass is running" not in said:
                line = loop.stderr.readline()
                assert line, f"the loop ended ({loop.wait(timeout=30)}) without saying the lock was taken: {said}"
                said += line
            assert loop.poll() is None  # still running, waiting for its next slot
            loop.send_signal(signal.SIGTERM)
            try:
                out, err = loop.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                loop.kill()
                pytest.fail(f"SIGTERM did not stop the loop within 30 s: {loop.communicate()}")
    assert loop.returncode == 0, err
    assert "loop stopped after" in out and "0 failed" in out
    assert not state.exists()  # the locked pass made nothing, not even the database


def test_status_shows_the_last_pass_and_the_next_digest(project):
    root, cfg = project
    none = run_cli("-c", str(cfg), "status")
    assert none.returncode == 0 and "no state yet" in none.stdout and not (root / "state").exists()
    run_cli("-c", str(cfg), "--now", "2025-02-17T09:00:00+00:00", check=True)
    proc = run_cli("-c", str(cfg), "--now", "2025-02-18T09:00:00+00:00", "status", check=True)
    assert "last pass:    Mon 17 Feb 2025 09:00 Europe/London: 2 dump(s) read" in proc.stdout
    assert "next digest:  2025-W08 (week of 17–23 February 2025), due Mon 24 Feb 2025 08:00" in proc.stdout
    assert "last digest:  2025-W07: 21 post(s)" in proc.stdout
    assert "stored:       2 dump(s) (0 skipped), 38 entries, 1 digest(s) mailed" in proc.stdout
    data = json.loads(run_cli("-c", str(cfg), "--now", "2025-02-24T09:00:00+00:00", "status", "--json",
                              check=True).stdout)
    assert data["next_digest"] == {"period": "2025-W08", "week": "17–23 February 2025",
                                   "due": "2025-02-24T08:00:00+00:00", "overdue": True}
    assert data["counts"]["entries"] == 38 and data["undelivered"] == []


def test_log_file_gets_the_summary_with_a_time(project):
    root, cfg = project
    log = root / "feeds.log"
    proc = run_cli("-c", str(cfg), "--now", NOW, "--log-file", str(log), check=True)
    assert "38 new" in proc.stdout and proc.stderr == ""
    text = log.read_text(encoding="utf-8")
    assert "INFO feeds: pass done: 2 dump(s) read" in text and text[:4].isdigit()
    bad = run_cli("-c", str(cfg), "--log-file", str(root / "no" / "such" / "dir" / "x.log"))
    assert bad.returncode == 2 and "--log-file" in bad.stderr


def _with_templates(root, cfg, files: dict[str, str]):
    """The project's config with [output] templates = a folder holding these files only."""
    folder = root / "tpl"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    cfg.write_text(cfg.read_text().replace("[output]\n", f'[output]\ntemplates = "{folder}"\n'), encoding="utf-8")
    return folder


def _templates(*leave_out: str) -> dict[str, str]:
    return {t.name: t.read_text(encoding="utf-8") for t in sorted((REPO / "templates").iterdir())
            if t.is_file() and t.name not in leave_out}


def test_a_templates_folder_replaces_the_built_in_templates_file_by_file(project):
    """A user who wants another footer copies one file: every other template is the built-in one."""
    root, cfg = project
    base = _templates()["base.html.j2"]
    assert "</body>" in base
    _with_templates(root, cfg, {"base.html.j2": base.replace("</body>", "<p>Our own footer</p>\n</body>")})
    proc = run_cli("-c", str(cfg), "--now", NOW)
    assert proc.returncode == 0, proc.stderr
    pages = [root / "out" / "index.html", *sorted((root / "out" / "posts").glob("*.html"))]
    assert len(pages) > 30 and all("<p>Our own footer</p>" in p.read_text(encoding="utf-8") for p in pages)
    assert (root / "out" / "feed.xsl").read_bytes() == (REPO / "templates" / "feed.xsl").read_bytes()


@pytest.mark.parametrize("files, problem", [
    (lambda: {"base.html.j2": _templates()["base.html.j2"].replace("</body>", "{% include 'footer.html.j2' %}</body>")},
     "footer.html.j2 is missing (base.html.j2 uses it)"),
    (lambda: {"post.html.j2": "{% extends 'layout.html.j2' %}"}, "layout.html.j2 is missing (post.html.j2 uses it)"),
])
def test_a_template_an_override_uses_that_exists_nowhere_is_a_configuration_error(project, files, problem):
    """Found before the pass writes anything: exit 2, one line naming it, no traceback."""
    root, cfg = project
    folder = _with_templates(root, cfg, files())
    proc = run_cli("-c", str(cfg), "--now", NOW)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith("feeds: configuration error: ") and len(proc.stderr.splitlines()) == 1
    assert f"output.templates = '{folder}'" in proc.stderr and problem in proc.stderr
    assert not (root / "out").exists()


@pytest.mark.parametrize("name, edit, says", [
    ("post.html.j2", ("{% block main %}\n", "{% block main %}\n{{ entry.subtitle }}\n"),
     "post.html.j2, line 11: 'feeds.models.Entry object' has no attribute 'subtitle'"),
    ("base.html.j2", ("<head>\n", "<head>\n{{ sitee.title }}\n"), "base.html.j2, line 4: 'sitee' is undefined"),
    ("digest.txt.j2", ("", "{{ weeek }}\n"), "digest.txt.j2, line 1: 'weeek' is undefined"),
])
def test_a_template_that_fails_as_it_renders_is_a_configuration_error(project, name, edit, says):
    """A name the template uses that a pass does not give (the environments are strict, so
    a misspelt name is an error, not an empty string): exit 2 and one line naming the
    template and its line, no traceback. (The digest's text part is rendered when a
    digest is mailed; the project's digest goes to the outbox.)"""
    root, cfg = project
    files = _templates()
    old, new = edit
    files[name] = files[name].replace(old, new, 1) if old else new + files[name]
    folder = _with_templates(root, cfg, files)
    proc = run_cli("-c", str(cfg), "--now", "2025-02-24T09:00:00+00:00")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert len(proc.stderr.splitlines()) == 1
    assert f"output.templates = '{folder}'" in proc.stderr and f"{folder}/{says}" in proc.stderr, proc.stderr


@pytest.mark.parametrize("name", ["post.html.j2", "base.html.j2", "digest.html.j2"])
def test_a_template_that_does_not_compile_is_a_configuration_error(project, name):
    root, cfg = project
    files = _templates()
    files[name] += "{% if %}\n"
    folder = _with_templates(root, cfg, files)
    line = len(files[name].splitlines())
    proc = run_cli("-c", str(cfg), "--now", NOW)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert len(proc.stderr.splitlines()) == 1
    assert f"{folder / name}, line {line}: Expected an expression, got 'end of statement block'" in proc.stderr
    assert not (root / "out").exists()


def test_the_summary_of_a_pass_that_wrote_files_says_where_to_look(project):
    root, cfg = project
    index = root / "out" / "index.html"
    first = run_cli("--now", NOW, cwd=root)  # ./feeds.toml
    assert first.returncode == 0, first.stderr
    line = first.stdout.strip()
    assert "file(s) written; digest 2025-W08: 5 post(s)" in line
    assert line.endswith(f" recipient(s); see {index} (or: python -m feeds serve)"), line
    assert index.is_file()
    again = run_cli("--now", NOW, cwd=root)
    assert "nothing new" in again.stdout and "see " not in again.stdout  # nothing written: nothing to look at
    index.unlink()
    named = run_cli("-c", str(cfg), "--now", NOW)  # from elsewhere: the command names the config
    assert named.stdout.strip().endswith(f"1 file(s) written; see {index} (or: python -m feeds -c {cfg} serve)")
