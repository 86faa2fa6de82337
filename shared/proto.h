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
 *   AUTH <secret>    {"ok":true}; the daemon checks the secret itself when it
 *                    has one (searchd/server.c), else any secret is accepted
 * JSON form: {"op":"search","q":"...","outlet":"X" or [..],"author":..,
 *   "tag":..,"from":"YYYY[-MM[-DD]]","to":..,"limit":N,"offset":N,
 *   "sort":"newest","facets":["outlet","month"] or {"outlet":20},
 *   "exact":true,"match":"any","relax":false,"id":"..." (get)}.  Fields
 *   given in JSON override the same option written inside "q"; filters add
 *   to those in "q".
 * HIT: {"rank":R,"id":..,"score":S,"title":..,"title_html":..,"outlet":..,
 *   "date":..,"url":..,"snippet":..} with absent fields omitted; snippet and
 *   title_html (the title marked, present when something in it matched)
 *   mark as eng.h says.
 * Errors: {"ok":false,"error":{"code":CODE,"message":"..."}} with CODE from
 *   err_proto_code(); for a query error the message names the column and
 *   the object also carries "column":N, counted in bytes from 1 at the
 *   query's first byte (the text after the command word, or "q").
 *
 * Ownership: proto_handle appends to out (the caller's buffer) and uses the
 * context's arena, which it resets at the start of each request.
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

/* Command flags in the table. */
#define PROTO_CMD_ENGINE 1 /* needs the engine (runs on a worker thread) */
#define PROTO_CMD_QUERY 2  /* its argument is a query (SEARCH, COUNT, EXPLAIN) */
#define PROTO_CMD_CACHE 4  /* its answer depends only on the request and the
                              index revision (searchd may cache it) */

typedef struct proto_ctx proto_ctx_t;

/* A request, from either form, as the handlers see it. */
typedef struct proto_req {
  const struct proto_command *cmd;
  const char *arg; /* text after the command word, trimmed (GET: the id) */
  size_t len;
  qp_query_t *q;   /* PROTO_CMD_QUERY commands: the parsed query */
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
  int needs_arg; /* 1: an argument is required, 0: none allowed, -1: optional */
  unsigned flags;
  /* Writes the whole success response to out, or returns an error. */
  int (*handler)(proto_ctx_t *ctx, const proto_req_t *req, buf_t *out, err_t *err);
  const char *usage;
  const char *help;
} proto_command_t;

/* The command table, for HELP and for searchd's dispatch decisions. */
const proto_command_t *proto_commands(size_t *n);
/* The command a request line names (text or JSON), or NULL. */
const proto_command_t *proto_lookup(const char *line, size_t len);

/* A context: one per thread (holds the arena and borrows the engine). */
proto_ctx_t *proto_ctx_new(eng_t *eng, const proto_hooks_t *hooks);
void proto_ctx_free(proto_ctx_t *ctx);
void proto_ctx_set_engine(proto_ctx_t *ctx, eng_t *eng);

/* Answer one request line (without its '\n'; a trailing '\r' is ignored).
 * Appends one response line to out.  *flags gets PROTO_OUT_* bits.  Returns
 * 0, or the ERR_* code that was answered as an error response (the response
 * is written either way) -- except ERR_OVER_BUDGET (the engine's max_cost,
 * eng.h), which answers nothing: out is left as it was, for the caller to
 * run the request on an engine without a budget. */
int proto_handle(proto_ctx_t *ctx, const char *line, size_t len, buf_t *out, unsigned *flags);
/* An error response line for code (used for too_long, busy, timeout ...). */
void proto_write_error(buf_t *out, int code, const char *message, int column);

#endif
