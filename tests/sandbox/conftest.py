"""A running sandbox, a merchant that signs with `antom/signing.py`, and a notification receiver.

Everything talks real HTTP on loopback: the sandbox and the merchant's notification receiver
each run under uvicorn in the test's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request, Response

from saleor_alipay_app.antom.keys import generate_private_key
from saleor_alipay_app.antom.signing import SignatureError, now_request_time, sign, verify
from saleor_alipay_app.antom.signing import signature_header as make_signature_header
from saleor_alipay_app.sandbox import MerchantConfig, SandboxConfig, create_sandbox_app
from saleor_alipay_app.sandbox.engine import Sandbox
from tests.support.servers import serve_in_loop, serve_in_thread

CLIENT_ID = "SANDBOX_5Y00000000000001"
SANDBOX_PREFIX = "/ams/sandbox/api/v1"
PRODUCTION_PREFIX = "/ams/api/v1"
ACK = {"result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"}}


@pytest.fixture(scope="session")
def antom_key() -> rsa.RSAPrivateKey:
    return generate_private_key()


@pytest.fixture(scope="session")
def merchant_key() -> rsa.RSAPrivateKey:
    return generate_private_key()


@pytest.fixture(scope="session")
def stranger_key() -> rsa.RSAPrivateKey:
    return generate_private_key()


# -- the merchant's side ----------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    raw: bytes
    verified: bool

    @property
    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.raw, parse_float=Decimal)
        return data


@dataclass
class Receiver:
    """The merchant's notification endpoint: records, verifies, answers as scripted."""

    antom_public: rsa.RSAPublicKey
    received: list[Received] = field(default_factory=list)
    # answers for the next requests (status, body text); afterwards the exact acknowledgement
    script: list[tuple[int, str]] = field(default_factory=list)
    url: str = ""

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/notify/{kind}")
        async def notify(kind: str, request: Request) -> Response:
            raw = await request.body()
            try:
                verify(
                    self.antom_public,
                    path=request.url.path,
                    client_id=request.headers["client-id"],
                    time=request.headers["request-time"],
                    body=raw,
                    signature=request.headers["signature"],
                )
                verified = True
            except (SignatureError, KeyError):
                verified = False
            self.received.append(Received(request.url.path, dict(request.headers), raw, verified))
            if self.script:
                status, text = self.script.pop(0)
                return Response(text, status_code=status, media_type="application/json")
            return Response(json.dumps(ACK), media_type="application/json")

        return app

    def of(self, kind: str) -> list[Received]:
        return [r for r in self.received if r.path == f"/notify/{kind}"]

    async def wait_for(self, kind: str, count: int = 1, within: float = 5.0) -> list[Received]:
        deadline = asyncio.get_running_loop().time() + within
        while len(self.of(kind)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"expected {count} {kind} notification(s), got {self.of(kind)}"
                )
            await asyncio.sleep(0.02)
        return self.of(kind)


@dataclass
class Reply:
    status: int
    headers: httpx.Headers
    text: str
    path: str

    @property
    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.text, parse_float=Decimal)
        return data

    @property
    def result(self) -> dict[str, str]:
        found: dict[str, str] = self.body["result"]
        return found

    @property
    def code(self) -> str:
        return self.result["resultCode"]

    @property
    def status_letter(self) -> str:
        return self.result["resultStatus"]

    @property
    def signed(self) -> bool:
        return "signature" in self.headers


