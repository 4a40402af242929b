"""Operators' commands on payments: `payments list|show|inquire`. The work is `staff.py`, the same
code the dashboard uses through the admin API; this module only prints."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import typer

from saleor_alipay_app.composition import (
    AsJson,
    Limit,
    SaleorApiUrl,
    installation_id,
    print_json,
    run_for_installation,
    time_text,
)
from saleor_alipay_app.installations.repository import Installation
from saleor_alipay_app.payments import staff
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.repository import PaymentSearch

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
            status=staff.parse_payment_status(status),
            wallet=wallet,
            limit=limit,
        )
        return await staff.list_payments(deps.sessions, installation_id(installation), query)

    result = run_for_installation(saleor_api_url, work)
    if as_json:
        print_json(result)
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
        return await staff.payment_detail(
            deps.sessions, deps.keys, installation_id(installation), payment_request_id
        )

    result = run_for_installation(saleor_api_url, work)
    if as_json:
        print_json(result)
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
        return await staff.inquire_payment(deps, installation_id(installation), payment_request_id)

    result = run_for_installation(saleor_api_url, work)
    if as_json:
        print_json(result)
        return
    typer.echo(result["message"])
    typer.echo(_payment_line(result["payment"]))
