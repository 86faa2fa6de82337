"""test_delete: sift-indexer --delete removes articles, checked against the
independent reference (siftref.py) over the articles that remain.

1. One index built from a generated corpus; an id file naming a tenth of
   its articles (one per line, with blank lines, surrounding white space,
   CRLF endings, repeats) and a few ids it does not hold.  The summary must
   give the counts and name exactly the absent ids; then COUNT, SEARCH
   (hits, totals, facets, date order) for generated queries of every form,
   queries aimed at the removed articles' words, every facet over all
   articles, STATS and GET must agree with the reference; GET of a removed
   id is not_found.
2. The same on a stub directory of two shards built apart (one per period,
   named like an archive's, one listed by an absolute path), and on an
   archive by year (--layout).
3. Under a running sift-searchd (result cache on), on the index and on the
   stub: a client queries throughout; the removal is seen without a
   restart, no request fails, every COUNT it sees is the state after whole
   batches (per shard on the stub), and one reload tick after the last
   commit every answer agrees with the reference.
4. SIGKILL during a deletion of many batches, at moments spread over a full
   run's duration: the index opens and the removed set is exactly the ids of
   the first k batches for some k (on a stub: per shard); a second run
   finishes the job.
5. Errors: no index, an unreadable id file, a bad id line, a stub naming a
   remote shard (served by xapian-tcpsrv, or down), a bad stub line, an
   index locked by a writer, bad usage: one line, non-zero exit, nothing
   removed.
"""

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sift  # noqa: E402
import siftref  # noqa: E402
import test_reference as tr  # noqa: E402

SEED = int(os.environ.get("SIFT_TEST_SEED", "20240517"))
NDOCS = 1200
SLOW = float(os.environ.get("SIFT_TEST_SLOW", "1"))


# ---------------------------------------------------------------------------
# Corpus, id files, reference


def make_corpus(res, path):
    try:
        if not sift.have("sift-gen"):
            raise RuntimeError("sift-gen is missing in %s" % sift.BIN)
        sift.generate(path, NDOCS, SEED % 100000, "--lang-mix")
    except Exception as e:  # noqa: BLE001
        res.fail("sift-gen runs", str(e))
        sift.py_generate(path, NDOCS, SEED, (40, 300))
    return path


def write_ids(path, ids, rng, absent=()):
    """An id file as people write them: blank lines, white space around
    ids, CRLF on some lines, some ids repeated; absent ids mixed in."""
    lines = []
    for x in list(ids) + list(absent):
        pad = rng.choice(["", "", " ", "\t", "  "])
        lines.append(pad + x + rng.choice(["", "", " ", "\r"]))
        if rng.random() < 0.05:
            lines.append("")
        if rng.random() < 0.03:
            lines.append(x)  # a repeat
    with open(path, "wb") as f:
        f.write(("\n".join(lines) + "\n").encode("utf-8"))
    return path


def remaining_ref(files, removed):
    ref = siftref.Corpus()
    for f in files:
        ref.add_file(str(f))
    for x in removed:
        ref.records.pop(x, None)
    return ref.build()


def delete(idx, idfile, *extra, timeout=300):
    p = sift.run([sift.exe("sift-indexer"), "--index", idx, "--delete", idfile, *extra], timeout=timeout)
    return p.returncode, p.stderr.decode("utf-8", "replace")


SUMMARY = re.compile(r"removed (\d+) of (\d+) ids(?: \(\d+ repeated lines? ignored\))? in (\d+) batch(?:es)?; (\d+) not found(.*?)(?:; (\d+) not tried)?; "
                     r"(\d+) articles in the index")


