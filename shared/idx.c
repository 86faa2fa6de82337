/* idx.c: the index writer (see idx.h; the layout is schema.h's).
 */
#define _GNU_SOURCE /* nftw, renameat2 */
#include "idx.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "doc.h"
#include "ds.h"
#include "dup.h"
#include "hash.h"
#include "schema.h"
#include "tok.h"
#include "xw.h"

#define IDX_MAX_LANGS 32
#define IDX_TERM_CAP 512

typedef struct idx_lang {
  tok_stemmer_t *st; /* caches recent stems itself (tok.c) */
} idx_lang_t;

struct idx {
  xw_db *db;
  char *path;
  idx_lang_t langs[IDX_MAX_LANGS]; /* [0] is the index's default language */
  size_t nlangs;
  int langs_dirty;    /* a new language to record at the next commit */
  const char *naming; /* the language whose stems go untagged (schema_naming) */
  int format;         /* the index's format: its word rules (schema.h) */
  int created;        /* idx_open made the index */
  int positions;      /* words were indexed since the last commit */
  int atomic;         /* idx_atomic(): what is not committed is dropped */
  ds_codec_t *codec;
  int trained;     /* the dictionary question is settled */
  doc_t **pending; /* articles held until the dictionary is trained (doc_clone) */
  size_t npending, pending_cap, pending_bytes;
  buf_t rec; /* scratch: records, stored data */
  /* The stem terms of the article being written, with their wdf: Xapian
   * gets each once (one map update per distinct stem, not per word). */
  struct idx_tf {
    uint32_t off, len, wdf;
  } * tf;
  uint32_t *tf_slot; /* open addressing: index into tf + 1, 0 empty */
  size_t ntf, tf_cap;
  buf_t tf_text;
  /* The hashes of the body's words, for its copies signature (dup.h). */
  uint64_t *wh;
  size_t nwh, wh_cap;
  char warning[160];
};

static void idx_drop_pending(idx_t *x);

/* ---- languages and stems ---- */

static int idx_lang_add(idx_t *x, const char *alg, size_t *index, err_t *err) {
  for (size_t i = 0; i < x->nlangs; i++) {
    if (strcmp(tok_stemmer_name(x->langs[i].st), alg) == 0) {
      *index = i;
      return 0;
    }
  }
  if (x->nlangs == IDX_MAX_LANGS) return err_set(err, ERR_INVAL, 0, "too many languages");
  idx_lang_t *l = &x->langs[x->nlangs];
  if (tok_stemmer_new(alg, &l->st)) return err_set(err, ERR_INVAL, 0, "unknown language '%s'", alg);
  *index = x->nlangs++;
  x->langs_dirty = 1;
  return 0;
}

/* ---- opening ---- */

/* The codec of the stored documents, with dictionary dict (NULL: none).
 * An index of a format before SCHEMA_FORMAT_BLOCKS keeps the stored form
 * its readers know. */
static int idx_codec(idx_t *x, const char *dict, size_t len, err_t *err) {
  int rc = ds_codec_new(dict, len, 3, &x->codec, err);
  if (!rc && x->format < SCHEMA_FORMAT_BLOCKS)
    rc = ds_codec_set_format(x->codec, DS_FORMAT_TWO, err);
  return rc;
}

static int idx_meta_put(idx_t *x, const char *key, const char *val, size_t len, err_t *err) {
  return xw_db_set_metadata(x->db, key, val, len, err);
}

static int idx_write_langs(idx_t *x, err_t *err) {
  char list[IDX_MAX_LANGS * 24] = "";
  size_t n = 0;
  for (size_t i = 0; i < x->nlangs; i++) {
    n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? "," : "",
                          tok_stemmer_name(x->langs[i].st));
  }
  x->langs_dirty = 0;
  return idx_meta_put(x, SCHEMA_META_LANGS, list, strlen(list), err);
}

/* ---- creating an index atomically ---- */

static int idx_unlink_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
  return remove(p);
}

int idx_path_is_free(const char *path) {
  DIR *d = opendir(path);
  if (!d) return errno == ENOENT;
  struct dirent *e;
  int empty = 1;
  while (empty && (e = readdir(d))) empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
  closedir(d);
  return empty;
}

/* A new index is built complete with its metadata in PATH.creating, then
 * renamed into place, so a run killed at any moment leaves either no index
 * or one that opens (a leftover PATH.creating is cleared by the next run). */
static int idx_create(const char *path, const char *alg, err_t *err) {
  char tmp[4096], num[16];
  if (snprintf(tmp, sizeof tmp, "%s.creating", path) >= (int)sizeof tmp)
    return err_set(err, ERR_INVAL, 0, "index path too long");
  nftw(tmp, idx_unlink_cb, 16, FTW_DEPTH | FTW_PHYS);
  xw_db *db = NULL;
  snprintf(num, sizeof num, "%d", SCHEMA_FORMAT);
  int rc = xw_db_open_writable(tmp, 1, &db, err);
  if (!rc) rc = xw_db_set_metadata(db, SCHEMA_META_FORMAT, num, strlen(num), err);
  if (!rc) rc = xw_db_set_metadata(db, SCHEMA_META_LANG, alg, strlen(alg), err);
  if (!rc) rc = xw_db_set_metadata(db, SCHEMA_META_LANGS, alg, strlen(alg), err);
  if (!rc) rc = xw_db_commit(db, err);
  xw_db_free(db);
  if (!rc) {
    rmdir(path); /* an empty directory given as the index */
    if (rename(tmp, path) != 0)
      rc = err_set(err, ERR_IO, 0, "cannot create %s: %s", path, strerror(errno));
  }
  return rc;
}

