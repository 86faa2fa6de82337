/* test_qp.c: the query parser (shared/qp.c) against qp.h and SPEC.md's
 * "Query language": trees, options, errors with their columns, the JSON
 * request builders and the EXPLAIN shape.
 *
 * Trees are compared in a compact S-expression made by show() below:
 *   word  "a b" (phrase)  pre*  title:word  outlet=key  outlet=key*  date[lo,hi]
 *   (and ...)  (or ...)  (not x)  (near/N ...)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "buf.h"
#include "err.h"
#include "qp.h"

static arena_t *arena;

static int setup(void **state) {
  (void)state;
  arena = arena_new(0);
  return arena ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  arena_free(arena);
  arena = NULL;
  return 0;
}

static void show_node(const qp_node_t *n, buf_t *b) {
  if (!n) {
    buf_puts(b, "-");
    return;
  }
  if ((n->kind == QN_WORD || n->kind == QN_PHRASE || n->kind == QN_PREFIX) && n->field == QF_TITLE)
    buf_puts(b, "title:");
  switch (n->kind) {
    case QN_AND:
    case QN_OR:
    case QN_NOT:
    case QN_NEAR:
      if (n->kind == QN_NEAR) buf_printf(b, "(near/%u", (unsigned)n->distance);
      else buf_puts(b, n->kind == QN_AND ? "(and" : n->kind == QN_OR ? "(or" : "(not");
      for (size_t i = 0; i < n->nkids; i++) {
        buf_putc(b, ' ');
        show_node(n->kids[i], b);
      }
      buf_putc(b, ')');
      break;
    case QN_WORD:
      buf_puts(b, n->words[0]);
      break;
    case QN_PREFIX:
      buf_printf(b, "%s*", n->words[0]);
      break;
    case QN_PHRASE:
      buf_putc(b, '"');
      for (size_t i = 0; i < n->nwords; i++) buf_printf(b, "%s%s", i ? " " : "", n->words[i]);
      buf_putc(b, '"');
      break;
    case QN_FILTER:
      buf_printf(b, "%s=%s",
                 n->field == QF_OUTLET   ? "outlet"
                 : n->field == QF_AUTHOR ? "author"
                 : n->field == QF_TAG    ? "tag"
                                         : "lang",
                 n->key);
      if (n->prefix) buf_putc(b, '*');
      break;
    case QN_DATE:
      buf_printf(b, "date[%u,%u]", (unsigned)n->lo, (unsigned)n->hi);
      break;
  }
}

/* The tree of a query that must parse, as an S-expression in the arena. */
static const char *show(const char *q) {
  qp_query_t *out = NULL;
  err_t err = {0};
  int rc = qp_parse(q, strlen(q), arena, &out, &err);
  if (rc != 0) fail_msg("qp_parse(%s) failed: %s (column %d)", q, err_message(&err), err.column);
  buf_t b;
  buf_init(&b, 0);
  show_node(out->root, &b);
  char *s = arena_strdup(arena, b.data ? b.data : "");
  buf_fini(&b);
  return s;
}

static qp_query_t *parse_ok(const char *q) {
  qp_query_t *out = NULL;
  err_t err = {0};
  int rc = qp_parse(q, strlen(q), arena, &out, &err);
  if (rc != 0) fail_msg("qp_parse(%s) failed: %s (column %d)", q, err_message(&err), err.column);
  assert_non_null(out);
  return out;
}

static const char *explain(const qp_query_t *q) {
  buf_t b;
  buf_init(&b, 0);
  qp_explain(q, &b);
  assert_int_equal(b.err, 0);
  char *s = arena_strdup(arena, b.data);
  buf_fini(&b);
  return s;
}

#define assert_tree(q, want) assert_string_equal(show(q), want)

/* q must fail with ERR_BAD_QUERY at column, the message containing needle. */
static void assert_bad(const char *q, int column, const char *needle) {
  qp_query_t *out = (qp_query_t *)1;
  err_t err = {0};
  int rc = qp_parse(q, strlen(q), arena, &out, &err);
  if (rc != ERR_BAD_QUERY)
    fail_msg("qp_parse(%s) returned %s, want ERR_BAD_QUERY", q, err_name(rc));
  assert_int_equal(err.code, ERR_BAD_QUERY);
  assert_null(out);
  if (err.column != column)
    fail_msg("qp_parse(%s): column %d, want %d (%s)", q, err.column, column, err.msg);
  if (!strstr(err.msg, needle))
    fail_msg("qp_parse(%s): message \"%s\" lacks \"%s\"", q, err.msg, needle);
  char where[32];
  snprintf(where, sizeof where, "column %d", column);
  if (!strstr(err.msg, where))
    fail_msg("qp_parse(%s): message \"%s\" lacks \"%s\"", q, err.msg, where);
}

/* ---- text ------------------------------------------------------------ */

static void test_qp_empty_query_has_no_root(void **state) {
  (void)state;
  qp_query_t *q = parse_ok("");
  assert_null(q->root);
  assert_int_equal(q->has_text, 0);
  assert_null(parse_ok("   \t ")->root);
  qp_query_t *q2 = NULL;
  err_t err = {0};
  assert_int_equal(qp_parse(NULL, 0, arena, &q2, &err), 0);
  assert_null(q2->root);
}

static void test_qp_single_word_is_normalized(void **state) {
  (void)state;
  assert_tree("Gaza", "gaza");
  assert_tree("ZAYTÓUN", "zaytoun");
  assert_tree("Israel’s", "israel's");
  qp_query_t *q = parse_ok("hospitals");
  assert_int_equal(q->root->kind, QN_WORD);
  assert_int_equal(q->root->nwords, 1);
  assert_int_equal(q->root->column, 1);
  assert_int_equal(q->root->field, QF_TEXT);
}

static void test_qp_adjacent_words_are_anded(void **state) {
  (void)state;
  assert_tree("gaza hospital", "(and gaza hospital)");
  assert_tree("gaza AND hospital", "(and gaza hospital)");
  assert_tree("a b AND c d", "(and a b c d)");
}

