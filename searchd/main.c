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
#include <getopt.h>
#include <limits.h>
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
#include "log.h"
#include "qp.h"
#include "server.h"
#include "stats.h"
#include "workers.h"

#ifndef SIFT_VERSION
#define SIFT_VERSION "0.0.0"
#endif

#define PROG "sift-searchd"
/* The default --inline-budget: requests estimated at most this much work
 * (eng_cost) are answered on the loop thread when the workers are idle;
 * calibrated in bench/README.md ("Answers on the loop thread"). */
#define INLINE_BUDGET 50000

typedef struct app {
  uv_loop_t loop;
  srv_t *srv;
  wrk_pool_t *pool;
  st_t *st;
  cache_t *cache;
  uv_signal_t sig_term, sig_int, sig_hup;
  uv_timer_t reload_timer; /* reload and memory trim, see on_reload_timer */
  int periodic_reload;
  int handles_started;
} app_t;

#define MAX_INDEXES 256 /* --index flags */

typedef struct options {
  const char *index[MAX_INDEXES]; /* answering as one (eng_open_set) */
  size_t nindex;
  const char *listen[SRV_MAX_LISTEN];
  size_t nlisten;
  const char *unix_path;
  unsigned unix_mode;
  int insecure_bind;
  const char *auth_file;
  unsigned threads;
  size_t max_line, max_pipeline, max_output, max_connections;
  unsigned idle_timeout_s;
  unsigned query_timeout_ms;
  unsigned max_limit, max_offset, max_expansion;
  unsigned reload_interval_s;
  unsigned shutdown_timeout_s;
  size_t cache_mb;
  unsigned long long inline_budget;
  double bm25_k1, bm25_b;
  int log_level;
} options_t;

static void usage(FILE *f) {
  fprintf(f,
          "Usage: " PROG " --index DIR [options]\n"
          "Serve a Sift index over the line protocol (SPEC.md, \"Line protocol\").\n"
          "\n"
          "  --index DIR             the index: a directory, or a Xapian stub file listing\n"
          "                          shards, local and remote (xapian-tcpsrv); repeat it to\n"
          "                          serve several indexes as one [required]\n"
          "  --listen HOST:PORT      TCP address (default 127.0.0.1:9412; port 0 picks one;\n"
          "                          repeatable); the bound address is logged as\n"
          "                          \"listening on HOST:PORT\"\n"
          "  --unix PATH             also listen on a Unix socket (a stale socket file is\n"
          "                          removed)\n"
          "  --unix-mode OCTAL       permissions of the socket file (default 0600)\n"
          "  --auth-file FILE        require \"AUTH <secret>\" before any other request;\n"
          "                          the secret is the first line of FILE (>= 8 chars)\n"
          "  --insecure-bind         allow a non-loopback --listen address without\n"
          "                          --auth-file (anyone who can connect may query)\n"
          "  --threads N             worker threads (default: the number of CPUs)\n"
          "  --max-line BYTES        longest request line (default 64K); longer: too_long,\n"
          "                          then the connection is closed\n"
          "  --max-pipeline N        unanswered requests per connection before reading\n"
          "                          pauses (default 128)\n"
          "  --max-output BYTES      buffered response bytes per connection before its\n"
          "                          requests pause (default 8M)\n"
          "  --max-connections N     past it new connections get busy (default 1024)\n"
          "  --idle-timeout SEC      close connections idle that long (default 0: never)\n"
          "  --query-timeout MS      time limit of one query (default 5000; 0: none)\n"
          "  --max-limit N           largest page size (default %d)\n"
          "  --max-offset N          largest result offset (default 100000)\n"
          "  --max-expansion N       words one prefix may expand to (default 0: engine's)\n"
          "  --reload-interval SEC   look for a new index revision that often (default 2;\n"
          "                          0: only on SIGHUP)\n"
          "  --cache-mb N            result cache size (default 64; 0: no cache)\n"
          "  --inline-budget N       when no worker is busy, answer a request on the\n"
          "                          event-loop thread if its estimated work (postings,\n"
          "                          plus %d per hit) is at most N (default %d; 0: never)\n"
          "  --bm25 K1,B             BM25 parameters of relevance ranking (default %g,%g;\n"
          "                          0 < K1, 0 < B <= 1; bench/relevance.md)\n"
          "  --shutdown-timeout SEC  after SIGTERM, close connections still busy after\n"
          "                          that long (default 30; 0: wait for them)\n"
          "  --log-level LEVEL       error, warn, info (default) or debug\n"
          "  --help, --version\n"
          "\n"
          "Signals: SIGHUP reloads the index now; SIGTERM/SIGINT answer the requests in\n"
          "hand, close the connections and exit 0.\n",
          QP_MAX_LIMIT, ENG_HIT_COST, INLINE_BUDGET, ENG_BM25_K1, ENG_BM25_B);
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, PROG ": %s (see --help)\n", msg);
  exit(2);
}

