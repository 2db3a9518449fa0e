"""Load and validate ``feeds.toml`` into one frozen, typed object.

Every key is optional: with no file at all, feeds reads ``seeds/*.txt``, writes
``out/`` and keeps its state in ``state/feeds.sqlite3``. An unknown key, a wrong type
or an invalid value raises ConfigError naming the key, the value and what is expected.

The tables and their keys are declared in feeds.config.tables (each key once: type,
default, check, help), their checks are in feeds.config.checks; this module reads the
file and runs them. It imports no stage of the pipeline.
"""

from __future__ import annotations

import codecs
import dataclasses
import fnmatch
import glob
import os
import tomllib
from pathlib import Path
from typing import Any

from feeds.config.checks import MAX_DUMP_BYTES, MAX_ENTRIES, WEEKDAYS, Context, builtin_templates
from feeds.config.tables import DEFAULT_CHROME, Digest, Input, Loop, Mail, Output, Site, State, Web
from feeds.errors import ConfigError

__all__ = ["DEFAULT_CHROME", "DEFAULT_FILE", "MAX_DUMP_BYTES", "MAX_ENTRIES", "WEEKDAYS", "Config", "Digest",
           "Input", "Loop", "Mail", "Output", "Site", "State", "Web", "builtin_templates", "load", "parse",
           "sections"]

DEFAULT_FILE = "feeds.toml"


@dataclasses.dataclass(frozen=True)
class Config:
    site: Site = Site()
    input: Input = Input()
    output: Output = Output()
    state: State = State()
    digest: Digest = Digest()
    mail: Mail = Mail()
    loop: Loop = Loop()
    web: Web = Web()
    source: str = "defaults"  # the file the values came from

    @property
    def outbox(self) -> Path:
        return self.mail.outbox or self.output.dir / "outbox"

    def url(self, path: str) -> str:
        """An absolute URL for a path under out/."""
        return self.site.base_url + path.lstrip("/")


def sections() -> list[tuple[str, type]]:
    """The config's tables, in order: (name, dataclass)."""
    return [(f.name, type(f.default)) for f in dataclasses.fields(Config) if dataclasses.is_dataclass(f.default)]


