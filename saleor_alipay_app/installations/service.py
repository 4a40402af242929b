"""Finding installations: the one a command works on (named by its Saleor API URL, or the only
one), and the ones webhooks name, kept in memory per process."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from saleor_alipay_app.db import KeptRows, Sessions
from saleor_alipay_app.errors import Invalid, NotFound
from saleor_alipay_app.installations.models import Installation
from saleor_alipay_app.installations.repository import InstallationRepository, normalize_api_url


async def pick_installation(sessions: Sessions, api_url: str | None) -> Installation:
    """The installation named by its Saleor API URL, or the only one there is."""
    async with sessions() as session:
        repo = InstallationRepository(session)
        if api_url:
            found = await repo.get_by_api_url(api_url)
            if found is None:
                raise NotFound(
                    "UNKNOWN_INSTALLATION",
                    f"the app is not installed in {api_url}: install it from that Saleor first",
                )
            return found
        installations = await repo.list_all()
    if not installations:
        raise NotFound("NO_INSTALLATION", "no Saleor has installed the app yet: install it first")
    if len(installations) > 1:
        urls = ", ".join(i.saleor_api_url for i in installations)
        raise Invalid(
            "SEVERAL_INSTALLATIONS",
            f"several Saleors installed the app ({urls}): pass --saleor-api-url",
        )
    return installations[0]


def installation_cache() -> KeptRows[str, Installation]:
    """Installations by the Saleor API URL their webhooks name, with their JWKS (see
    `db.KeptRows`): a registration clears them, a refused webhook reads its row again."""

    async def load(session: AsyncSession, api_url: str) -> Installation | None:
        return await InstallationRepository(session).get_by_api_url(api_url)

    return KeptRows(load, normalize_api_url)
