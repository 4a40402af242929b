"""Refunds of successful payments: refund and inquiryRefund, and in-process refunds' completion."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from saleor_alipay_app.antom.models import PaymentStatus, RefundStatus
from saleor_alipay_app.antom.money import Amount
from saleor_alipay_app.antom.wallets import CAPABILITIES, WalletLimitError, check_refund

from . import fx
from .clock import fmt_time
from .config import ApiCall, Scenario
from .core import CallContext, SandboxCore, limit_code
from .models import Money, Notification, Refund
from .protocol import AntomFailure, Body, result

__all__ = ["RefundFlows", "refund_transaction"]


class RefundFlows(SandboxCore):
    """Full, partial and multiple refunds, as each wallet allows."""

    def refund(self, ctx: CallContext, body: Body) -> dict[str, Any]:
        client_id = ctx.merchant.client_id
        request_id = body.text("refundRequestId", max_len=64)
        payment_id = body.text("paymentId", max_len=64)
        amount = body.amount("refundAmount")
        reference_refund_id = body.opt_text("referenceRefundId", max_len=64)
        reason = body.opt_text("refundReason", max_len=256)
        notify_url = body.opt_text("refundNotifyUrl", max_len=1024)

        existing = self.store.refund_by_request(client_id, request_id)
        if existing is not None:
            if existing.payment_id != payment_id or existing.amount != Money.of(amount):
                raise AntomFailure(
                    "REPEAT_REQ_INCONSISTENT",
                    message="this refundRequestId was used with another payment or amount",
                )
            return self._refund_answer(existing)

        payment = self._owned(self.store.payments.get(payment_id), ctx)
        match payment.status:
            case PaymentStatus.CANCELLED:
                raise AntomFailure("ORDER_IS_CANCELED")
            case PaymentStatus.FAIL | PaymentStatus.PROCESSING:
                raise AntomFailure(
                    "ORDER_STATUS_INVALID", message="only a successful payment can be refunded"
                )
            case PaymentStatus.SUCCESS:
                pass
        assert payment.payment_time is not None
        now = self.clock.now()
        try:
            check_refund(payment.wallet, amount, payment.payment_time, now)
        except WalletLimitError as exc:
            raise AntomFailure(limit_code(exc), message=exc.merchant_message) from None
        paid = payment.amount.amount()
        active = [r for r in self.store.refunds_of(payment_id) if r.status is not RefundStatus.FAIL]
        refunded = sum((r.amount.value for r in active), 0)
        if refunded + amount.value > paid.value:
            raise AntomFailure(
                "REFUND_AMOUNT_EXCEED",
                message=f"refunds would total {Amount(paid.currency, refunded + amount.value)}, "
                f"more than the {paid} paid",
            )
        capability = CAPABILITIES[payment.wallet]
        if not capability.partial_refunds and amount.value != paid.value:
            raise AntomFailure("PARTIAL_REFUND_NOT_SUPPORTED")
        if not capability.multiple_refunds and active:
            raise AntomFailure("MULTIPLE_REFUNDS_NOT_SUPPORTED")

        refund = Refund(
            refund_id=self._new_id("1160", lambda rid: rid in self.store.refunds),
            refund_request_id=request_id,
            client_id=client_id,
            payment_id=payment_id,
            amount=Money.of(amount),
            reference_refund_id=reference_refund_id,
            refund_reason=reason,
            status=RefundStatus.SUCCESS,
            result_code="SUCCESS",
            result_message=result()["resultMessage"],
            create_time=now,
            notify_url=notify_url or ctx.merchant.record.refund_notify_url,
            quote=fx.quote(amount, payment.settlement_currency, now),
        )
        if ctx.scenario is Scenario.MERCHANT_BALANCE_NOT_ENOUGH:
            refund.status = RefundStatus.FAIL
            refund.result_code = "MERCHANT_BALANCE_NOT_ENOUGH"
            refund.result_message = result(refund.result_code)["resultMessage"]
            self.store.put_refund(refund)
            return self._refund_answer(refund)
        if ctx.scenario is Scenario.REFUND_IN_PROCESS:
            refund.status = RefundStatus.PROCESSING
            refund.result_code = "REFUND_IN_PROCESS"
            refund.result_message = result(refund.result_code)["resultMessage"]
            refund.finalize_at = now + timedelta(seconds=self.config.process_delay_seconds)
            self.store.put_refund(refund)
            self.poke()
            return self._refund_answer(refund)
        refund.refund_time = now
        self.store.put_refund(refund)
        self._notify_refund(refund, ctx.header_scenarios)
        return self._refund_answer(refund)

    def _refund_base(self, refund: Refund) -> dict[str, Any]:
        return {
            "refundRequestId": refund.refund_request_id,
            "refundId": refund.refund_id,
            "paymentId": refund.payment_id,
            "refundAmount": refund.amount.to_api(),
        }

    def _refund_answer(self, refund: Refund) -> dict[str, Any]:
        base = self._refund_base(refund)
        match refund.status:
            case RefundStatus.SUCCESS:
                assert refund.refund_time is not None
                return {
                    "result": result(),
                    **base,
                    "refundTime": fmt_time(refund.refund_time),
                    **fx.settlement_fields(refund.quote),
                }
            case RefundStatus.PROCESSING:
                return {"result": result("REFUND_IN_PROCESS", "U"), **base}
            case RefundStatus.FAIL:
                return {"result": result(refund.result_code, "F"), **base}

    def _notify_refund(
        self, refund: Refund, header_scenarios: list[Scenario] | None
    ) -> Notification:
        body: dict[str, Any] = {
            "notifyType": "REFUND_RESULT",
            "result": result()
            if refund.status is RefundStatus.SUCCESS
            else result(refund.result_code, "F"),
            "refundStatus": refund.status.value,
            **self._refund_base(refund),
        }
        del body["paymentId"]
        if refund.refund_time is not None:
            body["refundTime"] = fmt_time(refund.refund_time)
        body.update(fx.settlement_fields(refund.quote))
        return self.notifier.emit(
            client_id=refund.client_id,
            kind=ApiCall.NOTIFY_REFUND,
            url=refund.notify_url,
            body=body,
            reference=refund.refund_request_id,
            header_scenarios=header_scenarios,
        )

    def inquiry_refund(self, ctx: CallContext, body: Body) -> dict[str, Any]:
        refund = self._find(ctx, body, "refund", self.store.refunds, self.store.refund_by_request)
        answer: dict[str, Any] = {
            "result": result(),
            **self._refund_base(refund),
            "refundStatus": refund.status.value,
        }
        del answer["paymentId"]
        if refund.refund_time is not None:
            answer["refundTime"] = fmt_time(refund.refund_time)
            answer.update(fx.settlement_fields(refund.quote))
        return answer

    # -- scheduled work ----------------------------------------------------------------------

    def _scheduled_refunds(self) -> Iterator[tuple[datetime, Refund]]:
        """When each in-process refund succeeds."""
        for refund in self.store.scheduled_refunds():
            if refund.finalize_at is not None:
                yield refund.finalize_at, refund

    def _settle_refund(self, refund: Refund, now: datetime) -> None:
        if refund.finalize_at is None or refund.finalize_at > now:
            return
        refund.refund_time = refund.finalize_at
        refund.finalize_at = None
        refund.status = RefundStatus.SUCCESS
        refund.result_code = "SUCCESS"
        refund.result_message = result()["resultMessage"]
        self.store.put_refund(refund)
        self._notify_refund(refund, None)


def refund_transaction(refund: Refund) -> dict[str, Any]:
    """A refund as one of the ``transactions`` of its payment's inquiryPayment answer."""
    match refund.status:
        case RefundStatus.SUCCESS:
            outcome = result()
        case RefundStatus.PROCESSING:
            outcome = result("REFUND_IN_PROCESS", "U")
        case RefundStatus.FAIL:
            outcome = result(refund.result_code, "F")
    transaction: dict[str, Any] = {
        "transactionType": "REFUND",
        "transactionStatus": refund.status.value,
        "transactionId": refund.refund_id,
        "transactionRequestId": refund.refund_request_id,
        "transactionAmount": refund.amount.to_api(),
        "transactionResult": outcome,
    }
    if refund.refund_time is not None:
        transaction["transactionTime"] = fmt_time(refund.refund_time)
    return transaction
