"""Hostile bodies, correctly signed, to all eleven Saleor webhook routes: each answer is a 4xx
that stores nothing, or a 200 whose body is a result Saleor's JSON Schema declares."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import event as note
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from saleor_alipay_app.payments.webhooks.router import ROUTES
from saleor_alipay_app.saleor.events import SyncEvent
from tests.support.saleor_double import validate_response
from tests.support.stack import qr_purchase, stored_method_id

from .harness import Hostile, Refusal, app_error_shape, examples, hostile_stack
from .mutations import hostile_body


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    async def prepare(h: Hostile) -> None:
        transaction_id, psp = await qr_purchase(h.stack)
        h.facts["transaction"] = {"id": transaction_id, "pspReference": psp}
        h.facts["method"] = await stored_method_id(h.stack)

    with hostile_stack(tmp_path_factory.mktemp("webhooks"), prepare) as running:
        yield running


def model_keys(model: type[BaseModel]) -> list[str]:
    """Every key (alias) the payload model reads, nested models included."""
    keys: list[str] = []
    for name, info in model.model_fields.items():
        keys.append(info.alias or name)
        for inner in getattr(info.annotation, "__args__", (info.annotation,)):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                keys.extend(model_keys(inner))
    return keys


def base_payload(h: Hostile, event: SyncEvent, data: st.DataObject) -> dict[str, Any]:
    """A valid payload of ``event``, about the real payment and agreement now and then."""
    saleor = h.stack.saleor
    options: dict[str, Any] = {
        "amount": data.draw(
            st.sampled_from([Decimal("1.00"), Decimal("100.00"), Decimal("0.01")]), label="amount"
        ),
        "channel_slug": data.draw(st.sampled_from(["hk-web", "hk-web", "id-web"])),
        "guest": data.draw(st.booleans(), label="guest"),
    }
    if event in (SyncEvent.TRANSACTION_INITIALIZE_SESSION, SyncEvent.TRANSACTION_PROCESS_SESSION):
        options["data"] = data.draw(
            st.sampled_from(
                [
                    {"wallet": "ALIPAY_HK"},
                    {"storedPaymentMethodId": h.facts["method"]},
                    {"newQrCode": True},
                    None,
                ]
            ),
            label="data",
        )
    action = event.name.startswith("TRANSACTION_") and event.name.endswith("REQUESTED")
    if action and data.draw(st.booleans(), label="the real payment"):
        options["transaction"] = dict(h.facts["transaction"])
    if event is SyncEvent.STORED_PAYMENT_METHOD_DELETE_REQUESTED and data.draw(st.booleans()):
        options["paymentMethodId"] = h.facts["method"]
    return saleor.payload(event, check=False, **options)


def check_webhook(h: Hostile, event: SyncEvent, body: bytes) -> None:
    async def send() -> Any:
        return await h.stack.saleor.deliver(h.stack.url(event.path), event, body)

    async def exchange() -> Any:
        return await h.exchange(f"{event.name} webhook", send, error_shape=app_error_shape)

    response = h.run(exchange())
    note(f"HTTP {response.status_code}")
    if response.status_code == 200:
        try:
            validate_response(event, response.json())
        except (AssertionError, ValueError) as exc:
            raise Refusal(f"{event.name}: a 200 that is no declared result: {exc}") from None


@pytest.mark.parametrize("event", list(ROUTES), ids=lambda e: e.name)
@examples(15)
@given(data=st.data())
def test_hostile_signed_webhooks(hostile: Hostile, event: SyncEvent, data: st.DataObject) -> None:
    base = base_payload(hostile, event, data)
    body = data.draw(hostile_body(base, model_keys(ROUTES[event].payload)), label="body")
    check_webhook(hostile, event, body)


def test_every_webhook_route_is_a_door() -> None:
    assert set(ROUTES) == set(SyncEvent)
