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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
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
  char **paths; /* as given */
  size_t npaths;
  char *path;   /* the paths joined by ", ", for figures and messages */
  eng_limits_t lim;
  char *lang;  /* the first shard's default Snowball algorithm */
  char *langs; /* every shard's algorithms, comma-separated */
  const char *lang_names[ENG_MAX_LANGS];
  tok_stemmer_t *stemmers[ENG_MAX_LANGS];
  size_t nlangs;
  /* How the shards spell stem terms: the language whose stems go without
   * a language tag (schema_stem_term), the same for every shard. */
  char *naming;
  /* Per shard: the stemmer of its default language, for snippets of the
   * articles that name none. */
  unsigned char *shard_lang;
  /* Per shard: its first and last dates (YYYYMMDD; 0 when it has none),
   * so a search bounded by date reads only the shards that can match. */
  uint32_t *shard_first, *shard_last;
  unsigned char *mask; /* scratch for eng_shard_mask */
  size_t nshards;
  ds_codec_t *codec; /* decodes with every shard's dictionary */
  /* The local files' stamp when opened (xw_db_stamp): a change opens the
   * index afresh, so no stale handle survives a swapped-in compaction or a
   * stub listing new shards.  generation grows with every change: the
   * newest of those files' mtimes, or, with remote shards, the time a
   * change was seen. */
  uint64_t stamp;
  uint64_t generation;
  int broken; /* a remote shard failed: reconnect before the next request */
  /* Facet columns (xw.h), loaded at a facet's first use; the engine is
   * opened afresh when the index changes, so they never go stale.
   * col_state: 0 not tried, 1 loaded, 2 unusable (too many values, or
   * remote shards). */
  xw_column *cols[QP_FACET__COUNT];
  unsigned char col_state[QP_FACET__COUNT];
};

const eng_limits_t eng_default_limits = {
    .max_limit = QP_MAX_LIMIT, .max_offset = 100000, .time_limit = 0, .max_expansion = 0,
    .max_cost = 0, .bm25_k1 = ENG_BM25_K1, .bm25_b = ENG_BM25_B};

static uint64_t eng_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t eng_ymd(const char *v);

/* ---- opening ---- */

static void eng_drop_meta(eng_t *e) {
  for (size_t i = 0; i < e->nlangs; i++) tok_stemmer_free(e->stemmers[i]);
  e->nlangs = 0;
  ds_codec_free(e->codec);
  e->codec = NULL;
  free(e->lang);
  free(e->langs);
  free(e->naming);
  free(e->shard_lang);
  free(e->shard_first);
  free(e->shard_last);
  free(e->mask);
  e->mask = NULL;
  e->lang = e->langs = e->naming = NULL;
  e->shard_lang = NULL;
  e->shard_first = e->shard_last = NULL;
  e->nshards = 0;
}

/* The stemmer for algorithm name, added if new; its index in *at. */
static int eng_add_lang(eng_t *e, const char *name, const char *shard, size_t *at, err_t *err) {
  for (size_t i = 0; i < e->nlangs; i++) {
    if (strcmp(e->lang_names[i], name) == 0) {
      *at = i;
      return 0;
    }
  }
  if (e->nlangs == ENG_MAX_LANGS)
    return err_set(err, ERR_INDEX_FORMAT, 0, "the shards use more than %d languages", ENG_MAX_LANGS);
  if (tok_stemmer_new(name, &e->stemmers[e->nlangs]) != 0)
    return err_set(err, ERR_INDEX_FORMAT, 0, "%s uses language '%s', which this Sift lacks", shard,
                   name);
  e->lang_names[e->nlangs] = tok_stemmer_name(e->stemmers[e->nlangs]);
  size_t have = e->langs ? strlen(e->langs) : 0;
  char *more = realloc(e->langs, have + strlen(name) + 2);
  if (!more) return err_set(err, ERR_NOMEM, 0, NULL);
  snprintf(more + have, strlen(name) + 2, "%s%s", have ? "," : "", e->lang_names[e->nlangs]);
  e->langs = more;
  *at = e->nlangs++;
  return 0;
}

/* Give the codec the dictionaries shard k's documents may use: sift.zdict,
 * and those a merge brought in (sift.zdicts). */
