/* shards.c: a new index built in parallel shards (see shards.h).
 */
#define _GNU_SOURCE /* nftw */
#include "shards.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "hash.h"
#include "idx.h"
#include "tok.h"

typedef struct sh_op {
  struct sh_op *next;
  doc_t *doc;   /* doc_clone'd; NULL: a commit */
  size_t bytes; /* the clone's size */
  uint64_t seq; /* a commit's turn */
} sh_op_t;

typedef struct sh_shard {
  sh_build_t *b;
  idx_t *x;
  pthread_t thread;
  int running;
  sh_op_t *head, *tail; /* under b->m */
  size_t bytes;         /* of the queued articles */
  uint32_t written;     /* articles written since the shard's last commit */
  pthread_cond_t wake;  /* something queued, or the build ended */
} sh_shard_t;

struct sh_build {
  char *path, *lang;
  const char *alg; /* the default algorithm, for warnings */
  unsigned n;
  uint32_t batch;
  /* the caller's thread alone: */
  int started;
  doc_t **held; /* before the dictionary */
  size_t nheld, held_cap, held_bytes;
  uint64_t batchno, next_seq;
  uint32_t in_batch;
  uint64_t *ids; /* ids seen: hash | 1, open addressing; 0 is empty */
  unsigned char *id_shard;
  size_t ids_cap, nids;
  uint32_t docs; /* after sh_finish */
  char warning[160];
  /* shared, under m: */
  pthread_mutex_t m;
  pthread_cond_t space; /* a queue shrank, or a shard failed */
  pthread_cond_t turn_cv;
  uint64_t turn;      /* the commit that may go next */
  uint64_t committed; /* articles written by committed batches */
  int done, failed;
  err_t err; /* the first shard's error */
  sh_shard_t shards[SH_MAX_SHARDS];
};

/* ---- ids seen in this run ---- */

static uint64_t sh_hash(const char *s) {
  uint64_t h = hash_fnv64(HASH_FNV64_START, s, strlen(s)); /* then a finalizer */
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h | 1;
}

/* The slot of h: where it is, or the empty one where it would go. */
static size_t sh_slot(const sh_build_t *b, uint64_t h) {
  size_t i = (size_t)(h >> 1) & (b->ids_cap - 1);
  while (b->ids[i] && b->ids[i] != h) i = (i + 1) & (b->ids_cap - 1);
  return i;
}

static int sh_ids_grow(sh_build_t *b) {
  size_t old_cap = b->ids_cap, cap = old_cap ? 2 * old_cap : 4096;
  uint64_t *old = b->ids;
  unsigned char *old_shard = b->id_shard;
  b->ids = calloc(cap, sizeof *b->ids);
  b->id_shard = malloc(cap);
  if (!b->ids || !b->id_shard) {
    free(b->ids);
    free(b->id_shard);
    b->ids = old;
    b->id_shard = old_shard;
    return -1;
  }
  b->ids_cap = cap;
  for (size_t i = 0; i < old_cap; i++) {
    if (!old[i]) continue;
    size_t j = sh_slot(b, old[i]);
    b->ids[j] = old[i];
    b->id_shard[j] = old_shard[i];
  }
  free(old);
  free(old_shard);
  return 0;
}

/* The shard for an article of the current batch: its own, or the one that
 * holds an earlier copy. */
static int sh_shard_for(sh_build_t *b, const char *id, unsigned *k, err_t *err) {
  unsigned own = (unsigned)(b->batchno % b->n);
  if (2 * (b->nids + 1) > b->ids_cap && sh_ids_grow(b)) return err_set(err, ERR_NOMEM, 0, NULL);
  uint64_t h = sh_hash(id);
  size_t i = sh_slot(b, h);
  if (b->ids[i]) {
    *k = b->id_shard[i];
    return 0;
  }
  b->ids[i] = h;
  b->id_shard[i] = (unsigned char)own;
  b->nids++;
  *k = own;
  return 0;
}

/* ---- the shards' threads ---- */

