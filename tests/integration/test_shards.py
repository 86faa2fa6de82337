"""test_shards: indexes built apart answer together exactly as one index.

A generated corpus (pseudo-words in several languages, no article text) is
split three ways and each part indexed on its own, as separate machines or
separate days would: part A with two writers, part B with one writer and
Spanish as its default language (so its own dictionary, default and stem
spelling differ from A's), part C with small batches.  One index ALL is
built from every article.  Then each way of reading the parts together

  - a Xapian stub file listing A, B and C ("auto" lines),
  - the same served by sift-searchd, a query's shards matched on threads,
  - three --index flags,
  - a stub directory (a directory holding XAPIANDB) with C served by
    xapian-tcpsrv ("remote" line),

must give exactly ALL's answers to a few hundred requests: COUNT, SEARCH
totals, every hit's score, fields and snippet, facets, date order, GET and
STATS' article count.  Hits with equal scores (or dates) may come in either
order, since docids differ; every page is fetched whole, so the sets match.

Then the remote shard fails under a running daemon: stopped (SIGSTOP), a
request is answered `timeout` within the query timeout, naming the shard;
killed, `busy` naming it; started again, the daemon answers as before.
"""

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sift  # noqa: E402

SEED = int(os.environ.get("SIFT_TEST_SEED", "20261203"))
NDOCS = 900

# Our own sentences, in the languages whose stemmers differ most from
# English: inflected forms must find each other in whichever shard.
OWN_TEXT = [
    ("es", "Las negociaciones siguen en los hospitales", "La negociación del hospital sigue abierta."),
    ("es", "Un hospital cerrado", "Los hospitales de la ciudad piden negociaciones nuevas."),
    ("fr", "Les négociations continuent", "Une négociation difficile dans les hôpitaux."),
    ("fr", "Hôpital fermé", "Les hôpitaux demandent une négociation."),
    ("en", "Hospitals negotiate", "The negotiations with hospital staff go on."),
    (None, "Negotiation stalls", "Hospital negotiations stalled again."),
]


AUTHOR_VARIANTS = ["ANN GEN", "ann gen, Bo Gen", "Cy Gen; Di Gen and Ann Gen", "Bo Gen",
                   "Di Gen, Ed Gen", "DI GEN"]
TAG_VARIANTS = ["White House", "white-house", "ECONOMY", "health"]


def write_parts(d, rng):
    """The whole corpus and its three parts (lists of JSON lines)."""
    gen = sift.py_generate(d / "gen.jsonl", NDOCS, SEED, body_words=(40, 240))
    docs = [json.loads(line) for line in open(gen, encoding="utf-8")]
    for i, (lang, title, body) in enumerate(OWN_TEXT):
        doc = {"id": "own-%d" % i, "outlet": "Own Desk", "title": title, "body": body,
               "date": "2019-0%d-1%d" % (i % 9 + 1, i)}
        if lang:
            doc["lang"] = lang
        docs.append(doc)
    for doc in docs:
        r = rng.random()
        if doc["id"].startswith("gen-") and r < 0.3:
            doc["lang"] = "es"
        elif doc["id"].startswith("gen-") and r < 0.45:
            doc["lang"] = "fr"
    # Names spelled differently, listed with others: the author and tag
    # facets count names, spelled as most matches spell them, across shards.
    for doc in docs:
        r = rng.random()
        if doc["id"].startswith("gen-") and r < 0.25:
            doc["author"] = rng.choice(AUTHOR_VARIANTS)
        if doc["id"].startswith("gen-") and r < 0.1:
            doc["tags"] = rng.sample(TAG_VARIANTS, 2)
    rng.shuffle(docs)
    parts = {"A": [], "B": [], "C": []}
    for i, doc in enumerate(docs):
        name = "ABC"[i % 3]
        if name == "B" and "lang" not in doc:
            doc = dict(doc, lang="en")  # B's default is Spanish: say English
        parts[name].append(doc)
    return [doc for p in parts.values() for doc in p], parts


def write_jsonl(path, docs):
    with open(path, "w", encoding="utf-8") as f:
        for doc in docs:
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return str(path)


