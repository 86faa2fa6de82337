#!/usr/bin/env python3
"""http_pair.py: what HTTP adds to a request's latency, measured in pairs.

bench/http.py runs the line protocol and HTTP one after the other with two
different load tools, so the machine's drift between the runs and the tools'
own costs land in the difference.  Here one client sends each query of the
peers query set twice, back to back: once as a line-protocol request (the
JSON form, on one connection) and once as GET /search (keep-alive, on a
second connection), alternating which goes first.  Both of a pair see the
same machine, so the per-class p50 of each and the median of the paired
differences measure HTTP's cost even on a loaded machine.  The client is
the same code for both (raw sockets, one sendall, reads until the end of
the answer), so its cost cancels but for the header parsing.

  bench/http_pair.py --port 9412 --http-port 9480 [--passes 20] [--classes a,b]

Start sift-searchd with --http and --cache-mb 0 (a cache measures itself).
"""
import argparse
import json
import re
import socket
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOOK = re.compile(rb'"took_us":\d+,?')


def request_pair(q):
    """The line request (JSON form, as bq.c writes it) and the HTTP path."""
    line = {"op": "search", "q": q["text"]}
    params = [("q", q["text"])]
    if q.get("outlet"):
        line["outlet"] = [q["outlet"]]
        params.append(("outlet", q["outlet"]))
    for k in ("from", "to"):
        if q.get(k):
            line[k] = q[k]
            params.append((k, q[k]))
    line["limit"] = q.get("limit", 10)
    params.append(("limit", str(line["limit"])))
    facets = [f for f in ("outlet", "month") if f in (q.get("facets") or [])]
    if facets:
        line["facets"] = facets
        params.append(("facets", ",".join(facets)))
    req = (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    path = "/search?" + urllib.parse.urlencode(params)
    http = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path).encode()
    return req, http


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _fill(self):
        chunk = self.s.recv(1 << 20)
        if not chunk:
            raise SystemExit("http_pair: the server closed a connection")
        self.buf += chunk

    def line(self, req):
        self.s.sendall(req)
        while b"\n" not in self.buf:
            self._fill()
        body, self.buf = self.buf.split(b"\n", 1)
        return body + b"\n"  # as an HTTP body holds it

    def http(self, req):
        self.s.sendall(req)
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, rest = self.buf.split(b"\r\n\r\n", 1)
        n = None
        for h in head.split(b"\r\n")[1:]:
            k, _, v = h.partition(b":")
            if k.strip().lower() == b"content-length":
                n = int(v)
        if n is None:
            raise SystemExit("http_pair: an answer without Content-Length: %r" % head[:200])
        while len(rest) < n:
            self._fill()
            rest = self.buf.split(b"\r\n\r\n", 1)[1]
        self.buf = rest[n:]
        if not head.startswith(b"HTTP/1.1 200"):
            raise SystemExit("http_pair: %r" % head.split(b"\r\n", 1)[0])
        return rest[:n]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=9412)
    ap.add_argument("--http-port", type=int, default=9480)
    ap.add_argument("--queries", default=str(REPO.parent / "shared/peers/results/queries.jsonl"))
    ap.add_argument("--passes", type=int, default=20, help="timed passes over each class")
    ap.add_argument("--classes", default="")
    a = ap.parse_args()
    by_class = {}
    for ln in open(a.queries, encoding="utf-8"):
        q = json.loads(ln)
        by_class.setdefault(q["class"], []).append(request_pair(q))
    only = set(a.classes.split(",")) if a.classes else None
    line, http = Conn(a.port), Conn(a.http_port)
    print("| class | pairs | line p50 µs | http p50 µs | p50 diff µs | median paired diff µs |")
    print("|---|---|---|---|---|---|")
    clock = time.perf_counter_ns
    for c, reqs in by_class.items():
        if only and c not in only:
            continue
        for lreq, hreq in reqs:  # warm-up pass; the bodies must agree but for took_us
            lb, hb = (TOOK.sub(b"", b) for b in (line.line(lreq), http.http(hreq)))
            if lb != hb:
                sys.exit("http_pair: %s: bodies differ for %r" % (c, lreq[:120]))
        lt, ht, diff = [], [], []
        for p in range(a.passes):
            for i, (lreq, hreq) in enumerate(reqs):
                pair = [(line.line, lreq, lt), (http.http, hreq, ht)]
                if (i + p) % 2:
                    pair.reverse()
                took = {}
                for send, req, out in pair:
                    t0 = clock()
                    send(req)
                    took[id(out)] = (clock() - t0) / 1000.0
                    out.append(took[id(out)])
                diff.append(took[id(ht)] - took[id(lt)])
        l50, h50 = statistics.median(lt), statistics.median(ht)
        print("| %s | %d | %.0f | %.0f | %+.0f | %+.0f |" % (
            c, len(diff), l50, h50, h50 - l50, statistics.median(diff)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
