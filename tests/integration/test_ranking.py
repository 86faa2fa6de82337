"""test_ranking: match:any, relaxation, common words, BM25 parameters.

  * match:any finds the articles with any of the words (counted in Python),
    those with every word first; its filters and exclusions still apply; a
    token of several words (`wind-tunnel`) gives its words;
  * a word in more than half of the articles matches under match:any too
    (SPEC.md: any of the words), ranked below the rarer words;
  * relaxation: a SEARCH of two or more plain words that finds nothing is
    answered as match:any with "relaxed":true; relax:no, an operator (AND,
    OR, NOT, '-', NEAR), a single word and COUNT never relax; an explicit
    OR keeps its boolean meaning; excluded filters and parentheses around
    plain words do not stop it;
  * text that looks like `word:` without naming a field is searched;
  * --bm25 K1,B on sift-query --index and on sift-searchd changes the
    ranking the way BM25 (computed here in Python) says: a short article
    with one occurrence against a long one with two swaps places between
    b = 1 and b = 0.1.
"""

import json
import math
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sift  # noqa: E402
from test_hostile import Daemon  # noqa: E402

FILL = ["river", "council", "budget", "market", "bridge", "school", "harbor", "storm", "valley",
        "garden", "engine", "letter", "mirror", "forest", "pencil", "ladder"]


def corpus_any(path):
    """60 articles: alpha in some, beta in some, both in a few, 'the' in 40,
    'wind tunnel' in a few; outlets A and B."""
    rng = random.Random(151)
    docs = []
    for i in range(60):
        ws = [rng.choice(FILL) for _ in range(40)]
        if i % 3 == 0:
            ws[5] = "alpha"
        if i % 4 == 0:
            ws[20] = "beta"
        if i % 3 != 2:
            ws[30] = "the"
        if i % 10 == 1:
            ws[10:12] = ["wind", "tunnel"]
        if i % 10 == 2:
            ws[12] = "tunnel"
        docs.append({"id": "rk-%02d" % i, "outlet": "A" if i % 2 else "B", "body": " ".join(ws)})
    with open(path, "w") as f:
        for d in docs:
            f.write(json.dumps(d) + "\n")
    return docs


def has(d, *words):
    body = d["body"].split()
    return [w in body for w in words]


def ids(ans):
    return [h["id"] for h in (ans or {}).get("hits", [])]