def make_requests(docs, rng):
    words = []
    for doc in docs:
        words.extend(w for w in doc["body"].split() if w.isalpha())
    common = sorted(set(words), key=words.count, reverse=True)[:40]
    rare = rng.sample(sorted(set(words)), 60)
    reqs = ["STATS"]
    facets = ["facets:outlet,month", "facets:author,tag:20", "facets:year,day",
              "facets:author:all,tag:all"]
    sorts = ["", "sort:newest", "sort:oldest"]
    for w in rare + common[:20]:
        reqs.append("COUNT %s" % w)
        reqs.append("SEARCH %s limit:1000 %s" % (w, rng.choice(facets)))
    for _ in range(60):
        a, b = rng.sample(common, 2)
        form = rng.choice(["%s %s", "%s OR %s", "%s -%s", "(%s OR %s) date:2014..2018",
                           "title:%s OR %s", "%s* %s"])
        q = form % (a[:3] if form.startswith("%s*") else a, b)
        reqs.append("COUNT %s" % q)
        reqs.append("SEARCH %s limit:1000 %s %s" % (q, rng.choice(facets), rng.choice(sorts)))
    # Ranges of days: filtered from the day column, each shard taking its
    # own docids of the range (xw_query_column_range), inside AND, OR, NOT.
    days = sorted({d["date"][:10] for d in docs if d.get("date")})
    for _ in range(24):
        i = rng.randrange(len(days))
        lo, hi = days[i], days[min(len(days) - 1, i + rng.choice([1, 3, 10, 40]))]
        a, b = rng.sample(common, 2)
        r = "date:%s..%s" % (lo, hi)
        q = rng.choice(["%s %s" % (a, r), "%s OR (%s %s)" % (a, b, r), "%s -%s" % (a, r),
                        "%s date:%s.." % (a, hi), "%s" % r])
        reqs.append("COUNT %s" % q)
        reqs.append("SEARCH %s limit:1000 %s %s" % (q, rng.choice(facets), rng.choice(sorts)))
        reqs.append("TIMELINE %s" % q)
    for doc in rng.sample([d for d in docs if len(d["body"].split()) > 5], 30):
        ws = doc["body"].split()
        k = rng.randrange(len(ws) - 2)
        reqs.append('SEARCH "%s %s" limit:1000 facets:outlet' % (ws[k], ws[k + 1]))
    for q in ["negociaciones", "hospitales", "hôpital", "negotiations", "hospital",
              'outlet:"own desk"', "lang:es facets:outlet", "lang:fr date:2015", "",
              'outlet:reuters -outlet:"al jazeera" date:2016-03..2017 facets:month']:
        reqs.append("COUNT %s" % q)
        for s in sorts:
            reqs.append("SEARCH %s limit:1000 facets:outlet,tag %s" % (q, s))
    reqs.append(json.dumps({"op": "search", "q": common[0], "outlet": ["Reuters", "Gen Times"],
                            "from": "2013-01", "to": "2019-06", "limit": 1000,
                            "facets": ["outlet", "month"]}))
    for doc in rng.sample(docs, 40):
        reqs.append("GET %s" % doc["id"])
    reqs.append("GET no-such-id")
    return reqs


def normal(req, r):
    """An answer with what may differ between shardings taken out: the
    time, the cursor, and the order of hits that tie on their sort key."""
    if not isinstance(r, dict):
        return r
    r = dict(r)
    r.pop("took_us", None)
    r.pop("next", None)  # a cursor is opaque, and may name docids
    if "hits" in r:
        if "sort:newest" in req or "sort:oldest" in req:
            key = lambda h: (h.get("date") or "", h["id"])  # noqa: E731
        else:
            key = lambda h: (-h["score"], h["id"])  # noqa: E731
        hits = sorted((dict(h) for h in r["hits"]), key=key)
        for h in hits:
            h.pop("rank", None)
        r["hits"] = hits
    if r.get("ok") and "docs" in r:  # STATS: the article count is what must agree
        r = {"docs": r["docs"]}
    return r


def check_order(res, name, req, r):
    """Within the answer itself, hits come in the order asked for."""
    hits = r.get("hits") if isinstance(r, dict) else None
    if not hits:
        return
    if "sort:newest" in req or "sort:oldest" in req:
        keys = [h.get("date") or "~" for h in hits]
        ok = keys == sorted(keys, reverse="sort:newest" in req) or "date" not in hits[-1]
    else:
        ok = all(hits[i]["score"] >= hits[i + 1]["score"] for i in range(len(hits) - 1))
    res.ok(ok, "%s: hits out of order for %s" % (name, req))


def compare(res, name, reqs, want, got):
    bad = 0
    for req, w, g in zip(reqs, want, got):
        check_order(res, name, req, g)
        if normal(req, w) != normal(req, g):
            bad += 1
            if bad <= 5:
                res.fail("%s differs from one index for %s" % (name, req),
                         "one index: %s\n%s: %s" % (sift.short(w, 600), name, sift.short(g, 600)))
    res.ok(bad == 0, "%s: %d of %d answers differ" % (name, bad, len(reqs)))
    res.note("%s: %d requests, %d differ" % (name, len(reqs), bad))


