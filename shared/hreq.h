/* hreq.h: an HTTP API request (GET path and query string) turned into the
 * line protocol's JSON-object request (proto.h), so that HTTP answers come
 * from the same command table, cache and workers as the line protocol's,
 * byte for byte.
 *
 * Called by searchd's HTTP front end (searchd/http.c) for every GET of an
 * API endpoint, and by its fuzz target.  Pure: no I/O, no global state.
 *
 * Mapping (SPEC.md "HTTP"):
 *   GET /search?q=gaza&outlet=NPR&outlet=CNN&limit=5&facets=outlet,month
 *   -> {"op":"search","q":"gaza","outlet":["NPR","CNN"],"limit":5,
 *       "facets":["outlet","month"]}
 *   - the path names the command: /search /count /timeline /explain /get
 *     /stats /ping /help (anything else is unknown_command);
 *   - every parameter becomes the member of the same name, in order of
 *     first appearance; a name given more than once becomes an array;
 *   - `+` is a space and %XX a byte (application/x-www-form-urlencoded);
 *     the decoded text must be UTF-8;
 *   - limit and offset become numbers when they are digits, exact and relax
 *     become true/false for true/false/yes/no/1/0, facets a list split at commas
 *     (or an object when an item carries a count: outlet:20,month:all);
 *     otherwise values stay strings, and proto.c judges them as it judges
 *     any JSON request (so unknown names and wrong types get its messages);
 *   - an empty value is the same as no parameter (an empty form field).
 * Errors name the byte of the query string (column, from 1) at fault.
 */
#ifndef SIFT_HREQ_H
#define SIFT_HREQ_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

#define HREQ_MAX_PARAMS 64

/* path: the request path without the query string ("/search"); query: the
 * text after '?' (may be empty).  Appends the JSON request (one line, no
 * line end) to out.  0, or ERR_UNKNOWN_COMMAND (no such endpoint),
 * ERR_BAD_REQUEST (malformed query string), ERR_NOMEM, with detail in err. */
int hreq_from_query(const char *path, size_t plen, const char *query, size_t qlen, buf_t *out,
                    err_t *err);

#endif
