/* idx.h: writing articles into a Sift index, following schema.h.
 *
 * idx_open() creates an index (or opens one to add to), checks or writes its
 * metadata, and holds the one writable Xapian handle.  idx_add() turns a doc_t
 * into its terms, values and stored record and replaces any article with the
 * same id.  Nothing is visible to readers until idx_commit(), which is
 * atomic: an interrupted run leaves the index at its last commit.
 *
 * The stored-document dictionary is trained on the first articles of a new
 * index: idx_add() holds up to IDX_TRAIN_DOCS articles (or IDX_TRAIN_BYTES of
 * records) before anything is written, then trains, stores the dictionary in
 * the metadata and writes them.  An index that already holds articles keeps
 * its dictionary (or none, if it was created without one).
 *
 * Not thread-safe: one writer per index (Xapian's lock enforces it;
 * a second writer gets ERR_LOCKED).  Distinct idx_t may live on distinct
 * threads: a parallel build (indexer/shards.h) writes one shard per thread.
 *
 * Shards: a directory holding a Xapian stub file (xw.h) that lists shard
 * directories IDX_SHARD_FMT beside it, each a whole Sift index with the same
 * dictionary, is what a parallel build leaves until its final merge; readers
 * open it as one index, idx_compact() merges it into one database, and
 * idx_open() refuses it (merge it first).  Other stubs list shards under
 * other names (`auto 2023-11`, an archive laid out by period) or on other
 * machines (`remote ...`); xw.h reads them all.
 *
 * Removing articles (SPEC.md "Removing articles"): idx_ids_parse() reads a
 * list of ids, idx_delete() removes them from an index or from the local
 * shards of a stub, one Xapian transaction per batch and shard, so a reader
 * or a kill sees a shard either before or after each batch.
 */
#ifndef SIFT_IDX_H
#define SIFT_IDX_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "doc.h"
#include "err.h"

#define IDX_TRAIN_DOCS 4000
#define IDX_TRAIN_BYTES (24u * 1024 * 1024)
#define IDX_DICT_BYTES (112 * 1024)
#define IDX_SHARD_FMT "shard%u"

typedef struct idx idx_t;

/* lang: the default language of a new index (NULL: English); for an existing
 * index it must be NULL or equal its language. */
int idx_open(const char *path, const char *lang, idx_t **out, err_t *err);
/* Close.  What was added since the last commit is committed by Xapian's
 * handle as it closes, unless idx_atomic() was called. */
void idx_free(idx_t *x);
/* Add an article, replacing the one with the same id if there is one (so
 * the number replaced in a run is the number added minus the growth of
 * idx_doccount()).  *warning gets a message, valid until the next call, when
 * the article's language is unknown (it is then indexed in the index's
 * language), else NULL. */
int idx_add(idx_t *x, const doc_t *d, const char **warning, err_t *err);
/* Make everything added so far durable and visible. */
int idx_commit(idx_t *x, err_t *err);
/* From now on idx_free() drops what was added since the last commit instead
 * of committing it (a shard must not commit out of turn). */
int idx_atomic(idx_t *x, err_t *err);
/* Articles in the index as of the last commit plus those pending. */
uint32_t idx_doccount(idx_t *x);
/* 1 if idx_open created the index (it was absent or an empty directory). */
int idx_created(const idx_t *x);
/* The articles of the index at path as readers see it (its last commit; a
 * stub's shards together). */
int idx_stat(const char *path, uint32_t *docs, err_t *err);
/* 1 if path is absent or an empty directory: a new index goes there. */
int idx_path_is_free(const char *path);

/* The warning idx_add gives for d (an unknown language; dflt is the index's
 * default algorithm), written to buf; NULL when there is none.  Thread-safe. */
const char *idx_lang_warning(const char *dflt, const doc_t *d, char *buf, size_t cap);

/* Train a stored-document dictionary on docs; dict->len is 0 when there is
 * too little text to learn from (the index then uses plain zstd). */
