"""The digests' archive under out/digests/: a page per digest with posts, their index and their
Atom feed; and the preview files of `digest --preview` under out/preview/."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from pathlib import Path

from feeds import tokens
from feeds.addresses import parse_address
from feeds.config import Config
from feeds.digest.period import Period, PeriodError
from feeds.digest.render import PREVIEW_RECIPIENT, Renderer, build_message, heading
from feeds.digest.select import Selection, message_id, select
from feeds.publish.content import DigestItem
from feeds.publish.files import WriteFile, write_if_changed
from feeds.publish.render import Publisher
from feeds.publish.templates import Templates
from feeds.store import Store

log = logging.getLogger(__name__)

#: The meta key that says what the archive showed when it was last written (digests_state).
PUBLISHED = "digests_published"


def publish_digests(store: Store, config: Config, now: datetime, stamp: str, *, templates: Templates | None = None,
                    write: WriteFile = write_if_changed) -> list[str]:
    """The digests' archive: a page per digest with posts, their index, and their Atom feed
    (the newest `max_entries` digests). `stamp` names the code and templates that render them:
    a page is rendered again only when what it shows or the stamp changed. `write` writes each file."""
    out = config.output.dir
    templates = templates or Templates(config)
    renderer = Renderer(config, templates)
    written: list[str] = []
    items: list[DigestItem] = []
    for row in store.digests(with_empty=True):
        period = Period.parse(row["period"])
        try:
            sel = select(store, config, period, now)
        except PeriodError:  # a period not over by this clock (it went back): next time
            log.info("digest %s left as it is: %s is before its %s's end", period, now.isoformat(),
                     period.words.unit)
            continue
        if sel.kind == "archived" and len(sel.posts) != row["posts"]:
            with store.transaction():
                store.set_digest(period.label, "archived", sel.date, len(sel.posts))
        if _page(store, renderer, sel, out / "digests" / f"{period}.html", stamp, write):
            written.append(str(out / "digests" / f"{period}.html"))
        if sel.posts:
            path = f"digests/{period}.html"
            in_feed = len(items) < config.output.max_entries
            items.append(DigestItem(period=period.label, start=period.start, heading=heading(period),
                                    title=renderer.subject(period), path=path, url=config.url(path), date=sel.date,
                                    posts=len(sel.posts), content=renderer.feed_content(sel) if in_feed else ""))
    pub = Publisher(config, templates)
    files = [("digests/index.html", pub.digests_index(items, feeds=store.count() > 0), False)]
    if items:  # (no digest lists a post yet: no feed, which would have no true date; the index says so)
        files.append(("digests/atom.xml", pub.digests_feed(items[:config.output.max_entries]), True))
    for name, data, durable in files:
        if write(out / name, data, durable=durable):
            written.append(str(out / name))
    with store.transaction():
        store.set_meta(PUBLISHED, digests_state(store, stamp))
    return written


def _page(store: Store, renderer: Renderer, sel: Selection, page: Path, stamp: str, write: WriteFile) -> bool:
    """Write the digest's page if what it shows changed (a large period costs a lot to inline);
    remove it if it shows no post. Whether it was written."""
    if not sel.posts:
        page.unlink(missing_ok=True)
        return False
    shown = hashlib.sha256(f"{stamp}\n{sel!r}".encode()).hexdigest()
    key = f"digest_page:{sel.period}"
    if page.exists() and store.meta(key) == shown:
        return False
    written = write(page, renderer.render(sel, web=True).html.encode("utf-8"))
    store.set_meta(key, shown)
    return written


def digests_state(store: Store, stamp: str) -> str:
    """What the digests' archive shows, in short: the digests stored and the code that renders
    them. A pass killed between composing a digest and writing its archive leaves it stale."""
    rows = [tuple(r) for r in store.digests(with_empty=True)]
    return hashlib.sha256(f"{stamp}\n{rows!r}\n{store.count() > 0}".encode()).hexdigest()  # (feeds linked or not)


def write_preview(config: Config, sel: Selection) -> list[tuple[Path, int]]:
    """The email as out/preview/<period>.html, .txt and .eml: (path, size in bytes) of each. With
    [web] url and its secret set, its unsubscribe link is the endpoint's, as a pass would mail it."""
    secret = tokens.secret_if_set(config) if config.web.url else b""  # (unset: a pass would not mail, and says so)
    rendered = Renderer(config).render(sel, PREVIEW_RECIPIENT, secret=secret)
    msg = build_message(config, rendered, parse_address(PREVIEW_RECIPIENT), sel.date,
                        message_id(sel.period.label, PREVIEW_RECIPIENT, config), secret)
    folder = config.output.dir / "preview"
    files = []
    for suffix, data in ((".html", rendered.html.encode("utf-8")), (".txt", rendered.text.encode("utf-8")),
                         (".eml", msg.as_bytes())):
        path = folder / f"{sel.period}{suffix}"
        write_if_changed(path, data)
        files.append((path, len(data)))
    return files
