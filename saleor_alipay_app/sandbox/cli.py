"""`saleor-alipay-app sandbox`: run the Antom simulator, or write its reports to a folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import httpx
import typer
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa

from saleor_alipay_app.antom.keys import (
    KeyFormatError,
    generate_private_key,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_base64,
    public_key_pem,
)

from .config import MerchantConfig, SandboxConfig, Scenario
from .reports import ReportFile, ReportKind, parse_report_date, report_files
from .store import Store

__all__ = ["app", "build_config", "load_or_create_antom_key"]

DEFAULT_CLIENT_ID = "SANDBOX_5Y00000000000000"
DEFAULT_ANTOM_KEY = Path("sandbox-data/antom-private-key.pem")

app = typer.Typer(
    name="sandbox",
    help="A faithful Antom simulator with a test wallet (see saleor_alipay_app/sandbox/README.md).",
    add_completion=False,
)


def _public_key_path(private_key_path: Path) -> Path:
    return private_key_path.with_name(private_key_path.name + ".pub.pem")


def load_or_create_antom_key(path: Path) -> tuple[rsa.RSAPrivateKey, Path, bool]:
    """Antom's signing key from ``path`` (generated and saved there when absent).

    The matching public key is (re)written to ``<path>.pub.pem``. Returns the key, the public
    key's path, and whether the key was generated now.
    """
    created = not path.exists()
    if created:
        key = generate_private_key()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(private_key_pem(key))
    else:
        key = load_private_key(path.read_bytes())
    public_path = _public_key_path(path)
    pem = public_key_pem(key)
    if not public_path.exists() or public_path.read_text(encoding="ascii") != pem:
        public_path.write_text(pem, encoding="ascii")
    return key, public_path, created


def build_config(
    *,
    antom_key: rsa.RSAPrivateKey,
    client_id: str,
    merchant_public_key: Path | None,
    auth_notify_url: str | None,
    payment_notify_url: str | None,
    refund_notify_url: str | None,
    scenario: str,
    notify_schedule_factor: float,
    db: Path | None,
    public_url: str | None,
    hang_seconds: float,
    process_delay: float,
    customs_delay: float,
    settlement_delay_days: int,
) -> SandboxConfig:
    """The sandbox configuration for the command-line options; ``ValueError`` when invalid."""
    public_key = None
    if merchant_public_key is not None:
        public_key = load_public_key(merchant_public_key.read_bytes())
    if notify_schedule_factor < 0:
        raise ValueError("--notify-schedule-factor must not be negative")
    merchant = MerchantConfig(
        client_id=client_id,
        public_key=public_key,
        auth_notify_url=auth_notify_url,
        payment_notify_url=payment_notify_url,
        refund_notify_url=refund_notify_url,
    )
    try:
        default_scenario = Scenario.parse(scenario)
    except ValueError:
        names = ", ".join(s.value for s in Scenario)
        raise ValueError(f"unknown scenario {scenario!r}; choose one of: {names}") from None
    return SandboxConfig(
        antom_private_key=antom_key,
        merchants=(merchant,),
        default_scenario=default_scenario,
        notify_schedule_factor=notify_schedule_factor,
        db_path=db,
        public_url=public_url,
        hang_seconds=hang_seconds,
        process_delay_seconds=process_delay,
        customs_delay_seconds=customs_delay,
        settlement_delay_days=settlement_delay_days,
    )


@app.callback(invoke_without_command=True)
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    # Not 9000: a local Saleor dashboard listens there.
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 9100,
    client_id: Annotated[
        str, typer.Option(help="The merchant's client id (more via POST /sandbox/api/merchants).")
    ] = DEFAULT_CLIENT_ID,
    merchant_public_key: Annotated[
        Path | None,
        typer.Option(help="The merchant's RSA public key file (PEM or base64).", exists=True),
    ] = None,
    antom_private_key: Annotated[
        Path,
        typer.Option(help="Antom's signing key (generated when absent; public key beside it)."),
    ] = DEFAULT_ANTOM_KEY,
    auth_notify_url: Annotated[
        str | None, typer.Option(help="Default notifyAuthorization URL (Dashboard setting).")
    ] = None,
    payment_notify_url: Annotated[
        str | None, typer.Option(help="Default notifyPayment URL (Dashboard setting).")
    ] = None,
    refund_notify_url: Annotated[
        str | None, typer.Option(help="Default notifyRefund URL (Dashboard setting).")
    ] = None,
    scenario: Annotated[str, typer.Option(help="Scenario for every call.")] = "success",
    notify_schedule_factor: Annotated[
        float, typer.Option(help="Multiply Antom's re-send pauses (0s,2m,10m,...) by this.")
    ] = 1.0,
    db: Annotated[Path | None, typer.Option(help="SQLite file for the state.")] = None,
    public_url: Annotated[
        str | None, typer.Option(help="Base URL phones use to reach the wallet page.")
    ] = None,
    hang_seconds: Annotated[float, typer.Option(help="How long HANG sleeps.")] = 30.0,
    process_delay: Annotated[
        float, typer.Option(help="Seconds an in-process payment or refund takes.")
    ] = 5.0,
    customs_delay: Annotated[
        float, typer.Option(help="Seconds a declaration stays IN_PROCESS.")
    ] = 60.0,
    settlement_delay_days: Annotated[
        int, typer.Option(help="Days from transaction to settlement report.")
    ] = 1,
) -> None:
    """Serve the simulated Antom (default command)."""
    if ctx.invoked_subcommand is not None:
        return
    try:
        antom_key, antom_public_path, created = load_or_create_antom_key(antom_private_key)
        config = build_config(
            antom_key=antom_key,
            client_id=client_id,
            merchant_public_key=merchant_public_key,
            auth_notify_url=auth_notify_url,
            payment_notify_url=payment_notify_url,
            refund_notify_url=refund_notify_url,
            scenario=scenario,
            notify_schedule_factor=notify_schedule_factor,
            db=db,
            public_url=public_url,
            hang_seconds=hang_seconds,
            process_delay=process_delay,
            customs_delay=customs_delay,
            settlement_delay_days=settlement_delay_days,
        )
    except (KeyFormatError, ValueError, OSError) as exc:
        typer.echo(f"sandbox: {exc}", err=True)
        raise typer.Exit(2) from None
    from .app import create_sandbox_app

    base = public_url or f"http://{host}:{port}"
    lines = [
        "Antom sandbox",
        f"  Antom base URL (the app's Antom domain): {base}",
        "  API paths: /ams/sandbox/api/v1/... and /ams/api/v1/...",
        f"  client id: {client_id}",
        f"  Antom public key: {antom_public_path.resolve()}"
        + (" (new key generated)" if created else ""),
        f"  Antom public key (base64): {public_key_base64(antom_key)}",
        "  merchant public key: "
        + (
            str(merchant_public_key)
            if merchant_public_key
            else "NOT SET: calls fail KEY_NOT_FOUND until POST /sandbox/api/merchants sets one"
        ),
        f"  auth notification URL: {auth_notify_url or 'not set (use authNotifyUrl in consult)'}",
        f"  wallet (play the shopper): {base}/wallet",
        f"  sandbox JSON API: {base}/sandbox/api/... (docs at {base}/docs)",
        f"  scenario: {config.default_scenario.value}; state: {db or 'in memory'}",
    ]
    typer.echo("\n".join(lines))
    # In-flight calls (a HANG scenario, a slow notification) get 10 s after SIGTERM or SIGINT.
    uvicorn.run(
        create_sandbox_app(config),
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=10,
    )


def _files_from_url(url: str, day: str, client_id: str | None) -> list[ReportFile]:
    params = {"date": day}
    if client_id is not None:
        params["clientId"] = client_id
    response = httpx.get(f"{url.rstrip('/')}/sandbox/api/reports", params=params, timeout=30)
    if response.status_code != 200:
        raise ValueError(f"the sandbox answered HTTP {response.status_code}: {response.text[:300]}")
    return [
        ReportFile(name=str(f["name"]), kind=ReportKind(f["kind"]), content=str(f["content"]))
        for f in response.json()["files"]
    ]


def _files_from_db(db: Path, day: str, client_id: str | None) -> list[ReportFile]:
    store = Store.snapshot(db)
    if client_id is None:
        if len(store.merchants) != 1:
            raise ValueError("the database holds several merchants: pass --client-id")
        client_id = next(iter(store.merchants))
    elif client_id not in store.merchants:
        raise ValueError(f"no merchant {client_id!r} in {db}")
    delay = int(store.meta.get("settlement_delay_days", "1"))
    return report_files(store, parse_report_date(day), client_id, settlement_delay_days=delay)


@app.command()
def reports(
    date: Annotated[str, typer.Option(help="Transaction / settlement day, YYYYMMDD.")],
    out: Annotated[Path, typer.Option(help="Folder to write the files into.")],
    db: Annotated[
        Path | None, typer.Option(help="Read the state from this sandbox database file.")
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="Or ask a running sandbox at this base URL.")
    ] = None,
    client_id: Annotated[
        str | None, typer.Option(help="The merchant (needed when there are several).")
    ] = None,
) -> None:
    """Write the day's reports with Antom's default file names (no file for an empty report)."""
    if (db is None) == (url is None):
        typer.echo("pass exactly one of --db or --url", err=True)
        raise typer.Exit(2)
    try:
        parse_report_date(date)
        if db is not None:
            files = _files_from_db(db, date, client_id)
        else:
            assert url is not None
            files = _files_from_url(url, date, client_id)
    except (ValueError, OSError, httpx.HTTPError) as exc:
        typer.echo(f"sandbox reports: {exc}", err=True)
        raise typer.Exit(1) from None
    if not files:
        typer.echo(f"no transactions for {date}: no files (as at Antom)")
        return
    out.mkdir(parents=True, exist_ok=True)
    for file in files:
        target = out / file.name
        target.write_text(file.content, encoding="utf-8")
        typer.echo(str(target))
