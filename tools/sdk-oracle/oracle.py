"""Run inside tools/sdk-oracle/.venv: sign and verify with Antom's official Python SDK.

Reads one JSON job from stdin, writes one JSON answer to stdout. Keys travel on stdin, never
on the command line. Job::

    {"private_key": "<bare base64>", "public_key": "<bare base64 SPKI>",
     "sign":    [{"method", "path", "client_id", "time", "body"}],
     "verify":  [{"method", "path", "client_id", "time", "body", "signature"}],
     "webhook": [{"method", "path", "client_id", "time", "body", "header"}]}

Answer: {"sdk_version", "signatures": [...], "verified": [bool...], "webhook": [bool...]}.
The SDK's verify raises (rsa.VerificationError) on a mismatch; that is reported as false.
"""

import functools
import json
import sys
from collections.abc import Callable

# These live only in tools/sdk-oracle/.venv (the SDK pins its own cryptography).
from com.alipay.ams.api import _version  # type: ignore[import-not-found]
from com.alipay.ams.api.exception.exception import (  # type: ignore[import-not-found]
    AlipayApiException,
)
from com.alipay.ams.api.tools import (  # type: ignore[import-not-found]
    signature_tool,
    webhook_tool,
)
from rsa.pkcs1 import VerificationError  # type: ignore[import-not-found]


def _verify(call: Callable[[], object]) -> bool:
    try:
        return bool(call())
    except (VerificationError, AlipayApiException, ValueError) as exc:
        # the SDK raises instead of returning False on a mismatch
        sys.stderr.write(f"verify refused: {type(exc).__name__}\n")
        return False


def main() -> None:
    job = json.load(sys.stdin)
    private_key = job["private_key"]
    public_key = job["public_key"]
    signatures = [
        signature_tool.sign(
            c["method"], c["path"], c["client_id"], c["time"], c["body"], private_key
        )
        for c in job.get("sign", [])
    ]
    verified = [
        _verify(
            functools.partial(
                signature_tool.verify,
                c["method"],
                c["path"],
                c["client_id"],
                c["time"],
                c["body"],
                c["signature"],
                public_key,
            )
        )
        for c in job.get("verify", [])
    ]
    webhook = [
        _verify(
            functools.partial(
                webhook_tool.check_signature,
                c["method"],
                c["path"],
                c["client_id"],
                c["time"],
                c["body"],
                c["header"],
                public_key,
            )
        )
        for c in job.get("webhook", [])
    ]
    json.dump(
        {
            "sdk_version": _version.VERSION,
            "signatures": signatures,
            "verified": verified,
            "webhook": webhook,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
