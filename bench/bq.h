/* bq.h: what Sift's benchmark tools share: the query set, the request lines
 * built from it (and their --request option), an answer's success,
 * percentiles, figures as JSON, and the machine line.
 *
 * Callers: sift-bench-load (bench/load.c) and sift-bench-micro
 * (bench/micro.c).
 *
 * The query set is the peers harness's queries.jsonl
 * (../shared/peers/results/queries.jsonl), one JSON object per line:
 *   {"class":"phrase2","text":"\"gaza city\"","outlet":null,"from":null,
 *    "to":null,"facets":["outlet","month"],"limit":10}
 * Each query becomes a request line exactly as the harness's lineproto
 * adapter (shared/peers/src/adapters/lineproto.cpp) writes it, so Sift's own
 * figures and the harness's measure the same requests:
 *   text: SEARCH <text>[ outlet:"X"][ date:FROM..TO] limit:N[ facets:outlet,month]
 *   json: {"op":"search","q":"<text>"[,"outlet":["X"]][,"from":"F"][,"to":"T"],
 *          "limit":N[,"facets":["outlet","month"]]}
 * Only the facets outlet and month are read from the file (the harness knows
 * no others), always in that order.
 *
 * For HTTP (sift-bench-load --http) each query becomes a whole HTTP/1.1
 * request whose parameters are the JSON form's members in the same order,
 * every byte but A-Z a-z 0-9 - . _ ~ percent-encoded (the comma between
 * facets kept), so that sift-searchd's HTTP front end (shared/hreq.h) reads
 * it into the same request as the JSON line:
 *   GET /search?q=<text>[&outlet=X][&from=F][&to=T]&limit=N[&facets=outlet,month] HTTP/1.1
 *   Host: <host>
 *
 * Percentiles are nearest rank (the ceil(p/100 * n)-th smallest), as the
 * harness computes them, so p99 over 200 queries is the 2nd-slowest.
 *
 * Ownership: bq_load() fills a bq_set_t that owns every string in it;
 * bq_set_free() releases it.
 */
#ifndef SIFT_BENCH_BQ_H
#define SIFT_BENCH_BQ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* The default query file, relative to the repository's root. */
#define BQ_DEFAULT_QUERIES "../shared/peers/results/queries.jsonl"

/* HTTP is not a --request value: sift-bench-load's --http picks it. */
typedef enum bq_request { BQ_REQ_TEXT, BQ_REQ_JSON, BQ_REQ_HTTP } bq_request_t;

/* --request's value, "text" or "json": 0 and *out, or -1 with a message
 * naming the option in *why. */
int bq_parse_request(const char *s, bq_request_t *out, const char **why);
/* "text", "json" (as --request takes them) or "http". */
const char *bq_request_name(bq_request_t req);

typedef struct bq_query {
  size_t idx;      /* 0-based line number among the file's non-empty lines */
  size_t cls;      /* index into bq_set_t.classes */
  char *text;      /* the neutral query text */
  char *line;      /* request line, '\n'-terminated (HTTP: the whole request,
                      its blank line last), NUL after it */
  size_t line_len; /* bytes of line including the '\n' */
} bq_query_t;

typedef struct bq_class {
  char *name;
  size_t *queries; /* indexes into bq_set_t.queries, in file order */
  size_t n;
} bq_class_t;

typedef struct bq_set {
  bq_query_t *queries;
  size_t n;
  bq_class_t *classes; /* in order of first appearance in the file */
  size_t nclasses;
} bq_set_t;

/* Read path and build every request line.  only: comma-separated class
 * names to keep, or NULL/"" for all.  host: the Host header of BQ_REQ_HTTP
 * requests (unused by the others).  Returns 0, or -1 with a one-line reason
 * in why. */
int bq_load(const char *path, const char *only, bq_request_t req, const char *host, bq_set_t *out,
            char *why, size_t whylen);
void bq_set_free(bq_set_t *s); /* accepts an all-zero set */

/* Nearest-rank percentile p (0 < p <= 100) of v[0..n); sorts v in place.
 * NAN when n == 0. */
double bq_pct(double *v, size_t n, double p);
/* Median (nearest rank, as the harness) of v[0..n); sorts v in place. */
double bq_median(double *v, size_t n);

/* 1 if the response line (len bytes) is a success: Sift's answers begin
 * {"ok":true. */
int bq_ok(const char *line, size_t len);
/* A figure for the JSON output: null when NAN (not measured). */
json_t *bq_json_num(double x);

/* Monotonic clock in nanoseconds. */
uint64_t bq_now_ns(void);

/* The machine line: CPU model, online cores, kernel release, UTC date. */
typedef struct bq_machine {
  char cpu[160];
  long cores;
  char kernel[200];
  char date[32];
} bq_machine_t;

void bq_machine(bq_machine_t *m);
/* "# machine: cpu=... cores=N kernel=... date=..." (no newline). */
void bq_machine_print(const bq_machine_t *m, FILE *f);
/* The same as a JSON object (new reference). */
json_t *bq_machine_json(const bq_machine_t *m);

/* s as a whole decimal number in [lo, hi] (num.h's rules, lo >= 0): 0 and
 * *out, or -1. */
int bq_parse_int(const char *s, int lo, int hi, int *out);
/* Parse a comma-separated list of positive integers ("1,4,16") into out
 * (at most max).  Returns how many, or -1 on a malformed list.  "0" or ""
 * gives 0 entries. */
int bq_parse_int_list(const char *s, int *out, int max);

#endif
