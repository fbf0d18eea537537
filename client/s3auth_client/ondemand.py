"""`s3auth ondemand`: create a job and read its answers (customers), answer one (miners),
read a miner's submissions (validators)."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2

from s3auth_client.api import new_http_client, parse_response
from s3auth_client.cli import EXIT_FAILED, Subparsers, add_command, api_from, emit, guarded
from s3auth_client.errors import TransferError
from s3auth_client.progress import progress_for

API_KEY_ENV = "S3AUTH_API_KEY"


def _customer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api-key",
        default=os.environ.get(API_KEY_ENV),
        help=f"a customer key of the service (default: ${API_KEY_ENV})",
    )


def _customer_call(args: argparse.Namespace, method: str, path: str, **kw: Any) -> dict[str, Any]:
    headers = {"X-API-Key": args.api_key or ""}
    with new_http_client() as http:
        url = args.url.rstrip("/") + path
        return parse_response(http.request(method, url, headers=headers, **kw))


def job_spec(args: argparse.Namespace) -> dict[str, Any]:
    job: dict[str, Any] = {"platform": args.platform}
    if args.keyword:
        job["keywords"] = args.keyword
    if args.username:
        job["usernames"] = args.username
    if args.subreddit:
        job["subreddit"] = args.subreddit
    if args.post_url:
        job["url"] = args.post_url
    spec: dict[str, Any] = {"job": job, "limit": args.limit, "keyword_mode": args.keyword_mode}
    if args.seconds:
        spec["expire_at"] = (datetime.now(UTC) + timedelta(seconds=args.seconds)).isoformat()
    return {"job": spec}


@guarded
def _create(args: argparse.Namespace) -> int:
    answer = _customer_call(args, "POST", "/on-demand/constellation/jobs", json=job_spec(args))
    emit(args, answer, answer["job_id"])
    return 0


def _download(http: httpx2.Client, url: str, target: Path) -> int:
    response = http.get(url, follow_redirects=True)
    if response.status_code != 200:
        raise TransferError(f"download of {target.name} failed: HTTP {response.status_code}")
    target.write_bytes(response.content)
    return len(response.content)


@guarded
def _show(args: argparse.Namespace) -> int:
    submissions = _customer_call(args, "GET", f"/on-demand/constellation/jobs/{args.job_id}")[
        "submissions"
    ]
    landed = [s for s in submissions if s.get("s3_presigned_url")]
    folder = Path(args.out) / args.job_id
    progress = progress_for("answers", enabled=not args.json)
    failed = 0
    if landed:
        folder.mkdir(parents=True, exist_ok=True)
        progress.start(len(landed), sum(s["s3_content_length"] or 0 for s in landed))
        with new_http_client() as http:
            for submission in landed:
                try:
                    size = _download(
                        http,
                        submission["s3_presigned_url"],
                        folder / f"{submission['miner_hotkey']}.json",
                    )
                    progress.advance(size)
                except (TransferError, httpx2.HTTPError):
                    failed += 1
                progress.file_done()
        progress.stop()
    # Highest incentive first: customers rank answers by their miner's standing.
    ranked = sorted(submissions, key=lambda s: s.get("miner_incentive") or 0.0, reverse=True)
    lines = [
        f"{s['miner_hotkey']}  incentive {s.get('miner_incentive') or 0.0:.6f}  "
        f"submitted {s['submitted_at']}  "
        + (f"{s['s3_content_length']} bytes" if s.get("s3_presigned_url") else "no answer landed")
        for s in ranked
    ]
    summary = f"{len(submissions)} submissions, {len(landed)} answers in {folder}"
    emit(args, {"submissions": submissions, "folder": str(folder)}, "\n".join([*lines, summary]))
    return EXIT_FAILED if failed else 0


@guarded
def _answer(args: argparse.Namespace) -> int:
    body = Path(args.file).read_bytes()
    api = api_from(args)
    try:
        answer = api.post("/on-demand/miner/jobs/submit", {"submission": {"job_id": args.job_id}})
        form = answer["presigned_post_upload_data"]
        files = {
            "file": ("data.json", body, form["fields"].get("Content-Type", "application/json"))
        }
        response = api.http.post(form["url"], data=form["fields"], files=files)
    finally:
        api.close()
    if response.status_code not in (200, 201, 204):
        raise TransferError(f"storage refused the answer: HTTP {response.status_code}")
    emit(args, {"key": form["fields"]["key"]}, f"answer stored at {form['fields']['key']}")
    return 0


@guarded
def _submissions(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    body = {
        "miner_hotkey": args.miner,
        "expired_since": (now - timedelta(hours=args.hours)).isoformat(),
        "expired_until": now.isoformat(),
    }
    api = api_from(args)
    try:
        answer = api.post("/on-demand/validator/miner-jobs", body)
    finally:
        api.close()
    lines = [
        f"{e['job']['id']}  {e['job']['job']['platform']}  expired {e['job']['expire_at']}  "
        f"{e['submission']['s3_content_length'] or 'no'} bytes"
        for e in answer["jobs"]
    ]
    emit(args, answer, "\n".join(lines) or "no submissions in the window")
    return 0


def add_ondemand(commands: Subparsers, parent: argparse.ArgumentParser) -> None:
    ondemand = commands.add_parser(
        "ondemand",
        help="on-demand jobs: create and read (customers), answer (miners), review (validators)",
        description="On-demand jobs. Customers use --api-key; miners and validators sign "
        "with their hotkey.",
    )
    group = ondemand.add_subparsers(dest="ondemand_command", required=True, metavar="COMMAND")
    create = add_command(
        group,
        "create",
        parent,
        "create a job (customers)",
        "Create an x or reddit job; prints its id.\n\nexample:\n"
        "  s3auth ondemand create --platform x --keyword '#bittensor' --api-key KEY",
    )
    _customer_options(create)
    create.add_argument("--platform", choices=("x", "reddit"), required=True)
    create.add_argument("--keyword", action="append", help="repeat for several (at most 5)")
    create.add_argument("--username", action="append", help="repeat for several (at most 10)")
    create.add_argument("--subreddit", help="reddit only, e.g. r/bittensor_")
    create.add_argument("--post-url", help="x only: one post to fetch")
    create.add_argument("--limit", type=int, default=100, help="most items wanted (1..1000)")
    create.add_argument("--keyword-mode", choices=("any", "all"), default="any")
    create.add_argument("--seconds", type=int, help="lifetime (default: the service's)")
    create.set_defaults(handler=_create)

    show = add_command(
        group,
        "show",
        parent,
        "list a job's submissions and download its answers (customers)",
        "List a job's submissions and download every landed answer to OUT/JOB_ID/.",
    )
    _customer_options(show)
    show.add_argument("job_id", metavar="JOB_ID")
    show.add_argument("--out", default=".", help="where answers are written (default: .)")
    show.set_defaults(handler=_show)

    answer = add_command(
        group,
        "answer",
        parent,
        "answer a job with a JSON file (miners)",
        "Submit an answer to JOB_ID and upload FILE as it (one answer per job).\n\nexample:\n"
        "  s3auth ondemand answer JOB_ID answer.json --hotkey-uri //dev-miner-1",
    )
    answer.add_argument("job_id", metavar="JOB_ID")
    answer.add_argument("file", metavar="FILE", help='{"data_entities": [...]} as miners send')
    answer.set_defaults(handler=_answer)

    review = add_command(
        group,
        "submissions",
        parent,
        "a miner's submissions to expired jobs (validators)",
        "List MINER's submissions to jobs that expired in the last HOURS.",
    )
    review.add_argument("--miner", required=True, metavar="SS58")
    review.add_argument("--hours", type=float, default=3.0)
    review.set_defaults(handler=_submissions)
