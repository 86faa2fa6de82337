/* gen_rng.h: sift-gen's random numbers (splitmix64 seeding xoshiro256**,
 * one stream per article) and weighted choice (Vose's alias method, O(1)
 * per draw).  The draws are inline: sift-gen makes several per word.
 * Not shared with the library: the corpus a seed gives must never change,
 * so these stay as they are.
 */
#ifndef SIFT_GEN_RNG_H
#define SIFT_GEN_RNG_H

#include <stdint.h>

typedef struct {
  uint64_t s[4];
} rng_t;

static inline uint64_t rng__splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* A stream for (seed, stream): articles use stream n >= 1. */
static inline void rng_seed(rng_t *r, uint64_t seed, uint64_t stream) {
  uint64_t x = seed * 0xD1342543DE82EF95ull ^ (stream + 0x632BE59BD9B4E019ull);
  for (int i = 0; i < 4; i++) r->s[i] = rng__splitmix(&x);
}

static inline uint64_t rng__rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(rng_t *r) {
  uint64_t *s = r->s;
  uint64_t out = rng__rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rng__rotl(s[3], 45);
  return out;
}

/* Uniform in [0, n) (Lemire's multiply; the tiny bias is irrelevant here). */
static inline uint32_t rng_below(rng_t *r, uint32_t n) {
  return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static inline double rng_unit(rng_t *r) {
  return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static inline int rng_chance(rng_t *r, double p) { return rng_unit(r) < p; }

/* lo..hi inclusive */
static inline int rng_range(rng_t *r, int lo, int hi) {
  return lo + (int)rng_below(r, (uint32_t)(hi - lo + 1));
}

/* ---- weighted choice ---- */

typedef struct {
  uint32_t n;
  double *prob;
  uint32_t *alias;
} alias_t;

static inline uint32_t alias_pick(const alias_t *t, rng_t *r) {
  uint64_t x = rng_next(r);
  uint32_t i = (uint32_t)(((x >> 32) * (uint64_t)t->n) >> 32);
  double coin = (double)(x & 0xFFFFFFFFu) * (1.0 / 4294967296.0);
  return coin < t->prob[i] ? i : t->alias[i];
}

/* A table for the weights w[0..n) (any scale); alias_free() frees it. */
void alias_build(alias_t *t, const double *w, uint32_t n);
void alias_free(alias_t *t);
/* Zipf-like weights 1 / (rank + q)^s for n ranks. */
void alias_zipf(alias_t *t, uint32_t n, double q, double s);
/* Weights from a histogram h[0..n) (one bin weighted when all are empty). */
void alias_hist(alias_t *t, const uint64_t *h, uint32_t n);

#endif
