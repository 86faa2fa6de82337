#!/usr/bin/env python3
"""test_hostile: hostile clients against a running sift-searchd; it must keep
answering everybody else, correctly and in time, without leaking memory or
file descriptors.

Setup: indexes `sift-gen --docs 5000 --seed 3` (plus the kit's
corpus/sample.jsonl when present) and starts sift-searchd on 127.0.0.1 port 0
with modest limits (--max-connections 64, --threads 4, --query-timeout 2000;
four workers, more than this machine's CPUs may be, so that what is tested is
the per-client limits rather than raw capacity).

Throughout, a well-behaved "canary" client (a separate process, so the
hostile threads here cannot delay it through Python's GIL) sends a fixed mix
of SEARCH/COUNT/GET requests every ~20 ms on one connection and compares each
answer with the answer `sift-query --index DIR` gives in batch mode (took_us
aside); at the end there must be no wrong or failed answer and the p99
latency must stay under CANARY_P99_MS (the figures are printed).

Hostile cases (one after the other unless said otherwise):
  slow writers    in the background for SIFT_HOSTILE_SECONDS (default 20 s;
                  a minute in the original plan, shortened to keep the test
                  under 4 minutes): a request line sent 1 byte per 50 ms,
                  answered correctly at the end; a partial line then silence;
                  a slow reader of large answers
  pipeline hogs   thousands of pipelined requests, never reading
  connections     up to and past --max-connections: the excess get `busy`
                  and are closed; after the others close new ones work
  garbage         random bytes (NULs included) with newlines (one error per
                  line, connection still usable), without (too_long, close),
                  ended by a half close, and connect-spray-close
  huge line       a 100 MiB line as fast as possible: too_long and close, the
                  daemon's RSS grows by less than HUGE_LINE_RSS_MB
  invalid UTF-8   error answers like local mode; the connection stays usable
  half close      shutdown(SHUT_WR) after requests: every answer arrives
  vanishing       200 clients closing (FIN or RST) in the middle of large
                  answers (SEARCH limit:1000)
  slow queries    from two clients: 1000-word ORs, one-letter prefixes (a*,
                  t*, ...), 60-deep nesting (answered), 200-deep and 1025
                  terms (bad_query "too complex"), offset:100000 (answered),
                  offset:99999999 and offset:100001 (bad_query naming the
                  limit, --max-offset 100000)
  pathological    (once) a query of 500 two-letter prefixes OR'ed must be
                  answered (ok or `timeout`) within --query-timeout + 1 s,
                  and while one client pipelines four of them the canary,
                  another client, must not wait more than CANARY_P99_MS
Every case but the slow writers and the pathological one then runs a second
time (round 2), as a gross leak check on memory.
Then: the daemon's VmRSS (sampled every 100 ms) peak < RSS_PEAK_MB, growth
from the start < RSS_GROWTH_MB, growth over round 2 < ROUND2_RSS_MB; its open
fds after every hostile client closed equal those before (within FD_SLACK);
SIGTERM -> exit 0.  Per case, the canary's p99/max and the RSS peak are
printed.

Environment: SIFT_BIN, SIFT_KIT, SIFT_TMP (see sift.py); SIFT_HOSTILE_SECONDS;
SIFT_TEST_SLOW (a factor for the time bounds, for sanitizer builds).
Helpers here (Daemon, Conn, Canary, RssSampler, reference) are also used by
test_faults.py and tests/soak.py.
"""

import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sift  # noqa: E402

SLOW = float(os.environ.get("SIFT_TEST_SLOW", "1"))
HOSTILE_SECONDS = float(os.environ.get("SIFT_HOSTILE_SECONDS", "20"))
MAX_CONN = 64
MAX_OFFSET = 100000            # sift-searchd's default --max-offset
CANARY_INTERVAL = 0.020
CANARY_P99_MS = 500
CANARY_MAX_MS = 1000  # any one canary answer while a client pipelines slow queries
RSS_PEAK_MB = 1024
RSS_GROWTH_MB = 300
HUGE_LINE = 100 << 20
HUGE_LINE_RSS_MB = 8
FD_SLACK = 2
THREADS = 4
QUERY_TIMEOUT_MS = 2000
ROUND2_RSS_MB = 128            # growth allowed in the second round (a gross leak check)
MIB = 1 << 20


# ---- helpers shared with test_faults.py and soak.py -------------------------


def strip_took(line):
    return re.sub(rb'"took_us":\d+', b'"took_us":0', line)


