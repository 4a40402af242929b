"""Customs declarations of paid Alipay CN payments (API.md §7.12-7.13): declare, inquire and
re-declare.

The rules:
- Everything that can be checked here is checked before Antom is called: the payment is ours,
  paid, in CNY with Alipay CN; the customs code is one Antom names; the amount fits in what was
  paid minus what is refunded and already declared; a split declaration has a suborderId; the
  buyer's identity is complete. A refusal raises :class:`DeclarationError` and calls nothing.
- The row, with its deterministic ``declarationRequestId`` (1-32 characters), is committed
  before ``declare`` is sent; every state is written to the history with the change.
- ``declare`` S: IN_PROCESS; F: FAILED (the declaration does not exist at Antom); no answer or U:
  PENDING, and the next inquiry re-sends the identical request (same id = retransmission).
- A re-declaration keeps the ``declarationRequestId``, changes only what Antom lets change
  (customs code, merchant customs code and name, amount, suborderId, buyer's number and name),
  and only 5 minutes or more after the previous call. When Antom refuses it, the declaration
  goes back to what it was.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from saleor_alipay_app.antom.client import AntomUnavailable
from saleor_alipay_app.antom.models import (
    Certificate,
    Customs,
    DeclarationRecord,
    DeclareRequest,
    InquiryDeclarationRequestsRequest,
    MerchantCustomsInfo,
    UserName,
)
from saleor_alipay_app.antom.money import Amount, AmountError
from saleor_alipay_app.antom.results import Outcome, merchant_message
from saleor_alipay_app.antom.wallets import Wallet
from saleor_alipay_app.channels.service import AntomClients
from saleor_alipay_app.crypto import KeyRing
from saleor_alipay_app.customs.models import (
    CERTIFICATE_NO_PURPOSE,
    HOLDER_NAME_PURPOSE,
    Declaration,
    DeclarationStatus,
)
from saleor_alipay_app.customs.repository import CustomsRepository
from saleor_alipay_app.db import transaction, utcnow
from saleor_alipay_app.errors import AppError
from saleor_alipay_app.payments.models import History, PaymentStatus

log = logging.getLogger(__name__)

# The customs authorities API.md §7.12 names; any other code is refused before calling Antom.
KNOWN_CUSTOMS_CODES: Final = ("ZONGSHU", "ZHENGZHOU", "NINGBO", "SHANGHAI_CBT", "HENAN")
CERTIFICATE_TYPES: Final = ("ID_CARD", "PASSPORT")
CUSTOMS_CURRENCY: Final = "CNY"
CUSTOMS_REGION: Final = "CN"
RESEND_PAUSE: Final = timedelta(minutes=5)
INQUIRY_BATCH: Final = 10  # declarationRequestIds per inquiryDeclarationRequests (§7.13)
MAX_SEQUENCE: Final = 9999
OPEN_STATUSES: Final = frozenset({DeclarationStatus.PENDING, DeclarationStatus.IN_PROCESS})
_CHINESE_ID = re.compile(r"^[0-9]{17}[0-9X]$")


class DeclarationError(AppError):
    """A refusal before anything was sent: an HTTP status, a machine code and what to fix."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(code, message, status=status)


@dataclass(frozen=True)
class BuyerIdentity:
    certificate_type: str
    certificate_no: str
    holder_name: str


@dataclass(frozen=True)
class DeclarationInput:
    customs_code: str
    merchant_customs_code: str
    merchant_customs_name: str
    amount: Decimal | str
    buyer: BuyerIdentity | None
    split_order: bool = False
    suborder_id: str | None = None


@dataclass(frozen=True)
class Redeclaration:
    """What a re-declaration may change (API.md §7.12); None keeps the current value."""

    customs_code: str | None = None
    merchant_customs_code: str | None = None
    merchant_customs_name: str | None = None
    amount: Decimal | str | None = None
    suborder_id: str | None = None
    certificate_no: str | None = None
    holder_name: str | None = None


@dataclass
class CustomsDeps:
    sessions: async_sessionmaker[AsyncSession]
    keys: KeyRing
    antom: AntomClients


