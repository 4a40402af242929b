"""The Saleor test double itself: it must behave like Saleor, or tests built on it prove nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import jwt
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from saleor_alipay_app.saleor.documents import load_document
from saleor_alipay_app.saleor.events import SyncEvent
from tests.support.saleor_double import (
    SALEOR_VERSION,
    SaleorDouble,
    SaleorDoubleError,
    assert_payload_matches_document,
    decimal_number,
    from_global_id,
    npm_range_satisfied,
    parse_npm_range,
    rsa_thumbprint,
    saleor_json,
    validate_manifest,
    validate_response,
)
from tests.support.servers import RunningServer, serve_in_loop

REPORT = "mutations/transaction_event_report.graphql"


def _b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _public_key(jwk: dict[str, Any]) -> rsa.RSAPublicKey:
    n = int.from_bytes(_b64url_decode(jwk["n"]), "big")
    e = int.from_bytes(_b64url_decode(jwk["e"]), "big")
    return rsa.RSAPublicNumbers(e, n).public_key()


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A stand-in for our app: records what Saleor sends and answers as told."""

    requests: list[Received] = field(default_factory=list)
    status_code: int = 200
    answer: Any = field(default_factory=lambda: {"success": True})
    manifest: dict[str, Any] = field(default_factory=dict)
    double: SaleorDouble | None = None
    handshake: dict[str, Any] = field(default_factory=dict)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        self.requests.append(
            Received(request.method, request.url.path, dict(request.headers), body)
        )
        if request.url.path == "/manifest":
            return JSONResponse(self.manifest)
        if request.url.path == "/moved":
            return RedirectResponse("/manifest", status_code=302)
        if request.url.path == "/register" and self.double is not None:
            # What our token handler does: verify the token by asking for our app id, and
            # fetch the keys from the origin of Saleor-Api-Url.
            token = json.loads(body)["auth_token"]
            api_url = request.headers["saleor-api-url"]
            async with httpx.AsyncClient() as client:
                answer = await client.post(
                    api_url,
                    json={"query": load_document("queries/app_id.graphql")},
                    headers={"Authorization": f"Bearer {token}"},
                )
                jwks = await client.get(api_url.removesuffix("graphql/") + ".well-known/jwks.json")
            self.handshake = {"app": answer.json(), "jwks": jwks.json()}
        if isinstance(self.answer, bytes):
            return Response(self.answer, status_code=self.status_code)
        return JSONResponse(self.answer, status_code=self.status_code)

    def asgi(self) -> Starlette:
        return Starlette(
            routes=[Route("/{path:path}", self.handle, methods=["GET", "POST"])],
        )


@pytest.fixture
async def double() -> AsyncIterator[SaleorDouble]:
    saleor = SaleorDouble()
    async with saleor.serve():
        yield saleor


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, RunningServer]]:
    app = Receiver()
    async with serve_in_loop(app.asgi()) as server:
        yield app, server


async def _graphql(
    double: SaleorDouble,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    request_headers = dict(headers or {})
    if token is not None:
        request_headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables or {}}, default=str)
    async with httpx.AsyncClient() as client:
        return await client.post(
            double.api_url,
            content=body,
            headers={"Content-Type": "application/json", **request_headers},
        )


def _data(response: httpx.Response) -> Any:
    return json.loads(response.content, parse_float=Decimal)


# -- keys, JWKS and signatures ------------------------------------------------------------------


def test_rfc7638_thumbprint_example() -> None:
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
        "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
        "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f"
        "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    )
    assert rsa_thumbprint(n, "AQAB") == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


async def test_jwks_is_served_like_saleor(double: SaleorDouble) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(double.jwks_url)
        missing = await client.get(f"{double.base_url}/graphql/.well-known/jwks.json")
    assert response.status_code == 200
    assert missing.status_code in (404, 405)
    (key,) = response.json()["keys"]
    assert list(key) == ["kty", "key_ops", "n", "e", "use", "kid", "alg"]
    assert key["kty"] == "RSA"
    assert key["key_ops"] == ["verify"]
    assert key["use"] == "sig"
    assert key["alg"] == "RS256"
    assert key["kid"] == rsa_thumbprint(key["n"], key["e"])
    assert _public_key(key).key_size == 2048
    assert double.jwks_fetches == 1


async def test_rotation_replaces_the_published_key(double: SaleorDouble) -> None:
    before = double.jwks()["keys"][0]
    double.rotate_key()
    after = double.jwks()["keys"][0]
    assert after["kid"] != before["kid"]
    assert len(double.jwks()["keys"]) == 1
    signature = double.sign(b"{}")
    header = json.loads(_b64url_decode(signature.split(".")[0]))
    assert header["kid"] == after["kid"]
    async with httpx.AsyncClient() as client:
        published = (await client.get(double.jwks_url)).json()
    assert [k["kid"] for k in published["keys"]] == [after["kid"]]
    assert double.jwks_fetches == 1


