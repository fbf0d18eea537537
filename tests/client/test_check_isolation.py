"""`s3auth check isolation` holds against the real app and catches a weakened one."""

from __future__ import annotations

import json

import pytest

from app.cli import main
from tests.client.conftest import Deployment, miner_args
from tests.conftest import Subnet


def run_check(
    deployment: Deployment, subnet: Subnet, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict]:
    argv = ["check", "isolation", *miner_args(deployment, subnet), "--json", *extra]
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_every_probe_passes_against_the_service(
    live: Deployment, subnet: Subnet, capsys: pytest.CaptureFixture[str]
) -> None:
    other = subnet.other_miner.coldkey.ss58_address

    code, report = run_check(live, subnet, capsys, "--other-coldkey", other)

    verdicts = {probe["probe"]: probe["result"] for probe in report["probes"]}
    assert code == 0, report
    assert report["ok"] is True
    assert set(verdicts.values()) == {"PASS"}
    assert len(verdicts) == 14
    assert live.objects() == {}


def test_probes_pass_with_legacy_grants_and_a_discovered_foreign_coldkey(
    live: Deployment, subnet: Subnet, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = run_check(live, subnet, capsys, "--auth", "legacy")

    assert code == 0, report
    assert live.objects() == {}


def test_probe_fails_against_a_server_granting_a_wider_prefix(
    weak: Deployment, subnet: Subnet, capsys: pytest.CaptureFixture[str]
) -> None:
    other = subnet.other_miner.coldkey.ss58_address

    code, report = run_check(weak, subnet, capsys, "--other-coldkey", other)

    failed = {p["probe"]: p["detail"] for p in report["probes"] if p["result"] == "FAIL"}
    assert code == 1
    assert report["ok"] is False
    assert set(failed) == {
        "write into another miner's folder",
        "write beside the folder (shared prefix)",
        "write into another source",
        # Rewriting the policy to data/ changes nothing when it already says data/.
        "write with a policy rewritten to all of data/",
    }
    planted = list(weak.objects())
    assert len(planted) == 4
    assert any(key.startswith(f"data/x/{other}/") for key in planted)
    # Every object that got through is named, so the operator can remove it.
    for key in planted:
        assert any(key in detail for detail in failed.values()), key


def test_text_output_prints_a_verdict_per_probe(
    live: Deployment, subnet: Subnet, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", "isolation", *miner_args(live, subnet)])

    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert all(line.startswith("PASS  ") for line in lines[:-1])
    assert lines[-1] == "14 of 14 probes held, 0 FAIL"


def test_validator_key_skips_the_read_probes_instead_of_failing_them(
    live: Deployment, subnet: Subnet, capsys: pytest.CaptureFixture[str]
) -> None:
    validator = [
        *("--url", live.url, "--hotkey-uri", "//validator-hot"),
        *("--coldkey", subnet.validator.coldkey.ss58_address),
    ]

    code = main(["check", "isolation", *validator, "--json"])

    report = json.loads(capsys.readouterr().out)
    verdicts = {probe["probe"]: probe for probe in report["probes"]}
    skipped = {name for name, probe in verdicts.items() if probe["result"] == "SKIP"}
    assert code == 0, report
    assert skipped == {
        "list another miner's folder through /list-files",
        "ask /get-file-urls for another miner's file",
    }
    assert all("validator" in verdicts[name]["detail"] for name in skipped)
    assert {p["result"] for p in report["probes"]} == {"PASS", "SKIP"}
    assert live.objects() == {}