@dataclass
class InquiryResult:
    declarations: list[Declaration]
    problems: list[str] = field(default_factory=list)


def declaration_request_id(payment_request_id: str, sequence: int) -> str:
    """Deterministic from the payment and the declaration's number: ``saa<24 hex>d<n>``."""
    digest = hashlib.sha256(payment_request_id.encode()).hexdigest()[:24]
    value = f"saa{digest}d{sequence}"
    assert 1 <= len(value) <= 32
    return value


# -- checking input ---------------------------------------------------------------------------


def _text(value: str | None, what: str, max_len: int) -> str:
    text = (value or "").strip()
    if not text:
        raise DeclarationError("MISSING_FIELD", f"{what} is required")
    if len(text) > max_len:
        raise DeclarationError("INVALID_FIELD", f"{what} is longer than {max_len} characters")
    return text


def _customs_code(value: str | None) -> str:
    code = _text(value, "customsCode", 28).upper()
    if code not in KNOWN_CUSTOMS_CODES:
        raise DeclarationError(
            "UNKNOWN_CUSTOMS_CODE",
            f"unknown customs code {code!r}: use one of {', '.join(KNOWN_CUSTOMS_CODES)}",
        )
    return code


def _amount(value: Decimal | str | None) -> Amount:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DeclarationError("MISSING_FIELD", "amount is required")
    try:
        amount = Amount.from_decimal(
            value.strip() if isinstance(value, str) else value, CUSTOMS_CURRENCY
        )
    except AmountError as exc:
        raise DeclarationError("INVALID_AMOUNT", f"amount: {exc}") from None
    if amount.value <= 0:
        raise DeclarationError("INVALID_AMOUNT", "the declared amount must be more than zero")
    return amount


def _certificate_no(certificate_type: str, value: str | None) -> str:
    number = _text(value, "buyer.certificateNo", 64).upper()
    if certificate_type == "ID_CARD" and not _CHINESE_ID.match(number):
        raise DeclarationError(
            "INVALID_FIELD",
            "buyer.certificateNo: a resident ID card number has 18 characters "
            "(17 digits and a digit or X)",
        )
    return number


def _buyer(buyer: BuyerIdentity | None) -> BuyerIdentity:
    if buyer is None:
        raise DeclarationError(
            "MISSING_BUYER_IDENTITY",
            "the buyer's identity is required: certificateType (ID_CARD or PASSPORT), "
            "certificateNo and holderName",
        )
    kind = (buyer.certificate_type or "").strip().upper()
    if not kind:
        raise DeclarationError("MISSING_BUYER_IDENTITY", "buyer.certificateType is required")
    if kind not in CERTIFICATE_TYPES:
        raise DeclarationError("INVALID_FIELD", "buyer.certificateType must be ID_CARD or PASSPORT")
    return BuyerIdentity(
        certificate_type=kind,
        certificate_no=_certificate_no(kind, buyer.certificate_no),
        holder_name=_text(buyer.holder_name, "buyer.holderName", 128),
    )


def _suborder(split_order: bool, suborder_id: str | None) -> str | None:
    if split_order:
        return _text(suborder_id, "suborderId (needed for a split declaration)", 64)
    if suborder_id is not None and suborder_id.strip():
        raise DeclarationError(
            "INVALID_FIELD", "suborderId is only for split declarations (splitOrder true)"
        )
    return None


@dataclass(frozen=True)
class _Checked:
    customs_code: str
    merchant_customs_code: str
    merchant_customs_name: str
    amount: Amount
    split_order: bool
    suborder_id: str | None
    buyer: BuyerIdentity


def check_input(data: DeclarationInput) -> _Checked:
    """Validate everything that needs no database; raises :class:`DeclarationError`."""
    return _Checked(
        customs_code=_customs_code(data.customs_code),
        merchant_customs_code=_text(data.merchant_customs_code, "merchantCustomsCode", 128),
        merchant_customs_name=_text(data.merchant_customs_name, "merchantCustomsName", 256),
        amount=_amount(data.amount),
        split_order=bool(data.split_order),
        suborder_id=_suborder(bool(data.split_order), data.suborder_id),
        buyer=_buyer(data.buyer),
    )


