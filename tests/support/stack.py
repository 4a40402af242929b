"""The whole product on loopback: the Saleor double, the app and the Antom sandbox, each under
uvicorn, talking real HTTP to one another.

`Stack.started(settings)` installs the app into the double, configures the channel `hk-web`
with a merchant key registered at the sandbox, and hands tests helpers to play Saleor (deliver
webhooks) and the shopper (approve in the wallet).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, cast

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from saleor_alipay_app.antom.keys import generate_private_key, private_key_pem, public_key_pem
from saleor_alipay_app.channels.cli import configure_channels
from saleor_alipay_app.composition import open_services
from saleor_alipay_app.config import Settings
from saleor_alipay_app.db import create_engine, session_factory
from saleor_alipay_app.saleor.events import SyncEvent
from saleor_alipay_app.sandbox import MerchantConfig, SandboxConfig, create_sandbox_app
from saleor_alipay_app.web import create_app
from tests.support.db_work import RequestTagging
from tests.support.saleor_double import SaleorDouble, saleor_json
from tests.support.servers import RunningServer, free_port, serve_in_loop

CLIENT_ID = "SANDBOX_5Y00000000000042"

_KEYS: dict[str, rsa.RSAPrivateKey] = {}


def cached_key(name: str) -> rsa.RSAPrivateKey:
    """RSA keys are slow to make: one per role for the whole test run."""
    if name not in _KEYS:
        _KEYS[name] = generate_private_key()
    return _KEYS[name]


@dataclass
class Stack:
    settings: Settings
    saleor: SaleorDouble
    app: RunningServer
    sandbox: RunningServer
    http: httpx.AsyncClient
    tmp: Path
    merchant_key: rsa.RSAPrivateKey
    antom_key: rsa.RSAPrivateKey
    configured: list[str] = field(default_factory=list)

    # -- Saleor's side ------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.app.url + path

    async def deliver(
        self, event: SyncEvent, payload: dict[str, Any], *, validate: bool = True
    ) -> httpx.Response:
        response = await self.saleor.deliver(self.url(event.path), event, payload)
        if validate and response.status_code == 200:
            self.saleor.validate_response(event, response.json())
        return response

    async def call(self, event: SyncEvent, **kwargs: Any) -> dict[str, Any]:
        """Deliver a realistic payload of ``event`` (see `SaleorDouble.payload`); 200 expected."""
        response = await self.deliver(event, self.saleor.payload(event, **kwargs))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def reports(self, transaction_id: str | None = None) -> list[Any]:
        events = [
            event
            for tid, items in self.saleor.transaction_events.items()
            if transaction_id is None or tid == transaction_id
            for event in items
        ]
        return events

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - a polling helper for tests
        what: str = "condition",
    ) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)

    # -- the shopper's side -----------------------------------------------------------------------

    async def approve(self, auth_state: str, login: str | None = None) -> dict[str, Any]:
        body = {"userLoginId": login} if login else None
        response = await self.http.post(
            f"{self.sandbox.url}/sandbox/api/authorizations/{auth_state}/approve", json=body
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def decline(self, auth_state: str) -> None:
        response = await self.http.post(
            f"{self.sandbox.url}/sandbox/api/authorizations/{auth_state}/decline"
        )
        assert response.status_code == 200, response.text

    async def scenario(self, name: str, calls: list[str] | None = None, count: int = 1) -> None:
        body: dict[str, Any] = {"scenario": name, "count": count}
        if calls is not None:
            body["calls"] = calls
        response = await self.http.post(f"{self.sandbox.url}/sandbox/api/scenario", json=body)
        assert response.status_code == 200, response.text

    async def sandbox_notifications(self) -> list[dict[str, Any]]:
        response = await self.http.get(f"{self.sandbox.url}/sandbox/api/notifications")
        data = response.json()
        items: list[dict[str, Any]] = data if isinstance(data, list) else data["notifications"]
        return items

    # -- the merchant's side ----------------------------------------------------------------------

    async def configure(self, channel: str = "hk-web", wallets: str = "ALIPAY_HK") -> None:
        key_file = self.tmp / "merchant.pem"
        key_file.write_text(private_key_pem(self.merchant_key))
        antom_file = self.tmp / "antom.pub.pem"
        antom_file.write_text(public_key_pem(self.antom_key))
        entry: dict[str, object] = {
            "channel": channel,
            "clientId": CLIENT_ID,
            "privateKeyFile": str(key_file),
            "antomPublicKeyFile": str(antom_file),
            "baseUrl": self.sandbox.url,
            "sandbox": True,
            "wallets": wallets.split(","),
        }
        async with open_services(self.settings) as services:
            self.configured += await configure_channels(
                services, [entry], lambda path, _what: Path(path).read_text()
            )

    # -- a whole first purchase -----------------------------------------------------------------

    async def start_qr_payment(
        self, amount: Decimal = Decimal("123.45"), **kwargs: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """TRANSACTION_INITIALIZE_SESSION without a stored method: (payload, response)."""
        kwargs.setdefault("data", {"wallet": "ALIPAY_HK"})
        payload = self.saleor.payload(
            SyncEvent.TRANSACTION_INITIALIZE_SESSION, amount=amount, **kwargs
        )
        response = await self.deliver(SyncEvent.TRANSACTION_INITIALIZE_SESSION, payload)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return payload, body


@contextlib.asynccontextmanager
async def started_stack(
    settings: Settings,
    tmp: Path,
    *,
    sandbox_options: dict[str, Any] | None = None,
    sweeper_interval: float = 0.3,
) -> AsyncIterator[Stack]:
    merchant_key = cached_key("merchant")
    antom_key = cached_key("antom")
    double = SaleorDouble()
    sandbox_config = SandboxConfig(
        antom_private_key=antom_key,
        merchants=[MerchantConfig(client_id=CLIENT_ID, public_key=merchant_key.public_key())],
        notify_schedule_factor=0.001,
        process_delay_seconds=0.5,
        order_close_seconds=1.0,
        hang_seconds=15.0,
        **(sandbox_options or {}),
    )
    app_settings = settings.model_copy(
        update={
            "sweeper_interval": sweeper_interval,
            "antom_call_timeout": 3.0,
            "report_confirm_delay": 1.0,
        }
    )
    async with (
        double.serve(),
        serve_in_loop(create_sandbox_app(sandbox_config)) as sandbox,
        serve_in_loop(RequestTagging(create_app(app_settings))) as app,
        httpx.AsyncClient(timeout=30) as http,
    ):
        response = await double.install(app.url + "/api/register")
        assert response.status_code == 200, response.text
        double.app_url = app.url
        stack = Stack(
            settings=app_settings,
            saleor=double,
            app=app,
            sandbox=sandbox,
            http=http,
            tmp=tmp,
            merchant_key=merchant_key,
            antom_key=antom_key,
        )
        await stack.configure()
        yield stack


def body_of(response: httpx.Response) -> Any:
    return response.json()


__all__ = ["CLIENT_ID", "Stack", "body_of", "cached_key", "saleor_json", "started_stack"]


# -- the sandbox's JSON endpoints and the app's database (appended helpers) --------------------


async def sandbox_json(stack: Stack, path: str, **params: str) -> Any:
    """GET a sandbox JSON endpoint (`/sandbox/api` + ``path``) and return its body."""
    response = await stack.http.get(f"{stack.sandbox.url}/sandbox/api{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def sandbox_authorizations(stack: Stack) -> list[dict[str, Any]]:
    """Every consult the sandbox answered (one per authState), newest first."""
    items: list[dict[str, Any]] = await sandbox_json(stack, "/authorizations")
    return items


async def sandbox_bindings(stack: Stack) -> list[dict[str, Any]]:
    """Every binding (agreement) at the sandbox, newest first, with its status."""
    items: list[dict[str, Any]] = await sandbox_json(stack, "/bindings")
    return items


async def sandbox_binding_for(stack: Stack, auth_state: str) -> dict[str, Any]:
    """The sandbox binding made by approving ``auth_state``."""
    found = [b for b in await sandbox_bindings(stack) if b["authState"] == auth_state]
    assert len(found) == 1, found
    return found[0]


async def sandbox_payment_notifications(stack: Stack) -> list[dict[str, Any]]:
    """Payment notifications (one per pay the sandbox took; success is notified at once)."""
    items: list[dict[str, Any]] = await sandbox_json(stack, "/notifications", kind="notifyPayment")
    return items


async def unbind_in_wallet(stack: Stack, binding_id: str) -> dict[str, Any]:
    """The shopper unbinds in the wallet: the token dies and TOKEN_CANCELED is sent."""
    response = await stack.http.post(
        f"{stack.sandbox.url}/sandbox/api/tokens/unbind", json={"bindingId": binding_id}
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@contextlib.asynccontextmanager
async def app_database(stack: Stack) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the app's database, for assertions (and the odd shift of the app's view)."""
    engine = create_engine(stack.settings)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def eventually(
    probe: Callable[[], Awaitable[Any]],
    *,
    timeout: float = 10.0,  # noqa: ASYNC109 - a polling helper for tests
    what: str = "condition",
) -> Any:
    """Poll the async ``probe`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


# -- staff actions, Antom notifications and sandbox scenarios (appended helpers) ---------------
# Imports stay inside the helpers: this section is appended to a shared module.


def sandbox_state(stack: Stack) -> Any:
    """The simulated Antom behind ``stack.sandbox`` (``app.state.sandbox``, same process)."""
    return stack.sandbox.server.config.app.state.sandbox


def app_services(stack: Stack) -> Any:
    """The app's `Services` (its sessions, Antom clients, reporter), same process."""
    return stack.app.server.config.app.state.services


