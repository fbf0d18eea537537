"""Every client command parses, prints its help and explains each option."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import build_parser, main
from tests.signing import key

COMMANDS = [
    ["miner"],
    ["miner", "upload"],
    ["validator"],
    ["validator", "ls"],
    ["validator", "get"],
    ["check"],
    ["check", "isolation"],
]


def subcommand(path: list[str]) -> argparse.ArgumentParser:
    parser = build_parser()
    for name in path:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[name]
    return parser


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_help_prints_usage_and_description(
    path: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*path, "--help"])

    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert out.startswith(f"usage: s3auth {' '.join(path)}")
    first_words = " ".join(subcommand(path).description.split()[:6])
    assert first_words in " ".join(out.split())


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_option_has_help_text(path: list[str]) -> None:
    parser = subcommand(path)
    for action in parser._actions:
        assert action.help and action.help != argparse.SUPPRESS, action.dest


@pytest.mark.parametrize(
    "argv",
    [
        ["miner", "upload", "f", "--source", "x", "--hotkey-uri", "//a", "--json"],
        ["validator", "ls", "--source", "x", "--miner", "5F", "--wallet", "w", "--hotkey", "h"],
        ["validator", "get", "data/x/a/b", "--out", "d", "--jobs", "2"],
        ["validator", "get", "--miner", "5F", "--source", "x"],
        ["check", "isolation", "--url", "http://h", "--other-coldkey", "5F", "--auth", "legacy"],
        ["check", "isolation", "--other-hotkey", "5H", "--auth", "btauth"],
        ["miner", "upload", "out", "--job-id", "crawler-7", "--auth", "tao"],
        ["validator", "ls", "--miner-hotkey", "5H"],
        ["validator", "ls", "--hotkeys", "--json"],
        ["validator", "get", "--miner-hotkey", "5H", "--out", "d"],
    ],
)
def test_documented_invocations_parse(argv: list[str]) -> None:
    assert callable(build_parser().parse_args(argv).handler)


def test_upload_without_source_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["miner", "upload", "file.bin"])
    assert exit_info.value.code == 2
    assert "--source" in capsys.readouterr().err


def test_client_package_imports_without_the_server_stack_or_the_bittensor_sdk() -> None:
    code = (
        "import sys, s3auth_client, s3auth_client.commands\n"
        "import s3auth_client.miner_cli, s3auth_client.validator_cli, s3auth_client.isolation\n"
        "heavy = {'fastapi', 'starlette', 'uvicorn', 'boto3', 'redis', 'bittensor', 'app'}\n"
        "loaded = heavy & set(sys.modules)\n"
        "assert not loaded, loaded"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_installed_s3auth_has_the_service_commands_and_the_client_commands() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("s3auth")), "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    for command in ("serve", "dev", "metagraph", "miner", "validator", "check"):
        assert f"    {command}" in result.stdout, command


@pytest.mark.parametrize(
    "argv",
    [
        ["validator", "get", "--hotkey-uri", "//v"],
        ["validator", "get", "data/x/c/f", "--miner", "5F", "--source", "x", "--hotkey-uri", "//v"],
        ["validator", "get", "--miner", "5F", "--hotkey-uri", "//v"],
    ],
)
def test_get_needs_keys_or_a_miner_folder(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("s3auth: ")


def test_missing_wallet_and_missing_coldkey_exit_2_with_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = tmp_path / "f.bin"
    sample.write_bytes(b"x" * 2048)
    upload = ["miner", "upload", str(sample), "--source", "x"]

    assert main([*upload, "--wallet", "nope", "--wallet-path", str(tmp_path)]) == 2
    assert "cannot open hotkey 'default' of wallet 'nope'" in capsys.readouterr().err
    assert main([*upload, "--hotkey-uri", "//someone"]) == 2
    assert "a coldkey is needed" in capsys.readouterr().err


def test_unreachable_service_exits_2_with_json_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.seaweed import free_ports

    sample = tmp_path / "f.bin"
    sample.write_bytes(b"x" * 2048)
    url = f"http://127.0.0.1:{free_ports(1)[0]}"
    argv = [
        "miner",
        "upload",
        str(sample),
        "--source",
        "x",
        "--url",
        url,
        "--retries",
        "1",
        "--hotkey-uri",
        "//someone",
        "--coldkey",
        key("someone-cold").ss58_address,
        "--json",
    ]

    assert main(argv) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["message"].startswith(f"cannot reach {url}")


def test_retries_while_the_service_is_down_are_announced_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.seaweed import free_ports

    sample = tmp_path / "f.bin"
    sample.write_bytes(b"x" * 2048)
    url = f"http://127.0.0.1:{free_ports(1)[0]}"
    argv = [
        *("miner", "upload", str(sample), "--source", "x", "--url", url, "--retries", "3"),
        *("--hotkey-uri", "//someone", "--coldkey", key("someone-cold").ss58_address),
    ]

    assert main(argv) == 2
    notices = [line for line in capsys.readouterr().err.splitlines() if "retrying in" in line]
    assert len(notices) == 2
    assert notices[0].startswith("s3auth: no answer (ConnectError")
    assert notices[0].endswith("(attempt 2 of 3)")
    assert notices[1].endswith("(attempt 3 of 3)")


def test_a_broken_command_plugin_is_named_and_the_client_commands_still_work(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from importlib.metadata import EntryPoint

    from s3auth_client import commands

    broken = EntryPoint("broken", "no_such_module_anywhere:register", commands.PLUGIN_GROUP)
    monkeypatch.setattr(commands, "entry_points", lambda group: [broken])

    parser = commands.build_parser()

    assert "the 'broken' commands are unavailable" in capsys.readouterr().err
    assert callable(parser.parse_args(["validator", "ls", "--hotkeys"]).handler)
