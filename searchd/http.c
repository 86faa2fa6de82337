/* http.c: see http.h.
 *
 * Why h2o's library (libh2o, Debian 12's libh2o-dev 2.2.5): the daemon is
 * one libuv loop, and Debian's libh2o is built on libuv (its libh2o.so links
 * libuv; libh2o-evloop is the other build), so HTTP connections are libuv
 * streams on our loop, timers included, and a request is answered from the
 * same loop callbacks as a line-protocol one.  libmicrohttpd
 * (libmicrohttpd-dev 0.9.75) runs its own threads or select/poll loop: we
 * would need a second event loop and cross-thread hand-offs for every
 * request, and its suspend/resume API to answer asynchronously.  h2o also
 * brings what we need and would not want to write: an HTTP/1.1 parser
 * (picohttpparser) with keep-alive and pipelining, request-size limits
 * (413), a request timeout against slow clients, and a gzip filter.
 *
 * A request's life (loop thread):
 *   http_on_req: the path picks the answer.  The page's files answer at
 *     once; an API request is turned into a line (hreq.h, or the POST
 *     body), wrapped in an http_job_t and run through srv_run();
 *   http_job_done: the answer came back; if the request is still alive it
 *     is sent with the status its code maps to, and the job is freed.
 * A request h2o disposes of while its job runs (the connection closed)
 * reaches us through a pool-allocated link whose dispose callback clears
 * job->req and cancels the job; the job is freed when it comes back.
 *
 * Connections over max_connections are accepted into a second host whose
 * only handler answers 503 busy and closes, so the client learns why.
 */
#include "http.h"

#include <h2o.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "hreq.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "web.h"

/* Response statuses counted for /metrics, in this order. */
static const int http_statuses[] = {200, 400, 401, 404, 405, 413, 500, 503, 504};
#define HTTP_NSTATUS (sizeof http_statuses / sizeof http_statuses[0])

typedef struct http_handler {
  h2o_handler_t super;
  http_t *h;
} http_handler_t;

struct http {
  uv_loop_t *loop;
  http_config_t cfg;
  srv_t *srv;
  st_t *st;
  h2o_globalconf_t conf;
  h2o_context_t ctx;
  int ctx_ready;
  h2o_hostconf_t *hosts[2], *busy_hosts[2];
  h2o_accept_ctx_t accept, busy_accept;
  uv_tcp_t listener;
  int listener_open;
  uv_timer_t stop_timer;
  struct http_conn *conns; /* every accepted connection, busy ones included */
  size_t nconns, njobs;
  int stopping, done_called;
  void (*done)(void *arg);
  void *done_arg;
  uint64_t by_status[HTTP_NSTATUS + 1]; /* the last: any other status */
};

typedef struct http_conn {
  uv_tcp_t tcp; /* first: h2o's close callback gets its address */
  http_t *h;
  struct http_conn *prev, *next; /* h->conns */
  int busy;
} http_conn_t;

typedef struct http_job http_job_t;

typedef struct http_link {
  http_job_t *job; /* NULL once the job has answered */
} http_link_t;

struct http_job {
  wrk_job_t job; /* first member: the pool hands back &job */
  http_t *h;
  h2o_req_t *req; /* NULL once h2o disposed of the request */
  http_link_t *link;
  int metrics; /* a STATS line asked for /metrics */
  uint64_t t0;
  char line[];
};

static void http_maybe_done(http_t *h);

/* ---- answering --------------------------------------------------------- */

static const char *http_reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Internal Server Error";
  }
}

/* The status of an answer with error code rc (SPEC.md "HTTP"). */
static int http_status_of(int rc) {
  if (!rc) return 200;
  switch (err_proto(rc)) {
    case ERR_P_BAD_REQUEST:
    case ERR_P_BAD_QUERY:
      return 400;
    case ERR_P_UNAUTHORIZED:
      return 401;
    case ERR_P_UNKNOWN_COMMAND:
    case ERR_P_NOT_FOUND:
      return 404;
    case ERR_P_TOO_LONG:
      return 413;
    case ERR_P_BUSY:
      return 503;
    case ERR_P_TIMEOUT:
      return 504;
    default:
      return 500;
  }
}

