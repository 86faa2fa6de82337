/* eng.c: the search engine (see eng.h): opens a Sift index, turns a parsed
 * query into a Xapian query following schema.h, runs it, and shapes the
 * answer: hits with their stored fields and snippets, exact totals and facet
 * counts.
 *
 * Invariants: every xw_query made here is freed before the function that made
 * it returns (xw_query_combine copies its subqueries); everything handed back
 * to the caller lives in the caller's arena.
 */
#include "eng.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ds.h"
#include "schema.h"
#include "snip.h"
#include "tok.h"
#include "xw.h"

#define ENG_MAX_LANGS 16
#define ENG_TERM_CAP 512

struct eng {
  xw_db *db;
  char *path;
  eng_limits_t lim;
  char *lang;  /* default Snowball algorithm */
  char *langs; /* comma-separated */
  const char *lang_names[ENG_MAX_LANGS];
  tok_stemmer_t *stemmers[ENG_MAX_LANGS];
  size_t nlangs;
  ds_codec_t *codec;
  char *dict;
  size_t dict_len;
  int is_dir;          /* a directory (not a stub): its version file is watched */
  int had_positions;   /* sift.positions metadata is set */
  uint64_t sig_ino;    /* the version file's inode and mtime (ns) when opened */
  uint64_t generation; /* its mtime, or the revision for a stub */
  /* Facet columns (xw.h), loaded at a facet's first use; a directory's
   * engine is opened afresh when the index changes, so they never go
   * stale.  col_state: 0 not tried, 1 loaded, 2 unusable (too many
   * values, or a stub whose shards may be remote). */
  xw_column *cols[QP_FACET__COUNT];
  unsigned char col_state[QP_FACET__COUNT];
};

/* The version file of a Xapian glass directory; every commit rewrites it and
 * a swapped-in compaction brings a new one. */
static int eng_signature(const char *path, uint64_t *ino, uint64_t *mtime_ns) {
  char f[4096];
  struct stat st;
  snprintf(f, sizeof f, "%s/iamglass", path);
  if (stat(f, &st) != 0) return -1;
  *ino = (uint64_t)st.st_ino;
  *mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
  return 0;
}

const eng_limits_t eng_default_limits = {
    .max_limit = QP_MAX_LIMIT, .max_offset = 100000, .time_limit = 0, .max_expansion = 0,
    .max_cost = 0, .bm25_k1 = ENG_BM25_K1, .bm25_b = ENG_BM25_B};

/* ---- opening ---- */

static void eng_drop_meta(eng_t *e) {
  for (size_t i = 0; i < e->nlangs; i++) tok_stemmer_free(e->stemmers[i]);
  e->nlangs = 0;
  ds_codec_free(e->codec);
  e->codec = NULL;
  free(e->lang);
  free(e->langs);
  free(e->dict);
  e->lang = e->langs = e->dict = NULL;
  e->dict_len = 0;
}

/* Read the index metadata: format, languages, dictionary. */
static int eng_load_meta(eng_t *e, err_t *err) {
  char *v = NULL;
  size_t n = 0;
  int rc = xw_db_get_metadata(e->db, SCHEMA_META_FORMAT, &v, &n, err);
  if (rc) return rc;
  if (!v) {
    return err_set(err, ERR_INDEX_FORMAT, 0, "%s is not a Sift index (no %s metadata)", e->path,
                   SCHEMA_META_FORMAT);
  }
  int format = atoi(v);
  free(v);
  if (format != SCHEMA_FORMAT) {
    return err_set(err, ERR_INDEX_FORMAT, 0,
                   "%s has index format %d; this Sift reads format %d (rebuild the index)",
                   e->path, format, SCHEMA_FORMAT);
  }
  eng_drop_meta(e);
  if ((rc = xw_db_get_metadata(e->db, SCHEMA_META_LANG, &e->lang, &n, err))) return rc;
  if ((rc = xw_db_get_metadata(e->db, SCHEMA_META_LANGS, &e->langs, &n, err))) return rc;
  if (!e->lang && !(e->lang = strdup("english"))) return err_set(err, ERR_NOMEM, 0, NULL);
  if (!e->langs && !(e->langs = strdup(e->lang))) return err_set(err, ERR_NOMEM, 0, NULL);
  /* Stemmer 0 is the default language; then the others in sift.langs. */
  char list[1024];
  snprintf(list, sizeof list, "%s,%s", e->lang, e->langs);
  for (char *save = NULL, *name = strtok_r(list, ",", &save); name && e->nlangs < ENG_MAX_LANGS;
       name = strtok_r(NULL, ",", &save)) {
    int dup = 0;
    for (size_t i = 0; i < e->nlangs; i++) dup |= strcmp(e->lang_names[i], name) == 0;
    if (dup) continue;
    if (tok_stemmer_new(name, &e->stemmers[e->nlangs]) != 0) {
      return err_set(err, ERR_INDEX_FORMAT, 0, "%s uses language '%s', which this Sift lacks",
                     e->path, name);
    }
    e->lang_names[e->nlangs] = tok_stemmer_name(e->stemmers[e->nlangs]);
    e->nlangs++;
  }
  char *pos = NULL;
  if ((rc = xw_db_get_metadata(e->db, SCHEMA_META_POSITIONS, &pos, &n, err))) return rc;
  e->had_positions = pos != NULL;
  free(pos);
  if ((rc = xw_db_get_metadata(e->db, SCHEMA_META_ZDICT, &e->dict, &e->dict_len, err))) return rc;
  return ds_codec_new(e->dict, e->dict_len, 3, &e->codec, err);
}

