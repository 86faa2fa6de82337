/* main.c: sift-searchd: flags, startup, signals, index reload timer.
 *
 * Startup: parse the flags (a usage error exits 2 with one line), open one
 * engine per worker thread (a missing or foreign index exits 1 with the
 * engine's reason), bind the listeners (exit 1 on failure), then run the
 * libuv loop until SIGTERM/SIGINT.  Shutdown: the server stops accepting,
 * answers what it has read, flushes and closes every connection; then the
 * workers are joined, the remaining handles closed, and the process exits 0.
 * Connections still busy --shutdown-timeout seconds later (a client that
 * does not read its answers) are closed, as they are at a second
 * SIGTERM/SIGINT.
 *
 * SIGHUP, and a timer every --reload-interval seconds, ask each worker to
 * reopen the index before its next request (workers.h).  SIGPIPE is
 * ignored: a client that went away is a write error on its connection.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cache.h"
#include "eng.h"
#include "err.h"
#include "http.h"
#include "listen.h"
#include "log.h"
#include "opts.h"
#include "qlog.h"
#include "server.h"
#include "stats.h"
#include "workers.h"

#ifndef SIFT_VERSION
#define SIFT_VERSION "0.0.0"
#endif

#define PROG "sift-searchd"

typedef struct app {
  uv_loop_t loop;
  srv_t *srv;
  http_t *http;       /* NULL without --http */
  int fronts_running; /* line protocol and HTTP not yet stopped */
  int stopping;       /* a stop signal came */
  wrk_pool_t *pool;
  st_t *st;
  cache_t *cache;
  qlog_t *qlog; /* NULL without --query-log */
  uv_signal_t sig_term, sig_int, sig_hup;
  uv_timer_t reload_timer; /* reload and memory trim, see on_reload_timer */
  int periodic_reload;
  int handles_started;
} app_t;

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...) {
  char msg[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, PROG ": %s (see --help)\n", msg);
  exit(2);
}

/* ---- signals and shutdown ---------------------------------------------- */

static void on_closed(uv_handle_t *h) { (void)h; }

static void on_server_stopped(void *arg) {
  app_t *app = arg;
  if (--app->fronts_running > 0) return; /* the other front end is still busy */
  if (app->pool) wrk_pool_stop(app->pool);
  app->pool = NULL;
  if (app->handles_started) {
    uv_close((uv_handle_t *)&app->sig_term, on_closed);
    uv_close((uv_handle_t *)&app->sig_int, on_closed);
    uv_close((uv_handle_t *)&app->sig_hup, on_closed);
    uv_close((uv_handle_t *)&app->reload_timer, on_closed);
    app->handles_started = 0;
  }
}

static void on_stop_signal(uv_signal_t *h, int signum) {
  app_t *app = h->data;
  log_info("%s: stopping: answering the requests in hand", signum == SIGINT ? "SIGINT" : "SIGTERM");
  /* A second signal hurries both front ends; it must not count them again. */
  if (!app->stopping) app->fronts_running = app->http ? 2 : 1;
  app->stopping = 1;
  srv_shutdown(app->srv, on_server_stopped, app);
  if (app->http) http_shutdown(app->http, on_server_stopped, app);
}

static void on_hup(uv_signal_t *h, int signum) {
  app_t *app = h->data;
  (void)signum;
  log_info("SIGHUP: reopening the index%s", app->qlog ? " and the query log" : "");
  wrk_request_reload(app->pool);
  if (app->qlog) qlog_reopen(app->qlog);
}

/* The periodic timer: look for a new index revision (unless only SIGHUP
 * should), and give memory freed since (a large page of hits, a client's
 * output buffer) back to the system: glibc keeps freed memory in each
 * thread's arena otherwise, and the resident size would stay at its peak. */
static void on_reload_timer(uv_timer_t *t) {
  app_t *app = t->data;
  if (app->periodic_reload) wrk_request_reload(app->pool);
  malloc_trim(0);
}

/* Close everything after a startup failure and exit 1. */
static void fail_startup(app_t *app, const char *what, const err_t *err) {
  fprintf(stderr, PROG ": %s: %s\n", what, err_message(err));
  app->fronts_running = app->http ? 2 : 1;
  srv_shutdown(app->srv, on_server_stopped, app);
  if (app->http) http_shutdown(app->http, on_server_stopped, app);
  uv_run(&app->loop, UV_RUN_DEFAULT);
  uv_loop_close(&app->loop);
  http_free(app->http);
  srv_free(app->srv);
  st_free(app->st);
  cache_free(app->cache);
  qlog_close(app->qlog);
  exit(1);
}