static void http_header(h2o_req_t *req, const h2o_token_t *token, const char *value) {
  h2o_add_header(&req->pool, &req->res.headers, token, NULL, value, strlen(value));
}

/* A header h2o has no token for. */
static void http_header_named(h2o_req_t *req, const char *name, const char *value) {
  h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 0, NULL, value,
                        strlen(value));
}

static void http_send(http_t *h, h2o_req_t *req, int status, const char *type, const void *body,
                      size_t len) {
  size_t k = 0;
  while (k < HTTP_NSTATUS && http_statuses[k] != status) k++;
  h->by_status[k]++;
  req->res.status = status;
  req->res.reason = http_reason(status);
  req->res.content_length = len;
  http_header(req, H2O_TOKEN_CONTENT_TYPE, type);
  if (h->stopping) req->http1_is_persistent = 0;
  h2o_send_inline(req, body, len);
}

static void http_send_json(http_t *h, h2o_req_t *req, int status, const buf_t *body) {
  http_header(req, H2O_TOKEN_CACHE_CONTROL, "no-store");
  http_send(h, req, status, "application/json", body->data, body->len);
}

/* An error answered here, without a worker: the line protocol's error
 * line, counted in STATS like any request.  status 0: the one rc maps to. */
static void http_send_error(http_t *h, h2o_req_t *req, int status, int rc, const char *msg,
                            int column) {
  buf_t b;
  buf_init(&b, 0);
  proto_write_error(&b, rc, msg, column);
  st_request(h->st, NULL, rc, 0, 0);
  if (!status) status = http_status_of(rc);
  if (status == 401) http_header(req, H2O_TOKEN_WWW_AUTHENTICATE, "Bearer");
  if (b.err) {
    h2o_send_error_500(req, "Internal Server Error", "out of memory", 0);
  } else {
    http_send_json(h, req, status, &b);
  }
  buf_fini(&b);
}

/* ---- jobs -------------------------------------------------------------- */

static void http_link_dispose(void *p) {
  http_link_t *link = p;
  if (!link->job) return;
  link->job->req = NULL;
  atomic_store(&link->job->job.cancelled, 1);
}

static void http_job_done(wrk_job_t *wj, void *ud) {
  http_job_t *job = ud;
  http_t *h = job->h;
  h2o_req_t *req = job->req;
  h->njobs--;
  if (req) {
    job->link->job = NULL;
    uint64_t us = (uv_hrtime() - job->t0) / 1000u;
    st_request(h->st, wj->req.cmd, wj->rc, us, wj->on_loop);
    if (!job->metrics) qlog_request(h->cfg.qlog, &wj->req, &wj->out, wj->rc, us, 1);
    buf_t *out = &wj->out;
    if (out->err || out->len == 0) {
      buf_reset(out);
      proto_write_error(out, ERR_INTERNAL, "the response could not be built", 0);
      wj->rc = ERR_INTERNAL;
    }
    if (job->metrics && wj->rc == 0) {
      buf_t text;
      buf_init(&text, 0);
      metrics_write(&text, out->data, out->len, h->st);
      metrics_http_statuses(&text, http_statuses, h->by_status, HTTP_NSTATUS);
      if (text.err) {
        h2o_send_error_500(req, "Internal Server Error", "out of memory", 0);
      } else {
        http_header(req, H2O_TOKEN_CACHE_CONTROL, "no-store");
        http_send(h, req, 200, "text/plain; version=0.0.4; charset=utf-8", text.data, text.len);
      }
      buf_fini(&text);
    } else {
      http_send_json(h, req, http_status_of(wj->rc), out);
    }
  }
  wrk_job_fini(wj);
  free(job);
  http_maybe_done(h);
}

