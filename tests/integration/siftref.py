"""siftref: an independent reference implementation of Sift's search contract.

Written from SPEC.md ("Words", "Corpus format", "Query language") and the
semantics fixed in shared/qp.h and shared/schema.h, in plain Python (standard
library + Debian's python3-snowballstemmer).  It shares no code with the C
engine: the integration tests compute every answer here, straight from the
corpus files, and require the engine to agree exactly.

Parts:
  * tokenize()/normalize()/tok_key(): the word rules (unicodedata only);
    analyze(): the words with their text as written and the closed forms of
    hyphenated runs (`cease-fire` -> `ceasefire`, at the run's first word).
  * Stemmers: Snowball by ISO 639-1 code or algorithm name, English default;
    stem_word(): every algorithm but English/Porter stems the word with its
    accents (fold()), and the stem is then stripped of them.
  * Corpus: loads .jsonl / .jsonl.zst (zstd -dc) applying the record rules
    (bad lines skipped with a reason, later duplicates replace earlier ones,
    bad dates -> undated, invalid UTF-8 repaired) and keeps, per article,
    the words of title and body, stems, filter keys, day and sort key.
  * A query AST and its evaluator (ids matching), facets, date sorting, and a
    renderer from the AST to the query language of SPEC.md.

AST (tuples):
  ('word', w, field[, typed])  field: 'text' (title or body) or 'title';
                              typed: the word as written (its accents)
  ('phrase', [w...], field, style[, typed])  style: 'quote' or 'bare' (w1-w2
                              token); typed: the text as written, whose
                              hyphenated runs also match closed
  ('prefix', p, field)
  ('near', [kids], n)         kids: 'word' (matched unstemmed) or 'prefix'
  ('filter', field, value)    field: 'outlet', 'author', 'tag'
  ('filter', field, value, surface, 'prefix')   outlet:fox*: names whose key
                              starts with tok_key(value)
  ('date', spec)              spec as written after "date:" (2023, 2023-11..)
  ('and', [kids]), ('or', [kids]), ('not', kid)
  ('all',)                    no condition (every article)
"""

import bisect
import calendar
import collections
import datetime
import json
import re
import subprocess
import sys
import unicodedata

import snowballstemmer

MAX_WORD = 200  # bytes of a normalized word
TITLE_GAP = 100  # schema.h SCHEMA_TITLE_GAP: body positions start at T + 100
MAX_ID = 240  # bytes of an id
DEFAULT_MAX_RECORD = 64 * 1024 * 1024

# ---------------------------------------------------------------------------
# Words


def _class_ranges(pred):
    out = []
    start = None
    prev = None
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            ok = False
        else:
            ok = pred(unicodedata.category(chr(cp)))
        if ok:
            if start is None:
                start = cp
            prev = cp
        elif start is not None:
            out.append((start, prev))
            start = None
    if start is not None:
        out.append((start, prev))
    return "".join(
        ("\\U%08x" % a) if a == b else ("\\U%08x-\\U%08x" % (a, b)) for a, b in out
    )


_LNM = _class_ranges(lambda c: c[0] in "LNM")
_L = _class_ranges(lambda c: c[0] == "L")
# A maximal run of letters, digits and marks; an apostrophe (' or U+2019)
# with a letter on each side joins two runs.
WORD_RE = re.compile(
    "[%s]+(?:(?<=[%s])['\u2019](?=[%s])[%s]+)*" % (_LNM, _L, _L, _LNM)
)

_norm_cache = {}


def _truncate(w):
    b = w.encode("utf-8")
    if len(b) <= MAX_WORD:
        return w
    b = b[:MAX_WORD]
    return b.decode("utf-8", "ignore")  # drops a cut character at the end


def normalize(raw):
    """Normalize one word (as found by WORD_RE): compatibility decomposition,
    case folding, marks removed, recomposition, ’ -> ', cut to 200 bytes.
    Returns '' when nothing is left."""
    w = _norm_cache.get(raw)
    if w is not None:
        return w
    if raw.isascii():
        w = raw.lower()
        w = w if len(w) <= MAX_WORD else w[:MAX_WORD]
        if len(_norm_cache) < 2000000:
            _norm_cache[raw] = w
        return w
    s = unicodedata.normalize("NFKD", raw.replace("\u2019", "'"))
    s = unicodedata.normalize("NFKD", s.casefold())
    s = "".join(c for c in s if unicodedata.category(c)[0] != "M")
    s = unicodedata.normalize("NFC", s).replace("\u2019", "'")
    s = _truncate(s)
    if len(_norm_cache) < 2000000:
        _norm_cache[raw] = s
    return s


# The same rule with Python's \w, much faster than the big classes above; it
# is exact for a text whose non-ASCII characters are all letters (L*),
# decimal digits (Nd) or neither word characters nor L/N/M (checked per text).
FAST_WORD_RE = re.compile(r"[^\W_]+(?:(?<=[^\W\d_])['\u2019](?=[^\W\d_])[^\W_]+)*")
_W1 = re.compile(r"\w")
_fast_ok = {}


def _char_fast_ok(c):
    ok = _fast_ok.get(c)
    if ok is None:
        cat = unicodedata.category(c)
        if cat[0] == "L" or cat == "Nd":
            ok = True
        else:
            ok = cat[0] not in "NM" and not _W1.match(c)
        _fast_ok[c] = ok
    return ok


def find_words(text):
    """The raw words of text (before normalization)."""
    if text.isascii() or all(_char_fast_ok(c) for c in set(text) if ord(c) > 127):
        return FAST_WORD_RE.findall(text)
    return WORD_RE.findall(text)


