"""A Saleor that behaves like the real one toward our app (APP-PROTOCOL.md §1-§5, §8).

`SaleorDouble` is an ASGI app to run under uvicorn on loopback (`async with double.serve():` or
`with double.serve_in_thread():`, both on `tests.support.servers`). It has its own RSA key and
JWKS, signs webhooks with a detached JWS exactly as Saleor does, validates every GraphQL document
it receives against Saleor's schema, answers `app { id }`, `channels` and `transactionEventReport`
(with Saleor's idempotency rules), answers a storefront (checkout payment sessions; and, for a
customer logged in with `double.customer_token()`, `me { storedPaymentMethods }`, tokenization
and `storedPaymentMethodRequestDelete`, each delivering its webhook to the app and mapping the
answer as Saleor does), installs the app through its token handshake, fetches and
checks manifests, builds realistic payloads in the shape of our subscription documents and checks
our webhook responses against Saleor's JSON Schemas. The schema is the project's subset of
Saleor's and the JSON Schemas are copies of Saleor's (`tests/support/saleor/`, written by
`tools/saleor-subset/make.py`); whatever the double or its tests use of Saleor's schema beyond the
app's documents is listed in `tools/saleor-subset/extra.graphql`.

What it does not do: compute transaction amounts (`chargedAmount`, ...) after reports, fan out
events by itself, cache stored payment methods, or retry deliveries. A field it has no answer
for comes back as a GraphQL error naming it, never as a made-up value.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import hashlib
import inspect
import itertools
import json
import mimetypes
import re
import secrets
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, Literal, cast
from urllib.parse import urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLSyntaxError,
    GraphQLUnionType,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    default_field_resolver,
    execute,
    get_operation_ast,
    parse,
    validate,
)
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from saleor_alipay_app.saleor.documents import load_document
from saleor_alipay_app.saleor.events import SyncEvent
from tests.support.saleor_schema import (
    collect_fields,
    fragments_of,
    project_file,
    saleor_schema,
    single_operation,
    subscription_event_types,
    type_applies,
    usages_newer_than,
    validation_errors,
)
from tests.support.servers import RunningServer, serve_in_loop, serve_in_thread

SALEOR_VERSION: Final = "3.24.0-a.0"
SCHEMA_VERSION: Final = "3.24"
USER_AGENT: Final = f"Saleor/{SCHEMA_VERSION}"
# WEBHOOK_SYNC_TIMEOUT and the manifest/token timeouts: 2 s to connect, 18 s to read.
SALEOR_TIMEOUT: Final = httpx.Timeout(connect=2.0, read=18.0, write=18.0, pool=18.0)

_TOKEN_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_SSL_CONTEXT: Final = ssl.create_default_context()
SourceKind = Literal["checkout", "order"]


def global_id(type_name: str, pk: object) -> str:
    """A Saleor (graphene) global id: base64 of `Type:pk`."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def from_global_id(value: str) -> tuple[str, str]:
    try:
        type_name, _, pk = base64.b64decode(value, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return "", ""
    return type_name, pk


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _uint_b64url(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def rsa_thumbprint(n: str, e: str) -> str:
    """RFC 7638 JWK thumbprint (SHA-256) of an RSA key given as base64url `n` and `e`."""
    members = {"e": e, "kty": "RSA", "n": n}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return _b64url(hashlib.sha256(canonical).digest())


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


# -- JSON as Saleor writes it ---------------------------------------------------------------


def decimal_number(value: Decimal) -> str:
    """A Decimal as the JSON number Saleor writes (`199.0`, `123.45`)."""
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite amount")
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0")
        return text + "0" if text.endswith(".") else text
    return text + ".0"


def _encode(value: object, allow_float: bool) -> str:
    if isinstance(value, Decimal):
        return decimal_number(value)
    if isinstance(value, Mapping):
        items = (json.dumps(str(k)) + ": " + _encode(v, allow_float) for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_encode(v, allow_float) for v in value) + "]"
    if isinstance(value, float) and not allow_float:
        raise TypeError("payloads carry amounts as Decimal, never float")
    return json.dumps(value)


def saleor_json(value: object) -> bytes:
    """Serialise a webhook payload like Saleor: Decimal amounts as JSON numbers, non-ASCII
    escaped. A float is refused: payload builders must carry amounts as Decimal."""
    return _encode(value, allow_float=False).encode("ascii")


def _json_response(content: object, status_code: int = 200) -> Response:
    # GraphQL answers: graphql-core serialises `Float` fields such as Money.amount to float.
    body = _encode(content, allow_float=True).encode("ascii")
    return Response(body, status_code=status_code, media_type="application/json")


# -- npm version ranges (requiredSaleorVersion) -------------------------------------------------

_VERSION_RE = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$"
)
_PARTIAL_RE = re.compile(
    r"^v?(?P<major>\d+|[xX*])(?:\.(?P<minor>\d+|[xX*])(?:\.(?P<patch>\d+|[xX*])"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?)?)?$"
)
_COMPARATOR_RE = re.compile(r"^(?P<op><=|>=|<|>|=|~>|~|\^)?(?P<version>.+)$")

VersionKey = tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]


def _pre_key(pre: str | None) -> tuple[int, tuple[tuple[int, int | str], ...]]:
    if pre is None:
        return 1, ()
    parts: list[tuple[int, int | str]] = [
        (0, int(p)) if p.isdigit() else (1, p) for p in pre.split(".")
    ]
    return 0, tuple(parts)


def _key(major: int, minor: int, patch: int, pre: str | None = None) -> VersionKey:
    release, identifiers = _pre_key(pre)
    return major, minor, patch, release, identifiers


def parse_version(text: str) -> VersionKey:
    found = _VERSION_RE.match(text.strip())
    if found is None:
        raise ValueError(f"not a semantic version: {text!r}")
    return _key(int(found["major"]), int(found["minor"]), int(found["patch"]), found["pre"] or None)


Comparator = tuple[str, VersionKey]


def _is_x(part: str | None) -> bool:
    return part is None or part in ("x", "X", "*")


def _partial(text: str) -> tuple[int | None, int | None, int | None, str | None]:
    found = _PARTIAL_RE.match(text)
    if found is None:
        raise ValueError(f"not a version: {text!r}")
    major = None if _is_x(found["major"]) else int(found["major"])
    minor = None if major is None or _is_x(found["minor"]) else int(found["minor"])
    patch = None if minor is None or _is_x(found["patch"]) else int(found["patch"])
    return major, minor, patch, found["pre"] if patch is not None else None


def _upper_of(major: int, minor: int | None) -> VersionKey:
    """The first version above a partial `major[.minor]` (exclusive, prereleases excluded)."""
    return _key(major + 1, 0, 0, "0") if minor is None else _key(major, minor + 1, 0, "0")


def _desugar(op: str, text: str) -> list[Comparator]:
    major, minor, patch, pre = _partial(text)
    if major is None:
        return [] if op in ("", "=", ">=", "<=", "~", "^") else [("<", _key(0, 0, 0, "0"))]
    low = _key(major, minor or 0, patch or 0, pre)
    exact = patch is not None
    if op in ("", "="):
        return [("=", low)] if exact else [(">=", low), ("<", _upper_of(major, minor))]
    if op == ">=":
        return [(">=", low)]
    if op == ">":
        return [(">", low)] if exact else [(">=", _upper_of(major, minor))]
    if op == "<":
        return [("<", low if exact else _key(major, minor or 0, 0, "0"))]
    if op == "<=":
        return [("<=", low)] if exact else [("<", _upper_of(major, minor))]
    if op in ("~", "~>"):
        return [(">=", low), ("<", _upper_of(major, minor))]
    # caret: the left-most non-zero part may not change
    if major > 0 or minor is None:
        upper = _key(major + 1, 0, 0, "0")
    elif minor > 0 or patch is None:
        upper = _key(0, minor + 1, 0, "0")
    else:
        upper = _key(0, 0, patch + 1, "0")
    return [(">=", low), ("<", upper)]


def parse_npm_range(text: str) -> list[list[Comparator]]:
    """An npm range as alternatives (`||`) of comparator sets; raises ValueError."""
    if not text.strip():
        raise ValueError("empty range")
    alternatives: list[list[Comparator]] = []
    for alternative in text.split("||"):
        spec = re.sub(r"(<=|>=|<|>|=|~>|~|\^)\s+", r"\1", alternative.strip())
        hyphen = re.fullmatch(r"(\S+)\s+-\s+(\S+)", spec)
        if hyphen:
            lower = _desugar(">=", hyphen[1])
            major, minor, patch, pre = _partial(hyphen[2])
            if major is None:
                upper: list[Comparator] = []
            elif patch is not None:
                upper = [("<=", _key(major, minor or 0, patch, pre))]
            else:
                upper = [("<", _upper_of(major, minor))]
            alternatives.append(lower + upper)
            continue
        comparators: list[Comparator] = []
        for token in spec.split():
            found = _COMPARATOR_RE.match(token)
            if found is None:
                raise ValueError(f"bad comparator {token!r}")
            comparators.extend(_desugar(found["op"] or "", found["version"]))
        alternatives.append(comparators)
    return alternatives


def _compare(op: str, version: VersionKey, bound: VersionKey) -> bool:
    match op:
        case "=":
            return version == bound
        case ">=":
            return version >= bound
        case ">":
            return version > bound
        case "<=":
            return version <= bound
        case "<":
            return version < bound
    raise ValueError(op)


def npm_range_satisfied(range_text: str, version: str) -> bool:
    """Whether `version` is in the npm range, with prereleases compared naturally (Saleor's
    `NpmSpec` with the "natural" prerelease policy: `3.24.0-a.0` satisfies `>=3.21`)."""
    key = parse_version(version)
    return any(
        all(_compare(op, key, bound) for op, bound in alternative)
        for alternative in parse_npm_range(range_text)
    )


# -- records ---------------------------------------------------------------------------------


@dataclass
class Channel:
    id: str
    slug: str
    name: str
    currency_code: str
    is_active: bool = True

    def details(self) -> dict[str, Any]:
        return {"id": self.id, "slug": self.slug, "currencyCode": self.currency_code}


@dataclass(frozen=True)
class Customer:
    id: str
    email: str

    def details(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email}


@dataclass
class AppRecord:
    id: str
    token: str = field(repr=False)
    identifier: str
    name: str
    permissions: list[str]
    is_active: bool = True
    is_installed: bool = False


@dataclass
class StaffUser:
    """A staff account that `tokenCreate` logs in (`is_superuser`: every permission)."""

    email: str
    password: str = field(repr=False)
    permissions: list[str] = field(default_factory=lambda: ["MANAGE_APPS", "HANDLE_PAYMENTS"])
    is_superuser: bool = False
    is_active: bool = True

    def has(self, permission: str) -> bool:
        return self.is_superuser or permission in self.permissions


@dataclass
class AppInstallationJob:
    """An `appInstall` job (`AppInstallation`): PENDING, then deleted on success or FAILED."""

    id: str
    app_name: str
    manifest_url: str
    permissions: list[str]
    status: str = "PENDING"
    message: str | None = None
    created_at: str = field(default_factory=lambda: _now_iso())

    def as_graphql(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "message": self.message,
            "appName": self.app_name,
            "manifestUrl": self.manifest_url,
            "createdAt": self.created_at,
            "updatedAt": _now_iso(),
            "brand": None,
        }


@dataclass
class TransactionRecord:
    id: str
    token: str
    app_id: str
    currency: str
    psp_reference: str = ""
    actions: list[str] = field(default_factory=list)
    name: str = ""
    # `paymentMethodDetails` as Saleor stores it (3.22+): {"type": "OTHER", "name": ...}.
    payment_method_details: dict[str, Any] | None = None
    # The checkout it was started on and the order it belongs to (after checkoutComplete).
    checkout_id: str | None = None
    order_id: str | None = None


@dataclass
class TransactionEventRecord:
    id: str
    type: str
    psp_reference: str
    amount: Decimal
    currency: str
    created_at: str
    message: str
    external_url: str
    app_id: str
    # Saleor's request event of a session (`transactionInitialize`) is kept out of the amounts.
    include_in_calculations: bool = True

    def as_graphql(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "pspReference": self.psp_reference,
            "amount": {"amount": self.amount, "currency": self.currency},
            "createdAt": self.created_at,
            "message": self.message,
            "externalUrl": self.external_url,
            "createdBy": {"__typename": "App", "id": self.app_id},
            "idempotencyKey": None,
            "reasonReference": None,
        }


