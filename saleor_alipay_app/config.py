"""Settings, read from the environment and validated at start.

Every setting has a message that says what to fix when it is wrong: the app refuses to start
rather than run half-configured.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_FILE = "saleor-alipay-app.db"


class ConfigError(Exception):
    """The environment does not describe a runnable app; the message says what to fix."""


_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class SaleorUrlPattern:
    """One entry of ALLOWED_SALEOR_API_URLS, matched part by part, never as one string.

    ``scheme://host[:port]/path``: the scheme and path are compared exactly (a ``*`` in the path
    stands for characters within one segment); the host exactly, or with a leading ``*.`` that
    stands for one or more DNS labels (never an IP address); the port exactly (the scheme's
    default when absent) or ``*`` for any. A URL with user info, a query, a fragment, an
    unusual host (an IP with a wildcard, a trailing dot, percent-escapes, non-ASCII) matches
    nothing.
    """

    scheme: str
    host: str  # lower case; "*.example.com" or "*" for a wildcard
    port: int | None  # None: any port
    path: re.Pattern[str]
    text: str

    @classmethod
    def parse(cls, text: str) -> SaleorUrlPattern:
        match = re.fullmatch(r"(https?)://([^/?#@\\]+)(/[^?#@\\]*)", text)
        if match is None:
            raise ValueError(
                f"ALLOWED_SALEOR_API_URLS entry {text!r} must look like "
                "https://shop.example.com/graphql/ (scheme, host, optional port, path)"
            )
        scheme, authority, path = match.groups()
        if authority.startswith("["):  # an IPv6 literal, [::1] or [::1]:8000
            host, _, rest = authority.partition("]")
            host += "]"
            if rest and not rest.startswith(":"):
                raise ValueError(f"ALLOWED_SALEOR_API_URLS entry {text!r} has an invalid host")
            port_text = rest[1:]
        else:
            host, _, port_text = authority.partition(":")
        host = host.lower()
        wildcard_host = host == "*" or host.startswith("*.")
        plain = host[2:] if host.startswith("*.") else host
        if host != "*" and not (_dns_name(plain) or _ip_literal(plain)):
            raise ValueError(f"ALLOWED_SALEOR_API_URLS entry {text!r} has an invalid host")
        if wildcard_host and host != "*" and _ip_literal(plain):
            raise ValueError(f"ALLOWED_SALEOR_API_URLS entry {text!r}: no wildcard in an IP")
        if port_text == "*":
            port = None
        elif port_text == "":
            port = _DEFAULT_PORTS[scheme]
        elif port_text.isdigit() and 0 < int(port_text) < 65536:
            port = int(port_text)
        else:
            raise ValueError(f"ALLOWED_SALEOR_API_URLS entry {text!r} has an invalid port")
        path_re = re.compile("[^/]*".join(re.escape(part) for part in path.split("*")))
        return cls(scheme, host, port, path_re, text)

    def matches(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        host = parts.hostname
        if (
            parts.scheme != self.scheme
            or host is None
            or "@" in parts.netloc
            or parts.query
            or parts.fragment
            or not url.isascii()
            or "%" in parts.netloc
            or "\\" in url
        ):
            return False
        if (port or _DEFAULT_PORTS[parts.scheme]) != self.port and self.port is not None:
            return False
        if not self.path.fullmatch(parts.path):
            return False
        if self.host == "*" or self.host.startswith("*."):
            if not _dns_name(host):
                return False
            return self.host == "*" or (
                host.endswith(self.host[1:]) and len(host) > len(self.host) - 1
            )
        return host == self.host or (_ip_literal(host) and _same_ip(host, self.host))


def _dns_name(host: str) -> bool:
    """A host name of DNS labels whose last label is not all digits (so never an IP address)."""
    return bool(_HOST_NAME.fullmatch(host)) and not host.rpartition(".")[2].isdigit()


def _ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _same_ip(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a.strip("[]")) == ipaddress.ip_address(b.strip("[]"))
    except ValueError:
        return False


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Environment variables of the app (documented in the README's settings table)."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    app_env: Environment = Field(
        default=Environment.DEVELOPMENT,
        description="`development` or `production`.",
    )
    database_url: str = Field(
        default=f"sqlite+aiosqlite:///./{DEFAULT_SQLITE_FILE}",
        description="SQLAlchemy URL: sqlite+aiosqlite:///path.db or postgresql+asyncpg://...",
    )
    app_url: str | None = Field(
        default=None,
        description="Public base URL of the app; when unset, each request's own base URL.",
    )
    encryption_key: str | None = Field(
        default=None,
        description="Base64 of 32 random bytes (AES-256-GCM) for secrets at rest.",
    )
    encryption_old_keys: str | None = Field(
        default=None,
        description="Comma-separated keys that were in use before a rotation (read only).",
    )
    allowed_saleor_api_urls: str | None = Field(
        default=None,
        description="Comma-separated patterns (`*` wildcard) of Saleor API URLs that may install.",
    )
    db_pool_size: int = Field(
        default=20,
        ge=1,
        le=1000,
        description="PostgreSQL connections each app process keeps open.",
    )
    db_max_overflow: int = Field(
        default=10,
        ge=0,
        le=1000,
        description="Extra PostgreSQL connections a process may open under a burst.",
    )
    db_pool_timeout: float = Field(
        default=10.0,
        gt=0,
        le=60,
        description="Seconds a request waits for a free PostgreSQL connection.",
    )
    log_level: str = Field(default="INFO")
    antom_call_timeout: float = Field(default=10.0, gt=0, le=60)
    saleor_call_timeout: float = Field(default=10.0, gt=0, le=60)
    sweeper_interval: float = Field(
        default=5.0,
        ge=0,
        description="Seconds between sweeps of unknown outcomes and unsent reports; 0 disables.",
    )
    report_confirm_delay: float = Field(
        default=30.0,
        ge=0,
        description="Seconds before an outcome already answered to Saleor is also reported "
        "with transactionEventReport (Saleor de-duplicates it; it matters when an answer was "
        "lost).",
    )
    metrics_token: str | None = Field(
        default=None,
        repr=False,
        description="Bearer token GET /metrics requires; when unset, /metrics is open.",
    )
    sentry_dsn: str | None = Field(
        default=None,
        repr=False,
        description="Sentry DSN: errors go to Sentry (needs the `sentry` extra).",
    )
    reconciliation_sftp_host: str | None = Field(
        default=None,
        description="Antom's SFTP host for reconciliation reports (isftp.alipay.com).",
    )
    reconciliation_sftp_port: int = Field(default=22, ge=1, le=65535)
    reconciliation_sftp_username: str | None = Field(default=None)
    reconciliation_sftp_password: str | None = Field(default=None, repr=False)
    reconciliation_sftp_private_key_file: str | None = Field(
        default=None, description="OpenSSH private key file for the SFTP account."
    )
    reconciliation_sftp_known_hosts: str | None = Field(
        default=None,
        description="known_hosts file holding the SFTP server's host key (required).",
    )
    reconciliation_sftp_directory: str = Field(
        default="/v1/settlements",
        description="Remote folder holding one yyyyMMdd folder per day "
        "(/v1/settlements/<merchantIdByAcquirer>).",
    )

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(
                f"LOG_LEVEL={value!r} is not a level; use DEBUG, INFO, WARNING, ERROR or CRITICAL"
            )
        return level

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        scheme = value.split(":", 1)[0]
        if scheme == "sqlite+aiosqlite":
            return value
        if scheme == "sqlite":
            return value.replace("sqlite://", "sqlite+aiosqlite://", 1)
        if scheme in {"postgres", "postgresql", "postgresql+asyncpg"}:
            rest = value.split("://", 1)[1] if "://" in value else ""
            if not rest:
                raise ValueError("DATABASE_URL has no host part")
            return "postgresql+asyncpg://" + rest
        raise ValueError(
            f"DATABASE_URL scheme {scheme!r} is not supported; use sqlite+aiosqlite:///file.db "
            "or postgresql://user@host:5432/dbname"
        )

    @field_validator("allowed_saleor_api_urls")
    @classmethod
    def _allowed_saleor_api_urls(cls, value: str | None) -> str | None:
        for pattern in (value or "").split(","):
            if pattern.strip():
                SaleorUrlPattern.parse(pattern.strip())  # ValueError says what is wrong
        return value

    @field_validator("metrics_token", "sentry_dsn")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("app_url")
    @classmethod
    def _app_url(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(
                f"APP_URL={value!r} must be an absolute http(s) URL such as https://pay.example.com"
            )
        if parts.query or parts.fragment:
            raise ValueError("APP_URL must not carry a query string or fragment")
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _production_requirements(self) -> Settings:
        if self.app_env is Environment.PRODUCTION:
            missing = []
            if not self.encryption_key:
                missing.append(
                    "ENCRYPTION_KEY (generate one with `saleor-alipay-app generate-key`)"
                )
            if not self.allowed_saleor_api_urls:
                missing.append(
                    "ALLOWED_SALEOR_API_URLS (for example https://shop.example.com/graphql/)"
                )
            if missing:
                raise ValueError("APP_ENV=production requires " + " and ".join(missing))
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        path = self.database_url.split(":///", 1)[1] if ":///" in self.database_url else ""
        if path in {"", ":memory:"}:
            return None
        return Path(path)

    @property
    def saleor_url_patterns(self) -> list[SaleorUrlPattern]:
        if not self.allowed_saleor_api_urls:
            return []
        return [
            SaleorUrlPattern.parse(p.strip())
            for p in self.allowed_saleor_api_urls.split(",")
            if p.strip()
        ]

    def saleor_url_allowed(self, saleor_api_url: str) -> bool:
        """Whether a Saleor instance may install the app.

        In development without ALLOWED_SALEOR_API_URLS every URL is allowed (and the app warns at
        start); in production the setting is mandatory.
        """
        patterns = self.saleor_url_patterns
        if not patterns:
            return self.app_env is Environment.DEVELOPMENT
        return any(pattern.matches(saleor_api_url) for pattern in patterns)


def _format_errors(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]).upper() or "settings"
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"  {name}: {message}")
    return "Invalid configuration:\n" + "\n".join(lines)


def load_settings() -> Settings:
    """Read and validate the environment, raising ConfigError with what to fix."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def warn_development_defaults(settings: Settings, logger: logging.Logger) -> None:
    if settings.app_env is Environment.DEVELOPMENT and not settings.saleor_url_patterns:
        logger.warning(
            "ALLOWED_SALEOR_API_URLS is not set: any Saleor may install this app "
            "(development mode only; production refuses to start without it)"
        )
