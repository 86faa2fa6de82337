"""test_copies: copy groups (SPEC "Copies") on planted copies.

A generated corpus (pseudo-words, no article text) of wire stories, each
re-published 0-4 times the way news is: an edited title, the lead paragraph
rewritten (half the time), the last paragraph cut (half the time), a few
words changed, another outlet and date.  Beside them, articles that quote
one or two paragraphs of a story (not copies) and unrelated articles.

Checked:
  * precision and recall of the groups (GET's "copies") over planted pairs:
    at least 0.95 and 0.9 (the figures are printed);
  * collapse:copies against the reference: for several queries, "groups" is
    the number of distinct groups among the reference's matches, each hit's
    "copies" the other matching members of its group, "copy_outlets" their
    outlets (spellings of one outlet as one), the hits one per group in the order of the plain search, and
    total the number of articles;
  * groups follow the index: copies added by a later run join their group,
    deleting a group's first article leaves the others grouped, and two
    indexes built apart and opened as one stub group across the shards.
"""

import collections
import itertools
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sift  # noqa: E402
import siftref  # noqa: E402

SEED = int(os.environ.get("SIFT_TEST_SEED", "20231102"))
SYL = ["ka", "lo", "mi", "ra", "tu", "zen", "vor", "quil", "bra", "dex", "fi", "no", "sa", "pol"]
# "WIRE-A" is "Wire A" to outlet: (and to "copy_outlets").
OUTLETS = ["Wire A", "Post B", "Times C", "Herald D", "News E", "Daily F", "Ledger G", "WIRE-A"]


class Gen:
    def __init__(self, rng):
        self.rng = rng
        vocab = sorted({"".join(rng.choice(SYL) for _ in range(rng.randint(2, 4))) for _ in range(3000)})
        self.vocab = vocab
        self.cum = list(itertools.accumulate(1.0 / (i + 1) for i in range(len(vocab))))

    def words(self, n):
        return self.rng.choices(self.vocab, cum_weights=self.cum, k=n)

    def para(self):
        return " ".join(self.words(self.rng.randint(30, 60))).capitalize() + "."

    def date(self):
        return "2023-%02d-%02d" % (self.rng.randint(1, 12), self.rng.randint(1, 28))