def check_any(res, idx, docs):
    n = len(docs)
    any_ab = {d["id"] for d in docs if any(has(d, "alpha", "beta"))}
    both = {d["id"] for d in docs if all(has(d, "alpha", "beta"))}
    alpha_a = {d["id"] for d in docs if has(d, "alpha")[0] and d["outlet"] == "A"}
    alpha_not_beta = {d["id"] for d in docs if has(d, "alpha")[0] and not has(d, "beta")[0]}
    alpha = {d["id"] for d in docs if has(d, "alpha")[0]}
    the = {d["id"] for d in docs if has(d, "the")[0]}
    wind_or_tunnel = {d["id"] for d in docs if any(has(d, "wind", "tunnel"))}
    assert 0 < len(both) < len(any_ab) and len(the) * 2 > n
    reqs = [
        "SEARCH alpha beta match:any limit:100",
        "SEARCH alpha beta outlet:A match:any limit:100",
        "SEARCH alpha -beta zzqx match:any limit:100",
        "COUNT alpha beta match:any",
        "SEARCH the alpha match:any limit:100",
        "SEARCH the match:any limit:100",
        "SEARCH wind-tunnel zzqx match:any limit:100",
        "SEARCH alpha zzqx limit:100",
        "SEARCH alpha zzqx outlet:A limit:100",
        "SEARCH alpha zzqx relax:no",
        "COUNT alpha zzqx",
        "SEARCH alpha OR zzqx limit:100",
        "SEARCH zzqx",
        "SEARCH alpha beta limit:100",
        "SEARCH the OR zzqx limit:100",
        "SEARCH Requests: alpha limit:100",
        "SEARCH http://alpha.example.com",
        {"op": "search", "q": "alpha beta", "match": "any", "limit": 100},
        {"op": "search", "q": "alpha zzqx", "relax": False},
        {"op": "search", "q": "alpha", "match": "some"},
        {"op": "search", "q": "alpha", "relax": "no"},
    ]
    r, _ = sift.query_batch(idx, reqs)
    a = r[0]
    got = ids(a)
    res.ok(a and set(got) == any_ab and a.get("total") == len(any_ab) and "relaxed" not in a,
           "match:any finds the %d articles with alpha or beta" % len(any_ab), sift.short(a))
    res.ok(set(got[:len(both)]) == both, "match:any ranks the %d with both words first" % len(both),
           "top %s, both %s" % (got[:len(both)], sorted(both)))
    res.ok(set(ids(r[1])) == {d["id"] for d in docs if any(has(d, "alpha", "beta")) and d["outlet"] == "A"},
           "match:any keeps its filters", sift.short(r[1]))
    res.ok(set(ids(r[2])) == alpha_not_beta, "match:any keeps its exclusions", sift.short(r[2]))
    res.ok(r[3] and r[3].get("count") == len(any_ab), "COUNT match:any counts them", sift.short(r[3]))
    the_alpha = the | alpha
    got4 = ids(r[4])
    res.ok(r[4] and set(got4) == the_alpha and r[4].get("total") == len(the_alpha),
           "match:any is any of the words, one in most articles too (the alpha: %d)" % len(the_alpha),
           sift.short(r[4]))
    res.ok(set(got4[:len(alpha)]) == alpha,
           "... and ranks the %d with the rarer word first" % len(alpha), "top %s" % got4[:len(alpha)])
    res.ok(r[5] and r[5].get("total") == len(the), "a common word alone still matches (%d)" % len(the),
           sift.short(r[5]))
    res.ok(set(ids(r[6])) == wind_or_tunnel, "match:any splits wind-tunnel into its words (%d)" % len(wind_or_tunnel),
           sift.short(r[6]))
    x = r[7]
    res.ok(x and x.get("relaxed") is True and set(ids(x)) == alpha,
           "a plain-word SEARCH that finds nothing is relaxed (%d articles, relaxed:true)" % len(alpha),
           sift.short(x))
    res.ok(r[8] and r[8].get("relaxed") is True and set(ids(r[8])) == alpha_a,
           "relaxation keeps the filters", sift.short(r[8]))
    for k, what in ((9, "relax:no"), (12, "a single word")):
        res.ok(r[k] and r[k].get("total") == 0 and "relaxed" not in r[k], "%s does not relax" % what,
               sift.short(r[k]))
    res.ok(r[10] and r[10].get("count") == 0, "COUNT never relaxes", sift.short(r[10]))
    res.ok(r[11] and set(ids(r[11])) == alpha and "relaxed" not in r[11], "an OR is not relaxed",
           sift.short(r[11]))
    res.ok(r[13] and set(ids(r[13])) == both and "relaxed" not in r[13],
           "a SEARCH that finds something is not relaxed (%d)" % len(both), sift.short(r[13]))
    res.ok(r[14] and r[14].get("total") == len(the), "an explicit OR keeps its boolean meaning",
           sift.short(r[14]))
    res.ok(r[15] and r[15].get("ok") and r[15].get("relaxed") is True and set(ids(r[15])) == alpha,
           "'Requests:' is a word, not an unknown field", sift.short(r[15]))
    res.ok(r[16] and r[16].get("ok") and r[16].get("total") == 0, "a pasted URL is searched, not an error",
           sift.short(r[16]))
    res.ok(r[17] and set(ids(r[17])) == any_ab, 'JSON "match":"any"', sift.short(r[17]))
    res.ok(r[18] and r[18].get("total") == 0 and "relaxed" not in r[18], 'JSON "relax":false', sift.short(r[18]))
    for k in (19, 20):
        res.ok(r[k] and (r[k].get("error") or {}).get("code") == "bad_request",
               "JSON %s is a bad_request" % sift.short(reqs[k]), sift.short(r[k]))
    check_relax_plain_words(res, idx, alpha, alpha_a)


def check_relax_plain_words(res, idx, alpha, alpha_a):
    """SPEC.md relaxes "a SEARCH of plain words (filters aside, no
    operators)": an AND, NOT, '-' or NEAR the person wrote is kept."""
    plain = [
        ("SEARCH alpha zzqx -outlet:B limit:100", alpha_a, "an excluded filter is a filter"),
        ('SEARCH "alpha" zzqx limit:100', alpha, "a phrase is plain"),
        ("SEARCH (alpha zzqx) limit:100", alpha, "parentheses around plain words"),
    ]
    kept = [
        ("SEARCH alpha AND zzqx limit:100", "an explicit AND"),
        ("SEARCH alpha zzqx -beta limit:100", "an excluded word ('-')"),
        ("SEARCH alpha zzqx NOT beta limit:100", "NOT"),
        ("SEARCH alpha NEAR/3 zzqx beta limit:100", "NEAR"),
        ("SEARCH (alpha OR beta) zzqx limit:100", "an OR in parentheses"),
        ({"op": "search", "q": "alpha AND zzqx"}, "an explicit AND, JSON form"),
    ]
    r, _ = sift.query_batch(idx, [q for q, _, _ in plain] + [q for q, _ in kept])
    for k, (q, want, what) in enumerate(plain):
        res.ok(r[k] and r[k].get("relaxed") is True and set(ids(r[k])) == want,
               "relaxed: %s" % what, "%s: %s" % (q, sift.short(r[k])))
    for k, (q, what) in enumerate(kept, len(plain)):
        res.ok(r[k] and r[k].get("ok") and r[k].get("total") == 0 and "relaxed" not in r[k],
               "not relaxed: %s" % what, "%s: %s" % (sift.short(q), sift.short(r[k])))


