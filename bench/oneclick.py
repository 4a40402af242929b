"""One-click payments through the app against direct `pay` calls to the same Antom sandbox.

    .venv/bin/python bench/oneclick.py [--requests 200] [--postgres] [--max-seconds 60]

One bounded command, loopback only. It starts the Antom sandbox and the Saleor double in this
process and the app as a real `serve` subprocess (SQLite in a temporary folder, or a fresh
PostgreSQL database with --postgres), installs the app, saves a wallet through the tokenization
webhooks, and then measures, in the same run:

  - one-click: signed `TRANSACTION_INITIALIZE_SESSION` webhooks carrying the saved wallet's
    `storedPaymentMethodId`, each for a distinct Saleor transaction (signed before the clock
    starts), answered `CHARGE_SUCCESS`;
  - direct: signed `payments/pay` calls with the same agreement's access token straight to the
    sandbox (signed before the clock starts);
  - relay: `bench/transport.py`'s httpx-aiohttp relay, the cost of one signed, verified HTTP hop;

at 1 and at 32 concurrent, and prints req/s, p50, p99, answers over 2 s, and the ratio of
one-click to direct. It also counts the database transactions and statements of one one-click
webhook and of the payment notification that follows (`tests/support/db_work.py`, the app run
in-process for that count only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from driver import Prepared  # noqa: E402  (bench/driver.py, beside this script)
from driver import drive as drive_requests  # noqa: E402

from saleor_alipay_app.agreements.models import Agreement  # noqa: E402
from saleor_alipay_app.agreements.service import ACCESS_TOKEN_PURPOSE  # noqa: E402
from saleor_alipay_app.antom.client import encode_body, signed_headers  # noqa: E402
from saleor_alipay_app.antom.models import (  # noqa: E402
    Order,
    PaymentMethod,
    PayRequest,
    SettlementStrategy,
)
from saleor_alipay_app.antom.money import Amount  # noqa: E402
from saleor_alipay_app.config import Environment, Settings  # noqa: E402
from saleor_alipay_app.crypto import generate_key, load_key_ring  # noqa: E402
from saleor_alipay_app.db import create_engine, session_factory  # noqa: E402
from saleor_alipay_app.saleor.events import SyncEvent  # noqa: E402
from tests.support.db_work import counting  # noqa: E402
from tests.support.saleor_double import saleor_json  # noqa: E402
from tests.support.stack import (  # noqa: E402
    CLIENT_ID,
    Stack,
    app_services,
    started_process_stack,
    started_stack,
)

INIT = SyncEvent.TRANSACTION_INITIALIZE_SESSION
INIT_TOKENIZATION = SyncEvent.PAYMENT_METHOD_INITIALIZE_TOKENIZATION_SESSION
PROCESS_TOKENIZATION = SyncEvent.PAYMENT_METHOD_PROCESS_TOKENIZATION_SESSION
PAY_PATH = "/ams/sandbox/api/v1/payments/pay"
AMOUNT = Decimal("1.00")
SLOW_MS = 2000.0


@dataclass
class Run:
    name: str
    concurrency: int
    latencies_ms: list[float]
    errors: int
    seconds: float

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]

    @property
    def slow(self) -> int:
        return sum(1 for ms in self.latencies_ms if ms > SLOW_MS)


async def drive(
    name: str,
    requests: list[Prepared],
    concurrency: int,
    max_seconds: float,
    ok: Callable[[int, bytes], bool],
) -> Run:
    driven = await drive_requests(requests, concurrency, max_seconds, ok)
    return Run(name, concurrency, driven.latencies_ms, driven.errors, driven.ended - driven.started)


def charged(status: int, body: bytes) -> bool:
    """A one-click answer that took the money (anything else counts as an error)."""
    return status == 200 and json.loads(body).get("result") == "CHARGE_SUCCESS"


def pay_succeeded(status: int, body: bytes) -> bool:
    return status == 200 and b'"resultStatus":"S"' in body


async def saved_wallet(stack: Stack) -> str:
    """Save a wallet the way a shopper does from the account page; its stored method id."""
    started = await stack.call(INIT_TOKENIZATION)
    auth_state = started["id"]
    await stack.approve(auth_state, login="85261234567")
    for _ in range(200):
        done = await stack.call(PROCESS_TOKENIZATION, id=auth_state)
        if done["result"] == "SUCCESSFULLY_TOKENIZED":
            return str(done["id"])
        await asyncio.sleep(0.05)
    raise RuntimeError("the wallet was not saved")


def one_click_requests(stack: Stack, method_id: str, count: int) -> list[Prepared]:
    prepared = []
    for _ in range(count):
        payload = stack.saleor.payload(
            INIT, amount=AMOUNT, data={"storedPaymentMethodId": method_id}
        )
        body = saleor_json(payload)
        headers = stack.saleor.webhook_headers(INIT, stack.saleor.sign(body))
        prepared.append(Prepared(stack.url(INIT.path), dict(headers), body))
    return prepared


async def access_token(settings: Settings, method_id: str) -> str:
    engine = create_engine(settings)
    try:
        async with session_factory(engine)() as session:
            from sqlmodel import col, select

            agreement = (
                await session.execute(
                    select(Agreement).where(col(Agreement.public_id) == method_id)
                )
            ).scalar_one()
        return load_key_ring(settings).decrypt(
            agreement.access_token_encrypted, ACCESS_TOKEN_PURPOSE
        )
    finally:
        await engine.dispose()


def direct_pay_requests(stack: Stack, token: str, count: int) -> list[Prepared]:
    amount = Amount.from_decimal(AMOUNT, "HKD")
    prepared = []
    for _ in range(count):
        request = PayRequest(
            payment_request_id="bench-" + secrets.token_hex(12),
            order=Order(
                order_amount=amount,
                reference_order_id=secrets.token_hex(8),
                order_description="Order",
            ),
            payment_amount=amount,
            payment_method=PaymentMethod(payment_method_type="ALIPAY_HK", payment_method_id=token),
            settlement_strategy=SettlementStrategy(settlement_currency="HKD"),
        )
        body = encode_body(request)
        headers = signed_headers(
            stack.merchant_key,
            client_id=CLIENT_ID,
            path=PAY_PATH,
            body=body,
            request_time=str(int(time.time() * 1000)),
        )
        headers["Content-Type"] = "application/json; charset=UTF-8"
        prepared.append(Prepared(stack.sandbox.url + PAY_PATH, headers, body))
    return prepared


def relay_baseline(requests: int, concurrency: int) -> tuple[float, float, float] | None:
    """bench/transport.py's httpx-aiohttp relay: (req/s, p50 ms, p99 ms)."""
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "transport.py"),
            "--modes",
            "httpx-aiohttp",
            "--requests",
            str(max(requests, concurrency)),
            "--concurrency",
            str(concurrency),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    match = re.search(r"^httpx-aiohttp\s+(\S+)\s+(\S+)\s+(\S+)", result.stdout, re.M)
    if match is None:
        return None
    return float(match.group(1)), float(match.group(2)), float(match.group(3))


