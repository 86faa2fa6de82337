/* test_tok.c: unit tests of shared/tok.c, the word rules of SPEC.md "Words"
 * (splitting, apostrophes, numbers, normalization, the length cut, invalid
 * UTF-8), tok_key(), and the Snowball stemmer wrapper. */
/* cmocka.h needs these first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <libstemmer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "err.h"
#include "tok.h"

/* The normalized words of s[0..len), joined by '|'. */
static const char *words_n(const char *s, size_t len) {
  static char buf[8192];
  size_t n = 0;
  tok_iter_t it;
  tok_word_t w;
  tok_iter_init(&it, s, len);
  buf[0] = '\0';
  while (tok_next(&it, &w)) {
    assert_true(n + w.norm_len + 2 < sizeof buf);
    if (n) buf[n++] = '|';
    memcpy(buf + n, w.norm, w.norm_len);
    n += w.norm_len;
    buf[n] = '\0';
  }
  return buf;
}

static const char *words(const char *s) { return words_n(s, strlen(s)); }

/* The only word of s (fails unless there is exactly one). */
static tok_word_t one_word(tok_iter_t *it, const char *s) {
  tok_word_t w, extra;
  tok_iter_init(it, s, strlen(s));
  assert_int_equal(tok_next(it, &w), 1);
  tok_iter_t copy = *it;
  assert_int_equal(tok_next(&copy, &extra), 0);
  return w;
}

static int utf8_valid(const char *s, size_t n) {
  utf8proc_int32_t cp;
  for (size_t i = 0; i < n;) {
    utf8proc_ssize_t k =
        utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
    if (k <= 0 || cp < 0) return 0;
    i += (size_t)k;
  }
  return 1;
}

/* ---- Splitting ---- */

static void test_tok_hyphen_separates_words(void **state) {
  (void)state;
  assert_string_equal(words("Al-Qassam"), "al|qassam");
  assert_string_equal(words("ground-invasion"), "ground|invasion");
}

static void test_tok_punctuation_and_space_separate(void **state) {
  (void)state;
  assert_string_equal(words("  Gaza,city.\tNorth\n(south)/east_west "),
                      "gaza|city|north|south|east|west");
  assert_string_equal(words("a\xe2\x80\x94"
                            "b\xe2\x80\x93"
                            "c\xe2\x80\xa6"
                            "d"),
                      "a|b|c|d"); /* dashes, ellipsis */
  assert_string_equal(words("\xe2\x80\x9cquoted\xe2\x80\x9d"), "quoted");
  assert_string_equal(words("a\xc2\xa0"
                            "b\xe3\x80\x80"
                            "c"),
                      "a|b|c"); /* NBSP, ideographic space */
}

static void test_tok_empty_and_separator_only_input_has_no_words(void **state) {
  (void)state;
  tok_iter_t it;
  tok_word_t w;
  tok_iter_init(&it, "", 0);
  assert_int_equal(tok_next(&it, &w), 0);
  assert_int_equal(tok_next(&it, &w), 0);
  tok_iter_init(&it, NULL, 0);
  assert_int_equal(tok_next(&it, &w), 0);
  assert_string_equal(words(" - ... ' \xe2\x80\x99 !?"), "");
}

static void test_tok_word_ranges_point_into_input(void **state) {
  (void)state;
  const char *s = "Hello, w\xc3\xb6rld! Israel\xe2\x80\x99s 42";
  tok_iter_t it;
  tok_word_t w;
  tok_iter_init(&it, s, strlen(s));
  assert_int_equal(tok_next(&it, &w), 1);
  assert_int_equal(w.start, 0);
  assert_int_equal(w.end, 5);
  assert_string_equal(w.norm, "hello");
  assert_int_equal(tok_next(&it, &w), 1);
  assert_int_equal(w.start, 7);
  assert_int_equal(w.end, 13); /* ö is two bytes */
  assert_string_equal(w.norm, "world");
  assert_int_equal(w.norm_len, 5);
  assert_int_equal(tok_next(&it, &w), 1);
  assert_int_equal(w.start, 15);
  assert_int_equal(w.end, 25); /* U+2019 is three bytes */
  assert_string_equal(w.norm, "israel's");
  assert_int_equal(tok_next(&it, &w), 1);
  assert_int_equal(w.start, 26);
  assert_int_equal(w.end, 28);
  assert_string_equal(w.norm, "42");
  assert_int_equal(tok_next(&it, &w), 0);
}

