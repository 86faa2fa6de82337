"""test_windows: snippets found from the index's positions (win.h: only the
body blocks holding the query's words are decoded and scanned) are the
snippets of the whole-body scan, and stored articles in blocks (index
format 4) answer exactly as the format before (3: a head and a tail frame).

The corpus is the kit's sample and the start of news-part-01 when the kit is
there (used by path, never copied), else a generated one.  The queries are
the kit harness's (../shared/peers/results/queries.jsonl, when present) and
queries drawn from the articles so that matches lie far into long bodies:
a word, its plural, a prefix of it, a phrase of two words, two far words,
OR, title: beside a body word, NEAR, a hyphenated word, a word in -y.
Each query runs through sift-bench-micro --check (the request path of
sift-searchd, in process) three ways, and the answers must be byte for
byte the same but for their timing:

  * format 4 index, snippets from positions (the default);
  * format 4 index, --snippets-full (every body scanned from its start);
  * format 3 index of the same articles (--format 3), which stores them as
    before, so the positions path is never taken.

GET of a sample of ids answers the same from both indexes, and the format 4
index's stored data is at most 20% larger (the fields are plain, and
small blocks compress less: +13% on the kit, +2% of the whole index).
"""

import json
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sift  # noqa: E402

SEED = int(os.environ.get("SIFT_TEST_SEED", "20261203"))
WORD_RE = re.compile(r"[a-z]{5,}")
TOOK_RE = re.compile(rb'"took_us":\d+,')


def load_docs(files):
    docs = []
    for f in files:
        with open(f, "rb") as fh:
            for line in fh:
                line = line.strip()
                if line:
                    d = json.loads(line)
                    if d.get("id") and d.get("body"):
                        docs.append(d)
    return docs


def drawn_queries(docs, rng, n):
    """Queries whose words stand far into long bodies (past the first
    2,000 bytes, where the old head frame ended)."""
    out = []
    longs = [d for d in docs if len(d["body"]) > 4000]
    for _ in range(n):
        if not longs:
            break
        d = rng.choice(longs)
        body = d["body"].lower()
        at = rng.randrange(2000, len(body) - 200)
        words = WORD_RE.findall(body[at:at + 400])
        if len(words) < 4:
            continue
        w, v = words[0], words[-1]
        far = WORD_RE.findall(body[:1500])
        title = WORD_RE.findall((d.get("title") or "").lower())
        out += [w, w + "s", w[:5] + "*", '"%s %s"' % (words[1], words[2]), "%s %s" % (w, v),
                "%s OR %s" % (w, v)]
        if words[1] != words[3]:
            out.append("%s NEAR %s" % (words[1], words[3]))
        if far:
            out.append("%s %s" % (rng.choice(far), w))
        if title:
            out.append("title:%s %s" % (rng.choice(title), w))
        hy = re.findall(r"\b[a-z]+-[a-z]+\b", body[at:])
        if hy:
            out.append(hy[0])
        # A word in -y: English stems it in -i (`happy`, `happi`), so its
        # own spelling lies outside the words beginning with its whole
        # stem, and the positions path must widen its range (win.c).
        yw = re.findall(r"\b[a-z]{4,}y\b", body[at:at + 400])
        if yw:
            out.append(yw[0])
    return out


def write_queries(path, texts):
    with open(path, "w", encoding="utf-8") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"class": "q", "text": t, "outlet": None, "from": None, "to": None,
                                "facets": [], "limit": 10}) + "\n")


def check_answers(idx, queries, *extra):
    p = sift.run([sift.exe("sift-bench-micro"), "--index", str(idx), "--queries", str(queries),
                  "--check"] + list(extra), timeout=600)
    return p, TOOK_RE.sub(b"", p.stdout)


def docdata_bytes(idx):
    return sum(os.path.getsize(os.path.join(idx, f)) for f in os.listdir(idx)
               if f.startswith("docdata"))


def main():
    res = sift.Results("test_windows")
    sift.require_binaries(res, ("sift-indexer", "sift-query", "sift-bench-micro"))
    rng = random.Random(SEED)
    tmp = sift.scratch("windows")
    files = sift.kit_subset(tmp / "part01.jsonl", 700)
    if files:
        res.note("corpus: the kit's sample and 700 articles of news-part-01")
    else:
        files = [str(sift.py_generate(tmp / "gen.jsonl", 600, SEED, body_words=(300, 1500)))]
        res.note("corpus: generated (the kit is absent)")
    new, old = tmp / "format4", tmp / "format3"
    for idx, extra in ((new, []), (old, ["--format", "3"])):
        p = sift.index(idx, files, "--quiet", "--jobs", "1", *extra)
        if not res.ok(p.returncode == 0, "indexing %s" % idx.name,
                      p.stderr.decode("utf-8", "replace")[-500:]):
            res.finish()
    docs = load_docs(files)
    texts = drawn_queries(docs, rng, 40)
    kit_q = sift.KIT / "peers" / "results" / "queries.jsonl"
    if kit_q.is_file():
        with open(kit_q, encoding="utf-8") as f:
            kit = [json.loads(line)["text"] for line in f if line.strip()]
        texts += rng.sample(kit, min(150, len(kit)))
    qfile = tmp / "queries.jsonl"
    write_queries(qfile, texts)

    p1, windows = check_answers(new, qfile)
    p2, full = check_answers(new, qfile, "--snippets-full")
    p3, before = check_answers(old, qfile)
    for p, what in ((p1, "positions"), (p2, "--snippets-full"), (p3, "format 3")):
        res.ok(p.returncode == 0, "sift-bench-micro --check (%s)" % what,
               p.stderr.decode("utf-8", "replace")[-300:])
    lines = [json.loads(line.split(b"\t", 2)[2]) for line in windows.splitlines()]
    hits = sum(len(r.get("hits", [])) for r in lines)
    snippets = sum(1 for r in lines for h in r.get("hits", []) if h.get("snippet"))
    res.note("%d queries, %d hits, %d snippets" % (len(texts), hits, snippets))
    res.ok(len(lines) == len(texts) and all(r.get("ok") for r in lines), "every query answered")
    res.ok(hits >= 600 and snippets >= 600, "the queries find enough hits to compare",
           "%d hits" % hits)
    for name, other in (("--snippets-full", full), ("the format 3 index", before)):
        a, b = windows.splitlines(), other.splitlines()
        diff = [(x, y) for x, y in zip(a, b) if x != y]
        res.ok(len(a) == len(b) and not diff, "answers from positions are those of %s" % name,
               sift.short(diff[0][0].decode("utf-8", "replace") + "\n"
                          + diff[0][1].decode("utf-8", "replace"), 1200) if diff else "")

    ids = [d["id"] for d in rng.sample(docs, min(150, len(docs)))]
    got = {}
    for idx in (new, old):
        out, _ = sift.query_batch(idx, ["GET %s" % i for i in ids])
        got[idx] = out
    res.ok(all(r and r.get("ok") for r in got[new]) and got[new] == got[old],
           "GET answers the same from both indexes (%d ids)" % len(ids))
    bodies = {d["id"]: d["body"] for d in docs}
    res.ok(all(r and r["doc"]["body"] == bodies[i] for i, r in zip(ids, got[new])),
           "GET gives the stored body whole")
    grow = docdata_bytes(new) / max(1, docdata_bytes(old))
    res.note("stored data: %d bytes in blocks, %d before (x%.3f)"
             % (docdata_bytes(new), docdata_bytes(old), grow))
    res.ok(grow <= 1.20, "stored data grows by at most 20%", "x%.3f" % grow)
    res.finish()


if __name__ == "__main__":
    main()
