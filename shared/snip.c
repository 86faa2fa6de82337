/* snip.c: snippet extraction; see snip.h for what a snippet is.
 *
 * One pass tokenizes the body (up to SNIP_MAX_SCAN bytes) into an array of
 * words; a second finds match spans (word index ranges); a sliding window over
 * the spans picks the extract with the most distinct query terms; the output
 * pass copies that byte range, escaping and marking.  Stemming a body word is
 * the costly step, so it happens only for words whose first byte equals the
 * first byte of some query stem (Snowball stems keep the word's first letter).
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

struct snip_matcher {
  snip_term_t terms[SNIP_MAX_TERMS];
  size_t nterms;
  tok_stemmer_t *const *stemmers;
  size_t nstemmers;
  unsigned char first_bytes[256]; /* first bytes of any WORD stem */
};

typedef struct snip_word {
  size_t start, end;
  const char *norm;
  size_t len;
} snip_word_t;

typedef struct snip_span {
  size_t first, last; /* word indexes, inclusive */
  unsigned term;
} snip_span_t;

static int snip_add_leaf(snip_matcher_t *m, arena_t *a, const qp_node_t *n) {
  if (m->nterms == SNIP_MAX_TERMS) return 0;
  snip_term_t *t = &m->terms[m->nterms];
  t->kind = n->kind == QN_WORD ? SNIP_WORD : n->kind == QN_PHRASE ? SNIP_PHRASE : SNIP_PREFIX;
  t->words = n->words;
  t->nwords = n->nwords;
  if (t->kind == SNIP_PHRASE && n->nwords == 1) t->kind = SNIP_PHRASE; /* exact word */
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
  return m;
}

/* Does the word sequence starting at w[i] match term t?  Returns the index
 * of the last word of the match, or SIZE_MAX. */
static size_t snip_match(const snip_matcher_t *m, const snip_term_t *t, size_t lang,
                         const snip_word_t *w, size_t nw, size_t i, const char **stem,
                         size_t *stem_len) {
  switch (t->kind) {
    case SNIP_WORD:
      if (lang >= m->nstemmers) return SIZE_MAX;
      if (!*stem) *stem = tok_stem(m->stemmers[lang], w[i].norm, w[i].len, stem_len);
      return (*stem_len == t->stem_lens[lang] && memcmp(*stem, t->stems[lang], *stem_len) == 0)
                 ? i
                 : SIZE_MAX;
    case SNIP_PREFIX: {
      size_t pl = strlen(t->words[0]);
      return (w[i].len >= pl && memcmp(w[i].norm, t->words[0], pl) == 0) ? i : SIZE_MAX;
    }
    default:
      if (i + t->nwords > nw) return SIZE_MAX;
      for (size_t k = 0; k < t->nwords; k++) {
        size_t l = strlen(t->words[k]);
        if (w[i + k].len != l || memcmp(w[i + k].norm, t->words[k], l) != 0) return SIZE_MAX;
      }
      return i + t->nwords - 1;
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
      case '\n': case '\r': case '\t': rep = " "; break;
      default: continue;
    }
    buf_append(b, run, (size_t)(p - run));
    buf_puts(b, rep);
    run = p + 1;
  }
  buf_append(b, run, (size_t)(end - run));
}

const char *snip_build(const snip_matcher_t *m, size_t lang, const char *text, size_t len,
                       size_t max_bytes, arena_t *a) {
  if (!text) return NULL;
  size_t scan = len < SNIP_MAX_SCAN ? len : SNIP_MAX_SCAN;

  /* Words of the scanned text. */
  size_t cap = 256, nw = 0;
  snip_word_t *w = arena_alloc(a, cap * sizeof *w);
  if (!w) return NULL;
  tok_iter_t it;
  tok_word_t tw;
  tok_iter_init(&it, text, scan);
  while (tok_next(&it, &tw)) {
    if (nw == cap) {
      snip_word_t *nwp = arena_alloc(a, 2 * cap * sizeof *w);
      if (!nwp) return NULL;
      memcpy(nwp, w, nw * sizeof *w);
      w = nwp;
      cap *= 2;
    }
    char *norm = arena_strndup(a, tw.norm, tw.norm_len);
    if (!norm) return NULL;
    w[nw++] = (snip_word_t){tw.start, tw.end, norm, tw.norm_len};
  }

  /* Match spans, in text order. */
  size_t nspans = 0, span_cap = 64;
  snip_span_t *sp = arena_alloc(a, span_cap * sizeof *sp);
  if (!sp) return NULL;
  for (size_t i = 0; i < nw && m->nterms; i++) {
    const char *stem = NULL;
    size_t stem_len = 0;
    int stemmable = m->first_bytes[(unsigned char)w[i].norm[0]];
    for (size_t t = 0; t < m->nterms; t++) {
      if (m->terms[t].kind == SNIP_WORD && !stemmable) continue;
      size_t last = snip_match(m, &m->terms[t], lang, w, nw, i, &stem, &stem_len);
      if (last == SIZE_MAX) continue;
      if (nspans == span_cap) {
        snip_span_t *nsp = arena_alloc(a, 2 * span_cap * sizeof *sp);
        if (!nsp) return NULL;
        memcpy(nsp, sp, nspans * sizeof *sp);
        sp = nsp;
        span_cap *= 2;
      }
      sp[nspans++] = (snip_span_t){i, last, (unsigned)t};
    }
  }

  /* Window: the run of spans within max_bytes holding the most distinct
   * terms, then the most matches. */
  size_t ws = 0, we = len;
  if (nspans) {
    size_t best = 0, best_score = 0;
    for (size_t j = 0; j < nspans; j++) {
      uint64_t seen = 0;
      size_t count = 0, distinct = 0;
      for (size_t k = j; k < nspans && w[sp[k].last].end - w[sp[j].first].start <= max_bytes; k++) {
        if (!(seen & (1ull << sp[k].term))) distinct++;
        seen |= 1ull << sp[k].term;
        count++;
      }
      size_t score = distinct * 1024 + count;
      if (score > best_score) best_score = score, best = j;
    }
    size_t first = w[sp[best].first].start;
    size_t context = max_bytes / 4;
    ws = first > context ? first - context : 0;
    /* Start on a word boundary: the first word starting at or after ws. */
    if (ws > 0) {
      size_t k = sp[best].first;
      while (k > 0 && w[k - 1].start >= ws) k--;
      ws = w[k].start;
    }
  }
  if (len - ws > max_bytes) {
    /* End after the last whole word that fits. */
    size_t limit = ws + max_bytes, end = ws;
    for (size_t k = 0; k < nw; k++) {
      if (w[k].start < ws) continue;
      if (w[k].end > limit) break;
      end = w[k].end;
    }
    we = end;
  }

  buf_t b;
  buf_init(&b, 0);
  if (ws > 0) buf_puts(&b, "\xE2\x80\xA6");
  size_t pos = ws;
  for (size_t j = 0; j < nspans; j++) {
    size_t s = w[sp[j].first].start, e = w[sp[j].last].end;
    /* Merge spans that overlap this one (a word inside a phrase). */
    while (j + 1 < nspans && w[sp[j + 1].first].start < e) {
      j++;
      if (w[sp[j].last].end > e) e = w[sp[j].last].end;
    }
    if (s < pos || e > we) continue;
    snip_put_text(&b, text + pos, s - pos);
    buf_puts(&b, SNIP_OPEN);
    snip_put_text(&b, text + s, e - s);
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
