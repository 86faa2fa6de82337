/* dup.h: copies (SPEC.md "Copies"): articles whose bodies are near-identical.
 *
 * At index time idx.c gives each article with at least DUP_SHINGLE body
 * words a MinHash signature of its 5-word shingles (dup_sign), stored in
 * SCHEMA_SLOT_COPIES.  At read time eng.c builds the copy groups of what the
 * index holds now (dup_groups_*): signatures are bucketed by LSH bands
 * (DUP_BANDS bands of DUP_ROWS minima), and two articles sharing a bucket
 * are copies when at least DUP_MIN_EQUAL of their DUP_K minima agree (an
 * estimated Jaccard similarity of their shingle sets of 3/8 or more); a
 * group is a connected set of copies.  Groups come from what each article
 * stores, so they follow additions, deletions and shards built apart.
 *
 * Why these numbers (tests/integration/test_copies.py measures them on
 * planted copies: wire stories with an edited title, a changed lead, a
 * trailing paragraph cut, about 1% of the words changed, another outlet and
 * date; and, as negatives, articles quoting one or two of a story's
 * paragraphs):  a 5-paragraph story whose copy rewrites the lead and cuts
 * the last paragraph shares only about 0.45 of its shingles, so a threshold
 * of 0.5 lost 1 planted pair in 10 (8 bands of 4, 16 equal minima: recall
 * 0.894, precision 1.0).  16 bands of 2 make a pair at J=0.4 a candidate
 * with probability 1-(1-0.4^2)^16 = 0.94 (0.99 at J=0.5), and requiring 12
 * of the 32 minima to agree keeps quoting articles (J 0.1-0.25) out:
 * precision 0.998 and recall 0.998 on 821 planted pairs.
 *
 * Ownership: dup_groups_t is the caller's (dup_groups_free); not
 * thread-safe while being built, read-only afterwards.
 */
#ifndef SIFT_DUP_H
#define SIFT_DUP_H

#include <stddef.h>
#include <stdint.h>

#define DUP_SHINGLE 5
#define DUP_K 32
#define DUP_BANDS 16
#define DUP_ROWS (DUP_K / DUP_BANDS)
#define DUP_MIN_EQUAL 12
#define DUP_SIG_BYTES (DUP_K * 4) /* little-endian uint32 minima */

/* The hash of one normalized word (FNV-1a, 64 bits). */
uint64_t dup_word_hash(const char *s, size_t n);
/* The signature of a body given as its words' hashes w[0..n), into out.
 * Returns 0, or -1 when there are fewer than DUP_SHINGLE words (no
 * signature: the article is nobody's copy). */
int dup_sign(const uint64_t *w, size_t n, unsigned char out[DUP_SIG_BYTES]);

typedef struct dup_groups dup_groups_t;
/* Groups over docids 1..last. */
dup_groups_t *dup_groups_new(uint32_t last);
void dup_groups_free(dup_groups_t *g); /* accepts NULL */
/* Add document d's stored signature (anything not DUP_SIG_BYTES long is
 * ignored).  -1 when out of memory. */
int dup_groups_add(dup_groups_t *g, uint32_t d, const void *sig, size_t len);
/* After the last add: settle the groups (and free the signatures). */
int dup_groups_finish(dup_groups_t *g);
/* The group of d: the smallest docid in it (d itself when it has no copy). */
uint32_t dup_group(const dup_groups_t *g, uint32_t d);
/* The next member of d's group after d, cycling back to d (d alone: d). */
uint32_t dup_next(const dup_groups_t *g, uint32_t d);
/* Number of groups with two or more members, and the articles in them. */
void dup_groups_count(const dup_groups_t *g, uint32_t *groups, uint32_t *members);

#endif
