/* buf.h: growable byte buffer with a size cap, and the JSON writer.
 *
 * Responses, stored documents and any other output are built in a buf_t.
 * Errors are sticky (SQLite FTS5's pRc pattern): once an append fails (out of
 * memory or over the cap) every later append is a no-op and buf->err keeps
 * ERR_NOMEM or ERR_TOO_LONG, so a writer checks once at the end.
 *
 * The JSON helpers write RFC 8259 text.  Strings are escaped, and bytes that
 * are not valid UTF-8 are written as U+FFFD, so the output is always valid
 * JSON whatever the input.  They write separators themselves: buf_json_key()
 * and the value writers insert a ',' when the previous byte is a value.
 *
 * Ownership: the buffer owns data; buf_fini() frees it.  data is always
 * NUL-terminated after a successful append (not counted in len).
 */
#ifndef SIFT_BUF_H
#define SIFT_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "utf8.h" /* callers validate outside text before writing it */

typedef struct buf {
  char *data;
  size_t len, cap;
  size_t max; /* 0: no cap */
  int err;    /* sticky: 0, ERR_NOMEM or ERR_TOO_LONG */
} buf_t;

void buf_init(buf_t *b, size_t max);
void buf_fini(buf_t *b);
/* Empty the buffer and clear its error; keeps the allocation. */
void buf_reset(buf_t *b);
int buf_reserve(buf_t *b, size_t extra);
int buf_append(buf_t *b, const void *p, size_t n);
int buf_puts(buf_t *b, const char *s);
int buf_putc(buf_t *b, char c);
int buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* v in decimal at out (room for 20 bytes, not NUL-terminated); its length. */
size_t buf_fmt_uint(char *out, uint64_t v);

/* JSON writing.  Objects and arrays: open, then keys/values, then close. */
void buf_json_open(buf_t *b, char brace);  /* '{' or '[' */
void buf_json_close(buf_t *b, char brace); /* '}' or ']' */
void buf_json_key(buf_t *b, const char *key);
void buf_json_str(buf_t *b, const char *s, size_t n); /* escaped string value */
void buf_json_cstr(buf_t *b, const char *s);          /* NUL-terminated; NULL: null */
/* Escaped string contents without quotes or separator (for composing). */
void buf_json_escape(buf_t *b, const char *s, size_t n);
void buf_json_int(buf_t *b, int64_t v);
void buf_json_double(buf_t *b, double v);
void buf_json_bool(buf_t *b, int v);
void buf_json_null(buf_t *b);

/* Copy s into b replacing each invalid UTF-8 sequence (utf8.h) by U+FFFD. */
int utf8_repair(buf_t *b, const char *s, size_t n);

#endif
