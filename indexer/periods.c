/* periods.c: an archive laid out by time (see periods.h).
 */
#define _GNU_SOURCE /* nftw */
#include "periods.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "ds.h"
#include "file.h"
#include "hash.h"
#include "idx.h"
#include "schema.h"
#include "tok.h"
#include "xw.h"

#define PD_SPOOL_DIR ".spool"
#define PD_UNDATED "undated"
#define PD_NAME_CAP 16
#define PD_MAX_JOBS 64
/* The reading thread flushes a period's spool for the writers every this
 * many records. */
#define PD_PUBLISH_EVERY 64

typedef struct pd_period {
  char name[PD_NAME_CAP]; /* "2023-11", "2023" or "undated" */
  int exists;             /* a shard of the archive before this run */
  FILE *spool;            /* this run's articles, as pd_spool wrote them */
  int fd;                 /* its descriptor, which writers pread */
  uint32_t spooled;       /* records written (the reading thread's count) */
  /* Under pd_build.m: */
  uint32_t published; /* records flushed to the spool, readable by a writer */
  uint32_t built;     /* records in the shard */
  int created, busy, compacted;
  /* The writer that holds the period (busy) alone: */
  uint64_t offset; /* spool bytes built */
} pd_period_t;

/* An id seen in this run and the period its last copy went to. */
typedef struct pd_id {
  struct pd_id *next;
  size_t period;
  char id[];
} pd_id_t;

/* A copy to remove once the periods are built: id from period, unless the
 * id's last copy went there after all. */
typedef struct pd_move {
  size_t period;
  char *id;
} pd_move_t;

struct pd_build {
  char *path, *lang;
  const char *alg; /* the new shards' default algorithm, for warnings */
  pd_unit_t unit;
  unsigned jobs;
  uint32_t batch;
  const volatile sig_atomic_t *stop; /* raised: writers stop at their next commit */
  /* Periods: the array grows under m (writers scan it), and only the
   * reading thread adds to it.  Elements are allocated one by one so a
   * writer's pointer to its period survives the array's growth. */
  pd_period_t **periods;
  size_t nperiods, periods_cap, last; /* last: the period used last (news comes in runs) */
  pd_id_t **ids;
  size_t ids_cap, nids;
  pd_move_t *moves;
  size_t nmoves, moves_cap;
  xw_db *old; /* the archive before this run (NULL: new) */
  uint32_t docs_before, docs;
  ds_codec_t *spool_codec;
  buf_t rec;
  buf_t dict; /* the shared dictionary, once settled */
  int dict_settled;
  int format;   /* the existing shards' format (0: new archive): new
                        periods take it, so every shard has the same word
                        rules (schema.h) */
  doc_t **held; /* articles for training it */
  size_t nheld, held_bytes;
  char warning[160];
  /* The writer threads (pd_start), sharing under m: */
  pthread_mutex_t m;
  pthread_cond_t work; /* records published, a period released, or the end */
  pthread_t threads[PD_MAX_JOBS];
  unsigned started;
  int input_done;     /* every record is published */
  uint64_t committed; /* records in the shards' commits so far */
  int failed;
  err_t err;
};

/* ---- names ---- */

pd_unit_t pd_unit_parse(const char *name) {
  return !name                        ? PD_NONE
         : strcmp(name, "month") == 0 ? PD_MONTH
         : strcmp(name, "year") == 0  ? PD_YEAR
                                      : PD_NONE;
}

pd_unit_t pd_unit_of(const char *path) {
  char f[4096], unit[16] = "";
  snprintf(f, sizeof f, "%s/" PD_LAYOUT_FILE, path);
  FILE *in = fopen(f, "r");
  if (!in) return PD_NONE;
  if (!fgets(unit, sizeof unit, in)) unit[0] = '\0';
  fclose(in);
  unit[strcspn(unit, "\r\n")] = '\0';
  return pd_unit_parse(unit);
}

/* The period of d: the date's first 7 (month) or 4 (year) characters, which
 * doc_parse_json has checked are a real YYYY-MM-DD. */