static void test_tok_input_need_not_be_nul_terminated(void **state) {
  (void)state;
  assert_string_equal(words_n("gaza hospital", 7), "gaza|ho");
  char raw[4] = {'a', 'b', 'c', 'd'}; /* no NUL anywhere */
  assert_string_equal(words_n(raw, sizeof raw), "abcd");
  /* A multibyte character cut by len is an invalid byte, not read past. */
  assert_string_equal(words_n("ab\xc3\xa9", 3), "ab");
}

/* ---- Apostrophes ---- */

static void test_tok_apostrophe_between_letters_stays(void **state) {
  (void)state;
  assert_string_equal(words("don't"), "don't");
  assert_string_equal(words("rock'n'roll O'Neill"), "rock'n'roll|o'neill");
}

static void test_tok_curly_apostrophe_becomes_ascii(void **state) {
  (void)state;
  assert_string_equal(words("Israel\xe2\x80\x99s"), "israel's");
  assert_string_equal(words("don\xe2\x80\x99t"), "don't");
  assert_string_equal(words("ISRAEL\xe2\x80\x99S"), "israel's");
}

static void test_tok_quotes_around_word_are_dropped(void **state) {
  (void)state;
  assert_string_equal(words("'quoted'"), "quoted");
  assert_string_equal(words("\xe2\x80\x98quoted\xe2\x80\x99"), "quoted");
  assert_string_equal(words("the dogs' bones"), "the|dogs|bones");
  assert_string_equal(words("end'"), "end");
}

static void test_tok_apostrophe_next_to_digit_separates(void **state) {
  (void)state;
  assert_string_equal(words("90's"), "90|s");
  assert_string_equal(words("a'9"), "a|9");
  assert_string_equal(words("rock 'n' roll"), "rock|n|roll");
}

static void test_tok_double_apostrophe_separates(void **state) {
  (void)state;
  assert_string_equal(words("don''t"), "don|t");
  assert_string_equal(words("don'\xe2\x80\x99t"), "don|t");
}

static void test_tok_other_quote_marks_separate(void **state) {
  (void)state;
  /* U+2018, U+0060, U+00B4 are not apostrophes. */
  assert_string_equal(words("don\xe2\x80\x98t"), "don|t");
  assert_string_equal(words("don`t"), "don|t");
  assert_string_equal(words("don\xc2\xb4t"), "don|t");
}

static void test_tok_apostrophe_after_accented_letter_stays_in_nfc_and_nfd(void **state) {
  (void)state;
  assert_string_equal(words("caf\xc3\xa9's"), "cafe's");  /* NFC é */
  assert_string_equal(words("cafe\xcc\x81's"), "cafe's"); /* e + U+0301 */
}

/* ---- Numbers ---- */

static void test_tok_numbers_split_at_separators(void **state) {
  (void)state;
  assert_string_equal(words("1,000"), "1|000");
  assert_string_equal(words("3.5"), "3|5");
  assert_string_equal(words("2023-11-02"), "2023|11|02");
  assert_string_equal(words("COVID19 3rd"), "covid19|3rd");
}

static void test_tok_other_digits_are_word_characters(void **state) {
  (void)state;
  assert_string_equal(words("\xd9\xa1\xd9\xa2\xd9\xa3"),
                      "\xd9\xa1\xd9\xa2\xd9\xa3");   /* Arabic-Indic 123 */
  assert_string_equal(words("\xe2\x85\xab"), "xii"); /* Roman numeral XII */
  assert_string_equal(words("x\xc2\xb2"), "x2");     /* superscript two */
}

/* ---- Normalization ---- */

static void test_tok_case_and_accents_fold(void **state) {
  (void)state;
  assert_string_equal(words("Zaytoun ZAYTOUN Zayt\xc3\xb3un"), "zaytoun|zaytoun|zaytoun");
  assert_string_equal(words("Zayto\xcc\x81un"), "zaytoun"); /* decomposed accent */
  assert_string_equal(words("\xc3\x89L\xc3\x88VE na\xc3\xafve"), "eleve|naive");
}

static void test_tok_compatibility_forms_fold(void **state) {
  (void)state;
  assert_string_equal(words("\xef\xac\x81nal"), "final"); /* ﬁ ligature */
  assert_string_equal(words("Stra\xc3\x9f"
                            "e"),
                      "strasse");                                            /* ß */
  assert_string_equal(words("\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3"), "abc"); /* fullwidth */
  assert_string_equal(words("\xc4\xb0stanbul"), "istanbul");                 /* dotted capital I */
}

