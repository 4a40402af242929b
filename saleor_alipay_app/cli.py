"""`saleor-alipay-app`: the one console script (also `python -m saleor_alipay_app`)."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from saleor_alipay_app.admin.cli import agreements_app, payments_app
from saleor_alipay_app.channels import cli as channels_cli
from saleor_alipay_app.composition import CommandOperator, cli_settings
from saleor_alipay_app.config import ConfigError
from saleor_alipay_app.crypto import KEY_FILE_NAME, CryptoError, generate_key, load_key_ring
from saleor_alipay_app.customs import cli as customs_cli
from saleor_alipay_app.installations.cli import Operator
from saleor_alipay_app.metrics import MULTIPROC_DIR_VARIABLE, prepare_multiprocess_dir
from saleor_alipay_app.reconciliation import cli as reconciliation_cli

app = typer.Typer(
    name="saleor-alipay-app",
    help="Antom Scan to Bind wallet payments for Saleor.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _hand_over_services(ctx: typer.Context) -> None:
    """Every command is handed the composition root's operator (settings and services)."""
    operator: Operator = CommandOperator()
    ctx.obj = operator


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    # Not 8000 or 9000: a local Saleor API and its dashboard listen there.
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8100,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            envvar="WEB_CONCURRENCY",
            help="Worker processes sharing the port (PostgreSQL only; migrations run once first).",
        ),
    ] = 1,
) -> None:
    """Apply migrations and serve the app (SQLite by default; no other service needed)."""
    settings = cli_settings()
    from saleor_alipay_app.db import migrate as run_migrate
    from saleor_alipay_app.web import create_app

    if workers > 1 and settings.is_sqlite:
        typer.echo(
            f"serve --workers {workers} needs PostgreSQL: set DATABASE_URL=postgresql://... "
            "(SQLite serves one app process; run it without --workers)",
            err=True,
        )
        raise typer.Exit(2)
    try:
        application = create_app(settings, run_migrations=workers == 1)
        if workers > 1:
            # Once, here, rather than racing in every worker: in development the key file the
            # workers then all read, and the migrations.
            load_key_ring(settings)
            run_migrate(settings)
    except (ConfigError, CryptoError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    server_options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,
        "proxy_headers": True,
        "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        "timeout_graceful_shutdown": 20,
    }
    if workers == 1:
        if os.environ.get(MULTIPROC_DIR_VARIABLE):
            prepare_multiprocess_dir(Path(os.environ[MULTIPROC_DIR_VARIABLE]))
        uvicorn.run(application, **server_options)
        return
    # Metrics of every worker in one folder, added up at each scrape (saleor_alipay_app/metrics.py):
    # set before the workers start, so that each imports prometheus-client in multiprocess mode.
    own_folder = None
    if not os.environ.get(MULTIPROC_DIR_VARIABLE):
        own_folder = tempfile.TemporaryDirectory(prefix="saleor-alipay-metrics-")
        os.environ[MULTIPROC_DIR_VARIABLE] = own_folder.name
    prepare_multiprocess_dir(Path(os.environ[MULTIPROC_DIR_VARIABLE]))
    try:
        uvicorn.run(
            "saleor_alipay_app.web:worker_app", factory=True, workers=workers, **server_options
        )
    finally:
        if own_folder is not None:
            own_folder.cleanup()


@app.command()
def migrate(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Apply database migrations (also done at every start)."""
    settings = cli_settings()
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
    settings = cli_settings()
    from saleor_alipay_app.db import migrate as run_migrate
    from saleor_alipay_app.models import rotate_key

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


@app.command()
def demo(
    saleor_api_url: Annotated[
        str,
        typer.Option(help="Your Saleor's GraphQL API URL, e.g. http://127.0.0.1:8080/graphql/."),
    ],
    staff_email: Annotated[str, typer.Option(help="A staff user with MANAGE_APPS.")],
    staff_password: Annotated[
        str, typer.Option(envvar="SALEOR_STAFF_PASSWORD", help="Their password.")
    ],
    channel: Annotated[
        list[str] | None,
        typer.Option(help="Channel slug to configure (repeat it; every active one by default)."),
    ] = None,
    wallets: Annotated[
        str | None,
        typer.Option(help="Wallets to enable, e.g. ALIPAY_HK,DANA (default: by channel currency)."),
    ] = None,
    host: Annotated[str, typer.Option(help="Interface the app and the sandbox listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="The app's port.")] = 8100,
    sandbox_port: Annotated[int, typer.Option(help="The sandbox's port.")] = 9100,
    app_url: Annotated[
        str | None,
        typer.Option(help="The app's URL as Saleor reaches it (default http://HOST:PORT)."),
    ] = None,
    data_dir: Annotated[
        Path, typer.Option(help="Folder for the keys, the database and the logs.")
    ] = Path("demo-data"),
    install_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for Saleor to install the app.")
    ] = 60.0,
) -> None:
    """Try the app against your Saleor: start the sandbox and the app, install, configure."""
    from saleor_alipay_app.demo import DemoError, DemoOptions, run_demo

    options = DemoOptions(
        saleor_api_url=saleor_api_url,
        staff_email=staff_email,
        staff_password=staff_password,
        channels=list(channel or []),
        wallets=wallets,
        host=host,
        app_port=port,
        sandbox_port=sandbox_port,
        app_url=app_url,
        data_dir=data_dir,
        install_timeout=install_timeout,
    )
    try:
        run_demo(options, lambda line: typer.echo(line))
    except DemoError as exc:
        typer.echo(f"demo: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("stopped: the app and the sandbox are down")
        raise typer.Exit(130) from None


# Customs declarations (customs/cli.py) and reconciliation (reconciliation/cli.py).
app.command("declare")(customs_cli.declare)
app.add_typer(customs_cli.declarations_app, name="declarations")
app.command("reconcile")(reconciliation_cli.reconcile)

# Channel configurations (channels/cli.py).
app.command()(channels_cli.configure)

# Agreements and payments for operators (admin/cli.py).
app.add_typer(agreements_app, name="agreements")
app.add_typer(payments_app, name="payments")


def _mount_subcommands() -> None:
    from saleor_alipay_app.antom.cli import app as antom_app
    from saleor_alipay_app.sandbox.cli import app as sandbox_app

    app.add_typer(antom_app, name="antom", help="Sign, verify and make Antom calls.")
    app.add_typer(sandbox_app, name="sandbox", help="Run the Antom simulator.")


def main() -> None:
    _mount_subcommands()
    app()
