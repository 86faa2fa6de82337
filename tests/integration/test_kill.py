"""test_kill: SIGKILL in the middle of indexing leaves an index that opens and
answers, at its last commit.

sift-indexer --batch 200 runs over a generated corpus and is killed with
SIGKILL at seeded random moments (0.5-3 s), building a new index with one
writer or in parallel shards (--jobs), or adding to one.  After each kill, sift-query
--index must open the index and answer STATS, COUNT, SEARCH and GET; the
number of articles must be a whole number of batches (or the whole input);
the articles of the committed batches must be there (the corpus is read in
order) and the next one must not.  Later runs go on with the same index
(killed again, then run to the end), and the end state must be complete.
A kill before the first commit must leave either an empty index that opens,
or nothing sift-query mistakes for an index, and the next run must work.  A
daemon serving the shards a killed parallel build left must follow the next
run, which merges them.
"""

import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sift  # noqa: E402

BATCH = 200
NDOCS = int(os.environ.get("SIFT_KILL_DOCS", "8000"))
SEED = int(os.environ.get("SIFT_TEST_SEED", "20240517"))


def make_corpus(res, tmp):
    path = tmp / "kill.jsonl"
    if sift.have("sift-gen"):
        try:
            sift.generate(path, NDOCS, SEED % 1000)
            ids = read_ids(path)
            if len(ids) == NDOCS:
                return path, ids
            res.fail("sift-gen --docs %d wrote %d articles" % (NDOCS, len(ids)))
        except Exception as e:  # noqa: BLE001
            res.fail("sift-gen runs", str(e))
    res.note("using the Python corpus generator")
    sift.py_generate(path, NDOCS, SEED)
    return path, read_ids(path)


def read_ids(path):
    ids = []
    with open(path, "rb") as f:
        for line in f:
            if line.strip():
                ids.append(json.loads(line)["id"])
    return ids


def kill_after(idx, corpus, delay, jobs=2):
    """Start the indexer (a new index in `jobs` parallel shards), SIGKILL it
    after delay seconds.  Returns (killed, returncode, stderr)."""
    return sift.kill_after([sift.exe("sift-indexer"), "--index", idx, "--batch", BATCH,
                            "--jobs", jobs, "--quiet", corpus], delay, 0.01)


def follow_merge(res, tmp, idx, corpus, ids, last):
    """A daemon serving the shards a killed parallel build left follows the
    next run, which merges them into one database and completes the index."""
    from test_hostile import Daemon

    try:
        d = Daemon(idx, tmp, "--reload-interval", "1", threads=1)
    except AssertionError as e:
        res.fail("sift-searchd serves the shards of a killed parallel build", str(e))
        return
    try:
        c = d.connect()
        got = json.loads(c.request("COUNT"))
        res.ok(got.get("count") == last, "sift-searchd serves the killed build's shards (%s)" % got)
        p = sift.index(idx, [corpus], "--batch", str(BATCH), "--quiet")
        res.ok(p.returncode == 0 and not (idx / "XAPIANDB").exists(),
               "the next run merges the shards and completes the index",
               "exit %d: %s" % (p.returncode, sift.short(p.stderr.decode("utf-8", "replace"))))
        deadline = time.time() + 20
        while time.time() < deadline:
            got = json.loads(c.request("COUNT"))
            if got.get("count") == len(ids):
                break
            time.sleep(0.1)
        res.ok(got.get("count") == len(ids), "the daemon then serves the merged index (%s)" % got,
               d.log_text()[-1500:])
        c.close()
    finally:
        d.kill()


def check_index(res, what, idx, ids, prev=0, fresh=True):
    """The index opens and answers; returns its article count (or None)."""
    r, proc = sift.query_batch(idx, ["STATS", "COUNT", "SEARCH sort:newest limit:3"], timeout=120)
    if not res.ok(proc.returncode == 0 and all(x and x.get("ok") for x in r),
                  "%s: sift-query opens the index and answers" % what,
                  "exit %d; stderr %s; responses %s" % (proc.returncode,
                                                        sift.short(proc.stderr.decode("utf-8", "replace")),
                                                        sift.short(r))):
        return None
    docs, count = r[0].get("docs"), r[1].get("count")
    res.ok(docs == count, "%s: STATS docs = COUNT" % what, "docs %s, count %s" % (docs, count))
    whole = count == len(ids) or count % BATCH == 0
    res.ok(whole, "%s: %s articles is a whole number of %d-article batches" % (what, count, BATCH))
    res.ok(count >= prev, "%s: no committed article lost (%d before, %d now)" % (what, prev, count))
    hits = r[2].get("hits") or []
    res.ok(len(hits) == min(3, count), "%s: SEARCH returns hits" % what, sift.short(r[2]))
    # the committed articles are the first `count` of the input (fresh index)
    if fresh and count:
        probe = [ids[0], ids[count - 1]] + ([ids[count]] if count < len(ids) else [])
        g, _ = sift.query_batch(idx, ["GET " + x for x in probe] + ["GET " + h["id"] for h in hits])
        res.ok(g[0] and g[0].get("ok") and g[1] and g[1].get("ok"),
               "%s: first and last committed articles readable" % what, sift.short(g[:2]))
        if count < len(ids):
            res.ok(g[2] and (g[2].get("error") or {}).get("code") == "not_found",
                   "%s: the article after the last commit is absent" % what, sift.short(g[2]))
        for x in g[len(probe):]:
            res.ok(x and x.get("ok") and isinstance((x.get("doc") or {}).get("body", ""), str),
                   "%s: GET of a hit decodes" % what, sift.short(x))
    return count


