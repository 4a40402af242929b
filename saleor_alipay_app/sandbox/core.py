"""The simulated Antom's core: merchants, clock, ids, and the rules shared by every flow.

Handlers are synchronous: each reads and changes the in-memory state without awaiting, so
concurrent requests never see half a change. Failures are raised as ``AntomFailure`` and
become the ``result`` of the answer. Time comes from the sandbox clock.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, TypeVar

from cryptography.hazmat.primitives.asymmetric import rsa

from saleor_alipay_app.antom.keys import load_public_key, public_key_pem
from saleor_alipay_app.antom.wallets import Wallet, WalletLimitError

from .clock import ANTOM_TZ, SandboxClock, new_digits
from .config import MerchantConfig, SandboxConfig, Scenario
from .models import Binding, BindingStatus, StoredMerchant
from .notifier import Notifier
from .protocol import AntomFailure, Body, illegal
from .scenarios import ScenarioBook
from .store import Store

__all__ = ["CallContext", "Merchant", "SandboxCore", "SandboxError", "limit_code"]


class SandboxError(Exception):
    """A refused action on the sandbox's own API or wallet page (not an Antom answer)."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


class _Owned(Protocol):
    @property
    def client_id(self) -> str: ...


_OwnedT = TypeVar("_OwnedT", bound=_Owned)


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


def limit_code(error: WalletLimitError) -> str:
    match error.code:
        case "CURRENCY_NOT_SUPPORTED":
            return "CURRENCY_NOT_SUPPORT"
        case "ABOVE_MAXIMUM":
            return "PAYMENT_AMOUNT_EXCEED_LIMIT"
        case "REFUND_WINDOW_EXCEEDED":
            return "REFUND_WINDOW_EXCEED"
        case _:
            return "PARAM_ILLEGAL"


class SandboxCore:
    """State, clock, scenarios and notifications of one simulated Antom, and shared helpers."""

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
        for merchant in config.merchants:
            self.add_merchant(merchant)
        # the offline report command reads this back from the database file
        self.store.put_meta("settlement_delay_days", str(config.settlement_delay_days))

    # -- background work -----------------------------------------------------------------

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

    # -- the caller's records ----------------------------------------------------------------

    @staticmethod
    def _owned(record: _OwnedT | None, ctx: CallContext) -> _OwnedT:
        """``record`` if it belongs to the calling merchant; ``ORDER_NOT_EXIST`` otherwise."""
        if record is None or record.client_id != ctx.merchant.client_id:
            raise AntomFailure("ORDER_NOT_EXIST")
        return record

    def _find(
        self,
        ctx: CallContext,
        body: Body,
        kind: str,
        by_id: Mapping[str, _OwnedT],
        by_request: Callable[[str, str], _OwnedT | None],
    ) -> _OwnedT:
        """The caller's record named by ``<kind>Id``, else by ``<kind>RequestId`` in ``body``."""
        id_field, request_id_field = f"{kind}Id", f"{kind}RequestId"
        record_id = body.opt_text(id_field, max_len=64)
        request_id = body.opt_text(request_id_field, max_len=64)
        if record_id is not None:
            return self._owned(by_id.get(record_id), ctx)
        if request_id is not None:
            return self._owned(by_request(ctx.merchant.client_id, request_id), ctx)
        raise illegal(f"{id_field} or {request_id_field} is required")

    # -- ids ---------------------------------------------------------------------------------

    def _new_id(self, infix: str, taken: Callable[[str], bool]) -> str:
        while True:
            candidate = f"{self.clock.now().astimezone(ANTOM_TZ):%Y%m%d}{infix}{new_digits(16)}"
            if not taken(candidate):
                return candidate

    def _live_binding(self, client_id: str, token: str) -> Binding | None:
        """The active, unexpired binding of this merchant that ``token`` opens, if any."""
        binding = self.store.binding_by_access_token(token)
        if (
            binding is None
            or binding.client_id != client_id
            or binding.status is not BindingStatus.ACTIVE
            or self.clock.now() > binding.access_token_expiry
        ):
            return None
        return binding

    def _new_token(self) -> str:
        while True:
            candidate = secrets.token_urlsafe(32)
            if not self.store.token_in_use(candidate):
                return candidate
