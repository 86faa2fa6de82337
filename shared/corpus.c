/* corpus.c: reading sift-indexer's input (contract in corpus.h).
 *
 * Called by the indexer (and by sift-gen --calibrate), one corpus_t per
 * source path, from one thread.
 *
 * A stream source (a file, a FIFO or "-") is read in CORPUS_CHUNK reads into
 * one line buffer; its first bytes decide whether it is zstd, never its name,
 * except that a file named *.zst without them is refused (ERR_BAD_INPUT from
 * corpus_open): read as text it would be a flood of bad lines; buf[start..end) holds the bytes not yet handed out and
 * buf[start..scan) is known to hold no newline, so every byte is searched
 * once, with memchr.  A zstd source (first four bytes 28 B5 2F FD) is read
 * into a raw input buffer and decompressed with ZSTD_decompressStream into
 * the line buffer's free space; concatenated frames are accepted, a stream
 * that ends inside a frame is ERR_BAD_INPUT.  A regular file smaller than
 * CORPUS_CHUNK starts with buffers of its own size.  Before reading more,
 * the partial line left at the end of the buffer moves to its front; the
 * buffer grows only when that partial line needs it, and never past
 * max_record plus one read (max_record + 2 + CORPUS_CHUNK bytes).  Once the
 * pending line exceeds max_record the reader switches to skipping: it drops
 * every byte up to the next newline and reports the line as ERR_TOO_LONG,
 * so an over-long line costs time, not memory.
 *
 * Lines: '\n' ends a line and a '\r' before it is dropped; the last line
 * needs no newline; a line of only spaces and tabs is blank and skipped; a
 * UTF-8 byte order mark opening the first line is dropped.  A record's data is
 * NUL-terminated (the terminator is not counted in len).
 *
 * A directory source is listed once at open: every regular file whose name
 * ends in ".txt" (any case), found recursively, skipping names that start
 * with '.' and not descending into symbolic links to directories; the
 * relative paths are sorted bytewise (strcmp) and the files read one by one,
 * each whole, a file over max_record bytes being reported ERR_TOO_LONG
 * (line 0).
 *
 * A fatal error (ERR_IO, ERR_BAD_INPUT) is sticky: every later corpus_next()
 * returns it again with the same detail.
 */
#include "corpus.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define CORPUS_CHUNK ((size_t)1 << 20)    /* bytes per read */
#define CORPUS_MIN_READ ((size_t)1 << 16) /* grow the buffer below this much room */
#define CORPUS_DEFAULT_MAX ((size_t)64 << 20)

struct corpus {
  size_t max_record;
  char *path; /* as given: the file name in records of a stream source */

  /* stream source */
  int fd; /* -1 when none is open */
  int own_fd;
  char *buf;
  size_t cap, start, end, scan;
  int eof;      /* no more bytes will come */
  int skipping; /* dropping the rest of an over-long line */
  uint64_t line;
  ZSTD_DStream *zds; /* NULL: plain */
  char *zin;
  size_t zin_cap;
  ZSTD_inBuffer zib;
  int raw_eof;
  size_t zlast; /* last ZSTD_decompressStream hint; 0 = between frames */

  /* directory source */
  int is_dir;
  char **files; /* relative paths, sorted */
  size_t nfiles, next_file;
  char *file_path; /* the current file's full path */
  char *txt;
  size_t txt_cap;

  uint64_t done, total; /* source bytes read, and the file's size (0: unknown) */

  err_t fail; /* sticky fatal error */
};

