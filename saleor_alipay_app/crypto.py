"""AES-256-GCM for secrets at rest, with a key ring so that keys can be rotated.

A stored secret looks like ``enc:v1:<key id>:<base64(nonce || ciphertext || tag)>``. The key id
is the first 8 hex digits of SHA-256 of the key, so a value always names the key that can open
it; old keys stay readable (ENCRYPTION_OLD_KEYS) until `rotate-key` has re-encrypted every value.
Each value is bound to its purpose (for example ``installation.app_token``) as associated data,
so a ciphertext copied into another column does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from saleor_alipay_app.config import Environment, Settings

_PREFIX = "enc:v1:"
_NONCE_BYTES = 12
KEY_FILE_NAME = ".encryption-key"

log = logging.getLogger(__name__)


class CryptoError(Exception):
    """A key is malformed, or a value cannot be decrypted with the keys at hand."""


def generate_key() -> str:
    """A fresh key as the base64 text that ENCRYPTION_KEY expects."""
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _decode_key(text: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError(
            "encryption key is not valid base64; generate one with `saleor-alipay-app generate-key`"
        ) from None
    if len(raw) != 32:
        raise CryptoError(
            f"encryption key must be 32 bytes (base64 of 32 random bytes), got {len(raw)} bytes"
        )
    return raw


def key_id(raw_key: bytes) -> str:
    return hashlib.sha256(raw_key).hexdigest()[:8]


class KeyRing:
    """The current key, which encrypts, and older keys, which only decrypt."""

    def __init__(self, current: str, old: Iterable[str] = ()) -> None:
        raw = _decode_key(current)
        self._current_id = key_id(raw)
        self._keys: dict[str, AESGCM] = {self._current_id: AESGCM(raw)}
        for text in old:
            old_raw = _decode_key(text)
            self._keys.setdefault(key_id(old_raw), AESGCM(old_raw))

    @property
    def current_key_id(self) -> str:
        return self._current_id

    def encrypt(self, plaintext: str, purpose: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._keys[self._current_id].encrypt(
            nonce, plaintext.encode("utf-8"), purpose.encode("utf-8")
        )
        payload = base64.b64encode(nonce + sealed).decode("ascii")
        return f"{_PREFIX}{self._current_id}:{payload}"

    def decrypt(self, token: str, purpose: str) -> str:
        if not token.startswith(_PREFIX):
            raise CryptoError("value is not an encrypted secret")
        try:
            kid, payload = token[len(_PREFIX) :].split(":", 1)
            blob = base64.b64decode(payload, validate=True)
        except (ValueError, binascii.Error):
            raise CryptoError("encrypted secret is malformed") from None
        aead = self._keys.get(kid)
        if aead is None:
            raise CryptoError(
                f"secret was encrypted with key {kid}, which is neither ENCRYPTION_KEY nor in "
                "ENCRYPTION_OLD_KEYS"
            )
        try:
            plain = aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], purpose.encode())
        except InvalidTag:
            raise CryptoError(f"secret for {purpose} failed authentication") from None
        return plain.decode("utf-8")

    def needs_rotation(self, token: str) -> bool:
        return not token.startswith(f"{_PREFIX}{self._current_id}:")


def _key_file(settings: Settings) -> Path:
    db_path = settings.sqlite_path
    folder = db_path.resolve().parent if db_path is not None else Path.cwd()
    return folder / KEY_FILE_NAME


def load_key_ring(settings: Settings) -> KeyRing:
    """Build the key ring from settings.

    Production requires ENCRYPTION_KEY (the settings refuse to load without it). In development,
    a key is generated once and kept beside the database file, with a warning.
    """
    old = [k for k in (settings.encryption_old_keys or "").split(",") if k.strip()]
    if settings.encryption_key:
        return KeyRing(settings.encryption_key, old)
    if settings.app_env is Environment.PRODUCTION:  # pragma: no cover - settings refuse this
        raise CryptoError("ENCRYPTION_KEY is required in production")
    path = _key_file(settings)
    if path.exists():
        text = path.read_text(encoding="ascii").strip()
    else:
        text = generate_key()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text + "\n")
    log.warning(
        "ENCRYPTION_KEY is not set: using the development key in %s. Set ENCRYPTION_KEY "
        "before real credentials are stored (production refuses to start without it).",
        path,
    )
    return KeyRing(text, old)
