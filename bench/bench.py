#!/usr/bin/env python3
"""Benchmark feeds on a synthetic corpus built from the seed dumps.

    python bench/bench.py                 # 1,000 dumps, 20,000 posts, ~100 MB
    python bench/bench.py --dumps 100     # a quick run
    python bench/bench.py --profile /tmp/ingest.prof   # also profile a full ingest

What it does:

1. Builds the corpus (default bench/corpus/, git-ignored) unless it is there already
   for the same --dumps (see corpus/manifest.json); --rebuild-corpus forces it. The
   posts of seeds/*.txt (found with feeds' own reader and segmenter) are recombined
   into listing pages of 20 posts each, under new unique titles ("Quiet Dispatch 417:
   <seed title>"), in the seeds' format: title line, blank line, paragraphs one per line
   separated by blank lines, bullet lines '  • item' consecutive, and a cut post ending
   with 'Continue reading <exact title>'. The mix of cut and whole posts is the seeds'.
   Each page ends with the first OVERLAP (2) posts of the next, older page, as the seeds
   overlap: the pages form one linked history, as a site dumped over time does.
   Deterministic: the same --seed and --dumps give the same bytes (and file times).
   `python -m feeds inspect` is run on a sample of the dumps to check that it finds the
   posts that were written.
2. Runs `python -m feeds` as a subprocess, with a generated config and a fixed --now, in
   a fresh temporary directory:
   a. full ingest from an empty state: throughput and peak memory (max RSS of the child);
   b. a second pass with nothing new;
   c. a pass after adding one new page on top of the site: 18 new posts, and the two
      newest stored ones again (it is linked to the whole history);
   d. in-process: building atom.xml from the newest 50 entries, with the state of (a)
      and with the state of a 10-dump ingest, to see whether it depends on the store size;
   e. in-process: the library calls any ingest of the corpus makes (read, hash, decode,
      split lines, scan for month names, store the entries' rows), without feeds' own
      logic: a lower bound for the ingest in this Python;
   f. in-process: a pass over one saved post page with 10,000 rel=tag links, category feeds
      on (it keeps the first 100 categories), and a rebuild of what it published.
3. Prints the figures, one per line, with the goals next to them.

Only the standard library and feeds itself are used.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `import feeds` without installing it

SEEDS = ROOT / "seeds"
DEFAULT_CORPUS = ROOT / "bench" / "corpus"
GENERATOR = 3  # bump when the corpus format changes: an old corpus is then rebuilt
POSTS_PER_DUMP = 20
#: Each dump ends with the first OVERLAP posts of the page below it (the next, older listing
#: page), as dumps of a site's pages saved at different times do (the two seeds share two
#: posts): every page is linked to the next, and a new page on top to the whole history.
OVERLAP = 2
NOW = "2025-03-01T12:00:00+00:00"
#: File times of the dumps: dump i was "saved" at FIRST_MTIME + i minutes (before NOW).
FIRST_MTIME = datetime(2025, 2, 20, tzinfo=UTC).timestamp()
#: Seed posts longer than this are drawn less often (weight BIG/size): the seeds hold one
#: 56 KB post, which drawn as often as the rest would push the corpus to ~130 MB.
BIG = 10_000
MAX_TITLE = 149

GOAL_MBPS = 20.0
GOAL_RSS_MB = 300.0
GOAL_NOTHING_NEW_S = 1.0

ADJECTIVES = ("Quiet", "Northern", "Southern", "Evening", "Morning", "Weekly", "Open", "Late", "Early",
              "Harbour", "Mountain", "River", "Coastal", "Inland", "Second", "Winter", "Summer", "Spring",
              "Autumn", "Western", "Eastern", "Central", "Border", "Island")
NOUNS = ("Dispatch", "Notes", "Letter", "Review", "Chronicle", "Digest", "Report", "Bulletin", "Journal",
         "Commentary", "Record", "Despatch", "Briefing", "Diary", "Gazette", "Survey")


# -- the corpus ----------------------------------------------------------------------------

def load_seed_posts() -> tuple[list, list[str]]:
    """The distinct posts of the seed dumps (feeds' reader and segmenter), and their banners."""
    from feeds.ingest.segment import segment
    from feeds.ingest.text import read_text
    from feeds.normalise import identity

    posts: dict[str, object] = {}
    banners: list[str] = []
    for path in sorted(SEEDS.glob("*.txt")):
        dump = read_text(path)
        seg = segment(str(path), dump.blocks)
        first = seg.posts[0].start_line if seg.posts else 0
        banners.extend(b.text for b in seg.chrome if b.line < first and b.kind == "para")
        for post in seg.posts:
            posts.setdefault(identity(post.title), post)
    return list(posts.values()), banners


def render_post(title: str, post, marker: str = "Continue reading") -> str:
    lines = [title]
    prev = None
    for b in post.body:
        if not (b.kind == "bullet" and prev == "bullet"):
            lines.append("")
        lines.append(f"  • {b.text}" if b.kind == "bullet" else b.text)
        prev = b.kind
    if post.truncated:
        lines += ["", f"{marker} {title}"]
    return "\n".join(lines)


def new_title(rng: random.Random, number: int, seed_title: str) -> str:
    """A unique title: a word pair and the post's number before a seed title."""
    for prefix in (f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {number}: ", f"No. {number}: "):
        title = prefix + seed_title
        if len(title) <= MAX_TITLE:
            return title
    cut = title[:MAX_TITLE].rsplit(" ", 1)[0]
    return re.sub(r"[\s.,;:…]+$", "", cut)


def weighted_sample(rng: random.Random, items: list, weights: list[float], k: int) -> list:
    """k distinct items, drawn with the given weights (Efraimidis–Spirakis)."""
    keyed = sorted(((rng.random() ** (1.0 / w), i) for i, w in enumerate(weights)), reverse=True)
    return [items[i] for _, i in keyed[:k]]


def page_posts(index: int, seed: int, posts: list) -> list[tuple[str, object]]:
    """The posts listing page `index` shows first (all but OVERLAP of its posts), under new titles."""
    rng = random.Random(f"feeds-bench:{seed}:{index}")
    sizes = [len(p.title) + sum(len(b.text) + 2 for b in p.body) for p in posts]
    weights = [min(1.0, BIG / s) for s in sizes]
    chosen = weighted_sample(rng, posts, weights, min(POSTS_PER_DUMP - OVERLAP, len(posts)))
    rng.shuffle(chosen)
    return [(new_title(rng, index * POSTS_PER_DUMP + k + 1, post.title), post) for k, post in enumerate(chosen)]


def make_dump(index: int, seed: int, posts: list, banners: list[str],
              below: int | None) -> tuple[str, list[dict]]:
    """The text of listing page `index` and the posts written on it (title, cut): its own
    posts, then the first OVERLAP of page `below` (none for the last page of the site)."""
    own = page_posts(index, seed, posts)
    tail = page_posts(below, seed, posts)[:OVERLAP] if below is not None else []
    # The tail is another page's draw, and may repeat a text of this one's: a post of this
    # page's draw that does is drawn again, so that no text is shown twice in a row (two
    # copies of one text under two titles read as one post: see the README's known limits).
    # The first OVERLAP posts stay, as the page above shows them; they are 18 posts away.
    rng = random.Random(f"feeds-bench:{seed}:{index}:again")
    used = {id(p) for _, p in own} | {id(p) for _, p in tail}
    for k in range(OVERLAP, len(own)):
        if any(own[k][1] is p for _, p in tail):
            post = rng.choice([p for p in posts if id(p) not in used])
            used.add(id(post))
            own[k] = (new_title(rng, index * POSTS_PER_DUMP + k + 1, post.title), post)
    shown = own + tail
    parts: list[str] = []
    if banners and rng.random() < 0.5:  # like seed 000: a banner line above the first post
        parts.append(rng.choice(banners))
    written = []
    for title, post in shown:
        parts.append(render_post(title, post))
        written.append({"title": title, "truncated": post.truncated})
    return "\n\n".join(parts) + "\n", written


def write_dump(folder: Path, index: int, text: str) -> Path:
    data = text.encode("utf-8")
    path = folder / f"{index:04d}_{hashlib.sha256(data).hexdigest()[:16]}.txt"
    path.write_bytes(data)
    t = int((FIRST_MTIME + 60 * index) * 1e9)
    os.utime(path, ns=(t, t))
    return path


def build_corpus(folder: Path, dumps: int, seed: int, rebuild: bool) -> dict:
    manifest_path = folder / "manifest.json"
    want = {"generator": GENERATOR, "dumps": dumps, "seed": seed,
            "seeds": sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in SEEDS.glob("*.txt"))}
    if not rebuild and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if ({k: manifest.get(k) for k in want} == want
                and all((folder / f["name"]).exists() for f in manifest["files"])):
            return manifest
        print(f"corpus in {folder} is for other parameters: rebuilding it", flush=True)
    print(f"building corpus: {dumps} dumps into {folder} ...", flush=True)
    t0 = time.perf_counter()
    posts, banners = load_seed_posts()
    if folder.exists():
        for old in folder.glob("*.txt"):
            old.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    total = 0
    for i in range(dumps):
        text, written = make_dump(i, seed, posts, banners, i + 1 if i + 1 < dumps else None)
        path = write_dump(folder, i, text)
        size = path.stat().st_size
        total += size
        files.append({"name": path.name, "bytes": size, "posts": written})
    manifest = {**want, "bytes": total, "seed_posts": len(posts),
                "seed_cut": sum(p.truncated for p in posts), "files": files}
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=0))
    print(f"  built in {time.perf_counter() - t0:.1f} s", flush=True)
    return manifest