static void test_qp_quoted_text_is_a_phrase(void **state) {
  (void)state;
  assert_tree("\"Gaza City\"", "\"gaza city\"");
  qp_query_t *q = parse_ok("\"gaza\"");
  assert_int_equal(q->root->kind, QN_PHRASE); /* exact word: not stemmed */
  assert_int_equal(q->root->nwords, 1);
  assert_tree("a\"b c\"d", "(and a \"b c\" d)");
  assert_tree("\"a OR b\"", "\"a or b\"");
  assert_tree("\"5 * 3\"", "\"5 3\""); /* a lone star is punctuation */
}

static void test_qp_split_token_becomes_phrase(void **state) {
  (void)state;
  assert_tree("al-qassam", "\"al qassam\"");
  assert_tree("Al-Qassam brigades", "(and \"al qassam\" brigades)");
  assert_tree("1,000", "\"1 000\"");
  assert_tree("U.S.", "\"u s\"");
  assert_tree("10:30", "\"10 30\"");
}

static void test_qp_skips_tokens_without_words(void **state) {
  (void)state;
  assert_tree("a & b", "(and a b)");
  assert_tree("a -- b", "(and a b)");
  assert_tree("a - b", "(and a b)");
  assert_tree("a OR & b", "(or a b)");
  qp_query_t *q = parse_ok("& -- ... -");
  assert_null(q->root);
}

static void test_qp_lowercase_operators_are_words(void **state) {
  (void)state;
  assert_tree("war or peace", "(and war or peace)");
  assert_tree("not and", "(and not and)");
  assert_tree("Or", "or");
}

/* ---- boolean logic --------------------------------------------------- */

static void test_qp_or_binds_looser_than_and(void **state) {
  (void)state;
  assert_tree("a b OR c", "(or (and a b) c)");
  assert_tree("a OR b c", "(or a (and b c))");
  assert_tree("a AND b OR c AND d", "(or (and a b) (and c d))");
  assert_tree("a OR b OR c", "(or a b c)");
}

static void test_qp_not_binds_tighter_than_and(void **state) {
  (void)state;
  assert_tree("a NOT b", "(and a (not b))");
  assert_tree("NOT a b", "(and (not a) b)");
  assert_tree("a OR NOT b", "(or a (not b))");
  assert_tree("a -b", "(and a (not b))");
}

static void test_qp_not_alone_means_everything_except(void **state) {
  (void)state;
  qp_query_t *q = parse_ok("NOT gaza");
  assert_string_equal(show("NOT gaza"), "(not gaza)");
  assert_int_equal(q->has_text, 0);
  assert_tree("-gaza", "(not gaza)");
  assert_tree("-a -b", "(and (not a) (not b))");
}

static void test_qp_minus_negates_only_when_glued(void **state) {
  (void)state;
  assert_tree("-\"gaza city\"", "(not \"gaza city\")");
  assert_tree("-(a OR b)", "(not (or a b))");
  assert_tree("-outlet:cnn", "(not outlet=cnn)");
  assert_tree("-title:truce", "(not title:truce)");
  assert_tree("-hospit*", "(not hospit*)");
  assert_tree("a-b", "\"a b\"");
  assert_tree("a- b", "(and a b)");
  assert_tree("-OR", "(not or)");
  assert_tree("-NOT a", "(and (not not) a)");
}

static void test_qp_double_negation_cancels(void **state) {
  (void)state;
  assert_tree("NOT NOT a", "a");
  assert_tree("--a", "a");
  assert_tree("NOT -a b", "(and a b)");
  assert_tree("-(-a)", "a");
}

static void test_qp_parentheses_group(void **state) {
  (void)state;
  assert_tree("(a OR b) c", "(and (or a b) c)");
  assert_tree("a (b OR c) OR d", "(or (and a (or b c)) d)");
  assert_tree("a(b)", "(and a b)");
  assert_tree("((a))", "a");
}

static void test_qp_flattens_nested_and_and_or(void **state) {
  (void)state;
  assert_tree("a (b c) d", "(and a b c d)");
  assert_tree("a OR (b OR c) OR d", "(or a b c d)");
  assert_tree("(a b) OR (c OR (d e))", "(or (and a b) c (and d e))");
  assert_tree("(((a b)))", "(and a b)");
}

/* ---- prefixes and fields --------------------------------------------- */

static void test_qp_trailing_star_is_a_prefix(void **state) {
  (void)state;
  assert_tree("hospit*", "hospit*");
  assert_tree("Hôpit*", "hopit*");
  qp_query_t *q = parse_ok("gaza hospit*");
  assert_int_equal(q->root->kids[1]->kind, QN_PREFIX);
  assert_int_equal(q->has_text, 1);
}

static void test_qp_rejects_prefix_of_several_words(void **state) {
  (void)state;
  assert_bad("al-qa*", 1, "prefix must be one word");
  assert_bad("gaza *", 6, "leading wildcard");
  assert_bad("*", 1, "leading wildcard");
  assert_bad("title:*", 7, "leading wildcard");
}

static void test_qp_title_field_takes_word_phrase_or_prefix(void **state) {
  (void)state;
  assert_tree("title:Ceasefire", "title:ceasefire");
  assert_tree("title:\"Rafah crossing\"", "title:\"rafah crossing\"");
  assert_tree("TITLE:hospit*", "title:hospit*");
  assert_tree("title:al-shifa", "title:\"al shifa\"");
  qp_query_t *q = parse_ok("title:ceasefire");
  assert_int_equal(q->root->field, QF_TITLE);
  assert_int_equal(q->has_text, 1);
}

static void test_qp_unknown_field_is_text(void **state) {
  (void)state;
  assert_tree("foo:bar", "\"foo bar\"");
  assert_tree("Requests: nutrition:", "(and requests nutrition)");
  assert_tree("Mission: Impossible", "(and mission impossible)");
  assert_tree("http://example.com", "\"http example com\"");
  assert_tree("\"a\" -foo:x", "(and \"a\" (not \"foo x\"))");
  /* known names stay fields and options, in any case */
  assert_tree("Title:gaza LIMIT:5", "title:gaza");
  assert_bad("Outlet: cnn", 8, "outlet: needs a value");
}

