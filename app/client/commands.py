"""The handlers behind `s3auth miner upload`, `validator ls|get` and `check isolation`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.client.cli import (
    EXIT_FAILED,
    api_from,
    emit,
    guarded,
    json_lines,
    show_progress,
)
from app.client.downloads import DownloadItem, destination, download_all
from app.client.errors import ClientError
from app.client.isolation import run_isolation
from app.client.miner import MinerClient
from app.client.progress import progress_for
from app.client.uploads import plan_upload, upload_files
from app.client.validator import ValidatorClient

Subparsers = argparse._SubParsersAction  # type: ignore[type-arg]


def _command(
    group: Subparsers, name: str, parent: argparse.ArgumentParser, summary: str, text: str
) -> argparse.ArgumentParser:
    return group.add_parser(
        name,
        parents=[parent],
        help=summary,
        description=text,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _auth_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--auth",
        choices=("btauth", "legacy"),
        default="btauth",
        help="how the grant request is signed: btauth/1 headers or the legacy body "
        "signature (default: btauth)",
    )


def _jobs_option(parser: argparse.ArgumentParser, default: int) -> None:
    parser.add_argument(
        "--jobs",
        type=int,
        default=default,
        metavar="N",
        help=f"parallel transfers (default: {default})",
    )


# --- miner ---------------------------------------------------------------------------


def add_miner(commands: Subparsers, parent: argparse.ArgumentParser) -> None:
    miner = commands.add_parser(
        "miner",
        help="miner tools: upload data into your folder",
        description="Commands for miners. Your hotkey signs; the coldkey that owns it "
        "names your folder data/<source>/<coldkey>/.",
    )
    group = miner.add_subparsers(
        dest="miner_command",
        required=True,
        metavar="COMMAND",
        help="the command to run; each takes --help",
    )
    upload = _command(
        group,
        "upload",
        parent,
        "upload files and folders into your folder, resuming",
        "Upload files and folders into data/<source>/<coldkey>/[PREFIX/].\n\n"
        "A folder's files keep their paths inside it, so a local HuggingFace dataset\n"
        "snapshot keeps its data/... layout. Hidden files inside folders are left out.\n"
        "Files already in your folder with the same size are skipped, so rerunning the\n"
        "same command resumes. Files outside the policy's size range are reported and\n"
        "not sent. Exit status: 0 all uploaded or skipped, 1 some file refused or\n"
        "failed, 2 nothing could start.\n\n"
        "example:\n"
        "  s3auth miner upload ./my-dataset --source x --wallet miner --hotkey default",
    )
    upload.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    upload.add_argument("--source", required=True, help="data source, e.g. x or reddit")
    upload.add_argument(
        "--prefix", default="", help="put everything under this path inside your folder"
    )
    upload.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="skip files whose path (inside its folder) matches; repeatable",
    )
    upload.add_argument(
        "--no-resume",
        action="store_true",
        help="upload every file, even those already in the folder with the same size",
    )
    _jobs_option(upload, 4)
    _auth_option(upload)
    upload.set_defaults(handler=guarded(miner_upload))


def miner_upload(args: argparse.Namespace) -> int:
    files = plan_upload(args.paths, prefix=args.prefix, exclude=tuple(args.exclude))
    with MinerClient(api_from(args), args.source, auth=args.auth) as client:
        progress = progress_for("uploading", enabled=show_progress(args))
        report = upload_files(
            client, files, jobs=args.jobs, resume=not args.no_resume, progress=progress
        )
    lines = [
        f"{report.folder}: {len(report.uploaded)} uploaded ({report.bytes_uploaded} bytes), "
        f"{len(report.skipped)} already there, {len(report.refused)} not uploadable, "
        f"{len(report.failed)} failed"
    ]
    lines += [f"  not uploadable: {name}: {why}" for name, why in report.refused.items()]
    lines += [f"  failed: {name}: {why}" for name, why in report.failed.items()]
    emit(args, report.as_json(), "\n".join(lines))
    return 0 if report.ok else EXIT_FAILED


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
    ls = _command(
        group,
        "ls",
        parent,
        "list sources, a source's miners, or a miner's files",
        "Without options: the sources. With --source: its miners.\n"
        "With --miner (and --source, or every source the miner has): the files,\n"
        "page after page. --json prints one JSON object per line.\n\n"
        "example:\n"
        "  s3auth validator ls --source x --miner 5F... --wallet validator",
    )
    ls.add_argument("--source", help="list the miners of this source")
    ls.add_argument("--miner", metavar="COLDKEY", help="list this miner's files")
    _auth_option(ls)
    ls.set_defaults(handler=guarded(validator_ls))

    get = _command(
        group,
        "get",
        parent,
        "download files, or a whole miner folder",
        "Download KEYs, or every file of --miner COLDKEY in --source S, into DIR,\n"
        "keeping the bucket layout (DIR/data/<source>/<coldkey>/...). Each file is\n"
        "checked against its size and ETag and appears only when complete. Files\n"
        "already in DIR with the right size (or, for KEYs, the same MD5) are skipped,\n"
        "so rerunning resumes. Exit status: 0 all done, 1 some file failed.\n\n"
        "examples:\n"
        "  s3auth validator get --miner 5F... --source x --out ./data\n"
        "  s3auth validator get data/x/5F.../file.parquet --out ./data",
    )
    get.add_argument("keys", nargs="*", metavar="KEY", help="object keys under data/")
    get.add_argument("--miner", metavar="COLDKEY", help="download this miner's folder")
    get.add_argument("--source", help="the source of --miner's folder")
    get.add_argument(
        "--out", type=Path, default=Path("."), metavar="DIR", help="where to write (default: .)"
    )
    _jobs_option(get, 8)
    _auth_option(get)
    get.set_defaults(handler=guarded(validator_get))


def validator_ls(args: argparse.Namespace) -> int:
    with ValidatorClient(api_from(args), auth=args.auth) as client:
        if args.miner:
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
                    print(f"{row['source']:<16} {row['miners']:>6} miner folders  {row['prefix']}")
    return 0


def _miner_sources(client: ValidatorClient, coldkey: str) -> list[str]:
    folders = client.access().miners.get(coldkey)
    if not folders:
        raise ClientError(f"no folder of miner {coldkey} exists")
    return sorted(folders)


def validator_get(args: argparse.Namespace) -> int:
    if bool(args.keys) == bool(args.miner):
        raise ClientError("give KEYs, or --miner COLDKEY with --source S")
    if args.miner and not args.source:
        raise ClientError("--miner needs --source")
    out: Path = args.out
    with ValidatorClient(api_from(args), auth=args.auth) as client:
        if args.miner:
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
            refresh_url=lambda key: client.file_urls([key])[key],
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


# --- check ---------------------------------------------------------------------------


def add_check(commands: Subparsers, parent: argparse.ArgumentParser) -> None:
    check = commands.add_parser(
        "check",
        help="operator checks against a live deployment",
        description="Checks an operator runs against a live deployment.",
    )
    group = check.add_subparsers(
        dest="check_command",
        required=True,
        metavar="COMMAND",
        help="the command to run; each takes --help",
    )
    isolation = _command(
        group,
        "isolation",
        parent,
        "probe what a miner's grant must not allow",
        "With a registered miner's key, try what an attacker would: write into another\n"
        "miner's folder, beside its own folder, into another source, a file under the\n"
        "size floor, with a rewritten policy, list with an edited URL, ask for a grant\n"
        "naming someone else's coldkey, and replay a signature. Each probe prints PASS\n"
        "(refused as it must be), FAIL or SKIP. A write that gets through is named so\n"
        "the operator can remove it. Exit status: 0 no FAIL, 1 any FAIL, 2 could not\n"
        "start (no grant for the key).\n\n"
        "example:\n"
        "  s3auth check isolation --url https://s3auth.example.org --wallet miner",
    )
    isolation.add_argument("--source", default="x", help="the source to probe (default: x)")
    isolation.add_argument(
        "--other-source",
        metavar="SOURCE",
        help="a different source for the cross-source probe (default: reddit, or x)",
    )
    isolation.add_argument(
        "--other-coldkey",
        metavar="SS58",
        help="another miner's coldkey to aim at (default: a fresh, unregistered address)",
    )
    _auth_option(isolation)
    isolation.set_defaults(handler=guarded(check_isolation))


def check_isolation(args: argparse.Namespace) -> int:
    with MinerClient(api_from(args), args.source, auth=args.auth) as client:
        results = run_isolation(
            client, other_coldkey=args.other_coldkey, other_source=args.other_source
        )
    failed = [r for r in results if r.passed is False]
    payload: dict[str, Any] = {
        "ok": not failed,
        "url": args.url,
        "probes": [r.as_json() for r in results],
    }
    text = "\n".join(f"{r.verdict}  {r.name}: {r.detail}" for r in results)
    text += f"\n{len(results) - len(failed)} of {len(results)} probes held, {len(failed)} FAIL"
    emit(args, payload, text)
    return EXIT_FAILED if failed else 0
