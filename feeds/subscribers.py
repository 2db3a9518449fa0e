"""`feeds subscribers`: the mailing list from the command line (feeds.store.subscribers keeps it).

`list` shows who is on it; `add` and `remove` are the operator's own decisions (source
"command": `add` brings back even one who left; `remove` of an address not yet on the list
records it as unsubscribed, so that neither the config nor an import adds it later);
`import FILE` reads one address per line, or CSV with a header naming an `email` or `address`
column (and optionally `name` and `status`, as `export` writes them); `export` writes that CSV.

Addresses are checked with feeds.addresses.parse_address, the rule the config's recipients
already go through (ASCII, a dotted domain: what every SMTP server takes without SMTPUTF8), and
RFC 5321's lengths (64 characters before the '@', 254 in all). An invalid one is named
(FILE:LINE, or as given) and skipped; the rest goes on; the exit status is 1 when one was skipped.

Each change is one SQLite transaction: these commands do not take the pass's lock, as the
web endpoint does not; a pass running meanwhile mails whom the list held when it began.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import sys
from collections.abc import Iterable
from datetime import datetime
from email.headerregistry import Address
from pathlib import Path

from feeds import tokens
from feeds.addresses import parse_address
from feeds.config import Config
from feeds.errors import ConfigError, FeedsError, StateError
from feeds.store import DatabaseError, Store, Subscriber
from feeds.store.subscribers import LEFT, STATUSES

#: RFC 5321 4.5.3.1: the longest local part, and the longest address a server must take.
MAX_LOCAL, MAX_ADDRESS = 64, 254

#: Header names (case-insensitive) of the CSV column that holds the address.
ADDRESS_COLUMNS = ("email", "address", "e-mail", "email address", "mail")

EXPORT_COLUMNS = ("email", "name", "status")


def valid_address(text: str) -> Address:
    """An address to put on the list, bare or as "Name <address>"; ValueError saying what is wrong."""
    addr = parse_address(text)
    if len(addr.username) > MAX_LOCAL:
        raise ValueError(f"{addr.addr_spec!r} has more than {MAX_LOCAL} characters before the '@'")
    if len(addr.addr_spec) > MAX_ADDRESS:
        raise ValueError(f"{addr.addr_spec[:40]!r}… is longer than {MAX_ADDRESS} characters")
    return addr


def _named(text: str, exc: ValueError) -> str:
    """What is wrong with an address, naming it (once)."""
    return str(exc) if repr(text.strip()) in str(exc) else f"{text!r}: {exc}"


@dataclasses.dataclass(frozen=True)
class Row:
    """One address read from a file: where, the address, its name, and the status it says (or '')."""

    where: str  # FILE:LINE
    address: Address
    status: str = ""


def read_rows(text: str, source: str) -> tuple[list[Row], list[str]]:
    """The addresses in a file's text, one per line ('#' starts a comment) or CSV with a header
    naming the address column; and the problems, "FILE:LINE: what; skipped", each."""
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.split("#", 1)[0].strip()), None)
    if first is not None:
        header = [cell.strip().lower() for cell in next(csv.reader([lines[first]]))]
        if any(cell in ADDRESS_COLUMNS for cell in header):
            return _csv_rows(lines, first, header, source)
    rows, problems = [], []
    for number, line in enumerate(lines, 1):
        value = line.split("#", 1)[0].strip()
        if value:
            try:
                rows.append(Row(f"{source}:{number}", valid_address(value)))
            except ValueError as exc:
                problems.append(f"{source}:{number}: {_named(value, exc)}; skipped")
    return rows, problems


def _csv_rows(lines: list[str], first: int, header: list[str], source: str) -> tuple[list[Row], list[str]]:
    column = next(i for i, cell in enumerate(header) if cell in ADDRESS_COLUMNS)
    name_at = header.index("name") if "name" in header else None
    status_at = header.index("status") if "status" in header else None
    rows, problems = [], []
    reader = csv.reader(io.StringIO("\n".join(lines[first + 1:])))
    for record in reader:
        where = f"{source}:{first + 1 + reader.line_num}"
        if not any(cell.strip() for cell in record):
            continue
        cells = record + [""] * (len(header) - len(record))
        status = cells[status_at].strip().lower() if status_at is not None else ""
        try:
            addr = valid_address(_uncell(cells[column].strip()))
            if status and status not in STATUSES:
                raise ValueError(f"status {status!r} is none of {', '.join(STATUSES)}")
        except ValueError as exc:
            problems.append(f"{where}: {exc}; skipped")
            continue
        name = _uncell(cells[name_at].strip()) if name_at is not None else ""
        if name:
            addr = Address(display_name=" ".join(name.split()), username=addr.username, domain=addr.domain)
        rows.append(Row(where, addr, status))
    return rows, problems


# -- the commands ---------------------------------------------------------------------------

def list_subscribers(cfg: Config, *, status: str | None, as_json: bool) -> int:
    """Print the subscribers (with that status): a line each, or a JSON object per line."""
    if not cfg.state.path.exists():
        print(f"no subscribers: no state at {cfg.state.path} yet (a pass or `subscribers add` makes it)",
              file=sys.stderr)
        return 0
    with Store(cfg.state.path) as store:
        found = store.subscribers(status)
    for sub in found:
        print(json.dumps(_as_json(sub), ensure_ascii=False) if as_json else _as_line(sub, cfg))
    if not as_json:
        counts = {s: sum(1 for sub in found if sub.status == s) for s in STATUSES}
        print(f"{len(found)} subscriber(s)" + "".join(f", {n} {s}" for s, n in counts.items() if n), file=sys.stderr)
    return 0


def _as_json(sub: Subscriber) -> dict[str, object]:
    return {"address": sub.address, "name": sub.name, "status": sub.status, "source": sub.source,
            "changed": sub.changed.isoformat(), "created": sub.created.isoformat(), "sent": sub.sent}


def _as_line(sub: Subscriber, cfg: Config) -> str:
    day = sub.changed.astimezone(cfg.site.tz).date().isoformat()
    name = f"  {sub.name}" if sub.name else ""
    return f"{sub.address}  {sub.status} ({sub.source}, {day})  {sub.sent} sent{name}"


def add(cfg: Config, texts: Iterable[str], now: datetime) -> int:
    """Put each address on the list, active (the operator's decision: even one who left)."""
    skipped = 0
    with Store(cfg.state.path) as store:
        for text in texts:
            try:
                addr = valid_address(text)
            except ValueError as exc:
                print(f"feeds: {_named(text, exc)}; skipped", file=sys.stderr)
                skipped += 1
                continue
            before = store.subscriber(addr.addr_spec)
            sub = store.subscribe(addr.addr_spec, addr.display_name, source="command", now=now)
            if before is None:
                print(f"added {sub.address}")
            elif before.status == "active":
                print(f"{sub.address}: active already")
            else:
                print(f"{sub.address}: active again (was {before.status}, by {before.source})")
    return 1 if skipped else 0


def remove(cfg: Config, texts: Iterable[str], now: datetime) -> int:
    """Take each address off the list (unsubscribed, by "command"): it is sent no more digests."""
    skipped = 0
    with Store(cfg.state.path) as store:
        for text in texts:
            try:
                addr = valid_address(text)
            except ValueError as exc:
                print(f"feeds: {_named(text, exc)}; skipped", file=sys.stderr)
                skipped += 1
                continue
            before = store.subscriber(addr.addr_spec) or next(  # (or spelt in another case: mailed as one)
                (s for s in store.subscribers() if s.address.lower() == addr.addr_spec.lower()), None)
            if before is None:
                store.record_left(addr.addr_spec, "unsubscribed", how="command", now=now)
                print(f"{addr.addr_spec}: not on the list; recorded as unsubscribed, so that neither the config "
                      "nor an import adds it")
            elif store.unsubscribe(addr.addr_spec, how="command", now=now):
                spelt = f"as {before.address}, " if before.address != addr.addr_spec else ""
                print(f"removed {addr.addr_spec} ({spelt}was {before.status}): it is sent no more digests")
            else:
                print(f"{before.address}: unsubscribed already ({before.source}, {before.changed:%Y-%m-%d})")
    return 1 if skipped else 0


def import_file(cfg: Config, path: Path, now: datetime) -> int:
    """Put the addresses of a file on the list (source "import"); see the module's docstring."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise FeedsError(f"import: cannot read {path} ({exc}); give a UTF-8 text or CSV file") from None
    rows, problems = read_rows(text, str(path))
    for problem in problems:
        print(f"feeds: {problem}", file=sys.stderr)
    tally: dict[str, list[str]] = {"added": [], "active already": [], "kept out": [], "recorded as left": [],
                                   "left already": [], "not confirmed, left out": []}
    with Store(cfg.state.path) as store, store.transaction():
        for row in rows:
            bucket, what = _import_one(store, row, now)
            tally[bucket].append(what)
    for what in tally["kept out"]:
        print(f"{what}: left the list; an import does not bring it back (`feeds subscribers add` does)")
    counts = ", ".join(f"{len(v)} {k}" for k, v in tally.items() if v)
    print(f"import {path}: {counts or 'no address'}" + (f"; {len(problems)} line(s) skipped" if problems else ""))
    return 1 if problems else 0


def _import_one(store: Store, row: Row, now: datetime) -> tuple[str, str]:
    """Put one row on the list: (what came of it, the address as said)."""
    addr, name = row.address.addr_spec, row.address.display_name
    if row.status == "pending":
        return "not confirmed, left out", addr
    if row.status in LEFT:
        recorded = store.record_left(addr, row.status, how="import", now=now, name=name)
        return ("recorded as left" if recorded else "left already"), addr
    before = store.subscriber(addr)
    sub = store.subscribe(addr, name, source="import", now=now)
    if before is not None and before.status == "active":
        return "active already", addr
    return ("added", addr) if sub.status == "active" else _kept_out(store, addr)


def _kept_out(store: Store, address: str) -> tuple[str, str]:
    sub = store.subscriber(address)
    return "kept out", f"{address} ({sub.status}, by {sub.source})" if sub else address


#: What makes a spreadsheet read a cell as a formula (OWASP's "CSV injection"): a name typed into the
#: form as "=HYPERLINK(…)" would run in the operator's spreadsheet. Such a cell is written after a "'",
#: which spreadsheets show as text, and import takes it off again.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _uncell(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value


def export(cfg: Config, *, status: str | None) -> int:
    """The list as CSV on stdout (email, name, status), as `import` reads it back; a cell a
    spreadsheet would take for a formula starts with "'" (see FORMULA_START)."""
    found: list[Subscriber] = []
    if cfg.state.path.exists():
        with Store(cfg.state.path) as store:
            found = store.subscribers(status)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows((_cell(sub.address), _cell(sub.name), sub.status) for sub in found)
    sys.stdout.write(out.getvalue())
    return 0


# -- feeds check ------------------------------------------------------------------------------

def check(cfg: Config, configured: Iterable[Address]) -> list[tuple[str, str, str]]:
    """What `feeds check` says of the list and its secret: (area, level, text) each. Reads the
    state as it is (Store.peek); changes nothing. A configured recipient who left is named."""
    said = _check_secret(cfg)
    if not cfg.state.path.exists():
        return [*said, ("digest", "ok", "no state yet: the first pass puts the configured recipients on the list")]
    try:
        with Store.peek(cfg.state.path) as store:
            everyone = store.subscribers()
            left = {s.address: store.left_before(s.address) for s in everyone if s.status == "pending"}
    except (StateError, DatabaseError):  # an older schema (the next pass migrates it), or said under "state"
        return said
    by_address = {sub.address.lower(): sub for sub in everyone}
    for addr in configured:
        sub = by_address.get(addr.addr_spec.lower())
        if sub is not None and (was := left.get(sub.address)):  # (a form request since: not mailed)
            said.append(("digest", "warning", f"{sub.address} is in [digest] recipients but left the list "
                         f"({was[0]}, by {was[1]}) and asked to join again with the form: it is not mailed until "
                         "it confirms (`feeds subscribers add` brings it back at once)"))
        elif sub is not None and sub.status in LEFT:
            said.append(("digest", "warning", f"{sub.address} is in [digest] recipients but left the list "
                         f"({sub.status}, by {sub.source}, {sub.changed.astimezone(cfg.site.tz):%Y-%m-%d}): it is "
                         "not mailed; take it out of the config (`feeds subscribers add` brings it back)"))
    counts = {s: sum(1 for sub in everyone if sub.status == s) for s in STATUSES}
    said.append(("digest", "ok", f"the list: {counts['active']} active subscriber(s) get the digest"
                 + "".join(f", {n} {s}" for s, n in counts.items() if n and s != "active")))
    return said


def _check_secret(cfg: Config) -> list[tuple[str, str, str]]:
    """Whether the secret that signs the list's links is set (never its value), and how to make one."""
    name = cfg.web.secret_env
    try:
        tokens.secret(cfg)
    except ConfigError as exc:
        if cfg.web.url:
            return [("web", "error", f"[web] url is set, so digests carry signed unsubscribe links, but "
                                     f"{exc.expected}; until then no digest is mailed")]
        return [("web", "ok", f"no [web] url: no endpoint, digests use [digest] unsubscribe_url; {name} is not set "
                              f"(to run one, make a secret with {tokens.MAKE_SECRET})")]
    where = f"[web] url is {cfg.web.url}" if cfg.web.url else "no [web] url (no endpoint)"
    return [("web", "ok", f"{where}; the secret in {name} is set ({tokens.MIN_SECRET} characters or more)")]
