/* test_idx.c: unit tests of idx.c's removal of articles: the id list
 * (trimming, CRLF, blank lines, repeats, bad lines named by number), and
 * idx_delete on small indexes written here with idx_add: a
 * plain index in batches, a stub of two shards, a stub naming a remote
 * shard (refused, nothing removed), a raised stop flag, and paths that are
 * no index; and the stub of a parallel build's shards.  (test_eng.c reads
 * an index written through idx.h with the engine.)  Everything lives in a
 * fresh temporary directory. */
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
#include <sys/stat.h>
#include <unistd.h>

#include "doc.h"
#include "idx.h"
#include "schema.h"

static char tmpdir[64];

static int setup(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/sift-test-idx-XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

static void path_in_tmp(char *out, size_t cap, const char *name) {
  snprintf(out, cap, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* An index at path holding articles with ids prefix0..prefix(n-1). */
static void make_index(const char *path, const char *prefix, int n) {
  idx_t *x = NULL;
  err_t err = {0};
  assert_int_equal(idx_open(path, NULL, &x, &err), 0);
  for (int i = 0; i < n; i++) {
    char id[32];
    snprintf(id, sizeof id, "%s%d", prefix, i);
    doc_t d = {.id = id, .title = "a title", .body = "some body text to index", .outlet = "Test"};
    const char *warning;
    assert_int_equal(idx_add(x, &d, &warning, &err), 0);
  }
  assert_int_equal(idx_commit(x, &err), 0);
  idx_free(x);
}

static uint32_t docs_at(const char *path) {
  uint32_t docs = 0;
  err_t err = {0};
  assert_int_equal(idx_stat(path, &docs, &err), 0);
  return docs;
}

static void parse(idx_ids_t *l, const char *text) {
  size_t bad = 99;
  err_t err = {0};
  idx_ids_init(l);
  assert_int_equal(idx_ids_parse(l, text, strlen(text), &bad, &err), 0);
  assert_int_equal(bad, 0);
}

/* An index tmpdir/name of n articles (ids prefix0...), and the id list of
 * ids_text parsed into *l. */
static void index_and_ids(char *path, size_t cap, const char *name, const char *prefix, int n,
                          const char *ids_text, idx_ids_t *l) {
  path_in_tmp(path, cap, name);
  make_index(path, prefix, n);
  parse(l, ids_text);
}

static void test_idx_ids_trim_blank_lines_crlf_and_repeats(void **state) {
  (void)state;
  idx_ids_t l;
  parse(&l, "a1\r\n  b 2 \t\n\n \r\na1\nc3");
  assert_int_equal(l.n, 3);
  assert_string_equal(l.ids[0], "a1");
  assert_string_equal(l.ids[1], "b 2"); /* a space inside stays */
  assert_string_equal(l.ids[2], "c3");  /* no final newline */
  assert_int_equal(l.dups, 1);
  assert_int_equal(l.removed[0] + l.removed[1] + l.removed[2], 0);
  idx_ids_fini(&l);
  parse(&l, "");
  assert_int_equal(l.n, 0);
  idx_ids_fini(&l);
}

static void test_idx_ids_many_distinct_survive_rehash(void **state) {
  (void)state;
  char *text = malloc(20000 * 12);
  size_t n = 0;
  for (int i = 0; i < 20000; i++) n += (size_t)sprintf(text + n, "id%d\n", i % 15000);
  idx_ids_t l;
  parse(&l, text);
  assert_int_equal(l.n, 15000);
  assert_int_equal(l.dups, 5000);
  assert_string_equal(l.ids[14999], "id14999");
  idx_ids_fini(&l);
  free(text);
}

static void test_idx_ids_invalid_utf8_repaired_like_the_indexer(void **state) {
  (void)state;
  idx_ids_t l;
  parse(&l,
        "ab\xff"
        "c\n");
  assert_int_equal(l.n, 1);
  assert_string_equal(l.ids[0],
                      "ab\xef\xbf\xbd"
                      "c");
  idx_ids_fini(&l);
}

static void expect_bad(const char *text, size_t len, size_t line, const char *why) {
  idx_ids_t l;
  size_t bad = 0;
  err_t err = {0};
  idx_ids_init(&l);
  assert_int_equal(idx_ids_parse(&l, text, len, &bad, &err), ERR_BAD_INPUT);
  assert_int_equal(bad, line);
  assert_non_null(strstr(err_message(&err), why));
  assert_int_equal(l.n, 0); /* nothing kept */
  idx_ids_fini(&l);
}

static void test_idx_ids_bad_lines_named_by_number(void **state) {
  (void)state;
  char lng[400] = "ok\n\n";
  memset(lng + 4, 'x', SCHEMA_MAX_ID + 1);
  expect_bad(lng, strlen(lng), 3, "longer than");
  expect_bad("ok\nbad\x01id\n", 11, 2, "control character");
  expect_bad("ok\nnul\0id\n", 10, 2, "NUL");
  char max[SCHEMA_MAX_ID + 2];
  memset(max, 'y', SCHEMA_MAX_ID);
  max[SCHEMA_MAX_ID] = '\0';
  idx_ids_t l;
  parse(&l, max); /* exactly the limit is an id */
  assert_int_equal(l.n, 1);
  idx_ids_fini(&l);
}

static void test_idx_delete_in_batches(void **state) {
  (void)state;
  char path[128];
  idx_ids_t l;
  index_and_ids(path, sizeof path, "plain", "p", 20, "p0\nnone1\np5\np19\nnone2\np7\n", &l);
  err_t err = {0};
  size_t batches = 0;
  idx_delete_opts_t o = {.batch = 4};
  assert_int_equal(idx_delete(path, &l, &o, &batches, &err), 0);
  assert_int_equal(batches, 2);
  const unsigned char want[] = {1, 0, 1, 1, 0, 1};
  assert_memory_equal(l.removed, want, sizeof want);
  assert_int_equal(docs_at(path), 16);
  /* again: nothing left to remove */
  memset(l.removed, 0, l.n);
  assert_int_equal(idx_delete(path, &l, &o, &batches, &err), 0);
  assert_int_equal(batches, 2);
  for (size_t i = 0; i < l.n; i++) assert_int_equal(l.removed[i], 0);
  assert_int_equal(docs_at(path), 16);
  idx_ids_fini(&l);
}

static void test_idx_delete_stop_before_a_batch(void **state) {
  (void)state;
  char path[128];
  idx_ids_t l;
  index_and_ids(path, sizeof path, "stopped", "s", 5, "s0\ns1\n", &l);
  err_t err = {0};
  size_t batches = 9;
  volatile sig_atomic_t stop = 1;
  idx_delete_opts_t o = {.batch = 1, .stop = &stop};
  assert_int_equal(idx_delete(path, &l, &o, &batches, &err), 0);
  assert_int_equal(batches, 0);
  assert_int_equal(docs_at(path), 5);
  idx_ids_fini(&l);
}

static void test_idx_delete_stub_of_two_shards(void **state) {
  (void)state;
  char dir[128], a[160], b[160], stub[160], text[400];
  path_in_tmp(dir, sizeof dir, "archive");
  assert_int_equal(mkdir(dir, 0777), 0);
  snprintf(a, sizeof a, "%s/2023-11", dir);
  path_in_tmp(b, sizeof b, "elsewhere"); /* listed by its absolute path */
  make_index(a, "a", 6);
  make_index(b, "b", 6);
  snprintf(stub, sizeof stub, "%s/XAPIANDB", dir); /* Xapian's stub, written by hand */
  snprintf(text, sizeof text, "auto 2023-11\nauto %s\n", b);
  write_file(stub, text);
  assert_int_equal(docs_at(dir), 12);
  idx_ids_t l;
  parse(&l, "a1\nb2\nzz\nb5\na3\n");
  err_t err = {0};
  size_t batches = 0;
  idx_delete_opts_t o = {.batch = 2};
  assert_int_equal(idx_delete(dir, &l, &o, &batches, &err), 0);
  assert_int_equal(batches, 3);
  const unsigned char want[] = {1, 1, 0, 1, 1};
  assert_memory_equal(l.removed, want, sizeof want);
  assert_int_equal(docs_at(a), 4);
  assert_int_equal(docs_at(b), 4);
  assert_int_equal(docs_at(dir), 8);
  idx_ids_fini(&l);

  /* a remote line (nothing listens there): an error naming the shard
   * before anything is removed (test_delete.py has one that answers) */
  snprintf(text, sizeof text, "auto 2023-11\nauto %s\nremote 127.0.0.1:1\n", b);
  write_file(stub, text);
  parse(&l, "a0\n");
  err_clear(&err);
  assert_int_not_equal(idx_delete(dir, &l, &o, &batches, &err), 0);
  assert_non_null(strstr(err_message(&err), "127.0.0.1:1"));
  assert_int_equal(batches, 0);
  assert_int_equal(docs_at(a), 4);
  idx_ids_fini(&l);
}

static void test_idx_delete_needs_an_index(void **state) {
  (void)state;
  char path[128];
  idx_ids_t l;
  parse(&l, "x\n");
  err_t err = {0};
  size_t batches;
  path_in_tmp(path, sizeof path, "absent");
  assert_int_equal(idx_delete(path, &l, NULL, &batches, &err), ERR_NO_INDEX);
  assert_int_equal(access(path, F_OK), -1); /* nothing created */
  path_in_tmp(path, sizeof path, "empty");
  assert_int_equal(mkdir(path, 0777), 0);
  err_clear(&err);
  assert_int_equal(idx_delete(path, &l, NULL, &batches, &err), ERR_NO_INDEX);
  assert_non_null(strstr(err_message(&err), "not a Sift index"));
  idx_ids_fini(&l);
}

/* A parallel build's layout: shards shard0..shard2 under a directory with
 * the stub idx_write_stub() writes (through xw.h, which alone knows Xapian's
 * file names); readers count them as one index, idx_open() refuses it. */
static void test_idx_write_stub_lists_shards_read_as_one(void **state) {
  (void)state;
  char dir[128], shard[192], stub[192], text[256];
  path_in_tmp(dir, sizeof dir, "parallel");
  assert_int_equal(mkdir(dir, 0777), 0);
  assert_int_equal(idx_is_stub(dir), 0);
  for (unsigned k = 0; k < 3; k++) {
    char prefix[8];
    snprintf(prefix, sizeof prefix, "s%u-", k);
    assert_int_equal(idx_shard_path(dir, k, shard, sizeof shard), 0);
    make_index(shard, prefix, (int)k + 2); /* 2, 3 and 4 articles */
  }
  err_t err = {0};
  assert_int_equal(idx_write_stub(dir, 3, &err), 0);
  assert_int_equal(idx_is_stub(dir), 1);
  snprintf(stub, sizeof stub, "%s/XAPIANDB", dir); /* Xapian's stub, read by hand */
  FILE *f = fopen(stub, "r");
  assert_non_null(f);
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  assert_string_equal(text, "auto shard0\nauto shard1\nauto shard2\n");
  assert_int_equal(docs_at(dir), 2 + 3 + 4);
  idx_t *x = NULL;
  assert_int_equal(idx_open(dir, NULL, &x, &err), ERR_INVAL);
  assert_null(x);
  assert_int_equal(idx_shard_path(dir, 0, shard, 8), -1); /* does not fit */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_idx_ids_trim_blank_lines_crlf_and_repeats),
      cmocka_unit_test(test_idx_ids_many_distinct_survive_rehash),
      cmocka_unit_test(test_idx_ids_invalid_utf8_repaired_like_the_indexer),
      cmocka_unit_test(test_idx_ids_bad_lines_named_by_number),
      cmocka_unit_test(test_idx_delete_in_batches),
      cmocka_unit_test(test_idx_delete_stop_before_a_batch),
      cmocka_unit_test(test_idx_delete_stub_of_two_shards),
      cmocka_unit_test(test_idx_delete_needs_an_index),
      cmocka_unit_test(test_idx_write_stub_lists_shards_read_as_one),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
