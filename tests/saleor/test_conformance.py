"""Conformance with the published files in the shared folder beside the repository (`../shared`,
or `$SALEOR_ALIPAY_SHARED_DIR`): Saleor's whole GraphQL schema and response JSON Schemas, and
Antom's API description.

The rest of the suite runs on the project's own subset of Saleor's schema and copies of its JSON
Schemas (`tests/support/saleor/`, written by `tools/saleor-subset/make.py`). This module checks
them, and the app's documents, against the originals:

- every document of the app (and every document the subset is cut for) validates against Saleor's
  whole schema, uses nothing newer than Saleor 3.21 and nothing deprecated;
- every type, field, argument, input field, enum value and directive of the subset is in the whole
  schema with the same type, default, description and deprecation, and none of the whole schema's
  required arguments or input fields is left out;
- the generator, run on the whole schema, gives exactly the committed files;
- the JSON Schema copies are byte-for-byte Saleor's;
- every result code Antom's API description lists has a rule in `antom.results`.

It is the only module that may skip for want of `../shared` (tests/support/skips.py), and it
does so as a whole, saying so.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    is_non_null_type,
    is_specified_directive,
)
from graphql.pyutils import Undefined
from graphql.type.introspection import introspection_types
from graphql.type.scalars import specified_scalar_types

from saleor_alipay_app.antom.results import RULES, Call
from saleor_alipay_app.saleor.documents import GRAPHQL_DIR, load_document, required_saleor
from tests.support.saleor_schema import (
    PROJECT_SALEOR_DIR,
    deprecated_usages,
    full_saleor_schema,
    saleor_schema,
    shared_dir,
    subset_generator,
    usages_newer_than,
    validation_errors,
)
from tests.support.skips import SHARED_ABSENT

REPO = Path(__file__).resolve().parents[2]
SHARED = shared_dir()

if not (SHARED / "saleor" / "schema.graphql").is_file():
    pytest.skip(
        f"{SHARED_ABSENT}: {SHARED / 'saleor' / 'schema.graphql'} is absent (clone the "
        "repository beside the shared folder, or set SALEOR_ALIPAY_SHARED_DIR)",
        allow_module_level=True,
    )

ALL_FILES = sorted(str(p.relative_to(GRAPHQL_DIR)) for p in GRAPHQL_DIR.rglob("*.graphql"))
FRAGMENT_FILES = [f for f in ALL_FILES if f.startswith("fragments/")]
OPERATION_FILES = [f for f in ALL_FILES if not f.startswith("fragments/")]


@pytest.fixture(scope="module")
def full() -> GraphQLSchema:
    return full_saleor_schema()


# -- the app's documents against Saleor's whole schema ----------------------------------------


@pytest.mark.parametrize("relative", OPERATION_FILES)
def test_documents_validate_against_saleors_whole_schema(
    full: GraphQLSchema, relative: str
) -> None:
    assert validation_errors(load_document(relative), schema=full) == []


def test_the_fragment_library_validates_against_saleors_whole_schema(full: GraphQLSchema) -> None:
    library = "\n".join((GRAPHQL_DIR / f).read_text(encoding="utf-8") for f in FRAGMENT_FILES)
    assert validation_errors(library, allow_unused_fragments=True, schema=full) == []


@pytest.mark.parametrize("relative", OPERATION_FILES)
def test_no_document_needs_a_saleor_newer_than_it_says(full: GraphQLSchema, relative: str) -> None:
    needs = required_saleor(relative) or (3, 21)
    assert [str(u) for u in usages_newer_than(load_document(relative), needs, schema=full)] == []


@pytest.mark.parametrize("relative", OPERATION_FILES)
def test_no_document_uses_deprecated_fields(full: GraphQLSchema, relative: str) -> None:
    assert deprecated_usages(load_document(relative), schema=full) == []


def _widget_documents() -> list[tuple[str, str]]:
    generator = subset_generator()
    return [
        (f"{module}#{name}", text)
        for module in generator.WIDGET_MODULES
        for name, text in generator.widget_documents((REPO / module).read_text(encoding="utf-8"))
    ]


def test_the_widget_sends_nothing_newer_than_3_21_nor_deprecated(full: GraphQLSchema) -> None:
    """The storefront widget's documents, read from the module as the subset generator reads
    them: a storefront on the app's oldest Saleor can run every one."""
    documents = _widget_documents()
    names = {name.rpartition("#")[2] for name, _ in documents}
    assert {"STORED_METHODS", "TOKENIZATION_PROCESS", "TRANSACTION_INITIALIZE"} <= names
    for name, text in documents:
        assert validation_errors(text, schema=full) == [], name
        assert [str(u) for u in usages_newer_than(text, (3, 21), schema=full)] == [], name
        assert deprecated_usages(text, schema=full) == [], name


def test_every_document_the_subset_is_cut_for_validates(full: GraphQLSchema) -> None:
    documents = subset_generator().documents_text(REPO)
    names = [name for name, _ in documents]
    assert "tools/saleor-subset/extra.graphql" in names
    assert {name for name, _ in _widget_documents()} <= set(names)
    assert {f"graphql/{f}" for f in OPERATION_FILES} <= set(names)
    for name, text in documents:
        assert validation_errors(text, schema=full) == [], name