def check_summary(res, what, err, removed, listed, batches, absent, docs):
    m = SUMMARY.search(err)
    if not res.ok(m is not None, "%s: a summary line" % what, err[-500:]):
        return
    got = (int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(7)))
    res.ok(got == (removed, listed, batches, len(absent), docs),
           "%s: summary counts (removed, listed, batches, not found, articles)" % what,
           "got %s, want %s" % (got, (removed, listed, batches, len(absent), docs)))
    named = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(5))
    if len(absent) <= 10:
        res.ok(sorted(named) == sorted(absent), "%s: the summary names every id not found" % what,
               "named %s, want %s" % (named, sorted(absent)))
    else:
        res.ok(len(named) == 10 and set(named) <= set(absent) and "the first 10" in m.group(5),
               "%s: the summary names the first 10 ids not found" % what, m.group(5))


# ---------------------------------------------------------------------------
# Queries against the reference of what remains


def make_queries(ref, removed_docs, seed, scale=0.4):
    """(Q, expected article numbers) pairs: generated queries of every form,
    then words and phrases of removed articles, then every facet of all."""
    rng = random.Random(seed)
    gen = tr.QueryGen(ref, seed)
    qs = []
    for form, k in tr.FORMS:
        if form == "json":
            continue
        for _ in range(max(1, int(round(k * scale)))):
            q = gen.make(form)
            if q is not None:
                if not q.facets and rng.random() < 0.3:
                    q.facets = gen.facet_list()
                qs.append(q)
    for d in removed_docs:
        tw = [w for w in siftref.tokenize(d.get("title", "")) if tr.safe_word(w)]
        bw = [w for w in siftref.tokenize(d.get("body", ""))[:200]]
        if tw:
            w = rng.choice(tw)
            qs.append(tr.Q("word_removed", ("word", w, rng.choice(["text", "title"]), w),
                           facets=[("outlet", 10)]))
        if len(bw) >= 4 and all(tr.safe_word(w) for w in bw[:4]):
            qs.append(tr.Q("phrase_removed", ("phrase", bw[:4], "text", "quote")))
    qs.append(tr.Q("all_facets", ("all",), facets=[(f, None) for f in
                                                   ("outlet", "year", "month", "day", "tag", "author")]))
    out = []
    for q in qs:
        nums = ref.eval(q.ast)
        tr.finish_query(q, rng, len(nums))
        out.append((q, nums))
    return out


def check_queries(res, what, send, ref, qs):
    """Send COUNT and SEARCH of every query through send(requests) ->
    responses; compare with ref."""
    reqs = []
    for q, _ in qs:
        reqs.append("COUNT " + q.text)
        # relax:no: the reference here evaluates all of the words, as COUNT does
        reqs.append("SEARCH %s limit:%d relax:no" % (q.text, q.limit)
                    + (" offset:%d" % q.offset if q.offset else ""))
    resp = send(reqs)
    failed = 0
    for i, (q, nums) in enumerate(qs):
        c, s = resp[2 * i], resp[2 * i + 1]
        bad = []
        if not c or c.get("count") != len(nums):
            bad.append("COUNT %s, want %d" % (sift.short(c), len(nums)))
        bad += tr.check_search(ref, q, nums, ref.ids(nums), s)
        if bad:
            failed += 1
            res.fail("%s: %s: %s" % (what, q.form, q.text), "\n".join(bad))
        else:
            res.passed += 1
    forms = {q.form for q, _ in qs}
    res.note("%s: %d queries (%d forms), %d failed" % (what, len(qs), len(forms), failed))


def check_gets(res, what, send, ref, removed, kept):
    resp = send(["GET " + x for x in removed] + ["GET " + x for x in kept] + ["STATS"])
    nf = [r for r in resp[:len(removed)] if r and (r.get("error") or {}).get("code") == "not_found"]
    res.ok(len(nf) == len(removed), "%s: GET of every removed id is not_found (%d)" % (what, len(removed)),
           sift.short([r for r in resp[:len(removed)] if r not in nf][:3]))
    got = resp[len(removed):-1]
    bad = [(x, r) for x, r in zip(kept, got) if not (r and r.get("ok")) or tr.check_get(ref.by_id[x], r["doc"])]
    res.ok(not bad, "%s: GET of kept articles gives them whole (%d)" % (what, len(kept)), sift.short(bad[:2]))
    st = resp[-1]
    res.ok(st and st.get("docs") == len(ref.docs), "%s: STATS docs = %d" % (what, len(ref.docs)), sift.short(st))


