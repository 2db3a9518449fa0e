"""The only code that writes or removes files under out/: a file is written only when its bytes
change, through a temporary file in the same folder renamed into place; the temporary files a
killed pass left are swept; a page or feed whose subject is gone is removed.
"""

from __future__ import annotations

import errno
import logging
import os
import tempfile
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


def write_if_changed(path: Path, data: bytes, *, durable: bool = False) -> bool:
    """Write `data` to `path` atomically unless the file already holds exactly it.

    The temporary file is renamed into place, so a reader (or a crash) sees the old
    file or the new, whole. `durable` also syncs it to disk first, so that it survives
    a power cut; pages skip that (a pass writes thousands, and the next pass repairs).
    """
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:  # (a write's error names no file: the disk full)
            exc.filename = str(path)
        raise
    return True


class WriteFile(Protocol):
    """What writes a file: `write_if_changed`, or a test's stand-in for it (a pass killed at one file)."""

    def __call__(self, path: Path, data: bytes, *, durable: bool = False) -> bool: ...


class OutFiles:
    """The files one publishing step writes under `out`, by their path under it; `written`
    lists those whose bytes changed, in the order written."""

    def __init__(self, out: Path, write: WriteFile = write_if_changed):
        self.out, self.write = out, write
        self.written: list[str] = []

    def put(self, rel: str, data: bytes, *, durable: bool = False) -> None:
        if self.write(self.out / rel, data, durable=durable):
            self.written.append(str(self.out / rel))


def make_folder(folder: Path) -> None:
    """Make out/ (and its parents) if it is not there."""
    folder.mkdir(parents=True, exist_ok=True)


def remove_stale(folder: Path, pattern: str, keep: Callable[[Path], bool], why: str) -> None:
    """Remove the files under `folder` matching `pattern` that `keep` does not keep (an archive
    page whose month has no posts any more, the feed of a category gone), each logged with `why`."""
    if not folder.is_dir():
        return
    for path in folder.glob(pattern):
        if not keep(path):
            path.unlink()
            log.info("removed %s: %s", path, why)


def sweep_temporary_files(*folders: Path) -> int:
    """Remove the temporary files a killed pass left (write_if_changed's `.<name>.<random>.tmp`)."""
    removed = 0
    for folder in folders:
        if folder.is_dir():
            for tmp in folder.rglob(".*.tmp"):
                tmp.unlink(missing_ok=True)
                removed += 1
    return removed


def output_error(exc: OSError, folders: Collection[Path]) -> str | None:
    """An error writing a file under one of `folders` (out/, the outbox): a disk full, a folder
    made read-only. The problem line that names the file and the error; None for any other
    error. Nothing is lost: what was stored and not published stays pending, and a file is
    replaced only once its new version is whole."""
    name = exc.filename
    if not isinstance(name, str) or not any(
            Path(os.path.abspath(name)).is_relative_to(os.path.abspath(folder)) for folder in folders):
        return None
    code = errno.errorcode.get(exc.errno, str(exc.errno)) if exc.errno is not None else "?"
    return (f"cannot write {name}: {exc.strerror or exc} ({code}); nothing is lost: what was "
            "stored and not yet published (or mailed) is, by the next pass that can write there")
