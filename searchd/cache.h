/* cache.h: the result cache for repeated SEARCH, COUNT and GET requests
 * (the commands proto.h flags PROTO_CMD_CACHE).
 *
 * Key: the exact bytes of the request line (without its line end).  Value:
 * the response line.  Each entry carries the index revision it was computed
 * on, and a lookup only hits an entry of the caller's own revision, so a
 * worker never serves an answer from another revision than the one it would
 * compute itself.  When a newer revision is announced (cache_set_revision),
 * entries of older revisions are dead: a lookup that finds one frees it, and
 * LRU eviction takes the rest.  (This is the "generation" of the design,
 * made exact: a revision number cannot be stale the way a counter bumped by
 * another thread can.)
 *
 * An answer counted from today's date (since: or sort:recent without now:,
 * which count from the day the server answers) carries that day too, and
 * hits only lookups of the same day: it does not outlive the day it was
 * computed for (an entry of a past day is dead as an older revision's is).
 *
 * A hit is served as stored, so its took_us is the time the first answer
 * took, not the (near zero) time of the hit.
 *
 * Memory is bounded by max_bytes (entry headers included); the least
 * recently used entries are evicted first; a value larger than an eighth of
 * the cache is not stored.  Thread-safe: one mutex, held only for a hash
 * lookup and a memcpy.
 */
#ifndef SIFT_SEARCHD_CACHE_H
#define SIFT_SEARCHD_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct cache cache_t;

typedef struct cache_stats {
  uint64_t hits, misses, entries, bytes, max_bytes;
} cache_stats_t;

/* A cache of at most max_bytes (> 0); NULL on ENOMEM. */
cache_t *cache_new(size_t max_bytes);
void cache_free(cache_t *c); /* accepts NULL */

/* On a hit, append the stored response to out and return 1; else 0.  day:
 * today (YYYYMMDD, cal_today()). */
int cache_get(cache_t *c, const char *key, size_t klen, uint64_t rev, uint32_t day, buf_t *out);
/* Store (or replace) the response for key computed on revision rev; day:
 * the day it counted from (YYYYMMDD), 0 when it holds on any day. */
void cache_put(cache_t *c, const char *key, size_t klen, uint64_t rev, uint32_t day,
               const char *val, size_t vlen);
/* The newest revision any worker has seen; older entries become dead. */
void cache_set_revision(cache_t *c, uint64_t rev);
/* Counters; c may be NULL (all zero). */
void cache_stats(cache_t *c, cache_stats_t *out);

#endif
