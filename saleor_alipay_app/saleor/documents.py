"""The GraphQL documents of `graphql/`, loaded as complete, self-contained documents.

Every document the app sends to Saleor or subscribes with lives in its own file under
`graphql/` (`subscriptions/`, `queries/`, `mutations/`); shared fragments live in
`graphql/fragments/`. `load_document` returns a file's text followed by the definitions of every
fragment it spreads, transitively, so the result can be sent to Saleor as it is (a manifest
`query`, or a GraphQL request).
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import Final

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSyntaxError,
    Node,
    Visitor,
    parse,
    visit,
)

from saleor_alipay_app.resources import resource_path

GRAPHQL_DIR_ENV: Final = "SALEOR_ALIPAY_GRAPHQL_DIR"
FRAGMENTS_FOLDER: Final = "fragments"


class DocumentError(Exception):
    """A document is missing, malformed, or spreads a fragment nobody defines."""


def resolve_graphql_dir() -> Path:
    """Where the documents are: `$SALEOR_ALIPAY_GRAPHQL_DIR`, else `graphql/` beside
    `manifest.json` (the repository root, or the copy a wheel installs under
    `<prefix>/share/saleor-alipay-app/`)."""
    override = os.environ.get(GRAPHQL_DIR_ENV)
    if override:
        return Path(override)
    return resource_path("graphql")


GRAPHQL_DIR: Final[Path] = resolve_graphql_dir()


class _SpreadCollector(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.spreads: list[str] = []

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_args: object) -> None:
        if node.name.value not in self.spreads:
            self.spreads.append(node.name.value)


def _spreads(node: Node) -> list[str]:
    collector = _SpreadCollector()
    visit(node, collector)
    return collector.spreads


def _fragment_definitions(document: DocumentNode) -> list[FragmentDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]


def _source_of(node: FragmentDefinitionNode, text: str) -> str:
    assert node.loc is not None  # parse() keeps locations
    return text[node.loc.start : node.loc.end]


class DocumentLoader:
    """Loads documents from one `graphql/` folder, each file read and parsed once."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._documents: dict[str, str] = {}
        self._fragments: dict[str, tuple[FragmentDefinitionNode, str]] | None = None

    def _parse(self, path: Path) -> tuple[DocumentNode, str]:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DocumentError(f"no GraphQL document at {path}") from None
        try:
            return parse(text), text
        except GraphQLSyntaxError as exc:
            raise DocumentError(f"{path}: {exc.message} at {exc.locations}") from None

    def _path(self, relative: str) -> Path:
        candidate = Path(relative)
        if candidate.is_absolute() or ".." in candidate.parts or candidate.suffix != ".graphql":
            raise DocumentError(f"not a document path inside graphql/: {relative!r}")
        return self.directory / candidate

    def fragments(self) -> dict[str, tuple[FragmentDefinitionNode, str]]:
        """Every fragment of `fragments/`, by name, with its source text."""
        if self._fragments is None:
            found: dict[str, tuple[FragmentDefinitionNode, str]] = {}
            folder = self.directory / FRAGMENTS_FOLDER
            for path in sorted(folder.glob("*.graphql")) if folder.is_dir() else []:
                document, text = self._parse(path)
                for definition in document.definitions:
                    if not isinstance(definition, FragmentDefinitionNode):
                        raise DocumentError(f"{path} holds something other than fragments")
                    name = definition.name.value
                    if name in found:
                        raise DocumentError(f"fragment {name} is defined twice (again in {path})")
                    found[name] = (definition, _source_of(definition, text))
            self._fragments = found
        return self._fragments

    def load(self, relative: str) -> str:
        """The document at `relative` plus every fragment it needs, as one document."""
        if relative not in self._documents:
            self._documents[relative] = self._assemble(relative)
        return self._documents[relative]

    def _assemble(self, relative: str) -> str:
        path = self._path(relative)
        document, text = self._parse(path)
        defined = {d.name.value for d in _fragment_definitions(document)}
        library = self.fragments()
        appended: list[str] = []
        pending = _spreads(document)
        while pending:
            name = pending.pop(0)
            if name in defined:
                continue
            if name not in library:
                raise DocumentError(f"{relative} spreads unknown fragment {name}")
            definition, source = library[name]
            defined.add(name)
            appended.append(source)
            pending.extend(_spreads(definition))
        return "\n\n".join([text.strip(), *appended]) + "\n"


@cache
def _default_loader() -> DocumentLoader:
    return DocumentLoader(GRAPHQL_DIR)


def load_document(relative: str) -> str:
    """A complete document from `graphql/`, e.g.
    `load_document("subscriptions/transaction_initialize_session.graphql")`."""
    return _default_loader().load(relative)


# A document that needs a Saleor newer than the app's minimum says so on its first line, e.g.
# "# Needs Saleor 3.22." The app sends it only to such a Saleor (the tests check each document
# against the version it names, and every other one against 3.21).
_NEEDS_SALEOR = re.compile(r"#\s*Needs Saleor (\d+)\.(\d+)\b")


def required_saleor(relative: str) -> tuple[int, int] | None:
    """The (major, minor) a document needs, when it names one on its first line."""
    first_line = load_document(relative).split("\n", 1)[0]
    found = _NEEDS_SALEOR.match(first_line)
    return (int(found[1]), int(found[2])) if found else None


MIN_SALEOR: Final = (3, 21)


def saleor_minor(text: str | None) -> tuple[int, int] | None:
    """(major, minor) of a Saleor version as Saleor gives it: "3.24" (Saleor-Schema-Version),
    "3.24.0-a.0" (a webhook's `version`); None when it is not one."""
    found = re.match(r"\s*(\d{1,3})\.(\d{1,3})(?:\D|$)", text or "")
    return (int(found[1]), int(found[2])) if found else None
