"""Who may use the admin API: the dashboard's token is verified against the installation's
Saleor (signature through its JWKS, issuer, expiry, app) and the staff member's permissions are
read from it. Expired, forged, other-installation and under-privileged tokens are refused, and
one installation never sees another's data."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import jwt

from saleor_alipay_app.agreements.models import Agreement, AgreementStatus
from tests.support.saleor_double import SaleorDouble, global_id
from tests.support.stack import Stack, app_rows, cached_key, qr_purchase

from .conftest import admin, staff_headers


def forged(stack: Stack, *, key: Any = None, kid: str | None = None, **claims: Any) -> str:
    """A token shaped like the dashboard's, signed with ``key`` (another key by default)."""
    now = int(time.time())
    body: dict[str, Any] = {
        "iat": now,
        "exp": now + 300,
        "iss": stack.saleor.api_url,
        "owner": "saleor",
        "type": "thirdparty",
        "token": "x",
        "email": "mallory@example.com",
        "user_id": global_id("User", 666),
        "is_staff": True,
        "app": stack.saleor.installed_app.id,
        "permissions": ["HANDLE_PAYMENTS"],
        "user_permissions": ["HANDLE_PAYMENTS", "MANAGE_APPS"],
    }
    body.update(claims)
    return jwt.encode(
        body,
        key if key is not None else cached_key("forger"),
        algorithm="RS256",
        headers={"kid": kid if kid is not None else stack.saleor.kid},
    )


