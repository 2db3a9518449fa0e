"""The publishing room: what is due is planned from data alone; an output is one renderer and
one registration; one module imports feedgen and lxml, one writes under out/; the templates are
hashed once a pass."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import make_site

from feeds import config
from feeds.pipeline import run_once
from feeds.publish import templates as templates_module
from feeds.publish.outputs import OUTPUTS
from feeds.publish.plan import Family, Output, PublishState, checked_paths, plan
from feeds.publish.site import Site
from feeds.publish.stage import publish
from feeds.store import Store

PACKAGE = Path(__file__).resolve().parent.parent / "feeds"
T0 = datetime(2025, 3, 1, 9, tzinfo=UTC)
CFG = config.parse({"site": {"title": "T", "url": "https://example.org/"}})
CATEGORIES = config.parse({"site": {"title": "T", "url": "https://example.org/"},
                           "output": {"category_feeds": True}})
NEWEST = (("a", "posts/a.html"), ("b", "posts/b.html"))
EVERY = frozenset({"atom.xml", "rss.xml", "feed.json", "index.html", "posts/a.html", "posts/b.html"})


def cut(title: str) -> str:
    return f"{title}\n\nThe council met on 3 February 2025 and spoke at length.\n\nContinue reading {title}\n"


def state(**changes: object) -> PublishState:
    fields: dict = {"rebuild": False, "stamp_changed": False, "changed": frozenset(), "months": frozenset(),
                    "newest": NEWEST, "present": EVERY}
    return PublishState(**{**fields, **changes})


def paths(outputs) -> list[str]:
    return [o.path if isinstance(o, Output) else o.pattern for o in outputs]


# -- the plan: data in, what is due out ---------------------------------------------------

def test_nothing_pending_and_every_file_there_plans_nothing():
    assert plan(state(), OUTPUTS, CFG) is None


def test_a_pending_entry_plans_its_page_its_month_and_the_site_files_in_order():
    due = plan(state(changed=frozenset({"a"}), months=frozenset({"2025-02"})), OUTPUTS, CFG)
    assert due is not None and not due.full
    assert (due.pages, due.months) == ({"a"}, {"2025-02"})
    assert paths(due.outputs) == ["feed.xsl", "atom.xml", "rss.xml", "feed.json", "index.html"]  # the index last


@pytest.mark.parametrize("why", [{"rebuild": True}, {"stamp_changed": True},
                                 {"present": EVERY - {"rss.xml"}}, {"present": EVERY - {"posts/b.html"}}])
def test_a_rebuild_a_changed_stamp_or_a_missing_file_plans_everything(why):
    due = plan(state(**why), OUTPUTS, CFG)
    assert due is not None and due.full and due.pages is None and due.months is None


def test_a_pending_entrys_missing_page_is_no_reason_for_everything():
    due = plan(state(changed=frozenset({"b"}), present=EVERY - {"posts/b.html"}), OUTPUTS, CFG)
    assert due is not None and not due.full and due.pages == {"b"}
    assert checked_paths(OUTPUTS, CFG, NEWEST, {"b"}) == ["atom.xml", "rss.xml", "feed.json", "index.html",
                                                          "posts/a.html"]


def test_no_entries_no_feeds_and_category_feeds_only_when_configured():
    due = plan(state(newest=(), present=frozenset(), changed=frozenset()), OUTPUTS, CFG)
    assert due is not None and due.full  # (no index yet)
    assert paths(due.outputs) == ["feed.xsl", "index.html"]
    due = plan(state(rebuild=True), OUTPUTS, CATEGORIES)
    assert due is not None and "categories/*/atom.xml" in paths(due.outputs)


# -- an output: one renderer, one registration ------------------------------------------------

def titles(site: Site) -> bytes:
    """A toy output: the newest entries' titles, one a line."""
    return "".join(f"{s.entry.title}\n" for s in site.newest).encode()


def test_a_new_output_is_one_renderer_and_one_registration(tmp_path):
    """out/titles.txt, registered in the registry given to publish (no module edited, nothing
    global changed): written with the rest, rendered again when an entry changes, and required
    like a feed (gone, everything is rendered again)."""
    registry = (*OUTPUTS, Output("titles.txt", titles, required=True))
    cfg = make_site(tmp_path, {"a": cut("Harbour wall") + "\n" + cut("Ferry timetable")})
    out = cfg.output.dir
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0)
        assert not (out / "titles.txt").exists()  # the default registry has no such output
        assert publish(store, cfg, registry=registry) == [str(out / "titles.txt")]  # (missing: required)
        assert (out / "titles.txt").read_text() == "Harbour wall\nFerry timetable\n"
        assert publish(store, cfg, registry=registry) == []  # nothing pending, nothing missing
        (tmp_path / "dumps" / "b.txt").write_text(cut("New pier opens"))
        run_once(cfg, store, T0 + timedelta(days=1))
        assert "New pier opens\n" not in (out / "titles.txt").read_text()  # (the pass used the default registry)
        (out / "titles.txt").unlink()
        written = publish(store, cfg, registry=registry)
        assert str(out / "titles.txt") in written and str(out / "atom.xml") not in written  # same bytes
    assert sorted((out / "titles.txt").read_text().splitlines()) == ["Ferry timetable", "Harbour wall",
                                                                      "New pier opens"]
    assert "titles.txt" not in paths(OUTPUTS)


