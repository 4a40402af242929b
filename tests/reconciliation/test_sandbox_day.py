"""A day with every kind of mismatch, end to end: payments and refunds made through the app
(Saleor double -> app -> Antom sandbox), our records then bent the ways real life bends them,
the sandbox's own reports for the day written to a folder, and `reconcile` run on it. Every row
is found and reported exactly, in the CLI, in the database and in the admin API."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, update
from typer.testing import CliRunner, Result

from saleor_alipay_app.cli import app as cli_app
from saleor_alipay_app.config import Settings
from saleor_alipay_app.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from saleor_alipay_app.reconciliation.parser import ANTOM_TZ
from saleor_alipay_app.saleor.events import SyncEvent
from tests.customs.conftest import admin
from tests.support.stack import (
    Stack,
    app_rows,
    app_services,
    one_click_payload,
    qr_purchase,
    started_stack,
    stored_method_id,
)


@pytest.fixture
async def stack(settings: Settings, tmp_path: Path) -> AsyncIterator[Stack]:
    async with started_stack(settings, tmp_path) as running:
        yield running


async def sandbox_noon(stack: Stack) -> date:
    """Put the sandbox's clock at noon (UTC+8) of today: everything below falls on one day."""
    now = datetime.now(ANTOM_TZ)
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    response = await stack.http.post(
        f"{stack.sandbox.url}/sandbox/api/clock",
        json={"offsetSeconds": (noon - now).total_seconds()},
    )
    assert response.status_code == 200, response.text
    return noon.date()


async def one_click(stack: Stack, method_id: str, amount: str) -> str:
    response = await stack.deliver(
        SyncEvent.TRANSACTION_INITIALIZE_SESSION,
        one_click_payload(stack, method_id, Decimal(amount)),
    )
    body = response.json()
    assert body["result"] == "CHARGE_SUCCESS", body
    psp: str = body["pspReference"]
    return psp


async def refund(stack: Stack, transaction_id: str, amount: str) -> str:
    body = await stack.call(
        SyncEvent.TRANSACTION_REFUND_REQUESTED,
        amount=Decimal(amount),
        transaction={"id": transaction_id},
    )
    assert body["result"] == "REFUND_SUCCESS", body
    psp: str = body["pspReference"]
    return psp


async def write_reports(stack: Stack, day: date, folder: Path) -> list[str]:
    """The files the sandbox (Antom) publishes for ``day``, as they would land from SFTP."""
    response = await stack.http.get(
        f"{stack.sandbox.url}/sandbox/api/reports", params={"date": f"{day:%Y%m%d}"}
    )
    assert response.status_code == 200, response.text
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    names = []
    for file in response.json()["files"]:
        (folder / file["name"]).write_text(file["content"], encoding="utf-8")
        names.append(file["name"])
    return names


async def reconcile(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, day: date, folder: Path
) -> Result:
    monkeypatch.setenv("DATABASE_URL", stack.settings.database_url)
    assert stack.settings.encryption_key is not None
    monkeypatch.setenv("ENCRYPTION_KEY", stack.settings.encryption_key)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    return await asyncio.to_thread(
        CliRunner().invoke,
        cli_app,
        ["reconcile", "--date", day.isoformat(), "--folder", str(folder)],
    )


async def bend(stack: Stack, model: Any, key: str, value: str, **values: Any) -> None:
    async with app_services(stack).sessions() as session, session.begin():
        await session.execute(update(model).where(getattr(model, key) == value).values(**values))


def rows_of(detail: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            r["kind"],
            r["transactionRequestId"],
            r["transactionType"],
            r["amount"],
            r["currency"],
            r["ourAmount"],
            r["ourStatus"],
            r["detail"],
        )
        for r in detail["rows"]
    )