int eng_open(const char *path, const eng_limits_t *lim, eng_t **out, err_t *err) {
  struct stat st;
  *out = NULL;
  if (stat(path, &st) != 0) {
    return err_set(err, ERR_NO_INDEX, 0, "no index at %s: %s", path, strerror(errno));
  }
  eng_t *e = calloc(1, sizeof *e);
  if (!e || !(e->path = strdup(path))) {
    free(e);
    return err_set(err, ERR_NOMEM, 0, NULL);
  }
  e->lim = lim ? *lim : eng_default_limits;
  /* Read the signature before opening: a commit in between makes it look
   * older than the handle, which only costs one more reopen. */
  e->is_dir = S_ISDIR(st.st_mode) && eng_signature(path, &e->sig_ino, &e->generation) == 0;
  if (S_ISDIR(st.st_mode) && access(path, R_OK | X_OK) != 0) {
    int rc = err_set(err, ERR_NO_INDEX, 0, "cannot read the index at %s: %s", path, strerror(errno));
    eng_free(e);
    return rc;
  }
  int rc = xw_db_open(path, &e->db, err);
  if (rc == ERR_NO_INDEX || rc == ERR_XAPIAN) {
    char why[sizeof err->msg];
    snprintf(why, sizeof why, "%s", err_message(err));
    err_clear(err);
    rc = strstr(why, "ermission denied")
             ? err_set(err, ERR_NO_INDEX, 0, "cannot read the index at %s: %s", path, why)
             : err_set(err, ERR_NO_INDEX, 0, "%s is not a Sift index (no database there: %s)", path, why);
  } else if (rc) {
    char why[sizeof err->msg];
    snprintf(why, sizeof why, "%s", err_message(err));
    err_clear(err);
    err_set(err, rc, 0, "cannot open the index at %s: %s", path, why);
  }
  if (!rc) rc = eng_load_meta(e, err);
  /* An index that recorded indexing words but holds no positions lost its
   * position table: phrases would silently match wrongly. */
  if (!rc && e->had_positions && !xw_db_has_positions(e->db))
    rc = err_set(err, ERR_CORRUPT, 0, "the index at %s has lost its word positions (position table)", path);
  if (rc) {
    eng_free(e);
    return rc;
  }
  *out = e;
  return 0;
}

void eng_free(eng_t *e) {
  if (!e) return;
  for (size_t f = 0; f < QP_FACET__COUNT; f++) xw_column_free(e->cols[f]);
  eng_drop_meta(e);
  xw_db_free(e->db);
  free(e->path);
  free(e);
}

int eng_reopen(eng_t *e, int *changed, err_t *err) {
  int moved = 0, rc = 0;
  if (changed) *changed = 0;
  uint64_t ino, mtime;
  int glass = eng_signature(e->path, &ino, &mtime) == 0;
  /* A stub directory whose shards were merged (idx.h) is a glass one now. */
  if (e->is_dir || glass) {
    if (e->is_dir && glass && ino == e->sig_ino && mtime == e->generation) return 0;
    /* Open afresh and take over the new engine's state: a handle reopened
     * across a swapped directory would mix the old files with the new. */
    eng_t *fresh = NULL;
    if ((rc = eng_open(e->path, &e->lim, &fresh, err))) return rc;
    eng_t old = *e;
    *e = *fresh;
    *fresh = old;
    eng_free(fresh);
    moved = 1;
  } else {
    rc = xw_db_reopen(e->db, &moved, err);
    if (!rc && moved) rc = eng_load_meta(e, err);
    if (!rc) e->generation = xw_db_revision(e->db);
  }
  if (changed) *changed = moved;
  return rc;
}

