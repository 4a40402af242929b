"""Fetching a day's reports from Antom's SFTP server (API.md §13), with asyncssh.

Antom keeps the files about 7 days in ``/v1/settlements/<merchantIdByAcquirer>/<yyyyMMdd>/``
(``RECONCILIATION_SFTP_DIRECTORY`` names the part before the day). Files are copied to a local
folder chunk by chunk (memory does not grow with their size) and imported from there. Files
still uploading (``.tmp``) are left alone. The server's host key must be in
``RECONCILIATION_SFTP_KNOWN_HOSTS``: an SFTP session is never opened to an unverified host.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import asyncssh

from saleor_alipay_app.config import Settings
from saleor_alipay_app.reconciliation.parser import kind_from_name

CONNECT_TIMEOUT = 30.0


class SftpError(Exception):
    """The SFTP server could not be used; the message says what to fix."""


@dataclass(frozen=True)
class SftpSettings:
    host: str
    port: int
    username: str
    password: str | None
    private_key_file: str | None
    known_hosts: str
    directory: str

    @classmethod
    def from_settings(cls, settings: Settings) -> SftpSettings:
        missing = [
            name
            for name, value in (
                ("RECONCILIATION_SFTP_HOST", settings.reconciliation_sftp_host),
                ("RECONCILIATION_SFTP_USERNAME", settings.reconciliation_sftp_username),
                ("RECONCILIATION_SFTP_KNOWN_HOSTS", settings.reconciliation_sftp_known_hosts),
            )
            if not value
        ]
        if not (
            settings.reconciliation_sftp_password or settings.reconciliation_sftp_private_key_file
        ):
            missing.append("RECONCILIATION_SFTP_PASSWORD or RECONCILIATION_SFTP_PRIVATE_KEY_FILE")
        if missing:
            raise SftpError("SFTP is not configured: set " + ", ".join(missing))
        assert settings.reconciliation_sftp_host is not None
        assert settings.reconciliation_sftp_username is not None
        assert settings.reconciliation_sftp_known_hosts is not None
        return cls(
            host=settings.reconciliation_sftp_host,
            port=settings.reconciliation_sftp_port,
            username=settings.reconciliation_sftp_username,
            password=settings.reconciliation_sftp_password,
            private_key_file=settings.reconciliation_sftp_private_key_file,
            known_hosts=settings.reconciliation_sftp_known_hosts,
            directory=settings.reconciliation_sftp_directory.rstrip("/") or "/",
        )


async def download_reports(config: SftpSettings, day: date, target: Path) -> list[str]:
    """Copy the reports of ``day`` into the existing folder ``target``; returns notes on what
    was skipped."""
    notes: list[str] = []
    remote = f"{config.directory.rstrip('/')}/{day:%Y%m%d}"
    try:
        async with (
            asyncssh.connect(
                config.host,
                port=config.port,
                username=config.username,
                password=config.password,
                client_keys=[config.private_key_file] if config.private_key_file else None,
                known_hosts=config.known_hosts,
                connect_timeout=CONNECT_TIMEOUT,
            ) as connection,
            connection.start_sftp_client() as sftp,
        ):
            if not await sftp.isdir(remote):
                notes.append(f"no folder {remote} on {config.host}: no reports for {day}")
                return notes
            for name in sorted(await sftp.listdir(remote)):
                if name in (".", "..") or kind_from_name(name) is None:
                    continue
                if name.endswith(".tmp"):
                    notes.append(f"{name}: still uploading (.tmp), skipped")
                    continue
                await sftp.get(f"{remote}/{name}", str(target / name))
    except (OSError, asyncssh.Error) as exc:
        raise SftpError(
            f"SFTP {config.username}@{config.host}:{config.port}: {type(exc).__name__}: {exc}"
        ) from None
    return notes
