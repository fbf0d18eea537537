"""`s3auth validator ls|get` and ValidatorClient against the real app on SeaweedFS."""

from __future__ import annotations

import gzip
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from app.cli import main
from s3auth_client.cli import plural
from s3auth_client.downloads import DownloadItem, download_one
from s3auth_client.errors import TransferError
from s3auth_client.uploads import LocalFile, upload_files
from tests.client.conftest import (
    Deployment,
    miner_args,
    miner_client,
    validator_args,
    validator_client,
)
from tests.conftest import Subnet


def wait_for_discovery(live: Deployment, subnet: Subnet, source: str, coldkey: str) -> None:
    """The bundle serves the previous folder listing while a new one runs; wait it out."""
    with validator_client(live, subnet) as client:
        for _ in range(100):
            if coldkey in client.request_access().miners_in(source):
                return
            time.sleep(0.1)
    raise AssertionError(f"discovery never showed {coldkey} in {source}")


def upload_tree(live: Deployment, subnet: Subnet, root: Path, count: int) -> dict[str, bytes]:
    """`count` files uploaded by the test miner; returns key -> bytes."""
    files: list[LocalFile] = []
    contents: dict[str, bytes] = {}
    for i in range(count):
        name = f"label-{i % 7}/day-{i % 11:02d}/item-{i:05d}.json"
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(secrets.token_bytes(1024 + i % 97))
        files.append(LocalFile(path, name, path.stat().st_size))
    with miner_client(live, subnet) as client:
        report = upload_files(client, files, jobs=8)
        folder = report.folder
    assert report.ok and len(report.uploaded) == count, report.as_json()
    for local in files:
        contents[folder + local.name] = local.path.read_bytes()
    return contents


