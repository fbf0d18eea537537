"""`python -m bench subnet-hour`: one subnet hour against one `s3auth serve` worker.

256 miners, 64 validators (UID 89 trusted), a customer and a publishing operator send
what `bench.hour_plan` schedules, `--compress` times faster than real time, against one
worker on PostgreSQL, Redis (limits and nonces) and SeaweedFS. Every quota is at its
default with its window divided by the same factor, so each client meets the limits it
would meet in real time; each neuron has its own client address (X-Forwarded-For).
Figures: honest requests refused (every request here is honest: the goal is 0),
latency by route, the worker's CPU seconds for the hour and so how many such subnets
one worker could carry.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import multiprocessing
import secrets
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
from bittensor.sp_core import Keypair
from limits import RateLimitItem, parse_many

from app.dev import create_bucket
from app.quotas import auto_file_uploads
from app.seaweed import S3Credentials, SeaweedServer, free_ports
from bench.builds import REPO
from bench.hour_plan import (
    CREATE_JOB,
    CUSTOMER,
    HOUR,
    OPERATOR,
    POLL,
    PUBLISH,
    Call,
    Event,
    Member,
    list_entries,
    member_uids,
    plan,
)
from bench.ondemand import bench_database
from bench.profile import flame_graph
from bench.rate_floor import measure as measure_floor
from bench.server import ServiceProcess, process_cpu_seconds
from bench.wire import Answer, NeuronClient, NoAnswer
from config import Settings
from s3auth_client.tao import tao_message
from tests.redis_server import RedisServer

RESULTS = REPO / "bench" / "results"
BUCKET = "subnet-hour"
LIMITS = (
    "rate_limit_ip",
    "rate_limit_miner",
    "rate_limit_validator",
    "rate_limit_trusted",
    "rate_limit_ondemand_poll",
    "rate_limit_ondemand_failures",
)
# About one miner in ten answers a job (the validators' `doable_jobs` need 5 answers).
ANSWER_ONE_IN = 10
ANSWER = json.dumps({"data_entities": [{"uri": "https://x.com/a/status/1"}]}).encode()
START_DELAY_SECONDS = 15.0  # for the driver processes to derive keys and plan


def scaled_items(items: tuple[RateLimitItem, ...], compress: float) -> str:
    return ";".join(
        f"{item.amount}/{max(1, round(item.multiples * item.GRANULARITY.seconds / compress))} "
        "seconds"
        for item in items
    )


def quota_env(compress: float, entries: int) -> dict[str, str]:
    """Every default quota, its window divided by `compress` (auto as it is for `entries`)."""
    env = {
        name.upper(): scaled_items(tuple(parse_many(Settings.model_fields[name].default)), compress)
        for name in LIMITS
    }
    env["RATE_LIMIT_FILE_UPLOADS"] = scaled_items(auto_file_uploads(entries), compress)
    return env


def build_members(miners: int, validators: int) -> list[Member]:
    miner_uids, validator_uids = member_uids(miners, validators)
    members = []
    for uid in sorted(miner_uids + validator_uids):
        uri = f"//subnet-hour-{uid}"
        hotkey = Keypair.create_from_uri(uri).ss58_address
        coldkey = Keypair.create_from_uri(f"//subnet-hour-cold-{uid}").ss58_address
        members.append(Member(uid, uid in validator_uids, uri, hotkey, coldkey))
    return members


def write_metagraph(path: Path, members: list[Member]) -> Path:
    miners = sum(not m.validator for m in members)
    rows = [
        {
            "uid": m.uid,
            "hotkey": m.hotkey,
            "coldkey": m.coldkey,
            "validator_permit": m.validator,
            "stake": 50_000.0 if m.validator else 10.0,
            "incentive": 0.0 if m.validator else 1.0 / miners,
        }
        for m in members
    ]
    path.write_text(json.dumps({"netuid": 13, "block": 1, "neurons": rows}))
    return path


# --- the driver: one process sends one share of the planned calls ------------------------


@dataclass(frozen=True)
class Share:
    index: int
    count: int
    base_url: str
    compress: float
    start_at: float  # wall-clock time at which the simulated hour begins
    members: tuple[Member, ...]
    entries: int
    job_seconds: float
    customer_key: str
    admin_key: str
    minutes: float = 60.0  # the part of the hour to simulate, from its start


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def fill(value: Any, now: datetime, job_seconds: float) -> Any:
    if isinstance(value, dict):
        return {k: fill(v, now, job_seconds) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, now, job_seconds) for v in value]
    moments = {
        "$since": now - timedelta(minutes=2),
        "$3h_ago": now - timedelta(hours=3),
        "$now": now,
        "$expire": now + timedelta(seconds=job_seconds),
    }
    return _iso(moments[value]) if isinstance(value, str) and value in moments else value


def outcome(answer: Answer) -> str:
    """The status, and for a refusal the service's reason code."""
    if answer.status_code < 300:
        return str(answer.status_code)
    try:
        return f"{answer.status_code} {answer.json().get('code')}"
    except ValueError:
        return str(answer.status_code)


