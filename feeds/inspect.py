"""What `python -m feeds inspect` shows: the posts found in dumps, touching no state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from feeds.config import Config
from feeds.dating.pages import dates_for
from feeds.errors import DumpError
from feeds.ingest import READERS, read_dump
from feeds.ingest.files import Sites, read_whole
from feeds.models import ParsedDump, Snapshot
from feeds.normalise import identity, slugify, unique_slug


def inspect_paths(cfg: Config, paths: Sequence[str], now: datetime) -> tuple[list[dict], list[str]]:
    """One row per post found in `paths`, dated as a pass would date them on empty state, and
    read together as a pass reads them: what every page repeats is the site's chrome."""
    parsed: list[ParsedDump] = []
    errors: list[str] = []
    sites = Sites(paths, READERS, cfg.input.max_bytes)
    for path in paths:
        try:
            data, mtime = read_whole(path, cfg, now)
            parsed.append(read_dump(path, data, mtime, cfg, now, site=sites.of(path)))
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


def explain_paths(cfg: Config, paths: Sequence[str], now: datetime) -> tuple[list[dict], list[str]]:
    """For each saved HTML page in `paths`, which rule found each post and field, and the
    selectors proposed where its posts were guessed from its structure or not found."""
    from feeds.ingest.html import SUFFIXES
    from feeds.ingest.html.explain import explain
    from feeds.ingest.reader import Settings

    pages, errors = [], []
    for path in paths:
        if not path.lower().endswith(SUFFIXES):
            errors.append(f"{path}: --explain reads saved HTML pages (.html, .htm, .xhtml) only")
            continue
        try:
            data, _ = read_whole(path, cfg, now)
        except OSError as exc:
            errors.append(f"{path}: cannot be read: {exc.strerror}")
            continue
        pages.append(explain(path, data, Settings.of(cfg)))
    return pages, errors


def explained(page: dict) -> str:
    """One page's explanation as text for a terminal."""
    out = [f"{page['page']}: {page['kind'] or 'no posts found'}, {len(page['posts'])} post(s)"]
    if page["error"]:
        out.append(f"  {page['error']}")
    for i, post in enumerate(page["posts"], 1):
        fields = post["fields"]
        out.append(f"  {i}. {fields['title']['value']}")
        out.append(f"     {'post':<11} found by {post['post']}")
        for name, field in fields.items():
            value = field["value"]
            shown = ", ".join(value) if isinstance(value, list) else "-" if value is None else str(value)
            out.append(f"     {name:<11} {shown[:60]:<60}  {field['rule']}")
    for warning in page.get("warnings") or ():
        out.append(f"  warning: {warning}")
    if page["proposal"]:
        out.append("  proposed selectors, to paste into feeds.toml (check them, then adjust):")
        out += [f"    {line}" for line in page["proposal"].splitlines()]
    elif not page["posts"]:
        out.append("  no repeated blocks to propose selectors from")
    return "\n".join(out)
