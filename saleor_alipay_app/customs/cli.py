"""CLI commands of after-payment work, mounted on the `saleor-alipay-app` script by `cli.py`:
`declare`, `declarations list|inquire`, `reconcile`."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from saleor_alipay_app.composition import open_services, pick_installation
from saleor_alipay_app.config import ConfigError, Settings, load_settings
from saleor_alipay_app.crypto import CryptoError
from saleor_alipay_app.customs import service as customs
from saleor_alipay_app.customs.models import DeclarationStatus
from saleor_alipay_app.errors import AppError
from saleor_alipay_app.logs import configure_logging
from saleor_alipay_app.reconciliation import service as reconciliation
from saleor_alipay_app.reconciliation.models import MISMATCH_KINDS, MatchKind

SaleorApiUrl = Annotated[
    str | None,
    typer.Option(help="Which installation (needed when several Saleors installed the app)."),
]


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level)
    return settings


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


@dataclass
class _Context:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    installation_id: int
    saleor_api_url: str
    deps: customs.CustomsDeps


@asynccontextmanager
async def _context(settings: Settings, saleor_api_url: str | None) -> AsyncIterator[_Context]:
    async with AsyncExitStack() as stack:
        try:
            services = await stack.enter_async_context(open_services(settings, migrate=True))
            installation = await pick_installation(services.sessions, saleor_api_url)
        except (CryptoError, AppError) as exc:
            raise _fail(str(exc)) from None
        assert installation.id is not None
        deps = customs.CustomsDeps(
            sessions=services.sessions, keys=services.keys, antom=services.payments.antom
        )
        yield _Context(
            settings, services.sessions, installation.id, installation.saleor_api_url, deps
        )


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(value.ljust(widths[i]) for i, value in enumerate(row)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _declaration_lines(item: dict[str, Any]) -> str:
    lines = [
        f"declaration {item['id']}: {item['declarationRequestId']}",
        f"  payment       {item['paymentRequestId']}",
        f"  customs       {item['customsCode']}"
        + (f" (split, suborder {item['suborderId']})" if item["splitOrder"] else ""),
        f"  amount        {item['currency']} {item['amount']}",
        f"  status        {item['status']}",
    ]
    if item.get("resultCode"):
        lines.append(f"  Antom result  {item['resultCode']} {item.get('resultMessage') or ''}")
    antom = item.get("antom") or {}
    for key in ("customsPaymentId", "identityCheckResult", "customsDeclarationResultCode"):
        if antom.get(key):
            lines.append(f"  {key:<13} {antom[key]}")
    return "\n".join(line.rstrip() for line in lines)


# -- declare ------------------------------------------------------------------------------------


def declare(
    payment_request_id: Annotated[str, typer.Argument(help="The payment's paymentRequestId.")],
    customs_code: Annotated[
        str, typer.Option(help=f"Customs: {', '.join(customs.KNOWN_CUSTOMS_CODES)}.")
    ],
    merchant_customs_code: Annotated[
        str, typer.Option(help="Your registration code at that customs.")
    ],
    merchant_customs_name: Annotated[str, typer.Option(help="Your name registered there.")],
    amount: Annotated[str, typer.Option(help="CNY to declare, e.g. 60.00.")],
    certificate_type: Annotated[str, typer.Option(help="ID_CARD or PASSPORT.")] = "",
    certificate_no: Annotated[str, typer.Option(help="The buyer's certificate number.")] = "",
    holder_name: Annotated[str, typer.Option(help="The buyer's full name.")] = "",
    split: Annotated[
        bool, typer.Option("--split", help="A split declaration (one of several).")
    ] = False,
    suborder_id: Annotated[str | None, typer.Option(help="Needed with --split.")] = None,
    saleor_api_url: SaleorApiUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Declare a paid Alipay CN payment to China customs (Antom customs/declare)."""
    settings = _settings()
    buyer = (
        customs.BuyerIdentity(certificate_type, certificate_no, holder_name)
        if certificate_type or certificate_no or holder_name
        else None
    )
    data = customs.DeclarationInput(
        customs_code=customs_code,
        merchant_customs_code=merchant_customs_code,
        merchant_customs_name=merchant_customs_name,
        amount=amount,
        split_order=split,
        suborder_id=suborder_id,
        buyer=buyer,
    )

    async def work() -> dict[str, Any]:
        async with _context(settings, saleor_api_url) as ctx:
            row = await customs.declare(ctx.deps, ctx.installation_id, payment_request_id, data)
            assert row.id is not None
            return await customs.declaration_detail(ctx.deps, ctx.installation_id, row.id)

    try:
        item = asyncio.run(work())
    except customs.DeclarationError as exc:
        raise _fail(f"not declared: {exc.message} ({exc.code})") from None
    typer.echo(json.dumps(item, indent=2) if as_json else _declaration_lines(item))
    if item["status"] == DeclarationStatus.FAILED.value:
        raise typer.Exit(1)


