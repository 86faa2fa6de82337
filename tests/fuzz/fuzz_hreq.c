/* fuzz_hreq.c: HTTP paths and query strings through hreq_from_query.
 *
 * The input is "PATH?QUERY" (no '?': all path).  Whatever the bytes, the
 * answer is either an error with a code hreq.h lists, or one JSON object
 * (checked with jansson) whose "op" is the path's endpoint and which holds
 * no line end, so it travels as one request line. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  const char *q = memchr(s, '?', size);
  size_t plen = q ? (size_t)(q - s) : size;
  buf_t out;
  buf_init(&out, 0);
  err_t err;
  err_clear(&err);
  int rc = hreq_from_query(s, plen, q ? q + 1 : "", q ? size - plen - 1 : 0, &out, &err);
  if (rc) {
    if (rc != ERR_UNKNOWN_COMMAND && rc != ERR_BAD_REQUEST && rc != ERR_NOMEM) abort();
    if (rc == ERR_BAD_REQUEST && (err.column < 1 || (size_t)err.column > size)) abort();
  } else {
    if (memchr(out.data, '\n', out.len) || memchr(out.data, '\r', out.len)) abort();
    json_t *o = json_loadb(out.data, out.len, 0, NULL);
    if (!json_is_object(o) || !json_is_string(json_object_get(o, "op"))) abort();
    const char *op = json_string_value(json_object_get(o, "op"));
    /* the endpoint is the path without its leading '/' (which may lack) */
    size_t skip = plen && s[0] == '/';
    if (strlen(op) != plen - skip || memcmp(op, s + skip, plen - skip) != 0) abort();
    json_decref(o);
  }
  buf_fini(&out);
  return 0;
}
