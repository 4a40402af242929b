"""Every query on channel configurations."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from saleor_alipay_app.channels.models import ChannelConfig


class ChannelConfigRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def config_for_channel(self, installation_id: int, slug: str) -> ChannelConfig | None:
        result = await self.session.execute(
            select(ChannelConfig).where(
                col(ChannelConfig.installation_id) == installation_id,
                col(ChannelConfig.channel_slug) == slug,
            )
        )
        return result.scalar_one_or_none()

    async def config_by_public_id(self, public_id: str) -> ChannelConfig | None:
        result = await self.session.execute(
            select(ChannelConfig).where(col(ChannelConfig.public_id) == public_id)
        )
        return result.scalar_one_or_none()

    async def config(self, config_id: int) -> ChannelConfig | None:
        return await self.session.get(ChannelConfig, config_id)

    async def configs(self, installation_id: int | None = None) -> list[ChannelConfig]:
        query = select(ChannelConfig).order_by(
            col(ChannelConfig.installation_id), col(ChannelConfig.channel_slug)
        )
        if installation_id is not None:
            query = query.where(col(ChannelConfig.installation_id) == installation_id)
        return list((await self.session.execute(query)).scalars())
