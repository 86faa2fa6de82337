/* qp.c: the query parser.  Turns a query string of SPEC.md's query language
 * into the qp_node_t tree of qp.h, builds the nodes of the JSON request form,
 * and writes a parsed query back out as JSON for EXPLAIN.
 *
 * Callers: proto.c (SEARCH, COUNT, EXPLAIN, and the JSON request form through
 * qp_query_new / qp_filter_node / qp_date_node / qp_add_condition); eng.c
 * turns the tree into a Xapian query and snip.c collects its text leaves.
 *
 * The module is three files and one private header, qp_int.h: qp_lex.c
 * (the lexer, and the lexical rules of the language), this file (names,
 * node builders, dates, the parser, the entry points), qp_explain.c (the
 * EXPLAIN form).
 *
 * How it works.  A hand-written lexer (qp_lex.c) cuts the query into tokens,
 * with one token of lookahead; a recursive-descent parser follows the grammar
 * of qp.h (qp_parse_or > qp_parse_and > qp_parse_unary).  Every operator node
 * is built already simplified (qp_make_and, qp_make_or, qp_make_not), so
 * there is no separate rewriting pass.  Words are normalized with tok.h, the
 * same code the indexer uses.
 *
 * Invariants of every tree qp_parse returns (tests/fuzz/fuzz_qp.c checks
 * them):
 *  - AND and OR have at least two kids; no AND directly under an AND, no OR
 *    directly under an OR; NOT has exactly one kid, never itself a NOT.
 *  - WORD and PREFIX carry one non-empty word; PHRASE one or more.
 *  - NEAR has two or more kids, each a WORD or a PREFIX, and a distance
 *    1..QP_MAX_NEAR.
 *  - FILTER has a non-empty key; DATE has lo or hi set, lo <= hi when both.
 *  - Within an AND, all positive filters on one field form one group: a
 *    single FILTER or one OR made only of FILTERs on that field.
 *  - At most QP_MAX_NODES nodes are allocated; the nesting of parentheses
 *    and NOT is at most QP_MAX_DEPTH, so the tree depth is bounded too.
 *  - has_text is 1 iff a WORD, PHRASE, PREFIX or NEAR is reachable without
 *    passing through a NOT.
 * All memory comes from the caller's arena (ERR_NOMEM when it fails); the
 * module keeps no state, so one arena per thread makes it thread-safe.
 */
#include "qp.h"
#include "cal.h"
#include "qp_int.h"
#include "schema.h"

#include "tok.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define QP_MAX_FACET_LIMIT 10000000u

/* ------------------------------------------------------------------------
 * Names
 */

static const char *const qp_facet_names[QP_FACET__COUNT] = {"outlet", "year",   "month",
                                                            "day",    "author", "tag"};


static const qp_fdef_t qp_fdefs[] = {
    {"title", QP_FK_TEXT, QF_TITLE},       {"outlet", QP_FK_FILTER, QF_OUTLET},
    {"author", QP_FK_FILTER, QF_AUTHOR},   {"tag", QP_FK_FILTER, QF_TAG},
    {"lang", QP_FK_FILTER, QF_LANG},       {"date", QP_FK_DATE, 0},
    {"limit", QP_FK_OPTION, QP_OPT_LIMIT}, {"offset", QP_FK_OPTION, QP_OPT_OFFSET},
    {"sort", QP_FK_OPTION, QP_OPT_SORT},   {"facets", QP_FK_OPTION, QP_OPT_FACETS},
    {"exact", QP_FK_OPTION, QP_OPT_EXACT}, {"since", QP_FK_OPTION, QP_OPT_SINCE},
    {"now", QP_FK_OPTION, QP_OPT_NOW},     {"halflife", QP_FK_OPTION, QP_OPT_HALFLIFE},
    {"after", QP_FK_OPTION, QP_OPT_AFTER}, {"by", QP_FK_OPTION, QP_OPT_BY},
    {"like", QP_FK_OPTION, QP_OPT_LIKE},   {"collapse", QP_FK_OPTION, QP_OPT_COLLAPSE},
    {"match", QP_FK_OPTION, QP_OPT_MATCH}, {"relax", QP_FK_OPTION, QP_OPT_RELAX},
};

static int qp_lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

/* s[0..n) equals the lower-case literal lit, ignoring ASCII case. */
static int qp_ieq(const char *s, size_t n, const char *lit) {
  size_t i = 0;
  for (; i < n && lit[i]; i++)
    if (qp_lower((unsigned char)s[i]) != lit[i]) return 0;
  return i == n && lit[i] == '\0';
}

const qp_fdef_t *qp__field_def(const char *s, size_t n) {
  for (size_t i = 0; i < sizeof qp_fdefs / sizeof qp_fdefs[0]; i++)
    if (qp_ieq(s, n, qp_fdefs[i].name)) return &qp_fdefs[i];
  return NULL;
}

const char *qp__filter_name(qp_field_t f) {
  switch (f) {
    case QF_OUTLET:
      return "outlet";
    case QF_AUTHOR:
      return "author";
    case QF_TAG:
      return "tag";
    case QF_LANG:
      return "lang";
    case QF_TITLE:
      return "title";
    case QF_TEXT:
      break;
  }
  return "text";
}

int qp_facet_id(const char *name, size_t len) {
  if (!name) return -1;
  for (int i = 0; i < QP_FACET__COUNT; i++)
    if (qp_ieq(name, len, qp_facet_names[i])) return i;
  return -1;
}

const char *qp_facet_name(qp_facet_t f) {
  return (unsigned)f < QP_FACET__COUNT ? qp_facet_names[f] : NULL;
}

const char *qp_sort_name(qp_sort_t s) {
  switch (s) {
    case QP_SORT_DEFAULT:
      return "default";
    case QP_SORT_RELEVANCE:
      return "relevance";
    case QP_SORT_NEWEST:
      return "newest";
    case QP_SORT_OLDEST:
      return "oldest";
    case QP_SORT_RECENT:
      return "recent";
  }
  return NULL;
}

static const char *const qp_by_names[] = {"auto", "day", "week", "month", "year"};

const char *qp_by_name(qp_by_t b) { return (unsigned)b <= QP_BY_YEAR ? qp_by_names[b] : NULL; }

