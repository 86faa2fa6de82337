/* test_snip.c: snippets mark what the query matched, escape the rest, and
 * cut at word boundaries; far matches get passages of their own, phrases
 * first; titles are marked, title: terms there only. */
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

/* The snippet of body for query in an article in lang, checked equal to
 * the one the full scan (every word tokenized) gives. */
static const char *snippet_in(const char *lang, const char *query, const char *body, size_t max) {
  static arena_t *a;
  if (!a) a = arena_new(0);
  tok_stemmer_t *st = NULL;
  assert_int_equal(tok_stemmer_new(lang, &st), 0);
  qp_query_t *q = NULL;
  err_t err = {0};
  assert_int_equal(qp_parse(query, strlen(query), a, &q, &err), 0);
  snip_matcher_t *m = snip_matcher_new(a, q, &st, 1);
  snip_matcher_t *full = snip_matcher_new(a, q, &st, 1);
  assert_non_null(m);
  assert_non_null(full);
  snip_matcher_full_scan(full);
  const char *s = snip_build(m, 0, body, strlen(body), max, a);
  const char *ref = snip_build(full, 0, body, strlen(body), max, a);
  tok_stemmer_free(st);
  assert_non_null(s);
  assert_non_null(ref);
  assert_string_equal(s, ref);
  return s;
}

