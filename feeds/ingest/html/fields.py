"""The fields of one post element of a saved page: its title and link, its body (a cleaned
copy, without "Read more" links), its date, author and categories, and whether the listing
shows only part of it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from bs4 import Comment, NavigableString, PageElement, Tag

from feeds.ingest.html.byline import author_of, byline_lines
from feeds.ingest.html.dates import ISO_TIME, parse_text_date
from feeds.ingest.html.page import (
    attr_of,
    block_texts,
    class_words,
    deadline_of,
    join,
    not_post,
    parse_html,
    same_url,
    select_in,
    text_of,
)
from feeds.ingest.html.terms import terms_in

_TITLE = (".entry-title, [itemprop=headline], .post-title, .p-name, .article-title, h1.title, h2.title, "
          "h3.title, .wp-block-post-title, .post-card-title, h1[class*=title], h2[class*=title], h3[class*=title]")
BODY = (".entry-content, .e-content, .post-content, .post-body, .entry-body, [itemprop=articleBody], "
         ".article-content, .wp-block-post-content, .entry-summary, .post-summary, .p-summary, "
         ".wp-block-post-excerpt, .post-card-excerpt, .post-excerpt, .excerpt, .available-content .body, "
         ".entry")
_DATE_CLASSES = re.compile(r"(^|[-_ ])(published|dt-published|entry-date|post-date|publishdate|date-published|"
                           r"posted-on|posted|submitted|entry-published|updated|date|dateline|timestamp|post-meta|entry-meta|byline|"
                           r"meta|attribution)([-_ ]|$)", re.I)
#: A date labelled as the last change, not the publication ("Last updated …", "Actualizado el …").
_UPDATED = re.compile(r"^\W*(last\s+)?(updated|modified|edited|revised|aktualisiert|geändert|actualizado|"
                      r"modificado|mis à jour|modifié|aggiornato|modificato|bijgewerkt|atualizado|обновлено|"
                      r"изменено|оновлено)\b", re.I)
_MORE = re.compile(r"^\s*(continue reading|read more|read the rest|more\b|weiterlesen|mehr\b|lire la suite|"
                   r"la suite|leer m[aá]s|seguir leyendo|continua a leggere|leggi tutto|lees verder|"
                   r"ler mais|continuar lendo)", re.I)
_ELLIPSIS_END = re.compile(r"(\[\s*(\.\.\.|…)\s*\]|\[\s*more\s*\]|…|\.\.\.)\s*$", re.I)


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


def _without_furniture(body: Tag, whole_post: bool, title: Tag | None = None) -> Tag:
    """A copy of a body element without widgets, comments, scripts and forms; for a post
    element with no content element of its own, also without its title (`title`, and what
    is marked as one), header, footer and byline lines."""
    copy = parse_html(str(body), deadline_of(body)).find(body.name) or body
    assert isinstance(copy, Tag)
    doomed = copy.find_all(["script", "style", "noscript", "template", "form", "aside", "nav"])
    if whole_post:
        doomed += copy.find_all(["header", "footer"]) + copy.select(_TITLE) + byline_lines(copy)
        if title is not None:
            doomed += [t for t in copy.find_all(title.name) if text_of(t) == text_of(title)]
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
    if not _MORE.match(text_of(a)):
        return False
    if "more" in re.split(r"[-_\s]+", classes.lower()) or not a.get("href"):
        return True  # ("Read more" marked `more`, or with no address: a script opens the post)
    target = join(own, attr_of(a, "href")) if own else None
    return bool(own and target and same_url(target, own))


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
    return _without_furniture(container, whole_post=True, title=title_el)


# -- fields -------------------------------------------------------------------------------

def _updated(tag: Tag) -> bool:
    """Is this date labelled as the post's last change, by its class or its words ("Last
    updated …"), or by the words just before it ("Actualizado el <time>")?"""
    if re.search(r"(^|[-_ ])(updated|modified|date-modified|dt-updated)([-_ ]|$)", class_words(tag), re.I):
        return True
    before = tag.previous_sibling
    label = text_of(before) if isinstance(before, (Tag, NavigableString)) else ""
    if not label and isinstance(tag.parent, Tag) and len(text_of(tag.parent)) < 80:
        label = text_of(tag.parent)
    return bool(_UPDATED.match(text_of(tag)) or _UPDATED.match(label))


def _machine(scope: Tag, plausible: Callable[[str], bool]) -> str | None:
    """A machine-readable publication date: `<time datetime>` (a published one first),
    microformats' `abbr.published[title]`, a date given in a `title`, microdata."""
    times = [t for t in select_in(scope, "time[datetime]")
             if ISO_TIME.match(str(t["datetime"]).strip()) and not _updated(t)]
    preferred = [t for t in times if _DATE_CLASSES.search(class_words(t))]
    for value in (str(t["datetime"]).strip() for t in preferred or times):
        if plausible(value):
            return value
    for abbr in select_in(scope, "abbr.published[title], abbr.dt-published[title]"):
        if ISO_TIME.match(str(abbr["title"]).strip()) and plausible(str(abbr["title"]).strip()):
            return str(abbr["title"]).strip()
    for tag in select_in(scope, "span[title], abbr[title], time[title]"):  # a date shown as text, given in title
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*", attr_of(tag, "title").strip()) \
                and plausible(attr_of(tag, "title").strip()) and not _updated(tag):
            return attr_of(tag, "title").strip()
    for tag in select_in(scope, "[itemprop=datePublished]"):
        value = str(tag.get("content") or tag.get("datetime") or "").strip()
        if ISO_TIME.match(value) and plausible(value):
            return value
    return None


