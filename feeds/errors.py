"""The exceptions feeds raises on purpose. Each message says how to fix the problem."""

from __future__ import annotations

import re

#: A key whose name suggests it holds a secret: one of these words in it (password, smtp_passwd,
#: api_token, password_env, auth; not author), its value is never shown in a message.
_SECRET = re.compile(r"(?:^|[_-])(?:pass(?:word|wd|phrase)?|pwd|secrets?|tokens?|credentials?|api_?key|"
                     r"private_?key|auth)(?:$|[_-])", re.IGNORECASE)


def secret_key(key: str) -> bool:
    """Does the name of this key (its last part: "mail.password" -> "password") suggest a secret?"""
    return bool(_SECRET.search(key.rsplit(".", 1)[-1]))


class FeedsError(Exception):
    """Base class of every error feeds reports to its user."""


class ConfigError(FeedsError):
    """The configuration is invalid: names the key, the value and what is expected.

    The value is not shown when `shown` is false (a key feeds does not know: whatever was
    written there, a password perhaps) or, by default, when the key's name suggests a secret."""

    def __init__(self, key: str, value: object, expected: str, source: str = "feeds.toml", *,
                 shown: bool | None = None):
        self.key, self.value, self.expected, self.source = key, value, expected, source
        where = f"{source}: " if source else ""  # no source: found out later, with no file at hand
        if shown is None:
            shown = not secret_key(key)
        what = f"{key} = {value!r}" if shown else f"{key} (value not shown)"
        super().__init__(f"{where}{what} is invalid: expected {expected}")


class DumpError(FeedsError):
    """One dump cannot be used; the run goes on without it."""

    def __init__(self, path: str, reason: str):
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")


class SlowDumpError(DumpError):
    """Reading one dump took longer than a dump may take (feeds.ingest.budget): it is quarantined."""

    def __init__(self, path: str, seconds: float):
        self.seconds = seconds
        super().__init__(path, f"too slow: not read within {seconds:g} s, the time one dump may take")


class StateError(FeedsError):
    """The state database cannot be used as it is."""


class StateFullError(StateError):
    """The state database could not be written (a disk full, a file-size limit, a read-only
    disk): the transaction was rolled back, so nothing stored before is lost."""


class LockedError(FeedsError):
    """Another feeds process holds the lock."""
