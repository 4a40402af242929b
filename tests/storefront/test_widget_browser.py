"""The storefront widget (`/storefront/scan-to-bind.js`) in a real browser: the app's example
page (`/storefront/example`) runs whole checkouts against the Saleor double (its storefront
mutations, over CORS) and the Antom sandbox, the way a merchant's storefront would. Playwright
drives Debian's chromium, headless.

Screenshots are written to the test's folder; with DASHBOARD_SCREENSHOTS=docs they are written to
``docs/`` for the README.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import pytest

from saleor_alipay_app.agreements.models import BindingSession
from saleor_alipay_app.config import Settings
from saleor_alipay_app.payments import status_stream
from tests.payments.test_sessions import expire_binding
from tests.support.browser import launched_chromium, require_chromium
from tests.support.saleor_double import CheckoutRecord
from tests.support.stack import Stack, app_rows, started_stack

require_chromium()

from playwright.async_api import Browser, Page  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def stack(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Stack]:
    monkeypatch.setattr(status_stream, "POLL_SECONDS", 0.2)
    async with started_stack(settings, tmp_path) as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launched_chromium() as launched:
        yield launched


class Shop:
    def __init__(self, stack: Stack, browser: Browser, tmp_path: Path) -> None:
        self.stack = stack
        self.browser = browser
        self.shots = [tmp_path / "screenshots"]
        if os.environ.get("DASHBOARD_SCREENSHOTS") == "docs":
            self.shots.append(REPO / "docs")
        for folder in self.shots:
            folder.mkdir(parents=True, exist_ok=True)
        self.errors: list[str] = []

    async def open(self, checkout: CheckoutRecord, locale: str = "en") -> Page:
        page = await self.browser.new_page(viewport={"width": 800, "height": 900})
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on(
            "console",
            lambda message: (
                self.errors.append(message.text)
                if message.type == "error" and "Failed to load resource" not in message.text
                else None
            ),
        )
        query = urlencode(
            {"api": self.stack.saleor.api_url, "checkout": checkout.id, "locale": locale}
        )
        await page.goto(f"{self.stack.app.url}/storefront/example?{query}")
        return page

    async def screenshot(self, page: Page, name: str) -> None:
        shot = await page.screenshot(full_page=True)
        for folder in self.shots:
            (folder / f"storefront-{name}.png").write_bytes(shot)

    async def binding_id(self) -> str:
        """The newest QR code's binding id (what the shopper scans)."""
        rows = await app_rows(self.stack, BindingSession)
        rows.sort(key=lambda row: row.id or 0)
        return rows[-1].auth_state

    def events(self, checkout: CheckoutRecord) -> list[str]:
        [transaction_id] = checkout.transaction_ids[-1:]
        return [e.type for e in self.stack.saleor.transaction_events[transaction_id]]


@pytest.fixture
def shop(stack: Stack, browser: Browser, tmp_path: Path) -> Shop:
    return Shop(stack, browser, tmp_path)


async def test_a_qr_purchase_then_one_click(shop: Shop, stack: Stack) -> None:
    checkout = stack.saleor.create_checkout(Decimal("123.45"))
    page = await shop.open(checkout)
    wallet = page.get_by_role("button", name="Pay with AlipayHK")
    await wallet.wait_for()
    await shop.screenshot(page, "wallets")
    # Keyboard only: focus the wallet's button and press Enter.
    await wallet.focus()
    await page.keyboard.press("Enter")
    qr = page.get_by_role("img", name="QR code for AlipayHK")
    await qr.wait_for()
    assert await page.locator(".stb-countdown").inner_text() != ""
    assert await page.get_by_role("link", name="Open AlipayHK").count() == 1
    await shop.screenshot(page, "qr")

    await stack.approve(await shop.binding_id(), login="85261234567")
    await page.locator("#result").filter(has_text="Order").wait_for(timeout=20_000)
    await shop.screenshot(page, "paid")
    assert stack.saleor.charge_status(checkout) == "FULL"
    # Saleor's request event, the initialize answer, the app's CHARGE_SUCCESS report.
    assert shop.events(checkout) == ["CHARGE_REQUEST", "CHARGE_ACTION_REQUIRED", "CHARGE_SUCCESS"]

    # One click: the saved wallet comes from the app's paymentGatewayInitialize answer.
    second = stack.saleor.create_checkout(Decimal("45.00"))
    page = await shop.open(second)
    one_click = page.locator(".stb-oneclick")
    await one_click.wait_for()
    await shop.screenshot(page, "one-click")
    await one_click.click()
    await page.locator("#result").filter(has_text="Order").wait_for(timeout=20_000)
    assert stack.saleor.charge_status(second) == "FULL"
    assert shop.errors == []


async def test_an_expired_code_is_renewed(shop: Shop, stack: Stack) -> None:
    checkout = stack.saleor.create_checkout(Decimal("66.00"))
    page = await shop.open(checkout)
    await page.get_by_role("button", name="Pay with AlipayHK").click()
    await page.get_by_role("img", name="QR code for AlipayHK").wait_for()
    first = await shop.binding_id()
    await expire_binding(stack, first)
    await (
        page.get_by_role("status")
        .filter(has_text="Here is a new QR code.")
        .wait_for(timeout=20_000)
    )
    renewed = await shop.binding_id()
    assert renewed != first
    await shop.screenshot(page, "renewed")
    await stack.approve(renewed, login="85261234567")
    await page.locator("#result").filter(has_text="Order").wait_for(timeout=20_000)
    # One more event for the renewal's transactionProcess.
    assert shop.events(checkout) == [
        "CHARGE_REQUEST",
        "CHARGE_ACTION_REQUIRED",
        "CHARGE_ACTION_REQUIRED",
        "CHARGE_SUCCESS",
    ]
    assert shop.errors == []


@pytest.mark.parametrize(
    ("locale", "wallet", "qr", "message", "retry"),
    [
        (
            "en",
            "Pay with AlipayHK",
            "QR code for AlipayHK",
            "Your wallet balance is not enough for this payment.",
            "Try again",
        ),
        ("zh-CN", "使用 AlipayHK 付款", "AlipayHK 付款二维码", "钱包余额不足", "重试"),
    ],
)
async def test_a_failed_payment_says_why(
    shop: Shop, stack: Stack, locale: str, wallet: str, qr: str, message: str, retry: str
) -> None:
    await stack.scenario("USER_BALANCE_NOT_ENOUGH", calls=["pay"])
    checkout = stack.saleor.create_checkout(Decimal("77.00"))
    page = await shop.open(checkout, locale=locale)
    await page.get_by_role("button", name=wallet).click()
    await page.get_by_role("img", name=qr).wait_for()
    await stack.approve(await shop.binding_id(), login="85261234567")
    await page.get_by_role("alert").filter(has_text=message).wait_for(timeout=20_000)
    await page.get_by_role("button", name=retry).wait_for()
    await shop.screenshot(page, f"failed-{locale}")
    assert stack.saleor.charge_status(checkout) == "NONE"
    assert shop.errors == []
