/* ds.h: the stored-document codec: how an article is kept inside the index
 * (Xapian document data) so GET and snippets can read it back.
 *
 * Record layout (before compression): the fields id, outlet, date, title,
 * url, author, lang, body, each as a varint length + 1 (0 = absent) followed
 * by the bytes, then a varint tag count and each tag as varint length +
 * bytes.  The stored data is one byte DS_FORMAT then a zstd frame of that
 * record, compressed with the index's dictionary (trained by ds_train on a
 * sample of the corpus at index time); the frame names its dictionary id, so
 * a reader holding the wrong dictionary fails cleanly (ERR_CORRUPT).
 *
 * A ds_codec_t holds zstd contexts: one per thread.
 */
#ifndef SIFT_DS_H
#define SIFT_DS_H

#include <stddef.h>

#include "arena.h"
#include "buf.h"
#include "doc.h"
#include "err.h"

#define DS_FORMAT 1

typedef struct ds_codec ds_codec_t;

/* Train a dictionary of at most dict_cap bytes on n sample records (each the
 * uncompressed record of a document, as ds_record() writes it).  Appends the
 * dictionary to out.  ERR_INVAL when zstd finds too little to learn from. */
int ds_train(const char *samples, const size_t *sizes, size_t n, size_t dict_cap, buf_t *out,
             err_t *err);
/* The uncompressed record of d, appended to out. */
int ds_record(const doc_t *d, buf_t *out);

/* A codec using dict (may be NULL/0: plain zstd).  The dictionary bytes are
 * copied. */
int ds_codec_new(const void *dict, size_t dict_len, int level, ds_codec_t **out, err_t *err);
void ds_codec_free(ds_codec_t *c);
/* Append the stored form of d to out. */
int ds_encode(ds_codec_t *c, const doc_t *d, buf_t *out, err_t *err);
/* Decode stored data into *d (strings in arena a).  ERR_CORRUPT on any
 * malformation. */
int ds_decode(ds_codec_t *c, const char *data, size_t len, arena_t *a, doc_t *d, err_t *err);

#endif
