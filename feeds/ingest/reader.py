"""What a dump reader is: the contract every reader of a dump format keeps.

A reader is a function `read(source, settings) -> Found`. It gets one dump's bytes
(`Source`) and how the config says dumps are read (`Settings`), and returns the dump's
posts finished: titles, body blocks, positions, explicit dates parsed (aware), body HTML
sanitised when the format has HTML, at most `source.max_posts` of them (newest first),
and what it has to say (`Found.said`) for the pass's log. It raises DumpError when the
dump cannot be used, and keeps to `source.deadline` (SlowDumpError). Nothing of the
library a reader parses with leaves it. The readers are registered in `feeds.ingest`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from feeds.config.selectors import HtmlSelectors
from feeds.ingest.budget import Deadline
from feeds.ingest.repeats import Edges
from feeds.models import Post

if TYPE_CHECKING:
    from feeds.config import Config


@dataclasses.dataclass(frozen=True)
class Settings:
    """How the config says dumps are read: the same for every dump of a pass."""

    encoding: str  # input.encoding: what a dump that is not UTF-8 is read as ('' to guess)
    language: str  # site.language: what to guess the encoding of a dump for
    marker: str  # input.marker: the line that ends a cut post ("Continue reading <title>")
    chrome: tuple[str, ...]  # input.chrome: lines of site chrome, never a post's
    site_url: str | None  # site.url: what relative links are relative to, when a page does not say
    tz: ZoneInfo  # site.timezone: the zone of a date a dump gives without one
    html: tuple[HtmlSelectors, ...] = ()  # input.html: CSS selectors for the posts of some saved pages
    markers: tuple[str, ...] = ()  # input.markers: more phrases that cut a post short ("Read more", "[…]")

    @classmethod
    def of(cls, config: Config) -> Settings:
        return cls(config.input.encoding, config.site.language, config.input.marker, tuple(config.input.chrome),
                   config.site.url or None, config.site.tz, config.input.html, tuple(config.input.markers))


@dataclasses.dataclass(frozen=True)
class Source:
    """One dump to read."""

    path: str
    data: bytes
    latest: datetime  # when it was written (or the pass's clock, if earlier): its posts existed by then
    deadline: Deadline  # when reading it must be given up
    max_posts: int  # the posts it may give: the first (newest) are read, the rest left out with a warning
    site: SitePages | None = None  # the site's other dumps read by the same reader in this pass


class SitePages(Protocol):
    """The dumps of a pass read by one reader: other pages of the site (feeds.ingest.files)."""

    def edges(self, lines_of: Callable[[bytes], Sequence[str] | None]) -> Edges:
        """What every page opens and closes with (feeds.ingest.repeats.site_edges), each page's
        lines as `lines_of` gives them from its bytes (None: a page it cannot read); worked
        out on the first call, and kept."""


@dataclasses.dataclass(frozen=True)
class Found:
    """A dump's posts, and what its reader has to say, in order: (logging level, message)."""

    posts: tuple[Post, ...]
    said: tuple[tuple[int, str], ...] = ()


Reader = Callable[[Source, Settings], Found]
