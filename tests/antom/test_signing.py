from __future__ import annotations

import base64
import re
from datetime import datetime
from urllib.parse import quote_plus

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from saleor_alipay_app.antom import keys, signing
from saleor_alipay_app.antom.signing import SignatureError

from .vectors import TEST_PRIVATE_KEY_B64, TEST_PUBLIC_KEY_B64, VECTORS, Vector

PATH = "/ams/api/v1/payments/pay"
CLIENT_ID = "5Y00000000000000"
TIME = "2024-03-01T12:00:00+08:00"
BODY = '{"paymentRequestId":"ord-1001-p1","order":{"orderDescription":"奶茶"}}'


def test_worked_example_string_to_sign_exactly_as_api_md_shows() -> None:
    message = signing.string_to_sign(
        "POST",
        "/ams/api/v1/payments/inquiryPayment",
        "5Y00000000000000",
        "2024-03-01T12:00:00+08:00",
        '{"paymentRequestId":"ord-1001-p1"}',
    )
    shown = (
        r"POST /ams/api/v1/payments/inquiryPayment\n5Y00000000000000.2024-03-01T12:00:00+08:00."
        r'{"paymentRequestId":"ord-1001-p1"}'
    )
    assert message == shown.replace(r"\n", "\n").encode()
    assert message.count(b"\n") == 1
    assert not message.endswith(b"\n")


def test_string_to_sign_bytes_and_str_bodies_agree_and_method_is_upper_cased() -> None:
    as_str = signing.string_to_sign("post", PATH, CLIENT_ID, TIME, BODY)
    as_bytes = signing.string_to_sign("POST", PATH, CLIENT_ID, TIME, BODY.encode())
    assert as_str == as_bytes
    assert as_str.startswith(b"POST /ams/api/v1/payments/pay\n5Y00000000000000.2024")
    assert "奶茶".encode() in as_str


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.path)
def test_signing_vectors_match_openssl(vector: Vector) -> None:
    private = keys.load_private_key(TEST_PRIVATE_KEY_B64)
    public = keys.load_public_key(TEST_PUBLIC_KEY_B64)
    value = signing.sign(
        private,
        method=vector.method,
        path=vector.path,
        client_id=vector.client_id,
        request_time=vector.time,
        body=vector.body,
    )
    assert value == quote_plus(vector.signature_b64)
    assert value.endswith("%3D%3D")  # 256-byte signatures always pad with "=="
    assert re.fullmatch(r"[A-Za-z0-9%]+", value)
    signing.verify(
        public,
        path=vector.path,
        client_id=vector.client_id,
        time=vector.time,
        body=vector.body,
        signature=signing.signature_header(value),
    )


def test_signature_values_are_url_encoded_exactly_as_quote_plus_does() -> None:
    for length in range(1, 300):
        text = base64.b64encode(bytes((i * 37 + length) % 256 for i in range(length))).decode()
        assert signing._url_encoded(text) == quote_plus(text)


def test_sign_is_deterministic_and_round_trips(merchant_key: rsa.RSAPrivateKey) -> None:
    args = {"path": PATH, "client_id": CLIENT_ID, "body": BODY}
    first = signing.sign(merchant_key, request_time=TIME, **args)
    assert first == signing.sign(merchant_key, request_time=TIME, **args)
    signing.verify(merchant_key.public_key(), time=TIME, signature=first, **args)
    signing.verify(
        merchant_key.public_key(), time=TIME, signature=signing.signature_header(first), **args
    )


def test_signature_header_format() -> None:
    assert signing.signature_header("abc%3D") == "algorithm=RSA256,keyVersion=1,signature=abc%3D"
    assert (
        signing.signature_header("x", key_version=2) == "algorithm=RSA256,keyVersion=2,signature=x"
    )
    with pytest.raises(ValueError):
        signing.signature_header("x", key_version=-1)


@pytest.fixture
def signed(merchant_key: rsa.RSAPrivateKey) -> str:
    return signing.sign(merchant_key, path=PATH, client_id=CLIENT_ID, request_time=TIME, body=BODY)


def _verify(key: rsa.RSAPrivateKey, signature: str, **overrides: str) -> None:
    args = {"path": PATH, "client_id": CLIENT_ID, "time": TIME, "body": BODY}
    args.update(overrides)
    signing.verify(key.public_key(), signature=signature, **args)


