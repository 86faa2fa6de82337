/* workers.c: see workers.h.
 *
 * Invariants: the queue and the done list are touched only under their
 * mutexes; a worker's eng_t and proto_ctx_t are touched only by that
 * worker; the generation only grows.
 */
#include "workers.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cal.h"
#include "log.h"

typedef struct wrk_thread {
  wrk_pool_t *pool;
  unsigned id;
  pthread_t tid;
  int started;
  eng_t *eng;
  proto_ctx_t *ctx;
  uint64_t gen;        /* the pool generation this worker last reopened at */
  uint64_t generation; /* its engine's index generation (eng_stats) */
} wrk_thread_t;

struct wrk_pool {
  uv_loop_t *loop;
  uv_async_t async;
  cache_t *cache;
  st_t *st;
  proto_hooks_t hooks;

  pthread_mutex_t mu; /* guards head, tail, stop, spinning */
  pthread_cond_t cond;
  wrk_job_t *head, *tail;
  int stop;
  int spinning;                    /* a worker polls for jobs instead of sleeping */
  atomic_uint queued;              /* jobs in the queue (read without mu by the poller) */
  atomic_uint_fast64_t poll_until; /* wrk_poll's deadline (uv_hrtime) */

  pthread_mutex_t done_mu; /* guards done_head, done_tail */
  wrk_job_t *done_head, *done_tail;

  atomic_uint_fast64_t gen;
  atomic_uint_fast64_t max_generation; /* newest generation any worker saw */
  atomic_uint inflight;                /* jobs submitted and not yet finished by a worker */

  wrk_thread_t *threads;
  unsigned nthreads;
  wrk_thread_t here; /* the loop thread's engine (eng NULL: none) */
};

static void wrk_note_revision(wrk_thread_t *t, int announce) {
  wrk_pool_t *p = t->pool;
  eng_stats_t es;
  memset(&es, 0, sizeof es);
  if (eng_stats(t->eng, &es) != 0) return;
  /* The generation, not Xapian's revision: a swapped-in compaction restarts
   * the revision at 1, and the cache must never take the new index for an
   * old one. */
  t->generation = es.generation;
  if (p->cache) cache_set_revision(p->cache, es.generation);
  uint_fast64_t seen = atomic_load(&p->max_generation);
  while (es.generation > seen) {
    if (atomic_compare_exchange_weak(&p->max_generation, &seen, es.generation)) {
      if (announce) {
        st_reload(p->st);
        log_info("index reloaded: revision %llu, %u docs", (unsigned long long)es.revision,
                 es.docs);
      }
      break;
    }
  }
}

static void wrk_reopen(wrk_thread_t *t) {
  int changed = 0;
  err_t err;
  err_clear(&err);
  if (eng_reopen(t->eng, &changed, &err) != 0) {
    log_warn("worker %u: reopening the index failed: %s", t->id, err_message(&err));
    return;
  }
  if (changed) wrk_note_revision(t, 1);
}

void wrk_job_init(wrk_job_t *job, const char *line, size_t len, wrk_done_cb done, void *ud) {
  memset(job, 0, sizeof *job);
  job->line = line;
  job->len = len;
  proto_read(line, len, &job->req);
  buf_init(&job->out, 0);
  atomic_init(&job->cancelled, 0);
  job->direct_fd = -1;
  job->done = done;
  job->ud = ud;
}

void wrk_job_fini(wrk_job_t *job) {
  buf_fini(&job->out);
  proto_req_fini(&job->req);
}

static void wrk_run(wrk_thread_t *t, wrk_job_t *job) {
  wrk_pool_t *p = t->pool;
  uint64_t gen = atomic_load(&p->gen);
  if (gen != t->gen) {
    t->gen = gen;
    wrk_reopen(t);
  }
  /* The command table says which answers depend only on the request line
   * and the index revision (SEARCH, COUNT, GET), and the answer which also
   * depend on the day (PROTO_OUT_TODAY). */
  int cacheable = p->cache && job->req.cmd && (job->req.cmd->flags & PROTO_CMD_CACHE);
  uint32_t day = cacheable ? cal_today() : 0;
  if (cacheable && cache_get(p->cache, job->line, job->len, t->generation, day, &job->out)) {
    job->cache_hit = 1;
    job->rc = 0;
    job->flags = 0;
    return;
  }
  for (int attempt = 0;; attempt++) {
    job->flags = 0;
    job->rc = proto_answer(t->ctx, &job->req, &job->out, &job->flags);
    if (job->rc != ERR_MODIFIED || attempt == 2) break;
    /* The revision we read was overwritten: move on and ask the others to. */
    buf_reset(&job->out);
    atomic_fetch_add(&p->gen, 1);
    t->gen = atomic_load(&p->gen);
    wrk_reopen(t);
  }
  /* An answer counted from today is kept for today, unless the day turned
   * while it was computed (it may have counted from either day). */
  int dated = job->flags & PROTO_OUT_TODAY;
  if (cacheable && job->rc == 0 && !job->out.err && (!dated || cal_today() == day))
    cache_put(p->cache, job->line, job->len, t->generation, dated ? day : 0, job->out.data,
              job->out.len);
}