async def test_a_day_with_every_kind_of_mismatch(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    day = await sandbox_noon(stack)

    # -- what happened that day, through the app -----------------------------------------------
    matched_tx, matched = await qr_purchase(stack, Decimal("100.00"))
    method_id = await stored_method_id(stack)
    matched_refund = await refund(stack, matched_tx, "20.00")
    refund_in_doubt = await refund(stack, matched_tx, "10.00")
    wrong_amount = await one_click(stack, method_id, "50.00")
    wrong_currency = await one_click(stack, method_id, "30.00")
    wrong_status = await one_click(stack, method_id, "40.00")
    unknown_here = await one_click(stack, method_id, "25.00")

    # -- and how our records went astray ------------------------------------------------------
    await bend(stack, Payment, "payment_request_id", wrong_amount, amount=Decimal("45.00"),
               amount_minor=4500)  # fmt: skip
    await bend(stack, Payment, "payment_request_id", wrong_currency, currency="USD")
    await bend(stack, Payment, "payment_request_id", wrong_status, status=PaymentStatus.FAILED)
    await bend(stack, Refund, "refund_request_id", refund_in_doubt, status=RefundStatus.PROCESSING)
    async with app_services(stack).sessions() as session, session.begin():
        await session.execute(
            delete(Payment).where(Payment.payment_request_id == unknown_here)  # type: ignore[arg-type]
        )
    # Succeeded here, unknown at Antom: a payment and a refund.
    [original] = await app_rows(stack, Payment, payment_request_id=matched)
    [first_refund] = await app_rows(stack, Refund, refund_request_id=matched_refund)
    now = datetime.now(UTC)
    async with app_services(stack).sessions() as session, session.begin():
        ghost = Payment(
            **{
                k: v
                for k, v in original.model_dump(warnings=False).items()
                if k not in {"id", "payment_request_id", "saleor_transaction_id"}
            },
            payment_request_id="saa-ghost-payment-1",
            saleor_transaction_id="ghost-transaction",
        )
        session.add(ghost)
        await session.flush()
        session.add(
            Refund(
                **{
                    k: v
                    for k, v in first_refund.model_dump(warnings=False).items()
                    if k not in {"id", "refund_request_id", "saleor_request_key", "updated_at"}
                },
                refund_request_id="saa-ghost-refund-1",
                saleor_request_key="ghost",
                updated_at=now,
            )
        )

    # -- Antom's reports of the day, reconciled -------------------------------------------------
    folder = tmp_path / "day"
    assert await write_reports(stack, day, folder) == [f"transactionItems_{day:%Y%m%d}_000.csv"]
    result = await reconcile(stack, monkeypatch, day, folder)
    assert result.exit_code == 1, result.output
    output = result.output
    assert f"reconciliation of {day.isoformat()}" in output
    assert "status: MISMATCHED" in output
    assert "matched                          2" in output
    assert "at Antom, missing here           1" in output
    assert "here, missing at Antom           2" in output
    assert "amount/currency/status mismatch  4" in output
    assert "note: no transaction details report" not in output
    assert re.search(
        rf"CURRENCY_MISMATCH +PAYMENT +{wrong_currency} +30\.00 HKD +30\.00 USD SUCCEEDED +"
        r"Antom HKD, here USD\n",
        output,
    ), output

    detail = (await admin(stack, "GET", f"/reconciliation/days/{day.isoformat()}")).json()
    assert detail["status"] == "MISMATCHED"
    assert detail["counts"] == {
        "matched": 2,
        "missingHere": 1,
        "missingAtAntom": 2,
        "mismatched": 4,
        "other": 0,
    }
    assert detail["total"] == 9
    assert detail["currencies"] == []  # settled tomorrow
    assert rows_of(detail) == sorted(
        [
            ("MATCHED", matched, "PAYMENT", "100.00", "HKD", "100.00", "SUCCEEDED", None),
            ("MATCHED", matched_refund, "REFUND", "-20.00", "HKD", "-20.00", "SUCCEEDED", None),
            (
                "STATUS_MISMATCH", refund_in_doubt, "REFUND", "-10.00", "HKD", "-10.00",
                "PROCESSING", "Antom lists a successful refund; here it is PROCESSING",
            ),
            (
                "AMOUNT_MISMATCH", wrong_amount, "PAYMENT", "50.00", "HKD", "45.00", "SUCCEEDED",
                "Antom 50.00, here 45.00",
            ),
            (
                "CURRENCY_MISMATCH", wrong_currency, "PAYMENT", "30.00", "HKD", "30.00",
                "SUCCEEDED", "Antom HKD, here USD",
            ),
            (
                "STATUS_MISMATCH", wrong_status, "PAYMENT", "40.00", "HKD", "40.00", "FAILED",
                "Antom lists a successful payment; here it is FAILED",
            ),
            (
                "MISSING_HERE", unknown_here, "PAYMENT", "25.00", "HKD", None, None,
                "no payment with this request id here",
            ),
            (
                "MISSING_AT_ANTOM", "saa-ghost-payment-1", "PAYMENT", None, "HKD", "100.00",
                "SUCCEEDED", "paid here, absent from Antom's transaction details",
            ),
            (
                "MISSING_AT_ANTOM", "saa-ghost-refund-1", "REFUND", None, "HKD", "-20.00",
                "SUCCEEDED", "refunded here, absent from Antom's transaction details",
            ),
        ]
    )  # fmt: skip
    # The currency mismatch shows both sides' currencies.
    [currency_row] = [r for r in detail["rows"] if r["kind"] == "CURRENCY_MISMATCH"]
    assert (currency_row["amount"], currency_row["currency"]) == ("30.00", "HKD")
    mismatched = (
        await admin(
            stack, "GET", f"/reconciliation/days/{day.isoformat()}", params={"kind": "MISMATCHED"}
        )
    ).json()
    assert (mismatched["total"], len(mismatched["rows"])) == (4, 4)
    page = (
        await admin(
            stack,
            "GET",
            f"/reconciliation/days/{day.isoformat()}",
            params={"limit": "2", "offset": "8"},
        )
    ).json()
    assert (page["total"], len(page["rows"])) == (9, 1)
    days = (await admin(stack, "GET", "/reconciliation/days")).json()["items"]
    assert [(d["date"], d["status"], d["counts"]["mismatched"]) for d in days] == [
        (day.isoformat(), "MISMATCHED", 4)
    ]

    # Importing the same files again changes nothing.
    again = await reconcile(stack, monkeypatch, day, folder)
    assert again.exit_code == 1
    assert "already imported" in again.output
    detail_again = (await admin(stack, "GET", f"/reconciliation/days/{day.isoformat()}")).json()
    assert rows_of(detail_again) == rows_of(detail)

    # Once our side is put right, running again matches the rows that did not match.
    await bend(stack, Payment, "payment_request_id", wrong_status, status=PaymentStatus.SUCCEEDED)
    await bend(stack, Refund, "refund_request_id", refund_in_doubt, status=RefundStatus.SUCCEEDED)
    fixed = await reconcile(stack, monkeypatch, day, folder)
    assert fixed.exit_code == 1
    detail = (await admin(stack, "GET", f"/reconciliation/days/{day.isoformat()}")).json()
    assert detail["counts"] == {
        "matched": 4,
        "missingHere": 1,
        "missingAtAntom": 2,
        "mismatched": 2,
        "other": 0,
    }

    # -- the next day: Antom settles that day's transactions ------------------------------------
    response = await stack.http.post(
        f"{stack.sandbox.url}/sandbox/api/clock", json={"advanceSeconds": 86400}
    )
    assert response.status_code == 200
    settled_day = day + timedelta(days=1)
    folder = tmp_path / "settled"
    names = await write_reports(stack, settled_day, folder)
    assert [n.split("_")[0] for n in names] == ["settlementItems", "settlementSummary"]
    result = await reconcile(stack, monkeypatch, settled_day, folder)
    assert result.exit_code == 1, result.output
    detail = (await admin(stack, "GET", f"/reconciliation/days/{settled_day.isoformat()}")).json()
    # Seven settled transactions: the two still bent here do not match, nothing is missing at
    # Antom (nothing of ours happened on the settlement day).
    assert detail["counts"] == {
        "matched": 4,
        "missingHere": 1,
        "missingAtAntom": 0,
        "mismatched": 2,
        "other": 0,
    }
    # 215.00 settled; the sandbox's fee is 0.10 per payment and per refund.
    assert detail["currencies"] == [
        {
            "currency": "HKD",
            "gross": "215.00",
            "fees": "0.70",
            "net": "214.30",
            "summaryChecked": True,
            "problems": [],
        }
    ]
    assert "HKD       215.00  0.70  214.30  checked" in result.output

    # A summary that disagrees with its detail rows is caught (a corrected file replaces it).
    summary = folder / names[1]
    lines = summary.read_text().splitlines(keepends=True)
    total_line = next(i for i, line in enumerate(lines) if ",TOTAL," in line)
    lines[total_line] = lines[total_line].replace(",214.30,", ",214.31,").replace(",7,", ",6,")
    summary.write_text("".join(lines))
    result = await reconcile(stack, monkeypatch, settled_day, folder)
    assert "replaced" in result.output
    detail = (await admin(stack, "GET", f"/reconciliation/days/{settled_day.isoformat()}")).json()
    [hkd] = detail["currencies"]
    assert hkd["summaryChecked"] is False
    batch = names[1].split("_")[2]
    assert hkd["problems"] == [
        f"batch {batch} TOTAL (line {total_line + 1}): count 6, detail rows 7",
        f"batch {batch} TOTAL (line {total_line + 1}): settlement 214.31, detail rows 214.30",
    ]

    # The admin API refuses what it cannot read, and says when a day was never reconciled.
    response = await admin(stack, "GET", "/reconciliation/days/26-11-2026")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "INVALID_DATE")
    response = await admin(
        stack, "GET", f"/reconciliation/days/{day.isoformat()}", params={"kind": "LOST"}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "INVALID_KIND")
    response = await admin(stack, "GET", "/reconciliation/days/2001-01-01")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "DAY_NOT_FOUND")


