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
 * a second writer gets ERR_LOCKED).
 */
#ifndef SIFT_IDX_H
#define SIFT_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "doc.h"
#include "err.h"

#define IDX_TRAIN_DOCS 4000
#define IDX_TRAIN_BYTES (24u * 1024 * 1024)
#define IDX_DICT_BYTES (112 * 1024)

typedef struct idx idx_t;

/* lang: the default language of a new index (NULL: English); for an existing
 * index it must be NULL or equal its language. */
int idx_open(const char *path, const char *lang, idx_t **out, err_t *err);
/* Close without committing what was added since the last commit. */
void idx_free(idx_t *x);
/* Add an article, replacing the one with the same id if there is one (so
 * the number replaced in a run is the number added minus the growth of
 * idx_doccount()).  *warning gets a message, valid until the next call, when
 * the article's language is unknown (it is then indexed in the index's
 * language), else NULL. */
int idx_add(idx_t *x, const doc_t *d, const char **warning, err_t *err);
/* Make everything added so far durable and visible. */
int idx_commit(idx_t *x, err_t *err);
/* Articles in the index as of the last commit plus those pending. */
uint32_t idx_doccount(idx_t *x);
/* 1 if idx_open created the index (it was absent or an empty directory). */
int idx_created(const idx_t *x);

/* Rewrite the (closed) index at path in Xapian's compacted form: built
 * beside it in PATH.compact, then swapped in with one atomic exchange of the
 * two directories, so a reader or a kill at any moment sees a whole index.
 * *before and *after get the sizes in bytes. */
int idx_compact(const char *path, uint64_t *before, uint64_t *after, err_t *err);

#endif