/* ------------------------------------------------------------------------
 * Node building
 */


int qp__col(size_t off) { return off < (size_t)INT_MAX ? (int)off + 1 : INT_MAX; }

/* Record an error and return code (whatever err held before). */
int qp__fail(err_t *err, int code, int column, const char *fmt, ...) {
  char msg[sizeof err->msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  err_set(err, code, column, "%s", msg);
  return code;
}

int qp__nomem(err_t *err) {
  return qp__fail(err, ERR_NOMEM, 0, "out of memory while parsing the query");
}

static int qp_node(qp_build_t *b, qp_kind_t kind, int column, qp_node_t **out) {
  *out = NULL;
  if (b->nodes >= b->max)
    return qp__fail(b->err, ERR_BAD_QUERY, column,
                    "query too complex at column %d: more than %d terms and operators", column,
                    QP_MAX_NODES);
  qp_node_t *n = arena_calloc(b->a, 1, sizeof *n);
  if (!n) return qp__nomem(b->err);
  b->nodes++;
  n->kind = kind;
  n->column = column;
  n->field = QF_TEXT;
  *out = n;
  return 0;
}

static int qp_make_not(qp_build_t *b, qp_node_t *kid, int column, qp_node_t **out) {
  if (kid->kind == QN_NOT && kid->nkids == 1) { /* NOT NOT x is x */
    *out = kid->kids[0];
    return 0;
  }
  qp_node_t **kids = arena_alloc(b->a, sizeof *kids);
  if (!kids) return qp__nomem(b->err);
  int rc = qp_node(b, QN_NOT, column, out);
  if (rc) return rc;
  kids[0] = kid;
  (*out)->kids = kids;
  (*out)->nkids = 1;
  return 0;
}

/* The field of a filter group: a positive FILTER, or an OR made only of
 * FILTERs on one field.  -1 for anything else. */
static int qp_group_field(const qp_node_t *n) {
  if (n->kind == QN_FILTER) return (int)n->field;
  if (n->kind != QN_OR || n->nkids == 0) return -1;
  for (size_t i = 0; i < n->nkids; i++)
    if (n->kids[i]->kind != QN_FILTER || n->kids[i]->field != n->kids[0]->field) return -1;
  return (int)n->kids[0]->field;
}

/* Merge, within kids[0..*k) (the kids of one AND), every filter group on a
 * field into one OR at the place of the first, keeping the order. */
static int qp_group_filters(qp_build_t *b, qp_node_t **kids, size_t *k) {
  for (size_t i = 0; i < *k; i++) {
    int f = qp_group_field(kids[i]);
    if (f < 0) continue;
    size_t members = 0, nfilters = 0;
    for (size_t j = i; j < *k; j++) {
      if (qp_group_field(kids[j]) != f) continue;
      members++;
      nfilters += kids[j]->kind == QN_OR ? kids[j]->nkids : 1;
    }
    if (members < 2) continue;
    qp_node_t **fl = arena_alloc(b->a, nfilters * sizeof *fl);
    if (!fl) return qp__nomem(b->err);
    size_t nf = 0, w = i + 1;
    for (size_t j = i; j < *k; j++) {
      qp_node_t *m = kids[j];
      if (qp_group_field(m) != f) {
        kids[w++] = m;
        continue;
      }
      if (m->kind == QN_OR) {
        memcpy(fl + nf, m->kids, m->nkids * sizeof *fl);
        nf += m->nkids;
      } else {
        fl[nf++] = m;
      }
    }
    qp_node_t *alt;
    int rc = qp_node(b, QN_OR, kids[i]->column, &alt);
    if (rc) return rc;
    alt->kids = fl;
    alt->nkids = nf;
    kids[i] = alt;
    *k = w;
  }
  return 0;
}

/* The AND of items[0..n) (none NULL), flattened and with filters grouped;
 * NULL when n is 0. */
static int qp_make_and(qp_build_t *b, qp_node_t *const *items, size_t n, int column,
                       qp_node_t **out) {
  *out = NULL;
  if (n == 0) return 0;
  if (n == 1) { /* already simplified when it was built */
    *out = items[0];
    return 0;
  }
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += items[i]->kind == QN_AND ? items[i]->nkids : 1;
  qp_node_t **kids = arena_alloc(b->a, total * sizeof *kids);
  if (!kids) return qp__nomem(b->err);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (items[i]->kind == QN_AND) {
      memcpy(kids + k, items[i]->kids, items[i]->nkids * sizeof *kids);
      k += items[i]->nkids;
    } else {
      kids[k++] = items[i];
    }
  }
  int rc = qp_group_filters(b, kids, &k);
  if (rc) return rc;
  if (k == 1) {
    *out = kids[0];
    return 0;
  }
  if ((rc = qp_node(b, QN_AND, column, out))) return rc;
  (*out)->kids = kids;
  (*out)->nkids = k;
  return 0;
}

/* The OR of items[0..n) (none NULL), flattened; NULL when n is 0. */
static int qp_make_or(qp_build_t *b, qp_node_t *const *items, size_t n, qp_node_t **out) {
  *out = NULL;
  if (n == 0) return 0;
  if (n == 1) {
    *out = items[0];
    return 0;
  }
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += items[i]->kind == QN_OR ? items[i]->nkids : 1;
  qp_node_t **kids = arena_alloc(b->a, total * sizeof *kids);
  if (!kids) return qp__nomem(b->err);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (items[i]->kind == QN_OR) {
      memcpy(kids + k, items[i]->kids, items[i]->nkids * sizeof *kids);
      k += items[i]->nkids;
    } else {
      kids[k++] = items[i];
    }
  }
  int rc = qp_node(b, QN_OR, items[0]->column, out);
  if (rc) return rc;
  (*out)->kids = kids;
  (*out)->nkids = k;
  return 0;
}

static int qp_has_text(const qp_node_t *n) {
  if (!n) return 0;
  switch (n->kind) {
    case QN_WORD:
    case QN_PHRASE:
    case QN_PREFIX:
    case QN_NEAR:
      return 1;
    case QN_AND:
    case QN_OR:
      for (size_t i = 0; i < n->nkids; i++)
        if (qp_has_text(n->kids[i])) return 1;
      return 0;
    case QN_NOT:
    case QN_FILTER:
    case QN_DATE:
      return 0;
  }
  return 0;
}

