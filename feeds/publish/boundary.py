"""Rendering one entry's page, or its item in a feed: what goes wrong there is that entry's."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from feeds.config import Config
from feeds.errors import ConfigError
from feeds.models import Entry
from feeds.publish.content import sample_entries
from feeds.publish.render import Publisher

log = logging.getLogger(__name__)


class EntryBoundary:
    """Rendering one entry's page, or its item in a feed: what goes wrong there is that entry's.

    The entry is left out (its page is not written, its item not in the feed; an entry
    whose page is not there is left out of the feeds too, which would link it), named in
    `problems`, and stays pending, so that the next pass tries it again; the others are
    published. Unless the same rendering fails for feeds' sample posts (`feeds check`'s)
    too: then it is not the entry's but the templates' (or a bug's), and it stops the pass
    as before (ConfigError, naming the template and its line, or a traceback).
    """

    #: Entries named one per line in `problems`; more are counted on one more line.
    NAMED = 20

    def __init__(self, pub: Publisher, config: Config):
        self.pub, self.config = pub, config
        self.failed: dict[str, Entry] = {}  # key -> the entry
        self._where: dict[str, list[str]] = {}  # key -> the files it was left out of
        self._why: dict[str, Exception] = {}  # key -> what went wrong first
        self._samples: dict[str, bool] = {}  # what rendered with sample posts: page, or a feed's kind
        self.unpublished: set[str] = set()  # keys of entries whose page failed and is not there

    def page(self, entry: Entry, url: str | None, slugs: dict[str, str]) -> bytes | None:
        try:
            return self.pub.post_page(entry, url, category_slugs=slugs)
        except Exception as exc:
            self._fail(entry, exc, self.pub.page_path(entry), "page")
            if not (self.config.output.dir / self.pub.page_path(entry)).exists():
                self.unpublished.add(entry.key)
            return None

    def feed(self, entries: Sequence[tuple[Entry, str | None]], name: str, *,
             topic: str | None = None) -> bytes | None:
        """The feed without the entries whose items fail (each tried alone, once the whole failed);
        None when no entry is left."""
        entries = [(e, u) for e, u in entries if e.key not in self.unpublished]
        if not entries:
            return None
        try:
            return self.pub.feed(entries, name, topic=topic)
        except Exception as exc:
            whole = exc
        good = []
        for entry, url in entries:
            try:
                self.pub.feed([(entry, url)], name, topic=topic)
            except Exception as exc:
                self._fail(entry, exc, name, name.rsplit("/", 1)[-1])
            else:
                good.append((entry, url))
        if len(good) == len(entries):  # each alone renders, all together do not: no one entry's fault
            raise whole
        return self.pub.feed(good, name, topic=topic) if good else None

    def _fail(self, entry: Entry, exc: Exception, where: str, kind: str) -> None:
        if not self._samples_render(kind):
            raise exc
        self.failed[entry.key] = entry
        self._where.setdefault(entry.key, []).append(where)
        self._why.setdefault(entry.key, exc)
        log.info("%r (%s) could not be rendered into %s:", entry.title, entry.slug, where, exc_info=exc)

    def problems(self) -> list[str]:
        """A line for each entry left out (for the first NAMED), saying where and why."""
        lines = []
        for key, entry in list(self.failed.items())[:self.NAMED]:
            exc = self._why[key]
            why = (str(exc) if isinstance(exc, ConfigError) else  # (a template of the user's: it says which line)
                   f"{type(exc).__name__}: {exc}; a bug: please report it, with the traceback that -v shows")
            lines.append(f"{entry.title!r} ({entry.slug}) was left out of {', '.join(self._where[key])} and is "
                         f"tried again on the next pass: {' '.join(why.split())}")
        if len(self.failed) > self.NAMED:
            lines.append(f"{len(self.failed) - self.NAMED} more entries failed to render and are tried again on the "
                         "next pass (-v names each, with its traceback)")
        return lines

    def _samples_render(self, kind: str) -> bool:
        """Does feeds check's sample post render into a page (or a feed of this kind)?"""
        if kind not in self._samples:
            samples = sample_entries(self.config, datetime(2025, 1, 2, 12, tzinfo=self.config.site.tz))
            try:
                for entry, url in samples:
                    if kind == "page":
                        self.pub.post_page(entry, url)
                    else:
                        self.pub.feed([(entry, url)], kind)
                self._samples[kind] = True
            except Exception:
                self._samples[kind] = False
        return self._samples[kind]
