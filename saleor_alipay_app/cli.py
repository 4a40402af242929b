"""`saleor-alipay-app`: the one console script (also `python -m saleor_alipay_app`)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from saleor_alipay_app.admin import cli as operator_cli
from saleor_alipay_app.config import ConfigError, Settings, load_settings
from saleor_alipay_app.crypto import KEY_FILE_NAME, CryptoError, generate_key
from saleor_alipay_app.customs import cli as after_payment_cli
from saleor_alipay_app.logs import configure_logging

app = typer.Typer(
    name="saleor-alipay-app",
    help="Antom Scan to Bind wallet payments for Saleor.",
    no_args_is_help=True,
    add_completion=False,
)


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level)
    return settings


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Apply migrations and serve the app (SQLite by default; no other service needed)."""
    settings = _settings()
    from saleor_alipay_app.web import create_app

    try:
        application = create_app(settings)
    except (ConfigError, CryptoError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        timeout_graceful_shutdown=20,
    )


@app.command()
def migrate(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Apply database migrations (also done at every start)."""
    settings = _settings()
    from saleor_alipay_app.db import migrate as run_migrate

    run_migrate(settings, revision)
    typer.echo(f"database migrated to {revision}")


@app.command("generate-key")
def generate_key_command() -> None:
    """Print a new random ENCRYPTION_KEY."""
    typer.echo(generate_key())


@app.command("rotate-key")
def rotate_key_command(
    new_key: Annotated[
        str | None,
        typer.Option(
            envvar="NEW_ENCRYPTION_KEY",
            help="The new key (base64 of 32 bytes); generated when omitted.",
        ),
    ] = None,
) -> None:
    """Re-encrypt every stored secret with a new key, in one transaction."""
    settings = _settings()
    from saleor_alipay_app.db import migrate as run_migrate
    from saleor_alipay_app.maintenance import rotate_key

    key = new_key or generate_key()
    try:
        run_migrate(settings)
        report = asyncio.run(rotate_key(settings, key))
    except CryptoError as exc:
        typer.echo(f"rotation failed, nothing changed: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"re-encrypted {report.rewritten} secret(s) with key {report.new_key_id} "
        f"({report.already_current} already used it)"
    )
    if settings.encryption_key:
        typer.echo(
            "Now set ENCRYPTION_KEY to the new key"
            + ("" if new_key else f" ({key})")
            + " and restart every app process. Until all have restarted, keep the old key in "
            "ENCRYPTION_OLD_KEYS so that processes on either key can read every secret."
        )
    else:
        db_path = settings.sqlite_path
        folder = db_path.resolve().parent if db_path is not None else Path.cwd()
        key_file = folder / KEY_FILE_NAME
        key_file.write_text(key + "\n", encoding="ascii")
        os.chmod(key_file, 0o600)
        typer.echo(f"development key file {key_file} now holds the new key")


def _read_secret(path: str, what: str) -> str:
    """A secret from a file, or from standard input for ``-`` (never echoed)."""
    if path == "-":
        import sys

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


@app.command()
def configure(
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
    import json

    from saleor_alipay_app.channels.cli import ConfigureError, configure_channels, show_configs

    settings = _settings()
    from saleor_alipay_app.db import migrate as run_migrate

    run_migrate(settings)
    try:
        if show:
            typer.echo(json.dumps(asyncio.run(show_configs(settings, saleor_api_url)), indent=2))
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
        saved = asyncio.run(configure_channels(settings, entries, _read_secret))
    except ConfigureError as exc:
        typer.echo(f"not saved: {exc}", err=True)
        raise typer.Exit(2) from None
    for line in saved:
        typer.echo(line)


# Customs declarations and reconciliation (saleor_alipay_app/customs/cli.py).
app.command("declare")(after_payment_cli.declare)
app.add_typer(after_payment_cli.declarations_app, name="declarations")
app.command("reconcile")(after_payment_cli.reconcile)

# Agreements and payments for operators (saleor_alipay_app/admin/cli.py).
app.add_typer(operator_cli.agreements_app, name="agreements")
app.add_typer(operator_cli.payments_app, name="payments")


def _mount_subcommands() -> None:
    from saleor_alipay_app.antom.cli import app as antom_app
    from saleor_alipay_app.sandbox.cli import app as sandbox_app

    app.add_typer(antom_app, name="antom", help="Sign, verify and make Antom calls.")
    app.add_typer(sandbox_app, name="sandbox", help="Run the Antom simulator.")


def main() -> None:
    _mount_subcommands()
    app()
