"""The exceptions feeds raises on purpose. Each message says how to fix the problem."""

from __future__ import annotations


class FeedsError(Exception):
    """Base class of every error feeds reports to its user."""


class ConfigError(FeedsError):
    """The configuration is invalid: names the key, the value and what is expected."""

    def __init__(self, key: str, value: object, expected: str, source: str = "feeds.toml"):
        self.key, self.value, self.expected, self.source = key, value, expected, source
        where = f"{source}: " if source else ""  # no source: found out later, with no file at hand
        super().__init__(f"{where}{key} = {value!r} is invalid: expected {expected}")


class DumpError(FeedsError):
    """One dump cannot be used; the run goes on without it."""

    def __init__(self, path: str, reason: str):
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")


class SlowDumpError(DumpError):
    """Reading one dump took longer than a dump may take (feeds.budget): it is quarantined."""

    def __init__(self, path: str, seconds: float):
        self.seconds = seconds
        super().__init__(path, f"too slow: not read within {seconds:g} s, the time one dump may take")


class StateError(FeedsError):
    """The state database cannot be used as it is."""


class LockedError(FeedsError):
    """Another feeds process holds the lock."""
