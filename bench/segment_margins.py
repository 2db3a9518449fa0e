"""How close the segmenter's decisions are to its thresholds, measured on dumps.

    python bench/segment_margins.py seeds/*.txt

For every pair of consecutive posts, it lays the two out as whole posts in one
stretch and checks that the boundary is found (a missed boundary merges posts).
For every cut post (whose extent the marker proves), it runs the whole-post
logic over it alone and reports the headings it would wrongly take for titles.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feeds.ingest.segment import _Segmenter, segment  # noqa: E402
from feeds.ingest.text import read_text  # noqa: E402


def main(paths: list[str]) -> int:
    pairs = missed = cut_posts = false_splits = 0
    for path in paths:
        dump = read_text(path)
        posts = segment(path, dump.blocks).posts
        index = {b.line: i for i, b in enumerate(dump.blocks)}
        for a, b in zip(posts, posts[1:], strict=False):
            blocks = [dump.blocks[index[a.start_line]], *a.body, dump.blocks[index[b.start_line]], *b.body]
            spans = _Segmenter(blocks, "Continue reading", []).split_stretch(0, len(blocks))
            pairs += 1
            if [blocks[s].line for s, _ in spans] != [a.start_line, b.start_line]:
                missed += 1
                print(f"merged or split: {Path(path).name} {a.title[:40]!r} | {b.title[:40]!r}")
        for p in posts:
            if not p.truncated:
                continue
            cut_posts += 1
            blocks = [dump.blocks[index[p.start_line]], *p.body]
            spans = _Segmenter(blocks, "Continue reading", []).split_stretch(0, len(blocks))
            if len(spans) != 1:
                false_splits += len(spans) - 1
                print(f"false title: {Path(path).name} {p.title[:40]!r} at lines "
                      f"{[blocks[s].line for s, _ in spans[1:]]}")
    print(f"{pairs} adjacent pairs laid out whole: {missed} boundaries missed")
    print(f"{cut_posts} cut posts read as whole stretches: {false_splits} headings taken for titles")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:] or [str(p) for p in sorted(Path("seeds").glob("*.txt"))]))
