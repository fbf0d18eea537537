"""`s3auth dev`: the whole service on one machine with no cloud account.

SeaweedFS serves S3 on loopback, a development metagraph registers a few well-known
keys, and the API runs against both until Ctrl-C.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bittensor.sp_core import Keypair

from app.desirability.dev import seed_dev_desirability
from app.ondemand.devseed import load_customer_key, ondemand_banner, seed_jobs
from app.seaweed import S3Credentials, SeaweedServer, find_weed
from app.serve import serve
from config import Settings
from s3auth_client.legacy import miner_message

DEV_BUCKET = "data-universe-storage"
DEV_MINERS = 3
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
            "one its own folder with `s3auth dev --data-dir DIR`."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


@dataclass(frozen=True)
class DevKey:
    role: str
    hotkey_uri: str
    coldkey_uri: str

    @property
    def hotkey(self) -> Keypair:
        return Keypair.create_from_uri(self.hotkey_uri)

    @property
    def coldkey(self) -> Keypair:
        return Keypair.create_from_uri(self.coldkey_uri)


def dev_keys() -> list[DevKey]:
    miners = [
        DevKey("miner", f"//dev-miner-{i}", f"//dev-miner-{i}-cold")
        for i in range(1, DEV_MINERS + 1)
    ]
    return [*miners, DevKey("validator", "//dev-validator", "//dev-validator-cold")]


def dev_metagraph(keys: list[DevKey], netuid: int) -> dict[str, object]:
    neurons = [
        {
            "uid": uid,
            "hotkey": key.hotkey.ss58_address,
            "coldkey": key.coldkey.ss58_address,
            "validator_permit": key.role == "validator",
            "stake": 100_000.0 if key.role == "validator" else 0.0,
        }
        for uid, key in enumerate(keys)
    ]
    return {"netuid": netuid, "block": 0, "neurons": neurons}


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


def example_request(api_url: str, key: DevKey) -> str:
    """A copy-paste command that signs a fresh miner request and asks for a grant."""
    coldkey = key.coldkey.ss58_address
    return f"""{sys.executable} - <<'EOF'
import json, time, urllib.request
from bittensor.sp_core import Keypair
from s3auth_client.legacy import miner_message
hotkey = Keypair.create_from_uri("{key.hotkey_uri}")
coldkey = "{coldkey}"
timestamp = int(time.time())
signature = hotkey.sign(miner_message(coldkey, "x", timestamp).encode()).hex()
body = {{"coldkey": coldkey, "hotkey": hotkey.ss58_address, "source": "x",
        "timestamp": timestamp, "signature": signature}}
request = urllib.request.Request("{api_url}/get-folder-access", json.dumps(body).encode())
print(json.dumps(json.load(urllib.request.urlopen(request)), indent=2))
EOF"""


def example_curl(api_url: str, key: DevKey) -> str:
    coldkey = key.coldkey.ss58_address
    timestamp = int(time.time())
    signature = bytes(key.hotkey.sign(miner_message(coldkey, "x", timestamp).encode())).hex()
    body = json.dumps(
        {
            "coldkey": coldkey,
            "hotkey": key.hotkey.ss58_address,
            "source": "x",
            "timestamp": timestamp,
            "signature": signature,
        }
    )
    return f"curl -s -X POST {api_url}/get-folder-access -d '{body}'"


def cli_path() -> str:
    """How to call `s3auth` from the checkout: the virtualenv's bin is usually not on PATH."""
    beside = Path(sys.executable).parent / "s3auth"
    if not beside.exists():
        return "s3auth"
    try:
        return os.path.relpath(beside)
    except ValueError:
        return str(beside)


def banner(settings: Settings, endpoint_url: str, keys: list[DevKey]) -> str:
    api_url = f"http://{settings.host}:{settings.port}"
    rows = "\n".join(
        f"  {key.role:<9} hotkey {key.hotkey_uri:<18} {key.hotkey.ss58_address}\n"
        f"  {'':<9} coldkey {key.coldkey_uri:<17} {key.coldkey.ss58_address}"
        for key in keys
    )
    miner = keys[0]
    validator = next(key for key in keys if key.role == "validator")
    cli = cli_path()
    return f"""
s3auth dev: development stack (these keys are public; never use them on a real subnet)

  API      {api_url}   docs: {api_url}/docs
  S3       {endpoint_url}   bucket: {settings.s3_bucket}
  data     {settings.metagraph_file.parent if settings.metagraph_file else ""}

Registered dev keys (secret URIs; sign with Keypair.create_from_uri(URI)):
{rows}

Ask for a miner grant, signed now (valid {settings.signature_max_age_seconds} s, once):
  {example_curl(api_url, miner)}

Or sign a fresh request each time:
{example_request(api_url, miner)}

With the command-line client ({cli}):
  {cli} miner upload README.md --source x --url {api_url} \\
      --hotkey-uri {miner.hotkey_uri} --coldkey {miner.coldkey.ss58_address}
  {cli} validator ls --source x --url {api_url} --hotkey-uri {validator.hotkey_uri}
  {cli} validator get --source x --miner {miner.coldkey.ss58_address} --out ./downloaded \\
      --url {api_url} --hotkey-uri {validator.hotkey_uri}

Ctrl-C stops the API and SeaweedFS.
"""


def seed_ondemand(settings: Settings, credentials: S3Credentials, miner_hotkey: str) -> None:
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
        asyncio.run(seed_jobs(settings, client, miner_hotkey))
    finally:
        client.close()


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
    with lock:
        return _run_stack(root, host=host, port=port)


def _run_stack(root: Path, *, host: str, port: int) -> int:
    keys = dev_keys()
    credentials = load_credentials(root)
    metagraph_path = root / "metagraph.json"
    customer_key = load_customer_key(root)
    settings = Settings(
        _env_file=None,
        host=host,
        port=port,
        s3_bucket=DEV_BUCKET,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        metagraph_file=metagraph_path,
        metagraph_refresh_seconds=10,
        database_url=f"sqlite+aiosqlite:///{root / 's3auth.sqlite3'}",
        constellation_api_keys=customer_key,
    )
    metagraph_path.write_text(json.dumps(dev_metagraph(keys, settings.netuid), indent=2))
    with SeaweedServer(root / "seaweedfs", credentials) as s3:
        settings = settings.model_copy(update={"s3_endpoint_url": s3.endpoint_url})
        create_bucket(s3.endpoint_url, credentials, settings.s3_bucket)
        seed_ondemand(settings, credentials, keys[0].hotkey.ss58_address)
        print(banner(settings, s3.endpoint_url, keys), flush=True)
        api_url = f"http://{settings.host}:{settings.port}"
        validator = next(key for key in keys if key.role == "validator")
        miner_uri = keys[0].hotkey_uri
        miner_ss58 = keys[0].hotkey.ss58_address
        print(
            ondemand_banner(
                api_url, customer_key, miner_uri, miner_ss58, validator.hotkey_uri, cli_path()
            )
        )
        settings = seed_dev_desirability(settings)
        serve(settings)
    print("s3auth dev: stopped", flush=True)
    return 0