static void test_tok_non_latin_letters_are_word_characters(void **state) {
  (void)state;
  assert_string_equal(words("\xd0\x9c\xd0\x9e\xd0\xa1\xd0\x9a\xd0\x92\xd0\x90"),
                      "\xd0\xbc\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0"); /* МОСКВА -> москва */
  assert_string_equal(words("\xce\x91\xce\x98\xce\x97\xce\x9d\xce\x91"),
                      "\xce\xb1\xce\xb8\xce\xb7\xce\xbd\xce\xb1"); /* ΑΘΗΝΑ -> αθηνα */
  assert_string_equal(words("\xd8\xba\xd8\xb2\xd8\xa9"), "\xd8\xba\xd8\xb2\xd8\xa9"); /* غزة */
  assert_string_equal(words("\xe6\x9d\xb1\xe4\xba\xac, \xed\x95\x9c\xea\xb5\xad"),
                      "\xe6\x9d\xb1\xe4\xba\xac|\xed\x95\x9c\xea\xb5\xad"); /* 東京, 한국 */
}

static void test_tok_arabic_diacritics_are_stripped(void **state) {
  (void)state;
  /* Muhammad written with damma, fatha and shadda equals the bare letters. */
  assert_string_equal(words("\xd9\x85\xd9\x8f\xd8\xad\xd9\x8e\xd9\x85\xd9\x91\xd9\x8e\xd8\xaf"),
                      "\xd9\x85\xd8\xad\xd9\x85\xd8\xaf");
}

static void test_tok_emoji_and_symbols_separate(void **state) {
  (void)state;
  assert_string_equal(words("peace\xf0\x9f\x95\x8a\xef\xb8\x8fnow"), "peace|now");
  assert_string_equal(words("\xf0\x9f\x98\x80"), "");
  assert_string_equal(words("AT&T $5 100%"), "at|t|5|100");
  assert_string_equal(words("a\xc2\xa9"
                            "b\xe2\x84\xa2"
                            "c"),
                      "a|b|c"); /* ©, ™ */
}

static void test_tok_lone_combining_mark_is_skipped(void **state) {
  (void)state;
  assert_string_equal(words("\xcc\x81"), "");
  assert_string_equal(words("a \xcc\x81\xcc\x82 b"), "a|b");
  /* A mark at the start of a word belongs to the word. */
  assert_string_equal(words("\xcc\x81"
                            "abc"),
                      "abc");
}

static void test_tok_invalid_utf8_bytes_separate(void **state) {
  (void)state;
  assert_string_equal(words("ab\xff"
                            "cd"),
                      "ab|cd");
  assert_string_equal(words("ab\x80"
                            "cd"),
                      "ab|cd"); /* stray continuation */
  assert_string_equal(words("ab\xc3"
                            "cd"),
                      "ab|cd"); /* truncated sequence */
  assert_string_equal(words("ab\xe2\x80"
                            "cd"),
                      "ab|cd"); /* truncated sequence */
  assert_string_equal(words("ab\xc0\xa1"
                            "cd"),
                      "ab|cd"); /* overlong '!' */
  assert_string_equal(words("ab\xe0\x80\x81"
                            "cd"),
                      "ab|cd"); /* overlong */
  assert_string_equal(words("ab\xed\xa0\x80"
                            "cd"),
                      "ab|cd"); /* surrogate D800 */
  assert_string_equal(words("ab\xf4\x90\x80\x80"
                            "cd"),
                      "ab|cd");                       /* above U+10FFFF */
  assert_string_equal(words("caf\xe9 ok"), "caf|ok"); /* Latin-1 é */
  /* The bytes after an invalid lead are read again on their own. */
  assert_string_equal(words("\xe2"
                            "\xd0\x96"),
                      "\xd0\xb6"); /* Ж after a bad lead */
}

static void test_tok_normalization_equals_utf8proc_map(void **state) {
  (void)state;
  static const char *samples[] = {
      "Zayt\xc3\xb3un",
      "Stra\xc3\x9f"
      "e",
      "\xef\xac\x81"
      "nal",
      "\xe1\x84\x80\xe1\x85\xa1",
      "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4",
      "\xc7\x85"
      "ubrovnik",
      "\xe2\x84\xaa"
      "elvin",
      "\xe1\xba\x9e",
      "\xef\xb7\xba",
      "\xc2\xbd",
      "\xd0\x81\xd0\xbb\xd0\xba\xd0\xb0",
      "\xce\x8c\xce\xbc\xce\xb7\xcf\x81\xce\xbf\xcf\x82",
      "\xe2\x85\xa8",
      "Ma\xc3\xb1"
      "ana",
  };
  for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
    const char *s = samples[i];
    tok_iter_t it;
    tok_word_t w = one_word(&it, s);
    utf8proc_uint8_t *m = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)strlen(s), &m,
                                      UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
                                          UTF8PROC_STRIPMARK | UTF8PROC_COMPOSE);
    assert_true(n > 0);
    assert_int_equal(w.norm_len, (size_t)n);
    assert_memory_equal(w.norm, m, (size_t)n);
    free(m);
  }
}

