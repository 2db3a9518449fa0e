"""Load and validate ``feeds.toml`` into one frozen, typed object.

Every key is optional: with no file at all, feeds reads ``seeds/*.txt``, writes
``out/`` and keeps its state in ``state/feeds.sqlite3``. An unknown key, a wrong type
or an invalid value raises ConfigError naming the key, the value and what is expected.
"""

from __future__ import annotations

import codecs
import dataclasses
import fnmatch
import glob
import importlib.util
import ipaddress
import os
import re
import stat
import tomllib
from email.headerregistry import Address
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feeds.errors import ConfigError
from feeds.ingest.segment import DEFAULT_CHROME

DEFAULT_FILE = "feeds.toml"


@dataclasses.dataclass(frozen=True)
class Site:
    title: str = "feeds"
    url: str = ""  # the original site's address; the feed's identity
    base_url: str = "http://127.0.0.1:8000/"  # where out/ is served
    author: str = ""
    language: str = "en"
    timezone: str = "UTC"
    description: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def domain(self) -> str:
        return urlsplit(self.url or self.base_url).hostname or "localhost"


@dataclasses.dataclass(frozen=True)
class Input:
    paths: tuple[str, ...] = ("seeds/*.txt",)
    marker: str = "Continue reading"
    chrome: tuple[str, ...] = DEFAULT_CHROME
    encoding: str = ""  # of dumps that are not UTF-8 and declare no charset; default: guessed, with a warning
    follow_links: bool = False  # also read dumps that symbolic links lead to outside the folders paths names
    max_bytes: int = 20 * 1024 * 1024  # a larger dump is named and skipped, not read


@dataclasses.dataclass(frozen=True)
class Output:
    dir: Path = Path("out")
    max_entries: int = 50
    templates: Path | None = None  # a folder whose files replace the built-in templates one by one
    hub: str = ""  # a WebSub hub: rel="hub" links in Atom, RSS and JSON Feed
    category_feeds: bool = False  # also out/categories/<slug>/atom.xml for each category


def builtin_templates() -> Path:
    """The folder of the templates shipped in the package (``feeds.templates``; in this
    repository, the top-level ``templates/``)."""
    spec = importlib.util.find_spec("feeds.templates")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parent.parent / "templates"  # a source tree run without installing


@dataclasses.dataclass(frozen=True)
class State:
    path: Path = Path("state/feeds.sqlite3")


#: output.max_entries at most: more than any archive feeds is made for, and within what SQLite
#: takes as a LIMIT (a larger whole number overflowed it, in the middle of a pass).
MAX_ENTRIES = 100_000
#: input.max_bytes at most: a dump is read whole into memory, and parsed there more than once.
MAX_DUMP_BYTES = 1 << 30

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclasses.dataclass(frozen=True)
class Digest:
    """The digest: when it is due, what goes in, who gets it."""

    every: str = "week"  # the period: "day", "week" (ISO) or "month", in the site's time zone
    weekday: str = "monday"  # a week's digest is due on this day after the week ends …
    day: int = 1  # … a month's on this day of the next month (past its last day: the last day) …
    hour: int = 8  # … at this hour, in the site's time zone (a day's: the next day)
    window_days: int = 7  # leave out posts published more than this before the period (back-fill)
    max_full: int = 20  # posts shown with their summaries; the rest as a list of links
    sender: str = ""  # "Name <address>"; default: the site's title at digest@<domain>
    recipients: tuple[str, ...] = ()
    recipients_file: Path | None = None  # one address per line; '#' starts a comment
    list_id: str = ""  # default: digest.<domain>
    unsubscribe_url: str = ""  # https; {email} is replaced by the recipient's address
    unsubscribe_mailto: str = ""  # mailto:; {email} likewise

    @property
    def weekday_number(self) -> int:
        return WEEKDAYS.index(self.weekday)


