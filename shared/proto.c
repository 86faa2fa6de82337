/* proto.c: the line protocol (see proto.h for the wire format).
 *
 * Two stages, so that the daemon's loop reads a request once and its worker
 * runs it: proto_read() is given one request line (it frames nothing); it
 * checks the line is UTF-8, reads it as the text form or the JSON-object
 * form into a proto_req_t and checks the argument against the command table.
 * proto_answer() parses the query (the text argument, or the JSON form's
 * fields) and calls the command's handler, which writes the success
 * response.  Any error on the way becomes the one error response line.  All
 * per-request memory of proto_answer comes from the context's arena, reset
 * at the start of each request; the JSON object belongs to the request.
 */
#include "proto.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define PROTO_ARENA_CAP (256u * 1024 * 1024)

struct proto_ctx {
  eng_t *eng;
  arena_t *arena;
  proto_hooks_t hooks;
};

proto_ctx_t *proto_ctx_new(eng_t *eng, const proto_hooks_t *hooks) {
  proto_ctx_t *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  if (!(c->arena = arena_new(0))) {
    free(c);
    return NULL;
  }
  arena_set_cap(c->arena, PROTO_ARENA_CAP);
  c->eng = eng;
  if (hooks) c->hooks = *hooks;
  return c;
}

void proto_ctx_free(proto_ctx_t *c) {
  if (!c) return;
  arena_free(c->arena);
  free(c);
}

static uint64_t proto_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- responses ---- */

void proto_write_error(buf_t *out, int code, const char *message, int column) {
  buf_puts(out, "{\"ok\":false,\"error\":{\"code\":");
  buf_json_cstr(out, err_proto_code(code));
  buf_json_key(out, "message");
  buf_json_cstr(out, message ? message : err_str(code));
  if (column > 0) {
    buf_json_key(out, "column");
    buf_json_int(out, column);
  }
  buf_puts(out, "}}\n");
}

static void proto_opt_str(buf_t *out, const char *key, const char *v) {
  if (!v) return;
  buf_json_key(out, key);
  buf_json_cstr(out, v);
}

static int proto_search(proto_ctx_t *c, const proto_req_t *r, buf_t *out, err_t *err) {
  eng_result_t res;
  uint64_t t0 = proto_now_us();
  int rc = eng_search(c->eng, r->q, c->arena, &res, err);
  if (rc) return rc;
  uint64_t took = proto_now_us() - t0;
  buf_puts(out, "{\"ok\":true");
  buf_json_key(out, "total");
  buf_json_int(out, res.total);
  buf_json_key(out, "total_exact");
  buf_json_bool(out, res.total_exact);
  if (res.collapsed) {
    buf_json_key(out, "groups");
    buf_json_int(out, res.groups);
  }
  buf_json_key(out, "offset");
  buf_json_int(out, res.offset);
  buf_json_key(out, "limit");
  buf_json_int(out, res.limit);
  buf_json_key(out, "took_us");
  buf_json_int(out, (int64_t)took);
  if (res.relaxed) {
    buf_json_key(out, "relaxed");
    buf_json_bool(out, 1);
  }
  buf_json_key(out, "hits");
  buf_json_open(out, '[');
  for (size_t i = 0; i < res.nhits; i++) {
    const eng_hit_t *h = &res.hits[i];
    buf_json_open(out, '{');
    buf_json_key(out, "rank");
    buf_json_int(out, h->rank);
    proto_opt_str(out, "id", h->id);
    buf_json_key(out, "score");
    buf_json_double(out, h->score);
    proto_opt_str(out, "title", h->title);
    proto_opt_str(out, "title_html", h->title_html);
    proto_opt_str(out, "outlet", h->outlet);
    proto_opt_str(out, "date", h->date);
    proto_opt_str(out, "url", h->url);
    proto_opt_str(out, "snippet", h->snippet);
    if (res.collapsed) {
      buf_json_key(out, "copies");
      buf_json_int(out, h->copies);
      buf_json_key(out, "copy_outlets");
      buf_json_open(out, '[');
      for (size_t k = 0; k < h->ncopy_outlets; k++) buf_json_cstr(out, h->copy_outlets[k]);
      buf_json_close(out, ']');
    }
    buf_json_close(out, '}');
  }
  buf_json_close(out, ']');
  if (res.nfacets) {
    buf_json_key(out, "facets");
    buf_json_open(out, '{');
    for (size_t f = 0; f < res.nfacets; f++) {
      buf_json_key(out, qp_facet_name(res.facets[f].facet));
      buf_json_open(out, '[');
      for (size_t k = 0; k < res.facets[f].nvalues; k++) {
        buf_json_open(out, '{');
        buf_json_key(out, "value");
        buf_json_cstr(out, res.facets[f].values[k].value);
        buf_json_key(out, "count");
        buf_json_int(out, res.facets[f].values[k].count);
        buf_json_close(out, '}');
      }
      buf_json_close(out, ']');
    }
    buf_json_close(out, '}');
  }
  proto_opt_str(out, "next", res.next);
  buf_puts(out, "}\n");
  return 0;
}