def published_in(scope: Tag, plausible: Callable[[str], bool] = lambda _: True) -> str | None:
    """The post's publication date as the page gives it: the first that is well formed and
    `plausible`, from the first source that has one; a machine-readable value before a date
    written as text (a `datetime` that is not ISO counts as text). A date labelled as the
    last change ("Last updated", "Actualizado") is not the publication date."""
    value = _machine(scope, plausible)
    if value:
        return value
    texts = [*select_in(scope, "[itemprop=datePublished], time"),
             *(t for t in select_in(scope, "[class]") if _DATE_CLASSES.search(class_words(t))
               and t.name not in ("article", "body")), *byline_lines(scope)]
    for tag in texts:
        if _updated(tag) or len(text_of(tag)) > 200:
            continue
        day = parse_text_date(text_of(tag)) or parse_text_date(attr_of(tag, "datetime"))
        if day and plausible(day.isoformat()):
            return day.isoformat()
    return None


def author_in(scope: Tag) -> str | None:
    """The post's author as its element shows it (.byline)."""
    return author_of(scope)


def categories_in(scope: Tag) -> tuple[str, ...]:
    """The post's categories and tags as its element shows them (.terms)."""
    return terms_in(scope)


def truncated_in(container: Tag, body: Tag | None, own: str | None) -> bool:
    """Does the listing show part of the post? `own` is its absolute URL, as drop_more_links has it.

    Signals: a "more" link (to the post, or marked so by its class); an excerpt element
    (`.entry-summary`, `.excerpt`); text that ends in "[…]", "…" or "..."; or a card that
    shows no prose at all, only its title, date and byline (a titles-only listing)."""
    title_href = title_link(container)
    if any(_is_more_link(a, own) or (own is None and title_href and attr_of(a, "href").strip() == title_href
                                     and _MORE.match(text_of(a))) for a in select_in(container, "a")):
        return True
    if body is None:
        return False
    if re.search(r"summary|excerpt|teaser", " ".join(body.get("class") or []), re.I):
        return True  # a listing that shows an excerpt shows part of the post
    if _ELLIPSIS_END.search(text_of(body)) or _ends_cut(body) or _teaser(body, own or title_href):
        return True
    title = title_element(container)
    shown = _prose_words(body, len(text_of(title).split()) if title is not None else 0)
    return shown < _FEWEST_WORDS and not body.find(["img", "video", "iframe", "audio", "picture"])


def _teaser(body: Tag, link: str | None) -> bool:
    """Is the card's text one short paragraph (at most _TEASER_WORDS words, besides lines of a
    few words: an author, a date, a count), under a title that links to the post? A teaser
    of it, not the post. (Not when the card marks its text as the post's whole content:
    `.e-content`, `.entry-content`, `[itemprop=articleBody]`.)"""
    if re.search(r"(^|\s)(e-content|entry-content|post-content)(\s|$)", class_words(body)) \
            or body.get("itemprop") == "articleBody":
        return False
    prose = [t for t in block_texts(body) if len(t.split()) >= 4]
    return bool(link) and len(prose) == 1 and len(prose[0].split()) <= _TEASER_WORDS


#: A card whose only paragraph is this short is a teaser ("a one-line teaser").
_TEASER_WORDS = 40


def _ends_cut(body: Tag) -> bool:
    """Does the card's last paragraph of prose (not a label or a byline line) end in "…"?"""
    prose = [t for t in block_texts(body) if len(t.split()) >= _FEWEST_WORDS]
    return bool(prose) and bool(_ELLIPSIS_END.search(prose[-1]))


_TITLE_TAGS = ["h1", "h2", "h3", "h4", "h5", "h6"]
#: A card with fewer words than this outside its title, date and byline shows none of the post.
_FEWEST_WORDS = 8


def _prose_words(body: Tag, title_words: int) -> int:
    """How many words `body` shows outside dates, bylines and hidden metadata, less the
    title's words when the body repeats its title (counted up to _FEWEST_WORDS: the question
    is only whether it has that many)."""
    words = -title_words if title_words and body.find(_TITLE_TAGS) else 0
    for string in body.find_all(string=True):
        if isinstance(string, Comment) or any(_not_prose(t) for t in _up_to(string, body)):
            continue
        words += len(str(string).split())
        if words >= _FEWEST_WORDS:
            break
    return words


def _up_to(node: PageElement, top: Tag) -> Iterator[Tag]:
    for t in node.parents:
        yield t
        if t is top:
            return


def _not_prose(tag: Tag) -> bool:
    return tag.name in ("time", "script", "style", "noscript", "template") or bool(re.search(
        r"display\s*:\s*none", attr_of(tag, "style"), re.I)) or attr_of(tag, "itemprop") in (
        "author", "datePublished", "dateModified", "wordCount") or bool(
        _DATE_CLASSES.search(class_words(tag)) or re.search(r"author|byline", class_words(tag), re.I))
