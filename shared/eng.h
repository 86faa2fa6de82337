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
 * that exact word.  Format 3 indexes (tok.h, schema.h): a word is stemmed
 * from its text as written (tok_stem_word), and also matches itself,
 * unweighted, when a language reads accents; a phrase with hyphenated runs
 * is the OR of its spellings with each of its first three runs closed, and
 * an unquoted token that is one run (`cease-fire`) is its phrase OR its
 * closed form stemmed.  Formats 1..2: the old rules.  PREFIX -> wildcard; FILTER -> boolean terms; DATE -> a day,
 * month or year term when the range is exactly one, else a value range on
 * SCHEMA_SLOT_DATE; AND with NOT kids -> AND_NOT; a lone NOT -> all AND_NOT;
 * conditions that carry no text weight are applied as filters (no effect
 * on scores).  match:any ORs the text conditions of the root AND (filters
 * and exclusions stay as they are), ranked by BM25.
 *
 * Relaxation (SPEC.md): a SEARCH of plain words (qp.h `plain`: filters
 * aside, no AND, OR, NOT, '-' or NEAR) whose root is an AND of two or more
 * of them, that matches nothing, is run again as match:any and marked
 * relaxed, unless relax:no.  COUNT never relaxes.
 *
 * Snippets: up to ENG_SNIPPET_BYTES of the body around the densest cluster of
 * matches.  Matched words are wrapped in SNIP_OPEN / SNIP_CLOSE (snip.h); the
 * rest of the snippet has '<', '>' and '&' escaped as &lt; &gt; &amp;, so the
 * marks are unambiguous.  A phrase is marked as one span.  An elided start or
 * end is shown as "…".  When no window of ENG_SNIPPET_BYTES holds every term,
 * up to three passages (joined by " … ") share those bytes, phrases first
 * (snip.h).  A hit's title_html is its title marked the same way, present
 * when something in the title matches; title: terms are marked there only.
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

#define ENG_SNIPPET_BYTES 240 /* of body text, all passages together */
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
  /* 1: every snippet from its body scanned from the start, not from the
   * blocks the index's positions point at (win.h): the same snippets,
   * slower; the reference the positions are tested against. */
  int snippets_full;
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
  const char *title_html; /* the title marked as the snippet; NULL: nothing matched in it */
  /* collapse:copies: the other matching articles of the hit's copy group,
   * and their distinct outlets (in docid order). */
  uint32_t copies;
  const char **copy_outlets;
  size_t ncopy_outlets;
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
  const char *next; /* cursor of the page after this one; NULL: none */
  int collapsed;    /* collapse:copies: hits stand for groups */
  uint32_t groups;  /* then: the distinct copy groups matched (exact) */
  int relaxed;      /* answered as match:any, all of the words having matched nothing */
} eng_result_t;

/* TIMELINE (SPEC.md): matching articles per period, from the day and outlet
 * columns (xw.h) rather than stored documents. */
typedef struct eng_point {
  const char *date; /* the period: 2023-11-02, 2023-W44, 2023-11, 2023 */
  uint32_t count;   /* matching articles dated in it */
  uint32_t all;     /* articles of the index dated in it */
  uint32_t outlets; /* distinct outlets among the matching ones */
} eng_point_t;

typedef struct eng_first {
  const char *id, *date, *outlet, *title; /* date as written; title may be NULL */
} eng_first_t;

typedef struct eng_timeline {
  uint32_t total;        /* every matching article, undated ones too */
  qp_by_t by;            /* the period used */
  const char *from, *to; /* the first and last day of the series; NULL when empty */
  eng_point_t *series;
  size_t npoints;
  eng_first_t *first; /* each outlet's earliest match, oldest first */
  size_t nfirst;
} eng_timeline_t;

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
/* For the whole process, before its first search: how many threads match
 * one query at once, a stub's local shards or one index's ranges of
 * docids, for a phrase or a query that reads many postings (0: one per
 * CPU; 1: Xapian's one match; xw_set_shard_plan).  The answers are the
 * same.  Engines opened after it open their threads' handles of the index
 * at once (a daemon's files are all open before it serves). */
void eng_set_shard_threads(unsigned n);
/* A search queued for a worker (+1), or taken by one (-1): while searches
 * wait, a query is not handed to threads (xw_note_waiting). */
void eng_note_waiting(int delta);
/* Searches of the process matched in parts on several threads (STATS
 * "matched_on_threads"). */
uint64_t eng_matched_on_threads(void);

int eng_search(eng_t *e, const qp_query_t *q, arena_t *a, eng_result_t *out, err_t *err);
/* The estimated work of a search, in postings (xw_query_cost), plus
 * ENG_HIT_COST per hit it would return: cheap to compute, an upper bound
 * in spirit rather than a promise. */
#define ENG_HIT_COST 500
uint64_t eng_cost(eng_t *e, const qp_query_t *q, uint32_t hits);
/* Cursors (after:CURSOR, "next"): a cursor names the last hit of a page,
 * "<order><rank>.<docid>.<key>" with order r(elevance), n(ewest), o(ldest)
 * or t (recent) and key the hit's sort value (date sorts) or its score's
 * IEEE-754 bits in hex.  Date sorts continue strictly after (key, docid) in
 * the sort order, so articles added between pages never repeat or shift
 * one; relevance and sort:recent rank the best matches and continue after
 * (score, docid).  A cursor is only valid for the order that made it.
 * A collapse:copies answer's cursor is "<ORDER><rank>" (the order letter in
 * upper case, rank the groups shown so far): the next page starts at that
 * rank as offset: would, so there an article added between pages may shift
 * the groups by one.
 *
 * sort:recent ranks by score * 2^(-age/halflife), age in days from the
 * article's day to qp's news.now (0 when later); an undated article scores
 * 0.  The best candidates by plain relevance are fetched, rescored, and the
 * fetch is widened until no unfetched match can beat the page's last hit
 * (its plain score, times the decay of the index's newest day, is below). */

/* TIMELINE of q; ERR_BAD_QUERY when its series would exceed
 * ENG_MAX_POINTS periods. */
#define ENG_MAX_POINTS 20000
int eng_timeline(eng_t *e, const qp_query_t *q, arena_t *a, eng_timeline_t *out, err_t *err);
/* Exact number of matching articles. */
int eng_count(eng_t *e, const qp_query_t *q, uint32_t *count, err_t *err);
/* Copies (dup.h): the groups are built from the stored signatures at the
 * first use after the engine opened (or moved to a new revision), about
 * 1 s per million articles, and kept: 4 bytes of group and 4 of ring per
 * article.  collapse:copies counts every match's group (one pass over the
 * matches, as facets do), ranks as asked and keeps each group's best hit;
 * its cursor pages the groups (above).  eng_copies lists the ids of the other
 * articles of id's group (*n = 0 when it has none), in the arena. */
int eng_copies(eng_t *e, const char *id, size_t len, arena_t *a, const char ***ids, size_t *n,
               err_t *err);
/* Article by id; ERR_NOT_FOUND when absent. */
int eng_get(eng_t *e, const char *id, size_t len, arena_t *a, doc_t *out, err_t *err);
int eng_stats(eng_t *e, eng_stats_t *out);
/* The Xapian query the tree becomes (for EXPLAIN), as text in the arena. */
int eng_describe(eng_t *e, const qp_query_t *q, arena_t *a, const char **out, err_t *err);

#endif
