"""test_clients: the traps a person meets in sift-query and sift-indexer.

  * sift-query takes a query that starts with '-' (`-outlet:cnn`) without
    `--`: options are only its own long ones, and --help says so;
  * exit status as SPEC says: 0 found something, 1 found nothing, 2 error,
    in one-shot mode and in batch mode (2 if any request failed, else 0 if
    any found something, else 1), and 2 when there is no index;
  * interactive mode (on a pseudo-terminal): a line is a search unless it
    starts with a command word followed by that command's shape of argument
    ("get out the vote" is a search, "GET <id>" a GET, "stats" STATS);
    Ctrl-C drops the line being typed and the prompt stays; history is kept
    in $XDG_STATE_HOME/sift/history;
  * sift-indexer: a source that yields no article (100 KB of random bytes)
    fails the run with one line naming it, while the good sources beside it
    are indexed; a file named .zst that is not zstd is an error naming it;
    a zstd file without the .zst name is read as zstd.
Expected figures come from the small corpus written here, counted in Python.
"""

import json
import os
import pty
import random
import select
import shutil
import subprocess
import sys
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sift  # noqa: E402

OUTLETS = ["CNN", "Reuters", "Al Jazeera", "NPR"]


def write_corpus(path, n=60, seed=15):
    """n articles; every third mentions 'vote', every fifth 'caf\u00e9', and
    'get out the vote' is the title of one.  Returns the list of articles."""
    rng = random.Random(seed)
    words = ["harbor", "council", "budget", "storm", "river", "school", "market", "bridge"]
    docs = []
    for i in range(n):
        body = " ".join(rng.choice(words) for _ in range(30))
        if i % 3 == 0:
            body += " the vote was close"
        if i % 5 == 0:
            body += " the caf\u00e9 was full"
        docs.append({"id": "cl-%03d" % i, "outlet": OUTLETS[i % len(OUTLETS)],
                     "title": "get out the vote" if i == 7 else "story %d" % i, "body": body})
    with open(path, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d) + "\n")
    return docs


def query(idx, *args, stdin=b""):
    return sift.run([sift.exe("sift-query"), "--index", idx, *args], input=stdin, timeout=120)


def check_dash_query(res, idx, docs):
    want = sum(1 for d in docs if d["outlet"] != "CNN")
    p = query(idx, "--json", "-outlet:cnn", "limit:0")
    ans = json.loads(p.stdout or b"{}")
    res.ok(p.returncode == 0 and ans.get("total") == want,
           "sift-query -outlet:cnn runs the query (%d articles not from CNN)" % want,
           "exit %d, %s, stderr %r" % (p.returncode, sift.short(ans), p.stderr[:200]))
    p = query(idx, "-storm", "--json", "vote", "limit:0")
    want2 = sum(1 for d in docs if "vote" in d["body"] + " " + d["title"] and "storm" not in d["body"])
    ans = json.loads(p.stdout or b"{}")
    res.ok(ans.get("total") == want2, "options after a '-word' are still options (%d)" % want2,
           sift.short(ans))
    p = query(idx, "--json", "--", "--storm")
    ans = json.loads(p.stdout or b"{}")
    want3 = sum(1 for d in docs if "storm" in d["body"])
    res.ok(ans.get("total") == want3, "'--' ends the options: '--storm' is searched (%d)" % want3,
           sift.short(ans))
    p = query(idx, "--no-such-option", "x")
    err = p.stderr.decode("utf-8", "replace").strip().splitlines()
    res.ok(p.returncode == 2 and len(err) == 1 and "--no-such-option" in err[0],
           "an unknown --option is a one-line usage error, exit 2", "exit %d %r" % (p.returncode, err))
    h = sift.run([sift.exe("sift-query"), "--help"], timeout=30).stdout.decode()
    res.ok("-outlet:cnn" in h and "'get out the vote' is a search" in h and "history" in h
           and "Exit status" in h, "--help documents the '-' rule, the prompt's rule and the exit status",
           h[-600:])


