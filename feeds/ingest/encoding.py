"""Which encoding a dump's bytes are in, when they do not say.

UTF-8 is tried first and taken whenever the bytes are valid UTF-8. Bytes that are not
are in a legacy encoding: ``[input] encoding`` names it when the user knows; otherwise
charset-normalizer (a kept library that weighs how plausible each decoding's text is)
lists the encodings that read the bytes as sensible text, and among those equally
plausible the browsers' rule decides: the legacy encoding of the page's language (the
table the HTML standard suggests for a locale, "windows-1252" for most Western
languages). A guess is always said in a warning that names the key to set.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

#: The legacy encoding browsers fall back to for a language (HTML standard, "determining the
#: character encoding", the suggested default for a locale); windows-1252 for the rest.
_BY_LANGUAGE = {
    **dict.fromkeys(("ar", "fa", "ur"), "cp1256"),
    **dict.fromkeys(("be", "bg", "kk", "ky", "mk", "ru", "sr", "tt", "uk"), "cp1251"),
    **dict.fromkeys(("cs", "hr", "hu", "pl", "ro", "sk", "sl"), "cp1250"),
    **dict.fromkeys(("et", "lt", "lv"), "cp1257"),
    "el": "cp1253", "he": "cp1255", "iw": "cp1255", "ja": "shift_jis", "ko": "euc_kr", "th": "cp874",
    "tr": "cp1254", "vi": "cp1258", "zh": "gb18030", "zh-tw": "big5", "zh-hk": "big5", "zh-hant": "big5",
}
_HTML_LANG = re.compile(rb"""<html\b[^>]*?\blang\s*=\s*["']?\s*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)""", re.I)


def language_default(language: str) -> str:
    """The legacy encoding a browser would take for text in `language` (a BCP 47 tag)."""
    tag = language.lower().replace("_", "-")
    return _BY_LANGUAGE.get(tag) or _BY_LANGUAGE.get("-".join(tag.split("-")[:2])) \
        or _BY_LANGUAGE.get(tag.split("-")[0], "cp1252")


def page_language(data: bytes) -> str | None:
    """The language an HTML page declares on its <html> element, if any."""
    found = _HTML_LANG.search(data[:16384])
    return found.group(1).decode("ascii") if found else None


def known(name: str) -> str | None:
    """The codec's canonical name, or None when Python has no such encoding."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def guess(data: bytes, language: str) -> str:
    """The legacy encoding `data` (not UTF-8) is most plausibly in, for text in `language`."""
    preferred = language_default(language)
    results = list(from_bytes(data, preemptive_behaviour=False))
    if not results:
        return preferred
    best = min(r.chaos for r in results)
    plausible = [r for r in results if r.chaos <= best + 0.05]  # (a few per cent: noise on a short text)
    for r in plausible:
        if known(r.encoding) == known(preferred):
            return preferred
    if any(r.coherence > 0 for r in plausible):
        return max(plausible, key=lambda r: r.coherence).encoding
    return plausible[0].encoding


def decode_legacy(data: bytes, path: str, *, language: str, configured: str = "") -> tuple[str, list[str]]:
    """Bytes that are not UTF-8 (and carry no byte-order mark) as text, with a warning when
    the encoding was guessed or bytes did not decode in the one configured."""
    if configured:
        text = data.decode(configured, errors="replace")
        bad = text.count("\ufffd") - data.decode(configured, errors="ignore").count("\ufffd")
        return text, ([f"{path}: {bad} byte(s) are not {configured} (input.encoding); they read as '\ufffd'"]
                      if bad else [])
    encoding = guess(data, language)
    return data.decode(encoding, errors="replace"), [
        f"{path}: not valid UTF-8, and no charset declared; read as {encoding} (a guess). If its text looks wrong, "
        f"set [input] encoding = \"...\" to the dump's encoding, or save the dump as UTF-8."]
