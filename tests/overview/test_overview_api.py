"""`GET /api/admin/overview` over HTTP against a known set of payments, refunds, reports,
agreements and reconciliation days, on SQLite and on PostgreSQL: the aggregates, the attention
lists, the charts (SVG without script or style), and the parameters checked at the door."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from saleor_alipay_app.antom.results import shopper_message
from saleor_alipay_app.config import Settings
from tests.admin.conftest import admin, staff_headers
from tests.support.stack import Stack, app_services, started_stack

from .seed import MISMATCHED_DAY_AGO, PAYMENTS, STUCK_PAYMENT, STUCK_REFUND, seed


@pytest.fixture(params=["default", "postgresql"])
def database(request: pytest.FixtureRequest) -> Settings:
    """The run's database (SQLite unless DATABASE_URL says otherwise), then PostgreSQL (skipped,
    as the policy allows, when no server answers)."""
    name = "settings" if request.param == "default" else "postgres_settings"
    settings: Settings = request.getfixturevalue(name)
    return settings


@pytest.fixture
async def stack(database: Settings, tmp_path: Path) -> AsyncIterator[Stack]:
    async with started_stack(database, tmp_path) as running:
        yield running


def assert_safe_svg(svg: str) -> None:
    assert svg.startswith("<svg ")
    assert svg.endswith("</svg>")
    lowered = svg.lower()
    for forbidden in ("<script", "<style", "style=", "href", "<foreignobject", "<!--", "<?xml"):
        assert forbidden not in lowered, forbidden
    assert not re.search(r"\son[a-z]+=", lowered)


async def test_the_overview_counts_a_known_set_of_payments(stack: Stack) -> None:
    seeded = await seed(app_services(stack).sessions)
    body: dict[str, Any] = await admin(stack, "GET", "/overview")

    assert body["days"] == 30
    currencies = {c["currency"]: c for c in body["payments"]["currencies"]}
    assert currencies["HKD"] == {
        "currency": "HKD",
        "count": 6,
        "succeeded": 3,
        "failed": 1,
        "amount": "170.50",
    }
    assert currencies["IDR"]["count"] == 5
    assert (currencies["IDR"]["succeeded"], currencies["IDR"]["failed"]) == (2, 3)
    assert currencies["IDR"]["amount"] == "35000.00"
    # Per UTC day: the days of the seeded rows, the one outside the window left out.
    expected: dict[tuple[str, str], int] = {}
    for ago, _wallet, currency, _amount, _status, _code in PAYMENTS:
        at = seeded.now - timedelta(minutes=ago)
        if ago < 30 * 1440:
            key = (at.date().isoformat(), currency)
            expected[key] = expected.get(key, 0) + 1
    assert {(d["day"], d["currency"]): d["count"] for d in body["payments"]["perDay"]} == expected

    wallets = {w["wallet"]: w for w in body["wallets"]}
    assert (wallets["ALIPAY_HK"]["total"], wallets["ALIPAY_HK"]["successRate"]) == (6, 75.0)
    assert (wallets["DANA"]["total"], wallets["DANA"]["successRate"]) == (5, 40.0)
    assert wallets["DANA"]["walletName"] == "DANA"

    assert [(f["code"], f["count"]) for f in body["failures"]] == [
        ("USER_BALANCE_NOT_ENOUGH", 3),
        ("USER_AMOUNT_EXCEED_LIMIT", 1),
    ]
    assert body["failures"][0]["shopperMessage"] == shopper_message("USER_BALANCE_NOT_ENOUGH")

    agreements = body["agreements"]
    assert (agreements["active"], agreements["revoked"], agreements["expiring"]) == (2, 1, 1)

    [refunds] = body["refunds"]
    assert refunds == {
        "currency": "HKD",
        "count": 2,
        "amount": "30.00",
        "processing": 1,
        "succeeded": 1,
        "failed": 0,
    }

    attention = body["attention"]
    assert attention["payments"]["total"] == 1
    assert attention["payments"]["items"][0]["paymentRequestId"] == STUCK_PAYMENT
    assert attention["refunds"]["total"] == 1
    [refund] = attention["refunds"]["items"]
    assert (refund["refundRequestId"], refund["paymentRequestId"]) == (STUCK_REFUND, "ov-payment-0")
    assert attention["reports"]["total"] == 1
    [report] = attention["reports"]["items"]
    assert (report["paymentRequestId"], report["lastError"]) == (
        STUCK_PAYMENT,
        "Saleor answered 503",
    )
    assert attention["reconciliation"]["total"] == 1
    [day] = attention["reconciliation"]["items"]
    assert day == {
        "date": seeded.mismatched_day.isoformat(),
        "missingHere": 1,
        "missingAtAntom": 0,
        "mismatched": 2,
    }
    assert (seeded.now.date() - seeded.mismatched_day).days == MISMATCHED_DAY_AGO

    charts = body["charts"]
    assert_safe_svg(charts["payments"]["svg"])
    assert_safe_svg(charts["wallets"]["svg"])
    assert [a["currency"] for a in charts["amounts"]] == ["HKD", "IDR"]
    for chart in charts["amounts"]:
        assert_safe_svg(chart["svg"])
    assert "Succeeded" in charts["payments"]["svg"]
    assert "AlipayHK" in charts["wallets"]["svg"]

    chinese = await admin(stack, "GET", "/overview?lang=zh&days=7")
    assert chinese["days"] == 7
    assert "成功" in chinese["charts"]["payments"]["svg"]
    assert chinese["charts"]["wallets"]["title"] == "各钱包成功率"


async def test_an_empty_overview_draws_empty_charts(stack: Stack) -> None:
    body = await admin(stack, "GET", "/overview?days=1")
    assert body["payments"] == {"perDay": [], "currencies": []}
    assert body["wallets"] == []
    assert body["failures"] == []
    assert body["charts"]["amounts"] == []
    assert body["charts"]["wallets"]["svg"] is None
    assert_safe_svg(body["charts"]["payments"]["svg"])
    assert all(body["attention"][k]["total"] == 0 for k in body["attention"])


async def test_the_overview_checks_its_parameters_and_the_caller(stack: Stack) -> None:
    for query in ("days=0", "days=91", "days=x", "lang=fr"):
        body = await admin(stack, "GET", f"/overview?{query}", expect=400)
        assert body["success"] is False
        assert body["error"]["code"] == "INVALID_INPUT"
    nobody = {"Saleor-Api-Url": stack.saleor.api_url}
    await admin(stack, "GET", "/overview", headers=nobody, expect=401)
    await admin(
        stack,
        "GET",
        "/overview",
        headers=staff_headers(stack, permissions=["MANAGE_STAFF"]),
        expect=403,
    )
