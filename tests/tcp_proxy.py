"""A TCP proxy in front of a real server, which a test can cut, silence and restore.

Stands in for a database that goes down (connections refused), hangs (accepted, never
answered) and comes back on the same address, without touching the shared server. It can
also delay every reply (`reply_delay`), and hold the traffic of the connections open at
that moment (`hold`) until `release`: a COMMIT whose reply is late, or that never left.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from typing import Any


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.silent = False
        # Seconds to wait before passing on each chunk the server sends (order is kept).
        self.reply_delay: Callable[[], float] | None = None
        # Per open connection: (requests flowing, replies flowing).
        self._gates: dict[asyncio.StreamWriter, tuple[asyncio.Event, asyncio.Event]] = {}
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.accepted = 0  # connections clients opened through the proxy

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        """Refuses new connections and resets every open one."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._writers.add(writer)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self.silent:
                await asyncio.Event().wait()
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
            self._writers.add(upstream_writer)
            requests, replies = asyncio.Event(), asyncio.Event()
            requests.set()
            replies.set()
            self._gates[writer] = (requests, replies)
            await asyncio.gather(
                self._pipe(reader, upstream_writer, requests),
                self._pipe(upstream_reader, writer, replies, self._reply_delay),
            )
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            self._gates.pop(writer, None)
            writer.transport.abort()

    def _reply_delay(self) -> float:
        return self.reply_delay() if self.reply_delay is not None else 0.0

    def hold(self, *, replies: bool = True, requests: bool = False) -> int:
        """Stops the chosen direction of every connection open now; returns how many."""
        for request_gate, reply_gate in self._gates.values():
            if requests:
                request_gate.clear()
            if replies:
                reply_gate.clear()
        return len(self._gates)

    def release(self) -> None:
        """Lets held traffic flow again (a connection its peer closed meanwhile stays shut)."""
        for request_gate, reply_gate in self._gates.values():
            request_gate.set()
            reply_gate.set()

    @staticmethod
    async def _pipe(
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        gate: asyncio.Event,
        delay: Callable[[], float] | None = None,
    ) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                if delay is not None and (seconds := delay()) > 0:
                    await asyncio.sleep(seconds)
                await gate.wait()
                writer.write(data)
                await writer.drain()
        writer.transport.abort()


class ThreadedProxy:
    """A `TcpProxy` on its own event loop thread, for tests whose app runs on another loop."""

    def __init__(self, target_host: str, target_port: int) -> None:
        import threading

        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.proxy = TcpProxy(target_host, target_port)

    @property
    def port(self) -> int:
        return self.proxy.port

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    def start(self) -> None:
        self._run(self.proxy.start())

    def stop(self) -> None:
        self._run(self.proxy.stop())

    def hold(self, *, replies: bool = True, requests: bool = False) -> int:
        async def hold() -> int:
            return self.proxy.hold(replies=replies, requests=requests)

        return int(self._run(hold()))

    def release(self) -> None:
        async def release() -> None:
            self.proxy.release()

        self._run(release())

    def close(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()
