"""Hostile calls to the sandbox: its Antom-facing API (requests correctly signed with the
merchant key) and its control API. The Antom API answers every call with a signed result (a
refused one is ``F``, and stores nothing); the control API answers or refuses with a 4xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from hypothesis import event as note
from hypothesis import given
from hypothesis import strategies as st

from saleor_alipay_app.antom.keys import public_key_base64
from saleor_alipay_app.antom.signing import now_request_time, sign, signature_header
from saleor_alipay_app.saleor.events import SyncEvent
from saleor_alipay_app.sandbox.antom_api import ENDPOINTS
from saleor_alipay_app.sandbox.config import Scenario
from saleor_alipay_app.sandbox.control_api import router as control_router
from tests.support.stack import CLIENT_ID, Stack, qr_purchase, sandbox_state, stored_method_id

from .harness import Hostile, Refusal, detail_shape, examples, hostile_stack
from .mutations import hostile_body, query_junk

# Keys of Antom's requests a mutation may add (besides random ones).
REQUEST_KEYS = [
    "authState",
    "authCode",
    "accessToken",
    "refreshToken",
    "grantType",
    "customerBelongsTo",
    "authClientId",
    "authRedirectUrl",
    "scopes",
    "terminalType",
    "paymentRequestId",
    "paymentId",
    "paymentAmount",
    "paymentMethod",
    "paymentMethodType",
    "paymentMethodId",
    "paymentNotifyUrl",
    "paymentExpiryTime",
    "order",
    "env",
    "settlementStrategy",
    "productCode",
    "refundRequestId",
    "refundAmount",
    "refundNotifyUrl",
    "declarationRequestId",
    "customsCode",
    "declarationAmount",
    "declarationRequestIds",
    "currency",
    "value",
]
INPUT_REFUSALS = frozenset({"PARAM_ILLEGAL", "NO_INTERFACE_DEF"})


def store_sizes(stack: Stack) -> dict[str, int]:
    store = sandbox_state(stack).store
    return {name: len(value) for name, value in vars(store).items() if isinstance(value, dict)}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    async def prepare(h: Hostile) -> None:
        """Real calls of the app (a purchase, a refund, a one-click payment, a revocation):
        the bodies the sandbox received are the bases of the hostile ones."""
        sandbox = sandbox_state(h.stack)
        received: dict[str, dict[str, Any]] = {}
        handle = sandbox.handle

        def recording(call: Any, ctx: Any, body: Any) -> Any:
            received[str(call.value)] = json.loads(json.dumps(body.data, default=str))
            return handle(call, ctx, body)

        sandbox.handle = recording
        transaction_id, psp = await qr_purchase(h.stack)
        await h.stack.call(
            SyncEvent.TRANSACTION_REFUND_REQUESTED,
            amount=Decimal("10.00"),
            transaction={"id": transaction_id, "pspReference": psp},
        )
        method = await stored_method_id(h.stack)
        await h.stack.call(
            SyncEvent.TRANSACTION_INITIALIZE_SESSION,
            amount=Decimal("5.00"),
            data={"storedPaymentMethodId": method},
        )
        await h.stack.call(SyncEvent.STORED_PAYMENT_METHOD_DELETE_REQUESTED, paymentMethodId=method)
        sandbox.handle = handle
        h.facts["bases"] = {
            endpoint: received.get(call.value, {}) for endpoint, call in ENDPOINTS.items()
        }

    with hostile_stack(tmp_path_factory.mktemp("sandbox"), prepare) as running:
        yield running


# -- the Antom-facing API ------------------------------------------------------------------------


@examples(40)
@given(data=st.data())
def test_hostile_signed_antom_calls(hostile: Hostile, data: st.DataObject) -> None:
    stack = hostile.stack
    endpoint = data.draw(
        st.one_of(st.sampled_from(sorted(ENDPOINTS)), st.text(max_size=20).map(quote)),
        label="endpoint",
    )
    prefix = data.draw(st.sampled_from(["/ams/api/v1/", "/ams/sandbox/api/v1/"]))
    path = prefix + endpoint
    base = hostile.facts["bases"].get(endpoint, {})
    body = data.draw(hostile_body(base, REQUEST_KEYS), label="body")

    async def send() -> Any:
        request_time = now_request_time()
        value = sign(
            stack.merchant_key, path=path, client_id=CLIENT_ID, request_time=request_time, body=body
        )
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "client-id": CLIENT_ID,
            "request-time": request_time,
            "signature": signature_header(value),
        }
        return await stack.http.post(stack.sandbox.url + path, content=body, headers=headers)

    async def exchange() -> Any:
        before = store_sizes(stack)
        response = await hostile.exchange(
            f"sandbox {path}", send, error_shape=detail_shape, stored_ok=True
        )
        if response.status_code != 200:
            raise Refusal(f"sandbox {path}: answered {response.status_code}: {response.text:.300}")
        result = response.json().get("result")
        if not isinstance(result, dict) or result.get("resultStatus") not in ("S", "F", "U"):
            raise Refusal(f"sandbox {path}: no declared result: {response.text:.300}")
        if result.get("resultCode") in INPUT_REFUSALS and store_sizes(stack) != before:
            raise Refusal(f"sandbox {path}: refused {result} but stored records")
        return response

    response = hostile.run(exchange())
    note(f"result {response.json()['result'].get('resultCode')}")


# -- the control API -----------------------------------------------------------------------------


def _control_routes() -> list[tuple[str, APIRoute]]:
    return sorted(
        ((method, route) for route in control_router.routes if isinstance(route, APIRoute)
         for method in route.methods),
        key=lambda item: (item[1].path, item[0]),
    )  # fmt: skip


CONTROL_ROUTES = _control_routes()


def control_bodies(h: Hostile) -> dict[str, Any]:
    stack = h.stack
    return {
        "/sandbox/api/merchants": {
            "clientId": "SANDBOX_HOSTILE",
            "publicKey": public_key_base64(stack.merchant_key),
            "paymentNotifyUrl": stack.url("/nowhere"),
            "keyVersion": 1,
            "wallets": ["ALIPAY_HK"],
        },
        "/sandbox/api/authorizations/{auth_state}/approve": {"userLoginId": "85261234567"},
        "/sandbox/api/tokens/unbind": {"bindingId": "nothing", "reason": "hostile"},
        "/sandbox/api/scenario": {"scenario": "USER_BALANCE_NOT_ENOUGH", "calls": ["pay"]},
        "/sandbox/api/scenario/default": {"scenario": "SUCCESS"},
        "/sandbox/api/clock": {"advanceSeconds": 1},
    }


@examples(40)
@given(data=st.data())
def test_hostile_control_calls(hostile: Hostile, data: st.DataObject) -> None:
    stack = hostile.stack
    method, route = data.draw(st.sampled_from(CONTROL_ROUTES), label="route")
    path = route.path
    for name in route.param_convertors:
        path = path.replace("{" + name + "}", quote(data.draw(query_junk()), safe="") or "%20")
    names = [q.alias for q in route.dependant.query_params]
    params = data.draw(
        st.dictionaries(
            st.one_of(st.sampled_from(names or ["x"]), st.text(max_size=10)),
            query_junk(),
            max_size=3,
        ),
        label="query",
    )
    body: bytes | None = None
    if method in ("POST", "PUT"):
        base = control_bodies(hostile).get(route.path, {})
        body = data.draw(hostile_body(base), label="body")

    async def send() -> Any:
        return await stack.http.request(
            method,
            stack.sandbox.url + path,
            params=params,
            content=body,
            headers={"Content-Type": "application/json"},
        )

    async def exchange() -> Any:
        try:
            return await hostile.exchange(
                f"sandbox {method} {route.path}", send, error_shape=detail_shape, stored_ok=True
            )
        finally:
            # No scenario outlives its example (a HANG would stall the next ones).
            sandbox = sandbox_state(stack)
            sandbox.scenarios.clear()
            sandbox.scenarios.default = Scenario.SUCCESS

    response = hostile.run(exchange())
    note(f"{method} {route.path}: HTTP {response.status_code}")
