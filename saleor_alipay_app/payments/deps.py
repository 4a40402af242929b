"""What the payment use-cases need (`PaymentDeps`: `channels.deps.AntomDeps` plus the reporter to
Saleor), and `Services`, what every route and command above the payments is handed. Built once
per process by `saleor_alipay_app.composition`, for web, CLI and tests alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import Request

from saleor_alipay_app.channels.deps import AntomDeps
from saleor_alipay_app.channels.models import ChannelConfig
from saleor_alipay_app.channels.service import config_cache
from saleor_alipay_app.db import KeptRows
from saleor_alipay_app.installations.deps import AppServices
from saleor_alipay_app.payments.reporting import SaleorReporter


@dataclass
class PaymentDeps(AntomDeps):
    reporter: SaleorReporter
    # Delay before a final outcome already answered synchronously is also reported (Saleor
    # de-duplicates it; it only matters when our answer never reached Saleor).
    confirm_delay: timedelta = timedelta(seconds=30)


@dataclass(kw_only=True)
class Services(AppServices):
    """What the composition root hands every route and command: the process's long-lived
    objects and the payment use-cases' dependencies."""

    payments: PaymentDeps
    # Configurations by public id, for Antom's notifications (see `db.KeptRows`).
    configs: KeptRows[str, ChannelConfig] = field(default_factory=config_cache)


def services_of(request: Request) -> Services:
    services = request.app.state.services
    assert isinstance(services, Services)
    return services
