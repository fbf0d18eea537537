"""`s3auth miner upload`: plan local files as keys, skip what is there, send the rest."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s3auth_client.errors import ClientError
from s3auth_client.jobs import JobUploader, NotUploadable, refuses_filename
from s3auth_client.miner import MinerClient
from s3auth_client.progress import NoProgress, Progress


@dataclass(frozen=True)
class LocalFile:
    path: Path
    name: str  # the key below the miner's folder, POSIX separators
    size: int


@dataclass(frozen=True)
class UploadPlan:
    files: list[LocalFile]
    hidden: int = 0  # hidden files inside the folders, left out


@dataclass
class UploadReport:
    folder: str = ""
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    bytes_uploaded: int = 0
    hidden: int = 0

    @property
    def ok(self) -> bool:
        """Nothing failed. Files the policy refuses are reported, but rerunning cannot
        change them, so they do not make a finished (or resumed) upload a failure."""
        return not self.failed

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "folder": self.folder,
            "uploaded": self.uploaded,
            "skipped": self.skipped,
            "refused": self.refused,
            "failed": self.failed,
            "hidden": self.hidden,
            "bytes_uploaded": self.bytes_uploaded,
        }


def plan_upload(
    paths: list[Path], *, prefix: str = "", exclude: tuple[str, ...] = ()
) -> UploadPlan:
    """Each file once with the name it gets: a folder's files keep their paths inside it.

    Hidden files and folders inside a folder (`.git`, `.cache`) are left out and
    counted; a hidden file named on the command line is kept.
    """
    prefix = normalize_prefix(prefix)
    planned: dict[str, LocalFile] = {}
    hidden = 0
    for root in paths:
        if root.is_file():
            candidates = [(root, root.name)]
        elif root.is_dir():
            candidates = []
            for path in sorted(root.rglob("*")):
                if not path.is_file():
                    continue
                if _hidden(path.relative_to(root)):
                    hidden += 1
                else:
                    candidates.append((path, path.relative_to(root).as_posix()))
        else:
            raise ClientError(f"{root} does not exist")
        for path, relative in candidates:
            if any(fnmatch.fnmatch(relative, pattern) for pattern in exclude):
                continue
            name = prefix + relative
            other = planned.get(name)
            if other is not None and other.path.resolve() != path.resolve():
                raise ClientError(f"{other.path} and {path} would both upload as {name}")
            planned[name] = LocalFile(path, name, path.stat().st_size)
    return UploadPlan(list(planned.values()), hidden)


def normalize_prefix(prefix: str) -> str:
    parts = [part for part in prefix.replace("\\", "/").split("/") if part]
    if any(part in (".", "..") for part in parts):
        raise ClientError(f"prefix {prefix!r} must not contain '.' or '..' segments")
    return "/".join(parts) + "/" if parts else ""


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def upload_job_files(
    uploader: JobUploader,
    files: list[LocalFile],
    *,
    jobs: int = 4,
    progress: Progress | None = None,
) -> UploadReport:
    """Per-file uploads into the job's folder; a file the service says exists is skipped."""
    progress = progress or NoProgress()
    report = UploadReport(folder=uploader.folder)
    by_name: dict[str, LocalFile] = {}
    for local in files:
        filename = Path(local.name).name
        other = by_name.get(filename)
        if other is not None:
            raise ClientError(f"{other.path} and {local.path} would both upload as {filename}")
        by_name[filename] = local
    to_send: dict[str, LocalFile] = {}
    for filename, local in by_name.items():
        if (reason := refuses_filename(filename)) is not None:
            report.refused[local.name] = reason
        else:
            to_send[filename] = local

    filenames = {local.path: filename for filename, local in to_send.items()}

    def send(local: LocalFile) -> str:
        return uploader.upload(local.path, filenames[local.path], progress.advance)

    _send_in_parallel(list(to_send.values()), send, report, progress, jobs)
    report.skipped.sort()
    return report


def upload_files(
    client: MinerClient,
    files: list[LocalFile],
    *,
    jobs: int = 4,
    resume: bool = True,
    progress: Progress | None = None,
) -> UploadReport:
    """Upload what is missing or differs in size; refuse what the policy would refuse."""
    progress = progress or NoProgress()
    grant = client.grant()
    report = UploadReport(folder=grant.folder)
    existing = {f.key: f.size for f in client.list_files()} if resume else {}
    to_send: list[LocalFile] = []
    for local in files:
        if existing.get(grant.key_for(local.name)) == local.size:
            report.skipped.append(local.name)
        elif (reason := grant.limits.refuses_size(local.size)) is not None:
            report.refused[local.name] = reason
        else:
            to_send.append(local)

    def send(local: LocalFile) -> str:
        client.upload_file(local.path, local.name, on_progress=progress.advance)
        return "uploaded"

    _send_in_parallel(to_send, send, report, progress, jobs)
    return report


def _send_in_parallel(
    files: list[LocalFile],
    send: Callable[[LocalFile], str],
    report: UploadReport,
    progress: Progress,
    jobs: int,
) -> None:
    """Runs `send` for each file on `jobs` threads; records each outcome in `report`.

    `send` answers "exists" for a file the store already has, anything else when it
    uploaded; it raises NotUploadable for a file it refused to send.
    """
    progress.start(len(files), sum(f.size for f in files))
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="upload")
    try:
        futures: dict[Future[str], LocalFile] = {pool.submit(send, f): f for f in files}
        for future in as_completed(futures):
            local = futures[future]
            try:
                outcome = future.result()
            except NotUploadable as error:
                report.refused[local.name] = str(error)
            except (ClientError, OSError) as error:
                report.failed[local.name] = str(error)
            else:
                if outcome == "exists":
                    report.skipped.append(local.name)
                else:
                    report.uploaded.append(local.name)
                    report.bytes_uploaded += local.size
            progress.file_done()
    except BaseException:
        # Ctrl-C or an unexpected error: start nothing new, let running uploads end.
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        progress.stop()
    pool.shutdown(wait=True)
    report.uploaded.sort()
