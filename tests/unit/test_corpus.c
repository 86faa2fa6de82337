/* test_corpus.c: unit tests of corpus.c: plain and zstd JSON Lines (lines
 * across read boundaries, CRLF, blank lines, over-long lines), directories of
 * .txt articles, and the errors of missing or corrupt input.  Files are
 * written to a fresh temporary directory. */
/* cmocka.h needs these first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "buf.h"
#include "corpus.h"

static char tmpdir[256];

/* rm -r, without following symbolic links. */
static int rm_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return -1;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      char sub[1024];
      snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
      rm_tree(sub);
    }
    if (d) closedir(d);
    return rmdir(path);
  }
  return unlink(path);
}

static int setup(void **state) {
  (void)state;
  const char *t = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/sift-test-corpus-XXXXXX", t && *t ? t : "/tmp");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  return rm_tree(tmpdir);
}

static char *path_of(const char *name) {
  static char p[4][512];
  static int k;
  k = (k + 1) % 4;
  snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
  return p[k];
}

static void write_file(const char *name, const void *data, size_t n) {
  char *p = path_of(name);
  char dir[512];
  snprintf(dir, sizeof dir, "%s", p);
  for (char *s = dir + strlen(tmpdir) + 1; (s = strchr(s, '/')); s++) {
    *s = '\0';
    mkdir(dir, 0700);
    *s = '/';
  }
  FILE *f = fopen(p, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

static void write_zstd(const char *name, const void *data, size_t n, int frames) {
  buf_t z;
  buf_init(&z, 0);
  size_t step = frames > 1 ? n / (size_t)frames + 1 : n;
  for (size_t off = 0; off < n || (n == 0 && off == 0); off += step) {
    size_t len = n - off < step ? n - off : step;
    size_t bound = ZSTD_compressBound(len);
    assert_int_equal(buf_reserve(&z, bound), 0);
    size_t k = ZSTD_compress(z.data + z.len, bound, (const char *)data + off, len, 3);
    assert_false(ZSTD_isError(k));
    z.len += k;
    if (n == 0) break;
  }
  write_file(name, z.data, z.len);
  buf_fini(&z);
}

typedef struct {
  int rc;
  uint64_t line;
  char *data;
  char *relpath;
  char *file;
} got_t;

/* Reads the whole source; records and errors in order (at most max). */
static size_t read_all(const char *path, size_t max_record, got_t *got, size_t max) {
  corpus_t *c;
  err_t err = {0};
  assert_int_equal(corpus_open(path, max_record, &c, &err), 0);
  size_t n = 0;
  for (;;) {
    corpus_rec_t r;
    err_clear(&err);
    int rc = corpus_next(c, &r, &err);
    if (rc == 0) break;
    assert_true(n < max);
    got[n].rc = rc;
    got[n].line = r.line;
    got[n].data = rc == 1 ? strndup(r.data, r.len) : NULL;
    got[n].relpath = r.relpath ? strdup(r.relpath) : NULL;
    got[n].file = strdup(r.file);
    if (rc == 1) assert_int_equal(r.data[r.len], '\0');
    n++;
    if (rc != 1 && rc != ERR_TOO_LONG) break;
  }
  corpus_free(c);
  return n;
}

static void free_got(got_t *got, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(got[i].data);
    free(got[i].relpath);
    free(got[i].file);
  }
}

static void assert_rec(const got_t *g, uint64_t line, const char *data) {
  assert_int_equal(g->rc, 1);
  assert_int_equal(g->line, line);
  assert_string_equal(g->data, data);
}

static const char lines_text[] =
    "\xEF\xBB\xBF{\"id\":\"a\"}\r\n"
    "\n"
    "   \t \r\n"
    "{\"id\":\"b\"}\n"
    "\r\n"
    "{\"id\":\"c\"}  \n"
    "{\"id\":\"d\"}";

static void check_lines(const char *path) {
  got_t got[8];
  size_t n = read_all(path, 0, got, 8);
  assert_int_equal(n, 4);
  assert_rec(&got[0], 1, "{\"id\":\"a\"}");
  assert_rec(&got[1], 4, "{\"id\":\"b\"}");
  assert_rec(&got[2], 6, "{\"id\":\"c\"}  ");
  assert_rec(&got[3], 7, "{\"id\":\"d\"}");
  assert_string_equal(got[0].file, path);
  assert_null(got[0].relpath);
  free_got(got, n);
}

static void test_corpus_plain_lines_crlf_blank_and_last_line(void **state) {
  (void)state;
  write_file("a.jsonl", lines_text, sizeof lines_text - 1);
  check_lines(path_of("a.jsonl"));
}

static void test_corpus_zstd_detected_by_magic_not_name(void **state) {
  (void)state;
  write_zstd("packed.jsonl", lines_text, sizeof lines_text - 1, 1);
  check_lines(path_of("packed.jsonl"));
  write_zstd("frames.jsonl.zst", lines_text, sizeof lines_text - 1, 3);
  check_lines(path_of("frames.jsonl.zst"));
}

static void test_corpus_empty_and_tiny_files(void **state) {
  (void)state;
  got_t got[2];
  write_file("empty.jsonl", "", 0);
  assert_int_equal(read_all(path_of("empty.jsonl"), 0, got, 2), 0);
  write_file("tiny.jsonl", "{}", 2);
  assert_int_equal(read_all(path_of("tiny.jsonl"), 0, got, 2), 1);
  assert_rec(&got[0], 1, "{}");
  free_got(got, 1);
  write_zstd("empty.zst", "", 0, 1);
  assert_int_equal(read_all(path_of("empty.zst"), 0, got, 2), 0);
}

/* Line i of the big file: a deterministic length from 0 to ~40 KB. */
static size_t big_line(size_t i, char *out) {
  size_t len = (i * 7919) % 40000;
  if (i % 97 == 0) len = 0;
  for (size_t k = 0; k < len; k++) out[k] = (char)('a' + (i + k) % 26);
  out[len] = '\0';
  return len;
}

static void check_big(const char *name, int zstd) {
  enum { NLINES = 400 };
  buf_t b;
  buf_init(&b, 0);
  char *line = malloc(40001);
  assert_non_null(line);
  for (size_t i = 1; i <= NLINES; i++) {
    size_t n = big_line(i, line);
    buf_append(&b, line, n);
    buf_puts(&b, i % 3 ? "\n" : "\r\n");
  }
  assert_true(b.len > 4 * 1024 * 1024); /* several reads */
  if (zstd) write_zstd(name, b.data, b.len, 2);
  else write_file(name, b.data, b.len);
  corpus_t *c;
  err_t err = {0};
  assert_int_equal(corpus_open(path_of(name), 0, &c, &err), 0);
  corpus_rec_t r;
  size_t seen = 0;
  for (size_t i = 1; i <= NLINES; i++) {
    size_t n = big_line(i, line);
    if (n == 0) continue;
    assert_int_equal(corpus_next(c, &r, &err), 1);
    assert_int_equal(r.line, i);
    assert_int_equal(r.len, n);
    assert_memory_equal(r.data, line, n);
    seen++;
  }
  assert_int_equal(corpus_next(c, &r, &err), 0);
  assert_int_equal(corpus_next(c, &r, &err), 0);
  assert_true(seen > NLINES / 2);
  corpus_free(c);
  free(line);
  buf_fini(&b);
}

static void test_corpus_lines_across_read_boundaries(void **state) {
  (void)state;
  check_big("big.jsonl", 0);
  check_big("big.jsonl.zst", 1);
}

static void check_too_long(const char *name, int zstd) {
  /* max_record 100: 100 bytes fit (even before \r\n), 101 do not; a 3 MB
   * line is skipped across several reads; a long last line too. */
  buf_t b;
  buf_init(&b, 0);
  char hundred[101];
  memset(hundred, 'h', 100);
  hundred[100] = '\0';
  buf_puts(&b, "first\n");
  buf_puts(&b, hundred);
  buf_puts(&b, "\r\n");
  buf_puts(&b, hundred);
  buf_puts(&b, "x\n");
  for (int i = 0; i < 3 * 1024 * 1024; i++) buf_putc(&b, (char)('0' + i % 10));
  buf_puts(&b, "\nafter\n\n");
  buf_puts(&b, hundred);
  buf_puts(&b, hundred);
  if (zstd) write_zstd(name, b.data, b.len, 1);
  else write_file(name, b.data, b.len);
  got_t got[8];
  size_t n = read_all(path_of(name), 100, got, 8);
  assert_int_equal(n, 6);
  assert_rec(&got[0], 1, "first");
  assert_rec(&got[1], 2, hundred);
  assert_int_equal(got[2].rc, ERR_TOO_LONG);
  assert_int_equal(got[2].line, 3);
  assert_string_equal(got[2].file, path_of(name));
  assert_int_equal(got[3].rc, ERR_TOO_LONG);
  assert_int_equal(got[3].line, 4);
  assert_rec(&got[4], 5, "after");
  assert_int_equal(got[5].rc, ERR_TOO_LONG);
  assert_int_equal(got[5].line, 7);
  free_got(got, n);
  buf_fini(&b);
}

static void test_corpus_over_long_lines_skipped_and_reported(void **state) {
  (void)state;
  check_too_long("long.jsonl", 0);
  check_too_long("long.jsonl.zst", 1);
}

static void test_corpus_too_long_message_names_the_limit(void **state) {
  (void)state;
  write_file("l.jsonl", "0123456789\nok\n", 14);
  corpus_t *c;
  err_t err = {0};
  assert_int_equal(corpus_open(path_of("l.jsonl"), 5, &c, &err), 0);
  corpus_rec_t r;
  assert_int_equal(corpus_next(c, &r, &err), ERR_TOO_LONG);
  assert_int_equal(err.code, ERR_TOO_LONG);
  assert_non_null(strstr(err.msg, "5 bytes"));
  assert_int_equal(r.line, 1);
  assert_null(r.data);
  err_clear(&err);
  assert_int_equal(corpus_next(c, &r, &err), 1);
  assert_string_equal(r.data, "ok");
  assert_int_equal(r.line, 2);
  corpus_free(c);
}

static void test_corpus_corrupt_zstd_is_fatal(void **state) {
  (void)state;
  char text[5000];
  for (size_t i = 0; i < sizeof text; i++) text[i] = i % 50 == 49 ? '\n' : (char)('a' + i % 7);
  size_t bound = ZSTD_compressBound(sizeof text);
  char *z = malloc(bound);
  assert_non_null(z);
  size_t k = ZSTD_compress(z, bound, text, sizeof text, 3);
  assert_false(ZSTD_isError(k));

  /* truncated */
  write_file("trunc.zst", z, k - 5);
  got_t got[200];
  size_t n = read_all(path_of("trunc.zst"), 0, got, 200);
  assert_true(n >= 1);
  assert_int_equal(got[n - 1].rc, ERR_BAD_INPUT);
  free_got(got, n);

  /* garbage after a good frame */
  memcpy(z + k, "\x28\xB5\x2F\xFDjunkjunkjunk", 16);
  write_file("junk.zst", z, k + 16);
  n = read_all(path_of("junk.zst"), 0, got, 200);
  assert_int_equal(got[n - 1].rc, ERR_BAD_INPUT);
  assert_int_equal(n, 101);
  free_got(got, n);

  /* the error is sticky */
  corpus_t *c;
  err_t err = {0};
  assert_int_equal(corpus_open(path_of("trunc.zst"), 0, &c, &err), 0);
  corpus_rec_t r;
  int rc;
  while ((rc = corpus_next(c, &r, &err)) == 1) continue;
  assert_int_equal(rc, ERR_BAD_INPUT);
  assert_non_null(strstr(err.msg, "trunc.zst"));
  err_clear(&err);
  assert_int_equal(corpus_next(c, &r, &err), ERR_BAD_INPUT);
  assert_int_equal(err.code, ERR_BAD_INPUT);
  corpus_free(c);
  free(z);
}

static void test_corpus_directory_of_txt_recursive_sorted(void **state) {
  (void)state;
  write_file("d/z.txt", "Zed\nbody z\n", 11);
  write_file("d/a.txt", "Alpha\n", 6);
  write_file("d/a/b.txt", "Beta", 4);
  write_file("d/sub/deeper/c.TXT", "Gamma\r\n\r\ntext", 13);
  write_file("d/empty.txt", "", 0);
  write_file("d/notes.md", "not an article", 14);
  write_file("d/.hidden.txt", "hidden", 6);
  write_file("d/.git/x.txt", "hidden", 6);
  write_file("d/data.jsonl", "{\"id\":\"x\"}\n", 11);
  got_t got[10];
  size_t n = read_all(path_of("d"), 0, got, 10);
  static const char *rel[] = {"a.txt", "a/b.txt", "empty.txt", "sub/deeper/c.TXT", "z.txt"};
  static const char *data[] = {"Alpha\n", "Beta", "", "Gamma\r\n\r\ntext", "Zed\nbody z\n"};
  assert_int_equal(n, 5);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(got[i].rc, 1);
    assert_int_equal(got[i].line, 0);
    assert_string_equal(got[i].relpath, rel[i]);
    assert_string_equal(got[i].data, data[i]);
    char full[600];
    snprintf(full, sizeof full, "%s/%s", path_of("d"), rel[i]);
    assert_string_equal(got[i].file, full);
  }
  free_got(got, n);
  /* A trailing slash on the directory does not double in the paths. */
  char slash[600];
  snprintf(slash, sizeof slash, "%s/", path_of("d"));
  n = read_all(slash, 0, got, 10);
  assert_int_equal(n, 5);
  char full[600];
  snprintf(full, sizeof full, "%s/a.txt", path_of("d"));
  assert_string_equal(got[0].file, full);
  free_got(got, n);
}

