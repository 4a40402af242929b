"""The admin API of customs declarations: list, read, declare, inquire and re-declare.

Every route authenticates the dashboard's token (`admin.auth`, HANDLE_PAYMENTS) and works
inside the token's installation only. Bodies are read by hand so that any bad input gets the
API's error shape (`{"success": false, "error": {"code", "message"}}`, HTTP 400) and nothing
is sent to Antom. Refusals are `AppError`s, answered by the web app's handler.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from saleor_alipay_app import jsontext
from saleor_alipay_app.admin.auth import (
    HANDLE_PAYMENTS,
    AuthenticatedRoute,
    StaffUser,
    require,
)
from saleor_alipay_app.admin.params import Limit, Offset, PaymentRequestId, RowId, SearchText
from saleor_alipay_app.customs import schemas
from saleor_alipay_app.customs import service as customs
from saleor_alipay_app.customs.models import DeclarationStatus
from saleor_alipay_app.errors import Invalid, Unavailable
from saleor_alipay_app.payments.deps import PaymentDeps, services_of

router = APIRouter(
    prefix="/api/admin", tags=["admin: after payment"], route_class=AuthenticatedRoute
)

Staff = Annotated[StaffUser, Depends(require(HANDLE_PAYMENTS))]


async def _detail(deps: PaymentDeps, installation_id: int, declaration_id: int) -> dict[str, Any]:
    row, history = await customs.get_declaration(deps, installation_id, declaration_id)
    return schemas.describe_detail(row, history, deps.keys)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = jsontext.loads(raw)
    except ValueError:
        raise Invalid("INVALID_JSON", "the request body is not JSON") from None
    if not isinstance(data, dict):
        raise Invalid("INVALID_JSON", "the request body must be a JSON object")
    return data


def _text(data: dict[str, Any], key: str, where: str = "") -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid("INVALID_FIELD", f"{where}{key} must be a string")
    return value


def _amount(data: dict[str, Any]) -> str | None:
    value = data.get("amount")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise Invalid("INVALID_FIELD", 'amount must be a decimal string such as "60.00"')
    return str(value)


def _flag(data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise Invalid("INVALID_FIELD", f"{key} must be true or false")


def _buyer(data: dict[str, Any]) -> schemas.BuyerIdentity | None:
    buyer = data.get("buyer")
    if buyer is None:
        return None
    if not isinstance(buyer, dict):
        raise Invalid("INVALID_FIELD", "buyer must be an object")
    return schemas.BuyerIdentity(
        certificate_type=_text(buyer, "certificateType", "buyer.") or "",
        certificate_no=_text(buyer, "certificateNo", "buyer.") or "",
        holder_name=_text(buyer, "holderName", "buyer.") or "",
    )


# -- declarations ------------------------------------------------------------------------------


@router.get("/declarations")
async def list_declarations(
    request: Request,
    user: Staff,
    status: SearchText = None,
    payment_request_id: PaymentRequestId = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    wanted: DeclarationStatus | None = None
    if status:
        try:
            wanted = DeclarationStatus(status.strip().upper())
        except ValueError:
            names = ", ".join(s.value for s in DeclarationStatus)
            raise Invalid("INVALID_STATUS", f"status must be one of {names}") from None
    rows, total = await customs.list_declarations(
        services_of(request).payments,
        user.installation_id,
        status=wanted,
        payment_request_id=payment_request_id or None,
        limit=limit,
        offset=offset,
    )
    return {"items": [schemas.describe(row) for row in rows], "total": total}


@router.get("/declarations/{declaration_id}")
async def get_declaration(request: Request, user: Staff, declaration_id: RowId) -> dict[str, Any]:
    return await _detail(services_of(request).payments, user.installation_id, declaration_id)


@router.post("/payments/{payment_request_id}/declarations", status_code=201)
async def declare(request: Request, user: Staff, payment_request_id: str) -> JSONResponse:
    data = await _body(request)
    deps = services_of(request).payments
    split = _flag(data, "splitOrder")
    row = await customs.declare(
        deps,
        user.installation_id,
        payment_request_id,
        schemas.DeclarationInput(
            customs_code=_text(data, "customsCode") or "",
            merchant_customs_code=_text(data, "merchantCustomsCode") or "",
            merchant_customs_name=_text(data, "merchantCustomsName") or "",
            amount=_amount(data) or "",
            split_order=split,
            suborder_id=_text(data, "suborderId"),
            buyer=_buyer(data),
        ),
    )
    assert row.id is not None
    detail = await _detail(deps, user.installation_id, row.id)
    return JSONResponse(status_code=201, content=detail)


@router.post("/declarations/{declaration_id}/inquire")
async def inquire_declaration(
    request: Request, user: Staff, declaration_id: RowId
) -> dict[str, Any]:
    deps = services_of(request).payments
    await customs.get_declaration(deps, user.installation_id, declaration_id)  # 404 if not ours
    result = await customs.inquire(deps, user.installation_id, [declaration_id])
    if result.problems:
        raise Unavailable("INQUIRY_FAILED", "; ".join(result.problems))
    return await _detail(deps, user.installation_id, declaration_id)


@router.post("/declarations/{declaration_id}/redeclare")
async def redeclare(request: Request, user: Staff, declaration_id: RowId) -> dict[str, Any]:
    data = await _body(request)
    allowed = {
        "customsCode",
        "merchantCustomsCode",
        "merchantCustomsName",
        "amount",
        "suborderId",
        "buyer",
    }
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise Invalid(
            "FIELD_NOT_CHANGEABLE",
            f"{', '.join(unknown)} cannot change in a re-declaration; only customs code, "
            "merchant customs code and name, amount, suborderId and the buyer's "
            "certificateNo and holderName can",
        )
    buyer = data.get("buyer") or {}
    if not isinstance(buyer, dict):
        raise Invalid("INVALID_FIELD", "buyer must be an object")
    if "certificateType" in buyer:
        raise Invalid(
            "FIELD_NOT_CHANGEABLE",
            "buyer.certificateType cannot change in a re-declaration",
        )
    deps = services_of(request).payments
    row = await customs.redeclare(
        deps,
        user.installation_id,
        declaration_id,
        schemas.Redeclaration(
            customs_code=_text(data, "customsCode"),
            merchant_customs_code=_text(data, "merchantCustomsCode"),
            merchant_customs_name=_text(data, "merchantCustomsName"),
            amount=_amount(data),
            suborder_id=_text(data, "suborderId"),
            certificate_no=_text(buyer, "certificateNo", "buyer."),
            holder_name=_text(buyer, "holderName", "buyer."),
        ),
    )
    assert row.id is not None
    return await _detail(deps, user.installation_id, row.id)
