"""Antom configuration per installation and channel, and the Antom clients built from it."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import AsyncSession

from saleor_alipay_app.antom import wallets as wallet_table
from saleor_alipay_app.antom.client import (
    REGION_DOMAINS,
    AntomClient,
)
from saleor_alipay_app.antom.keys import (
    KeyFormatError,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_base64,
    public_key_pem,
)
from saleor_alipay_app.antom.wallets import CAPABILITIES, Wallet
from saleor_alipay_app.channels.models import ChannelConfig
from saleor_alipay_app.channels.repository import ChannelConfigRepository
from saleor_alipay_app.channels.schemas import ChannelConfigForm
from saleor_alipay_app.crypto import CryptoError, KeyRing
from saleor_alipay_app.db import KeptRows, Sessions, transaction, utcnow
from saleor_alipay_app.errors import (
    ConfigurationError,
    Invalid,
)
from saleor_alipay_app.installations.models import Installation
from saleor_alipay_app.saleor.client import SaleorClient, SaleorError

log = logging.getLogger(__name__)

PRIVATE_KEY_PURPOSE = "channel_config.merchant_private_key"
CUSTOM_REGION = "custom"


@dataclass(frozen=True)
class ValidConfig:
    channel_slug: str
    client_id: str
    private_key: rsa.RSAPrivateKey
    public_key: rsa.RSAPublicKey
    region: str
    base_url: str
    sandbox: bool
    wallets: list[str]


def validate(
    *,
    channel_slug: str,
    client_id_text: str,
    merchant_private_key: str,
    antom_public_key: str,
    region: str,
    base_url: str | None,
    sandbox: bool,
    wallets: Sequence[str],
) -> ValidConfig:
    """Check a configuration before storing it; ConfigurationError says what to fix."""
    slug = channel_slug.strip()
    if not slug:
        raise ConfigurationError("channel slug is required")
    client_id = client_id_text.strip()
    if not client_id or len(client_id) > 128:
        raise ConfigurationError("Antom client id is required (as shown in Antom Dashboard)")
    try:
        private_key = load_private_key(merchant_private_key)
    except KeyFormatError as exc:
        raise ConfigurationError(f"merchant private key: {exc}") from None
    try:
        public_key = load_public_key(antom_public_key)
    except KeyFormatError as exc:
        raise ConfigurationError(f"Antom public key: {exc}") from None
    if private_key.public_key().public_numbers() == public_key.public_numbers():
        raise ConfigurationError(
            "the Antom public key is the public half of your own private key: paste the key "
            "Antom Dashboard shows as 'Antom public key', not the one you uploaded"
        )
    if base_url:
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query:
            raise ConfigurationError(f"base URL {base_url!r} must be an http(s) origin")
        base_url = base_url.rstrip("/")
        region = region if region in REGION_DOMAINS else CUSTOM_REGION
    else:
        if region not in REGION_DOMAINS:
            raise ConfigurationError(
                f"unknown region {region!r}: use one of {', '.join(REGION_DOMAINS)} "
                "or give a base URL"
            )
        base_url = REGION_DOMAINS[region]
    enabled: list[str] = []
    for name in wallets:
        candidate = name.strip().upper()
        try:
            wallet = Wallet(candidate)
        except ValueError:
            known = ", ".join(w.value for w in CAPABILITIES)
            raise ConfigurationError(f"unknown wallet {name!r}: use {known}") from None
        if wallet.value not in enabled:
            enabled.append(wallet.value)
    if not enabled:
        raise ConfigurationError("enable at least one wallet")
    sandbox = sandbox or client_id.startswith("SANDBOX_")
    return ValidConfig(slug, client_id, private_key, public_key, region, base_url, sandbox, enabled)


def new_public_id() -> str:
    return "cfg_" + secrets.token_urlsafe(16)


async def save_config(
    session: AsyncSession, installation_id: int, valid: ValidConfig, keys: KeyRing
) -> ChannelConfig:
    """Create or replace the configuration of a channel (its notification URLs stay)."""
    now = utcnow()
    record = await ChannelConfigRepository(session).config_for_channel(
        installation_id, valid.channel_slug
    )
    if record is None:
        record = ChannelConfig(
            installation_id=installation_id,
            channel_slug=valid.channel_slug,
            public_id=new_public_id(),
            client_id="",
            merchant_private_key_encrypted="",
            antom_public_key="",
            region="",
            base_url="",
            sandbox=False,
            enabled_wallets=[],
            created_at=now,
        )
    record.client_id = valid.client_id
    record.merchant_private_key_encrypted = keys.encrypt(
        private_key_pem(valid.private_key), PRIVATE_KEY_PURPOSE
    )
    record.antom_public_key = public_key_pem(valid.public_key)
    record.region = valid.region
    record.base_url = valid.base_url
    record.sandbox = valid.sandbox
    record.enabled_wallets = valid.wallets
    record.updated_at = now
    session.add(record)
    await session.flush()
    return record


def notification_path(config: ChannelConfig, kind: str) -> str:
    """Path of Antom's notifications for one configuration (`kind`: authorization, payment,
    refund). The random public id names the installation and the channel."""
    return f"/api/antom/{config.public_id}/notify/{kind}"


class AntomClientPool:
    """One AntomClient per configuration (keys parsed once), all on one HTTP pool; what
    `payments.deps.AntomClients` stands for in production."""

    def __init__(self, http: httpx.AsyncClient, keys: KeyRing, *, call_timeout: float) -> None:
        self.http = http
        self.keys = keys
        self.call_timeout = call_timeout
        self._cache: dict[tuple[int, str], AntomClient] = {}
        self._public_keys: dict[tuple[int, str], rsa.RSAPublicKey] = {}

    def for_config(self, config: ChannelConfig) -> AntomClient:
        assert config.id is not None
        key = (config.id, config.updated_at.isoformat())
        client = self._cache.get(key)
        if client is None:
            client = AntomClient(
                base_url=config.base_url,
                client_id=config.client_id,
                private_key=load_private_key(
                    self.keys.decrypt(config.merchant_private_key_encrypted, PRIVATE_KEY_PURPOSE)
                ),
                antom_public_key=load_public_key(config.antom_public_key),
                http=self.http,
                sandbox=config.sandbox,
                call_timeout=self.call_timeout,
            )
            self._cache = {k: v for k, v in self._cache.items() if k[0] != config.id}
            self._cache[key] = client
        return client

    def public_key(self, config: ChannelConfig) -> rsa.RSAPublicKey:
        """Antom's public key of the configuration, parsed once per version of it."""
        assert config.id is not None
        key = (config.id, config.updated_at.isoformat())
        public = self._public_keys.get(key)
        if public is None:
            public = load_public_key(config.antom_public_key)
            self._public_keys = {k: v for k, v in self._public_keys.items() if k[0] != config.id}
            self._public_keys[key] = public
        return public