static void pd_period_of(const pd_build_t *b, const doc_t *d, char out[PD_NAME_CAP]) {
  size_t n = b->unit == PD_MONTH ? 7 : 4;
  if (!d->date || strlen(d->date) < 10) {
    snprintf(out, PD_NAME_CAP, "%s", PD_UNDATED);
    return;
  }
  memcpy(out, d->date, n);
  out[n] = '\0';
}

static int pd_shard_path(const pd_build_t *b, const char *name, char *out, size_t cap) {
  return snprintf(out, cap, "%s/%s", b->path, name) < (int)cap ? 0 : -1;
}

static size_t pd_find(pd_build_t *b, const char *name, err_t *err, int *failed) {
  if (b->nperiods && strcmp(b->periods[b->last]->name, name) == 0) return b->last;
  for (size_t i = 0; i < b->nperiods; i++)
    if (strcmp(b->periods[i]->name, name) == 0) return b->last = i;
  pd_period_t *p = calloc(1, sizeof *p);
  if (!p) {
    *failed = err_set(err, ERR_NOMEM, 0, NULL);
    return 0;
  }
  snprintf(p->name, sizeof p->name, "%s", name);
  pthread_mutex_lock(&b->m);
  if (b->nperiods == b->periods_cap) {
    size_t cap = b->periods_cap ? 2 * b->periods_cap : 64;
    pd_period_t **grown = realloc(b->periods, cap * sizeof *grown);
    if (!grown) {
      pthread_mutex_unlock(&b->m);
      free(p);
      *failed = err_set(err, ERR_NOMEM, 0, NULL);
      return 0;
    }
    b->periods = grown;
    b->periods_cap = cap;
  }
  b->periods[b->nperiods] = p;
  b->last = b->nperiods++;
  pthread_mutex_unlock(&b->m);
  return b->last;
}

/* ---- ids ---- */

static uint64_t pd_hash(const char *s) {
  uint64_t h = hash_fnv64(HASH_FNV64_START, s, strlen(s));
  return h ^ (h >> 29);
}

static pd_id_t **pd_id_slot(pd_build_t *b, const char *id) {
  pd_id_t **at = &b->ids[pd_hash(id) & (b->ids_cap - 1)];
  while (*at && strcmp((*at)->id, id) != 0) at = &(*at)->next;
  return at;
}

static int pd_ids_grow(pd_build_t *b) {
  size_t cap = b->ids_cap ? 2 * b->ids_cap : 1 << 16;
  pd_id_t **ids = calloc(cap, sizeof *ids);
  if (!ids) return ERR_NOMEM;
  for (size_t i = 0; i < b->ids_cap; i++) {
    for (pd_id_t *e = b->ids[i], *next; e; e = next) {
      next = e->next;
      size_t h = pd_hash(e->id) & (cap - 1);
      e->next = ids[h];
      ids[h] = e;
    }
  }
  free(b->ids);
  b->ids = ids;
  b->ids_cap = cap;
  return 0;
}

static int pd_note_move(pd_build_t *b, size_t period, const char *id) {
  if (b->nmoves == b->moves_cap) {
    size_t cap = b->moves_cap ? 2 * b->moves_cap : 256;
    pd_move_t *m = realloc(b->moves, cap * sizeof *m);
    if (!m) return ERR_NOMEM;
    b->moves = m;
    b->moves_cap = cap;
  }
  if (!(b->moves[b->nmoves].id = strdup(id))) return ERR_NOMEM;
  b->moves[b->nmoves++].period = period;
  return 0;
}

/* Where the earlier copy of id was (SIZE_MAX: nowhere), and remember that
 * its last copy goes to period now. */
