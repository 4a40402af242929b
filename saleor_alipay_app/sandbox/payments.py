"""Auto Debit payments: pay, inquiryPayment and cancel.

Also their scheduled completion: in-process payments, and the notification of failed ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, Final

from saleor_alipay_app.antom.models import PaymentStatus, RefundStatus
from saleor_alipay_app.antom.money import Amount
from saleor_alipay_app.antom.wallets import (
    CAPABILITIES,
    Wallet,
    WalletLimitError,
    check_payment,
)

from . import fx
from .clock import ANTOM_TZ, fmt_time, parse_time
from .config import ApiCall, Scenario
from .core import CallContext, SandboxCore, limit_code
from .models import Binding, BindingStatus, Money, Notification, Payment
from .protocol import AntomFailure, Body, illegal, mask_login_id, result
from .refunds import refund_transaction

__all__ = ["PaymentFlows"]

PAYMENT_TTL: Final = timedelta(minutes=1)  # auto debit payments expire after 1 minute (§6)
CANCEL_WINDOW: Final = timedelta(days=1)  # §7.8: usually 1 day


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def period_start(moment: datetime, period: str) -> datetime:
    local = moment.astimezone(ANTOM_TZ)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    match period:
        case "day":
            return day
        case "month":
            return day.replace(day=1)
        case "year":
            return day.replace(month=1, day=1)
        case _:
            raise ValueError(f"unknown limit period {period!r}")


class PaymentFlows(SandboxCore):
    """Auto Debit payments."""

    # =========================================================================================
    # payments
    # =========================================================================================

    def pay(self, ctx: CallContext, body: Body) -> dict[str, Any]:
        client_id = ctx.merchant.client_id
        product = body.text("productCode", max_len=32)
        if product != "AGREEMENT_PAYMENT":
            raise illegal("productCode must be AGREEMENT_PAYMENT (Auto Debit)")
        request_id = body.text("paymentRequestId", max_len=64)
        amount = body.amount("paymentAmount")
        method = body.obj("paymentMethod")
        method_type = method.text("paymentMethodType", max_len=64)
        token = method.text("paymentMethodId", max_len=128)
        order = body.obj("order")
        order.amount("orderAmount")
        reference_order_id = order.text("referenceOrderId", max_len=64)
        description = order.text("orderDescription", max_len=256)
        order_merchant = order.opt_obj("merchant")
        reference_merchant_id = (
            order_merchant.text("referenceMerchantId", max_len=64) if order_merchant else ""
        )
        settlement_currency = body.obj("settlementStrategy").text("settlementCurrency", max_len=3)
        notify_url = body.opt_text("paymentNotifyUrl", max_len=2048)
        expiry_text = body.opt_text("paymentExpiryTime", max_len=64)
        fingerprint = {
            "productCode": product,
            "paymentAmount": f"{amount.currency} {amount.value}",
            "paymentMethodType": method_type,
            "paymentMethodId": token_hash(token),
        }

        existing = self.store.payment_by_request(client_id, request_id)
        if existing is not None:
            existing.pay_requests += 1
            self.store.put_payment(existing)
            if existing.fingerprint != fingerprint:
                raise AntomFailure(
                    "REPEAT_REQ_INCONSISTENT",
                    message="this paymentRequestId was used with another amount, "
                    "payment method or product",
                )
            return self._pay_answer(existing)

        now = self.clock.now()
        expiry = now + PAYMENT_TTL
        if expiry_text is not None:
            try:
                asked = parse_time(expiry_text)
            except ValueError:
                raise illegal("paymentExpiryTime must be ISO-8601 with an offset") from None
            if asked > expiry or asked <= now:
                raise illegal("paymentExpiryTime must be within 1 minute after the request")
            expiry = asked
        wallet = self._wallet(ctx.merchant, method_type)
        try:
            check_payment(wallet, amount)
        except WalletLimitError as exc:
            raise AntomFailure(limit_code(exc), message=exc.merchant_message) from None
        quote = fx.quote(amount, settlement_currency, now)

        payment = Payment(
            payment_id=self._new_id("1140", lambda pid: pid in self.store.payments),
            payment_request_id=request_id,
            client_id=client_id,
            wallet=wallet,
            amount=Money.of(amount),
            settlement_currency=settlement_currency,
            quote=quote,
            reference_order_id=reference_order_id,
            order_description=description,
            reference_merchant_id=reference_merchant_id,
            fingerprint=fingerprint,
            status=PaymentStatus.PROCESSING,
            result_code="PAYMENT_IN_PROCESS",
            result_message="",
            create_time=now,
            expiry_time=expiry,
            notify_url=notify_url or ctx.merchant.record.payment_notify_url,
        )
        binding = self._live_binding(client_id, token)
        if binding is not None and binding.wallet is not wallet:
            binding = None
        if binding is not None:
            payment.binding_id = binding.binding_id
            payment.user_login_id = binding.user_login_id

        failure: str | None = None
        if binding is None:
            failure = "INVALID_ACCESS_TOKEN"
        elif ctx.scenario is Scenario.INVALID_ACCESS_TOKEN:
            binding.status = BindingStatus.INVALIDATED
            binding.ended_at = now
            self.store.put_binding(binding)
            failure = "INVALID_ACCESS_TOKEN"
        elif self._over_period_limit(binding, amount, now):
            failure = "USER_AMOUNT_EXCEED_LIMIT"
        elif ctx.scenario is Scenario.USER_BALANCE_NOT_ENOUGH:
            failure = "USER_BALANCE_NOT_ENOUGH"

        if failure is not None:
            payment.status = PaymentStatus.FAIL
            payment.result_code = failure
            payment.result_message = result(failure)["resultMessage"]
            payment.fail_notify_at = now + timedelta(seconds=self.config.order_close_seconds)
            self.store.put_payment(payment)
            self.poke()
            return self._pay_answer(payment)

        if ctx.scenario in (
            Scenario.PAYMENT_IN_PROCESS_THEN_SUCCESS,
            Scenario.PAYMENT_IN_PROCESS_THEN_FAIL,
        ):
            finish = now + timedelta(seconds=self.config.process_delay_seconds)
            if finish > expiry:
                payment.finalize_at, payment.finalize_code = expiry, "ORDER_IS_CLOSED"
            elif ctx.scenario is Scenario.PAYMENT_IN_PROCESS_THEN_SUCCESS:
                payment.finalize_at, payment.finalize_code = finish, "SUCCESS"
            else:
                payment.finalize_at, payment.finalize_code = finish, "USER_BALANCE_NOT_ENOUGH"
            payment.result_message = result("PAYMENT_IN_PROCESS")["resultMessage"]
            self.store.put_payment(payment)
            self._notify_payment(payment, "PAYMENT_PENDING", ctx.header_scenarios)
            self.poke()
            return self._pay_answer(payment)

        payment.status = PaymentStatus.SUCCESS
        payment.result_code = "SUCCESS"
        payment.result_message = result()["resultMessage"]
        payment.payment_time = now
        self.store.put_payment(payment)
        self._notify_payment(payment, "PAYMENT_RESULT", ctx.header_scenarios)
        return self._pay_answer(payment)

    def _over_period_limit(self, binding: Binding, amount: Amount, now: datetime) -> bool:
        limits = CAPABILITIES[binding.wallet].period_limits
        if not limits:
            return False
        spent = self.store.spent_by_day(binding.wallet.value, binding.user_login_id)
        for period, limit in limits:
            start = period_start(now, period).date()
            total = amount.value + sum(value for day, value in spent.items() if day >= start)
            if Amount(amount.currency, total).to_decimal() > limit:
                return True
        return False

    def _psp_customer_info(self, payment: Payment) -> dict[str, str]:
        info = {"pspName": payment.wallet.value}
        binding = self.store.bindings.get(payment.binding_id or "")
        if binding is not None:
            info["pspCustomerId"] = binding.user_id
            info["displayCustomerId"] = mask_login_id(binding.user_login_id)
        return info

    def _payment_base(self, payment: Payment) -> dict[str, Any]:
        return {
            "paymentRequestId": payment.payment_request_id,
            "paymentId": payment.payment_id,
            "paymentAmount": payment.amount.to_api(),
            "paymentCreateTime": fmt_time(payment.create_time),
        }

    def _pay_answer(self, payment: Payment) -> dict[str, Any]:
        base = self._payment_base(payment)
        match payment.status:
            case PaymentStatus.SUCCESS:
                assert payment.payment_time is not None
                return {
                    "result": result(),
                    **base,
                    "paymentTime": fmt_time(payment.payment_time),
                    "pspCustomerInfo": self._psp_customer_info(payment),
                    **fx.settlement_fields(payment.quote),
                }
            case PaymentStatus.PROCESSING:
                return {"result": result("PAYMENT_IN_PROCESS", "U"), **base}
            case PaymentStatus.FAIL:
                return {"result": result(payment.result_code, "F"), **base}
            case PaymentStatus.CANCELLED:
                return {"result": result("ORDER_IS_CANCELED", "F"), **base}

    def _customs_amount(self, payment: Payment) -> dict[str, Any]:
        if payment.wallet is Wallet.ALIPAY_CN and payment.amount.currency == "CNY":
            return {"customsDeclarationAmount": payment.amount.to_api()}
        return {}

    def _notify_payment(
        self, payment: Payment, notify_type: str, header_scenarios: list[Scenario] | None
    ) -> Notification:
        body: dict[str, Any] = {"notifyType": notify_type}
        if notify_type == "PAYMENT_PENDING":
            body["result"] = result("SUCCESS", "S", "The payment is being processed.")
        elif payment.status is PaymentStatus.SUCCESS:
            body["result"] = result()
        else:
            body["result"] = result(payment.result_code, "F")
        body.update(self._payment_base(payment))
        if notify_type == "PAYMENT_RESULT" and payment.status is PaymentStatus.SUCCESS:
            assert payment.payment_time is not None
            body["paymentTime"] = fmt_time(payment.payment_time)
            body["pspCustomerInfo"] = self._psp_customer_info(payment)
            body.update(self._customs_amount(payment))
            body.update(fx.settlement_fields(payment.quote))
        return self.notifier.emit(
            client_id=payment.client_id,
            kind=ApiCall.NOTIFY_PAYMENT,
            url=payment.notify_url,
            body=body,
            reference=payment.payment_request_id,
            header_scenarios=header_scenarios,
        )

    def _find_payment(self, ctx: CallContext, body: Body) -> Payment:
        return self._find(ctx, body, "payment", self.store.payments, self.store.payment_by_request)

    def inquiry_payment(self, ctx: CallContext, body: Body) -> dict[str, Any]:
        payment = self._find_payment(ctx, body)
        answer: dict[str, Any] = {
            "result": result(),
            "paymentStatus": payment.status.value,
        }
        match payment.status:
            case PaymentStatus.SUCCESS:
                answer["paymentResultCode"] = "SUCCESS"
                answer["paymentResultMessage"] = "success"
            case PaymentStatus.PROCESSING:
                answer["paymentResultCode"] = "PAYMENT_IN_PROCESS"
                answer["paymentResultMessage"] = result("PAYMENT_IN_PROCESS")["resultMessage"]
            case PaymentStatus.FAIL:
                answer["paymentResultCode"] = payment.result_code
                answer["paymentResultMessage"] = payment.result_message
            case PaymentStatus.CANCELLED:
                answer["paymentResultCode"] = "ORDER_IS_CANCELED"
                answer["paymentResultMessage"] = result("ORDER_IS_CANCELED")["resultMessage"]
        answer.update(self._payment_base(payment))
        if payment.payment_time is not None:
            answer["paymentTime"] = fmt_time(payment.payment_time)
            answer["pspCustomerInfo"] = self._psp_customer_info(payment)
            answer.update(self._customs_amount(payment))
            answer.update(fx.settlement_fields(payment.quote))
        transactions = [refund_transaction(r) for r in self.store.refunds_of(payment.payment_id)]
        if transactions:
            answer["transactions"] = transactions
        return answer

    def cancel(self, ctx: CallContext, body: Body) -> dict[str, Any]:
        payment = self._find_payment(ctx, body)
        now = self.clock.now()
        match payment.status:
            case PaymentStatus.CANCELLED | PaymentStatus.FAIL:
                pass  # closing a closed or failed payment again changes nothing
            case PaymentStatus.PROCESSING:
                payment.status = PaymentStatus.CANCELLED
                payment.finalize_at = None
                payment.finalize_code = None
            case PaymentStatus.SUCCESS:
                assert payment.payment_time is not None
                if any(
                    r.status is not RefundStatus.FAIL
                    for r in self.store.refunds_of(payment.payment_id)
                ):
                    raise AntomFailure(
                        "ORDER_STATUS_INVALID", message="the payment has refunds; refund instead"
                    )
                if now > payment.payment_time + CANCEL_WINDOW:
                    raise AntomFailure("CANCEL_WINDOW_EXCEED")
                if ctx.scenario is Scenario.MERCHANT_BALANCE_NOT_ENOUGH:
                    raise AntomFailure("MERCHANT_BALANCE_NOT_ENOUGH")
                payment.status = PaymentStatus.CANCELLED
                payment.cancel_id = self._new_id("1150", self.store.cancel_id_taken)
        if payment.cancel_time is None:
            payment.cancel_time = now
        self.store.put_payment(payment)
        return {
            "result": result(),
            "paymentId": payment.payment_id,
            "paymentRequestId": payment.payment_request_id,
            "cancelTime": fmt_time(payment.cancel_time),
        }

    # =========================================================================================
    # scheduled work
    # =========================================================================================

    def _scheduled_payments(self) -> Iterator[tuple[datetime, Payment]]:
        """When each in-process payment ends, and when each failed one is notified."""
        for payment in self.store.scheduled_payments():
            if payment.finalize_at is not None:
                yield payment.finalize_at, payment
            if payment.fail_notify_at is not None:
                yield payment.fail_notify_at, payment

    def _settle_payment(self, payment: Payment, now: datetime) -> None:
        if payment.finalize_at is not None and payment.finalize_at <= now:
            at, code = payment.finalize_at, payment.finalize_code or "SUCCESS"
            payment.finalize_at = payment.finalize_code = None
            if payment.status is PaymentStatus.PROCESSING:
                if code == "SUCCESS":
                    payment.status = PaymentStatus.SUCCESS
                    payment.payment_time = at
                else:
                    payment.status = PaymentStatus.FAIL
                payment.result_code = code
                payment.result_message = result(code)["resultMessage"]
                self.store.put_payment(payment)
                self._notify_payment(payment, "PAYMENT_RESULT", None)
        if payment.fail_notify_at is not None and payment.fail_notify_at <= now:
            payment.fail_notify_at = None
            self.store.put_payment(payment)
            self._notify_payment(payment, "PAYMENT_RESULT", None)