/* ---- Hyphenated runs and their closed forms (tok_iter_init_runs) ---- */

/* The words of s with runs, closed forms written "+form/k". */
static const char *run_words(const char *s) {
  static char buf[4096];
  size_t n = 0;
  tok_iter_t it;
  tok_word_t w;
  tok_iter_init_runs(&it, s, strlen(s));
  buf[0] = '\0';
  while (tok_next(&it, &w)) {
    char one[512];
    if (w.closed) {
      /* the closed form spans its run exactly */
      assert_true(w.start < w.end && w.end <= strlen(s));
      snprintf(one, sizeof one, "+%.*s/%u", (int)w.norm_len, w.norm, w.closed);
    } else {
      snprintf(one, sizeof one, "%.*s", (int)w.norm_len, w.norm);
    }
    n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", n ? "|" : "", one);
    assert_true(n < sizeof buf);
  }
  return buf;
}

static void test_tok_hyphenated_words_have_their_closed_form(void **state) {
  (void)state;
  assert_string_equal(run_words("the cease-fire held"), "the|cease|fire|+ceasefire/2|held");
  assert_string_equal(run_words("Mother-in-Law."), "mother|in|law|+motherinlaw/3");
  assert_string_equal(run_words("Al-Qassam's"), "al|qassam's|+alqassam's/2");
  /* U+2010 HYPHEN, U+2011 NON-BREAKING HYPHEN, U+00AD SOFT HYPHEN */
  assert_string_equal(run_words("cease\xe2\x80\x90"
                                "fire"),
                      "cease|fire|+ceasefire/2");
  assert_string_equal(run_words("cease\xe2\x80\x91"
                                "fire"),
                      "cease|fire|+ceasefire/2");
  assert_string_equal(run_words("co\xc2\xad"
                                "operate"),
                      "co|operate|+cooperate/2");
  /* an accent on the letter before the hyphen, precomposed or not */
  assert_string_equal(run_words("caf\xc3\xa9-bar"), "cafe|bar|+cafebar/2");
  assert_string_equal(run_words("cafe\xcc\x81-bar"), "cafe|bar|+cafebar/2");
  /* the closed form's range is the run's */
  tok_iter_t it;
  tok_word_t w;
  const char *s = "a cease-fire";
  tok_iter_init_runs(&it, s, strlen(s));
  while (tok_next(&it, &w) && !w.closed) continue;
  assert_int_equal(w.closed, 2);
  assert_int_equal(w.start, 2);
  assert_int_equal(w.end, strlen(s));
}

static void test_tok_digits_dashes_and_spaces_do_not_join(void **state) {
  (void)state;
  assert_string_equal(run_words("2023-11-02"), "2023|11|02");
  assert_string_equal(run_words("covid-19 F-16 19-year"), "covid|19|f|16|19|year");
  assert_string_equal(run_words("cease--fire cease - fire cease-"), "cease|fire|cease|fire|cease");
  assert_string_equal(run_words("London\xe2\x80\x93Paris"), "london|paris"); /* en dash */
  assert_string_equal(run_words("war\xe2\x80\x94peace"), "war|peace");       /* em dash */
  assert_string_equal(run_words("U.S.-led"), "u|s|led");
  /* a run longer than TOK_MAX_RUN words has no closed form */
  assert_string_equal(run_words("a-b-c-d"), "a|b|c|d|+abcd/4");
  assert_string_equal(run_words("a-b-c-d-e"), "a|b|c|d|e");
  /* a closed form longer than TOK_MAX_WORD bytes neither */
  char longw[2 * TOK_MAX_WORD];
  memset(longw, 'x', 150);
  longw[150] = '-';
  memset(longw + 151, 'y', 60);
  longw[211] = '\0';
  tok_iter_t it;
  tok_word_t w;
  tok_iter_init_runs(&it, longw, strlen(longw));
  int n = 0;
  while (tok_next(&it, &w)) {
    assert_int_equal(w.closed, 0);
    n++;
  }
  assert_int_equal(n, 2);
  /* without runs, no closed forms */
  assert_string_equal(words("cease-fire"), "cease|fire");
}

