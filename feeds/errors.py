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


class StateError(FeedsError):
    """The state database cannot be used as it is."""


class LockedError(FeedsError):
    """Another feeds process holds the lock."""
