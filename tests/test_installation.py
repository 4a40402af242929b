"""End to end over real HTTP: the Saleor double installs the app, fetches its manifest and sends
it signed, forged, tampered and misaddressed webhooks."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import text

from saleor_alipay_app.config import Settings
from saleor_alipay_app.db import create_engine
from saleor_alipay_app.saleor.events import SyncEvent
from saleor_alipay_app.web import create_app
from tests.support.saleor_double import SaleorDouble, saleor_json
from tests.support.servers import RunningServer, serve_in_loop


@dataclass
class Env:
    saleor: SaleorDouble
    app: RunningServer
    settings: Settings

    def url(self, path: str) -> str:
        return self.app.url + path


@pytest.fixture
async def saleor() -> AsyncIterator[SaleorDouble]:
    double = SaleorDouble()
    async with double.serve():
        yield double


@pytest.fixture
async def env(settings: Settings, saleor: SaleorDouble) -> AsyncIterator[Env]:
    async with serve_in_loop(create_app(settings)) as server:
        yield Env(saleor, server, settings)


async def _installed(env: Env) -> None:
    response = await env.saleor.install(env.url("/api/register"))
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}


async def test_manifest_is_accepted_by_saleor(env: Env) -> None:
    manifest = await env.saleor.fetch_manifest(env.url("/api/manifest"))
    assert env.saleor.validate_manifest(manifest) == []
    assert manifest["permissions"] == ["HANDLE_PAYMENTS"]
    assert manifest["tokenTargetUrl"] == env.url("/api/register")
    events = sorted(e for hook in manifest["webhooks"] for e in hook["syncEvents"])
    assert events == sorted(e.value for e in SyncEvent)
    for hook in manifest["webhooks"]:
        assert hook["targetUrl"].startswith(env.app.url + "/api/webhooks/")
        assert "recipient" in hook["query"]
        assert "issuedAt" in hook["query"]


async def test_app_url_setting_wins_over_the_request(settings: Settings) -> None:
    configured = settings.model_copy(update={"app_url": "https://pay.example.com"})
    async with serve_in_loop(create_app(configured)) as server, httpx.AsyncClient() as client:
        manifest = (await client.get(server.url + "/api/manifest")).json()
    assert manifest["appUrl"] == "https://pay.example.com/dashboard"
    assert all(h["targetUrl"].startswith("https://pay.example.com/") for h in manifest["webhooks"])


async def test_install_handshake_stores_the_installation(env: Env) -> None:
    await _installed(env)
    app = env.saleor.installed_app
    app_id_calls = [c for c in env.saleor.calls if "app" in c.query and c.token == app.token]
    assert app_id_calls, "the token was not verified against Saleor"
    assert env.saleor.jwks_fetches == 1
    assert env.saleor.invalid_documents == []
    engine = create_engine(env.settings)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text("SELECT saleor_api_url, app_id, app_token_encrypted FROM installation")
                )
            ).all()
    finally:
        await engine.dispose()
    assert len(rows) == 1
    api_url, app_id, stored_token = rows[0]
    assert (api_url, app_id) == (env.saleor.api_url, app.id)
    assert app.token not in stored_token
    assert stored_token.startswith("enc:v1:")


async def _post_register(env: Env, headers: dict[str, str], body: object) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(
            env.url("/api/register"), content=json.dumps(body).encode(), headers=headers
        )


def _error(response: httpx.Response) -> str:
    message = response.json()["error"]["message"]
    assert isinstance(message, str)
    assert message
    return message


async def test_install_refusals_say_what_to_do(env: Env) -> None:
    api = {"Saleor-Api-Url": env.saleor.api_url, "Content-Type": "application/json"}

    missing_url = await _post_register(env, {}, {"auth_token": "x"})
    assert missing_url.status_code == 400
    assert "Saleor-Api-Url" in _error(missing_url)

    no_token = await _post_register(env, api, {"token": "x"})
    assert no_token.status_code == 400
    assert "auth_token" in _error(no_token)

    bogus = await _post_register(env, api, {"auth_token": "not-a-token-saleor-issued"})
    assert bogus.status_code == 403
    assert "activat" in _error(bogus)

    inactive = await env.saleor.install(env.url("/api/register"), active=False)
    assert inactive.status_code == 403
    assert "activat" in _error(inactive)
    assert env.saleor.failed_installations == [_error(inactive)]

    env.saleor.fail_graphql = "http_500"
    unreachable = await env.saleor.install(env.url("/api/register"))
    env.saleor.fail_graphql = None
    assert unreachable.status_code == 502
    assert "retry" in _error(unreachable).lower()


async def test_saleor_outside_the_allowlist_is_refused(
    settings: Settings, saleor: SaleorDouble
) -> None:
    strict = settings.model_copy(
        update={"allowed_saleor_api_urls": "https://shop.example.com/graphql/"}
    )
    async with serve_in_loop(create_app(strict)) as server:
        response = await saleor.install(server.url + "/api/register")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "SALEOR_URL_PROHIBITED"
    assert "ALLOWED_SALEOR_API_URLS" in _error(response)
    assert saleor.calls == [], "a refused Saleor must not be called"


async def test_reinstall_replaces_the_old_record(env: Env) -> None:
    await _installed(env)
    first = env.saleor.installed_app
    env.saleor.remove_app(first.id)
    await _installed(env)
    second = env.saleor.installed_app
    assert second.id != first.id
    target = env.url(SyncEvent.LIST_STORED_PAYMENT_METHODS.path)
    stale = env.saleor.payload(SyncEvent.LIST_STORED_PAYMENT_METHODS, app=first)
    response = await env.saleor.deliver(target, SyncEvent.LIST_STORED_PAYMENT_METHODS, stale)
    assert response.status_code == 403
    fresh = env.saleor.payload(SyncEvent.LIST_STORED_PAYMENT_METHODS, app=second)
    response = await env.saleor.deliver(target, SyncEvent.LIST_STORED_PAYMENT_METHODS, fresh)
    assert response.status_code != 403


# -- webhooks ---------------------------------------------------------------------------------

EVENT = SyncEvent.TRANSACTION_INITIALIZE_SESSION


async def _deliver(env: Env, body: bytes, **kwargs: object) -> httpx.Response:
    return await env.saleor.deliver(env.url(EVENT.path), EVENT, body, **kwargs)  # type: ignore[arg-type]


def _body(env: Env) -> bytes:
    return saleor_json(env.saleor.payload(EVENT))


async def test_every_webhook_route_authenticates_before_anything_else(env: Env) -> None:
    """Unsigned deliveries are refused on every route."""
    await _installed(env)
    for event in SyncEvent:
        body = saleor_json(env.saleor.payload(event))
        response = await env.saleor.deliver(
            env.url(event.path),
            event,
            body,
            headers={"Saleor-Signature": None, "X-Saleor-Signature": None},
        )
        assert response.status_code == 401, (event, response.text)


async def test_a_signed_webhook_passes_authentication(env: Env) -> None:
    await _installed(env)
    response = await _deliver(env, _body(env))
    assert response.status_code not in {400, 401, 403}, response.text


async def test_forged_signature_is_refused(env: Env) -> None:
    await _installed(env)
    impostor = SaleorDouble()
    body = _body(env)
    response = await _deliver(env, body, signature=impostor.sign(body))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_SIGNATURE"


async def test_tampered_body_is_refused(env: Env) -> None:
    await _installed(env)
    body = _body(env)
    signature = env.saleor.sign(body)
    tampered = body.replace(b"123.45", b"1.45")
    assert tampered != body
    response = await _deliver(env, tampered, signature=signature)
    assert response.status_code == 401


async def test_unsigned_webhook_is_refused(env: Env) -> None:
    await _installed(env)
    response = await _deliver(
        env, _body(env), headers={"Saleor-Signature": None, "X-Saleor-Signature": None}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "MISSING_SIGNATURE"


async def test_wrong_algorithm_is_refused_without_refetching_keys(env: Env) -> None:
    await _installed(env)
    body = _body(env)
    header = {"alg": "HS256", "b64": False, "crit": ["b64"], "kid": env.saleor.kid, "typ": "JWT"}
    head = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    fetches = env.saleor.jwks_fetches
    response = await _deliver(env, body, signature=f"{head}..c2lnbmF0dXJl")
    assert response.status_code == 401
    assert "RS256" in _error(response)
    assert env.saleor.jwks_fetches == fetches


async def test_rotated_key_is_fetched_once_then_cached(env: Env) -> None:
    await _installed(env)
    assert env.saleor.jwks_fetches == 1
    env.saleor.rotate_key()
    first = await _deliver(env, _body(env))
    assert first.status_code not in {400, 401, 403}, first.text
    assert env.saleor.jwks_fetches == 2
    second = await _deliver(env, _body(env))
    assert second.status_code not in {400, 401, 403}
    assert env.saleor.jwks_fetches == 2, "fresh keys must be kept, not refetched per delivery"


async def test_forgery_after_refetch_is_still_refused(env: Env) -> None:
    await _installed(env)
    impostor = SaleorDouble()
    body = _body(env)
    response = await _deliver(env, body, signature=impostor.sign(body))
    assert response.status_code == 401
    assert env.saleor.jwks_fetches == 2  # refetched once, then refused


def _forged_with_kid(body: bytes, kid: str) -> str:
    """A Saleor-style signature naming ``kid``, made with a key that is not Saleor's."""
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.api_jws.encode(
        body, impostor, algorithm="RS256", headers={"kid": kid}, is_payload_detached=True
    )


