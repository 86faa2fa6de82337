/* cache.c: see cache.h.
 *
 * A chained hash table (FNV-1a, power-of-two buckets, doubled when the
 * entries outnumber the buckets) plus a doubly linked LRU list whose head is
 * the most recently used entry.  An entry is one allocation: header, key
 * bytes, value bytes.
 */
#include "cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

typedef struct cache_entry {
  struct cache_entry *hnext;       /* bucket chain */
  struct cache_entry *prev, *next; /* LRU list */
  uint64_t hash, rev;
  uint32_t day; /* YYYYMMDD the answer counted from, 0: any day */
  size_t klen, vlen;
  char data[]; /* key, then value */
} cache_entry_t;

struct cache {
  pthread_mutex_t mu;
  cache_entry_t **buckets;
  size_t nbuckets; /* power of two */
  cache_entry_t *head, *tail;
  size_t entries, bytes, max_bytes;
  uint64_t latest_rev;
  uint64_t hits, misses;
};

#define CACHE_INITIAL_BUCKETS 1024

static uint64_t cache_hash(const char *s, size_t n) { return hash_fnv64(HASH_FNV64_START, s, n); }

static size_t cache_entry_size(size_t klen, size_t vlen) {
  return sizeof(cache_entry_t) + klen + vlen;
}

cache_t *cache_new(size_t max_bytes) {
  cache_t *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->nbuckets = CACHE_INITIAL_BUCKETS;
  c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
  if (!c->buckets || pthread_mutex_init(&c->mu, NULL) != 0) {
    free(c->buckets);
    free(c);
    return NULL;
  }
  c->max_bytes = max_bytes;
  return c;
}

void cache_free(cache_t *c) {
  if (!c) return;
  cache_entry_t *e = c->head;
  while (e) {
    cache_entry_t *next = e->next;
    free(e);
    e = next;
  }
  free(c->buckets);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

static void cache_lru_unlink(cache_t *c, cache_entry_t *e) {
  if (e->prev) e->prev->next = e->next;
  else c->head = e->next;
  if (e->next) e->next->prev = e->prev;
  else c->tail = e->prev;
  e->prev = e->next = NULL;
}

static void cache_lru_push(cache_t *c, cache_entry_t *e) {
  e->prev = NULL;
  e->next = c->head;
  if (c->head) c->head->prev = e;
  c->head = e;
  if (!c->tail) c->tail = e;
}

/* Pointer to the link that points at the entry for key (or at NULL). */
static cache_entry_t **cache_slot(cache_t *c, uint64_t h, const char *key, size_t klen) {
  cache_entry_t **p = &c->buckets[h & (c->nbuckets - 1)];
  while (*p) {
    cache_entry_t *e = *p;
    if (e->hash == h && e->klen == klen && memcmp(e->data, key, klen) == 0) break;
    p = &e->hnext;
  }
  return p;
}

static void cache_remove(cache_t *c, cache_entry_t **slot) {
  cache_entry_t *e = *slot;
  *slot = e->hnext;
  cache_lru_unlink(c, e);
  c->entries--;
  c->bytes -= cache_entry_size(e->klen, e->vlen);
  free(e);
}

static void cache_grow(cache_t *c) {
  size_t n = c->nbuckets * 2;
  cache_entry_t **b = calloc(n, sizeof *b);
  if (!b) return; /* keep the longer chains */
  for (size_t i = 0; i < c->nbuckets; i++) {
    cache_entry_t *e = c->buckets[i];
    while (e) {
      cache_entry_t *next = e->hnext;
      e->hnext = b[e->hash & (n - 1)];
      b[e->hash & (n - 1)] = e;
      e = next;
    }
  }
  free(c->buckets);
  c->buckets = b;
  c->nbuckets = n;
}

int cache_get(cache_t *c, const char *key, size_t klen, uint64_t rev, uint32_t day, buf_t *out) {
  uint64_t h = cache_hash(key, klen);
  int hit = 0;
  pthread_mutex_lock(&c->mu);
  cache_entry_t **slot = cache_slot(c, h, key, klen);
  cache_entry_t *e = *slot;
  int today = e && (!e->day || e->day == day);
  if (e && e->rev == rev && today) {
    cache_lru_unlink(c, e);
    cache_lru_push(c, e);
    hit = buf_append(out, e->data + e->klen, e->vlen) == 0;
  } else if (e && (e->rev < c->latest_rev || (!today && e->day < day))) {
    cache_remove(c, slot);
  }
  if (hit) c->hits++;
  else c->misses++;
  pthread_mutex_unlock(&c->mu);
  return hit;
}

void cache_put(cache_t *c, const char *key, size_t klen, uint64_t rev, uint32_t day,
               const char *val, size_t vlen) {
  size_t size = cache_entry_size(klen, vlen);
  if (size > c->max_bytes / 8) return;
  uint64_t h = cache_hash(key, klen);
  cache_entry_t *n = malloc(size);
  if (!n) return;
  n->hash = h;
  n->rev = rev;
  n->day = day;
  n->klen = klen;
  n->vlen = vlen;
  memcpy(n->data, key, klen);
  memcpy(n->data + klen, val, vlen);
  pthread_mutex_lock(&c->mu);
  if (rev < c->latest_rev) { /* computed on a revision already superseded */
    pthread_mutex_unlock(&c->mu);
    free(n);
    return;
  }
  cache_entry_t **slot = cache_slot(c, h, key, klen);
  if (*slot) cache_remove(c, slot);
  while (c->tail && c->bytes + size > c->max_bytes) {
    cache_entry_t *old = c->tail;
    cache_remove(c, cache_slot(c, old->hash, old->data, old->klen));
  }
  if (c->entries + 1 > c->nbuckets) cache_grow(c);
  slot = &c->buckets[h & (c->nbuckets - 1)];
  n->hnext = *slot;
  *slot = n;
  cache_lru_push(c, n);
  c->entries++;
  c->bytes += size;
  pthread_mutex_unlock(&c->mu);
}

void cache_set_revision(cache_t *c, uint64_t rev) {
  pthread_mutex_lock(&c->mu);
  if (rev > c->latest_rev) c->latest_rev = rev;
  pthread_mutex_unlock(&c->mu);
}

void cache_stats(cache_t *c, cache_stats_t *out) {
  memset(out, 0, sizeof *out);
  if (!c) return;
  pthread_mutex_lock(&c->mu);
  out->hits = c->hits;
  out->misses = c->misses;
  out->entries = c->entries;
  out->bytes = c->bytes;
  out->max_bytes = c->max_bytes;
  pthread_mutex_unlock(&c->mu);
}
