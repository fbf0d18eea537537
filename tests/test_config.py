"""Settings are validated at start, and a bad value is named in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
from pydantic import ValidationError

from config import Settings, describe_errors


def test_defaults_match_the_contract() -> None:
    settings = Settings(_env_file=None)

    assert settings.s3_bucket == "data-universe-storage"
    assert settings.sources == ("x", "reddit")
    assert settings.access_ttl_seconds == 86400
    assert (settings.upload_min_bytes, settings.upload_max_bytes) == (1024, 5368709120)
    assert settings.rate_limit_storage == "memory://"
    assert settings.replay_protection is True


# How long clients keep an idle connection for reuse: httpx's default keepalive_expiry and
# aiohttp's default keepalive_timeout.
HTTPX_IDLE_SECONDS = httpx2.Limits().keepalive_expiry or 0.0
AIOHTTP_IDLE_SECONDS = 15.0


def test_kept_alive_connections_outlast_the_clients_own_idle_expiry() -> None:
    # A server that closes an idle connection no later than the client gives it up races
    # the client's next request on it (a poll every 5 s over httpx): the request is lost.
    keep_alive = Settings(_env_file=None).keep_alive_seconds
    assert keep_alive > max(HTTPX_IDLE_SECONDS, AIOHTTP_IDLE_SECONDS)


def test_access_log_is_on_unless_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).access_log is True
    monkeypatch.setenv("ACCESS_LOG", "false")

    assert Settings(_env_file=None).access_log is False


def test_log_level_and_format_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("LOG_FORMAT", "json")
    settings = Settings(_env_file=None)
    monkeypatch.setenv("LOG_FORMAT", "yaml")

    assert (settings.log_level, settings.log_format) == ("debug", "json")
    with pytest.raises(ValidationError, match="log_format"):
        Settings(_env_file=None)


def test_sources_are_read_as_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES", "x, reddit ,youtube")

    assert Settings(_env_file=None).sources == ("x", "reddit", "youtube")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SOURCES", "x,../etc"),
        ("ACCESS_TTL_SECONDS", "604801"),
        ("NETUID", "minus-one"),
        ("RATE_LIMIT_MINER", "lots"),
        ("RATE_LIMIT_STORAGE", "mongodb://x"),
        ("SERVER_HOTKEY", "not-an-address"),
    ],
)
def test_bad_value_is_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)

    assert any(line.startswith(f"{name}:") for line in describe_errors(caught.value))


def test_empty_limit_turns_it_off() -> None:
    assert Settings(_env_file=None, rate_limit_ip="").rate_limit_ip == ""


def test_secrets_do_not_appear_in_repr() -> None:
    settings = Settings(
        _env_file=None, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="very-secret"
    )

    assert "very-secret" not in repr(settings)


def test_serve_with_bad_setting_exits_with_one_line(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve"],
        env={"ACCESS_TTL_SECONDS": "0", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )

    assert result.returncode == 2
    assert result.stderr.strip().startswith("s3auth: configuration error: ACCESS_TTL_SECONDS:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_later_settings_have_the_contract_defaults() -> None:
    settings = Settings(_env_file=None)

    assert settings.tao_max_age_seconds == 60
    assert settings.trusted_validators == ("89",)
    assert settings.upload_method == "post"
    assert settings.upload_url_ttl_seconds == 3600
    assert settings.database_url == "sqlite+aiosqlite:///./s3auth.sqlite3"
    assert settings.constellation_api_keys == ()
    assert settings.admin_api_keys == ()
    assert (settings.ondemand_job_seconds, settings.ondemand_max_bytes) == (120, 15_000_000)
    assert settings.ondemand_retention_hours == 48
    assert settings.rate_limit_ondemand_poll == "30/minute"
    assert settings.rate_limit_ondemand_failures == "2/minute"


def test_api_keys_and_trusted_validators_are_comma_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSTELLATION_API_KEYS", "alpha, beta")
    monkeypatch.setenv("TRUSTED_VALIDATORS", "89, 12")

    settings = Settings(_env_file=None)

    assert [k.get_secret_value() for k in settings.constellation_api_keys] == ["alpha", "beta"]
    assert settings.trusted_validators == ("89", "12")
    assert "alpha" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TRUSTED_VALIDATORS", "not-a-key"),
        ("UPLOAD_METHOD", "patch"),
        ("DATABASE_URL", "mysql://x"),
        ("RATE_LIMIT_ONDEMAND_POLL", "often"),
    ],
)
def test_later_settings_refuse_bad_values(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError) as error:
        Settings(_env_file=None)

    assert describe_errors(error.value)[0].startswith(name)


def test_settings_handed_to_workers_keep_the_api_keys(tmp_path: Path) -> None:
    from app.serve import read_settings_file, write_settings_file

    settings = Settings(_env_file=None, constellation_api_keys="k1,k2", admin_api_keys="a1")
    rebuilt = read_settings_file(write_settings_file(settings, tmp_path))
    assert [k.get_secret_value() for k in rebuilt.constellation_api_keys] == ["k1", "k2"]
    assert [k.get_secret_value() for k in rebuilt.admin_api_keys] == ["a1"]
