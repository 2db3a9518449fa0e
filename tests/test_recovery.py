"""Passes that are interrupted, outputs that go missing, and the edges of identity and dates."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from conftest import NOW, make_site, run_cli

from feeds import config
from feeds.errors import ConfigError
from feeds.ingest import files
from feeds.pipeline import run_once
from feeds.store import Store

T0 = datetime(2025, 3, 1, 9, tzinfo=UTC)

POST = """{title}

The harbour board met on {day} and agreed to repair the old sea wall before the winter storms.

Work starts next month and will take eight weeks, the board's engineer said.
"""


def make(root: Path, **dumps: str) -> config.Config:
    return make_site(root, dumps)


def pages_linked_from_feed(out: Path) -> list[Path]:
    return [out / e.link.removeprefix("http://127.0.0.1:8000/") for e in feedparser.parse(str(out / "atom.xml")).entries]


def test_a_pass_that_dies_while_publishing_is_finished_by_the_next(tmp_path):
    cfg = make(tmp_path, a=POST.format(title="Harbour wall to be repaired before winter", day="3 February 2025"))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "posts").write_text("not a folder")  # writing any page fails
    with Store(cfg.state.path) as store:
        failed = run_once(cfg, store, T0)
    page = tmp_path / "out" / "posts" / "harbour-wall-to-be-repaired-before-winter.html"
    assert failed.problems == [f"cannot write {page}: Not a directory (ENOTDIR); nothing is lost: what was stored "
                               "and not yet published (or mailed) is, by the next pass that can write there"]
    (tmp_path / "out" / "posts").unlink()
    with Store(cfg.state.path) as store:
        report = run_once(cfg, store, T0)
        assert report.new == 0 and report.files_written, "nothing new to store, but the pages are written"
        assert store.pending("entry") == set()
    assert all(p.exists() for p in pages_linked_from_feed(tmp_path / "out"))


def test_deleted_pages_come_back(project):
    root, cfg = project
    run_cli("-c", str(cfg), "--now", NOW, check=True)
    shutil.rmtree(root / "out" / "posts")
    shutil.rmtree(root / "out" / "archive")
    run_cli("-c", str(cfg), "--now", NOW, check=True)
    assert len(list((root / "out" / "posts").glob("*.html"))) == 38
    assert all(p.exists() for p in pages_linked_from_feed(root / "out"))
    assert sorted(p.name for p in (root / "out" / "archive").iterdir()) == ["2025-01.html", "2025-02.html"]


def test_an_archive_month_left_empty_is_removed(tmp_path):
    undated = "Volunteers repaint the lifeboat station\n\nVolunteers repainted the old lifeboat station over the weekend.\n"
    cfg = make(tmp_path, a=undated)
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0)  # no date in the text: first seen, March 2025
        assert store.months() == [("2025-03", 1)]
        (tmp_path / "dumps" / "b.txt").write_text(
            undated + "\n" + POST.format(title="Harbour wall to be repaired before winter", day="3 February 2025"))
        run_once(cfg, store, T0)  # now dated by the post below it: February
        assert dict(store.months()) == {"2025-02": 2}
    assert sorted(p.name for p in (tmp_path / "out" / "archive").iterdir()) == ["2025-02.html"]


def test_no_post_is_dated_after_its_dump_was_written(tmp_path):
    cfg = make(tmp_path, a=POST.format(title="Harbour wall to be repaired before winter", day="20 February 2025"))
    written = datetime(2025, 2, 5, 10, tzinfo=UTC).timestamp()
    os.utime(tmp_path / "dumps" / "a.txt", (written, written))
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0)
        entry = store.newest()[0].entry
    assert entry.published.timestamp() <= written


def test_a_date_on_the_day_of_the_pass_is_not_in_its_future(tmp_path):
    cfg = make(tmp_path, a=POST.format(title="Harbour wall to be repaired before winter", day="1 March 2025"))
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0)  # 09:00 on 1 March: noon would be in the future
        entry = store.newest()[0].entry
    assert entry.date_source == "inferred" and entry.published <= T0


def test_titles_with_the_same_slug_get_distinct_slugs_and_ids(tmp_path):
    cfg = make(tmp_path, a="Tom & Jerry return to the harbour festival\n\nThe cartoon cat and mouse open the "
                           "festival parade on 3 February 2025, with a brass band.\n\n"
                           "Continue reading Tom & Jerry return to the harbour festival\n\n"
                           "Tom Jerry return to the harbour festival\n\nA fisherman named Tom Jerry, who sailed "
                           "away in 1990, came home for the regatta on 2 February 2025.\n")
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0)
        entries = [s.entry for s in store.newest()]
    assert sorted(e.slug for e in entries) == ["tom-jerry-return-to-the-harbour-festival",
                                               "tom-jerry-return-to-the-harbour-festival-2"]
    assert len({e.id for e in entries}) == 2
    assert (tmp_path / "out" / "posts" / "tom-jerry-return-to-the-harbour-festival-2.html").exists()


def test_a_post_shown_twice_on_a_page_is_one_entry(tmp_path):
    post = POST.format(title="Harbour wall to be repaired before winter", day="3 February 2025")
    cfg = make(tmp_path, a=post + "\n" + post)
    with Store(cfg.state.path) as store:
        report = run_once(cfg, store, T0)
        assert report.new == 1 and store.count() == 1


def test_a_better_date_does_not_move_updated(tmp_path):
    undated = "Volunteers repaint the lifeboat station\n\nVolunteers repainted the old lifeboat station over the weekend.\n"
    cfg = make(tmp_path, a=undated)
    with Store(cfg.state.path) as store:
        run_once(cfg, store, T0)
        before = store.newest()[0].entry
        (tmp_path / "dumps" / "b.txt").write_text(
            undated + "\n" + POST.format(title="Harbour wall to be repaired before winter", day="3 February 2025"))
        run_once(cfg, store, datetime(2025, 3, 9, tzinfo=UTC))
        after = next(s.entry for s in store.newest() if s.entry.key == before.key)
    assert after.date_source == "inferred" and after.published < before.published
    assert after.updated == before.updated and after.id == before.id


def test_changing_the_marker_reads_the_dumps_again(project):
    root, cfg = project
    run_cli("-c", str(cfg), "--now", NOW, check=True)
    cfg.write_text(cfg.read_text().replace("[input]\n", '[input]\nmarker = "Read more"\n'))
    proc = run_cli("-c", str(cfg), "--now", NOW, check=True)
    assert "2 dump(s) read" in proc.stdout


def test_reading_again_the_new_way_stopped_half_way_is_finished_not_started_over(tmp_path):
    """The marker changed: every dump is read again. That pass stops after storing one;
    the next reads only the other, and the one after reads nothing."""
    import dataclasses

    from conftest import SEEDS

    cfg = make_site(tmp_path, {s.stem: s.read_bytes() for s in SEEDS})
    with Store(cfg.state.path) as store:
        run_once(cfg, store, datetime(2025, 3, 1, tzinfo=UTC))
        cfg = dataclasses.replace(cfg, input=dataclasses.replace(cfg.input, marker="Read more"))
        asked: list[int] = []
        stopped = run_once(cfg, store, datetime(2025, 3, 1, tzinfo=UTC), batch_bytes=1,
                           should_stop=lambda: asked.append(1) or len(asked) >= 2)  # after one dump is stored
        assert stopped.stopped and stopped.dumps_read == 2  # (the second read, not stored)
        rest = run_once(cfg, store, datetime(2025, 3, 1, tzinfo=UTC))
        assert (rest.dumps_read, rest.dumps_unchanged) == (1, 1)
        after = run_once(cfg, store, datetime(2025, 3, 1, tzinfo=UTC))
        assert (after.dumps_read, after.dumps_unchanged) == (0, 2)


def test_relative_paths_are_relative_to_the_config_file(tmp_path):
    site = tmp_path / "site"
    (site / "seeds").mkdir(parents=True)
    (site / "seeds" / "a.txt").write_text(POST.format(title="Harbour wall to be repaired before winter",
                                                      day="3 February 2025"))
    (site / "feeds.toml").write_text('[input]\npaths = ["seeds/*.txt"]\n[output]\ndir = "public"\n'
                                     '[state]\npath = "db/feeds.sqlite3"\n')
    elsewhere = tmp_path / "cron-home"
    elsewhere.mkdir()
    run_cli("-c", str(site / "feeds.toml"), "--now", NOW, cwd=elsewhere, check=True)
    assert (site / "public" / "atom.xml").exists() and (site / "db" / "feeds.sqlite3").exists()
    assert list(elsewhere.iterdir()) == []


def test_a_config_in_a_folder_whose_name_looks_like_a_pattern_reads_its_seeds(tmp_path):
    """The config file's folder is taken as it is named: "[2025]" is no pattern."""
    site = tmp_path / "site [2025]"
    (site / "seeds").mkdir(parents=True)
    (site / "seeds" / "a.txt").write_text(POST.format(title="Harbour wall to be repaired before winter",
                                                      day="3 February 2025"))
    (site / "feeds.toml").write_text("")  # the default input.paths, seeds/*.txt beside it
    proc = run_cli("-c", str(site / "feeds.toml"), "--now", NOW, check=True)
    assert "1 dump(s) read" in proc.stdout and (site / "out" / "atom.xml").exists()


