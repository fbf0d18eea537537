"""deploy/grafana/s3auth.json queries only metrics that GET /metrics exports."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "deploy" / "grafana" / "s3auth.json"
# The reaper's metrics (CONTRACT §6.1) exist once app.housekeeping is part of the service.
REAPER_PREFIX = "s3auth_reap"


def queries() -> list[str]:
    board: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in board["panels"] for target in panel.get("targets", [])]


def exported(text: str) -> set[str]:
    names: set[str] = set()
    for name, kind in re.findall(r"^# TYPE (\w+) (\w+)", text, re.M):
        names.add(name)
        if kind == "counter":
            names.add(f"{name}_total")
        if kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    return names


def test_dashboard_shows_what_operators_watch() -> None:
    text = " ".join(queries())

    for metric in (
        "s3auth_http_requests_total",
        "s3auth_http_refusals_total",
        "s3auth_http_request_duration_seconds_bucket",
        "s3auth_metagraph_age_seconds",
        "s3auth_dd_list_age_seconds",
        "s3auth_ondemand_open_jobs",
        "s3auth_ondemand_settle_lag_seconds",
        "s3auth_reaped_objects_total",
    ):
        assert metric in text, metric
    assert "histogram_quantile(0.99" in text


def test_every_metric_the_dashboard_queries_is_exported(client: TestClient) -> None:
    names = exported(client.get("/metrics").text)
    queried = set(re.findall(r"\bs3auth_\w+", " ".join(queries())))
    if importlib.util.find_spec("app.housekeeping") is None:
        queried = {name for name in queried if not name.startswith(REAPER_PREFIX)}

    assert queried
    assert queried - names == set()
