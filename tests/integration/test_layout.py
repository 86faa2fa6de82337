"""test_layout: an archive laid out by time answers exactly as one index.

A generated corpus (no article text) is indexed twice: into one index, and
with `--layout month` into an archive of one shard per month, in two runs
as news would arrive (the second run adds new months, adds to old ones,
replaces articles in place and moves some to another month by a new date).
Every request of a set weighted towards dates (days, months, years, open
ranges, OR of dates, filters alone, text within a month, facets, every
sort), and GET and STATS, must give the one index's answers.  The archive
must be laid out as promised: XAPIANDB lists the months in order, each
shard holds only its month's articles, an article that moved is in one
shard only.  A year layout built in one run answers the same, and so does
one built from more articles than train the dictionary, whose writers
start while the input is still being read (periods.c).  Misuse
(--layout on an index that is not laid out by time, another unit) fails
with one line.
"""

import json
import os
import random
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sift  # noqa: E402
from test_shards import compare, write_jsonl  # noqa: E402

SEED = int(os.environ.get("SIFT_TEST_SEED", "20261204"))


def corpora(d, rng):
    gen = sift.py_generate(d / "gen.jsonl", 1200, SEED, body_words=(30, 200))
    docs = [json.loads(line) for line in open(gen, encoding="utf-8")]
    first, second = docs[:800], docs[800:]
    # The second run also brings new copies of earlier articles: some with
    # the same date (replaced in place), some with another month (moved),
    # some that lose their date, and articles of months not seen before.
    for doc in rng.sample(first, 60):
        copy = dict(doc, title=doc["title"] + " updated")
        r = rng.random()
        if r < 0.4:
            copy["date"] = "2021-%02d-%02d" % (rng.randint(1, 12), rng.randint(1, 28))
        elif r < 0.5:
            copy.pop("date", None)
        second.append(copy)
    rng.shuffle(second)
    return first, second


def requests(docs, rng):
    words = [w for doc in docs for w in doc["body"].split()[:30] if w.isalpha()]
    common = sorted(set(words), key=words.count, reverse=True)[:30]
    reqs = ["STATS"]
    months = sorted({doc["date"][:7] for doc in docs if "date" in doc})
    for m in rng.sample(months, 25):
        y = m[:4]
        w = rng.choice(common)
        reqs += ["COUNT date:%s" % m, "SEARCH date:%s limit:1000 facets:outlet,day" % m,
                 "SEARCH %s date:%s limit:1000 facets:month" % (w, m),
                 "SEARCH %s date:%s limit:1000 sort:newest" % (w, y),
                 "COUNT %s date:%s..%s-12" % (w, m, y),
                 "SEARCH date:%s.. outlet:reuters limit:1000 sort:oldest facets:year" % m,
                 "SEARCH %s date:..%s limit:1000 facets:outlet" % (w, m),
                 "SEARCH (date:%s OR date:%s) %s limit:1000" % (m, rng.choice(months), w),
                 "SEARCH date:%s-1%d limit:1000" % (m, rng.randint(0, 2))]
        # ranked on the period's shards with the whole archive's statistics
        # (xw_global_bm25): scores must be the one index's
        w2 = rng.choice(common)
        reqs += ['SEARCH "%s %s" date:%s limit:1000' % (w, w2, y),
                 "SEARCH (%s OR %s) date:%s limit:1000" % (w, w2, m),
                 "SEARCH %s -%s title:%s date:%s limit:1000" % (w, w2, w2, y),
                 "SEARCH %s %s outlet:reuters date:%s limit:1000 match:any" % (w, w2, y),
                 "SEARCH %s now:%s-28 since:1m sort:recent limit:1000" % (w, m),
                 "TIMELINE %s date:%s by:day" % (w, m)]
    reqs += ["SEARCH %s limit:1000 facets:month" % w for w in common[:10]]
    reqs += ["COUNT -date:2013", "SEARCH limit:1000 sort:oldest facets:year", "COUNT date:1990..2011"]
    reqs += ["GET %s" % doc["id"] for doc in rng.sample(docs, 60)]
    return reqs


def streaming(res, d, rng):
    """More articles than IDX_TRAIN_DOCS (4,000): a new archive's writers
    start once the dictionary is trained and build the periods as their
    batches arrive, while the rest is still read."""
    gen = sift.py_generate(d / "many.jsonl", 5200, SEED + 1, body_words=(6, 30))
    docs = [json.loads(line) for line in open(gen, encoding="utf-8")]
    for name, extra in (("MANY", []), ("MANY-YEARS", ["--layout", "year"])):
        p = sift.index(d / name, [gen], "--jobs", "2", "--batch", "50", *extra)
        res.ok(p.returncode == 0, "indexing %s" % name, p.stderr.decode("utf-8", "replace")[-400:])
    words = [w for doc in docs for w in doc["body"].split() if w.isalpha()]
    common = sorted(set(words), key=words.count, reverse=True)[:40]
    years = sorted({doc["date"][:4] for doc in docs if "date" in doc})
    reqs = ["STATS", "SEARCH limit:0 facets:year,month"]
    reqs += ["COUNT date:%s" % y for y in years]
    reqs += ["SEARCH %s date:%s limit:1000 facets:outlet" % (rng.choice(common), rng.choice(years))
             for _ in range(40)]
    reqs += ["GET %s" % doc["id"] for doc in rng.sample(docs, 40)]
    want, _ = sift.query_batch(d / "MANY", reqs)
    got, _ = sift.query_batch(d / "MANY-YEARS", reqs)
    res.ok(want[0].get("docs") == len(docs), "the one index holds every article (%s)" % want[0])
    compare(res, "a year layout built while reading", reqs, want, got)
    res.ok(not (d / "MANY-YEARS" / ".spool").exists(), "the spool is gone after the run")
    interrupted(res, d / "STOPPED", gen, len(docs))


