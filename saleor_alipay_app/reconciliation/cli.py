"""The `reconcile` command, mounted on the `saleor-alipay-app` script by `cli.py`: import a
day's reports from a folder or Antom's SFTP server, match them, and print the result.

Exit status 0 when everything matches, 1 when anything does not (or a file is refused), 2 for
a usage or configuration error. The installation context, the usage-error exit and the table
printer are the customs CLI's (`saleor_alipay_app.customs.cli`).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from saleor_alipay_app.installations.cli import (
    SaleorApiUrl,
    fail,
    installation_services,
    operator,
    table,
)
from saleor_alipay_app.reconciliation import schemas
from saleor_alipay_app.reconciliation import service as reconciliation
from saleor_alipay_app.reconciliation.importing import report_files
from saleor_alipay_app.reconciliation.models import MISMATCH_KINDS, MatchKind


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
            table(
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
    counts = schemas.counts_of(record)
    typer.echo(
        table(
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
            table(
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
        table(
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
    command: typer.Context,
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
    settings = operator(command).settings()
    try:
        wanted = date.fromisoformat(day)
    except ValueError:
        raise fail("--date must be YYYY-MM-DD") from None
    if (folder is None) == (not sftp):
        raise fail("give either --folder DIR or --sftp")
    if folder is not None and not folder.is_dir():
        raise fail(f"{folder} is not a folder")
    progress = _Progress()

    async def work(
        source: Path,
    ) -> tuple[reconciliation.RunResult, list[str], dict[str, Any] | None]:
        notes: list[str] = []
        async with installation_services(command, settings, saleor_api_url) as ctx:
            sessions = ctx.services.sessions
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
                    raise fail(str(exc)) from None
            files, skipped = report_files(source, wanted)
            notes += skipped
            try:
                result = await reconciliation.run(
                    sessions, ctx.installation_id, wanted, files, on_file=progress.start
                )
            finally:
                progress.close()
            problems: dict[str, Any] | None = None
            if result.record is not None and not result.errors:
                detail = await reconciliation.day_detail(
                    sessions,
                    ctx.installation_id,
                    wanted,
                    kinds=[
                        MatchKind.MISSING_HERE,
                        MatchKind.MISSING_AT_ANTOM,
                        *sorted(MISMATCH_KINDS),
                    ],
                    limit=show,
                )
                if detail is not None:
                    problems = schemas.describe_day_detail(detail)
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
