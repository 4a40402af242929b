"""The crash matrix (issue 11.5): an app process may die anywhere on a money path.

Two real `serve` processes share one PostgreSQL database; the Saleor double and the Antom sandbox
run in the test's loop. For each crash point of `saleor_alipay_app.faults` the second process (the
victim) is started with ``SALEOR_ALIPAY_CRASH_AT=<point>``, a money path is driven through it until
it kills itself with SIGKILL at that step, and it is restarted on the same port (Antom's
notifications still find it) without the hook. The sweepers of both processes then finish what
was left. The extra faults kill no process: PostgreSQL dropping every connection mid-flight (the
shared server cannot be restarted, so every backend of the test's database is terminated with
`pg_terminate_backend`, which the app sees exactly as a restart), Saleor answering 500 or hanging
for 30 s, and Antom hanging.

Afterwards every Saleor transaction of the case is compared, as the double saw its
`transactionEventReport` calls, with the sandbox's payments and refunds and with the app's rows:
0 double charges, 0 lost payments, 0 refunds beyond the charge and no final state that differs
between the three. The matrix is printed (``pytest -s``) and kept in docs/reliability.md.

Time is compressed, never skipped: while a case settles, the harness moves the due times the app
stores (inquiry backoffs, report leases and backoffs, and, once a payment has been in flight for
several seconds, its 3-minute deadline) to now, as the clock would after waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import update
from sqlmodel import col, select

from saleor_alipay_app.antom.money import Amount
from saleor_alipay_app.config import Settings
from saleor_alipay_app.db import create_engine, session_factory, transaction, utcnow
from saleor_alipay_app.payments.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    ReportStatus,
    SaleorReport,
)
from saleor_alipay_app.payments.service import transaction_reference
from saleor_alipay_app.saleor.events import SyncEvent
from tests.support.stack import (
    AppProcess,
    Stack,
    one_click_payload,
    qr_purchase,
    sandbox_idle,
    sandbox_state,
    set_sandbox_hang,
    start_app_process,
    started_process_stack,
    stop_app_process,
    stored_method_id,
)

INIT = SyncEvent.TRANSACTION_INITIALIZE_SESSION
REFUND = SyncEvent.TRANSACTION_REFUND_REQUESTED
SWEEPER_INTERVAL = 0.3
# How long one case may take to settle after its fault; it normally takes a few seconds.
SETTLE_WITHIN = 45.0
# Compressed time: due times are moved to now every second, deadlines once a payment has been
# in flight this long (Antom's in-process payments end after 0.5 s here).
HURRY_EVERY = 1.0
DEADLINE_AFTER = 4.0
COLUMNS = (
    "payments",
    "double charges",
    "lost payments",
    "refunds beyond charge",
    "mismatched states",
)

# -- the comparison -----------------------------------------------------------------------------


@dataclass
class Tally:
    """One row of the matrix, with what each count stands for."""

    payments: int = 0
    double_charges: int = 0
    lost_payments: int = 0
    refunds_beyond_charge: int = 0
    mismatched_states: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, column: str, problem: str) -> None:
        setattr(self, column, getattr(self, column) + 1)
        self.problems.append(problem)

    @property
    def counts(self) -> tuple[int, ...]:
        return (
            self.payments,
            self.double_charges,
            self.lost_payments,
            self.refunds_beyond_charge,
            self.mismatched_states,
        )

    @property
    def clean(self) -> bool:
        return not self.problems


def _major(currency: str, minor: int) -> Decimal:
    return Amount(currency, minor).to_decimal()


class Books:
    """The three sides' records: the Saleor double's events, the sandbox's store and the app's
    rows (read once per comparison)."""

    def __init__(
        self,
        stack: Stack,
        payments: list[Payment],
        refunds: list[Refund],
        reports: list[SaleorReport],
    ) -> None:
        self.stack = stack
        self.payments = payments
        self.refunds = refunds
        self.reports = reports
        self.store = sandbox_state(stack).store

    def compare(self, transaction_ids: list[str]) -> Tally:
        tally = Tally()
        for tid in transaction_ids:
            tally.payments += 1
            self._transaction(tid, tally)
        return tally

    def _transaction(self, tid: str, tally: Tally) -> None:
        events = list(self.stack.saleor.transaction_events.get(tid, []))

        def saleor(kind: str, psp: str) -> list[Any]:
            return [e for e in events if e.type == kind and e.psp_reference == psp]

        rows = [p for p in self.payments if p.saleor_transaction_id == tid]
        at_antom = [
            p
            for p in self.store.payments.values()
            if p.reference_order_id == transaction_reference(tid)
        ]
        charged = [p for p in at_antom if p.status.value == "SUCCESS"]
        # Double charges: Antom charged twice, was asked twice, or Saleor was told of more.
        if len(charged) > 1:
            tally.add("double_charges", f"{tid}: {len(charged)} payments charged at Antom")
        for paid in at_antom:
            if paid.pay_requests > 1:
                tally.add(
                    "double_charges",
                    f"{paid.payment_request_id}: {paid.pay_requests} pay requests",
                )
        successes = [e for e in events if e.type == "CHARGE_SUCCESS"]
        told = sum((e.amount for e in successes), Decimal(0))
        antom_charged = sum(
            (_major(p.amount.currency, p.amount.value) for p in charged), Decimal(0)
        )
        if told > antom_charged and len({e.psp_reference for e in successes}) > 1:
            tally.add("double_charges", f"{tid}: Saleor told of {told}, charged {antom_charged}")
        # Lost payments: charged at Antom, and Saleor never heard of it.
        for paid in charged:
            amount = _major(paid.amount.currency, paid.amount.value)
            if not [
                e for e in saleor("CHARGE_SUCCESS", paid.payment_request_id) if e.amount == amount
            ]:
                tally.add("lost_payments", f"{paid.payment_request_id}: charged, Saleor not told")
        # Every state equal on the three sides.
        rows_by_psp = {row.payment_request_id: row for row in rows}
        for paid in at_antom:
            if paid.payment_request_id not in rows_by_psp:
                tally.add("mismatched_states", f"{paid.payment_request_id}: no payment row")
        for row in rows:
            self._payment(row, at_antom, saleor, tally)
        for report in self.reports:
            if report.saleor_transaction_id == tid and report.status is not ReportStatus.DONE:
                tally.add(
                    "mismatched_states",
                    f"{report.report_key}: report {report.status.value} "
                    f"({report.attempts} attempts)",
                )

    def _payment(
        self,
        row: Payment,
        at_antom: list[Any],
        saleor: Callable[[str, str], list[Any]],
        tally: Tally,
    ) -> None:
        psp = row.payment_request_id
        antom = next((p for p in at_antom if p.payment_request_id == psp), None)
        antom_status = antom.status.value if antom is not None else "ABSENT"
        success, failure = saleor("CHARGE_SUCCESS", psp), saleor("CHARGE_FAILURE", psp)
        if antom_status == "SUCCESS":
            agreed = row.status is PaymentStatus.SUCCEEDED and success and not failure
            if success and success[0].amount != row.amount:
                agreed = False
        elif antom_status in {"ABSENT", "FAIL", "CANCELLED"}:
            agreed = (
                row.status in {PaymentStatus.FAILED, PaymentStatus.CANCELLED}
                and bool(failure)
                and not success
            )
        else:  # still PROCESSING at Antom
            agreed = False
        if not agreed:
            tally.add(
                "mismatched_states",
                f"{psp}: Antom {antom_status}, app {row.status.value}, Saleor "
                f"{[e.type for e in success + failure] or 'nothing'}",
            )
        self._refunds(row, antom, saleor, tally)

    def _refunds(
        self,
        row: Payment,
        antom: Any,
        saleor: Callable[[str, str], list[Any]],
        tally: Tally,
    ) -> None:
        rows = [r for r in self.refunds if r.payment_id == row.id]
        at_antom = self.store.refunds_of(antom.payment_id) if antom is not None else []
        refunded = sum(
            (r.amount.value for r in at_antom if r.status.value != "FAIL"),
            0,
        )
        if antom is not None and refunded > antom.amount.value:
            tally.add(
                "refunds_beyond_charge",
                f"{row.payment_request_id}: Antom refunds {refunded} of {antom.amount.value}",
            )
        told_refunded = sum(
            (e.amount for r in rows for e in saleor("REFUND_SUCCESS", r.refund_request_id)),
            Decimal(0),
        )
        if told_refunded > (row.amount if row.status is PaymentStatus.SUCCEEDED else 0):
            tally.add(
                "refunds_beyond_charge",
                f"{row.payment_request_id}: Saleor told of {told_refunded} refunded",
            )
        by_request = {r.refund_request_id: r for r in at_antom}
        known = {r.refund_request_id for r in rows}
        for extra in set(by_request) - known:
            tally.add("mismatched_states", f"{extra}: refund at Antom, no refund row")
        for refund in rows:
            antom_refund = by_request.get(refund.refund_request_id)
            status = antom_refund.status.value if antom_refund is not None else "ABSENT"
            success = saleor("REFUND_SUCCESS", refund.refund_request_id)
            failure = saleor("REFUND_FAILURE", refund.refund_request_id)
            if status == "SUCCESS":
                agreed = (
                    refund.status is RefundStatus.SUCCEEDED
                    and bool(success)
                    and success[0].amount == refund.amount
                    and not failure
                )
            elif status in {"ABSENT", "FAIL"}:
                agreed = refund.status is RefundStatus.FAILED and bool(failure) and not success
            else:
                agreed = False
            if not agreed:
                tally.add(
                    "mismatched_states",
                    f"{refund.refund_request_id}: Antom {status}, app {refund.status.value}, "
                    f"Saleor {[e.type for e in success + failure] or 'nothing'}",
                )


# -- the harness --------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    fault: str
    killed: str
    tally: Tally


class Matrix:
    """The running stack, its two processes (``survivor`` never crashes) and the helpers the
    cases drive them with."""

    def __init__(
        self, stack: Stack, processes: list[AppProcess], settings: Settings, tmp: Path
    ) -> None:
        self.stack = stack
        self.processes = processes  # the stack stops whatever this list holds at the end
        self.settings = settings
        self.tmp = tmp
        self.engine = create_engine(stack.settings)
        self.sessions = session_factory(self.engine)
        self.method_id = ""
        self.all_transactions: list[str] = []
        self.starts = 0
        self.answers: dict[str, dict[str, Any] | None] = {}

    @property
    def survivor(self) -> AppProcess:
        return self.processes[0]

    @property
    def victim(self) -> AppProcess:
        return self.processes[1]

    # -- processes --------------------------------------------------------------------------

    async def restart_victim(self, crash_at: str | None) -> None:
        """The victim again on its port: armed to crash at ``crash_at``, or plain."""
        old = self.victim
        await stop_app_process(old)
        self.starts += 1
        extra = {"SALEOR_ALIPAY_CRASH_AT": crash_at} if crash_at else {}
        self.processes[1] = await start_app_process(
            self.stack.settings,
            self.tmp / f"victim-{self.starts}-{crash_at or 'plain'}.log",
            sweeper_interval=SWEEPER_INTERVAL,
            port=old.port,
            extra_env=extra,
        )

    async def killed(self, within: float = 20.0) -> bool:
        """Wait for the armed victim to die; True if it died of SIGKILL."""
        process = self.victim.process
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), within)
        return process.returncode == -signal.SIGKILL

    # -- Saleor's side ----------------------------------------------------------------------

    async def deliver(
        self, target: AppProcess, event: SyncEvent, payload: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Deliver like Saleor; the answer, or None when there was none (a dead process, a
        500): Saleor then counts the request as failed."""
        try:
            response = await self.stack.saleor.deliver(target.url + event.path, event, payload)
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        body: dict[str, Any] = response.json()
        self.stack.saleor.validate_response(event, body)
        return body

    def one_click(self, amount: str) -> tuple[dict[str, Any], str]:
        payload = one_click_payload(self.stack, self.method_id, Decimal(amount))
        tid: str = payload["transaction"]["id"]
        self.all_transactions.append(tid)
        return payload, tid

    async def pay(self, target: AppProcess, amount: str) -> str:
        """A one-click payment through ``target``; its Saleor transaction id."""
        payload, tid = self.one_click(amount)
        self.answers[tid] = await self.deliver(target, INIT, payload)
        return tid

    async def paid(self, amount: str) -> str:
        """A one-click payment the survivor answered with CHARGE_SUCCESS."""
        tid = await self.pay(self.survivor, amount)
        answer = self.answers[tid]
        assert answer is not None
        assert answer["result"] == "CHARGE_SUCCESS", answer
        return tid

    async def refund(self, target: AppProcess, tid: str, amount: str) -> dict[str, Any] | None:
        payload = self.stack.saleor.payload(REFUND, amount=Decimal(amount), transaction={"id": tid})
        return await self.deliver(target, REFUND, payload)

    # -- the database ------------------------------------------------------------------------

    async def books(self) -> Books:
        async with self.sessions() as session:
            payments = list((await session.execute(select(Payment))).scalars().all())
            refunds = list((await session.execute(select(Refund))).scalars().all())
            reports = list((await session.execute(select(SaleorReport))).scalars().all())
        return Books(self.stack, payments, refunds, reports)

    async def hurry(self, *, deadlines: bool) -> None:
        """Time passes: whatever the app scheduled for later is due now (``deadlines``: a
        payment's own deadline too)."""
        now = utcnow()
        open_payment = col(Payment.status).in_(PaymentStatus.open_statuses())
        with contextlib.suppress(Exception):  # the database may be dropping connections
            async with transaction(self.sessions) as session:
                await session.execute(
                    update(Payment)
                    .where(open_payment, col(Payment.next_inquiry_at) > now)
                    .values(next_inquiry_at=now)
                )
                if deadlines:
                    await session.execute(
                        update(Payment)
                        .where(
                            col(Payment.status) == PaymentStatus.PROCESSING,
                            col(Payment.deadline_at) > now,
                        )
                        .values(deadline_at=now, next_inquiry_at=now)
                    )
                await session.execute(
                    update(Refund)
                    .where(
                        col(Refund.status) == RefundStatus.PROCESSING,
                        col(Refund.next_inquiry_at) > now,
                    )
                    .values(next_inquiry_at=now)
                )
                await session.execute(
                    update(SaleorReport)
                    .where(
                        col(SaleorReport.status) == ReportStatus.PENDING,
                        col(SaleorReport.next_attempt_at) > now,
                    )
                    .values(next_attempt_at=now)
                )

    async def settle(self, transaction_ids: list[str]) -> Tally:
        """Let the sweepers (and Antom's re-sent notifications) finish; poll the comparison
        until it is clean or ``SETTLE_WITHIN`` passes, and return the last one."""
        started = time.monotonic()
        last_hurry = started
        while True:
            tally = (await self.books()).compare(transaction_ids)
            elapsed = time.monotonic() - started
            if tally.clean or elapsed > SETTLE_WITHIN:
                return tally
            if time.monotonic() - last_hurry >= HURRY_EVERY:
                await self.hurry(deadlines=elapsed >= DEADLINE_AFTER)
                last_hurry = time.monotonic()
            await asyncio.sleep(0.2)

    async def terminate_backends(self) -> int:
        """What a PostgreSQL restart does to the app: every connection to the test's database
        is closed by the server (this one's own excepted)."""
        url = self.stack.settings.database_url.replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncpg.connect(url)
        try:
            terminated = await connection.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await connection.close()
        return len(terminated)


