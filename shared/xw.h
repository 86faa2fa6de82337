/* xw.h: Sift's C wrapper over libxapian, the only C++ in the tree (xw.cc).
 *
 * A firewall: every entry point catches every C++ exception and returns an
 * ERR_* code with Xapian's message in the err_t; nothing thrown ever crosses
 * into C.  Xapian's error classes map through one table in xw.cc:
 * DatabaseModifiedError -> ERR_MODIFIED (reopen and retry),
 * DatabaseNotFoundError/DatabaseOpeningError -> ERR_NO_INDEX,
 * DatabaseLockError -> ERR_LOCKED, DatabaseCorruptError -> ERR_CORRUPT,
 * DatabaseVersionError -> ERR_INDEX_FORMAT, std::bad_alloc -> ERR_NOMEM,
 * a write failing for want of space (ENOSPC) -> ERR_DISK_FULL,
 * anything else -> ERR_XAPIAN.
 *
 * Handles are opaque.  Ownership: every _new/_open has a matching _free that
 * accepts NULL.  Strings passed in are copied; strings returned through out
 * pointers are malloc'ed and owned by the caller (free()) unless the function
 * says they borrow from a handle.  A handle is used by one thread at a time.
 */
#ifndef SIFT_XW_H
#define SIFT_XW_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t xw_docid;
typedef struct xw_db xw_db;
typedef struct xw_doc xw_doc;
typedef struct xw_query xw_query;
typedef struct xw_mset xw_mset;

/* ---- databases ---- */
/* Read-only: a directory, a stub directory (one holding a stub file
 * XAPIANDB) or a stub file listing shards, local and remote, in Xapian's
 * stub format.  Every shard is opened on its own as well as in the combined
 * database, so each can be asked for its metadata. */
int xw_db_open(const char *path, xw_db **out, err_t *err);
/* The same for several paths, whose shards read as one database, in the
 * order given.  Remote shards get remote_timeout_ms for connecting and for
 * each exchange (0: Xapian's 10 s); past it a request fails with
 * ERR_TIMEOUT, and a shard that cannot be reached with ERR_SHARD, each
 * message naming the shard as Xapian's context. */
int xw_db_open_set(const char *const *paths, size_t n, unsigned remote_timeout_ms, xw_db **out,
                   err_t *err);
/* The shards: how many; shard k's path or remote address (borrowed from db);
 * whether it is remote; whether every shard is local; the shard holding
 * docid d (Xapian interleaves docids: d lives in shard (d - 1) % n). */
size_t xw_db_nshards(const xw_db *db);
const char *xw_db_shard_name(const xw_db *db, size_t k);
int xw_db_shard_remote(const xw_db *db, size_t k);
int xw_db_local(const xw_db *db);
size_t xw_db_shard_of(const xw_db *db, xw_docid d);
/* Shard k's metadata (as xw_db_get_metadata) and positional information. */
int xw_db_shard_metadata(xw_db *db, size_t k, const char *key, char **val, size_t *len, err_t *err);
int xw_db_shard_has_positions(xw_db *db, size_t k);
/* xw_db_value_bounds of shard k. */
int xw_db_shard_value_bounds(xw_db *db, size_t k, unsigned slot, char *lo, char *hi, size_t cap,
                             err_t *err);
/* A stamp of the files behind the local part of db (stub files, each local
 * shard's version file): it changes with every commit, with a compacted
 * copy swapped in and with a stub's list of shards.  *newest_ns (may be
 * NULL) gets the newest modification time among them. */
uint64_t xw_db_stamp(const xw_db *db, uint64_t *newest_ns);
/* Xapian's stub files, named only here: whether the directory dir holds
 * one; write dir's stub listing the shard directories names[0..n) (relative
 * to dir), atomically (a reader sees the old list or the new one). */