void eng_set_limits(eng_t *e, const eng_limits_t *lim) { e->lim = *lim; }

/* K1 and B of 0 would mean Xapian's defaults to xw_search. */
int eng_parse_bm25(const char *s, double *k1, double *b) {
  char *end;
  double x = strtod(s, &end), y;
  if (end == s || *end != ',') return -1;
  s = end + 1;
  y = strtod(s, &end);
  if (end == s || *end || !(x > 0 && x < 1000) || !(y > 0 && y <= 1)) return -1;
  *k1 = x;
  *b = y;
  return 0;
}

/* ---- query translation ---- */

typedef struct eng_build {
  eng_t *e;
  err_t *err;
  const qp_node_t *root;
  int any; /* match:any: the root ORs its text */
} eng_build_t;

static xw_query *eng_term(const char *prefix, const char *word) {
  char term[ENG_TERM_CAP];
  int n = snprintf(term, sizeof term, "%s%s", prefix, word);
  if (n < 0 || (size_t)n >= sizeof term) return xw_query_match_nothing();
  return xw_query_term(term, (size_t)n, 1);
}

/* Combine and free the parts (NULL entries are skipped). */
static xw_query *eng_combine_free(xw_op op, xw_query **parts, size_t n) {
  size_t k = 0;
  int failed = 0;
  for (size_t i = 0; i < n; i++) {
    if (parts[i]) parts[k++] = parts[i];
    else failed = 1;
  }
  xw_query *q = failed ? NULL : k == 1 ? parts[0] : xw_query_combine(op, parts, k);
  if (k != 1 || failed) {
    for (size_t i = 0; i < k; i++) xw_query_free(parts[i]);
  }
  return q;
}

static xw_query *eng_word(eng_build_t *b, const qp_node_t *n) {
  eng_t *e = b->e;
  xw_query *parts[ENG_MAX_LANGS];
  char terms[ENG_MAX_LANGS][ENG_TERM_CAP];
  size_t np = 0;
  int title = n->field == QF_TITLE;
  for (size_t i = 0; i < e->nlangs; i++) {
    size_t sl;
    const char *stem = tok_stem(e->stemmers[i], n->words[0], strlen(n->words[0]), &sl);
    size_t tl = schema_stem_term(terms[np], ENG_TERM_CAP, title, e->lang_names[i], e->lang_names[0],
                                 stem, sl);
    if (!tl) continue;
    parts[np] = xw_query_term(terms[np], tl, 1);
    np++;
  }
  if (np == 0) return xw_query_match_nothing();
  return eng_combine_free(XW_SYNONYM, parts, np);
}

static xw_query *eng_phrase(const qp_node_t *n) {
  const char *prefix = n->field == QF_TITLE ? SCHEMA_P_TITLE : "";
  if (n->nwords == 1) return eng_term(prefix, n->words[0]);
  xw_query **parts = calloc(n->nwords, sizeof *parts);
  if (!parts) return NULL;
  for (size_t i = 0; i < n->nwords; i++) parts[i] = eng_term(prefix, n->words[i]);
  xw_query *q = eng_combine_free(XW_PHRASE, parts, n->nwords);
  free(parts);
  return q;
}

static xw_query *eng_prefix(eng_build_t *b, const qp_node_t *n) {
  char term[ENG_TERM_CAP];
  int len = snprintf(term, sizeof term, "%s%s", n->field == QF_TITLE ? SCHEMA_P_TITLE : "",
                     n->words[0]);
  if (len < 0 || (size_t)len >= sizeof term) return xw_query_match_nothing();
  return xw_query_wildcard(term, (size_t)len, b->e->lim.max_expansion);
}

static xw_query *eng_filter(const qp_node_t *n) {
  const char *prefix = n->field == QF_OUTLET   ? SCHEMA_P_OUTLET
                       : n->field == QF_AUTHOR ? SCHEMA_P_AUTHOR
                       : n->field == QF_TAG    ? SCHEMA_P_TAG
                                               : SCHEMA_P_LANG;
  const char *key = n->key;
  if (n->field == QF_LANG) {
    key = tok_lang_algorithm(n->key);
    if (!key) return xw_query_match_nothing();
  }
  return eng_term(prefix, key);
}

#define ENG_DATE_TERMS 400 /* past this many terms a range scans values instead */

static uint32_t eng_ymd(const char *v) {
  return strlen(v) == 8 ? (uint32_t)strtoul(v, NULL, 10) : 0;
}

