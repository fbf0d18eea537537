"""The benchmark's inputs are what the service accepts: distinct, valid, fresh signatures."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from bench import __main__ as bench_main
from bench.subnet import NEURONS, VALIDATORS, Neuron, bench_neurons, signed_bodies, write_metagraph
from bench.tao import tao_requests
from tests.conftest import SettingsFactory


@pytest.fixture(scope="module")
def neurons() -> list[Neuron]:
    return bench_neurons()


@pytest.fixture
def bench_client(
    neurons: list[Neuron], make_settings: SettingsFactory, tmp_path: Path
) -> Iterator[TestClient]:
    metagraph = write_metagraph(tmp_path / "bench-metagraph.json", neurons)
    settings = make_settings(metagraph_file=metagraph, signature_max_age_seconds=3600)
    with TestClient(create_app(settings)) as client:
        yield client


def test_bench_metagraph_has_256_neurons_and_64_validators(
    neurons: list[Neuron], tmp_path: Path
) -> None:
    rows = json.loads(write_metagraph(tmp_path / "m.json", neurons).read_text())["neurons"]

    assert len(rows) == NEURONS == 256
    assert len({row["hotkey"] for row in rows}) == NEURONS
    assert sum(row["validator_permit"] for row in rows) == VALIDATORS


def test_every_signed_miner_body_is_granted_once(
    neurons: list[Neuron], bench_client: TestClient
) -> None:
    bodies = signed_bodies(neurons, "miner", 600, max_age=3600)

    statuses = [bench_client.post("/get-folder-access", content=b).status_code for b in bodies]

    assert len(set(bodies)) == len(bodies)
    assert statuses == [200] * len(bodies)
    # Sent again, each one is a replay: the bench must never cycle back to a body.
    assert bench_client.post("/get-folder-access", content=bodies[0]).json()["code"] == "replayed"


def test_validator_bodies_are_distinct_and_signed_by_validators(neurons: list[Neuron]) -> None:
    bodies = [json.loads(b) for b in signed_bodies(neurons, "validator", 300, max_age=3600)]
    validators = {n.hotkey for n in neurons if n.is_validator}

    assert len({(b["hotkey"], b["timestamp"]) for b in bodies}) == 300
    assert {b["hotkey"] for b in bodies} <= validators


def test_bodies_never_predate_the_service_and_stay_distinct(neurons: list[Neuron]) -> None:
    now = 1_800_000_000
    bodies = signed_bodies(neurons[:1], "miner", 200, max_age=3600, now=now, not_before=now - 5)

    assert min(json.loads(b)["timestamp"] for b in bodies) >= now - 5
    assert len(set(bodies)) == 200  # the same message signed again is a new signature


def test_bodies_signed_after_the_start_are_all_granted(
    neurons: list[Neuron], bench_client: TestClient
) -> None:
    bodies = signed_bodies(neurons[:2], "miner", 300, max_age=3600, not_before=int(time.time()))

    statuses = [bench_client.post("/get-folder-access", content=b).status_code for b in bodies]

    assert statuses == [200] * len(bodies)


def test_missing_wrk_exits_non_zero_and_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    code = bench_main.main(["--seconds", "1"])

    assert code == 2
    assert "apt-get install -y wrk" in capsys.readouterr().err


def as_request(line: bytes) -> tuple[dict[str, str], bytes]:
    """A bench line as signed_bodies.lua sends it: tab-separated headers, then the body."""
    *headers, body = line.decode().split("\t")
    return dict(h.split(": ", 1) for h in headers), body.encode()


@pytest.mark.parametrize(
    ("recipe", "path", "signers"),
    [
        ("hotkey_folder_grant", "/get-folder-access", "miners"),
        ("miner_list", "/get-miner-list", "validators"),
        ("ondemand_active", "/on-demand/miner/jobs/active", "miners"),
        ("ondemand_window", "/on-demand/validator/miner-jobs", "validators"),
    ],
)
def test_every_tao_request_is_accepted_once(
    neurons: list[Neuron],
    make_settings: SettingsFactory,
    tmp_path: Path,
    recipe: str,
    path: str,
    signers: str,
) -> None:
    metagraph = write_metagraph(tmp_path / "bench-metagraph.json", neurons)
    settings = make_settings(metagraph_file=metagraph, trusted_validators="*")
    chosen = [n for n in neurons if n.is_validator] if signers == "validators" else neurons
    with TestClient(create_app(settings)) as client:
        # Signed once the service runs, as the bench does: older ones predate its store.
        lines = tao_requests(neurons, chosen, recipe, 300)
        requests = [as_request(line) for line in lines]
        statuses = [client.post(path, content=b, headers=h).status_code for h, b in requests]
        again = client.post(path, content=requests[0][1], headers=requests[0][0])

    assert len({h["X-Tao-Nonce"] for h, _ in requests}) == 300
    assert statuses == [200] * 300
    assert again.json()["code"] == "replayed"


def test_every_dd_list_read_is_served_once(
    neurons: list[Neuron], make_settings: SettingsFactory, tmp_path: Path
) -> None:
    from bench.desirability import ADMIN_KEY, DD_LIST_PATH, DD_VALIDATOR_PATH, bench_list

    metagraph = write_metagraph(tmp_path / "bench-metagraph.json", neurons)
    settings = make_settings(metagraph_file=metagraph, admin_api_keys=ADMIN_KEY)
    validators = [n for n in neurons if n.is_validator]
    with TestClient(create_app(settings)) as client:
        published = client.put(DD_LIST_PATH, json=bench_list(), headers={"X-API-Key": ADMIN_KEY})
        # Signed once the app is up, so a slow start on a busy machine ages no signature.
        lines = tao_requests(neurons, validators, "empty", 300)
        requests = [as_request(line) for line in lines]
        statuses = [client.get(DD_VALIDATOR_PATH, headers=h).status_code for h, _ in requests]
        again = client.get(DD_VALIDATOR_PATH, headers=requests[0][0])

    assert published.status_code == 200, published.text
    assert all(body == b"" for _, body in requests)
    assert statuses == [200] * 300
    assert again.json()["code"] == "replayed"