def test_signature_is_saleors_detached_jws() -> None:
    double = SaleorDouble()
    body = saleor_json({"version": SALEOR_VERSION, "amount": Decimal("123.45")})
    signature = double.sign(body)
    header_b64, middle, signature_b64 = signature.split(".")
    assert middle == ""
    expected = '{"alg":"RS256","b64":false,"crit":["b64"],"kid":"' + double.kid + '","typ":"JWT"}'
    assert _b64url_decode(header_b64) == expected.encode()
    jwk = double.jwks()["keys"][0]

    # §3.3's construction, with cryptography only
    key = _public_key(jwk)
    signing_input = header_b64.encode() + b"." + body
    key.verify(_b64url_decode(signature_b64), signing_input, padding.PKCS1v15(), hashes.SHA256())
    # ... and PyJWT with a detached payload
    decoded = jwt.api_jws.decode_complete(
        signature, jwt.PyJWK(jwk).key, algorithms=["RS256"], detached_payload=body
    )
    assert decoded["header"]["kid"] == double.kid

    tampered = body.replace(b"123.45", b"123.46")
    assert len(tampered) == len(body)
    with pytest.raises(InvalidSignature):
        key.verify(
            _b64url_decode(signature_b64),
            header_b64.encode() + b"." + tampered,
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.api_jws.decode_complete(
            signature, jwt.PyJWK(jwk).key, algorithms=["RS256"], detached_payload=tampered
        )
    rotated = SaleorDouble()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.api_jws.decode_complete(
            signature,
            jwt.PyJWK(rotated.jwks()["keys"][0]).key,
            algorithms=["RS256"],
            detached_payload=body,
        )


def test_saleor_json_writes_amounts_as_numbers() -> None:
    assert decimal_number(Decimal("199.00")) == "199.0"
    assert decimal_number(Decimal("123.450")) == "123.45"
    assert decimal_number(Decimal("20")) == "20.0"
    assert decimal_number(Decimal("0.10")) == "0.1"
    assert decimal_number(Decimal("150000")) == "150000.0"
    assert decimal_number(Decimal("1E+2")) == "100.0"
    body = saleor_json({"amount": Decimal("123.45"), "name": "支付宝", "items": [None, True, 3]})
    assert body == b'{"amount": 123.45, "name": "\\u652f\\u4ed8\\u5b9d", "items": [null, true, 3]}'
    assert json.loads(body, parse_float=Decimal)["amount"] == Decimal("123.45")
    with pytest.raises(TypeError):
        saleor_json({"amount": 1.5})
    with pytest.raises(ValueError):
        decimal_number(Decimal("NaN"))


# -- deliveries --------------------------------------------------------------------------------


async def test_deliver_sends_saleors_headers_and_signed_body(
    double: SaleorDouble, receiver: tuple[Receiver, RunningServer]
) -> None:
    app, server = receiver
    double.create_app()
    event = SyncEvent.TRANSACTION_INITIALIZE_SESSION
    payload = double.payload(event, amount=Decimal("199.00"))
    response = await double.deliver(server.url + event.path, event, payload)
    assert response.status_code == 200
    (request,) = app.requests
    assert request.path == "/api/webhooks/transaction-initialize-session"
    headers = request.headers
    assert headers["content-type"] == "application/json"
    assert headers["saleor-event"] == "transaction_initialize_session"
    assert headers["x-saleor-event"] == headers["saleor-event"]
    assert headers["saleor-domain"] == double.domain
    assert headers["x-saleor-domain"] == double.domain
    assert headers["saleor-api-url"] == double.api_url
    assert headers["saleor-signature"] == headers["x-saleor-signature"]
    assert headers["user-agent"] == "Saleor/3.24"
    assert headers["traceparent"].startswith("00-")
    assert "saleor-schema-version" not in headers
    assert request.body == saleor_json(payload)
    assert b'"amount": 199.0' in request.body
    jwt.api_jws.decode_complete(
        headers["saleor-signature"],
        jwt.PyJWK(double.jwks()["keys"][0]).key,
        algorithms=["RS256"],
        detached_payload=request.body,
    )
    received = json.loads(request.body, parse_float=Decimal)
    assert received["action"]["amount"] == Decimal("199.0")
    assert_payload_matches_document(event, received)
    assert double.deliveries[-1].status_code == 200
    assert double.deliveries[-1].body == request.body


async def test_deliver_can_forge_and_drop_headers(
    double: SaleorDouble, receiver: tuple[Receiver, RunningServer]
) -> None:
    app, server = receiver
    double.create_app()
    event = SyncEvent.LIST_STORED_PAYMENT_METHODS
    await double.deliver(
        server.url + event.path,
        event,
        b'{"not": "signed"}',
        signature="forged..signature",
        headers={"Saleor-Api-Url": None, "X-Extra": "1"},
    )
    (request,) = app.requests
    assert request.body == b'{"not": "signed"}'
    assert request.headers["saleor-signature"] == "forged..signature"
    assert "saleor-api-url" not in request.headers
    assert request.headers["x-extra"] == "1"


# -- GraphQL -------------------------------------------------------------------------------------


async def test_app_id_answers_the_calling_app(double: SaleorDouble) -> None:
    app = double.create_app()
    query = load_document("queries/app_id.graphql")
    response = await _graphql(double, query, token=app.token)
    assert response.status_code == 200
    assert response.json() == {"data": {"app": {"id": app.id}}}
    (call,) = double.calls
    assert call.operation_name == "AppId"
    assert call.token == app.token
    assert call.query == query
    # Saleor's other accepted header forms
    for headers in ({"Authorization": f"JWT {app.token}"}, {"Authorization-Bearer": app.token}):
        answer = await _graphql(double, query, headers=headers)
        assert answer.json() == {"data": {"app": {"id": app.id}}}
    assert double.invalid_documents == []


@pytest.mark.parametrize("token", [None, "not-a-token-saleor-issued-00000"])
async def test_app_id_without_a_valid_token_is_refused(
    double: SaleorDouble, token: str | None
) -> None:
    double.create_app()
    response = await _graphql(double, load_document("queries/app_id.graphql"), token=token)
    body = response.json()
    assert body["data"] == {"app": None}
    (error,) = body["errors"]
    assert error["extensions"]["exception"]["code"] == "PermissionDenied"
    assert error["path"] == ["app"]


async def test_app_id_is_null_for_an_inactive_app(double: SaleorDouble) -> None:
    app = double.create_app(active=False)
    response = await _graphql(double, load_document("queries/app_id.graphql"), token=app.token)
    assert response.json()["data"] == {"app": None}
    double.remove_app(app.id)
    response = await _graphql(double, load_document("queries/app_id.graphql"), token=app.token)
    assert response.json()["data"] == {"app": None}


async def test_channels_query(double: SaleorDouble) -> None:
    app = double.create_app()
    response = await _graphql(double, load_document("queries/channels.graphql"), token=app.token)
    channels = response.json()["data"]["channels"]
    assert [c["slug"] for c in channels] == ["hk-web", "id-web"]
    assert channels[0]["currencyCode"] == "HKD"
    assert channels[0]["isActive"] is True


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ app { id nope } }", "Cannot query field 'nope' on type 'App'"),
        ("{ app { id }", "Syntax Error"),
        ("query A { app { id } } query B { app { id } }", "Must provide a valid operation name"),
        ("subscription { event { issuedAt } }", "not allowed over HTTP"),
        (
            "mutation { transactionEventReport(pspReference: 1, type: NOPE) { alreadyProcessed } }",
            "Value 'NOPE' does not exist in 'TransactionEventTypeEnum' enum",
        ),
    ],
)
async def test_invalid_documents_are_rejected_and_recorded(
    double: SaleorDouble, query: str, message: str
) -> None:
    app = double.create_app()
    response = await _graphql(double, query, token=app.token)
    assert response.status_code == 400
    assert "data" not in response.json()
    assert any(message in e["message"] for e in response.json()["errors"])
    (invalid,) = double.invalid_documents
    assert invalid.query == query
    assert any(message in e for e in invalid.errors)


