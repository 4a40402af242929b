"""The operators' commands (`agreements list|revoke`, `payments list|show|inquire`) against a
running stack: the same operations as the dashboard pages, on the app's database, calling the
Antom sandbox and reporting to the Saleor double."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from typer.testing import CliRunner, Result

from saleor_alipay_app.agreements.models import Agreement, AgreementStatus
from saleor_alipay_app.cli import app as cli
from saleor_alipay_app.db import utcnow
from saleor_alipay_app.payments.models import Payment, PaymentStatus
from saleor_alipay_app.saleor.events import SyncEvent
from tests.support.saleor_double import SaleorDouble
from tests.support.stack import (
    Stack,
    app_process_env,
    app_rows,
    app_services,
    qr_purchase,
    sandbox_bindings,
)

from .conftest import payment_notified

runner = CliRunner()


async def run(stack: Stack, *args: str) -> Result:
    """Run the console script in a thread (it runs its own event loop), on the app's database."""
    env = app_process_env(stack.settings, sweeper_interval=3600)
    env["LOG_LEVEL"] = "WARNING"  # the JSON log lines would mix with the output
    # The command configures logging for its process (this one): restore it afterwards.
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        return await asyncio.to_thread(runner.invoke, cli, list(args), env=env)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.exit_code, result.output, result.exception)
    return result.stdout


async def test_agreements_list_and_revoke(stack: Stack) -> None:
    await qr_purchase(stack, Decimal("50.00"), login="85261234567")
    [agreement] = await app_rows(stack, Agreement)

    text = ok(await run(stack, "agreements", "list"))
    lines = text.strip().splitlines()
    assert lines[-1] == "1 of 1 agreement(s)"
    assert lines[0].startswith(f"{agreement.public_id}  ACTIVE   AlipayHK 852****4567")
    assert "shopper@example.com" in lines[0]

    listed = json.loads(ok(await run(stack, "agreements", "list", "--json", "--status", "active")))
    assert [a["id"] for a in listed["items"]] == [agreement.public_id]
    assert "accessToken" not in json.dumps(listed)
    by_email = await run(stack, "agreements", "list", "--email", "nobody@example.com")
    assert ok(by_email).strip() == "0 of 0 agreement(s)"
    bad = await run(stack, "agreements", "list", "--status", "GONE")
    assert bad.exit_code == 2
    assert "unknown agreement status 'GONE'" in bad.output

    revoked = ok(
        await run(stack, "agreements", "revoke", agreement.public_id, "--reason", "fraud check")
    )
    assert revoked.startswith(f"revoked at Antom: {agreement.public_id}  REVOKED")
    [row] = await app_rows(stack, Agreement)
    assert row.status is AgreementStatus.REVOKED
    assert row.status_reason == "revoked by an operator (CLI): fraud check"
    [binding] = await sandbox_bindings(stack)
    assert binding["status"] != "ACTIVE", binding

    again = await run(stack, "agreements", "revoke", agreement.public_id)
    assert again.exit_code == 1
    assert f"agreement {agreement.public_id} is already revoked (AGREEMENT_NOT_ACTIVE)" in (
        again.output
    )


async def test_payments_list_show_and_inquire(stack: Stack) -> None:
    transaction_id, psp = await qr_purchase(stack, Decimal("123.45"))
    refund = await stack.call(
        SyncEvent.TRANSACTION_REFUND_REQUESTED,
        amount=Decimal("3.45"),
        transaction={"id": transaction_id},
    )
    assert refund["result"] == "REFUND_SUCCESS", refund

    text = ok(await run(stack, "payments", "list", "--status", "SUCCEEDED"))
    first, summary = text.strip().splitlines()
    assert first.startswith(f"{psp}  SUCCEEDED        123.45 HKD (refunded 3.45)  AlipayHK  hk-web")
    assert summary == "1 of 1 payment(s)"
    assert ok(await run(stack, "payments", "list", "--status", "FAILED")).strip() == (
        "0 of 0 payment(s)"
    )

    shown = ok(await run(stack, "payments", "show", psp))
    assert shown.startswith(f"payment {psp}: SUCCEEDED\n")
    assert "  amount        123.45 HKD (refunded 3.45)" in shown
    assert f"  {psp}-r1  SUCCEEDED  3.45 HKD  SUCCESS" in shown
    history = shown.split("history:\n")[1].split("notifications from Antom:")[0]
    statuses = [line.split()[3] for line in history.strip().splitlines()]
    assert statuses[0] == "AWAITING_BINDING"
    assert "SUCCEEDED" in statuses
    assert "CHARGE_SUCCESS:DONE" in statuses
    assert "PAYMENT_RESULT S/SUCCESS" in shown
    detail = json.loads(ok(await run(stack, "payments", "show", psp, "--json")))
    assert detail["refundedAmount"] == "3.45"

    await payment_notified(stack)
    # The app's view shifted: it believes the payment is still processing.
    async with app_services(stack).sessions() as session:
        await session.execute(
            update(Payment)
            .where(Payment.payment_request_id == psp)  # type: ignore[arg-type]
            .values(status=PaymentStatus.PROCESSING, next_inquiry_at=utcnow() + timedelta(hours=1))
        )
        await session.commit()
    inquired = ok(await run(stack, "payments", "inquire", psp))
    assert inquired.splitlines()[0] == "Antom says the payment is now SUCCEEDED (was PROCESSING)"
    [row] = await app_rows(stack, Payment)
    assert row.status is PaymentStatus.SUCCEEDED

    missing = await run(stack, "payments", "show", "saa-nope-1")
    assert missing.exit_code == 1
    assert "no payment saa-nope-1 (PAYMENT_NOT_FOUND)" in missing.output


