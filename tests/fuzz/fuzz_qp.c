/* fuzz_qp.c: libFuzzer target for the query parser (shared/qp.c).
 *
 * Parses arbitrary bytes as a query with a fresh arena and abort()s when a
 * promise of qp.h / qp.c breaks:
 *  - the result is 0, ERR_BAD_QUERY or (only with a capped arena) ERR_NOMEM;
 *    on error *out is NULL, err.code matches, the message is non-empty and
 *    0 <= err.column <= len + 1;
 *  - on success the tree keeps the invariants listed at the top of qp.c,
 *    has_text agrees with the tree, options are in range, and qp_explain
 *    writes a non-empty JSON object;
 *  - parsing again with a small memory cap gives ERR_NOMEM or exactly the
 *    same answer (same error, or the same EXPLAIN text), so the failure
 *    paths leave nothing half-done.
 * Built as a libFuzzer binary with SIFT_FUZZ=ON, and with replay.c so that
 * tests/fuzz/corpus/qp/ is replayed as an ordinary test.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "err.h"
#include "qp.h"

#define CHECK(cond) \
  do { \
    if (!(cond)) abort(); \
  } while (0)

static int fuzz_is_text(const qp_node_t *n) {
  return n->kind == QN_WORD || n->kind == QN_PHRASE || n->kind == QN_PREFIX || n->kind == QN_NEAR;
}

static int fuzz_has_text(const qp_node_t *n) {
  if (fuzz_is_text(n)) return 1;
  if (n->kind == QN_AND || n->kind == QN_OR)
    for (size_t i = 0; i < n->nkids; i++)
      if (fuzz_has_text(n->kids[i])) return 1;
  return 0;
}

/* Filter-group field of an AND kid, as qp.c defines it, or -1. */
static int fuzz_group_field(const qp_node_t *n) {
  if (n->kind == QN_FILTER) return (int)n->field;
  if (n->kind != QN_OR) return -1;
  for (size_t i = 0; i < n->nkids; i++)
    if (n->kids[i]->kind != QN_FILTER || n->kids[i]->field != n->kids[0]->field) return -1;
  return (int)n->kids[0]->field;
}

static int fuzz_valid_day(uint32_t d) {
  uint32_t y = d / 10000, m = d / 100 % 100, day = d % 100;
  return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && day >= 1 && day <= 31;
}

/* Walk the tree checking it; returns the number of nodes. */
static size_t fuzz_check_node(const qp_node_t *n, const qp_node_t *parent, int depth, size_t len) {
  size_t count = 1;
  CHECK(n != NULL);
  CHECK(depth <= 4 * QP_MAX_DEPTH + 4);
  CHECK(n->column >= 1 && (size_t)n->column <= len);
  switch (n->kind) {
    case QN_AND:
    case QN_OR: {
      CHECK(n->nkids >= 2 && n->kids);
      CHECK(!parent || parent->kind != n->kind);
      int seen[QF_LANG + 1] = {0};
      for (size_t i = 0; i < n->nkids; i++) {
        CHECK(n->kids[i]->kind != n->kind);
        if (n->kind == QN_AND) {
          int f = fuzz_group_field(n->kids[i]);
          if (f >= 0) {
            CHECK(f >= QF_OUTLET && f <= QF_LANG);
            CHECK(!seen[f]); /* one group per field in an AND */
            seen[f] = 1;
          }
        }
        count += fuzz_check_node(n->kids[i], n, depth + 1, len);
      }
      break;
    }
    case QN_NOT:
      CHECK(n->nkids == 1 && n->kids);
      CHECK(n->kids[0]->kind != QN_NOT);
      count += fuzz_check_node(n->kids[0], n, depth + 1, len);
      break;
    case QN_WORD:
    case QN_PREFIX:
    case QN_PHRASE:
      CHECK(n->field == QF_TEXT || n->field == QF_TITLE);
      CHECK(n->kind == QN_PHRASE ? n->nwords >= 1 : n->nwords == 1);
      for (size_t i = 0; i < n->nwords; i++) CHECK(n->words[i] && n->words[i][0]);
      CHECK(n->nkids == 0);
      break;
    case QN_NEAR:
      CHECK(n->nkids >= 2 && n->kids);
      CHECK(n->distance >= 1 && n->distance <= QP_MAX_NEAR);
      for (size_t i = 0; i < n->nkids; i++) {
        CHECK(n->kids[i]->kind == QN_WORD || n->kids[i]->kind == QN_PREFIX);
        count += fuzz_check_node(n->kids[i], n, depth + 1, len);
      }
      break;
    case QN_FILTER:
      CHECK(n->field >= QF_OUTLET && n->field <= QF_LANG);
      CHECK(!n->prefix || n->field != QF_LANG);
      CHECK(n->value && n->key && n->key[0]); /* value may hold NUL bytes */
      break;
    case QN_DATE:
      CHECK(n->value && n->value[0]);
      CHECK(n->lo || n->hi);
      CHECK(!n->lo || fuzz_valid_day(n->lo));
      CHECK(!n->hi || fuzz_valid_day(n->hi));
      CHECK(!n->lo || !n->hi || n->lo <= n->hi);
      break;
    default:
      CHECK(0);
  }
  return count;
}

