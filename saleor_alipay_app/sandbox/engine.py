"""The simulated Antom: what each call does to the sandbox's state and what it answers.

Handlers are synchronous: each one reads and changes the in-memory state without awaiting, so
concurrent requests never see half a change. Failures are raised as :class:`AntomFailure`
and become the ``result`` of the answer. Time comes from the sandbox clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, assert_never

from cryptography.hazmat.primitives.asymmetric import rsa

from saleor_alipay_app.antom.keys import load_public_key, public_key_pem
from saleor_alipay_app.antom.money import Amount
from saleor_alipay_app.antom.wallets import (
    CAPABILITIES,
    Wallet,
    WalletLimitError,
    check_payment,
    check_refund,
)

from . import fx
from .clock import ANTOM_TZ, SandboxClock, fmt_time, new_digits, parse_time
from .config import ApiCall, MerchantConfig, SandboxConfig, Scenario
from .models import (
    AuthSession,
    AuthStatus,
    Binding,
    BindingStatus,
    Declaration,
    Money,
    Notification,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    SettlementQuote,
    StoredMerchant,
)
from .notifier import Notifier
from .protocol import AntomFailure, Body, dump_json, illegal, mask_login_id, result
from .scenarios import ScenarioBook
from .store import Store

__all__ = [
    "AUTH_CODE_TTL",
    "AUTH_SESSION_TTL",
    "CallContext",
    "Merchant",
    "Sandbox",
    "SandboxError",
]

AUTH_CODE_TTL: Final = timedelta(seconds=60)  # applyToken within 1 minute (API.md §6)
AUTH_SESSION_TTL: Final = timedelta(minutes=15)  # no notification in 15 min = failed (§6)
PAYMENT_TTL: Final = timedelta(minutes=1)  # auto debit payments expire after 1 minute (§6)
CANCEL_WINDOW: Final = timedelta(days=1)  # §7.8: usually 1 day
DECLARATION_RESEND_PAUSE: Final = timedelta(minutes=5)  # §7.12
TERMINAL_TYPES: Final = frozenset({"WEB", "WAP", "APP", "MINI_APP"})
SCOPES: Final = frozenset(
    {"AGREEMENT_PAY", "BASE_USER_INFO", "USER_INFO", "USER_LOGIN_ID", "HASH_LOGIN_ID", "SEND_OTP"}
)
CERTIFICATE_TYPES: Final = frozenset({"ID_CARD", "PASSPORT"})
CUSTOMS_PROVIDER_REGISTRATION_ID: Final = "31222699S7"

# Dialling prefixes for the default shopper login ids (a phone number, as the wallets use).
_LOGIN_PREFIX: Final[dict[Wallet, str]] = {
    Wallet.ALIPAY_HK: "852",
    Wallet.DANA: "628",
    Wallet.ALIPAY_CN: "861",
    Wallet.GCASH: "639",
    Wallet.KAKAOPAY: "8210",
    Wallet.TNG: "601",
    Wallet.TRUEMONEY: "668",
}


class SandboxError(Exception):
    """A refused action on the sandbox's own API or wallet page (not an Antom answer)."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@dataclass
class Merchant:
    record: StoredMerchant
    public_key: rsa.RSAPublicKey | None

    @property
    def client_id(self) -> str:
        return self.record.client_id

    def enabled(self, wallet: Wallet) -> bool:
        return self.record.wallets is None or wallet in self.record.wallets


@dataclass
class CallContext:
    merchant: Merchant
    scenario: Scenario
    header_scenarios: list[Scenario] | None
    base_url: str


def default_merchant_id(client_id: str) -> str:
    digest = hashlib.sha256(client_id.encode("utf-8")).hexdigest()
    return "2188" + str(int(digest, 16))[:12]


def _user_id(wallet: Wallet, login_id: str) -> str:
    digest = hashlib.sha256(f"{wallet}:{login_id}".encode()).hexdigest()
    return "2088" + str(int(digest, 16))[:12]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def token_expiry(wallet: Wallet, now: datetime) -> datetime:
    """Access-token lifetime per wallet (API.md §11; Alipay CN is not listed: 2 years)."""
    match wallet:
        case Wallet.ALIPAY_HK:
            return datetime(2038, 1, 1, tzinfo=ANTOM_TZ)
        case Wallet.KAKAOPAY:
            return datetime(2120, 8, 25, tzinfo=ANTOM_TZ)
        case Wallet.DANA:
            return _add_years(now, 10)
        case Wallet.GCASH | Wallet.TNG | Wallet.TRUEMONEY | Wallet.ALIPAY_CN:
            return _add_years(now, 2)


def _limit_code(error: WalletLimitError) -> str:
    match error.code:
        case "CURRENCY_NOT_SUPPORTED":
            return "CURRENCY_NOT_SUPPORT"
        case "ABOVE_MAXIMUM":
            return "PAYMENT_AMOUNT_EXCEED_LIMIT"
        case "REFUND_WINDOW_EXCEEDED":
            return "REFUND_WINDOW_EXCEED"
        case _:
            return "PARAM_ILLEGAL"


def _period_start(moment: datetime, period: str) -> datetime:
    local = moment.astimezone(ANTOM_TZ)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    match period:
        case "day":
            return day
        case "month":
            return day.replace(day=1)
        case "year":
            return day.replace(month=1, day=1)
        case _:
            raise ValueError(f"unknown limit period {period!r}")


