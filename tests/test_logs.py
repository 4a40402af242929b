from __future__ import annotations

import json
import logging

from saleor_alipay_app.logs import JsonFormatter, redact


def test_tokens_and_keys_are_masked_wherever_they_appear() -> None:
    samples = {
        "Authorization: Bearer abcDEF123.456": "abcDEF123.456",
        '{"auth_token": "tok_live_1234567890"}': "tok_live_1234567890",
        '{"accessToken":"281X2PX7FDQC9A8"}': "281X2PX7FDQC9A8",
        "refreshToken=RT-9f8e7d": "RT-9f8e7d",
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\n-----END PRIVATE KEY-----": (
            "MIIEvQIBADANBgkq"
        ),
        "key MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxvz0123456789abcdefABCDEF+/==": "MIIBIjAN",
        "stored enc:v1:0a1b2c3d:QUJDREVGR0g=": "QUJDREVGR0g=",
    }
    for text, secret in samples.items():
        assert secret not in redact(text), text


def test_json_formatter_redacts_message_and_extras() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "token is %s", ("Bearer s3cr3t-value",), None
    )
    record.detail = '{"authCode": "ac-secret-1"}'
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["level"] == "INFO"
    assert "s3cr3t-value" not in line
    assert "ac-secret-1" not in line
