"""Pure parts of the client: policy reading, upload planning, safe download paths, ETags."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path

import httpx2
import pytest

from s3auth_client.downloads import destination, etag_matches
from s3auth_client.errors import ClientError
from s3auth_client.listing import parse_list_objects_xml
from s3auth_client.policy import encode_policy, policy_limits
from s3auth_client.uploads import normalize_prefix, plan_upload


def test_limits_come_from_the_signed_policy() -> None:
    policy = {
        "conditions": [
            ["content-length-range", 1024, 4096],
            ["starts-with", "$key", "data/x/5F/"],
            {"acl": "private"},
        ]
    }
    limits = policy_limits({"policy": encode_policy(policy)}, {"min_bytes": 1, "max_bytes": 9})

    assert (limits.min_bytes, limits.max_bytes, limits.key_prefix) == (1024, 4096, "data/x/5F/")
    assert limits.refuses_size(1023) is not None
    assert limits.refuses_size(1024) is None
    assert limits.refuses_size(4097) is not None


def test_limits_fall_back_to_the_grant_when_the_policy_is_unreadable() -> None:
    limits = policy_limits({"policy": "not base64 json"}, {"min_bytes": 10, "max_bytes": 20})
    assert (limits.min_bytes, limits.max_bytes) == (10, 20)


def test_folder_files_keep_their_relative_paths_and_hidden_ones_are_left_out(
    tmp_path: Path,
) -> None:
    (tmp_path / "data" / "train").mkdir(parents=True)
    (tmp_path / "data" / "train" / "0.parquet").write_bytes(b"a")
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "lock").write_bytes(b"b")
    single = tmp_path / "extra.bin"
    single.write_bytes(b"cc")

    planned = plan_upload([tmp_path / "data", single], prefix="/v1//").files

    assert {(f.name, f.size) for f in planned} == {
        ("v1/train/0.parquet", 1),
        ("v1/extra.bin", 2),
    }
    whole = plan_upload([tmp_path])
    assert [f.name for f in whole.files] == ["data/train/0.parquet", "extra.bin"]
    assert whole.hidden == 1


def test_excluded_and_colliding_names(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "f.bin").write_bytes(b"1")
    (tmp_path / "b" / "f.bin").write_bytes(b"2")
    (tmp_path / "a" / "notes.md").write_bytes(b"3")

    assert [f.name for f in plan_upload([tmp_path / "a"], exclude=("*.md",)).files] == ["f.bin"]
    with pytest.raises(ClientError, match=r"would both upload as f\.bin"):
        plan_upload([tmp_path / "a", tmp_path / "b"])
    with pytest.raises(ClientError, match="does not exist"):
        plan_upload([tmp_path / "missing"])


def test_prefix_with_dot_segments_is_refused() -> None:
    with pytest.raises(ClientError):
        normalize_prefix("a/../b")


@pytest.mark.parametrize("key", ["/etc/passwd", "data/../../x", "data//x", "./data/x", ""])
def test_keys_that_would_escape_the_output_folder_are_refused(key: str, tmp_path: Path) -> None:
    with pytest.raises(ClientError):
        destination(tmp_path, key)


def test_plain_key_lands_under_the_output_folder(tmp_path: Path) -> None:
    assert destination(tmp_path, "data/x/5F/a/b.bin") == tmp_path / "data/x/5F/a/b.bin"


def test_etag_check_uses_md5_only_for_single_part_uploads() -> None:
    md5 = hashlib.md5(b"hello").hexdigest()
    assert etag_matches(f'"{md5}"', md5)
    assert not etag_matches('"00000000000000000000000000000000"', md5)
    assert etag_matches('"0123456789abcdef0123456789abcdef-3"', md5)
    assert etag_matches(None, md5)


def test_list_objects_xml_page() -> None:
    xml = (
        '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        "<IsTruncated>true</IsTruncated><NextContinuationToken>t1</NextContinuationToken>"
        "<Contents><Key>data/x/5F/a.bin</Key><Size>2048</Size>"
        "<ETag>&quot;abc&quot;</ETag></Contents></ListBucketResult>"
    )
    page = parse_list_objects_xml(xml)
    assert [(f.key, f.size, f.etag) for f in page.files] == [("data/x/5F/a.bin", 2048, '"abc"')]
    assert page.next_token == "t1"


def test_url_batches_respect_the_key_count_and_body_size() -> None:
    from s3auth_client.validator import URL_BATCH, URL_BATCH_BYTES, batches

    short = [f"data/x/c/{i}" for i in range(2500)]
    assert [len(b) for b in batches(short)] == [URL_BATCH, URL_BATCH, 500]
    long = ["data/x/c/" + "k" * 1000 + str(i) for i in range(600)]
    sized = list(batches(long))
    assert sum(len(b) for b in sized) == 600
    assert all(sum(len(k) + 4 for k in b) <= URL_BATCH_BYTES for b in sized)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal() -> None:
    from s3auth_client.progress import BarProgress, NoProgress, progress_for

    assert isinstance(progress_for("x", enabled=True, stream=io.StringIO()), NoProgress)
    assert isinstance(progress_for("x", enabled=False, stream=Terminal()), NoProgress)
    terminal = Terminal()
    bar = progress_for("uploading", enabled=True, stream=terminal)
    assert isinstance(bar, BarProgress)
    bar.start(2, 4096)
    bar.advance(2048)
    bar.file_done()
    bar.stop()
    assert "uploading" in terminal.getvalue()


def test_upload_form_has_a_content_length_and_reports_progress(tmp_path: Path) -> None:
    # AWS S3 refuses chunked POST uploads, so the multipart body must declare its length.
    import httpx2

    from s3auth_client.transfer import ProgressReader

    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 5000)
    seen: dict[str, str] = {}

    def storage(request: httpx2.Request) -> httpx2.Response:
        seen.update(request.headers)
        request.read()
        return httpx2.Response(204)

    progress: list[int] = []
    with httpx2.Client(transport=httpx2.MockTransport(storage)) as http, path.open("rb") as raw:
        http.post(
            "http://storage/",
            data={"key": "k"},
            files={"file": ("f.bin", ProgressReader(raw, progress.append))},
        )

    assert int(seen["content-length"]) > 5000
    assert "transfer-encoding" not in seen
    assert sum(progress) == 5000


def mock_api(handler):  # type: ignore[no-untyped-def]
    import httpx2

    from s3auth_client import Api, Identity, RetryPolicy
    from tests.signing import key

    identity = Identity(key("unit-hot"), key("unit-cold").ss58_address)
    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    return Api("http://service", identity, http=http, retry=RetryPolicy(attempts=1))


def test_legacy_request_is_signed_again_on_the_servers_clock() -> None:
    import json
    import time

    import httpx2

    server_time = int(time.time()) + 1000
    bodies: list[dict] = []

    def service(request: httpx2.Request) -> httpx2.Response:
        bodies.append(json.loads(request.read()))
        if len(bodies) == 1:
            detail = {"detail": "stale", "code": "stale_timestamp", "server_time": server_time}
            return httpx2.Response(400, json=detail)
        return httpx2.Response(200, json={"ok": True})

    api = mock_api(service)
    assert api.post("/x", {}, auth="legacy", legacy_message=str) == {"ok": True}
    assert abs(bodies[1]["timestamp"] - server_time) <= 2
    assert bodies[0]["signature"] != bodies[1]["signature"]


def test_tao_request_is_signed_again_on_the_servers_clock() -> None:
    import time

    server_time = int(time.time()) + 1000
    stamps: list[int] = []
    nonces: list[str] = []

    def service(request: httpx2.Request) -> httpx2.Response:
        stamps.append(int(request.headers["x-tao-timestamp"]))
        nonces.append(request.headers["x-tao-nonce"])
        if len(stamps) == 1:
            detail = {"detail": "stale", "code": "stale_timestamp", "server_time": server_time}
            return httpx2.Response(400, json=detail)
        return httpx2.Response(200, json={"ok": True})

    api = mock_api(service)
    assert api.post("/x", {}, auth="tao") == {"ok": True}
    assert abs(stamps[1] - server_time * 1000) <= 2000
    assert nonces[0] != nonces[1]


def test_miner_listing_falls_back_to_the_grant_list_url_without_list_files() -> None:
    import httpx2

    from s3auth_client import MinerClient
    from s3auth_client.policy import encode_policy

    xml = (
        "<ListBucketResult><IsTruncated>false</IsTruncated>"
        "<Contents><Key>data/x/c/a.bin</Key><Size>2048</Size></Contents></ListBucketResult>"
    )
    grant = {
        "folder": "data/x/c/",
        "url": "http://storage/bucket",
        "fields": {"policy": encode_policy({"conditions": []})},
        "expiry": "2099-01-01T00:00:00+00:00",
        "list_url": "http://storage/bucket?list-type=2",
    }

    def service(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/get-folder-access":
            return httpx2.Response(200, json=grant)
        if request.url.path == "/list-files":
            return httpx2.Response(404, json={"detail": "Not Found", "code": "not_found"})
        return httpx2.Response(200, text=xml)

    client = MinerClient(mock_api(service), "x")
    assert [(f.key, f.size) for f in client.list_files()] == [("data/x/c/a.bin", 2048)]


@pytest.mark.parametrize(
    ("status", "code", "verdict"),
    [
        (401, "bad_signature", "PASS"),
        (401, "forgeable_key", "PASS"),
        (400, "malformed_auth", "PASS"),
        (401, "not_registered", "FAIL"),  # the forged signature verified
        (200, None, "FAIL"),
    ],
)
def test_forgery_probes_fail_only_when_the_forged_signature_verified(
    status: int, code: str | None, verdict: str, tmp_path: Path
) -> None:
    from s3auth_client import MinerClient
    from s3auth_client.isolation import IsolationCheck

    seen: list[httpx2.Request] = []

    def service(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        if status == 200:
            return httpx2.Response(200, json={"folder": "data/x/c/"})
        return httpx2.Response(status, json={"detail": "refused", "code": code})

    client = MinerClient(mock_api(service), "x")
    check = IsolationCheck(client, other_coldkey="c", other_source="reddit", workdir=tmp_path)

    zero = check.all_zero_public_key(None)  # type: ignore[arg-type]
    ed25519 = check.ed25519_btauth(None)  # type: ignore[arg-type]

    assert (zero.verdict, ed25519.verdict) == (verdict, verdict)
    zero_headers, ed_headers = seen[0].headers, seen[1].headers
    assert zero_headers["x-tao-signed-by"] == "5C4hrfjw9DjXZTzV3MwzrrAr9P1MJhSrvWGWqi1eSuyUpnhM"
    assert base64.b64decode(zero_headers["x-tao-signature"]) == bytes(63) + b"\x80"
    assert ed_headers["x-bittensor-crypto"] == "ed25519"
