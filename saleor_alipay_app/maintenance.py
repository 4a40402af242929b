"""Operator tasks on stored data: re-encrypting every secret under a new key."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from saleor_alipay_app.config import Settings
from saleor_alipay_app.crypto import KeyRing, load_key_ring
from saleor_alipay_app.db import create_engine, session_factory, transaction
from saleor_alipay_app.models import ENCRYPTED_COLUMNS


@dataclass(frozen=True)
class RotationReport:
    new_key_id: str
    rewritten: int
    already_current: int


async def rotate_key(settings: Settings, new_key: str) -> RotationReport:
    """Re-encrypt every secret column with ``new_key`` in one transaction.

    Values are read with the current key ring (ENCRYPTION_KEY and ENCRYPTION_OLD_KEYS). Either
    every value moves to the new key or, on any error, none does.
    """
    old_ring = load_key_ring(settings)
    new_ring = KeyRing(new_key)
    engine = create_engine(settings)
    rewritten = already = 0
    try:
        async with transaction(session_factory(engine)) as session:
            for model, attribute, purpose in ENCRYPTED_COLUMNS:
                rows = (await session.execute(select(model))).scalars().all()
                for row in rows:
                    value = getattr(row, attribute)
                    if value is None or value == "":
                        continue
                    if not new_ring.needs_rotation(value):
                        already += 1
                        continue
                    plain = old_ring.decrypt(value, purpose)
                    setattr(row, attribute, new_ring.encrypt(plain, purpose))
                    session.add(row)
                    rewritten += 1
    finally:
        await engine.dispose()
    return RotationReport(new_ring.current_key_id, rewritten, already)
