"""Which entry a post is (feeds.identity), as pure functions: canonical URLs, the rules that match
a post without a URL by its title and opening, and the keys a batch's posts are given; then the
merge rules (feeds.decide) over those keys, in the style of tests/test_decide.py."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from test_decide import NOW, decided, dump, post, snapshot, stored

from feeds.identity import Assigner, Identity, Known, canonical_url
from feeds.normalise import body_text
from feeds.store.batches import post_identity

WEEK1 = ("Here is what I read this week: a long piece on the history of the bicycle lane in "
         "Copenhagen, and why it took forty years.")
WEEK2 = ("Here is what I read this week: three essays on the economics of public libraries, "
         "with a reply from a librarian in Leeds.")


@pytest.mark.parametrize(("url", "canonical"), [
    ("https://example.org/2024/05/post/?utm_source=rss&utm_medium=feed", "https://example.org/2024/05/post"),
    ("https://example.org/post?fbclid=abc&gclid=x&mc_cid=1&mc_eid=2&ref=hn", "https://example.org/post"),
    ("https://example.org/post#comments", "https://example.org/post"),
    ("HTTP://Example.ORG:80/post/", "https://example.org/post"),
    ("https://example.org:443/post", "https://example.org/post"),
    ("https://example.org:8443/post", "https://example.org:8443/post"),
    ("https://example.org/?p=42&utm_campaign=x", "https://example.org/?p=42"),
    ("https://example.org/list?b=2&a=1", "https://example.org/list?a=1&b=2"),
    ("https://example.org/caf%C3%A9", "https://example.org/caf%C3%A9"),
    ("https://example.org/café", "https://example.org/caf%C3%A9"),
    ("https://EXAMPLE.org", "https://example.org/"),
])
def test_canonical_url(url, canonical):
    assert canonical_url(url) == canonical
    assert canonical_url(canonical) == canonical, "canonical twice changes nothing"


@pytest.mark.parametrize("url", ["mailto:a@example.org", "javascript:void(0)", "/relative/path", "https://"])
def test_what_is_no_web_address_has_no_canonical_url(url):
    assert canonical_url(url) is None


_PART = st.text(st.sampled_from("aZ09-._~%/?=&#:@ éü€+"), max_size=12)


@settings(max_examples=examples(full=500, quick=100), deadline=None)
@given(st.sampled_from(["http", "https", "HTTP"]), st.sampled_from(["example.org", "Example.ORG:443", "bücher.de",
                                                                      "example.org:8080", "a.example.org."]),
       _PART, _PART, _PART)
def test_a_canonical_url_is_canonical(scheme, host, path, query, fragment):
    """Normalising twice changes nothing, and what canonical_url drops does not tell two URLs apart."""
    url = f"{scheme}://{host}/{path}?{query}&utm_source=x#{fragment}"
    once = canonical_url(url)
    assert once is not None and once.startswith("https://")
    assert canonical_url(once) == once
    assert canonical_url(f"{scheme}://{host}/{path}?{query}#top") == once
    assert "utm_source" not in once and "#" not in once


def keys(*idents: Identity, known: tuple[Known, ...] = ()) -> list[str | None]:
    assigner = Assigner(known, lambda title: {k.key for k in known if k.key.partition("\n")[0] == title})
    return [assigner.key(i) for i in idents]


def ident(title: str, text: str = "", url: str | None = None) -> Identity:
    return Identity.of(title, text, url)


def test_three_posts_with_one_title_and_different_urls_are_three():
    got = keys(*(ident("Weekly links", WEEK1, f"https://example.org/links-{n}/") for n in range(3)))
    assert got == ["weekly links", "weekly links\n2", "weekly links\n3"]


def test_a_retitled_post_with_the_same_url_is_the_same_post():
    got = keys(ident("Teh bridge reopens", WEEK1, "https://example.org/bridge/?utm_source=x"),
               ident("A new title altogether", "Other words entirely.", "http://example.org/bridge#top"))
    assert got[0] == got[1]


def test_weekly_links_every_week_without_urls_are_different_posts():
    assert len(set(keys(ident("Weekly links", WEEK1), ident("Weekly links", WEEK2)))) == 2


def test_a_cut_copy_and_a_whole_copy_are_one_post():
    whole = WEEK1 + " The rest of the post follows here, and then more of it."
    cut = " ".join(WEEK1.split()[:12])[:-3]  # cut within a word: "gover…"
    a, b = keys(ident("Weekly links", whole), ident("Weekly links", cut + "…"))
    assert a == b


def test_a_typo_fixed_in_the_title_is_the_same_post():
    assert len(set(keys(ident("Teh bridge reopens on Monday", WEEK1), ident("The bridge reopens on Monday", WEEK1)))) == 1


def test_one_text_under_two_titles_that_differ_in_more_than_a_typo_is_two_posts():
    assert len(set(keys(ident("Quiet dispatch 417: the bridge reopens on Monday", WEEK1),
                        ident("Calm river 812: the bridge reopens on Monday", WEEK1)))) == 2


def test_short_titles_that_differ_in_most_letters_are_two_posts_even_with_one_opening():
    assert len(set(keys(ident("Boom", WEEK1), ident("Calm", WEEK1)))) == 2
    assert len(set(keys(ident("Hello World", WEEK1), ident("Hello, World", WEEK1)))) == 1


def test_titles_that_differ_in_a_number_are_two_posts_even_with_one_opening():
    assert len(set(keys(ident("Minutes of meeting no. 41", WEEK1), ident("Minutes of meeting no. 42", WEEK1)))) == 2


def test_a_changed_title_with_another_opening_is_another_post():
    assert len(set(keys(ident("Teh bridge reopens on Monday", WEEK1), ident("The bridge reopens on Monday", WEEK2)))) == 2


def test_an_edit_to_the_first_paragraph_is_the_same_post():
    edited = WEEK1.replace("forty", "fifty").replace("long", "longer")
    assert len(set(keys(ident("Weekly links", WEEK1), ident("Weekly links", edited)))) == 1


def test_a_short_opening_must_agree_word_for_word():
    assert len(set(keys(ident("Notes", "Rain today."), ident("Notes", "Sun today.")))) == 2


def test_a_post_first_seen_without_a_url_then_with_one_is_one_post_and_takes_the_url():
    a, b, c = keys(ident("Weekly links", WEEK1), ident("Weekly links", WEEK1, "https://example.org/w1"),
                   ident("Weekly links", WEEK1, "https://example.org/w2"))
    assert a == b, "the HTML copy of the text dump's post"
    assert c != a, "another URL is another post, however alike"


def test_a_copy_with_no_words_matches_only_when_one_post_has_its_title():
    assert keys(ident("Weekly links", WEEK1), ident("Weekly links", ""))[1] == "weekly links"
    assert keys(ident("Weekly links", WEEK1), ident("Weekly links", WEEK2), ident("Weekly links", ""))[2] == \
        "weekly links\n3"


def test_a_copy_of_a_removed_post_gets_no_key_and_new_keys_skip_removed_ones():
    removed = Known("weekly links", ident("Weekly links", WEEK1), removed=True)
    assert keys(ident("Weekly links", WEEK1), ident("Weekly links", WEEK2), known=(removed,)) == [
        None, "weekly links\n2"]


def test_a_stored_post_is_found_and_keeps_its_key():
    old = Known("weekly links", ident("Weekly links", WEEK1, "https://example.org/w1"))
    assert keys(ident("Weekly links", WEEK1, "https://example.org/w1?utm_source=rss"),
                ident("Weekly links", WEEK1, "https://example.org/w2"), known=(old,)) == [
        "weekly links", "weekly links\n2"]


# -- the merge rules over these keys ------------------------------------------------------------

def batch_with_keys(*dumps):
    assigner = Assigner((), lambda title: set())
    return [dataclasses.replace(d, keys=tuple(assigner.key(post_identity(p)) for p in d.posts)) for d in dumps]


def test_two_posts_with_one_title_and_different_urls_stay_two_entries():
    posts = [dataclasses.replace(post("Weekly links", text), url=f"https://example.org/{n}")
             for n, text in enumerate((WEEK1, WEEK1))]
    out = decided(batch_with_keys(dump("page.html", *posts)), snapshot())
    entries = [i.entry for d in out.dumps for i in d.entries]
    assert len(entries) == 2 and out.new == 2
    assert len({e.id for e in entries}) == len({e.slug for e in entries}) == 2
    assert {e.slug for e in entries} == {"weekly-links", "weekly-links-2"}
    assert [d.url for d in out.dumps[0].entries] == ["https://example.org/0", "https://example.org/1"]


def test_a_retitled_post_keeps_its_id_and_slug_and_takes_the_new_title():
    old = stored(post("Teh bridge reopens", WEEK1), NOW)
    retitled = post("The bridge reopens", WEEK1)
    d = dataclasses.replace(dump("new.txt", retitled), keys=(old.entry.key,))
    [[intent]] = [x.entries for x in decided([d], snapshot(old)).dumps]
    assert intent.entry.title == "The bridge reopens"
    assert (intent.entry.id, intent.entry.slug, intent.entry.key) == (old.entry.id, old.entry.slug, old.entry.key)
    assert intent.entry.text == body_text(retitled.body)
