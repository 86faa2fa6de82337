#!/usr/bin/env python3
"""test_http: sift-searchd's HTTP front end (SPEC.md "HTTP") with Python's
http.client and raw sockets.

Builds a small index (sift-gen --docs 2000 --seed 11, plus a few articles
written here, one with markup in its title), starts sift-searchd with
--listen 127.0.0.1:0 --http 127.0.0.1:0 and checks:
- every endpoint answers the body the line protocol answers for the same
  request (the JSON-object line sent over TCP to the same daemon, and
  sift-query --index in-process), took_us aside; figures checked against
  the corpus file itself (article count, an outlet's count, a stored title);
- every status: 200, 400, 401, 404, 405, 413, 503, 504;
- keep-alive (one connection, many requests), pipelining (many requests in
  one write, answers in order), gzip when accepted, HEAD, /metrics counters
  moving by exactly the requests made, the page's files and their headers;
- hostile clients: a request sent a byte at a time, a silent partial
  request, garbage, a pipelined flood that is never read, clients vanishing
  mid-request; throughout, a well-behaved client keeps getting right answers
  and the daemon's connection count comes back to zero;
- SIGTERM: exits 0.
Prints a closing 'N passed, N failed'; exits non-zero on any failure.
"""

import gzip
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sift  # noqa: E402

SLOW = float(os.environ.get("SIFT_TEST_SLOW", "1"))
OUTLET = "Http Test Wire"
SECRET = "correct horse battery staple"


def strip_took(b):
    return re.sub(rb'"took_us":\d+', b'"took_us":0', b)