static void http_run(http_t *h, h2o_req_t *req, const char *line, size_t len, int metrics) {
  http_job_t *job = malloc(sizeof *job + len + 1);
  http_link_t *link =
      job ? h2o_mem_alloc_shared(&req->pool, sizeof *link, http_link_dispose) : NULL;
  if (!link) {
    free(job);
    h2o_send_error_500(req, "Internal Server Error", "out of memory", 0);
    return;
  }
  memset(job, 0, sizeof *job);
  memcpy(job->line, line, len);
  job->line[len] = '\0';
  wrk_job_init(&job->job, job->line, len, http_job_done, job);
  job->h = h;
  job->req = req;
  job->link = link;
  job->metrics = metrics;
  job->t0 = uv_hrtime();
  link->job = job;
  h->njobs++;
  srv_run(h->srv, &job->job);
}

/* ---- routing ----------------------------------------------------------- */

static int http_is(h2o_iovec_t v, const char *s) {
  return v.len == strlen(s) && memcmp(v.base, s, v.len) == 0;
}

/* "Authorization: Bearer <secret>", compared in constant time. */
static int http_authorized(http_t *h, h2o_req_t *req) {
  if (!h->cfg.secret) return 1;
  ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
  if (i < 0) return 0;
  h2o_iovec_t v = req->headers.entries[i].value;
  if (v.len < 7 || strncasecmp(v.base, "bearer ", 7) != 0) return 0;
  const char *s = v.base + 7;
  size_t n = v.len - 7;
  while (n && *s == ' ') s++, n--;
  while (n && s[n - 1] == ' ') n--;
  return proto_secret_equal(h->cfg.secret, s, n);
}

static const web_asset_t *http_asset(h2o_iovec_t path) {
  if (http_is(path, "/")) return &web_assets[0];
  for (const web_asset_t *a = web_assets; a->path; a++)
    if (http_is(path, a->path)) return a;
  return NULL;
}

