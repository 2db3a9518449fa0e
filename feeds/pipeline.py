"""One pass: read new or changed dumps → find posts → date them → store → publish.

``run_once(config, store, now)`` names the stages; each stage is a function below.
The clock comes in as ``now``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from feeds import decide, ingest, mail
from feeds.config import Config
from feeds.dating.pages import dates_for
from feeds.digest import stage as digest_room
from feeds.digest.render import Renderer
from feeds.ingest.files import Progress, discover, read_changed
from feeds.models import Limits, ParsedDump
from feeds.publish.files import WriteFile, output_error, sweep_temporary_files, write_if_changed
from feeds.publish.render import Publisher
from feeds.publish.stage import fingerprint, publish
from feeds.publish.templates import Templates
from feeds.report import Report
from feeds.stamps import code_digest
from feeds.store import Store, iso

log = logging.getLogger(__name__)


#: Dumps are stored in batches of about this many bytes, one transaction each, and only one
#: batch is held in memory (a batch is dated with the stored pages it shares posts with).
BATCH_BYTES = 16 * 1024 * 1024
#: How much of the stored history a batch is dated with (run_once's default).
LIMITS = Limits()

# -- stage 2 and 3: date and store ----------------------------------------------------------

def store_batch(batch: Sequence[ParsedDump], store: Store, config: Config, now: datetime, report: Report,
                limits: Limits) -> None:
    """Date and store a batch (inside its transaction): read what the rules need of the store,
    date the batch with the stored pages linked to it, decide what changes, and write that."""
    batch = store.identify(batch)  # (each post's entry: feeds.identity)
    bases = decide.slug_bases(batch)
    snapshot = store.snapshot_for({d.path: d.keys for d in batch}, bases, now, limits)
    dates = dates_for(batch, snapshot, config.site.tz)
    intents = decide.intents(batch, snapshot, dates, now, tz=config.site.tz, domain=config.site.domain)
    store.apply(intents, now)
    report.new += intents.new
    report.updated += intents.updated


def store_all(dumps: Iterable[ParsedDump], store: Store, config: Config, now: datetime, report: Report, *,
              should_stop: Callable[[], bool], batch_bytes: int, limits: Limits) -> float:
    """Date and store the dumps in batches of about `batch_bytes`, each in one transaction: a
    batch is dated as a whole, so a pass killed half-way through one leaves none of it, and the
    next pass reads it again. Asked to stop (between dumps), it drops the batch read so far
    and sets report.stopped. The seconds spent dating and storing."""
    batch: list[ParsedDump] = []
    size = 0
    storing = 0.0
    for parsed in dumps:
        if should_stop():
            report.stopped = True
            log.info("stopping as asked: the dumps not yet stored are left for the next pass")
            return storing
        batch.append(parsed)
        size += parsed.record.size
        if size >= batch_bytes:
            storing += _store_timed(batch, store, config, now, report, limits)
            batch, size = [], 0
    if batch:
        storing += _store_timed(batch, store, config, now, report, limits)
    return storing


def _store_timed(batch: Sequence[ParsedDump], store: Store, config: Config, now: datetime, report: Report,
                 limits: Limits) -> float:
    """store_batch in its own transaction; the seconds it took."""
    t = time.perf_counter()
    with store.transaction():
        store_batch(batch, store, config, now, report, limits)
    return time.perf_counter() - t


# -- fingerprints --------------------------------------------------------------------------

#: The modules whose code decides which posts a dump holds, their text and their dates: when
#: any of them changes (an upgrade), the next pass reads every stored dump again.
READING_CODE = ("feeds.ingest", "feeds.dating", "feeds.decide", "feeds.pipeline", "feeds.normalise",
                "feeds.models", "feeds.uri", "feeds.identity")


def parse_fingerprint(config: Config) -> str:
    """What reading a dump depends on besides its bytes: the readers' code and their settings."""
    settings = (config.input.marker, config.input.markers, config.input.chrome, config.input.encoding, config.site.url,
                config.site.timezone, config.site.language)
    return hashlib.sha256(f"{code_digest(READING_CODE)}\n{settings!r}".encode()).hexdigest()


# -- stage 4: publish (feeds.publish) ---------------------------------------------------------

def publish_stage(store: Store, config: Config, report: Report, *, templates: Templates, rebuild: bool,
                  write: WriteFile) -> bool:
    """Publish what the stored entries changed; False when out/ could not be written (said in the
    report: what was stored stays pending, for the next pass)."""
    try:
        report.files_written = publish(store, config, templates=templates, rebuild=rebuild, problems=report.problems,
                                       write=write,
                                       invalidates=(digest_room.ARCHIVED_PERIODS,))  # (entries changed: look again)
    except OSError as exc:
        if not _output_failed(exc, config, report):
            raise
        report.entries_total = store.count()
        return False
    report.entries_total = store.count()
    return True


# -- stage 5: the digest ------------------------------------------------------------------