static int eng_add_dicts(eng_t *e, size_t k, err_t *err) {
  char *dict = NULL, *ids = NULL;
  size_t dl = 0, n = 0;
  int rc = xw_db_shard_metadata(e->db, k, SCHEMA_META_ZDICT, &dict, &dl, err);
  if (!rc && dict) rc = ds_codec_add_dict(e->codec, dict, dl, err);
  free(dict);
  if (!rc) rc = xw_db_shard_metadata(e->db, k, SCHEMA_META_ZDICTS, &ids, &n, err);
  for (char *save = NULL, *id = ids && !rc ? strtok_r(ids, ",", &save) : NULL; id && !rc;
       id = strtok_r(NULL, ",", &save)) {
    char key[64];
    snprintf(key, sizeof key, "%s.%s", SCHEMA_META_ZDICT, id);
    dict = NULL;
    if (!(rc = xw_db_shard_metadata(e->db, k, key, &dict, &dl, err)) && dict)
      rc = ds_codec_add_dict(e->codec, dict, dl, err);
    free(dict);
  }
  free(ids);
  return rc;
}

/* Read every shard's metadata (schema.h): each must be a Sift index of a
 * format this Sift reads; their languages and dictionaries are merged, and
 * they must spell stem terms alike, or one query could not serve them all. */
static int eng_load_meta(eng_t *e, err_t *err) {
  eng_drop_meta(e);
  e->nshards = xw_db_nshards(e->db);
  size_t cap = e->nshards ? e->nshards : 1;
  e->shard_lang = calloc(cap, 1);
  e->shard_first = calloc(cap, sizeof *e->shard_first);
  e->shard_last = calloc(cap, sizeof *e->shard_last);
  e->mask = calloc(cap, 1);
  if (!e->shard_lang || !e->shard_first || !e->shard_last || !e->mask) return err_set(err, ERR_NOMEM, 0, NULL);
  int rc = ds_codec_new(NULL, 0, 3, &e->codec, err);
  const char *naming_shard = NULL;
  for (size_t k = 0; k < e->nshards && !rc; k++) {
    const char *name = xw_db_shard_name(e->db, k);
    char *v = NULL, *lang = NULL, *langs = NULL, *pos = NULL;
    size_t n = 0, at = 0;
    if ((rc = xw_db_shard_metadata(e->db, k, SCHEMA_META_FORMAT, &v, &n, err))) break;
    int format = v ? atoi(v) : 0;
    free(v);
    if (!format) {
      rc = err_set(err, ERR_INDEX_FORMAT, 0, "%s is not a Sift index (no %s metadata)", name,
                   SCHEMA_META_FORMAT);
      break;
    }
    if (format < SCHEMA_FORMAT_OLDEST || format > SCHEMA_FORMAT) {
      rc = err_set(err, ERR_INDEX_FORMAT, 0,
                   "%s has index format %d; this Sift reads formats %d to %d (rebuild the index)",
                   name, format, SCHEMA_FORMAT_OLDEST, SCHEMA_FORMAT);
      break;
    }
    if (!(rc = xw_db_shard_metadata(e->db, k, SCHEMA_META_LANG, &lang, &n, err)) &&
        !(rc = xw_db_shard_metadata(e->db, k, SCHEMA_META_LANGS, &langs, &n, err)) &&
        !(rc = xw_db_shard_metadata(e->db, k, SCHEMA_META_POSITIONS, &pos, &n, err))) {
      const char *dflt = lang ? lang : "english";
      const char *naming = schema_naming(format, dflt);
      if (!e->naming) {
        naming_shard = name;
        if (!(e->naming = strdup(naming)) || !(e->lang = strdup(dflt)))
          rc = err_set(err, ERR_NOMEM, 0, NULL);
      } else if (strcmp(e->naming, naming) != 0) {
        rc = err_set(err, ERR_INDEX_FORMAT, 0,
                     "%s and %s spell stems for different default languages (%s, %s: format 1 "
                     "indexes); rebuild the format 1 one with this Sift to read them together",
                     naming_shard, name, e->naming, naming);
      }
      if (!rc) rc = eng_add_lang(e, dflt, name, &at, err);
      e->shard_lang[k] = (unsigned char)at;
      for (char *save = NULL, *l = langs && !rc ? strtok_r(langs, ",", &save) : NULL; l && !rc;
           l = strtok_r(NULL, ",", &save))
        rc = eng_add_lang(e, l, name, &at, err);
      /* A shard that recorded indexing words but holds no positions lost
       * its position table: phrases would silently match wrongly. */
      if (!rc && pos && !xw_db_shard_has_positions(e->db, k))
        rc = err_set(err, ERR_CORRUPT, 0, "the index at %s has lost its word positions (position table)",
                     name);
      if (!rc) rc = eng_add_dicts(e, k, err);
      char lo[16], hi[16];
      if (!rc && !(rc = xw_db_shard_value_bounds(e->db, k, SCHEMA_SLOT_DATE, lo, hi, sizeof lo, err))) {
        e->shard_first[k] = eng_ymd(lo);
        e->shard_last[k] = eng_ymd(hi);
      }
    }
    free(lang);
    free(langs);
    free(pos);
  }
  if (!rc && !e->nshards) rc = err_set(err, ERR_INDEX_FORMAT, 0, "%s lists no shards", e->path);
  return rc;
}

