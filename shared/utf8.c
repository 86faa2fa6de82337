/* utf8.c: see utf8.h. */
#include "utf8.h"

int utf8_valid(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s, *end = p + n;
  while (p < end) {
    if (*p < 0x80) { /* ASCII runs without a call */
      p++;
      continue;
    }
    size_t k = utf8_seq_len(p, (size_t)(end - p));
    if (!k) return 0;
    p += k;
  }
  return 1;
}
