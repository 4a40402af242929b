"""Every status is classified (final or open, never both, never neither), and every Saleor
webhook is routed to its module."""

from __future__ import annotations

from enum import StrEnum

import pytest

from saleor_alipay_app.agreements.models import AgreementStatus, BindingStatus
from saleor_alipay_app.payments.models import PaymentStatus, RefundStatus, ReportStatus
from saleor_alipay_app.payments.webhooks.router import ROUTES
from saleor_alipay_app.saleor.events import SyncEvent

STATUS_ENUMS = [AgreementStatus, BindingStatus, PaymentStatus, RefundStatus, ReportStatus]


@pytest.mark.parametrize("enum", STATUS_ENUMS, ids=lambda e: e.__name__)
def test_every_status_is_final_or_open(enum: type[StrEnum]) -> None:
    final = enum.final_statuses()  # type: ignore[attr-defined]
    open_ = enum.open_statuses()  # type: ignore[attr-defined]
    assert final.isdisjoint(open_), f"{enum.__name__}: both final and open: {final & open_}"
    unclassified = set(enum) - final - open_
    assert not unclassified, f"{enum.__name__}: classify {sorted(unclassified)}"
    for member in enum:
        assert member.is_final == (member in final)  # type: ignore[attr-defined]


def test_payment_status_sets() -> None:
    assert PaymentStatus.final_statuses() == {
        PaymentStatus.SUCCEEDED,
        PaymentStatus.FAILED,
        PaymentStatus.CANCELLED,
    }
    assert PaymentStatus.open_statuses() == {
        PaymentStatus.AWAITING_BINDING,
        PaymentStatus.PROCESSING,
    }


def test_every_saleor_webhook_has_its_route() -> None:
    assert set(ROUTES) == set(SyncEvent)
    for event, webhook in ROUTES.items():
        module = webhook.answer.__module__
        assert module.endswith("." + event.name.lower()), (event, module)