static int corpus__fail(corpus_t *c, err_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int corpus__fail(corpus_t *c, err_t *err, int code, const char *fmt, ...) {
  if (!c->fail.code) {
    va_list ap;
    va_start(ap, fmt);
    c->fail.code = code;
    vsnprintf(c->fail.msg, sizeof c->fail.msg, fmt, ap);
    va_end(ap);
  }
  err_set(err, c->fail.code, 0, "%s", c->fail.msg);
  return c->fail.code; /* even if err held an older error: the caller acts on this one */
}

/* ---- directory listing ---- */

typedef struct {
  char **v;
  size_t n, cap;
} corpus__list_t;

static int corpus__push(corpus__list_t *l, char *s) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    char **v = realloc(l->v, cap * sizeof *v);
    if (!v) return ERR_NOMEM;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = s;
  return 0;
}

static char *corpus__join(const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b);
  int slash = na > 0 && a[na - 1] != '/';
  char *s = malloc(na + slash + nb + 1);
  if (!s) return NULL;
  memcpy(s, a, na);
  if (slash) s[na] = '/';
  memcpy(s + na + slash, b, nb + 1);
  return s;
}

static int corpus__is_txt(const char *name) {
  size_t n = strlen(name);
  return n > 4 && strcasecmp(name + n - 4, ".txt") == 0;
}

/* Adds the .txt files under root/rel (rel "" for root itself) to l. */
static int corpus__walk(const char *root, const char *rel, corpus__list_t *l, err_t *err) {
  int rc = 0;
  char *dirpath = *rel ? corpus__join(root, rel) : strdup(root);
  if (!dirpath) return err_set(err, ERR_NOMEM, 0, NULL);
  DIR *d = opendir(dirpath);
  if (!d) {
    rc = err_set(err, ERR_IO, 0, "%s: %s", dirpath, strerror(errno));
    free(dirpath);
    return rc;
  }
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (!e) {
      if (errno) rc = err_set(err, ERR_IO, 0, "%s: %s", dirpath, strerror(errno));
      break;
    }
    if (e->d_name[0] == '.') continue;
    char *sub = *rel ? corpus__join(rel, e->d_name) : strdup(e->d_name);
    char *full = sub ? corpus__join(root, sub) : NULL;
    if (!sub || !full) {
      free(sub);
      free(full);
      rc = err_set(err, ERR_NOMEM, 0, NULL);
      break;
    }
    struct stat st;
    int is_link = lstat(full, &st) == 0 && S_ISLNK(st.st_mode);
    if (stat(full, &st) != 0) { /* dangling link or vanished: not an article */
      free(sub);
      free(full);
      continue;
    }
    free(full);
    if (S_ISDIR(st.st_mode)) {
      if (!is_link) rc = corpus__walk(root, sub, l, err);
      free(sub);
    } else if (S_ISREG(st.st_mode) && corpus__is_txt(e->d_name)) {
      if (corpus__push(l, sub)) {
        free(sub);
        rc = err_set(err, ERR_NOMEM, 0, NULL);
      }
    } else {
      free(sub);
    }
    if (rc) break;
  }
  closedir(d);
  free(dirpath);
  return rc;
}

static int corpus__cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- stream reading ---- */

/* read() into p[0..n), retrying on EINTR; bytes read, 0 at end, -1 on error. */
static ssize_t corpus__read(int fd, char *p, size_t n) {
  for (;;) {
    ssize_t r = read(fd, p, n);
    if (r >= 0 || errno != EINTR) return r;
  }
}

/* Appends bytes to buf[end..cap-1) (one byte is kept for a terminator).
 * Returns the number added, 0 at the end of input, or a negative code. */
