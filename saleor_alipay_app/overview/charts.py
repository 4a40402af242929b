"""The Overview's charts: SVG drawn on the server by pygal, cleaned to a few shapes and text.

The dashboard page inserts the SVG into itself, under a Content-Security-Policy that allows no
inline script and no inline style (`admin.pages.DASHBOARD_CSP`). So pygal draws without its
JavaScript and without an XML declaration, and `clean` then keeps only an allow-list of elements
(shapes, groups, text, titles) and of geometric attributes: pygal's ``<style>``, its comments,
every ``style``/``on*``/``href`` attribute and anything else are dropped. Colours, fonts and the
light and dark themes come from `dashboard.css`, which styles pygal's class names (``color-N``,
``axis``, ``guide``...). Each bar's value becomes a ``<title>``: the browser's own tooltip.

Amounts are drawn from floats: a picture's geometry, never money that is stored or summed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree import ElementTree as ET

import pygal
from pygal.style import Style

SVG_NS = "http://www.w3.org/2000/svg"
ALLOWED_ELEMENTS = frozenset(
    {"svg", "g", "rect", "path", "line", "circle", "polyline", "polygon", "text", "tspan"}
)
# pygal's empty tooltip machinery (its JavaScript would fill it): dropped with the script.
DROPPED_GROUPS = frozenset({"tooltip-overlay", "overlay", "text-overlay", "titles"})
ALLOWED_ATTRIBUTES = frozenset(
    {
        "class", "x", "y", "x1", "x2", "y1", "y2", "dx", "dy", "width", "height", "rx", "ry",
        "d", "points", "cx", "cy", "r", "transform", "viewBox", "text-anchor",
    }
)  # fmt: skip
# Geometry and class names: numbers, path commands, transforms, plain words.
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9 .,_()\-+#]*$")
_SAFE_CLASS = re.compile(r"^[A-Za-z0-9_\- ]*$")
_LONG_NUMBER = re.compile(r"\d+\.\d{2,}")

WIDTH = 640
_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    font_family="sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
    value_font_size=11,
    tooltip_font_size=11,
    title_font_size=13,
)
_CONFIG: dict[str, Any] = {
    "js": [],
    "css": [],
    "disable_xml_declaration": True,
    "no_prefix": True,
    "explicit_size": False,
    "style": _STYLE,
    "width": WIDTH,
    "print_values": False,
    "show_y_guides": True,
    "show_x_guides": False,
    "margin": 8,
    "spacing": 8,
    "legend_box_size": 10,
}


def _local(tag: Any) -> str:
    """An element's name without its namespace; "" for comments and processing instructions."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _title_of(element: ET.Element) -> str | None:
    """The text of a bar's tooltip, from pygal's ``<desc class="x_label|value">``."""
    label = value = None
    for child in element:
        if _local(child.tag) == "desc":
            kind = child.get("class", "")
            if kind == "x_label":
                label = child.text
            elif kind == "value":
                value = child.text
    if value is None:
        return None
    return f"{label}: {value}" if label else value


def _clean(element: ET.Element) -> ET.Element | None:
    tag = _local(element.tag)
    if tag not in ALLOWED_ELEMENTS:
        return None
    if tag == "g" and DROPPED_GROUPS & set(element.get("class", "").split()):
        return None
    copy = ET.Element(tag)
    for name, value in element.attrib.items():
        if name not in ALLOWED_ATTRIBUTES:
            continue
        if not (_SAFE_CLASS if name == "class" else _SAFE_VALUE).match(value):
            continue
        if name != "class":
            value = _LONG_NUMBER.sub(lambda m: f"{float(m.group()):.1f}", value)
        copy.set(name, value)
    if tag in {"text", "tspan"}:
        copy.text = element.text
    tooltip = _title_of(element)
    if tooltip is not None:
        ET.SubElement(copy, "title").text = tooltip
    for child in element:
        cleaned = _clean(child)
        if cleaned is not None:
            if _local(child.tag) in {"text", "tspan"}:
                cleaned.tail = None
            copy.append(cleaned)
    return copy


def clean(root: ET.Element, label: str, name: str) -> str:
    """``root`` (pygal's tree) as SVG text with only allowed elements and attributes."""
    cleaned = _clean(root)
    assert cleaned is not None
    assert cleaned.tag == "svg"
    cleaned.set("xmlns", SVG_NS)
    cleaned.set("class", f"chart-svg chart-{name}")
    cleaned.set("role", "img")
    cleaned.set("aria-label", label)
    heading = ET.Element("title")
    heading.text = label
    cleaned.insert(0, heading)
    return ET.tostring(cleaned, encoding="unicode")


def _render(chart: Any, label: str, name: str) -> str:
    root: ET.Element = chart.render_tree()
    return clean(root, label, name)


def _day_labels(days: Sequence[str]) -> list[str]:
    return [d[5:] for d in days]  # MM-DD


def _count_labels(top: int) -> list[int]:
    """Whole numbers from 0 to at least ``top``, about four steps apart."""
    step = max(1, -(-top // 4))
    return list(range(0, max(top, 4) + step, step))


def payments_per_day(days: Sequence[str], series: Mapping[str, Sequence[int]], label: str) -> str:
    """Payments per UTC day, stacked by outcome (``series``: legend -> one count a day)."""
    chart = pygal.StackedBar(
        **_CONFIG,
        height=250,
        legend_at_bottom=True,
        legend_at_bottom_columns=len(series),
        x_label_rotation=0,
        show_minor_x_labels=False,
        x_labels_major_every=max(1, len(days) // 8),
        truncate_label=-1,
    )
    chart.x_labels = _day_labels(days)
    chart.y_labels = _count_labels(
        max((sum(day) for day in zip(*series.values(), strict=True)), default=0)
    )
    for name, values in series.items():
        chart.add(name, [v or None for v in values])
    return _render(chart, label, "payments")


def amount_per_day(days: Sequence[str], amounts: Sequence[float], currency: str, label: str) -> str:
    """Succeeded amounts per UTC day in one currency."""
    chart = pygal.Bar(
        **_CONFIG,
        height=170,
        show_legend=False,
        show_minor_x_labels=False,
        x_labels_major_every=max(1, len(days) // 6),
        truncate_label=-1,
        value_formatter=lambda v: f"{v:,.2f} {currency}",
    )
    chart.x_labels = _day_labels(days)
    chart.add(currency, [a or None for a in amounts])
    return _render(chart, label, "amounts")


def success_rates(wallets: Sequence[str], rates: Sequence[float | None], label: str) -> str:
    """Success rate (percent) per wallet, as horizontal bars."""
    chart = pygal.HorizontalBar(
        **_CONFIG,
        height=max(120, 44 * len(wallets) + 50),
        show_legend=False,
        range=(0, 100),
        truncate_label=-1,
        value_formatter=lambda v: f"{v:.1f} %",
    )
    chart.x_labels = list(wallets)
    chart.add(label, list(rates))
    return _render(chart, label, "wallets")
