"""RSA keys in the shapes Antom and merchants actually hand around.

Antom's dashboard shows keys as bare base64 (private key: PKCS#8 DER, public key: X.509
SubjectPublicKeyInfo DER, API.md §1); tools such as OpenSSL produce PEM, PKCS#8 or PKCS#1.
Everything here accepts all of those and refuses anything that is not an RSA key of at least
2048 bits. Error messages say what is wrong and never repeat key material.
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

__all__ = [
    "MIN_KEY_BITS",
    "KeyFormatError",
    "generate_private_key",
    "keys_match",
    "load_private_key",
    "load_public_key",
    "private_key_base64",
    "private_key_pem",
    "public_key_base64",
    "public_key_pem",
]

MIN_KEY_BITS = 2048

_PEM_BLOCK = re.compile(
    r"-----BEGIN (?P<label>[A-Z0-9 ]+)-----(?P<body>.*?)-----END (?P=label)-----",
    re.DOTALL,
)
_PEM_HEADER_LINE = re.compile(r"^[A-Za-z-]+:.*$", re.MULTILINE)
_WHITESPACE = re.compile(r"\s+")

_PRIVATE_LABELS = {"PRIVATE KEY", "RSA PRIVATE KEY"}
_PUBLIC_LABELS = {"PUBLIC KEY", "RSA PUBLIC KEY"}


class KeyFormatError(ValueError):
    """A key could not be used: wrong format, wrong kind, wrong algorithm or too small."""


def _as_text(data: str | bytes, what: str) -> str:
    if isinstance(data, bytes):
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            raise KeyFormatError(
                f"{what} is not text: expected PEM or base64 (binary DER is not accepted)"
            ) from None
    elif isinstance(data, str):
        text = data
    else:
        raise KeyFormatError(f"{what} must be str or bytes, got {type(data).__name__}")
    # Keys pasted into environment variables often carry literal "\n" sequences.
    text = text.replace("\\r", "").replace("\\n", "\n").strip()
    if not text:
        raise KeyFormatError(f"{what} is empty")
    return text


def _b64_to_der(text: str, what: str) -> bytes:
    compact = _WHITESPACE.sub("", text)
    if not compact:
        raise KeyFormatError(f"{what} contains no base64 data")
    try:
        der = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFormatError(
            f"{what} is neither PEM nor valid standard base64 "
            "(expected the bare base64 shown by Antom's dashboard, or a PEM block)"
        ) from None
    if not der:
        raise KeyFormatError(f"{what} decodes to nothing")
    return der


def _split_pem(text: str, what: str) -> tuple[str, bytes] | None:
    """Return (label, DER) for a PEM block, or None when ``text`` is not PEM at all."""
    if "-----BEGIN" not in text:
        return None
    match = _PEM_BLOCK.search(text)
    if match is None:
        raise KeyFormatError(f"{what} looks like PEM but has no matching BEGIN/END lines")
    label = match.group("label")
    body = match.group("body")
    if "ENCRYPTED" in label or "Proc-Type: 4,ENCRYPTED" in body:
        raise KeyFormatError(f"{what} is encrypted; supply an unencrypted key")
    body = _PEM_HEADER_LINE.sub("", body)
    return label, _b64_to_der(body, what)


def _check_private(key: object, what: str) -> rsa.RSAPrivateKey:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFormatError(f"{what} is not an RSA key ({_kind(key)}); Antom requires RSA")
    if key.key_size < MIN_KEY_BITS:
        raise KeyFormatError(
            f"{what} is RSA-{key.key_size}; Antom requires at least RSA-{MIN_KEY_BITS}"
        )
    return key


def _check_public(key: object, what: str) -> rsa.RSAPublicKey:
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyFormatError(f"{what} is not an RSA key ({_kind(key)}); Antom requires RSA")
    if key.key_size < MIN_KEY_BITS:
        raise KeyFormatError(
            f"{what} is RSA-{key.key_size}; Antom requires at least RSA-{MIN_KEY_BITS}"
        )
    return key


def _kind(key: object) -> str:
    kinds: tuple[tuple[tuple[type, ...], str], ...] = (
        ((ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey), "EC"),
        ((ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey), "Ed25519"),
        ((ed448.Ed448PrivateKey, ed448.Ed448PublicKey), "Ed448"),
        ((dsa.DSAPrivateKey, dsa.DSAPublicKey), "DSA"),
    )
    for types, name in kinds:
        if isinstance(key, types):
            return f"got an {name} key" if name[0] in "AEIOU" else f"got a {name} key"
    return f"got {type(key).__name__}"


def load_private_key(data: str | bytes) -> rsa.RSAPrivateKey:
    """Load a merchant private key from PEM (PKCS#8 or PKCS#1) or bare base64 DER."""
    what = "private key"
    text = _as_text(data, what)
    pem = _split_pem(text, what)
    if pem is None:
        der = _b64_to_der(text, what)
    else:
        label, der = pem
        if label in _PUBLIC_LABELS or label == "CERTIFICATE":
            raise KeyFormatError(f"{what}: got a {label} block where a private key is expected")
        if label not in _PRIVATE_LABELS:
            raise KeyFormatError(
                f"{what}: unsupported PEM block {label!r} (expected PRIVATE KEY or RSA PRIVATE KEY)"
            )
    try:
        key = serialization.load_der_private_key(der, password=None)
    except TypeError:
        raise KeyFormatError(f"{what} is encrypted; supply an unencrypted key") from None
    except (ValueError, UnsupportedAlgorithm):
        if _parses_as_public(der):
            raise KeyFormatError(
                f"{what}: this is a public key; a private key is expected"
            ) from None
        raise KeyFormatError(f"{what} is not a valid PKCS#8 or PKCS#1 DER private key") from None
    return _check_private(key, what)


def _parses_as_public(der: bytes) -> bool:
    try:
        serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm):
        return False
    return True


