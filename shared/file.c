/* file.c: see file.h. */
#include "file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int file_write_atomic(const char *path, const char *text, size_t n, err_t *err) {
  char tmp[4200];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
    return err_set(err, ERR_INVAL, 0, "path too long: %.64s...", path);
  FILE *out = fopen(tmp, "w");
  if (!out) return err_set(err, ERR_IO, 0, "cannot write %s: %s", tmp, strerror(errno));
  int bad = fwrite(text, 1, n, out) != n || fflush(out) != 0 || fsync(fileno(out)) != 0;
  bad |= fclose(out) != 0;
  if (bad || rename(tmp, path) != 0) {
    int rc = err_set(err, ERR_IO, 0, "cannot write %s: %s", path, strerror(errno));
    unlink(tmp);
    return rc;
  }
  return 0;
}
