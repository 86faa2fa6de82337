/* server.c: see server.h.
 *
 * The loop's handles: an idle handle, active while connections wait to
 * frame more input (conn_set_serve), a request is held for the loop, or
 * the loop polls for the next request (each keeps the poll from
 * blocking); a check handle, after each iteration's I/O, that answers or
 * submits the held request (srv_on_check) and starts the polling; the
 * stop timer of srv_shutdown.
 *
 * Polling instead of sleeping (srv_config.spin_us): on a virtual machine,
 * waking a thread whose CPU has gone idle costs tens of microseconds (the
 * hypervisor must resume that CPU): on the 2-core VM of the benchmarks a
 * PING took 6 us when client and daemon shared a CPU and 80 us when each
 * had its own.  A client that sends its next request as soon as it has
 * read an answer (a script, a batch, a page of results after another)
 * pays one such wake-up for every request the loop sleeps through.  So
 * when the server falls idle after a request that came within spin_us of
 * the idle moment before it, the loop keeps polling, without blocking and
 * yielding its CPU at each turn (sched_yield: any runnable thread there
 * goes first), for spin_us more: the next request of such a client finds
 * it awake.  A request after a longer pause (a person, a sparse load)
 * starts no polling, so an idle daemon uses no CPU; under load the loop
 * seldom falls idle at all.
 */
#include "server.h"

#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "conn.h"
#include "listen.h"
#include "log.h"

struct srv {
  uv_loop_t *loop;
  srv_config_t cfg;
  wrk_pool_t *pool;
  lsn_stream_t listeners[SRV_MAX_LISTEN + 1];
  size_t nlisteners, open_listeners;
  int unix_bound;
  uv_idle_t idle;
  int idle_active;
  uv_check_t check; /* after each loop iteration's I/O: srv_on_check */
  wrk_job_t *solo;  /* the one request of this iteration, held for the loop */
  int submitted;    /* some request was submitted or held this iteration */
  /* Polling (see the top): */
  uint64_t last_idle;  /* uv_hrtime() when the server last fell idle after a request */
  uint64_t poll_until; /* poll without blocking until then; 0: not polling */
  int busy;            /* a request came since the server last fell idle */
  int poll_next;       /* ... and it came within spin_us of last_idle */
  uv_timer_t stop_timer;
  conn_set_t conns;
  int stopping, done_called;
  void (*done)(void *arg);
  void *done_arg;
};

static void srv_submit_solo(srv_t *s);

/* ---- the loop's handles ------------------------------------------------ */

/* Serve the pending connections; stop once none is left and no request is
 * held (a held request keeps it active: see srv_run). */
static void srv_on_idle(uv_idle_t *h) {
  srv_t *s = h->data;
  conn_set_serve(&s->conns);
  if (s->poll_until) {
    if (uv_hrtime() < s->poll_until && !wrk_busy(s->pool)) {
      sched_yield();
      return;
    }
    s->poll_until = 0;
  }
  if (!s->conns.phead && !s->solo && s->idle_active) {
    uv_idle_stop(&s->idle);
    s->idle_active = 0;
  }
}

static void srv_wake(srv_t *s) {
  if (!s->idle_active) {
    uv_idle_start(&s->idle, srv_on_idle);
    s->idle_active = 1;
  }
}

static void srv_maybe_done(srv_t *s) {
  if (!s->stopping || s->done_called || s->open_listeners || s->conns.conns) return;
  s->done_called = 1;
  srv_submit_solo(s); /* an HTTP request held for the loop: no check runs now */
  uv_timer_stop(&s->stop_timer);
  uv_close((uv_handle_t *)&s->stop_timer, NULL);
  uv_close((uv_handle_t *)&s->idle, NULL);
  uv_close((uv_handle_t *)&s->check, NULL);
  if (s->done) s->done(s->done_arg);
}

/* ---- running requests -------------------------------------------------- */

/* A connection's request may be answered by its worker on the socket
 * (conn_direct_fd); an HTTP one never is. */
static void srv_submit(srv_t *s, wrk_job_t *job) {
  job->direct_fd = conn_direct_fd(job);
  wrk_submit(s->pool, job);
}

/* A second request came: the held one goes to the workers as well. */
static void srv_submit_solo(srv_t *s) {
  wrk_job_t *job = s->solo;
  s->solo = NULL;
  if (job) srv_submit(s, job);
}

/* After the iteration's I/O.  A request held here was the only one this
 * iteration brought, and no worker was busy: the server is idle, so the
 * loop answers it itself if it is cheap (workers.h, "Answers on the loop
 * thread"), saving the wake-up of a worker.  Holding it until now, rather
 * than answering it at once, keeps a loaded loop from answering request
 * after request itself while the workers sleep. */
static void srv_on_check(uv_check_t *h) {
  srv_t *s = h->data;
  wrk_job_t *job = s->solo;
  s->solo = NULL;
  if (job) {
    /* Requests this one lets go (the next of a pipeline) go to the
     * workers at once: nothing would wake the loop for a held one. */
    if (atomic_load(&job->cancelled) || wrk_run_here(s->pool, job))
      job->done(job, job->ud); /* answered, or an orphan to free */
    else srv_submit(s, job);
  }
  s->submitted = 0;
  if (s->busy && !wrk_busy(s->pool)) { /* fallen idle: poll for the next one? */
    s->busy = 0;
    s->last_idle = uv_hrtime();
    if (s->poll_next && !s->done_called) {
      s->poll_until = s->last_idle + (uint64_t)s->cfg.spin_us * 1000u;
      wrk_poll(s->pool, s->poll_until);
      st_poll(s->conns.st, 0);
      srv_wake(s);
    }
  }
}

