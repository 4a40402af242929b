"""The Overview's aggregates at scale: a database with N payments spread over a year (a tenth
refunded, one report to Saleor each, N/5 agreements, a year of reconciliation days, a few stuck
rows), then each query of `overview.service` and the whole page's data timed, beside baselines
measured in the same run: ``SELECT count(*)`` over the payments and one indexed point lookup.

    .venv/bin/python bench/overview.py [--payments 1000000] [--postgres URL] [--runs 20]
        [--without-indexes] [--explain]

``--without-indexes`` drops migration 0006's indexes first (what they buy); ``--explain``
prints each query's plan. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WALLETS = [("ALIPAY_HK", "HKD"), ("DANA", "IDR"), ("GCASH", "PHP"), ("ALIPAY_CN", "CNY")]
CODES = ["USER_BALANCE_NOT_ENOUGH", "USER_AMOUNT_EXCEED_LIMIT", "RISK_REJECT", "ORDER_IS_CLOSED"]
SPAN_DAYS = 365
INDEXES = [
    "ix_payment_overview",
    "ix_payment_status_since",
    "ix_refund_overview",
    "ix_refund_status_since",
    "ix_agreement_overview",
    "ix_saleor_report_status_since",
]


def _rows(payments: int, now: datetime) -> dict[str, list[tuple[Any, ...]]]:
    rng = random.Random(12)
    span = SPAN_DAYS * 86400
    pay, refunds, reports = [], [], []
    for n in range(1, payments + 1):
        wallet, currency = WALLETS[n % len(WALLETS)]
        at = now - timedelta(seconds=rng.randrange(span))
        roll = rng.random()
        if n % 100_000 == 0:
            status, code = "PROCESSING", None  # stuck
        elif roll < 0.9:
            status, code = "SUCCEEDED", "SUCCESS"
        elif roll < 0.97:
            status, code = "FAILED", CODES[n % len(CODES)]
        else:
            status, code = "CANCELLED", None
        minor = 100 + (n * 7919) % 999_900
        stamp = at.replace(tzinfo=None).isoformat(sep=" ")
        pay.append(
            (n, 1, 1, "web", f"T{n}", 1, f"bench-{n:010d}", wallet, currency,
             f"{minor / 100:.2f}", minor, status, code, 0, stamp, stamp)
        )  # fmt: skip
        reports.append(
            (n, 1, f"report-{n}", f"T{n}", "CHARGE_SUCCESS", f"bench-{n:010d}",
             "PENDING" if n % 250_000 == 0 else "DONE", 1, stamp)
        )  # fmt: skip
        if status == "SUCCEEDED" and n % 10 == 0:
            r_status = "PROCESSING" if n % 200_000 == 0 else "SUCCEEDED"
            refunds.append(
                (len(refunds) + 1, n, 1, f"key-{n}", f"bench-{n:010d}-r1", currency,
                 f"{minor / 200:.2f}", minor // 2, r_status, 0, stamp, stamp)
            )  # fmt: skip
    agreements = []
    for n in range(1, payments // 5 + 1):
        at = now - timedelta(seconds=rng.randrange(span))
        ends = now + timedelta(days=rng.randrange(-30, 700))
        status = "ACTIVE" if n % 5 else "REVOKED"
        agreements.append(
            (n, f"agr-{n}", 1, 1, "web", f"user-{n}", False, WALLETS[n % 4][0], "x", f"{n:064d}",
             ends.replace(tzinfo=None).isoformat(sep=" "), status,
             at.replace(tzinfo=None).isoformat(sep=" "), at.replace(tzinfo=None).isoformat(sep=" "))
        )  # fmt: skip
    days = []
    for n in range(SPAN_DAYS):
        day = (now - timedelta(days=n)).date().isoformat()
        status = "MISMATCHED" if n % 30 == 7 else "MATCHED"
        bad = 1 if status == "MISMATCHED" else 0
        days.append((n + 1, 1, day, status, 1000, bad, 0, 0, 0, "[]", True, now))
    return {
        "payment": pay,
        "refund": refunds,
        "saleor_report": reports,
        "agreement": agreements,
        "reconciliation_day": days,
    }


COLUMNS = {
    "payment": "id, installation_id, channel_config_id, channel_slug, saleor_transaction_id, "
    "attempt, payment_request_id, wallet, currency, amount, amount_minor, status, result_code, "
    "inquiry_count, created_at, updated_at",
    "refund": "id, payment_id, installation_id, saleor_request_key, refund_request_id, currency, "
    "amount, amount_minor, status, inquiry_count, created_at, updated_at",
    "saleor_report": "id, installation_id, report_key, saleor_transaction_id, event_type, "
    "psp_reference, status, attempts, created_at",
    "agreement": "id, public_id, installation_id, channel_config_id, channel_slug, "
    "saleor_user_id, guest, wallet, access_token_encrypted, access_token_sha256, "
    "refresh_token_expires_at, status, created_at, updated_at",
    "reconciliation_day": "id, installation_id, day, status, matched, mismatched, missing_here, "
    "missing_at_antom, other, currencies, has_transaction_report, imported_at",
}
SETUP = [
    "INSERT INTO installation (id, saleor_api_url, saleor_domain, app_id, app_token_encrypted, "
    "jwks, installed_at, updated_at) VALUES (1, 'http://127.0.0.1:1/graphql/', '127.0.0.1:1', "
    "'QXBwOjE=', 'x', '{\"keys\":[]}', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    "INSERT INTO channel_config (id, installation_id, channel_slug, public_id, client_id, "
    "merchant_private_key_encrypted, antom_public_key, region, base_url, sandbox, "
    "enabled_wallets, created_at, updated_at) VALUES (1, 1, 'web', 'cfg_bench', 'SANDBOX_BENCH', "
    "'x', 'x', 'asia', 'https://127.0.0.1:1', true, '[\"ALIPAY_HK\"]', '2026-01-01 00:00:00', "
    "'2026-01-01 00:00:00')",
]


def build_sqlite(path: Path, data: dict[str, list[tuple[Any, ...]]]) -> None:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    with connection:
        for statement in SETUP:
            connection.execute(statement.replace("true", "1"))
        for table, rows in data.items():
            if table == "reconciliation_day":
                rows = [(*r[:-1], r[-1].replace(tzinfo=None).isoformat(sep=" ")) for r in rows]
            marks = ",".join("?" * len(rows[0]))
            connection.executemany(
                f"INSERT INTO {table} ({COLUMNS[table]}) VALUES ({marks})",
                rows,
            )
    connection.execute("ANALYZE")
    connection.close()


async def build_postgres(url: str, data: dict[str, list[tuple[Any, ...]]]) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        for statement in SETUP:
            await conn.execute(statement)
        for table, rows in data.items():
            types = await conn.fetch(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = $1",
                table,
            )
            kinds = {r["column_name"]: r["data_type"] for r in types}
            names = [c.strip() for c in COLUMNS[table].split(",")]
            buffer = io.StringIO()
            for row in rows:
                cells = []
                for name, value in zip(names, row, strict=True):
                    if isinstance(value, datetime):
                        value = value.isoformat()
                    elif kinds[name].startswith("timestamp") and isinstance(value, str):
                        value = value + "+00"
                    cells.append(str(value).lower() if isinstance(value, bool) else str(value))
                buffer.write("\t".join(c if c != "None" else "\\N" for c in cells) + "\n")
            await conn.copy_to_table(
                table, source=io.BytesIO(buffer.getvalue().encode()), columns=names
            )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def timed(fn: Callable[[], Awaitable[Any]], runs: int) -> float:
    await fn()  # warm: the pages in the cache, the statement prepared
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def measure(url: str, runs: int, explain: bool) -> list[tuple[str, float]]:
    from sqlalchemy import text

    from saleor_alipay_app.agreements.repository import AgreementRepository
    from saleor_alipay_app.config import Settings
    from saleor_alipay_app.db import create_engine, session_factory, utcnow
    from saleor_alipay_app.overview import service
    from saleor_alipay_app.payments.repository import PaymentsRepository
    from saleor_alipay_app.reconciliation.repository import ReconciliationRepository

    engine = create_engine(Settings(database_url=url, encryption_key="A" * 43 + "="))
    sessions = session_factory(engine)
    now = utcnow()
    since = service.window_start(now, 30)
    stuck = now - service.STUCK_AFTER
    limit = service.ATTENTION_LIMIT
    results: list[tuple[str, float]] = []
    async with sessions() as session:
        payments = PaymentsRepository(session)
        queries: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            (
                "baseline: SELECT count(*) FROM payment",
                lambda: session.execute(text("SELECT count(*) FROM payment")),
            ),
            (
                "baseline: one payment by paymentRequestId",
                lambda: payments.payment_by_request_id("bench-0000500000"),
            ),
            ("payment groups (day, currency, wallet, status, code)",
             lambda: payments.payment_groups(1, since)),
            ("refund groups (currency, status)", lambda: payments.refund_groups(1, since)),
            ("agreements per status + expiring",
             lambda: AgreementRepository(session).status_counts(1, now + timedelta(days=30))),
            ("stuck payments", lambda: payments.stuck_payments(1, stuck, limit)),
            ("stuck refunds", lambda: payments.stuck_refunds(1, stuck, limit)),
            ("unconfirmed reports", lambda: payments.unconfirmed_reports(1, stuck, since, limit)),
            ("mismatched days",
             lambda: ReconciliationRepository(session).mismatched_days(1, limit)),
            ("all the aggregates (one session)",
             lambda: service.gather_in(session, 1, 30, now)),
        ]  # fmt: skip
        for name, fn in queries:
            results.append((name, await timed(fn, runs)))
        found = await service.gather_in(session, 1, 30, now)
        shaping = await timed(_async(lambda: service.shape(found, 30, "en")), runs)
        results.append(("charts and shaping (pygal)", shaping))
    whole = await timed(lambda: service.overview(sessions, 1), runs)
    results.append(("the whole overview (API's work)", whole))
    if explain:
        await _explain(engine, now, since, stuck)
    await engine.dispose()
    return results


def _async(fn: Callable[[], Any]) -> Callable[[], Awaitable[Any]]:
    async def call() -> Any:
        return fn()

    return call


async def _explain(engine: Any, now: datetime, since: datetime, stuck: datetime) -> None:
    """Each aggregate's plan, compiled from the repository's own statement."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from saleor_alipay_app.agreements.repository import AgreementRepository
    from saleor_alipay_app.payments.repository import PaymentsRepository

    captured: list[Any] = []

    class Capture(AsyncSession):
        async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
            captured.append(statement)
            return await super().execute(statement, *args, **kwargs)

    async with Capture(engine) as session:
        await PaymentsRepository(session).payment_groups(1, since)
        await PaymentsRepository(session).refund_groups(1, since)
        await AgreementRepository(session).status_counts(1, now + timedelta(days=30))
        await PaymentsRepository(session).stuck_payments(1, stuck, 20)
        await PaymentsRepository(session).unconfirmed_reports(1, stuck, since, 20)
        dialect = engine.dialect
        prefix = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN "
        for statement in list(captured):
            compiled = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
            sql = str(compiled)
            plan = await session.execute(__import__("sqlalchemy").text(prefix + sql))
            print("\n" + sql.splitlines()[0][:90] + " ...")
            for row in plan.all():
                print("   ", row[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres", metavar="URL", help="postgresql://... (a fresh database is made)"
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--without-indexes", action="store_true")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()

    from saleor_alipay_app.config import Settings
    from saleor_alipay_app.db import migrate

    now = datetime.now(UTC)
    started = time.monotonic()
    data = _rows(args.payments, now)
    took = time.monotonic() - started
    print(f"generated {args.payments:,} payments, {len(data['refund']):,} refunds, "
          f"{len(data['agreement']):,} agreements in {took:.1f} s", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        if args.postgres:
            url, drop = asyncio.run(_fresh_postgres(args.postgres))
        else:
            url, drop = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", None
        try:
            migrate(Settings(database_url=url, encryption_key="A" * 43 + "="))
            started = time.monotonic()
            if args.postgres:
                asyncio.run(build_postgres(url.replace("+asyncpg", ""), data))
            else:
                build_sqlite(Path(folder) / "bench.db", data)
            print(f"loaded in {time.monotonic() - started:.1f} s", flush=True)
            if args.without_indexes:
                asyncio.run(_drop_indexes(url))
            del data
            results = asyncio.run(measure(url, args.runs, args.explain))
        finally:
            if drop is not None:
                asyncio.run(drop())
    base = results[0][1]
    backend = "PostgreSQL" if args.postgres else "SQLite"
    indexes = "without" if args.without_indexes else "with"
    print(f"\n{backend}, {args.payments:,} payments, {indexes} migration 0006's indexes; "
          f"median of {args.runs} runs\n")  # fmt: skip
    print(f"| {'query':<55} | {'ms':>8} | {'x count(*)':>10} |")
    print(f"|{'-' * 57}|{'-' * 10}:|{'-' * 11}:|")
    for name, ms in results:
        print(f"| {name:<55} | {ms:>8.2f} | {ms / base:>10.3f} |")


async def _drop_indexes(url: str) -> None:
    from sqlalchemy import text

    from saleor_alipay_app.config import Settings
    from saleor_alipay_app.db import create_engine

    engine = create_engine(Settings(database_url=url, encryption_key="A" * 43 + "="))
    async with engine.begin() as conn:
        for name in INDEXES:
            await conn.execute(text(f"DROP INDEX {name}"))
        await conn.execute(text("ANALYZE"))
    await engine.dispose()


async def _fresh_postgres(server: str) -> tuple[str, Callable[[], Awaitable[None]]]:
    import asyncpg

    name = f"bench_overview_{int(time.time())}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    base = server.rsplit("/", 1)[0]

    async def drop() -> None:
        conn = await asyncpg.connect(server)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    return f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}", drop


if __name__ == "__main__":
    main()
