"""What one line of a listing dump is, by its own text: a cut marker, a line of a post's
metadata (a date, a byline, a comment count, a reading time, tags, share buttons, an image
credit), an image placeholder, a title-like heading, or prose.

These are the conventions of blog engines and of the text renderers that dump them (lynx
writes an image as ``[name.png]`` and a list item as ``* item``), in the languages the
defaults of ``[input] markers`` cover. Nothing here knows any particular site.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from feeds.ingest.html.dates import parse_text_date
from feeds.ingest.segment import ends_sentence, heading_like
from feeds.models import Block

_ARROWS = "→»›>"
_ELLIPSES = ("…", "...", "[…]", "[...]")

_MONTHS = (
    "jan(?:uary|uar|vier)?|feb(?:ruary|ruar)?|févr(?:ier)?|mar(?:ch)?|märz|mars|apr(?:il)?|avr(?:il)?|may|mai"
    "|jun(?:e|i)?|juin|jul(?:y|i)?|juil(?:let)?|aug(?:ust)?|août|sep(?:t|tember)?|oct(?:ober)?|okt(?:ober)?"
    "|nov(?:ember)?|dec(?:ember)?|dez(?:ember)?|déc(?:embre)?|enero|febrero|marzo|abril|mayo|junio|julio|agosto"
    "|septiembre|octubre|noviembre|diciembre|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre"
    "|dicembre")
#: Russian month names, in a pattern of their own: searched only in lines that are not ASCII.
_MONTHS_RU = ("январ[яь]|феврал[яь]|марта?|апрел[яь]|ма[яй]|июн[яь]|июл[яь]|августа?|сентябр[яь]|октябр[яь]"
              "|ноябр[яь]|декабр[яь]")
_DATE = re.compile(
    r"\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
    rf"|\b(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\.?\s+(?:de\s+)?(?:{_MONTHS})\.?,?\s+(?:de\s+)?\d{{4}}\b"
    r"|\b(?:today|yesterday|heute|gestern|aujourd'hui|hier|hoy|ayer|oggi|ieri)\b,?\s*\d{1,2}[:.]\d{2}"
    r"|\b\d+\s+(?:minutes?|hours?|days?|weeks?|months?)\s+ago\b|\bvor\s+\d+\s+(?:Minuten|Stunden|Tagen|Wochen)\b",
    re.IGNORECASE)
_BYLINE = re.compile(
    r"^(?:by|posted by|written by|submitted by|updated by|published by|posted on|published on|published|"
    r"von|verfasst von|par|publié par|por|publicado por|di|scritto da|door|av|автор:?)\s+\S", re.IGNORECASE)
_COUNT = re.compile(
    r"^(?:\d+|no|one)(?:\s+(?:comments?|responses?|replies|kommentare?|commentaires?|comentarios?|commenti|"
    r"reactions?|komentarze|комментари[йяев]))?$", re.IGNORECASE)
_READING = re.compile(r"^\d+\s*(?:min(?:ute)?s?\.?)\s*(?:read|lesezeit|de lecture|de lectura|di lettura)\b",
                      re.IGNORECASE)
_TAGS_WORDS = ("tags?", "labels?", "categories", "category", "filed under", "posted in", "topics?",
               "schlagw(?:ö|oe)rter", "schlagworte", "kategorien?", "themen", "étiquettes", "catégories?", "etiquetas",
               "categorías?", "categorie", "метки", "теги", "рубрики?")
_TAGS = re.compile(rf"^(?:{'|'.join(_TAGS_WORDS)})\s*:", re.IGNORECASE)
#: A line of tags with no colon ("Posted in Vegetables", WordPress's category line).
_TAGS_WORDED_WORDS = ("posted in", "filed under", "tagged(?: with)?", "publié dans", "classé dans", "publicado en",
                      "archiviato in", "veröffentlicht in")
_TAGS_WORDED = re.compile(rf"^(?:{'|'.join(_TAGS_WORDED_WORDS)})\s+(?=\S)", re.IGNORECASE)
#: A comment link with no count in it ("Leave a comment").
_COMMENT_LINK = re.compile(r"^(?:leave a (?:comment|reply)|comments? (?:are )?(?:off|closed)|kommentar schreiben|"
                           r"laisser un commentaire|deja un comentario|lascia un commento)$", re.IGNORECASE)
#: A comment count closing a byline, as Blogger ends it ("Posted by X at 4:12 PM No comments:").
_COUNT_END = re.compile(r"\s+(?:no|\d+)\s+(?:comments?|kommentare?|commentaires?|comentarios?|commenti):$",
                        re.IGNORECASE)
_COUNTS = re.compile(rf"(?:{_COUNT.pattern})|(?:{_COMMENT_LINK.pattern})", re.IGNORECASE)  # (one call)


def _initials(words: Sequence[str]) -> frozenset[str]:
    """The letters (either case) the words start with: a cheap test before the regular expression."""
    return frozenset(c for w in words for c in (w[0].lower(), w[0].upper()))


#: The letters a line of _TAGS or _TAGS_WORDED starts with (most lines are not tags).
_TAGS_FIRST, _TAGS_WORDED_FIRST = _initials(_TAGS_WORDS), _initials(_TAGS_WORDED_WORDS)
_SHARE = re.compile(r"^(?:share(?: on| this)?|teilen|partager|compartir|condividi|tweet)\b", re.IGNORECASE)
_CREDIT = re.compile(r"^(?:©|\(c\)\s|photo:|foto:|image:|bild:|credit:|crédit|fotograf)", re.IGNORECASE)
_DATE_RU = re.compile(rf"\b\d{{1,2}}\s+(?:{_MONTHS_RU})\s+\d{{4}}\b", re.IGNORECASE)
#: A day and month with no year, alone on a line (Medium's "Mar 3", "3 mars").
_DAY_ALONE = re.compile(rf"(?:(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}\.?\s+(?:de\s+)?(?:{_MONTHS})\.?)",
                        re.IGNORECASE)
_IMAGES = re.compile(r"^(?:\[[^\[\]]*\]\s*)+")
_DIGIT = re.compile(r"\d")
_ALNUM = re.compile(r"[^\W_]")
_SENTENCE_INSIDE = re.compile(r"[.!?]\s+\S")
_SENTENCE_END_INSIDE = re.compile(r"[^\W\d_]{2}[.!?]\s+[^\W\d_][^\W\d_A-Z]")  # "... word. Next", not "Mrd. EUR"

#: A metadata line other than a list of tags is at most this long.
MAX_META_CHARS = 160
#: A line longer than this is no title, marker line or image (heading_like: 160).
MAX_TITLE_CHARS = 200
#: A line of at most this many words and an arrow ("Read →", "More »") is a more-link.
MORE_LINK_WORDS = 2
#: A line ending with a marker phrase is a paragraph, not a title, with this many spaces or more.
PARAGRAPH_SPACES = 10
#: Line classes (JUNK: no letter or digit at all, such as a lone "*" or a rule of "____").
MARKER, META, IMAGE, TITLE, BULLET, PROSE, JUNK = "K", "M", "I", "T", "L", "P", "X"
#: Kinds of metadata a line may be: what it says about its post.
STRONG_META = frozenset({"byline", "count", "tags", "share", "reading"})


def meta_kind(text: str) -> str | None:
    """The kind of post metadata a line is ('date', 'byline', 'count', 'reading', 'tags',
    'share', 'credit'), or None when it is not one."""
    if text[0] in _TAGS_FIRST and _TAGS.match(text):
        return "tags"
    if len(text) > MAX_META_CHARS:
        return None  # (the cheap test first: most lines of a dump are paragraphs)
    bare = _IMAGES.sub("", text).strip() if text[0] == "[" else text  # "[photo.png] Posted by X"
    if not bare:
        return None
    words = bare.count(" ") + 1
    if _TAGS.match(bare):
        return "tags"
    if words > 14:
        return None
    if _CREDIT.match(bare) or (" © " in f" {bare} " and words <= 12 and not _SENTENCE_INSIDE.search(bare)):
        return "credit"
    if _COUNTS.match(bare):
        return "count"
    if bare[0] in _TAGS_WORDED_FIRST and _TAGS_WORDED.match(bare) and words <= 12:
        return "tags"
    if _READING.match(bare):
        return "reading"
    if _SHARE.match(bare) and words <= 8:
        return "share"
    if bare[-1] == ":" and _BYLINE.match(bare) and (m := _COUNT_END.search(bare)):
        bare = bare[:m.start()]  # "Posted by X at 4:12 PM No comments:": a byline and a count
    if bare[-1] in ".!?:;" and not bare.endswith(("a.m.", "p.m.")):
        return None  # a sentence
    if _BYLINE.match(bare) and words <= 12:
        return "byline"
    if _SEPARATOR_CHAR.search(bare) and (kind := _joined_kind(bare)) is not None:
        return kind
    if words <= 12 and _DIGIT.search(bare) and (_DATE.search(bare) or _DAY_ALONE.fullmatch(bare) or (
            not bare.isascii() and _DATE_RU.search(bare))):
        return "date"
    return None


#: What the parts of a line of metadata joined by separators say, strongest first.
_JOINED_ORDER = ("byline", "reading", "count", "date", "credit", "share")
_SEPARATOR = re.compile(r"\s+[·•|—–]\s+")
_SEPARATOR_CHAR = re.compile(r"[·•|—–]")  # (the cheap test first)


def _joined_kind(text: str) -> str | None:
    """The kind of a line of metadata pieces joined by separators, as Ghost, Medium and Substack
    write them ("Mara Lind · Apr 4, 2024 · 6 min read"): each piece metadata or a name (a few
    words with no digit), at least one of them metadata; a name with a date makes a byline."""
    parts = _SEPARATOR.split(text)
    if len(parts) < 2:
        return None  # a separator sign with no space around it ("a·b", "2020–2024") joins nothing
    kinds = [meta_kind(p) for p in parts]
    names = [p for p, k in zip(parts, kinds, strict=True) if k is None]
    if all(k is None for k in kinds) or any(not name_like(p) for p in names):
        return None
    if len(names) == 1:
        return "byline"
    return next(k for k in _JOINED_ORDER if k in kinds)


def name_like(text: str) -> bool:
    """A person's name as a byline piece shows it: two to four words, none with a digit, each
    capitalised (or the whole piece in capitals)."""
    words = text.split()
    return 2 <= len(words) <= 4 and not _DIGIT.search(text) and all(w[0].isupper() for w in words)


_ITEM_SEPARATORS = " \t·•|—–-:,"


def dated_item_title(text: str) -> str | None:
    """The title of a list item that starts with its date, as archive lists write them
    ("Mar 2, 2024 Sorting strings in Go", "2024-03-02 — Vim macros"), or None: the rest must
    look like a title (a word, no sentence, no other date)."""
    m = _DATE.match(text)
    if not m:
        return None
    rest = text[m.end():].lstrip(_ITEM_SEPARATORS)
    if not rest or not _ALNUM.match(rest[0]) or _DATE.search(rest) or ends_sentence(rest) \
            or len(rest) > MAX_TITLE_CHARS or _BYLINE.match(rest) or meta_kind(rest) is not None:
        return None
    return rest


def is_image(text: str) -> bool:
    """A line of image placeholders only ("[chart.png]")."""
    return bool(_IMAGES.fullmatch(text.strip()))


def cut_title(text: str) -> bool:
    """A title the listing cut short: a short line ending in an ellipsis, with no sentence inside."""
    if not text.endswith(("...", "…")) or len(text) > 160:
        return False
    body = text.rstrip(".… ")
    return bool(body) and not _SENTENCE_END_INSIDE.search(body) and (body[0].isalnum() or body[0] in "\"“‘«")


def title_like(block: Block) -> bool:
    """A line that could be a post's title in a listing: a heading, or a title cut with '...'."""
    return heading_like(block) or (block.kind == "para" and cut_title(block.key))


