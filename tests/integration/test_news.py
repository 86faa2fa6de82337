"""test_news: the forms for news work against the independent reference.

since:/now: bounds (month ends clamped), sort:recent with halflife:, TIMELINE
(series zero-filled by day, ISO week, month and year; counts, all articles
and distinct outlets per period; each outlet's first article), cursors
(after:, "next") paged through and compared with one big page, and paged
across an index growing between the pages; the news options as fields of
the JSON-object request.  Every expected answer comes
from siftref.py (Python's datetime and the corpus files), never from what
the engine printed; sort:recent takes the engine's plain relevance scores
(BM25 is not re-implemented) and checks the decay and the order on them.

The corpus is generated here (pseudo-words, no article text): 1,600
articles over 2022-2024 with some times of day, some undated and some
without an outlet, indexed with one writer so that docids follow the file
(the tie order of equal sort keys).
"""

import datetime
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sift  # noqa: E402
import siftref  # noqa: E402

SEED = int(os.environ.get("SIFT_TEST_SEED", "20240508"))
SYL = ["zor", "vat", "kel", "min", "das", "trop", "qui", "ven", "mab", "rel", "tol", "san"]
# 72 pseudo-words, drawn with weights 1/(k+1): WORDS[0] is in most articles,
# WORDS[40] in about one in eight.
WORDS = [a + b + c for a in SYL[:6] for b in SYL[6:] for c in ("", "ex")][:72]
OUTLETS = ["Wire One", "Daily Two", "The Third", "Fourth Post", "Five News", "Sixth Times",
           "Seventh Herald", "Eight Ledger", "reuters", "Reuters"]


WEIGHTS = [1.0 / (k + 1) for k in range(len(WORDS))]


def write_corpus(path, rng, first, n, start=datetime.date(2022, 1, 1), days=900):
    with open(path, "w", encoding="utf-8") as f:
        for i in range(first, first + n):
            d = {"id": "news-%05d" % i,
                 "title": " ".join(rng.choices(WORDS, WEIGHTS, k=rng.randint(2, 6))).capitalize(),
                 "body": " ".join(rng.choices(WORDS, WEIGHTS, k=rng.randint(10, 60)))}
            if rng.random() < 0.93:
                d["outlet"] = rng.choice(OUTLETS)
            r = rng.random()
            if r < 0.05:
                pass  # undated
            else:
                day = start + datetime.timedelta(days=rng.randrange(days))
                d["date"] = day.isoformat()
                if r < 0.4:
                    d["date"] += "T%02d:%02d:00Z" % (rng.randrange(24), rng.randrange(60))
            f.write(json.dumps(d) + "\n")
    return path


def main():
    res = sift.Results("test_news")
    sift.require_binaries(res)
    rng = random.Random(SEED)
    tmp = sift.scratch("news")
    part1 = write_corpus(tmp / "part1.jsonl", rng, 0, 1600)
    idx = tmp / "index"
    p = sift.index(idx, [part1], "--jobs", "1")
    if not res.ok(p.returncode == 0, "indexing the generated corpus", p.stderr.decode()[-500:]):
        res.finish()
    ref = siftref.Corpus().add_file(str(part1)).build()

    def ask(reqs):
        out, proc = sift.query_batch(idx, reqs)
        return out

    def nums_of(node):
        return ref.eval(node)

    check_since(res, ref, ask)
    check_errors(res, ask)
    check_recent(res, ref, ask)
    check_timeline(res, ref, ask)
    check_like(res, ref, ask)
    check_cursors(res, ref, ask)
    check_cursors_growing(res, rng, tmp, idx, part1)
    check_json_options(res, ask)
    res.finish()


