"""Entries → feed files (Atom, RSS) and HTML pages. The only module that imports feedgen.

feedgen's quirks stay here: ``add_entry`` prepends unless told to append; the RSS
channel ``<link>`` is the last ``link()`` given, so the self link goes first; any
date left unset becomes the build time, so every date is set from the entries.
Files are written only when their bytes change, through a temporary file in the
same folder renamed into place.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import jinja2
import jinja2.meta
from feedgen.feed import FeedGenerator
from lxml import etree
from markupsafe import escape

from feeds import __version__
from feeds.config import Config, builtin_templates
from feeds.digest.period import WORDS
from feeds.dumps.text import strip_xml_forbidden
from feeds.errors import ConfigError
from feeds.models import Entry
from feeds.normalise import blocks_from_text, body_html, continue_link, cut_html
from feeds.uri import uri

FEED_FILES = ("atom.xml", "rss.xml", "feed.json")
STYLESHEET = "feed.xsl"  # out/feed.xsl: what a browser shows for a feed
PAGE_TEMPLATES = ("post.html.j2", "index.html.j2", "archive.html.j2", "digests.html.j2")
ATOM = "http://www.w3.org/2005/Atom"
#: A post's body in a feed is cut at about this many characters of HTML (its page holds it
#: whole). libxml2, under most readers and under feedgen, refuses a text node over 10 MB, a
#: feed of 50 such posts would be 500 MB, and a reader shows the opening of a long post anyway.
FEED_CONTENT_CHARS = 100_000


@dataclasses.dataclass(frozen=True)
class DigestItem:
    """A past digest, for the digests' index and feed."""

    period: str  # 2025-W07 (a week), 2025-02-14 (a day), 2025-02 (a month)
    start: date  # its first day
    heading: str  # "Week of 10–16 February 2025", "14 February 2025", "February 2025"
    title: str  # the email's subject
    path: str  # digests/2025-W07.html
    url: str
    date: datetime
    posts: int
    content: str  # HTML: the list of its posts, for the feed


def write_if_changed(path: Path, data: bytes, *, durable: bool = False) -> bool:
    """Write `data` to `path` atomically unless the file already holds exactly it.

    The temporary file is renamed into place, so a reader (or a crash) sees the old
    file or the new, whole. `durable` also syncs it to disk first, so that it survives
    a power cut; pages skip that (a pass writes thousands, and the next pass repairs).
    """
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:  # (a write's error names no file: the disk full)
            exc.filename = str(path)
        raise
    return True


def xml_safe(entry: Entry, url: str | None) -> tuple[Entry, str | None]:
    """The entry and its URL without characters XML forbids, which lxml (under feedgen) refuses.
    The readers strip them at ingest; this is for entries an older version stored with them,
    which would otherwise stop every pass from publishing."""
    def clean(text: str | None) -> str | None:
        return None if text is None else strip_xml_forbidden(text)
    return dataclasses.replace(
        entry, id=strip_xml_forbidden(entry.id), title=strip_xml_forbidden(entry.title),
        summary=strip_xml_forbidden(entry.summary), text=strip_xml_forbidden(entry.text),
        source_html=clean(entry.source_html), author=clean(entry.author),
        categories=tuple(map(strip_xml_forbidden, entry.categories))), clean(url)


# What a reader that guesses (feedparser, SimplePie) takes for markup in an RSS title: a tag's
# start, or an entity's (SimplePie needs no ';'). A little more than either takes, never less.
_LOOKS_LIKE_MARKUP = re.compile(r"<[/!?\w]|&[#\w]")


def rss_text(text: str, *, html_element: bool = False) -> str:
    """Plain text made to display as that text in an RSS element. RSS says nothing of a title's
    type and readers treat `description` as HTML: so a description is always escaped for HTML,
    and a title only when a reader would take it for markup (escaped always, "Tom & Jerry" would
    show as "Tom &amp; Jerry" in a reader that takes titles as text). Atom says type="text"."""
    if html_element or _LOOKS_LIKE_MARKUP.search(text):
        return html.escape(text, quote=False)
    return text


def _styled(data: bytes, name: str) -> bytes:
    """A feed, published at `name` under out/, that a browser shows as a page (out/feed.xsl)
    instead of as raw XML. The link is relative: a browser applies a stylesheet only from the
    feed's own origin, and it works wherever out/ is served."""
    stylesheet = "../" * name.count("/") + STYLESHEET
    declaration, rest = data.split(b"\n", 1)
    return declaration + f'\n<?xml-stylesheet type="text/xsl" href="{escape(stylesheet)}"?>\n'.encode() + rest


