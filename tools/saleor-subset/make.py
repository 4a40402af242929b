#!/usr/bin/env python3
"""Write the project's subset of Saleor's GraphQL schema and its copies of Saleor's JSON Schemas.

The tests' Saleor double validates every document the app sends against Saleor's schema and
every webhook answer against Saleor's JSON Schemas. Saleor publishes both (its
`saleor/graphql/schema.graphql`, about 1 MB, and `saleor/json_schemas/`); a copy lives in the
shared folder beside the repository (`../shared/saleor/`, or `$SALEOR_ALIPAY_SHARED_DIR`). This
script writes into `tests/support/saleor/` what the tests need of them, so that they run from a
fresh clone with nothing beside it:

- `schema.graphql`: every type, field, argument, input field, enum and directive that the app's
  documents (`graphql/`), the storefront widget's (template literals in
  `saleor_alipay_app/static/scan-to-bind.js`) and the double with its tests
  (`tools/saleor-subset/extra.graphql`) use,
  plus the types of `EXTRA_TYPES`, with Saleor's descriptions (their "Added in Saleor 3.x" notes
  drive the version checks), deprecations and directives, in the source's order;
- `json_schemas/`: byte-for-byte copies of the response schemas the double uses;
- `SOURCE.md`: where all of it comes from.

What is kept, from the documents: each selected field, with the arguments the document passes and
every required one; each type a field returns, an argument or a variable takes, or a fragment is
on; of an input object, the fields a literal sets and the required ones (all of them, recursively,
when a variable passes the whole object); enums whole. Then, until nothing changes: a type keeps
the interfaces that are kept and every field of them; a union keeps the members that are kept; the
directives applied on what is kept are kept, with the types of their arguments.

    python tools/saleor-subset/make.py            # rewrite tests/support/saleor/
    python tools/saleor-subset/make.py --check    # exit 1 if it differs from what is committed

`tests/saleor/test_conformance.py` runs the same generator and fails when the committed files
differ from its output, so the subset is never edited by hand.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from graphql import (
    ArgumentNode,
    DefinitionNode,
    DirectiveDefinitionNode,
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectFieldNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    UnionTypeDefinitionNode,
    VariableDefinitionNode,
    Visitor,
    build_ast_schema,
    get_named_type,
    is_input_object_type,
    is_non_null_type,
    parse,
    print_ast,
    type_from_ast,
    validate,
    visit,
)
from graphql.pyutils import Undefined

from saleor_alipay_app.saleor.documents import FRAGMENTS_FOLDER, DocumentLoader

REPO = Path(__file__).resolve().parents[2]
SHARED_DIR_ENV = "SALEOR_ALIPAY_SHARED_DIR"
# Relative to the repository.
DOCUMENT_DIRS = ("graphql",)
EXTRA_DOCUMENTS = ("tools/saleor-subset/extra.graphql",)
# The storefront widget: its documents are template literals in the module, read from there.
WIDGET_MODULES = ("saleor_alipay_app/static/scan-to-bind.js",)
_WIDGET_DOCUMENT = re.compile(r"^const (\w+) = `((?:query|mutation)\b[^`]*)`;", re.MULTILINE)
OUTPUT_DIR = "tests/support/saleor"
# Types the double reads whole, not through a document: the manifest checks' lists of
# permissions and of webhook events.
EXTRA_TYPES = ("PermissionEnum", "WebhookEventTypeAsyncEnum", "WebhookEventTypeSyncEnum")
# The response schemas the double checks webhook answers with (tests/support/saleor_double.py).
JSON_SCHEMAS = (
    "ListStoredPaymentMethods",
    "PaymentGatewayInitializeSession",
    "PaymentGatewayInitializeTokenizationSession",
    "StoredPaymentMethodDeleteRequested",
    "TransactionCancelationRequested",
    "TransactionChargeRequested",
    "TransactionInitializeSession",
    "TransactionProcessSession",
    "TransactionRefundRequested",
)
LICENCE = (
    "Saleor is BSD-3-Clause: Copyright (c) 2020-2023, Saleor Commerce; "
    "Copyright (c) 2010-2020, Mirumee Software."
)


class SubsetError(Exception):
    """The documents do not validate, or the subset would not be a valid schema."""


def default_shared_dir() -> Path:
    override = os.environ.get(SHARED_DIR_ENV)
    return Path(override) if override else REPO.parent / "shared"


def widget_documents(source: str) -> list[tuple[str, str]]:
    """(constant, document) of each GraphQL document a widget module holds: a top-level
    `const NAME = `query ...`;` or `mutation ...` template literal (with no substitutions)."""
    found = _WIDGET_DOCUMENT.findall(source)
    for name, text in found:
        if "${" in text:
            raise SubsetError(f"{name}: a widget document must not interpolate (${{...}})")
    return found


def documents_text(repo: Path = REPO) -> list[tuple[str, str]]:
    """(name, text) of each document the subset is cut for: the app's operations as the app sends
    them (with the fragments they spread, `saleor_alipay_app.saleor.documents`), the storefront
    widget's, then the double's."""
    texts: list[tuple[str, str]] = []
    for folder in DOCUMENT_DIRS:
        loader = DocumentLoader(repo / folder)
        for path in sorted((repo / folder).rglob("*.graphql")):
            relative = path.relative_to(repo / folder).as_posix()
            if not relative.startswith(f"{FRAGMENTS_FOLDER}/"):
                texts.append((f"{folder}/{relative}", loader.load(relative)))
    for module in WIDGET_MODULES:
        source = (repo / module).read_text(encoding="utf-8")
        texts.extend((f"{module}#{name}", text) for name, text in widget_documents(source))
    for name in EXTRA_DOCUMENTS:
        texts.append((name, (repo / name).read_text(encoding="utf-8")))
    return texts


# -- what the documents use ------------------------------------------------------------------


@dataclass
class Usage:
    types: set[str] = field(default_factory=set)
    fields: dict[str, set[str]] = field(default_factory=dict)
    arguments: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    input_fields: dict[str, set[str]] = field(default_factory=dict)
    whole_inputs: set[str] = field(default_factory=set)
    directives: set[str] = field(default_factory=set)

    def size(self) -> int:
        return (
            len(self.types)
            + sum(map(len, self.fields.values()))
            + sum(map(len, self.arguments.values()))
            + sum(map(len, self.input_fields.values()))
            + len(self.whole_inputs)
            + len(self.directives)
        )

    def use_field(self, type_name: str, name: str) -> None:
        self.types.add(type_name)
        self.fields.setdefault(type_name, set()).add(name)

    def use_argument(self, owner: tuple[str, str], name: str) -> None:
        self.arguments.setdefault(owner, set()).add(name)

    def use_input_field(self, type_name: str, name: str) -> None:
        self.types.add(type_name)
        self.input_fields.setdefault(type_name, set()).add(name)


class _Collector(Visitor):
    """Records what a document uses, with the schema's view of each node (TypeInfo)."""

    def __init__(self, type_info: TypeInfo, schema: GraphQLSchema, usage: Usage) -> None:
        super().__init__()
        self.type_info = type_info
        self.schema = schema
        self.usage = usage
        self._owners: list[tuple[str, str] | None] = []

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        parent = self.type_info.get_parent_type()
        definition = self.type_info.get_field_def()
        if parent is None or definition is None or node.name.value.startswith("__"):
            self._owners.append(None)
            return
        self.usage.use_field(parent.name, node.name.value)
        self._owners.append((parent.name, node.name.value))

    def leave_field(self, *_args: object) -> None:
        self._owners.pop()

    def enter_argument(self, node: ArgumentNode, *_args: object) -> None:
        if self.type_info.get_directive() is not None or not self._owners:
            return  # @include/@skip: built in
        owner = self._owners[-1]
        if owner is not None:
            self.usage.use_argument(owner, node.name.value)

    def enter_object_field(self, node: ObjectFieldNode, *_args: object) -> None:
        parent = get_named_type(self.type_info.get_parent_input_type())
        if isinstance(parent, GraphQLInputObjectType):
            self.usage.use_input_field(parent.name, node.name.value)

    def enter_inline_fragment(self, node: InlineFragmentNode, *_args: object) -> None:
        if node.type_condition is not None:
            self.usage.types.add(node.type_condition.name.value)

    def enter_fragment_definition(self, node: FragmentDefinitionNode, *_args: object) -> None:
        self.usage.types.add(node.type_condition.name.value)

    def enter_variable_definition(self, node: VariableDefinitionNode, *_args: object) -> None:
        named = get_named_type(type_from_ast(self.schema, node.type))
        if named is not None:
            self.usage.types.add(named.name)
            if is_input_object_type(named):
                self.usage.whole_inputs.add(named.name)


