from __future__ import annotations

import pytest

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


def test_app_url_trailing_slash_is_dropped() -> None:
    assert Settings(app_url="https://pay.example.com/").app_url == "https://pay.example.com"