def check_json_options(res, ask):
    """The news options as JSON-object fields (and so HTTP parameters)
    answer as NAME:VALUE written in "q"."""
    w = WORDS[0]
    pairs = [
        ("COUNT %s since:3m now:2023-03-31" % w, {"op": "count", "q": w, "since": "3m", "now": "2023-03-31"}),
        ("SEARCH %s sort:recent halflife:2w now:2023-06-01 limit:5" % w,
         {"op": "search", "q": w, "sort": "recent", "halflife": "2w", "now": "2023-06-01", "limit": 5}),
        ("TIMELINE %s by:week date:2023-01..2023-03" % w,
         {"op": "timeline", "q": w, "by": "week", "from": "2023-01", "to": "2023-03"}),
        ("SEARCH %s collapse:copies limit:3" % w, {"op": "search", "q": w, "collapse": "copies", "limit": 3}),
        # like: ranks (relevance) also when the JSON form adds conditions
        ("SEARCH like:news-00005 date:2022-01-01.. limit:5",
         {"op": "search", "q": "like:news-00005", "from": "2022-01-01", "limit": 5}),
        ("SEARCH like:news-00005 outlet:\"%s\" limit:5" % OUTLETS[0],
         {"op": "search", "like": "news-00005", "outlet": OUTLETS[0], "limit": 5}),
    ]
    first = ask(["SEARCH %s sort:newest limit:3" % w])[0]
    if first and first.get("next"):
        pairs.append(("SEARCH %s sort:newest limit:3 after:%s" % (w, first["next"]),
                      {"op": "search", "q": w, "sort": "newest", "limit": 3, "after": first["next"]}))
    out = ask([t for t, _ in pairs] + [j for _, j in pairs])
    for k, (text, js) in enumerate(pairs):
        a, b = out[k], out[len(pairs) + k]
        for x in (a, b):
            if x:
                x.pop("took_us", None)
        res.ok(a and a.get("ok") and a == b,
               "JSON %s answers as %s" % (sift.short(js), text),
               "text %s\njson %s" % (sift.short(a), sift.short(b)))
    bad = ask([{"op": "count", "q": w, "since": 7}, {"op": "count", "q": w, "since": "7x"},
               {"op": "count", "q": "%s since:7d" % w, "now": "2024-01-01"}])
    res.ok(bad[0] and (bad[0].get("error") or {}).get("code") == "bad_request",
           "JSON since as a number is a bad_request", sift.short(bad[0]))
    for r, what in ((bad[1], "a bad since value"), (bad[2], "now beside since: in q")):
        res.ok(r and (r.get("error") or {}).get("code") == "bad_query", "JSON %s is a bad_query" % what,
               sift.short(r))


# ---------------------------------------------------------------------------


def check_since(res, ref, ask):
    cases = [("2024-05-08", 7, "d"), ("2024-05-08", 4, "w"), ("2024-03-31", 1, "m"),
             ("2023-03-31", 1, "m"), ("2024-02-29", 1, "y"), ("2023-05-31", 3, "m"),
             ("2022-06-15", 0, "d"), ("2024-06-30", 2, "y"), ("2023-12-31", 10, "m")]
    reqs, want = [], []
    for now, n, unit in cases:
        nowi = int(now.replace("-", ""))
        lo, hi = siftref.since_bounds(nowi, n, unit)
        for word in (None, WORDS[0], WORDS[5]):
            q = "since:%d%s now:%s" % (n, unit, now) + (" " + word if word else "")
            node = ("date", "%s..%s" % (fmt(lo), fmt(hi)))
            if word:
                node = ("and", [("word", word, "text"), node])
            reqs.append("COUNT " + q)
            want.append(("count", q, len(ref.eval(node))))
        reqs.append("EXPLAIN since:%d%s now:%s" % (n, unit, now))
        want.append(("explain", "since:%d%s now:%s" % (n, unit, now), (fmt(lo), fmt(hi))))
    out = ask(reqs)
    for (kind, q, exp), r in zip(want, out):
        if kind == "count":
            res.ok(r and r.get("count") == exp, "COUNT %s" % q, "want %s, got %s" % (exp, sift.short(r)))
        else:
            root = (r or {}).get("parsed", {}).get("root") or {}
            got = (root.get("from"), root.get("to"))
            res.ok(got == exp and root.get("date", "").startswith("since:"), "EXPLAIN %s" % q,
                   "want %s, got %s" % (exp, sift.short(r)))
    # now: defaults to today, UTC, at the server.
    r = ask(["EXPLAIN since:7d"])[0]
    today = datetime.datetime.now(datetime.timezone.utc).date()
    res.ok(r and r["parsed"].get("now") == today.isoformat(), "since: counts from today (UTC)",
           sift.short(r))


