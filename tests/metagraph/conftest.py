"""A fake chain holding the test subnet, and apps that read it through ChainSource."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from app.metagraph import MetagraphCache
from app.metagraph.chain import ChainSource
from config import Settings
from tests.conftest import Member, SettingsFactory, Subnet
from tests.metagraph.fake_chain import RAO_PER_ALPHA, U16_MAX, ChainNeuron, FakeChain

NETUID = 13


@pytest.fixture(autouse=True)
def _token_symbol_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # bittensor caches token symbols on disk at connect; keep that out of the home directory.
    monkeypatch.setenv("BTCLI_TOKEN_SYMBOLS_CACHE", str(tmp_path / "token_symbols.json"))


def chain_neuron(member: Member) -> ChainNeuron:
    return ChainNeuron(
        hotkey=member.hotkey.ss58_address,
        coldkey=member.coldkey.ss58_address,
        validator_permit=member.validator_permit,
        alpha_stake_rao=round(member.stake * RAO_PER_ALPHA),
        incentive_u16=round(member.incentive * U16_MAX),
    )


@pytest.fixture
def chain(subnet: Subnet) -> FakeChain:
    return FakeChain(NETUID, [chain_neuron(m) for m in subnet.members])


def chain_source(chain: FakeChain) -> ChainSource:
    return ChainSource("finney", NETUID, substrate_factory=chain.substrate)


@pytest.fixture
def chain_settings(make_settings: SettingsFactory) -> Settings:
    # Refreshes are driven by the tests, so the background loop stays asleep after its first.
    return make_settings(metagraph_file=None, metagraph_refresh_seconds=3600)


AppFactory = Callable[[], FastAPI]


@pytest.fixture
def chain_app(chain_settings: Settings, chain: FakeChain) -> AppFactory:
    return lambda: create_app(chain_settings, metagraph_source=chain_source(chain))


def cache_of(client: TestClient) -> MetagraphCache:
    return client.app.state.services.metagraph  # type: ignore[attr-defined]


def first_load(client: TestClient) -> None:
    """Wait for the app's background refresher to finish its first attempt."""
    client.portal.call(cache_of(client).first_attempt.wait)


def refresh(client: TestClient) -> None:
    """One refresh of the app's metagraph, on the app's own event loop."""
    client.portal.call(cache_of(client).refresh)