class Daemon:
    """sift-searchd with HTTP on loopback; ports read from its log."""

    def __init__(self, index, workdir, name, *args):
        self.log_path = Path(workdir) / (name + ".log")
        self.log = open(self.log_path, "wb")
        cmd = [sift.exe("sift-searchd"), "--index", str(index), "--listen", "127.0.0.1:0",
               "--http", "127.0.0.1:0", "--threads", "2"] + list(args)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.log)
        self.port = self.http_port = None
        deadline = time.time() + 30 * SLOW
        while time.time() < deadline:
            text = self.log_path.read_text(errors="replace")
            m = re.search(r"info listening on 127\.0\.0\.1:(\d+)", text)
            h = re.search(r"http listening on 127\.0\.0\.1:(\d+)", text)
            if m and h:
                self.port, self.http_port = int(m.group(1)), int(h.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.kill()
        raise AssertionError("sift-searchd did not start: " + self.log_path.read_text()[-500:])

    def http(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout * SLOW)

    def get(self, path, headers=None, method="GET", body=None):
        """(status, headers dict lower-cased, body bytes) on a new connection."""
        c = self.http()
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def line(self, req):
        c = sift.Conn(self.port)
        try:
            return c.request(req)
        finally:
            c.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait()

    def wait(self):
        """Its exit status once it ends by itself (None: killed after waiting)."""
        try:
            return self.proc.wait(timeout=30 * SLOW)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def metrics(d):
    st, _, body = d.get("/metrics")
    assert st == 200, "metrics status %d" % st
    out = {}
    for ln in body.decode().splitlines():
        if ln and not ln.startswith("#"):
            k, v = ln.rsplit(" ", 1)
            out[k] = float(v)
    return out


def read_response(sock_file):
    """One HTTP/1.1 response from a socket file: (status, headers, body)."""
    status = sock_file.readline()
    if not status:
        return None
    code = int(status.split()[1])
    headers = {}
    while True:
        ln = sock_file.readline().decode("latin-1").strip()
        if not ln:
            break
        k, v = ln.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    body = sock_file.read(int(headers.get("content-length", "0")))
    return code, headers, body


# ---- fixtures ---------------------------------------------------------------


def write_corpus(tmp):
    gen = tmp / "gen.jsonl"
    with open(gen, "wb") as f:
        p = subprocess.run([sift.exe("sift-gen"), "--docs", "2000", "--seed", "11"], stdout=f)
    if p.returncode != 0 or gen.stat().st_size == 0:
        sift.py_generate(gen, 2000, 11)
    mine = tmp / "mine.jsonl"
    arts = []
    for i in range(25):
        arts.append({"id": "http-%d" % i, "outlet": OUTLET, "date": "2021-03-%02d" % (i + 1),
                     "title": "Lighthouse keeper report %d" % i, "url": "https://example.org/%d" % i,
                     "body": "The lighthouse keeper wrote about the harbour & the storm, part %d." % i})
    arts.append({"id": "http-markup", "outlet": OUTLET, "date": "2021-04-01",
                 "title": "<script>alert('x')</script> lighthouse & <b>bold</b>",
                 "body": "A lighthouse article whose title carries markup <i>and</i> more."})
    with open(mine, "w") as f:
        for a in arts:
            f.write(json.dumps(a) + "\n")
    return [gen, mine], arts


def main():
    res = sift.Results("test_http")
    sift.require_binaries(res, ("sift-indexer", "sift-query", "sift-searchd"))
    tmp = sift.scratch("http")
    files, arts = write_corpus(tmp)
    ndocs = sum(1 for f in files for ln in open(f) if ln.strip())
    index = tmp / "index"
    p = sift.fixture_index(index, files, "--quiet")
    if not res.ok(p.returncode == 0, "sift-indexer builds the index", p.stderr[-300:]):
        res.finish()
    d = Daemon(index, tmp, "main", "--idle-timeout", "2", "--max-connections", "40")
    daemons = [d]
    try:
        run_all(res, d, index, ndocs, arts, tmp, daemons)
    except Exception as e:  # a broken assumption fails the test, never crashes it
        import traceback
        res.fail("unexpected exception", traceback.format_exc())
    finally:
        for x in daemons:
            x.kill()
    res.finish()


def run_all(res, d, index, ndocs, arts, tmp, daemons):
    same_bodies(res, d, index)
    figures(res, d, ndocs, arts)
    statuses(res, d)
    connection_features(res, d)
    metrics_move(res, d)
    page(res, d)
    hostile(res, d)
    auth_and_timeout(res, index, tmp, daemons)
    # SIGTERM with an idle keep-alive connection and one whose request is
    # in hand: the answer comes, both are closed, the daemon exits 0 at once.
    idle = d.http()
    idle.request("GET", "/ping")
    idle.getresponse().read()
    busy = socket.create_connection(("127.0.0.1", d.http_port), timeout=30 * SLOW)
    busy.sendall(b"GET /search?q=the+OR+a&facets=outlet,month,day,author,tag HTTP/1.1\r\nHost: t\r\n\r\n")
    t0 = time.time()
    d.proc.send_signal(signal.SIGTERM)
    got = read_response(busy.makefile("rb"))
    rc = d.wait()  # not stop(): a second SIGTERM while it shuts down would be another test
    took = time.time() - t0
    res.ok(got is not None and got[0] == 200, "SIGTERM: the request in hand is answered")
    res.ok(rc == 0 and took < 3 * SLOW, "SIGTERM with keep-alive connections open: exit 0 in %.2f s" % took,
           "status %r" % rc)
    busy.close()
    idle.close()


# ---- checks -----------------------------------------------------------------

# HTTP path -> the JSON-object request it must equal.
CASES = [
    ("/search?q=lighthouse", {"op": "search", "q": "lighthouse"}),
    ("/search?q=%22lighthouse+keeper%22&limit=3&offset=2&sort=newest",
     {"op": "search", "q": "\"lighthouse keeper\"", "limit": 3, "offset": 2, "sort": "newest"}),
    ("/search?q=the&facets=outlet,month&limit=2",
     {"op": "search", "q": "the", "facets": ["outlet", "month"], "limit": 2}),
    ("/search?q=the&facets=outlet:3,year:all&exact=no&limit=1",
     {"op": "search", "q": "the", "facets": {"outlet": 3, "year": "all"}, "exact": False,
      "limit": 1}),
    ("/search?outlet=" + OUTLET.replace(" ", "+") + "&from=2021-03-05&to=2021-03-09",
     {"op": "search", "outlet": OUTLET, "from": "2021-03-05", "to": "2021-03-09"}),
    ("/search?q=keeper&outlet=" + OUTLET.replace(" ", "%20") + "&outlet=Nope",
     {"op": "search", "q": "keeper", "outlet": [OUTLET, "Nope"]}),
    ("/search?q=lighthouse+zzqx&relax=no", {"op": "search", "q": "lighthouse zzqx", "relax": False}),
    ("/count?q=lighthouse", {"op": "count", "q": "lighthouse"}),
    ("/count?q=caf%C3%A9+OR+harbour", {"op": "count", "q": "café OR harbour"}),
    ("/explain?q=a+OR+%22b+c%22+-d", {"op": "explain", "q": "a OR \"b c\" -d"}),
    ("/get?id=http-3", {"op": "get", "id": "http-3"}),
    ("/get?id=no-such-id", {"op": "get", "id": "no-such-id"}),
    ("/ping", {"op": "ping"}),
    ("/help", {"op": "help"}),
    ("/timeline?q=lighthouse", {"op": "timeline", "q": "lighthouse"}),
    ("/search?q=(", {"op": "search", "q": "("}),
    ("/search?q=x&limit=abc", {"op": "search", "q": "x", "limit": "abc"}),
    ("/search?q=x&bogus=1", {"op": "search", "q": "x", "bogus": "1"}),
    ("/get", {"op": "get"}),
]

STATUS_OF = {None: 200, "bad_request": 400, "bad_query": 400, "unknown_command": 404,
             "not_found": 404, "too_long": 413, "busy": 503, "timeout": 504,
             "unauthorized": 401}


def code_of(body):
    o = json.loads(body)
    return None if o.get("ok") else o["error"]["code"]


def same_bodies(res, d, index):
    lines = [json.dumps(j) for _, j in CASES]
    p = subprocess.run([sift.exe("sift-query"), "--index", str(index)],
                       input="".join(l + "\n" for l in lines).encode(), capture_output=True)
    local = p.stdout.split(b"\n")[:-1]
    res.ok(len(local) == len(lines), "sift-query answered every reference request")
    for k, (path, req) in enumerate(CASES):
        st, hd, body = d.get(path)
        over_tcp = d.line(json.dumps(req))
        res.ok(strip_took(body) == strip_took(over_tcp),
               "GET %s: body equals the line protocol's answer" % path,
               "http %s\nline %s" % (sift.short(body.decode()), sift.short(over_tcp.decode())))
        if k < len(local):
            res.ok(strip_took(body) == strip_took(local[k] + b"\n"),
                   "GET %s: body equals sift-query --index" % path)
        res.ok(st == STATUS_OF.get(code_of(body), 500),
               "GET %s: status %d fits the answer's code %s" % (path, st, code_of(body)))
        res.ok(hd.get("content-type") == "application/json", "GET %s: application/json" % path)
    # POST / with the JSON body itself.
    for _, req in CASES[:3] + CASES[9:11]:
        body = json.dumps(req).encode()
        st, _, got = d.get("/", method="POST", body=body,
                           headers={"Content-Type": "application/json"})
        want = d.line(json.dumps(req))
        res.ok(strip_took(got) == strip_took(want) and st == STATUS_OF.get(code_of(got)),
               "POST / %s: the line protocol's answer" % req)
    # STATS: the same members (figures move between the two calls).
    st, _, body = d.get("/stats")
    line = json.loads(d.line("STATS"))
    res.ok(st == 200 and set(json.loads(body)) == set(line), "GET /stats: STATS's members")


def figures(res, d, ndocs, arts):
    """Figures against the corpus file, not against the daemon."""
    _, _, body = d.get("/stats")
    res.ok(json.loads(body).get("docs") == ndocs, "/stats docs = %d lines of corpus" % ndocs,
           sift.short(body.decode()))
    mine = [a for a in arts if a["outlet"] == OUTLET]
    _, _, body = d.get("/count?outlet=" + OUTLET.replace(" ", "+"))
    res.ok(json.loads(body).get("count") == len(mine), "/count?outlet= counts the outlet's "
           "%d articles" % len(mine), body.decode())
    _, _, body = d.get("/search?outlet=" + OUTLET.replace(" ", "+") +
                       "&from=2021-03-05&to=2021-03-09&sort=oldest")
    want = [a["id"] for a in mine if "2021-03-05" <= a["date"] <= "2021-03-09"]
    got = [h["id"] for h in json.loads(body)["hits"]]
    res.ok(got == want, "/search date range and sort:oldest give the corpus's articles in order",
           "%s vs %s" % (got, want))
    _, _, body = d.get("/get?id=http-markup")
    doc = json.loads(body).get("doc", {})
    res.ok(doc.get("title") == arts[-1]["title"], "/get returns the stored title as written")


def statuses(res, d):
    st, hd, body = d.get("/no/such/endpoint")
    res.ok(st == 404 and code_of(body) == "unknown_command", "unknown path: 404 unknown_command")
    st, _, body = d.get("/search?q=%ZZ")
    res.ok(st == 400 and code_of(body) == "bad_request" and json.loads(body)["error"].get("column") == 3,
           "bad %-escape: 400 naming byte 3", body.decode())
    st, hd, body = d.get("/search", method="PUT", body=b"x")
    res.ok(st == 405 and "GET" in hd.get("allow", ""), "PUT: 405 with Allow", str(hd))
    st, _, body = d.get("/", method="POST", body=b"SEARCH x")
    res.ok(st == 400 and code_of(body) == "bad_request", "POST of a text line: 400")
    st, _, body = d.get("/", method="POST", body=b"{not json")
    res.ok(st == 400 and code_of(body) == "bad_request", "POST of broken JSON: 400")
    long_q = "/search?q=" + "a" * (70 * 1024)
    st, _, body = d.get(long_q)
    res.ok(st == 413 and code_of(body) == "too_long", "URL over --max-line: 413 too_long")
    st, _, body = d.get("/", method="POST", body=b'{"op":"count","q":"' + b"a" * (70 * 1024) + b'"}')
    res.ok(st == 413, "body over --max-line: 413", "status %d" % st)
    # A URL just under the limit is answered.
    st, _, body = d.get("/count?q=" + "a" * 60000)
    res.ok(st == 200, "a 60 KB URL (under 64 KiB) is answered", "status %d" % st)
    # 503 past --max-connections (40): hold 40 open, the 41st gets busy.
    held = []
    try:
        for _ in range(40):
            c = d.http()
            c.request("GET", "/ping")
            c.getresponse().read()
            held.append(c)
        st, _, body = d.get("/ping")
        res.ok(st == 503 and code_of(body) == "busy", "connection 41 of 40: 503 busy",
               "status %d %r" % (st, body[:100]))
    finally:
        for c in held:
            c.close()
    time.sleep(0.3)
    st, _, _ = d.get("/ping")
    res.ok(st == 200, "after the 40 closed, a new connection is served")


def connection_features(res, d):
    # Keep-alive: 50 requests on one connection, one TCP connection.
    c = d.http()
    c.connect()
    local = c.sock.getsockname()
    ok = True
    for i in range(50):
        c.request("GET", "/count?q=lighthouse")
        r = c.getresponse()
        ok &= r.status == 200 and r.read() == b'{"ok":true,"count":26}\n'
    res.ok(ok and c.sock and c.sock.getsockname() == local, "keep-alive: 50 answers on one connection")
    c.close()
    # Pipelining: 100 requests in one write, answered in order.
    paths = ["/count?q=keeper+%d" % (i % 7) if i % 2 else "/get?id=http-%d" % (i % 25)
             for i in range(100)]
    want = [d.line(json.dumps({"op": "count", "q": "keeper %d" % (i % 7)}) if i % 2 else
                   json.dumps({"op": "get", "id": "http-%d" % (i % 25)})) for i in range(100)]
    s = socket.create_connection(("127.0.0.1", d.http_port), timeout=30 * SLOW)
    s.sendall(b"".join(b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % p.encode() for p in paths))
    f = s.makefile("rb")
    got = [read_response(f) for _ in paths]
    s.close()
    res.ok(all(g and g[0] == 200 for g in got) and [g[2] for g in got] == want,
           "pipelining: 100 requests in one write answered in order, line protocol's bodies")
    # gzip when accepted, and only then.
    st, hd, body = d.get("/search?q=the&limit=20", headers={"Accept-Encoding": "gzip"})
    st2, hd2, plain = d.get("/search?q=the&limit=20")
    res.ok(hd.get("content-encoding") == "gzip" and strip_took(gzip.decompress(body)) == strip_took(plain),
           "gzip: compressed when accepted, same body once inflated", str(hd))
    res.ok("content-encoding" not in hd2, "no gzip when not accepted")
    # HEAD: headers, no body.
    st, hd, body = d.get("/ping", method="HEAD")
    res.ok(st == 200 and body == b"", "HEAD /ping: 200 without a body")


def metrics_move(res, d):
    m0 = metrics(d)
    for _ in range(7):
        d.get("/search?q=harbour")
    for _ in range(3):
        d.get("/count?q=(")
    d.line("PING")
    m1 = metrics(d)

    def delta(k):
        return m1.get(k, 0) - m0.get(k, 0)

    res.ok(delta('sift_requests_total{command="search"}') == 7, "metrics: 7 more searches",
           str(delta('sift_requests_total{command="search"}')))
    res.ok(delta('sift_errors_total{code="bad_query"}') == 3, "metrics: 3 more bad_query")
    res.ok(delta('sift_requests_total{command="ping"}') == 1, "metrics: the line protocol's PING counts")
    res.ok(delta('sift_http_responses_total{code="400"}') == 3, "metrics: 3 more HTTP 400")
    # /metrics's own STATS is counted once per scrape; 7 + 3 + 1 + 1.
    res.ok(delta('sift_request_duration_seconds_count') == 12,
           "metrics: the histogram counts every request", str(delta('sift_request_duration_seconds_count')))
    buckets = sorted((float(re.search(r'le="([^"]+)"', k).group(1)), v) for k, v in m1.items()
                     if k.startswith("sift_request_duration_seconds_bucket"))
    res.ok(buckets and all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))
           and buckets[-1][1] == m1["sift_request_duration_seconds_count"],
           "metrics: buckets cumulative up to +Inf = count")
    res.ok(m1.get("sift_index_articles", 0) > 0 and "sift_index_revision" in m1
           and "sift_cache_hits_total" in m1 and "sift_connections" in m1,
           "metrics: index, cache and connection figures")


