/* frame.h: cutting a byte stream into request lines.
 *
 * The line protocol's framing, apart from any socket so it can be fuzzed and
 * tested alone: bytes are read into the framer's buffer (frame_room, then
 * frame_wrote), and frame_next cuts complete lines from it.  A line ends at
 * '\n'; one '\r' before it is dropped.  A line longer than max_line bytes
 * (without its "\r\n") is FRAME_TOO_LONG, whether or not its end has arrived,
 * so the buffer never holds more than max_line + 2 bytes.  At the end of
 * input an unterminated rest is still a line.
 *
 * A line arriving byte by byte is scanned once: buf[start..scan) is known to
 * hold no '\n'.  Framing advances start; bytes move to the front only when
 * the room at the end runs short, and a buffer grown for a long line is given
 * back once it is empty.
 *
 * Ownership: the framer owns its buffer; a line returned by frame_next points
 * into it and stays valid until the next call on the framer.  Not
 * thread-safe: one framer per connection.
 */
#ifndef SIFT_FRAME_H
#define SIFT_FRAME_H

#include <stddef.h>

typedef struct frame {
  char *buf;
  size_t cap, start, end, scan;
  size_t max_line; /* longest line accepted, "\r\n" not counted */
} frame_t;

typedef enum frame_rc {
  FRAME_MORE,     /* no complete line: read more (or the input is over) */
  FRAME_LINE,     /* *line, *len: a line, "\r\n" removed */
  FRAME_TOO_LONG, /* a line over max_line: the stream can't be framed on */
} frame_rc_t;

void frame_init(frame_t *f, size_t max_line);
/* Frees the buffer; the framer is as after frame_init. */
void frame_release(frame_t *f);
/* Room to read into, at least some bytes unless the buffer is at its limit
 * (max_line + 2) or memory ran out: then *room is 0 and NULL is returned. */
char *frame_room(frame_t *f, size_t *room);
/* n bytes were written at what frame_room returned. */
void frame_wrote(frame_t *f, size_t n);
/* The next line; at_eof: no more input will come, so a rest without '\n'
 * is a line too. */
frame_rc_t frame_next(frame_t *f, int at_eof, const char **line, size_t *len);
/* Bytes held and not yet framed. */
size_t frame_pending(const frame_t *f);
/* 1 if the buffer is full to its limit (reading must wait for framing). */
int frame_full(const frame_t *f);

#endif
