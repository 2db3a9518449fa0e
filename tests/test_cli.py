from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import feedparser
import pytest
from conftest import NOW, REPO, SEEDS, run_cli


@pytest.mark.parametrize("command", [[], ["run"], ["inspect"], ["serve"], ["digest"]])
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


@pytest.mark.parametrize("order", ["before", "after"])
def test_options_before_or_after_the_command(project, order):
    root, cfg = project
    opts = ["-c", str(cfg), "--now", NOW]
    args = [*opts, "run", "--rebuild"] if order == "before" else ["run", "--rebuild", *opts]
    proc = run_cli(*args, cwd=root / "seeds", check=True)
    assert "38 new" in proc.stdout
    assert (root / "out" / "atom.xml").exists() and not (root / "seeds" / "out").exists()


def test_serve_lets_a_reader_fetch_the_feed(project):
    root, cfg = project
    run_cli("-c", str(cfg), "--now", NOW, check=True)
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen([sys.executable, "-m", "feeds", "-c", str(cfg), "serve", "--port", "0"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as server:
        try:
            line = server.stdout.readline()
            assert line.startswith("Serving"), line
            base = line.split(" at ")[1].split()[0]
            with urllib.request.urlopen(base + "atom.xml", timeout=10) as resp:
                assert resp.headers["Content-Type"].startswith("application/xml")
                parsed = feedparser.parse(resp.read())
            assert parsed.bozo == 0 and len(parsed.entries) == 38
            with urllib.request.urlopen(base, timeout=10) as resp:
                assert b'rel="alternate" type="application/atom+xml"' in resp.read()
            # The outbox (subscribers' addresses) is under out/ by default, but never served.
            (root / "out" / "outbox" / "2025-W07").mkdir(parents=True)
            (root / "out" / "outbox" / "2025-W07" / "a@example.org.eml").write_text("To: a@example.org\n")
            for path in ("outbox/2025-W07/a@example.org.eml", "outbox/", "outbox/../outbox/2025-W07/"):
                with pytest.raises(urllib.error.HTTPError) as refused:
                    urllib.request.urlopen(base + path, timeout=10)
                assert refused.value.code == 404
                refused.value.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
