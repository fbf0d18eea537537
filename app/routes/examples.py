"""Example requests and answers shown in /docs and /redoc.

Real values: the hotkeys are the well-known development keys `//Alice` (a miner),
`//Charlie` (a validator), both owned by the coldkey `//Bob`; the signatures verify for
the messages docs/protocol.md builds (timestamp 1795541581); the URLs are what the
service signs for a SeaweedFS on 127.0.0.1:8333.
"""

from __future__ import annotations

from typing import Any

MINER_HOTKEY = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
VALIDATOR_HOTKEY = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y"
COLDKEY = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"
TIMESTAMP = 1795541581
S3 = "http://127.0.0.1:8333/data-universe-storage"
FOLDER = f"data/x/{COLDKEY}/"
_CREDENTIAL = "X-Amz-Credential=devaccesskey%2F20261125%2Fus-east-1%2Fs3%2Faws4_request"
_SIGNED = f"X-Amz-Algorithm=AWS4-HMAC-SHA256&{_CREDENTIAL}&X-Amz-Date=20261125T151644Z"


def _list_url(prefix: str, *, delimited: bool = False) -> str:
    delimiter = "&delimiter=%2F" if delimited else ""
    return (
        f"{S3}?list-type=2&prefix={prefix.replace('/', '%2F')}{delimiter}&encoding-type=url"
        f"&{_SIGNED}&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=e69d0cfc7b645f0ffb8ef87ce91b418b4d4cd87c4c0e82e1b828184f5bf3e280"
    )


def _get_url(key: str, seconds: int = 3600) -> str:
    return (
        f"{S3}/{key}?{_SIGNED}&X-Amz-Expires={seconds}&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=8e9aba5ab77a2bb798f02efacbbdbda9ec4e687376fef7ced72dc0573161cd88"
    )


FOLDER_ACCESS_LEGACY: dict[str, Any] = {
    "coldkey": COLDKEY,
    "hotkey": MINER_HOTKEY,
    "source": "x",
    "timestamp": TIMESTAMP,
    "signature": "bc10ea4f6fd76ed1c76d7c2dc3197af72f507bbadb6dcf0aacffca7e73f3eb76"
    "21b82673d325f64831aa0758f7b38ddd64c577aad9ddd198e7e4fbb7b55ce089",
}
FOLDER_ACCESS_HEADERS: dict[str, Any] = {"coldkey": COLDKEY, "source": "x"}
FOLDER_ACCESS_ANSWER: dict[str, Any] = {
    "folder": FOLDER,
    "url": S3,
    "fields": {
        "acl": "private",
        "x-amz-algorithm": "AWS4-HMAC-SHA256",
        "x-amz-credential": "devaccesskey/20261125/us-east-1/s3/aws4_request",
        "x-amz-date": "20261125T151644Z",
        "policy": (
            "eyJleHBpcmF0aW9uIjogIjIwMjYtMTEtMjZUMTU6MTY6NDRaIiwgImNvbmRpdGlvbnMiOiBbWyJjb250ZW50"
            "LWxlbmd0aC1yYW5nZSIsIDEwMjQsIDUzNjg3MDkxMjBdLCB7ImFjbCI6ICJwcml2YXRlIn0sIHsiYnVja2V0"
            "IjogImRhdGEtdW5pdmVyc2Utc3RvcmFnZSJ9LCBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAiZGF0YS94LzVG"
            "SG5lVzQ2eEdYZ3M1bVVpdmVVNHNiVHlHQnptc3RVc3BaQzkyVWhqSk02OTR0eS8iXSwgeyJ4LWFtei1hbGdv"
            "cml0aG0iOiAiQVdTNC1ITUFDLVNIQTI1NiJ9LCB7IngtYW16LWNyZWRlbnRpYWwiOiAiZGV2YWNjZXNza2V5"
            "LzIwMjYxMTI1L3VzLWVhc3QtMS9zMy9hd3M0X3JlcXVlc3QifSwgeyJ4LWFtei1kYXRlIjogIjIwMjYxMTI1"
            "VDE1MTY0NFoifV19"
        ),
        "x-amz-signature": "dbf218d760081d67a3659681575c7a6092df96de344b9a23129d0e2c192c15fa",
    },
    "expiry": "2026-11-26T15:16:44+00:00",
    "expiry_seconds": 86400,
    "list_url": _list_url(FOLDER),
    "bucket": "data-universe-storage",
    "region": "us-east-1",
    "min_bytes": 1024,
    "max_bytes": 5368709120,
    "method": "POST",
    "structure_info": {"folder_structure": FOLDER},
}