def check_exit_status(res, idx, tmp):
    cases = [
        (["vote"], 0, "a query that finds something"),
        (["zzqxnothing"], 1, "a query that finds nothing"),
        (["gaza", '"city'], 2, "a malformed query"),
        (["--json", "vote"], 0, "--json, found"),
        (["--json", "zzqxnothing"], 1, "--json, nothing"),
        (["--json", "(gaza"], 2, "--json, malformed"),
    ]
    for args, want, what in cases:
        p = query(idx, *args)
        res.ok(p.returncode == want, "one-shot exit %d: %s" % (want, what),
               "exit %d; out %r" % (p.returncode, p.stdout[:200]))
    batches = [
        (b"COUNT zzqxnothing\nSEARCH zzqxnothing\n", 1, "nothing found by any request"),
        (b"COUNT zzqxnothing\nCOUNT vote\n", 0, "one request found something"),
        (b"STATS\n", 0, "STATS"),
        (b"COUNT vote\nCOUNT (\n", 2, "one request failed"),
        (b"GET no-such-id\n", 2, "GET of a missing id"),
    ]
    for stdin, want, what in batches:
        p = query(idx, stdin=stdin)
        res.ok(p.returncode == want, "batch exit %d: %s" % (want, what),
               "exit %d; out %r" % (p.returncode, p.stdout[:300]))
    p = query(tmp / "no-such-index", "vote")
    res.ok(p.returncode == 2, "no index: exit 2", "exit %d" % p.returncode)
    p = sift.run([sift.exe("sift-query"), "--port", "1", "vote"], timeout=60)
    res.ok(p.returncode == 2, "no daemon to reach: exit 2", "exit %d %r" % (p.returncode, p.stderr[:200]))


