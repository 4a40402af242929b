"""Views: what people may see of an agreement (never its tokens)."""

from __future__ import annotations

from typing import Any

from saleor_alipay_app.agreements.models import Agreement
from saleor_alipay_app.agreements.service import wallet_name
from saleor_alipay_app.db import iso_time


def agreement_view(agreement: Agreement) -> dict[str, Any]:
    """An agreement without its tokens."""
    return {
        "id": agreement.public_id,
        "channel": agreement.channel_slug,
        "customerId": agreement.saleor_user_id,
        "customerEmail": agreement.customer_email,
        "guest": agreement.guest,
        "wallet": agreement.wallet,
        "walletName": wallet_name(agreement.wallet),
        "userLoginId": agreement.user_login_id,
        "status": agreement.status.value,
        "statusReason": agreement.status_reason,
        "expiresAt": iso_time(agreement.access_token_expires_at),
        "createdAt": iso_time(agreement.created_at),
        "updatedAt": iso_time(agreement.updated_at),
        "endedAt": iso_time(agreement.ended_at),
    }
