"""The benchmark's inputs are what the service accepts: distinct, valid, fresh signatures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from bench import __main__ as bench_main
from bench.subnet import NEURONS, VALIDATORS, Neuron, bench_neurons, signed_bodies, write_metagraph
from tests.conftest import SettingsFactory


@pytest.fixture(scope="module")
def neurons() -> list[Neuron]:
    return bench_neurons()


@pytest.fixture
def bench_client(
    neurons: list[Neuron], make_settings: SettingsFactory, tmp_path: Path
) -> Iterator[TestClient]:
    metagraph = write_metagraph(tmp_path / "bench-metagraph.json", neurons)
    settings = make_settings(
        metagraph_file=metagraph, signature_max_age_seconds=3600, tao_max_age_seconds=3600
    )
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


def test_too_many_bodies_for_the_window_is_refused_up_front(neurons: list[Neuron]) -> None:
    with pytest.raises(ValueError, match="SIGNATURE_MAX_AGE_SECONDS"):
        signed_bodies(neurons[:1], "miner", 10_000, max_age=120)


def test_missing_wrk_exits_non_zero_and_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    code = bench_main.main(["--seconds", "1"])

    assert code == 2
    assert "apt-get install -y wrk" in capsys.readouterr().err


def tao_request(line: bytes) -> tuple[bytes, dict[str, str]]:
    """What the Lua script sends for one Tao v2 line."""
    timestamp, nonce, hotkey, signature, body = line.split(b"\t", 4)
    headers = {
        "X-Tao-Version": "2",
        "X-Tao-Timestamp": timestamp.decode(),
        "X-Tao-Nonce": nonce.decode(),
        "X-Tao-Signed-By": hotkey.decode(),
        "X-Tao-Signature": signature.decode(),
        "Content-Type": "application/json",
    }
    return body, headers


@pytest.mark.parametrize(
    ("path", "validators_only"),
    [("/on-demand/miner/jobs/active", False), ("/on-demand/validator/miner-jobs", True)],
)
def test_tao_lines_are_accepted_once_each(
    neurons: list[Neuron], bench_client: TestClient, path: str, validators_only: bool
) -> None:
    from bench.ondemand import active_body, miner_jobs_body, tao_lines

    signers = [n for n in neurons if n.is_validator] if validators_only else neurons
    body = miner_jobs_body(neurons[-1].hotkey) if validators_only else active_body()
    lines = tao_lines(signers, body, 40)

    statuses = [
        bench_client.post(path, content=b, headers=h).status_code
        for b, h in map(tao_request, lines)
    ]

    assert len(set(lines)) == len(lines)
    assert statuses == [200] * len(lines)
    again_body, again_headers = tao_request(lines[0])
    assert (
        bench_client.post(path, content=again_body, headers=again_headers).json()["code"]
        == "replayed"
    )