/* See "Direct answers" in workers.h.  Only a whole, well-formed answer
 * goes out here; the loop answers anything else (and closes after QUIT). */
static void wrk_send_direct(wrk_job_t *job) {
  buf_t *o = &job->out;
  if (job->direct_fd < 0 || o->err || o->len == 0 || o->data[o->len - 1] != '\n' ||
      (job->flags & PROTO_OUT_CLOSE) || atomic_load(&job->cancelled))
    return;
  ssize_t n;
  do n = send(job->direct_fd, o->data, o->len, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n > 0) job->sent = (size_t)n; /* on error the loop tries and reports */
}

/* With mu held: wait for a job (or the stop).  Within wrk_poll's window one
 * worker polls, yielding its CPU at each turn, instead of sleeping. */
static void wrk_wait(wrk_pool_t *p) {
  while (!p->head && !p->stop) {
    if (!p->spinning && uv_hrtime() < atomic_load(&p->poll_until)) {
      p->spinning = 1;
      pthread_mutex_unlock(&p->mu);
      while (!atomic_load(&p->queued) && uv_hrtime() < atomic_load(&p->poll_until)) sched_yield();
      pthread_mutex_lock(&p->mu);
      p->spinning = 0;
      continue;
    }
    pthread_cond_wait(&p->cond, &p->mu);
  }
}

static void *wrk_main(void *arg) {
  wrk_thread_t *t = arg;
  wrk_pool_t *p = t->pool;
  for (;;) {
    pthread_mutex_lock(&p->mu);
    wrk_wait(p);
    wrk_job_t *job = p->head;
    if (job) {
      p->head = job->next;
      if (!p->head) p->tail = NULL;
      job->next = NULL;
      atomic_fetch_sub(&p->queued, 1);
      eng_note_waiting(-1);
    }
    pthread_mutex_unlock(&p->mu);
    if (!job) break; /* stopping and nothing left */

    if (!atomic_load(&job->cancelled)) {
      wrk_run(t, job);
      wrk_send_direct(job);
    }
    atomic_fetch_sub(&p->inflight, 1);

    pthread_mutex_lock(&p->done_mu);
    if (p->done_tail) p->done_tail->next = job;
    else p->done_head = job;
    p->done_tail = job;
    pthread_mutex_unlock(&p->done_mu);
    uv_async_send(&p->async);
  }
  return NULL;
}

static void wrk_deliver(wrk_pool_t *p) {
  pthread_mutex_lock(&p->done_mu);
  wrk_job_t *job = p->done_head;
  p->done_head = p->done_tail = NULL;
  pthread_mutex_unlock(&p->done_mu);
  while (job) {
    wrk_job_t *next = job->next;
    job->next = NULL;
    job->done(job, job->ud);
    job = next;
  }
}

static void wrk_on_async(uv_async_t *h) { wrk_deliver(h->data); }

static void wrk_free_threads(wrk_pool_t *p) {
  for (unsigned i = 0; i < p->nthreads; i++) {
    proto_ctx_free(p->threads[i].ctx);
    eng_free(p->threads[i].eng);
  }
  free(p->threads);
  p->threads = NULL;
  proto_ctx_free(p->here.ctx);
  eng_free(p->here.eng);
}

/* Open t's engine and context (t->pool and t->id set). */
static int wrk_open_engine(wrk_thread_t *t, const wrk_config_t *cfg, const eng_limits_t *lim,
                           err_t *err) {
  int rc = eng_open_set(cfg->indexes, cfg->nindexes, lim, &t->eng, err);
  if (rc) return rc;
  t->ctx = proto_ctx_new(t->eng, &t->pool->hooks);
  if (!t->ctx) return err_set(err, ERR_NOMEM, 0, "out of memory");
  wrk_note_revision(t, 0);
  return 0;
}

static void wrk_on_close(uv_handle_t *h) {
  wrk_pool_t *p = h->data;
  wrk_free_threads(p);
  pthread_mutex_destroy(&p->mu);
  pthread_mutex_destroy(&p->done_mu);
  pthread_cond_destroy(&p->cond);
  free(p);
}

