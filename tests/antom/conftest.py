"""Key pairs for the Antom tests: one for "us" (the merchant) and one for "Antom"."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from saleor_alipay_app.antom.keys import generate_private_key


@pytest.fixture(scope="session")
def merchant_key() -> rsa.RSAPrivateKey:
    return generate_private_key()


@pytest.fixture(scope="session")
def antom_key() -> rsa.RSAPrivateKey:
    return generate_private_key()