/* Under b->m. */
static void sh_fail(sh_build_t *b, const err_t *err) {
  if (!b->failed) b->err = *err;
  b->failed = 1;
  pthread_cond_broadcast(&b->turn_cv);
  pthread_cond_broadcast(&b->space);
  for (unsigned k = 0; k < b->n; k++) pthread_cond_broadcast(&b->shards[k].wake);
}

static void *sh_run(void *arg) {
  sh_shard_t *s = arg;
  sh_build_t *b = s->b;
  err_t err = {0};
  pthread_mutex_lock(&b->m);
  for (;;) {
    while (!s->head && !b->done && !b->failed) pthread_cond_wait(&s->wake, &b->m);
    if (b->failed || !s->head) break;
    sh_op_t *op = s->head;
    if (!(s->head = op->next)) s->tail = NULL;
    s->bytes -= op->bytes;
    pthread_cond_signal(&b->space);
    int rc = 0;
    if (op->doc) {
      pthread_mutex_unlock(&b->m);
      const char *warning;
      rc = idx_add(s->x, op->doc, &warning, &err);
      free(op->doc);
      free(op);
      pthread_mutex_lock(&b->m);
      s->written += !rc;
    } else { /* commits go in input order: the index is always whole batches */
      uint64_t seq = op->seq;
      free(op);
      while (b->turn != seq && !b->failed) pthread_cond_wait(&b->turn_cv, &b->m);
      if (b->failed) break;
      pthread_mutex_unlock(&b->m);
      rc = idx_commit(s->x, &err);
      pthread_mutex_lock(&b->m);
      if (!rc) {
        b->committed += s->written;
        s->written = 0;
        b->turn++;
        pthread_cond_broadcast(&b->turn_cv);
      }
    }
    if (rc) {
      sh_fail(b, &err);
      break;
    }
  }
  pthread_mutex_unlock(&b->m);
  return NULL;
}

/* Queue op on shard k, waiting while its queue is full. */
static int sh_push(sh_build_t *b, unsigned k, sh_op_t *op, err_t *err) {
  sh_shard_t *s = &b->shards[k];
  pthread_mutex_lock(&b->m);
  while (!b->failed && s->bytes && s->bytes + op->bytes > SH_QUEUE_BYTES)
    pthread_cond_wait(&b->space, &b->m);
  int rc = 0;
  if (b->failed) {
    *err = b->err;
    rc = err->code ? err->code : ERR_IO;
    free(op->doc);
    free(op);
  } else {
    op->next = NULL;
    if (s->tail) s->tail->next = op;
    else s->head = op;
    s->tail = op;
    s->bytes += op->bytes;
    pthread_cond_signal(&s->wake);
  }
  pthread_mutex_unlock(&b->m);
  return rc;
}

static int sh_push_commit(sh_build_t *b, unsigned k, err_t *err) {
  sh_op_t *op = calloc(1, sizeof *op);
  if (!op) return err_set(err, ERR_NOMEM, 0, NULL);
  op->seq = b->next_seq++;
  return sh_push(b, k, op, err);
}

/* Send an article (a clone, now the queue's) to its shard; close the batch
 * when it is full. */
static int sh_route(sh_build_t *b, doc_t *doc, size_t bytes, err_t *err) {
  unsigned k = 0;
  sh_op_t *op = calloc(1, sizeof *op);
  int rc = op ? sh_shard_for(b, doc->id, &k, err) : err_set(err, ERR_NOMEM, 0, NULL);
  if (rc) {
    free(op);
    free(doc);
    return rc;
  }
  op->doc = doc;
  op->bytes = bytes;
  if ((rc = sh_push(b, k, op, err))) return rc;
  if (++b->in_batch < b->batch) return 0;
  b->in_batch = 0;
  return sh_push_commit(b, (unsigned)(b->batchno++ % b->n), err);
}

/* ---- starting: the dictionary, the directories, the threads ---- */

static int sh_unlink_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
  return remove(p);
}

