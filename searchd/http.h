/* http.h: the daemon's HTTP/1.1 front end (SPEC.md "HTTP"), on the same
 * libuv loop as the line protocol.
 *
 * Every API request becomes one line-protocol request (GET through hreq.h,
 * POST / as its JSON body) that runs through srv_run() like a line of the
 * line protocol: the same command table, workers, cache, limits and loop
 * answers, so the bodies are the line protocol's answers byte for byte,
 * with the status their error code maps to:
 *   200 ok; 400 bad_request, bad_query; 401 unauthorized; 404
 *   unknown_command, not_found; 405 a method the path does not take; 413
 *   too_long (URL or body over max_line); 500 internal; 503 busy; 504
 *   timeout.
 * GET /metrics answers Prometheus text (metrics.h); GET / the web page
 * (web.h).  With a secret, every request but the page's files must carry
 * "Authorization: Bearer <secret>".
 *
 * Called by main.c: http_new, http_listen; on SIGTERM http_shutdown; then
 * http_free after the loop has ended.  Loop thread only.  Borrows srv and
 * st, which must outlive it.
 */
#ifndef SIFT_SEARCHD_HTTP_H
#define SIFT_SEARCHD_HTTP_H

#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

#include "err.h"
#include "qlog.h"
#include "server.h"
#include "stats.h"

typedef struct http_config {
  struct sockaddr_storage addr;
  const char *secret;           /* NULL: no Authorization needed (borrowed) */
  qlog_t *qlog;                 /* NULL: no query log (borrowed) */
  size_t max_line;              /* longest URL or request body */
  size_t max_connections;       /* past it: 503 busy, then close */
  unsigned req_timeout_ms;      /* a request must arrive whole within this, and a
                              keep-alive connection idles at most this long */
  unsigned shutdown_timeout_ms; /* after http_shutdown: stop waiting */
} http_config_t;

typedef struct http http_t;

/* NULL on ENOMEM.  cfg is copied. */
http_t *http_new(uv_loop_t *loop, const http_config_t *cfg, srv_t *srv, st_t *st);
/* Bind and listen; logs "http listening on ADDR". */
int http_listen(http_t *h, err_t *err);
/* Stop accepting, answer the requests in hand, close the connections, then
 * call done(arg).  Connections still open after shutdown_timeout_ms, or at
 * a second call, are shut at once (their answers are lost). */
void http_shutdown(http_t *h, void (*done)(void *arg), void *arg);
void http_free(http_t *h); /* after the loop has ended; accepts NULL */

#endif
