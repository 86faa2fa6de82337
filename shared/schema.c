/* schema.c: the one function that spells a stem term, and the one that
 * splits an author string into names (see schema.h). */
#include "schema.h"

#include <stdio.h>
#include <string.h>

size_t schema_stem_term(char *out, size_t cap, int title, const char *alg, const char *default_alg,
                        const char *stem, size_t len) {
  const char *p = title ? SCHEMA_P_TITLE_STEM : SCHEMA_P_STEM;
  int n = (!alg || !default_alg || strcmp(alg, default_alg) == 0)
              ? snprintf(out, cap, "%s", p)
              : snprintf(out, cap, "%s:%s:", p, alg);
  if (n < 0 || (size_t)n + len + 1 > cap) return 0;
  memcpy(out + n, stem, len);
  out[n + len] = '\0';
  return (size_t)n + len;
}

const char *schema_naming(int format, const char *default_alg) {
  return format >= 2 || !default_alg ? "english" : default_alg;
}

size_t schema_author_name(const char *s, size_t n, size_t *next) {
  for (size_t i = 0; i < n; i++) {
    if (s[i] == ',' || s[i] == ';') {
      *next = i + 1;
      return i;
    }
    if (s[i] == ' ' && n - i >= 5 && !memcmp(s + i, " and ", 5)) {
      *next = i + 5;
      return i;
    }
  }
  *next = n;
  return n;
}
