/* snip.c: snippet extraction; see snip.h for what a snippet is.
 *
 * One streaming pass tokenizes the body and records match spans by byte
 * offset, keeping only a ring of the last words (for phrases).  It stops as
 * soon as some window of max_bytes holds every query term, which for most
 * queries is at the first matches, so a long article costs little.  The
 * window is then widened with context, cut at white space (or, in text
 * without spaces, at a character boundary), and copied out escaped and
 * marked.
 *
 * Skipping.  In articles whose stemmer keeps a word's first byte
 * (tok_stem_keeps_first), a word can match only when its normalized form
 * starts with the first byte of some query stem, prefix or phrase; for a
 * word that starts with an ASCII letter or digit that is the byte itself,
 * lowercased.  So the scan looks for candidate word starts (such a byte, or
 * a UTF-8 lead byte, after a byte that is not an ASCII letter or digit)
 * with one table lookup per byte, and tokenizes only from the last sure
 * word boundary before each (just after an ASCII separator other than the
 * apostrophe, where tok_next's state is always fresh), plus the ring's
 * length of words after it so that a phrase starting there is seen whole.
 * Skipped words cannot match, so the spans, and the snippet, are those of
 * the full scan (fuzz_snip compares the two); the cost on a long article
 * falls from tokenizing every word to scanning its bytes.  Stemming a body
 * word is still the costly step, so with such a stemmer it happens only for
 * words whose first byte is a query stem's.
 *
 * Parts.  Stored articles come as a head (the start of the body) and a tail
 * (ds.h).  snip_build_part scans what it is given; when the scan runs out of
 * text before it may stop, or the window reaches past the text, it keeps its
 * whole state in the matcher (struct snip_scan: iterator, ring, spans, best
 * window) and asks for more, and the next call with the whole body resumes
 * where it stopped.  The head ends just after white space, so no word is cut
 * by the seam and the resumed scan sees exactly the words of one pass.
 */
#include "snip.h"

#include <stdint.h>
#include <string.h>

#include "buf.h"

enum { SNIP_WORD, SNIP_PHRASE, SNIP_PREFIX };

#define SNIP_MAX_TERMS 64 /* distinct-term counting uses a 64-bit mask */

typedef struct snip_term {
  int kind;
  const char **words; /* normalized query words */
  size_t nwords;
  const char **stems; /* WORD: stem per language */
  size_t *stem_lens;
} snip_term_t;

#define SNIP_MAX_SPANS 4096 /* matches recorded per article */

typedef struct snip_word { /* a word of the ring */
  size_t start, end;
  size_t len;
  char norm[TOK_MAX_WORD + 8];
} snip_word_t;

typedef struct snip_span {
  size_t start, end; /* bytes */
  unsigned term;
} snip_span_t;

struct snip_matcher {
  snip_word_t *ring; /* scratch for snip_build, reused hit after hit */
  struct snip_span *spans;
  size_t ring_cap;
  snip_term_t terms[SNIP_MAX_TERMS];
  size_t nterms;
  tok_stemmer_t *const *stemmers;
  size_t nstemmers;
  unsigned char first_bytes[256]; /* first bytes of any WORD stem */
  unsigned char bytes[256];       /* SNIP_CAND | SNIP_ALNUM per byte */
  unsigned char *keeps_first;     /* per stemmer: tok_stem_keeps_first */
  int full_scan;                  /* snip_matcher_full_scan() */
  struct snip_scan {              /* one body's scan, kept when it must resume */
    int active;                   /* snip_build_part asked for more of this body */
    size_t lang, total, len;      /* the body it was given */
    tok_iter_t it;
    size_t nspans, n, best_first, best_last, stop_at, target, budget;
    unsigned best;
    int skip, pending, finished; /* finished: stopped at stop_at or SNIP_MAX_SPANS */
  } scan;
};

