/* schema.h: the index layout: term prefixes, value slots, metadata keys and
 * the format version.  This file owns the on-disk format; indexer.c writes
 * it, eng.c reads it, and nothing else spells a prefix or a slot number.
 *
 * Format 4 (formats 1 to 3 differ only where said)
 * -------------------------------------------------
 * Terms (normalized words are case-folded, so they never contain an ASCII
 * capital and never collide with the capital-letter prefixes below):
 *   Q<id>          the article's id, unique (boolean)
 *   <word>         a word of the title or the body, with positions.  Title
 *                  words take positions 1..T, body words start at
 *                  T + SCHEMA_TITLE_GAP, so no phrase spans title and body;
 *                  paragraphs of the body follow one another with no gap.
 *                  A hyphenated run's closed form (tok.h: `cease-fire` gives
 *                  `ceasefire`) is one more word at the position of the
 *                  run's first word, here and in S, Z and ZS (not in the
 *                  copies signature).  Formats 1..2 have no closed forms.
 *   S<word>        a word of the title, with positions (title: queries)
 *   Z<stem>        the stem of a title or body word (tok_stem_word: made
 *                  from the word with its accents for languages other than
 *                  English; formats 1..2 stemmed the accent-free word,
 *                  tok_stem), no positions; each
 *                  title occurrence adds SCHEMA_TITLE_WDF to its wdf, so a
 *                  title match weighs more under BM25
 *   ZS<stem>       the stem of a title word
 *                  Both for articles in the index's default language; an
 *                  article in another language has Z:<algorithm>:<stem> and
 *                  ZS:<algorithm>:<stem> instead (e.g. Z:french:hopital), so
 *                  a query word stemmed for one language never matches a stem
 *                  made for another.  schema_stem_term() spells these.
 *   XO<key>        outlet, XA<key> author, XK<key> tag: key is tok_key() of
 *                  the value as written (case, accents and punctuation
 *                  dropped).  An author string listing several names
 *                  separated by commas, ';' or " and " also gets one XA term
 *                  per name (schema_author_name).
 *   XL<lang>       the Snowball algorithm of the article ("english")
 *   XD<YYYYMMDD>, XM<YYYYMM>, XY<YYYY>   the article's day, month, year
 * Values:
 *   SCHEMA_SLOT_DATE      "YYYYMMDD" (absent when undated): date ranges
 *   SCHEMA_SLOT_OUTLET    outlet as written: outlet facet
 *   SCHEMA_SLOT_AUTHOR    author as written: author facet, which reads the
 *                         names from it (schema_author_name), so indexes of
 *                         every format count names
 *   SCHEMA_SLOT_TAGS      tags as written, joined by 0x1F: tag facet
 *   SCHEMA_SLOT_NEWEST    "YYYYMMDDhhmmss" (time 000000 when not given; the
 *                         time is the one written, offset ignored), "0"
 *                         when undated: sort:newest (descending; undated last)
 *   SCHEMA_SLOT_OLDEST    the same key, "~" when undated: sort:oldest
 *                         (ascending; undated last)
 *   SCHEMA_SLOT_MONTH     "YYYYMM", SCHEMA_SLOT_YEAR "YYYY", SCHEMA_SLOT_DAY
 *                         "YYYYMMDD": the date facets
 *   SCHEMA_SLOT_COPIES    the body's MinHash signature (dup.h: DUP_SIG_BYTES
 *                         bytes), absent for a body of fewer than 5 words;
 *                         readers group copies from it (an index without
 *                         it simply has no copies)
 * Every article has a value in every facet slot (outlet, author, tags,
 * month, year, day) and in SCHEMA_SLOT_NEWEST: SCHEMA_NO_VALUE (or "0" for
 * NEWEST, which sorts last when descending) stands for "none".  Xapian reads
 * a slot's values as a stream; an article missing from it costs a new seek,
 * which made facets over partly-filled slots several times slower.
 * Document data: ds.h's stored document, DS_FORMAT 3 (plain fields, the
 * body in blocks that know the index of their first word, so a reader can
 * go from a word's position to the block holding it); formats 1..3 store
 * DS_FORMAT_TWO (a head and a tail frame) or, written by the oldest
 * versions, DS_FORMAT_ONE.
 * Metadata:
 *   sift.format   the format as decimal text; checked on open.  An index
 *                 keeps the format it was created with: the indexer adds
 *                 to a format 1..2 index by its old word rules, and a
 *                 reader queries it by them.  A stub whose shards differ
 *                 in word rules (formats 1..2 beside 3) is refused: one
 *                 query cannot be spelled for both.
 *   sift.lang     default Snowball algorithm (query stemming falls back to it)
 *   sift.langs    every Snowball algorithm documents use, comma-separated;
 *                 query words are stemmed with each of them
 *   sift.positions "1" once an article with words was indexed: an index that
 *                 says so but holds no positions lost its position table
 *   sift.zdict    the zstd dictionary the stored documents were compressed
 *                 with (raw bytes; its id is inside, as zstd records it)
 *   sift.zdicts   when a merge brought in documents compressed with other
 *                 dictionaries: their ids, comma-separated, each stored as
 *                 sift.zdict.<id>
 * Every shard carries all of this, so a stub of shards is self-describing:
 * readers ask each shard for its own (xw_db_shard_metadata).
 */
