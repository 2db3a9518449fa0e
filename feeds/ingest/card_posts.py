"""The posts of a listing's cards (feeds.ingest.cards): each card's title, text and cut, with
the date, author and categories its metadata lines give; what no card holds is chrome."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from feeds.ingest.cards import Card
from feeds.ingest.lines import author_of, categories_of, date_of, meta_kind, name_like
from feeds.ingest.segment import Segmentation
from feeds.models import Block, Post

__all__ = ["segmentation"]


def segmentation(dump: str, blocks: Sequence[Block], cards: Sequence[Card]) -> Segmentation:
    """The posts of the cards, with the author and categories their metadata lines name;
    every block no card holds is chrome."""
    posts: list[Post] = []
    dates: list[date | None] = []
    held: set[int] = set()
    for position, card in enumerate(cards):
        title = blocks[card.title]
        body = tuple(blocks[j] for j in card.body)
        meta = [blocks[j].key for j in card.meta]
        author = next((a for a in map(author_of, meta) if a), None) or next(
            (blocks[j].key for j in card.names if not any(c.isdigit() for c in blocks[j].key)), None) or next(
            (line for line in meta if meta_kind(line) is None and name_like(line)), None)  # a name in the group
        categories = tuple(c for line in meta for c in categories_of(line))
        posts.append(Post(dump=dump, title=card.title_text or title.key, start_line=title.line,
                          end_line=body[-1].line if body else title.line, truncated=card.truncated, body=body,
                          position=position, author=author, categories=categories))
        dates.append(next((d for line in meta if (d := date_of(line))), None)
                     or (date_of(title.key) if card.title_text else None))
        held.update((card.title, *card.body, *card.meta, *card.names))
    chrome = tuple(b for j, b in enumerate(blocks) if j not in held)
    return Segmentation(tuple(posts), chrome, (), tuple(dates))