static const char *snippet(const char *query, const char *body, size_t max) {
  return snippet_in("en", query, body, max);
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

/* Words the skipping scan must not lose: capitals, digits, accents,
 * apostrophes, words glued by punctuation, and a match far into the text. */
static void test_snip_skipping_finds_every_kind_of_word(void **state) {
  assert_string_equal(snippet("zaytoun", "Olive oil from \"Zaytóun\" farms", 240),
                      "Olive oil from \"<b>Zaytóun</b>\" farms");
  assert_string_equal(snippet("israel's", "Over Israel\xE2\x80\x99s border", 240),
                      "Over <b>Israel\xE2\x80\x99s</b> border");
  assert_string_equal(snippet("2023", "In mid-2023, prices rose", 240),
                      "In mid-<b>2023</b>, prices rose");
  assert_string_equal(snippet("rafah", "at\xE2\x80\x94Rafah\xE2\x80\x94today", 240),
                      "at\xE2\x80\x94<b>Rafah</b>\xE2\x80\x94today");
  assert_string_equal(snippet("don't", "We don't know; they don't either", 240),
                      "We <b>don't</b> know; they <b>don't</b> either");
  assert_string_equal(snippet("nt", "We don't know", 240), "We don't know");
  char body[4000] = "";
  for (int i = 0; i < 300; i++) strcat(body, "word ");
  strcat(body, "Haigh");
  const char *s = snippet("haigh", body, 40);
  assert_non_null(strstr(s, "<b>Haigh</b>"));
}

/* A phrase may start inside the words taken after a candidate, and a
 * phrase's later words need not be candidates themselves. */
static void test_snip_skipping_keeps_phrases_whole(void **state) {
  assert_string_equal(snippet("\"a b c\"", "x a a b c y", 240), "x a <b>a b c</b> y");
  assert_string_equal(snippet("\"gaza city\" alpha", "alpha then gaza gaza city", 240),
                      "<b>alpha</b> then gaza <b>gaza city</b>");
  assert_string_equal(snippet("\"new york\"", "new, york new-york New York", 240),
                      "<b>new, york</b> <b>new-york</b> <b>New York</b>");
}

/* A stemmer that strips prefixes: every word is stemmed, none skipped.
 * Indonesian stems "membaca" (to read) to "baca". */
static void test_snip_prefix_stripping_stemmer_checks_every_word(void **state) {
  tok_stemmer_t *st = NULL;
  assert_int_equal(tok_stemmer_new("id", &st), 0);
  assert_false(tok_stem_keeps_first(st));
  size_t l1, l2;
  char a[64], b[64];
  const char *s1 = tok_stem(st, "membaca", 7, &l1);
  memcpy(a, s1, l1);
  const char *s2 = tok_stem(st, "baca", 4, &l2);
  memcpy(b, s2, l2);
  tok_stemmer_free(st);
  assert_int_equal(l1, l2);
  assert_memory_equal(a, b, l1);
  assert_string_equal(snippet_in("id", "baca", "Dia membaca buku", 240), "Dia <b>membaca</b> buku");
}

/* With only the start of a body at hand, a snippet found there is the
 * whole body's; one that needs more text says so. */
static void test_snip_from_the_start_of_a_body(void **state) {
  static arena_t *a;
  if (!a) a = arena_new(0);
  tok_stemmer_t *st = NULL;
  assert_int_equal(tok_stemmer_new("en", &st), 0);
  char body[6000] = "Early news of the harbor. ";
  for (int i = 0; i < 300; i++) strcat(body, "filler ");
  strcat(body, "late ferry word");
  size_t total = strlen(body), head = 2000;
  while (body[head - 1] != ' ') head--;
  const char *cases[][2] = {{"harbor", NULL},
                            {"ferry", "more"},
                            {"harbor ferry", "more"},
                            {"zebra", "more"},
                            {"outlet:x", NULL}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    qp_query_t *q = NULL;
    err_t err = {0};
    assert_int_equal(qp_parse(cases[i][0], strlen(cases[i][0]), a, &q, &err), 0);
    snip_matcher_t *m = snip_matcher_new(a, q, &st, 1), *m2 = snip_matcher_new(a, q, &st, 1);
    assert_non_null(m);
    assert_non_null(m2);
    const char *whole = snip_build(m2, 0, body, total, 240, a);
    int more = 0;
    const char *part = snip_build_part(m, 0, body, head, total, 240, a, &more);
    assert_non_null(whole);
    if (cases[i][1]) {
      assert_null(part);
      assert_true(more);
      part = snip_build_part(m, 0, body, total, total, 240, a, &more); /* resumed */
      assert_false(more);
      assert_non_null(part);
      assert_string_equal(part, whole);
    } else {
      assert_false(more);
      assert_non_null(part);
      assert_string_equal(part, whole);
    }
  }
  tok_stemmer_free(st);
}

/* The body text a snippet shows: marks dropped, entities and separators
 * undone; its length in bytes. */
static size_t shown_bytes(const char *s) {
  size_t n = 0;
  while (*s) {
    static const char *const skip[] = {"<b>", "</b>", " \xE2\x80\xA6 ", "\xE2\x80\xA6"};
    static const char *const ent[] = {"&lt;", "&gt;", "&amp;"};
    size_t k = 0;
    for (; k < 4 && strncmp(s, skip[k], strlen(skip[k])) != 0; k++) continue;
    if (k < 4) {
      s += strlen(skip[k]);
      continue;
    }
    for (k = 0; k < 3 && strncmp(s, ent[k], strlen(ent[k])) != 0; k++) continue;
    s += k < 3 ? strlen(ent[k]) : 1;
    n++;
  }
  return n;
}

/* "word word ... " n times into b (a body's filler). */
static void fill(char *b, const char *word, int n) {
  for (int i = 0; i < n; i++) {
    strcat(b, word);
    strcat(b, " ");
  }
}

/* Into b: each of words (NULL-terminated) after gap filler words, then gap
 * more. */
static void spread(char *b, int gap, const char *const *words) {
  for (; *words; words++) {
    fill(b, "lorem", gap);
    strcat(b, *words);
    strcat(b, " ");
  }
  fill(b, "lorem", gap);
}

static size_t count_of(const char *s, const char *what) {
  size_t n = 0;
  for (const char *p = s; (p = strstr(p, what)); p += strlen(what)) n++;
  return n;
}

/* The case: the prefix matches early, the phrase far on; both are
 * shown, in body order, within the budget. */
static void test_snip_shows_a_far_phrase_beside_the_words(void **state) {
  char body[8000] = "";
  spread(body, 150,
         (const char *const[]){"Two hospitals were hit.",
                               "Trucks waited at the Rafah crossing all day.", NULL});
  const char *s = snippet("hospit* \"rafah crossing\"", body, 240);
  const char *h = strstr(s, "<b>hospitals</b>"), *r = strstr(s, "<b>Rafah crossing</b>");
  assert_non_null(h);
  assert_non_null(r);
  assert_true(h < r);
  assert_int_equal(count_of(s, " \xE2\x80\xA6 "), 1);
  assert_true(shown_bytes(s) <= 240);
}

/* More far-apart terms than passages: the phrase is among those shown, and
 * no passage is a lone word when a phrase could take its place. */
static void test_snip_prefers_a_phrase_over_lone_words(void **state) {
  char body[20000] = "";
  spread(body, 100,
         (const char *const[]){"alpha", "beta", "gamma", "delta", "and the gaza city port", NULL});
  const char *s = snippet("alpha beta gamma delta \"gaza city\"", body, 240);
  assert_non_null(strstr(s, "<b>gaza city</b>"));
  assert_int_equal(count_of(s, "<b>"), 3);
  assert_int_equal(count_of(s, " \xE2\x80\xA6 "), 2);
  assert_true(shown_bytes(s) <= 240);
}

/* Three far terms: three passages, in body order, each starting and ending
 * on a whole word. */
static void test_snip_three_passages_in_body_order(void **state) {
  char body[20000] = "";
  spread(body, 80, (const char *const[]){"zulu", "yankee", "xray", NULL});
  const char *s = snippet("xray yankee zulu", body, 240);
  const char *z = strstr(s, "<b>zulu</b>"), *y = strstr(s, "<b>yankee</b>"),
             *x = strstr(s, "<b>xray</b>");
  assert_true(z && y && x && z < y && y < x);
  assert_int_equal(count_of(s, " \xE2\x80\xA6 lorem "), 2);
  assert_true(strncmp(s, "\xE2\x80\xA6lorem ", 9) == 0);
  assert_string_equal(s + strlen(s) - 8, "lorem\xE2\x80\xA6"); /* more body follows */
  assert_true(shown_bytes(s) <= 240);
}

/* Terms close together: one passage, as before. */
static void test_snip_one_passage_when_one_window_holds_every_term(void **state) {
  char body[8000] = "";
  spread(body, 100, (const char *const[]){"the border wall and the immigrants who came", NULL});
  const char *s = snippet("immigra* \"border wall\"", body, 240);
  assert_int_equal(count_of(s, " \xE2\x80\xA6 "), 0);
  assert_non_null(strstr(s, "<b>border wall</b> and the <b>immigrants</b>"));
}

/* A phrase's words alone are not marked, and a far occurrence of one of
 * them does not get a passage. */
static void test_snip_marks_phrase_words_only_in_the_phrase(void **state) {
  assert_string_equal(
      snippet("\"rafah crossing\"", "Rafah is near. The crossing shut. Rafah crossing", 240),
      "Rafah is near. The crossing shut. <b>Rafah crossing</b>");
}

/* Passages that meet are one: the word's passage and the phrase's touch
 * (the phrase takes little context), so no ellipsis comes between them. */
static void test_snip_joins_passages_that_touch(void **state) {
  const char *body =
      "x lorem a sitametconsectetur ipsumdolor x x tax a sitametconsectetur ipsumdolor "
      "parliament votes tomorrow again a a sitametconsectetur x a x ipsumdolor ipsumdolor x "
      "lorem ipsumdolor ipsumdolor x sitametconsectetur x x x ipsumdolor x lorem lorem x bonds "
      "a sitametconsectetur sitametconsectetur a a ipsumdolor lorem sitametconsectetur lorem x "
      "a a a referendum ipsumdolor x lorem ipsumdolor";
  const char *s = snippet("tax \"parliament votes tomorrow again\" bonds referendum", body, 120);
  assert_string_equal(s,
                      "\xE2\x80\xA6x x <b>tax</b> a sitametconsectetur ipsumdolor "
                      "<b>parliament votes tomorrow again</b> a a \xE2\x80\xA6 lorem x "
                      "<b>bonds</b> a sitametconsectetur\xE2\x80\xA6");
  assert_true(shown_bytes(s) <= 120);
}

/* A phrase wider than the whole budget fits no passage: the start of the
 * body, as with no match, its words unmarked. */
static void test_snip_phrase_wider_than_the_budget_shows_the_start(void **state) {
  assert_string_equal(
      snippet("\"alpha beta gamma delta\"", "Start here. alpha beta gamma delta", 20),
      "Start here. alpha\xE2\x80\xA6");
}

/* The title of an article in English for query, marked (NULL: no match). */
static const char *title_for(const char *query, const char *title) {
  static arena_t *a;
  if (!a) a = arena_new(0);
  tok_stemmer_t *st = NULL;
  assert_int_equal(tok_stemmer_new("en", &st), 0);
  qp_query_t *q = NULL;
  err_t err = {0};
  assert_int_equal(qp_parse(query, strlen(query), a, &q, &err), 0);
  snip_matcher_t *m = snip_matcher_new(a, q, &st, 1);
  assert_non_null(m);
  const char *out = NULL;
  assert_int_equal(snip_title(m, 0, title, strlen(title), a, &out), 0);
  tok_stemmer_free(st);
  return out;
}

static void test_snip_title_marks_words_phrases_prefixes_and_accents(void **state) {
  assert_string_equal(title_for("gaza hospital", "Hospitals in Gazá <overwhelmed> & short"),
                      "<b>Hospitals</b> in <b>Gazá</b> &lt;overwhelmed&gt; &amp; short");
  assert_string_equal(
      title_for("\"rafah crossing\" cross*", "Rafah border crossing at Rafah crossing"),
      "Rafah border <b>crossing</b> at <b>Rafah crossing</b>");
  assert_null(title_for("gaza", "Nothing here"));
  assert_null(title_for("outlet:cnn", "Gaza"));
  assert_null(title_for("-gaza", "Gaza"));
}

/* title: terms are marked in the title and not in the body; plain words
 * in both. */
static void test_snip_title_terms_stay_in_the_title(void **state) {
  assert_string_equal(title_for("title:ceasefire gaza", "Gaza ceasefire talks"),
                      "<b>Gaza</b> <b>ceasefire</b> talks");
  assert_string_equal(snippet("title:ceasefire gaza", "A ceasefire in Gaza", 240),
                      "A ceasefire in <b>Gaza</b>");
  assert_string_equal(snippet("title:\"gaza city\"", "Gaza City today", 240), "Gaza City today");
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
      cmocka_unit_test(test_snip_skipping_finds_every_kind_of_word),
      cmocka_unit_test(test_snip_skipping_keeps_phrases_whole),
      cmocka_unit_test(test_snip_prefix_stripping_stemmer_checks_every_word),
      cmocka_unit_test(test_snip_from_the_start_of_a_body),
      cmocka_unit_test(test_snip_shows_a_far_phrase_beside_the_words),
      cmocka_unit_test(test_snip_prefers_a_phrase_over_lone_words),
      cmocka_unit_test(test_snip_three_passages_in_body_order),
      cmocka_unit_test(test_snip_one_passage_when_one_window_holds_every_term),
      cmocka_unit_test(test_snip_marks_phrase_words_only_in_the_phrase),
      cmocka_unit_test(test_snip_joins_passages_that_touch),
      cmocka_unit_test(test_snip_phrase_wider_than_the_budget_shows_the_start),
      cmocka_unit_test(test_snip_title_marks_words_phrases_prefixes_and_accents),
      cmocka_unit_test(test_snip_title_terms_stay_in_the_title),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
