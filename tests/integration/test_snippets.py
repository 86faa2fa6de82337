"""test_snippets: every hit's snippet and marked title checked against the
article and the query, in Python, independently of the engine.

The corpus is the kit's sample, seeds and the start of news-part-01 when
the kit is there (used by path, never copied), else a generated one.  The queries
are the kit harness's query texts (../shared/peers/results/queries.jsonl),
then queries drawn from the indexed articles so that matches lie far apart:
a word near the start with a phrase far on, a prefix with a far phrase,
three far words, title: terms beside body words, OR, words written with
accents asked without them; and the issue's
`hospit* "rafah crossing"`.  For every hit
(limit:10) of every query:

  * the snippet and "title_html" are valid UTF-8 with balanced marks;
  * every marked span is a real match of the query: each of its words is
    a query word by stem, starts with a query prefix, or lies in an
    occurrence of a query phrase wholly inside the span (a phrase's words
    are never marked alone); in the body only conditions that apply to the
    body count (title: ones do not);
  * the text outside the marks, cut at the ellipses, is a sequence of
    pieces of the body in body order, each starting and ending on a word
    boundary, together at most 240 bytes;
  * a query phrase that occurs in the body is shown marked, and the
    snippet shows at least min(3, N) distinct query terms when the body
    holds N (three passages at most);
  * "title_html" is present exactly when the title has a match, is the
    title itself, and marks exactly the title's words that match (title:
    and plain conditions alike);
  * sift-query's human output shows the same marked titles and snippets
    (marks as *stars* when piped).

The reference reads queries with a small parser of its own (words, "phrases",
prefix*, title:, OR, -exclusions): the forms used here.
"""

import html
import json
import os
import random
import re
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sift  # noqa: E402
import siftref  # noqa: E402

SEED = int(os.environ.get("SIFT_TEST_SEED", "20261203"))
BUDGET = 240  # ENG_SNIPPET_BYTES
MAX_SCAN = 256 * 1024  # SNIP_MAX_SCAN
ELLIPSIS = "\u2026"
MARK_RE = re.compile(r"<b>(.*?)</b>", re.S)


# ---------------------------------------------------------------------------
# The query, as the reference reads it: a list of terms
# (kind, words, title_only) with kind 'word', 'prefix' or 'phrase'.

TOKEN_RE = re.compile(r'(-?)(title:)?("[^"]*"|\S+)')


def parse_terms(q):
    terms = []
    for neg, title, tok in TOKEN_RE.findall(q):
        if tok in ("OR", "AND", "NOT") or neg:
            continue
        title_only = bool(title)
        if tok.startswith('"'):
            ws = siftref.tokenize(tok.strip('"'))
            if ws:
                terms.append(("phrase", ws, title_only))
        elif tok.endswith("*"):
            ws = siftref.tokenize(tok[:-1])
            if len(ws) == 1:
                terms.append(("prefix", ws, title_only))
        else:
            ws = siftref.tokenize(tok)
            if len(ws) == 1:
                terms.append(("word", ws, title_only))
            elif ws:
                terms.append(("phrase", ws, title_only))
    return terms


def term_hits(term, words, algo):
    """The (start, end) word ranges of words where term matches."""
    kind, tw, _ = term
    out = []
    if kind == "word":
        stems = siftref.STEMMERS.stem_all(algo, set(words) | {tw[0]})
        s = stems[tw[0]]
        out = [(i, i + 1) for i, w in enumerate(words) if stems[w] == s]
    elif kind == "prefix":
        out = [(i, i + 1) for i, w in enumerate(words) if w.startswith(tw[0])]
    else:
        n = len(tw)
        out = [(i, i + n) for i in range(len(words) - n + 1) if words[i:i + n] == tw]
    return out


def covered(terms, words, algo):
    """Per word of words: the set of terms (indices) whose match covers it."""
    cov = [set() for _ in words]
    for t, term in enumerate(terms):
        for a, b in term_hits(term, words, algo):
            for i in range(a, b):
                cov[i].add(t)
    return cov


