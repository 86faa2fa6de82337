#!/usr/bin/env python3
"""ratios.py: Sift against its peers, from one run of the peers harness.

Reads RESULTS/results.csv as written by ../shared/peers/tools/report.py
(rows: engine,metric,class,conc,value,min,max; a "# machine" first line)
and prints Markdown tables:

  * latency (one client): Sift's p50 and p99 per class, each peer's, and the
    ratio Sift / peer (below 1: Sift is faster);
  * throughput: Sift's QPS at --conc connections (default 16) against each
    peer's QPS at its own largest measured concurrency (servers such as
    Sphinx: the same 16 connections; in-process engines such as raw Xapian
    are measured with 1-2 threads only, so their best figure is used and the
    column says which), ratio Sift / peer (above 1: Sift serves more);
  * hit agreement with raw Xapian and the build figures, when present.

    bench/ratios.py /tmp/sift-peers [--engine sift] [--peers sphinx,xapian_some,xapian]
                    [--conc 16]

Only the standard library; called by bench/peers.sh after the run.
"""
import argparse
import csv
import math
import os
import sys


def fnum(s):
    try:
        v = float(s)
    except (TypeError, ValueError):
        return math.nan
    return v


def load(path):
    machine = ""
    rows = []
    with open(path, newline="") as f:
        for rec in csv.reader(f):
            if not rec:
                continue
            if rec[0].startswith("#"):
                fields = [x.strip() for x in rec[1:] if x.strip()]
                machine = "machine: " + ", ".join(fields)
                continue
            if rec[0] == "engine":
                continue
            rec += [""] * (7 - len(rec))
            rows.append(rec[:7])
    return machine, rows


def fmt(v, digits=3):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.{digits}g}"


def ratio(a, b):
    if a is None or b is None or math.isnan(a) or math.isnan(b) or b == 0:
        return "–"
    return f"{a / b:.2f}×"


def main():
    ap = argparse.ArgumentParser(description="Sift vs peers ratio tables from a peers results.csv")
    ap.add_argument("results", help="results directory (holding results.csv) or the CSV itself")
    ap.add_argument("--engine", default="sift", help="the engine under test [sift]")
    ap.add_argument("--peers", default="sphinx,xapian_some,xapian",
                    help="peers to compare with, in column order [sphinx,xapian_some,xapian]")
    ap.add_argument("--conc", type=int, default=16, help="Sift's connection count for QPS [16]")
    a = ap.parse_args()

    path = a.results
    if os.path.isdir(path):
        path = os.path.join(path, "results.csv")
    if not os.path.isfile(path):
        sys.exit(f"ratios.py: no results.csv at {path}")
    machine, rows = load(path)

    lat = {}      # (engine, metric, class) -> value
    qps = {}      # (engine, class) -> {conc: value}
    agree = {}    # (engine, metric, class) -> value
    build = {}    # (engine, metric) -> value
    classes = []
    engines = set()
    for eng, metric, cls, conc, value, _mn, _mx in rows:
        engines.add(eng)
        v = fnum(value)
        if metric.startswith("latency_"):
            lat[(eng, metric, cls)] = v
            if cls not in classes:
                classes.append(cls)
        elif metric == "qps":
            qps.setdefault((eng, cls), {})[int(conc)] = v
        elif metric.startswith("hits_"):
            agree[(eng, metric, cls)] = v
        elif not cls:
            build[(eng, metric)] = v

    me = a.engine
    if me not in engines:
        sys.exit(f"ratios.py: {path} has no rows for engine {me!r} (engines: {', '.join(sorted(engines))})")
    peers = [p for p in a.peers.split(",") if p and p != me]
    missing = [p for p in peers if p not in engines]
    peers = [p for p in peers if p in engines]
    print(f"# {me} vs peers — {path}")
    if machine:
        print(f"# {machine}")
    if missing:
        print(f"# not in this run: {', '.join(missing)}")
    print()

    # ---- latency
    print(f"## Latency, one client (ms; ratio = {me} / peer, below 1 means {me} is faster)")
    print()
    for pct in ("p50", "p99"):
        hdr = ["class", f"{me} {pct}"]
        for p in peers:
            hdr += [f"{p} {pct}", f"÷{p}"]
        print("| " + " | ".join(hdr) + " |")
        print("|" + "---|" * len(hdr))
        for cls in classes:
            mine = lat.get((me, f"latency_{pct}_ms", cls))
            line = [cls, fmt(mine)]
            for p in peers:
                theirs = lat.get((p, f"latency_{pct}_ms", cls))
                line += [fmt(theirs), ratio(mine, theirs)]
            print("| " + " | ".join(line) + " |")
        print()

    # ---- throughput
    print(f"## Throughput (QPS; {me} at {a.conc} connections; ratio = {me} / peer, above 1 means {me} serves more)")
    print()
    hdr = ["class", f"{me} ×{a.conc}"]
    peer_conc = {}
    for p in peers:
        concs = sorted({c for (e, _cls), d in qps.items() if e == p for c in d})
        c = a.conc if a.conc in concs else (concs[-1] if concs else None)
        peer_conc[p] = c
        hdr += [f"{p} ×{c}" if c is not None else p, f"÷{p}"]
    print("| " + " | ".join(hdr) + " |")
    print("|" + "---|" * len(hdr))
    for cls in classes:
        mine = qps.get((me, cls), {}).get(a.conc)
        line = [cls, fmt(mine)]
        for p in peers:
            theirs = qps.get((p, cls), {}).get(peer_conc[p]) if peer_conc[p] is not None else None
            line += [fmt(theirs), ratio(mine, theirs)]
        print("| " + " | ".join(line) + " |")
    inproc = [p for p in peers if peer_conc[p] is not None and peer_conc[p] != a.conc]
    if inproc:
        print()
        print(f"In-process peers ({', '.join(inproc)}) are measured with their own thread counts "
              f"(no network, no protocol); the harness gives them only 1–2 threads on this machine.")
    print()

    # ---- agreement with raw Xapian
    if any(k[0] == me for k in agree):
        print(f"## Hit totals vs raw Xapian ({me}; median ratio, share of identical totals)")
        print()
        print("| class | median total ratio | identical |")
        print("|---|---|---|")
        for cls in classes:
            r = agree.get((me, "hits_ratio_vs_xapian", cls))
            s = agree.get((me, "hits_equal_share_vs_xapian", cls))
            share = "–" if s is None or math.isnan(s) else f"{100 * s:.0f}%"
            print(f"| {cls} | {fmt(r)} | {share} |")
        print()

    # ---- build
    if any(k[0] == me for k in build):
        print("## Index build")
        print()
        print("| engine | build wall s | docs/s | × raw JSONL | indexer peak MB |")
        print("|---|---|---|---|---|")
        for e in [me] + peers:
            print(f"| {e} | {fmt(build.get((e, 'build_wall_s')))} | {fmt(build.get((e, 'build_docs_per_s')))} "
                  f"| {fmt(build.get((e, 'disk_over_raw')))} | {fmt(build.get((e, 'indexer_peak_mb')))} |")
        print()


if __name__ == "__main__":
    main()