int xw_stub_exists(const char *dir);
int xw_stub_write(const char *dir, const char *const *names, size_t n, err_t *err);
/* Writable: create the directory if create != 0 and it does not exist.
 * Writing through it (replace, delete, metadata, begin, commit, free) is
 * where libxapian 1.4 may give up past any catch (std::terminate: a disk
 * that fills while a commit merges value streams): then the process prints
 * "PROG: the index library stopped inside a write to PATH: REASON; the index
 * keeps its last commit" and exits 1, as a kill there would leave it. */
int xw_db_open_writable(const char *path, int create, xw_db **out, err_t *err);
void xw_db_free(xw_db *db);
/* Read-only handle: move to the newest revision; *changed = 1 if it moved. */
int xw_db_reopen(xw_db *db, int *changed, err_t *err);
uint32_t xw_db_doccount(xw_db *db);
xw_docid xw_db_lastdocid(xw_db *db);
/* 1 if the database holds positional information. */
int xw_db_has_positions(xw_db *db);
/* Revision of a single-shard database (0 for a multi-shard one). */
uint64_t xw_db_revision(xw_db *db);
/* Average document length, for figures. */
double xw_db_avlength(xw_db *db);
/* Number of documents containing term (exact); 0 if none.  Kept per term
 * for the revision open on a read-only handle (xw_db_reopen drops it). */
uint32_t xw_db_termfreq(xw_db *db, const char *term, size_t len);
/* Bounds of the values in slot over all documents (bytes, at most cap-1,
 * NUL-terminated); both "" when no document has a value there. */
int xw_db_value_bounds(xw_db *db, unsigned slot, char *lo, char *hi, size_t cap, err_t *err);
/* Number of documents with a value in slot (0 on an error). */
uint32_t xw_db_value_freq(xw_db *db, unsigned slot);
/* Metadata: *val malloc'ed (NUL-terminated, *len bytes); *val = NULL and
 * *len = 0 when the key is absent. */
int xw_db_get_metadata(xw_db *db, const char *key, char **val, size_t *len, err_t *err);
int xw_db_set_metadata(xw_db *db, const char *key, const char *val, size_t len, err_t *err);

/* Documents by their unique id term (e.g. "Qaj-2023-11-02-001"). */
/* Find the docid holding term; ERR_NOT_FOUND if none. */
int xw_db_find_term(xw_db *db, const char *term, size_t len, xw_docid *out, err_t *err);
/* Stored data of a document (malloc'ed); ERR_NOT_FOUND for no such docid. */
int xw_db_get_data(xw_db *db, xw_docid id, char **data, size_t *len, err_t *err);
/* A value slot of a document (malloc'ed, "" when unset). */
int xw_db_get_value(xw_db *db, xw_docid id, unsigned slot, char **val, size_t *len, err_t *err);
/* Writable only: replace the document indexed by idterm (or add it);
 * *replaced = 1 if one existed. */
int xw_db_replace(xw_db *db, const char *idterm, xw_doc *doc, int *replaced, err_t *err);
int xw_db_delete(xw_db *db, const char *idterm, err_t *err);
int xw_db_commit(xw_db *db, err_t *err);
/* Writable only: start a transaction (committing what is pending first).
 * The next xw_db_commit() commits it; xw_db_free() before that discards it
 * instead of committing (Xapian's destructor cancels an open transaction). */
int xw_db_begin(xw_db *db, err_t *err);
/* Compact the database at src into a new directory dst (which must not
 * exist), in Xapian's single-file-per-table compacted form. */
int xw_compact(const char *src, const char *dst, err_t *err);

/* ---- documents under construction ---- */
xw_doc *xw_doc_new(void);
void xw_doc_free(xw_doc *d);
/* A term at a position (1-based), wdf incremented by 1. */
int xw_doc_add_posting(xw_doc *d, const char *term, size_t len, uint32_t pos, err_t *err);
/* A term without position, wdf incremented by wdf_inc. */
int xw_doc_add_term(xw_doc *d, const char *term, size_t len, uint32_t wdf_inc, err_t *err);
/* A boolean (filter) term: no wdf, no position. */
int xw_doc_add_boolean(xw_doc *d, const char *term, size_t len, err_t *err);
int xw_doc_set_value(xw_doc *d, unsigned slot, const char *val, size_t len, err_t *err);
int xw_doc_set_data(xw_doc *d, const char *data, size_t len, err_t *err);

