"""The use-cases of customs declarations of paid Alipay CN payments (API.md §7.12-7.13):
declare, re-declare, inquire, list and read.

The rules:
- Everything that can be checked here is checked before Antom is called (`rules`): the payment
  is ours, paid, in CNY with Alipay CN; the customs code is one Antom names; the amount fits in
  what was paid minus what is refunded and already declared; a split declaration has a
  suborderId; the buyer's identity is complete. A refusal raises an
  :class:`~saleor_alipay_app.errors.AppError` (`Invalid`, `NotFound` or `Conflict`) and calls
  nothing.
- The row, with its deterministic ``declarationRequestId`` (1-32 characters), is committed
  before ``declare`` is sent (`antom_calls`); every state is written to the history with the
  change.
- A re-declaration keeps the ``declarationRequestId``, changes only what Antom lets change
  (customs code, merchant customs code and name, amount, suborderId, buyer's number and name),
  and only 5 minutes or more after the previous call. When Antom refuses it, the declaration
  goes back to what it was.
- An inquiry asks Antom about up to 10 declarations per call; a PENDING one that Antom does not
  know is re-sent identically (same id = retransmission).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from saleor_alipay_app.antom.client import AntomUnavailable
from saleor_alipay_app.antom.models import InquiryDeclarationRequestsRequest
from saleor_alipay_app.antom.money import Amount
from saleor_alipay_app.antom.results import Outcome, merchant_message
from saleor_alipay_app.antom.wallets import Wallet
from saleor_alipay_app.customs.antom_calls import Snapshot, apply_record, send
from saleor_alipay_app.customs.models import (
    CERTIFICATE_NO_PURPOSE,
    HOLDER_NAME_PURPOSE,
    RESEND_PAUSE,
    Declaration,
    DeclarationStatus,
)
from saleor_alipay_app.customs.repository import CustomsRepository
from saleor_alipay_app.customs.rules import (
    CUSTOMS_CURRENCY,
    MAX_SEQUENCE,
    check_amount,
    check_certificate_no,
    check_customs_code,
    check_fits,
    check_input,
    check_text,
    cny,
    declaration_request_id,
    split_only,
)
from saleor_alipay_app.customs.schemas import DeclarationInput, Redeclaration
from saleor_alipay_app.db import transaction, utcnow
from saleor_alipay_app.errors import Conflict, Invalid, NotFound
from saleor_alipay_app.history.models import History
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.models import PaymentStatus

INQUIRY_BATCH: Final = 10  # declarationRequestIds per inquiryDeclarationRequests (§7.13)


@dataclass
class InquiryResult:
    declarations: list[Declaration]
    problems: list[str] = field(default_factory=list)


# -- declaring --------------------------------------------------------------------------------


async def declare(
    deps: PaymentDeps,
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
            raise NotFound("PAYMENT_NOT_FOUND", f"no payment {payment_request_id!r} in this store")
        if payment.status is not PaymentStatus.SUCCEEDED:
            raise Invalid(
                "PAYMENT_NOT_PAID",
                f"payment {payment.payment_request_id} is {payment.status.value}: only a paid "
                "payment can be declared",
            )
        if payment.currency != CUSTOMS_CURRENCY or payment.wallet != Wallet.ALIPAY_CN.value:
            raise Invalid(
                "NOT_DECLARABLE",
                f"customs declaration is for Alipay CN payments in CNY; this one is "
                f"{payment.currency} with {payment.wallet}",
            )
        if not payment.antom_payment_id:
            raise Invalid(
                "NOT_DECLARABLE", "the payment has no Antom paymentId yet: inquire it first"
            )
        refunded = await repo.refunded_minor(payment.id)
        paid = int(payment.amount_minor)
        if refunded >= paid:
            raise Invalid(
                "PAYMENT_REFUNDED",
                f"payment {payment.payment_request_id} was refunded in full: nothing to declare",
            )
        existing = await repo.declarations_of_payment(payment.id)
        live = [d for d in existing if d.status is not DeclarationStatus.FAILED]
        check_fits(existing, paid_minor=paid, refunded_minor=refunded, amount=checked.amount)
        for other in live:
            if other.customs_code == checked.customs_code and not (
                checked.split_order and other.split_order
            ):
                raise Invalid(
                    "DUPLICATED_DECLARATION",
                    f"this payment is already declared to {other.customs_code} "
                    f"({other.declaration_request_id}): a second declaration to the same customs "
                    "must be split (splitOrder with a suborderId) on both",
                )
            if checked.suborder_id is not None and other.suborder_id == checked.suborder_id:
                raise Invalid(
                    "DUPLICATED_SUBORDER",
                    f"suborderId {checked.suborder_id!r} is already used by "
                    f"{other.declaration_request_id}",
                )
        sequence = max((d.sequence for d in existing), default=0) + 1
        if sequence > MAX_SEQUENCE:
            raise Invalid("TOO_MANY_DECLARATIONS", "too many declarations of a payment")
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
            raise Conflict(
                "CONCURRENT_DECLARATION",
                "another declaration of this payment is being created: try again",
            )
        repo.add_history(
            row,
            DeclarationStatus.PENDING.value,
            f"CNY {checked.amount.to_decimal()} to {checked.customs_code}"
            + (f" (suborder {checked.suborder_id})" if checked.suborder_id else ""),
        )
        declaration_id = row.id
    assert declaration_id is not None
    return await send(deps, declaration_id)


# -- re-declaring -----------------------------------------------------------------------------


async def redeclare(
    deps: PaymentDeps,
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
            raise NotFound("DECLARATION_NOT_FOUND", "no such declaration")
        row = await repo.declaration_for_update(found.id)
        assert row is not None
        assert row.id is not None
        if row.status is DeclarationStatus.FAILED:
            raise Invalid(
                "DECLARATION_FAILED",
                f"Antom refused this declaration ({row.result_code}): it does not exist at "
                "customs, so make a new declaration instead",
            )
        current_no = deps.keys.decrypt(row.certificate_no_encrypted, CERTIFICATE_NO_PURPOSE)
        current_name = deps.keys.decrypt(row.holder_name_encrypted, HOLDER_NAME_PURPOSE)
        new: dict[str, Any] = {}
        if changes.customs_code is not None:
            new["customs_code"] = check_customs_code(changes.customs_code)
        if changes.merchant_customs_code is not None:
            new["merchant_customs_code"] = check_text(
                changes.merchant_customs_code, "merchantCustomsCode", 128
            )
        if changes.merchant_customs_name is not None:
            new["merchant_customs_name"] = check_text(
                changes.merchant_customs_name, "merchantCustomsName", 256
            )
        amount: Amount | None = None
        if changes.amount is not None:
            amount = check_amount(changes.amount)
        if changes.suborder_id is not None:
            if not row.split_order:
                raise split_only()
            new["suborder_id"] = check_text(changes.suborder_id, "suborderId", 64)
        certificate_no = (
            check_certificate_no(row.certificate_type, changes.certificate_no)
            if changes.certificate_no is not None
            else current_no
        )
        holder_name = (
            check_text(changes.holder_name, "buyer.holderName", 128)
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
                raise Invalid(
                    "NOTHING_TO_CHANGE",
                    "the re-declaration changes nothing: give the corrected fields",
                )
            # The identical request again: a retransmission of an unknown outcome.
            repo.add_history(row, "RESENT", "identical request re-sent")
            target: tuple[int, Snapshot | None] = (row.id, None)
        else:
            target = await _apply_changes(
                deps, repo, row, new, amount, certificate_no, holder_name, moment
            )
    return await send(deps, target[0], target[1])


async def _apply_changes(
    deps: PaymentDeps,
    repo: CustomsRepository,
    row: Declaration,
    new: dict[str, Any],
    amount: Amount | None,
    certificate_no: str,
    holder_name: str,
    moment: datetime,
) -> tuple[int, Snapshot]:
    """Check and store a re-declaration's changes (PENDING); the caller commits and sends."""
    assert row.id is not None
    current_no = deps.keys.decrypt(row.certificate_no_encrypted, CERTIFICATE_NO_PURPOSE)
    current_name = deps.keys.decrypt(row.holder_name_encrypted, HOLDER_NAME_PURPOSE)
    if row.status is DeclarationStatus.PENDING:
        raise Invalid(
            "OUTCOME_UNKNOWN",
            "the outcome of the last call is not known yet: inquire the declaration first",
        )
    earliest = row.last_call_at + RESEND_PAUSE
    if moment < earliest:
        raise Invalid(
            "REDECLARE_TOO_EARLY",
            "Antom accepts a re-declaration at least 5 minutes after the previous call: "
            f"try again after {earliest.isoformat(timespec='seconds')}",
        )
    payment = await repo.payment_for_update(row.installation_id, row.payment_request_id)
    assert payment is not None
    assert payment.id is not None
    if amount is not None:
        check_fits(
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
                raise Invalid(
                    "DUPLICATED_SUBORDER",
                    f"suborderId {new['suborder_id']!r} is already used by "
                    f"{other.declaration_request_id}",
                )
    previous = Snapshot.of(row)
    described = []
    for name, value in new.items():
        if getattr(row, name) != value:
            described.append(f"{name} {getattr(row, name)} -> {value}")
            setattr(row, name, value)
    if amount is not None and amount.value != int(row.amount_minor):
        described.append(f"amount {cny(int(row.amount_minor))} -> {amount.to_decimal()}")
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


async def inquire(
    deps: PaymentDeps,
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
            config = await CustomsRepository(session).channels.config(config_id)
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
                    await apply_record(deps, row.id, record)
                elif row.declaration_request_id in not_found:
                    if row.status is DeclarationStatus.PENDING:
                        resend.append(row.id)
                    else:
                        result.problems.append(
                            f"{row.declaration_request_id} is {row.status.value} here but "
                            "Antom does not know it"
                        )
    for declaration_id in resend:
        await send(deps, declaration_id)
    async with deps.sessions() as session:
        repo = CustomsRepository(session)
        result.declarations = await repo.declarations_by_ids(
            installation_id, [r.id for r in rows if r.id is not None]
        )
    return result


# -- reading ----------------------------------------------------------------------------------


async def list_declarations(
    deps: PaymentDeps,
    installation_id: int,
    *,
    status: DeclarationStatus | None = None,
    payment_request_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Declaration], int]:
    """Declarations of the installation, newest first, and how many match in all."""
    async with deps.sessions() as session:
        return await CustomsRepository(session).list_declarations(
            installation_id,
            status=status,
            payment_request_id=payment_request_id,
            limit=limit,
            offset=offset,
        )


async def get_declaration(
    deps: PaymentDeps, installation_id: int, declaration_id: int
) -> tuple[Declaration, list[History]]:
    """A declaration of the installation with its history; `NotFound` when there is none."""
    async with deps.sessions() as session:
        repo = CustomsRepository(session)
        row = await repo.declaration(installation_id, declaration_id)
        if row is None or row.id is None:
            raise NotFound("DECLARATION_NOT_FOUND", "no such declaration")
        return row, await repo.history(row.id)
