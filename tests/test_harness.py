"""The tests' own tools: `run_cli` runs the command line in this process, and gives what the real
process gives (output, messages, exit status) and leaves nothing of itself behind."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time

from conftest import NOW, examples, run_cli, run_process


def _process_state() -> dict[str, object]:
    logger = logging.getLogger("feeds")
    wakeup = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(wakeup)
    return {"cwd": os.getcwd(), "stdout": sys.stdout, "stderr": sys.stderr,
            "env": {k: os.environ.get(k) for k in ("TZ", "LC_ALL", "FEEDS_BATCH_BYTES")}, "tzname": time.tzname,
            "handlers": logger.handlers[:], "level": logger.level, "propagate": logger.propagate,
            "signals": {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGPIPE)},
            "wakeup_fd": wakeup, "threads": threading.active_count()}


def test_two_calls_in_a_row_leave_no_state_behind_and_each_logs_to_its_own_stderr(project):
    root, cfg = project
    log_file = root / "feeds.log"
    before = _process_state()
    first = run_cli("-c", str(cfg), "--now", NOW, "-v", "--log-file", str(log_file), cwd=root, check=True)
    assert _process_state() == before
    second = run_cli("-c", str(cfg), "--now", NOW, "-v", cwd=root / "seeds", check=True)
    assert _process_state() == before
    assert first.stdout.startswith("feeds: 2 dump(s) read, 0 unchanged; 40 post(s) found; 38 new")
    assert second.stdout.startswith("feeds: 0 dump(s) read, 2 unchanged")
    # With --log-file the info lines go to the file only; without, -v sends them to that call's stderr.
    assert "INFO" not in first.stderr and "INFO: pass done: 0 dump(s) read" in second.stderr
    logged = log_file.read_text(encoding="utf-8")
    assert "pass done: 2 dump(s) read" in logged and "0 dump(s) read" not in logged, "the first call's log stayed open"


def test_in_process_and_as_a_process_the_same_output_and_status(tmp_path):
    """For a usage error (argparse exits), --version, a configuration error, a pass, a second pass."""
    runs = {"in": run_cli, "out": run_process}
    for name in runs:
        (tmp_path / name / "d").mkdir(parents=True)
        (tmp_path / name / "d" / "a.txt").write_text("Harbour wall to be repaired\n\nThe council says the wall "
                                                      "is repaired before winter.\n", encoding="utf-8")
        (tmp_path / name / "feeds.toml").write_text('[site]\ntitle = "T"\nurl = "https://example.org/"\n'
                                                    '[input]\npaths = ["d/*.txt", "e/*.txt"]\n', encoding="utf-8")
        (tmp_path / name / "bad.toml").write_text("[site]\ntimezone = 'Mars/Olympus'\n", encoding="utf-8")
    for args in (["--now", "yesterday"], ["--version"], ["-c", "bad.toml"], ["--now", NOW], ["--now", NOW],
                 ["--now", NOW, "status"], ["--now", NOW, "inspect", "d/a.txt", "--json"], ["nonsense"]):
        ours, real = ((p.returncode, p.stdout.replace(str(tmp_path / name), "SITE"),
                       p.stderr.replace(str(tmp_path / name), "SITE"))
                      for name, p in ((name, run(*args, cwd=tmp_path / name)) for name, run in runs.items()))
        assert ours == real, args


def test_ci_draws_the_full_count_of_examples_and_a_local_run_fewer():
    assert examples(300, 60, env={"FEEDS_TESTS": "full"}) == 300
    assert examples(300, 60, env={}) == examples(300, 60, env={"FEEDS_TESTS": ""}) == 60
