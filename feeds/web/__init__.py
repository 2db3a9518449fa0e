"""The list's web endpoint: subscribe, confirm, unsubscribe in one click (see feeds.web.app).

`feeds.web:app` is the WSGI application for gunicorn or waitress (its config from $FEEDS_CONFIG,
default ./feeds.toml, read at the first request); `make_app(config)` makes one for tests and for
`feeds serve`.
"""

from __future__ import annotations

from feeds.web.app import App, LazyApp, make_app

__all__ = ["App", "app", "make_app"]

app = LazyApp()