static int eng_month_days(uint32_t y, uint32_t m) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[(m - 1) % 12];
}

/* A date range as the OR of the fewest year, month and day terms covering
 * it: filter terms are far cheaper to match than a scan of every candidate's
 * date value.  Open ends are closed at the dates the index holds.  Returns
 * NULL (not an error) when the cover would take more than ENG_DATE_TERMS. */
static xw_query *eng_date_terms(eng_t *e, uint32_t lo, uint32_t hi) {
  if (!lo || !hi) {
    char blo[16], bhi[16];
    if (xw_db_value_bounds(e->db, SCHEMA_SLOT_DATE, blo, bhi, sizeof blo, NULL)) return NULL;
    uint32_t dlo = eng_ymd(blo), dhi = eng_ymd(bhi);
    if (!dlo || !dhi) return xw_query_match_nothing(); /* nothing is dated */
    if (!lo) lo = dlo;
    if (!hi) hi = dhi;
  }
  if (lo > hi) return xw_query_match_nothing();
  xw_query *parts[ENG_DATE_TERMS];
  size_t n = 0;
  uint32_t y = lo / 10000, m = lo / 100 % 100, d = lo % 100;
  char buf[16];
  while (y * 10000 + m * 100 + d <= hi) {
    if (n == ENG_DATE_TERMS) {
      for (size_t i = 0; i < n; i++) xw_query_free(parts[i]);
      return NULL;
    }
    uint32_t month_end = y * 10000 + m * 100 + (uint32_t)eng_month_days(y, m);
    if (m == 1 && d == 1 && y * 10000 + 1231 <= hi) {
      snprintf(buf, sizeof buf, "%04u", y);
      parts[n++] = eng_term(SCHEMA_P_YEAR, buf);
      y++;
    } else if (d == 1 && month_end <= hi) {
      snprintf(buf, sizeof buf, "%04u%02u", y, m);
      parts[n++] = eng_term(SCHEMA_P_MONTH, buf);
      if (++m > 12) m = 1, y++;
    } else {
      snprintf(buf, sizeof buf, "%04u%02u%02u", y, m, d);
      parts[n++] = eng_term(SCHEMA_P_DAY, buf);
      if (++d > (uint32_t)eng_month_days(y, m)) {
        d = 1;
        if (++m > 12) m = 1, y++;
      }
      continue;
    }
    d = 1;
  }
  return n ? eng_combine_free(XW_OR, parts, n) : xw_query_match_nothing();
}

static xw_query *eng_date(eng_t *e, const qp_node_t *n) {
  xw_query *q = eng_date_terms(e, n->lo, n->hi);
  if (q) return q;
  char los[16], his[16];
  snprintf(los, sizeof los, "%08u", n->lo);
  snprintf(his, sizeof his, "%08u", n->hi);
  return xw_query_value_range(SCHEMA_SLOT_DATE, n->lo ? los : NULL, n->hi ? his : NULL);
}

/* Does the node contribute text weight (a word, phrase or prefix outside
 * NOT)?  Nodes that do not are applied as filters. */
static int eng_weighted(const qp_node_t *n) {
  switch (n->kind) {
    case QN_WORD:
    case QN_PHRASE:
    case QN_PREFIX:
      return 1;
    case QN_AND:
    case QN_OR:
      for (size_t i = 0; i < n->nkids; i++)
        if (eng_weighted(n->kids[i])) return 1;
      return 0;
    default:
      return 0;
  }
}

static xw_query *eng_node(eng_build_t *b, const qp_node_t *n);

/* match:any is about words: a token that is several (`wind-tunnel`) gives
 * its words, each stemmed, rather than the phrase. */
static xw_query *eng_any_words(eng_build_t *b, const qp_node_t *n) {
  xw_query **parts = calloc(n->nwords, sizeof *parts);
  if (!parts) return NULL;
  for (size_t i = 0; i < n->nwords; i++) {
    qp_node_t w = {.kind = QN_WORD, .field = n->field, .words = &n->words[i], .nwords = 1};
    parts[i] = eng_word(b, &w);
  }
  xw_query *q = eng_combine_free(XW_OR, parts, n->nwords);
  free(parts);
  return q;
}

/* A word in more than half of the articles says little about which to
 * return (its Robertson-Sparck Jones weight would be negative).  The word's
 * stem terms, one per language, are in disjoint sets of articles, so the
 * sum of their frequencies (xw_query_cost) is the number of articles it
 * matches. */
