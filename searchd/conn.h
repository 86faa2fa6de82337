/* conn.h: one line-protocol connection's life: reading, framing lines into
 * requests, the connection's queue of requests, writing their answers in
 * request order, finishing and closing.
 *
 * The server (server.c) owns a conn_set_t, the connections' shared state,
 * and hands it every connection its listeners accept (conn_accept).  From
 * then on the connection runs itself on the loop's events; it calls back
 * into the server only through the set's hooks: to run a request (the
 * server's srv_run, which holds an idle server's only request for the loop
 * or gives it to the workers), to have conn_set_serve called at the next
 * loop iteration, and to say that a connection was freed.
 *
 * A connection's life (all on the loop thread):
 *
 *   accept -> reading: bytes land in the framer (frame.h); complete lines
 *     become requests, at most CONN_FRAME_BUDGET per wake-up (the rest wait
 *     on the set's pending list, served by conn_set_serve next iteration);
 *   requests queue per connection in arrival order; at most jobs_per_conn of
 *     them are at the workers at once; a finished one is DONE, and DONE
 *     requests at the head of the queue move their responses to the output;
 *   the output is written with one uv_write at a time, so a burst of
 *     pipelined responses leaves in few writes;
 *   finishing (QUIT, too_long, busy, server shutdown): when the last
 *     response is written, uv_shutdown sends FIN, input is read and dropped
 *     until the client's EOF or linger_ms (closing with unread input would
 *     send RST and could destroy the response in flight), then close;
 *   closing: every request is dropped; those still at a worker are marked
 *     cancelled and the connection waits for them to come back before it
 *     closes its handles; it is freed in the last close callback.
 *
 * Pausing: reading stops while the pipeline is full, the output is over its
 * cap, the input buffer is full, or the server is draining; every event
 * re-evaluates the connection's whole state, so every pause ends by itself
 * when its cause does.  The limits themselves are srv_config_t's
 * (server.h).
 *
 * Ownership: the set is its server's and must outlive every connection (the
 * server stops only once set->conns is empty); it borrows the config and the
 * stats.  A connection belongs to the set from conn_accept until its last
 * handle's close callback frees it; its requests are wrk_job_t's that
 * belong to the pool while submitted and come back through their done
 * callback (which frees those whose connection let go).  Loop thread only.
 */
#ifndef SIFT_SEARCHD_CONN_H
#define SIFT_SEARCHD_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "server.h"
#include "stats.h"
#include "workers.h"

#define CONN_FRAME_BUDGET 64    /* lines framed per connection per wake-up */
#define CONN_DISCARD_SIZE 65536 /* the buffer dropped input is read into */

typedef struct conn conn_t;

typedef struct conn_set {
  /* Set by the server before its first connection. */
  uv_loop_t *loop;
  const srv_config_t *cfg; /* the limits, the secret, the query log */
  st_t *st;
  srv_t *srv;                              /* the hooks' argument */
  void (*run)(srv_t *srv, wrk_job_t *job); /* a request's turn to be answered */
  void (*wake)(srv_t *srv);                /* call conn_set_serve next iteration */
  void (*freed)(srv_t *srv);               /* a connection was freed */

  /* The connections' own; the server reads conns (NULL: none left) and
   * phead (NULL: none pending). */
  conn_t *conns;         /* every connection not yet freed */
  conn_t *phead, *ptail; /* pending: more input than one wake-up's budget */
  size_t npending;
  size_t nconns, nrejecting; /* served, and being answered busy */
  uint64_t next_id;
  int stopping; /* conn_set_drain was called */
  char discard[CONN_DISCARD_SIZE];
} conn_set_t;

/* A listener's connection callback (status as libuv gives it): accept the
 * connection into set, or answer it busy past max_connections. */
void conn_accept(conn_set_t *set, uv_stream_t *listener, int status);
/* Frame more of the connections that were pending when called (those that
 * become pending again wait for the next call). */
void conn_set_serve(conn_set_t *set);
/* Server shutdown: every connection answers what it has read, flushes and
 * finishes; lingering is short from now on. */
void conn_set_drain(conn_set_t *set);
/* Close every connection now. */
void conn_set_close(conn_set_t *set);
/* The socket the worker may answer job on itself (workers.h, "Direct
 * answers"), or -1; always -1 for a job that is not a connection's (an HTTP
 * answer goes through the HTTP library). */
int conn_direct_fd(wrk_job_t *job);

#endif
