"""Hypothesis strategies of hostile input: a valid JSON document, mutated.

A mutation replaces a value with junk (another type, a huge or not-a-number number, unicode,
a very long string, deep nesting), drops a key or an item, adds a key, or wraps a value. A body
is serialised after its mutations; a few bodies are junk bytes altogether (not JSON, not UTF-8,
truncated, another top-level type). Text no JSON library writes (``NaN``, a 5,000-digit number,
nesting 100,000 deep) goes in as `Raw`, spliced into the serialised body.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Raw:
    """JSON text put into a body as it is."""

    text: str


LONG = "x" * 70_000
JUNK_TEXT = [
    "",
    " ",
    "\t\n",
    "NaN",
    "-Infinity",
    "1e999999",
    "-1e-999999",
    "-0",
    "0x10",
    "1_000",
    "١٢٣",  # Arabic-Indic digits: Decimal() takes them
    "null",
    "true",
    "[]",
    "{}",
    "\x00",
    "\ud800",
    "\ufeff",
    "💳" * 40,
    "Ω" * 300,
    LONG,
    "../../etc/passwd",
    "' OR 1=1 --",
    "%s%n%x",
    "<script>alert(1)</script>",
    "9" * 400,
    "2024-13-45T99:99:99Z",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00Z",
    "VHJhbnNhY3Rpb25JdGVtOjE=",
    "app:saleor.app.alipay:",
    "SANDBOX_5Y00000000000042",
    "HKD",
    "hkd",
    "XXX",
]
RAW_JUNK = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1e400",
    "1e-400",
    "1" * 5000,
    "-" + "9" * 4400,
    "0.00000000000000000000000000000000000001",
    "1E+2147483648",
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 3000 + "1" + "}" * 3000,
]


def scalar_junk() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(10**60), max_value=10**60),
        st.sampled_from([2**31, 2**63, -(2**63) - 1, 10**30, -1, 0]),
        st.floats(),
        st.decimals(allow_nan=False, allow_infinity=False, places=None).map(Raw_decimal),
        st.text(max_size=40),
        st.sampled_from(JUNK_TEXT),
        st.sampled_from(RAW_JUNK).map(Raw),
    )


def Raw_decimal(value: Decimal) -> Raw:
    return Raw(str(value) if "E" not in str(value) and "." in str(value) else format(value, "f"))


def junk() -> st.SearchStrategy[Any]:
    return st.recursive(
        scalar_junk(),
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.text(max_size=12), children, max_size=4),
        ),
        max_leaves=8,
    )


def paths(document: Any, prefix: Path = ()) -> list[Path]:
    """Every value's path in ``document`` (the root excluded)."""
    found: list[Path] = []
    if isinstance(document, dict):
        items: list[tuple[str | int, Any]] = list(document.items())
    elif isinstance(document, list):
        items = list(enumerate(document))
    else:
        return found
    for key, value in items:
        found.append((*prefix, key))
        found.extend(paths(value, (*prefix, key)))
    return found


def _parent(document: Any, path: Path) -> Any:
    node = document
    for key in path[:-1]:
        node = node[key]
    return node


@st.composite
def mutated(draw: st.DrawFn, base: Any, keys: list[str] | None = None) -> Any:
    """``base`` (a JSON document) after one to four mutations."""
    document = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        targets = paths(document)
        if not targets:
            return draw(junk())
        path = draw(st.sampled_from(targets))
        parent = _parent(document, path)
        key = path[-1]
        action = draw(st.sampled_from(["replace", "replace", "replace", "drop", "add", "wrap"]))
        if action == "replace":
            parent[key] = draw(junk())
        elif action == "drop":
            del parent[key]
        elif action == "wrap":
            parent[key] = draw(st.sampled_from([[parent[key]], {"value": parent[key]}]))
        elif isinstance(parent, dict):
            names = st.sampled_from(keys) if keys else st.nothing()
            parent[draw(st.one_of(names, st.text(max_size=20)))] = draw(junk())
        else:
            parent.insert(draw(st.integers(0, len(parent))), draw(junk()))
    return document


def encode(document: Any) -> bytes:
    """JSON of ``document`` with every `Raw` spliced in as its text."""
    raws: list[str] = []

    def default(value: Any) -> Any:
        if isinstance(value, Raw):
            raws.append(value.text)
            return f"\x00raw{len(raws) - 1}\x00"
        if isinstance(value, Decimal):
            return Raw_decimal(value).text
        raise TypeError(type(value).__name__)

    text = json.dumps(document, default=default)
    for n, raw in enumerate(raws):
        text = text.replace(json.dumps(f"\x00raw{n}\x00"), raw, 1)
    return text.encode("utf-8", "surrogatepass")


@st.composite
def hostile_body(draw: st.DrawFn, base: Any, keys: list[str] | None = None) -> bytes:
    """The bytes of a mutated ``base``, or now and then junk bytes altogether."""
    kind = draw(st.integers(min_value=0, max_value=19))
    if kind == 0:
        return draw(st.binary(max_size=200))
    if kind == 1:
        whole = encode(base)
        return whole[: draw(st.integers(min_value=0, max_value=max(0, len(whole) - 1)))]
    if kind == 2:
        return encode(draw(junk()))
    if kind == 3:
        return b"\xff\xfe" + encode(base) + b"\x80"
    return encode(draw(mutated(base, keys)))


def query_junk() -> st.SearchStrategy[str]:
    """Query-string and path values: numbers of every size, unicode, long and empty text."""
    return st.one_of(
        st.text(max_size=30),
        # Not the 70,000-character text: no URL that long reaches the app (httpx refuses it).
        st.sampled_from([*[t for t in JUNK_TEXT if t not in ("\ud800", LONG)], *RAW_JUNK[:9]]),
        st.just("x" * 4000),
        st.integers().map(str),
        st.sampled_from(["-1", "0", "1", "500", "501", "99999999999999999999", "1.5", "1e3"]),
        st.dates().map(str),
        st.sampled_from(["2024-02-30", "0000-01-01", "2024-1-1", "+2024-01-01", "2024-W01"]),
    )
