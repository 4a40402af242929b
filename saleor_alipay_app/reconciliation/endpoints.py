"""The admin API of reconciliation results: the days reconciled, and one day's files and
rows (filtered by kind).

Every route authenticates the dashboard's token (`admin.auth`, HANDLE_PAYMENTS) and works
inside the token's installation only; bad input gets the API's error shape (HTTP 400).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request

from saleor_alipay_app.admin.auth import AuthenticatedRoute
from saleor_alipay_app.admin.params import Limit, Offset
from saleor_alipay_app.customs.endpoints import Staff
from saleor_alipay_app.errors import Invalid, NotFound
from saleor_alipay_app.payments.deps import services_of
from saleor_alipay_app.reconciliation import schemas
from saleor_alipay_app.reconciliation import service as reconciliation
from saleor_alipay_app.reconciliation.models import MatchKind

router = APIRouter(
    prefix="/api/admin", tags=["admin: after payment"], route_class=AuthenticatedRoute
)


@router.get("/reconciliation/days")
async def reconciliation_days(
    request: Request, user: Staff, limit: Limit = 60, offset: Offset = 0
) -> dict[str, Any]:
    services = services_of(request)
    days = await reconciliation.list_days(
        services.sessions, user.installation_id, limit=limit, offset=offset
    )
    return {"items": [schemas.describe_day(d) for d in days]}


@router.get("/reconciliation/days/{day}")
async def reconciliation_day(
    request: Request,
    user: Staff,
    day: str,
    kind: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    try:
        wanted_day = date.fromisoformat(day)
    except ValueError:
        raise Invalid("INVALID_DATE", "the date must be YYYY-MM-DD") from None
    try:
        kinds = schemas.parse_kinds(kind)
    except ValueError:
        names = ", ".join(k.value for k in MatchKind)
        raise Invalid("INVALID_KIND", f"kind must be MISMATCHED or one of {names}") from None
    services = services_of(request)
    detail = await reconciliation.day_detail(
        services.sessions, user.installation_id, wanted_day, kinds=kinds, limit=limit,
        offset=offset,
    )  # fmt: skip
    if detail is None:
        raise NotFound("DAY_NOT_FOUND", f"{wanted_day} has not been reconciled")
    return schemas.describe_day_detail(detail)
