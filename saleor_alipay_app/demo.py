"""`saleor-alipay-app demo`: a merchant's first try against a Saleor they run.

It starts the Antom sandbox and the app as child processes, installs the app into that Saleor
through its API (a staff login with `tokenCreate`, then `appInstall` with the app's manifest URL;
Saleor then posts the app's token to `/api/register`), points the chosen channels at the sandbox
with a merchant key pair it makes, prints where to click, and stops everything on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx

from saleor_alipay_app.antom.keys import generate_private_key, private_key_pem, public_key_pem
from saleor_alipay_app.antom.wallets import CAPABILITIES
from saleor_alipay_app.channels.cli import configure_channels
from saleor_alipay_app.composition import open_services
from saleor_alipay_app.config import Settings
from saleor_alipay_app.errors import AppError
from saleor_alipay_app.installations.models import Installation
from saleor_alipay_app.installations.repository import InstallationRepository
from saleor_alipay_app.saleor.client import SaleorClient, SaleorError

APP_NAME = "Alipay+ Scan to Bind"
SANDBOX_CLIENT_ID = "SANDBOX_5Y00000000000000"
STOREFRONT_EXAMPLE_PATH = "/storefront/example"


class DemoError(Exception):
    """A step of the demo failed; the message says what to do."""


@dataclass
class DemoOptions:
    saleor_api_url: str
    staff_email: str
    staff_password: str
    channels: list[str] = field(default_factory=list)
    wallets: str | None = None
    host: str = "127.0.0.1"
    app_port: int = 8100
    sandbox_port: int = 9100
    app_url: str | None = None
    data_dir: Path = Path("demo-data")
    install_timeout: float = 60.0
    ready_timeout: float = 60.0

    @property
    def public_app_url(self) -> str:
        return (self.app_url or f"http://{self.host}:{self.app_port}").rstrip("/")

    @property
    def sandbox_url(self) -> str:
        return f"http://{self.host}:{self.sandbox_port}"


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Children:
    """The demo's child processes, stopped together (SIGTERM, then SIGKILL after a grace)."""

    items: list[Child] = field(default_factory=list)

    def start(self, name: str, args: Sequence[str], env: Mapping[str, str], log: Path) -> Child:
        output: IO[bytes]
        with log.open("wb") as output:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "saleor_alipay_app", *args],
                env=dict(env),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the demo only; it stops the children
            )
        child = Child(name, process, log)
        self.items.append(child)
        return child

    def stop(self, grace: float = 15.0) -> None:
        for child in self.items:
            if child.alive():
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in self.items:
            try:
                child.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()


def merchant_key_files(folder: Path) -> tuple[Path, Path]:
    """The demo merchant's key pair (made once, kept in ``folder``): (private, public)."""
    private = folder / "merchant-private.pem"
    public = folder / "merchant-public.pem"
    if not private.exists():
        key = generate_private_key()
        fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(private_key_pem(key))
        public.write_text(public_key_pem(key), encoding="ascii")
    return private, public


def child_env(options: DemoOptions, base: Mapping[str, str]) -> dict[str, str]:
    """The environment of the app process: the caller's, with APP_URL set to the demo's app and,
    unless DATABASE_URL is set, an SQLite file in the demo's folder."""
    env = dict(base)
    env["APP_URL"] = options.public_app_url
    env.setdefault("DATABASE_URL", f"sqlite+aiosqlite:///{(options.data_dir / 'app.db').resolve()}")
    return env


def wait_ready(child: Child, url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2) as client:
        while True:
            if not child.alive():
                raise DemoError(
                    f"the {child.name} stopped at start (exit {child.process.returncode}); "
                    f"its log {child.log}:\n{child.tail()}"
                )
            try:
                if client.get(url).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise DemoError(f"the {child.name} did not answer {url} in {timeout:.0f} s")
            time.sleep(0.1)


async def staff_token(saleor: SaleorClient, api_url: str, email: str, password: str) -> str:
    data = await saleor.execute(
        api_url,
        None,
        "mutations/token_create.graphql",
        {"email": email, "password": password},
    )
    result = data["tokenCreate"]
    token = result.get("token")
    if result.get("errors") or not token:
        messages = "; ".join(e.get("message") or e.get("code") for e in result["errors"])
        raise DemoError(
            f"Saleor refused the staff login of {email}: {messages or 'no token'} "
            "(check --staff-email and --staff-password)"
        )
    return str(token)


