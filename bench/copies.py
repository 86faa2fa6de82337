#!/usr/bin/env python3
"""copies.py: an archive N times the size of a corpus, made of its own articles.

    bench/copies.py N < corpus.jsonl > corpus-N.jsonl
    bench/copies.py --newest < corpus.jsonl     # its newest date, YYYY-MM-DD

Copy 0 is the corpus as it is; copy k (1 <= k < N) has every id suffixed
"-cK" and every date moved back 10 x k years (29 February to the 28th where
that year has none), so the copies are older periods of the same archive:
the newest month holds the same articles at every N, and a corpus of real
news text grows to 10x without a generator's word salad.  Lines that are
not JSON objects are left out (the indexer would reject them anyway).
"""
import calendar
import json
import sys


def moved(date, years):
    """date (YYYY-MM-DD...) moved back by years, or None when not a date."""
    if not isinstance(date, str) or len(date) < 10 or not date[:4].isdigit():
        return None
    y = int(date[:4]) - years
    rest = date[4:]
    if rest[:6] == "-02-29" and not calendar.isleap(y):
        rest = "-02-28" + rest[6:]
    return "%04d%s" % (y, rest)


def articles(stream):
    for line in stream:
        try:
            d = json.loads(line)
        except ValueError:
            continue
        if isinstance(d, dict):
            yield line, d


def main(argv):
    if argv == ["--newest"]:
        print(max((d["date"][:10] for _, d in articles(sys.stdin.buffer)
                   if moved(d.get("date"), 0)), default=""))
        return 0
    if len(argv) != 1 or not argv[0].isdigit() or int(argv[0]) < 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    n = int(argv[0])
    arts = list(articles(sys.stdin.buffer))
    out = sys.stdout
    for k in range(n):
        for line, d in arts:
            if k == 0:
                out.write(line.decode("utf-8", "replace").rstrip("\n") + "\n")
                continue
            c = dict(d, id="%s-c%d" % (d.get("id"), k))
            date = moved(d.get("date"), 10 * k)
            if date:
                c["date"] = date
            out.write(json.dumps(c, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