async def test_a_forgery_under_a_known_key_does_not_cost_a_rotation(env: Env) -> None:
    """A forged signature naming Saleor's own kid is refused without asking Saleor for keys; the
    genuinely rotated key that arrives a moment later is fetched and accepted."""
    await _installed(env)
    body = _body(env)
    forged = await _deliver(env, body, signature=_forged_with_kid(body, env.saleor.kid))
    assert forged.status_code == 401
    assert "does not match" in _error(forged)
    assert env.saleor.jwks_fetches == 1, "a failed check under a known kid never refetches"
    env.saleor.rotate_key()
    genuine = await _deliver(env, _body(env))
    assert genuine.status_code not in {400, 401, 403}, genuine.text
    assert env.saleor.jwks_fetches == 2


async def test_a_forgery_under_an_unknown_key_does_not_cost_a_rotation(env: Env) -> None:
    """An unknown kid is worth one fetch; a rotation right after it waits for the next fetch
    (at most one per interval) instead of being refused."""
    await _installed(env)
    body = _body(env)
    forged = await _deliver(env, body, signature=_forged_with_kid(body, "made-up"))
    assert forged.status_code == 401
    assert env.saleor.jwks_fetches == 2
    env.saleor.rotate_key()
    genuine = await _deliver(env, _body(env))
    assert genuine.status_code not in {400, 401, 403}, genuine.text
    assert env.saleor.jwks_fetches == 3


