"""The layers of the package, checked from its imports: each part imports only the parts below it
(docs/architecture.md). A new import that reaches up, or a protocol library that learns about
payments, fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import saleor_alipay_app

PACKAGE = Path(saleor_alipay_app.__file__).parent

# Lower numbers are lower layers. A part may import itself and any part of a lower rank.
RANKS: dict[str, int] = {
    "config": 0,
    "logs": 0,
    "resources": 0,
    "errors": 0,
    "http": 0,
    "faults": 0,
    "jsontext": 0,
    "metrics": 0,
    "tracing": 0,
    "crypto": 1,
    "db": 1,
    "saleor": 2,
    "antom": 2,
    "sandbox": 3,
    "installations": 3,
    "history": 3,
    "channels": 4,
    "agreements": 5,
    "payments": 6,
    "admin": 7,
    "customs": 8,
    "reconciliation": 9,
    "overview": 10,
    "composition": 10,
    "models": 10,
    "web": 11,
    "migrations": 11,
    "demo": 11,
    "cli": 12,
    "__main__": 13,
}
# Parts of one rank that must not import each other.
APART = [
    {"saleor", "antom"},
    {"sandbox", "installations", "history"},
    {"composition", "models", "overview"},
]


def _part(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "saleor_alipay_app" or len(parts) < 2:
        return None
    return parts[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module == "saleor_alipay_app":
                found.update(f"saleor_alipay_app.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_part_has_a_rank() -> None:
    parts = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in _files()}
    assert parts - {"__init__"} <= set(RANKS), sorted(parts - set(RANKS) - {"__init__"})


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_reach_down(path: Path) -> None:
    own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    if own == "__init__":
        return
    for module in _imports(path):
        other = _part(module)
        if other is None or other == own:
            continue
        assert RANKS[other] <= RANKS[own], f"{own} (rank {RANKS[own]}) imports {module} above it"
        for group in APART:
            assert not {own, other} <= group, f"{own} must not import {other}"


def test_no_domain_imports_the_composition_root() -> None:
    for path in _files():
        own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if own in {"web", "cli", "demo", "__main__", "composition"}:
            continue
        assert "saleor_alipay_app.composition" not in _imports(path), path


def test_production_code_never_imports_the_simulator() -> None:
    """Only the console script mounts `sandbox` (its own command)."""
    for path in _files():
        own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if own in {"sandbox", "cli"}:
            continue
        reached = {m for m in _imports(path) if _part(m) == "sandbox"}
        assert not reached, f"{path.relative_to(PACKAGE)} imports {sorted(reached)}"
