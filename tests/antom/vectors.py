"""Fixed signing vectors, computed independently with OpenSSL 3.0 (``openssl dgst -sha256 -sign``).

THROWAWAY TEST KEY, generated for these tests only (``openssl genpkey -algorithm RSA``): it
protects nothing. Kept as bare base64 (PKCS#8 / SPKI DER), the shape Antom's dashboard shows.
"""

from __future__ import annotations

from dataclasses import dataclass

TEST_PRIVATE_KEY_B64 = (
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC1nF7t00DZiBmAM6MzVYZ4JAkYB2JCm1FZPrW6"
    "vfE5w3fn0l+QyW563Ypcc6NL9MfEg88eLvws9doKUNuKgRffPOArFT+Oc8bM9PUqd7mxTPa6cs3dpncBV+Cs9g0f"
    "TWGtTyogEEEepIctwBVbDlUxTfKPUqNeizNZaB+KuOfmIwGUaCanx7at8HYYZGPoEE7eKVGZFGdVRI5tX6sekye6"
    "wn7WE0zM3Pe2rtgStPE1NHmmTB78wF0uYo9iTn2CYW0BOh1V2JixrGqSHA1i/dsL7+zLdNHhUNGk+kgHTEmbpf6f"
    "eMMyTmZX7Q1QwYo0NU5J0nROEUNZRUn8r3DVMgVXAgMBAAECggEAMNi1I6xtRdT4XuYEoDsBpvCyTXc284lI8QMP"
    "6AFMj2fGqWCI+a1j/MH3g/RKWJSm4nE9VPX4N7OMiLfExNUB8bYy6QOXC56SOvArvNdk54420mEsg9BRM9hKAttP"
    "Hjs26WFgiC03BqHkBecjF1Gckl1Pv0LP1A8GqaZ6zVn8bYZJP76zPRXMZeTY0JlPWiTE56ebEzUdZaxQDdqgXFW0"
    "B1ylTY2cmVugX4KcnPvRodOULFe1fxzCcGKOTodDqSeNG8a7Sh6jVF67UocFfDcgkTk9FgbCaMv90ogKDxX7EA9q"
    "Vv8/M8XSjFt+CrZpUOkvMTyjXPdS6EcIzB8Np7g2OQKBgQD+krv3XcxaCSDgNGnxwLvx1Cv28xb7y792Z/8is/iQ"
    "4KIyg8wS/tykoJEQRmM7vaw5bREeXrcqJjVIEyc1EJQkaKWUJPVHHPmY1fioUvyWt9/7LPfXiUpNthdPbuZecc+J"
    "VSB/a6QI5s1kBFLS9sLABUnIsUpn76Nx1p7WFRAj6wKBgQC2oPLxHk9mhiYeaps32dx1myfpMjGi+ahUvW8U/J5y"
    "eHZpMMn9gUHt/RQe6fvWwlpBiCL4CWbshROE17iZYEirLLCbtc4bupL1u+4QxD5AvG264J1M14h5aSjCyP35XdLh"
    "MQ0pmuC0wKqgtl9Zj5VSnWsMhEuWEfxWTyrowf5FRQKBgAXZlVwv2ZxQDWNZkP2vMiJyf7gjCeorWnD8Hs7LV/Ds"
    "WI3UnYHqPWPDFNJM68bZqvV+3h/WiVr8mcjYN9RuVxknFnb7Cm/h6JJsiFRF4+wKuajp9aAMVZrHjm2S3NRaxSwg"
    "uqhy7sgNlbawqr6SURNci7+C43TT+uuIxQmiXkaVAoGATquAW3uKCokJDJsxp9pyTDr880hK94CCEZbUrf6wJnFb"
    "2K5KpKg0hVc6fqKeeIGaLZZ+McijDIm6wcPHYlKGmy4SGdE0Kt+xBKfiwlg21N4WiqTNPdeuk1ZIV7gLJ4tSFu1x"
    "VRXBbDt+hOJqqoLeeQsUnPy0Lr4qq+dIfaFrbd0CgYEAxCA2nUhRtNH9hUU1nkHrCqkjUaEhSLHnaitIqScUndKL"
    "miWcTFwRCQpYDb2sx9TbQiL1/mDRXYt8H3xH0u7P0/sh1QN/e7GvSMX7yTwDeV4qISEbCzJVQyacLnqYsKStoLGn"
    "io80JyC1SVy4G0Uvtf18kjXM4bCaUEbHJeOb860="
)