/* Is there text anywhere under n, excluded text included? */
static int qp_any_text(const qp_node_t *n) {
  if (n->kind == QN_WORD || n->kind == QN_PHRASE || n->kind == QN_PREFIX || n->kind == QN_NEAR)
    return 1;
  for (size_t i = 0; i < n->nkids; i++)
    if (qp_any_text(n->kids[i])) return 1;
  return 0;
}

static int qp_plain_word(const qp_node_t *n) {
  return n->kind == QN_WORD || n->kind == QN_PHRASE || n->kind == QN_PREFIX;
}

/* SPEC's "plain words (filters aside, no operators)": the root is a word,
 * phrase or prefix, or an AND of them and of conditions without text
 * (filters, dates, excluded filters); no AND, and no NOT or '-' of text,
 * was written.  An OR or NEAR with text in it shows in the tree;
 * parentheses that only group words (`(a b) c`) change nothing and do not
 * count. */
static int qp_plain(const qp_parser_t *p, const qp_node_t *root) {
  if (!root || p->op_written) return 0;
  if (qp_plain_word(root)) return 1;
  if (root->kind != QN_AND) return 0;
  for (size_t i = 0; i < root->nkids; i++)
    if (!qp_plain_word(root->kids[i]) && qp_any_text(root->kids[i])) return 0;
  return 1;
}

/* A growable array of pointers in the arena (old arrays are abandoned; the
 * waste is at most the final size). */
typedef struct qp_vec {
  void **v;
  size_t n, cap;
} qp_vec_t;

static int qp_push(arena_t *a, qp_vec_t *x, void *p) {
  if (x->n == x->cap) {
    size_t cap = x->cap ? 2 * x->cap : 8;
    void **v = arena_alloc(a, cap * sizeof *v);
    if (!v) return ERR_NOMEM;
    if (x->n) memcpy(v, x->v, x->n * sizeof *v);
    x->v = v;
    x->cap = cap;
  }
  x->v[x->n++] = p;
  return 0;
}

/* A FILTER node; its key is tok_key(value), possibly empty. */
static int qp_filter(qp_build_t *b, qp_field_t field, const char *value, size_t len, int column,
                     qp_node_t **out) {
  int rc = qp_node(b, QN_FILTER, column, out);
  if (rc) return rc;
  qp_node_t *n = *out;
  char *key = arena_alloc(b->a, QP_KEY_MAX + 1);
  n->field = field;
  n->value = arena_strndup(b->a, value ? value : "", value ? len : 0);
  if (!key || !n->value) return qp__nomem(b->err);
  tok_key(value ? value : "", value ? len : 0, key, QP_KEY_MAX + 1);
  n->key = key;
  return 0;
}

/* ------------------------------------------------------------------------
 * Dates
 */

static int qp_digits(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9') return 0;
  return 1;
}

static unsigned qp_num(const char *s, size_t n) {
  unsigned v = 0;
  for (size_t i = 0; i < n; i++) v = v * 10 + (unsigned)(s[i] - '0');
  return v;
}

/* One date: YYYY, YYYY-MM or YYYY-MM-DD, as the inclusive days [lo, hi].
 * Returns NULL, or why it is not a date (in why[] or a constant). */
static const char *qp_date_one(const char *s, size_t n, uint32_t *lo, uint32_t *hi, char *why,
                               size_t cap) {
  if (!(n == 4 || (n == 7 && s[4] == '-') || (n == 10 && s[4] == '-' && s[7] == '-')) ||
      !qp_digits(s, 4) || (n >= 7 && !qp_digits(s + 5, 2)) || (n == 10 && !qp_digits(s + 8, 2)))
    return "expected YYYY, YYYY-MM or YYYY-MM-DD";
  unsigned y = qp_num(s, 4), m = n >= 7 ? qp_num(s + 5, 2) : 0, d = n == 10 ? qp_num(s + 8, 2) : 0;
  if (y == 0) return "year must be 0001-9999";
  if (n == 4) {
    *lo = y * 10000 + 101;
    *hi = y * 10000 + 1231;
    return NULL;
  }
  if (m < 1 || m > 12) return "month must be 01-12";
  if (n == 7) {
    *lo = y * 10000 + m * 100 + 1;
    *hi = y * 10000 + m * 100 + 31;
    return NULL;
  }
  if (d < 1 || d > 31) return "day must be 01-31";
  if (d > cal_month_days(y, m)) {
    snprintf(why, cap, "%04u-%02u has only %u days", y, m, cal_month_days(y, m));
    return why;
  }
  *lo = *hi = y * 10000 + m * 100 + d;
  return NULL;
}

/* A date or a range A..B with either end open.  Returns NULL, or why not
 * with *bad and *bad_len the part at fault (one end, or the whole range, then
 * *range is set). */
static const char *qp_date_text(const char *s, size_t n, uint32_t *lo, uint32_t *hi, size_t *bad,
                                size_t *bad_len, int *range, char *why, size_t cap) {
  *range = 0;
  *bad = 0;
  *bad_len = n;
  size_t dots = 0;
  while (dots + 1 < n && !(s[dots] == '.' && s[dots + 1] == '.')) dots++;
  if (dots + 1 >= n) return qp_date_one(s, n, lo, hi, why, cap);
  size_t b = dots + 2, bn = n - b;
  uint32_t unused;
  const char *e;
  *lo = *hi = 0;
  if (dots == 0 && bn == 0) {
    *range = 1;
    return "give a start, an end or both";
  }
  if (dots && (e = qp_date_one(s, dots, lo, &unused, why, cap))) {
    *bad_len = dots;
    return e;
  }
  if (bn && (e = qp_date_one(s + b, bn, &unused, hi, why, cap))) {
    *bad = b;
    *bad_len = bn;
    return e;
  }
  if (*lo && *hi && *lo > *hi) {
    *range = 1;
    return "the start is after the end";
  }
  return NULL;
}

int qp_date_node(arena_t *a, const char *from, const char *to, qp_node_t **out, err_t *err) {
  qp_build_t b = {a, err, 0, SIZE_MAX};
  size_t fl = from ? strlen(from) : 0, tl = to ? strlen(to) : 0;
  uint32_t lo = 0, hi = 0, unused;
  char why[64];
  const char *e;
  *out = NULL;
  if (!fl && !tl)
    return qp__fail(err, ERR_BAD_QUERY, 0, "a date range needs a start, an end or both");
  if (fl && (e = qp_date_one(from, fl, &lo, &unused, why, sizeof why)))
    return qp__fail(err, ERR_BAD_QUERY, 0, "bad date '%.*s%s': %s", QP_SHOW(from, fl), e);
  if (tl && (e = qp_date_one(to, tl, &unused, &hi, why, sizeof why)))
    return qp__fail(err, ERR_BAD_QUERY, 0, "bad date '%.*s%s': %s", QP_SHOW(to, tl), e);
  if (lo && hi && lo > hi)
    return qp__fail(err, ERR_BAD_QUERY, 0, "bad date range '%s..%s': the start is after the end",
                    from, to);
  qp_node_t *n;
  int rc = qp_node(&b, QN_DATE, 0, &n);
  if (rc) return rc;
  n->value = arena_sprintf(a, "%s..%s", fl ? from : "", tl ? to : "");
  if (!n->value) return qp__nomem(err);
  n->lo = lo;
  n->hi = hi;
  *out = n;
  return 0;
}

/* ------------------------------------------------------------------------
 * Parser
 */

static int qp_too_deep(qp_parser_t *p, size_t at) {
  return qp__bad(p, at, "query too complex at column %d: nested more than %d deep", qp__col(at),
                 QP_MAX_DEPTH);
}

/* A word, phrase or prefix from s[0..n) (s_at: its offset; at: where the
 * node starts, which is the field for title:). */
static int qp_text(qp_parser_t *p, const char *s, size_t n, int quoted, qp_field_t field, size_t at,
                   qp_node_t **out) {
  int prefix = !quoted && n > 0 && s[n - 1] == '*';
  qp_vec_t words = {0}, raws = {0}, runs = {0};
  tok_iter_t it;
  tok_word_t w;
  if (prefix) tok_iter_init(&it, s, n - 1);
  else tok_iter_init_runs(&it, s, n); /* with the closed forms of hyphenated words */
  while (tok_next(&it, &w)) {
    if (w.norm_len == 0) continue;
    char *copy = arena_strndup(p->b.a, w.norm, w.norm_len);
    char *raw = arena_strndup(p->b.a, s + w.start, w.end - w.start);
    if (!copy || !raw) return qp__nomem(p->b.err);
    if (w.closed) {
      qp_run_t *r = arena_alloc(p->b.a, sizeof *r);
      if (!r) return qp__nomem(p->b.err);
      *r = (qp_run_t){words.n - w.closed, w.closed, copy, raw};
      if (qp_push(p->b.a, &runs, r)) return qp__nomem(p->b.err);
    } else if (qp_push(p->b.a, &words, copy) || qp_push(p->b.a, &raws, raw)) {
      return qp__nomem(p->b.err);
    }
  }
  qp_kind_t kind;
  if (prefix) {
    if (words.n != 1)
      return qp__bad(p, at, "prefix must be one word, not '%.*s%s' at column %d", QP_SHOW(s, n),
                     qp__col(at));
    kind = QN_PREFIX;
  } else if (words.n == 0) {
    if (quoted && n == 0) return qp__bad(p, at, "empty phrase at column %d", qp__col(at));
    return qp__bad(p, at, "%s '%.*s%s' at column %d has no words",
                   field == QF_TITLE ? "title:" : "phrase", QP_SHOW(s, n), qp__col(at));
  } else {
    kind = quoted || words.n > 1 ? QN_PHRASE : QN_WORD;
  }
  int rc = qp_node(&p->b, kind, qp__col(at), out);
  if (rc) return rc;
  (*out)->field = field;
  (*out)->words = (const char **)words.v;
  (*out)->raws = (const char **)raws.v;
  (*out)->nwords = words.n;
  (*out)->runs = (const qp_run_t **)runs.v;
  (*out)->nruns = runs.n;
  (*out)->quoted = quoted;
  return 0;
}

static int qp_facets(qp_parser_t *p, const char *s, size_t n, size_t s_at) {
  qp_query_t *q = p->query;
  size_t i = 0;
  for (;;) {
    size_t end = i, colon = i;
    while (end < n && s[end] != ',') end++;
    while (colon < end && s[colon] != ':') colon++;
    const char *name = s + i;
    size_t nl = colon - i;
    if (nl == 0) return qp__bad(p, s_at + i, "empty facet name at column %d", qp__col(s_at + i));
    int id = qp_facet_id(name, nl);
    if (id < 0)
      return qp__bad(p, s_at + i,
                     "unknown facet '%.*s%s' at column %d: expected outlet, year, month, day, "
                     "author or tag",
                     QP_SHOW(name, nl), qp__col(s_at + i));
    for (size_t j = 0; j < q->nfacets; j++)
      if ((int)q->facets[j].facet == id)
        return qp__bad(p, s_at + i, "facet '%s' at column %d is listed twice", qp_facet_names[id],
                       qp__col(s_at + i));
    uint32_t limit = QP_DEFAULT_FACET_LIMIT;
    if (colon < end) {
      const char *ls = s + colon + 1;
      size_t ln = end - colon - 1;
      if (qp_ieq(ls, ln, "all")) {
        limit = UINT32_MAX;
      } else if (qp__uint(ls, ln, QP_MAX_FACET_LIMIT, &limit) || limit == 0) {
        return qp__bad(p, s_at + colon + 1,
                       "bad facet limit '%.*s%s' at column %d: expected a number 1-%u or all",
                       QP_SHOW(ls, ln), qp__col(s_at + colon + 1), QP_MAX_FACET_LIMIT);
      }
    }
    assert(q->nfacets < QP_FACET__COUNT); /* each facet at most once */
    q->facets[q->nfacets].facet = (qp_facet_t)id;
    q->facets[q->nfacets].limit = limit;
    q->nfacets++;
    if (end >= n) return 0;
    i = end + 1;
  }
}