@pytest.mark.slow
def test_validator_downloads_a_folder_of_1200_files_byte_identical(
    live: Deployment, subnet: Subnet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    uploaded = upload_tree(live, subnet, tmp_path / "miner", 1200)
    coldkey = subnet.miner.coldkey.ss58_address
    with validator_client(live, subnet) as client:
        first_page = client.list_page("x", coldkey)
    assert len(first_page.files) == 1000 and first_page.next_token  # more than one page
    out = tmp_path / "out"
    argv = [
        "validator",
        "get",
        "--miner",
        coldkey,
        "--source",
        "x",
        "--out",
        str(out),
        "--json",
        *validator_args(live),
    ]

    code = main(argv)

    report = json.loads(capsys.readouterr().out)
    assert code == 0, report["failed"]
    assert len(report["downloaded"]) == 1200
    downloaded = {
        path.relative_to(out).as_posix(): path.read_bytes()
        for path in out.rglob("*")
        if path.is_file()
    }
    assert downloaded == uploaded

    assert main(argv) == 0
    rerun = json.loads(capsys.readouterr().out)
    assert (len(rerun["downloaded"]), len(rerun["skipped"])) == (0, 1200)


def test_ls_lists_sources_miners_and_files(
    live: Deployment, subnet: Subnet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    uploaded = upload_tree(live, subnet, tmp_path, 3)
    coldkey = subnet.miner.coldkey.ss58_address
    args = [*validator_args(live), "--json"]
    wait_for_discovery(live, subnet, "x", coldkey)
    # Other tests' folders may still be listed (SeaweedFS keeps emptied directories).

    assert main(["validator", "ls", *args]) == 0
    sources = {row["source"]: row for row in map(json.loads, capsys.readouterr().out.splitlines())}
    assert set(sources) == {"x", "reddit"}
    assert sources["x"]["prefix"] == "data/x/"
    assert sources["x"]["miners"] >= 1

    assert main(["validator", "ls", "--source", "x", *args]) == 0
    miners = [json.loads(line)["miner"] for line in capsys.readouterr().out.splitlines()]
    assert coldkey in miners

    assert main(["validator", "ls", "--miner", coldkey, *args]) == 0
    files = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {f["key"]: f["size"] for f in files} == {k: len(v) for k, v in uploaded.items()}
    assert {f["source"] for f in files} == {"x"}


def test_get_keys_downloads_and_repairs_a_different_local_copy(
    live: Deployment, subnet: Subnet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    uploaded = upload_tree(live, subnet, tmp_path / "miner", 2)
    keys = sorted(uploaded)
    out = tmp_path / "out"
    argv = ["validator", "get", *keys, "--out", str(out), "--json", *validator_args(live)]

    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["downloaded"] == keys
    damaged = out / keys[0]
    damaged.write_bytes(b"\x00" * len(uploaded[keys[0]]))

    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["downloaded"] == [keys[0]]
    assert damaged.read_bytes() == uploaded[keys[0]]
    assert (out / keys[1]).read_bytes() == uploaded[keys[1]]


def test_miner_key_is_refused_validator_access(
    live: Deployment, subnet: Subnet, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["validator", "ls", *miner_args(live, subnet), "--json"])

    error = json.loads(capsys.readouterr().out)["error"]
    assert code == 2
    assert (error["status"], error["code"]) == (403, "no_permit")


def test_miner_upload_resume_sees_folders_beyond_one_page(
    live: Deployment, subnet: Subnet, tmp_path: Path
) -> None:
    upload_tree(live, subnet, tmp_path, 1001)
    with miner_client(live, subnet) as client:
        assert len(list(client.list_files(page_size=400))) == 1001


def test_download_whose_bytes_do_not_match_the_etag_is_discarded(tmp_path: Path) -> None:
    body = b"tampered" * 200
    honest = hashlib.md5(b"original" * 200).hexdigest()

    def storage(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, stream=httpx2.ByteStream(body), headers={"ETag": f'"{honest}"'})

    item = DownloadItem("data/x/c/f.bin", "http://storage/f.bin", tmp_path / "f.bin", len(body))
    with (
        httpx2.Client(transport=httpx2.MockTransport(storage)) as http,
        pytest.raises(TransferError, match="ETag"),
    ):
        download_one(http, item)

    assert list(tmp_path.iterdir()) == []


def test_download_shorter_than_listed_is_discarded(tmp_path: Path) -> None:
    def storage(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, stream=httpx2.ByteStream(b"x" * 100))

    item = DownloadItem("data/x/c/f.bin", "http://storage/f.bin", tmp_path / "f.bin", 2048)
    with (
        httpx2.Client(transport=httpx2.MockTransport(storage)) as http,
        pytest.raises(TransferError, match="expected 2048"),
    ):
        download_one(http, item)

    assert list(tmp_path.iterdir()) == []


def test_gzip_bomb_stored_with_content_encoding_downloads_as_its_stored_bytes(
    live: Deployment, subnet: Subnet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bomb = gzip.compress(b"\x00" * (100 * 1024 * 1024), compresslevel=9)
    key = f"data/x/{subnet.miner.coldkey.ss58_address}/bomb.parquet"
    live.s3.client.put_object(Bucket=live.bucket, Key=key, Body=bomb, ContentEncoding="gzip")
    out = tmp_path / "out"

    code = main(["validator", "get", key, "--out", str(out), "--json", *validator_args(live)])

    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    assert report["bytes_downloaded"] == len(bomb) < 200_000
    assert (out / key).read_bytes() == bomb


def test_download_stops_at_the_listed_size_instead_of_reading_everything(
    tmp_path: Path,
) -> None:
    served = 0

    def endless() -> Iterator[bytes]:
        nonlocal served
        for _ in range(64):
            served += 1024 * 1024
            yield b"\x00" * (1024 * 1024)

    def storage(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=endless())

    item = DownloadItem("data/x/c/f.bin", "http://storage/f.bin", tmp_path / "f.bin", 2048)
    with (
        httpx2.Client(transport=httpx2.MockTransport(storage)) as http,
        pytest.raises(TransferError, match="larger than its 2048 bytes"),
    ):
        download_one(http, item)

    assert served <= 2 * 1024 * 1024
    assert list(tmp_path.iterdir()) == []


def test_ls_text_counts_miner_folders_in_the_singular_and_plural(
    live: Deployment, subnet: Subnet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    upload_tree(live, subnet, tmp_path, 1)
    wait_for_discovery(live, subnet, "x", subnet.miner.coldkey.ss58_address)

    assert main(["validator", "ls", *validator_args(live)]) == 0

    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert {row[0] for row in rows} == {"x", "reddit"}
    for row in rows:
        count, noun = int(row[1]), " ".join(row[2:4])
        assert noun == ("miner folder" if count == 1 else "miner folders"), row
    assert plural(1, "miner folder") == "1 miner folder"
    assert plural(0, "miner folder") == "0 miner folders"


def test_error_answer_is_read_only_as_far_as_an_error_document_goes(tmp_path: Path) -> None:
    served = 0

    def endless_error() -> Iterator[bytes]:
        nonlocal served
        yield b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
        for _ in range(64):
            served += 1024 * 1024
            yield b" " * (1024 * 1024)

    def storage(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(403, content=endless_error())

    item = DownloadItem("data/x/c/f.bin", "http://storage/f.bin", tmp_path / "f.bin", 2048)
    with (
        httpx2.Client(transport=httpx2.MockTransport(storage)) as http,
        pytest.raises(TransferError, match="AccessDenied: Request has expired") as refused,
    ):
        download_one(http, item)

    assert refused.value.status == 403
    assert served <= 1024 * 1024
