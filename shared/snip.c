/* snip.c: snippet extraction; see snip.h for what a snippet is.
 *
 * One streaming pass tokenizes the body and records match spans by byte
 * offset, keeping only a ring of the last words (for phrases).  It stops as
 * soon as some window of max_bytes holds every query term, which for most
 * queries is at the first matches, so a long article costs little.  The
 * window is then widened with context, cut at white space (or, in text
 * without spaces, at a character boundary), and copied out escaped and
 * marked.  Stemming a body word is the costly step, so it happens only for
 * words whose first byte equals the first byte of some query stem (Snowball
 * stems keep the word's first letter).
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
};

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
  m->ring_cap = 1;
  for (size_t t = 0; t < m->nterms; t++)
    if (m->terms[t].nwords > m->ring_cap) m->ring_cap = m->terms[t].nwords;
  if (m->ring_cap > 64) m->ring_cap = 64; /* longer phrases are not marked */
  m->ring = arena_alloc(a, m->ring_cap * sizeof *m->ring);
  m->spans = arena_alloc(a, SNIP_MAX_SPANS * sizeof *m->spans);
  if (!m->ring || !m->spans) return NULL;
  return m;
}

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

static int snip_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

const char *snip_build(snip_matcher_t *m, size_t lang, const char *text, size_t len,
                       size_t max_bytes, arena_t *a) {
  if (!text) return NULL;
  size_t scan = len < SNIP_MAX_SCAN ? len : SNIP_MAX_SCAN;
  size_t cap = m->ring_cap;
  snip_word_t *ring = m->ring;
  snip_span_t *sp = m->spans;

  /* Spans, in text order, until a window holds every term and the words
   * that window can show have been seen. */
  size_t nspans = 0, n = 0, best_first = 0, best_last = 0, stop_at = SIZE_MAX;
  unsigned best = 0;
  tok_iter_t it;
  tok_word_t tw;
  tok_iter_init(&it, text, scan);
  while (m->nterms && nspans < SNIP_MAX_SPANS && tok_next(&it, &tw) && tw.start <= stop_at) {
    snip_word_t *w = &ring[n % cap];
    w->start = tw.start;
    w->end = tw.end;
    w->len = tw.norm_len;
    memcpy(w->norm, tw.norm, tw.norm_len + 1);
    n++;
    const char *stem = NULL;
    size_t stem_len = 0;
    int stemmable = m->first_bytes[(unsigned char)w->norm[0]];
    for (size_t t = 0; t < m->nterms && nspans < SNIP_MAX_SPANS; t++) {
      if (m->terms[t].kind == SNIP_WORD && !stemmable) continue;
      size_t first = snip_match(m, &m->terms[t], lang, ring, cap, n, &stem, &stem_len);
      if (first == SIZE_MAX) continue;
      sp[nspans] = (snip_span_t){ring[first % cap].start, w->end, (unsigned)t};
      size_t from;
      unsigned d = snip_distinct(sp, nspans, max_bytes, &from);
      if (d > best) best = d, best_first = from, best_last = nspans;
      nspans++;
      if (best == m->nterms && stop_at == SIZE_MAX) stop_at = sp[best_first].start + max_bytes;
    }
  }

  /* The window: some context before the first chosen match, then up to
   * max_bytes, cut at white space. */
  size_t ws = 0, we = len;
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
  if (len - ws > max_bytes) {
    size_t limit = ws + max_bytes, k = limit;
    while (k > ws && !snip_space(text[k])) k--;
    if (k == ws) { /* no space: cut at a character boundary */
      k = limit;
      while (k > ws && ((unsigned char)text[k] & 0xC0) == 0x80) k--;
    }
    we = k;
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
  if (we < len) buf_puts(&b, "\xE2\x80\xA6");
  const char *out = b.err ? NULL : arena_strndup(a, b.data ? b.data : "", b.len);
  buf_fini(&b);
  return out;
}