async def test_invalid_variables_are_rejected_and_recorded(double: SaleorDouble) -> None:
    app = double.create_app()
    variables = {"id": "x", "pspReference": "p", "type": "charge_success"}
    response = await _graphql(double, load_document(REPORT), variables, token=app.token)
    assert response.status_code == 400
    assert "charge_success" in response.json()["errors"][0]["message"]
    assert len(double.invalid_documents) == 1


async def test_unanswered_fields_are_errors_not_inventions(double: SaleorDouble) -> None:
    app = double.create_app()
    response = await _graphql(
        double, "{ orders(first: 1) { edges { node { id } } } }", token=app.token
    )
    body = response.json()
    assert body["data"] == {"orders": None}
    assert "does not answer Query.orders" in body["errors"][0]["message"]
    response = await _graphql(double, "{ app { id aboutApp } }", token=app.token)
    assert "has no value for App.aboutApp" in response.json()["errors"][0]["message"]
    assert double.invalid_documents == []


async def test_failure_modes(double: SaleorDouble) -> None:
    app = double.create_app()
    query = load_document("queries/app_id.graphql")
    double.fail_graphql = "http_500"
    response = await _graphql(double, query, token=app.token)
    assert response.status_code == 500
    double.fail_graphql = "timeout"
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=0.3)) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.post(
                double.api_url,
                json={"query": query},
                headers={"Authorization": f"Bearer {app.token}"},
            )
    double.fail_graphql = None
    response = await _graphql(double, query, token=app.token)
    assert response.json() == {"data": {"app": {"id": app.id}}}
    assert [c.status_code for c in double.calls] == [500, 504, 200]


# -- transactionEventReport ---------------------------------------------------------------------


async def _report(
    double: SaleorDouble, token: str, transaction_id: str, **variables: Any
) -> dict[str, Any]:
    response = await _graphql(
        double, load_document(REPORT), {"id": transaction_id, **variables}, token=token
    )
    assert response.status_code == 200, response.text
    body = _data(response)
    assert "errors" not in body, body
    report: dict[str, Any] = body["data"]["transactionEventReport"]
    return report


async def test_transaction_event_report_idempotency(double: SaleorDouble) -> None:
    app = double.create_app()
    payload = double.payload(SyncEvent.TRANSACTION_INITIALIZE_SESSION)
    transaction_id = payload["transaction"]["id"]
    assert payload["merchantReference"] == transaction_id
    assert transaction_id in double.transactions

    charge = {"pspReference": "2026082119000000001", "type": "CHARGE_SUCCESS"}
    first = await _report(
        double, app.token, transaction_id, amount="123.45", availableActions=["REFUND"], **charge
    )
    assert first["alreadyProcessed"] is False
    assert first["errors"] == []
    event = first["transactionEvent"]
    assert event["type"] == "CHARGE_SUCCESS"
    assert event["pspReference"] == charge["pspReference"]
    assert event["amount"] == {"amount": Decimal("123.45"), "currency": "HKD"}
    assert from_global_id(event["id"])[0] == "TransactionEvent"

    again = await _report(double, app.token, transaction_id, amount="123.450", **charge)
    assert again["alreadyProcessed"] is True
    assert again["transactionEvent"]["id"] == event["id"]

    other_amount = await _report(double, app.token, transaction_id, amount="100.00", **charge)
    assert other_amount["errors"] == [
        {
            "field": "pspReference",
            "code": "INCORRECT_DETAILS",
            "message": "The transaction with provided `pspReference` and `type` already exists "
            "with different amount.",
        }
    ]
    assert other_amount["transactionEvent"] is None
    assert len(double.transaction_events[transaction_id]) == 1
    transaction = double.transactions[transaction_id]
    assert transaction.psp_reference == charge["pspReference"]
    assert transaction.actions == ["REFUND"]