/* A request came: note whether it came soon enough after the last idle
 * moment for the loop to poll after answering it (see the top). */
static void srv_note_request(srv_t *s) {
  if (!s->cfg.spin_us) return;
  uint64_t now = uv_hrtime();
  if (s->poll_until && now < s->poll_until) st_poll(s->conns.st, 1);
  s->poll_until = 0;
  s->poll_next = s->last_idle && now - s->last_idle <= (uint64_t)s->cfg.spin_us * 1000u;
  s->busy = 1;
}

void srv_run(srv_t *s, wrk_job_t *job) {
  srv_note_request(s);
  /* Once the line protocol has stopped (done_called) its check and idle
   * handles are closed: HTTP requests still coming go to the workers. */
  if (!s->done_called && !s->submitted && wrk_idle(s->pool)) { /* see srv_on_check */
    s->submitted = 1;
    s->solo = job;
    /* A request that came before the poll phase (HTTP's next pipelined
     * request, read when the last answer's write completed) would wait for
     * the poll to return: an active idle handle makes the poll not block
     * (libuv computes the poll's timeout after running the idle handles,
     * so srv_on_idle keeps it active while a request is held). */
    srv_wake(s);
    return;
  }
  s->submitted = 1;
  srv_submit_solo(s);
  srv_submit(s, job);
}

/* ---- listening --------------------------------------------------------- */

static void srv_on_connection(uv_stream_t *listener, int status) {
  srv_t *s = listener->data;
  conn_accept(&s->conns, listener, status);
}

/* Every handle initialized here is counted open, so that srv_shutdown
 * closes it even when binding it failed. */
int srv_listen(srv_t *s, err_t *err) {
  for (size_t i = 0; i < s->cfg.ntcp; i++) {
    lsn_stream_t *l = &s->listeners[s->nlisteners++];
    s->open_listeners++;
    int rc = lsn_tcp(s->loop, &l->tcp, s, &s->cfg.tcp[i], srv_on_connection, "", err);
    if (rc) return rc;
  }
  if (!s->cfg.unix_path) return 0;
  lsn_stream_t *l = &s->listeners[s->nlisteners++];
  s->open_listeners++;
  return lsn_unix(s->loop, &l->pipe, s, s->cfg.unix_path, s->cfg.unix_mode, srv_on_connection,
                  &s->unix_bound, err);
}

/* ---- the server -------------------------------------------------------- */

srv_t *srv_new(uv_loop_t *loop, const srv_config_t *cfg, st_t *st) {
  srv_t *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->loop = loop;
  s->cfg = *cfg;
  if (s->cfg.ntcp > SRV_MAX_LISTEN) s->cfg.ntcp = SRV_MAX_LISTEN;
  if (!s->cfg.jobs_per_conn) s->cfg.jobs_per_conn = 1;
  if (!s->cfg.max_pipeline) s->cfg.max_pipeline = 1;
  uv_idle_init(loop, &s->idle);
  s->idle.data = s;
  uv_check_init(loop, &s->check);
  s->check.data = s;
  uv_check_start(&s->check, srv_on_check);
  uv_unref((uv_handle_t *)&s->check); /* it never keeps the loop alive */
  uv_timer_init(loop, &s->stop_timer);
  s->stop_timer.data = s;
  s->conns.loop = loop;
  s->conns.cfg = &s->cfg;
  s->conns.st = st;
  s->conns.srv = s;
  s->conns.run = srv_run;
  s->conns.wake = srv_wake;
  s->conns.freed = srv_maybe_done;
  return s;
}

void srv_set_pool(srv_t *s, wrk_pool_t *pool) { s->pool = pool; }

static void srv_on_listener_close(uv_handle_t *h) {
  srv_t *s = h->data;
  s->open_listeners--;
  srv_maybe_done(s);
}

static void srv_on_stop_timer(uv_timer_t *t) {
  srv_t *s = t->data;
  log_warn("shutdown: closing the connections still open");
  conn_set_close(&s->conns);
}

void srv_shutdown(srv_t *s, void (*done)(void *arg), void *arg) {
  if (s->stopping) {
    srv_on_stop_timer(&s->stop_timer);
    return;
  }
  s->stopping = 1;
  s->done = done;
  s->done_arg = arg;
  for (size_t i = 0; i < s->nlisteners; i++)
    uv_close(&s->listeners[i].handle, srv_on_listener_close);
  if (s->unix_bound) {
    unlink(s->cfg.unix_path);
    s->unix_bound = 0;
  }
  conn_set_drain(&s->conns);
  if (s->cfg.shutdown_timeout_ms)
    uv_timer_start(&s->stop_timer, srv_on_stop_timer, s->cfg.shutdown_timeout_ms, 0);
  srv_maybe_done(s);
}

void srv_free(srv_t *s) {
  if (!s) return;
  if (s->unix_bound) unlink(s->cfg.unix_path);
  free(s);
}
