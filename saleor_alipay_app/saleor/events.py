"""The payment sync events the app subscribes to (APP-PROTOCOL.md §4).

Each member knows how it appears everywhere: its value is the enum name Saleor uses in manifests
(`syncEvents`), `header_value` the lowercase form of the `Saleor-Event` header, `path` the route
of our webhook, `document` the subscription file under `graphql/`, and `type_name` the GraphQL
type of its payload.
"""

from __future__ import annotations

from enum import StrEnum


class SyncEvent(StrEnum):
    PAYMENT_GATEWAY_INITIALIZE_SESSION = "PAYMENT_GATEWAY_INITIALIZE_SESSION"
    TRANSACTION_INITIALIZE_SESSION = "TRANSACTION_INITIALIZE_SESSION"
    TRANSACTION_PROCESS_SESSION = "TRANSACTION_PROCESS_SESSION"
    TRANSACTION_CHARGE_REQUESTED = "TRANSACTION_CHARGE_REQUESTED"
    TRANSACTION_CANCELATION_REQUESTED = "TRANSACTION_CANCELATION_REQUESTED"
    TRANSACTION_REFUND_REQUESTED = "TRANSACTION_REFUND_REQUESTED"
    LIST_STORED_PAYMENT_METHODS = "LIST_STORED_PAYMENT_METHODS"
    STORED_PAYMENT_METHOD_DELETE_REQUESTED = "STORED_PAYMENT_METHOD_DELETE_REQUESTED"
    PAYMENT_GATEWAY_INITIALIZE_TOKENIZATION_SESSION = (
        "PAYMENT_GATEWAY_INITIALIZE_TOKENIZATION_SESSION"
    )
    PAYMENT_METHOD_INITIALIZE_TOKENIZATION_SESSION = (
        "PAYMENT_METHOD_INITIALIZE_TOKENIZATION_SESSION"
    )
    PAYMENT_METHOD_PROCESS_TOKENIZATION_SESSION = "PAYMENT_METHOD_PROCESS_TOKENIZATION_SESSION"

    @classmethod
    def from_header(cls, value: str) -> SyncEvent:
        """The event named by a `Saleor-Event` header (lowercase, but any case is accepted)."""
        try:
            return cls(value.strip().upper())
        except ValueError:
            raise ValueError(f"not a payment sync event: {value!r}") from None

    @property
    def header_value(self) -> str:
        """The value of the `Saleor-Event` header on deliveries of this event."""
        return self.value.lower()

    @property
    def path(self) -> str:
        """URL path of our webhook route for this event."""
        return "/api/webhooks/" + self.value.lower().replace("_", "-")

    @property
    def document(self) -> str:
        """Path of the subscription document, relative to the `graphql/` folder."""
        return f"subscriptions/{self.value.lower()}.graphql"

    @property
    def type_name(self) -> str:
        """The GraphQL type of the event payload, e.g. `TransactionInitializeSession`."""
        return "".join(part.capitalize() for part in self.value.split("_"))

    @property
    def webhook_name(self) -> str:
        """Human name of the manifest webhook, e.g. `Transaction initialize session`."""
        return self.value.replace("_", " ").capitalize()

    @property
    def min_saleor_version(self) -> tuple[int, int]:
        """The first Saleor (major, minor) that sends this event."""
        return _MIN_SALEOR_VERSION[self]


_MIN_SALEOR_VERSION: dict[SyncEvent, tuple[int, int]] = {
    SyncEvent.PAYMENT_GATEWAY_INITIALIZE_SESSION: (3, 13),
    SyncEvent.TRANSACTION_INITIALIZE_SESSION: (3, 13),
    SyncEvent.TRANSACTION_PROCESS_SESSION: (3, 13),
    SyncEvent.TRANSACTION_CHARGE_REQUESTED: (3, 13),
    SyncEvent.TRANSACTION_CANCELATION_REQUESTED: (3, 13),
    SyncEvent.TRANSACTION_REFUND_REQUESTED: (3, 13),
    SyncEvent.LIST_STORED_PAYMENT_METHODS: (3, 15),
    SyncEvent.STORED_PAYMENT_METHOD_DELETE_REQUESTED: (3, 16),
    SyncEvent.PAYMENT_GATEWAY_INITIALIZE_TOKENIZATION_SESSION: (3, 16),
    SyncEvent.PAYMENT_METHOD_INITIALIZE_TOKENIZATION_SESSION: (3, 16),
    SyncEvent.PAYMENT_METHOD_PROCESS_TOKENIZATION_SESSION: (3, 16),
}
