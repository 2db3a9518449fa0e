"""A post's author, as its element shows it: microformats and microdata first (`.p-author`,
`.fn`, `itemprop=author`, which counts even when hidden: it is machine-readable metadata),
then the conventions of themes (`.byline-author`, `.author`, `address.vcard`, a visible
`rel=author` link), then a byline written as text: "By X", "Posted by X", "Submitted by X on
…", "von X", "Tuesday 15 October 2019 by X", "// By X • Nov 11, 2020", "By John Walk -".

The name is the byline's link (or name element) when it has one, else its words up to the
date, a separator ("-", "•", "|", ","), "on"/"am"/"le" or the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bs4 import Tag

from feeds.ingest.html.dates import parse_text_date
from feeds.ingest.html.page import class_words, excluded, inline_hidden, select_in, text_of

#: (selector, may be hidden): machine-readable metadata counts even when CSS hides it; a
#: hidden `rel=author` link names an account, not the writer (Blogger).
_MARKED = ((".byline-author", False), (".p-author .p-name", True), (".p-author", True),
           ("[itemprop=author] [itemprop=name]", True), ("[itemprop=author]", True), (".author .fn", False),
           (".vcard .fn", False), (".fn", False), (".entry-author", False), (".wp-block-post-author__name", False),
           (".wp-block-post-author-name", False), (".author-name", False), (".post-author", False),
           ("a[rel~=author]", False), ("address.vcard", False), (".author", False), (".byline", False),
           ("[class*=author]", False))
#: A name found only by a class word "author" inside a longer class (`li.has-author`) is short.
_LOOSE = "[class*=author]"
_VERB = (r"posted|written|published|submitted|publiziert|geschrieben|verfasst|eingestellt|veröffentlicht|publié|"
         r"écrit|escrito|publicado|scritto|pubblicato|geplaatst|geschreven")
_BY = r"by|von|par|por|da|door|av|af"
#: "By X" at the start of a byline (after punctuation such as "//"), or after a verb or a date.
_BYLINE = re.compile(rf"(?:^|(?<=\s))(?:(?:{_VERB})\s+)?(?:{_BY})\s+(?=\S)", re.I)
_LEADING = re.compile(rf"^[^\w@]*(?:(?:{_VERB})\s+)?(?:{_BY})\s+", re.I)
_NAME_END = re.compile(r"\s+(?:on|am|um|le|el|il|em|op|at|in|the|\d)\b.*$|\s*[,•|·–—:;(\[]\s*.*$|\s+-(?:\s.*)?$|"
                       r"\.\s*$", re.I)
_NOT_A_NAME = re.compile(r"^(view|all|more|see)\b.*\b(posts?|articles?|stories)\b|^(admin(istrator)?'s )?blog$", re.I)
_BY_WORD = re.compile(rf"(?:^|\W)(?:{_BY})(?:\s|$)", re.I)
_NAMED = "a, .fn, .p-name, [itemprop=name], .username, .author, .name, strong, b"


def _name(text: str) -> str | None:
    """The name a byline's text begins with (after "By")."""
    name = _NAME_END.sub("", _LEADING.sub("", text).strip()).strip(" .-")
    words = name.split()
    if not words or len(words) > 6 or len(name) > 60 or _NOT_A_NAME.match(name):
        return None
    return name


_ANY_MARKED = ", ".join(selector for selector, _ in _MARKED)


def _marked(scope: Tag) -> str | None:
    found = list(select_in(scope, _ANY_MARKED))  # (one walk; then each selector in its order)
    for selector, may_hide in _MARKED:
        for tag in found:
            if not tag.css.match(selector) or (not may_hide and inline_hidden(tag)) or tag.find_parent("figure"):
                continue  # (a name in a figure credits the photo or the embed, not the post)
            text = text_of(tag)
            if selector == _LOOSE and (len(text.split()) > 5 or re.search(r"\d", text)
                                       or "author" not in re.split(r"[-_\s]+", class_words(tag).lower())):
                continue
            name = _name(text) if _LEADING.match(text) or len(text.split()) > 6 else text
            if name and len(name) <= 80 and not _NOT_A_NAME.match(name):
                return name
    return None


def _written(line: Tag) -> str | None:
    """The name of a byline written as text in `line` ("By X", "Posted by X on …"), if it is one."""
    text = text_of(line)
    if len(text) > 160:
        return None
    m = _BYLINE.search(text)
    if m is None:
        return None
    before = text[:m.start()].strip(" /|•·-—–")
    if before and not re.fullmatch(rf"(?:{_VERB})", before, re.I) and parse_text_date(before) is None \
            and not re.search(r"\d{4}", before):
        return None  # "Powered by …", "Photo by …": not the post's byline
    for tag in line.select(_NAMED):
        if text.find(text_of(tag)) >= m.end() - 1 and text_of(tag):
            return _name(text_of(tag)) or None
    name = _name(text[m.end():])
    return name if name and not re.match(r"[a-z]", name) else None  # ("By the end of the day, …")


_BLOCKS = {"p", "div", "li", "dd", "td", "address", "footer", "header", "section", "article", "aside", "main",
           "blockquote", "figure", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6", "body"}


def _bylines(scope: Tag) -> Iterator[tuple[Tag, str]]:
    """The lines of `scope` that are bylines written as text, with the name each gives."""
    for string in scope.find_all(string=_BY_WORD):
        block = next((t for t in string.parents if t.name in _BLOCKS or t is scope), None)
        if block is None or block is scope or len(text_of(block)) > 160 or excluded(block, stop=scope):
            continue  # a "by" in the post's prose, not a byline
        name = _written(block)
        if name:
            yield block, name


def byline_lines(scope: Tag) -> list[Tag]:
    """The byline lines of a post element, which are not its text."""
    return [line for line, _ in _bylines(scope)]


def author_of(scope: Tag) -> str | None:
    """The post's author as `scope` (the post's element) shows it."""
    return _marked(scope) or next((name for _, name in _bylines(scope)), None)
