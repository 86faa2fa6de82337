/* periods.h: an archive laid out by time, one shard per month or year.
 *
 * News is searched mostly by recent periods, and an archive grows by adding
 * them.  With `sift-indexer --layout month|year`, the index directory is a
 * stub directory (idx.h) whose XAPIANDB lists one shard per period, named
 * after it (`auto 2023-11`, or `auto 2023`, and `auto undated`), and a file
 * PD_LAYOUT_FILE saying the unit.  Each article goes to its period's shard;
 * a later run adds to the shards it touches and creates new periods.
 * Readers need nothing special: every shard describes itself (schema.h),
 * and a search bounded by date skips the shards whose dates lie outside
 * (xw_search_opts.shards).
 *
 * How a run goes: pd_add() routes each article to a spool file of its
 * period (the stored-document codec, in the index directory), keeping the
 * first articles to train the one dictionary all shards share (or taking
 * the existing shards').  Then `jobs` writer threads build the periods,
 * one writer per period at a time, each taking the period with the most
 * articles waiting, committing every `batch` articles and compacting the
 * shards this run created at the end.  A new archive starts its writers as
 * soon as the dictionary is trained, so building overlaps reading (the
 * reading thread publishes a period's spool to them every few records and
 * a writer takes a period once a batch has come); an existing archive's
 * start at pd_finish(), since reading looks ids up in its shards.  A
 * period's shard is created, and listed in XAPIANDB (atomically), when its
 * first articles are built.  No merge of everything at the end: periods
 * are independent.
 *
 * Replacement: an article whose id is already in another period's shard
 * (an earlier run, or earlier in this run) is removed from there once the
 * periods are built.  Each shard commits on its own: a kill leaves every
 * shard at its last commit (an article that moved may briefly be in both
 * periods, or, after a kill, stay in both until it is indexed again).
 *
 * Memory: the dictionary's training articles, the ids of the run (about
 * 40 bytes each) and one Xapian writer per thread.
 */
#ifndef SIFT_PERIODS_H
#define SIFT_PERIODS_H

#include <signal.h>
#include <stdint.h>

#include "doc.h"
#include "err.h"

#define PD_LAYOUT_FILE "SIFTLAYOUT"

typedef enum pd_unit { PD_NONE = 0, PD_MONTH, PD_YEAR } pd_unit_t;

typedef struct pd_build pd_build_t;

/* The unit of the archive at path: PD_NONE when it is not laid out by time
 * (or absent). */
pd_unit_t pd_unit_of(const char *path);
/* "month" or "year" -> unit; PD_NONE for anything else. */
pd_unit_t pd_unit_parse(const char *name);

/* Open (create when absent) the archive at path.  unit must be the
 * archive's own for an existing one (PD_NONE: take it).  lang as idx_open's
 * for the shards this run creates.  stop (borrowed, may be NULL): once it
 * is nonzero, the writers stop at their next commit, nothing more is built
 * or compacted, and copies that moved stay in their old period too (an
 * interrupted run: every shard keeps its last commit). */
int pd_open(const char *path, pd_unit_t unit, const char *lang, unsigned jobs, uint32_t batch,
            const volatile sig_atomic_t *stop, pd_build_t **out, err_t *err);
/* Route d to its period; *warning as idx_add's. */
int pd_add(pd_build_t *b, const doc_t *d, const char **warning, err_t *err);
/* Build every period the run touched, then remove the copies that moved. */
int pd_finish(pd_build_t *b, err_t *err);
/* After pd_finish: articles in the archive, in it before the run, and
 * articles this run committed (fewer than it read when it stopped). */
uint32_t pd_doccount(const pd_build_t *b);
uint32_t pd_doccount_before(const pd_build_t *b);
uint64_t pd_committed(const pd_build_t *b);
void pd_free(pd_build_t *b);

#endif
