"""The whole product on loopback: the Saleor double, the app and the Antom sandbox, each under
uvicorn, talking real HTTP to one another.

`Stack.started(settings)` installs the app into the double, configures the channel `hk-web`
with a merchant key registered at the sandbox, and hands tests helpers to play Saleor (deliver
webhooks) and the shopper (approve in the wallet).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from saleor_alipay_app.antom.keys import generate_private_key, private_key_pem, public_key_pem
from saleor_alipay_app.config import Settings
from saleor_alipay_app.configure import configure_channels
from saleor_alipay_app.saleor.events import SyncEvent
from saleor_alipay_app.sandbox import MerchantConfig, SandboxConfig, create_sandbox_app
from saleor_alipay_app.web import create_app
from tests.support.saleor_double import SaleorDouble, saleor_json
from tests.support.servers import RunningServer, serve_in_loop

CLIENT_ID = "SANDBOX_5Y00000000000042"

_KEYS: dict[str, rsa.RSAPrivateKey] = {}


def cached_key(name: str) -> rsa.RSAPrivateKey:
    """RSA keys are slow to make: one per role for the whole test run."""
    if name not in _KEYS:
        _KEYS[name] = generate_private_key()
    return _KEYS[name]


@dataclass
class Stack:
    settings: Settings
    saleor: SaleorDouble
    app: RunningServer
    sandbox: RunningServer
    http: httpx.AsyncClient
    tmp: Path
    merchant_key: rsa.RSAPrivateKey
    antom_key: rsa.RSAPrivateKey
    configured: list[str] = field(default_factory=list)

    # -- Saleor's side ------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.app.url + path

    async def deliver(
        self, event: SyncEvent, payload: dict[str, Any], *, validate: bool = True
    ) -> httpx.Response:
        response = await self.saleor.deliver(self.url(event.path), event, payload)
        if validate and response.status_code == 200:
            self.saleor.validate_response(event, response.json())
        return response

    async def call(self, event: SyncEvent, **kwargs: Any) -> dict[str, Any]:
        """Deliver a realistic payload of ``event`` (see `SaleorDouble.payload`); 200 expected."""
        response = await self.deliver(event, self.saleor.payload(event, **kwargs))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def reports(self, transaction_id: str | None = None) -> list[Any]:
        events = [
            event
            for tid, items in self.saleor.transaction_events.items()
            if transaction_id is None or tid == transaction_id
            for event in items
        ]
        return events

    async def wait_for(
        self, predicate: Callable[[], bool], *, timeout: float = 10.0, what: str = "condition"
    ) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)

    # -- the shopper's side -----------------------------------------------------------------------

    async def approve(self, auth_state: str, login: str | None = None) -> dict[str, Any]:
        body = {"userLoginId": login} if login else None
        response = await self.http.post(
            f"{self.sandbox.url}/sandbox/api/authorizations/{auth_state}/approve", json=body
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def decline(self, auth_state: str) -> None:
        response = await self.http.post(
            f"{self.sandbox.url}/sandbox/api/authorizations/{auth_state}/decline"
        )
        assert response.status_code == 200, response.text

    async def scenario(self, name: str, calls: list[str] | None = None, count: int = 1) -> None:
        body: dict[str, Any] = {"scenario": name, "count": count}
        if calls is not None:
            body["calls"] = calls
        response = await self.http.post(f"{self.sandbox.url}/sandbox/api/scenario", json=body)
        assert response.status_code == 200, response.text

    async def sandbox_notifications(self) -> list[dict[str, Any]]:
        response = await self.http.get(f"{self.sandbox.url}/sandbox/api/notifications")
        data = response.json()
        items: list[dict[str, Any]] = data if isinstance(data, list) else data["notifications"]
        return items

    # -- the merchant's side ----------------------------------------------------------------------

    async def configure(self, channel: str = "hk-web", wallets: str = "ALIPAY_HK,DANA") -> None:
        key_file = self.tmp / "merchant.pem"
        key_file.write_text(private_key_pem(self.merchant_key))
        antom_file = self.tmp / "antom.pub.pem"
        antom_file.write_text(public_key_pem(self.antom_key))
        entry: dict[str, object] = {
            "channel": channel,
            "clientId": CLIENT_ID,
            "privateKeyFile": str(key_file),
            "antomPublicKeyFile": str(antom_file),
            "baseUrl": self.sandbox.url,
            "sandbox": True,
            "wallets": wallets.split(","),
        }
        self.configured += await configure_channels(
            self.settings, [entry], lambda path, _what: Path(path).read_text()
        )

    # -- a whole first purchase -----------------------------------------------------------------

    async def start_qr_payment(
        self, amount: Decimal = Decimal("123.45"), **kwargs: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """TRANSACTION_INITIALIZE_SESSION without a stored method: (payload, response)."""
        kwargs.setdefault("data", {"wallet": "ALIPAY_HK"})
        payload = self.saleor.payload(SyncEvent.TRANSACTION_INITIALIZE_SESSION, amount=amount, **kwargs)
        response = await self.deliver(SyncEvent.TRANSACTION_INITIALIZE_SESSION, payload)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return payload, body


@contextlib.asynccontextmanager
async def started_stack(
    settings: Settings, tmp: Path, *, sandbox_options: dict[str, Any] | None = None
) -> AsyncIterator[Stack]:
    merchant_key = cached_key("merchant")
    antom_key = cached_key("antom")
    double = SaleorDouble()
    sandbox_config = SandboxConfig(
        antom_private_key=antom_key,
        merchants=[MerchantConfig(client_id=CLIENT_ID, public_key=merchant_key.public_key())],
        notify_schedule_factor=0.001,
        process_delay_seconds=0.5,
        order_close_seconds=1.0,
        hang_seconds=15.0,
        **(sandbox_options or {}),
    )
    app_settings = settings.model_copy(update={"sweeper_interval": 0.3, "antom_call_timeout": 3.0})
    async with (
        double.serve(),
        serve_in_loop(create_sandbox_app(sandbox_config)) as sandbox,
        serve_in_loop(create_app(app_settings)) as app,
        httpx.AsyncClient(timeout=30) as http,
    ):
        response = await double.install(app.url + "/api/register")
        assert response.status_code == 200, response.text
        stack = Stack(
            settings=app_settings,
            saleor=double,
            app=app,
            sandbox=sandbox,
            http=http,
            tmp=tmp,
            merchant_key=merchant_key,
            antom_key=antom_key,
        )
        await stack.configure()
        yield stack


def body_of(response: httpx.Response) -> Any:
    return response.json()


__all__ = ["CLIENT_ID", "Stack", "body_of", "cached_key", "saleor_json", "started_stack"]