/* N followed by one of the unit letters in units (case-insensitive). */
static int qp_span(const char *s, size_t n, const char *units, uint32_t max, uint32_t *v,
                   char *unit) {
  int c = qp_lower((unsigned char)s[n - 1]);
  if (n < 2 || c == 0 || !strchr(units, c)) return -1;
  *unit = (char)qp_lower((unsigned char)s[n - 1]);
  return qp__uint(s, n - 1, max, v);
}

/* since:, now:, halflife:, after:, by: (qp.h's qp_news_t). */
static int qp_news_option(qp_parser_t *p, const qp_tok_t *t) {
  qp_news_t *nw = &p->query->news;
  const char *s = t->s;
  size_t n = t->n;
  int vcol = qp__col(t->s_at);
  uint32_t unused;
  char why[64];
  const char *e;
  switch ((qp_opt_t)t->def->id) {
    case QP_OPT_SINCE:
      if (qp_span(s, n, "dwmy", 100000, &p->since_n, &p->since_unit))
        return qp__bad(p, t->s_at,
                       "bad since '%.*s%s' at column %d: expected a number 0-100000 and d, w, m "
                       "or y (since:7d)",
                       QP_SHOW(s, n), vcol);
      p->since_at = t->at;
      if (!(nw->since = arena_strndup(p->b.a, s, n))) return qp__nomem(p->b.err);
      return 0;
    case QP_OPT_NOW:
      if (n != 10 || (e = qp_date_one(s, n, &nw->now, &unused, why, sizeof why)))
        return qp__bad(p, t->s_at, "bad now '%.*s%s' at column %d: %s", QP_SHOW(s, n), vcol,
                       n != 10 ? "expected a day YYYY-MM-DD" : e);
      nw->has_now = 1;
      return 0;
    case QP_OPT_HALFLIFE: {
      char unit;
      if (qp_span(s, n, "dwmy", 1000000, &nw->halflife, &unit) || nw->halflife == 0)
        return qp__bad(p, t->s_at,
                       "bad halflife '%.*s%s' at column %d: expected a number above 0 and d, w, "
                       "m or y (halflife:14d, halflife:2w)",
                       QP_SHOW(s, n), vcol);
      if (unit == 'w') nw->halflife *= 7;
      if (unit == 'm' || unit == 'y') { /* days back to now minus that, as since: counts */
        p->halflife_n = nw->halflife;
        p->halflife_unit = unit;
        p->halflife_at = t->at;
      }
      return 0;
    }
    case QP_OPT_AFTER:
    case QP_OPT_LIKE:
      if (memchr(s, '\0', n))
        return qp__bad(p, t->s_at, "%s: value at column %d holds a NUL byte", t->def->name, vcol);
      if (t->def->id == QP_OPT_LIKE) {
        nw->like_column = vcol;
        return (nw->like = arena_strndup(p->b.a, s, n)) ? 0 : qp__nomem(p->b.err);
      }
      nw->after = arena_strndup(p->b.a, s, n);
      nw->after_column = vcol;
      return nw->after ? 0 : qp__nomem(p->b.err);
    case QP_OPT_COLLAPSE:
      if (!qp_ieq(s, n, "copies"))
        return qp__bad(p, t->s_at, "bad collapse '%.*s%s' at column %d: expected copies",
                       QP_SHOW(s, n), vcol);
      nw->collapse = 1;
      return 0;
    case QP_OPT_BY:
      for (int b = QP_BY_DAY; b <= QP_BY_YEAR; b++)
        if (qp_ieq(s, n, qp_by_names[b])) {
          nw->by = (qp_by_t)b;
          return 0;
        }
      return qp__bad(p, t->s_at, "bad by '%.*s%s' at column %d: expected day, week, month or year",
                     QP_SHOW(s, n), vcol);
    default:
      break;
  }
  return 0;
}

/* now minus n calendar months or years (unit 'm', 'y'), the day clamped to
 * the month's end; 0 before the year 1. */
static uint32_t qp_months_back(uint32_t now, uint32_t n, char unit) {
  int64_t months = (int64_t)n * (unit == 'y' ? 12 : 1);
  return months > 12 * 10000 ? 0 : cal_add_months(now, -(int32_t)months);
}

/* halflife:N{m,y} as days: from now minus the span (as since: counts it)
 * to now, so an article dated there weighs half. */
static int qp_resolve_halflife(qp_parser_t *p) {
  qp_news_t *nw = &p->query->news;
  uint32_t lo = qp_months_back(nw->now, p->halflife_n, p->halflife_unit);
  if (!lo)
    return qp__bad(p, p->halflife_at, "halflife at column %d reaches before the year 1",
                   qp__col(p->halflife_at));
  nw->halflife = (uint32_t)(cal_days(nw->now) - cal_days(lo));
  return 0;
}

/* since: as a DATE node from now minus the span to now, ANDed to *root. */
static int qp_resolve_since(qp_parser_t *p, qp_node_t **root) {
  const qp_news_t *nw = &p->query->news;
  uint32_t lo = 0, n = p->since_n;
  if (p->since_unit == 'd' || p->since_unit == 'w') {
    int64_t days = cal_days(nw->now) - (int64_t)n * (p->since_unit == 'w' ? 7 : 1);
    lo = cal_from_days(days);
  } else {
    lo = qp_months_back(nw->now, n, p->since_unit);
  }
  if (!lo)
    return qp__bad(p, p->since_at, "since:%s at column %d reaches before the year 1", nw->since,
                   qp__col(p->since_at));
  qp_node_t *d, *pair[2];
  int rc = qp_node(&p->b, QN_DATE, qp__col(p->since_at), &d);
  if (rc) return rc;
  if (!(d->value = arena_sprintf(p->b.a, "since:%s", nw->since))) return qp__nomem(p->b.err);
  d->lo = lo;
  d->hi = nw->now;
  pair[0] = *root;
  pair[1] = d;
  return *root ? qp_make_and(&p->b, pair, 2, (*root)->column, root) : (*root = d, 0);
}

