"""Saleor's detached JWS, checked against PyJWT as an independent signer."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from saleor_alipay_app.saleor.jws import SignatureInvalid, public_keys, verify_detached


def _jwks(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig", "key_ops": ["verify"]})
    return {"keys": [jwk]}


def _sign(key: rsa.RSAPrivateKey, kid: str, body: bytes, alg: str = "RS256") -> str:
    return jwt.api_jws.encode(
        body,
        key,
        algorithm=alg,
        headers={"kid": kid, "typ": "JWT"},
        is_payload_detached=True,
    )


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


BODY = b'{"version":"3.24.0","recipient":{"id":"QXBwOjQy"},"amount":199.0}'


def test_saleor_style_signature_verifies(key: rsa.RSAPrivateKey) -> None:
    signature = _sign(key, "k1", BODY)
    header = json.loads(base64.urlsafe_b64decode(signature.split(".")[0] + "=="))
    assert header == {"alg": "RS256", "b64": False, "crit": ["b64"], "kid": "k1", "typ": "JWT"}
    assert signature.split(".")[1] == ""
    assert verify_detached(signature, BODY, _jwks(key, "k1")) == "k1"


def test_one_changed_byte_fails(key: rsa.RSAPrivateKey) -> None:
    signature = _sign(key, "k1", BODY)
    with pytest.raises(SignatureInvalid) as excinfo:
        verify_detached(signature, BODY.replace(b"199.0", b"199.1"), _jwks(key, "k1"))
    # A known key that does not verify is a forgery or a corrupted body: never worth a refetch.
    assert excinfo.value.unknown_kid is None


def test_unknown_kid_asks_for_fresh_keys(key: rsa.RSAPrivateKey) -> None:
    signature = _sign(key, "new-kid", BODY)
    with pytest.raises(SignatureInvalid, match="unknown signing key") as excinfo:
        verify_detached(signature, BODY, _jwks(key, "old-kid"))
    assert excinfo.value.unknown_kid == "new-kid"


@pytest.mark.parametrize("alg", ["HS256", "none", "RS512", "PS256"])
def test_other_algorithms_are_refused_without_refetch(key: rsa.RSAPrivateKey, alg: str) -> None:
    header = base64.urlsafe_b64encode(
        json.dumps({"alg": alg, "b64": False, "crit": ["b64"], "kid": "k1"}).encode()
    ).rstrip(b"=")
    signature = header.decode() + "..c2ln"
    with pytest.raises(SignatureInvalid, match="not accepted") as excinfo:
        verify_detached(signature, BODY, _jwks(key, "k1"))
    assert excinfo.value.unknown_kid is None


@pytest.mark.parametrize(
    "signature",
    ["", "abc", "a.b.c", "e30..", "not-base64!..x"],
)
def test_malformed_signatures_are_refused(key: rsa.RSAPrivateKey, signature: str) -> None:
    with pytest.raises(SignatureInvalid):
        verify_detached(signature, BODY, _jwks(key, "k1"))


def test_attached_payload_jws_is_refused(key: rsa.RSAPrivateKey) -> None:
    attached = jwt.api_jws.encode(BODY, key, algorithm="RS256", headers={"kid": "k1"})
    with pytest.raises(SignatureInvalid):
        verify_detached(attached, BODY, _jwks(key, "k1"))


def test_b64_true_is_refused(key: rsa.RSAPrivateKey) -> None:
    attached = jwt.api_jws.encode(BODY, key, algorithm="RS256", headers={"kid": "k1"})
    head, _payload, sig = attached.split(".")
    with pytest.raises(SignatureInvalid, match="unencoded payload"):
        verify_detached(f"{head}..{sig}", BODY, _jwks(key, "k1"))


def test_public_keys_skip_unusable_entries(key: rsa.RSAPrivateKey) -> None:
    jwks = _jwks(key, "k1")
    jwks["keys"].append({"kty": "EC", "kid": "ec"})
    jwks["keys"].append({"kty": "RSA", "kid": "enc", "n": "AQAB", "e": "AQAB", "use": "enc"})
    assert set(public_keys(jwks)) == {"k1"}
    assert public_keys({"keys": "nope"}) == {}
