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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cal.h"
#include "ds.h"
#include "dup.h"
#include "schema.h"
#include "snip.h"
#include "win.h"
#include "tok.h"
#include "xw.h"

#define ENG_MAX_LANGS 16
#define ENG_TERM_CAP 512
#define ENG_MAX_RUNS 3 /* hyphenated runs of a phrase spelled both ways */

struct eng {
  xw_db *db;
  char **paths; /* as given */
  size_t npaths;
  char *path; /* the paths joined by ", ", for figures and messages */
  eng_limits_t lim;
  char *lang;  /* the first shard's default Snowball algorithm */
  char *langs; /* every shard's algorithms, comma-separated */
  const char *lang_names[ENG_MAX_LANGS];
  tok_stemmer_t *stemmers[ENG_MAX_LANGS];
  size_t nlangs;
  /* How the shards spell stem terms: the language whose stems go without
   * a language tag (schema_stem_term), the same for every shard. */
  char *naming;
  /* The shards' word rules, the same for every shard: 1 for format
   * SCHEMA_FORMAT_WORDS on (tok_stem_word, closed forms), 0 before. */
  int words;
  int format;  /* the lowest format of the shards */
  int accents; /* some language's stemmer reads accents */
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
  /* Date ranges from the day column (eng_date_column): 0 not tried, 1 yes,
   * 2 no (no column, or one that misses dated articles). */
  unsigned char day_filter;
  /* Outlets of cols[QP_FACET_OUTLET], at first use (eng_outlets): ids as
   * eng_outlet_ids gives them; keys, each spelling's key and value id, by
   * key; outlet_ok, per outlet id, whether outlet: is answered from the
   * column (eng_outlet_column): 0 not checked, 1 yes, 2 no. */
  uint32_t *outlet_ids;
  struct eng_okey *outlet_keys; /* eng_okey_t */
  size_t noutlet_keys;
  unsigned char *outlet_ok;
  dup_groups_t *groups; /* copy groups (dup.h), built at first use */
};

const eng_limits_t eng_default_limits = {.max_limit = QP_MAX_LIMIT,
                                         .max_offset = 100000,
                                         .time_limit = 0,
                                         .max_expansion = 0,
                                         .max_cost = 0,
                                         .bm25_k1 = ENG_BM25_K1,
                                         .bm25_b = ENG_BM25_B};

static uint64_t eng_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t eng_ymd(const char *v);
static const xw_column *eng_column(eng_t *e, qp_facet_t f);

/* An outlet's filter key (tok_key, which outlet: matches) and an id. */
typedef struct eng_okey {
  const char *key;
  uint32_t id;
} eng_okey_t;

static void eng_okeys_free(eng_okey_t *k, size_t n) {
  for (size_t i = 0; i < n; i++) free((char *)k[i].key);
  free(k);
}

/* ---- opening ---- */

