"""A post's categories and tags, wherever its element shows them, in page order, each once:

- links marked `rel=tag` / `rel=category` (not a "Read more" link that a theme marks so);
- links to a taxonomy archive (`/tag/…`, `/tags/…`, `/category/…`, `/topics/…`, Blogger's
  `/search/label/…`, Drupal's `/taxonomy/term/…`, Tumblr's `/tagged/…`);
- links and labels that a theme marks as terms: a class word `tag(s)`, `categor(y|ies)`,
  `topic(s)`, `keyword(s)`, `term(s)`, `pill`, `chip`, `cat-links` on the element or on
  the element that holds it (Blogger's `a.label` too), microdata `articleSection` and
  `keywords`, microformats' `p-category`, Drupal's entity-reference and taxonomy fields, Ghost's primary tag;
- not breadcrumbs, navigation or sidebars, and not classes on the post element itself
  (WordPress's `category-news` on an `<article>` is not shown).
"""

from __future__ import annotations

import re

from bs4 import Tag

from feeds.ingest.html.page import attr_of, class_words, excluded, not_post, text_of

_TERM_WORDS = {"tag", "tags", "category", "categories", "cat", "cats", "topic", "topics", "keyword", "keywords",
               "term", "terms", "pill", "pills", "chip", "chips", "labels", "taxonomy", "etiquettes", "schlagworte",
               "rubrik", "tagcloud"}
#: A taxonomy archive: the term's segment at most two segments deep (`/tag/x`, `/blog/tags/x/`,
#: `/ru/blog/category/x`), the slug last; not `/owner/repo/releases/tag/v1`.
#: The class words that mark an element whose plain-text items are terms (`<div class=topics>
#: <span>Rail</span>`): fewer than for links, as a "pill" or "chip" also shows a reading time.
_LEAF_WORDS = {"tag", "tags", "topic", "topics", "category", "categories", "labels", "keywords", "terms"}
_TAXONOMY_PATH = re.compile(r"^(?:[a-z]+:)?(?://[^/]+)?(?:/[^/?#]+){0,2}/(?:tags?|categor(?:y|ies)|topics?|search/label|labels?|tagged|taxonomy/term|"
                            r"schlagw(?:ort|oerter|örter)|kategorie[n]?|themen?|etiquetas?|rubriques?|mots?-cles?)"
                            r"/[^/?#]+/?(?:[?#].*)?$|^(?:[a-z]+:)?(?://[^/]+)?(?:/[^/?#]+){0,2}/?\?(?:[^#]*&)?(?:tag|category)=",
                            re.I)
_LABELS = ("[itemprop=articleSection], [itemprop=keywords], .post-card-primary-tag, .p-category, "
           ".field--type-entity-reference .field__item, .field-type-taxonomy-term-reference .field-item")
#: A label's own heading, not a term ("Tags:", "Filed under").
_HEADINGS = _TERM_WORDS | {"tagged", "filed under", "posted in", "kategorien", "themen", "temas", "etiquetas", "topic"}
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
    """A link in a sentence ("… as we wrote <a>here</a> …"), not in a list of labels: the
    block that holds it says more outside its links than a label line's few words."""
    block = next((t for t in a.parents if t.name in _BLOCKS), None)
    if block is None:
        return False
    outside = len(text_of(block)) - sum(len(text_of(link)) for link in block.find_all("a"))
    return outside > 40


_HEADING_TAGS = ["h1", "h2", "h3", "h4", "h5", "h6"]
_BLOCKS = {"p", "li", "dd", "td", "blockquote", "div", "aside", "section", "footer", "header", "article", "ul",
           "ol", "dl", "nav", "main", "body"}


