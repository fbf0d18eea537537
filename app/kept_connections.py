"""Client connections kept open between HTTP/1.1 requests, and when to stop reusing one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
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


async def close_all(connections: Iterable[KeptConnection]) -> None:
    """Closes every connection and waits until each is gone."""
    connections = list(connections)
    for connection in connections:
        connection.close()
    for connection in connections:
        with contextlib.suppress(OSError):
            await connection.writer.wait_closed()