# -- declarations list | inquire --------------------------------------------------------------

declarations_app = typer.Typer(help="List and inquire customs declarations.", no_args_is_help=True)


@declarations_app.command("list")
def list_command(
    status: Annotated[
        str | None,
        typer.Option(help="PENDING, IN_PROCESS, COMPLETED, REJECTED or FAILED."),
    ] = None,
    payment_request_id: Annotated[str | None, typer.Option(help="One payment only.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    saleor_api_url: SaleorApiUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List declarations, newest first."""
    settings = _settings()
    wanted: DeclarationStatus | None = None
    if status:
        try:
            wanted = DeclarationStatus(status.upper())
        except ValueError:
            raise _fail(f"unknown status {status!r}") from None

    async def work() -> tuple[list[dict[str, Any]], int]:
        async with _context(settings, saleor_api_url) as ctx:
            rows, total = await customs.list_declarations(
                ctx.deps,
                ctx.installation_id,
                status=wanted,
                payment_request_id=payment_request_id,
                limit=limit,
            )
            return [customs.describe(r) for r in rows], total

    items, total = asyncio.run(work())
    if as_json:
        typer.echo(json.dumps({"items": items, "total": total}, indent=2))
        return
    typer.echo(
        _table(
            ["id", "declarationRequestId", "payment", "customs", "amount", "status", "updated"],
            [
                [
                    i["id"],
                    i["declarationRequestId"],
                    i["paymentRequestId"],
                    i["customsCode"] + (f"/{i['suborderId']}" if i["suborderId"] else ""),
                    f"{i['currency']} {i['amount']}",
                    i["status"],
                    i["updatedAt"][:19],
                ]
                for i in items
            ],
        )
    )
    typer.echo(f"{total} declaration(s)")


@declarations_app.command("inquire")
def inquire_command(
    ids: Annotated[
        list[int] | None,
        typer.Argument(help="Declaration ids (default: every PENDING or IN_PROCESS one)."),
    ] = None,
    saleor_api_url: SaleorApiUrl = None,
) -> None:
    """Ask Antom where declarations stand (10 per call) and store what changed."""
    settings = _settings()

    async def work() -> customs.InquiryResult:
        async with _context(settings, saleor_api_url) as ctx:
            return await customs.inquire(ctx.deps, ctx.installation_id, ids or None)

    result = asyncio.run(work())
    typer.echo(
        _table(
            ["id", "declarationRequestId", "status", "customs result"],
            [
                [
                    d.id,
                    d.declaration_request_id,
                    d.status.value,
                    " ".join(x for x in (d.customs_result_code, d.customs_result_desc) if x),
                ]
                for d in result.declarations
            ],
        )
    )
    for problem in result.problems:
        typer.echo(f"problem: {problem}", err=True)
    if result.problems:
        raise typer.Exit(1)


# -- reconcile --------------------------------------------------------------------------------


class _Progress:
    """One progress bar per file, on standard error."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._done = 0

    def start(self, path: Path, size: int) -> Callable[[int], None]:
        self.close()
        self._bar = typer.progressbar(
            length=max(size, 1), label=path.name, file=sys.stderr, show_eta=True
        )
        self._bar.__enter__()
        self._done = 0
        return self.update

    def update(self, done: int) -> None:
        if self._bar is not None and done > self._done:
            self._bar.update(done - self._done)
            self._done = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def _print_run(result: reconciliation.RunResult, notes: Sequence[str], show: int) -> None:
    typer.echo(f"reconciliation of {result.day.isoformat()}")
    if result.imports:
        typer.echo(
            _table(
                ["file", "report", "import", "rows"],
                [[i.name, i.kind.value, i.outcome.value, i.rows] for i in result.imports],
            )
        )
    else:
        typer.echo("no report files for this day")
    for note in notes:
        typer.echo(f"note: {note}")
    for error in result.errors:
        typer.echo(f"refused: {error}", err=True)
    record = result.record
    if record is None:
        return
    typer.echo(f"status: {record.status.value}")
    if result.errors:
        typer.echo("the day was not reconciled: fix or replace the refused file(s) and run again")
        return
    counts = reconciliation.counts_of(record)
    typer.echo(
        _table(
            ["result", "rows"],
            [
                ["matched", counts["matched"]],
                ["at Antom, missing here", counts["missingHere"]],
                ["here, missing at Antom", counts["missingAtAntom"]],
                ["amount/currency/status mismatch", counts["mismatched"]],
                ["settlement-only rows", counts["other"]],
            ],
        )
    )
    if record.currencies:
        typer.echo(
            _table(
                ["currency", "gross", "fees", "net", "summary"],
                [
                    [
                        c["currency"],
                        c["gross"],
                        c["fees"],
                        c["net"],
                        "checked" if c["summaryChecked"] else "; ".join(c["problems"]),
                    ]
                    for c in record.currencies
                ],
            )
        )
    if not record.has_transaction_report:
        typer.echo("note: no transaction details report imported for this day")


def _print_problems(detail: dict[str, Any] | None, show: int) -> None:
    if not detail or not detail["rows"]:
        return
    typer.echo(f"rows that do not match (first {show}):")
    typer.echo(
        _table(
            ["kind", "type", "transactionRequestId", "Antom", "here", "detail"],
            [
                [
                    r["kind"],
                    r["transactionType"],
                    r["transactionRequestId"],
                    f"{r['amount']} {r['currency']}" if r["amount"] else "",
                    " ".join(x for x in (r["ourAmount"], r["ourCurrency"], r["ourStatus"]) if x),
                    r["detail"] or "",
                ]
                for r in detail["rows"]
            ],
        )
    )


def reconcile(
    day: Annotated[str, typer.Option("--date", help="Antom's day (UTC+8), YYYY-MM-DD.")],
    folder: Annotated[
        Path | None,
        typer.Option(help="Folder with the day's report files (or its yyyyMMdd subfolder)."),
    ] = None,
    sftp: Annotated[
        bool, typer.Option("--sftp", help="Fetch the reports from RECONCILIATION_SFTP_*.")
    ] = False,
    show: Annotated[int, typer.Option(help="How many non-matching rows to print.")] = 50,
    saleor_api_url: SaleorApiUrl = None,
) -> None:
    """Import Antom's reports of a day and match them against our payments and refunds.

    Exit status 0 when everything matches, 1 when anything does not (or a file is refused),
    2 for a usage or configuration error.
    """
    settings = _settings()
    try:
        wanted = date.fromisoformat(day)
    except ValueError:
        raise _fail("--date must be YYYY-MM-DD") from None
    if (folder is None) == (not sftp):
        raise _fail("give either --folder DIR or --sftp")
    if folder is not None and not folder.is_dir():
        raise _fail(f"{folder} is not a folder")
    progress = _Progress()

    async def work(source: Path) -> tuple[reconciliation.RunResult, list[str], Any]:
        notes: list[str] = []
        async with _context(settings, saleor_api_url) as ctx:
            if sftp:
                from saleor_alipay_app.reconciliation.sftp import (
                    SftpError,
                    SftpSettings,
                    download_reports,
                )

                try:
                    notes += await download_reports(
                        SftpSettings.from_settings(settings), wanted, source
                    )
                except SftpError as exc:
                    raise _fail(str(exc)) from None
            files, skipped = reconciliation.report_files(source, wanted)
            notes += skipped
            try:
                result = await reconciliation.run(
                    ctx.sessions, ctx.installation_id, wanted, files, on_file=progress.start
                )
            finally:
                progress.close()
            problems = None
            if result.record is not None and not result.errors:
                problems = await reconciliation.day_detail(
                    ctx.sessions,
                    ctx.installation_id,
                    wanted,
                    kinds=[
                        MatchKind.MISSING_HERE,
                        MatchKind.MISSING_AT_ANTOM,
                        *sorted(MISMATCH_KINDS),
                    ],
                    limit=show,
                )
            return result, notes, problems

    if sftp:
        with tempfile.TemporaryDirectory(prefix="antom-reports-") as temp:
            result, notes, problems = asyncio.run(work(Path(temp)))
    else:
        assert folder is not None
        result, notes, problems = asyncio.run(work(folder))
    _print_run(result, notes, show)
    _print_problems(problems, show)
    if not result.ok:
        raise typer.Exit(1)
