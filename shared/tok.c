/* tok.c: the word rules of SPEC.md "Words" (see tok.h) and the Snowball
 * stemmer wrapper.  The indexer calls tok_next() over every title and body,
 * the query parser over every query word, and the filters call tok_key(), so
 * index and query always split and normalize text the same way.
 *
 * How a word is found.  Characters are read one UTF-8 sequence at a time
 * with utf8.h's strict decoder (no overlong forms, no surrogates, nothing
 * above U+10FFFF); a byte that does not start a valid sequence is a
 * separator of its own and scanning resumes at the next byte.  A word character is a
 * letter (L*), digit (N*) or mark (M*) by utf8proc's category table.  An
 * apostrophe (U+0027 or U+2019) stays in the word when the last non-mark
 * character before it is a letter and the character after it is a letter:
 * marks belong to the letter they follow, so `é's` splits the same way
 * whether the é is one code point (NFC) or e + U+0301 (NFD).  Everything
 * else separates words, so `90's` is `90` `s` and `'quoted'` is `quoted`.
 *
 * How a word is normalized.  The result equals utf8proc_map() of the word
 * (apostrophes written U+0027) with UTF8PROC_STABLE | COMPAT | CASEFOLD |
 * STRIPMARK | COMPOSE, cut at the last whole character within TOK_MAX_WORD
 * bytes.  Two paths produce it without any allocation:
 *   - ASCII: while the word holds only ASCII letters, digits and
 *     apostrophes, each byte is classified and lowercased with one table
 *     lookup and written straight into the iterator's buffer.  This is
 *     nearly all of English news text, U+2019 included.
 *   - wide: at the first non-ASCII word character the bytes so far move to
 *     a stack buffer of code points, each further character goes through
 *     utf8proc_decompose_char(), and utf8proc_reencode() composes (Hangul
 *     jamo are the one composition left once marks are stripped) and writes
 *     UTF-8 back.  Only the first TOK_WIDE_LIMIT decomposed code points are
 *     kept: a composition joins at most three code points into one, so
 *     that is always more than TOK_MAX_WORD bytes of output and the cut
 *     falls where it would on the whole word.
 * The input range of a word always covers the whole run, however much of
 * its normalized form was cut.
 *
 * Invariants of every word returned: start < end <= len, words strictly
 * increasing and non-overlapping, 0 < norm_len <= TOK_MAX_WORD, norm is
 * valid UTF-8 and NUL-terminated.  No global mutable state.
 */
#include "tok.h"

#include <libstemmer.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "err.h"
#include "hash.h"
#include "utf8.h"

#define TOK_FOLD_OPTS (UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE)
#define TOK_OPTS (TOK_FOLD_OPTS | UTF8PROC_STRIPMARK)
#define TOK_WIDE_LIMIT ((size_t)4 * TOK_MAX_WORD) /* decomposed code points kept */
#define TOK_WIDE_CAP (TOK_WIDE_LIMIT + 64)        /* + the longest decomposition (18) */

enum tok_class { TOK_SEP, TOK_LETTER, TOK_NUMBER, TOK_MARK, TOK_APOS };

/* ASCII letters and digits to their lowercase form; 0 for every other byte.
 * A nonzero entry >= 'a' is a letter. */
