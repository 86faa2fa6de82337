/* num.c: see num.h. */
#include "num.h"

#include <stdio.h>
#include <string.h>

int num_parse(const char *s, size_t n, uint64_t lo, uint64_t hi, uint64_t *out) {
  if (n == 0) return -1;
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    unsigned d = (unsigned)(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return -1; /* v * 10 + d would wrap */
    v = v * 10 + d;
  }
  if (v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

int num_option(const char *name, const char *s, uint64_t lo, uint64_t hi, uint64_t *out, char *why,
               size_t cap) {
  if (num_parse(s, strlen(s), lo, hi, out) == 0) return 0;
  snprintf(why, cap, "%s takes a number from %llu to %llu, got '%.40s'", name,
           (unsigned long long)lo, (unsigned long long)hi, s);
  return -1;
}
