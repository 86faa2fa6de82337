/* fuzz_tok.c: libFuzzer target for shared/tok.c.  Tokenizes arbitrary bytes
 * and aborts on any broken invariant:
 *   - every word's [start,end) lies in the input, ranges strictly increase;
 *   - norm is non-empty, NUL-terminated at norm_len, at most TOK_MAX_WORD
 *     bytes, valid UTF-8, and equals utf8proc_map() of the word (with U+2019
 *     written ') cut at the last whole character within TOK_MAX_WORD;
 *   - the split agrees with an independent reading of the rules through
 *     utf8proc_iterate(): words hold only letters, numbers, marks and
 *     apostrophes between letters, are maximal, and no letter or number is
 *     left between words;
 *   - tok_key() stays within cap, writes only whole characters, and equals
 *     the words' concatenation cut at cap;
 *   - every word's stem (English, and a language picked by the input)
 *     matches plain libstemmer, so the stem cache is checked too;
 *   - with runs (tok_iter_init_runs), the words are the same, and each
 *     closed form follows 2..TOK_MAX_RUN words joined by one hyphen between
 *     letters, spans them, and is their norms joined; tok_stem_word of
 *     every word and closed form is a bounded, valid UTF-8 stem.
 * Built as a libFuzzer binary with SIFT_FUZZ, and linked with replay.c to
 * replay tests/fuzz/corpus/tok/ as an ordinary test. */
#include <libstemmer.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tok.h"

#define CHECK(cond) \
  do { \
    if (!(cond)) abort(); \
  } while (0)

#define OPTS \
  (UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK | UTF8PROC_COMPOSE)

enum { C_INVALID, C_LETTER, C_NUMBER, C_MARK, C_APOS, C_OTHER };

/* Decode at s[i..n): class, length in *k (1 for an invalid byte). */
static int char_at(const uint8_t *s, size_t n, size_t i, size_t *k) {
  utf8proc_int32_t cp = -1;
  utf8proc_ssize_t r = utf8proc_iterate(s + i, (utf8proc_ssize_t)(n - i), &cp);
  if (r <= 0 || cp < 0) {
    *k = 1;
    return C_INVALID;
  }
  *k = (size_t)r;
  if (cp == 0x27 || cp == 0x2019) return C_APOS;
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return C_LETTER;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return C_NUMBER;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
      return C_MARK;
    default:
      return C_OTHER;
  }
}

static int is_word_class(int c) { return c == C_LETTER || c == C_NUMBER || c == C_MARK; }

static int utf8_valid(const char *s, size_t n) {
  size_t k;
  for (size_t i = 0; i < n; i += k)
    if (char_at((const uint8_t *)s, n, i, &k) == C_INVALID) return 0;
  return 1;
}

/* Last whole-character cut of s[0..n) within max bytes. */
static size_t cut(const char *s, size_t n, size_t max) {
  if (n <= max) return n;
  while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
  return max;
}

/* The gap s[from,to) between words (from == 0: no word before; to == n:
 * none after) holds no letter or number, and marks only in runs of their
 * own (skipped words), never touching a word. */
static void check_gap(const uint8_t *s, size_t n, size_t from, size_t to, int word_before,
                      int word_after) {
  size_t k;
  for (size_t i = from; i < to; i += k) {
    int c = char_at(s, n, i, &k);
    CHECK(c != C_LETTER && c != C_NUMBER);
    if (c == C_MARK) CHECK(!(word_before && i == from) && !(word_after && i + k == to));
  }
}

/* Check that the word [start,end) is made and bounded as the rules say. */
static void check_split(const uint8_t *s, size_t n, size_t start, size_t end) {
  size_t k;
  /* The word. */
  int last_base = C_INVALID; /* class of the last non-mark character */
  size_t i;
  for (i = start; i < end; i += k) {
    int c = char_at(s, n, i, &k);
    if (c == C_APOS) {
      size_t k2;
      CHECK(last_base == C_LETTER);
      CHECK(i + k < end && char_at(s, n, i + k, &k2) == C_LETTER);
    } else {
      CHECK(is_word_class(c));
    }
    if (c != C_MARK) last_base = c;
  }
  CHECK(i == end);
  /* Maximal: what follows cannot continue it. */
  if (end < n) {
    int c = char_at(s, n, end, &k);
    CHECK(!is_word_class(c));
    if (c == C_APOS && last_base == C_LETTER && end + k < n) {
      size_t k2;
      CHECK(char_at(s, n, end + k, &k2) != C_LETTER);
    }
  }
}