static void test_tok_fold_keeps_accents(void **state) {
  (void)state;
  char out[TOK_MAX_WORD + 8];
  assert_int_equal(tok_fold("Negociaci\xc3\xb3n", 13, out, sizeof out), 12);
  assert_string_equal(out, "negociaci\xc3\xb3n");
  /* decomposed spelling: composed as NFC */
  tok_fold("NEGOCIACIO\xcc\x81N", 14, out, sizeof out);
  assert_string_equal(out, "negociaci\xc3\xb3n");
  /* several words are concatenated (a closed form's text) */
  tok_fold("Ca\xc3\xa9-Bar", 8, out, sizeof out);
  assert_string_equal(out,
                      "ca\xc3\xa9"
                      "bar");
  /* the same as utf8proc_map without STRIPMARK, word by word */
  static const char *samples[] = {"Zayt\xc3\xb3un", "\xd0\xbd\xd0\xbe\xd0\xb2\xd1\x8b\xd0\xb9",
                                  "\xce\x8c\xce\xbc\xce\xb7\xcf\x81\xce\xbf\xcf\x82",
                                  "Stra\xc3\x9f"
                                  "e",
                                  "\xef\xac\x81"
                                  "nal"};
  for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
    utf8proc_uint8_t *m = NULL;
    utf8proc_ssize_t n =
        utf8proc_map((const utf8proc_uint8_t *)samples[i], (utf8proc_ssize_t)strlen(samples[i]), &m,
                     UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE);
    assert_true(n > 0);
    assert_int_equal(tok_fold(samples[i], strlen(samples[i]), out, sizeof out), (size_t)n);
    assert_memory_equal(out, m, (size_t)n);
    free(m);
  }
}

/* The stem tok_stem_word gives word (normalized by tok_next) in lang. */
static const char *stem_of(const char *lang, const char *word) {
  static char buf[TOK_MAX_WORD + 8];
  tok_stemmer_t *st = NULL;
  assert_int_equal(tok_stemmer_new(lang, &st), 0);
  tok_iter_t it;
  tok_word_t w = one_word(&it, word);
  size_t n;
  const char *r = tok_stem_word(st, w.norm, w.norm_len, word, strlen(word), &n);
  snprintf(buf, sizeof buf, "%.*s", (int)n, r);
  tok_stemmer_free(st);
  return buf;
}

static void test_tok_stem_word_reads_accents_except_in_english(void **state) {
  (void)state;
  /* Expected stems: Snowball's own (python3-snowballstemmer), accents
   * stripped afterwards; the old rule (stem of the accent-free word) gave
   * negociacion, negocie / negoc, negociaca, новы. */
  assert_string_equal(stem_of("es", "negociaciones"), "negoci");
  assert_string_equal(stem_of("es", "Negociaci\xc3\xb3n"), "negoci");
  assert_string_equal(stem_of("es", "negociacio\xcc\x81n"), "negoci"); /* decomposed */
  assert_string_equal(stem_of("fr",
                              "n\xc3\xa9goci\xc3\xa9"
                              "e"),
                      "negoci");
  assert_string_equal(stem_of("fr", "n\xc3\xa9goci\xc3\xa9"), "negoci");
  assert_string_equal(stem_of("fr",
                              "r\xc3\xa9"
                              "fugi\xc3\xa9s"),
                      "refugi");
  assert_string_equal(stem_of("pt",
                              "negocia\xc3\xa7\xc3\xb5"
                              "es"),
                      "negoc");
  assert_string_equal(stem_of("pt", "negocia\xc3\xa7\xc3\xa3o"), "negoc");
  assert_string_equal(stem_of("ru", "\xd0\xbd\xd0\xbe\xd0\xb2\xd1\x8b\xd0\xb9"),
                      "\xd0\xbd\xd0\xbe\xd0\xb2");
  /* English stems the word without accents: naïve is naive */
  assert_string_equal(stem_of("en", "na\xc3\xafve"), stem_of("en", "naive"));
  tok_stemmer_t *st = NULL;
  assert_int_equal(tok_stemmer_new("en", &st), 0);
  assert_false(tok_stem_reads_accents(st));
  tok_stemmer_free(st);
  assert_int_equal(tok_stemmer_new("porter", &st), 0);
  assert_false(tok_stem_reads_accents(st));
  tok_stemmer_free(st);
  assert_int_equal(tok_stemmer_new("es", &st), 0);
  assert_true(tok_stem_reads_accents(st));
  /* ASCII text: the stem of the normalized word, as tok_stem gives it */
  size_t a, b;
  const char *x = tok_stem_word(st, "casas", 5, "CASAS", 5, &a);
  char keep[64];
  snprintf(keep, sizeof keep, "%.*s", (int)a, x);
  const char *y = tok_stem(st, "casas", 5, &b);
  assert_int_equal(a, b);
  assert_memory_equal(keep, y, b);
  /* a closed form: the run's text, hyphen and all */
  x = tok_stem_word(st, "negociacionesdificiles", 22,
                    "negociaciones-dif\xc3\xad"
                    "ciles",
                    25, &a);
  assert_true(a > 0 && a <= TOK_MAX_WORD);
  for (size_t i = 0; i < a; i++) assert_true((unsigned char)x[i] < 0x80); /* stripped */
  tok_stemmer_free(st);
}


