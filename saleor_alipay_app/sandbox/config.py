"""What a sandbox is told at start: merchants, Antom's key, timings, the default scenario."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from saleor_alipay_app.antom.wallets import Wallet

__all__ = [
    "ANTOM_NOTIFY_SCHEDULE",
    "API_CALLS",
    "NOTIFY_CALLS",
    "ApiCall",
    "MerchantConfig",
    "SandboxConfig",
    "Scenario",
]

# Antom re-sends an unacknowledged notification after these intervals (API.md §9).
ANTOM_NOTIFY_SCHEDULE: tuple[float, ...] = (0, 120, 600, 600, 3600, 7200, 21600, 54000)


class ApiCall(StrEnum):
    """Every call the sandbox answers, and every notification it sends."""

    CONSULT = "consult"
    APPLY_TOKEN = "applyToken"  # noqa: S105 - an API name
    REVOKE = "revoke"
    PAY = "pay"
    INQUIRY_PAYMENT = "inquiryPayment"
    CANCEL = "cancel"
    REFUND = "refund"
    INQUIRY_REFUND = "inquiryRefund"
    DECLARE = "declare"
    INQUIRY_DECLARATION = "inquiryDeclarationRequests"
    NOTIFY_AUTHORIZATION = "notifyAuthorization"
    NOTIFY_PAYMENT = "notifyPayment"
    NOTIFY_REFUND = "notifyRefund"


NOTIFY_CALLS: frozenset[ApiCall] = frozenset(
    {ApiCall.NOTIFY_AUTHORIZATION, ApiCall.NOTIFY_PAYMENT, ApiCall.NOTIFY_REFUND}
)
API_CALLS: frozenset[ApiCall] = frozenset(set(ApiCall) - NOTIFY_CALLS)


class Scenario(StrEnum):
    """Named behaviours a test or a tester can ask for (see README.md, "Scenarios")."""

    SUCCESS = "success"
    USER_BALANCE_NOT_ENOUGH = "USER_BALANCE_NOT_ENOUGH"
    INVALID_ACCESS_TOKEN = "INVALID_ACCESS_TOKEN"  # noqa: S105 - a result code
    PAYMENT_IN_PROCESS_THEN_SUCCESS = "PAYMENT_IN_PROCESS_THEN_SUCCESS"
    PAYMENT_IN_PROCESS_THEN_FAIL = "PAYMENT_IN_PROCESS_THEN_FAIL"
    UNKNOWN_EXCEPTION = "UNKNOWN_EXCEPTION"
    HANG = "HANG"
    HTTP_500 = "HTTP_500"
    UNSIGNED_ERROR = "UNSIGNED_ERROR"
    REFUND_IN_PROCESS = "REFUND_IN_PROCESS"
    MERCHANT_BALANCE_NOT_ENOUGH = "MERCHANT_BALANCE_NOT_ENOUGH"
    NOTIFY_FAIL = "NOTIFY_FAIL"

    @property
    def applies_to(self) -> frozenset[ApiCall]:
        """The calls (or notifications) this scenario changes; elsewhere it is ``success``."""
        match self:
            case Scenario.SUCCESS:
                return frozenset(ApiCall)
            case Scenario.USER_BALANCE_NOT_ENOUGH:
                return frozenset({ApiCall.PAY})
            case Scenario.INVALID_ACCESS_TOKEN:
                return frozenset({ApiCall.PAY, ApiCall.REVOKE})
            case Scenario.PAYMENT_IN_PROCESS_THEN_SUCCESS | Scenario.PAYMENT_IN_PROCESS_THEN_FAIL:
                return frozenset({ApiCall.PAY})
            case (
                Scenario.UNKNOWN_EXCEPTION
                | Scenario.HANG
                | Scenario.HTTP_500
                | Scenario.UNSIGNED_ERROR
            ):
                return API_CALLS
            case Scenario.REFUND_IN_PROCESS:
                return frozenset({ApiCall.REFUND})
            case Scenario.MERCHANT_BALANCE_NOT_ENOUGH:
                return frozenset({ApiCall.REFUND, ApiCall.CANCEL})
            case Scenario.NOTIFY_FAIL:
                return NOTIFY_CALLS

    @classmethod
    def parse(cls, name: str) -> Scenario:
        """Accept the exact name, or ``success`` in any case; raise ``ValueError`` otherwise."""
        text = name.strip()
        if text.lower() == cls.SUCCESS.value:
            return cls.SUCCESS
        return cls(text)


@dataclass(frozen=True)
class MerchantConfig:
    """One merchant account at the simulated Antom.

    ``public_key`` is the merchant's RSA public key (None: every call fails ``KEY_NOT_FOUND``
    until one is registered). The notify URLs play the Antom Dashboard settings; a per-request
    ``authNotifyUrl`` / ``paymentNotifyUrl`` / ``refundNotifyUrl`` wins over them.
    ``merchant_id`` is the ``customerId`` written into reports (derived from the client id when
    absent); ``wallets`` limits the enabled wallets (None: every wallet of the capability table).
    """

    client_id: str
    public_key: rsa.RSAPublicKey | None = None
    auth_notify_url: str | None = None
    payment_notify_url: str | None = None
    refund_notify_url: str | None = None
    merchant_id: str | None = None
    key_version: int = 1
    wallets: frozenset[Wallet] | None = None


@dataclass(frozen=True)
class SandboxConfig:
    """Everything the simulator needs; timings are in seconds of real time.

    - ``notify_schedule`` × ``notify_schedule_factor``: the pauses before each re-send of an
      unacknowledged notification (Antom: 0 s, 2 min, 10 min, 10 min, 1 h, 2 h, 6 h, 15 h);
      the first attempt is immediate.
    - ``process_delay_seconds``: how long an in-process payment or refund stays PROCESSING.
    - ``order_close_seconds``: a failed auto-debit payment is notified when the order closes
      (≈1 minute at Antom).
    - ``customs_delay_seconds``: a declaration stays IN_PROCESS this long after each call.
    - ``hang_seconds``: how long the HANG scenario sleeps before answering.
    - ``notify_fail_attempts``: attempts dropped for notifications of a request that carried
      ``x-sandbox-scenario: NOTIFY_FAIL``.
    - ``db_path``: SQLite file for the state (None: memory only).
    - ``public_url``: the base URL shoppers' phones use to reach the wallet page (None: the
      base URL of the consult request).
    """

    antom_private_key: rsa.RSAPrivateKey
    merchants: Sequence[MerchantConfig] = ()
    default_scenario: Scenario = Scenario.SUCCESS
    notify_schedule: tuple[float, ...] = ANTOM_NOTIFY_SCHEDULE
    notify_schedule_factor: float = 1.0
    notify_timeout_seconds: float = 10.0
    notify_fail_attempts: int = 2
    process_delay_seconds: float = 5.0
    order_close_seconds: float = 60.0
    customs_delay_seconds: float = 60.0
    hang_seconds: float = 30.0
    settlement_delay_days: int = 1
    db_path: Path | None = None
    public_url: str | None = None
