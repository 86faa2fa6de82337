/* fuzz_ids.c: the id list of sift-indexer --delete (idx_ids_parse) against a
 * plain reading of the same bytes.
 *
 * Success must give ids that are non-empty, at most SCHEMA_MAX_ID bytes,
 * free of white space at either end, of control characters and of NUL,
 * valid UTF-8 and distinct, with ids + repeats = the lines that are not
 * blank; a failure must name a line that exists and keep nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "idx.h"
#include "schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *text = (const char *)data;
  size_t lines = 0, nonblank = 0;
  for (size_t pos = 0; pos < size;) { /* the reference: lines, and those not blank */
    const char *nl = memchr(text + pos, '\n', size - pos);
    size_t end = nl ? (size_t)(nl - text) : size;
    int blank = 1;
    for (size_t i = pos; i < end && blank; i++) blank = strchr(" \t\r\v\f", text[i]) && text[i];
    lines++;
    nonblank += !blank;
    pos = end + 1;
  }
  idx_ids_t l;
  size_t bad = 0;
  err_t err = {0};
  idx_ids_init(&l);
  int rc = idx_ids_parse(&l, text, size, &bad, &err);
  if (rc) {
    if ((rc != ERR_BAD_INPUT && rc != ERR_NOMEM) ||
        (rc == ERR_BAD_INPUT && (bad < 1 || bad > lines)) || l.n)
      abort();
    return 0;
  }
  if (l.n + l.dups != nonblank) abort();
  for (size_t i = 0; i < l.n; i++) {
    const char *s = l.ids[i];
    size_t n = strlen(s);
    if (!n || n > SCHEMA_MAX_ID || strchr(" \t\r\v\f", s[0]) || strchr(" \t\r\v\f", s[n - 1]) ||
        !utf8_valid(s, n) || l.removed[i])
      abort();
    for (size_t k = 0; k < n; k++)
      if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f) abort();
    for (size_t j = 0; j < i && l.n < 300; j++)
      if (strcmp(l.ids[j], s) == 0) abort();
  }
  idx_ids_fini(&l);
  return 0;
}