async def test_a_clean_day_exits_zero(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    day = await sandbox_noon(stack)
    transaction_id, psp = await qr_purchase(stack, Decimal("88.80"))
    refund_psp = await refund(stack, transaction_id, "8.80")
    folder = tmp_path / "day"
    await write_reports(stack, day, folder)
    result = await reconcile(stack, monkeypatch, day, folder)
    assert result.exit_code == 0, result.output
    assert "status: MATCHED" in result.output
    detail = (await admin(stack, "GET", f"/reconciliation/days/{day.isoformat()}")).json()
    assert detail["status"] == "MATCHED"
    assert [(r["kind"], r["transactionRequestId"]) for r in detail["rows"]] == [
        ("MATCHED", psp),
        ("MATCHED", refund_psp),
    ]
    # A malformed file is refused with its line and reason; the day is left unreconciled.
    bad = folder / f"transactionItems_{day:%Y%m%d}_001.csv"
    bad.write_text("transactionId,transactionType\nx,PAYMENT\n<END>\n")
    result = await reconcile(stack, monkeypatch, day, folder)
    assert result.exit_code == 1
    assert (
        f"refused: {bad.name}:1: wrong columns for a transactionItems report: missing "
        "transactionRequestId, transactionAmountValue, transactionCurrency"
    ) in result.output
    assert "the day was not reconciled" in result.output
    # Usage errors exit 2.
    usage = await asyncio.to_thread(
        CliRunner().invoke, cli_app, ["reconcile", "--date", day.isoformat()]
    )
    assert usage.exit_code == 2
    assert "give either --folder DIR or --sftp" in usage.output
