"""The fields of one post element of a saved page: its title and link, its body (a cleaned
copy, without "Read more" links), its date, author and categories, and whether the listing
shows only part of it."""

from __future__ import annotations

import re
from collections.abc import Callable

from bs4 import Tag

from feeds.ingest.html.dates import ISO_TIME, parse_text_date
from feeds.ingest.html.page import (
    attr_of,
    class_words,
    deadline_of,
    inline_hidden,
    join,
    not_post,
    parse_html,
    same_url,
    select_in,
    text_of,
)

_TITLE = (".entry-title, [itemprop=headline], .post-title, .p-name, .article-title, h1.title, h2.title, "
          "h3.title, .wp-block-post-title, .post-card-title, h1[class*=title], h2[class*=title], h3[class*=title]")
BODY = (".entry-content, .e-content, .post-content, .post-body, .entry-body, [itemprop=articleBody], "
         ".article-content, .wp-block-post-content, .entry-summary, .post-summary, .p-summary, "
         ".wp-block-post-excerpt, .post-card-excerpt, .post-excerpt, .excerpt, .available-content .body, "
         ".entry")
_DATE_CLASSES = re.compile(r"(^|[-_ ])(published|dt-published|entry-date|post-date|publishdate|date-published|"
                           r"posted-on|entry-published|updated|date|post-meta|entry-meta|byline)([-_ ]|$)", re.I)
_MORE = re.compile(r"^\s*(continue reading|read more|read the rest|more\b|weiterlesen|mehr\b|lire la suite|"
                   r"la suite|leer m[aá]s|seguir leyendo|continua a leggere|leggi tutto|lees verder|"
                   r"ler mais|continuar lendo)", re.I)
_ELLIPSIS_END = re.compile(r"(\[\s*(\.\.\.|…)\s*\]|\[\s*more\s*\])\s*$", re.I)


# -- one post -----------------------------------------------------------------------------

def title_element(scope: Tag) -> Tag | None:
    for tag in select_in(scope, _TITLE):
        if text_of(tag):
            return tag
    for tag in select_in(scope, "h1, h2, h3"):
        if tag.find("a", href=True) and text_of(tag):
            return tag
    if _permalink(scope) is not None:  # a card whose link is beside its heading (Hugo's PaperMod)
        for tag in select_in(scope, "h1, h2, h3"):
            if text_of(tag):
                return tag
    return None


_PERMALINK = "a[rel~=bookmark], a.entry-link, a.post-link, a.u-url, a.permalink"


def _permalink(container: Tag) -> Tag | None:
    return next((a for a in container.css.iselect(_PERMALINK) if a.get("href")), None)


def title_link(container: Tag) -> str | None:
    title = title_element(container)
    if title is None:
        return None
    a = title if title.name == "a" else title.find("a", href=True) or title.find_parent("a", href=True)
    if isinstance(a, Tag) and a.get("href"):
        return str(a["href"]).strip()
    link = _permalink(container)
    return attr_of(link, "href").strip() if link is not None else None


def _without_furniture(body: Tag, whole_post: bool) -> Tag:
    """A copy of a body element without widgets, comments, scripts and forms; for a post
    element with no content element of its own, also without its title, header and footer."""
    copy = parse_html(str(body), deadline_of(body)).find(body.name) or body
    assert isinstance(copy, Tag)
    doomed = copy.find_all(["script", "style", "noscript", "template", "form", "aside", "nav"])
    if whole_post:
        doomed += copy.find_all(["header", "footer"]) + copy.select(_TITLE)
    doomed += [t for t in copy.find_all(True) if not_post(t)]
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
    target = join(own, attr_of(a, "href")) if own else None
    return bool(own and target and _MORE.match(text_of(a)) and same_url(target, own))


def drop_more_links(body: Tag, own: str) -> None:
    """A listing's "Read more" link goes: a feed adds its own link to where the post is whole."""
    for a in body.find_all("a"):
        if _is_more_link(a, own):
            parent = a.parent
            holder = parent if isinstance(parent, Tag) and parent is not body and text_of(parent) == text_of(a) else a
            holder.decompose()


