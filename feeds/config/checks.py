"""The checks of the configuration's values: plain functions of (key, value, context).

Each takes the value as TOML gives it and returns it converted (a path resolved, a list
made a tuple), or raises ConfigError naming the key, the value and what would be right.
A check made for several keys takes its settings as keyword arguments (bound with
functools.partial where the key is declared, in feeds.config.tables).
"""

from __future__ import annotations

import codecs
import dataclasses
import glob
import importlib.util
import ipaddress
import os
import re
import stat
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feeds.addresses import parse_address
from feeds.errors import ConfigError

#: output.max_entries at most: more than any archive feeds is made for, and within what SQLite
#: takes as a LIMIT (a larger whole number overflows it).
MAX_ENTRIES = 100_000
#: input.max_bytes at most: a dump is read whole into memory, and parsed there more than once.
MAX_DUMP_BYTES = 1 << 30
#: input.max_bytes by default.
DUMP_BYTES = 20 * 1024 * 1024

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclasses.dataclass(frozen=True)
class Context:
    """What a check needs besides the key and the value."""

    source: str  # the file, named in every message
    base: Path | None = None  # relative paths are taken from this folder (the file's)


def builtin_templates() -> Path:
    """The folder of the templates shipped in the package (``feeds.templates``; in this
    repository, the top-level ``templates/``)."""
    spec = importlib.util.find_spec("feeds.templates")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parent.parent.parent / "templates"  # a source tree run without installing


# -- text ---------------------------------------------------------------------------------

_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ufffe\uffff]")


def text(key: str, value: Any, ctx: Context) -> str:
    """A single line of text without control characters."""
    if not isinstance(value, str):
        raise ConfigError(key, value, "a string", ctx.source)
    if "\n" in value or "\r" in value:
        raise ConfigError(key, value, "a single line of text", ctx.source)
    if _FORBIDDEN.search(value):
        raise ConfigError(key, value, "text without control characters", ctx.source)
    return value


def nonempty(key: str, value: Any, ctx: Context, *, expected: str) -> str:
    """Text, stripped, that is not empty."""
    value = text(key, value, ctx).strip()
    if not value:
        raise ConfigError(key, value, expected, ctx.source)
    return value


def matching(key: str, value: Any, ctx: Context, *, pattern: str, expected: str, empty_ok: bool = False) -> str:
    """Text, stripped, that matches `pattern` whole (or is empty, when `empty_ok`)."""
    value = text(key, value, ctx).strip()
    if not (empty_ok and not value) and not re.fullmatch(pattern, value):
        raise ConfigError(key, value, expected, ctx.source)
    return value


def choice(key: str, value: Any, ctx: Context, *, options: tuple[str, ...]) -> str:
    value = text(key, value, ctx)
    if value not in options:
        raise ConfigError(key, value, f"one of {', '.join(options)}", ctx.source)
    return value


def weekday(key: str, value: Any, ctx: Context) -> str:
    value = text(key, value, ctx).strip().lower()
    if value not in WEEKDAYS:
        raise ConfigError(key, value, f"a day of the week: {', '.join(WEEKDAYS)}", ctx.source)
    return value


def timezone(key: str, value: Any, ctx: Context) -> str:
    value = text(key, value, ctx)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(key, value, "an IANA time zone name such as 'Europe/London' or 'UTC'",
                          ctx.source) from None
    return value


def encoding(key: str, value: Any, ctx: Context) -> str:
    value = text(key, value, ctx).strip()
    try:
        return codecs.lookup(value).name if value else ""
    except LookupError:
        raise ConfigError(key, value, "the name of an encoding Python knows, such as 'windows-1252', "
                                      "'iso-8859-1' or 'windows-1251' (for dumps that are not UTF-8)",
                          ctx.source) from None


# -- numbers and lists --------------------------------------------------------------------