async def request_install(saleor: SaleorClient, api_url: str, token: str, manifest_url: str) -> str:
    """`appInstall`; the id of the installation job Saleor queued."""
    data = await saleor.execute(
        api_url,
        token,
        "mutations/app_install.graphql",
        {"appName": APP_NAME, "manifestUrl": manifest_url, "permissions": ["HANDLE_PAYMENTS"]},
    )
    result = data["appInstall"]
    if result.get("errors") or not result.get("appInstallation"):
        messages = "; ".join(str(e.get("message") or e.get("code")) for e in result["errors"])
        raise DemoError(
            f"Saleor refused to install the app: {messages} (the staff user needs the "
            "MANAGE_APPS and HANDLE_PAYMENTS permissions)"
        )
    return str(result["appInstallation"]["id"])


async def _installation_since(
    settings: Settings, api_url: str, since: datetime
) -> Installation | None:
    async with open_services(settings) as services, services.sessions() as session:
        installations = await InstallationRepository(session).list_all()
    fresh = [i for i in installations if _aware(i.updated_at) >= since]
    wanted = api_url.rstrip("/")
    for installation in fresh:
        if installation.saleor_api_url.rstrip("/") == wanted:
            return installation
    return fresh[0] if len(fresh) == 1 else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def wait_installed(
    settings: Settings,
    saleor: SaleorClient,
    api_url: str,
    token: str,
    job_id: str,
    since: datetime,
    timeout: float,  # noqa: ASYNC109
) -> Installation:
    """Until the app stored the installation (the token handshake succeeded) or Saleor's job
    failed (its message, with what usually causes it on one machine)."""
    deadline = time.monotonic() + timeout
    while True:
        installation = await _installation_since(settings, api_url, since)
        if installation is not None:
            return installation
        data = await saleor.execute(api_url, token, "queries/apps_installations.graphql")
        for job in data["appsInstallations"]:
            if job["id"] == job_id and job["status"] == "FAILED":
                raise DemoError(
                    f"Saleor could not install the app: {job.get('message')}. If Saleor could "
                    "not reach the app, run Saleor with HTTP_IP_FILTER_ALLOW_LOOPBACK_IPS=True "
                    "(or HTTP_IP_FILTER_ENABLED=False), or give --app-url a URL Saleor can "
                    "reach; if an app with this identifier is already installed, remove it "
                    "(Apps in the dashboard) and run the demo again."
                )
        if time.monotonic() > deadline:
            raise DemoError(
                f"the installation did not finish in {timeout:.0f} s: is Saleor's worker "
                "(Celery) running? Saleor installs apps in a background task."
            )
        await asyncio.sleep(0.3)


def wallets_for(currency: str | None, wanted: str | None) -> list[str]:
    """The wallets to enable in a channel: ``wanted`` (comma-separated), or every wallet that
    takes the channel's currency."""
    if wanted:
        return [w.strip() for w in wanted.split(",") if w.strip()]
    return [cap.wallet.value for cap in CAPABILITIES.values() if cap.currency == currency]


async def saleor_channels(saleor: SaleorClient, api_url: str, token: str) -> list[dict[str, Any]]:
    data = await saleor.execute(api_url, token, "queries/channels.graphql")
    return [dict(c) for c in data["channels"]]


def pick_channels(
    channels: Sequence[Mapping[str, Any]], chosen: Sequence[str], wallets: str | None
) -> list[tuple[str, list[str]]]:
    """(slug, wallets) of each chosen channel (every active one when none is chosen)."""
    by_slug = {str(c["slug"]): c for c in channels}
    unknown = [slug for slug in chosen if slug not in by_slug]
    if unknown:
        raise DemoError(
            f"Saleor has no channel {', '.join(unknown)} (its channels: {', '.join(by_slug)})"
        )
    picked = [by_slug[s] for s in chosen] if chosen else [c for c in channels if c["isActive"]]
    result = []
    for channel in picked:
        names = wallets_for(channel.get("currencyCode"), wallets)
        if names:
            result.append((str(channel["slug"]), names))
    if not result:
        raise DemoError(
            "no channel to configure: no chosen channel's currency is one a wallet takes; "
            "pass --channel and --wallets (e.g. --wallets ALIPAY_HK)"
        )
    return result


