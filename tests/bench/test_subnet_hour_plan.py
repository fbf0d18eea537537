"""The subnet-hour bench plans today's clients' cadence, and compresses quotas faithfully."""

from __future__ import annotations

from collections import Counter

import pytest
from limits import parse_many

from bench.hour_plan import (
    CUSTOMER,
    FILE_URLS,
    LISTING,
    MINER_JOBS,
    OPERATOR,
    POLL,
    TRUSTED_UID,
    UPLOAD_URL,
    Event,
    Member,
    calls_by_route,
    member_uids,
    plan,
)
from bench.subnet_hour import build_members, quota_env


@pytest.fixture(scope="module")
def members() -> list[Member]:
    return build_members(256, 64)


@pytest.fixture(scope="module")
def hour(members: list[Member]) -> list[Event]:
    return plan(members, 300)


def test_a_subnet_of_256_miners_and_64_validators_with_uid_89_among_the_validators(
    members: list[Member],
) -> None:
    miner_uids, validator_uids = member_uids(256, 64)

    assert len(members) == 320 and len({m.hotkey for m in members}) == 320
    assert len(miner_uids) == 256 and len(validator_uids) == 64
    assert TRUSTED_UID in validator_uids
    assert {m.uid for m in members if m.validator} == set(validator_uids)
    assert len({m.address for m in members}) == 320


def test_every_miner_polls_every_5_seconds(hour: list[Event]) -> None:
    polls = Counter(e.owner for e in hour for c in e.calls if c.path == POLL)

    assert set(polls.values()) == {720}
    assert len(polls) == 256


def test_a_bursting_miner_asks_once_per_list_entry_one_call_after_another(
    hour: list[Event],
) -> None:
    bursts = [e for e in hour if e.calls[0].path == UPLOAD_URL]

    assert all(len(e.calls) == 300 for e in bursts)
    assert len({e.owner for e in bursts}) == len(bursts)
    # One burst per 2-hour cycle: about half the miners burst in any one hour.
    assert 96 <= len(bursts) <= 160


def test_every_validator_asks_for_each_miners_jobs_once(hour: list[Event]) -> None:
    per_validator = calls_by_route(hour)[MINER_JOBS] / 64

    assert per_validator == 256


def test_uid_89_runs_its_s3_pass_over_every_miner(hour: list[Event]) -> None:
    calls = calls_by_route(hour, owner=TRUSTED_UID)

    assert calls[LISTING] == 3 * 256
    assert calls[FILE_URLS] == 256
    assert calls[MINER_JOBS] == 256


def test_the_customer_and_the_operator_act_within_the_hour(hour: list[Event]) -> None:
    owners = Counter(e.owner for e in hour)

    assert owners[CUSTOMER] == 30
    assert owners[OPERATOR] == 1
    assert all(0 <= e.at < 3600 for e in hour)


def test_quotas_are_the_defaults_with_windows_divided_by_the_compression() -> None:
    env = quota_env(12, 300)

    assert env["RATE_LIMIT_IP"] == "600/5 seconds"
    assert env["RATE_LIMIT_VALIDATOR"] == "1000/300 seconds"
    assert env["RATE_LIMIT_TRUSTED"] == "10000/300 seconds"
    # auto for a 300-entry list: 600 per 2 hours.
    assert env["RATE_LIMIT_FILE_UPLOADS"] == "600/600 seconds"
    for value in env.values():
        assert parse_many(value)
