"""Talking to Saleor: JWKS over plain HTTP and GraphQL through `gql`.

`gql` executes the documents of `graphql/` over a small transport that borrows the process's one
pooled HTTP client (aiohttp underneath), so every installation shares one connection pool and
nothing opens a session per call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import httpx
from gql import Client, GraphQLRequest
from gql.transport.async_transport import AsyncTransport
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportProtocolError,
    TransportQueryError,
    TransportServerError,
)
from graphql import DocumentNode, ExecutionResult, parse

from saleor_alipay_app.saleor.documents import load_document


class SaleorError(Exception):
    """Saleor answered, but not with what we asked for (GraphQL errors, bad token...)."""


class SaleorUnavailable(SaleorError):
    """Saleor could not be reached or answered with a server error; try again later."""


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def jwks_url(saleor_api_url: str) -> str:
    """JWKS lives at the origin of the API URL, not under /graphql/."""
    parts = urlsplit(saleor_api_url)
    return f"{parts.scheme}://{parts.netloc}/.well-known/jwks.json"


class _SharedClientTransport(AsyncTransport):
    """A gql transport over a borrowed httpx client (it never closes the pool)."""

    def __init__(self, http: httpx.AsyncClient, url: str, token: str | None, timeout: float):
        self.http = http
        self.url = url
        self.headers = {"Content-Type": "application/json"}
        if token is not None:
            self.headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout

    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def execute(self, request: GraphQLRequest, *args: Any, **kwargs: Any) -> ExecutionResult:
        body = json.dumps(request.payload, default=_json_default, separators=(",", ":"))
        try:
            response = await self.http.post(
                self.url, content=body, headers=self.headers, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            raise TransportConnectionFailed(f"{type(exc).__name__} talking to Saleor") from exc
        if response.status_code >= 500:
            raise TransportServerError(f"Saleor answered HTTP {response.status_code}")
        try:
            result = json.loads(response.content, parse_float=Decimal)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise TransportProtocolError(
                f"Saleor answered HTTP {response.status_code} without JSON"
            ) from None
        if not isinstance(result, dict) or ("data" not in result and "errors" not in result):
            raise TransportProtocolError("Saleor's answer is not a GraphQL response")
        return ExecutionResult(data=result.get("data"), errors=result.get("errors"))

    def subscribe(self, request: GraphQLRequest) -> Any:
        raise TransportProtocolError("subscriptions are delivered by Saleor as webhooks")


@lru_cache(maxsize=64)
def document(relative_path: str) -> DocumentNode:
    """A parsed document of `graphql/` (parsed once per process)."""
    return parse(load_document(relative_path))


class SaleorClient:
    def __init__(self, http: httpx.AsyncClient, *, timeout: float = 10.0) -> None:
        self.http = http
        self.timeout = timeout

    async def fetch_jwks(self, saleor_api_url: str) -> dict[str, Any]:
        url = jwks_url(saleor_api_url)
        try:
            response = await self.http.get(url, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise SaleorUnavailable(f"cannot fetch Saleor's keys from {url}") from exc
        if response.status_code != 200:
            raise SaleorUnavailable(f"{url} answered HTTP {response.status_code}")
        try:
            jwks = response.json()
        except ValueError:
            raise SaleorError(f"{url} did not answer JSON") from None
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise SaleorError(f"{url} did not answer a JWKS document")
        return jwks

    async def execute(
        self,
        saleor_api_url: str,
        token: str | None,
        relative_path: str,
        variables: Mapping[str, Any] | None = None,
        *,
        optional: frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        """Run one document of `graphql/` against a Saleor and return its `data`. Errors raise,
        except those of the root fields named in ``optional`` when Saleor answered the others:
        such a field is then missing (None) from the data."""
        transport = _SharedClientTransport(self.http, saleor_api_url, token, self.timeout)
        request = GraphQLRequest(
            document(relative_path),
            variable_values=dict(variables) if variables is not None else None,
        )
        try:
            async with Client(transport=transport, execute_timeout=None) as session:
                data = await session.execute(request)
        except (TransportConnectionFailed, TransportServerError) as exc:
            raise SaleorUnavailable(str(exc)) from exc
        except TransportQueryError as exc:
            if optional and isinstance(exc.data, dict) and _only_in(exc.errors or [], optional):
                return dict(exc.data)
            raise SaleorError(f"Saleor refused {relative_path}: {_error_messages(exc)}") from exc
        except TransportProtocolError as exc:
            raise SaleorError(str(exc)) from exc
        return dict(data)


def _only_in(errors: list[Any], fields: frozenset[str]) -> bool:
    """Whether every error is located under one of the root ``fields`` (a GraphQL error's
    `path` starts with the field's name or alias)."""
    for error in errors:
        path = error.get("path") if isinstance(error, dict) else None
        if not isinstance(path, list) or not path or path[0] not in fields:
            return False
    return bool(errors)


def _error_messages(exc: TransportQueryError) -> str:
    errors = exc.errors or []
    messages = [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors]
    return "; ".join(messages) or str(exc)