# -- the project's subset against Saleor's whole schema ---------------------------------------


def _user_types(schema: GraphQLSchema) -> dict[str, GraphQLNamedType]:
    return {
        name: named
        for name, named in schema.type_map.items()
        if name not in introspection_types and name not in specified_scalar_types
    }


def _compare_argument(
    where: str,
    ours: GraphQLArgument | GraphQLInputField,
    theirs: GraphQLArgument | GraphQLInputField,
) -> list[str]:
    problems = []
    if str(ours.type) != str(theirs.type):
        problems.append(f"{where}: type {ours.type} but Saleor's is {theirs.type}")
    if repr(ours.default_value) != repr(theirs.default_value):
        problems.append(f"{where}: default {ours.default_value!r} != {theirs.default_value!r}")
    if ours.description != theirs.description:
        problems.append(f"{where}: description differs")
    if ours.deprecation_reason != theirs.deprecation_reason:
        problems.append(f"{where}: deprecation differs")
    return problems


def _required(argument: GraphQLArgument | GraphQLInputField) -> bool:
    return is_non_null_type(argument.type) and argument.default_value is Undefined


def _compare_arguments(
    where: str,
    ours: dict[str, GraphQLArgument] | dict[str, GraphQLInputField],
    theirs: dict[str, GraphQLArgument] | dict[str, GraphQLInputField],
) -> list[str]:
    problems = []
    for name, argument in ours.items():
        if name not in theirs:
            problems.append(f"{where}({name}:): not in Saleor's schema")
        else:
            problems.extend(_compare_argument(f"{where}({name}:)", argument, theirs[name]))
    for name, argument in theirs.items():
        if name not in ours and _required(argument):
            problems.append(f"{where}({name}:): required in Saleor's schema, left out")
    return problems


def _compare_type(ours: GraphQLNamedType, theirs: GraphQLNamedType) -> list[str]:
    name = ours.name
    if type(ours) is not type(theirs):
        return [f"{name}: a {type(ours).__name__} but Saleor's is a {type(theirs).__name__}"]
    problems = []
    if ours.description != theirs.description:
        problems.append(f"{name}: description differs")
    if isinstance(ours, GraphQLObjectType | GraphQLInterfaceType):
        assert isinstance(theirs, GraphQLObjectType | GraphQLInterfaceType)
        their_interfaces = {i.name for i in theirs.interfaces}
        for interface in ours.interfaces:
            if interface.name not in their_interfaces:
                problems.append(f"{name}: implements {interface.name}, Saleor's does not")
        for field_name, field in ours.fields.items():
            where = f"{name}.{field_name}"
            their_field = theirs.fields.get(field_name)
            if their_field is None:
                problems.append(f"{where}: not in Saleor's schema")
                continue
            if str(field.type) != str(their_field.type):
                problems.append(f"{where}: type {field.type} but Saleor's is {their_field.type}")
            if field.description != their_field.description:
                problems.append(f"{where}: description differs")
            if field.deprecation_reason != their_field.deprecation_reason:
                problems.append(f"{where}: deprecation differs")
            problems.extend(_compare_arguments(where, field.args, their_field.args))
    elif isinstance(ours, GraphQLUnionType):
        assert isinstance(theirs, GraphQLUnionType)
        extra = {t.name for t in ours.types} - {t.name for t in theirs.types}
        if extra:
            problems.append(f"{name}: members {sorted(extra)} are not Saleor's")
    elif isinstance(ours, GraphQLEnumType):
        assert isinstance(theirs, GraphQLEnumType)
        if list(ours.values) != list(theirs.values):
            problems.append(f"{name}: values differ from Saleor's")
        for value_name, value in ours.values.items():
            their_value = theirs.values.get(value_name)
            if their_value is not None and (
                value.description != their_value.description
                or value.deprecation_reason != their_value.deprecation_reason
            ):
                problems.append(f"{name}.{value_name}: description or deprecation differs")
    elif isinstance(ours, GraphQLInputObjectType):
        assert isinstance(theirs, GraphQLInputObjectType)
        problems.extend(_compare_arguments(name, ours.fields, theirs.fields))
    return problems


def differences(subset: GraphQLSchema, whole: GraphQLSchema) -> list[str]:
    """Every way `subset` is not a faithful part of `whole`."""
    problems = []
    theirs = _user_types(whole)
    for name, named in _user_types(subset).items():
        if name not in theirs:
            problems.append(f"{name}: not in Saleor's schema")
        else:
            problems.extend(_compare_type(named, theirs[name]))
    for root in ("query_type", "mutation_type", "subscription_type"):
        ours, their_root = getattr(subset, root), getattr(whole, root)
        if ours is not None and (their_root is None or ours.name != their_root.name):
            problems.append(f"schema {root}: {ours.name} is not Saleor's")
    for directive in subset.directives:
        if is_specified_directive(directive):
            continue
        their_directive = whole.get_directive(directive.name)
        if their_directive is None:
            problems.append(f"@{directive.name}: not in Saleor's schema")
            continue
        if list(directive.locations) != list(their_directive.locations):
            problems.append(f"@{directive.name}: locations differ")
        problems.extend(
            _compare_arguments(f"@{directive.name}", directive.args, their_directive.args)
        )
    return problems