class Driver:
    def __init__(self, share: Share) -> None:
        self.share = share
        self.members = {m.uid: m for m in share.members}
        self.keys = {
            m.uid: Keypair.create_from_uri(m.uri) for m in share.members if self.mine(m.uid)
        }
        self.latency_ms: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter[str]] = defaultdict(Counter)
        self.lag: list[float] = []
        self.seen: dict[int, set[str]] = defaultdict(set)
        self.tasks: set[asyncio.Task[None]] = set()
        address = httpx2.URL(share.base_url)
        self.service = NeuronClient(address.host, address.port or 80, timeout=60)
        # Only for the answers' uploads to S3: a multipart form, a few per job.
        self.http = httpx2.AsyncClient(timeout=60)

    def mine(self, owner: int) -> bool:
        return owner % self.share.count == self.share.index

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def headers(self, owner: int, raw: bytes) -> dict[str, str]:
        if owner == CUSTOMER:
            return {"X-API-Key": self.share.customer_key, "X-Forwarded-For": "10.250.0.1"}
        if owner == OPERATOR:
            return {"X-API-Key": self.share.admin_key, "X-Forwarded-For": "10.250.0.2"}
        nonce, stamp = str(uuid.uuid4()), str(round(time.time() * 1000))
        signature = bytes(self.keys[owner].sign(tao_message(raw, nonce, stamp)))
        return {
            "X-Tao-Version": "2",
            "X-Tao-Timestamp": stamp,
            "X-Tao-Nonce": nonce,
            "X-Tao-Signed-By": self.members[owner].hotkey,
            "X-Tao-Signature": base64.b64encode(signature).decode(),
            "X-Forwarded-For": self.members[owner].address,
        }

    async def send(self, owner: int, call: Call) -> Answer | None:
        body = fill(call.body, datetime.now(UTC), self.share.job_seconds)
        raw = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = self.headers(owner, raw)
        if raw:
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            answer = await self.service.request(owner, call.method, call.path, headers, raw)
        except NoAnswer:
            self.statuses[call.label]["no answer"] += 1  # counted as refused
            return None
        self.latency_ms[call.label].append((time.perf_counter() - started) * 1000)
        self.statuses[call.label][outcome(answer)] += 1
        return answer

    async def run_event(self, event: Event) -> None:
        for call in event.calls:
            answer = await self.send(event.owner, call)
            if answer is None or answer.status_code >= 300:
                return
            if call.path == POLL:
                self.answer_new_jobs(event.owner, answer)
            elif call.path == CREATE_JOB:
                self.spawn(self.read_job_later(answer.json()["job_id"]))

    def answer_new_jobs(self, uid: int, answer: Answer) -> None:
        for job in answer.json()["jobs"]:
            job_id = job["id"]
            if job_id in self.seen[uid]:
                continue
            self.seen[uid].add(job_id)
            digest = hashlib.sha256(f"{uid}:{job_id}".encode()).digest()
            if digest[0] % ANSWER_ONE_IN == 0:
                self.spawn(self.submit(uid, job_id))

    async def submit(self, uid: int, job_id: str) -> None:
        call = Call("POST", "/on-demand/miner/jobs/submit", {"submission": {"job_id": job_id}})
        answer = await self.send(uid, call)
        if answer is None or answer.status_code != 200:
            return
        form = answer.json()["presigned_post_upload_data"]
        content_type = form["fields"].get("Content-Type", "application/json")
        files = {"file": ("data.json", ANSWER, content_type)}
        try:
            stored = await self.http.post(form["url"], data=form["fields"], files=files)
            self.statuses["S3 answer upload (not the service)"][str(stored.status_code)] += 1
        except httpx2.HTTPError:
            self.statuses["S3 answer upload (not the service)"]["no answer"] += 1

    async def read_job_later(self, job_id: str) -> None:
        """The customer reads a job's answers once they are in."""
        await asyncio.sleep(self.share.job_seconds + 5)
        path = f"{CREATE_JOB}/{job_id}"
        await self.send(CUSTOMER, Call("GET", path, None, route=f"{CREATE_JOB}/{{job_id}}"))

    async def run(self, events: list[Event]) -> dict[str, Any]:
        try:
            for event in events:
                delay = self.share.start_at + event.at / self.share.compress - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                self.lag.append(max(0.0, -delay))
                self.spawn(self.run_event(event))
            while self.tasks:
                await asyncio.gather(*list(self.tasks))
        finally:
            await self.service.aclose()
            await self.http.aclose()
        return {
            "latency_ms": dict(self.latency_ms),
            "statuses": {route: dict(counts) for route, counts in self.statuses.items()},
            "lag": self.lag,
        }