static int proto_count(proto_ctx_t *c, const proto_req_t *r, buf_t *out, err_t *err) {
  uint32_t n;
  int rc = eng_count(c->eng, r->q, &n, err);
  if (rc) return rc;
  buf_puts(out, "{\"ok\":true");
  buf_json_key(out, "count");
  buf_json_int(out, n);
  buf_puts(out, "}\n");
  return 0;
}

static void proto_day_or_null(buf_t *out, const char *key, const char *v) {
  buf_json_key(out, key);
  if (v) buf_json_cstr(out, v);
  else buf_json_null(out);
}

/* pt[n..): v in decimal, then the literal tail; returns the new length. */
static int proto_put_uint(char *pt, int n, uint32_t v, const char *tail) {
  n += (int)buf_fmt_uint(pt + n, v);
  size_t tl = strlen(tail);
  memcpy(pt + n, tail, tl);
  return n + (int)tl;
}

static int proto_timeline(proto_ctx_t *c, const proto_req_t *r, buf_t *out, err_t *err) {
  eng_timeline_t t;
  int rc = eng_timeline(c->eng, r->q, c->arena, &t, err);
  if (rc) return rc;
  buf_puts(out, "{\"ok\":true");
  buf_json_key(out, "total");
  buf_json_int(out, t.total);
  buf_json_key(out, "by");
  buf_json_cstr(out, qp_by_name(t.by));
  proto_day_or_null(out, "from", t.from);
  proto_day_or_null(out, "to", t.to);
  buf_json_key(out, "series");
  buf_json_open(out, '[');
  /* A day series has thousands of points: each is written in one piece
   * (its label is ASCII digits and dashes, nothing to escape). */
  buf_reserve(out, t.npoints * 64);
  for (size_t i = 0; i < t.npoints; i++) {
    const eng_point_t *p = &t.series[i];
    char pt[128];
    int n = snprintf(pt, sizeof pt, "%s{\"date\":\"%.16s\",\"count\":", i ? "," : "", p->date);
    n = proto_put_uint(pt, n, p->count, ",\"all\":");
    n = proto_put_uint(pt, n, p->all, ",\"outlets\":");
    n = proto_put_uint(pt, n, p->outlets, "}");
    buf_append(out, pt, (size_t)n);
  }
  buf_json_close(out, ']');
  buf_json_key(out, "first");
  buf_json_open(out, '[');
  for (size_t i = 0; i < t.nfirst; i++) {
    buf_json_open(out, '{');
    proto_opt_str(out, "id", t.first[i].id);
    proto_opt_str(out, "date", t.first[i].date);
    proto_opt_str(out, "outlet", t.first[i].outlet);
    proto_opt_str(out, "title", t.first[i].title);
    buf_json_close(out, '}');
  }
  buf_json_close(out, ']');
  buf_puts(out, "}\n");
  return 0;
}

static int proto_get(proto_ctx_t *c, const proto_req_t *r, buf_t *out, err_t *err) {
  doc_t d;
  const char **copies;
  size_t ncopies;
  int rc = eng_get(c->eng, r->arg, r->len, c->arena, &d, err);
  if (!rc) rc = eng_copies(c->eng, r->arg, r->len, c->arena, &copies, &ncopies, err);
  if (rc) return rc;
  buf_puts(out, "{\"ok\":true");
  buf_json_key(out, "doc");
  doc_write_json(&d, out);
  if (ncopies && out->len && out->data[out->len - 1] == '}') {
    out->len--; /* the document's own object gets its copy group */
    buf_json_key(out, "copies");
    buf_json_open(out, '[');
    for (size_t i = 0; i < ncopies; i++) buf_json_cstr(out, copies[i]);
    buf_json_close(out, ']');
    buf_json_close(out, '}');
  }
  buf_puts(out, "}\n");
  return 0;
}

