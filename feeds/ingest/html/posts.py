"""Read a saved HTML page (a blog's listing or a single post) into posts, with beautifulsoup4.

Built on the conventions blog engines share, not on one theme:

- a post is an `<article>`, an hAtom `.hentry`/`.h-entry`, a `.post`/`.type-post`, or a
  schema.org `BlogPosting`/`Article`; comments, related-post and share widgets, sidebars
  and navigation are not posts;
- its title is the `.entry-title` (or `[itemprop=headline]`, `.post-title`, a heading with
  a link); on a single post's page a title above the post (`h1.page-title`) counts too;
- its URL is the title's link on a listing, the page's `rel=canonical` on a post's page;
- its date is, in this order, `<time datetime>`, microformats `abbr.published[title]`,
  `[itemprop=datePublished]`, `article:published_time`, JSON-LD `datePublished`, and a
  date written in the post's byline or text (English, German, French, Spanish, Italian,
  Dutch or Portuguese month names);
- its author is the byline's name (`.byline-author`, `.fn`, `[itemprop=author]`,
  a visible `rel=author` link);
- its categories are the `rel=tag`/`rel=category` links, `.cat-links`, Blogger labels;
- it is cut when the listing shows a "more" link ("Continue reading", "Read more",
  "Weiterlesen", …) or an excerpt ending in "[…]".

The parser is Python's `html.parser`: `lxml` nests sibling posts under unclosed tags.
What is nested more than MAX_DEPTH elements deep is left out as the page is parsed (with a
warning): every walk over the tree (up to an element's ancestors, down to its strings) is
then bounded, and reading costs time in proportion to the page. A page parsed with a
deadline (feeds.ingest.budget) keeps to it: the parser checks it at every tag and text, and every
walk down the page or a post's copy (select, find_all, text_of, block_texts) as it goes.
At most `max_posts` posts are read from a page; the rest are left out with a warning.
"""

from __future__ import annotations

import dataclasses
import json
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup, Comment, MarkupResemblesLocatorWarning, NavigableString, PageElement, Tag

from feeds.ingest.budget import Deadline
from feeds.ingest.encoding import decode_legacy, page_language
from feeds.ingest.text import decode_utf16_or_32, strip_xml_forbidden
from feeds.errors import DumpError
from feeds.uri import uri

PARSER = "html.parser"
#: Elements nested deeper than this are left out, with their text (browsers cap nesting too,
#: at a few hundred; themes nest a few dozen deep).
MAX_DEPTH = 256

_POST = ("article, .hentry, .h-entry, .type-post, div.post, li.post, [itemtype*='schema.org/BlogPosting'], "
         "[itemtype*='schema.org/Article'], [itemtype*='schema.org/NewsArticle']")
#: Class or id words of things that are not posts, nor part of one: comments, widgets, chrome.
_NOT_POST_WORDS = {"respond", "related", "sidebar", "widget-area", "secondary", "navigation", "nav-links",
                   "post-navigation", "breadcrumb", "breadcrumbs", "sharing", "share", "social", "likes",
                   "author-info", "author-bio", "wpadminbar", "site-header", "site-footer", "masthead",
                   "colophon", "nav-previous", "nav-next", "post-edit-link", "edit-link"}
_NOT_POST_PARTS = ("comment", "sharedaddy", "relatedposts", "related-posts", "addtoany", "share-", "sharing-",
                   "social-", "jetpack-likes", "like-post", "sidebar")
_TITLE = (".entry-title, [itemprop=headline], .post-title, .p-name, .article-title, h1.title, h2.title, "
          "h3.title, .wp-block-post-title, .post-card-title, h1[class*=title], h2[class*=title], h3[class*=title]")
_BODY = (".entry-content, .e-content, .post-content, .post-body, .entry-body, [itemprop=articleBody], "
         ".article-content, .wp-block-post-content, .entry-summary, .post-summary, .p-summary, "
         ".wp-block-post-excerpt, .post-card-excerpt, .post-excerpt, .excerpt, .available-content .body, "
         ".entry")
_DATE_CLASSES = re.compile(r"(^|[-_ ])(published|dt-published|entry-date|post-date|publishdate|date-published|"
                           r"posted-on|entry-published|updated|date|post-meta|entry-meta|byline)([-_ ]|$)", re.I)
