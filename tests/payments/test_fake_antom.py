"""Use-cases depend on the `AntomClients` protocol, not on the HTTP client: a fake stands in for
Antom here, on a real database, with no sandbox and no network."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from saleor_alipay_app.agreements.models import Agreement, AgreementStatus
from saleor_alipay_app.agreements.service import ACCESS_TOKEN_PURPOSE, revoke_at_antom
from saleor_alipay_app.antom.client import AntomResponse, AntomUnavailable, UnavailableReason
from saleor_alipay_app.antom.keys import generate_private_key
from saleor_alipay_app.antom.models import Result, RevokeRequest, RevokeResponse
from saleor_alipay_app.antom.protocol import AntomApi
from saleor_alipay_app.antom.results import Call, Outcome
from saleor_alipay_app.channels.deps import AntomClients, AntomDeps
from saleor_alipay_app.channels.models import ChannelConfig
from saleor_alipay_app.config import Settings
from saleor_alipay_app.crypto import load_key_ring
from saleor_alipay_app.db import create_engine, migrate_async, session_factory, transaction, utcnow
from saleor_alipay_app.http import deadline_in
from saleor_alipay_app.installations.models import TOKEN_PURPOSE, Installation


@dataclass
class FakeAntom:
    """Answers `revoke` as told, and records what it was asked."""

    answer: str = "SUCCESS"  # or "UNAVAILABLE"
    revoked: list[str] = field(default_factory=list)

    async def revoke(
        self, request: RevokeRequest, *, deadline: float | None = None
    ) -> AntomResponse[RevokeResponse]:
        self.revoked.append(request.access_token)
        if self.answer == "UNAVAILABLE":
            raise AntomUnavailable(
                call=Call.REVOKE,
                reason=UnavailableReason.TIMEOUT,
                detail="no answer",
                trace_id="fake",
                request_id=None,
                sent=True,
            )
        return AntomResponse(
            call=Call.REVOKE,
            model=RevokeResponse(result=Result(result_code="SUCCESS", result_status="S")),
            outcome=Outcome.SUCCESS,
            request_id=None,
            trace_id="fake",
            path="/ams/api/v1/authorizations/revoke",
            request_time=utcnow().isoformat(),
            status_code=200,
            verified=True,
        )

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the use-case called Antom's {name}, which it must not")


@dataclass
class FakeClients:
    antom: FakeAntom
    public: rsa.RSAPublicKey

    def for_config(self, config: ChannelConfig) -> AntomApi:
        return self.antom  # type: ignore[return-value]

    def public_key(self, config: ChannelConfig) -> rsa.RSAPublicKey:
        return self.public


Setup = tuple[AntomDeps, Agreement, FakeAntom]


@pytest.fixture
async def agreement_deps(
    settings: Settings,
) -> AsyncIterator[tuple[AntomDeps, Agreement, FakeAntom]]:
    await migrate_async(settings)
    engine = create_engine(settings)
    sessions = session_factory(engine)
    keys = load_key_ring(settings)
    now = utcnow()
    async with transaction(sessions) as session:
        installation = Installation(
            saleor_api_url="http://127.0.0.1:9/graphql/",
            app_id="QXBwOjE=",
            app_token_encrypted=keys.encrypt("token", TOKEN_PURPOSE),
        )
        session.add(installation)
        await session.flush()
        assert installation.id is not None
        config = ChannelConfig(
            installation_id=installation.id,
            channel_slug="hk-web",
            public_id="cfg_fake",
            client_id="SANDBOX_5Y000",
            merchant_private_key_encrypted="unused",
            antom_public_key="unused",
            region="asia",
            base_url="http://127.0.0.1:9",
            sandbox=True,
            enabled_wallets=["ALIPAY_HK"],
            created_at=now,
            updated_at=now,
        )
        session.add(config)
        await session.flush()
        assert config.id is not None
        agreement = Agreement(
            public_id="agr_fake",
            installation_id=installation.id,
            channel_config_id=config.id,
            channel_slug="hk-web",
            saleor_user_id="VXNlcjox",
            guest=False,
            wallet="ALIPAY_HK",
            access_token_encrypted=keys.encrypt("the-access-token", ACCESS_TOKEN_PURPOSE),
            access_token_sha256="0" * 64,
            status=AgreementStatus.ACTIVE,
            created_at=now,
            updated_at=now,
        )
        session.add(agreement)
    fake = FakeAntom()
    clients: AntomClients = FakeClients(fake, generate_private_key().public_key())
    try:
        yield AntomDeps(sessions=sessions, keys=keys, antom=clients), agreement, fake
    finally:
        await engine.dispose()


async def _status(deps: AntomDeps, agreement: Agreement) -> AgreementStatus:
    async with deps.sessions() as session:
        stored = await session.get(Agreement, agreement.id)
    assert stored is not None
    return stored.status


async def test_a_revocation_confirmed_by_antom_ends_the_agreement(
    agreement_deps: Setup,
) -> None:
    deps, agreement, fake = agreement_deps
    done = await revoke_at_antom(deps, agreement, "test", deadline=deadline_in(5))
    assert done is True
    assert fake.revoked == ["the-access-token"]
    assert await _status(deps, agreement) is AgreementStatus.REVOKED


async def test_no_answer_from_antom_leaves_the_agreement_active(
    agreement_deps: Setup,
) -> None:
    deps, agreement, fake = agreement_deps
    fake.answer = "UNAVAILABLE"
    done = await revoke_at_antom(deps, agreement, "test", deadline=deadline_in(5))
    assert done is False
    assert fake.revoked == ["the-access-token"]
    assert await _status(deps, agreement) is AgreementStatus.ACTIVE
