"""The customs commands, mounted on the `saleor-alipay-app` script by `cli.py`: `declare` and
`declarations list|inquire`.

Commands get the process's services and their installation from `installations.cli`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer

from saleor_alipay_app.customs import schemas
from saleor_alipay_app.customs import service as customs
from saleor_alipay_app.customs.models import DeclarationStatus
from saleor_alipay_app.customs.rules import KNOWN_CUSTOMS_CODES
from saleor_alipay_app.errors import AppError
from saleor_alipay_app.installations.cli import (
    SaleorApiUrl,
    fail,
    installation_services,
    operator,
    table,
)


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
    command: typer.Context,
    payment_request_id: Annotated[str, typer.Argument(help="The payment's paymentRequestId.")],
    customs_code: Annotated[str, typer.Option(help=f"Customs: {', '.join(KNOWN_CUSTOMS_CODES)}.")],
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
    settings = operator(command).settings()
    buyer = (
        schemas.BuyerIdentity(certificate_type, certificate_no, holder_name)
        if certificate_type or certificate_no or holder_name
        else None
    )
    data = schemas.DeclarationInput(
        customs_code=customs_code,
        merchant_customs_code=merchant_customs_code,
        merchant_customs_name=merchant_customs_name,
        amount=amount,
        split_order=split,
        suborder_id=suborder_id,
        buyer=buyer,
    )

    async def work() -> dict[str, Any]:
        async with installation_services(command, settings, saleor_api_url) as ctx:
            deps = ctx.services.payments
            row = await customs.declare(deps, ctx.installation_id, payment_request_id, data)
            assert row.id is not None
            found, history = await customs.get_declaration(deps, ctx.installation_id, row.id)
            return schemas.describe_detail(found, history, deps.keys)

    try:
        item = asyncio.run(work())
    except AppError as exc:
        raise fail(f"not declared: {exc.message} ({exc.code})") from None
    typer.echo(json.dumps(item, indent=2) if as_json else _declaration_lines(item))
    if item["status"] == DeclarationStatus.FAILED.value:
        raise typer.Exit(1)


# -- declarations list | inquire --------------------------------------------------------------

declarations_app = typer.Typer(help="List and inquire customs declarations.", no_args_is_help=True)


@declarations_app.command("list")
def list_command(
    command: typer.Context,
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
    settings = operator(command).settings()
    wanted: DeclarationStatus | None = None
    if status:
        try:
            wanted = DeclarationStatus(status.upper())
        except ValueError:
            raise fail(f"unknown status {status!r}") from None

    async def work() -> tuple[list[dict[str, Any]], int]:
        async with installation_services(command, settings, saleor_api_url) as ctx:
            rows, total = await customs.list_declarations(
                ctx.services.payments,
                ctx.installation_id,
                status=wanted,
                payment_request_id=payment_request_id,
                limit=limit,
            )
            return [schemas.describe(r) for r in rows], total

    items, total = asyncio.run(work())
    if as_json:
        typer.echo(json.dumps({"items": items, "total": total}, indent=2))
        return
    typer.echo(
        table(
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
    command: typer.Context,
    ids: Annotated[
        list[int] | None,
        typer.Argument(help="Declaration ids (default: every PENDING or IN_PROCESS one)."),
    ] = None,
    saleor_api_url: SaleorApiUrl = None,
) -> None:
    """Ask Antom where declarations stand (10 per call) and store what changed."""
    settings = operator(command).settings()

    async def work() -> customs.InquiryResult:
        async with installation_services(command, settings, saleor_api_url) as ctx:
            return await customs.inquire(ctx.services.payments, ctx.installation_id, ids or None)

    result = asyncio.run(work())
    typer.echo(
        table(
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
