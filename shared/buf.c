/* buf.c: see buf.h. */
#include "buf.h"

#include "bytes8.h"
#include "err.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf_t *b, size_t max) {
  memset(b, 0, sizeof *b);
  b->max = max;
}

void buf_fini(buf_t *b) {
  if (!b) return;
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

void buf_reset(buf_t *b) {
  b->len = 0;
  b->err = 0;
  if (b->data) b->data[0] = '\0';
}

int buf_reserve(buf_t *b, size_t extra) {
  if (b->err) return b->err;
  if (extra > SIZE_MAX - b->len - 1) return b->err = ERR_NOMEM;
  size_t need = b->len + extra + 1;
  if (b->max && need > b->max + 1) return b->err = ERR_TOO_LONG;
  if (need <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  if (b->max && cap > b->max + 1) cap = b->max + 1;
  char *p = realloc(b->data, cap);
  if (!p) return b->err = ERR_NOMEM;
  b->data = p;
  b->cap = cap;
  return 0;
}

int buf_append(buf_t *b, const void *p, size_t n) {
  if (buf_reserve(b, n)) return b->err;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int buf_puts(buf_t *b, const char *s) { return buf_append(b, s, strlen(s)); }

int buf_putc(buf_t *b, char c) { return buf_append(b, &c, 1); }

int buf_printf(buf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return b->err = ERR_INTERNAL;
  if (buf_reserve(b, (size_t)n)) return b->err;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}

/* A value follows a value or a key's colon: insert ',' when the last byte
 * ended a value (anything but an opening brace, ",", ":" or the "\n" that
 * ends a previous response line). */
static void json_sep(buf_t *b) {
  if (b->len == 0) return;
  char c = b->data[b->len - 1];
  if (c != '{' && c != '[' && c != ',' && c != ':' && c != '\n') buf_putc(b, ',');
}

void buf_json_open(buf_t *b, char brace) {
  json_sep(b);
  buf_putc(b, brace);
}

void buf_json_close(buf_t *b, char brace) { buf_putc(b, brace); }

void buf_json_key(buf_t *b, const char *key) {
  json_sep(b);
  size_t n = strlen(key);
  char k[40]; /* a key needing no escapes, as ours are: one append */
  if (n <= sizeof k - 3) {
    size_t i = 0;
    while (i < n && key[i] != '"' && key[i] != '\\' && (unsigned char)key[i] >= 0x20 &&
           (unsigned char)key[i] < 0x80)
      i++;
    if (i == n) {
      k[0] = '"';
      memcpy(k + 1, key, n);
      k[n + 1] = '"';
      k[n + 2] = ':';
      buf_append(b, k, n + 3);
      return;
    }
  }
  buf_putc(b, '"');
  buf_json_escape(b, key, n);
  buf_append(b, "\":", 2);
}

static const char utf8_replacement[] = "\xEF\xBF\xBD";

int utf8_repair(buf_t *b, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s, *end = p + n, *run = p;
  while (p < end) {
    if (*p < 0x80) {
      p++;
      continue;
    }
    size_t k = utf8_seq_len(p, (size_t)(end - p));
    if (k) {
      p += k;
      continue;
    }
    buf_append(b, run, (size_t)(p - run));
    buf_append(b, utf8_replacement, 3);
    run = ++p;
  }
  return buf_append(b, run, (size_t)(p - run));
}

/* Whether none of the 8 bytes at p needs escaping or checking: none is a
 * control byte, '"', '\\' or non-ASCII (snippets and titles are mostly
 * such bytes). */
static int json_plain8(const unsigned char *p) {
  uint64_t x = bytes8_load(p);
  return !(bytes8_below(x, 0x20) | bytes8_eq(x, '"') | bytes8_eq(x, '\\') | bytes8_high(x));
}

void buf_json_escape(buf_t *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s, *end = p + n, *run = p;
  while (p < end) {
    while (end - p >= 8 && json_plain8(p)) p += 8;
    if (p == end) break;
    unsigned c = *p;
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      p++;
      continue;
    }
    if (c >= 0x80) {
      size_t k = utf8_seq_len(p, (size_t)(end - p));
      if (k) {
        p += k;
        continue;
      }
    }
    buf_append(b, run, (size_t)(p - run));
    switch (c) {
      case '"':
        buf_append(b, "\\\"", 2);
        break;
      case '\\':
        buf_append(b, "\\\\", 2);
        break;
      case '\n':
        buf_append(b, "\\n", 2);
        break;
      case '\r':
        buf_append(b, "\\r", 2);
        break;
      case '\t':
        buf_append(b, "\\t", 2);
        break;
      default:
        if (c < 0x20) {
          char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
          buf_append(b, u, 6);
        } else {
          buf_append(b, utf8_replacement, 3);
        }
    }
    run = ++p;
  }
  buf_append(b, run, (size_t)(p - run));
}

void buf_json_str(buf_t *b, const char *s, size_t n) {
  json_sep(b);
  buf_putc(b, '"');
  buf_json_escape(b, s, n);
  buf_putc(b, '"');
}

void buf_json_cstr(buf_t *b, const char *s) {
  if (!s) {
    buf_json_null(b);
    return;
  }
  buf_json_str(b, s, strlen(s));
}

size_t buf_fmt_uint(char *out, uint64_t v) {
  char d[20], *p = d + sizeof d;
  do *--p = (char)('0' + v % 10);
  while (v /= 10);
  memcpy(out, p, (size_t)(d + sizeof d - p));
  return (size_t)(d + sizeof d - p);
}

void buf_json_int(buf_t *b, int64_t v) {
  /* By hand: TIMELINE writes four numbers for each of thousands of days,
   * and printf was a fifth of its time. */
  char d[24];
  size_t n = v < 0 ? 1 : 0;
  d[0] = '-';
  n += buf_fmt_uint(d + n, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
  json_sep(b);
  buf_append(b, d, n);
}

/* "%.6g" of v at out, by hand for 1e-4 <= |v| < 1e6 (where scores lie), where
 * it is fixed notation; 0 (not written) for any other v, or when v lies
 * so near the midpoint between two 6-digit values that the product below
 * might round the wrong way.  printf cost a hit's score 1.9k
 * instructions (callgrind), this 0.26k with the separator and append.
 *
 * v * 10^k (10^k exact: k <= 9) is v's 6 significant digits as an integer
 * plus a fraction, computed within half an ulp (2^-33 below 2^20): only a
 * fraction within 1e-6 of one half could round otherwise than printf's
 * exact decimal expansion, and those are left to printf. */
static size_t json_g6(char *out, double v) {
  static const double low[] = {1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5};
  static const double scale[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
  size_t n = 0;
  if (v < 0) {
    out[n++] = '-';
    v = -v;
  }
  if (!(v >= 1e-4 && v < 1e6)) return 0; /* NaN fails too */
  int x = 5;                             /* the decimal exponent: 10^x <= v < 10^(x+1) */
  while (x > -4 && v < low[x + 4]) x--;
  double s = v * scale[5 - x];
  if (s < 1e5 || s >= 1e6) return 0;
  uint32_t m = (uint32_t)s;
  double frac = s - m;
  if (frac > 0.5 - 1e-6 && frac < 0.5 + 1e-6) return 0;
  if (frac > 0.5 && ++m == 1000000) { /* 9.999996 is 10.0000 */
    m = 100000;
    if (++x == 6) return 0; /* 1e+06: exponent notation */
  }
  char d[6];
  for (int i = 5; i >= 0; i--, m /= 10) d[i] = (char)('0' + m % 10);
  int last = 5; /* trailing zeros after the point go */
  while (last > x && last > 0 && d[last] == '0') last--;
  if (x < 0) {
    out[n++] = '0';
    out[n++] = '.';
    for (int i = -1; i > x; i--) out[n++] = '0';
    for (int i = 0; i <= last; i++) out[n++] = d[i];
    return n;
  }
  for (int i = 0; i <= x; i++) out[n++] = d[i];
  if (last > x) {
    out[n++] = '.';
    for (int i = x + 1; i <= last; i++) out[n++] = d[i];
  }
  return n;
}

void buf_json_double(buf_t *b, double v) {
  json_sep(b);
  if (v != v || v > 1e300 || v < -1e300) v = 0; /* JSON has no NaN/inf */
  char d[32]; /* "%.6g" of such a number: at most 13 bytes; one formatting, not buf_printf's two */
  size_t n = json_g6(d, v);
  if (!n) {
    int k = snprintf(d, sizeof d, "%.6g", v);
    n = k > 0 ? (size_t)k : 0;
  }
  buf_append(b, d, n);
}

void buf_json_bool(buf_t *b, int v) {
  json_sep(b);
  buf_puts(b, v ? "true" : "false");
}

void buf_json_null(buf_t *b) {
  json_sep(b);
  buf_puts(b, "null");
}