_MORE = re.compile(r"^\s*(continue reading|read more|read the rest|more\b|weiterlesen|mehr\b|lire la suite|"
                   r"la suite|leer m[aá]s|seguir leyendo|continua a leggere|leggi tutto|lees verder|"
                   r"ler mais|continuar lendo)", re.I)
_ELLIPSIS_END = re.compile(r"(\[\s*(\.\.\.|…)\s*\]|\[\s*more\s*\])\s*$", re.I)
#: An ISO date and time as pages write them: "2024-03-12", "2024-03-12T10:00:00Z",
#: Hugo's "2024-03-12 00:00:00 +0000 UTC".
ISO_TIME = re.compile(r"\s*(?P<date>\d{4}-\d{2}-\d{2})(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?"
                      r"\s*(?P<zone>Z|[+-]\d{2}:?\d{2})?")
_BLOCK = {"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
          "pre", "table", "thead", "tbody", "tr", "td", "th", "figure", "figcaption", "section", "article",
          "header", "footer", "aside", "nav", "br", "hr", "address", "main", "details", "summary", "form",
          "fieldset", "caption"}

_MONTHS = {}
for _names in (
        "january february march april may june july august september october november december",
        "jan feb mar apr may jun jul aug sep oct nov dec",
        "januar februar märz april mai juni juli august september oktober november dezember",
        "jänner feber maerz",
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
        "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
        "januari februari maart april mei juni juli augustus september oktober november december",
        "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro"):
    words = _names.split()
    if len(words) == 12:
        _MONTHS.update({w: i + 1 for i, w in enumerate(words)})
_MONTHS.update({"jänner": 1, "feber": 2, "maerz": 3, "sept": 9})
_MONTH = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_TEXT_DATES = [  # (pattern, groups as day, month, year)
    (re.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th|er)?\.?\s*(?:de\s+)?(?P<m>{_MONTH})\.?,?\s*(?:de\s+)?(?P<y>\d{{4}})\b",
                re.I), None),
    (re.compile(rf"\b(?P<m>{_MONTH})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})\b", re.I), None),
    (re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b"), None),
]


@dataclasses.dataclass(frozen=True)
class HtmlPost:
    title: str
    url: str | None  # absolute
    published: str | None  # as the page gives it: a machine-readable value, or the ISO date a text means
    author: str | None
    categories: tuple[str, ...]
    body: str  # the content element's HTML, widgets and comments left out (feeds.ingest.html.sanitise sanitises it)
    body_element: Tag = dataclasses.field(repr=False, compare=False)
    truncated: bool = False
    line: int = 1  # where the post starts in the file


@dataclasses.dataclass(frozen=True)
class HtmlPage:
    kind: str  # "listing" or "post"
    url: str | None  # the page's own URL (canonical), if it says
    base: str | None  # what its relative links are relative to
    posts: tuple[HtmlPost, ...]
    warnings: tuple[str, ...] = ()  # for the log: what was wrong with the page and was mended or left out


_NEVER = Deadline.never()


def _deadline_of(node: Tag) -> Deadline:
    """The deadline of the page `node` was parsed from (`_Soup`), if it has one."""
    return node.deadline if isinstance(node, (_Timed, _Soup)) else _NEVER


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
    deadline = _deadline_of(el)
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


def _classes(tag: Tag) -> str:
    return " ".join([*(tag.get("class") or []), _attr(tag, "id")])


def _attr(tag: Tag, name: str) -> str:
    """An attribute as one string ('' when absent)."""
    value = tag.get(name)
    if value is None:
        return ""
    return " ".join(value) if isinstance(value, list) else str(value)


def _not_post(tag: Tag) -> bool:
    for word in _classes(tag).lower().split():
        if word in _NOT_POST_WORDS or any(part in word for part in _NOT_POST_PARTS):
            return True
    return False


def _excluded(tag: Tag, stop: Tag | None = None) -> bool:
    """Inside (or itself) a comment, widget, sidebar or navigation, below `stop`."""
    for t in (tag, *tag.parents):
        if t is stop or not isinstance(t, Tag) or t.name in ("body", "html", "[document]"):
            return False
        if t.name in ("aside", "nav") or _not_post(t):
            return True
    return False