def test_an_input_path_that_matches_nothing_is_reported(tmp_path):
    (tmp_path / "feeds.toml").write_text('[input]\npaths = ["dumsp/*.txt"]\n')
    proc = run_cli("-c", str(tmp_path / "feeds.toml"), "--now", NOW, cwd=tmp_path)
    assert proc.returncode == 1 and "dumsp/*.txt: no file matches this path" in proc.stderr


def test_what_a_path_or_glob_names_but_is_no_dump_file_is_named_and_the_rest_goes_on(tmp_path):
    """A folder a glob matches is passed over; a link to nothing, a pipe (reading one would
    wait for ever), a file whose name is not UTF-8 and a folder named as a path are each
    named and skipped, pass after pass, and the good dump is published."""
    seeds = tmp_path / "seeds"
    (seeds / "sub").mkdir(parents=True)
    (seeds / "a.txt").write_text(POST.format(title="Harbour wall to be repaired before winter",
                                             day="3 February 2025"))
    (seeds / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    os.mkfifo(seeds / "pipe.txt")
    (tmp_path / "folder").mkdir()
    with open(os.fsencode(seeds) + b"/caf\xe9.txt", "wb") as fh:  # a Latin-1 name
        fh.write(POST.format(title="Cafe to reopen", day="4 February 2025").encode())
    (tmp_path / "feeds.toml").write_text('[input]\npaths = ["seeds/*", "folder"]\n')
    for _ in range(2):
        proc = run_cli("-c", str(tmp_path / "feeds.toml"), "--now", NOW, cwd=tmp_path)
        assert proc.returncode == 1, proc.stderr
        assert "1 dump(s) read" in proc.stdout or "1 unchanged" in proc.stdout
        skipped = sorted(line for line in proc.stderr.splitlines() if line.startswith("feeds: skipped"))
        assert skipped == [
            f"feeds: skipped {tmp_path}/folder: a folder, not a file; name the files in it in input.paths "
            f"(e.g. {tmp_path}/folder/*.txt)",
            f"feeds: skipped {seeds}/caf\\xe9.txt: its name is not valid UTF-8; rename it (e.g. with convmv) "
            "and it is read on the next pass",
            f"feeds: skipped {seeds}/gone.txt: a symbolic link to a file that does not exist; mend or remove "
            "the link",
            f"feeds: skipped {seeds}/pipe.txt: not a regular file (a pipe, socket or device); feeds reads "
            "dumps from files only"], proc.stderr
    [entry] = feedparser.parse(str(tmp_path / "out" / "atom.xml")).entries
    assert entry.title == "Harbour wall to be repaired before winter"


def test_an_input_link_out_of_the_configured_folders_is_named_and_skipped_unless_links_are_followed(tmp_path):
    """A dump that is a symbolic link (or lies in a linked folder) out of the folders input.paths
    names is not read: named once per pass, exit 1, pass after pass. A link within them is read.
    With [input] follow_links = true, every link is followed."""
    seeds, outside = tmp_path / "seeds", tmp_path / "outside"
    (seeds / "archive").mkdir(parents=True)
    (outside / "folder").mkdir(parents=True)
    (seeds / "a.txt").write_text(POST.format(title="Harbour wall to be repaired before winter",
                                             day="3 February 2025"))
    (seeds / "archive" / "b.txt").write_text(POST.format(title="Ferry timetable changes for spring",
                                                         day="4 February 2025"))
    (outside / "private.txt").write_text(POST.format(title="Private notes never to be published",
                                                     day="5 February 2025"))
    (outside / "folder" / "c.txt").write_text(POST.format(title="Drafts kept in another folder",
                                                          day="6 February 2025"))
    (seeds / "alias.txt").symlink_to(seeds / "archive" / "b.txt")  # within seeds/: read
    (seeds / "x.txt").symlink_to(outside / "private.txt")
    (seeds / "passwd.txt").symlink_to("/etc/passwd")
    (seeds / "more").symlink_to(outside / "folder")
    # Both entries match x.txt and passwd.txt: each is named once all the same.
    cfg = tmp_path / "feeds.toml"
    cfg.write_text('[input]\npaths = ["seeds/*.txt", "seeds/**/*.txt"]\n')
    for _ in range(2):
        proc = run_cli("-c", str(cfg), "--now", NOW, cwd=tmp_path)
        assert proc.returncode == 1, proc.stderr
        skipped = sorted(line for line in proc.stderr.splitlines() if line.startswith("feeds: skipped"))
        follow = "not read (set [input] follow_links = true to read it)"
        assert skipped == [
            f"feeds: skipped {seeds}/more/c.txt: leads through a symbolic link to {outside}/folder/c.txt, outside "
            f"the folders input.paths names; {follow}",
            f"feeds: skipped {seeds}/passwd.txt: leads through a symbolic link to /etc/passwd, outside the "
            f"folders input.paths names; {follow}",
            f"feeds: skipped {seeds}/x.txt: leads through a symbolic link to {outside}/private.txt, outside the "
            f"folders input.paths names; {follow}"], proc.stderr
        titles = sorted(e.title for e in feedparser.parse(str(tmp_path / "out" / "atom.xml")).entries)
        assert titles == ["Ferry timetable changes for spring", "Harbour wall to be repaired before winter"]
    check = run_cli("-c", str(cfg), "--now", NOW, "check", cwd=tmp_path)
    assert f"a pass would skip {seeds}/x.txt: leads through a symbolic link to {outside}/private.txt" in check.stdout

    cfg.write_text('[input]\npaths = ["seeds/*.txt", "seeds/**/*.txt"]\nfollow_links = true\n')
    (seeds / "passwd.txt").unlink()  # (not a dump: it would be skipped for that)
    proc = run_cli("-c", str(cfg), "--now", NOW, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    titles = sorted(e.title for e in feedparser.parse(str(tmp_path / "out" / "atom.xml")).entries)
    assert titles == ["Drafts kept in another folder", "Ferry timetable changes for spring",
                      "Harbour wall to be repaired before winter", "Private notes never to be published"]


def test_the_folder_of_a_glob_is_its_fixed_part_even_when_its_name_looks_like_a_glob(tmp_path):
    """'site [2025]/seeds/*.txt' names the folder 'site [2025]/seeds' (the config escapes the
    file's folder in a glob): a link from it to its parent is out of it; one within it is read."""
    from feeds.ingest.files import discover
    from feeds.pipeline import Report

    site = tmp_path / "site [2025]"
    (site / "seeds").mkdir(parents=True)
    (site / "seeds" / "a.txt").write_text(POST.format(title="Harbour wall", day="3 February 2025"))
    (site / "other.txt").write_text(POST.format(title="Not a dump", day="3 February 2025"))
    (site / "seeds" / "b.txt").symlink_to(site / "seeds" / "a.txt")
    (site / "seeds" / "x.txt").symlink_to(site / "other.txt")
    cfg = config.parse({}, base=site)
    assert cfg.input.paths == (f"{tmp_path}/site [[]2025]/seeds/*.txt",)
    report = Report()
    assert discover(cfg.input.paths, report) == [str(site / "seeds" / "a.txt"), str(site / "seeds" / "b.txt")]
    assert [s.split(":")[0] for s in report.skipped] == [str(site / "seeds" / "x.txt")]
    assert discover(cfg.input.paths, follow_links=True) == [str(site / "seeds" / n) for n in ("a.txt", "b.txt",
                                                                                               "x.txt")]


def test_a_plain_input_path_that_is_a_link_out_of_its_folder_is_skipped(tmp_path):
    from feeds.ingest.files import discover
    from feeds.pipeline import Report

    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "x.txt").symlink_to("/etc/passwd")
    report = Report()
    assert discover([str(tmp_path / "seeds" / "x.txt")], report) == []
    assert report.skipped == [f"{tmp_path}/seeds/x.txt: leads through a symbolic link to /etc/passwd, outside the "
                              "folders input.paths names; not read (set [input] follow_links = true to read it)"]
    # Named by another entry, /etc is a folder input.paths names: the link is read.
    assert discover([str(tmp_path / "seeds" / "x.txt"), "/etc/passwd"]) == ["/etc/passwd",
                                                                           str(tmp_path / "seeds" / "x.txt")]


def test_follow_links_must_be_true_or_false():
    with pytest.raises(ConfigError) as err:
        config.parse({"input": {"follow_links": "yes"}})
    assert err.value.key == "input.follow_links" and "true or false" in str(err.value)


def test_a_dump_still_being_written_is_left_for_the_next_pass(tmp_path, monkeypatch):
    page = ("A post that is being saved\n\nIts opening paragraph, long enough to read as prose in a dump.\n\n"
            "Continue reading A post that is being saved\n")
    cfg = make_site(tmp_path, {"growing": page[:60]})
    dump = tmp_path / "dumps" / "growing.txt"
    real_read = files.read_bytes

    def read_while_a_writer_appends(path: str, limit: int) -> bytes:  # the writer is not done when we read
        data = real_read(path, limit)
        if Path(path) == dump and len(data) < len(page.encode()):
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(page[60:])
        return data

    monkeypatch.setattr(files, "read_bytes", read_while_a_writer_appends)
    with Store(cfg.state.path) as store:
        first = run_once(cfg, store, datetime(2025, 2, 17, 9, tzinfo=UTC))
        assert first.waiting == 1 and first.dumps_read == 0 and store.count() == 0
        assert "1 still being written" in first.summary() and not first.skipped
        second = run_once(cfg, store, datetime(2025, 2, 17, 9, 5, tzinfo=UTC))
        assert second.dumps_read == 1 and second.new == 1
        [entry] = store.newest()
        assert entry.entry.title == "A post that is being saved" and entry.entry.truncated


def test_a_progress_bar_only_on_a_terminal(tmp_path):
    import pty
    import subprocess
    import sys

    from conftest import REPO

    sys.path.insert(0, str(REPO / "bench"))
    from bench import build_corpus

    build_corpus(tmp_path / "corpus", 25, seed=2, rebuild=True)
    cfg = tmp_path / "feeds.toml"
    cfg.write_text(f'[input]\npaths = ["{tmp_path}/corpus/*.txt"]\n[output]\ndir = "{tmp_path}/out"\n'
                   f'[state]\npath = "{tmp_path}/state/s.sqlite3"\n', encoding="utf-8")
    controller, terminal = pty.openpty()
    import fcntl
    import struct
    import termios
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a 100-column terminal
    proc = subprocess.Popen([sys.executable, "-m", "feeds", "-c", str(cfg), "--now", NOW],
                            env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL,
                            stderr=terminal)
    os.close(terminal)
    seen = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=120)
    os.close(controller)
    assert proc.returncode == 0 and b"reading dumps" in seen and b"/25 [" in seen
    piped = run_cli("-c", str(cfg), "--now", NOW, "run", "--rebuild")
    assert "reading dumps" not in piped.stderr  # not when stderr is a file or a pipe


