"""The one base of expected failures: an HTTP status, a machine code, a message for the
merchant (what to fix) and one for the shopper (never revealing configuration).

Every door speaks it: the web app answers ``{"success": false, "error": {"code", "message"}}``
with the status, the CLI prints the merchant message, and the payment webhooks answer Saleor with
a failure result carrying the shopper message. Nothing was changed when one is raised.
"""

from __future__ import annotations

from typing import ClassVar

from fastapi.responses import JSONResponse


class AppError(Exception):
    """An expected refusal. Subclasses fix the status; ``status`` overrides it per instance."""

    status: ClassVar[int] = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        shopper_message: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.merchant_message = message
        self.shopper_message = shopper_message or message
        if status is not None:
            self.status_code = status
        else:
            self.status_code = type(self).status

    @property
    def message(self) -> str:
        return self.merchant_message

    def response(self) -> JSONResponse:
        return JSONResponse(
            status_code=self.status_code,
            content={"success": False, "error": {"code": self.code, "message": self.message}},
        )


class Invalid(AppError):
    """The input cannot be used as it is."""

    status = 400


class Unauthorized(AppError):
    status = 401


class Forbidden(AppError):
    status = 403


class NotFound(AppError):
    status = 404


class Conflict(AppError):
    """The record is not in a state that allows this."""

    status = 409


class TooLarge(AppError):
    status = 413


class Unavailable(AppError):
    """An upstream (Antom or Saleor) did not give a usable answer; try again."""

    status = 502


class PaymentError(AppError):
    """An expected failure of a payment flow, answered to Saleor as a failure result."""

    status = 400

    def __init__(
        self, code: str, shopper_message: str, merchant_message: str | None = None
    ) -> None:
        super().__init__(code, merchant_message or shopper_message, shopper_message=shopper_message)


class NotConfigured(PaymentError):
    def __init__(self, channel_slug: str) -> None:
        super().__init__(
            "NOT_CONFIGURED",
            "This payment method is not available right now.",
            f"Antom is not configured for channel {channel_slug!r}: run "
            "`saleor-alipay-app configure` for it.",
        )


class ConfigurationError(Invalid):
    """A channel configuration that cannot work; the message says what to fix."""

    def __init__(self, message: str) -> None:
        super().__init__("INVALID_CONFIGURATION", message)