def _inline_hidden(tag: Tag) -> bool:
    return any(isinstance(t, Tag) and re.search(r"display\s*:\s*none", _attr(t, "style"), re.I)
               for t in (tag, *tag.parents))


def _within(scope: Tag, selector: str) -> Iterator[Tag]:
    for tag in scope.css.iselect(selector):  # (lazily: most callers want the first)
        if not _excluded(tag, stop=scope):
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
    through) checks the deadline every 256 elements. `_Soup` makes a subclass per page."""

    deadline = _NEVER

    @property
    def descendants(self) -> Iterator[PageElement]:
        return _timed(super().descendants, self.deadline)


def _timed(nodes: Iterator[PageElement], deadline: Deadline) -> Iterator[PageElement]:
    for n, node in enumerate(nodes):
        if not n & 255:
            deadline.check()
        yield node


class _Soup(BeautifulSoup):
    """A page parsed with the elements nested more than `depth` deep left out, with their
    text: they are never made, so a page of 100,000 nested elements costs what a flat one
    of that size does (`too_deep` counts them). An end tag closes the left-out elements
    inside it as a browser would, or, naming an element that was kept, what is inside that.
    The parser checks `deadline` at every tag and text; so do walks down the tree."""

    def __init__(self, markup: str | bytes, depth: int = MAX_DEPTH, deadline: Deadline = _NEVER):
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


def parse_html(markup: str, deadline: Deadline = _NEVER) -> BeautifulSoup:
    """HTML (a post's body) parsed as a page is: nested at most MAX_DEPTH deep, keeping to `deadline`.
    (Markup is always markup here: a body that is only 'photo.jpg' or a URL is not taken for a
    file name, which bs4 would warn about on stderr at every pass.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        return _Soup(markup, MAX_DEPTH, deadline)


_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)|encoding=["']([\w-]+)""", re.I)


def _decode(data: bytes, path: str, encoding: str, language: str) -> tuple[str | bytes, list[str]]:
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


def read_html(path: str, data: bytes, site_url: str | None = None, written: datetime | None = None, *,
              encoding: str = "", language: str = "en", deadline: Deadline = _NEVER,
              max_posts: int | None = None) -> HtmlPage:
    """A saved page's posts. Raises DumpError when it has none.

    Relative links are resolved against the page's `<base href>`, then its canonical URL,
    then `site_url`; a post URL that is still not an absolute http(s) URL is dropped. A
    date outside PlausibleDates (`written`: when the page was saved, if known) is ignored
    with a warning, as a malformed one is: the post is dated by the page's next date, or
    as a text dump's posts are.
    """
    plausible = PlausibleDates(path, written)
    markup, decoding = _decode(data, path, encoding, language)
    soup = _Soup(markup, deadline=deadline)
    if soup.find("html") is None and soup.find("body") is None and not soup.find(True):
        raise DumpError(path, "not an HTML page")
    removed = _strip_forbidden(soup) if _may_hold_forbidden(markup) else 0
    canonical = web_url(_link(soup, "canonical", site_url)) or web_url(join(site_url, _meta(soup, "og:url")))
    base_tag = soup.find("base", href=True)
    base = join(canonical or site_url, _attr(base_tag, "href")) if isinstance(base_tag, Tag) else None
    base = base or canonical or site_url
    ld = list(_json_ld(soup))
    candidates = _candidates(soup)
    is_post = _is_single(soup, candidates, canonical, ld)
    posts: list[HtmlPost] = []
    limited: list[str] = []
    if is_post:
        container = candidates[0] if candidates else next(iter(_post_elements(soup)), None)
        post = _single(soup, container, canonical, ld, plausible)
        if post:
            posts.append(post)
    elif is_post is False:
        if max_posts is not None and len(candidates) > max_posts:
            limited.append(f"{path}: {len(candidates)} posts, more than the {max_posts} a page may give: the "
                           f"first {max_posts} are read, the rest left out")
            candidates = candidates[:max_posts]
        for c in candidates:
            deadline.check()
            post = _listed(c, base, plausible)
            if post:
                posts.append(post)
    # JSON-LD values (a headline, an author, a date) come from escapes such as \u0001 in a
    # script's text, which the walk above does not see. A title of nothing else is no title.
    safe = [_xml_safe(p) for p in posts]
    removed += sum(_text_length(p) - _text_length(q) for p, q in zip(posts, safe, strict=True))
    safe = [dataclasses.replace(p, title=" ".join(p.title.split())) for p in safe if p.title.strip()]
    deep = f"left out {soup.too_deep} element(s) nested more than {MAX_DEPTH} deep, and their text"
    if not safe:
        raise DumpError(path, "no posts found in this HTML page (no article, .hentry or .post with a title, "
                              "and nothing that marks it as a single post's page)"
                              + (f"; {deep}" if soup.too_deep else ""))
    warnings = (*decoding, *([f"{path}: removed {removed} characters that XML forbids"] if removed else []),
                *([f"{path}: {deep}"] if soup.too_deep else []), *limited, *plausible.warnings)
    return HtmlPage("post" if is_post else "listing", canonical, base, tuple(safe), warnings)


_NUMERIC_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}))")


