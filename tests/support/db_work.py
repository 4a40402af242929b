"""Counting the database work of one request: its transactions and statements, from SQLAlchemy's
engine events, whatever else the app does meanwhile.

The stack serves the app behind `RequestTagging`, which marks each HTTP request's context; the
engine events record the mark of the context they run in (asyncio tasks, and so SQLAlchemy's
greenlets, inherit it), so work that a request starts in the background is counted with it.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_REQUEST: contextvars.ContextVar[str | None] = contextvars.ContextVar("request", default=None)
_numbers = itertools.count(1)


class RequestTagging:
    """ASGI middleware: each HTTP request runs with a mark ``"<n> <METHOD> <path>"``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:  # `state`, `routes`, ... of the wrapped app
        return getattr(self.app, name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _REQUEST.set(f"{next(_numbers)} {scope['method']} {scope['path']}")
        try:
            await self.app(scope, receive, send)
        finally:
            _REQUEST.reset(token)


@dataclass
class Work:
    """The transactions and statements each request ran, by request mark."""

    transactions: dict[str, int] = field(default_factory=dict)
    statements: dict[str, list[str]] = field(default_factory=dict)

    def requests(self) -> list[tuple[str, int, list[str]]]:
        """(mark, transactions, statements) of each request, in the order they came."""
        marks = sorted(
            {*self.transactions, *self.statements}, key=lambda m: int(m.split(" ", 1)[0])
        )
        return [(m, self.transactions.get(m, 0), self.statements.get(m, [])) for m in marks]


@contextlib.contextmanager
def counting(engine: AsyncEngine) -> Iterator[Work]:
    """Record the database work of every request while the block runs."""
    work = Work()
    sync = engine.sync_engine

    def on_begin(_conn: Any) -> None:
        mark = _REQUEST.get()
        if mark is not None:
            work.transactions[mark] = work.transactions.get(mark, 0) + 1

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        mark = _REQUEST.get()
        if mark is not None:
            work.statements.setdefault(mark, []).append(" ".join(statement.split())[:120])

    event.listen(sync, "begin", on_begin)
    event.listen(sync, "before_cursor_execute", on_statement)
    try:
        yield work
    finally:
        event.remove(sync, "begin", on_begin)
        event.remove(sync, "before_cursor_execute", on_statement)
