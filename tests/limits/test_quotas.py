"""Which quota a request spends: the pure decision, from settings, caller and list length."""

from __future__ import annotations

import pytest
from limits import RateLimitItemPerHour, RateLimitItemPerMinute

from app.quotas import choose_quota
from config import Settings


def settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_defaults_are_auto_uploads_and_ten_thousand_an_hour_for_trusted() -> None:
    defaults = settings()

    assert defaults.rate_limit_file_uploads == "auto"
    assert defaults.rate_limit_trusted == "10000/hour"


@pytest.mark.parametrize(
    ("entries", "amount"),
    [(0, 100), (10, 100), (50, 100), (51, 102), (300, 600), (1500, 3000)],
)
def test_auto_upload_quota_is_twice_the_list_per_2_hours_and_at_least_100(
    entries: int, amount: int
) -> None:
    quota = choose_quota(settings(), "file_uploads", False, entries)

    assert quota is not None
    assert quota.scope == "file_uploads"
    assert quota.items == (RateLimitItemPerHour(amount, 2),)


def test_fixed_upload_quota_overrides_the_list_length() -> None:
    quota = choose_quota(settings(rate_limit_file_uploads="500/hour"), "file_uploads", False, 1500)

    assert quota is not None
    assert quota.items == (RateLimitItemPerHour(500),)


def test_uploads_do_not_spend_the_miner_quota() -> None:
    quota = choose_quota(settings(rate_limit_miner="1/hour"), "file_uploads", False, 300)

    assert quota is not None
    assert quota.scope == "file_uploads"


@pytest.mark.parametrize("kind", ["validator", "miner", "file_uploads", "ondemand_poll"])
def test_trusted_validators_spend_the_trusted_quota_on_every_route(kind: str) -> None:
    quota = choose_quota(settings(), kind, True, 300)  # type: ignore[arg-type]

    assert quota is not None
    assert quota.scope == "trusted"
    assert quota.items == (RateLimitItemPerHour(10000),)


def test_other_validators_keep_the_validator_quota() -> None:
    quota = choose_quota(settings(), "validator", False, 300)

    assert quota is not None
    assert (quota.scope, quota.items) == ("validator", (RateLimitItemPerHour(1000),))


def test_poll_quota_is_its_own() -> None:
    quota = choose_quota(settings(), "ondemand_poll", False, 0)

    assert quota is not None
    assert (quota.scope, quota.items) == ("ondemand_poll", (RateLimitItemPerMinute(30),))


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        ("file_uploads", {"rate_limit_file_uploads": ""}),
        ("validator", {"rate_limit_validator": ""}),
        ("miner", {"rate_limit_miner": ""}),
    ],
)
def test_empty_setting_turns_that_quota_off(kind: str, values: dict[str, str]) -> None:
    assert choose_quota(settings(**values), kind, False, 300) is None  # type: ignore[arg-type]


def test_trusted_quota_can_be_turned_off() -> None:
    assert choose_quota(settings(rate_limit_trusted=""), "validator", True, 0) is None


def test_route_that_spends_no_quota_spends_none_whoever_calls() -> None:
    assert choose_quota(settings(), None, True, 300) is None


@pytest.mark.parametrize("value", ["AUTO", " auto "])
def test_auto_is_read_whatever_its_case(value: str) -> None:
    assert settings(rate_limit_file_uploads=value).rate_limit_file_uploads == "auto"


@pytest.mark.parametrize("name", ["rate_limit_file_uploads", "rate_limit_trusted"])
def test_malformed_limit_stops_start_up_naming_the_variable(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        settings(**{name: "lots/fortnight"})


def test_auto_is_not_a_value_for_other_limits() -> None:
    with pytest.raises(ValueError, match="rate_limit_trusted"):
        settings(rate_limit_trusted="auto")
