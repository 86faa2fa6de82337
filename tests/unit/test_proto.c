/* test_proto.c: the line protocol without an index: the command table,
 * reading requests once (proto_read), the AUTH gate, and the answers and
 * errors that need no engine.  Expected answers are written from SPEC.md,
 * or read back with jansson, never taken from what the code printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "proto.h"

/* The error object of an answer line, as jansson reads it (the caller
 * decrefs the root, returned in *root). */
static json_t *error_of(const buf_t *out, json_t **root) {
  json_error_t je;
  assert_true(out->len > 0 && out->data[out->len - 1] == '\n');
  *root = json_loadb(out->data, out->len, 0, &je);
  assert_non_null(*root);
  assert_true(json_is_false(json_object_get(*root, "ok")));
  json_t *e = json_object_get(*root, "error");
  assert_true(json_is_object(e));
  return e;
}

/* Answer one line without an engine; returns the ERR_* code. */
static int answer(proto_ctx_t *ctx, const char *line, buf_t *out, unsigned *flags) {
  buf_reset(out);
  return proto_handle(ctx, line, strlen(line), out, flags);
}

static void test_proto_table_names_are_unique_and_upper_case(void **state) {
  size_t n;
  const proto_command_t *t = proto_commands(&n);
  assert_true(n >= 10);
  for (size_t i = 0; i < n; i++) {
    for (const char *p = t[i].name; *p; p++) assert_true(*p >= 'A' && *p <= 'Z');
    for (size_t k = i + 1; k < n; k++) assert_string_not_equal(t[i].name, t[k].name);
    assert_non_null(t[i].usage);
    assert_non_null(t[i].help);
    /* Every command but AUTH (the gate's) has a handler. */
    assert_true((t[i].handler == NULL) == ((t[i].flags & PROTO_CMD_AUTH) != 0));
    /* A query command runs on the engine. */
    if (t[i].flags & PROTO_CMD_QUERY) assert_true(t[i].flags & PROTO_CMD_ENGINE);
  }
  assert_true(proto_find_command("AUTH", 4)->flags & PROTO_CMD_AUTH);
  assert_true(proto_find_command("QUIT", 4)->flags & PROTO_CMD_CLOSE);
  assert_false(proto_find_command("PING", 4)->flags & (PROTO_CMD_AUTH | PROTO_CMD_CLOSE));
}

static void test_proto_find_command_ignores_case_but_not_length(void **state) {
  assert_string_equal(proto_find_command("search", 6)->name, "SEARCH");
  assert_string_equal(proto_find_command("CoUnT", 5)->name, "COUNT");
  assert_null(proto_find_command("SEARCHX", 7));
  assert_null(proto_find_command("SEA", 3));
  assert_null(proto_find_command("", 0));
  /* len bounds the name: the rest of the line is not part of it */
  assert_string_equal(proto_find_command("GET a1", 3)->name, "GET");
}

static void test_proto_read_text_form_trims_the_argument(void **state) {
  static const char line[] = "  search \t gaza city \t\r";
  proto_req_t r;
  assert_int_equal(proto_read(line, strlen(line), &r), 0);
  assert_string_equal(r.cmd->name, "SEARCH");
  assert_int_equal(r.len, 9);
  assert_memory_equal(r.arg, "gaza city", 9);
  assert_ptr_equal(r.arg, line + 11); /* in the line, not a copy */
  assert_null(r.json);
  assert_null(r.q); /* parsed by proto_answer, on the worker */
  proto_req_fini(&r);
  assert_null(r.cmd);
}

static void test_proto_read_text_form_checks_arity_keeping_the_command(void **state) {
  proto_req_t r;
  assert_int_equal(proto_read("GET", 3, &r), ERR_BAD_REQUEST);
  assert_string_equal(r.cmd->name, "GET");
  assert_string_equal(r.err.msg, "GET needs an argument: GET <id>");
  proto_req_fini(&r);
  assert_int_equal(proto_read("PING  x", 7, &r), ERR_BAD_REQUEST);
  assert_string_equal(r.cmd->name, "PING");
  assert_int_equal(r.err.column, 7); /* the argument's first byte */
  proto_req_fini(&r);
  assert_int_equal(proto_read("SEARCH", 6, &r), 0); /* the empty query: every article */
  assert_int_equal(r.len, 0);
  proto_req_fini(&r);
}

