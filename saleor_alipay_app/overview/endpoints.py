"""The admin API of the Overview page: `GET /api/admin/overview?days=&lang=`.

Authenticated like every admin route (`admin.auth`, HANDLE_PAYMENTS), inside the token's
installation only; ``days`` (1 to 90) and ``lang`` (``en`` or ``zh``) are checked at the door
(`admin.params`), anything else is a 400.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from saleor_alipay_app.admin.auth import HANDLE_PAYMENTS, AuthenticatedRoute, StaffUser, require
from saleor_alipay_app.admin.params import ChartLanguage, OverviewDays
from saleor_alipay_app.overview import service
from saleor_alipay_app.payments.deps import services_of

router = APIRouter(prefix="/api/admin", tags=["admin"], route_class=AuthenticatedRoute)

Staff = Annotated[StaffUser, Depends(require(HANDLE_PAYMENTS))]


@router.get("/overview")
async def overview(
    request: Request, user: Staff, days: OverviewDays = 30, lang: ChartLanguage = "en"
) -> dict[str, Any]:
    """Payments per day and currency, success rate per wallet, the top failure reasons, the
    agreements, the refunds, what needs attention, and the charts (sanitized SVG text)."""
    services = services_of(request)
    return await service.overview(services.sessions, user.installation_id, days=days, lang=lang)