static int qp_option(qp_parser_t *p, const qp_tok_t *t, int top, int negated) {
  const qp_fdef_t *def = t->def;
  qp_query_t *q = p->query;
  const char *s = t->s;
  size_t n = t->n, at = t->at;
  int vcol = qp__col(t->s_at);
  if (!top)
    return qp__bad(p, at, "option '%s' at column %d is not allowed inside parentheses", def->name,
                   qp__col(at));
  if (negated)
    return qp__bad(p, at, "option '%s' at column %d cannot be negated", def->name, qp__col(at));
  if (p->opts & (1u << def->id))
    return qp__bad(p, at, "option '%s' given twice at column %d", def->name, qp__col(at));
  p->opts |= 1u << def->id;
  switch ((qp_opt_t)def->id) {
    case QP_OPT_LIMIT:
      if (qp__uint(s, n, QP_MAX_LIMIT, &q->limit))
        return qp__bad(p, t->s_at, "bad limit '%.*s%s' at column %d: expected a number 0-%d",
                       QP_SHOW(s, n), vcol, QP_MAX_LIMIT);
      q->has_limit = 1;
      return 0;
    case QP_OPT_OFFSET:
      /* Any 32-bit offset parses; the engine's limit (eng_limits_t.max_offset,
       * sift-searchd --max-offset) decides, and names itself. */
      if (qp__uint(s, n, UINT32_MAX, &q->offset))
        return qp__bad(p, t->s_at, "bad offset '%.*s%s' at column %d: expected a number 0-%u",
                       QP_SHOW(s, n), vcol, UINT32_MAX);
      q->has_offset = 1;
      return 0;
    case QP_OPT_SORT:
      q->sort = qp_ieq(s, n, "relevance") ? QP_SORT_RELEVANCE
                : qp_ieq(s, n, "newest")  ? QP_SORT_NEWEST
                : qp_ieq(s, n, "oldest")  ? QP_SORT_OLDEST
                : qp_ieq(s, n, "recent")  ? QP_SORT_RECENT
                                          : QP_SORT_DEFAULT;
      if (q->sort == QP_SORT_DEFAULT)
        return qp__bad(p, t->s_at,
                       "bad sort '%.*s%s' at column %d: expected relevance, newest, oldest or "
                       "recent",
                       QP_SHOW(s, n), vcol);
      return 0;
    case QP_OPT_FACETS:
      return qp_facets(p, s, n, t->s_at);
    case QP_OPT_EXACT:
    case QP_OPT_RELAX: {
      int yes = qp_ieq(s, n, "yes") || qp_ieq(s, n, "true");
      if (!yes && !qp_ieq(s, n, "no") && !qp_ieq(s, n, "false"))
        return qp__bad(p, t->s_at, "bad %s '%.*s%s' at column %d: expected yes or no", def->name,
                       QP_SHOW(s, n), vcol);
      *(def->id == QP_OPT_EXACT ? &q->exact : &q->relax) = yes;
      return 0;
    }
    case QP_OPT_MATCH:
      if (!qp_ieq(s, n, "any") && !qp_ieq(s, n, "all"))
        return qp__bad(p, t->s_at, "bad match '%.*s%s' at column %d: expected any or all",
                       QP_SHOW(s, n), vcol);
      q->match_any = qp_ieq(s, n, "any");
      return 0;
    default:
      return qp_news_option(p, t);
  }
  return 0;
}

/* A NAME:VALUE token: a node, or NULL for an option. */
static int qp_field(qp_parser_t *p, const qp_tok_t *t, int top, int negated, qp_node_t **out) {
  const qp_fdef_t *def = t->def;
  int rc;
  *out = NULL;
  switch (def->kind) {
    case QP_FK_TEXT:
      return qp_text(p, t->s, t->n, t->quoted, (qp_field_t)def->id, t->at, out);
    case QP_FK_FILTER: {
      int prefix = !t->quoted && t->s[t->n - 1] == '*';
      if (prefix && def->id == QF_LANG)
        return qp__bad(p, t->s_at + t->n - 1, "lang: takes no prefix (column %d)",
                       qp__col(t->s_at + t->n - 1));
      rc = qp_filter(&p->b, (qp_field_t)def->id, t->s, t->n - (size_t)prefix, qp__col(t->at), out);
      if (rc) return rc;
      if (!(*out)->key[0])
        return qp__bad(p, t->s_at, "%s: value '%.*s%s' at column %d has no letters or digits",
                       def->name, QP_SHOW(t->s, t->n), qp__col(t->s_at));
      if (prefix && !((*out)->value = arena_strndup(p->b.a, t->s, t->n)))
        return qp__nomem(p->b.err);
      (*out)->prefix = prefix;
      return 0;
    }
    case QP_FK_DATE: {
      uint32_t lo, hi;
      size_t bad, bad_len;
      int range;
      char why[64];
      const char *e = qp_date_text(t->s, t->n, &lo, &hi, &bad, &bad_len, &range, why, sizeof why);
      if (e)
        return qp__bad(p, t->s_at + bad, "bad date%s '%.*s%s' at column %d: %s",
                       range ? " range" : "", QP_SHOW(t->s + bad, bad_len), qp__col(t->s_at + bad),
                       e);
      if ((rc = qp_node(&p->b, QN_DATE, qp__col(t->at), out))) return rc;
      (*out)->value = arena_strndup(p->b.a, t->s, t->n);
      if (!(*out)->value) return qp__nomem(p->b.err);
      (*out)->lo = lo;
      (*out)->hi = hi;
      return 0;
    }
    case QP_FK_OPTION:
      return qp_option(p, t, top, negated);
  }
  return 0;
}

static int qp_parse_or(qp_parser_t *p, int depth, int top, qp_node_t **out);
static int qp_parse_unary(qp_parser_t *p, int depth, int top, int negated, qp_node_t **out);

/* Is k, which follows or precedes the NEAR at byte offset near_at, an
 * operand NEAR takes? */
static int qp_near_operand(qp_parser_t *p, const qp_node_t *k, size_t near_at) {
  if (!k)
    return qp__bad(p, near_at, "NEAR needs a word or prefix on both sides at column %d",
                   qp__col(near_at));
  if (k->kind == QN_WORD || k->kind == QN_PREFIX) return 0;
  const char *what = k->kind == QN_PHRASE                                          ? "a phrase"
                     : k->kind == QN_NOT                                           ? "a negation"
                     : k->kind == QN_AND || k->kind == QN_OR || k->kind == QN_NEAR ? "a group"
                                                                                   : "a filter";
  return qp__bad(p, (size_t)k->column - 1,
                 "NEAR takes words or prefixes, not %s (column %d; hyphenated words are a "
                 "phrase)",
                 what, k->column);
}