def page(res, d):
    st, hd, body = d.get("/")
    res.ok(st == 200 and hd.get("content-type", "").startswith("text/html") and b"<html" in body,
           "GET /: the web page")
    csp = hd.get("content-security-policy", "")
    res.ok("script-src 'self'" in csp and "unsafe-inline" not in csp, "the page forbids inline script",
           csp)
    for name, typ in (("/app.js", "text/javascript"), ("/app.css", "text/css")):
        st, hd, body = d.get(name)
        res.ok(st == 200 and hd.get("content-type", "").startswith(typ) and len(body) > 100,
               "GET %s" % name)
    res.ok(b"http://" not in d.get("/")[2] + d.get("/app.js")[2].replace(b"http://127", b""),
           "the page loads nothing from other hosts")


# ---- hostile clients --------------------------------------------------------


class Canary(threading.Thread):
    """A well-behaved client asking every 20 ms on a keep-alive connection."""

    def __init__(self, d):
        super().__init__(daemon=True)
        self.d, self.stop_flag = d, False
        self.ok = self.bad = 0
        self.lat = []
        self.first_bad = None

    def run(self):
        c = None
        while not self.stop_flag:
            t0 = time.time()
            try:
                if c is None:
                    c = self.d.http(timeout=10)
                c.request("GET", "/count?q=lighthouse")
                r = c.getresponse()
                body = r.read()
                if r.status == 200 and body == b'{"ok":true,"count":26}\n':
                    self.ok += 1
                else:
                    self.bad += 1
                    self.first_bad = self.first_bad or (r.status, body[:100])
            except (OSError, http.client.HTTPException) as e:
                # The idle timeout may close a keep-alive connection between
                # two requests: reconnect once, count a failure after that.
                c = None
                try:
                    c = self.d.http(timeout=10)
                    c.request("GET", "/count?q=lighthouse")
                    r = c.getresponse()
                    if r.status == 200 and r.read() == b'{"ok":true,"count":26}\n':
                        self.ok += 1
                        self.lat.append(time.time() - t0)
                        continue
                except (OSError, http.client.HTTPException):
                    c = None
                self.bad += 1
                self.first_bad = self.first_bad or repr(e)
                continue
            self.lat.append(time.time() - t0)
            time.sleep(0.02)
        if c:
            c.close()


