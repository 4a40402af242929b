"""The JSON of the control API (``/sandbox/api/...``): request bodies in, records out.

Bodies are camelCase and refuse unknown fields. Records are shown as the control API's JSON:
login ids are masked, tokens are never shown (a notification's ``accessToken`` only by its end).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from saleor_alipay_app.antom.keys import public_key_base64
from saleor_alipay_app.antom.wallets import Wallet

from .clock import fmt_time
from .config import ApiCall
from .engine import Merchant, Sandbox
from .models import AuthSession, Binding, Notification, Payment
from .protocol import mask_login_id

__all__ = [
    "ApproveIn",
    "ClockIn",
    "DefaultScenarioIn",
    "MerchantIn",
    "ScenarioIn",
    "UnbindIn",
    "auth_json",
    "binding_json",
    "clock_json",
    "merchant_json",
    "notification_json",
    "payment_json",
    "scenarios_json",
]


# -- request bodies ------------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class MerchantIn(_In):
    client_id: str = Field(min_length=1, max_length=64)
    public_key: str | None = None
    auth_notify_url: str | None = None
    payment_notify_url: str | None = None
    refund_notify_url: str | None = None
    merchant_id: str | None = None
    key_version: int = Field(default=1, ge=0)
    wallets: list[Wallet] | None = None


class ApproveIn(_In):
    user_login_id: str | None = Field(default=None, max_length=64)


class UnbindIn(_In):
    binding_id: str | None = None
    access_token: str | None = None
    reason: str | None = Field(default=None, max_length=256)


class ScenarioIn(_In):
    scenario: str
    calls: list[ApiCall] | None = None
    count: int = Field(default=1, ge=1)


class DefaultScenarioIn(_In):
    scenario: str


# How far the sandbox's clock may move from real time: a century, far from datetime's limits.
MAX_CLOCK_SHIFT = 100 * 366 * 86400.0


class ClockIn(_In):
    advance_seconds: float | None = Field(
        default=None, ge=-MAX_CLOCK_SHIFT, le=MAX_CLOCK_SHIFT, allow_inf_nan=False
    )
    offset_seconds: float | None = Field(
        default=None, ge=-MAX_CLOCK_SHIFT, le=MAX_CLOCK_SHIFT, allow_inf_nan=False
    )


# -- records ---------------------------------------------------------------------------------------


def merchant_json(sandbox: Sandbox, merchant: Merchant) -> dict[str, Any]:
    record = merchant.record
    return {
        "clientId": record.client_id,
        "merchantId": record.merchant_id,
        "hasPublicKey": merchant.public_key is not None,
        "keyVersion": record.key_version,
        "authNotifyUrl": record.auth_notify_url,
        "paymentNotifyUrl": record.payment_notify_url,
        "refundNotifyUrl": record.refund_notify_url,
        "wallets": None if record.wallets is None else [w.value for w in record.wallets],
        "antomPublicKey": public_key_base64(sandbox.antom_private_key),
    }


def auth_json(session: AuthSession) -> dict[str, Any]:
    return {
        "authState": session.auth_state,
        "clientId": session.client_id,
        "wallet": session.wallet.value,
        "status": session.status.value,
        "authUrl": session.auth_url,
        "createdTime": fmt_time(session.created_at),
        "userLoginId": None
        if session.user_login_id is None
        else mask_login_id(session.user_login_id),
        "bindingId": session.binding_id,
    }


def binding_json(binding: Binding) -> dict[str, Any]:
    return {
        "bindingId": binding.binding_id,
        "clientId": binding.client_id,
        "wallet": binding.wallet.value,
        "userLoginId": mask_login_id(binding.user_login_id),
        "userId": binding.user_id,
        "authState": binding.auth_state,
        "status": binding.status.value,
        "createdTime": fmt_time(binding.created_at),
        "endedTime": None if binding.ended_at is None else fmt_time(binding.ended_at),
        "accessTokenExpiryTime": fmt_time(binding.access_token_expiry),
    }


def payment_json(payment: Payment) -> dict[str, Any]:
    return {
        "paymentId": payment.payment_id,
        "paymentRequestId": payment.payment_request_id,
        "clientId": payment.client_id,
        "wallet": payment.wallet.value,
        "amount": payment.amount.to_api(),
        "status": payment.status.value,
        "resultCode": payment.result_code,
        "createdTime": fmt_time(payment.create_time),
        "paymentTime": None if payment.payment_time is None else fmt_time(payment.payment_time),
        "cancelTime": None if payment.cancel_time is None else fmt_time(payment.cancel_time),
        "payRequests": payment.pay_requests,
    }


def notification_json(notification: Notification) -> dict[str, Any]:
    return {
        "notificationId": notification.notification_id,
        "clientId": notification.client_id,
        "kind": notification.kind.value,
        "url": notification.url,
        "reference": notification.reference,
        "status": notification.status.value,
        "createdTime": fmt_time(notification.created_at),
        "body": _redacted(notification.body),
        "attempts": [
            {
                "number": attempt.number,
                "time": fmt_time(attempt.at),
                "outcome": attempt.outcome,
                "httpStatus": attempt.http_status,
                "responseBody": attempt.response_body,
                "error": attempt.error,
            }
            for attempt in notification.attempts
        ],
    }


def _redacted(body: str) -> dict[str, Any]:
    """A notification body for display: access tokens are secrets, only their end is shown."""
    data: dict[str, Any] = json.loads(body)
    token = data.get("accessToken")
    if isinstance(token, str):
        data["accessToken"] = "****" + token[-4:]
    return data


def scenarios_json(sandbox: Sandbox) -> dict[str, Any]:
    return {
        "default": sandbox.scenarios.default.value,
        "queued": [rule.as_json() for rule in sandbox.scenarios.rules],
    }


def clock_json(sandbox: Sandbox) -> dict[str, Any]:
    return {
        "now": fmt_time(sandbox.clock.now()),
        "offsetSeconds": sandbox.clock.offset.total_seconds(),
    }
