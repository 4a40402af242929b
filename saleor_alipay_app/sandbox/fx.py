"""Fixed foreign-exchange rates for settling in another currency than the payment's.

Real Antom quotes a rate per day; the sandbox uses one made-up table (US dollars per unit) so that
answers and reports are reproducible. Cross rates go through USD. A payment or refund settled in
another currency gets a quote locked for a day, shown in its answers and notifications.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Final

from saleor_alipay_app.antom.money import Amount

from .clock import fmt_time, new_digits
from .models import Money, SettlementQuote
from .protocol import AntomFailure

__all__ = ["USD_PER_UNIT", "convert", "quote", "quote_price", "settlement_fields"]

USD_PER_UNIT: Final[Mapping[str, Decimal]] = {
    "USD": Decimal("1"),
    "HKD": Decimal("0.1282"),
    "CNY": Decimal("0.1389"),
    "IDR": Decimal("0.0000632"),
    "PHP": Decimal("0.01724"),
    "KRW": Decimal("0.000719"),
    "MYR": Decimal("0.2128"),
    "THB": Decimal("0.02857"),
    "SGD": Decimal("0.7407"),
    "EUR": Decimal("1.08"),
    "GBP": Decimal("1.27"),
    "AUD": Decimal("0.66"),
    "JPY": Decimal("0.0067"),
    "TWD": Decimal("0.031"),
}

_PRICE_STEP: Final = Decimal("0.00000001")


def quote_price(source: str, target: str) -> Decimal:
    """Units of ``target`` per unit of ``source``; ``KeyError`` for a currency without a rate."""
    return (USD_PER_UNIT[source] / USD_PER_UNIT[target]).quantize(
        _PRICE_STEP, rounding=ROUND_HALF_EVEN
    )


def convert(amount: Amount, target: str, price: Decimal) -> Amount:
    """``amount`` × ``price`` in ``target``, with banker's rounding to what ``target`` allows."""
    return Amount.from_decimal_rounded(amount.to_decimal() * price, target)


def quote(amount: Amount, target: str, now: datetime) -> SettlementQuote | None:
    """A quote locked for a day, for ``amount`` settled in ``target`` (None: same currency)."""
    if target == amount.currency:
        return None
    try:
        price = quote_price(amount.currency, target)
    except KeyError:
        raise AntomFailure(
            "SETTLE_CONTRACT_NOT_MATCH",
            message=f"no settlement contract for {amount.currency} settled in {target}",
        ) from None
    return SettlementQuote(
        quote_id="Q" + new_digits(17),
        currency_pair=f"{amount.currency}/{target}",
        price=str(price),
        start_time=now,
        expiry_time=now + timedelta(days=1),
        gross_settlement=Money.of(convert(amount, target, price)),
    )


def settlement_fields(quote: SettlementQuote | None) -> dict[str, Any]:
    """``grossSettlementAmount`` and ``settlementQuote`` of an answer or notification."""
    if quote is None:
        return {}
    return {
        "grossSettlementAmount": quote.gross_settlement.to_api(),
        "settlementQuote": {
            "quoteId": quote.quote_id,
            "quoteCurrencyPair": quote.currency_pair,
            "quotePrice": quote.price,
            "quoteStartTime": fmt_time(quote.start_time),
            "quoteExpiryTime": fmt_time(quote.expiry_time),
            "guaranteed": "true",
        },
    }
