"""The ``antom`` typer commands, through typer's CliRunner."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from saleor_alipay_app.antom import keys, signing
from saleor_alipay_app.antom.cli import app
from tests.support.servers import RunningServer, serve_in_thread

from .fake_antom import FakeAntom, Scripted
from .vectors import TEST_PRIVATE_KEY_B64, TEST_PUBLIC_KEY_B64, VECTORS

runner = CliRunner()
EXAMPLE = VECTORS[0]  # API.md §2 worked example


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "private": tmp_path / "merchant_private.txt",
        "public": tmp_path / "antom_public.pem",
        "body": tmp_path / "body.json",
    }
    paths["private"].write_text(TEST_PRIVATE_KEY_B64)  # bare base64, as the dashboard shows
    paths["public"].write_text(keys.public_key_pem(keys.load_public_key(TEST_PUBLIC_KEY_B64)))
    paths["body"].write_bytes(EXAMPLE.body.encode())
    return paths


def test_commands_exist() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("sign", "verify", "call"):
        assert command in result.output


def test_sign_prints_the_string_both_ways_and_the_header(files: dict[str, Path]) -> None:
    result = runner.invoke(
        app,
        [
            "sign",
            "--client-id", EXAMPLE.client_id,
            "--private-key", str(files["private"]),
            "--path", EXAMPLE.path,
            "--request-time", EXAMPLE.time,
            "--body-file", str(files["body"]),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = result.output
    real = f"POST {EXAMPLE.path}\n{EXAMPLE.client_id}.{EXAMPLE.time}.{EXAMPLE.body}"
    escaped = f"POST {EXAMPLE.path}\\n{EXAMPLE.client_id}.{EXAMPLE.time}.{EXAMPLE.body}"
    assert real in out
    assert escaped in out
    expected = (
        f"signature: algorithm=RSA256,keyVersion=1,signature={quote_plus(EXAMPLE.signature_b64)}"
    )
    assert expected in out.splitlines()


def test_sign_defaults_request_time_to_now(files: dict[str, Path]) -> None:
    result = runner.invoke(
        app,
        ["sign", "--client-id", "c", "--private-key", str(files["private"]),
         "--path", "/p", "--body-file", str(files["body"])],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert re.search(r"request-time: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", result.output)


def _verify_args(files: dict[str, Path], signature: str, time: str = EXAMPLE.time) -> list[str]:
    return [
        "verify",
        "--client-id", EXAMPLE.client_id,
        "--antom-public-key", str(files["public"]),
        "--path", EXAMPLE.path,
        "--request-time", time,
        "--body-file", str(files["body"]),
        "--signature", signature,
    ]  # fmt: skip


def test_verify_accepts_header_and_bare_value(files: dict[str, Path]) -> None:
    value = quote_plus(EXAMPLE.signature_b64)
    lower = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), value)
    assert lower != value
    for form in (
        value,
        signing.signature_header(value),
        f"algorithm=RSA256, keyVersion=1, signature={lower}",
        lower,
    ):
        result = runner.invoke(app, _verify_args(files, form))
        assert result.exit_code == 0, (form, result.output)
        assert "signature valid" in result.output


def test_verify_fails_with_a_reason(files: dict[str, Path]) -> None:
    value = quote_plus(EXAMPLE.signature_b64)
    result = runner.invoke(app, _verify_args(files, value, time="2024-03-01T12:00:01+08:00"))
    assert result.exit_code == 1
    assert "signature INVALID: signature mismatch" in result.output
    result = runner.invoke(app, _verify_args(files, "algorithm=RSA256,keyVersion=1"))
    assert result.exit_code == 1
    assert "malformed" in result.output


def test_bad_key_file_is_reported_without_key_material(
    files: dict[str, Path], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text(TEST_PRIVATE_KEY_B64[:300])
    result = runner.invoke(
        app,
        ["sign", "--client-id", "c", "--private-key", str(bad), "--path", "/p",
         "--body-file", str(files["body"])],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "private key" in result.output
    assert TEST_PRIVATE_KEY_B64[40:80] not in result.output


@pytest.fixture
def fake_server(
    merchant_key: rsa.RSAPrivateKey, antom_key: rsa.RSAPrivateKey
) -> Iterator[tuple[FakeAntom, RunningServer]]:
    fake = FakeAntom(merchant_public_key=merchant_key.public_key(), antom_key=antom_key)
    with serve_in_thread(fake.app) as running:
        yield fake, running


def _call_args(
    tmp_path: Path,
    server: RunningServer,
    merchant_key: rsa.RSAPrivateKey,
    antom_key: rsa.RSAPrivateKey,
) -> list[str]:
    private = tmp_path / "m.pem"
    private.write_text(keys.private_key_pem(merchant_key))
    public = tmp_path / "a.txt"
    public.write_text(keys.public_key_base64(antom_key.public_key()))
    body = tmp_path / "b.json"
    body.write_bytes(b'{"paymentRequestId":"ord-1"}')
    return [
        "call",
        "--base-url", server.url,
        "--client-id", "5Y00000000000000",
        "--private-key", str(private),
        "--antom-public-key", str(public),
        "--path", "/ams/api/v1/payments/inquiryPayment",
        "--body-file", str(body),
    ]  # fmt: skip


def test_call_signed_answer(
    fake_server: tuple[FakeAntom, RunningServer],
    tmp_path: Path,
    merchant_key: rsa.RSAPrivateKey,
    antom_key: rsa.RSAPrivateKey,
) -> None:
    fake, server = fake_server
    fake.script(
        "/inquiryPayment",
        Scripted(
            body={
                "result": {"resultCode": "SUCCESS", "resultStatus": "S"},
                "paymentStatus": "SUCCESS",
            }
        ),
    )
    result = runner.invoke(app, _call_args(tmp_path, server, merchant_key, antom_key))
    assert result.exit_code == 0, result.output
    assert "HTTP 200" in result.output
    assert "response-time:" in result.output
    assert '"paymentStatus": "SUCCESS"' in result.output
    assert "response signature: valid" in result.output
    assert fake.received[0].signature_ok
    assert fake.received[0].body == b'{"paymentRequestId":"ord-1"}'


def test_call_tampered_answer_exits_1(
    fake_server: tuple[FakeAntom, RunningServer],
    tmp_path: Path,
    merchant_key: rsa.RSAPrivateKey,
    antom_key: rsa.RSAPrivateKey,
) -> None:
    fake, server = fake_server
    fake.script("/inquiryPayment", Scripted(tamper=lambda raw: raw.replace(b'"S"', b'"F"')))
    result = runner.invoke(app, _call_args(tmp_path, server, merchant_key, antom_key))
    assert result.exit_code == 1
    assert "response signature: REFUSED (signature mismatch" in result.output


def test_call_unsigned_failure_is_reported_as_accepted(
    fake_server: tuple[FakeAntom, RunningServer],
    tmp_path: Path,
    merchant_key: rsa.RSAPrivateKey,
    antom_key: rsa.RSAPrivateKey,
) -> None:
    fake, server = fake_server
    fake.script(
        "/inquiryPayment",
        Scripted(
            body={"result": {"resultCode": "ORDER_NOT_EXIST", "resultStatus": "F"}}, signed=False
        ),
    )
    result = runner.invoke(app, _call_args(tmp_path, server, merchant_key, antom_key))
    assert result.exit_code == 0, result.output
    assert "response signature: absent; accepted because resultStatus is F" in result.output
