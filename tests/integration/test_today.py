"""test_today: a cached answer does not outlive the day it counted from.

since: and sort:recent without now: count from today (UTC, at the server).
sift-searchd runs with the result cache on and its day faked through
SIFT_TEST_TODAY_FILE (shared/cal.h: a file holding YYYYMMDD, read on every
call; for tests only).  A small corpus of our own (one article a day,
2024-03-01..2024-03-20, pseudo-words).  Checked:
  * on 2024-03-10, COUNT/SEARCH/TIMELINE with since: and SEARCH sort:recent
    answer as the same request with now:2024-03-10 in process, and a repeat
    is a cache hit;
  * after the day turns to 2024-03-20, the same lines answer for the new day
    (as with now:2024-03-20), not from the cache;
  * a request with now: given stays cached across the turn.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sift  # noqa: E402

LINES = ["COUNT zorvex since:3d", "SEARCH zorvex since:1w limit:3",
         "SEARCH zorvex sort:recent limit:3", "TIMELINE zorvex since:5d",
         '{"op":"count","q":"zorvex","since":"2d"}']


def with_now(line, day):
    if line.startswith("{"):
        r = json.loads(line)
        r["now"] = day
        return json.dumps(r)
    return "%s now:%s" % (line, day)


def strip(r):
    """An answer without its timing."""
    return {k: v for k, v in (r or {}).items() if k != "took_us"}


def cache_hits(ask):
    s = ask(["STATS"])[0]
    return s.get("stats", s).get("cache", {}).get("hits")


def main():
    res = sift.Results("test_today")
    sift.require_binaries(res, ("sift-indexer", "sift-query", "sift-searchd"))
    d = sift.scratch("today")
    with open(d / "days.jsonl", "w") as f:
        for i in range(20):
            f.write(json.dumps({"id": "d-%02d" % i, "outlet": "Wire", "date": "2024-03-%02d" % (i + 1),
                                "title": "zorvex %d" % i, "body": "zorvex plimb %d" % i}) + "\n")
    p = sift.index(d / "idx", [d / "days.jsonl"])
    res.ok(p.returncode == 0, "index", p.stderr.decode(errors="replace")[-300:])
    want = {}
    for day in ("2024-03-10", "2024-03-20"):
        got, _ = sift.query_batch(d / "idx", [with_now(line, day) for line in LINES])
        want[day] = [strip(r) for r in got]
    res.ok(want["2024-03-10"][0].get("count") == 4 and want["2024-03-20"][0].get("count") == 4 and
           want["2024-03-10"] != want["2024-03-20"], "the two days answer differently",
           str(want)[:300])
    today = d / "today"
    today.write_text("20240310\n")
    port = sift.free_port()
    env = dict(os.environ, SIFT_TEST_TODAY_FILE=str(today))
    daemon = subprocess.Popen([sift.exe("sift-searchd"), "--index", str(d / "idx"), "--listen",
                               "127.0.0.1:%d" % port, "--threads", "2", "--log-level", "warn"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        c = sift.connect_when_up(port)
        if c is None:
            res.fail("sift-searchd did not start")
            res.finish()
            return
        ask = lambda lines: [json.loads(c.request(line)) for line in lines]  # noqa: E731
        pinned = with_now(LINES[0], "2024-03-10")
        first = [strip(r) for r in ask(LINES + [pinned])]
        res.ok(first[:-1] == want["2024-03-10"], "on 2024-03-10 the answers count from it",
               "%s vs %s" % (str(first)[:300], str(want["2024-03-10"])[:300]))
        h0 = cache_hits(ask)
        again = [strip(r) for r in ask(LINES + [pinned])]
        h1 = cache_hits(ask)
        res.ok(again == first and h1 is not None and h1 - h0 == len(LINES) + 1,
               "the same day, the repeats are cache hits", "hits %s -> %s" % (h0, h1))
        today.write_text("20240320\n")
        turned = [strip(r) for r in ask(LINES + [pinned])]
        h2 = cache_hits(ask)
        res.ok(turned[:-1] == want["2024-03-20"],
               "after the day turns the answers count from the new day, not the cache",
               "%s vs %s" % (str(turned)[:300], str(want["2024-03-20"])[:300]))
        res.ok(turned[-1] == first[-1] and h2 - h1 == 1,
               "a request with now: given is still a cache hit", "hits %s -> %s" % (h1, h2))
        c.close()
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
    res.finish()


if __name__ == "__main__":
    main()
