"""A saved page parsed with beautifulsoup4, and the walks over it the HTML reader makes.

The parser is Python's `html.parser`: `lxml` nests sibling posts under unclosed tags.
What is nested more than MAX_DEPTH elements deep is left out as the page is parsed (with a
warning): every walk over the tree (up to an element's ancestors, down to its strings) is
then bounded, and reading costs time in proportion to the page. A page parsed with a
deadline (feeds.ingest.budget) keeps to it: the parser checks it at every tag and text, and every
walk down the page or a post's copy (select, find_all, text_of, block_texts) as it goes.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup, Comment, MarkupResemblesLocatorWarning, NavigableString, PageElement, Tag

from feeds.ingest.budget import Deadline
from feeds.ingest.encoding import decode_legacy, page_language
from feeds.ingest.text import decode_utf16_or_32, strip_xml_forbidden
from feeds.uri import uri

PARSER = "html.parser"
#: Elements nested deeper than this are left out, with their text (browsers cap nesting too,
#: at a few hundred; themes nest a few dozen deep).
MAX_DEPTH = 256


#: Class or id words of things that are not posts, nor part of one: comments, widgets, chrome.
_NOT_POST_WORDS = {"respond", "related", "sidebar", "widget-area", "secondary", "navigation", "nav-links",
                   "post-navigation", "breadcrumb", "breadcrumbs", "sharing", "share", "social", "likes",
                   "author-info", "author-bio", "wpadminbar", "site-header", "site-footer", "masthead",
                   "colophon", "nav-previous", "nav-next", "post-edit-link", "edit-link"}
_NOT_POST_PARTS = ("comment", "sharedaddy", "relatedposts", "related-posts", "addtoany", "share-", "sharing-",
                   "social-", "jetpack-likes", "like-post", "sidebar")


_BLOCK = {"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
          "pre", "table", "thead", "tbody", "tr", "td", "th", "figure", "figcaption", "section", "article",
          "header", "footer", "aside", "nav", "br", "hr", "address", "main", "details", "summary", "form",
          "fieldset", "caption"}


NEVER = Deadline.never()


def deadline_of(node: Tag) -> Deadline:
    """The deadline of the page `node` was parsed from (`Soup`), if it has one."""
    return node.deadline if isinstance(node, (_Timed, Soup)) else NEVER


def text_of(el: Tag | NavigableString | None) -> str:
    """Visible text, whitespace (U+00A0 too) collapsed to single spaces; screen-reader labels left out.

    Nothing is shown when `el`, or an element above its parent, is a script, a style or a
    screen-reader label; below `el`, such elements are passed over. One walk down, in time
    linear in `el`'s size (not its strings times their depth)."""
    if el is None:
        return ""
    if isinstance(el, NavigableString):
        return " ".join(str(el).split())
    if _invisible(el) or (el.parent is not None and any(isinstance(p, Tag) and _invisible(p)
                                                        for p in el.parent.parents)):
        return ""
    parts = []
    stack = [iter(el.contents)]
    deadline = deadline_of(el)
    while stack:
        for child in stack[-1]:
            if isinstance(child, Tag):
                if not _invisible(child):
                    deadline.check()
                    stack.append(iter(child.contents))
                    break
            elif isinstance(child, NavigableString) and not isinstance(child, Comment):
                parts.append(str(child))
        else:
            stack.pop()
    return " ".join("".join(parts).split())


def _invisible(tag: Tag) -> bool:
    return tag.name in ("script", "style", "noscript", "template") or _hidden_label(tag)


def _hidden_label(tag: Tag) -> bool:
    return "screen-reader-text" in (tag.get("class") or []) or "sr-only" in (tag.get("class") or [])


def class_words(tag: Tag) -> str:
    return " ".join([*(tag.get("class") or []), attr_of(tag, "id")])


def attr_of(tag: Tag, name: str) -> str:
    """An attribute as one string ('' when absent)."""
    value = tag.get(name)
    if value is None:
        return ""
    return " ".join(value) if isinstance(value, list) else str(value)


def not_post(tag: Tag) -> bool:
    for word in class_words(tag).lower().split():
        if word in _NOT_POST_WORDS or any(part in word for part in _NOT_POST_PARTS):
            return True
    return False


