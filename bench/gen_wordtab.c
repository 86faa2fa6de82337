/* gen_wordtab.c: see gen_wordtab.h. */
#include "gen_wordtab.h"

#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "hash.h"

void wt_init(wordtab_t *t, size_t cap) {
  t->cap = cap;
  t->n = 0;
  t->e = calloc(cap, sizeof *t->e);
  t->keys = arena_new(1 << 20);
  if (!t->e || !t->keys) die_nomem();
}

wt_entry_t *wt_find(wordtab_t *t, const char *s, size_t n) {
  size_t i = hash_fnv64(HASH_FNV64_START, s, n) & (t->cap - 1);
  while (t->e[i].key) {
    if (t->e[i].len == n && memcmp(t->e[i].key, s, n) == 0) return &t->e[i];
    i = (i + 1) & (t->cap - 1);
  }
  return NULL;
}

static void wt_grow(wordtab_t *t) {
  wt_entry_t *old = t->e;
  size_t oldcap = t->cap;
  t->cap *= 2;
  t->e = calloc(t->cap, sizeof *t->e);
  if (!t->e) die_nomem();
  for (size_t i = 0; i < oldcap; i++) {
    if (!old[i].key) continue;
    size_t j = hash_fnv64(HASH_FNV64_START, old[i].key, old[i].len) & (t->cap - 1);
    while (t->e[j].key) j = (j + 1) & (t->cap - 1);
    t->e[j] = old[i];
  }
  free(old);
}

int wt_add(wordtab_t *t, const char *s, size_t n, uint64_t count) {
  if ((t->n + 1) * 10 > t->cap * 7) wt_grow(t);
  size_t i = hash_fnv64(HASH_FNV64_START, s, n) & (t->cap - 1);
  while (t->e[i].key) {
    if (t->e[i].len == n && memcmp(t->e[i].key, s, n) == 0) {
      t->e[i].count += count;
      return 0;
    }
    i = (i + 1) & (t->cap - 1);
  }
  char *k = arena_strndup(t->keys, s, n);
  if (!k) die_nomem();
  t->e[i].key = k;
  t->e[i].len = (uint32_t)n;
  t->e[i].count = count;
  t->n++;
  return 1;
}

void wt_free(wordtab_t *t) {
  free(t->e);
  arena_free(t->keys);
}

static int cmp_count_desc(const void *a, const void *b) {
  const wt_entry_t *x = a, *y = b;
  if (x->count != y->count) return x->count < y->count ? 1 : -1;
  if (x->len != y->len) return x->len < y->len ? -1 : 1;
  return memcmp(x->key, y->key, x->len);
}

wt_entry_t *wt_sorted(const wordtab_t *t) {
  wt_entry_t *v = xmalloc(t->n * sizeof *v);
  size_t k = 0;
  for (size_t i = 0; i < t->cap; i++)
    if (t->e[i].key && t->e[i].count) v[k++] = t->e[i];
  qsort(v, k, sizeof *v, cmp_count_desc);
  return v;
}

size_t wt_live(const wordtab_t *t) {
  size_t k = 0;
  for (size_t i = 0; i < t->cap; i++) k += t->e[i].key && t->e[i].count;
  return k;
}