static unsigned long long parse_number(const char *flag, const char *text,
                                       unsigned long long min, unsigned long long max,
                                       int allow_suffix) {
  errno = 0;
  char *end = NULL;
  if (!*text || text[0] == '-') usage_error("%s: expected a number, got '%s'", flag, text);
  unsigned long long v = strtoull(text, &end, 10);
  if (errno || end == text) usage_error("%s: expected a number, got '%s'", flag, text);
  if (allow_suffix && *end) {
    unsigned shift = 0;
    switch (*end) {
      case 'k': case 'K': shift = 10; break;
      case 'm': case 'M': shift = 20; break;
      case 'g': case 'G': shift = 30; break;
      default: usage_error("%s: bad size '%s' (use a number, optionally K, M or G)", flag, text);
    }
    end++;
    if (*end == 'i') end++;
    if (*end == 'B' || *end == 'b') end++;
    if (v > (ULLONG_MAX >> shift)) usage_error("%s: '%s' is too large", flag, text);
    v <<= shift;
  }
  if (*end) usage_error("%s: expected a number, got '%s'", flag, text);
  if (v < min || v > max)
    usage_error("%s: %s is out of range (%llu..%llu)", flag, text, min, max);
  return v;
}

enum {
  OPT_INDEX = 256,
  OPT_LISTEN,
  OPT_UNIX,
  OPT_UNIX_MODE,
  OPT_INSECURE_BIND,
  OPT_AUTH_FILE,
  OPT_THREADS,
  OPT_MAX_LINE,
  OPT_MAX_PIPELINE,
  OPT_MAX_OUTPUT,
  OPT_MAX_CONNECTIONS,
  OPT_IDLE_TIMEOUT,
  OPT_QUERY_TIMEOUT,
  OPT_MAX_LIMIT,
  OPT_MAX_OFFSET,
  OPT_MAX_EXPANSION,
  OPT_RELOAD_INTERVAL,
  OPT_SHUTDOWN_TIMEOUT,
  OPT_CACHE_MB,
  OPT_INLINE_BUDGET,
  OPT_LOG_LEVEL,
  OPT_BM25,
  OPT_HELP,
  OPT_VERSION
};

static const struct option long_options[] = {
    {"index", required_argument, NULL, OPT_INDEX},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"unix", required_argument, NULL, OPT_UNIX},
    {"unix-mode", required_argument, NULL, OPT_UNIX_MODE},
    {"insecure-bind", no_argument, NULL, OPT_INSECURE_BIND},
    {"auth-file", required_argument, NULL, OPT_AUTH_FILE},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"max-line", required_argument, NULL, OPT_MAX_LINE},
    {"max-pipeline", required_argument, NULL, OPT_MAX_PIPELINE},
    {"max-output", required_argument, NULL, OPT_MAX_OUTPUT},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"query-timeout", required_argument, NULL, OPT_QUERY_TIMEOUT},
    {"max-limit", required_argument, NULL, OPT_MAX_LIMIT},
    {"max-offset", required_argument, NULL, OPT_MAX_OFFSET},
    {"max-expansion", required_argument, NULL, OPT_MAX_EXPANSION},
    {"reload-interval", required_argument, NULL, OPT_RELOAD_INTERVAL},
    {"shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT},
    {"cache-mb", required_argument, NULL, OPT_CACHE_MB},
    {"inline-budget", required_argument, NULL, OPT_INLINE_BUDGET},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"bm25", required_argument, NULL, OPT_BM25},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0}};