int idx_open(const char *path, const char *lang, idx_t **out, err_t *err) {
  *out = NULL;
  idx_t *x = calloc(1, sizeof *x);
  if (!x || !(x->path = strdup(path))) {
    if (x) free(x->path);
    free(x);
    return err_set(err, ERR_NOMEM, 0, NULL);
  }
  buf_init(&x->rec, 0);
  buf_init(&x->tf_text, 0);
  char *v = NULL, *dict = NULL;
  size_t vl = 0, dl = 0, li;
  int rc = 0;
  const char *want = lang && *lang ? tok_lang_algorithm(lang) : NULL;
  if (lang && *lang && !want) {
    rc = err_set(err, ERR_INVAL, 0, "unknown language '%s'", lang);
    goto fail;
  }
  if (idx_is_stub(path)) {
    rc = err_set(err, ERR_INVAL, 0,
                 "%s holds the shards of an unfinished parallel build; merge them first "
                 "(sift-indexer --compact)",
                 path);
    goto fail;
  }
  x->created = idx_path_is_free(path);
  rc = x->created ? idx_create(path, want ? want : "english", err) : 0;
  if (!rc) rc = xw_db_open_writable(path, 0, &x->db, err);
  if (rc) goto fail;
  if ((rc = xw_db_get_metadata(x->db, SCHEMA_META_FORMAT, &v, &vl, err))) goto fail;
  int fresh = v == NULL;
  if (fresh && xw_db_doccount(x->db) > 0) {
    rc = err_set(err, ERR_INDEX_FORMAT, 0, "%s holds a Xapian database that is not a Sift index",
                 path);
    goto fail;
  }
  int format = fresh ? SCHEMA_FORMAT : atoi(v);
  if (format < SCHEMA_FORMAT_OLDEST || format > SCHEMA_FORMAT) {
    rc = err_set(err, ERR_INDEX_FORMAT, 0,
                 "%s has index format %s; this Sift writes formats %d to %d", path, v,
                 SCHEMA_FORMAT_OLDEST, SCHEMA_FORMAT);
    goto fail;
  }
  free(v);
  v = NULL;
  x->naming = schema_naming(SCHEMA_FORMAT, NULL);
  x->format = format;
  if (fresh) { /* an empty Xapian database: make it a Sift index */
    char num[16];
    snprintf(num, sizeof num, "%d", SCHEMA_FORMAT);
    if ((rc = idx_lang_add(x, want ? want : "english", &li, err)) ||
        (rc = idx_meta_put(x, SCHEMA_META_FORMAT, num, strlen(num), err)) ||
        (rc = idx_meta_put(x, SCHEMA_META_LANG, tok_stemmer_name(x->langs[0].st),
                           strlen(tok_stemmer_name(x->langs[0].st)), err)) ||
        (rc = idx_write_langs(x, err)) || (rc = xw_db_commit(x->db, err)))
      goto fail;
  } else {
    if ((rc = xw_db_get_metadata(x->db, SCHEMA_META_LANG, &v, &vl, err))) goto fail;
    if (want && v && strcmp(want, v) != 0) {
      rc = err_set(err, ERR_INVAL, 0, "%s is an index in %s; it cannot take --lang %s", path, v,
                   lang);
      goto fail;
    }
    if ((rc = idx_lang_add(x, v ? v : "english", &li, err))) goto fail;
    free(v);
    v = NULL;
    /* An older index keeps its own spelling of stems. */
    x->naming = schema_naming(format, tok_stemmer_name(x->langs[0].st));
    if ((rc = xw_db_get_metadata(x->db, SCHEMA_META_LANGS, &v, &vl, err))) goto fail;
    for (char *save = NULL, *name = v ? strtok_r(v, ",", &save) : NULL; name;
         name = strtok_r(NULL, ",", &save)) {
      if ((rc = idx_lang_add(x, name, &li, err))) goto fail;
    }
    x->langs_dirty = 0;
    if ((rc = xw_db_get_metadata(x->db, SCHEMA_META_ZDICT, &dict, &dl, err))) goto fail;
    /* An index with articles keeps its dictionary, or stays without one. */
    if (dict || xw_db_doccount(x->db) > 0) {
      if ((rc = idx_codec(x, dict, dl, err))) goto fail;
      x->trained = 1;
    }
  }
  free(v);
  free(dict);
  *out = x;
  return 0;
fail:
  free(v);
  free(dict);
  idx_free(x);
  return rc;
}

void idx_free(idx_t *x) {
  if (!x) return;
  for (size_t i = 0; i < x->nlangs; i++) {
    tok_stemmer_free(x->langs[i].st);
  }
  ds_codec_free(x->codec);
  idx_drop_pending(x);
  free(x->pending);
  buf_fini(&x->rec);
  free(x->tf);
  free(x->tf_slot);
  buf_fini(&x->tf_text);
  free(x->wh);
  xw_db_free(x->db);
  free(x->path);
  free(x);
}

uint32_t idx_doccount(idx_t *x) { return xw_db_doccount(x->db) + (uint32_t)x->npending; }

int idx_created(const idx_t *x) { return x->created; }

int idx_stat(const char *path, uint32_t *docs, err_t *err) {
  xw_db *db = NULL;
  int rc = xw_db_open(path, &db, err);
  *docs = rc ? 0 : xw_db_doccount(db);
  xw_db_free(db);
  return rc;
}

/* nftw passes no user data; the sum is per thread because the writers of
 * an archive by time compact their shards in parallel (periods.c). */
static _Thread_local uint64_t idx_du_total;

static int idx_du_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
  if (flag == FTW_F) idx_du_total += (uint64_t)st->st_size;
  return 0;
}

static uint64_t idx_du(const char *path) {
  idx_du_total = 0;
  nftw(path, idx_du_cb, 16, FTW_PHYS);
  return idx_du_total;
}

/* ---- shards ---- */

int idx_shard_path(const char *dir, unsigned k, char *out, size_t cap) {
  return snprintf(out, cap, "%s/" IDX_SHARD_FMT, dir, k) < (int)cap ? 0 : -1;
}

int idx_is_stub(const char *path) { return xw_stub_exists(path); }

int idx_write_stub(const char *dir, unsigned nshards, err_t *err) {
  char(*names)[16] = calloc(nshards ? nshards : 1, sizeof *names);
  const char **list = calloc(nshards ? nshards : 1, sizeof *list);
  int rc = names && list ? 0 : err_set(err, ERR_NOMEM, 0, NULL);
  for (unsigned k = 0; !rc && k < nshards; k++) {
    snprintf(names[k], sizeof names[k], IDX_SHARD_FMT, k);
    list[k] = names[k];
  }
  if (!rc) rc = xw_stub_write(dir, list, nshards, err);
  free(list);
  free(names);
  return rc;
}

/* Add each name of a comma-separated list to list (cap bytes) unless there. */
static void idx_langs_union(char *list, size_t cap, const char *more) {
  while (more && *more) {
    size_t n = strcspn(more, ",");
    int seen = 0;
    for (const char *p = list; *p && !seen; p += strcspn(p, ","), p += *p == ',') {
      seen = strcspn(p, ",") == n && strncmp(p, more, n) == 0;
    }
    size_t have = strlen(list);
    if (!seen && have + n + 2 < cap)
      snprintf(list + have, cap - have, "%s%.*s", have ? "," : "", (int)n, more);
    more += n;
    more += *more == ',';
  }
}

/* What a merge of the stub at path must record beyond the first shard's
 * metadata (which Xapian keeps): every shard's languages as one list, and
 * the dictionaries of shards built with another one than the first's
 * (schema.h, sift.zdicts), written into the merged database db. */
static int idx_stub_meta(const char *path, xw_db *out, err_t *err) {
  char f[4096], langs[IDX_MAX_LANGS * 24] = "", ids[1024] = "", first[16] = "";
  int rc = 0;
  for (unsigned k = 0; !rc && !idx_shard_path(path, k, f, sizeof f) && access(f, F_OK) == 0; k++) {
    xw_db *db = NULL;
    char *v = NULL, *dict = NULL;
    size_t vl, dl = 0;
    rc = xw_db_open(f, &db, err);
    if (!rc) rc = xw_db_get_metadata(db, SCHEMA_META_LANGS, &v, &vl, err);
    if (!rc) rc = xw_db_get_metadata(db, SCHEMA_META_ZDICT, &dict, &dl, err);
    xw_db_free(db);
    idx_langs_union(langs, sizeof langs, v);
    char id[16], key[64];
    snprintf(id, sizeof id, "%u", dict ? ds_dict_id(dict, dl) : 0);
    if (k == 0) {
      snprintf(first, sizeof first, "%s", id);
    } else if (!rc && dict && strcmp(id, first) != 0) {
      idx_langs_union(ids, sizeof ids, id);
      snprintf(key, sizeof key, "%s.%s", SCHEMA_META_ZDICT, id);
      rc = xw_db_set_metadata(out, key, dict, dl, err);
    }
    free(v);
    free(dict);
  }
  if (!rc) rc = xw_db_set_metadata(out, SCHEMA_META_LANGS, langs, strlen(langs), err);
  if (!rc && ids[0]) rc = xw_db_set_metadata(out, SCHEMA_META_ZDICTS, ids, strlen(ids), err);
  return rc;
}

int idx_compact(const char *path, uint64_t *before, uint64_t *after, err_t *err) {
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.compact", path) >= (int)sizeof tmp)
    return err_set(err, ERR_INVAL, 0, "index path too long");
  nftw(tmp, idx_unlink_cb, 16, FTW_DEPTH | FTW_PHYS); /* a leftover of a killed run */
  *before = idx_du(path);
  int stub = idx_is_stub(path);
  int rc = xw_compact(path, tmp, err);
  if (!rc && stub) { /* Xapian keeps the first shard's metadata: add the others' */
    xw_db *db = NULL;
    rc = xw_db_open_writable(tmp, 0, &db, err);
    if (!rc) rc = idx_stub_meta(path, db, err);
    if (!rc) rc = xw_db_commit(db, err);
    xw_db_free(db);
  }
  if (rc) {
    nftw(tmp, idx_unlink_cb, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
  }
  if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) != 0) {
    rc = err_set(err, ERR_IO, 0, "cannot swap in the compacted index: %s", strerror(errno));
  }
  nftw(tmp, idx_unlink_cb, 16, FTW_DEPTH | FTW_PHYS); /* the old one, or the unused copy */
  *after = idx_du(path);
  return rc;
}

/* ---- one article ---- */

static int idx_posting(xw_doc *d, const char *prefix, const char *w, size_t len, uint32_t pos,
                       err_t *err) {
  char term[IDX_TERM_CAP];
  size_t pl = strlen(prefix);
  memcpy(term, prefix, pl);
  memcpy(term + pl, w, len);
  return xw_doc_add_posting(d, term, pl + len, pos, err);
}

static int idx_bool(xw_doc *d, const char *prefix, const char *val, err_t *err) {
  char term[IDX_TERM_CAP];
  size_t pl = strlen(prefix);
  size_t n = tok_key(val, strlen(val), term + pl, SCHEMA_MAX_KEY + 1); /* as qp.c cuts */
  if (n == 0) return 0; /* nothing searchable in the value */
  memcpy(term, prefix, pl);
  return xw_doc_add_boolean(d, term, pl + n, err);
}

/* ---- stem terms, gathered per article ---- */

static uint32_t idx_tf_hash(const char *s, size_t n) { return hash_fnv32(HASH_FNV32_START, s, n); }

static int idx_tf_grow(idx_t *x) {
  size_t cap = x->tf_cap ? 2 * x->tf_cap : 1024;
  uint32_t *slot = calloc(cap, sizeof *slot);
  struct idx_tf *tf = realloc(x->tf, cap / 2 * sizeof *tf);
  if (!slot || !tf) {
    free(slot);
    if (tf) x->tf = tf;
    return ERR_NOMEM;
  }
  x->tf = tf;
  free(x->tf_slot);
  x->tf_slot = slot;
  x->tf_cap = cap;
  for (size_t i = 0; i < x->ntf; i++) { /* rehash */
    size_t j = idx_tf_hash(x->tf_text.data + tf[i].off, tf[i].len) & (cap - 1);
    while (slot[j]) j = (j + 1) & (cap - 1);
    slot[j] = (uint32_t)i + 1;
  }
  return 0;
}

static int idx_tf_add(idx_t *x, const char *term, size_t len, uint32_t wdf, err_t *err) {
  if (2 * (x->ntf + 1) > x->tf_cap && idx_tf_grow(x)) return err_set(err, ERR_NOMEM, 0, NULL);
  size_t j = idx_tf_hash(term, len) & (x->tf_cap - 1);
  for (uint32_t k; (k = x->tf_slot[j]); j = (j + 1) & (x->tf_cap - 1)) {
    struct idx_tf *e = &x->tf[k - 1];
    if (e->len == len && memcmp(x->tf_text.data + e->off, term, len) == 0) {
      e->wdf += wdf;
      return 0;
    }
  }
  x->tf[x->ntf] = (struct idx_tf){(uint32_t)x->tf_text.len, (uint32_t)len, wdf};
  x->tf_slot[j] = (uint32_t)++x->ntf;
  buf_append(&x->tf_text, term, len);
  return x->tf_text.err ? err_set(err, x->tf_text.err, 0, NULL) : 0;
}

static void idx_tf_reset(idx_t *x) {
  if (x->ntf) memset(x->tf_slot, 0, x->tf_cap * sizeof *x->tf_slot);
  x->ntf = 0;
  buf_reset(&x->tf_text);
}

/* Give d the gathered stem terms and start afresh. */
static int idx_tf_flush(idx_t *x, xw_doc *d, err_t *err) {
  int rc = 0;
  for (size_t i = 0; !rc && i < x->ntf; i++)
    rc = xw_doc_add_term(d, x->tf_text.data + x->tf[i].off, x->tf[i].len, x->tf[i].wdf, err);
  idx_tf_reset(x);
  return rc;
}

static int idx_word_hash(idx_t *x, const char *w, size_t n, err_t *err) {
  if (x->nwh == x->wh_cap) {
    size_t cap = x->wh_cap ? 2 * x->wh_cap : 1024;
    uint64_t *v = realloc(x->wh, cap * sizeof *v);
    if (!v) return err_set(err, ERR_NOMEM, 0, NULL);
    x->wh = v;
    x->wh_cap = cap;
  }
  x->wh[x->nwh++] = dup_word_hash(w, n);
  return 0;
}

/* Index the words of text from position *pos; title text also gets the
 * title-only terms (stem terms are gathered: idx_tf_flush adds them). */
static int idx_text(idx_t *x, xw_doc *d, size_t lang, const char *text, int title, uint32_t *pos,
                    err_t *err) {
  tok_iter_t it;
  tok_word_t w;
  char term[IDX_TERM_CAP];
  const char *alg = tok_stemmer_name(x->langs[lang].st);
  const char *dflt = x->naming;
  int rc = 0;
  int words = x->format >= SCHEMA_FORMAT_WORDS; /* else the old rules (schema.h) */
  if (words) tok_iter_init_runs(&it, text, strlen(text));
  else tok_iter_init(&it, text, strlen(text));
  while (!rc && tok_next(&it, &w)) {
    /* A closed form stands at its run's first word. */
    uint32_t p = w.closed ? *pos - (w.closed - 1) : ++*pos;
    size_t sl, tl;
    const char *stem = words ? tok_stem_word(x->langs[lang].st, w.norm, w.norm_len, text + w.start,
                                             w.end - w.start, &sl)
                             : tok_stem(x->langs[lang].st, w.norm, w.norm_len, &sl);
    rc = xw_doc_add_posting(d, w.norm, w.norm_len, p, err);
    x->positions = 1;
    if (!rc && !title && !w.closed) rc = idx_word_hash(x, w.norm, w.norm_len, err);
    if (!rc && (tl = schema_stem_term(term, sizeof term, 0, alg, dflt, stem, sl)))
      rc = idx_tf_add(x, term, tl, title ? SCHEMA_TITLE_WDF : 1, err);
    if (!rc && title) {
      rc = idx_posting(d, SCHEMA_P_TITLE, w.norm, w.norm_len, p, err);
      if (!rc && (tl = schema_stem_term(term, sizeof term, 1, alg, dflt, stem, sl)))
        rc = idx_tf_add(x, term, tl, 1, err);
    }
  }
  return rc;
}

/* Authors: the whole string, and each name when it lists several. */
static int idx_authors(xw_doc *d, const char *author, err_t *err) {
  int rc = idx_bool(d, SCHEMA_P_AUTHOR, author, err);
  char name[SCHEMA_MAX_NAME + 1];
  size_t len = strlen(author), at = 0;
  while (!rc && at < len) {
    size_t next, n = schema_author_name(author + at, len - at, &next);
    if (n <= SCHEMA_MAX_NAME && n < len) {
      memcpy(name, author + at, n);
      name[n] = '\0';
      rc = idx_bool(d, SCHEMA_P_AUTHOR, name, err);
    }
    at += next;
  }
  return rc;
}

static int idx_value(xw_doc *d, unsigned slot, const char *v, err_t *err) {
  return v ? xw_doc_set_value(d, slot, v, strlen(v), err) : 0;
}

static int idx_write(idx_t *x, const doc_t *a, size_t lang, err_t *err) {
  xw_doc *d = xw_doc_new();
  if (!d) return err_set(err, ERR_NOMEM, 0, NULL);
  char term[IDX_TERM_CAP];
  int n = snprintf(term, sizeof term, "%s%s", SCHEMA_P_ID, a->id);
  uint32_t pos = 0;
  int rc = xw_doc_add_boolean(d, term, (size_t)n, err);
  if (!rc && a->title) rc = idx_text(x, d, lang, a->title, 1, &pos, err);
  pos += SCHEMA_TITLE_GAP - 1;
  x->nwh = 0;
  if (!rc && a->body) rc = idx_text(x, d, lang, a->body, 0, &pos, err);
  unsigned char sig[DUP_SIG_BYTES];
  if (!rc && dup_sign(x->wh, x->nwh, sig) == 0)
    rc = xw_doc_set_value(d, SCHEMA_SLOT_COPIES, (const char *)sig, sizeof sig, err);
  if (!rc) rc = idx_tf_flush(x, d, err);
  idx_tf_reset(x); /* after an error too: the next article starts afresh */
  if (!rc && a->outlet) rc = idx_bool(d, SCHEMA_P_OUTLET, a->outlet, err);
  if (!rc && a->author) rc = idx_authors(d, a->author, err);
  for (size_t i = 0; !rc && i < a->ntags; i++) rc = idx_bool(d, SCHEMA_P_TAG, a->tags[i], err);
  if (!rc) {
    snprintf(term, sizeof term, "%s%s", SCHEMA_P_LANG, tok_stemmer_name(x->langs[lang].st));
    rc = xw_doc_add_boolean(d, term, strlen(term), err);
  }
  if (!rc && a->day[0]) {
    const char *pre[3] = {SCHEMA_P_DAY, SCHEMA_P_MONTH, SCHEMA_P_YEAR};
    const int len[3] = {8, 6, 4};
    for (int i = 0; !rc && i < 3; i++) {
      snprintf(term, sizeof term, "%s%.*s", pre[i], len[i], a->day);
      rc = xw_doc_add_boolean(d, term, strlen(term), err);
    }
  }
  /* Values: every facet slot gets one, "none" included (schema.h). */
  const char *none = SCHEMA_NO_VALUE;
  int dated = a->day[0] != '\0';
  if (!rc && dated) rc = idx_value(d, SCHEMA_SLOT_DATE, a->day, err);
  if (!rc) rc = xw_doc_set_value(d, SCHEMA_SLOT_DAY, dated ? a->day : none, dated ? 8 : 1, err);
  if (!rc) rc = xw_doc_set_value(d, SCHEMA_SLOT_MONTH, dated ? a->day : none, dated ? 6 : 1, err);
  if (!rc) rc = xw_doc_set_value(d, SCHEMA_SLOT_YEAR, dated ? a->day : none, dated ? 4 : 1, err);
  if (!rc) rc = idx_value(d, SCHEMA_SLOT_NEWEST, dated ? a->sortkey : "0", err);
  if (!rc) rc = idx_value(d, SCHEMA_SLOT_OLDEST, dated ? a->sortkey : "~", err);
  if (!rc) rc = idx_value(d, SCHEMA_SLOT_OUTLET, a->outlet ? a->outlet : none, err);
  if (!rc) rc = idx_value(d, SCHEMA_SLOT_AUTHOR, a->author ? a->author : none, err);
  if (!rc) {
    buf_reset(&x->rec);
    for (size_t i = 0; i < a->ntags; i++) {
      if (i) buf_putc(&x->rec, SCHEMA_TAG_SEP);
      buf_puts(&x->rec, a->tags[i]);
    }
    if (!a->ntags) buf_puts(&x->rec, none);
    rc = x->rec.err ? err_set(err, x->rec.err, 0, NULL)
                    : xw_doc_set_value(d, SCHEMA_SLOT_TAGS, x->rec.data, x->rec.len, err);
  }
  if (!rc) {
    buf_reset(&x->rec);
    rc = ds_encode(x->codec, a, &x->rec, err);
    if (!rc) rc = xw_doc_set_data(d, x->rec.data, x->rec.len, err);
  }
  snprintf(term, sizeof term, "%s%s", SCHEMA_P_ID, a->id);
  if (!rc) rc = xw_db_replace(x->db, term, d, NULL, err);
  xw_doc_free(d);
  return rc;
}

