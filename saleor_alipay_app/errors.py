"""Refusals in the form Saleor shows to merchants: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from fastapi.responses import JSONResponse


class ApiError(Exception):
    """An expected refusal: an HTTP status, a machine code and a message a person can act on."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message

    def response(self) -> JSONResponse:
        return JSONResponse(
            status_code=self.status_code,
            content={"success": False, "error": {"code": self.code, "message": self.message}},
        )