/* clang-format off */
static const unsigned char tok_ascii[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 0, 0, 0, 0, 0, 0,
    0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0, 0, 0, 0, 0,
    0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* clang-format on */

/* utf8proc general category (UTF8PROC_CATEGORY_*, 0..29) to our class. */
static const unsigned char tok_category_class[30] = {
    [UTF8PROC_CATEGORY_LU] = TOK_LETTER, [UTF8PROC_CATEGORY_LL] = TOK_LETTER,
    [UTF8PROC_CATEGORY_LT] = TOK_LETTER, [UTF8PROC_CATEGORY_LM] = TOK_LETTER,
    [UTF8PROC_CATEGORY_LO] = TOK_LETTER, [UTF8PROC_CATEGORY_MN] = TOK_MARK,
    [UTF8PROC_CATEGORY_MC] = TOK_MARK,   [UTF8PROC_CATEGORY_ME] = TOK_MARK,
    [UTF8PROC_CATEGORY_ND] = TOK_NUMBER, [UTF8PROC_CATEGORY_NL] = TOK_NUMBER,
    [UTF8PROC_CATEGORY_NO] = TOK_NUMBER,
};

/* Class of the non-ASCII character at s[0..n) (n >= 1, s[0] >= 0x80), its
 * length in *clen (1 for an invalid byte) and code point in *cp. */
static inline int tok_wide_class(const unsigned char *s, size_t n, int32_t *cp, size_t *clen) {
  size_t k = utf8_decode(s, n, cp);
  if (k == 0) {
    *clen = 1;
    return TOK_SEP;
  }
  *clen = k;
  if (*cp == 0x2019) return TOK_APOS;
  return tok_category_class[utf8proc_get_property(*cp)->category];
}

/* Whether s[pos] starts a letter (pos may be len). */
static int tok_letter_at(const unsigned char *s, size_t len, size_t pos) {
  if (pos >= len) return 0;
  if (s[pos] < 0x80) return tok_ascii[s[pos]] >= 'a';
  int32_t cp;
  size_t clen;
  return tok_wide_class(s + pos, len - pos, &cp, &clen) == TOK_LETTER;
}

void tok_iter_init(tok_iter_t *it, const char *s, size_t len) {
  memset(it, 0, offsetof(tok_iter_t, norm));
  it->s = s;
  it->len = s ? len : 0;
  it->opts = TOK_OPTS;
  it->norm[0] = '\0';
}

void tok_iter_init_runs(tok_iter_t *it, const char *s, size_t len) {
  tok_iter_init(it, s, len);
  it->runs = 1;
}

/* Length of the hyphen at s[0..n) (tok.h lists them), or 0. */
static size_t tok_hyphen(const unsigned char *s, size_t n) {
  if (n >= 1 && s[0] == '-') return 1;
  if (n >= 2 && s[0] == 0xC2 && s[1] == 0xAD) return 2; /* U+00AD */
  if (n >= 3 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0x90 || s[2] == 0x91))
    return 3; /* U+2010/1 */
  return 0;
}

/* Compose and re-encode the wide buffer into norm, cut at the last whole
 * character within TOK_MAX_WORD bytes; returns the length. */
static size_t tok_wide_finish(utf8proc_int32_t *wbuf, size_t wn, char *norm, int opts) {
  utf8proc_ssize_t r = utf8proc_reencode(wbuf, (utf8proc_ssize_t)wn, (utf8proc_option_t)opts);
  if (r <= 0) return 0; /* cannot fail: every code point came from utf8proc */
  const unsigned char *u = (const unsigned char *)wbuf;
  size_t n = (size_t)r;
  if (n > TOK_MAX_WORD) {
    n = TOK_MAX_WORD;
    while (n > 0 && (u[n] & 0xC0) == 0x80) n--;
  }
  memcpy(norm, u, n);
  return n;
}

/* The next word by it->opts, without runs. */
static int tok_scan(tok_iter_t *it, tok_word_t *w) {
  const unsigned char *s = (const unsigned char *)it->s;
  size_t len = it->len, pos = it->pos;
  utf8proc_int32_t wbuf[TOK_WIDE_CAP];
  int32_t cp = 0;
  size_t clen = 1;
  int cls;

  for (;;) {
    /* Skip separators. */
    for (;;) {
      while (pos < len && s[pos] < 0x80 && !tok_ascii[s[pos]]) pos++;
      if (pos >= len) {
        it->pos = len;
        return 0;
      }
      if (s[pos] < 0x80) break;
      cls = tok_wide_class(s + pos, len - pos, &cp, &clen);
      if (cls == TOK_LETTER || cls == TOK_NUMBER || cls == TOK_MARK) break;
      pos += clen;
    }

    /* Scan the word, normalizing as we go: into it->norm while it is all
     * ASCII, into wbuf once it is not. */
    size_t start = pos, olen = 0, wn = 0;
    int wide = 0, full = 0, prev_letter = 0;
    char *out = it->norm;
    while (pos < len) {
      unsigned c = s[pos];
      if (c < 0x80) {
        unsigned char lc = tok_ascii[c];
        if (lc) {
          if (!full && !wide) {
            out[olen++] = (char)lc;
            full = olen == TOK_MAX_WORD;
          } else if (!full) {
            wbuf[wn++] = lc;
            full = wn >= TOK_WIDE_LIMIT;
          }
          prev_letter = lc >= 'a';
          pos++;
          continue;
        }
        if (c != '\'') break;
        cls = TOK_APOS;
        clen = 1;
      } else {
        cls = tok_wide_class(s + pos, len - pos, &cp, &clen);
        if (cls == TOK_SEP) break;
      }
      if (cls == TOK_APOS) {
        if (!prev_letter || !tok_letter_at(s, len, pos + clen)) break;
        if (!full && !wide) {
          out[olen++] = '\'';
          full = olen == TOK_MAX_WORD;
        } else if (!full) {
          wbuf[wn++] = '\'';
          full = wn >= TOK_WIDE_LIMIT;
        }
        prev_letter = 0; /* a letter follows */
        pos += clen;
        continue;
      }
      /* A non-ASCII letter, number or mark. */
      if (!full) {
        if (!wide) {
          for (size_t i = 0; i < olen; i++) wbuf[i] = (unsigned char)out[i];
          wn = olen;
          wide = 1;
        }
        int bound = 0;
        /* U+0345 COMBINING GREEK YPOGEGRAMMENI is the one mark whose case
         * fold is a letter (iota); utf8proc strips marks before folding, so
         * fold it first, as the precomposed forms (U+1FB3 -> alpha iota) are. */
        utf8proc_int32_t fold = cp == 0x0345 ? 0x03B9 : cp;
        utf8proc_ssize_t r = utf8proc_decompose_char(
            fold, wbuf + wn, (utf8proc_ssize_t)(TOK_WIDE_CAP - wn), it->opts, &bound);
        if (r > 0 && (size_t)r <= TOK_WIDE_CAP - wn) wn += (size_t)r;
        full = wn >= TOK_WIDE_LIMIT;
      }
      if (cls == TOK_LETTER) prev_letter = 1;
      else if (cls == TOK_NUMBER) prev_letter = 0; /* a mark keeps the class of what it follows */
      pos += clen;
    }

    if (wide) olen = tok_wide_finish(wbuf, wn, out, it->opts);
    out[olen] = '\0';
    if (olen == 0) continue; /* only marks: skipped */
    it->pos = pos;
    it->last_letter = prev_letter;
    w->norm = out;
    w->norm_len = olen;
    w->start = start;
    w->end = pos;
    w->closed = 0;
    return 1;
  }
}

