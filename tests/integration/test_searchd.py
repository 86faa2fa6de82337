#!/usr/bin/env python3
"""test_searchd: sift-searchd over the wire, against sift-query's local mode.

Builds a small index (sift-gen --docs 2000 --seed 7, plus the kit's
corpus/sample.jsonl when present), starts sift-searchd on 127.0.0.1 port 0
(the port is read from its "listening on HOST:PORT" log line) and on a Unix
socket, and checks the line protocol of SPEC.md: every command in text and
JSON form answers byte for byte like `sift-query --index DIR` batch mode
(which runs the same protocol module in-process), took_us aside; framing
(pipelining, 1-byte writes, CRLF, over-long lines, invalid UTF-8); limits
(connections, a client that does not read); concurrency; index reloads while
clients query (timer and SIGHUP); SIGTERM with requests in flight.

Environment: SIFT_BIN (default <repo>/build/bin), SIFT_KIT (default
<repo>/../shared), SIFT_TMP (scratch; default a temporary directory).
Prints one line per test and a closing 'N passed, N failed'; exits non-zero
on any failure.  Every server it starts listens on loopback and is killed
at the end.
"""

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sift  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("SIFT_BIN") or REPO / "build" / "bin")
KIT = Path(os.environ.get("SIFT_KIT") or REPO.parent / "shared")
SAMPLE = KIT / "corpus" / "sample.jsonl"

# Sanitizer builds are several times slower: scale the waits.
SLOW = float(os.environ.get("SIFT_TEST_SLOW", "1"))

_servers = []


def exe(name):
    return str(BIN / name)


def tmp_root():
    base = os.environ.get("SIFT_TMP")
    if base:
        root = Path(base) / "searchd"
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        return root, False
    return Path(tempfile.mkdtemp(prefix="sift-searchd-")), True


def strip_took(line):
    return re.sub(rb'"took_us":\d+', b'"took_us":0', line)


# ---- the server -------------------------------------------------------------


