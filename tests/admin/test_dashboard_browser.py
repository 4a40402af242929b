"""The dashboard pages in a real browser, hosted the way the Saleor dashboard hosts them: an
outer page on another origin embeds `/dashboard?domain=&saleorApiUrl=&id=&theme=&locale=` in
an iframe and speaks App Bridge (answers `notifyReady`, posts `handshake` with a token signed by
the Saleor double, later `theme` and `localeChanged`). Playwright drives Debian's chromium,
headless.

The frame is as wide as the Saleor dashboard makes an app's frame at a 1440 px wide window
(`FRAME_WIDTH`). Screenshots are written to the test's folder; with DASHBOARD_SCREENSHOTS=docs
the gallery test writes every page, light and dark, English and Chinese, to
``docs/screenshots/`` for the README (``tools/dashboard-screenshots`` runs it).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from saleor_alipay_app.agreements.models import Agreement, AgreementStatus
from saleor_alipay_app.antom.keys import private_key_pem, public_key_pem
from saleor_alipay_app.channels.models import ChannelConfig
from saleor_alipay_app.saleor.events import SyncEvent
from tests.overview.seed import STUCK_PAYMENT, seed
from tests.support.browser import launched_chromium, require_chromium
from tests.support.saleor_double import Channel, Customer, global_id
from tests.support.servers import RunningServer, serve_in_loop
from tests.support.stack import (
    CLIENT_ID,
    Stack,
    app_rows,
    app_services,
    cached_key,
    qr_purchase,
    sandbox_bindings,
)

from .conftest import payment_notified

require_chromium()

from playwright.async_api import Browser, Frame, FrameLocator, Page  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
OUTER_PAGE = r"""<!doctype html>
<html><head><meta charset="utf-8"><title>Saleor Dashboard (test double)</title>
<style>body{margin:0;background:#f5f6f8}iframe{display:block;border:0;width:__WIDTH__px;height:900px}</style>
</head><body>
<iframe id="app" title="app" src="__SRC__"></iframe>
<script>
  window.__messages = [];
  const token = __TOKEN__;
  // What the dashboard is showing: sent on every load, changed by `setHost`.
  window.host = {theme: __THEME__, locale: __LOCALE__};
  const frame = document.getElementById("app");
  const appOrigin = new URL(frame.src).origin;
  window.saleorSend = (message) => frame.contentWindow.postMessage(message, appOrigin);
  window.addEventListener("message", (event) => {
    if (event.source !== frame.contentWindow || event.origin !== appOrigin) return;
    const data = event.data || {};
    window.__messages.push(data);
    if (data.payload && data.payload.actionId) {
      window.saleorSend({type: "response", payload: {actionId: data.payload.actionId, ok: true}});
    }
    if (data.type === "notifyReady") {
      window.saleorSend({type: "handshake", payload: {token, version: 1}});
      // As the dashboard does on every load: the theme and the locale, even unchanged.
      window.saleorSend({type: "theme", payload: {theme: window.host.theme}});
      window.saleorSend({type: "localeChanged", payload: {locale: window.host.locale}});
    }
  });
  // The admin switches the dashboard's theme or language: the dashboard tells the app.
  window.setHost = (theme, locale) => {
    window.host = {theme, locale};
    window.saleorSend({type: "theme", payload: {theme}});
    window.saleorSend({type: "localeChanged", payload: {locale}});
  };
  // A reload at the app's route, as the dashboard does with the route `updateRouting` kept.
  window.reloadAt = (route) => {
    const url = new URL(frame.src);
    url.pathname = url.pathname.replace(/\/dashboard.*$/, "/dashboard" + route);
    url.searchParams.set("theme", window.host.theme);
    url.searchParams.set("locale", window.host.locale);
    frame.src = url.toString();
  };
  frame.addEventListener("load", () => {
    window.saleorSend({type: "handshake", payload: {token, version: 1}});
  });
</script></body></html>"""


# The width of the iframe the Saleor dashboard (3.2x) gives an app's page in a 1440 px wide
# window: the sidebar is 260 px wide from 1200 px up (src/components/Sidebar/Sidebar.tsx,
# Sidebar.module.css) and the app's frame takes the rest at width 100% (AppFrame).
WINDOW_WIDTH = 1440
SIDEBAR_WIDTH = 260
FRAME_WIDTH = WINDOW_WIDTH - SIDEBAR_WIDTH


def screenshot_dirs(tmp_path: Path, *, docs: bool = False) -> list[Path]:
    """Where screenshots go: the test's folder, and with ``docs`` and DASHBOARD_SCREENSHOTS=docs
    the README's gallery (``docs/screenshots/``)."""
    dirs = [tmp_path / "screenshots"]
    if docs and os.environ.get("DASHBOARD_SCREENSHOTS") == "docs":
        dirs.append(REPO / "docs" / "screenshots")
    for folder in dirs:
        folder.mkdir(parents=True, exist_ok=True)
    return dirs


class Dashboard:
    """The outer page (the Saleor dashboard's place) and the app's iframe inside it."""

    def __init__(self, page: Page, shots: list[Path]) -> None:
        self.page = page
        self.shots = shots

    @property
    def app(self) -> FrameLocator:
        return self.page.frame_locator("#app")

    @property
    def frame(self) -> Frame:
        frame = self.page.frame(url=lambda url: "/dashboard" in url)
        assert frame is not None
        return frame

    async def ready(self, page_name: str) -> None:
        await self.app.locator(f"main[data-page='{page_name}'][data-ready='true']").wait_for()

    async def open(self, page_name: str) -> None:
        await self.app.locator(f"nav a[data-nav='{page_name}']").click()
        await self.ready(page_name)

    async def messages(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self.page.evaluate("window.__messages")
        return result

    async def posted(self, kind: str, before: int = 0) -> list[dict[str, Any]]:
        """The payloads of the app's ``kind`` actions, once there are more than ``before`` (a
        message from the frame reaches the outer page after the click that sent it)."""
        await self.page.wait_for_function(
            "([kind, before]) => window.__messages.filter((m) => m.type === kind).length > before",
            arg=[kind, before],
        )
        return [m["payload"] for m in await self.messages() if m["type"] == kind]

    async def send(self, message: dict[str, Any]) -> None:
        await self.page.evaluate("(m) => window.saleorSend(m)", message)

    def keep(self, name: str, shot: bytes) -> None:
        for folder in self.shots:
            (folder / f"{name}.png").write_bytes(shot)

    async def screenshot(self, name: str) -> None:
        """The app's iframe, grown to its content's height, as ``<name>.png``."""
        await self.frame.evaluate("document.fonts.ready")
        height = await self.frame.evaluate("document.body.scrollHeight + 24")
        height = min(max(int(height), 400), 2400)
        await self.page.set_viewport_size({"width": FRAME_WIDTH, "height": height})
        await self.page.evaluate(f"document.getElementById('app').style.height = '{height}px'")
        shot = await self.page.locator("#app").screenshot()
        self.keep(name, shot)
        await self.page.evaluate("document.getElementById('app').style.height = '900px'")
        await self.page.set_viewport_size({"width": FRAME_WIDTH, "height": 900})


async def outer_page(stack: Stack, token: str, *, theme: str = "light", locale: str = "en") -> Any:
    query = urlencode(
        {
            "domain": stack.saleor.domain,
            "saleorApiUrl": stack.saleor.api_url,
            "id": stack.saleor.installed_app.id,
            "theme": theme,
            "locale": locale,
        }
    )
    html = (
        OUTER_PAGE.replace("__SRC__", f"{stack.app.url}/dashboard?{query}")
        .replace("__TOKEN__", json.dumps(token))
        .replace("__THEME__", json.dumps(theme))
        .replace("__LOCALE__", json.dumps(locale))
        .replace("__WIDTH__", str(FRAME_WIDTH))
    )

    async def home(_request: Request) -> HTMLResponse:
        return HTMLResponse(html)

    return Starlette(routes=[Route("/", home)])


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launched_chromium() as launched:
        yield launched


async def open_dashboard(
    browser: Browser, outer: RunningServer, shots: list[Path]
) -> tuple[Dashboard, list[str]]:
    page = await browser.new_page(viewport={"width": FRAME_WIDTH, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.requests = requests  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Console errors too (a Content-Security-Policy refusal shows up there); failed loads are
    # expected answers (a 404 of an optional API, the outer page's favicon).
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    await page.goto(outer.url + "/")
    return Dashboard(page, shots), errors


async def second_customer_purchase(stack: Stack) -> str:
    """A purchase by another customer (her own agreement): the transaction id."""
    customer = Customer(global_id("User", 2024), "li.wei@example.com")
    payload, body = await stack.start_qr_payment(Decimal("88.00"), customer=customer)
    assert body["result"] == "CHARGE_ACTION_REQUIRED", body
    transaction_id: str = payload["transaction"]["id"]
    await stack.approve(body["data"]["bindingId"], login="85298765432")
    await stack.wait_for(
        lambda: any(e.type == "CHARGE_SUCCESS" for e in stack.reports(transaction_id)),
        what="the second purchase",
    )
    return transaction_id


async def refunded_purchase(stack: Stack) -> tuple[str, str]:
    """A first purchase of 123.45 HKD with 23.45 refunded on its order: (transaction, psp)."""
    transaction_id, psp = await qr_purchase(stack, Decimal("123.45"), login="85261234567")
    refund = await stack.call(
        SyncEvent.TRANSACTION_REFUND_REQUESTED,
        amount=Decimal("23.45"),
        transaction={"id": transaction_id},
    )
    assert refund["result"] == "REFUND_SUCCESS", refund
    return transaction_id, psp


async def test_a_store_admin_configures_tests_revokes_and_follows_payments(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    transaction_id, psp = await refunded_purchase(stack)
    await second_customer_purchase(stack)
    await payment_notified(stack)
    # A channel in a currency no Scan to Bind wallet takes.
    stack.saleor.channels.append(Channel(global_id("Channel", 9), "pl-web", "Poland", "PLN"))

    token = stack.saleor.dashboard_token(user_permissions=["HANDLE_PAYMENTS", "MANAGE_APPS"])
    async with serve_in_loop(await outer_page(stack, token)) as outer:
        dashboard, errors = await open_dashboard(browser, outer, screenshot_dirs(tmp_path))
        app = dashboard.app

        # -- the handshake: the page announced itself and got the token -----------------------
        await dashboard.ready("overview")
        messages = await dashboard.messages()
        assert messages[0]["type"] == "notifyReady"
        assert messages[0]["payload"]["actionId"]
        # No header of its own (the dashboard shows the app's name above the frame), one
        # fetch of the channels although the dashboard sent theme and locale after the handshake.
        assert await app.locator("header").count() == 0
        await dashboard.open("configuration")
        channel_fetches = [u for u in dashboard.page.requests if "/api/admin/channels" in u]  # type: ignore[attr-defined]
        assert len(channel_fetches) == 1, channel_fetches
        # A compact list: no form open, PLN says in one line that no wallet takes it.
        assert await app.locator("form[data-config-form]:visible").count() == 0
        unsupported = app.locator("section[data-channel='pl-web'] [data-unsupported='PLN']")
        assert await unsupported.text_content() == "No Scan to Bind wallet takes PLN."
        pl_open = app.locator("section[data-channel='pl-web'] button[data-action='open']")
        assert await pl_open.count() == 0

        # -- DANA (IDR) is refused on the HKD channel, saying why -------------------------------
        hk = app.locator("section[data-channel='hk-web']")
        await hk.locator("[data-configured='yes']").wait_for()
        await hk.locator("button[data-action='open']").click()
        await hk.locator("input[name='wallets'][value='DANA']").check()
        await hk.locator("button[data-action='save']").click()
        refused = hk.locator("[data-result='hk-web'] [data-error]")
        await refused.wait_for()
        assert "DANA (DANA) takes only IDR, and the channel hk-web is in HKD" in (
            await refused.text_content() or ""
        )

        # -- configure the Indonesian channel, testing the connection first -------------------
        card = app.locator("section[data-channel='id-web']")
        await card.locator("[data-configured='no']").wait_for()
        await card.locator("button[data-action='open']").click()
        # One form open at a time.
        assert await hk.locator("form[data-config-form]:visible").count() == 0
        form = card.locator("form[data-config-form='id-web']")
        await form.locator("input[name='clientId']").fill(CLIENT_ID)
        await form.locator("select[name='region']").select_option("custom")
        await form.locator("input[name='baseUrl']").fill(stack.sandbox.url)
        await form.locator("input[name='sandbox']").check()
        assert await form.locator("input[name='wallets'][value='DANA']").is_checked()
        assert not await form.locator("input[name='wallets'][value='ALIPAY_HK']").is_checked()
        await form.locator("textarea[name='antomPublicKey']").fill(public_key_pem(stack.antom_key))
        wrong = private_key_pem(cached_key("other"))
        await form.locator("textarea[name='merchantPrivateKey']").fill(wrong)
        await form.locator("button[data-action='test']").click()
        failed = card.locator("[data-result='id-web'] [data-problem]")
        await failed.wait_for()
        assert await failed.get_attribute("data-problem") == "PRIVATE_KEY"
        text = await failed.text_content() or ""
        assert "the private key does not match the public key uploaded to Antom" in text
        dashboard.keep("connection-test", await card.screenshot())
        await form.locator("textarea[name='merchantPrivateKey']").fill(
            private_key_pem(stack.merchant_key)
        )
        await form.locator("button[data-action='test']").click()
        await card.locator("[data-result='id-web'] [data-problem='OK']").wait_for()
        assert await app_rows(stack, ChannelConfig, channel_slug="id-web") == []
        await form.locator("button[data-action='save']").click()
        await app.locator("section[data-channel='id-web'] [data-configured='yes']").wait_for()
        [saved] = await app_rows(stack, ChannelConfig, channel_slug="id-web")
        assert (saved.client_id, saved.enabled_wallets, saved.base_url) == (
            CLIENT_ID,
            ["DANA"],
            stack.sandbox.url,
        )
        notifications = await dashboard.posted("notification")
        assert notifications[-1]["status"] == "success"
        # The dashboard's notification only; the form stays open where the admin was.
        assert await app.locator(".toast").count() == 0
        assert await form.is_visible()
        page_text = await app.locator("main").text_content() or ""
        assert "PRIVATE KEY" not in page_text
        await dashboard.ready("configuration")
        await dashboard.screenshot("configuration")

        # -- find and revoke an agreement ---------------------------------------------------------
        await dashboard.open("agreements")
        rows = app.locator("table[data-table='agreements'] tbody tr")
        await rows.nth(1).wait_for()
        assert await rows.count() == 2
        await dashboard.screenshot("agreements")
        filters = app.locator("form[data-filters='agreements']")
        await filters.locator("input[name='q']").fill("li.wei")
        await filters.locator("button[type='submit']").click()
        await app.locator("[data-results='agreements'][data-loaded='true']").wait_for()
        await rows.first.wait_for()
        assert await rows.count() == 1
        assert "li.wei@example.com" in (await rows.first.text_content() or "")
        await rows.first.locator("button[data-action='revoke']").click()
        await rows.first.locator("button[data-action='confirm-revoke']").click()
        await rows.first.locator("[data-status='REVOKED']").wait_for()
        agreements = {a.customer_email: a for a in await app_rows(stack, Agreement)}
        assert agreements["li.wei@example.com"].status is AgreementStatus.REVOKED
        assert agreements["shopper@example.com"].status is AgreementStatus.ACTIVE
        bindings = {b["userLoginId"]: b["status"] for b in await sandbox_bindings(stack)}
        assert bindings["852****5432"] != "ACTIVE", bindings
        assert bindings["852****4567"] == "ACTIVE", bindings

        # -- payments, and one payment's history ------------------------------------------------
        await dashboard.open("payments")
        assert await app.locator("table[data-table='payments'] tbody tr").count() == 2
        # The payment whose order is known links to it; the other is not an order yet.
        assert (
            await app.locator(f"tr[data-payment='{psp}'] a[data-dashboard^='/orders/']").count()
            == 1
        )
        assert await app.locator("table[data-table='payments'] a[data-dashboard]").count() == 1
        await dashboard.screenshot("payments")
        await app.locator(f"tr[data-payment='{psp}'] a:not([data-dashboard])").click()
        await dashboard.ready("payments")
        routes = [
            m["payload"]["newRoute"]
            for m in await dashboard.messages()
            if m["type"] == "updateRouting"
        ]
        assert routes[-2:] == ["/payments", f"/payments/{psp}"], routes
        detail = app.locator(f"section[data-payment-detail='{psp}']")
        await detail.wait_for()
        assert "123.45 HKD" in (await detail.text_content() or "")
        history = app.locator("table[data-table='history'] tbody")
        history_text = await history.text_content() or ""
        for status in ("Awaiting scan", "Pending", "Bound", "Succeeded", "CHARGE_SUCCESS:DONE"):
            assert status in history_text, history_text
        assert await app.locator("table[data-table='refunds'] tbody tr").count() == 1
        notes = await app.locator("table[data-table='notifications'] tbody").text_content()
        assert "PAYMENT_RESULT" in (notes or "")
        reports = await app.locator("table[data-table='reports'] tbody").text_content()
        assert "CHARGE_SUCCESS" in (reports or "")
        assert "REFUND_SUCCESS" in (reports or "")
        # Succeeded, no refund under way: nothing to inquire about.
        assert await app.locator("button[data-action='inquire']").count() == 0
        # One row per report event.
        report_rows = await history.locator("tr", has_text="CHARGE_SUCCESS").count()
        assert report_rows <= 2, history_text
        await dashboard.screenshot("payment-detail")
        # The customer opens in the dashboard (App Bridge redirect).
        customer = app.locator("a[data-dashboard^='/customers/']").first
        await customer.click()
        redirects = [payload["to"] for payload in await dashboard.posted("redirect")]
        assert redirects[-1].startswith("/customers/"), redirects
        # The refund was asked on the transaction's order: its id and the transaction's open the
        # dashboard's order page.
        order_id = stack.saleor.transactions[transaction_id].order_id
        assert order_id is not None
        order_path = "/orders/" + quote(order_id, safe="")
        order_links = app.locator(f"a[data-dashboard='{order_path}']")
        assert await order_links.count() == 2  # the transaction id and the order id
        assert await order_links.first.text_content() == transaction_id
        await order_links.nth(1).click()
        redirects = [
            payload["to"] for payload in await dashboard.posted("redirect", before=len(redirects))
        ]
        assert redirects[-1] == order_path, redirects
        # A reload at the route kept in the dashboard's URL stays on the payment.
        await dashboard.page.evaluate(f"window.reloadAt('/payments/{psp}')")
        await dashboard.ready("payments")
        await app.locator(f"section[data-payment-detail='{psp}']").wait_for()
        # Back moves between the app's pages.
        await app.locator("a.back").click()
        await app.locator("table[data-table='payments']").wait_for()
        await dashboard.page.evaluate("history.back()")
        await app.locator(f"section[data-payment-detail='{psp}']").wait_for()

        # -- refunds, declarations, reconciliation ----------------------------------------------
        await dashboard.open("refunds")
        assert await app.locator("table[data-table='refunds'] tbody tr").count() == 1
        await dashboard.screenshot("refunds")
        for name in ("declarations", "reconciliation"):
            await dashboard.open(name)
            # Issue 6's API answers, or the page says it is not available yet.
            shown = app.locator("main .notice, main table, main .empty")
            await shown.first.wait_for()
            await dashboard.screenshot(name)

        # -- the dashboard switches to dark and to Chinese ----------------------------------------
        await dashboard.send({"type": "theme", "payload": {"theme": "dark"}})
        await dashboard.send({"type": "localeChanged", "payload": {"locale": "zh-CN"}})
        await dashboard.open("configuration")
        assert await app.locator("html").get_attribute("data-theme") == "dark"
        assert await app.locator("html").get_attribute("lang") == "zh-CN"
        assert await app.locator("nav a[data-nav='payments']").text_content() == "支付"
        await dashboard.screenshot("configuration-dark-zh")
        assert errors == []


async def test_staff_without_manage_apps_sees_a_read_only_configuration(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    token = stack.saleor.dashboard_token(user_permissions=["HANDLE_PAYMENTS"])
    async with serve_in_loop(await outer_page(stack, token, locale="zh-Hans")) as outer:
        dashboard, errors = await open_dashboard(browser, outer, [tmp_path])
        await dashboard.ready("overview")
        app = dashboard.app
        await dashboard.open("configuration")
        assert await app.locator("form[data-config-form]").count() == 0
        text = await app.locator("main").text_content() or ""
        assert "MANAGE_APPS" in text
        assert "已配置" in text  # zh-Hans follows the dashboard's locale
        await dashboard.open("payments")
        assert "暂无数据" in (await app.locator("main").text_content() or "")
        assert errors == []


async def test_an_expired_session_says_so(stack: Stack, browser: Browser, tmp_path: Path) -> None:
    token = stack.saleor.dashboard_token(user_permissions=["HANDLE_PAYMENTS"], exp_seconds=-60)
    async with serve_in_loop(await outer_page(stack, token)) as outer:
        dashboard, _errors = await open_dashboard(browser, outer, [tmp_path])
        await dashboard.ready("overview")
        alert = dashboard.app.locator("main .notice.critical")
        assert await alert.text_content() == "The dashboard session expired: reload the page."


async def test_after_payment_pages_declare_and_reconcile(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    """The Declarations and Reconciliation pages on issue 6's API: declare a paid Alipay CN
    order, then reconcile the day with the sandbox's transaction report."""
    stack.saleor.channels.append(Channel(global_id("Channel", 3), "cn-web", "China", "CNY"))
    await stack.configure(channel="cn-web", wallets="ALIPAY_CN")
    payload, body = await stack.start_qr_payment(
        Decimal("100.00"), channel_slug="cn-web", data={"wallet": "ALIPAY_CN"}
    )
    transaction_id = payload["transaction"]["id"]
    await stack.approve(body["data"]["bindingId"], login="8613812345678")
    await stack.wait_for(
        lambda: any(e.type == "CHARGE_SUCCESS" for e in stack.reports(transaction_id)),
        what="the Alipay CN purchase",
    )
    psp = body["pspReference"]
    token = stack.saleor.dashboard_token(user_permissions=["HANDLE_PAYMENTS"])
    async with serve_in_loop(await outer_page(stack, token)) as outer:
        dashboard, errors = await open_dashboard(browser, outer, screenshot_dirs(tmp_path))
        app = dashboard.app
        await dashboard.ready("overview")
        await dashboard.open("declarations")
        # The declarations API is part of this app: the page must not fall back to its notice.
        assert await app.locator("main .notice").count() == 0
        await app.locator("details.editor > summary").click()
        form = app.locator("form[data-declaration-form]")
        for name, value in (
            ("paymentRequestId", psp),
            ("customsCode", "ZONGSHU"),
            ("merchantCustomsCode", "3301960ABC"),
            ("merchantCustomsName", "Hangzhou Sample Trading Co., Ltd."),
            ("amount", "60.00"),
            ("certificateNo", "11010119900307777X"),
            ("holderName", "Wang Fang"),
        ):
            await form.locator(f"input[name='{name}']").fill(value)
        await form.locator("button[type='submit']").click()
        detail = app.locator("section[data-declaration-detail]")
        await detail.wait_for()
        text = await detail.text_content() or ""
        assert psp in text
        assert "60.00 CNY" in text
        assert "11010119900307777X" not in text  # the buyer's number is shown masked
        await dashboard.ready("declarations")
        await dashboard.screenshot("declaration-detail")
        await dashboard.open("declarations")
        rows = app.locator("table[data-table='declarations'] tbody tr")
        await rows.first.wait_for()
        assert await rows.count() == 1
        await dashboard.screenshot("declarations")

        # Today's transaction report from the sandbox, reconciled (issue 6's import).
        day = await import_todays_report(stack)
        await dashboard.open("reconciliation")
        await app.locator(f"tr[data-day='{day.isoformat()}'] a").click()
        await dashboard.ready("reconciliation")
        await app.locator("section[data-reconciliation-day]").wait_for()
        rows_text = await app.locator("table[data-table='rows'] tbody").text_content() or ""
        assert psp in rows_text
        await dashboard.screenshot("reconciliation-day")
        await dashboard.open("reconciliation")
        await dashboard.screenshot("reconciliation")
        assert errors == []


async def import_todays_report(stack: Stack) -> date:
    """Fetch today's (UTC+8) transactionItems report from the sandbox and reconcile the day."""
    from saleor_alipay_app.installations.repository import InstallationRepository
    from saleor_alipay_app.reconciliation import service as reconciliation

    day = datetime.now(timezone(timedelta(hours=8))).date()
    stamp = day.strftime("%Y%m%d")
    response = await stack.http.get(
        f"{stack.sandbox.url}/sandbox/api/reports/transactionItems", params={"date": stamp}
    )
    assert response.status_code == 200, response.text
    path = stack.tmp / f"transactionItems_{stamp}_000.csv"
    path.write_bytes(response.content)
    sessions = app_services(stack).sessions
    async with sessions() as session:
        installation = await InstallationRepository(session).get_by_api_url(stack.saleor.api_url)
    assert installation is not None
    assert installation.id is not None
    result = await reconciliation.run(sessions, installation.id, day, [path])
    assert not result.errors, result.errors
    return day


async def test_the_overview_in_both_languages_and_both_themes(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    """The first page: charts drawn by pygal on the server and inserted as SVG under the page's
    Content-Security-Policy (no console error), the figures, and the attention list whose
    entries open their detail pages; then dark and Chinese."""
    seeded = await seed(app_services(stack).sessions)
    token = stack.saleor.dashboard_token(user_permissions=["HANDLE_PAYMENTS"])
    async with serve_in_loop(await outer_page(stack, token)) as outer:
        dashboard, errors = await open_dashboard(browser, outer, screenshot_dirs(tmp_path))
        app = dashboard.app
        await dashboard.ready("overview")
        assert await app.locator("nav a").first.get_attribute("data-nav") == "overview"

        async def charts_and_attention() -> str:
            for name in ("payments", "amount-HKD", "amount-IDR", "wallets"):
                chart = app.locator(f"figure[data-chart='{name}'] svg")
                await chart.wait_for()
                assert await chart.locator(".bar rect").count() > 0, name
            attention = app.locator("[data-attention-list]")
            for group in ("payments", "refunds", "reports", "reconciliation"):
                assert await attention.locator(f"[data-attention='{group}']").count() == 1, group
            assert await app.locator("[data-stat='expiring'] .stat-value").text_content() == "1"
            failures = await app.locator("table[data-table='failures']").text_content() or ""
            assert "USER_BALANCE_NOT_ENOUGH" in failures
            bar = app.locator("figure[data-chart='payments'] svg .color-0 .bar rect").first
            fill: str = await bar.evaluate("(node) => getComputedStyle(node).fill")
            return fill

        light = await charts_and_attention()
        text = await app.locator("main").text_content() or ""
        assert "Payments without an outcome after 15 minutes" in text
        assert "170.50 HKD" in text
        await dashboard.screenshot("overview")

        # Each entry links to its detail page.
        await app.locator(f"[data-attention='payments'] a:text('{STUCK_PAYMENT}')").click()
        await dashboard.ready("payments")
        await app.locator(f"section[data-payment-detail='{STUCK_PAYMENT}']").wait_for()
        await dashboard.open("overview")
        day = seeded.mismatched_day.isoformat()
        await app.locator(
            f"[data-attention='reconciliation'] a[href*='/reconciliation/{day}']"
        ).click()
        await dashboard.ready("reconciliation")
        await app.locator(f"section[data-reconciliation-day='{day}']").wait_for()

        await dashboard.send({"type": "theme", "payload": {"theme": "dark"}})
        await dashboard.send({"type": "localeChanged", "payload": {"locale": "zh-CN"}})
        await dashboard.open("overview")
        assert await app.locator("html").get_attribute("data-theme") == "dark"
        assert await app.locator("nav a[data-nav='overview']").text_content() == "概览"
        dark = await charts_and_attention()
        assert dark != light  # the charts follow the theme (dashboard.css)
        text = await app.locator("main").text_content() or ""
        assert "需要处理" in text
        assert "每日支付笔数" in (await app.locator("figure[data-chart='payments']").inner_html())
        await dashboard.screenshot("overview-dark-zh")
        assert errors == []


# -- every page, light and dark, English and Chinese ---------------------------------------------

# @saleor/macaw-ui's tokens the Saleor dashboard paints itself with (defaultLight.ts and
# defaultDark.ts; dark is charcoal: background.default1 #262836 for the page, header and
# cards, default2 #222430 for the sidebar), as the app's pages must show them.
TOKENS = {
    "light": {
        "default1": "#ffffff",  # background.default1
        "text": "#252828",  # text.default1
        "border": "#bcc4cd",  # the inputs' border (border.default1)
        "primary": "#122130",  # background.buttonDefaultPrimary
    },
    "dark": {
        "default1": "#262836",
        "text": "#ffffff",
        "border": "#4f6378",
        "primary": "#ffffff",
    },
}
NAVY = ("#152333", "#18283a")  # the app's former dark page and cards
NAV = {
    "en": [
        "Overview",
        "Configuration",
        "Agreements",
        "Payments",
        "Refunds",
        "Declarations",
        "Reconciliation",
    ],
    "zh": ["概览", "配置", "签约", "支付", "退款", "报关", "对账"],
}
# A date and time as each language writes it: "6 Dec 2026, 16:32:30", "2026年12月6日 16:32:30".
DATE_TIME = {
    "en": re.compile(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}:\d{2}"),
    "zh": re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}:\d{2}"),
}
DAY = {
    "en": re.compile(r"^\d{2}/\d{2}/\d{4}$"),
    "zh": re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$"),
}
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
# What Chinese text may still hold in Latin letters: names, codes and identifiers.
KEPT_IN_LATIN = re.compile(
    r"Antom|Saleor|Client ID|PSP|MANAGE_APPS|ID|[A-Z0-9_]{3,}|[a-z0-9]+[-_.][\w.-]+|\w*\d\w*|"
    r"AlipayHK|Alipay|DANA|GCash|KakaoPay|Touch 'n Go|TrueMoney|https?://\S+"
)


def rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def parse_css_colour(text: str) -> tuple[int, int, int]:
    numbers = [float(n) for n in re.findall(r"[\d.]+", text)[:3]]
    assert len(numbers) == 3, text
    return (round(numbers[0]), round(numbers[1]), round(numbers[2]))


def same_colour(css: str, token: str) -> bool:
    """A computed colour equals a token's (chromium rounds hsl() to whole rgb values)."""
    return all(abs(a - b) <= 1 for a, b in zip(parse_css_colour(css), rgb(token), strict=True))


STYLE_PROBE = """() => {
  const style = (selector, ...names) => {
    const node = document.querySelector(selector);
    if (!node) return null;
    const computed = getComputedStyle(node);
    return Object.fromEntries(names.map((n) => [n, computed.getPropertyValue(n)]));
  };
  // Whether each text field shows its whole placeholder (nothing cut off at its end).
  const canvas = document.createElement("canvas").getContext("2d");
  const fits = Array.from(document.querySelectorAll("main input[placeholder]"))
    .filter((input) => input.offsetParent !== null)
    .map((input) => {
      const s = getComputedStyle(input);
      canvas.font = `${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
      const room = input.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
      return {
        name: input.name || input.dataset.date, placeholder: input.placeholder,
        text: canvas.measureText(input.placeholder).width, room,
        scroll: input.scrollWidth, client: input.clientWidth,
      };
    });
  return {
    body: style("body", "background-color", "color"),
    card: style("main .card, main .table-wrap", "background-color", "border-top-color"),
    input: style("main input[type='search'], main input[type='text']",
      "background-color", "border-top-color", "border-top-left-radius"),
    select: style("main select", "background-color", "border-top-color", "appearance",
      "background-image", "border-top-left-radius"),
    checkbox: style("main input[type='checkbox']", "accent-color", "width"),
    fits,
    headers: Array.from(document.querySelectorAll("main th")).map((n) => n.textContent.trim()),
    buttons: Array.from(document.querySelectorAll("main button"))
      .filter((n) => n.offsetParent !== null).map((n) => n.textContent.trim()),
    // The app's own titles (a channel's card is titled with the channel's name in Saleor).
    titles: Array.from(document.querySelectorAll("main h2, main h3, main figcaption"))
      .filter((n) => !n.closest("[data-channel]")).map((n) => n.textContent.trim()),
    nav: Array.from(document.querySelectorAll("nav a")).map((n) => n.textContent.trim()),
    text: document.querySelector("main").innerText,
  };
}"""


def assert_looks_like_the_dashboard(probe: dict[str, Any], theme: str, language: str) -> None:
    """The page in the dashboard's palette (macaw-ui tokens, never navy), its controls drawn as
    the dashboard draws them, and its words, dates and counts in the dashboard's language."""
    tokens = TOKENS[theme]
    where = f"{theme}/{language}"
    body = probe["body"]
    assert same_colour(body["background-color"], tokens["default1"]), (where, body)
    assert same_colour(body["color"], tokens["text"]), (where, body)
    for navy in NAVY:
        assert not same_colour(body["background-color"], navy), (where, body)
    if probe["card"]:
        assert same_colour(probe["card"]["background-color"], tokens["default1"]), (where, probe)
    if probe["input"]:
        field = probe["input"]
        assert same_colour(field["background-color"], tokens["default1"]), (where, field)
        assert same_colour(field["border-top-color"], tokens["border"]), (where, field)
        assert field["border-top-left-radius"] == "4px", (where, field)
    if probe["select"]:
        select = probe["select"]  # macaw-ui's Select: no native widget, its own chevron
        assert select["appearance"] == "none", (where, select)
        assert "svg" in select["background-image"], (where, select)
        assert same_colour(select["border-top-color"], tokens["border"]), (where, select)
        assert select["border-top-left-radius"] == "4px", (where, select)
    if probe["checkbox"]:
        box = probe["checkbox"]  # macaw-ui's Checkbox: 16 px, in the primary colour
        assert same_colour(box["accent-color"], tokens["primary"]), (where, box)
        assert box["width"] == "16px", (where, box)
    for field in probe["fits"]:
        assert field["text"] <= field["room"], (where, field)
        assert field["scroll"] <= field["client"], (where, field)
        assert field["placeholder"] != "mm/dd/yyyy", (where, field)
    assert probe["nav"] == NAV[language], (where, probe["nav"])
    text = probe["text"]
    assert "in all" not in text, (where, text)
    assert "Of" not in probe["headers"], (where, probe["headers"])
    assert not ISO_TIME.search(text), (where, text)
    if language == "zh":
        for words in probe["buttons"] + probe["titles"]:
            leftover = LATIN_WORD.findall(KEPT_IN_LATIN.sub("", words))
            assert not leftover, (where, words, leftover)


def declaration_body() -> dict[str, Any]:
    return {
        "customsCode": "ZONGSHU",
        "merchantCustomsCode": "3301960ABC",
        "merchantCustomsName": "Hangzhou Sample Trading Co., Ltd.",
        "amount": "60.00",
        "splitOrder": False,
        "suborderId": None,
        "buyer": {
            "certificateType": "ID_CARD",
            "certificateNo": "11010119900307777X",
            "holderName": "Wang Fang",
        },
    }


async def test_every_page_in_both_themes_and_both_languages(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    """Every route of the app, reloaded at its route as the dashboard does, light and dark,
    English and Simplified Chinese (the dashboard sends `theme` and `localeChanged zh-Hans`):
    the dashboard's palette, controls, words and dates on each; the connection test's result in
    the language; the payments' date filter read in the language's format. With
    DASHBOARD_SCREENSHOTS=docs each page is kept as docs/screenshots/<page>-<theme>-<lang>.png,
    at the dashboard's frame width."""
    from .conftest import admin

    _, psp = await refunded_purchase(stack)
    await payment_notified(stack)
    stack.saleor.channels.append(Channel(global_id("Channel", 3), "cn-web", "China", "CNY"))
    await stack.configure(channel="cn-web", wallets="ALIPAY_CN")
    payload, body = await stack.start_qr_payment(
        Decimal("100.00"), channel_slug="cn-web", data={"wallet": "ALIPAY_CN"}
    )
    await stack.approve(body["data"]["bindingId"], login="8613812345678")
    cn_transaction = payload["transaction"]["id"]
    await stack.wait_for(
        lambda: any(e.type == "CHARGE_SUCCESS" for e in stack.reports(cn_transaction)),
        what="the Alipay CN purchase",
    )
    cn_psp = body["pspReference"]
    declaration = await admin(
        stack,
        "POST",
        f"/payments/{cn_psp}/declarations",
        json=declaration_body(),
        expect=201,
    )
    day = await import_todays_report(stack)
    agreements = await admin(stack, "GET", "/agreements")
    agreement_id = agreements["items"][0]["id"]

    pages = [
        ("overview", "/overview", "[data-overview]"),
        ("configuration", "/configuration", "section[data-channel='hk-web'] [data-result]"),
        ("agreements", "/agreements", "table[data-table='agreements']"),
        ("agreement", f"/agreements/{agreement_id}", "section[data-agreement-detail]"),
        ("payments", "/payments", "table[data-table='payments']"),
        ("payment", f"/payments/{psp}", "section[data-payment-detail]"),
        ("refunds", "/refunds", "table[data-table='refunds']"),
        ("declarations", "/declarations", "table[data-table='declarations']"),
        ("declaration", f"/declarations/{declaration['id']}", "section[data-declaration-detail]"),
        ("reconciliation", "/reconciliation", "table[data-table='days']"),
        ("reconciliation-day", f"/reconciliation/{day.isoformat()}", "table[data-table='rows']"),
    ]
    dated = {"agreements", "agreement", "payments", "payment", "refunds", "declarations"}
    dated |= {"declaration", "reconciliation", "configuration"}
    token = stack.saleor.dashboard_token(user_permissions=["HANDLE_PAYMENTS", "MANAGE_APPS"])
    shots = screenshot_dirs(tmp_path, docs=True)
    async with serve_in_loop(await outer_page(stack, token)) as outer:
        dashboard, errors = await open_dashboard(browser, outer, shots)
        app = dashboard.app
        await dashboard.ready("overview")
        for theme, locale in (
            ("light", "en"),
            ("dark", "en"),
            ("light", "zh-Hans"),
            ("dark", "zh-Hans"),
        ):
            language = "zh" if locale.startswith("zh") else "en"
            await dashboard.page.evaluate(f"window.setHost('{theme}', '{locale}')")
            for name, route, shown in pages:
                await dashboard.page.evaluate(f"window.reloadAt('{route}')")
                page_name = route.split("/")[1]
                await dashboard.ready(page_name)
                html = app.locator("html")
                assert await html.get_attribute("data-theme") == theme
                assert await html.get_attribute("lang") == ("zh-CN" if language == "zh" else "en")
                if name == "configuration":
                    await connection_tested(app, language)
                await app.locator(shown).first.wait_for()
                probe: dict[str, Any] = await dashboard.frame.evaluate(STYLE_PROBE)
                assert_looks_like_the_dashboard(probe, theme, language)
                if name in dated:
                    assert DATE_TIME[language].search(probe["text"]), (name, probe["text"])
                if name.startswith("reconciliation"):
                    assert day.strftime("%Y-%m-%d") not in probe["text"], probe["text"]
                if name == "payments":
                    await date_filter_in_the_language(app, language, psp)
                await dashboard.screenshot(f"{name}-{theme}-{language}")
        assert errors == []


async def connection_tested(app: FrameLocator, language: str) -> None:
    """Open the HK channel and test its stored credentials: the result's two lines are in the
    dashboard's language."""
    card = app.locator("section[data-channel='hk-web']")
    await card.locator("button[data-action='open']").click()
    await card.locator("button[data-action='test']").click()
    result = card.locator("[data-result='hk-web'] [data-problem='OK']")
    await result.wait_for()
    title = await result.locator("strong").text_content() or ""
    detail = await result.locator(".detail").text_content() or ""
    for line in (title, detail):
        assert line, (title, detail)
        latin = LATIN_WORD.findall(KEPT_IN_LATIN.sub("", line))
        if language == "zh":
            assert not latin, (line, latin)
            assert re.search(r"[\u4e00-\u9fff]", line), line
        else:
            assert latin, line
    # A success says that Antom's "does not exist" proves the connection, in either language.
    assert "ORDER_NOT_EXIST" in detail, detail
    assert ("符合预期" if language == "zh" else "verified") in detail, detail


async def date_filter_in_the_language(app: FrameLocator, language: str, psp: str) -> None:
    """The payments' From/To fields: today in the language's format as their example, and a
    day typed that way filters the list."""
    field = app.locator("form[data-filters='payments'] input[data-date='from']")
    assert await field.get_attribute("type") == "text"  # never the browser's mm/dd/yyyy
    example = await field.get_attribute("placeholder") or ""
    assert DAY[language].match(example), example
    await field.fill(example)
    await field.dispatch_event("change")
    filters = app.locator("form[data-filters='payments']")
    hidden = await filters.locator("input[name='from']").input_value()
    assert hidden == datetime.now(UTC).date().isoformat(), (example, hidden)
    await filters.locator("button[type='submit']").click()
    await app.locator("[data-results='payments'][data-loaded='true']").wait_for()
    assert await app.locator(f"tr[data-payment='{psp}']").count() == 1
    assert await field.input_value() == example