#ifndef SIFT_SCHEMA_H
#define SIFT_SCHEMA_H

#define SCHEMA_FORMAT 4        /* written by a new index */
#define SCHEMA_FORMAT_OLDEST 1 /* read, and added to in its own format */
#define SCHEMA_FORMAT_WORDS \
  3 /* the first with tok.h's stems with accents
                                  and closed forms of hyphenated words */
#define SCHEMA_FORMAT_BLOCKS \
  4 /* the first whose stored documents are ds.h's
                                  DS_FORMAT 3 (a reader of formats 1..3 would
                                  fail on every one: it refuses the index) */

#define SCHEMA_P_ID "Q"
#define SCHEMA_P_TITLE "S"
#define SCHEMA_P_STEM "Z"
#define SCHEMA_P_TITLE_STEM "ZS"
#define SCHEMA_P_OUTLET "XO"
#define SCHEMA_P_AUTHOR "XA"
#define SCHEMA_P_TAG "XK"
#define SCHEMA_P_LANG "XL"
#define SCHEMA_P_DAY "XD"
#define SCHEMA_P_MONTH "XM"
#define SCHEMA_P_YEAR "XY"

#define SCHEMA_TITLE_GAP 100
#define SCHEMA_TITLE_WDF 3

enum schema_slot {
  SCHEMA_SLOT_DATE = 0,
  SCHEMA_SLOT_OUTLET = 1,
  SCHEMA_SLOT_AUTHOR = 2,
  SCHEMA_SLOT_TAGS = 3,
  SCHEMA_SLOT_NEWEST = 4,
  SCHEMA_SLOT_OLDEST = 5,
  SCHEMA_SLOT_MONTH = 6,
  SCHEMA_SLOT_YEAR = 7,
  SCHEMA_SLOT_DAY = 8,
  SCHEMA_SLOT_COPIES = 9
};

#define SCHEMA_NO_VALUE "\x1e" /* "none" in a facet slot; never counted */

#define SCHEMA_META_FORMAT "sift.format"
#define SCHEMA_META_LANG "sift.lang"
#define SCHEMA_META_LANGS "sift.langs"
#define SCHEMA_META_ZDICT "sift.zdict"
#define SCHEMA_META_ZDICTS "sift.zdicts"
#define SCHEMA_META_POSITIONS "sift.positions"

/* Write the stem term for stem[0..len) of a title (title != 0) or text word
 * in language alg, when the index leaves default_alg's stems untagged
 * (schema_naming), into out (cap bytes, NUL-terminated).  Returns its length, or 0 if it does not
 * fit. */
#include <stddef.h>
size_t schema_stem_term(char *out, size_t cap, int title, const char *alg, const char *default_alg,
                        const char *stem, size_t len);

/* The algorithm whose stems an index of format `format` and default
 * language default_alg leaves untagged: english, or, in format 1, the
 * default (a static string or default_alg itself). */
const char *schema_naming(int format, const char *default_alg);

#define SCHEMA_MAX_KEY 240 /* bytes of a filter key (XO<key> fits a term) */
#define SCHEMA_MAX_ID 240  /* bytes: Q<id> must fit Xapian's term limit */
#define SCHEMA_TAG_SEP '\x1f'

/* An author string lists names separated by ',', ';' or " and ".  The
 * first name of s[0..n) is s[0..return value); *next is where the one after
 * it starts (n when none does).  When a string lists more than one name,
 * the indexer adds an XA term for each name of at most SCHEMA_MAX_NAME
 * bytes besides the whole string's, and the author facet counts the same
 * names (eng.c), so the two never disagree. */
#define SCHEMA_MAX_NAME 511
size_t schema_author_name(const char *s, size_t n, size_t *next);

#endif