async def test_a_report_names_the_transaction_and_its_payment_method(
    double: SaleorDouble,
) -> None:
    """The app's two report documents: the name through `transactionUpdate` (no event), the
    payment method only in the 3.22 form; an older Saleor refuses what it does not know."""
    app = double.create_app()
    payload = double.payload(SyncEvent.TRANSACTION_INITIALIZE_SESSION)
    transaction_id = payload["transaction"]["id"]
    variables = {
        "id": transaction_id,
        "pspReference": "p-1",
        "type": "CHARGE_SUCCESS",
        "amount": "123.45",
        "named": True,
        "transactionName": "Alipay+ AlipayHK",
        "paymentMethodDetails": {"other": {"name": "AlipayHK 852****4567"}},
    }
    details = load_document("mutations/transaction_event_report_details.graphql")
    double.version = "3.21.5"
    refused = await _graphql(double, details, variables, token=app.token)
    assert refused.status_code == 400
    messages = " ".join(e["message"] for e in refused.json()["errors"])
    assert "PaymentMethodDetailsInput (added in Saleor 3.22)" in messages
    assert double.transactions[transaction_id].name == ""

    double.version = "3.22.0"
    response = await _graphql(double, details, variables, token=app.token)
    data = _data(response)["data"]
    assert data["transactionEventReport"]["errors"] == []
    assert data["transactionUpdate"] == {"errors": []}
    transaction = double.transactions[transaction_id]
    assert transaction.name == "Alipay+ AlipayHK"
    assert transaction.payment_method_details == {"type": "OTHER", "name": "AlipayHK 852****4567"}
    assert [e.type for e in double.transaction_events[transaction_id]] == ["CHARGE_SUCCESS"]

    # Not named: `transactionUpdate` is left out of the answer, and the name stays.
    plain = {k: v for k, v in variables.items() if k not in ("named", "paymentMethodDetails")}
    response = await _graphql(double, load_document(REPORT), plain, token=app.token)
    assert "transactionUpdate" not in _data(response)["data"]
    other = double.create_app()
    refused = await _graphql(
        double, load_document(REPORT), variables | {"named": True}, token=other.token
    )
    assert "errors" in refused.json()


async def test_transaction_event_report_amount_rules(double: SaleorDouble) -> None:
    app = double.create_app()
    payload = double.payload(SyncEvent.TRANSACTION_REFUND_REQUESTED)
    transaction_id = payload["transaction"]["id"]

    missing = await _report(
        double, app.token, transaction_id, pspReference="r1", type="REFUND_SUCCESS"
    )
    assert missing["errors"][0]["code"] == "REQUIRED"
    assert missing["errors"][0]["field"] == "amount"

    underived = await _report(
        double, app.token, transaction_id, pspReference="r1", type="REFUND_FAILURE"
    )
    assert underived["errors"][0]["code"] == "REQUIRED"

    requested = await _report(
        double, app.token, transaction_id, pspReference="r1", type="REFUND_REQUEST", amount=20.004
    )
    assert requested["transactionEvent"]["amount"]["amount"] == Decimal("20.0")
    derived = await _report(
        double, app.token, transaction_id, pspReference="r1", type="REFUND_FAILURE"
    )
    assert derived["transactionEvent"]["amount"]["amount"] == Decimal("20.0")

    info = [
        await _report(double, app.token, transaction_id, pspReference="i", type="INFO", message="m")
        for _ in range(2)
    ]
    assert [i["alreadyProcessed"] for i in info] == [False, False]
    assert info[0]["transactionEvent"]["amount"]["amount"] == Decimal(0)
    assert info[0]["transactionEvent"]["id"] != info[1]["transactionEvent"]["id"]

    authorized = await _report(
        double,
        app.token,
        transaction_id,
        pspReference="a1",
        type="AUTHORIZATION_SUCCESS",
        amount="5",
    )
    assert authorized["errors"] == []
    second = await _report(
        double,
        app.token,
        transaction_id,
        pspReference="a2",
        type="AUTHORIZATION_SUCCESS",
        amount="5",
    )
    assert second["errors"][0]["code"] == "ALREADY_EXISTS"


async def test_transaction_event_report_quantizes_to_the_currency(double: SaleorDouble) -> None:
    app = double.create_app()
    payload = double.payload(SyncEvent.TRANSACTION_INITIALIZE_SESSION, channel_slug="id-web")
    transaction_id = payload["transaction"]["id"]
    assert payload["action"]["currency"] == "IDR"
    report = await _report(
        double,
        app.token,
        transaction_id,
        pspReference="p",
        type="CHARGE_REQUEST",
        amount="150000.005",
    )
    assert report["transactionEvent"]["amount"] == {
        "amount": Decimal("150000.01"),
        "currency": "IDR",
    }


