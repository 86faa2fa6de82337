/* err.h: Sift's one list of error codes, and the error detail record.
 *
 * Every fallible function in Sift returns int: 0 on success, a negative
 * ERR_* code on failure, with results going through out pointers.  The list
 * below (an X-macro, after libuv's UV_ERRNO_MAP) generates the enum, the
 * constant names, the messages safe to log, and the protocol error code each
 * maps to (SPEC.md "Errors").  The protocol codes are a list of their own,
 * ERR_PROTO_MAP, whose order is the order STATS lists them in; counters
 * index them by err_proto_t, never by name.
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

/* X(NAME, protocol code string): SPEC.md's codes, in STATS order. */
#define ERR_PROTO_MAP(X) \
  X(BAD_REQUEST, "bad_request") \
  X(BAD_QUERY, "bad_query") \
  X(UNKNOWN_COMMAND, "unknown_command") \
  X(TOO_LONG, "too_long") \
  X(NOT_FOUND, "not_found") \
  X(TIMEOUT, "timeout") \
  X(BUSY, "busy") \
  X(UNAUTHORIZED, "unauthorized") \
  X(INTERNAL, "internal")

#define ERR__PROTO(name, str) ERR_P_##name,
typedef enum err_proto { ERR_PROTO_MAP(ERR__PROTO) ERR_P__COUNT } err_proto_t;
#undef ERR__PROTO

/* X(NAME, protocol code (ERR_P_*), constant message) */
#define ERR_MAP(X) \
  X(NOMEM, INTERNAL, "out of memory") \
  X(INVAL, BAD_REQUEST, "invalid argument") \
  X(BAD_REQUEST, BAD_REQUEST, "malformed request") \
  X(BAD_QUERY, BAD_QUERY, "malformed query") \
  X(UNKNOWN_COMMAND, UNKNOWN_COMMAND, "unknown command") \
  X(TOO_LONG, TOO_LONG, "input longer than the limit") \
  X(NOT_FOUND, NOT_FOUND, "not found") \
  X(TIMEOUT, TIMEOUT, "query took longer than the limit") \
  X(BUSY, BUSY, "server busy") \
  X(UNAUTHORIZED, UNAUTHORIZED, "authentication required") \
  X(BAD_INPUT, BAD_REQUEST, "bad input record") \
  X(IO, INTERNAL, "input/output error") \
  X(NO_INDEX, INTERNAL, "no Sift index at that path") \
  X(INDEX_FORMAT, INTERNAL, "index format not supported") \
  X(CORRUPT, INTERNAL, "index is corrupt") \
  X(LOCKED, INTERNAL, "index is locked by another writer") \
  X(MODIFIED, INTERNAL, "index was modified while reading; reopen") \
  X(OVER_BUDGET, INTERNAL, "query costs more than this thread may run") \
  X(SHARD, BUSY, "a shard of the index cannot be reached") \
  X(SHARD_TIMEOUT, TIMEOUT, "a shard of the index did not answer in time") \
  X(DISK_FULL, INTERNAL, "no space left on device") \
  X(XAPIAN, INTERNAL, "index library error") \
  X(INTERNAL, INTERNAL, "internal error")

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
/* The SPEC protocol code of an ERR_* code (ERR_P_INTERNAL for one not in
 * the list), and its string (bad_query, internal, ...). */
err_proto_t err_proto(int code);
const char *err_proto_name(err_proto_t p);
/* err_proto_name(err_proto(code)) */
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