static int proto_explain(proto_ctx_t *c, const proto_req_t *r, buf_t *out, err_t *err) {
  const char *xq;
  int rc = eng_describe(c->eng, r->q, c->arena, &xq, err);
  if (rc) return rc;
  buf_puts(out, "{\"ok\":true");
  buf_json_key(out, "parsed");
  qp_explain(r->q, out);
  buf_json_key(out, "xapian");
  buf_json_cstr(out, xq);
  buf_puts(out, "}\n");
  return 0;
}

static int proto_stats(proto_ctx_t *c, const proto_req_t *r, buf_t *out, err_t *err) {
  eng_stats_t st;
  eng_stats(c->eng, &st);
  buf_puts(out, "{\"ok\":true");
  buf_json_key(out, "docs");
  buf_json_int(out, st.docs);
  buf_json_key(out, "revision");
  buf_json_int(out, (int64_t)st.revision);
  buf_json_key(out, "format");
  buf_json_int(out, st.format);
  proto_opt_str(out, "lang", st.lang);
  proto_opt_str(out, "langs", st.langs);
  buf_json_key(out, "avg_length");
  buf_json_double(out, st.avg_length);
  proto_opt_str(out, "index", st.path);
  if (c->hooks.stats) c->hooks.stats(c->hooks.ud, out);
  buf_puts(out, "}\n");
  return 0;
}

static int proto_ok(proto_ctx_t *c, const proto_req_t *r, buf_t *out, err_t *err) {
  buf_puts(out, "{\"ok\":true}\n");
  return 0;
}

static int proto_help(proto_ctx_t *c, const proto_req_t *r, buf_t *out, err_t *err);

static const proto_command_t proto_table[] = {
    {"SEARCH", -1, PROTO_CMD_ENGINE | PROTO_CMD_QUERY | PROTO_CMD_CACHE, proto_search,
     "SEARCH <query>", "matching articles, best first, with totals and facets"},
    {"COUNT", -1, PROTO_CMD_ENGINE | PROTO_CMD_QUERY | PROTO_CMD_CACHE, proto_count,
     "COUNT <query>", "the exact number of matching articles"},
    {"TIMELINE", -1, PROTO_CMD_ENGINE | PROTO_CMD_QUERY | PROTO_CMD_CACHE, proto_timeline,
     "TIMELINE <query>",
     "matching articles per day/week/month/year (by:), with all articles and outlets, and "
     "each outlet's first"},
    {"GET", 1, PROTO_CMD_ENGINE | PROTO_CMD_CACHE, proto_get, "GET <id>", "one article, whole"},
    {"EXPLAIN", -1, PROTO_CMD_ENGINE | PROTO_CMD_QUERY, proto_explain, "EXPLAIN <query>",
     "how a query was understood"},
    {"STATS", 0, PROTO_CMD_ENGINE, proto_stats, "STATS", "index and server figures"},
    {"PING", 0, 0, proto_ok, "PING", "liveness check"},
    {"HELP", 0, 0, proto_help, "HELP", "this list"},
    {"QUIT", 0, PROTO_CMD_CLOSE, proto_ok, "QUIT", "close the connection"},
    /* Answered by proto_gate, before any handler. */
    {"AUTH", 1, PROTO_CMD_AUTH, NULL, "AUTH <secret>",
     "authenticate (sift-searchd --auth-file); ok when no secret is set"},
};
#define PROTO_NCOMMANDS (sizeof proto_table / sizeof proto_table[0])

static int proto_help(proto_ctx_t *c, const proto_req_t *r, buf_t *out, err_t *err) {
  buf_puts(out, "{\"ok\":true");
  buf_json_key(out, "commands");
  buf_json_open(out, '[');
  for (size_t i = 0; i < PROTO_NCOMMANDS; i++) {
    buf_json_open(out, '{');
    buf_json_key(out, "name");
    buf_json_cstr(out, proto_table[i].name);
    buf_json_key(out, "usage");
    buf_json_cstr(out, proto_table[i].usage);
    buf_json_key(out, "help");
    buf_json_cstr(out, proto_table[i].help);
    buf_json_close(out, '}');
  }
  buf_json_close(out, ']');
  buf_puts(out, "}\n");
  return 0;
}

