"""test_outlets: one outlet spelled several ways is one outlet everywhere.

SPEC: outlet:"Al Jazeera" compares names case-, accent- and punctuation-
insensitively, so "Al Jazeera", "AL-JAZEERA" and "aljazeera" are one outlet.
A small corpus of our own (pseudo-words, no article text) spells one outlet
three ways with different counts (5, 3, 2) and another two ways.  Checked,
in process (sift-query --index) and over the line protocol (sift-searchd),
on one index and on a stub of two shards holding half each:
  * each outlet facet row's count is COUNT outlet:"<row's value>", and the
    rows are one per outlet, shown in the spelling most matches use;
  * TIMELINE's "outlets" per period and "first" (one entry per outlet) count
    the spellings as one outlet;
  * the answers agree with the reference (siftref.py).
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sift  # noqa: E402
import siftref  # noqa: E402

# (spelling, articles): the first three are one outlet, the next two another.
SPELLINGS = [("Al Jazeera", 5), ("AL-JAZEERA", 3), ("aljazeera", 2), ("Reuters", 4),
             ("REUTERS ", 1), ("NPR", 2)]


def records():
    recs, n = [], 0
    for spelling, count in SPELLINGS:
        for _ in range(count):
            recs.append({"id": "o-%03d" % n, "outlet": spelling,
                         "date": "2024-03-%02d" % (1 + n % 3),
                         "title": "zorvex report %d" % n, "body": "zorvex quillan %d plimb" % n})
            n += 1
    return recs


def write(path, recs):
    with open(path, "w", encoding="utf-8") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")


def requests():
    return ["SEARCH zorvex facets:outlet limit:0", "SEARCH facets:outlet:all limit:0",
            "TIMELINE zorvex by:day", "TIMELINE zorvex by:month"]


def check(res, where, ask, ref, nums):
    """ask(list of request lines) -> list of answers."""
    facet_q, all_q, tl_day, tl_month = ask(requests())
    rows = (facet_q or {}).get("facets", {}).get("outlet")
    if not res.ok(isinstance(rows, list), where + ": an outlet facet", sift.short(facet_q)):
        return
    got = [(r["value"], r["count"]) for r in rows]
    res.ok(got == [("Al Jazeera", 10), ("Reuters", 5), ("NPR", 2)],
           where + ": one row per outlet, in its most used spelling", str(got))
    res.ok(got == ref.facets(nums, "outlet"), where + ": facet rows as the reference",
           "%s vs %s" % (got, ref.facets(nums, "outlet")))
    all_rows = [(r["value"], r["count"]) for r in (all_q or {}).get("facets", {}).get("outlet", [])]
    res.ok(all_rows == got, where + ": the empty query's facet is the same", str(all_rows))
    counts = ask(['COUNT zorvex outlet:"%s"' % v for v, _ in got] +
                 ['COUNT zorvex outlet:"%s"' % s for s, _ in SPELLINGS])
    res.ok([c and c.get("count") for c in counts[:len(got)]] == [n for _, n in got],
           where + ": each row's count is COUNT with its value as outlet:",
           str([c and c.get("count") for c in counts]))
    res.ok([c and c.get("count") for c in counts[len(got):]] == [10, 10, 10, 5, 5, 2],
           where + ": every spelling filters the whole outlet")
    for name, tl, by in (("by:day", tl_day, "day"), ("by:month", tl_month, "month")):
        want = siftref.timeline(ref, nums, by)
        if not res.ok(tl and tl.get("ok"), where + ": TIMELINE " + name, sift.short(tl)):
            continue
        res.ok([p["outlets"] for p in tl["series"]] == [p["outlets"] for p in want["series"]],
               where + ": TIMELINE %s outlets per period count spellings as one" % name,
               "%s vs %s" % (tl["series"], want["series"]))
        res.ok(len(tl["first"]) == 3 and tl["first"] == want["first"],
               where + ": TIMELINE %s first has one article per outlet" % name,
               "%s vs %s" % (tl["first"], want["first"]))


def served(res, index, fn):
    """Run fn(ask) against a sift-searchd on index (cache on)."""
    port = sift.free_port()
    daemon = subprocess.Popen([sift.exe("sift-searchd"), "--index", str(index), "--listen",
                               "127.0.0.1:%d" % port, "--threads", "2", "--log-level", "warn"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        c = sift.connect_when_up(port)
        if c is None:
            res.fail("sift-searchd did not start on %s" % index)
            return
        fn(lambda lines: [json.loads(c.request(line)) for line in lines])
        c.close()
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)


def main():
    res = sift.Results("test_outlets")
    sift.require_binaries(res, ("sift-indexer", "sift-query", "sift-searchd"))
    d = sift.scratch("outlets")
    recs = records()
    ref = siftref.Corpus()
    ref.add_records([dict(r, day=r["date"].replace("-", ""),
                          sortkey=r["date"].replace("-", "") + "000000") for r in recs])
    ref.build()
    nums = ref.eval(("word", "zorvex", "text"))
    write(d / "all.jsonl", recs)
    write(d / "a.jsonl", recs[0::2])
    write(d / "b.jsonl", recs[1::2])
    for name in ("all", "a", "b"):
        p = sift.index(d / name, [d / ("%s.jsonl" % name)])
        res.ok(p.returncode == 0, "index %s" % name, p.stderr.decode(errors="replace")[-300:])
    (d / "ab.stub").write_text("auto a\nauto b\n")
    for where, index in (("one index", d / "all"), ("2-shard stub", d / "ab.stub")):
        check(res, where + ", in process", lambda lines, i=index: sift.query_batch(i, lines)[0],
              ref, nums)
        served(res, index, lambda ask, w=where: check(res, w + ", searchd", ask, ref, nums))
    res.finish()


if __name__ == "__main__":
    main()