static int eng_common(eng_build_t *b, const qp_node_t *k) {
  uint64_t n = xw_db_doccount(b->e->db);
  if (k->kind != QN_WORD || n < 4) return 0;
  xw_query *w = eng_word(b, k);
  int common = w && xw_query_cost(b->e->db, w, n) > n / 2;
  xw_query_free(w);
  return common;
}

/* The text conditions of the AND n combined: all of them, or, for the root
 * under match:any, any of them, with the common words (eng_common) only
 * adding weight, so that they do not make the whole index match (unless
 * every word is common). */
#define ENG_MAX_COMMON 16
static xw_query *eng_text(xw_op op, xw_query **text, size_t nt, xw_query **common, size_t nc) {
  if (nt == 0) return eng_combine_free(op, common, nc);
  xw_query *t = eng_combine_free(op, text, nt);
  if (!nc) return t;
  xw_query *maybe[1 + ENG_MAX_COMMON] = {t};
  memcpy(maybe + 1, common, nc * sizeof *common);
  return eng_combine_free(XW_AND_MAYBE, maybe, nc + 1);
}

static xw_query *eng_and(eng_build_t *b, const qp_node_t *n) {
  /* One allocation holds the three groups: text, filters, exclusions (with
   * a spare slot in front of the exclusions for the AND_NOT's left side). */
  xw_query **all = calloc(3 * n->nkids + 1, sizeof *all);
  if (!all) return NULL;
  xw_query **text = all, **filt = all + n->nkids, **neg = all + 2 * n->nkids + 1;
  xw_query *common[ENG_MAX_COMMON];
  size_t nt = 0, nf = 0, nn = 0, nc = 0;
  int any = n == b->root && b->any;
  for (size_t i = 0; i < n->nkids; i++) {
    const qp_node_t *k = n->kids[i];
    if (k->kind == QN_NOT) neg[nn++] = eng_node(b, k->kids[0]);
    else if (any && nc < ENG_MAX_COMMON && eng_common(b, k)) common[nc++] = eng_node(b, k);
    else if (any && k->kind == QN_PHRASE && !k->quoted) text[nt++] = eng_any_words(b, k);
    else if (eng_weighted(k)) text[nt++] = eng_node(b, k);
    else filt[nf++] = eng_node(b, k);
  }
  xw_query *t = nt + nc ? eng_text(any ? XW_OR : XW_AND, text, nt, common, nc) : NULL;
  xw_query *f = nf ? eng_combine_free(XW_AND, filt, nf) : NULL;
  xw_query *q = NULL;
  if ((nt + nc && !t) || (nf && !f)) {
    xw_query_free(t);
    xw_query_free(f);
  } else if (t && f) {
    xw_query *pair[2] = {t, f};
    q = eng_combine_free(XW_FILTER, pair, 2);
  } else {
    q = t ? t : f ? f : xw_query_match_all();
  }
  if (nn) {
    neg[-1] = q; /* a NULL anywhere fails the whole, freeing the rest */
    q = eng_combine_free(XW_AND_NOT, neg - 1, nn + 1);
  }
  free(all);
  return q;
}

static xw_query *eng_node(eng_build_t *b, const qp_node_t *n) {
  switch (n->kind) {
    case QN_WORD: return eng_word(b, n);
    case QN_PHRASE: return eng_phrase(n);
    case QN_PREFIX: return eng_prefix(b, n);
    case QN_FILTER: return eng_filter(n);
    case QN_DATE: return eng_date(b->e, n);
    case QN_AND: return eng_and(b, n);
    case QN_NOT: {
      qp_node_t wrap = {.kind = QN_AND, .kids = (qp_node_t **)&n, .nkids = 1};
      return eng_and(b, &wrap);
    }
    case QN_OR: {
      xw_query **parts = calloc(n->nkids ? n->nkids : 1, sizeof *parts);
      if (!parts) return NULL;
      for (size_t i = 0; i < n->nkids; i++) parts[i] = eng_node(b, n->kids[i]);
      xw_query *q = eng_combine_free(XW_OR, parts, n->nkids);
      free(parts);
      return q;
    }
  }
  return NULL;
}

/* The whole query, with the root's text ORed when any; a filter-only query
 * gets zero weight so that relevance order falls back to document order
 * rather than meaningless scores. */
static int eng_query(eng_t *e, const qp_query_t *q, int any, xw_query **out, err_t *err) {
  eng_build_t b = {e, err, q->root, any};
  xw_query *x = q->root ? eng_node(&b, q->root) : xw_query_match_all();
  if (x && q->root && !eng_weighted(q->root)) {
    xw_query *scaled = xw_query_scale(x, 0);
    xw_query_free(x);
    x = scaled;
  }
  if (!x) return err_set(err, ERR_NOMEM, 0, "out of memory building the query");
  *out = x;
  return 0;
}