def tokenize(text):
    """The normalized words of text, in order."""
    if not text:
        return []
    nc = _norm_cache
    out = [nc.get(raw) or normalize(raw) for raw in find_words(text)]
    if "" in out:
        out = [w for w in out if w]
    return out


def fold(raw):
    """A word case-folded with its accents kept (tok.h tok_fold)."""
    s = unicodedata.normalize("NFKD", raw.replace("\u2019", "'"))
    s = unicodedata.normalize("NFKD", s.casefold())
    s = unicodedata.normalize("NFC", s).replace("\u2019", "'")
    return _truncate(s)


def fold_key(text):
    """The folds of the words of text, concatenated, cut to 200 bytes."""
    return _truncate("".join(fold(r) for r in find_words(text)))


# A hyphen joins two words when it stands between two letters (the last
# non-mark character before it, the character after it); dashes do not.
HYPHENS = "-\u00ad\u2010\u2011"
MAX_RUN = 4  # words of a run that has a closed form


def _ends_in_letter(raw):
    for c in reversed(raw):
        cat = unicodedata.category(c)
        if cat[0] != "M":
            return cat[0] == "L"
    return False


def analyze(text):
    """(words, raws, closed) of text: the normalized words, each one's text as
    written, and the closed forms of its hyphenated runs as (index of the
    run's first word, number of words, closed form, the run's text)."""
    words, raws, spans, closed = [], [], [], []
    if not text:
        return words, raws, closed
    rx = FAST_WORD_RE if text.isascii() or all(
        _char_fast_ok(c) for c in set(text) if ord(c) > 127) else WORD_RE
    for m in rx.finditer(text):
        w = normalize(m.group())
        if w:
            words.append(w)
            raws.append(m.group())
            spans.append((m.start(), m.end()))
    if not any(h in text for h in HYPHENS):
        return words, raws, closed
    i = 0
    while i < len(words):
        j = i
        while (j + 1 < len(words) and spans[j + 1][0] == spans[j][1] + 1
               and text[spans[j][1]] in HYPHENS and _ends_in_letter(raws[j])
               and unicodedata.category(raws[j + 1][0])[0] == "L"):
            j += 1
        k = j - i + 1
        if 2 <= k <= MAX_RUN:
            c = "".join(words[i:j + 1])
            if len(c.encode("utf-8")) <= MAX_WORD:
                closed.append((i, k, c, text[spans[i][0]:spans[j][1]]))
        i = j + 1
    return words, raws, closed


def raw_words(text):
    """(raw, normalized) pairs of text."""
    out = []
    for raw in find_words(text or ""):
        w = normalize(raw)
        if w:
            out.append((raw, w))
    return out


def tok_key(s):
    """Filter key: the concatenation of the normalized words of s."""
    return "".join(tokenize(s or ""))


MAX_NAME = 511  # schema.h SCHEMA_MAX_NAME: longer names are not keyed alone


def author_names(author):
    """The names an author string lists (separated by ',', ';' or ' and '):
    [author] when it lists one, else each name of at most MAX_NAME bytes."""
    if not author:
        return []
    parts = re.split(r",|;| and ", author)
    if len(parts) == 1:
        return parts
    return [p for p in parts if len(p.encode("utf-8")) <= MAX_NAME]


def author_keys(author):
    """Keys author: matches: the whole string's, and each name's."""
    keys = {tok_key(n) for n in author_names(author)}
    if author:
        keys.add(tok_key(author))
    return keys - {""}


_SPACES = " \t\r\n\f\v"


def name_pairs(names):
    """{(key, spelling)} of names, the spelling trimmed of ASCII space."""
    return {(tok_key(n), n.strip(_SPACES)) for n in names} - {("", "")} \
        if names else set()


# ---------------------------------------------------------------------------
# Stemming

# ISO 639-1 codes of the Snowball algorithms.
_CODES = {
    "arabic": "ar", "armenian": "hy", "basque": "eu", "catalan": "ca", "danish": "da",
    "dutch": "nl", "english": "en", "finnish": "fi", "french": "fr", "german": "de",
    "greek": "el", "hindi": "hi", "hungarian": "hu", "indonesian": "id", "irish": "ga",
    "italian": "it", "lithuanian": "lt", "nepali": "ne", "norwegian": "no",
    "portuguese": "pt", "romanian": "ro", "russian": "ru", "serbian": "sr",
    "spanish": "es", "swedish": "sv", "tamil": "ta", "turkish": "tr", "yiddish": "yi",
}
_ALGOS = set(snowballstemmer.algorithms())
_CODE_ALGO = {c: a for a, c in _CODES.items() if a in _ALGOS}


def lang_algorithm(lang, default="english"):
    """Snowball algorithm for a document's lang: an ISO 639-1 code (any
    case, optionally with a region: pt-BR, en_GB) or an algorithm name in
    any case ("french", "Porter"); unknown or absent -> default (the
    index's language)."""
    if not lang:
        return default
    if len(lang) == 2 or (len(lang) > 2 and lang[2] in "-_"):
        return _CODE_ALGO.get(lang[:2].lower(), default)
    return lang.lower() if lang.lower() in _ALGOS else default


