/* dup.c: see dup.h.  Minima of DUP_K hash functions derived from each
 * shingle's hash with splitmix64 (one multiply-xorshift chain per function:
 * independent enough for MinHash, and cheap: a 600-word body costs about
 * 20k of them).  Groups by union-find (union by the smaller docid). */
#include "dup.h"

#include "hash.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a from a start of its own (not FNV's): signatures made from these
 * hashes are stored in indexes, so the start stays what it always was. */
uint64_t dup_word_hash(const char *s, size_t n) { return hash_fnv64(1469598103934665603ull, s, n); }

static uint64_t dup_mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

int dup_sign(const uint64_t *w, size_t n, unsigned char out[DUP_SIG_BYTES]) {
  uint32_t min[DUP_K];
  if (n < DUP_SHINGLE) return -1;
  memset(min, 0xff, sizeof min);
  for (size_t i = 0; i + DUP_SHINGLE <= n; i++) {
    uint64_t h = 0;
    for (size_t k = 0; k < DUP_SHINGLE; k++) h = dup_mix(h ^ w[i + k]);
    for (size_t k = 0; k < DUP_K; k++) {
      uint32_t v = (uint32_t)(dup_mix(h + k * 0x632be59bd9b4e019ull) >> 32);
      if (v < min[k]) min[k] = v;
    }
  }
  for (size_t k = 0; k < DUP_K; k++)
    for (int b = 0; b < 4; b++) out[4 * k + b] = (unsigned char)(min[k] >> (8 * b));
  return 0;
}

struct dup_groups {
  uint32_t last;
  uint32_t *parent;    /* union-find over docids, then each one's group */
  uint32_t *next;      /* ring of each group's members */
  unsigned char *sigs; /* DUP_SIG_BYTES per docid while building */
  unsigned char *has;  /* docid has a signature */
  uint64_t *bkey;      /* band buckets: key -> first docid (open addressing) */
  uint32_t *bdoc;
  size_t bcap, bn;
};

dup_groups_t *dup_groups_new(uint32_t last) {
  dup_groups_t *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  g->last = last;
  g->parent = malloc(((size_t)last + 1) * sizeof *g->parent);
  g->next = malloc(((size_t)last + 1) * sizeof *g->next);
  g->has = calloc((size_t)last + 1, 1);
  if (!g->parent || !g->next || !g->has) {
    dup_groups_free(g);
    return NULL;
  }
  for (uint32_t d = 0; d <= last; d++) g->parent[d] = g->next[d] = d;
  return g;
}

void dup_groups_free(dup_groups_t *g) {
  if (!g) return;
  free(g->parent);
  free(g->next);
  free(g->sigs);
  free(g->has);
  free(g->bkey);
  free(g->bdoc);
  free(g);
}

static uint32_t dup_find(dup_groups_t *g, uint32_t d) {
  while (g->parent[d] != d) d = g->parent[d] = g->parent[g->parent[d]];
  return d;
}

static void dup_union(dup_groups_t *g, uint32_t a, uint32_t b) {
  a = dup_find(g, a);
  b = dup_find(g, b);
  if (a == b) return;
  if (a < b) g->parent[b] = a;
  else g->parent[a] = b;
}

static int dup_similar(const unsigned char *x, const unsigned char *y) {
  int equal = 0;
  for (size_t k = 0; k < DUP_K; k++) equal += memcmp(x + 4 * k, y + 4 * k, 4) == 0;
  return equal >= DUP_MIN_EQUAL;
}

static int dup_bucket_grow(dup_groups_t *g) {
  size_t cap = g->bcap ? 2 * g->bcap : 4096;
  uint64_t *key = calloc(cap, sizeof *key);
  uint32_t *doc = calloc(cap, sizeof *doc);
  if (!key || !doc) {
    free(key);
    free(doc);
    return -1;
  }
  for (size_t i = 0; i < g->bcap; i++) {
    if (!g->bdoc[i]) continue;
    size_t j = g->bkey[i] & (cap - 1);
    while (doc[j]) j = (j + 1) & (cap - 1);
    key[j] = g->bkey[i];
    doc[j] = g->bdoc[i];
  }
  free(g->bkey);
  free(g->bdoc);
  g->bkey = key;
  g->bdoc = doc;
  g->bcap = cap;
  return 0;
}

int dup_groups_add(dup_groups_t *g, uint32_t d, const void *sig, size_t len) {
  if (len != DUP_SIG_BYTES || d == 0 || d > g->last) return 0;
  if (!g->sigs && !(g->sigs = malloc(((size_t)g->last + 1) * DUP_SIG_BYTES))) return -1;
  unsigned char *mine = g->sigs + (size_t)d * DUP_SIG_BYTES;
  memcpy(mine, sig, DUP_SIG_BYTES);
  g->has[d] = 1;
  for (uint64_t band = 0; band < DUP_BANDS; band++) {
    if (2 * (g->bn + 1) > g->bcap && dup_bucket_grow(g)) return -1;
    uint64_t key = band;
    for (size_t r = 0; r < DUP_ROWS; r++) {
      uint32_t v;
      memcpy(&v, mine + 4 * (band * DUP_ROWS + r), 4);
      key = dup_mix(key ^ v);
    }
    key |= 1; /* never 0 */
    size_t j = key & (g->bcap - 1);
    while (g->bdoc[j] && g->bkey[j] != key) j = (j + 1) & (g->bcap - 1);
    if (!g->bdoc[j]) {
      g->bkey[j] = key;
      g->bdoc[j] = d;
      g->bn++;
    } else if (dup_similar(mine, g->sigs + (size_t)g->bdoc[j] * DUP_SIG_BYTES)) {
      dup_union(g, d, g->bdoc[j]);
    }
  }
  return 0;
}

int dup_groups_finish(dup_groups_t *g) {
  /* Each docid's root; each root's ring threaded through its members in
   * docid order (a member points to the next, the last back to the root). */
  uint32_t *tail = malloc(((size_t)g->last + 1) * sizeof *tail);
  if (!tail) return -1;
  for (uint32_t d = 0; d <= g->last; d++) {
    uint32_t r = dup_find(g, d);
    g->parent[d] = r;
    if (r == d) {
      tail[d] = d;
    } else {
      g->next[tail[r]] = d;
      tail[r] = d;
    }
  }
  for (uint32_t d = 0; d <= g->last; d++)
    if (g->parent[d] == d) g->next[tail[d]] = d;
  free(tail);
  free(g->sigs);
  free(g->bkey);
  free(g->bdoc);
  g->sigs = NULL;
  g->bkey = NULL;
  g->bdoc = NULL;
  g->bcap = g->bn = 0;
  return 0;
}

uint32_t dup_group(const dup_groups_t *g, uint32_t d) { return d <= g->last ? g->parent[d] : d; }

uint32_t dup_next(const dup_groups_t *g, uint32_t d) { return d <= g->last ? g->next[d] : d; }

void dup_groups_count(const dup_groups_t *g, uint32_t *groups, uint32_t *members) {
  *groups = *members = 0;
  for (uint32_t d = 1; d <= g->last; d++) {
    if (g->parent[d] != d && g->parent[d] != 0) (*members)++;
    if (g->parent[d] == d && g->next[d] != d) (*groups)++, (*members)++;
  }
}