# -- the cases ----------------------------------------------------------------------------------

Drive = Callable[[Matrix], Awaitable[list[str]]]


async def _one_click(m: Matrix) -> list[str]:
    """A one-click payment delivered to the victim (its notification comes back to it), and
    one to the survivor meanwhile."""
    victim = asyncio.create_task(m.pay(m.victim, "41.10"))
    bystander = asyncio.create_task(m.pay(m.survivor, "12.20"))
    await asyncio.gather(victim, bystander)
    return m.all_transactions[-2:]


async def _qr(m: Matrix) -> list[str]:
    """A first purchase by QR code at the victim: the wallet's authorization notification comes
    to it and it charges the new agreement."""
    stack = m.stack
    payload = stack.saleor.payload(INIT, amount=Decimal("23.40"), data={"wallet": "ALIPAY_HK"})
    tid: str = payload["transaction"]["id"]
    m.all_transactions.append(tid)
    body = await m.deliver(m.victim, INIT, payload)
    assert body is not None
    assert body["result"] == "CHARGE_ACTION_REQUIRED", body
    await stack.approve(body["data"]["bindingId"], login="85261234567")
    return [tid]


async def _refund(m: Matrix) -> list[str]:
    """A paid transaction refunded in full through the victim; while the victim is down, Saleor
    (which saw that refund fail) asks the survivor for the full amount again."""
    tid = await m.paid("55.50")
    await m.refund(m.victim, tid, "55.50")
    await m.killed()
    again = await m.refund(m.survivor, tid, "55.50")
    assert again is not None
    return [tid]


