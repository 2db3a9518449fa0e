"""The list's signed tokens (feeds.tokens): what is signed comes back, and nothing else does:
a token forged, altered, cut short, expired or made for another purpose raises BadToken."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from feeds import config, tokens
from feeds.errors import ConfigError
from feeds.tokens import BadToken, sign, verify

SECRET = b"s" * 43
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def test_a_signed_token_gives_back_its_address_and_is_url_safe_without_padding():
    token = sign(SECRET, "unsubscribe", "Ann.Lee+news@example.org", now=NOW)
    assert verify(SECRET, token, "unsubscribe", now=NOW + timedelta(days=3650)) == "Ann.Lee+news@example.org"
    assert "=" not in token and set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def test_a_confirmation_token_holds_until_it_expires_and_not_after():
    token = sign(SECRET, "confirm", "a@example.org", now=NOW, ttl=timedelta(hours=48))
    assert verify(SECRET, token, "confirm", now=NOW + timedelta(hours=47, minutes=59)) == "a@example.org"
    with pytest.raises(BadToken, match="expired"):
        verify(SECRET, token, "confirm", now=NOW + timedelta(hours=48))


def test_a_token_for_one_purpose_is_refused_for_the_other():
    token = sign(SECRET, "confirm", "a@example.org", now=NOW, ttl=timedelta(hours=1))
    with pytest.raises(BadToken, match="for 'confirm', not 'unsubscribe'"):
        verify(SECRET, token, "unsubscribe", now=NOW)


def test_a_token_signed_with_another_secret_is_refused():
    token = sign(b"t" * 43, "unsubscribe", "a@example.org", now=NOW)
    with pytest.raises(BadToken, match="signature"):
        verify(SECRET, token, "unsubscribe", now=NOW)


def _payload_replaced(token: str, old: bytes, new: bytes) -> str:
    body, mac = token.split(".")
    payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).replace(old, new)
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode() + "." + mac


def test_an_altered_address_purpose_or_expiry_is_refused():
    token = sign(SECRET, "confirm", "a@example.org", now=NOW, ttl=timedelta(hours=1))
    expiry = str(int((NOW + timedelta(hours=1)).timestamp())).encode()
    for old, new in ((b"a@example.org", b"b@example.org"), (b"confirm", b"unsubscribe"),
                     (expiry, str(int(expiry) + 10**6).encode()), (b"\n" + expiry, b"\n")):
        altered = _payload_replaced(token, old, new)
        assert altered != token
        with pytest.raises(BadToken, match="signature"):
            verify(SECRET, altered, "confirm", now=NOW)


@pytest.mark.parametrize("cut", [1, 5, 20, -1, -5])
def test_a_token_cut_short_is_refused(cut):
    token = sign(SECRET, "unsubscribe", "a@example.org", now=NOW)
    with pytest.raises(BadToken):
        verify(SECRET, token[:cut] if cut > 0 else token[:cut], "unsubscribe", now=NOW)


@pytest.mark.parametrize("junk", ["", ".", "abc", "!!!.???", "a.b.c", "x" * 5000])
def test_junk_is_refused_not_crashed_on(junk):
    with pytest.raises(BadToken):
        verify(SECRET, junk, "unsubscribe", now=NOW)


def test_the_secret_comes_from_the_environment_variable_the_config_names(monkeypatch):
    cfg = config.parse({"web": {"secret_env": "LIST_SECRET"}})
    monkeypatch.setenv("LIST_SECRET", "k" * 32)
    assert tokens.secret(cfg) == b"k" * 32


@pytest.mark.parametrize("value", [None, "", "short-secret"])
def test_a_missing_or_short_secret_says_how_to_make_one_without_showing_it(monkeypatch, value):
    monkeypatch.delenv("FEEDS_SECRET", raising=False)
    if value is not None:
        monkeypatch.setenv("FEEDS_SECRET", value)
    with pytest.raises(ConfigError) as info:
        tokens.secret(config.Config())
    message = str(info.value)
    assert "FEEDS_SECRET" in message and "secrets.token_urlsafe(32)" in message
    assert ("is not set" if not value else "fewer than 32") in message
    assert "short-secret" not in message


def test_only_the_exact_text_signed_is_taken():
    """base64 decoders skip stray characters and ignore a last character's spare bits: a token
    changed so must not pass for the one that was signed."""
    token = sign(SECRET, "unsubscribe", "a@example.org", now=NOW)
    body, mac = token.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    sibling = alphabet[alphabet.index(mac[-1]) ^ 1]  # the MAC's last character with a spare bit flipped
    assert base64.urlsafe_b64decode(mac[:-1] + sibling + "=") == base64.urlsafe_b64decode(mac + "=")
    changed = [body + "=." + mac, body + "." + mac + "=", body[:3] + "\n" + body[3:] + "." + mac,
               " " + token, token + " ", body + ".." + mac, body + "." + mac[:-1] + sibling]
    for text in changed:
        with pytest.raises(BadToken):
            verify(SECRET, text, "unsubscribe", now=NOW)


def test_a_token_for_the_longest_address_is_taken_and_a_huge_one_refused_at_once():
    address = "a" * 64 + "@" + "b" * 185 + ".org"
    assert len(address) == 254
    assert verify(SECRET, sign(SECRET, "unsubscribe", address, now=NOW), "unsubscribe", now=NOW) == address
    with pytest.raises(BadToken, match="not a token"):
        verify(SECRET, "A" * 100_000 + ".B", "unsubscribe", now=NOW)
