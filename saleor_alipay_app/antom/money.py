"""Antom amounts: an ISO-4217 currency and a non-negative integer in minor units (API.md §4).

Conversions are exact or they fail: nothing here rounds unless asked to by name
(:meth:`Amount.from_decimal_rounded`). ``float`` is refused everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import Final, Self

__all__ = [
    "CURRENCIES",
    "MAX_VALUE_DIGITS",
    "Amount",
    "AmountError",
    "minor_digits",
]

MAX_VALUE_DIGITS: Final = 16
_MAX_VALUE: Final = 10**MAX_VALUE_DIGITS - 1

# The currencies Antom's amount rules know, with their minor digits (official SDK 1.7.1,
# tools/resources/amount-currency-rules.json, itself from docs.antom.com "Amount object usage
# rules" and ISO 4217).
CURRENCIES: Final[Mapping[str, int]] = {
    **dict.fromkeys(
        (
            "AUD", "BDT", "BRL", "CAD", "CNY", "EUR", "GBP", "HKD", "IDR", "MXN", "MYR",
            "NZD", "PEN", "PHP", "PKR", "PLN", "SGD", "THB", "TWD", "USD",
        ),
        2,
    ),
    **dict.fromkeys(("JPY", "KRW", "VND", "CLP"), 0),
}  # fmt: skip

# Antom keeps ISO's two digits for IDR but the rupiah has no cents: value must end in "00".
_VALUE_MULTIPLE: Final[Mapping[str, int]] = {"IDR": 100}

_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
_API_VALUE = re.compile(r"^[0-9]{1,16}$")


class AmountError(ValueError):
    """An amount that Antom cannot represent exactly, or a currency mismatch."""


def _check_currency(currency: object) -> str:
    if not isinstance(currency, str) or not _CURRENCY_CODE.match(currency):
        raise AmountError(f"invalid currency code {str(currency)[:8]!r}: expected 3 letters A-Z")
    if currency not in CURRENCIES:
        raise AmountError(f"unsupported currency {currency!r}")
    return currency


def minor_digits(currency: str) -> int:
    """Digits after the decimal point in Antom's ``value`` for ``currency`` (IDR: 2, JPY: 0)."""
    return CURRENCIES[_check_currency(currency)]


def _exact_context() -> Context:
    return Context(prec=64, traps=[InvalidOperation])


@dataclass(frozen=True)
class Amount:
    """An amount in minor units: ``Amount("HKD", 12345)`` is HKD 123.45."""

    currency: str
    value: int

    def __post_init__(self) -> None:
        _check_currency(self.currency)
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise AmountError(
                f"amount value must be an int of minor units, got {type(self.value).__name__}"
            )
        if self.value < 0:
            raise AmountError("amount must not be negative")
        if self.value > _MAX_VALUE:
            raise AmountError(f"amount value has more than {MAX_VALUE_DIGITS} digits")
        multiple = _VALUE_MULTIPLE.get(self.currency)
        if multiple is not None and self.value % multiple:
            raise AmountError(
                f"{self.currency} amounts must be whole units: value must end in "
                f"{'0' * (len(str(multiple)) - 1)} (got {self.value})"
            )

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def zero(cls, currency: str) -> Self:
        return cls(currency, 0)

    @classmethod
    def from_decimal(cls, amount: Decimal | int | str, currency: str) -> Self:
        """Exact conversion from major units; raises :class:`AmountError` instead of rounding."""
        digits = minor_digits(currency)
        number = _to_decimal(amount)
        quantized = number.quantize(
            Decimal(1).scaleb(-digits), rounding=ROUND_DOWN, context=_exact_context()
        )
        if quantized != number:
            raise AmountError(
                f"{currency} {number} has more decimals than {currency} allows ({digits}); "
                "refusing to round"
            )
        return cls(currency, int(quantized.scaleb(digits, context=_exact_context())))

    @classmethod
    def from_decimal_rounded(
        cls, amount: Decimal | int | str, currency: str, rounding: str = ROUND_HALF_EVEN
    ) -> Self:
        """Explicitly rounding conversion (banker's rounding by default; IDR to whole rupiah)."""
        digits = minor_digits(currency)
        number = _to_decimal(amount)
        multiple = _VALUE_MULTIPLE.get(currency, 1)
        step = Decimal(multiple).scaleb(-digits)
        units = (number / step).quantize(Decimal(1), rounding=rounding, context=_exact_context())
        return cls(currency, int(units) * multiple)

    @classmethod
    def from_api(cls, obj: Mapping[str, object]) -> Self:
        """Parse Antom's ``{"currency": "HKD", "value": "12345"}``, validating both fields."""
        if isinstance(obj, Amount):
            return cls(obj.currency, obj.value)
        if not isinstance(obj, Mapping):
            raise AmountError(f"amount must be an object, got {type(obj).__name__}")
        currency = obj.get("currency")
        value = obj.get("value")
        if isinstance(value, str):
            if not _API_VALUE.match(value):
                raise AmountError(
                    f"amount value must be a string of 1-{MAX_VALUE_DIGITS} digits "
                    f"(got {value[:20]!r})"
                )
            number = int(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            raise AmountError("amount value is missing or not a string of digits")
        return cls(_check_currency(currency), number)

    # -- conversion ---------------------------------------------------------------------------

    def to_decimal(self) -> Decimal:
        """Major units, quantized to the currency's digits (HKD 12345 → Decimal('123.45'))."""
        digits = minor_digits(self.currency)
        return Decimal(self.value).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))

    def to_api(self) -> dict[str, str]:
        return {"currency": self.currency, "value": str(self.value)}

    def __str__(self) -> str:
        return f"{self.currency} {self.to_decimal()}"

    # -- arithmetic and comparison within one currency -------------------------------------

    def _same(self, other: object, op: str) -> Amount:
        if not isinstance(other, Amount):
            raise TypeError(f"cannot {op} Amount and {type(other).__name__}")
        if other.currency != self.currency:
            raise AmountError(f"cannot {op} {self.currency} and {other.currency}")
        return other

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.currency, self.value + self._same(other, "add").value)

    def __sub__(self, other: Amount) -> Amount:
        return Amount(self.currency, self.value - self._same(other, "subtract").value)

    def __lt__(self, other: Amount) -> bool:
        return self.value < self._same(other, "compare").value

    def __le__(self, other: Amount) -> bool:
        return self.value <= self._same(other, "compare").value

    def __gt__(self, other: Amount) -> bool:
        return self.value > self._same(other, "compare").value

    def __ge__(self, other: Amount) -> bool:
        return self.value >= self._same(other, "compare").value


def _to_decimal(amount: object) -> Decimal:
    if isinstance(amount, float):
        raise AmountError("float amounts are refused; use Decimal")
    if isinstance(amount, bool):
        raise AmountError("bool is not an amount")
    if isinstance(amount, Decimal):
        number = amount
    elif isinstance(amount, int):
        number = Decimal(amount)
    elif isinstance(amount, str):
        try:
            number = Decimal(amount.strip())
        except InvalidOperation:
            raise AmountError(f"not a decimal number: {amount[:30]!r}") from None
    else:
        raise AmountError(f"amount must be a Decimal, got {type(amount).__name__}")
    if not number.is_finite():
        raise AmountError("amount must be a finite number")
    if number < 0:
        raise AmountError("amount must not be negative")
    if number.adjusted() >= MAX_VALUE_DIGITS:
        raise AmountError(f"amount has more than {MAX_VALUE_DIGITS} digits")
    return number