def test_a_pass_killed_between_composing_a_digest_and_writing_its_archive_is_finished(tmp_path):
    """The digest is composed (and stays so); the pass dies after writing digests/index.html,
    before digests/atom.xml. The next pass has nothing new, yet writes the archive whole: the
    same files as a pass that was never interrupted."""
    from conftest import seeds_site_and_reference

    from feeds.publish.files import write_if_changed

    cfg, reference = seeds_site_and_reference(tmp_path, "killed", T0)
    asked: list[str] = []

    def dies_at_the_digests_feed(path, data, *, durable=False):
        asked.append(path.relative_to(cfg.output.dir).as_posix())
        if path.as_posix().endswith("digests/atom.xml"):
            raise KeyboardInterrupt  # as if killed here
        return write_if_changed(path, data, durable=durable)

    with Store(cfg.state.path) as store, pytest.raises(KeyboardInterrupt):
        run_once(cfg, store, T0, write=dies_at_the_digests_feed)
    assert {"index.html", "atom.xml", "digests/index.html"} <= set(asked)  # every file goes through `write`
    assert (cfg.output.dir / "digests" / "index.html").exists()
    assert not (cfg.output.dir / "digests" / "atom.xml").exists()
    with Store(cfg.state.path) as store:
        again = run_once(cfg, store, T0)
    assert again.new == 0 and "digests/atom.xml" in " ".join(again.files_written)
    files = {p.relative_to(cfg.output.dir).as_posix(): p.read_bytes() for p in cfg.output.dir.rglob("*") if p.is_file()}
    assert files == reference
