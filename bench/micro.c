/* micro.c: sift-bench-micro, the in-process microbenchmark of Sift's request
 * path: parse -> match -> format, with no sockets, threads or event loop.
 *
 * It opens an index with the shared engine (eng_open, with the limits
 * sift-searchd uses by default) and answers the peers harness's query set
 * (bq.h) through proto_handle(), exactly the call a searchd worker makes for
 * each request line, so what it measures is the daemon's per-request CPU
 * cost without the network.
 *
 * For each class: --warmup untimed passes, then --iterations timed passes
 * over the class's queries; each proto_handle() call is timed, and mean, p50,
 * p95 and p99 over all of them (nearest rank) are reported in µs.  With text
 * requests a second, separate loop times the stages: qp_parse() of the query
 * text alone and eng_search() alone (matching, totals, facets, stored
 * documents and snippets); "rest" = full - parse - search is the protocol's
 * own share (command lookup, UTF-8 check, JSON response writing).
 *
 * Instruction counts (when the wall clock is too noisy): the timed passes
 * run in micro_timed_pass() and nothing else does, so
 *   valgrind --tool=callgrind --collect-atstart=no \
 *     --toggle-collect=micro_timed_pass sift-bench-micro --index DIR \
 *     --class facet_broad --iterations 2 --no-stages
 * counts exactly the timed requests; divide the total Ir by the "runs"
 * printed.  When built with valgrind's headers, each class is also dumped
 * separately (callgrind.out.PID.N, named after the class) so one run gives
 * per-class profiles.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "arena.h"
#include "buf.h"
#include "eng.h"
#include "err.h"
#include "proto.h"
#include "qp.h"
#include "xw.h"

#include "bq.h"

/* bench/CMakeLists.txt defines SIFT_HAVE_CALLGRIND_H when valgrind's
 * headers are installed; the client requests are no-ops outside valgrind. */
#ifdef SIFT_HAVE_CALLGRIND_H
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_DUMP_STATS_AT(name) ((void)(name))
#define CALLGRIND_ZERO_STATS ((void)0)
#endif

#ifndef SIFT_VERSION
#define SIFT_VERSION "dev"
#endif


typedef struct opts {
  const char *index, *queries, *classes, *json_out;
  bq_request_t req;
  int iterations, warmup, stages, check, costs, snippets_full;
  unsigned time_limit_ms;
} opts_t;

static void usage(FILE *f) {
  fprintf(f,
          "usage: sift-bench-micro --index DIR [options]\n"
          "Runs the peers query set through the full request path in process\n"
          "(proto_handle: parse, match, format) and prints per-class timings in us.\n"
          "\n"
          "  --index DIR        the index (built by sift-indexer)\n"
          "  --queries FILE     query set in the peers format [%s]\n"
          "  --class LIST       only these classes (comma-separated) [all]\n"
          "  --request text|json  request form [text]\n"
          "  --iterations N     timed passes over each class [5]\n"
          "  --warmup N         untimed passes over each class first [1]\n"
          "  --no-stages        skip the separate parse / search timing loop\n"
          "  --time-limit-ms N  per-query time limit as sift-searchd's default [5000]; 0: none\n"
          "  --shards PLAN      how a set of shards is matched (xw_set_shard_plan):\n"
          "                     auto, combined, apart or threads [auto]\n"
          "  --check            answer each query once, print the responses, exit\n"
          "  --snippets-full    snippets from whole bodies, not from the blocks the\n"
          "                     index's positions point at (the same answers, slower)\n"
          "  --costs            per query (text requests): eng_cost's estimate and the\n"
          "                     fastest of --iterations answers in us, then exit (to\n"
          "                     calibrate sift-searchd --inline-budget)\n"
          "  --json FILE        also write the figures as JSON to FILE\n"
          "  --help, --version\n"
          "Under callgrind: valgrind --tool=callgrind --collect-atstart=no\n"
          "  --toggle-collect=micro_timed_pass sift-bench-micro ... ; Ir / runs = instructions\n"
          "  per request.\n",
          BQ_DEFAULT_QUERIES);
}