def _money(minor: int) -> str:
    return str(Amount(CUSTOMS_CURRENCY, minor).to_decimal())


def _fits(
    repo_declarations: Sequence[Declaration],
    *,
    paid_minor: int,
    refunded_minor: int,
    amount: Amount,
    exclude_id: int | None = None,
) -> None:
    declared = sum(
        int(d.amount_minor)
        for d in repo_declarations
        if d.status is not DeclarationStatus.FAILED and d.id != exclude_id
    )
    available = paid_minor - refunded_minor - declared
    if amount.value > available:
        raise DeclarationError(
            "AMOUNT_EXCEEDS_PAID",
            f"CNY {amount.to_decimal()} is more than can still be declared: paid "
            f"{_money(paid_minor)}, refunded {_money(refunded_minor)}, already declared "
            f"{_money(declared)}, so at most {_money(max(available, 0))}",
        )


# -- declaring --------------------------------------------------------------------------------


async def declare(
    deps: CustomsDeps,
    installation_id: int,
    payment_request_id: str,
    data: DeclarationInput,
    *,
    now: datetime | None = None,
) -> Declaration:
    """Declare (part of) a paid payment to customs; see the module docstring."""
    checked = check_input(data)
    moment = now or utcnow()
    async with transaction(deps.sessions) as session:
        repo = CustomsRepository(session)
        payment = await repo.payment_for_update(installation_id, payment_request_id.strip())
        if payment is None or payment.id is None:
            raise DeclarationError(
                "PAYMENT_NOT_FOUND", f"no payment {payment_request_id!r} in this store", 404
            )
        if payment.status is not PaymentStatus.SUCCEEDED:
            raise DeclarationError(
                "PAYMENT_NOT_PAID",
                f"payment {payment.payment_request_id} is {payment.status.value}: only a paid "
                "payment can be declared",
            )
        if payment.currency != CUSTOMS_CURRENCY or payment.wallet != Wallet.ALIPAY_CN.value:
            raise DeclarationError(
                "NOT_DECLARABLE",
                f"customs declaration is for Alipay CN payments in CNY; this one is "
                f"{payment.currency} with {payment.wallet}",
            )
        if not payment.antom_payment_id:
            raise DeclarationError(
                "NOT_DECLARABLE", "the payment has no Antom paymentId yet: inquire it first"
            )
        refunded = await repo.refunded_minor(payment.id)
        paid = int(payment.amount_minor)
        if refunded >= paid:
            raise DeclarationError(
                "PAYMENT_REFUNDED",
                f"payment {payment.payment_request_id} was refunded in full: nothing to declare",
            )
        existing = await repo.declarations_of_payment(payment.id)
        live = [d for d in existing if d.status is not DeclarationStatus.FAILED]
        _fits(existing, paid_minor=paid, refunded_minor=refunded, amount=checked.amount)
        for other in live:
            if other.customs_code == checked.customs_code and not (
                checked.split_order and other.split_order
            ):
                raise DeclarationError(
                    "DUPLICATED_DECLARATION",
                    f"this payment is already declared to {other.customs_code} "
                    f"({other.declaration_request_id}): a second declaration to the same customs "
                    "must be split (splitOrder with a suborderId) on both",
                )
            if checked.suborder_id is not None and other.suborder_id == checked.suborder_id:
                raise DeclarationError(
                    "DUPLICATED_SUBORDER",
                    f"suborderId {checked.suborder_id!r} is already used by "
                    f"{other.declaration_request_id}",
                )
        sequence = max((d.sequence for d in existing), default=0) + 1
        if sequence > MAX_SEQUENCE:
            raise DeclarationError("TOO_MANY_DECLARATIONS", "too many declarations of a payment")
        row = Declaration(
            installation_id=installation_id,
            channel_config_id=payment.channel_config_id,
            payment_id=payment.id,
            payment_request_id=payment.payment_request_id,
            antom_payment_id=payment.antom_payment_id,
            sequence=sequence,
            declaration_request_id=declaration_request_id(payment.payment_request_id, sequence),
            customs_code=checked.customs_code,
            merchant_customs_code=checked.merchant_customs_code,
            merchant_customs_name=checked.merchant_customs_name,
            currency=CUSTOMS_CURRENCY,
            amount=checked.amount.to_decimal(),
            amount_minor=checked.amount.value,
            split_order=checked.split_order,
            suborder_id=checked.suborder_id,
            certificate_type=checked.buyer.certificate_type,
            certificate_no_encrypted=deps.keys.encrypt(
                checked.buyer.certificate_no, CERTIFICATE_NO_PURPOSE
            ),
            holder_name_encrypted=deps.keys.encrypt(checked.buyer.holder_name, HOLDER_NAME_PURPOSE),
            status=DeclarationStatus.PENDING,
            last_call_at=moment,
            created_at=moment,
            updated_at=moment,
        )
        if not await repo.payments.insert(row):
            raise DeclarationError(
                "CONCURRENT_DECLARATION",
                "another declaration of this payment is being created: try again",
                409,
            )
        repo.add_history(
            row,
            DeclarationStatus.PENDING.value,
            f"CNY {checked.amount.to_decimal()} to {checked.customs_code}"
            + (f" (suborder {checked.suborder_id})" if checked.suborder_id else ""),
        )
        declaration_id = row.id
    assert declaration_id is not None
    return await _send(deps, declaration_id)