def collect(schema: GraphQLSchema, documents: Iterable[tuple[str, str]]) -> Usage:
    usage = Usage(types=set(EXTRA_TYPES))
    for name, text in documents:
        document = parse(text)
        errors = validate(schema, document)
        if errors:
            messages = "\n".join(f"  {e.message}" for e in errors)
            raise SubsetError(f"{name} does not validate against Saleor's schema:\n{messages}")
        type_info = TypeInfo(schema)
        visit(document, TypeInfoVisitor(type_info, _Collector(type_info, schema, usage)))
    for type_name in usage.types | set(usage.fields):
        if schema.get_type(type_name) is None:
            raise SubsetError(f"unknown type {type_name}")
    return usage


# -- closing it into a valid schema --------------------------------------------------------


def _required(argument: Any) -> bool:
    return is_non_null_type(argument.type) and argument.default_value is Undefined


def _applied(node: Any) -> list[str]:
    directives: Sequence[DirectiveNode] = getattr(node, "directives", None) or ()
    return [d.name.value for d in directives]


def close(schema: GraphQLSchema, usage: Usage) -> Usage:
    """Add what a valid schema needs around `usage`, until nothing changes."""
    kept = copy.deepcopy(usage)
    while True:
        before = kept.size()
        for name in sorted(kept.types):
            _close_type(schema, kept, schema.get_type(name))
        for name in sorted(kept.directives):
            directive = schema.get_directive(name)
            if directive is None:
                raise SubsetError(f"unknown directive @{name}")
            for argument in directive.args.values():
                kept.types.add(get_named_type(argument.type).name)
        if kept.size() == before:
            return kept


