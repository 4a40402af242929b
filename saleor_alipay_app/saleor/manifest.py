"""The app manifest Saleor fetches at installation.

Static fields come from `manifest.json` at the repository root; the version from the package;
URLs are made absolute against the app's public base URL; one webhook per payment sync event,
each with its subscription document from `graphql/subscriptions/`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from saleor_alipay_app.resources import resource_path
from saleor_alipay_app.saleor.documents import load_document
from saleor_alipay_app.saleor.events import SyncEvent

_URL_FIELDS = {
    "appPath": "appUrl",
    "tokenTargetPath": "tokenTargetUrl",
    "homepagePath": "homepageUrl",
    "supportPath": "supportUrl",
    "dataPrivacyPath": "dataPrivacyUrl",
}


@lru_cache(maxsize=1)
def static_manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resource_path("manifest.json").read_text(encoding="utf-8"))
    return data


def app_version() -> str:
    try:
        return version("saleor-alipay-app")
    except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
        return "0.0.0"


def app_identifier() -> str:
    identifier: str = static_manifest()["id"]
    return identifier


def build_manifest(base_url: str) -> dict[str, Any]:
    base = base_url.rstrip("/")
    static = static_manifest()
    manifest: dict[str, Any] = {
        key: value
        for key, value in static.items()
        if key not in _URL_FIELDS and key != "brandLogoPath"
    }
    manifest["version"] = app_version()
    for path_key, url_key in _URL_FIELDS.items():
        manifest[url_key] = base + static[path_key]
    manifest["brand"] = {"logo": {"default": base + static["brandLogoPath"]}}
    manifest["extensions"] = []
    manifest["webhooks"] = [
        {
            "name": event.webhook_name,
            "targetUrl": base + event.path,
            "isActive": True,
            "syncEvents": [event.value],
            "query": load_document(event.document),
        }
        for event in SyncEvent
    ]
    return manifest
