"""`s3auth validator ls|get`: listings and downloads with a validator key."""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

from s3auth_client.cli import (
    EXIT_FAILED,
    Subparsers,
    add_command,
    api_from,
    auth_option,
    emit,
    guarded,
    jobs_option,
    json_lines,
    plural,
    show_progress,
)
from s3auth_client.downloads import DownloadItem, destination, download_all
from s3auth_client.errors import ClientError
from s3auth_client.progress import progress_for
from s3auth_client.validator import ValidatorClient

# --- validator -----------------------------------------------------------------------


def add_validator(commands: Subparsers, parent: argparse.ArgumentParser) -> None:
    validator = commands.add_parser(
        "validator",
        help="validator tools: list sources, miners and files; download them",
        description="Commands for validators. Your hotkey needs a validator permit and "
        "enough stake on the subnet.",
    )
    group = validator.add_subparsers(
        dest="validator_command",
        required=True,
        metavar="COMMAND",
        help="the command to run; each takes --help",
    )
    ls = add_command(
        group,
        "ls",
        parent,
        "list sources, a source's miners, or a miner's files",
        "Without options: the sources. With --source: its miners.\n"
        "With --miner (and --source, or every source the miner has): the files,\n"
        "page after page. --hotkeys: the miners with a hotkey folder (the bundle's\n"
        "listing: its first 1000). With --miner-hotkey: the files of that miner's hotkey\n"
        "folder data/hotkey=<hotkey>/ (trusted validators only: /get-miner-list).\n"
        "--json prints one JSON object per line.\n\n"
        "examples:\n"
        "  s3auth validator ls --source x --miner 5F... --wallet validator\n"
        "  s3auth validator ls --miner-hotkey 5H... --wallet validator",
    )
    ls.add_argument("--source", help="list the miners of this source")
    ls.add_argument("--miner", metavar="COLDKEY", help="list this miner's files")
    ls.add_argument(
        "--miner-hotkey", metavar="SS58", help="list the files of this miner's hotkey folder"
    )
    ls.add_argument(
        "--hotkeys",
        action="store_true",
        help="list the miner hotkeys that have a hotkey folder (first 1000)",
    )
    auth_option(ls)
    ls.set_defaults(handler=guarded(validator_ls))

    get = add_command(
        group,
        "get",
        parent,
        "download files, or a whole miner folder",
        "Download KEYs, or every file of --miner COLDKEY in --source S, into DIR,\n"
        "keeping the bucket layout (DIR/data/<source>/<coldkey>/...). Each file is\n"
        "checked against its size and ETag and appears only when complete. Files\n"
        "already in DIR with the right size (or, for KEYs, the same MD5) are skipped,\n"
        "so rerunning resumes. --miner-hotkey HOTKEY downloads the hotkey folder\n"
        "data/hotkey=<HOTKEY>/ (trusted validators only). Exit status: 0 all done,\n"
        "1 some file failed.\n\n"
        "examples:\n"
        "  s3auth validator get --miner 5F... --source x --out ./data\n"
        "  s3auth validator get --miner-hotkey 5H... --out ./data\n"
        "  s3auth validator get data/x/5F.../file.parquet --out ./data",
    )
    get.add_argument("keys", nargs="*", metavar="KEY", help="object keys under data/")
    get.add_argument("--miner", metavar="COLDKEY", help="download this miner's folder")
    get.add_argument("--source", help="the source of --miner's folder")
    get.add_argument("--miner-hotkey", metavar="SS58", help="download this miner's hotkey folder")
    get.add_argument(
        "--out", type=Path, default=Path("."), metavar="DIR", help="where to write (default: .)"
    )
    jobs_option(get, 8)
    auth_option(get)
    get.set_defaults(handler=guarded(validator_get))


