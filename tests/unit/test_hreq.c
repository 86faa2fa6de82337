/* test_hreq.c: HTTP query strings as line-protocol JSON requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hreq.h"

/* The request hreq builds for path?query, or "ERR <code> <column>". */
static char *convert(const char *url) {
  static char text[1024];
  const char *q = strchr(url, '?');
  size_t plen = q ? (size_t)(q - url) : strlen(url);
  buf_t out;
  buf_init(&out, 0);
  err_t err;
  err_clear(&err);
  int rc = hreq_from_query(url, plen, q ? q + 1 : "", q ? strlen(q + 1) : 0, &out, &err);
  if (rc) snprintf(text, sizeof text, "ERR %s %d", err_proto_code(rc), err.column);
  else snprintf(text, sizeof text, "%s", out.data);
  buf_fini(&out);
  return text;
}

static void test_hreq_maps_parameters_to_json_members(void **state) {
  assert_string_equal(convert("/search?q=%22gaza+city%22&limit=5&offset=10&sort=newest"),
                      "{\"op\":\"search\",\"q\":\"\\\"gaza city\\\"\",\"limit\":5,\"offset\":10,"
                      "\"sort\":\"newest\"}");
  assert_string_equal(convert("/ping"), "{\"op\":\"ping\"}");
  assert_string_equal(convert("/get?id=a%2Fb"), "{\"op\":\"get\",\"id\":\"a/b\"}");
}

static void test_hreq_repeated_names_become_arrays_in_first_order(void **state) {
  assert_string_equal(convert("/count?outlet=NPR&q=x&outlet=CNN"),
                      "{\"op\":\"count\",\"outlet\":[\"NPR\",\"CNN\"],\"q\":\"x\"}");
}

static void test_hreq_types_limit_exact_and_facets(void **state) {
  assert_string_equal(convert("/search?facets=outlet,month&exact=no&limit=x"),
                      "{\"op\":\"search\",\"facets\":[\"outlet\",\"month\"],\"exact\":false,"
                      "\"limit\":\"x\"}");
  assert_string_equal(
      convert("/search?facets=outlet:20,tag:all&exact=1"),
      "{\"op\":\"search\",\"facets\":{\"outlet\":20,\"tag\":\"all\"},\"exact\":true}");
}

static void test_hreq_relax_is_a_boolean_like_exact(void **state) {
  assert_string_equal(convert("/search?q=a+b&relax=no"),
                      "{\"op\":\"search\",\"q\":\"a b\",\"relax\":false}");
  assert_string_equal(convert("/search?relax=yes"), "{\"op\":\"search\",\"relax\":true}");
  assert_string_equal(convert("/search?relax=maybe"), "{\"op\":\"search\",\"relax\":\"maybe\"}");
}

static void test_hreq_empty_values_are_absent(void **state) {
  assert_string_equal(convert("/search?q=&from=&to=2020&&"), "{\"op\":\"search\",\"to\":\"2020\"}");
}

static void test_hreq_rejects_bad_escapes_and_utf8_naming_the_byte(void **state) {
  assert_string_equal(convert("/search?q=ab%4"), "ERR bad_request 5");
  assert_string_equal(convert("/search?a=1&q=%zz"), "ERR bad_request 7");
  assert_string_equal(convert("/search?q=%FF"), "ERR bad_request 3");
  assert_string_equal(convert("/search?=x"), "ERR bad_request 1");
}

static void test_hreq_unknown_endpoint(void **state) {
  assert_string_equal(convert("/nope?q=x"), "ERR unknown_command 0");
  assert_string_equal(convert("/search/more"), "ERR unknown_command 0");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hreq_maps_parameters_to_json_members),
      cmocka_unit_test(test_hreq_repeated_names_become_arrays_in_first_order),
      cmocka_unit_test(test_hreq_types_limit_exact_and_facets),
      cmocka_unit_test(test_hreq_relax_is_a_boolean_like_exact),
      cmocka_unit_test(test_hreq_empty_values_are_absent),
      cmocka_unit_test(test_hreq_rejects_bad_escapes_and_utf8_naming_the_byte),
      cmocka_unit_test(test_hreq_unknown_endpoint),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