@dataclass(frozen=True)
class GraphQLCall:
    operation_name: str | None
    query: str
    variables: dict[str, Any]
    token: str | None = field(repr=False)
    status_code: int


@dataclass(frozen=True)
class InvalidDocument:
    query: str
    errors: list[str]


@dataclass(frozen=True)
class Delivery:
    target_url: str
    event: SyncEvent
    body: bytes
    headers: dict[str, str]
    status_code: int | None


class SaleorDoubleError(Exception):
    """The double could not do what a test asked (e.g. the app answered a fetch with 404)."""


class PermissionDenied(GraphQLError):
    def __init__(self, permissions: str) -> None:
        super().__init__(
            f"You need one of the following permissions: {permissions}",
            extensions={"exception": {"code": "PermissionDenied"}},
        )


# Saleor's quantisation of amounts per currency (babel's currency digits).
_CURRENCY_DIGITS: Final = {
    "JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "UGX": 0, "XAF": 0, "XOF": 0, "PYG": 0,
    "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "IQD": 3, "LYD": 3,
}  # fmt: skip


def quantize(amount: Decimal, currency: str) -> Decimal:
    digits = _CURRENCY_DIGITS.get(currency.upper(), 2)
    return amount.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


_AMOUNT_REQUIRED_SUFFIXES: Final = ("_REQUEST", "_SUCCESS", "_ACTION_REQUIRED")
_FINAL_CHARGE: Final = ("CHARGE_SUCCESS", "CHARGE_FAILURE")
_NEVER_DEDUPLICATED: Final = ("AUTHORIZATION_ACTION_REQUIRED", "CHARGE_ACTION_REQUIRED", "INFO")
_SETS_PSP_REFERENCE: Final = (
    "AUTHORIZATION_REQUEST",
    "AUTHORIZATION_SUCCESS",
    "CHARGE_REQUEST",
    "CHARGE_SUCCESS",
)


@dataclass
class CheckoutRecord:
    """A checkout a storefront pays (`double.create_checkout`)."""

    id: str
    channel: Channel
    total: Decimal
    customer: Customer | None
    transaction_ids: list[str] = field(default_factory=list)
    order_id: str | None = None


@dataclass
class SessionRecord:
    """A transaction's payment session: its request and its idempotency key."""

    checkout_id: str
    amount: Decimal
    idempotency_key: str


@dataclass
class _RequestContext:
    app: AppRecord | None
    staff: StaffUser | None = None
    # The customer whose access token the request carries (`double.customer_token`).
    user: Customer | None = None


if TYPE_CHECKING:
    Info = GraphQLResolveInfo[_RequestContext]


# -- webhook responses against Saleor's JSON Schemas ------------------------------------------

_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("uri")
def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@_FORMATS.checks("date-time")
def _is_offset_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return "T" in value.upper() and parsed.tzinfo is not None