def test_the_subset_is_part_of_saleors_whole_schema(full: GraphQLSchema) -> None:
    assert differences(saleor_schema(), full) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("  slug: String!", "  slug: String"),
            "Channel.slug: type String but Saleor's is String!",
        ),
        (('"""Sort orders."""', '"""Sorted orders."""'), "Query.orders(sortBy:): description"),
        (("  HANDLE_PAYMENTS\n", ""), "PermissionEnum: values differ"),
        (("  me: User", "  me: User\n  you: User"), "Query.you: not in Saleor's schema"),
    ],
)
def test_the_subset_comparison_finds_what_differs(
    full: GraphQLSchema, change: tuple[str, str], expected: str
) -> None:
    text = (PROJECT_SALEOR_DIR / "schema.graphql").read_text(encoding="utf-8")
    old, new = change
    assert old in text
    doctored = build_schema(text.replace(old, new, 1))
    assert any(expected in problem for problem in differences(doctored, full))


def test_the_generator_gives_exactly_the_committed_files() -> None:
    make = subset_generator()
    wanted: dict[str, bytes] = make.render(SHARED, REPO)
    present: dict[str, bytes] = make.committed(REPO)
    assert sorted(present) == sorted(wanted), "run tools/saleor-subset/make.py"
    differing = [name for name in wanted if present[name] != wanted[name]]
    assert differing == [], "run tools/saleor-subset/make.py"


# -- the JSON Schema copies against Saleor's ------------------------------------------------


def test_the_response_schemas_are_saleors_byte_for_byte() -> None:
    from tests.support.saleor_double import _SCHEMA_FILES

    copies = sorted((PROJECT_SALEOR_DIR / "json_schemas").glob("*.json"))
    assert {p.stem for p in copies} == set(_SCHEMA_FILES.values())
    for copy in copies:
        original = SHARED / "saleor" / "json_schemas" / copy.name
        assert copy.read_bytes() == original.read_bytes(), copy.name


# -- Antom's result codes --------------------------------------------------------------------

SECTIONS = {
    "7.1": Call.CONSULT,
    "7.3": Call.APPLY_TOKEN,
    "7.4": Call.REVOKE,
    "7.5": Call.PAY,
    "7.6": Call.INQUIRY_PAYMENT,
    "7.8": Call.CANCEL,
    "7.9": Call.REFUND,
    "7.10": Call.INQUIRY_REFUND,
    "7.12": Call.DECLARE,
    "7.13": Call.INQUIRY_DECLARATION,
}
CODE = re.compile(r"`([A-Z][A-Z0-9_]+)`")
CODES_MARKER = re.compile(r"\b(?:Result codes|Codes|F code)\b")


def _codes_by_call(text: str) -> dict[Call, set[str]]:
    section_7 = text[text.index("## 7. API details") : text.index("## 8.")]
    parts = re.split(r"^### (7\.\d+) ", section_7, flags=re.MULTILINE)
    # the generic set named in §7.3: "plus the generic set (`ACCESS_DENIED`, ...)"
    generic_text = section_7[section_7.index("generic set (") :]
    generic = set(CODE.findall(generic_text[: generic_text.index(")")]))
    assert "ACCESS_DENIED" in generic
    assert "UNKNOWN_CLIENT" in generic
    found: dict[Call, set[str]] = {}
    for number, body in zip(parts[1::2], parts[2::2], strict=True):
        call = SECTIONS.get(number)
        if call is None:
            continue
        marker = CODES_MARKER.search(body)
        assert marker is not None, f"§{number} has no codes list"
        codes_text = body[marker.start() :]
        codes = set(CODE.findall(codes_text)) | {"SUCCESS"}
        if "generic" in codes_text:
            codes |= generic
        if "U as usual" in codes_text:
            codes |= {"REQUEST_TRAFFIC_EXCEED_LIMIT", "UNKNOWN_EXCEPTION"}
        found[call] = codes
    assert set(found) == set(SECTIONS.values())
    return found


def test_every_code_antoms_api_lists_has_a_rule() -> None:
    api_md = SHARED / "antom" / "API.md"
    assert api_md.is_file(), f"{api_md} is missing from the shared folder"
    found = _codes_by_call(api_md.read_text(encoding="utf-8"))
    missing = {
        call: sorted(code for code in codes if (call, code) not in RULES)
        for call, codes in found.items()
    }
    assert not any(missing.values()), missing
    # sanity: the parser saw the specific codes, not just the generic ones
    assert "USER_BALANCE_NOT_ENOUGH" in found[Call.PAY]
    assert "REFUND_IN_PROCESS" in found[Call.REFUND]
    assert "ARRAY_SIZE_EXCEEDED" in found[Call.INQUIRY_DECLARATION]
    assert "CONTEXT_INCONSISTENT" in found[Call.DECLARE]
    assert "AUTH_IN_PROCESS" in found[Call.APPLY_TOKEN]
