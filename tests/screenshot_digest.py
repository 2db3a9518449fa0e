#!/usr/bin/env python3
"""Screenshot a digest email in headless Chromium at phone and desktop widths, or the feeds
as a browser shows them.

    python tests/screenshot_digest.py --period 2025-W07 [-c feeds.toml] [--now ISO-8601]
    python tests/screenshot_digest.py --feed [-c feeds.toml]   # out/screenshots/atom.xml.png, rss.xml.png
    python tests/screenshot_digest.py --list [-c feeds.toml]   # out/screenshots/subscribe-375.png, unsubscribe-375.png

Renders the week with `python -m feeds digest --period WEEK --preview` (which writes
out/preview/WEEK.html), then saves out/screenshots/WEEK-375.png and WEEK-600.png:
what a reader sees on a phone and in a desktop mail client's reading pane. Look at them.
--list serves out/ and the list's endpoint as `feeds serve` does (the secret from the environment,
as [web] secret_env names it) and saves the form and the unsubscribe page at 375 px.
Needs Debian's `chromium` (or $CHROMIUM naming another Chromium or Chrome binary).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from feeds import config as config_mod  # noqa: E402

WIDTHS = (375, 600)


def chromium() -> str | None:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def screenshot(browser: str, page: Path | str, png: Path, width: int, height: int) -> None:
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:  # a fresh profile: no state between runs
        proc = subprocess.run(
            [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
             f"--window-size={width},{height}", f"--screenshot={png}",
             page if isinstance(page, str) else page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or not png.is_file():
        raise SystemExit(f"chromium could not screenshot {page} (exit {proc.returncode}):\n{proc.stderr[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--period", help="the ISO week, e.g. 2025-W07")
    parser.add_argument("--feed", action="store_true",
                        help="instead, serve out/ and screenshot atom.xml and rss.xml as a browser shows them")
    parser.add_argument("--list", action="store_true",
                        help="instead, serve the list's endpoint and screenshot its form and unsubscribe page")
    parser.add_argument("-c", "--config", default=None, help="feeds configuration (default ./feeds.toml)")
    parser.add_argument("--now", default=None, help="passed on to feeds (fix the clock)")
    parser.add_argument("--height", type=int, default=3000, help="the window's height in px (default 3000)")
    args = parser.parse_args(argv)

    browser = chromium()
    if browser is None:
        print("no chromium on PATH: apt-get install chromium (or set $CHROMIUM)", file=sys.stderr)
        return 2
    cfg = config_mod.load(args.config)
    if args.feed:
        return screenshot_feeds(browser, cfg, args.config, args.height)
    if args.list:
        return screenshot_list(browser, cfg, args.config, args.height)
    if not args.period:
        parser.error("--period is needed (or --feed)")
    command = [sys.executable, "-m", "feeds", *(["-c", args.config] if args.config else []),
               *(["--now", args.now] if args.now else []), "digest", "--period", args.period, "--preview"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH"))))}
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stderr, end="", file=sys.stderr)
        return proc.returncode
    page = cfg.output.dir / "preview" / f"{args.period}.html"
    if not page.is_file():
        print(proc.stdout, end="")
        return 1
    for width in WIDTHS:
        png = cfg.output.dir / "screenshots" / f"{args.period}-{width}.png"
        screenshot(browser, page, png, width, args.height)
        print(f"{png}  {width} px wide")
    return 0


def screenshot_feeds(browser: str, cfg, config: str | None, height: int) -> int:
    """Serve out/ as `python -m feeds serve` does and screenshot the feeds in the browser."""
    with serving(config) as base:
        if base is None:
            return 1
        for feed in ("atom.xml", "rss.xml"):
            png = cfg.output.dir / "screenshots" / f"{feed}.png"
            screenshot(browser, base + feed, png, 800, height)
            print(f"{png}  800 px wide")
    return 0


def screenshot_list(browser: str, cfg, config: str | None, height: int) -> int:
    """Serve out/ and the list's endpoint as `python -m feeds serve` does; screenshot the form and the
    page an unsubscribe link opens (for reader@example.org), at a phone's width."""
    from datetime import UTC, datetime

    from feeds import tokens
    from feeds.errors import ConfigError

    try:
        secret = tokens.secret(cfg)
    except ConfigError as exc:
        print(f"feeds: {exc}", file=sys.stderr)
        return 2
    token = tokens.sign(secret, "unsubscribe", "reader@example.org", now=datetime.now(UTC))
    with serving(config) as base:
        if base is None:
            return 1
        mount = urlsplit(cfg.web.url).path if cfg.web.url else "/list/"
        for name, path in (("subscribe", "subscribe"), ("unsubscribe", f"unsubscribe?token={token}")):
            png = cfg.output.dir / "screenshots" / f"{name}-375.png"
            screenshot(browser, base + mount.lstrip("/") + path, png, 375, height)
            print(f"{png}  375 px wide")
    return 0


@contextlib.contextmanager
def serving(config: str | None) -> Iterator[str | None]:
    """`python -m feeds serve` on a free port: its base URL (None, said, if it did not start)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen([sys.executable, "-m", "feeds", *(["-c", config] if config else []), "serve", "--port", "0"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as server:
        try:
            line = server.stdout.readline() if server.stdout else ""
            if " at " not in line:
                print(f"feeds serve did not start: {line}", file=sys.stderr)
                yield None
            else:
                yield line.split(" at ")[1].split()[0]
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    raise SystemExit(main())
