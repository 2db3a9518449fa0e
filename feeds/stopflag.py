"""The stop flag: SIGTERM and Ctrl-C ask a pass (or the loop) to stop at its next safe point;
a second one stops at once (KeyboardInterrupt)."""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import time

log = logging.getLogger("feeds")


class Stop:
    """Installs the handlers of SIGTERM and SIGINT for the time of a `with` block.

    The handler sets a flag and logs. It runs between two bytecodes of whatever the main
    thread was doing, so it must take no lock that is not re-entrant (logging's are; a
    threading.Event's is not, and a signal arriving while Event.wait held it would wait
    forever). The sleep, wait(), wakes through signal.set_wakeup_fd: the signal's byte
    makes a pipe readable.
    """

    def __init__(self) -> None:
        self.requested = False

    def __enter__(self) -> Stop:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._previous_fd = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        self._previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGTERM, signal.SIGINT)}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(self._previous_fd)
        os.close(self._read)
        os.close(self._write)

    def is_set(self) -> bool:
        return self.requested

    def wait(self, timeout: float) -> bool:
        """Sleep up to `timeout` seconds, less if a stop is asked; True if one was."""
        deadline = time.monotonic() + timeout
        while not self.requested and (left := deadline - time.monotonic()) > 0:
            if select.select([self._read], [], [], left)[0]:  # a signal came: drain its bytes, look again
                with contextlib.suppress(BlockingIOError):
                    while os.read(self._read, 512):
                        pass
        return self.requested

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        log.warning("%s: stopping at the next safe point (send it again to stop at once)",
                    signal.Signals(signum).name)
