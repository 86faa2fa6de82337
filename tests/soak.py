#!/usr/bin/env python3
"""soak: a bounded soak of sift-searchd (not run by CTest).

    tests/soak.py [--minutes 3] [--clients 8] [--docs 5000] [--window 16]
                  [--add-every 3] [--add-batch 20] [--threads N] [--keep]

Generates a corpus (sift-gen --docs N), indexes it and starts sift-searchd on
127.0.0.1 port 0 (--reload-interval 1).  Then, for --minutes:
  - --clients client processes (separate processes, so Python's GIL does not
    cap the rate) each keep one connection busy, pipelining --window
    requests at a time from a mixed set built from the corpus's words:
    COUNT (plain, OR, NOT, prefix, phrase, title:, date:), SEARCH with random
    limit/offset/sort/facets, GET of present and absent ids, EXPLAIN, PING;
    each answer is checked: COUNT and GET answers byte for byte, SEARCH
    answers by ok and total, against `sift-query --index` computed before;
  - every --add-every seconds sift-indexer adds --add-batch articles made of
    words of their own (so the checked answers cannot change), and the new
    articles must be visible through the daemon within 10 s;
  - the daemon's RSS and open fds are sampled every second.
Prints requests, rate, errors, RSS min/max (and its trend), fds at start and
end; exits non-zero on any error, a late reload, or an fd leak.  Every
server it starts listens on loopback and is killed at the end.

Environment: SIFT_BIN (default <repo>/build/bin).
"""

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "integration"))

import sift  # noqa: E402
from test_hostile import Daemon, percentile, proc_fds, reference, strip_took  # noqa: E402

FD_SLACK = 2


# ---- client process -----------------------------------------------------------


def client_main(cfg_path):
    cfg = json.loads(Path(cfg_path).read_text())
    rng = random.Random(cfg["seed"])
    reqs = cfg["requests"]  # [line, kind, expected]
    window = cfg["window"]
    t_end = time.time() + cfg["seconds"]
    n = errors = 0
    first_errors = []
    rtts = []
    kinds = Counter()
    try:
        s = socket.create_connection(("127.0.0.1", cfg["port"]), timeout=60)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = s.makefile("rb")
        while time.time() < t_end:
            batch = [reqs[rng.randrange(len(reqs))] for _ in range(window)]
            lines = []
            for line, kind, want in batch:
                if kind == "search":  # vary the page: the total cannot change
                    line = "%s limit:%d offset:%d" % (line, rng.choice((0, 1, 5, 10, 20)), rng.randrange(30))
                lines.append(line)
            t0 = time.monotonic()
            s.sendall("".join(l + "\n" for l in lines).encode())
            for (line, kind, want), sent in zip(batch, lines):
                got = f.readline()
                n += 1
                kinds[kind] += 1
                bad = None
                if not got.endswith(b"\n"):
                    bad = "connection closed"
                elif kind in ("count", "get", "exact"):
                    if strip_took(got).decode("utf-8", "replace") != want:
                        bad = "got %s want %s" % (got[:150], want[:150])
                elif kind == "search":
                    try:
                        obj = json.loads(got)
                        if not obj.get("ok") or obj.get("total") != want:
                            bad = "got %s, want total %s" % (got[:150], want)
                    except ValueError:
                        bad = "not JSON: %r" % got[:150]
                elif kind == "ok":
                    if not got.startswith(b'{"ok":true'):
                        bad = "got %s" % got[:150]
                if bad:
                    errors += 1
                    if len(first_errors) < 10:
                        first_errors.append("%s: %s" % (sent[:100], bad))
                    if bad == "connection closed":
                        raise ConnectionError("the daemon closed the connection")
            rtts.append(time.monotonic() - t0)
        s.close()
    except Exception as e:  # noqa: BLE001
        errors += 1
        first_errors.append("client: %r" % e)
    rtts.sort()
    sys.stdout.write(json.dumps({
        "requests": n, "errors": errors, "first_errors": first_errors, "kinds": dict(kinds),
        "rtt_p50": percentile(rtts, 50), "rtt_p99": percentile(rtts, 99),
        "rtt_max": rtts[-1] if rtts else None}))
    return 0


# ---- the soak -----------------------------------------------------------------


def words_of(path, limit=3 << 20):
    c = Counter()
    with open(path, "rb") as f:
        for line in f.read(limit).decode("utf-8", "replace").split("\n"):
            try:
                d = json.loads(line)
            except ValueError:
                continue
            c.update(w for w in re.findall(r"[a-z]+", ("%s %s" % (d.get("title") or "", d.get("body") or "")).lower())
                     if len(w) >= 3)
    return [w for w, _ in c.most_common()]