/* ---- searching ---- */

static const xw_facet_spec eng_facet_specs[QP_FACET__COUNT] = {
    [QP_FACET_OUTLET] = {SCHEMA_SLOT_OUTLET, 0, 0, NULL},
    [QP_FACET_YEAR] = {SCHEMA_SLOT_YEAR, 0, 0, NULL},
    [QP_FACET_MONTH] = {SCHEMA_SLOT_MONTH, 0, 0, NULL},
    [QP_FACET_DAY] = {SCHEMA_SLOT_DAY, 0, 0, NULL},
    [QP_FACET_AUTHOR] = {SCHEMA_SLOT_AUTHOR, 0, 0, NULL},
    [QP_FACET_TAG] = {SCHEMA_SLOT_TAGS, 0, 1, NULL},
};

/* The facet's column, loaded on first use; NULL when it has none (tags are
 * multi-valued; a failed load is retried next time, counting by values
 * meanwhile). */
static const xw_column *eng_column(eng_t *e, qp_facet_t f) {
  if (e->col_state[f] == 0) {
    if (!e->is_dir || eng_facet_specs[f].multi) {
      e->col_state[f] = 2;
    } else {
      err_t err = {0};
      if (xw_column_load(e->db, eng_facet_specs[f].slot, 0, &e->cols[f], &err) == 0)
        e->col_state[f] = e->cols[f] ? 1 : 2;
    }
  }
  return e->cols[f];
}

/* "20231102" -> "2023-11-02" (any prefix of it), in the arena. */
static const char *eng_date_label(arena_t *a, const char *v, size_t n) {
  char out[16];
  size_t k = 0;
  for (size_t i = 0; i < n && k + 2 < sizeof out; i++) {
    if (i == 4 || i == 6) out[k++] = '-';
    out[k++] = v[i];
  }
  return arena_strndup(a, out, k);
}

static size_t eng_lang_index(eng_t *e, const char *lang) {
  const char *alg = lang ? tok_lang_algorithm(lang) : NULL;
  for (size_t i = 0; alg && i < e->nlangs; i++)
    if (strcmp(e->lang_names[i], alg) == 0) return i;
  return 0;
}

static int eng_check_page(eng_t *e, const qp_query_t *q, err_t *err) {
  if (q->limit > e->lim.max_limit) {
    return err_set(err, ERR_BAD_QUERY, 0, "limit %u exceeds the maximum %u", q->limit,
                   e->lim.max_limit);
  }
  if (q->offset > e->lim.max_offset) {
    return err_set(err, ERR_BAD_QUERY, 0, "offset %u exceeds the maximum %u", q->offset,
                   e->lim.max_offset);
  }
  return 0;
}

static uint64_t eng_query_cost(eng_t *e, const xw_query *x, uint64_t hits, uint64_t cap) {
  uint64_t c = xw_query_cost(e->db, x, cap), h = hits * ENG_HIT_COST;
  return c > UINT64_MAX - h ? UINT64_MAX : c + h;
}

uint64_t eng_cost(eng_t *e, const qp_query_t *q, uint32_t hits) {
  xw_query *x = NULL;
  if (eng_query(e, q, q->match_any, &x, NULL)) return UINT64_MAX;
  uint64_t c = eng_query_cost(e, x, hits, UINT64_MAX);
  xw_query_free(x);
  return c;
}

/* ERR_OVER_BUDGET when the limits set a budget and x would exceed it
 * (x is then freed). */
static int eng_check_budget(eng_t *e, xw_query *x, uint64_t hits, err_t *err) {
  if (!e->lim.max_cost || eng_query_cost(e, x, hits, e->lim.max_cost) <= e->lim.max_cost)
    return 0;
  xw_query_free(x);
  return err_set(err, ERR_OVER_BUDGET, 0, "estimated work above %llu",
                 (unsigned long long)e->lim.max_cost);
}

/* Would match:any change q: is its root an AND of two or more text
 * conditions (filters and exclusions aside)? */
static int eng_relaxable(const qp_query_t *q) {
  size_t text = 0;
  if (!q->relax || q->match_any || !q->root || q->root->kind != QN_AND) return 0;
  for (size_t i = 0; i < q->root->nkids; i++) text += eng_weighted(q->root->kids[i]);
  return text >= 2;
}

