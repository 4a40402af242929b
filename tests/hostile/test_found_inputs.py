"""The inputs the hostile-input tests found breaking a door, kept as plain tests (issue 11).

Each was a 500 (or an undeclared answer); each is now a declared refusal that stores nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from saleor_alipay_app.antom.signing import now_request_time, sign, signature_header
from saleor_alipay_app.payments.models import Notification
from tests.conftest import POSTGRES, create_postgres_database, drop_postgres_database
from tests.hostile.harness import hostile_settings
from tests.support.stack import CLIENT_ID, Stack, app_rows, post_antom_notification, started_stack

DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_AND_SMALL = b"[" * 4900 + b"]" * 4900  # under the registration body's 10,000 bytes
HUGE_INTEGER = b'{"auth_token": ' + b"1" * 5000 + b"}"
BEYOND_BIGINT = "9223372036854775808"


pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """One stack for the module: every request here is refused and changes nothing."""
    tmp = tmp_path_factory.mktemp("found")
    plain_url = await create_postgres_database() if POSTGRES else ""
    url = (
        plain_url.replace("postgresql://", "postgresql+asyncpg://", 1)
        if POSTGRES
        else f"sqlite+aiosqlite:///{tmp / 'app.db'}"
    )
    try:
        async with started_stack(hostile_settings(url), tmp) as running:
            yield running
    finally:
        if POSTGRES:
            await drop_postgres_database(plain_url)


def staff_headers(stack: Stack) -> dict[str, str]:
    token = stack.saleor.dashboard_token(user_permissions=["HANDLE_PAYMENTS", "MANAGE_APPS"])
    return {"Authorization": f"Bearer {token}", "Saleor-Api-Url": stack.saleor.api_url}


def refused(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text[:300]
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("kind", ["authorization", "payment", "refund"])
async def test_a_signed_notification_nested_too_deep_is_refused(stack: Stack, kind: str) -> None:
    """`json.loads`' RecursionError escaped as a 500."""
    response = await post_antom_notification(stack, kind, DEEP)
    assert refused(response)["result"]["resultStatus"] == "F"
    assert await app_rows(stack, Notification) == []


@pytest.mark.parametrize("body", [DEEP_AND_SMALL, HUGE_INTEGER], ids=["nested", "huge-integer"])
async def test_a_registration_body_that_is_no_json_is_refused(stack: Stack, body: bytes) -> None:
    """RecursionError and the 4,300-digit ValueError were no JSONDecodeError: a 500."""
    response = await stack.http.post(
        stack.url("/api/register"),
        content=body,
        headers={"Content-Type": "application/json", "Saleor-Api-Url": stack.saleor.api_url},
    )
    assert refused(response)["error"]["code"] == "INVALID_BODY"


async def test_a_declaration_body_nested_too_deep_is_refused(stack: Stack) -> None:
    response = await stack.http.post(
        stack.url("/api/admin/payments/anything/declarations"),
        content=DEEP,
        headers={**staff_headers(stack), "Content-Type": "application/json"},
    )
    assert refused(response)["error"]["code"] == "INVALID_JSON"


@pytest.mark.parametrize(
    "path",
    [
        f"/api/admin/declarations/{BEYOND_BIGINT}",
        f"/api/admin/declarations/-{BEYOND_BIGINT}",
        "/api/admin/declarations/2147483648",
        f"/api/admin/payments?offset={BEYOND_BIGINT}",
        f"/api/admin/agreements?offset={BEYOND_BIGINT}",
        f"/api/admin/refunds?offset={BEYOND_BIGINT}",
        f"/api/admin/declarations?offset={BEYOND_BIGINT}",
        f"/api/admin/reconciliation/days?offset={BEYOND_BIGINT}",
    ],
)
async def test_numbers_past_the_database_columns_are_refused(stack: Stack, path: str) -> None:
    """The driver's OverflowError (an id or offset over 2**63 - 1 on SQLite; over the int4
    column on PostgreSQL) escaped as a 500."""
    response = await stack.http.get(stack.url(path), headers=staff_headers(stack))
    assert refused(response)["error"]["code"] == "INVALID_INPUT"


@pytest.mark.parametrize("method", ["POST /inquire", "POST /redeclare"])
async def test_declaration_actions_beyond_the_id_column_are_refused(
    stack: Stack, method: str
) -> None:
    verb, action = method.split(" ")
    response = await stack.http.request(
        verb,
        stack.url(f"/api/admin/declarations/{BEYOND_BIGINT}{action}"),
        headers=staff_headers(stack),
        json={},
    )
    assert refused(response)["error"]["code"] == "INVALID_INPUT"


async def _antom_call(stack: Stack, path: str, body: bytes) -> httpx.Response:
    request_time = now_request_time()
    value = sign(stack.merchant_key, path=path, client_id=CLIENT_ID, request_time=request_time,
                 body=body)  # fmt: skip
    headers = {
        "Content-Type": "application/json; charset=UTF-8",
        "client-id": CLIENT_ID,
        "request-time": request_time,
        "signature": signature_header(value),
    }
    return await stack.http.post(stack.sandbox.url + path, content=body, headers=headers)


