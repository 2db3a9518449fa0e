"""Blog engines' conventions for a post element, as data: one row per engine or standard.

Each row names the CSS selectors (soupsieve, as bs4 runs them) that the engine's stock
themes put on one post of a listing or a single post's page. The reader takes every element
any row matches (the outermost of nested ones: .posts), and records which row found it,
so that `feeds inspect --explain` can say so. A new engine is one row, not a branch.

The rows are the markup the engines' own themes write (WordPress's `post_class()`, Blogger's
`.post-outer`/`.post`, Ghost's `post-card`, Drupal's `node--view-mode-teaser`, …); classes
that any site may use for something else (`.item`, `.card`, `.entry`) are not in the table:
such pages are read by their structure (.structure) or by selectors in the config.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Engine:
    name: str
    posts: str  # a CSS selector list for one post element


ENGINES: tuple[Engine, ...] = (
    Engine("microformats (h-entry, hAtom)", ".h-entry, .hentry"),
    Engine("schema.org microdata", "[itemtype*='schema.org/BlogPosting'], [itemtype*='schema.org/Article'], "
                                   "[itemtype*='schema.org/NewsArticle']"),
    Engine("WordPress", ".type-post, li.wp-block-post"),
    Engine("Blogger", "div.post"),
    Engine("Ghost", "article.post-card"),
    Engine("Hugo", "div.post.on-list, article.post-entry"),
    Engine("Jekyll", "li.post"),
    Engine("Drupal", "article.node--view-mode-teaser, div.node-teaser, article.node-teaser"),
    Engine("Medium", "div.postArticle, div.streamItem--postPreview"),
    Engine("Substack", "div.post-preview"),
    Engine("Squarespace", "article.BlogList-item, article.blog-item, div.summary-item"),
    Engine("Tumblr", "article.post, li.post, div.post-wrapper"),
    Engine("HTML5 article", "article"),
)

#: Rows any page's markup may match (an `<article>` is any article): a post element they alone
#: find needs a title the field rules know.
GENERIC = frozenset({"HTML5 article", "microformats (h-entry, hAtom)", "schema.org microdata"})



def _union(selectors: list[str]) -> str:
    """The selectors as one list, without those another one already selects (`article.post-card`
    beside `article`): the same elements, in less time (soupsieve tries each per element)."""
    def covers(short: str, long: str) -> bool:
        return long != short and long.startswith(short) and long[len(short)] in ".[:#"
    return ", ".join(dict.fromkeys(s for s in selectors if not any(covers(o, s) for o in selectors)))


#: Every row's selectors as one list: what the reader selects a page's post elements with.
POST_SELECTOR = _union([s.strip() for e in ENGINES for s in e.posts.split(",")])


def engine_of(tag: object) -> str:
    """The name of the first row whose selectors match `tag` (a bs4 Tag the table found)."""
    match = getattr(tag, "css", None)
    for engine in ENGINES:
        if match is not None and match.match(engine.posts):
            return engine.name
    return "engine table"
