"""Progress for transfers: a rich bar on a terminal, nothing anywhere else."""

from __future__ import annotations

import sys
import threading
from typing import Protocol, TextIO


class Progress(Protocol):
    def start(self, files: int, total_bytes: int | None) -> None: ...
    def advance(self, nbytes: int) -> None: ...
    def file_done(self) -> None: ...
    def stop(self) -> None: ...


class NoProgress:
    def start(self, files: int, total_bytes: int | None) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        pass

    def file_done(self) -> None:
        pass

    def stop(self) -> None:
        pass


class BarProgress:
    """Bytes and files in one line; updates come from worker threads."""

    def __init__(self, description: str, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as RichProgress

        self._bar = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(file=stream),
            transient=True,
        )
        self._description = description
        self._bytes = self._bar.add_task(description, total=None, visible=False)
        self._lock = threading.Lock()

    def start(self, files: int, total_bytes: int | None) -> None:
        self._files_total = files
        self._done = 0
        self._bar.update(
            self._bytes,
            total=total_bytes,
            visible=True,
            description=f"{self._description} 0/{files}",
        )
        self._bar.start()

    def advance(self, nbytes: int) -> None:
        with self._lock:
            self._bar.advance(self._bytes, nbytes)

    def file_done(self) -> None:
        with self._lock:
            self._done += 1
            self._bar.update(
                self._bytes, description=f"{self._description} {self._done}/{self._files_total}"
            )

    def stop(self) -> None:
        self._bar.stop()


def progress_for(description: str, *, enabled: bool, stream: TextIO | None = None) -> Progress:
    out = stream or sys.stderr
    if enabled and out.isatty():
        return BarProgress(description, out)
    return NoProgress()
