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

typedef struct tok_word {
  const char *norm; /* normalized word, NUL-terminated; valid until the next
                       tok_next() on the same iterator */
  size_t norm_len;
  size_t start, end; /* byte range of the word in the input */
} tok_word_t;

typedef struct tok_iter {
  const char *s;
  size_t len, pos;
  char norm[TOK_MAX_WORD + 8];
} tok_iter_t;

/* Iterate the words of s[0..len).  s need not be NUL-terminated; invalid
 * UTF-8 bytes are separators. */
void tok_iter_init(tok_iter_t *it, const char *s, size_t len);
/* Next word into *w: returns 1, or 0 at the end of the text. */
int tok_next(tok_iter_t *it, tok_word_t *w);

/* Normalize a whole string into one key, by concatenating its words:
 * `Al Jazeera`, `al-jazeera` and `ALJAZEERA` all give `aljazeera`.  Used for
 * outlet/author/tag filters.  Writes at most cap-1 bytes plus NUL to out;
 * returns the length written. */
size_t tok_key(const char *s, size_t len, char *out, size_t cap);

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
/* Whether st's algorithm only rewrites word endings, so that a stem always
 * begins with the first byte of the word it came from.  True for the
 * Western European and Russian Snowball stemmers; false for those that also
 * strip prefixes (Arabic, Indonesian, Irish, Yiddish...) and for any this
 * list does not know.  Snippets use it to skip words that cannot match. */
int tok_stem_keeps_first(const tok_stemmer_t *st);
/* Canonical Snowball name for lang (as tok_stemmer_new accepts), or NULL. */
const char *tok_lang_algorithm(const char *lang);

#endif
