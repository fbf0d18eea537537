"""The `s3auth storage` commands' arguments and what they print."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any


def _load_settings() -> Any:
    from app.cli import load_settings

    return load_settings()


def _reap(args: argparse.Namespace) -> int:
    from app.errors import ServiceError
    from app.housekeeping.commands import AnotherPass, describe_pass, reap_now

    settings = _load_settings()
    try:
        report = asyncio.run(
            reap_now(settings, dry_run=args.dry_run, show_progress=sys.stderr.isatty())
        )
    except AnotherPass:
        print("s3auth: another housekeeping pass is running; try again later", file=sys.stderr)
        return 1
    except ServiceError as exc:
        print(f"s3auth: the pass stopped: {exc.detail}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        print("\n".join(describe_pass(report)))
    return 0


def _usage(args: argparse.Namespace) -> int:
    from app.errors import ServiceError
    from app.housekeeping.commands import describe_usage, usage_now

    settings = _load_settings()
    try:
        usage = asyncio.run(usage_now(settings))
    except ServiceError as exc:
        print(f"s3auth: listing the bucket failed: {exc.detail}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(usage.to_json(args.top)))
    else:
        print("\n".join(describe_usage(usage, args.top)))
    return 0


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def add_storage_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    storage = commands.add_parser(
        "storage",
        help="bucket housekeeping: remove what validators never read, usage per miner",
        description="Work with the bucket at S3_BUCKET (README: Housekeeping).",
    )
    actions = storage.add_subparsers(dest="storage_command", required=True, metavar="ACTION")
    reap = actions.add_parser(
        "reap",
        help="run one housekeeping pass now",
        description="Remove superseded snapshots, unlisted jobs' files and deregistered "
        "hotkeys' folders past their REAP_*_AFTER_SECONDS graces, with the list from "
        "DATABASE_URL and the metagraph from METAGRAPH_FILE or the chain.",
    )
    reap.add_argument("--dry-run", action="store_true", help="count what would go; remove nothing")
    reap.add_argument("--json", action="store_true", help="print one JSON object")
    reap.set_defaults(handler=_reap)
    usage = actions.add_parser(
        "usage",
        help="objects, bytes and newest upload per hotkey folder",
        description="List data/hotkey= once and print each hotkey folder's objects, bytes "
        "and newest LastModified, largest first.",
    )
    usage.add_argument("--json", action="store_true", help="print one JSON object")
    usage.add_argument("--top", type=_positive, help="only the N largest folders")
    usage.set_defaults(handler=_usage)
