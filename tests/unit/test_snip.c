/* test_snip.c: snippets mark what the query matched, escape the rest, and
 * cut at word boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "buf.h"
#include "qp.h"
#include "snip.h"
#include "tok.h"

static const char *snippet(const char *query, const char *body, size_t max) {
  static arena_t *a;
  static tok_stemmer_t *st;
  if (!a) a = arena_new(0);
  if (!st) assert_int_equal(tok_stemmer_new("en", &st), 0);
  qp_query_t *q = NULL;
  err_t err = {0};
  assert_int_equal(qp_parse(query, strlen(query), a, &q, &err), 0);
  snip_matcher_t *m = snip_matcher_new(a, q, &st, 1);
  assert_non_null(m);
  const char *s = snip_build(m, 0, body, strlen(body), max, a);
  assert_non_null(s);
  return s;
}

static void test_snip_marks_stemmed_words(void **state) {
  assert_string_equal(snippet("hospital", "Two hospitals closed.", 240),
                      "Two <b>hospitals</b> closed.");
}

static void test_snip_marks_a_phrase_as_one_span(void **state) {
  assert_string_equal(snippet("\"gaza city\"", "North of Gaza City today; gaza alone.", 240),
                      "North of <b>Gaza City</b> today; gaza alone.");
}

static void test_snip_escapes_markup_in_text(void **state) {
  assert_string_equal(snippet("tag", "a <tag> & more", 240), "a &lt;<b>tag</b>&gt; &amp; more");
}

static void test_snip_does_not_mark_excluded_words(void **state) {
  assert_string_equal(snippet("alpha -beta", "alpha beta", 240), "<b>alpha</b> beta");
}

static void test_snip_marks_prefix_matches(void **state) {
  assert_string_equal(snippet("cross*", "They crossed the crossing.", 240),
                      "They <b>crossed</b> the <b>crossing</b>.");
}

static void test_snip_windows_on_the_match_and_cuts_at_words(void **state) {
  char body[2000] = "";
  for (int i = 0; i < 100; i++) strcat(body, "filler ");
  strcat(body, "the needle is here ");
  for (int i = 0; i < 100; i++) strcat(body, "padding ");
  const char *s = snippet("needle", body, 80);
  assert_non_null(strstr(s, "<b>needle</b>"));
  assert_true(strncmp(s, "\xE2\x80\xA6", 3) == 0); /* starts with an ellipsis */
  assert_true(strlen(s) < 80 + 3 + 3 + 7 + 1);
  assert_null(strstr(s, "fill ")); /* no cut word */
}

static void test_snip_without_matches_is_the_start(void **state) {
  const char *s = snippet("outlet:x", "First words here.\nSecond paragraph.", 240);
  assert_string_equal(s, "First words here. Second paragraph.");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_snip_marks_stemmed_words),
      cmocka_unit_test(test_snip_marks_a_phrase_as_one_span),
      cmocka_unit_test(test_snip_escapes_markup_in_text),
      cmocka_unit_test(test_snip_does_not_mark_excluded_words),
      cmocka_unit_test(test_snip_marks_prefix_matches),
      cmocka_unit_test(test_snip_windows_on_the_match_and_cuts_at_words),
      cmocka_unit_test(test_snip_without_matches_is_the_start),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
