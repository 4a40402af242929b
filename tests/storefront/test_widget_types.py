"""The widget's types (`scan-to-bind.d.ts`) against the widget (`scan-to-bind.js`), without
Node.js: the names each exports at run time, the options the widget reads, and the states of the
status stream it handles. (tools/widget-types/check.sh compiles a typed usage example against the
.d.ts with TypeScript in strict mode; this runs everywhere.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "saleor_alipay_app" / "static"
JS = (STATIC / "scan-to-bind.js").read_text(encoding="utf-8")
DTS = (STATIC / "scan-to-bind.d.ts").read_text(encoding="utf-8")

# The interfaces whose members are the options `mountCheckout`/`mountAccount` take.
OPTION_INTERFACES = ("WidgetOptions", "CheckoutOptions", "AccountOptions")


def _without_comments(source: str) -> str:
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.DOTALL)
    return re.sub(r"(?m)//.*$", "", source)


def js_exports(source: str) -> set[str]:
    """Names a module exports at run time (`export const|let|class|function|async function`)."""
    pattern = r"(?m)^export\s+(?:async\s+)?(?:const|let|var|class|function\*?)\s+(\w+)"
    found = set(re.findall(pattern, _without_comments(source)))
    for names in re.findall(r"(?m)^export\s*\{([^}]*)\}", _without_comments(source)):
        found |= {n.split(" as ")[-1].strip() for n in names.split(",") if n.strip()}
    return found


def dts_value_exports(source: str) -> set[str]:
    """Names a declaration file declares as values (not types or interfaces)."""
    pattern = r"(?m)^export\s+declare\s+(?:const|let|var|class|function)\s+(\w+)"
    return set(re.findall(pattern, _without_comments(source)))


def dts_interface_members(source: str, names: tuple[str, ...]) -> set[str]:
    """The members of the named interfaces (with what they extend)."""
    text = _without_comments(source)
    members: set[str] = set()
    for name in names:
        found = re.search(rf"(?ms)^export\s+interface\s+{name}\b[^{{]*\{{(.*?)^\}}", text)
        if found is None:
            raise AssertionError(f"the .d.ts has no interface {name}")
        members |= set(re.findall(r"(?m)^\s+(\w+)\??\s*[:(]", found.group(1)))
    return members


def js_options_read(source: str) -> set[str]:
    """Every `options.<name>` the widget reads."""
    return set(re.findall(r"\boptions\.(\w+)", _without_comments(source)))


def js_stream_states(source: str) -> set[str]:
    return set(re.findall(r"""state\.state\s*===\s*"(\w+)\"""", _without_comments(source)))


def dts_stream_states(source: str) -> set[str]:
    found = re.search(r"(?s)export\s+type\s+StreamState\s*=(.*?);\n", _without_comments(source))
    assert found is not None, "the .d.ts has no StreamState"
    return set(re.findall(r"""state:\s*"(\w+)\"""", found.group(1)))


def test_the_types_declare_exactly_what_the_module_exports() -> None:
    exported = js_exports(JS)
    assert {"mountCheckout", "mountAccount", "GATEWAY_ID"} <= exported
    assert dts_value_exports(DTS) == exported


def test_the_types_declare_exactly_the_options_the_widget_reads() -> None:
    read = js_options_read(JS)
    assert {"saleorApiUrl", "checkoutId", "channel"} <= read
    assert dts_interface_members(DTS, OPTION_INTERFACES) == read


def test_the_stream_states_the_widget_handles_are_typed() -> None:
    handled = js_stream_states(JS)
    assert {"paid", "failed", "expired", "saved", "waiting"} <= handled
    assert handled <= dts_stream_states(DTS)


def test_the_gateway_id_type_is_the_module_s_value() -> None:
    [value] = re.findall(r'(?m)^export const GATEWAY_ID = "([^"]+)";', JS)
    assert f'export declare const GATEWAY_ID: "{value}";' in DTS


@pytest.mark.parametrize(
    ("js_change", "dts_change"),
    [
        # A new export the types do not know.
        ("export function mountAccount(", "export function mountWallets() {}\nfunction x("),
        # An export the types still declare after the module dropped it.
        ("export class ScanToBindError", "class ScanToBindError"),
        # An option the widget reads that the types do not declare.
        ("options.showAppLink", "options.showQrLink"),
    ],
)
def test_a_disagreement_is_found(js_change: str, dts_change: str) -> None:
    """The checks above are not vacuous: each change of the module is caught."""
    assert js_change in JS
    changed = JS.replace(js_change, dts_change, 1)
    assert js_exports(changed) != dts_value_exports(DTS) or js_options_read(
        changed
    ) != dts_interface_members(DTS, OPTION_INTERFACES)