# -- running feeds -------------------------------------------------------------------------

def toml_str(value: object) -> str:
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def write_config(path: Path, inputs: list[str], out: Path, state: Path) -> Path:
    path.write_text(
        "[site]\n"
        'title = "feeds benchmark"\n'
        'url = "https://bench.example.org/"\n'
        'base_url = "http://127.0.0.1:8000/"\n\n'
        "[input]\n"
        f"paths = [{', '.join(toml_str(p) for p in inputs)}]\n\n"
        f"[output]\ndir = {toml_str(out)}\n\n"
        f"[state]\npath = {toml_str(state)}\n")
    return path


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run(cmd: list[str], cwd: Path, log: Path) -> dict:
    """Run a child; its wall time, exit code, CPU time and peak RSS (its own, via wait4)."""
    with open(log.with_suffix(".out"), "wb") as out, open(log.with_suffix(".err"), "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=child_env())
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout = log.with_suffix(".out").read_text(errors="replace")
    stderr = log.with_suffix(".err").read_text(errors="replace")
    if proc.returncode not in (0, 1):
        print(f"!! {' '.join(cmd)} exited {proc.returncode}\n{stderr[-3000:]}", file=sys.stderr)
    return {"wall": wall, "rc": proc.returncode, "cpu": usage.ru_utime + usage.ru_stime,
            "user": usage.ru_utime, "sys": usage.ru_stime,
            "rss_mb": usage.ru_maxrss / 1024,  # Linux: kilobytes
            "stdout": stdout, "stderr": stderr}


def feeds_pass(config: Path, cwd: Path, log: Path, *extra: str) -> dict:
    return run([sys.executable, "-m", "feeds", "-c", str(config), "--now", NOW, *extra], cwd, log)


def summary_line(result: dict) -> str:
    lines = [ln for ln in result["stdout"].splitlines() if ln.startswith("feeds: ")]
    return lines[-1] if lines else f"(no summary line; exit {result['rc']})"


def summary_numbers(line: str) -> dict[str, int]:
    out = {}
    for name, pattern in (("read", r"(\d+) dump\(s\) read"), ("found", r"(\d+) post\(s\) found"),
                          ("new", r"(\d+) new"), ("stored", r"\((\d+) (?:entries )?stored"),
                          ("written", r"(\d+) file\(s\) written"), ("skipped", r"(\d+) skipped")):
        m = re.search(pattern, line)
        if m:
            out[name] = int(m.group(1))
    return out


# -- checks and in-process timings -------------------------------------------------------

def check_segmentation(corpus: Path, manifest: dict, sample: int, work: Path) -> dict:
    """`feeds inspect --json` on `sample` dumps spread over the corpus vs what was written."""
    files = manifest["files"]
    n = min(sample, len(files))
    picks = sorted({round(k * (len(files) - 1) / max(n - 1, 1)) for k in range(n)})
    chosen = [files[i] for i in picks]
    config = write_config(work / "inspect.toml", [str(corpus / "*.txt")], work / "inspect-out",
                          work / "inspect-state" / "feeds.sqlite3")
    res = run([sys.executable, "-m", "feeds", "inspect", "-c", str(config), "--now", NOW, "--json",
               *(str(corpus / f["name"]) for f in chosen)], work, work / "inspect")
    rows = [json.loads(ln) for ln in res["stdout"].splitlines() if ln.startswith("{")]
    by_dump: dict[str, list[dict]] = {}
    for r in rows:
        by_dump.setdefault(Path(r["dump"]).name, []).append(r)
    written = found = same_title = same_cut = 0
    off: list[str] = []
    for f in chosen:
        got = by_dump.get(f["name"], [])
        want = f["posts"]
        written += len(want)
        found += len(got)
        titles = {p["title"]: p["truncated"] for p in want}
        same_title += sum(r["title"] in titles for r in got)
        same_cut += sum(r["title"] in titles and titles[r["title"]] == r["truncated"] for r in got)
        if len(got) != len(want):
            off.append(f"{f['name']}: {len(got)} found / {len(want)} written")
    return {"dumps": len(chosen), "written": written, "found": found, "same_title": same_title,
            "same_cut": same_cut, "off": off, "wall": res["wall"], "rc": res["rc"],
            "stderr": res["stderr"]}


def best_of(fn, repeat: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), value


def time_feed_build(config_path: Path, repeat: int = 7) -> dict:
    """In-process: newest(50) from the state, then Publisher.feed(…, 'atom.xml'); and the whole
    publish() step of a pass in which one entry changed."""
    from feeds import config as config_mod
    from feeds.publish.render import Publisher
    from feeds.publish.stage import publish
    from feeds.store import Store

    cfg = config_mod.load(config_path)
    with Store(cfg.state.path) as store:
        stored = store.count()
        limit = cfg.output.max_entries
        query, newest = best_of(lambda: store.newest(limit), repeat)
        entries = [(s.entry, s.url) for s in newest]
        pub = Publisher(cfg)
        pub.feed(entries, "atom.xml")  # warm: templates, lxml
        feed, _ = best_of(lambda: pub.feed(entries, "atom.xml"), repeat)
        changed = newest[0].entry
        month = changed.published.astimezone(cfg.site.tz).strftime("%Y-%m")

        def one_changed() -> list[str]:
            """publish() after one changed entry: its page, the feeds and the index."""
            with store.transaction():
                store.add_pending("entry", [changed.key])
            return publish(store, cfg)

        one_changed()  # warm
        whole, _ = best_of(one_changed, 3)
        rows = store.month_rows(month)
        archive, _ = best_of(lambda: pub.archive_page(month, rows), 3)
    return {"stored": stored, "query": query, "feed": feed, "publish": whole, "archive": archive,
            "month": month, "month_posts": len(rows)}


def time_library_floor(paths: list[Path], state: Path) -> dict:
    """In-process: the library calls any ingest of these dumps makes, with none of feeds' own
    logic: read each dump, hash it (SHA-256), decode it, split it into stripped lines, scan it
    for month names (the dates' pattern), and store the stored entries' rows in a fresh state
    (same schema and pragmas, transactions of a few thousand rows). The ingest cannot be
    faster than this in this Python; the rest of its time is finding posts, dating and
    making entries."""
    import sqlite3

    from feeds.dating.mentions import _MONTH_PREFIX
    from feeds.store import Store

    times = dict.fromkeys(("read", "hash", "decode", "lines", "month scan", "store"), 0.0)

    def timed(name: str, t0: float) -> float:
        t = time.perf_counter()
        times[name] += t - t0
        return t

    for path in paths:
        t = time.perf_counter()
        data = path.read_bytes()
        t = timed("read", t)
        hashlib.sha256(data).hexdigest()
        t = timed("hash", t)
        text = data.decode("utf-8-sig")
        t = timed("decode", t)
        [line for line in map(str.strip, text.splitlines()) if line]
        t = timed("lines", t)
        for _ in _MONTH_PREFIX.finditer(text):
            pass
        timed("month scan", t)
    src = sqlite3.connect(state)
    rows = src.execute(f"SELECT {', '.join(Store._PUT_COLUMNS)} FROM entries ORDER BY rowid").fetchall()
    src.close()
    with tempfile.TemporaryDirectory(prefix="feeds-bench-floor-") as tmp, Store(Path(tmp) / "floor.sqlite3") as store:
        t = time.perf_counter()
        for i in range(0, len(rows), 3000):
            with store.transaction():
                store.db.executemany(Store._PUT_SQL, rows[i:i + 3000])
        timed("store", t)
    return {"times": times, "total": sum(times.values()), "rows": len(rows)}


MANY_TAGS = 10_000


def time_many_tags(work: Path, tags: int = MANY_TAGS) -> dict:
    """In-process: a pass over one post page with `tags` rel=tag links, category feeds on (the
    pass's own timings: read, store, publish), then publish() again with rebuild=True."""
    import logging

    from feeds import config as config_mod
    from feeds.pipeline import run_once
    from feeds.publish.stage import publish
    from feeds.store import Store

    root = work / "many-tags"
    (root / "dumps").mkdir(parents=True)
    links = " ".join(f'<a rel="tag" href="https://example.org/tag/t{i}">Topic {i}</a>' for i in range(tags))
    page = root / "dumps" / "post.html"
    page.write_text('<!doctype html><html><head><link rel="canonical" href="https://example.org/p/1"></head><body>'
                    '<article class="post"><h1 class="entry-title">A post with many tags</h1>'
                    '<div class="entry-content">'
                    f'<p>Text.</p></div><footer class="tags-links">{links}</footer></article></body></html>')
    cfg = config_mod.parse({"site": {"title": "T", "url": "https://example.org/", "timezone": "UTC"},
                            "input": {"paths": [str(page)]},
                            "output": {"dir": str(root / "out"), "category_feeds": True},
                            "state": {"path": str(root / "state.sqlite3")}})
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("feeds.pipeline")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        with Store(cfg.state.path) as store:
            t0 = time.perf_counter()
            report = run_once(cfg, store, datetime.fromisoformat(NOW))
            first = time.perf_counter() - t0
            rebuild, written = best_of(lambda: publish(store, cfg, rebuild=True), 3)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    timings = next((r for r in records if r.startswith("timings: ")), "timings: ?")
    return {"bytes": page.stat().st_size, "tags": tags, "first": first, "timings": timings.removeprefix("timings: "),
            "files": len(report.files_written), "feeds": len(list((root / "out" / "categories").glob("*/atom.xml"))),
            "rebuild": rebuild}


def print_profile(path: Path, top: int) -> None:
    import pstats
    for key in ("tottime", "cumulative"):
        print(f"\n--- profile of the full ingest: top {top} by {key} ---", flush=True)
        stats = pstats.Stats(str(path), stream=sys.stdout)
        stats.strip_dirs().sort_stats(key).print_stats(top)
    sys.stdout.flush()


# -- main ----------------------------------------------------------------------------------

def code_hash() -> str:
    """A hash of the code measured: feeds/**/*.py and templates/*."""
    h = hashlib.sha256()
    for path in sorted([*(ROOT / "feeds").rglob("*.py"), *(ROOT / "templates").glob("*")]):
        if path.is_file():
            h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def code_version() -> str:
    """The commit checked out, whether feeds/ or templates/ differ from it, and the code hash."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "feeds", "templates"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        head, dirty = "unknown (no git)", ""
    return (f"commit {head}" + (" with uncommitted changes in feeds/ or templates/" if dirty else "")
            + f", code hash {code_hash()}")


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python bench/bench.py", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"goals: ingest >= {GOAL_MBPS:g} MB/s on one core; peak memory < {GOAL_RSS_MB:g} MB; "
               f"a pass with nothing new < {GOAL_NOTHING_NEW_S:g} s; feed build time independent of "
               "the number of stored posts. MB = 10^6 bytes for sizes, 2^20 bytes for memory.")
    parser.add_argument("--dumps", type=int, default=1000, metavar="N",
                        help="dumps in the corpus, 20 posts each (default 1000: ~100 MB)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, metavar="DIR",
                        help="where the corpus lives (default bench/corpus/); rebuilt when missing or "
                             "built for another --dumps/--seed")
    parser.add_argument("--rebuild-corpus", action="store_true", help="build the corpus again anyway")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the corpus (default 1)")
    parser.add_argument("--sample", type=int, default=50, metavar="N",
                        help="dumps checked with `feeds inspect` (default 50)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (state, out/, logs)")
    parser.add_argument("--tmpdir", type=Path, default=None, metavar="DIR",
                        help="make the temporary directory under DIR (default: the system's)")
    parser.add_argument("--profile", type=Path, default=None, metavar="FILE",
                        help="also run a full ingest under cProfile into FILE (fresh state) and print "
                             "the top functions by tottime and cumtime")
    parser.add_argument("--top", type=int, default=25, help="functions in each profile list (default 25)")
    args = parser.parse_args(argv)
    if args.dumps < 10:
        parser.error("--dumps must be at least 10")

    corpus = args.corpus.resolve()
    manifest = build_corpus(corpus, args.dumps, args.seed, args.rebuild_corpus)
    corpus_bytes = sum((corpus / f["name"]).stat().st_size for f in manifest["files"])
    posts_written = sum(len(f["posts"]) for f in manifest["files"])
    cut_written = sum(p["truncated"] for f in manifest["files"] for p in f["posts"])
    distinct = len({p["title"] for f in manifest["files"] for p in f["posts"]})

    work = Path(tempfile.mkdtemp(prefix="feeds-bench-", dir=args.tmpdir))
    lines: list[str] = []

    def say(text: str) -> None:
        lines.append(text)
        print(text, flush=True)

    try:
        extra_dir = work / "extra"
        extra_dir.mkdir()
        big = write_config(work / "feeds.toml", [str(corpus / "*.txt")], work / "out",
                           work / "state" / "feeds.sqlite3")
        first10 = [str(corpus / f["name"]) for f in manifest["files"][:10]]
        small = write_config(work / "small.toml", first10, work / "small-out", work / "small-state" / "feeds.sqlite3")

        version, start_hash = code_version(), code_hash()
        os.sync()  # a freshly written corpus should not be flushed to disk during the passes
        print("checking segmentation with `feeds inspect` ...", flush=True)
        seg = check_segmentation(corpus, manifest, args.sample, work)
        print("(a) full ingest ...", flush=True)
        a = feeds_pass(big, work, work / "a-full", "-v")
        print("(b) nothing new ...", flush=True)
        b = feeds_pass(big, work, work / "b-nothing-new")
        print("(c) one new dump ...", flush=True)
        posts, banners = load_seed_posts()
        # a new page on top of the site: it ends with the first posts of page 0, the newest
        text, _ = make_dump(args.dumps, args.seed, posts, banners, below=0)
        new_dump = write_dump(extra_dir, args.dumps, text)
        # the new dump lands in a folder of its own, which the config names from now on
        write_config(big, [str(corpus / "*.txt"), str(extra_dir / "*.txt")], work / "out",
                     work / "state" / "feeds.sqlite3")
        c = feeds_pass(big, work, work / "c-one-new")
        print("(d) feed build at two store sizes ...", flush=True)
        s = feeds_pass(small, work, work / "small-ingest")
        d_small = time_feed_build(small)
        d_big = time_feed_build(big)
        print("(e) the library calls alone ...", flush=True)
        e = time_library_floor([corpus / f["name"] for f in manifest["files"]], work / "state" / "feeds.sqlite3")
        print(f"(f) one post with {MANY_TAGS} tags ...", flush=True)
        f = time_many_tags(work)

        na = summary_numbers(summary_line(a))
        nc = summary_numbers(summary_line(c))
        mb = corpus_bytes / 1e6
        print()
        say(f"feeds benchmark, {datetime.now().isoformat(timespec='seconds')}, python {sys.version.split()[0]}, "
            f"{os.cpu_count()} CPU(s), temp dir {work}")
        say(f"code: {version}; --now {NOW}")
        say(f"corpus: {len(manifest['files'])} dumps, {posts_written} posts written, {distinct} distinct "
            f"(each page shows the first {OVERLAP} of the next; {cut_written} cut, {posts_written - cut_written} "
            f"whole; from {manifest['seed_posts']} distinct seed posts), {mb:.1f} MB ({corpus_bytes} bytes) "
            f"in {corpus}")
        say(f"segmentation check (feeds inspect on {seg['dumps']} dumps): {seg['found']} found / "
            f"{seg['written']} written = {seg['found'] / max(seg['written'], 1):.1%}; "
            f"titles exact {seg['same_title']}/{seg['written']}, cut/whole right {seg['same_cut']}/{seg['written']}; "
            f"{len(seg['off'])} dump(s) off by count" + (f" (e.g. {'; '.join(seg['off'][:5])})" if seg["off"] else ""))
        say(f"(a) full ingest: {a['wall']:.2f} s wall, {a['cpu']:.2f} s CPU (user {a['user']:.2f}, sys {a['sys']:.2f}) "
            f"-> {mb / a['wall']:.2f} MB/s wall, {mb / max(a['cpu'], 1e-9):.2f} MB/s CPU   "
            f"[goal >= {GOAL_MBPS:g} MB/s on one core: {verdict(mb / a['wall'] >= GOAL_MBPS)}]")
        stages = re.search(r"timings: read and segment ([\d.]+) s, date and store ([\d.]+) s, "
                           r"publish ([\d.]+) s \((\d+) files\)", a["stderr"])
        if stages:
            read_s, store_s, publish_s, files = (float(stages[1]), float(stages[2]), float(stages[3]),
                                                 int(stages[4]))
            say(f"(a) of which: read and segment {read_s:.2f} s, date and store {store_s:.2f} s -> ingest alone "
                f"{mb / (read_s + store_s):.2f} MB/s; publish {publish_s:.2f} s for {files} files "
                f"({1000 * publish_s / max(files, 1):.2f} ms a file)")
        say(f"(a) peak memory (max RSS of the child): {a['rss_mb']:.0f} MB   "
            f"[goal < {GOAL_RSS_MB:g} MB: {verdict(a['rss_mb'] < GOAL_RSS_MB)}]")
        say(f"(a) exit {a['rc']}; {summary_line(a)}")
        if "found" in na:
            say(f"(a) posts found by the full ingest: {na['found']} / {posts_written} written "
                f"= {na['found'] / posts_written:.1%}; entries stored: {na.get('stored', '?')}")
        say(f"(b) nothing-new pass: {b['wall']:.3f} s wall ({b['cpu']:.3f} s CPU, {b['rss_mb']:.0f} MB RSS)   "
            f"[goal < {GOAL_NOTHING_NEW_S:g} s: {verdict(b['wall'] < GOAL_NOTHING_NEW_S)}]")
        say(f"(b) exit {b['rc']}; {summary_line(b)}")
        say(f"(c) pass after one new page on top ({POSTS_PER_DUMP - OVERLAP} new posts and {OVERLAP} stored ones, "
            f"{new_dump.stat().st_size} bytes): "
            f"{c['wall']:.3f} s wall ({c['cpu']:.3f} s CPU, {c['rss_mb']:.0f} MB RSS)")
        found_c = f"  [found {nc['found']} / {POSTS_PER_DUMP}]" if "found" in nc else ""
        say(f"(c) exit {c['rc']}; {summary_line(c)}{found_c}")
        if code_hash() != start_hash:
            say(f"WARNING: feeds/ or templates/ changed during the run (was {version}; now {code_version()})")
        say(f"(d) feed build (Publisher.feed of newest {50} -> atom.xml), median of 7: "
            f"{d_small['feed'] * 1000:.1f} ms with {d_small['stored']} entries stored, "
            f"{d_big['feed'] * 1000:.1f} ms with {d_big['stored']} entries stored "
            f"(x{d_big['feed'] / d_small['feed']:.2f})   "
            f"[goal: independent of stored posts (within x1.5 + 5 ms): "
            f"{verdict(d_big['feed'] < 1.5 * d_small['feed'] + 0.005)}]")
        say(f"(d) store.newest(50) query: {d_small['query'] * 1000:.1f} ms with {d_small['stored']} stored, "
            f"{d_big['query'] * 1000:.1f} ms with {d_big['stored']} stored (x{d_big['query'] / d_small['query']:.2f})")
        say(f"(d) publish() after 1 changed entry (its page, feeds, index), median of 3: "
            f"{d_small['publish']:.3f} s with {d_small['stored']} stored, {d_big['publish']:.3f} s with "
            f"{d_big['stored']} stored (x{d_big['publish'] / d_small['publish']:.1f})   "
            f"[goal: independent of stored posts (within x1.5 + 10 ms): "
            f"{verdict(d_big['publish'] < 1.5 * d_small['publish'] + 0.01)}]")
        say(f"(d) plus the archive page of that entry's month ({d_big['month']}): "
            f"{d_small['archive'] * 1000:.0f} ms for {d_small['month_posts']} posts, "
            f"{d_big['archive'] * 1000:.0f} ms for {d_big['month_posts']} posts (grows with the posts of one "
            f"month; this corpus puts all its posts in two months)")
        parts = ", ".join(f"{name} {t:.2f} s" for name, t in e["times"].items())
        budget = mb / GOAL_MBPS
        say(f"(e) the library calls any ingest makes, without feeds' own logic ({parts}; store: the "
            f"{e['rows']} stored entries into a fresh state): {e['total']:.2f} s -> {mb / e['total']:.1f} MB/s. "
            f"Of the {budget:.2f} s that {GOAL_MBPS:g} MB/s allows, {budget - e['total']:.2f} s are left for "
            "finding the posts, dating them and making the entries"
            + (f" (the ingest of (a) spent {read_s + store_s - e['total']:.2f} s beyond these calls)"
               if stages else ""))
        say(f"(f) one post with {f['tags']} rel=tag links ({f['bytes']} bytes), category feeds on: first pass "
            f"{f['first']:.2f} s ({f['timings']}), {f['files']} files, {f['feeds']} category feeds; publishing all "
            f"of it again {f['rebuild']:.2f} s (median of 3). Was about N^2.6: 78 s for 800 tags, hours for 10,000")
        say(f"    (10-dump ingest for the small store: {s['wall']:.2f} s, exit {s['rc']}; {summary_line(s)})")
        for name, r in (("a", a), ("b", b), ("c", c)):
            warnings = [ln for ln in r["stderr"].splitlines() if ln.strip()]
            if warnings:
                say(f"    stderr of ({name}): {len(warnings)} line(s), first: {warnings[0][:200]}")
        (work / "figures.txt").write_text("\n".join(lines) + "\n")

        if args.profile:
            print(f"\nprofiling a full ingest (fresh state) into {args.profile} ...", flush=True)
            prof = write_config(work / "profile.toml", [str(corpus / "*.txt")], work / "profile-out",
                                work / "profile-state" / "feeds.sqlite3")
            p = run([sys.executable, "-m", "cProfile", "-o", str(args.profile.resolve()), "-m", "feeds",
                     "-c", str(prof), "--now", NOW], work, work / "profile")
            print(f"profiled pass: {p['wall']:.2f} s wall under cProfile, exit {p['rc']}; {summary_line(p)}")
            print_profile(args.profile, args.top)
            if code_hash() != start_hash:
                print(f"WARNING: feeds/ or templates/ changed during the run (was {version}; now {code_version()})")
    finally:
        if args.keep:
            print(f"\nkept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