/* Syntax of other engines: an error at its column, never another query
 * (docs/query-syntax.md has the same table). */
static void test_qp_rejects_unsupported_syntax(void **state) {
  (void)state;
  assert_bad("*aza", 1, "leading wildcard");
  assert_bad("gaza -*aza", 7, "leading wildcard");
  assert_bad("ha*as", 3, "'*' inside a word");
  assert_bad("gaza^2", 5, "boost");
  assert_bad("gaza^", 5, "boost");
  assert_bad("\"gaza hamas\"^2", 13, "boost");
  assert_bad("\"gaza hamas\"~5", 13, "'~' after a phrase");
  assert_bad("\"gaza hamas\"/2", 13, "quorum");
  assert_bad("\"hospit*\"", 8, "'*' inside a phrase");
  assert_bad("title:\"hospit* gaza\"", 14, "'*' inside a phrase");
  assert_bad("gaza~", 5, "fuzzy");
  assert_bad("gaza~2 x", 5, "fuzzy");
  assert_bad("te?t", 3, "one-letter wildcard");
  assert_bad("a && b", 3, "'&&'");
  assert_bad("a&&b", 2, "write AND");
  assert_bad("a || b", 3, "write OR");
  assert_bad("+gaza", 1, "'+'");
  assert_bad("a +(b c)", 3, "'+'");
  assert_bad("!gaza", 1, "write NOT");
  assert_bad("[a TO b]", 1, "range");
  assert_bad("x {2020 TO 2021}", 3, "range");
  assert_bad("a << b", 3, "'<<'");
  assert_bad("title:gaza^2", 11, "boost");
  assert_bad("outlet:*fox", 8, "leading wildcard");
  assert_bad("outlet:(cnn OR fox)", 8, "not a group");
  assert_bad("date:(2023)", 6, "not a group");
}

/* What stays text: what people type and paste. */
static void test_qp_keeps_everyday_punctuation_as_text(void **state) {
  (void)state;
  assert_tree("Israel's", "israel's");
  assert_tree("cease-fire", "\"cease fire\"");
  assert_tree("C++", "c");
  assert_tree("AT&T", "\"at t\"");
  assert_tree("9/11", "\"9 11\"");
  assert_tree("$5", "5");
  assert_tree("#gaza", "gaza");
  assert_tree("@idf", "idf");
  assert_tree("+972", "972");
  assert_tree("~5 km", "(and 5 km)");
  assert_tree("Yahoo! why?", "(and yahoo why)");
  assert_tree("Gaza | Al Jazeera", "(and gaza al jazeera)");
  assert_tree("a & b", "(and a b)");
  assert_tree("[Video] gaza", "(and video gaza)");
  assert_tree("\xf0\x9f\x94\xa5 gaza", "gaza"); /* emoji: no word in it */
  assert_tree("r/worldnews", "\"r worldnews\"");
  assert_tree("a /boat-tail/ b", "(and a \"boat tail\" b)"); /* Cranfield's quotes */
  assert_tree("\"5 * 3\"", "\"5 3\"");
  assert_tree("a+b", "\"a b\"");
  assert_tree("Mission: Impossible http://cnn.com Requests:",
              "(and mission impossible \"http cnn com\" requests)");
}

static void test_qp_title_applies_to_a_group(void **state) {
  (void)state;
  assert_tree("title:(a OR b)", "(or title:a title:b)");
  assert_tree("title:(a (b OR \"c d\") -e*)",
              "(and title:a (or title:b title:\"c d\") (not title:e*))");
  assert_tree("gaza title:(a NOT b) c", "(and gaza title:a (not title:b) c)");
  assert_tree("-title:(a b)", "(not (and title:a title:b))");
  assert_tree("title:(a outlet:cnn)", "(and title:a outlet=cnn)");
  assert_tree("title:(a) b", "(and title:a b)");
  assert_tree("title:\"a b\"", "title:\"a b\"");
  assert_bad("title:(a", 7, "unbalanced '('");
  assert_bad("title:()", 7, "empty parentheses");
  assert_bad("title:(a limit:5)", 10, "not allowed inside parentheses");
}

static void test_qp_name_prefix_filters(void **state) {
  (void)state;
  assert_tree("outlet:fox*", "outlet=fox*");
  assert_tree("-outlet:Fox*", "(not outlet=fox*)");
  assert_tree("author:kersh* gaza", "(and author=kersh* gaza)");
  assert_tree("outlet:fox* outlet:cnn", "(or outlet=fox* outlet=cnn)");
  assert_tree("outlet:\"fox\"", "outlet=fox");
  assert_bad("lang:en*", 8, "lang: takes no prefix");
  assert_bad("outlet:\"fox*\"", 12, "'*' inside a phrase");
  assert_bad("outlet:-*", 9, "leading wildcard");
  qp_query_t *q = parse_ok("tag:us-pol*");
  assert_int_equal(q->root->prefix, 1);
  assert_string_equal(q->root->key, "uspol");
  assert_string_equal(q->root->value, "us-pol*");
  assert_non_null(strstr(explain(q), "\"key\":\"uspol\",\"prefix\":true"));
}

