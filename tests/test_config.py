from __future__ import annotations

import pytest
from pydantic import ValidationError

from saleor_alipay_app.config import ConfigError, Environment, Settings, load_settings


def test_defaults_run_on_sqlite_without_any_service(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "APP_ENV", "ENCRYPTION_KEY", "ALLOWED_SALEOR_API_URLS", "APP_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.app_env is Environment.DEVELOPMENT
    assert settings.database_url == "sqlite+aiosqlite:///./saleor-alipay-app.db"
    assert settings.is_sqlite
    assert settings.app_url is None
    assert settings.saleor_url_allowed("https://any.example.com/graphql/")


def test_production_refuses_to_start_without_key_and_allowlist(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("ENCRYPTION_KEY", raising=False)
    monkeypatch.delenv("ALLOWED_SALEOR_API_URLS", raising=False)
    with pytest.raises(ConfigError) as excinfo:
        load_settings()
    message = str(excinfo.value)
    assert "ENCRYPTION_KEY" in message
    assert "generate-key" in message
    assert "ALLOWED_SALEOR_API_URLS" in message


@pytest.mark.parametrize(
    ("name", "value", "hint"),
    [
        ("DATABASE_URL", "mysql://x/y", "sqlite+aiosqlite"),
        ("APP_URL", "pay.example.com", "absolute http(s) URL"),
        ("LOG_LEVEL", "chatty", "DEBUG, INFO"),
        ("APP_ENV", "staging", "APP_ENV"),
    ],
)
def test_bad_values_say_what_to_fix(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, hint: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as excinfo:
        load_settings()
    assert hint in str(excinfo.value)


def test_postgres_urls_are_normalised_to_asyncpg() -> None:
    settings = Settings(database_url="postgresql://u@127.0.0.1:5432/db")
    assert settings.database_url == "postgresql+asyncpg://u@127.0.0.1:5432/db"
    assert not settings.is_sqlite


def test_allowlist_patterns() -> None:
    settings = Settings(
        app_env=Environment.PRODUCTION,
        encryption_key="x",
        allowed_saleor_api_urls="https://shop.example.com/graphql/, https://*.saleor.cloud/graphql/",
    )
    assert settings.saleor_url_allowed("https://shop.example.com/graphql/")
    assert settings.saleor_url_allowed("https://acme.saleor.cloud/graphql/")
    assert not settings.saleor_url_allowed("https://evil.example.com/graphql/")
    assert not settings.saleor_url_allowed("https://shop.example.com.evil.net/graphql/")


def _allowing(patterns: str) -> Settings:
    return Settings(
        app_env=Environment.PRODUCTION, encryption_key="x", allowed_saleor_api_urls=patterns
    )


@pytest.mark.parametrize(
    "url",
    [
        # the report's URL: the wildcard's text in the path of another host
        "https://127.0.0.1:8443/x.saleor.cloud/graphql/",
        "https://127.0.0.1/.saleor.cloud/graphql/",
        # user info, and @ in its many forms
        "https://acme.saleor.cloud@evil.net/graphql/",
        "https://evil.net@acme.saleor.cloud/graphql/",
        "https://user:pass@acme.saleor.cloud/graphql/",
        "https://evil.net%40acme.saleor.cloud/graphql/",
        # encoded slashes and backslashes
        "https://evil.net%2Facme.saleor.cloud/graphql/",
        "https://evil.net\\acme.saleor.cloud/graphql/",
        "https://acme.saleor.cloud/graphql%2F",
        # IDN and look-alikes
        "https://acme.saleor.clоud/graphql/",
        "https://xn--acme-9na.saleor.cloud.evil.net/graphql/",
        # IP literals, trailing dots, the bare suffix, other ports and schemes
        "https://1.2.3.4/graphql/",
        "https://[::1]/graphql/",
        "https://acme.saleor.cloud./graphql/",
        "https://saleor.cloud/graphql/",
        "https://.saleor.cloud/graphql/",
        "https://acme.saleor.cloud:8443/graphql/",
        "http://acme.saleor.cloud/graphql/",
        "https://acme.saleor.cloud/graphql/?next=x",
        "https://acme.saleor.cloud/graphql/#x",
        "https://acme.saleor.cloud/graphql/x",
        "https://acme.saleor.cloud/other/graphql/",
        "https://acme-.saleor.cloud/graphql/",
        "https://acme.saleor.cloud:99999/graphql/",
        "https://acme.saleor.cloud:0x1bb/graphql/",
        "",
        "not a url",
    ],
)
def test_the_allowlist_matches_host_port_and_path_apart(url: str) -> None:
    settings = _allowing("https://*.saleor.cloud/graphql/, https://shop.example.com/graphql/")
    assert not settings.saleor_url_allowed(url)


def test_what_the_allowlist_does_allow() -> None:
    settings = _allowing(
        "https://*.saleor.cloud/graphql/, https://shop.example.com/graphql/, "
        "http://127.0.0.1:*/graphql/, http://[::1]:8000/graphql/, https://*.example.org/*/graphql/"
    )
    for url in (
        "https://acme.saleor.cloud/graphql/",
        "https://a.b.saleor.cloud/graphql/",
        "https://ACME.saleor.cloud:443/graphql/",
        "https://shop.example.com/graphql/",
        "http://127.0.0.1:8000/graphql/",
        "http://127.0.0.1:49152/graphql/",
        "http://[::1]:8000/graphql/",
        "https://eu.example.org/store-1/graphql/",
    ):
        assert settings.saleor_url_allowed(url), url
    assert not settings.saleor_url_allowed("https://eu.example.org/a/b/graphql/")
    assert not settings.saleor_url_allowed("http://127.0.0.2:8000/graphql/")


@pytest.mark.parametrize(
    "pattern",
    [
        "*.saleor.cloud/graphql/",
        "https://*.saleor.cloud",
        "ftp://shop.example.com/graphql/",
        "https://user@shop.example.com/graphql/",
        "https://*.0.0.1/graphql/",
        "https://shop.example.com:99999/graphql/",
        "https://shop.example.com/graphql/?x=1",
        "https://shop_example.com/graphql/",
    ],
)
def test_a_malformed_allowlist_entry_refuses_to_start(pattern: str) -> None:
    with pytest.raises(ValidationError, match="ALLOWED_SALEOR_API_URLS"):
        _allowing(pattern)


def test_app_url_trailing_slash_is_dropped() -> None:
    assert Settings(app_url="https://pay.example.com/").app_url == "https://pay.example.com"
