"""`python -m feeds serve`: out/ over HTTP, to preview it or subscribe a feed reader to it; and the
list's endpoint (feeds.web) under the path of `[web] url` (or /list/), through wsgiref."""

from __future__ import annotations

import functools
import http.server
import logging
import os
import socket
import sys
import urllib.parse
from pathlib import Path
from typing import Any
from wsgiref.simple_server import ServerHandler

from feeds.config import Config
from feeds.errors import ConfigError
from feeds.web import App, make_app

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
    endpoint: list[App | None] = [None]  # made once the server's address is known
    handler = functools.partial(_Handler, directory=str(directory), private=private, endpoint=endpoint)
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
        endpoint[0] = _endpoint(cfg, base)
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            print("stopped")
    return 0


def _endpoint(cfg: Config, base: str) -> App | None:
    """The list's endpoint, served under the path of `[web] url`, or at <base>list/ when it is not
    set; None, saying why, when it cannot run (no secret)."""
    url = cfg.web.url or f"{base}list/"
    try:
        app = make_app(cfg, url=url)
    except ConfigError as exc:
        print(f"note: the list's endpoint is off: {exc}")
        return None
    local = base + app.mount.lstrip("/")
    print(f"The list's form: {local}subscribe" + (f" (its links in mails: {app.url})" if app.url != local else ""))
    return app


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


class _Handler(_QuietHandler):
    """out/ as _QuietHandler serves it, and the paths under the endpoint's through its WSGI app."""

    def __init__(self, *args: Any, endpoint: list[App | None] | None = None, **kwargs: Any) -> None:
        self.endpoint = endpoint or [None]
        super().__init__(*args, **kwargs)

    def _app(self) -> App | None:
        app = self.endpoint[0]
        path = urllib.parse.urlsplit(self.path).path
        if app is None or not (path.startswith(app.mount) or path == app.mount.rstrip("/")):
            return None
        return app

    def do_GET(self) -> None:  # noqa: N802 (http.server's names)
        app = self._app()
        if app is None:
            super().do_GET()
        else:
            self._wsgi(app)

    def do_HEAD(self) -> None:  # noqa: N802
        app = self._app()
        if app is None:
            super().do_HEAD()
        else:
            self._wsgi(app)

    def do_POST(self) -> None:  # noqa: N802
        app = self._app()
        if app is None:
            self.send_error(405, "Method not allowed: out/ is only read")
        else:
            self._wsgi(app)

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_POST  # noqa: N815 (the endpoint answers 405 itself)

    def _wsgi(self, app: App) -> None:
        """Hand the request to `app`, as wsgiref's own server does."""
        handler = ServerHandler(self.rfile, self.wfile, sys.stderr, self._environ(),  # type: ignore[arg-type]
                                multithread=True)
        handler.request_handler = self  # type: ignore[attr-defined]  # (it logs the request through it)
        handler.server_software = self.version_string()
        handler.os_environ = {}  # (wsgiref would put this process's environment, its secrets too, in each request's)
        handler.run(app)
        self.close_connection = True

    def _environ(self) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        address: Any = self.server.server_address  # (host, port, …): a tuple for IP sockets
        host, port = address[0], address[1]
        environ = {"REQUEST_METHOD": self.command, "SCRIPT_NAME": "", "QUERY_STRING": query,
                   "PATH_INFO": urllib.parse.unquote(path, "iso-8859-1"), "SERVER_PROTOCOL": self.request_version,
                   "SERVER_NAME": str(host), "SERVER_PORT": str(port),
                   "REMOTE_ADDR": self.client_address[0], "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                   "CONTENT_LENGTH": self.headers.get("Content-Length", "")}
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ
