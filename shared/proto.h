/* proto.h: the line protocol of SPEC.md: one request line in, one JSON
 * response line out.
 *
 * This module owns the wire format.  It parses a request (the text form
 * `COMMAND args` with a case-insensitive command word, or a JSON object with
 * "op"), runs it through the command table against the engine, and writes
 * exactly one response line, '\n'-terminated.  searchd and sift-query's local
 * mode both call proto_handle(), so the daemon and the client in local mode
 * answer byte for byte alike (took_us aside).
 *
 * Requests:
 *   SEARCH <query>   {"ok":true,"total":N,"total_exact":B,"offset":O,"limit":L,
 *                     "took_us":T,"relaxed":true,"hits":[HIT...],"facets":{NAME:
 *                     [{"value":V,"count":C}...]}}   ("facets" only when asked,
 *                     "relaxed" only when the search was relaxed, eng.h)
 *                    plus "next":CURSOR when more hits follow (eng.h); with
 *                    collapse:copies "groups":G, and on each hit "copies":N,
 *                    "copy_outlets":[...]
 *   COUNT <query>    {"ok":true,"count":N}
 *   TIMELINE <query> {"ok":true,"total":N,"by":B,"from":D|null,"to":D|null,
 *                     "series":[{"date":P,"count":C,"all":A,"outlets":K}...],
 *                     "first":[{"id","date","outlet","title"}...]}
 *   GET <id>         {"ok":true,"doc":{...}}                    (not_found)
 *                    the doc with "copies":[ID...] when it has copies (dup.h)
 *   EXPLAIN <query>  {"ok":true,"parsed":TREE,"xapian":"Query(...)"}
 *   STATS            {"ok":true,"docs":N,"revision":R,...}
 *   PING / HELP / QUIT
 *   AUTH <secret>    {"ok":true} when no secret is set; with one (sift-searchd
 *                    --auth-file) the right secret, before anything else
 *                    (proto_gate); otherwise unauthorized
 * JSON form: {"op":"search","q":"...","outlet":"X" or [..],"author":..,
 *   "tag":..,"from":"YYYY[-MM[-DD]]","to":..,"limit":N,"offset":N,
 *   "sort":"newest","facets":["outlet","month"] or {"outlet":20},
 *   "exact":true,"match":"any","relax":false,"id":"..." (get), and the
 *   news options as strings, each read as NAME:VALUE in "q" would be:
 *   "now","since","halflife","by","collapse","like","after"}.  Fields
 *   given in JSON override the same option written inside "q" (since and
 *   now, which make a date condition, go in one place or the other);
 *   filters add to those in "q".
 * HIT: {"rank":R,"id":..,"score":S,"title":..,"title_html":..,"outlet":..,
 *   "date":..,"url":..,"snippet":..} with absent fields omitted; snippet and
 *   title_html (the title marked, present when something in it matched)
 *   mark as eng.h says.
 * Errors: {"ok":false,"error":{"code":CODE,"message":"..."}} with CODE from
 *   err_proto_code(); for a query error the message names the column and
 *   the object also carries "column":N, counted in bytes from 1 at the
 *   query's first byte (the text after the command word, or "q").
 *
 * A request is read once (proto_read) into a proto_req_t, at the edge: the
 * daemon's event loop reads it as it frames the line, and the value travels
 * to the worker that answers it (proto_answer) and back to the loop for the
 * statistics and the query log, none of which reads the line again.  AUTH
 * is answered in one place, proto_gate: the daemon calls it on the loop when
 * it holds a secret (so the secret never reaches a worker, the cache or a
 * log), proto_answer calls it otherwise.
 *
 * Ownership: proto_read borrows the line, which must outlive the request
 * (arg points into it); proto_req_fini frees what the request owns.
 * proto_answer appends to out (the caller's buffer) and uses the context's
 * arena, which it resets at the start of each request.
 */
#ifndef SIFT_PROTO_H
#define SIFT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "eng.h"
#include "err.h"
#include "qp.h"

#define PROTO_MAX_LINE (64 * 1024)

/* Flags reported back to the caller of proto_handle. */
#define PROTO_OUT_CLOSE 1 /* close the connection after this response */
#define PROTO_OUT_TODAY \
  2 /* the answer counted from today (qp_uses_today): it
                             holds for the day it was computed on only */

/* Command flags in the table. */
#define PROTO_CMD_ENGINE 1 /* needs the engine (runs on a worker thread) */
#define PROTO_CMD_QUERY 2  /* its argument is a query (SEARCH, COUNT, EXPLAIN) */
#define PROTO_CMD_CACHE \
  4 /* its answer depends only on the request and the
                              index revision, and the day for an answer
                              flagged PROTO_OUT_TODAY (searchd may cache it) */
