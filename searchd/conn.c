/* conn.c: see conn.h. */
#include "conn.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "listen.h"
#include "log.h"
#include "proto.h"

#define CONN_WBUF_KEEP (1u << 20) /* keep write buffers up to this size */
#define CONN_MAX_REJECTING 64     /* busy connections being answered at once */
#define CONN_STOP_LINGER_MS 500

typedef enum req_state { REQ_WAITING, REQ_RUNNING, REQ_DONE } req_state_t;

typedef struct req {
  wrk_job_t job; /* first member: the pool hands back &job */
  conn_t *conn;
  struct req *next;
  req_state_t state;
  uint64_t t0; /* uv_hrtime() when framed */
  char line[];
} req_t;

struct conn {
  conn_set_t *set;
  lsn_stream_t h;
  uv_timer_t timer; /* idle timeout, then linger */
  int open_handles;
  int linked;
  conn_t *prev, *next;   /* set->conns */
  conn_t *pprev, *pnext; /* set's pending list */
  int pending;
  uint64_t id;
  char peer[64];
  uint64_t nrequests;
  int authed; /* sent the right AUTH (or none is required) */

  frame_t in; /* input not yet framed */

  req_t *qhead, *qtail, *next_submit;
  size_t nreqs;      /* framed, response not yet moved to out */
  unsigned nrunning; /* at the workers, cancelled ones included */

  buf_t out, wbuf;
  uv_write_t wreq;
  uv_shutdown_t sreq;

  unsigned reading : 1;
  unsigned writing : 1;
  unsigned eof : 1;        /* the client closed its side */
  unsigned input_done : 1; /* frame no more lines */
  unsigned discard : 1;    /* read and drop input */
  unsigned finishing : 1;  /* close once every response is written */
  unsigned shut : 1;       /* uv_shutdown issued */
  unsigned lingering : 1;
  unsigned out_paused : 1;
  unsigned closing : 1;
  unsigned rejected : 1;
  unsigned draining : 1; /* server shutdown: answer what is buffered */
};

static void conn_progress(conn_t *c);
static void conn_close(conn_t *c);
static void conn_on_read(uv_stream_t *h, ssize_t nread, const uv_buf_t *b);
static void conn_job_done(wrk_job_t *job, void *ud);

/* ---- requests ---------------------------------------------------------- */

static void req_free(req_t *r) {
  wrk_job_fini(&r->job);
  free(r);
}

/* A request for line (copied), read once here (proto_read). */
static req_t *req_new(conn_t *c, const char *line, size_t len) {
  req_t *r = malloc(sizeof *r + len + 1);
  if (!r) return NULL;
  memset(r, 0, sizeof *r);
  memcpy(r->line, line, len);
  r->line[len] = '\0';
  wrk_job_init(&r->job, r->line, len, conn_job_done, c->set);
  r->conn = c;
  r->state = REQ_WAITING;
  r->t0 = uv_hrtime();
  if (c->qtail) c->qtail->next = r;
  else c->qhead = r;
  c->qtail = r;
  if (!c->next_submit) c->next_submit = r;
  c->nreqs++;
  c->nrequests++;
  return r;
}

/* Drop every queued request; those at a worker become orphans that
 * conn_job_done frees when they come back. */
static void conn_drop_requests(conn_t *c) {
  req_t *r = c->qhead;
  while (r) {
    req_t *next = r->next;
    if (r->state == REQ_RUNNING) {
      atomic_store(&r->job.cancelled, 1);
      r->next = NULL;
    } else {
      req_free(r);
    }
    r = next;
  }
  c->qhead = c->qtail = c->next_submit = NULL;
  c->nreqs = 0;
}

/* ---- the pending-input list -------------------------------------------- */

static void pending_add(conn_t *c) {
  conn_set_t *set = c->set;
  if (c->pending) return;
  c->pending = 1;
  c->pnext = NULL;
  c->pprev = set->ptail;
  if (set->ptail) set->ptail->pnext = c;
  else set->phead = c;
  set->ptail = c;
  set->npending++;
  set->wake(set->srv);
}

static void pending_remove(conn_t *c) {
  conn_set_t *set = c->set;
  if (!c->pending) return;
  if (c->pprev) c->pprev->pnext = c->pnext;
  else set->phead = c->pnext;
  if (c->pnext) c->pnext->pprev = c->pprev;
  else set->ptail = c->pprev;
  c->pprev = c->pnext = NULL;
  c->pending = 0;
  set->npending--;
}

/* Serve the connections that had more input than one wake-up's budget:
 * exactly those listed now (re-added ones wait for the next iteration). */
