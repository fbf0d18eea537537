"""Client connections kept open between HTTP/1.1 requests: which to reuse, how to read a head."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass


@dataclass
class KeptConnection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def reusable(self) -> bool:
        # A server closes idle connections after some seconds; one it closed shows EOF here,
        # and a request sent into it would be lost.
        return not self.reader.at_eof() and not self.writer.is_closing()

    def close(self) -> None:
        self.writer.close()


@dataclass(frozen=True, slots=True)
class ResponseHead:
    status: int
    headers: dict[str, str]  # names in lower case
    keep: bool  # whether the connection may carry another request


def read_head(head: bytes) -> ResponseHead:
    """A response's status line and headers, up to the blank line; ValueError if not HTTP/1."""
    status_line, *lines = head.decode("latin-1").split("\r\n")
    version, status, *_ = status_line.split(" ", 2)
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1 answer: {status_line[:40]!r}")
    headers: dict[str, str] = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    keep = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
    return ResponseHead(int(status), headers, keep)


class IdleConnections:
    """Connections waiting for their next request, by destination (or by client)."""

    def __init__(self, per_key: int | None = None) -> None:
        self.per_key = per_key
        self._idle: dict[Hashable, list[KeptConnection]] = defaultdict(list)

    def take(self, key: Hashable) -> KeptConnection | None:
        """The most recently used connection still open, or None."""
        idle = self._idle[key]
        while idle:
            connection = idle.pop()
            if connection.reusable():
                return connection
            connection.close()
        return None

    def keep(self, key: Hashable, connection: KeptConnection) -> None:
        idle = self._idle[key]
        if self.per_key is not None and len(idle) >= self.per_key:
            connection.close()
        else:
            idle.append(connection)

    async def close(self) -> None:
        """Closes every idle connection and waits until each is gone."""
        connections = [c for idle in self._idle.values() for c in idle]
        self._idle.clear()
        for connection in connections:
            connection.close()
        for connection in connections:
            with contextlib.suppress(OSError):
                await connection.writer.wait_closed()
