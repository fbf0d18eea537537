"""What operators see of publications: /healthcheck names the list, /metrics counts them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import SettingsFactory, Subnet
from tests.desirability.conftest import ADMIN_KEY, entry, publish
from tests.signing import compact, tao_headers


@pytest.fixture
def client(
    make_settings: SettingsFactory, database_url: str, subnet: Subnet
) -> Iterator[TestClient]:
    settings = make_settings(
        database_url=database_url,
        admin_api_keys=ADMIN_KEY,
        trusted_validators=str(subnet.validator.uid),
    )
    with TestClient(create_app(settings)) as client:
        yield client


def metric(text: str, name: str) -> float | None:
    found = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else None


def test_healthcheck_is_200_with_no_list_and_names_it_once_published(client: TestClient) -> None:
    before = client.get("/healthcheck")
    assert before.status_code == 200
    assert before.json()["dynamic_desirability"] is None

    version = publish(client, [entry(), entry(id="second")]).json()["version"]
    state = client.get("/healthcheck").json()["dynamic_desirability"]
    assert state["version"] == version
    assert state["entries"] == 2
    assert state["generated_at"].endswith("Z")
    assert 0 <= state["age_seconds"] < 3600


def test_metrics_count_publications_and_show_ages(client: TestClient, subnet: Subnet) -> None:
    before = client.get("/metrics").text
    assert metric(before, 's3auth_publications_total{kind="dd_list"}') == 0
    assert metric(before, "s3auth_dd_list_age_seconds") is None
    assert metric(before, "s3auth_validation_score_newest_age_seconds") is None

    publish(client, [entry()])
    publish(client, [entry(weight=3.0)])
    raw = compact({"results": [{"miner_hotkey": subnet.miner.hotkey.ss58_address, "score": {}}]})
    posted = client.post(
        "/s3-validation/results", content=raw, headers=tao_headers(subnet.validator.hotkey, raw)
    )
    assert posted.status_code == 200, posted.text

    after = client.get("/metrics").text
    assert metric(after, 's3auth_publications_total{kind="dd_list"}') == 2
    assert metric(after, 's3auth_publications_total{kind="validation_results"}') == 1
    assert metric(after, "s3auth_dd_list_publication") == 2
    assert metric(after, "s3auth_dd_list_age_seconds") is not None
    assert metric(after, "s3auth_validation_score_newest_age_seconds") is not None


def test_refused_publication_is_not_counted(client: TestClient) -> None:
    client.put(
        "/dynamic-desirability/list",
        json={"entries": [entry(weight=0)]},
        headers={"X-API-Key": ADMIN_KEY},
    )
    text = client.get("/metrics").text
    assert metric(text, 's3auth_publications_total{kind="dd_list"}') == 0