/* Turn Xapian's "no database" into Sift's words, naming the paths. */
static int eng_open_error(eng_t *e, int rc, err_t *err) {
  char why[sizeof err->msg];
  snprintf(why, sizeof why, "%s", err_message(err));
  err_clear(err);
  if (rc == ERR_NO_INDEX || rc == ERR_XAPIAN) {
    if (strstr(why, "ermission denied"))
      return err_set(err, ERR_NO_INDEX, 0, "cannot read the index at %s: %s", e->path, why);
    return err_set(err, ERR_NO_INDEX, 0, "%s is not a Sift index (no database there: %s)", e->path,
                   why);
  }
  return err_set(err, rc, 0, "cannot open the index at %s: %s", e->path, why);
}

/* Xapian keeps several files open per shard, and an archive by month of
 * decades has hundreds of shards, read by every worker: the soft limit on
 * descriptors (often 1024) is raised to the hard one, once. */
static void eng_raise_fd_limit_once(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
}

static void eng_raise_fd_limit(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, eng_raise_fd_limit_once);
}

int eng_open_set(const char *const *paths, size_t n, const eng_limits_t *lim, eng_t **out,
                 err_t *err) {
  *out = NULL;
  eng_raise_fd_limit();
  eng_t *e = calloc(1, sizeof *e);
  size_t joined = 1;
  for (size_t i = 0; i < n; i++) joined += strlen(paths[i]) + 2;
  if (!e || !(e->paths = calloc(n ? n : 1, sizeof *e->paths)) || !(e->path = malloc(joined))) {
    eng_free(e);
    return err_set(err, ERR_NOMEM, 0, NULL);
  }
  e->path[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    if (!(e->paths[i] = strdup(paths[i]))) {
      eng_free(e);
      return err_set(err, ERR_NOMEM, 0, NULL);
    }
    e->npaths++;
    strcat(strcat(e->path, i ? ", " : ""), paths[i]);
  }
  e->lim = lim ? *lim : eng_default_limits;
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    struct stat st;
    if (stat(paths[i], &st) != 0)
      rc = err_set(err, ERR_NO_INDEX, 0, "no index at %s: %s", paths[i], strerror(errno));
    else if (S_ISDIR(st.st_mode) && access(paths[i], R_OK | X_OK) != 0)
      rc = err_set(err, ERR_NO_INDEX, 0, "cannot read the index at %s: %s", paths[i], strerror(errno));
  }
  unsigned remote_ms = (unsigned)(e->lim.time_limit * 1000);
  if (!rc && (rc = xw_db_open_set(paths, n, remote_ms, &e->db, err))) rc = eng_open_error(e, rc, err);
  if (!rc) {
    /* Stamp, then move to the newest revision: a commit in between only
     * costs one more reopen later, never a stale handle. */
    e->stamp = xw_db_stamp(e->db, &e->generation);
    int moved;
    rc = xw_db_reopen(e->db, &moved, err);
    if (!xw_db_local(e->db)) e->generation = eng_now_ns();
  }
  if (!rc) rc = eng_load_meta(e, err);
  if (rc) {
    eng_free(e);
    return rc;
  }
  *out = e;
  return 0;
}