async def install_and_configure(
    options: DemoOptions, settings: Settings, since: datetime, say: Callable[[str], None]
) -> tuple[Installation, list[tuple[str, list[str]]]]:
    api_url = options.saleor_api_url
    async with httpx.AsyncClient(timeout=30) as http:
        saleor = SaleorClient(http, timeout=30)
        try:
            token = await staff_token(saleor, api_url, options.staff_email, options.staff_password)
            manifest_url = options.public_app_url + "/api/manifest"
            say(f"installing the app into {api_url} from {manifest_url}")
            job_id = await request_install(saleor, api_url, token, manifest_url)
            installation = await wait_installed(
                settings, saleor, api_url, token, job_id, since, options.install_timeout
            )
            say(f"installed: Saleor app id {installation.app_id}")
            picked = pick_channels(
                await saleor_channels(saleor, api_url, token), options.channels, options.wallets
            )
        except SaleorError as exc:
            raise DemoError(f"talking to Saleor at {api_url} failed: {exc}") from None
    private, _public = merchant_key_files(options.data_dir)
    antom_public = options.data_dir / "antom-private-key.pem.pub.pem"
    entries: list[Mapping[str, object]] = [
        {
            "channel": slug,
            "clientId": SANDBOX_CLIENT_ID,
            "privateKeyFile": str(private),
            "antomPublicKeyFile": str(antom_public),
            "baseUrl": options.sandbox_url,
            "sandbox": True,
            "wallets": wallets,
            "saleorApiUrl": installation.saleor_api_url,
        }
        for slug, wallets in picked
    ]
    try:
        async with open_services(settings) as services:
            for line in await configure_channels(
                services, entries, lambda path, _what: Path(path).read_text(encoding="utf-8")
            ):
                say(line)
    except AppError as exc:
        raise DemoError(f"configuring the channels failed: {exc}") from None
    return installation, picked


def instructions(options: DemoOptions, picked: Sequence[tuple[str, list[str]]]) -> str:
    app = options.public_app_url
    channels = ", ".join(f"{slug} ({', '.join(wallets)})" for slug, wallets in picked)
    return "\n".join(
        [
            "",
            "Ready.",
            f"  app:                {app} (manifest {app}/api/manifest)",
            f"  Antom sandbox:      {options.sandbox_url}",
            f"  Saleor:             {options.saleor_api_url}",
            f"  channels:           {channels}",
            f"  example storefront: {app}{STOREFRONT_EXAMPLE_PATH}",
            f"  wallet page:        {options.sandbox_url}/wallet",
            f"  logs:               {options.data_dir / 'app.log'}, "
            f"{options.data_dir / 'sandbox.log'}",
            "",
            "What to click:",
            "  1. Open the example storefront, pick a channel and a wallet, and pay: it shows a",
            "     QR code.",
            "  2. Open the wallet page, click the waiting authorization request (or scan the",
            "     code with a phone that reaches the sandbox) and click Approve: the storefront",
            "     says paid, and the wallet is saved.",
            "  3. Pay again in the storefront: with the saved wallet it is one click.",
            "  4. In the Saleor dashboard, Apps -> Alipay+ Scan to Bind shows the configuration,",
            "     the agreement and the payments; refund or cancel from the order page.",
            "  5. In the wallet page's bindings (/wallet/bindings), click Unbind: the saved",
            "     wallet disappears from the storefront.",
            "",
            "Press Ctrl-C to stop the app and the sandbox.",
        ]
    )


def run_demo(
    options: DemoOptions,
    say: Callable[[str], None],
    *,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Start, install, configure, print, then wait for Ctrl-C (`KeyboardInterrupt`); the
    children are stopped whatever happens. `DemoError` says what went wrong."""
    options.data_dir.mkdir(parents=True, exist_ok=True)
    env = child_env(options, os.environ if environ is None else environ)
    settings = Settings(database_url=env["DATABASE_URL"], app_url=options.public_app_url)
    _private, merchant_public = merchant_key_files(options.data_dir)
    children = Children()
    try:
        sandbox = children.start(
            "sandbox",
            [
                "sandbox",
                "--host",
                options.host,
                "--port",
                str(options.sandbox_port),
                "--client-id",
                SANDBOX_CLIENT_ID,
                "--merchant-public-key",
                str(merchant_public),
                "--antom-private-key",
                str(options.data_dir / "antom-private-key.pem"),
            ],
            env,
            options.data_dir / "sandbox.log",
        )
        say(f"sandbox pid {sandbox.process.pid} on {options.sandbox_url}")
        app = children.start(
            "app",
            ["serve", "--host", options.host, "--port", str(options.app_port)],
            env,
            options.data_dir / "app.log",
        )
        say(f"app pid {app.process.pid} on http://{options.host}:{options.app_port}")
        wait_ready(sandbox, options.sandbox_url + "/wallet", options.ready_timeout)
        wait_ready(app, f"http://{options.host}:{options.app_port}/readyz", options.ready_timeout)
        since = datetime.now(UTC).replace(microsecond=0)
        _installation, picked = asyncio.run(install_and_configure(options, settings, since, say))
        say(instructions(options, picked))
        while True:
            for child in children.items:
                if not child.alive():
                    raise DemoError(
                        f"the {child.name} stopped (exit {child.process.returncode}); its log "
                        f"{child.log}:\n{child.tail()}"
                    )
            time.sleep(0.5)
    finally:
        children.stop()
