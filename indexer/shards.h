/* shards.h: building a new index on every core, as shards merged at the end.
 *
 * Xapian's writer is single-threaded, and its in-memory inverter (a map of
 * every term of a batch to its postings) is most of the indexing time, so
 * one writer uses one core whatever else runs beside it.  A new index is
 * therefore written as N shards, one writer thread each (idx.h's stub
 * layout), and merged into one database by the final compaction.
 *
 * The promises of a single writer still hold:
 * - Batches: the articles are cut into batches of `batch` in input order,
 *   and batch b goes whole to shard b mod N.  Shards commit their batches in
 *   input order (a commit waits for the one before it), so the committed
 *   articles are always the first whole batches of the input: a kill at any
 *   moment leaves a stub that opens with exactly those.
 * - Replacement: an id seen earlier in the run goes to the shard holding
 *   its earlier copy (which it replaces there, visible at that shard's next
 *   commit), so no id is ever held twice.  Ids are remembered by a 64-bit
 *   hash: a collision only sends an article to another shard, never loses
 *   or duplicates one.
 * - One dictionary: the first min(batch, IDX_TRAIN_DOCS) articles (or
 *   IDX_TRAIN_BYTES) are held, the dictionary is trained on them, and every
 *   shard is given it before anything is written.
 * The index directory appears when the shards exist (built in PATH.creating
 * and renamed), as idx_open() makes a new index appear.
 *
 * Memory: each shard's writer holds up to one batch in Xapian's inverter,
 * at most SH_QUEUE_BYTES of copied articles wait for each shard (the caller
 * blocks beyond that), and the id table takes 18 to 36 bytes per article of
 * the run (36 MB for a million).
 *
 * sh_add() and sh_finish() are called from one thread; the shards' threads
 * are the module's own.
 */
#ifndef SIFT_SHARDS_H
#define SIFT_SHARDS_H

#include <stdint.h>

#include "doc.h"
#include "err.h"

#define SH_MAX_SHARDS 16
#define SH_QUEUE_BYTES (32u << 20)

typedef struct sh_build sh_build_t;

/* A new index at path (which idx_path_is_free() must accept), in nshards
 * shards (2..SH_MAX_SHARDS), committing every batch articles; lang as
 * idx_open()'s.  Nothing is created before the first batch is trained on. */
int sh_open(const char *path, const char *lang, unsigned nshards, uint32_t batch, sh_build_t **out,
            err_t *err);
/* Copy d and queue it (blocking while the shard's queue is full); *warning
 * as idx_add()'s (valid until the next call).  An error of any shard
 * (ERR_IO for a full disk...) is returned by the next call. */
int sh_add(sh_build_t *b, const doc_t *d, const char **warning, err_t *err);
/* Write and commit everything queued, in order, and stop the threads.  The
 * index is then a stub of shards: merge it with idx_compact(). */
int sh_finish(sh_build_t *b, err_t *err);
/* After sh_finish(): the articles in the index, and the articles written
 * by the batches it committed (more when later copies replaced earlier). */
uint32_t sh_doccount(const sh_build_t *b);
uint64_t sh_committed(const sh_build_t *b);
void sh_free(sh_build_t *b);

#endif