def whole(key: str, value: Any, ctx: Context, *, low: int, high: int, expected: str) -> int:
    """A whole number from `low` to `high` (a bool is not one, though Python counts it)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(key, value, expected, ctx.source)
    return value


def seconds(key: str, value: Any, ctx: Context) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 3600:
        raise ConfigError(key, value, "a number of seconds from 0 to 3600", ctx.source)
    return float(value)


def boolean(key: str, value: Any, ctx: Context) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(key, value, "true or false", ctx.source)
    return value


def strings(key: str, value: Any, ctx: Context, *, empty_ok: bool = False) -> tuple[str, ...]:
    """A non-empty list of non-empty strings (one string is a list of one; `empty_ok`: [] too)."""
    if empty_ok and isinstance(value, list) and not value:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(key, value, "a non-empty list of non-empty strings", ctx.source)
    return tuple(value)


def networks(key: str, value: Any, ctx: Context) -> tuple[str, ...]:
    """A list of IP addresses or networks ("10.0.0.0/8"), each written as ipaddress normalises it."""
    found = []
    for item in strings(key, value, ctx, empty_ok=True):
        try:
            found.append(str(ipaddress.ip_network(item.strip(), strict=False)))
        except ValueError:
            raise ConfigError(key, value, f"a list of IP addresses or networks such as [\"127.0.0.1\", "
                                          f"\"10.0.0.0/8\"]; {item!r} is neither", ctx.source) from None
    return tuple(found)


# -- URLs and addresses -------------------------------------------------------------------

_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")  # '_' as in URLs (RFC 3986) and DNS, not in host names


def _valid_host(host: str) -> bool:
    """A DNS name (international ones in their IDNA form), an IPv4 or a bracketed IPv6 address."""
    if ":" in host:  # only from brackets: "[::1]"
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return False
        return True
    try:
        name = host.encode("idna").decode("ascii")  # also refuses an empty label: "a..b"
    except UnicodeError:
        return False
    return len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.removesuffix(".").split("."))


def url(key: str, value: Any, ctx: Context, *, empty_ok: bool = False) -> str:
    """An absolute http(s) URL with a valid host (or nothing, when `empty_ok`)."""
    value = text(key, value, ctx)
    if not value and empty_ok:
        return value
    expected = "an absolute http:// or https:// URL"
    try:
        parts = urlsplit(value)
        _ = parts.port  # a port that is not a number from 0 to 65535 raises ValueError
    except ValueError as exc:
        raise ConfigError(key, value, f"{expected} ({exc})", ctx.source) from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(key, value, expected, ctx.source)
    host = parts.hostname or ""
    if not _valid_host(host):
        raise ConfigError(key, value, f"{expected} with a valid host, such as example.org "
                                      f"({f'{host!r} is not one' if host else 'it has none'})", ctx.source)
    return value


def base_url(key: str, value: Any, ctx: Context) -> str:
    """A URL that links are made from by appending paths: it ends with '/'."""
    value = url(key, value, ctx)
    if "?" in value or "#" in value:
        raise ConfigError(key, value, "a URL without '?' or '#': page and feed links are made by "
                                      "appending their paths to it", ctx.source)
    return value if value.endswith("/") else value + "/"


def unsubscribe_url(key: str, value: Any, ctx: Context) -> str:
    value = text(key, value, ctx)
    if not value.startswith("https://") or not urlsplit(value).netloc:
        raise ConfigError(key, value, "an https:// URL (RFC 8058 one-click unsubscribe needs https); "
                                      "{email} in it is replaced by the recipient's address", ctx.source)
    return value


def address(key: str, value: Any, ctx: Context) -> str:
    value = text(key, value, ctx)
    try:
        parse_address(value)
    except ValueError as exc:
        raise ConfigError(key, value, f"an email address, 'name@example.org' or 'Name <name@example.org>' "
                                      f"({exc})", ctx.source) from None
    return value


def addresses(key: str, value: Any, ctx: Context) -> tuple[str, ...]:
    items = strings(key, value, ctx, empty_ok=True)
    for i, item in enumerate(items):
        address(f"{key}[{i}]", item, ctx)
    return items


# -- paths --------------------------------------------------------------------------------

def path(key: str, value: Any, ctx: Context) -> Path:
    """A path, taken from the file's folder when relative."""
    value = text(key, value, ctx)
    if not value:
        raise ConfigError(key, value, "a path", ctx.source)
    p = Path(value).expanduser()
    return p if ctx.base is None or p.is_absolute() else ctx.base / p


def creatable(key: str, value: Any, ctx: Context) -> Path:
    """A path feeds creates when missing: no file stands where one of its folders must be.
    (What the system refuses, such as /proc, shows only when it is made: the pass says so.)"""
    p = path(key, value, ctx)
    for parent in p.parents:
        if os.path.exists(parent):
            if not os.path.isdir(parent):
                raise ConfigError(key, value, f"a path whose folders can be made; {parent} is a file, "
                                              "not a folder", ctx.source)
            break
    return p


def folder(key: str, value: Any, ctx: Context) -> Path:
    p = creatable(key, value, ctx)
    if os.path.exists(p) and not os.path.isdir(p):
        raise ConfigError(key, value, f"a folder; {p} is a file (name a folder, or one to create)", ctx.source)
    return p


def database(key: str, value: Any, ctx: Context) -> Path:
    """A file for the SQLite database: missing (it is made) or a regular file."""
    p = creatable(key, value, ctx)
    if os.path.isdir(p):
        raise ConfigError(key, value, f"a file (an SQLite database, made if missing); {p} is a folder: "
                                      f"name a file in it, e.g. {p / 'feeds.sqlite3'}", ctx.source)
    try:
        mode = os.stat(p).st_mode
    except OSError:  # missing (it is made), or a link to nothing: the pass says what it can't do
        return p
    if not stat.S_ISREG(mode):
        kind = ("a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
                "a pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else
                "not a regular file")
        raise ConfigError(key, value, f"a file path for the SQLite database (made if missing), such as "
                                      f"'state/feeds.sqlite3'; {p} is {kind}, not a file", ctx.source)
    return p


def existing_file(key: str, value: Any, ctx: Context) -> Path:
    p = path(key, value, ctx)
    if not p.is_file():
        raise ConfigError(key, value, f"an existing file; {p} is not one", ctx.source)
    return p


def templates(key: str, value: Any, ctx: Context) -> Path:
    """A folder holding at least one template named as a built-in one is."""
    p = path(key, value, ctx)
    if not p.is_dir():
        raise ConfigError(key, value, f"a folder of templates that replace the built-in ones file by file; "
                                      f"{p} is not a folder", ctx.source)
    builtin = sorted(f.name for f in builtin_templates().iterdir() if not f.name.startswith(("_", ".")))
    if not any((p / name).is_file() for name in builtin):
        raise ConfigError(key, value, f"a folder of templates that replace the built-in ones file by file, "
                                      f"named as they are ({', '.join(builtin)}); {p} holds none of them",
                          ctx.source)
    return p


def globs(key: str, value: Any, ctx: Context) -> tuple[str, ...]:
    """Paths or globs, taken from the file's folder when relative."""
    items = strings(key, value, ctx)
    if ctx.base is None:
        return items
    base = ctx.base
    # The folder's name is taken as it is, not as a pattern ("site [2025]/seeds/*.txt").
    return tuple(v if os.path.isabs(os.path.expanduser(v)) else
                 os.path.join(glob.escape(str(base)), v) if glob.has_magic(v) else str(base / v) for v in items)
