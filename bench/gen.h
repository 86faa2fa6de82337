/* gen.h: what the files of sift-gen share (not part of the library): the
 * options, the generator's state, the word lists (gen_words.c) and the
 * calibration (gen_calib.c).  gen.c has the program: building the
 * vocabulary, writing articles and bad lines, the command line.
 * gen_rng.h has the random numbers, gen_wordtab.h the word counts.
 */
#ifndef SIFT_GEN_H
#define SIFT_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "gen_rng.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define CALIB_MAX_TAGS 8 /* tags of an article at most, calibrated or not */

/* Allocation that cannot fail: sift-gen ends with a message instead. */
void die_nomem(void);
void *xmalloc(size_t n);

typedef struct {
  uint64_t docs, seed;
  int start_y, start_m, start_d, start_set;
  long days;
  int days_set;
  uint32_t outlets;
  int outlets_set;
  int lang_mix, bad_lines;
  const char *calibrate;
} opts_t;

typedef struct {
  const char **w;
  uint32_t n;
  alias_t pick;
} vocab_t;

typedef struct {
  opts_t o;
  arena_t *strings;
  rng_t vr; /* the stream the vocabulary is built from */
  vocab_t en, fr, de;
  const char **names; /* proper nouns, capitalized */
  uint32_t nnames;
  alias_t name_pick;
  const char **surnames;
  uint32_t nsurnames;
  const char **outlet, **outlet_variant;
  uint32_t noutlets;
  alias_t outlet_pick;
  alias_t topic_pick;
  /* calibrated shapes (cal = 1) or fixed defaults */
  int cal;
  alias_t paras, para_words, title_words, ntags, months;
  int month0; /* months[i] is month month0 + i (y * 12 + m - 1) */
  double undated, with_author;
  long start_day; /* days since 1970-01-01 */
  long days;
  double p_name, p_number, p_quote;
  /* output */
  buf_t out, text;
  uint64_t bad_count;
} gen_t;

/* ---- gen_words.c ---- */
typedef struct {
  const char *name, *variant;
} gen_outlet_name_t;
extern const char *const en_function[],
    *const en_content[], *const fr_words[], *const de_words[], *const topics[],
                                                                   *const first_names[];
extern const gen_outlet_name_t outlet_names[];
extern const size_t n_en_function, n_en_content, n_fr_words, n_de_words, n_topics, n_first_names,
    n_outlet_names;

/* ---- gen.c ---- */
/* g's k outlets: the names of outlet_names[] first, then invented ones,
 * drawn with weights (NULL: Zipf-like). */
void build_outlets(gen_t *g, uint32_t k, const double *weights);

/* ---- gen_calib.c ---- */
/* Shapes, vocabulary and outlet sizes from the corpus at path (a message on
 * stderr and -1 when it cannot be read or holds no article). */
int calibrate(gen_t *g, const char *path);

#endif
