"""Reconciliation benchmark: a 1,000,000-row transactionItems report against as many payments and
refunds in SQLite, reconciled by the app, beside a baseline that only parses the same file with
Python's csv module. See bench/README.md.

    .venv/bin/python bench/reconcile.py [--rows 1000000] [--refund-share 0.1] [--keep DIR]

Each measured phase runs in a child process of its own, so that its peak memory (VmHWM) is
its own: the baseline (csv.reader over the file, counting rows) and the reconciliation
(`reconciliation.service.run`: stream and validate in chunks, stage each batch in the database,
match and store it set-based in SQL, then reconcile the day: missing-at-Antom search, totals,
counts).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DAY = date(2026, 11, 26)
CURRENCY = "HKD"


def _peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM belongs to the process image (reset by exec);
    ru_maxrss would also count the parent's memory at fork time."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


# -- generating the data ------------------------------------------------------------------------


def _payment_request_id(n: int) -> str:
    return f"saa-bench-{n:010d}-1"


def _amount_minor(n: int) -> int:
    return 100 + (n * 7919) % 999_900  # HKD 1.00 .. 10,000.00


def generate(folder: Path, rows: int, refund_share: float) -> tuple[str, Path]:
    """The app's database (migrated, with `rows` matching payments/refunds) and the report."""
    from saleor_alipay_app.config import Settings
    from saleor_alipay_app.db import migrate
    from saleor_alipay_app.sandbox.reports import TRANSACTION_ITEM_COLUMNS

    database = folder / "bench.db"
    url = f"sqlite+aiosqlite:///{database}"
    migrate(Settings(database_url=url, encryption_key="A" * 43 + "="))

    refunds = int(rows * refund_share)
    payments = rows - refunds
    started = time.monotonic()
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    with connection:
        connection.execute(
            "INSERT INTO installation (id, saleor_api_url, saleor_domain, app_id, "
            "app_token_encrypted, jwks, installed_at, updated_at) "
            "VALUES (1, 'http://127.0.0.1:1/graphql/', '127.0.0.1:1', 'QXBwOjE=', 'x', "
            "'{\"keys\":[]}', ?, ?)",
            (now, now),
        )
        connection.execute(
            "INSERT INTO channel_config (id, installation_id, channel_slug, public_id, client_id, "
            "merchant_private_key_encrypted, antom_public_key, region, base_url, sandbox, "
            "enabled_wallets, created_at, updated_at) VALUES (1, 1, 'hk-web', 'cfg_bench', "
            "'SANDBOX_BENCH', 'x', 'x', 'asia', 'https://127.0.0.1:1', 1, '[\"ALIPAY_HK\"]', ?, ?)",
            (now, now),
        )
        # Noon UTC+8 on DAY is 04:00 UTC: every payment and refund falls on DAY at Antom.
        paid_at = datetime(2026, 11, 26, 4, 0, 0)

        def payment_rows() -> Any:
            for n in range(1, payments + 1):
                at = (paid_at + timedelta(milliseconds=n)).isoformat(sep=" ")
                minor = _amount_minor(n)
                yield (
                    n, 1, 1, "hk-web", f"VHJhbnNhY3Rpb246{n}", 1, _payment_request_id(n),
                    f"2026112619400000{n:010d}", "ALIPAY_HK", CURRENCY,
                    f"{minor / 100:.2f}", minor, "SUCCEEDED", 0, at, at, at,
                )  # fmt: skip

        connection.executemany(
            "INSERT INTO payment (id, installation_id, channel_config_id, channel_slug, "
            "saleor_transaction_id, attempt, payment_request_id, antom_payment_id, wallet, "
            "currency, amount, amount_minor, status, inquiry_count, paid_at, created_at, "
            "updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            payment_rows(),
        )

        def refund_rows() -> Any:
            for n in range(1, refunds + 1):
                at = (paid_at + timedelta(seconds=1, milliseconds=n)).isoformat(sep=" ")
                minor = _amount_minor(n) // 2
                yield (
                    n, n, 1, f"key-{n}", f"{_payment_request_id(n)}-r1",
                    f"2026112619500000{n:010d}", CURRENCY, f"{minor / 100:.2f}", minor,
                    "SUCCEEDED", 0, at, at,
                )  # fmt: skip

        connection.executemany(
            "INSERT INTO refund (id, payment_id, installation_id, saleor_request_key, "
            "refund_request_id, antom_refund_id, currency, amount, amount_minor, status, "
            "inquiry_count, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            refund_rows(),
        )
    connection.close()
    print(f"  database: {payments:,} payments, {refunds:,} refunds in "
          f"{time.monotonic() - started:.1f} s", flush=True)  # fmt: skip

    started = time.monotonic()
    report = folder / f"transactionItems_{DAY:%Y%m%d}_000.csv"
    fixed = {
        "customerId": "1022188000000000001",
        "acquirer": "ALIPAY",
        "referenceMerchantId": "bench",
        "orderDescription": "Order",
        "paymentMethodType": "ALIPAY_HK",
        "pspName": "ALIPAY_HK",
        "productCode": "AGREEMENT_PAYMENT",
        "transactionCurrency": CURRENCY,
    }
    varying = (
        "transactionId", "originalTransactionId", "transactionRequestId",
        "referenceTransactionId", "transactionType", "paymentTime", "transactionAmountValue",
        "originalTransactionRequestId",
    )  # fmt: skip
    # One line template: the fixed columns written in, the varying ones as {0}..{7}.
    template = (
        ",".join(
            f"{{{varying.index(c)}}}" if c in varying else fixed.get(c, "")
            for c in TRANSACTION_ITEM_COLUMNS
        )
        + "\n"
    )
    with report.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(TRANSACTION_ITEM_COLUMNS) + "\n")
        write = handle.write
        for n in range(1, payments + 1):
            request_id = _payment_request_id(n)
            minor = _amount_minor(n)
            write(
                template.format(
                    f"2026112619400000{n:010d}", "", request_id, f"order-{n}", "PAYMENT",
                    f"2026-11-26T12:00:{n % 60:02d}+08:00", f"{minor // 100}.{minor % 100:02d}",
                    "",
                )
            )  # fmt: skip
            if n <= refunds:
                half = minor // 2
                write(
                    template.format(
                        f"2026112619500000{n:010d}", f"2026112619400000{n:010d}",
                        f"{request_id}-r1", f"order-{n}", "REFUND",
                        f"2026-11-26T12:00:{n % 60:02d}+08:00",
                        f"-{half // 100}.{half % 100:02d}", request_id,
                    )
                )  # fmt: skip
        write("<END>\n")
    size = report.stat().st_size
    print(f"  report: {rows:,} rows, {size / 1e6:.0f} MB in "
          f"{time.monotonic() - started:.1f} s", flush=True)  # fmt: skip
    return url, report


