"""Run ASGI apps under uvicorn on loopback for end-to-end tests.

Every end-to-end test talks real HTTP: the app, the Antom sandbox and the Saleor double
each run in their own uvicorn server on 127.0.0.1 with a port chosen by the OS.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningServer:
    host: str
    port: int
    server: uvicorn.Server

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def _config(app: Any, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        access_log=False,
    )


@contextlib.asynccontextmanager
async def serve_in_loop(app: Any, port: int | None = None) -> AsyncIterator[RunningServer]:
    """Run ``app`` in the current event loop (for async tests)."""
    port = port or free_port()
    server = uvicorn.Server(_config(app, port))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped before starting")
        await asyncio.sleep(0.01)
    try:
        yield RunningServer("127.0.0.1", port, server)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


@contextlib.contextmanager
def serve_in_thread(app: Any, port: int | None = None) -> Iterator[RunningServer]:
    """Run ``app`` in a background thread with its own event loop (for sync fixtures)."""
    port = port or free_port()
    server = uvicorn.Server(_config(app, port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(1000):
        if server.started:
            break
        if not thread.is_alive():
            raise RuntimeError("server thread died before starting")
        threading.Event().wait(0.01)
    else:
        raise RuntimeError("server did not start in 10 s")
    try:
        yield RunningServer("127.0.0.1", port, server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
