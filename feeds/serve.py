"""`python -m feeds serve`: out/ over HTTP, to preview it or subscribe a feed reader to it."""

from __future__ import annotations

import functools
import http.server
import logging
import os
import socket
import sys
from pathlib import Path

from feeds.config import Config

log = logging.getLogger(__name__)


def serve(cfg: Config, bind: str, port: int) -> int:
    """Serve the output folder until Ctrl-C: its regular files, whose real path is inside it
    (no symbolic link out of it); never the outbox."""
    directory = cfg.output.dir
    if not (directory / "index.html").exists():
        print(f"feeds: {directory}/ has nothing to serve yet; run 'python -m feeds' first", file=sys.stderr)
        return 2
    # The outbox holds subscribers' addresses: never serve it, whether it is under out/ as
    # written, or (through a symbolic link) where it really is.
    private = [os.path.abspath(cfg.outbox), str(cfg.outbox.resolve())]
    handler = functools.partial(_QuietHandler, directory=str(directory), private=private)
    host = f"[{bind}]" if ":" in bind else bind  # an IPv6 address, as a URL writes it
    try:
        # IPv4 or IPv6, as the address is (what http.server's own command does)
        family, _, _, _, address = socket.getaddrinfo(bind or None, port, type=socket.SOCK_STREAM,
                                                      flags=socket.AI_PASSIVE)[0]
        server = type("_Server", (http.server.ThreadingHTTPServer,), {"address_family": family})
        httpd = server(address, handler)
    except OSError as exc:  # in use, not an address of this machine, not a name that resolves
        reason = exc.strerror or str(exc)
        print(f"feeds: cannot serve on {host}:{port}: {reason}; choose another --port, or a --bind "
              "address of this machine (127.0.0.1 for this machine only)", file=sys.stderr)
        return 2
    with httpd:
        base = f"http://{host}:{httpd.server_address[1]}/"
        print(f"Serving {directory}/ at {base} (Ctrl-C to stop). Subscribe a feed reader to {base}atom.xml")
        if cfg.site.base_url != base:
            print(f"note: links in the feeds point to site.base_url = {cfg.site.base_url}")
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            print("stopped")
    return 0


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    # Atom and RSS as application/xml, not application/atom+xml or rss+xml: Chromium shows those as
    # plain text, not as the page out/feed.xsl makes of them; feed readers take either.
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".xml": "application/xml; charset=utf-8", ".html": "text/html; charset=utf-8"}

    def __init__(self, *args: object, private: list[str] | None = None, **kwargs: object) -> None:
        self.private = [Path(p) for p in private or []]
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def send_head(self):  # noqa: ANN201 (the base class leaves it untyped)
        path = self.translate_path(self.path)  # normalised, below the directory, links not followed
        if "\0" in path:  # (a NUL: no file has one in its name)
            self.send_error(400, "Bad request: the path is not a file name")
            return None
        if not self._servable(path):
            self.send_error(404, "Not found")
            return None
        return super().send_head()

    def _servable(self, path: str) -> bool:
        """Is what the base class would serve for `path` a regular file (or a folder) whose real
        path, symbolic links followed, is inside the directory served, and not in the outbox?
        (A link in out/ to the state, or to /etc, is not served; one to a file in out/ is.)"""
        if not os.path.lexists(path):
            return True  # nothing there: the base class says 404
        wanted = [path]
        if os.path.isdir(path):  # the base class serves its index.html, if it has one
            wanted += [i for i in (os.path.join(path, "index.html"), os.path.join(path, "index.htm"))
                       if os.path.isfile(i)][:1]
        root = Path(os.path.realpath(self.directory))
        for candidate in wanted:
            real = Path(os.path.realpath(candidate))
            if not real.is_relative_to(root) or not (real.is_dir() or real.is_file()):  # (is_file: a regular one)
                return False
            for seen in (Path(os.path.abspath(candidate)), real):
                if any(seen == p or seen.is_relative_to(p) for p in self.private):
                    return False
        return True

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        if os.path.basename(path) == "feed.json":  # JSON Feed's own type (jsonfeed.org/version/1.1)
            return "application/feed+json; charset=utf-8"
        return super().guess_type(path)

    def log_message(self, format: str, *args: object) -> None:
        # A request line is the client's text: its control characters (an escape sequence that
        # recolours or retitles a terminal) are shown as \x escapes, never written as they are.
        log.info("%s %s", self.address_string(), (format % args).translate(_ESCAPES))


#: C0 and C1 control characters and DEL, as \xNN (http.server's own logging does the same).
_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}
