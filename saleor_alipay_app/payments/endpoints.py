"""Antom's notifications: `POST /api/antom/{config}/notify/{kind}`.

The path names the channel configuration (a random public id), so each installation and channel
has its own URLs. Every notification is verified (signature over the raw body with that
configuration's Antom public key, and its `client-id`) before it is parsed, stored in the inbox,
processed, and acknowledged with Antom's exact body only once the outcome is durable here and
Saleor has been told. Otherwise the answer is an error and Antom sends it again.

Refusals are counted by reason (`metrics.REFUSED`); a processed notification by kind and
acknowledgement, with its lag from Antom's `request-time` (`metrics.observe_notification`).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from saleor_alipay_app import metrics
from saleor_alipay_app.antom.models import (
    NOTIFICATION_ACK_BODY,
    NotifyAuthorization,
    NotifyPayment,
    NotifyRefund,
    parse_notification,
)
from saleor_alipay_app.antom.signing import SignatureError, header_value, verify_notification
from saleor_alipay_app.channels.models import ChannelConfig
from saleor_alipay_app.errors import TooLarge
from saleor_alipay_app.http import deadline_in
from saleor_alipay_app.installations.webhooks import read_body
from saleor_alipay_app.payments import notifications
from saleor_alipay_app.payments.deps import Services, services_of
from saleor_alipay_app.payments.models import NotificationKind

log = logging.getLogger(__name__)
router = APIRouter(tags=["antom-notifications"])

MAX_BODY = 256_000
BUDGET = 20.0
_KINDS = {
    "authorization": (NotificationKind.AUTHORIZATION, NotifyAuthorization),
    "payment": (NotificationKind.PAYMENT, NotifyPayment),
    "refund": (NotificationKind.REFUND, NotifyRefund),
}


def _refuse(status_code: int, message: str, reason: str | None = None) -> JSONResponse:
    """Antom's failure body; ``reason``: the request is refused (counted), not just unready."""
    if reason is not None:
        metrics.REFUSED.labels("notification", reason).inc()
    return JSONResponse(
        status_code=status_code,
        content={"result": {"resultCode": "FAIL", "resultStatus": "F", "resultMessage": message}},
    )


def _verify(services: Services, config: ChannelConfig, request: Request, body: bytes) -> None:
    verify_notification(
        services.payments.antom.public_key(config),
        path=request.url.path,
        headers=request.headers,
        body=body,
        expected_client_id=config.client_id,
    )


@router.post("/api/antom/{public_id}/notify/{kind}")
async def notify(public_id: str, kind: str, request: Request) -> Response:
    services = services_of(request)
    if kind not in _KINDS:
        return _refuse(404, "unknown notification kind", "unknown_installation")
    # A payment notification uses only the configuration's id and keys, so the copy kept in
    # memory serves (a changed key shows in the signature check below); the others call Antom
    # with the configuration, so they read it afresh.
    config = await services.configs.get(services.sessions, public_id, fresh=kind != "payment")
    if config is None:
        return _refuse(404, "unknown notification address", "unknown_installation")
    try:
        body = await read_body(request, MAX_BODY)
    except TooLarge:
        return _refuse(413, "notification too large", "too_large")
    try:
        _verify(services, config, request, body)
    except SignatureError as first:
        # Another process may have changed the configuration (keys, client id): read it again.
        fresh = await services.configs.get(services.sessions, public_id, fresh=True)
        try:
            if fresh is None or fresh.updated_at == config.updated_at:
                raise first
            _verify(services, fresh, request, body)
            config = fresh
        except SignatureError as exc:
            log.warning("Antom notification refused", extra={"reason": str(exc), "kind": kind})
            return _refuse(401, f"signature refused: {exc}", "bad_signature")
    notification_kind, model = _KINDS[kind]
    try:
        notification = parse_notification(body)
    except ValueError:
        return _refuse(400, "notification body is not a valid Antom notification", "bad_payload")
    if not isinstance(notification, model):
        return _refuse(400, f"not a {kind} notification", "bad_payload")
    result = await notifications.process(
        services.payments,
        config,
        notification_kind,
        notification,
        body,
        base_url=services.base_url(request),
        deadline=deadline_in(BUDGET),
    )
    metrics.observe_notification(
        kind, result.acknowledge, header_value(request.headers, "request-time")
    )
    if not result.acknowledge:
        log.warning("notification not acknowledged yet", extra={"reason": result.reason})
        return _refuse(503, result.reason or "not processed yet")
    return Response(content=NOTIFICATION_ACK_BODY, media_type="application/json")
