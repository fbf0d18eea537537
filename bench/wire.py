"""A lean HTTP/1.1 client for the subnet hour: each neuron keeps connections of its own.

The subnet hour sends about 800 requests/s at 12x from two driver processes on the same
two cores as the service. Through httpx, whose one pool served every neuron, the drivers
spent about 2 ms of CPU per request, filled both cores and fell behind their schedule by
tens of seconds, so the figures measured the driver. Here a request is one write of
prepared bytes and a read of a `Content-Length` body (or chunks), and every neuron has
its own idle connections, as every deployed client has its own HTTP client.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from app.kept_connections import IdleConnections, KeptConnection, read_head


class NoAnswer(Exception):
    """The service closed, refused or did not answer in time: no status to count."""


@dataclass(frozen=True)
class Answer:
    status_code: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def _read_answer(reader: asyncio.StreamReader) -> tuple[Answer, bool]:
    """One response; and whether the connection may carry another."""
    head = read_head(await reader.readuntil(b"\r\n\r\n"))
    headers = head.headers
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")
        body = b"".join(parts)
    else:
        return Answer(head.status, headers, await reader.read()), False
    return Answer(head.status, headers, body), head.keep


class NeuronClient:
    """Requests to one service, each on a connection of the neuron that sends it."""

    def __init__(self, host: str, port: int, *, timeout: float = 60.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._idle = IdleConnections()

    async def _connection(self, owner: Hashable) -> KeptConnection:
        if (kept := self._idle.take(owner)) is not None:
            return kept
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return KeptConnection(reader, writer)

    async def request(
        self,
        owner: Hashable,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes = b"",
    ) -> Answer:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body or method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(body)}")
        message = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        connection: KeptConnection | None = None
        try:
            async with asyncio.timeout(self.timeout):
                connection = await self._connection(owner)
                connection.writer.write(message)
                answer, keep = await _read_answer(connection.reader)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError, TimeoutError) as error:  # fmt: skip
            if connection is not None:
                connection.close()
            raise NoAnswer(f"{type(error).__name__}: {error}") from error
        if keep:
            self._idle.keep(owner, connection)
        else:
            connection.close()
        return answer

    async def aclose(self) -> None:
        await self._idle.close()