def fmt(ymd):
    return "%04d-%02d-%02d" % (ymd // 10000, ymd // 100 % 100, ymd % 100)


def check_errors(res, ask):
    bad = [("SEARCH gaza since:7x", "since", 12), ("SEARCH now:2024-02-30 a", "now", 5),
           ("SEARCH a sort:recent halflife:0d", "halflife", 24), ("TIMELINE a by:hour", "by", 6),
           ("SEARCH a after:zz", "cursor", 9), ("SEARCH a sort:newest after:n1.2", "cursor", 21),
           ("SEARCH a sort:newest after:r2.3A4", "sort:relevance", 21),
           ("SEARCH a after:r3.3A4", "cursor", 9),
           ("SEARCH a offset:3 after:n1.2.20240101000000", "offset", 18),
           ("SEARCH since:100000y", "since", 1), ("SEARCH a sort:soon", "recent", 8)]
    out = ask([b[0] for b in bad])
    for (req, word, col), r in zip(bad, out):
        e = (r or {}).get("error") or {}
        res.ok(e.get("code") == "bad_query" and word in e.get("message", "") and
               e.get("column") == col, "error for %r names %r at column %d" % (req, word, col),
               sift.short(r))


def check_recent(res, ref, ask):
    """sort:recent = the plain scores times 2^(-age/halflife), best first."""
    for word, now, half in ((WORDS[12], "2023-06-01", "14d"), (WORDS[20], "2024-07-01", "2w"),
                            (WORDS[30], "2022-03-01", "100d"), (WORDS[16], "2024-03-31", "1m"),
                            (WORDS[24], "2024-02-29", "1y")):
        nowi = int(now.replace("-", ""))
        if half[-1] in "my":  # the days back to since:'s start: that article weighs half
            lo, _ = siftref.since_bounds(nowi, int(half[:-1]), half[-1])
            hl = (siftref._ymd_date(nowi) - siftref._ymd_date(lo)).days
        else:
            hl = int(half[:-1]) * (7 if half.endswith("w") else 1)
        plain, recent, page = ask([
            "SEARCH %s limit:1000" % word,
            "SEARCH %s sort:recent now:%s halflife:%s limit:1000" % (word, now, half),
            "SEARCH %s sort:recent now:%s halflife:%s limit:5 offset:3" % (word, now, half)])
        total = len(ref.eval(("word", word, "text")))
        if not res.ok(plain and recent and plain["total"] == total == recent.get("total") <= 1000,
                      "sort:recent %s: totals" % word, sift.short(recent)):
            continue
        exp = {}
        for h in plain["hits"]:
            exp[h["id"]] = h["score"] * siftref.decay(nowi, ref.by_id[h["id"]].day, hl)
        # Scores travel with 6 significant digits: compare within that.
        def close(x, y):
            return abs(x - y) <= 2e-5 * max(abs(x), abs(y)) + 1e-300
        scores = [h["score"] for h in recent["hits"]]
        res.ok(len(scores) == len(exp) and all(close(h["score"], exp[h["id"]]) for h in recent["hits"]),
               "sort:recent %s: each score is its plain score decayed" % word)
        res.ok(all(a >= b for a, b in zip(scores, scores[1:])),
               "sort:recent %s: best decayed score first" % word)
        ranked = [exp[h["id"]] for h in recent["hits"]]
        res.ok(all(a >= b or close(a, b) for a, b in zip(ranked, ranked[1:])),
               "sort:recent %s: the order of the reference's decayed scores" % word)
        res.ok(page and [h["id"] for h in page["hits"]] == [h["id"] for h in recent["hits"][3:8]],
               "sort:recent %s: offset pages agree with the whole list" % word)


def check_timeline(res, ref, ask):
    cases = [
        ("TIMELINE %s" % WORDS[2], ("word", WORDS[2], "text"), None, None, None),
        ("TIMELINE %s date:2023-02..2023-04-10 by:week" % WORDS[4],
         ("and", [("word", WORDS[4], "text"), ("date", "2023-02..2023-04-10")]), "week",
         20230201, 20230410),
        ("TIMELINE %s date:2023-11" % WORDS[1],
         ("and", [("word", WORDS[1], "text"), ("date", "2023-11")]), None, 20231101, 20231131),
        ("TIMELINE outlet:reuters by:year limit:3", ("filter", "outlet", "reuters"), "year",
         None, None),
        ("TIMELINE %s since:3m now:2024-02-29 by:month limit:50" % WORDS[7],
         ("and", [("word", WORDS[7], "text"), ("date", "2023-11-29..2024-02-29")]), "month",
         20231129, 20240229),
        ("TIMELINE %s by:day limit:0" % WORDS[15], ("word", WORDS[15], "text"), "day", None, None),
        ("TIMELINE", ("all",), None, None, None),
        ("TIMELINE zzznothing", ("word", "zzznothing", "text"), None, None, None),
        ("TIMELINE %s date:2023-06-01..2023-06-30" % WORDS[0],
         ("and", [("word", WORDS[0], "text"), ("date", "2023-06-01..2023-06-30")]), None,
         20230601, 20230630),
    ]
    reqs = [c[0] for c in cases]
    reqs.append({"op": "timeline", "q": WORDS[4] + " by:week", "from": "2023-02",
                 "to": "2023-04-10"})
    out = ask(reqs)
    for (req, node, by, lo, hi), r in zip(cases, out):
        limit = 10
        if "limit:" in req:
            limit = int(req.split("limit:")[1].split()[0])
        exp = siftref.timeline(ref, ref.eval(node), by, lo, hi, limit)
        got = dict(r or {})
        got.pop("ok", None)
        if not res.ok(got == exp, req, "want %s\n got %s" % (sift.short(exp, 600), sift.short(r, 600))):
            for a, b in zip(exp.get("series", []), got.get("series", [])):
                if a != b:
                    res.note("      first difference: want %s got %s" % (a, b))
                    break
    res.ok(out[-1] == out[1], "TIMELINE in the JSON-object form answers like the text form",
           sift.short(out[-1]))
    total_points = sum(len(r["series"]) for r in out if r and r.get("series"))
    res.note("TIMELINE: %d periods checked" % total_points)


def check_like(res, ref, ask):
    """like:ID: the OR of some of ID's own stems (EXPLAIN lists them), with
    the other conditions as filters, never ID itself."""
    import re
    for id_, extra, node in (("news-00007", "", None), ("news-00123", "date:2023", ("date", "2023")),
                             ("news-00555", "outlet:reuters", ("filter", "outlet", "reuters")),
                             ("news-01042", "%s since:1y now:2023-06-30" % WORDS[30],
                              ("and", [("word", WORDS[30], "text"), ("date", "2022-06-30..2023-06-30")]))):
        q = "like:%s %s" % (id_, extra)
        ex, sr, ct = ask(["EXPLAIN " + q, "SEARCH %s limit:1000" % q, "COUNT " + q])
        xq = (ex or {}).get("xapian", "")
        # The like part's terms (the filter's own words left out).
        extra_stems = {siftref.STEMMERS.stem("english", w) for w in siftref.tokenize(extra)}
        stems = [t for t in re.findall(r"\bZ([a-z0-9']+)\b", xq) if t not in extra_stems]
        d = ref.by_id[id_]
        own = {siftref.STEMMERS.stem(d.algo, w) for w in siftref.tokenize(d.f.get("title", "") + " " + d.f.get("body", ""))}
        res.ok(stems and set(stems) <= own, "like:%s: its words are the article's own stems" % id_,
               "%s not in the article" % sorted(set(stems) - own))
        nums = set()
        for st in stems:
            nums |= set(ref.inv_stem.get((d.algo, st), ()))
        if node:
            nums &= ref.eval(node)
        nums.discard(d.n)
        want = ref.ids(nums)
        got = {h["id"] for h in (sr or {}).get("hits", [])}
        res.ok(sr and sr["total"] == len(want) and (ct or {}).get("count") == len(want) and
               (len(want) > 1000 or got == want) and id_ not in got,
               "like:%s %s: the articles with any of those stems, filtered, without it" % (id_, extra),
               "want %d, got total %s count %s" % (len(want), (sr or {}).get("total"), (ct or {}).get("count")))
    r = ask(["SEARCH like:nosuch-id date:2023"])[0]
    e = (r or {}).get("error") or {}
    res.ok(e.get("code") == "not_found" and e.get("column") == 6, "like: an unknown id is not_found",
           sift.short(r))


def page_all(ask, q, limit, offset=0):
    """Page through q with after: (the first page at offset), returning
    (ids, pages)."""
    ids, cur, pages = [], None, 0
    while pages < 500:
        extra = " after:" + cur if cur else " offset:%d" % offset if offset else ""
        r = ask(["SEARCH %s limit:%d%s" % (q, limit, extra)])[0]
        if not r or not r.get("ok"):
            return None, r
        ids += [h["id"] for h in r["hits"]]
        pages += 1
        cur = r.get("next")
        if not cur:
            break
    return ids, pages


def check_cursors(res, ref, ask):
    for q, offset in (("%s sort:newest" % WORDS[10], 0), ("%s sort:oldest" % WORDS[10], 0),
                      (WORDS[14], 0), ("%s sort:recent now:2023-01-01" % WORDS[16], 0),
                      ("outlet:reuters", 0), ("%s OR %s" % (WORDS[21], WORDS[30]), 0),
                      (WORDS[14], 5), ("%s sort:recent now:2023-01-01" % WORDS[16], 9),
                      ("%s sort:oldest" % WORDS[10], 11)):
        whole = ask(["SEARCH %s limit:1000" % q])[0]
        ids, pages = page_all(ask, q, 37, offset)
        if not res.ok(ids is not None, "paging %s" % q, sift.short(pages)):
            continue
        want = [h["id"] for h in whole["hits"]]
        res.ok(ids == want[offset:] and len(want) == whole["total"],
               "after: pages of %r from offset %d are the whole list (%d hits, %d pages)"
               % (q, offset, len(want), pages),
               "first difference at %s" % next((i for i, (x, y) in enumerate(zip(ids, want[offset:]))
                                                if x != y), None))
    # The date order against the reference, undated last.
    for order in ("newest", "oldest"):
        q = "%s sort:%s" % (WORDS[10], order)
        ids, _ = page_all(ask, q, 50)
        keys = [ref.by_id[i].sortkey for i in ids]
        res.ok(keys == ref.ordered_keys(ref.eval(("word", WORDS[10], "text")), order),
               "after: pages of %r follow the reference's date order" % q)
    r = ask(["SEARCH %s limit:1000" % WORDS[40]])[0]
    res.ok(r and "next" not in r, "no \"next\" on the last page", sift.short(r))


def check_cursors_growing(res, rng, tmp, idx, part1):
    """Articles added between pages: date sorts neither repeat nor skip any
    article, and continue in the order of the grown index; relevance does
    not repeat."""
    parts = [part1]
    state = {}
    for q in ("sort:newest", "sort:oldest", "%s sort:newest" % WORDS[2], WORDS[2]):
        state[q] = {"ids": [], "cur": None, "done": False}
    first_ids = None
    for round_ in range(4):
        for q, st in state.items():
            if st["done"]:
                continue
            req = "SEARCH %s limit:40%s" % (q, " after:" + st["cur"] if st["cur"] else "")
            r = sift.query_batch(idx, [req])[0][0]
            if not res.ok(r and r.get("ok"), "page of %r while the index grows" % q, sift.short(r)):
                st["done"] = True
                continue
            st["ids"] += [h["id"] for h in r["hits"]]
            st["cur"] = r.get("next")
            st["last"] = r["hits"][-1]["id"] if r["hits"] else None
            st["done"] = not st["cur"]
        if round_ == 0:
            first_ids = {q: list(st["ids"]) for q, st in state.items()}
        # Add articles, some dated before and some after every cursor.
        part = write_corpus(tmp / ("more%d.jsonl" % round_), rng, 10000 + 100 * round_, 100)
        parts.append(part)
        p = sift.index(idx, [part], "--jobs", "1")
        res.ok(p.returncode == 0, "adding articles between pages", p.stderr.decode()[-300:])
    ref = siftref.Corpus()
    for path in parts:
        ref.add_file(str(path))
    ref.build()
    for q, st in state.items():
        while not st["done"]:
            r = sift.query_batch(idx, ["SEARCH %s limit:200 after:%s" % (q, st["cur"])])[0][0]
            if not r or not r.get("ok"):
                res.fail("finishing %r" % q, sift.short(r))
                break
            st["ids"] += [h["id"] for h in r["hits"]]
            st["cur"] = r.get("next")
            st["done"] = not st["cur"]
        ids = st["ids"]
        res.ok(len(ids) == len(set(ids)), "%r: no article repeated across pages (%d)" % (q, len(ids)))
        if "sort:" not in q:
            continue
        order = q.split("sort:")[1]
        node = ("word", WORDS[2], "text") if q.startswith(WORDS[2]) else ("all",)
        nums = ref.eval(node)
        # The expected list: equal keys in docid (= file) order, undated last.
        def key(n):
            d = ref.docs[n]
            k = d.sortkey
            if order == "newest":
                return (k is None, [-ord(c) for c in k] if k else [], n)
            return (k is None, k or "", n)
        seen = set(first_ids[q])
        exp_rest = [ref.docs[n].id for n in sorted(nums, key=key)]
        cut = exp_rest.index(first_ids[q][-1]) + 1 if first_ids[q] else 0
        # After the first page, every later page is cut from the growing
        # index: nothing of the original corpus may be missing or repeated.
        orig = {ref.docs[n].id for n in nums if not ref.docs[n].id.startswith("news-1")}
        res.ok(orig <= set(ids), "%r: no original article skipped (%d missing)" % (q, len(orig - set(ids))))
        tail = ids[len(first_ids[q]):]
        exp_tail = [i for i in exp_rest[cut:] if i not in seen]
        # Articles added after a later page could only land behind its cursor.
        res.ok([i for i in tail if i in set(exp_tail)] == [i for i in exp_tail if i in set(tail)],
               "%r: pages after the growth keep the reference's order" % q)
        missing = [i for i in exp_tail if i not in set(tail) and not i.startswith("news-1")]
        res.ok(not missing, "%r: every original article after the first page is on a later one" % q,
               str(missing[:5]))


if __name__ == "__main__":
    main()
