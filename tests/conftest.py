"""Shared fixtures: keys, a metagraph file, settings, apps, and real S3 and Redis servers."""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import redis
from bittensor.sp_core import Keypair
from botocore.client import BaseClient
from botocore.config import Config
from fastapi.testclient import TestClient

from app.main import create_app
from app.seaweed import S3Credentials, SeaweedServer
from app.shared_store import HORIZON_KEY
from config import Settings
from tests.redis_server import RedisServer
from tests.signing import key

# Database fixtures (`database_url` on SQLite and PostgreSQL), for every test package.
pytest_plugins = ["tests.database"]


@dataclass(frozen=True)
class Member:
    """A registered neuron's keys: the hotkey signs, the coldkey owns the folder."""

    uid: int
    hotkey: Keypair
    coldkey: Keypair
    validator_permit: bool = False
    stake: float = 0.0
    incentive: float = 0.0

    def row(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "hotkey": self.hotkey.ss58_address,
            "coldkey": self.coldkey.ss58_address,
            "validator_permit": self.validator_permit,
            "stake": self.stake,
            "incentive": self.incentive,
        }


@dataclass(frozen=True)
class Subnet:
    miner: Member
    other_miner: Member
    validator: Member
    poor_validator: Member
    outsider: Keypair  # a valid key that is not registered

    @property
    def members(self) -> list[Member]:
        return [self.miner, self.other_miner, self.validator, self.poor_validator]

    def metagraph(self, netuid: int = 13, block: int = 100) -> dict[str, Any]:
        return {"netuid": netuid, "block": block, "neurons": [m.row() for m in self.members]}


@pytest.fixture(scope="session")
def subnet() -> Subnet:
    return Subnet(
        # An incentive the chain's u16 fractions hold exactly (13107/65535).
        miner=Member(0, key("miner-hot"), key("miner-cold"), incentive=0.2),
        other_miner=Member(1, key("other-hot"), key("other-cold")),
        validator=Member(2, key("validator-hot"), key("validator-cold"), True, 50_000.0),
        poor_validator=Member(3, key("poor-hot"), key("poor-cold"), True, 10.0),
        outsider=key("outsider"),
    )


@pytest.fixture
def metagraph_file(tmp_path: Path, subnet: Subnet) -> Path:
    path = tmp_path / "metagraph.json"
    path.write_text(json.dumps(subnet.metagraph()))
    return path


# --- S3 --------------------------------------------------------------------------------


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    credentials: S3Credentials
    client: BaseClient

    def new_bucket(self) -> str:
        name = f"test-{secrets.token_hex(6)}"
        self.client.create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        return [
            obj["Key"]
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
            for obj in page.get("Contents", [])
        ]


def s3_client_for(endpoint_url: str, credentials: S3Credentials) -> BaseClient:
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        region_name="us-east-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    credentials = S3Credentials(secrets.token_hex(8), secrets.token_hex(16))
    server = SeaweedServer(tmp_path_factory.mktemp("seaweed"), credentials).start()
    client = s3_client_for(server.endpoint_url, credentials)
    try:
        yield S3Server(server.endpoint_url, credentials, client)
    finally:
        client.close()
        server.stop()


@pytest.fixture
def bucket(seaweed: S3Server) -> Iterator[str]:
    name = seaweed.new_bucket()
    yield name
    # Each bucket holds volumes of its own; deleting it (SeaweedFS allows that with objects
    # in it) returns them, so a long session does not run out.
    with contextlib.suppress(Exception):
        seaweed.client.delete_bucket(Bucket=name)


# --- Redis -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server on a free port, so tests never share state with anything."""
    try:
        server = RedisServer(tmp_path_factory.mktemp("redis"))
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    server.start()
    with server.client() as client:
        remember_since_an_hour_ago(client)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def shared_redis(redis_url: str) -> Iterator[str]:
    """The session's Redis, emptied so counters and used nonces of other tests do not count."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    remember_since_an_hour_ago(client)
    try:
        yield redis_url
    finally:
        client.close()


def remember_since_an_hour_ago(client: redis.Redis) -> None:
    """A Redis that has held the replay store for a while, as in service: a test's first
    signature is not refused as made before the store (its horizon is set when found missing).
    """
    client.set(HORIZON_KEY, str((time.time_ns() // 1000) - 3_600_000_000))


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, which the test may stop and start again on its port."""
    try:
        server = RedisServer(tmp_path)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    server.start()
    with server.client() as client:
        remember_since_an_hour_ago(client)
    try:
        yield server
    finally:
        server.stop()


# --- Apps ------------------------------------------------------------------------------

SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(metagraph_file: Path, sqlite_database_url: str) -> SettingsFactory:
    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "metagraph_file": metagraph_file,
            "database_url": sqlite_database_url,
            "s3_bucket": "test-bucket",
            "s3_endpoint_url": "http://127.0.0.1:9",
            "aws_access_key_id": "test-access",
            "aws_secret_access_key": "test-secret",
            "rate_limit_ip": "",
            "rate_limit_miner": "",
            "rate_limit_validator": "",
            "rate_limit_ondemand_poll": "",
            "rate_limit_ondemand_failures": "",
            # Background housekeeping passes only where a test asks for them.
            "reap_interval_seconds": 0,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return factory


@pytest.fixture
def s3_settings(make_settings: SettingsFactory, seaweed: S3Server, bucket: str) -> Settings:
    """Settings for an app that signs for a real bucket on SeaweedFS."""
    return make_settings(
        s3_bucket=bucket,
        s3_endpoint_url=seaweed.endpoint_url,
        aws_access_key_id=seaweed.credentials.access_key,
        aws_secret_access_key=seaweed.credentials.secret_key,
    )


@pytest.fixture
def client(make_settings: SettingsFactory) -> Iterator[TestClient]:
    """An app whose S3 endpoint is never contacted: for auth and shape tests."""
    with TestClient(create_app(make_settings())) as test_client:
        yield test_client


@pytest.fixture
def s3_client(s3_settings: Settings) -> Iterator[TestClient]:
    """An app signing for a fresh bucket on the session's SeaweedFS."""
    with TestClient(create_app(s3_settings)) as test_client:
        yield test_client
