"""`s3auth miner upload` and MinerClient against the real app on SeaweedFS."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx2
import pytest

from app.cli import main
from s3auth_client.api import new_http_client
from s3auth_client.uploads import plan_upload, upload_files
from tests.client.conftest import (
    Deployment,
    WalletKeys,
    miner_args,
    miner_client,
)
from tests.conftest import Subnet

REPO = Path(__file__).resolve().parents[2]


class StorageTransport(httpx2.BaseTransport):
    """Counts POSTs to S3 and, once `allowed` have gone through, drops the connection."""

    def __init__(self, storage_url: str, allowed: int | None = None) -> None:
        self.inner = httpx2.HTTPTransport()
        self.storage_url = storage_url
        self.allowed = allowed
        self.sent = 0
        self.lock = threading.Lock()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.method == "POST" and str(request.url).startswith(self.storage_url):
            with self.lock:
                if self.allowed is not None and self.sent >= self.allowed:
                    raise httpx2.ConnectError("connection cut by the test", request=request)
                self.sent += 1
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def http_through(transport: StorageTransport) -> httpx2.Client:
    return httpx2.Client(transport=transport, timeout=30)


def dataset_snapshot(root: Path, count: int) -> dict[str, bytes]:
    """A local HuggingFace-style snapshot: nested data files plus hidden cache files."""
    files: dict[str, bytes] = {}
    for i in range(count):
        name = f"data/label-{i % 3}/2025-01-{i % 5 + 1:02d}/part-{i:03d}.parquet"
        files[name] = secrets.token_bytes(1024 + 37 * i)
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    cache = root / ".cache" / "huggingface" / "download"
    cache.mkdir(parents=True)
    (cache / "part-000.parquet.metadata").write_bytes(b"m" * 2048)
    return files


def run_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cut_upload_resumes_with_only_the_missing_files(
    live: Deployment, subnet: Subnet, tmp_path: Path
) -> None:
    files = dataset_snapshot(tmp_path, 30)
    transport = StorageTransport(live.s3.endpoint_url, allowed=10)
    with miner_client(live, subnet, http=http_through(transport)) as client:
        first = upload_files(client, plan_upload([tmp_path]).files, jobs=3)
    assert len(first.uploaded) == 10
    assert len(first.failed) == 20
    assert not first.ok

    rerun = run_cli(
        "miner", "upload", str(tmp_path), "--source", "x", "--json", *miner_args(live, subnet)
    )

    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert sorted(summary["uploaded"]) == sorted(first.failed)
    assert sorted(summary["skipped"]) == sorted(first.uploaded)
    folder = f"data/x/{subnet.miner.coldkey.ss58_address}/"
    assert live.objects() == {folder + name: content for name, content in files.items()}


def test_file_under_one_kib_is_reported_and_never_sent(
    live: Deployment, subnet: Subnet, tmp_path: Path
) -> None:
    (tmp_path / "tiny.json").write_bytes(b"{}" * 400)
    (tmp_path / "ok.parquet").write_bytes(b"\x01" * 2048)
    transport = StorageTransport(live.s3.endpoint_url)
    with miner_client(live, subnet, http=http_through(transport)) as client:
        report = upload_files(client, plan_upload([tmp_path]).files)

    assert list(report.refused) == ["tiny.json"]
    assert "under the policy's minimum of 1024 bytes" in report.refused["tiny.json"]
    assert report.uploaded == ["ok.parquet"]
    assert transport.sent == 1
    assert list(live.objects()) == [f"data/x/{subnet.miner.coldkey.ss58_address}/ok.parquet"]


def test_finished_resume_exits_0_despite_a_reported_unuploadable_file(
    live: Deployment, subnet: Subnet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tiny.bin").write_bytes(b"\x00" * 10)
    (tmp_path / "ok.parquet").write_bytes(b"\x01" * 2048)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_bytes(b"ref: main")
    argv = ["miner", "upload", str(tmp_path), "--source", "x", *miner_args(live, subnet)]

    first = main(argv)
    first_out = capsys.readouterr().out
    resumed = main(argv)
    resumed_out = capsys.readouterr().out

    assert (first, resumed) == (0, 0)
    assert "1 uploaded" in first_out and "1 already there" in resumed_out
    for out in (first_out, resumed_out):
        assert "1 not uploadable" in out
        assert "not uploadable: tiny.bin: 10 bytes is under the policy's minimum" in out
        assert "1 hidden file left out" in out
    assert list(live.objects()) == [f"data/x/{subnet.miner.coldkey.ss58_address}/ok.parquet"]


def test_json_summary_counts_hidden_files(
    live: Deployment, subnet: Subnet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ok.parquet").write_bytes(b"\x01" * 2048)
    (tmp_path / ".cache").mkdir()
    for name in ("a", "b"):
        (tmp_path / ".cache" / name).write_bytes(b"\x02" * 2048)

    code = main(
        ["miner", "upload", str(tmp_path), "--source", "x", "--json", *miner_args(live, subnet)]
    )

    summary = json.loads(capsys.readouterr().out)
    assert code == 0
    assert summary["hidden"] == 2
    assert summary["uploaded"] == ["ok.parquet"]


def test_wallet_upload_with_legacy_signature_and_prefix(
    live: Deployment, wallet_keys: WalletKeys, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = tmp_path / "sample.parquet"
    sample.write_bytes(secrets.token_bytes(4096))
    argv = [
        "miner",
        "upload",
        str(sample),
        "--source",
        "reddit",
        "--prefix",
        "2025/01",
        "--url",
        live.url,
        "--wallet",
        wallet_keys.name,
        "--hotkey",
        wallet_keys.hotkey,
        "--wallet-path",
        str(wallet_keys.path),
        "--auth",
        "legacy",
        "--json",
    ]

    code = main(argv)

    assert code == 0, capsys.readouterr()
    key = f"data/reddit/{wallet_keys.coldkey_ss58}/2025/01/sample.parquet"
    assert live.objects() == {key: sample.read_bytes()}
    assert json.loads(capsys.readouterr().out)["uploaded"] == ["2025/01/sample.parquet"]


def test_unregistered_key_exits_2_with_the_service_reason(
    live: Deployment, subnet: Subnet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = tmp_path / "a.bin"
    sample.write_bytes(b"\x01" * 2048)
    argv = [
        "miner",
        "upload",
        str(sample),
        "--source",
        "x",
        "--url",
        live.url,
        "--hotkey-uri",
        "//outsider",
        "--coldkey",
        subnet.miner.coldkey.ss58_address,
        "--json",
    ]

    assert main(argv) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert (error["status"], error["code"]) == (401, "not_registered")


def test_grant_renews_when_close_to_expiry(live: Deployment, subnet: Subnet) -> None:
    with miner_client(live, subnet) as client:
        first = client.grant()
        assert client.grant() is first
        client.refresh_margin = live.settings.access_ttl_seconds + 60
        assert client.grant() is not first


def test_expired_form_is_renewed_and_the_upload_succeeds(
    live: Deployment, subnet: Subnet, tmp_path: Path
) -> None:
    sample = tmp_path / "late.bin"
    sample.write_bytes(b"\x02" * 2048)
    with miner_client(live, subnet) as client:
        expired = client.request_grant(expiry=int(time.time()) + 1)
        time.sleep(2.5)
        # Pretend the grant is old enough that a 403 means "expired", and never renew early.
        client._grant = replace(expired, issued_at=time.time() - 3600)
        client.refresh_margin = -(10**9)

        key = client.upload_file(sample, "late.bin")

        assert client.grant() is not expired
    assert live.objects() == {key: sample.read_bytes()}


def test_list_files_shows_own_folder_with_sizes(
    live: Deployment, subnet: Subnet, tmp_path: Path
) -> None:
    for i, size in enumerate((1024, 5000)):
        (tmp_path / f"f{i}.bin").write_bytes(b"\x03" * size)
    with miner_client(live, subnet, http=new_http_client()) as client:
        upload_files(client, plan_upload([tmp_path]).files)
        listed = {f.key: f.size for f in client.list_files()}
    folder = f"data/x/{subnet.miner.coldkey.ss58_address}/"
    assert listed == {folder + "f0.bin": 1024, folder + "f1.bin": 5000}


class FlakyStorage(StorageTransport):
    """Answers the first POST to S3 with 503 SlowDown, as a busy S3 does."""

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.method == "POST" and str(request.url).startswith(self.storage_url):
            with self.lock:
                self.sent += 1
                first = self.sent == 1
            if first:
                request.read()
                return httpx2.Response(503, text="<Error><Code>SlowDown</Code></Error>")
        return self.inner.handle_request(request)


def test_transient_storage_error_is_retried(
    live: Deployment, subnet: Subnet, tmp_path: Path
) -> None:
    sample = tmp_path / "a.bin"
    sample.write_bytes(secrets.token_bytes(3000))
    transport = FlakyStorage(live.s3.endpoint_url)
    with miner_client(live, subnet, http=http_through(transport)) as client:
        report = upload_files(client, plan_upload([sample]).files)

    assert report.ok and report.uploaded == ["a.bin"]
    assert transport.sent == 2
    assert list(live.objects().values()) == [sample.read_bytes()]
