"""JSON from outside (a request body, a notification): anything that is not JSON is a
`ValueError`, so every door refuses it as bad input.

`json.loads` alone raises `RecursionError` for arrays or objects nested past Python's recursion
limit (``[[[[...`` a few thousand deep), which is no `ValueError` and escaped as a 500.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def loads(text: bytes | str, *, exact: bool = True) -> Any:
    """Parse ``text`` (fractions as `Decimal` when ``exact``); raise ValueError unless it is
    JSON: not UTF-8, malformed, nested too deeply, an integer over 4,300 digits."""
    try:
        return json.loads(text, parse_float=Decimal if exact else None)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