/* near := unary (NEAR unary)*, first being the unary already parsed and a
 * NEAR the next token. */
static int qp_parse_near(qp_parser_t *p, int depth, int top, qp_node_t *first, qp_node_t **out) {
  qp_vec_t kids = {0};
  uint32_t distance = 0;
  qp_tok_t *t;
  int rc;
  for (;;) {
    if ((rc = qp__peek(p, &t))) return rc;
    if (t->kind != QT_NEAR) break;
    size_t at = t->at;
    if (distance && t->distance != distance)
      return qp__bad(p, at, "NEAR/%u at column %d differs from the NEAR/%u before it",
                     (unsigned)t->distance, qp__col(at), (unsigned)distance);
    distance = t->distance;
    if (!kids.n) {
      if ((rc = qp_near_operand(p, first, at))) return rc;
      if (qp_push(p->b.a, &kids, first)) return qp__nomem(p->b.err);
    }
    p->have = 0;
    qp_node_t *k;
    if ((rc = qp_parse_unary(p, depth, top, 0, &k))) return rc;
    if ((rc = qp_near_operand(p, k, at))) return rc;
    if (qp_push(p->b.a, &kids, k)) return qp__nomem(p->b.err);
  }
  /* Operands that can match the same word are refused: Xapian's OP_NEAR
   * then misses matches (`show NEAR/8 show*` with "shown ... showing"). */
  qp_node_t **k = (qp_node_t **)kids.v;
  for (size_t i = 0; i < kids.n; i++)
    for (size_t j = 0; j < kids.n; j++) {
      const char *a = k[i]->words[0], *b = k[j]->words[0];
      if (i == j || (k[i]->kind != QN_PREFIX && (i > j || strcmp(a, b))) ||
          (k[i]->kind == QN_PREFIX && strncmp(a, b, strlen(a))))
        continue;
      size_t lo = i < j ? i : j, hi = i < j ? j : i;
      return qp__bad(p, (size_t)k[hi]->column - 1,
                     "NEAR operand at column %d can match the same word as the one at column "
                     "%d: give different words",
                     k[hi]->column, k[lo]->column);
    }
  if ((rc = qp_node(&p->b, QN_NEAR, first->column, out))) return rc;
  (*out)->kids = (qp_node_t **)kids.v;
  (*out)->nkids = kids.n;
  (*out)->distance = distance;
  return 0;
}

/* unary := ("NOT" | "-") unary | primary.  *out is NULL when the next
 * token ends an AND list (nothing here) or was an option. */
static int qp_parse_unary(qp_parser_t *p, int depth, int top, int negated, qp_node_t **out) {
  qp_tok_t *t, tok;
  qp_node_t *kid;
  int rc;
  *out = NULL;
  if ((rc = qp__peek(p, &t))) return rc;
  tok = *t;
  switch (tok.kind) {
    case QT_END:
    case QT_RPAREN:
    case QT_OR:
    case QT_AND:
    case QT_NEAR:
      return 0;
    case QT_NOT:
    case QT_NEG:
      p->have = 0;
      if (depth >= QP_MAX_DEPTH) return qp_too_deep(p, tok.at);
      if ((rc = qp_parse_unary(p, depth + 1, top, 1, &kid))) return rc;
      if (!kid)
        return qp__bad(p, tok.at, "%s needs a term after it at column %d",
                       tok.kind == QT_NOT ? "NOT" : "'-'", qp__col(tok.at));
      if (qp_any_text(kid)) p->op_written = 1;
      return qp_make_not(&p->b, kid, qp__col(tok.at), out);
    case QT_LPAREN:
      p->have = 0;
      if (depth >= QP_MAX_DEPTH) return qp_too_deep(p, tok.at);
      if ((rc = qp_parse_or(p, depth + 1, 0, &kid))) return rc;
      if ((rc = qp__peek(p, &t))) return rc;
      if (t->kind != QT_RPAREN)
        return qp__bad(p, tok.at, "unbalanced '(' at column %d", qp__col(tok.at));
      p->have = 0;
      if (!kid) return qp__bad(p, tok.at, "empty parentheses at column %d", qp__col(tok.at));
      *out = kid;
      return 0;
    case QT_PHRASE:
    case QT_TEXT:
      p->have = 0;
      return qp_text(p, tok.s, tok.n, tok.kind == QT_PHRASE, p->field, tok.at, out);
    case QT_FIELD:
      p->have = 0;
      if (tok.group) { /* title:( ... ): the group, its text in titles */
        qp_field_t saved = p->field;
        p->field = (qp_field_t)tok.def->id;
        rc = qp_parse_unary(p, depth, top, negated, out);
        p->field = saved;
        return rc;
      }
      return qp_field(p, &tok, top, negated, out);
  }
  return 0;
}

/* andexpr := unary ("AND"? unary)*.  NULL when it holds no condition. */
static int qp_parse_and(qp_parser_t *p, int depth, int top, qp_node_t **out) {
  qp_vec_t items = {0};
  size_t and_at = SIZE_MAX; /* an AND still waiting for its right side */
  int column = 0;
  *out = NULL;
  for (;;) {
    qp_tok_t *t;
    int rc = qp__peek(p, &t);
    if (rc) return rc;
    if (t->kind == QT_END || t->kind == QT_RPAREN || t->kind == QT_OR) break;
    if (t->kind == QT_NEAR)
      return qp__bad(p, t->at, "NEAR needs a word or prefix on both sides at column %d",
                     qp__col(t->at));
    if (t->kind == QT_AND) {
      size_t at = and_at != SIZE_MAX ? and_at : t->at;
      if (and_at != SIZE_MAX || items.n == 0)
        return qp__bad(p, at, "AND needs a term on both sides at column %d", qp__col(at));
      and_at = t->at;
      p->op_written = 1;
      p->have = 0;
      continue;
    }
    qp_node_t *n;
    if ((rc = qp_parse_unary(p, depth, top, 0, &n))) return rc;
    if (!n) continue; /* an option */
    if ((rc = qp__peek(p, &t))) return rc;
    if (t->kind == QT_NEAR && (rc = qp_parse_near(p, depth, top, n, &n))) return rc;
    if (!items.n) column = n->column;
    if (qp_push(p->b.a, &items, n)) return qp__nomem(p->b.err);
    and_at = SIZE_MAX;
  }
  if (and_at != SIZE_MAX)
    return qp__bad(p, and_at, "AND needs a term on both sides at column %d", qp__col(and_at));
  return qp_make_and(&p->b, (qp_node_t **)items.v, items.n, column, out);
}