@dataclass(frozen=True)
class _Snapshot:
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
    def of(cls, row: Declaration) -> _Snapshot:
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


def _request(deps: CustomsDeps, row: Declaration) -> DeclareRequest:
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
            certificate_no=deps.keys.decrypt(row.certificate_no_encrypted, CERTIFICATE_NO_PURPOSE),
            holder_name=UserName(
                full_name=deps.keys.decrypt(row.holder_name_encrypted, HOLDER_NAME_PURPOSE)
            ),
        ),
    )


async def _send(
    deps: CustomsDeps, declaration_id: int, previous: _Snapshot | None = None
) -> Declaration:
    """Send ``declare`` for a stored PENDING declaration and store what Antom answered."""
    async with deps.sessions() as session:
        repo = CustomsRepository(session)
        row = await session.get(Declaration, declaration_id)
        assert row is not None
        config = await repo.config(row.channel_config_id)
    assert config is not None
    request = _request(deps, row)
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


async def _store_unknown(deps: CustomsDeps, declaration_id: int, reason: str) -> Declaration:
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


# -- re-declaring -----------------------------------------------------------------------------


async def redeclare(
    deps: CustomsDeps,
    installation_id: int,
    declaration_id: int,
    changes: Redeclaration,
    *,
    now: datetime | None = None,
) -> Declaration:
    """Correct a declaration at customs (same declarationRequestId); see the module docstring."""
    moment = now or utcnow()
    async with transaction(deps.sessions) as session:
        repo = CustomsRepository(session)
        found = await repo.declaration(installation_id, declaration_id)
        if found is None or found.id is None:
            raise DeclarationError("DECLARATION_NOT_FOUND", "no such declaration", 404)
        row = await repo.declaration_for_update(found.id)
        assert row is not None
        assert row.id is not None
        if row.status is DeclarationStatus.FAILED:
            raise DeclarationError(
                "DECLARATION_FAILED",
                f"Antom refused this declaration ({row.result_code}): it does not exist at "
                "customs, so make a new declaration instead",
            )
        current_no = deps.keys.decrypt(row.certificate_no_encrypted, CERTIFICATE_NO_PURPOSE)
        current_name = deps.keys.decrypt(row.holder_name_encrypted, HOLDER_NAME_PURPOSE)
        new: dict[str, Any] = {}
        if changes.customs_code is not None:
            new["customs_code"] = _customs_code(changes.customs_code)
        if changes.merchant_customs_code is not None:
            new["merchant_customs_code"] = _text(
                changes.merchant_customs_code, "merchantCustomsCode", 128
            )
        if changes.merchant_customs_name is not None:
            new["merchant_customs_name"] = _text(
                changes.merchant_customs_name, "merchantCustomsName", 256
            )
        amount: Amount | None = None
        if changes.amount is not None:
            amount = _amount(changes.amount)
        if changes.suborder_id is not None:
            if not row.split_order:
                raise DeclarationError(
                    "INVALID_FIELD", "suborderId is only for split declarations (splitOrder true)"
                )
            new["suborder_id"] = _text(changes.suborder_id, "suborderId", 64)
        certificate_no = (
            _certificate_no(row.certificate_type, changes.certificate_no)
            if changes.certificate_no is not None
            else current_no
        )
        holder_name = (
            _text(changes.holder_name, "buyer.holderName", 128)
            if changes.holder_name is not None
            else current_name
        )
        differences = [name for name, value in new.items() if getattr(row, name) != value]
        if amount is not None and amount.value != int(row.amount_minor):
            differences.append("amount")
        if certificate_no != current_no:
            differences.append("certificate_no")
        if holder_name != current_name:
            differences.append("holder_name")

        if not differences:
            if row.status is not DeclarationStatus.PENDING:
                raise DeclarationError(
                    "NOTHING_TO_CHANGE",
                    "the re-declaration changes nothing: give the corrected fields",
                )
            # The identical request again: a retransmission of an unknown outcome.
            repo.add_history(row, "RESENT", "identical request re-sent")
            send: tuple[int, _Snapshot | None] = (row.id, None)
        else:
            send = await _apply_changes(
                deps, repo, row, new, amount, certificate_no, holder_name, moment
            )
    return await _send(deps, send[0], send[1])


