"""A real `s3auth serve` process: limits that live in the HTTP server need a socket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.seaweed import free_ports
from bench.server import ServiceProcess
from tests.conftest import Subnet

REPO = Path(__file__).resolve().parents[2]
MAX_CONNECTIONS = 24


def service_env(metagraph: Path, **extra: str) -> dict[str, str]:
    return {
        "METAGRAPH_FILE": str(metagraph),
        "S3_BUCKET": "serve-test",
        "S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "serve-test-access",
        "AWS_SECRET_ACCESS_KEY": "serve-test-secret",
        "RATE_LIMIT_IP": "",
        "RATE_LIMIT_MINER": "",
        "RATE_LIMIT_VALIDATOR": "",
        "MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "HEADER_TIMEOUT_SECONDS": "1",
        "KEEP_ALIVE_SECONDS": "1",
        **extra,
    }


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, subnet: Subnet) -> Iterator[ServiceProcess]:
    workdir = tmp_path_factory.mktemp("serve")
    metagraph = workdir / "metagraph.json"
    metagraph.write_text(json.dumps(subnet.metagraph()))
    service = ServiceProcess(
        service_env(metagraph),
        port=free_ports(1)[0],
        source_dir=REPO,
        log_path=workdir / "serve.log",
    )
    with service:
        yield service