def digest_stage(store: Store, config: Config, now: datetime, clock: mail.Clock, report: Report, *,
                 changed: bool, templates: Templates, should_stop: Callable[[], bool] = lambda: False,
                 write: WriteFile = write_if_changed) -> None:
    """The digest room's stage (feeds.digest.stage.run), its outcome added to the pass's report."""
    outcome = digest_room.run(store, config, now, clock, stamp=fingerprint(config, templates.hash), changed=changed,
                              templates=templates, should_stop=should_stop, write=write)
    report.problems += outcome.problems
    report.named += outcome.named
    report.files_written += outcome.files_written
    report.stopped = report.stopped or outcome.stopped
    report.digest = outcome.summary


# -- the pass -----------------------------------------------------------------------------

def check_templates(config: Config) -> Templates:
    """Load every template a pass uses, or raise ConfigError naming the one that is missing or
    broken; the pass's templates, to be passed down (loaded once, their hash made once)."""
    templates = Templates(config)
    Publisher(config, templates)
    Renderer(config, templates)
    return templates


def run_once(config: Config, store: Store, now: datetime, *, rebuild: bool = False,
             progress: Progress | None = None, clock: mail.Clock | None = None,
             should_stop: Callable[[], bool] = lambda: False, batch_bytes: int = BATCH_BYTES,
             readers: ingest.Readers = ingest.READERS, limits: Limits = LIMITS,
             templates: Templates | None = None, write: WriteFile = write_if_changed) -> Report:
    """One full pass. `now` is the pass's clock (aware); `clock` times the ledger (default: now).
    `batch_bytes`: dumps are stored in batches of about this many bytes; `limits`: how much of
    the stored history a batch is dated with.

    `should_stop` is asked between dumps, after publishing and between emails: when it says
    yes, the pass stops at that safe point, leaving what it read but did not store (what
    it stored but did not publish, the digest, the emails not sent) to the next pass.
    `readers` reads the dumps (feeds.ingest.READERS: by file-name suffix).
    `templates`: the pass's, from check_templates (loaded here when not given); `write` writes
    every file under out/ (write_if_changed).
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    templates = templates or check_templates(config)
    _begin(store, config, now)
    report = Report(look=Report.where(config))
    started = time.perf_counter()
    storing = store_all(read_changed(discover(config.input.paths, report, follow_links=config.input.follow_links),
                                     store, config, now, report, progress,
                                     fingerprint=parse_fingerprint(config), readers=readers),
                        store, config, now, report, should_stop=should_stop, batch_bytes=batch_bytes, limits=limits)
    if report.stopped:  # the batch read so far is dropped: the next pass reads it again
        return _finish(store, now, report)
    ingested = time.perf_counter()
    if not publish_stage(store, config, report, templates=templates, rebuild=rebuild, write=write):
        return _finish(store, now, report)  # (the digest links pages that may not be there: the next pass)
    published = time.perf_counter()
    if should_stop():  # asked while publishing: the digest (composing, mailing) waits for the next pass
        report.stopped = True
        log.info("stopping as asked: the digest is left for the next pass")
        return _finish(store, now, report)
    try:
        digest_stage(store, config, now, clock or (lambda: now), report,
                     changed=bool(report.files_written) or rebuild, should_stop=should_stop,
                     templates=templates, write=write)
    except OSError as exc:  # the digests' archive (or the outbox) cannot be written: the next pass
        if not _output_failed(exc, config, report):
            raise
    log.info("timings: read and segment %.2f s, date and store %.2f s, publish %.2f s (%d files), digest %.2f s",
             ingested - started - storing, storing, published - ingested, len(report.files_written),
             time.perf_counter() - published)
    return _finish(store, now, report)


def _begin(store: Store, config: Config, now: datetime) -> None:
    """Mark the pass as started; if the last one did not end, remove the temporary files it may have left."""
    if store.meta("pass_started"):
        removed = sweep_temporary_files(config.output.dir, config.outbox)
        log.info("the last pass did not finish; removed %d temporary file(s) it left", removed)
    store.set_meta("pass_started", iso(now))


def _output_failed(exc: OSError, config: Config, report: Report) -> bool:
    """An error writing a file under out/ (or the outbox), reported as one line naming the file
    and the error (exit status 1): True. False for any other error, which is not reported here."""
    problem = output_error(exc, (config.output.dir, config.outbox))
    if problem is None:
        return False
    report.problems.append(problem)
    log.info("the error writing %s:", exc.filename, exc_info=exc)
    return True


def _finish(store: Store, now: datetime, report: Report) -> Report:
    """Record the pass for `status`; it ended (no temporary files to look for next time)."""
    with store.transaction():
        store.set_meta("last_pass", json.dumps({"time": iso(now), "summary": report.summary(),
                                                "skipped": report.skipped, "failed": report.failed,
                                                "problems": report.problems}))
        store.delete_meta("pass_started")
    return report
