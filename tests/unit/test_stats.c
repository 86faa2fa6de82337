/* test_stats.c: the daemon's counters as STATS reports them: requests by
 * command, errors by protocol code, latency percentiles over the window,
 * the /metrics histogram, connections.  Expected figures are computed here
 * from the requests fed in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "proto.h"
#include "stats.h"

/* STATS's server members, read back with jansson. */
static json_t *report(st_t *st) {
  buf_t b;
  buf_init(&b, 0);
  buf_puts(&b, "{\"ok\":true");
  st_proto_hook(st, &b);
  buf_puts(&b, "}");
  json_error_t je;
  json_t *o = json_loadb(b.data, b.len, 0, &je);
  if (!o) fail_msg("not JSON at %d: %s", je.position, b.data);
  buf_fini(&b);
  return o;
}

static long long member(json_t *o, const char *obj, const char *key) {
  json_t *v = obj ? json_object_get(json_object_get(o, obj), key) : json_object_get(o, key);
  if (!json_is_integer(v)) fail_msg("no integer %s.%s", obj ? obj : "", key);
  return json_integer_value(v);
}

static void test_st_counts_requests_by_command_and_errors_by_code(void **state) {
  st_t *st = st_new(3, NULL);
  assert_non_null(st);
  const proto_command_t *search = proto_find_command("SEARCH", 6);
  const proto_command_t *get = proto_find_command("GET", 3);
  st_request(st, search, 0, 10, 1);
  st_request(st, search, ERR_BAD_QUERY, 10, 0);
  st_request(st, get, ERR_NOT_FOUND, 10, 0);
  st_request(st, NULL, ERR_TOO_LONG, 0, 0);
  st_request(st, search, ERR_SHARD, 10, 0);         /* busy */
  st_request(st, search, ERR_SHARD_TIMEOUT, 10, 0); /* timeout */
  st_request(st, search, ERR_NOMEM, 10, 1);         /* internal */
  st_request(st, NULL, ERR_UNAUTHORIZED, 0, 0);
  st_poll(st, 0);
  st_poll(st, 1);
  st_poll(st, 0);
  json_t *o = report(st);
  static const struct {
    const char *obj, *key;
    long long want;
  } figures[] = {
      {NULL, "requests_total", 8},   {NULL, "threads", 3},         {"requests", "search", 5},
      {"requests", "get", 1},        {"requests", "other", 2},     {"requests", "ping", 0},
      {"errors", "bad_query", 1},    {"errors", "not_found", 1},   {"errors", "too_long", 1},
      {"errors", "busy", 1},         {"errors", "timeout", 1},     {"errors", "internal", 1},
      {"errors", "unauthorized", 1}, {"errors", "bad_request", 0}, {NULL, "answered_on_loop", 2},
      {NULL, "loop_polls", 2},       {NULL, "loop_poll_hits", 1},
  };
  for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++)
    if (member(o, figures[i].obj, figures[i].key) != figures[i].want)
      fail_msg("%s.%s: %lld, not %lld", figures[i].obj ? figures[i].obj : "", figures[i].key,
               member(o, figures[i].obj, figures[i].key), figures[i].want);
  /* One key per command of the table, and "other"; one per code. */
  size_t ncmds;
  proto_commands(&ncmds);
  assert_int_equal(json_object_size(json_object_get(o, "requests")), ncmds + 1);
  assert_int_equal(json_object_size(json_object_get(o, "errors")), ERR_P__COUNT);
  json_decref(o);
  st_free(st);
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static void test_st_latency_percentiles_and_histogram(void **state) {
  st_t *st = st_new(1, NULL);
  enum { N = 1000 };
  static uint32_t lat[N];
  uint64_t want[ST_NBUCKETS + 1] = {0}, sum = 0;
  srand(7);
  for (int i = 0; i < N; i++) {
    lat[i] = (uint32_t)(rand() % 3000000);
    st_request(st, NULL, 0, lat[i], 0);
    size_t b = 0;
    while (b < ST_NBUCKETS && lat[i] > st_bucket_us[b]) b++;
    want[b]++;
    sum += lat[i];
  }
  qsort(lat, N, sizeof lat[0], cmp_u32);
  json_t *o = report(st);
  /* nearest rank: the ceil(N * p / 100)-th smallest */
  assert_int_equal(member(o, "latency_us", "p50"), lat[500 - 1]);
  assert_int_equal(member(o, "latency_us", "p90"), lat[900 - 1]);
  assert_int_equal(member(o, "latency_us", "p99"), lat[990 - 1]);
  assert_int_equal(member(o, "latency_us", "max"), lat[N - 1]);
  assert_int_equal(member(o, "latency_us", "window"), N);
  json_decref(o);
  uint64_t got[ST_NBUCKETS + 1], got_sum;
  st_histogram(st, got, &got_sum);
  assert_memory_equal(got, want, sizeof want);
  assert_int_equal(got_sum, sum);
  st_free(st);
}

static void test_st_window_keeps_the_latest_requests(void **state) {
  st_t *st = st_new(1, NULL);
  for (int i = 0; i < ST_WINDOW; i++) st_request(st, NULL, 0, 1000000, 0);
  for (int i = 0; i < ST_WINDOW; i++) st_request(st, NULL, 0, 5, 0);
  json_t *o = report(st);
  assert_int_equal(member(o, "latency_us", "max"), 5);
  assert_int_equal(member(o, "latency_us", "window"), ST_WINDOW);
  assert_int_equal(member(o, NULL, "requests_total"), 2 * ST_WINDOW);
  json_decref(o);
  st_free(st);
}

static void test_st_connections(void **state) {
  st_t *st = st_new(1, NULL);
  st_conn_open(st);
  st_conn_open(st);
  st_conn_close(st);
  st_conn_rejected(st);
  st_conn_close(st);
  st_conn_close(st); /* never below zero */
  st_reload(st);
  json_t *o = report(st);
  assert_int_equal(member(o, NULL, "connections_current"), 0);
  assert_int_equal(member(o, NULL, "connections_total"), 2);
  assert_int_equal(member(o, NULL, "connections_rejected"), 1);
  assert_int_equal(member(o, NULL, "reloads"), 1);
  assert_true(json_is_false(json_object_get(json_object_get(o, "cache"), "enabled")));
  json_decref(o);
  st_free(st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_st_counts_requests_by_command_and_errors_by_code),
      cmocka_unit_test(test_st_latency_percentiles_and_histogram),
      cmocka_unit_test(test_st_window_keeps_the_latest_requests),
      cmocka_unit_test(test_st_connections),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
