/* snip.c: snippet extraction and title marking; see snip.h for what they
 * are.
 *
 * One streaming pass tokenizes the body and records match spans by byte
 * offset, keeping only a ring of the last words (for phrases).  It stops as
 * soon as some window of max_bytes holds every query term that applies to
 * the body, which for most queries is at the first matches, so a long
 * article costs little.  Then the passages are chosen (below), widened with
 * context, cut at white space (or, in text without spaces, at a character
 * boundary), and copied out escaped and marked.
 *
 * Passages.  The spans are sorted by start and overlapping ones merged into
 * groups (a phrase with a query word inside it is one group, marked once),
 * each with the set of terms it matched.  A run is a sequence of groups
 * that fits in a passage; its gain is what it adds to the terms already
 * shown, a phrase of two words or more counting SNIP_PHRASE_WEIGHT (more
 * than every lone word together, so a phrase match found is shown) and any
 * other term 1.  For P = 1, 2 and 3, passages of a P-th of max_bytes each
 * (snip_share: an equal share, less a byte per join) are taken greedily,
 * best run first (the earliest on a tie; no two overlap); the P whose
 * passages gain most is kept, the fewest on a tie, so when one window holds
 * every term the snippet is that one passage, as before.  Each passage
 * shows some context before its first match and text after its last, up
 * to its share, cut at white space; passages that touch are joined.
 *
 * Regions (snip_build_regions).  When the caller knows from the index's
 * positions which parts of a body can hold a match (win.h), the scan visits
 * only those, starting each afresh (no phrase spans a gap: its words would
 * all be in the parts), and finds the spans the whole scan finds, so the
 * passages are the same; of the text outside the parts it reads only the
 * byte before each (snip_next_candidate's look back), a space.  A passage
 * reaching outside them asks for the bytes it reads.  The caller may hold
 * back the parts from `next` on: the scan stops there and asks for the
 * part at next only when it has not stopped by then, and resumes in it
 * as "Parts" below resumes at a seam (a part given next to one scanned
 * continues it, as one region would).
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
 * text before it may stop, or a passage reaches past the text, it keeps its
 * whole state in the matcher (snip_scan_t: iterator, ring, spans, best
 * window) and asks for more, and the next call with the whole body resumes
 * where it stopped.  The head ends just after white space, so no word is cut
 * by the seam and the resumed scan sees exactly the words of one pass.
 */
#include "snip.h"

#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "bytes8.h"
#include "err.h"

enum { SNIP_WORD = SNIP_TERM_WORD, SNIP_PHRASE = SNIP_TERM_PHRASE, SNIP_PREFIX = SNIP_TERM_PREFIX };

#define SNIP_MAX_TERMS 64                 /* term sets are 64-bit masks */
#define SNIP_PHRASE_WEIGHT SNIP_MAX_TERMS /* a phrase outweighs every lone word */

typedef struct snip_term {
  int kind;
  const char **words; /* normalized query words */
  size_t nwords;
  const char **stems; /* WORD: stem per language */
  size_t *stem_lens;
} snip_term_t;

#define SNIP_MAX_SPANS 4096      /* matches recorded per article */
#define SNIP_MAX_TITLE_SPANS 256 /* and per title */

typedef struct snip_word { /* a word of the ring */
  size_t start, end;
  size_t len;
  char norm[TOK_MAX_WORD + 8];
} snip_word_t;

typedef struct snip_span {
  size_t start, end; /* bytes */
  uint64_t terms;    /* the terms matched: one while scanning, a group's all */
} snip_span_t;

