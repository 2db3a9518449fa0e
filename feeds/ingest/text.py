"""The text reader: a plain-text dump read into blocks, one block per paragraph or bullet
line, and its posts found in them (feeds.ingest.segment).

A paragraph is one line of text. Dumps of the same site separate paragraphs by
blank lines or by single newlines; treating every non-blank line as a block reads
both the same way.
"""

from __future__ import annotations

import codecs
import dataclasses
import logging
import re
from datetime import datetime, time, timedelta
from functools import partial
from pathlib import Path

from feeds.errors import DumpError
from feeds.ingest.encoding import decode_legacy
from feeds.ingest.reader import Found, Settings, Source
from feeds.ingest.repeats import NO_EDGES, edge_key
from feeds.ingest.segment import Segmentation, references, segment
from feeds.models import Block, BlockKind, Dump, Post, match_key
from feeds.xmlchars import strip_xml_forbidden

_BULLET = re.compile(r"^\s*[•\-*]\s+(?=\S)")
# Bytes that almost never occur in text: C0 controls other than tab, LF, FF, CR, ESC.
_BINARY_BYTES = bytes(set(range(32)) - {9, 10, 12, 13, 27})


# What str.splitlines() also takes for a line break, besides LF, CR and CRLF.
_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


# In UTF-8, the C0 controls but tab and newlines, and DEL, are these single bytes; the C1
# controls are \xc2\x80-\xc2\x9f and U+FFFE/U+FFFF \xef\xbf\xbe/\xbf (surrogates do not decode).
_UTF8_C0 = bytes([*range(9), 11, 12, *range(14, 32), 127])


def _utf8_has_forbidden(data: bytes) -> bool:
    """Could UTF-8 bytes hold a character _XML_FORBIDDEN matches? Byte searches: several
    times faster than the regular expression over the decoded text (usually: no)."""
    if len(data.translate(None, _UTF8_C0)) != len(data) or b"\xef\xbf" in data:
        return True  # (\xef\xbf also starts U+FFC0-U+FFFD: those are checked the slow way)
    i = data.find(b"\xc2")
    while i >= 0:  # mostly no-break spaces, \xc2\xa0
        if 0x80 <= data[i + 1] <= 0x9f:  # (valid UTF-8 never ends with \xc2)
            return True
        i = data.find(b"\xc2", i + 2)
    return False


def decode(data: bytes, path: str, *, encoding: str = "", language: str = "en") -> tuple[str, list[str]]:
    """Bytes of a text dump to text without the characters XML forbids; warnings when it
    was not UTF-8 (read as `encoding` if given, else as a guess for text in `language`) or
    held such characters."""
    text, warnings = _decode(data, path, encoding, language)
    if warnings or data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE,
                                    codecs.BOM_UTF16_BE)) or _utf8_has_forbidden(data):
        cleaned = strip_xml_forbidden(text)
        if len(cleaned) != len(text):
            warnings.append(f"{path}: removed {len(text) - len(cleaned)} characters that XML forbids")
        return cleaned, warnings
    return text, warnings  # UTF-8 without any


