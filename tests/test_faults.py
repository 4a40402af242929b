"""The crash points' testing hook (`saleor_alipay_app.faults`): it kills the process only when
armed in development, every point it knows is placed in the code, and `serve` refuses a name
that is not one of them."""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import saleor_alipay_app
from saleor_alipay_app.faults import CRASH_AT_VARIABLE, CRASH_POINTS

PACKAGE = Path(saleor_alipay_app.__file__).parent
SCRIPT = (
    "from saleor_alipay_app.faults import crash_point\n"
    "crash_point('pay.claimed')\n"
    "print('alive', flush=True)\n"
)


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {CRASH_AT_VARIABLE, "APP_ENV"}}
    return subprocess.run(
        [sys.executable, *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "killed"),
    [
        ({CRASH_AT_VARIABLE: "pay.claimed"}, True),
        ({CRASH_AT_VARIABLE: "pay.claimed", "APP_ENV": "development"}, True),
        ({CRASH_AT_VARIABLE: "pay.claimed", "APP_ENV": "production"}, False),
        ({CRASH_AT_VARIABLE: "refund.claimed"}, False),
        ({}, False),
    ],
)
def test_a_crash_point_kills_only_when_armed_in_development(
    env: dict[str, str], killed: bool
) -> None:
    result = _run(env, "-c", SCRIPT)
    if killed:
        assert result.returncode == -signal.SIGKILL, result
        assert result.stdout == ""
    else:
        assert result.returncode == 0, result
        assert result.stdout == "alive\n"


def _crash_point_names() -> dict[str, list[str]]:
    """Each name passed to `crash_point` in the package, with where."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "crash_point"
            ):
                [argument] = node.args
                assert isinstance(argument, ast.Constant), f"{path}:{node.lineno}"
                found.setdefault(str(argument.value), []).append(
                    f"{path.relative_to(PACKAGE)}:{node.lineno}"
                )
    return found


def test_every_crash_point_is_known_and_placed() -> None:
    placed = _crash_point_names()
    assert set(placed) == set(CRASH_POINTS), placed


def test_serve_refuses_an_unknown_crash_point(tmp_path: Path) -> None:
    env = {
        CRASH_AT_VARIABLE: "pay.clamed",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
    }
    result = _run(env, "-m", "saleor_alipay_app", "serve", "--port", "9")
    assert result.returncode == 2, result
    assert "SALEOR_ALIPAY_CRASH_AT='pay.clamed' names no crash point" in result.stderr