static int corpus__fill(corpus_t *c, size_t *added, err_t *err) {
  *added = 0;
  size_t room = c->cap - c->end - 1;
  if (!c->zds) {
    ssize_t r = corpus__read(c->fd, c->buf + c->end, room < CORPUS_CHUNK ? room : CORPUS_CHUNK);
    if (r < 0) return corpus__fail(c, err, ERR_IO, "%s: read error: %s", c->path, strerror(errno));
    c->done += (uint64_t)r;
    c->end += (size_t)r;
    *added = (size_t)r;
    return 0;
  }
  for (;;) {
    if (c->zib.pos == c->zib.size && !c->raw_eof) {
      ssize_t r = corpus__read(c->fd, c->zin, c->zin_cap);
      if (r < 0)
        return corpus__fail(c, err, ERR_IO, "%s: read error: %s", c->path, strerror(errno));
      if (r == 0) c->raw_eof = 1;
      c->done += (uint64_t)r;
      c->zib.src = c->zin;
      c->zib.size = (size_t)r;
      c->zib.pos = 0;
    }
    ZSTD_outBuffer ob = {c->buf + c->end, room, 0};
    size_t in_before = c->zib.pos;
    size_t z = ZSTD_decompressStream(c->zds, &ob, &c->zib);
    if (ZSTD_isError(z))
      return corpus__fail(c, err, ERR_BAD_INPUT, "%s: corrupt zstd stream: %s", c->path,
                          ZSTD_getErrorName(z));
    /* Called without input between frames, zstd hints at the next header's
     * size; only a call that made progress tells whether a frame is open. */
    if (ob.pos || c->zib.pos != in_before) c->zlast = z;
    c->end += ob.pos;
    *added = ob.pos;
    if (ob.pos) return 0;
    if (c->raw_eof && c->zib.pos == c->zib.size) {
      if (c->zlast != 0)
        return corpus__fail(c, err, ERR_BAD_INPUT,
                            "%s: zstd stream ends inside a frame (truncated file?)", c->path);
      return 0;
    }
  }
}

/* Makes room for a read: moves the pending bytes to the front, and grows
 * the buffer when the pending line leaves less than CORPUS_MIN_READ. */
static int corpus__room(corpus_t *c, err_t *err) {
  if (c->start > 0) {
    size_t pending = c->end - c->start;
    memmove(c->buf, c->buf + c->start, pending);
    c->scan -= c->start;
    c->end = pending;
    c->start = 0;
  }
  if (c->cap - c->end - 1 >= CORPUS_MIN_READ) return 0;
  /* end <= max_record + 1 here, so the limit leaves room for a read. */
  size_t limit = c->max_record + 2 + CORPUS_CHUNK;
  size_t need = c->end + 1 + CORPUS_MIN_READ;
  size_t cap = c->cap * 2 > need ? c->cap * 2 : need;
  if (cap > limit) cap = limit;
  char *p = realloc(c->buf, cap);
  if (!p) return corpus__fail(c, err, ERR_NOMEM, "out of memory reading %s", c->path);
  c->buf = p;
  c->cap = cap;
  return 0;
}

static int corpus__blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t') return 0;
  return 1;
}

static int corpus__too_long(corpus_t *c, corpus_rec_t *rec, err_t *err) {
  rec->line = c->line;
  err_set(err, ERR_TOO_LONG, 0, "line longer than %zu bytes, skipped", c->max_record);
  return ERR_TOO_LONG;
}

/* The line buf[b..e) (e at its '\n' or at the end of input), numbered. */
static int corpus__emit(corpus_t *c, size_t b, size_t e, corpus_rec_t *rec, err_t *err) {
  c->line++;
  if (e > b && c->buf[e - 1] == '\r') e--;
  if (c->line == 1 && e - b >= 3 && memcmp(c->buf + b, "\xEF\xBB\xBF", 3) == 0) b += 3;
  if (e - b > c->max_record) return corpus__too_long(c, rec, err);
  if (corpus__blank(c->buf + b, e - b)) return 0;
  c->buf[e] = '\0';
  rec->line = c->line;
  rec->data = c->buf + b;
  rec->len = e - b;
  return 1;
}

