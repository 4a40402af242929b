"""Fixed foreign-exchange rates for settling in another currency than the payment's.

Real Antom quotes a rate per day; the sandbox uses one made-up table (US dollars per unit) so that
answers and reports are reproducible. Cross rates go through USD.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

from saleor_alipay_app.antom.money import Amount

__all__ = ["USD_PER_UNIT", "convert", "quote_price"]

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
