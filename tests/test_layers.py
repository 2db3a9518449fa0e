"""The house's layers, checked on the code: who may import whom, and which one module (or room)
imports each third-party library. An `ast` walk over feeds/, no import of the package.

Layers, lowest first; a module imports only from its own layer or lower ones:

    0 records   models, errors, uri, stamps, xmlchars, normalise, addresses, config/, tokens
    1 store     store/ (the only sqlite3 importer)
    2 stages    ingest/, dating/, decide, publish/, digest/, mail, transport
    3 app       pipeline (names the stages), report, runner, check, inspect, status, serve,
                scheduler, lock, stopflag, progress, starter, entries, subscribers,
                bounces
    4 cli       cli, arguments, __main__

and besides: `config` imports no stage, `mail` imports no digest code.
"""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

import pytest
from conftest import REPO

LAYERS = {
    0: ("feeds", "feeds.models", "feeds.errors", "feeds.uri", "feeds.stamps", "feeds.xmlchars", "feeds.normalise",
        "feeds.addresses", "feeds.config", "feeds.identity",
        "feeds.tokens"),  # the list's signed links: pure, the clock and the secret passed in
    1: ("feeds.store",),
    2: ("feeds.ingest", "feeds.dating", "feeds.decide", "feeds.publish", "feeds.digest", "feeds.mail",
        "feeds.transport"),
    3: ("feeds.pipeline", "feeds.report", "feeds.runner", "feeds.check", "feeds.inspect", "feeds.status",
        "feeds.serve", "feeds.scheduler", "feeds.lock", "feeds.stopflag", "feeds.progress", "feeds.starter",
        "feeds.entries", "feeds.subscribers", "feeds.bounces"),
    4: ("feeds.cli", "feeds.arguments", "feeds.__main__"),
}

#: Each third-party library (and sqlite3, smtplib, ssl) and the modules or rooms that may import it.
OWNERS = {
    "feedgen": ("feeds.publish.feeds",),
    "lxml": ("feeds.publish.feeds",),
    "bs4": ("feeds.ingest.html",),
    "nh3": ("feeds.ingest.html.sanitise",),
    # bs4 selects with soupsieve; the config compiles input.html's selectors with it, so that a bad
    # one stops the load naming its key, as every other bad value does
    "soupsieve": ("feeds.config.selectors",),
    "charset_normalizer": ("feeds.ingest.encoding",),
    "css_inline": ("feeds.digest.render",),
    "jinja2": ("feeds.publish.templates", "feeds.publish.pages", "feeds.digest.render"),
    "markupsafe": ("feeds.publish.templates", "feeds.publish.pages", "feeds.publish.feeds", "feeds.digest.render"),
    "sqlite3": ("feeds.store",),
    "smtplib": ("feeds.transport",),
    "ssl": ("feeds.transport",),
    "schedule": ("feeds.scheduler",),
    "tqdm": ("feeds.progress",),
    "w3lib": ("feeds.identity",),  # a post's canonical URL: what identifies it
}

#: Imports that the layers allow but the design does not.
FORBIDDEN = {
    "feeds.config": ("feeds.ingest", "feeds.dating", "feeds.decide", "feeds.publish", "feeds.digest", "feeds.mail",
                     "feeds.transport", "feeds.store", "feeds.normalise"),
    "feeds.mail": ("feeds.digest",),
    "feeds.transport": ("feeds.digest",),
}

#: Known libraries outside the standard library whose owner is not listed above: a new one fails
#: the test until it is given an owner.
THIRD_PARTY_CHECKED = set(OWNERS) - set(sys.stdlib_module_names) | {"sqlite3", "smtplib", "ssl"}


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _layer(module: str) -> int | None:
    best = None
    for layer, prefixes in LAYERS.items():
        for p in prefixes:
            if (module == p or (p != "feeds" and module.startswith(p + "."))) and (best is None or len(p) > best[1]):
                best = (layer, len(p))
    return None if best is None else best[0]


def _module(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names |= {f"feeds.{a.name}" for a in node.names} if node.module == "feeds" else {node.module}
    return names


def violations(root: Path) -> list[str]:
    """Every import under the package folder `root` that breaks the layers or the owners."""
    found = []
    for path in sorted(root.rglob("*.py")):
        module = _module(path, root)
        mine = _layer(module)
        if mine is None:
            found.append(f"{module}: in no layer (add it to tests/test_layers.py LAYERS)")
            continue
        for name in sorted(_imports(path)):
            top = name.split(".")[0]
            if top == "feeds":
                if name == "feeds.__version__":
                    continue
                theirs = _layer(name)
                if theirs is not None and theirs > mine:
                    found.append(f"{module} (layer {mine}) imports {name} (layer {theirs})")
                if _within(name, FORBIDDEN.get(module, ())) or any(
                        _within(module, (owner,)) and _within(name, banned) for owner, banned in FORBIDDEN.items()):
                    found.append(f"{module} imports {name}, which the design forbids")
            elif top in OWNERS and not _within(module, OWNERS[top]):
                found.append(f"{module} imports {top}, which only {', '.join(OWNERS[top])} may import")
    return found


def test_the_package_keeps_its_layers_and_owners():
    assert violations(REPO / "feeds") == []


def test_every_third_party_import_has_an_owner():
    """A library added without an owner here would slip past the owner check: name it."""
    third = set()
    for path in (REPO / "feeds").rglob("*.py"):
        third |= {n.split(".")[0] for n in _imports(path)} - set(sys.stdlib_module_names) - {"feeds"}
    assert third <= THIRD_PARTY_CHECKED, f"give these an owner in OWNERS: {sorted(third - THIRD_PARTY_CHECKED)}"


@pytest.mark.parametrize(("module", "line", "expected"), [
    ("mail.py", "import feedgen", "feeds.mail imports feedgen, which only feeds.publish.feeds may import"),
    ("publish/pages.py", "from feedgen.feed import FeedGenerator",
     "feeds.publish.pages imports feedgen, which only feeds.publish.feeds may import"),
    ("decide.py", "import sqlite3", "feeds.decide imports sqlite3"),
    ("store/base.py", "from feeds import pipeline", "feeds.store.base (layer 1) imports feeds.pipeline (layer 3)"),
    ("config/checks.py", "from feeds.ingest import segment", "feeds.config.checks imports feeds.ingest"),
    ("mail.py", "from feeds.digest.render import Renderer", "feeds.mail imports feeds.digest.render, which the"),
])
def test_the_check_fails_when_a_module_breaks_a_rule(tmp_path, module, line, expected):
    copy = tmp_path / "feeds"
    shutil.copytree(REPO / "feeds", copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    found = violations(copy)
    assert any(v.startswith(expected) for v in found), found