static int corpus__next_line(corpus_t *c, corpus_rec_t *rec, err_t *err) {
  for (;;) {
    int rc;
    size_t added;
    if (c->skipping) {
      char *nl = memchr(c->buf + c->start, '\n', c->end - c->start);
      if (nl) {
        c->skipping = 0;
        c->start = c->scan = (size_t)(nl - c->buf) + 1;
        c->line++;
        return corpus__too_long(c, rec, err);
      }
      c->start = c->end = c->scan = 0;
      if ((rc = corpus__fill(c, &added, err))) return rc;
      if (!added) {
        c->skipping = 0;
        c->eof = 1;
        c->line++;
        return corpus__too_long(c, rec, err);
      }
      continue;
    }
    char *nl = memchr(c->buf + c->scan, '\n', c->end - c->scan);
    if (nl) {
      size_t b = c->start, e = (size_t)(nl - c->buf);
      c->start = c->scan = e + 1;
      if ((rc = corpus__emit(c, b, e, rec, err))) return rc;
      continue;
    }
    c->scan = c->end;
    if (c->end - c->start > c->max_record + 1) { /* +1: a '\r' may follow */
      c->skipping = 1;
      continue;
    }
    if (c->eof) {
      if (c->start == c->end) return 0;
      size_t b = c->start, e = c->end;
      c->start = c->scan = c->end;
      if ((rc = corpus__emit(c, b, e, rec, err))) return rc;
      continue;
    }
    if ((rc = corpus__room(c, err))) return rc;
    if ((rc = corpus__fill(c, &added, err))) return rc;
    if (!added) c->eof = 1;
  }
}

/* ---- .txt files ---- */

