"""The one channel-configuration form, whichever door it comes through: the admin API (JSON in
camelCase), `configure`'s flags or its `--file` entries. `service.checked_config` applies the
one set of checks to it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class ChannelConfigForm(BaseModel):
    """A channel configuration as a person submits it; empty keys keep the stored ones."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    client_id: str = Field(max_length=128)
    merchant_private_key: str | None = None
    antom_public_key: str | None = None
    # The public key the merchant uploaded to Antom, when given: checked against the private key.
    merchant_public_key: str | None = None
    region: str = "asia"
    base_url: str | None = Field(default=None, max_length=512)
    sandbox: bool = False
    wallets: list[str] = Field(default_factory=list, max_length=20)
