"""Saleor's webhook signatures: detached JWS, RS256, unencoded payload (RFC 7797), verified with
PyJWT.

``Saleor-Signature`` is ``<base64url(header)>..<base64url(signature)>``; the signing input is
``base64url(header) + "." + raw body``. Verification runs over the exact bytes received, before
anything parses them. Only RS256 is accepted, and only with ``b64: false`` listed in ``crit``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jwt import PyJWK, PyJWKSet, PyJWS
from jwt.exceptions import InvalidSignatureError, InvalidTokenError, PyJWKError, PyJWKSetError

_JWS = PyJWS(algorithms=["RS256"])


class SignatureInvalid(Exception):
    """The signature cannot be trusted; ``reason`` says why (safe to log). ``unknown_kid`` is
    set when the only thing wrong is a key id missing from the JWKS at hand: a rotation may
    have happened, and only then is Saleor's JWKS worth fetching again."""

    def __init__(self, reason: str, *, unknown_kid: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unknown_kid = unknown_kid


def public_keys(jwks: Mapping[str, Any]) -> dict[str, PyJWK]:
    """The RS256 verification keys of a JWKS document, by kid (parsed once per document)."""
    try:
        text = json.dumps(jwks, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return {}
    return _parsed(text)


@lru_cache(maxsize=64)
def _parsed(text: str) -> dict[str, PyJWK]:
    document = json.loads(text)
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        return {}
    usable = [
        entry
        for entry in entries
        if isinstance(entry, dict)
        and entry.get("kty") == "RSA"
        and isinstance(entry.get("kid"), str)
        and entry.get("alg", "RS256") == "RS256"
        and entry.get("use", "sig") == "sig"
    ]
    keys: dict[str, PyJWK] = {}
    for entry in usable:  # one by one: a malformed entry must not hide the good ones
        try:
            [key] = PyJWKSet.from_dict({"keys": [entry]}).keys
        except (PyJWKError, PyJWKSetError, ValueError):
            continue
        keys[entry["kid"]] = key
    return keys


def signing_kid(signature: str) -> str:
    """The kid of a Saleor-style signature whose protected header is acceptable."""
    if signature.count(".") != 2:
        raise SignatureInvalid("signature is not a JWS (expected three dot-separated parts)")
    if signature.split(".")[1] != "":
        raise SignatureInvalid("signature is not a detached JWS (payload part is not empty)")
    try:
        header = _JWS.get_unverified_header(signature)
    except InvalidTokenError as exc:
        raise SignatureInvalid(f"signature is not a JWS: {exc}") from None
    if header.get("alg") != "RS256":
        raise SignatureInvalid(f"JWS algorithm {header.get('alg')!r} is not accepted (RS256 only)")
    crit = header.get("crit")
    if header.get("b64") is not False or not isinstance(crit, list) or "b64" not in crit:
        raise SignatureInvalid("JWS must use an unencoded payload (b64: false, crit: [b64])")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise SignatureInvalid("JWS header has no kid")
    return kid


def verify_detached(signature: str, body: bytes, jwks: Mapping[str, Any]) -> str:
    """Verify ``signature`` over ``body`` with the keys of ``jwks``; returns the kid used."""
    signature = signature.strip()
    kid = signing_kid(signature)
    key = public_keys(jwks).get(kid)
    if key is None:
        raise SignatureInvalid(f"unknown signing key {kid}", unknown_kid=kid)
    try:
        _JWS.decode_complete(signature, key.key, algorithms=["RS256"], detached_payload=body)
    except InvalidSignatureError:
        raise SignatureInvalid("signature does not match the body") from None
    except InvalidTokenError as exc:
        raise SignatureInvalid(f"signature refused: {exc}") from None
    return kid