const proto_command_t *proto_commands(size_t *n) {
  *n = PROTO_NCOMMANDS;
  return proto_table;
}

const proto_command_t *proto_find_command(const char *name, size_t len) {
  for (size_t i = 0; i < PROTO_NCOMMANDS; i++) {
    if (strlen(proto_table[i].name) == len && strncasecmp(proto_table[i].name, name, len) == 0)
      return &proto_table[i];
  }
  return NULL;
}

/* ---- reading requests ---- */

static size_t proto_word_len(const char *s, size_t len) {
  size_t i = 0;
  while (i < len && s[i] != ' ' && s[i] != '\t') i++;
  return i;
}

static void proto_trim(const char **s, size_t *len) {
  while (*len && ((*s)[0] == ' ' || (*s)[0] == '\t')) (*s)++, (*len)--;
  while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t')) (*len)--;
}


/* JSON form: the command named by "op" (NULL if none/unknown).  The JSON
 * form names commands in lower case (SPEC); any case is accepted. */
static const proto_command_t *proto_json_op(json_t *o) {
  json_t *op = json_object_get(o, "op");
  if (!json_is_string(op)) return NULL;
  return proto_find_command(json_string_value(op), strlen(json_string_value(op)));
}

/* Add the filters of one JSON field (a string or an array of strings). */
static int proto_json_filters(proto_req_t *r, json_t *o, const char *key, qp_field_t field,
                              arena_t *a, err_t *err) {
  json_t *v = json_object_get(o, key);
  if (!v || json_is_null(v)) return 0;
  json_t *one = v;
  size_t n = json_is_array(v) ? json_array_size(v) : 1;
  for (size_t i = 0; i < n; i++) {
    if (json_is_array(v)) one = json_array_get(v, i);
    if (!json_is_string(one)) {
      return err_set(err, ERR_BAD_REQUEST, 0, "\"%s\" must be a string or an array of strings",
                     key);
    }
    qp_node_t *node = qp_filter_node(a, field, json_string_value(one), json_string_length(one));
    if (!node || !node->key[0]) {
      return err_set(err, ERR_BAD_QUERY, 0, "\"%s\": '%s' is not a usable value", key,
                     json_string_value(one));
    }
    int rc = qp_add_condition(r->q, node, a);
    if (rc) return err_set(err, rc, 0, NULL);
  }
  return 0;
}

static int proto_json_uint(json_t *o, const char *key, uint32_t max, uint32_t *out, int *given,
                           err_t *err) {
  json_t *v = json_object_get(o, key);
  if (!v || json_is_null(v)) return 0;
  if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
    return err_set(err, ERR_BAD_REQUEST, 0, "\"%s\" must be an integer from 0 to %u", key, max);
  }
  *out = (uint32_t)json_integer_value(v);
  if (given) *given = 1;
  return 0;
}

static int proto_json_facets(qp_query_t *q, json_t *v, err_t *err) {
  const char *name;
  json_t *val;
  size_t i;
  q->nfacets = 0;
  if (json_is_array(v)) {
    json_array_foreach(v, i, val) {
      int f =
          json_is_string(val) ? qp_facet_id(json_string_value(val), json_string_length(val)) : -1;
      if (f < 0 || q->nfacets == QP_FACET__COUNT) {
        return err_set(err, ERR_BAD_REQUEST, 0,
                       "\"facets\": unknown facet (outlet, year, month, day, author, tag)");
      }
      q->facets[q->nfacets++] = (qp_facet_req_t){(qp_facet_t)f, QP_DEFAULT_FACET_LIMIT};
    }
    return 0;
  }
  if (json_is_object(v)) {
    json_object_foreach(v, name, val) {
      int f = qp_facet_id(name, strlen(name));
      uint32_t lim = QP_DEFAULT_FACET_LIMIT;
      if (json_is_integer(val) && json_integer_value(val) >= 0) {
        lim = json_integer_value(val) > UINT32_MAX ? UINT32_MAX : (uint32_t)json_integer_value(val);
      } else if (json_is_string(val) && strcmp(json_string_value(val), "all") == 0) {
        lim = UINT32_MAX;
      } else {
        f = -1;
      }
      if (f < 0 || q->nfacets == QP_FACET__COUNT) {
        return err_set(err, ERR_BAD_REQUEST, 0, "\"facets\": bad facet '%s'", name);
      }
      q->facets[q->nfacets++] = (qp_facet_req_t){(qp_facet_t)f, lim};
    }
    return 0;
  }
  return err_set(err, ERR_BAD_REQUEST, 0, "\"facets\" must be an array of names or an object");
}

