/* bytes8.h: eight bytes at a time, for the scans that look for a few byte
 * values in text that mostly has none of them: JSON escaping (buf.c), the
 * snippet's escaping and its search for candidate word starts (snip.c).
 * Byte by byte each cost about 6 instructions; a word of 8 costs about as
 * much as one byte.
 *
 * Each test gives a mask with the high bit set in the lowest (first in
 * memory on a little-endian machine) byte that meets it, and perhaps in
 * bytes above that one (a borrow runs upwards), never in a byte below: so
 * "is there one" is exact, and so is "where is the first" on little-endian
 * machines (bytes8_first).  Header-only so the loops inline it.
 */
#ifndef SIFT_BYTES8_H
#define SIFT_BYTES8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define BYTES8_ONES 0x0101010101010101ull
#define BYTES8_HIGH 0x8080808080808080ull

/* The 8 bytes at p (which need no alignment). */
static inline uint64_t bytes8_load(const void *p) {
  uint64_t x;
  memcpy(&x, p, 8);
  return x;
}

/* Zero bytes of v. */
static inline uint64_t bytes8_zero(uint64_t v) { return (v - BYTES8_ONES) & ~v & BYTES8_HIGH; }

/* Bytes of x equal to c (a loop over several c may keep BYTES8_ONES * c
 * and call bytes8_zero(x ^ it)). */
static inline uint64_t bytes8_eq(uint64_t x, unsigned char c) {
  return bytes8_zero(x ^ (BYTES8_ONES * c));
}

/* Bytes of x below n (n at most 0x80; bytes of 0x80 and up never are). */
static inline uint64_t bytes8_below(uint64_t x, unsigned char n) {
  return (x - BYTES8_ONES * n) & ~x & BYTES8_HIGH;
}

/* Bytes of x of 0x80 and up (non-ASCII). */
static inline uint64_t bytes8_high(uint64_t x) { return x & BYTES8_HIGH; }

/* How many bytes come before the first marked one (mask not 0).  Only a
 * little-endian machine's lowest byte is the first in memory, and exact
 * (BYTES8_FIRST); elsewhere 0: look from the first byte. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define BYTES8_FIRST 1
static inline size_t bytes8_first(uint64_t mask) { return (size_t)__builtin_ctzll(mask) / 8; }
#else
static inline size_t bytes8_first(uint64_t mask) { return (void)mask, 0; }
#endif

#endif
