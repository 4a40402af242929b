"""The payment webhooks: parse the authenticated payload, call one use-case, render the answer.

Expected failures are answered with HTTP 200 and a failure result (Saleor shows our message);
only a malformed payload gets a 400.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError

from saleor_alipay_app.composition import Services
from saleor_alipay_app.installations.webhooks import HANDLERS, SaleorWebhook
from saleor_alipay_app.payments import actions, sessions
from saleor_alipay_app.payments.sessions import Context, saleor_version
from saleor_alipay_app.saleor.events import SyncEvent
from saleor_alipay_app.saleor.manifest import app_identifier
from saleor_alipay_app.saleor.payloads import (
    PaymentGatewayInitializeSession,
    TransactionActionRequest,
    TransactionSession,
    UserChannelEvent,
)

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


class _BadPayload(Exception):
    pass


def _parse(model: type[M], webhook: SaleorWebhook) -> M:
    try:
        return model.model_validate(webhook.payload)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors()[:5])
        raise _BadPayload(
            f"{webhook.event.value} payload is missing or malformed: {fields}"
        ) from None


def _context(webhook: SaleorWebhook, services: Services, base_url: str) -> Context:
    assert webhook.installation.id is not None
    version = webhook.payload.get("version")
    return Context(
        installation_id=webhook.installation.id,
        app_identifier=app_identifier(),
        base_url=base_url,
        saleor_version=saleor_version(version if isinstance(version, str) else None),
    )


Handler = Callable[[SaleorWebhook, Services, Context], Awaitable[dict[str, Any]]]


def _register(event: SyncEvent, handler: Handler) -> None:
    async def handle(webhook: SaleorWebhook, services: Services, base_url: str) -> Response:
        try:
            body = await handler(webhook, services, _context(webhook, services, base_url))
        except _BadPayload as exc:
            return JSONResponse(
                status_code=400,
                content={"error": {"code": "INVALID_PAYLOAD", "message": str(exc)}},
            )
        return JSONResponse(body)

    HANDLERS[event] = handle


async def _gateway(webhook: SaleorWebhook, services: Services, ctx: Context) -> dict[str, Any]:
    payload = _parse(PaymentGatewayInitializeSession, webhook)
    return await sessions.gateway_initialize(services.payments, ctx, payload)


async def _initialize(webhook: SaleorWebhook, services: Services, ctx: Context) -> dict[str, Any]:
    payload = _parse(TransactionSession, webhook)
    response = await sessions.initialize_session(services.payments, ctx, payload)
    return response.body(saleor_version=ctx.saleor_version)


async def _process(webhook: SaleorWebhook, services: Services, ctx: Context) -> dict[str, Any]:
    payload = _parse(TransactionSession, webhook)
    response = await sessions.process_session(services.payments, ctx, payload)
    return response.body(saleor_version=ctx.saleor_version)


async def _charge(webhook: SaleorWebhook, services: Services, ctx: Context) -> dict[str, Any]:
    payload = _parse(TransactionActionRequest, webhook)
    response = await actions.request_charge(
        services.payments, ctx.installation_id, ctx.base_url, payload
    )
    return response.body()


async def _refund(webhook: SaleorWebhook, services: Services, ctx: Context) -> dict[str, Any]:
    payload = _parse(TransactionActionRequest, webhook)
    response = await actions.request_refund(
        services.payments, ctx.installation_id, ctx.base_url, payload
    )
    return response.body()


async def _cancel(webhook: SaleorWebhook, services: Services, ctx: Context) -> dict[str, Any]:
    payload = _parse(TransactionActionRequest, webhook)
    response = await actions.request_cancel(services.payments, ctx.installation_id, payload)
    return response.body()


def _user_event(
    use_case: Callable[[Any, Context, UserChannelEvent], Awaitable[dict[str, Any]]],
) -> Handler:
    async def handle(webhook: SaleorWebhook, services: Services, ctx: Context) -> dict[str, Any]:
        return await use_case(services.payments, ctx, _parse(UserChannelEvent, webhook))

    return handle


def register_payment_handlers() -> None:
    _register(SyncEvent.PAYMENT_GATEWAY_INITIALIZE_SESSION, _gateway)
    _register(SyncEvent.TRANSACTION_INITIALIZE_SESSION, _initialize)
    _register(SyncEvent.TRANSACTION_PROCESS_SESSION, _process)
    _register(SyncEvent.TRANSACTION_CHARGE_REQUESTED, _charge)
    _register(SyncEvent.TRANSACTION_REFUND_REQUESTED, _refund)
    _register(SyncEvent.TRANSACTION_CANCELATION_REQUESTED, _cancel)
    _register(SyncEvent.LIST_STORED_PAYMENT_METHODS, _user_event(sessions.list_stored_methods))
    _register(
        SyncEvent.STORED_PAYMENT_METHOD_DELETE_REQUESTED, _user_event(sessions.delete_stored_method)
    )
    _register(
        SyncEvent.PAYMENT_GATEWAY_INITIALIZE_TOKENIZATION_SESSION,
        _user_event(sessions.gateway_initialize_tokenization),
    )
    _register(
        SyncEvent.PAYMENT_METHOD_INITIALIZE_TOKENIZATION_SESSION,
        _user_event(sessions.initialize_tokenization),
    )
    _register(
        SyncEvent.PAYMENT_METHOD_PROCESS_TOKENIZATION_SESSION,
        _user_event(sessions.process_tokenization),
    )
