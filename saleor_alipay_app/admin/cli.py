"""Operators' commands: `agreements list|revoke` and `payments list|show|inquire`. The work is
the domains' `staff.py`, the same code the dashboard uses through the admin API; this module only
prints."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

import typer

from saleor_alipay_app.agreements import staff as agreement_staff
from saleor_alipay_app.agreements.repository import AgreementSearch
from saleor_alipay_app.installations.cli import (
    AsJson,
    Limit,
    SaleorApiUrl,
    installation_id,
    print_json,
    run_for_installation,
    time_text,
)
from saleor_alipay_app.installations.models import Installation
from saleor_alipay_app.payments import staff as payment_staff
from saleor_alipay_app.payments.deps import Services
from saleor_alipay_app.payments.repository import PaymentSearch


def _print_page(
    page: dict[str, Any], as_json: bool, line: Callable[[dict[str, Any]], str], noun: str
) -> None:
    """A page of a list: JSON, or one line per item and the count."""
    if as_json:
        print_json(page)
        return
    for item in page["items"]:
        typer.echo(line(item))
    typer.echo(f"{len(page['items'])} of {page['total']} {noun}(s)")


# -- agreements ---------------------------------------------------------------------------------

agreements_app = typer.Typer(
    help="Agreements (wallets shoppers bound): list and revoke.", no_args_is_help=True
)


def _agreement_line(a: dict[str, Any]) -> str:
    who = a["customerEmail"] or ("guest" if a["guest"] else "-")
    login = f" {a['userLoginId']}" if a["userLoginId"] else ""
    return (
        f"{a['id']}  {a['status']:<8} {a['walletName']}{login}  {who}"
        f" ({a['customerId'] or '-'})  {a['channel']}  created {time_text(a['createdAt'])}"
    )


@agreements_app.command("list")
def agreements_list(
    ctx: typer.Context,
    saleor_api_url: SaleorApiUrl = None,
    email: Annotated[str | None, typer.Option(help="The customer's email.")] = None,
    customer: Annotated[str | None, typer.Option(help="The Saleor customer id.")] = None,
    status: Annotated[str | None, typer.Option(help="ACTIVE, REVOKED, INVALID or EXPIRED.")] = None,
    wallet: Annotated[str | None, typer.Option(help="e.g. ALIPAY_HK.")] = None,
    limit: Limit = 50,
    as_json: AsJson = False,
) -> None:
    """List agreements, newest first."""

    async def work(services: Services, installation: Installation) -> dict[str, Any]:
        search = AgreementSearch(
            email=email,
            customer_id=customer,
            wallet=wallet,
            status=agreement_staff.parse_agreement_status(status),
            limit=limit,
        )
        return await agreement_staff.list_agreements(
            services.sessions, installation_id(installation), search
        )

    _print_page(
        run_for_installation(ctx, saleor_api_url, work), as_json, _agreement_line, "agreement"
    )


@agreements_app.command("revoke")
def agreements_revoke(
    ctx: typer.Context,
    agreement_id: Annotated[str, typer.Argument(help="The agreement id (agr_...).")],
    saleor_api_url: SaleorApiUrl = None,
    reason: Annotated[str, typer.Option(help="Recorded with the revocation.")] = "",
    as_json: AsJson = False,
) -> None:
    """Revoke an agreement: at Antom first, then here (the shopper must bind again)."""
    actor = "an operator (CLI)" + (f": {reason}" if reason else "")

    async def work(services: Services, installation: Installation) -> dict[str, Any]:
        await agreement_staff.revoke_agreement(
            services.payments, installation_id(installation), agreement_id, actor=actor
        )
        return await payment_staff.agreement_detail(
            services.sessions, installation_id(installation), agreement_id
        )

    result = run_for_installation(ctx, saleor_api_url, work)
    if as_json:
        print_json(result)
        return
    typer.echo(f"revoked at Antom: {_agreement_line(result)}")


# -- payments -----------------------------------------------------------------------------------

payments_app = typer.Typer(
    help="Payments: list, show with their history, ask Antom now.", no_args_is_help=True
)


def _payment_line(p: dict[str, Any]) -> str:
    refunded = f" (refunded {p['refundedAmount']})" if Decimal(p["refundedAmount"]) else ""
    return (
        f"{p['paymentRequestId']}  {p['status']:<16} {p['amount']} {p['currency']}{refunded}"
        f"  {p['walletName']}  {p['channel']}  {time_text(p['createdAt'])}"
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
        f"  created       {time_text(p['createdAt'])}, paid {time_text(p['paidAt'])}",
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
        f"  {time_text(h['createdAt'])}  {h['subject']:<9} {h['status']:<24} {h['reference']}"
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
                f"  {time_text(n['receivedAt'])}  {n['kind']:<13} {what}{status}"
                f"  deliveries {n['deliveries']}{error}"
            )
    if p["reports"]:
        lines.append("reports to Saleor:")
        lines += [
            f"  {time_text(r['createdAt'])}  {r['eventType']:<16} {r['status']:<7} "
            f"{r['amount'] or '-'}  {r['pspReference']}  attempts {r['attempts']}"
            + (f"  error: {r['lastError']}" if r["lastError"] else "")
            for r in p["reports"]
        ]
    return lines


@payments_app.command("list")
def payments_list(
    ctx: typer.Context,
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

    async def work(services: Services, installation: Installation) -> dict[str, Any]:
        query = PaymentSearch(
            q=search,
            status=payment_staff.parse_payment_status(status),
            wallet=wallet,
            limit=limit,
        )
        return await payment_staff.list_payments(
            services.sessions, installation_id(installation), query
        )

    page = run_for_installation(ctx, saleor_api_url, work)
    _print_page(page, as_json, _payment_line, "payment")


@payments_app.command("show")
def payments_show(
    ctx: typer.Context,
    payment_request_id: Annotated[str, typer.Argument(help="The paymentRequestId (saa-...).")],
    saleor_api_url: SaleorApiUrl = None,
    as_json: AsJson = False,
) -> None:
    """A payment with its refunds, history, Antom's notifications and the reports to Saleor."""

    async def work(services: Services, installation: Installation) -> dict[str, Any]:
        return await payment_staff.payment_detail(
            services.sessions, services.keys, installation_id(installation), payment_request_id
        )

    result = run_for_installation(ctx, saleor_api_url, work)
    if as_json:
        print_json(result)
        return
    for line in _payment_text(result):
        typer.echo(line)


@payments_app.command("inquire")
def payments_inquire(
    ctx: typer.Context,
    payment_request_id: Annotated[str, typer.Argument(help="The paymentRequestId (saa-...).")],
    saleor_api_url: SaleorApiUrl = None,
    as_json: AsJson = False,
) -> None:
    """Ask Antom now where a payment and its unfinished refunds stand (and record the answer)."""

    async def work(services: Services, installation: Installation) -> dict[str, Any]:
        return await payment_staff.inquire_payment(
            services.payments, installation_id(installation), payment_request_id
        )

    result = run_for_installation(ctx, saleor_api_url, work)
    if as_json:
        print_json(result)
        return
    typer.echo(result["message"])
    typer.echo(_payment_line(result["payment"]))
