"""Hostile installations: `POST /api/register` with mutated bodies and junk `Saleor-Api-Url`s.
Each answer is a declared refusal that stores nothing, or the installation (re)made."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import event as note
from hypothesis import given
from hypothesis import strategies as st

from .harness import Hostile, app_error_shape, examples, hostile_stack
from .mutations import JUNK_TEXT, hostile_body

# Saleor-Api-Url values the app must refuse before calling anything (or that name the
# Saleor double itself). A URL of the allowed pattern whose port nothing listens on is no
# input error: the app answers 502, Saleor unreachable, as it should.
API_URLS = [
    "",
    "graphql",
    "ftp://127.0.0.1:8000/graphql/",
    "http://",
    "http:///graphql/",
    "http://127.0.0.1:99999/graphql/",
    "http://127.0.0.1:-1/graphql/",
    "http://127.0.0.1:abc/graphql/",
    "http://127.0.0.1:0/graphql/",
    "http://[::1/graphql/",
    "http://127.0.0.1:8000/graphql/../../admin",
    "http://example.com/graphql/",
    "https://127.0.0.1:8000/graphql/",
    "http://user:pass@127.0.0.1:8000/graphql/",
    "http://127.0.0.1:8000/graphql/?x=1",
    "http://127.0.0.1:8000/graphql/#x",
    "http://127.0.0.1:８０/graphql/",
    "http://127.0.0.1:" + "9" * 50 + "/graphql/",
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    with hostile_stack(tmp_path_factory.mktemp("register")) as running:
        yield running


def header_text() -> st.SearchStrategy[str]:
    """Header values httpx sends (ASCII, no line breaks) and uvicorn takes (short)."""
    printable = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
    safe = [t for t in JUNK_TEXT if t.isprintable() and t.isascii() and len(t) < 1000]
    # No leading or trailing space: no HTTP client sends one (h11 refuses to).
    values = st.one_of(st.text(printable, max_size=60), st.sampled_from(safe))
    return values.filter(lambda value: value == value.strip())


@examples(30)
@given(data=st.data())
def test_hostile_registrations(hostile: Hostile, data: st.DataObject) -> None:
    saleor = hostile.stack.saleor
    body = data.draw(
        hostile_body({"auth_token": saleor.installed_app.token}, ["auth_token"]), label="body"
    )
    api_url = data.draw(
        st.one_of(st.just(saleor.api_url), st.sampled_from(API_URLS), header_text()),
        label="Saleor-Api-Url",
    )
    headers = {  # as UTF-8 bytes: what a client can send, not only ASCII
        "Content-Type": b"application/json",
        "Saleor-Api-Url": api_url.encode(),
        "Saleor-Domain": data.draw(st.one_of(st.just(saleor.domain), header_text())).encode(),
    }

    async def send() -> Any:
        url = hostile.stack.url("/api/register")
        return await hostile.stack.http.post(url, content=body, headers=headers)

    async def exchange() -> Any:
        return await hostile.exchange("/api/register", send, error_shape=register_shape)

    response = hostile.run(exchange())
    note(f"HTTP {response.status_code}")


def register_shape(body: Any) -> bool:
    """What Saleor shows the merchant: ``{"error": {"message": ...}}`` (and a code)."""
    return app_error_shape(body)
