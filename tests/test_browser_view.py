"""The feeds in a real browser: headless Chromium opens atom.xml and rss.xml as served by
`python -m feeds serve`, and shows a page (via out/feed.xsl) with the feed's title and posts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

import pytest
from conftest import NOW, REPO, run_cli

sys.path.insert(0, str(REPO / "tests"))
from screenshot_digest import chromium  # noqa: E402


def _browser(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                               "--no-first-run", f"--user-data-dir={profile}", *args, url],
                              capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("feed", ["atom.xml", "rss.xml"])
def test_a_feed_opened_in_a_browser_is_a_readable_page(project, feed):
    if chromium() is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium)")
    root, cfg = project
    run_cli("-c", str(cfg), "--now", NOW, check=True)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen([sys.executable, "-m", "feeds", "-c", str(cfg), "serve", "--port", "0"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as server:
        try:
            base = server.stdout.readline().split(" at ")[1].split()[0]
            dom = _browser(base + feed, "--dump-dom")
            png = root / "out" / "screenshots" / f"{feed}.png"
            png.parent.mkdir(parents=True, exist_ok=True)
            shot = _browser(base + feed, "--window-size=800,1400", f"--screenshot={png}")
        finally:
            server.terminate()
            server.wait(timeout=10)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "This is a web feed." in dom.stdout  # the stylesheet ran: a page, not raw XML
    assert "<h1>Friends of Socialist China</h1>" in dom.stdout
    assert "Panama: Trump’s testing ground for his new Monroe Doctrine" in dom.stdout
    assert dom.stdout.count("<h2>") == 38
    links = re.findall(r'<h2><a href="([^"]*)"', dom.stdout)
    assert len(links) == 38 and all(h.startswith("http://127.0.0.1:8000/posts/") for h in links), links[:3]
    assert shot.returncode == 0 and png.stat().st_size > 20_000


def test_the_screenshot_script_saves_the_feeds_under_out(project):
    if chromium() is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium)")
    root, cfg = project
    run_cli("-c", str(cfg), "--now", NOW, check=True)
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "screenshot_digest.py"), "--feed", "-c", str(cfg),
                           "--height", "900"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for feed in ("atom.xml", "rss.xml"):
        png = root / "out" / "screenshots" / f"{feed}.png"
        assert f"{png}  800 px wide" in proc.stdout and png.stat().st_size > 20_000
