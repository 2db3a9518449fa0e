from __future__ import annotations

import os

import pytest
from conftest import NOW, REPO, SEEDS, run_cli

from feeds import addresses, config
from feeds.errors import ConfigError


def test_defaults_need_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = config.load()
    assert cfg.input.paths == ("seeds/*.txt",) and cfg.output.max_entries == 50
    assert str(cfg.state.path) == "state/feeds.sqlite3" and cfg.site.base_url == "http://127.0.0.1:8000/"


def test_a_file_without_paths_gets_the_default_paths_in_its_own_folder(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    (site / "feeds.toml").write_text('[site]\ntitle = "T"\n')
    monkeypatch.chdir(tmp_path)
    cfg = config.load("site/feeds.toml")
    site = site.resolve()
    assert cfg.input.paths == (str(site / "seeds" / "*.txt"),)
    assert cfg.output.dir == site / "out" and cfg.state.path == site / "state" / "feeds.sqlite3"


def test_cli_pass_with_default_paths_reads_and_writes_beside_the_file(tmp_path):
    site, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    (site / "seeds").mkdir(parents=True)
    elsewhere.mkdir()
    (site / "seeds" / "a.txt").write_bytes(SEEDS[0].read_bytes())
    (site / "feeds.toml").write_text('[site]\ntitle = "T"\n')
    proc = run_cli("-c", str(site / "feeds.toml"), "--now", NOW, cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr
    assert (site / "out" / "atom.xml").is_file() and (site / "state" / "feeds.sqlite3").is_file()
    assert not any(elsewhere.iterdir())


def test_repository_config_is_valid():
    cfg = config.load(REPO / "feeds.toml")
    assert cfg.site.timezone == "Europe/London"


@pytest.mark.parametrize("data, key, hint", [
    ({"site": {"titel": "x"}}, "site.titel", "unknown key"),
    ({"sight": {}}, "sight", "one of the tables"),
    ({"output": {"max_entries": "50"}}, "output.max_entries", "whole number"),
    ({"output": {"max_entries": 0}}, "output.max_entries", "at least 1"),
    ({"output": {"max_entries": 100_001}}, "output.max_entries", "at most 100000"),
    ({"output": {"max_entries": 99999999999999999999}}, "output.max_entries", "at most 100000"),  # SQLite overflowed
    ({"site": {"timezone": "Mars/Olympus"}}, "site.timezone", "IANA time zone"),
    ({"site": {"base_url": "example.org"}}, "site.base_url", "absolute http"),
    ({"site": {"base_url": "http://[::1/"}}, "site.base_url", "absolute http"),
    ({"site": {"url": "http://[::1/"}}, "site.url", "absolute http"),
    ({"output": {"hub": "http://[::1/"}}, "output.hub", "absolute http"),
    ({"site": {"base_url": "https://example.org/feeds/?x=1#frag"}}, "site.base_url", "without '?' or '#'"),
    ({"site": {"base_url": "https://example.org/feeds#frag"}}, "site.base_url", "without '?' or '#'"),
    ({"site": {"base_url": "https://exa mple.org/"}}, "site.base_url", "valid host"),
    ({"site": {"url": "https://ex_ample..org/"}}, "site.url", "valid host"),
    ({"output": {"hub": "https://-hub.example.org/"}}, "output.hub", "valid host"),
    ({"site": {"base_url": "https://example.org:99999/"}}, "site.base_url", "absolute http"),
    ({"site": {"url": "https://example.org:http/"}}, "site.url", "absolute http"),
    ({"site": {"language": "English!"}}, "site.language", "language tag"),
    ({"input": {"paths": []}}, "input.paths", "non-empty list"),
    ({"input": {"marker": ""}}, "input.marker", "Continue reading"),
    ({"site": {"title": "a\nb"}}, "site.title", "single line"),
    ({"output": {"dir": "out"}, "state": {"path": "out/state.sqlite3"}}, "state.path", "outside output.dir"),
    ({"site": {"title": "  "}}, "site.title", "non-empty title"),
    ({"site": {"author": "a\u0001b"}}, "site.author", "without control characters"),
    ({"output": {"templates": "/nonexistent"}}, "output.templates", "/nonexistent is not a folder"),
    ({"output": {"templates": "/"}}, "output.templates", "named as they are (archive.html.j2, base.html.j2"),
    ({"input": {"encoding": "latin-9000"}}, "input.encoding", "the name of an encoding Python knows"),
    ({"digest": {"weekday": "mon"}}, "digest.weekday", "a day of the week: monday"),
    ({"digest": {"hour": 24}}, "digest.hour", "an hour from 0 to 23"),
    ({"digest": {"recipients": ["ana@example.org", "ben at example.org"]}}, "digest.recipients[1]",
     "an email address"),
    ({"digest": {"sender": "Digest <digest@example.org"}}, "digest.sender", "an email address"),
    ({"digest": {"unsubscribe_url": "http://example.org/u"}}, "digest.unsubscribe_url", "RFC 8058"),
    ({"digest": {"unsubscribe_mailto": "leave@example.org"}}, "digest.unsubscribe_mailto", "a mailto: URL"),
    ({"mail": {"security": "ssl"}}, "mail.security", "one of starttls, tls, none"),
    ({"mail": {"password_env": "s3cret pass"}}, "mail.password_env", "never goes in this file"),
    ({"mail": {"cafile": "/nonexistent.pem"}}, "mail.cafile", "an existing file"),
    ({"mail": {"port": 70000}}, "mail.port", "a port number"),
    ({"state": {"path": "/dev/null/feeds.sqlite3"}}, "state.path", "/dev/null is a file, not a folder"),
    ({"output": {"dir": "/dev/null/out"}}, "output.dir", "/dev/null is a file, not a folder"),
    ({"state": {"path": "/"}}, "state.path", "/ is a folder: name a file in it, e.g. /feeds.sqlite3"),
    ({"mail": {"outbox": "/dev/null/outbox"}}, "mail.outbox", "/dev/null is a file, not a folder"),
    ({"mail": {"outbox": "/dev/null"}}, "mail.outbox", "a folder; /dev/null is a file"),
])
def test_bad_values_name_key_value_and_expectation(data, key, hint):
    with pytest.raises(ConfigError) as err:
        config.parse(data)
    assert err.value.key == key
    assert hint in str(err.value) and key in str(err.value)


@pytest.mark.parametrize("data, key", [
    ({"mail": {"password": "hunter2"}}, "mail.password"),  # a key feeds does not know, and a secret
    ({"mail": {"smtp_passwd": "hunter2"}}, "mail.smtp_passwd"),
    ({"mail": {"auth": {"user": "digest", "pass": "hunter2"}}}, "mail.auth"),
    ({"site": {"api_token": ["hunter2"]}}, "site.api_token"),
    ({"site": {"titel": "hunter2"}}, "site.titel"),  # unknown: its value is never shown, whatever its name
    ({"smtp": {"password": "hunter2"}}, "smtp"),  # an unknown table: neither are its keys' values
    ({"password": "hunter2"}, "password"),
    ({"mail": {"password_env": "hunter2 !"}}, "mail.password_env"),  # the password written in its place
    ({"mail": {"password_env": 12345}}, "mail.password_env"),
])
def test_a_secret_or_an_unknown_key_is_named_but_its_value_never_shown(data, key):
    with pytest.raises(ConfigError) as err:
        config.parse(data)
    assert err.value.key == key and f"{key} (value not shown) is invalid: expected " in str(err.value)
    assert "hunter2" not in str(err.value) and "12345" not in str(err.value)


def test_a_password_in_the_file_is_not_echoed_by_the_cli(tmp_path):
    cfg = tmp_path / "feeds.toml"
    cfg.write_text('[mail]\nhost = "smtp.example.org"\npassword = "hunter2"\n')
    proc = run_cli("-c", str(cfg), cwd=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1
    assert "mail.password (value not shown) is invalid: expected one of the keys " in proc.stderr
    assert "hunter2" not in proc.stderr


@pytest.mark.parametrize("key", ["username", "host"])  # a login name is no secret: it helps to see it
def test_known_keys_that_hold_no_secret_still_show_their_value(key):
    with pytest.raises(ConfigError) as err:
        config.parse({"mail": {key: "a\nb"}})
    assert f"mail.{key} = 'a\\nb' is invalid" in str(err.value)
    with pytest.raises(ConfigError) as err:
        config.parse({"site": {"author": "a\u0001b"}})  # (its name holds "auth", but not as a word)
    assert "site.author = 'a\\x01b' is invalid" in str(err.value)


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero"])
def test_cli_state_path_that_is_a_device_names_the_key(tmp_path, device):
    cfg = tmp_path / "feeds.toml"
    cfg.write_text(f'[state]\npath = "{device}"\n')
    proc = run_cli("-c", str(cfg), "--now", NOW, cwd=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert f"state.path = '{device}' is invalid: expected a file path for the SQLite database" in proc.stderr
    assert f"{device} is a device" in proc.stderr and "backup" not in proc.stderr


def test_state_path_that_is_a_pipe_is_refused(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(ConfigError) as err:
        config.parse({"state": {"path": str(tmp_path / "fifo")}})
    assert err.value.key == "state.path" and "is a pipe" in str(err.value)


def test_cli_config_with_a_byte_order_mark_is_read(tmp_path):
    """Windows editors save UTF-8 with a BOM; tomllib refuses it ("Invalid statement")."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_bytes(SEEDS[0].read_bytes())
    cfg = tmp_path / "feeds.toml"
    cfg.write_bytes('\ufeff[site]\ntitle = "Café"\n'.encode())
    assert config.load(cfg).site.title == "Café"
    proc = run_cli("-c", str(cfg), "--now", NOW, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "<title>Café</title>" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("paths, out", [
    (["seeds/*"], "seeds"),  # the same folder: a pass would read its own atom.xml and index.html
    (["seeds/*.txt"], "seeds/../seeds"),
    (["seeds/a.txt"], "seeds"),
    (["seeds/*.txt"], "."),  # out/ holds the dumps: it would publish them
    (["seeds/**/*.html"], "seeds/out"),  # inside, and the glob reaches into it
    (["*/*.html"], "out"),
    (["seeds/**"], "seeds/site"),  # a last '**' reaches every folder below
    (["seeds/*/**"], "seeds/site"),
])
def test_output_dir_overlapping_an_input_path_is_refused(paths, out):
    with pytest.raises(ConfigError) as err:
        config.parse({"input": {"paths": paths}, "output": {"dir": out}})
    assert err.value.key == "output.dir" and "input.paths entry" in str(err.value)
    assert paths[0] in str(err.value) and "apart from the dumps" in str(err.value)


@pytest.mark.parametrize("paths, out", [
    (["seeds/*.txt"], "out"),
    (["*.txt"], "out"),  # the glob reads no folder below its own
    (["dumps/*/*.html"], "out"),
])
def test_output_dir_apart_from_the_input_paths_is_taken(paths, out):
    assert config.parse({"input": {"paths": paths}, "output": {"dir": out}}).output.dir.name == out


def test_output_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "out").write_text("")
    with pytest.raises(ConfigError) as err:
        config.parse({"output": {"dir": "out"}}, base=tmp_path)
    assert err.value.key == "output.dir" and "a folder; " in str(err.value) and "is a file" in str(err.value)


@pytest.mark.parametrize("url", ["http://[::1]:8000/", "https://bücher.example/", "https://a_b.example.org/",
                                 "https://example.org./", "http://192.0.2.1/feeds/"])
def test_unusual_but_valid_urls_are_taken(url):
    assert config.parse({"site": {"url": url, "base_url": url}, "output": {"hub": url}}).site.url == url


def test_max_entries_takes_its_upper_bound():
    assert config.parse({"output": {"max_entries": 100_000}}).output.max_entries == 100_000


def test_base_url_gets_a_trailing_slash():
    assert config.parse({"site": {"base_url": "https://example.org/feeds"}}).site.base_url == \
        "https://example.org/feeds/"


def test_cli_stops_with_exit_2_and_a_clear_line(tmp_path):
    cfg = tmp_path / "feeds.toml"
    cfg.write_text('[output]\nmax_entries = -3\n')
    proc = run_cli("-c", str(cfg), cwd=tmp_path)
    assert proc.returncode == 2
    assert "output.max_entries = -3 is invalid: expected a whole number of at least 1" in proc.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "state").exists()


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc, where no file can be made")
@pytest.mark.parametrize("table, named", [
    ('[state]\npath = "/proc/feeds.sqlite3"', "state.path = '/proc/feeds.sqlite3' is invalid"),  # the lock
    ('[output]\ndir = "/proc/out"', "output.dir = '/proc/out' is invalid"),
])
def test_cli_place_that_cannot_be_made_stops_with_exit_2(tmp_path, table, named):
    cfg = tmp_path / "feeds.toml"
    cfg.write_text(table + "\n")
    proc = run_cli("-c", str(cfg), "--now", NOW, cwd=tmp_path)
    assert proc.returncode == 2 and named in proc.stderr, proc.stderr
    assert len(proc.stderr.splitlines()) == 1  # one line, with the system's reason: no traceback
    assert any(f"({reason})" in proc.stderr for reason in ("No such file or directory", "Permission denied"))


def test_cli_broken_toml(tmp_path):
    cfg = tmp_path / "feeds.toml"
    cfg.write_text('[site\n')
    proc = run_cli("-c", str(cfg), cwd=tmp_path)
    assert proc.returncode == 2 and "valid TOML" in proc.stderr


def test_cli_config_not_in_utf8(tmp_path):
    cfg = tmp_path / "feeds.toml"
    cfg.write_bytes('[site]\ntitle = "Café"\n'.encode("latin-1"))
    proc = run_cli("-c", str(cfg), cwd=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1
    assert f"{cfg}: (file) = '{cfg}' is invalid: expected TOML in UTF-8 (byte 19 is not" in proc.stderr
    assert "save the file as UTF-8" in proc.stderr


def test_cli_config_that_is_a_folder(tmp_path):
    proc = run_cli("-c", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1
    assert f"--config = '{tmp_path}' is invalid: expected a TOML file, not a folder" in proc.stderr
    assert str(tmp_path / "feeds.toml") in proc.stderr


@pytest.mark.parametrize("how, reason", [
    ("unreadable", "Permission denied"),
    ("in a file", "Not a directory"),
    ("a link loop", "Too many levels of symbolic links"),
])
def test_unreadable_config_file(tmp_path, how, reason):
    """A file the system will not open is named with the system's reason, in one line."""
    path = tmp_path / "feeds.toml"
    if how == "unreadable":
        if os.geteuid() == 0:
            pytest.skip("root reads any file")
        path.write_text("")
        path.chmod(0)
    elif how == "in a file":
        (tmp_path / "site").write_text("")
        path = tmp_path / "site" / "feeds.toml"
    else:
        path.symlink_to(path)
    with pytest.raises(ConfigError) as err:
        config.load(path)
    assert err.value.key == "--config" and f"a TOML file feeds can read ({reason})" in str(err.value)


def test_digest_and_mail_defaults():
    cfg = config.parse({"site": {"title": "A Site", "url": "https://example.org/"}})
    assert str(addresses.sender(cfg)) == "A Site <digest@example.org>"
    assert addresses.list_id(cfg) == "digest.example.org"
    assert addresses.unsubscribe_mailto(cfg) == "mailto:digest@example.org?subject=unsubscribe"
    assert cfg.outbox == cfg.output.dir / "outbox" and cfg.mail.smtp_port == 587
    assert config.parse({"mail": {"security": "tls"}}).mail.smtp_port == 465