def build_requests(index, corpus, rng):
    words = words_of(corpus)
    ids = []
    with open(corpus, "rb") as f:
        for line in f:
            ids.append(json.loads(line)["id"])
    common, mid, rare = words[:60], words[60:600], words[600:3000] or words[:60]
    counts, searches, exact = [], [], []
    for _ in range(120):
        a, b = rng.choice(mid), rng.choice(common + mid)
        counts += ["COUNT %s" % a, "COUNT %s OR %s" % (a, rng.choice(rare)), "COUNT %s -%s" % (b, a)]
    for _ in range(40):
        w = rng.choice(mid)
        counts += ["COUNT %s*" % w[:3], "COUNT \"%s %s\"" % (rng.choice(common), rng.choice(common)),
                   "COUNT title:%s" % w, "COUNT %s date:%d" % (rng.choice(common), rng.randint(2015, 2024))]
    for _ in range(150):
        a, b = rng.choice(mid), rng.choice(rare)
        searches += [rng.choice(["SEARCH %s" % a, "SEARCH %s OR %s" % (a, b),
                                 "SEARCH %s %s" % (rng.choice(common), a),
                                 "SEARCH %s sort:newest" % a, "SEARCH %s facets:outlet,year" % a,
                                 "SEARCH title:%s sort:oldest" % a, "SEARCH %s* facets:month" % a[:3]])]
    gets = ["GET %s" % x for x in rng.sample(ids, min(200, len(ids)))] + \
           ["GET soak-absent-%d" % i for i in range(20)]
    exact = ["PING", "EXPLAIN %s OR %s" % (rng.choice(mid), rng.choice(mid)),
             json.dumps({"op": "count", "q": rng.choice(mid), "from": "2016-01-01", "to": "2019-12-31"})]
    # SEARCH totals: from the same search, page 0
    lines = counts + gets + exact + [s + " limit:0" for s in searches]
    ans = [strip_took(x).decode("utf-8", "replace") for x in reference(index, lines)]
    out = []
    k = 0
    for l in counts:
        out.append([l, "count", ans[k]]); k += 1
    for l in gets:
        out.append([l, "get", ans[k]]); k += 1
    for l in exact:
        out.append([l, "exact", ans[k]]); k += 1
    for l in searches:
        obj = json.loads(ans[k]); k += 1
        if obj.get("ok") and obj.get("total_exact"):
            out.append([l, "search", obj["total"]])
        else:
            out.append([l, "ok", None])
    out.append(["STATS", "ok", None])
    return out


