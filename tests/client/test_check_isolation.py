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


# Whether the service refuses these depends on its signature checks, asserted on their own
# below (a FAIL must mean the forged signature verified).
FORGERY_PROBES = {
    "sign as the all-zero public key with a forged signature",
    "btauth/1 signed with ed25519 (X-Bittensor-Crypto: ed25519)",
}
ENCODING_PROBE = "POST a form with a Content-Encoding field the policy does not name"
PUT_PROBE = "reuse a per-file PUT URL for another key"
POST_PROBE = "POST a per-file form under another key than the pinned one"


def stored_by_warning(detail: str, objects: dict[str, bytes]) -> set[str]:
    return {key for key in objects if key in detail}


def test_every_probe_holds_against_the_service(
    live: Deployment, subnet: Subnet, capsys: pytest.CaptureFixture[str]
) -> None:
    other = subnet.other_miner.coldkey.ss58_address
    other_hotkey = subnet.other_miner.hotkey.ss58_address

    code, report = run_check(
        live, subnet, capsys, "--other-coldkey", other, "--other-hotkey", other_hotkey
    )

    probes = {probe["probe"]: probe for probe in report["probes"]}
    verdicts = {name: probe["result"] for name, probe in probes.items()}
    assert len(verdicts) == 24
    for name in FORGERY_PROBES:
        assert verdicts[name] == "PASS" or "VERIFIED" in probes[name]["detail"], probes[name]
    held = {name: v for name, v in verdicts.items() if name not in FORGERY_PROBES}
    assert held.pop(PUT_PROBE) == "SKIP"  # this deployment hands out POST forms
    # SeaweedFS accepts form fields outside the policy: a WARN about the store, not a FAIL.
    assert held.pop(ENCODING_PROBE) == "WARN"
    assert set(held.values()) == {"PASS"}, held
    assert code == (1 if "FAIL" in verdicts.values() else 0)
    objects = live.objects()
    assert set(objects) == stored_by_warning(probes[ENCODING_PROBE]["detail"], objects)
    assert len(objects) == 1


def test_put_deployment_refuses_a_put_url_reused_for_another_key(
    live_put: Deployment, subnet: Subnet, capsys: pytest.CaptureFixture[str]
) -> None:
    _, report = run_check(live_put, subnet, capsys)

    verdicts = {probe["probe"]: probe["result"] for probe in report["probes"]}
    assert verdicts[PUT_PROBE] == "PASS"
    assert verdicts[POST_PROBE] == "SKIP"
    assert not [k for k in live_put.objects() if "-other.parquet" in k]


def test_probes_hold_with_legacy_grants_and_a_discovered_foreign_coldkey(
    live: Deployment, subnet: Subnet, capsys: pytest.CaptureFixture[str]
) -> None:
    _, report = run_check(live, subnet, capsys, "--auth", "legacy")

    failed = {p["probe"] for p in report["probes"] if p["result"] == "FAIL"}
    assert failed <= FORGERY_PROBES, report
    assert len(live.objects()) == 1  # the WARN probe's object, named in its detail


def test_probe_fails_against_a_server_granting_a_wider_prefix(
    weak: Deployment, subnet: Subnet, capsys: pytest.CaptureFixture[str]
) -> None:
    other = subnet.other_miner.coldkey.ss58_address

    code, report = run_check(weak, subnet, capsys, "--other-coldkey", other)

    failed = {p["probe"]: p["detail"] for p in report["probes"] if p["result"] == "FAIL"}
    assert code == 1
    assert report["ok"] is False
    assert set(failed) - FORGERY_PROBES == {
        "write into another miner's folder",
        "write beside the folder (shared prefix)",
        "write into another source",
        # Rewriting the policy to data/ changes nothing when it already says data/.
        "write with a policy rewritten to all of data/",
        "write into another miner's hotkey folder",
    }
    warned = [p["detail"] for p in report["probes"] if p["result"] == "WARN"]
    planted = list(weak.objects())
    assert len(planted) == 6
    assert any(key.startswith(f"data/x/{other}/") for key in planted)
    # Every object that got through is named, so the operator can remove it.
    for key in planted:
        assert any(key in detail for detail in [*failed.values(), *warned]), key


def test_text_output_prints_a_verdict_per_probe(
    live: Deployment, subnet: Subnet, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", "isolation", *miner_args(live, subnet)])

    lines = capsys.readouterr().out.splitlines()
    verdicts = [line.split("  ", 1)[0] for line in lines[:-1]]
    failed = verdicts.count("FAIL")
    assert code == (1 if failed else 0)
    assert len(verdicts) == 24
    assert set(verdicts) <= {"PASS", "SKIP", "WARN", "FAIL"}
    held = verdicts.count("PASS")
    assert lines[-1] == f"{held} of 24 probes held, 1 skipped, 1 WARN, {failed} FAIL"


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
    failed = {name for name, probe in verdicts.items() if probe["result"] == "FAIL"}
    reads = {
        "list another miner's folder through /list-files",
        "ask /get-file-urls for another miner's file",
        "list another miner's hotkey folder through /get-miner-list",
        "ask /get-file-presigned-urls for another miner's file",
    }
    assert skipped == {*reads, PUT_PROBE}
    assert all("validator" in verdicts[name]["detail"] for name in reads)
    assert failed <= FORGERY_PROBES, report
    assert code == (1 if failed else 0)
    assert verdicts["ask /get-file-urls for a key with a backslash"]["result"] == "PASS"
    assert len(live.objects()) == 1  # the WARN probe's object