def main():
    res = sift.Results("test_kill")
    sift.require_binaries(res, ("sift-indexer", "sift-query"))
    tmp = sift.scratch("kill")
    corpus, ids = make_corpus(res, tmp)
    rng = random.Random(SEED)
    delays = sorted(rng.uniform(0.5, 3.0) for _ in range(5))
    rng.shuffle(delays)

    # 1. kills before the first commit can have happened (while the index is
    # being created): what is left must open as an (empty) index, or be
    # nothing at all, and the next run must work.
    small = tmp / "small.jsonl"
    with open(corpus, "rb") as f, open(small, "wb") as out:
        for k, line in enumerate(f):
            if k >= 500:
                break
            out.write(line)
    for k, delay in enumerate((0.01, 0.03, 0.1, 0.3)):
        idx0 = tmp / ("index-early-%d" % k)
        what = "early kill after %.2f s" % delay
        kill_after(idx0, corpus, delay, jobs=1 + k % 2)
        left = sorted(x.name for x in idx0.iterdir()) if idx0.exists() else None
        r, proc = sift.query_batch(idx0, ["STATS"], timeout=60)
        if left is None:
            res.note("%s: no index directory yet" % what)
        else:
            res.ok(proc.returncode == 0 and r[0] and r[0].get("ok") and r[0].get("docs") % BATCH == 0,
                   "%s: what is left opens as an index (files: %s)" % (what, " ".join(left)),
                   "exit %d; stderr %s; %s" % (proc.returncode,
                                                sift.short(proc.stderr.decode("utf-8", "replace")),
                                                sift.short(r[0])))
        p = sift.index(idx0, [small], "--quiet")
        res.ok(p.returncode == 0, "%s: the next run works" % what,
               "exit %d: %s" % (p.returncode, sift.short(p.stderr.decode("utf-8", "replace"))))
        r, _ = sift.query_batch(idx0, ["STATS"], timeout=60)
        res.ok(r[0] and r[0].get("docs") == 500, "%s: the next run indexes everything" % what,
               sift.short(r[0]))

    # 2. kills at random moments, each on a fresh index (one writer, then
    # parallel shards: committed in input order, so whole batches too)
    for k, delay in enumerate(delays[:3]):
        idx = tmp / ("index-%d" % k)
        jobs = 1 if k == 0 else k + 1
        killed, rc, err = kill_after(idx, corpus, delay, jobs)
        what = "kill %d after %.2f s (--jobs %d)" % (k + 1, delay, jobs)
        if not killed:
            res.note("%s: the indexer finished first (exit %d)" % (what, rc))
        if killed and not idx.exists():
            # A parallel build reads and trains on its first batch before it
            # creates the index (shards.c: no index, or a whole empty one);
            # a slow (sanitized) run can be killed before that.
            res.note("%s: killed before the index was created" % what)
            last = 0
            continue
        last = check_index(res, what, idx, ids)
        res.note("%s: %s articles committed" % (what, last))
        if k == 1 and (idx / "XAPIANDB").exists():
            follow_merge(res, tmp, idx, corpus, ids, last)

    # 3. kills on an index that already holds articles, then a full run
    idx = tmp / "index-2"
    prev = last or 0
    if not prev:
        # The last kill of 2. landed before a commit (likely on a loaded
        # machine): start from two whole batches so that these kills hit an
        # index that exists and holds articles, as this part means to.
        first = tmp / "first-batches.jsonl"
        with open(corpus, "rb") as f, open(first, "wb") as out:
            out.writelines(line for _, line in zip(range(2 * BATCH), f))
        p = sift.index(idx, [first], "--batch", str(BATCH), "--quiet")
        res.ok(p.returncode == 0, "two batches indexed before the re-run kills",
               "exit %d: %s" % (p.returncode, sift.short(p.stderr.decode("utf-8", "replace"))))
        prev = check_index(res, "before the re-run kills", idx, ids) or 0
    for k, delay in enumerate(delays[3:]):
        what = "re-run kill %d after %.2f s" % (k + 1, delay)
        killed, rc, err = kill_after(idx, corpus, delay)
        n = check_index(res, what, idx, ids, prev, fresh=False)
        res.note("%s: %s articles" % (what, n))
        prev = n or prev
    p = sift.index(idx, [corpus], "--batch", str(BATCH))
    s = p.stderr.decode("utf-8", "replace")
    res.ok(p.returncode == 0, "a full run on the killed index works", "exit %d: %s" % (p.returncode, s))
    n = check_index(res, "after the full run", idx, ids, prev)
    res.ok(n == len(ids), "after the full run the index holds every article (%d)" % len(ids), "got %s" % n)
    # every article is there and replacements did not duplicate any
    sample = rng.sample(ids, min(50, len(ids)))
    g, _ = sift.query_batch(idx, ["GET " + x for x in sample])
    res.ok(all(x and x.get("ok") for x in g), "after the full run every sampled article is readable",
           sift.short([x for x in g if not (x and x.get("ok"))][:3]))
    res.finish()


if __name__ == "__main__":
    main()
