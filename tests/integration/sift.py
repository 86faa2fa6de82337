"""sift: helpers the integration tests share to run Sift's executables.

Environment:
  SIFT_BIN  directory of the built executables (default <repo>/build/bin)
  SIFT_KIT  the team kit holding corpus/ (default <repo>/../shared)
  SIFT_TMP  scratch directory (default: a fresh temporary directory)
  SIFT_TEST_SLOW  factor on client timeouts (sanitizer builds run slower)
  SIFT_FIXTURE_BIN  directory of the sift-indexer that builds fixtures (see
                  fixture_index; default SIFT_BIN's)
"""

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("SIFT_BIN") or REPO / "build" / "bin")
KIT = Path(os.environ.get("SIFT_KIT") or REPO.parent / "shared")
CORPUS_DIR = KIT / "corpus"


def exe(name):
    return str(BIN / name)


def have(name):
    p = BIN / name
    return p.is_file() and os.access(p, os.X_OK)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def kit_file(name):
    """Path of a kit corpus file, or None when the kit is absent."""
    p = CORPUS_DIR / name
    return p if p.is_file() else None


_tmp_root = None
_made = []


def scratch(name):
    """A fresh, empty scratch directory for this test (removed at the end
    when every check passed; kept for a look otherwise)."""
    global _tmp_root
    base = os.environ.get("SIFT_TMP")
    if base:
        root = Path(base)
    else:
        if _tmp_root is None:
            _tmp_root = Path(tempfile.mkdtemp(prefix="sift-it-"))
        root = _tmp_root
    d = root / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    _made.append(d)
    return d


def cleanup(keep=False):
    if keep and os.environ.get("SIFT_TMP"):
        print("scratch files kept in %s" % " ".join(str(d) for d in _made), flush=True)
        return
    for d in _made:
        shutil.rmtree(d, ignore_errors=True)
    if _tmp_root is not None:
        shutil.rmtree(_tmp_root, ignore_errors=True)


def run(args, input=None, timeout=600, env=None):
    """Run a command; CompletedProcess with text stdout/stderr."""
    return subprocess.run(
        [str(a) for a in args],
        input=input,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=timeout,
        env=env,
    )


def index(index_dir, files, *extra, timeout=900):
    """sift-indexer --index DIR [extra] FILES...; CompletedProcess (bytes)."""
    return run([exe("sift-indexer"), "--index", index_dir, *extra, *files], timeout=timeout)


def fixture_indexer():
    """The sift-indexer that builds a fixture: an index a test reads but
    whose building it does not test.  SIFT_FIXTURE_BIN's when set (the
    release build's, for the sanitized runs of scripts/test.sh: indexing is
    the slowest thing sanitized, and the indexer is checked under the
    sanitizers by the tests that test it), else SIFT_BIN's."""
    d = os.environ.get("SIFT_FIXTURE_BIN")
    if d and os.access(os.path.join(d, "sift-indexer"), os.X_OK):
        return os.path.join(d, "sift-indexer")
    return exe("sift-indexer")


def fixture_index(index_dir, files, *extra, timeout=900):
    """index() with fixture_indexer()."""
    return run([fixture_indexer(), "--index", index_dir, *extra, *files], timeout=timeout)


