/* utf8.h: the one UTF-8 decoder of the library, and the validator built on
 * it.  Strict RFC 3629: no overlong forms, no surrogates (U+D800..U+DFFF),
 * nothing above U+10FFFF, no truncated sequence at the end of the input.
 *
 * Callers: tok.c decodes every non-ASCII character of every word with
 * utf8_decode() (hence inline here); buf.c's JSON writer and repair, doc.c,
 * proto.c, hreq.c and idx.c check outside text with utf8_valid();
 * sift-query's key reader and sift-gen's calibration (bench/gen_calib.c)
 * decode with it.  Pure functions on borrowed bytes: thread-safe, nothing
 * allocated.
 */
#ifndef SIFT_UTF8_H
#define SIFT_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The character at s[0..n) (n >= 1): its length 1..4 with its code point in
 * *cp, or 0 when s[0] does not start a valid sequence (*cp untouched). */
static inline size_t utf8_decode(const unsigned char *s, size_t n, int32_t *cp) {
  unsigned c = s[0];
  if (c < 0x80) {
    *cp = (int32_t)c;
    return 1;
  }
  if (c < 0xC2) return 0; /* continuation byte or overlong 2-byte lead */
  if (c < 0xE0) {
    if (n < 2 || (s[1] & 0xC0) != 0x80) return 0;
    *cp = (int32_t)(((c & 0x1F) << 6) | (s[1] & 0x3F));
    return 2;
  }
  if (c < 0xF0) { /* E0: no overlong form; ED: no surrogate */
    unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    if (n < 3 || s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80) return 0;
    *cp = (int32_t)(((c & 0x0F) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3F));
    return 3;
  }
  if (c < 0xF5) { /* F0: no overlong form; F4: nothing past U+10FFFF */
    unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    if (n < 4 || s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
    *cp = (int32_t)(((c & 0x07) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) |
                    (s[3] & 0x3F));
    return 4;
  }
  return 0;
}

/* Length of the valid UTF-8 sequence at s[0..n) (1..4), or 0 if invalid. */
static inline size_t utf8_seq_len(const unsigned char *s, size_t n) {
  int32_t cp;
  return utf8_decode(s, n, &cp);
}

/* Whether all of s[0..n) is valid UTF-8. */
int utf8_valid(const char *s, size_t n);

#endif