TEST_PUBLIC_KEY_B64 = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtZxe7dNA2YgZgDOjM1WGeCQJGAdiQptRWT61ur3xOcN3"
    "59JfkMluet2KXHOjS/THxIPPHi78LPXaClDbioEX3zzgKxU/jnPGzPT1Kne5sUz2unLN3aZ3AVfgrPYNH01hrU8q"
    "IBBBHqSHLcAVWw5VMU3yj1KjXoszWWgfirjn5iMBlGgmp8e2rfB2GGRj6BBO3ilRmRRnVUSObV+rHpMnusJ+1hNM"
    "zNz3tq7YErTxNTR5pkwe/MBdLmKPYk59gmFtATodVdiYsaxqkhwNYv3bC+/sy3TR4VDRpPpIB0xJm6X+n3jDMk5m"
    "V+0NUMGKNDVOSdJ0ThFDWUVJ/K9w1TIFVwIDAQAB"
)


@dataclass(frozen=True)
class Vector:
    method: str
    path: str
    client_id: str
    time: str
    body: str
    signature_b64: str  # standard base64 of RSASSA-PKCS1-v1_5/SHA-256 over the string to sign


VECTORS = (
    # API.md §2 worked example.
    Vector(
        method="POST",
        path="/ams/api/v1/payments/inquiryPayment",
        client_id="5Y00000000000000",
        time="2024-03-01T12:00:00+08:00",
        body='{"paymentRequestId":"ord-1001-p1"}',
        signature_b64=(
            "dVJqzeFB3/6VrDauH9K89OCmHzLOHA76WQR24qy7+4fRTK3lu7A72qKhfjbAEJwTPVtudTzl6HnCg43P"
            "grJk8g7MTfEdz6G5jXwxag/xLQ5gsJNE66g9ozyOAgc+755H5+H1p9Sc2pyiwNdDLoZFMxaiZCE/Eq8f"
            "AU8SRdfbrqc+ZMt3xhspxDkhO2VZH+KDRFWuTWR23vhQMpPOuPVXCeXr+LS3Als6dAPAztYES9mdKyqR"
            "MUDAXpVzxYazoF9NAorYhdZ5gUEruS0pnxyXuu1gEGxhmpxlimh0uMsvjB5wcu+pBjLK9zezmnYskJWF"
            "W6X6qCIbS6Lfs11Rnd7+Nw=="
        ),
    ),
    # Sandbox path, epoch-millisecond time, raw UTF-8 (non-ASCII) body.
    Vector(
        method="POST",
        path="/ams/sandbox/api/v1/payments/pay",
        client_id="SANDBOX_5Y00000000000000",
        time="1685599933871",
        body='{"order":{"orderDescription":"珍珠奶茶 ×2"}}',
        signature_b64=(
            "H1Ck1M3mUSsPJx5HQhAbXyhYJXerPNjwmX+ztDUFRTgwNURV2zx99sLztz72L3VyIHOm14Ke2rK7EJ0W"
            "pY4LLSpfjDRw7MsIlD3jsud51sUVS59pKOvQMzBxMHteZdCmVIDWdw2b2Dj78ZGX/NGnNpFazntcqmCO"
            "Z7szksWeOnNRvH38/H4aV8HdMbyjyCuyZGQs0I9QUnEvhZXYKemYxYUS45cNQQRNjiaA7JgHfI6/FEK0"
            "133p9aikeluHxrscE4tlfCitXEAiHjkaxHlyB4aWqaC+DMm5gqVYVdX5QCoAYqJgSqO2N+CYDSLuRGNR"
            "kp++mXX6Yf6IAjqRjvE1YA=="
        ),
    ),
    # Pretty-printed body with newlines and an ASCII \u escape, as the official SDK sends.
    Vector(
        method="POST",
        path="/ams/api/v1/authorizations/consult",
        client_id="5Y00000000000000",
        time="2024-01-15T02:30:00+00:00",
        body='{\n   "authState": "st-\\u00e9"\n}',
        signature_b64=(
            "iYnKXbdRS98n3CyU63nd7CcAwBlyVg3hBZ1ZusEjgMiGRoQj8r5GCk4Xt0e3gDhm/CEbpCazKRfzMxbH"
            "TQbMV2jJSyKl8UROHIEVOYcbxR85gZ0p4iEawCJlBp/uNP3Acw0AAPppYaCrphiHV6sXlAWHhOSFuQHd"
            "E0Ch5RhDQ2CLN64Q/yiDIn6k82Yxfc+IjrNuoS8WuHFIoSDQqW5z48V8arElwtpmSRsoAS97h9TV5Flm"
            "6b8pommb8IOZkAr6R/bI3H1/jB+UC3SCC8fqf1ZNyne7pFUDwvL+uG8CyE4n4hPG+ZcLt0giMhitKggx"
            "i0/ty5SgOC12xvfvLc8E8w=="
        ),
    ),
)
