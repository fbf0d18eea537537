"""HEAD requests the service sends S3 itself, on HTTP/1.1 connections it keeps open.

Every upload URL first asks S3 whether its object is already there, and a miner's burst
asks once per list entry. Through httpx such a HEAD cost ~850 µs of the worker's CPU;
written and read here it costs 110-150 µs, deadlines and connection bookkeeping
included: a HEAD answer is a status line and headers, never a body. A host that a proxy
setting covers (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY, as httpx and botocore read
them) is asked through httpx, which speaks to proxies.
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.request
from urllib.parse import SplitResult, urlsplit

import httpx2

from app.kept_connections import IdleConnections, KeptConnection, read_head
from app.storage.presign import DEFAULT_PORTS, signed_host

CONNECT_SECONDS = 3.0
READ_SECONDS = 5.0
MAX_CONNECTIONS = 64
MAX_IDLE_PER_ORIGIN = 32

Origin = tuple[str, str, int]  # scheme, host, port


class StorageUnreachable(Exception):
    """No HTTP answer came: refused, reset, timed out or not HTTP."""


def proxied(parts: SplitResult) -> bool:
    """Whether the environment sends requests to this URL's host through a proxy."""
    proxies = urllib.request.getproxies_environment()
    if parts.scheme not in proxies and "all" not in proxies:
        return False
    return not urllib.request.proxy_bypass_environment(parts.hostname or "")


class StorageHeads:
    """Sends HEAD requests to presigned URLs; at most MAX_CONNECTIONS at once."""

    def __init__(
        self, *, connect_seconds: float = CONNECT_SECONDS, read_seconds: float = READ_SECONDS
    ) -> None:
        self.connect_seconds = connect_seconds
        self.read_seconds = read_seconds
        self._idle = IdleConnections(per_key=MAX_IDLE_PER_ORIGIN)
        self._direct: dict[Origin, bool] = {}
        self._slots = asyncio.Semaphore(MAX_CONNECTIONS)
        self._tls: ssl.SSLContext | None = None
        self._through_proxy: httpx2.AsyncClient | None = None

    async def status(self, url: str) -> int:
        """The HTTP status S3 answers a HEAD of `url` with; StorageUnreachable without one."""
        parts = urlsplit(url)
        scheme = parts.scheme
        origin = (scheme, parts.hostname or "", parts.port or DEFAULT_PORTS.get(scheme, 80))
        direct = self._direct.get(origin)
        if direct is None:  # reading the proxy settings costs about as much as the HEAD
            direct = self._direct[origin] = not proxied(parts)
        if not direct:
            return await self._status_through_proxy(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request = (
            f"HEAD {target} HTTP/1.1\r\nHost: {signed_host(parts)}\r\n"
            "User-Agent: s3-auth-server\r\n\r\n"
        ).encode("latin-1")
        try:
            async with asyncio.timeout(self.read_seconds):
                await self._slots.acquire()
        except TimeoutError:
            raise StorageUnreachable("every connection to S3 is busy") from None
        try:
            connection, reused = await self._connection(origin)
            try:
                return await self._exchange(origin, connection, request)
            except (ConnectionError, asyncio.IncompleteReadError):
                if not reused:
                    raise StorageUnreachable("S3 closed the connection") from None
            # S3 closed a kept connection as the request went out: once more on a new one.
            connection, _ = await self._connection(origin, fresh=True)
            try:
                return await self._exchange(origin, connection, request)
            except (ConnectionError, asyncio.IncompleteReadError):
                raise StorageUnreachable("S3 closed the connection") from None
        finally:
            self._slots.release()

    async def _connection(
        self, origin: Origin, *, fresh: bool = False
    ) -> tuple[KeptConnection, bool]:
        if not fresh and (kept := self._idle.take(origin)) is not None:
            return kept, True
        scheme, host, port = origin
        try:
            async with asyncio.timeout(self.connect_seconds):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=self._tls_context() if scheme == "https" else None
                )
        except (OSError, TimeoutError) as error:
            raise StorageUnreachable(f"cannot connect to S3: {type(error).__name__}") from None
        return KeptConnection(reader, writer), False

    async def _exchange(self, origin: Origin, connection: KeptConnection, request: bytes) -> int:
        try:
            async with asyncio.timeout(self.read_seconds):
                connection.writer.write(request)
                head = read_head(await connection.reader.readuntil(b"\r\n\r\n"))
        except (ConnectionError, asyncio.IncompleteReadError):
            connection.close()
            raise
        except (OSError, TimeoutError, asyncio.LimitOverrunError, ValueError) as error:
            connection.close()
            raise StorageUnreachable(f"no answer from S3: {type(error).__name__}") from None
        except BaseException:
            # Cancelled mid-answer: the rest of it would be read as the next answer.
            connection.close()
            raise
        if head.keep:
            self._idle.keep(origin, connection)
        else:
            connection.close()
        return head.status

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            # The trust httpx had: certifi's roots, or SSL_CERT_FILE / SSL_CERT_DIR.
            self._tls = httpx2.create_ssl_context()
        return self._tls

    async def _status_through_proxy(self, url: str) -> int:
        if self._through_proxy is None:
            self._through_proxy = httpx2.AsyncClient(
                timeout=httpx2.Timeout(self.read_seconds, connect=self.connect_seconds),
                limits=httpx2.Limits(max_connections=MAX_CONNECTIONS),
            )
        try:
            return (await self._through_proxy.head(url)).status_code
        except httpx2.HTTPError as error:
            raise StorageUnreachable(f"no answer from S3: {type(error).__name__}") from None

    async def aclose(self) -> None:
        await self._idle.close()
        if self._through_proxy is not None:
            await self._through_proxy.aclose()