def soak_articles(k, n, rng):
    """Articles made of words of their own: no checked answer can change."""
    syl = ["zu", "qa", "xo", "vy", "kre", "plo", "snu", "gwa"]
    out = []
    for i in range(n):
        body = " ".join("soak" + "".join(rng.choice(syl) for _ in range(3)) for _ in range(60))
        out.append(json.dumps({"id": "soak-%d-%d" % (k, i), "title": "Soakmarker %d %d" % (k, i),
                               "body": body, "outlet": "Soak Wire", "date": "2025-01-%02d" % (1 + i % 28)}))
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--client":
        return client_main(sys.argv[2])
    ap = argparse.ArgumentParser(description="bounded soak of sift-searchd")
    ap.add_argument("--minutes", type=float, default=3)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--docs", type=int, default=5000)
    ap.add_argument("--window", type=int, default=16, help="requests pipelined per client")
    ap.add_argument("--add-every", type=float, default=3, help="seconds between index additions")
    ap.add_argument("--add-batch", type=int, default=20, help="articles per addition")
    ap.add_argument("--threads", type=int, default=0, help="daemon worker threads (0: its default)")
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    a = ap.parse_args()
    for n in ("sift-gen", "sift-indexer", "sift-query", "sift-searchd"):
        if not sift.have(n):
            print("soak: %s missing in %s" % (n, sift.BIN))
            return 2
    tmp = Path(tempfile.mkdtemp(prefix="sift-soak-"))
    rng = random.Random(a.seed)
    d = None
    clients = []
    problems = []
    try:
        corpus = tmp / "corpus.jsonl"
        sift.generate(corpus, a.docs, a.seed)
        index = tmp / "index"
        t0 = time.time()
        p = sift.index(index, [corpus], "--quiet")
        if p.returncode != 0:
            print("soak: sift-indexer failed: %s" % p.stderr.decode(errors="replace"))
            return 2
        print("indexed %d articles in %.1f s" % (a.docs, time.time() - t0), flush=True)
        reqs = build_requests(index, corpus, rng)
        print("%d distinct checked requests (plus random pages of the searches)" % len(reqs), flush=True)
        args = ["--reload-interval", 1, "--log-level", "info"]
        d = Daemon(index, tmp, *args, threads=a.threads or None)
        time.sleep(0.5)
        fds_start = proc_fds(d.pid)
        seconds = a.minutes * 60
        cfgs = []
        for i in range(a.clients):
            cfg = tmp / ("client-%d.json" % i)
            cfg.write_text(json.dumps({"port": d.port, "seed": a.seed * 100 + i, "window": a.window,
                                       "seconds": seconds, "requests": reqs}))
            cfgs.append(cfg)
        t_start = time.time()
        for cfg in cfgs:
            clients.append(subprocess.Popen([sys.executable, os.path.abspath(__file__), "--client", str(cfg)],
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        rss, fdn = [], []
        added = 0
        adds = 0
        late = []
        visible_s = []
        next_add = time.time() + a.add_every
        probe = d.connect()
        while time.time() - t_start < seconds:
            kb = d.rss_kb()
            if kb is None:
                problems.append("the daemon died: " + d.log_text()[-500:])
                break
            rss.append((time.time() - t_start, kb))
            fdn.append(len(proc_fds(d.pid)))
            if time.time() >= next_add and time.time() - t_start < seconds - 12:
                src = tmp / "add.jsonl"
                src.write_text(soak_articles(adds, a.add_batch, rng))
                p = sift.index(index, [src], "--quiet", "--batch", a.add_batch)
                if p.returncode != 0:
                    problems.append("sift-indexer failed: %s" % p.stderr.decode(errors="replace")[-300:])
                else:
                    added += a.add_batch
                    adds += 1
                    t_add = time.time()
                    while True:
                        got = json.loads(probe.request("COUNT soakmarker")).get("count")
                        if got == added or time.time() - t_add > 10:
                            break
                        time.sleep(0.05)
                    if got != added:
                        late.append((adds, got, added))
                    else:
                        visible_s.append(time.time() - t_add)
                next_add = time.time() + a.add_every
            time.sleep(max(0.0, 1.0 - (time.time() - t_start) % 1.0))
        probe.close()
        total = errors = 0
        kinds = Counter()
        rtt99 = []
        for c in clients:
            out, err = c.communicate(timeout=seconds + 120)
            try:
                rep = json.loads(out)
            except ValueError:
                problems.append("a client failed: %s" % err.decode(errors="replace")[-300:])
                continue
            total += rep["requests"]
            errors += rep["errors"]
            kinds.update(rep["kinds"])
            rtt99.append(rep["rtt_p99"] or 0)
            for e in rep["first_errors"][:3]:
                problems.append("client error: " + e)
        elapsed = time.time() - t_start
        clients = []
        c = d.connect()
        st = json.loads(c.request("STATS"))
        c.close()
        time.sleep(1)
        fds_end = proc_fds(d.pid)
        deadline = time.time() + 5
        while len(fds_end) > len(fds_start) and time.time() < deadline:
            time.sleep(0.2)
            fds_end = proc_fds(d.pid)
        rc = d.stop(30)
        vals = [kb for _, kb in rss]
        third = max(1, len(rss) // 3)
        first_third = max(kb for _, kb in rss[:third]) if rss else 0
        last_third = max(kb for _, kb in rss[-third:]) if rss else 0
        print("duration            %.0f s (%.1f min), %d clients pipelining %d, daemon threads %s"
              % (elapsed, elapsed / 60, a.clients, a.window, st.get("threads")))
        print("requests            %d (%s)" % (total, ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))
        print("rate                %.0f req/s" % (total / elapsed if elapsed else 0))
        print("errors              %d" % errors)
        print("client batch RTT    p99 %.1f ms (worst client)" % (max(rtt99 or [0]) * 1000))
        print("daemon latency      %s (STATS, us)" % st.get("latency_us"))
        print("reloads             %d additions of %d articles, %d reloads seen by the daemon, "
              "visible after %.2f s median / %.2f s max; late: %s"
              % (adds, a.add_batch, st.get("reloads", 0), percentile(visible_s, 50) or 0,
                 max(visible_s or [0]), late or "none"))
        print("daemon RSS          min %.1f MB, max %.1f MB; max over the first third %.1f MB, "
              "over the last third %.1f MB" % (min(vals) / 1024, max(vals) / 1024,
                                                first_third / 1024, last_third / 1024))
        step = max(1, len(rss) // 8)
        print("daemon RSS timeline %s" % ", ".join("%.0fs %.0f MB" % (t, kb / 1024) for t, kb in rss[::step]))
        print("daemon fds          %d at start, %d at end (peak %d)"
              % (len(fds_start), len(fds_end), max(fdn or [0])))
        print("exit status         %s after SIGTERM" % rc)
        if errors:
            problems.append("%d errors" % errors)
        if late:
            problems.append("additions not visible within 10 s: %s" % late)
        if len(fds_end) > len(fds_start) + FD_SLACK:
            problems.append("fd leak: %d -> %d: %s" % (len(fds_start), len(fds_end),
                                                     sorted(set(fds_end.values()) - set(fds_start.values()))))
        if rc != 0:
            problems.append("the daemon exited with %s after SIGTERM" % rc)
    finally:
        for c in clients:
            if c.poll() is None:
                c.kill()
                c.wait()
        if d is not None:
            d.kill()
        if problems or a.keep:
            print("scratch kept in %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    for p in problems:
        print("PROBLEM: %s" % p)
    print("soak %s" % ("FAILED" if problems else "passed"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
