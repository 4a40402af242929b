"""manifest.json and graphql/ are found from a checkout and from a wheel install."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from saleor_alipay_app import resources


def test_checkout_finds_the_repository_root() -> None:
    resources.resources_dir.cache_clear()
    try:
        root = resources.resources_dir()
    finally:
        resources.resources_dir.cache_clear()
    assert (root / "manifest.json").is_file()
    assert (root / "graphql" / "subscriptions").is_dir()


def test_wheel_install_uses_the_shared_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # site-packages/graphql is graphql-core's package: it must never be taken for ours.
    site = tmp_path / "site-packages"
    (site / "graphql").mkdir(parents=True)
    share = tmp_path / "venv" / "share" / "saleor-alipay-app"
    (share / "graphql").mkdir(parents=True)
    (share / "manifest.json").write_text("{}")
    monkeypatch.delenv("SALEOR_ALIPAY_RESOURCES_DIR", raising=False)
    monkeypatch.setattr(resources, "__file__", str(site / "saleor_alipay_app" / "resources.py"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    resources.resources_dir.cache_clear()
    try:
        assert resources.resources_dir() == share
        assert resources.resource_path("graphql") == share / "graphql"
    finally:
        resources.resources_dir.cache_clear()


def test_missing_resources_say_how_to_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SALEOR_ALIPAY_RESOURCES_DIR", raising=False)
    monkeypatch.setattr(resources, "__file__", str(tmp_path / "a" / "b" / "resources.py"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "empty"))
    monkeypatch.setattr(sys, "base_prefix", str(tmp_path / "empty"))
    resources.resources_dir.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match="SALEOR_ALIPAY_RESOURCES_DIR"):
            resources.resources_dir()
    finally:
        resources.resources_dir.cache_clear()