class Stemmers:
    def __init__(self):
        self._st = {}
        self._cache = {}

    def cache(self, algo):
        """A dict word -> stem for algo, filled by stem_all()."""
        return self._cache.setdefault(algo, {})

    def stem_all(self, algo, words):
        c = self.cache(algo)
        missing = [w for w in words if w not in c]
        if missing:
            st = self._st.get(algo)
            if st is None:
                st = self._st[algo] = snowballstemmer.stemmer(algo)
            for w, s in zip(missing, st.stemWords(missing)):
                c[w] = s
        return c

    def stem(self, algo, word):
        c = self._cache.get(algo)
        if c is not None:
            s = c.get(word)
            if s is not None:
                return s
        return self.stem_all(algo, [word])[word]


STEMMERS = Stemmers()


def reads_accents(algo):
    return algo not in ("english", "porter")


_fold_stem = {}


def stem_word(algo, w, raw):
    """The stem of normalized word w written raw (tok.h tok_stem_word)."""
    if not reads_accents(algo) or raw.isascii():
        return STEMMERS.stem(algo, w)
    key = (algo, raw)
    s = _fold_stem.get(key)
    if s is None:
        s = STEMMERS.stem(algo, fold_key(raw))
        if not s.isascii():
            s = tok_key(s) or STEMMERS.stem(algo, w)
        if len(_fold_stem) < 2000000:
            _fold_stem[key] = s
    return s

# ---------------------------------------------------------------------------
# Dates

_DATE_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?"
    r"(?:[Zz]|[+-](\d{2})(?::?(\d{2}))?)?)?$"
)


def valid_day(y, m, d):
    if y < 1 or y > 9999 or m < 1 or m > 12 or d < 1:
        return False
    mdays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
    if m == 2 and ((y % 4 == 0 and y % 100 != 0) or y % 400 == 0):
        mdays = 29
    return d <= mdays


def parse_doc_date(s):
    """(day 'YYYYMMDD', sortkey 'YYYYMMDDhhmmss') or None for a bad date."""
    if not s.isascii():
        return None
    m = _DATE_RE.match(s)
    if not m:
        return None
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not valid_day(y, mo, d):
        return None
    h = int(m.group(4) or 0)
    mi = int(m.group(5) or 0)
    se = int(m.group(6) or 0)
    if h > 23 or mi > 59 or se > 60:
        return None
    if m.group(7) is not None:
        if int(m.group(7)) > 23 or int(m.group(8) or 0) > 59:
            return None
    day = "%04d%02d%02d" % (y, mo, d)
    return day, day + "%02d%02d%02d" % (h, mi, se)


def parse_date_end(s, end):
    """A query date end (YYYY, YYYY-MM, YYYY-MM-DD) -> inclusive YYYYMMDD int
    (lo end: first day; hi end: last day, months end on 31).  None if bad."""
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", s)
    if not m:
        return None
    y = int(m.group(1))
    if y < 1:
        return None
    if m.group(3):
        mo, d = int(m.group(2)), int(m.group(3))
        if not valid_day(y, mo, d):
            return None
        return y * 10000 + mo * 100 + d
    if m.group(2):
        mo = int(m.group(2))
        if mo < 1 or mo > 12:
            return None
        return y * 10000 + mo * 100 + (31 if end else 1)
    return y * 10000 + (1231 if end else 101)


def date_bounds(spec):
    """'2023' / '2023-11..' / '..2023-12' / 'A..B' -> (lo, hi) with None for
    an open end.  ValueError when malformed."""
    if ".." in spec:
        a, b = spec.split("..", 1)
        lo = parse_date_end(a, False) if a else None
        hi = parse_date_end(b, True) if b else None
        if (a and lo is None) or (b and hi is None) or (not a and not b):
            raise ValueError("bad date " + spec)
    else:
        lo = parse_date_end(spec, False)
        hi = parse_date_end(spec, True)
        if lo is None:
            raise ValueError("bad date " + spec)
    if lo is not None and hi is not None and lo > hi:
        raise ValueError("empty range " + spec)
    return lo, hi


# ---------------------------------------------------------------------------
# Corpus


class BadRecord(Exception):
    pass


def _reject_constant(name):
    raise ValueError("not JSON: " + name)


def _has_surrogate(s):
    return any(0xD800 <= ord(c) <= 0xDFFF for c in s)


def parse_record(line_bytes):
    """One JSON Lines record -> dict of the article's fields (absent fields
    omitted; 'date_bad' set when a date was given but not understood).
    Raises BadRecord(reason) for a line that must be skipped."""
    text = line_bytes.decode("utf-8", "replace")
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except ValueError as e:
        raise BadRecord("not valid JSON: %s" % e)
    if not isinstance(obj, dict):
        raise BadRecord("line is not a JSON object")
    strings = []

    def opt_str(key):
        v = obj.get(key)
        if v is None:
            return None
        if not isinstance(v, str):
            raise BadRecord("field '%s' must be a string" % key)
        strings.append(v)
        return v.replace("\0", " ") if v else None

    idv = obj.get("id")
    if idv is None:
        raise BadRecord("missing id")
    if not isinstance(idv, str):
        raise BadRecord("id must be a string")
    n = len(idv.encode("utf-8", "surrogatepass"))
    if n == 0:
        raise BadRecord("id is empty")
    if n > MAX_ID:
        raise BadRecord("id too long")
    if any((ord(c) < 0x20 and c != "\0") or ord(c) == 0x7F for c in idv):
        raise BadRecord("id contains a control character")
    strings.append(idv)
    doc = {"id": idv.replace("\0", " ")}
    for key in ("title", "outlet", "date", "url", "author", "lang", "body"):
        v = opt_str(key)
        if v is not None:
            doc[key] = v
    tags = obj.get("tags")
    if tags is not None:
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise BadRecord("field 'tags' must be an array of strings")
        strings.extend(tags)
        tags = [t.replace("\0", " ") for t in tags if t]
        if tags:
            doc["tags"] = tags
    if any(_has_surrogate(s) for s in strings):
        # jansson refuses a lone surrogate escape: the line is not valid JSON
        raise BadRecord("not valid JSON: lone surrogate")
    if "date" in doc:
        pd = parse_doc_date(doc["date"])
        if pd is None:
            doc["date_bad"] = doc.pop("date")
        else:
            doc["day"], doc["sortkey"] = pd
    return doc


