/* gen_rng.c: building the alias tables of gen_rng.h. */
#include "gen_rng.h"

#include <math.h>
#include <stdlib.h>

#include "gen.h"

void alias_build(alias_t *t, const double *w, uint32_t n) {
  double sum = 0;
  for (uint32_t i = 0; i < n; i++) sum += w[i];
  t->n = n;
  t->prob = xmalloc(n * sizeof *t->prob);
  t->alias = xmalloc(n * sizeof *t->alias);
  uint32_t *small = xmalloc(n * sizeof *small), *large = xmalloc(n * sizeof *large);
  uint32_t ns = 0, nl = 0;
  for (uint32_t i = 0; i < n; i++) {
    t->prob[i] = sum > 0 ? w[i] * n / sum : 1.0;
    t->alias[i] = i;
    if (t->prob[i] < 1.0) small[ns++] = i;
    else large[nl++] = i;
  }
  while (ns && nl) {
    uint32_t s = small[--ns], l = large[--nl];
    t->alias[s] = l;
    t->prob[l] -= 1.0 - t->prob[s];
    if (t->prob[l] < 1.0) small[ns++] = l;
    else large[nl++] = l;
  }
  while (nl) t->prob[large[--nl]] = 1.0;
  while (ns) t->prob[small[--ns]] = 1.0;
  free(small);
  free(large);
}

void alias_free(alias_t *t) {
  free(t->prob);
  free(t->alias);
}

/* Zipf-like weights 1 / (rank + q)^s for n ranks. */
void alias_zipf(alias_t *t, uint32_t n, double q, double s) {
  double *w = xmalloc(n * sizeof *w);
  for (uint32_t i = 0; i < n; i++) w[i] = 1.0 / pow(i + 1 + q, s);
  alias_build(t, w, n);
  free(w);
}

void alias_hist(alias_t *t, const uint64_t *h, uint32_t n) {
  double *w = xmalloc(n * sizeof *w);
  int any = 0;
  for (uint32_t i = 0; i < n; i++) any |= (w[i] = (double)h[i]) > 0;
  if (!any) w[n > 1 ? 1 : 0] = 1;
  alias_build(t, w, n);
  free(w);
}