def corpus_bm25(path):
    """20 fillers of 100 words; 'short' has zeta once in 60 words, 'long'
    zeta twice in 300."""
    rng = random.Random(25)
    docs = [{"id": "f-%02d" % i, "body": " ".join(rng.choice(FILL) for _ in range(100))} for i in range(20)]
    s = [rng.choice(FILL) for _ in range(60)]
    s[30] = "zeta"
    long_ = [rng.choice(FILL) for _ in range(300)]
    long_[50] = long_[250] = "zeta"
    docs += [{"id": "short", "body": " ".join(s)}, {"id": "long", "body": " ".join(long_)}]
    with open(path, "w") as f:
        for d in docs:
            f.write(json.dumps(d) + "\n")
    return docs


def bm25_order(docs, word, k1, b):
    """Ids of the articles holding word, best first, by BM25 (the idf is the
    same for all of them, so only the tf part decides)."""
    lens = [len(d["body"].split()) for d in docs]
    avg = sum(lens) / len(lens)
    scored = []
    for d, n in zip(docs, lens):
        tf = d["body"].split().count(word)
        if tf:
            scored.append(((k1 + 1) * tf / (k1 * ((1 - b) + b * n / avg) + tf), d["id"]))
    return [i for _, i in sorted(scored, reverse=True)]


def check_bm25(res, tmp):
    path = tmp / "bm25.jsonl"
    docs = corpus_bm25(path)
    idx = tmp / "bm25-index"
    sift.index(idx, [path], "--quiet")
    want_b1 = bm25_order(docs, "zeta", 1.2, 1.0)
    want_b01 = bm25_order(docs, "zeta", 1.2, 0.1)
    assert want_b1 != want_b01
    for bm, want in (("1.2,1", want_b1), ("1.2,0.1", want_b01)):
        p = sift.run([sift.exe("sift-query"), "--index", idx, "--bm25", bm, "--json", "zeta"], timeout=60)
        got = ids(json.loads(p.stdout or b"{}"))
        res.ok(got == want, "sift-query --index --bm25 %s ranks %s (BM25 in Python)" % (bm, want),
               "got %s" % got)
    p = sift.run([sift.exe("sift-query"), "--bm25", "1.2,1", "zeta"], timeout=60)
    res.ok(p.returncode == 2 and b"--index" in p.stderr, "--bm25 without --index is a usage error",
           p.stderr.decode(errors="replace"))
    for bad in ("1.2", "0,0.5", "1.2,1.5", "x,y"):
        p = sift.run([sift.exe("sift-query"), "--index", idx, "--bm25", bad, "zeta"], timeout=60)
        res.ok(p.returncode == 2 and len(p.stderr.splitlines()) == 1, "--bm25 %s is refused in one line" % bad,
               "exit %d %r" % (p.returncode, p.stderr))
    for bm, want in (("1.2,1", want_b1), ("1.2,0.1", want_b01)):
        d = Daemon(idx, tmp, "--bm25", bm)
        try:
            p = sift.run([sift.exe("sift-query"), "--port", str(d.port), "--json", "zeta"], timeout=60)
            got = ids(json.loads(p.stdout or b"{}"))
            res.ok(got == want, "sift-searchd --bm25 %s ranks %s" % (bm, want), "got %s" % got)
        finally:
            d.stop()
    p = sift.run([sift.exe("sift-searchd"), "--index", idx, "--bm25", "2"], timeout=60)
    res.ok(p.returncode == 2 and b"--bm25" in p.stderr, "sift-searchd --bm25 2 is a usage error",
           p.stderr.decode(errors="replace"))


def main():
    res = sift.Results("test_ranking")
    sift.require_binaries(res, ("sift-indexer", "sift-query", "sift-searchd"))
    tmp = sift.scratch("ranking")
    path = tmp / "any.jsonl"
    docs = corpus_any(path)
    idx = tmp / "any-index"
    p = sift.index(idx, [path], "--quiet")
    res.ok(p.returncode == 0, "index the test corpus", p.stderr.decode(errors="replace"))
    check_any(res, idx, docs)
    check_bm25(res, tmp)
    res.finish()


if __name__ == "__main__":
    main()
