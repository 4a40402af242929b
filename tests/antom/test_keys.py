from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from saleor_alipay_app.antom import keys
from saleor_alipay_app.antom.keys import KeyFormatError

from .vectors import TEST_PRIVATE_KEY_B64, TEST_PUBLIC_KEY_B64


def _pem(der: bytes, label: str) -> str:
    b64 = base64.b64encode(der).decode()
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def _private_forms(key: rsa.RSAPrivateKey) -> dict[str, str | bytes]:
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    pkcs1 = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    b64 = base64.b64encode(pkcs8).decode()
    return {
        "pkcs8 pem": _pem(pkcs8, "PRIVATE KEY"),
        "pkcs8 pem bytes crlf": _pem(pkcs8, "PRIVATE KEY").replace("\n", "\r\n").encode(),
        "pkcs1 pem": _pem(pkcs1, "RSA PRIVATE KEY"),
        "bare base64 pkcs8": b64,
        "bare base64 wrapped with spaces": "  "
        + "\n ".join(b64[i : i + 50] for i in range(0, len(b64), 50))
        + "\n",
        "bare base64 pkcs1": base64.b64encode(pkcs1).decode(),
        "env var with literal \\n": _pem(pkcs8, "PRIVATE KEY").replace("\n", "\\n"),
    }


def test_private_key_forms_all_load_to_the_same_key(merchant_key: rsa.RSAPrivateKey) -> None:
    expected = merchant_key.private_numbers()
    for name, form in _private_forms(merchant_key).items():
        loaded = keys.load_private_key(form)
        assert loaded.private_numbers() == expected, name


def test_public_key_forms_all_load_to_the_same_key(merchant_key: rsa.RSAPrivateKey) -> None:
    public = merchant_key.public_key()
    spki = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pkcs1 = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    forms: dict[str, str | bytes] = {
        "spki pem": _pem(spki, "PUBLIC KEY"),
        "pkcs1 pem": _pem(pkcs1, "RSA PUBLIC KEY"),
        "bare base64 spki": base64.b64encode(spki).decode(),
        "bare base64 pkcs1": base64.b64encode(pkcs1),
        "helper pem": keys.public_key_pem(public),
        "helper base64": keys.public_key_base64(public),
    }
    for name, form in forms.items():
        assert keys.load_public_key(form).public_numbers() == public.public_numbers(), name


def test_fixed_test_vectors_key_pair_matches() -> None:
    private = keys.load_private_key(TEST_PRIVATE_KEY_B64)
    public = keys.load_public_key(TEST_PUBLIC_KEY_B64)
    assert keys.keys_match(private, public)
    assert private.key_size == 2048


def test_round_trip_helpers(merchant_key: rsa.RSAPrivateKey, antom_key: rsa.RSAPrivateKey) -> None:
    assert keys.load_private_key(keys.private_key_pem(merchant_key)).private_numbers() == (
        merchant_key.private_numbers()
    )
    b64 = keys.private_key_base64(merchant_key)
    assert "\n" not in b64
    assert "-----" not in b64
    assert keys.load_private_key(b64).private_numbers() == merchant_key.private_numbers()
    public_b64 = keys.public_key_base64(merchant_key.public_key())
    assert "\n" not in public_b64
    assert keys.keys_match(merchant_key, keys.load_public_key(public_b64))
    assert not keys.keys_match(merchant_key, antom_key.public_key())


def test_generated_key_shape() -> None:
    key = keys.generate_private_key()
    assert key.key_size == 2048
    assert key.public_key().public_numbers().e == 65537


def test_small_rsa_key_refused() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = small.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(KeyFormatError, match="RSA-1024"):
        keys.load_private_key(pem)
    with pytest.raises(KeyFormatError, match="RSA-1024"):
        keys.load_public_key(keys.public_key_base64(small.public_key()))


def test_ec_key_refused() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    pem = ec_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(KeyFormatError, match=r"not an RSA key \(got an EC key\)"):
        keys.load_private_key(pem)
    spki = ec_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(KeyFormatError, match="not an RSA key"):
        keys.load_public_key(spki)


def test_encrypted_key_refused(merchant_key: rsa.RSAPrivateKey) -> None:
    pem = merchant_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    with pytest.raises(KeyFormatError, match="encrypted"):
        keys.load_private_key(pem)


def test_swapped_keys_are_named(merchant_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(KeyFormatError, match="public key"):
        keys.load_private_key(keys.public_key_base64(merchant_key.public_key()))
    with pytest.raises(KeyFormatError, match="PUBLIC KEY block"):
        keys.load_private_key(keys.public_key_pem(merchant_key.public_key()))
    with pytest.raises(KeyFormatError, match="private key"):
        keys.load_public_key(keys.private_key_base64(merchant_key))
    with pytest.raises(KeyFormatError, match="PRIVATE KEY block"):
        keys.load_public_key(keys.private_key_pem(merchant_key))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("not base64 at all!", "neither PEM nor valid standard base64"),
        ("QUJD", "not a valid PKCS#8 or PKCS#1"),
        (b"\x30\x82\xff\xfe", "not text"),
        ("-----BEGIN PRIVATE KEY-----\nQUJD\n", "no matching BEGIN/END"),
        ("-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----", "CERTIFICATE"),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nQUJD\n-----END OPENSSH PRIVATE KEY-----",
            "unsupported PEM",
        ),
    ],
)
def test_malformed_private_keys(data: str | bytes, message: str) -> None:
    with pytest.raises(KeyFormatError, match=message):
        keys.load_private_key(data)


def test_error_messages_never_contain_key_material(merchant_key: rsa.RSAPrivateKey) -> None:
    b64 = keys.private_key_base64(merchant_key)
    corrupted = b64[:200] + "!!" + b64[200:]
    truncated = b64[:400]
    for bad in (corrupted, truncated, b64[:-8] + "AAAAAAAA"):
        with pytest.raises(KeyFormatError) as info:
            keys.load_private_key(bad)
        text = str(info.value)
        assert b64[20:60] not in text
        assert info.value.__cause__ is None
        assert len(text) < 200
