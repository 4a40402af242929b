"""Long-running commands stop when asked: SIGTERM and SIGINT end `serve` (with its sweeper
running) and `sandbox` (with its state file and a call in flight) within their graceful
timeouts, and the exit is clean."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from saleor_alipay_app.antom.keys import public_key_pem
from saleor_alipay_app.antom.signing import now_request_time, sign, signature_header
from tests.support.servers import free_port

SIGNALS = [signal.SIGTERM, signal.SIGINT]


def _wait_until_up(process: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited early:\n{process.communicate()[0]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"not up in 30 s:\n{process.communicate()[0]}")


def _stopped_within(process: subprocess.Popen[str], sig: signal.Signals, seconds: float) -> str:
    """Send ``sig``; the process must exit on its own within ``seconds`` (killed otherwise)."""
    started = time.monotonic()
    process.send_signal(sig)
    try:
        output, _ = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError(f"still running {seconds} s after {sig.name}:\n{output}") from None
    assert process.returncode in {0, -sig, 128 + sig}, (process.returncode, output)
    assert time.monotonic() - started < seconds
    return output


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_serve_stops_when_asked(tmp_path: Path, sig: signal.Signals) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "APP_ENV": "development",
        "SWEEPER_INTERVAL": "0.1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "saleor_alipay_app", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _wait_until_up(process, f"http://127.0.0.1:{port}/readyz")
    time.sleep(0.5)  # a few sweeper rounds
    output = _stopped_within(process, sig, 25)  # serve's graceful timeout is 20 s
    assert "Application shutdown complete" in output


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_the_sandbox_stops_when_asked_with_a_call_in_flight(
    tmp_path: Path, sig: signal.Signals
) -> None:
    merchant = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "merchant.pem"
    key_file.write_text(public_key_pem(merchant))
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "saleor_alipay_app",
            "sandbox",
            "--port",
            str(port),
            "--client-id",
            "SIGNALS",
            "--merchant-public-key",
            str(key_file),
            "--antom-private-key",
            str(tmp_path / "antom.pem"),
            "--db",
            str(tmp_path / "sandbox.db"),
            "--hang-seconds",
            "300",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    _wait_until_up(process, url + "/sandbox/api/health")
    path = "/ams/sandbox/api/v1/payments/inquiryPayment"
    body = json.dumps({"paymentRequestId": "in-flight"})
    stamp = now_request_time()
    value = sign(merchant, path=path, client_id="SIGNALS", request_time=stamp, body=body)
    headers = {
        "client-id": "SIGNALS",
        "request-time": stamp,
        "signature": signature_header(value),
        "x-sandbox-scenario": "HANG",
    }

    def call_in_flight() -> None:
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(url + path, content=body, headers=headers, timeout=60)

    hanging = threading.Thread(target=call_in_flight, daemon=True)
    hanging.start()
    time.sleep(0.5)  # the call is now asleep in the HANG scenario
    output = _stopped_within(process, sig, 20)  # the sandbox's graceful timeout is 10 s
    assert "Finished server process" in output
    hanging.join(5)
