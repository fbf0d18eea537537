"""`s3auth metagraph export` writes the live metagraph in the METAGRAPH_FILE format."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from bittensor import RpcConnectionError

from app.cli import build_parser
from app.metagraph import FileSource
from app.metagraph.chain import ChainSource
from config import Settings
from tests.conftest import Subnet
from tests.metagraph.conftest import NETUID, chain_source
from tests.metagraph.fake_chain import FakeChain


def run_export(chain: FakeChain, *argv: str) -> int:
    """Run the command as `s3auth` would, with the chain behind bittensor's Substrate seam."""
    seen: list[Settings] = []

    def fake_chain_source(settings: Settings) -> ChainSource:
        seen.append(settings)
        return chain_source(chain)

    parser = build_parser(chain_source=fake_chain_source)
    args = parser.parse_args(
        ["metagraph", "export", "--network", "finney", "--netuid", str(NETUID), *argv]
    )
    status = args.handler(args)
    assert [(s.bt_network, s.netuid) for s in seen] == [("finney", NETUID)]
    return status


def test_export_writes_the_contract_file_and_file_source_reads_it_back(
    chain: FakeChain, subnet: Subnet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pinned.json"

    status = run_export(chain, "--out", str(out))

    assert status == 0
    assert json.loads(out.read_text()) == subnet.metagraph(netuid=NETUID, block=chain.block)
    assert f"wrote 4 neurons of netuid {NETUID} at block {chain.block}" in capsys.readouterr().out
    pinned = asyncio.run(FileSource(out).load())
    assert pinned.block == chain.block
    for member in subnet.members:
        neuron = pinned.get(member.hotkey.ss58_address)
        assert neuron is not None
        assert neuron.coldkey == member.coldkey.ss58_address
        assert neuron.validator_permit == member.validator_permit
        assert neuron.stake == member.stake
        assert neuron.incentive == member.incentive
    # The subnet's miner has incentive; the file carries it, as a plain JSON number.
    assert subnet.miner.incentive > 0
    [row] = [r for r in json.loads(out.read_text())["neurons"] if r["uid"] == subnet.miner.uid]
    assert row["incentive"] == subnet.miner.incentive
    # The connection the export opened was closed again.
    assert (chain.connects, chain.closes) == (1, 1)


def test_export_from_an_unreachable_chain_fails_and_leaves_the_old_file(
    chain: FakeChain, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pinned.json"
    out.write_text("previous contents")
    chain.unreachable = RpcConnectionError("could not connect to any endpoint")

    status = run_export(chain, "--out", str(out))

    assert status == 1
    assert "RpcConnectionError: could not connect to any endpoint" in capsys.readouterr().err
    assert out.read_text() == "previous contents"
    assert list(tmp_path.iterdir()) == [out]


def test_export_gives_up_on_a_silent_chain_after_its_timeout(
    chain: FakeChain, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pinned.json"
    chain.stalled = True

    status = run_export(chain, "--out", str(out), "--timeout", "0.2")

    assert status == 1
    assert "no metagraph from finney within 0.2 s" in capsys.readouterr().err
    assert not out.exists()