_LOADED: dict[tuple[object, ...], jinja2.Environment] = {}


def template_folders(config: Config) -> tuple[Path, ...]:
    """Where templates are looked up, the first folder holding a name wins: `[output] templates`
    (a user's own, which may replace a single file), then the templates shipped in the package."""
    builtin = builtin_templates()
    return (config.output.templates, builtin) if config.output.templates else (builtin,)


def template_file(config: Config, name: str) -> Path:
    """The file a template name (or the stylesheet) stands for: the user's, else the built-in one."""
    folders = template_folders(config)
    return next((f / name for f in folders if (f / name).is_file()), folders[-1] / name)


def templates_digest(folders: Sequence[Path]) -> str:
    """A hash of the templates in use (each name and the bytes of the file that wins for it,
    subfolders included): not of times and sizes, which an edit within the clock's tick, or a
    deploy that sets every file's time, keeps as they were."""
    chosen: dict[str, Path] = {}
    for folder in reversed(folders):
        if folder.is_dir():
            chosen |= {p.relative_to(folder).as_posix(): p for p in folder.rglob("*")
                       if p.is_file() and "__pycache__" not in p.parts}
    h = hashlib.sha256()
    for name, p in sorted(chosen.items()):
        h.update(name.encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def template_loader(config: Config) -> jinja2.BaseLoader:
    """A loader that takes each template from the first of `template_folders` holding it."""
    return jinja2.FileSystemLoader([str(f) for f in template_folders(config)])


def loaded_templates(config: Config, kind: tuple[object, ...], names: Sequence[str],
                     make: Callable[[], jinja2.Environment], files: Sequence[str] = ()) -> jinja2.Environment:
    """An environment (from `make`) with the templates `names`, and every template they
    extend, include or import, loaded; or ConfigError, naming the template, the line and
    what is wrong, when one is missing or does not compile (or one of `files`, used as
    they are, is missing). Kept (by `kind` and the templates in use) while the bytes of no
    template change: a pass, or a loop, compiles each template once, and a bad one stops
    it before it writes anything."""
    folders = template_folders(config)
    key = (kind, folders, templates_digest(folders))
    if key not in _LOADED:
        env = make()
        _load(env, names, config)
        for name in files:
            if not template_file(config, name).is_file():
                _template_error(config, f"{name} is missing")
        while len(_LOADED) >= 8:  # (templates changed, or many sites in one process: tests)
            del _LOADED[next(iter(_LOADED))]
        _LOADED[key] = env
    return _LOADED[key]


def _template_error(config: Config, problem: str) -> NoReturn:
    """ConfigError for a template: blamed on `[output] templates` when the user set it, else
    on the installation (the built-in templates are part of the package)."""
    if config.output.templates:
        raise ConfigError("output.templates", str(config.output.templates),
                          f"a folder of templates that render with what a pass gives them; {problem}", config.source)
    raise ConfigError("(built-in templates)", str(builtin_templates()),
                      f"the templates shipped with feeds, whole; {problem}: reinstall feeds", config.source)


def _load(env: jinja2.Environment, names: Sequence[str], config: Config) -> None:
    """Compile every template of `names` and those they name, into `env`'s cache."""
    assert env.loader is not None
    todo = [(name, "") for name in names]
    seen: set[str] = set()
    while todo:
        name, user = todo.pop(0)
        if name in seen:
            continue
        seen.add(name)
        file = template_file(config, name)
        try:
            env.get_template(name)
            text, filename, _ = env.loader.get_source(env, name)
            todo += [(n, name) for n in jinja2.meta.find_referenced_templates(env.parse(text, name, filename)) if n]
        except jinja2.TemplateNotFound:
            problem = f"{name} is missing" + (f" ({user} uses it)" if user else "")
        except jinja2.TemplateSyntaxError as exc:
            problem = f"{exc.filename or file}, line {exc.lineno}: {exc.message}"
        except UnicodeDecodeError as exc:
            problem = f"{file} is not UTF-8 text (byte {exc.start})"
        else:
            continue
        _template_error(config, problem)


def render_template(env: jinja2.Environment, name: str, config: Config, /, **context: object) -> str:
    """The template `name` rendered; or ConfigError naming the template, its line and what went
    wrong, when it fails as it renders (a name it uses that is not given: the environments
    are strict, so that a misspelt name is not quietly left empty)."""
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateError as exc:  # (TemplateNotFound and syntax errors: found when loaded)
        folders = template_folders(config)
        tb, line, filename = exc.__traceback__, None, None
        while tb is not None:  # the innermost frame of a template (jinja gives it the template's file and line)
            if any(Path(tb.tb_frame.f_code.co_filename).is_relative_to(f) for f in folders):
                filename, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
            tb = tb.tb_next
        where = f"{filename}, line {line}" if filename else str(template_file(config, name))
        _template_error(config, f"{where}: {exc}")


def _page_environment(config: Config, tz: ZoneInfo) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=template_loader(config),
        autoescape=jinja2.select_autoescape(("html", "htm", "xml", "html.j2", "xml.j2"),
                                            default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True)
    env.filters["human_date"] = lambda dt: human_date(dt, tz)
    env.filters["iso"] = lambda dt: dt.astimezone(tz).isoformat(timespec="seconds")
    return env


def human_date(dt: datetime, tz: ZoneInfo) -> str:
    d = dt.astimezone(tz)
    return f"{d.day} {d.strftime('%B')} {d.year}"


def sample_entries(cfg: Config, now: datetime) -> list[tuple[Entry, str | None]]:
    """Two posts as a pass stores them (for `feeds check`, and to tell a template broken for every
    post from one that fails for one post): a cut one with its original URL, author and categories,
    and a whole one with none of those."""
    day = now - timedelta(days=1)
    cut = Entry(key="a sample post", id=f"tag:{cfg.site.domain},2025-01-01:a-sample-post", slug="a-sample-post",
                title="A sample post", source_html=None, summary="The opening of a sample post, as a summary.",
                text="The opening of a sample post.\n\n• a point\n• another", truncated=True, published=day,
                updated=now, date_source="inferred", first_seen=now, source="sample.txt:1", author="A. Writer",
                categories=("Samples",))
    whole = dataclasses.replace(cut, key="another sample", id=f"tag:{cfg.site.domain},2025-01-01:another-sample",
                                slug="another-sample", title="Another sample & more", truncated=False,
                                published=day - timedelta(days=1), author=None, categories=())
    return [(cut, "https://example.org/2025/01/a-sample-post/"), (whole, None)]


class Publisher:
    def __init__(self, config: Config):
        self.config = config
        self.site = config.site
        self.tz = config.site.tz
        self.env = loaded_templates(config, ("pages", self.tz), PAGE_TEMPLATES,
                                    lambda: _page_environment(config, self.tz), [STYLESHEET])

    # -- links and dates ---------------------------------------------------------------
    def page_path(self, entry: Entry) -> str:
        return f"posts/{entry.slug}.html"

    def link(self, entry: Entry, url: str | None) -> str:
        """An entry's link: the original URL when a dump gave one, else its page here. (A URL an
        older version stored as the page gave it, with spaces, is percent-encoded: feeds.uri.)"""
        return (uri(url) if url else None) or self.config.url(self.page_path(entry))

    def local(self, dt: datetime) -> datetime:
        return dt.astimezone(self.tz)

    def local_iso(self, dt: datetime) -> str:
        return self.local(dt).isoformat(timespec="seconds")

    def human_date(self, dt: datetime) -> str:
        return human_date(dt, self.tz)

    @staticmethod
    def body(entry: Entry) -> str:
        """The body as HTML: as the dump gave it, or paragraphs and lists made from the text."""
        return entry.source_html if entry.source_html is not None else body_html(blocks_from_text(entry.text))

    def content(self, entry: Entry, url: str | None = None) -> str:
        """The body for a feed: a cut post ends with a link to where it is whole (or to its page).
        A body longer than FEED_CONTENT_CHARS is cut (at a block's end) and ends with a link to
        its page, which holds it whole."""
        body = self.body(entry)
        if len(body) > FEED_CONTENT_CHARS:
            return continue_link(cut_html(body, FEED_CONTENT_CHARS), entry.title,
                                 url if entry.truncated and url else self.config.url(self.page_path(entry)),
                                 self.config.input.marker)
        if entry.truncated:
            return continue_link(body, entry.title, url or self.config.url(self.page_path(entry)),
                                 self.config.input.marker)
        return body

    # -- feeds -------------------------------------------------------------------------
    def feed(self, entries: Sequence[tuple[Entry, str | None]], name: str, *, topic: str | None = None) -> bytes:
        """The feed of `entries` (newest first) published at `name` (a path under out/ ending in
        atom.xml, rss.xml or feed.json); `topic` names a category feed's category."""
        kind = name.rsplit("/", 1)[-1]
        site = self.site
        # (a category an older version stored may hold characters XML forbids)
        title = f"{site.title}: {strip_xml_forbidden(topic)}" if topic else site.title
        if kind == "feed.json":
            return self.json_feed(entries, name, title)
        fg = self._generator(
            self.config.url(name.rsplit("/", 1)[0] + "/") if topic else site.url or site.base_url,
            title, site.description or site.title, name, site.base_url, (e.updated for e, _ in entries),
            hub=kind == "atom.xml")
        authors = kind == "rss.xml" and any(e.author for e, _ in entries)
        if authors:  # RSS's <author> wants an email address: a name goes in <dc:creator>
            fg.load_extension("dc", atom=False, rss=True)
        for entry, url in (xml_safe(e, u) for e, u in entries):
            fe = fg.add_entry(order="append")
            fe.id(entry.id)
            fe.title(rss_text(entry.title) if kind == "rss.xml" else entry.title)
            fe.link(href=self.link(entry, url), rel="alternate", type="text/html")
            fe.published(self.local(entry.published))
            fe.updated(self.local(entry.updated))
            if entry.author and kind == "atom.xml":
                fe.author({"name": entry.author})
            elif entry.author and authors:
                fe.dc.dc_creator(entry.author)
            if entry.categories:  # in one call: feedgen remakes its RSS list of them on each
                fe.category([{"term": c} for c in entry.categories])
            fe.summary(rss_text(entry.summary, html_element=True) if kind == "rss.xml" else entry.summary)
            fe.content(self.content(entry, url), type="html")  # after summary(): keeps type="html"
        if kind == "atom.xml":
            return _styled(fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True), name)
        fg.ttl(60)
        data = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
        return _styled(self._rss_hub(data) if self.config.output.hub else data, name)

    def _generator(self, feed_id: str, title: str, subtitle: str, name: str, alternate: str,
                   times: Iterable[datetime], *, hub: bool = False) -> FeedGenerator:
        """A FeedGenerator with what every feed here has: id, titles, the site's author and
        language, its self link (`name`, under out/) first (then the WebSub hub, if `hub`),
        then the page it stands for, and the newest of `times` as its updated time (never the
        build time). A feed has an entry: with none there is no time to give it that is not
        made up (the build time, 1970), so no feed is written until it has one."""
        site = self.site
        if name.endswith("rss.xml"):
            title, subtitle = rss_text(title), rss_text(subtitle, html_element=True)  # (subtitle: RSS's description)
        fg = FeedGenerator()
        fg.id(feed_id)
        fg.title(title)
        fg.subtitle(subtitle)
        fg.author({"name": site.author or site.title})
        fg.link(href=self.config.url(name), rel="self",
                type="application/rss+xml" if name.endswith("rss.xml") else "application/atom+xml")
        if hub and self.config.output.hub:
            fg.link(href=self.config.output.hub, rel="hub")
        fg.link(href=alternate, rel="alternate", type="text/html")
        fg.language(site.language)
        fg.generator("feeds", version=__version__)
        fg.updated(self.local(max(times)))
        return fg

    def _rss_hub(self, data: bytes) -> bytes:
        """WebSub's hub link in RSS, which feedgen leaves out: <atom:link rel="hub"> in the channel."""
        parser = etree.XMLParser(remove_blank_text=True)
        root = etree.fromstring(data, parser)
        channel = root.find("channel")
        assert channel is not None
        link = etree.Element(f"{{{ATOM}}}link", nsmap={"atom": ATOM})
        link.set("href", self.config.output.hub)
        link.set("rel", "hub")
        self_link = channel.find(f"{{{ATOM}}}link")
        channel.insert(list(channel).index(self_link) + 1 if self_link is not None else 0, link)
        return etree.tostring(root.getroottree(), pretty_print=True, xml_declaration=True, encoding="UTF-8")

    def json_feed(self, entries: Sequence[tuple[Entry, str | None]], name: str, title: str) -> bytes:
        """JSON Feed 1.1 (https://jsonfeed.org/version/1.1) of the same entries as Atom and RSS."""
        site = self.site
        feed: dict[str, object] = {
            "version": "https://jsonfeed.org/version/1.1", "title": title,
            "home_page_url": site.base_url, "feed_url": self.config.url(name),
            "description": site.description or site.title, "language": site.language,
            "authors": [{"name": site.author or site.title}],
        }
        if self.config.output.hub:
            feed["hubs"] = [{"type": "WebSub", "url": self.config.output.hub}]
        items = []
        for entry, url in entries:
            item: dict[str, object] = {
                "id": entry.id, "url": self.link(entry, url), "title": entry.title,
                "content_html": self.content(entry, url), "summary": entry.summary,
                "date_published": self.local_iso(entry.published), "date_modified": self.local_iso(entry.updated)}
            if entry.author:
                item["authors"] = [{"name": entry.author}]
            if entry.categories:
                item["tags"] = list(entry.categories)
            items.append(item)
        feed["items"] = items
        return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    def digests_feed(self, digests: Sequence[DigestItem]) -> bytes:
        """The Atom feed of past digests (digests/atom.xml), newest first."""
        site = self.site
        name = "digests/atom.xml"
        words = WORDS[self.config.digest.every]
        fg = self._generator(self.config.url("digests/"), f"{site.title}: {words.adjective} digests",
                             f"Every {words.unit}'s new posts of {site.title}, as sent to the mailing list "
                             f"({words.unit}s not mailed: "
                             "the posts published in them)", name,
                             self.config.url("digests/index.html"), (d.date for d in digests))
        for d in digests:
            fe = fg.add_entry(order="append")
            fe.id(f"tag:{site.domain},{d.start.isoformat()}:digest/{d.period}")
            fe.title(d.title)
            fe.link(href=d.url, rel="alternate", type="text/html")
            fe.published(self.local(d.date))
            fe.updated(self.local(d.date))
            fe.content(strip_xml_forbidden(d.content), type="html")  # (titles of posts: see xml_safe)
        return _styled(fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True), name)

    # -- pages -------------------------------------------------------------------------
    def render(self, template: str, **context: object) -> bytes:
        base = {"site": self.site, "config": self.config, "url": self.config.url, "feeds": True,
                "cadence": WORDS[self.config.digest.every]}
        return render_template(self.env, template, self.config, **{**base, **context}).encode("utf-8")

    def post_page(self, entry: Entry, url: str | None, *, category_slugs: Mapping[str, str] | None = None) -> bytes:
        """The post's page; with `category_slugs` (category feeds on), it links the feed of each of
        its categories (`categories`: name, and feed URL or None), in the order the post gives them."""
        slugs = category_slugs or {}
        categories = [{"name": c, "feed": self.config.url(f"categories/{slugs[c]}/atom.xml") if c in slugs else None}
                      for c in entry.categories]
        return self.render("post.html.j2", entry=entry, original_url=uri(url) if url else None, categories=categories,
                           content=self.body(entry), page_url=self.config.url(self.page_path(entry)))

    def index_page(self, newest: Sequence[Entry], months: Sequence[tuple[str, int]]) -> bytes:
        """The index: the newest posts with their summaries, then the archive by month."""
        return self.render("index.html.j2", entries=newest, feeds=bool(newest), months=[
            {"month": m, "name": self.month_name(m), "count": n, "path": f"archive/{m}.html"} for m, n in months])

    def archive_page(self, month: str, rows: Sequence[Any]) -> bytes:
        """Every post of one month (in the site's zone), newest first."""
        items = [{"title": r["title"], "summary": r["summary"], "slug": r["slug"],
                  "published": datetime.fromisoformat(r["published"])} for r in rows]
        return self.render("archive.html.j2", month=self.month_name(month), entries=items)

    def digests_index(self, digests: Sequence[DigestItem], *, feeds: bool = True) -> bytes:
        """The digests' index; `feeds`: the site's feeds exist (they come with its first entry)."""
        return self.render("digests.html.j2", digests=digests, feeds=feeds)

    @staticmethod
    def month_name(month: str) -> str:
        year, number = month.split("-")
        return f"{datetime(int(year), int(number), 1).strftime('%B')} {year}"