def test_a_family_removes_the_files_of_subjects_gone(tmp_path):
    """A registered family's files that it no longer renders are removed; a file it lists with
    nothing to write (None) is left as it is."""
    def notes(site: Site):
        yield "notes/kept.txt", None
        yield "notes/new.txt", b"new\n"

    cfg = make_site(tmp_path, {"a": cut("Harbour wall")})
    (cfg.output.dir / "notes").mkdir(parents=True)
    for name in ("kept.txt", "gone.txt"):
        (cfg.output.dir / "notes" / name).write_text("old\n")
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0)
        publish(store, cfg, rebuild=True, registry=(*OUTPUTS, Family("notes/*.txt", notes, why="a toy's")))
    assert sorted(p.name for p in (cfg.output.dir / "notes").iterdir()) == ["kept.txt", "new.txt"]
    assert (cfg.output.dir / "notes" / "kept.txt").read_text() == "old\n"


# -- layers ---------------------------------------------------------------------------------

def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_only_publish_feeds_imports_feedgen_and_lxml():
    importers = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py") if imports(p) & {"feedgen", "lxml"}}
    assert importers == {"publish/feeds.py"}


def test_only_publish_files_writes_or_removes_files_in_the_publishing_room():
    """No module of feeds/publish but files.py calls what writes or removes a file or a folder."""
    writes = {"unlink", "rmdir", "mkdir", "rename", "write_bytes", "write_text", "mkstemp", "chmod", "open", "fdopen"}
    callers = set()
    for path in (PACKAGE / "publish").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                    node.func.attr in writes or ast.unparse(node.func) == "os.replace"):  # (not dataclasses.replace)
                callers.add(path.name)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open":
                callers.add(path.name)
    assert callers == {"files.py"}


# -- derived values: once a pass ---------------------------------------------------------------

def test_the_templates_are_hashed_once_in_a_pass_that_publishes_and_sends_a_digest(tmp_path, monkeypatch):
    """Counted, not patched out: the real hash is returned. (Before, a pass that sent a digest
    hashed every template 9 times.)"""
    calls = []
    real = templates_module.templates_digest

    def counted(folders):
        calls.append(folders)
        return real(folders)

    monkeypatch.setattr(templates_module, "templates_digest", counted)
    cfg = make_site(tmp_path, {"a": cut("Harbour wall")})
    (tmp_path / "recipients.txt").write_text("reader@example.org\n")
    cfg = config.parse({"site": {"title": "T", "url": "https://example.org/", "timezone": "Europe/London"},
                        "input": {"paths": [str(tmp_path / "dumps" / "*.txt")]},
                        "output": {"dir": str(tmp_path / "out")}, "state": {"path": str(tmp_path / "state.db")},
                        "digest": {"recipients_file": str(tmp_path / "recipients.txt")}})
    with Store(cfg.state.path) as store:
        run_once(cfg, store, datetime(2025, 2, 24, 9, tzinfo=UTC))  # (the first digest does not flood)
        (tmp_path / "dumps" / "b.txt").write_text(cut("New pier opens").replace("3 February", "27 February"))
        calls.clear()
        report = run_once(cfg, store, datetime(2025, 3, 3, 9, tzinfo=UTC))
    assert report.files_written and "1 email(s)" in report.digest, report.digest
    assert len(calls) == 1


def test_a_later_pass_reuses_the_compiled_templates_until_their_bytes_change(tmp_path):
    """Compiling the templates was nine tenths of a pass with nothing new (a loop's hourly pass):
    a later pass in the same process takes the environment an earlier one loaded, and a
    template edited in between (same size, a day's digest or a week's) makes a new one."""
    import dataclasses
    import shutil

    from conftest import REPO

    from feeds.digest.render import Renderer
    from feeds.publish.pages import Pages

    folder = tmp_path / "templates"
    shutil.copytree(REPO / "templates", folder)
    cfg = dataclasses.replace(CFG, output=dataclasses.replace(CFG.output, templates=folder))
    first, mail = Pages(cfg).env, Renderer(cfg).env
    assert Pages(cfg).env is first and Renderer(cfg).env is mail and first is not mail
    assert Pages(CFG).env is not first, "other folders: other templates"
    base = folder / "base.html.j2"
    base.write_text(base.read_text().replace("color: #a3161b", "color: #0b5394"))
    edited = Pages(cfg).env
    assert edited is not first and Renderer(cfg).env is not mail
    assert Pages(cfg).env is edited
    assert "#0b5394" in edited.loader.get_source(edited, "base.html.j2")[0]  # type: ignore[union-attr]