def group_signal(p, sig):
    """xapian-tcpsrv forks a process per connection: signal them all."""
    try:
        os.killpg(p.pid, sig)
    except ProcessLookupError:
        pass


def start_tcpsrv(port, db):
    p = subprocess.Popen(["xapian-tcpsrv", "--interface", "127.0.0.1", "--port", str(port),
                          "--quiet", str(db)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise RuntimeError("xapian-tcpsrv did not start")


def start_daemon(stub, *extra):
    """sift-searchd over stub on a free port, result cache off, every
    request on a worker: (process, port)."""
    port = sift.free_port()
    daemon = subprocess.Popen([sift.exe("sift-searchd"), "--index", str(stub), "--listen",
                               "127.0.0.1:%d" % port, "--cache-mb", "0", "--inline-budget", "0",
                               "--log-level", "warn", *extra],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return daemon, port


def stop_daemon(daemon):
    daemon.send_signal(signal.SIGTERM)
    try:
        daemon.wait(timeout=30)
    except subprocess.TimeoutExpired:
        daemon.kill()


def check_remote_failures(res, stub, servers, tcpsrv_port, db_c):
    """A daemon over the stub with a remote shard: the shard stops, dies and
    comes back; errors name it, come within the timeout, and pass."""
    daemon, port = start_daemon(stub, "--query-timeout", "1500", "--threads", "2")
    try:
        c = sift.connect_when_up(port)
        if c is None:
            res.fail("sift-searchd did not start on the stub with a remote shard")
            return
        shard = "127.0.0.1:%d" % tcpsrv_port
        ask = lambda line: json.loads(c.request(line))  # noqa: E731
        base = ask("COUNT lang:es")
        res.ok(base.get("ok") is True, "COUNT through a remote shard", sift.short(base))
        srv = servers[-1]
        group_signal(srv, signal.SIGSTOP)  # hung: accepts, never answers
        t0 = time.time()
        r = ask("SEARCH lang:es limit:5")
        took = time.time() - t0
        err = r.get("error", {}) if isinstance(r, dict) else {}
        res.ok(err.get("code") == "timeout" and shard in err.get("message", ""),
               "a stopped remote shard is a timeout naming it", sift.short(r))
        res.ok(took < 1.5 * 3 + 2, "the timeout came within the query timeout (%.1f s)" % took)
        group_signal(srv, signal.SIGCONT)
        group_signal(srv, signal.SIGKILL)
        srv.wait()
        r = ask("COUNT lang:es")
        err = r.get("error", {}) if isinstance(r, dict) else {}
        res.ok(err.get("code") in ("busy", "timeout") and shard in err.get("message", ""),
               "a dead remote shard is an error naming it", sift.short(r))
        servers.append(start_tcpsrv(tcpsrv_port, db_c))
        again = None
        for _ in range(20):
            again = ask("COUNT lang:es")
            if again.get("ok"):
                break
            time.sleep(0.2)
        res.ok(again == base, "the daemon answers as before once the shard is back",
               "%s vs %s" % (sift.short(again), sift.short(base)))
        res.ok(ask("PING").get("ok") is True, "the connection stayed usable")
        c.close()
    finally:
        stop_daemon(daemon)
        res.ok(daemon.returncode == 0, "sift-searchd exits 0 on SIGTERM (%s)" % daemon.returncode)


def served_with_threads(res, stub, reqs):
    """The answers of sift-searchd over the stub, each phrase's shards
    matched on threads (--shard-threads 4 makes a pool on any machine)."""
    daemon, port = start_daemon(stub, "--threads", "1", "--shard-threads", "4")
    got = []
    try:
        c = sift.connect_when_up(port)
        if c is None:
            res.fail("sift-searchd did not start on the stub")
            return got
        got = [json.loads(c.request(line)) for line in reqs]
        # (a phrase whose words live in one shard is matched there alone)
        n = json.loads(c.request("STATS")).get("matched_on_threads")
        res.ok(isinstance(n, int) and n > 0,
               "STATS counts the searches matched on threads: %s of %d requests" % (n, len(reqs)))
        c.close()
    finally:
        stop_daemon(daemon)
    return got


def main():
    res = sift.Results("test_shards")
    sift.require_binaries(res, ("sift-indexer", "sift-query", "sift-searchd"))
    rng = random.Random(SEED)
    d = sift.scratch("shards")
    docs, parts = write_parts(d, rng)
    files = {name: write_jsonl(d / ("%s.jsonl" % name), p) for name, p in parts.items()}
    builds = {
        "ALL": ([write_jsonl(d / "all.jsonl", docs)], ("--jobs", "2")),
        "A": ([files["A"]], ("--jobs", "2")),
        "B": ([files["B"]], ("--jobs", "1", "--lang", "es")),
        "C": ([files["C"]], ("--jobs", "1", "--batch", "50")),
    }
    for name, (src, extra) in builds.items():
        p = sift.index(d / name, src, *extra)
        res.ok(p.returncode == 0, "indexing %s" % name, p.stderr.decode("utf-8", "replace")[-500:])

    reqs = make_requests(docs, rng)
    want, _ = sift.query_batch(d / "ALL", reqs)
    res.ok(all(isinstance(w, dict) for w in want), "one index answers every request")
    hits = sum(len(w.get("hits", [])) for w in want if isinstance(w, dict))
    res.ok(hits > 1000, "the requests find something (%d hits)" % hits)

    stub = d / "abc.stub"
    stub.write_text("# three shards built apart\nauto A\nauto B\nauto C\n")
    got, _ = sift.query_batch(stub, reqs)
    compare(res, "stub file", reqs, want, got)

    p = sift.run([sift.exe("sift-query"), "--index", d / "C", "--index", d / "A", "--index",
                  d / "B"], input=("\n".join(reqs) + "\n").encode())
    got = [json.loads(line) for line in p.stdout.decode().splitlines()]
    compare(res, "three --index flags", reqs, want, got)
    # The phrases take threads (and every fourth request besides, for the
    # requests that do not): a third of the set keeps the sanitized runs short.
    some = [i for i, r in enumerate(reqs) if '"' in r or i % 4 == 0]
    compare(res, "the stub served with shards on threads", [reqs[i] for i in some],
            [want[i] for i in some], served_with_threads(res, stub, [reqs[i] for i in some]))

    if subprocess.run(["sh", "-c", "command -v xapian-tcpsrv"], stdout=subprocess.DEVNULL).returncode:
        res.fail("xapian-tcpsrv is missing (scripts/install-deps.sh installs xapian-tools)")
        res.finish()
    tport = sift.free_port()
    servers = [start_tcpsrv(tport, d / "C")]
    try:
        sdir = d / "remote"
        sdir.mkdir()
        (sdir / "XAPIANDB").write_text("auto ../B\nremote 127.0.0.1:%d\nauto %s\n" % (tport, d / "A"))
        got, _ = sift.query_batch(sdir, reqs)
        compare(res, "stub directory with a remote shard", reqs, want, got)
        check_remote_failures(res, sdir, servers, tport, d / "C")
    finally:
        for srv in servers:
            group_signal(srv, signal.SIGCONT)
            group_signal(srv, signal.SIGKILL)
            srv.wait()

    # A stub directory left by an unfinished parallel build holds shard0,
    # shard1...: the next run merges them into one database, which must keep
    # every shard's dictionary and language (schema.h, sift.zdicts).
    merged = d / "merged"
    merged.mkdir()
    for k, name in enumerate("AB"):
        shutil.copytree(d / name, merged / ("shard%d" % k))
    (merged / "XAPIANDB").write_text("auto shard0\nauto shard1\n")
    (d / "empty.jsonl").write_text("")
    p = sift.index(merged, [d / "empty.jsonl"])
    res.ok(p.returncode == 0 and not (merged / "XAPIANDB").exists(),
           "an unfinished build of shards built apart is merged", p.stderr.decode()[-300:])
    ab = [doc["id"] for doc in parts["A"][:20] + parts["B"][:20]]
    reqs = ["GET %s" % i for i in ab] + ["COUNT negociaciones", "COUNT hospitales", "STATS"]
    (d / "ab.stub").write_text("auto A\nauto B\n")
    want, _ = sift.query_batch(d / "ab.stub", reqs)
    got, _ = sift.query_batch(merged, reqs)
    res.ok(got[:-1] == want[:-1], "the merged index reads every shard's articles",
           sift.short([g for g, w in zip(got, want) if g != w][:2]))
    res.ok(got[-1].get("docs") == len(parts["A"]) + len(parts["B"]) and "spanish" in got[-1].get("langs", ""),
           "the merged index counts both shards' articles and languages", sift.short(got[-1]))

    p = sift.run([sift.exe("sift-query"), "--index", sdir], input=b"COUNT x\n")
    res.ok(p.returncode != 0 and ("127.0.0.1:%d" % tport).encode() in p.stderr,
           "a remote shard that is down: the open fails naming it", p.stderr.decode()[-300:])
    bad = d / "bad.stub"
    bad.write_text("auto A\nbogus line\n")
    p = sift.run([sift.exe("sift-query"), "--index", bad], input=b"COUNT x\n")
    res.ok(p.returncode != 0 and b"bad.stub:2" in p.stderr, "a bad stub line is named by line",
           p.stderr.decode()[-300:])
    res.finish()


if __name__ == "__main__":
    main()
