"""Hostile notifications, correctly signed with the Antom key the app is configured with, to the
three notification routes: junk in amounts, currencies, ids, times and results. Each answer is
Antom's acknowledgement or a declared refusal that stores nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import event as note
from hypothesis import given
from hypothesis import strategies as st

from saleor_alipay_app.antom.models import NOTIFICATION_ACK_BODY
from saleor_alipay_app.payments.models import Notification
from saleor_alipay_app.saleor.events import SyncEvent
from tests.support.stack import (
    app_rows,
    eventually,
    post_antom_notification,
    qr_purchase,
    sandbox_state,
)

from .harness import Hostile, Refusal, antom_refusal_shape, examples, hostile_stack
from .mutations import hostile_body

KINDS = ["authorization", "payment", "refund"]
# Keys of Antom's notifications a mutation may add (besides random ones).
NOTIFICATION_KEYS = [
    "notifyType",
    "authorizationNotifyType",
    "result",
    "resultStatus",
    "paymentRequestId",
    "paymentId",
    "paymentAmount",
    "paymentTime",
    "paymentCreateTime",
    "refundRequestId",
    "refundId",
    "refundAmount",
    "refundStatus",
    "refundTime",
    "authState",
    "authCode",
    "accessToken",
    "customsDeclarationAmount",
    "grossSettlementAmount",
    "settlementQuote",
    "currency",
    "value",
]


def _kind_of(body: dict[str, Any]) -> str:
    if "authorizationNotifyType" in body:
        return "authorization"
    return "refund" if body.get("notifyType") == "REFUND_RESULT" else "payment"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    async def prepare(h: Hostile) -> None:
        """A first purchase and a refund of part of it: the sandbox's real notifications of
        all three kinds are the bases of the hostile ones."""
        transaction_id, psp = await qr_purchase(h.stack)
        await h.stack.call(
            SyncEvent.TRANSACTION_REFUND_REQUESTED,
            amount=Decimal("10.00"),
            transaction={"id": transaction_id, "pspReference": psp},
        )
        store = sandbox_state(h.stack).store

        def bases() -> dict[str, dict[str, Any]]:
            found = [json.loads(n.body) for n in store.notifications.values()]
            return {_kind_of(body): body for body in found}

        await h.stack.wait_for(lambda: len(bases()) == 3, what="a notification of each kind")
        h.facts["bases"] = bases()

        async def all_processed() -> bool:
            """The app has processed each (nothing arrives during the hostile examples)."""
            rows = await app_rows(h.stack, Notification)
            kinds = {row.kind for row in rows if row.processed_at is not None}
            return len(kinds) == 3 and all(row.processed_at is not None for row in rows)

        await eventually(all_processed, what="the app processing each notification")

    with hostile_stack(tmp_path_factory.mktemp("notifications"), prepare) as running:
        yield running


def check_notification(h: Hostile, kind: str, body: bytes) -> None:
    async def send() -> Any:
        return await post_antom_notification(h.stack, kind, body)

    async def exchange() -> Any:
        return await h.exchange(f"{kind} notification", send, error_shape=antom_refusal_shape)

    response = h.run(exchange())
    note(f"HTTP {response.status_code}")
    if response.status_code == 200 and response.content != NOTIFICATION_ACK_BODY:
        raise Refusal(f"{kind}: a 200 that is not Antom's acknowledgement: {response.text!r}")


@pytest.mark.parametrize("kind", KINDS)
@examples(20)
@given(data=st.data())
def test_hostile_signed_notifications(hostile: Hostile, kind: str, data: st.DataObject) -> None:
    base = hostile.facts["bases"][data.draw(st.sampled_from(KINDS), label="base")]
    if data.draw(st.booleans(), label="base of the route's kind"):
        base = hostile.facts["bases"][kind]
    body = data.draw(hostile_body(base, NOTIFICATION_KEYS), label="body")
    check_notification(hostile, kind, body)