def config_cache() -> KeptRows[str, ChannelConfig]:
    """Channel configurations by their public id, the one in Antom's notification URLs (see
    `db.KeptRows`): a save clears them, a refused notification reads its row again."""

    async def load(session: AsyncSession, public_id: str) -> ChannelConfig | None:
        return await ChannelConfigRepository(session).config_by_public_id(public_id)

    return KeptRows(load)


def mask(value: str, keep: int = 4) -> str:
    """Show only the end of an identifier."""
    if len(value) <= keep:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]


def describe(config: ChannelConfig, base_url: str | None) -> dict[str, object]:
    """A configuration as operators may see it: secrets masked, notification URLs spelled out."""
    urls = {
        kind: (base_url or "<APP_URL>") + notification_path(config, kind)
        for kind in ("authorization", "payment", "refund")
    }
    return {
        "channel": config.channel_slug,
        "clientId": config.client_id,
        "merchantPrivateKey": "(set, encrypted)",
        "antomPublicKey": mask(
            "".join(line for line in config.antom_public_key.splitlines() if "---" not in line),
            12,
        ),
        "region": config.region,
        "baseUrl": config.base_url,
        "sandbox": config.sandbox,
        "wallets": list(config.enabled_wallets),
        "notificationUrls": urls,
        "updatedAt": config.updated_at.isoformat(),
    }


