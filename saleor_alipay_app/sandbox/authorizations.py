"""Authorizations: consult, the shopper's approval or refusal, applyToken, revoke, unbinding."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any, Final

from saleor_alipay_app.antom.wallets import CAPABILITIES, Wallet

from .clock import ANTOM_TZ, fmt_time, new_digits
from .config import ApiCall, Scenario
from .core import CallContext, Merchant, SandboxCore, SandboxError
from .models import AuthSession, AuthStatus, Binding, BindingStatus
from .protocol import AntomFailure, Body, illegal, mask_login_id, result

__all__ = ["AUTH_CODE_TTL", "AUTH_SESSION_TTL", "AuthorizationFlows", "token_expiry"]

AUTH_CODE_TTL: Final = timedelta(seconds=60)  # applyToken within 1 minute (API.md §6)
AUTH_SESSION_TTL: Final = timedelta(minutes=15)  # no notification in 15 min = failed (§6)
TERMINAL_TYPES: Final = frozenset({"WEB", "WAP", "APP", "MINI_APP"})
SCOPES: Final = frozenset(
    {"AGREEMENT_PAY", "BASE_USER_INFO", "USER_INFO", "USER_LOGIN_ID", "HASH_LOGIN_ID", "SEND_OTP"}
)

# Dialling prefixes for the default shopper login ids (a phone number, as the wallets use).
LOGIN_PREFIX: Final[dict[Wallet, str]] = {
    Wallet.ALIPAY_HK: "852",
    Wallet.DANA: "628",
    Wallet.ALIPAY_CN: "861",
    Wallet.GCASH: "639",
    Wallet.KAKAOPAY: "8210",
    Wallet.TNG: "601",
    Wallet.TRUEMONEY: "668",
}


def user_id_for(wallet: Wallet, login_id: str) -> str:
    digest = hashlib.sha256(f"{wallet}:{login_id}".encode()).hexdigest()
    return "2088" + str(int(digest, 16))[:12]


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


class AuthorizationFlows(SandboxCore):
    """Scan to Bind up to a live token, and its end."""

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
                "userId": user_id_for(session.wallet, login),
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
        return LOGIN_PREFIX[wallet] + new_digits(8)

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
            user_id=user_id_for(session.wallet, login),
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