/* The empty shards, in PATH.creating renamed to PATH (a kill leaves no
 * index or a whole empty one). */
static int sh_create(sh_build_t *b, err_t *err) {
  char tmp[4096], shard[4200];
  if (snprintf(tmp, sizeof tmp, "%s.creating", b->path) >= (int)sizeof tmp)
    return err_set(err, ERR_INVAL, 0, "index path too long");
  nftw(tmp, sh_unlink_cb, 16, FTW_DEPTH | FTW_PHYS);
  if (mkdir(tmp, 0777) != 0)
    return err_set(err, ERR_IO, 0, "cannot create %s: %s", tmp, strerror(errno));
  int rc = 0;
  for (unsigned k = 0; !rc && k < b->n; k++) {
    idx_t *x = NULL;
    idx_shard_path(tmp, k, shard, sizeof shard);
    rc = idx_open(shard, b->lang, &x, err);
    idx_free(x);
  }
  if (!rc) rc = idx_write_stub(tmp, b->n, err);
  if (!rc) {
    rmdir(b->path); /* an empty directory given as the index */
    if (rename(tmp, b->path) != 0)
      rc = err_set(err, ERR_IO, 0, "cannot create %s: %s", b->path, strerror(errno));
  }
  return rc;
}

static int sh_start(sh_build_t *b, err_t *err) {
  buf_t dict;
  buf_init(&dict, 0);
  char shard[4200];
  int rc = idx_train(b->held, b->nheld, &dict, err);
  if (!rc) rc = sh_create(b, err);
  for (unsigned k = 0; !rc && k < b->n; k++) {
    sh_shard_t *s = &b->shards[k];
    idx_shard_path(b->path, k, shard, sizeof shard);
    rc = idx_open(shard, b->lang, &s->x, err);
    if (!rc) rc = idx_set_dict(s->x, dict.data, dict.len, err);
    if (!rc) rc = idx_atomic(s->x, err);
    if (!rc && pthread_create(&s->thread, NULL, sh_run, s) != 0)
      rc = err_set(err, ERR_NOMEM, 0, "cannot start a shard's thread");
    if (!rc) s->running = 1;
  }
  buf_fini(&dict);
  b->started = 1;
  size_t i = 0;
  for (; !rc && i < b->nheld; i++) {
    doc_t *d = b->held[i];
    b->held[i] = NULL;
    rc = sh_route(b, d, 0, err); /* not counted in the queue bound: at most IDX_TRAIN_BYTES more */
  }
  for (; i < b->nheld; i++) free(b->held[i]);
  b->nheld = 0;
  if (rc) { /* the shards that did start stop, and sh_finish waits for none */
    pthread_mutex_lock(&b->m);
    sh_fail(b, err);
    pthread_mutex_unlock(&b->m);
  }
  return rc;
}

/* ---- the interface ---- */

int sh_open(const char *path, const char *lang, unsigned nshards, uint32_t batch, sh_build_t **out,
            err_t *err) {
  *out = NULL;
  if (nshards < 2 || nshards > SH_MAX_SHARDS || !batch)
    return err_set(err, ERR_INVAL, 0, "a parallel build takes 2 to %d shards", SH_MAX_SHARDS);
  const char *alg = lang && *lang ? tok_lang_algorithm(lang) : "english";
  if (!alg) return err_set(err, ERR_INVAL, 0, "unknown language '%s'", lang);
  if (!idx_path_is_free(path))
    return err_set(err, ERR_INVAL, 0, "%s is not a new index: it cannot be built in shards", path);
  sh_build_t *b = calloc(1, sizeof *b);
  if (!b || !(b->path = strdup(path)) || (lang && !(b->lang = strdup(lang)))) {
    if (b) free(b->path);
    free(b);
    return err_set(err, ERR_NOMEM, 0, NULL);
  }
  b->alg = alg;
  b->n = nshards;
  b->batch = batch;
  pthread_mutex_init(&b->m, NULL);
  pthread_cond_init(&b->space, NULL);
  pthread_cond_init(&b->turn_cv, NULL);
  for (unsigned k = 0; k < nshards; k++) {
    b->shards[k].b = b;
    pthread_cond_init(&b->shards[k].wake, NULL);
  }
  *out = b;
  return 0;
}