def _may_hold_forbidden(markup: str | bytes) -> bool:
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


def _strip_forbidden(soup: BeautifulSoup) -> int:
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


def _xml_safe(post: HtmlPost) -> HtmlPost:
    """The post's text fields without characters XML forbids."""
    def clean(text: str | None) -> str | None:
        return None if text is None else strip_xml_forbidden(text)
    return dataclasses.replace(post, title=strip_xml_forbidden(post.title), url=clean(post.url),
                               published=clean(post.published), author=clean(post.author) or None,
                               categories=tuple(c for c in map(strip_xml_forbidden, post.categories) if c.strip()))


def _text_length(post: HtmlPost) -> int:
    return sum(len(t or "") for t in (post.title, post.url, post.published, post.author, *post.categories))


def _link(soup: BeautifulSoup, rel: str, base: str | None) -> str | None:
    for link in soup.find_all("link", href=True):
        if rel in [r.lower() for r in (link.get("rel") or [])]:
            return join(base, str(link["href"]))
    return None


def _meta(soup: BeautifulSoup, name: str) -> str | None:
    tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
    value = tag.get("content") if isinstance(tag, Tag) else None
    return str(value).strip() if value else None


def _json_ld(soup: BeautifulSoup) -> Iterator[dict]:
    for script in soup.find_all("script", type="application/ld+json"):
        try:
            data = json.loads(script.string or "")
        except (ValueError, RecursionError):  # (RecursionError: nested deeper than json can read)
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, dict):
                if "@graph" in item and isinstance(item["@graph"], list):
                    stack += item["@graph"]
                types = item.get("@type")
                types = types if isinstance(types, list) else [types]
                if any(t in ("BlogPosting", "Article", "NewsArticle", "Posting") for t in types):
                    yield item


def _post_elements(soup: BeautifulSoup) -> list[Tag]:
    """The outermost post elements, in page order."""
    found = [t for t in soup.select(_POST) if not _excluded(t)]
    chosen = set(map(id, found))
    return [t for t in found if not any(id(p) in chosen for p in t.parents)]


def _candidates(soup: BeautifulSoup) -> list[Tag]:
    """The outermost post elements that have a title: the posts of a listing."""
    return [t for t in _post_elements(soup) if _title_element(t) is not None]


def _is_single(soup: BeautifulSoup, candidates: list[Tag], canonical: str | None, ld: list[dict]) -> bool | None:
    """True: a single post's page; False: a listing; None: neither can be told (no posts)."""
    body = soup.find("body")
    classes = set(body.get("class") or []) if isinstance(body, Tag) else set()
    if classes & {"home", "blog", "archive", "category", "tag", "search", "paged"}:
        return False
    if classes & {"single", "single-post", "singular"} or _meta(soup, "og:type") == "article":
        return True
    if len(candidates) > 1:
        return False
    if ld:
        return True
    if not candidates:
        # Nothing marks posts: only a page that says it is one post's (a post element, or an
        # h1 beside a content element) is read as one; anything else is not guessed at.
        has_body = any(True for _ in _within(soup, _BODY))
        return True if (_post_elements(soup) or (has_body and soup.find("h1"))) and canonical else None
    link = _title_link(candidates[0])
    return link is None or (canonical is not None and _same_url(link, canonical))


