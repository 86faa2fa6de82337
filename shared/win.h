/* win.h: which blocks of a hit's stored body its snippet needs, found from
 * the index's positions of the words the query marks, so that a hit
 * decodes and scans those blocks instead of its whole body (issue 17).
 *
 * A plan is made once per query from its snippet matcher (snip.h): for
 * each term marked in bodies, the index words whose positions show where
 * it can match.  A phrase: its words.  A prefix: every word of the lexicon
 * with that prefix.  A word: every word of the lexicon whose stem, in the
 * article's language, is the query word's (the matcher compares stems),
 * looked for among the words beginning with the whole stem, and, once a
 * hit's count shows forms outside those (English `happy` stems to
 * `happi`), among the words beginning with all of the stem but its last
 * byte (unless more than WIN_MAX_WORDS begin so).  Snowball stems mostly
 * keep that much of a word, but not always (English `dying` stems to
 * `die`), so each hit checks the count: the positions found, a title one
 * counting SCHEMA_TITLE_WDF, must add up to the wdf of the stem term
 * (schema.h: Z<stem>) in that article.
 *
 * win_mark() marks the blocks (ds.h, format 3) holding a body position of
 * any of those words, going from positions to blocks by the blocks' first
 * word indexes and the title's word count (schema.h numbers body words
 * from the title's count plus SCHEMA_TITLE_GAP).  It says it cannot tell,
 * and the caller scans the whole body as before, when: the body is not in
 * format 3's blocks; the index has no positions or the shard is remote;
 * a word's stem term is spelled from the word with its accents (format 4
 * indexes, languages whose stemmer reads accents: tok_stem_reads_accents)
 * so the count cannot be checked; a prefix or the lexicon range a stem's
 * count needs holds more than WIN_MAX_WORDS words, or a stem is a single byte; no term of
 * the query is rare (win.c, win_rare: the scan from the start is cheaper
 * then); a word has more than WIN_MAX_POSITIONS positions in the article;
 * or the count differs (a stem reached from a word outside its range).
 *
 * Ownership: the plan lives in the arena given, with the database borrowed.
 */
#ifndef SIFT_WIN_H
#define SIFT_WIN_H

#include <stddef.h>

#include "arena.h"
#include "ds.h"
#include "err.h"
#include "snip.h"
#include "tok.h"
#include "xw.h"

#define WIN_MAX_WORDS 256      /* lexicon words per term */
#define WIN_MAX_POSITIONS 4096 /* positions of one word in one article */

typedef struct win_plan win_plan_t;

/* The plan for matcher m over db, whose articles are stemmed by
 * stemmers[0..nlangs) named lang_names[i], stems of naming's language
 * untagged (schema_stem_term); accents: the index stems words with their
 * accents where the language reads them (format 3 and later); the hits
 * to mark are page[0..npage) (borrowed for the plan's life: the stem
 * terms' counts are read for all of them at once).  NULL with err set on
 * failure (ERR_NOMEM, or the lexicon unreadable). */
win_plan_t *win_plan_new(xw_db *db, const snip_matcher_t *m, tok_stemmer_t *const *stemmers,
                         const char *const *lang_names, size_t nlangs, const char *naming,
                         int accents, const xw_docid *page, size_t npage, arena_t *a, err_t *err);
/* Mark marks[i] = 1 for each block i of b (hit page[hit] of the plan, in
 * language lang: an index into the stemmers) that holds a body word of the
 * plan, and say in *title whether any of its words stands in the title;
 * *ok = 0 when the positions cannot tell (see above), marks and *title
 * then meaningless.  (With *ok, every position of every word that can
 * match was read: a title without one holds no match of the plan's
 * terms.) */
int win_mark(win_plan_t *p, size_t hit, size_t lang, const ds_body_t *b, unsigned char *marks,
             int *title, int *ok, err_t *err);

#endif