def post_body(container: Tag, title_el: Tag | None) -> Tag:
    """A copy of the post's content element (the post element itself when it has none), cleaned."""
    for tag in select_in(container, BODY):
        if title_el is not None and (tag is title_el or title_el in tag.descendants and tag.name != "div"):
            continue
        return _without_furniture(tag, whole_post=False)
    return _without_furniture(container, whole_post=True)


# -- fields -------------------------------------------------------------------------------

def published_in(scope: Tag, plausible: Callable[[str], bool] = lambda _: True) -> str | None:
    """The post's publication date as the page gives it: the first that is well formed and
    `plausible`, from the first source that has one."""
    times = [t for t in select_in(scope, "time[datetime]") if ISO_TIME.match(str(t["datetime"]).strip())]
    preferred = [t for t in times if _DATE_CLASSES.search(class_words(t)) and "updated" not in class_words(t)]
    for value in (str(t["datetime"]).strip() for t in preferred or times):
        if plausible(value):
            return value
    for abbr in select_in(scope, "abbr.published[title], abbr.dt-published[title]"):
        if ISO_TIME.match(str(abbr["title"]).strip()) and plausible(str(abbr["title"]).strip()):
            return str(abbr["title"]).strip()
    for tag in select_in(scope, "span[title], abbr[title], time[title]"):  # a date shown as text, given in title
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*", attr_of(tag, "title").strip()) \
                and plausible(attr_of(tag, "title").strip()):
            return attr_of(tag, "title").strip()
    for tag in select_in(scope, "[itemprop=datePublished]"):
        value = str(tag.get("content") or tag.get("datetime") or "").strip()
        if ISO_TIME.match(value) and plausible(value):
            return value
        day = parse_text_date(text_of(tag))
        if day and plausible(day.isoformat()):
            return day.isoformat()
    for tag in select_in(scope, "[class]"):
        if _DATE_CLASSES.search(" ".join(tag.get("class") or [])) and tag.name not in ("article", "body"):
            day = parse_text_date(text_of(tag))
            if day and plausible(day.isoformat()):
                return day.isoformat()
    return None


_BYLINE = re.compile(r"^\s*(posted|written|published|publiziert|geschrieben|verfasst|publié|escrito|publicado|"
                     r"scritto|pubblicato|geplaatst)?\s*(by|von|par|por|da|door)\s+", re.I)


def author_in(scope: Tag) -> str | None:
    for selector in (".byline-author", "[itemprop=author] [itemprop=name]", "[itemprop=author]", ".author .fn",
                     ".vcard .fn", ".fn", ".p-author", ".entry-author", ".wp-block-post-author__name",
                     ".wp-block-post-author-name", ".author-name", ".post-author", "a[rel~=author]", ".author",
                     ".byline"):
        for tag in select_in(scope, selector):
            if inline_hidden(tag):
                continue
            name = text_of(tag)
            if selector in (".byline-author", ".byline", ".author", ".entry-author"):
                name = _BYLINE.sub("", name).split(",")[0].strip()
            if name and len(name) <= 80 and not re.match(r"(view|all) (all )?posts", name, re.I):
                return name
    return None


def categories_in(scope: Tag) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for tag in select_in(scope, "a[rel], .cat-links a, .tags-links a, .post-categories a, a.label, .entry-terms a, "
                              "[itemprop=keywords] a, .post-card-primary-tag, .post-card-tags a, .post-tags a"):
        rel = [r.lower() for r in (tag.get("rel") or [])]
        if tag.name == "a" and tag.get("rel") and not {"tag", "category"} & set(rel):
            continue
        name = text_of(tag)
        if name and name not in seen:
            seen[name] = None
    return tuple(seen)


def truncated_in(container: Tag, body: Tag | None, own: str | None) -> bool:
    """Does the listing show part of the post? `own` is its absolute URL, as drop_more_links has it."""
    if any(_is_more_link(a, own) for a in select_in(container, "a")):
        return True
    if body is not None and re.search(r"summary|excerpt", " ".join(body.get("class") or []), re.I):
        return True  # a listing that shows an excerpt shows part of the post
    return bool(body is not None and _ELLIPSIS_END.search(text_of(body)))