static int pd_track(pd_build_t *b, const char *id, size_t period, err_t *err) {
  if (2 * (b->nids + 1) > b->ids_cap && pd_ids_grow(b)) return err_set(err, ERR_NOMEM, 0, NULL);
  pd_id_t **at = pd_id_slot(b, id);
  size_t was = SIZE_MAX;
  if (*at) {
    was = (*at)->period;
    (*at)->period = period;
  } else {
    size_t n = strlen(id) + 1;
    pd_id_t *e = malloc(sizeof *e + n);
    if (!e) return err_set(err, ERR_NOMEM, 0, NULL);
    memcpy(e->id, id, n);
    e->period = period;
    e->next = NULL;
    *at = e;
    b->nids++;
    if (b->old) { /* in a shard of the archive already? */
      char term[SCHEMA_MAX_ID + 2];
      xw_docid did;
      err_t ignore = {0};
      snprintf(term, sizeof term, SCHEMA_P_ID "%s", id);
      if (xw_db_find_term(b->old, term, strlen(term), &did, &ignore) == 0) {
        const char *shard = xw_db_shard_name(b->old, xw_db_shard_of(b->old, did));
        const char *base = strrchr(shard, '/');
        int failed = 0;
        was = pd_find(b, base ? base + 1 : shard, err, &failed);
        if (failed) return failed;
      }
    }
  }
  if (was != SIZE_MAX && was != period && pd_note_move(b, was, id))
    return err_set(err, ERR_NOMEM, 0, NULL);
  return 0;
}

/* ---- opening ---- */

int pd_open(const char *path, pd_unit_t unit, const char *lang, unsigned jobs, uint32_t batch,
            const volatile sig_atomic_t *stop, pd_build_t **out, err_t *err) {
  *out = NULL;
  pd_unit_t have = pd_unit_of(path);
  int fresh = have == PD_NONE;
  if (fresh && !idx_path_is_free(path))
    return err_set(err, ERR_INVAL, 0,
                   "%s is an index not laid out by time; --layout needs a new directory", path);
  if (!fresh && unit != PD_NONE && unit != have)
    return err_set(err, ERR_INVAL, 0, "%s is laid out by %s", path,
                   have == PD_MONTH ? "month" : "year");
  if (fresh && unit == PD_NONE) return err_set(err, ERR_INVAL, 0, "no time layout given");
  pd_build_t *b = calloc(1, sizeof *b);
  if (b) {
    pthread_mutex_init(&b->m, NULL);
    pthread_cond_init(&b->work, NULL);
  }
  if (!b || !(b->path = strdup(path)) || (lang && !(b->lang = strdup(lang)))) {
    pd_free(b);
    return err_set(err, ERR_NOMEM, 0, NULL);
  }
  b->alg = lang && tok_lang_algorithm(lang) ? tok_lang_algorithm(lang) : "english";
  b->unit = fresh ? unit : have;
  b->jobs = !jobs ? 1 : jobs > PD_MAX_JOBS ? PD_MAX_JOBS : jobs;
  b->batch = batch ? batch : 1000;
  b->stop = stop;
  buf_init(&b->rec, 0);
  buf_init(&b->dict, 0);
  char f[4096];
  int rc = 0;
  if (fresh) {
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
      rc = err_set(err, ERR_IO, 0, "cannot create %s: %s", path, strerror(errno));
    snprintf(f, sizeof f, "%s/" PD_LAYOUT_FILE, path);
    const char *layout = b->unit == PD_MONTH ? "month\n" : "year\n";
    if (!rc) rc = file_write_atomic(f, layout, strlen(layout), err);
  } else if (idx_is_stub(path)) { /* the archive's shards, and the dictionary they share */
    rc = xw_db_open(path, &b->old, err);
    for (size_t k = 0; !rc && k < xw_db_nshards(b->old); k++) {
      const char *name = xw_db_shard_name(b->old, k), *base = strrchr(name, '/');
      int failed = 0;
      size_t at = pd_find(b, base ? base + 1 : name, err, &failed);
      rc = failed;
      if (!rc) b->periods[at]->exists = b->periods[at]->created = 1;
      if (!rc && k == 0) {
        char *fmt = NULL;
        size_t fl = 0;
        rc = xw_db_shard_metadata(b->old, k, SCHEMA_META_FORMAT, &fmt, &fl, err);
        b->format = fmt ? atoi(fmt) : 0;
        free(fmt);
      }
      if (!rc && !b->dict_settled) {
        char *dict = NULL;
        size_t dl = 0;
        rc = xw_db_shard_metadata(b->old, k, SCHEMA_META_ZDICT, &dict, &dl, err);
        if (!rc && dict) buf_append(&b->dict, dict, dl);
        b->dict_settled = dict != NULL;
        free(dict);
      }
    }
    b->docs_before = b->old ? xw_db_doccount(b->old) : 0;
  }
  snprintf(f, sizeof f, "%s/" PD_SPOOL_DIR, path);
  if (!rc && mkdir(f, 0777) != 0 && errno != EEXIST)
    rc = err_set(err, ERR_IO, 0, "cannot create %s: %s", f, strerror(errno));
  if (!rc) rc = ds_codec_new(NULL, 0, 1, &b->spool_codec, err);
  if (rc) {
    pd_free(b);
    return rc;
  }
  *out = b;
  return 0;
}

