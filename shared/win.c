/* win.c: the blocks a hit's snippet needs, from positions (see win.h).
 *
 * The plan's words are read from the lexicon once per query (a word's, per
 * language, the first time an article in that language asks, with its
 * stem term's wdf in every hit of the page: one walk of that posting
 * list); each hit then costs a position list per word, the most frequent
 * first, until the count is reached.
 */
#include "win.h"

#include <stdint.h>
#include <string.h>

#include "schema.h"

#define WIN_TERM_CAP 256 /* bytes of a stem term (Xapian's limit is 245) */
#define WIN_RARE 64      /* see win_rare */

/* The index words standing for one term in one language. */
typedef struct win_words {
  int state;  /* 0: not read yet, 1: ready, -1: cannot tell */
  int narrow; /* a query word's: only the words beginning with its whole stem, so far */
  const char **words;
  size_t *lens;
  size_t n;
  char *stem_term; /* a query word's: its stem term, to check the count */
  size_t stem_term_len;
  uint32_t *wdf; /* its wdf in each hit of the page */
} win_words_t;

typedef struct win_term {
  int kind;              /* SNIP_TERM_* */
  win_words_t *per_lang; /* a query word's, per language */
  win_words_t exact;     /* a phrase's or a prefix's */
} win_term_t;

struct win_plan {
  xw_db *db;
  const snip_matcher_t *m;
  tok_stemmer_t *const *stemmers;
  const char *const *lang_names;
  size_t nlangs;
  const char *naming;
  int accents;
  const xw_docid *page;
  size_t npage;
  arena_t *a;
  win_term_t *terms;
  size_t nterms;
  int usable;    /* 0: every hit falls back (a prefix expands too far, or no term is rare) */
  int rare;      /* some term is in at most 1/WIN_RARE of the articles */
  uint32_t *pos; /* WIN_MAX_POSITIONS, scratch (not zeroed: 16 KB a query) */
};

/* Words gathered from the lexicon. */
typedef struct win_gather {
  arena_t *a;
  const char **words;
  size_t *lens;
  size_t n;
  int nomem;
  tok_stemmer_t *st; /* non-NULL: keep only the words stemming to stem */
  const char *stem;
  size_t stem_len;
} win_gather_t;

static void win_gather(void *ud, const char *term, size_t n) {
  win_gather_t *g = ud;
  if (g->st) {
    size_t sl;
    const char *s = tok_stem(g->st, term, n, &sl);
    if (sl != g->stem_len || memcmp(s, g->stem, sl) != 0) return;
  }
  if (!(g->words[g->n] = arena_strndup(g->a, term, n))) {
    g->nomem = 1;
    return;
  }
  g->lens[g->n++] = n;
}

/* The lexicon's words beginning with prefix (those stemming to g's stem
 * when it has one) into w; w->state -1 when there are too many. */
static int win_lexicon(win_plan_t *p, const char *prefix, size_t len, win_gather_t *g,
                       win_words_t *w, err_t *err) {
  g->a = p->a;
  g->words = arena_alloc(p->a, WIN_MAX_WORDS * sizeof *g->words);
  g->lens = arena_alloc(p->a, WIN_MAX_WORDS * sizeof *g->lens);
  if (!g->words || !g->lens) return err_set(err, ERR_NOMEM, 0, NULL);
  int over = 0;
  int rc = xw_db_prefix_each(p->db, prefix, len, WIN_MAX_WORDS, win_gather, g, &over, err);
  if (rc) return rc;
  if (g->nomem) return err_set(err, ERR_NOMEM, 0, NULL);
  w->words = g->words;
  w->lens = g->lens;
  w->n = g->n;
  w->state = over ? -1 : 1;
  return 0;
}

/* w's words, the most frequent first (an insertion sort: a stem has a few
 * forms): an article mostly holds the commonest, and win_mark stops
 * reading positions once the count is reached. */
static void win_by_frequency(win_plan_t *p, win_words_t *w) {
  uint32_t tf[WIN_MAX_WORDS];
  for (size_t i = 0; i < w->n; i++) {
    const char *word = w->words[i];
    size_t len = w->lens[i];
    uint32_t f = xw_db_termfreq(p->db, word, len);
    size_t j = i;
    for (; j > 0 && tf[j - 1] < f; j--) {
      tf[j] = tf[j - 1];
      w->words[j] = w->words[j - 1];
      w->lens[j] = w->lens[j - 1];
    }
    tf[j] = f;
    w->words[j] = word;
    w->lens[j] = len;
  }
}

/* The lexicon's words beginning with the first len bytes of stem[0..sl)
 * that stem to it in st, into w, the most frequent first. */
static int win_forms(win_plan_t *p, tok_stemmer_t *st, const char *stem, size_t sl, size_t len,
                     win_words_t *w, err_t *err) {
  win_gather_t g = {.st = st, .stem = stem, .stem_len = sl};
  int rc = win_lexicon(p, stem, len, &g, w, err);
  if (!rc && w->state > 0) win_by_frequency(p, w);
  return rc;
}

