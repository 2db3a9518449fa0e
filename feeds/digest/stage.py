"""The digest stage of a pass, and `digest --send` / `digest --period`: compose the digest due,
archive the past periods, publish the archive, hand the ready messages to `mail` with the ledger."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime
from email.headerregistry import Address

from feeds import addresses, mail, tokens
from feeds.config import Config
from feeds.digest.archive import PUBLISHED, digests_state, publish_digests
from feeds.digest.period import Period, Schedule
from feeds.digest.render import Rendered, Renderer, build_message
from feeds.digest.select import Selection, archive_past_periods, compose_due, period_to_send, select
from feeds.publish.files import WriteFile, write_if_changed
from feeds.publish.templates import Templates
from feeds.store import Store

log = logging.getLogger(__name__)

#: The meta key that holds the period due when the digest stage last looked for past periods to
#: archive (archive_past_periods); the pipeline's publishing removes it when the entries change.
ARCHIVED_PERIODS = "archived_weeks"  # (its name from when every period was a week: the states keep it)


@dataclasses.dataclass
class Outcome:
    """What the digest stage did, for the pass's report."""

    summary: str = ""
    problems: list[str] = dataclasses.field(default_factory=list)
    named: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # see mail.Delivery.named
    files_written: list[str] = dataclasses.field(default_factory=list)
    stopped: bool = False  # asked to stop before every message was sent


class Messages:
    """The ready message of each (period, recipient) of the ledger, for `mail.deliver`.

    A message differs between recipients only by their unsubscribe links: when those hold no
    {email} (nor a token signed for the recipient, with [web] url), one rendering serves every
    recipient of a period (inlining the CSS is the costly part). Only the last is kept: with
    links of their own, one per recipient would pile up.
    """

    def __init__(self, store: Store, config: Config, clock: mail.Clock, templates: Templates | None = None):
        self.store, self.config, self.clock = store, config, clock
        self.renderer = Renderer(config, templates)
        self.selections: dict[str, Selection] = {}
        self.last: tuple[tuple[str, tuple[str, str]], Rendered] | None = None
        self.secret: bytes | None = None

    def __call__(self, period: str, recipient: str, to: Address, msg_id: str) -> bytes:
        if period not in self.selections:
            self.selections[period] = select(self.store, self.config, Period.parse(period), self.clock())
        if self.secret is None:  # (asked for once messages are made: mail.deliver refuses without it)
            self.secret = tokens.secret(self.config) if self.config.web.url else b""
        sel = self.selections[period]
        key = (period, addresses.unsubscribe_links(self.config, recipient, self.secret))
        if self.last is None or self.last[0] != key:
            self.last = (key, self.renderer.render(sel, recipient, secret=self.secret))
        return build_message(self.config, self.last[1], to, sel.date, msg_id, self.secret).as_bytes()


def run(store: Store, config: Config, now: datetime, clock: mail.Clock, *, stamp: str, changed: bool,
        templates: Templates | None = None, should_stop: Callable[[], bool] = lambda: False,
        write: WriteFile = write_if_changed) -> Outcome:
    """Compose the digest if one is due, publish the archive, deliver what is pending.

    `stamp`: the code and templates that render the archive (pipeline.fingerprint). The
    ledger's writes are synced to disk before the next step (synchronous=FULL): a digest
    marked sent must stay marked after a power cut, or it would be sent again.
    """
    outcome = Outcome()
    configured, outcome.problems = mail.recipients(config)
    addresses, kept_out = mail.subscribed(store, config, configured, now)
    for line in kept_out:
        log.info("a configured recipient left the list and is not mailed: %s", line)
    composed = None
    due = Schedule.of(config).due_period(now).label
    with store.durable():
        if config.digest.recipients_file is not None and not configured:
            # A recipients file that is empty (or being rewritten) must not use up a digest.
            outcome.problems.append(f"digest not composed: {config.digest.recipients_file} lists no valid "
                                    "address; it waits for the next pass")
        else:
            composed = compose_due(store, config, now, [a.addr_spec for a in addresses])
        # The past periods with posts are archived by publication date (never mailed), after the
        # period due took its posts; looked for when the entries changed or another period is due.
        look = composed is not None or changed or store.meta(ARCHIVED_PERIODS) != due
        if look:
            archive_past_periods(store, config, now)
        stale = store.meta(PUBLISHED) != digests_state(store, stamp)
        if composed or changed or look or stale or not (config.output.dir / "digests" / "index.html").exists():
            outcome.files_written = publish_digests(store, config, now, stamp, templates=templates,
                                                    write=write)  # before the emails that link to it
        if look:
            with store.transaction():
                store.set_meta(ARCHIVED_PERIODS, due)
        delivery = mail.deliver(store, config, clock, Messages(store, config, clock, templates),
                                should_stop=should_stop,
                                recipients_now={a.addr_spec.lower(): a for a in addresses})
    outcome.problems += delivery.problems
    outcome.named = delivery.named
    outcome.stopped = bool(delivery.held)
    outcome.summary = _summary(config, composed, len(addresses), delivery)
    return outcome


def _summary(config: Config, composed: Selection | None, recipients: int, delivery: mail.Delivery) -> str:
    parts = []
    if composed is not None:
        n = len(composed.posts)
        parts.append(f"digest {composed.period}: " + (f"{n} post(s) for {recipients} recipient(s)" if n
                                                       else "no new posts, no email"))
    if delivery.sent:
        parts.append(f"{delivery.sent} email(s) " + ("sent" if delivery.via == "smtp" else
                                                      f"written to {config.outbox}"))
    if delivery.held_back:
        parts.append(f"{delivery.held_back} email(s) not mailed: the configuration needs fixing (see above)")
    if delivery.held:
        parts.append(f"{delivery.held} email(s) not sent yet")
    if delivery.failed or delivery.deferred or delivery.unknown:
        parts.append(f"{len(delivery.failed)} refused, {len(delivery.deferred)} to retry, "
                     f"{len(delivery.unknown)} uncertain")
    return ", ".join(parts)


def send(store: Store, config: Config, now: datetime, clock: mail.Clock, asked: str | None, *,
         stamp: str) -> Outcome:
    """`digest --send [--period P]`: what a pass's digest stage does; P must be the period due
    now or one composed for mailing (PeriodError otherwise)."""
    schedule = Schedule.of(config)
    period_to_send(store, config, now, schedule.parse(asked) if asked else None)
    return run(store, config, now, clock, stamp=stamp, changed=False)


def render(store: Store, config: Config, now: datetime, asked: str | None, *, stamp: str) -> Selection:
    """`digest [--period P]` (default: the period due): what the digest of P lists. A period with
    posts that is not the one due now is recorded (by publication date, unless it was mailed)
    and its page and the archive written; the period due is left to the pass that mails it."""
    schedule = Schedule.of(config)
    period = schedule.parse(asked) if asked else schedule.due_period(now)
    sel = select(store, config, period, now)
    if sel.posts and sel.kind != "due":
        if store.digest(period.label) is None:
            with store.transaction():
                store.set_digest(period.label, "archived", sel.date, len(sel.posts))
        publish_digests(store, config, now, stamp)
    return sel