async def _apply_changes(
    deps: CustomsDeps,
    repo: CustomsRepository,
    row: Declaration,
    new: dict[str, Any],
    amount: Amount | None,
    certificate_no: str,
    holder_name: str,
    moment: datetime,
) -> tuple[int, _Snapshot]:
    """Check and store a re-declaration's changes (PENDING); the caller commits and sends."""
    assert row.id is not None
    current_no = deps.keys.decrypt(row.certificate_no_encrypted, CERTIFICATE_NO_PURPOSE)
    current_name = deps.keys.decrypt(row.holder_name_encrypted, HOLDER_NAME_PURPOSE)
    if row.status is DeclarationStatus.PENDING:
        raise DeclarationError(
            "OUTCOME_UNKNOWN",
            "the outcome of the last call is not known yet: inquire the declaration first",
        )
    earliest = row.last_call_at + RESEND_PAUSE
    if moment < earliest:
        raise DeclarationError(
            "REDECLARE_TOO_EARLY",
            "Antom accepts a re-declaration at least 5 minutes after the previous call: "
            f"try again after {earliest.isoformat(timespec='seconds')}",
        )
    payment = await repo.payment_for_update(row.installation_id, row.payment_request_id)
    assert payment is not None
    assert payment.id is not None
    if amount is not None:
        _fits(
            await repo.declarations_of_payment(payment.id),
            paid_minor=int(payment.amount_minor),
            refunded_minor=await repo.refunded_minor(payment.id),
            amount=amount,
            exclude_id=row.id,
        )
    if "suborder_id" in new:
        for other in await repo.declarations_of_payment(payment.id):
            if (
                other.id != row.id
                and other.status is not DeclarationStatus.FAILED
                and other.suborder_id == new["suborder_id"]
            ):
                raise DeclarationError(
                    "DUPLICATED_SUBORDER",
                    f"suborderId {new['suborder_id']!r} is already used by "
                    f"{other.declaration_request_id}",
                )
    previous = _Snapshot.of(row)
    described = []
    for name, value in new.items():
        if getattr(row, name) != value:
            described.append(f"{name} {getattr(row, name)} -> {value}")
            setattr(row, name, value)
    if amount is not None and amount.value != int(row.amount_minor):
        described.append(f"amount {_money(int(row.amount_minor))} -> {amount.to_decimal()}")
        row.amount = amount.to_decimal()
        row.amount_minor = amount.value
    if certificate_no != current_no:
        described.append("buyer certificate number corrected")
        row.certificate_no_encrypted = deps.keys.encrypt(certificate_no, CERTIFICATE_NO_PURPOSE)
    if holder_name != current_name:
        described.append("buyer name corrected")
        row.holder_name_encrypted = deps.keys.encrypt(holder_name, HOLDER_NAME_PURPOSE)
    row.status = DeclarationStatus.PENDING
    row.last_call_at = moment
    row.updated_at = moment
    repo.session.add(row)
    repo.add_history(row, DeclarationStatus.PENDING.value, "re-declared: " + "; ".join(described))
    return row.id, previous


