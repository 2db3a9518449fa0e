"""Dumps that are not UTF-8 and do not say what they are: read right where it can be told, with
a warning naming the guess; `[input] encoding` names it and silences the warning."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli, write_config

from feeds.ingest.encoding import language_default
from feeds.ingest.html.posts import read_html
from feeds.ingest.text import read_text

FRENCH = "Café crème à la française"
RUSSIAN = "Молдова выбрала президента"
RUSSIAN_TEXT = ("Избирательная комиссия объявила итоги второго тура. Новый президент обещала бороться с "
                "коррупцией и укреплять связи с соседями. Наблюдатели назвали выборы честными.")


def _listing(title: str, body: str, charset: str = "", lang: str = "") -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    lang_attr = f' lang="{lang}"' if lang else ""
    return (f"<!DOCTYPE html><html{lang_attr}><head>{meta}<title>{title}</title></head><body>"
            f'<article class="post hentry"><h2 class="entry-title"><a href="https://x.example/a">{title}</a></h2>'
            f'<time class="published" datetime="2024-03-12T10:00:00+00:00">12 March</time>'
            f'<div class="entry-content"><p>{body}</p></div></article></body></html>')


def test_a_page_with_no_charset_in_latin_1_is_read_right_with_a_warning_naming_the_key():
    page = read_html("p.html", _listing(FRENCH, "Un texte en français, déjà lu.").encode("latin-1"))
    assert page.posts[0].title == FRENCH
    [warning] = page.warnings
    assert "p.html: not valid UTF-8, and no charset declared; read as cp1252 (a guess)" in warning
    assert "[input] encoding" in warning


def test_input_encoding_names_it_and_silences_the_warning():
    data = _listing(FRENCH, "Un texte en français, déjà lu.").encode("latin-1")
    page = read_html("p.html", data, encoding="iso8859-1")
    assert page.posts[0].title == FRENCH and page.warnings == ()


def test_a_declared_charset_wins_over_input_encoding():
    data = _listing(RUSSIAN, RUSSIAN_TEXT, charset="windows-1251").encode("cp1251")
    page = read_html("p.html", data, encoding="iso8859-1")
    assert page.posts[0].title == RUSSIAN and page.warnings == ()


def test_a_page_in_windows_1251_that_declares_only_its_language_is_read_as_its_languages_encoding():
    page = read_html("p.html", _listing(RUSSIAN, "Коротко.", lang="ru").encode("cp1251"))
    assert page.posts[0].title == RUSSIAN
    assert "read as cp1251 (a guess)" in page.warnings[0]


def test_utf_8_with_no_declaration_stays_utf_8_without_a_warning():
    page = read_html("p.html", _listing(RUSSIAN, RUSSIAN_TEXT).encode("utf-8"), language="en")
    assert page.posts[0].title == RUSSIAN and page.warnings == ()


@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_windows_1251_text_dump_is_read_as_windows_1251(tmp_path, language):
    """By the site's language; and, for a paragraph or more, by the text itself whatever the language."""
    dump = tmp_path / "d.txt"
    dump.write_bytes(f"{RUSSIAN}\n\n{RUSSIAN_TEXT}\n".encode("cp1251"))
    read = read_text(dump, language=language)
    assert [b.text for b in read.blocks] == [RUSSIAN, RUSSIAN_TEXT]
    assert "read as cp1251 (a guess)" in read.warnings[0]


def test_a_latin_1_text_dump_with_input_encoding_has_no_warning(tmp_path):
    dump = tmp_path / "d.txt"
    dump.write_bytes(f"{FRENCH}\n\nUn texte en français.\n".encode("latin-1"))
    read = read_text(dump, encoding="latin-1")
    assert read.blocks[0].text == FRENCH and read.warnings == ()
    wrong = read_text(dump, encoding="ascii")  # (a wrong name: the bytes that do not decode are counted)
    assert wrong.blocks[0].text == "Caf\ufffd cr\ufffdme \ufffd la fran\ufffdaise"
    assert wrong.warnings == (f"{dump}: 5 byte(s) are not ascii (input.encoding); they read as '\ufffd'",)


@pytest.mark.parametrize("language, encoding", [("en", "cp1252"), ("en-GB", "cp1252"), ("ru", "cp1251"),
                                                ("uk-UA", "cp1251"), ("pl", "cp1250"), ("ja", "shift_jis"),
                                                ("zh-TW", "big5"), ("zh-CN", "gb18030"), ("el", "cp1253")])
def test_the_browsers_default_encoding_of_a_language(language, encoding):
    assert language_default(language) == encoding


def test_a_pass_with_input_encoding_reads_windows_1251_dumps_and_says_nothing(tmp_path):
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    (dumps / "ru.txt").write_bytes(f"{RUSSIAN}\n\n{RUSSIAN_TEXT}\n".encode("cp1251"))
    cfg = write_config(tmp_path, [str(dumps / "*.txt")], extra='encoding = "windows-1251"\n')
    proc = run_cli("-c", str(cfg), "inspect", "--json", str(dumps / "ru.txt"), check=True)
    assert json.loads(proc.stdout.splitlines()[0])["title"] == RUSSIAN and proc.stderr == ""
    run = run_cli("-c", str(cfg), "--now", "2025-03-01T09:00:00+00:00", check=True)
    assert "1 new" in run.stdout and run.stderr == ""
    bad = write_config(tmp_path, [str(dumps / "*.txt")], extra='encoding = "klingon"\n')
    proc = run_cli("-c", str(bad), "--now", "2025-03-01T09:00:00+00:00")
    assert proc.returncode == 2 and "input.encoding = 'klingon'" in proc.stderr
