"""What `python -m feeds inspect` shows: the posts found in dumps, touching no state."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from feeds.config import Config
from feeds.errors import DumpError
from feeds.normalise import identity, slugify
from feeds.pipeline import _Parsed, infer_dates
from feeds.dumps.text import read_text
from feeds.segment import segment
from feeds.store import DumpRecord, Store


def inspect_paths(cfg: Config, paths: Sequence[str], now: datetime) -> tuple[list[dict], list[str]]:
    parsed: list[_Parsed] = []
    errors: list[str] = []
    for path in paths:
        try:
            dump = read_text(path)
            seg = segment(path, dump.blocks, cfg.input.marker, cfg.input.chrome)
            if not seg.posts:
                raise DumpError(path, "no posts found")
        except DumpError as exc:
            errors.append(str(exc))
            continue
        upper = min(dump.mtime, now).astimezone(cfg.site.tz).date()
        parsed.append(_Parsed(path, DumpRecord(path, 0, 0, dump.sha256, "ok", len(seg.posts), None),
                              seg.posts, upper))
    with Store(":memory:") as empty:
        when = infer_dates(parsed, empty, cfg, now)
    rows = []
    for d in parsed:
        for p in d.posts:
            key = identity(p.title)
            published, source = when[key]
            rows.append({
                "dump": d.path, "position": p.position, "title": p.title, "start_line": p.start_line,
                "end_line": p.end_line, "truncated": p.truncated, "slug": slugify(p.title),
                "published": published.astimezone(cfg.site.tz).isoformat(timespec="seconds"),
                "date_source": source, "key": key, "paragraphs": len(p.body),
                "words": sum(len(b.text.split()) for b in p.body),
            })
    return rows, errors