static void test_qp_near_joins_words_and_prefixes(void **state) {
  (void)state;
  assert_tree("a NEAR b", "(near/10 a b)");
  assert_tree("a NEAR/5 b", "(near/5 a b)");
  assert_tree("a NEAR/1 hospit* NEAR/1 c", "(near/1 a hospit* c)");
  assert_tree("x a NEAR b y", "(and x (near/10 a b) y)");
  assert_tree("a NEAR b OR c", "(or (near/10 a b) c)");
  assert_tree("title:a NEAR b", "(near/10 title:a b)");
  assert_tree("title:(a NEAR b)", "(near/10 title:a title:b)");
  assert_tree("-(a NEAR b)", "(not (near/10 a b))");
  assert_tree("a near b", "(and a near b)");
  qp_query_t *q = parse_ok("gaza NEAR/3 hospit*");
  assert_int_equal(q->has_text, 1);
  assert_non_null(strstr(explain(q),
                         "{\"op\":\"near\",\"distance\":3,\"args\":[{\"word\":\"gaza\"},"
                         "{\"prefix\":\"hospit\"}]}"));
  assert_bad("NEAR b", 1, "NEAR needs a word");
  assert_bad("a NEAR", 3, "NEAR needs a word");
  assert_bad("a NEAR NEAR b", 3, "NEAR needs a word");
  assert_bad("a NEAR/0 b", 3, "bad NEAR distance");
  assert_bad("a NEAR/x b", 3, "bad NEAR distance");
  assert_bad("a NEAR/1001 b", 3, "bad NEAR distance");
  assert_bad("a NEAR/2 b NEAR/3 c", 12, "differs");
  assert_bad("a NEAR \"b c\"", 8, "not a phrase");
  assert_bad("al-qassam NEAR b", 1, "not a phrase");
  assert_bad("a NEAR -b", 8, "not a negation");
  assert_bad("a NEAR (b OR c)", 9, "not a group");
  assert_bad("a NEAR outlet:cnn", 8, "not a filter");
  assert_bad("a NEAR limit:5", 3, "NEAR needs a word");
  assert_bad("show NEAR/8 show*", 13, "can match the same word");
  assert_bad("hosp* NEAR hospital", 12, "can match the same word");
  assert_bad("gaza NEAR title:gaza", 11, "can match the same word");
  assert_bad("hos* NEAR x NEAR hospit*", 18, "can match the same word");
  assert_tree("hospital NEAR hospit", "(near/10 hospital hospit)");
}

static void test_qp_match_and_relax_options(void **state) {
  (void)state;
  qp_query_t *q = parse_ok("a b");
  assert_int_equal(q->match_any, 0);
  assert_int_equal(q->relax, 1);
  q = parse_ok("a b match:any relax:no");
  assert_int_equal(q->match_any, 1);
  assert_int_equal(q->relax, 0);
  q = parse_ok("a b MATCH:all relax:yes");
  assert_int_equal(q->match_any, 0);
  assert_int_equal(q->relax, 1);
  assert_bad("a match:some", 9, "bad match 'some'");
  assert_bad("a relax:maybe", 9, "bad relax 'maybe'");
  assert_bad("(a match:any)", 4, "not allowed inside parentheses");
}

static void test_qp_rejects_field_without_value(void **state) {
  (void)state;
  assert_bad("outlet: cnn", 8, "outlet: needs a value");
  assert_bad("title:", 7, "title: needs a value");
  assert_bad("a outlet:\"\"", 10, "outlet: needs a value");
  assert_bad("date:(2023)", 6, "date: takes one value, not a group");
}

/* ---- filters --------------------------------------------------------- */

static void test_qp_filters_take_bare_or_quoted_values(void **state) {
  (void)state;
  qp_query_t *q = parse_ok("outlet:\"Al Jazeera\"");
  assert_int_equal(q->root->kind, QN_FILTER);
  assert_int_equal(q->root->field, QF_OUTLET);
  assert_string_equal(q->root->value, "Al Jazeera");
  assert_string_equal(q->root->key, "aljazeera");
  assert_int_equal(q->has_text, 0);
  assert_tree("outlet:aljazeera", "outlet=aljazeera");
  assert_tree("Outlet:AL-JAZEERA", "outlet=aljazeera");
  assert_tree("author:\"Jane Doe\" tag:hospitals lang:fr",
              "(and author=janedoe tag=hospitals lang=fr)");
  q = parse_ok("tag:Gaza-Strip");
  assert_string_equal(q->root->value, "Gaza-Strip");
  assert_string_equal(q->root->key, "gazastrip");
}

static void test_qp_groups_same_field_filters_into_or(void **state) {
  (void)state;
  assert_tree("outlet:cnn outlet:bbc", "(or outlet=cnn outlet=bbc)");
  assert_tree("gaza outlet:cnn date:2023 outlet:bbc tag:x",
              "(and gaza (or outlet=cnn outlet=bbc) date[20230101,20231231] tag=x)");
  assert_tree("outlet:a author:x outlet:b author:y outlet:c",
              "(and (or outlet=a outlet=b outlet=c) (or author=x author=y))");
  assert_tree("(outlet:a OR outlet:b) outlet:c", "(or outlet=a outlet=b outlet=c)");
}

static void test_qp_groups_filters_within_nested_and(void **state) {
  (void)state;
  assert_tree("x OR (outlet:a outlet:b gaza)", "(or x (and (or outlet=a outlet=b) gaza))");
  assert_tree("(outlet:a outlet:b) OR c", "(or outlet=a outlet=b c)");
}

static void test_qp_keeps_negative_filters_separate(void **state) {
  (void)state;
  assert_tree("-outlet:cnn -outlet:bbc", "(and (not outlet=cnn) (not outlet=bbc))");
  assert_tree("outlet:a -outlet:b outlet:c", "(and (or outlet=a outlet=c) (not outlet=b))");
}

static void test_qp_rejects_filter_without_letters(void **state) {
  (void)state;
  assert_bad("outlet:-", 8, "no letters or digits");
  assert_bad("tag:\"--\"", 6, "no letters or digits");
}

/* ---- dates ----------------------------------------------------------- */

static void test_qp_dates_are_day_month_or_year(void **state) {
  (void)state;
  assert_tree("date:2023-11-02", "date[20231102,20231102]");
  assert_tree("date:2023-11", "date[20231101,20231131]");
  assert_tree("date:2023", "date[20230101,20231231]");
  assert_tree("date:2024-02-29", "date[20240229,20240229]");
  assert_tree("date:2000-02-29", "date[20000229,20000229]");
  qp_query_t *q = parse_ok("date:2023-11");
  assert_string_equal(q->root->value, "2023-11");
  assert_int_equal(q->root->kind, QN_DATE);
}

static void test_qp_date_ranges_may_be_open(void **state) {
  (void)state;
  assert_tree("date:2023-11-01..2023-11-15", "date[20231101,20231115]");
  assert_tree("date:2023-11..", "date[20231101,0]");
  assert_tree("date:..2023", "date[0,20231231]");
  assert_tree("date:..2023-12", "date[0,20231231]");
  assert_tree("date:2023..2023", "date[20230101,20231231]");
  assert_tree("date:\"2023-01..2023-02-10\"", "date[20230101,20230210]");
}

