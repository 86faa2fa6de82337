/* test_doc.c: unit tests of doc.c: JSON Lines records (every rejection
 * reason), dates, NUL and UTF-8 handling, .txt articles and the GET form. */
/* cmocka.h needs these first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "schema.h"

typedef struct {
  arena_t *a;
  doc_t d;
  err_t err;
} fx_t;

static int setup(void **state) {
  static fx_t fx;
  memset(&fx, 0, sizeof fx);
  fx.a = arena_new(0);
  *state = &fx;
  return fx.a ? 0 : -1;
}

static int teardown(void **state) {
  fx_t *fx = *state;
  arena_free(fx->a);
  return 0;
}

static int parse(fx_t *fx, const char *line) {
  err_clear(&fx->err);
  return doc_parse_json(line, strlen(line), fx->a, &fx->d, &fx->err);
}

static void expect_rejected(fx_t *fx, const char *line, const char *msg) {
  assert_int_equal(parse(fx, line), ERR_BAD_INPUT);
  assert_int_equal(fx->err.code, ERR_BAD_INPUT);
  assert_string_equal(fx->err.msg, msg);
  assert_null(fx->d.id);
}

static void test_doc_parses_full_record(void **state) {
  fx_t *fx = *state;
  assert_int_equal(
      parse(fx,
            "{\"id\":\"x-1\",\"outlet\":\"The Daily Lantern\",\"date\":\"2023-11-02\","
            "\"title\":\"Harbor opens\",\"url\":\"https://lantern.example/1\","
            "\"author\":\"Ada Quill, Bo Renn\",\"lang\":\"en\",\"tags\":[\"harbor\",\"city\"],"
            "\"body\":\"one\\ntwo\"}"),
      0);
  doc_t *d = &fx->d;
  assert_string_equal(d->id, "x-1");
  assert_string_equal(d->outlet, "The Daily Lantern");
  assert_string_equal(d->date, "2023-11-02");
  assert_string_equal(d->title, "Harbor opens");
  assert_string_equal(d->url, "https://lantern.example/1");
  assert_string_equal(d->author, "Ada Quill, Bo Renn");
  assert_string_equal(d->lang, "en");
  assert_int_equal(d->ntags, 2);
  assert_string_equal(d->tags[0], "harbor");
  assert_string_equal(d->tags[1], "city");
  assert_string_equal(d->body, "one\ntwo");
  assert_string_equal(d->day, "20231102");
  assert_string_equal(d->sortkey, "20231102000000");
  assert_null(d->date_warning);
}

static void test_doc_minimal_record_has_only_id(void **state) {
  fx_t *fx = *state;
  assert_int_equal(parse(fx, "{\"id\":\"only\"}"), 0);
  assert_string_equal(fx->d.id, "only");
  assert_null(fx->d.title);
  assert_null(fx->d.body);
  assert_null(fx->d.outlet);
  assert_null(fx->d.date);
  assert_null(fx->d.tags);
  assert_int_equal(fx->d.ntags, 0);
  assert_string_equal(fx->d.day, "");
  assert_string_equal(fx->d.sortkey, "");
  assert_null(fx->d.date_warning);
}

static void test_doc_ignores_unknown_fields(void **state) {
  fx_t *fx = *state;
  assert_int_equal(parse(fx, "{\"bias\":2,\"id\":\"u\",\"extra\":{\"a\":[1,2]},\"title\":\"T\"}"),
                   0);
  assert_string_equal(fx->d.id, "u");
  assert_string_equal(fx->d.title, "T");
}

static void test_doc_null_and_empty_values_are_absent(void **state) {
  fx_t *fx = *state;
  assert_int_equal(parse(fx,
                         "{\"id\":\"n\",\"title\":null,\"outlet\":\"\",\"date\":null,"
                         "\"tags\":null,\"author\":\"\",\"body\":null}"),
                   0);
  assert_null(fx->d.title);
  assert_null(fx->d.outlet);
  assert_null(fx->d.date);
  assert_null(fx->d.tags);
  assert_null(fx->d.author);
  assert_null(fx->d.body);
  assert_null(fx->d.date_warning);
  assert_int_equal(parse(fx, "{\"id\":\"n\",\"tags\":[\"\",\"a\",\"\"]}"), 0);
  assert_int_equal(fx->d.ntags, 1);
  assert_string_equal(fx->d.tags[0], "a");
  assert_int_equal(parse(fx, "{\"id\":\"n\",\"tags\":[]}"), 0);
  assert_int_equal(fx->d.ntags, 0);
  assert_null(fx->d.tags);
}

static void test_doc_rejects_invalid_json_with_column(void **state) {
  fx_t *fx = *state;
  assert_int_equal(parse(fx, "{\"id\":\"a\",\"title\":x}"), ERR_BAD_INPUT);
  assert_non_null(strstr(fx->err.msg, "not valid JSON: "));
  assert_non_null(strstr(fx->err.msg, " at column 19"));
  assert_true(fx->err.column > 0);
  assert_int_equal(parse(fx, "{\"id\":\"a\""), ERR_BAD_INPUT);
  assert_non_null(strstr(fx->err.msg, "not valid JSON: "));
  assert_int_equal(parse(fx, "{\"id\":\"a\"} trailing"), ERR_BAD_INPUT);
  assert_non_null(strstr(fx->err.msg, "not valid JSON: "));
  assert_int_equal(parse(fx, "{\"id\":\"a\",\"title\":\"\\ud800\"}"), ERR_BAD_INPUT);
  assert_non_null(strstr(fx->err.msg, "not valid JSON: "));
  assert_int_equal(parse(fx, ""), ERR_BAD_INPUT);
  assert_non_null(strstr(fx->err.msg, "not valid JSON: "));
  assert_null(fx->d.id);
}

static void test_doc_rejects_non_object(void **state) {
  fx_t *fx = *state;
  expect_rejected(fx, "[{\"id\":\"a\"}]", "line is not a JSON object");
  expect_rejected(fx, "42", "line is not a JSON object");
  expect_rejected(fx, "\"id\"", "line is not a JSON object");
  expect_rejected(fx, "null", "line is not a JSON object");
}

static void test_doc_rejects_missing_or_bad_id(void **state) {
  fx_t *fx = *state;
  expect_rejected(fx, "{\"title\":\"no id\"}", "missing id");
  expect_rejected(fx, "{\"id\":null}", "missing id");
  expect_rejected(fx, "{\"id\":7}", "id must be a string");
  expect_rejected(fx, "{\"id\":[\"a\"]}", "id must be a string");
  expect_rejected(fx, "{\"id\":\"\"}", "id is empty");
  expect_rejected(fx, "{\"id\":\"a\\tb\"}", "id contains a control character");
  expect_rejected(fx, "{\"id\":\"a\\u007fb\"}", "id contains a control character");
}

static void test_doc_id_length_limit_is_240_bytes(void **state) {
  fx_t *fx = *state;
  char line[400], id[300];
  memset(id, 'k', SCHEMA_MAX_ID);
  id[SCHEMA_MAX_ID] = '\0';
  snprintf(line, sizeof line, "{\"id\":\"%s\"}", id);
  assert_int_equal(parse(fx, line), 0);
  assert_int_equal(strlen(fx->d.id), SCHEMA_MAX_ID);
  id[SCHEMA_MAX_ID] = 'k';
  id[SCHEMA_MAX_ID + 1] = '\0';
  snprintf(line, sizeof line, "{\"id\":\"%s\"}", id);
  expect_rejected(fx, line, "id longer than 240 bytes");
}

static void test_doc_rejects_fields_of_wrong_type(void **state) {
  fx_t *fx = *state;
  static const char *fields[] = {"title", "outlet", "date", "url", "author", "lang", "body"};
  static const char *values[] = {"1", "true", "[\"a\"]", "{\"a\":\"b\"}", "1.5"};
  for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
    for (size_t j = 0; j < sizeof values / sizeof *values; j++) {
      char line[200], msg[100];
      snprintf(line, sizeof line, "{\"id\":\"w\",\"%s\":%s}", fields[i], values[j]);
      snprintf(msg, sizeof msg, "field '%s' must be a string", fields[i]);
      expect_rejected(fx, line, msg);
    }
  }
}

static void test_doc_rejects_tags_not_array_of_strings(void **state) {
  fx_t *fx = *state;
  const char *msg = "field 'tags' must be an array of strings";
  expect_rejected(fx, "{\"id\":\"t\",\"tags\":\"harbor\"}", msg);
  expect_rejected(fx, "{\"id\":\"t\",\"tags\":[\"a\",1]}", msg);
  expect_rejected(fx, "{\"id\":\"t\",\"tags\":[null]}", msg);
  expect_rejected(fx, "{\"id\":\"t\",\"tags\":[[\"a\"]]}", msg);
  expect_rejected(fx, "{\"id\":\"t\",\"tags\":{\"a\":\"b\"}}", msg);
}

static void test_doc_bad_date_keeps_record_undated(void **state) {
  fx_t *fx = *state;
  assert_int_equal(parse(fx, "{\"id\":\"b\",\"date\":\"2023-02-29\",\"title\":\"T\"}"), 0);
  assert_string_equal(fx->d.id, "b");
  assert_string_equal(fx->d.title, "T");
  assert_null(fx->d.date);
  assert_string_equal(fx->d.day, "");
  assert_string_equal(fx->d.sortkey, "");
  assert_string_equal(fx->d.date_warning, "bad date '2023-02-29': no such day");
  assert_int_equal(parse(fx, "{\"id\":\"b\",\"date\":\"yesterday\"}"), 0);
  assert_string_equal(fx->d.date_warning, "bad date 'yesterday': not YYYY-MM-DD");
}

static void test_doc_bad_date_warning_is_short_and_printable(void **state) {
  fx_t *fx = *state;
  char line[1200];
  char date[1001];
  memset(date, 'z', 1000);
  date[1000] = '\0';
  snprintf(line, sizeof line, "{\"id\":\"b\",\"date\":\"\\u0001%s\"}", date);
  assert_int_equal(parse(fx, line), 0);
  assert_non_null(fx->d.date_warning);
  assert_true(strlen(fx->d.date_warning) < 120);
  assert_non_null(strstr(fx->d.date_warning, "bad date '?zzz"));
  assert_non_null(strstr(fx->d.date_warning, "...'"));
}

static void test_doc_parse_date_accepts_iso_forms(void **state) {
  (void)state;
  static const struct {
    const char *in, *day, *key;
  } ok[] = {
      {"2023-11-02", "20231102", "20231102000000"},
      {"2023-11-02T14:05", "20231102", "20231102140500"},
      {"2023-11-02T14:05:09", "20231102", "20231102140509"},
      {"2023-11-02T14:05:00Z", "20231102", "20231102140500"},
      {"2023-11-02 14:05+02:00", "20231102", "20231102140500"},
      {"2023-11-02T23:59:59.123456-05:00", "20231102", "20231102235959"},
      {"2023-11-02T00:00:00,5+0530", "20231102", "20231102000000"},
      {"2023-11-02T01:02:03+09", "20231102", "20231102010203"},
      {"2023-11-02t01:02z", "20231102", "20231102010200"},
      {"2016-12-31T23:59:60Z", "20161231", "20161231235960"},
      {"2024-02-29", "20240229", "20240229000000"},
      {"2000-02-29", "20000229", "20000229000000"},
      {"0001-01-01", "00010101", "00010101000000"},
      {"9999-12-31T23:59", "99991231", "99991231235900"},
  };
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    char day[9], key[15];
    const char *why = NULL;
    if (doc_parse_date(ok[i].in, day, key, &why) != 0) fail_msg("%s: %s", ok[i].in, why);
    assert_string_equal(day, ok[i].day);
    assert_string_equal(key, ok[i].key);
  }
  /* The day is the one written: no conversion to UTC across midnight. */
  char day[9], key[15];
  assert_int_equal(doc_parse_date("2023-12-31T23:30:00-10:00", day, key, NULL), 0);
  assert_string_equal(day, "20231231");
}