async def database_work(settings: Settings, tmp: Path) -> tuple[int, int, int, int]:
    """(transactions, statements) of one one-click webhook and of its payment notification."""
    async with started_stack(settings, tmp) as stack:
        method_id = await saved_wallet(stack)
        engine = app_services(stack).engine
        payload = stack.saleor.payload(
            INIT, amount=AMOUNT, data={"storedPaymentMethodId": method_id}
        )
        with counting(engine) as work:
            response = await stack.deliver(INIT, payload)
            assert response.json()["result"] == "CHARGE_SUCCESS", response.text
            for _ in range(100):
                if any("/notify/payment" in m for m, _, _ in work.requests()):
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
        webhook = [(t, len(s)) for m, t, s in work.requests() if INIT.path in m]
        notified = [(t, len(s)) for m, t, s in work.requests() if "/notify/payment" in m]
    (wt, ws), (nt, ns) = webhook[0], notified[0] if notified else (0, 0)
    return wt, ws, nt, ns


async def run(args: argparse.Namespace, settings: Settings, tmp: Path) -> list[Run]:
    runs: list[Run] = []
    async with started_process_stack(
        settings, tmp, processes=1, workers=args.workers, sweeper_interval=1.0
    ) as (
        stack,
        _processes,
    ):
        method_id = await saved_wallet(stack)
        token = await access_token(settings, method_id)
        warm = one_click_requests(stack, method_id, 20)
        await drive("warm-up", warm, 4, args.max_seconds, charged)
        direct_warm = direct_pay_requests(stack, token, 20)
        await drive("warm-up", direct_warm, 4, args.max_seconds, pay_succeeded)
        for concurrency in (1, 32):
            count = args.requests if concurrency > 1 else max(20, args.requests // 4)
            clicks = one_click_requests(stack, method_id, count)
            direct = direct_pay_requests(stack, token, count)
            runs.append(
                await drive("direct pay", direct, concurrency, args.max_seconds, pay_succeeded)
            )
            runs.append(await drive("one-click", clicks, concurrency, args.max_seconds, charged))
            print(f"  measured at {concurrency} concurrent", flush=True)
    return runs


async def _create_database(server_url: str) -> str:
    import asyncpg

    name = "saa_bench_" + secrets.token_hex(6)
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server_url.rsplit("/", 1)[0] + "/" + name


async def _drop_database(server_url: str, url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


def settings_for(database_url: str) -> Settings:
    return Settings(
        app_env=Environment.DEVELOPMENT,
        database_url=database_url,
        encryption_key=generate_key(),
        allowed_saleor_api_urls="http://127.0.0.1:*/graphql/",
        log_level="WARNING",
        saleor_call_timeout=5.0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per run at 32")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="cap per run")
    parser.add_argument("--postgres", action="store_true", help="a fresh PostgreSQL database")
    parser.add_argument(
        "--postgres-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="the server to create it on (dropped at the end)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="`serve --workers N` (needs --postgres)"
    )
    args = parser.parse_args()
    if not 20 <= args.requests <= 20_000:
        parser.error("--requests must be between 20 and 20000")
    if args.workers != 1 and not (args.postgres and 1 <= args.workers <= 16):
        parser.error("--workers needs --postgres and must be between 1 and 16")

    os.environ.setdefault("LOG_LEVEL", "WARNING")
    with tempfile.TemporaryDirectory(prefix="oneclick-") as folder:
        tmp = Path(folder)
        if args.postgres:
            urls = [asyncio.run(_create_database(args.postgres_url)) for _ in range(2)]
            database_urls = [u.replace("postgresql://", "postgresql+asyncpg://", 1) for u in urls]
        else:
            urls = []
            database_urls = [
                f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
                f"sqlite+aiosqlite:///{tmp / 'count.db'}",
            ]
        try:
            kind = "PostgreSQL" if args.postgres else "SQLite"
            print(
                f"one-click benchmark on {kind}: the app as a `serve --workers {args.workers}` "
                "process, the sandbox and the "
                f"Saleor double in this process; {os.cpu_count()} CPU(s)",
                flush=True,
            )
            runs = asyncio.run(run(args, settings_for(database_urls[0]), tmp))
            count_tmp = tmp / "count"
            count_tmp.mkdir()
            wt, ws, nt, ns = asyncio.run(database_work(settings_for(database_urls[1]), count_tmp))
        finally:
            for url in urls:
                asyncio.run(_drop_database(args.postgres_url, url))
    relays = {
        c: relay_baseline(args.requests if c > 1 else max(20, args.requests // 4), c)
        for c in (1, 32)
    }

    print()
    columns = ("run", "conc.", "req/s", "p50 ms", "p99 ms", ">2 s", "errors", "vs direct")
    widths = (-14, 6, 9, 9, 9, 6, 8, 11)
    print(
        "".join(
            f"{c:<{-w}}" if w < 0 else f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)
        )
    )
    for concurrency in (1, 32):
        direct = next(r for r in runs if r.name == "direct pay" and r.concurrency == concurrency)
        for r in (r for r in runs if r.concurrency == concurrency):
            ratio = f"{r.rps / direct.rps:.2f}x" if direct.rps else "n/a"
            print(
                f"{r.name:<14}{concurrency:>6}{r.rps:>9.1f}{r.percentile(0.5):>9.1f}"
                f"{r.percentile(0.99):>9.1f}{r.slow:>6}{r.errors:>8}{ratio:>11}"
            )
        relay = relays[concurrency]
        if relay is not None:
            rps, p50, p99 = relay
            print(f"{'relay (hop)':<14}{concurrency:>6}{rps:>9.1f}{p50:>9.1f}{p99:>9.1f}")
    print()
    print(f"database work of one one-click webhook: {wt} transactions, {ws} statements")
    print(f"and of the payment notification that follows: {nt} transactions, {ns} statements")
    if any(not r.latencies_ms for r in runs):
        sys.exit(1)


if __name__ == "__main__":
    main()
