/* test_buf.c: the output buffer, its JSON writer and the UTF-8 helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "err.h"

static void test_buf_json_object_gets_separators(void **state) {
  buf_t b;
  buf_init(&b, 0);
  buf_json_open(&b, '{');
  buf_json_key(&b, "a");
  buf_json_int(&b, 1);
  buf_json_key(&b, "b");
  buf_json_open(&b, '[');
  buf_json_cstr(&b, "x");
  buf_json_bool(&b, 1);
  buf_json_null(&b);
  buf_json_close(&b, ']');
  buf_json_close(&b, '}');
  assert_string_equal(b.data, "{\"a\":1,\"b\":[\"x\",true,null]}");
  buf_fini(&b);
}

static void test_buf_json_escapes_controls_and_quotes(void **state) {
  buf_t b;
  buf_init(&b, 0);
  buf_json_str(&b, "a\"b\\c\n\x01", 7);
  assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
  buf_fini(&b);
}

/* Every byte that needs care, at every place of a string long enough for
 * the word-at-a-time scan (buf.c, json_plain8), among plain bytes: the
 * same as escaping it a byte at a time (no lone byte takes the fast
 * path; a lead byte is followed by ASCII, invalid either way). */
static void test_buf_json_escapes_every_byte_at_every_place(void **state) {
  (void)state;
  static const unsigned char special[] = {0x00, 0x01, 0x0a, 0x1f, '"',
                                          '\\', 0x7f, 0x80, 0xc3, 0xff};
  for (size_t k = 0; k < sizeof special; k++)
    for (size_t at = 0; at < 24; at++) {
      char in[24];
      memset(in, "Pp ~!"[at % 5], sizeof in);
      in[at] = (char)special[k];
      buf_t b, one;
      buf_init(&b, 0);
      buf_init(&one, 0);
      buf_json_escape(&b, in, sizeof in);
      for (size_t i = 0; i < sizeof in; i++) buf_json_escape(&one, in + i, 1);
      assert_int_equal(b.len, one.len);
      assert_memory_equal(b.data, one.data, one.len);
      buf_fini(&b);
      buf_fini(&one);
    }
}

/* A number written as "%.6g" writes it, byte for byte (buf.c formats the
 * usual ones by hand): values of every magnitude, both signs, the
 * midpoints between 6-digit values and the doubles next to them, the
 * edges where the notation or the number of digits changes. */
static void json_double_is_printf(double v) {
  char want[32];
  snprintf(want, sizeof want, "%.6g", v);
  buf_t b;
  buf_init(&b, 0);
  buf_json_double(&b, v);
  assert_string_equal(b.data, want);
  buf_fini(&b);
}

static void test_buf_json_double_is_printf_g6(void **state) {
  (void)state;
  static const double edges[] = {0,        -0.0,      1e-4,     9.99999e-5, 1e-3,     0.5,
                                 1,        9.999995,  9.999996, 10,         99999.95, 99999.96,
                                 999999.4, 999999.5,  999999.6, 1e6,        123456,   1.5e-4,
                                 2.5,      0.0001234, 12.3,     1e5,        -3.25,    1e300};
  for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
    json_double_is_printf(edges[i]);
    json_double_is_printf(nextafter(edges[i], 0));
    json_double_is_printf(nextafter(edges[i], 2e6));
  }
  uint64_t r = 88172645463325252ull; /* xorshift64: the same values every run */
  for (int i = 0; i < 200000; i++) {
    r ^= r << 13;
    r ^= r >> 7;
    r ^= r << 17;
    double v = pow(10, (double)(r % 120000) / 10000 - 6) * (1 + (double)(r >> 40) / (1 << 24));
    json_double_is_printf(i % 2 ? v : -v);
    /* a midpoint between two 6-digit values, and its neighbours */
    int x = (int)(r % 10) - 4;
    double mid = ((double)(100000 + (r >> 20) % 900000) + 0.5) * pow(10, x - 5);
    json_double_is_printf(mid);
    json_double_is_printf(nextafter(mid, 0));
    json_double_is_printf(nextafter(mid, 2e6));
  }
}

static void test_buf_json_replaces_invalid_utf8(void **state) {
  buf_t b;
  buf_init(&b, 0);
  buf_json_str(&b,
               "x\xff"
               "y\xc3",
               4);
  assert_string_equal(b.data, "\"x\xEF\xBF\xBDy\xEF\xBF\xBD\"");
  buf_fini(&b);
}

static void test_buf_cap_is_sticky(void **state) {
  buf_t b;
  buf_init(&b, 8);
  assert_int_equal(buf_puts(&b, "12345678"), 0);
  assert_int_equal(buf_puts(&b, "9"), ERR_TOO_LONG);
  assert_int_equal(buf_puts(&b, ""), ERR_TOO_LONG);
  assert_int_equal(b.len, 8);
  buf_reset(&b);
  assert_int_equal(buf_puts(&b, "ok"), 0);
  buf_fini(&b);
}

static void test_buf_json_after_a_response_line_has_no_comma(void **state) {
  buf_t b;
  buf_init(&b, 0);
  buf_puts(&b, "{\"ok\":true}\n");
  buf_json_open(&b, '{');
  buf_json_close(&b, '}');
  assert_string_equal(b.data, "{\"ok\":true}\n{}");
  buf_fini(&b);
}

static void test_utf8_validation_rejects_overlong_and_surrogates(void **state) {
  assert_true(utf8_valid("caf\xc3\xa9", 5));
  assert_false(utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
  assert_false(utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
  assert_false(utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
  assert_true(utf8_valid("\xf0\x9f\x98\x80", 4));
}

static void test_utf8_repair_keeps_valid_text(void **state) {
  buf_t b;
  buf_init(&b, 0);
  utf8_repair(&b, "a\xffz", 3);
  assert_string_equal(b.data, "a\xEF\xBF\xBDz");
  assert_true(utf8_valid(b.data, b.len));
  buf_fini(&b);
}

static void test_err_is_sticky_and_named(void **state) {
  err_t e = {0};
  assert_int_equal(err_set(&e, ERR_BAD_QUERY, 3, "first at %d", 3), ERR_BAD_QUERY);
  assert_int_equal(err_set(&e, ERR_NOMEM, 0, "second"), ERR_BAD_QUERY);
  assert_string_equal(err_message(&e), "first at 3");
  assert_int_equal(e.column, 3);
  assert_string_equal(err_proto_code(ERR_BAD_QUERY), "bad_query");
  assert_string_equal(err_proto_code(ERR_NOT_FOUND), "not_found");
  assert_string_equal(err_name(ERR_TIMEOUT), "ERR_TIMEOUT");
  assert_string_equal(err_proto_code(12345), "internal");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_buf_json_object_gets_separators),
      cmocka_unit_test(test_buf_json_escapes_controls_and_quotes),
      cmocka_unit_test(test_buf_json_escapes_every_byte_at_every_place),
      cmocka_unit_test(test_buf_json_double_is_printf_g6),
      cmocka_unit_test(test_buf_json_replaces_invalid_utf8),
      cmocka_unit_test(test_buf_cap_is_sticky),
      cmocka_unit_test(test_buf_json_after_a_response_line_has_no_comma),
      cmocka_unit_test(test_utf8_validation_rejects_overlong_and_surrogates),
      cmocka_unit_test(test_utf8_repair_keeps_valid_text),
      cmocka_unit_test(test_err_is_sticky_and_named),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
