"""What a publishing step writes, decided from data alone (no store, no disk): the state read
before it (what is pending, whether the code, templates or config changed, which of the files
that must be there are) gives the plan.

The site's files are registered as `Output`s (a path and what renders it) or `Family`s (as many
files as the site has subjects: a category's feed). Adding an output is one renderer and one
`Output` in the registry given to `publish` (`feeds.publish.outputs.OUTPUTS` by default).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from feeds.config import Config

if TYPE_CHECKING:  # (the renderers' context: only named here)
    from feeds.publish.site import Site


@dataclasses.dataclass(frozen=True)
class Output:
    """A file under out/: its path, and what renders it (None: nothing to write this time).

    `needs_entries`: a feed, written only once the site has an entry (a feed is dated by its
    newest entry: an empty one would have no true date). `required`: when it is missing (out/
    wiped), everything is rendered again. `durable`: synced to disk (see write_if_changed)."""

    path: str
    render: Callable[[Site], bytes | None]
    durable: bool = False
    needs_entries: bool = False
    required: bool = False


def _always(config: Config) -> bool:
    return True


@dataclasses.dataclass(frozen=True)
class Family:
    """Files of one kind, one per subject the site has (a category's feed), their paths under out/
    matching `pattern`: `render` yields each one's path and its bytes (None: left as it is). When
    the config has them (`enabled`), one that matches and is not rendered is removed (`why`)."""

    pattern: str
    render: Callable[[Site], Iterable[tuple[str, bytes | None]]]
    durable: bool = False
    enabled: Callable[[Config], bool] = _always
    why: str = "gone"


Registry = Sequence[Output | Family]


@dataclasses.dataclass(frozen=True)
class PublishState:
    """What the step reads before it decides. `newest`: (key, page path) of the entries the feeds
    list, newest first; `present`: of `checked_paths`, those that exist under out/."""

    rebuild: bool
    stamp_changed: bool  # the code, templates or config the files depend on changed since the last step
    changed: frozenset[str]  # keys of the entries pending
    months: frozenset[str]  # archive months pending
    newest: tuple[tuple[str, str], ...]
    present: frozenset[str]


@dataclasses.dataclass(frozen=True)
class Plan:
    """What is due. `pages`, `months`: the entries whose page, and the months whose archive page,
    are rendered (None: every one); `outputs`: the site's files, in the order they are written
    (after the pages they link)."""

    full: bool
    pages: frozenset[str] | None
    months: frozenset[str] | None
    outputs: tuple[Output | Family, ...]


def site_outputs(registry: Registry, config: Config, has_entries: bool) -> tuple[Output | Family, ...]:
    """The registered outputs the site has now: no feed until it has an entry; a family only
    when the config has it."""
    return tuple(o for o in registry if (o.enabled(config) if isinstance(o, Family) else
                                         has_entries or not o.needs_entries))


def checked_paths(registry: Registry, config: Config, newest: Sequence[tuple[str, str]],
                  changed: Iterable[str]) -> list[str]:
    """The files whose absence means out/ lost files: the required outputs, and the pages of the
    newest entries (but a pending entry's, which is written anyway)."""
    required = [o.path for o in site_outputs(registry, config, bool(newest)) if isinstance(o, Output) and o.required]
    pending = set(changed)
    return required + [page for key, page in newest if key not in pending]


def plan(state: PublishState, registry: Registry, config: Config) -> Plan | None:
    """What to write: the pages of the changed entries, their months' archive pages and the
    site's files; or, when asked to (`rebuild`), when the code, templates or config changed, or
    when a file that must be there is not, everything. None: nothing is due (the work of an
    idle step does not grow with the entries stored)."""
    missing = any(p not in state.present for p in checked_paths(registry, config, state.newest, state.changed))
    full = state.rebuild or missing or state.stamp_changed
    if not (state.changed or state.months or full):
        return None
    return Plan(full=full, pages=None if full else state.changed, months=None if full else state.months,
                outputs=site_outputs(registry, config, bool(state.newest)))
