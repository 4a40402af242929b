"""Every Saleor webhook, routed explicitly to its module.

A delivery is authenticated first (`installations.webhooks.authenticate_webhook`: installation,
JWS over the raw body, recipient, event); then its payload is parsed into the module's `Payload`
model and the module's `answer` builds the JSON body. Expected failures are answered with HTTP 200
and a failure result (Saleor shows our message); only a malformed payload gets a 400.

Each delivery is timed by event and result (`metrics.WEBHOOK_SECONDS`), counted when refused
(`metrics.REFUSED`) and, with traces on, has a span carrying the Saleor transaction id and the
paymentRequestId (the answer's pspReference).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError

from saleor_alipay_app import metrics, tracing
from saleor_alipay_app.errors import AppError
from saleor_alipay_app.installations.webhooks import SaleorWebhook, authenticate_webhook
from saleor_alipay_app.payments.deps import PaymentDeps, Services, services_of
from saleor_alipay_app.payments.webhooks import (
    list_stored_payment_methods,
    payment_gateway_initialize_session,
    payment_gateway_initialize_tokenization_session,
    payment_method_initialize_tokenization_session,
    payment_method_process_tokenization_session,
    stored_payment_method_delete_requested,
    transaction_cancelation_requested,
    transaction_charge_requested,
    transaction_initialize_session,
    transaction_process_session,
    transaction_refund_requested,
)
from saleor_alipay_app.payments.webhooks.common import Context, saleor_version
from saleor_alipay_app.saleor.events import SyncEvent
from saleor_alipay_app.saleor.manifest import app_identifier

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Webhook:
    """One event's module: the payload model it reads and the use-case that answers."""

    payload: type[BaseModel]
    answer: Callable[[PaymentDeps, Context, Any], Awaitable[dict[str, Any]]]


ROUTES: dict[SyncEvent, Webhook] = {
    SyncEvent.PAYMENT_GATEWAY_INITIALIZE_SESSION: Webhook(
        payment_gateway_initialize_session.Payload, payment_gateway_initialize_session.answer
    ),
    SyncEvent.TRANSACTION_INITIALIZE_SESSION: Webhook(
        transaction_initialize_session.Payload, transaction_initialize_session.answer
    ),
    SyncEvent.TRANSACTION_PROCESS_SESSION: Webhook(
        transaction_process_session.Payload, transaction_process_session.answer
    ),
    SyncEvent.TRANSACTION_CHARGE_REQUESTED: Webhook(
        transaction_charge_requested.Payload, transaction_charge_requested.answer
    ),
    SyncEvent.TRANSACTION_REFUND_REQUESTED: Webhook(
        transaction_refund_requested.Payload, transaction_refund_requested.answer
    ),
    SyncEvent.TRANSACTION_CANCELATION_REQUESTED: Webhook(
        transaction_cancelation_requested.Payload, transaction_cancelation_requested.answer
    ),
    SyncEvent.LIST_STORED_PAYMENT_METHODS: Webhook(
        list_stored_payment_methods.Payload, list_stored_payment_methods.answer
    ),
    SyncEvent.STORED_PAYMENT_METHOD_DELETE_REQUESTED: Webhook(
        stored_payment_method_delete_requested.Payload,
        stored_payment_method_delete_requested.answer,
    ),
    SyncEvent.PAYMENT_GATEWAY_INITIALIZE_TOKENIZATION_SESSION: Webhook(
        payment_gateway_initialize_tokenization_session.Payload,
        payment_gateway_initialize_tokenization_session.answer,
    ),
    SyncEvent.PAYMENT_METHOD_INITIALIZE_TOKENIZATION_SESSION: Webhook(
        payment_method_initialize_tokenization_session.Payload,
        payment_method_initialize_tokenization_session.answer,
    ),
    SyncEvent.PAYMENT_METHOD_PROCESS_TOKENIZATION_SESSION: Webhook(
        payment_method_process_tokenization_session.Payload,
        payment_method_process_tokenization_session.answer,
    ),
}


# The answer's pspReference: a paymentRequestId, or a refund's refundRequestId.
_REFERENCE_ATTRIBUTE = {SyncEvent.TRANSACTION_REFUND_REQUESTED: "antom.refund_request_id"}


def _context(webhook: SaleorWebhook, services: Services, request: Request) -> Context:
    assert webhook.installation.id is not None
    version = webhook.payload.get("version")
    return Context(
        installation_id=webhook.installation.id,
        app_identifier=app_identifier(),
        base_url=services.base_url(request),
        saleor_version=saleor_version(version if isinstance(version, str) else None),
    )


def _invalid_payload(event: SyncEvent, exc: ValidationError) -> Response:
    fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors()[:5])
    return JSONResponse(
        status_code=400,
        content={
            "error": {
                "code": "INVALID_PAYLOAD",
                "message": f"{event.value} payload is missing or malformed: {fields}",
            }
        },
    )


def _endpoint(event: SyncEvent, webhook: Webhook) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        started = time.perf_counter()
        result = "error"
        try:
            with tracing.span(
                f"saleor webhook {event.value}", **{"saleor.event": event.value}
            ) as span:
                response, result = await _answer(request, event, webhook, span)
        finally:
            metrics.WEBHOOK_SECONDS.labels(event.value, result).observe(
                time.perf_counter() - started
            )
        return response

    handle.__name__ = f"webhook_{event.name.lower()}"
    return handle


async def _answer(
    request: Request, event: SyncEvent, webhook: Webhook, span: tracing.SpanLike
) -> tuple[Response, str]:
    """The response, and the result it is counted under."""
    try:
        delivery = await authenticate_webhook(request, event)
    except AppError as exc:
        log.warning(
            "webhook refused",
            extra={"event": event.value, "code": exc.code, "reason": exc.message},
        )
        metrics.refused("webhook", exc.code)
        return exc.response(), "refused"
    try:
        payload = webhook.payload.model_validate(delivery.payload)
    except ValidationError as exc:
        metrics.refused("webhook", "INVALID_PAYLOAD")
        return _invalid_payload(event, exc), "invalid_payload"
    transaction = getattr(payload, "transaction", None)
    if transaction is not None:
        span.set_attribute("saleor.transaction.id", transaction.id)
        if transaction.psp_reference:  # ours: the paymentRequestId
            span.set_attribute("antom.payment_request_id", transaction.psp_reference)
    services = services_of(request)
    ctx = _context(delivery, services, request)
    body = await webhook.answer(services.payments, ctx, payload)
    psp_reference = body.get("pspReference")
    if isinstance(psp_reference, str):
        span.set_attribute(
            _REFERENCE_ATTRIBUTE.get(event, "antom.payment_request_id"), psp_reference
        )
    result = body.get("result")
    return JSONResponse(body), result if isinstance(result, str) else "answered"


def build_router() -> APIRouter:
    router = APIRouter(tags=["saleor-webhooks"])
    for event, webhook in ROUTES.items():
        router.add_api_route(event.path, _endpoint(event, webhook), methods=["POST"])
    return router