@pytest.mark.parametrize("body", [DEEP, b'{"paymentRequestId": ' + b"9" * 5000 + b"}"])
async def test_the_sandbox_refuses_signed_bodies_that_are_no_json(
    stack: Stack, body: bytes
) -> None:
    """The sandbox's `parse_body` let RecursionError and the 4,300-digit ValueError out."""
    response = await _antom_call(stack, "/ams/api/v1/payments/pay", body)
    assert response.status_code == 200, response.text[:300]
    assert response.json()["result"]["resultCode"] == "PARAM_ILLEGAL"


async def test_a_sandbox_api_path_with_a_line_break_is_no_interface(stack: Stack) -> None:
    """The `{endpoint:path}` route does not take a line break: FastAPI's 404 answered instead
    of Antom's result."""
    response = await _antom_call(stack, "/ams/api/v1/%0A0", b"{}")
    assert response.status_code == 200, response.text[:300]
    assert response.json()["result"]["resultCode"] == "NO_INTERFACE_DEF"


@pytest.mark.parametrize(
    "api_url",
    [
        "http://[::1/graphql/",
        "http://127.0.0.1:99999/graphql/",
        "http://127.0.0.1:0/graphql/",
        "http://127.0.0.1:abc/graphql/",
    ],
)
async def test_a_saleor_api_url_that_is_no_url_is_refused(stack: Stack, api_url: str) -> None:
    """`urlsplit` raised ValueError (a 500) for `[::1`; a port out of range matched the allowed
    pattern and made the app try to call it."""
    response = await stack.http.post(
        stack.url("/api/register"),
        json={"auth_token": "anything"},
        headers={"Saleor-Api-Url": api_url},
    )
    assert refused(response)["error"]["code"] == "INVALID_SALEOR_API_URL"


async def test_an_admin_body_that_is_no_utf8_gets_the_error_shape(stack: Stack) -> None:
    """FastAPI's own 400 (`{"detail": "There was an error parsing the body"}`)."""
    response = await stack.http.put(
        stack.url("/api/admin/channels/hk-web/configuration"),
        content=b'{"clientId": "\x80"}',  # not UTF-8: FastAPI's reader fails, not JSON's
        headers={**staff_headers(stack), "Content-Type": "application/json"},
    )
    assert refused(response)["error"]["code"] == "INVALID_REQUEST"


async def test_an_unknown_admin_path_gets_the_error_shape(stack: Stack) -> None:
    response = await stack.http.get(
        stack.url("/api/admin/payments/a%2Fb/more"), headers=staff_headers(stack)
    )
    assert refused(response, 404)["error"]["code"] == "NOT_FOUND"


async def test_a_sandbox_control_body_with_nan_is_a_422(stack: Stack) -> None:
    """The sandbox's 422 echoed the input, and `NaN` cannot be written as JSON: a 500."""
    response = await stack.http.post(
        stack.sandbox.url + "/sandbox/api/scenario",
        content=b'{"scenario": NaN, "calls": ["pay"], "x": Infinity}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text[:300]
    assert response.json()["detail"]


@pytest.mark.parametrize("token", ["\b", "tök", "a\tb", "x" * 300])
async def test_an_auth_token_that_cannot_be_sent_is_refused(stack: Stack, token: str) -> None:
    """The token goes into our call to Saleor's API: building that request failed (a 500)."""
    response = await stack.http.post(
        stack.url("/api/register"),
        json={"auth_token": token},
        headers={"Saleor-Api-Url": stack.saleor.api_url},
    )
    assert refused(response)["error"]["code"] == "INVALID_AUTH_TOKEN"


async def test_a_saleor_api_url_with_fullwidth_digits_is_refused(stack: Stack) -> None:
    """Python reads `:８０` as port 80, so it matched the allowed pattern; httpx then failed."""
    response = await stack.http.post(
        stack.url("/api/register"),
        json={"auth_token": "anything"},
        headers={"Saleor-Api-Url": "http://127.0.0.1:８０/graphql/".encode()},
    )
    assert refused(response)["error"]["code"] == "INVALID_SALEOR_API_URL"


async def test_a_signed_call_to_the_bare_api_prefix_is_no_interface(stack: Stack) -> None:
    """`/ams/api/v1/.` reaches the sandbox as `/ams/api/v1/`: it was redirected (307)."""
    response = await _antom_call(stack, "/ams/api/v1/", b"{}")
    assert response.status_code == 200, response.text[:300]
    assert response.json()["result"]["resultCode"] == "NO_INTERFACE_DEF"


@pytest.mark.parametrize(
    "shifts",
    [[{"advanceSeconds": 1e308}], [{"offsetSeconds": 3e9}, {"advanceSeconds": 3e9}]],
    ids=["huge", "adding-up"],
)
async def test_the_sandbox_clock_stays_within_a_century(
    stack: Stack, shifts: list[dict[str, float]]
) -> None:
    """Advances added up past datetime's range: every later call was a 500."""
    url = stack.sandbox.url + "/sandbox/api/clock"
    try:
        for shift in shifts[:-1]:
            assert (await stack.http.post(url, json=shift)).status_code == 200
        response = await stack.http.post(url, json=shifts[-1])
        assert response.status_code == 422, response.text[:300]
        assert (await stack.http.get(url)).status_code == 200
    finally:
        await stack.http.post(url, json={"offsetSeconds": 0})
