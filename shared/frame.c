/* frame.c: see frame.h. */
#include "frame.h"

#include <stdlib.h>
#include <string.h>

#define FRAME_INITIAL 16384
#define FRAME_MIN_FREE 4096 /* compact or grow below this much room */

void frame_init(frame_t *f, size_t max_line) {
  memset(f, 0, sizeof *f);
  f->max_line = max_line;
}

void frame_release(frame_t *f) {
  free(f->buf);
  frame_init(f, f->max_line);
}

static size_t frame_limit(const frame_t *f) { return f->max_line + 2; /* a line, "\r\n" */ }

char *frame_room(frame_t *f, size_t *room) {
  if (f->start == f->end) f->start = f->end = f->scan = 0;
  if (f->cap - f->end < FRAME_MIN_FREE && f->start > 0) {
    memmove(f->buf, f->buf + f->start, f->end - f->start);
    f->end -= f->start;
    f->scan -= f->start;
    f->start = 0;
  }
  size_t limit = frame_limit(f);
  if (f->cap - f->end < FRAME_MIN_FREE && f->cap < limit) {
    size_t cap = f->cap ? f->cap * 2 : FRAME_INITIAL;
    if (cap > limit || cap < f->cap) cap = limit;
    char *p = realloc(f->buf, cap);
    if (p) {
      f->buf = p;
      f->cap = cap;
    }
  }
  *room = f->cap - f->end;
  return *room ? f->buf + f->end : NULL;
}

void frame_wrote(frame_t *f, size_t n) { f->end += n; }

size_t frame_pending(const frame_t *f) { return f->end - f->start; }

int frame_full(const frame_t *f) { return frame_pending(f) >= frame_limit(f); }

frame_rc_t frame_next(frame_t *f, int at_eof, const char **line, size_t *len) {
  if (f->start == f->end) {
    if (f->cap > FRAME_INITIAL) frame_release(f); /* grown for a long line: give it back */
    f->start = f->end = f->scan = 0;
    return FRAME_MORE;
  }
  char *start = f->buf + f->start;
  char *nl = f->end > f->scan ? memchr(f->buf + f->scan, '\n', f->end - f->scan) : NULL;
  size_t n, used;
  if (nl) {
    n = (size_t)(nl - start);
    used = n + 1;
  } else {
    f->scan = f->end;
    n = used = f->end - f->start;
    if (n > f->max_line + 1) return FRAME_TOO_LONG; /* even if a '\r' ends it */
    if (!at_eof) return FRAME_MORE;
  }
  if (n && start[n - 1] == '\r') n--;
  if (n > f->max_line) return FRAME_TOO_LONG;
  f->start += used;
  f->scan = f->start;
  *line = start;
  *len = n;
  return FRAME_LINE;
}
