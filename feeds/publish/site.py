"""What the renderers of a publishing step are given: the site's config, the renderers, what
was read from the store for this step, and the boundary that keeps one entry's failure its own."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Protocol

from feeds.config import Config
from feeds.models import StoredEntry
from feeds.publish.boundary import EntryBoundary
from feeds.publish.render import Publisher


class EntryReads(Protocol):
    """The reads a renderer may make (the store's): entries a chunk at a time."""

    def get_many(self, keys: Sequence[str]) -> dict[str, StoredEntry]: ...

    def newest_by_category(self, limit: int) -> dict[str, list[str]]: ...


@dataclasses.dataclass(frozen=True)
class Site:
    """`newest`: the entries the feeds list, newest first; `months`: (month, posts) of the
    archive, newest first; `slugs`: every category's slug, by name (category feeds on)."""

    config: Config
    pub: Publisher
    boundary: EntryBoundary
    newest: Sequence[StoredEntry]
    months: Sequence[tuple[str, int]]
    slugs: Mapping[str, str]
    read: EntryReads
