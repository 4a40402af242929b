"""Saleor's GraphQL schema for tests, and checks on documents.

The tests use the project's own subset of Saleor's schema (`tests/support/saleor/schema.graphql`,
written by `tools/saleor-subset/make.py`) and its copies of Saleor's response JSON Schemas
(`tests/support/saleor/json_schemas/`), so they run from a fresh clone with nothing beside it.

Saleor's published files themselves sit in the shared folder beside the repository
(`../shared/saleor/`), or wherever `SALEOR_ALIPAY_SHARED_DIR` points; only
`tests/saleor/test_conformance.py` reads them (`full_saleor_schema`, `shared_file`), to check the
app's documents and the project's copies against them.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    EnumValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    Node,
    ObjectFieldNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableDefinitionNode,
    Visitor,
    build_schema,
    get_named_type,
    is_abstract_type,
    parse,
    specified_rules,
    type_from_ast,
    validate,
    visit,
)
from graphql.validation import NoUnusedFragmentsRule

SHARED_DIR_ENV = "SALEOR_ALIPAY_SHARED_DIR"

# Saleor marks what is newer than 3.21 with "Added in Saleor 3.x." in descriptions.
ADDED_IN = re.compile(r"Added in Saleor (\d+)\.(\d+)")
MIN_SUPPORTED_SALEOR = (3, 21)


PROJECT_SALEOR_DIR = Path(__file__).resolve().parent / "saleor"


def shared_dir() -> Path:
    override = os.environ.get(SHARED_DIR_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2].parent / "shared"


def shared_file(relative: str) -> Path:
    """A file of the shared folder; skips the calling test when it is missing."""
    path = shared_dir() / relative
    if not path.exists():
        pytest.skip(f"shared file {path} is missing (set {SHARED_DIR_ENV} to the shared folder)")
    return path


def project_file(relative: str) -> Path:
    """A file of the project's copy of what the tests need of Saleor's published files."""
    return PROJECT_SALEOR_DIR / relative


def subset_generator() -> ModuleType:
    """tools/saleor-subset/make.py, imported from its path (tools/ is not a package): what wrote
    the subset, and what reads the app's and the widget's documents."""
    name = "saleor_subset_make"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[2] / "tools/saleor-subset/make.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules[name]


@lru_cache(maxsize=1)
def saleor_schema() -> GraphQLSchema:
    """The project's subset of Saleor's schema, built once per test session."""
    return build_schema(project_file("schema.graphql").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def full_saleor_schema() -> GraphQLSchema:
    """Saleor's whole published schema (about 1 MB) from the shared folder; skips the calling
    test when it is absent. For the conformance checks only."""
    return build_schema(shared_file("saleor/schema.graphql").read_text(encoding="utf-8"))


def validation_errors(
    source: str, *, allow_unused_fragments: bool = False, schema: GraphQLSchema | None = None
) -> list[str]:
    """Messages of every syntax or validation error of `source` against Saleor's schema (the
    project's subset unless `schema` is given)."""
    try:
        document = parse(source)
    except GraphQLSyntaxError as exc:
        return [exc.message]
    rules = [
        rule
        for rule in specified_rules
        if not (allow_unused_fragments and rule is NoUnusedFragmentsRule)
    ]
    errors = validate(schema or saleor_schema(), document, rules)
    return [error.message for error in errors]


def added_in(description: str | None) -> tuple[int, int] | None:
    """The version an element's description says it was added in, if any."""
    if not description:
        return None
    found = ADDED_IN.search(description)
    return (int(found.group(1)), int(found.group(2))) if found else None


@dataclass(frozen=True)
class NewerUsage:
    """A schema element a document uses that only exists from `version` on."""

    element: str
    version: tuple[int, int]
    line: int

    def __str__(self) -> str:
        major, minor = self.version
        return f"line {self.line}: {self.element} (added in Saleor {major}.{minor})"


def _line(node: Node) -> int:
    return node.loc.start_token.line if node.loc is not None else 0


