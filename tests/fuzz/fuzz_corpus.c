/* fuzz_corpus.c: libFuzzer target for the corpus input path: doc.c's record
 * parsers and corpus.c's line reader.
 *
 * Each input is used four ways:
 *   1. as one JSON Lines record through doc_parse_json: a success must give
 *      a doc meeting doc.h's invariants, whose GET form (doc_write_json)
 *      parses back to the same fields; a failure must be ERR_BAD_INPUT with
 *      a message and a zeroed doc;
 *   2. as a .txt article through doc_from_text, and (its first 40 bytes) as
 *      a date through doc_parse_date;
 *   3. as a file read by corpus_open/corpus_next (plain, or zstd when it
 *      starts with the magic number), with a small max_record so the
 *      over-long-line path runs: records hold no newline, are not blank,
 *      fit max_record, and their line numbers increase;
 *   4. compressed with zstd and read again: the same records must come out
 *      as from the plain file.
 * The file is a memfd (else an unlinked temporary) reached through
 * /proc/self/fd, so nothing is left behind and rewriting it is cheap.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#include "corpus.h"
#include "doc.h"
#include "schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_RECORD 64
#define FUZZ_MAX_RECS 4096

static arena_t *arena;
static int tmp_fd = -1;
static char tmp_path[64];

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz_corpus: invariant violated: %s\n", what);
    abort();
  }
}

static void init(void) {
  arena = arena_new(0);
  tmp_fd = memfd_create("fuzz_corpus", MFD_CLOEXEC);
  if (tmp_fd < 0) {
    const char *dir = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/fuzz-corpus-XXXXXX", dir && *dir ? dir : "/tmp");
    tmp_fd = mkstemp(tmpl);
    check(tmp_fd >= 0, "temporary file");
    unlink(tmpl);
  }
  snprintf(tmp_path, sizeof tmp_path, "/proc/self/fd/%d", tmp_fd);
}

static void set_file(const void *p, size_t n) {
  check(ftruncate(tmp_fd, 0) == 0, "truncate");
  size_t off = 0;
  while (off < n) {
    ssize_t w = pwrite(tmp_fd, (const char *)p + off, n - off, (off_t)off);
    check(w > 0, "write");
    off += (size_t)w;
  }
}

static int clean_str(const char *s) { return s == NULL || utf8_valid(s, strlen(s)); }

static void check_doc(const doc_t *d) {
  size_t idlen = strlen(d->id);
  check(idlen >= 1 && idlen <= SCHEMA_MAX_ID, "id length");
  for (size_t i = 0; i < idlen; i++)
    check((unsigned char)d->id[i] >= 0x20 && d->id[i] != 0x7F, "id has no control character");
  const char *f[] = {d->id, d->outlet, d->date, d->title, d->url, d->author, d->lang, d->body};
  for (size_t i = 0; i < 8; i++) check(clean_str(f[i]), "strings are UTF-8");
  for (size_t i = 0; i < d->ntags; i++) check(d->tags[i] && *d->tags[i], "tags are non-empty");
  if (d->date) {
    check(strlen(d->day) == 8 && strlen(d->sortkey) == 14, "dated doc has day and sortkey");
    check(memcmp(d->day, d->sortkey, 8) == 0, "sortkey starts with the day");
    check(d->date_warning == NULL, "no warning with a date");
  } else {
    check(d->day[0] == '\0' && d->sortkey[0] == '\0', "undated doc has no day");
  }
}

static int same(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

static void fuzz_json(const char *line, size_t n) {
  doc_t d;
  err_t err = {0};
  int rc = doc_parse_json(line, n, arena, &d, &err);
  if (rc) {
    check(rc == ERR_BAD_INPUT || rc == ERR_NOMEM, "failure is ERR_BAD_INPUT");
    check(err.msg[0] != '\0', "failure has a message");
    check(d.id == NULL, "failure leaves no id");
    return;
  }
  check_doc(&d);
  buf_t out;
  buf_init(&out, 0);
  doc_write_json(&d, &out);
  check(out.err == 0, "GET form written");
  doc_t d2;
  err_clear(&err);
  check(doc_parse_json(out.data, out.len, arena, &d2, &err) == 0, "GET form parses");
  check(same(d.id, d2.id) && same(d.title, d2.title) && same(d.body, d2.body) &&
            same(d.outlet, d2.outlet) && same(d.date, d2.date) && same(d.url, d2.url) &&
            same(d.author, d2.author) && same(d.lang, d2.lang) && d.ntags == d2.ntags,
        "GET form round trip");
  for (size_t i = 0; i < d.ntags; i++) check(same(d.tags[i], d2.tags[i]), "tags round trip");
  buf_fini(&out);
}

static void fuzz_text(const char *text, size_t n) {
  doc_t d;
  err_t err = {0};
  int rc = doc_from_text("dir/article.txt", text, n, arena, &d, &err);
  if (rc) {
    check(rc == ERR_BAD_INPUT || rc == ERR_NOMEM, "text failure is ERR_BAD_INPUT");
    return;
  }
  check_doc(&d);
  check(d.title && *d.title, "a text article has a title");
  check(strchr(d.title, '\n') == NULL, "the title is one line");
  char date[41], day[9], key[15];
  size_t k = n < 40 ? n : 40;
  memcpy(date, text, k);
  date[k] = '\0';
  const char *why = NULL;
  if (doc_parse_date(date, day, key, &why) == 0) {
    check(strlen(day) == 8 && strlen(key) == 14, "parsed date fills day and key");
  } else {
    check(why && *why && !day[0] && !key[0], "a bad date says why");
  }
}

typedef struct {
  int rc;
  uint64_t line;
  size_t off, len; /* into the text pool */
} rec_t;

/* Reads tmp_path; returns the number of results stored in recs/pool. */
static size_t read_corpus(rec_t *recs, buf_t *pool) {
  corpus_t *c;
  err_t err = {0};
  if (corpus_open(tmp_path, FUZZ_MAX_RECORD, &c, &err) != 0) {
    check(err.code == ERR_IO, "open fails only with ERR_IO");
    return 0;
  }
  size_t n = 0;
  uint64_t last = 0;
  for (;;) {
    corpus_rec_t r;
    err_clear(&err);
    int rc = corpus_next(c, &r, &err);
    if (rc == 0) break;
    check(n < FUZZ_MAX_RECS, "bounded number of records");
    recs[n].rc = rc;
    recs[n].line = r.line;
    recs[n].off = pool->len;
    recs[n].len = 0;
    if (rc == 1) {
      check(r.len <= FUZZ_MAX_RECORD, "record fits max_record");
      check(r.len > 0, "record is not empty");
      check(memchr(r.data, '\n', r.len) == NULL, "record has no newline");
      check(r.data[r.len] == '\0', "record is NUL-terminated");
      int blank = 1;
      for (size_t i = 0; i < r.len; i++) blank &= r.data[i] == ' ' || r.data[i] == '\t';
      check(!blank, "record is not blank");
      check(r.line > last, "line numbers increase");
      last = r.line;
      buf_append(pool, r.data, r.len);
      recs[n].len = r.len;
      fuzz_json(r.data, r.len);
    } else if (rc == ERR_TOO_LONG) {
      check(r.line > last, "skipped line numbers increase");
      last = r.line;
    } else {
      check(rc == ERR_BAD_INPUT || rc == ERR_IO, "fatal errors are BAD_INPUT or IO");
      n++;
      break;
    }
    n++;
  }
  corpus_free(c);
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!arena) init();
  fuzz_json((const char *)data, size);
  arena_reset(arena);
  fuzz_text((const char *)data, size);
  arena_reset(arena);

  static rec_t plain[FUZZ_MAX_RECS], packed[FUZZ_MAX_RECS];
  buf_t pool1, pool2;
  buf_init(&pool1, 0);
  buf_init(&pool2, 0);
  set_file(data, size);
  size_t n1 = read_corpus(plain, &pool1);
  arena_reset(arena);

  int is_zstd = size >= 4 && memcmp(data, "\x28\xB5\x2F\xFD", 4) == 0;
  if (!is_zstd) {
    size_t bound = ZSTD_compressBound(size);
    char *z = malloc(bound);
    if (z) {
      size_t k = ZSTD_compress(z, bound, data, size, 1);
      check(!ZSTD_isError(k), "zstd compresses");
      set_file(z, k);
      free(z);
      size_t n2 = read_corpus(packed, &pool2);
      arena_reset(arena);
      check(n1 == n2, "zstd gives as many records as plain");
      for (size_t i = 0; i < n1; i++) {
        check(plain[i].rc == packed[i].rc && plain[i].line == packed[i].line &&
                  plain[i].len == packed[i].len,
              "zstd gives the same records");
        if (plain[i].len)
          check(memcmp(pool1.data + plain[i].off, pool2.data + packed[i].off, plain[i].len) == 0,
                "zstd gives the same bytes");
      }
    }
  }
  buf_fini(&pool1);
  buf_fini(&pool2);
  return 0;
}