/* ---- routing ---- */

static void pd_fail(pd_build_t *b, int rc, const err_t *err) { /* under m */
  if (rc && !b->failed) {
    b->failed = rc;
    b->err = *err;
  }
}

/* Make the records spooled so far readable by the writers.  Once every
 * record is published the writers may take a period however few it holds;
 * before, only a batch's worth, so a period is not opened for a handful. */
static int pd_publish(pd_build_t *b, pd_period_t *p, err_t *err) {
  if (p->spool && fflush(p->spool) != 0)
    return err_set(err, ERR_IO, 0, "cannot write the spool of %s: %s", p->name, strerror(errno));
  pthread_mutex_lock(&b->m);
  p->published = p->spooled;
  if (p->published - p->built >= b->batch) pthread_cond_broadcast(&b->work);
  int rc = b->failed;
  if (rc) *err = b->err;
  pthread_mutex_unlock(&b->m);
  return rc;
}

static int pd_spool(pd_build_t *b, pd_period_t *p, const doc_t *d, err_t *err) {
  if (!p->spool) {
    char f[4096];
    snprintf(f, sizeof f, "%s/" PD_SPOOL_DIR "/%s", b->path, p->name);
    if (!(p->spool = fopen(f, "w+")))
      return err_set(err, ERR_IO, 0, "cannot write %s: %s", f, strerror(errno));
    p->fd = fileno(p->spool);
  }
  buf_reset(&b->rec);
  int rc = ds_encode(b->spool_codec, d, &b->rec, err);
  uint32_t n = (uint32_t)b->rec.len;
  if (!rc && (fwrite(&n, sizeof n, 1, p->spool) != 1 || fwrite(b->rec.data, 1, n, p->spool) != n))
    rc = err_set(err, ERR_IO, 0, "cannot write the spool of %s: %s", p->name, strerror(errno));
  if (!rc) p->spooled++;
  if (!rc && b->started && p->spooled % PD_PUBLISH_EVERY == 0) rc = pd_publish(b, p, err);
  return rc;
}

static int pd_start(pd_build_t *b, err_t *err);

int pd_add(pd_build_t *b, const doc_t *d, const char **warning, err_t *err) {
  char name[PD_NAME_CAP];
  pd_period_of(b, d, name);
  int failed = 0;
  size_t at = pd_find(b, name, err, &failed);
  if (failed) return failed;
  int rc = pd_track(b, d->id, at, err);
  if (!rc) rc = pd_spool(b, b->periods[at], d, err);
  if (!rc && !b->dict_settled && b->nheld < IDX_TRAIN_DOCS && b->held_bytes < IDX_TRAIN_BYTES) {
    size_t bytes = 0;
    doc_t **held = realloc(b->held, (b->nheld + 1) * sizeof *held);
    if (!held || !(held[b->nheld] = doc_clone(d, &bytes))) {
      if (held) b->held = held;
      return err_set(err, ERR_NOMEM, 0, NULL);
    }
    b->held = held;
    b->nheld++;
    b->held_bytes += bytes;
  }
  /* A new archive starts its writers as soon as the dictionary can be
   * trained, so building overlaps reading.  An existing archive's writers
   * wait for the end: the ids of the run are looked up in its shards
   * (pd_track), which must not change under the lookups. */
  if (!rc && !b->old && !b->started &&
      (b->nheld == IDX_TRAIN_DOCS || b->held_bytes >= IDX_TRAIN_BYTES))
    rc = pd_start(b, err);
  *warning = rc ? NULL : idx_lang_warning(b->alg, d, b->warning, sizeof b->warning);
  return rc;
}