def ends_with_ellipsis(text: str) -> bool:
    return text.rstrip(" " + _ARROWS).endswith(_ELLIPSES)


class Markers:
    """The phrases that cut a post short (input.marker and input.markers)."""

    def __init__(self, phrases: Sequence[str]):
        seen: dict[str, str] = {}
        for p in phrases:
            p = " ".join(p.split())
            if p and p.casefold() not in seen:
                seen[p.casefold()] = p
        self.phrases = tuple(seen.values())
        # Word phrases cut a post where they end a paragraph line; an ellipsis alone only says
        # that the paragraph is cut (a paragraph inside a whole post may end with one too).
        self._words = tuple(p.casefold() for p in self.phrases if any(c.isalnum() for c in p))
        self._first = {c for p in self._words for c in (p[0], p[0].upper())} | {e[0] for e in _ELLIPSES}
        self._last = {p[-1] for p in self._words} | {p[-1].upper() for p in self._words}

    def line_title(self, text: str) -> str | None:
        """The title a marker line names ('' when it names none), or None when the line does
        not start with a marker ("Read more", "Read more →", "Read more about <title>")."""
        if text[0] not in self._first:
            return None  # (the cheap test first: most lines do not start like a marker)
        folded = text.casefold()
        if folded in _ELLIPSES:
            return ""  # a line "[…]" alone
        for p in self._words:
            if folded == p:
                return ""
            if folded.startswith(p + " "):
                return text[len(p) + 1:].strip().rstrip(_ARROWS + " ").strip()
        return None

    def ends_paragraph(self, text: str) -> bool:
        """Does a paragraph line end with a marker phrase ("… Read more →", "... weiter...")?"""
        end = text.rstrip(" " + _ARROWS)
        if not end or end[-1] not in self._last:
            return False  # (the cheap test first)
        folded = end.casefold()
        return any(folded.endswith(p) and len(folded) > len(p) + 20 and folded[-len(p) - 1] in " .…]"
                   for p in self._words)