static void test_qp_rejects_bad_dates(void **state) {
  (void)state;
  assert_bad("date:2023-13", 6, "bad date '2023-13' at column 6: month must be 01-12");
  assert_bad("date:2023-00", 6, "month must be 01-12");
  assert_bad("date:2023-02-29", 6, "2023-02 has only 28 days");
  assert_bad("date:1900-02-29", 6, "1900-02 has only 28 days");
  assert_bad("date:2023-04-31", 6, "only 30 days");
  assert_bad("date:2023-01-32", 6, "day must be 01-31");
  assert_bad("date:2023-01-00", 6, "day must be 01-31");
  assert_bad("date:23", 6, "expected YYYY, YYYY-MM or YYYY-MM-DD");
  assert_bad("date:2023-1-02", 6, "expected YYYY");
  assert_bad("date:0000", 6, "year must be");
  assert_bad("date:yesterday", 6, "bad date 'yesterday'");
  assert_bad("date:..", 6, "bad date range '..'");
  assert_bad("date:2023-12..2023-11", 6, "the start is after the end");
  assert_bad("x date:2023-01..2023-13", 17, "bad date '2023-13' at column 17");
  assert_bad("date:2023...2024", 12, "bad date '.2024'");
}

/* ---- options --------------------------------------------------------- */

static void test_qp_options_have_defaults(void **state) {
  (void)state;
  qp_query_t *q = parse_ok("gaza");
  assert_int_equal(q->limit, QP_DEFAULT_LIMIT);
  assert_int_equal(q->offset, 0);
  assert_int_equal(q->has_limit, 0);
  assert_int_equal(q->has_offset, 0);
  assert_int_equal(q->sort, QP_SORT_DEFAULT);
  assert_int_equal(q->exact, 1);
  assert_int_equal(q->nfacets, 0);
}

static void test_qp_options_set_the_page_order_and_facets(void **state) {
  (void)state;
  qp_query_t *q =
      parse_ok("gaza limit:25 offset:50 sort:Newest exact:no facets:outlet,month:5,tag:all");
  assert_string_equal(show("gaza limit:25 offset:50"), "gaza");
  assert_int_equal(q->limit, 25);
  assert_int_equal(q->has_limit, 1);
  assert_int_equal(q->offset, 50);
  assert_int_equal(q->has_offset, 1);
  assert_int_equal(q->sort, QP_SORT_NEWEST);
  assert_int_equal(q->exact, 0);
  assert_int_equal(q->nfacets, 3);
  assert_int_equal(q->facets[0].facet, QP_FACET_OUTLET);
  assert_int_equal(q->facets[0].limit, QP_DEFAULT_FACET_LIMIT);
  assert_int_equal(q->facets[1].facet, QP_FACET_MONTH);
  assert_int_equal(q->facets[1].limit, 5);
  assert_int_equal(q->facets[2].facet, QP_FACET_TAG);
  assert_int_equal(q->facets[2].limit, UINT32_MAX);
}

static void test_qp_options_stand_anywhere_at_top_level(void **state) {
  (void)state;
  qp_query_t *q = parse_ok("gaza OR rafah limit:5");
  assert_string_equal(show("gaza OR rafah limit:5"), "(or gaza rafah)");
  assert_int_equal(q->limit, 5);
  q = parse_ok("limit:0");
  assert_null(q->root);
  assert_int_equal(q->limit, 0);
  assert_int_equal(q->has_limit, 1);
  q = parse_ok("sort:oldest exact:TRUE offset:10000000 limit:1000");
  assert_int_equal(q->sort, QP_SORT_OLDEST);
  assert_int_equal(q->exact, 1);
  assert_int_equal(q->offset, 10000000);
  assert_int_equal(q->limit, QP_MAX_LIMIT);
  assert_tree("a AND limit:3 b", "(and a b)");
}

static void test_qp_rejects_option_given_twice(void **state) {
  (void)state;
  assert_bad("limit:5 gaza limit:6", 14, "option 'limit' given twice");
  assert_bad("sort:newest sort:newest", 13, "option 'sort' given twice");
}

static void test_qp_rejects_option_inside_parentheses_or_negated(void **state) {
  (void)state;
  assert_bad("(gaza limit:5)", 7, "not allowed inside parentheses");
  assert_bad("-limit:5", 2, "cannot be negated");
  assert_bad("NOT sort:newest", 5, "cannot be negated");
}

static void test_qp_rejects_bad_option_values(void **state) {
  (void)state;
  assert_bad("limit:1001", 7, "bad limit '1001'");
  assert_bad("limit:-1", 7, "bad limit");
  assert_bad("limit:ten", 7, "expected a number 0-1000");
  assert_bad("limit:99999999999999999999", 7, "bad limit");
  assert_bad("offset:4294967296", 8, "bad offset"); /* past 32 bits; the engine caps lower */
  assert_bad("offset:1.5", 8, "bad offset");
  assert_bad("sort:date", 6, "bad sort 'date'");
  assert_bad("exact:maybe", 7, "bad exact 'maybe'");
  assert_bad("a OR limit:5", 3, "OR needs a term on both sides");
}

static void test_qp_rejects_bad_facets(void **state) {
  (void)state;
  assert_bad("facets:outlet,color", 15, "unknown facet 'color'");
  assert_bad("facets:outlet,", 15, "empty facet name");
  assert_bad("facets:,outlet", 8, "empty facet name");
  assert_bad("facets:outlet:x", 15, "bad facet limit 'x'");
  assert_bad("facets:outlet:0", 15, "bad facet limit");
  assert_bad("facets:outlet,year,outlet", 20, "facet 'outlet' at column 20 is listed twice");
}

/* ---- errors ---------------------------------------------------------- */

static void test_qp_rejects_unbalanced_quote(void **state) {
  (void)state;
  assert_bad("gaza \"city", 6, "unbalanced '\"' at column 6");
  assert_bad("\"a\" \"b", 5, "unbalanced '\"'");
  assert_bad("outlet:\"Al Jazeera", 8, "unbalanced '\"'");
}

