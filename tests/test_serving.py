"""Serving: `serve --workers N`, the database pool without a ping per checkout, and one sweeper
round at a time across the processes sharing a database."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.exc import DisconnectionError
from typer.testing import CliRunner

from saleor_alipay_app.cli import app as cli
from saleor_alipay_app.config import Settings
from saleor_alipay_app.db import (
    _refuse_closed_connection,
    create_engine,
    exclusive,
    session_factory,
)
from saleor_alipay_app.payments.sweeper import SWEEPER_LOCK, Sweeper
from saleor_alipay_app.saleor.events import SyncEvent
from tests.conftest import POSTGRES
from tests.support.stack import (
    deliver_to,
    one_click_payload,
    qr_purchase,
    sandbox_payments,
    started_process_stack,
    started_stack,
    stored_method_id,
)

INIT = SyncEvent.TRANSACTION_INITIALIZE_SESSION


class _Driver:
    def __init__(self, closed: bool) -> None:
        self.closed = closed

    def is_closed(self) -> bool:
        return self.closed


class _Adapted:
    def __init__(self, closed: bool) -> None:
        self.driver_connection = _Driver(closed)


def test_a_connection_the_server_closed_is_replaced_at_checkout() -> None:
    """The pool's checkout hook asks the driver, not the server: a closed connection is
    discarded (the pool then opens another), an open one is handed out as it is."""
    with pytest.raises(DisconnectionError):
        _refuse_closed_connection(_Adapted(closed=True), None, None)
    _refuse_closed_connection(_Adapted(closed=False), None, None)


def test_workers_need_postgresql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli,
        ["serve", "--workers", "2"],
        env={"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "APP_ENV": "development"},
    )
    assert result.exit_code == 2, result.output
    assert "needs PostgreSQL" in result.output
    assert not (tmp_path / "app.db").exists()


async def test_one_process_sweeps_at_a_time(settings: Settings) -> None:
    engine = create_engine(settings)
    sessions = session_factory(engine)
    try:
        async with exclusive(sessions, SWEEPER_LOCK) as first:
            assert first
            async with exclusive(sessions, SWEEPER_LOCK) as second:
                # On PostgreSQL the second holder is another connection, as another process
                # would be; SQLite serves one process, which always holds it.
                assert second is not POSTGRES
        async with exclusive(sessions, SWEEPER_LOCK) as again:
            assert again
    finally:
        await engine.dispose()


class _CountingSweeper(Sweeper):
    rounds = 0

    async def sweep_once(self) -> None:
        self.rounds += 1


async def test_a_sweeper_skips_its_round_while_another_process_sweeps(settings: Settings) -> None:
    engine = create_engine(settings)
    sessions = session_factory(engine)
    deps: Any = type("Deps", (), {"sessions": sessions})()
    sweeper = _CountingSweeper(deps, interval=0.02)
    try:
        async with exclusive(sessions, SWEEPER_LOCK):
            sweeper.start()
            await asyncio.sleep(0.3)
            held_rounds = sweeper.rounds
        await asyncio.sleep(0.3)
        assert held_rounds == (0 if POSTGRES else held_rounds)
        assert sweeper.rounds > held_rounds
    finally:
        await sweeper.stop()
        await engine.dispose()


async def test_payments_go_on_after_the_database_drops_every_connection(
    postgres_settings: Settings, tmp_path: Path
) -> None:
    """No ping per checkout: connections the server closed while idle in the pool (a restart,
    an idle timeout, `pg_terminate_backend`) are replaced, and the next payment is paid."""
    settings = postgres_settings  # PostgreSQL in every run (tests/conftest.py)
    # No sweeper: its round would meet a dropped connection first and clear the pool for us.
    async with started_stack(settings, tmp_path, sweeper_interval=0) as stack:
        await qr_purchase(stack)
        method_id = await stored_method_id(stack)
        url = settings.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        killer = await asyncpg.connect(url)
        try:
            dropped = await killer.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await killer.close()
        assert dropped > 0
        await asyncio.sleep(0.2)
        for amount in (Decimal("12.00"), Decimal("13.00")):
            body = await stack.call(INIT, amount=amount, data={"storedPaymentMethodId": method_id})
            assert body["result"] == "CHARGE_SUCCESS", body


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


async def test_serve_with_two_workers(postgres_settings: Settings, tmp_path: Path) -> None:
    """`serve --workers 2`: two worker processes on one port, migrations applied once by the
    parent; payments through either are paid once each."""
    settings = postgres_settings  # PostgreSQL in every run (tests/conftest.py)
    async with started_process_stack(settings, tmp_path, processes=1, workers=2) as (
        stack,
        [server],
    ):
        assert len(_children(server.process.pid)) >= 2, server.log_tail()
        await qr_purchase(stack)
        method_id = await stored_method_id(stack)
        payloads = [one_click_payload(stack, method_id, Decimal(f"{n}.50")) for n in range(1, 9)]
        bodies = await asyncio.gather(*(deliver_to(stack, server, INIT, p) for p in payloads))
        for body in bodies:
            assert body["result"] == "CHARGE_SUCCESS", body
            [paid] = await sandbox_payments(stack, body["pspReference"])
            assert paid["payRequests"] == 1
        # Metrics: every scrape, whichever worker answers it, counts the webhooks of both
        # (prometheus-client's multiprocess mode, set up by `serve`), and shows each worker's
        # process metrics.
        counts = set()
        for _ in range(8):
            response = await stack.http.get(server.url + "/metrics")
            assert response.status_code == 200, response.text
            families = {f.name: f for f in text_string_to_metric_families(response.text)}
            webhooks = families["saleor_alipay_webhook_duration_seconds"].samples
            counts.add(
                sum(
                    s.value
                    for s in webhooks
                    if s.name.endswith("_count") and s.labels["result"] == "CHARGE_SUCCESS"
                )
            )
            memory = families["process_resident_memory_bytes"].samples
            assert len({s.labels["pid"] for s in memory}) >= 2, memory
        assert counts == {8}, counts
