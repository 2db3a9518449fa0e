"""`feeds init`: a commented starter ``feeds.toml``, made from one table of every key.

The table below says, for every field of the config's dataclasses, what it does in one
line; the file is generated from it and from the dataclasses' defaults, so the starter
cannot fall behind the code (a test checks that every field has its line, and no other
key does). A key whose default is written as a value loads back to that default; a key
whose default is worked out (the sender from the site's domain, the outbox under
output.dir) or is "none" is left commented out, with an example to fill in.
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


#: What each section is for, as the comment above its table.
SECTIONS: dict[str, str] = {
    "site": "The site the feeds stand for, and where out/ is published.",
    "input": "The dumps: text listing pages or saved HTML pages.",
    "output": "What a pass publishes.",
    "state": "What feeds remembers between passes (not published).",
    "digest": "The weekly digest email. With no recipients it is still composed and archived under "
              "out/digests/.",
    "mail": "Delivery: over SMTP when host is set, else .eml files in the outbox (nothing is mailed).",
    "loop": "`feeds loop`: passes on a schedule.",
}

#: Every key of every section: what it does. See the module's docstring.
KEYS: dict[str, Key] = {
    "site.title": Key("the feeds' and the pages' title, and the digest's sender name"),
    "site.url": Key("the original site's address, e.g. \"https://example.org/\": the feeds' identity, the domain "
                    "of entry ids and of the digest's sender (empty: taken from base_url)"),
    "site.base_url": Key("where out/ is served; every link in the feeds, pages and digest is made absolute "
                         "with it (a loopback address is for previews: no digest is mailed over SMTP with it)"),
    "site.author": Key("the feeds' author (empty: the title)"),
    "site.language": Key("language tag of the feeds and pages, such as \"en\" or \"en-GB\""),
    "site.timezone": Key("IANA time zone of the site: dates are shown, and the digest's weeks counted, in it"),
    "site.description": Key("the feeds' subtitle and the index page's introduction"),
    "input.paths": Key("dump files, as paths or globs (relative to this file's folder); .html/.htm files are "
                       "read as HTML"),
    "input.marker": Key("the phrase that ends a cut post (other themes: \"Read more\")"),
    "input.chrome": Key("lines that start site chrome at the end of a page (left out of posts)"),
    "input.encoding": Key("the encoding of dumps that are not UTF-8 and declare none, such as \"windows-1252\" "
                          "(empty: guessed, with a warning)"),
    "input.follow_links": Key("also read dumps that symbolic links lead to outside the folders paths names "
                              "(false: such links are skipped, and named)"),
    "input.max_bytes": Key("a dump larger than this many bytes is named and skipped, not read (20971520: 20 MB)"),
    "output.dir": Key("where everything published goes; a folder apart from the dumps"),
    "output.max_entries": Key("entries in each feed, newest first (at most 100000)"),
    "output.templates": Key("a folder of your own Jinja2 templates (pages, digest, feed.xsl) that replace the "
                            "built-in ones file by file: copy one and edit it (default: none)", '"templates"'),
    "output.hub": Key("a WebSub hub URL, named in the feeds (empty: none)"),
    "output.category_feeds": Key("also an Atom feed per category, out/categories/<slug>/atom.xml"),
    "state.path": Key("the SQLite database of every post seen and every digest sent; outside output.dir"),
    "digest.every": Key("the digest's period: \"day\", \"week\" (an ISO week) or \"month\", in site.timezone"),
    "digest.weekday": Key("a week's digest is due on this day after the week ends …"),
    "digest.day": Key("… a month's on this day of the next month (1-31; past its last day: its last day) …"),
    "digest.hour": Key("… at this hour (0-23), in site.timezone (a day's: the next day)"),
    "digest.window_days": Key("posts published more than this many days before the period are left out "
                              "(a back-fill does not flood the digest)"),
    "digest.max_full": Key("posts shown with their summaries; the rest are listed as links"),
    "digest.sender": Key("the From address (default: site.title at digest@<site.url's host>; with site.url "
                         "empty, set it to mail over SMTP); its domain's SPF and DMARC must allow mail.host",
                         '"Example digest <digest@example.org>"'),
    "digest.recipients": Key("addresses to mail the digest to: \"a@example.org\" or \"Name <a@example.org>\""),
    "digest.recipients_file": Key("a file with one address per line ('#' starts a comment), besides "
                                  "recipients (default: none)", '"recipients.txt"'),
    "digest.list_id": Key("the List-Id header (default: digest.<site domain>)", '"digest.example.org"'),
    "digest.unsubscribe_url": Key("https URL for one-click unsubscribe (RFC 8058); {email} is replaced by the "
                                  "address (default: none)", '"https://example.org/unsubscribe?email={email}"'),
    "digest.unsubscribe_mailto": Key("mailto: URL to unsubscribe; {email} likewise (default: a mail to the sender "
                                     "with the subject 'unsubscribe')",
                                     '"mailto:leave@example.org?subject=unsubscribe%20{email}"'),
    "mail.host": Key("SMTP server, such as \"smtp.example.org\" (empty: messages are written to the outbox)"),
    "mail.port": Key("0: the usual port for security (587 starttls, 465 tls, 25 none)"),
    "mail.security": Key("\"starttls\", \"tls\" (implicit TLS, port 465) or \"none\" (a local relay)"),
    "mail.username": Key("SMTP login (empty: no login)"),
    "mail.password_env": Key("the environment variable that holds the SMTP password (never put it in this file)"),
    "mail.timeout": Key("seconds to wait for each SMTP step"),
    "mail.attempts": Key("tries per recipient per pass after temporary failures"),
    "mail.backoff": Key("seconds before the second try, doubled for each one after"),
    "mail.outbox": Key("where .eml files go when host is empty (default: <output.dir>/outbox)", '"outbox"'),
    "mail.cafile": Key("PEM certificates to trust besides the system's, for a relay with its own CA "
                       "(default: none)", '"/etc/ssl/certs/relay-ca.pem"'),
    "loop.interval": Key("minutes between the passes of `feeds loop` (it also runs one at the digest's time)"),
}

HEADER = """\
# feeds.toml, written by `feeds init`.
#
# Every key is optional. Each is shown with its default, and what it does above it;
# a key left commented out has a default that is worked out (its note says how) or
# none: remove the '#' to set it. Relative paths are relative to this file's folder.
# Set [site] title, url and base_url first; `feeds check` then checks this file, the
# templates, the dumps a pass would read and the mail server, sending nothing.
"""


def sections() -> list[tuple[str, type]]:
    """The config's tables, in order: (name, dataclass)."""
    return [(f.name, type(f.default)) for f in dataclasses.fields(config.Config) if dataclasses.is_dataclass(f.default)]


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
    for name, cls in sections():
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
