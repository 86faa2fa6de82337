/* test_dup.c: copy signatures and groups (dup.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dup.h"

#define NW 300

/* n word hashes of a pseudo-text seeded by seed (words 0..999). */
static void text(uint64_t *w, size_t n, uint32_t seed) {
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    char word[8];
    int len = snprintf(word, sizeof word, "w%u", (x >> 8) % 1000);
    w[i] = dup_word_hash(word, (size_t)len);
  }
}

static void test_dup_sign_needs_five_words_and_is_deterministic(void **state) {
  uint64_t w[NW];
  unsigned char a[DUP_SIG_BYTES], b[DUP_SIG_BYTES];
  text(w, NW, 1);
  assert_int_equal(dup_sign(w, 4, a), -1);
  assert_int_equal(dup_sign(w, NW, a), 0);
  assert_int_equal(dup_sign(w, NW, b), 0);
  assert_memory_equal(a, b, DUP_SIG_BYTES);
  assert_int_equal(dup_word_hash("gaza", 4), dup_word_hash("gaza", 4));
  assert_true(dup_word_hash("gaza", 4) != dup_word_hash("gazb", 4));
}

/* Docs 1 (a story), 2 (it with 2 words changed and the last 30 cut),
 * 3 (unrelated), 4 (a copy of 2 with its first 30 words rewritten),
 * 5 (a body of 3 words: no signature). */
static void test_dup_groups_join_copies_and_only_them(void **state) {
  uint64_t w[NW], v[NW];
  unsigned char sig[DUP_SIG_BYTES];
  dup_groups_t *g = dup_groups_new(6);
  assert_non_null(g);
  text(w, NW, 7);
  dup_sign(w, NW, sig);
  assert_int_equal(dup_groups_add(g, 1, sig, sizeof sig), 0);
  memcpy(v, w, sizeof v);
  v[100] = dup_word_hash("x", 1);
  v[200] = dup_word_hash("y", 1);
  dup_sign(v, NW - 30, sig);
  assert_int_equal(dup_groups_add(g, 2, sig, sizeof sig), 0);
  text(w, NW, 8);
  dup_sign(w, NW, sig);
  assert_int_equal(dup_groups_add(g, 3, sig, sizeof sig), 0);
  text(w, 30, 9);
  memcpy(v, w, 30 * sizeof *w);
  dup_sign(v, NW - 30, sig);
  assert_int_equal(dup_groups_add(g, 4, sig, sizeof sig), 0);
  assert_int_equal(dup_groups_add(g, 5, "short", 5), 0); /* not a signature: ignored */
  assert_int_equal(dup_groups_finish(g), 0);
  assert_int_equal(dup_group(g, 1), 1);
  assert_int_equal(dup_group(g, 2), 1);
  assert_int_equal(dup_group(g, 4), 1);
  assert_int_equal(dup_group(g, 3), 3);
  assert_int_equal(dup_group(g, 5), 5);
  assert_int_equal(dup_group(g, 6), 6); /* no document */
  /* The ring: 1 -> 2 -> 4 -> 1; the others alone. */
  assert_int_equal(dup_next(g, 1), 2);
  assert_int_equal(dup_next(g, 2), 4);
  assert_int_equal(dup_next(g, 4), 1);
  assert_int_equal(dup_next(g, 3), 3);
  uint32_t groups, members;
  dup_groups_count(g, &groups, &members);
  assert_int_equal(groups, 1);
  assert_int_equal(members, 3);
  dup_groups_free(g);
  dup_groups_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dup_sign_needs_five_words_and_is_deterministic),
      cmocka_unit_test(test_dup_groups_join_copies_and_only_them),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