#define PROTO_CMD_AUTH \
  8                        /* AUTH: answered by proto_gate; its argument is a
                              secret, never cached or logged */
#define PROTO_CMD_CLOSE 16 /* QUIT: the connection closes after its answer */

typedef struct proto_ctx proto_ctx_t;

/* A request, from either form, read once.  cmd is the command the line
 * names even when the request is wrong (the daemon counts it under that
 * command); rc says whether it can be run. */
typedef struct proto_req {
  const struct proto_command *cmd; /* NULL: the line names no command */
  int rc;                          /* 0, or the ERR_* it is answered with */
  err_t err;                       /* rc's detail */
  const char *arg;                 /* text form: the text after the command word, trimmed,
                      in the line; JSON form: GET's "id" */
  size_t len;
  struct json_t *json; /* JSON form: the object (owned), else NULL */
  qp_query_t *q;       /* PROTO_CMD_QUERY commands: the parsed query, set by
                      proto_answer in the context's arena */
} proto_req_t;

/* Hooks searchd fills to add its own figures; NULL members are skipped. */
typedef struct proto_hooks {
  /* Append extra STATS members ("key":value pairs, separators handled by
   * buf_json_*) to out. */
  void (*stats)(void *ud, buf_t *out);
  void *ud;
} proto_hooks_t;

typedef struct proto_command {
  const char *name; /* upper case */
  int needs_arg;    /* 1: an argument is required, 0: none allowed, -1: optional */
  unsigned flags;
  /* Writes the whole success response to out, or returns an error. */
  int (*handler)(proto_ctx_t *ctx, const proto_req_t *req, buf_t *out, err_t *err);
  const char *usage;
  const char *help;
} proto_command_t;

/* The command table, for HELP and for searchd's dispatch decisions. */
const proto_command_t *proto_commands(size_t *n);
/* The command named name (len bytes, any case), or NULL. */
const proto_command_t *proto_find_command(const char *name, size_t len);

/* A context: one per thread (holds the arena and borrows the engine). */
proto_ctx_t *proto_ctx_new(eng_t *eng, const proto_hooks_t *hooks);
void proto_ctx_free(proto_ctx_t *ctx);

/* Read one request line (without its '\n'; a trailing '\r' is ignored)
 * into r: its command, its argument and, for the JSON form, the object.
 * Checks what needs no engine and no query parser (UTF-8, the command, its
 * argument's presence, the JSON form's fields and "id").  Returns r->rc.
 * Always follow with proto_req_fini. */
int proto_read(const char *line, size_t len, proto_req_t *r);
/* Free what r owns (accepts a zeroed r); r is zeroed. */
void proto_req_fini(proto_req_t *r);

/* The authentication gate.  With secret NULL it answers only a well-formed
 * AUTH ({"ok":true}: no secret is set).  With a secret it answers AUTH
 * (ok, and *authed set, when its argument is the secret; unauthorized
 * otherwise) and, while *authed is 0, every other request (unauthorized).
 * Returns 1 when it answered (one line appended to out, *rc the ERR_* code
 * answered), 0 when the request goes on to proto_answer. */
int proto_gate(const proto_req_t *r, const char *secret, int *authed, buf_t *out, int *rc);
/* 1 if given (len bytes) equals the NUL-terminated secret, in time
 * independent of where they differ. */
int proto_secret_equal(const char *secret, const char *given, size_t len);

/* Answer a request read by proto_read (r->rc set: its error).  Appends one
 * response line to out.  *flags gets PROTO_OUT_* bits.  Returns 0, or the
 * ERR_* code that was answered as an error response (the response is
 * written either way) -- except ERR_OVER_BUDGET (the engine's max_cost,
 * eng.h), which answers nothing: out is left as it was, for the caller to
 * run the request on an engine without a budget.  May be called again on
 * the same r (a retry after a reopen). */
int proto_answer(proto_ctx_t *ctx, proto_req_t *r, buf_t *out, unsigned *flags);
/* proto_read, proto_answer and proto_req_fini of one line (sift-query's
 * local mode and the fuzzers). */
int proto_handle(proto_ctx_t *ctx, const char *line, size_t len, buf_t *out, unsigned *flags);
/* An error response line for code (used for too_long, busy, timeout ...). */
void proto_write_error(buf_t *out, int code, const char *message, int column);

#endif
