/* arena.c: blocks chained newest first; oversized requests get their own
 * block.  Reset keeps the first (standard-size) block only. */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16

typedef struct arena_block {
  struct arena_block *next;
  size_t size, used;
  max_align_t data[];
} arena_block_t;

struct arena {
  arena_block_t *head;
  size_t block_size, total, cap;
};

arena_t *arena_new(size_t block_size) {
  arena_t *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  a->block_size = block_size ? block_size : 64 * 1024;
  return a;
}

static void arena_release(arena_block_t *b) {
  while (b) {
    arena_block_t *next = b->next;
    free(b);
    b = next;
  }
}

void arena_free(arena_t *a) {
  if (!a) return;
  arena_release(a->head);
  free(a);
}

void arena_reset(arena_t *a) {
  arena_block_t *keep = NULL, *b = a->head;
  while (b) {
    arena_block_t *next = b->next;
    if (!keep && b->size == a->block_size) {
      keep = b;
      keep->next = NULL;
    } else {
      free(b);
    }
    b = next;
  }
  a->head = keep;
  a->total = keep ? keep->size : 0;
  if (keep) keep->used = 0;
}

void arena_set_cap(arena_t *a, size_t cap) { a->cap = cap; }

size_t arena_used(const arena_t *a) { return a->total; }

void *arena_alloc(arena_t *a, size_t n) {
  n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  if (n == 0) n = ARENA_ALIGN;
  arena_block_t *b = a->head;
  if (b && b->size - b->used >= n) {
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
  }
  size_t size = n > a->block_size / 4 ? n : a->block_size;
  if (size < n) return NULL;
  if (a->cap && a->total + size > a->cap) return NULL;
  b = malloc(sizeof *b + size);
  if (!b) return NULL;
  b->size = size;
  b->used = n;
  a->total += size;
  if (size != a->block_size && a->head) {
    /* Oversized: slot it behind the current block so that block keeps
     * serving small allocations. */
    b->next = a->head->next;
    a->head->next = b;
  } else {
    b->next = a->head;
    a->head = b;
  }
  return b->data;
}

void *arena_calloc(arena_t *a, size_t count, size_t size) {
  if (size && count > SIZE_MAX / size) return NULL;
  void *p = arena_alloc(a, count * size);
  if (p) memset(p, 0, count * size);
  return p;
}

char *arena_strndup(arena_t *a, const char *s, size_t n) {
  char *p = arena_alloc(a, n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *arena_strdup(arena_t *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

char *arena_sprintf(arena_t *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return NULL;
  char *p = arena_alloc(a, (size_t)n + 1);
  if (!p) return NULL;
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}
