"""`python -m bench`: signed load on one worker of `s3auth serve`, against a framework floor.

Starts SeaweedFS (for the upload form's endpoint and validator discovery), writes a
256-neuron metagraph, signs distinct bodies so replay protection refuses none, and drives
each endpoint with wrk. Prints a table; writes bench/results/<name>.json and .png.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.seaweed import S3Credentials, SeaweedServer, free_ports
from bench.bucket import prepare_bucket
from bench.builds import REPO, Build, current_build, ref_build
from bench.desirability import ADMIN_KEY, DD_VALIDATOR_PATH, publish_bench_list
from bench.load import WrkMissing, find_wrk, run_wrk
from bench.ondemand import (
    ACTIVE_JOBS,
    CUSTOMER_KEY,
    PROPAGATION_KEY,
    WINDOW_SUBMISSIONS,
    bench_database,
    create_active_jobs,
    idle_cpu_percent,
    propagation_seconds,
    seed_window,
)
from bench.profile import flame_graph
from bench.reap import describe as describe_reap
from bench.reap import reap_bench
from bench.redis_stats import BenchRedis, commands_per_request
from bench.report import FLOOR, table, write_json, write_png
from bench.server import ServiceProcess
from bench.subnet import Neuron, bench_neurons, signed_bodies, write_metagraph
from bench.tao import tao_requests

RESULTS = REPO / "bench" / "results"
BUCKET = "bench-bucket"
# The widest window the settings allow, so a long or compared run never goes stale.
SIGNATURE_MAX_AGE = 3600
# Builds from before /livez have /healthcheck stand in (dearer: it reads the metagraph).
FLOOR_PATHS = ("/livez", "/healthcheck")
ACTIVE_PATH = "/on-demand/miner/jobs/active"


@dataclass(frozen=True)
class Scenario:
    """One measured endpoint and how its distinct signed requests are made."""

    name: str
    path: str
    method: str = "POST"
    legacy: str | None = None  # "miner" or "validator": legacy body signatures
    recipe: str | None = None  # a bench.tao recipe: Tao v2 signed headers
    signers: str = "miners"  # who signs Tao v2 requests: "miners" or "validators"
    # Run on a service with LIMITS_ON, the requests coming from LIMITED_CLIENT_IPS addresses.
    limits: bool = False
    # A scenario whose answers are large measures with fewer connections and requests.
    connections: int | None = None
    max_rps: int | None = None

    @property
    def signed(self) -> bool:
        return self.legacy is not None or self.recipe is not None


SCENARIOS = (
    Scenario("miner", "/get-folder-access", legacy="miner"),
    Scenario("validator", "/get-validator-access", legacy="validator"),
    Scenario("miner-tao", "/get-folder-access", recipe="hotkey_folder_grant"),
    Scenario("upload-url", "/get-file-upload-url", recipe="file_upload_url"),
    Scenario("miner-list", "/get-miner-list", recipe="miner_list", signers="validators"),
    Scenario("miner-limits", "/get-folder-access", legacy="miner", limits=True),
    # 50 open jobs, answered from memory.
    Scenario("ondemand-active", ACTIVE_PATH, recipe="ondemand_active"),
    # A miner with 1,000 submissions in the window (~1 MB answers), one request at a time:
    # the latency is the service time, not a queue.
    Scenario(
        "ondemand-window",
        "/on-demand/validator/miner-jobs",
        recipe="ondemand_window",
        signers="validators",
        connections=1,
        max_rps=200,
    ),
    # Every validator after each evaluation batch: a GET of the empty body, from memory.
    Scenario("dd-validator", DD_VALIDATOR_PATH, method="GET", recipe="empty", signers="validators"),
)
# Limits on, at values a deployment behind a proxy uses: the proxy's few addresses carry
# everyone (a high per-IP limit), and each of the 256 hotkeys has an hourly quota high
# enough that the row measures the counting, not 429s.
LIMITS_ON = {
    "RATE_LIMIT_IP": "1000000/minute",
    "RATE_LIMIT_MINER": "1000000/hour",
    "RATE_LIMIT_VALIDATOR": "1000000/hour",
}
LIMITED_CLIENT_IPS = 4
# Not an endpoint: a housekeeping pass over buckets of today's layout (bench/reap.py).
REAP = "reap"
# The Redis setting is what operators deploy: every limit on (as high as LIMITS_ON, so the
# rows measure the counting), shared by workers and replicas.
REDIS_LIMITS = {**LIMITS_ON, "RATE_LIMIT_ONDEMAND_POLL": "1000000/minute"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per endpoint")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument(
        "--max-rps",
        type=int,
        default=8000,
        help="the most requests/s expected; sizes the signed bodies (more than sent)",
    )
    parser.add_argument(
        "--folders",
        type=int,
        default=256,
        help="miner folders in the bucket, for validators to discover (default: 256)",
    )
    parser.add_argument("--name", default="latest", help="results file name (default: latest)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the worker with py-spy during each measured run: "
        "bench/results/<name>-<build>-<endpoint>.svg (a flame graph)",
    )
    parser.add_argument(
        "--compare",
        metavar="REF",
        help="also run the git ref REF (or a checkout directory), side by side",
    )
    parser.add_argument("--only-compare", action="store_true", help="run only the --compare build")
    parser.add_argument(
        "--storage",
        default="memory,redis",
        help="where limits and nonces live, comma-separated: memory, redis (a redis-server "
        "the bench starts; limits on, see REDIS_LIMITS). Default: both",
    )
    parser.add_argument("--workers", type=int, default=1, help="workers of `s3auth serve`")
    parser.add_argument(
        "--only",
        metavar="NAMES",
        help="comma-separated scenarios to run besides the floor: "
        + ", ".join([*(s.name for s in SCENARIOS), REAP]),
    )
    return parser.parse_args(argv)


def chosen_scenarios(only: str | None) -> list[Scenario]:
    if not only:
        return list(SCENARIOS)
    names = {name.strip() for name in only.split(",")} - {REAP}
    unknown = names - {s.name for s in SCENARIOS}
    if unknown:
        raise SystemExit(f"bench: unknown scenario(s): {', '.join(sorted(unknown))}")
    return [s for s in SCENARIOS if s.name in names]


def signed_requests(
    scenario: Scenario, neurons: list[Neuron], count: int, not_before: int
) -> list[bytes]:
    """`not_before`: when the service started; its replay store refuses older signatures."""
    if scenario.legacy is not None:
        return signed_bodies(
            neurons, scenario.legacy, count, max_age=SIGNATURE_MAX_AGE, not_before=not_before
        )
    assert scenario.recipe is not None
    signers = (
        [n for n in neurons if n.is_validator] if scenario.signers == "validators" else neurons
    )
    return tao_requests(neurons, signers, scenario.recipe, count)


def service_env(
    metagraph: Path, s3: SeaweedServer, credentials: S3Credentials, database_url: str
) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "CONSTELLATION_API_KEYS": f"{CUSTOMER_KEY},{PROPAGATION_KEY}",
        "ADMIN_API_KEYS": ADMIN_KEY,
        "RATE_LIMIT_ONDEMAND_POLL": "",
        "RATE_LIMIT_ONDEMAND_FAILURES": "",
        "METAGRAPH_FILE": str(metagraph),
        "S3_ENDPOINT_URL": s3.endpoint_url,
        "S3_BUCKET": BUCKET,
        "AWS_ACCESS_KEY_ID": credentials.access_key,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
        "RATE_LIMIT_IP": "",
        "RATE_LIMIT_MINER": "",
        "RATE_LIMIT_VALIDATOR": "",
        "RATE_LIMIT_STORAGE": "memory://",
        "REPLAY_PROTECTION": "true",
        "SIGNATURE_MAX_AGE_SECONDS": str(SIGNATURE_MAX_AGE),
        "TAO_MAX_AGE_SECONDS": str(SIGNATURE_MAX_AGE),
        "TRUSTED_VALIDATORS": "*",
        # As the figures in the README were measured; the default writes one line per request.
        "ACCESS_LOG": "false",
        # The bench's one customer key opens every seeded job.
        "ONDEMAND_MAX_OPEN_JOBS_PER_KEY": "100000",
    }


def bench_build(
    build: Build,
    args: argparse.Namespace,
    env: dict[str, str],
    work: Path,
    neurons: list[Any],
    redis: BenchRedis | None = None,
) -> dict[str, Any]:
    name = (
        build.name + (" redis" if redis else "") + (f" w{args.workers}" if args.workers > 1 else "")
    )
    log = work / f"service-{name.replace('/', '_').replace(' ', '-')}.log"
    endpoints: dict[str, Any] = {}
    scenarios = chosen_scenarios(args.only)
    if redis is not None:
        env = {**env, **REDIS_LIMITS, "RATE_LIMIT_STORAGE": redis.url}
        # Every row already counts its limits; a separate limits row would repeat one.
        scenarios = [s for s in scenarios if not s.limits]
    memory: dict[str, float] = {}
    propagation: dict[str, Any] = {}
    for limited in (False, True):
        group = [s for s in scenarios if s.limits == limited]
        if limited and not group:
            continue
        service_env = {**env, **LIMITS_ON} if limited else env
        port = free_ports(1)[0]
        with ServiceProcess(
            service_env,
            port=port,
            source_dir=build.source_dir,
            log_path=log,
            workers=args.workers,
        ) as service:
            if not limited:
                floor = next(p for p in FLOOR_PATHS if service.answers(p))
                print(f"[{build.name}] floor route: {floor}", flush=True)
                group = [Scenario(FLOOR, floor, method="GET"), *group]
                if ACTIVE_PATH in service.routes():
                    create_active_jobs(service.base_url)
            dd_wanted = any(s.path == DD_VALIDATOR_PATH for s in group)
            if dd_wanted and DD_VALIDATOR_PATH in service.routes():
                version = publish_bench_list(service.base_url)
                print(f"[{build.name}] published list {version}", flush=True)
            for scenario in group:
                endpoints[scenario.name] = measure(
                    build, args, service, work, neurons, scenario, redis
                )
            if not limited:
                memory = service.memory_mb()
                if redis is None and args.workers == 1:
                    propagation = replica_propagation(build, env, work, service, neurons)
    return {
        "name": name,
        "commit": build.commit,
        "endpoints": endpoints,
        "peak_rss_mb": round(memory.get("peak_rss_mb", 0.0), 1),
        **propagation,
    }


def replica_propagation(
    build: Build, env: dict[str, str], work: Path, service: ServiceProcess, neurons: list[Any]
) -> dict[str, Any]:
    """A second replica on the same PostgreSQL: how soon its miners see a job made on the first."""
    if ACTIVE_PATH not in service.routes() or not env["DATABASE_URL"].startswith("postgresql"):
        return {}
    log = work / f"replica-{build.name.replace('/', '_')}.log"
    port = free_ports(1)[0]
    with ServiceProcess(env, port=port, source_dir=build.source_dir, log_path=log) as replica:
        seconds = sorted(propagation_seconds(service.base_url, replica.base_url, neurons[-1]))
        idle = idle_cpu_percent(replica.cpu_seconds)
    figures = {"median": round(seconds[len(seconds) // 2], 3), "max": round(seconds[-1], 3)}
    print(
        f"[{build.name}] a new job reached the other replica's miners in "
        f"{figures['median']:.2f} s (median), {figures['max']:.2f} s (max of {len(seconds)})",
        flush=True,
    )
    print(
        f"[{build.name}] the idle replica, holding {ACTIVE_JOBS} open jobs, used "
        f"{idle:.2f}% of a core",
        flush=True,
    )
    return {
        "ondemand_propagation_seconds": figures,
        "ondemand_idle_replica_cpu_percent": round(idle, 2),
    }


def measure(
    build: Build,
    args: argparse.Namespace,
    service: ServiceProcess,
    work: Path,
    neurons: list[Any],
    scenario: Scenario,
    redis: BenchRedis | None = None,
) -> dict[str, Any]:
    name, path = scenario.name, scenario.path
    if path not in service.routes():
        print(f"[{build.name}] {path}: not in this build, skipped", flush=True)
        return {"path": path, "skipped": "not in this build"}
    rate = min(scenario.max_rps or args.max_rps, args.max_rps)
    warm = max(1, round(rate * args.warmup * 1.1))
    count = max(1, round(rate * args.seconds * 1.1))
    bodies = warm_bodies = None
    if scenario.signed:
        started = time.monotonic()
        signed = signed_requests(scenario, neurons, warm + count, service.started_at)
        warm_bodies = _write_lines(work / f"{name}-warm.txt", signed[:warm])
        bodies = _write_lines(work / f"{name}-run.txt", signed[warm:])
        print(
            f"[{build.name}] signed {len(signed)} distinct {name} requests "
            f"in {time.monotonic() - started:.1f} s",
            flush=True,
        )
    common = dict(
        method=scenario.method,
        connections=scenario.connections or args.connections,
        threads=args.threads,
        client_ips=LIMITED_CLIENT_IPS if scenario.limits else 0,
    )
    run_wrk(service.base_url + path, bodies=warm_bodies, seconds=args.warmup, **common)
    statuses_before = service.answers_by_status(path)
    cpu_before = service.cpu_seconds()
    redis_before = redis.command_calls() if redis else {}
    svg = RESULTS / f"{args.name}-{build.name.replace('/', '_')}-{name}.svg"
    with flame_graph(service.pid, svg, args.seconds, enabled=args.profile):
        result = run_wrk(service.base_url + path, bodies=bodies, seconds=args.seconds, **common)
    # CPU time per answer: steadier than req/s when other processes share the cores.
    cpu_us = (service.cpu_seconds() - cpu_before) / max(1, result.requests) * 1e6
    statuses = service.answers_by_status(path) - statuses_before
    commands = (
        commands_per_request(redis_before, redis.command_calls(), result.requests) if redis else {}
    )
    print(
        f"[{build.name}] {name} {path}: {result.rps:.0f} req/s, p99 {result.ms('p99'):.2f} ms, "
        f"{result.non_200} non-200, {cpu_us:.0f} µs of server CPU per request; "
        + (
            f"Redis: {commands['sent']:g} commands sent and {commands['inside_scripts']:g} "
            "run inside scripts per request; "
            if commands
            else ""
        )
        + f"the service counted {dict(statuses) or 'no answers'}",
        flush=True,
    )
    if result.body_wraps:
        print(f"[{build.name}] warning: bodies ran out; raise --max-rps", flush=True)
    return {
        "path": path,
        **result.to_json(),
        "server_answers_by_status": dict(statuses),
        "server_cpu_us_per_request": round(cpu_us, 1),
        **({"redis_commands_per_request": commands} if commands else {}),
        **service.memory_mb(),
    }


def _write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["subnet-hour"]:  # its own scenario and options: bench/subnet_hour.py
        from bench.subnet_hour import main as subnet_hour

        return subnet_hour(argv[1:])
    args = parse_args(argv)
    only = {name.strip() for name in (args.only or "").split(",") if name.strip()}
    try:
        if only != {REAP}:  # the reap scenario needs no load generator
            find_wrk()
    except WrkMissing as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    print(
        f"Setup: `s3auth serve`, {args.workers} worker(s). memory rows: rate limits OFF "
        "(RATE_LIMIT_* empty) except the miner-limits row, replay protection ON (memory://). "
        "redis rows: every limit ON and replay protection ON in a redis-server of the bench's "
        f"own. SeaweedFS as S3 with {args.folders} miner folders, 256-neuron metagraph file; "
        f"wrk {args.connections} connections, {args.threads} thread(s), {args.warmup:g} s "
        f"warm-up + {args.seconds:g} s per endpoint.",
        flush=True,
    )
    credentials = S3Credentials("bench-" + secrets.token_hex(4), secrets.token_hex(16))
    builds_results = []
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="s3auth-bench-")))
        neurons = bench_neurons()
        metagraph = write_metagraph(work / "metagraph.json", neurons)
        s3 = stack.enter_context(SeaweedServer(work / "s3", credentials))
        prepare_bucket(s3.endpoint_url, credentials, BUCKET, neurons, args.folders)
        database_url, database = stack.enter_context(bench_database(work))
        seed_window(database_url, neurons[-1].hotkey)
        env = service_env(metagraph, s3, credentials, database_url)
        builds = [] if args.only_compare and args.compare else [current_build()]
        if args.compare:
            builds.append(stack.enter_context(ref_build(args.compare, work)))
        reap = None
        if REAP in only or not only:
            reap = reap_bench(s3.endpoint_url, credentials, neurons, work)
        if only == {REAP}:
            builds = []
        storages = [s.strip() for s in args.storage.split(",") if s.strip()]
        redis = stack.enter_context(BenchRedis(work / "redis")) if "redis" in storages else None
        redis_env = env
        if redis is not None and "memory" in storages:
            # A database of its own, so its polls answer its 500 open jobs, not twice as many.
            redis_url, _ = stack.enter_context(bench_database(work, "redis"))
            seed_window(redis_url, neurons[-1].hotkey)
            redis_env = service_env(metagraph, s3, credentials, redis_url)
        for build in builds:
            if "memory" in storages:
                builds_results.append(bench_build(build, args, env, work, neurons))
            if redis is not None:
                builds_results.append(bench_build(build, args, redis_env, work, neurons, redis))
    results = {
        "meta": {
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "host": platform.node(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "connections": args.connections,
            "wrk_threads": args.threads,
            "seconds": args.seconds,
            "warmup_seconds": args.warmup,
            "workers": args.workers,
            "storage": args.storage,
            "redis_limits": REDIS_LIMITS,
            "rate_limits": {"default": "off", "miner-limits": LIMITS_ON},
            "auth": "legacy body signatures and Tao v2 headers, a fresh nonce per request",
            "replay_protection": "on (memory://)",
            "s3": "SeaweedFS on loopback",
            "miner_folders": args.folders,
            "neurons": len(neurons),
            "database": database,
            "ondemand": f"{ACTIVE_JOBS} open jobs; a miner with {WINDOW_SUBMISSIONS} "
            "submissions in the validator's window, read one request at a time",
        },
        "builds": builds_results,
        **({"reap": reap} if reap else {}),
    }
    print()
    print(table(results))
    if reap:
        print(describe_reap(reap))
    print(f"\nJSON: {write_json(results, RESULTS / f'{args.name}.json')}")
    png = write_png(results, RESULTS / f"{args.name}.png")
    print(f"PNG:  {png}" if png else "PNG:  skipped (matplotlib is not installed)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