def excluded(tag: Tag, stop: Tag | None = None) -> bool:
    """Inside (or itself) a comment, widget, sidebar or navigation, below `stop`."""
    for t in (tag, *tag.parents):
        if t is stop or not isinstance(t, Tag) or t.name in ("body", "html", "[document]"):
            return False
        if t.name in ("aside", "nav") or not_post(t):
            return True
    return False


def inline_hidden(tag: Tag) -> bool:
    return any(isinstance(t, Tag) and re.search(r"display\s*:\s*none", attr_of(t, "style"), re.I)
               for t in (tag, *tag.parents))


def select_in(scope: Tag, selector: str) -> Iterator[Tag]:
    for tag in scope.css.iselect(selector):  # (lazily: most callers want the first)
        if not excluded(tag, stop=scope):
            yield tag


# -- URLs ---------------------------------------------------------------------------------

def join(base: str | None, href: str | None) -> str | None:
    """`href` made absolute against `base`, as a valid URI (spaces and the like percent-encoded:
    feeds.uri); None when it is malformed (urljoin raises on some) or cannot be a URI."""
    if not href:
        return None
    try:
        return uri(urljoin(base or "", href.strip()))
    except ValueError:
        return None


def web_url(url: str | None) -> str | None:
    """`url` if it is an absolute http(s) URL, else None: a post's link must not be javascript:,
    data: or relative (a feed reader could not follow it)."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None


# -- the page -----------------------------------------------------------------------------

class _Timed(Tag):
    """A tag of a page parsed with a deadline: a walk down it (what select and find_all go
    through) checks the deadline every 256 elements. `Soup` makes a subclass per page."""

    deadline = NEVER

    @property
    def descendants(self) -> Iterator[PageElement]:
        return _timed(super().descendants, self.deadline)


def _timed(nodes: Iterator[PageElement], deadline: Deadline) -> Iterator[PageElement]:
    for n, node in enumerate(nodes):
        if not n & 255:
            deadline.check()
        yield node


class Soup(BeautifulSoup):
    """A page parsed with the elements nested more than `depth` deep left out, with their
    text: they are never made, so a page of 100,000 nested elements costs what a flat one
    of that size does (`too_deep` counts them). An end tag closes the left-out elements
    inside it as a browser would, or, naming an element that was kept, what is inside that.
    The parser checks `deadline` at every tag and text; so do walks down the tree."""

    def __init__(self, markup: str | bytes, depth: int = MAX_DEPTH, deadline: Deadline = NEVER):
        self.max_depth, self.too_deep, self.deadline = depth, 0, deadline
        self._left_out: list[str] = []  # the names of the left-out elements still open, innermost last
        self._left_open: Counter[str] = Counter()  # how many of each name _left_out holds
        tag = type("_TimedTag", (_Timed,), {"deadline": deadline})
        super().__init__(markup, PARSER, element_classes={Tag: tag})

    @property
    def descendants(self) -> Iterator[PageElement]:
        return _timed(super().descendants, self.deadline)

    def handle_starttag(self, name: str, namespace: str | None, nsprefix: str | None, attrs: Any,
                        sourceline: int | None = None, sourcepos: int | None = None,
                        namespaces: dict[str, str] | None = None) -> Tag | None:
        self.deadline.check()
        if self._left_out or len(self.tagStack) > self.max_depth:  # (tagStack[0] is the document)
            self.too_deep += 1
            if not self.builder.can_be_empty_element(name):  # (a void element has no end tag)
                self._left_out.append(name)
                self._left_open[name] += 1
            return None  # (html.parser then sends no end tag for a void element)
        return super().handle_starttag(name, namespace, nsprefix, attrs, sourceline, sourcepos, namespaces)

    def handle_endtag(self, name: str, nsprefix: str | None = None) -> None:
        self.deadline.check()
        if self._left_out:
            if self._left_open[name]:  # (each element is closed once: linear in all)
                while (closed := self._left_out.pop()) != name:
                    self._left_open[closed] -= 1
                self._left_open[name] -= 1
                return
            if not self.open_tag_counter.get(name):
                return  # an end tag for nothing open: ignored, as bs4 ignores it
            self._left_out.clear()
            self._left_open.clear()
        super().handle_endtag(name, nsprefix)

    def handle_data(self, data: str) -> None:
        self.deadline.check()
        if not self._left_out:
            super().handle_data(data)


def parse_html(markup: str, deadline: Deadline = NEVER) -> BeautifulSoup:
    """HTML (a post's body) parsed as a page is: nested at most MAX_DEPTH deep, keeping to `deadline`.
    (Markup is always markup here: a body that is only 'photo.jpg' or a URL is not taken for a
    file name, which bs4 would warn about on stderr at every pass.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        return Soup(markup, MAX_DEPTH, deadline)


_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)|encoding=["']([\w-]+)""", re.I)


def decode_page(data: bytes, path: str, encoding: str, language: str) -> tuple[str | bytes, list[str]]:
    """A page's text, and a warning when its encoding was guessed. A page with a UTF-16 or
    UTF-32 byte-order mark is read as that (as a text dump is: the mark wins over a declared
    charset, as in browsers); a page declaring a charset other than UTF-8 is left to
    beautifulsoup4, which reads the declaration; a page declared UTF-8 is read as UTF-8 even
    with a stray bad byte (it becomes U+FFFD). A page that declares nothing is UTF-8 when
    its bytes are; else it is read as `encoding` (input.encoding), or as the likeliest legacy
    encoding of its language (its <html lang>, else `language`), with a warning."""
    text = decode_utf16_or_32(data, path)
    if text is not None:
        return text, []
    declared = _CHARSET.search(data[:8192])
    if declared:
        name = (declared.group(1) or declared.group(2)).decode("ascii", "replace").lower()
        if name.replace("_", "-") not in ("utf-8", "utf8"):
            return data, []
        return data.decode("utf-8-sig", errors="replace"), []
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        return decode_legacy(data, path, language=page_language(data) or language, configured=encoding)


_NUMERIC_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}))")


