"""What the store's tables share: the connection, times as text, reads of many keys."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime


def iso(dt: datetime) -> str:
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt!r}: every time must carry its zone")
    return dt.astimezone(UTC).isoformat(timespec="seconds")


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Tables:
    """The base of each group of tables' methods (Store is made of them): the connection."""

    db: sqlite3.Connection

    def _rows_where_in(self, select: str, column: str, values: Sequence[str], chunk: int = 500
                       ) -> Iterator[sqlite3.Row]:
        """`select` (a SELECT … FROM a table) WHERE column IN values: one query per `chunk` values."""
        for i in range(0, len(values), chunk):
            part = list(values[i:i + chunk])
            yield from self.db.execute(f"{select} WHERE {column} IN ({','.join('?' * len(part))})", part)