static void test_proto_read_rejects_unknown_empty_and_non_utf8(void **state) {
  proto_req_t r;
  assert_int_equal(proto_read("FIND x", 6, &r), ERR_UNKNOWN_COMMAND);
  assert_null(r.cmd);
  assert_int_equal(r.err.column, 1);
  proto_req_fini(&r);
  assert_int_equal(proto_read(" \t ", 3, &r), ERR_BAD_REQUEST);
  assert_null(r.cmd);
  proto_req_fini(&r);
  assert_int_equal(proto_read("SEARCH \xff", 8, &r), ERR_BAD_REQUEST);
  assert_string_equal(r.err.msg, "request is not valid UTF-8");
  assert_null(r.cmd); /* an unreadable line names no command */
  proto_req_fini(&r);
}

static void test_proto_read_json_form(void **state) {
  static const char get[] = "{\"op\":\"get\",\"id\":\"a/1\"}";
  proto_req_t r;
  assert_int_equal(proto_read(get, strlen(get), &r), 0);
  assert_string_equal(r.cmd->name, "GET");
  assert_non_null(r.json);
  assert_int_equal(r.len, 3);
  assert_memory_equal(r.arg, "a/1", 3);
  proto_req_fini(&r);
  assert_null(r.json);

  static const char *const bad[][2] = {
      {"{\"op\":\"search\",\"qq\":1}", "unknown request field \"qq\""},
      {"{\"q\":\"x\"}", "a JSON request needs \"op\", a command name"},
      {"{\"op\":\"get\"}", "\"get\" needs \"id\", a string"},
      {"{\"op\":\"get\",\"id\":5}", "\"get\" needs \"id\", a string"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(proto_read(bad[i][0], strlen(bad[i][0]), &r), ERR_BAD_REQUEST);
    assert_string_equal(r.err.msg, bad[i][1]);
    proto_req_fini(&r);
  }
  assert_int_equal(proto_read("{\"op\":\"find\"}", 13, &r), ERR_UNKNOWN_COMMAND);
  proto_req_fini(&r);
  /* Not JSON: jansson's column, within the token where the ':' is missing
   * (bytes 7 to 9), in the message as well. */
  assert_int_equal(proto_read("{\"op\" \"x\"}", 10, &r), ERR_BAD_REQUEST);
  assert_in_range(r.err.column, 7, 9);
  char at[32];
  snprintf(at, sizeof at, "at column %d", r.err.column);
  assert_non_null(strstr(r.err.msg, at));
  proto_req_fini(&r);
  /* The named command is kept for a request that is otherwise wrong. */
  assert_int_equal(proto_read("{\"op\":\"count\",\"bogus\":1}", 24, &r), ERR_BAD_REQUEST);
  assert_string_equal(r.cmd->name, "COUNT");
  proto_req_fini(&r);
}

/* What the gate does with line, given the secret and whether the
 * connection has authenticated: "-" (not answered), "ok", or the message. */
static const char *gate(const char *line, const char *secret, int *authed) {
  static char text[128];
  proto_req_t r;
  buf_t out;
  buf_init(&out, 0);
  proto_read(line, strlen(line), &r);
  int rc = -1;
  if (!proto_gate(&r, secret, authed, &out, &rc)) {
    snprintf(text, sizeof text, "-");
    assert_int_equal(out.len, 0);
  } else if (rc == 0) {
    assert_string_equal(out.data, "{\"ok\":true}\n");
    snprintf(text, sizeof text, "ok");
  } else {
    json_t *root, *e = error_of(&out, &root);
    assert_int_equal(rc, ERR_UNAUTHORIZED);
    assert_string_equal(json_string_value(json_object_get(e, "code")), "unauthorized");
    snprintf(text, sizeof text, "%s", json_string_value(json_object_get(e, "message")));
    json_decref(root);
  }
  buf_fini(&out);
  proto_req_fini(&r);
  return text;
}

static void test_proto_gate_without_a_secret_answers_only_auth(void **state) {
  int authed = 0;
  assert_string_equal(gate("AUTH anything", NULL, &authed), "ok");
  assert_string_equal(gate("{\"op\":\"auth\",\"id\":\"x\"}", NULL, &authed), "ok");
  assert_string_equal(gate("AUTH", NULL, &authed), "-"); /* its read error answers it */
  assert_string_equal(gate("PING", NULL, &authed), "-");
  assert_string_equal(gate("nonsense", NULL, &authed), "-");
  assert_int_equal(authed, 0);
}

static void test_proto_gate_with_a_secret(void **state) {
  const char *secret = "correct horse";
  int authed = 0;
  assert_string_equal(gate("PING", secret, &authed), "send AUTH <secret> first");
  assert_string_equal(gate("nonsense", secret, &authed), "send AUTH <secret> first");
  assert_string_equal(gate("AUTH correct", secret, &authed), "wrong secret");
  assert_string_equal(gate("AUTH correct horsey", secret, &authed), "wrong secret");
  assert_string_equal(gate("AUTH", secret, &authed), "wrong secret");
  assert_int_equal(authed, 0);
  assert_string_equal(gate("auth  correct horse ", secret, &authed), "ok");
  assert_int_equal(authed, 1);
  assert_string_equal(gate("PING", secret, &authed), "-");
  assert_string_equal(gate("AUTH wrong", secret, &authed), "wrong secret");
  authed = 0;
  assert_string_equal(gate("{\"op\":\"auth\",\"id\":\"correct horse\"}", secret, &authed), "ok");
  assert_int_equal(authed, 1);
}

static void test_proto_secret_equal(void **state) {
  assert_true(proto_secret_equal("abc", "abc", 3));
  assert_false(proto_secret_equal("abc", "abd", 3));
  assert_false(proto_secret_equal("abc", "ab", 2));
  assert_false(proto_secret_equal("abc", "abcabc", 6)); /* not a repeat of it */
  assert_false(proto_secret_equal("abc", "", 0));
}

static void test_proto_answers_without_an_engine(void **state) {
  proto_ctx_t *ctx = proto_ctx_new(NULL, NULL);
  assert_non_null(ctx);
  buf_t out;
  buf_init(&out, 0);
  unsigned flags;
  assert_int_equal(answer(ctx, "ping", &out, &flags), 0);
  assert_string_equal(out.data, "{\"ok\":true}\n");
  assert_int_equal(flags, 0);

  /* HELP lists the table, in its order. */
  assert_int_equal(answer(ctx, "HELP", &out, &flags), 0);
  json_t *root = json_loadb(out.data, out.len, 0, NULL);
  json_t *cmds = json_object_get(root, "commands");
  size_t n;
  const proto_command_t *t = proto_commands(&n);
  assert_int_equal(json_array_size(cmds), n);
  for (size_t i = 0; i < n; i++)
    assert_string_equal(json_string_value(json_object_get(json_array_get(cmds, i), "name")),
                        t[i].name);
  json_decref(root);

  /* A bad query is reported before the missing engine, at its column
   * (counted from the query's first byte in both forms). */
  assert_int_equal(answer(ctx, "SEARCH  gaza \"city", &out, &flags), ERR_BAD_QUERY);
  json_t *e = error_of(&out, &root);
  assert_string_equal(json_string_value(json_object_get(e, "code")), "bad_query");
  assert_int_equal(json_integer_value(json_object_get(e, "column")), 6);
  json_decref(root);
  assert_int_equal(answer(ctx, "{\"op\":\"count\",\"q\":\"gaza \\\"city\"}", &out, &flags),
                   ERR_BAD_QUERY);
  e = error_of(&out, &root);
  assert_int_equal(json_integer_value(json_object_get(e, "column")), 6);
  json_decref(root);

  /* A JSON field of the wrong type is the request's fault. */
  assert_int_equal(answer(ctx, "{\"op\":\"search\",\"limit\":5000}", &out, &flags),
                   ERR_BAD_REQUEST);
  assert_int_equal(answer(ctx, "{\"op\":\"search\",\"sort\":\"up\"}", &out, &flags),
                   ERR_BAD_REQUEST);

  assert_int_equal(answer(ctx, "COUNT gaza", &out, &flags), ERR_INTERNAL);
  e = error_of(&out, &root);
  assert_string_equal(json_string_value(json_object_get(e, "message")), "no index is open");
  assert_null(json_object_get(e, "column"));
  json_decref(root);
  buf_fini(&out);
  proto_ctx_free(ctx);
}

static void test_proto_quit_closes_unless_its_json_is_unreadable(void **state) {
  proto_ctx_t *ctx = proto_ctx_new(NULL, NULL);
  buf_t out;
  buf_init(&out, 0);
  unsigned flags;
  assert_int_equal(answer(ctx, "QUIT", &out, &flags), 0);
  assert_int_equal(flags, PROTO_OUT_CLOSE);
  assert_int_equal(answer(ctx, "quit now", &out, &flags), ERR_BAD_REQUEST);
  assert_int_equal(flags, PROTO_OUT_CLOSE);
  assert_int_equal(answer(ctx, "{\"op\":\"quit\"}", &out, &flags), 0);
  assert_int_equal(flags, PROTO_OUT_CLOSE);
  assert_int_equal(answer(ctx, "{\"op\":\"quit\",\"bogus\":1}", &out, &flags), ERR_BAD_REQUEST);
  assert_int_equal(flags, 0);
  assert_int_equal(answer(ctx, "QUITE", &out, &flags), ERR_UNKNOWN_COMMAND);
  assert_int_equal(flags, 0);
  buf_fini(&out);
  proto_ctx_free(ctx);
}

static void test_proto_answer_runs_one_request_again_alike(void **state) {
  /* A worker answers the same request again after a reopen. */
  static const char line[] = "{\"op\":\"search\",\"q\":\"a OR\",\"outlet\":\"NPR\"}";
  proto_ctx_t *ctx = proto_ctx_new(NULL, NULL);
  proto_req_t r;
  proto_read(line, strlen(line), &r);
  buf_t a, b;
  buf_init(&a, 0);
  buf_init(&b, 0);
  unsigned flags;
  int rc1 = proto_answer(ctx, &r, &a, &flags);
  int rc2 = proto_answer(ctx, &r, &b, &flags);
  assert_int_equal(rc1, rc2);
  assert_int_not_equal(rc1, 0);
  assert_string_equal(a.data, b.data);
  proto_req_fini(&r);
  buf_fini(&a);
  buf_fini(&b);
  proto_ctx_free(ctx);
}

static void test_proto_write_error_shape(void **state) {
  buf_t out;
  buf_init(&out, 0);
  proto_write_error(&out, ERR_TOO_LONG, "line \"too\" long", 0);
  json_t *root, *e = error_of(&out, &root);
  assert_string_equal(json_string_value(json_object_get(e, "code")), "too_long");
  assert_string_equal(json_string_value(json_object_get(e, "message")), "line \"too\" long");
  assert_null(json_object_get(e, "column"));
  assert_int_equal(json_object_size(root), 2);
  json_decref(root);
  buf_reset(&out);
  proto_write_error(&out, ERR_SHARD, NULL, 3); /* the constant message */
  e = error_of(&out, &root);
  assert_string_equal(json_string_value(json_object_get(e, "code")), "busy");
  assert_string_equal(json_string_value(json_object_get(e, "message")), err_str(ERR_SHARD));
  assert_int_equal(json_integer_value(json_object_get(e, "column")), 3);
  json_decref(root);
  buf_fini(&out);
}

static void test_err_protocol_codes_are_spec_codes_in_stats_order(void **state) {
  static const char *const spec[] = {"bad_request", "bad_query",    "unknown_command",
                                     "too_long",    "not_found",    "timeout",
                                     "busy",        "unauthorized", "internal"};
  assert_int_equal(ERR_P__COUNT, sizeof spec / sizeof spec[0]);
  for (int i = 0; i < ERR_P__COUNT; i++)
    assert_string_equal(err_proto_name((err_proto_t)i), spec[i]);
  /* Every error code maps into the list, and its string is that entry's. */
  for (int code = -1; code >= -ERR__COUNT; code--) {
    err_proto_t p = err_proto(code);
    assert_true((int)p >= 0 && p < ERR_P__COUNT);
    assert_string_equal(err_proto_code(code), spec[p]);
  }
  assert_int_equal(err_proto(ERR_SHARD_TIMEOUT), ERR_P_TIMEOUT);
  assert_int_equal(err_proto(ERR_BAD_INPUT), ERR_P_BAD_REQUEST);
  assert_int_equal(err_proto(-1000), ERR_P_INTERNAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_proto_table_names_are_unique_and_upper_case),
      cmocka_unit_test(test_proto_find_command_ignores_case_but_not_length),
      cmocka_unit_test(test_proto_read_text_form_trims_the_argument),
      cmocka_unit_test(test_proto_read_text_form_checks_arity_keeping_the_command),
      cmocka_unit_test(test_proto_read_rejects_unknown_empty_and_non_utf8),
      cmocka_unit_test(test_proto_read_json_form),
      cmocka_unit_test(test_proto_gate_without_a_secret_answers_only_auth),
      cmocka_unit_test(test_proto_gate_with_a_secret),
      cmocka_unit_test(test_proto_secret_equal),
      cmocka_unit_test(test_proto_answers_without_an_engine),
      cmocka_unit_test(test_proto_quit_closes_unless_its_json_is_unreadable),
      cmocka_unit_test(test_proto_answer_runs_one_request_again_alike),
      cmocka_unit_test(test_proto_write_error_shape),
      cmocka_unit_test(test_err_protocol_codes_are_spec_codes_in_stats_order),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