# ---------------------------------------------------------------------------
# Reading what the engine gave


def segments(marked):
    """[(text, is_marked)] of a marked string, entities undone."""
    out, pos = [], 0
    for m in MARK_RE.finditer(marked):
        if m.start() > pos:
            out.append((html.unescape(marked[pos:m.start()]), False))
        out.append((html.unescape(m.group(1)), True))
        pos = m.end()
    if pos < len(marked):
        out.append((html.unescape(marked[pos:]), False))
    return out


def is_word_char(c):
    return unicodedata.category(c)[0] in "LNM"


def cuts_word(text, i, j):
    """Whether text[i:j] starts or ends inside a word."""
    return (i > 0 and is_word_char(text[i - 1]) and is_word_char(text[i])) or (
        j < len(text) and is_word_char(text[j - 1]) and is_word_char(text[j]))


CONTROLS = {c: " " for c in range(0x20)}


def plain(text):
    """Text as snippets show it: control characters as spaces."""
    return text.translate(CONTROLS)


def check_marks_wellformed(res, what, s):
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return res.ok(False, "%s is valid UTF-8" % what, sift.short(s))
    opens, closes = s.count("<b>"), s.count("</b>")
    inner = MARK_RE.findall(s)
    return res.ok(opens == closes == len(inner) and all(x and "<b>" not in x for x in inner),
                  "%s: marks balanced and not nested" % what, sift.short(s))


def check_span(terms, span_text, algo):
    """Whether every word of a marked span is covered by a match of terms
    lying wholly inside the span, and which terms those are."""
    words = siftref.tokenize(span_text)
    if not words:
        return False, set()
    cov = covered(terms, words, algo)
    return all(cov), set().union(*cov)


def check_hit(res, q, terms, doc, hit, stats):
    algo = siftref.lang_algorithm(doc.get("lang"))
    body, title = doc.get("body") or "", doc.get("title") or ""
    body_terms = [t for t in terms if not t[2]]
    where = "%r, hit %s" % (q, hit.get("id"))

    # --- the title
    th = hit.get("title_html")
    twords = siftref.tokenize(title)
    tcov = covered(terms, twords, algo)
    want_marked = [bool(c) for c in tcov]
    if th is None:
        res.ok(not any(want_marked), "title_html present when the title matches (%s)" % where,
               "title %r" % title)
    elif check_marks_wellformed(res, "title_html (%s)" % where, th):
        segs = segments(th)
        res.ok("".join(t for t, _ in segs) == plain(title), "title_html is the title (%s)" % where,
               "%r vs %r" % (th, title))
        got = []
        for text, m in segs:
            got += [m] * len(siftref.tokenize(text))
        res.ok(got == want_marked, "title_html marks exactly the matching words (%s)" % where,
               "%s\nwant %s" % (th, [w for w, m in zip(twords, want_marked) if m]))
        stats["titles"] += 1

    # --- the snippet
    sn = hit.get("snippet")
    if sn is None:
        res.ok(not body, "a hit with a body has a snippet (%s)" % where)
        return
    if not check_marks_wellformed(res, "snippet (%s)" % where, sn):
        return
    shown_terms = set()
    for span in MARK_RE.findall(sn):
        ok, ts = check_span(body_terms, html.unescape(span), algo)
        shown_terms |= ts
        if not res.ok(ok, "marked span is a match of the query's body terms (%s)" % where,
                      "span %r in %s\nterms %s" % (span, sn, body_terms)):
            return
    text = html.unescape(MARK_RE.sub(lambda m: m.group(1), sn))
    pieces = [p.strip(" ") for p in text.split(ELLIPSIS)]
    pieces = [p for p in pieces if p]
    pbody = plain(body)
    pos, ok, where_fail = 0, True, ""
    for p in pieces:
        i = pbody.find(p, pos)
        while i >= 0 and cuts_word(pbody, i, i + len(p)):
            i = pbody.find(p, i + 1)
        if i < 0:
            ok, where_fail = False, "piece %r not found on word boundaries after %d" % (p, pos)
            break
        pos = i + len(p)
    res.ok(ok, "snippet is pieces of the body, in order, on word boundaries (%s)" % where,
           "%s\n%s" % (where_fail, sift.short(sn, 600)))
    shown = sum(len(p.encode("utf-8")) for p in pieces)
    res.ok(shown <= BUDGET, "snippet shows at most %d bytes of the body (%s)" % (BUDGET, where),
           "%d: %s" % (shown, sn))
    stats["passages"][min(len(pieces), 4)] += 1

    # --- what had to be shown
    scanned = body.encode("utf-8")[:MAX_SCAN].decode("utf-8", "ignore")
    bwords = siftref.tokenize(scanned)
    present = {t for t, term in enumerate(body_terms) if term_hits(term, bwords, algo)}
    for t in present:
        kind, tw, _ = body_terms[t]
        if kind == "phrase" and len(tw) > 1:
            stats["phrases"] += 1
            res.ok(t in shown_terms, "a phrase in the body is shown (%s)" % where,
                   "phrase %s\n%s" % (tw, sn))
    res.ok(len(shown_terms) >= min(3, len(present)),
           "at least min(3, %d) distinct terms shown (%s)" % (len(present), where),
           "shown %s of %s\n%s" % (sorted(shown_terms), sorted(present), sn))


