"""Load and validate ``feeds.toml`` into one frozen, typed object.

Every key is optional: with no file at all, feeds reads ``seeds/*.txt``, writes
``out/`` and keeps its state in ``state/feeds.sqlite3``. An unknown key, a wrong type
or an invalid value raises ConfigError naming the key, the value and what is expected.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feeds.errors import ConfigError
from feeds.segment import DEFAULT_CHROME

DEFAULT_FILE = "feeds.toml"


@dataclasses.dataclass(frozen=True)
class Site:
    title: str = "feeds"
    url: str = ""  # the original site's address; the feed's identity
    base_url: str = "http://127.0.0.1:8000/"  # where out/ is served
    author: str = ""
    language: str = "en"
    timezone: str = "UTC"
    description: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def domain(self) -> str:
        return urlsplit(self.url or self.base_url).hostname or "localhost"


@dataclasses.dataclass(frozen=True)
class Input:
    paths: tuple[str, ...] = ("seeds/*.txt",)
    marker: str = "Continue reading"
    chrome: tuple[str, ...] = DEFAULT_CHROME


@dataclasses.dataclass(frozen=True)
class Output:
    dir: Path = Path("out")
    max_entries: int = 50
    templates: Path = Path(__file__).resolve().parent.parent / "templates"


@dataclasses.dataclass(frozen=True)
class State:
    path: Path = Path("state/feeds.sqlite3")


@dataclasses.dataclass(frozen=True)
class Config:
    site: Site = Site()
    input: Input = Input()
    output: Output = Output()
    state: State = State()
    source: str = "defaults"  # the file the values came from

    def url(self, path: str) -> str:
        """An absolute URL for a path under out/."""
        return self.site.base_url + path.lstrip("/")


def _check_url(key: str, value: str, source: str, *, empty_ok: bool) -> str:
    if not value and empty_ok:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(key, value, "an absolute http:// or https:// URL", source)
    return value


def _section(data: dict[str, Any], name: str, cls: type, source: str,
             convert: dict[str, Any]) -> Any:
    raw = data.get(name, {})
    if not isinstance(raw, dict):
        raise ConfigError(name, raw, f"a table [{name}]", source)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in raw.items():
        if key not in fields:
            raise ConfigError(f"{name}.{key}", value,
                              f"one of the keys {', '.join(sorted(fields))} (unknown key)", source)
        values[key] = convert[key](f"{name}.{key}", value)
    return cls(**values)


_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ufffe\uffff]")


def _str(source: str):
    def check(key: str, value: Any) -> str:
        if not isinstance(value, str):
            raise ConfigError(key, value, "a string", source)
        if "\n" in value or "\r" in value:
            raise ConfigError(key, value, "a single line of text", source)
        if _FORBIDDEN.search(value):
            raise ConfigError(key, value, "text without control characters", source)
        return value
    return check


def load(path: str | Path | None = None) -> Config:
    """The configuration from `path` (or ./feeds.toml when it exists, else defaults).

    Relative paths in a file are relative to the folder of that file, so a pass reads
    and writes the same places from whatever directory cron starts it in. With no
    file, they are relative to the current directory.
    """
    if path is None:
        if not Path(DEFAULT_FILE).exists():
            return Config()
        path = DEFAULT_FILE
    source = str(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError("--config", source, "an existing TOML file", source) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("(file)", source, f"valid TOML ({exc})", source) from None
    return parse(data, source, base=Path(path).resolve().parent)


def parse(data: dict[str, Any], source: str = "feeds.toml", base: Path | None = None) -> Config:
    """Validate a configuration's data; relative paths are taken from `base` if given."""
    known = {"site", "input", "output", "state"}
    for key in data:
        if key not in known:
            raise ConfigError(key, data[key], f"one of the tables [{'], ['.join(sorted(known))}]", source)
    text = _str(source)

    def url(key: str, value: Any) -> str:
        return _check_url(key, text(key, value), source, empty_ok=key == "site.url")

    def base_url(key: str, value: Any) -> str:
        value = url(key, value)
        return value if value.endswith("/") else value + "/"

    def timezone(key: str, value: Any) -> str:
        value = text(key, value)
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(key, value, "an IANA time zone name such as 'Europe/London' or 'UTC'",
                              source) from None
        return value

    def language(key: str, value: Any) -> str:
        value = text(key, value)
        if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", value):
            raise ConfigError(key, value, "a language tag such as 'en' or 'en-GB'", source)
        return value

    def strings(key: str, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(key, value, "a non-empty list of non-empty strings", source)
        return tuple(value)

    def chrome(key: str, value: Any) -> tuple[str, ...]:
        if isinstance(value, list) and not value:
            return ()
        return strings(key, value)

    def marker(key: str, value: Any) -> str:
        value = text(key, value).strip()
        if not value:
            raise ConfigError(key, value, "the phrase that ends a cut post, such as 'Continue reading'", source)
        return value

    def positive_int(key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(key, value, "a whole number of at least 1", source)
        return value

    def path(key: str, value: Any) -> Path:
        value = text(key, value)
        if not value:
            raise ConfigError(key, value, "a path", source)
        p = Path(value).expanduser()
        return p if base is None or p.is_absolute() else base / p

    def glob_paths(key: str, value: Any) -> tuple[str, ...]:
        items = strings(key, value)
        if base is None:
            return items
        return tuple(v if os.path.isabs(os.path.expanduser(v)) else str(base / v) for v in items)

    def templates(key: str, value: Any) -> Path:
        p = path(key, value)
        if not (p / "post.html.j2").is_file():
            raise ConfigError(key, value, f"a folder holding the page templates (post.html.j2, …); "
                                          f"{p} has none", source)
        return p

    def title(key: str, value: Any) -> str:
        value = text(key, value).strip()
        if not value:
            raise ConfigError(key, value, "a non-empty title", source)
        return value

    site = _section(data, "site", Site, source, {
        "title": title, "url": url, "base_url": base_url, "author": text, "language": language,
        "timezone": timezone, "description": text})
    inp = _section(data, "input", Input, source, {"paths": glob_paths, "marker": marker, "chrome": chrome})
    out = _section(data, "output", Output, source, {"dir": path, "max_entries": positive_int,
                                                    "templates": templates})
    state = _section(data, "state", State, source, {"path": path})
    try:
        inside = state.path.resolve().is_relative_to(out.dir.resolve())
    except OSError:
        inside = False
    if inside:
        raise ConfigError("state.path", str(state.path),
                          f"a path outside output.dir ({out.dir}): out/ is published, the state is not", source)
    return Config(site=site, input=inp, output=out, state=state, source=source)