/* One text's scan, kept in the matcher when a body's must resume. */
typedef struct snip_scan {
  int active;              /* snip_build_part asked for more of this body */
  size_t lang, total, len; /* the body it was given */
  tok_iter_t it;
  snip_word_t *ring; /* the last words, for phrases */
  snip_span_t *spans;
  size_t max_spans;
  uint64_t want; /* the terms that apply to this text */
  unsigned nwant;
  size_t nspans, n, best_first, best_last, stop_at, target, budget;
  unsigned best;
  int skip, pending, finished; /* finished: stopped at stop_at or max_spans */
  const snip_region_t *reg;    /* snip_build_regions: the parts at hand */
  size_t nreg, ri;             /* ri: the region being scanned */
  size_t next;                 /* regions: where the parts not at hand start */
} snip_scan_t;

/* ASCII candidate bytes for which the scan looks at 8 bytes at a time: one
 * letter in both cases.  With two letters (and2 of common words) a
 * candidate is in most words of 8 bytes, and on the kit either way cost
 * about the same (callgrind: and2 0.1% less with 4, term_rare 0.4% more). */
#define SNIP_MAX_CAND8 2

struct snip_matcher {
  snip_term_t terms[SNIP_MAX_TERMS];
  size_t nterms;
  uint64_t body_terms;  /* terms marked in bodies: all but title: ones */
  uint64_t title_terms; /* terms marked in titles: all */
  uint64_t phrases;     /* phrases of two words or more */
  size_t ring_cap;
  snip_span_t *title_spans; /* scratch for snip_title */
  snip_word_t *title_ring;
  tok_stemmer_t *const *stemmers;
  size_t nstemmers;
  unsigned char first_bytes[256]; /* first bytes of any WORD stem */
  unsigned char bytes[256];       /* SNIP_CAND | SNIP_ALNUM per byte */
  /* The ASCII SNIP_CAND bytes, each in every byte of a word; those not
   * used hold 0x80s, which bytes8_high flags anyway. */
  uint64_t cand8[SNIP_MAX_CAND8];
  unsigned ncand8;
  int skip8;                  /* few of them: snip_next_candidate looks at 8 bytes at a time */
  unsigned char *keeps_first; /* per stemmer: tok_stem_keeps_first */
  int full_scan;              /* snip_matcher_full_scan() */
  snip_scan_t scan;           /* the body's, reused hit after hit */
};

#define SNIP_CAND 1         /* may start a word that matches */
#define SNIP_ALNUM 2        /* ASCII letter or digit: no word starts after one */
#define SNIP_MAX_BACKUP 256 /* bytes looked back for a word boundary */

