"""One pass at a time: an exclusive, non-blocking ``flock`` on a file beside the state.

The kernel drops the lock when the process dies, so a lock left by a killed
process never blocks the next start.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from feeds.errors import ConfigError, LockedError


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:  # the first thing a pass makes beside the state: a place it cannot use
        state = path.with_name(path.name.removesuffix(".lock"))
        raise ConfigError("state.path", str(state), f"a place where feeds can make its folder and the lock file "
                                                    f"{path.name} ({exc.strerror or exc})", "") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            raise LockedError(f"another feeds pass is running (pid {holder}, lock {path}); "
                              "this one exits without touching anything") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
