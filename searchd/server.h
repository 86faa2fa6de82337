/* server.h: the line protocol's server: its listeners, its connections'
 * set, where every request is run, and its stop.
 *
 * The server runs on the libuv loop thread only.  It listens on TCP and
 * Unix-socket addresses (listen.h) and hands each connection accepted to
 * its set of connections (conn.h), which frame request lines, read each
 * into a request (answering AUTH themselves when the server holds a
 * secret) and write the responses back in request order.  Every request
 * runs through srv_run: an idle server's only request of a loop iteration
 * is answered on the loop when it is cheap, anything else goes to the
 * worker pool (workers.h).  The HTTP front end (http.h) runs its requests
 * through srv_run too, so both protocols share the pool, the cache and the
 * loop's own answers.  Called by main.c: srv_new, wrk_pool_new,
 * srv_set_pool, srv_listen; on SIGTERM srv_shutdown.
 *
 * Limits (each costs the client that hits it, never the others):
 *   max_line         a longer line is answered too_long, then the
 *                    connection is closed once that response is written;
 *   max_pipeline     requests framed and not yet answered on one
 *                    connection: past it the server stops reading it;
 *   max_output       response bytes buffered for one connection: past it the
 *                    server stops running and reading its requests until
 *                    the client has read half of them;
 *   max_connections  past it a new connection gets busy and is closed;
 *   jobs_per_conn    requests of one connection queued at the workers at
 *                    once, so one client's pipeline cannot fill the queue
 *                    ahead of everyone else's;
 *   CONN_FRAME_BUDGET lines framed per connection per loop wake-up
 *                    (conn.h).
 *
 * Ownership: srv_t is the caller's (srv_free after the loop has finished);
 * it borrows the pool and the stats.
 */
#ifndef SIFT_SEARCHD_SERVER_H
#define SIFT_SEARCHD_SERVER_H

#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

#include "err.h"
#include "qlog.h"
#include "stats.h"
#include "workers.h"

#define SRV_MAX_LISTEN 8

typedef struct srv_config {
  struct sockaddr_storage tcp[SRV_MAX_LISTEN]; /* TCP listen addresses */
  size_t ntcp;
  const char *unix_path; /* NULL: no Unix socket */
  unsigned unix_mode;    /* permission bits of the socket file */
  const char *secret;    /* when set, a connection must AUTH before anything */
  qlog_t *qlog;          /* NULL: no query log (borrowed) */
  size_t max_line;
  size_t max_pipeline;
  size_t max_output;
  size_t max_connections;
  unsigned jobs_per_conn;
  unsigned idle_timeout_ms;     /* 0: none */
  unsigned linger_ms;           /* wait for the client's EOF after our last byte */
  unsigned shutdown_timeout_ms; /* force-close connections after SIGTERM */
  unsigned spin_us;             /* poll that long for a quick client's next request (server.c) */
} srv_config_t;

typedef struct srv srv_t;

/* NULL on ENOMEM.  cfg is copied (unix_path is borrowed). */
srv_t *srv_new(uv_loop_t *loop, const srv_config_t *cfg, st_t *st);
void srv_set_pool(srv_t *s, wrk_pool_t *pool);
/* Bind and listen on every configured address; logs "listening on ADDR"
 * for each.  Fatal faults (address in use, ...) come back with err set. */
int srv_listen(srv_t *s, err_t *err);
/* Run a request (loop thread): an idle server holds the iteration's only
 * request and answers it on the loop when it is cheap; anything else goes
 * to the workers.  Either way job->done(job, job->ud) gets it back on the
 * loop thread.  job->direct_fd must be -1 unless the job is a line-protocol
 * request. */
void srv_run(srv_t *s, wrk_job_t *job);
/* Stop accepting, answer every request already read, flush, close every
 * connection, then call done(arg).  A second call closes every connection
 * at once. */
void srv_shutdown(srv_t *s, void (*done)(void *arg), void *arg);
/* After the loop has ended: removes the Unix socket file, frees s. */
void srv_free(srv_t *s);

#endif