def _is_label(tag: Tag) -> bool:
    """Does `tag` match _LABELS? (As soupsieve would say, without its cost on every span.)"""
    classes = set(tag.get("class") or [])
    if tag.get("itemprop") in ("articleSection", "keywords") or classes & {"post-card-primary-tag", "p-category"}:
        return True
    field = ("field--type-entity-reference" if "field__item" in classes
             else "field-type-taxonomy-term-reference" if "field-item" in classes else None)
    return field is not None and any(field in (t.get("class") or []) for t in tag.parents)


def _label(tag: Tag) -> list[str]:
    links = [a for a in tag.find_all("a") if text_of(a)]
    names = [text_of(a) for a in links] if links else [text_of(tag)]
    if tag.get("itemprop") == "keywords" and not links and tag.name == "meta":
        names = attr_of(tag, "content").split(",")
    return [" ".join(n.split()) for n in names if n and len(n) <= 80]


def terms_in(scope: Tag) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for tag in scope.css.iselect(f"a[href], a[rel], {_LABELS}, span, li"):
        names = _names(tag, scope)
        if not names or (excluded(tag, stop=scope) and not _post_aside(tag, scope)) or _in_not_terms(tag, scope):
            continue
        for name in names:
            name = name.strip(" \"'“”,–—·•|:").removeprefix("- ").removeprefix("#")  # ("#rust", "- tools")
            if name and len(name) <= 80 and name not in seen and not _COUNTED.search(name) \
                    and (tag.name == "a" or name.casefold() not in _HEADINGS):
                seen[name] = None
    return tuple(seen)


def _names(tag: Tag, scope: Tag) -> list[str]:
    """The term names `tag` gives: a term link's text, a label's, a topic printed as a leaf
    in an element marked as terms (`<div class=topics><span>Rail</span>`)."""
    if tag.name == "a":
        if tag.find_parent(_label_match) is not None:
            return []  # (read with its label)
        return [text_of(tag)] if _is_term_link(tag, scope) else []
    if tag.name in ("span", "li") and not _is_label(tag):
        if tag.find(True) is not None:
            return []
        link = tag.find_parent("a")
        leaf = (link is None or link.find(_HEADING_TAGS) is not None) and \
            not (isinstance(tag.parent, Tag) and tag.parent.find("a") is not None and link is None)
        text = text_of(tag)
        parent = tag.parent
        marked = isinstance(parent, Tag) and parent is not scope and (
            _words(parent) & _LEAF_WORDS or (isinstance(parent.parent, Tag) and parent.parent is not scope
                                             and _words(parent.parent) & _LEAF_WORDS))
        in_code = tag.find_parent(["pre", "code"]) is not None
        return [text] if leaf and marked and not in_code and text and len(text.split()) <= 5 else []
    return _label(tag)


def _post_aside(tag: Tag, scope: Tag) -> bool:
    """Inside an `<aside>` of the post itself (`<article>…<aside class=tags>`), which a page's
    sidebar is not, and in nothing else that is left out."""
    chain = _between(tag, scope)
    asides = [t for t in chain if t.name == "aside"]
    if not asides or asides[-1].find_parent("article") is None:
        return False
    return not any(t.name == "nav" or not_post(t) for t in chain)


def _between(tag: Tag, top: Tag) -> list[Tag]:
    chain = []
    for t in (tag, *tag.parents):
        if t is top or not isinstance(t, Tag):
            break
        chain.append(t)
    return chain


def _in_not_terms(tag: Tag, scope: Tag) -> bool:
    """Inside a breadcrumb, a share bar, a byline or comments (below the post element)."""
    for t in (tag, *tag.parents):
        if t is scope or not isinstance(t, Tag):
            return False
        if _NOT_TERMS.search(class_words(t)) or _words(t) & {"nav", "prev", "next", "previous", "navigation"}:
            return True
    parent = tag.parent  # a link beside the crumbs of a breadcrumb trail is one of them
    return isinstance(parent, Tag) and any("crumb" in class_words(c).lower()
                                           for c in parent.find_all(True, recursive=False))


def _label_match(tag: Tag) -> bool:
    return tag.get("itemprop") in ("articleSection", "keywords")
