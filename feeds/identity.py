"""Which stored entry a post is a copy of (pure): its identity, and the rules that match two.

- A post with a URL is its canonical URL (`canonical_url`: tracking parameters and the
  fragment dropped, scheme and host normalised, the default port and a trailing slash
  dropped). Two copies with one canonical URL are one post, whatever their titles; two with
  different URLs are two posts, whatever their titles and text.
- A post without one is its normalised title (`feeds.normalise.identity`) together with its
  opening: the first `OPENING_WORDS` words of its body (NFKC, case-folded, punctuation left
  out). A copy is the stored post when, over the words both show (a cut copy shows fewer):
    1. the titles are equal and the openings agree word for word (the last word of the
       shorter may be cut: "gover…" agrees with "government"): a cut and a whole copy;
    2. the titles are equal and at least `MIN_SHARED` words are shown, of which a share of
       at least `SIMILAR` agree in order: its first paragraph was edited;
    3. the openings agree word for word over at least `MIN_SHARED` words and the titles differ
       in a few letters only (`TYPO_LETTERS`; one in 20 of a long title, one in six of a short
       one), none of them a digit: a typo fixed in the title. (Numbers name an issue, a date, a part: "Minutes,
       May 2024 no. 41" and "… no. 42" are two posts even when they open with the same words.)
  Several "Weekly links" with different openings are different posts. A copy with no words
  at all matches on its title only when one stored post has it.
- A post first seen without a URL, then with one (an HTML dump of the same site), is matched
  by rule 1 to 3 and takes the URL; a post with a URL never matches one with another URL.

The entry's key (the store's primary key, never shown) is given once: the normalised title,
or, when another post has it, the title and "\\n2", "\\n3", … (no title holds a line break).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from difflib import SequenceMatcher
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

from feeds.normalise import identity as title_key

OPENING_WORDS = 30
OPENING_CHARS = 4000  # (opening reads no further)
FIRST_CHARS = 600  # (opening reads these first: they hold OPENING_WORDS words but in odd texts)
MIN_SHARED = 8
SIMILAR = 0.8
TYPO_LETTERS = 3

#: Query parameters that say where a reader came from, not which page: dropped. Prefixes end in "_".
TRACKING = frozenset({"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
                      "mc_cid", "mc_eid", "ref", "ref_src", "ref_url", "_ga", "_gl", "_hsenc", "_hsmi",
                      "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "wickedid", "spm", "share"})
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
_DEFAULT_PORT = {"http": 80, "https": 443}
_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"\d+")


def canonical_url(url: str) -> str | None:
    """The URL that identifies a post: w3lib's canonical form (percent-encoding normalised,
    query sorted, host lower-case and in IDNA, fragment dropped), without tracking parameters,
    the default port or a trailing slash; http and https as one. None when it is no http(s) URL."""
    try:
        parts = urlsplit(canonicalize_url(url.strip()))
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORT or not parts.hostname:
        return None
    host = parts.hostname.rstrip(".")
    if port is not None and port not in _DEFAULT_PORT.values():  # (http and https are one: so are 80 and 443)
        host = f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if k.lower() not in TRACKING and not k.lower().startswith(TRACKING_PREFIXES)])
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("https", host, path, query, ""))


def opening(text: str) -> tuple[str, ...]:
    """The first OPENING_WORDS words of a post's text, NFKC and case-folded, without punctuation.
    (Only the text's opening is read: FIRST_CHARS, then up to OPENING_CHARS when those are too few.)"""
    words = _words(text[:FIRST_CHARS])
    if len(words) < OPENING_WORDS and len(text) > FIRST_CHARS:
        words = _words(text[:OPENING_CHARS])
    return words


@lru_cache(maxsize=4096)
def _words(text: str) -> tuple[str, ...]:
    """(Cached: a batch asks for a post's words, then the store for its entry's, the same text.)"""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return tuple(_WORD.findall(text.casefold())[:OPENING_WORDS])


@dataclasses.dataclass(frozen=True, slots=True)
class Identity:
    """What identifies a post: canonical URL (or None), normalised title, opening words."""

    url: str | None
    title: str
    opening: tuple[str, ...]

    #: What rule 3's candidates share: the first MIN_SHARED words and the title's numbers ("":
    #: fewer words). (Posts that open alike, a series, may be many; a typo fix keeps the numbers.)
    typo_key: str = ""

    @classmethod
    def of(cls, title: str, text: str, url: str | None) -> Identity:
        key, words = title_key(title), opening(text)
        typo = " ".join((*words[:MIN_SHARED], "#", *_NUMBER.findall(key))) if len(words) >= MIN_SHARED else ""
        return cls(canonical_url(url) if url else None, key, words, typo)


@dataclasses.dataclass(frozen=True, slots=True)
class Known:
    """A stored (or removed: a tombstone) post, or one this batch has given a key."""

    key: str
    identity: Identity
    removed: bool = False


def _agree(a: Sequence[str], b: Sequence[str]) -> bool:
    """Do the openings agree over the words both show (the shorter's last word may be cut)?"""
    n = min(len(a), len(b))
    if n == 0 or a[:n - 1] != b[:n - 1]:
        return n == 0
    x, y = a[n - 1], b[n - 1]
    return x == y or (len(a) == n and y.startswith(x)) or (len(b) == n and x.startswith(y))


def _alike(a: Sequence[str] | str, b: Sequence[str] | str) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def score(post: Identity, known: Identity) -> tuple[int, int, float] | None:
    """How well a post matches a known one, or None: (tier, shared words, likeness), higher is better;
    the tiers: 9 the same URL, 3 rule 1, 2 rule 2, 1 rule 3."""
    if post.url and known.url:
        return (9, len(post.opening), 1.0 if post.title == known.title else 0.0) if post.url == known.url else None
    n = min(len(post.opening), len(known.opening))
    a, b = post.opening[:n], known.opening[:n]
    same_title = post.title == known.title
    if same_title and _agree(post.opening, known.opening):
        return (3, n, 1.0)
    if n < MIN_SHARED:
        return None
    if same_title and (likeness := _alike(a, b)) >= SIMILAR:
        return (2, n, likeness)
    if a == b and _typo(post.title, known.title):
        return (1, n, _alike(post.title, known.title))
    return None


def _typo(a: str, b: str) -> bool:
    """Do two titles differ in a few letters only (TYPO_LETTERS, one in 20 of a long title, one in
    six of a short one, at least one), and in no number?"""
    longest = max(len(a), len(b))
    allowed = max(1, min(longest // 6, max(TYPO_LETTERS, longest // 20)))  # ("Boom" and "Calm" are not one)
    if abs(len(a) - len(b)) > allowed or _NUMBER.findall(a) != _NUMBER.findall(b):
        return False
    same = sum(m.size for m in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
    return longest - same <= allowed


def best(post: Identity, candidates: Iterable[Known]) -> Known | None:
    """The known post this one is a copy of, or None (a new post). Of equals, the one known last."""
    found = [(s, i, k) for i, k in enumerate(candidates) if (s := score(post, k.identity)) is not None]
    if not found:
        return None
    (tier, shared, _), _, known = max(found, key=lambda f: (f[0], f[1]))
    if tier == 3 and shared == 0 and sum(1 for s, _, _ in found if s[0] == 3) > 1:
        return None  # no words to tell which of the posts with this title it is
    return known


class Assigner:
    """Gives each post of a batch, in order, its entry's key: a known post's, or a new one.
    `known`: the stored posts that may match, and those whose key is a title of the batch (see
    `Store.known_identities`); `taken(title)`: the stored keys of that title's family (the
    title, and the title then "\\n" and more)."""

    def __init__(self, known: Iterable[Known], taken: Callable[[str], set[str]]):
        self.taken = taken
        self.known: dict[str, Known] = {}
        self.by: dict[str, dict[str, None]] = {}  # a look-up -> the keys found by it, in order
        for k in known:
            self._index(k)

    def _index(self, k: Known) -> None:
        self.known[k.key] = k
        for look in _looks(k.identity):
            self.by.setdefault(look, {})[k.key] = None

    def key(self, post: Identity) -> str | None:
        """The post's key; None when it matches a removed post (a tombstone: it is not re-added)."""
        keys = dict.fromkeys(k for look in _looks(post) for k in self.by.get(look, ()))
        match = best(post, (self.known[k] for k in keys))
        if match is None:
            key = self._new_key(post.title)
            self._index(Known(key, post))
            return key
        if post.url and not match.identity.url:  # a post first seen without its URL takes it
            self._index(dataclasses.replace(match, identity=dataclasses.replace(match.identity, url=post.url)))
        return None if match.removed else match.key

    def _new_key(self, title: str) -> str:
        """The title, or, when a post has it, the title then "\\n2", "\\n3", … (the first free)."""
        if title not in self.known:
            return title
        taken = self.taken(title) | set(self.known)
        n = 2
        while f"{title}\n{n}" in taken:
            n += 1
        return f"{title}\n{n}"


def _looks(ident: Identity) -> list[str]:
    """What a post is looked up by: its URL, its title, its typo key (those it has)."""
    return [look for look, has in ((f"u {ident.url}", ident.url), (f"t {ident.title}", True),
                                   (f"h {ident.typo_key}", ident.typo_key)) if has]
