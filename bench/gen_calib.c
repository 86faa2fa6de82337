/* gen_calib.c: sift-gen --calibrate: reads a real corpus and takes its
 * shape (paragraph, word and title lengths, outlet sizes, dates, the share
 * undated and with an author) and its most frequent words with their
 * counts into the generator's state.  Only counts are kept: the text
 * generated from them is drawn word by word, never a sentence copied.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "doc.h"
#include "err.h"
#include "gen.h"
#include "gen_wordtab.h"
#include "utf8.h"

#define CALIB_TOP_WORDS 20000
#define CALIB_MAX_PARAS 400
#define CALIB_MAX_PARA_WORDS 1500
#define CALIB_MAX_TITLE_WORDS 60
#define CALIB_MAX_WORD 40 /* longer tokens (URLs, junk) are not vocabulary */

/* Length of the UTF-8 character at s (1..4; 1 for a bad byte) and whether it
 * is part of a word (a letter or digit, loosely: everything non-ASCII that
 * is not punctuation or a symbol in the common blocks). */
static size_t calib_char(const unsigned char *s, size_t n, int *word, uint32_t *cp) {
  unsigned c = s[0];
  if (c < 0x80) {
    *cp = c;
    *word = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
    return 1;
  }
  int32_t d;
  size_t k = utf8_decode(s, n, &d);
  if (!k) {
    *cp = 0xFFFD;
    *word = 0;
    return 1;
  }
  uint32_t v = (uint32_t)d;
  *cp = v;
  *word = !((v >= 0x80 && v <= 0xBF) || v == 0xD7 || v == 0xF7 || (v >= 0x2000 && v <= 0x2BFF) ||
            (v >= 0x3000 && v <= 0x303F) || (v >= 0xFE00 && v <= 0xFE6F) ||
            (v >= 0xFF00 && v <= 0xFF20) || v >= 0x1F000);
  return k;
}

typedef struct {
  wordtab_t words, outlets;
  uint64_t hist_paras[CALIB_MAX_PARAS + 1], hist_pw[CALIB_MAX_PARA_WORDS + 1];
  uint64_t hist_title[CALIB_MAX_TITLE_WORDS + 1], hist_tags[CALIB_MAX_TAGS + 1];
  uint32_t *months; /* y * 12 + m - 1 */
  uint64_t docs, dated, with_author;
} calib_t;

/* Counts the words of s into c->words; returns how many there were. */
static uint64_t calib_words(calib_t *c, const char *text, size_t n) {
  const unsigned char *s = (const unsigned char *)text;
  uint64_t count = 0;
  size_t i = 0;
  while (i < n) {
    int w;
    uint32_t cp;
    size_t k = calib_char(s + i, n - i, &w, &cp);
    if (!w) {
      i += k;
      continue;
    }
    size_t b = i, e = i + k;
    int digit_last = cp < 0x80 && cp >= '0' && cp <= '9';
    while (e < n) {
      size_t k2 = calib_char(s + e, n - e, &w, &cp);
      if (w) {
        digit_last = cp >= '0' && cp <= '9';
        e += k2;
        continue;
      }
      /* Joiners inside a word: ' ’ - between word characters; , . between digits. */
      int joiner =
          cp == '\'' || cp == 0x2019 || cp == '-' || ((cp == ',' || cp == '.') && digit_last);
      if (!joiner || e + k2 >= n) break;
      int w2;
      uint32_t cp2;
      calib_char(s + e + k2, n - e - k2, &w2, &cp2);
      if (!w2 || ((cp == ',' || cp == '.') && !(cp2 >= '0' && cp2 <= '9'))) break;
      e += k2;
    }
    if (e - b <= CALIB_MAX_WORD) wt_add(&c->words, text + b, e - b, 1);
    count++;
    i = e;
  }
  return count;
}

static void calib_doc(calib_t *c, const doc_t *d) {
  c->docs++;
  if (d->title) {
    uint64_t tw = calib_words(c, d->title, strlen(d->title));
    c->hist_title[tw < CALIB_MAX_TITLE_WORDS ? tw : CALIB_MAX_TITLE_WORDS]++;
  }
  uint64_t paras = 0;
  const char *p = d->body ? d->body : "";
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    uint64_t w = calib_words(c, p, len);
    if (w) {
      paras++;
      c->hist_pw[w < CALIB_MAX_PARA_WORDS ? w : CALIB_MAX_PARA_WORDS]++;
    }
    p += len + (nl != NULL);
  }
  c->hist_paras[paras < CALIB_MAX_PARAS ? paras : CALIB_MAX_PARAS]++;
  c->hist_tags[d->ntags < CALIB_MAX_TAGS ? d->ntags : CALIB_MAX_TAGS]++;
  if (d->author) c->with_author++;
  if (d->outlet) wt_add(&c->outlets, d->outlet, strlen(d->outlet), 1);
  if (d->day[0]) {
    int y = (d->day[0] - '0') * 1000 + (d->day[1] - '0') * 100 + (d->day[2] - '0') * 10 +
            (d->day[3] - '0');
    int m = (d->day[4] - '0') * 10 + (d->day[5] - '0');
    c->months[y * 12 + m - 1]++;
    c->dated++;
  }
}