async def test_transaction_event_report_permissions(double: SaleorDouble) -> None:
    owner = double.create_app()
    stranger = double.create_app(identifier="another-app")
    payload = double.payload(SyncEvent.TRANSACTION_INITIALIZE_SESSION, app=owner)
    variables = {"id": payload["transaction"]["id"], "pspReference": "p", "type": "INFO"}
    for token in (stranger.token, None):
        response = await _graphql(double, load_document(REPORT), variables, token=token)
        body = response.json()
        assert body["data"] == {"transactionEventReport": None}
        assert "OWNER, HANDLE_PAYMENTS" in body["errors"][0]["message"]
        assert body["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"
    unknown = await _report(
        double, owner.token, "VHJhbnNhY3Rpb25JdGVtOm5vcGU=", pspReference="p", type="INFO"
    )
    assert unknown["errors"][0]["code"] == "NOT_FOUND"
    assert unknown["errors"][0]["field"] == "id"
    assert double.transaction_events[payload["transaction"]["id"]] == []


# -- installation and manifest ---------------------------------------------------------------------


async def test_install_runs_the_token_handshake(
    double: SaleorDouble, receiver: tuple[Receiver, RunningServer]
) -> None:
    app, server = receiver
    app.double = double
    response = await double.install(server.url + "/register")
    assert response.status_code == 200
    (request,) = app.requests
    installed = double.installed_app
    assert request.method == "POST"
    assert json.loads(request.body) == {"auth_token": installed.token}
    assert len(installed.token) == 30
    headers = request.headers
    assert headers["content-type"] == "application/json"
    assert headers["saleor-domain"] == double.domain
    assert headers["x-saleor-domain"] == double.domain
    assert headers["saleor-api-url"] == double.api_url
    assert headers["saleor-schema-version"] == "3.24"
    assert headers["user-agent"] == "Saleor/3.24"
    assert app.handshake["app"] == {"data": {"app": {"id": installed.id}}}
    assert app.handshake["jwks"] == double.jwks()
    assert installed.is_installed
    assert double.failed_installations == []
    assert double.calls[-1].token == installed.token


async def test_install_of_an_inactive_app(
    double: SaleorDouble, receiver: tuple[Receiver, RunningServer]
) -> None:
    app, server = receiver
    app.double = double
    await double.install(server.url + "/register", app_id="QXBwOjQy", active=False)
    assert app.handshake["app"]["data"] == {"app": None}
    assert double.apps["QXBwOjQy"].is_active is False


@pytest.mark.parametrize(
    ("status_code", "answer", "message"),
    [
        (403, {"error": {"message": "Saleor URL not allowed"}}, "Saleor URL not allowed"),
        (500, b"<html>oops</html>", "App internal error (500)"),
    ],
)
async def test_failed_install_deletes_the_app(
    double: SaleorDouble,
    receiver: tuple[Receiver, RunningServer],
    status_code: int,
    answer: Any,
    message: str,
) -> None:
    app, server = receiver
    app.status_code, app.answer = status_code, answer
    response = await double.install(server.url + "/register")
    assert response.status_code == status_code
    assert double.apps == {}
    assert double.failed_installations == [message]
    with pytest.raises(SaleorDoubleError):
        _ = double.installed_app


async def test_install_against_nothing_fails_to_connect(double: SaleorDouble) -> None:
    from tests.support.servers import free_port

    with pytest.raises(httpx.ConnectError):
        await double.install(f"http://127.0.0.1:{free_port()}/register")
    assert double.apps == {}
    assert double.failed_installations == ["Failed to connect to app"]


def our_manifest(base: str) -> dict[str, Any]:
    """The manifest of APP-PROTOCOL.md §1.5, with every webhook from our documents."""
    return {
        "id": "example.antom-autodebit",
        "name": "Antom Auto Debit",
        "version": "0.1.0",
        "about": "Alipay+/Antom agreement payments for Saleor",
        "author": "Example Team",
        "permissions": ["HANDLE_PAYMENTS"],
        "appUrl": f"{base}/dashboard",
        "tokenTargetUrl": f"{base}/api/register",
        "homepageUrl": base,
        "supportUrl": f"{base}/support",
        "dataPrivacyUrl": f"{base}/privacy",
        "requiredSaleorVersion": ">=3.21 <4",
        "brand": {"logo": {"default": f"{base}/static/logo.png"}},
        "extensions": [],
        "webhooks": [
            {
                "name": event.webhook_name,
                "targetUrl": base + event.path,
                "isActive": True,
                "syncEvents": [event.value],
                "query": load_document(event.document),
            }
            for event in SyncEvent
        ],
    }


async def test_fetch_manifest_like_saleor(
    double: SaleorDouble, receiver: tuple[Receiver, RunningServer]
) -> None:
    app, server = receiver
    app.manifest = our_manifest("https://pay-app.example.com")
    manifest = await double.fetch_manifest(server.url + "/manifest")
    assert manifest == app.manifest
    (request,) = app.requests
    assert request.method == "GET"
    assert request.headers["saleor-schema-version"] == "3.24"
    assert request.headers["user-agent"] == "Saleor/3.24"
    assert double.validate_manifest(manifest) == []
    with pytest.raises(SaleorDoubleError, match="HTTP 302"):
        await double.fetch_manifest(server.url + "/moved")
    assert len(app.requests) == 2  # the redirect was not followed


def _webhook(manifest: dict[str, Any], event: SyncEvent) -> dict[str, Any]:
    hook: dict[str, Any] = next(w for w in manifest["webhooks"] if w["syncEvents"] == [event.value])
    return hook


def _break(change: str, manifest: dict[str, Any]) -> None:
    tis = _webhook(manifest, SyncEvent.TRANSACTION_INITIALIZE_SESSION)
    match change:
        case "no-token-target":
            del manifest["tokenTargetUrl"]
        case "manage-apps":
            manifest["permissions"] = ["HANDLE_PAYMENTS", "MANAGE_APPS"]
        case "unknown-permission":
            manifest["permissions"] = ["HANDLE_PAYMENT"]
        case "empty-author":
            manifest["author"] = "   "
        case "too-new-range":
            manifest["requiredSaleorVersion"] = ">=3.22"
        case "bad-range":
            manifest["requiredSaleorVersion"] = ">=three"
        case "relative-url":
            manifest["appUrl"] = "/dashboard"
        case "png-logo":
            manifest["brand"] = {"logo": {"default": "https://x.example.com/logo.svg"}}
        case "bad-field":
            tis["query"] = tis["query"].replace("merchantReference", "merchantRef")
        case "two-roots":
            tis["query"] = (
                "subscription { event { ... on TransactionInitializeSession { version } }"
                " other: event { issuedAt } }"
            )
        case "not-event-root":
            tis["query"] = "subscription { draftOrderCreated { issuedAt } }"
        case "query-not-subscription":
            tis["query"] = "query { app { id } }"
        case "no-event-type":
            tis["query"] = "subscription { event { issuedAt } }"
        case "unknown-sync-event":
            tis["syncEvents"] = ["STORED_PAYMENT_METHOD_REQUEST_DELETE"]
        case "event-not-selected":
            tis["syncEvents"] = ["TRANSACTION_PROCESS_SESSION"]
        case "newer-field":
            tis["query"] = tis["query"].replace(
                "pspReference", "pspReference paymentMethodDetails { name }", 1
            )
        case "missing-query":
            del tis["query"]
        case "relative-target":
            tis["targetUrl"] = "/api/webhooks/x"
        case "unknown-async-event":
            tis["asyncEvents"] = ["ORDER_EXPLODED"]
        case "custom-header":
            tis["customHeaders"] = {"Cookie": "a=b"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no-token-target", "tokenTargetUrl: required"),
        ("manage-apps", "MANAGE_APPS is out of scope"),
        ("unknown-permission", "unknown permission 'HANDLE_PAYMENT'"),
        ("empty-author", "author: must not be empty"),
        ("too-new-range", "excludes 3.21.0"),
        ("bad-range", "invalid range"),
        ("relative-url", "appUrl: must be an absolute http(s) URL"),
        ("png-logo", "must be a PNG"),
        ("bad-field", "Cannot query field 'merchantRef'"),
        ("two-roots", "must select only one top level field"),
        ("not-event-root", "exactly one root field, `event`"),
        ("query-not-subscription", "exactly one subscription operation"),
        ("no-event-type", "no event type is reachable"),
        ("unknown-sync-event", "Invalid synchronous event"),
        ("event-not-selected", "is listed but its type is not selected"),
        ("newer-field", "TransactionItem.paymentMethodDetails (added in Saleor 3.22)"),
        ("missing-query", "query: required"),
        ("relative-target", "targetUrl: must be an absolute http(s) URL"),
        ("unknown-async-event", "Invalid asynchronous event"),
        ("custom-header", "'Cookie' is not allowed"),
    ],
)
def test_validate_manifest_finds_problems(change: str, message: str) -> None:
    manifest = our_manifest("https://pay-app.example.com")
    _break(change, manifest)
    errors = validate_manifest(manifest)
    assert any(message in e for e in errors), errors


