"""The `configure` command's work: channel configurations from flags or a file."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from saleor_alipay_app.channels.service import (
    ChannelConfigInput,
    describe,
    notification_path,
    save_config,
    validate,
)
from saleor_alipay_app.config import Settings
from saleor_alipay_app.crypto import load_key_ring
from saleor_alipay_app.db import create_engine, session_factory, transaction
from saleor_alipay_app.errors import ConfigurationError
from saleor_alipay_app.installations.repository import Installation, InstallationRepository
from saleor_alipay_app.payments.repository import PaymentsRepository


class ConfigureError(Exception):
    """What the operator must fix; nothing was saved."""


async def _installation(repo: InstallationRepository, api_url: str | None) -> Installation:
    installations = await repo.list_all()
    if api_url:
        match = await repo.get_by_api_url(api_url)
        if match is None:
            raise ConfigureError(f"no installation for {api_url}: install the app in that Saleor")
        return match
    if not installations:
        raise ConfigureError("no Saleor has installed the app yet: install it first")
    if len(installations) > 1:
        urls = ", ".join(i.saleor_api_url for i in installations)
        raise ConfigureError(f"several Saleors installed the app ({urls}): pass --saleor-api-url")
    return installations[0]


def _text(entry: Mapping[str, object], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) and value else None


async def configure_channels(
    settings: Settings,
    entries: Sequence[Mapping[str, object]],
    read_secret: Callable[[str, str], str],
) -> list[str]:
    """Validate every entry, then save them all in one transaction (all or nothing)."""
    keys = load_key_ring(settings)
    prepared = []
    for index, entry in enumerate(entries, start=1):
        where = f"entry {index}" if len(entries) > 1 else "configuration"
        missing = [
            flag
            for flag, key in (
                ("--channel", "channel"),
                ("--client-id", "clientId"),
                ("--private-key-file", "privateKeyFile"),
                ("--antom-public-key-file", "antomPublicKeyFile"),
            )
            if not _text(entry, key)
        ]
        if missing:
            raise ConfigureError(f"{where}: missing {', '.join(missing)}")
        wallets = entry.get("wallets") or ["ALIPAY_HK"]
        if isinstance(wallets, str):
            wallets = wallets.split(",")
        if not isinstance(wallets, list):
            raise ConfigureError(f"{where}: wallets must be a list")
        data = ChannelConfigInput(
            channel_slug=str(entry["channel"]),
            client_id=str(entry["clientId"]),
            merchant_private_key=read_secret(str(entry["privateKeyFile"]), "merchant private key"),
            antom_public_key=read_secret(str(entry["antomPublicKeyFile"]), "Antom public key"),
            region=_text(entry, "region") or "asia",
            base_url=_text(entry, "baseUrl"),
            sandbox=bool(entry.get("sandbox", False)),
            wallets=tuple(str(w) for w in wallets),
        )
        try:
            valid = validate(data)
        except ConfigurationError as exc:
            raise ConfigureError(f"{where}: {exc}") from None
        prepared.append((_text(entry, "saleorApiUrl"), valid))
    engine = create_engine(settings)
    lines = []
    try:
        async with transaction(session_factory(engine)) as session:
            installations = InstallationRepository(session)
            repo = PaymentsRepository(session)
            for api_url, valid in prepared:
                installation = await _installation(installations, api_url)
                assert installation.id is not None
                config = await save_config(repo, installation.id, valid, keys)
                notify = (settings.app_url or "<APP_URL>") + notification_path(
                    config, "authorization"
                )
                lines.append(
                    f"saved channel {valid.channel_slug} of {installation.saleor_api_url} "
                    f"(client id {valid.client_id}, wallets {', '.join(valid.wallets)}); "
                    f"set Antom's authorization notification URL to {notify}"
                )
    finally:
        await engine.dispose()
    return lines


async def show_configs(settings: Settings, api_url: str | None) -> list[dict[str, object]]:
    engine = create_engine(settings)
    try:
        async with session_factory(engine)() as session:
            installations = await InstallationRepository(session).list_all()
            repo = PaymentsRepository(session)
            result: list[dict[str, object]] = []
            for installation in installations:
                if api_url and installation.saleor_api_url.rstrip("/") != api_url.rstrip("/"):
                    continue
                assert installation.id is not None
                result.append(
                    {
                        "saleorApiUrl": installation.saleor_api_url,
                        "channels": [
                            describe(c, settings.app_url)
                            for c in await repo.configs(installation.id)
                        ],
                    }
                )
    finally:
        await engine.dispose()
    return result