# PAYMENT_GATEWAY_INITIALIZE_TOKENIZATION_SESSION has no schema file of its own (the file of that
# name holds the payment-method tokenization union): this is APP-PROTOCOL.md §4.9's table.
_GATEWAY_TOKENIZATION_SCHEMA: Final[dict[str, Any]] = {
    "title": "PaymentGatewayInitializeTokenizationSession (APP-PROTOCOL.md §4.9)",
    "type": "object",
    "properties": {
        "result": {
            "type": "string",
            "enum": ["SUCCESSFULLY_INITIALIZED", "FAILED_TO_INITIALIZE", "FAILED_TO_DELIVER"],
        },
        "data": {},
        "error": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "required": ["result"],
}

_SCHEMA_FILES: Final = {
    SyncEvent.PAYMENT_GATEWAY_INITIALIZE_SESSION: "PaymentGatewayInitializeSession",
    SyncEvent.TRANSACTION_INITIALIZE_SESSION: "TransactionInitializeSession",
    SyncEvent.TRANSACTION_PROCESS_SESSION: "TransactionProcessSession",
    SyncEvent.TRANSACTION_CHARGE_REQUESTED: "TransactionChargeRequested",
    SyncEvent.TRANSACTION_CANCELATION_REQUESTED: "TransactionCancelationRequested",
    SyncEvent.TRANSACTION_REFUND_REQUESTED: "TransactionRefundRequested",
    SyncEvent.LIST_STORED_PAYMENT_METHODS: "ListStoredPaymentMethods",
    SyncEvent.STORED_PAYMENT_METHOD_DELETE_REQUESTED: "StoredPaymentMethodDeleteRequested",
    # Mislabelled upstream: this file holds the PaymentMethod*Tokenization response union.
    SyncEvent.PAYMENT_METHOD_INITIALIZE_TOKENIZATION_SESSION: (
        "PaymentGatewayInitializeTokenizationSession"
    ),
    SyncEvent.PAYMENT_METHOD_PROCESS_TOKENIZATION_SESSION: (
        "PaymentGatewayInitializeTokenizationSession"
    ),
}
_SESSION_EVENTS: Final = (
    SyncEvent.TRANSACTION_INITIALIZE_SESSION,
    SyncEvent.TRANSACTION_PROCESS_SESSION,
)
_ACTION_EVENTS: Final = (
    SyncEvent.TRANSACTION_CHARGE_REQUESTED,
    SyncEvent.TRANSACTION_CANCELATION_REQUESTED,
    SyncEvent.TRANSACTION_REFUND_REQUESTED,
)


@lru_cache(maxsize=16)
def _schema_file(name: str) -> str:
    return project_file(f"json_schemas/{name}.json").read_text(encoding="utf-8")


def response_schema(
    event: SyncEvent, body: Mapping[str, Any], saleor_version: tuple[int, int] = (3, 24)
) -> dict[str, Any]:
    """The JSON Schema `body` must satisfy as the answer to `event`, with APP-PROTOCOL.md's two
    caveats applied (the gateway tokenization contract, the session CANCEL_SUCCESS branch) and the
    runtime's rule that an action answer with a `result` must be one of the sync forms."""
    if event is SyncEvent.PAYMENT_GATEWAY_INITIALIZE_TOKENIZATION_SESSION:
        return copy.deepcopy(_GATEWAY_TOKENIZATION_SCHEMA)
    schema: dict[str, Any] = json.loads(_schema_file(_SCHEMA_FILES[event]))
    if event in _SESSION_EVENTS and body.get("result") == "CANCEL_SUCCESS":
        if saleor_version < (3, 23):
            raise AssertionError(
                f"{event}: the session CANCEL_SUCCESS result needs Saleor 3.23 or newer"
            )
        failure = next(b for b in schema["anyOf"] if b["title"] == "TransactionSessionFailure")
        cancel = copy.deepcopy(failure)
        cancel["title"] = "TransactionSessionCancelSuccess"
        cancel["properties"]["result"]["enum"] = ["CANCEL_SUCCESS"]
        schema["anyOf"] = [cancel]
    if event in _ACTION_EVENTS and "result" in body:
        schema["anyOf"] = [b for b in schema["anyOf"] if not b["title"].endswith("Async")]
    return schema


def validate_response(
    event: SyncEvent, body: object, *, saleor_version: tuple[int, int] = (3, 24)
) -> None:
    """Raise AssertionError unless `body` is an answer Saleor accepts for `event`."""
    if not isinstance(body, Mapping):
        raise AssertionError(f"{event} response must be a JSON object, got {body!r}")
    schema = response_schema(event, body, saleor_version)
    validator = Draft202012Validator(schema, format_checker=_FORMATS)
    error = best_match(validator.iter_errors(body))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise AssertionError(
            f"{event} response rejected by {schema.get('title')}: {error.message} at {where}"
        )


# -- manifests ---------------------------------------------------------------------------------

_MANIFEST_URL_KEYS: Final = (
    "appUrl",
    "configurationUrl",
    "tokenTargetUrl",
    "homepageUrl",
    "supportUrl",
    "dataPrivacyUrl",
)


def _absolute_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _enum_names(schema: GraphQLSchema, name: str) -> set[str]:
    enum = schema.get_type(name)
    assert isinstance(enum, GraphQLEnumType), name
    return set(enum.values)


def _oldest_admitted_minor(range_text: str) -> int:
    """The oldest Saleor 3.x the range admits (fields newer than it must not be used)."""
    for minor in range(0, 100):
        if npm_range_satisfied(range_text, f"3.{minor}.0"):
            return minor
    return 100


def _validate_query(
    schema: GraphQLSchema, query: str, oldest_minor: int | None
) -> tuple[list[str], set[str]]:
    errors = validation_errors(query, schema=schema)
    if errors:
        return errors, set()
    document = parse(query)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    subscriptions = [o for o in operations if o.operation is OperationType.SUBSCRIPTION]
    if len(subscriptions) != 1 or len(operations) != 1:
        return ["must hold exactly one subscription operation"], set()
    roots = subscriptions[0].selection_set.selections
    if len(roots) != 1 or not isinstance(roots[0], FieldNode) or roots[0].name.value != "event":
        return ["must select exactly one root field, `event`"], set()
    event_types = subscription_event_types(document, schema)
    if not event_types:
        return ["no event type is reachable under `event`"], set()
    problems = []
    if oldest_minor is not None:
        problems = [
            f"uses {usage} but requiredSaleorVersion admits 3.{oldest_minor}"
            for usage in usages_newer_than(document, (3, oldest_minor), schema=schema)
        ]
    return problems, event_types


def validate_manifest(manifest: object, *, schema: GraphQLSchema | None = None) -> list[str]:
    """Saleor's checks of §1.2/§1.3 on a manifest (plus: listed sync events must be selected by
    the webhook's query, and no query may use fields newer than the oldest Saleor the
    `requiredSaleorVersion` admits). Returns the problems found, empty when it would install."""
    schema = schema or saleor_schema()
    if not isinstance(manifest, Mapping):
        return ["manifest is not a JSON object"]
    errors: list[str] = []
    for key in ("id", "name", "version", "tokenTargetUrl"):
        value = manifest.get(key)
        if not isinstance(value, str) or not value.strip():
            errors.append(f"{key}: required")
    identifier = manifest.get("id")
    if isinstance(identifier, str):
        if identifier == "GIFT_CARD_PAYMENT_GATEWAY_ID":
            errors.append("id: reserved identifier")
        if ":" in identifier or identifier.isdigit():
            errors.append("id: must not contain ':' nor be all digits")
    permissions = manifest.get("permissions", [])
    known_permissions = _enum_names(schema, "PermissionEnum")
    if not isinstance(permissions, list):
        errors.append("permissions: must be a list")
        permissions = []
    for permission in permissions:
        if not isinstance(permission, str):
            errors.append(f"permissions: {permission!r} is not a permission name")
        elif permission == "MANAGE_APPS":
            errors.append("permissions: MANAGE_APPS is out of scope (OUT_OF_SCOPE_PERMISSION)")
        elif permission not in known_permissions:
            errors.append(f"permissions: unknown permission {permission!r} (INVALID_PERMISSION)")
    if "author" in manifest and manifest["author"] is not None:
        author = manifest["author"]
        if not isinstance(author, str) or not author.strip():
            errors.append("author: must not be empty")
    oldest_minor: int | None = None
    required = manifest.get("requiredSaleorVersion")
    if required is not None:
        try:
            for version in ("3.21.0", SALEOR_VERSION):
                if not npm_range_satisfied(str(required), version):
                    errors.append(f"requiredSaleorVersion: {required!r} excludes {version}")
            oldest_minor = _oldest_admitted_minor(str(required))
        except ValueError as exc:
            errors.append(f"requiredSaleorVersion: invalid range {required!r} ({exc})")
    for key in _MANIFEST_URL_KEYS:
        if key in manifest and not _absolute_http_url(manifest[key]):
            errors.append(f"{key}: must be an absolute http(s) URL, got {manifest[key]!r}")
    brand = manifest.get("brand")
    if brand is not None:
        logo = brand.get("logo", {}).get("default") if isinstance(brand, Mapping) else None
        if not _absolute_http_url(logo):
            errors.append(f"brand.logo.default: must be an absolute http(s) URL, got {logo!r}")
        elif mimetypes.guess_type(urlsplit(str(logo)).path)[0] != "image/png":
            errors.append("brand.logo.default: must be a PNG")
    errors.extend(_validate_extensions(manifest, permissions))
    errors.extend(_validate_webhooks(manifest, schema, oldest_minor))
    return errors


def _validate_extensions(manifest: Mapping[str, Any], permissions: list[Any]) -> list[str]:
    errors: list[str] = []
    extensions = manifest.get("extensions", [])
    if not isinstance(extensions, list):
        return ["extensions: must be a list"]
    for index, extension in enumerate(extensions):
        where = f"extensions[{index}]"
        if not isinstance(extension, Mapping):
            errors.append(f"{where}: must be an object")
            continue
        for key in ("label", "url", "mount"):
            if not isinstance(extension.get(key), str) or not extension[key]:
                errors.append(f"{where}.{key}: required")
        url = extension.get("url")
        if isinstance(url, str) and url.startswith("/") and "appUrl" not in manifest:
            errors.append(f"{where}.url: a relative URL needs appUrl")
        extra = set(extension.get("permissions", [])) - set(permissions)
        if extra:
            errors.append(f"{where}.permissions: {sorted(extra)} are not the app's")
    return errors


def _validate_webhooks(
    manifest: Mapping[str, Any], schema: GraphQLSchema, oldest_minor: int | None
) -> list[str]:
    errors: list[str] = []
    webhooks = manifest.get("webhooks", [])
    if not isinstance(webhooks, list):
        return ["webhooks: must be a list"]
    sync_names = _enum_names(schema, "WebhookEventTypeSyncEnum")
    async_names = _enum_names(schema, "WebhookEventTypeAsyncEnum")
    for index, webhook in enumerate(webhooks):
        where = f"webhooks[{index}]"
        if not isinstance(webhook, Mapping):
            errors.append(f"{where}: must be an object")
            continue
        for key in ("name", "targetUrl", "query"):
            if not isinstance(webhook.get(key), str) or not webhook[key].strip():
                errors.append(f"{where}.{key}: required")
        if "targetUrl" in webhook and not _absolute_http_url(webhook["targetUrl"]):
            errors.append(f"{where}.targetUrl: must be an absolute http(s) URL")
        if "isActive" in webhook and not isinstance(webhook["isActive"], bool):
            errors.append(f"{where}.isActive: must be a boolean")
        event_types: set[str] = set()
        if isinstance(webhook.get("query"), str):
            problems, event_types = _validate_query(schema, webhook["query"], oldest_minor)
            errors.extend(f"{where}.query: Subscription query is not valid: {p}" for p in problems)
        sync_events = webhook.get("syncEvents") or []
        async_events = webhook.get("asyncEvents") or []
        if not isinstance(sync_events, list) or not isinstance(async_events, list):
            errors.append(f"{where}: syncEvents and asyncEvents must be lists")
            continue
        for name in sync_events:
            if not isinstance(name, str) or name not in sync_names:
                errors.append(f"{where}.syncEvents: Invalid synchronous event {name!r}")
            elif event_types and _type_of_event_name(name) not in event_types:
                errors.append(f"{where}.syncEvents: {name} is listed but its type is not selected")
        for name in async_events:
            if not isinstance(name, str) or name not in async_names:
                errors.append(f"{where}.asyncEvents: Invalid asynchronous event {name!r}")
        headers = webhook.get("customHeaders") or {}
        if not isinstance(headers, Mapping) or len(headers) > 5:
            errors.append(f"{where}.customHeaders: at most 5 headers")
        else:
            for key in headers:
                lowered = str(key).lower()
                if not (
                    lowered.startswith(("x-", "authorization")) or lowered == "brokerproperties"
                ):
                    errors.append(f"{where}.customHeaders: {key!r} is not allowed")
    return errors


def _type_of_event_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


# -- payloads against our subscription documents -------------------------------------------------


@lru_cache(maxsize=32)
def _subscription(event: SyncEvent) -> tuple[DocumentNode, SelectionSetNode]:
    document = parse(load_document(event.document))
    operation = single_operation(document)
    root = operation.selection_set.selections[0]
    assert isinstance(root, FieldNode)
    assert root.selection_set is not None
    return document, root.selection_set


def _merged(nodes: Sequence[FieldNode]) -> SelectionSetNode | None:
    selections = [s for node in nodes if node.selection_set for s in node.selection_set.selections]
    return SelectionSetNode(selections=tuple(selections)) if selections else None


class _PayloadChecker:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = fragments_of(document)
        self.problems: list[str] = []

    def check_object(
        self,
        value: object,
        selection_set: SelectionSetNode,
        static: GraphQLNamedType,
        path: str,
        *,
        root: bool = False,
    ) -> None:
        if not isinstance(value, Mapping):
            self.problems.append(f"{path}: expected an object, got {value!r}")
            return
        runtime = static
        typename = value.get("__typename")
        if typename is not None:
            named = self.schema.get_type(str(typename))
            if not isinstance(named, GraphQLObjectType) or not type_applies(
                self.schema, static.name, named
            ):
                self.problems.append(f"{path}: __typename {typename!r} is not a {static.name}")
                return
            runtime = named
        elif not isinstance(static, GraphQLObjectType):
            self.problems.append(f"{path}: a {static.name} needs __typename")
            return
        assert isinstance(runtime, GraphQLObjectType)
        fields = collect_fields(self.schema, self.fragments, selection_set, runtime)
        implicit = {"__typename", "errors"} if root else set()
        for key in value:
            if key not in fields and key not in implicit:
                self.problems.append(f"{path}.{key}: not selected by the document")
        for key, nodes in fields.items():
            if key not in value:
                self.problems.append(f"{path}.{key}: selected but missing")
                continue
            name = nodes[0].name.value
            if name == "__typename":
                if value[key] != runtime.name:
                    self.problems.append(f"{path}.{key}: should be {runtime.name!r}")
                continue
            definition = runtime.fields[name]
            self.check_value(value[key], definition.type, _merged(nodes), f"{path}.{key}")

    def check_value(
        self,
        value: object,
        gql_type: GraphQLOutputType,
        selection_set: SelectionSetNode | None,
        path: str,
    ) -> None:
        if isinstance(gql_type, GraphQLNonNull):
            if value is None:
                self.problems.append(f"{path}: must not be null")
                return
            gql_type = gql_type.of_type
        if value is None:
            return
        if isinstance(gql_type, GraphQLList):
            if not isinstance(value, list):
                self.problems.append(f"{path}: expected a list")
                return
            for index, item in enumerate(value):
                self.check_value(item, gql_type.of_type, selection_set, f"{path}[{index}]")
            return
        if isinstance(gql_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            assert selection_set is not None
            self.check_object(value, selection_set, gql_type, path)
            return
        if isinstance(gql_type, GraphQLEnumType):
            if value not in gql_type.values:
                self.problems.append(f"{path}: {value!r} is not a {gql_type.name}")
            return
        assert isinstance(gql_type, GraphQLScalarType)
        if not _scalar_ok(gql_type.name, value):
            self.problems.append(f"{path}: {value!r} is not a valid {gql_type.name}")


def _scalar_ok(name: str, value: object) -> bool:
    match name:
        case "String" | "ID":
            return isinstance(value, str)
        case "Boolean":
            return isinstance(value, bool)
        case "Int":
            return isinstance(value, int) and not isinstance(value, bool)
        case "Float":
            return isinstance(value, int | Decimal) and not isinstance(value, bool)
        case "PositiveDecimal" | "Decimal":
            ok = isinstance(value, Decimal | int) and not isinstance(value, bool)
            return ok and (name == "Decimal" or Decimal(cast(Decimal | int, value)) >= 0)
        case "DateTime":
            return isinstance(value, str) and _is_offset_datetime(value)
        case "UUID":
            try:
                uuid.UUID(str(value))
            except ValueError:
                return False
            return isinstance(value, str)
    return True  # JSON, JSONString and other free-form scalars


def assert_payload_matches_document(
    event: SyncEvent, payload: Mapping[str, Any], *, schema: GraphQLSchema | None = None
) -> None:
    """Fail unless `payload` has exactly the keys our subscription document selects for `event`
    (plus the `__typename`/`errors` Saleor may add at the root), with values of the schema's
    types: so payload builders cannot drift from the documents."""
    schema = schema or saleor_schema()
    document, selection_set = _subscription(event)
    event_type = schema.get_type(event.type_name)
    assert isinstance(event_type, GraphQLObjectType), event.type_name
    if payload.get("__typename", event.type_name) != event.type_name:
        raise AssertionError(f"payload __typename {payload['__typename']!r} for {event}")
    checker = _PayloadChecker(schema, document)
    checker.check_object(dict(payload), selection_set, event_type, "$", root=True)
    if checker.problems:
        raise AssertionError(
            f"{event} payload does not match its document:\n" + "\n".join(checker.problems)
        )


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            base[key] = _merge(dict(base[key]), value)
        else:
            base[key] = value
    return base


def _money(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


# -- the customer's account (stored payment methods and tokenization) --------------------------


def payment_app_id(app: AppRecord, raw_id: str) -> str:
    """The id Saleor gives the storefront for an app's stored method or tokenization id."""
    return f"app:{app.identifier}:{raw_id}"


def from_payment_app_id(value: str) -> tuple[str | None, str]:
    """Saleor's `from_payment_app_id`: (the app identifier, the app's raw id) of
    `app:<identifier>:<raw id>`; the identifier is None when the id is not of that form (or
    names the app by its numeric pk, which these mutations do not look up)."""
    parts = value.split(":", 2)
    if len(parts) != 3 or parts[0] != "app" or not all(parts) or parts[1].isdigit():
        return None, value
    return parts[1], parts[2]


@lru_cache(maxsize=1)
def _stored_method_schema() -> dict[str, Any]:
    """Saleor's schema of one stored payment method: each is checked on its own."""
    schema: dict[str, Any] = json.loads(_schema_file("ListStoredPaymentMethods"))
    return {"$ref": "#/$defs/StoredPaymentMethodSchema", "$defs": schema["$defs"]}


def _checked_stored_method(item: object) -> dict[str, Any] | None:
    """One stored method as Saleor keeps it: None (skipped) when invalid; an invalid
    `creditCardInfo` alone becomes null."""

    def valid(value: object) -> bool:
        validator = Draft202012Validator(_stored_method_schema(), format_checker=_FORMATS)
        return best_match(validator.iter_errors(value)) is None

    if not isinstance(item, dict):
        return None
    if valid(item):
        return item
    without_card = {k: v for k, v in item.items() if k != "creditCardInfo"}
    return {**without_card, "creditCardInfo": None} if valid(without_card) else None


class _AccountError(Exception):
    """A `ValidationError` in an account mutation: its `result` is then FAILED_TO_DELIVER."""

    def __init__(self, field_name: str | None, code: str, message: str) -> None:
        super().__init__(message)
        self.error = _account_error(field_name, code, message)

    def as_graphql(self) -> dict[str, Any]:
        return self.error


def _account_error(field_name: str | None, code: str, message: str | None) -> dict[str, Any]:
    return {"field": field_name, "code": code, "message": message}


def _gateway_error_result(result: str, error: str | None) -> dict[str, Any]:
    return {
        "result": result,
        "data": None,
        "errors": [_account_error(None, "GATEWAY_ERROR", error)],
    }


_TOKENIZATION_SUCCESS: Final = ("SUCCESSFULLY_TOKENIZED", "ADDITIONAL_ACTION_REQUIRED", "PENDING")


def _tokenization_result(
    result: str, *, id: str | None = None, data: Any = None, error: str | None = None
) -> dict[str, Any]:
    errors = (
        [] if result in _TOKENIZATION_SUCCESS else [_account_error(None, "GATEWAY_ERROR", error)]
    )
    return {"result": result, "id": id, "data": data, "errors": errors}


def _delete_result(result: str, error: str | None) -> dict[str, Any]:
    errors = (
        [] if result == "SUCCESSFULLY_DELETED" else [_account_error(None, "GATEWAY_ERROR", error)]
    )
    return {"result": result, "errors": errors}


# -- the double --------------------------------------------------------------------------------


def _default_channels() -> list[Channel]:
    return [
        Channel(global_id("Channel", 1), "hk-web", "Hong Kong", "HKD"),
        Channel(global_id("Channel", 2), "id-web", "Indonesia", "IDR"),
    ]


class SaleorDouble:
    """A Saleor for our app to talk to over real HTTP; see the module docstring."""

    def __init__(
        self, *, base_url: str | None = None, channels: list[Channel] | None = None
    ) -> None:
        self.schema = saleor_schema()
        self._documents: dict[str, tuple[DocumentNode, list[GraphQLError]]] = {}
        self.base_url_value = base_url
        self._private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.channels = channels if channels is not None else _default_channels()
        self.customer = Customer(global_id("User", 1337), "shopper@example.com")
        self.apps: dict[str, AppRecord] = {}
        self.transactions: dict[str, TransactionRecord] = {}
        self.transaction_events: dict[str, list[TransactionEventRecord]] = {}
        self.calls: list[GraphQLCall] = []
        self.invalid_documents: list[InvalidDocument] = []
        self.deliveries: list[Delivery] = []
        self.failed_installations: list[str] = []
        self.staff: dict[str, StaffUser] = {}
        self._staff_tokens: dict[str, StaffUser] = {}
        self._customer_tokens: dict[str, Customer] = {}
        # Webhook answers Saleor refused (event, why): the storefront sees only the outcome.
        self.refused_answers: list[tuple[SyncEvent, str]] = []
        self.installation_jobs: dict[str, AppInstallationJob] = {}
        self._background: set[asyncio.Task[None]] = set()
        self.jwks_fetches = 0
        self.fail_graphql: Literal["http_500", "timeout"] | None = None
        # How long a "timeout" GraphQL request is held at most if the client never gives up.
        self.hang_seconds = 30.0
        self._ids = itertools.count(1)
        # The Saleor it plays: payloads' `version`, the Saleor-Schema-Version header, and the
        # schema a document is validated against (what came after it is unknown to it).
        self.version = SALEOR_VERSION
        self.checkouts: dict[str, CheckoutRecord] = {}
        self.sessions: dict[str, SessionRecord] = {}
        # Where the storefront mutations deliver the app's webhooks (its base URL).
        self.app_url: str | None = None
        self.asgi_app = Starlette(
            routes=[
                Route("/.well-known/jwks.json", self._jwks, methods=["GET"]),
                Route("/graphql/", self._graphql, methods=["POST"]),
            ],
            # Saleor's API answers storefronts on any origin (django-cors-headers, all origins).
            middleware=[
                Middleware(
                    CORSMiddleware,
                    allow_origins=["*"],
                    allow_methods=["POST", "OPTIONS"],
                    allow_headers=["*"],
                )
            ],
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.asgi_app(scope, receive, send)

    # -- serving -------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[RunningServer]:
        """Run under uvicorn in the current loop; sets `base_url` to where it listens."""
        async with serve_in_loop(self.asgi_app) as server:
            self.base_url_value = server.url
            yield server

    @contextlib.contextmanager
    def serve_in_thread(self) -> Iterator[RunningServer]:
        with serve_in_thread(self.asgi_app) as server:
            self.base_url_value = server.url
            yield server

    @property
    def base_url(self) -> str:
        if self.base_url_value is None:
            raise SaleorDoubleError(
                "the double is not serving yet: use `async with double.serve()`"
            )
        return self.base_url_value

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/graphql/"

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/.well-known/jwks.json"

    # -- keys and signatures -------------------------------------------------------------------

    def public_jwk(self) -> dict[str, Any]:
        numbers = self._private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "key_ops": ["verify"],
            "n": _uint_b64url(numbers.n),
            "e": _uint_b64url(numbers.e),
            "use": "sig",
            "kid": self.kid,
            "alg": "RS256",
        }

    @property
    def kid(self) -> str:
        """RFC 7638 thumbprint of the public key, as Saleor's `kid`."""
        numbers = self._private_key.public_key().public_numbers()
        return rsa_thumbprint(_uint_b64url(numbers.n), _uint_b64url(numbers.e))

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk()]}

    def rotate_key(self) -> None:
        """Replace the signing key, as when the operator changes RSA_PRIVATE_KEY."""
        self._private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def sign(self, body: bytes) -> str:
        """Saleor's `Saleor-Signature`: a detached JWS (RFC 7797, unencoded payload)."""
        return jwt.api_jws.encode(
            body,
            self._private_key,
            algorithm="RS256",
            headers={"kid": self.kid, "typ": "JWT"},
            is_payload_detached=True,
        )

    def dashboard_token(
        self,
        *,
        user_permissions: Sequence[str],
        app_id: str | None = None,
        exp_seconds: int = 300,
        email: str = "staff@example.com",
        user_id: str | None = None,
        is_staff: bool = True,
        audience: str | None = None,
    ) -> str:
        """The RS256 JWT the Dashboard hands an app's iframe (§2.1), signed with the current key."""
        app = self.apps.get(app_id) if app_id is not None else self._current_app()
        app_permissions = set(app.permissions) if app is not None else set()
        now = int(time.time())
        claims: dict[str, Any] = {
            "iat": now,
            "exp": now + exp_seconds,
            "iss": self.api_url,
            "owner": "saleor",
            "type": "thirdparty",
            "token": secrets.token_hex(16),
            "email": email,
            "user_id": user_id or global_id("User", 1),
            "is_staff": is_staff,
            "app": app_id if app_id is not None else (app.id if app else None),
            "permissions": [p for p in user_permissions if p in app_permissions],
            "user_permissions": list(user_permissions),
        }
        if audience is not None:
            claims["aud"] = audience
        return jwt.encode(claims, self._private_key, algorithm="RS256", headers={"kid": self.kid})

    # -- apps, channels, transactions ------------------------------------------------------------

    def create_app(
        self,
        *,
        app_id: str | None = None,
        active: bool = True,
        permissions: Sequence[str] = ("HANDLE_PAYMENTS",),
        identifier: str = "saleor.alipay.scan-to-bind",  # the manifest's id, as Saleor takes it
        name: str = "Alipay",
    ) -> AppRecord:
        """An app and its token, as `appInstall` creates them before the token handshake."""
        token = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(30))
        app = AppRecord(
            id=app_id or global_id("App", next(self._ids)),
            token=token,
            identifier=identifier,
            name=name,
            permissions=list(permissions),
            is_active=active,
        )
        self.apps[app.id] = app
        return app

    def remove_app(self, app_id: str) -> None:
        """Like `appDelete`: the app and its token are gone."""
        self.apps.pop(app_id, None)

    def _current_app(self) -> AppRecord | None:
        installed = [a for a in self.apps.values() if a.is_installed]
        candidates = installed or list(self.apps.values())
        return candidates[-1] if candidates else None

    @property
    def installed_app(self) -> AppRecord:
        app = self._current_app()
        if app is None or not app.is_installed:
            raise SaleorDoubleError("no app is installed on the double")
        return app

    def channel(self, slug: str | None = None) -> Channel:
        if slug is None:
            return self.channels[0]
        for channel in self.channels:
            if channel.slug == slug:
                return channel
        raise SaleorDoubleError(f"the double has no channel {slug!r}")

    def create_transaction(
        self,
        *,
        app_id: str,
        currency: str,
        transaction_id: str | None = None,
        psp_reference: str = "",
    ) -> TransactionRecord:
        token = str(uuid.uuid4())
        transaction = TransactionRecord(
            id=transaction_id or global_id("TransactionItem", token),
            token=token,
            app_id=app_id,
            currency=currency,
            psp_reference=psp_reference,
        )
        self.transactions[transaction.id] = transaction
        self.transaction_events.setdefault(transaction.id, [])
        return transaction

    # -- HTTP: JWKS and GraphQL --------------------------------------------------------------------

    async def _jwks(self, _request: Request) -> Response:
        self.jwks_fetches += 1
        return JSONResponse(self.jwks())

    def add_staff(
        self,
        email: str,
        password: str,
        *,
        permissions: Sequence[str] = ("MANAGE_APPS", "HANDLE_PAYMENTS"),
        is_superuser: bool = False,
    ) -> StaffUser:
        """A staff account `tokenCreate` accepts."""
        user = StaffUser(email, password, list(permissions), is_superuser)
        self.staff[email.lower()] = user
        return user

    def _staff_for(self, token: str | None) -> StaffUser | None:
        if token is None:
            return None
        user = self._staff_tokens.get(token)
        return user if user is not None and user.is_active else None

    def customer_token(self, customer: Customer | None = None) -> str:
        """An access token of `customer` (the default one), as `tokenCreate` gives a customer
        who logs in to the storefront: what the storefront sends as `Authorization: Bearer`."""
        user = customer or self.customer
        token = self._access_token(user.email, user_id=user.id, is_staff=False)
        self._customer_tokens[token] = user
        return token

    def _access_token(self, email: str, **claims: object) -> str:
        """An access JWT as Saleor's `tokenCreate` signs it (5 minutes), with ``claims``."""
        now = int(time.time())
        body = {
            "iat": now,
            "exp": now + 300,
            "iss": self.api_url,
            "owner": "saleor",
            "type": "access",
            "token": secrets.token_hex(16),
            "email": email,
            **claims,
        }
        return jwt.encode(body, self._private_key, algorithm="RS256", headers={"kid": self.kid})

    def _customer_for(self, token: str | None) -> Customer | None:
        return self._customer_tokens.get(token) if token is not None else None

    async def installations_settled(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Wait until every queued `appInstall` job has run (as Celery would)."""
        async with asyncio.timeout(timeout):
            while self._background:
                await asyncio.gather(*list(self._background), return_exceptions=True)

    def _app_for(self, token: str | None) -> AppRecord | None:
        if token is None:
            return None
        for app in self.apps.values():
            if secrets.compare_digest(app.token, token):
                return app if app.is_active else None
        return None

    @staticmethod
    def _token_from(request: Request) -> str | None:
        authorization = request.headers.get("authorization")
        if authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() in ("bearer", "jwt") and value.strip():
                return value.strip()
        return request.headers.get("authorization-bearer")

    @property
    def schema_version(self) -> str:
        """ "3.24": the Saleor-Schema-Version header of the Saleor it plays."""
        major, minor = self._minor
        return f"{major}.{minor}"

    @property
    def _minor(self) -> tuple[int, int]:
        key = parse_version(self.version)
        return key[0], key[1]

    def _checked(self, query: str) -> tuple[DocumentNode, list[GraphQLError]]:
        """The document and its validation errors, parsed and validated once per query text
        (as Saleor caches them): an app sends the same few documents again and again. An
        older Saleor (`version`) does not know what came after it: such a use is an error."""
        cache_key = f"{self.version}\n{query}"
        known = self._documents.get(cache_key)
        if known is None:
            document = parse(query)  # GraphQLSyntaxError: not kept, raised again next time
            errors = validate(self.schema, document)
            if not errors and self._minor < (3, 24):
                errors = [
                    GraphQLError(f"Saleor {self.schema_version} does not know {usage}")
                    for usage in usages_newer_than(document, self._minor, schema=self.schema)
                ]
            known = (document, errors)
            if len(self._documents) < 256:
                self._documents[cache_key] = known
        return known

    def _reject(self, query: str, errors: list[str], status_code: int = 400) -> Response:
        self.invalid_documents.append(InvalidDocument(query, errors))
        return _json_response(
            {
                "errors": [
                    {"message": message, "extensions": {"exception": {"code": "GraphQLError"}}}
                    for message in errors
                ]
            },
            status_code,
        )

    async def _hang(self, request: Request) -> None:
        """Hold the request until the client gives up (or `hang_seconds` pass)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.hang_seconds):
                message: Mapping[str, Any] = {}
                while message.get("type") != "http.disconnect":
                    message = await request.receive()

    async def _graphql(self, request: Request) -> Response:
        raw = await request.body()
        token = self._token_from(request)
        try:
            body = json.loads(raw, parse_float=Decimal)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return self._reject(raw.decode("utf-8", "replace"), ["Unable to parse query."])
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return self._reject(str(body), ["Must provide a query string."])
        query: str = body["query"]
        variables = body.get("variables") or {}
        if not isinstance(variables, dict):
            return self._reject(query, ["Variables are invalid JSON."])
        operation_name = body.get("operationName")
        if self.fail_graphql == "timeout":
            self.calls.append(GraphQLCall(operation_name, query, variables, token, 504))
            await self._hang(request)
            return PlainTextResponse("Gateway Timeout", status_code=504)
        if self.fail_graphql == "http_500":
            self.calls.append(GraphQLCall(operation_name, query, variables, token, 500))
            return PlainTextResponse("Internal Server Error", status_code=500)
        try:
            document, errors = self._checked(query)
        except GraphQLSyntaxError as exc:
            self.calls.append(GraphQLCall(operation_name, query, variables, token, 400))
            return self._reject(query, [exc.message])
        operation = get_operation_ast(document, operation_name)
        if operation_name is None and operation is not None and operation.name is not None:
            operation_name = operation.name.value
        if errors or operation is None:
            self.calls.append(GraphQLCall(operation_name, query, variables, token, 400))
            messages = [e.message for e in errors] or ["Must provide a valid operation name."]
            return self._reject(query, messages)
        if operation.operation is OperationType.SUBSCRIPTION:
            self.calls.append(GraphQLCall(operation_name, query, variables, token, 400))
            return self._reject(query, ["Subscriptions are not allowed over HTTP."])
        executed = execute(
            self.schema,
            document,
            context_value=_RequestContext(
                self._app_for(token), self._staff_for(token), self._customer_for(token)
            ),
            variable_values=variables,
            operation_name=operation_name,
            field_resolver=self._resolve,
        )
        # The storefront's mutations deliver webhooks: their resolvers are coroutines.
        result = await executed if inspect.isawaitable(executed) else executed
        assert isinstance(result, ExecutionResult)
        request_errors = [e for e in result.errors or [] if e.path is None]
        status_code = 400 if request_errors and result.data is None else 200
        self.calls.append(GraphQLCall(operation_name, query, variables, token, status_code))
        if status_code == 400:
            return self._reject(query, [e.message for e in request_errors])
        formatted: dict[str, Any] = {"data": result.data}
        if result.errors:
            formatted["errors"] = [self._format_error(e) for e in result.errors]
        return _json_response(formatted)

    @staticmethod
    def _format_error(error: GraphQLError) -> dict[str, Any]:
        formatted = dict(error.formatted)
        formatted.setdefault("extensions", {"exception": {"code": "GraphQLError"}})
        return formatted

    def _resolve(self, source: Any, info: Info, **args: Any) -> Any:
        parent = info.parent_type.name
        if info.parent_type in (self.schema.query_type, self.schema.mutation_type):
            handlers: dict[tuple[str, str], Callable[..., Any]] = {
                ("Query", "app"): self._query_app,
                ("Query", "channels"): self._query_channels,
                ("Mutation", "transactionEventReport"): self._transaction_event_report,
                ("Mutation", "transactionUpdate"): self._transaction_update,
                ("Query", "transaction"): self._query_transaction,
                ("Mutation", "tokenCreate"): self._token_create,
                ("Mutation", "appInstall"): self._app_install,
                ("Query", "appsInstallations"): self._apps_installations,
                ("Query", "checkout"): self._query_checkout,
                ("Mutation", "paymentGatewayInitialize"): self._payment_gateway_initialize,
                ("Mutation", "transactionInitialize"): self._transaction_initialize,
                ("Mutation", "transactionProcess"): self._transaction_process,
                ("Mutation", "checkoutComplete"): self._checkout_complete,
                ("Query", "me"): self._query_me,
                (
                    "Mutation",
                    "paymentGatewayInitializeTokenization",
                ): self._payment_gateway_initialize_tokenization,
                (
                    "Mutation",
                    "paymentMethodInitializeTokenization",
                ): self._payment_method_initialize_tokenization,
                (
                    "Mutation",
                    "paymentMethodProcessTokenization",
                ): self._payment_method_process_tokenization,
                (
                    "Mutation",
                    "storedPaymentMethodRequestDelete",
                ): self._stored_payment_method_request_delete,
            }
            handler = handlers.get((parent, info.field_name))
            if handler is None:
                raise GraphQLError(f"the Saleor double does not answer {parent}.{info.field_name}")
            return handler(info, **args)
        if isinstance(source, Mapping):
            if info.field_name not in source:
                raise GraphQLError(f"the Saleor double has no value for {parent}.{info.field_name}")
            value = source[info.field_name]
            # A field with arguments (`User.storedPaymentMethods(channel:)`): resolved on demand.
            return value(info, **args) if callable(value) else value
        return default_field_resolver(source, info, **args)

    @staticmethod
    def _requestor(info: Info) -> AppRecord | None:
        context = info.context
        assert isinstance(context, _RequestContext)
        return context.app

    def _query_app(self, info: Info, id: str | None = None) -> dict[str, Any]:
        app = self._requestor(info)
        if app is None:
            raise PermissionDenied("AUTHENTICATED_STAFF_USER, AUTHENTICATED_APP")
        if id is not None and id != app.id:
            raise PermissionDenied("MANAGE_APPS")
        return {
            "id": app.id,
            "identifier": app.identifier,
            "name": app.name,
            "isActive": app.is_active,
            "isInstalled": app.is_installed,
            "permissions": [
                {"code": p, "name": p.replace("_", " ").capitalize()} for p in app.permissions
            ],
        }

    def _query_channels(self, info: Info) -> list[dict[str, Any]]:
        if self._requestor(info) is None and self._staff(info) is None:
            raise PermissionDenied("AUTHENTICATED_APP, AUTHENTICATED_STAFF_USER")
        return [
            {
                "id": c.id,
                "slug": c.slug,
                "name": c.name,
                "currencyCode": c.currency_code,
                "isActive": c.is_active,
            }
            for c in self.channels
        ]

    @staticmethod
    def _staff(info: Info) -> StaffUser | None:
        context = info.context
        assert isinstance(context, _RequestContext)
        return context.staff

    def _token_create(
        self, info: Info, email: str, password: str, audience: str | None = None
    ) -> dict[str, Any]:
        """`tokenCreate`: an access JWT for a staff account, or INVALID_CREDENTIALS."""
        user = self.staff.get(email.lower())
        if (
            user is None
            or not user.is_active
            or not secrets.compare_digest(user.password, password)
        ):
            error = {
                "field": "email",
                "code": "INVALID_CREDENTIALS",
                "message": "Please, enter valid credentials",
            }
            return {
                "token": None,
                "refreshToken": None,
                "csrfToken": None,
                "user": None,
                "errors": [error],
                "accountErrors": [error],
            }
        token = self._access_token(user.email, is_staff=True)
        self._staff_tokens[token] = user
        return {
            "token": token,
            "refreshToken": None,
            "csrfToken": None,
            "user": None,
            "errors": [],
            "accountErrors": [],
        }

    def _app_install(self, info: Info, input: Mapping[str, Any]) -> dict[str, Any]:
        """`appInstall` (APP-PROTOCOL.md §2): a PENDING job; the installation runs after the
        answer (Saleor's Celery task): manifest fetched and checked, app created, token posted
        to the manifest's tokenTargetUrl; the job deleted on success, FAILED otherwise."""
        user = self._staff(info)
        if user is None or not user.has("MANAGE_APPS"):
            raise PermissionDenied("AUTHENTICATED_STAFF_USER, MANAGE_APPS")
        permissions = [str(p) for p in input.get("permissions") or []]
        missing = [p for p in permissions if not user.has(p)]
        if missing:
            error = {
                "field": "permissions",
                "code": "OUT_OF_SCOPE_PERMISSION",
                "message": "You can't add permission that you don't have.",
                "permissions": missing,
            }
            return {"appInstallation": None, "errors": [error], "appErrors": [error]}
        job = AppInstallationJob(
            id=global_id("AppInstallation", next(self._ids)),
            app_name=str(input["appName"]),
            manifest_url=str(input["manifestUrl"]),
            permissions=permissions,
        )
        self.installation_jobs[job.id] = job
        active = input.get("activateAfterInstallation")
        task = asyncio.get_running_loop().create_task(
            self._run_installation(job, active=active is not False)
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return {"appInstallation": job.as_graphql(), "errors": [], "appErrors": []}

    async def _run_installation(self, job: AppInstallationJob, *, active: bool) -> None:
        def failed(message: str) -> None:
            job.status = "FAILED"
            job.message = message
            self.failed_installations.append(message)

        try:
            manifest = await self.fetch_manifest(job.manifest_url)
        except (SaleorDoubleError, httpx.HTTPError) as exc:
            failed(str(exc) if isinstance(exc, SaleorDoubleError) else "Unable to fetch manifest")
            return
        problems = self.validate_manifest(manifest)
        if problems:
            failed("; ".join(problems))
            return
        identifier = str(manifest["id"])
        if any(a.identifier == identifier and a.is_installed for a in self.apps.values()):
            failed("App with this Identifier already exists.")
            return
        target = manifest.get("tokenTargetUrl")
        if not isinstance(target, str):
            failed("the manifest has no tokenTargetUrl")
            return
        try:
            response = await self.install(
                target,
                active=active,
                permissions=job.permissions,
                identifier=identifier,
                name=job.app_name,
            )
        except httpx.HTTPError:
            job.status = "FAILED"
            job.message = "Failed to connect to app"
            return
        if response.is_success:
            del self.installation_jobs[job.id]  # Saleor deletes a successful job
        else:
            job.status = "FAILED"
            job.message = self.failed_installations[-1]

    def _apps_installations(self, info: Info) -> list[dict[str, Any]]:
        user = self._staff(info)
        if user is None or not user.has("MANAGE_APPS"):
            raise PermissionDenied("MANAGE_APPS")
        return [job.as_graphql() for job in self.installation_jobs.values()]

    def _transaction_as_graphql(self, transaction: TransactionRecord) -> dict[str, Any]:
        return {
            "id": transaction.id,
            "token": transaction.token,
            "name": transaction.name,
            "pspReference": transaction.psp_reference,
            "actions": list(transaction.actions),
            "events": [e.as_graphql() for e in self.transaction_events[transaction.id]],
            "paymentMethodDetails": (
                {"__typename": "OtherPaymentMethodDetails", **transaction.payment_method_details}
                if transaction.payment_method_details
                else None
            ),
            "order": {"id": transaction.order_id} if transaction.order_id else None,
            "checkout": (
                {"id": transaction.checkout_id}
                if transaction.checkout_id and not transaction.order_id
                else None
            ),
        }

    def _owned_transaction(self, info: Info, args: Mapping[str, Any]) -> TransactionRecord | None:
        """The transaction named by `id` or `token`, if it exists; refused unless the calling
        app holds HANDLE_PAYMENTS and owns it (APP-PROTOCOL.md §5)."""
        app = self._requestor(info)
        if app is None or "HANDLE_PAYMENTS" not in app.permissions:
            raise PermissionDenied("OWNER, HANDLE_PAYMENTS")
        transaction_id, transaction_token = args.get("id"), args.get("token")
        if transaction_id is None and transaction_token is None:
            raise GraphQLError("At least one of arguments is required: 'id', 'token'.")
        if transaction_id is not None:
            transaction = self.transactions.get(str(transaction_id))
        else:
            transaction = next(
                (t for t in self.transactions.values() if t.token == str(transaction_token)), None
            )
        if transaction is not None and transaction.app_id != app.id:
            raise PermissionDenied("OWNER, HANDLE_PAYMENTS")
        return transaction

    def _query_transaction(self, info: Info, **args: Any) -> dict[str, Any] | None:
        """`transaction(id|token)`: HANDLE_PAYMENTS (or MANAGE_ORDERS for staff)."""
        transaction = self._owned_transaction(info, args)
        return self._transaction_as_graphql(transaction) if transaction is not None else None

    def _transaction_update(self, info: Info, **args: Any) -> dict[str, Any]:
        """`transactionUpdate` for what the app sends: the name and, from 3.22, the payment
        method; no event (no `transactionEvent`, no amounts), as in Saleor (§5.2)."""
        transaction = self._owned_transaction(info, args)
        if transaction is None:
            return {
                "transaction": None,
                "transactionEvent": None,
                "errors": [
                    {
                        "field": "id",
                        "code": "NOT_FOUND",
                        "message": f"Couldn't resolve to a node: {args.get('id')}",
                    }
                ],
            }
        changes = args.get("transaction") or {}
        unsupported = set(changes) - {"name", "message", "paymentMethodDetails"}
        if unsupported or args.get("transactionEvent") is not None:
            raise SaleorDoubleError(f"the double does not update {sorted(unsupported)}")
        if changes.get("name") is not None:
            transaction.name = str(changes["name"])[:512]
        details = changes.get("paymentMethodDetails")
        if details is not None:
            transaction.payment_method_details = self._payment_method_details(details)
        return {
            "transaction": self._transaction_as_graphql(transaction),
            "transactionEvent": None,
            "errors": [],
        }

    @staticmethod
    def _payment_method_details(details: Mapping[str, Any]) -> dict[str, Any]:
        """`PaymentMethodDetailsInput`: exactly one of card, other, giftCard (§5.1)."""
        given = [k for k, v in details.items() if v is not None]
        if given != ["other"]:
            raise GraphQLError(f"the double takes `other` payment method details, got {given}")
        name = str(details["other"]["name"])
        if len(name) > 256:
            raise GraphQLError("Ensure this value has at most 256 characters.")
        return {"type": "OTHER", "name": name}

    def _transaction_event_report(self, info: Info, **args: Any) -> dict[str, Any]:
        """`transactionEventReport` with Saleor's rules (APP-PROTOCOL.md §5.1, §8.8)."""
        app = self._requestor(info)
        if app is None or "HANDLE_PAYMENTS" not in app.permissions:
            raise PermissionDenied("OWNER, HANDLE_PAYMENTS")

        def failed(field_name: str, code: str, message: str) -> dict[str, Any]:
            return {
                "alreadyProcessed": None,
                "transaction": None,
                "transactionEvent": None,
                "errors": [{"field": field_name, "code": code, "message": message}],
            }

        transaction_id, transaction_token = args.get("id"), args.get("token")
        if transaction_id is None and transaction_token is None:
            return failed(
                "id", "GRAPHQL_ERROR", "At least one of arguments is required: 'id', 'token'."
            )
        if transaction_id is not None:
            transaction = self.transactions.get(transaction_id)
        else:
            transaction = next(
                (t for t in self.transactions.values() if t.token == str(transaction_token)), None
            )
        if transaction is None:
            return failed("id", "NOT_FOUND", f"Couldn't resolve to a node: {transaction_id}")
        if transaction.app_id != app.id:
            raise PermissionDenied("OWNER, HANDLE_PAYMENTS")
        events = self.transaction_events[transaction.id]
        event_type: str = args["type"]
        psp_reference: str = args["pspReference"]
        amount: Decimal | None = None
        if args.get("amount") is not None:
            try:
                amount = Decimal(str(args["amount"]))
            except InvalidOperation:
                raise GraphQLError(f"Invalid PositiveDecimal: {args['amount']!r}") from None
            if not amount.is_finite() or amount < 0:
                raise GraphQLError(f"Invalid PositiveDecimal: {args['amount']!r}")
            amount = quantize(amount, transaction.currency)
        elif event_type.endswith(_AMOUNT_REQUIRED_SUFFIXES) or event_type == (
            "AUTHORIZATION_ADJUSTMENT"
        ):
            return failed("amount", "REQUIRED", "The `amount` field is required for this event.")
        elif event_type == "INFO":
            amount = Decimal(0)
        else:
            earlier = [e for e in events if e.psp_reference == psp_reference]
            if not earlier:
                return failed(
                    "amount",
                    "REQUIRED",
                    "Cannot calculate the amount: no event with this pspReference.",
                )
            amount = earlier[-1].amount
        if args.get("availableActions") is not None:
            transaction.actions = list(args["availableActions"])
        # Applied on every path, an already processed event's included (§5.1).
        if args.get("paymentMethodDetails") is not None:
            transaction.payment_method_details = self._payment_method_details(
                args["paymentMethodDetails"]
            )
        if event_type not in _NEVER_DEDUPLICATED:
            same = [e for e in events if e.psp_reference == psp_reference and e.type == event_type]
            if same and same[0].amount == amount:
                return {
                    "alreadyProcessed": True,
                    "transaction": self._transaction_as_graphql(transaction),
                    "transactionEvent": same[0].as_graphql(),
                    "errors": [],
                }
            if same:
                return failed(
                    "pspReference",
                    "INCORRECT_DETAILS",
                    "The transaction with provided `pspReference` and `type` already exists "
                    "with different amount.",
                )
        if event_type == "AUTHORIZATION_SUCCESS" and any(
            e.type == "AUTHORIZATION_SUCCESS" for e in events
        ):
            return failed(
                "type",
                "ALREADY_EXISTS",
                "Event with `AUTHORIZATION_SUCCESS` already reported for the transaction. Use "
                "`AUTHORIZATION_ADJUSTMENT` to change the authorization amount.",
            )
        record = TransactionEventRecord(
            id=global_id("TransactionEvent", next(self._ids)),
            type=event_type,
            psp_reference=psp_reference,
            amount=amount,
            currency=transaction.currency,
            created_at=str(args.get("time") or _now_iso()),
            message=str(args.get("message") or "")[:512],
            external_url=str(args.get("externalUrl") or ""),
            app_id=app.id,
        )
        events.append(record)
        if not transaction.psp_reference and event_type in _SETS_PSP_REFERENCE:
            transaction.psp_reference = psp_reference
        return {
            "alreadyProcessed": False,
            "transaction": self._transaction_as_graphql(transaction),
            "transactionEvent": record.as_graphql(),
            "errors": [],
        }

    # -- the storefront's side: checkouts and their payment sessions (§4.1-§4.3, §8.3) ---------

    def create_checkout(
        self,
        total: Decimal,
        *,
        channel_slug: str | None = None,
        customer: Customer | None = None,
        guest: bool = False,
    ) -> CheckoutRecord:
        """A checkout to pay for `total`, the default customer's unless `guest` or `customer`."""
        checkout = CheckoutRecord(
            id=global_id("Checkout", uuid.uuid4()),
            channel=self.channel(channel_slug),
            total=total,
            customer=None if guest else (customer or self.customer),
        )
        self.checkouts[checkout.id] = checkout
        return checkout

    def charge_status(self, checkout: CheckoutRecord) -> str:
        """Charged plus pending (a CHARGE_REQUEST that counts) against the total (§4.2, §8.3)."""
        covered = Decimal(0)
        for transaction_id in checkout.transaction_ids:
            events = self.transaction_events[transaction_id]
            settled = {e.psp_reference for e in events if e.type in _FINAL_CHARGE}
            # Saleor recalculates amounts per pspReference: a repeated success counts once.
            seen: set[tuple[str, str]] = set()
            for event in events:
                if (event.type, event.psp_reference) in seen:
                    continue
                seen.add((event.type, event.psp_reference))
                if event.type == "CHARGE_SUCCESS" or (
                    event.type == "CHARGE_REQUEST"
                    and event.include_in_calculations
                    and event.psp_reference not in settled
                ):
                    covered += event.amount
        if covered == 0:
            return "NONE"
        if covered < checkout.total:
            return "PARTIAL"
        return "FULL" if covered == checkout.total else "OVERCHARGED"

    def _checkout_of(self, checkout_id: str) -> CheckoutRecord:
        checkout = self.checkouts.get(checkout_id)
        if checkout is None:
            raise GraphQLError(f"Couldn't resolve id: {checkout_id}.")
        return checkout

    def _query_checkout(self, _info: Info, id: str | None = None, **_args: Any) -> Any:
        checkout = self.checkouts.get(id or "")
        if checkout is None or checkout.order_id is not None:
            return None
        return {"id": checkout.id, "chargeStatus": self.charge_status(checkout)}

    async def _deliver_to_app(self, event: SyncEvent, payload: dict[str, Any]) -> Any:
        """Deliver a session webhook to the installed app; its answer, or None when the
        delivery failed or the answer is one Saleor refuses."""
        if self.app_url is None:
            raise SaleorDoubleError("set `double.app_url` to deliver the storefront's webhooks")
        response = await self.deliver(self.app_url + event.path, event, payload)
        if response.status_code != 200:
            return None
        answer = response.json()
        try:
            self.validate_response(event, answer)
        except AssertionError as exc:
            self.refused_answers.append((event, str(exc)))
            return None
        return answer

    def _source_overrides(self, checkout: CheckoutRecord) -> dict[str, Any]:
        return {
            "channel_slug": checkout.channel.slug,
            "customer": checkout.customer,
            "guest": checkout.customer is None,
            "sourceObject": {"id": checkout.id},
        }

    async def _payment_gateway_initialize(
        self, _info: Info, id: str, paymentGateways: list[Any] | None = None, **args: Any
    ) -> dict[str, Any]:
        checkout = self._checkout_of(id)
        app = self.installed_app
        amount = args.get("amount")
        configs = []
        for gateway in paymentGateways or []:
            if gateway["id"] != app.identifier:
                continue
            payload = self.payload(
                SyncEvent.PAYMENT_GATEWAY_INITIALIZE_SESSION,
                amount=Decimal(str(amount)) if amount is not None else checkout.total,
                data=gateway.get("data"),
                **self._source_overrides(checkout),
            )
            answer = await self._deliver_to_app(
                SyncEvent.PAYMENT_GATEWAY_INITIALIZE_SESSION, payload
            )
            if answer is None:
                configs.append(
                    {
                        "id": gateway["id"],
                        "data": None,
                        "errors": [{"code": "INVALID", "message": "Failed to delivery request."}],
                    }
                )
            else:
                configs.append({"id": gateway["id"], "data": answer.get("data"), "errors": []})
        return {"gatewayConfigs": configs, "errors": []}

    def _session_event(
        self, transaction: TransactionRecord, answer: Any, amount: Decimal
    ) -> TransactionEventRecord:
        """The event Saleor makes of a session answer (an invalid one: CHARGE_FAILURE)."""
        if answer is None:
            kind, psp, message, value = "CHARGE_FAILURE", "", "Failed to delivery request.", amount
        else:
            kind = answer["result"]
            psp = str(answer.get("pspReference") or "")
            message = str(answer.get("message") or "")
            given = answer.get("amount")
            value = Decimal(str(given)) if given is not None else amount
        record = TransactionEventRecord(
            id=global_id("TransactionEvent", next(self._ids)),
            type=kind,
            psp_reference=psp,
            amount=quantize(value, transaction.currency),
            currency=transaction.currency,
            created_at=_now_iso(),
            message=message[:512],
            external_url="",
            app_id=transaction.app_id,
        )
        self.transaction_events[transaction.id].append(record)
        if psp and not transaction.psp_reference:
            transaction.psp_reference = psp
        if answer is not None and answer.get("actions") is not None:
            transaction.actions = list(answer["actions"])
        return record

    @staticmethod
    def _session_result(
        transaction: TransactionRecord, event: TransactionEventRecord, data: Any
    ) -> dict[str, Any]:
        return {
            "transaction": {"id": transaction.id},
            "transactionEvent": {"type": event.type, "message": event.message},
            "data": data,
            "errors": [],
        }

    async def _transaction_initialize(
        self, _info: Info, id: str, paymentGateway: Mapping[str, Any], **args: Any
    ) -> dict[str, Any]:
        checkout = self._checkout_of(id)
        app = self.installed_app

        def error(field_name: str, code: str, message: str) -> dict[str, Any]:
            return {
                "transaction": None,
                "transactionEvent": None,
                "data": None,
                "errors": [{"field": field_name, "code": code, "message": message}],
            }

        if paymentGateway["id"] != app.identifier:
            return error("paymentGateway", "NOT_FOUND", "App not found.")
        key = args.get("idempotencyKey") or str(uuid.uuid4())
        amount = quantize(
            Decimal(str(args["amount"])) if args.get("amount") is not None else checkout.total,
            checkout.channel.currency_code,
        )
        existing = next((tid for tid, s in self.sessions.items() if s.idempotency_key == key), None)
        if existing is not None:
            session = self.sessions[existing]
            if session.checkout_id != checkout.id or session.amount != amount:
                return error(
                    "idempotencyKey",
                    "UNIQUE",
                    "Different transaction with provided idempotency key already exists.",
                )
            transaction = self.transactions[existing]
        else:
            transaction = self.create_transaction(
                app_id=app.id, currency=checkout.channel.currency_code
            )
            transaction.checkout_id = checkout.id
            self.sessions[transaction.id] = SessionRecord(checkout.id, amount, key)
            checkout.transaction_ids.append(transaction.id)
            # Saleor's request event, kept out of the amounts.
            self.transaction_events[transaction.id].append(
                TransactionEventRecord(
                    id=global_id("TransactionEvent", next(self._ids)),
                    type="CHARGE_REQUEST",
                    psp_reference="",
                    amount=amount,
                    currency=transaction.currency,
                    created_at=_now_iso(),
                    message="",
                    external_url="",
                    app_id=app.id,
                    include_in_calculations=False,
                )
            )
        payload = self.payload(
            SyncEvent.TRANSACTION_INITIALIZE_SESSION,
            amount=amount,
            transaction={"id": transaction.id},
            data=paymentGateway.get("data"),
            idempotencyKey=key,
            **self._source_overrides(checkout),
        )
        answer = await self._deliver_to_app(SyncEvent.TRANSACTION_INITIALIZE_SESSION, payload)
        event = self._session_event(transaction, answer, amount)
        return self._session_result(transaction, event, answer.get("data") if answer else None)

    async def _transaction_process(
        self, _info: Info, id: str | None = None, data: Any = None, **_args: Any
    ) -> dict[str, Any]:
        transaction = self.transactions.get(id or "")
        session = self.sessions.get(id or "")
        if transaction is None or session is None:
            return {
                "transaction": None,
                "transactionEvent": None,
                "data": None,
                "errors": [
                    {"code": "INVALID", "message": "Missing call of `transactionInitialize`."}
                ],
            }
        events = self.transaction_events[transaction.id]
        final = next(
            (
                e
                for e in events
                if e.type in _FINAL_CHARGE
                or (e.type == "CHARGE_REQUEST" and e.include_in_calculations)
            ),
            None,
        )
        if final is not None:
            # The session is over: the event as it stands, without calling the app (§8.3).
            return self._session_result(transaction, final, None)
        checkout = self.checkouts[session.checkout_id]
        payload = self.payload(
            SyncEvent.TRANSACTION_PROCESS_SESSION,
            amount=session.amount,
            transaction={"id": transaction.id},
            data=data,
            **self._source_overrides(checkout),
        )
        answer = await self._deliver_to_app(SyncEvent.TRANSACTION_PROCESS_SESSION, payload)
        event = self._session_event(transaction, answer, session.amount)
        return self._session_result(transaction, event, answer.get("data") if answer else None)

    def _checkout_complete(self, _info: Info, id: str | None = None, **_args: Any) -> Any:
        checkout = self._checkout_of(id or "")
        if checkout.order_id is None:
            if self.charge_status(checkout) not in ("FULL", "OVERCHARGED"):
                return {
                    "order": None,
                    "errors": [
                        {
                            "code": "CHECKOUT_NOT_FULLY_PAID",
                            "message": "The authorized amount doesn't cover the checkout's "
                            "total amount.",
                        }
                    ],
                }
            checkout.order_id = global_id("Order", uuid.uuid4())
            # The checkout's transactions move to the order.
            for transaction_id in checkout.transaction_ids:
                self.transactions[transaction_id].order_id = checkout.order_id
        return {"order": {"id": checkout.order_id}, "errors": []}

    # -- the customer's account: stored payment methods, tokenization, delete (§4.7-§4.11, §6) -

    @staticmethod
    def _user(info: Info) -> Customer | None:
        context = info.context
        assert isinstance(context, _RequestContext)
        return context.user

    def _query_me(self, info: Info) -> dict[str, Any] | None:
        """`me`: the logged-in customer; null for anyone else (an app, a guest)."""
        if self._staff(info) is not None:
            raise GraphQLError("the Saleor double does not answer Query.me for staff users")
        user = self._user(info)
        if user is None:
            return None

        async def stored(_info: Info, channel: str) -> list[dict[str, Any]] | None:
            return await self._stored_payment_methods(user, channel)

        return {"id": user.id, "email": user.email, "storedPaymentMethods": stored}

    async def _deliver_for_answer(
        self, event: SyncEvent, payload: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, str | None]:
        """Deliver `event` to the installed app: (its JSON answer, or None when the delivery
        failed (not 2xx, not JSON), and why Saleor's schema refuses the answer, if it does)."""
        if self.app_url is None:
            raise SaleorDoubleError("set `double.app_url` to deliver the storefront's webhooks")
        response = await self.deliver(self.app_url + event.path, event, payload)
        if not response.is_success:
            return None, None
        try:
            answer = response.json()
        except ValueError:
            return None, None
        try:
            self.validate_response(event, answer)
        except AssertionError as exc:
            self.refused_answers.append((event, str(exc)))
            return (answer if isinstance(answer, dict) else {}), str(exc)
        return answer, None

    def _active_app(self) -> AppRecord | None:
        """The installed, active app with HANDLE_PAYMENTS: the one that has the account
        webhooks (every payment sync event needs the permission, §3.4)."""
        app = self._current_app()
        if app is None or not app.is_installed or not app.is_active:
            return None
        return app if "HANDLE_PAYMENTS" in app.permissions else None

    def _channel_and_app(self, slug: str, no_app: str) -> tuple[Channel, AppRecord]:
        """The validated channel and the active payment app, or `_AccountError` (NOT_FOUND
        with Saleor's ``no_app`` message when no app is active)."""
        found = self._validated_channel(slug)
        app = self._active_app()
        if app is None:
            raise _AccountError(None, "NOT_FOUND", no_app)
        return found, app

    def _validated_channel(self, slug: str) -> Channel:
        """Saleor's `validate_channel`: NOT_FOUND or CHANNEL_INACTIVE on `channel`."""
        channel = next((c for c in self.channels if c.slug == slug), None)
        if channel is None:
            raise _AccountError(
                "channel", "NOT_FOUND", f"Channel with '{slug}' slug does not exist."
            )
        if not channel.is_active:
            raise _AccountError(
                "channel", "CHANNEL_INACTIVE", f"Channel with '{slug}' is inactive."
            )
        return channel

    def _logged_in(self, info: Info) -> Customer:
        user = self._user(info)
        if user is None:
            raise PermissionDenied("AUTHENTICATED_USER")
        return user

    async def _stored_payment_methods(
        self, user: Customer, slug: str
    ) -> list[dict[str, Any]] | None:
        """`User.storedPaymentMethods(channel)`: LIST_STORED_PAYMENT_METHODS to the app, each
        method checked on its own (an invalid one is skipped) and presented with Saleor's ids."""
        channel = next((c for c in self.channels if c.slug == slug), None)
        if channel is None:
            # Saleor loads no channel and fails inside the resolver.
            raise GraphQLError("Internal Server Error")
        app = self._active_app()
        if app is None:
            return []
        event = SyncEvent.LIST_STORED_PAYMENT_METHODS
        payload = self.payload(event, app=app, customer=user, channel_slug=channel.slug)
        answer, problem = await self._deliver_for_answer(event, payload)
        if answer is None or not isinstance(answer.get("paymentMethods"), list):
            return []
        methods = []
        for item in answer["paymentMethods"]:
            if problem is not None:
                checked = _checked_stored_method(item)
                if checked is None:
                    continue
                item = checked
            methods.append(
                {
                    "id": payment_app_id(app, item["id"]),
                    "paymentMethodId": item["id"],
                    "gateway": {
                        "id": app.identifier,
                        "name": app.name,
                        "currencies": [channel.currency_code],
                        "config": [],
                    },
                    "type": item["type"],
                    "name": item.get("name"),
                    "data": item.get("data"),
                    "creditCardInfo": item.get("creditCardInfo"),
                    "supportedPaymentFlows": item.get("supportedPaymentFlows"),
                }
            )
        return methods

    async def _payment_gateway_initialize_tokenization(
        self, info: Info, id: str, channel: str, data: Any = None
    ) -> dict[str, Any]:
        user = self._logged_in(info)
        try:
            found, app = self._channel_and_app(
                channel,
                "No active payment app that could initialize payment gateway for tokenization.",
            )
        except _AccountError as error:
            return {"result": "FAILED_TO_DELIVER", "data": None, "errors": [error.as_graphql()]}
        if id != app.identifier:
            return _gateway_error_result(
                "FAILED_TO_DELIVER", "Payment gateway initialize tokenization failed to deliver."
            )
        event = SyncEvent.PAYMENT_GATEWAY_INITIALIZE_TOKENIZATION_SESSION
        payload = self.payload(event, app=app, customer=user, channel_slug=found.slug, data=data)
        answer, problem = await self._deliver_for_answer(event, payload)
        if answer is None:
            return _gateway_error_result("FAILED_TO_DELIVER", "Failed to delivery request.")
        if problem is not None:
            return _gateway_error_result("FAILED_TO_INITIALIZE", problem)
        result = answer["result"]
        errors = (
            []
            if result == "SUCCESSFULLY_INITIALIZED"
            else [_account_error(None, "GATEWAY_ERROR", answer.get("error"))]
        )
        return {"result": result, "data": answer.get("data"), "errors": errors}

    async def _payment_method_initialize_tokenization(
        self,
        info: Info,
        id: str,
        channel: str,
        paymentFlowToSupport: str,
        data: Any = None,
    ) -> dict[str, Any]:
        user = self._logged_in(info)
        return await self._tokenization(
            SyncEvent.PAYMENT_METHOD_INITIALIZE_TOKENIZATION_SESSION,
            user,
            channel,
            identifier=id,
            undelivered="Payment method initialize tokenization failed to deliver.",
            data=data,
            paymentFlowToSupport=paymentFlowToSupport,
        )

    async def _payment_method_process_tokenization(
        self, info: Info, id: str, channel: str, data: Any = None
    ) -> dict[str, Any]:
        user = self._logged_in(info)
        identifier, raw_id = from_payment_app_id(id)
        return await self._tokenization(
            SyncEvent.PAYMENT_METHOD_PROCESS_TOKENIZATION_SESSION,
            user,
            channel,
            identifier=identifier,
            undelivered="Payment method process tokenization failed to deliver.",
            data=data,
            id=raw_id,
        )

    async def _tokenization(
        self,
        event: SyncEvent,
        user: Customer,
        slug: str,
        *,
        identifier: str | None,
        undelivered: str,
        **fields: Any,
    ) -> dict[str, Any]:
        """Both payment-method tokenization mutations (§4.10, §4.11): Saleor's checks, the
        webhook to the app the identifier names, and the app's answer as the storefront sees
        it (ids prefixed `app:<identifier>:`, GATEWAY_ERROR for a result that is a failure)."""
        try:
            channel = self._validated_channel(slug)
            app = self._active_app()
            if app is None:
                raise _AccountError(
                    None, "NOT_FOUND", "No active payment app to handle requested action."
                )
        except _AccountError as error:
            return {
                "result": "FAILED_TO_DELIVER",
                "id": None,
                "data": None,
                "errors": [error.as_graphql()],
            }
        if identifier is None or identifier != app.identifier:
            return _tokenization_result("FAILED_TO_DELIVER", error=undelivered)
        payload = self.payload(event, app=app, customer=user, channel_slug=channel.slug, **fields)
        answer, problem = await self._deliver_for_answer(event, payload)
        if answer is None:
            return _tokenization_result("FAILED_TO_DELIVER", error="Failed to delivery request.")
        if problem is not None:
            return _tokenization_result("FAILED_TO_TOKENIZE", error=problem)
        result = answer["result"]
        if result in ("FAILED_TO_TOKENIZE", "FAILED_TO_DELIVER"):
            return _tokenization_result(result, error=answer.get("error"))
        raw = answer.get("id")
        return _tokenization_result(
            result,
            id=payment_app_id(app, raw) if raw is not None else None,
            data=answer.get("data"),
        )

    async def _stored_payment_method_request_delete(
        self, info: Info, id: str, channel: str
    ) -> dict[str, Any]:
        user = self._logged_in(info)
        try:
            found, app = self._channel_and_app(
                channel, "No active payment app that could process the delete request."
            )
        except _AccountError as error:
            return {"result": "FAILED_TO_DELIVER", "errors": [error.as_graphql()]}
        identifier, raw_id = from_payment_app_id(id)
        if identifier is None or identifier != app.identifier:
            return _delete_result(
                "FAILED_TO_DELIVER", "Payment method request delete failed to deliver."
            )
        # Saleor does not know who owns the id: the app must check it (§4.8).
        event = SyncEvent.STORED_PAYMENT_METHOD_DELETE_REQUESTED
        payload = self.payload(
            event, app=app, customer=user, channel_slug=found.slug, paymentMethodId=raw_id
        )
        answer, problem = await self._deliver_for_answer(event, payload)
        if answer is None:
            return _delete_result("FAILED_TO_DELIVER", "Failed to delivery request.")
        if problem is not None:
            return _delete_result("FAILED_TO_DELETE", problem)
        return _delete_result(answer["result"], answer.get("error"))

    # -- outbound HTTP: deliveries, installation, manifest ---------------------------------------

    @staticmethod
    def _client() -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=SALEOR_TIMEOUT, follow_redirects=False, verify=_SSL_CONTEXT
        )

    def webhook_headers(self, event: SyncEvent, signature: str) -> httpx.Headers:
        return httpx.Headers(
            {
                "Content-Type": "application/json",
                "Saleor-Event": event.header_value,
                "Saleor-Domain": self.domain,
                "Saleor-Signature": signature,
                "Saleor-Api-Url": self.api_url,
                "X-Saleor-Event": event.header_value,
                "X-Saleor-Domain": self.domain,
                "X-Saleor-Signature": signature,
                "User-Agent": USER_AGENT,
                "traceparent": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01",
            }
        )

    async def deliver(
        self,
        target_url: str,
        event: SyncEvent,
        payload: Mapping[str, Any] | bytes,
        *,
        signature: str | None = None,
        headers: Mapping[str, str | None] | None = None,
    ) -> httpx.Response:
        """POST a sync webhook like Saleor: the body serialised once and signed as sent.
        `signature=` sends a forged one; a `None` value in `headers` removes that header."""
        body = payload if isinstance(payload, bytes) else saleor_json(payload)
        request_headers = self.webhook_headers(
            event, self.sign(body) if signature is None else signature
        )
        for name, value in (headers or {}).items():
            if value is None:
                request_headers.pop(name, None)
            else:
                request_headers[name] = value
        status_code: int | None = None
        try:
            async with self._client() as client:
                response = await client.post(target_url, content=body, headers=request_headers)
            status_code = response.status_code
            return response
        finally:
            self.deliveries.append(
                Delivery(target_url, event, body, dict(request_headers), status_code)
            )

    async def install(
        self,
        token_target_url: str,
        *,
        app_id: str | None = None,
        active: bool = True,
        permissions: Sequence[str] = ("HANDLE_PAYMENTS",),
        identifier: str = "saleor.alipay.scan-to-bind",  # the manifest's id, as Saleor takes it
        name: str = "Alipay",
    ) -> httpx.Response:
        """`appInstall`'s token handshake (§2 step 3): create the app and its token, POST the
        token; on a non-2xx answer (or none) the app is deleted, as Saleor does."""
        app = self.create_app(
            app_id=app_id,
            active=active,
            permissions=permissions,
            identifier=identifier,
            name=name,
        )
        headers = {
            "Content-Type": "application/json",
            "Saleor-Domain": self.domain,
            "X-Saleor-Domain": self.domain,
            "Saleor-Api-Url": self.api_url,
            "Saleor-Schema-Version": self.schema_version,
            "User-Agent": USER_AGENT,
        }
        body = json.dumps({"auth_token": app.token}).encode()
        try:
            async with self._client() as client:
                response = await client.post(token_target_url, content=body, headers=headers)
        except httpx.HTTPError:
            self.remove_app(app.id)
            self.failed_installations.append("Failed to connect to app")
            raise
        if response.is_success:
            app.is_installed = True
            return response
        self.remove_app(app.id)
        self.failed_installations.append(_installation_error(response))
        return response

    async def fetch_manifest(self, manifest_url: str) -> dict[str, Any]:
        """GET the manifest as Saleor does (§1.4): its headers, no redirects, 2 s/18 s."""
        headers = {"Saleor-Schema-Version": self.schema_version, "User-Agent": USER_AGENT}
        async with self._client() as client:
            response = await client.get(manifest_url, headers=headers)
        if not response.is_success:
            raise SaleorDoubleError(
                f"Unable to fetch manifest data: HTTP {response.status_code} from {manifest_url}"
            )
        try:
            manifest = response.json()
        except ValueError:
            raise SaleorDoubleError("Unable to fetch manifest data: not JSON") from None
        if not isinstance(manifest, dict):
            raise SaleorDoubleError("Unable to fetch manifest data: not a JSON object")
        return manifest

    def validate_manifest(self, manifest: object) -> list[str]:
        return validate_manifest(manifest, schema=self.schema)

    @staticmethod
    def validate_response(
        event: SyncEvent, body: object, *, saleor_version: tuple[int, int] = (3, 24)
    ) -> None:
        validate_response(event, body, saleor_version=saleor_version)

    def assert_payload_matches_document(self, event: SyncEvent, payload: Mapping[str, Any]) -> None:
        assert_payload_matches_document(event, payload, schema=self.schema)

    # -- payloads ----------------------------------------------------------------------------

    def payload(
        self,
        event: SyncEvent,
        *,
        app: AppRecord | None = None,
        amount: Decimal | None = None,
        channel_slug: str | None = None,
        customer: Customer | None = None,
        guest: bool = False,
        source: SourceKind = "checkout",
        check: bool = True,
        **overrides: Any,
    ) -> dict[str, Any]:
        """A realistic payload for `event` in the shape of our subscription document.

        `amount` is the requested amount (`action.amount`, or `amount` for the gateway session),
        `channel_slug` one of `double.channels`, `customer` the shopper (`guest=True` for none),
        `source` whether the session is for a checkout or an order. `overrides` are merged into
        the result key by key (nested objects merged too). Session and action payloads register
        their transaction in `double.transactions`, so `transactionEventReport` can follow;
        pass `transaction={"id": ...}` to reuse one. With `check`, the result is checked against
        the document (turn it off only to send deliberately malformed payloads)."""
        recipient = app or self._current_app()
        if recipient is None:
            raise SaleorDoubleError("create or install an app before building payloads")
        channel = self.channel(channel_slug)
        currency = channel.currency_code
        shopper = None if guest else (customer or self.customer)
        digits = _CURRENCY_DIGITS.get(currency, 2)
        requested = (
            amount
            if amount is not None
            else (Decimal("1200") if digits == 0 else Decimal("123.45"))
        )
        body: dict[str, Any] = {
            "__typename": event.type_name,
            "version": self.version,
            "issuedAt": _now_iso(),
            "recipient": {"id": recipient.id},
            "issuingPrincipal": (
                None
                if shopper is None or event in _ACTION_EVENTS
                else {"__typename": "User", "id": shopper.id}
            ),
        }
        match event:
            case SyncEvent.PAYMENT_GATEWAY_INITIALIZE_SESSION:
                body["amount"] = requested
                body["data"] = None
                body["sourceObject"] = self._source_object(source, channel, shopper)
            case SyncEvent.TRANSACTION_INITIALIZE_SESSION | SyncEvent.TRANSACTION_PROCESS_SESSION:
                transaction = self._transaction_for(overrides, recipient, currency, psp="")
                body["action"] = {"amount": requested, "currency": currency, "actionType": "CHARGE"}
                body["data"] = None
                body["merchantReference"] = transaction.id
                if event is SyncEvent.TRANSACTION_INITIALIZE_SESSION:
                    body["idempotencyKey"] = str(uuid.uuid4())
                body["customerIpAddress"] = "203.0.113.7"
                body["transaction"] = {
                    "id": transaction.id,
                    "token": transaction.token,
                    "pspReference": transaction.psp_reference,
                }
                body["sourceObject"] = self._source_object(
                    source, channel, shopper, transaction=transaction
                )
            case (
                SyncEvent.TRANSACTION_CHARGE_REQUESTED
                | SyncEvent.TRANSACTION_CANCELATION_REQUESTED
                | SyncEvent.TRANSACTION_REFUND_REQUESTED
            ):
                psp = f"psp-{secrets.token_hex(6)}"
                transaction = self._transaction_for(overrides, recipient, currency, psp=psp)
                action_type = {
                    SyncEvent.TRANSACTION_CHARGE_REQUESTED: "CHARGE",
                    SyncEvent.TRANSACTION_CANCELATION_REQUESTED: "CANCEL",
                    SyncEvent.TRANSACTION_REFUND_REQUESTED: "REFUND",
                }[event]
                zero = quantize(Decimal(0), currency)
                charged = requested if event is SyncEvent.TRANSACTION_REFUND_REQUESTED else zero
                authorized = zero if event is SyncEvent.TRANSACTION_REFUND_REQUESTED else requested
                # A staff action is asked on an order (the transaction's, once it has one).
                transaction.order_id = transaction.order_id or global_id("Order", uuid.uuid4())
                order = {"id": transaction.order_id, "channel": channel.details()}
                body["action"] = {
                    "actionType": action_type,
                    "amount": requested,
                    "currency": currency,
                }
                body["transaction"] = {
                    "id": transaction.id,
                    "token": transaction.token,
                    "pspReference": transaction.psp_reference,
                    "authorizedAmount": _money(authorized, currency),
                    "chargedAmount": _money(charged, currency),
                    "refundedAmount": _money(zero, currency),
                    "canceledAmount": _money(zero, currency),
                    "checkout": None,
                    "order": order,
                }
                if event is SyncEvent.TRANSACTION_REFUND_REQUESTED:
                    # A plain refund carries a placeholder granted refund (§8.8), not null.
                    body["grantedRefund"] = {"id": global_id("OrderGrantedRefund", None)}
            case _:
                user = shopper or self.customer
                body["user"] = user.details()
                body["channel"] = channel.details()
                if event is SyncEvent.STORED_PAYMENT_METHOD_DELETE_REQUESTED:
                    body["paymentMethodId"] = f"agr-{secrets.token_hex(6)}"
                elif event is not SyncEvent.LIST_STORED_PAYMENT_METHODS:
                    body["data"] = None
                if event is SyncEvent.PAYMENT_METHOD_INITIALIZE_TOKENIZATION_SESSION:
                    body["paymentFlowToSupport"] = "INTERACTIVE"
                if event is SyncEvent.PAYMENT_METHOD_PROCESS_TOKENIZATION_SESSION:
                    body["id"] = f"bind-{secrets.token_hex(6)}"
        result = _merge(body, overrides)
        self._follow_source(result)
        if check:
            self.assert_payload_matches_document(event, result)
        return result

    def _follow_source(self, payload: Mapping[str, Any]) -> None:
        """A session's transaction belongs to the checkout or order its payload names (an
        override included), as in Saleor."""
        source, wanted = payload.get("sourceObject"), payload.get("transaction")
        if not isinstance(source, Mapping) or not isinstance(wanted, Mapping):
            return
        transaction = self.transactions.get(str(wanted.get("id")))
        if transaction is None or not isinstance(source.get("id"), str):
            return
        if source.get("__typename") == "Order":
            transaction.order_id = source["id"]
        elif source.get("__typename") == "Checkout":
            transaction.checkout_id = source["id"]

    def _transaction_for(
        self, overrides: Mapping[str, Any], app: AppRecord, currency: str, *, psp: str
    ) -> TransactionRecord:
        wanted = overrides.get("transaction")
        transaction_id = wanted.get("id") if isinstance(wanted, Mapping) else None
        if transaction_id is not None and transaction_id in self.transactions:
            return self.transactions[transaction_id]
        return self.create_transaction(
            app_id=app.id, currency=currency, transaction_id=transaction_id, psp_reference=psp
        )

    @staticmethod
    def _source_object(
        source: SourceKind,
        channel: Channel,
        shopper: Customer | None,
        *,
        transaction: TransactionRecord | None = None,
    ) -> dict[str, Any]:
        """The checkout or order of a session; a transaction's own when it has one (and it is
        then recorded on it)."""
        email = shopper.email if shopper is not None else "guest@example.com"
        user = shopper.details() if shopper is not None else None
        if source == "order" or (transaction is not None and transaction.order_id):
            order_id = (transaction.order_id if transaction else None) or global_id(
                "Order", uuid.uuid4()
            )
            if transaction is not None:
                transaction.order_id = order_id
            return {
                "__typename": "Order",
                "id": order_id,
                "userEmail": email,
                "channel": channel.details(),
                "user": user,
            }
        checkout_id = (transaction.checkout_id if transaction else None) or global_id(
            "Checkout", uuid.uuid4()
        )
        if transaction is not None:
            transaction.checkout_id = checkout_id
        return {
            "__typename": "Checkout",
            "id": checkout_id,
            "email": email,
            "channel": channel.details(),
            "user": user,
        }


def _installation_error(response: httpx.Response) -> str:
    """The message Saleor shows for a failed token handshake (§2 step 4)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        message = body["error"].get("message")
        if isinstance(message, str):
            return message
    return f"App internal error ({response.status_code})"