@pytest.mark.parametrize(
    ("spec", "version", "satisfied"),
    [
        (">=3.21 <4", "3.21.0", True),
        (">=3.21 <4", "3.24.0-a.0", True),
        (">=3.21 <4", "3.20.9", False),
        (">=3.21 <4", "4.0.0", False),
        (">=3.21 <4", "4.0.0-rc.1", False),
        (">= 3.21 < 4", "3.23.28", True),
        ("^3.21", "3.99.0", True),
        ("^3.21", "4.0.0", False),
        ("^0.2.3", "0.2.9", True),
        ("^0.2.3", "0.3.0", False),
        ("~3.21", "3.21.9", True),
        ("~3.21", "3.22.0", False),
        ("3.x", "3.0.0", True),
        ("3.x", "4.0.0", False),
        ("3.21", "3.21.5", True),
        ("*", "3.24.0-a.0", True),
        (">3.21", "3.21.5", False),
        (">3.21", "3.22.0", True),
        ("<=3.21", "3.21.9", True),
        ("<=3.21", "3.22.0", False),
        ("3.20 - 3.22", "3.22.7", True),
        ("3.20 - 3.22", "3.23.0", False),
        ("3.20.1 - 3.22.0", "3.20.0", False),
        ("<3.21 || >=3.23", "3.24.0-a.0", True),
        ("<3.21 || >=3.23", "3.22.0", False),
        (">=3.24", "3.24.0-a.0", False),  # a prerelease comes before its release
        (">=3.24.0-a.0", "3.24.0-a.0", True),
        ("=3.21.0", "3.21.0", True),
        ("=3.21.0", "3.21.1", False),
    ],
)
def test_npm_ranges(spec: str, version: str, satisfied: bool) -> None:
    assert npm_range_satisfied(spec, version) is satisfied


@pytest.mark.parametrize("spec", ["", ">=three", "3..1", ">=3.21 <", "~>"])
def test_npm_range_rejects_malformed(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_npm_range(spec)


# -- payloads ------------------------------------------------------------------------------------


@pytest.mark.parametrize("event", list(SyncEvent))
async def test_payloads_match_the_documents_after_the_wire(
    double: SaleorDouble, receiver: tuple[Receiver, RunningServer], event: SyncEvent
) -> None:
    app, server = receiver
    app.double = double
    await double.install(server.url + "/register")
    installed = double.installed_app
    payload = double.payload(event)
    assert payload["recipient"] == {"id": installed.id}
    assert payload["version"] == SALEOR_VERSION
    assert payload["__typename"] == event.type_name
    await double.deliver(server.url + event.path, event, payload)
    received = json.loads(app.requests[-1].body, parse_float=Decimal)
    assert received == payload
    assert_payload_matches_document(event, received)


def test_payload_ids_and_amounts_are_saleor_like() -> None:
    double = SaleorDouble()
    double.create_app()
    session = double.payload(SyncEvent.TRANSACTION_INITIALIZE_SESSION, source="order")
    assert from_global_id(session["transaction"]["id"]) == (
        "TransactionItem",
        session["transaction"]["token"],
    )
    assert session["transaction"]["pspReference"] == ""
    assert session["sourceObject"]["__typename"] == "Order"
    assert from_global_id(session["sourceObject"]["id"])[0] == "Order"
    assert session["action"] == {
        "amount": Decimal("123.45"),
        "currency": "HKD",
        "actionType": "CHARGE",
    }
    assert session["issuingPrincipal"] == {"__typename": "User", "id": double.customer.id}
    refund = double.payload(SyncEvent.TRANSACTION_REFUND_REQUESTED, amount=Decimal("20.00"))
    assert refund["issuingPrincipal"] is None
    assert refund["grantedRefund"] == {"id": "T3JkZXJHcmFudGVkUmVmdW5kOk5vbmU="}
    assert refund["transaction"]["chargedAmount"] == {"amount": Decimal("20.00"), "currency": "HKD"}
    guest = double.payload(SyncEvent.PAYMENT_GATEWAY_INITIALIZE_SESSION, guest=True)
    assert guest["sourceObject"]["user"] is None
    assert guest["issuingPrincipal"] is None
    repeat = double.payload(
        SyncEvent.TRANSACTION_PROCESS_SESSION,
        transaction={"id": session["transaction"]["id"]},
        data={"poll": True},
    )
    assert repeat["transaction"] == session["transaction"]
    assert repeat["data"] == {"poll": True}
    assert "idempotencyKey" not in repeat
    tokenization = double.payload(
        SyncEvent.PAYMENT_METHOD_PROCESS_TOKENIZATION_SESSION, id="bind-1", channel_slug="id-web"
    )
    assert tokenization["id"] == "bind-1"
    assert tokenization["channel"]["currencyCode"] == "IDR"


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"extra": 1}, "$.extra: not selected"),
        ({"transaction": {"paymentMethodDetails": None}}, "$.transaction.paymentMethodDetails"),
        ({"action": {"actionType": "charge"}}, "'charge' is not a TransactionFlowStrategyEnum"),
        ({"merchantReference": None}, "$.merchantReference: must not be null"),
        ({"issuedAt": "2026-08-21T09:12:03"}, "is not a valid DateTime"),
        ({"transaction": {"token": "nope"}}, "is not a valid UUID"),
        ({"sourceObject": {"__typename": "User"}}, "'User' is not a OrderOrCheckout"),
        (
            {"sourceObject": {"userEmail": "x@example.com"}},
            "$.sourceObject.userEmail: not selected",
        ),
    ],
)
def test_payload_check_catches_drift(overrides: dict[str, Any], problem: str) -> None:
    double = SaleorDouble()
    double.create_app()
    event = SyncEvent.TRANSACTION_INITIALIZE_SESSION
    payload = double.payload(event, check=False, **overrides)
    with pytest.raises(AssertionError, match="does not match its document") as failure:
        double.assert_payload_matches_document(event, payload)
    assert problem in str(failure.value)