_PROSE = (PROSE, None)
_TAGS_LINE = (META, "tags")


def classify(blocks: Sequence[Block], markers: Markers) -> list[tuple[str, str | None]]:
    """Each block's class (MARKER, META, IMAGE, TITLE, BULLET, PROSE, JUNK) and meta kind."""
    out: list[tuple[str, str | None]] = []
    add = out.append
    for b in blocks:
        text = b.key
        if len(text) > MAX_TITLE_CHARS:  # a paragraph, or a long list of tags (the cheap test first)
            add(_TAGS_LINE if text[0] in _TAGS_FIRST and _TAGS.match(text) else (BULLET, None) if b.kind == "bullet"
                else _PROSE)
        elif (markers.line_title(text) is not None and (b.kind == "para" or text not in _ELLIPSES)) or (
                text[-1] in _ARROWS and text.count(" ") <= MORE_LINK_WORDS and b.kind == "para"):
            add((MARKER, None))  # (a few words and an arrow, "Read →", "More »": a more-link)
        elif not (text[0].isalnum() or _ALNUM.search(text)):
            add((JUNK, None))
        elif (kind := meta_kind(text)) is not None:
            add((META, kind))
        elif is_image(text):
            add((IMAGE, None))
        elif b.kind == "bullet":
            add((BULLET, None))
        elif title_like(b) and not (text.count(" ") >= PARAGRAPH_SPACES and markers.ends_paragraph(text)):
            add((TITLE, None))  # (a paragraph ending with its more-link ends with no full stop)
        else:
            add(_PROSE)
    return out


