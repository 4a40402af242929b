"""What every use-case needs: the database, the key ring, the Antom clients and the reporter to
Saleor. Built once per process by `saleor_alipay_app.composition`, for web, CLI and tests alike.

The Antom side is a `Protocol` (`AntomClients`: one `AntomApi` per channel configuration), so a
test can hand in a fake instead of `channels.service.AntomClientPool`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from saleor_alipay_app.antom.protocol import AntomApi
from saleor_alipay_app.channels.models import ChannelConfig
from saleor_alipay_app.crypto import KeyRing
from saleor_alipay_app.payments.reporting import SaleorReporter

# Time given to one call to Antom made on a person's behalf (revoke, inquire, test).
ANTOM_BUDGET = 10.0


class AntomClients(Protocol):
    """Antom, as the configuration of one channel reaches it."""

    def for_config(self, config: ChannelConfig) -> AntomApi: ...

    def public_key(self, config: ChannelConfig) -> rsa.RSAPublicKey: ...


@dataclass
class PaymentDeps:
    sessions: async_sessionmaker[AsyncSession]
    keys: KeyRing
    antom: AntomClients
    reporter: SaleorReporter
    # Delay before a final outcome already answered synchronously is also reported (Saleor
    # de-duplicates it; it only matters when our answer never reached Saleor).
    confirm_delay: timedelta = timedelta(seconds=30)