/* ---- the dictionary ---- */

static int idx_hold(idx_t *x, const doc_t *d, err_t *err) {
  if (x->npending == x->pending_cap) {
    size_t cap = x->pending_cap ? 2 * x->pending_cap : 256;
    doc_t **p = realloc(x->pending, cap * sizeof *p);
    if (!p) return err_set(err, ERR_NOMEM, 0, NULL);
    x->pending = p;
    x->pending_cap = cap;
  }
  size_t bytes;
  if (!(x->pending[x->npending] = doc_clone(d, &bytes))) return err_set(err, ERR_NOMEM, 0, NULL);
  x->pending_bytes += bytes;
  x->npending++;
  return 0;
}

static void idx_drop_pending(idx_t *x) {
  for (size_t i = 0; i < x->npending; i++) free(x->pending[i]);
  x->npending = 0;
  x->pending_bytes = 0;
}

int idx_train(doc_t *const *docs, size_t n, buf_t *dict, err_t *err) {
  buf_t samples;
  buf_init(&samples, 0);
  buf_reset(dict);
  size_t *sizes = calloc(n ? n : 1, sizeof *sizes);
  int rc = sizes ? 0 : err_set(err, ERR_NOMEM, 0, NULL);
  for (size_t i = 0; !rc && i < n; i++) {
    size_t before = samples.len;
    ds_record(docs[i], &samples);
    sizes[i] = samples.len - before;
  }
  if (!rc && samples.err) rc = err_set(err, samples.err, 0, NULL);
  if (!rc) {
    err_t terr = {0};
    /* Too little text to learn from leaves the index with plain zstd. */
    if (ds_train(samples.data, sizes, n, IDX_DICT_BYTES, dict, &terr) != 0) buf_reset(dict);
    if (dict->err) rc = err_set(err, dict->err, 0, NULL);
  }
  free(sizes);
  buf_fini(&samples);
  return rc;
}

int idx_set_dict(idx_t *x, const char *dict, size_t len, err_t *err) {
  if (x->codec) return err_set(err, ERR_INVAL, 0, "the index already has its dictionary");
  int rc = len ? idx_meta_put(x, SCHEMA_META_ZDICT, dict, len, err) : 0;
  if (!rc) rc = idx_codec(x, len ? dict : NULL, len, err);
  x->trained = 1;
  for (size_t i = 0; !rc && i < x->npending; i++) {
    size_t li = 0;
    const doc_t *d = x->pending[i];
    const char *alg = d->lang ? tok_lang_algorithm(d->lang) : NULL;
    if (alg) rc = idx_lang_add(x, alg, &li, err);
    if (!rc) rc = idx_write(x, d, li, err);
  }
  idx_drop_pending(x);
  return rc;
}

int idx_set_format(idx_t *x, int format, err_t *err) {
  if (format < SCHEMA_FORMAT_OLDEST || format > SCHEMA_FORMAT)
    return err_set(err, ERR_INDEX_FORMAT, 0, "this Sift writes index formats %d to %d, not %d",
                   SCHEMA_FORMAT_OLDEST, SCHEMA_FORMAT, format);
  if (!x->created || x->npending || xw_db_doccount(x->db) > 0)
    return err_set(err, ERR_INVAL, 0, "the format of %s is settled", x->path);
  char num[16];
  snprintf(num, sizeof num, "%d", format);
  x->format = format;
  x->naming = schema_naming(format, tok_stemmer_name(x->langs[0].st));
  return idx_meta_put(x, SCHEMA_META_FORMAT, num, strlen(num), err);
}

/* Train on the held articles, store the dictionary, then write them all. */
static int idx_train_and_flush(idx_t *x, err_t *err) {
  buf_t dict;
  buf_init(&dict, 0);
  int rc = idx_train(x->pending, x->npending, &dict, err);
  if (!rc) rc = idx_set_dict(x, dict.data, dict.len, err);
  buf_fini(&dict);
  return rc;
}

const char *idx_lang_warning(const char *dflt, const doc_t *d, char *buf, size_t cap) {
  if (!d->lang || !*d->lang || tok_lang_algorithm(d->lang)) return NULL;
  snprintf(buf, cap, "unknown language '%.40s'; indexed as %s", d->lang, dflt);
  return buf;
}

int idx_add(idx_t *x, const doc_t *d, const char **warning, err_t *err) {
  size_t li = 0;
  const char *alg = d->lang && *d->lang ? tok_lang_algorithm(d->lang) : NULL;
  *warning = idx_lang_warning(tok_stemmer_name(x->langs[0].st), d, x->warning, sizeof x->warning);
  if (alg) {
    int rc = idx_lang_add(x, alg, &li, err);
    if (rc) return rc;
  }
  if (!x->trained) {
    int rc = idx_hold(x, d, err);
    if (rc) return rc;
    if (x->npending < IDX_TRAIN_DOCS && x->pending_bytes < IDX_TRAIN_BYTES) return 0;
    return idx_train_and_flush(x, err);
  }
  return idx_write(x, d, li, err);
}

int idx_commit(idx_t *x, err_t *err) {
  int rc = 0;
  if (!x->trained && x->npending) rc = idx_train_and_flush(x, err);
  if (!rc && x->langs_dirty) rc = idx_write_langs(x, err);
  if (!rc && x->positions) rc = idx_meta_put(x, SCHEMA_META_POSITIONS, "1", 1, err);
  if (!rc) rc = xw_db_commit(x->db, err);
  if (!rc) x->positions = 0;
  if (!rc && x->atomic) rc = xw_db_begin(x->db, err);
  return rc;
}

