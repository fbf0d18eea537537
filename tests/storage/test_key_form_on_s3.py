"""An exact-key POST form writes that one key, and nothing else, on a real S3 (SeaweedFS)."""

from __future__ import annotations

import time

import httpx2
import pytest

from app.storage.presign import Presigner, UploadForm
from tests.conftest import S3Server

KEY = "on-demand-jobs/date=2026-08-05/hour=12/job_id=j1/5Fminer.json"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def presigner(seaweed: S3Server, bucket: str) -> Presigner:
    return Presigner(seaweed.client, bucket)


def form_for(presigner: Presigner, *, expires_in: int = 300) -> UploadForm:
    if expires_in < 0:
        # A form signed in the past, already expired.
        presigner = Presigner(presigner.client, presigner.bucket, clock=lambda: time.time() - 600)
        expires_in = 600 + expires_in
    return presigner.key_upload_form(
        KEY, min_bytes=1, max_bytes=100, expires_in=expires_in, content_type=JSON["Content-Type"]
    )


def post(form: UploadForm, body: bytes, **changes: str) -> httpx2.Response:
    fields = {**form.fields, **changes}
    content_type = fields.get("Content-Type", "application/json")
    return httpx2.post(
        form.url, data=fields, files={"file": ("data.json", body, content_type)}, timeout=30
    )


def test_form_carries_its_key_and_content_type(presigner: Presigner) -> None:
    form = form_for(presigner)
    assert form.fields["key"] == KEY
    assert form.fields["Content-Type"] == "application/json"


def test_form_writes_exactly_its_key(presigner: Presigner, seaweed: S3Server, bucket: str) -> None:
    answer = post(form_for(presigner), b'{"data_entities": []}')
    assert answer.status_code in (200, 201, 204), answer.text
    head = seaweed.client.head_object(Bucket=bucket, Key=KEY)
    assert head["ContentLength"] == len(b'{"data_entities": []}')
    assert seaweed.keys(bucket) == [KEY]


@pytest.mark.parametrize(
    "other_key",
    [
        KEY.replace("5Fminer", "5Fother"),
        KEY + ".extra",
        KEY.replace("job_id=j1", "job_id=j2"),
    ],
)
def test_form_refuses_another_key(
    presigner: Presigner, seaweed: S3Server, bucket: str, other_key: str
) -> None:
    answer = post(form_for(presigner), b"{}", key=other_key)
    assert answer.status_code == 403
    assert seaweed.keys(bucket) == []


def test_form_refuses_an_answer_over_the_size_limit(
    presigner: Presigner, seaweed: S3Server, bucket: str
) -> None:
    assert post(form_for(presigner), b"x" * 101).status_code in (400, 403)
    assert seaweed.keys(bucket) == []


def test_form_refuses_an_empty_answer(presigner: Presigner, seaweed: S3Server, bucket: str) -> None:
    assert post(form_for(presigner), b"").status_code in (400, 403)
    assert seaweed.keys(bucket) == []


def test_form_refuses_another_content_type(
    presigner: Presigner, seaweed: S3Server, bucket: str
) -> None:
    answer = post(form_for(presigner), b"{}", **{"Content-Type": "text/html"})
    assert answer.status_code == 403
    assert seaweed.keys(bucket) == []


def test_expired_form_is_refused(presigner: Presigner, seaweed: S3Server, bucket: str) -> None:
    assert post(form_for(presigner, expires_in=-5), b"{}").status_code == 403
    assert seaweed.keys(bucket) == []
