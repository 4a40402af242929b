"""Where the files that live beside the package are: `manifest.json` and `graphql/`.

From a checkout (or an editable install) they are at the repository root; a wheel installs them
under `<prefix>/share/saleor-alipay-app/`. `SALEOR_ALIPAY_RESOURCES_DIR` overrides both.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path

_SHARE = Path("share") / "saleor-alipay-app"


@lru_cache(maxsize=1)
def resources_dir() -> Path:
    override = os.environ.get("SALEOR_ALIPAY_RESOURCES_DIR")
    if override:
        return Path(override)
    repo_root = Path(__file__).resolve().parents[1]
    if (repo_root / "manifest.json").is_file():
        return repo_root
    for prefix in (sys.prefix, sys.base_prefix):
        candidate = Path(prefix) / _SHARE
        if (candidate / "manifest.json").is_file():
            return candidate
    raise FileNotFoundError(
        "manifest.json and graphql/ not found beside the package nor under "
        f"{Path(sys.prefix) / _SHARE}; reinstall the package or set SALEOR_ALIPAY_RESOURCES_DIR"
    )


def resource_path(relative: str) -> Path:
    return resources_dir() / relative