@dataclass
class Env:
    url: str
    http: httpx.AsyncClient
    sandbox: Sandbox
    receiver: Receiver
    merchant_key: rsa.RSAPrivateKey
    antom_public: rsa.RSAPublicKey
    client_id: str = CLIENT_ID
    prefix: str = SANDBOX_PREFIX

    # -- Antom API as the merchant calls it -------------------------------------------------

    async def call(
        self,
        endpoint: str,
        body: dict[str, Any],
        *,
        scenario: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        client_id: str | None = None,
        prefix: str | None = None,
        raw: str | None = None,
        request_time: str | None = None,
        http_timeout: float = 5.0,
    ) -> Reply:
        text = raw if raw is not None else json.dumps(body)
        path = f"{prefix or self.prefix}/{endpoint}"
        cid = client_id or self.client_id
        sent_time = request_time or now_request_time()
        value = sign(
            key or self.merchant_key,
            path=path,
            client_id=cid,
            request_time=sent_time,
            body=text,
        )
        headers = {
            "content-type": "application/json; charset=UTF-8",
            "client-id": cid,
            "request-time": sent_time,
            "signature": make_signature_header(value),
        }
        if scenario is not None:
            headers["x-sandbox-scenario"] = scenario
        response = await self.http.post(
            self.url + path, content=text.encode("utf-8"), headers=headers, timeout=http_timeout
        )
        reply = Reply(response.status_code, response.headers, response.text, path)
        if reply.signed:
            self.check_signature(reply)
        return reply

    def check_signature(self, reply: Reply) -> None:
        assert reply.headers["client-id"] == self.client_id
        verify(
            self.antom_public,
            path=reply.path,
            client_id=reply.headers["client-id"],
            time=reply.headers["response-time"],
            body=reply.text,
            signature=reply.headers["signature"],
        )

    # -- the sandbox's own API ---------------------------------------------------------------

    async def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, f"{self.url}/sandbox/api{path}", **kwargs)

    async def advance(self, seconds: float) -> None:
        response = await self.api("POST", "/clock", json={"advanceSeconds": seconds})
        assert response.status_code == 200, response.text

    async def queue(self, scenario: str, calls: list[str] | None = None, count: int = 1) -> None:
        body: dict[str, Any] = {"scenario": scenario, "count": count}
        if calls is not None:
            body["calls"] = calls
        response = await self.api("POST", "/scenario", json=body)
        assert response.status_code == 200, response.text

    async def notifications(self, **params: str) -> list[dict[str, Any]]:
        response = await self.api("GET", "/notifications", params=params)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found

    async def settled_notification(self, within: float = 5.0, **params: str) -> dict[str, Any]:
        """The one notification matching ``params``, once its delivery is no longer PENDING."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            found = await self.notifications(**params)
            if len(found) == 1 and found[0]["status"] != "PENDING":
                return found[0]
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no settled notification for {params}: {found}")
            await asyncio.sleep(0.02)

    # -- whole flows ---------------------------------------------------------------------------

    async def consult(self, wallet: str = "ALIPAY_HK", auth_state: str | None = None) -> Reply:
        return await self.call(
            "authorizations/consult",
            {
                "customerBelongsTo": wallet,
                "authRedirectUrl": "https://shop.example/return",
                "scopes": ["AGREEMENT_PAY"],
                "authState": auth_state or "st-" + secrets.token_hex(6),
                "terminalType": "WEB",
            },
        )

    async def approve(self, auth_state: str, login: str | None = None) -> dict[str, Any]:
        body = {} if login is None else {"userLoginId": login}
        response = await self.api("POST", f"/authorizations/{auth_state}/approve", json=body)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def apply_code(self, code: str, wallet: str = "ALIPAY_HK") -> Reply:
        return await self.call(
            "authorizations/applyToken",
            {"grantType": "AUTHORIZATION_CODE", "customerBelongsTo": wallet, "authCode": code},
        )

    async def bind(self, wallet: str = "ALIPAY_HK", login: str | None = None) -> dict[str, Any]:
        """consult → approve → applyToken; returns the applyToken answer."""
        state = "st-" + secrets.token_hex(6)
        consulted = await self.consult(wallet, state)
        assert consulted.code == "SUCCESS", consulted.text
        approved = await self.approve(state, login)
        reply = await self.apply_code(approved["authCode"], wallet)
        assert reply.code == "SUCCESS", reply.text
        return reply.body

    def pay_body(
        self,
        token: str,
        value: str,
        *,
        currency: str = "HKD",
        wallet: str = "ALIPAY_HK",
        request_id: str | None = None,
        settlement_currency: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        amount = {"currency": currency, "value": value}
        body: dict[str, Any] = {
            "productCode": "AGREEMENT_PAYMENT",
            "paymentRequestId": request_id or "pay-" + secrets.token_hex(6),
            "paymentAmount": amount,
            "paymentMethod": {"paymentMethodType": wallet, "paymentMethodId": token},
            "order": {
                "orderAmount": amount,
                "referenceOrderId": "order-" + secrets.token_hex(4),
                "orderDescription": "Sandbox test order",
            },
            "settlementStrategy": {"settlementCurrency": settlement_currency or currency},
        }
        body.update(extra)
        return body

    async def pay(self, token: str, value: str, scenario: str | None = None, **kw: Any) -> Reply:
        return await self.call("payments/pay", self.pay_body(token, value, **kw), scenario=scenario)


def base_config(
    antom_key: rsa.RSAPrivateKey, merchant_key: rsa.RSAPrivateKey, url: str
) -> SandboxConfig:
    return SandboxConfig(
        antom_private_key=antom_key,
        merchants=(
            MerchantConfig(
                client_id=CLIENT_ID,
                public_key=merchant_key.public_key(),
                auth_notify_url=f"{url}/notify/auth",
                payment_notify_url=f"{url}/notify/payment",
                refund_notify_url=f"{url}/notify/refund",
            ),
        ),
        notify_schedule_factor=0.001,
        notify_timeout_seconds=2.0,
        process_delay_seconds=0.3,
        order_close_seconds=0.3,
        customs_delay_seconds=60.0,
        hang_seconds=1.0,
    )


@pytest.fixture(scope="session")
def shared_receiver(antom_key: rsa.RSAPrivateKey) -> Iterator[Receiver]:
    """One receiver server for the session (in its own thread); reset for every test."""
    found = Receiver(antom_key.public_key())
    with serve_in_thread(found.app()) as server:
        found.url = server.url
        yield found


@pytest.fixture
def receiver(shared_receiver: Receiver) -> Receiver:
    shared_receiver.received.clear()
    shared_receiver.script.clear()
    return shared_receiver


@pytest.fixture
def config(
    antom_key: rsa.RSAPrivateKey, merchant_key: rsa.RSAPrivateKey, receiver: Receiver
) -> SandboxConfig:
    """Override in a test module (or use ``dataclasses.replace``) to change timings."""
    return base_config(antom_key, merchant_key, receiver.url)


@contextlib.asynccontextmanager
async def running(
    config: SandboxConfig, receiver: Receiver, merchant_key: rsa.RSAPrivateKey
) -> AsyncIterator[Env]:
    """A sandbox for ``config`` served on loopback, with a client for it."""
    app = create_sandbox_app(config)
    async with serve_in_loop(app) as server, httpx.AsyncClient(verify=False) as http:
        yield Env(
            url=server.url,
            http=http,
            sandbox=app.state.sandbox,
            receiver=receiver,
            merchant_key=merchant_key,
            antom_public=config.antom_private_key.public_key(),
        )


@pytest.fixture
async def env(
    config: SandboxConfig, receiver: Receiver, merchant_key: rsa.RSAPrivateKey
) -> AsyncIterator[Env]:
    async with running(config, receiver, merchant_key) as found:
        yield found