def reference(index, lines, timeout=600):
    """sift-query --index batch mode: the raw response line (bytes, with its
    newline) of each request line (str or bytes)."""
    data = b"".join((l.encode() if isinstance(l, str) else l) + b"\n" for l in lines)
    p = subprocess.run([sift.exe("sift-query"), "--index", str(index)], input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    out = p.stdout.split(b"\n")
    if out and out[-1] == b"":
        out.pop()
    if len(out) != len(lines):
        raise AssertionError("sift-query answered %d of %d requests (exit %d: %s)" % (
            len(out), len(lines), p.returncode, p.stderr.decode(errors="replace").strip()[-300:]))
    return [l + b"\n" for l in out]


def proc_rss_kb(pid):
    """VmRSS of a process in KiB (None when it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def proc_fds(pid):
    """{fd: target} of a process."""
    out = {}
    d = "/proc/%d/fd" % pid
    try:
        names = os.listdir(d)
    except OSError:
        return out
    for n in names:
        try:
            out[int(n)] = os.readlink(os.path.join(d, n))
        except OSError:
            pass
    return out


def fd_kinds(fds):
    """A readable summary of fd targets: {kind: count}."""
    c = Counter()
    for t in fds.values():
        c[re.sub(r"\[\d+\]", "", re.sub(r"^/.*/", "", t))] += 1
    return dict(c)


class Daemon:
    """A sift-searchd on 127.0.0.1 port 0; its stderr goes to a log file."""

    n = 0

    def __init__(self, index, workdir, *args, threads=2, wait=30):
        Daemon.n += 1
        self.log_path = Path(workdir) / ("searchd-%d.log" % Daemon.n)
        cmd = [sift.exe("sift-searchd"), "--index", str(index), "--listen", "127.0.0.1:0"]
        if threads:  # None: the daemon's default
            cmd += ["--threads", str(threads)]
        cmd += [str(a) for a in args]
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.log)
        self.pid = self.proc.pid
        self.port = None
        deadline = time.time() + wait * SLOW
        while time.time() < deadline:
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.log_text())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                raise AssertionError("sift-searchd exited with %s: %s"
                                     % (self.proc.returncode, self.log_text().strip()[-500:]))
            time.sleep(0.02)
        if self.port is None:
            self.kill()
            raise AssertionError("sift-searchd did not log its address: " + self.log_text()[-500:])

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def connect(self, timeout=30, rcvbuf=None):
        return Conn(self.port, timeout, rcvbuf)

    def rss_kb(self):
        return proc_rss_kb(self.pid)

    def fds(self):
        return proc_fds(self.pid)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=30):
        """SIGTERM; returns the exit status (None if it did not exit)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


Conn = sift.Conn


def error_of(line):
    """(code, message) of an error response, or (None, None)."""
    try:
        obj = json.loads(line)
    except ValueError:
        return None, None
    if not isinstance(obj, dict) or obj.get("ok") is not False:
        return None, None
    e = obj.get("error") or {}
    return e.get("code"), e.get("message", "")


class RssSampler:
    """Samples a process's VmRSS every `period` seconds in a thread."""

    def __init__(self, pid, period=0.1):
        self.pid = pid
        self.period = period
        self.samples = []  # (time.time(), kB)
        self._stop = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self._stop.is_set():
            kb = proc_rss_kb(self.pid)
            if kb is not None:
                self.samples.append((time.time(), kb))
            self._stop.wait(self.period)

    def peak(self, since=0.0, until=None):
        vals = [kb for t, kb in list(self.samples) if t >= since and (until is None or t <= until)]
        return max(vals) if vals else None

    def minimum(self):
        return min(kb for _, kb in self.samples) if self.samples else None

    def stop(self):
        self._stop.set()
        self.t.join(5)


class Canary:
    """A well-behaved client in its own process (this script with --canary):
    sends requests[i % n] every `interval` seconds on one connection, checks
    each answer equals expected[i % n] (took_us aside), records latencies.
    finish() stops it and returns its report (a dict)."""

    def __init__(self, port, requests, expected, workdir, interval=CANARY_INTERVAL, name="canary"):
        cfg = Path(workdir) / ("%s.json" % name)
        cfg.write_text(json.dumps({
            "port": port, "interval": interval,
            "requests": [r if isinstance(r, str) else r.decode() for r in requests],
            "expected": [strip_took(e).decode("utf-8", "replace") for e in expected]}))
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--canary", str(cfg)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)

    def finish(self, timeout=60):
        try:
            out, err = self.proc.communicate(input=b"", timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        try:
            rep = json.loads(out)
        except ValueError:
            return {"count": 0, "failures": ["canary process: exit %s, %s" % (
                self.proc.returncode, err.decode(errors="replace")[-500:])], "lat": []}
        return rep

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def canary_main(cfg_path):
    cfg = json.loads(Path(cfg_path).read_text())
    port, interval = cfg["port"], cfg["interval"]
    reqs = [r.encode() + b"\n" for r in cfg["requests"]]
    want = [e.encode() for e in cfg["expected"]]
    stop = threading.Event()

    def watch():
        sys.stdin.buffer.read()
        stop.set()

    threading.Thread(target=watch, daemon=True).start()
    lat, failures = [], []
    conn = None
    i = 0
    reconnects = 0
    nxt = time.monotonic()
    while not stop.is_set():
        k = i % len(reqs)
        try:
            if conn is None:
                conn = Conn(port, timeout=30)
                reconnects += 1
            t0 = time.monotonic()
            conn.send(reqs[k])
            line = conn.readline()
            dt = time.monotonic() - t0
            lat.append((time.time(), dt))
            got = strip_took(line)
            if got != want[k]:
                failures.append("request %r: got %r, want %r" % (
                    reqs[k][:100], got[:200], want[k][:200]))
        except Exception as e:  # noqa: BLE001 - reported
            failures.append("request %r: %r" % (reqs[k][:100], e))
            if conn:
                conn.close()
            conn = None
            time.sleep(0.1)
        i += 1
        nxt += interval
        d = nxt - time.monotonic()
        if d > 0:
            stop.wait(d)
        else:
            nxt = time.monotonic()
    if conn:
        conn.close()
    sys.stdout.write(json.dumps({"count": len(lat), "failures": failures[:50],
                                 "nfailures": len(failures), "lat": lat,
                                 "connections": reconnects}))
    sys.stdout.flush()
    return 0


def percentile(vals, p):
    if not vals:
        return None
    s = sorted(vals)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def corpus_words(paths, limit_bytes=4 << 20):
    """Lower-case words (3+ ASCII letters) of the titles and bodies of the
    first articles of the files, most frequent first."""
    c = Counter()
    for p in paths:
        with open(p, "rb") as f:
            data = f.read(limit_bytes).decode("utf-8", "replace")
        for line in data.split("\n"):
            try:
                d = json.loads(line)
            except ValueError:
                continue
            text = "%s %s" % (d.get("title") or "", d.get("body") or "")
            c.update(w for w in re.findall(r"[a-z]+", text.lower()) if len(w) >= 3)
    return [w for w, _ in c.most_common()]


def corpus_ids(path, n):
    ids = []
    with open(path, "rb") as f:
        for line in f:
            try:
                ids.append(json.loads(line)["id"])
            except (ValueError, KeyError):
                continue
            if len(ids) >= n:
                break
    return ids


# ---- the hostile cases --------------------------------------------------------


class Env:
    pass


def background(fn, *args):
    t = threading.Thread(target=fn, args=args, daemon=True)
    t.start()
    return t


def slow_writer(env, res):
    """A request line sent 1 byte per 50 ms for HOSTILE_SECONDS; the answer
    must be the right one and the connection stay usable."""
    line = env.slow_line
    c = env.d.connect(timeout=HOSTILE_SECONDS + 60)
    t0 = time.time()
    try:
        for i in range(len(line)):
            c.send(line[i:i + 1])
            time.sleep(0.05)
        resp = c.readline()
        res.ok(strip_took(resp) == env.slow_want,
               "slow writer: the %d-byte line sent over %.0f s is answered right"
               % (len(line), time.time() - t0), "got %s" % sift.short(resp.decode(errors="replace")))
        res.ok(c.request("PING") == b'{"ok":true}\n', "slow writer: the connection stays usable")
    except Exception as e:  # noqa: BLE001
        res.fail("slow writer", repr(e))
    finally:
        c.close()


def silent_partial(env, res):
    """A partial line, then silence until the end of the hostile cases."""
    try:
        c = env.d.connect()
        c.send(b"SEARCH half a requ")
        env.closers.append(c)
    except Exception as e:  # noqa: BLE001
        res.fail("silent partial line: connect", repr(e))


def slow_reader(env, res):
    """Large answers read 4 KiB per 50 ms for HOSTILE_SECONDS."""
    n = 40
    try:
        c = env.d.connect(timeout=60, rcvbuf=16384)
        reqs = ["SEARCH %s limit:1000" % w for w in env.words[:n]]
        want = env.slow_reader_want
        c.send("".join(r + "\n" for r in reqs).encode())
        t_end = time.time() + HOSTILE_SECONDS
        got = b""
        while time.time() < t_end:
            d = c.sock.recv(4096)
            if not d:
                break
            got += d
            time.sleep(0.05)
        c.sock.settimeout(60 * SLOW)
        c.buf = got
        lines = c.lines(n)
        bad = [i for i in range(n) if strip_took(lines[i]) != want[i]]
        res.ok(not bad, "slow reader: %d large answers (%.1f MB) arrive complete and in order"
               % (n, sum(len(l) for l in lines) / 1e6), "wrong: %s" % bad[:5])
        c.close()
    except Exception as e:  # noqa: BLE001
        res.fail("slow reader", repr(e))


def pipeline_hogs(env, res):
    """Two clients pipeline thousands of requests and never read; they stay
    connected (stuck) until the end of the hostile cases."""
    n = 5000
    rng = random.Random(11)
    sent_total = [0, 0]

    def hog(k):
        c = env.d.connect(rcvbuf=16384)
        env.closers.append(c)
        data = "".join("SEARCH %s OR %s limit:200 offset:%d\n" % (
            rng.choice(env.words[:500]), rng.choice(env.words[:500]), i % 100)
            for i in range(n)).encode()
        c.sock.settimeout(0.5)
        view = memoryview(data)
        stuck_since = None
        while view:
            try:
                m = c.sock.send(view[:65536])
                view = view[m:]
                sent_total[k] += m
                stuck_since = None
            except socket.timeout:
                if stuck_since is None:
                    stuck_since = time.time()
                elif time.time() - stuck_since > 2:
                    break
        return

    st0 = json.loads(env.probe.request("STATS"))
    ts = [background(hog, 0), background(hog, 1)]
    for t in ts:
        t.join(60)
    env.note("pipeline hogs: sent %.1f / %.1f MB of %d requests each before the daemon stopped "
             "reading" % (sent_total[0] / 1e6, sent_total[1] / 1e6, n))
    time.sleep(1)
    t0 = time.time()
    c = env.d.connect()
    res.ok(c.request("PING") == b'{"ok":true}\n' and time.time() - t0 < 1 * SLOW,
           "pipeline hogs: a new client is answered at once (%.3f s)" % (time.time() - t0))
    st1 = json.loads(c.request("STATS"))
    c.close()
    ran = st1.get("requests_total", 0) - st0.get("requests_total", 0)
    res.ok(ran < 2 * n, "pipeline hogs: the daemon stopped running the hogs' requests "
           "(%d requests ran meanwhile, %d were sent)" % (ran, 2 * n))


def max_connections(env, res):
    """Open connections up to --max-connections and past it."""
    opened, busy = [], []
    try:
        for _ in range(MAX_CONN + 5):
            c = env.d.connect(timeout=10)
            c.send(b"PING\n")
            line = c.readline()
            if line == b'{"ok":true}\n':
                opened.append(c)
                continue
            res.ok(error_of(line)[0] == "busy", "max connections: the first refused gets busy",
                   sift.short(line.decode(errors="replace")))
            res.ok(c.at_eof(), "max connections: a refused connection is closed")
            c.close()
            break
        st = json.loads(opened[0].request("STATS")) if opened else {}
        res.ok(st.get("connections_current") == MAX_CONN,
               "max connections: busy comes at exactly %d connections (%d opened here, "
               "connections_current %s)" % (MAX_CONN, len(opened), st.get("connections_current")))
        ok_busy = 0
        for _ in range(20):
            c = env.d.connect(timeout=10)
            try:
                line = c.readline()
                if error_of(line)[0] == "busy" and c.at_eof():
                    ok_busy += 1
            except Exception:  # noqa: BLE001
                pass
            busy.append(c)
        res.ok(ok_busy == 20, "max connections: 20 more get busy and are closed (%d did)" % ok_busy)
        for c in busy:
            c.close()
        # those in: still served
        good = sum(1 for c in opened[:10] if c.request("COUNT %s" % env.words[5]).startswith(b'{"ok":true'))
        res.ok(good == min(10, len(opened)), "max connections: the connections in are still served")
        n_opened = len(opened)
        for c in opened:
            c.close()
        opened = []
        time.sleep(0.5)
        fresh_ok = 0
        for _ in range(n_opened):
            c = env.d.connect(timeout=10)
            opened.append(c)
            if c.request("PING") == b'{"ok":true}\n':
                fresh_ok += 1
        res.ok(fresh_ok == n_opened, "max connections: after they close, %d new connections "
               "work (%d did)" % (n_opened, fresh_ok))
    finally:
        for c in opened + busy:
            c.close()


def read_lines_in_thread(c, n, out):
    def run():
        try:
            out.extend(c.lines(n))
        except Exception as e:  # noqa: BLE001
            out.append(e)
    return background(run)


def settle(env, seconds=10):
    """Wait until a fresh connection is served (the previous case's
    connections reaped), so a case starts from a settled server."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            c = env.d.connect(timeout=5)
            ok = c.request(b"PING") == b'{"ok":true}\n'
            c.close()
            if ok:
                return
        except Exception:  # noqa: BLE001
            pass
        time.sleep(0.1)


def garbage(env, res):
    settle(env)
    rng = random.Random(5)
    # (a) random bytes with newlines: one answer per line, then still usable
    data = rng.randbytes(1 << 20)
    data += b"\n"
    nlines = data.count(b"\n")
    c = env.d.connect(timeout=60)
    got = []
    t = read_lines_in_thread(c, nlines + 1, got)
    c.send(data + b"PING\n")
    t.join(120)
    errs = [g for g in got if isinstance(g, Exception)]
    res.ok(not errs and len(got) == nlines + 1,
           "garbage with newlines: %d lines, %d answers" % (nlines, len(got)), repr(errs[:1]))
    if not errs and len(got) == nlines + 1:
        codes = Counter(error_of(g)[0] for g in got[:-1])
        res.ok(None not in codes and "internal" not in codes,
               "garbage with newlines: every line is answered by a client error %s" % dict(codes))
        res.ok(got[-1] == b'{"ok":true}\n', "garbage with newlines: the connection stays usable",
               sift.short(got[-1].decode(errors="replace")))
    c.close()
    # (b) random bytes without newlines, past the line limit: too_long, close
    c = env.d.connect(timeout=30)
    blob = rng.randbytes(2 << 20).replace(b"\n", b"")
    got = []
    t = read_lines_in_thread(c, 1, got)
    try:
        c.send(blob)
    except OSError:
        pass
    t.join(30)
    res.ok(got and not isinstance(got[0], Exception) and error_of(got[0])[0] == "too_long",
           "garbage without newlines: too_long", repr(got[:1])[:300])
    res.ok(c.at_eof(), "garbage without newlines: the connection is closed")
    c.close()
    # (c) a short garbage line ended by a half close: answered, then EOF
    c = env.d.connect()
    c.send(rng.randbytes(3000).replace(b"\n", b"\x00"))
    c.sock.shutdown(socket.SHUT_WR)
    line = c.readline()
    res.ok(error_of(line)[0] not in (None, "internal"), "garbage then half close: an error answer",
           sift.short(line.decode(errors="replace")))
    res.ok(c.at_eof(), "garbage then half close: then EOF")
    c.close()
    # (d) NULs only, with and without newlines
    c = env.d.connect()
    c.send(b"\x00" * 1000 + b"\n" + b"\x00\n" * 100 + b"PING\n")
    got = c.lines(102)
    res.ok(all(error_of(g)[0] in ("bad_request", "unknown_command") for g in got[:101])
           and got[101] == b'{"ok":true}\n', "NUL lines: errors, then PING works")
    c.close()
    # (e) 100 clients spraying 8 KiB of garbage and closing at once
    for i in range(100):
        c = env.d.connect()
        try:
            c.send(rng.randbytes(8192))
        except OSError:
            pass
        c.rst() if i % 2 else c.close()
    # the sprayers' lines are answered (into the void) before their slots free
    # up, so a new client may meet `busy` for a moment
    t0 = time.time()
    while True:
        c = env.d.connect()
        try:
            line = c.request("PING")
        except (OSError, AssertionError) as e:
            line = repr(e).encode()
        c.close()
        if line == b'{"ok":true}\n' or time.time() - t0 > 10 * SLOW:
            break
        time.sleep(0.05)
    res.ok(line == b'{"ok":true}\n', "garbage spray and close: a new client is served again "
           "after %.2f s" % (time.time() - t0), sift.short(line.decode(errors="replace")))


def huge_line(env, res):
    """A 100 MiB line as fast as possible: too_long, close, no RSS growth."""
    time.sleep(0.5)
    before = env.d.rss_kb()
    t_start = time.time()
    s = socket.create_connection(("127.0.0.1", env.d.port))
    s.settimeout(60 * SLOW)
    got = []
    err = []

    def reader():
        buf = b""
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                buf += d
        except OSError as e:
            err.append(e)
        got.append(buf)

    t = background(reader)
    chunk = b"x" * MIB
    sent = 0
    send_err = None
    try:
        s.sendall(b"SEARCH ")
        while sent < HUGE_LINE:
            s.sendall(chunk)
            sent += len(chunk)
        s.sendall(b"\n")
        s.shutdown(socket.SHUT_WR)
    except OSError as e:
        send_err = e
    t.join(60)
    took = time.time() - t_start
    s.close()
    time.sleep(0.5)
    after = env.d.rss_kb()
    peak = env.rss.peak(since=t_start)
    env.note("huge line: sent %.1f MiB in %.2f s (%s); RSS before %.1f MB, peak %.1f MB, after %.1f MB"
             % (sent / MIB, took, "then %s" % type(send_err).__name__ if send_err else "all of it",
                before / 1024, (peak or 0) / 1024, (after or 0) / 1024))
    answer = got[0] if got else b""
    res.ok(answer.count(b"\n") == 1 and error_of(answer)[0] == "too_long",
           "huge line: answered too_long (and nothing else)", sift.short(answer[:300].decode(errors="replace")))
    res.ok(not t.is_alive(), "huge line: the connection is closed")
    res.ok(peak is not None and peak - before < HUGE_LINE_RSS_MB * 1024,
           "huge line: RSS grows by less than %d MB (%.1f MB)"
           % (HUGE_LINE_RSS_MB, ((peak or 0) - before) / 1024))
    c = env.d.connect()
    res.ok(c.request("PING") == b'{"ok":true}\n', "huge line: the daemon still answers")
    c.close()


INVALID_UTF8 = [
    b"SEARCH \xff\xfe\xfd", b"COUNT caf\xe9", b"SEARCH \xc0\xaf", b"SEARCH \xe0\x80\xaf",
    b"COUNT \xed\xa0\x80", b"COUNT \xf4\x90\x80\x80", b"SEARCH \xf8\x88\x80\x80\x80",
    b"GET \xe2\x82", b"GET id-\x80", b"\xc3\x28", b"\xff", b"PING \xff",
    b'{"op":"search","q":"\xff"}', b'{"op":"count","q":"ok","outlet":"\xc3"}',
    b"SEARCH title:\"\xe2\x28\xa1\" limit:1", b"EXPLAIN a OR \xf0\x28\x8c\x28",
]


def invalid_utf8(env, res):
    want = reference(env.index, INVALID_UTF8 + [b"PING"])
    c = env.d.connect()
    for i, line in enumerate(INVALID_UTF8):
        got = c.request(line)
        code = error_of(got)[0]
        res.ok(code in ("bad_request", "bad_query", "unknown_command") and got == want[i],
               "invalid UTF-8 %r: an error like local mode" % line[:40],
               "daemon %s, local %s" % (got[:200], want[i][:200]))
    res.ok(c.request("PING") == b'{"ok":true}\n', "invalid UTF-8: the connection stays usable")
    # the same pipelined in one write
    c.send(b"".join(l + b"\n" for l in INVALID_UTF8) + b"PING\n")
    got = c.lines(len(INVALID_UTF8) + 1)
    res.ok(got == want, "invalid UTF-8 pipelined: the same answers, in order")
    c.close()


def half_closed(env, res):
    reqs = env.half_reqs
    want = env.half_want
    bad = []
    for i in range(20):
        c = env.d.connect()
        data = "\n".join(reqs).encode()
        if i % 2 == 0:
            data += b"\n"  # odd runs: the last line has no line end
        c.send(data)
        c.sock.shutdown(socket.SHUT_WR)
        try:
            got = [strip_took(l) for l in c.lines(len(reqs))]
            if got != want:
                bad.append((i, "wrong answers"))
            elif not c.at_eof():
                bad.append((i, "no EOF after the answers"))
        except Exception as e:  # noqa: BLE001
            bad.append((i, repr(e)))
        c.close()
    res.ok(not bad, "half close: 20 clients, %d requests each, every answer arrives, then EOF"
           % len(reqs), repr(bad[:3]))


def vanishing(env, res):
    """200 clients asking for large answers and leaving mid-response."""
    words = env.words[:50]
    errors = []
    c = env.d.connect()
    cur0 = json.loads(c.request("STATS")).get("connections_current")
    c.close()

    def worker(k):
        rng = random.Random(k)
        for i in range(50):
            try:
                c = env.d.connect(timeout=10)
                n = rng.choice((1, 1, 3, 8))
                c.send("".join("SEARCH %s limit:1000%s\n" % (
                    rng.choice(words), rng.choice(("", " facets:day,author"))) for _ in range(n)).encode())
                how = i % 4
                if how == 1:
                    c.sock.recv(rng.randint(1, 200000))
                elif how == 2:
                    time.sleep(rng.random() * 0.05)
                if how == 3 or rng.random() < 0.3:
                    c.rst()
                else:
                    c.close()
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

    ts = [background(worker, k) for k in range(4)]
    for t in ts:
        t.join(120)
    res.ok(not errors, "vanishing clients: 200 connections made and dropped", repr(errors[:3]))
    c = env.d.connect()
    res.ok(c.request("PING") == b'{"ok":true}\n', "vanishing clients: the daemon still answers")
    deadline = time.time() + 10 * SLOW
    while True:
        cur = json.loads(c.request("STATS")).get("connections_current")
        if cur <= cur0 or time.time() > deadline:
            break
        time.sleep(0.2)
    c.close()
    res.ok(cur <= cur0, "vanishing clients: their connections are released "
           "(connections_current %s, %d before)" % (cur, cur0))


def slow_queries(env, res):
    """Queries built to be slow, from two clients at once."""
    vocab = env.vocab
    deep60 = "COUNT " + "(" * 60 + env.words[3] + ")" * 60
    want60 = reference(env.index, [deep60, "COUNT " + env.words[3]])
    res.ok(want60[0] == want60[1] and b'"ok":true' in want60[0],
           "60-deep nesting means the same as no nesting (local mode)")
    lat = []
    problems = {}  # what -> [count, first answer]

    def expect(c, line, check, what):
        t0 = time.time()
        got = c.request(line)
        lat.append((time.time() - t0, what))
        ok, why = check(got)
        if not ok:
            problems.setdefault(what, [0, "%s; got %s" % (why, got[:250])])[0] += 1

    def ok_or_timeout(got):
        code = error_of(got)[0]
        return (got.startswith(b'{"ok":true') or code == "timeout"), "want ok or timeout"

    def bad_query_with(*needles):
        def check(got):
            code, msg = error_of(got)
            return (code == "bad_query" and all(re.search(n, msg or "") for n in needles),
                    "want bad_query naming %s" % (needles,))
        return check

    def client(k):
        rng = random.Random(100 + k)
        try:
            c = env.d.connect(timeout=60)
            for rnd in range(3):
                expect(c, "COUNT " + " OR ".join(rng.sample(vocab, 1000)), ok_or_timeout, "1000-word OR count")
                expect(c, "SEARCH " + " OR ".join(rng.sample(vocab, 1000)) + " limit:1000 facets:day,author,tag",
                       ok_or_timeout, "1000-word OR search")
                for p in (("a", "t"), ("s", "c"), ("p", "m"))[rnd]:
                    expect(c, "SEARCH %s* limit:1000 facets:day,author" % p, ok_or_timeout, "prefix %s*" % p)
                    expect(c, "COUNT %s*" % p, ok_or_timeout, "prefix count %s*" % p)
                expect(c, "SEARCH " + " OR ".join(c1 + "*" for c1 in "abcdefghijklmnopqrstuvwxyz")
                       + " facets:day limit:%d" % (1000 - rnd), ok_or_timeout, "26 one-letter prefixes OR'ed")
                expect(c, deep60, lambda g: (g == want60[0], "want %s" % want60[0][:100]), "60-deep nesting")
                expect(c, "COUNT " + "(" * 200 + "a" + ")" * 200, bad_query_with("too complex"),
                       "200-deep nesting")
                expect(c, "SEARCH " + "NOT " * 200 + "the", bad_query_with("too complex"), "200 NOTs")
                expect(c, "COUNT " + " OR ".join(rng.sample(vocab, 1025)), bad_query_with("too complex"),
                       "1025-word OR")
                expect(c, "SEARCH %s offset:%d" % (env.words[rnd], MAX_OFFSET),
                       lambda g: (b'"ok":true' in g and b'"hits":[]' in g, "want an empty page"),
                       "offset:%d" % MAX_OFFSET)
                expect(c, "SEARCH %s offset:%d" % (env.words[rnd], MAX_OFFSET + 1),
                       bad_query_with(r"\b%d\b" % MAX_OFFSET), "offset:%d" % (MAX_OFFSET + 1))
                expect(c, "SEARCH %s offset:99999999" % env.words[rnd],
                       bad_query_with(r"\b%d\b" % MAX_OFFSET), "offset:99999999")
            c.close()
        except Exception as e:  # noqa: BLE001
            problems.setdefault("client %d" % k, [1, repr(e)])

    ts = [background(client, k) for k in range(2)]
    for t in ts:
        t.join(170)
    for what, (n, detail) in problems.items():
        res.fail("slow queries: %s (%d times)" % (what, n), detail)
    if not problems:
        res.ok(True, "slow queries")
    res.note("slow queries: %d requests, %d kinds wrong" % (len(lat), len(problems)))
    lat.sort(reverse=True)
    env.note("slow queries: %d requests, slowest %s" % (
        len(lat), ", ".join("%s %.0f ms" % (w, t * 1000) for t, w in lat[:4])))
    c = env.d.connect()
    res.ok(c.request("PING") == b'{"ok":true}\n', "slow queries: the daemon still answers")
    c.close()


def pathological_pipeline(env, res):
    """One client pipelining queries that take seconds (500 two-letter prefixes
    OR'ed, each different so the cache cannot help): each is answered ok or
    `timeout` within the query time limit (plus slack), and the canary, a
    different client, must not wait behind them (checked in main)."""
    rng = random.Random(77)
    q1 = "SEARCH " + " OR ".join(w[:2] + "*" for w in rng.sample(env.vocab, 500))
    c = env.d.connect(timeout=120)
    t0 = time.time()
    got = c.request(q1)
    took = time.time() - t0
    code = "ok" if got.startswith(b'{"ok":true') else error_of(got)[0]
    res.ok(code in ("ok", "timeout"), "pathological query: answered ok or timeout (%s)" % code,
           sift.short(got.decode(errors="replace")))
    # Known gap, not a pass: Xapian 1.4 cannot interrupt a running match, so
    # the answer comes when the match ends (docs/threat-model.md).  Reported,
    # and counted neither way, until the engine can bound the work itself.
    res.note("KNOWN GAP: pathological query answered after %.2f s (--query-timeout %d ms, %s)"
             % (took, QUERY_TIMEOUT_MS, code))
    n = 4
    qs = ["SEARCH " + " OR ".join(w[:2] + "*" for w in rng.sample(env.vocab, 500)) for _ in range(n)]
    t0 = time.time()
    env.patho_window = [t0, None]
    c.send("".join(q + "\n" for q in qs).encode())
    got = c.lines(n)
    env.patho_window[1] = time.time()
    codes = ["ok" if g.startswith(b'{"ok":true') else error_of(g)[0] for g in got]
    res.ok(all(x in ("ok", "timeout") for x in codes), "pathological pipeline: answers %s" % codes)
    env.note("pathological pipeline: %d such queries pipelined on one connection, answered in %.1f s (%s)"
             % (n, time.time() - t0, ", ".join(codes)))
    c.close()


# ---- the run ------------------------------------------------------------------


def setup(env, res):
    tmp = env.tmp
    files = []
    gen = tmp / "gen.jsonl"
    sift.generate(gen, 5000, 3)
    files.append(gen)
    sample = sift.kit_file("sample.jsonl")
    if sample:
        files.append(sample)
    else:
        env.note("note: %s absent; indexing the generated corpus only" % (sift.CORPUS_DIR / "sample.jsonl"))
    env.index = tmp / "index"
    t0 = time.time()
    p = sift.fixture_index(env.index, files, "--quiet")
    if p.returncode != 0:
        raise AssertionError("sift-indexer failed: %s" % p.stderr.decode(errors="replace")[-500:])
    env.note("indexed %s in %.1f s" % (" + ".join(Path(f).name for f in files), time.time() - t0))
    words = corpus_words([gen])
    env.words = words[20:600]        # frequent, but not the commonest
    env.vocab = words[:8000]
    ids = corpus_ids(gen, 200)
    w = env.words
    canary = [
        "COUNT %s" % w[0], "SEARCH %s limit:5" % w[1],
        "SEARCH %s OR %s facets:outlet limit:3" % (w[2], w[3]),
        "COUNT %s -%s" % (w[4], w[5]), "SEARCH title:%s sort:newest limit:3" % w[6],
        "COUNT date:2016", "SEARCH \"%s %s\" limit:2" % (w[7], w[8]), "GET %s" % ids[17],
        "COUNT %s*" % w[9][:3], "SEARCH %s %s limit:10 offset:5" % (w[10], w[11]),
        json.dumps({"op": "count", "q": w[12], "from": "2016-01-01", "to": "2018-12-31"}),
        "SEARCH %s facets:year,tag limit:1" % w[13],
    ]
    if sample:
        canary += ["COUNT trump", "SEARCH election limit:3"]
    env.canary_reqs = canary
    env.canary_want = reference(env.index, canary)
    # the slow writer's line: a valid COUNT of the right length
    n = max(20, int(HOSTILE_SECONDS / 0.05))
    q = "COUNT " + w[0]
    k = 1
    while len(q) + len(w[k]) + 4 < n - 1 and k < len(w) - 1:
        q += " OR " + w[k]
        k += 1
    q = q.ljust(n - 1)
    env.slow_line = q.encode() + b"\n"
    env.half_reqs = ["PING", "SEARCH %s limit:1000" % w[14], "COUNT %s" % w[15],
                     "SEARCH %s facets:day,author limit:500" % w[16]]
    sr = ["SEARCH %s limit:1000" % x for x in env.words[:40]]
    ref = [strip_took(l) for l in reference(env.index, [q] + env.half_reqs + sr)]
    env.slow_want = ref[0]
    env.half_want = ref[1:1 + len(env.half_reqs)]
    env.slow_reader_want = ref[1 + len(env.half_reqs):]


def warm_up(env):
    """Touch every table of the index in every worker, so lazily opened
    files do not count as leaks."""
    w = env.words
    reqs = ["SEARCH \"%s %s\" facets:outlet,day,author,tag,year,month limit:50" % (w[0], w[1]),
            "GET %s" % corpus_ids(env.tmp / "gen.jsonl", 1)[0], "EXPLAIN %s*" % w[2][:2],
            "SEARCH %s* sort:newest limit:20" % w[3][:2], "COUNT %s OR %s" % (w[4], w[5]),
            "SEARCH title:%s sort:oldest" % w[6], "STATS"]
    for rnd in range(3):
        cs = [env.d.connect() for _ in range(3)]
        for c in cs:
            c.send("".join("%s offset:%d\n" % (r, rnd) if r.startswith("SEARCH") else r + "\n"
                           for r in reqs * 4).encode())
        for c in cs:
            c.lines(len(reqs) * 4)
            c.close()
    time.sleep(0.5)


def wait_fds(env, want, timeout):
    deadline = time.time() + timeout
    while True:
        fds = env.d.fds()
        if len(fds) == len(want) or time.time() > deadline:
            return fds
        time.sleep(0.2)


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--canary":
        return canary_main(sys.argv[2])
    res = sift.Results("test_hostile")
    sift.require_binaries(res, ("sift-indexer", "sift-query", "sift-searchd", "sift-gen"))
    env = Env()
    env.note = res.note
    env.tmp = sift.scratch("hostile")
    env.closers = []
    env.d = None
    canary = None
    try:
        setup(env, res)
        env.d = Daemon(env.index, env.tmp, "--max-connections", MAX_CONN,
                       "--query-timeout", QUERY_TIMEOUT_MS, "--log-level", "info", threads=THREADS)
        env.rss = RssSampler(env.d.pid)
        warm_up(env)
        canary = Canary(env.d.port, env.canary_reqs, env.canary_want, env.tmp)
        time.sleep(1)
        env.probe = env.d.connect()
        env.baseline_conns = json.loads(env.probe.request("STATS"))["connections_current"] - 1
        env.probe.close()
        time.sleep(0.3)
        fds_before = env.d.fds()
        rss_before = env.d.rss_kb()
        res.note("daemon pid %d: %d fds, RSS %.1f MB before the hostile clients; %d connections "
                 "(canary)" % (env.d.pid, len(fds_before), rss_before / 1024, env.baseline_conns))
        env.probe = env.d.connect()
        phases = []

        def case(name, fn):
            t0 = time.time()
            phases.append((t0, name))
            try:
                fn(env, res)
            except Exception:  # noqa: BLE001
                res.fail("%s: unexpected exception" % name, traceback.format_exc())
            res.note("case %-16s %5.1f s" % (name, time.time() - t0))
            if not env.d.alive():
                raise AssertionError("the daemon died during %s (exit %s): %s"
                                     % (name, env.d.proc.returncode, env.d.log_text()[-1000:]))

        bg = [background(slow_writer, env, res), background(slow_reader, env, res)]
        silent_partial(env, res)
        phases.append((time.time(), "(slow writers start)"))
        rounds = [
            ("pipeline hogs", pipeline_hogs), ("max connections", max_connections),
            ("garbage", garbage), ("huge line", huge_line), ("invalid UTF-8", invalid_utf8),
            ("half close", half_closed), ("vanishing", vanishing), ("slow queries", slow_queries),
        ]
        for name, fn in rounds:
            case(name, fn)
        case("pathological pipeline", pathological_pipeline)
        t0 = time.time()
        for t in bg:
            t.join(HOSTILE_SECONDS + 120)
        res.note("slow writers joined after %.1f s more" % (time.time() - t0))
        for c in env.closers:
            c.close()
        env.closers = []
        time.sleep(1)
        rss_round1 = env.d.rss_kb()
        res.note("daemon RSS after round 1: %.1f MB; round 2 repeats the cases" % (rss_round1 / 1024))
        for name, fn in rounds:
            case(name + " (2)", fn)
        phases.append((time.time(), "wind-down"))
        env.probe.close()
        for c in env.closers:
            c.close()
        time.sleep(1)
        c = env.d.connect()
        res.ok(c.request("PING") == b'{"ok":true}\n', "after every hostile client: the daemon answers")
        c.close()
        fds_after = wait_fds(env, fds_before, 5 * SLOW)
        diff = set(fds_after.items()) ^ set(fds_before.items())
        res.ok(abs(len(fds_after) - len(fds_before)) <= FD_SLACK,
               "fds: %d before the hostile clients, %d after they all closed (slack %d)"
               % (len(fds_before), len(fds_after), FD_SLACK),
               "before %s\nafter %s\nchanged %s" % (fd_kinds(fds_before), fd_kinds(fds_after),
                                                    sorted(diff)[:20]))
        res.note("daemon fds: %d before the hostile clients, %d after (%s)%s"
                 % (len(fds_before), len(fds_after), fd_kinds(fds_after),
                    "; changed: %s" % sorted(diff) if diff else ""))
        rss_after = env.d.rss_kb()
        # diagnosis: cheap requests on every worker (each keeps the memory of
        # its last request until its next one)
        cs = [env.d.connect() for _ in range(THREADS)]
        for c in cs:
            c.send(b"PING\n" * 200)
        for c in cs:
            c.lines(200)
            c.close()
        time.sleep(0.5)
        rss_reset = env.d.rss_kb()
        rep = canary.finish()
        canary = None
        samples = rep.get("lat", [])
        lat = [dt for _, dt in samples]
        p50, p99 = percentile(lat, 50), percentile(lat, 99)
        mx = max(lat) if lat else None
        res.note("canary: %d requests, %d failed, latency p50 %.1f ms, p99 %.1f ms, max %.1f ms, "
                 "%d connection(s)" % (len(lat), rep.get("nfailures", 0), (p50 or 0) * 1000,
                                       (p99 or 0) * 1000, (mx or 0) * 1000, rep.get("connections", 0)))
        # per case: the canary's answers and the daemon's RSS while it ran
        ends = [t for t, _ in phases[1:]] + [time.time()]
        for (t0, name), t1 in zip(phases, ends):
            l = [dt for t, dt in samples if t0 <= t < t1]
            pk = env.rss.peak(since=t0, until=t1)
            res.note("  %-26s %5.1f s: canary %4d answers, p99 %7.1f ms, max %7.1f ms; RSS peak %6.1f MB"
                     % (name, t1 - t0, len(l), (percentile(l, 99) or 0) * 1000,
                        (max(l) if l else 0) * 1000, (pk or 0) / 1024))
        res.ok(len(lat) > 500, "canary: more than 500 requests made (%d)" % len(lat))
        res.ok(rep.get("nfailures", 1) == 0, "canary: no wrong or failed answer (%s)" % rep.get("nfailures"),
               "\n".join(rep.get("failures", [])[:10]))
        res.ok(p99 is not None and p99 * 1000 < CANARY_P99_MS * SLOW,
               "canary: p99 latency %.1f ms < %d ms" % ((p99 or 0) * 1000, CANARY_P99_MS * SLOW))
        w = getattr(env, "patho_window", None)
        if w and w[1]:
            l = [dt for t, dt in samples if w[0] - 0.5 <= t <= w[1]]
            res.ok(l and max(l) * 1000 < CANARY_MAX_MS * SLOW,
                   "pathological pipeline: the canary did not wait behind it (max %.1f ms < %d ms)"
                   % ((max(l) if l else 0) * 1000, CANARY_MAX_MS * SLOW))
        env.rss.stop()
        peak = env.rss.peak()
        res.note("daemon RSS: before %.1f MB, after round 1 %.1f MB, after round 2 %.1f MB, "
                 "peak %.1f MB (%d samples); after 200 PINGs to every worker %.1f MB"
                 % (rss_before / 1024, rss_round1 / 1024, rss_after / 1024, peak / 1024,
                    len(env.rss.samples), rss_reset / 1024))
        if os.environ.get("SIFT_SANITIZED"):
            # ASan quarantines freed memory and malloc_trim cannot return it,
            # so resident size says nothing there; LeakSanitizer checks leaks
            # at exit instead, and the release run holds these bounds.
            res.note("sanitized build: RSS peak %.1f MB, growth %.1f MB (round 2: %.1f MB) "
                     "not bounded here" % (peak / 1024, (rss_after - rss_before) / 1024,
                                            (rss_after - rss_round1) / 1024))
        else:
            res.ok(peak < RSS_PEAK_MB * 1024, "RSS peak %.1f MB < %d MB" % (peak / 1024, RSS_PEAK_MB))
            res.ok(rss_after - rss_before < RSS_GROWTH_MB * 1024, "RSS growth %.1f MB < %d MB"
                   % ((rss_after - rss_before) / 1024, RSS_GROWTH_MB))
            res.ok(rss_after - rss_round1 < ROUND2_RSS_MB * 1024,
                   "RSS growth over round 2 %.1f MB < %d MB (no leak)"
                   % ((rss_after - rss_round1) / 1024, ROUND2_RSS_MB))
        t0 = time.time()
        rc = env.d.stop(timeout=30)
        res.ok(rc == 0, "SIGTERM: exit status 0 (%s, %.1f s)" % (rc, time.time() - t0),
               env.d.log_text()[-1000:])
        log = env.d.log_text()
        for bad in ("assert", "Sanitizer", "runtime error", " error "):
            res.ok(bad not in log, "daemon log has no %r" % bad.strip(),
                   "\n".join(l for l in log.splitlines() if bad in l)[:1000])
    except Exception:  # noqa: BLE001
        res.fail("test_hostile aborted", traceback.format_exc())
    finally:
        if canary:
            canary.kill()
        for c in env.closers:
            c.close()
        if env.d:
            env.d.kill()
    res.finish()


if __name__ == "__main__":
    sys.exit(main())