#define SNIP_CAND 1  /* may start a word that matches */
#define SNIP_ALNUM 2 /* ASCII letter or digit: no word starts after one */
#define SNIP_MAX_BACKUP 256 /* bytes looked back for a word boundary */

static int snip_alnum(unsigned c) {
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static int snip_add_leaf(snip_matcher_t *m, arena_t *a, const qp_node_t *n) {
  if (m->nterms == SNIP_MAX_TERMS) return 0;
  snip_term_t *t = &m->terms[m->nterms];
  t->kind = n->kind == QN_WORD ? SNIP_WORD : n->kind == QN_PHRASE ? SNIP_PHRASE : SNIP_PREFIX;
  t->words = n->words;
  t->nwords = n->nwords;
  if (t->kind == SNIP_WORD) {
    t->stems = arena_calloc(a, m->nstemmers ? m->nstemmers : 1, sizeof *t->stems);
    t->stem_lens = arena_calloc(a, m->nstemmers ? m->nstemmers : 1, sizeof *t->stem_lens);
    if (!t->stems || !t->stem_lens) return -1;
    for (size_t i = 0; i < m->nstemmers; i++) {
      size_t sl;
      const char *s = tok_stem(m->stemmers[i], n->words[0], strlen(n->words[0]), &sl);
      if (!(t->stems[i] = arena_strndup(a, s, sl))) return -1;
      t->stem_lens[i] = sl;
      if (sl) m->first_bytes[(unsigned char)s[0]] = 1;
    }
  }
  m->nterms++;
  return 0;
}

static int snip_collect(snip_matcher_t *m, arena_t *a, const qp_node_t *n) {
  if (!n) return 0;
  switch (n->kind) {
    case QN_WORD:
    case QN_PHRASE:
    case QN_PREFIX:
      return n->nwords ? snip_add_leaf(m, a, n) : 0;
    case QN_AND:
    case QN_OR:
    case QN_NEAR: /* its words and prefixes, wherever they stand */
      for (size_t i = 0; i < n->nkids; i++)
        if (snip_collect(m, a, n->kids[i])) return -1;
      return 0;
    default: /* NOT, filters, dates: nothing to mark */
      return 0;
  }
}

snip_matcher_t *snip_matcher_new(arena_t *a, const qp_query_t *q, tok_stemmer_t *const *stemmers,
                                 size_t nstemmers) {
  snip_matcher_t *m = arena_calloc(a, 1, sizeof *m);
  if (!m) return NULL;
  m->stemmers = stemmers;
  m->nstemmers = nstemmers;
  if (snip_collect(m, a, q ? q->root : NULL)) return NULL;
  /* The first bytes of what a matching word normalizes to, then the raw
   * bytes that can start such a word. */
  unsigned char first[256];
  memcpy(first, m->first_bytes, sizeof first);
  for (size_t t = 0; t < m->nterms; t++)
    if (m->terms[t].kind != SNIP_WORD) first[(unsigned char)m->terms[t].words[0][0]] = 1;
  for (unsigned c = 0; c < 256; c++) {
    unsigned lower = c >= 'A' && c <= 'Z' ? c + 32 : c;
    /* A word starts with an ASCII letter or digit or with a UTF-8 lead
     * byte (tok_next takes 0x80-0xC1 for separators). */
    int cand = c >= 0xC2 || (snip_alnum(c) && first[lower]);
    m->bytes[c] = (unsigned char)((cand ? SNIP_CAND : 0) | (snip_alnum(c) ? SNIP_ALNUM : 0));
  }
  m->keeps_first = arena_calloc(a, nstemmers ? nstemmers : 1, 1);
  if (!m->keeps_first) return NULL;
  for (size_t i = 0; i < nstemmers; i++) m->keeps_first[i] = tok_stem_keeps_first(stemmers[i]) != 0;
  m->ring_cap = 1;
  for (size_t t = 0; t < m->nterms; t++)
    if (m->terms[t].nwords > m->ring_cap) m->ring_cap = m->terms[t].nwords;
  if (m->ring_cap > 64) m->ring_cap = 64; /* longer phrases are not marked */
  m->ring = arena_alloc(a, m->ring_cap * sizeof *m->ring);
  m->spans = arena_alloc(a, SNIP_MAX_SPANS * sizeof *m->spans);
  if (!m->ring || !m->spans) return NULL;
  return m;
}

void snip_matcher_full_scan(snip_matcher_t *m) { m->full_scan = 1; }

/* Does term t match ending at the newest word of the ring (ring[(k + i) %
 * cap] is the i-th word, n words held)?  Returns the index in the ring of its
 * first word, or SIZE_MAX. */
static size_t snip_match(const snip_matcher_t *m, const snip_term_t *t, size_t lang,
                         const snip_word_t *ring, size_t cap, size_t n, const char **stem,
                         size_t *stem_len) {
  const snip_word_t *w = &ring[(n - 1) % cap];
  switch (t->kind) {
    case SNIP_WORD:
      if (lang >= m->nstemmers) return SIZE_MAX;
      if (!*stem) *stem = tok_stem(m->stemmers[lang], w->norm, w->len, stem_len);
      return (*stem_len == t->stem_lens[lang] && memcmp(*stem, t->stems[lang], *stem_len) == 0)
                 ? n - 1
                 : SIZE_MAX;
    case SNIP_PREFIX: {
      size_t pl = strlen(t->words[0]);
      return (w->len >= pl && memcmp(w->norm, t->words[0], pl) == 0) ? n - 1 : SIZE_MAX;
    }
    default:
      if (t->nwords > n || t->nwords > cap) return SIZE_MAX;
      for (size_t k = 0; k < t->nwords; k++) {
        const snip_word_t *x = &ring[(n - t->nwords + k) % cap];
        size_t l = strlen(t->words[k]);
        if (x->len != l || memcmp(x->norm, t->words[k], l) != 0) return SIZE_MAX;
      }
      return n - t->nwords;
  }
}

static void snip_put_text(buf_t *b, const char *s, size_t n) {
  const char *run = s, *end = s + n;
  for (const char *p = s; p < end; p++) {
    const char *rep = NULL;
    switch (*p) {
      case '<': rep = "&lt;"; break;
      case '>': rep = "&gt;"; break;
      case '&': rep = "&amp;"; break;
      default:
        if ((unsigned char)*p >= 0x20) continue;
        rep = " "; /* line breaks, tabs and any other control character */
    }
    buf_append(b, run, (size_t)(p - run));
    buf_puts(b, rep);
    run = p + 1;
  }
  buf_append(b, run, (size_t)(end - run));
}

/* Distinct terms among the spans ending within max_bytes before sp[last]. */
static unsigned snip_distinct(const snip_span_t *sp, size_t last, size_t max_bytes, size_t *first) {
  uint64_t seen = 0;
  unsigned distinct = 0;
  size_t j = last + 1;
  while (j > 0 && sp[last].end - sp[j - 1].start <= max_bytes) {
    j--;
    if (!(seen & (1ull << sp[j].term))) distinct++;
    seen |= 1ull << sp[j].term;
  }
  *first = j;
  return distinct;
}

/* The first candidate word start in [from, end): a SNIP_CAND byte not
 * preceded by an ASCII letter or digit; end if there is none. */
static size_t snip_next_candidate(const snip_matcher_t *m, const unsigned char *u, size_t from,
                                  size_t end) {
  int prev_alnum = from > 0 && (m->bytes[u[from - 1]] & SNIP_ALNUM);
  for (size_t p = from; p < end; p++) {
    unsigned k = m->bytes[u[p]];
    if ((k & SNIP_CAND) && !prev_alnum) return p;
    prev_alnum = k & SNIP_ALNUM;
  }
  return end;
}

/* Where tokenizing may resume so that the words from there to q are those
 * the full scan finds: the last position in (lo, q] just after an ASCII
 * byte that is no letter, digit or apostrophe (it ends any word, so
 * tok_next's state is fresh after it), else lo, where the iterator is. */
static size_t snip_boundary(const unsigned char *u, size_t lo, size_t q) {
  for (size_t j = q; j > lo && q - j < SNIP_MAX_BACKUP; j--) {
    unsigned char c = u[j - 1];
    if (c < 0x80 && c != '\'' && !snip_alnum(c)) return j;
  }
  return lo;
}

/* Whether words can be skipped in an article in language lang. */
static int snip_can_skip(const snip_matcher_t *m, size_t lang) {
  if (m->full_scan) return 0;
  for (size_t t = 0; t < m->nterms; t++)
    if (m->terms[t].kind == SNIP_WORD && (lang >= m->nstemmers || !m->keeps_first[lang])) return 0;
  return 1;
}

static int snip_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

const char *snip_build(snip_matcher_t *m, size_t lang, const char *text, size_t len,
                       size_t max_bytes, arena_t *a) {
  int more;
  m->scan.active = 0; /* a body of its own: never a resumed one */
  return snip_build_part(m, lang, text, len, len, max_bytes, a, &more);
}

/* Scan text[0..scan) on from where st stopped.  Returns 1 when it ran out
 * of text, 0 when it stopped at st->stop_at or at SNIP_MAX_SPANS. */
static int snip_scan(snip_matcher_t *m, struct snip_scan *st, size_t lang, const char *text,
                     size_t scan, size_t max_bytes) {
  size_t cap = m->ring_cap;
  snip_word_t *ring = m->ring;
  snip_span_t *sp = m->spans;
  const unsigned char *u = (const unsigned char *)text;
  tok_word_t tw;
  st->it.s = text; /* the same bytes, perhaps more of them */
  st->it.len = scan;
  while (m->nterms && st->nspans < SNIP_MAX_SPANS) {
    if (st->skip && !st->pending && !st->budget) {
      size_t q = snip_next_candidate(m, u, st->it.pos, scan);
      if (q > st->stop_at) return 0;
      if (q >= scan) {
        st->it.pos = scan;
        return 1;
      }
      st->it.pos = snip_boundary(u, st->it.pos, q); /* tok_next resumes there */
      st->n = 0; /* words may have been skipped: a phrase starts afresh */
      st->target = q;
      st->pending = 1;
    }
    if (!tok_next(&st->it, &tw)) return 1;
    if (tw.start > st->stop_at) return 0;
    if (st->pending && tw.end > st->target) st->pending = 0;
    if (m->bytes[u[tw.start]] & SNIP_CAND)
      st->budget = cap - 1; /* a phrase may start here: take its length in words */
    else if (st->budget)
      st->budget--;
    snip_word_t *w = &ring[st->n % cap];
    w->start = tw.start;
    w->end = tw.end;
    w->len = tw.norm_len;
    memcpy(w->norm, tw.norm, tw.norm_len + 1);
    size_t n = ++st->n;
    const char *stem = NULL;
    size_t stem_len = 0;
    int stemmable = m->first_bytes[(unsigned char)w->norm[0]] ||
                    (lang < m->nstemmers && !m->keeps_first[lang]);
    for (size_t t = 0; t < m->nterms && st->nspans < SNIP_MAX_SPANS; t++) {
      if (m->terms[t].kind == SNIP_WORD && !stemmable) continue;
      size_t first = snip_match(m, &m->terms[t], lang, ring, cap, n, &stem, &stem_len);
      if (first == SIZE_MAX) continue;
      size_t k = st->nspans;
      sp[k] = (snip_span_t){ring[first % cap].start, w->end, (unsigned)t};
      size_t from;
      unsigned d = snip_distinct(sp, k, max_bytes, &from);
      if (d > st->best) st->best = d, st->best_first = from, st->best_last = k;
      st->nspans++;
      if (st->best == m->nterms && st->stop_at == SIZE_MAX)
        st->stop_at = sp[st->best_first].start + max_bytes;
    }
  }
  return 0;
}

const char *snip_build_part(snip_matcher_t *m, size_t lang, const char *text, size_t len,
                            size_t total, size_t max_bytes, arena_t *a, int *more) {
  struct snip_scan *st = &m->scan;
  int resume = st->active && st->lang == lang && st->total == total && st->len <= len;
  st->active = 0;
  *more = 0;
  if (!text || len > total) return NULL;
  /* Bytes scanned: those at hand, and those of the whole body. */
  size_t scan = len < SNIP_MAX_SCAN ? len : SNIP_MAX_SCAN;
  size_t scan_all = total < SNIP_MAX_SCAN ? total : SNIP_MAX_SCAN;
  if (!resume) {
    memset(st, 0, sizeof *st);
    tok_iter_init(&st->it, text, scan);
    st->stop_at = SIZE_MAX;
    st->skip = snip_can_skip(m, lang);
  }
  /* Spans, in text order, until a window holds every term and the words
   * that window can show have been seen. */
  if (!st->finished) {
    int ran_out = snip_scan(m, st, lang, text, scan, max_bytes);
    if (ran_out && scan < scan_all) goto more; /* a better window may lie further on */
    st->finished = 1;
  }
  snip_span_t *sp = m->spans;
  size_t nspans = st->nspans, best_first = st->best_first, best_last = st->best_last;

  /* The window: some context before the first chosen match, then up to
   * max_bytes, cut at white space. */
  size_t ws = 0, we = total;
  if (nspans) {
    size_t first = sp[best_first].start;
    size_t span = sp[best_last].end - first;
    size_t context = span < max_bytes ? (max_bytes - span) / 3 : 0;
    if (context > 60) context = 60;
    ws = first > context ? first - context : 0;
    if (ws > 0) {
      size_t k = ws;
      while (k < first && !snip_space(text[k - 1])) k++; /* to a word start */
      ws = k;
    }
  }
  if (total - ws > max_bytes) {
    size_t limit = ws + max_bytes, k = limit;
    if (limit >= len) goto more;
    while (k > ws && !snip_space(text[k])) k--;
    if (k == ws) { /* no space: cut at a character boundary */
      k = limit;
      while (k > ws && ((unsigned char)text[k] & 0xC0) == 0x80) k--;
    }
    we = k;
  } else if (total > len) {
    goto more;
  }

  buf_t b;
  buf_init(&b, 0);
  if (ws > 0) buf_puts(&b, "\xE2\x80\xA6");
  size_t pos = ws;
  for (size_t j = 0; j < nspans; j++) {
    size_t s0 = sp[j].start, e = sp[j].end;
    /* Merge spans that overlap this one (a word inside a phrase). */
    while (j + 1 < nspans && sp[j + 1].start < e) {
      j++;
      if (sp[j].end > e) e = sp[j].end;
    }
    if (s0 < pos || e > we) continue;
    snip_put_text(&b, text + pos, s0 - pos);
    buf_puts(&b, SNIP_OPEN);
    snip_put_text(&b, text + s0, e - s0);
    buf_puts(&b, SNIP_CLOSE);
    pos = e;
  }
  if (we > pos) snip_put_text(&b, text + pos, we - pos);
  while (b.len && b.data[b.len - 1] == ' ') b.len--;
  if (we < total) buf_puts(&b, "\xE2\x80\xA6");
  const char *out = b.err ? NULL : arena_strndup(a, b.data ? b.data : "", b.len);
  buf_fini(&b);
  return out;
more:
  st->active = 1;
  st->lang = lang;
  st->total = total;
  st->len = len;
  *more = 1;
  return NULL;
}
