"""Every object key the service hands out, and the checks on the parts clients choose.

One bucket holds three generations of miners side by side:

    data/<source>/<coldkey>/<anything>                                seed era
    data/hotkey=<hotkey>/<anything>                                   hotkey era
    data/hotkey=<hotkey>/job_id=<job id>/<file>.parquet               per-file uploads
    on-demand-jobs/date=<YYYY-MM-DD>/hour=<HH>/job_id=<id>/<hotkey>.json   on-demand answers

Routes and clients ask this module for keys and prefixes; nothing else formats one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

DATA_PREFIX = "data/"
HOTKEY_FOLDERS_PREFIX = "data/hotkey="
ONDEMAND_PREFIX = "on-demand-jobs/"
JOB_FOLDER_MARK = "job_id="

# A Dynamic Desirability job id becomes one folder name: validators split keys on
# "/job_id=" and "/", so neither a separator nor a dot-only name may appear.
JOB_ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,128}")
# Validators read row counts only from names of exactly this shape (lower-case hex).
DD_FILENAME_PATTERN = re.compile(r"data_\d{8}_\d{6}_\d+_[0-9a-f]{16}\.parquet")
MAX_KEY_BYTES = 1024


def source_prefix(source: str) -> str:
    return f"{DATA_PREFIX}{source}/"


def coldkey_folder(source: str, coldkey: str) -> str:
    return f"{DATA_PREFIX}{source}/{coldkey}/"


def hotkey_folder(hotkey: str) -> str:
    return f"{HOTKEY_FOLDERS_PREFIX}{hotkey}/"


def is_valid_job_id(job_id: str) -> bool:
    return JOB_ID_PATTERN.fullmatch(job_id) is not None and job_id not in (".", "..")


def is_valid_dd_filename(filename: str) -> bool:
    return DD_FILENAME_PATTERN.fullmatch(filename) is not None


def folder_hotkey(key: str) -> str | None:
    """The `<hotkey>` of a key inside `data/hotkey=<hotkey>/`, or None for any other key."""
    if not key.startswith(HOTKEY_FOLDERS_PREFIX):
        return None
    hotkey, slash, _ = key[len(HOTKEY_FOLDERS_PREFIX) :].partition("/")
    return hotkey if slash else None


def dd_job_file(key: str) -> tuple[str, str] | None:
    """`(hotkey, job id)` of a file directly inside `data/hotkey=<hk>/job_id=<id>/`, else None.

    Deeper objects and folder markers (a key ending in `/`) are not a job's files: validators
    read only `job_id=<id>/<file>` names.
    """
    hotkey = folder_hotkey(key)
    if hotkey is None:
        return None
    rest = key[len(hotkey_folder(hotkey)) :]
    if not rest.startswith(JOB_FOLDER_MARK):
        return None
    job_id, slash, filename = rest[len(JOB_FOLDER_MARK) :].partition("/")
    if not slash or not filename or "/" in filename:
        return None
    return hotkey, job_id


def dd_file_key(hotkey: str, job_id: str, filename: str) -> str:
    """Key of one per-file upload; the parts must have passed the checks above."""
    return f"{hotkey_folder(hotkey)}{JOB_FOLDER_MARK}{job_id}/{filename}"


def ondemand_job_prefix(job_id: str, created_at: datetime) -> str:
    """Folder of a job's answers, dated by the job's creation (UTC)."""
    when = created_at.astimezone(UTC)
    return f"{ONDEMAND_PREFIX}date={when:%Y-%m-%d}/hour={when:%H}/job_id={job_id}/"


def ondemand_answer_key(job_id: str, created_at: datetime, miner_hotkey: str) -> str:
    return f"{ondemand_job_prefix(job_id, created_at)}{miner_hotkey}.json"


def key_problem(key: str) -> str | None:
    """Why `key` is unsafe to sign, or None.

    S3-compatible servers differ in what they normalise: SeaweedFS turns `\\` into `/`,
    others resolve `.` and `..` segments or collapse empty ones. A key that any of them
    would rewrite could land in another folder than the one it was checked against, so
    only keys that every server reads literally are signed.
    """
    if len(key.encode()) > MAX_KEY_BYTES:
        return "Keys must be at most 1024 bytes."
    if "\\" in key:
        return "Keys must not contain backslashes."
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        return "Keys must not contain control characters."
    segments = key.split("/")
    if any(segment in (".", "..") for segment in segments):
        return "Keys must not contain '.' or '..' segments."
    if "" in segments[:-1]:
        return "Keys must not contain empty segments ('//') or start with '/'."
    return None


def is_under(key: str, prefix: str) -> bool:
    """True when `key` is a safe key strictly inside the folder `prefix`."""
    return key.startswith(prefix) and len(key) > len(prefix) and key_problem(key) is None
