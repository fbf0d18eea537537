"""Settings are validated at start, and a bad value is named in one line."""

from __future__ import annotations

import subprocess
import sys

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


def test_access_log_is_off_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).access_log is False
    monkeypatch.setenv("ACCESS_LOG", "true")

    assert Settings(_env_file=None).access_log is True


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
