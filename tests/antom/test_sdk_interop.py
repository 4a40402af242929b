"""Interop with Antom's official Python SDK (global-open-sdk-python 1.7.1), both directions.

The SDK pins cryptography==44.0.3, so it lives in its own venv: run
``tools/sdk-oracle/run.sh`` (it builds tools/sdk-oracle/.venv and runs this test). The test
uses that venv when it exists (or ANTOM_SDK_PYTHON); without either, the module is skipped as one
unit, saying how to set it up.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from saleor_alipay_app.antom import keys, signing

ORACLE = Path(__file__).resolve().parents[2] / "tools" / "sdk-oracle" / "oracle.py"
# The SDK's own venv (tools/sdk-oracle/run.sh --setup-only makes it), or ANTOM_SDK_PYTHON.
_ORACLE_VENV = (
    Path(__file__).resolve().parents[2] / "tools" / "sdk-oracle" / ".venv" / "bin" / "python"
)
SDK_PYTHON = os.environ.get("ANTOM_SDK_PYTHON") or (
    str(_ORACLE_VENV) if _ORACLE_VENV.exists() else None
)
if not SDK_PYTHON:
    pytest.skip(
        "ANTOM_SDK_PYTHON is not set and tools/sdk-oracle/.venv is absent: run "
        "tools/sdk-oracle/run.sh --setup-only to check interop with Antom's official SDK",
        allow_module_level=True,
    )

CASES: list[dict[str, str]] = [
    {
        "method": "POST",
        "path": "/ams/api/v1/payments/inquiryPayment",
        "client_id": "5Y00000000000000",
        "time": "2024-03-01T12:00:00+08:00",
        "body": '{"paymentRequestId":"ord-1001-p1"}',
    },
    {
        "method": "POST",
        "path": "/ams/sandbox/api/v1/payments/pay",
        "client_id": "SANDBOX_5Y00000000000000",
        "time": "1685599933871",
        "body": '{"order":{"orderDescription":"珍珠奶茶 ×2 — Bánh mì, 김치, ไทย"}}',
    },
    {
        "method": "POST",
        "path": "/ams/api/v1/authorizations/consult",
        "client_id": "5Y00000000000000",
        "time": "2024-01-15T02:30:00+00:00",
        "body": json.dumps({"authState": "st-é", "scopes": ["AGREEMENT_PAY"]}, indent=3),
    },
    {
        "method": "POST",
        "path": "/notify/antom/inst-1/payment",
        "client_id": "5Y00000000000000",
        "time": "2024-03-15T10:00:05+08:00",
        "body": "",
    },
]


def _run_oracle(job: dict[str, Any]) -> dict[str, Any]:
    assert SDK_PYTHON is not None
    if not Path(SDK_PYTHON).exists():
        pytest.fail(f"ANTOM_SDK_PYTHON={SDK_PYTHON} does not exist; run tools/sdk-oracle/run.sh")
    completed = subprocess.run(
        [SDK_PYTHON, str(ORACLE)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


@pytest.mark.parametrize("private_form", ["pkcs8-base64", "pkcs1-pem"])
def test_sdk_and_we_agree_in_both_directions(
    merchant_key: rsa.RSAPrivateKey, private_form: str
) -> None:
    if private_form == "pkcs8-base64":
        private_text = keys.private_key_base64(merchant_key)  # what Antom's dashboard hands out
    else:
        private_text = merchant_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()
    public_b64 = keys.public_key_base64(merchant_key.public_key())

    ours = [
        signing.sign(
            merchant_key,
            method=c["method"],
            path=c["path"],
            client_id=c["client_id"],
            request_time=c["time"],
            body=c["body"],
        )
        for c in CASES
    ]
    tampered = [
        {**c, "body": c["body"] + " ", "signature": s} for c, s in zip(CASES, ours, strict=True)
    ]
    answer = _run_oracle(
        {
            "private_key": private_text,
            "public_key": public_b64,
            "sign": CASES,
            "verify": [{**c, "signature": s} for c, s in zip(CASES, ours, strict=True)] + tampered,
            "webhook": [
                {**c, "header": signing.signature_header(s)}
                for c, s in zip(CASES, ours, strict=True)
            ],
        }
    )
    assert answer["sdk_version"] == "1.7.1"

    # SDK signs -> we verify (and PKCS#1 v1.5 is deterministic: byte-identical values)
    for case, sdk_value, our_value in zip(CASES, answer["signatures"], ours, strict=True):
        assert sdk_value == our_value, case["path"]
        signing.verify(
            merchant_key.public_key(),
            method=case["method"],
            path=case["path"],
            client_id=case["client_id"],
            time=case["time"],
            body=case["body"],
            signature=signing.signature_header(sdk_value),
        )

    # we sign -> SDK verifies; and it refuses the tampered copies (the oracle can say no)
    assert answer["verified"] == [True] * len(CASES) + [False] * len(CASES)
    assert answer["webhook"] == [True] * len(CASES)
