"""`feeds entries`: see what was stored, and take out what should not have been.

`list` shows every entry (and every removed one), newest first; `remove ID|SLUG` moves an entry
aside: the next pass removes its page and drops it from the feeds, the index and the archive, and
a copy of it in a dump, old or new, is not stored again; `remove --undo ID|SLUG` brings it back
with its id, slug and date (feeds.store.removed).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime

from feeds.config import Config
from feeds.errors import FeedsError
from feeds.runner import locked_store
from feeds.store import Row, Store


def list_entries(cfg: Config, *, as_json: bool) -> int:
    """Print every entry, newest first: a line each, or a JSON object per line."""
    if not cfg.state.path.exists():
        print(f"no entries: no state at {cfg.state.path} yet (a pass makes it)", file=sys.stderr)
        return 0
    with Store(cfg.state.path) as store:
        rows = store.listing()
    for row in rows:
        print(json.dumps(_as_json(row), ensure_ascii=False) if as_json else _as_line(row, cfg))
    if not as_json:
        removed = sum(1 for r in rows if r["removed"])
        print(f"{len(rows) - removed} entries" + (f", {removed} removed" if removed else ""), file=sys.stderr)
    return 0


def _as_json(row: Row) -> dict[str, object]:
    return {"id": row["id"], "slug": row["slug"], "title": row["title"], "url": row["url"],
            "published": row["published"], "updated": row["updated"], "date_source": row["date_source"],
            "first_seen": row["first_seen"], "truncated": bool(row["truncated"]), "author": row["author"],
            "categories": json.loads(row["categories"]), "removed": row["removed"]}


def _as_line(row: Row, cfg: Config) -> str:
    day = datetime.fromisoformat(row["published"]).astimezone(cfg.site.tz).date().isoformat()
    removed = f"  [removed {row['removed'][:10]}]" if row["removed"] else ""
    url = f"  <{row['url']}>" if row["url"] else ""
    return f"{day}  {row['slug']}  {row['title']}{url}{removed}"


def remove(cfg: Config, ref: str, now: datetime, *, undo: bool) -> int:
    """Remove the entry whose id or slug is `ref` (or, `undo`, bring it back). Under the pass's lock."""
    stack, store = locked_store(cfg)
    with stack:
        found = store.find_entry(ref)
        if found is None:
            raise FeedsError(f"no entry has the id or slug {ref!r}; `feeds entries list` shows them")
        stored, removed = found
        entry = stored.entry
        if undo != bool(removed):
            print(f"{entry.slug}: {'not removed' if undo else 'removed already, on ' + str(removed)[:10]}; "
                  "nothing to do")
            return 0
        with store.transaction():
            if undo:
                store.restore_entry(entry.key)
            else:
                store.remove_entry(entry.key, now)
    if undo:
        print(f"{entry.slug} ({entry.title}) is back: the next pass publishes it again")
    else:
        print(f"removed {entry.slug} ({entry.title}): the next pass removes its page and drops it from the "
              f"feeds; a dump that shows it again does not bring it back. Undo: feeds entries remove --undo "
              f"{entry.slug}")
    return 0