/* Runs (tok_iter_init_runs): each word returned extends the run of the
 * words before it when the last one was joined to it, and the closed form
 * gathers in it->closed; when a word is not joined to the next, a run of
 * 2..TOK_MAX_RUN words whose closed form fits TOK_MAX_WORD is pending: the
 * next call returns it before scanning on. */
int tok_next(tok_iter_t *it, tok_word_t *w) {
  if (it->pending) {
    it->pending = 0;
    w->norm = it->closed;
    w->norm_len = it->closed_len;
    w->start = it->run_start;
    w->end = it->run_end;
    w->closed = it->run_words;
    return 1;
  }
  int joined = it->joins_next;
  it->joins_next = 0;
  if (!tok_scan(it, w)) return 0;
  if (!it->runs) return 1;
  if (!joined || w->start != it->run_end + it->hyphen_len) {
    it->run_words = 0;
    it->closed_len = 0;
    it->run_start = w->start;
  }
  if (it->run_words < TOK_MAX_RUN + 1 && it->closed_len + w->norm_len <= TOK_MAX_WORD) {
    memcpy(it->closed + it->closed_len, w->norm, w->norm_len);
    it->closed_len += w->norm_len;
    it->closed[it->closed_len] = '\0';
  } else {
    it->closed_len = TOK_MAX_WORD + 1; /* too long: no closed form */
  }
  it->run_words++;
  it->run_end = w->end;
  /* Joined to the next word: a hyphen between two letters. */
  const unsigned char *s = (const unsigned char *)it->s;
  size_t h = it->last_letter ? tok_hyphen(s + w->end, it->len - w->end) : 0;
  if (h && tok_letter_at(s, it->len, w->end + h)) {
    it->joins_next = 1;
    it->hyphen_len = h;
  } else if (it->run_words >= 2 && it->run_words <= TOK_MAX_RUN && it->closed_len <= TOK_MAX_WORD) {
    it->pending = 1;
  }
  return 1;
}

/* The words of s[0..len) normalized with opts, concatenated (tok_key). */
static size_t tok_concat(const char *s, size_t len, char *out, size_t cap, int opts) {
  if (!out || cap == 0) return 0;
  tok_iter_t it;
  tok_word_t w;
  size_t n = 0;
  tok_iter_init(&it, s, len);
  it.opts = opts;
  while (tok_scan(&it, &w)) {
    size_t k = w.norm_len, room = cap - 1 - n;
    if (k > room) {
      k = room;
      while (k > 0 && ((unsigned char)w.norm[k] & 0xC0) == 0x80) k--;
      memcpy(out + n, w.norm, k);
      n += k;
      break;
    }
    memcpy(out + n, w.norm, k);
    n += k;
  }
  out[n] = '\0';
  return n;
}

size_t tok_key(const char *s, size_t len, char *out, size_t cap) {
  return tok_concat(s, len, out, cap, TOK_OPTS);
}

