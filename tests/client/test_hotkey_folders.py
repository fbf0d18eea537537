"""Today's flows on SeaweedFS: per-file uploads into hotkey folders, and validators reading them."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from app.cli import main
from tests.client.conftest import Deployment, miner_args, validator_args
from tests.conftest import Subnet

JOB = "crawler-7-h4rptebsja6qbdmocrt98"


def parquet_name(rows: int) -> str:
    return f"data_20260805_141502_{rows}_{secrets.token_hex(8)}.parquet"


def job_files(root: Path, count: int) -> dict[str, bytes]:
    root.mkdir(parents=True, exist_ok=True)
    files = {parquet_name(100 + i): secrets.token_bytes(2048 + i) for i in range(count)}
    for name, content in files.items():
        (root / name).write_bytes(content)
    return files


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict]:
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def job_folder(subnet: Subnet) -> str:
    return f"data/hotkey={subnet.miner.hotkey.ss58_address}/job_id={JOB}/"


@pytest.mark.parametrize("method", ["post", "put"])
def test_job_upload_lands_each_file_under_its_pinned_key_and_a_rerun_skips_on_409(
    method: str,
    live: Deployment,
    live_put: Deployment,
    subnet: Subnet,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    deployment = live if method == "post" else live_put
    files = job_files(tmp_path / "out", 3)
    (tmp_path / "out" / "notes.parquet").write_bytes(b"\x00" * 2048)
    argv = ["miner", "upload", str(tmp_path / "out"), "--job-id", JOB, "--json"]
    argv += miner_args(deployment, subnet)

    code, first = run_json(capsys, argv)
    rerun_code, rerun = run_json(capsys, argv)

    assert code == 0, first
    assert sorted(first["uploaded"]) == sorted(files)
    assert first["folder"] == job_folder(subnet)
    assert list(first["refused"]) == ["notes.parquet"]
    assert (
        "data_<YYYYMMDD>_<HHMMSS>_<rows>_<16 lower-case hex>.parquet"
        in (first["refused"]["notes.parquet"])
    )
    assert rerun_code == 0, rerun
    assert (rerun["uploaded"], sorted(rerun["skipped"])) == ([], sorted(files))
    assert deployment.objects() == {job_folder(subnet) + n: c for n, c in files.items()}


def test_job_upload_with_btauth_and_a_file_under_the_floor(
    live: Deployment, subnet: Subnet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small = parquet_name(1)
    (tmp_path / small).write_bytes(b"\x01" * 10)
    argv = ["miner", "upload", str(tmp_path), "--job-id", JOB, "--auth", "btauth", "--json"]

    code, report = run_json(capsys, [*argv, *miner_args(live, subnet)])

    assert code == 0, report
    assert "under the policy's minimum of 1024 bytes" in report["refused"][small]
    assert live.objects() == {}


def test_upload_needs_exactly_one_of_source_and_job_id(
    live: Deployment, subnet: Subnet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["miner", "upload", str(tmp_path), "--source", "x", "--job-id", JOB]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, *miner_args(live, subnet)])
    assert exit_info.value.code == 2
    assert "--job-id" in capsys.readouterr().err


@pytest.mark.parametrize("auth", ["tao", "btauth", "legacy"])
def test_trusted_validator_lists_and_downloads_a_hotkey_folder(
    auth: str,
    live: Deployment,
    subnet: Subnet,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = job_files(tmp_path / "miner", 2)
    assert (
        main(
            [
                "miner",
                "upload",
                str(tmp_path / "miner"),
                "--job-id",
                JOB,
                "--json",
                *miner_args(live, subnet),
            ]
        )
        == 0
    )
    capsys.readouterr()
    hotkey = subnet.miner.hotkey.ss58_address
    out = tmp_path / "validator"
    validator = [*validator_args(live), "--auth", auth]

    assert main(["validator", "ls", "--miner-hotkey", hotkey, "--json", *validator]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    code, report = run_json(
        capsys,
        [
            "validator",
            "get",
            "--miner-hotkey",
            hotkey,
            "--out",
            str(out),
            "--json",
            *validator,
        ],
    )

    expected = {job_folder(subnet) + name: content for name, content in files.items()}
    assert {item["key"]: item["size"] for item in listed} == {
        key: len(content) for key, content in expected.items()
    }
    assert code == 0, report
    assert sorted(report["downloaded"]) == sorted(expected)
    for key, content in expected.items():
        assert (out / key).read_bytes() == content


def test_miner_key_is_refused_a_hotkey_folder_listing(
    live: Deployment, subnet: Subnet, capsys: pytest.CaptureFixture[str]
) -> None:
    hotkey = subnet.other_miner.hotkey.ss58_address

    code, report = run_json(
        capsys, ["validator", "ls", "--miner-hotkey", hotkey, "--json", *miner_args(live, subnet)]
    )

    assert code == 2
    assert report["error"]["status"] == 403


def test_validator_lists_the_hotkeys_that_have_a_folder(
    live: Deployment, subnet: Subnet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job_files(tmp_path, 1)
    argv = ["miner", "upload", str(tmp_path), "--job-id", JOB, "--json"]
    assert main([*argv, *miner_args(live, subnet)]) == 0
    capsys.readouterr()

    code = main(["validator", "ls", "--hotkeys", "--json", *validator_args(live)])

    listed = [json.loads(line)["miner_hotkey"] for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert subnet.miner.hotkey.ss58_address in listed