void conn_set_serve(conn_set_t *set) {
  size_t n = set->npending;
  while (n-- && set->phead) {
    conn_t *c = set->phead;
    pending_remove(c);
    conn_progress(c);
  }
}

/* ---- teardown ---------------------------------------------------------- */

static void conn_on_close(uv_handle_t *h) {
  conn_t *c = h->data;
  if (--c->open_handles > 0) return;
  conn_set_t *set = c->set;
  if (c->linked) {
    if (c->prev) c->prev->next = c->next;
    else set->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    if (c->rejected) {
      set->nrejecting--;
    } else {
      set->nconns--;
      st_conn_close(set->st);
      log_debug("connection %llu from %s closed after %llu requests", (unsigned long long)c->id,
                c->peer, (unsigned long long)c->nrequests);
    }
  }
  frame_release(&c->in);
  buf_fini(&c->out);
  buf_fini(&c->wbuf);
  free(c);
  set->freed(set->srv);
}

static void conn_release(conn_t *c) {
  uv_close(&c->h.handle, conn_on_close);
  uv_close((uv_handle_t *)&c->timer, conn_on_close);
}

/* Tear the connection down now: drop its requests and output, close its
 * handles as soon as no worker holds one of its requests. */
static void conn_close(conn_t *c) {
  if (c->closing) return;
  c->closing = 1;
  pending_remove(c);
  if (c->reading) uv_read_stop(&c->h.stream);
  c->reading = 0;
  uv_timer_stop(&c->timer);
  conn_drop_requests(c);
  if (c->nrunning == 0) conn_release(c);
}

/* ---- output ------------------------------------------------------------ */

static void conn_on_write(uv_write_t *w, int status);

static void conn_touch(conn_t *c);

static void buf_swap(buf_t *a, buf_t *b) {
  buf_t t = *a;
  *a = *b;
  *b = t;
}

static void conn_flush(conn_t *c) {
  if (c->closing || c->writing || c->out.len == 0) return;
  buf_swap(&c->out, &c->wbuf);
  uv_buf_t b = uv_buf_init(c->wbuf.data, (unsigned)c->wbuf.len);
  c->wreq.data = c;
  int rc = uv_write(&c->wreq, &c->h.stream, &b, 1, conn_on_write);
  if (rc) {
    log_debug("connection %llu: write: %s", (unsigned long long)c->id, uv_strerror(rc));
    conn_close(c);
    return;
  }
  c->writing = 1;
}

static void conn_on_write(uv_write_t *w, int status) {
  conn_t *c = w->data;
  c->writing = 0;
  if (c->wbuf.cap > CONN_WBUF_KEEP) {
    buf_fini(&c->wbuf);
    buf_init(&c->wbuf, 0);
  } else {
    buf_reset(&c->wbuf);
  }
  if (c->closing) return;
  if (status < 0) {
    log_debug("connection %llu: write: %s", (unsigned long long)c->id, uv_strerror(status));
    conn_close(c);
    return;
  }
  conn_touch(c);
  conn_progress(c);
}

/* Move one response to the output.  A response that is missing or broken
 * (out of memory in the worker) is replaced by an internal error, so every
 * request still gets exactly one line. */
static void conn_emit(conn_t *c, buf_t *resp) {
  if (resp->err || resp->len == 0 || resp->data[resp->len - 1] != '\n') {
    log_warn("connection %llu: a response could not be built; answering internal",
             (unsigned long long)c->id);
    buf_reset(resp);
    proto_write_error(resp, ERR_INTERNAL, "the response could not be built", 0);
  }
  if (c->out.len == 0) buf_swap(&c->out, resp);
  else buf_append(&c->out, resp->data, resp->len);
  if (c->out.err) {
    log_warn("connection %llu: out of memory for output", (unsigned long long)c->id);
    conn_close(c);
  }
}

/* Move the responses of the DONE requests at the head of the queue to the
 * output, in request order. */
static void conn_deliver(conn_t *c) {
  while (!c->closing && c->qhead && c->qhead->state == REQ_DONE) {
    req_t *r = c->qhead;
    c->qhead = r->next;
    if (!c->qhead) c->qtail = NULL;
    if (c->next_submit == r) c->next_submit = r->next;
    c->nreqs--;
    unsigned close_after = r->job.flags & PROTO_OUT_CLOSE;
    buf_t *resp = &r->job.out;
    if (r->job.sent) { /* the worker wrote this much of it (workers.h) */
      memmove(resp->data, resp->data + r->job.sent, resp->len - r->job.sent);
      resp->len -= r->job.sent;
    }
    if (!r->job.sent || resp->len) conn_emit(c, resp);
    req_free(r);
    if (close_after && !c->closing) {
      /* QUIT, too_long: nothing after this response is answered. */
      c->input_done = 1;
      c->discard = 1;
      c->finishing = 1;
      conn_drop_requests(c);
    }
  }
  if (c->out.len + c->wbuf.len >= c->set->cfg->max_output) c->out_paused = 1;
}