async def test_several_installations_need_saleor_api_url(stack: Stack) -> None:
    await qr_purchase(stack)
    other = SaleorDouble()
    async with other.serve():
        response = await other.install(stack.url("/api/register"))
        assert response.status_code == 200, response.text
        ambiguous = await run(stack, "payments", "list")
        assert ambiguous.exit_code == 2
        assert "several Saleors installed the app" in ambiguous.output
        theirs: Any = json.loads(
            ok(await run(stack, "payments", "list", "--json", "--saleor-api-url", other.api_url))
        )
        assert theirs == {"items": [], "total": 0}
        ours = await run(
            stack, "payments", "list", "--json", "--saleor-api-url", stack.saleor.api_url
        )
        assert json.loads(ok(ours))["total"] == 1


async def test_configure_refuses_what_the_dashboard_refuses(stack: Stack) -> None:
    """`configure` goes through the dashboard's checks: the client id and the key texts."""
    from saleor_alipay_app.antom.keys import private_key_pem, public_key_pem
    from saleor_alipay_app.channels.models import ChannelConfig

    before = await app_rows(stack, ChannelConfig)
    key_file = stack.tmp / "merchant-cli.pem"
    key_file.write_text(private_key_pem(stack.merchant_key))
    antom_file = stack.tmp / "antom-cli.pub.pem"
    antom_file.write_text(public_key_pem(stack.antom_key))
    common = [
        "configure",
        "--channel",
        "cli-web",
        "--private-key-file",
        str(key_file),
        "--antom-public-key-file",
        str(antom_file),
        "--base-url",
        stack.sandbox.url,
        "--sandbox",
    ]

    spaced = await run(stack, *common, "--client-id", "5Y00 0000")
    assert spaced.exit_code == 2
    assert "the Antom client id has spaces or non-ASCII characters" in spaced.output

    huge_file = stack.tmp / "huge.pem"
    huge_file.write_text("A" * 10_001)
    huge = await run(
        stack,
        *common[:4],
        str(huge_file),
        *common[5:],
        "--client-id",
        "SANDBOX_5Y0000",
    )
    assert huge.exit_code == 2
    assert "the merchant private key is 10001 characters long" in huge.output
    assert await app_rows(stack, ChannelConfig) == before

    # DANA takes only IDR: refused on the HKD channel, as the dashboard refuses it.
    dana = await run(
        stack,
        *common[:2],
        "hk-web",
        *common[3:],
        "--client-id",
        "SANDBOX_5Y0000",
        "--wallets",
        "DANA",
    )
    assert dana.exit_code == 2
    assert "DANA (DANA) takes only IDR, and the channel hk-web is in HKD" in dana.output
    assert await app_rows(stack, ChannelConfig) == before

    saved = ok(await run(stack, *common, "--client-id", "SANDBOX_5Y0000"))
    assert saved.startswith("saved channel cli-web of ")


async def test_configure_prints_urls_with_the_app_url_saleor_installed_it_at(stack: Stack) -> None:
    """Without APP_URL in configure's environment, the notification URL it prints starts with the
    app's URL as Saleor reached it at installation, never a placeholder."""
    from saleor_alipay_app.antom.keys import private_key_pem, public_key_pem

    key_file = stack.tmp / "merchant-url.pem"
    key_file.write_text(private_key_pem(stack.merchant_key))
    antom_file = stack.tmp / "antom-url.pub.pem"
    antom_file.write_text(public_key_pem(stack.antom_key))
    saved = ok(
        await run(
            stack,
            "configure",
            "--channel",
            "url-web",
            "--client-id",
            "SANDBOX_5Y0000",
            "--private-key-file",
            str(key_file),
            "--antom-public-key-file",
            str(antom_file),
            "--base-url",
            stack.sandbox.url,
            "--sandbox",
        )
    )
    assert "<APP_URL>" not in saved
    assert f"set Antom's authorization notification URL to {stack.app.url}/api/antom/" in saved


def test_configure_without_an_installation_says_which_database_it_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run in another folder than `serve`, configure finds no installation: it names the SQLite
    file it opened and says what to do."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from saleor_alipay_app.antom.keys import private_key_pem, public_key_pem

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "k.pem").write_text(private_key_pem(key))
    (tmp_path / "p.pem").write_text(public_key_pem(key.public_key()))
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        result = runner.invoke(
            cli,
            [
                "configure",
                "--channel",
                "hk-web",
                "--client-id",
                "X1",
                "--private-key-file",
                "k.pem",
                "--antom-public-key-file",
                "p.pem",
                "--wallets",
                "ALIPAY_HK",
            ],
            env={"DATABASE_URL": None, "APP_ENV": "development", "LOG_LEVEL": "WARNING"},
        )
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert result.exit_code == 2, result.output
    assert "no Saleor has installed the app yet" in result.output
    assert str(tmp_path.resolve() / "saleor-alipay-app.db") in result.output.replace("\n", "")
    assert "in the folder where `serve` runs" in result.output.replace("\n", " ")