static int parse_opts(int argc, char **argv, opts_t *o) {
  enum {
    O_INDEX = 256,
    O_QUERIES,
    O_CLASS,
    O_REQUEST,
    O_ITER,
    O_WARMUP,
    O_NOSTAGES,
    O_TLIM,
    O_PAR,
    O_CHECK,
    O_COSTS,
    O_JSON,
    O_HELP,
    O_VERSION,
    O_FULL
  };
  static const struct option lo[] = {{"index", required_argument, NULL, O_INDEX},
                                     {"queries", required_argument, NULL, O_QUERIES},
                                     {"class", required_argument, NULL, O_CLASS},
                                     {"request", required_argument, NULL, O_REQUEST},
                                     {"iterations", required_argument, NULL, O_ITER},
                                     {"warmup", required_argument, NULL, O_WARMUP},
                                     {"no-stages", no_argument, NULL, O_NOSTAGES},
                                     {"time-limit-ms", required_argument, NULL, O_TLIM},
                                     {"shards", required_argument, NULL, O_PAR},
                                     {"check", no_argument, NULL, O_CHECK},
                                     {"json", required_argument, NULL, O_JSON},
                                     {"costs", no_argument, NULL, O_COSTS},
                                     {"snippets-full", no_argument, NULL, O_FULL},
                                     {"help", no_argument, NULL, O_HELP},
                                     {"version", no_argument, NULL, O_VERSION},
                                     {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof *o);
  o->queries = BQ_DEFAULT_QUERIES;
  o->req = BQ_REQ_TEXT;
  o->iterations = 5;
  o->warmup = 1;
  o->stages = 1;
  o->time_limit_ms = 5000;
  int c;
  int v;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    const char *bad = NULL;
    switch (c) {
      case O_INDEX:
        o->index = optarg;
        break;
      case O_QUERIES:
        o->queries = optarg;
        break;
      case O_CLASS:
        o->classes = optarg;
        break;
      case O_JSON:
        o->json_out = optarg;
        break;
      case O_NOSTAGES:
        o->stages = 0;
        break;
      case O_CHECK:
        o->check = 1;
        break;
      case O_COSTS:
        o->costs = 1;
        break;
      case O_FULL:
        o->snippets_full = 1;
        break;
      case O_REQUEST:
        bq_parse_request(optarg, &o->req, &bad);
        break;
      case O_ITER:
        if (bq_parse_int(optarg, 1, 1000000, &o->iterations)) bad = "--iterations needs 1..1000000";
        break;
      case O_WARMUP:
        if (bq_parse_int(optarg, 0, 1000, &o->warmup)) bad = "--warmup needs 0..1000";
        break;
      case O_TLIM:
        if (bq_parse_int(optarg, 0, 86400000, &v)) bad = "--time-limit-ms needs 0..86400000";
        else o->time_limit_ms = (unsigned)v;
        break;
      case O_PAR:
        if (!strcmp(optarg, "auto")) xw_set_shard_plan(XW_SHARDS_AUTO, 0);
        else if (!strcmp(optarg, "combined")) xw_set_shard_plan(XW_SHARDS_COMBINED, 0);
        else if (!strcmp(optarg, "apart")) xw_set_shard_plan(XW_SHARDS_APART, 0);
        else if (!strcmp(optarg, "threads")) xw_set_shard_plan(XW_SHARDS_THREADS, 0);
        else bad = "--shards needs auto, combined, apart or threads";
        break;
      case O_HELP:
        usage(stdout);
        exit(0);
      case O_VERSION:
        printf("sift-bench-micro %s\n", SIFT_VERSION);
        exit(0);
      default:
        fprintf(stderr, "sift-bench-micro: unknown or incomplete option %s (see --help)\n",
                argv[optind - 1]);
        return -1;
    }
    if (bad) {
      fprintf(stderr, "sift-bench-micro: %s\n", bad);
      return -1;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "sift-bench-micro: unexpected argument %s (see --help)\n", argv[optind]);
    return -1;
  }
  if (!o->index) {
    fprintf(stderr, "sift-bench-micro: --index DIR is required (see --help)\n");
    return -1;
  }
  return 0;
}