def interrupted(res, idx, gen, total):
    """SIGINT once the first period's shard exists: the writers stop at
    their next commit instead of building all that was read, and the run
    says what it committed."""
    p = subprocess.Popen([sift.exe("sift-indexer"), "--index", str(idx), "--layout", "year",
                          "--jobs", "2", "--batch", "50", str(gen)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t_end = time.time() + 120
    while time.time() < t_end and p.poll() is None and "auto " not in read_or_empty(idx / "XAPIANDB"):
        time.sleep(0.005)
    if not res.ok(p.poll() is None, "the build is still running when its first shard appears"):
        p.communicate()
        return
    p.send_signal(signal.SIGINT)
    t0 = time.time()
    try:
        _, err = p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        res.fail("an interrupted layout build did not exit within 120 s")
        return
    err = err.decode("utf-8", "replace")
    res.note("SIGINT: exit %d after %.1f s; %s" % (p.returncode, time.time() - t0, err.strip()[-300:]))
    res.ok(p.returncode == 130 and "interrupted" in err, "SIGINT ends the run with 130", err[-300:])
    m = re.search(r"added (\d+), replaced (\d+)", err)
    stats, _ = sift.query_batch(idx, ["STATS"])
    docs = (stats[0] or {}).get("docs")
    res.ok(m is not None and int(m.group(1)) == docs, "the summary counts what the index holds",
           "%s vs %s" % (m and m.group(0), docs))
    res.ok(docs is not None and docs < total, "the writers stopped before building everything read "
           "(%s of %d)" % (docs, total))
    res.ok(not (idx / ".spool").exists(), "the spool is gone after an interrupted run")


def read_or_empty(path):
    try:
        return path.read_text()
    except OSError:
        return ""


def main():
    res = sift.Results("test_layout")
    sift.require_binaries(res)
    rng = random.Random(SEED)
    d = sift.scratch("layout")
    first, second = corpora(d, rng)
    f1, f2 = write_jsonl(d / "first.jsonl", first), write_jsonl(d / "second.jsonl", second)

    for name, runs in (("ALL", [(f1, f2)]), ("MONTHS", [(f1,), (f2,)]), ("YEARS", [(f1, f2)])):
        for k, files in enumerate(runs):
            extra = []
            if name != "ALL" and k == 0:
                extra = ["--layout", "month" if name == "MONTHS" else "year"]
            p = sift.index(d / name, files, "--jobs", "2", "--batch", "100", *extra)
            res.ok(p.returncode == 0, "indexing %s (run %d)" % (name, k + 1),
                   p.stderr.decode("utf-8", "replace")[-400:])

    final = {}
    for doc in first + second:
        final[doc["id"]] = doc
    reqs = requests(list(final.values()), rng)
    want, _ = sift.query_batch(d / "ALL", reqs)
    res.ok(want[0].get("docs") == len(final), "one index holds every article once (%s)" % want[0])
    for name in ("MONTHS", "YEARS"):
        got, _ = sift.query_batch(d / name, reqs)
        compare(res, "layout by %s" % name.lower(), reqs, want, got)

    # The layout itself.
    stub = (d / "MONTHS" / "XAPIANDB").read_text().split("\n")
    shards = [line.split(" ", 1)[1] for line in stub if line]
    res.ok(shards == sorted(shards) and all(line.startswith("auto ") for line in stub if line),
           "XAPIANDB lists the periods in order", " ".join(shards[:8]))
    want_months = sorted({doc["date"][:7] for doc in final.values() if "date" in doc})
    res.ok([s for s in shards if s != "undated"] == want_months and "undated" in shards,
           "one shard per month, and one for undated articles")
    counts = []
    for s in shards:
        period = "date:0001..9999" if s == "undated" else "-date:%s" % s
        r, _ = sift.query_batch(d / "MONTHS" / s, ["COUNT %s" % period, "STATS"])
        res.ok(r[0] == {"ok": True, "count": 0}, "shard %s holds only its period" % s, sift.short(r[0]))
        counts.append(r[1].get("docs", 0))
    res.ok(sum(counts) == len(final), "each article in one shard (%d in the shards, %d ids)"
           % (sum(counts), len(final)))

    streaming(res, d, rng)

    p = sift.index(d / "ALL", [f1], "--layout", "month")
    res.ok(p.returncode != 0 and len(p.stderr.strip().split(b"\n")) == 1,
           "--layout on an index not laid out by time fails in one line", p.stderr.decode()[-300:])
    p = sift.index(d / "MONTHS", [f1], "--layout", "year")
    res.ok(p.returncode != 0 and b"month" in p.stderr, "another unit for a month archive fails",
           p.stderr.decode()[-300:])
    res.finish()


if __name__ == "__main__":
    main()