def test_payload_check_catches_missing_keys_and_floats() -> None:
    double = SaleorDouble()
    double.create_app()
    event = SyncEvent.TRANSACTION_CHARGE_REQUESTED
    payload = double.payload(event)
    del payload["transaction"]["chargedAmount"]
    payload["action"]["amount"] = 1.5
    with pytest.raises(AssertionError) as failure:
        assert_payload_matches_document(event, payload)
    assert "$.transaction.chargedAmount: selected but missing" in str(failure.value)
    assert "$.action.amount: 1.5 is not a valid PositiveDecimal" in str(failure.value)


def test_payloads_need_an_app() -> None:
    with pytest.raises(SaleorDoubleError, match="create or install an app"):
        SaleorDouble().payload(SyncEvent.LIST_STORED_PAYMENT_METHODS)


# -- dashboard tokens ----------------------------------------------------------------------------


async def test_dashboard_token(double: SaleorDouble) -> None:
    app = double.create_app(permissions=["HANDLE_PAYMENTS"])
    token = double.dashboard_token(
        user_permissions=["MANAGE_APPS", "HANDLE_PAYMENTS"], email="admin@example.com"
    )
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "kid": double.kid, "typ": "JWT"}
    claims = jwt.decode(
        token, jwt.PyJWK(double.jwks()["keys"][0]).key, algorithms=["RS256"], issuer=double.api_url
    )
    assert claims["app"] == app.id
    assert claims["owner"] == "saleor"
    assert claims["type"] == "thirdparty"
    assert claims["email"] == "admin@example.com"
    assert claims["is_staff"] is True
    assert claims["user_permissions"] == ["MANAGE_APPS", "HANDLE_PAYMENTS"]
    assert claims["permissions"] == ["HANDLE_PAYMENTS"]
    assert claims["exp"] - claims["iat"] == 300
    expired = double.dashboard_token(user_permissions=[], exp_seconds=-10)
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(expired, jwt.PyJWK(double.jwks()["keys"][0]).key, algorithms=["RS256"])
    aimed = double.dashboard_token(user_permissions=[], app_id="QXBwOjk5", audience="ours")
    claims = jwt.decode(
        aimed, jwt.PyJWK(double.jwks()["keys"][0]).key, algorithms=["RS256"], audience="ours"
    )
    assert claims["app"] == "QXBwOjk5"
    assert claims["permissions"] == []


# -- webhook responses -----------------------------------------------------------------------------