/* A query word's index words in language lang, read on first use: those
 * beginning with its whole stem (a hit whose count shows more widens them
 * once: win_widen). */
static int win_stem_words(win_plan_t *p, size_t t, size_t lang, win_words_t **out, err_t *err) {
  win_words_t *w = &p->terms[t].per_lang[lang];
  *out = w;
  if (w->state) return 0;
  w->state = -1;
  int kind;
  const char *const *words;
  size_t nwords, sl;
  const char *stem;
  snip_body_term(p->m, t, lang, &kind, &words, &nwords, &stem, &sl);
  tok_stemmer_t *st = p->stemmers[lang];
  /* The count check needs the index's stems to be the matcher's (tok_stem
   * of the normalized word), and the lexicon range a stem's first bytes. */
  if ((p->accents && tok_stem_reads_accents(st)) || !tok_stem_keeps_first(st) || sl < 2) return 0;
  char term[WIN_TERM_CAP];
  size_t tl = schema_stem_term(term, sizeof term, 0, p->lang_names[lang], p->naming, stem, sl);
  if (!tl || !(w->stem_term = arena_strndup(p->a, term, tl)))
    return tl ? err_set(err, ERR_NOMEM, 0, NULL) : 0;
  w->stem_term_len = tl;
  if (!(w->wdf = arena_alloc(p->a, (p->npage ? p->npage : 1) * sizeof *w->wdf)))
    return err_set(err, ERR_NOMEM, 0, NULL);
  int rc = xw_db_wdfs(p->db, term, tl, p->page, p->npage, w->wdf, err);
  if (rc) return rc;
  w->narrow = 1;
  return win_forms(p, st, stem, sl, sl, w, err);
}

/* A query word's forms when some do not begin with its whole stem
 * (English `happy` for `happi`): those beginning with all of it but its
 * last byte, once a query.  Walking and stemming that wider range for
 * every query word cost term_rare 6 times the stemming (21.6 words a
 * query word against 3.4) and 33k instructions a request, for the few
 * queries whose forms reach outside the narrow one.  When too many words
 * begin so, w keeps its words (other hits may hold only those) and widens
 * no more. */
static int win_widen(win_plan_t *p, size_t t, size_t lang, win_words_t *w, err_t *err) {
  int kind;
  const char *const *words;
  size_t nwords, sl;
  const char *stem;
  snip_body_term(p->m, t, lang, &kind, &words, &nwords, &stem, &sl);
  win_words_t wide = *w;
  wide.narrow = 0;
  w->narrow = 0;
  int rc = win_forms(p, p->stemmers[lang], stem, sl, sl - 1, &wide, err);
  if (!rc && wide.state > 0) *w = wide;
  return rc;
}

/* Whether a term (as snip_body_term gives it in the first language) is in
 * at most 1/WIN_RARE of the articles: a phrase when its rarest word is, a
 * prefix never.  When no term is, the matches a snippet needs are mostly
 * in a body's first block, which the scan from the start decodes anyway,
 * and the positions of common words cost more than they save. */
static int win_rare(win_plan_t *p, int kind, const char *const *words, size_t nwords,
                    const char *stem, size_t sl) {
  uint64_t n = xw_db_doccount(p->db), tf = UINT64_MAX;
  if (kind == SNIP_TERM_WORD && stem && p->nlangs) {
    char term[WIN_TERM_CAP];
    size_t tl = schema_stem_term(term, sizeof term, 0, p->lang_names[0], p->naming, stem, sl);
    if (tl) tf = xw_db_termfreq(p->db, term, tl);
  } else if (kind == SNIP_TERM_PHRASE) {
    for (size_t i = 0; i < nwords; i++) {
      uint64_t f = xw_db_termfreq(p->db, words[i], strlen(words[i]));
      if (f < tf) tf = f;
    }
  }
  return tf != UINT64_MAX && tf * WIN_RARE <= n;
}

