/* corpus.h: reading corpus input for sift-indexer (SPEC.md "Corpus format").
 *
 * A source is a path: a JSON Lines file, plain or zstd-compressed (detected
 * by the zstd magic number, whatever its name), "-" for standard input (also
 * plain or zstd), or a directory, read recursively for *.txt files in sorted
 * path order, one article each.  Records come out one at a time with the
 * file name and line number that error messages need (FILE:LINE).
 *
 * Memory is bounded: a line longer than max_record bytes is skipped whole
 * (its bytes are read and discarded, never held) and reported as
 * ERR_TOO_LONG for that line; reading goes on after it.  CRLF line ends are
 * accepted; blank lines are skipped silently.
 *
 * Ownership: the record's strings are borrowed and valid until the next
 * corpus_next() or corpus_free().
 */
#ifndef SIFT_CORPUS_H
#define SIFT_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct corpus corpus_t;

typedef struct corpus_rec {
  const char *file; /* the path of the file the record came from ("-": stdin) */
  uint64_t line;    /* 1-based line number; 0 for a .txt article */
  const char *data; /* the JSON line (no line end), or the .txt contents */
  size_t len;
  const char *relpath; /* .txt: path relative to the directory given; else NULL */
} corpus_rec_t;

/* max_record 0: 64 MiB.  ERR_IO (with the path and strerror in err) when the
 * path cannot be opened; ERR_BAD_INPUT when it is named .zst but does not
 * start with zstd's magic number. */
int corpus_open(const char *path, size_t max_record, corpus_t **out, err_t *err);
/* 1: *rec filled.  0: end of input.  ERR_TOO_LONG: the record at rec->file,
 * rec->line was skipped (call again to go on).  ERR_IO / ERR_BAD_INPUT
 * (a corrupt zstd stream): fatal for this source, detail in err. */
int corpus_next(corpus_t *c, corpus_rec_t *rec, err_t *err);
void corpus_free(corpus_t *c); /* accepts NULL */
/* How far reading has got: bytes of the file read so far (compressed bytes
 * for .zst) and its size, or files read and their number for a directory;
 * *total is 0 when unknown (standard input). */
void corpus_progress(const corpus_t *c, uint64_t *done, uint64_t *total);

#endif
