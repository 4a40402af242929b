"""How a use-case reaches Antom for a channel: `AntomClients` (one `AntomApi` per channel
configuration) is a `Protocol`, so a test can hand in a fake instead of `service.AntomClientPool`.
`AntomDeps` is what a use-case that calls Antom needs; `payments.deps.PaymentDeps` adds the
reporter to Saleor. Both are built once per process by `saleor_alipay_app.composition`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from saleor_alipay_app.antom.protocol import AntomApi
from saleor_alipay_app.channels.models import ChannelConfig
from saleor_alipay_app.crypto import KeyRing

# Time given to one call to Antom made on a person's behalf (revoke, inquire, test).
ANTOM_BUDGET = 10.0


class AntomClients(Protocol):
    """Antom, as the configuration of one channel reaches it."""

    def for_config(self, config: ChannelConfig) -> AntomApi: ...

    def public_key(self, config: ChannelConfig) -> rsa.RSAPublicKey: ...


@dataclass
class AntomDeps:
    sessions: async_sessionmaker[AsyncSession]
    keys: KeyRing
    antom: AntomClients
