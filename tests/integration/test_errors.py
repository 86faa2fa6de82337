"""test_errors: the contract's clear errors, end to end.

  * bad corpus lines (invalid JSON, no id, wrong field types, invalid UTF-8,
    bad date, an over-long line) are reported as FILE:LINE: reason, skipped,
    and the run exits 0 with a summary counting them; --strict exits non-zero;
    the bad-date article is indexed undated, the invalid-UTF-8 one is indexed
    and searchable;
  * bad queries answer {"ok":false,"error":{"code":"bad_query",...}} naming
    the column; unknown commands, missing ids, bad JSON requests get their
    codes, and the batch goes on;
  * a missing index, an empty directory, a directory of random files and a
    plain file are refused by sift-query with a one-line reason;
  * indexing an existing id replaces the article (also within one run, and
    when a new index is built in parallel shards);
  * every executable answers --help and --version, and refuses bad usage.
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sift  # noqa: E402

MAX_RECORD = 64 * 1024 * 1024  # corpus.h: default longest record


def lines_of(b):
    return [x for x in b.decode("utf-8", "replace").splitlines() if x.strip()]


def check_bad_corpus(res, tmp):
    path = tmp / "bad.jsonl"
    recs = [
        (b'{"id":"good-1","title":"alphaword first","body":"plain body text","date":"2023-11-02"}', None),
        (b'{"id":"x", "title": }', "invalid JSON"),
        (b'{"title":"no id here"}', "missing id"),
        (b'{"id":"wt-1","title":["a","b"]}', "wrong type"),
        (b'{"id":"wt-2","tags":"gaza"}', "wrong type"),
        (b'{"id":42,"title":"numeric id"}', "id not a string"),
        (b'[1,2,3]', "not an object"),
        (b'{"id":"utf-1","title":"caf\xe9 zqxutf","body":"zqxbad\xff\xfeword more \xc3"}', None),
        (b'{"id":"bd-1","date":"2023-02-30","title":"baddateword"}', None),
        (None, "too long"),
        (b'{"id":"good-2","title":"afterlong zqxafter","outlet":"Reuters"}', None),
        (b'{"id":"","title":"empty id"}', "empty id"),
        (b'{"id":"ctl\\u0001id","title":"control"}', "control char"),
        (b'not json at all', "invalid JSON"),
        (b'{"id":"wt-3","tags":["ok",7]}', "wrong type"),
        (b'{"id":"wt-4","date":20231102}', "wrong type"),
        (b'{"id":"good-3","title":"third zqxthird","date":"2024-01-05T10:00:00+02:00"}', None),
    ]
    with open(path, "wb") as f:
        for b, _ in recs:
            if b is None:
                # one line longer than the record limit: skipped, never held
                f.write(b'{"id":"long-1","body":"')
                chunk = b"y" * (1 << 20)
                for _ in range(MAX_RECORD // len(chunk) + 1):
                    f.write(chunk)
                f.write(b'"}\n')
            else:
                f.write(b + b"\n")
    bad_lines = {i + 1 for i, (_, why) in enumerate(recs) if why}

    idx = tmp / "bad-index"
    p = sift.index(idx, [path])
    err = lines_of(p.stderr)
    res.ok(p.returncode == 0, "indexer exits 0 despite bad lines",
           "exit %d; stderr: %s" % (p.returncode, sift.short("\n".join(err), 1500)))
    reported = {}
    for line in err:
        m = re.match(r"^(.*):(\d+): (.+)$", line)
        if m and m.group(1) == str(path):
            reported.setdefault(int(m.group(2)), []).append(m.group(3))
    for n in sorted(bad_lines):
        res.ok(n in reported, "bad line %d (%s) reported as FILE:LINE: reason" % (n, recs[n - 1][1]),
               "stderr: %s" % sift.short("\n".join(err), 1200))
    date_line = 9
    res.ok(date_line in reported and any("date" in r for r in reported[date_line]),
           "bad date reported as FILE:LINE", "got %s" % reported.get(date_line))
    for n in (1, 8, 11, 17):
        res.ok(n not in reported, "good line %d not reported" % n, "got %s" % reported.get(n))
    summary = " ".join(err[-3:])
    m = re.search(r"skipped (\d+)", summary)
    res.ok(m is not None and int(m.group(1)) == len(bad_lines),
           "summary counts %d skipped" % len(bad_lines), "summary: %s" % summary)
    res.ok(re.search(r"added (\d+)", summary) and int(re.search(r"added (\d+)", summary).group(1)) == 5,
           "summary counts 5 added", "summary: %s" % summary)

    reqs = [
        "STATS",
        "COUNT zqxbad", "COUNT word", "COUNT zqxutf", "COUNT caf",
        "GET bd-1", "COUNT baddateword", "COUNT baddateword date:2023", "COUNT baddateword -date:2023",
        "COUNT zqxafter", "COUNT zqxthird date:2024-01-05", "GET long-1", "GET utf-1",
        "SEARCH zqxbad",
    ]
    r, proc = sift.query_batch(idx, reqs)
    st = r[0]
    res.ok(st and st.get("docs") == 5, "5 articles indexed (3 good, bad date, bad UTF-8)", sift.short(st))
    for k, req in enumerate(reqs[1:5], 1):
        res.ok(r[k] and r[k].get("count") == 1, "invalid UTF-8 article searchable: %s" % req, sift.short(r[k]))
    g = r[5]
    res.ok(g and g.get("ok") and "date" not in (g.get("doc") or {}) and
           (g.get("doc") or {}).get("title") == "baddateword",
           "bad-date article indexed without a date", sift.short(g))
    res.ok(r[6] and r[6].get("count") == 1, "bad-date article found by text", sift.short(r[6]))
    res.ok(r[7] and r[7].get("count") == 0, "bad-date article matches no date filter", sift.short(r[7]))
    res.ok(r[8] and r[8].get("count") == 1, "bad-date article kept by -date:", sift.short(r[8]))
    res.ok(r[9] and r[9].get("count") == 1, "reading goes on after the over-long line", sift.short(r[9]))
    res.ok(r[10] and r[10].get("count") == 1, "date-time with offset: day as written", sift.short(r[10]))
    res.ok(r[11] and not r[11].get("ok") and r[11]["error"].get("code") == "not_found",
           "over-long line not indexed", sift.short(r[11]))
    d = (r[12] or {}).get("doc") or {}
    res.ok(d.get("title", "").startswith("caf\ufffd") and "\ufffd" in d.get("body", ""),
           "invalid UTF-8 repaired with U+FFFD", sift.short(r[12]))
    s = r[13]
    res.ok(s and s.get("ok") and s.get("total") == 1 and
           all(isinstance(h.get("snippet", ""), str) for h in s.get("hits", [])),
           "SEARCH over a repaired article answers", sift.short(s))

    # --strict: the same input is an error
    p = sift.index(tmp / "strict-index", [path], "--strict")
    res.ok(p.returncode != 0, "--strict exits non-zero when lines were skipped",
           "exit %d" % p.returncode)
    good = tmp / "good.jsonl"
    good.write_bytes(recs[0][0] + b"\n")
    p = sift.index(tmp / "strict-good", [good], "--strict")
    res.ok(p.returncode == 0, "--strict exits 0 on clean input",
           "exit %d: %s" % (p.returncode, p.stderr.decode("utf-8", "replace")))
    # A file whose every record is bad by its fields is a corpus with bad
    # lines, not a stray file: each is reported, the run exits 0.
    allbad = tmp / "allbad.jsonl"
    allbad.write_bytes(b'{"title":"no id"}\n{"id":"ab-2","title":7}\n{"id":"ab-3","tags":"x"}\n')
    p = sift.index(tmp / "allbad-index", [allbad, good], "--quiet")
    err = p.stderr.decode("utf-8", "replace")
    res.ok(p.returncode == 0 and all("%s:%d: " % (allbad, n) in err for n in (1, 2, 3))
           and "no article in it" not in err,
           "a file of only bad records: FILE:LINE for each, exit 0",
           "exit %d: %s" % (p.returncode, sift.short(err, 600)))
    p = sift.index(tmp / "allbad-strict", [allbad, good], "--quiet", "--strict")
    res.ok(p.returncode != 0, "... and non-zero with --strict", "exit %d" % p.returncode)
    os.unlink(path)  # 64 MiB
    return tmp / "strict-good"


BAD_QUERIES = [
    ('gaza "city', "unbalanced quote", 6),
    ("(gaza OR city", "unbalanced parenthesis", 1),
    ("gaza OR city)", "unbalanced parenthesis", 13),
    ("date:2023-13", "bad month", None),
    ("date:2023-02-30", "no such day", None),
    ("date:2024..2023", "range backwards", None),
    ("date:yesterday", "bad date", None),
    ("match:some", "bad match", None),
    ("relax:maybe", "bad relax", None),
    ("sort:sideways", "unknown sort", None),
    ("limit:abc", "bad number", None),
    ("limit:-1", "bad number", None),
    ("limit:5 limit:6", "duplicated limit", 9),
    ("offset:1 gaza offset:2", "duplicated offset", None),
    ("facets:colour", "unknown facet", None),
    ("gaza OR", "operator with nothing after", None),
    ("OR gaza", "operator with nothing before", 1),
    ("gaza AND", "operator with nothing after", None),
    ("NOT", "NOT alone", None),
    ('""', "empty phrase", 1),
    ('"!!"', "phrase with no words", 1),
    ("(sort:newest)", "option inside parentheses", None),
    ("-limit:5", "negated option", None),
    ("()", "empty parentheses", None),
    ("limit:1001", "limit over the maximum", None),
]


def check_queries(res, idx):
    reqs = []
    for q, _, _ in BAD_QUERIES:
        reqs.append("SEARCH " + q)
        reqs.append("COUNT " + q)
    extra = [
        ("FROB gaza", "unknown_command"),
        ("frob", "unknown_command"),
        ("GET no-such-id", "not_found"),
        ('{"op":"frob"}', "unknown_command"),
        ('{"op":"search","q":"gaza \\"city"}', "bad_query"),
        ('{"op":"search","q":"x","from":"2023-13"}', "bad_query"),
        ('{"op":"get","id":"no-such-id"}', "not_found"),
        ('{"op":', "bad_request"),
        ('{"op":"search","bogus":1}', "bad_request"),
        ('{"op":"search","limit":"ten"}', "bad_request"),
        ("PING", None),
        ("ping", None),
        ("search alphaword", None),
        ("Count alphaword", None),
        ("HELP", None),
        ("EXPLAIN alphaword OR title:\"first thing\" -outlet:x", None),
        # last: after too_long the daemon closes the connection
        ("SEARCH " + "x" * 70000, "too_long"),
    ]
    reqs += [e[0] for e in extra]
    r, proc = sift.query_batch(idx, reqs)
    res.ok(len([x for x in r if x is not None]) == len(reqs),
           "one response line per request (errors included)",
           "%d of %d; exit %d; stderr %s" % (len([x for x in r if x is not None]), len(reqs), proc.returncode,
                                             sift.short(proc.stderr.decode("utf-8", "replace"))))
    for k, (q, why, col) in enumerate(BAD_QUERIES):
        for j, cmd in enumerate(("SEARCH", "COUNT")):
            x = r[2 * k + j]
            e = (x or {}).get("error") or {}
            msg = e.get("message", "")
            okcode = x is not None and x.get("ok") is False and e.get("code") == "bad_query"
            colv = x.get("column", e.get("column")) if x else None
            names_col = bool(re.search(r"column \d+|col(umn)?\s*\d+|at \d+", msg)) or colv is not None
            good = okcode and names_col and bool(msg)
            if good and col is not None and colv is not None and cmd == "SEARCH":
                good = colv == col
            res.ok(good, "%s %s -> bad_query naming the column (%s)" % (cmd, q, why),
                   "got %s%s" % (sift.short(x), "" if col is None else "; want column %d" % col))
    base = 2 * len(BAD_QUERIES)
    for k, (req, code) in enumerate(extra):
        x = r[base + k]
        if code is None:
            res.ok(x is not None and x.get("ok") is True, "%s -> ok" % sift.short(req, 60), sift.short(x))
        else:
            res.ok(x is not None and x.get("ok") is False and (x.get("error") or {}).get("code") == code
                   and (x.get("error") or {}).get("message"),
                   "%s -> %s with a message" % (sift.short(req, 60), code), sift.short(x))
    h = r[base + 14]
    res.ok(h and isinstance(h.get("commands"), list) and len(h["commands"]) >= 8,
           "HELP lists the commands", sift.short(h))


def one_line_error(res, what, p, path=None):
    err = lines_of(p.stderr)
    good = p.returncode != 0 and len(err) == 1 and (path is None or str(path) in err[0])
    res.ok(good, what + ": non-zero exit and a one-line reason",
           "exit %d; stderr %r" % (p.returncode, err[:4]))


def check_bad_index(res, tmp):
    missing = tmp / "no-such-index"
    p = sift.run([sift.exe("sift-query"), "--index", missing], input=b"STATS\n", timeout=60)
    one_line_error(res, "sift-query on a missing index", p, missing)
    empty = tmp / "empty-dir"
    empty.mkdir()
    p = sift.run([sift.exe("sift-query"), "--index", empty], input=b"STATS\n", timeout=60)
    one_line_error(res, "sift-query on an empty directory", p, empty)
    junk = tmp / "junk-dir"
    junk.mkdir()
    (junk / "notes.txt").write_text("not an index\n")
    (junk / "data.bin").write_bytes(os.urandom(4096))
    p = sift.run([sift.exe("sift-query"), "--index", junk], input=b"STATS\n", timeout=60)
    one_line_error(res, "sift-query on a directory of random files", p, junk)
    fake = tmp / "fake-glass"
    fake.mkdir()
    (fake / "iamglass").write_bytes(os.urandom(300))
    (fake / "postlist.glass").write_bytes(os.urandom(4096))
    p = sift.run([sift.exe("sift-query"), "--index", fake], input=b"STATS\n", timeout=60)
    one_line_error(res, "sift-query on a directory of corrupt Xapian files", p, fake)
    plain = tmp / "plain-file"
    plain.write_text("hello\n")
    p = sift.run([sift.exe("sift-query"), "--index", plain], input=b"STATS\n", timeout=60)
    one_line_error(res, "sift-query on a plain file", p, plain)
    # the indexer refuses a missing input file with a clear reason
    p = sift.index(tmp / "idx-missing-input", [tmp / "no-such-file.jsonl"])
    res.ok(p.returncode != 0 and lines_of(p.stderr) and "no-such-file" in p.stderr.decode(),
           "sift-indexer on a missing input file fails naming it",
           "exit %d; %s" % (p.returncode, sift.short(p.stderr.decode("utf-8", "replace"))))


def check_replace(res, tmp):
    a = tmp / "v1.jsonl"
    b = tmp / "v2.jsonl"
    a.write_text(json.dumps({"id": "r-1", "title": "alphaold version", "body": "oldbodyword",
                             "outlet": "Old Outlet", "date": "2020-01-01"}) + "\n"
                 + json.dumps({"id": "r-2", "title": "keeper", "body": "stays"}) + "\n")
    b.write_text(json.dumps({"id": "r-1", "title": "betanew version", "body": "newbodyword",
                             "outlet": "New Outlet", "date": "2021-02-02"}) + "\n")
    idx = tmp / "replace-index"
    p1 = sift.index(idx, [a])
    p2 = sift.index(idx, [b])
    res.ok(p1.returncode == 0 and p2.returncode == 0, "two indexer runs on one index",
           "%d %d %s" % (p1.returncode, p2.returncode, p2.stderr.decode("utf-8", "replace")))
    s2 = p2.stderr.decode("utf-8", "replace")
    res.ok(re.search(r"replaced 1\b", s2) is not None and re.search(r"added 0\b", s2) is not None,
           "second run's summary: added 0, replaced 1", s2)
    reqs = ["STATS", "COUNT betanew", "COUNT alphaold", "COUNT newbodyword", "COUNT oldbodyword",
            "COUNT outlet:oldoutlet", "COUNT outlet:newoutlet", "COUNT date:2020", "COUNT date:2021",
            "GET r-1", "SEARCH version facets:outlet,year", "COUNT keeper"]
    r, _ = sift.query_batch(idx, reqs)
    want = [None, 1, 0, 1, 0, 0, 1, 0, 1]
    res.ok(r[0] and r[0].get("docs") == 2, "replacing keeps one article per id", sift.short(r[0]))
    for k in range(1, 9):
        res.ok(r[k] and r[k].get("count") == want[k], "after replace: %s = %d" % (reqs[k], want[k]),
               sift.short(r[k]))
    d = (r[9] or {}).get("doc") or {}
    res.ok(d.get("title") == "betanew version" and d.get("outlet") == "New Outlet",
           "GET returns the new version", sift.short(r[9]))
    f = (r[10] or {}).get("facets") or {}
    res.ok(f.get("outlet") == [{"value": "New Outlet", "count": 1}] and
           f.get("year") == [{"value": "2021", "count": 1}],
           "facets forget the replaced version", sift.short(r[10]))
    res.ok(r[11] and r[11].get("count") == 1, "other articles untouched", sift.short(r[11]))
    # replacing within one input: the later line wins
    c = tmp / "dup.jsonl"
    c.write_text(json.dumps({"id": "d-1", "title": "firstcopy"}) + "\n"
                 + json.dumps({"id": "d-1", "title": "secondcopy"}) + "\n")
    idx2 = tmp / "dup-index"
    p = sift.index(idx2, [c])
    r, _ = sift.query_batch(idx2, ["STATS", "COUNT firstcopy", "COUNT secondcopy"])
    res.ok(p.returncode == 0 and r[0] and r[0].get("docs") == 1 and r[1].get("count") == 0
           and r[2].get("count") == 1, "a later duplicate in one file replaces the earlier",
           sift.short(r))
    # a new index built in parallel shards (batch b goes to shard b mod jobs):
    # every id comes back in later batches, so its copies meet other shards
    n_ids, versions = 23, 4
    lines = []
    for v in range(versions):
        for i in range(n_ids):
            lines.append(json.dumps({"id": "p-%d" % i, "title": "pidtitle%d version%d" % (i, v),
                                     "body": "vmark%d" % v, "outlet": "Outlet %d" % v}))
    par = tmp / "par.jsonl"
    par.write_text("\n".join(lines) + "\n")
    for jobs, batch in (("2", "5"), ("3", "4"), ("4", "23")):
        idx3 = tmp / ("par-index-%s-%s" % (jobs, batch))
        p = sift.index(idx3, [par], "--jobs", jobs, "--batch", batch)
        s3 = p.stderr.decode("utf-8", "replace")
        what = "--jobs %s --batch %s" % (jobs, batch)
        res.ok(p.returncode == 0 and re.search(r"added %d, replaced %d\b" % (n_ids, n_ids * (versions - 1)), s3),
               "%s: summary counts every later copy as replaced" % what, s3)
        reqs = ["STATS"] + ["COUNT vmark%d" % v for v in range(versions)] + \
               ["GET p-%d" % i for i in range(n_ids)] + ["SEARCH vmark3 facets:outlet limit:0"]
        r, _ = sift.query_batch(idx3, reqs)
        res.ok(r[0] and r[0].get("docs") == n_ids, "%s: one article per id" % what, sift.short(r[0]))
        counts = [(x or {}).get("count") for x in r[1:1 + versions]]
        res.ok(counts == [0] * (versions - 1) + [n_ids], "%s: only the last copies are found" % what,
               "counts per version %s" % counts)
        titles = [((x or {}).get("doc") or {}).get("title") for x in r[1 + versions:1 + versions + n_ids]]
        res.ok(titles == ["pidtitle%d version%d" % (i, versions - 1) for i in range(n_ids)],
               "%s: GET returns each id's last copy" % what, sift.short(titles))
        f = (r[-1] or {}).get("facets") or {}
        res.ok(f.get("outlet") == [{"value": "Outlet %d" % (versions - 1), "count": n_ids}],
               "%s: facets count only the last copies" % what, sift.short(r[-1]))
        res.ok(not (idx3 / "XAPIANDB").exists() and (idx3 / "iamglass").exists(),
               "%s: the shards were merged into one database" % what)
    # a parallel build that cannot create its shards (the parent directory is
    # missing) fails cleanly, without waiting for shards that never started
    bad = tmp / "no-such-parent" / "index"
    p = sift.index(bad, [par], "--jobs", "2", "--batch", "5", "--quiet", timeout=60)
    err = p.stderr.decode("utf-8", "replace")
    res.ok(p.returncode != 0 and str(bad) in err and not bad.exists(),
           "a parallel build whose directory cannot be made fails, naming it", err)


def check_cli(res, tmp):
    names = ["sift-indexer", "sift-query", "sift-searchd"] + (["sift-gen"] if sift.have("sift-gen") else [])
    for n in names:
        if not sift.have(n):
            res.fail("%s exists in %s" % (n, sift.BIN))
            continue
        for opt in ("--help", "--version"):
            p = sift.run([sift.exe(n), opt], timeout=30)
            res.ok(p.returncode == 0 and p.stdout.strip(), "%s %s exits 0 with output" % (n, opt),
                   "exit %d; out %r; err %r" % (p.returncode, p.stdout[:100], p.stderr[:200]))
        p = sift.run([sift.exe(n), "--no-such-option"], input=b"", timeout=30)
        one_line_error(res, "%s --no-such-option" % n, p)
    p = sift.run([sift.exe("sift-indexer"), tmp / "x.jsonl"], timeout=30)
    one_line_error(res, "sift-indexer without --index", p)
    p = sift.run([sift.exe("sift-indexer"), "--index", tmp / "idx-noinput"], timeout=30)
    one_line_error(res, "sift-indexer without input", p)
    p = sift.run([sift.exe("sift-indexer"), "--index", tmp / "idx-b", "--batch", "zero", "x"], timeout=30)
    one_line_error(res, "sift-indexer --batch zero", p)


def main():
    res = sift.Results("test_errors")
    sift.require_binaries(res, ("sift-indexer", "sift-query"))
    tmp = sift.scratch("errors")
    idx = check_bad_corpus(res, tmp)
    check_queries(res, idx)
    check_bad_index(res, tmp)
    check_replace(res, tmp)
    check_cli(res, tmp)
    res.finish()


if __name__ == "__main__":
    main()