def starred(marked):
    """A marked string as sift-query prints it piped: marks as stars."""
    return html.unescape(marked.replace("<b>", "*").replace("</b>", "*"))


def check_human(res, idx, answered):
    """sift-query's human output (piped) shows each hit's marked title and
    its whole snippet, passages and all, as the JSON answer has them."""
    for q, r in answered:
        p = sift.run([sift.exe("sift-query"), "--index", idx, q + " limit:10"], timeout=120)
        lines = p.stdout.decode("utf-8", "replace").split("\n")
        got = []
        for i, line in enumerate(lines):
            m = re.match(r"^(\d+)\. (.*)$", line)
            if m and i + 1 < len(lines) and lines[i + 1].startswith("   "):
                sn = lines[i + 2][3:] if i + 2 < len(lines) and lines[i + 2].startswith("   ") else ""
                got.append((m.group(2), sn))
        want = [(starred(h.get("title_html") or html.escape(h.get("title", ""), quote=False)),
                 starred(h.get("snippet", ""))) for h in r["hits"]]
        if not res.ok(got == want, "sift-query shows the marked titles and snippets (%r)" % q,
                      "got  %s\nwant %s" % (sift.short(got, 800), sift.short(want, 800))):
            return


# ---------------------------------------------------------------------------
# The corpus and the queries


def load_docs(files):
    docs = {}
    for path in files:
        for _, line in siftref.read_lines(str(path)):
            try:
                d = json.loads(line)
            except ValueError:
                continue
            if isinstance(d, dict) and isinstance(d.get("id"), str):
                docs[d["id"]] = d
    return docs


def kit_queries(n_per_class):
    path = sift.KIT / "peers" / "results" / "queries.jsonl"
    if not path.is_file():
        return []
    seen, out = {}, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            q = json.loads(line)
            c = q.get("class", "")
            if seen.get(c, 0) < n_per_class and q.get("text"):
                seen[c] = seen.get(c, 0) + 1
                out.append(q["text"])
    return out


def plain_word(w):
    return w.isalpha() and w.isascii() and len(w) >= 4


def drawn_queries(docs, rng, n):
    """Queries whose terms lie far apart in some article."""
    out = []
    ids = sorted(docs)
    rng.shuffle(ids)
    for did in ids:
        if len(out) >= n:
            break
        d = docs[did]
        body, title = d.get("body") or "", d.get("title") or ""
        words = [w for w in siftref.tokenize(body) if w]
        if len(words) < 300:
            continue
        early = [w for w in words[:40] if plain_word(w)]
        late = [(a, b) for a, b in zip(words[200:], words[201:]) if plain_word(a) and plain_word(b)]
        mid = [w for w in words[100:180] if plain_word(w)]
        tail = [w for w in words[250:] if plain_word(w)]
        twords = [w for w in siftref.tokenize(title) if plain_word(w)]
        if not early or not late or not mid or not tail:
            continue
        a, (p1, p2), m, z = rng.choice(early), rng.choice(late), rng.choice(mid), rng.choice(tail)
        forms = ['%s "%s %s"' % (a, p1, p2), '%s* "%s %s"' % (a[:5], p1, p2), "%s %s %s" % (a, m, z),
                 "%s OR %s" % (a, z), '"%s %s" %s %s %s' % (p1, p2, a, m, z)]
        if twords:
            t = rng.choice(twords)
            forms += ["title:%s %s" % (t, a), 'title:%s* "%s %s"' % (t[:4], p1, p2)]
        out.append(rng.choice(forms))
    return out


