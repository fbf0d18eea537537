"""The subnet's metagraph, read live from the chain through bittensor's `Client`.

Everything bittensor does (the websocket, SCALE decoding of a few hundred neurons, its
small disk cache of token symbols) runs on a private event loop in a worker thread, so
none of it can stall the app's loop, even a call that blocks instead of awaiting.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from bittensor import Client, Substrate
from bittensor.metagraph import Metagraph

from app.metagraph.snapshot import Snapshot
from app.metagraph.sources import checked_neuron, checked_snapshot

logger = logging.getLogger(__name__)

SubstrateFactory = Callable[[], Substrate]

# How long shutting down waits for the worker to close its connection.
CLOSE_TIMEOUT_SECONDS = 5.0


class SubnetNotFound(LookupError):
    """The chain answered, but has no subnet with this netuid."""


def snapshot_from(metagraph: Metagraph) -> Snapshot:
    neurons = [
        checked_neuron(
            uid=n.uid,
            hotkey=n.hotkey,
            coldkey=n.coldkey,
            validator_permit=n.validator_permit,
            # Balance keeps rao; `amount` is whole units of the subnet's alpha.
            stake=n.alpha_stake.amount,
            # bittensor decodes the runtime's u16 fractions to 0..1.
            incentive=n.incentive,
        )
        for n in metagraph.neurons
    ]
    return checked_snapshot(metagraph.netuid, metagraph.block, neurons, ChainSource.name)


class _Worker:
    """A thread that runs one event loop and owns one bittensor `Client`."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.client: Client | None = None
        self._retired = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    def submit(self, coro: Coroutine[Any, Any, Snapshot]) -> concurrent.futures.Future[Snapshot]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def retire(self) -> None:
        """Close the client and end the thread, without waiting: it may be stuck in a call."""
        if self._retired:
            return
        self._retired = True
        with contextlib.suppress(RuntimeError):  # the loop has already stopped
            asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop)

    async def _shutdown(self) -> None:
        client, self.client = self.client, None
        try:
            if client is not None:
                await asyncio.wait_for(client.close(), CLOSE_TIMEOUT_SECONDS)
        except Exception as exc:
            logger.debug("closing the chain connection failed: %r", exc)
        finally:
            self.loop.stop()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


class ChainSource:
    """Loads the metagraph of `netuid` from `network` (a name like `finney`, or ws(s)://).

    A connection is kept between loads while they succeed. After any failure, timeout
    or cancellation the worker and its connection are dropped and the next load opens a
    fresh one, so a half-dead websocket or a wedged call never poisons later refreshes.
    """

    name = "chain"

    def __init__(
        self,
        network: str,
        netuid: int,
        *,
        substrate_factory: SubstrateFactory | None = None,
    ) -> None:
        self.network = network
        self.netuid = netuid
        # Tests (and the export command's tests) inject an in-memory Substrate here.
        self._substrate_factory = substrate_factory
        self._worker: _Worker | None = None

    def __repr__(self) -> str:
        return f"ChainSource(network={self.network!r}, netuid={self.netuid})"

    async def load(self) -> Snapshot:
        worker = self._worker
        if worker is None:
            worker = self._worker = _Worker(f"metagraph-chain-{self.netuid}")
        future = worker.submit(self._fetch(worker))
        try:
            return await asyncio.wrap_future(future)
        except BaseException as exc:
            # Cancels the read on the worker's loop if it is still running there.
            future.cancel()
            self._drop(worker)
            task = asyncio.current_task()
            if isinstance(exc, asyncio.CancelledError) and task and not task.cancelling():
                # The worker went away under this read (close() or another load's failure);
                # the caller was not cancelled, so this is a failed load, not a cancellation.
                raise ConnectionError("the chain connection was closed during the read") from None
            raise

    async def _fetch(self, worker: _Worker) -> Snapshot:
        if worker.client is None:
            substrate = self._substrate_factory() if self._substrate_factory else None
            client = Client(self.network, substrate=substrate)
            logger.info(
                "connecting to chain %s (%s) for netuid %s",
                client.network,
                client.endpoint,
                self.netuid,
            )
            try:
                await client.connect()
            except BaseException:
                with contextlib.suppress(Exception):
                    await client.close()
                raise
            worker.client = client
        # Commitments cost two extra storage-map reads and nothing here needs them.
        metagraph = await worker.client.subnets.metagraph(self.netuid, commitments=False)
        if metagraph is None:
            raise SubnetNotFound(f"subnet {self.netuid} does not exist on {self.network}")
        return snapshot_from(metagraph)

    def _drop(self, worker: _Worker) -> None:
        if self._worker is worker:
            self._worker = None
        worker.retire()

    async def close(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.retire()
            await asyncio.to_thread(worker.join, CLOSE_TIMEOUT_SECONDS + 1)
