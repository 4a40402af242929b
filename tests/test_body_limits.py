"""Bodies are read as they stream in and refused as soon as they pass the limit, on the webhook
routes and on Antom's notification routes alike; a large body is never held whole."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from saleor_alipay_app.errors import TooLarge
from saleor_alipay_app.installations.webhooks import read_body

CHUNK = b"x" * 64_000


def _streaming_request(
    chunks: int, headers: list[tuple[bytes, bytes]]
) -> tuple[Request, list[int]]:
    pulled = [0]

    async def receive() -> dict[str, Any]:
        pulled[0] += 1
        return {"type": "http.request", "body": CHUNK, "more_body": pulled[0] < chunks}

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    return Request(scope, receive), pulled


async def test_a_chunked_body_is_refused_at_the_first_chunk_past_the_limit() -> None:
    request, pulled = _streaming_request(10_000, [])  # 640 MB, no Content-Length
    with pytest.raises(TooLarge):
        await read_body(request, 256_000)
    assert pulled[0] == 5  # 5 x 64 kB is the first read past 256 kB


async def test_a_declared_length_past_the_limit_is_refused_before_reading() -> None:
    request, pulled = _streaming_request(10, [(b"content-length", b"640000")])
    with pytest.raises(TooLarge):
        await read_body(request, 256_000)
    assert pulled[0] == 0


async def test_a_body_within_the_limit_is_read_whole() -> None:
    request, _ = _streaming_request(3, [])
    assert await read_body(request, 256_000) == CHUNK * 3
