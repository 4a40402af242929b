"""The Antom API as its callers see it: :class:`AntomApi`.

Depend on :class:`AntomApi` rather than on :class:`~saleor_alipay_app.antom.client.AntomClient`,
so that tests can hand in a fake. Every method either returns an
:class:`~saleor_alipay_app.antom.client.AntomResponse` or raises
:class:`~saleor_alipay_app.antom.client.AntomUnavailable` (API.md §8).
"""

from __future__ import annotations

from typing import Protocol

from . import models
from .client import AntomClient, AntomResponse

__all__ = ["AntomApi"]


class AntomApi(Protocol):
    """The calls of :class:`~saleor_alipay_app.antom.client.AntomClient`, one per endpoint.

    ``deadline`` is a :func:`time.monotonic` instant: a call takes at most the time left until
    then, and never more than the client's ``call_timeout``.
    """

    async def consult(
        self, request: models.ConsultRequest, *, deadline: float | None = None
    ) -> AntomResponse[models.ConsultResponse]: ...

    async def apply_token(
        self, request: models.ApplyTokenRequest, *, deadline: float | None = None
    ) -> AntomResponse[models.ApplyTokenResponse]: ...

    async def revoke(
        self, request: models.RevokeRequest, *, deadline: float | None = None
    ) -> AntomResponse[models.RevokeResponse]: ...

    async def pay(
        self, request: models.PayRequest, *, deadline: float | None = None
    ) -> AntomResponse[models.PayResponse]: ...

    async def inquiry_payment(
        self, request: models.InquiryPaymentRequest, *, deadline: float | None = None
    ) -> AntomResponse[models.InquiryPaymentResponse]: ...

    async def cancel(
        self, request: models.CancelRequest, *, deadline: float | None = None
    ) -> AntomResponse[models.CancelResponse]: ...

    async def refund(
        self, request: models.RefundRequest, *, deadline: float | None = None
    ) -> AntomResponse[models.RefundResponse]: ...

    async def inquiry_refund(
        self, request: models.InquiryRefundRequest, *, deadline: float | None = None
    ) -> AntomResponse[models.InquiryRefundResponse]: ...

    async def declare(
        self, request: models.DeclareRequest, *, deadline: float | None = None
    ) -> AntomResponse[models.DeclareResponse]: ...

    async def inquiry_declaration_requests(
        self, request: models.InquiryDeclarationRequestsRequest, *, deadline: float | None = None
    ) -> AntomResponse[models.InquiryDeclarationRequestsResponse]: ...


# mypy checks here that the client satisfies the Protocol (tests/antom/test_protocol.py checks
# that the Protocol lists every public call of the client).
_CLIENT_SATISFIES_ANTOM_API: type[AntomApi] = AntomClient