/* ---- The length cut ---- */

static void test_tok_long_ascii_word_is_cut_at_limit(void **state) {
  (void)state;
  char s[TOK_MAX_WORD + 52];
  memset(s, 'A', sizeof s);
  tok_iter_t it;
  tok_word_t w;
  tok_iter_init(&it, s, sizeof s);
  assert_int_equal(tok_next(&it, &w), 1);
  assert_int_equal(w.norm_len, TOK_MAX_WORD);
  assert_int_equal(strlen(w.norm), TOK_MAX_WORD);
  for (size_t i = 0; i < w.norm_len; i++) assert_int_equal(w.norm[i], 'a');
  assert_int_equal(w.start, 0);
  assert_int_equal(w.end, sizeof s); /* the range covers the whole run */
  assert_int_equal(tok_next(&it, &w), 0);
}

static void test_tok_word_of_exactly_the_limit_is_kept_whole(void **state) {
  (void)state;
  char s[TOK_MAX_WORD + 3];
  memset(s, 'b', TOK_MAX_WORD);
  memcpy(s + TOK_MAX_WORD, " c", 3);
  assert_int_equal(strlen(words(s)), TOK_MAX_WORD + 2);
}

static void test_tok_long_multibyte_word_is_cut_at_whole_character(void **state) {
  (void)state;
  /* 'a' then 100 x U+6771 (3 bytes each): 1 + 3*66 = 199 bytes fit. */
  char s[1 + 300 + 1];
  s[0] = 'a';
  for (size_t i = 0; i < 100; i++) memcpy(s + 1 + 3 * i, "\xe6\x9d\xb1", 3);
  s[301] = '\0';
  tok_iter_t it;
  tok_word_t w = one_word(&it, s);
  assert_int_equal(w.norm_len, 199);
  assert_true(utf8_valid(w.norm, w.norm_len));
  assert_int_equal(w.end, 301);
  /* Same cut when the word is reached through accents that fold away. */
  char t[2 * 150 + 1];
  for (size_t i = 0; i < 150; i++) memcpy(t + 2 * i, "\xc3\xa9", 2); /* é */
  t[300] = '\0';
  w = one_word(&it, t);
  assert_int_equal(w.norm_len, 150); /* 150 x 'e' */
}

static void test_tok_cut_is_same_for_every_spelling_of_a_long_word(void **state) {
  (void)state;
  /* 300 letters, once ASCII and once with an accent near the end: the
   * accent is beyond the cut, so both give the same 200 bytes. */
  char a[301], b[302], na[TOK_MAX_WORD + 1];
  memset(a, 'x', 300);
  a[300] = '\0';
  memset(b, 'x', 299);
  memcpy(b + 299, "\xc3\xa9", 3);
  tok_iter_t it;
  tok_word_t w = one_word(&it, a);
  memcpy(na, w.norm, w.norm_len + 1);
  w = one_word(&it, b);
  assert_string_equal(w.norm, na);
}

static void test_tok_very_long_run_is_one_word(void **state) {
  (void)state;
  size_t n = 1 << 20;
  char *s = malloc(n);
  assert_non_null(s);
  for (size_t i = 0; i < n; i += 2) { /* Ж */
    s[i] = '\xd0';
    s[i + 1] = '\x96';
  }
  tok_iter_t it;
  tok_word_t w;
  tok_iter_init(&it, s, n);
  assert_int_equal(tok_next(&it, &w), 1);
  assert_int_equal(w.norm_len, TOK_MAX_WORD);
  assert_true(utf8_valid(w.norm, w.norm_len));
  assert_int_equal(w.end, n);
  assert_int_equal(tok_next(&it, &w), 0);
  free(s);
}

/* ---- tok_key ---- */

static void test_tok_key_concatenates_words(void **state) {
  (void)state;
  char k[64];
  assert_int_equal(tok_key("Al Jazeera", 10, k, sizeof k), 9);
  assert_string_equal(k, "aljazeera");
  tok_key("al-jazeera", 10, k, sizeof k);
  assert_string_equal(k, "aljazeera");
  tok_key("ALJAZEERA", 9, k, sizeof k);
  assert_string_equal(k, "aljazeera");
  tok_key("Le Monde Diplomatique", 21, k, sizeof k);
  assert_string_equal(k, "lemondediplomatique");
  assert_int_equal(tok_key(" -- ", 4, k, sizeof k), 0);
  assert_string_equal(k, "");
}