VALIDATOR_ACCESS_LEGACY: dict[str, Any] = {
    "hotkey": VALIDATOR_HOTKEY,
    "timestamp": TIMESTAMP,
    "signature": "441ec268041fd63e7c106ceaa4fdbfc8617e774665f633d646f374aa5b5d9633"
    "961d4bd3051f28bab883afc5aaba859586dfcf978001594b64eb720139c6148a",
}
VALIDATOR_ACCESS_ANSWER: dict[str, Any] = {
    "bucket": "data-universe-storage",
    "region": "us-east-1",
    "validator_hotkey": VALIDATOR_HOTKEY,
    "expiry": "2026-11-26T15:16:44+00:00",
    "expiry_seconds": 86400,
    "urls": {
        "global": {"list_all_data": _list_url("data/", delimited=True)},
        "sources": {
            "x": {"list_miners": _list_url("data/x/", delimited=True), "prefix": "data/x/"},
            "reddit": {
                "list_miners": _list_url("data/reddit/", delimited=True),
                "prefix": "data/reddit/",
            },
        },
        "miners": {COLDKEY: {"x": {"list_files": _list_url(FOLDER), "prefix": FOLDER}}},
    },
}

LIST_FILES_REQUEST: dict[str, Any] = {"source": "x", "coldkey": COLDKEY, "max_keys": 2}
LIST_FILES_ANSWER: dict[str, Any] = {
    "files": [
        {
            "key": f"{FOLDER}part-0.parquet",
            "size": 48213,
            "last_modified": "2026-11-25T15:10:11+00:00",
            "url": _get_url(f"{FOLDER}part-0.parquet"),
        },
        {
            "key": f"{FOLDER}part-1.parquet",
            "size": 51877,
            "last_modified": "2026-11-25T15:10:12+00:00",
            "url": _get_url(f"{FOLDER}part-1.parquet"),
        },
    ],
    "next_token": "MWNhYjRkOGUtcGFydC0xLnBhcnF1ZXQ=",
    "expiry": "2026-11-25T16:16:44+00:00",
}

FILE_URLS_REQUEST: dict[str, Any] = {"keys": [f"{FOLDER}part-0.parquet"], "expires_in": 3600}
FILE_URLS_ANSWER: dict[str, Any] = {
    "urls": {f"{FOLDER}part-0.parquet": _get_url(f"{FOLDER}part-0.parquet")},
    "expiry": "2026-11-25T16:16:44+00:00",
}

READY_CHECKS: dict[str, Any] = {
    "metagraph": {"status": "ok"},
    "database": {"status": "ok"},
    "redis": {"status": "ok"},
    "bucket": {"status": "ok"},
}
READY_ANSWER: dict[str, Any] = {"status": "ready", "checks": READY_CHECKS}
NOT_READY_ANSWER: dict[str, Any] = {
    "status": "not_ready",
    "checks": {
        **READY_CHECKS,
        "bucket": {"status": "failing", "reason": "bucket 'data-universe-storage' does not exist"},
    },
}
HEALTH_ANSWER: dict[str, Any] = {
    "status": "ok",
    "timestamp": TIMESTAMP,
    "bucket": "data-universe-storage",
    "region": "us-east-1",
    "metagraph": {
        "netuid": 13,
        "block": 5123456,
        "neurons": 256,
        "age_seconds": 41.2,
        "source": "chain",
    },
    "version": "0.1.0",
    "dynamic_desirability": {
        "version": "2026-11-25T09:00:00Z-000042",
        "generated_at": "2026-11-25T09:00:00.123456Z",
        "entries": 120,
        "age_seconds": 3302.5,
    },
    "housekeeping": {
        "interval_seconds": 3600.0,
        "last_pass_at": "2026-11-25T09:12:40Z",
        "last_success_at": "2026-11-25T09:12:40Z",
        "last_error": None,
        "last_pass": {
            "dry_run": False,
            "scanned_objects": 61423,
            "deleted": {"superseded": 3051, "unlisted": 240, "deregistered": 18},
            "deleted_bytes": 1734529811,
            "kept_objects": 58114,
            "skipped": [],
        },
    },
    "checks": READY_CHECKS,
}
HEALTH_DEGRADED: dict[str, Any] = {
    "status": "degraded",
    "timestamp": TIMESTAMP,
    "bucket": "data-universe-storage",
    "region": "us-east-1",
    "metagraph": None,
    "dynamic_desirability": None,
    "reason": "The metagraph has not been loaded yet; last refresh failed: "
    "RpcConnectionError: could not connect to any endpoint.",
    "version": "0.1.0",
    "checks": {
        **READY_CHECKS,
        "metagraph": {"status": "failing", "reason": "the metagraph has not been loaded yet"},
    },
}

# Today's miners and validators: hotkey folders, per-file uploads and reads.
HOTKEY_FOLDER = f"data/hotkey={MINER_HOTKEY}/"
DD_KEY = f"{HOTKEY_FOLDER}job_id=default_0/data_20261124_101500_1200_0123456789abcdef.parquet"
_HOTKEY_LIST_URL = (
    f"{S3}?list-type=2&prefix=data%2Fhotkey%3D{MINER_HOTKEY}%2F&encoding-type=url&{_SIGNED}"
    "&X-Amz-Expires=10800&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=f5c7617a816bf40a431359ae2044a2ea36f2c21a1c841e1ff5ab247aedd1365b"
)


