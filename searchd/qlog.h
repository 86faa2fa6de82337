/* qlog.h: the query log (--query-log FILE, --slow-ms N): one JSON line per
 * answered request, for audits and for finding slow queries:
 *
 *   {"time":"2026-12-03T10:00:00.123Z","command":"search","query":"gaza",
 *    "total":1234,"took_us":850,"code":"bad_query","proto":"http"}
 *
 * time is when the answer was ready (UTC); command is the command word in
 * lower case ("other" when none could be read); query the query text (the
 * text after the command word, or the JSON request's "q"; GET's id), absent
 * when the request has none; total the answer's "total" or "count", absent
 * on errors and other commands; code the error code, absent on success;
 * proto "line" or "http".  AUTH's argument is never logged (the command
 * table flags it PROTO_CMD_AUTH), so the secret never reaches the file.
 *
 * Each line is written with one write() on an O_APPEND descriptor: lines
 * never interleave and a rotated file is simply reopened (qlog_reopen, on
 * SIGHUP).  Loop thread only.
 */
#ifndef SIFT_SEARCHD_QLOG_H
#define SIFT_SEARCHD_QLOG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "proto.h"

typedef struct qlog qlog_t;

/* Open (create, append) path; lines only for requests of at least slow_us. */
int qlog_open(const char *path, uint64_t slow_us, qlog_t **out, err_t *err);
/* Reopen the same path (after log rotation); a failure is logged and the
 * old file kept. */
void qlog_reopen(qlog_t *q);
/* One answered request: the request as proto_read read it, the answer, its
 * error code (0: ok), its latency; http: 1 for HTTP.  q may be NULL (no
 * log). */
void qlog_request(qlog_t *q, const proto_req_t *req, const buf_t *answer, int rc, uint64_t took_us,
                  int http);
void qlog_close(qlog_t *q); /* accepts NULL */

#endif
