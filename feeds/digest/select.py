"""Which posts a digest lists, and composing the digest due (its posts fixed, its ledger rows).

What a digest lists (the rule the README documents):

- A digest composed to be mailed lists every stored post that is in no earlier
  digest, first seen since the previous mailed digest, and published no earlier than
  ``window_days`` before the start of its period (or, when periods were missed, before
  the end of the previous mailed digest's period). So the posts of a large back-fill,
  all first seen at once, do not flood the first digest: only the recent ones are
  listed. Its posts are then fixed (`digest_entries`): a post is announced once, and
  an edit does not announce it again.
- A past period rendered for the archive (``digest --period``) lists the posts
  published in that period that no mailed digest announced.

The rules read the store and `now` is passed in; composing writes the ledger in one transaction.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta

from feeds import addresses, tokens
from feeds.config import Config
from feeds.digest.period import Period, PeriodError, Schedule
from feeds.models import DigestPost
from feeds.store import Row, Store, from_iso


@dataclasses.dataclass(frozen=True)
class Selection:
    period: Period
    kind: str  # 'mailed' (fixed), 'due' (would be mailed now), 'archived' (by publication date)
    date: datetime  # the digest's date: when the period's digest was due (not the clock: same input, same bytes)
    posts: tuple[DigestPost, ...]


def last_mailed(store: Store) -> tuple[Period, Row] | None:
    """The latest digest composed for mailing, by when its period ends, and its row. (Not the
    store's last by label: labels of two cadences, in a state whose `every` changed, do not sort
    by time: '2025-W07' after '2025-12'.)"""
    mailed = [(Period.parse(row["period"]), row) for row in store.digests(with_empty=True) if row["kind"] == "mailed"]
    return max(mailed, key=lambda pair: pair[0], default=None)


def select_new(store: Store, config: Config, period: Period) -> list[DigestPost]:
    """The posts a digest composed now for `period` would list (see the module's rule)."""
    tz = config.site.tz
    start, _ = period.bounds(tz)
    since = start
    stored_after = None
    if (last := last_mailed(store)) is not None and last[0] < period:
        since = min(start, last[0].bounds(tz)[1])
        stored_after = last[1]["seen_upto"]  # first seen since the previous digest, whatever the clock says
    window = timedelta(days=config.digest.window_days)
    return store.candidates(published_from=since - window, stored_after=stored_after)


def select(store: Store, config: Config, period: Period, now: datetime) -> Selection:
    """What the digest of `period` lists: as mailed, as it would be mailed now, or by publication date."""
    row = store.digest(period.label)
    if row is not None and row["kind"] == "mailed":
        return Selection(period, "mailed", from_iso(row["date"]), tuple(store.digest_posts(period.label)))
    schedule = Schedule.of(config)
    due = schedule.due(period)
    if due > now:
        raise PeriodError(f"the {period.words.unit} {period} is not over yet: its digest is due "
                          f"{due:%A %d %B %Y %H:%M} ({config.site.timezone}); the latest "
                          f"{period.words.unit} due is {schedule.due_period(now)}")
    last = last_mailed(store)
    if row is None and period == schedule.due_period(now) and (last is None or last[0] < period):
        return Selection(period, "due", due, tuple(select_new(store, config, period)))
    start, end = period.bounds(config.site.tz)
    return Selection(period, "archived", due, tuple(store.candidates(published_from=start, published_before=end)))


def compose_due(store: Store, config: Config, now: datetime, recipients: Sequence[str]) -> Selection | None:
    """Compose the digest due at `now`, unless it was composed already: fix its posts and
    put (period, recipient) rows in the ledger, all in one transaction. None if not due."""
    schedule = Schedule.of(config)
    period = schedule.due_period(now)
    last = last_mailed(store)
    if last is not None and not last[0] < period:
        return None
    posts = select_new(store, config, period)
    keys = [p.key for p in posts]
    due = schedule.due(period)
    with store.transaction():
        store.set_digest(period.label, "mailed", due, len(keys), composed=now, seen_upto=store.last_entry())
        store.add_digest_entries(period.label, keys)
        if keys:  # no posts, no email
            store.add_deliveries(period.label, [(r, message_id(period.label, r, config)) for r in recipients], now)
    return Selection(period, "mailed", due, tuple(posts))


def archive_past_periods(store: Store, config: Config, now: datetime) -> list[str]:
    """Record for the archive, by publication date, every period before the one due at `now`
    that has posts in no digest and no digest of its own; the periods recorded.

    Such a period is over and will never be mailed: only the period due is, by compose_due. Its
    posts stay candidates for a mailed digest (a later one whose window reaches them lists
    them, and they leave this period's page), so nothing here changes what is mailed. A period
    mailed keeps what was mailed; the period due and the periods after it are left alone.
    """
    schedule = Schedule.of(config)
    due = schedule.due_period(now)
    counts: dict[str, int] = {}
    for published in store.unannounced_times(due.bounds(schedule.tz)[0]):
        moment = from_iso(published)
        if moment.year >= 1970:  # (the periods a digest can be of, as --period says)
            label = schedule.period_of(moment).label
            counts[label] = counts.get(label, 0) + 1
    known = {row["period"] for row in store.digests(with_empty=True)}
    new = [label for label in sorted(counts) if label not in known]
    if new:
        with store.transaction():
            for label in new:
                store.set_digest(label, "archived", schedule.due(Period.parse(label)), counts[label])
    return new


def period_to_send(store: Store, config: Config, now: datetime, asked: Period | None) -> Period:
    """The period `digest --send` delivers: the one due now, or one composed for mailing
    (its pending deliveries); PeriodError for any other."""
    due = Schedule.of(config).due_period(now)
    if asked is None or asked == due:
        return due
    row = store.digest(asked.label)
    if row is None or row["kind"] != "mailed":
        raise PeriodError(f"--send delivers the digest due now ({due}); {asked} was never composed "
                          f"for mailing. Render a past {asked.words.unit} without --send.")
    return asked


def message_id(period: str, recipient: str, config: Config) -> str:
    """The same for the same (period, recipient); the address itself is not shown. With the list's
    secret set (`[web] secret_env`), it is keyed by it, so that nobody without it can write the
    Message-ID of someone's digest: `feeds bounces` believes a report only when it names one."""
    text = f"{addresses.list_id(config)}\n{period}\n{recipient.lower()}".encode()
    key = tokens.secret_if_set(config)
    digest = hmac.new(key, text, hashlib.sha256) if key else hashlib.sha256(text)
    return f"<digest.{period}.{digest.hexdigest()[:24]}@{config.site.domain}>"