/* ---- building ---- */

/* Write the stub listing every period that has a shard (sorted: years and
 * months in order, "undated" last), atomically.  Under m. */
static int pd_cmp_name(const void *x, const void *y) {
  return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int pd_write_stub(pd_build_t *b, err_t *err) {
  const char **names = calloc(b->nperiods ? b->nperiods : 1, sizeof *names);
  size_t n = 0;
  if (!names) return err_set(err, ERR_NOMEM, 0, NULL);
  for (size_t i = 0; i < b->nperiods; i++)
    if (b->periods[i]->created) names[n++] = b->periods[i]->name;
  qsort(names, n, sizeof *names, pd_cmp_name);
  int rc = xw_stub_write(b->path, names, n, err);
  free(names);
  return rc;
}

/* Create the shard of a new period, empty, with the shared dictionary, and
 * list it in the stub. */
static int pd_create(pd_build_t *b, pd_period_t *p, err_t *err) {
  char f[4096];
  if (pd_shard_path(b, p->name, f, sizeof f)) return err_set(err, ERR_INVAL, 0, "path too long");
  idx_t *x = NULL;
  int rc = idx_open(f, b->lang, &x, err);
  if (!rc && b->format) rc = idx_set_format(x, b->format, err);
  if (!rc) rc = idx_set_dict(x, b->dict.data, b->dict.len, err);
  if (!rc) rc = idx_commit(x, err);
  idx_free(x);
  if (rc) return rc;
  pthread_mutex_lock(&b->m);
  p->created = 1;
  rc = pd_write_stub(b, err);
  pthread_mutex_unlock(&b->m);
  return rc;
}

static int pd_stopped(const pd_build_t *b) { return b->stop && *b->stop; }

/* Records of p the writer may take now (under m): all there are once the
 * input is over, else none until a batch has come. */
static uint32_t pd_takeable(const pd_build_t *b, const pd_period_t *p) {
  uint32_t pending = p->published - p->built;
  return p->busy || pending < (b->input_done ? 1 : b->batch) ? 0 : pending;
}

/* Commit x, holding n records more. */
static int pd_commit(pd_build_t *b, idx_t *x, uint32_t n, err_t *err) {
  int rc = idx_commit(x, err);
  pthread_mutex_lock(&b->m);
  if (!rc) b->committed += n;
  pthread_mutex_unlock(&b->m);
  return rc;
}

/* Build p's published records into its shard, and go on while more keep
 * coming; p is busy (this writer's).  Commits every batch. */
static int pd_fill(pd_build_t *b, pd_period_t *p, ds_codec_t *codec, arena_t *a, buf_t *rec,
                   err_t *err) {
  char f[4096];
  int rc = p->created ? 0 : pd_create(b, p, err);
  pd_shard_path(b, p->name, f, sizeof f);
  idx_t *x = NULL;
  if (!rc) rc = idx_open(f, NULL, &x, err);
  pthread_mutex_lock(&b->m);
  uint32_t built = p->built, upto = p->published, since_commit = 0;
  pthread_mutex_unlock(&b->m);
  while (!rc && built < upto) {
    for (; !rc && built < upto; built++) {
      uint32_t n;
      arena_reset(a);
      buf_reset(rec);
      if (pread(p->fd, &n, sizeof n, (off_t)p->offset) != (ssize_t)sizeof n ||
          buf_reserve(rec, n) ||
          pread(p->fd, rec->data, n, (off_t)(p->offset + sizeof n)) != (ssize_t)n) {
        rc = err_set(err, ERR_IO, 0, "cannot read the spool of %s", p->name);
        break;
      }
      p->offset += sizeof n + n;
      doc_t d;
      const char *warning;
      rc = ds_decode(codec, rec->data, n, a, &d, err);
      if (!rc) rc = idx_add(x, &d, &warning, err);
      if (!rc && ++since_commit == b->batch) {
        rc = pd_commit(b, x, since_commit, err);
        since_commit = 0;
        if (pd_stopped(b)) upto = built + 1; /* what is committed stays */
      }
    }
    pthread_mutex_lock(&b->m);
    p->built = built;
    /* Keep the shard open while a batch more is there: the reading thread
     * is faster than a writer, so a busy period usually stays busy. */
    upto = pd_stopped(b)                                            ? built
           : p->published - built >= (b->input_done ? 1 : b->batch) ? p->published
                                                                    : built;
    pthread_mutex_unlock(&b->m);
  }
  if (!rc && since_commit) rc = pd_commit(b, x, since_commit, err);
  idx_free(x);
  return rc;
}

/* The next period to work on and what to do with it (under m): the one
 * with the most records to build, else (at the end) a new shard to
 * compact.  NULL: nothing now. */
static pd_period_t *pd_pick(pd_build_t *b, int *compact) {
  pd_period_t *best = NULL;
  uint32_t most = 0;
  *compact = 0;
  if (pd_stopped(b)) return NULL;
  for (size_t i = 0; i < b->nperiods; i++) {
    uint32_t n = pd_takeable(b, b->periods[i]);
    if (n > most) {
      most = n;
      best = b->periods[i];
    }
  }
  for (size_t i = 0; !best && b->input_done && i < b->nperiods; i++) {
    pd_period_t *p = b->periods[i];
    if (!p->busy && !p->exists && p->created && !p->compacted && p->built == p->published) {
      best = p;
      *compact = 1;
    }
  }
  return best;
}

static int pd_busy(const pd_build_t *b) { /* under m */
  for (size_t i = 0; i < b->nperiods; i++)
    if (b->periods[i]->busy) return 1;
  return 0;
}

static void *pd_worker(void *arg) {
  pd_build_t *b = arg;
  ds_codec_t *codec = NULL;
  arena_t *a = arena_new(1 << 20);
  buf_t rec;
  buf_init(&rec, 0);
  err_t err = {0};
  int rc = a ? ds_codec_new(NULL, 0, 1, &codec, &err) : err_set(&err, ERR_NOMEM, 0, NULL);
  pthread_mutex_lock(&b->m);
  pd_fail(b, rc, &err);
  while (!b->failed) {
    int compact;
    pd_period_t *p = pd_pick(b, &compact);
    if (!p) {
      if (b->input_done && !pd_busy(b)) break;
      pthread_cond_wait(&b->work, &b->m);
      continue;
    }
    p->busy = 1;
    pthread_mutex_unlock(&b->m);
    if (compact) {
      char f[4096];
      uint64_t before, after;
      pd_shard_path(b, p->name, f, sizeof f);
      rc = idx_compact(f, &before, &after, &err);
    } else {
      rc = pd_fill(b, p, codec, a, &rec, &err);
    }
    pthread_mutex_lock(&b->m);
    p->busy = 0;
    if (compact) p->compacted = 1;
    pd_fail(b, rc, &err);
    pthread_cond_broadcast(&b->work);
  }
  pthread_cond_broadcast(&b->work);
  pthread_mutex_unlock(&b->m);
  buf_fini(&rec);
  ds_codec_free(codec);
  arena_free(a);
  return NULL;
}

/* Settle the dictionary every new shard gets and start the writers. */
static int pd_start(pd_build_t *b, err_t *err) {
  int rc = 0;
  if (!b->dict_settled) {
    rc = b->nheld ? idx_train(b->held, b->nheld, &b->dict, err) : 0;
    b->dict_settled = 1;
  }
  for (size_t i = 0; !rc && i < b->nperiods; i++) rc = pd_publish(b, b->periods[i], err);
  for (; !rc && b->started < b->jobs; b->started++)
    if (pthread_create(&b->threads[b->started], NULL, pd_worker, b) != 0) break;
  if (!rc && !b->started) rc = err_set(err, ERR_NOMEM, 0, "cannot start a writer thread");
  return rc;
}

/* Remove each copy that moved to another period (unless its last copy
 * came back), one commit per period. */
static int pd_remove_moved(pd_build_t *b, err_t *err) {
  int rc = 0;
  for (size_t p = 0; p < b->nperiods && !rc; p++) {
    xw_db *w = NULL;
    for (size_t i = 0; i < b->nmoves && !rc; i++) {
      pd_move_t *mv = &b->moves[i];
      pd_id_t **at = pd_id_slot(b, mv->id);
      if (mv->period != p || !*at || (*at)->period == p) continue;
      char f[4096], term[SCHEMA_MAX_ID + 2];
      if (!w) {
        pd_shard_path(b, b->periods[p]->name, f, sizeof f);
        if ((rc = xw_db_open_writable(f, 0, &w, err))) break;
      }
      snprintf(term, sizeof term, SCHEMA_P_ID "%s", mv->id);
      rc = xw_db_delete(w, term, err);
    }
    if (w && !rc) rc = xw_db_commit(w, err);
    xw_db_free(w);
  }
  return rc;
}

/* Wait for the writers; the first failure is the run's. */
static int pd_join(pd_build_t *b, int rc, err_t *err) {
  if (b->started) {
    pthread_mutex_lock(&b->m);
    b->input_done = 1;
    pd_fail(b, rc, err);
    pthread_cond_broadcast(&b->work);
    pthread_mutex_unlock(&b->m);
  }
  for (unsigned i = 0; i < b->started; i++) pthread_join(b->threads[i], NULL);
  b->started = 0;
  if (b->failed) {
    *err = b->err;
    rc = b->failed;
  }
  return rc;
}

int pd_finish(pd_build_t *b, err_t *err) {
  xw_db_free(b->old); /* its shards are written next */
  b->old = NULL;
  int rc = pd_start(b, err); /* publishes the last records */
  rc = pd_join(b, rc, err);
  if (!rc) rc = pd_write_stub(b, err); /* even when no period was made */
  /* Stopped, a moved article's new copy may be unbuilt: keep the old. */
  if (!rc && !pd_stopped(b)) rc = pd_remove_moved(b, err);
  for (size_t i = 0; i < b->nperiods; i++) {
    if (b->periods[i]->spool) fclose(b->periods[i]->spool);
    b->periods[i]->spool = NULL;
  }
  char f[4096];
  snprintf(f, sizeof f, "%s/" PD_SPOOL_DIR, b->path);
  for (size_t i = 0; i < b->nperiods; i++) {
    char s[4200];
    snprintf(s, sizeof s, "%s/%s", f, b->periods[i]->name);
    unlink(s);
  }
  rmdir(f);
  if (!rc) rc = idx_stat(b->path, &b->docs, err);
  return rc;
}

uint32_t pd_doccount(const pd_build_t *b) { return b->docs; }
uint32_t pd_doccount_before(const pd_build_t *b) { return b->docs_before; }
uint64_t pd_committed(const pd_build_t *b) { return b->committed; }

void pd_free(pd_build_t *b) {
  if (!b) return;
  err_t ignore = {0};
  pd_join(b, 0, &ignore); /* writers still running after a failed read */
  for (size_t i = 0; i < b->nperiods; i++) {
    if (b->periods[i]->spool) fclose(b->periods[i]->spool);
    free(b->periods[i]);
  }
  free(b->periods);
  for (size_t i = 0; i < b->ids_cap; i++) {
    for (pd_id_t *e = b->ids[i], *next; e; e = next) {
      next = e->next;
      free(e);
    }
  }
  free(b->ids);
  for (size_t i = 0; i < b->nmoves; i++) free(b->moves[i].id);
  free(b->moves);
  for (size_t i = 0; i < b->nheld; i++) free(b->held[i]);
  free(b->held);
  xw_db_free(b->old);
  ds_codec_free(b->spool_codec);
  buf_fini(&b->rec);
  buf_fini(&b->dict);
  pthread_cond_destroy(&b->work);
  pthread_mutex_destroy(&b->m);
  free(b->path);
  free(b->lang);
  free(b);
}