static int snip_alnum(unsigned c) {
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static unsigned snip_popcount(uint64_t x) { return (unsigned)__builtin_popcountll(x); }

static int snip_add_leaf(snip_matcher_t *m, arena_t *a, const qp_node_t *n, int title_only) {
  if (m->nterms == SNIP_MAX_TERMS) return 0;
  snip_term_t *t = &m->terms[m->nterms];
  uint64_t bit = 1ull << m->nterms;
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
  if (t->kind == SNIP_PHRASE && t->nwords > 1) m->phrases |= bit;
  m->title_terms |= bit;
  if (!title_only) m->body_terms |= bit;
  m->nterms++;
  return 0;
}

/* The positive text leaves under n; title_only when n lies under title:
 * (on the leaf itself, or on a group around it). */
static int snip_collect(snip_matcher_t *m, arena_t *a, const qp_node_t *n, int title_only) {
  if (!n) return 0;
  title_only = title_only || n->field == QF_TITLE;
  switch (n->kind) {
    case QN_WORD:
    case QN_PHRASE:
    case QN_PREFIX:
      return n->nwords ? snip_add_leaf(m, a, n, title_only) : 0;
    case QN_AND:
    case QN_OR:
    case QN_NEAR: /* its words and prefixes, wherever they stand */
      for (size_t i = 0; i < n->nkids; i++)
        if (snip_collect(m, a, n->kids[i], title_only)) return -1;
      return 0;
    default:
      /* NOT, filters, dates: nothing to mark.  NEAR (SPEC.md; not parsed
       * yet): its words are to be marked only where they stand within N
       * words of each other, as a phrase's only where the phrase is: a
       * term kind beside SNIP_PHRASE whose snip_match looks back N words
       * in the ring (ring_cap then covers N + 1), collected here. */
      return 0;
  }
}

snip_matcher_t *snip_matcher_new(arena_t *a, const qp_query_t *q, tok_stemmer_t *const *stemmers,
                                 size_t nstemmers) {
  snip_matcher_t *m = arena_calloc(a, 1, sizeof *m);
  if (!m) return NULL;
  m->stemmers = stemmers;
  m->nstemmers = nstemmers;
  if (snip_collect(m, a, q ? q->root : NULL, 0)) return NULL;
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
#ifdef BYTES8_FIRST /* snip_first8 needs it */
  m->skip8 = 1;
  for (unsigned i = 0; i < SNIP_MAX_CAND8; i++) m->cand8[i] = BYTES8_ONES * 0x80;
  for (unsigned c = 0; c < 0x80; c++)
    if (m->bytes[c] & SNIP_CAND) {
      if (m->ncand8 == SNIP_MAX_CAND8) {
        m->skip8 = 0;
        break;
      }
      m->cand8[m->ncand8++] = BYTES8_ONES * c;
    }
#endif
  m->keeps_first = arena_calloc(a, nstemmers ? nstemmers : 1, 1);
  if (!m->keeps_first) return NULL;
  for (size_t i = 0; i < nstemmers; i++) m->keeps_first[i] = tok_stem_keeps_first(stemmers[i]) != 0;
  m->ring_cap = 1;
  for (size_t t = 0; t < m->nterms; t++)
    if (m->terms[t].nwords > m->ring_cap) m->ring_cap = m->terms[t].nwords;
  if (m->ring_cap > 64) m->ring_cap = 64; /* longer phrases are not marked */
  m->scan.ring = arena_alloc(a, m->ring_cap * sizeof *m->scan.ring);
  m->scan.spans = arena_alloc(a, SNIP_MAX_SPANS * sizeof *m->scan.spans);
  m->title_ring = arena_alloc(a, m->ring_cap * sizeof *m->title_ring);
  m->title_spans = arena_alloc(a, SNIP_MAX_TITLE_SPANS * sizeof *m->title_spans);
  if (!m->scan.ring || !m->scan.spans || !m->title_ring || !m->title_spans) return NULL;
  return m;
}

void snip_matcher_full_scan(snip_matcher_t *m) { m->full_scan = 1; }

size_t snip_body_terms(const snip_matcher_t *m) { return (size_t)snip_popcount(m->body_terms); }

int snip_title_only_terms(const snip_matcher_t *m) {
  return (m->title_terms & ~m->body_terms) != 0;
}

void snip_body_term(const snip_matcher_t *m, size_t i, size_t lang, int *kind,
                    const char *const **words, size_t *nwords, const char **stem,
                    size_t *stem_len) {
  size_t t = 0;
  for (size_t k = 0;; t++) /* the i-th term with its body bit */
    if ((m->body_terms >> t & 1) && k++ == i) break;
  const snip_term_t *x = &m->terms[t];
  *kind = x->kind;
  *words = x->words;
  *nwords = x->nwords;
  int stemmed = x->kind == SNIP_WORD && lang < m->nstemmers;
  *stem = stemmed ? x->stems[lang] : NULL;
  *stem_len = stemmed ? x->stem_lens[lang] : 0;
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

/* Whether none of the 8 bytes at p is '<', '>', '&' or a control byte
 * (bytes8.h: snippets are mostly such). */
static int snip_plain8(const char *p) {
  uint64_t x = bytes8_load(p);
  return !(bytes8_below(x, 0x20) | bytes8_eq(x, '<') | bytes8_eq(x, '>') | bytes8_eq(x, '&'));
}

static void snip_put_text(buf_t *b, const char *s, size_t n) {
  const char *run = s, *end = s + n;
  for (const char *p = s; p < end; p++) {
    while (end - p >= 8 && snip_plain8(p)) p += 8;
    if (p == end) break;
    const char *rep = NULL;
    switch (*p) {
      case '<':
        rep = "&lt;";
        break;
      case '>':
        rep = "&gt;";
        break;
      case '&':
        rep = "&amp;";
        break;
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
  size_t j = last + 1;
  while (j > 0 && sp[last].end - sp[j - 1].start <= max_bytes) {
    j--;
    seen |= sp[j].terms;
  }
  *first = j;
  return snip_popcount(seen);
}

/* How many of the 8 bytes at p come before the first that may be a
 * SNIP_CAND one (non-ASCII, or an ASCII candidate: m->skip8); 8 when none
 * is. */
static size_t snip_first8(const snip_matcher_t *m, const unsigned char *p) {
  uint64_t x = bytes8_load(p);
  uint64_t hit = bytes8_high(x) | bytes8_zero(x ^ m->cand8[0]) | bytes8_zero(x ^ m->cand8[1]);
  return hit ? bytes8_first(hit) : 8;
}

/* Whether a candidate word starts at u[p]: a SNIP_CAND byte not preceded
 * by an ASCII letter or digit. */
static int snip_starts(const snip_matcher_t *m, const unsigned char *u, size_t p) {
  return (m->bytes[u[p]] & SNIP_CAND) && !(p > 0 && (m->bytes[u[p - 1]] & SNIP_ALNUM));
}

/* The first candidate word start in [from, end); end if there is none.
 * Runs of bytes that cannot be one are passed 8 at a time when the
 * matcher can.  (The byte before a candidate is looked at only then: the
 * loops keep no state of the byte before, which cost more to carry along
 * every step than to read at the few candidates.) */
static size_t snip_next_candidate(const snip_matcher_t *m, const unsigned char *u, size_t from,
                                  size_t end) {
  size_t p = from;
  if (m->skip8) /* to the next byte that may be a candidate, a word at a time */
    while (end - p >= 8) {
      size_t k = snip_first8(m, u + p);
      p += k;
      if (k == 8) continue;
      if (snip_starts(m, u, p)) return p;
      p++;
    }
  for (; p < end; p++)
    if (snip_starts(m, u, p)) return p;
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

/* Start st on text[0..scan) for the terms want, into ring and spans. */
static void snip_scan_init(snip_scan_t *st, const char *text, size_t scan, uint64_t want,
                           snip_word_t *ring, snip_span_t *spans, size_t max_spans) {
  memset(st, 0, sizeof *st);
  tok_iter_init(&st->it, text, scan);
  st->stop_at = SIZE_MAX;
  st->ring = ring;
  st->spans = spans;
  st->max_spans = max_spans;
  st->want = want;
  st->nwant = snip_popcount(want);
}

/* Scan text[0..scan) on from where st stopped.  Returns 1 when it ran out
 * of text, 0 when it stopped at st->stop_at or at st->max_spans. */
static int snip_scan(snip_matcher_t *m, snip_scan_t *st, size_t lang, const char *text, size_t scan,
                     size_t max_bytes) {
  size_t cap = m->ring_cap;
  snip_word_t *ring = st->ring;
  snip_span_t *sp = st->spans;
  const unsigned char *u = (const unsigned char *)text;
  tok_word_t tw;
  st->it.s = text; /* the same bytes, perhaps more of them */
  st->it.len = scan;
  size_t lim = scan; /* the end of the text, or of the region at hand */
  while (st->nwant && st->nspans < st->max_spans) {
    if (st->nreg) { /* regions: the bytes between them hold no match */
      for (; st->ri < st->nreg && st->it.pos >= st->reg[st->ri].end; st->ri++) {
      }
      if (st->ri == st->nreg || st->reg[st->ri].start >= scan || st->reg[st->ri].start >= st->next)
        return 1;
      if (st->it.pos < st->reg[st->ri].start) { /* into the next region: nothing carries over */
        if (st->reg[st->ri].start > st->stop_at) return 0;
        st->it.pos = st->reg[st->ri].start;
        st->n = 0;
        st->budget = 0;
        st->pending = 0;
      }
      lim = st->reg[st->ri].end < scan ? st->reg[st->ri].end : scan;
      st->it.len = lim;
    }
    if (st->skip && !st->pending && !st->budget) {
      size_t q = snip_next_candidate(m, u, st->it.pos, lim);
      if (q > st->stop_at) return 0;
      if (q >= lim) {
        st->it.pos = lim;
        if (st->nreg) continue;
        return 1;
      }
      st->it.pos = snip_boundary(u, st->it.pos, q); /* tok_next resumes there */
      st->n = 0; /* words may have been skipped: a phrase starts afresh */
      st->target = q;
      st->pending = 1;
    }
    if (!tok_next(&st->it, &tw)) {
      if (!st->nreg) return 1;
      st->it.pos = lim;
      continue;
    }
    if (tw.start > st->stop_at) return 0;
    if (st->pending && tw.end > st->target) st->pending = 0;
    if (m->bytes[u[tw.start]] & SNIP_CAND)
      st->budget = cap - 1; /* a phrase may start here: take its length in words */
    else if (st->budget) st->budget--;
    snip_word_t *w = &ring[st->n % cap];
    w->start = tw.start;
    w->end = tw.end;
    w->len = tw.norm_len;
    memcpy(w->norm, tw.norm, tw.norm_len + 1);
    size_t n = ++st->n;
    const char *stem = NULL;
    size_t stem_len = 0;
    int stemmable =
        m->first_bytes[(unsigned char)w->norm[0]] || (lang < m->nstemmers && !m->keeps_first[lang]);
    for (size_t t = 0; t < m->nterms && st->nspans < st->max_spans; t++) {
      if (!(st->want >> t & 1) || (m->terms[t].kind == SNIP_WORD && !stemmable)) continue;
      size_t first = snip_match(m, &m->terms[t], lang, ring, cap, n, &stem, &stem_len);
      if (first == SIZE_MAX) continue;
      size_t k = st->nspans;
      sp[k] = (snip_span_t){ring[first % cap].start, w->end, 1ull << t};
      size_t from;
      unsigned d = snip_distinct(sp, k, max_bytes, &from);
      if (d > st->best) st->best = d, st->best_first = from, st->best_last = k;
      st->nspans++;
      if (st->best == st->nwant && st->stop_at == SIZE_MAX)
        st->stop_at = sp[st->best_first].start + max_bytes;
    }
  }
  return 0;
}

/* Sort the spans by start (they come by end, so nearly sorted already) and
 * merge those that overlap into groups; returns the number of groups.
 * Groups give themselves back, so it may run again on its own output. */
static size_t snip_group(snip_span_t *sp, size_t n) {
  for (size_t i = 1; i < n; i++) {
    snip_span_t x = sp[i];
    size_t j = i;
    for (; j > 0 && sp[j - 1].start > x.start; j--) sp[j] = sp[j - 1];
    sp[j] = x;
  }
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (k && sp[i].start < sp[k - 1].end) {
      if (sp[i].end > sp[k - 1].end) sp[k - 1].end = sp[i].end;
      sp[k - 1].terms |= sp[i].terms;
    } else {
      sp[k++] = sp[i];
    }
  }
  return k;
}

/* What showing terms adds when covered are shown already. */
static unsigned snip_gain(const snip_matcher_t *m, uint64_t terms, uint64_t covered) {
  uint64_t fresh = terms & ~covered;
  return SNIP_PHRASE_WEIGHT * snip_popcount(fresh & m->phrases) +
         snip_popcount(fresh & ~m->phrases);
}

/* Body bytes each of p passages may show: an equal share of max_bytes,
 * less a byte per join (for passages that touch, joined with the space
 * between them). */
static size_t snip_share(size_t max_bytes, size_t p) { return (max_bytes - (p - 1)) / p; }

typedef struct snip_passage {
  size_t first, last; /* groups */
  size_t ws, we;      /* bytes shown */
} snip_passage_t;

/* The run of groups g[*first..*last], at most w bytes wide and clear of the
 * passages chosen, that adds most to covered (the earliest on a tie).
 * Returns its gain, 0 when no run adds anything. */
static unsigned snip_best_run(const snip_matcher_t *m, const snip_span_t *g, size_t n, size_t w,
                              uint64_t covered, const snip_passage_t *chosen, size_t nchosen,
                              size_t *first, size_t *last) {
  unsigned count[SNIP_MAX_TERMS] = {0}, best = 0;
  uint64_t in = 0; /* terms with a count */
  size_t j = 0;
  for (size_t k = 0; k < n; k++) {
    int taken = 0;
    for (size_t c = 0; c < nchosen; c++) taken |= k >= chosen[c].first && k <= chosen[c].last;
    /* Take group k in, then let go of groups from the left until the run
     * fits (all of them when k is taken: a run may not hold it). */
    for (uint64_t b = g[k].terms; b; b &= b - 1) {
      count[__builtin_ctzll(b)]++;
      in |= b & -b;
    }
    for (; j <= k && (taken || g[k].end - g[j].start > w); j++)
      for (uint64_t b = g[j].terms; b; b &= b - 1)
        if (!--count[__builtin_ctzll(b)]) in &= ~(1ull << __builtin_ctzll(b));
    if (j > k) continue;
    unsigned gain = snip_gain(m, in, covered);
    if (gain > best) best = gain, *first = j, *last = k;
  }
  return best;
}

static int snip_by_start(const snip_passage_t *x, const snip_passage_t *y) {
  return x->first < y->first ? -1 : x->first > y->first;
}

/* The passages for groups g[0..n): see "Passages" above.  Returns how many
 * (0 when there is no group), in body order. */
static size_t snip_choose(const snip_matcher_t *m, const snip_span_t *g, size_t n, size_t max_bytes,
                          snip_passage_t out[SNIP_MAX_PASSAGES]) {
  uint64_t present = 0;
  for (size_t i = 0; i < n; i++) present |= g[i].terms;
  unsigned best = 0;
  size_t nbest = 0;
  for (size_t p = 1; p <= SNIP_MAX_PASSAGES; p++) {
    snip_passage_t pass[SNIP_MAX_PASSAGES];
    size_t np = 0;
    uint64_t covered = 0;
    unsigned total = 0;
    while (np < p) {
      size_t f = 0, l = 0;
      unsigned gain = snip_best_run(m, g, n, snip_share(max_bytes, p), covered, pass, np, &f, &l);
      if (!gain) break;
      pass[np++] = (snip_passage_t){f, l, 0, 0};
      total += gain;
      for (size_t i = f; i <= l; i++) covered |= g[i].terms;
    }
    if (total > best) {
      best = total;
      nbest = np;
      memcpy(out, pass, np * sizeof *pass);
    }
    if (covered == present) break; /* more passages cannot show more */
  }
  /* Body order (at most three: an insertion sort). */
  for (size_t i = 1; i < nbest; i++)
    for (size_t j = i; j > 0 && snip_by_start(&out[j - 1], &out[j]) > 0; j--) {
      snip_passage_t x = out[j];
      out[j] = out[j - 1];
      out[j - 1] = x;
    }
  return nbest;
}

/* Write text[from..to) escaped, with the groups g[*gi..n) that lie wholly
 * inside it marked; *gi moves past the groups that start before to. */
static void snip_put_marked(buf_t *b, const char *text, size_t from, size_t to,
                            const snip_span_t *g, size_t n, size_t *gi) {
  size_t pos = from;
  for (; *gi < n && g[*gi].start < to; (*gi)++) {
    const snip_span_t *s = &g[*gi];
    if (s->start < pos || s->end > to) continue; /* cut by the passage's edge */
    snip_put_text(b, text + pos, s->start - pos);
    buf_puts(b, SNIP_OPEN);
    snip_put_text(b, text + s->start, s->end - s->start);
    buf_puts(b, SNIP_CLOSE);
    pos = s->end;
  }
  snip_put_text(b, text + pos, to - pos);
}

static const char *snip_finish(buf_t *b, arena_t *a) {
  const char *out = b->err ? NULL : arena_strndup(a, b->data ? b->data : "", b->len);
  buf_fini(b);
  return out;
}

const char *snip_build(snip_matcher_t *m, size_t lang, const char *text, size_t len,
                       size_t max_bytes, arena_t *a) {
  int more;
  m->scan.active = 0; /* a body of its own: never a resumed one */
  return snip_build_part(m, lang, text, len, len, max_bytes, a, &more);
}

/* Whether body bytes [lo, hi) are at hand: the first len bytes, or (nreg)
 * inside one region. */
static int snip_have(const snip_scan_t *st, size_t lo, size_t hi) {
  if (!st->nreg) return hi <= st->len;
  for (size_t i = 0; i < st->nreg; i++)
    if (st->reg[i].start <= lo && lo < st->reg[i].end) return hi <= st->reg[i].end;
  return 0;
}

/* snip_build_part (reg NULL) and snip_build_regions (len == total). */
static const char *snip_build_some(snip_matcher_t *m, size_t lang, const char *text, size_t len,
                                   size_t total, const snip_region_t *reg, size_t nreg, size_t next,
                                   size_t max_bytes, arena_t *a, int *more, size_t need[2]) {
  snip_scan_t *st = &m->scan;
  int resume = st->active && st->lang == lang && st->total == total && st->len <= len;
  st->active = 0;
  *more = 0;
  if (!text || len > total) return NULL;
  /* Bytes scanned: those at hand, and those of the whole body. */
  size_t scan = len < SNIP_MAX_SCAN ? len : SNIP_MAX_SCAN;
  size_t scan_all = total < SNIP_MAX_SCAN ? total : SNIP_MAX_SCAN;
  if (!resume) {
    snip_scan_init(st, text, scan, m->body_terms, st->ring, st->spans, SNIP_MAX_SPANS);
    st->skip = snip_can_skip(m, lang);
  }
  st->reg = reg;
  st->nreg = nreg;
  st->ri = 0; /* the regions may be new ones: found again from the scan's place */
  st->next = next;
  st->len = len;
  /* Spans, in text order, until a window holds every term and the words
   * that window can show have been seen. */
  if (!st->finished) {
    int ran_out = snip_scan(m, st, lang, text, scan, max_bytes);
    if (ran_out && scan < scan_all) goto more; /* a better window may lie further on */
    if (ran_out && nreg && next < scan && next <= st->stop_at) { /* the part at next */
      need[0] = next;
      need[1] = next + 1;
      goto more;
    }
    st->finished = 1;
    st->nspans = snip_group(st->spans, st->nspans);
  }
  const snip_span_t *g = st->spans;
  size_t n = st->nspans;
  snip_passage_t ps[SNIP_MAX_PASSAGES];
  size_t np = snip_choose(m, g, n, max_bytes, ps);

  /* The text of each passage: some context before its first match, then
   * up to its share of max_bytes, cut at white space.  With no match, the
   * start of the body. */
  int none = !np; /* no match, or none that fits: the start of the body */
  if (none) ps[np++] = (snip_passage_t){0, 0, 0, 0};
  size_t share = snip_share(max_bytes, np);
  for (size_t i = 0; i < np; i++) {
    snip_passage_t *p = &ps[i];
    size_t first = none ? 0 : g[p->first].start, end = none ? 0 : g[p->last].end;
    size_t span = end - first;
    size_t context = span < share ? (share - span) / 3 : 0;
    if (context > 60) context = 60;
    size_t ws = first > context ? first - context : 0;
    /* The bytes read below, at most: from the one before ws to the cut's
     * limit (ws moves up to first at most). */
    need[0] = ws ? ws - 1 : 0;
    need[1] = total - first > share ? first + share + 1 : total;
    if (!snip_have(st, need[0], need[1])) goto more;
    if (ws > 0) {
      size_t k = ws;
      while (k < first && !snip_space(text[k - 1])) k++; /* to a word start */
      ws = k;
    }
    size_t we = total;
    if (total - ws > share) {
      size_t limit = ws + share, k = limit;
      while (k > end && k > ws && !snip_space(text[k])) k--; /* not into the last match */
      if (k == ws) { /* no space: cut at a character boundary */
        k = limit;
        while (k > ws && ((unsigned char)text[k] & 0xC0) == 0x80) k--;
      }
      we = k;
    }
    p->ws = ws;
    p->we = we;
  }
  /* Passages that touch (one space apart at most) are one. */
  size_t k = 0;
  for (size_t i = 0; i < np; i++) {
    if (k && ps[i].ws <= ps[k - 1].we + 1) {
      if (ps[i].we > ps[k - 1].we) ps[k - 1].we = ps[i].we;
    } else {
      ps[k++] = ps[i];
    }
  }
  np = k;

  buf_t b;
  buf_init(&b, 0);
  size_t gi = 0;
  for (size_t i = 0; i < np; i++) {
    if (i > 0) buf_puts(&b, " \xE2\x80\xA6 ");
    else if (ps[i].ws > 0) buf_puts(&b, "\xE2\x80\xA6");
    snip_put_marked(&b, text, ps[i].ws, ps[i].we, g, n, &gi);
    while (b.len && b.data[b.len - 1] == ' ') b.len--;
  }
  if (ps[np - 1].we < total) buf_puts(&b, "\xE2\x80\xA6");
  return snip_finish(&b, a);
more:
  st->active = 1;
  st->lang = lang;
  st->total = total;
  *more = 1;
  return NULL;
}

const char *snip_build_part(snip_matcher_t *m, size_t lang, const char *text, size_t len,
                            size_t total, size_t max_bytes, arena_t *a, int *more) {
  size_t need[2];
  return snip_build_some(m, lang, text, len, total, NULL, 0, total, max_bytes, a, more, need);
}

const char *snip_build_regions(snip_matcher_t *m, size_t lang, const char *text, size_t total,
                               const snip_region_t *reg, size_t nreg, size_t next, size_t max_bytes,
                               arena_t *a, int *more, size_t need[2]) {
  if (!nreg) { /* nothing at hand: the start of the body, once decoded */
    static const snip_region_t none = {0, 0};
    reg = &none;
    nreg = 1;
  }
  return snip_build_some(m, lang, text, total, total, reg, nreg, next, max_bytes, a, more, need);
}

int snip_title(snip_matcher_t *m, size_t lang, const char *title, size_t len, arena_t *a,
               const char **out) {
  *out = NULL;
  if (!title || !m->title_terms) return 0;
  snip_scan_t st;
  size_t scan = len < SNIP_MAX_SCAN ? len : SNIP_MAX_SCAN;
  snip_scan_init(&st, title, scan, m->title_terms, m->title_ring, m->title_spans,
                 SNIP_MAX_TITLE_SPANS);
  snip_scan(m, &st, lang, title, scan, scan); /* a window as wide as the title: no early stop */
  size_t n = snip_group(m->title_spans, st.nspans), gi = 0;
  if (!n) return 0;
  buf_t b;
  buf_init(&b, 0);
  snip_put_marked(&b, title, 0, len, m->title_spans, n, &gi);
  return (*out = snip_finish(&b, a)) ? 0 : ERR_NOMEM;
}