static void test_qp_rejects_unbalanced_parenthesis(void **state) {
  (void)state;
  assert_bad("(gaza OR rafah", 1, "unbalanced '(' at column 1");
  assert_bad("a ((b) c", 3, "unbalanced '('");
  assert_bad("gaza OR rafah)", 14, "unexpected ')' at column 14");
  assert_bad(")", 1, "unexpected ')'");
}

static void test_qp_rejects_empty_parentheses(void **state) {
  (void)state;
  assert_bad("gaza ()", 6, "empty parentheses at column 6");
  assert_bad("( & )", 1, "empty parentheses");
}

static void test_qp_rejects_dangling_operators(void **state) {
  (void)state;
  assert_bad("a OR", 3, "OR needs a term on both sides at column 3");
  assert_bad("OR a", 1, "OR needs a term on both sides");
  assert_bad("a OR OR b", 3, "OR needs a term on both sides");
  assert_bad("(a OR) b", 4, "OR needs a term on both sides");
  assert_bad("a AND", 3, "AND needs a term on both sides at column 3");
  assert_bad("AND b", 1, "AND needs a term on both sides");
  assert_bad("a AND AND b", 3, "AND needs a term on both sides");
  assert_bad("a AND OR b", 3, "AND needs a term on both sides");
  assert_bad("NOT", 1, "NOT needs a term after it at column 1");
  assert_bad("a NOT", 3, "NOT needs a term");
  assert_bad("(NOT) a", 2, "NOT needs a term");
  assert_bad("a OR NOT", 6, "NOT needs a term");
}

static void test_qp_rejects_empty_phrase(void **state) {
  (void)state;
  assert_bad("a \"\"", 3, "empty phrase at column 3");
  assert_bad("\" & \"", 1, "has no words");
}

static void test_qp_columns_count_bytes(void **state) {
  (void)state;
  /* "Ça " is 4 bytes: the quote is byte 5. */
  assert_bad("Ça \"x", 5, "unbalanced");
  qp_query_t *q = parse_ok("été outlet:x");
  assert_int_equal(q->root->kids[1]->column, 7);
}

static void test_qp_unicode_spaces_separate_tokens(void **state) {
  (void)state;
  assert_tree("gaza\xc2\xa0OR\xe2\x80\x83rafah", "(or gaza rafah)");
  assert_tree(
      "a\xe3\x80\x80"
      "b",
      "(and a b)");
}

static void test_qp_rejects_too_deep_nesting(void **state) {
  (void)state;
  char q[512];
  size_t n = 0;
  for (int i = 0; i < QP_MAX_DEPTH; i++) q[n++] = '(';
  q[n++] = 'a';
  for (int i = 0; i < QP_MAX_DEPTH; i++) q[n++] = ')';
  q[n] = '\0';
  assert_string_equal(show(q), "a");
  memmove(q + 1, q, n + 1);
  q[0] = '(';
  q[n + 1] = ')';
  q[n + 2] = '\0';
  assert_bad(q, QP_MAX_DEPTH + 1, "query too complex");
  n = 0;
  for (int i = 0; i <= QP_MAX_DEPTH; i++) n += (size_t)snprintf(q + n, sizeof q - n, "NOT ");
  snprintf(q + n, sizeof q - n, "a");
  assert_bad(q, 4 * QP_MAX_DEPTH + 1, "nested more than 64 deep");
}

static void test_qp_rejects_too_many_nodes(void **state) {
  (void)state;
  static char q[QP_MAX_NODES * 3 + 16];
  size_t n = 0;
  for (int i = 0; i < QP_MAX_NODES - 1; i++) n += (size_t)snprintf(q + n, sizeof q - n, "w ");
  qp_query_t *ok = parse_ok(q);
  assert_int_equal(ok->root->nkids, QP_MAX_NODES - 1);
  snprintf(q + n, sizeof q - n, "w w");
  assert_bad(q, 2 * QP_MAX_NODES + 1, "query too complex");
}

static void test_qp_reports_nomem_when_the_arena_is_full(void **state) {
  (void)state;
  arena_t *small = arena_new(256);
  assert_non_null(small);
  arena_set_cap(small, 1024);
  qp_query_t *q = NULL;
  err_t err = {0};
  const char *text = "\"a b c d e f g h i j k l m n o p q r s t u v w x y z\" outlet:x OR y";
  int rc = qp_parse(text, strlen(text), small, &q, &err);
  assert_int_equal(rc, ERR_NOMEM);
  assert_int_equal(err.code, ERR_NOMEM);
  assert_null(q);
  arena_free(small);
}

static void test_qp_error_is_returned_even_if_err_was_set(void **state) {
  (void)state;
  err_t err = {0};
  err_set(&err, ERR_IO, 0, "earlier");
  qp_query_t *q = NULL;
  assert_int_equal(qp_parse("(", 1, arena, &q, &err), ERR_BAD_QUERY);
  assert_string_equal(err.msg, "earlier"); /* sticky */
}

/* ---- has_text and explain -------------------------------------------- */

static void test_qp_has_text_only_for_positive_text(void **state) {
  (void)state;
  assert_int_equal(parse_ok("gaza")->has_text, 1);
  assert_int_equal(parse_ok("\"a b\" outlet:x")->has_text, 1);
  assert_int_equal(parse_ok("outlet:x date:2023")->has_text, 0);
  assert_int_equal(parse_ok("outlet:x -gaza")->has_text, 0);
  assert_int_equal(parse_ok("outlet:x OR -gaza")->has_text, 0);
  assert_int_equal(parse_ok("outlet:x OR gaza")->has_text, 1);
  assert_int_equal(parse_ok("NOT NOT gaza")->has_text, 1);
  assert_int_equal(parse_ok("title:x*")->has_text, 1);
}

