/* test_num.c: the strict integer parser of every program's options, against
 * values written out by hand and the limits of uint64_t (18446744073709551615). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "num.h"

static int parse(const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
  return num_parse(s, strlen(s), lo, hi, out);
}

static void test_num_parses_plain_decimals_within_range(void **state) {
  (void)state;
  uint64_t v = 7;
  assert_int_equal(parse("0", 0, 10, &v), 0);
  assert_int_equal(v, 0);
  assert_int_equal(parse("0042", 0, 100, &v), 0);
  assert_int_equal(v, 42);
  assert_int_equal(parse("18446744073709551615", 0, UINT64_MAX, &v), 0);
  assert_true(v == UINT64_MAX);
  assert_int_equal(num_parse("123abc", 3, 0, 1000, &v), 0); /* only the first n bytes */
  assert_int_equal(v, 123);
}

static void test_num_rejects_signs_spaces_and_trailing_text(void **state) {
  (void)state;
  static const char *const bad[] = {"", "-1", "+1", " 1", "1 ", "1x", "0x10", "1.0", "1e3", "١"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    uint64_t v = 99;
    assert_int_equal(parse(bad[i], 0, UINT64_MAX, &v), -1);
    assert_int_equal(v, 99); /* untouched */
  }
}

static void test_num_rejects_overflow_and_out_of_range(void **state) {
  (void)state;
  uint64_t v = 99;
  assert_int_equal(parse("18446744073709551616", 0, UINT64_MAX, &v), -1);
  assert_int_equal(parse("99999999999999999999999", 0, UINT64_MAX, &v), -1);
  assert_int_equal(parse("0", 1, 10, &v), -1);
  assert_int_equal(parse("11", 1, 10, &v), -1);
  assert_int_equal(v, 99);
  assert_int_equal(parse("10", 1, 10, &v), 0);
  assert_int_equal(v, 10);
}

static void test_num_option_names_the_option_and_its_range(void **state) {
  (void)state;
  uint64_t v = 0;
  char why[128] = "";
  assert_int_equal(num_option("--batch", "ten", 1, 10000000, &v, why, sizeof why), -1);
  assert_string_equal(why, "--batch takes a number from 1 to 10000000, got 'ten'");
  assert_int_equal(num_option("--batch", "12", 1, 10000000, &v, why, sizeof why), 0);
  assert_int_equal(v, 12);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_num_parses_plain_decimals_within_range),
      cmocka_unit_test(test_num_rejects_signs_spaces_and_trailing_text),
      cmocka_unit_test(test_num_rejects_overflow_and_out_of_range),
      cmocka_unit_test(test_num_option_names_the_option_and_its_range),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