def decode_utf16_or_32(data: bytes, path: str) -> str | None:
    """The text of bytes that start with a UTF-32 or UTF-16 byte-order mark (the mark
    removed); None when they start with neither. Raises DumpError when they do not decode."""
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                       (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise DumpError(path, f"starts with a {codec} byte-order mark but does not decode: {exc}") from None
    return None


def _decode(data: bytes, path: str, encoding: str, language: str) -> tuple[str, list[str]]:
    """Bytes of a text dump to text; a warning when it was not UTF-8."""
    if not data.strip():
        raise DumpError(path, "the file is empty")
    text = decode_utf16_or_32(data, path)
    if text is not None:
        return text, []
    sample = data[:65536]
    controls = len(sample) - len(sample.translate(None, _BINARY_BYTES))
    if b"\x00" in sample or controls > max(4, len(sample) // 100):
        raise DumpError(path, "looks binary (control bytes), not a text dump")
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        return decode_legacy(data, path, language=language, configured=encoding)


def read_text(path: str | Path, data: bytes | None = None, *, encoding: str = "", language: str = "en") -> Dump:
    """Read one text dump (its bytes, if already read). Raises DumpError when it cannot be used.
    A dump that is not UTF-8 is read as `encoding`, or as the likeliest legacy encoding of
    text in `language`, with a warning."""
    name = str(path)
    if data is None:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise DumpError(name, f"cannot be read: {exc.strerror or exc}") from None
    text, warnings = decode(data, name, encoding=encoding, language=language)
    blocks = parse_blocks(text)
    if not blocks:
        raise DumpError(name, "the file is empty (only whitespace)")
    return Dump(path=name, blocks=tuple(blocks), warnings=tuple(warnings))


def parse_blocks(text: str) -> list[Block]:
    """Text to blocks. Line numbers are 1-based and count every line break style.

    Written as passes over all lines (comprehensions, map) rather than one loop with a
    body per line: a dump has tens of thousands of lines.
    """
    numbers, texts = _lines(text)
    kinds = _unbullet(texts)
    return list(map(partial(tuple.__new__, Block), zip(numbers, texts, kinds, _keys(texts), strict=True)))


def _lines(text: str) -> tuple[list[int], list[str]]:
    """(line number, text) of each line with text; str.strip() also strips U+00A0."""
    if any(c in text for c in _OTHER_BREAKS):
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    else:  # the same lines, faster
        lines = text.splitlines()
    found = [(n, t) for n, t in enumerate(map(str.strip, lines), 1) if t]
    return [n for n, _ in found], [t for _, t in found]


def _unbullet(texts: list[str]) -> list[BlockKind]:
    """Each line's kind; a bullet line's marker taken off its text (in place)."""
    kinds: list[BlockKind] = ["para"] * len(texts)
    for i, t in enumerate(texts):
        if t[0] in "•-*" and (bullet := _BULLET.match(t)):
            texts[i] = t[bullet.end():]
            kinds[i] = "bullet"
    return kinds


def _keys(texts: list[str]) -> list[str]:
    """The matching keys: the text itself unless it has spaces to fold (most lines do not): two
    spaces in a row, or any other space character (isprintable() is False for all but ' ')."""
    return [match_key(t) if ("  " in t or not t.isprintable()) else t for t in texts]


def _page_lines(data: bytes, settings: Settings) -> list[str] | None:
    """Another text dump's lines, as pages are compared (feeds.ingest.repeats): its blocks' keys,
    without making the blocks. None when it cannot be read."""
    try:
        text, _ = decode(data, "", encoding=settings.encoding, language=settings.language)
    except DumpError:
        return None
    _, texts = _lines(text)
    _unbullet(texts)
    keys = _keys(texts)
    return [edge_key(k) for k in keys[:references(keys)]]


def _dated(seg: Segmentation, settings: Settings, source: Source) -> tuple[Post, ...]:
    """The posts, each dated with the day its metadata lines give (a date line, "Posted on
    <date>"), at noon in the site's zone less a minute per place down the page (so the page's
    order stands), never after the dump was written."""
    if not any(seg.dates):
        return seg.posts
    return tuple(p if d is None else dataclasses.replace(
        p, published=min(datetime.combine(d, time(12), tzinfo=settings.tz) - timedelta(minutes=p.position),
                         source.latest))
        for p, d in zip(seg.posts, seg.dates, strict=True))


def read(source: Source, settings: Settings) -> Found:
    """The posts of a text dump (feeds.ingest.reader: a reader)."""
    path, deadline = source.path, source.deadline
    dump = read_text(path, data=source.data, encoding=settings.encoding, language=settings.language)
    deadline.check()
    edges = source.site.edges(partial(_page_lines, settings=settings)) if source.site else NO_EDGES
    seg = segment(path, dump.blocks, settings.marker, settings.chrome, check=deadline.check,
                  markers=settings.markers, edges=edges)
    if not seg.posts:
        raise DumpError(path, "no posts found (no title followed by text, and no "
                              f"'{settings.marker} <title>' lines)")
    posts, most = _dated(seg, settings, source), source.max_posts
    said = []
    if len(posts) > most:
        said.append((logging.WARNING, f"{path}: {len(posts)} posts, more than the {most} a dump may give: the "
                                      f"first {most} are read, the rest left out"))
        posts = posts[:most]
    said += [(logging.WARNING, w) for w in dump.warnings]
    said += [(logging.INFO, f"{path}: {note}") for note in seg.notes]
    if seg.chrome:
        said.append((logging.DEBUG, f"{path}: left out as site chrome: lines "
                                    + ", ".join(str(b.line) for b in seg.chrome)))
    return Found(posts, tuple(said))