static void fuzz_check_query(const qp_query_t *q, size_t len) {
  if (q->root) CHECK(fuzz_check_node(q->root, NULL, 0, len) <= QP_MAX_NODES);
  CHECK(q->has_text == ((q->root ? fuzz_has_text(q->root) : 0) || q->news.like != NULL));
  CHECK(q->limit <= QP_MAX_LIMIT);
  CHECK(q->has_limit || q->limit == QP_DEFAULT_LIMIT);
  CHECK(q->has_offset || q->offset == 0);
  CHECK(q->exact == 0 || q->exact == 1);
  CHECK(q->sort >= QP_SORT_DEFAULT && q->sort <= QP_SORT_RECENT);
  CHECK(q->news.halflife >= 1);
  CHECK(fuzz_valid_day(q->news.now));
  CHECK(q->news.by >= QP_BY_AUTO && q->news.by <= QP_BY_YEAR);
  CHECK(!q->news.after || q->news.after_column >= 1);
  CHECK(q->nfacets <= QP_FACET__COUNT);
  for (size_t i = 0; i < q->nfacets; i++) {
    CHECK(q->facets[i].facet < QP_FACET__COUNT);
    CHECK(q->facets[i].limit >= 1);
    for (size_t j = 0; j < i; j++) CHECK(q->facets[j].facet != q->facets[i].facet);
  }
}

/* Parse; returns the code, with the EXPLAIN text or error message in out. */
static int fuzz_parse(const char *s, size_t len, arena_t *a, buf_t *out, err_t *err) {
  qp_query_t *q = (qp_query_t *)&q; /* must be overwritten */
  int rc = qp_parse(s, len, a, &q, err);
  if (rc == 0) {
    CHECK(q != NULL && err->code == 0);
    fuzz_check_query(q, len);
    qp_explain(q, out);
    CHECK(out->err == 0 && out->len >= 2);
    CHECK(out->data[0] == '{' && out->data[out->len - 1] == '}');
    CHECK(strlen(out->data) == out->len);
  } else {
    CHECK(rc == ERR_BAD_QUERY || rc == ERR_NOMEM);
    CHECK(q == NULL);
    CHECK(err->code == rc);
    CHECK(err->msg[0] != '\0');
    CHECK(err->column >= 0 && (size_t)err->column <= len + 1);
    if (rc == ERR_BAD_QUERY) CHECK(err->column >= 1);
    buf_puts(out, err->msg);
  }
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  arena_t *a = arena_new(0);
  buf_t first, again;
  err_t err = {0}, err2 = {0};
  if (!a) return 0;
  buf_init(&first, 0);
  buf_init(&again, 0);

  int rc = fuzz_parse(s, size, a, &first, &err);
  CHECK(rc != ERR_NOMEM); /* no cap: memory is plentiful */

  /* The same bytes with a small cap on memory. */
  arena_t *small = arena_new(512);
  if (small) {
    arena_set_cap(small, 512 * (1 + size % 16));
    int rc2 = fuzz_parse(s, size, small, &again, &err2);
    if (rc2 != ERR_NOMEM) {
      CHECK(rc2 == rc);
      CHECK(err2.column == err.column);
      CHECK(first.len == again.len && memcmp(first.data, again.data, first.len) == 0);
    }
    arena_free(small);
  }

  buf_fini(&first);
  buf_fini(&again);
  arena_free(a);
  return 0;
}
