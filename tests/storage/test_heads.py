"""HEADs to SeaweedFS on kept connections: signed statuses, stale connections, proxies, faults."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import ssl
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit

import pytest

from app.storage.client import make_s3_client
from app.storage.heads import StorageHeads, StorageUnreachable
from app.storage.presign import Presigner
from config import Settings
from tests.conftest import S3Server
from tests.tcp_proxy import TcpProxy

T = TypeVar("T")


def presigner_for(endpoint_url: str, seaweed: S3Server, bucket: str) -> Presigner:
    settings = Settings(
        s3_endpoint_url=endpoint_url,
        s3_bucket=bucket,
        aws_access_key_id=seaweed.credentials.access_key,
        aws_secret_access_key=seaweed.credentials.secret_key,
    )
    return Presigner(make_s3_client(settings), bucket)


def through_proxy(
    seaweed: S3Server, scenario: Callable[[TcpProxy, StorageHeads], Awaitable[T]], **kw: float
) -> T:
    """Runs `scenario` with SeaweedFS behind a TCP proxy the test can cut or hold."""
    target = urlsplit(seaweed.endpoint_url)

    async def run() -> T:
        proxy = await TcpProxy(target.hostname or "", target.port or 80).start()
        heads = StorageHeads(**kw)
        try:
            return await scenario(proxy, heads)
        finally:
            await heads.aclose()
            await proxy.stop()

    return asyncio.run(run())


@pytest.fixture
def stored_key(seaweed: S3Server, bucket: str) -> str:
    key = "data/hotkey=5F/job/present.parquet"
    seaweed.client.put_object(Bucket=bucket, Key=key, Body=b"x" * 2048)
    return key


def test_signed_heads_answer_200_for_a_stored_object_404_for_a_missing_one_403_when_forged(
    seaweed: S3Server, bucket: str, stored_key: str
) -> None:
    async def scenario(proxy: TcpProxy, heads: StorageHeads) -> list[int]:
        presigner = presigner_for(f"http://127.0.0.1:{proxy.port}", seaweed, bucket)
        present = presigner.head_url(stored_key, expires_in=60)
        missing = presigner.head_url("data/hotkey=5F/job/absent.parquet", expires_in=60)
        forged = present.replace("present.parquet", "other.parquet")
        return [await heads.status(url) for url in (present, missing, forged)]

    assert through_proxy(seaweed, scenario) == [200, 404, 403]


def test_a_burst_of_heads_shares_a_few_kept_connections_and_each_gets_its_own_status(
    seaweed: S3Server, bucket: str, stored_key: str
) -> None:
    async def scenario(proxy: TcpProxy, heads: StorageHeads) -> tuple[list[int], int]:
        presigner = presigner_for(f"http://127.0.0.1:{proxy.port}", seaweed, bucket)
        urls = [
            presigner.head_url(stored_key if n % 3 == 0 else f"data/absent-{n}", expires_in=60)
            for n in range(300)
        ]
        statuses = []
        for start in range(0, 300, 30):  # 30 at once, ten times over
            statuses += await asyncio.gather(*(heads.status(u) for u in urls[start : start + 30]))
        return statuses, proxy.accepted

    statuses, connections = through_proxy(seaweed, scenario)
    assert statuses == [200 if n % 3 == 0 else 404 for n in range(300)]
    assert connections <= 30


def test_a_kept_connection_s3_dropped_is_replaced_without_a_refusal(
    seaweed: S3Server, bucket: str, stored_key: str
) -> None:
    async def scenario(proxy: TcpProxy, heads: StorageHeads) -> list[int]:
        presigner = presigner_for(f"http://127.0.0.1:{proxy.port}", seaweed, bucket)
        url = presigner.head_url(stored_key, expires_in=60)
        statuses = []
        for _ in range(5):
            statuses.append(await heads.status(url))
            await proxy.stop()  # resets the kept connection, as an S3 restart would
            await proxy.start()
        return statuses

    assert through_proxy(seaweed, scenario) == [200] * 5


def test_a_silent_s3_is_unreachable_within_the_read_deadline_and_the_next_head_is_answered(
    seaweed: S3Server, bucket: str, stored_key: str
) -> None:
    async def scenario(proxy: TcpProxy, heads: StorageHeads) -> tuple[float, int]:
        presigner = presigner_for(f"http://127.0.0.1:{proxy.port}", seaweed, bucket)
        url = presigner.head_url(stored_key, expires_in=60)
        assert await heads.status(url) == 200
        proxy.hold()
        started = time.monotonic()
        with pytest.raises(StorageUnreachable):
            await heads.status(url)
        waited = time.monotonic() - started
        proxy.release()
        return waited, await heads.status(url)

    waited, after = through_proxy(seaweed, scenario, read_seconds=0.5)
    assert waited < 2.0
    assert after == 200


def test_a_stopped_s3_is_unreachable_not_an_error_of_the_service(seaweed: S3Server) -> None:
    async def scenario(proxy: TcpProxy, heads: StorageHeads) -> None:
        url = f"http://127.0.0.1:{proxy.port}/bucket/key"
        await proxy.stop()
        for _ in range(3):
            with pytest.raises(StorageUnreachable):
                await heads.status(url)

    through_proxy(seaweed, scenario)


def test_a_configured_proxy_carries_the_heads_unless_no_proxy_names_the_host(
    seaweed: S3Server, bucket: str, stored_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proxy here is SeaweedFS behind a TCP relay: it answers absolute-form requests."""
    for name in ("ALL_PROXY", "HTTPS_PROXY", "NO_PROXY", "all_proxy", "https_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    presigner = presigner_for(seaweed.endpoint_url, seaweed, bucket)
    url = presigner.head_url(stored_key, expires_in=60)

    async def scenario(proxy: TcpProxy, heads: StorageHeads) -> tuple[int, int]:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        status = await heads.status(url)
        return status, proxy.accepted

    assert through_proxy(seaweed, scenario) == (200, 1)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert through_proxy(seaweed, scenario) == (200, 0)


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A certificate for 127.0.0.1 that no default trust store knows: (cert, key) paths."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


def test_heads_to_an_https_endpoint_verify_its_certificate_and_keep_the_connection(
    seaweed: S3Server,
    bucket: str,
    stored_key: str,
    self_signed: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SeaweedFS behind a TLS front of the test's own, as S3 on AWS is reached over https."""
    target = urlsplit(seaweed.endpoint_url)
    cert, key = self_signed
    accepted = 0

    async def front(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        upstream_reader, upstream_writer = await asyncio.open_connection(
            target.hostname, target.port
        )
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    async def scenario() -> list[int | str]:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(cert, key)
        server = await asyncio.start_server(front, "127.0.0.1", 0, ssl=tls)
        port = server.sockets[0].getsockname()[1]
        presigner = presigner_for(f"https://127.0.0.1:{port}", seaweed, bucket)
        heads = StorageHeads()
        outcomes: list[int | str] = []
        try:
            for name in (stored_key, "data/hotkey=5F/job/absent.parquet", stored_key):
                try:
                    outcomes.append(await heads.status(presigner.head_url(name, expires_in=60)))
                except StorageUnreachable as error:
                    outcomes.append(str(error))
        finally:
            await heads.aclose()
            server.close()
        return outcomes

    for name in ("SSL_CERT_DIR", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", cert)
    assert asyncio.run(scenario()) == [200, 404, 200]
    assert accepted == 1
    monkeypatch.delenv("SSL_CERT_FILE")
    refused = asyncio.run(scenario())
    assert all("SSLCertVerificationError" in str(outcome) for outcome in refused), refused
