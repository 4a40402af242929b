"""HTML of the sandbox wallet, where a tester plays the shopper (approve, decline, unbind)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from urllib.parse import urlencode

import segno

from saleor_alipay_app.antom.wallets import CAPABILITIES, Wallet

from .clock import fmt_time
from .models import AuthSession, AuthStatus, Binding, BindingStatus
from .protocol import mask_login_id

__all__ = ["authorize_page", "bindings_page", "home_page", "qr_svg"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 46rem; color: #1d2733; }
h1 { font-size: 1.4rem; } .muted { color: #66707a; } .box { border: 1px solid #d5dbe1;
border-radius: .5rem; padding: 1rem 1.25rem; margin: 1rem 0; } .qr svg { width: 240px;
height: 240px; } button { font-size: 1rem; padding: .45rem 1.1rem; margin-right: .5rem;
border-radius: .35rem; border: 1px solid #8a96a3; background: #fff; cursor: pointer; }
button.approve { background: #1677ff; color: #fff; border-color: #1677ff; }
table { border-collapse: collapse; width: 100%; } td, th { text-align: left;
padding: .35rem .5rem; border-bottom: 1px solid #e4e8ec; } code { font-size: .85rem; }
input { font-size: 1rem; padding: .3rem; }
"""


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"{body}<p class='muted'>Antom sandbox wallet · <a href='/wallet'>home</a> · "
        "<a href='/wallet/bindings'>bindings</a></p></body></html>"
    )


def _wallet_name(wallet: Wallet) -> str:
    return CAPABILITIES[wallet].display_name


def qr_svg(text: str) -> str:
    """An inline SVG QR code of ``text``."""
    svg: str = segno.make(text, error="m").svg_inline(scale=4, dark="#1d2733")
    return svg


def home_page(pending: Sequence[AuthSession]) -> str:
    if pending:
        items = "".join(
            f"<li><a href='/wallet/authorize?{urlencode({'authId': s.auth_id})}'>"
            f"{escape(_wallet_name(s.wallet))}: authorization for merchant "
            f"<code>{escape(s.client_id)}</code></a> "
            f"<span class='muted'>(authState <code>{escape(s.auth_state)}</code>, "
            f"{escape(fmt_time(s.created_at))})</span></li>"
            for s in pending
        )
        listing = f"<ul>{items}</ul>"
    else:
        listing = "<p class='muted'>No authorization is waiting for the shopper.</p>"
    return _page(
        "Sandbox wallet",
        "<h1>Sandbox wallet</h1><p>Scan a merchant's QR code or open one of the waiting "
        f"authorization requests.</p><div class='box'>{listing}</div>",
    )


def authorize_page(session: AuthSession, *, expired: bool, bindings_link: str | None) -> str:
    name = _wallet_name(session.wallet)
    head = (
        f"<h1>{escape(name)} (sandbox)</h1>"
        f"<p>Merchant <code>{escape(session.client_id)}</code> asks to charge your "
        f"{escape(name)} account automatically (Auto Debit agreement, scope "
        f"{escape(', '.join(session.scopes))}).</p>"
        f"<div class='box qr'>{qr_svg(session.auth_url)}"
        f"<p class='muted'>Scan with a phone, or act here. authState "
        f"<code>{escape(session.auth_state)}</code></p></div>"
    )
    if session.status is AuthStatus.CREATED and expired:
        action = "<div class='box'><strong>This QR code has expired.</strong></div>"
    elif session.status is AuthStatus.CREATED:
        base = f"/wallet/authorize/{escape(session.auth_id)}"
        action = (
            "<div class='box'>"
            f"<form method='post' action='{base}/approve'>"
            "<p><label>Shopper login id (phone) <input name='userLoginId' "
            "placeholder='generated when empty' maxlength='64'></label></p>"
            "<button class='approve' type='submit'>Approve</button>"
            f"<button type='submit' formaction='{base}/decline'>Decline</button>"
            "</form></div>"
        )
    elif session.status is AuthStatus.DECLINED:
        action = "<div class='box'><strong>You declined this authorization.</strong></div>"
    else:
        link = f" <a href='{escape(bindings_link)}'>See your bindings</a>." if bindings_link else ""
        action = (
            "<div class='box'><strong>Approved.</strong> The merchant has been notified "
            f"(status {escape(session.status.value)}).{link}</div>"
        )
    return _page(f"{name} — authorize", head + action)


def bindings_page(
    bindings: Sequence[Binding], *, wallet: str | None, user_login_id: str | None
) -> str:
    options = "".join(
        f"<option value='{w.value}'{' selected' if wallet == w.value else ''}>"
        f"{escape(_wallet_name(w))}</option>"
        for w in Wallet
    )
    form = (
        "<form method='get' action='/wallet/bindings'>"
        f"<select name='wallet'><option value=''>any wallet</option>{options}</select> "
        f"<input name='userLoginId' placeholder='login id' value='{escape(user_login_id or '')}'>"
        " <button type='submit'>Show</button></form>"
    )
    if bindings:
        rows = "".join(_binding_row(b) for b in bindings)
        table = (
            "<table><tr><th>Wallet</th><th>Account</th><th>Merchant</th><th>Since</th>"
            f"<th>Status</th><th></th></tr>{rows}</table>"
        )
    else:
        table = "<p class='muted'>No bindings.</p>"
    return _page(
        "Sandbox wallet — bindings",
        f"<h1>Your bindings</h1><div class='box'>{form}</div><div class='box'>{table}</div>",
    )


def _binding_row(binding: Binding) -> str:
    if binding.status is BindingStatus.ACTIVE:
        action = (
            f"<form method='post' action='/wallet/bindings/{escape(binding.binding_id)}/unbind'>"
            "<button type='submit'>Unbind</button></form>"
        )
    else:
        action = ""
    return (
        f"<tr><td>{escape(_wallet_name(binding.wallet))}</td>"
        f"<td><code>{escape(mask_login_id(binding.user_login_id))}</code></td>"
        f"<td><code>{escape(binding.client_id)}</code></td>"
        f"<td>{escape(fmt_time(binding.created_at))}</td>"
        f"<td>{escape(binding.status.value)}</td><td>{action}</td></tr>"
    )