/* --check-config: the settings parsed and checked (main did), the index
 * opens; print the effective settings and exit. */
static void check_config(const opts_t *o) {
  eng_t *eng = NULL;
  eng_limits_t lim;
  memset(&lim, 0, sizeof lim);
  err_t err;
  err_clear(&err);
  if (eng_open_set(o->index, o->nindex, &lim, &eng, &err) != 0) {
    fprintf(stderr, PROG ": cannot open the index: %s\n", err_message(&err));
    exit(1);
  }
  eng_free(eng);
  opts_dump(stdout, o);
  fprintf(stderr, PROG ": configuration ok\n");
  exit(0);
}

int main(int argc, char **argv) {
  opts_t o;
  char reason[600];
  _Static_assert(OPTS_MAX_LISTEN <= SRV_MAX_LISTEN, "every --listen address must fit");
  if (opts_parse(argc, argv, &o, reason, sizeof reason) != 0) usage_error("%s", reason);
  if (o.help || o.man || o.version) {
    if (o.help) opts_usage(stdout, PROG);
    else if (o.man) opts_man(stdout, PROG, SIFT_VERSION);
    else printf(PROG " " SIFT_VERSION "\n");
    opts_free(&o);
    return 0;
  }
  log_set_level((log_level_t)o.log_level);
  unsigned threads = o.threads ? (unsigned)o.threads : uv_available_parallelism();
  if (!threads) threads = 1;
  eng_set_shard_threads((unsigned)o.shard_threads);
  double bm25_k1, bm25_b;
  if (eng_parse_bm25(o.bm25, &bm25_k1, &bm25_b))
    usage_error("--bm25: expected K1,B with 0 < K1 and 0 < B <= 1, got '%s'", o.bm25);

  srv_config_t scfg;
  memset(&scfg, 0, sizeof scfg);
  for (size_t i = 0; i < o.nlisten; i++) {
    const char *why = NULL;
    if (lsn_parse_addr(o.listen[i], &scfg.tcp[i], &why) != 0)
      usage_error("--listen %s: %s", o.listen[i], why);
    if (!o.insecure_bind && !o.auth_file && !lsn_addr_is_loopback(&scfg.tcp[i]))
      usage_error(
          "--listen %s is not a loopback address: give --auth-file (clients then "
          "send AUTH <secret> first) or --insecure-bind",
          o.listen[i]);
  }
  scfg.ntcp = o.nlisten;
  http_config_t hcfg;
  memset(&hcfg, 0, sizeof hcfg);
  if (o.http) {
    const char *why = NULL;
    if (lsn_parse_addr(o.http, &hcfg.addr, &why) != 0) usage_error("--http %s: %s", o.http, why);
    if (!o.insecure_bind && !o.auth_file && !lsn_addr_is_loopback(&hcfg.addr))
      usage_error(
          "--http %s is not a loopback address: give --auth-file (clients then "
          "send Authorization: Bearer <secret>) or --insecure-bind",
          o.http);
  }
  scfg.unix_path = o.unix_path;
  scfg.unix_mode = o.unix_mode;
  char secret[256] = "";
  if (o.auth_file) {
    FILE *f = fopen(o.auth_file, "r");
    if (!f || !fgets(secret, sizeof secret, f))
      usage_error("--auth-file %s: cannot read a secret from it", o.auth_file);
    fclose(f);
    secret[strcspn(secret, "\r\n")] = '\0';
    if (strlen(secret) < 8)
      usage_error("--auth-file %s: the secret must be at least 8 characters", o.auth_file);
    scfg.secret = secret;
  }
  if (o.check_config) check_config(&o);
  scfg.max_line = o.max_line;
  scfg.max_pipeline = o.max_pipeline;
  scfg.max_output = o.max_output;
  scfg.max_connections = o.max_connections;
  /* One connection may keep all workers but one busy, so a client
   * pipelining slow queries cannot starve the others. */
  scfg.jobs_per_conn = threads > 1 ? threads - 1 : 1;
  scfg.idle_timeout_ms = (unsigned)o.idle_timeout_s * 1000u;
  scfg.linger_ms = 2000;
  scfg.shutdown_timeout_ms = (unsigned)o.shutdown_timeout_s * 1000u;
  scfg.spin_us = (unsigned)o.spin_us;
  hcfg.secret = scfg.secret;
  hcfg.max_line = o.max_line;
  hcfg.max_connections = o.max_connections;
  hcfg.req_timeout_ms = o.idle_timeout_s ? (unsigned)o.idle_timeout_s * 1000u : 10000u;
  hcfg.shutdown_timeout_ms = scfg.shutdown_timeout_ms;

  signal(SIGPIPE, SIG_IGN);

  app_t app;
  memset(&app, 0, sizeof app);
  int rc = uv_loop_init(&app.loop);
  if (rc) {
    fprintf(stderr, PROG ": cannot start the event loop: %s\n", uv_strerror(rc));
    return 1;
  }
  if (o.cache_mb) {
    app.cache = cache_new(o.cache_mb << 20);
    if (!app.cache) {
      fprintf(stderr, PROG ": out of memory\n");
      return 1;
    }
  }
  if (o.query_log) {
    err_t qerr;
    err_clear(&qerr);
    if (qlog_open(o.query_log, o.slow_ms * 1000u, &app.qlog, &qerr) != 0) {
      fprintf(stderr, PROG ": --query-log: %s\n", err_message(&qerr));
      return 1;
    }
  }
  scfg.qlog = hcfg.qlog = app.qlog;
  app.st = st_new(threads, app.cache);
  app.srv = app.st ? srv_new(&app.loop, &scfg, app.st) : NULL;
  if (app.srv && o.http) app.http = http_new(&app.loop, &hcfg, app.srv, app.st);
  if (!app.srv || (o.http && !app.http)) {
    fprintf(stderr, PROG ": out of memory\n");
    return 1;
  }
  wrk_config_t wcfg;
  memset(&wcfg, 0, sizeof wcfg);
  wcfg.indexes = o.index;
  wcfg.nindexes = o.nindex;
  wcfg.limits.max_limit = (uint32_t)o.max_limit;
  wcfg.limits.max_offset = (uint32_t)o.max_offset;
  wcfg.limits.time_limit = o.query_timeout_ms / 1000.0;
  wcfg.limits.max_expansion = (uint32_t)o.max_expansion;
  wcfg.limits.bm25_k1 = bm25_k1;
  wcfg.limits.bm25_b = bm25_b;
  wcfg.threads = threads;
  wcfg.inline_budget = o.inline_budget;
  wcfg.cache = app.cache;
  wcfg.st = app.st;
  err_t err;
  err_clear(&err);
  if (wrk_pool_new(&app.loop, &wcfg, &app.pool, &err) != 0)
    fail_startup(&app, "cannot open the index", &err);
  srv_set_pool(app.srv, app.pool);
  if (srv_listen(app.srv, &err) != 0) fail_startup(&app, "cannot listen", &err);
  if (app.http && http_listen(app.http, &err) != 0) fail_startup(&app, "cannot listen", &err);

  uv_signal_init(&app.loop, &app.sig_term);
  uv_signal_init(&app.loop, &app.sig_int);
  uv_signal_init(&app.loop, &app.sig_hup);
  uv_timer_init(&app.loop, &app.reload_timer);
  app.sig_term.data = app.sig_int.data = app.sig_hup.data = app.reload_timer.data = &app;
  app.handles_started = 1;
  uv_signal_start(&app.sig_term, on_stop_signal, SIGTERM);
  uv_signal_start(&app.sig_int, on_stop_signal, SIGINT);
  uv_signal_start(&app.sig_hup, on_hup, SIGHUP);
  app.periodic_reload = o.reload_interval_s != 0;
  uint64_t tick_ms = o.reload_interval_s ? (uint64_t)o.reload_interval_s * 1000u : 5000u;
  uv_timer_start(&app.reload_timer, on_reload_timer, tick_ms, tick_ms);
  log_info(PROG " " SIFT_VERSION ": index %s%s open in %u worker threads", o.index[0],
           o.nindex > 1 ? " and more" : "", threads);
  log_info("ready: cache %llu MiB, query timeout %llu ms, reload every %llu s",
           (unsigned long long)o.cache_mb, (unsigned long long)o.query_timeout_ms,
           (unsigned long long)o.reload_interval_s);

  uv_run(&app.loop, UV_RUN_DEFAULT);
  rc = uv_loop_close(&app.loop);
  if (rc) log_warn("event loop closed with handles open: %s", uv_strerror(rc));
  http_free(app.http);
  srv_free(app.srv);
  st_free(app.st);
  cache_free(app.cache);
  qlog_close(app.qlog);
  opts_free(&o);
  log_info("stopped");
  return 0;
}