static void test_qp_explain_writes_the_documented_shape(void **state) {
  (void)state;
  qp_query_t *q = parse_ok(
      "gaza \"Gaza City\" title:hospit* outlet:\"Al Jazeera\" date:2023-11 -x "
      "facets:outlet,day:all limit:20");
  assert_string_equal(
      explain(q),
      "{\"root\":{\"op\":\"and\",\"args\":[{\"word\":\"gaza\"},{\"phrase\":[\"gaza\",\"city\"]},"
      "{\"prefix\":\"hospit\",\"field\":\"title\"},"
      "{\"filter\":\"outlet\",\"value\":\"Al Jazeera\",\"key\":\"aljazeera\"},"
      "{\"date\":\"2023-11\",\"from\":\"2023-11-01\",\"to\":\"2023-11-31\"},"
      "{\"op\":\"not\",\"arg\":{\"word\":\"x\"}}]},"
      "\"limit\":20,\"offset\":0,\"sort\":\"relevance\",\"exact\":true,"
      "\"facets\":[{\"name\":\"outlet\",\"limit\":10},{\"name\":\"day\",\"limit\":\"all\"}]}");
  assert_string_equal(explain(parse_ok("a OR b date:..2023")),
                      "{\"root\":{\"op\":\"or\",\"args\":[{\"word\":\"a\"},{\"op\":\"and\","
                      "\"args\":[{\"word\":\"b\"},{\"date\":\"..2023\",\"from\":null,"
                      "\"to\":\"2023-12-31\"}]}]},\"limit\":10,\"offset\":0,\"sort\":"
                      "\"relevance\",\"exact\":true,\"facets\":[]}");
}

static void test_qp_explain_resolves_the_default_sort(void **state) {
  (void)state;
  assert_string_equal(explain(parse_ok("")),
                      "{\"root\":null,\"limit\":10,\"offset\":0,\"sort\":\"newest\","
                      "\"exact\":true,\"facets\":[]}");
  assert_non_null(strstr(explain(parse_ok("outlet:reuters date:2024-05")), "\"sort\":\"newest\""));
  assert_non_null(
      strstr(explain(parse_ok("outlet:reuters sort:relevance")), "\"sort\":\"relevance\""));
  assert_non_null(strstr(explain(parse_ok("gaza sort:oldest exact:no")),
                         "\"sort\":\"oldest\",\"exact\":false"));
}

static void test_qp_explain_escapes_odd_bytes(void **state) {
  (void)state;
  qp_query_t *q = parse_ok("outlet:\"a\\b\xff\"");
  const char *s = explain(q);
  assert_non_null(strstr(s, "\"value\":\"a\\\\b\xef\xbf\xbd\""));
}

/* ---- JSON request builders ------------------------------------------- */

static void test_qp_filter_node_builds_a_keyed_filter(void **state) {
  (void)state;
  qp_node_t *n = qp_filter_node(arena, QF_AUTHOR, "Jane DOE", 8);
  assert_non_null(n);
  assert_int_equal(n->kind, QN_FILTER);
  assert_int_equal(n->field, QF_AUTHOR);
  assert_string_equal(n->value, "Jane DOE");
  assert_string_equal(n->key, "janedoe");
  assert_int_equal(n->column, 0);
  assert_null(qp_filter_node(arena, QF_TITLE, "x", 1));
}

static void test_qp_add_condition_regroups_filters(void **state) {
  (void)state;
  qp_query_t *q = qp_query_new(arena);
  assert_non_null(q);
  assert_null(q->root);
  assert_int_equal(q->limit, QP_DEFAULT_LIMIT);
  assert_int_equal(q->exact, 1);
  assert_int_equal(qp_add_condition(q, qp_filter_node(arena, QF_OUTLET, "CNN", 3), arena), 0);
  assert_int_equal(q->root->kind, QN_FILTER);
  assert_int_equal(qp_add_condition(q, qp_filter_node(arena, QF_OUTLET, "BBC", 3), arena), 0);
  assert_int_equal(q->root->kind, QN_OR);
  assert_int_equal(q->root->nkids, 2);

  q = parse_ok("\"gaza city\" outlet:reuters");
  assert_int_equal(qp_add_condition(q, qp_filter_node(arena, QF_OUTLET, "AP", 2), arena), 0);
  assert_int_equal(qp_add_condition(q, qp_filter_node(arena, QF_TAG, "war", 3), arena), 0);
  buf_t b;
  buf_init(&b, 0);
  show_node(q->root, &b);
  assert_string_equal(b.data, "(and \"gaza city\" (or outlet=reuters outlet=ap) tag=war)");
  buf_fini(&b);
  assert_int_equal(q->has_text, 1);

  q = parse_ok("a OR b");
  assert_int_equal(qp_add_condition(q, qp_filter_node(arena, QF_LANG, "en", 2), arena), 0);
  assert_int_equal(q->root->kind, QN_AND);
  assert_int_equal(q->root->kids[0]->kind, QN_OR);
  assert_int_equal(qp_add_condition(q, NULL, arena), 0);
}

static void test_qp_add_condition_keeps_like_ranked(void **state) {
  (void)state;
  /* like:ID counts as text (relevance order by default) in the JSON form's
   * filters too: {"q":"like:x","outlet":"CNN"} is like:x outlet:CNN. */
  qp_query_t *q = parse_ok("like:x");
  assert_int_equal(q->has_text, 1);
  assert_int_equal(qp_add_condition(q, qp_filter_node(arena, QF_OUTLET, "CNN", 3), arena), 0);
  assert_int_equal(q->has_text, 1);
  assert_int_equal(parse_ok("like:x outlet:CNN")->has_text, 1);
}

static void test_qp_halflife_in_months_and_years_counts_back_from_now(void **state) {
  (void)state;
  assert_int_equal(parse_ok("sort:recent halflife:2w")->news.halflife, 14);
  /* an article dated now minus the span weighs half: since:'s clamped days */
  assert_int_equal(parse_ok("halflife:1m now:2024-03-31")->news.halflife, 31);
  assert_int_equal(parse_ok("now:2023-03-31 halflife:1m")->news.halflife, 31);
  assert_int_equal(parse_ok("now:2024-05-08 halflife:1y")->news.halflife, 366);
  assert_int_equal(parse_ok("now:2023-05-08 halflife:1Y")->news.halflife, 365);
  qp_query_t *out = NULL;
  err_t err = {0};
  assert_int_equal(qp_parse("halflife:3q", 11, arena, &out, &err), ERR_BAD_QUERY);
  assert_int_equal(err.column, 10);
}