def validator_ls(args: argparse.Namespace) -> int:
    with ValidatorClient(api_from(args), auth=args.auth) as client:
        if args.hotkeys:
            page = client.hotkey_folders()
            if args.json:
                json_lines({"miner_hotkey": hotkey} for hotkey in page.folders)
            else:
                print("\n".join(page.folders) if page.folders else "no hotkey folders")
            if page.next_token:
                print("s3auth: more hotkey folders exist than one listing shows", file=sys.stderr)
        elif args.miner_hotkey:
            listed = (remote.as_json() for remote in client.hotkey_files(args.miner_hotkey))
            if args.json:
                json_lines(listed)
            else:
                for item in listed:
                    print(f"{item['size']:>12}  {item['last_modified'] or '':<25}  {item['key']}")
        elif args.miner:
            sources = [args.source] if args.source else _miner_sources(client, args.miner)
            files = (
                {"source": source, **remote.as_json()}
                for source in sources
                for remote in client.list_files(source, args.miner)
            )
            if args.json:
                json_lines(files)
            else:
                for item in files:
                    print(f"{item['size']:>12}  {item['last_modified'] or '':<25}  {item['key']}")
        elif args.source:
            miners = client.miners(args.source)
            if args.json:
                json_lines({"source": args.source, "miner": m} for m in miners)
            else:
                print("\n".join(miners) if miners else f"no miner folders in {args.source}")
        else:
            access = client.access()
            rows = [
                {"source": s, "prefix": p, "miners": len(access.miners_in(s))}
                for s, p in sorted(access.sources.items())
            ]
            if args.json:
                json_lines(iter(rows))
            else:
                for row in rows:
                    folders = plural(row["miners"], "miner folder")
                    print(f"{row['source']:<16} {folders:>20}  {row['prefix']}")
    return 0


def _miner_sources(client: ValidatorClient, coldkey: str) -> list[str]:
    folders = client.access().miners.get(coldkey)
    if not folders:
        raise ClientError(f"no folder of miner {coldkey} exists")
    return sorted(folders)


def validator_get(args: argparse.Namespace) -> int:
    if sum(map(bool, (args.keys, args.miner, args.miner_hotkey))) != 1:
        raise ClientError("give KEYs, --miner COLDKEY with --source S, or --miner-hotkey SS58")
    if args.miner and not args.source:
        raise ClientError("--miner needs --source")
    out: Path = args.out
    with ValidatorClient(api_from(args), auth=args.auth) as client:
        if args.miner_hotkey:
            hotkey = args.miner_hotkey
            listed = list(client.hotkey_files(hotkey))
            urls = client.hotkey_file_urls(hotkey, [f.key for f in listed]) if listed else {}
            absent = [f.key for f in listed if f.key not in urls]
            if absent:
                raise ClientError(f"the service gave no URL for {', '.join(absent[:5])}")
            items = [
                DownloadItem(f.key, urls[f.key], destination(out, f.key), f.size) for f in listed
            ]
        elif args.miner:
            listed = list(client.list_files(args.source, args.miner))
            missing_urls = [f.key for f in listed if not f.url]
            urls = client.file_urls(missing_urls) if missing_urls else {}
            items = [
                DownloadItem(f.key, f.url or urls[f.key], destination(out, f.key), f.size)
                for f in listed
            ]
        else:
            urls = client.file_urls(args.keys)
            absent = [key for key in args.keys if key not in urls]
            if absent:
                raise ClientError(f"the service gave no URL for {', '.join(absent)}")
            items = [DownloadItem(k, urls[k], destination(out, k)) for k in args.keys]
        report = download_all(
            client.api.http,
            items,
            jobs=args.jobs,
            retry=client.api.retry,
            refresh_url=partial(client.renewed_url, miner_hotkey=args.miner_hotkey),
            progress=progress_for("downloading", enabled=show_progress(args)),
        )
    report.out = str(out)
    lines = [
        f"{out}: {len(report.downloaded)} downloaded ({report.bytes_downloaded} bytes), "
        f"{len(report.skipped)} already there, {len(report.failed)} failed"
    ]
    lines += [f"  failed: {key}: {why}" for key, why in report.failed.items()]
    emit(args, report.as_json(), "\n".join(lines))
    return 0 if report.ok else EXIT_FAILED
