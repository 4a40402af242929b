"""The skip policy (tests/support/skips.py): a run fails when a test skips for a reason it does not
allow."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.skips import SHARED_ABSENT, Skip, unexpected

PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (
            "tests/saleor/test_conformance.py",
            f"{SHARED_ABSENT}: /x/saleor/schema.graphql is absent",
        ),
        (
            "tests/admin/test_dashboard_browser.py",
            "browser tests need Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
        ),
        ("tests/test_serving.py", f"PostgreSQL only: set DATABASE_URL={PG_URL}"),
        (
            "tests/payments/test_concurrency.py",
            f"two app processes need a shared PostgreSQL: set DATABASE_URL={PG_URL}",
        ),
        (
            "tests/antom/test_sdk_interop.py",
            "Antom's official SDK could not be installed into tools/sdk-oracle/.venv "
            "(run.sh --setup-only: ERROR: No matching distribution found)",
        ),
    ],
)
def test_allowed_skips(path: str, reason: str) -> None:
    assert unexpected([Skip(f"{path}::t", path, reason)], postgres=False) == []


@pytest.mark.parametrize(
    ("path", "reason", "postgres"),
    [
        # the shared folder may be missing for the conformance module only
        ("tests/saleor/test_double.py", f"{SHARED_ABSENT}: /x is absent", False),
        ("tests/saleor/test_conformance.py", "shared file /x/antom/API.md is missing", False),
        # playwright is one of the test dependencies: its absence is not allowed
        ("tests/admin/test_dashboard_browser.py", "browser tests need the PyPI package", False),
        # on PostgreSQL nothing may skip for want of PostgreSQL
        ("tests/test_serving.py", f"PostgreSQL only: set DATABASE_URL={PG_URL}", True),
        ("tests/antom/test_results.py", "Antom's official SDK could not be installed", False),
        # the SDK's venv merely absent is not a reason: the module installs it
        ("tests/antom/test_sdk_interop.py", "ANTOM_SDK_PYTHON is not set", False),
        ("tests/test_config.py", "unconditional skip", False),
    ],
)
def test_other_skips_are_not_allowed(path: str, reason: str, postgres: bool) -> None:
    skip = Skip(f"{path}::t", path, reason)
    assert unexpected([skip], postgres=postgres) == [skip]


CONFTEST = 'pytest_plugins = ("tests.support.skips",)\n'


REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner runs import the plugin from this repository."""
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), path])))


def _run(pytester: pytest.Pytester, source: str) -> pytest.RunResult:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_some=source)
    return pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")


def test_a_run_with_a_skip_not_allowed_fails(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = _run(
        pytester,
        "import pytest\n"
        "def test_runs(): pass\n"
        "@pytest.mark.skip(reason='not today')\n"
        "def test_skipped(): pass\n"
        "@pytest.mark.skipif(True, reason='PostgreSQL only: set DATABASE_URL')\n"
        "def test_postgres(): pass\n",
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*skips not allowed*",
            "SKIPPED test_some.py::test_skipped: not today",
            "1 test(s) skipped for a reason*",
        ]
    )
    assert "test_postgres" not in result.stdout.str()


def test_a_module_skipped_at_collection_counts(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = _run(pytester, "import pytest\npytest.skip('no reason', allow_module_level=True)\n")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["SKIPPED test_some.py: no reason"])


def test_a_run_with_allowed_skips_passes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = _run(
        pytester,
        "import pytest\n"
        "def test_runs(): pass\n"
        "@pytest.mark.skipif(True, reason='PostgreSQL only: set DATABASE_URL')\n"
        "def test_postgres(): pass\n",
    )
    assert result.ret == pytest.ExitCode.OK
    # ... but not on PostgreSQL, where that test should have run
    monkeypatch.setenv("DATABASE_URL", PG_URL)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