static int eng_search_as(eng_t *e, const qp_query_t *q, int any, arena_t *a, eng_result_t *out,
                         err_t *err);

int eng_search(eng_t *e, const qp_query_t *q, arena_t *a, eng_result_t *out, err_t *err) {
  int rc = eng_search_as(e, q, q->match_any, a, out, err);
  if (!rc && out->total == 0 && eng_relaxable(q)) {
    rc = eng_search_as(e, q, 1, a, out, err);
    out->relaxed = !rc;
  }
  return rc;
}

static int eng_search_as(eng_t *e, const qp_query_t *q, int any, arena_t *a, eng_result_t *out,
                         err_t *err) {
  memset(out, 0, sizeof *out);
  int rc = eng_check_page(e, q, err);
  if (rc) return rc;
  xw_query *x = NULL;
  if ((rc = eng_query(e, q, any, &x, err))) return rc;
  if ((rc = eng_check_budget(e, x, (uint64_t)q->offset + q->limit, err))) return rc;

  xw_facet_spec specs[QP_FACET__COUNT];
  for (size_t i = 0; i < q->nfacets; i++) {
    specs[i] = eng_facet_specs[q->facets[i].facet];
    specs[i].column = eng_column(e, q->facets[i].facet);
  }
  qp_sort_t sort = q->sort == QP_SORT_DEFAULT ? (q->has_text ? QP_SORT_RELEVANCE : QP_SORT_NEWEST)
                                              : q->sort;
  xw_search_opts o = {
      .offset = q->offset,
      .limit = q->limit,
      .sort = sort == QP_SORT_NEWEST   ? XW_SORT_VALUE_DESC
              : sort == QP_SORT_OLDEST ? XW_SORT_VALUE_ASC
                                       : XW_SORT_RELEVANCE,
      .sort_slot = sort == QP_SORT_OLDEST ? SCHEMA_SLOT_OLDEST : SCHEMA_SLOT_NEWEST,
      .check_at_least = q->exact ? UINT32_MAX : 0,
      .facets = specs,
      .nfacets = q->nfacets,
      .time_limit = e->lim.time_limit,
      .bm25_k1 = e->lim.bm25_k1,
      .bm25_b = e->lim.bm25_b,
      .local = e->is_dir,
  };
  xw_mset *m = NULL;
  rc = xw_search(e->db, x, &o, &m, err);
  xw_query_free(x);
  if (rc) return rc;

  out->total_exact = xw_mset_matches_lower(m) == xw_mset_matches_upper(m);
  out->total = out->total_exact ? xw_mset_matches_lower(m) : xw_mset_matches_estimated(m);
  out->offset = q->offset;
  out->limit = q->limit;
  uint32_t nh = xw_mset_size(m);
  out->hits = nh ? arena_calloc(a, nh, sizeof *out->hits) : NULL;
  snip_matcher_t *sm = nh ? snip_matcher_new(a, q, e->stemmers, e->nlangs) : NULL;
  if (nh && (!out->hits || !sm)) {
    rc = err_set(err, ERR_NOMEM, 0, "out of memory for the result page");
    goto out;
  }
  for (uint32_t i = 0; i < nh; i++) {
    const char *data;
    size_t len, rest;
    doc_t d;
    if ((rc = xw_mset_data(m, i, &data, &len, err))) goto out;
    /* The head frame has the fields and the start of the body, which is
     * where most snippets are; the rest is decoded only when needed. */
    if ((rc = ds_decode_head(e->codec, data, len, a, &d, &rest, err))) goto out;
    eng_hit_t *h = &out->hits[i];
    h->rank = q->offset + i + 1;
    h->score = xw_mset_weight(m, i);
    h->id = d.id;
    h->title = d.title;
    h->outlet = d.outlet;
    h->date = d.date;
    h->url = d.url;
    if (d.body) {
      size_t lang = eng_lang_index(e, d.lang), blen = strlen(d.body);
      int more;
      h->snippet =
          snip_build_part(sm, lang, d.body, blen, blen + rest, ENG_SNIPPET_BYTES, a, &more);
      if (more) { /* the snippet lies further on: decode the tail, resume */
        const char *body;
        if ((rc = ds_decode_tail(e->codec, data, len, d.body, a, &body, err))) goto out;
        h->snippet = snip_build_part(sm, lang, body, blen + rest, blen + rest, ENG_SNIPPET_BYTES,
                                     a, &more);
      }
      if (!h->snippet) {
        rc = err_set(err, ERR_NOMEM, 0, "out of memory for a snippet");
        goto out;
      }
    }
  }
  out->nhits = nh;

  if (q->nfacets) {
    out->facets = arena_calloc(a, q->nfacets, sizeof *out->facets);
    if (!out->facets) {
      rc = err_set(err, ERR_NOMEM, 0, NULL);
      goto out;
    }
    for (size_t f = 0; f < q->nfacets; f++) {
      eng_facet_t *ef = &out->facets[f];
      size_t all = xw_mset_facet_size(m, f), nv = 0;
      size_t cap = all < q->facets[f].limit ? all : q->facets[f].limit;
      ef->facet = q->facets[f].facet;
      ef->values = cap ? arena_calloc(a, cap, sizeof *ef->values) : NULL;
      if (cap && !ef->values) {
        rc = err_set(err, ERR_NOMEM, 0, NULL);
        goto out;
      }
      unsigned slot = specs[f].slot;
      int is_date = slot == SCHEMA_SLOT_DAY || slot == SCHEMA_SLOT_MONTH || slot == SCHEMA_SLOT_YEAR;
      for (size_t k = 0; k < all && nv < cap; k++) {
        const char *v;
        size_t vl;
        uint32_t count;
        xw_mset_facet_get(m, f, k, &v, &vl, &count);
        if (vl == 1 && v[0] == SCHEMA_NO_VALUE[0]) continue; /* "none" is not a value */
        ef->values[nv].count = count;
        ef->values[nv].value = is_date ? eng_date_label(a, v, vl) : arena_strndup(a, v, vl);
        if (!ef->values[nv++].value) {
          rc = err_set(err, ERR_NOMEM, 0, NULL);
          goto out;
        }
      }
      ef->nvalues = nv;
    }
    out->nfacets = q->nfacets;
  }
out:
  xw_mset_free(m);
  return rc;
}

