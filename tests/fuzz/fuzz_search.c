/* fuzz_search.c: request lines against a real index, and the cost budget.
 *
 * At the first call a small index (articles made here from a fixed word
 * list) is built in a temporary directory and opened twice: once without
 * limits, once with a cost budget (eng.h max_cost) taken from the input's
 * first byte.  The rest of the input is split at '\n' into request lines,
 * each answered by both:
 *   - without a budget: exactly one JSON line starting {"ok":
 *   - with it: either nothing at all (ERR_OVER_BUDGET, the output buffer
 *     untouched), or the very same line (took_us aside).
 * So the query translation, the match, facets and snippets run on every
 * query the fuzzer writes, and the budget can only decline, never change an
 * answer. */
#define _XOPEN_SOURCE 700 /* nftw, mkdtemp */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "doc.h"
#include "eng.h"
#include "err.h"
#include "idx.h"
#include "proto.h"

#define FS_DOCS 60

static const char *const fs_words[] = {
    "river",  "bridge", "council", "vote",   "harbor",   "storm",   "school", "budget",
    "market", "rail",   "rivers",  "voting", "mayor",    "flooded", "talks",  "crossing",
    "winter", "port",   "union",   "strike", "hospital", "city",    "north",  "the",
};
#define FS_NWORDS (sizeof fs_words / sizeof fs_words[0])
static const char *const fs_outlets[] = {"Daily Ledger", "North Wire", "Harbor Post"};

static char fs_dir[64];
static eng_t *fs_full, *fs_budget;
static proto_ctx_t *fs_ctx_full, *fs_ctx_budget;

static int fs_rm(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(p);
}

static void fs_cleanup(void) {
  proto_ctx_free(fs_ctx_full);
  proto_ctx_free(fs_ctx_budget);
  eng_free(fs_full);
  eng_free(fs_budget);
  if (fs_dir[0]) nftw(fs_dir, fs_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static uint32_t fs_next(uint32_t *r) {
  *r = *r * 1103515245u + 12345u;
  return *r >> 16;
}

/* The articles: bodies of 20-120 words from the list, by a fixed LCG. */
static void fs_build(const char *path) {
  idx_t *x = NULL;
  err_t err = {0};
  arena_t *a = arena_new(0);
  buf_t line;
  buf_init(&line, 0);
  uint32_t r = 12345;
  if (!a || idx_open(path, NULL, &x, &err)) abort();
  for (int i = 0; i < FS_DOCS; i++) {
    buf_reset(&line);
    buf_printf(&line, "{\"id\":\"d%d\",\"outlet\":\"%s\",\"date\":\"202%d-%02d-%02d\",\"title\":\"",
               i, fs_outlets[i % 3], 1 + i % 3, 1 + i % 12, 1 + i % 28);
    for (int w = 0; w < 4; w++)
      buf_printf(&line, "%s%s", w ? " " : "", fs_words[fs_next(&r) % FS_NWORDS]);
    buf_puts(&line, "\",\"body\":\"");
    int n = 20 + (int)(fs_next(&r) % 100);
    for (int w = 0; w < n; w++)
      buf_printf(&line, "%s%s", w ? (w % 9 ? " " : ". ") : "", fs_words[fs_next(&r) % FS_NWORDS]);
    buf_puts(&line, "\"}");
    doc_t d;
    const char *warning;
    arena_reset(a);
    if (line.err || doc_parse_json(line.data, line.len, a, &d, &err) ||
        idx_add(x, &d, &warning, &err))
      abort();
  }
  if (idx_commit(x, &err)) abort();
  idx_free(x);
  buf_fini(&line);
  arena_free(a);
}

static void fs_init(void) {
  snprintf(fs_dir, sizeof fs_dir, "/tmp/fuzz_search.XXXXXX");
  if (!mkdtemp(fs_dir)) abort();
  atexit(fs_cleanup);
  char path[128];
  snprintf(path, sizeof path, "%s/index", fs_dir);
  fs_build(path);
  eng_limits_t lim = {.max_limit = QP_MAX_LIMIT, .max_offset = 100000, .time_limit = 2};
  err_t err = {0};
  if (eng_open(path, &lim, &fs_full, &err) || eng_open(path, &lim, &fs_budget, &err)) abort();
  if (!(fs_ctx_full = proto_ctx_new(fs_full, NULL)) ||
      !(fs_ctx_budget = proto_ctx_new(fs_budget, NULL)))
    abort();
}

/* The length of s[0..n) without a "took_us":DIGITS member, copied to out. */
static size_t fs_strip_took(const char *s, size_t n, char *out) {
  static const char key[] = "\"took_us\":";
  size_t k = 0;
  for (size_t i = 0; i < n;) {
    if (n - i >= sizeof key - 1 && memcmp(s + i, key, sizeof key - 1) == 0) {
      i += sizeof key - 1;
      while (i < n && s[i] >= '0' && s[i] <= '9') i++;
      continue;
    }
    out[k++] = s[i++];
  }
  return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!fs_full) fs_init();
  if (size == 0) return 0;
  eng_limits_t lim = {.max_limit = QP_MAX_LIMIT,
                      .max_offset = 100000,
                      .time_limit = 2,
                      .max_cost = 1 + (uint64_t)data[0] * data[0] * 4};
  eng_set_limits(fs_budget, &lim);
  buf_t full, cheap;
  buf_init(&full, 0);
  buf_init(&cheap, 0);
  const char *p = (const char *)data + 1, *end = (const char *)data + size;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    unsigned flags;
    buf_reset(&full);
    buf_reset(&cheap);
    proto_handle(fs_ctx_full, p, len, &full, &flags);
    if (full.len < 12 || full.data[full.len - 1] != '\n' || memchr(full.data, '\n', full.len - 1) ||
        strncmp(full.data, "{\"ok\":", 6) != 0)
      abort();
    int rc = proto_handle(fs_ctx_budget, p, len, &cheap, &flags);
    if (rc == ERR_OVER_BUDGET) {
      if (cheap.len != 0) abort(); /* declined: nothing written */
    } else {
      char *a = malloc(full.len), *b = malloc(cheap.len ? cheap.len : 1);
      if (!a || !b) abort();
      size_t na = fs_strip_took(full.data, full.len, a),
             nb = fs_strip_took(cheap.data, cheap.len, b);
      if (na != nb || memcmp(a, b, na) != 0) abort(); /* the budget changed an answer */
      free(a);
      free(b);
    }
    p += len + (nl ? 1 : 0);
  }
  buf_fini(&full);
  buf_fini(&cheap);
  return 0;
}
