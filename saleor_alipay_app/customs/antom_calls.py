"""The two calls customs declarations make to Antom (API.md §7.12-7.13) and how each answer is
stored: ``declare`` for a stored PENDING declaration, and one record of
``inquiryDeclarationRequests``.

- ``declare`` S: IN_PROCESS; F: FAILED (the declaration does not exist at Antom), or, for a
  refused re-declaration, back to what it was; no answer or U: PENDING, and the next inquiry
  re-sends the identical request (same id = retransmission).
- An inquiry record is the truth: its status, customs result, amount and customs code are
  stored, and every change is written to the history.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final

from saleor_alipay_app.antom.client import AntomUnavailable
from saleor_alipay_app.antom.models import (
    Certificate,
    Customs,
    DeclarationRecord,
    DeclareRequest,
    MerchantCustomsInfo,
    UserName,
)
from saleor_alipay_app.antom.money import Amount
from saleor_alipay_app.antom.results import Outcome, merchant_message
from saleor_alipay_app.crypto import KeyRing
from saleor_alipay_app.customs.models import (
    CERTIFICATE_NO_PURPOSE,
    HOLDER_NAME_PURPOSE,
    Declaration,
    DeclarationStatus,
)
from saleor_alipay_app.customs.repository import CustomsRepository
from saleor_alipay_app.db import transaction, utcnow
from saleor_alipay_app.payments.deps import PaymentDeps

log = logging.getLogger(__name__)

CUSTOMS_REGION: Final = "CN"


@dataclass(frozen=True)
class Snapshot:
    """What a re-declaration changes, to put back when Antom refuses it."""

    status: DeclarationStatus
    customs_code: str
    merchant_customs_code: str
    merchant_customs_name: str
    amount: Decimal
    amount_minor: int
    suborder_id: str | None
    certificate_no_encrypted: str
    holder_name_encrypted: str
    last_call_at: datetime

    @classmethod
    def of(cls, row: Declaration) -> Snapshot:
        return cls(
            status=row.status,
            customs_code=row.customs_code,
            merchant_customs_code=row.merchant_customs_code,
            merchant_customs_name=row.merchant_customs_name,
            amount=row.amount,
            amount_minor=int(row.amount_minor),
            suborder_id=row.suborder_id,
            certificate_no_encrypted=row.certificate_no_encrypted,
            holder_name_encrypted=row.holder_name_encrypted,
            last_call_at=row.last_call_at,
        )

    def restore(self, row: Declaration) -> None:
        row.status = self.status
        row.customs_code = self.customs_code
        row.merchant_customs_code = self.merchant_customs_code
        row.merchant_customs_name = self.merchant_customs_name
        row.amount = self.amount
        row.amount_minor = self.amount_minor
        row.suborder_id = self.suborder_id
        row.certificate_no_encrypted = self.certificate_no_encrypted
        row.holder_name_encrypted = self.holder_name_encrypted
        row.last_call_at = self.last_call_at


def declare_request(keys: KeyRing, row: Declaration) -> DeclareRequest:
    """The ``declare`` request of a stored declaration (the same for every retransmission)."""
    return DeclareRequest(
        declaration_request_id=row.declaration_request_id,
        payment_id=row.antom_payment_id,
        declaration_amount=Amount(row.currency, int(row.amount_minor)),
        customs=Customs(customs_code=row.customs_code, region=CUSTOMS_REGION),
        merchant_customs_info=MerchantCustomsInfo(
            merchant_customs_code=row.merchant_customs_code,
            merchant_customs_name=row.merchant_customs_name,
        ),
        split_order=row.split_order,
        suborder_id=row.suborder_id,
        buyer_certificate=Certificate(
            certificate_type=row.certificate_type,
            certificate_no=keys.decrypt(row.certificate_no_encrypted, CERTIFICATE_NO_PURPOSE),
            holder_name=UserName(
                full_name=keys.decrypt(row.holder_name_encrypted, HOLDER_NAME_PURPOSE)
            ),
        ),
    )


async def send(
    deps: PaymentDeps, declaration_id: int, previous: Snapshot | None = None
) -> Declaration:
    """Send ``declare`` for a stored PENDING declaration and store what Antom answered."""
    async with deps.sessions() as session:
        repo = CustomsRepository(session)
        row = await repo.declaration_by_id(declaration_id)
        assert row is not None
        config = await repo.channels.config(row.channel_config_id)
    assert config is not None
    request = declare_request(deps.keys, row)
    client = deps.antom.for_config(config)
    try:
        response = await client.declare(request)
    except AntomUnavailable as exc:
        log.warning(
            "declare outcome unknown",
            extra={"declaration": row.declaration_request_id, "reason": exc.reason},
        )
        return await _store_unknown(deps, declaration_id, str(exc.reason))
    model = response.model
    code = response.result_code
    async with transaction(deps.sessions) as session:
        repo = CustomsRepository(session)
        row = await repo.declaration_for_update(declaration_id)
        assert row is not None
        now = utcnow()
        row.result_code = code[:64]
        row.result_message = (model.result.result_message or "")[:256] or None
        row.updated_at = now
        match response.outcome:
            case Outcome.SUCCESS:
                row.status = DeclarationStatus.IN_PROCESS
                row.antom_status = "IN_PROCESS"
                row.customs_result_code = None
                row.customs_result_desc = None
                row.customs_return_time = None
                row.customs_payment_id = model.customs_payment_id or row.customs_payment_id
                row.customs_order_id = model.customs_order_id or row.customs_order_id
                row.identity_check_result = model.identity_check_result
                row.clearing_channel = model.clearing_channel
                row.clearing_transaction_id = model.clearing_transaction_id
                row.customs_provider_registration_id = model.customs_provider_registration_id
                detail = "accepted by Antom" + (
                    f"; identity {model.identity_check_result}"
                    if model.identity_check_result
                    else ""
                )
                repo.add_history(row, DeclarationStatus.IN_PROCESS.value, detail)
            case Outcome.FAILURE | Outcome.RETRY_NEW_REQUEST:
                message = f"{code}: {merchant_message(code)}"
                if previous is not None:
                    previous.restore(row)
                    repo.add_history(row, "REDECLARE_REFUSED", message)
                elif row.customs_payment_id:
                    # A re-sent correction was refused; the accepted declaration stands.
                    row.status = DeclarationStatus.IN_PROCESS
                    repo.add_history(row, "REDECLARE_REFUSED", message + "; inquire it")
                else:
                    row.status = DeclarationStatus.FAILED
                    repo.add_history(row, DeclarationStatus.FAILED.value, message)
            case Outcome.UNKNOWN_INQUIRE | Outcome.RETRY_SAME_REQUEST:
                repo.add_history(row, "UNKNOWN", f"{code}: outcome unknown; inquire to resend")
        session.add(row)
    return row


async def _store_unknown(deps: PaymentDeps, declaration_id: int, reason: str) -> Declaration:
    async with transaction(deps.sessions) as session:
        repo = CustomsRepository(session)
        row = await repo.declaration_for_update(declaration_id)
        assert row is not None
        row.result_code = "NO_ANSWER"
        row.result_message = f"no usable answer from Antom ({reason}); inquire to resend"[:256]
        row.updated_at = utcnow()
        repo.add_history(row, "UNKNOWN", row.result_message)
        session.add(row)
    return row


def status_of(record: DeclarationRecord) -> DeclarationStatus:
    """Our state of a declaration as an inquiry record reports it."""
    if record.declaration_request_status == "CUSTOMS_PROCESSING_COMPLETED":
        code = (record.customs_declaration_result_code or "").strip()
        return DeclarationStatus.REJECTED if code.startswith("-") else DeclarationStatus.COMPLETED
    return DeclarationStatus.IN_PROCESS


async def apply_record(deps: PaymentDeps, declaration_id: int, record: DeclarationRecord) -> None:
    """Store what one inquiry record says, with a history entry when anything changed."""
    async with transaction(deps.sessions) as session:
        repo = CustomsRepository(session)
        row = await repo.declaration_for_update(declaration_id)
        assert row is not None
        now = utcnow()
        status = status_of(record)
        changed = status is not row.status
        row.last_inquiry_at = now
        row.antom_status = (record.declaration_request_status or "")[:32] or None
        row.customs_payment_id = record.customs_payment_id or row.customs_payment_id
        row.customs_order_id = record.customs_order_id or row.customs_order_id
        row.customs_result_code = (record.customs_declaration_result_code or "")[:16] or None
        row.customs_result_desc = (record.customs_declaration_result_desc or "")[:256] or None
        row.customs_return_time = record.customs_declaration_return_time
        if record.declaration_amount is not None and (
            record.declaration_amount.value != int(row.amount_minor)
            or record.declaration_amount.currency != row.currency
        ):
            # Antom's record is the truth: a re-declaration whose answer never came back.
            row.amount_minor = record.declaration_amount.value
            row.amount = record.declaration_amount.to_decimal()
            changed = True
        if record.customs is not None and record.customs.customs_code != row.customs_code:
            row.customs_code = record.customs.customs_code
            changed = True
        row.status = status
        if changed:
            row.updated_at = now
            detail = "as reported by Antom"
            if row.customs_result_code:
                detail = f"customs result {row.customs_result_code}"
                if row.customs_result_desc:
                    detail += f" ({row.customs_result_desc})"
            repo.add_history(row, status.value, detail)
        session.add(row)
