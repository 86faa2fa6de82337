/* ds.h: the stored-document codec: how an article is kept inside the index
 * (Xapian document data) so GET and snippets can read it back.
 *
 * Record layout (before compression): the fields id, outlet, date, title,
 * url, author, lang, body, each as a varint length + 1 (0 = absent) followed
 * by the bytes, then a varint tag count and each tag as varint length +
 * bytes.  Stored data (DS_FORMAT 2): the format byte, the varint size of the
 * head frame, the head frame, then the tail frame or nothing.  The head is
 * a zstd frame of the record with the body cut after an ASCII white-space
 * byte near its DS_HEAD_BODY-th byte; the tail, a zstd frame of the rest of
 * the body.  A snippet rarely needs more than the start of the body, so it
 * decodes the head alone (ds_decode_head).  Bodies that are short, or with
 * no white space near the cut, have no tail.  Both frames are compressed
 * with the index's dictionary (trained by ds_train on a sample of records
 * at index time); a frame names its dictionary id, so a reader holding the
 * wrong dictionary fails cleanly (ERR_CORRUPT).  DS_FORMAT_ONE (the format
 * byte, then one frame of the whole record), written by earlier versions,
 * is still read.
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

#define DS_FORMAT 2     /* written */
#define DS_FORMAT_ONE 1 /* read: the record in one frame */
#define DS_HEAD_BODY 2048 /* body bytes in the head frame, about */

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
/* Also decode frames compressed with dict (copied): a reader of shards
 * built apart holds each one's dictionary.  Adding one the codec has is a
 * no-op. */
int ds_codec_add_dict(ds_codec_t *c, const void *dict, size_t dict_len, err_t *err);
/* The id zstd gives dict (0: not a zstd dictionary). */
unsigned ds_dict_id(const void *dict, size_t dict_len);
/* Append the stored form of d to out. */
int ds_encode(ds_codec_t *c, const doc_t *d, buf_t *out, err_t *err);
/* Decode stored data into *d (strings in arena a).  ERR_CORRUPT on any
 * malformation. */
int ds_decode(ds_codec_t *c, const char *data, size_t len, arena_t *a, doc_t *d, err_t *err);
/* The same, but without the tail frame: d->body is then the start of the
 * body, ending just after an ASCII white-space byte, and *rest the number
 * of body bytes left out (0: d->body is whole).  The tail is checked only
 * for its framing, so damage inside it shows when the whole is decoded. */
int ds_decode_head(ds_codec_t *c, const char *data, size_t len, arena_t *a, doc_t *d, size_t *rest,
                   err_t *err);
/* After ds_decode_head left rest > 0 bytes out: the whole body into *body
 * (in arena a), from start (the head's d->body) and the tail frame. */
int ds_decode_tail(ds_codec_t *c, const char *data, size_t len, const char *start, arena_t *a,
                   const char **body, err_t *err);

#endif