FILE_UPLOAD_REQUEST: dict[str, Any] = {
    "job_id": "default_0",
    "filename": "data_20261124_101500_1200_0123456789abcdef.parquet",
}
FILE_UPLOAD_ANSWER: dict[str, Any] = {
    "s3_key": DD_KEY,
    "url": S3,
    "fields": {
        "key": DD_KEY,
        "x-amz-algorithm": "AWS4-HMAC-SHA256",
        "x-amz-credential": "devaccesskey/20261125/us-east-1/s3/aws4_request",
        "x-amz-date": "20261125T153548Z",
        "policy": (
            "eyJleHBpcmF0aW9uIjogIjIwMjYtMTEtMjVUMTY6MzU6NDhaIiwgImNvbmRpdGlvbnMiOiBbWyJjb250ZW50"
            "LWxlbmd0aC1yYW5nZSIsIDEwMjQsIDUzNjg3MDkxMjBdLCB7ImJ1Y2tldCI6ICJkYXRhLXVuaXZlcnNlLXN0"
            "b3JhZ2UifSwgeyJrZXkiOiAiZGF0YS9ob3RrZXk9NUdyd3ZhRUY1elhiMjZGejlyY1FwRFdTNTdDdEVSSHBO"
            "ZWhYQ1BjTm9IR0t1dFFZL2pvYl9pZD1kZWZhdWx0XzAvZGF0YV8yMDI2MTEyNF8xMDE1MDBfMTIwMF8wMTIz"
            "NDU2Nzg5YWJjZGVmLnBhcnF1ZXQifSwgeyJ4LWFtei1hbGdvcml0aG0iOiAiQVdTNC1ITUFDLVNIQTI1NiJ9"
            "LCB7IngtYW16LWNyZWRlbnRpYWwiOiAiZGV2YWNjZXNza2V5LzIwMjYxMTI1L3VzLWVhc3QtMS9zMy9hd3M0"
            "X3JlcXVlc3QifSwgeyJ4LWFtei1kYXRlIjogIjIwMjYxMTI1VDE1MzU0OFoifV19"
        ),
        "x-amz-signature": "950c0dc3eb3ee392eeb7fc5c6a20f71784ee00356a017eece81abc439ed0b017",
    },
    "expires_in_seconds": 3600,
    "method": "POST",
}

MINER_SPECIFIC_LEGACY: dict[str, Any] = {
    "hotkey": VALIDATOR_HOTKEY,
    "timestamp": TIMESTAMP,
    "signature": "6c3ae3f8195af40ffc72576564f67599a47cdcda2ca330da16a601b09602723a"
    "c2173a2cd498b747b6f02011218cb811a943fcb849ce63d2d82dfeda7e7f5588",
    "miner_hotkey": MINER_HOTKEY,
}
MINER_SPECIFIC_ANSWER: dict[str, Any] = {
    "miner_url": _HOTKEY_LIST_URL,
    "prefix": HOTKEY_FOLDER,
    "expiry": "2026-11-25T18:35:48+00:00",
    "expiry_seconds": 10800,
}

MINER_LIST_REQUEST: dict[str, Any] = {"miner_hotkey": MINER_HOTKEY}
MINER_LIST_ANSWER: dict[str, Any] = {"list_url": _HOTKEY_LIST_URL, "expires_in_seconds": 10800}

MINER_FILES_REQUEST: dict[str, Any] = {
    "miner_hotkey": MINER_HOTKEY,
    "file_keys": [DD_KEY],
    "expiry_hours": 1,
}
MINER_FILES_LEGACY: dict[str, Any] = {
    **MINER_FILES_REQUEST,
    "hotkey": VALIDATOR_HOTKEY,
    "timestamp": TIMESTAMP,
    "signature": "009f3522117abc60c65423c5fa7961610b22b5dad0e1dee80a4e9d5b4bebd316"
    "c6779a53612174fdcc9bf8021f4625adbe94140ca4f1182e3efff1f579dcd180",
}
MINER_FILES_ANSWER: dict[str, Any] = {
    "miner_hotkey": MINER_HOTKEY,
    "expiry_hours": 1,
    "file_urls": {
        DD_KEY: {
            "presigned_url": (
                f"{S3}/data/hotkey%3D{MINER_HOTKEY}/job_id%3Ddefault_0/"
                "data_20261124_101500_1200_0123456789abcdef.parquet"
                f"?{_SIGNED}&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
                "&X-Amz-Signature=be7271b0eda1a1cbb617ea6d5df3b1a7e4a42df620a2479f0bfde818a249e11c"
            ),
            "file_key": DD_KEY,
            "expires_in_seconds": 3600,
            "file_name": "data_20261124_101500_1200_0123456789abcdef.parquet",
        }
    },
    "invalid_files": [],
}