static void test_tok_key_is_bounded_by_cap(void **state) {
  (void)state;
  char k[8];
  memset(k, '#', sizeof k);
  assert_int_equal(tok_key("abc def ghi", 11, k, 5), 4);
  assert_string_equal(k, "abcd");
  assert_int_equal(k[5], '#');
  /* Never half a character: ж is two bytes. */
  assert_int_equal(tok_key("ab\xd0\xb6\xd0\xb6", 6, k, 4), 2);
  assert_string_equal(k, "ab");
  assert_int_equal(tok_key("abc", 3, k, 1), 0);
  assert_string_equal(k, "");
  assert_int_equal(tok_key("abc", 3, NULL, 0), 0);
}

/* ---- Stemming ---- */

static const char *stem(tok_stemmer_t *st, const char *w) {
  static char buf[256];
  size_t n = 0;
  const char *r = tok_stem(st, w, strlen(w), &n);
  assert_true(n < sizeof buf);
  memcpy(buf, r, n);
  buf[n] = '\0';
  return buf;
}

static void test_tok_stem_english(void **state) {
  (void)state;
  tok_stemmer_t *st = NULL;
  assert_int_equal(tok_stemmer_new("en", &st), 0);
  assert_string_equal(tok_stemmer_name(st), "english");
  assert_string_equal(stem(st, "hospitals"), "hospit");
  assert_string_equal(stem(st, "hospital"), "hospit");
  assert_string_equal(stem(st, "israel's"), "israel");
  assert_string_equal(stem(st, "running"), "run");
  tok_stemmer_free(st);
}

static void test_tok_stem_of_nothing_is_the_word(void **state) {
  (void)state;
  tok_stemmer_t *st = NULL;
  assert_int_equal(tok_stemmer_new(NULL, &st), 0);
  size_t n = 99;
  const char *w = "x";
  assert_ptr_equal(tok_stem(st, w, 0, &n), w);
  assert_int_equal(n, 0);
  assert_ptr_equal(tok_stem(NULL, w, 1, &n), w);
  assert_int_equal(n, 1);
  tok_stemmer_free(st);
}

static void test_tok_stemmer_accepts_codes_and_algorithm_names(void **state) {
  (void)state;
  static const struct {
    const char *lang, *name;
  } cases[] = {
      {NULL, "english"},    {"", "english"},         {"en", "english"},      {"EN", "english"},
      {"en-GB", "english"}, {"pt_BR", "portuguese"}, {"english", "english"}, {"English", "english"},
      {"porter", "porter"}, {"fr", "french"},        {"de", "german"},       {"no", "norwegian"},
      {"nb", "norwegian"},  {"ar", "arabic"},        {"ru", "russian"},      {"el", "greek"},
      {"FRENCH", "french"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tok_stemmer_t *st = NULL;
    assert_string_equal(tok_lang_algorithm(cases[i].lang), cases[i].name);
    assert_int_equal(tok_stemmer_new(cases[i].lang, &st), 0);
    assert_non_null(st);
    assert_string_equal(tok_stemmer_name(st), cases[i].name);
    tok_stemmer_free(st);
  }
}

static void test_tok_every_mapped_code_names_a_libstemmer_algorithm(void **state) {
  (void)state;
  static const char *codes[] = {"en", "fr", "de", "es", "it", "pt", "nl", "sv", "no", "nb",
                                "da", "fi", "ru", "hu", "ro", "tr", "ar", "el", "hi", "id",
                                "ga", "lt", "ne", "sr", "ta", "hy", "eu", "ca", "yi"};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    const char *a = tok_lang_algorithm(codes[i]);
    assert_non_null(a);
    struct sb_stemmer *sb = sb_stemmer_new(a, "UTF_8");
    assert_non_null(sb);
    sb_stemmer_delete(sb);
  }
  /* And every algorithm libstemmer has is accepted by its own name. */
  for (const char **l = sb_stemmer_list(); *l; l++) assert_string_equal(tok_lang_algorithm(*l), *l);
}

static void test_tok_stemmer_rejects_unknown_language(void **state) {
  (void)state;
  static const char *bad[] = {"xx", "klingon", "e", "zh", "ja", "englishx", "zz-ZZ", "UTF_8"};
  static char sentinel;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tok_stemmer_t *st = (tok_stemmer_t *)(void *)&sentinel;
    assert_null(tok_lang_algorithm(bad[i]));
    assert_int_equal(tok_stemmer_new(bad[i], &st), ERR_INVAL);
    assert_null(st);
  }
  assert_int_equal(tok_stemmer_new("en", NULL), ERR_INVAL);
  tok_stemmer_free(NULL);
}