int wrk_pool_new(uv_loop_t *loop, const wrk_config_t *cfg, wrk_pool_t **out, err_t *err) {
  int rc = 0;
  *out = NULL;
  wrk_pool_t *p = calloc(1, sizeof *p);
  if (!p) return err_set(err, ERR_NOMEM, 0, "out of memory");
  p->loop = loop;
  p->cache = cfg->cache;
  p->st = cfg->st;
  p->hooks.stats = st_proto_hook;
  p->hooks.ud = cfg->st;
  p->nthreads = cfg->threads ? cfg->threads : 1;
  pthread_mutex_init(&p->mu, NULL);
  pthread_mutex_init(&p->done_mu, NULL);
  pthread_cond_init(&p->cond, NULL);
  atomic_init(&p->gen, 0);
  atomic_init(&p->max_generation, 0);
  atomic_init(&p->inflight, 0);
  atomic_init(&p->queued, 0);
  atomic_init(&p->poll_until, 0);
  p->threads = calloc(p->nthreads, sizeof *p->threads);
  if (!p->threads) {
    rc = err_set(err, ERR_NOMEM, 0, "out of memory");
    goto fail;
  }
  for (unsigned i = 0; i < p->nthreads; i++) {
    wrk_thread_t *t = &p->threads[i];
    t->pool = p;
    t->id = i;
    if ((rc = wrk_open_engine(t, cfg, &cfg->limits, err))) goto fail;
  }
  if (cfg->inline_budget) {
    eng_limits_t lim = cfg->limits;
    lim.max_cost = cfg->inline_budget;
    p->here.pool = p;
    p->here.id = p->nthreads;
    if ((rc = wrk_open_engine(&p->here, cfg, &lim, err))) goto fail;
  }
  for (unsigned i = 0; i < p->nthreads; i++) {
    int e = pthread_create(&p->threads[i].tid, NULL, wrk_main, &p->threads[i]);
    if (e) {
      if (i == 0) { /* none at all is fatal */
        rc = err_set(err, ERR_INTERNAL, 0, "cannot start a worker thread: %s", strerror(e));
        goto fail;
      }
      log_warn("started %u of %u worker threads: %s", i, p->nthreads, strerror(e));
      p->nthreads = i; /* run with the threads we have */
      break;
    }
    p->threads[i].started = 1;
  }
  /* No job can be submitted before we return, so no thread touches the
   * async handle before it is initialized. */
  rc = uv_async_init(loop, &p->async, wrk_on_async);
  if (rc) {
    rc = err_set(err, ERR_INTERNAL, 0, "uv_async_init: %s", uv_strerror(rc));
    goto fail;
  }
  p->async.data = p;
  *out = p;
  return 0;
fail:
  pthread_mutex_lock(&p->mu);
  p->stop = 1;
  pthread_cond_broadcast(&p->cond);
  pthread_mutex_unlock(&p->mu);
  for (unsigned i = 0; p->threads && i < p->nthreads; i++)
    if (p->threads[i].started) pthread_join(p->threads[i].tid, NULL);
  wrk_free_threads(p);
  pthread_mutex_destroy(&p->mu);
  pthread_mutex_destroy(&p->done_mu);
  pthread_cond_destroy(&p->cond);
  free(p);
  return rc;
}

int wrk_busy(wrk_pool_t *p) { return atomic_load(&p->inflight) != 0; }

int wrk_idle(wrk_pool_t *p) { return p->here.eng && !wrk_busy(p); }

int wrk_run_here(wrk_pool_t *p, wrk_job_t *job) {
  if (!wrk_idle(p)) return 0;
  wrk_run(&p->here, job);
  if (job->rc != ERR_OVER_BUDGET) return job->on_loop = 1;
  buf_reset(&job->out);
  return 0;
}

void wrk_submit(wrk_pool_t *p, wrk_job_t *job) {
  atomic_fetch_add(&p->inflight, 1);
  job->next = NULL;
  pthread_mutex_lock(&p->mu);
  if (p->tail) p->tail->next = job;
  else p->head = job;
  p->tail = job;
  unsigned before = atomic_fetch_add(&p->queued, 1);
  /* A polling worker takes the first job queued; more need a sleeping one. */
  int polled = p->spinning && before == 0;
  eng_note_waiting(1); /* shards take no threads while jobs wait */
  pthread_mutex_unlock(&p->mu);
  /* Signalled after the unlock: a worker woken while the loop still held
   * the mutex would only block on it again (two more context switches per
   * request, measured with strace).  A polling worker needs no signal. */
  if (!polled) pthread_cond_signal(&p->cond);
}

void wrk_poll(wrk_pool_t *p, uint64_t until) {
  if (!p->nthreads) return;
  atomic_store(&p->poll_until, until);
  pthread_mutex_lock(&p->mu);
  int polled = p->spinning;
  pthread_mutex_unlock(&p->mu);
  if (!polled) pthread_cond_signal(&p->cond);
}

void wrk_request_reload(wrk_pool_t *p) { atomic_fetch_add(&p->gen, 1); }

void wrk_pool_stop(wrk_pool_t *p) {
  pthread_mutex_lock(&p->mu);
  p->stop = 1;
  pthread_cond_broadcast(&p->cond);
  pthread_mutex_unlock(&p->mu);
  for (unsigned i = 0; i < p->nthreads; i++)
    if (p->threads[i].started) pthread_join(p->threads[i].tid, NULL);
  wrk_deliver(p);
  uv_close((uv_handle_t *)&p->async, wrk_on_close);
}
