/* arena.h: bump allocator for per-request and per-document memory.
 *
 * Everything a request or a document needs while it is processed (parsed
 * query, terms, decoded documents, snippets) comes from one arena, released
 * in one arena_reset().  Blocks are kept across resets up to a retained size,
 * so a steady stream of requests allocates nothing from the heap.  An optional
 * cap bounds the memory one request may use: past it, allocations fail
 * (NULL), which callers report as ERR_NOMEM.
 *
 * Ownership: the arena owns every pointer it returns; they stay valid until
 * the next arena_reset() or arena_free().  Not thread-safe: one arena per
 * thread or request.
 */
#ifndef SIFT_ARENA_H
#define SIFT_ARENA_H

#include <stddef.h>

typedef struct arena arena_t;

/* New arena whose blocks are block_size bytes (0: 64 KiB); NULL on ENOMEM. */
arena_t *arena_new(size_t block_size);
void arena_free(arena_t *a); /* accepts NULL */
/* Forget every allocation; keeps one block for reuse. */
void arena_reset(arena_t *a);
/* Cap on the bytes the arena holds (0: none). */
void arena_set_cap(arena_t *a, size_t cap);
size_t arena_used(const arena_t *a);

/* Allocation aligned for any type; NULL when out of memory or over the cap. */
void *arena_alloc(arena_t *a, size_t n);
void *arena_calloc(arena_t *a, size_t count, size_t size);
/* NUL-terminated copy of s[0..n). */
char *arena_strndup(arena_t *a, const char *s, size_t n);
char *arena_strdup(arena_t *a, const char *s);
char *arena_sprintf(arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
