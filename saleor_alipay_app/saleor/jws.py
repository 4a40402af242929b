"""Saleor's webhook signatures: detached JWS, RS256, unencoded payload (RFC 7797).

``Saleor-Signature`` is ``<base64url(header)>..<base64url(signature)>``; the signing input is
``base64url(header) + "." + raw body``. Verification runs over the exact bytes received, before
anything parses them.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


class SignatureInvalid(Exception):
    """The signature cannot be trusted; ``reason`` says why (safe to log)."""

    def __init__(self, reason: str, *, retry_with_fresh_keys: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_with_fresh_keys = retry_with_fresh_keys


def _b64url_decode(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise SignatureInvalid("signature is not base64url") from None


def _b64url_int(value: str) -> int:
    return int.from_bytes(_b64url_decode(value), "big")


def public_keys(jwks: Mapping[str, Any]) -> dict[str, rsa.RSAPublicKey]:
    """The RS256 verification keys of a JWKS document, by kid."""
    keys: dict[str, rsa.RSAPublicKey] = {}
    entries = jwks.get("keys")
    if not isinstance(entries, list):
        return keys
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA":
            continue
        kid, n, e = entry.get("kid"), entry.get("n"), entry.get("e")
        if not isinstance(kid, str) or not isinstance(n, str) or not isinstance(e, str):
            continue
        if entry.get("alg", "RS256") != "RS256" or entry.get("use", "sig") != "sig":
            continue
        try:
            keys[kid] = rsa.RSAPublicNumbers(_b64url_int(e), _b64url_int(n)).public_key()
        except (SignatureInvalid, ValueError):
            continue
    return keys


def parse_header(signature: str) -> tuple[str, dict[str, Any], bytes]:
    """Split a detached JWS and check its protected header. Returns (b64 header, header, sig)."""
    parts = signature.strip().split(".")
    if len(parts) != 3:
        raise SignatureInvalid("signature is not a JWS (expected three dot-separated parts)")
    header_b64, payload_part, sig_b64 = parts
    if payload_part != "":
        raise SignatureInvalid("signature is not a detached JWS (payload part is not empty)")
    try:
        header = json.loads(_b64url_decode(header_b64))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SignatureInvalid("JWS header is not JSON") from None
    if not isinstance(header, dict):
        raise SignatureInvalid("JWS header is not an object")
    if header.get("alg") != "RS256":
        raise SignatureInvalid(f"JWS algorithm {header.get('alg')!r} is not accepted (RS256 only)")
    if header.get("b64") is not False or "b64" not in (header.get("crit") or []):
        raise SignatureInvalid("JWS must use an unencoded payload (b64: false, crit: [b64])")
    if not isinstance(header.get("kid"), str):
        raise SignatureInvalid("JWS header has no kid")
    return header_b64, header, _b64url_decode(sig_b64)


def verify_detached(signature: str, body: bytes, jwks: Mapping[str, Any]) -> str:
    """Verify ``signature`` over ``body`` with the keys of ``jwks``; returns the kid used."""
    header_b64, header, sig = parse_header(signature)
    kid: str = header["kid"]
    key = public_keys(jwks).get(kid)
    if key is None:
        raise SignatureInvalid(f"unknown signing key {kid}", retry_with_fresh_keys=True)
    try:
        key.verify(
            sig, header_b64.encode("ascii") + b"." + body, padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        raise SignatureInvalid(
            "signature does not match the body", retry_with_fresh_keys=True
        ) from None
    return kid