size_t tok_fold(const char *s, size_t len, char *out, size_t cap) {
  return tok_concat(s, len, out, cap, TOK_FOLD_OPTS);
}

/* ---- Stemming ---- */

/* Snowball costs ~140 ns a word, while news text repeats its words, so a
 * stemmer that has stemmed TOK_STEM_WARMUP words gets a direct-mapped cache
 * of short words and their stems (~0.8 MB; Snowball is deterministic, so the
 * cache changes nothing but the speed; a stemmer made for one query never
 * pays for it).  A stem returned from the cache lives in its slot, which
 * only the next call on the same stemmer can overwrite, as tok.h allows.
 * Without memory for the cache, stemming just goes on uncached. */
#define TOK_STEM_SLOTS 16384 /* a power of two */
#define TOK_STEM_KEEP 24     /* longest word, and stem, cached (bytes) */
#define TOK_STEM_WARMUP 512

typedef struct tok_stem_slot {
  unsigned char wlen, slen; /* wlen 0: empty */
  char word[TOK_STEM_KEEP];
  char stem[TOK_STEM_KEEP + 1]; /* NUL-terminated */
} tok_stem_slot_t;

struct tok_stemmer {
  struct sb_stemmer *sb;
  const char *name;       /* static: from sb_stemmer_list() */
  int accents;            /* tok_stem_reads_accents() */
  tok_stem_slot_t *cache; /* TOK_STEM_SLOTS, or NULL */
  size_t calls;
  char fold[TOK_MAX_WORD + 8];  /* tok_stem_word: the word with its accents */
  char strip[TOK_MAX_WORD + 8]; /* and its stem without them */
};

/* ISO 639-1 code to Snowball algorithm. */
static const struct {
  char code[3];
  const char *algorithm;
} tok_langs[] = {
    {"ar", "arabic"},     {"ca", "catalan"},    {"da", "danish"},     {"de", "german"},
    {"el", "greek"},      {"en", "english"},    {"es", "spanish"},    {"eu", "basque"},
    {"fi", "finnish"},    {"fr", "french"},     {"ga", "irish"},      {"hi", "hindi"},
    {"hu", "hungarian"},  {"hy", "armenian"},   {"id", "indonesian"}, {"it", "italian"},
    {"lt", "lithuanian"}, {"nb", "norwegian"},  {"ne", "nepali"},     {"nl", "dutch"},
    {"no", "norwegian"},  {"pt", "portuguese"}, {"ro", "romanian"},   {"ru", "russian"},
    {"sr", "serbian"},    {"sv", "swedish"},    {"ta", "tamil"},      {"tr", "turkish"},
    {"yi", "yiddish"},
};

static int tok_ascii_lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* The entry of libstemmer's own list equal to name (ASCII case-insensitive,
 * name has n bytes), or NULL. */
static const char *tok_sb_lookup(const char *name, size_t n) {
  for (const char **l = sb_stemmer_list(); *l; l++) {
    size_t i = 0;
    while (i < n && (*l)[i] && tok_ascii_lower((unsigned char)name[i]) == (*l)[i]) i++;
    if (i == n && (*l)[i] == '\0') return *l;
  }
  return NULL;
}

const char *tok_lang_algorithm(const char *lang) {
  if (!lang || !*lang) return tok_sb_lookup("english", 7);
  size_t n = strlen(lang);
  /* A two-letter code, optionally with a region: "en", "pt-BR", "en_GB". */
  if (n == 2 || (n > 2 && (lang[2] == '-' || lang[2] == '_'))) {
    char code[3] = {(char)tok_ascii_lower((unsigned char)lang[0]),
                    (char)tok_ascii_lower((unsigned char)lang[1]), '\0'};
    for (size_t i = 0; i < sizeof tok_langs / sizeof tok_langs[0]; i++)
      if (memcmp(code, tok_langs[i].code, 3) == 0) {
        const char *a = tok_langs[i].algorithm;
        return tok_sb_lookup(a, strlen(a));
      }
    return NULL;
  }
  return tok_sb_lookup(lang, n);
}