@dataclasses.dataclass(frozen=True)
class Mail:
    """Delivery: SMTP when `host` is set, else .eml files in the outbox."""

    host: str = ""
    port: int = 0  # 0: 587 for starttls, 465 for tls, 25 for none
    security: str = "starttls"  # starttls, tls or none
    username: str = ""
    password_env: str = "FEEDS_SMTP_PASSWORD"  # the password is read from this variable, never the file
    timeout: int = 30
    attempts: int = 4  # per recipient per pass, for temporary failures (4xx, no connection)
    backoff: float = 2.0  # seconds before the second attempt, doubled for each one after
    outbox: Path | None = None  # default: <output.dir>/outbox
    cafile: Path | None = None  # PEM certificates to trust besides the system's (a relay with its own CA)

    @property
    def smtp_port(self) -> int:
        return self.port or {"starttls": 587, "tls": 465, "none": 25}[self.security]


@dataclasses.dataclass(frozen=True)
class Loop:
    """`python -m feeds loop`: a pass every `interval` minutes, and at the digest's slot."""

    interval: int = 15


@dataclasses.dataclass(frozen=True)
class Config:
    site: Site = Site()
    input: Input = Input()
    output: Output = Output()
    state: State = State()
    digest: Digest = Digest()
    mail: Mail = Mail()
    loop: Loop = Loop()
    source: str = "defaults"  # the file the values came from

    @property
    def sender(self) -> Address:
        """The digest's From address."""
        if self.digest.sender:
            return parse_address(self.digest.sender)
        return Address(display_name=one_line(self.site.title), username="digest", domain=self.site.domain)

    @property
    def list_id(self) -> str:
        return self.digest.list_id or f"digest.{self.site.domain}"

    @property
    def unsubscribe_mailto(self) -> str:
        """The mailto: unsubscribe link: as configured, else a mail to the sender."""
        return self.digest.unsubscribe_mailto or f"mailto:{self.sender.addr_spec}?subject=unsubscribe"

    def unsubscribe_links(self, address: str) -> tuple[str, str]:
        """(mailto:, https:// or '') unsubscribe links for one address, its {email} filled in."""
        email = quote(address, safe="@")
        return (self.unsubscribe_mailto.replace("{email}", email),
                self.digest.unsubscribe_url.replace("{email}", email))

    @property
    def outbox(self) -> Path:
        return self.mail.outbox or self.output.dir / "outbox"

    def url(self, path: str) -> str:
        """An absolute URL for a path under out/."""
        return self.site.base_url + path.lstrip("/")


def one_line(text: str) -> str:
    """Text fit for a mail header: line breaks and control characters become spaces."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", text).split())


_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")


def parse_address(text: str) -> Address:
    """An email address, bare or as "Name <address>"; ValueError saying what is wrong.

    Only ASCII addresses with a dotted domain are taken: that is what every SMTP
    server accepts without the SMTPUTF8 extension.
    """
    if any(c in text for c in "\r\n\0"):
        raise ValueError("a line break in an address")
    match = re.fullmatch(r"\s*(?:(.*?)\s*<([^<>]*)>|([^<>\s]*))\s*", text)
    if not match:
        raise ValueError("not an address")
    name, addr = (match.group(1) or "").strip().strip('"'), match.group(2) or match.group(3) or ""
    if not _ADDRESS.fullmatch(addr) or ".." in addr or addr.startswith(".") or ".@" in addr:
        raise ValueError(f"{addr!r} is not an address like name@example.org")
    user, domain = addr.rsplit("@", 1)
    return Address(display_name=" ".join(name.split()), username=user, domain=domain.lower())


_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")  # '_' as in URLs (RFC 3986) and DNS, not in host names


def _valid_host(host: str) -> bool:
    """A DNS name (international ones in their IDNA form), an IPv4 or a bracketed IPv6 address."""
    if ":" in host:  # only from brackets: "[::1]"
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return False
        return True
    try:
        name = host.encode("idna").decode("ascii")  # also refuses an empty label: "a..b"
    except UnicodeError:
        return False
    return len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.removesuffix(".").split("."))


def _check_url(key: str, value: str, source: str, *, empty_ok: bool) -> str:
    if not value and empty_ok:
        return value
    expected = "an absolute http:// or https:// URL"
    try:
        parts = urlsplit(value)
        _ = parts.port  # a port that is not a number from 0 to 65535 raises ValueError
    except ValueError as exc:
        raise ConfigError(key, value, f"{expected} ({exc})", source) from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(key, value, expected, source)
    host = parts.hostname or ""
    if not _valid_host(host):
        raise ConfigError(key, value, f"{expected} with a valid host, such as example.org "
                                      f"({f'{host!r} is not one' if host else 'it has none'})", source)
    return value


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


def _section(data: dict[str, Any], name: str, cls: type, source: str,
             convert: dict[str, Any], defaults: dict[str, Any] | None = None) -> Any:
    """A table's values, converted; `defaults` (as the file would write them) fill the keys it leaves out."""
    raw = data.get(name, {})
    if not isinstance(raw, dict):
        raise ConfigError(name, raw, f"a table [{name}]", source)
    raw = {**(defaults or {}), **raw}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in raw.items():
        if key not in fields:  # its value is not shown: whatever it is, a password written here by mistake
            raise ConfigError(f"{name}.{key}", value,
                              f"one of the keys {', '.join(sorted(fields))} (unknown key)", source, shown=False)
        values[key] = convert[key](f"{name}.{key}", value)
    return cls(**values)


