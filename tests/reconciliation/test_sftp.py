"""`reconcile --sftp`: the day's reports fetched from an SFTP server (asyncssh, on loopback,
laid out like Antom's: /v1/settlements/<merchant>/<yyyyMMdd>/), files still uploading left
alone, and the host key checked against RECONCILIATION_SFTP_KNOWN_HOSTS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import asyncssh
import pytest
from typer.testing import CliRunner, Result

from saleor_alipay_app.cli import app as cli_app
from saleor_alipay_app.config import Settings
from saleor_alipay_app.reconciliation import schemas, service
from tests.reconciliation.conftest import TRANSACTION_ITEM_COLUMNS, Db, csv_text

DAY = date(2026, 11, 26)
DIRECTORY = "/v1/settlements/1022188000000000001"


@dataclass
class SftpServer:
    port: int
    root: Path
    known_hosts: Path
    client_key: Path


@pytest.fixture
async def sftp_server(tmp_path: Path) -> AsyncIterator[SftpServer]:
    root = tmp_path / "sftp-root"
    root.mkdir()
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key_file = tmp_path / "client_key"
    client_key.write_private_key(str(client_key_file))
    server = await asyncssh.listen(
        "127.0.0.1",
        0,
        server_host_keys=[host_key],
        authorized_client_keys=asyncssh.import_authorized_keys(
            client_key.export_public_key().decode()
        ),
        sftp_factory=lambda channel: asyncssh.SFTPServer(channel, chroot=str(root)),
    )
    port = server.sockets[0].getsockname()[1]
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_key.export_public_key().decode()}")
    try:
        yield SftpServer(port, root, known_hosts, client_key_file)
    finally:
        server.close()
        await server.wait_closed()


async def run_cli(
    db_settings: Settings, server: SftpServer, monkeypatch: pytest.MonkeyPatch, **extra: str
) -> Result:
    env = {
        "DATABASE_URL": db_settings.database_url,
        "ENCRYPTION_KEY": db_settings.encryption_key or "",
        "LOG_LEVEL": "WARNING",
        "RECONCILIATION_SFTP_HOST": "127.0.0.1",
        "RECONCILIATION_SFTP_PORT": str(server.port),
        "RECONCILIATION_SFTP_USERNAME": "merchant",
        "RECONCILIATION_SFTP_PRIVATE_KEY_FILE": str(server.client_key),
        "RECONCILIATION_SFTP_KNOWN_HOSTS": str(server.known_hosts),
        "RECONCILIATION_SFTP_DIRECTORY": DIRECTORY,
        **extra,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return await asyncio.to_thread(
        CliRunner().invoke, cli_app, ["reconcile", "--date", DAY.isoformat(), "--sftp"]
    )


def report(rows: int) -> str:
    return csv_text(
        TRANSACTION_ITEM_COLUMNS,
        [
            {
                "transactionId": f"t-{n}",
                "transactionRequestId": f"saa-elsewhere-{n}",
                "transactionType": "PAYMENT",
                "transactionAmountValue": "10.00",
                "transactionCurrency": "HKD",
            }
            for n in range(1, rows + 1)
        ],
    )


async def test_reports_are_fetched_from_sftp(
    db: Db, settings: Settings, sftp_server: SftpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = sftp_server.root / DIRECTORY.lstrip("/") / f"{DAY:%Y%m%d}"
    folder.mkdir(parents=True)
    (folder / f"transactionItems_{DAY:%Y%m%d}_000.csv").write_text(report(3))
    (folder / f"transactionItems_{DAY:%Y%m%d}_001.csv.tmp").write_text(report(1)[:30])

    result = await run_cli(settings, sftp_server, monkeypatch)
    # Three payments Antom has and we do not: the day does not match.
    assert result.exit_code == 1, result.output
    assert f"transactionItems_{DAY:%Y%m%d}_000.csv  transactionItems  imported  3" in (
        result.output
    )
    assert (
        f"note: transactionItems_{DAY:%Y%m%d}_001.csv.tmp: still uploading (.tmp), skipped"
        in result.output
    )
    found = await service.day_detail(db.sessions, db.installation_id, DAY)
    assert found is not None
    detail = schemas.describe_day_detail(found)
    assert detail["counts"]["missingHere"] == 3
    assert [r["transactionRequestId"] for r in detail["rows"]] == [
        "saa-elsewhere-1",
        "saa-elsewhere-2",
        "saa-elsewhere-3",
    ]

    # A day without a folder on the server: nothing to import, nothing of ours that day.
    empty = await asyncio.to_thread(
        CliRunner().invoke, cli_app, ["reconcile", "--date", "2026-11-20", "--sftp"]
    )
    assert empty.exit_code == 0, empty.output
    assert f"note: no folder {DIRECTORY}/20261120 on 127.0.0.1" in empty.output


async def test_an_unknown_host_key_is_refused(
    db: Db,
    settings: Settings,
    sftp_server: SftpServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519")
    wrong = tmp_path / "wrong_known_hosts"
    wrong.write_text(f"[127.0.0.1]:{sftp_server.port} {other.export_public_key().decode()}")
    result = await run_cli(
        settings, sftp_server, monkeypatch, RECONCILIATION_SFTP_KNOWN_HOSTS=str(wrong)
    )
    assert result.exit_code == 2
    assert "SFTP merchant@127.0.0.1" in result.output
    assert "HostKeyNotVerifiable" in result.output


async def test_sftp_settings_are_required(
    db: Db, settings: Settings, sftp_server: SftpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RECONCILIATION_SFTP_KNOWN_HOSTS", raising=False)
    result = await run_cli(settings, sftp_server, monkeypatch, RECONCILIATION_SFTP_KNOWN_HOSTS="")
    assert result.exit_code == 2
    assert "SFTP is not configured: set RECONCILIATION_SFTP_KNOWN_HOSTS" in result.output
