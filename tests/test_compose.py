"""The local stack (`compose.yaml`, `compose.saleor-platform.yaml`) and the Dockerfile, read
without a Docker engine: both compose files validate against the Compose specification's JSON
Schema (tests/support/compose/), and what the schema cannot see is checked here: health checks,
volumes, the non-root user, ports that match the URLs."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft201909Validator

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "tests" / "support" / "compose" / "compose-spec.json"
SCHEMA_SHA256 = "e82b395a9ac423febdba22c159b85d51d972706aea67d64799672a6ae3e56f47"
APPS = ("saleor-alipay-app", "saleor-alipay-app-sqlite")


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
    return data


def _merged() -> dict[str, Any]:
    """`docker compose -f compose.yaml -f compose.saleor-platform.yaml`, the way compose merges
    mappings (enough for these two files: services and top-level keys)."""

    def merge(base: Any, extra: Any) -> Any:
        if isinstance(base, dict) and isinstance(extra, dict):
            return {k: merge(base.get(k), extra[k]) if k in base else extra[k] for k in extra} | {
                k: v for k, v in base.items() if k not in extra
            }
        return extra

    result: dict[str, Any] = merge(_load("compose.yaml"), _load("compose.saleor-platform.yaml"))
    return result


@pytest.mark.parametrize("name", ["compose.yaml", "compose.saleor-platform.yaml"])
def test_compose_files_follow_the_compose_specification(name: str) -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = sorted(
        Draft201909Validator(schema).iter_errors(_load(name)), key=lambda e: list(e.path)
    )
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_a_broken_compose_file_is_refused_by_the_schema() -> None:
    """The check bites: an unknown service key and a wrong type are errors."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    broken = _load("compose.yaml")
    broken["services"]["db"]["helthcheck"] = {}
    broken["services"]["sandbox"]["ports"] = "9000:9000"
    assert len(list(Draft201909Validator(schema).iter_errors(broken))) >= 2


def test_the_stack_has_health_checks_volumes_and_the_services_it_names() -> None:
    compose = _load("compose.yaml")
    services = compose["services"]
    assert {"db", "sandbox", *APPS} <= set(services)
    for name, service in services.items():
        assert "healthcheck" in service, name
    # The app waits for a healthy database and sandbox; it reads readiness (/readyz).
    app = services["saleor-alipay-app"]
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert app["depends_on"]["sandbox"]["condition"] == "service_healthy"
    assert "@db:5432/" in app["environment"]["DATABASE_URL"]
    # Each app listens on the port its APP_URL names and publishes the same one, so the URL is
    # the same in the containers and in the browser; its health check asks that port.
    for name in APPS:
        service = services[name]
        port = service["command"][service["command"].index("--port") + 1]
        assert f":{port}" in service["environment"]["APP_URL"], name
        assert service["ports"] == [f"{port}:{port}"], name
        assert f"127.0.0.1:{port}/readyz" in " ".join(service["healthcheck"]["test"]), name
    # The sandbox: published on the port it listens on, the one its wallet pages name; clear of
    # saleor-platform's API (8000) and dashboard (9000).
    sandbox = services["sandbox"]
    port = sandbox["command"][sandbox["command"].index("--port") + 1]
    assert sandbox["ports"] == [f"{port}:{port}"]
    assert f":{port}" in sandbox["command"][sandbox["command"].index("--public-url") + 1]
    published = {p.split(":")[0] for s in services.values() for p in s.get("ports", [])}
    assert not published & {"8000", "9000"}, published
    # SQLite variant: the database on a named volume, one process.
    sqlite = services["saleor-alipay-app-sqlite"]
    assert sqlite["environment"]["DATABASE_URL"] == "sqlite+aiosqlite:////data/saleor-alipay-app.db"
    assert "sqlite-data:/data" in sqlite["volumes"]
    assert sqlite["environment"]["WEB_CONCURRENCY"] == "1"
    used = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])}
    assert used <= set(compose["volumes"]), used - set(compose["volumes"])


def test_joining_saleor_platform() -> None:
    merged = _merged()
    network = merged["networks"]["saleor-platform"]
    assert network["external"] is True
    assert "saleor-platform_default" in network["name"]
    for name in (*APPS, "sandbox"):
        assert "saleor-platform" in merged["services"][name]["networks"], name
        # the rest of the service is kept
        assert merged["services"][name]["healthcheck"], name
    app = merged["services"]["saleor-alipay-app"]
    assert "http://api:8000/graphql/" in app["environment"]["ALLOWED_SALEOR_API_URLS"]


def test_the_image_runs_as_a_non_root_user_with_a_data_volume() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    final = dockerfile.rsplit("\nFROM ", 1)[1]
    users = re.findall(r"^USER (\S+)", final, re.M)
    assert users == ["app"], users
    assert "useradd --create-home --uid 10001 app" in final
    assert "chown app:app /data /sandbox-data" in final
    assert 'VOLUME ["/data"]' in final
    assert re.search(r"^HEALTHCHECK .*/healthz", final, re.M)
    assert re.search(r'pip install --no-cache-dir "\.\$\{EXTRAS:\+\[\$EXTRAS\]\}"', dockerfile)
    # what compose mounts there exists in the image, owned by the user
    for folder in ("/data", "/sandbox-data"):
        assert folder in final
