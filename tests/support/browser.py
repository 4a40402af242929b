"""Debian's chromium driven by Playwright, for the browser tests (the dashboard's and the
storefront widget's): the one place that says where chromium is, how it is launched, and why a
browser test module skips (tests/support/skips.py allows only a missing chromium)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    """Skip the calling test module, saying why, when Playwright or chromium is missing."""
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the machine
        pytest.skip(
            "browser tests need the PyPI package playwright (pip install -e '.[test]')",
            allow_module_level=True,
        )
    if not Path(CHROMIUM).exists():  # pragma: no cover - depends on the machine
        pytest.skip(
            f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install -y chromium)",
            allow_module_level=True,
        )


@asynccontextmanager
async def launched_chromium() -> AsyncIterator[Any]:
    """A headless chromium (a Playwright `Browser`), closed at the end."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()
