"""`feeds init`: the starter feeds.toml names every key, loads back to the defaults, is never
written over, and a pass runs with it from a folder holding the dumps."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest
from conftest import NOW, REPO, SEEDS, run_cli

from feeds import config, starter


def config_keys() -> set[str]:
    """Every key of every table, from the config's dataclasses themselves."""
    return {f"{section.name}.{field.name}" for section in dataclasses.fields(config.Config)
            if dataclasses.is_dataclass(section.default) for field in dataclasses.fields(section.default)}


def test_every_config_field_is_declared_with_a_check_and_a_help_line():
    for section in dataclasses.fields(config.Config):
        if not dataclasses.is_dataclass(section.default):
            continue
        for field in dataclasses.fields(section.default):
            assert callable(field.metadata.get("check")), f"{section.name}.{field.name}: declare it with key()"
    assert set(starter.KEYS) == config_keys()
    assert set(starter.SECTIONS) == {k.split(".")[0] for k in config_keys()}
    assert all(k.help.strip() and "\n" not in k.help for k in starter.KEYS.values())
    assert all(text.strip() and "(" not in text.split()[0] for text in starter.SECTIONS.values())  # not dataclass's


def test_the_readme_table_names_every_key():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    named = set()
    for row in re.findall(r"^\| `\[(\w+)\] (.*?) \|", readme, re.M):
        section, keys = row
        named |= {f"{section}.{k}" for k in re.findall(r"`(\w+)`", "`" + keys)}
    assert config_keys() - named == set()


def test_the_starter_file_loads_back_to_the_defaults_and_names_every_key(tmp_path):
    path = tmp_path / "feeds.toml"
    starter.write(path)
    text = path.read_text(encoding="utf-8")
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    # What is written loads to what no file at all gives (paths resolved against the same folder).
    assert config.load(path) == dataclasses.replace(config.load(empty), source=str(path))
    written = tomllib.loads(text)
    assert {f"{s}.{k}" for s, table in written.items() for k in table} == {
        k for k, v in starter.KEYS.items() if v.example is None}
    # The keys left commented out, uncommented, make the file name every key of every table.
    uncommented = tomllib.loads(re.sub(r"^# (\w+ = )", r"\1", text, flags=re.M))
    assert {f"{s}.{k}" for s, table in uncommented.items() for k in table} == config_keys()
    # Each key has its line of help above it.
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"(# )?\w+ = ", line):
            assert lines[i - 1].startswith("# ") and not re.match(r"# \w+ = ", lines[i - 1]), line


def test_a_commented_out_example_is_a_valid_value(tmp_path):
    (tmp_path / "recipients.txt").write_text("a@example.org\n", encoding="utf-8")
    (tmp_path / "templates").symlink_to(REPO / "templates")
    for key, help in starter.KEYS.items():
        if help.example is None or key == "mail.cafile":  # (a file only the reader's machine has)
            continue
        section, name = key.split(".")
        path = tmp_path / "one.toml"
        path.write_text(f"[{section}]\n{name} = {help.example}\n", encoding="utf-8")
        config.load(path)


def test_init_writes_feeds_toml_here_and_a_pass_then_works(tmp_path):
    (tmp_path / "seeds").mkdir()
    for s in SEEDS:
        (tmp_path / "seeds" / s.name).write_bytes(s.read_bytes())
    proc = run_cli("init", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "wrote feeds.toml" in proc.stdout and (tmp_path / "feeds.toml").read_text() == starter.text()
    run = run_cli("--now", NOW, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "2 dump(s) read" in run.stdout
    assert (tmp_path / "out" / "atom.xml").is_file() and (tmp_path / "state" / "feeds.sqlite3").is_file()


@pytest.mark.parametrize("where", [None, "site/feeds.toml"])
def test_init_never_writes_over_a_file(tmp_path, where):
    target = tmp_path / (where or "feeds.toml")
    args = ["init"] + (["-c", where] if where else [])
    assert run_cli(*args, cwd=tmp_path).returncode == 0  # (-c: its folder is made)
    target.write_text("# mine\n", encoding="utf-8")
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert f"{Path(where or 'feeds.toml')} exists already and is left as it is" in proc.stderr
    assert target.read_text(encoding="utf-8") == "# mine\n"


def test_init_names_the_file_when_given_a_folder(tmp_path):
    proc = run_cli("init", "-c", str(tmp_path))
    assert proc.returncode == 2 and f"-c {tmp_path / 'feeds.toml'}" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_readme_table_gives_each_written_default_as_declared():
    """Where the README's default column writes a key's default as a TOML value, it is the
    declared one (as `feeds init` writes it): the table cannot fall behind the code."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    compared = 0
    for section, keys, default in re.findall(r"^\| `\[(\w+)\] (.*?) \| (.*?) \|", readme, re.M):
        names = re.findall(r"`(\w+)`", "`" + keys)
        literals = re.findall(r"`([^`]*)`", default)
        for name, literal in zip(names, literals, strict=False):
            try:
                written = tomllib.loads(f"v = {literal}")["v"]
            except tomllib.TOMLDecodeError:
                continue  # prose, such as `Leave a Reply`
            key = starter.KEYS[f"{section}.{name}"]
            if key.example is not None:
                continue  # a worked-out default, such as "<site title> <digest@<domain>>"
            declared = getattr(getattr(config.Config(), section), name)
            assert tomllib.loads(f"v = {starter.toml_value(declared)}")["v"] == written, f"[{section}] {name}"
            compared += 1
    assert compared >= 25