def _same_url(a: str, b: str) -> bool:
    try:
        return urldefrag(a)[0].rstrip("/") == urldefrag(b)[0].rstrip("/")
    except ValueError:
        return False


# -- one post -----------------------------------------------------------------------------

def _title_element(scope: Tag) -> Tag | None:
    for tag in _within(scope, _TITLE):
        if text_of(tag):
            return tag
    for tag in _within(scope, "h1, h2, h3"):
        if tag.find("a", href=True) and text_of(tag):
            return tag
    if _permalink(scope) is not None:  # a card whose link is beside its heading (Hugo's PaperMod)
        for tag in _within(scope, "h1, h2, h3"):
            if text_of(tag):
                return tag
    return None


_PERMALINK = "a[rel~=bookmark], a.entry-link, a.post-link, a.u-url, a.permalink"


def _permalink(container: Tag) -> Tag | None:
    return next((a for a in container.css.iselect(_PERMALINK) if a.get("href")), None)


def _title_link(container: Tag) -> str | None:
    title = _title_element(container)
    if title is None:
        return None
    a = title if title.name == "a" else title.find("a", href=True) or title.find_parent("a", href=True)
    if isinstance(a, Tag) and a.get("href"):
        return str(a["href"]).strip()
    link = _permalink(container)
    return _attr(link, "href").strip() if link is not None else None


def _listed(container: Tag, base: str | None, plausible: Callable[[str], bool]) -> HtmlPost | None:
    title_el = _title_element(container)
    if title_el is None:
        return None
    url = web_url(join(base, _title_link(container)))
    body_el = _body(container, title_el)
    if url:
        _drop_more_links(body_el, url)
    return HtmlPost(
        title=text_of(title_el), url=url,
        published=_published(container, plausible), author=_author(container), categories=_categories(container),
        body=str(body_el), body_element=body_el, truncated=_truncated(container, body_el, url),
        line=container.sourceline or 1)


def _single(soup: BeautifulSoup, container: Tag | None, url: str | None, ld: list[dict],
            plausible: Callable[[str], bool]) -> HtmlPost | None:
    main = container or soup.find("main") or soup.find("body") or soup
    title_el = _title_element(container) if container is not None else None
    title = text_of(title_el) if title_el is not None else ""
    if not title:
        title_el = next((t for t in soup.select("h1.page-title, h1.post-title, h1") if not _excluded(t)
                         and not re.search(r"site-title|logo|brand", _classes(t), re.I)), None)
        title = text_of(title_el) if title_el is not None else ""
    if not title:
        title = next((str(i.get("headline")) for i in ld if i.get("headline")), "") or _meta(soup, "og:title") or ""
        title = " ".join(title.split())
    if not title:
        return None
    # Byline, date and categories may sit above the post, beside its title: look from the
    # element that holds both.
    scope = _common_ancestor(title_el, container) if title_el is not None and container is not None else main
    published = _published(main, plausible) or (_published(scope, plausible) if scope is not main else None) \
        or next((v for v in (_meta(soup, "article:published_time"),
                             *(str(i["datePublished"]) for i in ld if i.get("datePublished"))) if v and plausible(v)),
                None)
    author = _author(main) or (_author(scope) if scope is not main else None) or _ld_author(ld) \
        or _meta(soup, "author")
    categories = _categories(main) or (_categories(scope) if scope is not main else ())
    body_el = _body(main, title_el)
    return HtmlPost(title=title, url=url, published=published, author=author, categories=categories,
                    body=str(body_el), body_element=body_el, truncated=False,
                    line=(container or main).sourceline or 1)


def _without_furniture(body: Tag, whole_post: bool) -> Tag:
    """A copy of a body element without widgets, comments, scripts and forms; for a post
    element with no content element of its own, also without its title, header and footer."""
    copy = parse_html(str(body), _deadline_of(body)).find(body.name) or body
    assert isinstance(copy, Tag)
    doomed = copy.find_all(["script", "style", "noscript", "template", "form", "aside", "nav"])
    if whole_post:
        doomed += copy.find_all(["header", "footer"]) + copy.select(_TITLE)
    doomed += [t for t in copy.find_all(True) if _not_post(t)]
    for tag in doomed:
        if not tag.decomposed:
            tag.decompose()
    return copy


