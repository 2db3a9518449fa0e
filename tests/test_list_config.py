"""The [web] table: the subscription endpoint's URL, the secret's variable and the limits."""

from __future__ import annotations

import pytest

from feeds import config
from feeds.errors import ConfigError


def test_the_web_table_has_its_defaults_with_no_file():
    web = config.Config().web
    assert (web.url, web.secret_env, web.confirm_hours, web.per_address_hour, web.per_client_hour) == (
        "", "FEEDS_SECRET", 48, 3, 10)


def test_the_endpoint_url_gets_its_trailing_slash():
    assert config.parse({"web": {"url": "https://example.org/list"}}).web.url == "https://example.org/list/"


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("url", "ftp://example.org/", "http:// or https:// URL"),
    ("url", "https://example.org/list?x=1", "without '?'"),
    ("secret_env", "not a name", "the name of an environment variable"),
    ("confirm_hours", 0, "from 1 to 720"),
    ("per_address_hour", 0, "from 1 to 100"),
    ("per_client_hour", "many", "from 1 to 10000"),
])
def test_a_bad_web_value_names_its_key(key, value, expected):
    with pytest.raises(ConfigError) as info:
        config.parse({"web": {key: value}})
    assert f"web.{key}" in str(info.value) and expected in str(info.value)


def test_the_starter_file_shows_the_web_table(tmp_path):
    from feeds import starter

    starter.write(tmp_path / "feeds.toml")
    text = (tmp_path / "feeds.toml").read_text(encoding="utf-8")
    table = text[text.index("[web]"):]
    for key in ("url", "secret_env", "confirm_hours", "per_address_hour", "per_client_hour"):
        assert f"\n{key} = " in table
    assert "secrets.token_urlsafe(32)" in table
