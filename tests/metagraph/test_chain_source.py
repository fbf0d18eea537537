"""ChainSource on a fake Substrate: bittensor's own metagraph read and decoding run for real."""

from __future__ import annotations

import asyncio

import pytest
from bittensor import RpcConnectionError
from pydantic import ValidationError

from app.errors import Unavailable
from app.metagraph import MetagraphCache
from app.metagraph.chain import ChainSource, SubnetNotFound
from config import Settings, describe_errors
from tests.conftest import Subnet
from tests.metagraph.conftest import NETUID, chain_source
from tests.metagraph.fake_chain import RAO_PER_ALPHA, U16_MAX, ChainNeuron, FakeChain
from tests.signing import key


async def load_and_close(source: ChainSource):
    try:
        return await source.load()
    finally:
        await source.close()


def test_snapshot_has_the_chains_hotkeys_coldkeys_permits_stakes_and_incentives(
    chain: FakeChain, subnet: Subnet
) -> None:
    snapshot = asyncio.run(load_and_close(chain_source(chain)))

    assert snapshot.netuid == NETUID
    assert snapshot.block == chain.block
    assert snapshot.source == "chain"
    assert [n.to_json() for n in snapshot.neurons] == [m.row() for m in subnet.members]


def test_stake_is_alpha_in_whole_units(chain: FakeChain) -> None:
    chain.neurons[0].alpha_stake_rao = 20_000 * RAO_PER_ALPHA + RAO_PER_ALPHA // 4

    snapshot = asyncio.run(load_and_close(chain_source(chain)))

    assert snapshot.neurons[0].stake == 20_000.25


def test_incentive_is_the_chains_u16_fraction_of_one(chain: FakeChain) -> None:
    chain.neurons[0].incentive_u16 = 275  # what a miner with 0.42% of the incentive holds
    chain.neurons[1].incentive_u16 = U16_MAX

    snapshot = asyncio.run(load_and_close(chain_source(chain)))

    assert snapshot.neurons[0].incentive == 275 / U16_MAX
    assert snapshot.neurons[1].incentive == 1.0
    assert snapshot.neurons[2].incentive == 0.0


def test_missing_subnet_fails_the_load_with_its_netuid(chain: FakeChain) -> None:
    source = ChainSource("finney", NETUID + 1, substrate_factory=chain.substrate)

    with pytest.raises(SubnetNotFound, match=f"subnet {NETUID + 1} does not exist"):
        asyncio.run(load_and_close(source))


def test_successful_loads_share_one_connection(chain: FakeChain) -> None:
    async def three_loads() -> None:
        source = chain_source(chain)
        for _ in range(3):
            await source.load()
        await source.close()

    asyncio.run(three_loads())

    assert (chain.connects, chain.closes) == (1, 1)


def test_a_failed_load_closes_the_connection_and_the_next_load_reconnects(
    chain: FakeChain,
) -> None:
    async def fail_then_recover() -> None:
        source = chain_source(chain)
        await source.load()
        chain.failure = RpcConnectionError("connection reset by peer")
        with pytest.raises(RpcConnectionError):
            await source.load()
        chain.failure = None
        await source.load()
        await source.close()

    asyncio.run(fail_then_recover())

    assert (chain.connects, chain.closes) == (2, 2)


def test_a_hanging_chain_is_cut_off_by_the_load_timeout_and_the_last_snapshot_stays(
    chain: FakeChain,
) -> None:
    async def scenario() -> tuple[MetagraphCache, Exception | None]:
        cache = MetagraphCache(
            chain_source(chain), refresh_seconds=60, max_age_seconds=600, load_timeout_seconds=0.2
        )
        await cache.refresh()
        chain.stalled = True
        error = None
        try:
            await cache.refresh()
        except TimeoutError as exc:
            error = exc
        chain.stalled = False
        await cache.refresh()
        await cache.stop()
        return cache, error

    cache, error = asyncio.run(scenario())

    assert isinstance(error, TimeoutError)
    assert cache.snapshot is not None and len(cache.snapshot) == 4
    # The stalled connection was dropped; the next refresh dialled a fresh one.
    assert chain.connects == 2
    assert chain.closes == 2


def test_a_refresh_that_raises_keeps_the_last_snapshot_and_says_why(
    chain: FakeChain, subnet: Subnet
) -> None:
    async def scenario() -> MetagraphCache:
        cache = MetagraphCache(chain_source(chain), refresh_seconds=60, max_age_seconds=600)
        await cache.refresh()
        chain.replace(subnet.miner.hotkey.ss58_address, ChainNeuron(key("x").ss58_address, "5x"))
        chain.failure = RpcConnectionError("node is syncing")
        with pytest.raises(RpcConnectionError):
            await cache.refresh()
        await cache.stop()
        return cache

    cache = asyncio.run(scenario())

    assert cache.snapshot is not None
    assert cache.snapshot.get(subnet.miner.hotkey.ss58_address) is not None
    assert cache.last_error == "RpcConnectionError: node is syncing"


def test_a_snapshot_older_than_the_max_age_is_refused_as_stale(chain: FakeChain) -> None:
    now = [1_000.0]
    cache = MetagraphCache(
        chain_source(chain), refresh_seconds=60, max_age_seconds=600, clock=lambda: now[0]
    )
    asyncio.run(cache.refresh())
    asyncio.run(cache.source.close())

    now[0] += 600
    assert cache.current() is cache.snapshot
    now[0] += 1
    with pytest.raises(Unavailable) as refused:
        cache.current()
    assert refused.value.code == "metagraph_stale"


@pytest.mark.parametrize("network", ["finney", "test", "local", "wss://node.example:443"])
def test_known_network_names_and_websocket_urls_are_accepted(network: str) -> None:
    assert Settings(_env_file=None, bt_network=network).bt_network == network


def test_an_unknown_network_name_stops_startup_naming_bt_network() -> None:
    with pytest.raises(ValidationError) as invalid:
        Settings(_env_file=None, bt_network="finny")

    [line] = describe_errors(invalid.value)
    assert line.startswith("BT_NETWORK:")
    assert "'finny' is not a known network" in line


def test_a_load_cut_short_by_close_fails_as_a_load_not_as_a_cancellation(
    chain: FakeChain,
) -> None:
    async def scenario() -> BaseException | None:
        source = chain_source(chain)
        chain.stalled = True
        pending = asyncio.create_task(source.load())
        await asyncio.to_thread(chain.entered.wait, 10)
        await source.close()
        try:
            await pending
        except BaseException as exc:
            return exc
        return None

    error = asyncio.run(scenario())

    assert isinstance(error, ConnectionError)
    assert chain.closes == 1