int sh_add(sh_build_t *b, const doc_t *d, const char **warning, err_t *err) {
  *warning = idx_lang_warning(b->alg, d, b->warning, sizeof b->warning);
  size_t bytes;
  doc_t *c = doc_clone(d, &bytes);
  if (!c) return err_set(err, ERR_NOMEM, 0, NULL);
  if (b->started) return sh_route(b, c, bytes, err);
  if (b->nheld == b->held_cap) {
    size_t cap = b->held_cap ? 2 * b->held_cap : 256;
    doc_t **h = realloc(b->held, cap * sizeof *h);
    if (!h) {
      free(c);
      return err_set(err, ERR_NOMEM, 0, NULL);
    }
    b->held = h;
    b->held_cap = cap;
  }
  b->held[b->nheld++] = c;
  b->held_bytes += bytes;
  uint32_t want = b->batch < IDX_TRAIN_DOCS ? b->batch : IDX_TRAIN_DOCS;
  if (b->nheld < want && b->held_bytes < IDX_TRAIN_BYTES) return 0;
  return sh_start(b, err);
}

int sh_finish(sh_build_t *b, err_t *err) {
  int rc = b->started ? 0 : sh_start(b, err);
  /* Every shard commits once more, in turn, from the current batch's. */
  for (unsigned i = 0; !rc && i < b->n; i++)
    rc = sh_push_commit(b, (unsigned)((b->batchno + i) % b->n), err);
  pthread_mutex_lock(&b->m);
  b->done = 1;
  for (unsigned k = 0; k < b->n; k++) pthread_cond_broadcast(&b->shards[k].wake);
  pthread_mutex_unlock(&b->m);
  for (unsigned k = 0; k < b->n; k++) {
    sh_shard_t *s = &b->shards[k];
    if (s->running) pthread_join(s->thread, NULL);
    s->running = 0;
  }
  if (!rc && b->failed) {
    *err = b->err;
    rc = err->code ? err->code : ERR_IO;
  }
  /* What a failed build committed is what counts: close the writers
   * (dropping the rest) and count the index as readers see it. */
  for (unsigned k = 0; k < b->n; k++) {
    idx_free(b->shards[k].x);
    b->shards[k].x = NULL;
  }
  err_t cerr = {0};
  if (b->started && idx_stat(b->path, &b->docs, &cerr) && !rc) {
    *err = cerr;
    rc = cerr.code;
  }
  return rc;
}

uint32_t sh_doccount(const sh_build_t *b) { return b->docs; }

uint64_t sh_committed(const sh_build_t *b) { return b->committed; }

void sh_free(sh_build_t *b) {
  if (!b) return;
  pthread_mutex_lock(&b->m);
  b->done = 1;
  b->failed = 1; /* threads still running stop at their next step */
  for (unsigned k = 0; k < b->n; k++) pthread_cond_broadcast(&b->shards[k].wake);
  pthread_cond_broadcast(&b->turn_cv);
  pthread_mutex_unlock(&b->m);
  for (unsigned k = 0; k < b->n; k++) {
    sh_shard_t *s = &b->shards[k];
    if (s->running) pthread_join(s->thread, NULL);
    for (sh_op_t *op = s->head, *next; op; op = next) {
      next = op->next;
      free(op->doc);
      free(op);
    }
    idx_free(s->x);
    pthread_cond_destroy(&s->wake);
  }
  for (size_t i = 0; i < b->nheld; i++) free(b->held[i]);
  free(b->held);
  free(b->ids);
  free(b->id_shard);
  pthread_cond_destroy(&b->space);
  pthread_cond_destroy(&b->turn_cv);
  pthread_mutex_destroy(&b->m);
  free(b->path);
  free(b->lang);
  free(b);
}