/* The query options a JSON request may give as fields, each as the text
 * `name:value` would be (qp_set_option); now first, for since. */
static const char *const proto_json_options[] = {"now",      "since", "halflife", "by",
                                                 "collapse", "like",  "after",    NULL};

static const char *const proto_json_fields[] = {
    "op",    "q",      "outlet", "author", "tag",   "lang",  "from",  "to", "date",
    "limit", "offset", "sort",   "facets", "exact", "match", "relax", "id", NULL};

/* An optional boolean member: *out untouched when absent or null. */
static int proto_json_bool(json_t *o, const char *key, int *out, err_t *err) {
  json_t *v = json_object_get(o, key);
  if (!v || json_is_null(v)) return 0;
  if (!json_is_boolean(v))
    return err_set(err, ERR_BAD_REQUEST, 0, "\"%s\" must be true or false", key);
  *out = json_is_true(v);
  return 0;
}

/* The JSON form's envelope: an object of known fields naming a command,
 * and GET's "id".  The query fields are read by proto_json_query. */
static int proto_read_json(const char *line, size_t len, proto_req_t *r) {
  err_t *err = &r->err;
  json_error_t je;
  json_t *o = r->json = json_loadb(line, len, 0, &je);
  if (o) r->cmd = proto_json_op(o);
  if (!o || !json_is_object(o)) {
    return err_set(
        err, ERR_BAD_REQUEST, o ? 1 : je.column,
        o ? "a JSON request must be an object" : "request is not valid JSON: %s at column %d",
        je.text, je.column);
  }
  const char *key;
  json_t *v;
  json_object_foreach(o, key, v) {
    size_t k = 0;
    while (proto_json_fields[k] && strcmp(proto_json_fields[k], key) != 0) k++;
    size_t opt = 0;
    while (!proto_json_fields[k] && proto_json_options[opt] &&
           strcmp(proto_json_options[opt], key) != 0)
      opt++;
    if (!proto_json_fields[k] && !proto_json_options[opt])
      return err_set(err, ERR_BAD_REQUEST, 0, "unknown request field \"%s\"", key);
  }
  json_t *op = json_object_get(o, "op");
  if (!json_is_string(op)) {
    return err_set(err, ERR_BAD_REQUEST, 0, "a JSON request needs \"op\", a command name");
  }
  if (!r->cmd)
    return err_set(err, ERR_UNKNOWN_COMMAND, 0, "unknown command '%s'", json_string_value(op));
  if (!(r->cmd->flags & PROTO_CMD_QUERY) && r->cmd->needs_arg == 1) {
    json_t *id = json_object_get(o, "id");
    if (!json_is_string(id)) {
      return err_set(err, ERR_BAD_REQUEST, 0, "\"%s\" needs \"id\", a string",
                     json_string_value(op));
    }
    r->arg = json_string_value(id);
    r->len = json_string_length(id);
  }
  return 0;
}