def batch_query(idx):
    return lambda reqs: sift.query_batch(idx, reqs, timeout=300)[0]


# ---------------------------------------------------------------------------
# Kills


def kill_delete(idx, idfile, batch, delay):
    return sift.kill_after([sift.exe("sift-indexer"), "--index", idx, "--delete", idfile,
                            "--batch", batch], delay, 0.001)[0]


def present_ids(idx, ids):
    """The ids of `ids` the index at idx holds (GET ok), or None when it
    does not open, and its STATS."""
    # (sift-query exits 2 here: the GETs of removed ids are not_found errors)
    resp, _ = sift.query_batch(idx, ["STATS"] + ["GET " + x for x in ids], timeout=300)
    if not resp[0] or not resp[0].get("ok"):
        return None, resp[0]
    return {x for x, r in zip(ids, resp[1:]) if r and r.get("ok")}, resp[0]


def prefix_batches(removed, listed, held, batch):
    """k such that removed = held ids of listed[:k * batch], or None."""
    for k in range(0, (len(listed) + batch - 1) // batch + 1):
        if removed == {x for x in listed[:k * batch] if x in held}:
            return k
    return None


def check_kills(res, what, pristine, tmp, listed, absent, batch, shards=None):
    """SIGKILL deletions at moments spread over a full run; shards: {name:
    ids it holds} for a stub (the prefix is then per shard)."""
    idfile = tmp / ("%s-ids.txt" % what)
    with open(idfile, "w") as f:
        f.write("\n".join(listed + absent) + "\n")
    full = tmp / ("%s-full" % what)
    shutil.copytree(pristine, full, symlinks=True)
    t0 = time.time()
    rc, err = delete(full, idfile, "--batch", str(batch))
    t_full = time.time() - t0
    nb = (len(listed) + len(absent) + batch - 1) // batch
    res.ok(rc == 0, "%s: a full run exits 0" % what, err[-300:])
    res.note("%s: a full run of %d batches took %.2f s" % (what, nb, t_full))
    held_all = set(listed)
    seen_k = []
    for j, frac in enumerate((0.0, 0.2, 0.45, 0.75)):
        idx = tmp / ("%s-kill-%d" % (what, j))
        shutil.copytree(pristine, idx, symlinks=True)
        delay = 0.002 if frac == 0 else frac * t_full
        killed = kill_delete(idx, idfile, batch, delay)
        left, st = present_ids(idx, listed)
        label = "%s: kill after %.3f s" % (what, delay)
        if not res.ok(left is not None, "%s: the index opens" % label, sift.short(st)):
            continue
        removed = held_all - left
        if shards is None:
            k = prefix_batches(removed, listed + absent, held_all, batch)
            res.ok(k is not None, "%s: the removed set is the first k whole batches" % label,
                   "removed %d ids, not a prefix of batches" % len(removed))
        else:
            ks = {name: prefix_batches(removed & held, listed + absent, held, batch)
                  for name, held in shards.items()}
            res.ok(all(v is not None for v in ks.values()),
                   "%s: on each shard the removed set is the first k whole batches" % label, str(ks))
            # batch after batch, shards in stub order: they differ by one at most
            vals = [v for v in ks.values() if v is not None]
            res.ok(not vals or max(vals) - min(vals) <= 1, "%s: shards at most one batch apart" % label, str(ks))
            k = ks
        res.ok(st.get("docs") == NDOCS_HELD[what] - len(removed), "%s: STATS docs follow" % label, sift.short(st))
        seen_k.append((round(delay, 3), k, killed))
        # a second run finishes the job
        rc, err = delete(idx, idfile, "--batch", str(batch))
        left, st = present_ids(idx, listed)
        res.ok(rc == 0 and left == set(), "%s: the next run removes the rest" % label,
               "exit %d, %s left: %s" % (rc, len(left or ()), err[-300:]))
    res.note("%s: (delay s, batches done, killed) %s" % (what, seen_k))


NDOCS_HELD = {}


# ---------------------------------------------------------------------------
# The daemon


def check_daemon(res, what, tmp, pristine, idfile, listed, absent, ref, qs, batch, first=None):
    """first: on a stub, the ids its first shard holds (a batch may be
    done there and not yet on the second shard)."""
    from test_hostile import Daemon

    idx = tmp / ("served-" + what)
    shutil.copytree(pristine, idx, symlinks=True)
    total = NDOCS_HELD["plain"]
    # the counts whole batches can leave (on a stub, per shard)
    order = [x for x in listed + absent]
    held = set(listed)
    ok_counts = set()
    for k in range(len(order) // batch + 2):
        done = {x for x in order[:k * batch] if x in held}
        ok_counts.add(total - len(done))
        if first is not None:
            ok_counts.add(total - len(done) - len({x for x in order[k * batch:(k + 1) * batch]
                                                   if x in held and x in first}))
    kept = [d.id for d in ref.docs[:20]]
    try:
        d = Daemon(idx, tmp, "--reload-interval", "1", threads=2)
    except AssertionError as e:
        res.fail("%s: sift-searchd starts" % what, str(e))
        return
    stop = threading.Event()
    stats = {"requests": 0, "failed": [], "counts": [], "gone": 0}
    word = max(ref.inv_word, key=lambda w: len(ref.inv_word[w]))  # the most common word

    def load():
        try:
            c = d.connect()
        except Exception as e:  # noqa: BLE001
            stats["failed"].append("connect: %s" % e)
            return
        gone = listed[0]
        reqs = ["COUNT", "SEARCH %s facets:outlet limit:5" % word, "GET " + gone, "GET " + kept[-1]]
        while not stop.is_set():
            for r in reqs:
                try:
                    a = json.loads(c.request(r))
                except Exception as e:  # noqa: BLE001
                    stats["failed"].append("%s: %s" % (r, e))
                    return
                stats["requests"] += 1
                if r == "COUNT" and a.get("ok"):
                    stats["counts"].append(a["count"])
                if r.startswith("GET " + gone) and (a.get("error") or {}).get("code") == "not_found":
                    stats["gone"] += 1
                elif not a.get("ok"):
                    stats["failed"].append("%s: %s" % (r, sift.short(a)))
            time.sleep(0.005)
        c.close()

    th = threading.Thread(target=load, daemon=True)
    th.start()
    try:
        time.sleep(0.3)
        t0 = time.time()
        rc, err = delete(idx, idfile, "--batch", str(batch))
        t_del = time.time() - t0
        res.ok(rc == 0, "%s: the deletion exits 0 while the daemon serves" % what, err[-300:])
        c = d.connect()
        seen = None
        deadline = time.time() + 20 * SLOW
        while time.time() < deadline:
            a = json.loads(c.request("COUNT"))
            if a.get("count") == len(ref.docs):
                seen = time.time() - t0
                break
            time.sleep(0.05)
        res.ok(seen is not None, "%s: the removal is seen without a restart" % what,
               "COUNT %s, want %d; log %s" % (a, len(ref.docs), d.log_text()[-500:]))
        res.note("%s: deletion ran %.2f s; COUNT showed its result %.2f s after it started"
                 % (what, t_del, seen or -1))

        def send(reqs):
            out = []
            for k in range(0, len(reqs), 64):
                chunk = reqs[k:k + 64]
                c.send(("\n".join(chunk) + "\n").encode("utf-8"))
                out += [json.loads(x) for x in c.lines(len(chunk))]
            return out

        # Each of the daemon's handles moves to the newest revision at its
        # first request after a reload tick: one tick after the last commit,
        # every answer is of the final state.
        time.sleep(max(0.0, t0 + t_del + 1.2 - time.time()))
        check_queries(res, what, send, ref, qs)
        check_gets(res, what, send, ref, listed[:50], kept)
        time.sleep(0.3)
        stop.set()
        th.join(timeout=30)
        c.close()
        res.ok(stats["requests"] > 20 and not stats["failed"],
               "%s: no request of a client querying throughout failed (%d requests)" % (what, stats["requests"]),
               "; ".join(stats["failed"][:5]))
        res.ok(stats["gone"] > 0, "%s: that client saw a removed article become not_found" % what)
        res.note("%s: the client made %d requests; COUNT went through %s"
                 % (what, stats["requests"], sorted(set(stats["counts"]), reverse=True)))
        odd = sorted(set(stats["counts"]) - ok_counts)
        res.ok(not odd, "%s: every COUNT seen is the state after whole batches (%d distinct)"
               % (what, len(set(stats["counts"]))), "counts %s are not" % odd[:5])
    finally:
        stop.set()
        d.kill()


# ---------------------------------------------------------------------------
# Errors


def one_line_error(res, what, rc, err, want_rc, pattern):
    lines = [x for x in err.splitlines() if x.strip()]
    res.ok(rc == want_rc and len(lines) == 1 and re.search(pattern, lines[0]) is not None,
           "%s: exit %d and one line matching %r" % (what, want_rc, pattern),
           "exit %d, stderr %r" % (rc, err[-400:]))


def check_errors(res, tmp, pristine, listed):
    idx = tmp / "errors"
    shutil.copytree(pristine, idx, symlinks=True)
    ids = tmp / "some-ids.txt"
    ids.write_text("\n".join(listed[:5]) + "\n")
    docs = NDOCS_HELD["plain"]

    def unchanged(what):
        r, _ = sift.query_batch(idx, ["STATS"])
        res.ok(r[0] and r[0].get("docs") == docs, "%s: nothing removed" % what, sift.short(r[0]))

    absent = tmp / "no-such-index"
    rc, err = delete(absent, ids)
    one_line_error(res, "absent index", rc, err, 1, r"no index at .*no-such-index")
    res.ok(not absent.exists(), "absent index: nothing created")
    empty = tmp / "empty-dir"
    empty.mkdir()
    rc, err = delete(empty, ids)
    one_line_error(res, "empty directory", rc, err, 1, r"empty-dir is not a Sift index")

    rc, err = delete(idx, tmp / "no-such-ids.txt")
    one_line_error(res, "absent id file", rc, err, 1, r"cannot read .*no-such-ids\.txt")
    rc, err = delete(idx, tmp)  # a directory: opens, but cannot be read
    one_line_error(res, "id file is a directory", rc, err, 1, r"cannot read .*Is a directory")
    bad = tmp / "bad-ids.txt"
    bad.write_bytes(("\n".join(listed[:3]) + "\n\n" + "x" * 300 + "\n").encode())
    rc, err = delete(idx, bad)
    one_line_error(res, "id line too long", rc, err, 1, r"bad-ids\.txt:5: id longer than 240 bytes; nothing was removed")
    bad.write_bytes(b"ok\n{\"id\":\"a\x01b\"}\n")
    rc, err = delete(idx, bad)
    one_line_error(res, "control character", rc, err, 1, r"bad-ids\.txt:2: id contains a control character")
    unchanged("bad id files")

    for args, pat in (([str(ids), "corpus.jsonl"], r"--delete takes no corpus files"),
                      ([str(ids), "--jobs", "2"], r"--delete takes no --jobs"),
                      ([str(ids), "--lang", "fr"], r"--delete takes no --lang"),
                      ([str(ids), "--batch", "0"], r"--batch takes a number")):
        p = sift.run([sift.exe("sift-indexer"), "--index", idx, "--delete", *args])
        one_line_error(res, "usage %s" % " ".join(args[1:]), p.returncode, p.stderr.decode(), 2, pat)
    p = sift.run([sift.exe("sift-indexer"), "--delete", ids])
    one_line_error(res, "usage: no --index", p.returncode, p.stderr.decode(), 2, r"--index DIR is required")
    unchanged("usage errors")

    # a stub naming a remote shard (xapian-tcpsrv serving a copy): refused
    # before anything is removed; one that does not answer: named too
    from test_shards import group_signal, start_tcpsrv

    stub = tmp / "stub-remote"
    stub.mkdir()
    served = tmp / "served-remotely"
    shutil.copytree(pristine, served)
    port = sift.free_port()
    srv = start_tcpsrv(port, served)
    try:
        (stub / "XAPIANDB").write_text("auto %s\nremote 127.0.0.1:%d\n" % (idx, port))
        rc, err = delete(stub, ids)
        one_line_error(res, "remote shard", rc, err, 1,
                       r"lists the remote shard '127\.0\.0\.1:%d': remove its articles where it lives" % port)
    finally:
        group_signal(srv, signal.SIGTERM)
        srv.wait(timeout=30)
    rc, err = delete(stub, ids)
    one_line_error(res, "remote shard down", rc, err, 1, r"127\.0\.0\.1:%d" % port)
    unchanged("remote shard")
    (stub / "XAPIANDB").write_text("auto %s\ninmemory\n" % idx)
    rc, err = delete(stub, ids)
    one_line_error(res, "bad stub line", rc, err, 1, r"XAPIANDB:2: not a shard line")

    # locked: a writer adding articles holds the index
    more = tmp / "more.jsonl"
    sift.py_generate(more, 3000, SEED + 7, (200, 600))
    w = subprocess.Popen([sift.exe("sift-indexer"), "--index", str(idx), "--quiet", str(more)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    busy = w.poll() is None
    rc, err = delete(idx, ids)
    busy = busy and w.poll() is None
    w.kill()  # this copy is not used again
    w.wait(timeout=60)
    if busy:
        one_line_error(res, "locked index", rc, err, 1, r"cannot remove articles from .*lock")
    else:
        res.note("locked index: the writer finished before the deletion ran (not checked)")


# ---------------------------------------------------------------------------


def main():
    res = sift.Results("test_delete")
    t_start = time.time()

    def phase(name):
        res.note("%s done at %.1f s" % (name, time.time() - t_start))

    sift.require_binaries(res, ("sift-indexer", "sift-query", "sift-searchd"))
    tmp = sift.scratch("delete")
    rng = random.Random(SEED)
    corpus = make_corpus(res, tmp / "gen.jsonl")
    full = siftref.Corpus().add_file(str(corpus))
    all_ids = list(full.records)
    NDOCS_HELD["plain"] = len(all_ids)

    # 1. one index
    pristine = tmp / "pristine"
    p = sift.index(pristine, [corpus], "--quiet")
    res.ok(p.returncode == 0, "the index builds", p.stderr.decode("utf-8", "replace")[-300:])
    gone = rng.sample(all_ids, len(all_ids) // 10)
    absent = ["absent-%d" % i for i in range(4)] + ["an id with spaces"]
    idfile = write_ids(tmp / "ids.txt", gone, rng, absent)
    idx = tmp / "plain"
    shutil.copytree(pristine, idx)
    rc, err = delete(idx, idfile, "--batch", "50")
    res.ok(rc == 0, "plain: --delete exits 0 with ids not found", err[-300:])
    nb = (len(gone) + len(absent) + 49) // 50
    check_summary(res, "plain", err, len(gone), len(gone) + len(absent), nb, absent, len(all_ids) - len(gone))
    removed_docs = [full.records[x] for x in gone[:40]]
    ref = remaining_ref([corpus], gone)
    qs = make_queries(ref, removed_docs, SEED + 3)
    check_queries(res, "plain", batch_query(idx), ref, qs)
    check_gets(res, "plain", batch_query(idx), ref, gone, [d.id for d in ref.docs[:30]])
    rc, err = delete(idx, idfile, "--strict")
    res.ok(rc == 1 and "removed 0 of" in err, "plain: --strict with ids not found exits 1", err[-300:])

    phase("plain")
    # 2. a stub of two shards built apart, one per period
    arch = tmp / "archive"
    arch.mkdir()
    early, late = tmp / "early.jsonl", tmp / "late.jsonl"
    held = {"2015-2016": [], "late": []}
    with open(corpus, "rb") as f, open(early, "wb") as a, open(late, "wb") as b:
        for line in f:
            rec = json.loads(line) if line.strip() else None
            if rec is None:
                continue
            is_late = str(rec.get("date", "")) >= "2017"
            (b if is_late else a).write(line)
            held["late" if is_late else "2015-2016"].append(rec["id"])
    far = tmp / "elsewhere" / "late"
    far.parent.mkdir()
    for src, dst in ((early, arch / "2015-2016"), (late, far)):
        p = sift.index(dst, [src], "--quiet")
        res.ok(p.returncode == 0, "stub: shard %s builds" % dst.name, p.stderr.decode("utf-8", "replace")[-300:])
    (arch / "XAPIANDB").write_text("# an archive by period\nauto 2015-2016\nauto %s\n" % far)
    arch_pristine = tmp / "archive-pristine"
    shutil.copytree(tmp / "elsewhere", tmp / "elsewhere-pristine")
    shutil.copytree(arch, arch_pristine)
    rc, err = delete(arch, idfile, "--batch", "50")
    res.ok(rc == 0, "stub: --delete exits 0", err[-300:])
    check_summary(res, "stub", err, len(gone), len(gone) + len(absent), nb, absent, len(all_ids) - len(gone))
    check_queries(res, "stub", batch_query(arch), ref, qs)
    check_gets(res, "stub", batch_query(arch), ref, gone, [d.id for d in ref.docs[-30:]])
    # ... and on an archive laid out by year (sift-indexer --layout)
    byyear = tmp / "by-year"
    p = sift.index(byyear, [corpus], "--quiet", "--layout", "year")
    if res.ok(p.returncode == 0, "layout: the archive by year builds", p.stderr.decode("utf-8", "replace")[-300:]):
        rc, err = delete(byyear, idfile, "--batch", "50")
        res.ok(rc == 0, "layout: --delete exits 0", err[-300:])
        check_summary(res, "layout", err, len(gone), len(gone) + len(absent), nb, absent,
                      len(all_ids) - len(gone))
        check_queries(res, "layout", batch_query(byyear), ref, qs[::3])
        check_gets(res, "layout", batch_query(byyear), ref, gone, [d.id for d in ref.docs[:30]])
    phase("stub")
    # 3. under a running daemon
    # a copy of the stub that holds its shards (relative lines), for the
    # daemon and the kills
    stub_pristine = tmp / "stub-pristine"
    stub_pristine.mkdir()
    shutil.copytree(arch_pristine / "2015-2016", stub_pristine / "2015-2016")
    shutil.copytree(tmp / "elsewhere-pristine" / "late", stub_pristine / "late")
    (stub_pristine / "XAPIANDB").write_text("auto 2015-2016\nauto late\n")
    check_daemon(res, "daemon", tmp, pristine, idfile, gone, absent, ref, qs[:120], 10)
    check_daemon(res, "daemon on the stub", tmp, stub_pristine, idfile, gone, absent, ref, qs[:80], 10,
                 set(held["2015-2016"]))

    phase("daemon")
    # 4. kills: many small batches, on one index and on the stub
    kill_ids = rng.sample(all_ids, 300)
    NDOCS_HELD["kill-plain"] = len(all_ids)
    check_kills(res, "kill-plain", pristine, tmp, kill_ids, ["absent-k1", "absent-k2"], 20)
    NDOCS_HELD["kill-stub"] = len(all_ids)
    shards = {name: set(held[name]) & set(kill_ids) for name in held}
    check_kills(res, "kill-stub", stub_pristine, tmp, kill_ids, [], 20, shards)

    phase("kills")
    # 5. errors
    check_errors(res, tmp, pristine, gone)
    res.finish()


if __name__ == "__main__":
    main()
