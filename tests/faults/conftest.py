"""A SeaweedFS of the fault tests' own, which they may freeze and thaw."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from botocore.client import BaseClient

from app.seaweed import S3Credentials, SeaweedServer
from tests.conftest import s3_client_for


@dataclass(frozen=True)
class PausableS3:
    server: SeaweedServer
    client: BaseClient

    def new_bucket(self) -> str:
        name = f"fault-{secrets.token_hex(6)}"
        self.client.create_bucket(Bucket=name)
        return name


@pytest.fixture(scope="module")
def pausable_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PausableS3]:
    credentials = S3Credentials(secrets.token_hex(8), secrets.token_hex(16))
    server = SeaweedServer(tmp_path_factory.mktemp("seaweed-faults"), credentials).start()
    client = s3_client_for(server.endpoint_url, credentials)
    try:
        yield PausableS3(server, client)
    finally:
        server.resume()
        client.close()
        server.stop()
