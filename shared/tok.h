/* tok.h: the word rules of SPEC.md "Words", and Snowball stemming.
 *
 * One code path splits text into words at index time and at query time, so
 * the two can never disagree.  A word is a maximal run of Unicode letters
 * (L*), digits (N*) and combining marks (M*); an apostrophe (U+0027 or
 * U+2019) between two letters stays inside the word, as U+0027; every other
 * character separates words.  A word is normalized by NFKC-compatibility
 * decomposition, case folding and removal of marks (accents), then
 * recomposition: `Zaytoun`, `ZAYTOUN` and `Zaytóun` are all `zaytoun`,
 * `Israel’s` is `israel's`, `ﬁnal` is `final`.  A word whose normalized form
 * is longer than TOK_MAX_WORD bytes is cut at the last whole character
 * within that length (same rule at index and query time).  A word that
 * normalizes to nothing (a lone combining mark) is skipped.
 *
 * Hyphenated words (format 3 indexes on; schema.h).  A hyphen between two
 * letters (the last non-mark character before it and the character after
 * it) joins the words on its sides into a run: U+002D HYPHEN-MINUS, U+2010
 * HYPHEN, U+2011 NON-BREAKING HYPHEN and U+00AD SOFT HYPHEN (which only
 * marks where a word may break).  Dashes are not hyphens: an en dash
 * stands for a range or "to" (`1990–1995`, `London–Paris`), an em dash
 * between clauses.  Digits never join (the characters on both sides must be
 * letters), so `2023-11-02`, `covid-19` and `F-16` stay apart.  A run of
 * 2..TOK_MAX_RUN words whose closed form (their normalized words joined:
 * `cease-fire` gives `ceasefire`, `mother-in-law` `motherinlaw`) fits
 * TOK_MAX_WORD bytes has that closed form as one more word, returned by
 * tok_next() right after the run's last word when the iterator was made by
 * tok_iter_init_runs().  The indexer gives it the position of the run's
 * first word and stems it like any word; the query parser uses it so that
 * `cease-fire` also finds `ceasefire`, and the indexed closed form makes
 * `ceasefire` find `cease-fire`.
 *
 * Stemming (tok_stem_word) sees the word as its Snowball algorithm expects
 * it: the case-folded word with its accents (tok_fold of the word's text)
 * for every algorithm but English and Porter, which get the normalized
 * word; a stem with accents then has them stripped as a word is.  So
 * `negociaciones` and `negociación` share the Spanish stem `negoci`.  The
 * indexer and the query side both call it, on the word's text as written.
 * Format 1..2 indexes stemmed the normalized word (tok_stem) and had no
 * closed forms; their readers and writers keep doing so.
 *
 * Numbers follow the same rule: separators split them, so `1,000` is the two
 * words `1` `000` and `3.5` is `3` `5`; the query parser turns such a token
 * back into the phrase "1 000", so `1,000` in a query finds exactly `1,000`
 * (and `1 000`) in text.
 *
 * Thread safety: a tok_iter_t and a tok_stemmer_t belong to one thread each;
 * the functions keep no global mutable state.
 */
#ifndef SIFT_TOK_H
#define SIFT_TOK_H

#include <stddef.h>

#define TOK_MAX_WORD 200 /* bytes of a normalized word (Xapian terms <= 245) */
#define TOK_MAX_RUN 4    /* words of a hyphenated run that has a closed form */

typedef struct tok_word {
  const char *norm; /* normalized word, NUL-terminated; valid until the next
                       tok_next() on the same iterator */
  size_t norm_len;
  size_t start, end; /* byte range of the word in the input */
  unsigned closed;   /* 0, or k >= 2: norm is the closed form of the run of
                        the k words returned just before, start..end the
                        run's range (tok_iter_init_runs only) */
} tok_word_t;

typedef struct tok_iter {
  const char *s;
  size_t len, pos;
  /* private */
  int opts, runs, last_letter, joins_next, pending;
  unsigned run_words;
  size_t run_start, run_end, hyphen_len, closed_len;
  char norm[TOK_MAX_WORD + 8];
  char closed[TOK_MAX_WORD + 8];
} tok_iter_t;

/* Iterate the words of s[0..len).  s need not be NUL-terminated; invalid
 * UTF-8 bytes are separators. */
void tok_iter_init(tok_iter_t *it, const char *s, size_t len);
/* The same, with the closed forms of hyphenated runs among the words. */
void tok_iter_init_runs(tok_iter_t *it, const char *s, size_t len);
/* Next word into *w: returns 1, or 0 at the end of the text. */
int tok_next(tok_iter_t *it, tok_word_t *w);

/* Normalize a whole string into one key, by concatenating its words:
 * `Al Jazeera`, `al-jazeera` and `ALJAZEERA` all give `aljazeera`.  Used for
 * outlet/author/tag filters.  Writes at most cap-1 bytes plus NUL to out;
 * returns the length written. */
size_t tok_key(const char *s, size_t len, char *out, size_t cap);
/* The same with the accents kept: each word NFKC-normalized and case-folded
 * but not stripped of its marks (`Negociación` gives `negociación`). */
size_t tok_fold(const char *s, size_t len, char *out, size_t cap);

typedef struct tok_stemmer tok_stemmer_t;

/* A stemmer for lang: an ISO 639-1 code ("en", "fr") or a Snowball
 * algorithm name ("english", "porter"); NULL or "" means English.
 * Returns 0 and *out, ERR_INVAL for a language libstemmer lacks, ERR_NOMEM. */
int tok_stemmer_new(const char *lang, tok_stemmer_t **out);
void tok_stemmer_free(tok_stemmer_t *st); /* accepts NULL */
/* The Snowball algorithm name this stemmer runs ("english"). */
const char *tok_stemmer_name(const tok_stemmer_t *st);
/* Stem of a normalized word; the result is valid until the next call on st.
 * *out_len receives its length.  Never fails: on any problem it returns the
 * word itself. */
const char *tok_stem(tok_stemmer_t *st, const char *word, size_t len, size_t *out_len);
/* Stem of a word by SPEC.md "Words": norm[0..norm_len) is the normalized
 * word (or closed form), raw[0..raw_len) its text as written (for a closed
 * form, the whole run).  An algorithm that reads accents stems tok_fold()
 * of raw, and the stem is stripped of its accents; English stems norm.  The
 * result is valid until the next call on st; never fails (tok_stem). */
const char *tok_stem_word(tok_stemmer_t *st, const char *norm, size_t norm_len, const char *raw,
                          size_t raw_len, size_t *out_len);
/* Whether tok_stem_word gives st's algorithm the word with its accents. */
int tok_stem_reads_accents(const tok_stemmer_t *st);
/* Whether st's algorithm only rewrites word endings, so that a stem always
 * begins with the first byte of the word it came from.  True for the
 * Western European and Russian Snowball stemmers; false for those that also
 * strip prefixes (Arabic, Indonesian, Irish, Yiddish...) and for any this
 * list does not know.  Snippets use it to skip words that cannot match. */
int tok_stem_keeps_first(const tok_stemmer_t *st);
/* Canonical Snowball name for lang (as tok_stemmer_new accepts), or NULL. */
const char *tok_lang_algorithm(const char *lang);

#endif
