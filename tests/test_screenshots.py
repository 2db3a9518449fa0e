"""The digest in a real browser: headless Chromium screenshots at phone and desktop widths."""

from __future__ import annotations

import os
import struct
import subprocess
import sys

import pytest
from conftest import REPO, SEEDS, write_config

sys.path.insert(0, str(REPO / "tests"))
from screenshot_digest import chromium  # noqa: E402


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_screenshots_at_375_and_600_px(tmp_path):
    if chromium() is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium)")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for s in SEEDS:
        (seeds / s.name).write_bytes(s.read_bytes())
    cfg = write_config(tmp_path, [str(seeds / "*.txt")])
    now = "2025-02-24T09:00:00+00:00"
    subprocess.run([sys.executable, "-m", "feeds", "-c", str(cfg), "--now", now], check=True, cwd=tmp_path,
                   capture_output=True)
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "screenshot_digest.py"), "-c", str(cfg), "--now", now,
                           "--period", "2025-W08", "--height", "1200"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for width in (375, 600):
        png = tmp_path / "out" / "screenshots" / f"2025-W08-{width}.png"
        assert f"{png}  {width} px wide" in proc.stdout
        data = png.read_bytes()
        assert png_size(data) == (width, 1200)
        assert len(data) > 20_000  # text was drawn: a blank page compresses to a few KB


def test_the_list_form_and_unsubscribe_page_at_375_px(tmp_path):
    if chromium() is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium)")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for s in SEEDS:
        (seeds / s.name).write_bytes(s.read_bytes())
    cfg = write_config(tmp_path, [str(seeds / "*.txt")])
    env = {**os.environ, "FEEDS_SECRET": "a-test-secret-of-more-than-32-characters-0123456789"}
    subprocess.run([sys.executable, "-m", "feeds", "-c", str(cfg), "--now", "2025-02-24T09:00:00+00:00"], check=True,
                   cwd=tmp_path, capture_output=True, env=env)
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "screenshot_digest.py"), "-c", str(cfg), "--list",
                           "--height", "900"], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    for name in ("subscribe", "unsubscribe"):
        png = tmp_path / "out" / "screenshots" / f"{name}-375.png"
        assert f"{png}  375 px wide" in proc.stdout
        data = png.read_bytes()
        assert png_size(data) == (375, 900)
        assert len(data) > 15_000  # text was drawn: a blank page compresses to a few KB
