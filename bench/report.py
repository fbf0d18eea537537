"""The figures as a table, a JSON file and a PNG of latency percentiles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.load import PERCENTILES

FLOOR = "floor"


def redis_text(figures: dict[str, Any]) -> str:
    """Commands sent per request, then those its scripts ran: "2 (+6)"."""
    commands = figures.get("redis_commands_per_request")
    if not commands:
        return ""
    return f"{commands['sent']:g} (+{commands['inside_scripts']:g})"


def table(results: dict[str, Any]) -> str:
    header = (
        f"{'build':<16} {'scenario':<12} {'endpoint':<24} {'req/s':>8} {'p50 ms':>7} {'p90 ms':>7} "
        f"{'p99 ms':>7} {'non-200':>8} {'vs floor':>9} {'CPU µs/req':>11} {'Redis cmd/req':>14}"
    )
    lines = [header, "-" * len(header)]
    for build in results["builds"]:
        floor = build["endpoints"].get(FLOOR)
        for name, figures in build["endpoints"].items():
            if figures.get("skipped"):
                lines.append(
                    f"{build['name']:<16} {name:<12} {figures['path']:<24} "
                    f"skipped: {figures['skipped']}"
                )
                continue
            rps = figures["requests_per_second"]
            ratio = f"{rps / floor['requests_per_second']:.2f}" if floor and name != FLOOR else ""
            latency = figures["latency_ms"]
            lines.append(
                f"{build['name']:<16} {name:<12} {figures['path']:<24} {rps:>8.0f} "
                f"{latency['p50']:>7.2f} {latency['p90']:>7.2f} {latency['p99']:>7.2f} "
                f"{figures['non_200']:>8} {ratio:>9} "
                f"{figures['server_cpu_us_per_request']:>11.0f} {redis_text(figures):>14}"
            )
        lines.append(f"{build['name']:<16} peak RSS of the worker: {build['peak_rss_mb']:.1f} MB")
        propagation = build.get("ondemand_propagation_seconds")
        if propagation:
            lines.append(
                f"{build['name']:<16} new job to another replica's miners: "
                f"{propagation['median']:.2f} s median, {propagation['max']:.2f} s max"
            )
    return "\n".join(lines)


def write_json(results: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


def write_png(results: dict[str, Any], path: Path) -> Path | None:
    """Latency by percentile, one line per build and endpoint; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    figure, axes = plt.subplots(figsize=(8, 5))
    for build in results["builds"]:
        for name, figures in build["endpoints"].items():
            if figures.get("skipped"):
                continue
            values = [figures["latency_ms"][p] for p in PERCENTILES]
            style = "--" if name == FLOOR else "-"
            label = (
                f"{build['name']}: {name} {figures['path']} "
                f"({figures['requests_per_second']:.0f} req/s)"
            )
            axes.plot(PERCENTILES, values, style, marker="o", label=label)
    meta = results["meta"]
    axes.set_title(
        f"Latency by percentile: 1 worker, {meta['connections']} connections, "
        f"{meta['seconds']:g} s per endpoint"
    )
    axes.set_xlabel("percentile")
    axes.set_ylabel("latency (ms, log scale)")
    axes.set_yscale("log")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
