"""Saleor's webhooks: authenticate every delivery before anything reads its body as JSON.

Order of checks: `Saleor-Api-Url` names a known installation; `Saleor-Signature` verifies over the
raw bytes with the installation's cached JWKS (fetched again only for an unknown kid, see
`installations.jwks`); only then is the body parsed (decimals stay `Decimal`); `recipient.id`
must be the installation's app id; `Saleor-Event` must name the route's event.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from saleor_alipay_app import jsontext
from saleor_alipay_app.db import transaction
from saleor_alipay_app.errors import Forbidden, Invalid, TooLarge, Unauthorized
from saleor_alipay_app.installations.deps import AppServices, app_services
from saleor_alipay_app.installations.models import Installation
from saleor_alipay_app.installations.repository import InstallationRepository
from saleor_alipay_app.saleor.documents import saleor_minor
from saleor_alipay_app.saleor.events import SyncEvent
from saleor_alipay_app.saleor.jws import SignatureInvalid, verify_detached

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000


@dataclass(frozen=True)
class SaleorWebhook:
    """An authenticated delivery: the installation it belongs to and its parsed payload."""

    event: SyncEvent
    installation: Installation
    payload: dict[str, Any]
    raw_body: bytes


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request's body, read as it streams in and refused (`TooLarge`) as soon as it passes
    ``limit`` bytes, whatever Content-Length claims: a large body is never held whole."""
    too_large = f"body is larger than {limit:,} bytes"
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge("PAYLOAD_TOO_LARGE", too_large)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise TooLarge("PAYLOAD_TOO_LARGE", too_large)
    return bytes(body)


async def refresh_jwks(
    services: AppServices, installation: Installation, kid: str
) -> dict[str, Any] | None:
    """Saleor's JWKS fetched again because a signature names ``kid``, which the kept JWKS does
    not have: the JWKS when it has it, else None (see `installations.jwks`)."""
    assert installation.id is not None
    return await services.signing_keys.jwks_with(
        services.saleor, installation.id, installation.saleor_api_url, kid
    )


async def keep_jwks(
    services: AppServices, installation: Installation, jwks: dict[str, Any]
) -> None:
    assert installation.id is not None
    async with transaction(services.sessions) as session:
        await InstallationRepository(session).save_jwks(installation.id, jwks)
    installation.jwks = jwks
    log.info("Saleor signing keys refreshed", extra={"saleor_api_url": installation.saleor_api_url})


async def _verify(
    services: AppServices,
    installation: Installation,
    signature: str,
    body: bytes,
    *,
    refetch: bool = True,
) -> None:
    """Verify with the installation's JWKS; when the signature names a key id it does not have,
    and with ``refetch``, with Saleor's JWKS fetched again, kept if it verifies. A signature that
    fails under a known key id is refused at once."""
    try:
        verify_detached(signature, body, installation.jwks or {})
        return
    except SignatureInvalid as first:
        if first.unknown_kid is None or not refetch:
            raise Unauthorized(
                "INVALID_SIGNATURE", f"Saleor-Signature refused: {first.reason}"
            ) from None
        kid, reason = first.unknown_kid, first.reason
    fresh = await refresh_jwks(services, installation, kid)
    if fresh is None:
        raise Unauthorized("INVALID_SIGNATURE", f"Saleor-Signature refused: {reason}")
    try:
        verify_detached(signature, body, fresh)
    except SignatureInvalid as second:
        raise Unauthorized(
            "INVALID_SIGNATURE", f"Saleor-Signature refused: {second.reason}"
        ) from None
    await keep_jwks(services, installation, fresh)


def _same(stored: Installation, kept: Installation) -> bool:
    """Whether the row read again says nothing the kept copy did not."""
    return (
        stored.app_id == kept.app_id
        and stored.jwks == kept.jwks
        and stored.updated_at == kept.updated_at
    )


async def _note_saleor_version(
    services: AppServices, installation: Installation, version: object
) -> None:
    """Keep the installation's Saleor version current (a Saleor upgraded in place): written
    only when a webhook names another major.minor than the one stored."""
    minor = saleor_minor(version if isinstance(version, str) else None)
    if minor is None:
        return
    text = f"{minor[0]}.{minor[1]}"
    if installation.saleor_version == text:
        return
    assert installation.id is not None
    async with transaction(services.sessions) as session:
        await InstallationRepository(session).save_saleor_version(installation.id, text)
    installation.saleor_version = text


async def authenticate_webhook(request: Request, event: SyncEvent) -> SaleorWebhook:
    services = app_services(request)
    api_url = request.headers.get("saleor-api-url")
    if not api_url:
        raise Invalid("MISSING_SALEOR_API_URL", "Saleor-Api-Url header is missing")
    signature = request.headers.get("saleor-signature")
    if not signature:
        raise Unauthorized("MISSING_SIGNATURE", "Saleor-Signature header is missing")
    installation = await services.installations.get(services.sessions, api_url)
    if installation is None:
        raise Unauthorized(
            "UNKNOWN_INSTALLATION",
            f"no installation for {api_url}: install the app from that Saleor dashboard first",
        )
    body = await read_body(request)
    try:
        await _verify(services, installation, signature, body, refetch=False)
    except Unauthorized:
        # The copy kept in memory may be older than the row (another process refreshed the keys
        # or the app was installed again): the row first, then Saleor's JWKS (rate-limited).
        stored = await services.installations.get(services.sessions, api_url, fresh=True)
        if stored is None:
            raise
        installation = stored
        await _verify(services, installation, signature, body)
    try:
        payload = jsontext.loads(body)
    except ValueError:  # not JSON, not UTF-8, nested too deeply, an integer over 4300 digits
        raise Invalid("INVALID_PAYLOAD", "webhook body is not JSON") from None
    if not isinstance(payload, dict):
        raise Invalid("INVALID_PAYLOAD", "webhook body is not a JSON object")
    recipient = payload.get("recipient")
    recipient_id = recipient.get("id") if isinstance(recipient, dict) else None
    if recipient_id != installation.app_id:
        stored = await services.installations.get(services.sessions, api_url, fresh=True)
        if stored is not None and not _same(stored, installation):
            installation = stored  # installed again by another process; its row decides
    if recipient_id != installation.app_id:
        raise Forbidden(
            "RECIPIENT_MISMATCH",
            "the webhook is addressed to another app than the one installed for this Saleor",
        )
    header_event = request.headers.get("saleor-event")
    if header_event is not None and header_event.lower() != event.header_value:
        raise Invalid(
            "EVENT_MISMATCH",
            f"Saleor-Event {header_event!r} delivered to the {event.header_value} route",
        )
    await _note_saleor_version(services, installation, payload.get("version"))
    return SaleorWebhook(event=event, installation=installation, payload=payload, raw_body=body)
