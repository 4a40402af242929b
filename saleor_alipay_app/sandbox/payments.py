"""Payments and refunds: pay, inquiryPayment, cancel, refund, inquiryRefund.

Also their scheduled completion: in-process payments and refunds, failure notifications.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from saleor_alipay_app.antom.money import Amount
from saleor_alipay_app.antom.wallets import (
    CAPABILITIES,
    Wallet,
    WalletLimitError,
    check_payment,
    check_refund,
)

from . import fx
from .clock import fmt_time, new_digits, parse_time
from .config import ApiCall, Scenario
from .core import (
    CANCEL_WINDOW,
    PAYMENT_TTL,
    CallContext,
    SandboxCore,
    limit_code,
    period_start,
    token_hash,
)
from .models import (
    Binding,
    BindingStatus,
    Money,
    Notification,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    SettlementQuote,
)
from .protocol import AntomFailure, Body, illegal, mask_login_id, result

__all__ = ["PaymentFlows"]


class PaymentFlows(SandboxCore):
    """Auto Debit payments and their refunds."""

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
        quote = self._quote(amount, settlement_currency, now)

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

    def _quote(self, amount: Amount, target: str, now: datetime) -> SettlementQuote | None:
        if target == amount.currency:
            return None
        try:
            price = fx.quote_price(amount.currency, target)
        except KeyError:
            raise AntomFailure(
                "SETTLE_CONTRACT_NOT_MATCH",
                message=f"no settlement contract for {amount.currency} settled in {target}",
            ) from None
        return SettlementQuote(
            quote_id="Q" + new_digits(17),
            currency_pair=f"{amount.currency}/{target}",
            price=str(price),
            start_time=now,
            expiry_time=now + timedelta(days=1),
            gross_settlement=Money.of(fx.convert(amount, target, price)),
        )

    def _over_period_limit(self, binding: Binding, amount: Amount, now: datetime) -> bool:
        limits = CAPABILITIES[binding.wallet].period_limits
        if not limits:
            return False
        spent = [
            p
            for p in self.store.payments_of_user(binding.wallet.value, binding.user_login_id)
            if p.status in (PaymentStatus.SUCCESS, PaymentStatus.PROCESSING)
        ]
        for period, limit in limits:
            start = period_start(now, period)
            total = amount.value + sum(p.amount.value for p in spent if p.create_time >= start)
            if Amount(amount.currency, total).to_decimal() > limit:
                return True
        return False

    @staticmethod
    def _settlement_fields(quote: SettlementQuote | None) -> dict[str, Any]:
        if quote is None:
            return {}
        return {
            "grossSettlementAmount": quote.gross_settlement.to_api(),
            "settlementQuote": {
                "quoteId": quote.quote_id,
                "quoteCurrencyPair": quote.currency_pair,
                "quotePrice": quote.price,
                "quoteStartTime": fmt_time(quote.start_time),
                "quoteExpiryTime": fmt_time(quote.expiry_time),
                "guaranteed": "true",
            },
        }

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
                    **self._settlement_fields(payment.quote),
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
            body.update(self._settlement_fields(payment.quote))
        return self.notifier.emit(
            client_id=payment.client_id,
            kind=ApiCall.NOTIFY_PAYMENT,
            url=payment.notify_url,
            body=body,
            reference=payment.payment_request_id,
            header_scenarios=header_scenarios,
        )

    def _find_payment(self, ctx: CallContext, body: Body) -> Payment:
        payment_id = body.opt_text("paymentId", max_len=64)
        request_id = body.opt_text("paymentRequestId", max_len=64)
        if payment_id is None and request_id is None:
            raise illegal("paymentId or paymentRequestId is required")
        client_id = ctx.merchant.client_id
        payment: Payment | None
        if payment_id is not None:
            payment = self.store.payments.get(payment_id)
            if payment is not None and payment.client_id != client_id:
                payment = None
        else:
            assert request_id is not None
            payment = self.store.payment_by_request(client_id, request_id)
        if payment is None:
            raise AntomFailure("ORDER_NOT_EXIST")
        return payment

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
            answer.update(self._settlement_fields(payment.quote))
        transactions = [
            self._refund_transaction(r) for r in self.store.refunds_of(payment.payment_id)
        ]
        if transactions:
            answer["transactions"] = transactions
        return answer

    @staticmethod
    def _refund_transaction(refund: Refund) -> dict[str, Any]:
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
    # refunds
    # =========================================================================================

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

        payment = self.store.payments.get(payment_id)
        if payment is None or payment.client_id != client_id:
            raise AntomFailure("ORDER_NOT_EXIST")
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
            quote=self._quote(amount, payment.settlement_currency, now),
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
                    **self._settlement_fields(refund.quote),
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
        body.update(self._settlement_fields(refund.quote))
        return self.notifier.emit(
            client_id=refund.client_id,
            kind=ApiCall.NOTIFY_REFUND,
            url=refund.notify_url,
            body=body,
            reference=refund.refund_request_id,
            header_scenarios=header_scenarios,
        )

    def inquiry_refund(self, ctx: CallContext, body: Body) -> dict[str, Any]:
        refund_id = body.opt_text("refundId", max_len=64)
        request_id = body.opt_text("refundRequestId", max_len=64)
        if refund_id is None and request_id is None:
            raise illegal("refundId or refundRequestId is required")
        client_id = ctx.merchant.client_id
        refund: Refund | None
        if refund_id is not None:
            refund = self.store.refunds.get(refund_id)
            if refund is not None and refund.client_id != client_id:
                refund = None
        else:
            assert request_id is not None
            refund = self.store.refund_by_request(client_id, request_id)
        if refund is None:
            raise AntomFailure("ORDER_NOT_EXIST")
        answer: dict[str, Any] = {
            "result": result(),
            **self._refund_base(refund),
            "refundStatus": refund.status.value,
        }
        del answer["paymentId"]
        if refund.refund_time is not None:
            answer["refundTime"] = fmt_time(refund.refund_time)
            answer.update(self._settlement_fields(refund.quote))
        return answer

    # =========================================================================================
    # scheduled work
    # =========================================================================================

    def _pending(self) -> Iterable[tuple[datetime, Payment | Refund]]:
        for payment in self.store.scheduled_payments():
            if payment.finalize_at is not None:
                yield payment.finalize_at, payment
            if payment.fail_notify_at is not None:
                yield payment.fail_notify_at, payment
        for refund in self.store.scheduled_refunds():
            if refund.finalize_at is not None:
                yield refund.finalize_at, refund

    def _next_due(self) -> datetime | None:
        return min((due for due, _ in self._pending()), default=None)

    def settle_due(self) -> None:
        """Finish every in-process payment or refund whose time has come, and notify."""
        now = self.clock.now()
        due = [record for at, record in self._pending() if at <= now]
        for record in due:
            if isinstance(record, Payment):
                self._settle_payment(record, now)
            else:
                self._settle_refund(record, now)

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