# -- inquiring --------------------------------------------------------------------------------


def _status_of(record: DeclarationRecord) -> DeclarationStatus:
    if record.declaration_request_status == "CUSTOMS_PROCESSING_COMPLETED":
        code = (record.customs_declaration_result_code or "").strip()
        return DeclarationStatus.REJECTED if code.startswith("-") else DeclarationStatus.COMPLETED
    return DeclarationStatus.IN_PROCESS


async def inquire(
    deps: CustomsDeps,
    installation_id: int,
    declaration_ids: Sequence[int] | None = None,
    *,
    limit: int = 500,
) -> InquiryResult:
    """Ask Antom where declarations stand (≤10 per call) and store what changed.

    ``declaration_ids`` None: every open declaration (PENDING, IN_PROCESS). A PENDING one that
    Antom does not know is re-sent identically (the first request never arrived).
    """
    async with deps.sessions() as session:
        repo = CustomsRepository(session)
        if declaration_ids is None:
            rows = await repo.open_declarations(installation_id, limit)
        else:
            rows = await repo.declarations_by_ids(installation_id, declaration_ids)
    result = InquiryResult(declarations=[])
    by_config: dict[int, list[Declaration]] = {}
    for row in rows:
        if row.status is DeclarationStatus.FAILED:
            continue
        by_config.setdefault(row.channel_config_id, []).append(row)
    resend: list[int] = []
    for config_id, group in by_config.items():
        async with deps.sessions() as session:
            config = await CustomsRepository(session).config(config_id)
        assert config is not None
        client = deps.antom.for_config(config)
        for start in range(0, len(group), INQUIRY_BATCH):
            chunk = group[start : start + INQUIRY_BATCH]
            ids = [d.declaration_request_id for d in chunk]
            try:
                response = await client.inquiry_declaration_requests(
                    InquiryDeclarationRequestsRequest(declaration_request_ids=ids)
                )
            except AntomUnavailable as exc:
                result.problems.append(f"Antom did not answer ({exc.reason}) for {', '.join(ids)}")
                continue
            if response.outcome is not Outcome.SUCCESS:
                result.problems.append(
                    f"inquiry refused: {response.result_code} "
                    f"({merchant_message(response.result_code)}) for {', '.join(ids)}"
                )
                continue
            records = {
                r.declaration_request_id: r for r in response.model.declaration_records or []
            }
            not_found = set(response.model.declaration_requests_not_found or [])
            for row in chunk:
                assert row.id is not None
                record = records.get(row.declaration_request_id)
                if record is not None:
                    await _apply_record(deps, row.id, record)
                elif row.declaration_request_id in not_found:
                    if row.status is DeclarationStatus.PENDING:
                        resend.append(row.id)
                    else:
                        result.problems.append(
                            f"{row.declaration_request_id} is {row.status.value} here but "
                            "Antom does not know it"
                        )
    for declaration_id in resend:
        await _send(deps, declaration_id)
    async with deps.sessions() as session:
        repo = CustomsRepository(session)
        result.declarations = await repo.declarations_by_ids(
            installation_id, [r.id for r in rows if r.id is not None]
        )
    return result


async def _apply_record(deps: CustomsDeps, declaration_id: int, record: DeclarationRecord) -> None:
    async with transaction(deps.sessions) as session:
        repo = CustomsRepository(session)
        row = await repo.declaration_for_update(declaration_id)
        assert row is not None
        now = utcnow()
        status = _status_of(record)
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


