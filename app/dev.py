"""`s3auth dev`: the whole service on one machine with no cloud account.

SeaweedFS serves S3 on loopback, a development metagraph registers a few well-known
keys, and the API runs against both until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import signal
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import IO

from app.desirability.dev import seed_dev_desirability
from app.devstack.banner import DevFacts, banner
from app.devstack.keys import DEV_VALIDATOR_UID, dev_keys, dev_metagraph
from app.devstack.samples import write_samples
from app.ondemand.devseed import load_customer_key, seed_jobs
from app.seaweed import S3Credentials, SeaweedServer, find_weed
from app.serve import serve
from config import Settings

DEV_BUCKET = "data-universe-storage"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# The service's app plus the dev-only signing /docs (app/devstack/signing.py).
DEV_APP_FACTORY = "app.devstack.signing:dev_app_from_environment"
DEFAULT_DEV_PORT = 8000
PORT_ENV = "S3AUTH_DEV_PORT"
LOCK_NAME = "dev.lock"


class DevRefusal(Exception):
    """Why the dev stack cannot start, in one sentence for the terminal."""


def dev_port(flag: int | None, environ: dict[str, str] | None = None) -> int:
    """--port, else S3AUTH_DEV_PORT, else 8000."""
    if flag is not None:
        return flag
    value = (os.environ if environ is None else environ).get(PORT_ENV, "").strip()
    if not value:
        return DEFAULT_DEV_PORT
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise DevRefusal(f"{PORT_ENV}={value!r} is not a port number.")
    return int(value)


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As uvicorn binds: a port in TIME_WAIT from a previous run is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise DevRefusal(
                f"port {port} on {host} is not available ({exc.strerror}); "
                f"pick another with `make run PORT={port + 1}` or `s3auth dev --port {port + 1}`."
            ) from None


def lock_data_dir(root: Path) -> IO[str]:
    """Holds an exclusive lock on the data folder for as long as the returned file is open.

    Two stacks on one folder would share SeaweedFS's store; the second one's weed would
    die on the store's locks with an unhelpful message.
    """
    handle = (root / LOCK_NAME).open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "unknown"
        handle.close()
        raise DevRefusal(
            f"{root} is in use by another `s3auth dev` (pid {owner}); stop it, or give this "
            "one its own folder: `make run DATA_DIR=DIR` or `s3auth dev --data-dir DIR`."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def load_credentials(data_dir: Path) -> S3Credentials:
    """Credentials generated once per data dir, so a restart can still read its data."""
    path = data_dir / "s3-credentials.json"
    if path.exists():
        stored = json.loads(path.read_text())
        return S3Credentials(stored["access_key"], stored["secret_key"])
    credentials = S3Credentials("dev" + secrets.token_hex(8), secrets.token_hex(24))
    path.write_text(json.dumps(credentials.__dict__))
    path.chmod(0o600)
    return credentials


def create_bucket(endpoint_url: str, credentials: S3Credentials, bucket: str) -> None:
    import boto3
    from botocore.exceptions import ClientError

    client = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        region_name="us-east-1",
    )
    try:
        client.create_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    finally:
        client.close()


def seed_ondemand(settings: Settings, credentials: S3Credentials, miner_hotkey: str) -> str:
    import asyncio

    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        region_name="us-east-1",
    )
    try:
        return asyncio.run(seed_jobs(settings, client, miner_hotkey))
    finally:
        client.close()


class DevStopped(BaseException):
    """SIGINT or SIGTERM: unwinds the stack so everything started is stopped on the way out.

    A BaseException, so no `except Exception` on the way swallows it.
    """


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    raise DevStopped(signal.Signals(signum).name)


def run_dev(*, port: int | None, data_dir: str | Path, host: str = "127.0.0.1") -> int:
    root = Path(data_dir).resolve()
    try:
        port = dev_port(port)
        root.mkdir(parents=True, exist_ok=True)
        find_weed()
        lock = lock_data_dir(root)
        check_port_free(host, port)
    except (DevRefusal, FileNotFoundError) as refusal:
        print(f"s3auth dev: {refusal}", file=sys.stderr)
        return 2
    # SIGTERM (kill, systemd, container runtimes) must clean up as Ctrl-C does. uvicorn
    # takes both signals while it runs and raises them again once it has stopped, which
    # lands here too.
    previous = {sig: signal.signal(sig, _stop_on_signal) for sig in STOP_SIGNALS}
    try:
        with lock:
            _run_stack(root, host=host, port=port)
    except DevStopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("s3auth dev: stopped", flush=True)
    return 0


def dev_settings(root: Path, *, host: str, port: int, credentials: S3Credentials) -> Settings:
    return Settings(
        _env_file=None,
        host=host,
        port=port,
        s3_bucket=DEV_BUCKET,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        metagraph_file=root / "metagraph.json",
        metagraph_refresh_seconds=10,
        database_url=f"sqlite+aiosqlite:///{root / 's3auth.sqlite3'}",
        constellation_api_keys=load_customer_key(root),
        trusted_validators=(str(DEV_VALIDATOR_UID),),
    )


def _run_stack(root: Path, *, host: str, port: int) -> None:
    keys = dev_keys()
    credentials = load_credentials(root)
    settings = dev_settings(root, host=host, port=port, credentials=credentials)
    assert settings.metagraph_file is not None
    settings.metagraph_file.write_text(json.dumps(dev_metagraph(keys, settings.netuid), indent=2))
    samples = write_samples(root)
    with SeaweedServer(root / "seaweedfs", credentials) as s3:
        settings = settings.model_copy(update={"s3_endpoint_url": s3.endpoint_url})
        create_bucket(s3.endpoint_url, credentials, settings.s3_bucket)
        open_job = seed_ondemand(settings, credentials, keys[0].hotkey.ss58_address)
        settings, dd_version = seed_dev_desirability(settings)
        facts = DevFacts(
            api_url=f"http://{settings.host}:{settings.port}",
            s3_url=s3.endpoint_url,
            bucket=settings.s3_bucket,
            data_dir=root,
            keys=keys,
            samples=samples,
            customer_key=settings.constellation_api_keys[0].get_secret_value(),
            admin_key=settings.admin_api_keys[0].get_secret_value(),
            dd_version=dd_version,
            open_job_id=open_job,
        )
        print(banner(facts), flush=True)
        serve(settings, app_factory=DEV_APP_FACTORY)
