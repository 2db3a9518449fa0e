"""Validity of what a real build writes: Atom against RFC 4287's schema, both feeds through
feedparser and a few RSS/Atom rules by hand, the HTML pages through the Nu HTML Checker, and
reproducibility (nothing under out/ depends on the wall clock or on --now beyond the tag: ids).

Every build runs the real CLI in a subprocess, in a temporary directory, on the repo's seeds.

The Nu HTML Checker needs `java` and vnu.jar. The jar is looked up at $VNU_JAR, else at
tests/.vnu/node_modules/vnu-jar/build/dist/vnu.jar, put there by
    npm install --ignore-scripts --no-audit --no-fund --no-save --prefix tests/.vnu vnu-jar
Without java or the jar that one test is skipped, saying so.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
from lxml import etree

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = Path(__file__).resolve().parent / "schemas"
NOW = "2025-03-01T09:00:00+00:00"
OTHER_NOW = "2025-03-08T17:30:00+00:00"
EXPECTED_ENTRIES = 38
VNU_JAR_DEFAULT = Path(__file__).resolve().parent / ".vnu" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

ATOM_NS = "http://www.w3.org/2005/Atom"
NS = {"atom": ATOM_NS, "content": "http://purl.org/rss/1.0/modules/content/"}
RNG_NS = "http://relaxng.org/ns/structure/1.0"
SCHEMATRON_NS = "http://www.ascc.net/xml/schematron"

# RFC 822 date-time as RSS 2.0 wants it, with a numeric zone (not "GMT", "EST", "Z", ...).
RFC822_NUMERIC = re.compile(
    r"(?P<dow>Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}:\d{2} [+-]\d{4}")
DOW = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# tag:authority,YYYY-MM-DD:specific  (RFC 4151): the date is when the post was first seen.
TAG_DATE = re.compile(rb"(tag:[^,<>\"\s]+,)\d{4}(?:-\d{2}){0,2}:")


# -- helpers ------------------------------------------------------------------------------

def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # A JSON string (non-ASCII kept as is) is a valid TOML basic string.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML here")


def _repo_config() -> dict:
    with open(REPO / "feeds.toml", "rb") as fh:
        return tomllib.load(fh)


def write_config(root: Path) -> Path:
    """A feeds.toml under `root`: the repo's [site] (and other settings), the repo's seeds by
    absolute path, output and state inside `root`."""
    repo = _repo_config()
    site = dict(repo.get("site", {}))
    inp = {k: v for k, v in repo.get("input", {}).items() if k != "paths"}
    inp["paths"] = [str(REPO / "seeds" / "*.txt")]
    out = {k: v for k, v in repo.get("output", {}).items() if k != "dir"}
    if "templates" in out:
        out["templates"] = str((REPO / out["templates"]).resolve())
    out["dir"] = str(root / "out")
    state = {"path": str(root / "state" / "feeds.sqlite3")}
    lines = []
    for name, table in (("site", site), ("input", inp), ("output", out), ("state", state)):
        lines.append(f"[{name}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
        lines.append("")
    cfg = root / "feeds.toml"
    cfg.write_text("\n".join(lines), encoding="utf-8")
    return cfg


def build(root: Path, now: str = NOW) -> Path:
    """Run the real CLI once into `root` (fresh state); return the out/ directory."""
    root.mkdir(parents=True, exist_ok=True)
    cfg = write_config(root)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run([sys.executable, "-m", "feeds", "-c", str(cfg), "--now", now],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"feeds exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    out = root / "out"
    for name in ("atom.xml", "rss.xml", "index.html"):
        assert (out / name).is_file(), f"{name} not written; stderr:\n{proc.stderr}"
    return out


def tree_bytes(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def site() -> dict:
    return _repo_config().get("site", {})


def base_url() -> str:
    url = site().get("base_url", "http://127.0.0.1:8000/")
    return url if url.endswith("/") else url + "/"


def is_absolute_http(url: str | None) -> bool:
    if not url:
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def parse_rfc822(value: str) -> dt.datetime:
    """Parse an RSS date; assert the RFC 822 form with a numeric zone and a right weekday."""
    value = value.strip()
    m = RFC822_NUMERIC.fullmatch(value)
    assert m, f"not an RFC 822 date with a numeric zone: {value!r}"
    when = email.utils.parsedate_to_datetime(value)
    assert when.tzinfo is not None, value
    assert DOW[when.weekday()] == m["dow"], f"wrong day of the week in {value!r}"
    return when


# -- the shared build -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="module")
def atom_doc(out: Path) -> etree._ElementTree:
    return etree.parse(str(out / "atom.xml"))


@pytest.fixture(scope="module")
def rss_doc(out: Path) -> etree._ElementTree:
    return etree.parse(str(out / "rss.xml"))


# -- Atom: RFC 4287 Appendix B ----------------------------------------------------------------

def test_atom_valid_against_rfc4287_relax_ng(atom_doc: etree._ElementTree) -> None:
    schema = etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))
    ok = schema.validate(atom_doc)
    errors = "\n".join(f"line {e.line}: {e.message}" for e in schema.error_log)
    assert ok, f"atom.xml is not valid against tests/schemas/atom.rng:\n{errors}"


def test_atom_schematron_rules_of_appendix_b(atom_doc: etree._ElementTree) -> None:
    """Appendix B carries three Schematron rules as annotations, which RELAX NG validators
    ignore; evaluate their XPath tests here."""
    rng = etree.parse(str(SCHEMAS / "atom.rng"))
    rules = rng.findall(f".//{{{SCHEMATRON_NS}}}rule")
    assert len(rules) == 3, "tests/schemas/atom.rng lost its Schematron annotations"
    failures = []
    for rule in rules:
        contexts = atom_doc.xpath("//" + rule.get("context"), namespaces=NS)
        for a in rule.findall(f"{{{SCHEMATRON_NS}}}assert"):
            for node in contexts:
                if not node.xpath(f"boolean({a.get('test')})", namespaces=NS):
                    failures.append(f"line {node.sourceline}: {' '.join(a.text.split())}")
    assert not failures, "\n".join(failures)


# -- both feeds through feedparser -------------------------------------------------------------

@pytest.mark.parametrize(("name", "version"), [("atom.xml", "atom10"), ("rss.xml", "rss20")])
def test_feedparser_reads_feed(out: Path, name: str, version: str) -> None:
    d = feedparser.parse((out / name).read_bytes())
    assert d.bozo == 0, f"{name}: bozo {d.get('bozo_exception')!r}"
    assert d.version == version
    assert len(d.entries) == EXPECTED_ENTRIES
    ids = [e.get("id") for e in d.entries]
    assert all(ids), f"{name}: entries without an id"
    assert len(set(ids)) == len(ids), f"{name}: duplicate ids"
    for e in d.entries:
        assert is_absolute_http(e.get("link")), f"{name}: entry {e.get('id')} link {e.get('link')!r}"
        for link in e.get("links", []):
            assert is_absolute_http(link.get("href")), f"{name}: entry {e.get('id')} link {link!r}"


def test_atom_and_rss_name_the_same_posts(out: Path) -> None:
    atom = feedparser.parse((out / "atom.xml").read_bytes())
    rss = feedparser.parse((out / "rss.xml").read_bytes())
    assert [(e.id, e.link) for e in atom.entries] == [(e.id, e.link) for e in rss.entries]


# -- Atom by hand ------------------------------------------------------------------------------

def test_atom_entry_links_absolute_and_content_html(atom_doc: etree._ElementTree) -> None:
    entries = atom_doc.findall(f"{{{ATOM_NS}}}entry")
    assert len(entries) == EXPECTED_ENTRIES
    for e in entries:
        eid = e.findtext(f"{{{ATOM_NS}}}id")
        hrefs = [link.get("href") for link in e.findall(f"{{{ATOM_NS}}}link")]
        assert hrefs and all(is_absolute_http(h) for h in hrefs), f"{eid}: links {hrefs}"
        contents = e.findall(f"{{{ATOM_NS}}}content")
        assert len(contents) == 1, f"{eid}: {len(contents)} <content>"
        assert contents[0].get("type") == "html", f"{eid}: <content type={contents[0].get('type')!r}>"
        assert (contents[0].text or "").strip(), f"{eid}: empty <content>"


def test_atom_feed_updated_is_newest_entry(atom_doc: etree._ElementTree) -> None:
    root = atom_doc.getroot()
    feed_updated = dt.datetime.fromisoformat(root.findtext(f"{{{ATOM_NS}}}updated"))
    entry_updated = [dt.datetime.fromisoformat(u.text)
                     for u in root.iterfind(f"{{{ATOM_NS}}}entry/{{{ATOM_NS}}}updated")]
    assert len(entry_updated) == EXPECTED_ENTRIES
    assert feed_updated == max(entry_updated)


# -- RSS by hand -------------------------------------------------------------------------------

def test_rss_items(rss_doc: etree._ElementTree) -> None:
    items = rss_doc.findall("channel/item")
    assert len(items) == EXPECTED_ENTRIES
    for item in items:
        link = item.findtext("link")
        assert is_absolute_http(link), f"item link {link!r}"
        guids = item.findall("guid")
        assert len(guids) == 1, f"{link}: {len(guids)} <guid>"
        assert guids[0].get("isPermaLink") == "false", f"{link}: guid isPermaLink={guids[0].get('isPermaLink')!r}"
        assert (guids[0].text or "").strip(), f"{link}: empty guid"
        pub = item.findtext("pubDate")
        assert pub, f"{link}: no pubDate"
        parse_rfc822(pub)
        encoded = item.findall("content:encoded", NS)
        assert len(encoded) == 1 and (encoded[0].text or "").strip(), f"{link}: no content:encoded"


def test_rss_channel_dates(rss_doc: etree._ElementTree, atom_doc: etree._ElementTree) -> None:
    """The channel's one date is its newest entry's: lastBuildDate is the Atom feed's
    <updated> (the newest entry's updated time), never the time of the build; there is no
    channel pubDate."""
    channel = rss_doc.find("channel")
    [last] = channel.findall("lastBuildDate")
    newest = dt.datetime.fromisoformat(atom_doc.getroot().findtext(f"{{{ATOM_NS}}}updated"))
    assert parse_rfc822(last.text or "") == newest
    assert newest < dt.datetime.fromisoformat(NOW)
    assert max(parse_rfc822(d) for d in rss_doc.xpath("channel/item/pubDate/text()")) <= newest
    assert channel.find("pubDate") is None


def test_rss_channel_links(rss_doc: etree._ElementTree) -> None:
    channel = rss_doc.find("channel")
    self_url = base_url() + "rss.xml"
    link = channel.findtext("link")
    assert is_absolute_http(link), f"channel <link> {link!r}"
    assert link.strip() != self_url, "channel <link> is the feed's own URL; it should be the site"
    selfs = [a.get("href") for a in channel.findall("atom:link", NS) if a.get("rel") == "self"]
    assert selfs == [self_url]


def test_every_feed_names_the_stylesheet_a_browser_shows(out: Path) -> None:
    """Opened in a browser, every feed the pass writes (the digests' feed too) is shown as a
    page through out/feed.xsl, linked relatively from wherever the feed is."""
    feeds = sorted(out.rglob("*.xml"))
    assert {p.relative_to(out).as_posix() for p in feeds} >= {"atom.xml", "rss.xml", "digests/atom.xml"}
    for path in feeds:
        root = etree.parse(str(path)).getroot()
        pis = [n for n in root.itersiblings(preceding=True)
               if isinstance(n, etree._ProcessingInstruction) and n.target == "xml-stylesheet"]
        assert len(pis) == 1, f"{path.relative_to(out)}: {len(pis)} xml-stylesheet instructions"
        href = pis[0].get("href")
        assert href and not is_absolute_http(href), (path, href)
        assert (path.parent / href).resolve() == (out / "feed.xsl").resolve() and (out / "feed.xsl").is_file()


# -- HTML: the Nu HTML Checker -------------------------------------------------------------------

def _vnu_jar() -> Path | None:
    env = os.environ.get("VNU_JAR")
    if env:
        return Path(env) if Path(env).is_file() else None
    return VNU_JAR_DEFAULT if VNU_JAR_DEFAULT.is_file() else None


def _nu_check(pages: list[Path], root: Path) -> None:
    """Run the Nu HTML Checker on `pages`; fail with every error it reports (or skip, saying why)."""
    java = shutil.which("java")
    if java is None:
        pytest.skip("Nu HTML Checker not run: no `java` on PATH (Debian: apt-get install default-jre-headless)")
    jar = _vnu_jar()
    if jar is None:
        pytest.skip(f"Nu HTML Checker not run: no vnu.jar at $VNU_JAR or {VNU_JAR_DEFAULT}; install it with "
                    "`npm install --ignore-scripts --no-audit --no-fund --no-save --prefix tests/.vnu vnu-jar`")
    proc = subprocess.run([java, "-jar", str(jar), "--errors-only", "--format", "json", *map(str, pages)],
                          capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(proc.stderr or proc.stdout)  # vnu writes its JSON report to stderr
    except json.JSONDecodeError:
        pytest.fail(f"vnu.jar gave no JSON report (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    messages = report.get("messages", [])
    text = "\n".join(
        f"{Path(urlsplit(m.get('url', '')).path).relative_to(root) if m.get('url') else '?'}"
        f":{m.get('lastLine', '?')}:{m.get('firstColumn', m.get('lastColumn', '?'))}: "
        f"{m.get('type')}{'/' + m['subType'] if m.get('subType') else ''}: {m.get('message')}"
        for m in messages)
    assert not messages, f"Nu HTML Checker reports:\n{text}"
    assert proc.returncode == 0, f"vnu.jar exited {proc.returncode}:\n{proc.stderr}"


def test_html_pages_and_digests_pass_nu_html_checker(out: Path) -> None:
    """The index, the post pages and the archive pages; the email of a seeds week (mailed when
    the build's pass found it due) and of a past week rendered by publication date, their web
    pages, and the digests' index. (One run of the checker: its start-up is most of its time.)"""
    from conftest import run_cli

    pages = [out / "index.html", *sorted((out / "posts").glob("*.html")), *sorted((out / "archive").glob("*.html"))]
    assert len(pages) == 1 + EXPECTED_ENTRIES + 2, "index, the post pages, archive pages of Jan. and Feb. 2025"
    cfg = out.parent / "feeds.toml"
    for week in ("2025-W08", "2025-W06"):
        proc = run_cli("-c", str(cfg), "--now", NOW, "digest", "--period", week, "--preview")
        assert proc.returncode == 0, proc.stderr
    digests = [out / "preview" / "2025-W08.html", out / "preview" / "2025-W06.html",
               out / "digests" / "2025-W08.html", out / "digests" / "2025-W06.html", out / "digests" / "index.html"]
    assert all(p.is_file() for p in digests), [p for p in digests if not p.is_file()]
    _nu_check(pages + digests, out)


# -- reproducibility: nothing depends on the build time ---------------------------------------------

def _wall_clock_forms(moment: dt.datetime) -> set[str]:
    """Ways a date of the real clock could show up in the output."""
    forms = set()
    for m in (moment, moment.astimezone(dt.UTC)):
        forms |= {m.strftime("%Y-%m-%d"), f"{m.day:02d} {m:%b %Y}", f"{m.day} {m:%B %Y}", f"{m:%B} {m.day}, {m:%Y}"}
    return forms


def test_output_does_not_depend_on_the_build_time(tmp_path: Path) -> None:
    before = dt.datetime.now().astimezone()
    first = tree_bytes(build(tmp_path / "one"))
    time.sleep(1.1)  # a clock read anywhere at second resolution would now differ
    second = tree_bytes(build(tmp_path / "two"))
    after = dt.datetime.now().astimezone()

    assert sorted(first) == sorted(second), "the two builds wrote different files"
    differ = [name for name in first if first[name] != second[name]]
    assert not differ, f"same input and --now, different bytes in: {differ}"

    # Neither the real clock's date nor the --now time appear anywhere.
    seeds = b"".join(p.read_bytes() for p in sorted((REPO / "seeds").glob("*.txt")))
    now = dt.datetime.fromisoformat(NOW)
    now_forms = {now.strftime("%Y-%m-%dT%H:%M:%S"), now.strftime("%d %b %Y %H:%M:%S")}
    wall = {f for f in _wall_clock_forms(before) | _wall_clock_forms(after) if f.encode() not in seeds}
    for name, data in first.items():
        for form in sorted(now_forms | wall):
            assert form.encode() not in data, f"out/{name} contains {form!r} (the build time)"


def test_other_now_changes_only_the_tag_dates(tmp_path: Path) -> None:
    # The weekly digest depends on --now by design (which week is due, what was new then),
    # so its archive is left out here; tests/test_digest.py checks it is reproducible.
    base = {k: v for k, v in tree_bytes(build(tmp_path / "base", NOW)).items() if not k.startswith("digests/")}
    other_out = build(tmp_path / "other", OTHER_NOW)
    other = {k: v for k, v in tree_bytes(other_out).items() if not k.startswith("digests/")}

    # The feed's <updated> is the newest entry's, not the build time.
    updated = etree.parse(str(other_out / "atom.xml")).getroot().findtext(f"{{{ATOM_NS}}}updated")
    assert dt.datetime.fromisoformat(updated) != dt.datetime.fromisoformat(OTHER_NOW)

    assert sorted(base) == sorted(other), "a different --now wrote different files"
    for name in base:
        a, b = base[name], other[name]
        if name in ("atom.xml", "rss.xml", "feed.json"):
            # tag: ids embed the day the post was first seen, which is --now on a fresh state.
            a, b = TAG_DATE.sub(rb"\1DATE:", a), TAG_DATE.sub(rb"\1DATE:", b)
        assert a == b, f"out/{name} differs with another --now beyond the tag: dates"
