"""Reconciliation reports generated from the sandbox's state (API.md §13)."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from saleor_alipay_app.sandbox.cli import app as cli_app
from saleor_alipay_app.sandbox.clock import ANTOM_TZ

from .conftest import Env

# Copied from API.md §13, independently of the implementation.
TRANSACTION_COLUMNS = """
customerId, acquirer, acquirerReferenceNo, referenceMerchantId, referenceStoreId,
transactionId, originalTransactionId, transactionRequestId, referenceTransactionId,
orderDescription, paymentMethodType, pspName, transactionType, paymentTime, productCode,
transactionAmountValue, transactionCurrency, originalTransactionRequestId, installmentsNum,
issuingCountry, cardBrand, funding
"""
SETTLEMENT_COLUMNS = """
settlementBatchId, customerId, acquirer, acquirerReferenceNo, referenceMerchantId,
referenceStoreId, transactionId, originalTransactionId, transactionRequestId,
referenceTransactionId, paymentMethodType, pspName, transactionType, paymentTime,
settlementTime, productCode, transactionAmountValue, transactionCurrency,
settlementAmountValue, settlementCurrency, quoteCurrencyPair, quotePrice, feeAmountValue,
feeCurrency, taxFeeAmountValue, taxFeeCurrency, processingFeeAmountValue,
processingFeeCurrency, nonGuaranteeCouponValue, nonGuaranteeCouponCurrency,
disputeHandlingFee, disputeHandlingFeeCurrency, disputeReverseFee,
disputeReverseFeeCurrency, originalTransactionRequestId, installmentsNum, issuingCountry,
cardBrand, funding, interchangeFeeAmountValue, interchangeFeeCurrency, schemeFeeAmountValue,
schemeFeeCurrency, acquirerMarkupAmountValue, acquirerMarkupCurrency, refundFeeAmountValue,
refundFeeCurrency, region
"""
SUMMARY_COLUMNS = """
settlementBatchId, customerId, acquirer, summaryType, settlementTime, count,
settlementAmountValue, settlementCurrency, feeAmountValue, feeCurrency, taxFeeAmountValue,
taxFeeCurrency, processingFeeAmountValue, processingFeeCurrency, nonGuaranteeCouponValue,
nonGuaranteeCouponCurrency, disputeHandlingFee, disputeHandlingFeeCurrency,
disputeReverseFee, disputeReverseFeeCurrency, interchangeFeeAmountValue,
interchangeFeeCurrency, schemeFeeAmountValue, schemeFeeCurrency, acquirerMarkupAmountValue,
acquirerMarkupCurrency, refundFeeAmountValue, refundFeeCurrency
"""


def columns(text: str) -> list[str]:
    return [c.strip() for c in text.replace("\n", " ").split(",")]


def parse(text: str) -> tuple[list[str], list[dict[str, str]]]:
    lines = text.splitlines()
    assert lines[-1] == "<END>"
    reader = csv.reader(io.StringIO("\n".join(lines[:-1])))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


async def today(env: Env) -> date:
    now = (await env.api("GET", "/clock")).json()["now"]
    return datetime.fromisoformat(now).date()


async def make_transactions(env: Env) -> dict[str, str]:
    """A payment with a refund, an FX-settled payment, a cancelled one, IDR and KRW ones.

    The sandbox clock is first set to noon (UTC+8) so that all of them fall on one day.
    """
    now = datetime.now(ANTOM_TZ)
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    response = await env.api("POST", "/clock", json={"offsetSeconds": (noon - now).total_seconds()})
    assert response.status_code == 200
    ids: dict[str, str] = {}
    hk = (await env.bind("ALIPAY_HK"))["accessToken"]
    ids["main"] = (await env.pay(hk, "12345", request_id="p-main")).body["paymentId"]
    refund = await env.call(
        "payments/refund",
        {
            "refundRequestId": "r-main",
            "paymentId": ids["main"],
            "refundAmount": {"currency": "HKD", "value": "2000"},
        },
    )
    ids["refund"] = refund.body["refundId"]
    ids["usd"] = (await env.pay(hk, "10000", request_id="p-usd", settlement_currency="USD")).body[
        "paymentId"
    ]
    ids["cancelled"] = (await env.pay(hk, "800", request_id="p-cancel")).body["paymentId"]
    assert (await env.call("payments/cancel", {"paymentRequestId": "p-cancel"})).code == "SUCCESS"
    dana = (await env.bind("DANA"))["accessToken"]
    await env.pay(dana, "30000", currency="IDR", wallet="DANA", request_id="p-idr")
    kakao = (await env.bind("KAKAOPAY"))["accessToken"]
    await env.pay(kakao, "18000", currency="KRW", wallet="KAKAOPAY", request_id="p-krw")
    # not in any report: failed and still-processing payments
    await env.pay(hk, "100", "USER_BALANCE_NOT_ENOUGH")
    return ids


async def test_transaction_items(env: Env) -> None:
    ids = await make_transactions(env)
    day = await today(env)
    response = await env.api("GET", "/reports/transactionItems", params={"date": f"{day:%Y%m%d}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    header, rows = parse(response.text)
    assert header == columns(TRANSACTION_COLUMNS)
    by_request = {r["transactionRequestId"] + "/" + r["transactionType"]: r for r in rows}
    assert len(rows) == 7
    main = by_request["p-main/PAYMENT"]
    assert main["transactionId"] == ids["main"]
    assert main["transactionAmountValue"] == "123.45"
    assert main["transactionCurrency"] == "HKD"
    assert main["paymentMethodType"] == "ALIPAY_HK"
    assert main["productCode"] == "AGREEMENT_PAYMENT"
    assert main["customerId"].startswith("2188")
    assert main["orderDescription"] == "Sandbox test order"
    assert main["referenceTransactionId"].startswith("order-")
    refund = by_request["r-main/REFUND"]
    assert refund["transactionAmountValue"] == "-20.00"
    assert refund["transactionId"] == ids["refund"]
    assert refund["originalTransactionId"] == ids["main"]
    assert refund["originalTransactionRequestId"] == "p-main"
    assert by_request["p-cancel/CANCEL"]["transactionAmountValue"] == "-8.00"
    assert by_request["p-cancel/CANCEL"]["originalTransactionId"] == ids["cancelled"]
    assert by_request["p-cancel/PAYMENT"]["transactionAmountValue"] == "8.00"
    assert by_request["p-idr/PAYMENT"]["transactionAmountValue"] == "300.00"
    assert by_request["p-krw/PAYMENT"]["transactionAmountValue"] == "18000"

    yesterday = day - timedelta(days=1)
    empty = await env.api(
        "GET", "/reports/transactionItems", params={"date": f"{yesterday:%Y%m%d}"}
    )
    assert empty.text.splitlines()[1:] == ["<END>"]
    bad = await env.api("GET", "/reports/transactionItems", params={"date": "2024-01-01"})
    assert bad.status_code == 422


async def test_settlement_items_and_summary(env: Env) -> None:
    await make_transactions(env)
    day = await today(env)
    settle = f"{day + timedelta(days=1):%Y%m%d}"  # T+1 in the sandbox
    response = await env.api("GET", "/reports/settlementItems", params={"date": settle})
    header, rows = parse(response.text)
    assert header == columns(SETTLEMENT_COLUMNS)
    by_key = {r["transactionRequestId"] + "/" + r["transactionType"]: r for r in rows}
    main = by_key["p-main/PAYMENT"]
    assert main["settlementCurrency"] == "HKD"
    assert main["feeAmountValue"] == "0.10"
    assert main["feeCurrency"] == "HKD"
    assert main["settlementAmountValue"] == "123.35"
    assert main["quoteCurrencyPair"] == ""
    refund = by_key["r-main/REFUND"]
    assert refund["transactionAmountValue"] == "-20.00"
    assert refund["settlementAmountValue"] == "-20.10"
    cancel = by_key["p-cancel/CANCEL"]
    assert cancel["feeAmountValue"] == "0.00"
    assert cancel["settlementAmountValue"] == "-8.00"
    usd = by_key["p-usd/PAYMENT"]
    assert usd["settlementCurrency"] == "USD"
    assert usd["quoteCurrencyPair"] == "HKD/USD"
    assert usd["quotePrice"] == "0.12820000"
    assert usd["settlementAmountValue"] == "12.72"  # 100.00 HKD → 12.82 USD − 0.10 fee
    assert usd["settlementBatchId"] != main["settlementBatchId"]
    assert by_key["p-krw/PAYMENT"]["feeAmountValue"] == "10"
    assert by_key["p-krw/PAYMENT"]["settlementAmountValue"] == "17990"

    only_hkd = await env.api(
        "GET", "/reports/settlementSummary", params={"date": settle, "currency": "HKD"}
    )
    header, summary = parse(only_hkd.text)
    assert header == columns(SUMMARY_COLUMNS)
    by_type = {r["summaryType"]: r for r in summary}
    assert set(by_type) == {"PAYMENT", "REFUND", "CANCEL", "TOTAL"}
    assert by_type["PAYMENT"]["count"] == "2"  # p-main and p-cancel (p-usd settles in USD)
    assert by_type["PAYMENT"]["settlementAmountValue"] == "131.25"  # 123.35 + 7.90
    assert by_type["REFUND"]["settlementAmountValue"] == "-20.10"
    assert by_type["CANCEL"]["settlementAmountValue"] == "-8.00"
    assert by_type["TOTAL"]["count"] == "4"
    assert by_type["TOTAL"]["settlementAmountValue"] == "103.15"
    assert by_type["TOTAL"]["feeAmountValue"] == "0.30"

    # the transaction day itself has no settlement yet
    none = await env.api("GET", "/reports/settlementItems", params={"date": f"{day:%Y%m%d}"})
    assert parse(none.text)[1] == []


async def test_report_files_with_antom_names_and_the_cli(env: Env, tmp_path: Path) -> None:
    await make_transactions(env)
    day = await today(env)
    files = (await env.api("GET", "/reports", params={"date": f"{day:%Y%m%d}"})).json()["files"]
    assert [f["name"] for f in files] == [f"transactionItems_{day:%Y%m%d}_000.csv"]
    settle = day + timedelta(days=1)
    files = (await env.api("GET", "/reports", params={"date": f"{settle:%Y%m%d}"})).json()["files"]
    names = sorted(f["name"] for f in files)
    assert len(names) == 8  # items and summary for HKD, IDR, KRW, USD
    batch = names[0].split("_")[2]
    assert names[0] == f"settlementItems_HKD_{batch}_000.csv"
    assert batch.startswith(f"{settle:%Y%m%d}")
    assert f"settlementSummary_HKD_{batch}_000.csv" in names

    runner = CliRunner()
    out = tmp_path / "reports"
    result = await asyncio.to_thread(
        runner.invoke,
        cli_app,
        ["reports", "--date", f"{settle:%Y%m%d}", "--out", str(out), "--url", env.url],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == names
    text = (out / names[0]).read_text(encoding="utf-8")
    assert text.endswith("<END>\n")
    empty = await asyncio.to_thread(
        runner.invoke,
        cli_app,
        ["reports", "--date", "20000101", "--out", str(tmp_path / "none"), "--url", env.url],
    )
    assert empty.exit_code == 0
    assert "no files" in empty.output
    assert not (tmp_path / "none").exists()