int idx_atomic(idx_t *x, err_t *err) {
  x->atomic = 1;
  return xw_db_begin(x->db, err);
}

/* ---- removing articles ---- */

static int idx_is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

void idx_ids_init(idx_ids_t *l) { memset(l, 0, sizeof *l); }

void idx_ids_fini(idx_ids_t *l) {
  for (size_t i = 0; i < l->n; i++) free(l->ids[i]);
  free(l->ids);
  free(l->removed);
  free(l->slot);
  idx_ids_init(l);
}

/* The hash set's slot for id s[0..len): the one holding it, or the empty
 * one where it goes. */
static uint32_t *idx_ids_slot(idx_ids_t *l, const char *s, size_t len) {
  size_t j = idx_tf_hash(s, len) & (l->nslot - 1);
  for (uint32_t k; (k = l->slot[j]); j = (j + 1) & (l->nslot - 1)) {
    if (strlen(l->ids[k - 1]) == len && memcmp(l->ids[k - 1], s, len) == 0) break;
  }
  return &l->slot[j];
}

static int idx_ids_add(idx_ids_t *l, const char *s, size_t len, err_t *err) {
  if (2 * (l->n + 1) > l->nslot) { /* grow the set (and rehash) */
    size_t nslot = l->nslot ? 2 * l->nslot : 1024;
    uint32_t *slot = calloc(nslot, sizeof *slot);
    if (!slot) return err_set(err, ERR_NOMEM, 0, NULL);
    free(l->slot);
    l->slot = slot;
    l->nslot = nslot;
    for (size_t i = 0; i < l->n; i++)
      *idx_ids_slot(l, l->ids[i], strlen(l->ids[i])) = (uint32_t)i + 1;
  }
  uint32_t *slot = idx_ids_slot(l, s, len);
  if (*slot) {
    l->dups++;
    return 0;
  }
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 256;
    char **ids = realloc(l->ids, cap * sizeof *ids);
    if (ids) l->ids = ids;
    unsigned char *removed = ids ? realloc(l->removed, cap) : NULL;
    if (!removed) return err_set(err, ERR_NOMEM, 0, NULL);
    l->removed = removed;
    l->cap = cap;
  }
  if (!(l->ids[l->n] = strndup(s, len))) return err_set(err, ERR_NOMEM, 0, NULL);
  l->removed[l->n] = 0;
  *slot = (uint32_t)++l->n;
  return 0;
}

int idx_ids_parse(idx_ids_t *l, const char *text, size_t len, size_t *bad_line, err_t *err) {
  buf_t fixed;
  buf_init(&fixed, 0);
  int rc = 0;
  size_t line = 0;
  *bad_line = 0;
  for (size_t pos = 0; !rc && pos < len;) {
    const char *p = text + pos;
    const char *nl = memchr(p, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - p) : len - pos;
    pos += n + (nl != NULL);
    line++;
    while (n && idx_is_space(p[0])) p++, n--;
    while (n && idx_is_space(p[n - 1])) n--;
    if (!n) continue;
    /* As the indexer saw the id: invalid UTF-8 repaired the same way. */
    if (!utf8_valid(p, n)) {
      buf_reset(&fixed);
      if (utf8_repair(&fixed, p, n)) {
        rc = err_set(err, ERR_NOMEM, 0, NULL);
        break;
      }
      p = fixed.data;
      n = fixed.len;
    }
    if (memchr(p, '\0', n)) rc = err_set(err, ERR_BAD_INPUT, 0, "id contains a NUL byte");
    else rc = doc_check_id(p, n, err);
    if (rc) *bad_line = line;
    else rc = idx_ids_add(l, p, n, err);
  }
  buf_fini(&fixed);
  if (rc) idx_ids_fini(l);
  return rc;
}

/* A local database under the index being cleaned, and the ids it holds. */
typedef struct idx_leaf {
  char *path;
  size_t *hold; /* indexes into the id list, ascending */
  size_t nhold, cap, next;
} idx_leaf_t;

typedef struct idx_leaves {
  idx_leaf_t *v;
  size_t n;
} idx_leaves_t;

/* The local databases under path: itself, or the shards of a stub, as
 * xw.h reads it (Xapian's stub format, nested stubs followed).  A remote
 * shard is an error: its articles cannot be removed from here, and
 * skipping it would report its ids "not found" while they stay searchable. */
static int idx_leaves_add(idx_leaves_t *lv, const char *path, err_t *err) {
  struct stat st;
  if (stat(path, &st) != 0)
    return err_set(err, ERR_NO_INDEX, 0, "no index at %s: %s", path, strerror(errno));
  xw_db *db = NULL;
  int rc = xw_db_open(path, &db, err);
  if (rc == ERR_NO_INDEX) {
    char why[sizeof err->msg];
    snprintf(why, sizeof why, "%s", err_message(err));
    err_clear(err);
    rc = err_set(err, ERR_NO_INDEX, 0, "%s is not a Sift index (%s)", path, why);
  }
  size_t n = rc ? 0 : xw_db_nshards(db);
  if (!rc && !(lv->v = calloc(n ? n : 1, sizeof *lv->v))) rc = err_set(err, ERR_NOMEM, 0, NULL);
  for (size_t k = 0; !rc && k < n; k++) {
    const char *name = xw_db_shard_name(db, k);
    if (xw_db_shard_remote(db, k))
      rc = err_set(err, ERR_INVAL, 0,
                   "%s lists the remote shard '%s': remove its articles where it lives "
                   "(sift-indexer --index ITS_DIR --delete FILE)",
                   path, name);
    else if (!(lv->v[lv->n++].path = strdup(name))) rc = err_set(err, ERR_NOMEM, 0, NULL);
  }
  xw_db_free(db); /* the writes go through one shard's handle at a time */
  return rc;
}