static void parse_options(int argc, char **argv, options_t *o) {
  memset(o, 0, sizeof *o);
  o->unix_mode = 0600;
  o->threads = uv_available_parallelism();
  o->max_line = PROTO_MAX_LINE;
  o->max_pipeline = 128;
  o->max_output = 8u << 20;
  o->max_connections = 1024;
  o->query_timeout_ms = 5000;
  o->max_limit = QP_MAX_LIMIT;
  o->max_offset = 100000;
  o->reload_interval_s = 2;
  o->shutdown_timeout_s = 30;
  o->cache_mb = 64;
  o->inline_budget = INLINE_BUDGET;
  o->log_level = LOG_INFO;
  o->bm25_k1 = ENG_BM25_K1;
  o->bm25_b = ENG_BM25_B;

  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
    const char *flag = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
    switch (c) {
      case OPT_INDEX:
        if (o->nindex == MAX_INDEXES) usage_error("--index: at most %d indexes", MAX_INDEXES);
        o->index[o->nindex++] = optarg;
        break;
      case OPT_LISTEN:
        if (o->nlisten == SRV_MAX_LISTEN) usage_error("--listen: at most %d addresses", SRV_MAX_LISTEN);
        o->listen[o->nlisten++] = optarg;
        break;
      case OPT_UNIX:
        if (!*optarg) usage_error("--unix: empty path");
        o->unix_path = optarg;
        break;
      case OPT_UNIX_MODE: {
        char *end;
        errno = 0;
        unsigned long m = strtoul(optarg, &end, 8);
        if (errno || end == optarg || *end || m > 0777)
          usage_error("--unix-mode: expected octal permissions such as 0600, got '%s'", optarg);
        o->unix_mode = (unsigned)m;
        break;
      }
      case OPT_INSECURE_BIND: o->insecure_bind = 1; break;
      case OPT_AUTH_FILE: o->auth_file = optarg; break;
      case OPT_THREADS: o->threads = (unsigned)parse_number("--threads", optarg, 1, 1024, 0); break;
      case OPT_MAX_LINE:
        o->max_line = (size_t)parse_number("--max-line", optarg, 16, 64u << 20, 1);
        break;
      case OPT_MAX_PIPELINE:
        o->max_pipeline = (size_t)parse_number("--max-pipeline", optarg, 1, 1000000, 0);
        break;
      case OPT_MAX_OUTPUT:
        o->max_output = (size_t)parse_number("--max-output", optarg, 1024, 1ull << 30, 1);
        break;
      case OPT_MAX_CONNECTIONS:
        o->max_connections = (size_t)parse_number("--max-connections", optarg, 1, 1000000, 0);
        break;
      case OPT_IDLE_TIMEOUT:
        o->idle_timeout_s = (unsigned)parse_number("--idle-timeout", optarg, 0, 86400 * 7, 0);
        break;
      case OPT_QUERY_TIMEOUT:
        o->query_timeout_ms = (unsigned)parse_number("--query-timeout", optarg, 0, 3600000, 0);
        break;
      case OPT_MAX_LIMIT:
        o->max_limit = (unsigned)parse_number("--max-limit", optarg, 1, QP_MAX_LIMIT, 0);
        break;
      case OPT_MAX_OFFSET:
        o->max_offset = (unsigned)parse_number("--max-offset", optarg, 0, UINT32_MAX, 0);
        break;
      case OPT_MAX_EXPANSION:
        o->max_expansion = (unsigned)parse_number("--max-expansion", optarg, 0, UINT32_MAX, 0);
        break;
      case OPT_RELOAD_INTERVAL:
        o->reload_interval_s = (unsigned)parse_number("--reload-interval", optarg, 0, 86400, 0);
        break;
      case OPT_SHUTDOWN_TIMEOUT:
        o->shutdown_timeout_s = (unsigned)parse_number("--shutdown-timeout", optarg, 0, 86400, 0);
        break;
      case OPT_CACHE_MB: o->cache_mb = (size_t)parse_number("--cache-mb", optarg, 0, 1u << 20, 0); break;
      case OPT_INLINE_BUDGET:
        o->inline_budget = parse_number("--inline-budget", optarg, 0, UINT64_MAX / 2, 0);
        break;
      case OPT_BM25:
        if (eng_parse_bm25(optarg, &o->bm25_k1, &o->bm25_b))
          usage_error("--bm25: expected K1,B with 0 < K1 and 0 < B <= 1, got '%s'", optarg);
        break;
      case OPT_LOG_LEVEL:
        o->log_level = log_parse_level(optarg);
        if (o->log_level < 0)
          usage_error("--log-level: expected error, warn, info or debug, got '%s'", optarg);
        break;
      case OPT_HELP: usage(stdout); exit(0);
      case OPT_VERSION: printf(PROG " " SIFT_VERSION "\n"); exit(0);
      case ':': usage_error("%s needs a value", flag);
      default: usage_error("unknown option '%s'", flag);
    }
  }
  if (optind < argc) usage_error("unexpected argument '%s'", argv[optind]);
  if (!o->nindex) usage_error("--index DIR is required");
  if (o->nlisten == 0) o->listen[o->nlisten++] = "127.0.0.1:9412";
  if (o->threads == 0) o->threads = 1;
}

/* ---- signals and shutdown ---------------------------------------------- */