win_plan_t *win_plan_new(xw_db *db, const snip_matcher_t *m, tok_stemmer_t *const *stemmers,
                         const char *const *lang_names, size_t nlangs, const char *naming,
                         int accents, const xw_docid *page, size_t npage, arena_t *a, err_t *err) {
  win_plan_t *p = arena_calloc(a, 1, sizeof *p);
  size_t n = snip_body_terms(m);
  if (!p || !(p->terms = arena_calloc(a, n ? n : 1, sizeof *p->terms)) ||
      !(p->pos = arena_alloc(a, WIN_MAX_POSITIONS * sizeof *p->pos))) {
    err_set(err, ERR_NOMEM, 0, NULL);
    return NULL;
  }
  *p = (win_plan_t){.db = db,
                    .m = m,
                    .stemmers = stemmers,
                    .lang_names = lang_names,
                    .nlangs = nlangs,
                    .naming = naming,
                    .accents = accents,
                    .page = page,
                    .npage = npage,
                    .a = a,
                    .terms = p->terms,
                    .nterms = n,
                    .pos = p->pos,
                    .usable = xw_db_local(db) && xw_db_has_positions(db)};
  for (size_t t = 0; p->usable && t < n; t++) {
    win_term_t *x = &p->terms[t];
    const char *const *words;
    size_t nwords, sl;
    const char *stem;
    snip_body_term(m, t, 0, &x->kind, &words, &nwords, &stem, &sl);
    if (!p->rare) p->rare = win_rare(p, x->kind, words, nwords, stem, sl);
    if (x->kind == SNIP_TERM_WORD) {
      if (!(x->per_lang = arena_calloc(a, nlangs ? nlangs : 1, sizeof *x->per_lang))) {
        err_set(err, ERR_NOMEM, 0, NULL);
        return NULL;
      }
    } else if (x->kind == SNIP_TERM_PREFIX) {
      win_gather_t g = {0};
      if (win_lexicon(p, words[0], strlen(words[0]), &g, &x->exact, err)) return NULL;
      if (x->exact.state < 0) p->usable = 0;
    } else {
      size_t *lens = arena_calloc(a, nwords ? nwords : 1, sizeof *lens);
      if (!lens) {
        err_set(err, ERR_NOMEM, 0, NULL);
        return NULL;
      }
      for (size_t i = 0; i < nwords; i++) lens[i] = strlen(words[i]);
      x->exact =
          (win_words_t){.state = 1, .words = (const char **)words, .lens = lens, .n = nwords};
    }
  }
  if (!p->rare) p->usable = 0;
  return p;
}

/* Mark the blocks of w's body positions, and *title = 1 for a title one;
 * *count: its positions, a title one counting SCHEMA_TITLE_WDF, the words
 * read until it reaches enough.  *ok = 0 past WIN_MAX_POSITIONS. */
static int win_mark_words(win_plan_t *p, xw_docid did, const win_words_t *w, const ds_body_t *b,
                          uint64_t enough, unsigned char *marks, int *title, uint64_t *count,
                          int *ok, err_t *err) {
  uint64_t body0 = (uint64_t)b->title_words + SCHEMA_TITLE_GAP; /* body word 0's position */
  *count = 0;
  for (size_t i = 0; i < w->n && *count < enough; i++) {
    size_t n;
    int rc =
        xw_db_positions(p->db, did, w->words[i], w->lens[i], p->pos, WIN_MAX_POSITIONS, &n, err);
    if (rc) return rc;
    if (n > WIN_MAX_POSITIONS) {
      *ok = 0;
      return 0;
    }
    size_t k = 0; /* positions ascend, and so do the blocks' first words */
    for (size_t j = 0; j < n; j++) {
      if (p->pos[j] < body0) {
        *count += SCHEMA_TITLE_WDF;
        *title = 1;
        continue;
      }
      (*count)++;
      uint64_t word = p->pos[j] - body0;
      while (k + 1 < b->nblocks && b->blocks[k + 1].word <= word) k++;
      if (b->nblocks) marks[k] = 1;
    }
  }
  return 0;
}

int win_mark(win_plan_t *p, size_t hit, size_t lang, const ds_body_t *b, unsigned char *marks,
             int *title, int *ok, err_t *err) {
  *ok = 0;
  *title = 0;
  if (!p->usable || !b->words || hit >= p->npage) return 0;
  xw_docid did = p->page[hit];
  memset(marks, 0, b->nblocks);
  for (size_t t = 0; t < p->nterms; t++) {
    win_words_t *w = &p->terms[t].exact;
    if (p->terms[t].kind == SNIP_TERM_WORD) {
      if (lang >= p->nlangs) continue; /* the matcher marks no word there */
      int rc = win_stem_words(p, t, lang, &w, err);
      if (rc) return rc;
      if (w->state < 0) return 0;
    }
    /* A word's stem term counts its forms' positions in the article: once
     * they add up to it, the forms left have none there (an index whose
     * stems and words agree: the count is there to catch a form outside
     * the lexicon range, which leaves it short).  A count of 0 reads
     * them all, as any term that does not read its count does. */
    uint32_t wdf = w->stem_term ? w->wdf[hit] : 0;
    for (;;) {
      uint64_t count;
      int fine = 1;
      int rc =
          win_mark_words(p, did, w, b, wdf ? wdf : UINT64_MAX, marks, title, &count, &fine, err);
      if (rc || !fine) return rc;
      if (!w->stem_term || wdf == count) break; /* every form of the stem found */
      if (!w->narrow) return 0;
      /* Forms outside the narrow range: the wider one marks a superset. */
      if ((rc = win_widen(p, t, lang, w, err))) return rc;
    }
  }
  *ok = 1;
  return 0;
}
