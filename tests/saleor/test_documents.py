"""The GraphQL documents of `graphql/` against Saleor's schema (the project's subset of it; the
conformance module checks them against the whole), and the event table."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    FieldNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    parse,
)

from saleor_alipay_app.saleor import documents
from saleor_alipay_app.saleor.documents import (
    GRAPHQL_DIR,
    DocumentError,
    DocumentLoader,
    load_document,
    required_saleor,
    resolve_graphql_dir,
)
from saleor_alipay_app.saleor.events import SyncEvent
from tests.support.saleor_schema import (
    collect_fields,
    deprecated_usages,
    fragments_of,
    saleor_schema,
    single_operation,
    subscription_event_types,
    usages_newer_than,
    validation_errors,
)

ALL_FILES = sorted(str(p.relative_to(GRAPHQL_DIR)) for p in GRAPHQL_DIR.rglob("*.graphql"))
FRAGMENT_FILES = [f for f in ALL_FILES if f.startswith("fragments/")]
OPERATION_FILES = [f for f in ALL_FILES if not f.startswith("fragments/")]
SUBSCRIPTION_FILES = [f for f in ALL_FILES if f.startswith("subscriptions/")]


@pytest.fixture(scope="session")
def schema() -> GraphQLSchema:
    return saleor_schema()


def test_the_documents_are_found() -> None:
    assert Path(documents.__file__).resolve().parents[2] / "graphql" == GRAPHQL_DIR
    assert len(SUBSCRIPTION_FILES) == 11
    assert "queries/app_id.graphql" in OPERATION_FILES
    assert "mutations/transaction_event_report.graphql" in OPERATION_FILES


@pytest.mark.parametrize("relative", OPERATION_FILES)
def test_operation_documents_validate_against_saleor(schema: GraphQLSchema, relative: str) -> None:
    document = load_document(relative)
    assert validation_errors(document, schema=schema) == []
    assert len([d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)])


def test_the_fragment_library_validates(schema: GraphQLSchema) -> None:
    library = "\n".join((GRAPHQL_DIR / f).read_text(encoding="utf-8") for f in FRAGMENT_FILES)
    assert validation_errors(library, allow_unused_fragments=True, schema=schema) == []


@pytest.mark.parametrize("relative", FRAGMENT_FILES)
def test_fragment_files_are_used(relative: str) -> None:
    names = set(fragments_of(parse((GRAPHQL_DIR / relative).read_text(encoding="utf-8"))))
    assert names, f"{relative} defines no fragment"
    used = set()
    for operation in OPERATION_FILES:
        used |= set(fragments_of(parse(load_document(operation))))
    assert names <= used, f"unused fragments in {relative}: {names - used}"


@pytest.mark.parametrize("relative", OPERATION_FILES)
def test_no_document_needs_a_saleor_newer_than_it_says(
    schema: GraphQLSchema, relative: str
) -> None:
    """Every document works on Saleor 3.21, except one that names a newer Saleor on its first
    line ("# Needs Saleor 3.22."), which the app sends only to such a Saleor."""
    needs = required_saleor(relative) or (3, 21)
    usages = usages_newer_than(load_document(relative), needs, schema=schema)
    assert [str(u) for u in usages] == []
    if needs > (3, 21):
        assert usages_newer_than(load_document(relative), (3, 21), schema=schema), (
            f"{relative} says it needs Saleor {needs} but works on 3.21"
        )


@pytest.mark.parametrize("relative", OPERATION_FILES)
def test_no_document_uses_deprecated_fields(schema: GraphQLSchema, relative: str) -> None:
    assert deprecated_usages(load_document(relative), schema=schema) == []


# The version checker must be real: each kind of element newer than 3.21 is flagged.
@pytest.mark.parametrize(
    ("document", "flagged"),
    [
        (
            "subscription { event { ... on TransactionInitializeSession {"
            " transaction { paymentMethodDetails { name } } } } }",
            "TransactionItem.paymentMethodDetails (added in Saleor 3.22)",
        ),
        (
            'mutation { transactionEventReport(id: "VA==", pspReference: "p", type: INFO,'
            ' paymentMethodDetails: {other: {name: "Alipay"}}) { alreadyProcessed } }',
            "transactionEventReport(paymentMethodDetails:) (added in Saleor 3.22)",
        ),
        (
            'mutation R($d: PaymentMethodDetailsInput) { transactionEventReport(id: "VA==",'
            ' pspReference: "p", type: INFO, paymentMethodDetails: $d) { alreadyProcessed } }',
            "type PaymentMethodDetailsInput (added in Saleor 3.22)",
        ),
        (
            "{ orders(first: 1, sortBy: {field: STATUS, direction: ASC})"
            " { edges { node { id } } } }",
            "enum value OrderSortField.STATUS",
        ),
        (
            '{ transactions(first: 1, where: {pspReference: {eq: "x"}, createdAt: {gte:'
            ' "2026-01-01T00:00:00+00:00"}}) { edges { node { id } } } }',
            "input field TransactionWhereInput.createdAt",
        ),
    ],
)
def test_the_version_checker_flags_newer_elements(
    schema: GraphQLSchema, document: str, flagged: str
) -> None:
    assert validation_errors(document, schema=schema) == []
    found = [str(u) for u in usages_newer_than(document, (3, 21), schema=schema)]
    assert any(flagged in usage for usage in found), found
    # ... and the same element is fine for a Saleor that has it.
    assert usages_newer_than(document, (3, 24), schema=schema) == []


def test_the_version_checker_passes_old_elements(schema: GraphQLSchema) -> None:
    document = "{ app { id name } channels { slug currencyCode } }"
    assert usages_newer_than(document, (3, 21), schema=schema) == []


def test_the_deprecation_checker_is_real(schema: GraphQLSchema) -> None:
    found = deprecated_usages("{ app { id configurationUrl } }", schema=schema)
    assert len(found) == 1
    assert found[0].startswith("App.configurationUrl")


@pytest.mark.parametrize("event", list(SyncEvent))
def test_subscription_shape(schema: GraphQLSchema, event: SyncEvent) -> None:
    document = parse(load_document(event.document))
    operation = single_operation(document)
    assert operation.operation is OperationType.SUBSCRIPTION
    assert operation.name is not None
    assert operation.name.value == event.type_name
    roots = operation.selection_set.selections
    assert len(roots) == 1
    root = roots[0]
    assert isinstance(root, FieldNode)
    assert root.name.value == "event"
    assert root.selection_set is not None
    conditions = [
        s.type_condition.name.value
        for s in root.selection_set.selections
        if isinstance(s, InlineFragmentNode) and s.type_condition is not None
    ]
    assert conditions == [event.type_name]
    assert subscription_event_types(document, schema) == {event.type_name}

    event_type = schema.get_type(event.type_name)
    assert isinstance(event_type, GraphQLObjectType)
    fields = collect_fields(schema, fragments_of(document), root.selection_set, event_type)
    assert {"version", "issuedAt", "recipient"} <= set(fields)
    recipient = fields["recipient"][0]
    assert recipient.selection_set is not None
    assert [s.name.value for s in recipient.selection_set.selections if isinstance(s, FieldNode)]


@pytest.mark.parametrize("event", list(SyncEvent))
def test_subscriptions_select_what_the_flows_need(schema: GraphQLSchema, event: SyncEvent) -> None:
    document = parse(load_document(event.document))
    root = single_operation(document).selection_set.selections[0]
    assert isinstance(root, FieldNode)
    assert root.selection_set is not None
    event_type = schema.get_type(event.type_name)
    assert isinstance(event_type, GraphQLObjectType)
    selected = set(collect_fields(schema, fragments_of(document), root.selection_set, event_type))
    expected = {"version", "issuedAt", "recipient", "issuingPrincipal"}
    match event:
        case SyncEvent.PAYMENT_GATEWAY_INITIALIZE_SESSION:
            expected |= {"amount", "data", "sourceObject"}
        case SyncEvent.TRANSACTION_INITIALIZE_SESSION:
            expected |= {"action", "data", "merchantReference", "idempotencyKey"}
            expected |= {"customerIpAddress", "transaction", "sourceObject"}
        case SyncEvent.TRANSACTION_PROCESS_SESSION:
            expected |= {"action", "data", "merchantReference", "customerIpAddress"}
            expected |= {"transaction", "sourceObject"}
        case SyncEvent.TRANSACTION_CHARGE_REQUESTED | SyncEvent.TRANSACTION_CANCELATION_REQUESTED:
            expected |= {"action", "transaction"}
        case SyncEvent.TRANSACTION_REFUND_REQUESTED:
            expected |= {"action", "transaction", "grantedRefund"}
        case SyncEvent.LIST_STORED_PAYMENT_METHODS:
            expected |= {"user", "channel"}
        case SyncEvent.STORED_PAYMENT_METHOD_DELETE_REQUESTED:
            expected |= {"user", "channel", "paymentMethodId"}
        case SyncEvent.PAYMENT_GATEWAY_INITIALIZE_TOKENIZATION_SESSION:
            expected |= {"user", "channel", "data"}
        case SyncEvent.PAYMENT_METHOD_INITIALIZE_TOKENIZATION_SESSION:
            expected |= {"user", "channel", "data", "paymentFlowToSupport"}
        case SyncEvent.PAYMENT_METHOD_PROCESS_TOKENIZATION_SESSION:
            expected |= {"user", "channel", "data", "id"}
    # Every field of the payload type is selected except those the flows do not use.
    assert selected == expected


def test_action_subscriptions_reach_the_channel_and_amounts(schema: GraphQLSchema) -> None:
    text = load_document(SyncEvent.TRANSACTION_REFUND_REQUESTED.document)
    document = parse(text)
    transaction = schema.get_type("TransactionItem")
    assert isinstance(transaction, GraphQLObjectType)
    fragment = fragments_of(document)["ActionTransactionDetails"]
    fields = collect_fields(schema, fragments_of(document), fragment.selection_set, transaction)
    assert {"id", "token", "pspReference", "chargedAmount", "authorizedAmount"} <= set(fields)
    assert {"refundedAmount", "checkout", "order"} <= set(fields)


def test_sync_event_covers_exactly_the_subscription_files() -> None:
    assert {e.document for e in SyncEvent} == set(SUBSCRIPTION_FILES)
    assert len(SyncEvent) == 11


@pytest.mark.parametrize("event", list(SyncEvent))
def test_sync_event_names_match_saleor(schema: GraphQLSchema, event: SyncEvent) -> None:
    sync_enum = schema.get_type("WebhookEventTypeSyncEnum")
    assert sync_enum is not None
    assert event.value in sync_enum.values  # type: ignore[attr-defined]
    event_type = schema.get_type(event.type_name)
    assert isinstance(event_type, GraphQLObjectType)
    assert "Event" in [i.name for i in event_type.interfaces]
    assert event.header_value == event.value.lower()
    assert event.path == "/api/webhooks/" + event.header_value.replace("_", "-")
    assert event.document == f"subscriptions/{event.header_value}.graphql"
    assert SyncEvent.from_header(event.header_value) is event


def test_sync_event_details() -> None:
    event = SyncEvent.TRANSACTION_INITIALIZE_SESSION
    assert event.path == "/api/webhooks/transaction-initialize-session"
    assert event.webhook_name == "Transaction initialize session"
    assert event.type_name == "TransactionInitializeSession"
    assert event.min_saleor_version == (3, 13)
    assert SyncEvent.LIST_STORED_PAYMENT_METHODS.min_saleor_version == (3, 15)
    assert SyncEvent.STORED_PAYMENT_METHOD_DELETE_REQUESTED.min_saleor_version == (3, 16)
    assert SyncEvent.TRANSACTION_CANCELATION_REQUESTED.type_name == (
        "TransactionCancelationRequested"
    )
    assert all(e.min_saleor_version <= (3, 21) for e in SyncEvent)
    assert (
        SyncEvent.from_header("Transaction_Process_Session")
        is SyncEvent.TRANSACTION_PROCESS_SESSION
    )
    with pytest.raises(ValueError, match="not a payment sync event"):
        SyncEvent.from_header("order_created")


def test_app_id_query() -> None:
    document = parse(load_document("queries/app_id.graphql"))
    operation = single_operation(document)
    assert operation.operation is OperationType.QUERY
    assert operation.name is not None
    assert operation.name.value == "AppId"
    (app,) = operation.selection_set.selections
    assert isinstance(app, FieldNode)
    assert app.name.value == "app"
    assert not app.arguments
    assert app.selection_set is not None
    assert [s.name.value for s in app.selection_set.selections if isinstance(s, FieldNode)] == [
        "id"
    ]


REPORT_ARGUMENTS = {
    "id",
    "pspReference",
    "type",
    "amount",
    "time",
    "message",
    "externalUrl",
    "availableActions",
}


@pytest.mark.parametrize(
    ("relative", "details"),
    [
        ("mutations/transaction_event_report.graphql", False),
        ("mutations/transaction_event_report_details.graphql", True),
    ],
)
def test_transaction_event_report_mutations(
    schema: GraphQLSchema, relative: str, details: bool
) -> None:
    """Both forms report with the same arguments (the second adds the payment method, 3.22+),
    and name the transaction only when asked (`@include(if: $named)`), without an event."""
    document = parse(load_document(relative))
    operation = single_operation(document)
    assert operation.operation is OperationType.MUTATION
    variables = {v.variable.name.value for v in operation.variable_definitions or ()}
    arguments = REPORT_ARGUMENTS | ({"paymentMethodDetails"} if details else set())
    assert variables == arguments | {"named", "transactionName"}
    report, update = operation.selection_set.selections
    assert isinstance(report, FieldNode)
    assert report.name.value == "transactionEventReport"
    assert {a.name.value for a in report.arguments or ()} == arguments
    payload_type = schema.get_type("TransactionEventReport")
    assert isinstance(payload_type, GraphQLObjectType)
    assert report.selection_set is not None
    fields = collect_fields(schema, fragments_of(document), report.selection_set, payload_type)
    assert set(fields) == {"alreadyProcessed", "transactionEvent", "errors"}
    assert isinstance(update, FieldNode)
    assert update.name.value == "transactionUpdate"
    assert {a.name.value for a in update.arguments or ()} == {"id", "transaction"}
    assert [d.name.value for d in update.directives or ()] == ["include"]
    assert (required_saleor(relative) or (3, 21)) == ((3, 22) if details else (3, 21))


# -- the loader ----------------------------------------------------------------------------------


def _write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_loader_appends_fragments_transitively_once(tmp_path: Path) -> None:
    _write(tmp_path, "fragments/a.graphql", "fragment A on App { id ...B }")
    _write(tmp_path, "fragments/b.graphql", "# about B\nfragment B on App { name ...C }")
    _write(tmp_path, "fragments/c.graphql", "fragment C on App { identifier }\n")
    _write(tmp_path, "fragments/unused.graphql", "fragment Unused on App { about }")
    _write(tmp_path, "queries/q.graphql", "query Q { app { ...A ...C } }\n")
    text = DocumentLoader(tmp_path).load("queries/q.graphql")
    assert text == (
        "query Q { app { ...A ...C } }\n\n"
        "fragment A on App { id ...B }\n\n"
        "fragment C on App { identifier }\n\n"
        "fragment B on App { name ...C }\n"
    )
    assert validation_errors(text) == []


def test_loader_keeps_fragments_the_document_defines(tmp_path: Path) -> None:
    _write(tmp_path, "fragments/a.graphql", "fragment A on App { id }")
    _write(tmp_path, "queries/q.graphql", "query Q { app { ...A } }\nfragment A on App { name }")
    text = DocumentLoader(tmp_path).load("queries/q.graphql")
    assert text.count("fragment A") == 1
    assert "{ name }" in text


@pytest.mark.parametrize(
    ("files", "relative", "message"),
    [
        ({}, "queries/missing.graphql", "no GraphQL document"),
        ({"queries/q.graphql": "query Q { app { ...Nope } }"}, "queries/q.graphql", "Nope"),
        ({"queries/q.graphql": "query Q { app { id }"}, "queries/q.graphql", "Syntax Error"),
        ({}, "../secrets.graphql", "not a document path"),
        ({}, "/etc/passwd.graphql", "not a document path"),
        (
            {
                "fragments/a.graphql": "fragment A on App { id }",
                "fragments/b.graphql": "fragment A on App { name }",
                "queries/q.graphql": "query Q { app { ...A } }",
            },
            "queries/q.graphql",
            "defined twice",
        ),
        (
            {
                "fragments/a.graphql": "query X { app { id } }",
                "queries/q.graphql": "{ app { id } }",
            },
            "queries/q.graphql",
            "other than fragments",
        ),
    ],
)
def test_loader_errors(tmp_path: Path, files: dict[str, str], relative: str, message: str) -> None:
    for name, text in files.items():
        _write(tmp_path, name, text)
    with pytest.raises(DocumentError, match=message):
        DocumentLoader(tmp_path).load(relative)


def test_load_document_is_cached() -> None:
    relative = SyncEvent.TRANSACTION_INITIALIZE_SESSION.document
    assert load_document(relative) is load_document(relative)


def test_graphql_dir_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SALEOR_ALIPAY_GRAPHQL_DIR", str(tmp_path))
    assert resolve_graphql_dir() == tmp_path
    monkeypatch.delenv("SALEOR_ALIPAY_GRAPHQL_DIR")
    assert resolve_graphql_dir() == GRAPHQL_DIR
