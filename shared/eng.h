/* eng.h: the search engine: an index, a parsed query, and the answer.
 *
 * searchd, sift-query's local mode and the benchmarks all run queries through
 * this module, so there is one implementation of search.  eng_t wraps one
 * read-only Xapian handle, the stemmers for the index's languages and the
 * stored-document codec: one per thread (searchd keeps one per worker).
 *
 * Query translation (qp tree -> Xapian): WORD -> Z<stem> (OR over the
 * index's languages when their stems differ), title: -> ZS<stem>; PHRASE ->
 * OP_PHRASE over unprefixed (title: S-prefixed) words, a one-word phrase is
 * that exact word; PREFIX -> wildcard; FILTER -> boolean terms; DATE -> a day,
 * month or year term when the range is exactly one, else a value range on
 * SCHEMA_SLOT_DATE; AND with NOT kids -> AND_NOT; a lone NOT -> all AND_NOT;
 * conditions that carry no text weight are applied as filters (no effect
 * on scores).  match:any ORs the text conditions of the root AND (filters
 * and exclusions stay as they are), ranked by BM25.
 *
 * Relaxation (SPEC.md): a SEARCH whose root is an AND of two or more text
 * conditions, that matches nothing, is run again as match:any and marked
 * relaxed, unless relax:no.  COUNT never relaxes.
 *
 * Snippets: up to ENG_SNIPPET_BYTES of the body around the densest cluster of
 * matches.  Matched words are wrapped in SNIP_OPEN / SNIP_CLOSE (snip.h); the
 * rest of the snippet has '<', '>' and '&' escaped as &lt; &gt; &amp;, so the
 * marks are unambiguous.  A phrase is marked as one span.  An elided start or
 * end is shown as "…".
 *
 * Ownership: results live in the arena passed in; the engine owns its
 * handles.
 */
#ifndef SIFT_ENG_H
#define SIFT_ENG_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "doc.h"
#include "err.h"
#include "qp.h"

#define ENG_SNIPPET_BYTES 240
/* Default BM25 parameters (bench/relevance.md has the figures). */
#define ENG_BM25_K1 2.0
#define ENG_BM25_B 0.75

typedef struct eng eng_t;

typedef struct eng_limits {
  uint32_t max_limit;     /* page size cap (QP_MAX_LIMIT) */
  uint32_t max_offset;    /* offset cap */
  double time_limit;      /* seconds per query; 0 = none */
  uint32_t max_expansion; /* words one prefix may expand to; 0 = none */
  /* 0 = none.  Otherwise SEARCH and COUNT first estimate their work
   * (eng_cost) and fail with ERR_OVER_BUDGET, before any matching, when it
   * is larger: searchd answers cheap requests on its event-loop thread and
   * leaves the rest to its workers (searchd/workers.h). */
  uint64_t max_cost;
  /* BM25 parameters (sift-searchd and sift-query --index: --bm25 K1,B);
   * they ride here because an engine keeps its limits across reopens. */
  double bm25_k1, bm25_b;
} eng_limits_t;

/* The limits of an engine opened with lim NULL. */
extern const eng_limits_t eng_default_limits;
/* "K1,B" (the --bm25 flag's value) into *k1, *b: 0, or -1 unless
 * 0 < K1 < 1000 and 0 < B <= 1. */
int eng_parse_bm25(const char *s, double *k1, double *b);

typedef struct eng_hit {
  uint32_t rank; /* 1-based position in the whole result list */
  double score;
  const char *id, *title, *outlet, *date, *url, *snippet; /* NULL: absent */
} eng_hit_t;

typedef struct eng_facet_value {
  const char *value;
  uint32_t count;
} eng_facet_value_t;

typedef struct eng_facet {
  qp_facet_t facet;
  eng_facet_value_t *values;
  size_t nvalues;
} eng_facet_t;

typedef struct eng_result {
  uint32_t total;
  int total_exact;
  uint32_t offset, limit;
  eng_hit_t *hits;
  size_t nhits;
  eng_facet_t *facets;
  size_t nfacets;
  int relaxed; /* answered as match:any, all of the words having matched nothing */
} eng_result_t;

typedef struct eng_stats {
  uint32_t docs;
  uint64_t revision;
  /* Grows whenever the index changes, including when a compacted copy is
   * swapped in (which restarts Xapian's revision at 1); the same for every
   * engine on the same index, so caches can key on it. */
  uint64_t generation;
  int format;
  const char *lang;  /* default language */
  const char *langs; /* all, comma-separated */
  double avg_length;
  const char *path;
} eng_stats_t;

/* Open the index at path (directory or stub).  ERR_NO_INDEX when there is
 * none, ERR_INDEX_FORMAT when it is not a Sift index of a supported format;
 * err says which path and why. */
int eng_open(const char *path, const eng_limits_t *lim, eng_t **out, err_t *err);
/* Several indexes (each a directory, stub directory or stub file, local or
 * listing remote shards) answering as one: every shard describes itself
 * (schema.h), so shards built apart, in other languages and with other
 * dictionaries, answer exactly as one index holding the same articles,
 * ranked with the whole collection's statistics.  A remote shard that
 * cannot be reached fails the request with ERR_SHARD (ERR_TIMEOUT past the
 * query time limit), the message naming it; the next request reconnects. */
int eng_open_set(const char *const *paths, size_t n, const eng_limits_t *lim, eng_t **out,
                 err_t *err);
void eng_free(eng_t *e); /* accepts NULL */
/* Move to the index's newest revision; *changed = 1 if it moved.  A change
 * of the local files (a commit, a compaction swapped in, a stub listing
 * other shards) opens the index afresh, so no stale handle survives;
 * remote shards are asked. */
int eng_reopen(eng_t *e, int *changed, err_t *err);
void eng_set_limits(eng_t *e, const eng_limits_t *lim);

int eng_search(eng_t *e, const qp_query_t *q, arena_t *a, eng_result_t *out, err_t *err);
/* The estimated work of a search, in postings (xw_query_cost), plus
 * ENG_HIT_COST per hit it would return: cheap to compute, an upper bound
 * in spirit rather than a promise. */
#define ENG_HIT_COST 500
uint64_t eng_cost(eng_t *e, const qp_query_t *q, uint32_t hits);
/* Exact number of matching articles. */
int eng_count(eng_t *e, const qp_query_t *q, uint32_t *count, err_t *err);
/* Article by id; ERR_NOT_FOUND when absent. */
int eng_get(eng_t *e, const char *id, size_t len, arena_t *a, doc_t *out, err_t *err);
int eng_stats(eng_t *e, eng_stats_t *out);
/* The Xapian query the tree becomes (for EXPLAIN), as text in the arena. */
int eng_describe(eng_t *e, const qp_query_t *q, arena_t *a, const char **out, err_t *err);

#endif
