"""`s3auth miner upload` and `s3auth check isolation`: the commands a miner key runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from s3auth_client.cli import (
    EXIT_FAILED,
    Subparsers,
    add_command,
    api_from,
    auth_option,
    emit,
    guarded,
    jobs_option,
    plural,
    show_progress,
)
from s3auth_client.isolation import run_isolation
from s3auth_client.jobs import FILENAME_HELP, JobUploader
from s3auth_client.miner import MinerClient
from s3auth_client.progress import progress_for
from s3auth_client.uploads import plan_upload, upload_files, upload_job_files

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
    upload = add_command(
        group,
        "upload",
        parent,
        "upload files and folders into your folder, resuming",
        "Upload files and folders into data/<source>/<coldkey>/[PREFIX/], or with\n"
        "--job-id, parquet files one by one into data/hotkey=<hotkey>/job_id=<JOB>/.\n\n"
        "A folder's files keep their paths inside it, so a local HuggingFace dataset\n"
        "snapshot keeps its data/... layout. Hidden files inside folders are left out.\n"
        "Files already in your folder with the same size are skipped, so rerunning the\n"
        "same command resumes. Files outside the policy's size range are reported and\n"
        "not sent. Exit status: 0 every file uploaded, already there or not uploadable\n"
        "(reported), 1 some upload failed, 2 nothing could start.\n\n"
        "Per-file uploads (--job-id) are today's flow: each file asks the service for\n"
        "its own upload URL (Tao v2 signed by default) and must already be named\n"
        f"{FILENAME_HELP}; other names are reported as not uploadable. A file the\n"
        "service says exists (409) is skipped, so rerunning resumes.\n\n"
        "examples:\n"
        "  s3auth miner upload ./my-dataset --source x --wallet miner --hotkey default\n"
        "  s3auth miner upload ./out/*.parquet --job-id crawler-7-h4rp --wallet miner",
    )
    upload.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    upload.add_argument(
        "--source", help="data source of a folder upload, e.g. x or reddit (or give --job-id)"
    )
    upload.add_argument(
        "--job-id",
        metavar="JOB",
        help="per-file upload for this Dynamic Desirability job into your hotkey folder",
    )
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
    jobs_option(upload, 4)
    auth_option(upload)
    upload.set_defaults(handler=guarded(miner_upload), parser=upload)


def miner_upload(args: argparse.Namespace) -> int:
    if bool(args.source) == bool(args.job_id):
        args.parser.error("give --source S (folder upload) or --job-id JOB (per-file upload)")
    if args.job_id and args.prefix:
        args.parser.error("--prefix applies to folder uploads; --job-id names the folder")
    plan = plan_upload(args.paths, prefix=args.prefix, exclude=tuple(args.exclude))
    progress = progress_for("uploading", enabled=show_progress(args))
    if args.job_id:
        api = api_from(args)
        try:
            uploader = JobUploader(api, args.job_id, auth=args.auth)
            report = upload_job_files(uploader, plan.files, jobs=args.jobs, progress=progress)
        finally:
            api.close()
    else:
        with MinerClient(api_from(args), args.source, auth=args.auth) as client:
            report = upload_files(
                client, plan.files, jobs=args.jobs, resume=not args.no_resume, progress=progress
            )
    report.hidden = plan.hidden
    lines = [
        f"{report.folder}: {len(report.uploaded)} uploaded ({report.bytes_uploaded} bytes), "
        f"{len(report.skipped)} already there, {len(report.refused)} not uploadable, "
        f"{len(report.failed)} failed, {plural(report.hidden, 'hidden file')} left out"
    ]
    lines += [f"  not uploadable: {name}: {why}" for name, why in report.refused.items()]
    lines += [f"  failed: {name}: {why}" for name, why in report.failed.items()]
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
    isolation = add_command(
        group,
        "isolation",
        parent,
        "probe what a miner's grant must not allow",
        "With a registered miner's key, try what an attacker would: write into another\n"
        "miner's folder, beside its own folder, into another source, a file under the\n"
        "size floor, with a rewritten policy; list with an edited URL; ask for a grant\n"
        "naming someone else's coldkey; list or fetch another miner's files through\n"
        "the service; replay a signature. Each probe prints PASS (refused as it must\n"
        "be), FAIL or SKIP. A write that gets through is named so the operator can\n"
        "remove it. Exit status: 0 no FAIL, 1 any FAIL, 2 could not start (no grant).\n\n"
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
    isolation.add_argument(
        "--other-hotkey",
        metavar="SS58",
        help="another miner's hotkey to aim at (default: a fresh, unregistered address)",
    )
    auth_option(isolation)
    isolation.set_defaults(handler=guarded(check_isolation))


def check_isolation(args: argparse.Namespace) -> int:
    with MinerClient(api_from(args), args.source, auth=args.auth) as client:
        results = run_isolation(
            client,
            other_coldkey=args.other_coldkey,
            other_source=args.other_source,
            other_hotkey=args.other_hotkey,
        )
    failed = [r for r in results if r.passed is False]
    warned = sum(1 for r in results if r.warning)
    payload: dict[str, Any] = {
        "ok": not failed,
        "url": args.url,
        "probes": [r.as_json() for r in results],
    }
    text = "\n".join(f"{r.verdict}  {r.name}: {r.detail}" for r in results)
    skipped = sum(1 for r in results if r.passed is None and not r.warning)
    held = len(results) - len(failed) - skipped - warned
    text += f"\n{held} of {len(results)} probes held, "
    text += f"{skipped} skipped, " if skipped else ""
    text += f"{warned} WARN, " if warned else ""
    text += f"{len(failed)} FAIL"
    emit(args, payload, text)
    return EXIT_FAILED if failed else 0
