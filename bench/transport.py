"""Which HTTP client transport should the app use to call Antom? One command, loopback only.

    python bench/transport.py [--requests N] [--concurrency 32]

Starts, as separate processes on 127.0.0.1:
  - an upstream (aiohttp.web) answering every POST with a fixed, Antom-signed JSON body;
  - a relay (FastAPI on uvicorn, like the app) whose endpoint forwards each request to the
    upstream with the transport under test, checks the response signature as AntomClient does
    (API.md §3), and returns the upstream body.
Then, for each transport (httpx's default transport, httpx over httpx-aiohttp, aiohttp
directly), it drives N POSTs at the given concurrency against the relay and prints requests/s,
p50, p99 and the ratio against the httpx default measured in the same run.

Bounded: at most --requests requests per transport (plus a short warm-up), at most
--max-seconds per transport, and every child process is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
import uvicorn
from aiohttp import web
from fastapi import FastAPI, Request, Response

from saleor_alipay_app.antom.client import check_response, make_http_client
from saleor_alipay_app.antom.keys import (
    generate_private_key,
    load_private_key,
    load_public_key,
    private_key_base64,
    public_key_base64,
)
from saleor_alipay_app.antom.signing import (
    SignatureError,
    now_request_time,
    sign,
    signature_header,
)

MODES = ("httpx-default", "httpx-aiohttp", "aiohttp")
UPSTREAM_PATH = "/ams/api/v1/payments/pay"
CLIENT_ID = "5Y00000000000000"
REQUEST_BODY = json.dumps(
    {
        "productCode": "AGREEMENT_PAYMENT",
        "paymentRequestId": "bench-0001",
        "paymentAmount": {"currency": "HKD", "value": "4200"},
        "paymentMethod": {"paymentMethodType": "ALIPAY_HK", "paymentMethodId": "bench-token"},
    },
    separators=(",", ":"),
).encode()
RESPONSE_BODY = json.dumps(
    {
        "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
        "paymentRequestId": "bench-0001",
        "paymentId": "202403150000000001",
        "paymentAmount": {"currency": "HKD", "value": "4200"},
        "paymentCreateTime": "2024-03-15T10:00:00+08:00",
        "paymentTime": "2024-03-15T10:00:01+08:00",
    },
    separators=(",", ":"),
).encode()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- child process: upstream ----------------------------------------------------------------------


def run_upstream(port: int, private_key_b64: str) -> None:
    key = load_private_key(private_key_b64)
    response_time = now_request_time()
    headers = {
        "client-id": CLIENT_ID,
        "response-time": response_time,
        "signature": signature_header(
            sign(
                key,
                path=UPSTREAM_PATH,
                client_id=CLIENT_ID,
                request_time=response_time,
                body=RESPONSE_BODY,
            )
        ),
        "Content-Type": "application/json",
    }

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=RESPONSE_BODY, headers=headers)

    app = web.Application()
    app.router.add_post(UPSTREAM_PATH, answer)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- child process: relay -------------------------------------------------------------------------


def run_relay(port: int, mode: str, upstream: str, public_key_b64: str) -> None:
    public_key = load_public_key(public_key_b64)
    url = upstream + UPSTREAM_PATH
    forward_headers = {"Content-Type": "application/json; charset=UTF-8", "client-id": CLIENT_ID}
    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if mode == "httpx-default":
            state["client"] = httpx.AsyncClient(
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=100)
            )
        elif mode == "httpx-aiohttp":
            state["client"] = make_http_client(max_connections=100)  # what AntomClient uses
        else:
            state["client"] = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100, keepalive_timeout=30)
            )
        yield
        if mode == "aiohttp":
            await state["client"].close()
        else:
            await state["client"].aclose()

    app = FastAPI(lifespan=lifespan)

    async def fetch(body: bytes) -> tuple[int, dict[str, str], bytes]:
        client = state["client"]
        if mode == "aiohttp":
            async with client.post(url, data=body, headers=forward_headers) as response:
                return response.status, dict(response.headers), await response.read()
        reply = await client.post(url, content=body, headers=forward_headers)
        return reply.status_code, dict(reply.headers), reply.content

    @app.post("/relay")
    async def relay(request: Request) -> Response:
        status, headers, raw = await fetch(await request.body())
        if status != 200:
            return Response(status_code=502)
        try:
            check_response(
                public_key, path=UPSTREAM_PATH, headers=headers, body=raw, client_id=CLIENT_ID
            )
        except SignatureError:
            return Response(status_code=502)
        return Response(content=raw, media_type="application/json")

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- driver ---------------------------------------------------------------------------------------


@dataclass
class Measurement:
    mode: str
    done: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
        return ordered[index]


@contextlib.contextmanager
def child(*args: str, key: str) -> Iterator[subprocess.Popen[bytes]]:
    """Start this script in a child role; the (throwaway) key goes on stdin, not argv."""
    process = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    process.stdin.write(key.encode())
    process.stdin.close()
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"child exited with {process.returncode}: {err[-2000:]}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port} after {timeout} s")


async def drive(
    url: str, requests: int, concurrency: int, max_seconds: float
) -> tuple[int, int, float, list[float]]:
    latencies: list[float] = []
    errors = 0
    issued = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        stop_at = started + max_seconds

        async def worker() -> None:
            nonlocal issued, errors
            while issued < requests and time.perf_counter() < stop_at:
                issued += 1
                t0 = time.perf_counter()
                try:
                    async with session.post(url, data=REQUEST_BODY) as response:
                        await response.read()
                        ok = response.status == 200
                except aiohttp.ClientError:
                    ok = False
                if ok:
                    latencies.append((time.perf_counter() - t0) * 1000)
                else:
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return len(latencies), errors, elapsed, latencies


def measure(mode: str, upstream: str, public_key_b64: str, args: argparse.Namespace) -> Measurement:
    port = free_port()
    with child(
        "_relay", "--port", str(port), "--mode", mode, "--upstream", upstream, key=public_key_b64
    ) as relay:
        wait_for_port(port, relay)
        url = f"http://127.0.0.1:{port}/relay"
        warmup = min(200, max(args.requests // 10, args.concurrency))
        asyncio.run(drive(url, warmup, args.concurrency, args.max_seconds))
        done, errors, seconds, latencies = asyncio.run(
            drive(url, args.requests, args.concurrency, args.max_seconds)
        )
    return Measurement(mode, done, errors, seconds, latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per transport")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--max-seconds", type=float, default=60.0, help="cap per transport")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated subset")
    args = parser.parse_args()
    if not 1 <= args.requests <= 200_000:
        parser.error("--requests must be between 1 and 200000")
    if not 1 <= args.concurrency <= 512:
        parser.error("--concurrency must be between 1 and 512")
    modes = [m for m in args.modes.split(",") if m]
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown modes: {', '.join(sorted(unknown))}")

    antom_key = generate_private_key()  # throwaway, lives only for this run
    upstream_port = free_port()
    print(
        f"transport benchmark: {args.requests} requests per transport, concurrency "
        f"{args.concurrency}, loopback; upstream aiohttp.web, relay FastAPI on uvicorn "
        f"(verifying the Antom response signature); {os.cpu_count()} CPU(s)",
        flush=True,
    )
    results: list[Measurement] = []
    with child(
        "_upstream", "--port", str(upstream_port), key=private_key_base64(antom_key)
    ) as upstream:
        wait_for_port(upstream_port, upstream)
        for mode in modes:
            result = measure(
                mode, f"http://127.0.0.1:{upstream_port}", public_key_base64(antom_key), args
            )
            results.append(result)
            print(f"  measured {mode}: {result.done} ok, {result.errors} errors", flush=True)

    baseline = next((r.rps for r in results if r.mode == "httpx-default"), None)
    print()
    header = ("transport", "req/s", "p50 ms", "p99 ms", "errors", "vs httpx default")
    print(
        f"{header[0]:<15}{header[1]:>10}{header[2]:>10}{header[3]:>10}{header[4]:>8}{header[5]:>18}"
    )
    for r in results:
        ratio = f"{r.rps / baseline:.2f}x" if baseline else "n/a"
        print(
            f"{r.mode:<15}{r.rps:>10.0f}{r.percentile(0.50):>10.1f}{r.percentile(0.99):>10.1f}"
            f"{r.errors:>8}{ratio:>18}"
        )
    if any(r.done == 0 for r in results):
        sys.exit(1)
    if results and statistics.fmean(r.errors for r in results) > 0:
        print("\nwarning: some requests failed; see the errors column")


def child_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["_upstream", "_relay"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=MODES)
    parser.add_argument("--upstream")
    args = parser.parse_args(argv)
    key = sys.stdin.read().strip()
    if args.role == "_upstream":
        run_upstream(args.port, key)
    else:
        run_relay(args.port, args.mode, args.upstream, key)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("_upstream", "_relay"):
        child_main(sys.argv[1:])
    else:
        main()
