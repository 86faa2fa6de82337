/* workers.h: the pool of threads that answer requests off the event loop.
 *
 * Each worker thread owns one eng_t (its read-only index handle) and one
 * proto_ctx_t, and answers jobs with proto_answer(), from the request the
 * front end read when it made the job (wrk_job_init): the loop never touches
 * the index, so a slow query delays only the requests queued behind it on
 * that thread.  Jobs wait in one FIFO queue (mutex + condition variable);
 * finished jobs go to a done list and a uv_async_t wakes the loop, which
 * calls the done callback for each, in the loop thread.
 *
 * Index updates: wrk_request_reload() bumps a generation counter; a worker
 * whose generation is behind calls eng_reopen() before its next job, so a
 * new revision is picked up without failing a request.  A request answered
 * with ERR_MODIFIED (the revision it read was recycled under it) is retried
 * after a reopen, twice at most.
 *
 * Cache: lines of the commands flagged PROTO_CMD_CACHE (SEARCH, COUNT,
 * GET) are looked up in the cache (when there is one) under the worker's
 * current revision and today's date before they are run, and their
 * successful answers stored (an answer counted from today, proto.h's
 * PROTO_OUT_TODAY, for that day only: cache.h).
 *
 * Direct answers: a job whose direct_fd the loop set (it is the oldest
 * unanswered request of its connection, and nothing is waiting to be
 * written there) has its answer sent by the worker, with one non-blocking
 * send(), as soon as it is built: the client does not wait for the loop to
 * wake up and write it.  job->sent says how much went out; the loop writes
 * the rest, if any, and does its bookkeeping as for any job.
 *
 * Answers on the loop thread: handing a request to a worker costs a thread
 * wake-up, which on a virtual machine is most of a cheap query's latency.
 * So when no job is queued or running, wrk_run_here() answers the request
 * on the calling (loop) thread with the pool's own extra engine, whose
 * limits carry a cost budget (eng.h max_cost): a request estimated costlier
 * is declined before any matching and goes to the workers as usual, so a
 * slow query never holds the loop.  Under load the queue is rarely empty
 * and the workers answer nearly everything.
 *
 * Front ends: the line protocol's connections (conn.c) and HTTP (http.c)
 * submit jobs alike, through the server's srv_run (server.c); each job
 * names the callback that gets it back (job->done), so the pool does not
 * know who asked.
 *
 * Ownership: a submitted job belongs to the pool until its done callback
 * gets it back; job->line must stay valid until wrk_job_fini (job->req
 * points into it).  The pool borrows the
 * cache and the stats, which must outlive it.
 */
#ifndef SIFT_SEARCHD_WORKERS_H
#define SIFT_SEARCHD_WORKERS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"
#include "cache.h"
#include "eng.h"
#include "err.h"
#include "proto.h"
#include "stats.h"

typedef struct wrk_pool wrk_pool_t;
typedef struct wrk_job wrk_job_t;

/* Runs on the loop thread for every finished job. */
typedef void (*wrk_done_cb)(wrk_job_t *job, void *ud);

struct wrk_job {
  struct wrk_job *next; /* queue link (the pool's while submitted) */
  const char *line;     /* request line, without its line end (the
                                    cache's key) */
  size_t len;
  proto_req_t req; /* the request, read from line once */
  buf_t out;       /* the response line */
  unsigned flags;  /* PROTO_OUT_* */
  int rc;          /* ERR_* answered, 0 on success */
  int cache_hit;
  atomic_int cancelled; /* set by the loop: skip, answer nothing */
  int direct_fd;        /* >= 0: write the answer to this socket
                                    here (the loop owes nothing before it) */
  size_t sent;          /* bytes of out written to direct_fd */
  int on_loop;          /* answered by wrk_run_here */
  wrk_done_cb done;     /* set by the submitter: gets the job back */
  void *ud;             /* its argument */
};

/* Zero job, read line (len bytes, borrowed until wrk_job_fini) into
 * job->req, and name the callback that gets the job back. */
void wrk_job_init(wrk_job_t *job, const char *line, size_t len, wrk_done_cb done, void *ud);
/* Free what the job owns (its answer and its request). */
void wrk_job_fini(wrk_job_t *job);

typedef struct wrk_config {
  const char *const *indexes; /* read as one index (eng_open_set) */
  size_t nindexes;
  eng_limits_t limits;
  unsigned threads;
  uint64_t inline_budget; /* the loop engine's max_cost; 0: never answer there */
  cache_t *cache;         /* NULL: no cache */
  st_t *st;
} wrk_config_t;

/* Open one engine per thread (a fault here is fatal: err says why), then
 * start the threads.  Each finished job goes back to its job->done on
 * loop's thread. */
int wrk_pool_new(uv_loop_t *loop, const wrk_config_t *cfg, wrk_pool_t **out, err_t *err);
void wrk_submit(wrk_pool_t *p, wrk_job_t *job);
/* 1 if the pool has a loop engine and no submitted job is queued or
 * running (loop thread). */
int wrk_idle(wrk_pool_t *p);
/* 1 if a submitted job is queued or running (loop thread). */
int wrk_busy(wrk_pool_t *p);
/* Until uv_hrtime() reaches until, keep one idle worker polling for jobs
 * instead of sleeping (the loop polls as well: server.c, "Polling instead
 * of sleeping"): a job then needs no wake-up, and the worker's CPU does
 * not halt, so a client woken there resumes without the hypervisor. */
void wrk_poll(wrk_pool_t *p, uint64_t until);
/* On the loop thread: answer job here if the pool is idle and the request
 * within the budget (see "Answers on the loop thread").  1: answered, job
 * filled as a worker would have, on_loop set (job->done is not
 * called); 0: not run, submit it. */
int wrk_run_here(wrk_pool_t *p, wrk_job_t *job);
/* Ask every worker to reopen the index before its next job. */
void wrk_request_reload(wrk_pool_t *p);
/* Finish queued jobs, join the threads, deliver what is left, then close
 * the async handle; the pool frees itself in its close callback.  Must be
 * followed by running the loop. */
void wrk_pool_stop(wrk_pool_t *p);

#endif