def read_lines(path, max_record=DEFAULT_MAX_RECORD):
    """(line number, bytes without the line end) of a .jsonl or zstd file;
    blank lines (only spaces and tabs) skipped; over-long lines yielded as
    (n, None)."""
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic == b"\x28\xb5\x2f\xfd":
        data = subprocess.run(
            ["zstd", "-dc", path], check=True, stdout=subprocess.PIPE
        ).stdout
    else:
        with open(path, "rb") as f:
            data = f.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for i, line in enumerate(lines, 1):
        if line.endswith(b"\r"):
            line = line[:-1]
        if len(line) > max_record:
            yield i, None
            continue
        if line.strip(b" \t\r") == b"":
            continue  # a blank line (white space only) is skipped silently
        yield i, line


class Doc:
    __slots__ = (
        "n", "id", "f", "title_words", "title_str", "body_str", "algo",
        "outlet_key", "author_keys", "tag_keys", "day", "sortkey",
        "year", "month", "dayval", "tags", "title_closed", "body_closed",
    )


class Corpus:
    """The reference view of an index built from some corpus files."""

    def __init__(self, default_lang="english"):
        self.default_algo = lang_algorithm(default_lang)
        self.records = {}  # id -> record dict (insertion order = first seen)
        self.skipped = []  # (file, line, reason)
        self.added = 0
        self.replaced = 0

    # -- loading --
    def add_file(self, path, max_record=DEFAULT_MAX_RECORD):
        for n, line in read_lines(path, max_record):
            if line is None:
                self.skipped.append((path, n, "line too long"))
                continue
            try:
                rec = parse_record(line)
            except BadRecord as e:
                self.skipped.append((path, n, str(e)))
                continue
            if rec["id"] in self.records:
                self.replaced += 1
            else:
                self.added += 1
            self.records[rec["id"]] = rec
        return self

    def add_records(self, recs):
        for rec in recs:
            self.records[rec["id"]] = rec

    def build(self):
        """Compute the per-article views and the inverted maps."""
        self.docs = []
        self.by_id = {}
        dd = collections.defaultdict
        inv_word, inv_title, inv_stem, inv_tstem = dd(list), dd(list), dd(list), dd(list)
        algos = set()
        for rec in self.records.values():
            d = Doc()
            d.n = len(self.docs)
            d.id = rec["id"]
            d.f = rec
            tw, traw, tclosed = analyze(rec.get("title", ""))
            bw, braw, bclosed = analyze(rec.get("body", ""))
            d.title_words = tw
            d.title_str = "\x01" + "\x01".join(tw) + "\x01" if tw else ""
            d.body_str = "\x01" + "\x01".join(bw) + "\x01" if bw else ""
            # closed forms by position (phrases match them there)
            d.title_closed = {i: c for i, _, c, _ in tclosed}
            d.body_closed = {i: c for i, _, c, _ in bclosed}
            d.algo = lang_algorithm(rec.get("lang"), self.default_algo)
            algos.add(d.algo)
            d.outlet_key = tok_key(rec.get("outlet", "")) if "outlet" in rec else None
            d.author_keys = author_keys(rec.get("author"))
            d.tags = sorted(set(rec.get("tags", [])))
            d.tag_keys = {tok_key(t) for t in d.tags} - {""}
            d.day = int(rec["day"]) if "day" in rec else None
            d.sortkey = rec.get("sortkey")
            if d.day:
                s = rec["day"]
                d.year, d.month, d.dayval = s[:4], s[:4] + "-" + s[4:6], "%s-%s-%s" % (s[:4], s[4:6], s[6:8])
            else:
                d.year = d.month = d.dayval = None
            n = d.n
            tset = set(tw).union(c for _, _, c, _ in tclosed)
            allset = tset.union(bw, (c for _, _, c, _ in bclosed))
            a = d.algo
            sc = STEMMERS.stem_all(a, allset)
            tstems = {sc[w] for w in tw}
            bstems = {sc[w] for w in bw}
            if reads_accents(a):  # words written with accents stem apart
                tstems = {stem_word(a, w, r) for w, r in zip(tw, traw)}
                bstems = {stem_word(a, w, r) for w, r in zip(bw, braw)}
            tstems.update(stem_word(a, c, r) for _, _, c, r in tclosed)
            bstems.update(stem_word(a, c, r) for _, _, c, r in bclosed)
            for w in allset:
                inv_word[w].append(n)
            for s in tstems | bstems:
                inv_stem[(a, s)].append(n)
            for w in tset:
                inv_title[w].append(n)
            for s in tstems:
                inv_tstem[(a, s)].append(n)
            self.docs.append(d)
            self.by_id[d.id] = d
        # Inverted maps: word/stem -> list of article numbers (ascending).
        self.inv_word, self.inv_title = dict(inv_word), dict(inv_title)
        self.inv_stem, self.inv_tstem = dict(inv_stem), dict(inv_tstem)
        # Query words are stemmed with every language articles use, each
        # stem matching only articles of that language.
        self.algos = sorted(algos) if algos else [self.default_algo]
        # A query word also matches itself (any accents) when some language
        # stems words with their accents (the engine's stemmers: the
        # documents' languages and the index's default).
        self.accents = any(reads_accents(a) for a in algos | {self.default_algo})
        self.vocab = sorted(inv_word)
        self.tvocab = sorted(inv_title)
        self.all = frozenset(range(len(self.docs)))
        return self

    # -- evaluation --
    def _stem_match(self, w, title, raw=None, itself=True):
        inv = self.inv_tstem if title else self.inv_stem
        # An article matches when one of its words has, in the article's
        # language, the stem the query word has in that same language.
        out = set()
        for algo in self.algos:
            out.update(inv.get((algo, stem_word(algo, w, raw or w)), ()))
        if itself and self.accents:
            out.update((self.inv_title if title else self.inv_word).get(w, ()))
        return out

    def _phrase_at(self, d, words, title):
        """Whether d has words at consecutive positions, each position's
        word or the closed form standing there."""
        for ws, closed in ((d.title_str, d.title_closed), (d.body_str, d.body_closed)):
            if title and ws is d.body_str:
                break
            if ("\x01" + "\x01".join(words) + "\x01") in ws:
                return True
            if not closed or not any(t in closed.values() for t in words):
                continue
            seq = ws.split("\x01")[1:-1]
            for p in range(len(seq) - len(words) + 1):
                if all(seq[p + i] == t or closed.get(p + i) == t for i, t in enumerate(words)):
                    return True
        return False

    def _phrase1(self, words, title):
        inv = self.inv_title if title else self.inv_word
        if len(words) == 1:
            return set(inv.get(words[0], ()))
        sets = [inv.get(w) for w in words]
        if any(s is None for s in sets):
            return set()
        sets = [set(s) for s in sets]
        sets.sort(key=len)
        cand = set(sets[0])
        for s in sets[1:]:
            cand &= s
        return {n for n in cand if self._phrase_at(self.docs[n], words, title)}

    MAX_RUNS = 3  # eng.c ENG_MAX_RUNS

    def _phrase(self, words, title, typed=None, bare=False):
        """A phrase; with hyphenated runs in typed, each of its first three
        runs open or closed; a bare token that is one run: the phrase or
        its closed form as a stemmed word."""
        if typed is None:
            return self._phrase1(words, title)
        tw, traw, runs = analyze(typed)
        runs = runs[:self.MAX_RUNS]
        if not runs or tw != list(words):
            return self._phrase1(words, title)
        out = set()
        for c in range(1 << len(runs)):
            if bare and len(runs) == 1 and c == 1 and runs[0][1] == len(tw):
                out |= self._stem_match(runs[0][2], title, runs[0][3])
                continue
            seq, i = [], 0
            for r, (first, k, closed, _) in enumerate(runs):
                seq.extend(tw[i:first])
                seq.extend([closed] if c >> r & 1 else tw[first:first + k])
                i = first + k
            seq.extend(tw[i:])
            out |= self._phrase1(seq, title)
        return out

    def _prefix(self, p, title):
        vocab = self.tvocab if title else self.vocab
        inv = self.inv_title if title else self.inv_word
        out = set()
        i = bisect.bisect_left(vocab, p)
        while i < len(vocab) and vocab[i].startswith(p):
            out.update(inv[vocab[i]])
            i += 1
        return out

    def prefix_expansion(self, p, title=False):
        vocab = self.tvocab if title else self.vocab
        i = bisect.bisect_left(vocab, p)
        j = i
        while j < len(vocab) and vocab[j].startswith(p):
            j += 1
        return j - i

    def _positions(self, d, title):
        """word -> positions in article d: title words 1..T, body words from
        T + TITLE_GAP on (only the title's when title)."""
        pos = collections.defaultdict(list)
        tw = d.title_words
        for i, w in enumerate(tw):
            pos[w].append(i + 1)
        if not title and d.body_str:
            for j, w in enumerate(d.body_str[1:-1].split("\x01")):
                pos[w].append(len(tw) + TITLE_GAP + j)
        return pos

    def _near(self, kids, n):
        """Articles with one position per operand, all within n of each
        other (largest - smallest <= n), in any order."""
        cand = None
        for k in kids:
            title = k[2] == "title"
            s = self._prefix(k[1], title) if k[0] == "prefix" else set(
                (self.inv_title if title else self.inv_word).get(k[1], ()))
            cand = s if cand is None else cand & s
        out = set()
        for num in cand:
            d = self.docs[num]
            lists = []
            for k in kids:
                pos = self._positions(d, k[2] == "title")
                if k[0] == "prefix":
                    lists.append(sorted(p for w, ps in pos.items() if w.startswith(k[1]) for p in ps))
                else:
                    lists.append(pos.get(k[1], []))
            if self._within(lists, n):
                out.add(num)
        return out

    @staticmethod
    def _within(lists, n):
        """Is there a window [lo, lo + n] holding a position of each list,
        a different position for each (as Xapian's OP_NEAR: `show NEAR
        show*` needs two words)?  Windows start at a position of some list;
        the positions are assigned by bipartite matching."""
        for lo in sorted({p for ps in lists for p in ps}):
            cands = [[p for p in ps if lo <= p <= lo + n] for ps in lists]
            if not all(cands):
                continue
            owner = {}

            def assign(i, seen):
                for p in cands[i]:
                    if p not in seen:
                        seen.add(p)
                        if p not in owner or assign(owner[p], seen):
                            owner[p] = i
                            return True
                return False

            if all(assign(i, set()) for i in range(len(cands))):
                return True
        return False

    def _filter(self, field, value, prefix=False):
        key = tok_key(value)
        if prefix:
            if field == "outlet":
                return {d.n for d in self.docs if d.outlet_key is not None and d.outlet_key.startswith(key)}
            keys = (lambda d: d.author_keys) if field == "author" else (lambda d: d.tag_keys)
            return {d.n for d in self.docs if any(k.startswith(key) for k in keys(d))}
        if field == "outlet":
            return {d.n for d in self.docs if d.outlet_key == key}
        if field == "author":
            return {d.n for d in self.docs if key in d.author_keys}
        if field == "tag":
            return {d.n for d in self.docs if key in d.tag_keys}
        raise ValueError(field)

    def _date(self, spec):
        lo, hi = date_bounds(spec)
        return {
            d.n
            for d in self.docs
            if d.day is not None
            and (lo is None or d.day >= lo)
            and (hi is None or d.day <= hi)
        }

    def eval(self, node):
        """Set of article numbers matching the AST node."""
        k = node[0]
        if k == "all":
            return set(self.all)
        if k == "word":
            return self._stem_match(node[1], node[2] == "title", node[3] if len(node) > 3 else None)
        if k == "phrase":
            return self._phrase(node[1], node[2] == "title", phrase_typed(node), node[3] == "bare")
        if k == "prefix":
            return self._prefix(node[1], node[2] == "title")
        if k == "filter":
            return self._filter(node[1], node[2], len(node) > 4 and node[4] == "prefix")
        if k == "near":
            return self._near(node[1], node[2])
        if k == "date":
            return self._date(node[1])
        if k == "not":
            return set(self.all) - self.eval(node[1])
        if k == "or":
            out = set()
            for kid in node[1]:
                out |= self.eval(kid)
            return out
        if k == "and":
            # One AND list (nested ANDs flattened, AND being associative):
            # its positive filters on one field -- single filters, or ORs made
            # only of filters on that field -- mean any of them.
            groups = {}
            rest = []
            for kid in self._and_list(node):
                f = self._filter_group(kid)
                if f is None:
                    rest.append(kid)
                elif kid[0] == "filter":
                    groups.setdefault(f, []).append(kid)
                else:
                    groups.setdefault(f, []).extend(kid[1])
            out = set(self.all)
            for kids in groups.values():
                s = set()
                for kid in kids:
                    s |= self.eval(kid)
                out &= s
            for kid in rest:
                out &= self.eval(kid)
            return out
        raise ValueError("bad node %r" % (node,))

    # -- SEARCH: relaxation and match:any (SPEC.md "Query language") --

    def search(self, node):
        """(article numbers, relaxed) that a SEARCH of node answers: when
        it is plain words (filters aside, no operator) ANDed, two or more,
        and matches nothing, it is answered as match:any."""
        nums = self.eval(node)
        if nums or node[0] != "and" or not plain_words(node):
            return nums, False
        if sum(1 for k in self._and_list(node) if has_positive_text(k)) < 2:
            return nums, False
        return self.eval_any(node), True

    def eval_any(self, node):
        """match:any: the root AND's text conditions ORed ("any of the
        words", a word in most articles too); a token of several words (a
        bare phrase) gives its words; filters and exclusions stay."""
        if node[0] != "and":
            return self.eval(node)
        text, rest = [], []
        for k in self._and_list(node):
            if not has_positive_text(k):
                rest.append(k)
            elif k[0] == "phrase" and k[3] == "bare":
                typed = phrase_typed(k)
                tw, traw, runs = analyze(typed)
                if tw != list(k[1]):
                    tw, traw, runs = list(k[1]), list(k[1]), []
                text.append(("or", [("word", w, k[2], r) for w, r in zip(tw, traw)]
                             + [("word", c, k[2], r) for _, _, c, r in runs]))
            else:
                text.append(k)
        return self.eval(("and", [("or", text)] + rest))

    @staticmethod
    def _and_list(node):
        out = []
        for kid in node[1]:
            if kid[0] == "and":
                out.extend(Corpus._and_list(kid))
            else:
                out.append(kid)
        return out

    @staticmethod
    def _filter_group(node):
        if node[0] == "filter":
            return node[1]
        if node[0] == "or" and node[1] and all(k[0] == "filter" and k[1] == node[1][0][1]
                                               for k in node[1]):
            return node[1][0][1]
        return None

    def ids(self, nums):
        return {self.docs[n].id for n in nums}

    # -- facets and order --
    def _names(self, facet):
        """Per article, for the facets of names (SPEC: outlet, author and
        tag facets count each name as its filter matches it):
        {(key, spelling)} of the names it lists, and the key of its whole
        author string when it lists several (author: matches that key
        too)."""
        cache = self.__dict__.setdefault("_names_cache", {})
        if facet not in cache:
            out = []
            for d in self.docs:
                if facet == "tag":
                    names, whole = d.f.get("tags") or [], None
                elif facet == "outlet":
                    names, whole = [d.f["outlet"]] if d.f.get("outlet") else [], None
                else:
                    a = d.f.get("author")
                    names = author_names(a)
                    whole = tok_key(a) if a and len(re.split(r",|;| and ", a)) > 1 else None
                out.append(({(k, s) for k, s in name_pairs(names) if k}, whole))
            cache[facet] = out
        return cache[facet]

    def name_facet(self, nums, facet):
        """{spelling: count} of a facet of names over the articles nums: a
        name counts the articles naming it and those whose whole author
        string has its key, and is shown when some of them names it, in the
        spelling most of those naming it use (ties: the smallest)."""
        names = self._names(facet)
        named, whole, votes = collections.Counter(), collections.Counter(), {}
        for n in nums:
            pairs, w = names[n]
            keys = {k for k, _ in pairs}
            for k in keys:
                named[k] += 1
            for k, sp in pairs:
                votes.setdefault(k, collections.Counter())[sp] += 1
            if w and w not in keys:
                whole[w] += 1
        out = {}
        for k, c in named.items():
            sp = min(votes[k].items(), key=lambda kv: (-kv[1], kv[0]))[0]
            out[sp] = c + whole[k]
        return out

    def facet_values(self, d, facet):
        if facet == "year":
            return [d.year] if d.year else []
        if facet == "month":
            return [d.month] if d.month else []
        if facet == "day":
            return [d.dayval] if d.dayval else []
        raise ValueError(facet)

    def facets(self, nums, facet, limit=10):
        """[(value, count)] most frequent first, ties by value (code point
        order = UTF-8 byte order); limit None = all."""
        if facet in ("outlet", "author", "tag"):
            counts = self.name_facet(nums, facet)
        else:
            counts = {}
            for n in nums:
                for v in self.facet_values(self.docs[n], facet):
                    counts[v] = counts.get(v, 0) + 1
        items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return items if limit is None else items[:limit]

    def sort_key(self, n):
        return self.docs[n].sortkey

    def ordered_keys(self, nums, order):
        """Sort keys of nums in the contract's order (None = undated, last)."""
        dated = sorted(
            (self.docs[n].sortkey for n in nums if self.docs[n].sortkey),
            reverse=(order == "newest"),
        )
        undated = [None] * sum(1 for n in nums if not self.docs[n].sortkey)
        return dated + undated


