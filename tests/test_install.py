"""Installed like any package: the wheel carries the templates, runs from a folder holding only a
feeds.toml and seeds/, says its version, and a failed first pass leaves no state behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
from conftest import NOW, REPO, SEEDS, run_cli, write_config


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project built as a wheel, as `pip install .` builds it."""
    folder = tmp_path_factory.mktemp("wheel")
    # From a copy without build/ (setuptools reuses what an earlier build left there) or other local things.
    source = tmp_path_factory.mktemp("source") / "feeds"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        "build", "dist", ".*", "out", "state", "__pycache__", "*.egg-info", "node_modules"))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(folder), str(source)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    [built] = folder.glob("feeds-*.whl")
    return built


@pytest.mark.slow  # (building the wheel: .ci/run also installs one and runs a pass with it)
def test_the_wheel_holds_every_template_and_the_stylesheet(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"feeds/templates/{p.name}" for p in (REPO / "templates").iterdir() if p.is_file()}
    assert {"feeds/templates/post.html.j2", "feeds/templates/feed.xsl", "feeds/templates/digest.txt.j2"} <= shipped
    assert shipped <= names, sorted(shipped - names)
    assert not any(n.startswith("templates/") for n in names), "the templates live inside the package"


@pytest.mark.slow
def test_the_installed_wheel_runs_a_pass_from_a_folder_with_only_a_config_and_seeds(wheel, tmp_path):
    """The wheel unpacked as pip installs it (site-packages), put first on the path: nothing is
    read from this checkout. The pass's files equal those of the checkout's own build."""
    site = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "work"
    (work / "seeds").mkdir(parents=True)
    for seed in SEEDS:
        shutil.copy(seed, work / "seeds")
    shutil.copy(REPO / "feeds.toml", work / "feeds.toml")
    env = {**os.environ, "PYTHONPATH": str(site), "TZ": "UTC", "LC_ALL": "C.UTF-8"}
    where = subprocess.run([sys.executable, "-c", "import feeds.config as c; print(c.__file__); "
                            "print(c.builtin_templates())"], cwd=work, env=env, capture_output=True, text=True)
    assert where.stdout.splitlines() == [str(site / "feeds" / "config" / "__init__.py"), str(site / "feeds" / "templates")]
    proc = subprocess.run([sys.executable, "-m", "feeds", "--now", NOW], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "38 new" in proc.stdout
    reference = tmp_path / "reference"
    reference.mkdir()
    run_cli("-c", str(write_config(reference, [str(s) for s in SEEDS])), "--now", NOW, check=True)
    for name in ("atom.xml", "index.html", "feed.xsl", "posts"):
        assert (work / "out" / name).exists()
    assert (work / "out" / "feed.xsl").read_bytes() == (REPO / "templates" / "feed.xsl").read_bytes()
    assert (work / "out" / "index.html").read_bytes() == (reference / "out" / "index.html").read_bytes()


def test_version_is_the_installed_distributions():
    """`feeds --version` (the console script) and `python -m feeds --version` say the same."""
    script = Path(sys.executable).with_name("feeds")
    assert script.exists(), "the console script `feeds` is installed beside python"
    for command in ([str(script)], [sys.executable, "-m", "feeds"]):
        proc = subprocess.run([*command, "--version"], capture_output=True, text=True, cwd=REPO)
        assert proc.returncode == 0 and proc.stdout == f"feeds {version('feeds')}\n", proc


def test_a_first_pass_that_fails_leaves_no_state_and_the_next_pass_is_a_first_pass(tmp_path):
    """A broken template stops the first pass with exit 2 before a database is made; once it
    is fixed, the pass gives the same files as a project that never failed."""
    cfg = write_config(tmp_path, [str(s) for s in SEEDS])
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "post.html.j2").write_text("{% extends 'base.html.j2' %}{% block main %}{{ entry.nope }}{% if %}",
                                         encoding="utf-8")
    cfg.write_text(cfg.read_text().replace("[output]\n", f'[output]\ntemplates = "{folder}"\n'), encoding="utf-8")
    failed = run_cli("-c", str(cfg), "--now", NOW)
    assert failed.returncode == 2, failed.stderr
    assert not (tmp_path / "state" / "feeds.sqlite3").exists()
    assert not (tmp_path / "out").exists()
    (folder / "post.html.j2").unlink()
    (folder / "index.html.j2").write_text((REPO / "templates" / "index.html.j2").read_text(encoding="utf-8"),
                                          encoding="utf-8")
    fixed = run_cli("-c", str(cfg), "--now", NOW, check=True)
    clean = tmp_path / "clean"
    clean.mkdir()
    reference = run_cli("-c", str(write_config(clean, [str(s) for s in SEEDS])), "--now", NOW, check=True)
    assert fixed.stdout.replace(str(tmp_path), "") == reference.stdout.replace(str(clean), "")
    ours = {p.relative_to(tmp_path / "out"): p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    theirs = {p.relative_to(clean / "out"): p.read_bytes() for p in (clean / "out").rglob("*") if p.is_file()}
    assert ours == theirs


def test_a_first_pass_stopped_at_once_before_it_stored_anything_removes_the_database_it_made(tmp_path):
    """A second Ctrl-C (KeyboardInterrupt) while the first dump is read: exit 130, no database
    left; the next pass makes it."""
    from feeds import cli, config

    cfg = write_config(tmp_path, [str(s) for s in SEEDS])
    state = config.load(cfg).state.path

    def interrupted():
        def show(n: int, total: int, path: str) -> None:
            raise KeyboardInterrupt
        return show

    assert cli.main(["-c", str(cfg), "--now", NOW, "-q"], progress=interrupted) == 130
    assert not state.exists()
    assert cli.main(["-c", str(cfg), "--now", NOW, "-q"]) == 0
    assert state.exists()


def test_an_upgrade_that_reads_dumps_differently_reads_them_again_once(tmp_path):
    """The stored dumps are read again when the readers' code changes, whatever the version
    number says; a change elsewhere (the command line) reads nothing again."""
    code = tmp_path / "code"
    shutil.copytree(REPO / "feeds", code / "feeds", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "templates", code / "templates", ignore=shutil.ignore_patterns("__pycache__"))
    cfg = write_config(tmp_path, [str(s) for s in SEEDS])
    env = {**os.environ, "PYTHONPATH": str(code), "TZ": "UTC", "LC_ALL": "C.UTF-8"}

    def run() -> str:
        proc = subprocess.run([sys.executable, "-m", "feeds", "-c", str(cfg), "--now", NOW], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert run().startswith("feeds: 2 dump(s) read, 0 unchanged")
    assert run().startswith("feeds: 0 dump(s) read, 2 unchanged")
    with open(code / "feeds" / "ingest" / "segment.py", "a", encoding="utf-8") as fh:
        fh.write("\n# a new version of the segmenter\n")
    assert run().startswith("feeds: 2 dump(s) read, 0 unchanged")
    assert run().startswith("feeds: 0 dump(s) read, 2 unchanged")
    with open(code / "feeds" / "cli.py", "a", encoding="utf-8") as fh:
        fh.write("\n# a new version of the command line\n")
    assert run().startswith("feeds: 0 dump(s) read, 2 unchanged")