/* The JSON form's query: "q" parsed, then the other fields applied to it. */
static int proto_json_query(proto_ctx_t *c, proto_req_t *r, err_t *err) {
  json_t *o = r->json;
  arena_t *a = c->arena;
  int rc;
  json_t *q = json_object_get(o, "q");
  if (q && !json_is_null(q) && !json_is_string(q))
    return err_set(err, ERR_BAD_REQUEST, 0, "\"q\" must be a string");
  if (q && json_is_string(q)) {
    if ((rc = qp_parse(json_string_value(q), json_string_length(q), a, &r->q, err))) return rc;
  } else if (!(r->q = qp_query_new(a))) {
    return err_set(err, ERR_NOMEM, 0, NULL);
  }
  if ((rc = proto_json_filters(r, o, "outlet", QF_OUTLET, a, err)) ||
      (rc = proto_json_filters(r, o, "author", QF_AUTHOR, a, err)) ||
      (rc = proto_json_filters(r, o, "tag", QF_TAG, a, err)) ||
      (rc = proto_json_filters(r, o, "lang", QF_LANG, a, err)))
    return rc;
  json_t *from = json_object_get(o, "from"), *to = json_object_get(o, "to"),
         *date = json_object_get(o, "date");
  const char *fs = json_string_value(from), *ts = json_string_value(to),
             *ds = json_string_value(date);
  if ((from && !json_is_null(from) && !fs) || (to && !json_is_null(to) && !ts) ||
      (date && !json_is_null(date) && !ds)) {
    return err_set(err, ERR_BAD_REQUEST, 0, "\"from\", \"to\" and \"date\" must be date strings");
  }
  qp_node_t *dn;
  if (ds && ((rc = qp_date_node(a, ds, ds, &dn, err)) || (rc = qp_add_condition(r->q, dn, a))))
    return rc;
  if ((fs || ts) &&
      ((rc = qp_date_node(a, fs, ts, &dn, err)) || (rc = qp_add_condition(r->q, dn, a))))
    return rc;
  for (size_t k = 0; proto_json_options[k]; k++) {
    json_t *v = json_object_get(o, proto_json_options[k]);
    if (!v || json_is_null(v)) continue;
    if (!json_is_string(v))
      return err_set(err, ERR_BAD_REQUEST, 0, "\"%s\" must be a string, as in %s:VALUE",
                     proto_json_options[k], proto_json_options[k]);
    if ((rc = qp_set_option(r->q, proto_json_options[k], json_string_value(v),
                            json_string_length(v), a, err)))
      return rc;
  }
  if ((rc = proto_json_uint(o, "limit", QP_MAX_LIMIT, &r->q->limit, &r->q->has_limit, err)) ||
      (rc = proto_json_uint(o, "offset", UINT32_MAX, &r->q->offset, &r->q->has_offset, err)))
    return rc;
  json_t *sort = json_object_get(o, "sort");
  if (sort && !json_is_null(sort)) {
    const char *s = json_string_value(sort);
    qp_sort_t so = !s                            ? QP_SORT_DEFAULT
                   : strcmp(s, "relevance") == 0 ? QP_SORT_RELEVANCE
                   : strcmp(s, "newest") == 0    ? QP_SORT_NEWEST
                   : strcmp(s, "oldest") == 0    ? QP_SORT_OLDEST
                   : strcmp(s, "recent") == 0    ? QP_SORT_RECENT
                                                 : QP_SORT_DEFAULT;
    if (so == QP_SORT_DEFAULT) {
      return err_set(err, ERR_BAD_REQUEST, 0,
                     "\"sort\" must be relevance, newest, oldest or recent");
    }
    r->q->sort = so;
  }
  json_t *facets = json_object_get(o, "facets");
  if (facets && !json_is_null(facets) && (rc = proto_json_facets(r->q, facets, err))) return rc;
  if ((rc = proto_json_bool(o, "exact", &r->q->exact, err))) return rc;
  if ((rc = proto_json_bool(o, "relax", &r->q->relax, err))) return rc;
  json_t *match = json_object_get(o, "match");
  if (match && !json_is_null(match)) {
    const char *m = json_string_value(match);
    if (!m || (strcmp(m, "any") != 0 && strcmp(m, "all") != 0)) {
      return err_set(err, ERR_BAD_REQUEST, 0, "\"match\" must be \"any\" or \"all\"");
    }
    r->q->match_any = m[1] == 'n';
  }
  return 0;
}

/* The text form: the command word, then its argument. */
static int proto_read_text(const char *line, size_t len, proto_req_t *r) {
  size_t wl = proto_word_len(line, len);
  const char *arg = line + wl;
  size_t alen = len - wl;
  proto_trim(&arg, &alen);
  r->arg = arg;
  r->len = alen;
  if (!(r->cmd = proto_find_command(line, wl))) {
    return err_set(&r->err, ERR_UNKNOWN_COMMAND, 1, "unknown command '%.*s' (HELP lists them)",
                   (int)(wl > 40 ? 40 : wl), line);
  }
  if (r->cmd->needs_arg == 1 && alen == 0) {
    return err_set(&r->err, ERR_BAD_REQUEST, 0, "%s needs an argument: %s", r->cmd->name,
                   r->cmd->usage);
  }
  if (r->cmd->needs_arg == 0 && alen != 0) {
    return err_set(&r->err, ERR_BAD_REQUEST, (int)(arg - line) + 1, "%s takes no argument",
                   r->cmd->name);
  }
  return 0;
}