int tok_stemmer_new(const char *lang, tok_stemmer_t **out) {
  if (!out) return ERR_INVAL;
  *out = NULL;
  const char *name = tok_lang_algorithm(lang);
  if (!name) return ERR_INVAL;
  tok_stemmer_t *st = calloc(1, sizeof *st);
  if (!st) return ERR_NOMEM;
  st->name = name;
  /* English (and its older Porter form) only knows ASCII letters: an
   * accented letter would stop a suffix rule, so it stems the word
   * without accents.  Every other Snowball algorithm is written for its
   * alphabet with the marks Sift strips (French é, Spanish ó, German ä,
   * Russian й, Greek tonos, Hindi vowel signs...). */
  st->accents = strcmp(name, "english") != 0 && strcmp(name, "porter") != 0;
  /* The algorithm is one libstemmer lists, so failure is out of memory. */
  st->sb = sb_stemmer_new(name, "UTF_8");
  if (!st->sb) {
    tok_stemmer_free(st);
    return ERR_NOMEM;
  }
  *out = st;
  return 0;
}

void tok_stemmer_free(tok_stemmer_t *st) {
  if (!st) return;
  if (st->sb) sb_stemmer_delete(st->sb);
  free(st->cache);
  free(st);
}

const char *tok_stemmer_name(const tok_stemmer_t *st) { return st ? st->name : NULL; }

int tok_stem_keeps_first(const tok_stemmer_t *st) {
  /* The algorithms whose Snowball descriptions (libstemmer 2.2) remove or
   * rewrite endings only.  Dutch is left out: newer Snowball versions strip
   * its "ge-" prefix. */
  static const char *const suffix_only[] = {
      "danish",    "english", "finnish",    "french",   "german",  "hungarian", "italian",
      "norwegian", "porter",  "portuguese", "romanian", "russian", "spanish",   "swedish",
  };
  if (!st) return 0;
  for (size_t i = 0; i < sizeof suffix_only / sizeof *suffix_only; i++)
    if (strcmp(st->name, suffix_only[i]) == 0) return 1;
  return 0;
}

const char *tok_stem(tok_stemmer_t *st, const char *word, size_t len, size_t *out_len) {
  const char *res = word;
  size_t n = len;
  tok_stem_slot_t *slot = NULL;
  const sb_symbol *r;
  int rl;
  if (!st || !word || len == 0 || len > INT_MAX) goto out;
  if (!st->cache && ++st->calls > TOK_STEM_WARMUP) {
    st->cache = calloc(TOK_STEM_SLOTS, sizeof *st->cache);
    if (!st->cache) st->calls = 0; /* try again after another warm-up */
  }
  if (st->cache && len <= TOK_STEM_KEEP) {
    uint32_t h = hash_fnv32(HASH_FNV32_START, word, len);
    slot = &st->cache[h & (TOK_STEM_SLOTS - 1)];
    if (slot->wlen == len && memcmp(slot->word, word, len) == 0) {
      res = slot->stem;
      n = slot->slen;
      goto out;
    }
  }
  r = sb_stemmer_stem(st->sb, (const sb_symbol *)word, (int)len);
  rl = sb_stemmer_length(st->sb);
  if (!r || rl <= 0) goto out; /* out of memory, or nothing left: the word */
  res = (const char *)r;
  n = (size_t)rl;
  if (slot && n <= TOK_STEM_KEEP) {
    slot->wlen = (unsigned char)len;
    slot->slen = (unsigned char)n;
    memcpy(slot->word, word, len);
    memcpy(slot->stem, res, n);
    slot->stem[n] = '\0';
  }
out:
  if (out_len) *out_len = n;
  return res;
}

int tok_stem_reads_accents(const tok_stemmer_t *st) { return st ? st->accents : 0; }

const char *tok_stem_word(tok_stemmer_t *st, const char *norm, size_t norm_len, const char *raw,
                          size_t raw_len, size_t *out_len) {
  size_t i = 0;
  if (st && st->accents && raw)
    while (i < raw_len && (unsigned char)raw[i] < 0x80) i++;
  if (!st || !st->accents || !raw || i == raw_len) /* ASCII: its fold is norm */
    return tok_stem(st, norm, norm_len, out_len);
  size_t fl = tok_fold(raw, raw_len, st->fold, sizeof st->fold);
  if (fl > TOK_MAX_WORD) { /* cut as a word is (tok.h) */
    fl = TOK_MAX_WORD;
    while (fl > 0 && ((unsigned char)st->fold[fl] & 0xC0) == 0x80) fl--;
  }
  size_t sl;
  const char *stem = tok_stem(st, st->fold, fl, &sl);
  for (i = 0; i < sl && (unsigned char)stem[i] < 0x80; i++) continue;
  if (i < sl) { /* strip its accents */
    size_t n = tok_key(stem, sl, st->strip, sizeof st->strip);
    if (n == 0) return tok_stem(st, norm, norm_len, out_len); /* nothing left of it */
    stem = st->strip;
    sl = n;
  }
  if (out_len) *out_len = sl;
  return stem;
}
