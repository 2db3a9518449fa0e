"""The command line's arguments: ``python -m feeds [options] [command]``, one function per command."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

from feeds import __version__

DESCRIPTION = """\
Turn dumps of a website's pages (text, or saved HTML) into feeds (Atom, RSS,
JSON Feed), a page per post, and a weekly digest email.

With no command, runs one pass: reads the dumps named in feeds.toml (default
seeds/*.txt) that are new or changed, stores their posts in SQLite (default
state/feeds.sqlite3), writes what changed under out/ (atom.xml, rss.xml,
feed.json, index.html, posts/<slug>.html) and, when the week's digest is due, mails it
(or writes it to out/outbox/) and archives it under out/digests/. Safe to run
from cron: one pass at a time, and a digest is never sent twice.
"""

EPILOG = """\
exit status: 0 done (or stopped at a safe point by SIGTERM or Ctrl-C); 1 done, but
a dump was skipped or quarantined, an input path matched nothing, a post failed to
render, a file under out/ could not be written (a full disk), a recipient was
skipped or a digest did not reach someone (each named on stderr); 2 bad
configuration or usage; 70 an unexpected error (a bug: the traceback is printed);
75 another pass holds the lock (try again later; nothing was touched); 130 stopped
at once by a second Ctrl-C; 141 the output's reader went away (as in "| head -1";
quietly, no traceback).

examples:
  python -m feeds init                 write a commented starter feeds.toml here
  python -m feeds check                is everything ready? (sends nothing, writes nothing)
  python -m feeds                      one pass over seeds/ into out/ (cron: every few minutes)
  python -m feeds loop                 passes on a schedule, as a service
  python -m feeds status               the last pass, the next digest, undelivered recipients
  python -m feeds inspect seeds/*.txt  show the posts found, touch nothing
  python -m feeds serve                preview out/ at http://127.0.0.1:8000/
  python -m feeds entries list         every post stored: date, slug, title, URL
  python -m feeds subscribers list     the mailing list: who, status, digests sent
"""


def _now(value: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--now {value!r} is not an ISO 8601 time; write e.g. 2025-02-17T09:00:00+00:00") from None
    # A fixed clock far from the real one is a typo (2205 for 2025); passed on, it would
    # record a digest for that week, and the ledger would hold back every week before it.
    real = datetime.now(UTC)
    aware = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    if dt.year < 1970 or aware > real + timedelta(days=366):
        raise argparse.ArgumentTypeError(
            f"--now {value!r} is out of range: give a time from 1970 to a year after this machine's "
            f"clock ({real:%Y-%m-%d}); check the year")
    return dt


def _port(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 0 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(
            f"--port {value!r} is not a port; give a number from 0 to 65535 (0: any free port)")
    return int(value)


def _common_options(top: bool) -> argparse.ArgumentParser:
    """The options every command takes, before or after the command's name.

    On the commands they default to SUPPRESS, so that `-c FILE run` keeps the -c
    given before the command instead of resetting it.
    """
    common = argparse.ArgumentParser(add_help=False)
    default = (lambda value: value) if top else (lambda value: argparse.SUPPRESS)
    common.add_argument("-c", "--config", metavar="FILE", default=default(None),
                        help="configuration file (default: ./feeds.toml if present, else built-in defaults)")
    common.add_argument("--now", type=_now, metavar="ISO-8601", default=default(None),
                        help="fix the clock (e.g. 2025-02-17T09:00:00+00:00) for reproducible builds and tests; "
                             "a time without offset is in the site's time zone")
    common.add_argument("-v", "--verbose", action="count", default=default(0), help="say more (-vv for debugging)")
    common.add_argument("-q", "--quiet", action="store_true", default=default(False),
                        help="only errors, and the summary line")
    common.add_argument("--log-file", metavar="FILE", default=default(None),
                        help="also write the log, with times, to FILE (warnings and errors still go to stderr)")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m feeds", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     parents=[_common_options(top=True)])
    parser.add_argument("--version", action="version", version=f"feeds {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="command")
    common = _common_options(top=False)
    for add in (_init, _check, _run, _inspect, _digest, _loop, _status, _serve, _entries, _subscribers,
                _bounces):
        add(sub, common)
    return parser


Commands = Any  # argparse's _SubParsersAction, a private name


def _init(sub: Commands, common: argparse.ArgumentParser) -> None:
    sub.add_parser("init", parents=[common], help="write a commented starter feeds.toml",
                   description="Write a starter configuration to ./feeds.toml (or the -c FILE path): every key "
                               "of every section with its default and a line on what it does, ready to edit. "
                               "An existing file is never overwritten (exit status 2).",
                   epilog="examples:\n  python -m feeds init                 ./feeds.toml\n"
                          "  python -m feeds init -c site/feeds.toml",
                   formatter_class=argparse.RawDescriptionHelpFormatter)


def _check(sub: Commands, common: argparse.ArgumentParser) -> None:
    sub.add_parser(
        "check", parents=[common], help="check the config, templates, dumps and mail server; change nothing",
        description="Check what a pass needs, one finding per line: the configuration loads; each template "
                    "renders with sample data; the dumps a pass would read (new or changed since the last "
                    "pass) and those it would skip; the digest's recipients; and, when [mail] host is set, "
                    "the SMTP server: connect, EHLO, STARTTLS or implicit TLS, AUTH (when mail.username is "
                    "set and its password variable is), MAIL FROM, then a reset: no message is sent. Writes "
                    "nothing: the state is only read, out/ is not touched.",
        epilog="exit status: 0 all well; 1 warnings (a pass would work, but skip something or hold back the "
               "digest); 2 errors (a pass would stop, or could not mail)",
        formatter_class=argparse.RawDescriptionHelpFormatter)


def _run(sub: Commands, common: argparse.ArgumentParser) -> None:
    run = sub.add_parser("run", parents=[common], help="one pass (the default command)",
                         description="Read new or changed dumps, store their posts, publish what changed.")
    run.add_argument("--rebuild", action="store_true",
                     help="render every page and feed again (written only where the bytes differ)")


def _inspect(sub: Commands, common: argparse.ArgumentParser) -> None:
    inspect = sub.add_parser("inspect", parents=[common], help="show the posts found in dumps; touches nothing",
                             description="Read the given dumps and show the posts found in them, with "
                                         "their lines, cut or whole, slug and date. Touches neither the "
                                         "state nor out/.")
    inspect.add_argument("paths", nargs="+", metavar="PATH", help="dump files")
    inspect.add_argument("--json", action="store_true",
                         help="one JSON object per post per line: dump, title, url, published, date_source, "
                              "author, categories, truncated, start_line, end_line, slug, position")
    inspect.add_argument("--explain", action="store_true",
                         help="for saved HTML pages: which rule found each post and field (JSON-LD, microformat, "
                              "engine table, structure, selector), and [[input.html]] selectors proposed where the "
                              "posts were guessed from the page's structure or not found")


def _digest(sub: Commands, common: argparse.ArgumentParser) -> None:
    dig = sub.add_parser(
        "digest", parents=[common], help="render, preview or send the weekly digest email",
        description="Render the weekly digest of an ISO week (default: the latest week whose digest is due) "
                    "into the archive, out/digests/<week>.html. A week that was mailed shows what was mailed; "
                    "another past week lists the posts published in it. Nothing is sent unless --send.",
        epilog="examples:\n  python -m feeds digest --period 2025-W07 --preview\n"
               "  python -m feeds digest --send          deliver the digest due now (what a pass does)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    dig.add_argument("--period", metavar="PERIOD", help="the period, in the site's time zone, as [digest] every "
                                                        "counts it: a week like 2025-W07 (the default), a day like "
                                                        "2025-02-14, a month like 2025-02")
    mode = dig.add_mutually_exclusive_group()
    mode.add_argument("--preview", action="store_true",
                      help="also write the email as HTML, text and .eml under out/preview/ and print their "
                           "paths and sizes")
    mode.add_argument("--send", action="store_true",
                      help="compose the digest due now (once per week) and deliver it through the ledger: "
                           "SMTP when [mail] host is set, else .eml files in the outbox")


def _loop(sub: Commands, common: argparse.ArgumentParser) -> None:
    sub.add_parser("loop", parents=[common], help="run passes on a schedule until stopped",
                   description="Run a pass now, then every [loop] interval minutes (default 15) and at the "
                               "weekly digest slot, until SIGTERM or Ctrl-C (the pass in progress stops at a safe "
                               "point; exit status 0). A slot missed while feeds was not running is caught up "
                               "once, at start. One summary line per pass.")


def _status(sub: Commands, common: argparse.ArgumentParser) -> None:
    status = sub.add_parser("status", parents=[common], help="the last pass, the next digest, the ledger",
                            description="Show the last pass (when, what it did, its problems), the digest due "
                                        "next, how many dumps, entries and digests are stored, and the "
                                        "recipients a digest did not reach. Reads the state; changes nothing.")
    status.add_argument("--json", action="store_true", help="the same as one JSON object")


def _serve(sub: Commands, common: argparse.ArgumentParser) -> None:
    serve = sub.add_parser("serve", parents=[common], help="serve out/ on 127.0.0.1:8000 to preview it",
                           description="Serve the output folder over HTTP so a browser or a feed reader "
                                       "can subscribe to http://127.0.0.1:8000/atom.xml.")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0: any free port)")
    serve.add_argument("--bind", default="127.0.0.1", help="address (default 127.0.0.1)")


def _entries(sub: Commands, common: argparse.ArgumentParser) -> None:
    entries = sub.add_parser(
        "entries", parents=[common], help="list the stored entries, or remove one",
        description="See what was stored, and take out what should not have been.",
        epilog="examples:\n  python -m feeds entries list --json\n"
               "  python -m feeds entries remove weekly-links-2\n"
               "  python -m feeds entries remove --undo weekly-links-2",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = entries.add_subparsers(dest="action", metavar="action", required=True)
    listing = actions.add_parser("list", parents=[common], help="every entry, newest first",
                                 description="Every stored entry, newest first: its date, slug, title and "
                                             "URL, and the removed ones marked. Changes nothing.")
    listing.add_argument("--json", action="store_true",
                         help="one JSON object per entry per line: id, slug, title, url, published, updated, "
                              "date_source, first_seen, truncated, author, categories, removed (null, or when)")
    remove = actions.add_parser(
        "remove", parents=[common], help="remove an entry (its page, its place in the feeds)",
        description="Remove the entry with this id or slug: the next pass removes its page and drops it "
                    "from the feeds, the index and the archive. A dump that shows the post again, old or "
                    "new, does not bring it back; --undo does, with its id, slug and date.")
    remove.add_argument("ref", metavar="ID|SLUG", help="the entry's id (tag:…) or slug, as `entries list` shows")
    remove.add_argument("--undo", action="store_true", help="bring a removed entry back")


#: A subscriber's statuses, as feeds.store.subscribers.STATUSES (not imported: --help loads no store).
STATUSES = ("pending", "active", "unsubscribed", "bounced", "complained")


def _subscribers(sub: Commands, common: argparse.ArgumentParser) -> None:
    subs = sub.add_parser(
        "subscribers", parents=[common], help="the mailing list: list, add, remove, import, export",
        description="The digest goes to the list's active subscribers. The addresses in [digest] recipients "
                    "and recipients_file are put on it by each pass; one who left (unsubscribed, bounced, "
                    "complained) stays off it even if the file still lists them. An invalid address is named "
                    "and skipped, the rest goes on, and the exit status is 1.",
        epilog="examples:\n  python -m feeds subscribers list --status active\n"
               "  python -m feeds subscribers add 'Ann Lee <ann@example.org>'\n"
               "  python -m feeds subscribers remove ann@example.org\n"
               "  python -m feeds subscribers import members.csv\n"
               "  python -m feeds subscribers export > list.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = subs.add_subparsers(dest="action", metavar="action", required=True)
    listing = actions.add_parser("list", parents=[common], help="every subscriber, by address",
                                 description="Every subscriber, by address: status, how and when it was "
                                             "reached, digests sent (from the delivery ledger), name. "
                                             "Changes nothing.")
    listing.add_argument("--status", choices=STATUSES, help="only those with this status")
    listing.add_argument("--json", action="store_true",
                         help="one JSON object per subscriber per line: address, name, status, source, changed, "
                              "created, sent")
    add = actions.add_parser("add", parents=[common], help="put addresses on the list, active",
                             description="Put each address on the list, active, with no confirmation mail: "
                                         "the operator vouches for it. One who left is brought back.")
    add.add_argument("addresses", nargs="+", metavar="ADDR", help='"a@example.org" or "Name <a@example.org>"')
    remove = actions.add_parser(
        "remove", parents=[common], help="take addresses off the list (unsubscribed)",
        description="Unsubscribe each address: it is sent no more digests, not even one a pass has pending, "
                    "and neither the config nor an import puts it back. For requests mailed to "
                    "[digest] unsubscribe_mailto, which feeds cannot read.")
    remove.add_argument("addresses", nargs="+", metavar="ADDR", help="an address on the list")
    imp = actions.add_parser(
        "import", parents=[common], help="put the addresses of a file on the list",
        description="Read FILE: one address per line ('#' starts a comment), or CSV whose header names an "
                    "'email' or 'address' column, and optionally 'name' and 'status' (as export writes it: "
                    "a row whose status says it left is recorded so, a pending one is left out). Each new "
                    "address is active; one who left stays off the list. Invalid lines are named "
                    "(FILE:LINE) and skipped.")
    imp.add_argument("file", metavar="FILE", help="a UTF-8 text or CSV file")
    export = actions.add_parser("export", parents=[common], help="the list as CSV on stdout",
                                description="Write the list as CSV (email, name, status) to stdout, the "
                                            "format import reads.")
    export.add_argument("--status", choices=STATUSES, help="only those with this status")


def _bounces(sub: Commands, common: argparse.ArgumentParser) -> None:
    bounces = sub.add_parser(
        "bounces", parents=[common], help="mark the addresses that bounced for good (from an mbox or Maildir)",
        description="Read the delivery status notifications (RFC 3464: multipart/report with "
                    "message/delivery-status) in MAILBOX, an mbox file or a Maildir folder: a recipient that "
                    "failed with a 5.x.x status is marked bounced and sent no more digests; 4.x.x (soft) ones are "
                    "only counted. Other messages are passed over; the mailbox is not changed. Reading it again "
                    "changes nothing more.",
        epilog="examples:\n  python -m feeds bounces ~/Maildir/.bounces\n  python -m feeds bounces /var/mail/digest",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    bounces.add_argument("mailbox", metavar="MAILBOX", help="an mbox file or a Maildir folder")
