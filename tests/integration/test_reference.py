"""test_reference: the engine must agree exactly with the independent reference.

For each corpus, the test builds an index with sift-indexer, computes the
expected answers straight from the corpus files with siftref.py, and sends
several hundred seeded random queries of every form of the query language
(words, inflections, AND/OR/NOT/-, parentheses, phrases, title:, prefixes,
outlet:/author:/tag: filters in different spellings, dates and open ranges,
filter-only queries, sorting, facets, paging, JSON requests) through
sift-query.  COUNT must equal the reference, SEARCH must return exactly the
reference's articles (total exact), facets must equal the reference's counts,
and date-sorted results must follow the reference's order of date keys.

Corpora:
  edge  a small corpus written here: synthetic words (no article text) with
        tricky Unicode, apostrophes, numbers, languages, dates, duplicate ids
        and bad lines, built in 3 parallel shards (BUILD says how each corpus
        is built);
  canon precomposed / decomposed spellings of the same words;
  gen   sift-gen --docs 3000 --lang-mix --bad-lines (the Python generator of
        sift.py stands in, and a failure is recorded, when sift-gen fails);
  kit   the kit's sample.jsonl + the first 4000 articles of news-part-01,
        re-compressed to .jsonl.zst (skipped, and reported as not run, when
        the kit is absent).

Arguments: corpus names (edge, gen, kit) to check only those; CTest runs one
test per corpus.  Environment: SIFT_TEST_SEED (query and corpus seed),
SIFT_TEST_SCALE (query count factor), SIFT_REF_ONLY (comma list of
edge,gen,kit, when no argument names them), and sift.py's.
On a mismatch the query, the expected and the returned answer are printed
and the test goes on; the last line counts the checks that passed/failed.
"""

import json
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sift  # noqa: E402
import siftref  # noqa: E402
from siftref import tokenize, tok_key  # noqa: E402

SEED = int(os.environ.get("SIFT_TEST_SEED", "20240517"))
SCALE = float(os.environ.get("SIFT_TEST_SCALE", "1"))
# How each corpus is built: edge in 3 parallel shards with batches of 7, so
# later duplicates land in other shards' batches (shards.h routes them back);
# gen with one writer; kit with the defaults (shards on a multi-core machine).
BUILD = {"edge": ("--jobs", "3", "--batch", "7"), "gen": ("--jobs", "1"), "kit": ()}
BIG_LIMIT = 1000  # limit used when the reference count fits
SMALL_LIMIT = 200  # limit used for larger result sets


# ---------------------------------------------------------------------------
# The edge corpus (generated here; no article text)

SYL = ["ka", "lo", "mi", "ra", "tu", "zen", "vor", "quil", "bra", "dex", "fi", "no",
       "sa", "pol", "mur", "gant", "thes", "ix", "ol", "ur", "cen", "dro", "pha", "sku"]
SUFFIXES = ["", "", "", "", "s", "es", "ed", "ing", "ion", "ions", "ly", "ness", "er", "ers"]
TRICKY = [
    "Al-Qassam", "al qassam", "Israel\u2019s", "israel's", "ZAYTOUN", "Zayt\u00f3un", "zaytoun",
    "\ufb01nal", "final", "1,000", "3.5", "U.S.", "stra\u00dfe", "STRASSE", "\u0130stanbul",
    "\u0391\u03b8\u03ae\u03bd\u03b1", "\u0391\u0398\u0397\u039d\u0391", "\u041c\u043e\u0441\u043a\u0432\u0430",
    "\u6771\u4eac\u90fd", "\u30bd\u30cb\u30fc", "\ud55c\uad6d\uc5b4",
    "\u0645\u064f\u062d\u064e\u0645\u0651\u064e\u062f", "\u05e9\u05b8\u05c1\u05dc\u05d5\u05b9\u05dd",
    "\u0939\u093f\u0928\u094d\u0926\u0940", "\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22",
    "x\u00b2", "\u00bd", "\u216b", "\u01c5emal", "e\u0301cole", "\u00e9cole", "\u00c9COLE",
    "co\u00adoperate", "zero\u200bwidth", "snake_case", "rock'n'roll", "o''clock", "'quoted'",
    "covid19", "COVID-19", "na\u00efve", "caf\u00e9", "CAFE", "\u0152uvre", "\ufb02uent",
    "\uff26\uff35\uff2c\uff2c", "\U0001F600emoji", "e-mail", "1990\u2019s", "rock\u2019n\u2019roll",
    "Israel\u2019s\u2019", "\u1e9e", "\u212a", "\u212b", "\u0131", "\u017f", "\u00b5", "\ufb05",
    "\u01f0", "a\u0308\u0301b", "\u0301lone", "d\u2019Alembert", "l'h\u00f4pital",
    "h\u00f4pitaux", "H\u00e4user", "ciudades", "\u00e1rboles", "St\u00e4dte",
    "x" * 230, "\u00e9" * 130, "\u0436" * 101 + "q",
]
LANGS = ["en", "en", "en", None, "fr", "de", "es", "ru", "xx", "english", "FR", "pt-BR", "en_GB",
         "DE", "fra", "German", "porter", "it"]
OUTLETS = ["Al Jazeera", "AL-JAZEERA", "Le Monde", "S\u00fcddeutsche Zeitung",
           "The Observer (New York)", "O\u2019Reilly Media", "Reuters", "reuters", "BBC News",
           "Caf\u00e9 Press", "\u6771\u4eac\u65b0\u805e", "Fox News", "Fox  News!", ""]
AUTHORS = ["Jane Doe", "Jane Doe, John Smith", "John Smith and Ana Garc\u00eda",
           "Ana Garc\u00eda; Bob Li", "BOB LI", "Ren\u00e9 Dupont", "Dupont, Ren\u00e9",
           "Smith and Wesson and Co", "", None]
TAGS = ["gaza", "hospitals", "white house", "White-House", "\u00e9lections", "elections",
        "climate", "economy", ""]
GOOD_DATES = ["2023-11-02T14:05:00Z", "2023-11-02 09:30", "2023-11-02T23:59:59+02:00",
              "2023-11-02t08:00:00.123z", "2024-02-29", "2023-11-02T10:00-0500",
              "2022-12-31T23:59:60", "2023-01-01T00:00:00,5+0100"]
BAD_DATES = ["2023-02-30", "2023-13-01", "yesterday", "2023/11/02", "2023-11-02T25:00",
             "0000-01-01", " 2023-11-02", "2023-11-2", "2023-11-02T10:00+24:00", "2023-11-02Z"]


def _pseudo_words(rng, n):
    out = set()
    while len(out) < n:
        out.add("".join(rng.choice(SYL) for _ in range(rng.choice((2, 2, 3, 3, 4)))))
    return sorted(out)