class Sandbox:
    """State, clock, scenarios and notifications of one simulated Antom."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.store = Store(config.db_path)
        offset = self.store.meta.get("clock_offset_seconds")
        self.clock = SandboxClock(timedelta(seconds=float(offset)) if offset else None)
        self.scenarios = ScenarioBook(config.default_scenario)
        self.notifier = Notifier(config, self.store, self.clock, self.scenarios)
        self.antom_private_key = config.antom_private_key
        self._keys: dict[str, rsa.RSAPublicKey | None] = {}
        self._wake = asyncio.Event()
        self._scheduler: asyncio.Task[None] | None = None
        for merchant in config.merchants:
            self.add_merchant(merchant)
        # the offline report command reads this back from the database file
        self.store.put_meta("settlement_delay_days", str(config.settlement_delay_days))

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self.store.start()
        await self.notifier.start()
        self._scheduler = asyncio.create_task(self._run_scheduler(), name="sandbox-scheduler")

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scheduler
            self._scheduler = None
        await self.notifier.stop()
        await self.store.close()

    async def _run_scheduler(self) -> None:
        while True:
            self._wake.clear()
            self.settle_due()
            due = self._next_due()
            timeout = None if due is None else max(0.0, (due - self.clock.now()).total_seconds())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def poke(self) -> None:
        """Re-check scheduled work now (after new work or a clock change)."""
        self._wake.set()

    # -- merchants -----------------------------------------------------------------------------

    def add_merchant(self, config: MerchantConfig) -> Merchant:
        record = StoredMerchant(
            client_id=config.client_id,
            public_key_pem=None if config.public_key is None else public_key_pem(config.public_key),
            auth_notify_url=config.auth_notify_url,
            payment_notify_url=config.payment_notify_url,
            refund_notify_url=config.refund_notify_url,
            merchant_id=config.merchant_id or default_merchant_id(config.client_id),
            key_version=config.key_version,
            wallets=None if config.wallets is None else sorted(config.wallets),
        )
        self.store.put_merchant(record)
        self._keys[record.client_id] = config.public_key
        return Merchant(record, config.public_key)

    def merchant(self, client_id: str) -> Merchant | None:
        record = self.store.merchants.get(client_id)
        if record is None:
            return None
        if client_id not in self._keys:
            pem = record.public_key_pem
            self._keys[client_id] = None if pem is None else load_public_key(pem)
        return Merchant(record, self._keys[client_id])

    def _merchant_of(self, client_id: str) -> Merchant:
        merchant = self.merchant(client_id)
        if merchant is None:
            raise SandboxError(404, f"unknown merchant {client_id!r}")
        return merchant

    def _wallet(self, merchant: Merchant, name: str) -> Wallet:
        try:
            wallet = Wallet(name)
        except ValueError:
            raise AntomFailure(
                "NO_PAY_OPTIONS", message=f"{name} is not available for Scan to Bind here"
            ) from None
        if not merchant.enabled(wallet):
            raise AntomFailure("NO_PAY_OPTIONS", message=f"{name} is not enabled for this merchant")
        return wallet

    # -- clock -------------------------------------------------------------------------------

    def shift_clock(self, *, advance: float | None = None, offset: float | None = None) -> None:
        if offset is not None:
            self.clock.set_offset(offset)
        if advance is not None:
            self.clock.advance(advance)
        self.store.put_meta("clock_offset_seconds", str(self.clock.offset.total_seconds()))
        self.poke()

    # -- ids ---------------------------------------------------------------------------------

    def _new_id(self, infix: str, taken: Callable[[str], bool]) -> str:
        while True:
            candidate = f"{self.clock.now().astimezone(ANTOM_TZ):%Y%m%d}{infix}{new_digits(16)}"
            if not taken(candidate):
                return candidate

    def _new_token(self) -> str:
        while True:
            candidate = secrets.token_urlsafe(32)
            if not self.store.token_in_use(candidate):
                return candidate

    # =========================================================================================
    # authorizations
    # =========================================================================================

    def consult(self, ctx: CallContext, body: Body) -> dict[str, Any]:
        wallet_name = body.text("customerBelongsTo", max_len=64)
        redirect_url = body.text("authRedirectUrl", max_len=1024)
        scopes = body.text_list("scopes", max_items=4, max_len=32)
        auth_state = body.text("authState", max_len=256)
        terminal = body.opt_text("terminalType", max_len=16)
        env = body.opt_obj("env")
        if env is not None:
            terminal = env.opt_text("terminalType", max_len=16) or terminal
        if terminal is None:
            raise illegal("terminalType (or env.terminalType) is required")
        if terminal not in TERMINAL_TYPES:
            raise illegal(f"terminalType must be one of {', '.join(sorted(TERMINAL_TYPES))}")
        unknown = set(scopes) - SCOPES
        if unknown:
            raise illegal(f"unknown scope {sorted(unknown)[0]!r}")
        if "AGREEMENT_PAY" not in scopes:
            raise illegal("scopes must contain AGREEMENT_PAY for Scan to Bind")
        notify_url = body.opt_text("authNotifyUrl", max_len=2048)
        wallet = self._wallet(ctx.merchant, wallet_name)
        now = self.clock.now()

        existing = self.store.auth_by_state(ctx.merchant.client_id, auth_state)
        if existing is not None:
            if existing.status is not AuthStatus.CREATED:
                raise illegal(
                    "this authState has already been used; start again with a new authState"
                )
            if now > existing.created_at + AUTH_SESSION_TTL:
                raise illegal("this authState has expired; start again with a new authState")
            if existing.wallet is not wallet or existing.auth_redirect_url != redirect_url:
                raise illegal("this authState belongs to another authorization request")
            return self._consult_answer(existing)

        auth_id = secrets.token_urlsafe(18)
        while auth_id in self.store.auth_sessions:
            auth_id = secrets.token_urlsafe(18)
        session = AuthSession(
            auth_id=auth_id,
            client_id=ctx.merchant.client_id,
            auth_state=auth_state,
            wallet=wallet,
            scopes=scopes,
            auth_redirect_url=redirect_url,
            auth_notify_url=notify_url,
            terminal_type=terminal,
            created_at=now,
            auth_url=f"{ctx.base_url}/wallet/authorize?authId={auth_id}",
        )
        self.store.put_auth(session)
        return self._consult_answer(session)

    @staticmethod
    def _consult_answer(session: AuthSession) -> dict[str, Any]:
        return {
            "result": result(),
            "authCodeForm": {
                "codeDetails": [{"displayType": "TEXT", "codeValue": session.auth_url}]
            },
            "normalUrl": session.auth_url,
            "applinkUrl": f"{session.auth_url}&applink=true",
            "schemeUrl": f"antomsandbox://authorize?authId={session.auth_id}",
        }

    def find_auth(self, auth_state: str, client_id: str | None) -> AuthSession:
        sessions = self.store.auths_with_state(auth_state)
        if client_id is not None:
            sessions = [s for s in sessions if s.client_id == client_id]
        if not sessions:
            raise SandboxError(404, "no authorization request with this authState")
        if len(sessions) > 1:
            raise SandboxError(409, "several merchants used this authState: pass clientId")
        return sessions[0]

    def auth_by_id(self, auth_id: str) -> AuthSession:
        session = self.store.auth_sessions.get(auth_id)
        if session is None:
            raise SandboxError(404, "no such authorization request")
        return session

    def auth_expired(self, session: AuthSession) -> bool:
        return self.clock.now() > session.created_at + AUTH_SESSION_TTL

    def approve(
        self,
        session: AuthSession,
        user_login_id: str | None,
        header_scenarios: list[Scenario] | None = None,
    ) -> dict[str, Any]:
        """The shopper approves in the wallet: issue an authCode and notify the merchant."""
        if session.status is not AuthStatus.CREATED:
            raise SandboxError(409, f"this authorization is already {session.status.value}")
        if self.auth_expired(session):
            raise SandboxError(410, "this QR code has expired (15 minutes)")
        login = (user_login_id or "").strip() or self._default_login(session.wallet)
        if len(login) > 64:
            raise SandboxError(422, "userLoginId is longer than 64 characters")
        now = self.clock.now()
        code = secrets.token_urlsafe(24)
        while self.store.auth_by_code(session.client_id, code) is not None:
            code = secrets.token_urlsafe(24)
        session.status = AuthStatus.APPROVED
        session.auth_code = code
        session.auth_code_issued_at = now
        session.user_login_id = login
        self.store.put_auth(session)
        merchant = self._merchant_of(session.client_id)
        url = session.auth_notify_url or merchant.record.auth_notify_url
        notification = self.notifier.emit(
            client_id=session.client_id,
            kind=ApiCall.NOTIFY_AUTHORIZATION,
            url=url,
            body={
                "authorizationNotifyType": "AUTHCODE_CREATED",
                "authCode": code,
                "authState": session.auth_state,
                "userLoginId": mask_login_id(login),
                "userId": _user_id(session.wallet, login),
                "result": result(),
            },
            reference=session.auth_state,
            header_scenarios=header_scenarios,
        )
        return {
            "authState": session.auth_state,
            "clientId": session.client_id,
            "status": session.status.value,
            "authCode": code,
            "authCodeExpiryTime": fmt_time(now + AUTH_CODE_TTL),
            "userLoginId": mask_login_id(login),
            "notificationId": notification.notification_id,
            "notifyUrl": url,
        }

    def decline(self, session: AuthSession) -> dict[str, Any]:
        """The shopper declines: nothing is sent (Antom notifies successes only)."""
        if session.status is not AuthStatus.CREATED:
            raise SandboxError(409, f"this authorization is already {session.status.value}")
        session.status = AuthStatus.DECLINED
        self.store.put_auth(session)
        return {
            "authState": session.auth_state,
            "clientId": session.client_id,
            "status": session.status.value,
        }

    @staticmethod
    def _default_login(wallet: Wallet) -> str:
        return _LOGIN_PREFIX[wallet] + new_digits(8)

    def apply_token(self, ctx: CallContext, body: Body) -> dict[str, Any]:
        grant = body.text("grantType", max_len=32)
        wallet = self._wallet(ctx.merchant, body.text("customerBelongsTo", max_len=64))
        now = self.clock.now()
        client_id = ctx.merchant.client_id
        if grant == "AUTHORIZATION_CODE":
            code = body.text("authCode", max_len=128)
            session = self.store.auth_by_code(client_id, code)
            if session is None:
                raise AntomFailure("INVALID_AUTHCODE", message="unknown authCode")
            if session.auth_code_used:
                raise AntomFailure("INVALID_AUTHCODE", message="this authCode was already used")
            session.auth_code_used = True  # single use: any answer burns it
            self.store.put_auth(session)
            issued = session.auth_code_issued_at
            if issued is None or now > issued + AUTH_CODE_TTL:
                raise AntomFailure("INVALID_AUTHCODE", message="this authCode has expired")
            if session.wallet is not wallet:
                raise AntomFailure(
                    "INVALID_AUTHCODE", message="this authCode was issued for another wallet"
                )
            assert session.user_login_id is not None
            binding = self._new_binding(session, merchant=ctx.merchant, now=now)
            session.status = AuthStatus.TOKEN_ISSUED
            session.binding_id = binding.binding_id
            self.store.put_auth(session)
            return self._token_answer(binding)
        if grant == "REFRESH_TOKEN":
            token = body.text("refreshToken", max_len=128)
            found = self.store.binding_by_refresh_token(token)
            if (
                found is None
                or found.client_id != client_id
                or found.status is not BindingStatus.ACTIVE
                or found.refresh_token_expiry is None
                or now > found.refresh_token_expiry
                or found.wallet is not wallet
            ):
                raise AntomFailure("INVALID_REFRESH_TOKEN")
            found.access_token = self._new_token()
            found.refresh_token = self._new_token()
            found.access_token_expiry = token_expiry(wallet, now)
            found.refresh_token_expiry = found.access_token_expiry
            self.store.put_binding(found)
            return self._token_answer(found)
        raise illegal("grantType must be AUTHORIZATION_CODE or REFRESH_TOKEN")

    def _new_binding(self, session: AuthSession, *, merchant: Merchant, now: datetime) -> Binding:
        login = session.user_login_id
        assert login is not None
        refreshable = CAPABILITIES[session.wallet].token_refreshable
        expiry = token_expiry(session.wallet, now)
        binding_id = "bnd_" + secrets.token_hex(8)
        while binding_id in self.store.bindings:
            binding_id = "bnd_" + secrets.token_hex(8)
        binding = Binding(
            binding_id=binding_id,
            client_id=merchant.client_id,
            wallet=session.wallet,
            auth_state=session.auth_state,
            user_login_id=login,
            user_id=_user_id(session.wallet, login),
            access_token=self._new_token(),
            access_token_expiry=expiry,
            refresh_token=self._new_token() if refreshable else None,
            refresh_token_expiry=expiry if refreshable else None,
            created_at=now,
            auth_notify_url=session.auth_notify_url,
        )
        self.store.put_binding(binding)
        return binding

    @staticmethod
    def _token_answer(binding: Binding) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "result": result(),
            "accessToken": binding.access_token,
            "accessTokenExpiryTime": fmt_time(binding.access_token_expiry),
        }
        if binding.refresh_token is not None and binding.refresh_token_expiry is not None:
            answer["refreshToken"] = binding.refresh_token
            answer["refreshTokenExpiryTime"] = fmt_time(binding.refresh_token_expiry)
        answer["userLoginId"] = mask_login_id(binding.user_login_id)
        return answer

    def _live_binding(self, client_id: str, token: str) -> Binding | None:
        binding = self.store.binding_by_access_token(token)
        if (
            binding is None
            or binding.client_id != client_id
            or binding.status is not BindingStatus.ACTIVE
            or self.clock.now() > binding.access_token_expiry
        ):
            return None
        return binding

    def revoke(self, ctx: CallContext, body: Body) -> dict[str, Any]:
        token = body.text("accessToken", max_len=128)
        binding = self._live_binding(ctx.merchant.client_id, token)
        if binding is None:
            raise AntomFailure("INVALID_ACCESS_TOKEN")
        binding.ended_at = self.clock.now()
        if ctx.scenario is Scenario.INVALID_ACCESS_TOKEN:
            binding.status = BindingStatus.INVALIDATED
            self.store.put_binding(binding)
            raise AntomFailure("INVALID_ACCESS_TOKEN")
        binding.status = BindingStatus.REVOKED
        self.store.put_binding(binding)
        return {"result": result()}

    def bindings(
        self, *, client_id: str | None, wallet: str | None, user_login_id: str | None
    ) -> list[Binding]:
        found = [
            b
            for b in self.store.bindings.values()
            if (client_id is None or b.client_id == client_id)
            and (wallet is None or b.wallet.value == wallet)
            and (user_login_id is None or b.user_login_id == user_login_id)
        ]
        return sorted(found, key=lambda b: b.created_at, reverse=True)

    def binding(self, binding_id: str) -> Binding:
        found = self.store.bindings.get(binding_id)
        if found is None:
            raise SandboxError(404, "no such binding")
        return found

    def unbind(
        self,
        binding: Binding,
        reason: str | None,
        header_scenarios: list[Scenario] | None = None,
    ) -> dict[str, Any]:
        """The shopper unbinds inside the wallet: the token dies, TOKEN_CANCELED is sent."""
        if binding.status is not BindingStatus.ACTIVE:
            raise SandboxError(409, f"this binding is already {binding.status.value}")
        binding.status = BindingStatus.CANCELED
        binding.ended_at = self.clock.now()
        self.store.put_binding(binding)
        merchant = self._merchant_of(binding.client_id)
        url = binding.auth_notify_url or merchant.record.auth_notify_url
        notification = self.notifier.emit(
            client_id=binding.client_id,
            kind=ApiCall.NOTIFY_AUTHORIZATION,
            url=url,
            body={
                "authorizationNotifyType": "TOKEN_CANCELED",
                "accessToken": binding.access_token,
                "reason": reason or "The user unbound the agreement in the wallet.",
                "userLoginId": mask_login_id(binding.user_login_id),
                "userId": binding.user_id,
                "result": result(),
            },
            reference=binding.binding_id,
            header_scenarios=header_scenarios,
        )
        return {
            "bindingId": binding.binding_id,
            "status": binding.status.value,
            "notificationId": notification.notification_id,
            "notifyUrl": url,
        }

    def binding_by_token(self, access_token: str) -> Binding:
        found = self.store.binding_by_access_token(access_token)
        if found is None:
            raise SandboxError(404, "no binding with this access token")
        return found

    # =========================================================================================
    # payments
    # =========================================================================================

    def pay(self, ctx: CallContext, body: Body) -> dict[str, Any]:
        client_id = ctx.merchant.client_id
        product = body.text("productCode", max_len=32)
        if product != "AGREEMENT_PAYMENT":
            raise illegal("productCode must be AGREEMENT_PAYMENT (Auto Debit)")
        request_id = body.text("paymentRequestId", max_len=64)
        amount = body.amount("paymentAmount")
        method = body.obj("paymentMethod")
        method_type = method.text("paymentMethodType", max_len=64)
        token = method.text("paymentMethodId", max_len=128)
        order = body.obj("order")
        order.amount("orderAmount")
        reference_order_id = order.text("referenceOrderId", max_len=64)
        description = order.text("orderDescription", max_len=256)
        order_merchant = order.opt_obj("merchant")
        reference_merchant_id = (
            order_merchant.text("referenceMerchantId", max_len=64) if order_merchant else ""
        )
        settlement_currency = body.obj("settlementStrategy").text("settlementCurrency", max_len=3)
        notify_url = body.opt_text("paymentNotifyUrl", max_len=2048)
        expiry_text = body.opt_text("paymentExpiryTime", max_len=64)
        fingerprint = {
            "productCode": product,
            "paymentAmount": f"{amount.currency} {amount.value}",
            "paymentMethodType": method_type,
            "paymentMethodId": _token_hash(token),
        }

        existing = self.store.payment_by_request(client_id, request_id)
        if existing is not None:
            if existing.fingerprint != fingerprint:
                raise AntomFailure(
                    "REPEAT_REQ_INCONSISTENT",
                    message="this paymentRequestId was used with another amount, "
                    "payment method or product",
                )
            return self._pay_answer(existing)

        now = self.clock.now()
        expiry = now + PAYMENT_TTL
        if expiry_text is not None:
            try:
                asked = parse_time(expiry_text)
            except ValueError:
                raise illegal("paymentExpiryTime must be ISO-8601 with an offset") from None
            if asked > expiry or asked <= now:
                raise illegal("paymentExpiryTime must be within 1 minute after the request")
            expiry = asked
        wallet = self._wallet(ctx.merchant, method_type)
        try:
            check_payment(wallet, amount)
        except WalletLimitError as exc:
            raise AntomFailure(_limit_code(exc), message=exc.merchant_message) from None
        quote = self._quote(amount, settlement_currency, now)

        payment = Payment(
            payment_id=self._new_id("1140", lambda pid: pid in self.store.payments),
            payment_request_id=request_id,
            client_id=client_id,
            wallet=wallet,
            amount=Money.of(amount),
            settlement_currency=settlement_currency,
            quote=quote,
            reference_order_id=reference_order_id,
            order_description=description,
            reference_merchant_id=reference_merchant_id,
            fingerprint=fingerprint,
            status=PaymentStatus.PROCESSING,
            result_code="PAYMENT_IN_PROCESS",
            result_message="",
            create_time=now,
            expiry_time=expiry,
            notify_url=notify_url or ctx.merchant.record.payment_notify_url,
        )
        binding = self._live_binding(client_id, token)
        if binding is not None and binding.wallet is not wallet:
            binding = None
        if binding is not None:
            payment.binding_id = binding.binding_id
            payment.user_login_id = binding.user_login_id

        failure: str | None = None
        if binding is None:
            failure = "INVALID_ACCESS_TOKEN"
        elif ctx.scenario is Scenario.INVALID_ACCESS_TOKEN:
            binding.status = BindingStatus.INVALIDATED
            binding.ended_at = now
            self.store.put_binding(binding)
            failure = "INVALID_ACCESS_TOKEN"
        elif self._over_period_limit(binding, amount, now):
            failure = "USER_AMOUNT_EXCEED_LIMIT"
        elif ctx.scenario is Scenario.USER_BALANCE_NOT_ENOUGH:
            failure = "USER_BALANCE_NOT_ENOUGH"

        if failure is not None:
            payment.status = PaymentStatus.FAIL
            payment.result_code = failure
            payment.result_message = result(failure)["resultMessage"]
            payment.fail_notify_at = now + timedelta(seconds=self.config.order_close_seconds)
            self.store.put_payment(payment)
            self.poke()
            return self._pay_answer(payment)

        if ctx.scenario in (
            Scenario.PAYMENT_IN_PROCESS_THEN_SUCCESS,
            Scenario.PAYMENT_IN_PROCESS_THEN_FAIL,
        ):
            finish = now + timedelta(seconds=self.config.process_delay_seconds)
            if finish > expiry:
                payment.finalize_at, payment.finalize_code = expiry, "ORDER_IS_CLOSED"
            elif ctx.scenario is Scenario.PAYMENT_IN_PROCESS_THEN_SUCCESS:
                payment.finalize_at, payment.finalize_code = finish, "SUCCESS"
            else:
                payment.finalize_at, payment.finalize_code = finish, "USER_BALANCE_NOT_ENOUGH"
            payment.result_message = result("PAYMENT_IN_PROCESS")["resultMessage"]
            self.store.put_payment(payment)
            self._notify_payment(payment, "PAYMENT_PENDING", ctx.header_scenarios)
            self.poke()
            return self._pay_answer(payment)

        payment.status = PaymentStatus.SUCCESS
        payment.result_code = "SUCCESS"
        payment.result_message = result()["resultMessage"]
        payment.payment_time = now
        self.store.put_payment(payment)
        self._notify_payment(payment, "PAYMENT_RESULT", ctx.header_scenarios)
        return self._pay_answer(payment)

    def _quote(self, amount: Amount, target: str, now: datetime) -> SettlementQuote | None:
        if target == amount.currency:
            return None
        try:
            price = fx.quote_price(amount.currency, target)
        except KeyError:
            raise AntomFailure(
                "SETTLE_CONTRACT_NOT_MATCH",
                message=f"no settlement contract for {amount.currency} settled in {target}",
            ) from None
        return SettlementQuote(
            quote_id="Q" + new_digits(17),
            currency_pair=f"{amount.currency}/{target}",
            price=str(price),
            start_time=now,
            expiry_time=now + timedelta(days=1),
            gross_settlement=Money.of(fx.convert(amount, target, price)),
        )

    def _over_period_limit(self, binding: Binding, amount: Amount, now: datetime) -> bool:
        limits = CAPABILITIES[binding.wallet].period_limits
        if not limits:
            return False
        spent = [
            p
            for p in self.store.payments_of_user(binding.wallet.value, binding.user_login_id)
            if p.status in (PaymentStatus.SUCCESS, PaymentStatus.PROCESSING)
        ]
        for period, limit in limits:
            start = _period_start(now, period)
            total = amount.value + sum(p.amount.value for p in spent if p.create_time >= start)
            if Amount(amount.currency, total).to_decimal() > limit:
                return True
        return False

    @staticmethod
    def _settlement_fields(quote: SettlementQuote | None) -> dict[str, Any]:
        if quote is None:
            return {}
        return {
            "grossSettlementAmount": quote.gross_settlement.to_api(),
            "settlementQuote": {
                "quoteId": quote.quote_id,
                "quoteCurrencyPair": quote.currency_pair,
                "quotePrice": quote.price,
                "quoteStartTime": fmt_time(quote.start_time),
                "quoteExpiryTime": fmt_time(quote.expiry_time),
                "guaranteed": "true",
            },
        }

    def _psp_customer_info(self, payment: Payment) -> dict[str, str]:
        info = {"pspName": payment.wallet.value}
        binding = self.store.bindings.get(payment.binding_id or "")
        if binding is not None:
            info["pspCustomerId"] = binding.user_id
            info["displayCustomerId"] = mask_login_id(binding.user_login_id)
        return info

    def _payment_base(self, payment: Payment) -> dict[str, Any]:
        return {
            "paymentRequestId": payment.payment_request_id,
            "paymentId": payment.payment_id,
            "paymentAmount": payment.amount.to_api(),
            "paymentCreateTime": fmt_time(payment.create_time),
        }

    def _pay_answer(self, payment: Payment) -> dict[str, Any]:
        base = self._payment_base(payment)
        match payment.status:
            case PaymentStatus.SUCCESS:
                assert payment.payment_time is not None
                return {
                    "result": result(),
                    **base,
                    "paymentTime": fmt_time(payment.payment_time),
                    "pspCustomerInfo": self._psp_customer_info(payment),
                    **self._settlement_fields(payment.quote),
                }
            case PaymentStatus.PROCESSING:
                return {"result": result("PAYMENT_IN_PROCESS", "U"), **base}
            case PaymentStatus.FAIL:
                return {"result": result(payment.result_code, "F"), **base}
            case PaymentStatus.CANCELLED:
                return {"result": result("ORDER_IS_CANCELED", "F"), **base}

    def _customs_amount(self, payment: Payment) -> dict[str, Any]:
        if payment.wallet is Wallet.ALIPAY_CN and payment.amount.currency == "CNY":
            return {"customsDeclarationAmount": payment.amount.to_api()}
        return {}

    def _notify_payment(
        self, payment: Payment, notify_type: str, header_scenarios: list[Scenario] | None
    ) -> Notification:
        body: dict[str, Any] = {"notifyType": notify_type}
        if notify_type == "PAYMENT_PENDING":
            body["result"] = result("SUCCESS", "S", "The payment is being processed.")
        elif payment.status is PaymentStatus.SUCCESS:
            body["result"] = result()
        else:
            body["result"] = result(payment.result_code, "F")
        body.update(self._payment_base(payment))
        if notify_type == "PAYMENT_RESULT" and payment.status is PaymentStatus.SUCCESS:
            assert payment.payment_time is not None
            body["paymentTime"] = fmt_time(payment.payment_time)
            body["pspCustomerInfo"] = self._psp_customer_info(payment)
            body.update(self._customs_amount(payment))
            body.update(self._settlement_fields(payment.quote))
        return self.notifier.emit(
            client_id=payment.client_id,
            kind=ApiCall.NOTIFY_PAYMENT,
            url=payment.notify_url,
            body=body,
            reference=payment.payment_request_id,
            header_scenarios=header_scenarios,
        )

    def _find_payment(self, ctx: CallContext, body: Body) -> Payment:
        payment_id = body.opt_text("paymentId", max_len=64)
        request_id = body.opt_text("paymentRequestId", max_len=64)
        if payment_id is None and request_id is None:
            raise illegal("paymentId or paymentRequestId is required")
        client_id = ctx.merchant.client_id
        payment: Payment | None
        if payment_id is not None:
            payment = self.store.payments.get(payment_id)
            if payment is not None and payment.client_id != client_id:
                payment = None
        else:
            assert request_id is not None
            payment = self.store.payment_by_request(client_id, request_id)
        if payment is None:
            raise AntomFailure("ORDER_NOT_EXIST")
        return payment

    def inquiry_payment(self, ctx: CallContext, body: Body) -> dict[str, Any]:
        payment = self._find_payment(ctx, body)
        answer: dict[str, Any] = {
            "result": result(),
            "paymentStatus": payment.status.value,
        }
        match payment.status:
            case PaymentStatus.SUCCESS:
                answer["paymentResultCode"] = "SUCCESS"
                answer["paymentResultMessage"] = "success"
            case PaymentStatus.PROCESSING:
                answer["paymentResultCode"] = "PAYMENT_IN_PROCESS"
                answer["paymentResultMessage"] = result("PAYMENT_IN_PROCESS")["resultMessage"]
            case PaymentStatus.FAIL:
                answer["paymentResultCode"] = payment.result_code
                answer["paymentResultMessage"] = payment.result_message
            case PaymentStatus.CANCELLED:
                answer["paymentResultCode"] = "ORDER_IS_CANCELED"
                answer["paymentResultMessage"] = result("ORDER_IS_CANCELED")["resultMessage"]
        answer.update(self._payment_base(payment))
        if payment.payment_time is not None:
            answer["paymentTime"] = fmt_time(payment.payment_time)
            answer["pspCustomerInfo"] = self._psp_customer_info(payment)
            answer.update(self._customs_amount(payment))
            answer.update(self._settlement_fields(payment.quote))
        transactions = [
            self._refund_transaction(r) for r in self.store.refunds_of(payment.payment_id)
        ]
        if transactions:
            answer["transactions"] = transactions
        return answer

    @staticmethod
    def _refund_transaction(refund: Refund) -> dict[str, Any]:
        match refund.status:
            case RefundStatus.SUCCESS:
                outcome = result()
            case RefundStatus.PROCESSING:
                outcome = result("REFUND_IN_PROCESS", "U")
            case RefundStatus.FAIL:
                outcome = result(refund.result_code, "F")
        transaction: dict[str, Any] = {
            "transactionType": "REFUND",
            "transactionStatus": refund.status.value,
            "transactionId": refund.refund_id,
            "transactionRequestId": refund.refund_request_id,
            "transactionAmount": refund.amount.to_api(),
            "transactionResult": outcome,
        }
        if refund.refund_time is not None:
            transaction["transactionTime"] = fmt_time(refund.refund_time)
        return transaction

    def cancel(self, ctx: CallContext, body: Body) -> dict[str, Any]:
        payment = self._find_payment(ctx, body)
        now = self.clock.now()
        match payment.status:
            case PaymentStatus.CANCELLED | PaymentStatus.FAIL:
                pass  # closing a closed or failed payment again changes nothing
            case PaymentStatus.PROCESSING:
                payment.status = PaymentStatus.CANCELLED
                payment.finalize_at = None
                payment.finalize_code = None
            case PaymentStatus.SUCCESS:
                assert payment.payment_time is not None
                if any(
                    r.status is not RefundStatus.FAIL
                    for r in self.store.refunds_of(payment.payment_id)
                ):
                    raise AntomFailure(
                        "ORDER_STATUS_INVALID", message="the payment has refunds; refund instead"
                    )
                if now > payment.payment_time + CANCEL_WINDOW:
                    raise AntomFailure("CANCEL_WINDOW_EXCEED")
                if ctx.scenario is Scenario.MERCHANT_BALANCE_NOT_ENOUGH:
                    raise AntomFailure("MERCHANT_BALANCE_NOT_ENOUGH")
                payment.status = PaymentStatus.CANCELLED
                payment.cancel_id = self._new_id("1150", self.store.cancel_id_taken)
        if payment.cancel_time is None:
            payment.cancel_time = now
        self.store.put_payment(payment)
        return {
            "result": result(),
            "paymentId": payment.payment_id,
            "paymentRequestId": payment.payment_request_id,
            "cancelTime": fmt_time(payment.cancel_time),
        }

    # =========================================================================================
    # refunds
    # =========================================================================================

    def refund(self, ctx: CallContext, body: Body) -> dict[str, Any]:
        client_id = ctx.merchant.client_id
        request_id = body.text("refundRequestId", max_len=64)
        payment_id = body.text("paymentId", max_len=64)
        amount = body.amount("refundAmount")
        reference_refund_id = body.opt_text("referenceRefundId", max_len=64)
        reason = body.opt_text("refundReason", max_len=256)
        notify_url = body.opt_text("refundNotifyUrl", max_len=1024)

        existing = self.store.refund_by_request(client_id, request_id)
        if existing is not None:
            if existing.payment_id != payment_id or existing.amount != Money.of(amount):
                raise AntomFailure(
                    "REPEAT_REQ_INCONSISTENT",
                    message="this refundRequestId was used with another payment or amount",
                )
            return self._refund_answer(existing)

        payment = self.store.payments.get(payment_id)
        if payment is None or payment.client_id != client_id:
            raise AntomFailure("ORDER_NOT_EXIST")
        match payment.status:
            case PaymentStatus.CANCELLED:
                raise AntomFailure("ORDER_IS_CANCELED")
            case PaymentStatus.FAIL | PaymentStatus.PROCESSING:
                raise AntomFailure(
                    "ORDER_STATUS_INVALID", message="only a successful payment can be refunded"
                )
            case PaymentStatus.SUCCESS:
                pass
        assert payment.payment_time is not None
        now = self.clock.now()
        try:
            check_refund(payment.wallet, amount, payment.payment_time, now)
        except WalletLimitError as exc:
            raise AntomFailure(_limit_code(exc), message=exc.merchant_message) from None
        paid = payment.amount.amount()
        active = [r for r in self.store.refunds_of(payment_id) if r.status is not RefundStatus.FAIL]
        refunded = sum((r.amount.value for r in active), 0)
        if refunded + amount.value > paid.value:
            raise AntomFailure(
                "REFUND_AMOUNT_EXCEED",
                message=f"refunds would total {Amount(paid.currency, refunded + amount.value)}, "
                f"more than the {paid} paid",
            )
        capability = CAPABILITIES[payment.wallet]
        if not capability.partial_refunds and amount.value != paid.value:
            raise AntomFailure("PARTIAL_REFUND_NOT_SUPPORTED")
        if not capability.multiple_refunds and active:
            raise AntomFailure("MULTIPLE_REFUNDS_NOT_SUPPORTED")

        refund = Refund(
            refund_id=self._new_id("1160", lambda rid: rid in self.store.refunds),
            refund_request_id=request_id,
            client_id=client_id,
            payment_id=payment_id,
            amount=Money.of(amount),
            reference_refund_id=reference_refund_id,
            refund_reason=reason,
            status=RefundStatus.SUCCESS,
            result_code="SUCCESS",
            result_message=result()["resultMessage"],
            create_time=now,
            notify_url=notify_url or ctx.merchant.record.refund_notify_url,
            quote=self._quote(amount, payment.settlement_currency, now),
        )
        if ctx.scenario is Scenario.MERCHANT_BALANCE_NOT_ENOUGH:
            refund.status = RefundStatus.FAIL
            refund.result_code = "MERCHANT_BALANCE_NOT_ENOUGH"
            refund.result_message = result(refund.result_code)["resultMessage"]
            self.store.put_refund(refund)
            return self._refund_answer(refund)
        if ctx.scenario is Scenario.REFUND_IN_PROCESS:
            refund.status = RefundStatus.PROCESSING
            refund.result_code = "REFUND_IN_PROCESS"
            refund.result_message = result(refund.result_code)["resultMessage"]
            refund.finalize_at = now + timedelta(seconds=self.config.process_delay_seconds)
            self.store.put_refund(refund)
            self.poke()
            return self._refund_answer(refund)
        refund.refund_time = now
        self.store.put_refund(refund)
        self._notify_refund(refund, ctx.header_scenarios)
        return self._refund_answer(refund)

    def _refund_base(self, refund: Refund) -> dict[str, Any]:
        return {
            "refundRequestId": refund.refund_request_id,
            "refundId": refund.refund_id,
            "paymentId": refund.payment_id,
            "refundAmount": refund.amount.to_api(),
        }

    def _refund_answer(self, refund: Refund) -> dict[str, Any]:
        base = self._refund_base(refund)
        match refund.status:
            case RefundStatus.SUCCESS:
                assert refund.refund_time is not None
                return {
                    "result": result(),
                    **base,
                    "refundTime": fmt_time(refund.refund_time),
                    **self._settlement_fields(refund.quote),
                }
            case RefundStatus.PROCESSING:
                return {"result": result("REFUND_IN_PROCESS", "U"), **base}
            case RefundStatus.FAIL:
                return {"result": result(refund.result_code, "F"), **base}

    def _notify_refund(
        self, refund: Refund, header_scenarios: list[Scenario] | None
    ) -> Notification:
        body: dict[str, Any] = {
            "notifyType": "REFUND_RESULT",
            "result": result()
            if refund.status is RefundStatus.SUCCESS
            else result(refund.result_code, "F"),
            "refundStatus": refund.status.value,
            **self._refund_base(refund),
        }
        del body["paymentId"]
        if refund.refund_time is not None:
            body["refundTime"] = fmt_time(refund.refund_time)
        body.update(self._settlement_fields(refund.quote))
        return self.notifier.emit(
            client_id=refund.client_id,
            kind=ApiCall.NOTIFY_REFUND,
            url=refund.notify_url,
            body=body,
            reference=refund.refund_request_id,
            header_scenarios=header_scenarios,
        )

    def inquiry_refund(self, ctx: CallContext, body: Body) -> dict[str, Any]:
        refund_id = body.opt_text("refundId", max_len=64)
        request_id = body.opt_text("refundRequestId", max_len=64)
        if refund_id is None and request_id is None:
            raise illegal("refundId or refundRequestId is required")
        client_id = ctx.merchant.client_id
        refund: Refund | None
        if refund_id is not None:
            refund = self.store.refunds.get(refund_id)
            if refund is not None and refund.client_id != client_id:
                refund = None
        else:
            assert request_id is not None
            refund = self.store.refund_by_request(client_id, request_id)
        if refund is None:
            raise AntomFailure("ORDER_NOT_EXIST")
        answer: dict[str, Any] = {
            "result": result(),
            **self._refund_base(refund),
            "refundStatus": refund.status.value,
        }
        del answer["paymentId"]
        if refund.refund_time is not None:
            answer["refundTime"] = fmt_time(refund.refund_time)
            answer.update(self._settlement_fields(refund.quote))
        return answer

    # =========================================================================================
    # customs declarations
    # =========================================================================================

    def declare(self, ctx: CallContext, body: Body) -> dict[str, Any]:
        client_id = ctx.merchant.client_id
        request_id = body.text("declarationRequestId", max_len=32)
        payment_id = body.text("paymentId", max_len=64)
        amount = body.amount("declarationAmount")
        customs = body.obj("customs")
        customs_code = customs.text("customsCode", max_len=28)
        region = customs.text("region", max_len=2)
        if region != "CN":
            raise illegal("customs.region must be CN")
        info = body.obj("merchantCustomsInfo")
        merchant_code = info.text("merchantCustomsCode", max_len=128)
        merchant_name = info.text("merchantCustomsName", max_len=256)
        split = body.flag("splitOrder")
        suborder_id = body.opt_text("suborderId", max_len=64)
        if split and suborder_id is None:
            raise illegal("suborderId is required when splitOrder is true")
        certificate = body.opt_obj("buyerCertificate")
        cert_type = cert_no = holder = None
        if certificate is not None:
            cert_type = certificate.text("certificateType", max_len=32)
            if cert_type not in CERTIFICATE_TYPES:
                raise illegal("buyerCertificate.certificateType must be ID_CARD or PASSPORT")
            cert_no = certificate.text("certificateNo", max_len=64)
            holder_name = certificate.opt_obj("holderName")
            holder = holder_name.opt_text("fullName", max_len=128) if holder_name else None
            if cert_type == "ID_CARD" and holder is None:
                raise illegal("buyerCertificate.holderName.fullName is required for ID_CARD")
        if amount.currency != "CNY":
            raise illegal("declarationAmount must be in CNY")

        payment = self.store.payments.get(payment_id)
        if payment is None or payment.client_id != client_id:
            raise AntomFailure("ORDER_NOT_EXIST")
        if payment.status is not PaymentStatus.SUCCESS:
            raise AntomFailure(
                "ORDER_STATUS_INVALID", message="only a successful payment can be declared"
            )
        if payment.amount.currency != "CNY":
            raise AntomFailure(
                "ORDER_STATUS_INVALID", message="only CNY (Alipay CN) payments can be declared"
            )
        canonical = dump_json(
            {
                "paymentId": payment_id,
                "amount": amount.value,
                "customsCode": customs_code,
                "region": region,
                "merchantCustomsCode": merchant_code,
                "merchantCustomsName": merchant_name,
                "splitOrder": split,
                "suborderId": suborder_id,
                "certificateType": cert_type,
                "certificateNo": cert_no,
                "holderName": holder,
            }
        )
        now = self.clock.now()
        others = [
            d
            for d in self.store.declarations_of(payment_id)
            if d.declaration_request_id != request_id
        ]
        if sum(d.amount.value for d in others) + amount.value > payment.amount.value:
            raise AntomFailure("TOTAL_DECLARATION_AMOUNT_EXCEED")
        existing = self.store.declarations.get((client_id, request_id))
        if existing is not None:
            if canonical == existing.last_request:
                return self._declare_answer(existing)  # a plain retransmission
            if (
                existing.payment_id != payment_id
                or existing.split_order != split
                or existing.region != region
                or existing.certificate_type != cert_type
            ):
                raise AntomFailure(
                    "REPEAT_REQ_INCONSISTENT",
                    message="a re-sent declaration may only change the customs code and name, "
                    "the amount, suborderId and the buyer's name and number",
                )
            if now < existing.last_call_at + DECLARATION_RESEND_PAUSE:
                raise AntomFailure(
                    "CONTEXT_INCONSISTENT",
                    message="re-send a declaration at least 5 minutes after the previous call",
                )
            existing.amount = Money.of(amount)
            existing.customs_code = customs_code
            existing.merchant_customs_code = merchant_code
            existing.merchant_customs_name = merchant_name
            existing.suborder_id = suborder_id
            existing.certificate_no = cert_no
            existing.holder_name = holder
            existing.last_call_at = now
            existing.last_request = canonical
            self.store.put_declaration(existing)
            return self._declare_answer(existing)

        if any(d.customs_code == customs_code and not (split and d.split_order) for d in others):
            raise AntomFailure("DUPLICATED_DECLARATIONS")
        declaration = Declaration(
            declaration_request_id=request_id,
            client_id=client_id,
            payment_id=payment_id,
            amount=Money.of(amount),
            customs_code=customs_code,
            region=region,
            merchant_customs_code=merchant_code,
            merchant_customs_name=merchant_name,
            split_order=split,
            suborder_id=suborder_id,
            certificate_type=cert_type,
            certificate_no=cert_no,
            holder_name=holder,
            customs_payment_id="CP" + new_digits(20),
            customs_order_id="CO" + new_digits(20),
            clearing_transaction_id=new_digits(28),
            created_at=now,
            last_call_at=now,
            last_request=canonical,
        )
        self.store.put_declaration(declaration)
        return self._declare_answer(declaration)

    @staticmethod
    def _declare_answer(declaration: Declaration) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "result": result(),
            "customsPaymentId": declaration.customs_payment_id,
            "customsOrderId": declaration.customs_order_id,
            "clearingChannel": "NUCC",
            "clearingTransactionId": declaration.clearing_transaction_id,
            "customsProviderRegistrationId": CUSTOMS_PROVIDER_REGISTRATION_ID,
        }
        if declaration.certificate_type is not None:
            answer["identityCheckResult"] = "CHECK_PASSED"
        return answer

    def inquiry_declarations(self, ctx: CallContext, body: Body) -> dict[str, Any]:
        ids = body.text_list("declarationRequestIds", max_items=10, max_len=32)
        now = self.clock.now()
        delay = timedelta(seconds=self.config.customs_delay_seconds)
        records: list[dict[str, Any]] = []
        missing: list[str] = []
        for request_id in ids:
            declaration = self.store.declarations.get((ctx.merchant.client_id, request_id))
            if declaration is None:
                missing.append(request_id)
                continue
            done_at = declaration.last_call_at + delay
            record: dict[str, Any] = {
                "declarationRequestId": declaration.declaration_request_id,
                "customsPaymentId": declaration.customs_payment_id,
                "customsOrderId": declaration.customs_order_id,
                "customs": {"customsCode": declaration.customs_code, "region": declaration.region},
                "merchantCustomsInfo": {
                    "merchantCustomsCode": declaration.merchant_customs_code,
                    "merchantCustomsName": declaration.merchant_customs_name,
                },
                "declarationAmount": declaration.amount.to_api(),
                "splitOrder": "true" if declaration.split_order else "false",
            }
            if declaration.suborder_id is not None:
                record["suborderId"] = declaration.suborder_id
            if now >= done_at:
                record["declarationRequestStatus"] = "CUSTOMS_PROCESSING_COMPLETED"
                record["lastModifiedTime"] = fmt_time(done_at)
                record["customsDeclarationResultCode"] = "120"
                record["customsDeclarationResultDesc"] = "Verified by customs"
                record["customsDeclarationReturnTime"] = fmt_time(done_at)
            else:
                record["declarationRequestStatus"] = "IN_PROCESS"
                record["lastModifiedTime"] = fmt_time(declaration.last_call_at)
            records.append(record)
        return {
            "result": result(),
            "declarationRequestsNotFound": missing,
            "declarationRecords": records,
        }

    # =========================================================================================
    # scheduled work
    # =========================================================================================

    def _pending(self) -> Iterable[tuple[datetime, Payment | Refund]]:
        for payment in self.store.scheduled_payments():
            if payment.finalize_at is not None:
                yield payment.finalize_at, payment
            if payment.fail_notify_at is not None:
                yield payment.fail_notify_at, payment
        for refund in self.store.scheduled_refunds():
            if refund.finalize_at is not None:
                yield refund.finalize_at, refund

    def _next_due(self) -> datetime | None:
        return min((due for due, _ in self._pending()), default=None)

    def settle_due(self) -> None:
        """Finish every in-process payment or refund whose time has come, and notify."""
        now = self.clock.now()
        due = [record for at, record in self._pending() if at <= now]
        for record in due:
            if isinstance(record, Payment):
                self._settle_payment(record, now)
            else:
                self._settle_refund(record, now)

    def _settle_payment(self, payment: Payment, now: datetime) -> None:
        if payment.finalize_at is not None and payment.finalize_at <= now:
            at, code = payment.finalize_at, payment.finalize_code or "SUCCESS"
            payment.finalize_at = payment.finalize_code = None
            if payment.status is PaymentStatus.PROCESSING:
                if code == "SUCCESS":
                    payment.status = PaymentStatus.SUCCESS
                    payment.payment_time = at
                else:
                    payment.status = PaymentStatus.FAIL
                payment.result_code = code
                payment.result_message = result(code)["resultMessage"]
                self.store.put_payment(payment)
                self._notify_payment(payment, "PAYMENT_RESULT", None)
        if payment.fail_notify_at is not None and payment.fail_notify_at <= now:
            payment.fail_notify_at = None
            self.store.put_payment(payment)
            self._notify_payment(payment, "PAYMENT_RESULT", None)

    def _settle_refund(self, refund: Refund, now: datetime) -> None:
        if refund.finalize_at is None or refund.finalize_at > now:
            return
        refund.refund_time = refund.finalize_at
        refund.finalize_at = None
        refund.status = RefundStatus.SUCCESS
        refund.result_code = "SUCCESS"
        refund.result_message = result()["resultMessage"]
        self.store.put_refund(refund)
        self._notify_refund(refund, None)

    # =========================================================================================
    # dispatch
    # =========================================================================================

    def handle(self, call: ApiCall, ctx: CallContext, body: Body) -> dict[str, Any]:
        """Run one API call (raises :class:`AntomFailure` for a failed ``result``)."""
        match call:
            case ApiCall.CONSULT:
                return self.consult(ctx, body)
            case ApiCall.APPLY_TOKEN:
                return self.apply_token(ctx, body)
            case ApiCall.REVOKE:
                return self.revoke(ctx, body)
            case ApiCall.PAY:
                return self.pay(ctx, body)
            case ApiCall.INQUIRY_PAYMENT:
                return self.inquiry_payment(ctx, body)
            case ApiCall.CANCEL:
                return self.cancel(ctx, body)
            case ApiCall.REFUND:
                return self.refund(ctx, body)
            case ApiCall.INQUIRY_REFUND:
                return self.inquiry_refund(ctx, body)
            case ApiCall.DECLARE:
                return self.declare(ctx, body)
            case ApiCall.INQUIRY_DECLARATION:
                return self.inquiry_declarations(ctx, body)
            case ApiCall.NOTIFY_AUTHORIZATION | ApiCall.NOTIFY_PAYMENT | ApiCall.NOTIFY_REFUND:
                raise AntomFailure("NO_INTERFACE_DEF", message="notifications are sent, not called")
            case _:
                assert_never(call)
