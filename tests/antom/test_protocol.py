"""AntomApi, the Protocol the app depends on: exactly the client's calls, with its signatures."""

from __future__ import annotations

import inspect
import typing
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from saleor_alipay_app.antom.client import AntomClient
from saleor_alipay_app.antom.protocol import AntomApi


def _public_calls(cls: type) -> dict[str, tuple[list[tuple[str, Any, Any]], dict[str, Any]]]:
    """Each public ``async def``: its parameters (name, kind, default) and resolved annotations."""
    return {
        name: (
            [(p.name, p.kind, p.default) for p in inspect.signature(member).parameters.values()],
            typing.get_type_hints(member),
        )
        for name, member in inspect.getmembers(cls, inspect.iscoroutinefunction)
        if not name.startswith("_")
    }


def test_the_protocol_lists_every_public_call_with_the_clients_signature() -> None:
    expected = _public_calls(AntomClient)
    assert set(expected) == {
        "consult",
        "apply_token",
        "revoke",
        "pay",
        "inquiry_payment",
        "cancel",
        "refund",
        "inquiry_refund",
        "declare",
        "inquiry_declaration_requests",
    }
    assert _public_calls(AntomApi) == expected


async def test_a_client_is_an_antom_api(
    merchant_key: rsa.RSAPrivateKey, antom_key: rsa.RSAPrivateKey
) -> None:
    async with httpx.AsyncClient() as http:
        api: AntomApi = AntomClient(  # mypy: the client satisfies the Protocol
            base_url="https://open-sea-global.alipay.com",
            client_id="5Y00000000000000",
            private_key=merchant_key,
            antom_public_key=antom_key.public_key(),
            http=http,
        )
        assert callable(api.pay)