int eng_open(const char *path, const eng_limits_t *lim, eng_t **out, err_t *err) {
  return eng_open_set(&path, 1, lim, out, err);
}

void eng_free(eng_t *e) {
  if (!e) return;
  for (size_t f = 0; f < QP_FACET__COUNT; f++) xw_column_free(e->cols[f]);
  eng_drop_meta(e);
  xw_db_free(e->db);
  for (size_t i = 0; i < e->npaths; i++) free(e->paths[i]);
  free(e->paths);
  free(e->path);
  free(e);
}

/* Open afresh and take over the new engine's state: a handle reopened
 * across a swapped directory would mix the old files with the new. */
static int eng_renew(eng_t *e, err_t *err) {
  eng_t *fresh = NULL;
  int rc = eng_open_set((const char *const *)e->paths, e->npaths, &e->lim, &fresh, err);
  if (rc) return rc;
  eng_t old = *e;
  *e = *fresh;
  *fresh = old;
  eng_free(fresh);
  return 0;
}

int eng_reopen(eng_t *e, int *changed, err_t *err) {
  int moved = 0, rc = 0;
  if (changed) *changed = 0;
  if (e->broken || xw_db_stamp(e->db, NULL) != e->stamp) {
    rc = eng_renew(e, err);
    moved = !rc;
  } else if (!xw_db_local(e->db)) {
    /* Remote shards commit unseen: ask them. */
    rc = xw_db_reopen(e->db, &moved, err);
    if (!rc && moved) {
      rc = eng_load_meta(e, err);
      e->generation = eng_now_ns();
    }
  }
  if (rc == ERR_SHARD || rc == ERR_SHARD_TIMEOUT) e->broken = 1;
  if (changed) *changed = moved;
  return rc;
}

/* Before a request: a remote shard that failed is reached anew (and fails
 * fast, naming itself, while it stays down). */
static int eng_ready(eng_t *e, err_t *err) {
  if (!e->broken) return 0;
  int rc = eng_renew(e, err);
  if (!rc) e->broken = 0;
  return rc;
}

/* After a request: remember that a remote shard failed, and say which
 * shards may have (Xapian's message does not; the reconnection names the
 * one that is down). */
