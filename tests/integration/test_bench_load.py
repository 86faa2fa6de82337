#!/usr/bin/env python3
"""test_bench_load: sift-bench-load's two protocols (bench/load.c).

The HTTP figures of docs/http.md are only comparable with the line
protocol's if the tool asks the same questions both ways and reads the
answers right.  So, against one sift-searchd started with --listen and
--http on a small index written here:
- the same query file run as JSON lines (--request json) and as HTTP GETs
  (--http) gives the same answers, took_us aside (--answers), query by
  query, including outlets, dates, facets, non-ASCII text and the bytes a
  query string must escape (& + % # = ? /), and an error answer (HTTP 400)
  counted as an error both ways (exit 1);
- phase 2 over HTTP, closed loop and pipelined (--depth 4), completes
  requests without errors; the JSON output has every query's time per pass;
- --http beside --port or --request is refused (exit 2).
And against small fake HTTP servers written here, which send their answers
in pieces: a chunked body (with a chunk extension and a trailer) is put
together, a non-200 status is an error answer (exit 1), and bytes that are
no HTTP answer end the run (exit 2) with a line saying so.
Prints a closing 'N passed, N failed'; exits non-zero on any failure.
"""

import json
import re
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sift  # noqa: E402
from test_http import Daemon, strip_took  # noqa: E402

OUTLETS = ["Harbour Post", "Wire & Co", "Café+Press"]

QUERIES = [
    {"class": "term", "text": "lighthouse", "facets": [], "limit": 10},
    {"class": "term", "text": "storm", "outlet": "Wire & Co", "facets": ["outlet"], "limit": 3},
    {"class": "phrase", "text": "\"lighthouse keeper\"", "outlet": "Café+Press", "facets": [],
     "limit": 10},
    {"class": "phrase", "text": "\"harbour storm\"", "from": "2021-03-02", "to": "2021-03-20",
     "facets": ["outlet", "month"], "limit": 5},
    {"class": "odd", "text": "café OR AT&T OR 9/11 OR C++ OR #tag OR a=b OR 100% OR why?",
     "facets": ["month"], "limit": 4},
    {"class": "bad", "text": "(lighthouse", "facets": [], "limit": 10},
]


def write_corpus(tmp):
    path = tmp / "arts.jsonl"
    with open(path, "w") as f:
        for i in range(60):
            words = ["lighthouse keeper" if i % 2 == 0 else "keeper of the lighthouse",
                     "harbour storm" if i % 4 == 0 else "storm over the harbour",
                     "café" if i % 5 == 0 else "tea", "AT&T 9/11 C++ #tag" if i % 7 == 0 else ""]
            f.write(json.dumps({"id": "bl-%d" % i, "outlet": OUTLETS[i % 3],
                                "date": "2021-%02d-%02d" % (3 + i % 2, 1 + i % 28),
                                "title": "Report %d on the lighthouse" % i,
                                "body": "The %s wrote about the %s, with %s. %s" % tuple(words)},
                               ensure_ascii=False) + "\n")
    return path


def load(args, timeout=120):
    return sift.run([sift.exe("sift-bench-load")] + [str(a) for a in args], timeout=timeout)


def answers(path):
    return [strip_took(ln) for ln in Path(path).read_bytes().split(b"\n")[:-1]]


