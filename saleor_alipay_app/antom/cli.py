"""``antom`` commands: sign, verify and make signed calls by hand (mounted as
``saleor-alipay-app antom ...``).

Key files may hold PEM or the bare base64 Antom's dashboard shows. Body files are used byte for
byte: a trailing newline is part of the body.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import httpx
import typer
from cryptography.hazmat.primitives.asymmetric import rsa

from .client import check_response, signed_headers
from .keys import KeyFormatError, load_private_key, load_public_key
from .signing import (
    SignatureError,
    now_request_time,
    sign,
    signature_header,
    string_to_sign,
    verify,
)

__all__ = ["app"]

app = typer.Typer(
    name="antom",
    help="Sign, verify and send Antom requests (API.md §2-3).",
    no_args_is_help=True,
    add_completion=False,
)

ClientIdOpt = Annotated[str, typer.Option("--client-id", help="Antom client ID.")]
PathOpt = Annotated[
    str, typer.Option("--path", help="Request path, e.g. /ams/api/v1/payments/inquiryPayment.")
]
BodyFileOpt = Annotated[
    Path,
    typer.Option(
        "--body-file", help="File with the exact request body.", exists=True, dir_okay=False
    ),
]
PrivateKeyOpt = Annotated[
    Path,
    typer.Option(
        "--private-key",
        help="Merchant private key file (PEM or bare base64).",
        exists=True,
        dir_okay=False,
    ),
]
AntomPublicKeyOpt = Annotated[
    Path,
    typer.Option(
        "--antom-public-key",
        help="Antom public key file (PEM or bare base64).",
        exists=True,
        dir_okay=False,
    ),
]
MethodOpt = Annotated[str, typer.Option("--method", help="HTTP method.")]


def _escaped(data: bytes) -> str:
    return data.decode("utf-8", errors="replace").replace("\r", "\\r").replace("\n", "\\n")


def _read_body(path: Path) -> bytes:
    body = path.read_bytes()
    if body.endswith(b"\n"):
        typer.echo(
            "note: the body file ends with a newline; it is part of the signed body",
            err=True,
        )
    return body


def _load_private_key(path: Path) -> rsa.RSAPrivateKey:
    try:
        return load_private_key(path.read_bytes())
    except KeyFormatError as exc:
        typer.echo(f"error: {path}: {exc}", err=True)
        raise typer.Exit(2) from None


def _load_public_key(path: Path) -> rsa.RSAPublicKey:
    try:
        return load_public_key(path.read_bytes())
    except KeyFormatError as exc:
        typer.echo(f"error: {path}: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("sign")
def sign_command(
    client_id: ClientIdOpt,
    private_key: PrivateKeyOpt,
    path: PathOpt,
    body_file: BodyFileOpt,
    request_time: Annotated[
        str | None,
        typer.Option("--request-time", help="Time to sign; default: now, ISO-8601 with offset."),
    ] = None,
    method: MethodOpt = "POST",
) -> None:
    """Print the exact string to sign and the resulting signature header."""
    key = _load_private_key(private_key)
    body = _read_body(body_file)
    when = request_time or now_request_time()
    message = string_to_sign(method, path, client_id, when, body)
    value = sign(key, method=method, path=path, client_id=client_id, request_time=when, body=body)
    typer.echo(f"request-time: {when}")
    typer.echo("string to sign:")
    typer.echo(message.decode("utf-8", errors="replace"))
    typer.echo("string to sign (newline escaped):")
    typer.echo(_escaped(message))
    typer.echo(f"signature: {signature_header(value)}")


@app.command("verify")
def verify_command(
    client_id: ClientIdOpt,
    antom_public_key: AntomPublicKeyOpt,
    path: PathOpt,
    request_time: Annotated[
        str,
        typer.Option("--request-time", help="The request-time (or response-time) header value."),
    ],
    body_file: BodyFileOpt,
    signature: Annotated[
        str, typer.Option("--signature", help="Whole signature header or the bare value.")
    ],
    method: MethodOpt = "POST",
) -> None:
    """Check a signature; exit 0 when valid, 1 (with the reason) when not."""
    key = _load_public_key(antom_public_key)
    body = _read_body(body_file)
    try:
        verify(
            key,
            method=method,
            path=path,
            client_id=client_id,
            time=request_time,
            body=body,
            signature=signature,
        )
    except SignatureError as exc:
        typer.echo(f"signature INVALID: {exc}")
        typer.echo(
            "string checked (newline escaped): "
            + _escaped(string_to_sign(method, path, client_id, request_time, body))
        )
        raise typer.Exit(1) from None
    typer.echo("signature valid")


@app.command("call")
def call_command(
    base_url: Annotated[
        str,
        typer.Option("--base-url", help="Gateway origin, e.g. https://open-sea-global.alipay.com"),
    ],
    client_id: ClientIdOpt,
    private_key: PrivateKeyOpt,
    antom_public_key: AntomPublicKeyOpt,
    path: PathOpt,
    body_file: BodyFileOpt,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds.")] = 15.0,
) -> None:
    """Send a signed POST, print the answer and whether its signature verifies."""
    signing_key = _load_private_key(private_key)
    verifying_key = _load_public_key(antom_public_key)
    body = _read_body(body_file)
    url = base_url.rstrip("/") + path
    signed_path = urlsplit(url).path
    headers = signed_headers(
        signing_key,
        client_id=client_id,
        path=signed_path,
        body=body,
        request_time=now_request_time(),
    )
    typer.echo(f"POST {url}")
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        typer.echo(f"no answer: {type(exc).__name__}: {exc}")
        raise typer.Exit(1) from None
    typer.echo(f"HTTP {response.status_code} {response.reason_phrase}")
    for name, value in response.headers.items():
        typer.echo(f"{name}: {value}")
    typer.echo("")
    raw = response.content
    try:
        typer.echo(json.dumps(json.loads(raw), indent=2, ensure_ascii=False))
    except ValueError:
        typer.echo(raw.decode("utf-8", errors="replace"))
    typer.echo("")
    try:
        check = check_response(
            verifying_key,
            path=signed_path,
            headers=response.headers,
            body=raw,
            client_id=client_id,
        )
    except SignatureError as exc:
        typer.echo(f"response signature: REFUSED ({exc})")
        raise typer.Exit(1) from None
    if check.verified:
        typer.echo("response signature: valid")
    else:
        typer.echo(
            f"response signature: absent; accepted because resultStatus is {check.result_status} "
            "(unsigned F/U answers are allowed, API.md §3)"
        )
    if response.status_code != 200:
        typer.echo("HTTP status is not 200: a client treats this as no answer")
        raise typer.Exit(1)