def record_antom_calls(stack: Stack) -> list[tuple[str, str]]:
    """From now on, record every authenticated Antom API call the sandbox receives, in order,
    as ``(call, scenario)`` (``("pay", "HANG")``), faulted calls included."""
    book = sandbox_state(stack).scenarios
    calls: list[tuple[str, str]] = []
    original = book.for_request

    def recording(call: Any, header: Any) -> Any:
        scenario = original(call, header)
        calls.append((str(call.value), str(scenario.value)))
        return scenario

    book.for_request = recording
    return calls


def set_sandbox_process_delay(stack: Stack, seconds: float) -> None:
    """How long the sandbox's in-process payments and refunds take from now on."""
    import dataclasses

    state = sandbox_state(stack)
    state.config = dataclasses.replace(state.config, process_delay_seconds=seconds)


async def timed_deliver(
    stack: Stack, event: SyncEvent, payload: dict[str, Any]
) -> tuple[dict[str, Any], float]:
    """Deliver like Saleor (the answer validated against Saleor's schema); (body, seconds)."""
    started = time.monotonic()
    response = await stack.deliver(event, payload)
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body, elapsed


async def qr_purchase(
    stack: Stack, amount: Decimal = Decimal("100.00"), login: str = "85261234567"
) -> tuple[str, str]:
    """A first purchase by QR code, approved in the wallet and reported to Saleor as
    CHARGE_SUCCESS: (Saleor transaction id, the payment's pspReference)."""
    payload, body = await stack.start_qr_payment(amount)
    assert body["result"] == "CHARGE_ACTION_REQUIRED", body
    transaction_id: str = payload["transaction"]["id"]
    await stack.approve(body["data"]["bindingId"], login=login)
    await stack.wait_for(
        lambda: any(e.type == "CHARGE_SUCCESS" for e in stack.reports(transaction_id)),
        what="the first purchase's CHARGE_SUCCESS report",
    )
    psp: str = body["pspReference"]
    return transaction_id, psp