class Server:
    """A sift-searchd process; its stderr goes to a log file."""

    def __init__(self, index, workdir, *args, unix=True, threads=2):
        """unix: True for a socket of its own in workdir, a path, or False."""
        self.log_path = Path(workdir) / ("searchd-%d.log" % (len(_servers) + 1))
        if isinstance(unix, str):
            self.unix_path = unix
        else:
            self.unix_path = str(Path(workdir) / ("s%d.sock" % (len(_servers) + 1))) if unix else None
        cmd = [exe("sift-searchd"), "--index", str(index), "--listen", "127.0.0.1:0",
               "--threads", str(threads), "--log-level", "debug"]
        if self.unix_path:
            cmd += ["--unix", self.unix_path]
        cmd += list(args)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.log)
        _servers.append(self)
        self.port = None
        deadline = time.time() + 30 * SLOW
        while time.time() < deadline:
            text = self.log_text()
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", text)
            if m and (not self.unix_path or "listening on unix:" in text):
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                raise AssertionError("sift-searchd exited with %s: %s"
                                     % (self.proc.returncode, text.strip()[-500:]))
            time.sleep(0.02)
        if self.port is None:
            raise AssertionError("sift-searchd did not log its address: " + self.log_text()[-500:])

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def connect(self, unix=False, timeout=30, rcvbuf=None):
        return Conn(self, unix, timeout, rcvbuf)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=20):
        """SIGTERM, then the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("sift-searchd did not exit after SIGTERM")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def Conn(server, unix=False, timeout=30, rcvbuf=None):
    """A connection to server over TCP or its Unix socket."""
    return sift.Conn(server.unix_path if unix else server.port, timeout, rcvbuf)


def reference(index, lines):
    """sift-query --index batch mode: the response line of each request."""
    data = b"".join((l.encode() if isinstance(l, str) else l) + b"\n" for l in lines)
    p = subprocess.run([exe("sift-query"), "--index", str(index)], input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    out = p.stdout.split(b"\n")
    assert out and out[-1] == b"", "sift-query output does not end with a newline"
    out = [l + b"\n" for l in out[:-1]]
    assert len(out) == len(lines), "sift-query answered %d of %d requests (%s)" % (
        len(out), len(lines), p.stderr.decode(errors="replace").strip()[-300:])
    return out


def error_code(line):
    obj = json.loads(line)
    assert obj.get("ok") is False, "expected an error, got %r" % line[:200]
    return obj["error"]["code"]


# ---- fixtures ---------------------------------------------------------------


class Env:
    pass


def article(i, word, day):
    return json.dumps({
        "id": "searchd-test-%s-%d" % (word, i), "outlet": "Searchd Test Wire",
        "date": "2024-02-%02d" % day, "title": "%s report number %d" % (word.capitalize(), i),
        "url": "https://example.org/%s/%d" % (word, i), "lang": "en", "tags": ["testing"],
        "body": "The %s committee met again.\nA second paragraph about %s and hospitals." % (word, word),
    }) + "\n"


def setup(env):
    env.tmp, env.own_tmp = tmp_root()
    corpus = []
    gen = env.tmp / "gen.jsonl"
    with open(gen, "wb") as f:
        p = subprocess.run([exe("sift-gen"), "--docs", "2000", "--seed", "7"], stdout=f,
                           stderr=subprocess.PIPE, timeout=300)
    if p.returncode == 0 and gen.stat().st_size > 0:
        corpus.append(str(gen))
    else:
        print("note: sift-gen --docs 2000 --seed 7 failed (status %s%s); indexing the kit "
              "sample only" % (p.returncode, (": " + p.stderr.decode(errors="replace").strip()[:200])
                               if p.stderr.strip() else ""))
    if SAMPLE.is_file():
        corpus.append(str(SAMPLE))
    if not corpus:
        raise AssertionError("no corpus: sift-gen failed and %s is absent" % SAMPLE)
    env.index = env.tmp / "index"
    p = subprocess.run([sift.fixture_indexer(), "--index", str(env.index)] + corpus,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900)
    assert p.returncode == 0, "sift-indexer failed: " + p.stderr.decode(errors="replace")[-500:]
    # Ids and words that exist, for GET and searches.
    env.ids = []
    env.outlets = []
    for path in corpus:
        with open(path, "rb") as f:
            for i, raw in enumerate(f):
                if i >= 40:
                    break
                try:
                    doc = json.loads(raw)
                except ValueError:
                    continue
                env.ids.append(doc["id"])
                if doc.get("outlet"):
                    env.outlets.append(doc["outlet"])
    assert env.ids, "no article ids in the corpus"
    env.server = Server(env.index, env.tmp)


def requests_all(env):
    """Request lines exercising every command, text and JSON forms."""
    id0, id1 = env.ids[0], env.ids[-1]
    outlet = env.outlets[0] if env.outlets else "Fox News"
    return [
        "PING", "ping", "Ping", "HELP", "help",
        "SEARCH trump", "search trump", "Search election facets:outlet,month",
        "SEARCH \"white house\" limit:5", "SEARCH title:election sort:newest limit:3",
        "SEARCH outlet:\"%s\" sort:oldest" % outlet, "SEARCH hospit* limit:2",
        "SEARCH date:2016 facets:year,tag", "SEARCH trump OR clinton -obama limit:20 offset:5",
        "SEARCH (", "SEARCH date:2023-13", "SEARCH frobnicate:x", "SEARCH",
        "COUNT trump", "count election", "COUNT outlet:\"%s\"" % outlet, "COUNT date:..2015",
        "COUNT \"unbalanced",
        "GET %s" % id0, "get %s" % id1, "GET no-such-article", "GET",
        "EXPLAIN \"gaza city\" OR hospital -trump", "explain title:vote date:2016-01..2016-06",
        "EXPLAIN )",
        "STATS extra", "PING extra", "FOO bar", "", "   ",
        json.dumps({"op": "search", "q": "trump", "limit": 3}),
        json.dumps({"op": "search", "q": "\"gaza city\"", "outlet": ["Al Jazeera"],
                    "from": "2023-11-01", "to": "2023-11-30", "limit": 10, "offset": 0,
                    "sort": "newest", "facets": ["outlet", "month"]}),
        json.dumps({"op": "search", "q": "election", "facets": {"outlet": 3}, "sort": "oldest"}),
        json.dumps({"op": "count", "q": "election", "outlet": outlet}),
        json.dumps({"op": "get", "id": id0}),
        json.dumps({"op": "get"}),
        json.dumps({"op": "explain", "q": "a OR b"}),
        json.dumps({"op": "ping"}), json.dumps({"op": "help"}), json.dumps({"op": "PING"}),
        json.dumps({"op": "frobnicate"}), json.dumps({"q": "x"}), "{not json",
        json.dumps({"op": "search", "q": "x", "bogus": 1}),
        b"SEARCH caf\xc3\xa9 limit:2", b"SEARCH \xff\xfe broken", b"GET \xc0\x80",
    ]


# ---- tests ------------------------------------------------------------------


def test_commands_match_local_mode_tcp(env):
    reqs = requests_all(env)
    want = [strip_took(l) for l in reference(env.index, reqs)]
    c = env.server.connect()
    c.send(b"".join((r.encode() if isinstance(r, str) else r) + b"\n" for r in reqs))
    got = [strip_took(l) for l in c.lines(len(reqs))]
    c.close()
    for r, g, w in zip(reqs, got, want):
        assert g == w, "request %r:\n searchd: %r\n local:   %r" % (r, g[:300], w[:300])


def test_commands_match_local_mode_unix(env):
    reqs = requests_all(env)
    want = [strip_took(l) for l in reference(env.index, reqs)]
    c = env.server.connect(unix=True)
    got = [strip_took(c.request(r)) for r in reqs]  # one at a time this time
    c.close()
    for r, g, w in zip(reqs, got, want):
        assert g == w, "request %r:\n searchd: %r\n local:   %r" % (r, g[:300], w[:300])


def test_unix_socket_is_private(env):
    mode = os.stat(env.server.unix_path).st_mode & 0o777
    assert mode == 0o600, "socket mode %o" % mode


def test_stats_has_index_and_server_figures(env):
    c = env.server.connect()
    c.request("SEARCH stats-cache-probe limit:1")
    c.request("SEARCH stats-cache-probe limit:1")
    got = json.loads(c.request("STATS"))
    c.close()
    want = json.loads(reference(env.index, ["STATS"])[0])
    for k, v in want.items():
        assert got.get(k) == v, "STATS %s: searchd %r, local %r" % (k, got.get(k), v)
    for k in ("uptime_s", "threads", "connections_current", "connections_total", "requests",
              "errors", "latency_us", "cache", "reloads", "answered_on_loop",
              "matched_on_threads", "loop_polls", "loop_poll_hits"):
        assert k in got, "STATS lacks %s: %r" % (k, got)
    assert got["threads"] == 2 and got["connections_current"] >= 1
    assert got["requests"]["search"] >= 2 and got["requests"]["stats"] >= 1
    for p in ("p50", "p90", "p99"):
        assert isinstance(got["latency_us"][p], int)
    assert got["cache"]["hits"] >= 1, got["cache"]
    assert 0 <= got["cache"]["hit_rate"] <= 1


def answered_on_loop(c):
    return json.loads(c.request("STATS"))["answered_on_loop"]


def test_loop_answers_cheap_requests_itself(env):
    """With no worker busy, a request within --inline-budget is answered on
    the event-loop thread, a costlier one by a worker, with the same answer
    either way; budget 0 sends everything to the workers."""
    reqs = requests_all(env)
    want = [strip_took(l) for l in reference(env.index, reqs)]
    # default budget, one request at a time: each is answered on the loop
    c = env.server.connect()
    before = answered_on_loop(c)
    for r in ("SEARCH trump limit:1", "COUNT election", "GET %s" % env.ids[0], "PING"):
        c.request(r)
    assert answered_on_loop(c) - before == 5, "4 requests and a STATS"
    c.close()
    # budget 1: any search for a word that exists costs more, and goes to a
    # worker; a word in no article costs nothing, and stays on the loop
    s = Server(env.index, env.tmp, "--inline-budget", "1", unix=False)
    c = s.connect()
    got = [strip_took(c.request(r)) for r in reqs]
    for r, g, w in zip(reqs, got, want):
        assert g == w, "request %r:\n searchd: %r\n local:   %r" % (r, g[:300], w[:300])
    # (a line not asked before: a cached answer is served on the loop)
    before = answered_on_loop(c)
    c.request("SEARCH trump limit:7")
    n = answered_on_loop(c) - before
    assert n == 1, "SEARCH trump went to a worker (%d on the loop, not 1)" % n
    c.request("COUNT zzqxnotaword")
    n = answered_on_loop(c) - before
    assert n == 3, "COUNT of an absent word stayed on the loop (%d, not 3)" % n
    c.close()
    assert s.stop() == 0
    s = Server(env.index, env.tmp, "--inline-budget", "0", unix=False)
    c = s.connect()
    c.request("PING")
    c.request("COUNT zzqxnotaword")
    assert answered_on_loop(c) == 0
    c.close()
    assert s.stop() == 0


def polls(c):
    got = json.loads(c.request("STATS"))
    return got["loop_polls"], got["loop_poll_hits"]


def test_loop_polls_for_a_quick_client(env):
    """A request that comes within --spin-us of the answer before it makes
    the loop poll for the next one instead of sleeping (server.c): a quick
    client's requests then come while it polls.  One after a longer pause
    starts no polling; --spin-us 0 never polls.  Answers are the same."""
    reqs = requests_all(env)
    want = [strip_took(l) for l in reference(env.index, reqs)]
    # a window far above a Python client's turn, sanitized builds included
    s = Server(env.index, env.tmp, "--spin-us", "20000", unix=False)
    c = s.connect()
    p0, h0 = polls(c)
    got = [strip_took(c.request(r)) for r in reqs]
    for r, g, w in zip(reqs, got, want):
        assert g == w, "request %r:\n searchd: %r\n local:   %r" % (r, g[:300], w[:300])
    p1, h1 = polls(c)
    n = len(reqs)
    # every request came within the window: the idle moment after each
    # starts a poll and the next request comes during it (not always: a
    # worker's answer can reach the client before the loop sees it idle)
    assert p1 - p0 >= n // 2 and h1 - h0 >= n // 2, (p0, h0, p1, h1, n)
    assert h1 <= p1
    time.sleep(0.2)  # ten windows: the poll after the last STATS has ended
    c.request("SEARCH trump limit:1")  # a pause before it: no poll after it
    p2, h2 = polls(c)
    assert (p2, h2) == (p1 + 1, h1), "after a pause: %r, before it %r" % ((p2, h2), (p1, h1))
    c.close()
    assert s.stop() == 0
    s = Server(env.index, env.tmp, "--spin-us", "0", unix=False)
    c = s.connect()
    for r in reqs[:20]:
        c.request(r)
    assert polls(c) == (0, 0)
    c.close()
    assert s.stop() == 0


def test_quit_answers_then_closes(env):
    c = env.server.connect()
    c.send(b"PING\nQUIT\nPING\n")
    assert c.readline() == b'{"ok":true}\n'
    assert c.readline() == b'{"ok":true}\n'
    assert c.at_eof(), "data after QUIT: %r" % c.buf[:200]
    c.close()
    c = env.server.connect(unix=True)
    assert c.request('{"op":"quit"}') == b'{"ok":true}\n'
    assert c.at_eof()
    c.close()


def test_pipelining_200_requests_in_one_write(env):
    rnd = random.Random(3)
    words = ["trump", "election", "health", "vote", "court", "senate", "tax", "war", "police",
             "school", "climate", "border", "market", "china", "russia", "iran"]
    reqs = []
    for i in range(200):
        w = rnd.choice(words)
        reqs.append(rnd.choice(["COUNT %s" % w, "SEARCH %s limit:%d offset:%d" % (w, 1 + i % 4, i % 7),
                                "PING", json.dumps({"op": "count", "q": w + " OR " + rnd.choice(words)})]))
    want = [strip_took(l) for l in reference(env.index, reqs)]
    c = env.server.connect()
    c.send("".join(r + "\n" for r in reqs).encode())
    got = [strip_took(l) for l in c.lines(len(reqs))]
    c.close()
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, "response %d (%s) out of order or wrong: %r" % (i, reqs[i], g[:200])


def test_request_split_into_1_byte_writes(env):
    reqs = ["SEARCH election facets:outlet limit:2", "COUNT trump"]
    want = [strip_took(l) for l in reference(env.index, reqs)]
    c = env.server.connect()
    data = "".join(r + "\n" for r in reqs).encode()
    for i in range(len(data)):
        c.send(data[i:i + 1])
        if i % 8 == 0:
            time.sleep(0.001)
    got = [strip_took(l) for l in c.lines(2)]
    c.close()
    assert got == want, got


def test_crlf_lines(env):
    reqs = ["PING", "COUNT trump", "search election limit:1", '{"op":"count","q":"vote"}']
    want = [strip_took(l) for l in reference(env.index, reqs)]
    c = env.server.connect()
    c.send("".join(r + "\r\n" for r in reqs).encode())
    got = [strip_took(l) for l in c.lines(len(reqs))]
    c.close()
    assert got == want, got


def test_over_long_line_answers_too_long_then_closes(env):
    c = env.server.connect()
    c.send(b"PING\nSEARCH " + b"a" * 70000 + b"\nPING\n")
    assert c.readline() == b'{"ok":true}\n', "the request before the long line was not answered"
    assert error_code(c.readline()) == "too_long"
    assert c.at_eof(), "the connection stayed open after too_long: %r" % c.buf[:100]
    c.close()
    # No line end at all: the server must not wait for one.
    c = env.server.connect()
    c.send(b"COUNT " + b"b" * 200000)
    assert error_code(c.readline()) == "too_long"
    assert c.at_eof()
    c.close()
    # A line of exactly the limit is a request like any other.
    c = env.server.connect()
    line = b"COUNT " + b"c" * (65536 - 6)
    assert len(line) == 65536
    resp = c.request(line)
    assert json.loads(resp).get("ok") is True, resp[:200]
    assert c.request("PING") == b'{"ok":true}\n'
    c.close()


def test_half_closed_client_gets_every_answer(env):
    reqs = ["PING", "COUNT trump", "SEARCH election limit:2"]
    want = [strip_took(l) for l in reference(env.index, reqs)]
    for unix in (False, True):
        c = env.server.connect(unix=unix)
        # The last line has no line end: it is answered all the same.
        c.send("\n".join(reqs).encode())
        c.sock.shutdown(socket.SHUT_WR)
        got = [strip_took(l) for l in c.lines(len(reqs))]
        assert got == want, got
        assert c.at_eof()
        c.close()


def test_invalid_utf8_is_an_error_and_connection_stays_usable(env):
    c = env.server.connect()
    assert error_code(c.request(b"SEARCH \xff\xfe\xfd")) == "bad_request"
    assert error_code(c.request(b"\xc3\x28")) in ("bad_request", "unknown_command")
    assert c.request("PING") == b'{"ok":true}\n'
    c.close()


def test_unknown_command(env):
    c = env.server.connect()
    assert error_code(c.request("FROBNICATE now")) == "unknown_command"
    assert error_code(c.request('{"op":"frobnicate"}')) == "unknown_command"
    assert c.request("ping") == b'{"ok":true}\n'
    c.close()


def test_8_concurrent_clients_100_requests_each(env):
    words = ["trump", "election", "health", "vote", "court", "senate", "tax", "war", "police",
             "school", "climate", "border"]
    pool = (["COUNT %s" % w for w in words] + ["SEARCH %s limit:3" % w for w in words]
            + ["GET %s" % i for i in env.ids[:6]] + ["PING", "EXPLAIN trump OR vote"])
    want = dict(zip(pool, (strip_took(l) for l in reference(env.index, pool))))
    errors = []

    def client(n):
        rnd = random.Random(n)
        try:
            c = env.server.connect(unix=(n % 2 == 1))
            done = 0
            while done < 100:
                batch = [rnd.choice(pool) for _ in range(rnd.randint(1, 10))][:100 - done]
                c.send("".join(r + "\n" for r in batch).encode())
                for r in batch:
                    g = strip_took(c.readline())
                    if g != want[r]:
                        errors.append("client %d, %s: %r" % (n, r, g[:200]))
                done += len(batch)
            c.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append("client %d: %r" % (n, e))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120 * SLOW)
    assert not errors, errors[:5]


def test_client_that_does_not_read_costs_only_itself(env):
    s = Server(env.index, env.tmp, "--max-output", "64K", "--max-pipeline", "16", unix=False)
    try:
        hog = s.connect(rcvbuf=32768)
        n = 1000
        reqs = "".join("SEARCH trump OR election limit:50 offset:%d\n" % (i % 50) for i in range(n))
        sender = threading.Thread(target=lambda: hog.send(reqs.encode()))
        sender.start()
        time.sleep(0.5)
        c = s.connect()
        for _ in range(20):
            t0 = time.time()
            assert c.request("COUNT trump").startswith(b'{"ok":true')
            assert time.time() - t0 < 2 * SLOW, "a polite client waited behind a hog"
        st = json.loads(c.request("STATS"))
        assert st["requests_total"] < n, "the hog's requests all ran without it reading"
        c.close()
        got = hog.lines(n)
        sender.join(30)
        assert all(l.startswith(b'{"ok":true,"total":') for l in got)
        offs = [json.loads(l)["offset"] for l in got]
        assert offs == [i % 50 for i in range(n)], "responses out of order"
        hog.close()
        assert s.stop() == 0
    finally:
        s.kill()


def test_clients_vanishing_mid_pipeline_harm_nobody(env):
    heavy = "".join("SEARCH trump OR election OR vote facets:outlet,month limit:100 offset:%d\n" % i
                    for i in range(30)).encode()
    for i in range(40):
        c = env.server.connect(unix=(i % 2 == 1))
        c.send(heavy)
        if i % 3 == 0:
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        c.close()  # some with RST, some with FIN, requests at the workers
    c = env.server.connect()
    c.send(b"COUNT trump\nQUIT\n" + heavy)
    assert c.readline().startswith(b'{"ok":true,"count":')
    assert c.readline() == b'{"ok":true}\n'
    assert c.at_eof(), "answers after QUIT"
    c.close()
    c = env.server.connect()
    assert c.request("PING") == b'{"ok":true}\n'
    st = json.loads(c.request("STATS"))
    c.close()
    deadline = time.time() + 10 * SLOW
    while st["connections_current"] > 1:
        assert time.time() < deadline, "connections not released: %r" % st["connections_current"]
        time.sleep(0.1)
        c = env.server.connect()
        st = json.loads(c.request("STATS"))
        c.close()


def test_idle_timeout(env):
    s = Server(env.index, env.tmp, "--idle-timeout", "1", unix=False)
    try:
        c = s.connect()
        assert c.request("PING") == b'{"ok":true}\n'
        t0 = time.time()
        assert c.at_eof()
        assert 0.5 < time.time() - t0 < 5 * SLOW
        c.close()
        assert s.stop() == 0
    finally:
        s.kill()


def test_max_connections_answers_busy(env):
    s = Server(env.index, env.tmp, "--max-connections", "2", unix=False)
    try:
        a, b = s.connect(), s.connect()
        assert a.request("PING") == b'{"ok":true}\n'
        assert b.request("PING") == b'{"ok":true}\n'
        c = s.connect()
        assert error_code(c.readline()) == "busy"
        assert c.at_eof()
        c.close()
        a.close()
        time.sleep(0.3)
        d = s.connect()
        assert d.request("PING") == b'{"ok":true}\n'
        d.close()
        b.close()
        assert s.stop() == 0
    finally:
        s.kill()


def run_indexer(index, path):
    p = subprocess.run([exe("sift-indexer"), "--index", str(index), str(path)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    assert p.returncode == 0, "sift-indexer: " + p.stderr.decode(errors="replace")[-300:]


class Hammer:
    """Clients querying in a loop; every answer must be ok."""

    def __init__(self, server, n=3):
        self.stop = False
        self.failures = []
        self.count = 0
        self.threads = [threading.Thread(target=self.run, args=(server, i)) for i in range(n)]
        for t in self.threads:
            t.start()

    def run(self, server, i):
        reqs = ["SEARCH hospitals limit:5", "COUNT committee", "SEARCH trump facets:outlet",
                "STATS", "GET %s" % "no-such-id"]
        try:
            c = server.connect(unix=(i % 2 == 1 and server.unix_path is not None))
            while not self.stop:
                for r in reqs:
                    resp = c.request(r)
                    obj = json.loads(resp)
                    if not obj.get("ok") and not (r.startswith("GET") and
                                                  obj["error"]["code"] == "not_found"):
                        self.failures.append((r, resp[:200]))
                    self.count += 1
            c.close()
        except Exception as e:  # noqa: BLE001
            self.failures.append(("client %d" % i, repr(e)))

    def finish(self):
        self.stop = True
        for t in self.threads:
            t.join(60)
        return self.failures


def count_of(conn, word):
    return json.loads(conn.request("COUNT %s" % word))["count"]


def test_reload_by_timer_while_clients_query(env):
    index = env.tmp / "index-reload"
    shutil.copytree(env.index, index)
    s = Server(index, env.tmp, "--reload-interval", "1", unix=True)
    try:
        c = s.connect()
        assert count_of(c, "zorblaxian") == 0
        assert count_of(c, "zorblaxian") == 0  # now cached
        h = Hammer(s)
        time.sleep(0.5)
        new = env.tmp / "new1.jsonl"
        new.write_text("".join(article(i, "zorblaxian", 1 + i % 28) for i in range(30)))
        run_indexer(index, new)
        deadline = time.time() + 10 * SLOW
        while count_of(c, "zorblaxian") != 30:
            assert time.time() < deadline, "new articles not found 10 s after indexing"
            time.sleep(0.1)
        doc = json.loads(c.request("GET searchd-test-zorblaxian-3"))
        assert doc["ok"] and doc["doc"]["title"] == "Zorblaxian report number 3", doc
        time.sleep(0.5)
        failures = h.finish()
        assert not failures, failures[:5]
        assert h.count > 0
        st = json.loads(c.request("STATS"))
        assert st["reloads"] >= 1 and st["docs"] == json.loads(reference(index, ["STATS"])[0])["docs"]
        c.close()
        assert s.stop() == 0
    finally:
        s.kill()


def test_reload_on_sighup(env):
    index = env.tmp / "index-hup"
    shutil.copytree(env.index, index)
    s = Server(index, env.tmp, "--reload-interval", "0", unix=False)
    try:
        c = s.connect()
        assert count_of(c, "quuxifrage") == 0
        h = Hammer(s, 2)
        new = env.tmp / "new2.jsonl"
        new.write_text("".join(article(i, "quuxifrage", 1 + i % 28) for i in range(12)))
        run_indexer(index, new)
        s.signal(signal.SIGHUP)
        deadline = time.time() + 2 * SLOW
        while count_of(c, "quuxifrage") != 12:
            assert time.time() < deadline, "new articles not found 2 s after SIGHUP"
            time.sleep(0.05)
        failures = h.finish()
        assert not failures, failures[:5]
        c.close()
        assert s.stop() == 0
        assert "SIGHUP" in s.log_text()
    finally:
        s.kill()


def test_sigterm_answers_requests_in_flight_then_exits_0(env):
    s = Server(env.index, env.tmp, "--shutdown-timeout", "0", unix=True, threads=1)
    try:
        n = 40
        conns = [s.connect(unix=(i == 2)) for i in range(3)]
        reqs = ["SEARCH trump OR election OR vote facets:outlet,month limit:30 offset:%d" % i
                for i in range(n)]
        for c in conns:
            c.send("".join(r + "\n" for r in reqs).encode())
        for c in conns:
            first = c.readline()
            assert first.startswith(b'{"ok":true'), first[:200]
        idle = s.connect()
        assert idle.request("PING") == b'{"ok":true}\n'
        s.signal(signal.SIGTERM)
        for c in conns:
            rest = c.lines(n - 1)
            for i, l in enumerate(rest):
                obj = json.loads(l)
                assert obj["ok"] and obj["offset"] == i + 1, l[:200]
            assert c.at_eof(), "connection not closed after the last response"
            c.close()
        assert idle.at_eof()
        idle.close()
        rc = s.proc.wait(timeout=20 * SLOW)
        assert rc == 0, "exit status %d" % rc
        assert not os.path.exists(s.unix_path), "the socket file was left behind"
    finally:
        s.kill()


def test_sigterm_does_not_wait_for_a_client_that_does_not_read(env):
    s = Server(env.index, env.tmp, "--max-output", "64K", "--shutdown-timeout", "1", unix=False)
    try:
        hog = s.connect(rcvbuf=16384)
        reqs = "".join("SEARCH trump OR election limit:50 offset:%d\n" % (i % 50) for i in range(600))
        threading.Thread(target=lambda: hog.sock.sendall(reqs.encode()), daemon=True).start()
        c = s.connect()
        assert c.request("PING") == b'{"ok":true}\n'
        time.sleep(0.5)
        t0 = time.time()
        s.signal(signal.SIGTERM)
        assert c.at_eof()
        rc = s.proc.wait(timeout=20 * SLOW)
        assert rc == 0, "exit status %d" % rc
        assert time.time() - t0 < 6 * SLOW, "shutdown waited %.1f s" % (time.time() - t0)
        hog.close()
        c.close()
    finally:
        s.kill()


def test_command_line(env):
    def run(*args):
        return subprocess.run([exe("sift-searchd")] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60)

    p = run("--help")
    assert p.returncode == 0 and b"--index" in p.stdout
    p = run("--version")
    assert p.returncode == 0 and p.stdout.startswith(b"sift-searchd ")
    for args in (["--bogus"], [], ["--index", str(env.index), "--threads", "x"],
                 ["--index", str(env.index), "--listen", "nohostport"],
                 ["--index", str(env.index), "--log-level", "loud"]):
        p = run(*args)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert p.stderr.count(b"\n") == 1, p.stderr
    p = run("--index", str(env.index), "--listen", "0.0.0.0:0")
    assert p.returncode == 2 and b"--insecure-bind" in p.stderr, p.stderr
    p = run("--index", str(env.tmp / "no-such-index"), "--listen", "127.0.0.1:0")
    assert p.returncode == 1 and p.stderr.count(b"\n") == 1, (p.returncode, p.stderr)
    p = run("--index", str(env.index), "--listen", "127.0.0.1:%d" % env.server.port)
    assert p.returncode == 1 and p.stderr.count(b"\n") == 1, (p.returncode, p.stderr)
    foreign = env.tmp / "foreign"
    foreign.mkdir(exist_ok=True)
    (foreign / "readme.txt").write_text("not an index")
    p = run("--index", str(foreign), "--listen", "127.0.0.1:0")
    assert p.returncode == 1 and p.stderr.count(b"\n") == 1, (p.returncode, p.stderr)


def test_stale_socket_file_is_replaced(env):
    path = str(env.tmp / "stale.sock")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)
    dead.close()  # leaves the file, nobody listening
    s = Server(env.index, env.tmp, unix=path)  # waits for "listening on unix:"
    try:
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(10)
        c.connect(path)
        c.sendall(b"PING\n")
        assert c.recv(100) == b'{"ok":true}\n'
        c.close()
        assert s.stop() == 0
    finally:
        s.kill()


TESTS = [
    test_commands_match_local_mode_tcp,
    test_commands_match_local_mode_unix,
    test_unix_socket_is_private,
    test_stats_has_index_and_server_figures,
    test_loop_answers_cheap_requests_itself,
    test_loop_polls_for_a_quick_client,
    test_quit_answers_then_closes,
    test_pipelining_200_requests_in_one_write,
    test_request_split_into_1_byte_writes,
    test_crlf_lines,
    test_over_long_line_answers_too_long_then_closes,
    test_half_closed_client_gets_every_answer,
    test_invalid_utf8_is_an_error_and_connection_stays_usable,
    test_unknown_command,
    test_8_concurrent_clients_100_requests_each,
    test_client_that_does_not_read_costs_only_itself,
    test_clients_vanishing_mid_pipeline_harm_nobody,
    test_idle_timeout,
    test_max_connections_answers_busy,
    test_reload_by_timer_while_clients_query,
    test_reload_on_sighup,
    test_sigterm_answers_requests_in_flight_then_exits_0,
    test_sigterm_does_not_wait_for_a_client_that_does_not_read,
    test_command_line,
    test_stale_socket_file_is_replaced,
]


def main():
    only = sys.argv[1:]
    passed = failed = 0
    env = Env()
    t_start = time.time()
    try:
        try:
            setup(env)
        except Exception:  # noqa: BLE001
            traceback.print_exc()
            print("FAIL setup")
            print("0 passed, 1 failed")
            return 1
        for t in TESTS:
            if only and not any(o in t.__name__ for o in only):
                continue
            t0 = time.time()
            try:
                t(env)
                passed += 1
                print("PASS %s (%.1f s)" % (t.__name__, time.time() - t0), flush=True)
            except Exception as e:  # noqa: BLE001
                failed += 1
                print("FAIL %s: %s" % (t.__name__, e), flush=True)
                traceback.print_exc()
        # The main server must still be healthy and stop cleanly.
        if not only:
            rc = env.server.stop()
            if rc == 0:
                passed += 1
                print("PASS main server stopped with status 0")
            else:
                failed += 1
                print("FAIL main server stopped with status %s" % rc)
    finally:
        for s in _servers:
            s.kill()
        for s in _servers:
            if s.proc.returncode not in (0, None) and s.proc.returncode != -signal.SIGKILL:
                print("--- log of a server that exited with %s:" % s.proc.returncode)
                print(s.log_text()[-2000:])
        if getattr(env, "own_tmp", False) and failed == 0:
            shutil.rmtree(env.tmp, ignore_errors=True)
    print("total %.1f s" % (time.time() - t_start))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
