/* ds.h: the stored-document codec: how an article is kept inside the index
 * (Xapian document data) so GET and snippets can read it back.
 *
 * Record layout (before compression): the fields id, outlet, date, title,
 * url, author, lang, body, each as a varint length + 1 (0 = absent) followed
 * by the bytes, then a varint tag count and each tag as varint length +
 * bytes.
 *
 * Stored data, DS_FORMAT 3: the fields plain (no decompression to read
 * them, under a checksum), and the body in blocks of about DS_BLOCK bytes,
 * each cut just after an ASCII white-space byte and compressed alone, with
 * a table giving each block's place in the body and the index of its first
 * word (words counted as tok.h's iterator without runs gives them, which is
 * how the indexer numbers positions: schema.h), so a reader decodes only
 * the blocks it needs (ds_open, ds_block).  DS_FORMAT_TWO, written by
 * earlier versions and still for indexes of an older schema format: the
 * format byte, the varint size of the head frame, the head frame (the
 * record with the body cut after white space near its DS_HEAD_BODY-th
 * byte), then the tail frame (the rest of the body) or nothing.
 * DS_FORMAT_ONE (the format byte, then one frame of the whole record) is
 * still read.  Every frame is compressed with the index's dictionary
 * (trained by ds_train on a sample of records at index time); a frame names
 * its dictionary id, so a reader holding the wrong dictionary fails cleanly
 * (ERR_CORRUPT).
 *
 * A ds_codec_t holds zstd contexts: one per thread.
 */
#ifndef SIFT_DS_H
#define SIFT_DS_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "doc.h"
#include "err.h"

#define DS_FORMAT 3       /* written: plain fields, the body in blocks */
#define DS_FORMAT_TWO 2   /* read, and written on request: a head and a tail frame */
#define DS_FORMAT_ONE 1   /* read: the record in one frame */
#define DS_HEAD_BODY 2048 /* format 2: body bytes in the head frame, about */
#define DS_BLOCK 1024     /* format 3: body bytes per block, about */

typedef struct ds_codec ds_codec_t;

/* One block of a body: body bytes [start, start + len). */
typedef struct ds_block {
  size_t start, len;
  uint32_t word;     /* format 3: the body index of its first word */
  const char *frame; /* its frame in the stored data (which must outlive it) */
  size_t frame_len;
  int ready; /* decoded into the body's text */
} ds_block_t;

/* A stored body, decoded block by block.  text has len + 1 bytes and ends
 * in NUL; the bytes of a block not yet decoded are undefined but for its
 * last one, which is a space when the block is not the body's last (a
 * block is cut just after white space, so its true byte is one too): a
 * reader of the decoded blocks may look at the byte before one and finds
 * no word running into it.  (Filling the whole body with spaces cost a
 * term_rare hit 7.7k instructions under callgrind, about one a byte.) */
typedef struct ds_body {
  char *text; /* NULL when the article has no body */
  size_t len;
  ds_block_t *blocks;
  size_t nblocks;
  int words;            /* 1: the blocks' word indexes are known (format 3) */
  uint32_t title_words; /* format 3: the title's word count */
  const char *masked;   /* format 3: where its masked bytes start (ds.c) */
} ds_body_t;

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
/* The format ds_encode writes: DS_FORMAT (the default) or DS_FORMAT_TWO,
 * which readers older than format 3 read.  ERR_INVAL for any other. */
int ds_codec_set_format(ds_codec_t *c, int format, err_t *err);
/* Append the stored form of d to out. */
int ds_encode(ds_codec_t *c, const doc_t *d, buf_t *out, err_t *err);
/* Decode stored data into *d (strings in arena a).  ERR_CORRUPT on any
 * malformation. */
int ds_decode(ds_codec_t *c, const char *data, size_t len, arena_t *a, doc_t *d, err_t *err);
/* The fields of stored data into *d (d->body NULL: the body is *b's), and
 * the body's block table into *b, in arena a; no block of format 3 is
 * decoded (the fields of formats 1 and 2 come with the start of the body:
 * its blocks are ready).  data must outlive *b.  ERR_CORRUPT on any
 * malformation of what it reads; a block's frame is checked when decoded. */
int ds_open(ds_codec_t *c, const char *data, size_t len, arena_t *a, doc_t *d, ds_body_t *b,
            err_t *err);
/* Decode block i of b into b->text (a no-op when it is ready). */
int ds_block(ds_codec_t *c, ds_body_t *b, size_t i, err_t *err);
/* The block holding body byte `at` (< b->len). */
size_t ds_block_at(const ds_body_t *b, size_t at);

#endif