def accent_queries(docs, n):
    """Words written with accents in some article, asked without them
    (`pena` for `Peña`): plus a far word, so passages are chosen too."""
    out = []
    for did in sorted(docs):
        body = docs[did].get("body") or ""
        for raw, w in siftref.raw_words(body):
            if not raw.isascii() and w.isascii() and w.isalpha() and len(w) >= 4:
                far = [x for x in siftref.tokenize(body)[-40:] if plain_word(x)]
                out.append("%s %s" % (w, far[0]) if far else w)
                break
        if len(out) >= n:
            break
    return out


def main():
    res = sift.Results("test_snippets")
    sift.require_binaries(res)
    rng = random.Random(SEED)
    tmp = sift.scratch("snippets")
    files = sift.kit_subset(tmp / "part01.jsonl", 1200)
    if files:
        seeds = sift.kit_file("seeds.jsonl")  # the Gaza articles: Rafah, hospitals
        files += [str(seeds)] if seeds else []
        res.note("corpus: the kit's sample, seeds and 1,200 articles of news-part-01")
    else:
        files = [str(sift.py_generate(tmp / "gen.jsonl", 1500, SEED, body_words=(200, 900)))]
        res.note("corpus: generated (the kit is absent)")
    idx = tmp / "index"
    p = sift.fixture_index(idx, files)
    if not res.ok(p.returncode == 0, "indexing", p.stderr.decode("utf-8", "replace")[-500:]):
        res.finish()
    docs = load_docs(files)
    queries = kit_queries(15) + drawn_queries(docs, rng, 120) + accent_queries(docs, 15)
    queries += ['hospit* "rafah crossing"', 'gaza "rafah crossing" title:gaza', "hospital* OR gaza"]
    reqs = ["SEARCH %s limit:10" % q for q in queries]
    out, proc = sift.query_batch(idx, reqs)
    stats = {"hits": 0, "titles": 0, "phrases": 0, "passages": [0] * 5}
    for q, r in zip(queries, out):
        if not res.ok(r is not None and r.get("ok"), "SEARCH %r answered" % q, sift.short(r)):
            continue
        terms = parse_terms(q)
        for h in r["hits"]:
            doc = docs.get(h.get("id"))
            if not res.ok(doc is not None, "hit %s is an indexed article" % h.get("id")):
                continue
            stats["hits"] += 1
            check_hit(res, q, terms, doc, h, stats)
    check_human(res, idx, [(q, r) for q, r in zip(queries, out) if r and r.get("hits")][:20])
    res.note("%d queries, %d hits, %d marked titles, %d phrases in bodies; snippets by passages "
             "(1, 2, 3): %s" % (len(queries), stats["hits"], stats["titles"], stats["phrases"],
                                stats["passages"][1:4]))
    res.ok(stats["hits"] >= 500 and stats["phrases"] >= 30 and stats["passages"][3] >= 10,
           "the queries exercise the checks (hits, phrases, three-passage snippets)", str(stats))
    accented = [m for r in out if r and r.get("ok") for h in r["hits"]
                for m in MARK_RE.findall(h.get("snippet", ""))
                if any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", m))]
    res.note("%d marks on words written with accents" % len(accented))
    res.ok(files[0].endswith("gen.jsonl") or accented, "words written with accents are marked")
    res.finish()


if __name__ == "__main__":
    main()
