"""The own SigV4 presigner signs byte for byte what botocore's client signs."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.auth
import botocore.signers
import pytest
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import Credentials

from app.errors import Unavailable
from app.storage.presign import Presigner
from app.storage.sigv4 import Signer

FROZEN = datetime.datetime(2026, 3, 4, 5, 6, 7)
FROZEN_UNIX = FROZEN.replace(tzinfo=datetime.UTC).timestamp()
KEYS = [
    "data/x/5Fcoldkey/file.parquet",
    "data/x/5Fcoldkey/label/2025-01-01/a b+c~é/ü?.bin",
    "data/reddit/odd//double/./dots/../x.json",
]


@pytest.fixture
def frozen_botocore(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: FROZEN)
    monkeypatch.setattr(botocore.signers, "get_current_datetime", lambda *a, **k: FROZEN)
    yield


def s3(endpoint: str | None, region: str, token: str | None = None) -> BaseClient:
    return boto3.session.Session(
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        aws_session_token=token,
        region_name=region,
    ).client(
        "s3",
        endpoint_url=endpoint,
        config=Config(
            region_name=region,
            signature_version="s3v4",
            s3={"addressing_style": "path" if endpoint else "auto"},
        ),
    )


CASES = [
    pytest.param("http://127.0.0.1:8333", "us-east-1", "test-bucket", None, id="path-style"),
    pytest.param("https://minio.example.com", "eu-1", "b1", None, id="path-style-https"),
    pytest.param(None, "us-east-1", "data-universe-storage", None, id="aws-virtual-host"),
    pytest.param(None, "eu-west-1", "data-universe-storage", None, id="aws-other-region"),
    pytest.param(None, "eu-west-1", "my.dotted.bucket", None, id="aws-dotted-bucket"),
    pytest.param(None, "us-east-1", "data-universe-storage", "FwoG/Zz+token==", id="session"),
]


@pytest.mark.parametrize(("endpoint", "region", "bucket", "token"), CASES)
def test_get_urls_match_botocore(
    frozen_botocore: None, endpoint: str | None, region: str, bucket: str, token: str | None
) -> None:
    client = s3(endpoint, region, token)
    presigner = Presigner(client, bucket, clock=lambda: FROZEN_UNIX)
    for key in KEYS:
        expected = client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600
        )
        assert presigner.get_url(key, expires_in=3600) == expected


@pytest.mark.parametrize(("endpoint", "region", "bucket", "token"), CASES)
@pytest.mark.parametrize("delimiter", [None, "/"])
def test_list_urls_match_botocore(
    frozen_botocore: None,
    endpoint: str | None,
    region: str,
    bucket: str,
    token: str | None,
    delimiter: str | None,
) -> None:
    client = s3(endpoint, region, token)
    presigner = Presigner(client, bucket, clock=lambda: FROZEN_UNIX)
    for prefix in ["data/", "data/x/", "data/x/5F odd+ké/"]:
        params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if delimiter:
            params["Delimiter"] = delimiter
        expected = client.generate_presigned_url("list_objects_v2", Params=params, ExpiresIn=900)
        assert presigner.list_url(prefix, expires_in=900, delimiter=delimiter) == expected


@pytest.mark.parametrize(("endpoint", "region", "bucket", "token"), CASES)
def test_upload_forms_match_botocore(
    frozen_botocore: None, endpoint: str | None, region: str, bucket: str, token: str | None
) -> None:
    client = s3(endpoint, region, token)
    prefix = "data/x/5Fcoldkey/"
    expected = client.generate_presigned_post(
        Bucket=bucket,
        Key=prefix + "${filename}",
        Fields={"acl": "private"},
        Conditions=[["content-length-range", 1024, 5 * 1024**3], {"acl": "private"}],
        ExpiresIn=86400,
    )

    form = Presigner(client, bucket, clock=lambda: FROZEN_UNIX).upload_form(
        prefix, min_bytes=1024, max_bytes=5 * 1024**3, expires_in=86400
    )

    assert form.url == expected["url"]
    assert form.fields == {k: v for k, v in expected["fields"].items() if k != "key"}
    assert list(form.fields) == [k for k in expected["fields"] if k != "key"]


def test_rotated_credentials_are_used_for_the_next_url() -> None:
    client = s3("http://127.0.0.1:8333", "us-east-1")
    presigner = Presigner(client, "b1", clock=lambda: FROZEN_UNIX)
    before = presigner.get_url("data/x/a", expires_in=60)

    client._request_signer._credentials = Credentials("AKIDROTATED", "new-secret", "tok")
    after = presigner.get_url("data/x/a", expires_in=60)

    assert "AKIDEXAMPLE" in before
    assert "AKIDROTATED" in after
    assert "X-Amz-Security-Token=tok" in after


def test_missing_credentials_are_unavailable_not_a_crash() -> None:
    client = s3("http://127.0.0.1:8333", "us-east-1")
    client._request_signer._credentials = None

    with pytest.raises(Unavailable) as refused:
        Presigner(client, "b1").get_url("data/x/a", expires_in=60)
    assert refused.value.status == 503


def test_query_parameters_sorting_before_auth_are_signed_like_botocore(
    frozen_botocore: None,
) -> None:
    client = s3("http://127.0.0.1:8333", "us-east-1", "tok")
    creds = client._get_credentials().get_frozen_credentials()
    request = AWSRequest(method="GET", url="http://127.0.0.1:8333/b1/k?Alpha=1&zeta=2")
    S3SigV4QueryAuth(creds, "s3", "us-east-1", 60).add_auth(request)

    signer = Signer.at(
        FROZEN_UNIX,
        access_key=creds.access_key,
        secret_key=creds.secret_key,
        token=creds.token,
        region="us-east-1",
    )
    query = signer.presign_query(
        host="127.0.0.1:8333", path="/b1/k", params=[("Alpha", "1"), ("zeta", "2")], expires_in=60
    )

    assert request.url == f"http://127.0.0.1:8333/b1/k?{query}"
