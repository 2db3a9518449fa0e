"""Post → the parts of an entry: identity key, slug, HTML body, summary. Pure."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape

from feeds.models import Block, match_key

SUMMARY_CHARS = 300
SLUG_CHARS = 80
_SLUG_WORD = re.compile(r"[a-z0-9]+")

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'",
                         "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"'})


def identity(title: str) -> str:
    """The normalised title that identifies a post within its site.

    NFKC, typographic quotes folded to ASCII, whitespace collapsed, case-folded:
    normalising twice changes nothing.
    """
    text = unicodedata.normalize("NFKC", title).translate(_QUOTES)
    return " ".join(text.split()).casefold()


def slugify(title: str, key: str | None = None) -> str:
    """An ASCII slug: letters and digits joined by hyphens, cut at a word boundary.

    `key`, when given, is identity(title), already computed.
    """
    key = identity(title) if key is None else key
    # NFKD splits accents off their letters; encoding to ASCII then drops them (é -> e)
    text = key if key.isascii() else unicodedata.normalize("NFKD", key).encode("ascii", "ignore").decode()
    words: list[str] = []
    length = 0  # of the words joined by hyphens
    for w in _SLUG_WORD.findall(text.replace("'", "")):
        if length + len(w) + 1 > SLUG_CHARS:
            break
        length += len(w) + (1 if words else 0)
        words.append(w)
    slug = "-".join(words)
    if not slug:  # a title with no ASCII letters at all: a stable hash instead
        slug = "post-" + hashlib.sha1(key.encode()).hexdigest()[:10]
    if slug in WINDOWS_RESERVED:  # posts/con.html, categories/aux/: files Windows cannot hold
        slug += "-1"
    return slug


#: Names Windows reserves for devices, in any case and with any extension (`con.html` too):
#: a slug that is one of them is given "-1" (which unique_slug's numbering never gives), so
#: that out/ can be copied to, served from or synced with a Windows machine.
WINDOWS_RESERVED = frozenset(["con", "prn", "aux", "nul", *(f"{d}{n}" for d in ("com", "lpt") for n in range(10))])


def unique_slug(base: str, taken: set[str]) -> str:
    """`base` (a slug), or `base-2`, `base-3`, … whichever is not taken."""
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def mint_id(domain: str, first_seen: datetime, slug: str) -> str:
    """A tag URI (RFC 4151), minted once when a post is first seen."""
    return f"tag:{domain},{first_seen.date().isoformat()}:{slug}"


BULLET = "• "


def body_text(blocks: Sequence[Block]) -> str:
    """The body as plain text: paragraphs separated by blank lines, bullets after "• ".

    Lossless: blocks_from_text() gives the blocks back (a paragraph never starts with
    "• ", which the reader takes for a bullet, and no block holds a line break).
    """
    return "\n\n".join((BULLET + b.text) if b.kind == "bullet" else b.text for b in blocks)


def blocks_from_text(text: str) -> list[Block]:
    """The blocks body_text() was made from (line numbers are not kept)."""
    return [Block(0, part[len(BULLET):], "bullet") if part.startswith(BULLET) else Block(0, part)
            for part in text.split("\n\n") if part]


def body_html(blocks: Sequence[Block]) -> str:
    """Paragraphs as <p>, runs of bullets as <ul><li>; the text escaped exactly once."""
    out: list[str] = []
    in_list = False
    for b in blocks:
        if b.kind == "bullet":
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{escape(b.text, quote=False)}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        out.append(f"<p>{escape(b.text, quote=False)}</p>")
    if in_list:
        out.append("</ul>")
    return "\n".join(out)


def continue_link(html: str, title: str, link: str, marker: str) -> str:
    """A cut post's body ends with a link to the page that holds it."""
    return f'{html}\n<p><a href="{escape(link)}">{escape(marker)} {escape(title, quote=False)}</a></p>'


def summarise(paragraphs: Iterable[str], limit: int = SUMMARY_CHARS) -> str:
    """The opening text cut at a word boundary near `limit` characters, with an ellipsis."""
    parts: list[str] = []
    length = 0
    for p in paragraphs:  # only as many paragraphs as the summary needs
        parts.append(match_key(p))
        length += len(parts[-1]) + 1
        if length > limit + 1:
            break
    text = " ".join(parts)
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space > limit // 2 else text[:limit]
    return cut.rstrip(" ,;:–—-") + "…"
