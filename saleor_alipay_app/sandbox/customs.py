"""Customs declarations for Alipay CN payments: declare and inquiryDeclarationRequests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from pydantic.alias_generators import to_camel

from saleor_alipay_app.antom.models import PaymentStatus

from .clock import fmt_time, new_digits
from .core import CallContext, SandboxCore
from .models import Declaration, DeclaredFields, Money
from .protocol import AntomFailure, Body, dump_json, illegal, result

__all__ = ["CustomsFlows"]

DECLARATION_RESEND_PAUSE: Final = timedelta(minutes=5)  # §7.12
CERTIFICATE_TYPES: Final = frozenset({"ID_CARD", "PASSPORT"})
CUSTOMS_PROVIDER_REGISTRATION_ID: Final = "31222699S7"


class CustomsFlows(SandboxCore):
    """China customs declarations."""

    # =========================================================================================
    # customs declarations
    # =========================================================================================

    def declare(self, ctx: CallContext, body: Body) -> dict[str, Any]:
        request_id = body.text("declarationRequestId", max_len=32)
        asked = _declared_fields(body)
        payment = self._owned(self.store.payments.get(asked.payment_id), ctx)
        if payment.status is not PaymentStatus.SUCCESS:
            raise AntomFailure(
                "ORDER_STATUS_INVALID", message="only a successful payment can be declared"
            )
        if payment.amount.currency != "CNY":
            raise AntomFailure(
                "ORDER_STATUS_INVALID", message="only CNY (Alipay CN) payments can be declared"
            )
        canonical = _canonical(asked)
        now = self.clock.now()
        others = [
            d
            for d in self.store.declarations_of(asked.payment_id)
            if d.declaration_request_id != request_id
        ]
        if sum(d.amount.value for d in others) + asked.amount.value > payment.amount.value:
            raise AntomFailure("TOTAL_DECLARATION_AMOUNT_EXCEED")
        existing = self.store.declarations.get((ctx.merchant.client_id, request_id))
        if existing is not None:
            return self._declare_again(existing, asked, canonical, now)

        if any(
            d.customs_code == asked.customs_code and not (asked.split_order and d.split_order)
            for d in others
        ):
            raise AntomFailure("DUPLICATED_DECLARATIONS")
        declaration = Declaration(
            **dict(asked),
            declaration_request_id=request_id,
            client_id=ctx.merchant.client_id,
            customs_payment_id="CP" + new_digits(20),
            customs_order_id="CO" + new_digits(20),
            clearing_transaction_id=new_digits(28),
            created_at=now,
            last_call_at=now,
            last_request=canonical,
        )
        self.store.put_declaration(declaration)
        return self._declare_answer(declaration)

    def _declare_again(
        self, existing: Declaration, asked: DeclaredFields, canonical: str, now: datetime
    ) -> dict[str, Any]:
        """A declarationRequestId sent again: a retransmission, or a correction (API.md §7.12)."""
        if canonical == existing.last_request:
            return self._declare_answer(existing)  # a plain retransmission
        if (
            existing.payment_id != asked.payment_id
            or existing.split_order != asked.split_order
            or existing.region != asked.region
            or existing.certificate_type != asked.certificate_type
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
        for name, value in asked:  # the fields that may not change are equal
            setattr(existing, name, value)
        existing.last_call_at = now
        existing.last_request = canonical
        self.store.put_declaration(existing)
        return self._declare_answer(existing)

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


def _declared_fields(body: Body) -> DeclaredFields:
    """The declaration a declare request asks for (``PARAM_ILLEGAL`` when malformed)."""
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
    return DeclaredFields(
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
    )


def _canonical(asked: DeclaredFields) -> str:
    """The request as the next one with its declarationRequestId is compared with."""
    data: dict[str, Any] = {to_camel(name): value for name, value in asked}
    data["amount"] = asked.amount.value
    return dump_json(data)
