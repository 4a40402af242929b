"""The account page's Saleor calls, as the storefront widget sends them, against the Saleor
double, the app and the Antom sandbox (no browser): the double answers them as Saleor does
(APP-PROTOCOL.md §4.7-§4.11, §6, §8.6, §8.7) and the app's answers pass Saleor's checks.

The second half gives the double an app that answers badly (a Starlette app of a few lines),
to check how Saleor maps what it refuses.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from saleor_alipay_app.config import Settings
from saleor_alipay_app.errors import NotConfigured
from saleor_alipay_app.saleor.events import SyncEvent
from tests.support.saleor_double import Channel, SaleorDouble, global_id
from tests.support.saleor_schema import subset_generator
from tests.support.servers import serve_in_loop
from tests.support.stack import Stack, eventually, started_stack

REPO = Path(__file__).resolve().parents[2]
GATEWAY = "saleor.alipay.scan-to-bind"
PREFIX = f"app:{GATEWAY}:"


# The widget's own documents, by constant name (STORED_METHODS, TOKENIZATION_GATEWAY, ...).
WIDGET: dict[str, str] = dict(
    subset_generator().widget_documents(
        (REPO / "saleor_alipay_app/static/scan-to-bind.js").read_text(encoding="utf-8")
    )
)
STORED_IN_FULL = """query DoubleStoredPaymentMethods($channel: String!) {
  me { id email storedPaymentMethods(channel: $channel) {
    id paymentMethodId gateway { id name currencies } type name data
    creditCardInfo { brand } supportedPaymentFlows } } }"""


async def graphql(
    double: SaleorDouble, query: str, variables: dict[str, Any], token: str | None
) -> dict[str, Any]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            double.api_url, json={"query": query, "variables": variables}, headers=headers
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def deliveries(double: SaleorDouble, event: SyncEvent) -> list[dict[str, Any]]:
    return [json.loads(d.body) for d in double.deliveries if d.event is event]


@pytest.fixture
async def stack(settings: Settings, tmp_path: Path) -> AsyncIterator[Stack]:
    async with started_stack(settings, tmp_path) as running:
        yield running


async def test_save_list_and_remove_a_wallet_as_saleor_presents_them(stack: Stack) -> None:
    double = stack.saleor
    token = double.customer_token()
    hk = {"gateway": GATEWAY, "channel": "hk-web"}

    gateway = await graphql(double, WIDGET["TOKENIZATION_GATEWAY"], hk, token)
    initialized = gateway["data"]["paymentGatewayInitializeTokenization"]
    assert initialized["result"] == "SUCCESSFULLY_INITIALIZED"
    assert initialized["errors"] == []
    assert [w["id"] for w in initialized["data"]["wallets"]] == ["ALIPAY_HK"]

    started = await graphql(
        double, WIDGET["TOKENIZATION_INITIALIZE"], {**hk, "data": {"wallet": "ALIPAY_HK"}}, token
    )
    answer = started["data"]["paymentMethodInitializeTokenization"]
    assert answer["result"] == "ADDITIONAL_ACTION_REQUIRED", answer
    assert answer["errors"] == []
    assert answer["id"].startswith(PREFIX)
    binding_id = answer["id"].removeprefix(PREFIX)
    assert answer["data"]["qrCodeSvg"].startswith("<svg")
    [sent] = deliveries(double, SyncEvent.PAYMENT_METHOD_INITIALIZE_TOKENIZATION_SESSION)
    assert sent["paymentFlowToSupport"] == "INTERACTIVE"
    assert sent["data"] == {"wallet": "ALIPAY_HK"}
    assert sent["user"] == {"id": double.customer.id, "email": double.customer.email}
    assert sent["issuingPrincipal"] == {"__typename": "User", "id": double.customer.id}

    await stack.approve(binding_id, login="85261234567")

    async def tokenized() -> dict[str, Any] | None:
        variables = {"id": answer["id"], "channel": "hk-web"}
        body = await graphql(double, WIDGET["TOKENIZATION_PROCESS"], variables, token)
        result: dict[str, Any] = body["data"]["paymentMethodProcessTokenization"]
        return result if result["result"] == "SUCCESSFULLY_TOKENIZED" else None

    saved = await eventually(tokenized, what="SUCCESSFULLY_TOKENIZED")
    assert saved["errors"] == []
    # Saleor sends the app its raw id and prefixes whatever id the app answers with.
    assert {
        d["id"] for d in deliveries(double, SyncEvent.PAYMENT_METHOD_PROCESS_TOKENIZATION_SESSION)
    } == {binding_id}
    method_id = saved["id"]
    assert method_id.startswith(PREFIX)
    assert method_id != answer["id"]

    listed = await graphql(double, STORED_IN_FULL, {"channel": "hk-web"}, token)
    me = listed["data"]["me"]
    assert me["id"] == double.customer.id
    [method] = me["storedPaymentMethods"]
    assert method["id"] == method_id
    assert method["paymentMethodId"] == method_id.removeprefix(PREFIX)
    assert method["gateway"] == {"id": GATEWAY, "name": "Alipay", "currencies": ["HKD"]}
    assert method["supportedPaymentFlows"] == ["INTERACTIVE"]
    assert method["creditCardInfo"] is None
    assert method["data"]["wallet"] == "ALIPAY_HK"
    # The widget's own list query, in another channel: a separate list (nothing saved there).
    other = await graphql(double, WIDGET["STORED_METHODS"], {"channel": "id-web"}, token)
    assert other["data"]["me"]["storedPaymentMethods"] == []

    removed = await graphql(
        double, WIDGET["STORED_DELETE"], {"id": method_id, "channel": "hk-web"}, token
    )
    assert removed["data"]["storedPaymentMethodRequestDelete"] == {
        "result": "SUCCESSFULLY_DELETED",
        "errors": [],
    }
    [asked] = deliveries(double, SyncEvent.STORED_PAYMENT_METHOD_DELETE_REQUESTED)
    assert asked["paymentMethodId"] == method["paymentMethodId"]
    listed = await graphql(double, WIDGET["STORED_METHODS"], {"channel": "hk-web"}, token)
    assert listed["data"]["me"]["storedPaymentMethods"] == []
    assert double.refused_answers == []


async def test_only_a_logged_in_customer(stack: Stack) -> None:
    double = stack.saleor
    hk = {"gateway": GATEWAY, "channel": "hk-web"}
    for token in (None, double.installed_app.token, "not-a-token"):
        body = await graphql(double, WIDGET["STORED_METHODS"], {"channel": "hk-web"}, token)
        assert body == {"data": {"me": None}}
        for name, variables in (
            ("TOKENIZATION_GATEWAY", hk),
            ("TOKENIZATION_INITIALIZE", hk),
            ("TOKENIZATION_PROCESS", {"id": PREFIX + "bind_x", "channel": "hk-web"}),
            ("STORED_DELETE", {"id": PREFIX + "agr_x", "channel": "hk-web"}),
        ):
            body = await graphql(double, WIDGET[name], variables, token)
            assert list(body["data"].values()) == [None], name
            assert "AUTHENTICATED_USER" in body["errors"][0]["message"]
    assert double.deliveries == []


async def test_saleor_s_own_checks_send_no_webhook(stack: Stack) -> None:
    double = stack.saleor
    double.channels.append(Channel(global_id("Channel", 3), "closed", "Closed", "HKD", False))
    token = double.customer_token()

    async def call(name: str, **variables: Any) -> dict[str, Any]:
        body = await graphql(double, WIDGET[name], variables, token)
        [result] = body["data"].values()
        assert isinstance(result, dict)
        return result

    for slug, code in (("nowhere", "NOT_FOUND"), ("closed", "CHANNEL_INACTIVE")):
        for result in (
            await call("TOKENIZATION_GATEWAY", gateway=GATEWAY, channel=slug),
            await call("TOKENIZATION_INITIALIZE", gateway=GATEWAY, channel=slug),
            await call("TOKENIZATION_PROCESS", id=PREFIX + "bind_x", channel=slug),
            await call("STORED_DELETE", id=PREFIX + "agr_x", channel=slug),
        ):
            assert result["result"] == "FAILED_TO_DELIVER"
            assert [e["code"] for e in result["errors"]] == [code]
    # An unknown gateway, or a raw id without `app:<identifier>:`: nothing to deliver to.
    for result in (
        await call("TOKENIZATION_GATEWAY", gateway="someone.else", channel="hk-web"),
        await call("TOKENIZATION_INITIALIZE", gateway="someone.else", channel="hk-web"),
        await call("TOKENIZATION_PROCESS", id="bind_x", channel="hk-web"),
        await call("STORED_DELETE", id="agr_x", channel="hk-web"),
        await call("STORED_DELETE", id="app:someone.else:agr_x", channel="hk-web"),
    ):
        assert result["result"] == "FAILED_TO_DELIVER"
        [error] = result["errors"]
        assert error["code"] == "GATEWAY_ERROR"
        assert error["message"].endswith("failed to deliver.")
    body = await graphql(double, WIDGET["STORED_METHODS"], {"channel": "nowhere"}, token)
    assert body["data"] == {"me": {"storedPaymentMethods": None}}
    assert double.deliveries == []


async def test_the_app_s_refusals_come_back_as_gateway_errors(stack: Stack) -> None:
    double = stack.saleor
    token = double.customer_token()
    # id-web is not configured in the app.
    body = await graphql(
        double, WIDGET["TOKENIZATION_GATEWAY"], {"gateway": GATEWAY, "channel": "id-web"}, token
    )
    result = body["data"]["paymentGatewayInitializeTokenization"]
    assert result["result"] == "FAILED_TO_INITIALIZE"
    [error] = result["errors"]
    assert error["code"] == "GATEWAY_ERROR"
    assert error["message"] == NotConfigured("id-web").shopper_message
    # A method that is not the customer's: the app refuses, Saleor passes its words on.
    body = await graphql(
        double, WIDGET["STORED_DELETE"], {"id": PREFIX + "agr_x", "channel": "hk-web"}, token
    )
    result = body["data"]["storedPaymentMethodRequestDelete"]
    assert result["result"] == "FAILED_TO_DELETE"
    [error] = result["errors"]
    assert error["code"] == "GATEWAY_ERROR"
    assert error["message"]
    assert double.refused_answers == []


# -- an app that answers badly -------------------------------------------------------------


def answering(answers: dict[str, Callable[[], Response]]) -> Starlette:
    async def endpoint(request: Request) -> Response:
        return answers[request.url.path]()

    # Every path: the test sets the answers after the app started.
    return Starlette(routes=[Route("/{path:path}", endpoint, methods=["POST"])])


@pytest.fixture
async def bad_app() -> AsyncIterator[tuple[SaleorDouble, dict[str, Callable[[], Response]]]]:
    double = SaleorDouble()
    answers: dict[str, Callable[[], Response]] = {}
    async with double.serve():
        app = double.create_app()
        app.is_installed = True
        async with serve_in_loop(answering(answers)) as served:
            double.app_url = served.url
            yield double, answers


async def test_answers_saleor_refuses(
    bad_app: tuple[SaleorDouble, dict[str, Callable[[], Response]]],
) -> None:
    double, answers = bad_app
    token = double.customer_token()
    hk = {"gateway": GATEWAY, "channel": "hk-web"}
    path = SyncEvent.PAYMENT_METHOD_INITIALIZE_TOKENIZATION_SESSION.path
    # No `id` with ADDITIONAL_ACTION_REQUIRED: FAILED_TO_TOKENIZE, with why.
    answers[path] = lambda: JSONResponse({"result": "ADDITIONAL_ACTION_REQUIRED", "data": {}})
    body = await graphql(double, WIDGET["TOKENIZATION_INITIALIZE"], hk, token)
    result = body["data"]["paymentMethodInitializeTokenization"]
    assert result["result"] == "FAILED_TO_TOKENIZE"
    assert result["id"] is None
    assert result["errors"][0]["code"] == "GATEWAY_ERROR"
    assert len(double.refused_answers) == 1
    # No answer (HTTP 500, or not JSON): FAILED_TO_DELIVER.
    for failure in (
        lambda: PlainTextResponse("boom", status_code=500),
        lambda: PlainTextResponse("not json"),
    ):
        answers[path] = failure
        body = await graphql(double, WIDGET["TOKENIZATION_INITIALIZE"], hk, token)
        result = body["data"]["paymentMethodInitializeTokenization"]
        assert result["result"] == "FAILED_TO_DELIVER"
        assert result["errors"][0]["message"] == "Failed to delivery request."
    # PENDING needs no id and is no error.
    answers[path] = lambda: JSONResponse({"result": "PENDING", "data": {"status": "WAIT"}})
    body = await graphql(double, WIDGET["TOKENIZATION_INITIALIZE"], hk, token)
    assert body["data"]["paymentMethodInitializeTokenization"] == {
        "result": "PENDING",
        "id": None,
        "data": {"status": "WAIT"},
        "errors": [],
    }

    # The list: an invalid method is skipped, the valid ones are kept.
    answers[SyncEvent.LIST_STORED_PAYMENT_METHODS.path] = lambda: JSONResponse(
        {
            "paymentMethods": [
                {"id": "agr_1", "type": "alipay_agreement", "name": "AlipayHK"},
                {"id": "agr_2", "type": "x", "supportedPaymentFlows": ["NON_INTERACTIVE"]},
                {"type": "no id"},
            ]
        }
    )
    body = await graphql(double, STORED_IN_FULL, {"channel": "hk-web"}, token)
    [method] = body["data"]["me"]["storedPaymentMethods"]
    assert method["id"] == PREFIX + "agr_1"
    assert method["paymentMethodId"] == "agr_1"
    assert method["supportedPaymentFlows"] is None

    # A delete answer of another shape: FAILED_TO_DELETE.
    answers[SyncEvent.STORED_PAYMENT_METHOD_DELETE_REQUESTED.path] = lambda: JSONResponse(
        {"result": "DELETED"}
    )
    body = await graphql(
        double, WIDGET["STORED_DELETE"], {"id": PREFIX + "agr_1", "channel": "hk-web"}, token
    )
    result = body["data"]["storedPaymentMethodRequestDelete"]
    assert result["result"] == "FAILED_TO_DELETE"
    assert result["errors"][0]["code"] == "GATEWAY_ERROR"