def bearer(stack: Stack, token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Saleor-Api-Url": stack.saleor.api_url}


async def refused(
    stack: Stack, headers: dict[str, str], status: int, path: str = "/payments"
) -> Any:
    body = await admin(stack, "GET", path, headers=headers, expect=status)
    assert body["success"] is False
    return body["error"]


async def test_valid_tokens_pass_and_bad_ones_are_refused(stack: Stack) -> None:
    assert (await admin(stack, "GET", "/payments"))["total"] == 0
    # The dashboard's other header forms work too.
    token = stack.saleor.dashboard_token(user_permissions=["HANDLE_PAYMENTS"])
    for headers in (
        {"Authorization": f"JWT {token}"},
        {"Authorization-Bearer": token},
    ):
        headers["Saleor-Api-Url"] = stack.saleor.api_url
        assert (await admin(stack, "GET", "/payments", headers=headers))["total"] == 0

    expired = staff_headers(stack, exp_seconds=-60)
    error = await refused(stack, expired, 401)
    assert error == {
        "code": "TOKEN_EXPIRED",
        "message": "the dashboard session expired: reload the page",
    }

    # Same kid as Saleor's key, signed with another key: the signature fails.
    error = await refused(stack, bearer(stack, forged(stack)), 401)
    assert error["code"] == "INVALID_TOKEN"
    assert "Signature verification failed" in error["message"]
    # An unknown kid makes the app refetch Saleor's keys once, then refuse.
    fetches = stack.saleor.jwks_fetches
    error = await refused(stack, bearer(stack, forged(stack, kid="not-saleors")), 401)
    assert error == {"code": "INVALID_TOKEN", "message": "token signed with an unknown key"}
    assert stack.saleor.jwks_fetches == fetches + 1

    # Saleor's own key, but claims that do not fit this installation.
    saleor_key = stack.saleor._private_key
    other_app = forged(stack, key=saleor_key, app=global_id("App", 999))
    error = await refused(stack, bearer(stack, other_app), 401)
    assert error == {"code": "INVALID_TOKEN", "message": "token was not issued for this app"}
    other_issuer = forged(stack, key=saleor_key, iss="https://elsewhere.example.com/graphql/")
    error = await refused(stack, bearer(stack, other_issuer), 401)
    assert error == {"code": "INVALID_TOKEN", "message": "token issued by another Saleor"}
    user_token = forged(stack, key=saleor_key, type="access")
    assert (await refused(stack, bearer(stack, user_token), 401))["code"] == "INVALID_TOKEN"
    hs256 = jwt.encode({"iss": stack.saleor.api_url}, "secret-secret-secret-secret-32by")
    error = await refused(stack, bearer(stack, hs256), 401)
    assert error["message"] == "token algorithm must be RS256"

    assert (await refused(stack, {"Saleor-Api-Url": stack.saleor.api_url}, 401))[
        "code"
    ] == "MISSING_TOKEN"
    assert (await refused(stack, bearer(stack, "not.a.jwt"), 401))["code"] == "INVALID_TOKEN"
    no_url = {"Authorization": f"Bearer {token}"}
    assert (await refused(stack, no_url, 400))["code"] == "MISSING_SALEOR_API_URL"
    unknown = {"Authorization": f"Bearer {token}", "Saleor-Api-Url": "http://127.0.0.1:1/graphql/"}
    assert (await refused(stack, unknown, 401))["code"] == "UNKNOWN_INSTALLATION"


async def test_permissions_come_from_the_verified_token(stack: Stack) -> None:
    await qr_purchase(stack, Decimal("10.00"))
    [agreement] = (await admin(stack, "GET", "/agreements"))["items"]
    nobody = staff_headers(stack, [])
    only_apps = staff_headers(stack, ["MANAGE_APPS"])
    for headers in (nobody, only_apps):
        for path in ("/payments", "/agreements", "/channels", "/refunds", "/me"):
            error = await refused(stack, headers, 403, path)
            assert error == {
                "code": "PERMISSION_DENIED",
                "message": "you need the HANDLE_PAYMENTS permission(s) in Saleor for this",
            }
        body = await admin(
            stack, "POST", f"/agreements/{agreement['id']}/revoke", headers=headers, expect=403
        )
        assert body["error"]["code"] == "PERMISSION_DENIED"
    [row] = await app_rows(stack, Agreement)
    assert row.status is AgreementStatus.ACTIVE

    payments_only = staff_headers(stack, ["HANDLE_PAYMENTS"])
    body = await admin(
        stack,
        "PUT",
        "/channels/hk-web/configuration",
        headers=payments_only,
        json={"clientId": "SANDBOX_X", "wallets": ["ALIPAY_HK"]},
        expect=403,
    )
    assert body["error"] == {
        "code": "PERMISSION_DENIED",
        "message": "you need the MANAGE_APPS permission(s) in Saleor for this",
    }
    # The `permissions` claim (the user's permissions the app also has) is not what counts:
    # a staff member with MANAGE_APPS may configure although the app lacks that permission.
    full = staff_headers(stack)
    assert (await admin(stack, "GET", "/me", headers=full))["canConfigure"] is True


async def test_another_installation_sees_none_of_this_installations_data(stack: Stack) -> None:
    transaction_id, psp = await qr_purchase(stack, Decimal("42.00"))
    [agreement] = (await admin(stack, "GET", "/agreements"))["items"]
    other = SaleorDouble()
    async with other.serve():
        response = await other.install(stack.url("/api/register"))
        assert response.status_code == 200, response.text
        token = other.dashboard_token(user_permissions=["HANDLE_PAYMENTS", "MANAGE_APPS"])
        theirs = {"Authorization": f"Bearer {token}", "Saleor-Api-Url": other.api_url}

        assert (await admin(stack, "GET", "/payments", headers=theirs))["total"] == 0
        assert (await admin(stack, "GET", "/agreements", headers=theirs))["total"] == 0
        assert (await admin(stack, "GET", "/refunds", headers=theirs))["total"] == 0
        by_q = await admin(stack, "GET", "/payments", headers=theirs, params={"q": psp})
        assert by_q["total"] == 0
        channels = await admin(stack, "GET", "/channels", headers=theirs)
        assert [c["configuration"] for c in channels["items"]] == [None, None]
        for method, path in (
            ("GET", f"/payments/{psp}"),
            ("POST", f"/payments/{psp}/inquire"),
            ("GET", f"/agreements/{agreement['id']}"),
            ("POST", f"/agreements/{agreement['id']}/revoke"),
        ):
            body = await admin(stack, method, path, headers=theirs, expect=404)
            assert body["error"]["code"] in {"PAYMENT_NOT_FOUND", "AGREEMENT_NOT_FOUND"}
        # Their token presented as ours: signed by another Saleor's key.
        as_ours = {"Authorization": f"Bearer {token}", "Saleor-Api-Url": stack.saleor.api_url}
        error = await refused(stack, as_ours, 401)
        assert error["code"] == "INVALID_TOKEN"
    [row] = await app_rows(stack, Agreement)
    assert row.status is AgreementStatus.ACTIVE
    assert (await admin(stack, "GET", f"/payments/{psp}"))["transactionId"] == transaction_id


async def test_requests_are_authenticated_before_their_body_is_read(stack: Stack) -> None:
    """A forged caller sending a malformed body learns only that it is not authenticated."""
    url = stack.url("/api/admin/channels/hk-web/configuration")
    for headers in (bearer(stack, forged(stack)), {"Saleor-Api-Url": stack.saleor.api_url}):
        response = await stack.http.put(
            url, content=b"{not json", headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status_code == 401, response.text
        assert response.json()["success"] is False