def make_corpus(rng, nbase=300, nquote=150, nother=250):
    """(records, truth, vocabulary): truth maps each story id to the set of
    its copies' ids."""
    g = Gen(rng)
    recs, truth = [], {}
    n = 0
    for b in range(nbase):
        paras = [g.para() for _ in range(rng.randint(5, 10))]
        base = {"id": "story-%04d" % b, "outlet": rng.choice(OUTLETS), "date": g.date(),
                "title": " ".join(g.words(6)).capitalize(), "body": "\n".join(paras)}
        recs.append(base)
        group = {base["id"]}
        for c in range(rng.choice([0, 0, 1, 1, 2, 3, 4])):
            ps = list(paras)
            if rng.random() < 0.5:
                ps[0] = g.para()  # the lead rewritten
            if rng.random() < 0.5 and len(ps) > 5:
                ps = ps[:-1]  # the last paragraph cut
            text = "\n".join(ps).split(" ")
            for _ in range(max(1, len(text) // 100)):  # about 1% of the words changed
                text[rng.randrange(len(text))] = g.words(1)[0]
            cid = "copy-%04d-%d" % (b, c)
            recs.append({"id": cid, "outlet": rng.choice(OUTLETS), "date": g.date(),
                         "title": " ".join(g.words(5)).capitalize() + " (wire)", "body": " ".join(text)})
            group.add(cid)
        truth[base["id"]] = group
    stories = [r for r in recs if r["id"].startswith("story-")]
    for q in range(nquote):  # quotes one or two paragraphs of a story: not a copy
        src = rng.choice(stories)["body"].split("\n")
        ps = [g.para() for _ in range(rng.randint(4, 8))]
        for p in rng.sample(src, min(len(src), rng.choice([1, 2]))):
            ps.insert(rng.randrange(len(ps) + 1), p)
        recs.append({"id": "quote-%04d" % q, "outlet": rng.choice(OUTLETS), "date": g.date(),
                     "title": " ".join(g.words(5)), "body": "\n".join(ps)})
    for o in range(nother):
        recs.append({"id": "other-%04d" % o, "outlet": rng.choice(OUTLETS), "date": g.date(),
                     "title": " ".join(g.words(5)), "body": "\n".join(g.para() for _ in range(rng.randint(2, 8)))})
    rng.shuffle(recs)
    return recs, truth, g.vocab


def write(path, recs):
    with open(path, "w", encoding="utf-8") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")
    return path


def groups_of(res, idx, ids):
    """id -> frozenset of its group (itself and GET's copies)."""
    out = {}
    resp, _ = sift.query_batch(idx, ["GET " + i for i in ids])
    for i, r in zip(ids, resp):
        if not res.ok(r and r.get("ok"), "GET %s" % i, sift.short(r)):
            continue
        out[i] = frozenset([i] + r["doc"].get("copies", []))
    return out


def pairs(groups):
    ps = set()
    for grp in groups:
        for a, b in itertools.combinations(sorted(grp), 2):
            ps.add((a, b))
    return ps


def main():
    res = sift.Results("test_copies")
    sift.require_binaries(res)
    rng = random.Random(SEED)
    tmp = sift.scratch("copies")
    recs, truth, vocab = make_corpus(rng)
    ids = [r["id"] for r in recs]
    # Copies of some stories come in a later run, and a third of the
    # articles go to a second index built apart (shards), opened with a stub.
    late = {i for grp in truth.values() for i in grp if i.startswith("copy-") and rng.random() < 0.3}
    first = [r for r in recs if r["id"] not in late]
    f1 = write(tmp / "first.jsonl", first)
    f2 = write(tmp / "late.jsonl", [r for r in recs if r["id"] in late])
    idx = tmp / "index"
    for f in (f1, f2):
        p = sift.index(idx, [f])
        res.ok(p.returncode == 0, "indexing %s" % f.name, p.stderr.decode()[-300:])

    got = groups_of(res, idx, ids)
    truth_of = {}
    for grp in truth.values():
        for i in grp:
            truth_of[i] = frozenset(grp)
    tp = pairs(set(truth_of.values()))
    pp = pairs(set(got.values()))
    hit = len(tp & pp)
    precision = hit / len(pp) if pp else 1.0
    recall = hit / len(tp) if tp else 1.0
    res.note("copies: %d planted pairs, %d found, precision %.3f, recall %.3f"
             % (len(tp), len(pp), precision, recall))
    res.ok(precision >= 0.95, "precision of copy groups %.3f >= 0.95" % precision,
           str(sorted(pp - tp)[:5]))
    res.ok(recall >= 0.9, "recall of copy groups %.3f >= 0.9" % recall, str(sorted(tp - pp)[:5]))
    res.ok(all(i in got[i] for i in got) and all(got[j] == got[i] for i in got for j in got[i]),
           "GET's copies are a partition (each member lists the same group)")

    check_collapse(res, idx, recs, got, vocab)

    # like: leaves out the article and its copies (they would rank first).
    grouped = sorted(i for i in got if len(got[i]) >= 2)[:20]
    out, _ = sift.query_batch(idx, ["SEARCH like:%s limit:1000" % i for i in grouped])
    res.ok(all(r and r.get("ok") and r["total"] > 0 and
               not ({h["id"] for h in r["hits"]} & got[i]) for i, r in zip(grouped, out)),
           "like:ID never lists ID or its copies (%d articles)" % len(grouped))

    # A group's first article replaced by an unrelated one (as a deletion
    # would drop it): it leaves, the others stay grouped.
    big = [grp for grp in got.values() if len(grp) >= 3]
    victims = sorted({min(grp) for grp in big})[:10]
    g2 = Gen(random.Random(SEED + 1))
    fresh = [{"id": v, "outlet": "Wire A", "date": "2023-01-01", "title": "replaced",
              "body": "\n".join(g2.para() for _ in range(5))} for v in victims]
    p = sift.index(idx, [write(tmp / "replace.jsonl", fresh)])
    res.ok(p.returncode == 0, "replacing articles", p.stderr.decode()[-300:])
    after = groups_of(res, idx, sorted({i for grp in big for i in grp}))
    res.ok(all(after[i] == (got[i] - set(victims) if i not in victims else frozenset([i]))
               for i in after),
           "after replacing %d first members the others stay grouped" % len(victims))

    # Two indexes built apart, opened as one through a stub.
    a_recs = [r for r in recs if hash(r["id"]) % 3]
    b_recs = [r for r in recs if not hash(r["id"]) % 3]
    sa, sb = tmp / "shard-a", tmp / "shard-b"
    for path, rr, name in ((sa, a_recs, "a.jsonl"), (sb, b_recs, "b.jsonl")):
        p = sift.index(path, [write(tmp / name, rr)])
        res.ok(p.returncode == 0, "indexing %s" % name, p.stderr.decode()[-300:])
    stub = tmp / "stub.xapian"
    stub.write_text("auto %s\nauto %s\n" % (sa, sb))
    # Counted without reading stored documents (indexes built apart have
    # their own dictionaries): groups of every query agree.
    qs = ["SEARCH collapse:copies limit:0"] + ["SEARCH %s collapse:copies limit:0" % w
                                                for w in vocab[20:400:40]]
    p = sift.index(tmp / "whole", [write(tmp / "all.jsonl", recs)])
    res.ok(p.returncode == 0, "indexing everything in one index", p.stderr.decode()[-300:])
    one, _ = sift.query_batch(tmp / "whole", qs)
    two, _ = sift.query_batch(stub, qs)
    res.ok(all(a and b and a["groups"] == b["groups"] and a["total"] == b["total"]
               for a, b in zip(one, two)) and one[0]["groups"] < one[0]["total"],
           "a stub of two indexes built apart counts the groups of one index",
           "%s vs %s" % ([r and r.get("groups") for r in one], [r and r.get("groups") for r in two]))
    res.finish()


def check_collapse(res, idx, recs, groups, vocab):
    ref = siftref.Corpus()
    ref.add_records([dict(r, **_dates(r)) for r in recs])
    ref.build()
    words = vocab[40:400:7]  # words of the corpus, from a few to a few hundred articles
    queries = [(w, ("word", w, "text")) for w in words[:6]]
    queries.append(("outlet:\"Wire A\"", ("filter", "outlet", "Wire A")))
    queries.append(("%s date:2023-03..2023-08" % words[8],
                    ("and", [("word", words[8], "text"), ("date", "2023-03..2023-08")])))
    reqs = []
    for q, _ in queries:
        for sort in ("", " sort:newest", " sort:oldest", " sort:recent now:2023-12-31"):
            reqs.append("SEARCH %s%s limit:1000" % (q, sort))
            reqs.append("SEARCH %s%s collapse:copies limit:1000" % (q, sort))
            reqs.append("SEARCH %s%s collapse:copies limit:4 offset:3" % (q, sort))
    out, _ = sift.query_batch(idx, reqs)
    outlet = {r["id"]: r["outlet"] for r in recs}
    standing = 0  # hits standing for two or more articles
    follow = []  # (request after the offset page's cursor, the groups it should show, what)
    for k, (q, node) in enumerate(queries):
        nums = ref.eval(node)
        mids = ref.ids(nums)
        for s, sort in enumerate(("", " sort:newest", " sort:oldest", " sort:recent")):
            plain, col, page = out[12 * k + 3 * s: 12 * k + 3 * s + 3]
            what = "collapse:copies %s%s" % (q, sort)
            if not res.ok(plain and col and page and plain["total"] <= 1000, what,
                          sift.short(col)):
                continue
            want_groups = {groups[i] for i in mids}
            # One hit per group, each its group's best in the plain order.
            seen, best = set(), []
            for h in plain["hits"]:
                if groups[h["id"]] not in seen:
                    seen.add(groups[h["id"]])
                    best.append(h["id"])
            hits = col["hits"]
            standing += sum(1 for h in hits if h["copies"])
            ok = (col["total"] == len(mids) and col["groups"] == len(want_groups) and
                  [h["id"] for h in hits] == best)
            for h in hits:
                others = sorted((groups[h["id"]] & mids) - {h["id"]})
                # Outlets as outlet: tells them apart, each in the spelling
                # most of these copies use (ties: the smallest).
                spell = {}
                for o in others:
                    spell.setdefault(siftref.tok_key(outlet[o]), collections.Counter())[outlet[o]] += 1
                outs = [min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for c in spell.values()]
                ok = ok and h["copies"] == len(others) and sorted(h["copy_outlets"]) == sorted(outs)
            res.ok(ok, what + ": groups, hits and copies as the reference",
                   "groups %s want %d; total %s want %d" % (col.get("groups"), len(want_groups),
                                                           col.get("total"), len(mids)))
            res.ok([h["id"] for h in page["hits"]] == best[3:7],
                   what + ": offset pages are the collapsed list's")
            res.ok(("next" in page) == (len(best) > 7),
                   what + ": \"next\" when more groups are to come (%d)" % len(best),
                   sift.short(page))
            if "next" in page:
                follow.append(("SEARCH %s%s collapse:copies limit:4 after:%s"
                               % (q, sort if sort != " sort:recent" else sort + " now:2023-12-31",
                                  page["next"]), best[7:11], what))
    res.ok(standing > 50, "collapse:copies: %d hits stood for copies" % standing)
    res.ok(follow, "some collapsed pages have a next page")
    nxt, _ = sift.query_batch(idx, [r for r, _, _ in follow])
    for (req, want, what), a in zip(follow, nxt):
        res.ok(a and [h["id"] for h in a.get("hits", [])] == want and a.get("offset") == 7,
               what + ": after:\"next\" gives the groups that follow", "%s: %s" % (req, sift.short(a)))


def _dates(r):
    return {"day": r["date"].replace("-", ""), "sortkey": r["date"].replace("-", "") + "000000"}


if __name__ == "__main__":
    main()
