"""Hostile calls to every admin API route, with a valid dashboard token: junk in the path,
the query and the body. Each answer is a declared refusal in the API's error shape that stores
nothing, or the route's answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from hypothesis import event as note
from hypothesis import given
from hypothesis import strategies as st

from saleor_alipay_app.admin import endpoints as admin_endpoints
from saleor_alipay_app.antom.keys import private_key_base64, public_key_base64
from saleor_alipay_app.customs import endpoints as customs_endpoints
from saleor_alipay_app.overview import endpoints as overview_endpoints
from saleor_alipay_app.reconciliation import endpoints as reconciliation_endpoints
from saleor_alipay_app.web import create_app
from tests.customs.conftest import add_cn_channel, cn_purchase, declaration_body
from tests.support.stack import CLIENT_ID, qr_purchase, stored_method_id

from .harness import Hostile, app_error_shape, examples, hostile_stack
from .mutations import hostile_body, query_junk

ADMIN_ROUTES = [
    route
    for router in (
        admin_endpoints.router,
        customs_endpoints.router,
        reconciliation_endpoints.router,
        overview_endpoints.router,
    )
    for route in router.routes
    if isinstance(route, APIRoute)
]
ROUTES: list[tuple[str, str]] = sorted(
    (method, route.path) for route in ADMIN_ROUTES for method in route.methods
)


def _route(method: str, path: str) -> APIRoute:
    return next(r for r in ADMIN_ROUTES if r.path == path and method in r.methods)


QUERY = {f"{m} {p}": [q.alias for q in _route(m, p).dependant.query_params] for m, p in ROUTES}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    async def prepare(h: Hostile) -> None:
        stack = h.stack
        _, psp = await qr_purchase(stack)
        await add_cn_channel(stack)
        _, cn_psp = await cn_purchase(stack)
        response = await stack.http.post(
            stack.url(f"/api/admin/payments/{cn_psp}/declarations"),
            json=declaration_body(),
            headers=headers(h),
        )
        assert response.status_code == 201, response.text
        method = await stored_method_id(stack)
        h.facts["path values"] = {
            "slug": ["hk-web", "cn-web", "id-web"],
            "agreement_id": [method],
            "payment_request_id": [psp, cn_psp],
            "declaration_id": [str(response.json()["id"]), "1"],
            "day": ["2024-01-01"],
        }
        config = {
            "clientId": CLIENT_ID,
            "merchantPrivateKey": private_key_base64(stack.merchant_key),
            "antomPublicKey": public_key_base64(stack.antom_key),
            "region": "custom",
            "baseUrl": stack.sandbox.url,
            "sandbox": True,
            "wallets": ["ALIPAY_HK"],
        }
        h.facts["bodies"] = {
            "/api/admin/channels/{slug}/configuration": config,
            "/api/admin/channels/{slug}/test-connection": config,
            "/api/admin/agreements/{agreement_id}/revoke": {"reason": "asked by the shopper"},
            "/api/admin/payments/{payment_request_id}/declarations": declaration_body("1.00"),
            "/api/admin/declarations/{declaration_id}/redeclare": {
                "amount": "60.00",
                "buyer": {"certificateNo": "11010119900307777X", "holderName": "Wang Fang"},
            },
        }

    with hostile_stack(tmp_path_factory.mktemp("admin"), prepare) as running:
        yield running


def headers(h: Hostile) -> dict[str, str]:
    token = h.stack.saleor.dashboard_token(user_permissions=["HANDLE_PAYMENTS", "MANAGE_APPS"])
    return {"Authorization": f"Bearer {token}", "Saleor-Api-Url": h.stack.saleor.api_url}


@examples(45)
@given(data=st.data())
def test_hostile_admin_calls(hostile: Hostile, data: st.DataObject) -> None:
    method, template = data.draw(st.sampled_from(ROUTES), label="route")
    path = template
    for name in _route(method, template).param_convertors:
        known = hostile.facts["path values"].get(name, [])
        value = data.draw(st.one_of(st.sampled_from(known or ["x"]), query_junk()), label=name)
        path = path.replace("{" + name + "}", quote(value, safe="") or "%20")
    names = QUERY[f"{method} {template}"]
    params = data.draw(
        st.dictionaries(
            st.one_of(st.sampled_from(names or ["q"]), st.text(max_size=10)),
            query_junk(),
            max_size=4,
        ),
        label="query",
    )
    body: bytes | None = None
    if method in ("POST", "PUT"):
        base = hostile.facts["bodies"].get(template, {})
        body = data.draw(st.one_of(st.just(b""), hostile_body(base)), label="body")

    async def send() -> Any:
        return await hostile.stack.http.request(
            method,
            hostile.stack.url(path),
            params=params,
            content=body,
            headers={**headers(hostile), "Content-Type": "application/json"},
        )

    async def exchange() -> Any:
        return await hostile.exchange(f"{method} {template}", send, error_shape=app_error_shape)

    response = hostile.run(exchange())
    note(f"{method} {template}: HTTP {response.status_code}")


def test_every_admin_route_is_a_door() -> None:
    """The app's OpenAPI lists no admin route these tests do not call."""
    documented = {
        (method.upper(), path)
        for path, operations in create_app().openapi()["paths"].items()
        if path.startswith("/api/admin")
        for method in operations
    }
    assert documented == set(ROUTES)