class _VersionVisitor(Visitor):
    def __init__(self, type_info: TypeInfo, schema: GraphQLSchema, newest: tuple[int, int]):
        super().__init__()
        self.type_info = type_info
        self.schema = schema
        self.newest = newest
        self.found: list[NewerUsage] = []
        self.deprecated: list[str] = []
        self._fields: list[str] = []

    def _check(self, element: str, description: str | None, node: Node) -> None:
        version = added_in(description)
        if version is not None and version > self.newest:
            usage = NewerUsage(element, version, _line(node))
            if usage not in self.found:
                self.found.append(usage)

    def _check_type(self, named: GraphQLNamedType | None, node: Node) -> None:
        if named is not None:
            self._check(f"type {named.name}", named.description, node)

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        parent = self.type_info.get_parent_type()
        field = self.type_info.get_field_def()
        element = f"{parent.name if parent else '?'}.{node.name.value}"
        self._fields.append(element)
        if field is None:
            return
        self._check(element, field.description, node)
        self._check_type(get_named_type(field.type), node)
        if field.deprecation_reason:
            self.deprecated.append(f"{element}: {field.deprecation_reason}")

    def leave_field(self, *_args: object) -> None:
        self._fields.pop()

    def enter_argument(self, node: ArgumentNode, *_args: object) -> None:
        argument = self.type_info.get_argument()
        if argument is None:
            return
        owner = self._fields[-1] if self._fields else "directive"
        element = f"argument {owner}({node.name.value}:)"
        self._check(element, argument.description, node)
        self._check_type(get_named_type(argument.type), node)
        if argument.deprecation_reason:
            self.deprecated.append(f"{element}: {argument.deprecation_reason}")

    def enter_object_field(self, node: ObjectFieldNode, *_args: object) -> None:
        parent = get_named_type(self.type_info.get_parent_input_type())
        if not isinstance(parent, GraphQLInputObjectType):
            return
        field = parent.fields.get(node.name.value)
        if field is None:
            return
        element = f"input field {parent.name}.{node.name.value}"
        self._check(element, field.description, node)
        self._check_type(get_named_type(field.type), node)
        if field.deprecation_reason:
            self.deprecated.append(f"{element}: {field.deprecation_reason}")

    def enter_enum_value(self, node: EnumValueNode, *_args: object) -> None:
        value = self.type_info.get_enum_value()
        enum = get_named_type(self.type_info.get_input_type())
        if value is None or enum is None:
            return
        element = f"enum value {enum.name}.{node.value}"
        self._check(element, value.description, node)
        if value.deprecation_reason:
            self.deprecated.append(f"{element}: {value.deprecation_reason}")

    def enter_inline_fragment(self, node: InlineFragmentNode, *_args: object) -> None:
        if node.type_condition is not None:
            self._check_type(self.schema.get_type(node.type_condition.name.value), node)

    def enter_fragment_definition(self, node: FragmentDefinitionNode, *_args: object) -> None:
        self._check_type(self.schema.get_type(node.type_condition.name.value), node)

    def enter_variable_definition(self, node: VariableDefinitionNode, *_args: object) -> None:
        variable_type = type_from_ast(self.schema, node.type)
        if variable_type is not None:
            self._check_type(get_named_type(variable_type), node)

    def enter_directive(self, node: DirectiveNode, *_args: object) -> None:
        directive = self.type_info.get_directive()
        if directive is not None:
            self._check(f"directive @{directive.name}", directive.description, node)


def _walk(
    document: DocumentNode | str, newest: tuple[int, int], schema: GraphQLSchema | None
) -> _VersionVisitor:
    schema = schema or saleor_schema()
    if isinstance(document, str):
        document = parse(document)
    type_info = TypeInfo(schema)
    visitor = _VersionVisitor(type_info, schema, newest)
    visit(document, TypeInfoVisitor(type_info, visitor))
    return visitor


def usages_newer_than(
    document: DocumentNode | str,
    newest: tuple[int, int] = MIN_SUPPORTED_SALEOR,
    *,
    schema: GraphQLSchema | None = None,
) -> list[NewerUsage]:
    """Fields, arguments, input fields, enum values and types used by `document` whose
    description says they were added in a Saleor newer than `newest`."""
    return _walk(document, newest, schema).found


def deprecated_usages(
    document: DocumentNode | str, *, schema: GraphQLSchema | None = None
) -> list[str]:
    """Deprecated fields, arguments, input fields and enum values used by `document`."""
    return _walk(document, MIN_SUPPORTED_SALEOR, schema).deprecated


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def type_applies(schema: GraphQLSchema, condition: str, runtime: GraphQLNamedType) -> bool:
    """Whether a fragment on `condition` applies to an object of type `runtime`."""
    if condition == runtime.name:
        return True
    condition_type = schema.get_type(condition)
    if condition_type is None or not is_abstract_type(condition_type):
        return False
    if not isinstance(runtime, GraphQLObjectType):
        return False
    return schema.is_sub_type(condition_type, runtime)


def collect_fields(
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDefinitionNode],
    selection_set: SelectionSetNode,
    runtime: GraphQLNamedType,
) -> dict[str, list[FieldNode]]:
    """The fields `selection_set` selects on an object of type `runtime`, by response key,
    with inline fragments and fragment spreads resolved (GraphQL's CollectFields)."""
    collected: dict[str, list[FieldNode]] = {}

    def add(selections: Iterable[Any]) -> None:
        for selection in selections:
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                collected.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or type_applies(schema, condition.name.value, runtime):
                    add(selection.selection_set.selections)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments[selection.name.value]
                if type_applies(schema, fragment.type_condition.name.value, runtime):
                    add(fragment.selection_set.selections)

    add(selection_set.selections)
    return collected


def single_operation(document: DocumentNode) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        raise GraphQLError(f"expected one operation, found {len(operations)}")
    return operations[0]


def subscription_event_types(document: DocumentNode, schema: GraphQLSchema) -> set[str]:
    """The concrete event types reachable under the `event` root of a subscription, through
    inline fragments or named fragments (what Saleor takes the event list from)."""
    fragments = fragments_of(document)
    found: set[str] = set()

    def reach(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, InlineFragmentNode) and selection.type_condition:
                condition = selection.type_condition.name.value
                found.update(_concrete_event_types(schema, condition))
                reach(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
                fragment = fragments[selection.name.value]
                found.update(_concrete_event_types(schema, fragment.type_condition.name.value))
                reach(fragment.selection_set)

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for selection in definition.selection_set.selections:
                if (
                    isinstance(selection, FieldNode)
                    and selection.name.value == "event"
                    and selection.selection_set is not None
                ):
                    reach(selection.selection_set)
    return found


def _concrete_event_types(schema: GraphQLSchema, name: str) -> set[str]:
    named = schema.get_type(name)
    event = schema.get_type("Event")
    if named is None or event is None or not is_abstract_type(event):
        return set()
    if isinstance(named, GraphQLObjectType):
        return {name} if schema.is_sub_type(event, named) else set()
    return set()
