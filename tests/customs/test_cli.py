"""`declare` and `declarations list|inquire` from the command line, against the sandbox."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from typer.testing import CliRunner, Result

from saleor_alipay_app.cli import app as cli_app
from saleor_alipay_app.customs.models import Declaration, DeclarationStatus
from saleor_alipay_app.customs.rules import declaration_request_id
from tests.customs.conftest import advance_sandbox, cn_purchase
from tests.support.stack import Stack, app_rows, record_antom_calls


async def run_cli(stack: Stack, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.setenv("DATABASE_URL", stack.settings.database_url)
    assert stack.settings.encryption_key is not None
    monkeypatch.setenv("ENCRYPTION_KEY", stack.settings.encryption_key)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    # The command runs its own event loop: give it a thread.
    return await asyncio.to_thread(CliRunner().invoke, cli_app, list(args))


DECLARE = [
    "--customs-code", "ZONGSHU",
    "--merchant-customs-code", "3301960ABC",
    "--merchant-customs-name", "Hangzhou Sample Trading Co., Ltd.",
    "--certificate-type", "PASSPORT",
    "--certificate-no", "E12345678",
    "--holder-name", "Wang Fang",
]  # fmt: skip


async def test_declare_list_and_inquire(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    _, psp = await cn_purchase(stack, Decimal("88.00"))
    calls = record_antom_calls(stack)

    missing = await run_cli(stack, monkeypatch, "declare", psp, *DECLARE[:6], "--amount", "10.00")
    assert missing.exit_code == 2
    assert "not declared: the buyer's identity is required" in missing.output
    too_much = await run_cli(stack, monkeypatch, "declare", psp, *DECLARE, "--amount", "88.01")
    assert too_much.exit_code == 2
    assert "at most 88.00 (AMOUNT_EXCEEDS_PAID)" in too_much.output
    assert calls == []

    result = await run_cli(
        stack, monkeypatch, "declare", psp, *DECLARE, "--amount", "50.00", "--split",
        "--suborder-id", "box-1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    request_id = declaration_request_id(psp, 1)
    assert f"declaration 1: {request_id}" in result.output
    assert "customs       ZONGSHU (split, suborder box-1)" in result.output
    assert "status        IN_PROCESS" in result.output
    assert calls == [("declare", "success")]
    [row] = await app_rows(stack, Declaration)
    assert (row.status, row.amount, row.certificate_type) == (
        DeclarationStatus.IN_PROCESS,
        Decimal("50.00"),
        "PASSPORT",
    )

    listed = await run_cli(stack, monkeypatch, "declarations", "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split() == [
        "id", "declarationRequestId", "payment", "customs", "amount", "status", "updated",
    ]  # fmt: skip
    assert lines[2].split()[:7] == ["1", request_id, psp, "ZONGSHU/box-1", "CNY", "50.00",
                                    "IN_PROCESS"]  # fmt: skip
    assert lines[-1] == "1 declaration(s)"

    await advance_sandbox(stack, 61)
    inquired = await run_cli(stack, monkeypatch, "declarations", "inquire")
    assert inquired.exit_code == 0, inquired.output
    assert inquired.output.splitlines()[2].split() == [
        "1", request_id, "COMPLETED", "120", "Verified", "by", "customs",
    ]  # fmt: skip
    assert calls[-1] == ("inquiryDeclarationRequests", "success")
    # Nothing open any more: the next inquiry asks Antom nothing.
    again = await run_cli(stack, monkeypatch, "declarations", "inquire")
    assert again.exit_code == 0
    assert calls.count(("inquiryDeclarationRequests", "success")) == 1