static void test_corpus_txt_over_limit_skipped(void **state) {
  (void)state;
  write_file("t/1.txt", "short", 5);
  char big[300];
  memset(big, 'b', sizeof big);
  write_file("t/2.txt", big, sizeof big);
  write_file("t/3.txt", "also short", 10);
  got_t got[4];
  size_t n = read_all(path_of("t"), 100, got, 4);
  assert_int_equal(n, 3);
  assert_int_equal(got[0].rc, 1);
  assert_int_equal(got[1].rc, ERR_TOO_LONG);
  assert_string_equal(got[1].relpath, "2.txt");
  assert_int_equal(got[2].rc, 1);
  assert_string_equal(got[2].data, "also short");
  free_got(got, n);
}

static void test_corpus_missing_path_is_io_error(void **state) {
  (void)state;
  corpus_t *c = (corpus_t *)&c;
  err_t err = {0};
  assert_int_equal(corpus_open(path_of("no/such/file.jsonl"), 0, &c, &err), ERR_IO);
  assert_null(c);
  assert_non_null(strstr(err.msg, "no/such/file.jsonl"));
  assert_non_null(strstr(err.msg, "No such file"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_corpus_plain_lines_crlf_blank_and_last_line),
      cmocka_unit_test(test_corpus_zstd_detected_by_magic_not_name),
      cmocka_unit_test(test_corpus_empty_and_tiny_files),
      cmocka_unit_test(test_corpus_lines_across_read_boundaries),
      cmocka_unit_test(test_corpus_over_long_lines_skipped_and_reported),
      cmocka_unit_test(test_corpus_too_long_message_names_the_limit),
      cmocka_unit_test(test_corpus_corrupt_zstd_is_fatal),
      cmocka_unit_test(test_corpus_directory_of_txt_recursive_sorted),
      cmocka_unit_test(test_corpus_txt_over_limit_skipped),
      cmocka_unit_test(test_corpus_missing_path_is_io_error),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
