"""The parameters every admin route shares, bounded at the door: a page size and offset, ids
that fit the database's integer columns (``2**31 - 1`` on PostgreSQL), and search text without
control characters (SQLite ends a LIKE pattern at a NUL byte, so "a\\x00" would match
everything). Out of bounds is a 400 in the API's error shape, never a driver's OverflowError."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import AfterValidator

MAX_ID = 2**31 - 1
MAX_LIMIT = 500
MAX_OFFSET = 10_000_000
MAX_TEXT = 200


def _plain_text(value: str | None) -> str | None:
    if value is not None and any(unicodedata.category(c) in {"Cc", "Cs"} for c in value):
        raise ValueError("must not contain control characters")
    return value


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
RowId = Annotated[int, Path(ge=-MAX_ID, le=MAX_ID)]
SearchText = Annotated[str | None, Query(max_length=MAX_TEXT), AfterValidator(_plain_text)]
CustomerId = Annotated[
    str | None, Query(alias="customerId", max_length=MAX_TEXT), AfterValidator(_plain_text)
]
PaymentRequestId = Annotated[
    str | None, Query(alias="paymentRequestId", max_length=MAX_TEXT), AfterValidator(_plain_text)
]
DateFrom = Annotated[str | None, Query(alias="from", max_length=40), AfterValidator(_plain_text)]
DateTo = Annotated[str | None, Query(alias="to", max_length=40), AfterValidator(_plain_text)]

# The Overview: how many days back (today included), and the language of its charts' words.
MAX_OVERVIEW_DAYS = 90
OverviewDays = Annotated[int, Query(ge=1, le=MAX_OVERVIEW_DAYS)]
ChartLanguage = Annotated[Literal["en", "zh"], Query()]