/* The normalization of s[start,end) by utf8proc_map(), U+2019 as ' and
 * U+0345 (a mark that folds to a letter) as U+03B9, as tok.c folds it. */
static void check_norm(const uint8_t *s, size_t start, size_t end, const tok_word_t *w) {
  size_t len = end - start;
  uint8_t *raw = malloc(len + 1), *m = NULL;
  CHECK(raw);
  size_t r = 0;
  for (size_t i = start; i < end;) {
    if (i + 3 <= end && memcmp(s + i, "\xe2\x80\x99", 3) == 0) {
      raw[r++] = '\'';
      i += 3;
    } else if (i + 2 <= end && memcmp(s + i, "\xcd\x85", 2) == 0) {
      raw[r++] = 0xce; /* U+03B9, also two bytes */
      raw[r++] = 0xb9;
      i += 2;
    } else {
      raw[r++] = s[i++];
    }
  }
  utf8proc_ssize_t ml = utf8proc_map(raw, (utf8proc_ssize_t)r, &m, OPTS);
  CHECK(ml > 0 && m);
  size_t want = cut((const char *)m, (size_t)ml, TOK_MAX_WORD);
  CHECK(w->norm_len == want);
  CHECK(memcmp(w->norm, m, want) == 0);
  free(m);
  free(raw);
}

static struct sb_stemmer *ref_sb[64];
static tok_stemmer_t *tok_st[64];

/* Both stemmers of a slot, made together: a slot with ours and not the
 * reference would hand check_stem a NULL reference. */
static void open_stemmers(int slot, const char *algorithm) {
  if (!tok_st[slot]) CHECK(tok_stemmer_new(algorithm, &tok_st[slot]) == 0);
  if (!ref_sb[slot]) {
    ref_sb[slot] = sb_stemmer_new(tok_stemmer_name(tok_st[slot]), "UTF_8");
    CHECK(ref_sb[slot]);
  }
}

static void check_stem(int slot, const char *algorithm, const tok_word_t *w) {
  open_stemmers(slot, algorithm);
  size_t got_len = 0;
  const char *got = tok_stem(tok_st[slot], w->norm, w->norm_len, &got_len);
  CHECK(got);
  const sb_symbol *want =
      sb_stemmer_stem(ref_sb[slot], (const sb_symbol *)w->norm, (int)w->norm_len);
  int want_len = sb_stemmer_length(ref_sb[slot]);
  if (want && want_len > 0) {
    CHECK(got_len == (size_t)want_len);
    CHECK(memcmp(got, want, got_len) == 0);
  } else {
    CHECK(got == w->norm && got_len == w->norm_len);
  }
}

static int is_hyphen_at(const uint8_t *s, size_t n, size_t i, size_t *k) {
  utf8proc_int32_t cp = -1;
  utf8proc_ssize_t r = utf8proc_iterate(s + i, (utf8proc_ssize_t)(n - i), &cp);
  *k = r > 0 ? (size_t)r : 1;
  return cp == '-' || cp == 0xAD || cp == 0x2010 || cp == 0x2011;
}

/* The last non-mark character of s[a..b) is a letter. */
static int ends_in_letter(const uint8_t *s, size_t a, size_t b) {
  int last = C_OTHER;
  for (size_t i = a, k; i < b; i += k) {
    int c = char_at(s, b, i, &k);
    if (c != C_MARK) last = c;
  }
  return last == C_LETTER;
}

typedef struct plain {
  size_t start, end, off, len;
} plain_t;