# ---------------------------------------------------------------------------
# News work: since:/now:, sort:recent, TIMELINE (SPEC "More forms, for news
# work", TIMELINE), written with Python's datetime, not the C calendar.


def _ymd_date(ymd):
    return datetime.date(ymd // 10000, ymd // 100 % 100, ymd % 100)


def _date_ymd(d):
    return d.year * 10000 + d.month * 100 + d.day


def since_bounds(now, n, unit):
    """(lo, hi) YYYYMMDD ints of since:<n><unit> counted from now (an int):
    n days/weeks back, or n calendar months/years back with the day clamped
    to that month's last day."""
    d = _ymd_date(now)
    if unit in "dw":
        lo = d - datetime.timedelta(days=n * (7 if unit == "w" else 1))
    else:
        months = d.year * 12 + d.month - 1 - n * (12 if unit == "y" else 1)
        y, m = divmod(months, 12)
        m += 1
        last = calendar.monthrange(y, m)[1]
        lo = datetime.date(y, m, min(d.day, last))
    return _date_ymd(lo), now


def decay(now, day, halflife):
    """sort:recent's factor: 2^(-age/halflife), age in days (0 when day is
    after now); 0 for an undated article (day None)."""
    if day is None:
        return 0.0
    age = (_ymd_date(now) - _ymd_date(day)).days
    return 1.0 if age <= 0 else 2.0 ** (-age / halflife)


def period_label(by, ymd):
    d = _ymd_date(ymd)
    if by == "day":
        return d.isoformat()
    if by == "week":
        y, w, _ = d.isocalendar()
        return "%04d-W%02d" % (y, w)
    if by == "month":
        return "%04d-%02d" % (d.year, d.month)
    return "%04d" % d.year


def periods(by, lo, hi):
    """Every period label from the one holding day lo to the one holding hi."""
    out = []
    d, end = _ymd_date(lo), _ymd_date(hi)
    while d <= end:
        lab = period_label(by, _date_ymd(d))
        if not out or out[-1] != lab:
            out.append(lab)
        d += datetime.timedelta(days=1)
    return out


def timeline(corpus, nums, by=None, lo=None, hi=None, limit=10):
    """The TIMELINE answer for the matching article numbers nums, with the
    query's date bounds lo/hi (ints, None when open; a month end of 31 is
    brought to the month's real end)."""
    if hi is not None:
        y, m = hi // 10000, hi // 100 % 100
        hi = y * 10000 + m * 100 + min(hi % 100, calendar.monthrange(y, m)[1])
    dated = [n for n in nums if corpus.docs[n].day is not None]
    days = [corpus.docs[n].day for n in dated]
    lo = lo if lo is not None else (min(days) if days else None)
    hi = hi if hi is not None else (max(days) if days else None)
    if by is None:
        span = (_ymd_date(hi) - _ymd_date(lo)).days if lo and hi else 0
        by = "month" if span > 366 else "day"
    out = {"total": len(nums), "by": by, "from": None, "to": None, "series": [], "first": []}
    if lo and hi and lo <= hi:
        out["from"] = _ymd_date(lo).isoformat()
        out["to"] = _ymd_date(hi).isoformat()
        labels = periods(by, lo, hi)
        pts = {lab: {"date": lab, "count": 0, "all": 0, "outlets": set()} for lab in labels}
        for d in corpus.docs:
            if d.day is not None:
                p = pts.get(period_label(by, d.day))
                if p:
                    p["all"] += 1
        for n in dated:
            d = corpus.docs[n]
            p = pts.get(period_label(by, d.day))
            if p:
                p["count"] += 1
                if tok_key(d.f.get("outlet")):  # outlets as outlet: tells them apart
                    p["outlets"].add(tok_key(d.f["outlet"]))
        for lab in labels:
            pts[lab]["outlets"] = len(pts[lab]["outlets"])
            out["series"].append(pts[lab])
    best = {}
    for n in dated:
        d = corpus.docs[n]
        o = tok_key(d.f.get("outlet"))
        if not o:
            continue
        key = (d.sortkey, d.id.encode("utf-8"))
        if o not in best or key < best[o][0]:
            best[o] = (key, d)
    for _, d in sorted(best.values(), key=lambda kv: kv[0])[:limit]:
        e = {"id": d.id, "date": d.f["date"], "outlet": d.f["outlet"]}
        if d.f.get("title"):
            e["title"] = d.f["title"]
        out["first"].append(e)
    return out


# ---------------------------------------------------------------------------
# AST helpers and rendering


def phrase_typed(node):
    """The text of a phrase node as the query gives it to the engine."""
    if len(node) > 4 and node[4] is not None:
        surf = node[4]
        return surf if isinstance(surf, str) else " ".join(surf)
    return None


def has_positive_text(node, neg=False):
    k = node[0]
    if k in ("word", "phrase", "prefix", "near"):
        return not neg
    if k == "not":
        return has_positive_text(node[1], not neg)
    if k in ("and", "or"):
        return any(has_positive_text(c, neg) for c in node[1])
    return False


def has_text(node):
    """Text anywhere in node, excluded text included."""
    k = node[0]
    if k in ("word", "phrase", "prefix", "near"):
        return True
    if k == "not":
        return has_text(node[1])
    if k in ("and", "or"):
        return any(has_text(c) for c in node[1])
    return False


def _and_written(node):
    if node[0] == "not":
        return _and_written(node[1])
    if node[0] in ("and", "or"):
        return (node[0] == "and" and len(node) > 2 and node[2] == "AND") or \
            any(_and_written(c) for c in node[1])
    return False


def plain_words(node):
    """SPEC.md: a SEARCH of "plain words (filters aside, no operators)":
    words, phrases and prefixes ANDed (parentheses around such an AND
    change nothing) beside conditions without text; no AND written, and no
    OR, NOT or NEAR with text in it."""
    if _and_written(node):
        return False
    if node[0] in ("word", "phrase", "prefix"):
        return True
    if node[0] != "and":
        return False
    return all(k[0] in ("word", "phrase", "prefix") or not has_text(k)
               for k in Corpus._and_list(node))


def _bare_ok(s):
    # no delimiter, '*' or ':', nothing qp.c reads as other engines' syntax
    # (its lexical rules), and no operator
    return bool(s) and not any(c in s for c in ' \t"()*:^~?&|<[{!+/') and not s.startswith("-") \
        and s not in ("AND", "OR", "NOT") and not s.startswith("NEAR")


def render(node, rng=None, top=True):
    """The query-language text of an AST.  rng (random.Random) picks among
    equivalent spellings (operator style, case of words, filter values)."""
    k = node[0]
    pick = (lambda seq: seq[0]) if rng is None else rng.choice
    if k == "all":
        return ""
    if k in ("word", "prefix"):
        text = node[1] if len(node) < 4 else node[3]  # optional surface form
        s = text + ("*" if k == "prefix" else "")
        return ("title:" if node[2] == "title" else "") + s
    if k == "phrase":
        surf = node[4] if len(node) > 4 else None
        words = surf or node[1]
        if node[3] == "bare":
            # without a surface form, not a hyphen: that would add the
            # closed form, which the node without its typed text lacks
            s = pick([".", "/"]).join(words) if surf is None else surf
        else:
            s = '"' + " ".join(words) + '"'
        return ("title:" if node[2] == "title" else "") + s
    if k == "filter":
        v = node[3] if len(node) > 3 else node[2]
        if len(node) > 4 and node[4] == "prefix":
            return "%s:%s*" % (node[1], v)
        if not _bare_ok(v):
            v = '"' + v + '"'
        return "%s:%s" % (node[1], v)
    if k == "near":
        op = " NEAR " if node[2] == 10 and (rng is None or rng.random() < 0.5) else " NEAR/%d " % node[2]
        return op.join(render(kid, rng, False) for kid in node[1])
    if k == "date":
        return "date:" + node[1]
    if k == "not":
        kid = node[1]
        style = node[2] if len(node) > 2 else "NOT"
        inner = render(kid, rng, False)
        if kid[0] in ("and", "or"):
            inner = "(" + inner + ")"
        if style == "-":
            return "-" + inner
        return "NOT " + inner
    if k == "and":
        parts = []
        explicit = len(node) > 2 and node[2] == "AND"
        for kid in node[1]:
            s = render(kid, rng, False)
            if kid[0] in ("and", "or"):
                s = "(" + s + ")"
            parts.append(s)
        return (" AND " if explicit else " ").join(parts)
    if k == "or":
        parts = []
        for kid in node[1]:
            s = render(kid, rng, False)
            # AND binds tighter than OR: parentheses optional (node[2])
            if kid[0] == "or" or (kid[0] == "and" and not (len(node) > 2 and node[2] == "bare")):
                s = "(" + s + ")"
            parts.append(s)
        return " OR ".join(parts)
    raise ValueError(node)


if __name__ == "__main__":
    # Small self-check / manual use: siftref.py FILE... prints counts.
    c = Corpus()
    for p in sys.argv[1:]:
        c.add_file(p)
    c.build()
    print("docs", len(c.docs), "skipped", len(c.skipped), "langs", c.algos)
    for s in c.skipped[:20]:
        print("%s:%d: %s" % s)