def kill_after(args, delay, poll=0.005):
    """Start a command, SIGKILL it after delay seconds unless it ended
    first.  Returns (killed, returncode, stderr as text)."""
    import signal

    p = subprocess.Popen([str(a) for a in args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t_end = time.time() + delay
    while time.time() < t_end and p.poll() is None:
        time.sleep(poll)
    killed = p.poll() is None
    if killed:
        p.send_signal(signal.SIGKILL)
    _, err = p.communicate(timeout=60)
    return killed, p.returncode, err.decode("utf-8", "replace")


def query_batch(index_dir, requests, timeout=900):
    """Send request lines (str or dict -> JSON) through sift-query --index in
    batch mode.  Returns (responses, proc): responses is a list with one
    parsed JSON object (or None when missing/unparsable) per request."""
    lines = []
    for r in requests:
        if isinstance(r, dict):
            r = json.dumps(r, ensure_ascii=False)
        assert "\n" not in r
        lines.append(r)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    p = run([exe("sift-query"), "--index", index_dir], input=data, timeout=timeout)
    out = p.stdout.decode("utf-8", "replace").split("\n")
    if out and out[-1] == "":
        out.pop()
    resp = []
    for i in range(len(lines)):
        if i < len(out):
            try:
                resp.append(json.loads(out[i]))
            except ValueError:
                resp.append(None)
        else:
            resp.append(None)
    return resp, p


def gen_help():
    if not have("sift-gen"):
        return ""
    p = run([exe("sift-gen"), "--help"], timeout=30)
    return (p.stdout + p.stderr).decode("utf-8", "replace")


def generate(path, docs, seed, *extra):
    """Write a generated corpus with sift-gen; returns the path.  Passes
    --lang-mix when extra asks for it and sift-gen knows it."""
    h = gen_help()
    args = [exe("sift-gen"), "--docs", str(docs), "--seed", str(seed)]
    for e in extra:
        if e.startswith("--") and e.split("=")[0] not in h:
            continue  # an option this sift-gen does not have
        args.append(e)
    with open(path, "wb") as f:
        p = subprocess.run(args, stdout=f, stderr=subprocess.PIPE, timeout=600)
    if p.returncode != 0:
        raise RuntimeError("sift-gen failed: %s" % p.stderr.decode("utf-8", "replace"))
    return path


def kit_subset(path, n_part01=4000):
    """sample.jsonl + the first n records of news-part-01 as a temporary
    .jsonl (returns the list of files to index, or None without the kit)."""
    sample = kit_file("sample.jsonl")
    part = kit_file("news-part-01.jsonl.zst")
    if not sample or not part:
        return None
    with open(path, "wb") as out:
        z = subprocess.Popen(["zstd", "-dc", str(part)], stdout=subprocess.PIPE)
        for i, line in enumerate(z.stdout):
            if i >= n_part01:
                break
            out.write(line)
        z.stdout.close()
        z.kill()
        z.wait()
    return [str(sample), str(path)]


class Results:
    """Pass/fail bookkeeping with the closing line 'N passed, N failed'."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.notes = []
        self.t0 = time.time()

    def ok(self, cond, what, detail=""):
        if cond:
            self.passed += 1
        else:
            self.fail(what, detail)
        return cond

    def fail(self, what, detail=""):
        self.failed += 1
        msg = "FAIL: %s" % what
        if detail:
            msg += "\n      " + detail.replace("\n", "\n      ")
        print(msg, flush=True)

    def note(self, msg):
        print(msg, flush=True)

    def finish(self):
        print(
            "%s: %d passed, %d failed (%.1f s)"
            % (self.name, self.passed, self.failed, time.time() - self.t0),
            flush=True,
        )
        cleanup(keep=self.failed > 0)
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        sys.exit(1 if self.failed else 0)


def require_binaries(res, names=("sift-indexer", "sift-query")):
    missing = [n for n in names if not have(n)]
    if missing:
        res.fail("executables missing in %s: %s" % (BIN, ", ".join(missing)))
        res.finish()


def short(x, n=300):
    s = x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)
    return s if len(s) <= n else s[:n] + "..."


def py_generate(path, docs, seed, body_words=(80, 600)):
    """A synthetic corpus written in Python (pseudo-words, no article text),
    for when sift-gen is missing or fails: ids gen-N, outlets, authors, tags,
    dates over 2012-2020 (some undated)."""
    import random

    rng = random.Random(seed)
    syl = ["ka", "lo", "mi", "ra", "tu", "zen", "vor", "quil", "bra", "dex", "fi", "no",
           "sa", "pol", "mur", "gant", "thes", "ix", "ol", "ur", "cen", "dro", "pha", "sku"]
    vocab = sorted({"".join(rng.choice(syl) for _ in range(rng.randint(1, 4))) for _ in range(6000)})
    weights = [1.0 / (i + 1) for i in range(len(vocab))]
    cum = []
    t = 0.0
    for w in weights:
        t += w
        cum.append(t)
    suffix = ["", "", "", "s", "ed", "ing", "ion", "er"]
    outlets = ["Gen Times", "The Daily Gen", "Gen-News", "Reuters", "Al Jazeera", "Le Gen"]
    authors = ["Ann Gen", "Bo Gen, Cy Gen", "Di Gen and Ed Gen", None]
    tags = ["politics", "world", "white house", "economy", "health"]

    def words(n):
        ws = rng.choices(vocab, cum_weights=cum, k=n)
        return " ".join(w + rng.choice(suffix) for w in ws)

    with open(path, "w", encoding="utf-8") as f:
        for i in range(docs):
            d = {"id": "gen-%06d" % i, "outlet": rng.choice(outlets),
                 "title": words(rng.randint(3, 10)).capitalize(),
                 "body": "\n".join(words(rng.randint(*body_words) // 3) for _ in range(3)),
                 "tags": rng.sample(tags, rng.randint(0, 2))}
            a = rng.choice(authors)
            if a:
                d["author"] = a
            if rng.random() < 0.9:
                d["date"] = "%04d-%02d-%02d" % (rng.randint(2012, 2020), rng.randint(1, 12), rng.randint(1, 28))
            f.write(json.dumps(d) + "\n")
    return path


def connect_when_up(port, tries=200, pause=0.05):
    """A Conn to a sift-searchd just started on port, once it listens (polled
    every pause seconds, tries times); None when it never does."""
    for _ in range(tries):
        try:
            return Conn(port)
        except OSError:
            time.sleep(pause)
    return None


class Conn:
    """A client connection to sift-searchd reading response lines.  addr:
    a TCP port on 127.0.0.1, or the path of a Unix socket."""

    def __init__(self, addr, timeout=30, rcvbuf=None):
        slow = float(os.environ.get("SIFT_TEST_SLOW", "1"))
        if isinstance(addr, str):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            addr = ("127.0.0.1", addr)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout * slow)
        self.sock.connect(addr)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def readline(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(1 << 17)
            if not chunk:
                raise AssertionError("connection closed while a response was awaited "
                                     "(have %r)" % self.buf[:200])
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def lines(self, n):
        return [self.readline() for _ in range(n)]

    def request(self, line):
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b"\n")
        return self.readline()

    def at_eof(self):
        """True if the server closes the connection with nothing more to say."""
        while True:
            try:
                chunk = self.sock.recv(1 << 16)
            except ConnectionResetError:
                return not self.buf
            if not chunk:
                return not self.buf
            self.buf += chunk

    def rst(self):
        """Close with a reset (SO_LINGER 0)."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
