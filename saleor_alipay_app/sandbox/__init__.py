"""A faithful Antom simulator (Scan to Bind / Auto Debit) with a test wallet; see README.md.

Production code never imports this package.
"""

from .app import create_sandbox_app
from .config import ApiCall, MerchantConfig, SandboxConfig, Scenario

__all__ = ["ApiCall", "MerchantConfig", "SandboxConfig", "Scenario", "create_sandbox_app"]