async def stored_method_id(stack: Stack) -> str:
    """The id of the default customer's only stored payment method (agreement)."""
    body = await stack.call(SyncEvent.LIST_STORED_PAYMENT_METHODS)
    [method] = body["paymentMethods"]
    method_id: str = method["id"]
    return method_id


def one_click_payload(stack: Stack, method_id: str, amount: Decimal) -> dict[str, Any]:
    """TRANSACTION_INITIALIZE_SESSION charging the stored agreement ``method_id``."""
    return stack.saleor.payload(
        SyncEvent.TRANSACTION_INITIALIZE_SESSION,
        amount=amount,
        data={"storedPaymentMethodId": method_id},
    )


async def channel_config(stack: Stack, channel: str = "hk-web") -> Any:
    """The app's stored configuration of ``channel`` (a `ChannelConfig`)."""

    from saleor_alipay_app.channels.models import ChannelConfig

    [config] = await app_rows(stack, ChannelConfig, channel_slug=channel)
    return config


async def post_antom_notification(
    stack: Stack,
    kind: str,
    body: dict[str, Any] | bytes,
    *,
    key: rsa.RSAPrivateKey | None = None,
    client_id: str = CLIENT_ID,
    path: str | None = None,
    signed_body: bytes | None = None,
    to: AppProcess | None = None,
) -> httpx.Response:
    """POST a notification as Antom does: signed with ``key`` (Antom's by default) over the
    path of ``channel_config``'s notification URL of ``kind`` (or ``path``). ``signed_body``
    signs other bytes than those sent (a tampered body); ``to`` sends it to that app process."""
    import json

    from saleor_alipay_app.antom.signing import now_request_time, sign, signature_header
    from saleor_alipay_app.channels.service import notification_path

    if path is None:
        path = notification_path(await channel_config(stack), kind)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    request_time = now_request_time()
    value = sign(
        key or stack.antom_key,
        path=path,
        client_id=client_id,
        request_time=request_time,
        body=signed_body if signed_body is not None else raw,
    )
    headers = {
        "content-type": "application/json; charset=UTF-8",
        "client-id": client_id,
        "request-time": request_time,
        "signature": signature_header(value),
    }
    url = to.url + path if to is not None else stack.url(path)
    return await stack.http.post(url, content=raw, headers=headers)


