"""What a pass did: the summary line a person reads and what the exit status is made from."""

from __future__ import annotations

import dataclasses
import shlex

from feeds.config import DEFAULT_FILE, Config


@dataclasses.dataclass
class Report:
    """What a pass did, for the summary line and the exit status."""

    dumps_read: int = 0
    dumps_unchanged: int = 0
    skipped: list[str] = dataclasses.field(default_factory=list)  # "path: reason"
    failed: list[str] = dataclasses.field(default_factory=list)  # "path: reason": dumps a bug kept out (quarantined)
    posts_found: int = 0
    new: int = 0
    updated: int = 0
    files_written: list[str] = dataclasses.field(default_factory=list)
    entries_total: int = 0
    waiting: int = 0  # dumps that changed while being read, left for the next pass
    stopped: bool = False  # asked to stop (SIGTERM, Ctrl-C): what was read but not stored is read again next time
    digest: str = ""  # what the digest stage did, if anything
    problems: list[str] = dataclasses.field(default_factory=list)  # deliveries that did not go through
    named: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # failed/unknown deliveries among
    # the problems: once said, Store.set_named(named), so that the next pass does not say them again
    look: str = ""  # where to look at what a pass wrote: said when it wrote files

    @staticmethod
    def where(config: Config) -> str:
        """The output's index page, and the command that serves it (with the config's file, if named)."""
        named = "" if config.source in ("defaults", DEFAULT_FILE) else f" -c {shlex.quote(config.source)}"
        return f"{config.output.dir / 'index.html'} (or: python -m feeds{named} serve)"

    @property
    def nothing_new(self) -> bool:
        return not (self.new or self.updated or self.files_written)

    def summary(self) -> str:
        if self.stopped:
            digest = f"; {self.digest}" if self.digest else ""
            return (f"stopped at a safe point as asked: {self.dumps_read} dump(s) read{digest}; what was not "
                    "stored, published or mailed is left for the next pass")
        skipped = f", {len(self.skipped)} skipped" if self.skipped else ""
        skipped += f", {len(self.failed)} quarantined" if self.failed else ""
        skipped += f", {self.waiting} still being written" if self.waiting else ""
        head = (f"{self.dumps_read} dump(s) read, {self.dumps_unchanged} unchanged{skipped}; "
                f"{self.posts_found} post(s) found")
        digest = f"; {self.digest}" if self.digest else ""
        if self.nothing_new:
            return f"{head}; nothing new ({self.entries_total} entries stored){digest}"
        look = f"; see {self.look}" if self.look and self.files_written else ""
        return (f"{head}; {self.new} new, {self.updated} updated entries "
                f"({self.entries_total} stored); {len(self.files_written)} file(s) written{digest}{look}")
