#!/usr/bin/env python3
"""test_faults: the index survives faults, and the tools say what went wrong.

(a) SIGKILL of sift-indexer --batch 100 at seeded random moments, many runs
    (test_kill.py does a smaller version; this one goes further):
    - KILL_RUNS kills on a fresh index (built by one writer or by two
      parallel shards, in turn), anywhere in the run; after each the
      index opens (sift-query --index: STATS, COUNT, SEARCH), holds a whole
      number of batches, and those are exactly the first N articles of the
      input (GET of the first, the last committed, a few in between, and the
      next one must be absent); some killed indexes are then completed by a
      new run (every article once);
    - APPEND_RUNS kills while adding a second corpus to a complete index:
      the first corpus intact plus the first N of the second;
    - COMPACT_RUNS kills during the final compaction (the indexer compacts an
      index it created into DIR.compact and swaps it in with an atomic
      directory exchange): the kill lands after DIR.compact appears, at a
      random delay within the measured compaction time; every article must
      be there, and a following `--compact` run must work and clean up.
(b) A full disk (a tmpfs of 8 MiB, mounted here: needs root; skipped with a
    message, not counted as a pass, when mounting fails): indexing into it
    until it fills must fail with a message containing "space" and a
    non-zero status, and the previously committed revision must still open,
    answer, and hold the first N articles; a compaction that runs out of
    space must fail the same way and leave the index intact; once the
    tmpfs is enlarged the next run must complete.  A new index built in
    parallel shards that fills the disk fails the same way, leaves whole
    batches that open, and is completed (merged) once there is room.
(c) Bad indexes: missing, unreadable (chmod 000; root reads anything, so the
    tools run as `nobody` through setpriv; skipped with a message when that
    is not possible), corrupt copies (iamglass, postlist.glass, docdata.glass
    overwritten or truncated, a table missing): sift-searchd must exit
    non-zero within START_LIMIT seconds with one clear line on stderr, and
    sift-query --index likewise; a few blocks of postlist.glass overwritten
    (the damage may only show at query time) must never crash either tool;
    a missing position table must not turn phrase queries into silent
    AND queries.
(d) The index changed under a running sift-searchd (--reload-interval 1; one
    daemon with the result cache, one without) while canary clients query
    both continuously: articles added without compaction, with `--compact`
    (add, then compact and swap the directory), twice with `--compact`, and
    once more without; every canary request must be answered ok (and the
    answers that cannot change must not change), and each step's new
    articles must be visible (COUNT, GET) within VISIBLE_LIMIT seconds.

Environment: SIFT_BIN, SIFT_KIT, SIFT_TMP (see sift.py), SIFT_TEST_SEED,
SIFT_TEST_SLOW (a factor for time bounds).  Prints one line per check that
fails, notes with figures, and a closing 'N passed, N failed'.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sift  # noqa: E402
from test_hostile import Daemon, SLOW  # noqa: E402

SEED = int(os.environ.get("SIFT_TEST_SEED", "20240611"))
BATCH = 100
NDOCS = 2000
NDOCS_B = 1000
KILL_RUNS = 12
APPEND_RUNS = 4
COMPACT_RUNS = 6
START_LIMIT = 10
VISIBLE_LIMIT = 8


def read_ids(path):
    ids = []
    with open(path, "rb") as f:
        for line in f:
            if line.strip():
                ids.append(json.loads(line)["id"])
    return ids


def q(idx, reqs, timeout=120):
    return sift.query_batch(idx, reqs, timeout=timeout)


def errtext(p):
    s = p.stderr
    return (s.decode("utf-8", "replace") if isinstance(s, bytes) else s or "").strip()


# ---- (a) kills --------------------------------------------------------------


def check_index(res, what, idx, ids, base=0, base_ids=(), rng=None):
    """The index opens and answers; it holds base articles (base_ids, all of
    them) plus a whole number of batches of ids, the first ones.  Returns
    the number of articles from ids, or None."""
    r, p = q(idx, ["STATS", "COUNT", "SEARCH sort:newest limit:3"])
    if not res.ok(p.returncode == 0 and all(x and x.get("ok") for x in r),
                  "%s: the index opens and answers" % what,
                  "exit %d; stderr %s; %s" % (p.returncode, sift.short(errtext(p)), sift.short(r))):
        return None
    docs, count = r[0].get("docs"), r[1].get("count")
    res.ok(docs == count, "%s: STATS docs %s = COUNT %s" % (what, docs, count))
    n = count - base
    res.ok(0 <= n <= len(ids) and (n % BATCH == 0 or n == len(ids)),
           "%s: %d new articles, a whole number of %d-article batches" % (what, n, BATCH))
    hits = r[2].get("hits") or []
    res.ok(len(hits) == min(3, count), "%s: SEARCH returns hits" % what, sift.short(r[2]))
    if not 0 <= n <= len(ids):
        return None
    rng = rng or random.Random(n)
    present = sorted(set([0, n - 1] + [rng.randrange(n) for _ in range(4)])) if n else []
    absent = [n] if n < len(ids) else []
    probe_base = [rng.choice(base_ids) for _ in range(3)] if base_ids else []
    reqs = ["GET " + ids[i] for i in present] + ["GET " + ids[i] for i in absent] + \
           ["GET " + x for x in probe_base] + ["GET " + h["id"] for h in hits]
    g, _ = q(idx, reqs)
    k = len(present)
    bad = [ids[i] for i, x in zip(present, g[:k]) if not (x and x.get("ok"))]
    res.ok(not bad, "%s: the first %d articles of the input are there (probed %d)" % (what, n, k),
           "missing: %s" % bad)
    if absent:
        x = g[k]
        res.ok(x and (x.get("error") or {}).get("code") == "not_found",
               "%s: article %d (after the last commit) is absent" % (what, n + 1), sift.short(x))
    k += len(absent)
    if probe_base:
        res.ok(all(x and x.get("ok") for x in g[k:k + len(probe_base)]),
               "%s: the articles indexed before are all there" % what)
    k += len(probe_base)
    res.ok(all(x and x.get("ok") and isinstance(x["doc"].get("body", ""), str) for x in g[k:]),
           "%s: GET of each hit decodes" % what)
    return n


def kill_at(args, delay=None, watch=None, after_watch=0.0):
    """Run sift-indexer with args; SIGKILL it `delay` seconds after the start,
    or `after_watch` seconds after the path `watch` appears.  Returns
    (killed, returncode, elapsed, stderr)."""
    t0 = time.time()
    p = subprocess.Popen([sift.exe("sift-indexer")] + [str(a) for a in args],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = []
    t = threading.Thread(target=lambda: err.append(p.stderr.read()), daemon=True)
    t.start()
    if watch is not None:
        while p.poll() is None and not os.path.exists(watch):
            time.sleep(0.001)
        t_kill = time.time() + after_watch
    else:
        t_kill = t0 + delay
    while p.poll() is None and time.time() < t_kill:
        time.sleep(0.001)
    killed = p.poll() is None
    if killed:
        p.send_signal(signal.SIGKILL)
    p.wait(120)
    t.join(30)
    return killed, p.returncode, time.time() - t0, (err[0] if err else b"").decode("utf-8", "replace")


def part_a(res, tmp):
    rng = random.Random(SEED)
    corpus = tmp / "a.jsonl"
    sift.generate(corpus, NDOCS, SEED % 1000 + 1)
    ids = read_ids(corpus)
    corpus_b = tmp / "b.jsonl"
    sift.generate(corpus_b, NDOCS_B, SEED % 1000 + 2)
    ids_b = read_ids(corpus_b)
    extra = tmp / "extra.jsonl"
    sift.generate(extra, 50, SEED % 1000 + 3)
    ids_extra = read_ids(extra)
    res.ok(len(ids) == NDOCS and len(ids_b) == NDOCS_B and not set(ids) & set(ids_b),
           "(a) corpora generated (%d + %d articles)" % (len(ids), len(ids_b)))

    # calibration: a whole run, timed, and its compaction time
    full = tmp / "full"
    t0 = time.time()
    p = sift.index(full, [corpus], "--batch", BATCH)
    t_full = time.time() - t0
    s = errtext(p)
    res.ok(p.returncode == 0, "(a) a whole run works", s)
    t_compact = 0.3
    for line in s.splitlines():
        if "compacted" in line and " in " in line:
            try:
                t_compact = max(0.05, float(line.rsplit(" in ", 1)[1].split()[0]))
            except ValueError:
                pass
    res.note("(a) a whole run of %d articles takes %.1f s, its compaction %.2f s" % (NDOCS, t_full, t_compact))
    n = check_index(res, "(a) whole run", full, ids)
    res.ok(n == NDOCS, "(a) the whole run holds every article (%s)" % n)

    # kills anywhere in a fresh run
    counts = []
    for k in range(KILL_RUNS):
        idx = tmp / ("kill-%d" % k)
        delay = rng.uniform(0.02, t_full * 1.05)
        jobs = 1 + k % 2  # one writer, or two parallel shards
        killed, rc, el, err = kill_at(["--index", idx, "--batch", BATCH, "--jobs", jobs, "--quiet", corpus],
                                      delay)
        what = "(a) kill %d at %.2f s (--jobs %d)" % (k + 1, delay, jobs)
        if not idx.exists():
            res.note("%s: no index directory yet" % what)
            counts.append(0)
            continue
        n = check_index(res, what, idx, ids, rng=rng)
        counts.append(n)
        if k % 4 == 3:  # complete it: every article exactly once
            p = sift.index(idx, [corpus], "--batch", BATCH, "--quiet")
            res.ok(p.returncode == 0, "%s: a new run completes the index" % what, errtext(p))
            r, _ = q(idx, ["COUNT", "STATS"])
            res.ok(r[0] and r[0].get("count") == NDOCS and r[1].get("docs") == NDOCS,
                   "%s: then it holds every article once (%s)" % (what, sift.short(r)))
    res.note("(a) %d kills in fresh runs left %s articles" % (KILL_RUNS, counts))

    # kills while appending a second corpus to a complete index
    counts = []
    for k in range(APPEND_RUNS):
        idx = tmp / ("append-%d" % k)
        shutil.copytree(full, idx)
        delay = rng.uniform(0.05, t_full * NDOCS_B / NDOCS)
        kill_at(["--index", idx, "--batch", BATCH, "--quiet", corpus_b], delay)
        what = "(a) append kill %d at %.2f s" % (k + 1, delay)
        counts.append(check_index(res, what, idx, ids_b, base=NDOCS, base_ids=ids, rng=rng))
    res.note("(a) %d kills while appending left %s new articles" % (APPEND_RUNS, counts))

    # kills during the final compaction
    landed = {"before the swap": 0, "after the swap": 0, "after the cleanup": 0}
    for k in range(COMPACT_RUNS):
        idx = tmp / ("compact-%d" % k)
        tmpdir = Path(str(idx) + ".compact")
        after = 0.0 if k == 0 else rng.uniform(0, t_compact * 0.9)
        killed, rc, el, err = kill_at(["--index", idx, "--batch", BATCH, corpus], watch=tmpdir,
                                      after_watch=after)
        what = "(a) kill %.3f s into the compaction (run %d)" % (after, k + 1)
        if not killed:
            res.note("%s: the indexer finished first (exit %d)" % (what, rc))
        left = tmpdir.exists()
        r, _ = q(idx, ["STATS"])
        rev = r[0].get("revision") if r[0] else None
        landed["after the cleanup" if not left else "after the swap" if rev == 1 else "before the swap"] += 1
        n = check_index(res, what, idx, ids, rng=rng)
        res.ok(n == NDOCS, "%s: every article is there (%s)" % (what, n))
        p = sift.index(idx, [extra], "--compact", "--quiet")
        res.ok(p.returncode == 0, "%s: a following --compact run works" % what, errtext(p))
        res.ok(not tmpdir.exists(), "%s: and removes the leftover %s" % (what, tmpdir.name))
        r, _ = q(idx, ["COUNT", "GET " + ids_extra[-1], "GET " + ids[-1]])
        res.ok(r[0] and r[0].get("count") == NDOCS + len(ids_extra) and r[1].get("ok") and r[2].get("ok"),
               "%s: then it holds every article" % what, sift.short(r))
    res.note("(a) compaction kills landed: %s" % landed)


# ---- (b) full disk ------------------------------------------------------------


def mount_tmpfs(path, size):
    path.mkdir(parents=True, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", str(path)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return p.returncode == 0, p.stdout.decode("utf-8", "replace").strip()


def umount(path):
    p = subprocess.run(["umount", str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        subprocess.run(["umount", "-l", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def grow_and_complete(res, mnt, idx, corpus, ids, what):
    """Free space on the tmpfs; the next run must complete the index, as one
    database."""
    p = subprocess.run(["mount", "-o", "remount,size=64m", str(mnt)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    if res.ok(p.returncode == 0, "(b) the tmpfs grows to 64 MiB", p.stdout.decode(errors="replace")):
        p = sift.index(idx, [corpus], "--batch", 1000)
        res.ok(p.returncode == 0, "(b) with room again, a run completes" + what, errtext(p))
        r, _ = q(idx, ["COUNT", "GET " + ids[-1]])
        res.ok(r[0] and r[0].get("count") == NDOCS and r[1].get("ok") and not (idx / "XAPIANDB").exists(),
               "(b) and the index holds every article, in one database" + what, sift.short(r))


def part_b(res, tmp):
    corpus = tmp / "disk.jsonl"
    sift.generate(corpus, NDOCS, SEED % 1000 + 4)
    ids = read_ids(corpus)
    first = tmp / "disk-first.jsonl"
    with open(corpus, "rb") as f, open(first, "wb") as out:
        for i, line in enumerate(f):
            if i >= BATCH:
                break
            out.write(line)
    mnt = tmp / "tmpfs"
    if os.geteuid() != 0:
        res.note("SKIP (b) full disk: not root, cannot mount a tmpfs (not counted as a pass)")
        return
    ok, why = mount_tmpfs(mnt, "8m")
    if not ok:
        res.note("SKIP (b) full disk: mount -t tmpfs failed (%s); not counted as a pass" % why)
        return
    try:
        idx = mnt / "index"
        p = sift.index(idx, [first], "--batch", BATCH)
        res.ok(p.returncode == 0, "(b) a first revision fits on the 8 MiB tmpfs", errtext(p))
        # fill the disk
        t0 = time.time()
        p = sift.index(idx, [corpus], "--batch", BATCH)
        s = errtext(p)
        res.note("(b) indexing into the full tmpfs: exit %d after %.1f s; stderr: %s"
                 % (p.returncode, time.time() - t0, s.replace("\n", " | ")))
        res.ok(p.returncode != 0, "(b) a full disk fails the run (exit %d)" % p.returncode)
        res.ok("space" in s.lower(), "(b) the message says the disk is out of space", s)
        n = check_index(res, "(b) after the full disk", idx, ids)
        res.ok(n is not None and n >= BATCH, "(b) the committed revision survives (%s articles)" % n)
        # a daemon serves it too
        try:
            d = Daemon(idx, tmp, "--reload-interval", "0", threads=1)
            try:
                c = d.connect()
                got = json.loads(c.request("COUNT"))
                res.ok(got.get("count") == n, "(b) sift-searchd serves the surviving revision (%s)" % got)
                c.close()
                res.ok(d.stop() == 0, "(b) sift-searchd stops cleanly")
            finally:
                d.kill()
        except AssertionError as e:
            res.fail("(b) sift-searchd starts on the surviving revision", str(e))
        grow_and_complete(res, mnt, idx, corpus, ids, "")
        umount(mnt)

        # a compaction that runs out of space
        ok, why = mount_tmpfs(mnt, "8m")
        if not res.ok(ok, "(b) remount the 8 MiB tmpfs", why):
            return
        idx = mnt / "index2"
        part = tmp / "disk-part.jsonl"
        with open(corpus, "rb") as f, open(part, "wb") as out:
            for i, line in enumerate(f):
                if i >= 3 * BATCH:
                    break
                out.write(line)
        p = sift.index(idx, [part], "--batch", 1000, "--no-compact")
        if not res.ok(p.returncode == 0, "(b) an uncompacted index fits", errtext(p)):
            return
        size = sum(f.stat().st_size for f in idx.iterdir())
        st = os.statvfs(mnt)
        free = st.f_bavail * st.f_frsize
        ballast = free - size // 4  # the compacted copy needs more than that
        with open(mnt / "ballast", "wb") as f:
            f.truncate(0)
            chunk = b"\0" * (1 << 16)
            left = max(0, ballast)
            while left > 0:
                f.write(chunk[:min(left, len(chunk))])
                left -= min(left, len(chunk))
        p = subprocess.run([sift.exe("sift-indexer"), "--index", str(idx), "--compact", "-"],
                           input=b"", stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        s = errtext(p)
        res.note("(b) compacting a %.1f MB index with %.1f MB free: exit %d; stderr: %s"
                 % (size / 1e6, (free - ballast) / 1e6, p.returncode, s.replace("\n", " | ")))
        res.ok(p.returncode != 0, "(b) a compaction out of space fails the run (exit %d)" % p.returncode)
        res.ok("space" in s.lower(), "(b) the message says the disk is out of space", s)
        res.ok(not Path(str(idx) + ".compact").exists(), "(b) the partial compacted copy is removed")
        n = check_index(res, "(b) after the failed compaction", idx, ids)
        res.ok(n == 3 * BATCH, "(b) the index is intact (%s articles)" % n)
        umount(mnt)

        # a new index built in parallel shards fills the disk
        ok, why = mount_tmpfs(mnt, "8m")
        if not res.ok(ok, "(b) remount the 8 MiB tmpfs", why):
            return
        idx = mnt / "index3"
        p = sift.index(idx, [corpus], "--batch", BATCH, "--jobs", 2)
        s = errtext(p)
        res.note("(b) a parallel build into 8 MiB: exit %d; stderr: %s" % (p.returncode, s.replace("\n", " | ")))
        res.ok(p.returncode != 0, "(b) a parallel build on a full disk fails (exit %d)" % p.returncode)
        res.ok("space" in s.lower(), "(b) the message says the disk is out of space", s)
        if idx.exists():
            n = check_index(res, "(b) after the parallel build filled the disk", idx, ids)
            res.note("(b) the parallel build left %s articles" % n)
        grow_and_complete(res, mnt, idx, corpus, ids, " (the parallel build's shards merged)")
    finally:
        umount(mnt)


# ---- (c) bad indexes ----------------------------------------------------------


def start_fails(res, what, index, user=None, expect=None):
    """sift-searchd and sift-query --index on a bad index: non-zero exit
    within START_LIMIT s, one line on stderr (containing `expect`, a tuple of
    alternatives, when given)."""
    pre = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if user else []
    for tool, args, inp in (("sift-searchd", ["--index", str(index), "--listen", "127.0.0.1:0",
                                              "--threads", "2"], None),
                            ("sift-query", ["--index", str(index)], b"STATS\nCOUNT\n")):
        t0 = time.time()
        try:
            p = subprocess.run(pre + [sift.exe(tool)] + args, input=inp, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=START_LIMIT * SLOW)
        except subprocess.TimeoutExpired:
            res.fail("%s: %s did not exit within %d s" % (what, tool, START_LIMIT))
            continue
        el = time.time() - t0
        s = p.stderr.decode("utf-8", "replace")
        lines = s.strip().splitlines()
        good = p.returncode != 0 and len(lines) == 1 and s.endswith("\n") and lines[0].startswith(tool + ":")
        if expect:
            good = good and any(e in s.lower() for e in expect)
        res.ok(good, "%s: %s exits %d after %.2f s with one clear line%s"
               % (what, tool, p.returncode, el, " naming %s" % " or ".join(expect) if expect else ""),
               "stderr: %r; stdout: %r" % (s[:400], p.stdout[:200]))
        if tool == "sift-searchd":
            res.note("  %s: %s" % (what, s.strip()[:200]))


def never_crashes(res, what, index, reqs):
    """The index may open or not; whatever happens is a clean refusal or
    JSON answers, never a crash."""
    p = subprocess.Popen([sift.exe("sift-searchd"), "--index", str(index), "--listen", "127.0.0.1:0",
                          "--threads", "2", "--reload-interval", "0"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Daemon() would raise on refusal; do it by hand
    port = None
    err = b""
    t0 = time.time()
    os.set_blocking(p.stderr.fileno(), False)
    try:
        while time.time() - t0 < START_LIMIT * SLOW:
            chunk = p.stderr.read() or b""
            err += chunk
            m = re.search(rb"listening on 127\.0\.0\.1:(\d+)", err)
            if m:
                port = int(m.group(1))
                break
            if p.poll() is not None:
                err += p.stderr.read() or b""
                break
            time.sleep(0.02)
        if port is None:
            lines = err.decode("utf-8", "replace").strip().splitlines()
            res.ok(p.poll() is not None and p.returncode not in (0, None) and p.returncode > 0
                   and len(lines) == 1,
                   "%s: sift-searchd refuses it cleanly (exit %s)" % (what, p.returncode), repr(err[-400:]))
            return "refused"
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
        f = s.makefile("rb")
        s.sendall(b"".join(r.encode() + b"\n" for r in reqs))
        answers = []
        for _ in reqs:
            line = f.readline()
            if not line:
                break
            answers.append(json.loads(line))
        s.close()
        codes = sorted(set("ok" if a.get("ok") else a["error"]["code"] for a in answers))
        res.ok(len(answers) == len(reqs) and p.poll() is None,
               "%s: sift-searchd starts and answers every request (%s)" % (what, ", ".join(codes)),
               "answers %d of %d; exit %s; stderr %r" % (len(answers), len(reqs), p.poll(), err[-400:]))
        p.send_signal(signal.SIGTERM)
        rc = p.wait(30)
        res.ok(rc == 0, "%s: then stops with status 0 (%s)" % (what, rc))
        q_p = subprocess.run([sift.exe("sift-query"), "--index", str(index)],
                             input=b"".join(r.encode() + b"\n" for r in reqs),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        res.ok(q_p.returncode >= 0 and q_p.returncode in (0, 1, 2),
               "%s: sift-query --index does not crash (exit %d)" % (what, q_p.returncode),
               q_p.stderr.decode(errors="replace")[-300:])
        return "served: " + ", ".join(codes)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def part_c(res, tmp):
    corpus = tmp / "c.jsonl"
    sift.generate(corpus, 1500, SEED % 1000 + 5)
    good = tmp / "c-good"
    p = sift.fixture_index(good, [corpus], "--batch", 500, "--quiet")
    if not res.ok(p.returncode == 0, "(c) index built", errtext(p)):
        return
    ids = read_ids(corpus)
    rng = random.Random(SEED + 5)

    start_fails(res, "(c) missing index", tmp / "no-such-index")
    empty = tmp / "c-empty"
    empty.mkdir()
    start_fails(res, "(c) empty directory", empty)

    # unreadable: root reads anything; run the tools as nobody when possible
    pub = Path(tempfile.mkdtemp(prefix="sift-faults-perm-"))
    try:
        os.chmod(pub, 0o755)
        unread = pub / "index"
        shutil.copytree(good, unread)
        os.chmod(unread, 0)
        if os.geteuid() != 0:
            start_fails(res, "(c) unreadable index directory", unread, expect=("permission",))
        else:
            r, p = q(unread, ["STATS"])
            res.note("(c) unreadable index: we are root, and root reads it anyway (sift-query exit %d)"
                     % p.returncode)
            probe = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                    sift.exe("sift-query"), "--version"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if probe.returncode != 0 or shutil.which("setpriv") is None:
                res.note("SKIP (c) unreadable index: cannot run the tools as nobody (%s); "
                         "not counted as a pass" % probe.stderr.decode(errors="replace").strip()[:200])
            else:
                start_fails(res, "(c) unreadable index directory (as nobody)", unread, user="nobody",
                            expect=("permission",))
                os.chmod(unread, 0o755)
                os.chmod(unread / "postlist.glass", 0)
                start_fails(res, "(c) unreadable postlist.glass (as nobody)", unread, user="nobody",
                            expect=("permission",))
    finally:
        if (pub / "index").exists():
            os.chmod(pub / "index", 0o755)
        for root, dirs, files in os.walk(pub):
            for x in dirs + files:
                try:
                    os.chmod(os.path.join(root, x), 0o755)
                except OSError:
                    pass
        shutil.rmtree(pub, ignore_errors=True)

    def copy(name):
        d = tmp / ("c-" + name)
        shutil.copytree(good, d)
        return d

    def garble(path, offset=0, n=None):
        size = os.path.getsize(path)
        n = size - offset if n is None else n
        with open(path, "r+b") as f:
            f.seek(offset)
            f.write(rng.randbytes(n))

    def truncate(path):
        with open(path, "r+b") as f:
            f.truncate(0)

    corrupt = [
        ("iamglass overwritten", lambda d: garble(d / "iamglass")),
        ("iamglass truncated", lambda d: truncate(d / "iamglass")),
        ("iamglass bytes 10-40 overwritten", lambda d: garble(d / "iamglass", 10, 30)),
        ("iamglass deleted", lambda d: os.unlink(d / "iamglass")),
        ("postlist.glass overwritten", lambda d: garble(d / "postlist.glass")),
        ("postlist.glass truncated", lambda d: truncate(d / "postlist.glass")),
        ("postlist.glass deleted", lambda d: os.unlink(d / "postlist.glass")),
        ("docdata.glass overwritten", lambda d: garble(d / "docdata.glass")),
        ("termlist.glass truncated", lambda d: truncate(d / "termlist.glass")),
    ]
    for name, fn in corrupt:
        d = copy(name.replace(" ", "-"))
        fn(d)
        start_fails(res, "(c) corrupt index: " + name, d)

    # damage that may only show at query time: never a crash
    reqs = ["STATS", "COUNT", "SEARCH the limit:100 facets:outlet,day", "SEARCH said OR was limit:50",
            "SEARCH a* limit:20", "SEARCH \"of the\" limit:5"] + ["GET " + x for x in rng.sample(ids, 20)]
    outcomes = []
    for k in range(6):
        d = copy("blocks-%d" % k)
        path = d / "postlist.glass"
        nblocks = os.path.getsize(path) // 8192
        for _ in range(1 + k % 3):
            garble(path, 8192 * rng.randrange(1, nblocks), 8192)
        outcomes.append(never_crashes(res, "(c) postlist.glass blocks overwritten (copy %d)" % (k + 1), d, reqs))
    res.note("(c) damaged postlist copies: %s" % outcomes)

    # a missing position table must not silently change phrase queries
    d = copy("no-positions")
    os.unlink(d / "position.glass")
    want, _ = q(good, ["COUNT \"of the\"", "COUNT of the"])
    got, p = q(d, ["COUNT \"of the\""])
    phrase = got[0] if got else None
    res.ok(p.returncode != 0 or (phrase and (not phrase.get("ok") or phrase.get("count") == want[0].get("count"))),
           "(c) position.glass deleted: phrase queries are refused or right, never silently wrong",
           "sift-query exit %d: COUNT \"of the\" -> %s; intact index: %s (and %s without quotes)"
           % (p.returncode, sift.short(phrase), sift.short(want[0]), sift.short(want[1])))


# ---- (d) the index changed under a running daemon ----------------------------


def articles(word, n, day):
    return "".join(json.dumps({
        "id": "faults-%s-%d" % (word, i), "outlet": "Faults Test Wire", "date": "2024-03-%02d" % day,
        "title": "%s report %d" % (word.capitalize(), i), "lang": "en", "tags": ["faults"],
        "body": "The %s committee met.\nA second paragraph about %s." % (word, word)}) + "\n"
        for i in range(n))


class Canaries:
    """Clients querying each daemon in a loop: every answer must be ok, and
    `fixed` requests must keep their first answer."""

    def __init__(self, daemons, fixed, varying, per_daemon=2):
        self.stop = False
        self.failures = []
        self.count = 0
        self.fixed = fixed
        self.varying = varying
        self.threads = []
        for d in daemons:
            for i in range(per_daemon):
                t = threading.Thread(target=self.run, args=(d, i), daemon=True)
                t.start()
                self.threads.append(t)

    def run(self, d, i):
        first = {}
        try:
            c = d.connect(timeout=30)
            while not self.stop:
                for r in self.fixed + self.varying:
                    resp = c.request(r)
                    obj = json.loads(resp)
                    self.count += 1
                    if not obj.get("ok") and not (r.startswith("GET") and
                                                  (obj.get("error") or {}).get("code") == "not_found"):
                        self.failures.append("%s: %s" % (r, resp[:200]))
                    if r in self.fixed:
                        body = resp.split(b'"took_us"')[0]
                        if first.setdefault(r, body) != body:
                            self.failures.append("%s changed: %s -> %s" % (r, first[r][:120], body[:120]))
                time.sleep(0.002)
            c.close()
        except Exception as e:  # noqa: BLE001
            self.failures.append("client %d: %r" % (i, e))

    def finish(self):
        self.stop = True
        for t in self.threads:
            t.join(60)
        return self.failures


def part_d(res, tmp):
    corpus = tmp / "d.jsonl"
    sift.generate(corpus, 2000, SEED % 1000 + 6)
    idx = tmp / "d-index"
    p = sift.fixture_index(idx, [corpus], "--quiet")  # created, so compacted: revision 1
    if not res.ok(p.returncode == 0, "(d) index built", errtext(p)):
        return
    ids = read_ids(corpus)
    words = ["zorblaxian", "quuxifrage", "frobnoxian", "glimmerwock"]
    steps = [("added without compaction", words[0], 40, []),
             ("added with --compact", words[1], 30, ["--compact"]),
             ("added with --compact again", words[2], 20, ["--compact"]),
             ("added without compaction again", words[3], 10, [])]
    daemons = []
    try:
        daemons.append(("cache", Daemon(idx, tmp, "--reload-interval", 1, threads=2)))
        daemons.append(("no cache", Daemon(idx, tmp, "--reload-interval", 1, "--cache-mb", 0, threads=2)))
        r, _ = q(idx, ["STATS"])
        res.note("(d) index of %d articles at revision %s" % (r[0].get("docs"), r[0].get("revision")))
        fixed = ["COUNT %s" % w for w in ("said", "were", "would")] + ["GET " + ids[5], "GET " + ids[-1]]
        varying = ["COUNT %s" % w for w in words] + ["GET faults-%s-0" % w for w in words] + \
                  ["SEARCH committee limit:5", "STATS"]
        can = Canaries([d for _, d in daemons], fixed, varying)
        time.sleep(1)
        expect = {}
        seen_by = {name: {} for name, _ in daemons}  # words each daemon has shown
        for k, (how, word, n, extra) in enumerate(steps):
            src = tmp / ("d-%s.jsonl" % word)
            src.write_text(articles(word, n, k + 1))
            r, _ = q(idx, ["STATS"])
            rev0 = r[0].get("revision")
            t0 = time.time()
            p = sift.index(idx, [src], "--quiet", *extra)
            if not res.ok(p.returncode == 0, "(d) step %d: sift-indexer %s works" % (k + 1, how), errtext(p)):
                continue
            r, _ = q(idx, ["STATS", "COUNT %s" % word])
            expect[word] = n
            res.note("(d) step %d: %d articles %s: revision %s -> %s, %s articles (local COUNT %s %s)"
                     % (k + 1, n, how, rev0, r[0].get("revision"), r[0].get("docs"), word,
                        r[1].get("count")))
            for name, d in daemons:
                c = d.connect()
                seen = None
                want = dict(seen_by[name], **{word: n})  # this step's and those seen before
                while time.time() - t0 < VISIBLE_LIMIT * SLOW:
                    counts = {w: json.loads(c.request("COUNT %s" % w)).get("count") for w in want}
                    doc = json.loads(c.request("GET faults-%s-%d" % (word, n - 1)))
                    if counts == want and doc.get("ok"):
                        seen = time.time() - t0
                        seen_by[name][word] = n
                        break
                    time.sleep(0.1)
                st = json.loads(c.request("STATS"))
                c.close()
                res.ok(seen is not None,
                       "(d) step %d (%s), daemon with %s: the new articles are visible within %d s%s"
                       % (k + 1, how, name, VISIBLE_LIMIT, " (%.1f s)" % seen if seen is not None else ""),
                       "after %.0f s: COUNTs %s (want %s), GET faults-%s-%d -> %s; daemon STATS docs %s "
                       "revision %s" % (time.time() - t0, counts, want, word, n - 1,
                                        sift.short(doc, 120), st.get("docs"), st.get("revision")))
        time.sleep(0.5)
        failures = can.finish()
        res.ok(not failures, "(d) canaries: %d requests while the index changed, no failure" % can.count,
               "\n".join(failures[:10]))
        for name, d in daemons:
            res.ok(d.stop() == 0, "(d) daemon with %s stops with status 0" % name)
    finally:
        for _, d in daemons:
            d.kill()


def main():
    res = sift.Results("test_faults")
    sift.require_binaries(res, ("sift-indexer", "sift-query", "sift-searchd", "sift-gen"))
    only = sys.argv[1:]
    # a scratch directory per selection: CTest runs the parts in parallel
    tmp = sift.scratch("-".join(["faults"] + only))
    for name, fn in (("a", part_a), ("b", part_b), ("c", part_c), ("d", part_d)):
        if only and name not in only:
            continue
        t0 = time.time()
        try:
            fn(res, tmp)
        except Exception:  # noqa: BLE001
            res.fail("(%s) aborted" % name, traceback.format_exc())
        res.note("part (%s): %.1f s" % (name, time.time() - t0))
    res.finish()


if __name__ == "__main__":
    main()