/* Fold "The" into "the" when the lower-case form is at least as common, so
 * sentence-initial capitals do not become vocabulary of their own. */
static void calib_fold_case(wordtab_t *t) {
  for (size_t i = 0; i < t->cap; i++) {
    wt_entry_t *e = &t->e[i];
    if (!e->key || !e->count || !(e->key[0] >= 'A' && e->key[0] <= 'Z')) continue;
    if (e->len > 1 && e->key[1] >= 'A' && e->key[1] <= 'Z') continue; /* acronym */
    char low[CALIB_MAX_WORD + 1];
    memcpy(low, e->key, e->len);
    low[0] = (char)(low[0] - 'A' + 'a');
    wt_entry_t *l = wt_find(t, low, e->len);
    if (l && l->count >= e->count) {
      l->count += e->count;
      e->count = 0;
    }
  }
}

int calibrate(gen_t *g, const char *path) {
  calib_t c;
  memset(&c, 0, sizeof c);
  wt_init(&c.words, 1 << 20);
  wt_init(&c.outlets, 1 << 10);
  c.months = calloc(10000 * 12, sizeof *c.months);
  if (!c.months) die_nomem();
  corpus_t *cp;
  err_t err = {0};
  if (corpus_open(path, 0, &cp, &err)) {
    fprintf(stderr, "sift-gen: %s\n", err_message(&err));
    return -1;
  }
  arena_t *a = arena_new(0);
  corpus_rec_t rec;
  int rc;
  while ((rc = corpus_next(cp, &rec, &err)) != 0) {
    if (rc == ERR_TOO_LONG) {
      err_clear(&err);
      continue;
    }
    if (rc < 0) break;
    doc_t d;
    if (doc_parse_json(rec.data, rec.len, a, &d, &err) == 0) calib_doc(&c, &d);
    err_clear(&err);
    arena_reset(a);
  }
  corpus_free(cp);
  arena_free(a);
  if (rc < 0 || c.docs == 0) {
    fprintf(stderr, "sift-gen: %s: %s\n", path,
            rc < 0 ? err_message(&err) : "no articles to calibrate on");
    return -1;
  }

  /* Vocabulary: the most frequent words with their counts. */
  calib_fold_case(&c.words);
  size_t nw = wt_live(&c.words);
  wt_entry_t *words = wt_sorted(&c.words);
  uint32_t top = nw < CALIB_TOP_WORDS ? (uint32_t)nw : CALIB_TOP_WORDS;
  double *w = xmalloc((top ? top : 1) * sizeof *w);
  g->en.w = xmalloc((top ? top : 1) * sizeof *g->en.w);
  for (uint32_t i = 0; i < top; i++) {
    g->en.w[i] = arena_strndup(g->strings, words[i].key, words[i].len);
    w[i] = (double)words[i].count;
  }
  if (!top) {
    g->en.w[0] = "empty";
    w[0] = 1;
    top = 1;
  }
  g->en.n = top;
  alias_build(&g->en.pick, w, top);
  free(w);
  free(words);

  /* Outlets: invented names with the real sizes. */
  size_t no = wt_live(&c.outlets);
  wt_entry_t *outs = wt_sorted(&c.outlets);
  uint32_t k = (uint32_t)no;
  if (g->o.outlets_set && g->o.outlets < k) k = g->o.outlets;
  double *ow = xmalloc(k * sizeof *ow);
  for (uint32_t i = 0; i < k; i++) ow[i] = (double)outs[i].count;
  build_outlets(g, k, ow);
  free(ow);
  free(outs);

  alias_hist(&g->paras, c.hist_paras, CALIB_MAX_PARAS + 1);
  alias_hist(&g->para_words, c.hist_pw, CALIB_MAX_PARA_WORDS + 1);
  alias_hist(&g->title_words, c.hist_title, CALIB_MAX_TITLE_WORDS + 1);
  alias_hist(&g->ntags, c.hist_tags, CALIB_MAX_TAGS + 1);
  g->undated = 1.0 - (double)c.dated / (double)c.docs;
  g->with_author = (double)c.with_author / (double)c.docs;
  int lo = -1, hi = -1;
  for (int i = 0; i < 10000 * 12; i++) {
    if (!c.months[i]) continue;
    if (lo < 0) lo = i;
    hi = i;
  }
  if (lo >= 0 && !g->o.start_set && !g->o.days_set) {
    uint64_t *mh = xmalloc((size_t)(hi - lo + 1) * sizeof *mh);
    for (int i = lo; i <= hi; i++) mh[i - lo] = c.months[i];
    alias_hist(&g->months, mh, (uint32_t)(hi - lo + 1));
    free(mh);
    g->month0 = lo;
  }
  g->cal = 1;
  fprintf(stderr,
          "sift-gen: calibrated on %s: %" PRIu64 " articles, %zu distinct words (using %" PRIu32
          "), %zu outlets, %.1f%% undated",
          path, c.docs, nw, top, no, 100.0 * g->undated);
  if (lo >= 0)
    fprintf(stderr, ", dates %04d-%02d..%04d-%02d", lo / 12, lo % 12 + 1, hi / 12, hi % 12 + 1);
  fputc('\n', stderr);
  wt_free(&c.words);
  wt_free(&c.outlets);
  free(c.months);
  return 0;
}
