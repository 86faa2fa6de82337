/* file.h: a small file written whole or not at all, for the files beside an
 * index that readers watch (Xapian's stub, an archive's layout): the text
 * goes to PATH.tmp, is fsync'ed, then renamed over PATH, so a reader or a
 * killed run sees the old content or the new, never a part.
 *
 * Callers: xw.cc (stub files), indexer/periods.c (the layout file).
 */
#ifndef SIFT_FILE_H
#define SIFT_FILE_H

#include <stddef.h>

#include "err.h"

/* Replace path's content by text[0..n).  0, or ERR_IO naming the file. */
int file_write_atomic(const char *path, const char *text, size_t n, err_t *err);

#endif