def _is_more_link(a: Tag, own: str | None) -> bool:
    """Is this a listing's link to the rest of a post: marked so by its class, or saying
    "Read more" (or the like) and going to the post's own URL `own`?"""
    classes = " ".join(a.get("class") or [])
    if "more-link" in classes or "read-more" in classes or classes == "more":
        return True
    target = join(own, _attr(a, "href")) if own else None
    return bool(own and target and _MORE.match(text_of(a)) and _same_url(target, own))


def _drop_more_links(body: Tag, own: str) -> None:
    """A listing's "Read more" link goes: a feed adds its own link to where the post is whole."""
    for a in body.find_all("a"):
        if _is_more_link(a, own):
            parent = a.parent
            holder = parent if isinstance(parent, Tag) and parent is not body and text_of(parent) == text_of(a) else a
            holder.decompose()


def _common_ancestor(a: Tag, b: Tag) -> Tag:
    chain = [a, *a.parents]
    ids = {id(t) for t in chain}
    for t in (b, *b.parents):
        if id(t) in ids and isinstance(t, Tag):
            return t
    return b


def _ld_author(ld: list[dict]) -> str | None:
    for item in ld:
        author = item.get("author")
        author = author[0] if isinstance(author, list) and author else author
        name = author.get("name") if isinstance(author, dict) else author
        if isinstance(name, str) and name.strip():
            return " ".join(name.split())
    return None


def _body(container: Tag, title_el: Tag | None) -> Tag:
    """A copy of the post's content element (the post element itself when it has none), cleaned."""
    for tag in _within(container, _BODY):
        if title_el is not None and (tag is title_el or title_el in tag.descendants and tag.name != "div"):
            continue
        return _without_furniture(tag, whole_post=False)
    return _without_furniture(container, whole_post=True)


# -- fields -------------------------------------------------------------------------------

def _published(scope: Tag, plausible: Callable[[str], bool] = lambda _: True) -> str | None:
    """The post's publication date as the page gives it: the first that is well formed and
    `plausible`, from the first source that has one."""
    times = [t for t in _within(scope, "time[datetime]") if ISO_TIME.match(str(t["datetime"]).strip())]
    preferred = [t for t in times if _DATE_CLASSES.search(_classes(t)) and "updated" not in _classes(t)]
    for value in (str(t["datetime"]).strip() for t in preferred or times):
        if plausible(value):
            return value
    for abbr in _within(scope, "abbr.published[title], abbr.dt-published[title]"):
        if ISO_TIME.match(str(abbr["title"]).strip()) and plausible(str(abbr["title"]).strip()):
            return str(abbr["title"]).strip()
    for tag in _within(scope, "span[title], abbr[title], time[title]"):  # a date shown as text, given in title
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*", _attr(tag, "title").strip()) \
                and plausible(_attr(tag, "title").strip()):
            return _attr(tag, "title").strip()
    for tag in _within(scope, "[itemprop=datePublished]"):
        value = str(tag.get("content") or tag.get("datetime") or "").strip()
        if ISO_TIME.match(value) and plausible(value):
            return value
        day = parse_text_date(text_of(tag))
        if day and plausible(day.isoformat()):
            return day.isoformat()
    for tag in _within(scope, "[class]"):
        if _DATE_CLASSES.search(" ".join(tag.get("class") or [])) and tag.name not in ("article", "body"):
            day = parse_text_date(text_of(tag))
            if day and plausible(day.isoformat()):
                return day.isoformat()
    return None


