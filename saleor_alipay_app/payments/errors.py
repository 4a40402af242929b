"""Expected failures of the payment flows, each with a message for the shopper and one for the
merchant (the shopper's never reveals configuration; the merchant's says what to fix)."""

from __future__ import annotations


class PaymentError(Exception):
    def __init__(self, code: str, shopper_message: str, merchant_message: str | None = None):
        super().__init__(merchant_message or shopper_message)
        self.code = code
        self.shopper_message = shopper_message
        self.merchant_message = merchant_message or shopper_message


class NotConfigured(PaymentError):
    def __init__(self, channel_slug: str) -> None:
        super().__init__(
            "NOT_CONFIGURED",
            "This payment method is not available right now.",
            f"Antom is not configured for channel {channel_slug!r}: run "
            "`saleor-alipay-app configure` for it.",
        )


class ConfigurationError(ValueError):
    """A channel configuration that cannot work; the message says what to fix."""