# -- the measured phases (each in its own process) ---------------------------------------------


def phase_baseline(report: Path) -> dict[str, Any]:
    started = time.perf_counter()
    count = 0
    with report.open("r", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            if row == ["<END>"]:
                break
            count += 1
    seconds = time.perf_counter() - started
    return {"rows": count, "seconds": seconds, "peak_mb": _peak_rss_mb()}


def phase_reconcile(url: str, report: Path) -> dict[str, Any]:
    import saleor_alipay_app.models  # noqa: F401 - every table in the metadata
    from saleor_alipay_app.config import Settings
    from saleor_alipay_app.db import create_engine, session_factory
    from saleor_alipay_app.reconciliation import schemas, service

    async def work() -> dict[str, Any]:
        engine = create_engine(Settings(database_url=url, encryption_key="A" * 43 + "="))
        sessions = session_factory(engine)
        try:
            started = time.perf_counter()
            result = await service.run(sessions, 1, DAY, [report])
            seconds = time.perf_counter() - started
        finally:
            await engine.dispose()
        assert not result.errors, result.errors
        record = result.record
        assert record is not None
        return {
            "rows": result.imports[0].rows,
            "seconds": seconds,
            "peak_mb": _peak_rss_mb(),
            "status": record.status.value,
            "counts": schemas.counts_of(record),
        }

    return asyncio.run(work())


def phase_floor(url: str) -> dict[str, Any]:
    """The reconciling process at rest: the same imports and an engine that has connected."""
    import saleor_alipay_app.models  # noqa: F401 - every table in the metadata
    from saleor_alipay_app.config import Settings
    from saleor_alipay_app.db import create_engine, ping
    from saleor_alipay_app.reconciliation import service  # noqa: F401

    async def work() -> None:
        engine = create_engine(Settings(database_url=url, encryption_key="A" * 43 + "="))
        try:
            await ping(engine)
        finally:
            await engine.dispose()

    asyncio.run(work())
    return {"peak_mb": _peak_rss_mb()}


def _child(phase: str, *args: str) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--phase", phase, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if output.returncode != 0:
        sys.stderr.write(output.stdout + output.stderr)
        raise SystemExit(f"the {phase} phase failed")
    result: dict[str, Any] = json.loads(output.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--refund-share", type=float, default=0.1)
    parser.add_argument("--keep", type=Path, help="keep the database and report in this folder")
    parser.add_argument(
        "--phase", choices=["baseline", "reconcile", "floor"], help=argparse.SUPPRESS
    )
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase == "baseline":
        print(json.dumps(phase_baseline(args.report)))
        return
    if args.phase == "reconcile":
        print(json.dumps(phase_reconcile(args.url, args.report)))
        return
    if args.phase == "floor":
        print(json.dumps(phase_floor(args.url)))
        return

    if args.rows < 10:
        parser.error("--rows must be at least 10")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-reconcile-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(
        f"reconciliation benchmark: {args.rows:,} transactionItems rows "
        f"({args.refund_share:.0%} refunds), SQLite, {os.cpu_count()} CPU(s)",
        flush=True,
    )
    try:
        url, report = generate(folder, args.rows, args.refund_share)
        baseline = _child("baseline", "--report", str(report))
        print(f"  measured baseline: {baseline['rows']:,} rows", flush=True)
        floor = _child("floor", "--url", url)
        measured = _child("reconcile", "--url", url, "--report", str(report))
        print(
            f"  measured reconcile: {measured['rows']:,} rows, day {measured['status']}, "
            f"{measured['counts']}",
            flush=True,
        )
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    assert measured["rows"] == baseline["rows"] == args.rows
    assert measured["status"] == "MATCHED", measured
    print()
    print(f"{'':34}{'rows/s':>10}{'seconds':>10}{'peak MB':>10}")
    for label, data in (
        ("baseline: csv.reader only", baseline),
        ("reconcile (parse, match, store)", measured),
    ):
        rate = data["rows"] / data["seconds"]
        print(f"{label:34}{rate:>10,.0f}{data['seconds']:>10.1f}{data['peak_mb']:>10.0f}")
    print(f"{'  the same process at rest':34}{'':>10}{'':>10}{floor['peak_mb']:>10.0f}")
    print(
        f"ratio reconcile/baseline: {baseline['seconds'] / measured['seconds']:.2f}x the rows/s "
        f"({measured['seconds'] / baseline['seconds']:.1f}x the time), "
        f"{measured['peak_mb'] / baseline['peak_mb']:.1f}x the peak memory; the work itself "
        f"adds {measured['peak_mb'] - floor['peak_mb']:.0f} MB to the process at rest"
    )


if __name__ == "__main__":
    main()