static void test_qp_date_node_builds_ranges(void **state) {
  (void)state;
  qp_node_t *n = NULL;
  err_t err = {0};
  assert_int_equal(qp_date_node(arena, "2023-11-01", "2023-11-30", &n, &err), 0);
  assert_int_equal(n->kind, QN_DATE);
  assert_int_equal(n->lo, 20231101);
  assert_int_equal(n->hi, 20231130);
  assert_string_equal(n->value, "2023-11-01..2023-11-30");
  assert_int_equal(qp_date_node(arena, "2023-11", NULL, &n, &err), 0);
  assert_int_equal(n->lo, 20231101);
  assert_int_equal(n->hi, 0);
  assert_string_equal(n->value, "2023-11..");
  assert_int_equal(qp_date_node(arena, NULL, "2023", &n, &err), 0);
  assert_int_equal(n->lo, 0);
  assert_int_equal(n->hi, 20231231);
  assert_int_equal(qp_date_node(arena, "2023-02-30", NULL, &n, &err), ERR_BAD_QUERY);
  assert_null(n);
  assert_non_null(strstr(err.msg, "bad date '2023-02-30'"));
  err_clear(&err);
  assert_int_equal(qp_date_node(arena, "2024", "2023", &n, &err), ERR_BAD_QUERY);
  assert_non_null(strstr(err.msg, "the start is after the end"));
  err_clear(&err);
  assert_int_equal(qp_date_node(arena, NULL, "", &n, &err), ERR_BAD_QUERY);
}

static void test_qp_names_of_facets_and_sorts(void **state) {
  (void)state;
  assert_int_equal(qp_facet_id("outlet", 6), QP_FACET_OUTLET);
  assert_int_equal(qp_facet_id("Month", 5), QP_FACET_MONTH);
  assert_int_equal(qp_facet_id("tags", 4), -1);
  assert_int_equal(qp_facet_id("tag", 3), QP_FACET_TAG);
  assert_int_equal(qp_facet_id(NULL, 0), -1);
  for (int f = 0; f < QP_FACET__COUNT; f++) {
    const char *name = qp_facet_name((qp_facet_t)f);
    assert_int_equal(qp_facet_id(name, strlen(name)), f);
  }
  assert_null(qp_facet_name(QP_FACET__COUNT));
  assert_string_equal(qp_sort_name(QP_SORT_RELEVANCE), "relevance");
  assert_string_equal(qp_sort_name(QP_SORT_NEWEST), "newest");
  assert_string_equal(qp_sort_name(QP_SORT_OLDEST), "oldest");
  assert_string_equal(qp_sort_name(QP_SORT_DEFAULT), "default");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_qp_empty_query_has_no_root),
      T(test_qp_single_word_is_normalized),
      T(test_qp_adjacent_words_are_anded),
      T(test_qp_quoted_text_is_a_phrase),
      T(test_qp_split_token_becomes_phrase),
      T(test_qp_skips_tokens_without_words),
      T(test_qp_lowercase_operators_are_words),
      T(test_qp_or_binds_looser_than_and),
      T(test_qp_not_binds_tighter_than_and),
      T(test_qp_not_alone_means_everything_except),
      T(test_qp_minus_negates_only_when_glued),
      T(test_qp_double_negation_cancels),
      T(test_qp_parentheses_group),
      T(test_qp_flattens_nested_and_and_or),
      T(test_qp_trailing_star_is_a_prefix),
      T(test_qp_rejects_prefix_of_several_words),
      T(test_qp_title_field_takes_word_phrase_or_prefix),
      T(test_qp_unknown_field_is_text),
      T(test_qp_rejects_unsupported_syntax),
      T(test_qp_keeps_everyday_punctuation_as_text),
      T(test_qp_title_applies_to_a_group),
      T(test_qp_name_prefix_filters),
      T(test_qp_near_joins_words_and_prefixes),
      T(test_qp_match_and_relax_options),
      T(test_qp_rejects_field_without_value),
      T(test_qp_filters_take_bare_or_quoted_values),
      T(test_qp_groups_same_field_filters_into_or),
      T(test_qp_groups_filters_within_nested_and),
      T(test_qp_keeps_negative_filters_separate),
      T(test_qp_rejects_filter_without_letters),
      T(test_qp_dates_are_day_month_or_year),
      T(test_qp_date_ranges_may_be_open),
      T(test_qp_rejects_bad_dates),
      T(test_qp_options_have_defaults),
      T(test_qp_options_set_the_page_order_and_facets),
      T(test_qp_options_stand_anywhere_at_top_level),
      T(test_qp_rejects_option_given_twice),
      T(test_qp_rejects_option_inside_parentheses_or_negated),
      T(test_qp_rejects_bad_option_values),
      T(test_qp_rejects_bad_facets),
      T(test_qp_rejects_unbalanced_quote),
      T(test_qp_rejects_unbalanced_parenthesis),
      T(test_qp_rejects_empty_parentheses),
      T(test_qp_rejects_dangling_operators),
      T(test_qp_rejects_empty_phrase),
      T(test_qp_columns_count_bytes),
      T(test_qp_unicode_spaces_separate_tokens),
      T(test_qp_rejects_too_deep_nesting),
      T(test_qp_rejects_too_many_nodes),
      T(test_qp_reports_nomem_when_the_arena_is_full),
      T(test_qp_error_is_returned_even_if_err_was_set),
      T(test_qp_has_text_only_for_positive_text),
      T(test_qp_explain_writes_the_documented_shape),
      T(test_qp_explain_resolves_the_default_sort),
      T(test_qp_explain_escapes_odd_bytes),
      T(test_qp_filter_node_builds_a_keyed_filter),
      T(test_qp_add_condition_regroups_filters),
      T(test_qp_add_condition_keeps_like_ranked),
      T(test_qp_halflife_in_months_and_years_counts_back_from_now),
      T(test_qp_date_node_builds_ranges),
      T(test_qp_names_of_facets_and_sorts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
