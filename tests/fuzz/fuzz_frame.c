/* fuzz_frame.c: the daemon's line framing (frame.h) against a plain split.
 *
 * The first byte picks max_line (1..256), the next bytes the sizes of the
 * reads the stream arrives in; the rest is the stream.  Whatever the read
 * sizes, the framer must yield exactly the lines a one-shot split gives
 * ("\r\n" or "\n" ends a line, an unterminated rest is a line at the end),
 * and report FRAME_TOO_LONG exactly where the first over-long line is, never
 * holding more than max_line + 2 bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

/* The reference: the n-th line of s (from *pos), or -1 when the stream is
 * over, -2 when the line is too long. */
static long ref_next(const char *s, size_t size, size_t *pos, size_t max_line, const char **line) {
  if (*pos >= size) return -1;
  const char *p = s + *pos;
  const char *nl = memchr(p, '\n', size - *pos);
  size_t n = nl ? (size_t)(nl - p) : size - *pos;
  *pos += n + (nl ? 1 : 0);
  if (n && p[n - 1] == '\r') n--;
  if (n > max_line) return -2;
  *line = p;
  return (long)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  size_t max_line = (size_t)data[0] + 1;
  size_t nsizes = data[1] % 16;
  if (size < 2 + nsizes) return 0;
  const uint8_t *sizes = data + 2;
  const char *s = (const char *)data + 2 + nsizes;
  size_t n = size - 2 - nsizes, fed = 0, ref_pos = 0, k = 0;
  frame_t f;
  frame_init(&f, max_line);
  for (;;) {
    int eof = fed == n;
    const char *line;
    size_t len;
    frame_rc_t rc = frame_next(&f, eof, &line, &len);
    if (frame_pending(&f) > max_line + 2) abort();
    if (rc == FRAME_MORE) {
      if (eof) {
        const char *rl;
        if (ref_next(s, n, &ref_pos, max_line, &rl) != -1) abort(); /* lost a line */
        break;
      }
      size_t room;
      char *p = frame_room(&f, &room);
      if (!p || !room) {
        /* Full without a line: only possible past max_line, which
         * frame_next reports before asking for more. */
        abort();
      }
      size_t want = nsizes ? (size_t)sizes[k++ % nsizes] + 1 : n - fed;
      if (want > room) want = room;
      if (want > n - fed) want = n - fed;
      memcpy(p, s + fed, want);
      frame_wrote(&f, want);
      fed += want;
      continue;
    }
    const char *rl = NULL;
    long rn = ref_next(s, n, &ref_pos, max_line, &rl);
    if (rc == FRAME_TOO_LONG) {
      /* The reference must also find an over-long line here, unless the
       * framer saw it early: max_line + 2 bytes without '\n' yet. */
      if (rn != -2) abort();
      break;
    }
    if (rn < 0 || (size_t)rn != len || memcmp(rl, line, len) != 0) abort();
  }
  frame_release(&f);
  return 0;
}