class Pty:
    """sift-query on a pseudo-terminal."""

    def __init__(self, args, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(args[0], args, env)

    def read_until(self, marker, timeout=20):
        out = b""
        end = time.time() + timeout * float(os.environ.get("SIFT_TEST_SLOW", "1"))
        while time.time() < end and marker not in out:
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if r:
                try:
                    d = os.read(self.fd, 65536)
                except OSError:
                    break
                if not d:
                    break
                out += d
        return out.decode("utf-8", "replace")

    def read_prompt(self, timeout=20):
        """Output up to the prompt, once the client reads keys: libedit
        prints the prompt before it leaves canonical mode, and a Ctrl-D
        typed in between reaches it as a NUL (a real terminal user cannot
        type that fast; a test can).  The master shares the slave's
        termios on Linux."""
        out = self.read_until(b"sift> ", timeout)
        end = time.time() + timeout * float(os.environ.get("SIFT_TEST_SLOW", "1"))
        while time.time() < end and termios.tcgetattr(self.fd)[3] & termios.ICANON:
            time.sleep(0.01)
        return out

    def send(self, b):
        os.write(self.fd, b)

    def close(self):
        try:
            os.kill(self.pid, 9)
        except ProcessLookupError:
            pass
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            status = None
        os.close(self.fd)
        return status

    def wait(self, timeout=20):
        end = time.time() + timeout * float(os.environ.get("SIFT_TEST_SLOW", "1"))
        while time.time() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            self.read_until(b"\0", 0.2)  # keep the terminal drained
        return self.close()


def check_interactive(res, idx, tmp, docs):
    state = tmp / "state"
    env = dict(os.environ, XDG_STATE_HOME=str(state), TERM="dumb")
    t = Pty([sift.exe("sift-query"), "--index", str(idx)], env)
    try:
        banner = t.read_prompt()
        res.ok("sift> " in banner, "the prompt appears on a terminal", banner[-200:])
        t.send(b"get out the vote\r")
        out = t.read_prompt()
        res.ok("[cl-007]" in out and "not_found" not in out,
               "'get out the vote' is a search, not a GET", out[-400:])
        t.send(b"GET cl-005\r")
        out = t.read_prompt()
        res.ok('"cl-005"' in out and "story 5" in out, "'GET cl-005' is a GET", out[-400:])
        t.send(b"stats\r")
        out = t.read_prompt()
        res.ok('"docs": 60' in out, "'stats' is STATS", out[-300:])
        t.send(b"storm half typed")
        t.read_until(b"typed", 5)
        t.send(b"\x03")
        out = t.read_prompt(10)
        alive = "sift> " in out
        res.ok(alive and "article" not in out, "Ctrl-C drops the line and the prompt comes back", repr(out[-300:]))
        t.send(b"count vote\r")
        out = t.read_prompt()
        want = sum(1 for d in docs if "vote" in d["title"] + " " + d["body"])
        res.ok('"count": %d' % want in out, "after Ctrl-C the client goes on (count vote = %d)" % want,
               out[-300:])
        t.send("count caf\u00e9\r".encode())
        out = t.read_prompt()
        want = sum(1 for d in docs if "caf\u00e9" in d["body"])
        res.ok('"count": %d' % want in out, "a word past ASCII typed at the prompt arrives whole "
               "(count caf\u00e9 = %d, whatever the locale)" % want, out[-300:])
        t.send(b"\x04")
        code = t.wait()
        res.ok(code == 0, "Ctrl-D leaves with status 0", "status %r" % code)
    finally:
        if t.fd:
            try:
                os.kill(t.pid, 9)
            except ProcessLookupError:
                pass
    hist = state / "sift" / "history"
    text = hist.read_text(errors="replace") if hist.exists() else ""
    res.ok(hist.exists() and ("get out the vote" in text or "get\\040out\\040the\\040vote" in text)
           and "count" in text and "half" not in text,
           "history kept in $XDG_STATE_HOME/sift/history (typed lines, not the cancelled one)", text[-300:])


def check_indexer(res, tmp, corpus, docs):
    rnd = tmp / "random.bin"
    rnd.write_bytes(random.Random(7).randbytes(100 * 1024))
    idx = tmp / "idx-random"
    p = sift.index(idx, [rnd, corpus], "--quiet")
    err = p.stderr.decode("utf-8", "replace").strip().splitlines()
    res.ok(p.returncode != 0 and len(err) == 1 and str(rnd) in err[0],
           "100 KB of random bytes: non-zero exit and one line naming the file",
           "exit %d; %d stderr lines: %s" % (p.returncode, len(err), sift.short("\n".join(err[:5]), 600)))
    r, _ = sift.query_batch(idx, ["STATS"])
    res.ok(r[0] and r[0].get("docs") == 60, "the good source beside it is indexed", sift.short(r[0]))

    fake = tmp / "plain.jsonl.zst"
    shutil.copy(corpus, fake)
    p = sift.index(tmp / "idx-fake", [fake], "--quiet")
    err = p.stderr.decode("utf-8", "replace").strip().splitlines()
    res.ok(p.returncode != 0 and err and str(fake) in err[0] and "zstd" in err[0],
           "a plain file named .zst is an error naming it", "exit %d %r" % (p.returncode, err[:3]))

    if not shutil.which("zstd"):
        res.note("zstd command missing: the unnamed zstd case is not checked")
        return
    packed = tmp / "packed.data"
    subprocess.run(["zstd", "-q", "-f", str(corpus), "-o", str(packed)], check=True)
    idx2 = tmp / "idx-packed"
    p = sift.index(idx2, [packed], "--quiet")
    r, _ = sift.query_batch(idx2, ["STATS", "COUNT vote"])
    want = sum(1 for d in docs if "vote" in d["title"] + " " + d["body"])
    res.ok(p.returncode == 0 and r[0] and r[0].get("docs") == 60 and r[1].get("count") == want,
           "a zstd file without the .zst name is read as zstd (60 articles, %d with 'vote')" % want,
           "exit %d %s %s" % (p.returncode, sift.short(r), p.stderr[:200]))


def main():
    res = sift.Results("test_clients")
    sift.require_binaries(res, ("sift-indexer", "sift-query"))
    tmp = sift.scratch("clients")
    corpus = tmp / "clients.jsonl"
    docs = write_corpus(corpus)
    idx = tmp / "index"
    p = sift.index(idx, [corpus], "--quiet")
    res.ok(p.returncode == 0, "index the test corpus", p.stderr.decode("utf-8", "replace"))
    check_dash_query(res, idx, docs)
    check_exit_status(res, idx, tmp)
    check_interactive(res, idx, tmp, docs)
    check_indexer(res, tmp, corpus, docs)
    res.finish()


if __name__ == "__main__":
    main()
