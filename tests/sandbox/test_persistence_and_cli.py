"""SQLite state across restarts, the offline report command, and the sandbox command line."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from saleor_alipay_app.antom.keys import keys_match, load_public_key, public_key_pem
from saleor_alipay_app.antom.signing import now_request_time, sign, signature_header, verify
from saleor_alipay_app.sandbox import SandboxConfig
from saleor_alipay_app.sandbox.cli import app as cli_app
from saleor_alipay_app.sandbox.cli import build_config, load_or_create_antom_key
from tests.support.servers import free_port

from .conftest import Receiver, running


async def test_state_survives_a_restart(
    config: SandboxConfig, receiver: Receiver, merchant_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    db = tmp_path / "sandbox.db"
    stored = replace(config, db_path=db, notify_schedule=(0.5, 60), notify_schedule_factor=1.0)
    async with running(stored, receiver, merchant_key) as env:
        tokens = await env.bind("ALIPAY_HK", "85261234567")
        await env.receiver.wait_for("auth")
        paid = await env.pay(tokens["accessToken"], "4200", request_id="pay-kept")
        assert paid.code == "SUCCESS"
        await env.receiver.wait_for("payment")
        await env.advance(60)
        # the next notification is refused once, so it is still pending at shutdown
        env.receiver.script = [(503, "busy")]
        refund = await env.call(
            "payments/refund",
            {
                "refundRequestId": "rf-kept",
                "paymentId": paid.body["paymentId"],
                "refundAmount": {"currency": "HKD", "value": "200"},
            },
        )
        assert refund.code == "SUCCESS"
        await env.receiver.wait_for("refund")
        for _ in range(100):  # until the refused attempt is on record
            (logged,) = await env.notifications(reference="rf-kept")
            if logged["attempts"]:
                break
            await asyncio.sleep(0.02)
        assert logged["attempts"][0]["outcome"] == "NOT_ACKNOWLEDGED"
    assert db.is_file()

    async with running(stored, receiver, merchant_key) as env:
        inquiry = await env.call("payments/inquiryPayment", {"paymentRequestId": "pay-kept"})
        assert inquiry.body["paymentStatus"] == "SUCCESS"
        assert inquiry.body["transactions"][0]["transactionRequestId"] == "rf-kept"
        again = await env.pay(tokens["accessToken"], "100")
        assert again.code == "SUCCESS"
        clock = (await env.api("GET", "/clock")).json()
        assert clock["offsetSeconds"] == pytest.approx(60)
        # the pending refund notification resumed and was delivered after the restart
        notes = await env.receiver.wait_for("refund", 2, within=5)
        assert notes[1].body["refundRequestId"] == "rf-kept"
        logged = await env.settled_notification(reference="rf-kept")
        assert [a["outcome"] for a in logged["attempts"]] == ["NOT_ACKNOWLEDGED", "ACKNOWLEDGED"]

    runner = CliRunner()
    day = inquiry.body["paymentTime"][:10].replace("-", "")
    out = tmp_path / "out"
    result = runner.invoke(cli_app, ["reports", "--date", day, "--out", str(out), "--db", str(db)])
    assert result.exit_code == 0, result.output
    (name,) = [p.name for p in out.iterdir()]
    assert name == f"transactionItems_{day}_000.csv"
    text = (out / name).read_text(encoding="utf-8")
    assert "pay-kept" in text
    assert "rf-kept" in text
    assert text.endswith("<END>\n")


def test_antom_key_is_generated_once_with_its_public_key(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "antom.pem"
    key, public_path, created = load_or_create_antom_key(path)
    assert created
    assert public_path == tmp_path / "keys" / "antom.pem.pub.pem"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert keys_match(key, load_public_key(public_path.read_text()))
    again, _, created_again = load_or_create_antom_key(path)
    assert not created_again
    assert public_key_pem(again) == public_key_pem(key)


def test_build_config_checks_its_options(tmp_path: Path, merchant_key: rsa.RSAPrivateKey) -> None:
    key_file = tmp_path / "merchant.pub"
    key_file.write_text(public_key_pem(merchant_key))
    options = {
        "antom_key": merchant_key,
        "client_id": "SANDBOX_X",
        "merchant_public_key": key_file,
        "auth_notify_url": "http://127.0.0.1:1/notify",
        "payment_notify_url": None,
        "refund_notify_url": None,
        "scenario": "HANG",
        "notify_schedule_factor": 0.01,
        "db": None,
        "public_url": None,
        "hang_seconds": 3.0,
        "process_delay": 1.0,
        "customs_delay": 2.0,
        "settlement_delay_days": 4,
    }
    config = build_config(**options)  # type: ignore[arg-type]
    assert config.default_scenario.value == "HANG"
    assert config.merchants[0].public_key is not None
    assert config.settlement_delay_days == 4
    with pytest.raises(ValueError, match="unknown scenario"):
        build_config(**{**options, "scenario": "SOMETIMES"})  # type: ignore[arg-type]
    key_file.write_text("not a key")
    with pytest.raises(ValueError, match="public key"):
        build_config(**options)  # type: ignore[arg-type]


def test_reports_command_needs_one_source(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli_app, ["reports", "--date", "20240101", "--out", str(tmp_path)])
    assert result.exit_code == 2
    missing = runner.invoke(
        cli_app,
        ["reports", "--date", "20240101", "--out", str(tmp_path), "--db", str(tmp_path / "x.db")],
    )
    assert missing.exit_code == 1
    assert "no sandbox database" in missing.output


def test_the_command_serves_a_signed_antom(tmp_path: Path, merchant_key: rsa.RSAPrivateKey) -> None:
    key_file = tmp_path / "merchant.pem"
    key_file.write_text(public_key_pem(merchant_key))
    antom_key_file = tmp_path / "antom" / "key.pem"
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from saleor_alipay_app.sandbox.cli import app; app()",
            "--port",
            str(port),
            "--client-id",
            "SANDBOX_CLI",
            "--merchant-public-key",
            str(key_file),
            "--antom-private-key",
            str(antom_key_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(url + "/sandbox/api/health", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    break
                time.sleep(0.05)
        path = "/ams/sandbox/api/v1/payments/inquiryPayment"
        body = json.dumps({"paymentRequestId": "x"})
        stamp = now_request_time()
        value = sign(
            merchant_key, path=path, client_id="SANDBOX_CLI", request_time=stamp, body=body
        )
        response = httpx.post(
            url + path,
            content=body,
            headers={
                "client-id": "SANDBOX_CLI",
                "request-time": stamp,
                "signature": signature_header(value),
            },
        )
        assert response.json()["result"]["resultCode"] == "ORDER_NOT_EXIST"
        antom_public = load_public_key((tmp_path / "antom" / "key.pem.pub.pem").read_text())
        verify(
            antom_public,
            path=path,
            client_id=response.headers["client-id"],
            time=response.headers["response-time"],
            body=response.text,
            signature=response.headers["signature"],
        )
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert "client id: SANDBOX_CLI" in output
    assert str((tmp_path / "antom" / "key.pem.pub.pem").resolve()) in output
    assert f"http://127.0.0.1:{port}" in output