/* orexpr := andexpr ("OR" andexpr)*.  NULL when it holds no condition. */
static int qp_parse_or(qp_parser_t *p, int depth, int top, qp_node_t **out) {
  qp_vec_t items = {0};
  size_t or_at = SIZE_MAX; /* the OR before the current operand */
  *out = NULL;
  for (;;) {
    qp_node_t *n;
    qp_tok_t *t;
    int rc = qp_parse_and(p, depth, top, &n);
    if (rc) return rc;
    if (!n && or_at != SIZE_MAX)
      return qp__bad(p, or_at, "OR needs a term on both sides at column %d", qp__col(or_at));
    if ((rc = qp__peek(p, &t))) return rc;
    if (t->kind == QT_OR && !n)
      return qp__bad(p, t->at, "OR needs a term on both sides at column %d", qp__col(t->at));
    if (n && qp_push(p->b.a, &items, n)) return qp__nomem(p->b.err);
    if (t->kind != QT_OR) break;
    or_at = t->at;
    p->have = 0;
  }
  return qp_make_or(&p->b, (qp_node_t **)items.v, items.n, out);
}

/* ------------------------------------------------------------------------
 * Entry points
 */

qp_query_t *qp_query_new(arena_t *a) {
  qp_query_t *q = arena_calloc(a, 1, sizeof *q);
  if (!q) return NULL;
  q->limit = QP_DEFAULT_LIMIT;
  q->sort = QP_SORT_DEFAULT;
  q->exact = 1;
  q->news.now = cal_today();
  q->news.halflife = QP_DEFAULT_HALFLIFE;
  q->relax = 1;
  return q;
}

int qp_uses_today(const qp_query_t *q) {
  return !q->news.has_now && (q->news.since || q->sort == QP_SORT_RECENT);
}

int qp_parse(const char *q, size_t len, arena_t *a, qp_query_t **out, err_t *err) {
  qp_parser_t p;
  qp_node_t *root;
  qp_tok_t *t;
  int rc;
  if (out) *out = NULL;
  if (!a || !out || (!q && len))
    return qp__fail(err, ERR_INVAL, 0, "qp_parse: no arena, output or query text");
  memset(&p, 0, sizeof p);
  p.q = q ? q : "";
  p.len = len;
  p.b = (qp_build_t){a, err, 0, QP_MAX_NODES};
  if (!(p.query = qp_query_new(a))) return qp__nomem(err);
  if ((rc = qp_parse_or(&p, 0, 1, &root))) return rc;
  if ((rc = qp__peek(&p, &t))) return rc;
  if (t->kind != QT_END) {
    assert(t->kind == QT_RPAREN); /* qp_parse_or stops only there */
    return qp__bad(&p, t->at, "unexpected ')' at column %d", qp__col(t->at));
  }
  if (p.query->news.since && (rc = qp_resolve_since(&p, &root))) return rc;
  if (p.halflife_unit && (rc = qp_resolve_halflife(&p))) return rc;
  p.query->root = root;
  p.query->has_text = qp_has_text(root) || p.query->news.like;
  p.query->plain = qp_plain(&p, root);
  *out = p.query;
  return 0;
}

int qp_add_condition(qp_query_t *q, qp_node_t *cond, arena_t *a) {
  if (!q || !a) return ERR_INVAL;
  if (!cond) return 0;
  if (q->root) {
    qp_build_t b = {a, NULL, 0, SIZE_MAX};
    qp_node_t *pair[2] = {q->root, cond}, *root;
    int rc = qp_make_and(&b, pair, 2, q->root->column, &root);
    if (rc) return rc;
    cond = root;
  }
  q->root = cond;
  q->has_text = qp_has_text(cond) || q->news.like;
  return 0;
}

int qp_set_option(qp_query_t *q, const char *name, const char *value, size_t len, arena_t *a,
                  err_t *err) {
  const qp_fdef_t *def = name ? qp__field_def(name, strlen(name)) : NULL;
  if (!q || !a || !value || !def || def->kind != QP_FK_OPTION)
    return qp__fail(err, ERR_INVAL, 0, "qp_set_option: no query, arena, value or option");
  qp_parser_t p;
  memset(&p, 0, sizeof p);
  p.q = value;
  p.len = len;
  p.query = q;
  p.b = (qp_build_t){a, err, 0, SIZE_MAX};
  if (len == 0) return qp__bad(&p, 0, "%s: needs a value at column 1", def->name);
  /* since: is resolved against now: when it is read, so each once, now
   * first (a caller sets now: before since:). */
  if ((def->id == QP_OPT_SINCE || def->id == QP_OPT_NOW) && q->news.since)
    return qp__bad(&p, 0, "%s: given beside since: in the query: give both in one place",
                   def->name);
  if (def->id == QP_OPT_NOW && q->news.has_now) return qp__bad(&p, 0, "option 'now' given twice");
  qp_tok_t t = {.kind = QT_FIELD, .s = value, .n = len, .def = def};
  int rc = qp_option(&p, &t, 1, 0);
  if (!rc && def->id == QP_OPT_SINCE) rc = qp_resolve_since(&p, &q->root);
  if (!rc && p.halflife_unit) rc = qp_resolve_halflife(&p);
  if (!rc) q->has_text = qp_has_text(q->root) || q->news.like;
  return rc;
}

qp_node_t *qp_filter_node(arena_t *a, qp_field_t field, const char *value, size_t len) {
  qp_build_t b = {a, NULL, 0, SIZE_MAX};
  qp_node_t *n;
  if (!a || (field != QF_OUTLET && field != QF_AUTHOR && field != QF_TAG && field != QF_LANG))
    return NULL;
  return qp_filter(&b, field, value, len, 0, &n) ? NULL : n;
}