def _close_type(schema: GraphQLSchema, kept: Usage, named: GraphQLNamedType | None) -> None:
    assert named is not None
    kept.directives.update(_applied(named.ast_node))
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        for interface in named.interfaces:
            if interface.name in kept.types:
                for name in kept.fields.get(interface.name, set()):
                    kept.use_field(named.name, name)
                    passed = kept.arguments.get((interface.name, name), set())
                    kept.arguments.setdefault((named.name, name), set()).update(passed)
        for name in sorted(kept.fields.get(named.name, set())):
            definition = named.fields[name]
            kept.types.add(get_named_type(definition.type).name)
            kept.directives.update(_applied(definition.ast_node))
            passed = kept.arguments.setdefault((named.name, name), set())
            passed.update(a for a, arg in definition.args.items() if _required(arg))
            for argument_name in passed:
                argument: GraphQLArgument = definition.args[argument_name]
                kept.types.add(get_named_type(argument.type).name)
                kept.directives.update(_applied(argument.ast_node))
    elif isinstance(named, GraphQLInputObjectType):
        used = kept.input_fields.setdefault(named.name, set())
        whole = named.name in kept.whole_inputs
        used.update(n for n, f in named.fields.items() if whole or _required(f))
        for name in used:
            input_field = named.fields[name]
            field_type = get_named_type(input_field.type)
            kept.types.add(field_type.name)
            if whole and is_input_object_type(field_type):
                kept.whole_inputs.add(field_type.name)
            kept.directives.update(_applied(input_field.ast_node))
    elif isinstance(named, GraphQLEnumType):
        for value in named.values.values():
            kept.directives.update(_applied(value.ast_node))


# -- printing ------------------------------------------------------------------------------


def _cut(definition: DefinitionNode, kept: Usage) -> DefinitionNode | None:
    """`definition` with only what is kept of it, or None when none of it is."""
    if isinstance(definition, SchemaDefinitionNode):
        return replace(
            definition,
            operation_types=tuple(
                o for o in definition.operation_types if o.type.name.value in kept.types
            ),
        )
    if isinstance(definition, DirectiveDefinitionNode):
        return definition if definition.name.value in kept.directives else None
    name = getattr(definition, "name", None)
    if name is None or name.value not in kept.types:
        return None
    type_name = name.value
    if isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
        fields = tuple(
            replace(
                f,
                arguments=tuple(
                    a
                    for a in f.arguments or ()
                    if a.name.value in kept.arguments.get((type_name, f.name.value), set())
                ),
            )
            for f in definition.fields or ()
            if f.name.value in kept.fields.get(type_name, set())
        )
        if not fields:
            raise SubsetError(f"{type_name} is kept but no field of it is used")
        interfaces = tuple(i for i in definition.interfaces or () if i.name.value in kept.types)
        return replace(definition, fields=fields, interfaces=interfaces)
    if isinstance(definition, UnionTypeDefinitionNode):
        members = tuple(t for t in definition.types or () if t.name.value in kept.types)
        if not members:
            raise SubsetError(f"union {type_name} is kept but none of its members is")
        return replace(definition, types=members)
    if isinstance(definition, InputObjectTypeDefinitionNode):
        used = kept.input_fields.get(type_name, set())
        return replace(
            definition, fields=tuple(f for f in definition.fields or () if f.name.value in used)
        )
    if isinstance(definition, EnumTypeDefinitionNode | ScalarTypeDefinitionNode):
        return definition
    raise SubsetError(f"unexpected definition {definition.kind} for {type_name}")


