"""The least a Python service can do per signed request: a reference for the subnet hour.

`python -m bench.bare_server PORT REDIS_PORT` answers every HTTP request with a fixed
`{"status":"ok"}` after one Redis round trip (an INCR of `bench:bare`), the one round
trip every signed request needs for its nonce and limits. No framework, no routing, no
signature, no JSON: raw asyncio protocols on one connection each. What this costs per
request at the hour's rate is what no implementation of the service in Python can go
below on the machine, whatever it does above it.
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque

ANSWER = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n"
    b'{"status":"ok"}'
)
INCR = b"*2\r\n$4\r\nINCR\r\n$10\r\nbench:bare\r\n"
HEAD_END = b"\r\n\r\n"


class RedisLink(asyncio.Protocol):
    """Replies come in the order the INCRs went out; each one releases one answer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.owed: deque[asyncio.Transport] = deque()
        self.pending = b""
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        # An INCR's reply is one line; the last piece is an unfinished one (or empty).
        *replies, self.pending = (self.pending + data).split(b"\r\n")
        for _ in replies:
            client = self.owed.popleft()
            if not client.is_closing():
                client.write(ANSWER)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def ask(self, client: asyncio.Transport) -> None:
        assert self.transport is not None
        self.owed.append(client)
        self.transport.write(INCR)


class HttpClient(asyncio.Protocol):
    """Requests without a body (the reference is sent GETs); one answer per request head."""

    def __init__(self, redis: RedisLink) -> None:
        self.redis = redis
        self.transport: asyncio.Transport | None = None
        self.pending = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        *requests, self.pending = (self.pending + data).split(HEAD_END)
        for _ in requests:
            self.redis.ask(self.transport)


async def serve(port: int, redis_port: int) -> None:
    loop = asyncio.get_running_loop()
    _, redis = await loop.create_connection(RedisLink, "127.0.0.1", redis_port)
    server = await loop.create_server(lambda: HttpClient(redis), "127.0.0.1", port)
    async with server:  # serving from here until Redis goes away
        await redis.closed


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2])))