/* The runs pass against the plain words (their norms concatenated). */
static void check_runs(const uint8_t *data, size_t size, const plain_t *pw, size_t npw,
                       const char *concat, int lang) {
  tok_iter_t it;
  tok_word_t w;
  size_t i = 0;
  tok_iter_init_runs(&it, (const char *)data, size);
  while (tok_next(&it, &w)) {
    CHECK(w.norm_len > 0 && w.norm_len <= TOK_MAX_WORD && w.norm[w.norm_len] == '\0');
    if (w.closed) {
      CHECK(w.closed >= 2 && w.closed <= TOK_MAX_RUN && w.closed <= i);
      const plain_t *f = &pw[i - w.closed], *l = &pw[i - 1];
      CHECK(w.start == f->start && w.end == l->end);
      CHECK(w.norm_len == l->off + l->len - f->off);
      CHECK(memcmp(w.norm, concat + f->off, w.norm_len) == 0);
      for (const plain_t *q = f; q < l; q++) {
        size_t k, k2;
        CHECK(is_hyphen_at(data, size, q->end, &k) && q->end + k == q[1].start);
        CHECK(ends_in_letter(data, q->start, q->end));
        CHECK(char_at(data, size, q[1].start, &k2) == C_LETTER);
      }
    } else {
      CHECK(i < npw && w.start == pw[i].start && w.end == pw[i].end && w.norm_len == pw[i].len);
      CHECK(memcmp(w.norm, concat + pw[i].off, w.norm_len) == 0);
      i++;
    }
    if (lang >= 0) {
      size_t sl = 0;
      const char *st = tok_stem_word(tok_st[lang], w.norm, w.norm_len, (const char *)data + w.start,
                                     w.end - w.start, &sl);
      CHECK(st && sl > 0 && sl <= TOK_MAX_WORD + 8 && utf8_valid(st, sl));
    }
  }
  CHECK(i == npw);
}

static void check_key(const char *s, size_t n, const char *concat, size_t concat_len, size_t cap) {
  char *out = malloc(cap + 16);
  CHECK(out);
  memset(out, 0xA5, cap + 16);
  size_t k = tok_key(s, n, out, cap);
  CHECK(k < cap && out[k] == '\0');
  for (size_t i = cap; i < cap + 16; i++) CHECK((unsigned char)out[i] == 0xA5);
  CHECK(k == cut(concat, concat_len, cap - 1));
  CHECK(memcmp(out, concat, k) == 0);
  CHECK(utf8_valid(out, k));
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  const char **langs = sb_stemmer_list();
  int nlangs = 0;
  while (nlangs < 63 && langs[nlangs]) nlangs++;
  int lang = size && nlangs ? data[0] % nlangs : -1;

  size_t concat_cap = 64, concat_len = 0;
  char *concat = malloc(concat_cap);
  CHECK(concat);

  tok_iter_t it;
  tok_word_t w;
  size_t prev_end = 0;
  int words = 0;
  size_t pw_cap = 16;
  plain_t *pw = malloc(pw_cap * sizeof *pw);
  CHECK(pw);
  tok_iter_init(&it, s, size);
  while (tok_next(&it, &w)) {
    CHECK(w.start >= prev_end && w.start < w.end && w.end <= size);
    CHECK(w.norm == it.norm);
    CHECK(w.norm_len > 0 && w.norm_len <= TOK_MAX_WORD);
    CHECK(w.norm[w.norm_len] == '\0' && strlen(w.norm) == w.norm_len);
    CHECK(utf8_valid(w.norm, w.norm_len));
    check_gap(data, size, prev_end, w.start, words > 0, 1);
    check_split(data, size, w.start, w.end);
    check_norm(data, w.start, w.end, &w);
    check_stem(63, "english", &w);
    if (lang >= 0) check_stem(lang, langs[lang], &w);
    if (concat_len + w.norm_len > concat_cap) {
      concat_cap = 2 * (concat_len + w.norm_len);
      char *grown = realloc(concat, concat_cap);
      CHECK(grown);
      concat = grown;
    }
    if ((size_t)words == pw_cap) {
      pw_cap *= 2;
      plain_t *grown = realloc(pw, pw_cap * sizeof *pw);
      CHECK(grown);
      pw = grown;
    }
    pw[words] = (plain_t){w.start, w.end, concat_len, w.norm_len};
    memcpy(concat + concat_len, w.norm, w.norm_len);
    concat_len += w.norm_len;
    prev_end = w.end;
    words++;
  }
  CHECK(it.pos == size);
  CHECK(tok_next(&it, &w) == 0); /* stays at the end */
  check_gap(data, size, prev_end, size, words > 0, 0);

  check_key(s, size, concat, concat_len, 1);
  check_key(s, size, concat, concat_len, size ? 1 + data[size - 1] : 7);
  check_key(s, size, concat, concat_len, concat_len + 1);
  if (lang >= 0) open_stemmers(lang, langs[lang]);
  check_runs(data, size, pw, (size_t)words, concat, lang);
  free(pw);
  free(concat);
  return 0;
}