/* ---- input ------------------------------------------------------------- */

static void conn_too_long(conn_t *c) {
  conn_set_t *set = c->set;
  req_t *r = req_new(c, "", 0);
  if (!r) {
    conn_close(c);
    return;
  }
  char msg[96];
  snprintf(msg, sizeof msg, "request line longer than %zu bytes", set->cfg->max_line);
  proto_write_error(&r->job.out, ERR_TOO_LONG, msg, 0);
  r->job.rc = ERR_TOO_LONG;
  r->job.flags = PROTO_OUT_CLOSE;
  r->state = REQ_DONE;
  st_request(set->st, NULL, ERR_TOO_LONG, 0, 0);
  log_debug("connection %llu: request line too long", (unsigned long long)c->id);
  c->input_done = 1;
  c->discard = 1;
  frame_release(&c->in); /* input is dropped from now on */
}

/* A framed line becomes a request.  With a secret set, the AUTH gate
 * (proto_gate) answers it here on the loop when it is AUTH or comes before
 * the right AUTH, so the secret never reaches a worker, the cache or a log.
 * Without a secret, AUTH goes to the worker like any command. */
static req_t *conn_request(conn_t *c, const char *line, size_t len) {
  conn_set_t *set = c->set;
  req_t *r = req_new(c, line, len);
  if (!r || !set->cfg->secret) return r;
  int rc;
  if (!proto_gate(&r->job.req, set->cfg->secret, &c->authed, &r->job.out, &rc)) return r;
  if (rc)
    log_info("connection %llu: %s", (unsigned long long)c->id,
             r->job.req.cmd && (r->job.req.cmd->flags & PROTO_CMD_AUTH) ? "failed AUTH"
                                                                        : "request before AUTH");
  r->job.rc = rc;
  r->state = REQ_DONE;
  st_request(set->st, NULL, rc, 0, 0);
  return r;
}

/* Cut complete lines from the read buffer into requests, within the
 * pipeline cap, the output cap and the per-wake-up budget. */
static void conn_frame(conn_t *c) {
  size_t budget = CONN_FRAME_BUDGET;
  while (!c->closing && !c->input_done && !c->discard) {
    if (c->nreqs >= c->set->cfg->max_pipeline || c->out_paused) break;
    if (budget == 0) {
      pending_add(c); /* more next iteration, after the other clients */
      break;
    }
    const char *line;
    size_t len;
    frame_rc_t rc = frame_next(&c->in, c->eof, &line, &len);
    if (rc == FRAME_TOO_LONG) {
      conn_too_long(c);
      break;
    }
    if (rc == FRAME_MORE) {
      if (c->eof || c->draining) c->input_done = 1;
      break;
    }
    if (!conn_request(c, line, len)) {
      log_warn("connection %llu: out of memory for a request", (unsigned long long)c->id);
      conn_close(c);
      return;
    }
    budget--;
  }
}

static void conn_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  conn_t *c = h->data;
  conn_set_t *set = c->set;
  (void)suggested;
  if (c->discard) {
    *b = uv_buf_init(set->discard, sizeof set->discard);
    return;
  }
  size_t room;
  char *p = frame_room(&c->in, &room);
  *b = uv_buf_init(p, (unsigned)room);
}

static void conn_update_reading(conn_t *c) {
  int want = 0;
  if (!c->closing && !c->eof) {
    if (c->discard) want = 1;
    else
      want = !c->input_done && !c->draining && c->nreqs < c->set->cfg->max_pipeline &&
             !c->out_paused && !frame_full(&c->in);
  }
  if (want && !c->reading) {
    int rc = uv_read_start(&c->h.stream, conn_on_alloc, conn_on_read);
    if (rc) {
      log_debug("connection %llu: read: %s", (unsigned long long)c->id, uv_strerror(rc));
      conn_close(c);
      return;
    }
    c->reading = 1;
  } else if (!want && c->reading) {
    uv_read_stop(&c->h.stream);
    c->reading = 0;
  }
}

/* ---- timers ------------------------------------------------------------ */

