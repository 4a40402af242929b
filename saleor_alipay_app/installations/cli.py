"""What every command shares: the installation it works on (`--saleor-api-url`), how it gets the
process's services (the composition root puts an `Operator` in typer's context, so no domain
imports the root), how an `AppError` ends it, and the output helpers."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypeVar, cast

import typer

from saleor_alipay_app.config import Settings
from saleor_alipay_app.crypto import CryptoError
from saleor_alipay_app.errors import AppError
from saleor_alipay_app.installations.models import Installation
from saleor_alipay_app.installations.service import pick_installation

T = TypeVar("T")

SaleorApiUrl = Annotated[
    str | None,
    typer.Option(help="Which installation (needed when several Saleors installed the app)."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
Limit = Annotated[int, typer.Option(help="At most this many rows (newest first).")]


class Operator(Protocol):
    """Handed to every command by the composition root (as typer's context object)."""

    def settings(self) -> Settings:
        """The settings, logging configured; exits 2 saying what to fix when they are wrong."""
        ...

    def services(self, settings: Settings) -> AbstractAsyncContextManager[Any]:
        """The process's services (`payments.deps.Services`), the database migrated."""
        ...


def operator(ctx: typer.Context) -> Operator:
    if ctx.obj is None:
        raise RuntimeError("run commands through the saleor-alipay-app script")
    return cast(Operator, ctx.obj)


NOT_INSTALLED = {"NO_INSTALLATION", "UNKNOWN_INSTALLATION"}


def where_installations_are(settings: Settings) -> str:
    """Which database a command looked in for installations, and what to do when it is the
    wrong one: the SQLite file (and the development key) are relative to the folder `serve`
    runs in."""
    if settings.is_sqlite:
        path = settings.sqlite_path
        where = f"the SQLite file {path.resolve()}" if path is not None else "an in-memory SQLite"
    else:
        where = "the PostgreSQL database " + re.sub(r"//[^@/]*@", "//", settings.database_url)
    return (
        f"looked in {where} (DATABASE_URL). Run this command in the folder where `serve` runs, "
        "with the same DATABASE_URL and ENCRYPTION_KEY, after installing the app from the "
        "Saleor dashboard"
    )


def explained(exc: AppError, settings: Settings) -> str:
    """An error's message, with where the command looked when no installation was found."""
    if exc.code in NOT_INSTALLED:
        return f"{exc.message}; {where_installations_are(settings)}"
    return exc.message


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` on standard error; the exit to raise (2: usage or configuration)."""
    typer.echo(message, err=True)
    return typer.Exit(code)


@dataclass(frozen=True)
class InstallationContext:
    services: Any  # payments.deps.Services
    installation: Installation

    @property
    def installation_id(self) -> int:
        assert self.installation.id is not None
        return self.installation.id


@asynccontextmanager
async def installation_services(
    ctx: typer.Context, settings: Settings, saleor_api_url: str | None
) -> AsyncIterator[InstallationContext]:
    """The services and the chosen installation; a refusal exits 2 with its message."""
    async with AsyncExitStack() as stack:
        try:
            services = await stack.enter_async_context(operator(ctx).services(settings))
            installation = await pick_installation(services.sessions, saleor_api_url)
        except AppError as exc:
            raise fail(explained(exc, settings)) from None
        except CryptoError as exc:
            raise fail(str(exc)) from None
        yield InstallationContext(services, installation)


def run_for_installation(
    ctx: typer.Context,
    saleor_api_url: str | None,
    work: Callable[[Any, Installation], Awaitable[T]],
) -> T:
    """Run ``work(services, installation)``; an `AppError` exits 1 (2 for bad input)."""
    settings = operator(ctx).settings()

    async def run() -> T:
        async with operator(ctx).services(settings) as services:
            installation = await pick_installation(services.sessions, saleor_api_url)
            return await work(services, installation)

    try:
        return asyncio.run(run())
    except AppError as exc:
        typer.echo(f"{explained(exc, settings)} ({exc.code})", err=True)
        raise typer.Exit(2 if exc.status_code == 400 else 1) from None
    except CryptoError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def installation_id(installation: Installation) -> int:
    assert installation.id is not None
    return installation.id


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def time_text(value: str | None) -> str:
    return (value or "-")[:19].replace("T", " ")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table: a header row, a rule, then the rows (None prints empty)."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(value.ljust(widths[i]) for i, value in enumerate(row)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