async def _antom_hangs(m: Matrix) -> list[str]:
    """Antom takes a `pay` and a `refund` but its answers hang for 30 s (the app gives up
    after its 3 s call timeout and inquires)."""
    set_sandbox_hang(m.stack, 30.0)
    await m.stack.scenario("HANG", calls=["pay"], count=1)
    hung_pay = await m.pay(m.survivor, "31.30")
    refunded = await m.paid("32.30")
    await m.stack.scenario("HANG", calls=["refund"], count=1)
    answer = await m.refund(m.victim, refunded, "32.30")
    assert answer is not None
    return [hung_pay, refunded]


async def _postgres_restarts(m: Matrix) -> list[str]:
    """Payments and a refund in flight on both processes while every database connection is
    dropped, twice."""
    refunded = await m.paid("64.40")
    await m.stack.scenario("PAYMENT_IN_PROCESS_THEN_SUCCESS", calls=["pay"], count=2)
    payments = [m.pay(target, amount) for target, amount in _spread(m, ["61.10", "62.20"])]
    payments += [m.pay(target, amount) for target, amount in _spread(m, ["63.30", "65.50"])]
    flight = asyncio.gather(*payments, m.refund(m.victim, refunded, "20.00"))
    for pause in (0.15, 0.6):
        await asyncio.sleep(pause)
        assert await m.terminate_backends() > 0
    await flight
    for process in m.processes:
        assert process.process.returncode is None, process.log_tail()
    return [*m.all_transactions[-4:], refunded]


