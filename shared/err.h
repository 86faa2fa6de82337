/* err.h: Sift's one list of error codes, and the error detail record.
 *
 * Every fallible function in Sift returns int: 0 on success, a negative
 * ERR_* code on failure, with results going through out pointers.  The list
 * below (an X-macro, after libuv's UV_ERRNO_MAP) generates the enum, the
 * constant names, the messages safe to log, and the protocol error code each
 * maps to (SPEC.md "Errors").
 *
 * An err_t carries the detail: the code, a formatted message and, for input
 * that has a position (a query, a request line), the 1-based column of the
 * fault.  err_set() is sticky: the first error recorded wins, so a multi-step
 * builder reports the root cause rather than its consequences.
 */
#ifndef SIFT_ERR_H
#define SIFT_ERR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, protocol code, constant message) */
#define ERR_MAP(X)                                                        \
  X(NOMEM, "internal", "out of memory")                                   \
  X(INVAL, "bad_request", "invalid argument")                             \
  X(BAD_REQUEST, "bad_request", "malformed request")                      \
  X(BAD_QUERY, "bad_query", "malformed query")                            \
  X(UNKNOWN_COMMAND, "unknown_command", "unknown command")                \
  X(TOO_LONG, "too_long", "input longer than the limit")                  \
  X(NOT_FOUND, "not_found", "not found")                                  \
  X(TIMEOUT, "timeout", "query took longer than the limit")               \
  X(BUSY, "busy", "server busy")                                          \
  X(UNAUTHORIZED, "unauthorized", "authentication required")              \
  X(BAD_INPUT, "bad_request", "bad input record")                         \
  X(IO, "internal", "input/output error")                                 \
  X(NO_INDEX, "internal", "no Sift index at that path")                   \
  X(INDEX_FORMAT, "internal", "index format not supported")               \
  X(CORRUPT, "internal", "index is corrupt")                              \
  X(LOCKED, "internal", "index is locked by another writer")              \
  X(MODIFIED, "internal", "index was modified while reading; reopen")     \
  X(OVER_BUDGET, "internal", "query costs more than this thread may run") \
  X(SHARD, "busy", "a shard of the index cannot be reached")            \
  X(SHARD_TIMEOUT, "timeout", "a shard of the index did not answer in time") \
  X(DISK_FULL, "internal", "no space left on device")                     \
  X(XAPIAN, "internal", "index library error")                            \
  X(INTERNAL, "internal", "internal error")

#define ERR__INDEX(name, proto, msg) ERR__I_##name,
enum err__index { ERR_MAP(ERR__INDEX) ERR__COUNT };
#undef ERR__INDEX

#define ERR__ENUM(name, proto, msg) ERR_##name = -1 - ERR__I_##name,
enum err_code { ERR_OK = 0, ERR_MAP(ERR__ENUM) };
#undef ERR__ENUM

typedef struct err {
  int code;      /* 0 or an ERR_* code */
  int column;    /* 1-based column (byte) of the fault in its input, 0 if none */
  char msg[256]; /* formatted detail; "" when none */
} err_t;

/* "ERR_BAD_QUERY" style name; "ERR_OK" for 0; "ERR_UNKNOWN" otherwise. */
const char *err_name(int code);
/* The constant message for a code (safe to log). */
const char *err_str(int code);
/* The SPEC protocol code (bad_query, internal, ...) for an ERR_* code. */
const char *err_proto_code(int code);

/* Record an error unless one is recorded already (sticky first error).
 * Returns the code of the error now held in e (so `return err_set(...)`).
 * e may be NULL, then it just returns code. */
int err_set(err_t *e, int code, int column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void err_clear(err_t *e);
/* The detail if there is one, else the constant message. */
const char *err_message(const err_t *e);

#ifdef __cplusplus
}
#endif
#endif