# -- reading ----------------------------------------------------------------------------------


def _mask(text: str, keep: int = 4) -> str:
    if len(text) <= keep:
        return "*" * len(text)
    return "*" * (len(text) - keep) + text[-keep:]


def describe(row: Declaration) -> dict[str, Any]:
    """A declaration as the admin API and the CLI show it."""
    return {
        "id": row.id,
        "declarationRequestId": row.declaration_request_id,
        "paymentRequestId": row.payment_request_id,
        "customsCode": row.customs_code,
        "amount": str(Amount(row.currency, int(row.amount_minor)).to_decimal()),
        "currency": row.currency,
        "status": row.status.value,
        "splitOrder": row.split_order,
        "suborderId": row.suborder_id,
        "merchantCustomsCode": row.merchant_customs_code,
        "merchantCustomsName": row.merchant_customs_name,
        "resultCode": row.result_code,
        "resultMessage": row.result_message,
        "createdAt": row.created_at.isoformat(),
        "updatedAt": row.updated_at.isoformat(),
    }


def describe_detail(row: Declaration, history: Sequence[History], keys: KeyRing) -> dict[str, Any]:
    item = describe(row)
    certificate_no = keys.decrypt(row.certificate_no_encrypted, CERTIFICATE_NO_PURPOSE)
    holder_name = keys.decrypt(row.holder_name_encrypted, HOLDER_NAME_PURPOSE)
    item["buyer"] = {
        "certificateType": row.certificate_type,
        "certificateNo": _mask(certificate_no),
        "holderName": holder_name[:1] + "*" * max(len(holder_name) - 1, 0),
    }
    item["lastCallAt"] = row.last_call_at.isoformat()
    item["redeclareAfter"] = (row.last_call_at + RESEND_PAUSE).isoformat()
    item["history"] = [
        {"status": h.status, "detail": h.detail, "createdAt": h.created_at.isoformat()}
        for h in history
    ]
    antom: dict[str, Any] = {
        "customsPaymentId": row.customs_payment_id,
        "customsOrderId": row.customs_order_id,
        "identityCheckResult": row.identity_check_result,
        "clearingChannel": row.clearing_channel,
        "clearingTransactionId": row.clearing_transaction_id,
        "customsProviderRegistrationId": row.customs_provider_registration_id,
        "declarationRequestStatus": row.antom_status,
        "customsDeclarationResultCode": row.customs_result_code,
        "customsDeclarationResultDesc": row.customs_result_desc,
        "customsDeclarationReturnTime": (
            row.customs_return_time.isoformat() if row.customs_return_time else None
        ),
    }
    item["antom"] = {k: v for k, v in antom.items() if v is not None}
    return item


async def list_declarations(
    deps: CustomsDeps,
    installation_id: int,
    *,
    status: DeclarationStatus | None = None,
    payment_request_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Declaration], int]:
    async with deps.sessions() as session:
        return await CustomsRepository(session).list_declarations(
            installation_id,
            status=status,
            payment_request_id=payment_request_id,
            limit=limit,
            offset=offset,
        )


async def declaration_detail(
    deps: CustomsDeps, installation_id: int, declaration_id: int
) -> dict[str, Any]:
    async with deps.sessions() as session:
        repo = CustomsRepository(session)
        row = await repo.declaration(installation_id, declaration_id)
        if row is None or row.id is None:
            raise DeclarationError("DECLARATION_NOT_FOUND", "no such declaration", 404)
        history = await repo.history(row.id)
    return describe_detail(row, history, deps.keys)


__all__ = [
    "CERTIFICATE_TYPES",
    "KNOWN_CUSTOMS_CODES",
    "BuyerIdentity",
    "CustomsDeps",
    "DeclarationError",
    "DeclarationInput",
    "InquiryResult",
    "Redeclaration",
    "check_input",
    "declaration_detail",
    "declaration_request_id",
    "declare",
    "describe",
    "describe_detail",
    "inquire",
    "list_declarations",
    "redeclare",
]
