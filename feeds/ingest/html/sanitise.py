"""Make a post's body HTML safe and self-contained for feeds and mail. The only module that
imports nh3 (the Ammonia sanitiser): it removes scripts, styles, event handlers and anything
not on its allow-list; before that, this module turns embeds into links, resolves lazy-loaded
images, drops tracking pixels and makes every URL absolute against the page's URL.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import nh3
from bs4 import Tag

from feeds.ingest.budget import Deadline
from feeds.ingest.html.page import parse_html
from feeds.uri import uri

_LAZY = ("data-src", "data-lazy-src", "data-original", "data-orig-file", "data-medium-file", "data-large-file")
_URL_ATTRS = {"a": "href", "img": "src", "source": "src", "video": "src", "audio": "src", "area": "href",
              "q": "cite", "blockquote": "cite", "del": "cite", "ins": "cite"}
_TAGS = set(nh3.ALLOWED_TAGS) - {"header", "footer", "nav", "aside", "article", "map", "area"}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
               "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan", "scope"}, "time": {"datetime"},
               "abbr": {"title"}, "ol": {"start"}, "blockquote": {"cite"}, "q": {"cite"}}


def clean_html(html: str, base: str | None, deadline: Deadline | None = None) -> str:
    """Body HTML for a feed or an email: sanitised, embeds as links, every URL absolute.
    Parsed as pages are (feeds.ingest.html.page.parse_html), keeping to `deadline` if given."""
    deadline = deadline or Deadline.never()
    soup = parse_html(html, deadline)
    for frame in soup.find_all(["iframe", "embed", "object", "video", "audio"]):
        src = _first(frame, (*_LAZY, "src", "data")) or _first(frame.find("source"), ("src",))
        if src and not re.match(r"(?i)https?:|//|/|[\w.-]+(/|$)", src):  # about:blank, javascript:, data:
            src = None
        if src:
            link = soup.new_tag("a", href=_absolute(src, base))
            link.string = f"Embedded content: {_absolute(src, base)}"
            para = soup.new_tag("p")
            para.append(link)
            frame.replace_with(para)
        else:
            frame.decompose()
    for img in soup.find_all("img"):
        lazy = _first(img, _LAZY)
        if lazy:  # the real image; `src` is then a placeholder (a spacer, a 1x1 gif, a data: URL)
            img["src"] = lazy
        if not img.get("src") and img.get("srcset"):
            img["src"] = _first_candidate(str(img["srcset"]))
        if _pixel(img):
            img.decompose()
    for tag in soup.find_all(True):
        attr = _URL_ATTRS.get(tag.name)
        if attr and tag.get(attr):
            tag[attr] = _absolute(str(tag[attr]), base)
    cleaned = nh3.clean(str(soup), tags=_TAGS, attributes=_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                        link_rel="noopener noreferrer", strip_comments=True)
    deadline.check()
    return _tidy(cleaned, deadline).strip()


def _tidy(html: str, deadline: Deadline) -> str:
    """What a page around the body needs: links that go somewhere, images with a text
    alternative (and an image to show), and headings that start below the post's title (h2) without skipping levels."""
    soup = parse_html(html, deadline)
    for a in soup.find_all("a"):
        if not a.get("href"):  # an anchor, or a link whose URL was unsafe: its text stays
            a.unwrap()
    for img in soup.find_all("img"):
        if not img.get("src"):  # no image left to show (its URL was malformed or unsafe)
            img.decompose()
            continue
        if img.get("alt") is None:
            img["alt"] = ""
    headings = soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6"])
    levels = sorted({int(h.name[1]) for h in headings})
    for h in headings:
        h.name = f"h{min(2 + levels.index(int(h.name[1])), 6)}"
    return str(soup)


def _first(tag: Tag | None, names: tuple[str, ...]) -> str | None:
    if not isinstance(tag, Tag):
        return None
    for name in names:
        value = tag.get(name)
        if value:
            return str(value).strip()
    return None


def _first_candidate(srcset: str) -> str:
    """The URL of a srcset's first image candidate, '' when it has none. Parsed as the HTML
    standard does, for any value a page may hold (", x.jpg", ",", " "): spaces and commas
    before the URL skipped, commas ending it dropped; a comma inside it is part of it."""
    match = re.match(r"[\s,]*(\S*)", srcset)
    return match[1].rstrip(",") if match else ""


def _absolute(url: str, base: str | None) -> str:
    """`url` made absolute against `base`, as a valid URI (feeds.uri: spaces and the like
    percent-encoded); '' (dropped by the sanitiser) when it is malformed or cannot be one."""
    try:
        return uri(urljoin(base or "", url.strip())) or ""
    except ValueError:
        return ""


def _pixel(img: Tag) -> bool:
    """A tracking pixel: an image of one pixel or less."""
    sizes = [str(img.get(a) or "") for a in ("width", "height")]
    return all(re.fullmatch(r"[01](px)?", s.strip()) for s in sizes) and any(sizes)