def hostile(res, d):
    canary = Canary(d)
    canary.start()
    # The canary holds its connection before the hostile ones come (100
    # vanishing clients alone may fill --max-connections for a moment).
    t0 = time.time()
    while canary.ok == 0 and time.time() - t0 < 10 * SLOW:
        time.sleep(0.01)
    threads = []

    def bg(fn):
        t = threading.Thread(target=fn, daemon=True)
        t.start()
        threads.append(t)

    outcome = {}

    def slowloris():
        # Headers one byte per 100 ms: cut off by the request timeout (2 s).
        s = socket.create_connection(("127.0.0.1", d.http_port), timeout=20)
        req = b"GET /count?q=lighthouse HTTP/1.1\r\nHost: t\r\nX-Pad: " + b"p" * 200 + b"\r\n\r\n"
        t0 = time.time()
        closed = False
        try:
            for b in req:
                s.sendall(bytes([b]))
                time.sleep(0.1)
        except OSError:
            closed = True
        if not closed:
            try:
                s.settimeout(10)
                closed = s.recv(100) == b"" or True
            except OSError:
                closed = True
        outcome["slowloris"] = (closed, time.time() - t0)
        s.close()

    def silent():
        s = socket.create_connection(("127.0.0.1", d.http_port), timeout=20)
        s.sendall(b"GET /se")
        t0 = time.time()
        try:
            data = s.recv(1000)
        except OSError:
            data = b""
        outcome["silent"] = (data, time.time() - t0)
        s.close()

    def garbage():
        s = socket.create_connection(("127.0.0.1", d.http_port), timeout=20)
        s.sendall(bytes(range(256)) * 4 + b"\r\n\r\n")
        data = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        outcome["garbage"] = data
        s.close()

    def flood():
        # 5,000 pipelined requests, never read.
        s = socket.create_connection(("127.0.0.1", d.http_port), timeout=20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s.settimeout(5)
        sent = 0
        try:
            chunk = b"GET /search?q=the&limit=50 HTTP/1.1\r\nHost: t\r\n\r\n" * 100
            for _ in range(50):
                s.sendall(chunk)
                sent += 100
        except OSError:
            pass
        time.sleep(3)
        outcome["flood"] = sent
        s.close()

    def vanish():
        for _ in range(100):
            s = socket.create_connection(("127.0.0.1", d.http_port), timeout=20)
            s.sendall(b"GET /search?q=the+OR+a&facets=outlet,month HTTP/1.1\r\nHost: t\r\n\r\n")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
        outcome["vanish"] = True

    rss0 = proc_rss_mb(d.proc.pid)
    for fn in (slowloris, silent, garbage, flood, vanish):
        bg(fn)
    for t in threads:
        t.join(60 * SLOW)
    rss1 = proc_rss_mb(d.proc.pid)
    canary.stop_flag = True
    canary.join(30)
    closed, took = outcome.get("slowloris", (False, 0))
    res.ok(closed and took < 12, "slowloris: cut off by the request timeout", "%r" % (outcome.get("slowloris"),))
    data, took = outcome.get("silent", (None, 0))
    res.ok(data is not None and 1.5 < took < 8, "silent partial request: closed after ~2 s",
           "%r" % (outcome.get("silent"),))
    g = outcome.get("garbage", b"")
    res.ok(g.startswith(b"HTTP/1.1 400"), "garbage: 400 then closed", repr(g[:80]))
    res.ok(outcome.get("flood", 0) > 0 and outcome.get("vanish"), "flood and vanishing clients ran")
    res.ok(d.proc.poll() is None, "the daemon survived the hostile clients")
    lat = sorted(canary.lat)
    p99 = lat[int(len(lat) * 0.99)] if lat else None
    res.ok(canary.ok > 20 and canary.bad == 0 and p99 is not None and p99 < 0.5 * SLOW,
           "canary: %d right answers, %d wrong, p99 %s ms" % (
               canary.ok, canary.bad, p99 and round(p99 * 1000, 1)), repr(canary.first_bad))
    res.note("hostile: canary %d answers, p99 %.1f ms; RSS %s -> %s MB" % (
        canary.ok, (p99 or 0) * 1000, rss0, rss1))
    res.ok(rss1 is not None and rss0 is not None and rss1 - rss0 < 100,
           "resident size grew less than 100 MB", "%s -> %s" % (rss0, rss1))
    # Every hostile connection ends: the count comes back to the scraper's own.
    deadline = time.time() + 15 * SLOW
    conns = None
    while time.time() < deadline:
        conns = metrics(d).get("sift_connections")
        if conns == 1:
            break
        time.sleep(0.3)
    res.ok(conns == 1, "connections back to 1 (the scrape's own)", "sift_connections %s" % conns)


def proc_rss_mb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    return int(ln.split()[1]) // 1024
    except OSError:
        return None
    return None


def auth_and_timeout(res, index, tmp, daemons):
    secret = tmp / "secret"
    secret.write_text(SECRET + "\n")
    a = Daemon(index, tmp, "auth", "--auth-file", str(secret))
    daemons.append(a)
    st, hd, body = a.get("/count?q=lighthouse")
    res.ok(st == 401 and code_of(body) == "unauthorized" and hd.get("www-authenticate") == "Bearer",
           "no Authorization: 401 unauthorized with WWW-Authenticate: Bearer")
    st, _, _ = a.get("/count?q=lighthouse", headers={"Authorization": "Bearer wrong"})
    res.ok(st == 401, "wrong secret: 401")
    st, _, _ = a.get("/metrics", headers={"Authorization": "Basic " + SECRET})
    res.ok(st == 401, "/metrics needs the secret too; Basic is not Bearer")
    st, _, body = a.get("/count?q=lighthouse", headers={"Authorization": "Bearer " + SECRET})
    res.ok(st == 200 and body == b'{"ok":true,"count":26}\n', "right Bearer secret: answered")
    st, _, _ = a.get("/")
    res.ok(st == 200, "the page itself (no data) needs no secret")
    res.ok(a.stop() == 0, "auth daemon: SIGTERM exit 0")
    # 504: a 1 ms query limit, the cache off, costly queries: each answer
    # that is a timeout over the line protocol is a 504 over HTTP, and some are.
    t = Daemon(index, tmp, "timeout", "--query-timeout", "1", "--cache-mb", "0",
               "--inline-budget", "0")
    daemons.append(t)
    words = "+OR+".join(["the", "a", "of", "to", "and", "in", "is", "for", "that", "was"] * 5)
    seen = {}
    for i in range(30):
        st, _, body = t.get("/search?q=%s+OR+w%d&facets=outlet,month,day,author,tag&limit=1000" % (words, i))
        seen.setdefault(code_of(body), set()).add(st)
    res.ok("timeout" in seen and seen["timeout"] == {504} and seen.get(None, {200}) == {200},
           "timeouts are 504, answers 200", repr(seen))
    res.ok(t.stop() == 0, "timeout daemon: SIGTERM exit 0")


if __name__ == "__main__":
    main()