int idx_train(doc_t *const *docs, size_t n, buf_t *dict, err_t *err);
/* Give a new index the dictionary (len 0: none) instead of training its
 * own, so shards built apart can be merged; before any idx_add, or with
 * only held articles, which are then written. */
int idx_set_dict(idx_t *x, const char *dict, size_t len, err_t *err);

/* Make a new, empty index one of an older format (schema.h), so that a
 * shard added to an archive of that format follows its word rules: right
 * after idx_open created it, before any idx_add. */
int idx_set_format(idx_t *x, int format, err_t *err);

/* Shards: the path of shard k of the stub directory dir (0, or -1 if it
 * does not fit cap); whether path is a stub directory; write dir's stub for
 * shards 0..nshards-1 (atomically: a temporary file renamed). */
int idx_shard_path(const char *dir, unsigned k, char *out, size_t cap);
int idx_is_stub(const char *path);
int idx_write_stub(const char *dir, unsigned nshards, err_t *err);

/* ---- removing articles ---- */

/* A list of distinct ids, in the order first met.  idx_ids_parse() reads
 * text holding one id per line ('\n'; a '\r' before it is white space like
 * any other): white space (space, tab, CR, VT, FF) around an id is trimmed,
 * lines left empty are skipped, and a repeated id is kept once (counted in
 * dups).  A line that cannot be an id (longer than SCHEMA_MAX_ID bytes, a
 * control character or a NUL inside) is ERR_BAD_INPUT; *bad_line then gets
 * its 1-based number and nothing is kept.  ids[i] are NUL-terminated and
 * owned by the list; idx_delete() sets removed[i]. */
typedef struct idx_ids {
  size_t n;               /* distinct ids */
  size_t dups;            /* lines that repeated an earlier id */
  char **ids;             /* n ids */
  unsigned char *removed; /* n flags: 1 once idx_delete removed ids[i] */
  size_t cap;             /* private: the hash set over ids */
  uint32_t *slot;
  size_t nslot;
} idx_ids_t;
void idx_ids_init(idx_ids_t *l);
void idx_ids_fini(idx_ids_t *l);
int idx_ids_parse(idx_ids_t *l, const char *text, size_t len, size_t *bad_line, err_t *err);

typedef struct idx_delete_opts {
  uint32_t batch;                    /* ids per commit (0: 1000) */
  const volatile sig_atomic_t *stop; /* when nonzero, stop before the next batch (may be NULL) */
} idx_delete_opts_t;

/* Remove the articles ids lists from the index at path: a Sift index
 * directory, or a stub (directory or file) of local shards as xw_db_open()
 * reads it.  The ids are cut into batches of opts->batch consecutive ids;
 * batch after batch, each shard holding some of its ids removes them in one
 * Xapian transaction and commits, so each shard goes from one whole batch to
 * the next (across shards a batch is atomic per shard only: a kill between
 * two shards' commits leaves the batch done on some of them).  Only shards
 * holding an id (looked up when the run starts) are opened for writing.
 * A stub listing a remote shard is refused with ERR_INVAL naming it before
 * anything is removed: deletion must run where that shard lives.
 * ids->removed[i] is set for each id removed; *batches gets the number of
 * batches done (all of them unless opts->stop was raised or an error
 * stopped the run; what was committed stays). */
int idx_delete(const char *path, idx_ids_t *ids, const idx_delete_opts_t *opts, size_t *batches,
               err_t *err);

/* Rewrite the (closed) index at path in Xapian's compacted form: built
 * beside it in PATH.compact, then swapped in with one atomic exchange of the
 * two directories, so a reader or a kill at any moment sees a whole index.
 * A stub directory's shards are merged into one database (their languages
 * recorded together).  *before and *after get the sizes in bytes. */
int idx_compact(const char *path, uint64_t *before, uint64_t *after, err_t *err);

#endif