static void test_doc_parse_date_rejects_with_reason(void **state) {
  (void)state;
  static const struct {
    const char *in, *why;
  } bad[] = {
      {"", "empty"},
      {"2023", "not YYYY-MM-DD"},
      {"2023-1-02", "not YYYY-MM-DD"},
      {"02/11/2023", "not YYYY-MM-DD"},
      {"0000-01-01", "year out of range"},
      {"2023-13-01", "month out of range"},
      {"2023-00-10", "month out of range"},
      {"2023-02-29", "no such day"},
      {"1900-02-29", "no such day"},
      {"2023-04-31", "no such day"},
      {"2023-04-00", "no such day"},
      {"2023-11-02X", "unexpected text after the day"},
      {"2023-11-02 ", "time is not hh:mm"},
      {"2023-11-02T1405", "time is not hh:mm"},
      {"2023-11-02T24:00", "hour out of range"},
      {"2023-11-02T10:60", "minute out of range"},
      {"2023-11-02T10:10:61", "second out of range"},
      {"2023-11-02T10:10:5", "seconds are not ss"},
      {"2023-11-02T10:10:05.", "empty fraction of a second"},
      {"2023-11-02T10:10+2", "bad UTC offset"},
      {"2023-11-02T10:10+02:3", "bad UTC offset"},
      {"2023-11-02T10:10+25:00", "UTC offset out of range"},
      {"2023-11-02T10:10Z junk", "unexpected text after the time"},
      {"2023-11-02T10:10:00ZZ", "unexpected text after the time"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char day[9] = "x", key[15] = "x";
    const char *why = NULL;
    if (doc_parse_date(bad[i].in, day, key, &why) != -1) fail_msg("accepted %s", bad[i].in);
    assert_non_null(why);
    if (strcmp(why, bad[i].why) != 0)
      fail_msg("%s: got '%s', want '%s'", bad[i].in, why, bad[i].why);
    assert_string_equal(day, "");
    assert_string_equal(key, "");
  }
}

static void test_doc_valid_day_knows_leap_years(void **state) {
  (void)state;
  assert_true(doc_valid_day(2024, 2, 29));
  assert_true(doc_valid_day(2000, 2, 29));
  assert_false(doc_valid_day(1900, 2, 29));
  assert_false(doc_valid_day(2023, 2, 29));
  assert_true(doc_valid_day(2023, 2, 28));
  assert_true(doc_valid_day(2023, 12, 31));
  assert_false(doc_valid_day(2023, 11, 31));
  assert_false(doc_valid_day(0, 1, 1));
  assert_false(doc_valid_day(10000, 1, 1));
  assert_false(doc_valid_day(2023, 0, 1));
  assert_false(doc_valid_day(2023, 1, 0));
}

static void test_doc_nul_characters_become_spaces(void **state) {
  fx_t *fx = *state;
  assert_int_equal(parse(fx,
                         "{\"id\":\"a\\u0000b\",\"title\":\"x\\u0000y\\u0000\","
                         "\"tags\":[\"p\\u0000q\"],\"body\":\"\\u0000\"}"),
                   0);
  assert_string_equal(fx->d.id, "a b");
  assert_string_equal(fx->d.title, "x y ");
  assert_string_equal(fx->d.tags[0], "p q");
  assert_string_equal(fx->d.body, " ");
}

static void test_doc_repairs_invalid_utf8(void **state) {
  fx_t *fx = *state;
  /* A stray continuation byte, a truncated sequence, an overlong '/', and
   * invalid bytes inside a key (the key then is not "title"). */
  assert_int_equal(parse(fx,
                         "{\"id\":\"r\xff\",\"title\":\"caf\xc3 \x80x \xc0\xaf\","
                         "\"bo\xfe\":\"ignored\",\"body\":\"ok \xe2\x80\x99s\"}"),
                   0);
  assert_string_equal(fx->d.id, "r\xef\xbf\xbd");
  assert_string_equal(fx->d.title, "caf\xef\xbf\xbd \xef\xbf\xbdx \xef\xbf\xbd\xef\xbf\xbd");
  assert_string_equal(fx->d.body, "ok \xe2\x80\x99s");
  assert_true(utf8_valid(fx->d.title, strlen(fx->d.title)));
}

static void test_doc_out_of_memory_is_reported(void **state) {
  (void)state;
  arena_t *a = arena_new(1024);
  arena_set_cap(a, 1024);
  char line[5000];
  memset(line, 0, sizeof line);
  strcpy(line, "{\"id\":\"m\",\"body\":\"");
  memset(line + strlen(line), 'b', 3000);
  strcat(line, "\"}");
  doc_t d;
  err_t err = {0};
  assert_int_equal(doc_parse_json(line, strlen(line), a, &d, &err), ERR_NOMEM);
  arena_free(a);
}

static int from_text(fx_t *fx, const char *rel, const char *text, size_t len) {
  err_clear(&fx->err);
  return doc_from_text(rel, text, len, fx->a, &fx->d, &fx->err);
}

static void test_doc_text_article_title_and_body(void **state) {
  fx_t *fx = *state;
  const char *t = "\n  \n   Harbor Opens Again  \r\n\r\n\nFirst paragraph.\r\nSecond one.\n\n \n";
  assert_int_equal(from_text(fx, "2023/harbor.txt", t, strlen(t)), 0);
  assert_string_equal(fx->d.id, "2023/harbor.txt");
  assert_string_equal(fx->d.title, "Harbor Opens Again");
  assert_string_equal(fx->d.body, "First paragraph.\nSecond one.");
  assert_null(fx->d.date);
  assert_null(fx->d.outlet);
  assert_string_equal(fx->d.day, "");
}

static void test_doc_text_article_title_only(void **state) {
  fx_t *fx = *state;
  assert_int_equal(from_text(fx, "t.txt", "Just a title", 12), 0);
  assert_string_equal(fx->d.title, "Just a title");
  assert_null(fx->d.body);
}

static void test_doc_text_article_repairs_bytes_and_drops_bom(void **state) {
  fx_t *fx = *state;
  const char t[] = "\xEF\xBB\xBFTitle \xff\nBody\0with nul\rold mac line";
  assert_int_equal(from_text(fx, "b.txt", t, sizeof t - 1), 0);
  assert_string_equal(fx->d.title, "Title \xef\xbf\xbd");
  assert_string_equal(fx->d.body, "Body with nul\nold mac line");
}

static void test_doc_text_article_rejects_empty_file_and_bad_path(void **state) {
  fx_t *fx = *state;
  assert_int_equal(from_text(fx, "e.txt", " \n\t\r\n", 5), ERR_BAD_INPUT);
  assert_string_equal(fx->err.msg, "file has no text");
  assert_int_equal(from_text(fx, "e.txt", "", 0), ERR_BAD_INPUT);
  assert_int_equal(from_text(fx, "", "T", 1), ERR_BAD_INPUT);
  assert_string_equal(fx->err.msg, "id is empty");
  char rel[300];
  memset(rel, 'p', 260);
  rel[260] = '\0';
  assert_int_equal(from_text(fx, rel, "T", 1), ERR_BAD_INPUT);
  assert_string_equal(fx->err.msg, "id longer than 240 bytes");
}

static void test_doc_write_json_round_trips(void **state) {
  fx_t *fx = *state;
  const char *line =
      "{\"id\":\"rt-1\",\"title\":\"Caf\xc3\xa9 "
      "\\\"quoted\\\"\",\"outlet\":\"\xc3\x91\x61nd\xc3\xba "
      "Wire\",\"date\":\"2024-02-29T10:00:00+01:00\",\"url\":\"https://w.example/a?b=c\","
      "\"author\":\"Zo\xc3\xab Marr\",\"lang\":\"fr\",\"tags\":[\"a b\",\"c\"],"
      "\"body\":\"p1\\np2\\ttab \\\\ back\"}";
  assert_int_equal(parse(fx, line), 0);
  buf_t b;
  buf_init(&b, 0);
  doc_write_json(&fx->d, &b);
  assert_int_equal(b.err, 0);
  assert_string_equal(b.data, line);
  doc_t first = fx->d;
  assert_int_equal(parse(fx, b.data), 0);
  assert_string_equal(fx->d.body, first.body);
  assert_string_equal(fx->d.title, first.title);
  assert_string_equal(fx->d.sortkey, "20240229100000");
  buf_fini(&b);
}

static void test_doc_write_json_omits_absent_fields(void **state) {
  fx_t *fx = *state;
  assert_int_equal(parse(fx, "{\"body\":\"b\",\"id\":\"o\",\"tags\":[],\"date\":\"bad\"}"), 0);
  buf_t b;
  buf_init(&b, 0);
  buf_puts(&b, "{\"ok\":true,\"doc\":");
  doc_write_json(&fx->d, &b);
  buf_putc(&b, '}');
  assert_string_equal(b.data, "{\"ok\":true,\"doc\":{\"id\":\"o\",\"body\":\"b\"}}");
  buf_fini(&b);
}

/* A clone outlives its arena and writes the same JSON, absent fields and
 * tags included; the date warning is not carried over. */
static void test_doc_clone_outlives_the_arena(void **state) {
  fx_t *fx = *state;
  const char *lines[] = {
      "{\"id\":\"c-1\",\"title\":\"T\",\"outlet\":\"O\",\"date\":\"2024-02-29\",\"url\":\"u\","
      "\"author\":\"A\",\"lang\":\"fr\",\"tags\":[\"x\",\"\",\"y z\"],\"body\":\"b\"}",
      "{\"id\":\"c-2\",\"date\":\"not a date\"}",
  };
  for (size_t i = 0; i < 2; i++) {
    assert_int_equal(parse(fx, lines[i]), 0);
    buf_t want, got;
    buf_init(&want, 0);
    buf_init(&got, 0);
    doc_write_json(&fx->d, &want);
    const doc_t *d = &fx->d;
    const char *f[] = {d->id, d->outlet, d->date, d->title, d->url, d->author, d->lang, d->body};
    size_t size = sizeof *d + d->ntags * sizeof(char *), bytes = 0;
    for (size_t k = 0; k < sizeof f / sizeof *f; k++) size += f[k] ? strlen(f[k]) + 1 : 0;
    for (size_t k = 0; k < d->ntags; k++) size += strlen(d->tags[k]) + 1;
    doc_t *c = doc_clone(d, &bytes);
    assert_non_null(c);
    assert_int_equal(bytes, size); /* one block: the memory bound of shards.h counts it */
    arena_reset(fx->a);
    memset(&fx->d, 0, sizeof fx->d);
    assert_null(c->date_warning);
    assert_int_equal(c->ntags, i == 0 ? 2 : 0); /* the empty tag is dropped by the parser */
    assert_string_equal(c->day, i == 0 ? "20240229" : "");
    doc_write_json(c, &got);
    assert_string_equal(got.data, want.data);
    free(c);
    buf_fini(&want);
    buf_fini(&got);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_doc_parses_full_record, setup, teardown),
      cmocka_unit_test_setup_teardown(test_doc_clone_outlives_the_arena, setup, teardown),
      cmocka_unit_test_setup_teardown(test_doc_minimal_record_has_only_id, setup, teardown),
      cmocka_unit_test_setup_teardown(test_doc_ignores_unknown_fields, setup, teardown),
      cmocka_unit_test_setup_teardown(test_doc_null_and_empty_values_are_absent, setup, teardown),
      cmocka_unit_test_setup_teardown(test_doc_rejects_invalid_json_with_column, setup, teardown),
      cmocka_unit_test_setup_teardown(test_doc_rejects_non_object, setup, teardown),
      cmocka_unit_test_setup_teardown(test_doc_rejects_missing_or_bad_id, setup, teardown),
      cmocka_unit_test_setup_teardown(test_doc_id_length_limit_is_240_bytes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_doc_rejects_fields_of_wrong_type, setup, teardown),
      cmocka_unit_test_setup_teardown(test_doc_rejects_tags_not_array_of_strings, setup, teardown),
      cmocka_unit_test_setup_teardown(test_doc_bad_date_keeps_record_undated, setup, teardown),
      cmocka_unit_test_setup_teardown(test_doc_bad_date_warning_is_short_and_printable, setup,
                                      teardown),
      cmocka_unit_test(test_doc_parse_date_accepts_iso_forms),
      cmocka_unit_test(test_doc_parse_date_rejects_with_reason),
      cmocka_unit_test(test_doc_valid_day_knows_leap_years),
      cmocka_unit_test_setup_teardown(test_doc_nul_characters_become_spaces, setup, teardown),
      cmocka_unit_test_setup_teardown(test_doc_repairs_invalid_utf8, setup, teardown),
      cmocka_unit_test(test_doc_out_of_memory_is_reported),
      cmocka_unit_test_setup_teardown(test_doc_text_article_title_and_body, setup, teardown),
      cmocka_unit_test_setup_teardown(test_doc_text_article_title_only, setup, teardown),
      cmocka_unit_test_setup_teardown(test_doc_text_article_repairs_bytes_and_drops_bom, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_doc_text_article_rejects_empty_file_and_bad_path, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_doc_write_json_round_trips, setup, teardown),
      cmocka_unit_test_setup_teardown(test_doc_write_json_omits_absent_fields, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