/* The request line without its '\n', as a searchd connection hands it over. */
static size_t req_len(const bq_query_t *q) { return q->line_len - 1; }

/* Untimed passes (kept out of micro_timed_pass so callgrind's
 * --toggle-collect sees only the timed requests). */
__attribute__((noinline)) static void micro_warm_pass(proto_ctx_t *ctx, const bq_set_t *qs,
                                                      const bq_class_t *cl, buf_t *out) {
  unsigned flags;
  for (size_t j = 0; j < cl->n; j++) {
    const bq_query_t *q = &qs->queries[cl->queries[j]];
    buf_reset(out);
    proto_handle(ctx, q->line, req_len(q), out, &flags);
  }
}

/* One timed pass over a class: us[j] gets query j's time.  Returns the
 * number of error responses.  Not static and never inlined: callgrind
 * toggles on its name. */
__attribute__((noinline)) long micro_timed_pass(proto_ctx_t *ctx, const bq_set_t *qs,
                                                const bq_class_t *cl, buf_t *out, double *us);
long micro_timed_pass(proto_ctx_t *ctx, const bq_set_t *qs, const bq_class_t *cl, buf_t *out,
                      double *us) {
  long errors = 0;
  unsigned flags;
  for (size_t j = 0; j < cl->n; j++) {
    const bq_query_t *q = &qs->queries[cl->queries[j]];
    buf_reset(out);
    uint64_t t0 = bq_now_ns();
    proto_handle(ctx, q->line, req_len(q), out, &flags);
    us[j] = (double)(bq_now_ns() - t0) / 1e3;
    if (!bq_ok(out->data, out->len)) errors++;
  }
  return errors;
}

/* The query text of a text request: the line after "SEARCH ". */
static void query_text(const bq_query_t *q, const char **s, size_t *n) {
  static const char cmd[] = "SEARCH ";
  *s = q->line + sizeof cmd - 1;
  *n = req_len(q) - (sizeof cmd - 1);
}

/* --costs: "idx class cost us line" per query; us is the fastest of
 * iterations answers (after one untimed).  0, or -1 if a query fails. */
static int micro_costs(eng_t *eng, proto_ctx_t *ctx, arena_t *a, const bq_set_t *qs, int iterations,
                       buf_t *out) {
  printf("#idx\tclass\tcost\tus\trequest\n");
  for (size_t i = 0; i < qs->n; i++) {
    const bq_query_t *q = &qs->queries[i];
    const char *s;
    size_t n;
    query_text(q, &s, &n);
    err_t err = {0};
    qp_query_t *pq;
    arena_reset(a);
    if (qp_parse(s, n, a, &pq, &err)) return -1;
    uint64_t cost = eng_cost(eng, pq, pq->offset + pq->limit);
    double best = INFINITY;
    unsigned flags;
    for (int it = 0; it <= iterations; it++) {
      buf_reset(out);
      uint64_t t0 = bq_now_ns();
      proto_handle(ctx, q->line, req_len(q), out, &flags);
      double us = (double)(bq_now_ns() - t0) / 1e3;
      if (it && us < best) best = us;
    }
    printf("%zu\t%s\t%llu\t%.1f\t%.*s\n", q->idx, qs->classes[q->cls].name,
           (unsigned long long)cost, best, (int)req_len(q), q->line);
  }
  return 0;
}

/* The stage loop: parse alone, then search alone, per query. */
__attribute__((noinline)) static int micro_stages(eng_t *eng, arena_t *a, const bq_set_t *qs,
                                                  const bq_class_t *cl, int iterations,
                                                  double *parse_us, double *search_us) {
  double tp = 0, ts = 0;
  size_t runs = 0;
  for (int it = 0; it < iterations; it++)
    for (size_t j = 0; j < cl->n; j++) {
      const bq_query_t *q = &qs->queries[cl->queries[j]];
      const char *s;
      size_t n;
      query_text(q, &s, &n);
      err_t err = {0};
      qp_query_t *pq;
      eng_result_t res;
      arena_reset(a);
      uint64_t t0 = bq_now_ns();
      if (qp_parse(s, n, a, &pq, &err)) return -1;
      uint64_t t1 = bq_now_ns();
      if (eng_search(eng, pq, a, &res, &err)) return -1;
      uint64_t t2 = bq_now_ns();
      tp += (double)(t1 - t0);
      ts += (double)(t2 - t1);
      runs++;
    }
  *parse_us = tp / (double)runs / 1e3;
  *search_us = ts / (double)runs / 1e3;
  return 0;
}

