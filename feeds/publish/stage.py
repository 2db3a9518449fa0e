"""The publishing step of a pass: read what is pending → plan what is due → render → write.

What a pass stored is recorded as pending in the same transaction, and cleared only here,
after everything is written: a pass interrupted before it publishes is finished by the next
one. Pages are written before the feeds and the index that link to them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from feeds import __version__
from feeds.config import Config
from feeds.errors import ConfigError
from feeds.models import StoredEntry
from feeds.normalise import month_of, slugify, unique_slug
from feeds.publish.boundary import EntryBoundary
from feeds.publish.content import Links
from feeds.publish.files import OutFiles, WriteFile, make_folder, remove_stale, write_if_changed
from feeds.publish.outputs import OUTPUTS
from feeds.publish.plan import Family, Plan, PublishState, Registry, checked_paths, plan
from feeds.publish.render import Publisher
from feeds.publish.site import Site
from feeds.publish.templates import Templates
from feeds.stamps import code_digest
from feeds.store import Store

#: The modules whose code decides the bytes of what is published (a package: every module in
#: it): when any of them changes, the next pass renders every file again (and writes those whose
#: bytes differ).
PUBLISHING_CODE = ("feeds.pipeline", "feeds.publish", "feeds.digest", "feeds.normalise", "feeds.models", "feeds.uri")


def fingerprint(config: Config, templates_hash: str) -> str:
    """What the published files depend on besides the entries: code, templates (`templates_hash`:
    the pass's `Templates.hash`), config."""
    return hashlib.sha256(f"{code_digest(PUBLISHING_CODE)}\n{__version__}\n{config.site!r}\n{config.input.marker}\n"
                          f"{config.output.max_entries}\n{config.output.hub}\n{config.output.category_feeds}\n"
                          f"{templates_hash}".encode()).hexdigest()


def publish(store: Store, config: Config, *, templates: Templates | None = None, rebuild: bool = False,
            problems: list[str] | None = None, registry: Registry = OUTPUTS, write: WriteFile = write_if_changed,
            invalidates: Sequence[str] = ()) -> list[str]:
    """Write what is pending: pages of changed entries, their archive months, the site's files
    (`registry`: feeds, index…); the paths written. Everything is rendered again (and written
    where the bytes differ) when `rebuild`, when the code, templates or config changed since the
    last publish, or when a feed, the index or a page of the newest entries is missing. With no
    entries yet there are no feeds. An entry that fails to render is left out and stays pending
    (EntryBoundary), named in `problems`; the index and the archive do not link its page while
    it is not there. `templates`: the pass's (loaded anew when not given); `invalidates`: meta
    keys that what is published makes stale, removed as it is recorded."""
    out = _output_dir(config)
    templates = templates or Templates(config)
    stamp = fingerprint(config, templates.hash)
    newest = store.newest(config.output.max_entries)
    due = plan(_read_state(store, config, registry, newest, stamp, rebuild), registry, config)
    if due is None:
        return []
    if due.full:
        regroup_months(store, config)
    pub = Publisher(config, templates)
    slugs = category_slugs(store) if config.output.category_feeds else {}  # (pages link their categories' feeds)
    files = OutFiles(out, write)
    boundary = EntryBoundary(pub, config)
    _write_pages(store, due, pub, boundary, slugs, files)
    _remove_pages(store, pub, out)
    site = Site(config, pub, boundary, newest, store.months(), slugs, store)
    _write_archive(store, due, site, files)
    _write_outputs(site, due, files)
    if problems is not None:
        problems += boundary.problems()
    _record(store, config, boundary, stamp, invalidates)
    return files.written


def _output_dir(config: Config) -> Path:
    out = config.output.dir
    try:  # what is stored stays pending: the next pass, with a usable output.dir, publishes it
        make_folder(out)
    except OSError as exc:
        raise ConfigError("output.dir", str(out), f"a folder feeds can make ({exc.strerror or exc})",
                          config.source) from None
    return out


def _read_state(store: Store, config: Config, registry: Registry, newest: Sequence[StoredEntry], stamp: str,
                rebuild: bool) -> PublishState:
    """What the plan is made from: the store's pending entries and months, the stamp, and which
    of the files that must be there are. (A new entry's page is missing too, but it is pending.)"""
    changed = frozenset(store.pending("entry"))
    links = Links(config)
    pages = tuple((s.entry.key, links.page_path(s.entry)) for s in newest)
    checked = checked_paths(registry, config, pages, changed)
    return PublishState(rebuild=rebuild, stamp_changed=store.meta("publish_fingerprint") != stamp,
                        changed=changed, months=frozenset(store.pending("month")), newest=pages,
                        present=frozenset(p for p in checked if (config.output.dir / p).exists()))


def _write_pages(store: Store, due: Plan, pub: Publisher, boundary: EntryBoundary, slugs: dict[str, str],
                 files: OutFiles) -> None:
    pages = store.each() if due.pages is None else store.get_many(sorted(due.pages)).values()
    for s in pages:
        page = boundary.page(s.entry, s.url, slugs)
        if page is not None:
            files.put(pub.page_path(s.entry), page)


def _remove_pages(store: Store, pub: Publisher, out: Path) -> None:
    """The pages of the entries removed since the last publish (`feeds entries remove`) go."""
    for s in store.removed_among(store.pending("entry")):
        remove_stale(out / "posts", Path(pub.page_path(s.entry)).name, lambda p: False, "the entry was removed")


def _write_archive(store: Store, due: Plan, site: Site, files: OutFiles) -> None:
    """A page per month due, without the entries whose page is not there; a month with no entries
    any more loses its page."""
    unpublished = site.boundary.unpublished
    for month, _count in site.months:
        if due.months is None or month in due.months:
            files.put(f"archive/{month}.html", site.pub.archive_page(
                month, [r for r in store.month_rows(month) if r["key"] not in unpublished]))
    months = {m for m, _ in site.months}
    remove_stale(files.out / "archive", "[0-9][0-9][0-9][0-9]-[0-9][0-9].html", lambda p: p.stem in months,
                 "no posts in that month any more")


def _write_outputs(site: Site, due: Plan, files: OutFiles) -> None:
    for output in due.outputs:
        if isinstance(output, Family):
            _write_family(site, output, files)
        elif (data := output.render(site)) is not None:
            files.put(output.path, data, durable=output.durable)


def _write_family(site: Site, family: Family, files: OutFiles) -> None:
    """Each file of the family (a category's feed), then those of its subjects gone are removed."""
    rendered = set()
    for path, data in family.render(site):
        rendered.add(path)
        if data is not None:
            files.put(path, data, durable=family.durable)
    remove_stale(files.out, family.pattern, lambda p: p.relative_to(files.out).as_posix() in rendered, family.why)


def _record(store: Store, config: Config, boundary: EntryBoundary, stamp: str, invalidates: Sequence[str]) -> None:
    with store.transaction():
        store.clear_pending()
        # (what failed to render stays pending: the next pass tries it again, and its month's page)
        store.add_pending("entry", boundary.failed)
        store.add_pending("month", {month_of(e.published, config.site.tz) for e in boundary.failed.values()})
        store.set_meta("publish_fingerprint", stamp)
        for key in invalidates:
            store.delete_meta(key)


def category_slugs(store: Store) -> dict[str, str]:
    """Every category's slug, by name: given the first time a category is seen, and kept (a
    category's slug, once given, is its feed's address for good)."""
    slugs = store.category_slugs()
    taken = set(slugs.values())
    for category in store.categories():
        if category not in slugs:
            slugs[category] = unique_slug(slugify(category), taken)
            taken.add(slugs[category])
            store.set_category_slug(category, slugs[category])
    return slugs


def regroup_months(store: Store, config: Config) -> None:
    """Put every entry in the archive month of its date in the site's (maybe new) zone."""
    tz = config.site.tz
    with store.transaction():
        for key, published, month in list(store.month_of_each()):
            local = month_of(datetime.fromisoformat(published), tz)
            if local != month:
                store.set_month(key, local)
