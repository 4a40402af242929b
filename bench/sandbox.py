"""The Antom sandbox under load: direct `payments/pay` calls at 1 and at 32 concurrent.

    .venv/bin/python bench/sandbox.py [--requests 1500] [--max-seconds 60] [--stores memory,file]

One bounded command, loopback only. For each store (`memory`: the sandbox's state in memory;
`file`: with `--db`, every change also written to its SQLite file) it starts the sandbox as a
real `saleor-alipay-app sandbox` process, and beside it a notification receiver (a child
process answering Antom's acknowledgement to every notification). Through the sandbox's own
APIs it registers a merchant (`POST /sandbox/api/merchants`: the merchant's public key and
`paymentNotifyUrl`), makes an agreement (signed `authorizations/consult`, the shopper's
approval at `POST /sandbox/api/authorizations/{authState}/approve`, signed `applyToken`) and
then, after a warm-up, sends `--requests` signed one-click `pay` calls (the access token as
`paymentMethodId`, `paymentNotifyUrl` set, each with its own `paymentRequestId`, signed before
the clock starts) at 1 and then at 32 concurrent with an aiohttp driver.

It prints, per store and concurrency: pay answers per second, p50 and p99 latency, errors (any
answer but HTTP 200 with `resultStatus` S), and `notified/s`: the same payments over the time
until the receiver had acknowledged every payment notification they caused (the notifications
are part of what a pay costs the sandbox), and the sandbox process's CPU time per pay over the
same span (user + system, from /proc: the figure least moved by other work on the machine),
with the driver's and the receiver's beside it (all three share the machine's cores).
Last, the ratio of req/s at 32 to req/s at 1.

Bounded: at most --requests pay calls per phase (plus 50 for warm-up), each phase stopped after
--max-seconds, and the sandbox and receiver processes are stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
sys.path.insert(0, str(ROOT))

from driver import Prepared, drive  # noqa: E402  (bench/driver.py, beside this script)

from saleor_alipay_app.antom.client import encode_body, signed_headers  # noqa: E402
from saleor_alipay_app.antom.keys import generate_private_key, public_key_pem  # noqa: E402
from saleor_alipay_app.antom.models import (  # noqa: E402
    Order,
    PaymentMethod,
    PayRequest,
    SettlementStrategy,
)
from saleor_alipay_app.antom.money import Amount  # noqa: E402
from saleor_alipay_app.sandbox.protocol import ACK_BODY  # noqa: E402

CLIENT_ID = "SANDBOX_5YBENCH000000000"
API = "/ams/sandbox/api/v1/"
NOTIFY_PATH = "/notify/payment"
WALLET = "ALIPAY_HK"
AMOUNT = Amount.from_decimal(Decimal("1.00"), "HKD")
STORES = ("memory", "file")
LEVELS = (1, 32)
WARM_UP = 50


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- child process: the merchant's notification receiver -------------------------------------------


def run_receiver(port: int) -> None:
    """Acknowledge every notification as Antom expects; count them (GET /count)."""
    counts = {"received": 0, "unsigned": 0}
    ack = json.dumps(ACK_BODY, separators=(",", ":")).encode()

    async def notified(request: web.Request) -> web.Response:
        await request.read()
        counts["received"] += 1
        if not all(request.headers.get(h) for h in ("client-id", "request-time", "signature")):
            counts["unsigned"] += 1
        return web.Response(body=ack, content_type="application/json")

    async def count(_request: web.Request) -> web.Response:
        return web.json_response(counts)

    app = web.Application()
    app.router.add_post("/notify/{tail:.*}", notified)
    app.router.add_get("/count", count)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- processes -------------------------------------------------------------------------------------


def sandbox_command() -> list[str]:
    """``saleor-alipay-app`` beside this Python (the installed command), else ``-m``."""
    script = Path(sys.executable).with_name("saleor-alipay-app")
    if script.exists():
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "saleor_alipay_app"]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@contextlib.contextmanager
def process(args: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=child_env())
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def wait_up(session: aiohttp.ClientSession, url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the process ended with {proc.returncode}")
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(url) as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


# -- signed calls ----------------------------------------------------------------------------------


class Merchant:
    def __init__(self, base: str) -> None:
        self.base = base
        self.key = generate_private_key()

    def prepare(self, endpoint: str, body: bytes) -> Prepared:
        path = API + endpoint
        headers = signed_headers(
            self.key,
            client_id=CLIENT_ID,
            path=path,
            body=body,
            request_time=str(int(time.time() * 1000)),
        )
        return Prepared(self.base + path, headers, body)

    async def call(
        self, session: aiohttp.ClientSession, endpoint: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        item = self.prepare(endpoint, json.dumps(data, separators=(",", ":")).encode())
        async with session.post(item.url, data=item.body, headers=item.headers) as response:
            answer: dict[str, Any] = json.loads(await response.read())
        if answer.get("result", {}).get("resultStatus") != "S":
            raise RuntimeError(f"{endpoint}: {answer}")
        return answer

    def pay(self, token: str, notify_url: str) -> Prepared:
        request = PayRequest(
            payment_request_id="bench-" + secrets.token_hex(12),
            order=Order(
                order_amount=AMOUNT,
                reference_order_id=secrets.token_hex(8),
                order_description="Order",
            ),
            payment_amount=AMOUNT,
            payment_method=PaymentMethod(payment_method_type=WALLET, payment_method_id=token),
            settlement_strategy=SettlementStrategy(settlement_currency="HKD"),
            payment_notify_url=notify_url,
        )
        return self.prepare("payments/pay", encode_body(request))


async def agreement(session: aiohttp.ClientSession, merchant: Merchant, notify_url: str) -> str:
    """Register the merchant, bind a wallet as a shopper would; the access token."""
    registration = {
        "clientId": CLIENT_ID,
        "publicKey": public_key_pem(merchant.key),
        "paymentNotifyUrl": notify_url,
    }
    async with session.post(f"{merchant.base}/sandbox/api/merchants", json=registration) as r:
        if r.status != 201:
            raise RuntimeError(f"merchant registration: HTTP {r.status} {await r.text()}")
    auth_state = "bench-" + secrets.token_hex(8)
    await merchant.call(
        session,
        "authorizations/consult",
        {
            "customerBelongsTo": WALLET,
            "authRedirectUrl": "https://merchant.example/return",
            "scopes": ["AGREEMENT_PAY"],
            "authState": auth_state,
            "terminalType": "WEB",
        },
    )
    approve = f"{merchant.base}/sandbox/api/authorizations/{auth_state}/approve"
    async with session.post(approve, json={"userLoginId": "85261234567"}) as r:
        approved = await r.json()
    token = await merchant.call(
        session,
        "authorizations/applyToken",
        {
            "grantType": "AUTHORIZATION_CODE",
            "customerBelongsTo": WALLET,
            "authCode": approved["authCode"],
        },
    )
    return str(token["accessToken"])


# -- the driver ------------------------------------------------------------------------------------


@dataclass
class Run:
    store: str
    concurrency: int
    latencies_ms: list[float]
    errors: int
    seconds: float
    notified_seconds: float | None
    # CPU seconds over the phase: the sandbox, this driver, the notification receiver
    cpu: tuple[float | None, float, float | None]

    def cpu_ms_per_pay(self, which: int) -> str:
        seconds = self.cpu[which]
        if seconds is None or not self.latencies_ms:
            return "n/a"
        return f"{seconds * 1000 / len(self.latencies_ms):.2f}"

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    @property
    def notified_rps(self) -> float | None:
        if not self.notified_seconds:
            return None
        return len(self.latencies_ms) / self.notified_seconds

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def pay_succeeded(status: int, body: bytes) -> bool:
    return status == 200 and b'"resultStatus":"S"' in body


async def received(session: aiohttp.ClientSession, receiver: str) -> int:
    async with session.get(f"{receiver}/count") as response:
        counts = await response.json()
    if counts["unsigned"]:
        raise RuntimeError(f"{counts['unsigned']} notifications came without signature headers")
    return int(counts["received"])


async def notified_by(
    session: aiohttp.ClientSession, receiver: str, expected: int, deadline: float
) -> float | None:
    """The moment (perf_counter) the receiver holds ``expected`` notifications; None if late."""
    while time.perf_counter() < deadline:
        if await received(session, receiver) >= expected:
            return time.perf_counter()
        await asyncio.sleep(0.02)
    return None


@contextlib.asynccontextmanager
async def running(
    store: str, tmp: Path, receiver: str
) -> AsyncIterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    args = [
        *sandbox_command(),
        "sandbox",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--client-id",
        CLIENT_ID,
        "--antom-private-key",
        str(tmp / "antom-private-key.pem"),
    ]
    if store == "file":
        args += ["--db", str(tmp / "sandbox.db")]
    base = f"http://127.0.0.1:{port}"
    with process(args, tmp / f"sandbox-{store}.log") as proc:
        async with aiohttp.ClientSession() as session:
            await wait_up(session, f"{base}/sandbox/api/health", proc)
        yield base, proc


def spent(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


async def measure_store(
    args: argparse.Namespace, store: str, tmp: Path, receiver: str, receiver_pid: int
) -> list[Run]:
    runs: list[Run] = []
    notify_url = receiver + NOTIFY_PATH
    async with (
        running(store, tmp, receiver) as (base, proc),
        aiohttp.ClientSession() as session,
    ):
        print(f"  {store}: sandbox pid {proc.pid} at {base}", flush=True)
        merchant = Merchant(base)
        token = await agreement(session, merchant, notify_url)
        expected = await received(session, receiver)
        warm = [merchant.pay(token, notify_url) for _ in range(WARM_UP)]
        latencies = (await drive(warm, 4, args.max_seconds, pay_succeeded)).latencies_ms
        expected += len(latencies)
        await notified_by(session, receiver, expected, time.perf_counter() + args.max_seconds)
        for concurrency in args.levels:
            pays = [merchant.pay(token, notify_url) for _ in range(args.requests)]
            cpu_before = (cpu_seconds(proc.pid), time.process_time(), cpu_seconds(receiver_pid))
            driven = await drive(pays, concurrency, args.max_seconds, pay_succeeded)
            latencies, errors, started, ended = (
                driven.latencies_ms,
                driven.errors,
                driven.started,
                driven.ended,
            )
            expected += len(latencies)
            done = await notified_by(session, receiver, expected, ended + args.max_seconds)
            cpu = (
                spent(cpu_before[0], cpu_seconds(proc.pid)),
                time.process_time() - cpu_before[1],
                spent(cpu_before[2], cpu_seconds(receiver_pid)),
            )
            runs.append(
                Run(
                    store,
                    concurrency,
                    latencies,
                    errors,
                    ended - started,
                    None if done is None else done - started,
                    cpu,
                )
            )
            print(
                f"  {store}: {concurrency} concurrent: {len(latencies)} paid, {errors} errors",
                flush=True,
            )
    return runs


async def measure(args: argparse.Namespace, tmp: Path) -> list[Run]:
    port = free_port()
    receiver = f"http://127.0.0.1:{port}"
    receiver_args = [sys.executable, str(SCRIPT), "--receiver", str(port)]
    runs: list[Run] = []
    with process(receiver_args, tmp / "receiver.log") as proc:
        async with aiohttp.ClientSession() as session:
            await wait_up(session, f"{receiver}/count", proc)
        for store in args.stores:
            store_tmp = tmp / store
            store_tmp.mkdir()
            runs += await measure_store(args, store, store_tmp, receiver, proc.pid)
    return runs


def report(runs: list[Run], args: argparse.Namespace) -> None:
    print()
    header = (
        f"{'store':<8}{'conc.':>6}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'notified/s':>12}   CPU ms/pay: sandbox  driver  receiver"
    )
    print(header)
    for r in runs:
        notified = "late" if r.notified_rps is None else f"{r.notified_rps:.1f}"
        print(
            f"{r.store:<8}{r.concurrency:>6}{r.rps:>9.1f}{r.percentile(0.5):>9.1f}"
            f"{r.percentile(0.99):>9.1f}{r.errors:>8}{notified:>12}{r.cpu_ms_per_pay(0):>22}"
            f"{r.cpu_ms_per_pay(1):>8}{r.cpu_ms_per_pay(2):>10}"
        )
    low, high = min(args.levels), max(args.levels)
    for store in args.stores:
        by_level = {r.concurrency: r for r in runs if r.store == store}
        if by_level[low].rps:
            print(
                f"ratio {store}: req/s at {high} / req/s at {low} = "
                f"{by_level[high].rps / by_level[low].rps:.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1500, help="pay calls per phase")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="cap per phase")
    parser.add_argument(
        "--stores",
        default=",".join(STORES),
        help="memory (state in memory), file (--db: also written to SQLite), or both",
    )
    parser.add_argument("--levels", default="1,32", help="concurrency levels, in order")
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver is not None:
        run_receiver(args.receiver)
        return
    if not 32 <= args.requests <= 100_000:
        parser.error("--requests must be between 32 and 100000")
    args.stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    if not args.stores or any(s not in STORES for s in args.stores):
        parser.error(f"--stores takes {', '.join(STORES)}")
    args.levels = [int(level) for level in args.levels.split(",")]
    if len(args.levels) < 2 or any(not 1 <= level <= 256 for level in args.levels):
        parser.error("--levels takes two or more concurrencies between 1 and 256")

    print(
        f"sandbox benchmark: {args.requests} signed pay calls per phase at "
        f"{', '.join(map(str, args.levels))} concurrent, the sandbox as a `saleor-alipay-app "
        f"sandbox` process, notifications acknowledged by a receiver process; "
        f"{os.cpu_count()} CPU(s)",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="sandbox-bench-") as folder:
        runs = asyncio.run(measure(args, Path(folder)))
    report(runs, args)
    if any(not r.latencies_ms or r.errors for r in runs):
        sys.exit(1)


if __name__ == "__main__":
    main()