VALID_RESPONSES: list[tuple[SyncEvent, dict[str, Any]]] = [
    (SyncEvent.PAYMENT_GATEWAY_INITIALIZE_SESSION, {"data": None}),
    (SyncEvent.PAYMENT_GATEWAY_INITIALIZE_SESSION, {"data": {"hasAgreement": True}}),
    (
        SyncEvent.TRANSACTION_INITIALIZE_SESSION,
        {
            "result": "CHARGE_ACTION_REQUIRED",
            "pspReference": "2026082119000000001",
            "amount": Decimal("199.00"),
            "actions": ["CANCEL"],
            "data": {"qrCodeUrl": "https://qr.example.net/abc"},
        },
    ),
    (
        SyncEvent.TRANSACTION_INITIALIZE_SESSION,
        {
            "result": "CHARGE_SUCCESS",
            "pspReference": "p2",
            "amount": "199.00",
            "time": "2026-08-21T09:12:03+00:00",
            "externalUrl": "https://merchant.example.net/payments/p2",
        },
    ),
    (SyncEvent.TRANSACTION_PROCESS_SESSION, {"result": "CHARGE_FAILURE", "message": "declined"}),
    (SyncEvent.TRANSACTION_PROCESS_SESSION, {"result": "CANCEL_SUCCESS"}),
    (SyncEvent.TRANSACTION_PROCESS_SESSION, {"result": "CHARGE_REQUEST", "pspReference": "p"}),
    (SyncEvent.TRANSACTION_CHARGE_REQUESTED, {"result": "CHARGE_SUCCESS", "pspReference": "p"}),
    (SyncEvent.TRANSACTION_CHARGE_REQUESTED, {"pspReference": "p"}),
    (SyncEvent.TRANSACTION_REFUND_REQUESTED, {"pspReference": "rf_1", "actions": ["REFUND"]}),
    (SyncEvent.TRANSACTION_REFUND_REQUESTED, {"result": "REFUND_FAILURE", "message": "no"}),
    (
        SyncEvent.TRANSACTION_CANCELATION_REQUESTED,
        {"result": "CANCEL_SUCCESS", "pspReference": "c"},
    ),
    (
        SyncEvent.LIST_STORED_PAYMENT_METHODS,
        {
            "paymentMethods": [
                {
                    "id": "agr_8812",
                    "type": "alipay_agreement",
                    "supportedPaymentFlows": ["INTERACTIVE"],
                    "name": "Alipay ****8812",
                    "data": {"agreementStatus": "VALID"},
                }
            ]
        },
    ),
    (SyncEvent.STORED_PAYMENT_METHOD_DELETE_REQUESTED, {"result": "SUCCESSFULLY_DELETED"}),
    (
        SyncEvent.STORED_PAYMENT_METHOD_DELETE_REQUESTED,
        {"result": "FAILED_TO_DELETE", "error": "Agreement is already terminated"},
    ),
    (
        SyncEvent.PAYMENT_GATEWAY_INITIALIZE_TOKENIZATION_SESSION,
        {"result": "SUCCESSFULLY_INITIALIZED", "data": {"supportedWallets": ["ALIPAY_HK"]}},
    ),
    (
        SyncEvent.PAYMENT_METHOD_INITIALIZE_TOKENIZATION_SESSION,
        {"result": "ADDITIONAL_ACTION_REQUIRED", "id": "bind_77", "data": {"qr": "x"}},
    ),
    (SyncEvent.PAYMENT_METHOD_PROCESS_TOKENIZATION_SESSION, {"result": "PENDING"}),
    (
        SyncEvent.PAYMENT_METHOD_PROCESS_TOKENIZATION_SESSION,
        {"result": "FAILED_TO_TOKENIZE", "error": "User cancelled authorization"},
    ),
]

INVALID_RESPONSES: list[tuple[SyncEvent, Any]] = [
    (SyncEvent.PAYMENT_GATEWAY_INITIALIZE_SESSION, {}),
    (SyncEvent.TRANSACTION_INITIALIZE_SESSION, {"result": "charge_success", "pspReference": "p"}),
    (SyncEvent.TRANSACTION_INITIALIZE_SESSION, {"result": "CHARGE_SUCCESS"}),
    (SyncEvent.TRANSACTION_INITIALIZE_SESSION, {"result": "CHARGE_SUCCESS", "pspReference": 7}),
    (SyncEvent.TRANSACTION_INITIALIZE_SESSION, {"result": "CHARGE_FAILURE", "externalUrl": ""}),
    (SyncEvent.TRANSACTION_INITIALIZE_SESSION, {"result": "CHARGE_FAILURE", "pspReference": None}),
    (
        SyncEvent.TRANSACTION_INITIALIZE_SESSION,
        {"result": "CHARGE_FAILURE", "time": "2026-08-21T09:12:03"},
    ),
    (SyncEvent.TRANSACTION_PROCESS_SESSION, {"pspReference": "p"}),
    (SyncEvent.TRANSACTION_CHARGE_REQUESTED, {"result": "CHARGE_REQUEST", "pspReference": "p"}),
    (SyncEvent.TRANSACTION_CHARGE_REQUESTED, {"result": "charge_success", "pspReference": "p"}),
    (SyncEvent.TRANSACTION_REFUND_REQUESTED, {"result": "REFUND_SUCCESS"}),
    (SyncEvent.TRANSACTION_REFUND_REQUESTED, {"actions": ["REFUND"]}),
    (SyncEvent.LIST_STORED_PAYMENT_METHODS, {"paymentMethods": [{"id": "a"}]}),
    (SyncEvent.STORED_PAYMENT_METHOD_DELETE_REQUESTED, {"result": "DELETED"}),
    (
        SyncEvent.PAYMENT_GATEWAY_INITIALIZE_TOKENIZATION_SESSION,
        {"result": "SUCCESSFULLY_TOKENIZED", "id": "x"},
    ),
    (
        SyncEvent.PAYMENT_METHOD_INITIALIZE_TOKENIZATION_SESSION,
        {"result": "SUCCESSFULLY_INITIALIZED"},
    ),
    (SyncEvent.PAYMENT_METHOD_PROCESS_TOKENIZATION_SESSION, {"result": "SUCCESSFULLY_TOKENIZED"}),
    (SyncEvent.PAYMENT_METHOD_PROCESS_TOKENIZATION_SESSION, ["not", "an", "object"]),
]


@pytest.mark.parametrize(("event", "body"), VALID_RESPONSES)
def test_valid_responses_pass(event: SyncEvent, body: dict[str, Any]) -> None:
    validate_response(event, body)


@pytest.mark.parametrize(("event", "body"), INVALID_RESPONSES)
def test_invalid_responses_fail(event: SyncEvent, body: Any) -> None:
    with pytest.raises(AssertionError, match=str(event)):
        validate_response(event, body)


def test_session_cancel_success_needs_saleor_3_23() -> None:
    body = {"result": "CANCEL_SUCCESS", "pspReference": "p"}
    validate_response(SyncEvent.TRANSACTION_INITIALIZE_SESSION, body, saleor_version=(3, 23))
    with pytest.raises(AssertionError, match=r"needs Saleor 3\.23"):
        validate_response(SyncEvent.TRANSACTION_INITIALIZE_SESSION, body, saleor_version=(3, 21))