async def app_rows(stack: Stack, model: Any, **equal: Any) -> list[Any]:
    """Rows of an app table whose columns equal ``equal``, in id order."""
    from sqlmodel import select

    query = select(model)
    for name, value in equal.items():
        query = query.where(getattr(model, name) == value)
    if hasattr(stack.app, "server"):  # the app in this process: its own sessions
        async with app_services(stack).sessions() as session:
            result = await session.execute(query.order_by(model.id))
            return list(result.scalars().all())
    async with app_database(stack) as sessions, sessions() as session:  # app processes
        result = await session.execute(query.order_by(model.id))
        return list(result.scalars().all())


# -- payments at the sandbox; several app processes on one database (appended helpers) ---------


async def sandbox_payments(
    stack: Stack, payment_request_id: str | None = None
) -> list[dict[str, Any]]:
    """Payments at the sandbox, oldest first; ``payRequests`` is how many `pay` requests named
    each paymentRequestId (``GET /sandbox/api/payments``)."""
    params = {} if payment_request_id is None else {"paymentRequestId": payment_request_id}
    items: list[dict[str, Any]] = await sandbox_json(stack, "/payments", **params)
    return items


@dataclass
class AppProcess:
    """One `saleor-alipay-app serve` subprocess on loopback (its output goes to ``log``)."""

    host: str
    port: int
    process: asyncio.subprocess.Process
    log: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _open_log(path: Path) -> IO[bytes]:
    return path.open("wb")


def app_process_env(settings: Settings, *, sweeper_interval: float) -> dict[str, str]:
    """The environment of an app process sharing ``settings``' database and key."""
    env = {k: v for k, v in os.environ.items() if k not in {"APP_URL", "ENCRYPTION_OLD_KEYS"}}
    env.update(
        APP_ENV="development",
        DATABASE_URL=settings.database_url,
        ENCRYPTION_KEY=settings.encryption_key or "",
        ALLOWED_SALEOR_API_URLS=settings.allowed_saleor_api_urls or "",
        SWEEPER_INTERVAL=str(sweeper_interval),
        ANTOM_CALL_TIMEOUT=str(settings.antom_call_timeout),
        SALEOR_CALL_TIMEOUT=str(settings.saleor_call_timeout),
        REPORT_CONFIRM_DELAY="1",
        LOG_LEVEL="INFO",
    )
    return env