def both_protocols(res, d, tmp, qfile):
    common = ["--queries", qfile, "--warmup", "1", "--passes", "2", "--conc", "1",
              "--seconds", "0.3", "--rampup", "0.1", "--repeat", "1"]
    runs = {}
    for name, target in (("line", ["--port", d.port, "--request", "json"]),
                         ("http", ["--http", "127.0.0.1:%d" % d.http_port])):
        p = load(target + common + ["--answers", tmp / (name + ".txt"),
                                    "--json", tmp / (name + ".json")])
        runs[name] = p
        res.ok(p.returncode == 1, "%s: exit 1, for the bad query's error answers" % name,
               "exit %d: %s" % (p.returncode, p.stderr.decode()[-400:]))
    line, http = answers(tmp / "line.txt"), answers(tmp / "http.txt")
    res.ok(len(line) == len(QUERIES) and len(http) == len(QUERIES),
           "one answer a query both ways", "%d and %d" % (len(line), len(http)))
    for q, a, b in zip(QUERIES, line, http):
        res.ok(a == b, "%s: the same answer over HTTP as over the line protocol" % q["text"],
               "line %s\nhttp %s" % (sift.short(a.decode()), sift.short(b.decode())))
    ok = [json.loads(a) for a in line]
    res.ok(all(o.get("ok") for o in ok[:-1]) and not ok[-1].get("ok"),
           "every answer a success but the bad query's")
    res.ok(ok[0].get("total", 0) == 60 and ok[1].get("total", 0) > 0 and
           ok[2].get("total", 0) > 0 and ok[3].get("total", 0) > 0 and ok[4].get("total", 0) > 0,
           "the queries find articles (outlets and dates escaped right)",
           " ".join(str(o.get("total")) for o in ok))
    res.ok(b"HTTP 400" in runs["http"].stderr, "HTTP: the error answer's status is shown",
           runs["http"].stderr.decode()[-300:])
    for name in ("line", "http"):
        j = json.load(open(tmp / (name + ".json")))
        res.ok(j["latency"]["bad"]["errors"] == 2 and j["latency"]["term"]["errors"] == 0,
               "%s: the bad query counted an error in each of 2 passes" % name)
        qs = j.get("queries", [])
        res.ok(len(qs) == len(QUERIES) and all(len(q["us_passes"]) == 2 and
                                               all(t > 0 for t in q["us_passes"]) for q in qs)
               and [q["error"] for q in qs] == [False] * 5 + [True],
               "%s: --json has every query's time in each pass" % name)
        tp = {r["class"]: r for r in j["throughput"]}
        res.ok(tp["term"]["qps_median"] > 0 and tp["term"]["errors"] == 0,
               "%s: phase 2 completes requests" % name, str(tp.get("term")))
    p = load(["--http", "127.0.0.1:%d" % d.http_port, "--queries", qfile, "--class", "term,phrase",
              "--passes", "0", "--conc", "2", "--depth", "4", "--seconds", "0.3", "--rampup",
              "0.1", "--repeat", "1", "--json", tmp / "depth.json"])
    tp = json.load(open(tmp / "depth.json"))["throughput"] if p.returncode == 0 else []
    res.ok(p.returncode == 0 and all(r["qps_median"] > 0 and r["errors"] == 0 for r in tp),
           "HTTP pipelined (--depth 4, 2 connections): answers, no errors",
           "exit %d: %s" % (p.returncode, p.stderr.decode()[-300:]))
    for bad in (["--port", "1"], ["--request", "json"], ["--unix", "/x"]):
        p = load(["--http", "127.0.0.1:%d" % d.http_port] + bad)
        res.ok(p.returncode == 2 and b"--http" in p.stderr, "--http with %s: refused" % bad[0])
    p = load(["--http", "127.0.0.1"])
    res.ok(p.returncode == 2 and b"HOST:PORT" in p.stderr, "--http without a port: refused")


class Fake(threading.Thread):
    """An HTTP server answering every request (keep-alive) with answer(n)
    for the n-th request, sent a few bytes at a time."""

    def __init__(self, answer):
        super().__init__(daemon=True)
        self.answer = answer
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.requests = []

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        buf = b""
        with c:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = c.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, buf = buf.split(b"\r\n\r\n", 1)
                self.requests.append(head)
                data = self.answer(len(self.requests) - 1)
                try:
                    for i in range(0, len(data), 7):
                        c.sendall(data[i:i + 7])
                        time.sleep(0.0005)
                except OSError:
                    return

    def close(self):
        self.sock.close()


def body_of(n):
    return b'{"ok":true,"n":%d,"pad":"%s"}\n' % (n, b"x" * (n * 37 % 90))


def chunked(n):
    b = body_of(n)
    parts = [b[:5], b[5:20], b[20:]]
    out = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ntransfer-encoding: Chunked\r\n\r\n"
    for i, p in enumerate(parts):
        if p:
            out += b"%x%s\r\n%s\r\n" % (len(p), b";ext=1" if i == 1 else b"", p)
    return out + b"0\r\nX-Trailer: yes\r\n\r\n"