class PlausibleDates:
    """Is a date a page gives plausible for a post? Not before 1990 (before the web); not
    more than a day after the page was saved, when that is known (`written`; the day leaves
    room for time zones); else not after the year 9000. Other dates are mistakes or
    placeholders (0001-01-01, 9999-12-31) that date arithmetic does not survive. Each one
    refused is named in `warnings`. A value that does not parse is left to the pass, which
    ignores it (feeds.pipeline.explicit_time)."""

    EARLIEST = date(1990, 1, 1)
    LATEST = date(9000, 12, 31)

    def __init__(self, path: str, written: datetime | None = None):
        self.path, self.written = path, written
        self.warnings: dict[str, None] = {}  # (in order, each once)

    def __call__(self, value: str) -> bool:
        match = ISO_TIME.match(value)
        try:
            day = date.fromisoformat(match["date"]) if match else None
        except ValueError:
            day = None
        if match is None or day is None:
            return True
        if day < self.EARLIEST:
            why = f"before {self.EARLIEST.isoformat()}"
        elif self.written is not None and self._moment(match, day) > self.written + timedelta(days=1):
            why = (f"more than a day after the page was saved, or the pass's clock if earlier "
                   f"({self.written.isoformat(timespec='seconds')})")
        elif self.written is None and day > self.LATEST:
            why = f"after {self.LATEST.isoformat()}"
        else:
            return True
        self.warnings[f"{self.path}: ignored the date {value!r}, {why}; the post is dated otherwise"] = None
        return False

    @staticmethod
    def _moment(match: re.Match[str], day: date) -> datetime:
        """The time a matched value means (UTC when it names no zone: a day's margin covers that)."""
        try:
            moment = datetime.fromisoformat(f"{match['date']}T{match['time'] or '00:00'}"
                                            f"{(match['zone'] or '').replace('Z', '+00:00')}")
        except ValueError:  # (a time such as 25:00: the day alone)
            moment = datetime.combine(day, datetime.min.time())
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_text_date(text: str) -> date | None:
    """The first calendar date written in `text`, in one of the month-name languages above."""
    for pattern, _ in _TEXT_DATES:
        m = pattern.search(text)
        if not m:
            continue
        month = m["m"]
        number = int(month) if month.isdigit() else _MONTHS.get(month.lower().rstrip("."))
        try:
            return date(int(m["y"]), number or 0, int(m["d"]))
        except (ValueError, TypeError):
            continue
    return None


_BYLINE = re.compile(r"^\s*(posted|written|published|publiziert|geschrieben|verfasst|publié|escrito|publicado|"
                     r"scritto|pubblicato|geplaatst)?\s*(by|von|par|por|da|door)\s+", re.I)


def _author(scope: Tag) -> str | None:
    for selector in (".byline-author", "[itemprop=author] [itemprop=name]", "[itemprop=author]", ".author .fn",
                     ".vcard .fn", ".fn", ".p-author", ".entry-author", ".wp-block-post-author__name",
                     ".wp-block-post-author-name", ".author-name", ".post-author", "a[rel~=author]", ".author",
                     ".byline"):
        for tag in _within(scope, selector):
            if _inline_hidden(tag):
                continue
            name = text_of(tag)
            if selector in (".byline-author", ".byline", ".author", ".entry-author"):
                name = _BYLINE.sub("", name).split(",")[0].strip()
            if name and len(name) <= 80 and not re.match(r"(view|all) (all )?posts", name, re.I):
                return name
    return None


def _categories(scope: Tag) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for tag in _within(scope, "a[rel], .cat-links a, .tags-links a, .post-categories a, a.label, .entry-terms a, "
                              "[itemprop=keywords] a, .post-card-primary-tag, .post-card-tags a, .post-tags a"):
        rel = [r.lower() for r in (tag.get("rel") or [])]
        if tag.name == "a" and tag.get("rel") and not {"tag", "category"} & set(rel):
            continue
        name = text_of(tag)
        if name and name not in seen:
            seen[name] = None
    return tuple(seen)


def _truncated(container: Tag, body: Tag | None, own: str | None) -> bool:
    """Does the listing show part of the post? `own` is its absolute URL, as _drop_more_links has it."""
    if any(_is_more_link(a, own) for a in _within(container, "a")):
        return True
    if body is not None and re.search(r"summary|excerpt", " ".join(body.get("class") or []), re.I):
        return True  # a listing that shows an excerpt shows part of the post
    return bool(body is not None and _ELLIPSIS_END.search(text_of(body)))


# -- text, for tests and for the stored plain text ----------------------------------------

def block_texts(el: Tag) -> list[str]:
    """The text of an element as a browser lays it out: one string per block, inline runs joined."""
    blocks: list[str] = []
    current: list[str] = []
    deadline = _deadline_of(el)

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