/* ---- queries: immutable trees; constructors copy what they need and
 * take no ownership of their arguments.  A NULL argument, or a NULL among
 * subs, makes the constructor return NULL (out of memory propagates). */
typedef enum xw_op {
  XW_AND,
  XW_OR,
  XW_AND_NOT,   /* subs[0] AND NOT (subs[1] OR subs[2] ...) */
  XW_FILTER,    /* subs[0] weighted, the rest only filter */
  XW_PHRASE,    /* consecutive, in order (window = number of subs) */
  XW_SYNONYM,   /* OR, weighted as one term */
  XW_AND_MAYBE, /* subs[0] required; the rest only add weight */
  XW_NEAR       /* every sub within a window of positions, any order (window =
                   number of subs; xw_query_near sets it) */
} xw_op;

xw_query *xw_query_term(const char *term, size_t len, uint32_t wqf);
xw_query *xw_query_combine(xw_op op, xw_query *const *subs, size_t n);
/* Xapian's OP_NEAR: every sub (a term, or an OR or wildcard of terms) at a
 * position of one span of window consecutive positions (the largest minus
 * the smallest position below window), in any order. */
xw_query *xw_query_near(xw_query *const *subs, size_t n, uint32_t window);
/* Every term beginning with prefix, combined as a synonym.  max_expansion 0
 * means unlimited; past a nonzero limit the query fails at search time with
 * ERR_BAD_QUERY ("prefix matches too many words"). */
xw_query *xw_query_wildcard(const char *prefix, size_t len, uint32_t max_expansion);
/* The same words as an OR of terms, read from db's lexicon now: what
 * OP_NEAR takes (a wildcard it does not).  ERR_BAD_QUERY past a nonzero
 * max_expansion, like a wildcard. */
int xw_query_prefix_terms(xw_db *db, const char *prefix, size_t len, uint32_t max_expansion,
                          xw_query **out, err_t *err);
/* Documents whose value in slot lies in [lo, hi] (byte order); lo or hi NULL
 * for an open end. */
xw_query *xw_query_value_range(unsigned slot, const char *lo, const char *hi);
xw_query *xw_query_scale(xw_query *q, double factor);
xw_query *xw_query_match_all(void);
xw_query *xw_query_match_nothing(void);
void xw_query_free(xw_query *q);
/* Xapian's description of the query (malloc'ed). */
char *xw_query_describe(const xw_query *q);
/* A cheap upper estimate of the postings a match of q walks, from term
 * frequencies alone (no posting list is opened): a term counts its
 * frequency, a value range or match-all every document, a filter from a
 * column (xw_query_column_range) its documents, a phrase twice its
 * words (their positions are read too), every operator the sum of its
 * parts.  A wildcard counts as UINT64_MAX (its expansion is unknown until
 * the lexicon is walked).  The walk stops once the sum passes cap, returning
 * it as it stands; an error in the index library gives UINT64_MAX. */
uint64_t xw_query_cost(xw_db *db, const xw_query *q, uint64_t cap);

/* ---- searching ---- */
typedef enum xw_sort { XW_SORT_RELEVANCE, XW_SORT_VALUE_ASC, XW_SORT_VALUE_DESC } xw_sort;

/* A facet to count exactly over every match: the value in slot, or, when
 * multi is set, each of the values in slot separated by '\x1f'; with
 * prefix_len > 0 only the first prefix_len bytes of the value are counted
 * (year = 4 bytes of "YYYYMMDD", month = 6).  Empty values are not counted. */