def short(text: str, words: int = 6) -> bool:
    return text.count(" ") < words and not ends_sentence(text)


_BY_AFTER = re.compile(r"\s(?:by|von|par|por|di)\s+\S", re.IGNORECASE)
_BYLINE_CUT = re.compile(r"\s+(?:on|am|le|el|il|op|at)\s+|\s*[,•|·–—]\s*|\s*\(")


def author_of(text: str) -> str | None:
    """The author a byline names ("By Graham Cluley", "Posted by X, Team", "Submitted by X on
    <date>"), or None when the line names none."""
    bare = _IMAGES.sub("", text).strip()
    m = _BYLINE.match(bare)
    if not m and _SEPARATOR.search(bare) and _joined_kind(bare) == "byline":
        return next(p for p in _SEPARATOR.split(bare) if meta_kind(p) is None)  # "Name · date · 5 min read"
    if m and bare.lower().startswith(("posted on", "published on")):  # "Posted on <date> by Ruth"
        m = _BY_AFTER.search(bare, m.end())
    if not m:
        return None
    rest = bare[m.end() - 1:]
    date = _DATE.search(rest)
    if date:
        rest = rest[:date.start()]
    name = _BYLINE_CUT.split(rest, maxsplit=1)[0].strip()
    return name or None


def categories_of(text: str) -> tuple[str, ...]:
    """The tags or categories a line lists ("Tags: a, b", "Labels: a , b", "Posted in a, b |
    Leave a comment"), or none when it is no line of tags."""
    m = _TAGS.match(text) or _TAGS_WORDED.match(text)
    if not m:
        return ()
    rest = _SEPARATOR.split(text[m.end():], maxsplit=1)[0]
    return tuple(t for t in (" ".join(p.split()) for p in re.split(r"[,;]", rest)) if t)


_DOTTED = re.compile(r"\b(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})\b")


def date_of(text: str) -> date | None:
    """The calendar date a metadata line gives ("August 21, 2019", "2020-12-14", "05.12.2022")."""
    found = parse_text_date(text)
    if found is None and (m := _DOTTED.search(text)):
        try:
            found = date(int(m[3]), int(m[2]), int(m[1]))
        except ValueError:
            return None
    return found
