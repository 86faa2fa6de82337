/* hash.h: FNV-1a, the one string hash of the tree.
 *
 * Hash tables (ids in the indexer, the answer cache, the stemming cache),
 * the indexer's per-article term counts and the codes that stand for terms
 * in the Xapian wrapper all hash bytes with it: short keys, no adversary
 * choosing them to collide (nothing here is keyed by a request's bytes in a
 * table an attacker could fill; the answer cache bounds its chains).
 *
 * h is the running value: HASH_FNV32_START or HASH_FNV64_START to begin,
 * or the value returned for the bytes before, to continue.  Header-only so
 * the hot loops inline it; no state, thread-safe.
 */
#ifndef SIFT_HASH_H
#define SIFT_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV32_START 2166136261u
#define HASH_FNV64_START 14695981039346656037ull

static inline uint32_t hash_fnv32(uint32_t h, const void *p, size_t n) {
  const unsigned char *s = (const unsigned char *)p;
  size_t i = 0;
  /* Eight bytes a turn: the loop's own count and test cost as much as a
   * byte's xor and multiply (stored documents check ~250 bytes a hit). */
  for (; n - i >= 8; i += 8) {
    h = (h ^ s[i]) * 16777619u;
    h = (h ^ s[i + 1]) * 16777619u;
    h = (h ^ s[i + 2]) * 16777619u;
    h = (h ^ s[i + 3]) * 16777619u;
    h = (h ^ s[i + 4]) * 16777619u;
    h = (h ^ s[i + 5]) * 16777619u;
    h = (h ^ s[i + 6]) * 16777619u;
    h = (h ^ s[i + 7]) * 16777619u;
  }
  for (; i < n; i++) h = (h ^ s[i]) * 16777619u;
  return h;
}

static inline uint64_t hash_fnv64(uint64_t h, const void *p, size_t n) {
  const unsigned char *s = (const unsigned char *)p;
  for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
  return h;
}

#endif
