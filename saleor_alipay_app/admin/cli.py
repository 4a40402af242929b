"""Operators' commands, mounted on the `saleor-alipay-app` script by `cli.py`:
`agreements list|revoke` and `payments list|show|inquire`. The work is `operations`, the same
code the dashboard pages use through the admin API; this module only prints."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import typer

from saleor_alipay_app.agreements import staff as agreement_staff
from saleor_alipay_app.composition import open_services, pick_installation
from saleor_alipay_app.config import ConfigError, Settings, load_settings
from saleor_alipay_app.crypto import CryptoError
from saleor_alipay_app.errors import AppError
from saleor_alipay_app.installations.repository import Installation
from saleor_alipay_app.logs import configure_logging
from saleor_alipay_app.payments import staff as payment_staff
from saleor_alipay_app.payments.admin_repository import AgreementSearch, PaymentSearch
from saleor_alipay_app.payments.deps import PaymentDeps

T = TypeVar("T")

agreements_app = typer.Typer(
    help="Agreements (wallets shoppers bound): list and revoke.", no_args_is_help=True
)
payments_app = typer.Typer(
    help="Payments: list, show with their history, ask Antom now.", no_args_is_help=True
)

SaleorApiUrl = Annotated[
    str | None,
    typer.Option(help="Which installation (needed when several Saleors installed the app)."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
Limit = Annotated[int, typer.Option(help="At most this many rows (newest first).")]


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level)
    return settings


def _operate(
    saleor_api_url: str | None, work: Callable[[PaymentDeps, Installation], Awaitable[T]]
) -> T:
    """Run ``work`` for the chosen installation; an `AppError` exits 1 (2 for bad input)."""
    settings = _settings()
    from saleor_alipay_app.db import migrate

    migrate(settings)

    async def run() -> T:
        async with open_services(settings) as services:
            installation = await pick_installation(services.sessions, saleor_api_url)
            return await work(services.payments, installation)

    try:
        return asyncio.run(run())
    except AppError as exc:
        typer.echo(f"{exc.message} ({exc.code})", err=True)
        raise typer.Exit(2 if exc.status_code == 400 else 1) from None
    except CryptoError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def _id(installation: Installation) -> int:
    assert installation.id is not None
    return installation.id


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _time(value: str | None) -> str:
    return (value or "-")[:19].replace("T", " ")


def _agreement_line(a: dict[str, Any]) -> str:
    who = a["customerEmail"] or ("guest" if a["guest"] else "-")
    login = f" {a['userLoginId']}" if a["userLoginId"] else ""
    return (
        f"{a['id']}  {a['status']:<8} {a['walletName']}{login}  {who}"
        f" ({a['customerId'] or '-'})  {a['channel']}  created {_time(a['createdAt'])}"
    )


def _payment_line(p: dict[str, Any]) -> str:
    refunded = f" (refunded {p['refundedAmount']})" if Decimal(p["refundedAmount"]) else ""
    return (
        f"{p['paymentRequestId']}  {p['status']:<16} {p['amount']} {p['currency']}{refunded}"
        f"  {p['walletName']}  {p['channel']}  {_time(p['createdAt'])}"
        f"  Antom {p['paymentId'] or '-'}  {p['resultCode'] or ''}".rstrip()
    )


def _payment_text(p: dict[str, Any]) -> list[str]:
    lines = [
        f"payment {p['paymentRequestId']}: {p['status']}",
        f"  amount        {p['amount']} {p['currency']} (refunded {p['refundedAmount']})",
        f"  Antom id      {p['paymentId'] or '-'}",
        f"  transaction   {p['transactionId']} (attempt {p['attempt']})",
        f"  channel       {p['channel']}, wallet {p['walletName']}",
        f"  customer      {p['customerId'] or '-'}, agreement {p['agreementId'] or '-'}",
        f"  result        {p['resultCode'] or '-'} {p['resultMessage'] or ''}".rstrip(),
        f"  created       {_time(p['createdAt'])}, paid {_time(p['paidAt'])}",
    ]
    if p["refunds"]:
        lines.append("refunds:")
        lines += [
            f"  {r['refundRequestId']}  {r['status']:<10} {r['amount']} {r['currency']}"
            f"  {r['resultCode'] or ''}".rstrip()
            for r in p["refunds"]
        ]
    lines.append("history:")
    lines += [
        f"  {_time(h['createdAt'])}  {h['subject']:<9} {h['status']:<24} {h['reference']}"
        + (f"  {h['detail']}" if h["detail"] else "")
        for h in p["history"]
    ]
    if p["notifications"]:
        lines.append("notifications from Antom:")
        for n in p["notifications"]:
            body = n["body"]
            what = body.get("notifyType") or body.get("authorizationNotifyType") or ""
            result = body.get("result") or {}
            status = f" {result.get('resultStatus')}/{result.get('resultCode')}" if result else ""
            error = f"  error: {n['lastError']}" if n["lastError"] else ""
            lines.append(
                f"  {_time(n['receivedAt'])}  {n['kind']:<13} {what}{status}"
                f"  deliveries {n['deliveries']}{error}"
            )
    if p["reports"]:
        lines.append("reports to Saleor:")
        lines += [
            f"  {_time(r['createdAt'])}  {r['eventType']:<16} {r['status']:<7} "
            f"{r['amount'] or '-'}  {r['pspReference']}  attempts {r['attempts']}"
            + (f"  error: {r['lastError']}" if r["lastError"] else "")
            for r in p["reports"]
        ]
    return lines


# -- agreements ---------------------------------------------------------------------------------


@agreements_app.command("list")
def agreements_list(
    saleor_api_url: SaleorApiUrl = None,
    email: Annotated[str | None, typer.Option(help="The customer's email.")] = None,
    customer: Annotated[str | None, typer.Option(help="The Saleor customer id.")] = None,
    status: Annotated[str | None, typer.Option(help="ACTIVE, REVOKED, INVALID or EXPIRED.")] = None,
    wallet: Annotated[str | None, typer.Option(help="e.g. ALIPAY_HK.")] = None,
    limit: Limit = 50,
    as_json: AsJson = False,
) -> None:
    """List agreements, newest first."""

    async def work(deps: PaymentDeps, installation: Installation) -> dict[str, Any]:
        search = AgreementSearch(
            email=email,
            customer_id=customer,
            wallet=wallet,
            status=agreement_staff.parse_agreement_status(status),
            limit=limit,
        )
        return await agreement_staff.list_agreements(deps.sessions, _id(installation), search)

    result = _operate(saleor_api_url, work)
    if as_json:
        _print_json(result)
        return
    for item in result["items"]:
        typer.echo(_agreement_line(item))
    typer.echo(f"{len(result['items'])} of {result['total']} agreement(s)")


@agreements_app.command("revoke")
def agreements_revoke(
    agreement_id: Annotated[str, typer.Argument(help="The agreement id (agr_...).")],
    saleor_api_url: SaleorApiUrl = None,
    reason: Annotated[str, typer.Option(help="Recorded with the revocation.")] = "",
    as_json: AsJson = False,
) -> None:
    """Revoke an agreement: at Antom first, then here (the shopper must bind again)."""
    actor = "an operator (CLI)" + (f": {reason}" if reason else "")

    async def work(deps: PaymentDeps, installation: Installation) -> dict[str, Any]:
        return await agreement_staff.revoke_agreement(
            deps, _id(installation), agreement_id, actor=actor
        )

    result = _operate(saleor_api_url, work)
    if as_json:
        _print_json(result)
        return
    typer.echo(f"revoked at Antom: {_agreement_line(result)}")


# -- payments -----------------------------------------------------------------------------------


@payments_app.command("list")
def payments_list(
    saleor_api_url: SaleorApiUrl = None,
    status: Annotated[
        str | None,
        typer.Option(help="AWAITING_BINDING, PROCESSING, SUCCEEDED, FAILED or CANCELLED."),
    ] = None,
    wallet: Annotated[str | None, typer.Option(help="e.g. ALIPAY_HK.")] = None,
    search: Annotated[
        str | None,
        typer.Option(help="A paymentRequestId, Antom paymentId or Saleor transaction id."),
    ] = None,
    limit: Limit = 50,
    as_json: AsJson = False,
) -> None:
    """List payments, newest first."""

    async def work(deps: PaymentDeps, installation: Installation) -> dict[str, Any]:
        query = PaymentSearch(
            q=search,
            status=payment_staff.parse_payment_status(status),
            wallet=wallet,
            limit=limit,
        )
        return await payment_staff.list_payments(deps.sessions, _id(installation), query)

    result = _operate(saleor_api_url, work)
    if as_json:
        _print_json(result)
        return
    for item in result["items"]:
        typer.echo(_payment_line(item))
    typer.echo(f"{len(result['items'])} of {result['total']} payment(s)")


@payments_app.command("show")
def payments_show(
    payment_request_id: Annotated[str, typer.Argument(help="The paymentRequestId (saa-...).")],
    saleor_api_url: SaleorApiUrl = None,
    as_json: AsJson = False,
) -> None:
    """A payment with its refunds, history, Antom's notifications and the reports to Saleor."""

    async def work(deps: PaymentDeps, installation: Installation) -> dict[str, Any]:
        return await payment_staff.payment_detail(
            deps.sessions, deps.keys, _id(installation), payment_request_id
        )

    result = _operate(saleor_api_url, work)
    if as_json:
        _print_json(result)
        return
    for line in _payment_text(result):
        typer.echo(line)


@payments_app.command("inquire")
def payments_inquire(
    payment_request_id: Annotated[str, typer.Argument(help="The paymentRequestId (saa-...).")],
    saleor_api_url: SaleorApiUrl = None,
    as_json: AsJson = False,
) -> None:
    """Ask Antom now where a payment and its unfinished refunds stand (and record the answer)."""

    async def work(deps: PaymentDeps, installation: Installation) -> dict[str, Any]:
        return await payment_staff.inquire_payment(deps, _id(installation), payment_request_id)

    result = _operate(saleor_api_url, work)
    if as_json:
        _print_json(result)
        return
    typer.echo(result["message"])
    typer.echo(_payment_line(result["payment"]))
