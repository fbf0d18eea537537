"""Apps signing for a real SeaweedFS bucket, with the subnet's validator trusted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from config import Settings
from tests.conftest import S3Server, SettingsFactory, Subnet


@pytest.fixture
def today_settings(
    make_settings: SettingsFactory, seaweed: S3Server, bucket: str, subnet: Subnet
) -> Settings:
    return make_settings(
        s3_bucket=bucket,
        s3_endpoint_url=seaweed.endpoint_url,
        aws_access_key_id=seaweed.credentials.access_key,
        aws_secret_access_key=seaweed.credentials.secret_key,
        trusted_validators=str(subnet.validator.uid),
        upload_min_bytes=16,
        upload_max_bytes=64 * 1024,
    )


@pytest.fixture
def service(today_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(today_settings)) as client:
        yield client
