/* snip.h: snippets and marked titles: a short extract of an article's body
 * around the words a query matched, and its title, with those words marked.
 *
 * A matcher is built once per query from its positive text conditions
 * (words, phrases, prefixes; those under NOT are not marked).  A word
 * matches when its stem equals the query word's stem in the article's
 * language, a phrase where its words follow one another (only there are
 * they marked), a prefix where a word starts with it; words compare
 * normalized (tok.h: case and accents aside, so `Gaza` marks `Gazá`).
 * Conditions under title: are marked in the title only; the others in the
 * body and in the title (a plain word matches either).
 *
 * snip_build() tokenizes one body with tok.h, finds the matches, and picks
 * up to SNIP_MAX_PASSAGES passages (snip.c, "Passages"): one when a window
 * of max_bytes holds every term the body has, else those that show the
 * most distinct terms, a phrase match first.  Together they show at most
 * max_bytes bytes of the body (so at most max_bytes characters).  It writes
 * them in body order: matched words and whole phrases wrapped in SNIP_OPEN
 * / SNIP_CLOSE, every '<', '>' and '&' of the text escaped as &lt; &gt;
 * &amp;, control characters (line breaks included) as spaces, " … "
 * between passages and "…" where the extract starts after the body's start
 * or ends before its end.  With no match the extract is the start of the
 * body.  The text is cut only at word boundaries, so the snippet is valid
 * UTF-8 when the body is.
 *
 * Ownership: the matcher and the snippets live in the arena given.
 */
#ifndef SIFT_SNIP_H
#define SIFT_SNIP_H

#include <stddef.h>

#include "arena.h"
#include "qp.h"
#include "tok.h"

#define SNIP_OPEN "<b>"
#define SNIP_CLOSE "</b>"
#define SNIP_MAX_SCAN (256 * 1024) /* body bytes examined for matches */
#define SNIP_MAX_PASSAGES 3

typedef struct snip_matcher snip_matcher_t;

/* Matcher for query q; stemmers[0..nstemmers) are the languages articles may
 * be in (the query words are stemmed with each up front). NULL on ENOMEM. */
snip_matcher_t *snip_matcher_new(arena_t *a, const qp_query_t *q, tok_stemmer_t *const *stemmers,
                                 size_t nstemmers);
/* Make m tokenize every word of a body instead of skipping those that
 * cannot match (snip.c, "Skipping"): the same snippets, slower; the
 * reference the skipping scan is tested against. */
void snip_matcher_full_scan(snip_matcher_t *m);
/* Snippet of text[0..len) for an article in language lang_index (an index
 * into the stemmers given to the matcher).  NULL on ENOMEM.  The matcher
 * holds the scratch space, so one matcher serves one thread at a time. */
const char *snip_build(snip_matcher_t *m, size_t lang_index, const char *text, size_t len,
                       size_t max_bytes, arena_t *a);
/* The same for a body of `total` bytes of which only text[0..len) is at
 * hand (len <= total; when len < total the text must end just after an
 * ASCII white-space byte, as ds.h's blocks do, so no word runs past
 * it).  When the snippet may depend on bytes past len, returns NULL with *more
 * set: call it again, next, for the same body with more of it (text may
 * move; its first len bytes must not change), and the scan resumes where it
 * stopped.  NULL with *more clear is ENOMEM.  A snippet it returns is the
 * one snip_build gives on the whole body. */
const char *snip_build_part(snip_matcher_t *m, size_t lang, const char *text, size_t len,
                            size_t total, size_t max_bytes, arena_t *a, int *more);
/* A part of a body at hand: bytes [start, end). */
typedef struct snip_region {
  size_t start, end;
} snip_region_t;
/* The same for a body of `total` bytes of which the regions reg[0..nreg)
 * are at hand (sorted, apart, each starting at the body's start or just
 * after an ASCII white-space byte and ending just after one or at the
 * end), the caller knowing that every word the matcher marks lies inside
 * them or at or past byte `next`, the first of those in a part starting
 * at next (next = total: none past the regions); text has all total
 * bytes, of which those outside the regions are never read but for the
 * byte before each region, which must be no word byte (ds.h's blocks end
 * in a space until decoded).  When the snippet reads bytes outside the regions, or
 * the scan reaches next, returns NULL with *more set and need[0..1] the
 * range [need[0], need[1]) it reads: call it again with a region holding
 * that range added, and next moved past the parts given (the scan is not
 * redone, it resumes).  So a caller may hand over the parts holding
 * marked words one at a time, in order, as the scan asks for them.  NULL
 * with *more clear is ENOMEM.  A snippet it returns is the one snip_build
 * gives on the whole body. */
const char *snip_build_regions(snip_matcher_t *m, size_t lang, const char *text, size_t total,
                               const snip_region_t *reg, size_t nreg, size_t next, size_t max_bytes,
                               arena_t *a, int *more, size_t need[2]);
/* The terms a body's words are marked for, i in [0, snip_body_terms(m)):
 * kind, normalized words (a phrase's in order, a prefix's one) and, for a
 * word, its stem in language lang (stem NULL otherwise). */
enum { SNIP_TERM_WORD, SNIP_TERM_PHRASE, SNIP_TERM_PREFIX };
size_t snip_body_terms(const snip_matcher_t *m);
void snip_body_term(const snip_matcher_t *m, size_t i, size_t lang, int *kind,
                    const char *const **words, size_t *nwords, const char **stem, size_t *stem_len);
/* Whether some term is marked in titles only (title:): then only the
 * title's own scan tells whether it matches. */
int snip_title_only_terms(const snip_matcher_t *m);
/* The whole title[0..len) of an article in language lang, escaped and
 * marked as snippets are, into *out; *out NULL when nothing in it matches.
 * It keeps no state, so it may come between the calls for one body.
 * 0 or ERR_NOMEM. */
int snip_title(snip_matcher_t *m, size_t lang, const char *title, size_t len, arena_t *a,
               const char **out);

#endif
