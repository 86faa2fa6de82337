/* qp_explain.c: a parsed query written back out as JSON for EXPLAIN (see
 * qp.c for the module).  Called by proto.c; reads the tree, writes to out.
 *
 * EXPLAIN JSON (qp_explain), one object, members always in this order:
 *   {"root":NODE|null,"limit":N,"offset":N,"sort":S,"exact":B,
 *    "facets":[{"name":F,"limit":N|"all"},...]}
 *   S is the order that will be used: the one asked for, else "relevance"
 *   when has_text and "newest" otherwise.  Then, only when they apply:
 *   "now":"YYYY-MM-DD" (with since: or sort:recent), "since":"7d",
 *   "halflife_days":N (sort:recent), "after":CURSOR, "collapse":"copies",
 *   "like":ID, "by":"week".
 *   NODE is one of
 *     {"op":"and","args":[NODE,...]}      {"op":"or","args":[NODE,...]}
 *     {"op":"not","arg":NODE}
 *     {"op":"near","distance":N,"args":[NODE,...]}   (words and prefixes)
 *     {"word":"gaza"}  {"phrase":["gaza","city"]}  {"prefix":"hospit"}
 *         each with "field":"title" added when limited to titles
 *     {"filter":"outlet","value":"Al Jazeera","key":"aljazeera"}
 *         (filter is outlet, author, tag or lang), with "prefix":true
 *         added for outlet:fox* (value "fox*", key "fox")
 *     {"date":"2023-11","from":"2023-11-01","to":"2023-11-31"}
 *         (date as written; from/to inclusive, null when open; a month
 *         runs to day 31 whatever its length)
 */
#include "qp.h"
#include "qp_int.h"

#include <stdint.h>
#include <stdio.h>

/* ------------------------------------------------------------------------
 * EXPLAIN
 */

static void qp_explain_day(buf_t *out, const char *key, uint32_t day) {
  char s[16];
  buf_json_key(out, key);
  if (!day) {
    buf_json_null(out);
    return;
  }
  snprintf(s, sizeof s, "%04u-%02u-%02u", (unsigned)(day / 10000 % 10000),
           (unsigned)(day / 100 % 100), (unsigned)(day % 100));
  buf_json_cstr(out, s);
}

static void qp_explain_node(const qp_node_t *n, buf_t *out) {
  if (!n) {
    buf_json_null(out);
    return;
  }
  buf_json_open(out, '{');
  switch (n->kind) {
    case QN_AND:
    case QN_OR:
      buf_json_key(out, "op");
      buf_json_cstr(out, n->kind == QN_AND ? "and" : "or");
      buf_json_key(out, "args");
      buf_json_open(out, '[');
      for (size_t i = 0; i < n->nkids; i++) qp_explain_node(n->kids[i], out);
      buf_json_close(out, ']');
      break;
    case QN_NEAR:
      buf_json_key(out, "op");
      buf_json_cstr(out, "near");
      buf_json_key(out, "distance");
      buf_json_int(out, n->distance);
      buf_json_key(out, "args");
      buf_json_open(out, '[');
      for (size_t i = 0; i < n->nkids; i++) qp_explain_node(n->kids[i], out);
      buf_json_close(out, ']');
      break;
    case QN_NOT:
      buf_json_key(out, "op");
      buf_json_cstr(out, "not");
      buf_json_key(out, "arg");
      qp_explain_node(n->nkids ? n->kids[0] : NULL, out);
      break;
    case QN_WORD:
    case QN_PREFIX:
      buf_json_key(out, n->kind == QN_WORD ? "word" : "prefix");
      buf_json_cstr(out, n->nwords ? n->words[0] : "");
      break;
    case QN_PHRASE:
      buf_json_key(out, "phrase");
      buf_json_open(out, '[');
      for (size_t i = 0; i < n->nwords; i++) buf_json_cstr(out, n->words[i]);
      buf_json_close(out, ']');
      break;
    case QN_FILTER:
      buf_json_key(out, "filter");
      buf_json_cstr(out, qp__filter_name(n->field));
      buf_json_key(out, "value");
      buf_json_cstr(out, n->value ? n->value : "");
      buf_json_key(out, "key");
      buf_json_cstr(out, n->key ? n->key : "");
      if (n->prefix) {
        buf_json_key(out, "prefix");
        buf_json_bool(out, 1);
      }
      break;
    case QN_DATE:
      buf_json_key(out, "date");
      buf_json_cstr(out, n->value ? n->value : "");
      qp_explain_day(out, "from", n->lo);
      qp_explain_day(out, "to", n->hi);
      break;
  }
  if ((n->kind == QN_WORD || n->kind == QN_PHRASE || n->kind == QN_PREFIX) &&
      n->field == QF_TITLE) {
    buf_json_key(out, "field");
    buf_json_cstr(out, "title");
  }
  buf_json_close(out, '}');
}

void qp_explain(const qp_query_t *q, buf_t *out) {
  qp_sort_t sort = q->sort;
  if (sort == QP_SORT_DEFAULT) sort = q->has_text ? QP_SORT_RELEVANCE : QP_SORT_NEWEST;
  buf_json_open(out, '{');
  buf_json_key(out, "root");
  qp_explain_node(q->root, out);
  buf_json_key(out, "limit");
  buf_json_int(out, q->limit);
  buf_json_key(out, "offset");
  buf_json_int(out, q->offset);
  buf_json_key(out, "sort");
  buf_json_cstr(out, qp_sort_name(sort));
  buf_json_key(out, "exact");
  buf_json_bool(out, q->exact);
  buf_json_key(out, "facets");
  buf_json_open(out, '[');
  for (size_t i = 0; i < q->nfacets && i < QP_FACET__COUNT; i++) {
    const char *name = qp_facet_name(q->facets[i].facet);
    buf_json_open(out, '{');
    buf_json_key(out, "name");
    buf_json_cstr(out, name ? name : "");
    buf_json_key(out, "limit");
    if (q->facets[i].limit == UINT32_MAX) buf_json_cstr(out, "all");
    else buf_json_int(out, q->facets[i].limit);
    buf_json_close(out, '}');
  }
  buf_json_close(out, ']');
  const qp_news_t *nw = &q->news;
  if (nw->since || q->sort == QP_SORT_RECENT) qp_explain_day(out, "now", nw->now);
  if (nw->since) {
    buf_json_key(out, "since");
    buf_json_cstr(out, nw->since);
  }
  if (q->sort == QP_SORT_RECENT) {
    buf_json_key(out, "halflife_days");
    buf_json_int(out, nw->halflife);
  }
  if (nw->after) {
    buf_json_key(out, "after");
    buf_json_cstr(out, nw->after);
  }
  if (nw->collapse) {
    buf_json_key(out, "collapse");
    buf_json_cstr(out, "copies");
  }
  if (nw->like) {
    buf_json_key(out, "like");
    buf_json_cstr(out, nw->like);
  }
  if (nw->by != QP_BY_AUTO) {
    buf_json_key(out, "by");
    buf_json_cstr(out, qp_by_name(nw->by));
  }
  buf_json_close(out, '}');
}