int proto_read(const char *line, size_t len, proto_req_t *r) {
  memset(r, 0, sizeof *r);
  if (len && line[len - 1] == '\r') len--;
  const char *s = line;
  size_t n = len;
  proto_trim(&s, &n);
  if (!utf8_valid(line, len)) {
    r->rc = err_set(&r->err, ERR_BAD_REQUEST, 0, "request is not valid UTF-8");
  } else if (n == 0) {
    r->rc = err_set(&r->err, ERR_BAD_REQUEST, 0, "empty request (HELP lists the commands)");
  } else if (s[0] == '{') {
    r->rc = proto_read_json(s, n, r);
  } else {
    r->rc = proto_read_text(s, n, r);
  }
  return r->rc;
}

void proto_req_fini(proto_req_t *r) {
  json_decref(r->json);
  memset(r, 0, sizeof *r);
}

int proto_secret_equal(const char *secret, const char *given, size_t len) {
  size_t n = strlen(secret);
  unsigned diff = (unsigned)(n ^ len);
  for (size_t i = 0; i < len; i++)
    diff |= (unsigned char)given[i] ^ (unsigned char)secret[i % (n ? n : 1)];
  return diff == 0;
}

int proto_gate(const proto_req_t *r, const char *secret, int *authed, buf_t *out, int *rc) {
  int is_auth = r->cmd && (r->cmd->flags & PROTO_CMD_AUTH);
  *rc = 0;
  if (!secret) {
    if (!is_auth || r->rc) return 0; /* a malformed AUTH: its read error */
  } else if (is_auth) {
    if (r->rc || !proto_secret_equal(secret, r->arg, r->len)) *rc = ERR_UNAUTHORIZED;
    else *authed = 1;
  } else if (*authed) {
    return 0;
  } else {
    *rc = ERR_UNAUTHORIZED;
  }
  if (*rc) proto_write_error(out, *rc, is_auth ? "wrong secret" : "send AUTH <secret> first", 0);
  else buf_puts(out, "{\"ok\":true}\n");
  return 1;
}

int proto_answer(proto_ctx_t *c, proto_req_t *r, buf_t *out, unsigned *flags) {
  err_t err = {0};
  int rc = r->rc, answered = 0;
  *flags = 0;
  arena_reset(c->arena);
  r->q = NULL;
  size_t before = out->len;
  if (rc) {
    err = r->err;
  } else if (proto_gate(r, NULL, NULL, out, &rc)) {
    answered = 1;
  } else if (r->cmd->flags & PROTO_CMD_QUERY) {
    /* Query error columns count from the query's first byte, in both
     * request forms. */
    rc = r->json ? proto_json_query(c, r, &err) : qp_parse(r->arg, r->len, c->arena, &r->q, &err);
  }
  if (!rc && r->q && qp_uses_today(r->q)) *flags |= PROTO_OUT_TODAY;
  if (!rc && !answered && (r->cmd->flags & PROTO_CMD_ENGINE) && !c->eng) {
    rc = err_set(&err, ERR_INTERNAL, 0, "no index is open");
  }
  if (!rc && !answered) rc = r->cmd->handler(c, r, out, &err);
  if (!rc && out->err) rc = err_set(&err, out->err, 0, "response larger than the output limit");
  if (rc) {
    out->len = before;
    out->err = 0;
    if (out->data) out->data[before] = '\0';
    if (rc != ERR_OVER_BUDGET) proto_write_error(out, rc, err_message(&err), err.column);
  }
  /* QUIT closes even when it was wrong ("QUIT x"), unless its JSON form
   * could not be read. */
  if (r->cmd && (r->cmd->flags & PROTO_CMD_CLOSE) && (!rc || !r->json)) *flags |= PROTO_OUT_CLOSE;
  /* The answer is in out: give back what a large request took now, rather
   * than holding it until this context's next request. */
  arena_reset(c->arena);
  r->q = NULL;
  return rc;
}

int proto_handle(proto_ctx_t *c, const char *line, size_t len, buf_t *out, unsigned *flags) {
  proto_req_t r;
  proto_read(line, len, &r);
  int rc = proto_answer(c, &r, out, flags);
  proto_req_fini(&r);
  return rc;
}