typedef struct xw_column xw_column;
/* Facets of names (authors, tags): a value names zero or more things, each
 * counted once per document under its key, so the spellings of one name
 * make one row, shown in the spelling most of the matches use (ties: the
 * first in byte order).  split() calls emit(ctx, ...) for each name of
 * val[0..len): its key and its spelling as shown; whole != 0 marks a key
 * that adds a document to a name's count without naming it (an author
 * string's own key, which author: filters match as well): a row is shown
 * only for a name some match names.  emit copies what it is given. */
typedef void (*xw_name_fn)(void *ctx, const char *key, size_t klen, const char *shown, size_t slen,
                           int whole);
typedef void (*xw_split_fn)(const char *val, size_t len, xw_name_fn emit, void *ctx);
typedef struct xw_facet_spec {
  unsigned slot;
  unsigned prefix_len;
  int multi;
  const xw_column *column; /* when set, counted through it (see below) */
  xw_split_fn split;       /* when set, names are counted (multi and
                              prefix_len unused); a column must have had
                              xw_column_names() with it */
} xw_facet_spec;

typedef struct xw_search_opts {
  uint32_t offset, limit;
  xw_sort sort;
  unsigned sort_slot;
  /* 0: estimates may do (Xapian's default); otherwise the number of matches
   * to check at least (UINT32_MAX or the doc count: totals exact).  A query
   * of one term (or everything) has its exact total without checking. */
  uint32_t check_at_least;
  const xw_facet_spec *facets; /* facets counted over every match (forces
                                  exact totals) */
  size_t nfacets;
  double time_limit; /* seconds; 0 = none.  A search that took this long
                        returns ERR_TIMEOUT (Xapian 1.4 cannot cut a match
                        short, so the work is done before it is refused). */
  /* BM25 parameters; 0 = Xapian defaults (k1 1, b 0.5). */
  double bm25_k1, bm25_b;
  /* NULL, or one flag per shard: a shard flagged 0 holds no match (its
   * dates lie outside the query's), so counting skips it; with rank_shards
   * set the ranking match skips it too, which the caller may ask only when
   * no weight depends on the collection's statistics (an unweighted
   * query). */
  const unsigned char *shards;
  int rank_shards;
  /* On a database with no remote shard, matches of a query of terms under
   * AND, OR, NOT, FILTER and SYNONYM may be counted from posting lists as
   * sets of docids while the match only ranks (Xapian then stops early);
   * remote shards would ship every posting list over the network. */
  /* A cursor for value sorts: when after_key is set, documents whose value
   * in sort_slot equals after_key[0..after_key_len) are kept only when their
   * docid is above after_docid (Xapian orders equal keys by docid, up).  The
   * caller filters the keys strictly before the cursor with a value range.
   * Facets and sets are then counted with the cursor applied. */
  const char *after_key;
  size_t after_key_len;
  xw_docid after_docid;
} xw_search_opts;

int xw_search(xw_db *db, const xw_query *q, const xw_search_opts *opts, xw_mset **out, err_t *err);
/* How a search (by relevance or a value, no cursor) matches a read-only set of local
 * shards, or one read-only local index in ranges of docids, for the whole
 * process (xw_par.cc); every plan gives the same answers.  AUTO (the
 * default): part by part on several threads when the match reads many
 * postings, as one otherwise.  COMBINED: Xapian's one match over the set.
 * APART: part by part on the calling thread.  THREADS: part by part on
 * several threads.  threads: the threads matching one search's parts, the
 * caller's included (one index is cut in as many ranges), 0 one per core,
 * at most 8; the count the first search finds sizes the pool for good. */
typedef enum {
  XW_SHARDS_AUTO,
  XW_SHARDS_COMBINED,
  XW_SHARDS_APART,
  XW_SHARDS_THREADS
} xw_shard_plan;
void xw_set_shard_plan(xw_shard_plan plan, unsigned threads);
/* Open now what matching db on threads needs (one index's extra handles,
 * one per thread of the pool, which it starts), rather than at its first
 * search: a daemon's files are then all open before it serves.  Nothing
 * for a set of shards, a writable handle, or the plan COMBINED. */
