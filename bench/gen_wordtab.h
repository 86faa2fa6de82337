/* gen_wordtab.h: sift-gen's string -> count table (open addressing, hash.h's
 * FNV-1a, keys copied into an arena): the words and outlets counted by the
 * calibration, and the pseudo-words already drawn.
 */
#ifndef SIFT_GEN_WORDTAB_H
#define SIFT_GEN_WORDTAB_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

typedef struct {
  const char *key;
  uint32_t len;
  uint64_t count;
} wt_entry_t;
typedef struct {
  wt_entry_t *e;
  size_t cap, n;
  arena_t *keys;
} wordtab_t;

/* cap: a power of two; the table doubles at 70% full.  Dies on no memory. */
void wt_init(wordtab_t *t, size_t cap);
void wt_free(wordtab_t *t);
wt_entry_t *wt_find(wordtab_t *t, const char *s, size_t n);
/* Adds count to s's entry, creating it; returns 1 if it was new. */
int wt_add(wordtab_t *t, const char *s, size_t n, uint64_t count);
/* Entries of t with a count, most frequent first (ties in a fixed order);
 * malloc'ed. */
wt_entry_t *wt_sorted(const wordtab_t *t);
/* How many entries have a count. */
size_t wt_live(const wordtab_t *t);

#endif