typedef struct class_result {
  size_t runs;
  double mean, p50, p95, p99, min, max;
  double parse, search; /* stage means, NAN when not measured */
  long errors;
} class_result_t;

int main(int argc, char **argv) {
  opts_t o;
  if (parse_opts(argc, argv, &o)) return 2;
  int status = 2;
  bq_set_t qs = {0};
  eng_t *eng = NULL;
  proto_ctx_t *ctx = NULL;
  arena_t *arena = NULL;
  class_result_t *res = NULL;
  double *us = NULL;
  buf_t out;
  buf_init(&out, 0);
  char why[512];
  if (bq_load(o.queries, o.classes, o.req, NULL, &qs, why, sizeof why)) {
    fprintf(stderr, "sift-bench-micro: %s\n", why);
    goto out;
  }
  err_t err = {0};
  eng_limits_t lim = {.max_limit = QP_MAX_LIMIT,
                      .max_offset = 100000,
                      .time_limit = o.time_limit_ms / 1000.0,
                      .max_expansion = 0,
                      .snippets_full = o.snippets_full};
  uint64_t t_open = bq_now_ns();
  int rc = eng_open(o.index, &lim, &eng, &err);
  if (rc) {
    fprintf(stderr, "sift-bench-micro: %s: %s\n", o.index, err_message(&err));
    goto out;
  }
  double open_ms = (double)(bq_now_ns() - t_open) / 1e6;
  if (!(ctx = proto_ctx_new(eng, NULL)) || !(arena = arena_new(0))) {
    fprintf(stderr, "sift-bench-micro: out of memory\n");
    goto out;
  }

  if (o.check) {
    unsigned flags;
    for (size_t i = 0; i < qs.n; i++) {
      buf_reset(&out);
      proto_handle(ctx, qs.queries[i].line, req_len(&qs.queries[i]), &out, &flags);
      printf("%zu\t%s\t%.*s", qs.queries[i].idx, qs.classes[qs.queries[i].cls].name, (int)out.len,
             out.data ? out.data : "");
    }
    status = 0;
    goto out;
  }

  if (o.costs) {
    if (o.req != BQ_REQ_TEXT) {
      fprintf(stderr, "sift-bench-micro: --costs needs text requests\n");
      goto out;
    }
    status = micro_costs(eng, ctx, arena, &qs, o.iterations, &out) ? 1 : 0;
    goto out;
  }

  eng_stats_t st;
  bq_machine_t m;
  bq_machine(&m);
  bq_machine_print(&m, stdout);
  printf("\n# index: %s", o.index);
  if (eng_stats(eng, &st) == 0)
    printf(" docs=%u revision=%llu", st.docs, (unsigned long long)st.revision);
  printf(
      " (opened in %.1f ms)\n# queries: %s (%zu queries, %zu classes), request=%s, %d warm-up + "
      "%d timed passes per class\n",
      open_ms, o.queries, qs.n, qs.nclasses, bq_request_name(o.req), o.warmup, o.iterations);
  fflush(stdout);

  size_t maxn = 0;
  for (size_t k = 0; k < qs.nclasses; k++)
    if (qs.classes[k].n > maxn) maxn = qs.classes[k].n;
  res = calloc(qs.nclasses, sizeof *res);
  us = malloc(maxn * (size_t)o.iterations * sizeof *us);
  if (!res || !us) {
    fprintf(stderr, "sift-bench-micro: out of memory\n");
    goto out;
  }
  int stages = o.stages && o.req == BQ_REQ_TEXT;
  long errors = 0;
  for (size_t k = 0; k < qs.nclasses; k++) {
    const bq_class_t *cl = &qs.classes[k];
    class_result_t *r = &res[k];
    for (int w = 0; w < o.warmup; w++) micro_warm_pass(ctx, &qs, cl, &out);
    CALLGRIND_ZERO_STATS;
    for (int it = 0; it < o.iterations; it++)
      r->errors += micro_timed_pass(ctx, &qs, cl, &out, us + (size_t)it * cl->n);
    CALLGRIND_DUMP_STATS_AT(cl->name);
    errors += r->errors;
    r->runs = cl->n * (size_t)o.iterations;
    double sum = 0;
    for (size_t i = 0; i < r->runs; i++) sum += us[i];
    r->mean = sum / (double)r->runs;
    r->p50 = bq_pct(us, r->runs, 50);
    r->p95 = bq_pct(us, r->runs, 95);
    r->p99 = bq_pct(us, r->runs, 99);
    r->min = us[0];
    r->max = us[r->runs - 1];
    r->parse = r->search = NAN;
    if (stages && !r->errors &&
        micro_stages(eng, arena, &qs, cl, o.iterations, &r->parse, &r->search))
      r->parse = r->search = NAN;
    fprintf(stderr, "  %s done\n", cl->name);
  }

  printf("\nper request, in process (us; over all timed runs; stages: separate loop, means)\n");
  printf("%-16s %6s %9s %9s %9s %9s %9s %9s %9s %9s %6s\n", "class", "runs", "mean", "p50", "p95",
         "p99", "max", "parse", "search", "rest", "errors");
  for (size_t k = 0; k < qs.nclasses; k++) {
    const class_result_t *r = &res[k];
    printf("%-16s %6zu %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %6ld\n", qs.classes[k].name,
           r->runs, r->mean, r->p50, r->p95, r->p99, r->max, r->parse, r->search,
           r->mean - r->parse - r->search, r->errors);
  }
  if (errors) {
    unsigned flags;
    for (size_t i = 0; i < qs.n; i++) { /* show the first failing answer */
      buf_reset(&out);
      proto_handle(ctx, qs.queries[i].line, req_len(&qs.queries[i]), &out, &flags);
      if (!bq_ok(out.data, out.len)) {
        fprintf(stderr, "sift-bench-micro: error response to %.*s: %.*s",
                (int)req_len(&qs.queries[i]), qs.queries[i].line, (int)out.len, out.data);
        break;
      }
    }
  }
  printf("# errors: %ld error responses\n", errors);

  if (o.json_out) {
    json_t *root = json_object(), *jc = json_object();
    json_object_set_new(root, "tool", json_string("sift-bench-micro"));
    json_object_set_new(root, "machine", bq_machine_json(&m));
    json_object_set_new(
        root, "settings",
        json_pack("{s:s, s:s, s:s, s:i, s:i}", "index", o.index, "queries", o.queries, "request",
                  bq_request_name(o.req), "iterations", o.iterations, "warmup", o.warmup));
    for (size_t k = 0; k < qs.nclasses; k++) {
      const class_result_t *r = &res[k];
      json_object_set_new(
          jc, qs.classes[k].name,
          json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I}", "runs", (json_int_t)r->runs,
                    "mean_us", bq_json_num(r->mean), "p50_us", bq_json_num(r->p50), "p95_us",
                    bq_json_num(r->p95), "p99_us", bq_json_num(r->p99), "max_us",
                    bq_json_num(r->max), "parse_us", bq_json_num(r->parse), "search_us",
                    bq_json_num(r->search), "errors", (json_int_t)r->errors));
    }
    json_object_set_new(root, "classes", jc);
    json_object_set_new(root, "errors", json_integer(errors));
    int wr = json_dump_file(root, o.json_out, JSON_INDENT(1));
    json_decref(root);
    if (wr) {
      fprintf(stderr, "sift-bench-micro: cannot write %s\n", o.json_out);
      goto out;
    }
  }
  status = errors ? 1 : 0;
out:
  free(us);
  free(res);
  buf_fini(&out);
  arena_free(arena);
  proto_ctx_free(ctx);
  eng_free(eng);
  bq_set_free(&qs);
  return status;
}