static void conn_on_timer(uv_timer_t *t) {
  conn_t *c = t->data;
  if (c->closing) return;
  if (c->lingering) {
    conn_close(c);
    return;
  }
  if (c->nreqs == 0 && !c->writing && c->out.len == 0) {
    log_debug("connection %llu: idle timeout", (unsigned long long)c->id);
    conn_close(c);
    return;
  }
  conn_touch(c);
}

static void conn_touch(conn_t *c) {
  unsigned ms = c->set->cfg->idle_timeout_ms;
  if (ms && !c->lingering && !c->closing) uv_timer_start(&c->timer, conn_on_timer, ms, 0);
}

/* ---- the state machine ------------------------------------------------- */

static void conn_on_shutdown(uv_shutdown_t *r, int status) {
  conn_t *c = r->data;
  if (c->closing) return;
  if (status < 0 || c->eof) {
    conn_close(c);
    return;
  }
  /* Our side is closed; wait for the client's EOF, dropping its input. */
  c->lingering = 1;
  c->discard = 1;
  unsigned ms = c->set->stopping ? CONN_STOP_LINGER_MS : c->set->cfg->linger_ms;
  uv_timer_start(&c->timer, conn_on_timer, ms, 0);
  conn_update_reading(c);
}

static void conn_check_finish(conn_t *c) {
  if (c->closing) return;
  int flushed = c->nreqs == 0 && !c->writing && c->out.len == 0;
  if (!flushed) return;
  if (c->draining && c->input_done && !c->finishing) {
    c->finishing = 1;
    c->discard = 1;
  }
  if (c->eof && (c->input_done || c->finishing)) {
    conn_close(c);
    return;
  }
  if (c->finishing && !c->shut) {
    c->shut = 1;
    c->sreq.data = c;
    int rc = uv_shutdown(&c->sreq, &c->h.stream, conn_on_shutdown);
    if (rc) conn_close(c);
  }
}

/* r has its answer (from a worker or the loop's own engine): count and
 * log it; conn_deliver writes it out in turn. */
static void req_answered(conn_set_t *set, req_t *r, int on_loop) {
  wrk_job_t *job = &r->job;
  conn_t *c = r->conn;
  r->state = REQ_DONE;
  uint64_t us = (uv_hrtime() - r->t0) / 1000u;
  st_request(set->st, job->req.cmd, job->rc, us, on_loop);
  qlog_request(set->cfg->qlog, &job->req, &job->out, job->rc, us, 0);
  if (job->rc == ERR_TIMEOUT)
    log_info("connection %llu: query timed out after %llu us: %.100s", (unsigned long long)c->id,
             (unsigned long long)us, r->line);
  else if (job->rc && err_proto(job->rc) == ERR_P_INTERNAL)
    log_warn("connection %llu: %s answering: %.100s", (unsigned long long)c->id, err_name(job->rc),
             r->line);
}

/* r must be the oldest request without an answer and nothing be waiting to
 * be written, so its bytes are the next on the wire; and the connection in
 * its plain reading state. */
int conn_direct_fd(wrk_job_t *job) {
  if (job->done != conn_job_done) return -1;
  req_t *r = (req_t *)job;
  conn_t *c = r->conn;
  uv_os_fd_t fd;
  if (r != c->qhead || c->out.len || c->writing || c->closing || c->finishing || c->shut ||
      c->draining || uv_fileno(&c->h.handle, &fd) != 0)
    return -1;
  return fd;
}

static void conn_submit(conn_t *c) {
  conn_set_t *set = c->set;
  while (!c->closing && c->next_submit && c->nrunning < set->cfg->jobs_per_conn && !c->out_paused) {
    req_t *r = c->next_submit;
    c->next_submit = r->next;
    if (r->state != REQ_WAITING) continue;
    r->state = REQ_RUNNING;
    c->nrunning++;
    set->run(set->srv, &r->job);
  }
}

/* Re-evaluate everything after any event on the connection. */
static void conn_progress(conn_t *c) {
  if (c->closing) return;
  if (c->out_paused && c->out.len + c->wbuf.len < c->set->cfg->max_output / 2) c->out_paused = 0;
  conn_deliver(c);
  conn_frame(c);
  conn_submit(c);
  conn_deliver(c); /* a too_long answer may be first in line */
  conn_flush(c);
  if (c->closing) return;
  conn_update_reading(c);
  conn_check_finish(c);
}

