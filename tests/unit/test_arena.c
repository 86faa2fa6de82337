/* test_arena.c: the per-request allocator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"

static void test_arena_allocations_are_aligned_and_distinct(void **state) {
  arena_t *a = arena_new(1024);
  char *p = arena_alloc(a, 3), *q = arena_alloc(a, 5);
  assert_non_null(p);
  assert_non_null(q);
  assert_true(p != q);
  assert_int_equal((uintptr_t)q % 16, 0);
  arena_free(a);
}

static void test_arena_large_allocation_gets_its_own_block(void **state) {
  arena_t *a = arena_new(1024);
  char *small = arena_strdup(a, "small");
  char *big = arena_alloc(a, 100000);
  assert_non_null(big);
  memset(big, 'x', 100000);
  char *after = arena_strdup(a, "after");
  assert_string_equal(small, "small");
  assert_string_equal(after, "after");
  arena_free(a);
}

static void test_arena_cap_fails_cleanly(void **state) {
  arena_t *a = arena_new(1024);
  arena_set_cap(a, 4096);
  assert_non_null(arena_alloc(a, 1000));
  assert_null(arena_alloc(a, 10000));
  arena_reset(a);
  assert_non_null(arena_alloc(a, 100));
  arena_free(a);
}

static void test_arena_reset_reuses_memory(void **state) {
  arena_t *a = arena_new(4096);
  for (int round = 0; round < 100; round++) {
    for (int i = 0; i < 100; i++) assert_non_null(arena_alloc(a, 200));
    arena_reset(a);
    assert_true(arena_used(a) <= 4096);
  }
  char *s = arena_sprintf(a, "%d-%s", 42, "x");
  assert_string_equal(s, "42-x");
  arena_free(a);
  arena_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_arena_allocations_are_aligned_and_distinct),
      cmocka_unit_test(test_arena_large_allocation_gets_its_own_block),
      cmocka_unit_test(test_arena_cap_fails_cleanly),
      cmocka_unit_test(test_arena_reset_reuses_memory),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