async def test_made_up_key_ids_cannot_hammer_saleor(env: Env) -> None:
    """A burst of made-up kids shares one or two fetches (single flight, spaced); a kid Saleor
    does not have is then refused without asking again."""
    await _installed(env)
    body = _body(env)
    signatures = [_forged_with_kid(body, f"random-{n}") for n in range(16)]
    answers = await asyncio.gather(*(_deliver(env, body, signature=s) for s in signatures))
    assert [a.status_code for a in answers] == [401] * 16
    assert 2 <= env.saleor.jwks_fetches <= 3, env.saleor.jwks_fetches
    fetches = env.saleor.jwks_fetches
    for signature in signatures[:4]:
        again = await _deliver(env, body, signature=signature)
        assert again.status_code == 401
        assert "unknown signing key" in _error(again)
    assert env.saleor.jwks_fetches == fetches


async def test_recipient_mismatch_is_refused(env: Env) -> None:
    await _installed(env)
    other = env.saleor.create_app()
    body = saleor_json(env.saleor.payload(EVENT, app=other))
    response = await _deliver(env, body)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "RECIPIENT_MISMATCH"


async def test_unknown_saleor_is_refused(env: Env) -> None:
    await _installed(env)
    response = await _deliver(
        env, _body(env), headers={"Saleor-Api-Url": "http://127.0.0.1:1/graphql/"}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNKNOWN_INSTALLATION"


async def test_event_header_must_match_the_route(env: Env) -> None:
    await _installed(env)
    response = await _deliver(
        env, _body(env), headers={"Saleor-Event": "transaction_refund_requested"}
    )
    assert response.status_code == 400


async def test_two_saleors_share_one_deployment(env: Env) -> None:
    await _installed(env)
    other = SaleorDouble()
    async with other.serve():
        assert (await other.install(env.url("/api/register"))).status_code == 200
        body = saleor_json(other.payload(EVENT))
        own = await other.deliver(env.url(EVENT.path), EVENT, body)
        assert own.status_code not in {400, 401, 403}
        # Other's payload and signature, presented as coming from the first Saleor: refused.
        crossed = await other.deliver(
            env.url(EVENT.path), EVENT, body, headers={"Saleor-Api-Url": env.saleor.api_url}
        )
        assert crossed.status_code in {401, 403}


async def test_health_and_readiness(env: Env) -> None:
    async with httpx.AsyncClient() as client:
        assert (await client.get(env.url("/healthz"))).json() == {"status": "ok"}
        ready = await client.get(env.url("/readyz"))
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"