static void eng_drop_meta(eng_t *e) {
  for (size_t i = 0; i < e->nlangs; i++) tok_stemmer_free(e->stemmers[i]);
  e->nlangs = 0;
  e->accents = 0;
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
    return err_set(err, ERR_INDEX_FORMAT, 0, "the shards use more than %d languages",
                   ENG_MAX_LANGS);
  if (tok_stemmer_new(name, &e->stemmers[e->nlangs]) != 0)
    return err_set(err, ERR_INDEX_FORMAT, 0, "%s uses language '%s', which this Sift lacks", shard,
                   name);
  e->lang_names[e->nlangs] = tok_stemmer_name(e->stemmers[e->nlangs]);
  if (tok_stem_reads_accents(e->stemmers[e->nlangs])) e->accents = 1;
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
  if (!e->shard_lang || !e->shard_first || !e->shard_last || !e->mask)
    return err_set(err, ERR_NOMEM, 0, NULL);
  int rc = ds_codec_new(NULL, 0, 3, &e->codec, err);
  const char *naming_shard = NULL, *words_shard = NULL;
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
    int words = format >= SCHEMA_FORMAT_WORDS;
    if (!words_shard) {
      words_shard = name;
      e->words = words;
      e->format = format;
    } else if (words != e->words) {
      rc = err_set(err, ERR_INDEX_FORMAT, 0,
                   "%s and %s follow different word rules (index formats %d and %d): one query "
                   "cannot search both; rebuild the format %d shard with this Sift",
                   words_shard, name, e->format, format, e->words ? format : e->format);
      break;
    }
    if (format < e->format) e->format = format;
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
        rc = err_set(err, ERR_CORRUPT, 0,
                     "the index at %s has lost its word positions (position table)", name);
      if (!rc) rc = eng_add_dicts(e, k, err);
      char lo[16], hi[16];
      if (!rc &&
          !(rc = xw_db_shard_value_bounds(e->db, k, SCHEMA_SLOT_DATE, lo, hi, sizeof lo, err))) {
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

/* Set by eng_set_shard_threads: engines open their threads' handles with
 * the index (xw_db_ready_threads), not at a later search. */
static int eng_threads_early;

int eng_open_set(const char *const *paths, size_t n, const eng_limits_t *lim, eng_t **out,
                 err_t *err) {
  *out = NULL;
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
      rc = err_set(err, ERR_NO_INDEX, 0, "cannot read the index at %s: %s", paths[i],
                   strerror(errno));
  }
  unsigned remote_ms = (unsigned)(e->lim.time_limit * 1000);
  if (!rc && (rc = xw_db_open_set(paths, n, remote_ms, &e->db, err)))
    rc = eng_open_error(e, rc, err);
  if (!rc) {
    /* Stamp, then move to the newest revision: a commit in between only
     * costs one more reopen later, never a stale handle. */
    e->stamp = xw_db_stamp(e->db, &e->generation);
    int moved;
    rc = xw_db_reopen(e->db, &moved, err);
    if (!xw_db_local(e->db)) e->generation = eng_now_ns();
    if (!rc && eng_threads_early) xw_db_ready_threads(e->db);
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
  free(e->outlet_ids);
  eng_okeys_free(e->outlet_keys, e->noutlet_keys);
  free(e->outlet_ok);
  dup_groups_free(e->groups);
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
    if (moved) { /* the groups describe the revision they were built on */
      dup_groups_free(e->groups);
      e->groups = NULL;
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
    if (xw_db_shard_remote(e->db, k))
      p += snprintf(p, (size_t)(end - p), " %s", xw_db_shard_name(e->db, k));
  if (p < end) snprintf(p, (size_t)(end - p), ")");
  err_clear(err);
  return err_set(err, rc, 0, "%s", msg);
}

void eng_set_limits(eng_t *e, const eng_limits_t *lim) { e->lim = *lim; }

void eng_set_shard_threads(unsigned n) {
  xw_set_shard_plan(n == 1 ? XW_SHARDS_COMBINED : XW_SHARDS_AUTO, n);
  eng_threads_early = 1;
}

void eng_note_waiting(int delta) { xw_note_waiting(delta); }

uint64_t eng_matched_on_threads(void) { return xw_par_matched(); }

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
  int any;    /* match:any: the root ORs its text */
  int failed; /* an error other than memory, in err (eng_near) */
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

/* The stem terms of one word, norm as normalized and raw as written, in
 * every language of the shards (title: the title's).  When a language
 * stems words with their accents, the word itself too: `negociacion`,
 * typed without its accent, is still the word `negociación` (SPEC.md
 * "Words"), though Spanish stems the two apart (itself: 0 leaves it out,
 * so that the stems' frequencies add up to the articles matched). */
static xw_query *eng_stems(eng_build_t *b, const char *norm, const char *raw, int title,
                           int itself) {
  eng_t *e = b->e;
  xw_query *parts[ENG_MAX_LANGS];
  char terms[ENG_MAX_LANGS][ENG_TERM_CAP];
  size_t np = 0, nl = strlen(norm);
  for (size_t i = 0; i < e->nlangs; i++) {
    size_t sl;
    const char *stem = e->words && raw
                           ? tok_stem_word(e->stemmers[i], norm, nl, raw, strlen(raw), &sl)
                           : tok_stem(e->stemmers[i], norm, nl, &sl);
    size_t tl =
        schema_stem_term(terms[np], ENG_TERM_CAP, title, e->lang_names[i], e->naming, stem, sl);
    if (!tl) continue;
    parts[np] = xw_query_term(terms[np], tl, 1);
    np++;
  }
  xw_query *q = np ? eng_combine_free(XW_SYNONYM, parts, np) : xw_query_match_nothing();
  if (!q || !itself || !e->words || !e->accents) return q;
  /* The word itself only widens the match: in the synonym it would make
   * Xapian estimate the synonym's frequency (stems and word overlap), and
   * a stub's per-shard estimates would rank unlike one index's. */
  xw_query *word = eng_term(title ? SCHEMA_P_TITLE : "", norm);
  xw_query *pair[2] = {q, word ? xw_query_scale(word, 0) : NULL};
  xw_query_free(word);
  return eng_combine_free(XW_OR, pair, 2);
}

static xw_query *eng_word(eng_build_t *b, const qp_node_t *n, int itself) {
  return eng_stems(b, n->words[0], n->raws ? n->raws[0] : NULL, n->field == QF_TITLE, itself);
}

/* The phrase of n's words, with the runs whose bit is set in closed
 * written as their closed forms. */
static xw_query *eng_phrase_as(const qp_node_t *n, unsigned closed) {
  const char *prefix = n->field == QF_TITLE ? SCHEMA_P_TITLE : "";
  xw_query **parts = calloc(n->nwords, sizeof *parts);
  if (!parts) return NULL;
  size_t np = 0;
  for (size_t i = 0, r = 0; i < n->nwords; i++) {
    while (r < n->nruns && n->runs[r]->first + n->runs[r]->n <= i) r++;
    if (r < n->nruns && r < ENG_MAX_RUNS && (closed >> r & 1) && n->runs[r]->first <= i) {
      if (i == n->runs[r]->first) parts[np++] = eng_term(prefix, n->runs[r]->norm);
    } else {
      parts[np++] = eng_term(prefix, n->words[i]);
    }
  }
  xw_query *q = eng_combine_free(XW_PHRASE, parts, np);
  free(parts);
  return q;
}

/* A phrase, or, with hyphenated words, any of its spellings with each of
 * its first ENG_MAX_RUNS runs open or closed (`"gaza cease-fire"` is also
 * "gaza ceasefire"); an unquoted token that is one run is its phrase or its
 * closed form as a word, stemmed (`cease-fires` finds `ceasefire`). */
static xw_query *eng_phrase(eng_build_t *b, const qp_node_t *n) {
  size_t nr = b->e->words ? n->nruns : 0;
  if (nr == 0) return eng_phrase_as(n, 0);
  if (nr > ENG_MAX_RUNS) nr = ENG_MAX_RUNS;
  xw_query *alts[1u << ENG_MAX_RUNS];
  size_t na = (size_t)1 << nr;
  for (unsigned c = 0; c < na; c++) alts[c] = eng_phrase_as(n, c);
  if (!n->quoted && nr == 1 && n->runs[0]->n == n->nwords) {
    xw_query_free(alts[1]);
    alts[1] = eng_stems(b, n->runs[0]->norm, n->runs[0]->raw, n->field == QF_TITLE, 1);
  }
  return eng_combine_free(XW_OR, alts, na);
}

static xw_query *eng_prefix(eng_build_t *b, const qp_node_t *n) {
  char term[ENG_TERM_CAP];
  int len =
      snprintf(term, sizeof term, "%s%s", n->field == QF_TITLE ? SCHEMA_P_TITLE : "", n->words[0]);
  if (len < 0 || (size_t)len >= sizeof term) return xw_query_match_nothing();
  return xw_query_wildcard(term, (size_t)len, b->e->lim.max_expansion);
}

/* a NEAR b: the words as written (positions are kept for unstemmed words
 * only, as phrases match them) and prefixes, within distance words: a span
 * of distance + 1 positions. */
static xw_query *eng_near(eng_build_t *b, const qp_node_t *n) {
  xw_query **parts = calloc(n->nkids, sizeof *parts);
  if (!parts) return NULL;
  for (size_t i = 0; i < n->nkids; i++) {
    const qp_node_t *k = n->kids[i];
    const char *prefix = k->field == QF_TITLE ? SCHEMA_P_TITLE : "";
    char term[ENG_TERM_CAP];
    int len = snprintf(term, sizeof term, "%s%s", prefix, k->words[0]);
    if (k->kind != QN_PREFIX) parts[i] = eng_term(prefix, k->words[0]);
    else if (len < 0 || (size_t)len >= sizeof term) parts[i] = xw_query_match_nothing();
    else if (!b->failed)
      b->failed = xw_query_prefix_terms(b->e->db, term, (size_t)len, b->e->lim.max_expansion,
                                        &parts[i], b->err);
  }
  xw_query *q = b->failed ? NULL : xw_query_near(parts, n->nkids, n->distance + 1);
  for (size_t i = 0; i < n->nkids; i++) xw_query_free(parts[i]);
  free(parts);
  return q;
}

static int eng_str_cmp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int eng_okey_cmp(const void *a, const void *b) {
  const eng_okey_t *x = a, *y = b;
  int c = strcmp(x->key, y->key);
  return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* One id per outlet for each value id of the outlet column oc: the
 * smallest value id with the same filter key (tok_key, which outlet:
 * matches), so its spellings count as one outlet; 0 for a value without a
 * key (none, or no letter or digit), which no outlet: matches.
 * malloc'ed; NULL on ENOMEM.  With keys, *keys = each value's key and id,
 * by key then id (*nkeys of them; eng_okeys_free), else they are freed. */
static uint32_t *eng_outlet_ids(const xw_column *oc, eng_okey_t **keys, size_t *nkeys) {
  uint32_t no = xw_column_nvalues(oc);
  uint32_t *ids = calloc(no ? no : 1, sizeof *ids);
  eng_okey_t *k = calloc(no ? no : 1, sizeof *k);
  size_t nk = 0;
  for (uint32_t id = 1; ids && k && id < no; id++) {
    char key[SCHEMA_MAX_KEY + 1];
    size_t vl, kl;
    const char *v = xw_column_name(oc, id, &vl);
    if (!(kl = tok_key(v, vl, key, sizeof key))) continue;
    char *own = malloc(kl + 1);
    if (!own) goto fail;
    memcpy(own, key, kl);
    own[kl] = '\0';
    k[nk].key = own;
    k[nk++].id = id;
  }
  if (!ids || !k) goto fail;
  qsort(k, nk, sizeof *k, eng_okey_cmp);
  for (size_t i = 0; i < nk; i++)
    ids[k[i].id] = i && !strcmp(k[i].key, k[i - 1].key) ? ids[k[i - 1].id] : k[i].id;
  if (keys) {
    *keys = k;
    *nkeys = nk;
    return ids;
  }
  goto out;
fail:
  free(ids);
  ids = NULL;
out:
  eng_okeys_free(k, nk);
  return ids;
}

/* The engine's outlet ids and keys (outlet_ids, outlet_keys), made at
 * the first call; NULL on ENOMEM. */
static const uint32_t *eng_outlets(eng_t *e, const xw_column *oc) {
  if (!e->outlet_ids) e->outlet_ids = eng_outlet_ids(oc, &e->outlet_keys, &e->noutlet_keys);
  return e->outlet_ids;
}

static int eng_okey_key_cmp(const void *a, const void *b) {
  return strcmp(((const eng_okey_t *)a)->key, ((const eng_okey_t *)b)->key);
}

/* Spellings past this many fall back to the outlet term. */
#define ENG_OUTLET_SPELLINGS 64

/* outlet:key from the outlet column (xw_query_column_ids): the outlet
 * term opens its posting list in every shard (4 shards of the kit: 16
 * block reads more for a phrase within an outlet than for the phrase alone,
 * where one index read none more), the column's set, made at the outlet's
 * first use and kept, opens nothing.  p50 of a phrase within an outlet
 * (the kit, 2026-12-04): 4 shards as one match 180 us with the term, 161
 * from the column, on threads 206 and 187; one index 122 and 121.  The column's documents for the outlet are
 * checked against the term's count at its first use (an index whose keys
 * were made by other rules keeps the term).  NULL: use the term. */
static xw_query *eng_outlet_column(eng_t *e, const char *key) {
  const xw_column *oc = eng_column(e, QP_FACET_OUTLET);
  if (!oc || !eng_outlets(e, oc)) return NULL;
  if (!e->outlet_ok && !(e->outlet_ok = calloc(xw_column_nvalues(oc), 1))) return NULL;
  eng_okey_t probe = {key, 0};
  const eng_okey_t *k = e->outlet_keys, *end = k + e->noutlet_keys;
  const eng_okey_t *hit = bsearch(&probe, k, e->noutlet_keys, sizeof *k, eng_okey_key_cmp);
  if (!hit) return NULL; /* no article has it: the term finds none as fast */
  while (hit > k && !strcmp(hit[-1].key, key)) hit--;
  uint32_t ids[ENG_OUTLET_SPELLINGS], total = 0;
  size_t n = 0;
  for (; hit < end && !strcmp(hit->key, key); hit++) {
    if (n == ENG_OUTLET_SPELLINGS) return NULL;
    ids[n++] = hit->id;
    total += xw_column_total(oc, hit->id);
  }
  unsigned char *ok = &e->outlet_ok[e->outlet_ids[ids[0]]];
  if (!*ok) {
    char term[ENG_TERM_CAP];
    int len = snprintf(term, sizeof term, "%s%s", SCHEMA_P_OUTLET, key);
    *ok = len > 0 && (size_t)len < sizeof term && xw_db_termfreq(e->db, term, (size_t)len) == total
              ? 1
              : 2;
  }
  xw_query *q = NULL;
  err_t err = {0};
  if (*ok != 1 || xw_query_column_ids(e->db, oc, ids, n, &q, &err)) return NULL;
  return q;
}

static xw_query *eng_filter(eng_build_t *b, const qp_node_t *n) {
  const char *prefix = n->field == QF_OUTLET   ? SCHEMA_P_OUTLET
                       : n->field == QF_AUTHOR ? SCHEMA_P_AUTHOR
                       : n->field == QF_TAG    ? SCHEMA_P_TAG
                                               : SCHEMA_P_LANG;
  const char *key = n->key;
  if (n->field == QF_LANG) {
    key = tok_lang_algorithm(n->key);
    if (!key) return xw_query_match_nothing();
  }
  if (n->field == QF_OUTLET && !n->prefix) {
    xw_query *q = eng_outlet_column(b->e, key);
    if (q) return q;
  }
  if (n->prefix) { /* outlet:fox*: every name whose key starts so */
    char term[ENG_TERM_CAP];
    int len = snprintf(term, sizeof term, "%s%s", prefix, key);
    if (len < 0 || (size_t)len >= sizeof term) return xw_query_match_nothing();
    return xw_query_wildcard(term, (size_t)len, b->e->lim.max_expansion);
  }
  return eng_term(prefix, key);
}

#define ENG_DATE_TERMS 400 /* past this many terms a range scans values instead */

static uint32_t eng_ymd(const char *v) {
  return strlen(v) == 8 ? (uint32_t)strtoul(v, NULL, 10) : 0;
}

/* A date range as the OR of the fewest year, month and day terms covering
 * it: filter terms are far cheaper to match than a scan of every candidate's
 * date value.  Open ends are closed at the dates the index holds.  Returns
 * NULL (not an error) when the cover would take more than ENG_DATE_TERMS. */
static xw_query *eng_date_terms(eng_t *e, uint32_t lo, uint32_t hi, size_t *nterms) {
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
    uint32_t month_end = y * 10000 + m * 100 + cal_month_days(y, m);
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
      if (++d > cal_month_days(y, m)) {
        d = 1;
        if (++m > 12) m = 1, y++;
      }
      continue;
    }
    d = 1;
  }
  *nterms = n;
  return n ? eng_combine_free(XW_OR, parts, n) : xw_query_match_nothing();
}

/* A range whose documents number at most this many per term its cover
 * would open, in each shard, is filtered from the day column instead
 * (xw_query_column_range): no posting list is opened, where the cover opens
 * every term in every shard (measured, a three-week range on 4 shards: 29
 * block reads a query against one index's 9, and 1.75 times its time). */
#define ENG_DATE_DOCS_PER_TERM 256

/* The day column, when it holds every dated article: an index written
 * before every article had a day value (format 1) may have none. */
static const xw_column *eng_day_column(eng_t *e) {
  if (e->day_filter == 0) {
    const xw_column *c = eng_column(e, QP_FACET_DAY);
    xw_query *none = NULL;
    uint32_t dated = 0;
    err_t err = {0};
    e->day_filter = 2;
    if (c && !xw_query_column_range(e->db, c, "0", "99999999", 0, &none, &dated, &err) &&
        dated == xw_db_value_freq(e->db, SCHEMA_SLOT_DATE))
      e->day_filter = 1;
    xw_query_free(none);
  }
  return e->day_filter == 1 ? eng_column(e, QP_FACET_DAY) : NULL;
}

/* The range [lo, hi] (0: open) from the day column, when it holds at most
 * ENG_DATE_DOCS_PER_TERM per term of a cover of nterms terms in each shard;
 * NULL otherwise (or on any failure: the cover answers the same). */
static xw_query *eng_date_column(eng_t *e, uint32_t lo, uint32_t hi, size_t nterms) {
  const xw_column *c = eng_day_column(e);
  if (!c) return NULL;
  char los[16] = "0", his[16] = "99999999";
  if (lo) snprintf(los, sizeof los, "%08u", lo);
  if (hi) snprintf(his, sizeof his, "%08u", hi);
  uint64_t max = (uint64_t)ENG_DATE_DOCS_PER_TERM * nterms * xw_db_nshards(e->db);
  xw_query *q = NULL;
  err_t err = {0};
  if (xw_query_column_range(e->db, c, los, his, max > UINT32_MAX ? UINT32_MAX : (uint32_t)max, &q,
                            NULL, &err))
    return NULL;
  return q;
}

static xw_query *eng_date(eng_t *e, const qp_node_t *n) {
  size_t nterms = 0;
  xw_query *q = eng_date_terms(e, n->lo, n->hi, &nterms);
  if (q && nterms > 1) { /* one term is as cheap as a filter gets */
    xw_query *c = eng_date_column(e, n->lo, n->hi, nterms);
    if (c) {
      xw_query_free(q);
      return c;
    }
  }
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
    case QN_NEAR:
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
 * its words, each stemmed, rather than the phrase (and its closed forms:
 * `windtunnel`). */
static xw_query *eng_any_words(eng_build_t *b, const qp_node_t *n) {
  size_t nr = b->e->words ? n->nruns : 0; /* and the closed forms */
  xw_query **parts = calloc(n->nwords + nr, sizeof *parts);
  if (!parts) return NULL;
  int title = n->field == QF_TITLE;
  for (size_t i = 0; i < n->nwords; i++)
    parts[i] = eng_stems(b, n->words[i], n->raws ? n->raws[i] : NULL, title, 1);
  for (size_t r = 0; r < nr; r++)
    parts[n->nwords + r] = eng_stems(b, n->runs[r]->norm, n->runs[r]->raw, title, 1);
  xw_query *q = eng_combine_free(XW_OR, parts, n->nwords + nr);
  free(parts);
  return q;
}

static xw_query *eng_and(eng_build_t *b, const qp_node_t *n) {
  /* One allocation holds the three groups: text, filters, exclusions (with
   * a spare slot in front of the exclusions for the AND_NOT's left side). */
  xw_query **all = calloc(3 * n->nkids + 1, sizeof *all);
  if (!all) return NULL;
  xw_query **text = all, **filt = all + n->nkids, **neg = all + 2 * n->nkids + 1;
  size_t nt = 0, nf = 0, nn = 0;
  /* The root under match:any: any of its text conditions (SPEC.md: "any
   * of the words"), a word in most articles too; BM25 ranks it low. */
  int any = n == b->root && b->any;
  for (size_t i = 0; i < n->nkids; i++) {
    const qp_node_t *k = n->kids[i];
    if (k->kind == QN_NOT) neg[nn++] = eng_node(b, k->kids[0]);
    else if (any && k->kind == QN_PHRASE && !k->quoted) text[nt++] = eng_any_words(b, k);
    else if (eng_weighted(k)) text[nt++] = eng_node(b, k);
    else filt[nf++] = eng_node(b, k);
  }
  xw_query *t = nt ? eng_combine_free(any ? XW_OR : XW_AND, text, nt) : NULL;
  xw_query *f = nf ? eng_combine_free(XW_AND, filt, nf) : NULL;
  xw_query *q = NULL;
  if ((nt && !t) || (nf && !f)) {
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
    case QN_WORD:
      return eng_word(b, n, 1);
    case QN_PHRASE:
      return eng_phrase(b, n);
    case QN_PREFIX:
      return eng_prefix(b, n);
    case QN_FILTER:
      return eng_filter(b, n);
    case QN_NEAR:
      return eng_near(b, n);
    case QN_DATE:
      return eng_date(b->e, n);
    case QN_AND:
      return eng_and(b, n);
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
static int eng_like(eng_t *e, const qp_query_t *q, xw_query *x, xw_query **out, err_t *err);

static int eng_query(eng_t *e, const qp_query_t *q, int any, xw_query **out, err_t *err) {
  eng_build_t b = {e, err, q->root, any, 0};
  xw_query *x = q->root ? eng_node(&b, q->root) : xw_query_match_all();
  if (x && q->root && (!eng_weighted(q->root) || q->news.like)) {
    xw_query *scaled = xw_query_scale(x, 0);
    xw_query_free(x);
    x = scaled;
  }
  if (!x && b.failed) return b.failed; /* err says why (eng_near) */
  if (!x) return err_set(err, ERR_NOMEM, 0, "out of memory building the query");
  if (q->news.like) return eng_like(e, q, x, out, err);
  *out = x;
  return 0;
}

/* like:ID's words: the stems of the article's default language (Z<stem>,
 * not the title's ZS nor another language's Z:lang:), the terms queries
 * match. */
static int eng_like_term(const char *t, size_t n) {
  return n > 1 && t[0] == SCHEMA_P_STEM[0] && t[1] != 'S' && t[1] != ':';
}

/* x (the rest of the query, weightless) filtering the OR of the article's
 * ENG_LIKE_TERMS most distinctive stems, without the article itself. */
#define ENG_LIKE_TERMS 25
static int eng_like(eng_t *e, const qp_query_t *q, xw_query *x, xw_query **out, err_t *err) {
  char term[ENG_TERM_CAP];
  const char *id = q->news.like;
  int col = q->news.like_column, rc;
  size_t n = strlen(id);
  xw_docid d = 0;
  xw_query *like = NULL;
  *out = NULL;
  snprintf(term, sizeof term, "%s%s", SCHEMA_P_ID, id);
  rc = n && n <= SCHEMA_MAX_ID ? xw_db_find_term(e->db, term, n + 1, &d, err) : ERR_NOT_FOUND;
  if (!rc) rc = xw_query_like(e->db, d, ENG_LIKE_TERMS, eng_like_term, &like, err);
  if (rc == ERR_NOT_FOUND) {
    err_clear(err);
    rc = err_set(err, ERR_NOT_FOUND, col, "like: no article with id '%.80s' (column %d)", id, col);
  }
  if (rc) {
    xw_query_free(x);
    return rc;
  }
  xw_query *parts[3] = {like ? like : xw_query_match_nothing(), x, NULL};
  xw_query *f = eng_combine_free(XW_FILTER, parts, 2);
  parts[0] = f;
  parts[1] = xw_query_term(term, n + 1, 1);
  parts[2] = NULL;
  /* Its copies are the same article: left out too. */
  arena_t *a = arena_new(0);
  const char **ids = NULL;
  size_t ncopies = 0;
  rc = a ? eng_copies(e, id, n, a, &ids, &ncopies, err) : err_set(err, ERR_NOMEM, 0, NULL);
  if (!rc && ncopies) {
    xw_query **cq = calloc(ncopies, sizeof *cq);
    for (size_t i = 0; cq && i < ncopies; i++) cq[i] = eng_term(SCHEMA_P_ID, ids[i]);
    parts[2] = cq ? eng_combine_free(XW_OR, cq, ncopies) : NULL;
    free(cq);
    if (!parts[2]) rc = err_set(err, ERR_NOMEM, 0, NULL);
  }
  arena_free(a);
  if (rc) {
    xw_query_free(parts[0]);
    xw_query_free(parts[1]);
    return rc;
  }
  if (!(*out = eng_combine_free(XW_AND_NOT, parts, ncopies ? 3 : 2)))
    return err_set(err, ERR_NOMEM, 0, "out of memory building the query");
  return 0;
}

/* ---- searching ---- */

/* Outlet, author and tag facets count names, as outlet:, author: and tag:
 * filters match them (SPEC.md): each name once per article under its
 * filter key, shown as most articles spell it (xw.h's xw_split_fn), so
 * "Al Jazeera" and "AL-JAZEERA" make one row.  The names come from the
 * value slots, which every index format has. */

/* s[0..n) without the ASCII white space around it: *n updated. */
static const char *eng_trim(const char *s, size_t *n) {
  while (*n && strchr(" \t\r\n\f\v", s[0])) s++, (*n)--;
  while (*n && strchr(" \t\r\n\f\v", s[*n - 1])) (*n)--;
  return s;
}

static void eng_emit_name(const char *s, size_t n, int whole, xw_name_fn emit, void *ctx) {
  char key[SCHEMA_MAX_KEY + 1];
  size_t kl = tok_key(s, n, key, sizeof key);
  if (kl) s = eng_trim(s, &n), emit(ctx, key, kl, s, n, whole);
}

/* An outlet: one name (none for SCHEMA_NO_VALUE, which has no key). */
static void eng_outlet_names(const char *v, size_t len, xw_name_fn emit, void *ctx) {
  eng_emit_name(v, len, 0, emit, ctx);
}

/* An author string: its names as the indexer keys them (idx.c,
 * schema_author_name), and the whole string's key, which author: matches
 * too, counted where it is someone's name. */
static void eng_author_names(const char *v, size_t len, xw_name_fn emit, void *ctx) {
  size_t at = 0, next;
  if (schema_author_name(v, len, &next) == len) { /* one name */
    eng_emit_name(v, len, 0, emit, ctx);
    return;
  }
  for (; at < len; at += next) {
    size_t n = schema_author_name(v + at, len - at, &next);
    if (n <= SCHEMA_MAX_NAME) eng_emit_name(v + at, n, 0, emit, ctx);
  }
  eng_emit_name(v, len, 1, emit, ctx);
}

/* Tags joined by SCHEMA_TAG_SEP. */
static void eng_tag_names(const char *v, size_t len, xw_name_fn emit, void *ctx) {
  for (size_t at = 0; at <= len;) {
    const char *sep = memchr(v + at, SCHEMA_TAG_SEP, len - at);
    size_t n = sep ? (size_t)(sep - (v + at)) : len - at;
    eng_emit_name(v + at, n, 0, emit, ctx);
    at += n + 1;
  }
}

static const xw_facet_spec eng_facet_specs[QP_FACET__COUNT] = {
    [QP_FACET_OUTLET] = {SCHEMA_SLOT_OUTLET, 0, 0, NULL, eng_outlet_names},
    [QP_FACET_YEAR] = {SCHEMA_SLOT_YEAR, 0, 0, NULL, NULL},
    [QP_FACET_MONTH] = {SCHEMA_SLOT_MONTH, 0, 0, NULL, NULL},
    [QP_FACET_DAY] = {SCHEMA_SLOT_DAY, 0, 0, NULL, NULL},
    [QP_FACET_AUTHOR] = {SCHEMA_SLOT_AUTHOR, 0, 0, NULL, eng_author_names},
    [QP_FACET_TAG] = {SCHEMA_SLOT_TAGS, 0, 1, NULL, eng_tag_names},
};

/* The facet's column, loaded on first use; NULL when it has none (a remote
 * shard, too many values; a failed load is retried next time, counting by
 * values meanwhile). */
static const xw_column *eng_column(eng_t *e, qp_facet_t f) {
  const xw_facet_spec *spec = &eng_facet_specs[f];
  if (e->col_state[f] == 0) {
    if (!xw_db_local(e->db) || (spec->multi && !spec->split)) {
      e->col_state[f] = 2;
    } else {
      err_t err = {0};
      if (xw_column_load(e->db, spec->slot, 0, &e->cols[f], &err) == 0 &&
          (!e->cols[f] || !spec->split || xw_column_names(e->cols[f], spec->split, &err) == 0))
        e->col_state[f] = e->cols[f] ? 1 : 2;
    }
  }
  return e->col_state[f] == 1 ? e->cols[f] : NULL;
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
  if (!e->lim.max_cost || eng_query_cost(e, x, hits, e->lim.max_cost) <= e->lim.max_cost) return 0;
  xw_query_free(x);
  return err_set(err, ERR_OVER_BUDGET, 0, "estimated work above %llu",
                 (unsigned long long)e->lim.max_cost);
}

/* May q be relaxed: is it plain words (qp.h; filters aside, no operator)
 * and would match:any change it, its root an AND of two or more? */
static int eng_relaxable(const qp_query_t *q) {
  size_t text = 0;
  if (!q->relax || !q->plain || q->match_any || !q->root || q->root->kind != QN_AND) return 0;
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
    mask[k] =
        e->shard_last[k] && (!lo || e->shard_last[k] >= lo) && (!hi || e->shard_first[k] <= hi);
    skipped += !mask[k];
  }
  return skipped ? mask : NULL;
}

/* ---- cursors and sort:recent (eng.h) ---- */

typedef struct eng_cursor {
  char order;
  uint32_t rank;
  xw_docid docid; /* date sorts: the last hit's docid and sort value */
  const char *key;
  size_t key_len;
  xw_docid *seen; /* relevance, recent: every hit shown so far, ascending */
  size_t nseen;
  int collapsed; /* collapse:copies: rank is the groups shown so far */
} eng_cursor_t;

static char eng_order_char(qp_sort_t s) {
  return s == QP_SORT_NEWEST ? 'n' : s == QP_SORT_OLDEST ? 'o' : s == QP_SORT_RECENT ? 't' : 'r';
}

static const char *eng_order_name(char c) {
  return qp_sort_name(c == 'n'   ? QP_SORT_NEWEST
                      : c == 'o' ? QP_SORT_OLDEST
                      : c == 't' ? QP_SORT_RECENT
                                 : QP_SORT_RELEVANCE);
}

/* The seen docids travel as their ascending gaps, each in base 32 with the
 * digits of eng_more before the last one (from eng_last): self-delimiting,
 * about two characters a hit, nothing the query language would split. */
static const char eng_last[] = "0123456789abcdefghijklmnopqrstuv";
static const char eng_more[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_~=+@";

static void eng_put_gap(buf_t *b, uint32_t v) {
  char d[8];
  int n = 0;
  do {
    d[n++] = (char)(v & 31);
    v >>= 5;
  } while (v);
  while (n > 1) buf_putc(b, eng_more[(unsigned char)d[--n]]);
  buf_putc(b, eng_last[(unsigned char)d[0]]);
}

/* The seen list s[0..n) into c (arena); 0, or -1 when malformed. */
static int eng_get_seen(const char *s, size_t n, arena_t *a, eng_cursor_t *c) {
  if (!(c->seen = arena_calloc(a, c->rank ? c->rank : 1, sizeof *c->seen))) return -1;
  uint64_t v = 0, prev = 0;
  int digits = 0;
  for (size_t i = 0; i < n; i++) {
    const char *l = memchr(eng_last, s[i], 32), *m = l ? NULL : memchr(eng_more, s[i], 32);
    if ((!l && !m) || s[i] == '\0' || ++digits > 7) return -1;
    v = v << 5 | (uint64_t)(l ? l - eng_last : m - eng_more);
    if (m) continue;
    if (v == 0 || prev + v > UINT32_MAX || c->nseen == c->rank) return -1;
    prev += v;
    c->seen[c->nseen++] = (xw_docid)prev;
    v = 0;
    digits = 0;
  }
  return digits || c->nseen != c->rank ? -1 : 0;
}

static int eng_cursor_parse(const qp_query_t *q, qp_sort_t sort, arena_t *a, eng_cursor_t *c,
                            err_t *err) {
  const char *s = q->news.after, *p;
  int col = q->news.after_column;
  memset(c, 0, sizeof c[0]);
  c->collapsed = s[0] >= 'A' && s[0] <= 'Z'; /* "R20": 20 groups shown */
  c->order = c->collapsed ? (char)(s[0] - 'A' + 'a') : s[0];
  unsigned long long rank = 0, docid = 0;
  int ok = c->order && strchr("rnot", c->order) && s[1] >= '0' && s[1] <= '9';
  if (ok) {
    rank = strtoull(s + 1, (char **)&p, 10);
    ok = *p == (c->collapsed ? '\0' : '.') && rank >= 1 && rank <= UINT32_MAX;
  }
  if (ok && c->collapsed) {
    /* nothing more: the page after is at that rank */
  } else if (ok && (c->order == 'r' || c->order == 't')) {
    c->rank = (uint32_t)rank;
    ok = eng_get_seen(p + 1, strlen(p + 1), a, c) == 0;
  } else if (ok) {
    const char *d = p + 1;
    ok = d[0] >= '0' && d[0] <= '9';
    if (ok) docid = strtoull(d, (char **)&p, 10);
    c->key = p + 1;
    c->key_len = strlen(c->key);
    ok = ok && *p == '.' && docid >= 1 && docid <= UINT32_MAX && c->key_len > 0 && c->key_len <= 32;
  }
  if (!ok)
    return err_set(err, ERR_BAD_QUERY, col,
                   "bad cursor '%.40s' at column %d: give back a \"next\" value as it came", s,
                   col);
  if (c->order != eng_order_char(sort))
    return err_set(err, ERR_BAD_QUERY, col,
                   "the cursor at column %d was made for sort:%s, not sort:%s", col,
                   eng_order_name(c->order), qp_sort_name(sort));
  if (c->collapsed != q->news.collapse)
    return err_set(err, ERR_BAD_QUERY, col, "the cursor at column %d was made %s collapse:copies",
                   col, c->collapsed ? "with" : "without");
  c->rank = (uint32_t)rank;
  c->docid = (xw_docid)docid;
  return 0;
}

static int eng_docid_cmp(const void *a, const void *b) {
  xw_docid x = *(const xw_docid *)a, y = *(const xw_docid *)b;
  return x < y ? -1 : x > y;
}

/* Was docid d on a page before the cursor? */
static int eng_seen(const eng_cursor_t *c, xw_docid d) {
  return c && bsearch(&d, c->seen, c->nseen, sizeof d, eng_docid_cmp) != NULL;
}

/* 2^(-age/halflife) of an article dated day (0 = undated: 0). */
static double eng_decay(const qp_query_t *q, uint32_t day) {
  if (!day) return 0;
  int64_t age = cal_days(q->news.now) - cal_days(day);
  return age <= 0 ? 1 : exp2(-(double)age / q->news.halflife);
}

typedef struct eng_cand {
  uint32_t i; /* index in the mset */
  xw_docid docid;
  double score;
} eng_cand_t;

/* A growing list of them (malloc'ed; nomem once a push failed). */
typedef struct eng_cands {
  eng_cand_t *v;
  size_t n, cap;
  int nomem;
} eng_cands_t;

static void eng_cands_push(eng_cands_t *c, eng_cand_t x) {
  if (c->nomem) return;
  if (c->n == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 1024;
    eng_cand_t *v = realloc(c->v, cap * sizeof *v);
    if (!v) {
      c->nomem = 1;
      return;
    }
    c->v = v;
    c->cap = cap;
  }
  c->v[c->n++] = x;
}

static int eng_cand_cmp(const void *a, const void *b) {
  const eng_cand_t *x = a, *y = b;
  if (x->score != y->score) return x->score > y->score ? -1 : 1;
  return x->docid < y->docid ? -1 : x->docid > y->docid;
}

/* A relevance page after a cursor: of m's hits (Xapian's best, in order),
 * the first `want` not seen before it, in cands[0..*n).  Returns 1 when
 * that is all of them or every match was fetched; 0: fetch more. */
static int eng_unseen(xw_mset *m, uint32_t fetched_cap, const eng_cursor_t *cur, uint32_t want,
                      eng_cand_t *cands, size_t *n) {
  uint32_t size = xw_mset_size(m);
  size_t k = 0;
  for (uint32_t i = 0; i < size && k < want; i++) {
    eng_cand_t c = {i, xw_mset_docid(m, i), xw_mset_weight(m, i)};
    if (!eng_seen(cur, c.docid)) cands[k++] = c;
  }
  *n = k;
  return k == want || size < fetched_cap;
}

/* sort:recent: every match scored in one pass (xw_match_each hands over
 * the BM25 weight), decayed by its day, the ones seen before the cursor
 * left out. */
typedef struct eng_scored {
  eng_t *e;
  const qp_query_t *q;
  const eng_cursor_t *cur;
  const xw_column *days; /* NULL: values read per match */
  eng_cands_t c;
} eng_scored_t;

static void eng_scored_add(void *ud, xw_docid d, double w) {
  eng_scored_t *s = ud;
  if (eng_seen(s->cur, d) || s->c.nomem) return;
  uint32_t day = 0;
  if (s->days) {
    day = eng_ymd(xw_column_name(s->days, xw_column_id(s->days, d), NULL));
  } else {
    char *v = NULL;
    if (!xw_db_get_value(s->e->db, d, SCHEMA_SLOT_DAY, &v, NULL, NULL)) day = eng_ymd(v);
    free(v);
  }
  eng_cands_push(&s->c, (eng_cand_t){UINT32_MAX, d, w * eng_decay(s->q, day)});
}

/* The best `want` of sort:recent into cands (arena) and *n. */
static int eng_recent(eng_t *e, const qp_query_t *q, const xw_query *x, const eng_cursor_t *cur,
                      uint32_t want, arena_t *a, eng_cand_t **cands, size_t *n, err_t *err) {
  eng_scored_t s = {e, q, cur, eng_column(e, QP_FACET_DAY), {0}};
  int rc = xw_match_each(e->db, x, 1, e->lim.bm25_k1, e->lim.bm25_b, e->lim.time_limit,
                         eng_shard_mask(e, q), eng_scored_add, &s, err);
  if (!rc && s.c.nomem) rc = err_set(err, ERR_NOMEM, 0, "out of memory ranking the matches");
  if (!rc) {
    if (s.c.n) qsort(s.c.v, s.c.n, sizeof *s.c.v, eng_cand_cmp);
    *n = s.c.n < want ? s.c.n : want;
    if (!(*cands = arena_calloc(a, *n ? *n : 1, sizeof **cands)))
      rc = err_set(err, ERR_NOMEM, 0, "out of memory ranking the matches");
    else if (*n) memcpy(*cands, s.c.v, *n * sizeof **cands);
  }
  free(s.c.v);
  return rc;
}

/* The cursor after a page of a date sort: its last hit, m's hit sel. */
static const char *eng_cursor_value(xw_mset *m, uint32_t sel, qp_sort_t sort, uint32_t rank,
                                    unsigned slot, arena_t *a) {
  char *v = NULL;
  const char *c = NULL;
  if (!xw_mset_value(m, sel, slot, &v, NULL, NULL))
    c = arena_sprintf(a, "%c%u.%u.%s", eng_order_char(sort), rank, xw_mset_docid(m, sel), v);
  free(v);
  return c;
}

/* The cursor after a page of relevance or recent: the docids seen before
 * it (cur's) and on it (page[0..n)), rank of them in all. */
static const char *eng_cursor_seen(const eng_cursor_t *cur, const xw_docid *page, size_t n,
                                   qp_sort_t sort, uint32_t rank, arena_t *a) {
  size_t before = cur ? cur->nseen : 0, k = 0;
  xw_docid *all = malloc((before + n + 1) * sizeof *all);
  buf_t b;
  buf_init(&b, 0);
  if (!all) return NULL;
  if (before) memcpy(all, cur->seen, before * sizeof *all);
  memcpy(all + before, page, n * sizeof *all);
  qsort(all, before + n, sizeof *all, eng_docid_cmp);
  buf_printf(&b, "%c%u.", eng_order_char(sort), rank);
  for (size_t i = 0; i < before + n; i++, k++) eng_put_gap(&b, all[i] - (i ? all[i - 1] : 0));
  const char *c = b.err || k != rank ? NULL : arena_strndup(a, b.data, b.len);
  buf_fini(&b);
  free(all);
  return c;
}

/* ---- copies (dup.h) ---- */

static int eng_doc_head(eng_t *e, xw_docid d, arena_t *a, doc_t *out, err_t *err);

typedef struct eng_gload {
  dup_groups_t *g;
  int failed;
} eng_gload_t;

static void eng_gload_add(void *ud, xw_docid d, const char *v, size_t n) {
  eng_gload_t *l = ud;
  if (!l->failed && dup_groups_add(l->g, d, v, n)) l->failed = 1;
}

/* The copy groups of the index as this engine sees it, built once. */
static const dup_groups_t *eng_groups(eng_t *e, err_t *err) {
  if (e->groups) return e->groups;
  eng_gload_t l = {dup_groups_new(xw_db_lastdocid(e->db)), 0};
  int rc = l.g ? xw_values_each(e->db, SCHEMA_SLOT_COPIES, eng_gload_add, &l, err) : ERR_NOMEM;
  if (!rc && (l.failed || dup_groups_finish(l.g))) rc = ERR_NOMEM;
  if (rc) {
    err_set(err, rc, 0, "out of memory for the copy groups");
    dup_groups_free(l.g);
    return NULL;
  }
  return e->groups = l.g;
}

/* collapse:copies: every match counted into its group. */
#define ENG_TAKEN 0x80000000u /* count[] mark: the group has its hit */
typedef struct eng_collapse {
  const dup_groups_t *g;
  uint32_t *count; /* per group (its smallest docid): matching articles */
  uint64_t *match; /* a bit per matching docid */
  uint32_t last, groups, total;
} eng_collapse_t;

static void eng_collapse_add(void *ud, xw_docid d, double w) {
  eng_collapse_t *c = ud;
  (void)w;
  if (d > c->last) return;
  uint32_t g = dup_group(c->g, d);
  if (!c->count[g]++) c->groups++;
  c->match[d / 64] |= (uint64_t)1 << (d % 64);
  c->total++;
}

static int eng_collapse_count(eng_t *e, const xw_query *x, eng_collapse_t *c, err_t *err) {
  if (!(c->g = eng_groups(e, err))) return err->code;
  c->last = xw_db_lastdocid(e->db);
  c->count = calloc((size_t)c->last + 1, sizeof *c->count);
  c->match = calloc((size_t)c->last / 64 + 1, sizeof *c->match);
  if (!c->count || !c->match) return err_set(err, ERR_NOMEM, 0, "out of memory for copy counts");
  return xw_match_each(e->db, x, 0, 0, 0, e->lim.time_limit, NULL, eng_collapse_add, c, err);
}

/* Keep, in order, the first of cands[0..n) in each group, at most want. */
static size_t eng_dedupe(eng_collapse_t *c, eng_cand_t *cands, size_t n, size_t want) {
  size_t k = 0;
  for (size_t i = 0; i < n && k < want; i++) {
    uint32_t g = dup_group(c->g, cands[i].docid);
    if (c->count[g] & ENG_TAKEN) continue;
    c->count[g] |= ENG_TAKEN;
    cands[k++] = cands[i];
  }
  for (size_t i = 0; i < k; i++) c->count[dup_group(c->g, cands[i].docid)] &= ~ENG_TAKEN;
  return k;
}

/* The outlet of docid d (the outlet column, else its value), in the arena. */
static const char *eng_outlet_of(eng_t *e, xw_docid d, arena_t *a) {
  const xw_column *oc = eng_column(e, QP_FACET_OUTLET);
  size_t n = 0;
  const char *v = NULL;
  char *own = NULL;
  if (oc) v = xw_column_name(oc, xw_column_id(oc, d), &n);
  else if (!xw_db_get_value(e->db, d, SCHEMA_SLOT_OUTLET, &own, &n, NULL)) v = own;
  const char *out = v && n && strcmp(v, SCHEMA_NO_VALUE) ? arena_strndup(a, v, n) : NULL;
  free(own);
  return out;
}

/* Hit h stands for docid d's group: the count of its other matches and
 * their distinct outlets, told apart by the key outlet: matches (a
 * spelling without one is left out), each shown in the spelling most of
 * these copies use (ties: the first in byte order), in key order. */
static int eng_collapse_hit(eng_t *e, const eng_collapse_t *c, xw_docid d, eng_hit_t *h,
                            arena_t *a) {
  h->copies = c->count[dup_group(c->g, d)] - 1;
  if (!h->copies) return 0;
  h->copy_outlets = arena_calloc(a, h->copies, sizeof *h->copy_outlets);
  eng_okey_t *ks = arena_calloc(a, h->copies, sizeof *ks); /* id: index in shown */
  const char **shown = arena_calloc(a, h->copies, sizeof *shown);
  const char **sp = arena_calloc(a, h->copies, sizeof *sp);
  if (!h->copy_outlets || !ks || !shown || !sp) return ERR_NOMEM;
  size_t n = 0;
  for (uint32_t m = dup_next(c->g, d); m != d; m = dup_next(c->g, m)) {
    if (!(c->match[m / 64] >> (m % 64) & 1)) continue;
    const char *o = eng_outlet_of(e, m, a);
    char key[SCHEMA_MAX_KEY + 1];
    size_t kl = o ? tok_key(o, strlen(o), key, sizeof key) : 0;
    if (!kl) continue;
    if (!(ks[n].key = arena_strndup(a, key, kl))) return ERR_NOMEM;
    shown[n] = o;
    ks[n].id = (uint32_t)n;
    n++;
  }
  qsort(ks, n, sizeof *ks, eng_okey_cmp);
  /* Per key, the most frequent spelling: its copies sorted by spelling. */
  for (size_t i = 0, j; i < n; i = j) {
    for (j = i; j < n && !strcmp(ks[j].key, ks[i].key); j++) sp[j - i] = shown[ks[j].id];
    qsort(sp, j - i, sizeof *sp, eng_str_cmp);
    const char *best = NULL;
    for (size_t r = 0, t, most = 0; r < j - i; r = t) {
      t = r + 1;
      while (t < j - i && !strcmp(sp[t], sp[r])) t++;
      if (t - r > most) most = t - r, best = sp[r];
    }
    h->copy_outlets[h->ncopy_outlets++] = best;
  }
  return 0;
}

int eng_copies(eng_t *e, const char *id, size_t len, arena_t *a, const char ***ids, size_t *n,
               err_t *err) {
  char term[ENG_TERM_CAP];
  xw_docid d;
  *ids = NULL;
  *n = 0;
  if (len == 0 || len > SCHEMA_MAX_ID) return 0;
  memcpy(term, SCHEMA_P_ID, 1);
  memcpy(term + 1, id, len);
  if (xw_db_find_term(e->db, term, len + 1, &d, NULL)) return 0;
  const dup_groups_t *g = eng_groups(e, err);
  if (!g) return err->code;
  size_t k = 0;
  for (uint32_t m = dup_next(g, d); m != d; m = dup_next(g, m)) k++;
  if (!k) return 0;
  if (!(*ids = arena_calloc(a, k, sizeof **ids))) return err_set(err, ERR_NOMEM, 0, NULL);
  for (uint32_t m = dup_next(g, d); m != d; m = dup_next(g, m)) {
    doc_t doc;
    int rc = eng_doc_head(e, m, a, &doc, err);
    if (rc) return rc;
    (*ids)[(*n)++] = doc.id;
  }
  return 0;
}

/* The docids of the first n ranks of a page's order (from the top, or from
 * its cursor): the rescored candidates, or Xapian's hits with the ones an
 * offset skipped fetched again. */
static int eng_page_seen(eng_t *e, const xw_query *x, const xw_search_opts *o, xw_mset *m,
                         const eng_cand_t *cands, size_t n, arena_t *a, xw_docid **out,
                         err_t *err) {
  xw_docid *v = *out = arena_calloc(a, n ? n : 1, sizeof *v);
  if (!v) return err_set(err, ERR_NOMEM, 0, "out of memory for the cursor");
  if (cands) {
    for (size_t i = 0; i < n; i++) v[i] = cands[i].docid;
    return 0;
  }
  for (uint32_t i = 0; i < xw_mset_size(m) && o->offset + i < n; i++)
    v[o->offset + i] = xw_mset_docid(m, i);
  if (!o->offset) return 0;
  xw_search_opts top = {.limit = o->offset,
                        .sort = o->sort,
                        .sort_slot = o->sort_slot,
                        .time_limit = o->time_limit};
  xw_mset *t = NULL;
  int rc = xw_search(e->db, x, &top, &t, err);
  for (uint32_t i = 0; !rc && i < xw_mset_size(t) && i < o->offset; i++) v[i] = xw_mset_docid(t, i);
  xw_mset_free(t);
  return rc;
}

/* The snippet of body b (hit `hit` of the page) from the blocks the
 * index's positions point at (win.h), decoded one at a time as the scan
 * reaches them (it mostly stops within the first), and those its passages
 * reach into; *title: whether a word of the query stands in the title;
 * *done = 0 when the positions cannot tell. */
static int eng_snippet_window(eng_t *e, win_plan_t *wp, snip_matcher_t *sm, size_t lang, size_t hit,
                              ds_body_t *b, arena_t *a, const char **out, int *title, int *done,
                              err_t *err) {
  *done = 0;
  unsigned char *marks = arena_alloc(a, b->nblocks ? b->nblocks : 1);
  snip_region_t *reg = arena_alloc(a, (b->nblocks ? b->nblocks : 1) * sizeof *reg);
  if (!marks || !reg) return err_set(err, ERR_NOMEM, 0, NULL);
  int rc = win_mark(wp, hit, lang, b, marks, title, done, err);
  if (rc || !*done) return rc;
  size_t need[2] = {0, 0};
  for (int more = 1; more;) {
    /* Decode the blocks holding bytes [need[0], need[1]); the regions are
     * the runs of decoded blocks, and the scan's next part the first
     * marked block not decoded. */
    size_t nreg = 0, next = b->len;
    for (size_t i = 0; i < b->nblocks; i++) {
      ds_block_t *k = &b->blocks[i];
      if (k->start < need[1] && need[0] < k->start + k->len && (rc = ds_block(e->codec, b, i, err)))
        return rc;
      if (!k->ready) {
        if (marks[i] && next == b->len) next = k->start;
        continue;
      }
      if (nreg && reg[nreg - 1].end == k->start) reg[nreg - 1].end += k->len;
      else reg[nreg++] = (snip_region_t){k->start, k->start + k->len};
    }
    *out = snip_build_regions(sm, lang, b->text, b->len, reg, nreg, next, ENG_SNIPPET_BYTES, a,
                              &more, need);
    if (!more && !*out) return err_set(err, ERR_NOMEM, 0, "out of memory for a snippet");
  }
  return 0;
}

/* The snippet of body b: its blocks decoded from the start, one at a time,
 * until snip_build_part has what it needs. */
static int eng_snippet(eng_t *e, snip_matcher_t *sm, size_t lang, ds_body_t *b, arena_t *a,
                       const char **out, err_t *err) {
  size_t have = 0, k = 0;
  int more = 1, rc = 0;
  *out = NULL;
  while (more) {
    if (k < b->nblocks) {
      if ((rc = ds_block(e->codec, b, k, err))) return rc;
      have += b->blocks[k++].len;
    }
    *out = snip_build_part(sm, lang, b->text, have, b->len, ENG_SNIPPET_BYTES, a, &more);
    if (more && k == b->nblocks) break; /* cannot happen: the whole body is at hand */
  }
  return *out ? 0 : err_set(err, ERR_NOMEM, 0, "out of memory for a snippet");
}

static int eng_search_once(eng_t *e, const qp_query_t *q, int any, arena_t *a, eng_result_t *out,
                           err_t *err) {
  memset(out, 0, sizeof *out);
  int rc = eng_check_page(e, q, err);
  if (rc) return rc;
  qp_sort_t sort =
      q->sort == QP_SORT_DEFAULT ? (q->has_text ? QP_SORT_RELEVANCE : QP_SORT_NEWEST) : q->sort;
  eng_cursor_t cur;
  const eng_cursor_t *cp = NULL;
  int collapse = q->news.collapse;
  uint32_t offset = q->offset;
  if (q->news.after) {
    if (q->offset)
      return err_set(err, ERR_BAD_QUERY, q->news.after_column,
                     "after: at column %d continues from its cursor: leave offset: out",
                     q->news.after_column);
    if ((rc = eng_cursor_parse(q, sort, a, &cur, err))) return rc;
    cp = &cur;
    if (cur.collapsed) { /* groups are paged by their rank, as offset: does */
      if (cur.rank > e->lim.max_offset)
        return err_set(err, ERR_BAD_QUERY, q->news.after_column,
                       "the cursor at column %d is past the largest offset, %u",
                       q->news.after_column, e->lim.max_offset);
      offset = cur.rank;
      cp = NULL;
    }
  }
  int by_value = sort == QP_SORT_NEWEST || sort == QP_SORT_OLDEST;
  unsigned sort_slot = sort == QP_SORT_OLDEST ? SCHEMA_SLOT_OLDEST : SCHEMA_SLOT_NEWEST;
  xw_query *x = NULL;
  if ((rc = eng_query(e, q, any, &x, err))) return rc;
  if (cp && by_value) { /* keys up to the cursor's, ties settled by docid in xw */
    char key[40];
    snprintf(key, sizeof key, "%.*s", (int)cur.key_len, cur.key);
    xw_query *pair[2] = {x, xw_query_value_range(sort_slot, sort == QP_SORT_OLDEST ? key : NULL,
                                                 sort == QP_SORT_OLDEST ? NULL : key)};
    x = eng_combine_free(XW_FILTER, pair, 2);
    if (!x) return err_set(err, ERR_NOMEM, 0, "out of memory building the query");
  }
  if ((rc = eng_check_budget(e, x, (uint64_t)offset + q->limit, err))) return rc;

  xw_facet_spec specs[QP_FACET__COUNT];
  for (size_t i = 0; i < q->nfacets; i++) {
    specs[i] = eng_facet_specs[q->facets[i].facet];
    specs[i].column = eng_column(e, q->facets[i].facet);
  }
  /* sort:recent ranks every match itself (eng_recent), and a relevance
   * cursor leaves out the hits seen (eng_unseen): Xapian then only counts,
   * or ranks past the pages seen; the rest is Xapian's own order. */
  int rerank = sort == QP_SORT_RECENT || (cp && sort == QP_SORT_RELEVANCE) || collapse;
  uint32_t want = offset + q->limit, base = cp ? cur.rank : offset;
  xw_search_opts o = {
      .offset = rerank ? 0 : offset,
      .limit = sort == QP_SORT_RECENT ? 0
               : collapse             ? want + want / 4 + 5
               : cp && !by_value      ? cur.rank + 2 * q->limit + 10
                                      : q->limit,
      .sort = sort == QP_SORT_NEWEST   ? XW_SORT_VALUE_DESC
              : sort == QP_SORT_OLDEST ? XW_SORT_VALUE_ASC
                                       : XW_SORT_RELEVANCE,
      .sort_slot = sort_slot,
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
  if (cp && by_value) {
    o.after_key = cur.key;
    o.after_key_len = cur.key_len;
    o.after_docid = cur.docid;
  }
  xw_mset *m = NULL;
  eng_cand_t *cands = NULL;
  size_t nc = 0;
  char *owned = NULL; /* a hit's data read by docid (sort:recent) */
  eng_collapse_t col = {0};
  if (collapse) {
    if ((rc = eng_collapse_count(e, x, &col, err))) goto out;
    if (!q->nfacets) o.check_at_least = 0; /* the count is col's */
  }
  for (;;) {
    if ((rc = xw_search(e->db, x, &o, &m, err))) break;
    if (sort == QP_SORT_RECENT) {
      rc = eng_recent(e, q, x, cp, collapse ? UINT32_MAX : want, a, &cands, &nc, err);
      if (!rc && collapse) nc = eng_dedupe(&col, cands, nc, want);
      break;
    }
    if (!rerank) break;
    uint32_t size = xw_mset_size(m);
    if (!(cands = arena_calloc(a, size ? size : 1, sizeof *cands))) {
      rc = err_set(err, ERR_NOMEM, 0, "out of memory ranking the matches");
      break;
    }
    if (collapse) {
      for (uint32_t i = 0; i < size; i++)
        cands[i] = (eng_cand_t){i, xw_mset_docid(m, i), xw_mset_weight(m, i)};
      nc = eng_dedupe(&col, cands, size, want);
      if (nc == want || size < o.limit) break;
    } else if (eng_unseen(m, o.limit, cp, want, cands, &nc)) {
      break;
    }
    xw_mset_free(m);
    m = NULL;
    o.limit = o.limit > UINT32_MAX / 4 ? UINT32_MAX : o.limit * 4;
  }
  if (rc) goto out;

  out->total_exact = xw_mset_matches_lower(m) == xw_mset_matches_upper(m);
  out->total = out->total_exact ? xw_mset_matches_lower(m) : xw_mset_matches_estimated(m);
  if (cp && by_value) out->total += cur.rank; /* the matches left, after the pages seen */
  if (collapse) {
    out->total = col.total;
    out->total_exact = 1;
    out->groups = col.groups;
    out->collapsed = 1;
  }
  out->offset = base;
  out->limit = q->limit;
  /* The page: hits [skip, skip + nh) of the rescored candidates, or of the
   * mset as Xapian ordered it. */
  uint32_t skip = rerank && !cp ? offset : 0;
  uint32_t nh = rerank ? (nc > skip ? (uint32_t)nc - skip : 0) : xw_mset_size(m);
  out->hits = nh ? arena_calloc(a, nh, sizeof *out->hits) : NULL;
  snip_matcher_t *sm = nh ? snip_matcher_new(a, q, e->stemmers, e->nlangs) : NULL;
  if (nh && (!out->hits || !sm)) {
    rc = err_set(err, ERR_NOMEM, 0, "out of memory for the result page");
    goto out;
  }
  /* The page's docids: the i-th hit is the mset's i-th only when not
   * reranked. */
  xw_docid *page = nh ? arena_alloc(a, nh * sizeof *page) : NULL;
  if (nh && !page) {
    rc = err_set(err, ERR_NOMEM, 0, "out of memory for the result page");
    goto out;
  }
  for (uint32_t i = 0; i < nh; i++) page[i] = rerank ? cands[skip + i].docid : xw_mset_docid(m, i);
  win_plan_t *wp = NULL;
  if (nh && !e->lim.snippets_full &&
      !(wp = win_plan_new(e->db, sm, e->stemmers, (const char *const *)e->lang_names, e->nlangs,
                          e->naming, e->words, page, nh, a, err))) {
    rc = err->code ? err->code : ERR_NOMEM;
    goto out;
  }
  for (uint32_t i = 0; i < nh; i++) {
    uint32_t mi = rerank ? cands[skip + i].i : i;
    const char *data;
    size_t len;
    doc_t d;
    free(owned);
    owned = NULL;
    rc = mi == UINT32_MAX ? xw_db_get_data(e->db, cands[skip + i].docid, &owned, &len, err)
                          : xw_mset_data(m, mi, &data, &len, err);
    if (rc) goto out;
    if (owned) data = owned;
    /* The fields cost no decompression; the body's blocks are decoded as
     * the snippet needs them. */
    ds_body_t body;
    if ((rc = ds_open(e->codec, data, len, a, &d, &body, err))) goto out;
    eng_hit_t *h = &out->hits[i];
    h->rank = base + i + 1;
    h->score = rerank ? cands[skip + i].score : xw_mset_weight(m, mi);
    h->id = d.id;
    h->title = d.title;
    h->outlet = d.outlet;
    h->date = d.date;
    h->url = d.url;
    if (collapse && eng_collapse_hit(e, &col, cands[skip + i].docid, h, a)) {
      rc = err_set(err, ERR_NOMEM, 0, "out of memory for the copies of a hit");
      goto out;
    }
    size_t lang = eng_lang_index(e, d.lang, page[i]);
    int done = 0, in_title = 1;
    if (body.text && wp &&
        (rc = eng_snippet_window(e, wp, sm, lang, i, &body, a, &h->snippet, &in_title, &done, err)))
      goto out;
    if (body.text && !done && (rc = eng_snippet(e, sm, lang, &body, a, &h->snippet, err))) goto out;
    /* The title is scanned unless the positions showed none of the
     * query's words in it (and no term is for titles only). */
    if (d.title && (!done || in_title || snip_title_only_terms(sm)) &&
        snip_title(sm, lang, d.title, strlen(d.title), a, &h->title_html)) {
      rc = err_set(err, ERR_NOMEM, 0, "out of memory for a title");
      goto out;
    }
  }
  out->nhits = nh;
  /* More to come: the last hit's rank is below the total (an estimated
   * total says so only when the page is full). */
  if (nh && collapse && base + nh < out->groups) {
    out->next = arena_sprintf(a, "%c%u", eng_order_char(sort) - 'a' + 'A', base + nh);
    if (!out->next) {
      rc = err_set(err, ERR_NOMEM, 0, "out of memory for the cursor");
      goto out;
    }
  } else if (nh && !collapse && (out->total_exact ? base + nh < out->total : nh == q->limit)) {
    if (by_value) {
      out->next = eng_cursor_value(m, nh - 1, sort, base + nh, sort_slot, a);
    } else {
      size_t n = (rerank ? skip : offset) + nh;
      xw_docid *seen;
      if ((rc = eng_page_seen(e, x, &o, m, rerank ? cands : NULL, n, a, &seen, err))) goto out;
      out->next = eng_cursor_seen(cp, seen, n, sort, base + nh, a);
    }
    if (!out->next) {
      rc = err_set(err, ERR_NOMEM, 0, "out of memory for the cursor");
      goto out;
    }
  }

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
      int is_date =
          slot == SCHEMA_SLOT_DAY || slot == SCHEMA_SLOT_MONTH || slot == SCHEMA_SLOT_YEAR;
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
  free(col.count);
  free(col.match);
  free(owned);
  xw_mset_free(m);
  xw_query_free(x);
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
    return err_set(err, ERR_NOT_FOUND, 0, "no article with id '%.*s'", (int)(len > 80 ? 80 : len),
                   id);
  }
  memcpy(term, SCHEMA_P_ID, 1);
  memcpy(term + 1, id, len);
  xw_docid did;
  int rc = xw_db_find_term(e->db, term, len + 1, &did, err);
  if (rc == ERR_NOT_FOUND) {
    err_clear(err);
    return err_set(err, ERR_NOT_FOUND, 0, "no article with id '%.*s'", (int)(len > 80 ? 80 : len),
                   id);
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
  out->format = e->format; /* the oldest of the shards */
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

/* ---- TIMELINE (eng.h) ----
 * The matching docids are gathered once (xw_match_each); each one's day and
 * outlet come from the day and outlet columns, so nothing stored is read
 * but the `first` articles themselves (and the sort keys of the articles on
 * an outlet's earliest day, to order within the day). */

/* A period as a number: days since 1970 (day), Mondays since 1969-12-29
 * (week), months since year 0 (month), the year. */
static int64_t eng_period(qp_by_t by, uint32_t day) {
  switch (by) {
    case QP_BY_WEEK: {
      int64_t n = cal_days(day) + 3; /* 1969-12-29, a Monday, is day -3 */
      return (n >= 0 ? n : n - 6) / 7;
    }
    case QP_BY_MONTH:
      return (int64_t)(day / 10000) * 12 + day / 100 % 100 - 1;
    case QP_BY_YEAR:
      return day / 10000;
    default:
      return cal_days(day);
  }
}

/* n digits of v at p (zero-padded). */
static char *eng_digits(char *p, unsigned v, int n) {
  for (int i = n - 1; i >= 0; i--, v /= 10) p[i] = (char)('0' + v % 10);
  return p + n;
}

/* The label of period k: 2023-11-02, 2023-W44, 2023-11, 2023 (written by
 * hand: a day series has thousands). */
static const char *eng_period_label(qp_by_t by, int64_t k, arena_t *a) {
  char s[16], *p = s;
  unsigned y, w;
  uint32_t d;
  switch (by) {
    case QP_BY_WEEK:
      cal_iso_week(cal_from_days(k * 7 - 3), &y, &w);
      p = eng_digits(p, y, 4);
      *p++ = '-';
      *p++ = 'W';
      p = eng_digits(p, w, 2);
      break;
    case QP_BY_MONTH:
      p = eng_digits(p, (unsigned)(k / 12), 4);
      *p++ = '-';
      p = eng_digits(p, (unsigned)(k % 12 + 1), 2);
      break;
    case QP_BY_YEAR:
      p = eng_digits(p, (unsigned)k, 4);
      break;
    default:
      d = cal_from_days(k);
      p = eng_digits(p, d / 10000, 4);
      *p++ = '-';
      p = eng_digits(p, d / 100 % 100, 2);
      *p++ = '-';
      p = eng_digits(p, d % 100, 2);
  }
  return arena_strndup(a, s, (size_t)(p - s));
}

/* The day bounds the query's top-level date conditions set (0: open);
 * a month's end "YYYYMM31" is brought to the month's last day. */
static void eng_query_days(const qp_node_t *n, uint32_t *lo, uint32_t *hi) {
  size_t nk = n && n->kind == QN_AND ? n->nkids : 1;
  for (size_t i = 0; n && i < nk; i++) {
    const qp_node_t *k = n->kind == QN_AND ? n->kids[i] : n;
    if (k->kind != QN_DATE) continue;
    if (k->lo > *lo) *lo = k->lo;
    if (k->hi && (!*hi || k->hi < *hi)) *hi = k->hi;
  }
  unsigned m = *hi / 100 % 100, last = *hi ? cal_month_days(*hi / 10000, m) : 0;
  if (*hi && *hi % 100 > last) *hi = *hi / 100 * 100 + last;
}

static void eng_ids_add(void *ud, xw_docid d, double w) {
  eng_cands_push(ud, (eng_cand_t){0, d, w});
}

static int eng_u64_cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* An outlet's earliest match so far. */
typedef struct eng_early {
  uint32_t day; /* 0: none */
  xw_docid docid;
  const char *key; /* SCHEMA_SLOT_NEWEST value, once read */
  doc_t doc;       /* decoded once it is needed */
  int have_doc;
} eng_early_t;

/* The fields of article d (its body left out: ds_open decodes no block). */
static int eng_doc_head(eng_t *e, xw_docid d, arena_t *a, doc_t *out, err_t *err) {
  char *data = NULL;
  size_t len = 0;
  ds_body_t body;
  int rc = xw_db_get_data(e->db, d, &data, &len, err);
  if (!rc) rc = ds_open(e->codec, data, len, a, out, &body, err);
  free(data);
  return rc;
}

static int eng_early_doc(eng_t *e, eng_early_t *x, arena_t *a, err_t *err) {
  if (x->have_doc) return 0;
  int rc = eng_doc_head(e, x->docid, a, &x->doc, err);
  x->have_doc = !rc;
  return rc;
}

/* Order of `first`: by sort key, then by id. */
static int eng_early_cmp(const void *a, const void *b) {
  const eng_early_t *x = *(eng_early_t *const *)a, *y = *(eng_early_t *const *)b;
  int c = strcmp(x->key, y->key);
  return c ? c : strcmp(x->doc.id, y->doc.id);
}

static int eng_day_cmp(const void *a, const void *b) {
  uint32_t x = (*(eng_early_t *const *)a)->day, y = (*(eng_early_t *const *)b)->day;
  return x < y ? -1 : x > y;
}

/* first: each outlet's earliest match among ids, the q->limit oldest
 * (outlets as okey gives them, eng_outlet_ids). */
static int eng_first(eng_t *e, const qp_query_t *q, const xw_column *oc, const uint32_t *okey,
                     const uint32_t *dayv, const xw_column *dc, const eng_cands_t *ids, arena_t *a,
                     eng_timeline_t *out, err_t *err) {
  uint32_t no = xw_column_nvalues(oc);
  eng_early_t *early = arena_calloc(a, no, sizeof *early);
  eng_early_t **order = arena_calloc(a, no, sizeof *order);
  if (!early || !order) return err_set(err, ERR_NOMEM, 0, NULL);
  for (size_t i = 0; i < ids->n; i++) {
    uint32_t day = dayv[xw_column_id(dc, ids->v[i].docid)],
             o = okey[xw_column_id(oc, ids->v[i].docid)];
    if (day && o && (!early[o].day || day < early[o].day)) early[o].day = day;
  }
  size_t n = 0;
  for (uint32_t o = 1; o < no; o++)
    if (early[o].day) order[n++] = &early[o];
  qsort(order, n, sizeof *order, eng_day_cmp);
  uint32_t cut = n > q->limit ? (q->limit ? order[q->limit - 1]->day : 0) : UINT32_MAX;
  /* Within its earliest day an outlet's first article is the one with the
   * smallest sort key (the time of day when given), then the smallest id:
   * read only for the outlets that can make the list. */
  int rc = 0;
  for (size_t i = 0; i < ids->n && !rc; i++) {
    xw_docid d = ids->v[i].docid;
    uint32_t o = okey[xw_column_id(oc, d)];
    eng_early_t *x = &early[o];
    if (!o || !x->day || x->day > cut || dayv[xw_column_id(dc, d)] != x->day) continue;
    char *v = NULL;
    if ((rc = xw_db_get_value(e->db, d, SCHEMA_SLOT_NEWEST, &v, NULL, err))) break;
    int c = x->key ? strcmp(v, x->key) : -1;
    if (c == 0) { /* the same time: the smaller id */
      doc_t nd;
      if (!(rc = eng_early_doc(e, x, a, err)) && !(rc = eng_doc_head(e, d, a, &nd, err)) &&
          strcmp(nd.id, x->doc.id) < 0) {
        x->docid = d;
        x->doc = nd;
      }
    } else if (c < 0) {
      x->docid = d;
      x->have_doc = 0;
      if (!(x->key = arena_strdup(a, v))) rc = err_set(err, ERR_NOMEM, 0, NULL);
    }
    free(v);
  }
  size_t k = 0;
  for (size_t i = 0; i < n && !rc; i++)
    if (order[i]->day <= cut) {
      order[k++] = order[i];
      rc = eng_early_doc(e, order[i], a, err);
    }
  if (rc) return rc;
  qsort(order, k, sizeof *order, eng_early_cmp);
  out->nfirst = k < q->limit ? k : q->limit;
  out->first = arena_calloc(a, out->nfirst ? out->nfirst : 1, sizeof *out->first);
  if (!out->first) return err_set(err, ERR_NOMEM, 0, NULL);
  for (size_t i = 0; i < out->nfirst; i++) {
    const doc_t *d = &order[i]->doc;
    out->first[i] = (eng_first_t){d->id, d->date, d->outlet, d->title};
  }
  return 0;
}

/* The column of facet f, or one loaded for this request into *own (a stub:
 * eng_column keeps none). */
static const xw_column *eng_tl_column(eng_t *e, qp_facet_t f, xw_column **own, err_t *err) {
  const xw_column *c = eng_column(e, f);
  if (c) return c;
  if (xw_column_load(e->db, eng_facet_specs[f].slot, 0, own, err)) return NULL;
  if (!*own)
    err_set(err, ERR_INTERNAL, 0, "TIMELINE: the index has more than %u distinct %ss",
            XW_COLUMN_MAX_VALUES, qp_facet_name(f));
  return *own;
}

#define ENG_TL_BITS (64u << 20) /* 8 MB of (period, outlet) bits at most */

int eng_timeline(eng_t *e, const qp_query_t *q, arena_t *a, eng_timeline_t *out, err_t *err) {
  memset(out, 0, sizeof *out);
  eng_cands_t ids = {0};
  xw_column *own_d = NULL, *own_o = NULL;
  uint32_t *dayv = NULL, *own_ids = NULL;
  uint64_t *pairs = NULL, *bits = NULL;
  int32_t *dayk = NULL;
  xw_query *x = NULL;
  int rc = eng_query(e, q, q->match_any, &x, err);
  if (rc) return rc;
  if ((rc = eng_check_budget(e, x, 0, err))) return rc;
  const xw_column *dc = eng_tl_column(e, QP_FACET_DAY, &own_d, err);
  const xw_column *oc = dc ? eng_tl_column(e, QP_FACET_OUTLET, &own_o, err) : NULL;
  if (!dc || !oc) {
    rc = err->code ? err->code : err_set(err, ERR_INTERNAL, 0, "TIMELINE: no columns");
    goto out;
  }
  rc = xw_match_each(e->db, x, 0, 0, 0, e->lim.time_limit, eng_shard_mask(e, q), eng_ids_add, &ids,
                     err);
  if (!rc && ids.nomem) rc = err_set(err, ERR_NOMEM, 0, "out of memory gathering the matches");
  if (rc) goto out;
  out->total = (uint32_t)ids.n;
  /* The engine's column keeps its outlet ids; a stub's, loaded for this
   * request, has them for the request. */
  const uint32_t *okey;
  if (oc == eng_column(e, QP_FACET_OUTLET)) okey = eng_outlets(e, oc);
  else okey = own_ids = eng_outlet_ids(oc, NULL, NULL);
  if (!okey) goto nomem;

  uint32_t nd = xw_column_nvalues(dc), lo = 0, hi = 0, mlo = 0, mhi = 0;
  if (!(dayv = calloc(nd, sizeof *dayv))) goto nomem;
  for (uint32_t id = 1; id < nd; id++) dayv[id] = eng_ymd(xw_column_name(dc, id, NULL));
  for (size_t i = 0; i < ids.n; i++) {
    uint32_t day = dayv[xw_column_id(dc, ids.v[i].docid)];
    if (day && (!mlo || day < mlo)) mlo = day;
    if (day > mhi) mhi = day;
  }
  eng_query_days(q->root, &lo, &hi);
  if (!lo) lo = mlo;
  if (!hi) hi = mhi;
  out->by = q->news.by;
  if (out->by == QP_BY_AUTO)
    out->by = lo && hi && cal_days(hi) - cal_days(lo) > 366 ? QP_BY_MONTH : QP_BY_DAY;
  if (!lo || !hi || lo > hi) goto first; /* nothing dated: an empty series */
  int64_t k0 = eng_period(out->by, lo), np = eng_period(out->by, hi) - k0 + 1;
  if (np > ENG_MAX_POINTS) {
    rc = err_set(err, ERR_BAD_QUERY, 0,
                 "TIMELINE from %u to %u by %s has %lld periods, over %d: narrow the dates or "
                 "count by a longer period",
                 lo, hi, qp_by_name(out->by), (long long)np, ENG_MAX_POINTS);
    goto out;
  }
  out->from = eng_period_label(QP_BY_DAY, cal_days(lo), a);
  out->to = eng_period_label(QP_BY_DAY, cal_days(hi), a);
  out->series = arena_calloc(a, (size_t)np, sizeof *out->series);
  if (!out->from || !out->to || !out->series) goto nomem;
  out->npoints = (size_t)np;
  for (int64_t k = 0; k < np; k++)
    if (!(out->series[k].date = eng_period_label(out->by, k0 + k, a))) goto nomem;
  /* Each day value's period, once: matches then cost two lookups. */
  if (!(dayk = malloc(nd * sizeof *dayk))) goto nomem;
  for (uint32_t id = 0; id < nd; id++) {
    int64_t k = dayv[id] ? eng_period(out->by, dayv[id]) - k0 : -1;
    dayk[id] = k >= 0 && k < np ? (int32_t)k : -1;
    if (dayk[id] >= 0) out->series[dayk[id]].all += xw_column_total(dc, id);
  }
  /* Distinct outlets per period: a bit per (period, outlet) when that fits
   * in ENG_TL_BITS, else sorted (period, outlet) pairs. */
  uint32_t no = xw_column_nvalues(oc);
  int use_bits = (uint64_t)np * no <= ENG_TL_BITS;
  size_t npairs = 0;
  if (use_bits ? !(bits = calloc(((size_t)np * no + 63) / 64, sizeof *bits))
               : ids.n && !(pairs = malloc(ids.n * sizeof *pairs)))
    goto nomem;
  for (size_t i = 0; i < ids.n; i++) {
    int32_t k = dayk[xw_column_id(dc, ids.v[i].docid)];
    uint32_t o = okey[xw_column_id(oc, ids.v[i].docid)];
    if (k < 0) continue;
    out->series[k].count++;
    if (!o) continue;
    uint64_t bit = (uint64_t)k * no + o;
    if (!use_bits) {
      pairs[npairs++] = (uint64_t)k << 32 | o;
    } else if (!(bits[bit / 64] >> (bit % 64) & 1)) {
      bits[bit / 64] |= (uint64_t)1 << (bit % 64);
      out->series[k].outlets++;
    }
  }
  if (npairs) qsort(pairs, npairs, sizeof *pairs, eng_u64_cmp);
  for (size_t i = 0; i < npairs; i++)
    if (i == 0 || pairs[i] != pairs[i - 1]) out->series[pairs[i] >> 32].outlets++;
first:
  rc = eng_first(e, q, oc, okey, dayv, dc, &ids, a, out, err);
  goto out;
nomem:
  rc = err_set(err, ERR_NOMEM, 0, "out of memory for the timeline");
out:
  xw_query_free(x);
  free(ids.v);
  free(dayv);
  free(own_ids);
  free(pairs);
  free(bits);
  free(dayk);
  xw_column_free(own_d);
  xw_column_free(own_o);
  return rc;
}
