"""Which tests may skip, and a pytest plugin that fails the run when any other test skips.

A skipped test is a check that did not run; a run that reports "700 passed, 300 skipped" looks
green while checking much less. So the suite fails when a test skips for a reason not listed in
`ALLOWED` below (the whole of which is the project's policy, documented in CONTRIBUTING.md):

- the conformance module (`tests/saleor/test_conformance.py`) when Saleor's published files are
  not beside the repository (`../shared`);
- the browser tests when Debian's chromium is missing;
- PostgreSQL-only tests, in a run on SQLite;
- the interop tests against Antom's official SDK, when the SDK cannot be installed into its venv
  (`tools/sdk-oracle/.venv`, which the module makes when it is missing).

Skips raised while collecting (a whole module skipped) count as much as skips of single tests.
The plugin is loaded by `tests/conftest.py`; it runs on pytest-xdist's controller, which sees
every worker's reports.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

CONFORMANCE_MODULE: Final = "tests/saleor/test_conformance.py"
# How the conformance module says why it did not run (matched by ALLOWED).
SHARED_ABSENT: Final = "conformance with Saleor's published files not checked"


def on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql"))


@dataclass(frozen=True)
class AllowedSkip:
    """Skips of tests in `path` (any file when None) whose reason matches `reason`."""

    why: str
    reason: re.Pattern[str]
    path: str | None = None
    sqlite_only: bool = False

    def allows(self, path: str, reason: str, *, postgres: bool) -> bool:
        if self.sqlite_only and postgres:
            return False
        if self.path is not None and path != self.path:
            return False
        return self.reason.search(reason) is not None


ALLOWED: Final = (
    AllowedSkip(
        "the conformance checks need ../shared",
        re.compile("^" + re.escape(SHARED_ABSENT) + ": "),
        CONFORMANCE_MODULE,
    ),
    AllowedSkip(
        "the browser tests need Debian's chromium",
        re.compile(r"^browser tests need Debian's chromium at "),
        "tests/admin/test_dashboard_browser.py",
    ),
    AllowedSkip(
        "the browser tests need Debian's chromium",
        re.compile(r"^browser tests need Debian's chromium at "),
        "tests/storefront/test_widget_browser.py",
    ),
    AllowedSkip(
        "PostgreSQL-only tests on SQLite",
        re.compile(r"^(PostgreSQL only|two app processes need a shared PostgreSQL)\b"),
        sqlite_only=True,
    ),
    AllowedSkip(
        "the Antom SDK interop tests need the SDK from PyPI",
        re.compile(r"^Antom's official SDK could not be installed into tools/sdk-oracle/\.venv\b"),
        "tests/antom/test_sdk_interop.py",
    ),
)


@dataclass(frozen=True)
class Skip:
    nodeid: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.nodeid}: {self.reason}"


def skip_of(report: pytest.CollectReport | pytest.TestReport) -> Skip | None:
    """The skip `report` tells of, if it is one (xfail is not a skip)."""
    if not report.skipped or hasattr(report, "wasxfail"):
        return None
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
    else:
        reason = str(longrepr)
    reason = reason.removeprefix("Skipped: ")
    path = report.nodeid.split("::", 1)[0]
    return Skip(report.nodeid, Path(path).as_posix(), reason)


def unexpected(
    skips: list[Skip], *, postgres: bool, allowed: tuple[AllowedSkip, ...] = ALLOWED
) -> list[Skip]:
    return [
        s for s in skips if not any(a.allows(s.path, s.reason, postgres=postgres) for a in allowed)
    ]


_GREEN: Final = (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)


class SkipPolicy:
    """Collects the run's skips and fails the run on those `ALLOWED` does not list."""

    def __init__(self) -> None:
        self.skips: list[Skip] = []

    def _record(self, report: pytest.CollectReport | pytest.TestReport) -> None:
        skip = skip_of(report)
        if skip is not None and skip not in self.skips:
            self.skips.append(skip)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._record(report)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._record(report)

    def unexpected(self) -> list[Skip]:
        return unexpected(self.skips, postgres=on_postgres())

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> object:
        if self.unexpected() and session.exitstatus in _GREEN:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return (yield)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        found = self.unexpected()
        if not found:
            return
        terminalreporter.section("skips not allowed (tests/support/skips.py)", red=True)
        for skip in found:
            terminalreporter.line(f"SKIPPED {skip}")
        terminalreporter.line(
            f"{len(found)} test(s) skipped for a reason tests/support/skips.py does not allow: "
            "the run fails."
        )


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return  # an xdist worker: its reports reach the controller, which judges them
    config.pluginmanager.register(SkipPolicy(), "saleor-alipay-skip-policy")