def write_edge_corpus(path, seed, ndocs=500):
    """Write the edge corpus (bad lines included) to path."""
    rng = random.Random(seed)
    roots = _pseudo_words(rng, 260)
    weights = [1.0 / (i + 1) ** 0.9 for i in range(len(roots))]

    def word():
        if rng.random() < 0.06:
            return rng.choice(TRICKY)
        w = rng.choices(roots, weights)[0] + rng.choice(SUFFIXES)
        r = rng.random()
        if r < 0.05:
            w = w.upper()
        elif r < 0.15:
            w = w.capitalize()
        return w

    def sentence(n):
        parts = []
        for i in range(n):
            parts.append(word())
            if i < n - 1:
                parts.append(rng.choice([" ", " ", " ", " ", ", ", " \u2014 ", "; ", "/", " (", ") ",
                                         " \u201c", "\u201d ", " - ", "\t", " \u00a0"]))
        return "".join(parts) + rng.choice([".", "!", "?", "", "\u2026"])

    def date():
        r = rng.random()
        if r < 0.08:
            return None
        if r < 0.14:
            return rng.choice(GOOD_DATES)
        if r < 0.18:
            return rng.choice(BAD_DATES)
        y = rng.choice((2019, 2020, 2021, 2022, 2023, 2023, 2024))
        m = rng.randint(1, 12)
        d = rng.randint(1, 28)
        s = "%04d-%02d-%02d" % (y, m, d)
        if rng.random() < 0.2:
            s += "T%02d:%02d:%02dZ" % (rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
        return s

    lines = []
    ids = []
    for i in range(ndocs):
        doc = {"id": "edge-%04d" % i}
        if rng.random() < 0.97:
            doc["title"] = sentence(rng.randint(2, 9))
        if rng.random() < 0.98:
            doc["body"] = "\n".join(sentence(rng.randint(4, 40)) for _ in range(rng.randint(1, 5)))
        o = rng.choice(OUTLETS)
        if rng.random() < 0.9:
            doc["outlet"] = o
        a = rng.choice(AUTHORS)
        if a is not None or rng.random() < 0.5:
            doc["author"] = a
        if rng.random() < 0.8:
            doc["tags"] = rng.sample(TAGS, rng.randint(0, 3))
        dt = date()
        if dt is not None:
            doc["date"] = dt
        lg = rng.choice(LANGS)
        if lg is not None:
            doc["lang"] = lg
        if rng.random() < 0.05:
            doc["url"] = "https://example.org/%d" % i
        if rng.random() < 0.02:
            doc["extra"] = {"ignored": [1, 2]}
        if rng.random() < 0.02:
            doc["body"] = doc.get("body", "") + "\u0000nul\u0000sep"
        if rng.random() < 0.04:
            # invalid UTF-8 inside the body (repaired to U+FFFD, a separator):
            # a stray byte pair, and a truncated sequence glued to letters
            doc["body"] = doc.get("body", "") + " badutf QQBAD1QQ eight bad" + "QQBAD2QQ" + "seq"
        ids.append(doc["id"])
        line = json.dumps(doc, ensure_ascii=rng.random() < 0.3).encode("utf-8")
        line = line.replace(b"QQBAD1QQ", b"\xff\xfe").replace(b"QQBAD2QQ", b"\xe2\x82")
        lines.append(line + (b"\r\n" if rng.random() < 0.1 else b"\n"))
        if rng.random() < 0.02:
            lines.append(b"\n")  # blank line: skipped silently
        if i > 20 and rng.random() < 0.04:
            # a later record replaces an earlier one (same id, new content)
            old = rng.choice(ids[:-1])
            rep = {"id": old, "title": sentence(4), "body": sentence(12), "outlet": "Reuters",
                   "date": "2021-06-%02d" % rng.randint(1, 30)}
            lines.append(json.dumps(rep).encode("utf-8") + b"\n")
        if rng.random() < 0.03:
            b = rng.choice([
                b"not json at all", b"{", b"[1,2,3]", b'{"title":"no id"}', b'{"id":5}',
                b'{"id":"e-bad1","title":7}', b'{"id":"e-bad2","tags":"x"}', b'{"id":""}',
                b'{"id":"e-bad3\\u0001"}', b'{"id":"' + b"i" * 300 + b'"}',
                b'{"id":"e-bad4","x":NaN}', b'{"id":"e-bad5","title":"\\ud800"}',
                b'{"id":"e-bad6"} trailing', b'"just a string"', b'{"id":"e-bad7","tags":[1]}',
                b'{"id":"e-bad8","body":{"a":1}}', b'{"id":["e-bad9"]}', b'{"id":null}',
            ])
            lines.append(b + b"\n")
    data = b"".join(lines)
    with open(path, "wb") as f:
        f.write(data)
    return path


# ---------------------------------------------------------------------------
# Query generation


class Q:
    __slots__ = ("form", "ast", "sort", "facets", "text", "json", "offset", "limit")

    def __init__(self, form, ast, sort=None, facets=None):
        self.form = form
        self.ast = ast
        self.sort = sort
        self.facets = facets or []  # [(name, limit or None for all)]
        self.text = None
        self.json = None
        self.offset = 0
        self.limit = None


def safe_word(w):
    """A word that, typed as a query token, comes back as itself."""
    return tokenize(w) == [w]


OPS = {"and", "or", "not"}


class QueryGen:
    def __init__(self, ref, seed):
        self.ref = ref
        self.rng = random.Random(seed)
        rng = self.rng
        n = len(ref.docs)
        self.n = n
        words = [w for w in ref.vocab if safe_word(w) and len(w.encode()) < 60]
        df = {w: len(ref.inv_word[w]) for w in words}
        self.df = df
        self.rare = [w for w in words if df[w] <= 3]
        self.mid = [w for w in words if 4 <= df[w] <= max(5, n // 20)]
        self.common = [w for w in words if df[w] > max(5, n // 20)]
        self.allwords = words
        # words sharing a stem (inflections) in the default language
        groups = {}
        algo = ref.default_algo
        for w in words:
            if w.isalpha():
                groups.setdefault(siftref.STEMMERS.stem(algo, w), []).append(w)
        self.inflect = [g for g in groups.values() if len(g) >= 2]
        # surface forms: raw spellings that normalize to a different text
        self.surface = {}
        for d in rng.sample(ref.docs, min(300, n)):
            text = (d.f.get("title") or "") + "\n" + (d.f.get("body") or "")[:3000]
            for raw, w in siftref.raw_words(text):
                if raw != w and w in df and tokenize(raw) == [w] and "*" not in raw:
                    self.surface.setdefault(w, set()).add(raw)
        self.surface = {w: sorted(s) for w, s in self.surface.items()}
        self.surface_words = sorted(self.surface)
        self.prefix_words = [w for w in words if len(w) >= 5 and w.isalpha()]
        self.tprefix_words = [w for w in ref.tvocab if len(w) >= 5 and w.isalpha() and safe_word(w)]
        self.title_words = [w for w in ref.tvocab if safe_word(w) and len(w.encode()) < 60]
        self.docs_with_body = [d for d in ref.docs if d.body_str]
        self.docs_with_title2 = [d for d in ref.docs if len(d.title_words) >= 2]
        # filter values
        self.outlets = sorted({d.f["outlet"] for d in ref.docs if d.f.get("outlet") and tok_key(d.f["outlet"])})
        names = set()
        fulls = set()
        for d in ref.docs:
            a = d.f.get("author")
            if a and tok_key(a):
                fulls.add(a)
                for nm in re.split(r",|;| and ", a):
                    if tok_key(nm) and not re.search(r"\band\b", nm, re.I):
                        names.add(nm.strip())
        self.author_names = sorted(names)
        self.author_fulls = sorted(fulls)
        self.tags = sorted({t for d in ref.docs for t in d.tags if tok_key(t)})
        days = sorted({d.f["day"] for d in ref.docs if d.day})
        self.days = days
        self.months = sorted({x[:6] for x in days})
        self.years = sorted({x[:4] for x in days})

    # -- leaves --
    def pick_word(self, kind=None):
        rng = self.rng
        kind = kind or rng.choice(["rare", "mid", "mid", "common", "inflect", "surface"])
        pool = {"rare": self.rare, "mid": self.mid, "common": self.common}.get(kind)
        if kind == "inflect" and self.inflect:
            w = rng.choice(rng.choice(self.inflect))
        elif kind == "surface" and self.surface_words:
            w = rng.choice(self.surface_words)
            return ("word", w, "text", rng.choice(self.surface[w]))
        else:
            pool = pool or self.mid or self.allwords
            w = rng.choice(pool)
        return ("word", w, "text", self.variant(w))

    def variant(self, w):
        """A spelling of w that normalizes back to w (case changes)."""
        rng = self.rng
        if w in OPS:
            return w
        r = rng.random()
        v = w
        if r < 0.15:
            v = w.upper()
        elif r < 0.3:
            v = w.capitalize()
        elif r < 0.4 and w in self.surface:
            v = rng.choice(self.surface[w])
        if v in ("AND", "OR", "NOT", "NEAR") or tokenize(v) != [w]:
            return w
        return v

    def phrase_from_doc(self, title=False, nmin=2, nmax=4):
        rng = self.rng
        for _ in range(50):
            if title:
                d = rng.choice(self.docs_with_title2)
                ws = d.title_words
            else:
                d = rng.choice(self.docs_with_body)
                src = d.title_str if (rng.random() < 0.2 and len(d.title_words) >= 2) else d.body_str
                ws = src.split("\x01")[1:-1]
            if len(ws) < nmin:
                continue
            k = rng.randint(nmin, min(nmax, len(ws)))
            i = rng.randrange(0, len(ws) - k + 1)
            p = ws[i:i + k]
            if all(safe_word(w) for w in p):
                return p
        return None

    def phrase(self, title=False, nmin=2, nmax=4):
        p = self.phrase_from_doc(title, nmin, nmax)
        if p is None:
            return self.pick_word()
        vs = [w if self.rng.random() < 0.7 else self.variant(w) for w in p]
        if self.rng.random() < 0.1:
            vs = [v.upper() for v in vs]
            if any(tokenize(v) != [w] for v, w in zip(vs, p)):
                vs = p
        return ("phrase", p, "title" if title else "text", "quote", vs)

    def bare_phrase(self, title=False):
        """An unquoted token with punctuation (w1-w2) = the phrase."""
        p = self.phrase_from_doc(title, 2, 3)
        if p is None or any("'" in w for w in p):
            return self.pick_word()
        sep = self.rng.choice(["-", "-", ".", "/"])
        return ("phrase", p, "title" if title else "text", "bare", sep.join(p))

    def neg_phrase(self):
        """Words of one article, not adjacent or reversed: usually no match."""
        rng = self.rng
        d = rng.choice(self.docs_with_body)
        ws = [w for w in d.body_str.split("\x01")[1:-1] if safe_word(w)]
        if len(ws) < 6:
            return self.phrase()
        i = rng.randrange(0, len(ws) - 5)
        p = [ws[i], ws[i + rng.randint(2, 5)]] if rng.random() < 0.5 else [ws[i + 1], ws[i]]
        return ("phrase", p, "text", "quote", p)

    def prefix(self, title=False):
        rng = self.rng
        pool = self.tprefix_words if title else self.prefix_words
        if not pool:
            return self.pick_word()
        w = rng.choice(pool)
        k = rng.randint(3, min(6, len(w) - 1))
        p = w[:k]
        v = p.capitalize() if rng.random() < 0.2 else p
        if tokenize(v) != [p]:
            v = p
        return ("prefix", p, "title" if title else "text", v)

    def title_word(self):
        rng = self.rng
        if rng.random() < 0.5 or not self.title_words:
            w = self.pick_word()
            return ("word", w[1], "title", w[3])
        w = rng.choice(self.title_words)
        return ("word", w, "title", self.variant(w))

    def text_leaf(self):
        r = self.rng.random()
        if r < 0.55:
            return self.pick_word()
        if r < 0.7:
            return self.phrase()
        if r < 0.78:
            return self.prefix()
        if r < 0.86:
            return self.title_word()
        if r < 0.92:
            return self.phrase(title=True)
        return self.bare_phrase()

    def value_variant(self, v):
        """Spellings of a filter value with the same key."""
        rng = self.rng
        words = tokenize(v)
        cands = [v, v.lower(), v.upper(), "".join(words), "-".join(words),
                 "-".join(w.upper() for w in words), "_".join(words)]
        cands = [c for c in cands if tok_key(c) == tok_key(v) and '"' not in c]
        return rng.choice(cands) if cands else v

    def filt(self, field):
        rng = self.rng
        if field == "outlet":
            pool = self.outlets
        elif field == "author":
            pool = self.author_names if rng.random() < 0.8 or not self.author_fulls else self.author_fulls
        else:
            pool = self.tags
        if not pool:
            return None
        v = rng.choice(pool)
        if '"' in v:
            return None
        return ("filter", field, v, self.value_variant(v))

    def any_filter(self):
        for _ in range(10):
            f = self.filt(self.rng.choice(["outlet", "outlet", "author", "tag"]))
            if f:
                return f
        return ("date", self.date_spec())

    def date_end(self, kind=None):
        rng = self.rng
        kind = kind or rng.choice(["day", "month", "year"])
        if not self.days:
            return "2020"
        if kind == "day":
            s = rng.choice(self.days)
            return "%s-%s-%s" % (s[:4], s[4:6], s[6:])
        if kind == "month":
            s = rng.choice(self.months)
            return "%s-%s" % (s[:4], s[4:])
        return rng.choice(self.years)

    def date_spec(self, kind=None):
        rng = self.rng
        kind = kind or rng.choice(["day", "month", "year", "range", "open_lo", "open_hi"])
        if kind in ("day", "month", "year"):
            if kind == "day" and rng.random() < 0.1:
                return "2020-02-29" if rng.random() < 0.5 else "1999-01-01"
            return self.date_end(kind)
        if kind == "range":
            for _ in range(20):
                a, b = self.date_end(), self.date_end()
                lo, _x = siftref.date_bounds(a)
                _y, hi = siftref.date_bounds(b)
                if lo > hi:
                    a, b = b, a
                    lo, _x = siftref.date_bounds(a)
                    _y, hi = siftref.date_bounds(b)
                if lo <= hi:
                    return a + ".." + b
            return self.date_end()
        if kind == "open_lo":
            return ".." + self.date_end()
        return self.date_end() + ".."

    # -- trees --
    def notn(self, kid):
        style = "NOT" if kid[0] in ("and", "not") else self.rng.choice(["NOT", "-"])
        return ("not", kid, style)

    def tree(self, depth=0):
        rng = self.rng
        r = rng.random()
        if depth >= 2 or r < 0.4:
            return self.text_leaf()
        if r < 0.7:
            return ("and", [self.tree(depth + 1) for _ in range(rng.randint(2, 3))],
                    rng.choice(["", "AND"]))
        if r < 0.9:
            return ("or", [self.tree(depth + 1) for _ in range(rng.randint(2, 3))],
                    rng.choice(["", "bare"]))
        return self.notn(self.tree(depth + 1))

    def make(self, form):
        """One query of a form."""
        rng = self.rng
        g = self
        w = g.pick_word
        if form == "word_rare":
            return Q(form, w("rare"))
        if form == "word_mid":
            return Q(form, w("mid"))
        if form == "word_common":
            return Q(form, w("common"))
        if form == "word_inflect":
            return Q(form, w("inflect"))
        if form == "word_surface":
            return Q(form, w("surface"))
        if form == "and2":
            return Q(form, ("and", [w(), w("common")]))
        if form == "and3":
            return Q(form, ("and", [w("common"), w("common"), w()]))
        if form == "and_explicit":
            return Q(form, ("and", [w(), w("common")], "AND"))
        if form == "or2":
            return Q(form, ("or", [w(), w()]))
        if form == "or3":
            return Q(form, ("or", [w("rare"), w(), g.phrase()]))
        if form == "not_minus":
            return Q(form, ("and", [w("common"), ("not", w(), "-")]))
        if form == "not_word":
            return Q(form, ("and", [w("common"), ("not", g.text_leaf(), "NOT")]))
        if form == "not_alone":
            return Q(form, ("not", w("common"), "NOT"))
        if form == "minus_alone":
            return Q(form, ("not", g.text_leaf(), "-"))
        if form == "not_in_or":
            return Q(form, ("or", [w("rare"), ("not", w("common"), "NOT")]))
        if form == "nested":
            t = g.tree()
            while t[0] not in ("and", "or", "not"):
                t = g.tree()
            return Q(form, t)
        if form == "nested_not_group":
            return Q(form, ("and", [("or", [w(), w()]), ("not", ("or", [w(), g.phrase()]), "-")]))
        if form == "precedence":
            # a b OR c  ==  (a AND b) OR c, written without parentheses
            return Q(form, ("or", [("and", [w(), w("common")]), w()], "bare"))
        if form == "phrase_body":
            return Q(form, g.phrase())
        if form == "phrase_title":
            p = g.phrase(title=True)
            if p[0] == "phrase":
                p = ("phrase", p[1], "text", "quote", p[4])
            return Q(form, p)
        if form == "phrase_one":
            p = g.phrase_from_doc(False, 1, 1) or [rng.choice(g.allwords)]
            return Q(form, ("phrase", p, "text", "quote", p))
        if form == "phrase_neg":
            return Q(form, g.neg_phrase())
        if form == "phrase_bare":
            return Q(form, g.bare_phrase(title=rng.random() < 0.2))
        if form == "title_word":
            return Q(form, g.title_word())
        if form == "title_phrase":
            return Q(form, g.phrase(title=True))
        if form == "title_prefix":
            return Q(form, g.prefix(title=True))
        if form == "prefix":
            return Q(form, g.prefix())
        if form == "prefix_and":
            return Q(form, ("and", [g.prefix(), w()]))
        if form in ("outlet", "author", "tag"):
            f = g.filt(form)
            return Q(form, f) if f else None
        if form == "outlet_multi":
            fs = [g.filt("outlet") for _ in range(rng.randint(2, 3))]
            fs = [f for f in fs if f]
            if not fs:
                return None
            rng.shuffle(fs)
            return Q(form, ("and", fs + ([w("common")] if rng.random() < 0.5 else [])))
        if form == "author_multi":
            fs = [f for f in (g.filt("author"), g.filt("author")) if f]
            return Q(form, ("and", fs)) if fs else None
        if form == "outlet_minus":
            f = g.filt("outlet")
            if not f:
                return None
            kids = [("not", f, rng.choice(["-", "NOT"]))]
            if rng.random() < 0.6:
                kids.append(w("common"))
            rng.shuffle(kids)
            return Q(form, ("and", kids) if len(kids) > 1 else kids[0])
        if form == "filter_or":
            a, b = g.any_filter(), g.any_filter()
            return Q(form, ("or", [a, b]))
        if form == "date_day":
            return Q(form, ("date", g.date_spec("day")))
        if form == "date_month":
            return Q(form, ("date", g.date_spec("month")))
        if form == "date_year":
            return Q(form, ("date", g.date_spec("year")))
        if form == "date_range":
            return Q(form, ("date", g.date_spec("range")))
        if form == "date_open":
            return Q(form, ("date", g.date_spec(rng.choice(["open_lo", "open_hi"]))))
        if form == "date_minus":
            return Q(form, ("and", [w("common"), ("not", ("date", g.date_spec()), "-")]))
        if form == "filters_only":
            kids = [g.any_filter()]
            if rng.random() < 0.7:
                kids.append(("date", g.date_spec()))
            if rng.random() < 0.3:
                kids.append(("not", g.any_filter(), "-"))
            if rng.random() < 0.2:
                kids.append(("not", w(), "-"))
            rng.shuffle(kids)
            return Q(form, ("and", kids) if len(kids) > 1 else kids[0])
        if form == "text_filters":
            kids = [g.tree(1)]
            for _ in range(rng.randint(1, 3)):
                kids.append(g.any_filter() if rng.random() < 0.7 else ("date", g.date_spec()))
            rng.shuffle(kids)
            return Q(form, ("and", kids))
        if form == "sorted":
            q = Q(form, g.tree(1) if rng.random() < 0.6 else ("and", [g.any_filter(), w()]))
            q.sort = rng.choice(["newest", "oldest"])
            return q
        if form == "facets":
            q = Q(form, g.tree(1) if rng.random() < 0.7 else g.any_filter())
            q.facets = g.facet_list()
            return q
        if form == "all_docs":
            q = Q(form, ("all",))
            q.facets = g.facet_list()
            q.sort = rng.choice([None, "newest", "oldest"])
            return q
        if form == "paging":
            q = Q(form, rng.choice([("date", g.date_spec("open_hi")), g.any_filter(), w("common")]))
            q.sort = rng.choice(["newest", "oldest", None])
            q.offset = rng.randint(0, 60)
            q.limit = rng.randint(1, 40)
            return q
        if form == "json":
            return g.json_query()
        if form == "filter_groups":
            # one AND list: (outlet:a OR outlet:b) outlet:c  =  any of a, b, c;
            # (outlet:a word) outlet:b  =  (a or b) and word
            a, b, c = g.filt("outlet"), g.filt("outlet"), g.filt("outlet")
            if not (a and b and c):
                return None
            if rng.random() < 0.5:
                kids = [("or", [a, b]), c] + ([w("common")] if rng.random() < 0.5 else [])
            else:
                kids = [("and", [a, w("common")]), b]
            rng.shuffle(kids)
            return Q(form, ("and", kids))
        if form == "lower_ops":
            # lower-case and/or/not are plain words
            ops = [o for o in ("and", "or", "not") if o in g.df]
            if not ops:
                return None
            o = rng.choice(ops)
            kids = [w(), ("word", o, "text", o)]
            rng.shuffle(kids)
            return Q(form, ("and", kids) if rng.random() < 0.7 else ("phrase", [o, w("common")[1]], "text", "quote"))
        if form == "phrase_boundary":
            # the last title word then the first body word: no phrase spans them
            for _ in range(20):
                d = rng.choice(g.docs_with_body)
                if d.title_words:
                    p = [d.title_words[-1], d.body_str.split("\x01")[1]]
                    if all(safe_word(x) for x in p):
                        return Q(form, ("phrase", p, "text", "quote", p))
            return None
        if form == "phrase_para":
            # the last word of a paragraph then the first of the next: a phrase
            for _ in range(20):
                d = rng.choice(g.docs_with_body)
                paras = [tokenize(x) for x in (d.f.get("body") or "").split("\n")]
                paras = [x for x in paras if x]
                if len(paras) >= 2:
                    i = rng.randrange(0, len(paras) - 1)
                    p = [paras[i][-1], paras[i + 1][0]]
                    if all(safe_word(x) for x in p):
                        return Q(form, ("phrase", p, "text", "quote", p))
            return None
        if form == "apostrophe":
            pool = [x for x in g.allwords if "'" in x]
            if not pool:
                return None
            x = rng.choice(pool)
            v = x.replace("'", "\u2019") if rng.random() < 0.5 else x
            return Q(form, ("word", x, "text", v if tokenize(v) == [x] else x))
        if form == "near":
            # two words of one article some positions apart, either order,
            # the distance at, below or above their gap
            for _ in range(20):
                d = rng.choice(g.docs_with_body)
                ws = [w for w in d.body_str.split("\x01")[1:-1]]
                if len(ws) < 3:
                    continue
                i = rng.randrange(0, len(ws) - 1)
                gap = rng.randint(1, min(12, len(ws) - 1 - i))
                a, b = ws[i], ws[i + gap]
                if not (safe_word(a) and safe_word(b)) or a in OPS or b in OPS or "near" in (a, b) or a == b:
                    continue
                n = max(1, gap + rng.choice([-1, 0, 0, 1]))
                kids = [("word", a, "text", a), ("word", b, "text", b)]
                if rng.random() < 0.5:
                    kids.reverse()
                if rng.random() < 0.3 and len(b) >= 5 and b.isalpha():
                    kids[-1] = ("prefix", b[:rng.randint(3, len(b) - 1)], "text")
                    if kids[0][1].startswith(kids[-1][1]):
                        continue  # operands matching one word: an error (qp.c)
                if rng.random() < 0.3:
                    n = 10
                return Q(form, ("near", kids, n))
            return None
        if form == "near_chain":
            p = g.phrase_from_doc(rng.random() < 0.3, 3, 3)
            if not p or any(w in OPS or w == "near" for w in p) or len(set(p)) < 3:
                return None
            rng.shuffle(p)
            return Q(form, ("and", [("near", [("word", w, "text", w) for w in p], rng.choice([2, 3, 10]))]
                            + ([g.pick_word("common")] if rng.random() < 0.3 else [])))
        if form == "near_title":
            p = g.phrase_from_doc(True, 2, 2)
            if not p or any(w in OPS or w == "near" for w in p) or p[0] == p[1]:
                return None
            return Q(form, ("near", [("word", w, rng.choice(["title", "text"]), w) for w in p],
                            rng.choice([1, 2, 5, 10, 150])))
        if form in ("outlet_prefix", "author_prefix", "tag_prefix"):
            f = g.filt(form.split("_")[0])
            if not f or len(tok_key(f[2])) < 2:
                return None
            key = tok_key(f[2])
            k = key[:rng.randint(1, min(6, len(key)))]
            if not k.isalnum() or not safe_word(k):
                return None
            node = ("filter", f[1], k, k.upper() if rng.random() < 0.3 else k, "prefix")
            if rng.random() < 0.3:
                node = ("and", [g.pick_word("common"), ("not", node, "-")])
            return Q(form, node)
        if form == "title_group":
            kids = [("word", w[1], "title", w[1]) for w in (g.pick_word(), g.pick_word())]
            inner = ("or", kids) if rng.random() < 0.5 else ("and", [kids[0], ("not", kids[1], "NOT")])
            return Q(form, ("and", [inner, g.pick_word("common")]) if rng.random() < 0.5 else inner)
        if form == "prefix_digits":
            pool = [x for x in g.allwords if x[:1].isdigit() and len(x) >= 3 and x.isalnum()]
            if not pool:
                return None
            x = rng.choice(pool)
            return Q(form, ("prefix", x[:rng.randint(2, len(x) - 1)], "text"))
        raise ValueError(form)

    def facet_list(self):
        rng = self.rng
        names = rng.sample(["outlet", "year", "month", "day", "author", "tag"], rng.randint(1, 4))
        out = []
        for nm in names:
            r = rng.random()
            out.append((nm, 10 if r < 0.7 else (None if r < 0.85 else rng.randint(1, 25))))
        return out

    def json_query(self):
        rng = self.rng
        g = self
        text = g.tree(1) if rng.random() < 0.7 else None
        kids = [text] if text else []
        obj = {"op": rng.choice(["search", "count"])}
        if text:
            obj["q"] = siftref.render(text)
        r = rng.random()
        if r < 0.4 and g.outlets:
            vs = rng.sample(g.outlets, min(len(g.outlets), rng.randint(1, 2)))
            obj["outlet"] = vs if (len(vs) > 1 or rng.random() < 0.5) else vs[0]
            kids.append(("or", [("filter", "outlet", v) for v in vs]))
        elif r < 0.6 and g.tags:
            v = rng.choice(g.tags)
            obj["tag"] = v
            kids.append(("filter", "tag", v))
        elif r < 0.75 and g.author_names:
            v = rng.choice(g.author_names)
            obj["author"] = [v]
            kids.append(("filter", "author", v))
        if rng.random() < 0.15 and g.days:
            v = g.date_end()
            obj["date"] = v
            kids.append(("date", v))
        elif rng.random() < 0.5 and g.days:
            a = g.date_end() if rng.random() < 0.8 else None
            b = g.date_end() if rng.random() < 0.8 else None
            if a and b and siftref.date_bounds(a)[0] > siftref.date_bounds(b)[1]:
                a, b = b, a
            if a:
                obj["from"] = a
            if b:
                obj["to"] = b
            if a or b:
                kids.append(("date", (a or "") + ".." + (b or "")))
        q = Q("json", ("and", kids) if len(kids) > 1 else (kids[0] if kids else ("all",)))
        if rng.random() < 0.4:
            q.sort = rng.choice(["newest", "oldest"])
            obj["sort"] = q.sort
        if obj["op"] == "search" and rng.random() < 0.4:
            q.facets = [(nm, 10) for nm in rng.sample(["outlet", "year", "month", "tag"], 2)]
            obj["facets"] = [nm for nm, _ in q.facets]
            if rng.random() < 0.4:
                q.facets = [(nm, rng.choice([3, 20, None])) for nm, _ in q.facets]
                obj["facets"] = {nm: (lim if lim is not None else "all") for nm, lim in q.facets}
        q.json = obj
        return q


FORMS = [
    ("word_rare", 15), ("word_mid", 15), ("word_common", 10), ("word_inflect", 20),
    ("word_surface", 12), ("and2", 15), ("and3", 10), ("and_explicit", 8), ("or2", 12),
    ("or3", 8), ("not_minus", 10), ("not_word", 8), ("not_alone", 5), ("minus_alone", 4),
    ("not_in_or", 4), ("nested", 30), ("nested_not_group", 6), ("precedence", 10),
    ("phrase_body", 30), ("phrase_title", 12), ("phrase_one", 6), ("phrase_neg", 8),
    ("phrase_bare", 10), ("title_word", 14), ("title_phrase", 12), ("title_prefix", 6),
    ("prefix", 20), ("prefix_and", 6), ("outlet", 15), ("outlet_multi", 10), ("outlet_minus", 8),
    ("author", 12), ("author_multi", 4), ("tag", 10), ("filter_or", 6), ("date_day", 8),
    ("date_month", 8), ("date_year", 6), ("date_range", 12), ("date_open", 12), ("date_minus", 4),
    ("filters_only", 20), ("text_filters", 25), ("sorted", 20), ("facets", 25), ("all_docs", 5),
    ("paging", 12), ("json", 24), ("lower_ops", 6), ("phrase_boundary", 8), ("phrase_para", 8),
    ("apostrophe", 8), ("prefix_digits", 5),
    ("filter_groups", 6), ("near", 25), ("near_chain", 8), ("near_title", 8),
    ("outlet_prefix", 6), ("author_prefix", 6), ("tag_prefix", 6), ("title_group", 8),
]


def facet_opt(facets, rng):
    parts = []
    for nm, lim in facets:
        if lim == 10 and rng.random() < 0.8:
            parts.append(nm)
        elif lim is None:
            parts.append(nm + ":all")
        else:
            parts.append("%s:%d" % (nm, lim))
    return "facets:" + ",".join(parts)


def retitle(node):
    """node with its title words as plain words (written inside title:( ))."""
    if node[0] == "word":
        return ("word", node[1], "text") + tuple(node[3:])
    if node[0] == "not":
        return ("not", retitle(node[1])) + tuple(node[2:])
    return (node[0], [retitle(k) for k in node[1]]) + tuple(node[2:])


def finish_query(q, rng, count):
    """Render q.text (options placed at the start or the end)."""
    body = siftref.render(q.ast, rng)
    if q.form == "title_group":  # its first title group written title:( ... )
        inner = q.ast[1][0] if q.ast[0] == "and" else q.ast
        group = "title:(%s)" % siftref.render(retitle(inner), rng)
        body = group if inner is q.ast else group + " " + siftref.render(q.ast[1][1], rng)
    opts = []
    if q.sort:
        opts.append("sort:" + q.sort)
    elif rng.random() < 0.05 and siftref.has_positive_text(q.ast):
        opts.append("sort:relevance")
        q.sort = "relevance"
    if q.facets:
        opts.append(facet_opt(q.facets, rng))
    parts = [body] if body else []
    for o in opts:
        if rng.random() < 0.7:
            parts.append(o)
        else:
            parts.insert(0, o)
    q.text = " ".join(parts)
    if q.limit is None:
        q.limit = BIG_LIMIT if count <= BIG_LIMIT else SMALL_LIMIT


# ---------------------------------------------------------------------------
# Checking


def expected_order(q):
    if q.sort in ("newest", "oldest"):
        return q.sort
    if q.sort is None and not siftref.has_positive_text(q.ast):
        return "newest"
    return None


def fmt_ids(ids, n=5):
    ids = sorted(ids)
    s = ", ".join(ids[:n])
    return s + (" ... (%d)" % len(ids) if len(ids) > n else "")


def check_corpus(res, name, files, ref, seed, nscale=1.0, build=()):
    """Index files (sift-indexer options build), compare every query answer
    with ref."""
    tmp = sift.scratch("ref-" + name)
    idx = tmp / "index"
    t0 = time.time()
    p = sift.index(idx, files, *build)
    err = p.stderr.decode("utf-8", "replace")
    if not res.ok(p.returncode == 0, "[%s] sift-indexer exits 0" % name,
                  "exit %d: %s" % (p.returncode, sift.short(err, 2000))):
        if not (idx / "iamglass").exists() and not any(idx.glob("*")):
            return None
        res.note("[%s] (going on with the index it left)" % name)
    res.note("[%s] indexed %d articles in %.1f s %s(reference: %d articles, %d skipped lines)"
             % (name, len(ref.docs), time.time() - t0, " ".join(build) + " " if build else "",
                len(ref.docs), len(ref.skipped)))

    # Bad lines are reported as FILE:LINE: reason, and only those.
    reported = set()
    for line in err.splitlines():
        m = re.match(r"^(.*):(\d+): (.*)$", line)
        if m and "indexed without a date" not in line and "language" not in m.group(3):
            reported.add((m.group(1), int(m.group(2))))
    want = {(f, n) for f, n, _ in ref.skipped}
    res.ok(reported == want, "[%s] indexer reports exactly the bad lines as FILE:LINE" % name,
           "missing %s; unexpected %s" % (sorted(want - reported)[:8], sorted(reported - want)[:8]))
    m = re.search(r"added (\d+), replaced (\d+), skipped (\d+)", err)
    res.ok(m is not None and (int(m.group(1)), int(m.group(2)), int(m.group(3)))
           == (ref.added, ref.replaced, len(ref.skipped)),
           "[%s] indexer summary counts" % name,
           "got %r, want added %d, replaced %d, skipped %d"
           % (m.group(0) if m else err[-300:], ref.added, ref.replaced, len(ref.skipped)))

    rng = random.Random(seed)
    gen = QueryGen(ref, seed)
    queries = []
    for form, k in FORMS:
        for _ in range(max(1, int(round(k * nscale)))):
            q = gen.make(form)
            if q is None:
                continue
            queries.append(q)
    # extra options on some queries
    for q in queries:
        if q.form in ("json", "paging", "all_docs"):
            continue
        if q.sort is None and rng.random() < 0.2:
            q.sort = rng.choice(["newest", "oldest"])
        if not q.facets and rng.random() < 0.15:
            q.facets = gen.facet_list()

    expected = []
    for q in queries:
        nums = ref.eval(q.ast)
        expected.append(nums)
        if q.json is None:
            finish_query(q, rng, len(nums))
        else:
            q.limit = BIG_LIMIT if len(nums) <= BIG_LIMIT else SMALL_LIMIT
            if q.json["op"] == "search":
                q.json["limit"] = q.limit
            q.text = json.dumps(q.json, ensure_ascii=False)

    requests = []
    for q in queries:
        if q.json is not None:
            requests.append(q.json)
            continue
        requests.append("COUNT " + q.text)
        lim = "limit:%d" % q.limit
        if q.offset:
            lim += " offset:%d" % q.offset
        requests.append("SEARCH " + (q.text + " " + lim if rng.random() < 0.8 else lim + " " + q.text))
    # GET and STATS
    gets = rng.sample(ref.docs, min(40, len(ref.docs)))
    for d in gets:
        requests.append("GET " + d.id)
    requests.append("STATS")

    t0 = time.time()
    resp, proc = sift.query_batch(idx, requests)
    res.note("[%s] %d queries (%d requests) answered in %.1f s"
             % (name, len(queries), len(requests), time.time() - t0))
    if proc.returncode not in (0, 1):
        res.fail("[%s] sift-query batch exits 0 or 1 (no request failed)" % name,
                 "exit %d: %s" % (proc.returncode, sift.short(proc.stderr.decode("utf-8", "replace"), 1000)))

    i = 0
    forms_failed = {}
    rows = []  # (query, facet, value, count) of author and tag rows
    for q, nums in zip(queries, expected):
        want_ids = ref.ids(nums)
        what = "[%s] %s: %s" % (name, q.form, q.text)
        bad = []
        s = None
        if q.json is None or q.json["op"] == "count":
            c = resp[i]
            i += 1
            if not c or not c.get("ok"):
                bad.append("COUNT failed: %s" % sift.short(c))
            elif c.get("count") != len(nums):
                bad.append("COUNT %s, want %d" % (c.get("count"), len(nums)))
        if q.json is None or q.json["op"] == "search":
            s = resp[i]
            i += 1
            snums, relaxed = ref.search(q.ast)
            bad += check_search(ref, q, snums, ref.ids(snums), s)
            if s and s.get("ok") and bool(s.get("relaxed")) != relaxed:
                bad.append("relaxed is %r, want %r" % (s.get("relaxed"), relaxed))
            for nm in ("author", "tag"):
                if (s and s.get("ok") and not s.get("relaxed") and q.json is None
                        and "('filter', '%s'" % nm not in repr(q.ast)):
                    rows += [(q, nm, x["value"], x["count"])
                             for x in (s.get("facets") or {}).get(nm, [])[:3] if '"' not in x["value"]]
        if bad:
            forms_failed[q.form] = forms_failed.get(q.form, 0) + 1
            res.fail(what, "\n".join(bad))
        else:
            res.passed += 1

    # Facet rows agree with the filters (SPEC: author and tag facets count
    # each name, as author: and tag: match each): the query with the row's
    # filter added counts the row's count.
    fq = []
    for q, nm, v, c in rows[:300]:
        body = siftref.render(q.ast)
        fq.append('COUNT %s %s:"%s"' % ("(%s)" % body if body else "", nm, v))
    fresp, _ = sift.query_batch(idx, fq) if fq else ([], None)
    for (q, nm, v, c), line, r in zip(rows, fq, fresp):
        res.ok(r and r.get("ok") and r.get("count") == c,
               "[%s] facet row %s=%s (%d) agrees with %s" % (name, nm, v, c, line), sift.short(r))
    res.note("[%s] %d author and tag facet rows checked against their filters" % (name, len(fq)))

    # GET
    for d in gets:
        r = resp[i]
        i += 1
        res.ok(r and r.get("ok") and check_get(d, r.get("doc") or {}) == [],
               "[%s] GET %s" % (name, d.id),
               sift.short(r) if not (r and r.get("ok")) else "; ".join(check_get(d, r.get("doc") or {})))
    st = resp[i]
    res.ok(st and st.get("ok") and st.get("docs") == len(ref.docs), "[%s] STATS docs" % name,
           "got %s, want %d" % (sift.short(st), len(ref.docs)))
    if forms_failed:
        res.note("[%s] failures by form: %s" % (name, json.dumps(forms_failed, sort_keys=True)))
    return idx


def check_search(ref, q, nums, want_ids, s):
    bad = []
    if not s or not s.get("ok"):
        return ["SEARCH failed: %s" % sift.short(s)]
    total = s.get("total")
    if total != len(nums):
        bad.append("total %s, want %d" % (total, len(nums)))
    if s.get("total_exact") is not True:
        bad.append("total_exact is %r" % s.get("total_exact"))
    hits = s.get("hits") or []
    ids = [h.get("id") for h in hits]
    if len(set(ids)) != len(ids):
        bad.append("duplicate ids in hits")
    order = expected_order(q)
    if q.form == "paging":
        # a page: its date keys are the reference's keys at those ranks
        if order:
            keys = ref.ordered_keys(nums, order)[q.offset:q.offset + q.limit]
            got = [ref.by_id[x].sortkey if x in ref.by_id else "?" for x in ids]
            if got != keys:
                bad.append("page keys %s, want %s" % (got[:6], keys[:6]))
        else:
            want_n = max(0, min(q.limit, len(nums) - q.offset))
            if len(ids) != want_n:
                bad.append("page has %d hits, want %d" % (len(ids), want_n))
        extra = set(ids) - want_ids
        if extra:
            bad.append("hits outside the reference set: %s" % fmt_ids(extra))
        return bad
    if len(nums) <= q.limit:
        got = set(ids)
        if got != want_ids:
            bad.append("ids differ: missing %s; unexpected %s"
                       % (fmt_ids(want_ids - got), fmt_ids(got - want_ids)))
    else:
        if len(ids) != q.limit:
            bad.append("%d hits, want a full page of %d" % (len(ids), q.limit))
        extra = set(ids) - want_ids
        if extra:
            bad.append("hits outside the reference set: %s" % fmt_ids(extra))
    if order:
        keys = ref.ordered_keys(nums, order)[:len(ids)]
        got = [ref.by_id[x].sortkey if x in ref.by_id else "?" for x in ids]
        if got != keys:
            k = next((j for j in range(min(len(got), len(keys))) if got[j] != keys[j]), None)
            bad.append("%s order: first difference at rank %s: got %s, want %s"
                       % (order, k + 1 if k is not None else "?",
                          got[k:k + 3] if k is not None else got[:3],
                          keys[k:k + 3] if k is not None else keys[:3]))
    if q.facets:
        facets = s.get("facets") or {}
        for nm, lim in q.facets:
            want = [[v, c] for v, c in ref.facets(nums, nm, lim)]
            got = [[x.get("value"), x.get("count")] for x in facets.get(nm, [])]
            if got != want:
                bad.append("facet %s: got %s, want %s" % (nm, sift.short(got, 400), sift.short(want, 400)))
    return bad


def _fffd(s):
    # A run of U+FFFD counts as one: how many replacement characters a
    # repair writes for one bad sequence is not part of the contract.
    return re.sub("\ufffd+", "\ufffd", s) if isinstance(s, str) else s


def check_get(d, doc):
    bad = []
    f = d.f
    for k in ("id", "title", "outlet", "url", "author", "body", "date"):
        if _fffd(doc.get(k)) != _fffd(f.get(k)):
            bad.append("%s: got %s, want %s" % (k, sift.short(doc.get(k), 80), sift.short(f.get(k), 80)))
    if (doc.get("tags") or []) != (f.get("tags") or []):
        bad.append("tags: got %s, want %s" % (doc.get("tags"), f.get("tags")))
    return bad


# ---------------------------------------------------------------------------
# Hand-written queries for the edge corpus (tokenizer agreement)

EDGE_TOKENS = [
    "Al-Qassam", '"al qassam"', "israel's", "Israel\u2019s", "ISRAEL'S", "zaytoun", "ZAYTOUN",
    "Zayt\u00f3un", "\ufb01nal", "final", "1,000", '"1 000"', "3.5", "U.S.", "us", "strasse",
    "stra\u00dfe", "istanbul", "\u0130stanbul", "\u03b1\u03b8\u03b7\u03bd\u03b1", "\u041c\u041e\u0421\u041a\u0412\u0410",
    "\u6771\u4eac\u90fd", "\u30bd\u30cb\u30fc", "\ud55c\uad6d\uc5b4", "\u0645\u062d\u0645\u062f", "\u05e9\u05dc\u05d5\u05dd",
    "x2", "x\u00b2", "1\u20442", "\u00bd", "xii", "\u216b", "\u01c4emal", "dzemal", "ecole", "\u00c9cole",
    "co", "operate", "zero", "width", "snake", "case", "rock'n'roll", "o", "clock", "quoted",
    "covid19", "covid-19", "naive", "cafe", "oeuvre", "\u0153uvre", "fluent", "full", "emoji",
    "1990", "e-mail", "ss", "k", "\u00e5", "\u0131", "s", "\u03bc", "st", "j", "ab", "lone",
    "d'alembert", "alembert", "l'hopital", "hopitaux", "hopital", "hauser", "haus", "ciudad",
    "ciudades", "arbol", "arboles", "stadte", "stadt", "nul", "sep", "badutf", "eight", "bad",
    "seq", '"bad seq"', '"eight bad"', "badseq",
    "x" * 230, "x" * 200, "x" * 199, "\u00e9" * 130, "e" * 100, "\u0436" * 101 + "q", "\u0436" * 100,
    "hopit*", "zayt*", "isra*", "\u00e9co*", "\u0436\u0436\u0436*", "caf*", "rock'n*", "title:zaytoun",
    'title:"al qassam"', "title:al-qassam", "outlet:aljazeera", 'outlet:"Al Jazeera"',
    "outlet:AL-JAZEERA", "outlet:reuters", 'outlet:"The Observer (New York)"',
    "outlet:theobservernewyork", 'outlet:"O\'Reilly Media"', "outlet:oreillymedia",
    'outlet:"S\u00fcddeutsche Zeitung"', "outlet:suddeutschezeitung", "outlet:cafepress",
    "outlet:\u6771\u4eac\u65b0\u805e", "outlet:foxnews", 'outlet:"fox news"',
    "author:janedoe", 'author:"John Smith"', "author:anagarcia", 'author:"Garc\u00eda, Ana"',
    "author:boblI", "author:renedupont", 'author:"Dupont, Ren\u00e9"', "author:dupont",
    "author:wesson", "author:co", "author:smithandwessonandco", "tag:whitehouse",
    'tag:"White House"', "tag:elections", "tag:\u00c9LECTIONS", "tag:gaza",
    "date:2023-11-02", "date:2023-11", "date:2024-02-29", "date:2022-12-31", "date:2023-01-01",
    "date:2021-06", "date:..2019", "date:2024..", "date:2023-11-02..2023-11-02",
    "-date:2023", "NOT date:2019..2022",
]


def edge_ast(tok):
    """AST of one hand-written edge query token (mirrors the grammar)."""
    neg = False
    if tok.startswith("-"):
        neg, tok = True, tok[1:]
    elif tok.startswith("NOT "):
        neg, tok = True, tok[4:]
    m = re.match(r'^(title|outlet|author|tag|date):(.*)$', tok)
    field = "text"
    if m:
        f, v = m.group(1), m.group(2)
        if f == "date":
            node = ("date", v)
            return ("not", node) if neg else node
        if f in ("outlet", "author", "tag"):
            if v.startswith('"'):
                v = v[1:-1]
            node = ("filter", f, v)
            return ("not", node) if neg else node
        field, tok = "title", v
    if tok.startswith('"'):
        words = tokenize(tok[1:-1])
        node = ("phrase", words, field, "quote", tok[1:-1])
    elif tok.endswith("*"):
        words = tokenize(tok[:-1])
        node = ("prefix", words[0], field)
    else:
        words = tokenize(tok)
        node = (("word", words[0], field, tok) if len(words) == 1
                else ("phrase", words, field, "bare", tok))
    return ("not", node) if neg else node


def check_edge_tokens(res, idx, ref):
    reqs = []
    asts = []
    for t in EDGE_TOKENS:
        asts.append(edge_ast(t))
        reqs.append("COUNT " + t)
        reqs.append("SEARCH " + t + " limit:1000")
    resp, proc = sift.query_batch(idx, reqs)
    for k, (t, ast) in enumerate(zip(EDGE_TOKENS, asts)):
        nums = ref.eval(ast)
        snums, _ = ref.search(ast)
        c, s = resp[2 * k], resp[2 * k + 1]
        bad = []
        if not c or c.get("count") != len(nums):
            bad.append("COUNT %s, want %d" % (sift.short(c), len(nums)))
        if not s or not s.get("ok"):
            bad.append("SEARCH failed: %s" % sift.short(s))
        else:
            got = {h["id"] for h in s.get("hits", [])}
            want = ref.ids(snums)
            if got != want:
                bad.append("ids: missing %s; unexpected %s" % (fmt_ids(want - got), fmt_ids(got - want)))
        if bad:
            res.fail("[edge] token query %s (reference AST %s)" % (t, ast), "\n".join(bad))
        else:
            res.passed += 1


# Canonically equivalent spellings (precomposed / decomposed) must give the
# same words: each pair is indexed as two articles and searched both ways.
CANON_PAIRS = [
    ("\u00e9t\u00e9", "e\u0301te\u0301"), ("\u00c5ngstr\u00f6m", "A\u030angstro\u0308m"),
    ("\u01d6ber", "u\u0308\u0304ber"), ("\u00f1and\u00fa", "n\u0303andu\u0301"),
    ("\ud55c\uad6d", "\u1112\u1161\u11ab\u1100\u116e\u11a8"), ("\u1fb3lpha", "\u03b1\u0345lpha"),
    ("\u1f00\u03b8\u03b7\u03bd\u1fb3", "\u03b1\u0313\u03b8\u03b7\u03bd\u03b1\u0345"),
    ("\u0958ar", "\u0915\u093car"), ("\u1e69mall", "s\u0323\u0307mall"),
]


def check_canonical(res):
    tmp = sift.scratch("ref-canon")
    path = tmp / "canon.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for k, (a, b) in enumerate(CANON_PAIRS):
            f.write(json.dumps({"id": "c%d-nfc" % k, "title": "pair%d %s" % (k, a)}) + "\n")
            f.write(json.dumps({"id": "c%d-nfd" % k, "title": "pair%d %s" % (k, b)}) + "\n")
    p = sift.index(tmp / "index", [path], "--quiet")
    if not res.ok(p.returncode == 0, "[canon] indexer exits 0", p.stderr.decode("utf-8", "replace")):
        return
    ref = siftref.Corpus().add_file(str(path)).build()
    reqs, asts = [], []
    for k, (a, b) in enumerate(CANON_PAIRS):
        for form in (a, b):
            words = tokenize(form)
            reqs.append("SEARCH %s pair%d" % (form, k))
            asts.append(("and", [("word", w, "text") for w in words + ["pair%d" % k]]))
    r, _ = sift.query_batch(tmp / "index", reqs)
    for req, ast, x in zip(reqs, asts, r):
        want = ref.ids(ref.eval(ast))
        got = {h["id"] for h in (x or {}).get("hits", [])}
        res.ok(len(want) == 2 and got == want,
               "[canon] %s finds both spellings (%s)" % (req, ascii(req)),
               "got %s, want %s" % (sorted(got), sorted(want)))


# ---------------------------------------------------------------------------


def main():
    res = sift.Results("test_reference")
    picked = sys.argv[1:] or list(filter(None, os.environ.get("SIFT_REF_ONLY", "").split(",")))
    only = set(picked or ("edge", "gen", "kit"))
    sift.require_binaries(res, ("sift-indexer", "sift-query"))
    # a scratch directory per selection: CTest runs the corpora in parallel
    tmp = sift.scratch("-".join(["ref-data"] + sorted(picked)))

    # 1. edge corpus (always available)
    edge = tmp / "edge.jsonl"
    if "edge" not in only:
        edge = None
    if edge:
        write_edge_corpus(edge, SEED, 500)
        ref = siftref.Corpus().add_file(str(edge)).build()
        idx = check_corpus(res, "edge", [str(edge)], ref, SEED, 0.6 * SCALE, BUILD["edge"])
        if idx is not None:
            check_edge_tokens(res, idx, ref)

    if "edge" in only:
        check_canonical(res)

    # 2. generated corpus
    if "gen" not in only:
        pass
    else:
        gen = tmp / "gen.jsonl"
        try:
            if not sift.have("sift-gen"):
                raise RuntimeError("sift-gen is missing in %s" % sift.BIN)
            sift.generate(gen, 3000, SEED % 100000, "--lang-mix", "--bad-lines")
        except Exception as e:  # noqa: BLE001
            res.fail("sift-gen runs", "%s\n(the generated-corpus cases run on the Python "
                     "generator's corpus instead)" % e)
            sift.py_generate(gen, 3000, SEED, (40, 300))
        if gen:
            t0 = time.time()
            ref = siftref.Corpus().add_file(str(gen)).build()
            res.note("[gen] reference built in %.1f s (%d articles, languages %s)"
                     % (time.time() - t0, len(ref.docs), ",".join(ref.algos)))
            check_corpus(res, "gen", [str(gen)], ref, SEED + 1, SCALE, BUILD["gen"])

    # 3. the kit's real corpus
    files = sift.kit_subset(tmp / "part01-head.jsonl", 4000) if "kit" in only else False
    if files is False:
        pass
    elif files is None:
        res.note("SKIPPED [kit]: no kit corpus at %s (these cases did not run)" % sift.CORPUS_DIR)
    else:
        # index the part-01 head compressed, to cover .jsonl.zst input too
        zst = str(files[1]) + ".zst"
        sift.run(["zstd", "-q", "-f", "-3", files[1], "-o", zst])
        files = [files[0], zst]
        t0 = time.time()
        ref = siftref.Corpus()
        for f in files:
            ref.add_file(f)
        ref.build()
        res.note("[kit] reference built in %.1f s (%d articles)" % (time.time() - t0, len(ref.docs)))
        check_corpus(res, "kit", files, ref, SEED + 2, SCALE, BUILD["kit"])
    res.finish()


if __name__ == "__main__":
    main()