def _spread(m: Matrix, amounts: list[str]) -> list[tuple[AppProcess, str]]:
    return [(m.processes[n % 2], amount) for n, amount in enumerate(amounts)]


async def _saleor_answers_500(m: Matrix) -> list[str]:
    """Saleor's GraphQL answers 500 to every report while payments and a refund go through."""
    refunded = await m.paid("71.10")
    m.stack.saleor.fail_graphql = "http_500"
    try:
        tids = [await m.pay(target, amount) for target, amount in _spread(m, ["72.20", "73.30"])]
        assert await m.refund(m.victim, refunded, "71.10") is not None
        await _reports_refused(m, 500)
    finally:
        m.stack.saleor.fail_graphql = None
    return [*tids, refunded]


async def _saleor_hangs(m: Matrix) -> list[str]:
    """Saleor's GraphQL holds every report for 30 s (the app gives up after its 5 s timeout)."""
    m.stack.saleor.hang_seconds = 30.0
    m.stack.saleor.fail_graphql = "timeout"
    try:
        tids = [await m.pay(target, amount) for target, amount in _spread(m, ["81.10", "82.20"])]
        await _reports_refused(m, 504)
    finally:
        m.stack.saleor.fail_graphql = None
    return tids


async def _reports_refused(m: Matrix, status_code: int) -> None:
    """Wait (bounded) until Saleor has refused or held a report: the fault was met."""
    await m.stack.wait_for(
        lambda: any(c.status_code == status_code for c in m.stack.saleor.calls),
        timeout=15.0,
        what=f"a report answered {status_code}",
    )


