"""The admin API behind the dashboard pages: channels and their Antom configuration, the
connection test, agreements, payments, refunds, and "inquire now".

Every route authenticates the dashboard's token (`admin.auth`) and works inside the token's
installation only. Looking and acting on payments needs HANDLE_PAYMENTS; changing (or testing)
a configuration needs MANAGE_APPS as well. The work itself lives in the domains (`channels`,
`agreements.staff`, `payments.staff`), shared with the operators' commands (`admin/cli.py`).
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from saleor_alipay_app.admin.auth import (
    HANDLE_PAYMENTS,
    MANAGE_APPS,
    AuthenticatedRoute,
    StaffUser,
    require,
)
from saleor_alipay_app.admin.params import (
    CustomerId,
    DateFrom,
    DateTo,
    Limit,
    Offset,
    SearchText,
)
from saleor_alipay_app.agreements import staff as agreement_staff
from saleor_alipay_app.agreements.repository import AgreementSearch
from saleor_alipay_app.channels import diagnosis
from saleor_alipay_app.channels import service as channel_service
from saleor_alipay_app.channels.deps import ANTOM_BUDGET
from saleor_alipay_app.channels.schemas import ChannelConfigForm
from saleor_alipay_app.payments import staff as payment_staff
from saleor_alipay_app.payments.deps import Services, services_of
from saleor_alipay_app.payments.repository import PaymentSearch, RefundSearch

router = APIRouter(prefix="/api/admin", tags=["admin"], route_class=AuthenticatedRoute)

Staff = Annotated[StaffUser, Depends(require(HANDLE_PAYMENTS))]
Admin = Annotated[StaffUser, Depends(require(HANDLE_PAYMENTS, MANAGE_APPS))]
T = TypeVar("T")


def _actor(user: StaffUser) -> str:
    return (user.email or user.user_id or "a staff member") + " in the dashboard"


class RevokeBody(BaseModel):
    reason: str | None = Field(default=None, max_length=200)


# -- who is asking ------------------------------------------------------------------------------


@router.get("/me")
async def me(user: Staff) -> dict[str, Any]:
    return {
        "email": user.email,
        "userId": user.user_id,
        "saleorApiUrl": user.installation.saleor_api_url,
        "permissions": sorted(user.permissions),
        "canConfigure": MANAGE_APPS in user.permissions,
    }


# -- channels and configuration ------------------------------------------------------------------


@router.get("/channels")
async def channels(request: Request, user: Staff) -> dict[str, Any]:
    services = services_of(request)
    return await channel_service.list_channels(
        services.sessions,
        services.keys,
        services.saleor,
        user.installation,
        services.base_url(request),
    )


@router.put("/channels/{slug}/configuration")
async def save_configuration(
    slug: str, body: ChannelConfigForm, request: Request, user: Admin
) -> dict[str, Any]:
    services = services_of(request)
    currency = await channel_service.channel_currency(
        services.saleor, services.keys, user.installation, slug
    )
    saved = await channel_service.save_channel_config(
        services.sessions,
        services.keys,
        user.installation_id,
        slug,
        body,
        services.base_url(request),
        currency=currency,
    )
    services.configs.clear()
    return saved


@router.post("/channels/{slug}/test-connection")
async def test_connection(
    slug: str, body: ChannelConfigForm, request: Request, user: Admin
) -> dict[str, Any]:
    services = services_of(request)
    return await diagnosis.check_connection(
        services.sessions,
        services.keys,
        services.antom_http,
        user.installation_id,
        slug,
        body,
        call_timeout=min(ANTOM_BUDGET, services.settings.antom_call_timeout * 2),
    )


# -- agreements --------------------------------------------------------------------------------


@router.get("/agreements")
async def agreements(
    request: Request,
    user: Staff,
    q: SearchText = None,
    email: SearchText = None,
    customer_id: CustomerId = None,
    wallet: SearchText = None,
    status: SearchText = None,
    channel: SearchText = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    services = services_of(request)
    search = AgreementSearch(
        q=q,
        email=email,
        customer_id=customer_id,
        wallet=wallet,
        status=agreement_staff.parse_agreement_status(status),
        channel=channel,
        limit=limit,
        offset=offset,
    )
    return await agreement_staff.list_agreements(services.sessions, user.installation_id, search)


@router.get("/agreements/{agreement_id}")
async def agreement(agreement_id: str, request: Request, user: Staff) -> dict[str, Any]:
    services = services_of(request)
    return await payment_staff.agreement_detail(
        services.sessions, user.installation_id, agreement_id
    )


@router.post("/agreements/{agreement_id}/revoke")
async def revoke(
    agreement_id: str, request: Request, user: Staff, body: RevokeBody | None = None
) -> dict[str, Any]:
    services = services_of(request)
    actor = _actor(user)
    if body is not None and body.reason:
        actor += f": {body.reason}"
    await agreement_staff.revoke_agreement(
        services.payments, user.installation_id, agreement_id, actor=actor
    )
    return await payment_staff.agreement_detail(
        services.sessions, user.installation_id, agreement_id
    )


# -- payments and refunds ---------------------------------------------------------------------


@router.get("/payments")
async def payments(
    request: Request,
    user: Staff,
    q: SearchText = None,
    status: SearchText = None,
    wallet: SearchText = None,
    channel: SearchText = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """``q``: a paymentRequestId, Antom paymentId or Saleor transaction id; ``from``/``to``:
    dates (YYYY-MM-DD, ``to`` exclusive) of creation."""
    services = services_of(request)
    search = PaymentSearch(
        q=q,
        status=payment_staff.parse_payment_status(status),
        wallet=wallet,
        channel=channel,
        created_from=payment_staff.parse_day(date_from, "from"),
        created_to=payment_staff.parse_day(date_to, "to"),
        limit=limit,
        offset=offset,
    )
    return await payment_staff.list_payments(services.sessions, user.installation_id, search)


@router.get("/payments/{payment_request_id}")
async def payment(payment_request_id: str, request: Request, user: Staff) -> dict[str, Any]:
    services = services_of(request)
    await payment_staff.learn_order(
        services.sessions, services.keys, services.saleor, user.installation_id, payment_request_id
    )
    return await payment_staff.payment_detail(
        services.sessions, services.keys, user.installation_id, payment_request_id
    )


@router.post("/payments/{payment_request_id}/inquire")
async def inquire(payment_request_id: str, request: Request, user: Staff) -> dict[str, Any]:
    services = services_of(request)
    return await payment_staff.inquire_payment(
        services.payments, user.installation_id, payment_request_id
    )


@router.get("/refunds")
async def refunds(
    request: Request,
    user: Staff,
    q: SearchText = None,
    status: SearchText = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    services: Services = services_of(request)
    search = RefundSearch(
        q=q,
        status=payment_staff.parse_refund_status(status),
        limit=limit,
        offset=offset,
    )
    return await payment_staff.list_refunds(services.sessions, user.installation_id, search)