def drive(share: Share) -> dict[str, Any]:
    driver = Driver(share)
    until = share.minutes * 60
    events = [
        e for e in plan(list(share.members), share.entries) if e.at < until and driver.mine(e.owner)
    ]
    return asyncio.run(driver.run(events))


# --- figures ------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def merge(parts: list[dict[str, Any]]) -> tuple[dict[str, list[float]], dict[str, Counter[str]]]:
    latency: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, Counter[str]] = defaultdict(Counter)
    for part in parts:
        for route, values in part["latency_ms"].items():
            latency[route] += values
        for route, counts in part["statuses"].items():
            statuses[route].update(counts)
    return latency, statuses


def figures(parts: list[dict[str, Any]], cpu: float, redis_cpu: float) -> dict[str, Any]:
    latency, statuses = merge(parts)
    routes = {}
    for route in sorted(statuses):
        counts = statuses[route]
        routes[route] = {
            "requests": sum(counts.values()),
            "refused": sum(n for status, n in counts.items() if not status.startswith("2")),
            "statuses": dict(sorted(counts.items())),
            "p50_ms": round(percentile(latency[route], 0.50), 2),
            "p99_ms": round(percentile(latency[route], 0.99), 2),
        }
    service = {r: f for r, f in routes.items() if not r.startswith("S3 ")}
    lag = [x for part in parts for x in part["lag"]]
    return {
        "requests": sum(f["requests"] for f in service.values()),
        "honest_refused": sum(f["refused"] for f in service.values()),
        "worker_cpu_seconds_per_simulated_hour": round(cpu, 1),
        "worker_core_share_percent": round(cpu / HOUR * 100, 2),
        "subnets_per_worker": int(HOUR // cpu) if cpu else None,
        "redis_cpu_seconds_per_simulated_hour": round(redis_cpu, 1),
        "driver_lag_p99_seconds": round(percentile(lag, 0.99), 3),
        "routes": routes,
    }


def render(result: dict[str, Any]) -> str:
    floor = result["floor"]
    lines = [
        "| route | requests | refused | p50 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for route, f in result["routes"].items():
        lines.append(
            f"| `{route}` | {f['requests']:,} | {f['refused']} | {f['p50_ms']} | {f['p99_ms']} |"
        )
    lines += [
        "",
        f"honest requests refused: {result['honest_refused']} of {result['requests']:,}",
        f"worker CPU per simulated hour: {result['worker_cpu_seconds_per_simulated_hour']} s "
        f"({result['worker_core_share_percent']}% of one core); Redis: "
        f"{result['redis_cpu_seconds_per_simulated_hour']} s",
        f"subnets one worker could carry at a full core: {result['subnets_per_worker']}",
        f"the floor at this rate ({floor['rate_per_second']} requests/s, one at a time): "
        f"GET /livez {floor['livez_cpu_us_at_rate']} µs of CPU each "
        f"({floor['livez_cpu_us_back_to_back']} µs back to back), an idle worker "
        f"{floor['idle_core_percent']}% of a core: "
        f"{floor['floor_cpu_seconds_per_simulated_hour']} s per simulated hour for the hour's "
        "requests if every one cost what /livez does",
    ]
    if "bare_cpu_seconds_per_simulated_hour" in floor:
        lines.append(
            f"the barest Python server (bench/bare_server.py: asyncio, one Redis round trip, "
            f"no framework or signature) at this rate: {floor['bare_cpu_us_at_rate']} µs each "
            f"({floor['bare_cpu_us_back_to_back']} µs back to back): "
            f"{floor['bare_cpu_seconds_per_simulated_hour']} s per simulated hour"
        )
    lines += [
        f"driver lag p99 (calls sent late against the schedule): "
        f"{result['driver_lag_p99_seconds']} s",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench subnet-hour", description=__doc__)
    parser.add_argument("--compress", type=float, default=12, help="simulated/real time (12)")
    parser.add_argument("--miners", type=int, default=256)
    parser.add_argument("--validators", type=int, default=64)
    parser.add_argument("--entries", type=int, default=300, help="list entries (300)")
    parser.add_argument("--processes", type=int, default=2, help="driver processes (2)")
    parser.add_argument(
        "--minutes",
        type=float,
        default=60,
        help="simulate only the hour's first MINUTES; CPU figures are scaled to the hour (60)",
    )
    parser.add_argument("--name", default="subnet-hour", help="bench/results/<name>.json")
    parser.add_argument(
        "--profile", action="store_true", help="a py-spy flame graph: bench/results/<name>.svg"
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    customer_key, admin_key = (
        "hour-customer-" + secrets.token_hex(4),
        "hour-admin-" + secrets.token_hex(4),
    )
    credentials = S3Credentials("hour-" + secrets.token_hex(4), secrets.token_hex(16))
    # Jobs live 2 minutes, compressed, but at least the 30 s the service allows (and a margin).
    job_seconds = max(35.0, 120.0 / args.compress)
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="s3auth-hour-")))
        members = build_members(args.miners, args.validators)
        s3 = stack.enter_context(SeaweedServer(work / "s3", credentials))
        create_bucket(s3.endpoint_url, credentials, BUCKET)
        database_url, database = stack.enter_context(bench_database(work))
        redis = RedisServer(work).start()
        stack.callback(redis.stop)
        env = {
            **quota_env(args.compress, args.entries),
            "DATABASE_URL": database_url,
            "RATE_LIMIT_STORAGE": redis.url,
            "METAGRAPH_FILE": str(write_metagraph(work / "metagraph.json", members)),
            "S3_ENDPOINT_URL": s3.endpoint_url,
            "S3_BUCKET": BUCKET,
            "AWS_ACCESS_KEY_ID": credentials.access_key,
            "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
            "CONSTELLATION_API_KEYS": customer_key,
            "ADMIN_API_KEYS": admin_key,
        }
        print(
            f"subnet hour: {args.miners} miners, {args.validators} validators, a list of "
            f"{args.entries} entries, {args.compress:g}x faster than real time "
            f"({HOUR / args.compress:.0f} s), its first {args.minutes:g} minutes; "
            f"{database}, Redis, SeaweedFS; quotas: "
            f"{env['RATE_LIMIT_IP']} per IP, "
            f"uploads {env['RATE_LIMIT_FILE_UPLOADS']}, trusted {env['RATE_LIMIT_TRUSTED']}",
            flush=True,
        )
        port = free_ports(1)[0]
        service = stack.enter_context(
            ServiceProcess(env, port=port, source_dir=REPO, log_path=work / "service.log")
        )
        published = httpx2.put(
            service.base_url + PUBLISH,
            json={"entries": list_entries(args.entries)},
            headers={"X-API-Key": admin_key},
            timeout=30,
        )
        published.raise_for_status()
        planned = sum(
            len(e.calls) for e in plan(list(members), args.entries) if e.at < args.minutes * 60
        )
        floor = measure_floor(
            port,
            service.cpu_seconds,
            rate=planned / (args.minutes * 60 / args.compress),
            requests_per_hour=round(planned * 60 / args.minutes),
            compress=args.compress,
            redis_port=redis.port,
        )
        start_at = time.time() + START_DELAY_SECONDS
        shares = [
            Share(n, args.processes, service.base_url, args.compress, start_at,
                  tuple(members), args.entries, job_seconds, customer_key, admin_key,
                args.minutes)
            for n in range(args.processes)
        ]  # fmt: skip
        cpu_before = service.cpu_seconds()
        redis_before = process_cpu_seconds(redis.process.pid) if redis.process else 0.0
        context = multiprocessing.get_context("spawn")
        svg = RESULTS / f"{args.name}.svg"
        seconds = START_DELAY_SECONDS + args.minutes * 60 / args.compress
        with (
            flame_graph(service.pid, svg, seconds, enabled=args.profile),
            ProcessPoolExecutor(args.processes, mp_context=context) as pool,
        ):
            parts = list(pool.map(drive, shares))
        cpu = service.cpu_seconds() - cpu_before
        redis_cpu = (
            process_cpu_seconds(redis.process.pid) if redis.process else 0.0
        ) - redis_before
        wall = time.time() - start_at
        per_hour = 60 / args.minutes
        result = figures(parts, cpu * per_hour, redis_cpu * per_hour)
        result["floor"] = floor
        if result["honest_refused"]:
            tail = (work / "service.log").read_text(errors="replace").splitlines()[-15:]
            print("service log, last lines:\n" + "\n".join(tail), flush=True)
        result["meta"] = {
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "compress": args.compress,
            "simulated_minutes": args.minutes,
            "measured_worker_cpu_seconds": round(cpu, 1),
            "miners": args.miners,
            "validators": args.validators,
            "entries": args.entries,
            "database": database,
            "wall_seconds": round(wall, 1),
            "quotas": {k: v for k, v in env.items() if k.startswith("RATE_LIMIT_")},
            "peak_rss_mb": round(service.memory_mb()["peak_rss_mb"], 1),
        }
    print(render(result))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{args.name}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"JSON: {out}")
    return 0 if result["honest_refused"] == 0 else 1
