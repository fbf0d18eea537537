"""A metagraph file is taken exactly as written or not at all: nothing is coerced."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.metagraph import FileSource, MetagraphCache
from app.metagraph.sources import MetagraphFormatError, parse_metagraph
from tests.conftest import SettingsFactory, Subnet
from tests.probes import VALIDATOR_PROBE, app_with_validator_probe
from tests.signing import validator_body


def with_poor_validator(subnet: Subnet, **changes: Any) -> dict[str, Any]:
    metagraph = subnet.metagraph()
    row = next(r for r in metagraph["neurons"] if r["uid"] == subnet.poor_validator.uid)
    row.update(changes)
    return metagraph


@pytest.mark.parametrize(
    "changes",
    [
        {"stake": "NaN"},
        {"stake": "25000"},
        {"stake": float("inf")},
        {"stake": -1.0},
        {"stake": True},
        {"stake": None},
        {"validator_permit": "false"},
        {"validator_permit": 1},
        {"uid": "3"},
        {"uid": 3.0},
        {"uid": True},
        {"hotkey": "not-an-address"},
        {"hotkey": 12345},
        {"coldkey": ""},
        {"incentive": "0.5"},
        {"incentive": -0.1},
        {"incentive": 1.5},
        {"incentive": float("nan")},
        {"incentive": True},
        {"incentive": None},
    ],
)
def test_a_neuron_with_a_value_of_the_wrong_kind_is_refused(
    subnet: Subnet, changes: dict[str, Any]
) -> None:
    with pytest.raises(MetagraphFormatError):
        parse_metagraph(with_poor_validator(subnet, **changes), "file")


@pytest.mark.parametrize("incentive", [0, 0.0, 0.0042, 1, 1.0])
def test_incentive_from_0_to_1_is_read_as_written(subnet: Subnet, incentive: float) -> None:
    snapshot = parse_metagraph(with_poor_validator(subnet, incentive=incentive), "file")

    neuron = snapshot.get(subnet.poor_validator.hotkey.ss58_address)
    assert neuron is not None
    assert neuron.incentive == incentive
    assert isinstance(neuron.incentive, float)


def test_neuron_without_incentive_has_0(subnet: Subnet) -> None:
    metagraph = subnet.metagraph()
    for row in metagraph["neurons"]:
        del row["incentive"]

    snapshot = parse_metagraph(metagraph, "file")

    assert {n.incentive for n in snapshot.neurons} == {0.0}


@pytest.mark.parametrize(
    "changes",
    [{"netuid": "13"}, {"block": -5}, {"block": 1.5}, {"neurons": {}}],
)
def test_a_metagraph_with_a_bad_header_is_refused(subnet: Subnet, changes: dict[str, Any]) -> None:
    with pytest.raises(MetagraphFormatError):
        parse_metagraph({**subnet.metagraph(), **changes}, "file")


def test_duplicate_hotkeys_are_refused(subnet: Subnet) -> None:
    metagraph = subnet.metagraph()
    metagraph["neurons"].append({**metagraph["neurons"][0], "uid": 99})
    with pytest.raises(MetagraphFormatError):
        parse_metagraph(metagraph, "file")


def test_nan_literal_in_the_file_is_refused(tmp_path: Path, subnet: Subnet) -> None:
    path = tmp_path / "nan.json"
    text = json.dumps(with_poor_validator(subnet, stake=1.0)).replace("1.0", "NaN")
    path.write_text(text)
    with pytest.raises(MetagraphFormatError):
        asyncio.run(FileSource(path).load())


def test_a_bad_edit_keeps_the_previous_snapshot(tmp_path: Path, subnet: Subnet) -> None:
    path = tmp_path / "metagraph.json"
    path.write_text(json.dumps(subnet.metagraph()))

    async def scenario() -> float:
        cache = MetagraphCache(FileSource(path), refresh_seconds=60, max_age_seconds=600)
        await cache.refresh()
        path.write_text(json.dumps(with_poor_validator(subnet, stake="NaN")))
        with pytest.raises(MetagraphFormatError):
            await cache.refresh()
        assert cache.last_error is not None
        neuron = cache.current().get(subnet.poor_validator.hotkey.ss58_address)
        assert neuron is not None
        return neuron.stake

    assert asyncio.run(scenario()) == subnet.poor_validator.stake


@pytest.mark.parametrize("changes", [{"stake": "NaN"}, {"validator_permit": "false"}])
def test_a_coerced_value_never_grants_validator_access(
    tmp_path: Path, subnet: Subnet, make_settings: SettingsFactory, changes: dict[str, Any]
) -> None:
    path = tmp_path / "metagraph.json"
    path.write_text(json.dumps(with_poor_validator(subnet, **changes)))
    settings = make_settings(metagraph_file=path)
    with TestClient(app_with_validator_probe(settings)) as client:
        response = client.post(VALIDATOR_PROBE, json=validator_body(subnet.poor_validator.hotkey))
        health = client.get("/healthcheck")

    assert response.status_code == 503
    assert response.json()["code"] == "metagraph_unavailable"
    assert "validator_permit" in health.json()["reason"] or "stake" in health.json()["reason"]


def test_a_good_file_still_loads(subnet: Subnet, make_settings: SettingsFactory) -> None:
    with TestClient(create_app(make_settings())) as client:
        assert client.get("/healthcheck").json()["metagraph"]["neurons"] == 4