static void idx_leaves_free(idx_leaves_t *lv) {
  for (size_t i = 0; i < lv->n; i++) {
    free(lv->v[i].path);
    free(lv->v[i].hold);
  }
  free(lv->v);
}

static size_t idx_id_term(char term[IDX_TERM_CAP], const char *id) {
  return (size_t)snprintf(term, IDX_TERM_CAP, "%s%s", SCHEMA_P_ID, id);
}

/* Which ids leaf holds, as of its last commit (read-only: a leaf holding
 * none is never opened for writing). */
static int idx_leaf_lookup(idx_leaf_t *leaf, const idx_ids_t *ids, err_t *err) {
  xw_db *db = NULL;
  char term[IDX_TERM_CAP], *fmt = NULL;
  size_t fl;
  int rc = xw_db_open(leaf->path, &db, err);
  if (!rc) rc = xw_db_get_metadata(db, SCHEMA_META_FORMAT, &fmt, &fl, err);
  /* Every format this Sift reads names an article by its id term alike. */
  if (!rc && (!fmt || atoi(fmt) < SCHEMA_FORMAT_OLDEST || atoi(fmt) > SCHEMA_FORMAT))
    rc = err_set(err, ERR_INDEX_FORMAT, 0, "%s is not a Sift index of format %d to %d", leaf->path,
                 SCHEMA_FORMAT_OLDEST, SCHEMA_FORMAT);
  free(fmt);
  for (size_t i = 0; !rc && i < ids->n; i++) {
    xw_docid d;
    size_t tl = idx_id_term(term, ids->ids[i]);
    int r = xw_db_find_term(db, term, tl, &d, err);
    if (r == ERR_NOT_FOUND) {
      err_clear(err);
      continue;
    }
    if ((rc = r)) break;
    if (leaf->nhold == leaf->cap) {
      size_t cap = leaf->cap ? 2 * leaf->cap : 64;
      size_t *h = realloc(leaf->hold, cap * sizeof *h);
      if (!h) rc = err_set(err, ERR_NOMEM, 0, NULL);
      else leaf->hold = h, leaf->cap = cap;
    }
    if (!rc) leaf->hold[leaf->nhold++] = i;
  }
  xw_db_free(db);
  return rc;
}

/* Remove from leaf the ids it holds below index hi, in one transaction;
 * done[] (room for a batch) collects them until the commit makes them so. */
static int idx_leaf_batch(idx_leaf_t *leaf, idx_ids_t *ids, size_t hi, size_t *done, err_t *err) {
  xw_db *w = NULL;
  char term[IDX_TERM_CAP];
  size_t nd = 0;
  int rc = xw_db_open_writable(leaf->path, 0, &w, err);
  if (!rc) rc = xw_db_begin(w, err);
  while (!rc && leaf->next < leaf->nhold && leaf->hold[leaf->next] < hi) {
    size_t i = leaf->hold[leaf->next++];
    size_t tl = idx_id_term(term, ids->ids[i]);
    xw_docid d;
    int r = xw_db_find_term(w, term, tl, &d, err); /* still there since the lookup? */
    if (r == ERR_NOT_FOUND) {
      err_clear(err);
      continue;
    }
    if (!(rc = r) && !(rc = xw_db_delete(w, term, err))) done[nd++] = i;
  }
  if (!rc) rc = xw_db_commit(w, err);
  xw_db_free(w); /* without the commit, the transaction is dropped */
  for (size_t k = 0; !rc && k < nd; k++) ids->removed[done[k]] = 1;
  if (rc) {
    char why[sizeof err->msg];
    snprintf(why, sizeof why, "%s", err_message(err));
    err_clear(err);
    err_set(err, rc, 0, "cannot remove articles from %s: %s", leaf->path, why);
  }
  return rc;
}

int idx_delete(const char *path, idx_ids_t *ids, const idx_delete_opts_t *opts, size_t *batches,
               err_t *err) {
  idx_leaves_t lv = {0};
  size_t bsize = opts && opts->batch ? opts->batch : 1000;
  size_t *done = NULL;
  *batches = 0;
  /* Everything is checked (stubs read, every shard opened) before the
   * first removal, so a refused run removes nothing. */
  int rc = idx_leaves_add(&lv, path, err);
  for (size_t k = 0; !rc && k < lv.n; k++) rc = idx_leaf_lookup(&lv.v[k], ids, err);
  if (!rc && !(done = malloc((bsize < ids->n ? bsize : ids->n + 1) * sizeof *done)))
    rc = err_set(err, ERR_NOMEM, 0, NULL);
  for (size_t lo = 0; !rc && lo < ids->n; lo += bsize) {
    if (opts && opts->stop && *opts->stop) break;
    size_t hi = ids->n - lo > bsize ? lo + bsize : ids->n;
    for (size_t k = 0; !rc && k < lv.n; k++) {
      idx_leaf_t *leaf = &lv.v[k];
      if (leaf->next < leaf->nhold && leaf->hold[leaf->next] < hi)
        rc = idx_leaf_batch(leaf, ids, hi, done, err);
    }
    if (!rc) ++*batches;
  }
  free(done);
  idx_leaves_free(&lv);
  return rc;
}
