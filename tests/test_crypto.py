from __future__ import annotations

from pathlib import Path

import pytest

from saleor_alipay_app.config import Environment, Settings
from saleor_alipay_app.crypto import (
    KEY_FILE_NAME,
    CryptoError,
    KeyRing,
    generate_key,
    load_key_ring,
)


def test_round_trip_and_purpose_binding() -> None:
    ring = KeyRing(generate_key())
    token = ring.encrypt("app-token-123", "installation.app_token")
    assert "app-token-123" not in token
    assert ring.decrypt(token, "installation.app_token") == "app-token-123"
    with pytest.raises(CryptoError):
        ring.decrypt(token, "agreement.access_token")


def test_each_encryption_uses_a_fresh_nonce() -> None:
    ring = KeyRing(generate_key())
    assert ring.encrypt("same", "p") != ring.encrypt("same", "p")


def test_tampered_ciphertext_is_refused() -> None:
    ring = KeyRing(generate_key())
    token = ring.encrypt("secret", "p")
    tampered = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
    with pytest.raises(CryptoError):
        ring.decrypt(tampered, "p")


def test_old_keys_decrypt_new_key_encrypts() -> None:
    old, new = generate_key(), generate_key()
    before = KeyRing(old).encrypt("secret", "p")
    ring = KeyRing(new, [old])
    assert ring.decrypt(before, "p") == "secret"
    assert ring.needs_rotation(before)
    assert not ring.needs_rotation(ring.encrypt("secret", "p"))
    with pytest.raises(CryptoError, match="neither ENCRYPTION_KEY"):
        KeyRing(new).decrypt(before, "p")


@pytest.mark.parametrize("bad", ["not base64!", "c2hvcnQ="])
def test_malformed_keys_are_refused(bad: str) -> None:
    with pytest.raises(CryptoError):
        KeyRing(bad)


def test_development_key_is_generated_beside_the_database(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        app_env=Environment.DEVELOPMENT,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'data' / 'app.db'}",
        encryption_key=None,
    )
    first = load_key_ring(settings)
    key_file = tmp_path / "data" / KEY_FILE_NAME
    assert key_file.exists()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert "ENCRYPTION_KEY is not set" in caplog.text
    second = load_key_ring(settings)
    assert first.current_key_id == second.current_key_id
    assert key_file.read_text().strip() not in caplog.text
