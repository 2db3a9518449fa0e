"""Post → the parts of an entry: identity key, slug, HTML body, summary. Pure."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence, Set
from datetime import datetime, tzinfo
from functools import lru_cache
from html import escape

from feeds.models import Block, match_key

SUMMARY_CHARS = 300
SLUG_CHARS = 80
_SLUG_WORD = re.compile(r"[a-z0-9]+")

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'",
                         "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"'})


@lru_cache(maxsize=8192)
def identity(title: str) -> str:
    """The normalised title that identifies a post within its site.

    NFKC, typographic quotes folded to ASCII, whitespace collapsed, case-folded:
    normalising twice changes nothing. (Cached: a pass asks for a title's several times.)
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


def may_be_taken(bases: Sequence[str], stored: Set[str]) -> set[str]:
    """Which of new posts' slug bases unique_slug may have to number, given which are `stored`:
    those stored, those two posts share, and those equal to a numbered slug (base-2, …) of
    one of these. The others are free: each is its post's slug, with no other slug to ask for."""
    counts = Counter(bases)
    out = {b for b, n in counts.items() if n > 1 or b in stored}
    while more := {b for b in counts if b not in out and _numbers(b) in out}:
        out |= more
    return out


def _numbers(slug: str) -> str | None:
    """The base `slug` numbers ('x' for 'x-2'), or None."""
    base, _, n = slug.rpartition("-")
    return base if base and n.isascii() and n.isdigit() else None


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


#: Block elements a body may be cut after (their end tags).
_BLOCK_END = re.compile(r"</(?:p|ul|ol|dl|li|dd|blockquote|pre|table|figure|h[1-6]|div|section|details)>", re.I)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)\b[^>]*?(/?)>")
_VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())


def cut_html(html: str, limit: int) -> str:
    """The opening of a body of HTML, at most about `limit` characters: cut after the last block
    that ends within them (or, in a block longer than that, at the last space), with the
    elements still open there closed. The whole body when it is not longer.

    For HTML as feeds writes it (body_html) or as the sanitiser leaves it (clean_html: every
    element closed, '<' and '>' escaped in text and attribute values): it scans only the
    opening, however long the body."""
    if len(html) <= limit:
        return html
    head = html[:limit]
    ends = [m.end() for m in _BLOCK_END.finditer(head)]
    if ends:
        head = head[:ends[-1]]
    else:  # one block longer than the limit: at a space, not within a tag or an entity
        head = head[:head.rfind("<")] if head.rfind("<") > head.rfind(">") else head
        space = head.rfind(" ")
        head = (head[:space] if space > 0 else head).rstrip() + "…"
    open_tags: list[str] = []
    for m in _TAG.finditer(head):
        closing, name, self_closing = m[1], m[2].lower(), m[3]
        if name in _VOID or self_closing:
            continue
        if not closing:
            open_tags.append(name)
        elif name in open_tags:  # (closes it and anything left open inside it)
            del open_tags[len(open_tags) - 1 - open_tags[::-1].index(name):]
    return head + "".join(f"</{name}>" for name in reversed(open_tags))


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


def month_of(moment: datetime, tz: tzinfo) -> str:
    """YYYY-MM of a time in the site's zone: the archive page it is listed on."""
    local = moment.astimezone(tz)
    return f"{local.year:04d}-{local.month:02d}"
