#!/usr/bin/env python3
"""http.py: HTTP against the line protocol, per class of the peers query set,
on one running sift-searchd (started with --http and --cache-mb 0).

One client measures both: sift-bench-load, with the line protocol's JSON
request form (--request json) and with --http (keep-alive GET /search whose
parameters are the same members), so the two figures differ only by what
the protocols and the daemon's paths for them cost: the same code sends
the requests and times the answers, in the same query order, at the same
concurrency.

Throughput mode (the default): for each class, QPS at 16 connections and
the p50 at one connection, both closed loop (the next request leaves the
moment an answer is read), --seconds per run after a 1 s ramp-up.

Per-query mode (--per-query N): phase 1 of sift-bench-load (one connection,
one request at a time, after a warm-up pass) with N timed passes over every
query of the classes; per class the p50 of each protocol and the median of
the queries' differences (each query's median over the passes and rounds,
HTTP minus line), and the queries whose difference is largest.

The speed of the same query drifts by ±30% from one few-second run to the
next on a virtual machine (one AND query measured 866 to 1,456 µs at p50 in
eight 2-second runs), so only figures taken in alternation count: each
class is measured in --rounds rounds, each running both protocols back to
back (line first in odd rounds, HTTP first in even ones), and the table
gives the medians of the rounds and the median of the rounds' differences,
which the drift between rounds does not reach.

--wrk measures HTTP with wrk instead (bench/wrk_paths.lua cycling through
the same queries as URLs; one connection, then 16 on 2 threads): another
client, for comparison (docs/http.md says what it shows).

  bench/http.py --port 9412 --http-port 9480 [--seconds 2] [--rounds 3] [--classes a,b] [--wrk]
  bench/http.py --port 9412 --http-port 9480 --per-query 1 --rounds 12 [--top 10]

In per-query mode, alternate often: one pass a round over 12 rounds held
every class within 60 µs where 3 passes a round over 4 rounds did not
(docs/http.md, "Settled").
"""
import argparse
import json
import os
import re
import statistics
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


def wrk_paths(queries, tmp):
    """Each class's GET paths, one file per class, for wrk_paths.lua."""
    by_class = {}
    for ln in open(queries, encoding="utf-8"):
        q = json.loads(ln)
        p = [("q", q["text"])]
        for k in ("outlet", "from", "to"):
            if q.get(k):
                p.append((k, q[k]))
        p.append(("limit", str(q.get("limit", 10))))
        facets = [f for f in ("outlet", "month") if f in (q.get("facets") or [])]
        if facets:
            p.append(("facets", ",".join(facets)))
        by_class.setdefault(q["class"], []).append("/search?" + urllib.parse.urlencode(p))
    files = {}
    for c, paths in by_class.items():
        files[c] = tmp / (c + ".txt")
        files[c].write_text("\n".join(paths) + "\n")
    return files


class Load:
    """sift-bench-load against either protocol of one daemon."""

    def __init__(self, a, tmp):
        self.a, self.tmp = a, tmp
        self.target = {"line": ["--port", str(a.port), "--request", "json"],
                       "http": ["--http", "127.0.0.1:%d" % a.http_port]}

    def run(self, proto, classes, *args):
        js = self.tmp / ("%s.json" % proto)
        p = subprocess.run([self.a.bin + "/sift-bench-load", "--queries", self.a.queries, "--class",
                            classes, "--json", str(js)] + self.target[proto] + list(args),
                           capture_output=True, text=True)
        if p.returncode == 2 or not js.exists():
            sys.exit("http.py: sift-bench-load failed: %s" % p.stderr[-500:])
        out = json.load(open(js))
        js.unlink()
        return out


def rounds_order(r):
    return ("line", "http") if r % 2 == 0 else ("http", "line")