int eng_count(eng_t *e, const qp_query_t *q, uint32_t *count, err_t *err) {
  xw_query *x = NULL;
  int rc = eng_query(e, q, q->match_any, &x, err);
  if (rc) return rc;
  if ((rc = eng_check_budget(e, x, 0, err))) return rc;
  xw_search_opts o = {
      .limit = 0, .check_at_least = UINT32_MAX, .time_limit = e->lim.time_limit, .local = e->is_dir};
  xw_mset *m = NULL;
  rc = xw_search(e->db, x, &o, &m, err);
  xw_query_free(x);
  if (rc) return rc;
  *count = xw_mset_matches_lower(m);
  xw_mset_free(m);
  return 0;
}

int eng_get(eng_t *e, const char *id, size_t len, arena_t *a, doc_t *out, err_t *err) {
  char term[ENG_TERM_CAP];
  if (len == 0 || len > SCHEMA_MAX_ID) {
    return err_set(err, ERR_NOT_FOUND, 0, "no article with id '%.*s'", (int)(len > 80 ? 80 : len), id);
  }
  memcpy(term, SCHEMA_P_ID, 1);
  memcpy(term + 1, id, len);
  xw_docid did;
  int rc = xw_db_find_term(e->db, term, len + 1, &did, err);
  if (rc == ERR_NOT_FOUND) {
    err_clear(err);
    return err_set(err, ERR_NOT_FOUND, 0, "no article with id '%.*s'", (int)(len > 80 ? 80 : len), id);
  }
  if (rc) return rc;
  char *data = NULL;
  size_t dl = 0;
  if ((rc = xw_db_get_data(e->db, did, &data, &dl, err))) return rc;
  rc = ds_decode(e->codec, data, dl, a, out, err);
  free(data);
  return rc;
}

int eng_stats(eng_t *e, eng_stats_t *out) {
  out->docs = xw_db_doccount(e->db);
  out->revision = xw_db_revision(e->db);
  out->generation = e->is_dir ? e->generation : out->revision;
  out->format = SCHEMA_FORMAT;
  out->lang = e->lang;
  out->langs = e->langs;
  out->avg_length = xw_db_avlength(e->db);
  out->path = e->path;
  return 0;
}

int eng_describe(eng_t *e, const qp_query_t *q, arena_t *a, const char **out, err_t *err) {
  xw_query *x = NULL;
  int rc = eng_query(e, q, q->match_any, &x, err);
  if (rc) return rc;
  char *d = xw_query_describe(x);
  xw_query_free(x);
  if (!d) return err_set(err, ERR_NOMEM, 0, NULL);
  *out = arena_strdup(a, d);
  free(d);
  return *out ? 0 : err_set(err, ERR_NOMEM, 0, NULL);
}