# Longest key text accepted in a form (an RSA-4096 PEM is about 3,300 characters).
MAX_KEY_TEXT = 10_000


def wallet_choices() -> list[dict[str, str]]:
    return [
        {"id": cap.wallet.value, "name": cap.display_name, "currency": cap.currency}
        for cap in CAPABILITIES.values()
    ]


def config_view(config: ChannelConfig, base_url: str | None, keys: KeyRing) -> dict[str, Any]:
    """`describe` plus the public half of the merchant key (to upload to Antom)."""
    view = describe(config, base_url)
    try:
        private = load_private_key(
            keys.decrypt(config.merchant_private_key_encrypted, PRIVATE_KEY_PURPOSE)
        )
        view["merchantPublicKey"] = public_key_base64(private)
    except (CryptoError, KeyFormatError):
        view["merchantPublicKey"] = None
    view["merchantPrivateKey"] = "set"
    return view


async def channel_configs(
    sessions: Sessions, keys: KeyRing, installation_id: int, base_url: str | None
) -> dict[str, dict[str, Any]]:
    async with sessions() as session:
        configs = await ChannelConfigRepository(session).configs(installation_id)
    return {c.channel_slug: config_view(c, base_url, keys) for c in configs}


async def list_channels(
    sessions: Sessions,
    keys: KeyRing,
    saleor: SaleorClient,
    installation: Installation,
    base_url: str | None,
) -> dict[str, Any]:
    """Saleor's channels (read with the app token) with their Antom configuration, if any."""
    assert installation.id is not None
    configs = await channel_configs(sessions, keys, installation.id, base_url)
    warning = None
    channels: list[dict[str, Any]] = []
    try:
        data = await saleor.execute(
            installation.saleor_api_url,
            installation.app_token(keys),
            "queries/channels.graphql",
        )
        channels = [c for c in data.get("channels") or [] if isinstance(c, dict)]
    except SaleorError as exc:
        log.warning("channels unavailable", extra={"error": str(exc)[:200]})
        warning = f"Saleor's channels could not be read ({str(exc)[:200]}); configured ones shown"
    items = []
    seen = set()
    for channel in channels:
        slug = str(channel.get("slug") or "")
        seen.add(slug)
        items.append(
            {
                "slug": slug,
                "name": channel.get("name") or slug,
                "currency": channel.get("currencyCode"),
                "isActive": bool(channel.get("isActive", True)),
                "configuration": configs.get(slug),
            }
        )
    for slug, config in sorted(configs.items()):
        if slug not in seen:
            items.append(
                {
                    "slug": slug,
                    "name": slug,
                    "currency": None,
                    "isActive": False,
                    "configuration": config,
                }
            )
    return {"items": items, "wallets": wallet_choices(), "warning": warning}


async def channel_currency(
    saleor: SaleorClient, keys: KeyRing, installation: Installation, slug: str
) -> str | None:
    """The currency of Saleor's channel `slug`, or None when Saleor cannot say (unreachable, or no
    such channel): then the wallets cannot be checked against it."""
    try:
        data = await saleor.execute(
            installation.saleor_api_url,
            installation.app_token(keys),
            "queries/channels.graphql",
        )
    except SaleorError as exc:
        log.warning("channels unavailable", extra={"error": str(exc)[:200]})
        return None
    for channel in data.get("channels") or []:
        if isinstance(channel, dict) and channel.get("slug") == slug:
            code = channel.get("currencyCode")
            return str(code) if code else None
    return None


