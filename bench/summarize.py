#!/usr/bin/env python3
"""Medians of a bench/run.sh results directory as a Markdown table.

Every <workload>-<tool>[-<variant>].json file holds one JSON object per line (one per run):
ferric-bench reports (send/consume sides) or rmq-loadgen reports (msgs_per_s, lat_us, cpu).
values.tsv holds single figures (RSS, W7 wall time, W3 rate).
"""
import json
import statistics
import sys
from pathlib import Path


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=0):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}".replace(",", " ")


def loadgen_row(name, runs):
    first = runs[0]
    if first.get("mode") == "first-send":
        return [name, "first send", "", "", fmt(median(r["ms"] for r in runs), 1) + " ms", "", "", "", len(runs)]
    pids = lambda r: list((r.get("cpu") or {}).get("pids", {}).values())
    cpu = median(p[0]["us_per_msg"] if (p := pids(r)) else None for r in runs)
    lat = lambda q: median(r.get("lat_us", {}).get(q) for r in runs)
    return [
        name,
        first.get("mode"),
        fmt(median(r["msgs_per_s"] for r in runs)),
        fmt(median(r["mb_per_s"] for r in runs), 1),
        fmt(lat("p50")),
        fmt(lat("p99")),
        fmt(lat("p999")),
        fmt(cpu, 1),
        len(runs),
    ]


def bench_rows(name, runs):
    rows = []
    for side in ("send", "consume"):
        if not runs[0].get(side):
            continue
        sides = [r[side] for r in runs]
        cpu = median(r["processes"][0]["cpu_us_per_msg"] if r.get("processes") else None for r in runs)
        lat = lambda q: median(s["latency"][q] for s in sides)
        what = side if side == "send" else "consume (pull lat)"
        if side == "consume" and sides[0].get("end_to_end", {}).get("count"):
            lat = lambda q: median(s["end_to_end"][q] for s in sides)
            what = "consume (e2e lat)"
        failures = sum(s["failures"] for s in sides)
        rows.append([
            name + ("" if failures == 0 else f" ({failures} failed)"),
            what,
            fmt(median(s["msgs_per_sec"] for s in sides)),
            fmt(median(s["mb_per_sec"] for s in sides), 1),
            fmt(lat("p50_us")),
            fmt(lat("p99_us")),
            fmt(lat("p999_us")),
            fmt(cpu, 1),
            len(runs),
        ])
    return rows


def main():
    out = Path(sys.argv[1])
    header = ["run", "what", "msgs/s", "MB/s", "p50 µs", "p99 µs", "p99.9 µs", "broker CPU µs/msg", "n"]
    rows = []
    for path in sorted(out.glob("W*.json")):
        runs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        runs = [r for r in runs if "error" not in r]
        if not runs:
            rows.append([path.stem, "error", "", "", "", "", "", "", 0])
            continue
        if "command" in runs[0]:
            rows.extend(bench_rows(path.stem, runs))
        else:
            rows.append(loadgen_row(path.stem, runs))
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    values = {}
    tsv = out / "values.tsv"
    if tsv.exists():
        for line in tsv.read_text().splitlines():
            workload, key, value = line.split("\t")
            if value:
                values.setdefault((workload, key), []).append(float(value))
    if values:
        print()
        print("| figure | median | n |")
        print("|---|---|---|")
        for (workload, key), vals in sorted(values.items()):
            unit = ""
            if key.endswith("_kib"):
                key, vals, unit = key[:-4], [v / 1024 for v in vals], " MiB"
            print(f"| {workload} {key} | {fmt(median(vals), 1)}{unit} | {len(vals)} |")


if __name__ == "__main__":
    main()