def load(path: str | Path | None = None) -> Config:
    """The configuration from `path` (or ./feeds.toml when it exists, else defaults).

    Relative paths in a file, and the default paths of the keys it leaves out, are
    relative to the folder of that file, so a pass reads and writes the same places
    from whatever directory cron starts it in. With no file, they are relative to the
    current directory.
    """
    if path is None:
        if not Path(DEFAULT_FILE).exists():
            return Config()
        path = DEFAULT_FILE
    source = str(path)
    try:
        with open(path, "rb") as fh:
            # A byte-order mark, as some Windows editors write, is no TOML: tomllib refuses it
            # ("Invalid statement at line 1, column 1"). It says the file is UTF-8, as TOML is.
            data = tomllib.loads(fh.read().removeprefix(codecs.BOM_UTF8).decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError("--config", source, "an existing TOML file", source) from None
    except IsADirectoryError:
        raise ConfigError("--config", source, "a TOML file, not a folder: name the file (e.g. "
                                              f"{Path(source) / DEFAULT_FILE})", source) from None
    except OSError as exc:  # unreadable, say: the file's permissions
        raise ConfigError("--config", source, f"a TOML file feeds can read ({exc.strerror or exc})", source) from None
    except UnicodeDecodeError as exc:
        raise ConfigError("(file)", source, f"TOML in UTF-8 (byte {exc.start} is not UTF-8): save the file "
                                            "as UTF-8", source) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("(file)", source, f"valid TOML ({exc})", source) from None
    return parse(data, source, base=Path(path).resolve().parent)


def parse(data: dict[str, Any], source: str = "feeds.toml", base: Path | None = None) -> Config:
    """Validate a configuration's data; relative paths are taken from `base` if given."""
    known = {name for name, _ in sections()}
    for key in data:
        if key not in known:
            raise ConfigError(key, data[key], f"one of the tables [{'], ['.join(sorted(known))}]", source,
                              shown=False)
    ctx = Context(source, base)
    # [loop] is read after the tables are checked against each other: a file wrong in both
    # places is told about the overlap first.
    values = {name: _table(data, name, cls, ctx) for name, cls in sections() if name != "loop"}
    _apart(values["input"], values["output"], values["state"], source)
    return Config(**values, loop=_table(data, "loop", Loop, ctx), source=source)


def _table(data: dict[str, Any], name: str, cls: type, ctx: Context) -> Any:
    """A table's values, each through its key's check; the keys it leaves out keep their defaults,
    but a default path (`from_folder`) goes through its check too, as the file would write it."""
    raw = data.get(name, {})
    if not isinstance(raw, dict):
        raise ConfigError(name, raw, f"a table [{name}]", ctx.source)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    raw = {**{f.name: _as_written(f.default) for f in fields.values() if f.metadata["from_folder"]}, **raw}
    values = {}
    for key, value in raw.items():
        if key not in fields:  # its value is not shown: whatever it is, a password written here by mistake
            raise ConfigError(f"{name}.{key}", value,
                              f"one of the keys {', '.join(sorted(fields))} (unknown key)", ctx.source, shown=False)
        values[key] = fields[key].metadata["check"](f"{name}.{key}", value, ctx)
    return cls(**values)


def _as_written(default: Any) -> Any:
    """A default as TOML gives it: a path as a string, a tuple as a list."""
    return list(default) if isinstance(default, tuple) else str(default) if isinstance(default, Path) else default


def _apart(inp: Input, out: Output, state: State, source: str) -> None:
    """The dumps, out/ and the state are apart: a pass reads none of what it writes, and
    publishes none of its state."""
    try:
        out_parts = out.dir.resolve().parts
        shared = next((p for p in inp.paths if _reaches(_resolved_parts(p), out_parts)), None)
    except (OSError, RuntimeError):  # a symbolic link loop: the pass will say what it can't read
        shared = None
    if shared is not None:
        raise ConfigError("output.dir", str(out.dir),
                          f"a folder apart from the dumps: input.paths entry {shared!r} matches files in it "
                          "or below it, so a pass would read what it publishes (or publish the dumps); "
                          "put the two side by side, e.g. seeds/ and out/",
                          source)
    try:
        inside = state.path.resolve().is_relative_to(out.dir.resolve())
    except OSError:
        inside = False
    if inside:
        raise ConfigError("state.path", str(state.path),
                          f"a path outside output.dir ({out.dir}): out/ is published, the state is not", source)


def _reaches(pattern: tuple[str, ...], folder: tuple[str, ...]) -> bool:
    """Could a file in `folder` or below it match the glob whose folder parts are `pattern`?

    Both are absolute paths split in parts. True when `folder` is a folder the pattern
    reads from, holds one, or is one its wildcards reach ('**' matches any number of
    folders, as in the pipeline's recursive glob). A flat glob such as site/*.txt does
    not reach site/out.
    """
    if not folder:
        return True  # the pattern's remaining parts can name folders under this one
    if not pattern:
        return False  # the pattern reads from a folder above this one, not into it
    if pattern[0] == "**" and _reaches(pattern[1:], folder):
        return True
    if pattern[0] == "**":
        return _reaches(pattern, folder[1:])
    return fnmatch.fnmatchcase(folder[0], pattern[0]) and _reaches(pattern[1:], folder[1:])


def _resolved_parts(pattern: str) -> tuple[str, ...]:
    """A glob's folder parts, absolute, its fixed part resolved (symbolic links, '..')."""
    parts = Path(os.path.abspath(os.path.expanduser(pattern))).parts
    if parts[-1] != "**":  # (a last '**' matches folders and all below them, as the pipeline globs)
        parts = parts[:-1]
    fixed = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    return Path(*parts[:fixed]).resolve().parts + parts[fixed:]