static void conn_on_read(uv_stream_t *h, ssize_t nread, const uv_buf_t *b) {
  conn_t *c = h->data;
  (void)b;
  if (nread == 0 || c->closing) return;
  if (nread > 0) {
    if (c->discard) return; /* the bytes went to the discard buffer */
    frame_wrote(&c->in, (size_t)nread);
    conn_touch(c);
    conn_progress(c);
    return;
  }
  if (nread == UV_ENOBUFS) {
    if (!frame_full(&c->in)) { /* could not grow the buffer */
      log_warn("connection %llu: out of memory for input", (unsigned long long)c->id);
      conn_close(c);
      return;
    }
    uv_read_stop(&c->h.stream); /* full: wait until framing makes room */
    c->reading = 0;
    conn_progress(c);
    return;
  }
  if (nread == UV_EOF) {
    c->eof = 1;
    uv_read_stop(&c->h.stream);
    c->reading = 0;
    if (c->lingering) {
      conn_close(c);
      return;
    }
    conn_progress(c);
    return;
  }
  log_debug("connection %llu: read: %s", (unsigned long long)c->id, uv_strerror((int)nread));
  conn_close(c);
}

/* wrk_done_cb of the connections' jobs (ud is the set). */
static void conn_job_done(wrk_job_t *job, void *ud) {
  conn_set_t *set = ud;
  req_t *r = (req_t *)job;
  conn_t *c = r->conn;
  c->nrunning--;
  if (atomic_load(&job->cancelled)) { /* an orphan: its connection let go */
    req_free(r);
    if (c->closing && c->nrunning == 0) conn_release(c);
    else if (!c->closing) conn_progress(c);
    return;
  }
  req_answered(set, r, job->on_loop);
  conn_progress(c);
}

/* ---- accepting --------------------------------------------------------- */

static void conn_format_peer(conn_t *c, int is_tcp) {
  if (!is_tcp) {
    snprintf(c->peer, sizeof c->peer, "unix");
    return;
  }
  struct sockaddr_storage ss;
  int len = sizeof ss;
  if (uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss, &len) == 0)
    lsn_format_addr((struct sockaddr *)&ss, c->peer, sizeof c->peer);
  else snprintf(c->peer, sizeof c->peer, "?");
}

void conn_accept(conn_set_t *set, uv_stream_t *server, int status) {
  if (status < 0) {
    log_warn("accept: %s", uv_strerror(status));
    return;
  }
  conn_t *c = calloc(1, sizeof *c);
  if (!c) {
    log_error("accept: out of memory");
    return;
  }
  int is_tcp = server->type == UV_TCP;
  c->set = set;
  frame_init(&c->in, set->cfg->max_line);
  if (is_tcp) uv_tcp_init(set->loop, &c->h.tcp);
  else uv_pipe_init(set->loop, &c->h.pipe, 0);
  c->h.handle.data = c;
  c->open_handles = 1;
  buf_init(&c->out, 0);
  buf_init(&c->wbuf, 0);
  int rc = uv_accept(server, &c->h.stream);
  if (rc) {
    log_warn("accept: %s", uv_strerror(rc));
    uv_close(&c->h.handle, conn_on_close);
    return;
  }
  uv_timer_init(set->loop, &c->timer);
  c->timer.data = c;
  c->open_handles = 2;
  c->linked = 1;
  c->next = set->conns;
  if (set->conns) set->conns->prev = c;
  set->conns = c;
  c->id = ++set->next_id;
  if (is_tcp) uv_tcp_nodelay(&c->h.tcp, 1);
  conn_format_peer(c, is_tcp);

  if (set->nconns >= set->cfg->max_connections) {
    c->rejected = 1;
    set->nrejecting++;
    st_conn_rejected(set->st);
    if (set->nrejecting > CONN_MAX_REJECTING) {
      conn_close(c);
      return;
    }
    log_debug("connection %llu from %s refused: %zu connections", (unsigned long long)c->id,
              c->peer, set->nconns);
    proto_write_error(&c->out, ERR_BUSY, "too many connections", 0);
    c->input_done = 1;
    c->discard = 1;
    c->finishing = 1;
    conn_progress(c);
    return;
  }
  set->nconns++;
  st_conn_open(set->st);
  log_debug("connection %llu from %s", (unsigned long long)c->id, c->peer);
  conn_touch(c);
  conn_progress(c);
}
/* ---- the server's stop ------------------------------------------------- */

void conn_set_drain(conn_set_t *set) {
  set->stopping = 1;
  for (conn_t *c = set->conns; c; c = c->next) {
    if (c->closing) continue;
    c->draining = 1;
    conn_progress(c);
  }
}

void conn_set_close(conn_set_t *set) {
  for (conn_t *c = set->conns; c; c = c->next) conn_close(c);
}
