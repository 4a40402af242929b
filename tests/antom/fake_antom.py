"""A small signed fake of Antom's gateway for the client tests (not the full simulator).

It checks each request's signature with the merchant's public key, records what it got, and
answers with what the test scripted for the endpoint: signed (with "Antom's" key) or not,
tampered, slow, or an HTTP error.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from saleor_alipay_app.antom.signing import (
    SignatureError,
    now_request_time,
    sign,
    signature_header,
    verify,
)


@dataclass
class Scripted:
    body: Mapping[str, Any] | bytes = field(
        default_factory=lambda: {
            "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"}
        }
    )
    status: int = 200
    signed: bool = True
    tamper: Callable[[bytes], bytes] | None = None  # sign, then change the body
    send_signature: bool = True
    send_response_time: bool = True
    lower_case_escapes: bool = False
    signing_key: rsa.RSAPrivateKey | None = None  # default: the fake's Antom key
    hold: asyncio.Event | None = None  # wait for this before answering


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    signature_error: str | None


class FakeAntom:
    def __init__(
        self, *, merchant_public_key: rsa.RSAPublicKey, antom_key: rsa.RSAPrivateKey
    ) -> None:
        self.merchant_public_key = merchant_public_key
        self.antom_key = antom_key
        self.scripts: dict[str, Scripted] = {}
        self.received: list[Received] = []
        self.app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])])

    def script(self, endpoint_suffix: str, scripted: Scripted) -> None:
        """Answer requests whose path ends with ``endpoint_suffix`` (e.g. "/payments/pay")."""
        self.scripts[endpoint_suffix] = scripted

    def _find(self, path: str) -> Scripted:
        for suffix, scripted in self.scripts.items():
            if path.endswith(suffix):
                return scripted
        return Scripted()

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        path = request.url.path
        headers = {k.lower(): v for k, v in request.headers.items()}
        error: str | None = None
        try:
            verify(
                self.merchant_public_key,
                method=request.method,
                path=path,
                client_id=headers.get("client-id", ""),
                time=headers.get("request-time", ""),
                body=body,
                signature=headers.get("signature", ""),
            )
        except SignatureError as exc:
            error = str(exc)
        self.received.append(Received(path, headers, body, error is None, error))
        if error is not None:
            return self._answer(
                path,
                headers.get("client-id", ""),
                Scripted(
                    body={
                        "result": {
                            "resultCode": "INVALID_SIGNATURE",
                            "resultStatus": "F",
                            "resultMessage": "signature verification failed",
                        }
                    },
                    signed=False,
                ),
            )
        scripted = self._find(path)
        if scripted.hold is not None:
            await scripted.hold.wait()
        return self._answer(path, headers.get("client-id", ""), scripted)

    def _answer(self, path: str, client_id: str, scripted: Scripted) -> Response:
        raw = (
            scripted.body
            if isinstance(scripted.body, bytes)
            else json.dumps(scripted.body, separators=(",", ":")).encode()
        )
        headers: dict[str, str] = {}
        if scripted.signed:
            response_time = now_request_time()
            value = sign(
                scripted.signing_key or self.antom_key,
                path=path,
                client_id=client_id,
                request_time=response_time,
                body=raw,
            )
            if scripted.lower_case_escapes:
                value = value.replace("%2B", "%2b").replace("%2F", "%2f").replace("%3D", "%3d")
            headers["client-id"] = client_id
            if scripted.send_response_time:
                headers["response-time"] = response_time
            if scripted.send_signature:
                headers["signature"] = signature_header(value)
        if scripted.tamper is not None:
            raw = scripted.tamper(raw)
        return Response(
            raw, status_code=scripted.status, headers=headers, media_type="application/json"
        )
