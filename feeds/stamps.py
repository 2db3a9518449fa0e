"""Hashes of code: what a stored state was made with, to tell when an upgrade changed it."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path


def code_digest(modules: tuple[str, ...]) -> str:
    """A hash of the source of `modules` (a package: of every module in it, subpackages included):
    it changes when their code does, whatever the version says."""
    h = hashlib.sha256()
    for name in modules:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec else None
        h.update(name.encode() + b"\0" + (Path(origin).read_bytes() if origin else b"?") + b"\0")
        for folder in (spec.submodule_search_locations or []) if spec else []:
            for path in sorted(Path(folder).rglob("*.py")):
                if path != Path(origin or ""):
                    h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()