void xw_db_ready_threads(xw_db *db);
/* Searches queued for a thread elsewhere in the process (a daemon's
 * workers), +1 when one is queued and -1 when a thread takes it: under
 * AUTO, a search goes to threads only while the searches in progress and those
 * queued leave cores idle. */
void xw_note_waiting(int delta);
/* Searches of the process that ran on several threads, since it started:
 * matched in parts (shards or one index's ranges), or matched and counted
 * at once (xw_par_pair). */
uint64_t xw_par_matched(void);
void xw_mset_free(xw_mset *m);
/* Number of hits in this page. */
uint32_t xw_mset_size(const xw_mset *m);
/* Match count: exact when lower == upper. */
uint32_t xw_mset_matches_lower(const xw_mset *m);
uint32_t xw_mset_matches_estimated(const xw_mset *m);
uint32_t xw_mset_matches_upper(const xw_mset *m);
xw_docid xw_mset_docid(const xw_mset *m, uint32_t i);
double xw_mset_weight(const xw_mset *m, uint32_t i);
/* Value slot of hit i's document (malloc'ed, "" when unset). */
int xw_mset_value(xw_mset *m, uint32_t i, unsigned slot, char **val, size_t *len, err_t *err);
/* Stored data of hit i (borrowed from m; valid until xw_mset_free). */
int xw_mset_data(xw_mset *m, uint32_t i, const char **data, size_t *len, err_t *err);
/* Facet f's counts: number of distinct values; value k and its count,
 * borrowed from m, sorted by count descending then value ascending. */
size_t xw_mset_facet_size(const xw_mset *m, size_t f);
void xw_mset_facet_get(const xw_mset *m, size_t f, size_t k, const char **val, size_t *len,
                       uint32_t *count);

/* ---- columns: one slot's values for every document, in memory ----
 * Counting a facet through Xapian reads the slot's value of every match.  A
 * column answers the same from an array indexed by docid (each value's id in
 * a small dictionary), so a match costs one increment; and a query that is
 * one term, or everything, is counted from the term's posting list or the
 * column's totals without running a match at all.  xw_search does both when
 * every facet of a search has a column.
 * Limits: single-valued slots; at most XW_COLUMN_MAX_VALUES distinct values
 * (2 bytes per document); local databases only (xapian-tcpsrv knows nothing
 * of our match spy).  A column describes the revision the handle had when it
 * was loaded: load afresh after xw_db_reopen moves it. */
#define XW_COLUMN_MAX_VALUES 65535
/* Load slot's values (cut to prefix_len bytes when nonzero).  *out = NULL
 * and 0 returned when the slot has too many distinct values. */
int xw_column_load(xw_db *db, unsigned slot, unsigned prefix_len, xw_column **out, err_t *err);
void xw_column_free(xw_column *c);
/* Read the names of c's values with split (xw_split_fn): facets counted
 * through c then count names, as a spy's values would be.  Counting stays
 * per value; names are summed when the counts are read, so a match costs
 * what it costs without names. */
int xw_column_names(xw_column *c, xw_split_fn split, err_t *err);
/* Reading a column: value ids run 0..xw_column_nvalues(c)-1, id 0 being "no
 * value"; a docid beyond the column has id 0.  Names borrow from c. */
uint32_t xw_column_nvalues(const xw_column *c);
uint32_t xw_column_id(const xw_column *c, xw_docid d);
const char *xw_column_name(const xw_column *c, uint32_t id, size_t *len);
uint32_t xw_column_total(const xw_column *c, uint32_t id); /* documents with it */

/* The documents whose value in column c lies in [lo, hi] (byte order, both
 * ends in), as a filter answered from memory: no posting list is opened in
 * any shard, where the same range as terms opens each of its terms in
 * every shard.  *count = how many documents the range holds.  *out = NULL
 * (and 0 returned) when that is over max, when db has a remote shard, or
 * when two of its shards cannot be told apart (one UUID): build the filter
 * otherwise then.  c must be db's, loaded at the revision open (a column
 * knows nothing of later writes); the query holds its own copy of the
 * docids.  The filter weighs nothing, and matches are counted by Xapian's
 * matcher, not as sets (xw_search_opts). */