_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ufffe\uffff]")


def _str(source: str):
    def check(key: str, value: Any) -> str:
        if not isinstance(value, str):
            raise ConfigError(key, value, "a string", source)
        if "\n" in value or "\r" in value:
            raise ConfigError(key, value, "a single line of text", source)
        if _FORBIDDEN.search(value):
            raise ConfigError(key, value, "text without control characters", source)
        return value
    return check


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
    known = {"site", "input", "output", "state", "digest", "mail", "loop"}
    for key in data:
        if key not in known:
            raise ConfigError(key, data[key], f"one of the tables [{'], ['.join(sorted(known))}]", source,
                              shown=False)
    text = _str(source)

    def url(key: str, value: Any) -> str:
        return _check_url(key, text(key, value), source, empty_ok=key == "site.url")

    def base_url(key: str, value: Any) -> str:
        value = url(key, value)
        if "?" in value or "#" in value:  # links are made by appending paths to it
            raise ConfigError(key, value, "a URL without '?' or '#': page and feed links are made by "
                                          "appending their paths to it", source)
        return value if value.endswith("/") else value + "/"

    def timezone(key: str, value: Any) -> str:
        value = text(key, value)
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(key, value, "an IANA time zone name such as 'Europe/London' or 'UTC'",
                              source) from None
        return value

    def matching(pattern: str, expected: str, *, empty_ok: bool = False):
        """A single-line string that matches `pattern` whole."""
        def check(key: str, value: Any) -> str:
            value = text(key, value).strip()
            if not (empty_ok and not value) and not re.fullmatch(pattern, value):
                raise ConfigError(key, value, expected, source)
            return value
        return check

    language = matching(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", "a language tag such as 'en' or 'en-GB'")
    mailto = matching(r"mailto:[^@\s]+@[^@\s]+", "a mailto: URL such as 'mailto:unsubscribe@example.org'")
    list_id = matching(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", "a dotted name such as 'digest.example.org' (RFC 2919)")
    host = matching(r"[A-Za-z0-9.:\[\]-]+", "a host name such as 'smtp.example.org'", empty_ok=True)
    env_name = matching(r"[A-Za-z_][A-Za-z0-9_]*", "the name of an environment variable, such as "
                        "FEEDS_SMTP_PASSWORD (the password itself never goes in this file)")

    def strings(key: str, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(key, value, "a non-empty list of non-empty strings", source)
        return tuple(value)

    def chrome(key: str, value: Any) -> tuple[str, ...]:
        if isinstance(value, list) and not value:
            return ()
        return strings(key, value)

    def marker(key: str, value: Any) -> str:
        value = text(key, value).strip()
        if not value:
            raise ConfigError(key, value, "the phrase that ends a cut post, such as 'Continue reading'", source)
        return value

    def max_entries(key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ENTRIES:
            raise ConfigError(key, value, f"a whole number of at least 1 and at most {MAX_ENTRIES} (each feed "
                                          "file holds that many entries with their text: 100000 already makes "
                                          "files of hundreds of MB)", source)
        return value

    def path(key: str, value: Any) -> Path:
        value = text(key, value)
        if not value:
            raise ConfigError(key, value, "a path", source)
        p = Path(value).expanduser()
        return p if base is None or p.is_absolute() else base / p

    def creatable(key: str, value: Any) -> Path:
        """A path feeds creates when missing: no file stands where one of its folders must be.
        (What the system refuses, such as /proc, shows only when it is made: the pass says so.)"""
        p = path(key, value)
        for parent in p.parents:
            if os.path.exists(parent):
                if not os.path.isdir(parent):
                    raise ConfigError(key, value, f"a path whose folders can be made; {parent} is a file, "
                                                  "not a folder", source)
                break
        return p

    def folder(key: str, value: Any) -> Path:
        p = creatable(key, value)
        if os.path.exists(p) and not os.path.isdir(p):
            raise ConfigError(key, value, f"a folder; {p} is a file (name a folder, or one to create)", source)
        return p

    def database(key: str, value: Any) -> Path:
        p = creatable(key, value)
        if os.path.isdir(p):
            raise ConfigError(key, value, f"a file (an SQLite database, made if missing); {p} is a folder: "
                                          f"name a file in it, e.g. {p / 'feeds.sqlite3'}", source)
        try:
            mode = os.stat(p).st_mode
        except OSError:  # missing (it is made), or a link to nothing: the pass says what it can't do
            return p
        if not stat.S_ISREG(mode):
            kind = ("a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
                    "a pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else
                    "not a regular file")
            raise ConfigError(key, value, f"a file path for the SQLite database (made if missing), such as "
                                          f"'state/feeds.sqlite3'; {p} is {kind}, not a file", source)
        return p

    def glob_paths(key: str, value: Any) -> tuple[str, ...]:
        items = strings(key, value)
        if base is None:
            return items
        # The folder's name is taken as it is, not as a pattern ("site [2025]/seeds/*.txt").
        return tuple(v if os.path.isabs(os.path.expanduser(v)) else
                     os.path.join(glob.escape(str(base)), v) if glob.has_magic(v) else str(base / v) for v in items)

    def existing_file(key: str, value: Any) -> Path:
        p = path(key, value)
        if not p.is_file():
            raise ConfigError(key, value, f"an existing file; {p} is not one", source)
        return p

    def templates(key: str, value: Any) -> Path:
        p = path(key, value)
        if not p.is_dir():
            raise ConfigError(key, value, f"a folder of templates that replace the built-in ones file by file; "
                                          f"{p} is not a folder", source)
        builtin = sorted(f.name for f in builtin_templates().iterdir() if not f.name.startswith(("_", ".")))
        if not any((p / name).is_file() for name in builtin):
            raise ConfigError(key, value, f"a folder of templates that replace the built-in ones file by file, "
                                          f"named as they are ({', '.join(builtin)}); {p} holds none of them",
                              source)
        return p

    def title(key: str, value: Any) -> str:
        value = text(key, value).strip()
        if not value:
            raise ConfigError(key, value, "a non-empty title", source)
        return value

    site = _section(data, "site", Site, source, {
        "title": title, "url": url, "base_url": base_url, "author": text, "language": language,
        "timezone": timezone, "description": text})
    # The default paths go through the same conversion as written ones: they resolve against
    # the file's folder too, so a file that leaves them out works from any directory.
    def encoding(key: str, value: Any) -> str:
        value = text(key, value).strip()
        try:
            return codecs.lookup(value).name if value else ""
        except LookupError:
            raise ConfigError(key, value, "the name of an encoding Python knows, such as 'windows-1252', "
                                          "'iso-8859-1' or 'windows-1251' (for dumps that are not UTF-8)",
                              source) from None

    def max_bytes(key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DUMP_BYTES:
            raise ConfigError(key, value, f"a whole number of bytes, at least 1 and at most {MAX_DUMP_BYTES} (a "
                                          f"dump is read whole into memory; the default is {Input.max_bytes}, "
                                          "20 MB)", source)
        return value

    def boolean(key: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ConfigError(key, value, "true or false", source)
        return value

    inp = _section(data, "input", Input, source, {"paths": glob_paths, "marker": marker, "chrome": chrome,
                                                  "encoding": encoding, "follow_links": boolean,
                                                  "max_bytes": max_bytes},
                   {"paths": list(Input.paths)})

    def hub(key: str, value: Any) -> str:
        return _check_url(key, text(key, value), source, empty_ok=True)

    out = _section(data, "output", Output, source, {"dir": folder, "max_entries": max_entries,
                                                    "templates": templates, "hub": hub,
                                                    "category_feeds": boolean}, {"dir": str(Output.dir)})
    state = _section(data, "state", State, source, {"path": database}, {"path": str(State.path)})

    def weekday(key: str, value: Any) -> str:
        value = text(key, value).strip().lower()
        if value not in WEEKDAYS:
            raise ConfigError(key, value, f"a day of the week: {', '.join(WEEKDAYS)}", source)
        return value

    def ranged(low: int, high: int | None, what: str):
        def check(key: str, value: Any) -> int:
            if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None
                                                                                        and value > high):
                raise ConfigError(key, value, what, source)
            return value
        return check

    def seconds(key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 3600:
            raise ConfigError(key, value, "a number of seconds from 0 to 3600", source)
        return float(value)

    def address(key: str, value: Any) -> str:
        value = text(key, value)
        try:
            parse_address(value)
        except ValueError as exc:
            raise ConfigError(key, value, f"an email address, 'name@example.org' or 'Name <name@example.org>' "
                                          f"({exc})", source) from None
        return value

    def addresses(key: str, value: Any) -> tuple[str, ...]:
        if isinstance(value, list) and not value:
            return ()
        items = strings(key, value)
        for i, item in enumerate(items):
            address(f"{key}[{i}]", item)
        return items

    def unsubscribe_url(key: str, value: Any) -> str:
        value = text(key, value)
        if not value.startswith("https://") or not urlsplit(value).netloc:
            raise ConfigError(key, value, "an https:// URL (RFC 8058 one-click unsubscribe needs https); "
                                          "{email} in it is replaced by the recipient's address", source)
        return value

    def choice(*options: str):
        def check(key: str, value: Any) -> str:
            value = text(key, value)
            if value not in options:
                raise ConfigError(key, value, f"one of {', '.join(options)}", source)
            return value
        return check

    digest = _section(data, "digest", Digest, source, {
        "every": choice("day", "week", "month"), "day": ranged(1, 31, "a day of the month from 1 to 31 (past a "
                                                                   "month's last day: its last day)"),
        "weekday": weekday, "hour": ranged(0, 23, "an hour from 0 to 23"),
        "window_days": ranged(0, 3660, "a whole number of days, 0 or more"),
        "max_full": ranged(1, 500, "a whole number from 1 to 500"),
        "sender": address, "recipients": addresses, "recipients_file": path, "list_id": list_id,
        "unsubscribe_url": unsubscribe_url, "unsubscribe_mailto": mailto})
    mail = _section(data, "mail", Mail, source, {
        "host": host, "port": ranged(0, 65535, "a port number (0: the usual one for mail.security)"),
        "security": choice("starttls", "tls", "none"), "username": text, "password_env": env_name,
        "timeout": ranged(1, 600, "a number of seconds from 1 to 600"),
        "attempts": ranged(1, 20, "a whole number from 1 to 20"), "backoff": seconds, "outbox": folder,
        "cafile": existing_file})
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
    loop = _section(data, "loop", Loop, source, {"interval": ranged(1, 7 * 24 * 60, "a number of minutes from 1 "
                                                                                  "to 10080 (a week)")})
    return Config(site=site, input=inp, output=out, state=state, digest=digest, mail=mail, loop=loop,
                  source=source)