def may_hold_forbidden(markup: str | bytes) -> bool:
    """Could the parsed page hold a character XML forbids: written as it is, or as a numeric
    reference (beautifulsoup4 gives `&#1;` as U+0001, and `&#129;`, not in cp1252, as U+0081)?
    Most pages cannot, and need no walk over their strings."""
    if isinstance(markup, bytes):
        return True  # (a page in another charset: beautifulsoup4 decodes it)
    if len(strip_xml_forbidden(markup)) != len(markup):
        return True
    for m in _NUMERIC_REFERENCE.finditer(markup):
        number = int(m[1], 16) if m[1] else int(m[2])
        if number <= 0x10FFFF and not strip_xml_forbidden(chr(number)):
            return True
    return False


def strip_forbidden(soup: BeautifulSoup) -> int:
    """Remove the characters XML forbids from every string and attribute value of a parsed
    page (lxml, under feedgen, refuses a feed holding one); how many went."""
    removed = 0
    for s in soup.find_all(string=True):
        cleaned = strip_xml_forbidden(s)
        if len(cleaned) != len(s):
            removed += len(s) - len(cleaned)
            s.replace_with(type(s)(cleaned))
    for tag in soup.find_all(True):
        for name, value in tag.attrs.items():
            if isinstance(value, list):  # class, rel: a list of words
                words = [strip_xml_forbidden(w) for w in value]
                removed += sum(map(len, value)) - sum(map(len, words))
                value[:] = words
            else:
                cleaned = strip_xml_forbidden(value)
                removed += len(value) - len(cleaned)
                tag.attrs[name] = cleaned
    return removed


def same_url(a: str, b: str) -> bool:
    try:
        return urldefrag(a)[0].rstrip("/") == urldefrag(b)[0].rstrip("/")
    except ValueError:
        return False


# -- text, for tests and for the stored plain text ----------------------------------------

def block_texts(el: Tag) -> list[str]:
    """The text of an element as a browser lays it out: one string per block, inline runs joined."""
    blocks: list[str] = []
    current: list[str] = []
    deadline = deadline_of(el)

    def flush() -> None:
        text = " ".join("".join(current).split())
        if text:
            blocks.append(text)
        current.clear()

    def walk(node: Iterable) -> None:
        for child in node:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                current.append(str(child))
            elif isinstance(child, Tag):
                deadline.check()
                if child.name in ("script", "style", "noscript", "template"):
                    continue
                if child.name in _BLOCK:
                    flush()
                    walk(child.children)
                    flush()
                else:
                    walk(child.children)
    walk([el])
    flush()
    return blocks
