"""`saleor-alipay-app demo` against the Saleor double: a real subprocess installs the app through
`tokenCreate` and `appInstall`, configures the channels against its sandbox, prints where to
click, takes a QR payment, and stops everything on SIGINT."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from saleor_alipay_app.config import Settings
from saleor_alipay_app.demo import APP_NAME, SANDBOX_CLIENT_ID, pick_channels, wallets_for
from tests.support.saleor_double import SaleorDouble
from tests.support.servers import RunningServer, free_port
from tests.support.stack import Stack, app_process_env, cached_key

STAFF_EMAIL = "admin@example.com"
STAFF_PASSWORD = "s3cret-Password"
STOP_WITHIN = 25.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) counts as gone.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class _Url:
    def __init__(self, url: str) -> None:
        self.url = url


async def _read_until(
    stream: asyncio.StreamReader,
    marker: str,
    lines: list[str],
    timeout: float,  # noqa: ASYNC109
) -> None:
    async with asyncio.timeout(timeout):
        while True:
            raw = await stream.readline()
            if not raw:
                raise AssertionError("demo ended early:\n" + "\n".join(lines))
            lines.append(raw.decode().rstrip("\n"))
            if marker in lines[-1]:
                return


async def _start_demo(
    settings: Settings, double: SaleorDouble, tmp: Path, *extra: str
) -> tuple[asyncio.subprocess.Process, int, int]:
    app_port, sandbox_port = free_port(), free_port()
    env = app_process_env(settings, sweeper_interval=0.3)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "saleor_alipay_app",
        "demo",
        "--saleor-api-url",
        double.api_url,
        "--staff-email",
        STAFF_EMAIL,
        "--port",
        str(app_port),
        "--sandbox-port",
        str(sandbox_port),
        "--data-dir",
        str(tmp / "demo-data"),
        "--install-timeout",
        "30",
        *extra,
        env={**env, "SALEOR_STAFF_PASSWORD": STAFF_PASSWORD},
        cwd=tmp,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    return process, app_port, sandbox_port


async def test_demo_installs_configures_takes_a_payment_and_stops_on_ctrl_c(
    settings: Settings, tmp_path: Path
) -> None:
    double = SaleorDouble()
    double.add_staff(STAFF_EMAIL, STAFF_PASSWORD)
    async with double.serve(), httpx.AsyncClient(timeout=30) as http:
        process, app_port, sandbox_port = await _start_demo(settings, double, tmp_path)
        assert process.stdout is not None
        lines: list[str] = []
        try:
            await _read_until(process.stdout, "Press Ctrl-C", lines, timeout=90)
        except BaseException:
            process.kill()
            await process.wait()
            raise
        output = "\n".join(lines)
        app_url = f"http://127.0.0.1:{app_port}"
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        pids = [int(p) for p in re.findall(r"(?:sandbox|app) pid (\d+)", output)]
        assert len(pids) == 2, output

        # Installed through Saleor's API: staff login, appInstall, the token handshake.
        operations = [c.operation_name for c in double.calls]
        assert operations[:2] == ["TokenCreate", "AppInstall"], operations
        assert "AppId" in operations
        assert "Channels" in operations
        assert not double.invalid_documents
        app = double.installed_app
        assert app.name == APP_NAME
        assert app.identifier == "saleor.alipay.scan-to-bind"
        assert app.permissions == ["HANDLE_PAYMENTS"]
        assert not double.installation_jobs
        assert not double.failed_installations

        # Configured every active channel with the wallets of its currency, and said where to go.
        assert "saved channel hk-web" in output
        assert "saved channel id-web" in output
        assert f"{app_url}/api/antom/" in output
        assert f"example storefront: {app_url}/storefront/example" in output
        assert f"wallet page:        {sandbox_url}/wallet" in output
        assert "What to click" in output
        assert "Approve" in output

        # A QR payment then works through the double, the sandbox and the app the demo started.
        stack = Stack(
            settings=settings,
            saleor=double,
            app=cast(RunningServer, _Url(app_url)),
            sandbox=cast(RunningServer, _Url(sandbox_url)),
            http=http,
            tmp=tmp_path,
            merchant_key=cached_key("merchant"),
            antom_key=cached_key("antom"),
        )
        payload, body = await stack.start_qr_payment(Decimal("88.00"))
        assert body["result"] == "CHARGE_ACTION_REQUIRED", body
        transaction_id = payload["transaction"]["id"]
        await stack.approve(body["data"]["bindingId"], login="85261234567")
        await stack.wait_for(
            lambda: any(e.type == "CHARGE_SUCCESS" for e in stack.reports(transaction_id)),
            timeout=30,
            what="CHARGE_SUCCESS reported by the demo's app",
        )

        # Ctrl-C stops the demo, the app and the sandbox.
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), STOP_WITHIN)
        except TimeoutError:
            process.kill()
            raise
        rest = (await process.stdout.read()).decode()
        assert process.returncode == 130, rest
        assert "stopped" in rest
        assert not [p for p in pids if _alive(p)], pids
        assert time.monotonic() - started < STOP_WITHIN
        for port in (app_port, sandbox_port):
            with pytest.raises(httpx.ConnectError):
                await http.get(f"http://127.0.0.1:{port}/")


async def test_demo_says_what_to_fix_when_saleor_refuses_the_login(
    settings: Settings, tmp_path: Path
) -> None:
    double = SaleorDouble()
    double.add_staff(STAFF_EMAIL, "another password")
    async with double.serve():
        process, _app_port, _sandbox_port = await _start_demo(settings, double, tmp_path)
        out, _ = await asyncio.wait_for(process.communicate(), 90)
    text = out.decode()
    assert process.returncode == 1, text
    assert "Saleor refused the staff login of admin@example.com" in text
    assert "Please, enter valid credentials" in text
    pids = [int(p) for p in re.findall(r"(?:sandbox|app) pid (\d+)", text)]
    assert len(pids) == 2
    assert not [p for p in pids if _alive(p)]
    assert double.apps == {}


async def test_demo_reports_saleors_failed_installation(settings: Settings, tmp_path: Path) -> None:
    """An app with the same identifier is already installed: Saleor's job ends FAILED, and the
    demo shows its message with what to do."""
    double = SaleorDouble()
    double.add_staff(STAFF_EMAIL, STAFF_PASSWORD)
    existing = double.create_app(identifier="saleor.alipay.scan-to-bind")
    existing.is_installed = True
    async with double.serve():
        process, _app_port, _sandbox_port = await _start_demo(settings, double, tmp_path)
        out, _ = await asyncio.wait_for(process.communicate(), 90)
    text = out.decode()
    assert process.returncode == 1, text
    assert "App with this Identifier already exists." in text
    assert "HTTP_IP_FILTER_ALLOW_LOOPBACK_IPS" in text
    assert [j.status for j in double.installation_jobs.values()] == ["FAILED"]


def test_channels_are_picked_by_currency_unless_named() -> None:
    channels: list[dict[str, Any]] = [
        {"slug": "hk-web", "currencyCode": "HKD", "isActive": True},
        {"slug": "id-web", "currencyCode": "IDR", "isActive": True},
        {"slug": "eu-web", "currencyCode": "EUR", "isActive": True},
        {"slug": "off", "currencyCode": "HKD", "isActive": False},
    ]
    assert wallets_for("HKD", None) == ["ALIPAY_HK"]
    assert pick_channels(channels, [], None) == [("hk-web", ["ALIPAY_HK"]), ("id-web", ["DANA"])]
    assert pick_channels(channels, ["off"], "ALIPAY_HK,DANA") == [("off", ["ALIPAY_HK", "DANA"])]
    with pytest.raises(Exception, match="no channel nope"):
        pick_channels(channels, ["nope"], None)
    assert SANDBOX_CLIENT_ID.startswith("SANDBOX_")
