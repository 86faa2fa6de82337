#!/usr/bin/env python3
"""relevance.py: ranking quality on the kit's test collections.

    bench/relevance.py [--bin build/bin] [--eval ../shared/eval] [--work DIR]
                       [--bm25 K1,B] [--only cranfield,cisi] [--per-query FILE]

For each collection under --eval (a folder with the documents as *.jsonl.zst,
queries.tsv and qrels.txt; see its README): index the documents with
sift-indexer, run every query through sift-query --index in batch mode, and
score the ranking against the judgments, in two modes:

  or     the query's words ORed (`w1 OR w2 OR ...`, lower-cased so no word
         is an operator): what the peers harness runs on every engine;
  typed  the query text as it stands (default mode: every word, and
         relaxation to match:any when that finds nothing).

Prints MAP (cut at 1000), nDCG@10 and P@10 per collection and mode, over
the queries that have at least one relevant document (rel > 0), with the
standard definitions (trec_eval's map, ndcg_cut_10 with linear gains,
P_10), plus how many queries failed (error) or found nothing.  Python 3
stdlib only.
"""

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEPTH = 1000


def load_queries(path):
    qs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                qid, text = line.split("\t", 1)
                qs.append((qid, text))
    return qs


def load_qrels(path):
    rels = {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 4:
                rels.setdefault(p[0], {})[p[2]] = int(p[3])
    return rels


def words(text):
    return re.findall(r"[^\W_]+", text.lower())


def index(bin_dir, coll, work):
    idx = work / coll.name
    docs = sorted(coll.glob("*.jsonl.zst")) + sorted(coll.glob("*.jsonl"))
    stamp = idx / ".built-from"
    key = "%s %s" % ([str(d) for d in docs], os.path.getmtime(bin_dir / "sift-indexer"))
    if stamp.exists() and stamp.read_text() == key:
        return idx
    subprocess.run(["rm", "-rf", str(idx)], check=True)
    subprocess.run([str(bin_dir / "sift-indexer"), "--index", str(idx), "--quiet"] + [str(d) for d in docs],
                   check=True)
    stamp.write_text(key)
    return idx


def run(bin_dir, idx, lines, bm25):
    args = [str(bin_dir / "sift-query"), "--index", str(idx)]
    if bm25:
        args += ["--bm25", bm25]
    data = "".join(l + "\n" for l in lines).encode("utf-8")
    p = subprocess.run(args, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = p.stdout.decode("utf-8").splitlines()
    if len(out) != len(lines):
        sys.exit("relevance.py: %d answers for %d requests: %s" % (len(out), len(lines), p.stderr[:300]))
    return [json.loads(o) for o in out]


def scores(ranked, judged):
    """AP@1000, nDCG@10, P@10 of one ranking."""
    relevant = {d for d, r in judged.items() if r > 0}
    hits, ap = 0, 0.0
    for i, d in enumerate(ranked[:DEPTH]):
        if d in relevant:
            hits += 1
            ap += hits / (i + 1)
    ap /= len(relevant)
    dcg = sum(judged.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sorted((r for r in judged.values() if r > 0), reverse=True)[:10]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    p10 = sum(1 for d in ranked[:10] if d in relevant) / 10
    return ap, dcg / idcg, p10


def evaluate(bin_dir, coll, work, bm25, per_query):
    idx = index(bin_dir, coll, work)
    queries = load_queries(coll / "queries.tsv")
    qrels = load_qrels(coll / "qrels.txt")
    queries = [(q, t) for q, t in queries if any(r > 0 for r in qrels.get(q, {}).values())]
    modes = {
        "or": ["SEARCH %s limit:%d" % (" OR ".join(words(t)), DEPTH) for _, t in queries],
        "typed": ["SEARCH %s limit:%d" % (t, DEPTH) for _, t in queries],
    }
    rows = []
    for mode, lines in modes.items():
        answers = run(bin_dir, idx, lines, bm25)
        tot = [0.0, 0.0, 0.0]
        errors = empty = relaxed = 0
        for (qid, text), a in zip(queries, answers):
            if not a.get("ok"):
                errors += 1
                ranked = []
                if per_query:
                    per_query.write("%s\t%s\t%s\terror: %s\n" % (coll.name, mode, qid, a["error"]["message"]))
            else:
                ranked = [h["id"] for h in a["hits"]]
                empty += not ranked
                relaxed += bool(a.get("relaxed"))
            s = scores(ranked, qrels[qid])
            if per_query:
                per_query.write("%s\t%s\t%s\t%.4f\t%.4f\t%.1f\n" % (coll.name, mode, qid, *s))
            for k in range(3):
                tot[k] += s[k]
        n = len(queries)
        rows.append((coll.name, mode, n, tot[0] / n, tot[1] / n, tot[2] / n, errors, empty, relaxed))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=str(ROOT / "build" / "bin"))
    ap.add_argument("--eval", default=str(ROOT.parent / "shared" / "eval"))
    ap.add_argument("--work", default=None, help="where the indexes go (default: a temporary directory)")
    ap.add_argument("--bm25", default=None, help="K1,B for sift-query --bm25 (default: the engine's)")
    ap.add_argument("--only", default=None, help="comma-separated collection names")
    ap.add_argument("--per-query", default=None, help="write one line per query and mode to this file")
    a = ap.parse_args()
    bin_dir = Path(a.bin)
    colls = sorted(p for p in Path(a.eval).iterdir() if (p / "queries.tsv").exists())
    if a.only:
        colls = [c for c in colls if c.name in a.only.split(",")]
    if not colls:
        sys.exit("relevance.py: no collection under %s" % a.eval)
    tmp = None
    if a.work:
        work = Path(a.work)
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="sift-relevance-")
        work = Path(tmp.name)
    per_query = open(a.per_query, "w") if a.per_query else None
    print("| collection | mode | queries | MAP | nDCG@10 | P@10 | errors | no hit | relaxed |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for c in colls:
        for r in evaluate(bin_dir, c, work, a.bm25, per_query):
            print("| %s | %s | %d | %.3f | %.3f | %.3f | %d | %d | %d |" % r, flush=True)
    if per_query:
        per_query.close()
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