def _parses_as_private(der: bytes) -> bool:
    try:
        serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def load_public_key(data: str | bytes) -> rsa.RSAPublicKey:
    """Load a public key (Antom's, usually) from PEM or bare base64 DER (SPKI or PKCS#1)."""
    what = "public key"
    text = _as_text(data, what)
    pem = _split_pem(text, what)
    if pem is None:
        der = _b64_to_der(text, what)
    else:
        label, der = pem
        if label in _PRIVATE_LABELS:
            raise KeyFormatError(f"{what}: got a {label} block where a public key is expected")
        if label not in _PUBLIC_LABELS:
            raise KeyFormatError(
                f"{what}: unsupported PEM block {label!r} (expected PUBLIC KEY or RSA PUBLIC KEY)"
            )
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm):
        if _parses_as_private(der):
            raise KeyFormatError(
                f"{what}: this is a private key; the public key is expected here"
            ) from None
        raise KeyFormatError(
            f"{what} is not a valid X.509 SubjectPublicKeyInfo or PKCS#1 DER public key"
        ) from None
    return _check_public(key, what)


def generate_private_key() -> rsa.RSAPrivateKey:
    """A fresh RSA-2048 key with e=65537, the shape Antom's dashboard expects."""
    return rsa.generate_private_key(public_exponent=65537, key_size=MIN_KEY_BITS)


def private_key_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def private_key_base64(key: rsa.RSAPrivateKey) -> str:
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return base64.b64encode(der).decode("ascii")


def public_key_pem(key: rsa.RSAPublicKey | rsa.RSAPrivateKey) -> str:
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def public_key_base64(key: rsa.RSAPublicKey | rsa.RSAPrivateKey) -> str:
    """One line of base64 SPKI DER: what you paste into Antom's dashboard."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


def keys_match(private: rsa.RSAPrivateKey, public: rsa.RSAPublicKey) -> bool:
    """True when ``public`` is the public half of ``private``."""
    return private.public_key().public_numbers() == public.public_numbers()