static void http_send_asset(http_t *h, h2o_req_t *req, const web_asset_t *a) {
  /* The page runs no inline script and loads nothing from elsewhere, so
   * even text that slipped through escaping could not run. */
  http_header_named(req, "content-security-policy",
                    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                    "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
  http_header_named(req, "x-content-type-options", "nosniff");
  http_header(req, H2O_TOKEN_CACHE_CONTROL, "no-cache");
  http_send(h, req, 200, a->content_type, a->data, a->len);
}

static int http_on_req(h2o_handler_t *self, h2o_req_t *req) {
  http_t *h = ((http_handler_t *)self)->h;
  int get = http_is(req->method, "GET") || http_is(req->method, "HEAD");
  int post = http_is(req->method, "POST");
  size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
  h2o_iovec_t path = h2o_iovec_init(req->path.base, plen);

  if (req->path.len > h->cfg.max_line) {
    char msg[96];
    snprintf(msg, sizeof msg, "request URL longer than %zu bytes", h->cfg.max_line);
    http_send_error(h, req, 0, ERR_TOO_LONG, msg, 0);
    return 0;
  }
  const web_asset_t *asset = get ? http_asset(path) : NULL;
  if (asset) {
    http_send_asset(h, req, asset);
    return 0;
  }
  if (!http_authorized(h, req)) {
    log_info("http: request without the right bearer secret");
    http_send_error(h, req, 0, ERR_UNAUTHORIZED, "send Authorization: Bearer <secret>", 0);
    return 0;
  }
  if (post && http_is(path, "/")) { /* h2o answered 413 past max_line */
    const char *b = req->entity.base;
    size_t n = b ? req->entity.len : 0;
    while (n && (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')) b++, n--;
    if (!n || *b != '{') {
      http_send_error(h, req, 0, ERR_BAD_REQUEST, "POST / takes a JSON object request", 0);
      return 0;
    }
    http_run(h, req, b, n, 0);
    return 0;
  }
  if (!get) {
    http_header(req, H2O_TOKEN_ALLOW, http_is(path, "/") ? "GET, HEAD, POST" : "GET, HEAD");
    http_send_error(h, req, 405, ERR_BAD_REQUEST, "method not allowed here", 0);
    return 0;
  }
  if (http_is(path, "/metrics")) {
    http_run(h, req, "STATS", 5, 1);
    return 0;
  }
  buf_t line;
  buf_init(&line, 0);
  err_t err;
  err_clear(&err);
  const char *q = req->query_at != SIZE_MAX ? req->path.base + req->query_at + 1 : "";
  size_t qlen = req->query_at != SIZE_MAX ? req->path.len - req->query_at - 1 : 0;
  int rc = hreq_from_query(path.base, path.len, q, qlen, &line, &err);
  if (rc) http_send_error(h, req, 0, rc, err_message(&err), err.column);
  else http_run(h, req, line.data, line.len, 0);
  buf_fini(&line);
  return 0;
}

/* The second host's handler: this connection is over the limit. */
static int http_on_busy(h2o_handler_t *self, h2o_req_t *req) {
  http_t *h = ((http_handler_t *)self)->h;
  req->http1_is_persistent = 0;
  http_send_error(h, req, 0, ERR_BUSY, "too many connections", 0);
  return 0;
}

/* ---- connections ------------------------------------------------------- */

static void http_on_conn_close(uv_handle_t *hd) {
  http_conn_t *c = (http_conn_t *)hd;
  http_t *h = c->h;
  if (c->prev) c->prev->next = c->next;
  else if (h->conns == c) h->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  if (!c->busy) {
    h->nconns--;
    st_conn_close(h->st);
  }
  free(c);
  http_maybe_done(h);
}

static void http_on_connection(uv_stream_t *server, int status) {
  http_t *h = server->data;
  if (status < 0) {
    log_warn("http accept: %s", uv_strerror(status));
    return;
  }
  http_conn_t *c = calloc(1, sizeof *c);
  if (!c) {
    log_error("http accept: out of memory");
    return;
  }
  c->h = h;
  uv_tcp_init(h->loop, &c->tcp);
  int rc = uv_accept(server, (uv_stream_t *)&c->tcp);
  if (rc) {
    log_warn("http accept: %s", uv_strerror(rc));
    c->busy = 1; /* never counted */
    uv_close((uv_handle_t *)&c->tcp, http_on_conn_close);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  c->next = h->conns;
  if (h->conns) h->conns->prev = c;
  h->conns = c;
  h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)&c->tcp, http_on_conn_close);
  if (!sock) {
    c->busy = 1;
    uv_close((uv_handle_t *)&c->tcp, http_on_conn_close);
    return;
  }
  if (h->nconns >= h->cfg.max_connections) {
    c->busy = 1;
    st_conn_rejected(h->st);
    h2o_accept(&h->busy_accept, sock);
    return;
  }
  h->nconns++;
  st_conn_open(h->st);
  h2o_accept(&h->accept, sock);
}

/* ---- the front end ----------------------------------------------------- */

static h2o_hostconf_t *http_host(http_t *h, const char *name,
                                 int (*on_req)(h2o_handler_t *, h2o_req_t *), int compress) {
  h2o_hostconf_t *hc =
      h2o_config_register_host(&h->conf, h2o_iovec_init(name, strlen(name)), 65535);
  h2o_pathconf_t *pc = h2o_config_register_path(hc, "/", 0);
  http_handler_t *hd = (http_handler_t *)h2o_create_handler(pc, sizeof *hd);
  hd->super.on_req = on_req;
  hd->h = h;
  if (compress) {
    h2o_compress_args_t args;
    memset(&args, 0, sizeof args);
    args.min_size = 512;   /* smaller answers gain less than gzip's header */
    args.gzip.quality = 1; /* fastest: JSON compresses well even so */
    args.brotli.quality = -1;
    h2o_compress_register(pc, &args);
  }
  return hc;
}

http_t *http_new(uv_loop_t *loop, const http_config_t *cfg, srv_t *srv, st_t *st) {
  http_t *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  h->loop = loop;
  h->cfg = *cfg;
  h->srv = srv;
  h->st = st;
  h2o_config_init(&h->conf);
  h->conf.server_name = h2o_iovec_init(H2O_STRLIT("sift-searchd"));
  h->conf.max_request_entity_size = cfg->max_line;
  h->conf.http1.req_timeout = cfg->req_timeout_ms ? cfg->req_timeout_ms : 10000;
  h->conf.http1.upgrade_to_http2 = 0;
  h->hosts[0] = http_host(h, "default", http_on_req, 1);
  h->busy_hosts[0] = http_host(h, "busy", http_on_busy, 0);
  h2o_context_init(&h->ctx, loop, &h->conf);
  h->ctx_ready = 1;
  h->accept.ctx = h->busy_accept.ctx = &h->ctx;
  h->accept.hosts = h->hosts;
  h->busy_accept.hosts = h->busy_hosts;
  uv_timer_init(loop, &h->stop_timer);
  h->stop_timer.data = h;
  return h;
}

int http_listen(http_t *h, err_t *err) {
  h->listener_open = 1; /* initialized whatever happens: http_shutdown closes it */
  return lsn_tcp(h->loop, &h->listener, h, &h->cfg.addr, http_on_connection, "http ", err);
}

static void http_on_listener_close(uv_handle_t *hd) {
  http_t *h = hd->data;
  h->listener_open = 0;
  http_maybe_done(h);
}

static void http_maybe_done(http_t *h) {
  if (!h->stopping || h->done_called || h->listener_open || h->nconns || h->njobs) return;
  h->done_called = 1;
  uv_timer_stop(&h->stop_timer);
  uv_close((uv_handle_t *)&h->stop_timer, NULL);
  h2o_context_dispose(&h->ctx);
  h->ctx_ready = 0;
  if (h->done) h->done(h->done_arg);
}

/* Shut both directions (how) or only reading of every connection: h2o
 * then reads an end of input, and with SHUT_RDWR its writes fail too, so
 * each connection closes through h2o's own paths (h2o cannot close one
 * from outside). */
static void http_shut_all(http_t *h, int how) {
  for (http_conn_t *c = h->conns; c; c = c->next) {
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0) shutdown(fd, how);
  }
}

/* Connections still open after the shutdown timeout (a client that does
 * not read its answer), or a second stop signal: give up on them. */
static void http_on_stop_timer(uv_timer_t *t) {
  http_t *h = t->data;
  log_warn("shutdown: closing the %zu http connections still open", h->nconns);
  http_shut_all(h, SHUT_RDWR);
}

void http_shutdown(http_t *h, void (*done)(void *arg), void *arg) {
  if (h->stopping) { /* the second time: do not wait any longer */
    if (!h->done_called) http_on_stop_timer(&h->stop_timer);
    return;
  }
  h->stopping = 1;
  h->done = done;
  h->done_arg = arg;
  if (h->listener_open) uv_close((uv_handle_t *)&h->listener, http_on_listener_close);
  /* h2o 2.2's HTTP/1 has no graceful shutdown of its own.  Shutting the
   * reading side makes h2o read an end of input: an idle keep-alive
   * connection closes at once, a busy one after its answer (http_send
   * turns keep-alive off while stopping), a pipelined request already
   * read is answered first. */
  http_shut_all(h, SHUT_RD);
  if (h->cfg.shutdown_timeout_ms)
    uv_timer_start(&h->stop_timer, http_on_stop_timer, h->cfg.shutdown_timeout_ms, 0);
  http_maybe_done(h);
}

void http_free(http_t *h) {
  if (!h) return;
  /* After a forced stop connections may still hold h2o's timers, which it
   * asserts against when disposing: the process is exiting, leave them. */
  if (h->ctx_ready && !h->conns) h2o_context_dispose(&h->ctx);
  h2o_config_dispose(&h->conf);
  free(h);
}
