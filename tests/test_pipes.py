"""Output into a pipe whose reader goes away (`feeds inspect seeds/*.txt | head -1`, `| grep -q`)
ends the command quietly: exit status 141 (128 + SIGPIPE, as a shell shows for other commands),
no traceback, nothing on stderr. Each test runs the real CLI with its stdout on a real pipe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import NOW, REPO, SEEDS, run_cli

EXIT_PIPE = 141


def piped(args: list[str], root: Path, *, read: int, timeout: float = 120,
          buffered: bool = False) -> tuple[int, list[str], str]:
    """Run feeds with `args`, read `read` lines of its stdout (0: none), close the pipe, wait for it
    to end: (exit status, the lines read, its stderr). `buffered`: stdout as Python buffers it into
    a pipe, so that short output is written only at the end (else unbuffered: at each print)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "TZ": "UTC", "LC_ALL": "C.UTF-8", "PYTHONUNBUFFERED": "1"}
    if buffered:
        del env["PYTHONUNBUFFERED"]
    with open(root / "stderr.txt", "w+", encoding="utf-8") as stderr:
        with subprocess.Popen([sys.executable, "-m", "feeds", *args], cwd=root, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=stderr) as proc:
            assert proc.stdout is not None
            lines = [proc.stdout.readline() for _ in range(read)]
            proc.stdout.close()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
        stderr.seek(0)
        return proc.returncode, lines, stderr.read()


@pytest.fixture(scope="module")
def many_dumps(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Twenty copies of the seeds: hundreds of kilobytes to show, far more than a pipe holds."""
    folder = tmp_path_factory.mktemp("many")
    paths = []
    for i in range(20):
        for seed in SEEDS:
            path = folder / f"{i:02d}-{seed.name}"
            path.write_bytes(seed.read_bytes())
            paths.append(str(path))
    return paths


@pytest.mark.parametrize("json_lines", [False, True], ids=["table", "json"])
def test_inspect_into_head_ends_quietly(tmp_path, many_dumps, json_lines):
    args = ["inspect", "--now", NOW, *(["--json"] if json_lines else []), *many_dumps]
    status, lines, stderr = piped(args, tmp_path, read=1)
    assert lines[0].startswith('{"dump"' if json_lines else "dump ")
    assert (status, stderr) == (EXIT_PIPE, "")


@pytest.mark.parametrize("buffered", [False, True], ids=["unbuffered", "buffered"])
@pytest.mark.parametrize("command", [["status"], ["status", "--json"], ["digest", "--period", "2025-W07"],
                                     ["digest", "--period", "2025-W07", "--preview"]])
def test_status_and_digest_into_a_reader_gone_end_quietly(project, command, buffered):
    """Their output is short: the reader goes before it comes (`| true`, a `grep -q` that matched).
    Buffered, it fails as Python flushes stdout at exit; unbuffered, at the print."""
    root, cfg = project
    run_cli("-c", str(cfg), "--now", NOW, check=True)
    status, _, stderr = piped(["-c", str(cfg), "--now", NOW, *command], root, read=0, buffered=buffered)
    assert (status, stderr) == (EXIT_PIPE, "")


@pytest.mark.parametrize("buffered", [False, True], ids=["unbuffered", "buffered"])
def test_a_pass_whose_summary_finds_no_reader_has_done_its_work(project, buffered):
    root, cfg = project
    status, _, stderr = piped(["-c", str(cfg), "--now", NOW], root, read=0, buffered=buffered)
    assert (status, stderr) == (EXIT_PIPE, "")
    assert (root / "out" / "atom.xml").is_file()
    assert "nothing new (38 entries stored)" in run_cli("-c", str(cfg), "--now", NOW, check=True).stdout


def test_a_loop_whose_reader_goes_ends_at_its_next_line_quietly(project):
    """The loop's first line is read; the pass's summary line then finds no reader (or, if the first
    pass beat the close, the next pass's: [loop] interval = 1 minute)."""
    root, cfg = project
    cfg.write_text(cfg.read_text(encoding="utf-8") + "\n[loop]\ninterval = 1\n", encoding="utf-8")
    status, lines, stderr = piped(["-c", str(cfg), "loop"], root, read=1, timeout=150)
    assert lines[0].startswith("feeds: loop started")
    assert (status, stderr) == (EXIT_PIPE, "")
    assert (root / "out" / "atom.xml").is_file()
