"""Concurrency and crash safety (issue 4): one Antom pay per transaction whatever the duplicates,
in one process or in two `serve` processes on one PostgreSQL; unknown outcomes followed by the
sweepers of every process, reported to Saleor once; nothing lost when a pay never reached Antom
or when Saleor is down.

What is counted where: pay requests at the sandbox (`GET /sandbox/api/payments`, `payRequests`
per paymentRequestId), consults at the sandbox (one authorization per authState), payment rows
in the app's database, and `transactionEventReport` calls Saleor answered (the double keeps
every call; its event list de-duplicates like Saleor, so the calls are what shows a double
report).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from saleor_alipay_app.agreements.models import Agreement, BindingSession
from saleor_alipay_app.antom.money import Amount
from saleor_alipay_app.channels.models import ChannelConfig
from saleor_alipay_app.config import Settings
from saleor_alipay_app.db import transaction, utcnow
from saleor_alipay_app.history.models import History, HistorySubject
from saleor_alipay_app.payments.models import Payment, PaymentStatus, ReportStatus, SaleorReport
from saleor_alipay_app.payments.reporting import (
    SEND_LEASE,
    enqueue_report,
    record_outcome,
)
from saleor_alipay_app.payments.repository import PaymentsRepository
from saleor_alipay_app.payments.service import payment_request_id
from saleor_alipay_app.saleor.events import SyncEvent
from tests.support.stack import (
    Stack,
    app_database,
    app_rows,
    app_services,
    deliver_to,
    eventually,
    one_click_payload,
    post_antom_notification,
    qr_purchase,
    sandbox_authorizations,
    sandbox_payments,
    started_process_stack,
    started_stack,
    stored_method_id,
)

INIT = SyncEvent.TRANSACTION_INITIALIZE_SESSION
PROCESS = SyncEvent.TRANSACTION_PROCESS_SESSION
DUPLICATES = 10
CANCELLED_MESSAGE = "The payment was cancelled before it completed; no money was taken."


@pytest.fixture
async def stack(settings: Settings, tmp_path: Path) -> AsyncIterator[Stack]:
    async with started_stack(settings, tmp_path) as running:
        yield running


# -- helpers ------------------------------------------------------------------------------------


def decimal_body(body: dict[str, Any]) -> dict[str, Any]:
    """The answer again with JSON numbers as Decimal (amounts are compared exactly)."""
    parsed: dict[str, Any] = json.loads(json.dumps(body), parse_float=Decimal)
    return parsed


async def deliver_all(stack: Stack, targets: list[Any], payload: dict[str, Any]) -> list[Any]:
    """The same delivery to every target at once (a target may appear several times)."""
    bodies = await asyncio.gather(*(deliver_to(stack, t, INIT, payload) for t in targets))
    return [decimal_body(b) for b in bodies]


def report_calls(stack: Stack, transaction_id: str, event_type: str) -> list[Any]:
    """`transactionEventReport` calls about ``transaction_id`` that Saleor answered with 200."""
    return [
        call
        for call in stack.saleor.calls
        if call.status_code == 200
        and "transactionEventReport" in call.query
        and call.variables.get("id") == transaction_id
        and call.variables.get("type") == event_type
    ]


def events(stack: Stack, transaction_id: str, event_type: str) -> list[Any]:
    return [e for e in stack.reports(transaction_id) if e.type == event_type]


async def payment_rows(stack: Stack, transaction_id: str) -> list[Payment]:
    async with app_database(stack) as sessions, sessions() as session:
        result = await session.execute(
            select(Payment).where(col(Payment.saleor_transaction_id) == transaction_id)
        )
        return list(result.scalars().all())


async def payment_row(stack: Stack, psp: str) -> Payment:
    async with app_database(stack) as sessions, sessions() as session:
        result = await session.execute(
            select(Payment).where(col(Payment.payment_request_id) == psp)
        )
        return result.scalars().one()


async def shift_payment(stack: Stack, psp: str, **values: Any) -> None:
    """Move the due times of a payment still in flight in the app's database (time passing,
    faster). A payment that reached its final state is left alone, as time would leave it."""
    async with app_database(stack) as sessions, transaction(sessions) as session:
        await session.execute(
            update(Payment)
            .where(
                col(Payment.payment_request_id) == psp,
                col(Payment.status).in_(PaymentStatus.open_statuses()),
            )
            .values(**values)
        )


async def scenario_rule(stack: Stack, scenario: str, calls: list[str], count: int) -> None:
    await stack.scenario(scenario, calls=calls, count=count)


async def clear_scenarios(stack: Stack) -> None:
    response = await stack.http.delete(f"{stack.sandbox.url}/sandbox/api/scenario")
    assert response.status_code == 200, response.text


async def until_reported(
    stack: Stack,
    transaction_id: str,
    event_type: str,
    *,
    nudge: Callable[[], Awaitable[None]] | None = None,
    timeout: float = 15.0,  # noqa: ASYNC109 - passed on to the polling helper
) -> Any:
    """Wait for one ``event_type`` event on the transaction; ``nudge`` runs between polls
    (e.g. to make a backed-off inquiry due again)."""

    async def probe() -> Any:
        found = events(stack, transaction_id, event_type)
        if not found and nudge is not None:
            await nudge()
            await asyncio.sleep(0.2)
        return found

    found = await eventually(probe, timeout=timeout, what=f"{event_type} on {transaction_id}")
    return found


async def settle_a_while(seconds: float = 1.2) -> None:
    """Let every sweeper run a few more rounds (0.3 s each) before counting side effects."""
    await asyncio.sleep(seconds)


# -- one process --------------------------------------------------------------------------------


async def test_concurrent_duplicate_one_click_deliveries_make_one_pay(stack: Stack) -> None:
    await qr_purchase(stack)
    method_id = await stored_method_id(stack)
    payload = one_click_payload(stack, method_id, Decimal("88.80"))
    transaction_id = payload["transaction"]["id"]

    bodies = await deliver_all(stack, [stack.app] * DUPLICATES, payload)

    first = bodies[0]
    assert first["result"] == "CHARGE_SUCCESS", first
    assert Decimal(first["amount"]) == Decimal("88.80")
    assert first["actions"] == ["REFUND"]
    psp = first["pspReference"]
    assert all(body == first for body in bodies), bodies
    [paid] = await sandbox_payments(stack, psp)
    assert paid["payRequests"] == 1
    assert paid["status"] == "SUCCESS"
    assert paid["amount"] == {"currency": "HKD", "value": "8880"}
    [row] = await payment_rows(stack, transaction_id)
    assert (
        psp == row.payment_request_id == payment_request_id(row.installation_id, transaction_id, 1)
    )
    assert row.status is PaymentStatus.SUCCEEDED
    assert row.amount == Decimal("88.80")
    # The same delivery once more, later: the stored outcome, still one pay.
    again = decimal_body(await deliver_to(stack, stack.app, INIT, payload))
    assert again == first
    [paid] = await sandbox_payments(stack, psp)
    assert paid["payRequests"] == 1
    assert len(await sandbox_payments(stack)) == 2  # the first purchase and this one


async def test_concurrent_duplicate_qr_deliveries_make_one_consult(stack: Stack) -> None:
    payload = stack.saleor.payload(INIT, amount=Decimal("45.60"), data={"wallet": "ALIPAY_HK"})
    transaction_id = payload["transaction"]["id"]

    bodies = await deliver_all(stack, [stack.app] * DUPLICATES, payload)

    first = bodies[0]
    assert first["result"] == "CHARGE_ACTION_REQUIRED", first
    assert Decimal(first["amount"]) == Decimal("45.60")
    for body in bodies:
        assert body == first, [
            (k, body.get(k), first.get(k)) for k in first if body.get(k) != first.get(k)
        ]
    auth_state = first["data"]["bindingId"]
    [consulted] = await sandbox_authorizations(stack)
    assert consulted["authState"] == auth_state
    assert first["data"]["qrCodeValue"] == consulted["authUrl"]
    [row] = await payment_rows(stack, transaction_id)
    assert row.status is PaymentStatus.AWAITING_BINDING
    async with app_database(stack) as sessions, sessions() as session:
        bindings = (
            (
                await session.execute(
                    select(BindingSession).where(
                        col(BindingSession.saleor_transaction_id) == transaction_id
                    )
                )
            )
            .scalars()
            .all()
        )
    assert [b.auth_state for b in bindings] == [auth_state]

    # The shopper approves while the storefront polls with many process sessions at once:
    # the notification path and the polls converge on one pay.
    await stack.approve(auth_state, login="85261234567")
    polls = await asyncio.gather(
        *(
            stack.call(PROCESS, transaction={"id": transaction_id}, amount=Decimal("45.60"))
            for _ in range(DUPLICATES)
        )
    )
    psp = first["pspReference"]
    for poll in polls:
        assert poll["pspReference"] == psp
        assert poll["result"] in {"CHARGE_ACTION_REQUIRED", "CHARGE_SUCCESS"}, poll
    [event] = await until_reported(stack, transaction_id, "CHARGE_SUCCESS")
    assert event.psp_reference == psp
    assert event.amount == Decimal("45.60")
    [paid] = await sandbox_payments(stack, psp)
    assert paid["payRequests"] == 1
    assert paid["status"] == "SUCCESS"
    assert len(await payment_rows(stack, transaction_id)) == 1


async def test_pay_that_never_reached_antom_is_cancelled_after_its_deadline(
    stack: Stack,
) -> None:
    """Crash safety: the row was committed as PROCESSING and the process died before `pay`
    left. The sweeper asks Antom (ORDER_NOT_EXIST: not a failure yet), cancels once the
    deadline passed and reports CHARGE_FAILURE; Antom never charged anything."""
    await qr_purchase(stack)
    method_id = await stored_method_id(stack)
    app = stack.saleor.installed_app
    saleor_transaction = stack.saleor.create_transaction(app_id=app.id, currency="HKD")
    transaction_id = saleor_transaction.id
    amount = Amount.from_decimal(Decimal("61.20"), "HKD")
    now = utcnow()
    async with app_database(stack) as sessions, transaction(sessions) as session:
        agreement = (
            (await session.execute(select(Agreement).where(col(Agreement.public_id) == method_id)))
            .scalars()
            .one()
        )
        config = (
            (
                await session.execute(
                    select(ChannelConfig).where(col(ChannelConfig.channel_slug) == "hk-web")
                )
            )
            .scalars()
            .one()
        )
        assert config.id is not None
        row = Payment(
            installation_id=agreement.installation_id,
            channel_config_id=config.id,
            channel_slug=config.channel_slug,
            saleor_transaction_id=transaction_id,
            saleor_idempotency_key="crashed-delivery",
            saleor_user_id=agreement.saleor_user_id,
            attempt=1,
            payment_request_id=payment_request_id(agreement.installation_id, transaction_id, 1),
            agreement_id=agreement.id,
            wallet=agreement.wallet,
            currency="HKD",
            amount=amount.to_decimal(),
            amount_minor=amount.value,
            status=PaymentStatus.PROCESSING,
            next_inquiry_at=now,
            deadline_at=now + timedelta(seconds=1.5),
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    psp = row.payment_request_id

    async def inquired() -> Payment | None:
        current = await payment_row(stack, psp)
        return current if current.inquiry_count >= 1 else None

    inquired_row = await eventually(inquired, what="the sweeper's first inquiry")
    # Not at Antom is not a failure while the deadline has not passed.
    assert inquired_row.status is PaymentStatus.PROCESSING
    assert events(stack, transaction_id, "CHARGE_FAILURE") == []

    async def backoff_over() -> None:
        if utcnow() > now + timedelta(seconds=1.5):
            await shift_payment(stack, psp, next_inquiry_at=utcnow())

    [event] = await until_reported(stack, transaction_id, "CHARGE_FAILURE", nudge=backoff_over)
    assert event.psp_reference == psp
    assert event.amount == Decimal("61.20")
    assert event.message == CANCELLED_MESSAGE
    final = await payment_row(stack, psp)
    assert final.status is PaymentStatus.CANCELLED
    assert final.result_code == "ORDER_NOT_EXIST"
    assert final.next_inquiry_at is None
    await settle_a_while()
    assert len(report_calls(stack, transaction_id, "CHARGE_FAILURE")) == 1
    assert await sandbox_payments(stack, psp) == []  # never charged
    assert events(stack, transaction_id, "CHARGE_SUCCESS") == []
    # Saleor's late retry of the crashed delivery gets the final outcome, and no pay.
    retry = stack.saleor.payload(
        INIT,
        amount=Decimal("61.20"),
        data={"storedPaymentMethodId": method_id},
        transaction={"id": transaction_id},
        idempotencyKey="crashed-delivery",
    )
    answer = decimal_body(await deliver_to(stack, stack.app, INIT, retry))
    assert answer["result"] == "CHARGE_FAILURE", answer
    assert answer["pspReference"] == psp
    assert answer["message"] == CANCELLED_MESSAGE
    assert await sandbox_payments(stack, psp) == []


async def test_reports_queued_while_saleor_is_down_are_resent_by_the_sweeper(
    stack: Stack,
) -> None:
    await qr_purchase(stack)
    method_id = await stored_method_id(stack)
    payload = one_click_payload(stack, method_id, Decimal("33.30"))
    transaction_id = payload["transaction"]["id"]
    # The pay's outcome is found by inquiry (Antom's notification is lost). Saleor's GraphQL
    # first hangs (1 s, then 504), then answers 500, then comes back.
    await scenario_rule(stack, "NOTIFY_FAIL", ["notifyPayment"], 100)
    await scenario_rule(stack, "PAYMENT_IN_PROCESS_THEN_SUCCESS", ["pay"], 1)
    stack.saleor.hang_seconds = 1.0
    stack.saleor.fail_graphql = "timeout"

    body = decimal_body(await deliver_to(stack, stack.app, INIT, payload))

    assert body["result"] == "CHARGE_SUCCESS", body
    psp = body["pspReference"]

    def refused(status_code: int) -> list[Any]:
        return [
            c
            for c in stack.saleor.calls
            if c.status_code == status_code and c.variables.get("id") == transaction_id
        ]

    # The answer did not wait on Saleor: the outcome travelled in it, and its confirming
    # report was only queued.
    assert refused(504) == []

    async def report_due_now() -> None:
        async with app_database(stack) as sessions, transaction(sessions) as session:
            await session.execute(
                update(SaleorReport)
                .where(col(SaleorReport.saleor_transaction_id) == transaction_id)
                .values(next_attempt_at=utcnow())
            )

    # A sweeper sends it: Saleor hangs; meanwhile no other sweep sends it a second time.
    await report_due_now()
    await stack.wait_for(lambda: len(refused(504)) == 1, what="the report sent and hung")
    stack.saleor.fail_graphql = "http_500"
    await stack.wait_for(lambda: len(refused(500)) >= 1, what="a resend while Saleor is down")
    assert len(refused(504)) == 1
    assert events(stack, transaction_id, "CHARGE_SUCCESS") == []

    stack.saleor.fail_graphql = None
    await asyncio.sleep(0.3)
    async with app_database(stack) as sessions, transaction(sessions) as session:
        await session.execute(  # the resend's backoff is over
            update(SaleorReport)
            .where(col(SaleorReport.saleor_transaction_id) == transaction_id)
            .values(next_attempt_at=utcnow())
        )
    [event] = await until_reported(stack, transaction_id, "CHARGE_SUCCESS")
    assert event.psp_reference == psp
    assert event.amount == Decimal("33.30")
    await settle_a_while()
    assert len(report_calls(stack, transaction_id, "CHARGE_SUCCESS")) == 1
    async with app_database(stack) as sessions, sessions() as session:
        [report] = (
            (
                await session.execute(
                    select(SaleorReport).where(
                        col(SaleorReport.saleor_transaction_id) == transaction_id
                    )
                )
            )
            .scalars()
            .all()
        )
    assert report.status is ReportStatus.DONE
    assert report.attempts == len(refused(504)) + len(refused(500)) + 1
    [paid] = await sandbox_payments(stack, psp)
    assert paid["payRequests"] == 1


async def test_a_report_counts_each_call_to_saleor_and_is_recorded_once(stack: Stack) -> None:
    """A report's `attempts` is how many times the app asked Saleor. A purchase's report that
    Saleor confirmed on the first call shows 1. A sender that asked Saleor but was too slow to
    record the answer (its lease ran out, another sender asked again) leaves 2 calls counted as
    2, and its late answer adds no second outcome to the report's history."""
    transaction_id, psp = await qr_purchase(stack)

    async def confirmed() -> list[SaleorReport]:
        rows = await app_rows(stack, SaleorReport, saleor_transaction_id=transaction_id)
        return [r for r in rows if r.status is ReportStatus.DONE]

    # Saleor has the event; the sender stores its answer just after.
    [first] = await eventually(confirmed, what="the purchase's report stored as confirmed")
    assert first.attempts == 1
    assert len(report_calls(stack, transaction_id, "CHARGE_SUCCESS")) == 1

    services = app_services(stack)
    sessions, reporter = services.sessions, services.payments.reporter
    async with transaction(sessions) as session:
        key = await enqueue_report(
            PaymentsRepository(session),
            installation_id=first.installation_id,
            transaction_id=transaction_id,
            event_type="REFUND_SUCCESS",
            psp_reference=f"{psp}-late",
            amount=Decimal("1.00"),
        )
    [report] = await app_rows(stack, SaleorReport, report_key=key)
    assert report.id is not None
    assert report.attempts == 0

    def calls() -> list[Any]:
        return report_calls(stack, transaction_id, "REFUND_SUCCESS")

    # Sender A claims the report and asks Saleor, then stalls before recording the answer.
    now = utcnow()
    async with transaction(sessions) as session:
        assert await PaymentsRepository(session).claim_report(report.id, now, now + SEND_LEASE)
    late = await reporter.post(report, await installation_of(stack, report))
    assert late.status is ReportStatus.DONE
    # Its lease runs out (time passing, faster) and sender B sends the report again.
    async with transaction(sessions) as session:
        await session.execute(
            update(SaleorReport)
            .where(col(SaleorReport.id) == report.id)
            .values(sending_until=utcnow() - timedelta(seconds=1))
        )
    assert await reporter.send(report.id)
    assert len(calls()) == 2
    [sent] = await app_rows(stack, SaleorReport, report_key=key)
    assert (sent.status, sent.attempts) == (ReportStatus.DONE, 2)
    # A records its answer at last: nothing changes.
    async with transaction(sessions) as session:
        await record_outcome(session, report.id, late)
    [after] = await app_rows(stack, SaleorReport, report_key=key)
    assert (after.status, after.attempts, after.sent_at) == (ReportStatus.DONE, 2, sent.sent_at)
    history = await app_rows(stack, History, subject=HistorySubject.REPORT, subject_id=report.id)
    assert [h.status for h in history] == ["REFUND_SUCCESS:DONE"]
    # Confirmed: nobody asks Saleor again.
    assert await reporter.send(report.id)
    assert len(calls()) == 2