def test_header_variants_all_parse(merchant_key: rsa.RSAPrivateKey, signed: str) -> None:
    raw = merchant_key.sign(
        signing.string_to_sign("POST", PATH, CLIENT_ID, TIME, BODY),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    lower = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), signed)
    assert lower != signed
    variants = [
        signed,
        lower,
        f"algorithm=RSA256,keyVersion=1,signature={signed}",
        f"algorithm=RSA256, keyVersion=1, signature={signed}",
        f"signature={lower}, keyVersion=1, algorithm=RSA256",
        f"Algorithm=rsa256,KEYVERSION=1,Signature={signed}",
        f"signature={signed}",
        base64.b64encode(raw).decode(),  # not URL-encoded at all: '+' stays a plus
        f"  algorithm=RSA256,keyVersion=1,signature={signed}  ",
    ]
    for variant in variants:
        assert signing.parse_signature(variant) == raw, variant
        _verify(merchant_key, variant)


def test_parse_header_exposes_fields(signed: str) -> None:
    parsed = signing.parse_signature_header(f"keyVersion=3,algorithm=RSA256,signature={signed}")
    assert parsed.key_version == 3
    assert parsed.algorithm == "RSA256"
    assert len(parsed.signature) == 256


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("", "empty"),
        ("algorithm=RSA256,keyVersion=1", "no 'signature=' field"),
        ("algorithm=RSA256,keyVersion=1,signature=", "empty"),
        ("algorithm=SHA1withRSA,keyVersion=1,signature=QUJD", "unsupported signature algorithm"),
        ("algorithm=RSA256,keyVersion=x,signature=QUJD", "keyVersion"),
        ("algorithm=RSA256,signature=QUJD,signature=QUJD", "twice"),
        ("algorithm=RSA256,bogus,signature=QUJD", "malformed"),
        ("signature=not*base64", "not URL-encoded standard base64"),
        ("QUJ%3", "not URL-encoded standard base64"),
        ("a_b-c", "not URL-encoded standard base64"),
    ],
)
def test_malformed_signatures_raise(header: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=re.escape(reason)):
        signing.parse_signature(header)


def test_verify_reports_malformed_and_wrong_algorithm(
    merchant_key: rsa.RSAPrivateKey, signed: str
) -> None:
    with pytest.raises(SignatureError, match="malformed"):
        _verify(merchant_key, "algorithm=RSA256,keyVersion=1")
    with pytest.raises(SignatureError, match="unsupported signature algorithm"):
        _verify(merchant_key, f"algorithm=RSA512,keyVersion=1,signature={signed}")


@pytest.mark.parametrize(
    "tamper",
    [
        {"body": BODY.replace("ord-1001-p1", "ord-1001-p2")},
        {"body": BODY + " "},
        {"body": BODY.replace("奶茶", "咖啡")},
        {"time": "2024-03-01T12:00:01+08:00"},
        {"path": "/ams/sandbox/api/v1/payments/pay"},
        {"path": "/ams/api/v1/payments/refund"},
        {"client_id": "5Y00000000000001"},
        {"method": "GET"},
    ],
)
def test_tampered_inputs_fail(
    merchant_key: rsa.RSAPrivateKey, signed: str, tamper: dict[str, str]
) -> None:
    args = {"path": PATH, "client_id": CLIENT_ID, "time": TIME, "body": BODY}
    args.update(tamper)
    with pytest.raises(SignatureError, match="signature mismatch"):
        signing.verify(merchant_key.public_key(), signature=signed, **args)


def test_wrong_key_fails(antom_key: rsa.RSAPrivateKey, signed: str) -> None:
    with pytest.raises(SignatureError, match="signature mismatch"):
        _verify(antom_key, signed)


def test_flipped_signature_byte_fails(merchant_key: rsa.RSAPrivateKey, signed: str) -> None:
    raw = bytearray(signing.parse_signature(signed))
    raw[10] ^= 0x01
    with pytest.raises(SignatureError, match="signature mismatch"):
        _verify(merchant_key, quote_plus(base64.b64encode(bytes(raw)).decode()))


def test_now_request_time_is_iso_with_offset_seconds_precision() -> None:
    value = signing.now_request_time()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", value), value
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None
