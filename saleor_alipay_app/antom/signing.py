"""Antom request signing and signature verification (API.md §2 and §3).

String to sign (UTF-8, one ``\\n``, no trailing newline)::

    <METHOD> <path>\\n<client-id>.<time>.<raw body>

Signature: RSASSA-PKCS1-v1_5 with SHA-256, standard base64, then URL-encoded (``quote_plus``).
The ``signature`` header is ``algorithm=RSA256,keyVersion=1,signature=<value>``.

:func:`verify_notification` applies this to the notifications Antom sends us.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote_plus

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = [
    "ALGORITHM",
    "ParsedSignature",
    "SignatureError",
    "header_value",
    "now_request_time",
    "parse_signature",
    "parse_signature_header",
    "sign",
    "signature_header",
    "string_to_sign",
    "verify",
    "verify_notification",
]

ALGORITHM = "RSA256"

_KEY_VERSION = re.compile(r"^[0-9]{1,9}$")
_HEADER_KEYS = ("algorithm", "keyversion", "signature")


class SignatureError(ValueError):
    """A signature is malformed, uses an unsupported algorithm, or does not match."""


def _body_bytes(body: str | bytes) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def string_to_sign(method: str, path: str, client_id: str, time: str, body: str | bytes) -> bytes:
    """The exact bytes Antom signs: ``f"{METHOD} {path}\\n{client_id}.{time}.{body}"`` in UTF-8."""
    head = f"{method.upper()} {path}\n{client_id}.{time}."
    return head.encode("utf-8") + _body_bytes(body)


def sign(
    private_key: rsa.RSAPrivateKey,
    *,
    method: str = "POST",
    path: str,
    client_id: str,
    request_time: str,
    body: str | bytes,
) -> str:
    """Sign a request; returns the URL-encoded base64 value for the ``signature=`` field."""
    message = string_to_sign(method, path, client_id, request_time, body)
    raw = private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return _url_encoded(base64.b64encode(raw).decode("ascii"))


def _url_encoded(b64: str) -> str:
    """``quote_plus`` for standard base64, whose only unsafe characters are ``+``, ``/``, ``=``
    (the same text in a fraction of the time)."""
    return b64.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")


def signature_header(value: str, key_version: int = 1) -> str:
    """The full ``signature`` header value, as the official SDK sends it (no spaces)."""
    if isinstance(key_version, bool) or not isinstance(key_version, int) or key_version < 0:
        raise ValueError("key_version must be a non-negative int")
    return f"algorithm={ALGORITHM},keyVersion={key_version},signature={value}"


@dataclass(frozen=True)
class ParsedSignature:
    """A decoded ``signature`` header. ``algorithm``/``key_version`` are None when absent."""

    signature: bytes
    algorithm: str | None = None
    key_version: int | None = None


def _looks_like_header(text: str) -> bool:
    if "," in text:
        return True
    lowered = text.lower()
    return any(lowered.startswith(f"{key}=") for key in _HEADER_KEYS)


def _decode_value(value: str) -> bytes:
    value = value.strip()
    if not value:
        raise SignatureError("malformed signature: the signature value is empty")
    # A URL-encoded value always carries escapes (a 2048-bit signature ends in "=="). A value
    # without '%' is taken as raw base64, where '+' is a literal plus, not a space.
    text = unquote_plus(value) if "%" in value else value
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(
            "malformed signature: the value is not URL-encoded standard base64"
        ) from None
    if not decoded:
        raise SignatureError("malformed signature: the value decodes to nothing")
    return decoded


def parse_signature_header(header_or_value: str) -> ParsedSignature:
    """Parse a whole ``signature`` header or a bare value.

    Accepts any key order, case-insensitive keys, optional spaces after commas, and upper- or
    lower-case percent escapes. Raises :class:`SignatureError` when the input is malformed or
    names an algorithm other than RSA256.
    """
    if not isinstance(header_or_value, str):
        raise SignatureError("malformed signature: expected a string")
    text = header_or_value.strip()
    if not text:
        raise SignatureError("malformed signature: the header is empty")
    if not _looks_like_header(text):
        return ParsedSignature(signature=_decode_value(text))

    fields: dict[str, str] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or not key:
            raise SignatureError(f"malformed signature header: field {key or part[:20]!r}")
        if key in fields:
            raise SignatureError(f"malformed signature header: {key!r} appears twice")
        fields[key] = value.strip()

    if "signature" not in fields:
        raise SignatureError("malformed signature header: no 'signature=' field")
    algorithm = fields.get("algorithm")
    if algorithm is not None and algorithm.upper() != ALGORITHM:
        raise SignatureError(
            f"unsupported signature algorithm {algorithm[:20]!r} (only {ALGORITHM} is accepted)"
        )
    key_version: int | None = None
    raw_version = fields.get("keyversion")
    if raw_version is not None:
        if not _KEY_VERSION.match(raw_version):
            raise SignatureError("malformed signature header: keyVersion is not a number")
        key_version = int(raw_version)
    return ParsedSignature(
        signature=_decode_value(fields["signature"]),
        algorithm=algorithm,
        key_version=key_version,
    )


def parse_signature(header_or_value: str) -> bytes:
    """The raw RSA signature bytes from a whole header or a bare (URL-encoded) value."""
    return parse_signature_header(header_or_value).signature


def verify(
    public_key: rsa.RSAPublicKey,
    *,
    method: str = "POST",
    path: str,
    client_id: str,
    time: str,
    body: str | bytes,
    signature: str,
) -> None:
    """Check an Antom signature; raises :class:`SignatureError` with the reason on failure."""
    raw = parse_signature(signature)
    message = string_to_sign(method, path, client_id, time, body)
    try:
        public_key.verify(raw, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise SignatureError(
            "signature mismatch: the signature does not match this method, path, client-id, "
            "time and body under the given public key"
        ) from None


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """The header ``name`` (any case), stripped; None when it is absent or blank."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, candidate in headers.items():
            if key.lower() == lowered:
                value = candidate
                break
    if value is None:
        return None
    value = value.strip()
    return value or None


def verify_notification(
    public_key: rsa.RSAPublicKey,
    *,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    expected_client_id: str,
) -> None:
    """Verify an Antom notification (API.md §3); raises :class:`SignatureError` with the reason.

    ``path`` is the path Antom requested on our server (keep notify URLs free of query strings).
    """
    missing = [
        name
        for name in ("client-id", "request-time", "signature")
        if not header_value(headers, name)
    ]
    if missing:
        raise SignatureError(f"notification is missing header(s): {', '.join(missing)}")
    client_id = header_value(headers, "client-id") or ""
    if client_id != expected_client_id:
        raise SignatureError("notification client-id does not match our client ID")
    verify(
        public_key,
        method="POST",
        path=path,
        client_id=client_id,
        time=header_value(headers, "request-time") or "",
        body=body,
        signature=header_value(headers, "signature") or "",
    )


def now_request_time() -> str:
    """Current time as ISO-8601 with offset, seconds precision (what the official SDK sends)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()