async def installation_of(stack: Stack, report: SaleorReport) -> Any:
    from saleor_alipay_app.installations.repository import InstallationRepository

    async with app_services(stack).sessions() as session:
        return await InstallationRepository(session).get(report.installation_id)


# -- two app processes on one PostgreSQL ---------------------------------------------------------


async def test_two_processes_pay_once_and_sweep_once(
    postgres_settings: Settings, tmp_path: Path
) -> None:
    """Two real `serve` processes on one database (one test: starting them is the slow part).

    1. Concurrent duplicates split across both processes: one pay, the same answers.
    2. Nothing lives in one process's memory: the second process answers a duplicate of what
       only the first one paid.
    3. Two payments left PROCESSING, both processes sweeping: one turns out paid (inquiry), the
       other has no final state at its deadline and is cancelled at Antom.
    Every outcome reaches Saleor exactly once."""
    settings = postgres_settings  # PostgreSQL in every run (tests/conftest.py)
    # Antom's in-process payments take 50 s here: longer than the test.
    options = {"process_delay_seconds": 50.0}
    async with started_process_stack(settings, tmp_path, sandbox_options=options) as (
        stack,
        processes,
    ):
        first_process, second_process = processes
        await qr_purchase(stack)
        method_id = await stored_method_id(stack)

        # 1. duplicates split across the processes
        payload = one_click_payload(stack, method_id, Decimal("77.70"))
        duplicates_tid = payload["transaction"]["id"]
        bodies = await deliver_all(stack, processes * (DUPLICATES // 2), payload)
        first = bodies[0]
        assert first["result"] == "CHARGE_SUCCESS", first
        assert Decimal(first["amount"]) == Decimal("77.70")
        assert all(body == first for body in bodies), bodies
        duplicates_psp = first["pspReference"]
        [paid] = await sandbox_payments(stack, duplicates_psp)
        assert paid["payRequests"] == 1
        assert len(await payment_rows(stack, duplicates_tid)) == 1

        # 2. the first process pays, the second answers the duplicate from the database alone
        later = one_click_payload(stack, method_id, Decimal("12.30"))
        later_tid = later["transaction"]["id"]
        paid_by_first = decimal_body(await deliver_to(stack, first_process, INIT, later))
        assert paid_by_first["result"] == "CHARGE_SUCCESS", paid_by_first
        answered_by_second = decimal_body(await deliver_to(stack, second_process, INIT, later))
        assert answered_by_second == paid_by_first
        later_psp = paid_by_first["pspReference"]
        [paid_later] = await sandbox_payments(stack, later_psp)
        assert paid_later["payRequests"] == 1

        # 3. unknown outcomes; Antom's payment notifications are lost: only inquiries can tell
        await scenario_rule(stack, "NOTIFY_FAIL", ["notifyPayment"], 1000)
        # Y: Antom keeps it PROCESSING.
        await scenario_rule(stack, "PAYMENT_IN_PROCESS_THEN_SUCCESS", ["pay"], 1)
        stuck = one_click_payload(stack, method_id, Decimal("20.00"))
        stuck_task = asyncio.create_task(deliver_to(stack, second_process, INIT, stuck))
        await eventually(lambda: _count_payments(stack, 4), what="the stuck payment at Antom")
        # X: Antom takes it, but every answer about it is unknown for now.
        await scenario_rule(stack, "UNKNOWN_EXCEPTION", ["pay", "inquiryPayment"], 1000)
        unknown = one_click_payload(stack, method_id, Decimal("30.00"))
        unknown_answer = decimal_body(await deliver_to(stack, first_process, INIT, unknown))
        stuck_answer = decimal_body(await stuck_task)
        for answer, amount in (
            (unknown_answer, Decimal("30.00")),
            (stuck_answer, Decimal("20.00")),
        ):
            assert answer["result"] == "CHARGE_REQUEST", answer
            assert Decimal(answer["amount"]) == amount
        unknown_psp = unknown_answer["pspReference"]
        stuck_psp = stuck_answer["pspReference"]
        assert (await payment_row(stack, unknown_psp)).status is PaymentStatus.PROCESSING
        assert (await payment_row(stack, stuck_psp)).status is PaymentStatus.PROCESSING

        # Antom answers again (notifications still lost); the inquiries' backoff is over, and
        # for Y the deadline has passed.
        await clear_scenarios(stack)
        await scenario_rule(stack, "NOTIFY_FAIL", ["notifyPayment"], 1000)

        async def unknown_due() -> None:
            await shift_payment(stack, unknown_psp, next_inquiry_at=utcnow())

        async def stuck_past_deadline() -> None:
            now = utcnow()
            await shift_payment(stack, stuck_psp, next_inquiry_at=now, deadline_at=now)

        unknown_tid = unknown["transaction"]["id"]
        stuck_tid = stuck["transaction"]["id"]
        [success] = await until_reported(stack, unknown_tid, "CHARGE_SUCCESS", nudge=unknown_due)
        [failure] = await until_reported(
            stack, stuck_tid, "CHARGE_FAILURE", nudge=stuck_past_deadline
        )
        assert (success.psp_reference, success.amount) == (unknown_psp, Decimal("30.00"))
        assert (failure.psp_reference, failure.amount) == (stuck_psp, Decimal("20.00"))
        assert failure.message == CANCELLED_MESSAGE
        [cancelled] = await sandbox_payments(stack, stuck_psp)
        assert (cancelled["status"], cancelled["payRequests"]) == ("CANCELLED", 1)
        assert cancelled["cancelTime"] is not None
        [paid_unknown] = await sandbox_payments(stack, unknown_psp)
        assert (paid_unknown["status"], paid_unknown["payRequests"]) == ("SUCCESS", 1)
        assert (await payment_row(stack, unknown_psp)).status is PaymentStatus.SUCCEEDED
        assert (await payment_row(stack, stuck_psp)).status is PaymentStatus.CANCELLED

        # No lost event, none twice (the successes answered synchronously reach Saleor through
        # Antom's notification; their reports are not delayed for that).
        for tid, amount, psp in (
            (duplicates_tid, Decimal("77.70"), duplicates_psp),
            (later_tid, Decimal("12.30"), later_psp),
        ):
            [event] = await until_reported(stack, tid, "CHARGE_SUCCESS")
            assert (event.psp_reference, event.amount) == (psp, amount)
        await settle_a_while()
        for tid, event_type in (
            (duplicates_tid, "CHARGE_SUCCESS"),
            (later_tid, "CHARGE_SUCCESS"),
            (unknown_tid, "CHARGE_SUCCESS"),
            (stuck_tid, "CHARGE_FAILURE"),
        ):
            assert len(report_calls(stack, tid, event_type)) == 1, (tid, event_type)
        assert report_calls(stack, stuck_tid, "CHARGE_SUCCESS") == []
        assert len(await sandbox_payments(stack)) == 5
        assert stack.saleor.invalid_documents == []
        for process in processes:
            assert process.process.returncode is None, process.log_tail()


async def _count_payments(stack: Stack, count: int) -> bool:
    return len(await sandbox_payments(stack)) >= count


async def test_duplicate_notifications_across_two_processes_report_once(
    postgres_settings: Settings, tmp_path: Path
) -> None:
    """One signed PAYMENT_RESULT delivered five times at once, to two `serve` processes on one
    database: one settlement, one `transactionEventReport`, one history entry of it."""
    settings = postgres_settings  # PostgreSQL in every run (tests/conftest.py)
    from tests.payments.test_notifications import pending_payment

    async with started_process_stack(settings, tmp_path) as (stack, processes):
        pending = await pending_payment(stack)
        body = pending.notification()
        answers = await asyncio.gather(
            *(
                post_antom_notification(stack, "payment", body, to=processes[n % 2])
                for n in range(5)
            )
        )
        assert [a.status_code for a in answers] == [200] * 5
        assert (await pending.answer())["result"] == "CHARGE_SUCCESS"
        assert len(report_calls(stack, pending.transaction_id, "CHARGE_SUCCESS")) == 1
        [report] = await app_rows(stack, SaleorReport, saleor_transaction_id=pending.transaction_id)
        assert report.status is ReportStatus.DONE
        assert report.attempts == 1  # the number of times the app asked Saleor
        sent = await app_rows(stack, History, subject=HistorySubject.REPORT, subject_id=report.id)
        assert [h.status for h in sent] == ["CHARGE_SUCCESS:DONE"]
