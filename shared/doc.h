/* doc.h: the article model, and the corpus record formats of SPEC.md.
 *
 * doc_parse_json() turns one JSON Lines record into a doc_t, enforcing the
 * contract: id required (string, 1..SCHEMA_MAX_ID bytes, no control
 * characters); title/url/author/outlet/lang/date/body strings when present;
 * tags an array of strings; unknown fields ignored; invalid UTF-8 repaired
 * (U+FFFD) before parsing; NUL characters in strings become spaces.  A bad
 * date does not reject the record: the date is dropped and date_warning says
 * why, so the indexer reports it and indexes the article undated.
 * doc_from_text() makes an article from a .txt file (id = relative path,
 * title = first non-empty line, body = the rest).
 *
 * Ownership: every string of a doc_t is NUL-terminated and lives in the arena
 * passed to the function that filled it.
 */
#ifndef SIFT_DOC_H
#define SIFT_DOC_H

#include <stddef.h>

#include "arena.h"
#include "buf.h"
#include "err.h"

typedef struct doc {
  const char *id;
  const char *outlet, *date, *title, *url, *author, *lang, *body; /* NULL: absent */
  const char **tags;
  size_t ntags;
  /* Derived from date (empty strings when undated): */
  char day[9];              /* "YYYYMMDD" */
  char sortkey[15];         /* "YYYYMMDDhhmmss" */
  const char *date_warning; /* set when a date was given but not understood */
} doc_t;

/* 0 and *d filled; ERR_BAD_INPUT with the reason in err (skip the record):
 * err->column is above 0 when the line is not a JSON object at all (the
 * byte of a syntax fault, or 1), 0 when it is an object with a bad field;
 * ERR_NOMEM. */
int doc_parse_json(const char *line, size_t len, arena_t *a, doc_t *d, err_t *err);
int doc_from_text(const char *relpath, const char *text, size_t len, arena_t *a, doc_t *d,
                  err_t *err);
/* 0 if s[0..n) may be an article id (1..SCHEMA_MAX_ID bytes, no control
 * character), else ERR_BAD_INPUT with the reason. */
int doc_check_id(const char *s, size_t n, err_t *err);

/* Parse a date as SPEC.md allows (YYYY-MM-DD or an ISO-8601 date-time with
 * or without offset, e.g. 2023-11-02T14:05:00Z, 2023-11-02 14:05+02:00).
 * Fills day ("YYYYMMDD") and sortkey ("YYYYMMDDhhmmss").  0, or -1 with a
 * short reason in *why. */
int doc_parse_date(const char *s, char day[9], char sortkey[15], const char **why);
/* 1 if y-m-d is a real calendar day (years 1..9999). */
int doc_valid_day(int y, int m, int d);

/* A copy of d in one malloc'ed block (free() it), for keeping an article
 * past its arena; *bytes (if not NULL) gets the block's size.  The copy's
 * date_warning is NULL.  NULL when out of memory. */
doc_t *doc_clone(const doc_t *d, size_t *bytes);

/* The GET form: {"id":...,"title":...,...}, absent fields omitted. */
void doc_write_json(const doc_t *d, buf_t *out);

#endif
