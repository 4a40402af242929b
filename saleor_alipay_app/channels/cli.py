"""`saleor-alipay-app configure`: channel configurations from flags or a file, checked by the same
`service.checked_config` as the dashboard's form, saved all or none."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError

from saleor_alipay_app.channels.repository import ChannelConfigRepository
from saleor_alipay_app.channels.schemas import ChannelConfigForm
from saleor_alipay_app.channels.service import (
    channel_currency,
    checked_config,
    describe,
    notification_path,
    save_config,
)
from saleor_alipay_app.crypto import CryptoError
from saleor_alipay_app.db import transaction
from saleor_alipay_app.errors import AppError, Invalid
from saleor_alipay_app.installations.cli import explained, operator
from saleor_alipay_app.installations.deps import AppServices
from saleor_alipay_app.installations.repository import InstallationRepository
from saleor_alipay_app.installations.service import pick_installation

ReadSecret = Callable[[str, str], str]
T = TypeVar("T")


def _text(entry: Mapping[str, object], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) and value else None


def _form(entry: Mapping[str, object], read_secret: ReadSecret, where: str) -> ChannelConfigForm:
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
        raise Invalid("INVALID_CONFIGURATION", f"{where}: missing {', '.join(missing)}")
    wallets = entry.get("wallets") or ["ALIPAY_HK"]
    if isinstance(wallets, str):
        wallets = wallets.split(",")
    if not isinstance(wallets, list):
        raise Invalid("INVALID_CONFIGURATION", f"{where}: wallets must be a list")
    try:
        return ChannelConfigForm(
            client_id=str(entry["clientId"]),
            merchant_private_key=read_secret(str(entry["privateKeyFile"]), "merchant private key"),
            antom_public_key=read_secret(str(entry["antomPublicKeyFile"]), "Antom public key"),
            region=_text(entry, "region") or "asia",
            base_url=_text(entry, "baseUrl"),
            sandbox=bool(entry.get("sandbox", False)),
            wallets=[str(w) for w in wallets],
        )
    except ValidationError as exc:
        problems = "; ".join(
            ".".join(str(p) for p in e["loc"]) + ": " + e["msg"] for e in exc.errors()[:5]
        )
        raise Invalid("INVALID_CONFIGURATION", f"{where}: {problems}") from None


async def configure_channels(
    services: AppServices, entries: Sequence[Mapping[str, object]], read_secret: ReadSecret
) -> list[str]:
    """Check every entry as the dashboard would, then save them all in one transaction (all or
    nothing). `AppError` says which entry to fix."""
    lines = []
    app_url = services.settings.app_url
    prepared = []
    for index, entry in enumerate(entries, start=1):
        where = f"entry {index}" if len(entries) > 1 else "configuration"
        form = _form(entry, read_secret, where)
        try:
            installation = await pick_installation(services.sessions, _text(entry, "saleorApiUrl"))
            assert installation.id is not None
            slug = str(entry["channel"]).strip()
            currency = await channel_currency(services.saleor, services.keys, installation, slug)
            valid = await checked_config(
                services.sessions, services.keys, installation.id, slug, form, currency=currency
            )
        except AppError as exc:
            raise Invalid(exc.code, f"{where}: {exc.message}") from None
        prepared.append((installation, valid))
    async with transaction(services.sessions) as session:
        for installation, valid in prepared:
            assert installation.id is not None
            config = await save_config(session, installation.id, valid, services.keys)
            base = app_url or installation.app_url or "<APP_URL>"
            notify = base + notification_path(config, "authorization")
            lines.append(
                f"saved channel {valid.channel_slug} of {installation.saleor_api_url} "
                f"(client id {valid.client_id}, wallets {', '.join(valid.wallets)}); "
                f"set Antom's authorization notification URL to {notify}"
            )
    return lines


async def show_configs(services: AppServices, api_url: str | None) -> list[dict[str, object]]:
    async with services.sessions() as session:
        installations = await InstallationRepository(session).list_all()
        result: list[dict[str, object]] = []
        for installation in installations:
            if api_url and installation.saleor_api_url.rstrip("/") != api_url.rstrip("/"):
                continue
            assert installation.id is not None
            result.append(
                {
                    "saleorApiUrl": installation.saleor_api_url,
                    "channels": [
                        describe(c, services.settings.app_url or installation.app_url)
                        for c in await ChannelConfigRepository(session).configs(installation.id)
                    ],
                }
            )
    return result


def _read_secret(path: str, what: str) -> str:
    """A secret from a file, or from standard input for ``-`` (never echoed)."""
    if path == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            typer.echo(f"cannot read {what} from {path}: {exc.strerror}", err=True)
            raise typer.Exit(2) from None
    if not text.strip():
        typer.echo(f"{what} is empty", err=True)
        raise typer.Exit(2)
    return text


def configure(
    ctx: typer.Context,
    channel: Annotated[str | None, typer.Option(help="Saleor channel slug.")] = None,
    client_id: Annotated[str | None, typer.Option(help="Antom client id.")] = None,
    private_key_file: Annotated[
        str | None,
        typer.Option(
            help="File holding the merchant private key (PEM or bare base64); - for stdin."
        ),
    ] = None,
    antom_public_key_file: Annotated[
        str | None, typer.Option(help="File holding Antom's public key (PEM or bare base64).")
    ] = None,
    region: Annotated[
        str, typer.Option(help="asia, north_america, europe or us (ignored with --base-url).")
    ] = "asia",
    base_url: Annotated[
        str | None, typer.Option(help="Antom gateway origin, e.g. the sandbox's URL.")
    ] = None,
    sandbox: Annotated[
        bool, typer.Option("--sandbox/--production", help="Use Antom's sandbox API paths.")
    ] = False,
    wallets: Annotated[
        str, typer.Option(help="Comma-separated wallets to enable, e.g. ALIPAY_HK,DANA.")
    ] = "ALIPAY_HK",
    saleor_api_url: Annotated[
        str | None,
        typer.Option(help="Which installation (needed when several Saleors installed the app)."),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="JSON file with a list of channel configurations (see the README); key files "
            "are named in it, never inlined.",
        ),
    ] = None,
    show: Annotated[
        bool, typer.Option("--show", help="List configurations, secrets masked.")
    ] = False,
) -> None:
    """Set Antom credentials for a Saleor channel (or list them with --show)."""
    settings = operator(ctx).settings()

    async def with_services(work: Callable[[AppServices], Awaitable[T]]) -> T:
        async with operator(ctx).services(settings) as services:
            return await work(services)

    if show:
        shown = asyncio.run(with_services(lambda s: show_configs(s, saleor_api_url)))
        typer.echo(json.dumps(shown, indent=2))
        return
    entries: list[dict[str, object]]
    if file is not None:
        try:
            loaded = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            typer.echo(f"cannot read {file}: {exc}", err=True)
            raise typer.Exit(2) from None
        entries = loaded if isinstance(loaded, list) else [loaded]
    else:
        entries = [
            {
                "channel": channel,
                "clientId": client_id,
                "privateKeyFile": private_key_file,
                "antomPublicKeyFile": antom_public_key_file,
                "region": region,
                "baseUrl": base_url,
                "sandbox": sandbox,
                "wallets": wallets.split(","),
                "saleorApiUrl": saleor_api_url,
            }
        ]
    try:
        saved = asyncio.run(with_services(lambda s: configure_channels(s, entries, _read_secret)))
    except AppError as exc:
        typer.echo(f"not saved: {explained(exc, operator(ctx).settings())}", err=True)
        raise typer.Exit(2) from None
    except CryptoError as exc:
        typer.echo(f"not saved: {exc}", err=True)
        raise typer.Exit(2) from None
    for line in saved:
        typer.echo(line)
