"""test_words: the word rules of SPEC.md "Words" that index format 3 brought.

A small corpus written here (Spanish, French and English articles, no kit
text) is indexed, and each query's articles must be the ones listed by hand
below (read off the texts) and the reference's (siftref.py):
  * stems with accents: Spanish `negociaciones` finds `negociación`, French
    `réfugiés` finds `réfugiée`; a word typed without its accent still finds
    itself (`negociacion` finds `negociación`);
  * hyphenated words: `ceasefire` finds `cease-fire` (and U+2011), `cease-fire`
    finds `ceasefire` and "cease fire", quoted phrases with either spelling,
    title:, plurals, `motherinlaw`; dates and `covid-19` do not join;
  * exact counts: an article with both spellings counts once.
An index written with `--format 2` (the previous rules) answers by those
rules, keeps them when articles are added, STATS says format 2; an archive
by month of format 2 creates its new months in format 2; a stub mixing a
format 2 and a format 3 index is refused with one clear message.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sift  # noqa: E402
import siftref  # noqa: E402

DOCS = [
    {"id": "es1", "lang": "es", "date": "2023-11-01", "title": "Las negociaciones siguen", "body": "texto"},
    {"id": "es2", "lang": "es", "date": "2023-11-01", "title": "Una negociaci\u00f3n dif\u00edcil", "body": "texto"},
    {"id": "es3", "lang": "es", "date": "2023-11-02", "title": "negociacion sin acento", "body": "texto"},
    {"id": "fr1", "lang": "fr", "date": "2023-11-02", "title": "Les r\u00e9fugi\u00e9s arrivent", "body": "texte"},
    {"id": "fr2", "lang": "fr", "date": "2023-11-02", "title": "Une r\u00e9fugi\u00e9e parle", "body": "texte"},
    {"id": "en1", "date": "2023-11-03", "title": "Gaza cease-fire holds", "body": "The cease-fire in Gaza."},
    {"id": "en2", "date": "2023-11-03", "title": "Gaza ceasefire talks", "body": "A ceasefire."},
    {"id": "en3", "date": "2023-11-03", "title": "They cease fire at dawn", "body": "x"},
    {"id": "en4", "date": "2023-11-04", "title": "Both", "body": "A ceasefire, a cease\u2011fire, twice."},
    {"id": "en5", "date": "2023-11-04", "title": "Dates", "body": "On 2023-11-02 covid-19 hit my mother-in-law."},
    {"id": "en6", "date": "2023-11-04", "title": "Talks", "body": "gaza cease-fire talks resume"},
    {"id": "en7", "date": "2023-11-05", "title": "Ceasefires collapse", "body": "y"},
]

# query -> the articles it must find, under format 3 and under format 2
EXPECT = [
    ("negociaciones", "es1 es2", "es1"),
    ("negociaci\u00f3n", "es1 es2 es3", "es2 es3"),
    ("negociacion", "es2 es3", "es2 es3"),
    ("r\u00e9fugi\u00e9s", "fr1 fr2", "fr1"),
    ("ceasefire", "en1 en2 en4 en6 en7", "en2 en4 en7"),
    ("ceasefires", "en1 en2 en4 en6 en7", "en2 en4 en7"),
    ("cease-fire", "en1 en2 en3 en4 en6 en7", "en1 en3 en4 en6"),
    ("cease-fires", "en1 en2 en4 en6 en7", ""),  # format 2: the phrase "cease fires"
    ('"gaza ceasefire"', "en1 en2 en6", "en2"),
    ('"gaza cease-fire"', "en1 en2 en6", "en1 en6"),
    ('"cease-fire talks"', "en2 en6", "en6"),
    ('"cease fire"', "en1 en3 en4 en6", "en1 en3 en4 en6"),
    ("title:ceasefire", "en1 en2 en7", "en2 en7"),
    ("gaza cease-fire", "en1 en2 en6", "en1 en6"),
    ("ceasefire match:any", "en1 en2 en4 en6 en7", "en2 en4 en7"),
    ("ceasef*", "en1 en2 en4 en6 en7", "en2 en4 en7"),
    ("motherinlaw", "en5", ""),
    ("in-law", "en5", "en5"),
    ("2023-11-02", "en5", "en5"),
    ("covid19", "", ""),
]


def write(path, docs):
    with open(path, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")


def ids(resp):
    return " ".join(sorted(h["id"] for h in (resp or {}).get("hits", [])))


def check(res, idx, label, col, ref=None):
    reqs = []
    for q in EXPECT:
        reqs += ["SEARCH %s limit:100 relax:no" % q[0], "COUNT %s" % q[0]]
    r, p = sift.query_batch(idx, reqs)
    for k, q in enumerate(EXPECT):
        want = q[col]
        s, c = r[2 * k], r[2 * k + 1]
        res.ok(s and ids(s) == want and s.get("total") == len(want.split()),
               "[%s] %s finds %s" % (label, q[0], want or "nothing"),
               "got %s (total %s)" % (ids(s), (s or {}).get("total")))
        res.ok(c and c.get("count") == len(want.split()), "[%s] COUNT %s is %d" % (label, q[0], len(want.split())),
               sift.short(c))
    if ref is not None:  # the reference agrees on the words and phrases it models
        for q in EXPECT:
            text = q[0]
            if " " in text.strip('"') and not text.startswith('"') or ":" in text or "*" in text:
                continue
            words, raws, closed = siftref.analyze(text.strip('"'))
            if text.startswith('"') or len(words) > 1:
                node = ("phrase", words, "text", "bare" if not text.startswith('"') else "quote",
                        text.strip('"'))
            elif words:
                node = ("word", words[0], "text", text)
            else:
                continue
            got = " ".join(sorted(ref.ids(ref.eval(node))))
            res.ok(got == q[col], "[%s] the reference agrees on %s" % (label, text), "reference: %s" % got)


def stats_format(idx):
    r, _ = sift.query_batch(idx, ["STATS"])
    return (r[0] or {}).get("format")


def main():
    res = sift.Results("test_words")
    sift.require_binaries(res)
    tmp = sift.scratch("words")
    corpus = tmp / "words.jsonl"
    write(corpus, DOCS)
    ref = siftref.Corpus().add_file(str(corpus)).build()

    # Format 3: the new rules.
    new = tmp / "new"
    p = sift.index(new, [corpus], "--quiet")
    if res.ok(p.returncode == 0, "indexer builds the words corpus", p.stderr.decode()):
        res.ok(stats_format(new) == 4, "STATS says format 4 (the newest)", str(stats_format(new)))
        check(res, new, "format 3", 1, ref)

    # Format 2: the previous rules, written on purpose, still answered by them.
    old = tmp / "old"
    p = sift.index(old, [corpus], "--quiet", "--format", "2")
    if res.ok(p.returncode == 0, "indexer --format 2", p.stderr.decode()):
        res.ok(stats_format(old) == 2, "STATS says format 2", str(stats_format(old)))
        check(res, old, "format 2", 2)
        # Adding to it keeps its rules: the new article's cease-fire has no
        # closed form, so ceasefire does not find it.
        more = tmp / "more.jsonl"
        write(more, [{"id": "en9", "title": "New cease-fire", "body": "z"}])
        p = sift.index(old, [more], "--quiet")
        r, _ = sift.query_batch(old, ["COUNT ceasefire", "COUNT cease-fire", "STATS"])
        res.ok(p.returncode == 0 and r[0] and r[0]["count"] == 3 and r[1]["count"] == 5
               and r[2]["format"] == 2, "articles added to a format 2 index follow its rules",
               "%s %s" % (p.stderr.decode(), sift.short(r)))

    # --format on an existing index, or a bad value: one line, exit 2.
    for args, why in ((["--format", "2"], "existing"), (["--format", "9"], "bad value")):
        p = sift.index(new, [corpus], *args)
        err = p.stderr.decode().strip()
        res.ok(p.returncode == 2 and "--format" in err and "\n" not in err,
               "--format refused (%s)" % why, "%d %s" % (p.returncode, err))

    # A stub of a format 2 and a format 3 index: refused, naming both.
    stub = tmp / "mixed.stub"
    stub.write_text("auto %s\nauto %s\n" % (old, new))
    r, p = sift.query_batch(stub, ["COUNT ceasefire"])
    err = p.stderr.decode() + json.dumps(r)
    res.ok(p.returncode != 0 or not (r[0] or {}).get("ok"), "a stub mixing formats 2 and 3 is refused",
           err)
    res.ok("word rules" in err and str(old) in err and str(new) in err,
           "the refusal names both shards and why", err)

    # An archive by month in format 2 (its shard made by --format 2): a run
    # adding a new month creates that shard in format 2, so the archive
    # still opens and answers by the old rules.
    arch = tmp / "arch"
    arch.mkdir()
    p = sift.index(arch / "2023-11", [corpus], "--quiet", "--format", "2")
    (arch / "XAPIANDB").write_text("auto 2023-11\n")
    (arch / "SIFTLAYOUT").write_text("month\n")
    dec = tmp / "dec.jsonl"
    write(dec, [{"id": "d1", "date": "2023-12-01", "title": "December cease-fire", "body": "w"}])
    p2 = sift.index(arch, [dec], "--quiet")
    r, _ = sift.query_batch(arch, ["COUNT ceasefire", "COUNT cease-fire", "STATS"])
    res.ok(p.returncode == 0 and p2.returncode == 0 and r[0] and r[0]["count"] == 3
           and r[1]["count"] == 5 and r[2]["format"] == 2,
           "a format 2 archive by month adds its new month in format 2",
           "%s %s %s" % (p.stderr.decode(), p2.stderr.decode(), sift.short(r)))
    res.finish()


if __name__ == "__main__":
    main()
