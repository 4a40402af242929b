"""The sandbox's memory: dictionaries with indexes, optionally mirrored into one SQLite file.

The dictionaries are the truth while the sandbox runs (one event loop, so a handler that does
not await in the middle of a change sees and leaves a consistent state). With a database file,
every changed record is queued and written by a background task: it turns the queued records
into JSON on the event loop, between handlers (a record changed several times since the last
write is serialised once, as it is now), and writes them in a worker thread, so the event loop
never waits for the disk; at start the file is read back into memory. Without a file nothing is
serialised.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Final

from pydantic import BaseModel

from saleor_alipay_app.antom.models import PaymentStatus

from .clock import ANTOM_TZ
from .models import AuthSession, Binding, Declaration, Notification, Payment, Refund, StoredMerchant

__all__ = ["Store"]

# The payments that count towards a shopper's cumulative limits (API.md §11).
_SPENDING: Final = frozenset({PaymentStatus.SUCCESS, PaymentStatus.PROCESSING})

_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS records ("
    " kind TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, key))"
)


def _pair(a: str, b: str) -> str:
    return json.dumps([a, b])


class Store:
    """All records of one sandbox, by their natural keys."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.merchants: dict[str, StoredMerchant] = {}
        self.auth_sessions: dict[str, AuthSession] = {}
        self.bindings: dict[str, Binding] = {}
        self.payments: dict[str, Payment] = {}
        self.refunds: dict[str, Refund] = {}
        self.declarations: dict[tuple[str, str], Declaration] = {}
        self.notifications: dict[str, Notification] = {}
        self.meta: dict[str, str] = {}
        self._auth_by_state: dict[tuple[str, str], str] = {}
        self._auth_by_code: dict[tuple[str, str], str] = {}
        self._binding_by_access: dict[str, str] = {}
        self._binding_by_refresh: dict[str, str] = {}
        self._tokens_of_binding: dict[str, tuple[str, str | None]] = {}
        self._payment_by_request: dict[tuple[str, str], str] = {}
        self._refund_by_request: dict[tuple[str, str], str] = {}
        self._refunds_by_payment: dict[str, set[str]] = {}
        # per shopper (wallet, login id): the minor units of their successful and in-process
        # payments per day in Antom's time, kept as payments change, so that a period limit is a
        # sum over days, not over every payment the shopper ever made
        self._spent: dict[tuple[str, str], dict[date, int]] = {}
        self._spent_by_payment: dict[str, tuple[tuple[str, str], date, int]] = {}
        self._declarations_by_payment: dict[str, set[tuple[str, str]]] = {}
        self._cancel_ids: set[str] = set()
        # records with work due later (finishing an in-process payment or refund, notifying)
        self._scheduled_payments: set[str] = set()
        self._scheduled_refunds: set[str] = set()
        self._pending: dict[tuple[str, str], BaseModel | str] = {}
        self._wake = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._conn: sqlite3.Connection | None = None
        if path is not None:
            self._open(path)

    # -- loading and persistence -----------------------------------------------------------

    def _open(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(_SCHEMA)
        self._conn = conn
        rows = conn.execute("SELECT kind, data FROM records ORDER BY rowid").fetchall()
        for kind, data in rows:
            self._load(str(kind), str(data))

    @classmethod
    def snapshot(cls, path: Path) -> Store:
        """The records of a database file, read once; changes to it are not written back."""
        if not path.is_file():
            raise FileNotFoundError(f"no sandbox database at {path}")
        store = cls(path)
        if store._conn is not None:
            store._conn.close()
            store._conn = None
        return store

    def _load(self, kind: str, data: str) -> None:
        match kind:
            case "merchant":
                self._index_merchant(StoredMerchant.model_validate_json(data))
            case "auth":
                self._index_auth(AuthSession.model_validate_json(data))
            case "binding":
                self._index_binding(Binding.model_validate_json(data))
            case "payment":
                self._index_payment(Payment.model_validate_json(data))
            case "refund":
                self._index_refund(Refund.model_validate_json(data))
            case "declaration":
                self._index_declaration(Declaration.model_validate_json(data))
            case "notification":
                self._index_notification(Notification.model_validate_json(data))
            case "meta":
                key, value = json.loads(data)
                self.meta[str(key)] = str(value)
            case _:
                raise ValueError(f"unknown record kind {kind!r} in the sandbox database")

    def _persist(self, kind: str, key: str, record: BaseModel | str) -> None:
        """Queue ``record`` (a model, serialised when written, or JSON text) for the file."""
        if self._conn is None:
            return
        self._pending[(kind, key)] = record
        self._wake.set()

    def _write(self, batch: dict[tuple[str, str], str]) -> None:
        conn = self._conn
        if conn is None:
            return
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO records (kind, key, data) VALUES (?, ?, ?) "
            "ON CONFLICT (kind, key) DO UPDATE SET data = excluded.data",
            [(kind, key, data) for (kind, key), data in batch.items()],
        )
        conn.execute("COMMIT")

    async def _flush_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        """Write every queued change to the database file (no-op in memory mode)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        batch = {
            key: record if isinstance(record, str) else record.model_dump_json()
            for key, record in pending.items()
        }
        await asyncio.to_thread(self._write, batch)

    def start(self) -> None:
        if self._conn is not None and self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_loop(), name="sandbox-store-flush")

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        await self.flush()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- merchants -------------------------------------------------------------------------

    def _index_merchant(self, merchant: StoredMerchant) -> None:
        self.merchants[merchant.client_id] = merchant

    def put_merchant(self, merchant: StoredMerchant) -> None:
        self._index_merchant(merchant)
        self._persist("merchant", merchant.client_id, merchant)

    # -- authorization sessions --------------------------------------------------------------

    def _index_auth(self, session: AuthSession) -> None:
        self.auth_sessions[session.auth_id] = session
        self._auth_by_state[(session.client_id, session.auth_state)] = session.auth_id
        if session.auth_code is not None:
            self._auth_by_code[(session.client_id, session.auth_code)] = session.auth_id

    def put_auth(self, session: AuthSession) -> None:
        self._index_auth(session)
        self._persist("auth", session.auth_id, session)

    def auth_by_state(self, client_id: str, auth_state: str) -> AuthSession | None:
        auth_id = self._auth_by_state.get((client_id, auth_state))
        return None if auth_id is None else self.auth_sessions[auth_id]

    def auths_with_state(self, auth_state: str) -> list[AuthSession]:
        return [s for s in self.auth_sessions.values() if s.auth_state == auth_state]

    def auth_by_code(self, client_id: str, auth_code: str) -> AuthSession | None:
        auth_id = self._auth_by_code.get((client_id, auth_code))
        return None if auth_id is None else self.auth_sessions[auth_id]

    # -- bindings (tokens) -------------------------------------------------------------------

    def _index_binding(self, binding: Binding) -> None:
        old = self._tokens_of_binding.get(binding.binding_id)
        if old is not None:
            self._binding_by_access.pop(old[0], None)
            if old[1] is not None:
                self._binding_by_refresh.pop(old[1], None)
        self.bindings[binding.binding_id] = binding
        self._binding_by_access[binding.access_token] = binding.binding_id
        if binding.refresh_token is not None:
            self._binding_by_refresh[binding.refresh_token] = binding.binding_id
        self._tokens_of_binding[binding.binding_id] = (
            binding.access_token,
            binding.refresh_token,
        )

    def put_binding(self, binding: Binding) -> None:
        self._index_binding(binding)
        self._persist("binding", binding.binding_id, binding)

    def binding_by_access_token(self, token: str) -> Binding | None:
        binding_id = self._binding_by_access.get(token)
        return None if binding_id is None else self.bindings[binding_id]

    def binding_by_refresh_token(self, token: str) -> Binding | None:
        binding_id = self._binding_by_refresh.get(token)
        return None if binding_id is None else self.bindings[binding_id]

    def token_in_use(self, token: str) -> bool:
        return token in self._binding_by_access or token in self._binding_by_refresh

    # -- payments ----------------------------------------------------------------------------

    def _index_payment(self, payment: Payment) -> None:
        payment_id = payment.payment_id
        self.payments[payment_id] = payment
        self._payment_by_request[(payment.client_id, payment.payment_request_id)] = payment_id
        self._count_spending(payment)
        if payment.cancel_id is not None:
            self._cancel_ids.add(payment.cancel_id)
        if payment.finalize_at is not None or payment.fail_notify_at is not None:
            self._scheduled_payments.add(payment_id)
        else:
            self._scheduled_payments.discard(payment_id)

    def _count_spending(self, payment: Payment) -> None:
        old = self._spent_by_payment.pop(payment.payment_id, None)
        if old is not None:
            user, day, value = old
            days = self._spent[user]
            days[day] -= value
            if not days[day]:
                del days[day]
        if payment.user_login_id is not None and payment.status in _SPENDING:
            user = (payment.wallet.value, payment.user_login_id)
            day = payment.create_time.astimezone(ANTOM_TZ).date()
            days = self._spent.setdefault(user, {})
            days[day] = days.get(day, 0) + payment.amount.value
            self._spent_by_payment[payment.payment_id] = (user, day, payment.amount.value)

    def put_payment(self, payment: Payment) -> None:
        self._index_payment(payment)
        self._persist("payment", payment.payment_id, payment)

    def payment_by_request(self, client_id: str, payment_request_id: str) -> Payment | None:
        payment_id = self._payment_by_request.get((client_id, payment_request_id))
        return None if payment_id is None else self.payments[payment_id]

    # -- refunds -----------------------------------------------------------------------------

    def _index_refund(self, refund: Refund) -> None:
        refund_id = refund.refund_id
        self.refunds[refund_id] = refund
        self._refund_by_request[(refund.client_id, refund.refund_request_id)] = refund_id
        self._refunds_by_payment.setdefault(refund.payment_id, set()).add(refund_id)
        if refund.finalize_at is not None:
            self._scheduled_refunds.add(refund_id)
        else:
            self._scheduled_refunds.discard(refund_id)

    def put_refund(self, refund: Refund) -> None:
        self._index_refund(refund)
        self._persist("refund", refund.refund_id, refund)

    def refund_by_request(self, client_id: str, refund_request_id: str) -> Refund | None:
        refund_id = self._refund_by_request.get((client_id, refund_request_id))
        return None if refund_id is None else self.refunds[refund_id]

    def spent_by_day(self, wallet: str, user_login_id: str) -> Mapping[date, int]:
        """Minor units of the shopper's successful and in-process payments per day (UTC+8)."""
        return self._spent.get((wallet, user_login_id), {})

    def cancel_id_taken(self, cancel_id: str) -> bool:
        return cancel_id in self._cancel_ids

    def scheduled_payments(self) -> list[Payment]:
        return [self.payments[payment_id] for payment_id in self._scheduled_payments]

    def refunds_of(self, payment_id: str) -> list[Refund]:
        found = [self.refunds[r] for r in self._refunds_by_payment.get(payment_id, set())]
        return sorted(found, key=lambda r: (r.create_time, r.refund_id))

    def scheduled_refunds(self) -> list[Refund]:
        return [self.refunds[refund_id] for refund_id in self._scheduled_refunds]

    # -- declarations ------------------------------------------------------------------------

    def _index_declaration(self, declaration: Declaration) -> None:
        key = (declaration.client_id, declaration.declaration_request_id)
        self.declarations[key] = declaration
        self._declarations_by_payment.setdefault(declaration.payment_id, set()).add(key)

    def put_declaration(self, declaration: Declaration) -> None:
        self._index_declaration(declaration)
        key = _pair(declaration.client_id, declaration.declaration_request_id)
        self._persist("declaration", key, declaration)

    def declarations_of(self, payment_id: str) -> list[Declaration]:
        keys = self._declarations_by_payment.get(payment_id, set())
        return [self.declarations[key] for key in keys]

    # -- notifications -----------------------------------------------------------------------

    def _index_notification(self, notification: Notification) -> None:
        self.notifications[notification.notification_id] = notification

    def put_notification(self, notification: Notification) -> None:
        self._index_notification(notification)
        self._persist("notification", notification.notification_id, notification)

    # -- small values --------------------------------------------------------------------------

    def put_meta(self, key: str, value: str) -> None:
        self.meta[key] = value
        self._persist("meta", key, json.dumps([key, value]))