int xw_query_column_range(xw_db *db, const xw_column *c, const char *lo, const char *hi,
                          uint32_t max, xw_query **out, uint32_t *count, err_t *err);

/* The documents whose value id in column c is one of ids[0 .. n), as a
 * filter answered from memory like xw_query_column_range's; *out = NULL
 * (and 0 returned) when db has a remote shard or two shards that cannot be
 * told apart.  The column keeps the set (at most as many docids as it has
 * documents, in all), so asking for the same ids again costs nothing more
 * than the query. */
int xw_query_column_ids(xw_db *db, const xw_column *c, const uint32_t *ids, size_t n,
                        xw_query **out, err_t *err);

/* The OR of document d's most distinctive terms (Xapian's expand set with
 * d as the relevant set), at most n of them, keeping only those keep()
 * accepts: "more like this".  *out = NULL and 0 when none is left;
 * ERR_NOT_FOUND for no such docid. */
int xw_query_like(xw_db *db, xw_docid d, size_t n, int (*keep)(const char *term, size_t len),
                  xw_query **out, err_t *err);

/* Call fn(ud, docid, value) for every document with a value in slot, in
 * docid order (value borrowed for the call). */
int xw_values_each(xw_db *db, unsigned slot,
                   void (*fn)(void *ud, xw_docid d, const char *v, size_t len), void *ud,
                   err_t *err);

/* ---- every match ---- */
/* Call fn(ud, docid, weight) for every document q matches, in no promised
 * order.  weighted: the weight is the document's BM25 score with bm25_k1
 * and bm25_b (0: Xapian's defaults, as in xw_search_opts), from a match
 * that checks every document; otherwise 0, and when every shard is local and q is made of
 * terms the matches come from posting lists as sets (xw_search_opts).  With
 * several shards, or a remote one, the matches are fetched as a result
 * list, since a match spy sees each shard's own docids there; shards, as
 * in xw_search_opts (NULL: all), leaves out shards that hold no match (as
 * do those without a word every match needs), and weights stay the whole
 * database's.  ERR_TIMEOUT as xw_search when it took
 * time_limit or longer. */
int xw_match_each(xw_db *db, const xw_query *q, int weighted, double bm25_k1, double bm25_b,
                  double time_limit, const unsigned char *shards,
                  void (*fn)(void *ud, xw_docid d, double weight), void *ud, err_t *err);

/* ---- term lists, for snippets and figures ---- */
/* Positions of term in document id: fills pos[0..*n) up to cap; *n is the
 * total number of positions (may exceed cap). 0 positions if absent. */
int xw_db_positions(xw_db *db, xw_docid id, const char *term, size_t len, uint32_t *pos, size_t cap,
                    size_t *n, err_t *err);

/* ---- a hit's words, for the snippet's window (win.h) ---- */
/* The wdf of term in each document ids[0..n) (in any order) into wdf[i],
 * 0 where it is absent: one walk of its posting list, in docid order (a
 * page of hits costs one look-up of the list, not one per hit). */
int xw_db_wdfs(xw_db *db, const char *term, size_t len, const xw_docid *ids, size_t n,
               uint32_t *wdf, err_t *err);
/* fn(ud, term, n) for each term of the lexicon beginning with prefix, in
 * byte order, at most max of them: *over = 1 when there are more (term is
 * borrowed for the call).  A read-only handle keeps the walk for the
 * revision open (xw_db_reopen drops it), as it keeps term frequencies. */
int xw_db_prefix_each(xw_db *db, const char *prefix, size_t len, size_t max,
                      void (*fn)(void *ud, const char *term, size_t n), void *ud, int *over,
                      err_t *err);

#ifdef __cplusplus
}
#endif
#endif