static void on_closed(uv_handle_t *h) { (void)h; }

static void on_server_stopped(void *arg) {
  app_t *app = arg;
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
  srv_shutdown(app->srv, on_server_stopped, app);
}

static void on_hup(uv_signal_t *h, int signum) {
  app_t *app = h->data;
  (void)signum;
  log_info("SIGHUP: reopening the index");
  wrk_request_reload(app->pool);
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
  srv_shutdown(app->srv, on_server_stopped, app);
  uv_run(&app->loop, UV_RUN_DEFAULT);
  uv_loop_close(&app->loop);
  srv_free(app->srv);
  st_free(app->st);
  cache_free(app->cache);
  exit(1);
}

int main(int argc, char **argv) {
  options_t o;
  parse_options(argc, argv, &o);
  log_set_level((log_level_t)o.log_level);

  srv_config_t scfg;
  memset(&scfg, 0, sizeof scfg);
  for (size_t i = 0; i < o.nlisten; i++) {
    const char *why = NULL;
    if (srv_parse_addr(o.listen[i], &scfg.tcp[i], &why) != 0)
      usage_error("--listen %s: %s", o.listen[i], why);
    if (!o.insecure_bind && !o.auth_file && !srv_addr_is_loopback(&scfg.tcp[i]))
      usage_error("--listen %s is not a loopback address: give --auth-file (clients then "
                  "send AUTH <secret> first) or --insecure-bind",
                  o.listen[i]);
  }
  scfg.ntcp = o.nlisten;
  scfg.unix_path = o.unix_path;
  scfg.unix_mode = o.unix_mode;
  char secret[256] = "";
  if (o.auth_file) {
    FILE *f = fopen(o.auth_file, "r");
    if (!f || !fgets(secret, sizeof secret, f)) usage_error("--auth-file %s: cannot read a secret from it", o.auth_file);
    fclose(f);
    secret[strcspn(secret, "\r\n")] = '\0';
    if (strlen(secret) < 8) usage_error("--auth-file %s: the secret must be at least 8 characters", o.auth_file);
    scfg.secret = secret;
  }
  scfg.max_line = o.max_line;
  scfg.max_pipeline = o.max_pipeline;
  scfg.max_output = o.max_output;
  scfg.max_connections = o.max_connections;
  /* One connection may keep all workers but one busy, so a client
   * pipelining slow queries cannot starve the others. */
  scfg.jobs_per_conn = o.threads > 1 ? o.threads - 1 : 1;
  scfg.idle_timeout_ms = o.idle_timeout_s * 1000u;
  scfg.linger_ms = 2000;
  scfg.shutdown_timeout_ms = o.shutdown_timeout_s * 1000u;

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
  app.st = st_new(o.threads, app.cache);
  app.srv = app.st ? srv_new(&app.loop, &scfg, app.st) : NULL;
  if (!app.srv) {
    fprintf(stderr, PROG ": out of memory\n");
    return 1;
  }
  wrk_config_t wcfg;
  memset(&wcfg, 0, sizeof wcfg);
  wcfg.indexes = o.index;
  wcfg.nindexes = o.nindex;
  wcfg.limits.max_limit = o.max_limit;
  wcfg.limits.max_offset = o.max_offset;
  wcfg.limits.time_limit = o.query_timeout_ms / 1000.0;
  wcfg.limits.max_expansion = o.max_expansion;
  wcfg.limits.bm25_k1 = o.bm25_k1;
  wcfg.limits.bm25_b = o.bm25_b;
  wcfg.threads = o.threads;
  wcfg.inline_budget = o.inline_budget;
  wcfg.cache = app.cache;
  wcfg.st = app.st;
  err_t err;
  err_clear(&err);
  if (wrk_pool_new(&app.loop, &wcfg, srv_job_done, app.srv, &app.pool, &err) != 0)
    fail_startup(&app, "cannot open the index", &err);
  srv_set_pool(app.srv, app.pool);
  if (srv_listen(app.srv, &err) != 0) fail_startup(&app, "cannot listen", &err);

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
           o.nindex > 1 ? " and more" : "", o.threads);
  log_info("ready: cache %zu MiB, query timeout %u ms, reload every %u s", o.cache_mb,
           o.query_timeout_ms, o.reload_interval_s);

  uv_run(&app.loop, UV_RUN_DEFAULT);
  rc = uv_loop_close(&app.loop);
  if (rc) log_warn("event loop closed with handles open: %s", uv_strerror(rc));
  srv_free(app.srv);
  st_free(app.st);
  cache_free(app.cache);
  log_info("stopped");
  return 0;
}