def throughput(a, load, classes, tmp):
    paths = wrk_paths(a.queries, tmp) if a.wrk else {}
    url = "http://127.0.0.1:%d" % a.http_port
    print("HTTP by %s, the line protocol by sift-bench-load; %d rounds of %d s runs\n" % (
        "wrk" if a.wrk else "sift-bench-load", a.rounds, a.seconds))
    print("| class | line p50 µs | http p50 µs | diff µs (median of rounds) | line QPS@16 "
          "| http QPS@16 | http/line (median of rounds) |")
    print("|---|---|---|---|---|---|---|")
    for c in classes:
        rounds, errors = [], 0
        for r in range(a.rounds):
            got = {}
            for proto in rounds_order(r):
                if proto == "http" and a.wrk:
                    if r == 0:
                        wrk_run(url, paths[c], 1, 1, 1)  # warm-up
                    h1, _, e1 = wrk_run(url, paths[c], 1, 1, a.seconds)
                    _, h16, e16 = wrk_run(url, paths[c], 16, 2, a.seconds)
                    got[proto] = (h1, h16)
                    errors += e1 + e16
                    continue
                j = load.run(proto, c, "--passes", "0", "--conc", "1,16", "--seconds",
                             str(a.seconds), "--rampup", "1", "--repeat", "1")
                tp = {t["conc"]: t for t in j["throughput"]}
                got[proto] = (tp[1]["p50_us"], tp[16]["qps_median"])
                errors += j["errors"]
            rounds.append(got["line"] + got["http"])
        med = [statistics.median(r[k] for r in rounds) for k in range(4)]
        diff = statistics.median(r[2] - r[0] for r in rounds)
        ratio = statistics.median(r[3] / r[1] for r in rounds)
        print("| %s | %.0f | %.0f | %+.0f | %.0f | %.0f | %.2f |%s" % (
            c, med[0], med[2], diff, med[1], med[3], ratio,
            " (errors %d)" % errors if errors else ""), flush=True)


def per_query(a, load, classes):
    times = {"line": {}, "http": {}}  # proto -> query idx -> [µs]
    meta = {}
    for r in range(a.rounds):
        for proto in rounds_order(r):
            j = load.run(proto, ",".join(classes), "--warmup", "1", "--passes", str(a.per_query),
                         "--conc", "0")
            for q in j["queries"]:
                meta[q["idx"]] = (q["class"], q["text"])
                times[proto].setdefault(q["idx"], []).extend(q["us_passes"])
        print("round %d/%d done" % (r + 1, a.rounds), file=sys.stderr, flush=True)
    med = {p: {i: statistics.median(v) for i, v in t.items()} for p, t in times.items()}
    print("one connection, one request at a time; %d rounds of %d passes, alternating\n" % (
        a.rounds, a.per_query))
    print("| class | line p50 µs | http p50 µs | p50 diff µs | median of the queries' diffs µs "
          "| queries http slower by > 60 µs |")
    print("|---|---|---|---|---|---|")
    worst = []
    for c in classes:
        ids = [i for i in meta if meta[i][0] == c]
        lp = statistics.median(med["line"][i] for i in ids)
        hp = statistics.median(med["http"][i] for i in ids)
        d = [med["http"][i] - med["line"][i] for i in ids]
        print("| %s | %.0f | %.0f | %+.0f | %+.0f | %d of %d |" % (
            c, lp, hp, hp - lp, statistics.median(d), sum(x > 60 for x in d), len(ids)), flush=True)
        worst += [(med["http"][i] - med["line"][i], i) for i in ids]
    if a.top:
        print("\n| query | class | line µs | http µs | diff µs |")
        print("|---|---|---|---|---|")
        for d, i in sorted(worst, reverse=True)[:a.top]:
            print("| %s | %s | %.0f | %.0f | %+.0f |" % (
                meta[i][1].replace("|", "\\|"), meta[i][0], med["line"][i], med["http"][i], d))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=9412)
    ap.add_argument("--http-port", type=int, default=9480)
    ap.add_argument("--queries", default=str(REPO.parent / "shared/peers/results/queries.jsonl"))
    ap.add_argument("--seconds", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--classes", default="")
    ap.add_argument("--bin", default=str(REPO / "build/bin"))
    ap.add_argument("--wrk", action="store_true", help="HTTP measured by wrk (throughput mode)")
    ap.add_argument("--per-query", type=int, default=0, metavar="N",
                    help="per-query mode: N timed passes per round")
    ap.add_argument("--top", type=int, default=10, help="per-query mode: the queries listed")
    a = ap.parse_args()
    if a.wrk and a.per_query:
        sys.exit("http.py: --wrk is for the throughput mode")
    seen = []
    for ln in open(a.queries, encoding="utf-8"):
        c = json.loads(ln)["class"]
        if c not in seen:
            seen.append(c)
    classes = [c for c in seen if not a.classes or c in a.classes.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="sift-http-bench-"))
    load = Load(a, tmp)
    if a.per_query:
        per_query(a, load, classes)
    else:
        throughput(a, load, classes, tmp)


if __name__ == "__main__":
    sys.exit(main())
