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

from playwright.async_api import Browser, Locator, Page  # noqa: E402

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

    async def open(
        self,
        checkout: CheckoutRecord | None,
        locale: str = "en",
        *,
        token: str | None = None,
        channel: str | None = None,
    ) -> Page:
        """The example page: the checkout widget for ``checkout``, and the account page when a
        customer ``token`` and ``channel`` are given."""
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
        params = {"api": self.stack.saleor.api_url, "locale": locale}
        if checkout is not None:
            params["checkout"] = checkout.id
        if token is not None and channel is not None:
            params.update(token=token, channel=channel)
        query = urlencode(params)
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
    assert await page.locator("#checkout .stb").get_attribute("lang") == locale
    if locale != "en":  # the English QR step is storefront-qr.png
        await shop.screenshot(page, f"qr-{locale}")
    await stack.approve(await shop.binding_id(), login="85261234567")
    await page.get_by_role("alert").filter(has_text=message).wait_for(timeout=20_000)
    await page.get_by_role("button", name=retry).wait_for()
    await shop.screenshot(page, f"failed-{locale}")
    assert stack.saleor.charge_status(checkout) == "NONE"
    assert shop.errors == []


# -- the account page: save a wallet, remove it ------------------------------------------------


async def tab_to(page: Page, target: Locator, limit: int = 40) -> None:
    """Press Tab until ``target`` has the keyboard focus (it must be reachable by Tab)."""
    handle = await target.element_handle()
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate("(node) => node === document.activeElement", handle):
            return
    raise AssertionError(f"Tab never reached {target}")


async def focus_is_in(page: Page, selector: str) -> bool:
    return bool(
        await page.evaluate(
            "(s) => document.querySelector(s).contains(document.activeElement)", selector
        )
    )


async def test_save_a_wallet_pay_with_it_and_remove_it(shop: Shop, stack: Stack) -> None:
    token = stack.saleor.customer_token()
    page = await shop.open(None, token=token, channel="hk-web")
    account = page.locator("#account")
    save = account.get_by_role("button", name="Save AlipayHK")
    await save.wait_for()
    await account.get_by_text("No saved wallets.").wait_for()
    # Screen readers: a polite live region for progress, an alert for failures, a language.
    assert await account.get_by_role("status").get_attribute("aria-live") == "polite"
    assert await account.get_by_role("alert").count() == 1
    assert await account.locator(".stb").get_attribute("lang") == "en"
    await shop.screenshot(page, "account")

    # Keyboard only: Tab to "Save AlipayHK", Space.
    await tab_to(page, save)
    await page.keyboard.press("Space")
    qr = account.get_by_role("img", name="QR code for AlipayHK")
    await qr.wait_for()
    heading = account.get_by_role(
        "heading", name="Scan this QR code with AlipayHK to save it for one-click payments"
    )
    assert await heading.count() == 1
    # The content changed under the keyboard's focus: the focus stays in the widget.
    assert await focus_is_in(page, "#account")
    await tab_to(page, account.get_by_role("button", name="New QR code"))
    await shop.screenshot(page, "account-qr")

    await stack.approve(await shop.binding_id(), login="85261234567")
    await (
        account.get_by_role("status")
        .filter(has_text="The wallet is saved.")
        .wait_for(timeout=20_000)
    )
    saved = account.get_by_role("list", name="Your saved wallets")
    await saved.get_by_text("AlipayHK 852****4567").wait_for()
    remove = saved.get_by_role("button", name="Remove AlipayHK 852****4567", exact=True)
    assert await remove.count() == 1
    await shop.screenshot(page, "account-saved")

    # At checkout, one click is offered for the saved wallet: Tab to it, Enter, paid.
    checkout = stack.saleor.create_checkout(Decimal("30.00"))
    shop_page = await shop.open(checkout, token=token)
    one_click = shop_page.get_by_role("button", name="Pay with AlipayHK 852****4567")
    await one_click.wait_for()
    await tab_to(shop_page, one_click)
    await shop_page.keyboard.press("Enter")
    await shop_page.locator("#result").filter(has_text="Order").wait_for(timeout=20_000)
    assert stack.saleor.charge_status(checkout) == "FULL"
    assert shop.events(checkout) == ["CHARGE_REQUEST", "CHARGE_SUCCESS"]

    # Removing: Antom's answer is lost once, so the first try fails and says so.
    await stack.scenario("HTTP_500", calls=["revoke"], count=1)
    await tab_to(page, remove)
    await page.keyboard.press("Enter")
    await (
        account.get_by_role("alert")
        .filter(has_text="The wallet was not removed. The wallet could not be unlinked right now.")
        .wait_for(timeout=20_000)
    )
    assert await remove.count() == 1
    await remove.focus()
    await page.keyboard.press("Enter")
    await (
        account.get_by_role("status")
        .filter(has_text="The wallet was removed.")
        .wait_for(timeout=20_000)
    )
    await account.get_by_text("No saved wallets.").wait_for()
    assert await account.get_by_role("alert").inner_text() == ""
    assert await focus_is_in(page, "#account")

    # And checkout no longer offers it.
    later = stack.saleor.create_checkout(Decimal("31.00"))
    shop_page = await shop.open(later, token=token)
    await shop_page.get_by_role("button", name="Pay with AlipayHK").wait_for()
    assert await shop_page.locator(".stb-oneclick").count() == 0
    assert shop.errors == []
    assert stack.saleor.refused_answers == []


@pytest.mark.parametrize(
    ("locale", "save", "message", "qr"),
    [
        ("en", "Save AlipayHK", "The wallet was not saved.", "QR code for AlipayHK"),
        ("zh-CN", "保存 AlipayHK", "钱包未保存。操作未能完成，请重试。", "AlipayHK 付款二维码"),
    ],
)
async def test_a_wallet_that_cannot_be_saved_says_so(
    shop: Shop, stack: Stack, locale: str, save: str, message: str, qr: str
) -> None:
    token = stack.saleor.customer_token()
    page = await shop.open(None, locale, token=token, channel="hk-web")
    account = page.locator("#account")
    button = account.get_by_role("button", name=save)
    await button.wait_for()
    # Antom cannot be reached for the QR code (every attempt the app makes).
    await stack.scenario("HTTP_500", calls=["consult"], count=10)
    await tab_to(page, button)
    await page.keyboard.press("Enter")
    alert = account.get_by_role("alert")
    await alert.filter(has_text=message).wait_for(timeout=20_000)
    if locale == "en":
        # The app's own words follow Saleor's GATEWAY_ERROR: about linking, not about paying.
        said = (await alert.inner_text()).strip()
        assert "could not be linked" in said, said
        assert "payment" not in said.lower(), said
    # The list stays, and the keyboard's focus on the button: the shopper can try again.
    assert await account.get_by_role("img").count() == 0
    assert await page.evaluate(
        "(node) => node === document.activeElement", await button.element_handle()
    )
    await shop.screenshot(page, f"account-failed-{locale}")

    # Antom answers again: the same button, Space this time.
    cleared = await stack.http.delete(f"{stack.sandbox.url}/sandbox/api/scenario")
    assert cleared.status_code == 200
    await page.keyboard.press("Space")
    await account.get_by_role("img", name=qr).wait_for()
    assert await alert.inner_text() == ""
    assert shop.errors == []
