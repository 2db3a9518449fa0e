"""`feeds init`: a commented starter ``feeds.toml``, made from the config's declarations.

Each key of feeds.config.tables is declared with its default and a line of help; the file
is generated from those and from each table's docstring, so the starter cannot fall behind
the code (a key without help cannot be declared). A key whose default is written as a
value loads back to that default; a key whose default is worked out (the sender from
the site's domain, the outbox under output.dir) or is "none" is left commented out, with
an example to fill in.
"""

from __future__ import annotations

import dataclasses
import json
import textwrap
from pathlib import Path
from typing import Any

from feeds import config

WIDTH = 88


@dataclasses.dataclass(frozen=True)
class Key:
    help: str  # one line: what the key does (and, for a commented-out key, its worked-out default)
    example: str | None = None  # TOML for a key left commented out; None: its default is written


def _doc(cls: type) -> str:
    return " ".join((cls.__doc__ or "").split())


#: What each section is for, as the comment above its table: the table's docstring.
SECTIONS: dict[str, str] = {name: _doc(cls) for name, cls in config.sections()}

#: Every key of every section: what it does, from the key's declaration (feeds.config.tables).
KEYS: dict[str, Key] = {f"{name}.{field.name}": Key(field.metadata["help"], field.metadata["example"])
                        for name, cls in config.sections() for field in dataclasses.fields(cls)}

HEADER = """\
# feeds.toml, written by `feeds init`.
#
# Every key is optional. Each is shown with its default, and what it does above it;
# a key left commented out has a default that is worked out (its note says how) or
# none: remove the '#' to set it. Relative paths are relative to this file's folder.
# Set [site] title, url and base_url first; `feeds check` then checks this file, the
# templates, the dumps a pass would read and the mail server, sending nothing.
"""


def toml_value(value: Any, indent: int = 0) -> str:
    """A default as TOML: strings (and paths) quoted, tuples as arrays (wrapped when long)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value), ensure_ascii=False)  # JSON's escapes are TOML's
    if isinstance(value, tuple | list):
        items = [toml_value(v) for v in value]
        one = f"[{', '.join(items)}]"
        if indent + len(one) <= WIDTH:
            return one
        lines = [""]
        for item in items:  # (wrapped between items: a string is never cut)
            if lines[-1] and len(lines[-1]) + len(item) + 2 > WIDTH - 4:
                lines.append("")
            lines[-1] += f"{item}, "
        return "[\n" + "".join(f"    {line.rstrip()}\n" for line in lines) + "]"
    raise TypeError(f"no TOML for {value!r}")


def _comment(text: str) -> str:
    return "".join(f"# {line}\n" for line in textwrap.wrap(text, WIDTH - 2, break_on_hyphens=False))


def text() -> str:
    """The starter file."""
    out = [HEADER]
    for name, cls in config.sections():
        out.append(f"\n{_comment(SECTIONS[name])}[{name}]\n")
        for field in dataclasses.fields(cls):
            key = KEYS[f"{name}.{field.name}"]
            out.append(_comment(key.help))
            if key.example is None:
                out.append(f"{field.name} = {toml_value(field.default, len(field.name) + 3)}\n")
            else:
                out.append(f"# {field.name} = {key.example}\n")
    return "".join(out)


def write(path: Path) -> None:
    """Write the starter file at `path`; FileExistsError if something is there (it is left as it is)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as fh:
        fh.write(text())
