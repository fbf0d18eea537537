"""The real app served over a real port on SeaweedFS, for clients that speak HTTP to it.

Servers and the bucket live for this package's tests and are removed after them.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request

from app.deps import get_services
from app.main import create_app
from app.seaweed import free_ports
from app.services import Services
from app.storage.presign import Presigner, UploadForm
from config import Settings
from s3auth_client import Identity, MinerClient, ValidatorClient
from s3auth_client.api import Api
from s3auth_client.retry import RetryPolicy
from tests.conftest import S3Server, Subnet

# Tests must not wait out real backoff; one quick retry still exercises the path.
FAST_RETRY = RetryPolicy(attempts=2, backoff_seconds=0.01)


class LiveServer:
    """uvicorn serving `app` on a free loopback port from a background thread."""

    def __init__(self, app: FastAPI) -> None:
        port = free_ports(1)[0]
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


class WidePresigner(Presigner):
    """A broken deployment: every miner's form may write anywhere under data/."""

    def upload_form(
        self, prefix: str, *, min_bytes: int, max_bytes: int, expires_in: int
    ) -> UploadForm:
        return super().upload_form(
            "data/", min_bytes=min_bytes, max_bytes=max_bytes, expires_in=expires_in
        )


def weakened_app(settings: Settings) -> FastAPI:
    app = create_app(settings)

    def wide_services(request: Request) -> Services:
        services: Services = request.app.state.services
        return dataclasses.replace(
            services, presigner=WidePresigner(services.s3, services.settings.s3_bucket)
        )

    app.dependency_overrides[get_services] = wide_services
    return app


@dataclass(frozen=True)
class Deployment:
    url: str
    bucket: str
    s3: S3Server
    settings: Settings

    def objects(self, prefix: str = "") -> dict[str, bytes]:
        return {
            key: self.s3.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            for key in self.s3.keys(self.bucket, prefix)
        }


@dataclass(frozen=True)
class WalletKeys:
    path: Path
    name: str
    hotkey: str
    hotkey_ss58: str
    coldkey_ss58: str


@pytest.fixture(scope="package")
def wallet_keys(tmp_path_factory: pytest.TempPathFactory) -> WalletKeys:
    """A bittensor wallet on disk (no password), registered as a miner below."""
    from bittensor_wallet import Wallet

    path = tmp_path_factory.mktemp("wallets")
    wallet = Wallet(name="miner", hotkey="default", path=str(path))
    wallet.create_new_coldkey(use_password=False, suppress=True)
    wallet.create_new_hotkey(use_password=False, suppress=True)
    return WalletKeys(
        path, "miner", "default", wallet.hotkey.ss58_address, wallet.coldkeypub.ss58_address
    )


@pytest.fixture(scope="package")
def client_settings(
    tmp_path_factory: pytest.TempPathFactory,
    subnet: Subnet,
    seaweed: S3Server,
    wallet_keys: WalletKeys,
) -> Iterator[Settings]:
    """Settings for one bucket that lives as long as these tests.

    The bucket is deleted afterwards: SeaweedFS gives every bucket volumes of its own
    and a test server has room for only about ten buckets holding data.
    """
    metagraph: dict[str, Any] = subnet.metagraph()
    metagraph["neurons"].append(
        {
            "uid": len(metagraph["neurons"]),
            "hotkey": wallet_keys.hotkey_ss58,
            "coldkey": wallet_keys.coldkey_ss58,
            "validator_permit": False,
            "stake": 0.0,
        }
    )
    path = tmp_path_factory.mktemp("client-metagraph") / "metagraph.json"
    path.write_text(json.dumps(metagraph))
    settings = Settings(
        _env_file=None,
        metagraph_file=path,
        s3_bucket=seaweed.new_bucket(),
        s3_endpoint_url=seaweed.endpoint_url,
        aws_access_key_id=seaweed.credentials.access_key,
        aws_secret_access_key=seaweed.credentials.secret_key,
        rate_limit_ip="",
        rate_limit_miner="",
        rate_limit_validator="",
        # Folder discovery re-lists on every bundle (serving the previous listing meanwhile).
        discovery_cache_seconds=0,
        # The test subnet's validator (uid 2) may read hotkey folders.
        trusted_validators=("2",),
    )
    yield settings
    empty(seaweed, settings.s3_bucket)
    seaweed.client.delete_bucket(Bucket=settings.s3_bucket)


@pytest.fixture(scope="package")
def live(client_settings: Settings, seaweed: S3Server) -> Iterator[Deployment]:
    server = LiveServer(create_app(client_settings)).start()
    try:
        yield Deployment(server.url, client_settings.s3_bucket, seaweed, client_settings)
    finally:
        server.stop()


@pytest.fixture(scope="package")
def live_put(client_settings: Settings, seaweed: S3Server) -> Iterator[Deployment]:
    """The same bucket served with presigned PUT targets (UPLOAD_METHOD=put, as for R2)."""
    settings = client_settings.model_copy(update={"upload_method": "put"})
    server = LiveServer(create_app(settings)).start()
    try:
        yield Deployment(server.url, settings.s3_bucket, seaweed, settings)
    finally:
        server.stop()


@pytest.fixture(scope="package")
def weak(client_settings: Settings, seaweed: S3Server) -> Iterator[Deployment]:
    server = LiveServer(weakened_app(client_settings)).start()
    try:
        yield Deployment(server.url, client_settings.s3_bucket, seaweed, client_settings)
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def empty_bucket(client_settings: Settings, seaweed: S3Server) -> Iterator[None]:
    """Every test starts from and leaves an empty bucket."""
    yield
    empty(seaweed, client_settings.s3_bucket)


def empty(seaweed: S3Server, bucket: str) -> None:
    keys = seaweed.keys(bucket)
    for start in range(0, len(keys), 1000):
        objects = [{"Key": key} for key in keys[start : start + 1000]]
        seaweed.client.delete_objects(Bucket=bucket, Delete={"Objects": objects})


def miner_identity(subnet: Subnet) -> Identity:
    return Identity(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)


def miner_client(deployment: Deployment, subnet: Subnet, **api: Any) -> MinerClient:
    return MinerClient(Api(deployment.url, miner_identity(subnet), retry=FAST_RETRY, **api), "x")


def validator_client(deployment: Deployment, subnet: Subnet) -> ValidatorClient:
    identity = Identity(subnet.validator.hotkey)
    return ValidatorClient(Api(deployment.url, identity, retry=FAST_RETRY))


def miner_args(deployment: Deployment, subnet: Subnet) -> list[str]:
    """Command-line key and service options for the test subnet's miner."""
    return [
        "--url",
        deployment.url,
        "--hotkey-uri",
        "//miner-hot",
        "--coldkey",
        subnet.miner.coldkey.ss58_address,
    ]


def validator_args(deployment: Deployment) -> list[str]:
    return ["--url", deployment.url, "--hotkey-uri", "//validator-hot"]
