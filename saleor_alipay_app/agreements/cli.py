"""Operators' commands on agreements: `agreements list|revoke`. The work is `staff.py`, the same
code the dashboard uses through the admin API; this module only prints."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from saleor_alipay_app.agreements import staff
from saleor_alipay_app.agreements.repository import AgreementSearch
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
from saleor_alipay_app.payments.deps import PaymentDeps

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
            status=staff.parse_agreement_status(status),
            limit=limit,
        )
        return await staff.list_agreements(deps.sessions, installation_id(installation), search)

    result = run_for_installation(saleor_api_url, work)
    if as_json:
        print_json(result)
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
        return await staff.revoke_agreement(
            deps, installation_id(installation), agreement_id, actor=actor
        )

    result = run_for_installation(saleor_api_url, work)
    if as_json:
        print_json(result)
        return
    typer.echo(f"revoked at Antom: {_agreement_line(result)}")
