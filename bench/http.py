#!/usr/bin/env python3
"""http.py: HTTP against the line protocol, per class of the peers query set,
on one running sift-searchd (started with --http and --cache-mb 0).

For each class: the line protocol through sift-bench-load (JSON request
form, one connection closed loop, then 16), and HTTP GET /search through
wrk (bench/wrk_paths.lua cycling through the same queries as URLs, one
connection, then 16 connections on 2 threads), each for --seconds.
Prints p50 at one connection (µs) and QPS at 16 for both, and the
differences the issue's targets speak of (p50 within 60 µs, QPS within 20%).

  bench/http.py --port 9412 --http-port 9480 [--seconds 3] [--classes a,b]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def wrk_run(url, paths_file, conns, threads, seconds):
    env = dict(os.environ, WRK_PATHS=str(paths_file))
    out = subprocess.run(["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--latency",
                          "-s", str(REPO / "bench" / "wrk_paths.lua"), url],
                         capture_output=True, text=True, env=env, check=True).stdout
    def us(text):
        v, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
        return float(v) * {"us": 1, "ms": 1000, "s": 1e6}[unit]
    p50 = us(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    qps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return p50, qps, int(errors.group(1)) if errors else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=9412)
    ap.add_argument("--http-port", type=int, default=9480)
    ap.add_argument("--queries", default=str(REPO.parent / "shared/peers/results/queries.jsonl"))
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--classes", default="")
    ap.add_argument("--bin", default=str(REPO / "build/bin"))
    a = ap.parse_args()
    by_class = {}
    for ln in open(a.queries):
        q = json.loads(ln)
        p = [("q", q["text"])]
        if q.get("outlet"):
            p.append(("outlet", q["outlet"]))
        if q.get("from"):
            p.append(("from", q["from"]))
        if q.get("to"):
            p.append(("to", q["to"]))
        p.append(("limit", str(q.get("limit", 10))))
        facets = [f for f in ("outlet", "month") if f in (q.get("facets") or [])]
        if facets:
            p.append(("facets", ",".join(facets)))
        by_class.setdefault(q["class"], []).append("/search?" + urllib.parse.urlencode(p))
    classes = [c for c in by_class if not a.classes or c in a.classes.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="sift-http-bench-"))
    url = "http://127.0.0.1:%d" % a.http_port
    print("| class | line p50 µs | http p50 µs | diff µs | line QPS@16 | http QPS@16 | http/line |")
    print("|---|---|---|---|---|---|---|")
    for c in classes:
        paths = tmp / (c + ".txt")
        paths.write_text("\n".join(by_class[c]) + "\n")
        js = tmp / (c + ".json")
        subprocess.run([a.bin + "/sift-bench-load", "--port", str(a.port), "--queries", a.queries,
                        "--class", c, "--request", "json", "--passes", "0", "--conc", "1,16",
                        "--seconds", str(a.seconds), "--rampup", "1", "--repeat", "1",
                        "--json", str(js)], capture_output=True, check=True)
        tp = {r["conc"]: r for r in json.load(open(js))["throughput"]}
        wrk_run(url, paths, 1, 1, 1)  # warm-up
        h1, _, e1 = wrk_run(url, paths, 1, 1, a.seconds)
        _, h16, e16 = wrk_run(url, paths, 16, 2, a.seconds)
        l1, l16 = tp[1]["p50_us"], tp[16]["qps_median"]
        print("| %s | %.0f | %.0f | %+.0f | %.0f | %.0f | %.2f |%s" % (
            c, l1, h1, h1 - l1, l16, h16, h16 / l16,
            " (http errors %d)" % (e1 + e16) if e1 + e16 else ""), flush=True)


if __name__ == "__main__":
    sys.exit(main())
