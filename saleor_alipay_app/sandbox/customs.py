"""Customs declarations for Alipay CN payments: declare and inquiryDeclarationRequests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .clock import fmt_time, new_digits
from .core import (
    CERTIFICATE_TYPES,
    CUSTOMS_PROVIDER_REGISTRATION_ID,
    DECLARATION_RESEND_PAUSE,
    CallContext,
    SandboxCore,
)
from .models import Declaration, Money, PaymentStatus
from .protocol import AntomFailure, Body, dump_json, illegal, result

__all__ = ["CustomsFlows"]


class CustomsFlows(SandboxCore):
    """China customs declarations."""

    # =========================================================================================
    # customs declarations
    # =========================================================================================

    def declare(self, ctx: CallContext, body: Body) -> dict[str, Any]:
        client_id = ctx.merchant.client_id
        request_id = body.text("declarationRequestId", max_len=32)
        payment_id = body.text("paymentId", max_len=64)
        amount = body.amount("declarationAmount")
        customs = body.obj("customs")
        customs_code = customs.text("customsCode", max_len=28)
        region = customs.text("region", max_len=2)
        if region != "CN":
            raise illegal("customs.region must be CN")
        info = body.obj("merchantCustomsInfo")
        merchant_code = info.text("merchantCustomsCode", max_len=128)
        merchant_name = info.text("merchantCustomsName", max_len=256)
        split = body.flag("splitOrder")
        suborder_id = body.opt_text("suborderId", max_len=64)
        if split and suborder_id is None:
            raise illegal("suborderId is required when splitOrder is true")
        certificate = body.opt_obj("buyerCertificate")
        cert_type = cert_no = holder = None
        if certificate is not None:
            cert_type = certificate.text("certificateType", max_len=32)
            if cert_type not in CERTIFICATE_TYPES:
                raise illegal("buyerCertificate.certificateType must be ID_CARD or PASSPORT")
            cert_no = certificate.text("certificateNo", max_len=64)
            holder_name = certificate.opt_obj("holderName")
            holder = holder_name.opt_text("fullName", max_len=128) if holder_name else None
            if cert_type == "ID_CARD" and holder is None:
                raise illegal("buyerCertificate.holderName.fullName is required for ID_CARD")
        if amount.currency != "CNY":
            raise illegal("declarationAmount must be in CNY")

        payment = self.store.payments.get(payment_id)
        if payment is None or payment.client_id != client_id:
            raise AntomFailure("ORDER_NOT_EXIST")
        if payment.status is not PaymentStatus.SUCCESS:
            raise AntomFailure(
                "ORDER_STATUS_INVALID", message="only a successful payment can be declared"
            )
        if payment.amount.currency != "CNY":
            raise AntomFailure(
                "ORDER_STATUS_INVALID", message="only CNY (Alipay CN) payments can be declared"
            )
        canonical = dump_json(
            {
                "paymentId": payment_id,
                "amount": amount.value,
                "customsCode": customs_code,
                "region": region,
                "merchantCustomsCode": merchant_code,
                "merchantCustomsName": merchant_name,
                "splitOrder": split,
                "suborderId": suborder_id,
                "certificateType": cert_type,
                "certificateNo": cert_no,
                "holderName": holder,
            }
        )
        now = self.clock.now()
        others = [
            d
            for d in self.store.declarations_of(payment_id)
            if d.declaration_request_id != request_id
        ]
        if sum(d.amount.value for d in others) + amount.value > payment.amount.value:
            raise AntomFailure("TOTAL_DECLARATION_AMOUNT_EXCEED")
        existing = self.store.declarations.get((client_id, request_id))
        if existing is not None:
            if canonical == existing.last_request:
                return self._declare_answer(existing)  # a plain retransmission
            if (
                existing.payment_id != payment_id
                or existing.split_order != split
                or existing.region != region
                or existing.certificate_type != cert_type
            ):
                raise AntomFailure(
                    "REPEAT_REQ_INCONSISTENT",
                    message="a re-sent declaration may only change the customs code and name, "
                    "the amount, suborderId and the buyer's name and number",
                )
            if now < existing.last_call_at + DECLARATION_RESEND_PAUSE:
                raise AntomFailure(
                    "CONTEXT_INCONSISTENT",
                    message="re-send a declaration at least 5 minutes after the previous call",
                )
            existing.amount = Money.of(amount)
            existing.customs_code = customs_code
            existing.merchant_customs_code = merchant_code
            existing.merchant_customs_name = merchant_name
            existing.suborder_id = suborder_id
            existing.certificate_no = cert_no
            existing.holder_name = holder
            existing.last_call_at = now
            existing.last_request = canonical
            self.store.put_declaration(existing)
            return self._declare_answer(existing)

        if any(d.customs_code == customs_code and not (split and d.split_order) for d in others):
            raise AntomFailure("DUPLICATED_DECLARATIONS")
        declaration = Declaration(
            declaration_request_id=request_id,
            client_id=client_id,
            payment_id=payment_id,
            amount=Money.of(amount),
            customs_code=customs_code,
            region=region,
            merchant_customs_code=merchant_code,
            merchant_customs_name=merchant_name,
            split_order=split,
            suborder_id=suborder_id,
            certificate_type=cert_type,
            certificate_no=cert_no,
            holder_name=holder,
            customs_payment_id="CP" + new_digits(20),
            customs_order_id="CO" + new_digits(20),
            clearing_transaction_id=new_digits(28),
            created_at=now,
            last_call_at=now,
            last_request=canonical,
        )
        self.store.put_declaration(declaration)
        return self._declare_answer(declaration)

    @staticmethod
    def _declare_answer(declaration: Declaration) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "result": result(),
            "customsPaymentId": declaration.customs_payment_id,
            "customsOrderId": declaration.customs_order_id,
            "clearingChannel": "NUCC",
            "clearingTransactionId": declaration.clearing_transaction_id,
            "customsProviderRegistrationId": CUSTOMS_PROVIDER_REGISTRATION_ID,
        }
        if declaration.certificate_type is not None:
            answer["identityCheckResult"] = "CHECK_PASSED"
        return answer

    def inquiry_declarations(self, ctx: CallContext, body: Body) -> dict[str, Any]:
        ids = body.text_list("declarationRequestIds", max_items=10, max_len=32)
        now = self.clock.now()
        delay = timedelta(seconds=self.config.customs_delay_seconds)
        records: list[dict[str, Any]] = []
        missing: list[str] = []
        for request_id in ids:
            declaration = self.store.declarations.get((ctx.merchant.client_id, request_id))
            if declaration is None:
                missing.append(request_id)
                continue
            done_at = declaration.last_call_at + delay
            record: dict[str, Any] = {
                "declarationRequestId": declaration.declaration_request_id,
                "customsPaymentId": declaration.customs_payment_id,
                "customsOrderId": declaration.customs_order_id,
                "customs": {"customsCode": declaration.customs_code, "region": declaration.region},
                "merchantCustomsInfo": {
                    "merchantCustomsCode": declaration.merchant_customs_code,
                    "merchantCustomsName": declaration.merchant_customs_name,
                },
                "declarationAmount": declaration.amount.to_api(),
                "splitOrder": "true" if declaration.split_order else "false",
            }
            if declaration.suborder_id is not None:
                record["suborderId"] = declaration.suborder_id
            if now >= done_at:
                record["declarationRequestStatus"] = "CUSTOMS_PROCESSING_COMPLETED"
                record["lastModifiedTime"] = fmt_time(done_at)
                record["customsDeclarationResultCode"] = "120"
                record["customsDeclarationResultDesc"] = "Verified by customs"
                record["customsDeclarationReturnTime"] = fmt_time(done_at)
            else:
                record["declarationRequestStatus"] = "IN_PROCESS"
                record["lastModifiedTime"] = fmt_time(declaration.last_call_at)
            records.append(record)
        return {
            "result": result(),
            "declarationRequestsNotFound": missing,
            "declarationRecords": records,
        }
