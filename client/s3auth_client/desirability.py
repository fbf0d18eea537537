"""`s3auth dd publish` and `s3auth validator results`: publish a Dynamic Desirability list
with an admin key, and read the validation scores the trusted validator published.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import httpx2

from s3auth_client.api import Api, new_http_client, parse_response
from s3auth_client.cli import Subparsers, add_command, api_from, emit, guarded
from s3auth_client.errors import ClientError
from s3auth_client.retry import RetryPolicy

LIST_PATH = "/dynamic-desirability/list"
RESULTS_PATH = "/s3-validation/results"
# The fields of a list entry that sit under "params" in a validator's total.json.
PARAM_FIELDS = ("platform", "label", "keyword", "post_start_datetime", "post_end_datetime")


def fetch_results(api: Api) -> dict[str, Any]:
    """Every miner's latest published score (a GET signing the empty body)."""

    def once() -> dict[str, Any]:
        headers = api.identity.tao_headers(b"")
        return parse_response(api.http.get(api.url(RESULTS_PATH), headers=headers))

    return api.retry.run(once)


# --- publishing --------------------------------------------------------------------------


def entry_from(item: Any) -> Any:
    """An entry as the service takes it; total.json's `{"id", "weight", "params"}` is unfolded."""
    if isinstance(item, dict) and isinstance(item.get("params"), dict):
        unfolded = {k: v for k, v in item.items() if k != "params"}
        unfolded.update({k: v for k, v in item["params"].items() if k in PARAM_FIELDS})
        return unfolded
    return item


def list_from_file(path: Path) -> dict[str, Any]:
    """`{"entries": [...]}` from FILE: that shape, a bare list, or a total.json."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ClientError(f"{path} is not JSON: {exc}") from None
    entries = payload.get("entries") if isinstance(payload, dict) else payload
    if not isinstance(entries, list):
        raise ClientError(f'{path} must hold {{"entries": [...]}} or a list of entries')
    return {"entries": [entry_from(item) for item in entries]}


def publish_list(
    url: str,
    api_key: str,
    payload: dict[str, Any],
    *,
    http: httpx2.Client | None = None,
    retry: RetryPolicy | None = None,
) -> dict[str, Any]:
    client = http or new_http_client()
    raw = json.dumps(payload).encode()
    headers = {"X-API-Key": api_key, "Content-Type": "application/json"}
    target = url.rstrip("/") + LIST_PATH
    try:
        # A publication repeated after a lost answer stores the same entries again: harmless.
        return (retry or RetryPolicy()).run(
            lambda: parse_response(client.put(target, content=raw, headers=headers))
        )
    finally:
        if http is None:
            client.close()


def dd_publish(args: argparse.Namespace) -> int:
    if not args.api_key:
        raise ClientError("an admin key is needed: pass --api-key or set S3AUTH_ADMIN_API_KEY")
    payload = list_from_file(Path(args.file))
    answer = publish_list(
        args.url, args.api_key, payload, retry=RetryPolicy(attempts=max(1, args.retries))
    )
    emit(
        args,
        answer,
        f"published version {answer.get('version')} with {answer.get('entries')} entries "
        f"(generated_at {answer.get('generated_at')})",
    )
    return 0


# --- reading scores ----------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def results_table(results: list[dict[str, Any]]) -> str:
    if not results:
        return "no validation scores have been published"
    header = ("miner_hotkey", "passed", "effective_bytes", "pass_rate", "hard_invalid", "uid")
    rows = [header]
    for item in results:
        score = item.get("score") or {}
        rows.append(
            (
                str(item.get("miner_hotkey")),
                _cell(score.get("validation_passed")),
                _cell(score.get("effective_size_bytes")),
                _cell(score.get("scraper_pass_rate")),
                _cell(score.get("hard_invalid")),
                _cell(item.get("validator_uid")),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    newest = max((str(item.get("updated_at") or "") for item in results), default="")
    lines.append(f"{len(results)} miners; newest score {newest}")
    return "\n".join(line.rstrip() for line in lines)


def validator_results(args: argparse.Namespace) -> int:
    api = api_from(args)
    try:
        answer = fetch_results(api)
    finally:
        api.close()
    results = answer.get("results")
    if not isinstance(results, list):
        raise ClientError("the service's answer has no results list")
    emit(args, answer, results_table(results))
    return 0


# --- registration ------------------------------------------------------------------------


def _subcommands(parser: argparse.ArgumentParser) -> Subparsers:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise LookupError(f"{parser.prog} has no subcommands")


def add_desirability(commands: Subparsers, parent: argparse.ArgumentParser) -> None:
    """`s3auth dd publish`, and `results` under the existing `s3auth validator`."""
    dd = commands.add_parser(
        "dd",
        help="Dynamic Desirability lists: publish a new version",
        description="Commands for the operators who publish the Dynamic Desirability list.",
    )
    group = dd.add_subparsers(
        dest="dd_command", required=True, metavar="COMMAND", help="the command to run"
    )
    publish = group.add_parser(
        "publish",
        help="publish FILE as the new Dynamic Desirability list",
        description="Publish the list in FILE as a new version; earlier versions are kept.\n"
        'FILE holds {"entries": [...]}, a bare list of entries, or a total.json whose\n'
        'entries carry their fields under "params". The service checks the whole list\n'
        "first and names the first bad entry; a refused list changes nothing.\n\n"
        "example:\n"
        "  s3auth dd publish list.json --url https://s3auth.example.org --api-key KEY",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    publish.add_argument("file", metavar="FILE", help="the list, as JSON")
    publish.add_argument(
        "--url",
        default=os.environ.get("S3AUTH_URL", "http://127.0.0.1:8000"),
        help="the service's base URL (default: $S3AUTH_URL or http://127.0.0.1:8000)",
    )
    publish.add_argument(
        "--api-key",
        default=os.environ.get("S3AUTH_ADMIN_API_KEY"),
        metavar="KEY",
        help="one of the service's ADMIN_API_KEYS (default: $S3AUTH_ADMIN_API_KEY)",
    )
    publish.add_argument(
        "--retries",
        type=int,
        default=3,
        metavar="N",
        help="attempts on network errors, 429 and 5xx (default: 3)",
    )
    publish.add_argument("--json", action="store_true", help="print the service's JSON answer")
    publish.set_defaults(handler=guarded(dd_publish))

    validator = _subcommands(commands.choices["validator"])
    results = add_command(
        validator,
        "results",
        parent,
        "show the validation scores the trusted validator published",
        "Every miner's latest S3 validation score, as published by the trusted\n"
        "validator, one row per miner. Your hotkey needs a validator permit and\n"
        "enough stake. --json prints the service's answer as is.\n\n"
        "example:\n"
        "  s3auth validator results --wallet validator --url https://s3auth.example.org",
    )
    results.set_defaults(handler=guarded(validator_results))