static void test_tok_stem_cache_agrees_with_snowball(void **state) {
  (void)state;
  /* Enough calls to switch the cache on, with repeats so it is hit, and
   * colliding words that evict each other. */
  tok_stemmer_t *st = NULL;
  assert_int_equal(tok_stemmer_new("english", &st), 0);
  struct sb_stemmer *sb = sb_stemmer_new("english", "UTF_8");
  assert_non_null(sb);
  static const char *base[] = {"hospital",  "running",   "nations",  "generously", "israel's",
                               "ceasefire", "crossings", "reported", "happily"};
  char w[64];
  for (int round = 0; round < 3; round++)
    for (int i = 0; i < 3000; i++) {
      snprintf(w, sizeof w, "%s%c%c", base[i % 9], 'a' + (i / 9) % 26, 'a' + (i / 234) % 26);
      size_t n = strlen(i % 5 ? w : base[i % 9]);
      const char *word = i % 5 ? w : base[i % 9];
      size_t got_len;
      const char *got = tok_stem(st, word, n, &got_len);
      const sb_symbol *want = sb_stemmer_stem(sb, (const sb_symbol *)word, (int)n);
      assert_int_equal(got_len, (size_t)sb_stemmer_length(sb));
      assert_memory_equal(got, want, got_len);
    }
  sb_stemmer_delete(sb);
  tok_stemmer_free(st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tok_hyphen_separates_words),
      cmocka_unit_test(test_tok_punctuation_and_space_separate),
      cmocka_unit_test(test_tok_empty_and_separator_only_input_has_no_words),
      cmocka_unit_test(test_tok_word_ranges_point_into_input),
      cmocka_unit_test(test_tok_input_need_not_be_nul_terminated),
      cmocka_unit_test(test_tok_apostrophe_between_letters_stays),
      cmocka_unit_test(test_tok_curly_apostrophe_becomes_ascii),
      cmocka_unit_test(test_tok_quotes_around_word_are_dropped),
      cmocka_unit_test(test_tok_apostrophe_next_to_digit_separates),
      cmocka_unit_test(test_tok_double_apostrophe_separates),
      cmocka_unit_test(test_tok_other_quote_marks_separate),
      cmocka_unit_test(test_tok_apostrophe_after_accented_letter_stays_in_nfc_and_nfd),
      cmocka_unit_test(test_tok_numbers_split_at_separators),
      cmocka_unit_test(test_tok_other_digits_are_word_characters),
      cmocka_unit_test(test_tok_case_and_accents_fold),
      cmocka_unit_test(test_tok_compatibility_forms_fold),
      cmocka_unit_test(test_tok_non_latin_letters_are_word_characters),
      cmocka_unit_test(test_tok_arabic_diacritics_are_stripped),
      cmocka_unit_test(test_tok_emoji_and_symbols_separate),
      cmocka_unit_test(test_tok_lone_combining_mark_is_skipped),
      cmocka_unit_test(test_tok_invalid_utf8_bytes_separate),
      cmocka_unit_test(test_tok_normalization_equals_utf8proc_map),
      cmocka_unit_test(test_tok_hyphenated_words_have_their_closed_form),
      cmocka_unit_test(test_tok_digits_dashes_and_spaces_do_not_join),
      cmocka_unit_test(test_tok_fold_keeps_accents),
      cmocka_unit_test(test_tok_stem_word_reads_accents_except_in_english),
      cmocka_unit_test(test_tok_long_ascii_word_is_cut_at_limit),
      cmocka_unit_test(test_tok_word_of_exactly_the_limit_is_kept_whole),
      cmocka_unit_test(test_tok_long_multibyte_word_is_cut_at_whole_character),
      cmocka_unit_test(test_tok_cut_is_same_for_every_spelling_of_a_long_word),
      cmocka_unit_test(test_tok_very_long_run_is_one_word),
      cmocka_unit_test(test_tok_key_concatenates_words),
      cmocka_unit_test(test_tok_key_is_bounded_by_cap),
      cmocka_unit_test(test_tok_stem_english),
      cmocka_unit_test(test_tok_stem_of_nothing_is_the_word),
      cmocka_unit_test(test_tok_stemmer_accepts_codes_and_algorithm_names),
      cmocka_unit_test(test_tok_every_mapped_code_names_a_libstemmer_algorithm),
      cmocka_unit_test(test_tok_stemmer_rejects_unknown_language),
      cmocka_unit_test(test_tok_stem_cache_agrees_with_snowball),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