def with_length(n):
    if n % 2 == 0:
        b = body_of(n)
        return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(b), b)
    b = b'{"ok":false,"error":{"code":"not_found","message":"no"}}\n'
    return b"HTTP/1.1 404 Not Found\r\nContent-Length:  %d \r\n\r\n%s" % (len(b), b)


def fake_servers(res, tmp, qfile):
    nq = len(QUERIES)
    base = ["--queries", qfile, "--warmup", "0", "--passes", "1", "--conc", "0"]
    f = Fake(chunked)
    f.start()
    p = load(["--http", "127.0.0.1:%d" % f.port, "--answers", tmp / "chunked.txt"] + base)
    got = (tmp / "chunked.txt").read_bytes() if (tmp / "chunked.txt").exists() else b""
    # request 0 is the STATS probe; the queries are 1..nq
    res.ok(p.returncode == 0 and got == b"".join(body_of(n) for n in range(1, nq + 1)),
           "chunked answers sent in pieces: put together, every one a success",
           "exit %d: %s\n%s" % (p.returncode, p.stderr.decode()[-300:], got[:300]))
    res.ok(len(f.requests) == nq + 2 and f.requests[0].startswith(b"GET /stats HTTP/1.1\r\n")
           and all(r.startswith(b"GET /search?q=") and r.endswith(b"\r\nHost: 127.0.0.1:%d" % f.port)
                   for r in f.requests[1:nq + 1]),
           "requests: GET /stats, then GET /search?q=... with a Host header, on one connection",
           repr(f.requests[:3]))
    sent = [r.split(b" ")[1] for r in f.requests[1:nq + 1]]
    res.ok(all(re.fullmatch(rb"[A-Za-z0-9_.~%&=/?,-]+", s) for s in sent) and
           b"q=%22lighthouse%20keeper%22&outlet=Caf%C3%A9%2BPress&limit=10" in sent[2] and
           b"&from=2021-03-02&to=2021-03-20&limit=5&facets=outlet,month" in sent[3],
           "the query string is percent-encoded, parameters in the JSON form's order",
           repr(sent[2:4]))
    f.close()
    f = Fake(with_length)
    f.start()
    p = load(["--http", "127.0.0.1:%d" % f.port, "--json", tmp / "fake.json"] + base)
    j = json.load(open(tmp / "fake.json")) if p.returncode == 1 else {}
    errors = [q["error"] for q in j.get("queries", [])]
    res.ok(p.returncode == 1 and errors == [n % 2 == 1 for n in range(1, nq + 1)]
           and b"HTTP 404" in p.stderr,
           "a 404 (Content-Length with blanks) is an error answer, a 200 a success",
           "exit %d: %s %s" % (p.returncode, errors, p.stderr.decode()[-300:]))
    f.close()
    f = Fake(lambda n: b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}" if n == 0 else
             b"SIFT 200 yes\r\n\r\n")
    f.start()
    p = load(["--http", "127.0.0.1:%d" % f.port] + base)
    res.ok(p.returncode == 2 and b"not an HTTP/1.x status line" in p.stderr,
           "an answer that is not HTTP: exit 2, saying so", p.stderr.decode()[-300:])
    f.close()


def main():
    res = sift.Results("test_bench_load")
    sift.require_binaries(res, ("sift-indexer", "sift-searchd", "sift-bench-load"))
    tmp = sift.scratch("bench_load")
    index = tmp / "index"
    p = sift.fixture_index(index, [write_corpus(tmp)], "--quiet")
    if not res.ok(p.returncode == 0, "sift-indexer builds the index", p.stderr[-300:]):
        res.finish()
    qfile = tmp / "queries.jsonl"
    qfile.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in QUERIES))
    d = Daemon(index, tmp, "daemon", "--cache-mb", "0")
    try:
        both_protocols(res, d, tmp, qfile)
        fake_servers(res, tmp, qfile)
    except Exception:  # a broken assumption fails the test, never crashes it
        import traceback
        res.fail("unexpected exception", traceback.format_exc())
    finally:
        d.kill()
    res.finish()


if __name__ == "__main__":
    main()