static int corpus__next_txt(corpus_t *c, corpus_rec_t *rec, err_t *err) {
  if (c->next_file == c->nfiles) return 0;
  const char *rel = c->files[c->next_file++];
  free(c->file_path);
  if (!(c->file_path = corpus__join(c->path, rel)))
    return corpus__fail(c, err, ERR_NOMEM, "out of memory listing %s", c->path);
  rec->file = c->file_path;
  rec->relpath = rel;
  rec->line = 0;
  int fd = open(c->file_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return corpus__fail(c, err, ERR_IO, "%s: %s", c->file_path, strerror(errno));
  size_t len = 0;
  int too_long = 0;
  for (;;) {
    if (c->txt_cap - len < CORPUS_MIN_READ + 1 && !too_long) {
      size_t limit = c->max_record + CORPUS_MIN_READ + 2; /* len <= max_record here */
      size_t cap = c->txt_cap ? c->txt_cap * 2 : 4 * CORPUS_MIN_READ;
      if (cap > limit) cap = limit;
      char *p = realloc(c->txt, cap);
      if (!p) {
        close(fd);
        return corpus__fail(c, err, ERR_NOMEM, "out of memory reading %s", c->file_path);
      }
      c->txt = p;
      c->txt_cap = cap;
    }
    ssize_t r = corpus__read(fd, c->txt + len, c->txt_cap - len - 1);
    if (r < 0) {
      int e = errno;
      close(fd);
      return corpus__fail(c, err, ERR_IO, "%s: read error: %s", c->file_path, strerror(e));
    }
    if (r == 0) break;
    len += (size_t)r;
    if (len > c->max_record) { /* keep reading to the end, holding nothing */
      too_long = 1;
      len = 0;
    }
  }
  close(fd);
  if (too_long) {
    err_set(err, ERR_TOO_LONG, 0, "file longer than %zu bytes, skipped", c->max_record);
    return ERR_TOO_LONG;
  }
  c->txt[len] = '\0';
  rec->data = c->txt;
  rec->len = len;
  return 1;
}

/* ---- public ---- */

int corpus_open(const char *path, size_t max_record, corpus_t **out, err_t *err) {
  int rc;
  *out = NULL;
  corpus_t *c = calloc(1, sizeof *c);
  if (!c) return err_set(err, ERR_NOMEM, 0, NULL);
  c->fd = -1;
  c->max_record = max_record ? max_record : CORPUS_DEFAULT_MAX;
  if (!(c->path = strdup(path))) goto nomem;

  int is_stdin = strcmp(path, "-") == 0;
  struct stat st;
  if (!is_stdin) {
    if (stat(path, &st) != 0) {
      rc = err_set(err, ERR_IO, 0, "%s: %s", path, strerror(errno));
      goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
      corpus__list_t l = {0};
      if ((rc = corpus__walk(path, "", &l, err))) {
        for (size_t i = 0; i < l.n; i++) free(l.v[i]);
        free(l.v);
        goto fail;
      }
      if (l.n) qsort(l.v, l.n, sizeof *l.v, corpus__cmp);
      c->is_dir = 1;
      c->files = l.v;
      c->nfiles = l.n;
      *out = c;
      return 0;
    }
    c->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (c->fd < 0) {
      rc = err_set(err, ERR_IO, 0, "%s: %s", path, strerror(errno));
      goto fail;
    }
    c->own_fd = 1;
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(c->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  } else {
    c->fd = STDIN_FILENO;
  }

  /* A small regular file gets buffers its size; the line buffer still grows
   * when its lines (or its decompressed text) need it. */
  size_t chunk = CORPUS_CHUNK;
  if (fstat(c->fd, &st) == 0 && S_ISREG(st.st_mode)) c->total = (uint64_t)st.st_size;
  if (c->total && c->total < chunk) chunk = (size_t)c->total + 64;
  c->cap = chunk + CORPUS_MIN_READ;
  if (!(c->buf = malloc(c->cap))) goto nomem;
  /* The first bytes decide between plain and zstd. */
  while (c->end < 4) {
    ssize_t r = corpus__read(c->fd, c->buf + c->end, chunk - c->end);
    if (r < 0) {
      rc = err_set(err, ERR_IO, 0, "%s: read error: %s", path, strerror(errno));
      goto fail;
    }
    c->done += (uint64_t)r;
    if (r == 0) {
      c->eof = 1;
      break;
    }
    c->end += (size_t)r;
  }
  int zstd = c->end >= 4 && memcmp(c->buf, "\x28\xB5\x2F\xFD", 4) == 0;
  size_t plen = strlen(path);
  if (!zstd && plen >= 4 && strcmp(path + plen - 4, ".zst") == 0) {
    rc = err_set(err, ERR_BAD_INPUT, 0,
                 "%s: named .zst but not zstd-compressed (no zstd magic number)", path);
    goto fail;
  }
  if (zstd) {
    c->zin_cap = chunk;
    if (!(c->zin = malloc(c->zin_cap)) || !(c->zds = ZSTD_createDStream())) goto nomem;
    memcpy(c->zin, c->buf, c->end);
    c->zib.src = c->zin;
    c->zib.size = c->end;
    c->zib.pos = 0;
    c->raw_eof = c->eof;
    c->eof = 0;
    c->zlast = 1;
    c->end = 0;
  }
  *out = c;
  return 0;

nomem:
  rc = err_set(err, ERR_NOMEM, 0, NULL);
fail:
  corpus_free(c);
  return rc;
}

int corpus_next(corpus_t *c, corpus_rec_t *rec, err_t *err) {
  memset(rec, 0, sizeof *rec);
  rec->file = c->path;
  if (c->fail.code) {
    err_set(err, c->fail.code, 0, "%s", c->fail.msg);
    return c->fail.code;
  }
  return c->is_dir ? corpus__next_txt(c, rec, err) : corpus__next_line(c, rec, err);
}

void corpus_free(corpus_t *c) {
  if (!c) return;
  if (c->own_fd && c->fd >= 0) close(c->fd);
  ZSTD_freeDStream(c->zds);
  free(c->zin);
  free(c->buf);
  for (size_t i = 0; i < c->nfiles; i++) free(c->files[i]);
  free(c->files);
  free(c->file_path);
  free(c->txt);
  free(c->path);
  free(c);
}

void corpus_progress(const corpus_t *c, uint64_t *done, uint64_t *total) {
  *done = c->is_dir ? c->next_file : c->done;
  *total = c->is_dir ? c->nfiles : c->total;
}