def _provenance(shared: Path) -> tuple[str, str]:
    """Saleor's commit and version the shared copy comes from, as its SOURCE.md says."""
    source = shared / "saleor" / "SOURCE.md"
    text = source.read_text(encoding="utf-8") if source.exists() else ""
    commit = re.search(r"\| Commit \| `([0-9a-f]{40})`", text)
    version = re.search(r"\| Saleor version string \| `([^`]+)`", text)
    return (commit.group(1) if commit else "unknown", version.group(1) if version else "unknown")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def subset_sdl(full_sdl: str, documents: Iterable[tuple[str, str]], shared: Path) -> str:
    """The subset of `full_sdl` the documents use, as SDL with a header saying where it is from."""
    full_document = parse(full_sdl)
    schema = build_ast_schema(full_document)
    kept = close(schema, collect(schema, documents))
    cut = [c for d in full_document.definitions if (c := _cut(d, kept)) is not None]
    body = print_ast(DocumentNode(definitions=tuple(cut)))
    commit, version = _provenance(shared)
    header = f"""\
# Saleor's GraphQL schema, cut down to what this project uses: the types, fields, arguments,
# input fields, enums and directives that the app's documents (graphql/), the storefront widget's
# (saleor_alipay_app/static/scan-to-bind.js) and the Saleor test double with its tests
# (tools/saleor-subset/extra.graphql) use, with Saleor's descriptions
# (their "Added in Saleor 3.x" notes drive the version checks), deprecations and directives.
#
# Generated by tools/saleor-subset/make.py; do not edit. Regenerate with
#   .venv/bin/python tools/saleor-subset/make.py
# tests/saleor/test_conformance.py checks that it is exactly what the generator makes.
#
# Source: saleor/graphql/schema.graphql of https://github.com/saleor/saleor (Saleor {version}),
#   commit {commit},
#   read from ../shared/saleor/schema.graphql, sha256
#   {_sha256(full_sdl.encode("utf-8"))}.
# Saleor is BSD-3-Clause: Copyright (c) 2020-2023, Saleor Commerce;
#   Copyright (c) 2010-2020, Mirumee Software.

"""
    # Check what is written: a schema that builds, in which every document still validates.
    subset = build_ast_schema(parse(header + body))
    for name, text in documents:
        errors = validate(subset, parse(text))
        if errors:
            raise SubsetError(f"{name} does not validate against the subset: {errors[0].message}")
    return header + body + "\n"


def source_md(shared: Path) -> str:
    commit, version = _provenance(shared)
    rows = "\n".join(
        f"| `json_schemas/{name}.json` | `saleor/json_schemas/{name}.json` | "
        f"`{_sha256((shared / 'saleor' / 'json_schemas' / f'{name}.json').read_bytes())}` |"
        for name in JSON_SCHEMAS
    )
    return f"""\
# Where these files come from

Generated by `tools/saleor-subset/make.py` from Saleor's published files in the shared folder
beside the repository (`../shared/saleor/`); do not edit. `tests/saleor/test_conformance.py`
checks them against that folder when it is present.

Upstream: https://github.com/saleor/saleor at `{commit}` (Saleor {version}). {LICENCE}

| File here | Upstream path | sha256 |
|---|---|---|
| `schema.graphql` | a subset of `saleor/graphql/schema.graphql` (see its header) | – |
{rows}

The JSON Schemas are byte-for-byte copies of those the Saleor double checks webhook answers with.
"""


def render(shared: Path, repo: Path = REPO) -> dict[str, bytes]:
    """Every file of `tests/support/saleor/`, by path relative to it."""
    full_sdl = (shared / "saleor" / "schema.graphql").read_text(encoding="utf-8")
    files = {
        "schema.graphql": subset_sdl(full_sdl, documents_text(repo), shared).encode("utf-8"),
        "SOURCE.md": source_md(shared).encode("utf-8"),
    }
    for name in JSON_SCHEMAS:
        source = shared / "saleor" / "json_schemas" / f"{name}.json"
        files[f"json_schemas/{name}.json"] = source.read_bytes()
    return files


def committed(repo: Path = REPO) -> dict[str, bytes]:
    """The files of `tests/support/saleor/` as they are in the working tree."""
    root = repo / OUTPUT_DIR
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--shared",
        type=Path,
        default=default_shared_dir(),
        help=f"the shared folder (default: ../shared, or ${SHARED_DIR_ENV})",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the files differ"
    )
    args = parser.parse_args(argv)
    if not (args.shared / "saleor" / "schema.graphql").exists():
        print(f"{args.shared}/saleor/schema.graphql is missing", file=sys.stderr)
        return 2
    try:
        wanted = render(args.shared)
    except SubsetError as exc:
        print(exc, file=sys.stderr)
        return 1
    present = committed()
    if args.check:
        differing = sorted(
            set(wanted) ^ set(present) | {k for k in wanted if present.get(k) != wanted[k]}
        )
        for name in differing:
            print(f"{OUTPUT_DIR}/{name} differs from what make.py writes", file=sys.stderr)
        return 1 if differing else 0
    root = REPO / OUTPUT_DIR
    for name in set(present) - set(wanted):
        (root / name).unlink()
    for name, data in wanted.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if present.get(name) != data:
            path.write_bytes(data)
            print(f"wrote {OUTPUT_DIR}/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