def check_wallet_currencies(slug: str, wallets: Sequence[str], currency: str | None) -> None:
    """Refuse a wallet that cannot take the channel's currency (each wallet takes only its own:
    `antom.wallets.CAPABILITIES`)."""
    if not currency:
        return
    table = wallet_table.CAPABILITIES
    wrong = [
        table[Wallet(name)]
        for name in wallets
        if Wallet(name) in table and table[Wallet(name)].currency != currency
    ]
    if not wrong:
        return
    takes = ", ".join(
        f"{cap.display_name} ({cap.wallet.value}) takes only {cap.currency}" for cap in wrong
    )
    fitting = [cap.display_name for cap in table.values() if cap.currency == currency]
    advice = (
        f"enable {' or '.join(fitting)} instead" if fitting else "no Scan to Bind wallet takes it"
    )
    raise Invalid(
        "INVALID_CONFIGURATION",
        f"{takes}, and the channel {slug} is in {currency}: {advice}",
    )


def _key_text(value: str | None, what: str) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > MAX_KEY_TEXT:
        raise Invalid(
            "INVALID_CONFIGURATION",
            f"{what} is {len(value)} characters long: paste only the key (PEM or base64)",
        )
    return value


async def _stored_keys(
    sessions: Sessions, keys: KeyRing, installation_id: int, slug: str
) -> tuple[str | None, str | None]:
    async with sessions() as session:
        config = await ChannelConfigRepository(session).config_for_channel(installation_id, slug)
    if config is None:
        return None, None
    return (
        keys.decrypt(config.merchant_private_key_encrypted, PRIVATE_KEY_PURPOSE),
        config.antom_public_key,
    )


async def checked_config(
    sessions: Sessions,
    keys: KeyRing,
    installation_id: int,
    slug: str,
    form: ChannelConfigForm,
    *,
    currency: str | None = None,
) -> ValidConfig:
    """The form completed with the stored keys where left empty, or `Invalid` saying what to fix.
    With the channel's `currency`, every wallet must take it."""
    private = _key_text(form.merchant_private_key, "the merchant private key")
    public = _key_text(form.antom_public_key, "the Antom public key")
    merchant_public = _key_text(form.merchant_public_key, "your public key")
    if private is None or public is None:
        stored_private, stored_public = await _stored_keys(sessions, keys, installation_id, slug)
        private = private or stored_private
        public = public or stored_public
    missing = [
        what
        for what, value in (
            ("the merchant private key", private),
            ("the Antom public key", public),
        )
        if value is None
    ]
    if missing:
        raise Invalid("INVALID_CONFIGURATION", "paste " + " and ".join(missing))
    assert private is not None
    assert public is not None
    client_id = form.client_id.strip()
    if any(ch.isspace() for ch in client_id) or not client_id.isascii():
        raise Invalid(
            "INVALID_CONFIGURATION",
            "the Antom client id has spaces or non-ASCII characters: copy it from Antom Dashboard",
        )
    valid = validate(
        channel_slug=slug,
        client_id_text=client_id,
        merchant_private_key=private,
        antom_public_key=public,
        region=form.region or "asia",
        base_url=(form.base_url or "").strip() or None,
        sandbox=form.sandbox,
        wallets=form.wallets,
    )
    check_wallet_currencies(slug, valid.wallets, currency)
    if merchant_public is not None:
        try:
            uploaded = load_public_key(merchant_public)
        except KeyFormatError as exc:
            raise Invalid("INVALID_CONFIGURATION", f"your public key: {exc}") from None
        if uploaded.public_numbers() != valid.private_key.public_key().public_numbers():
            raise Invalid(
                "INVALID_CONFIGURATION",
                "the merchant private key does not match the public key you uploaded to Antom: "
                "paste the private key of that pair, or upload its public key to Antom",
            )
    return valid


async def save_channel_config(
    sessions: Sessions,
    keys: KeyRing,
    installation_id: int,
    slug: str,
    form: ChannelConfigForm,
    base_url: str | None,
    *,
    currency: str | None = None,
) -> dict[str, Any]:
    valid = await checked_config(sessions, keys, installation_id, slug, form, currency=currency)
    async with transaction(sessions) as session:
        config = await save_config(session, installation_id, valid, keys)
        view = config_view(config, base_url, keys)
    log.info("channel configured", extra={"channel": slug, "installation": installation_id})
    return view
