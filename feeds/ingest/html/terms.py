"""A post's categories and tags, wherever its element shows them, in page order, each once:

- links marked `rel=tag` / `rel=category` (not a "Read more" link that a theme marks so);
- links to a taxonomy archive (`/tag/…`, `/tags/…`, `/category/…`, `/topics/…`, Blogger's
  `/search/label/…`, Drupal's `/taxonomy/term/…`, Tumblr's `/tagged/…`);
- links and labels that a theme marks as terms: a class word `tag(s)`, `categor(y|ies)`,
  `topic(s)`, `keyword(s)`, `term(s)`, `pill`, `chip`, `cat-links` on the element or on
  the element that holds it (Blogger's `a.label` too), microdata `articleSection` and
  `keywords`, Drupal's entity-reference and taxonomy fields, Ghost's primary tag;
- not breadcrumbs, navigation or sidebars, and not classes on the post element itself
  (WordPress's `category-news` on an `<article>` is not shown).
"""

from __future__ import annotations

import re

from bs4 import Tag

from feeds.ingest.html.page import attr_of, class_words, select_in, text_of

_TERM_WORDS = {"tag", "tags", "category", "categories", "cat", "cats", "topic", "topics", "keyword", "keywords",
               "term", "terms", "pill", "pills", "chip", "chips", "labels", "taxonomy", "etiquettes", "schlagworte",
               "rubrik", "tagcloud"}
#: A taxonomy archive: the term's segment at most two segments deep (`/tag/x`, `/blog/tags/x/`,
#: `/ru/blog/category/x`), the slug last; not `/owner/repo/releases/tag/v1`.
_TAXONOMY_PATH = re.compile(r"^(?:[a-z]+:)?(?://[^/]+)?(?:/[^/?#]+){0,2}/(?:tags?|categor(?:y|ies)|topics?|search/label|labels?|tagged|taxonomy/term|"
                            r"schlagw(?:ort|oerter|örter)|kategorie[n]?|themen?|etiquetas?|rubriques?|mots?-cles?)"
                            r"/[^/?#]+/?(?:[?#].*)?$|^(?:[a-z]+:)?(?://[^/]+)?(?:/[^/?#]+){0,2}/?\?(?:[^#]*&)?(?:tag|category)=",
                            re.I)
_LABELS = ("[itemprop=articleSection], [itemprop=keywords], .post-card-primary-tag, "
           ".field--type-entity-reference .field__item, .field-type-taxonomy-term-reference .field-item")
#: "Travel (12)": a widget's list of every category with its count of posts, not the post's.
_COUNTED = re.compile(r"\(\d+\)$")
_MORE = re.compile(r"^\s*(read|continue|more|weiter|lire|leer|leggi|lees|ler)\b", re.I)
_NOT_TERMS = re.compile(r"breadcrumb|crumb|share|social|author|byline|comment|pagination|pager|widget|cloud|menu|"
                        r"sidebar|dropdown|cat-item|related|popular|trending|archive|search", re.I)


def _words(tag: Tag) -> set[str]:
    return {w for w in re.split(r"[-_\s]+", class_words(tag).lower()) if w}


def _marked(tag: Tag, scope: Tag) -> bool:
    """Marked as a term by its class, or by the class of an element up to three above it
    (below the post element)."""
    for level, t in enumerate((tag, *tag.parents)):
        if t is scope or not isinstance(t, Tag) or level > 3:
            return False
        if _NOT_TERMS.search(class_words(t)):
            return False
        words = _words(t)
        if words & _TERM_WORDS or "cat-links" in class_words(t) or (t.name == "a" and "label" in words):
            return True
    return False


def _is_term_link(a: Tag, scope: Tag) -> bool:
    rel = {r.lower() for r in (a.get("rel") or [])}
    if _MORE.match(text_of(a)):
        return False
    if rel & {"tag", "category"}:
        return True
    if rel - {"noopener", "noreferrer", "nofollow", "external", "ugc", "sponsored"}:
        return False
    return bool(_TAXONOMY_PATH.search(attr_of(a, "href")) and not _in_prose(a)) or _marked(a, scope)


def _in_prose(a: Tag) -> bool:
    """A link in a sentence ("… as we wrote <a>here</a> …"), not a label: its paragraph says
    much more than it does."""
    block = next((t for t in a.parents if t.name in ("p", "li", "dd", "td", "div", "blockquote")), None)
    return block is not None and len(text_of(block)) > 3 * len(text_of(a)) + 40


def _label(tag: Tag) -> list[str]:
    links = [a for a in tag.find_all("a") if text_of(a)]
    names = [text_of(a) for a in links] if links else [text_of(tag)]
    if tag.get("itemprop") == "keywords" and not links and tag.name == "meta":
        names = attr_of(tag, "content").split(",")
    return [" ".join(n.split()) for n in names if n and len(n) <= 80]


def terms_in(scope: Tag) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for tag in select_in(scope, f"a[href], a[rel], {_LABELS}"):
        if _in_not_terms(tag, scope):
            continue
        if tag.name == "a":
            if tag.find_parent(_label_match) is not None:
                continue  # (read with its label)
            names = [text_of(tag)] if _is_term_link(tag, scope) else []
        else:
            names = _label(tag)
        for name in names:
            name = name.strip(" \"'“”#,-–—·•|")
            if name and len(name) <= 80 and name not in seen and not _COUNTED.search(name):
                seen[name] = None
    return tuple(seen)


def _in_not_terms(tag: Tag, scope: Tag) -> bool:
    """Inside a breadcrumb, a share bar, a byline or comments (below the post element)."""
    for t in (tag, *tag.parents):
        if t is scope or not isinstance(t, Tag):
            return False
        if _NOT_TERMS.search(class_words(t)) or _words(t) & {"nav", "prev", "next", "previous", "navigation"}:
            return True
    return False


def _label_match(tag: Tag) -> bool:
    return tag.get("itemprop") in ("articleSection", "keywords")