static int eng_done(eng_t *e, int rc, err_t *err) {
  if (rc != ERR_SHARD && rc != ERR_SHARD_TIMEOUT) return rc;
  e->broken = 1;
  char msg[sizeof err->msg], *p = msg, *end = msg + sizeof msg;
  p += snprintf(p, (size_t)(end - p), "%s (remote shards:", err_message(err));
  for (size_t k = 0; k < e->nshards && p < end; k++)
    if (xw_db_shard_remote(e->db, k)) p += snprintf(p, (size_t)(end - p), " %s", xw_db_shard_name(e->db, k));
  if (p < end) snprintf(p, (size_t)(end - p), ")");
  err_clear(err);
  return err_set(err, rc, 0, "%s", msg);
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
    size_t tl = schema_stem_term(terms[np], ENG_TERM_CAP, title, e->lang_names[i], e->naming,
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
    if (!xw_db_local(e->db) || eng_facet_specs[f].multi) {
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

/* The stemmer an article was indexed with: its language, or, when it names
 * none this Sift knows, its shard's default. */
static size_t eng_lang_index(eng_t *e, const char *lang, xw_docid did) {
  const char *alg = lang ? tok_lang_algorithm(lang) : NULL;
  for (size_t i = 0; alg && i < e->nlangs; i++)
    if (strcmp(e->lang_names[i], alg) == 0) return i;
  return e->shard_lang[xw_db_shard_of(e->db, did)];
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

/* The dates every match lies in, when the query ANDs in a date condition
 * (or an OR of them): [*lo, *hi], 0 for an open end.  0 when it has none. */
static int eng_date_span(const qp_node_t *n, uint32_t *lo, uint32_t *hi) {
  if (!n) return 0;
  if (n->kind == QN_DATE) {
    *lo = n->lo;
    *hi = n->hi;
    return 1;
  }
  int found = 0;
  if (n->kind == QN_AND) {
    *lo = *hi = 0;
    for (size_t i = 0; i < n->nkids; i++) {
      uint32_t l, h;
      if (!eng_date_span(n->kids[i], &l, &h)) continue;
      if (l > *lo) *lo = l;
      if (h && (!*hi || h < *hi)) *hi = h;
      found = 1;
    }
  } else if (n->kind == QN_OR && n->nkids) {
    for (size_t i = 0; i < n->nkids; i++) {
      uint32_t l, h;
      if (!eng_date_span(n->kids[i], &l, &h)) return 0;
      *lo = i == 0 || l < *lo ? l : *lo;
      *hi = i == 0 ? h : !h || !*hi ? 0 : h > *hi ? h : *hi;
    }
    found = 1;
  }
  return found;
}

/* Flag the shards whose dates can meet the query's (xw_search_opts.shards);
 * NULL when every shard may match. */
static const unsigned char *eng_shard_mask(eng_t *e, const qp_query_t *q) {
  uint32_t lo, hi;
  if (e->nshards < 2 || !eng_date_span(q->root, &lo, &hi)) return NULL;
  unsigned char *mask = e->mask;
  size_t skipped = 0;
  for (size_t k = 0; k < e->nshards; k++) {
    mask[k] = e->shard_last[k] && (!lo || e->shard_last[k] >= lo) && (!hi || e->shard_first[k] <= hi);
    skipped += !mask[k];
  }
  return skipped ? mask : NULL;
}

static int eng_search_once(eng_t *e, const qp_query_t *q, int any, arena_t *a, eng_result_t *out,
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
      .shards = eng_shard_mask(e, q),
      /* Hits show their scores, which the whole collection's statistics
       * give: only an unweighted match may leave shards out. */
      .rank_shards = !q->root || !eng_weighted(q->root),
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
      size_t lang = eng_lang_index(e, d.lang, xw_mset_docid(m, i)), blen = strlen(d.body);
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

int eng_search(eng_t *e, const qp_query_t *q, arena_t *a, eng_result_t *out, err_t *err) {
  int rc = eng_ready(e, err);
  if (rc) return rc;
  rc = eng_search_once(e, q, q->match_any, a, out, err);
  if (!rc && out->total == 0 && eng_relaxable(q)) {
    rc = eng_search_once(e, q, 1, a, out, err);
    out->relaxed = !rc;
  }
  return eng_done(e, rc, err);
}

static int eng_count_once(eng_t *e, const qp_query_t *q, uint32_t *count, err_t *err) {
  xw_query *x = NULL;
  int rc = eng_query(e, q, q->match_any, &x, err);
  if (rc) return rc;
  if ((rc = eng_check_budget(e, x, 0, err))) return rc;
  xw_search_opts o = {.limit = 0,
                      .check_at_least = UINT32_MAX,
                      .time_limit = e->lim.time_limit,
                      .shards = eng_shard_mask(e, q),
                      .rank_shards = 1};
  xw_mset *m = NULL;
  rc = xw_search(e->db, x, &o, &m, err);
  xw_query_free(x);
  if (rc) return rc;
  *count = xw_mset_matches_lower(m);
  xw_mset_free(m);
  return 0;
}

int eng_count(eng_t *e, const qp_query_t *q, uint32_t *count, err_t *err) {
  int rc = eng_ready(e, err);
  return rc ? rc : eng_done(e, eng_count_once(e, q, count, err), err);
}

static int eng_get_once(eng_t *e, const char *id, size_t len, arena_t *a, doc_t *out, err_t *err) {
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

int eng_get(eng_t *e, const char *id, size_t len, arena_t *a, doc_t *out, err_t *err) {
  int rc = eng_ready(e, err);
  return rc ? rc : eng_done(e, eng_get_once(e, id, len, a, out, err), err);
}

int eng_stats(eng_t *e, eng_stats_t *out) {
  out->docs = xw_db_doccount(e->db);
  out->revision = xw_db_revision(e->db);
  out->generation = e->generation;
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
