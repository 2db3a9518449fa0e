"""What `python -m feeds inspect` shows: the posts found in dumps, touching no state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from feeds.config import Config
from feeds.dating.pages import dates_for
from feeds.errors import DumpError
from feeds.ingest import read_dump
from feeds.ingest.files import read_whole
from feeds.models import ParsedDump, Snapshot
from feeds.normalise import identity, slugify, unique_slug


def inspect_paths(cfg: Config, paths: Sequence[str], now: datetime) -> tuple[list[dict], list[str]]:
    """One row per post found in `paths`, dated as a pass would date them on empty state."""
    parsed: list[ParsedDump] = []
    errors: list[str] = []
    for path in paths:
        try:
            data, mtime = read_whole(path, cfg, now)
            parsed.append(read_dump(path, data, mtime, cfg, now))
        except OSError as exc:
            errors.append(f"{path}: cannot be read: {exc.strerror}")
        except DumpError as exc:
            errors.append(str(exc))
    when = dates_for(parsed, Snapshot.empty(), cfg.site.tz)
    rows = []
    slugs: dict[str, str] = {}  # key -> slug, unique as a pass on empty state would mint them
    for d in parsed:
        for p in d.posts:
            key = identity(p.title)
            if key not in slugs:
                slugs[key] = unique_slug(slugify(p.title), set(slugs.values()))
            published, source = when[key]
            rows.append({
                "dump": d.path, "position": p.position, "title": p.title, "start_line": p.start_line,
                "end_line": p.end_line, "truncated": p.truncated, "slug": slugs[key],
                "published": published.astimezone(cfg.site.tz).isoformat(timespec="seconds"),
                "date_source": source, "key": key, "paragraphs": len(p.body),
                "words": sum(len(b.text.split()) for b in p.body), "url": p.url, "author": p.author,
                "categories": list(p.categories),
            })
    return rows, errors