async def start_app_process(
    settings: Settings,
    log: Path,
    *,
    sweeper_interval: float,
    ready_timeout: float = 30.0,
    workers: int = 1,
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
) -> AppProcess:
    """Start `python -m saleor_alipay_app serve` and wait until its /readyz answers 200
    (on ``port``, e.g. a killed process's, or a free one; ``extra_env`` added to its
    environment)."""
    port = port or free_port()
    env = app_process_env(settings, sweeper_interval=sweeper_interval)
    env.update(extra_env or {})
    with _open_log(log) as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "saleor_alipay_app",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            env=env,
            cwd=log.parent,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
    running = AppProcess("127.0.0.1", port, process, log)
    deadline = time.monotonic() + ready_timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            if process.returncode is not None:
                raise RuntimeError(
                    f"app process exited ({process.returncode}):\n{running.log_tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(running.url + "/readyz")).status_code == 200:
                    return running
            if time.monotonic() > deadline:
                await stop_app_process(running)
                raise RuntimeError(
                    f"app process not ready in {ready_timeout} s:\n{running.log_tail()}"
                )
            await asyncio.sleep(0.1)


async def stop_app_process(running: AppProcess, *, grace: float = 15.0) -> None:
    """SIGTERM (uvicorn shuts down gracefully), SIGKILL if it does not exit in ``grace`` s."""
    process = running.process
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        process.kill()
        await process.wait()


@contextlib.asynccontextmanager
async def started_process_stack(
    settings: Settings,
    tmp: Path,
    *,
    processes: int = 2,
    workers: int = 1,
    sweeper_interval: float = 0.3,
    sandbox_options: dict[str, Any] | None = None,
) -> AsyncIterator[tuple[Stack, list[AppProcess]]]:
    """Like `started_stack`, but the app runs as ``processes`` real `serve` subprocesses (each
    `serve --workers workers`) on the test's database (the double and the sandbox stay in the
    test's loop). The stack's `url` is the first process; deliver to another with
    `deliver_to`."""
    merchant_key = cached_key("merchant")
    antom_key = cached_key("antom")
    double = SaleorDouble()
    options: dict[str, Any] = {
        "notify_schedule_factor": 0.001,
        "process_delay_seconds": 0.5,
        "order_close_seconds": 1.0,
        "hang_seconds": 15.0,
    }
    options.update(sandbox_options or {})
    sandbox_config = SandboxConfig(
        antom_private_key=antom_key,
        merchants=[MerchantConfig(client_id=CLIENT_ID, public_key=merchant_key.public_key())],
        **options,
    )
    app_settings = settings.model_copy(
        update={"sweeper_interval": sweeper_interval, "antom_call_timeout": 3.0}
    )
    running: list[AppProcess] = []
    async with (
        double.serve(),
        serve_in_loop(create_sandbox_app(sandbox_config)) as sandbox,
        httpx.AsyncClient(timeout=30) as http,
    ):
        try:
            started = await asyncio.gather(
                *(
                    start_app_process(
                        app_settings,
                        tmp / f"app-{n}.log",
                        sweeper_interval=sweeper_interval,
                        workers=workers,
                    )
                    for n in range(1, processes + 1)
                ),
                return_exceptions=True,
            )
            running = [p for p in started if isinstance(p, AppProcess)]
            for failure in started:
                if isinstance(failure, BaseException):
                    raise failure
            response = await double.install(running[0].url + "/api/register")
            assert response.status_code == 200, response.text
            stack = Stack(
                settings=app_settings,
                saleor=double,
                app=cast(RunningServer, running[0]),
                sandbox=sandbox,
                http=http,
                tmp=tmp,
                merchant_key=merchant_key,
                antom_key=antom_key,
            )
            await stack.configure()
            yield stack, running
        finally:
            await asyncio.gather(*(stop_app_process(p) for p in running))


async def deliver_to(
    stack: Stack, target: AppProcess | RunningServer, event: SyncEvent, payload: dict[str, Any]
) -> dict[str, Any]:
    """Deliver ``payload`` to one app process like Saleor; 200 and a valid answer expected."""
    response = await stack.saleor.deliver(target.url + event.path, event, payload)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    stack.saleor.validate_response(event, body)
    return body


def set_sandbox_hang(stack: Stack, seconds: float) -> None:
    """How long the sandbox's HANG scenario sleeps from now on."""
    import dataclasses

    state = sandbox_state(stack)
    state.config = dataclasses.replace(state.config, hang_seconds=seconds)


async def sandbox_idle(stack: Stack, timeout: float = 20.0) -> None:  # noqa: ASYNC109
    """Wait until the sandbox answers no request (a HANG still sleeping would hold up the
    sandbox server's shutdown)."""
    await stack.wait_for(
        lambda: not stack.sandbox.server.server_state.tasks,
        timeout=timeout,
        what="the sandbox's requests in flight to end",
    )