@dataclass(frozen=True)
class Case:
    name: str
    crash_at: str | None
    drive: Drive


CASES = [
    Case("Antom hangs (pay, refund)", None, _antom_hangs),
    Case("one click: after the claim", "pay.claimed", _one_click),
    Case("one click: after Antom's answer", "pay.answered", _one_click),
    Case("one click: after storing, before the report", "payment.settled", _one_click),
    Case("QR code: after Antom's answer", "pay.answered", _qr),
    Case("notification: inside its transaction", "notification.stored", _one_click),
    Case("notification: stored, Saleor not told", "notification.settled", _one_click),
    Case("report: Saleor confirmed, not stored", "report.confirmed", _one_click),
    Case("refund: after the claim", "refund.claimed", _refund),
    Case("refund: after Antom's answer", "refund.answered", _refund),
    Case("refund: after storing, before the report", "refund.settled", _refund),
    Case("PostgreSQL drops every connection, twice", None, _postgres_restarts),
    Case("Saleor answers 500", None, _saleor_answers_500),
    Case("Saleor hangs for 30 s", None, _saleor_hangs),
]  # fmt: skip


def matrix_table(rows: list[Row]) -> str:
    """The matrix as a Markdown table."""
    header = ["case", "fault", "killed", *COLUMNS]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] * 3 + ["---:"] * len(COLUMNS)) + "|",
    ]
    for row in rows:
        cells = [row.name, row.fault, row.killed, *(str(n) for n in row.tally.counts)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


async def run_case(m: Matrix, case: Case) -> Row:
    if case.crash_at is not None:
        await m.restart_victim(case.crash_at)
    tids = await case.drive(m)
    killed = "—"
    if case.crash_at is not None:
        killed = "yes" if await m.killed() else "NO"
        await m.restart_victim(None)  # the killed process comes back, without the hook
    tally = await m.settle(tids)
    fault = f"`{case.crash_at}`" if case.crash_at else "—"
    return Row(case.name, fault, killed, tally)


async def test_crash_matrix(postgres_settings: Settings, tmp_path: Path) -> None:
    settings = postgres_settings  # PostgreSQL in every run (tests/conftest.py)
    async with started_process_stack(settings, tmp_path, sweeper_interval=SWEEPER_INTERVAL) as (
        stack,
        processes,
    ):
        m = Matrix(stack, processes, settings, tmp_path)
        try:
            first_tid, _ = await qr_purchase(stack)
            m.all_transactions.append(first_tid)
            m.method_id = await stored_method_id(stack)
            rows = [await run_case(m, case) for case in CASES]
            # Everything once more, at the end: nothing settled twice or undone since.
            await asyncio.sleep(1.0)
            total = (await m.books()).compare(m.all_transactions)
            rows.append(Row("all transactions, at the end", "—", "—", total))
            table = matrix_table(rows)
            print("\n" + table)
            problems = [f"{row.name}: {p}" for row in rows for p in row.tally.problems]
            assert problems == [], "\n".join(problems)
            assert [row.name for row in rows if row.killed == "NO"] == []
            assert stack.saleor.invalid_documents == []
            await sandbox_idle(stack, timeout=40.0)
        finally:
            await m.engine.dispose()
