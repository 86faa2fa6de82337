/* gen.c: sift-gen, the synthetic corpus generator.
 *
 * Writes a deterministic corpus in SPEC.md's JSON Lines format to standard
 * output, for tests, for machines without the kit corpus and for scale
 * benchmarks.  Every word of it is our own: pseudo-words built from
 * syllables, a short list of common English words with their inflected forms
 * (so stemming has something to do), invented names, outlets and topics.
 * With --calibrate the shape comes from a real corpus instead: its
 * paragraph, word and title lengths, its outlet sizes, its dates and its
 * 20,000 most frequent words with their frequencies; the text is still drawn
 * word by word, never a sentence copied.
 *
 * Determinism: the output is a function of the options alone (and of the
 * calibration file).  Article n (1-based) is drawn from its own random
 * stream seeded by (seed, n), so `--docs 100` prints the first 100 articles
 * of `--docs 1000`, and --bad-lines only inserts lines between them.
 *
 * Bad lines (--bad-lines): after every BAD_EVERY-th article comes one bad
 * line, of the kinds in bad_kinds[] in turn.  Some are skipped by the
 * indexer (invalid JSON, no id, wrong types, ...); the others are indexed
 * with a warning (invalid UTF-8 repaired, bad date dropped, NUL) under the
 * ids gen-<seed>-bad-<k>, k counting bad lines from 1.
 *
 * The program is this file (vocabulary, articles, bad lines, the command
 * line) with gen.h shared by gen_rng.c (random numbers and weighted choice),
 * gen_wordtab.c (word counts), gen_words.c (our word lists) and
 * gen_calib.c (--calibrate).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "cal.h"
#include "corpus.h"
#include "doc.h"
#include "gen.h"
#include "gen_wordtab.h"
#include "num.h"

#ifndef SIFT_VERSION
#define SIFT_VERSION "dev"
#endif

#define BAD_EVERY 20
#define OUT_FLUSH ((size_t)4 << 20)

/* ---- allocation ---- */

void die_nomem(void) {
  fputs("sift-gen: out of memory\n", stderr);
  exit(1);
}

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) die_nomem();
  return p;
}

/* ---- building words ---- */

static const char *const onsets[] = {"b", "br", "c",  "ch", "d",  "dr", "f",  "g",  "gr",
                                     "h", "j",  "k",  "l",  "m",  "n",  "p",  "pl", "r",
                                     "s", "sh", "st", "t",  "th", "tr", "v",  "w",  "z",
                                     "",  "",   "kr", "sl", "qu", "y",  "bl", "fr", "sk"};
static const char *const nuclei[] = {"a", "e",  "i",  "o",  "u",  "a",  "e",
                                     "o", "ai", "ea", "ou", "io", "ee", "ua"};
static const char *const codas[] = {"",  "",   "",   "n",  "r",  "l", "s", "m",
                                    "t", "nd", "st", "rk", "ng", "x", "ll"};

/* A pseudo-word of 1..3 syllables into w (>= 32 bytes). */
static void pseudo_word(rng_t *r, char *w) {
  int syl = 1 + (int)rng_below(r, 3);
  if (rng_chance(r, 0.3)) syl = 2;
  w[0] = '\0';
  for (int i = 0; i < syl; i++) {
    strcat(w, onsets[rng_below(r, COUNT(onsets))]);
    strcat(w, nuclei[rng_below(r, COUNT(nuclei))]);
    if (i == syl - 1 || rng_chance(r, 0.3)) strcat(w, codas[rng_below(r, COUNT(codas))]);
  }
}

/* n distinct pseudo-words (not already in seen), copied to g->strings. */
static const char **pseudo_words(gen_t *g, uint32_t n, wordtab_t *seen) {
  const char **v = xmalloc(n * sizeof *v);
  char w[64];
  for (uint32_t i = 0; i < n;) {
    pseudo_word(&g->vr, w);
    size_t len = strlen(w);
    if (len < 2 || !wt_add(seen, w, len, 1)) continue;
    if (!(v[i++] = arena_strdup(g->strings, w))) die_nomem();
  }
  return v;
}

/* Capitalized copy; a first ASCII letter only (accented initials are rare
 * here and written as such). */
static char *capitalized(arena_t *a, const char *s) {
  char *c = arena_strdup(a, s);
  if (!c) die_nomem();
  if (c[0] >= 'a' && c[0] <= 'z') c[0] = (char)(c[0] - 'a' + 'A');
  return c;
}

/* A name with one vowel accented: Zaytoun -> Zaytóun. */
static char *accented(gen_t *g, const char *s) {
  static const struct {
    char plain;
    const char *acc;
  } acc[] = {{'a', "\xc3\xa1"}, {'e', "\xc3\xa9"}, {'i', "\xc3\xad"}, {'o', "\xc3\xb3"},
             {'u', "\xc3\xba"}, {'n', "\xc3\xb1"}, {'u', "\xc3\xbc"}, {'o', "\xc3\xb6"}};
  size_t n = strlen(s);
  char buf[128];
  size_t start = rng_below(&g->vr, (uint32_t)n);
  for (size_t k = 0; k < n; k++) {
    size_t i = (start + k) % n;
    if (i == 0) continue;
    for (size_t j = 0; j < COUNT(acc); j++) {
      if (s[i] != acc[j].plain || rng_chance(&g->vr, 0.3)) continue;
      snprintf(buf, sizeof buf, "%.*s%s%s", (int)i, s, acc[j].acc, s + i + 1);
      char *c = arena_strdup(g->strings, buf);
      if (!c) die_nomem();
      return c;
    }
  }
  return (char *)s;
}

static void vocab_from_list(vocab_t *v, const char *const *list, uint32_t n) {
  v->w = xmalloc(n * sizeof *v->w);
  for (uint32_t i = 0; i < n; i++) v->w[i] = list[i];
  v->n = n;
  alias_zipf(&v->pick, n, 2.0, 1.0);
}

/* The English vocabulary: function words first, then our content words
 * shuffled among the first pseudo-words, then the rest of them. */
static void build_vocab(gen_t *g) {
  enum { NPSEUDO = 4000, MIXED = 500 };
  wordtab_t seen;
  wt_init(&seen, 1 << 14);
  for (size_t i = 0; i < n_en_function; i++)
    wt_add(&seen, en_function[i], strlen(en_function[i]), 1);
  for (size_t i = 0; i < n_en_content; i++) wt_add(&seen, en_content[i], strlen(en_content[i]), 1);
  const char **ps = pseudo_words(g, NPSEUDO, &seen);
  uint32_t nf = n_en_function, nc = n_en_content;
  uint32_t n = nf + nc + NPSEUDO;
  vocab_t *v = &g->en;
  v->w = xmalloc(n * sizeof *v->w);
  v->n = n;
  for (uint32_t i = 0; i < nf; i++) v->w[i] = en_function[i];
  uint32_t nm = nc + MIXED;
  for (uint32_t i = 0; i < nm; i++) v->w[nf + i] = i < nc ? en_content[i] : ps[i - nc];
  for (uint32_t i = nm; i > 1; i--) { /* Fisher-Yates over the mixed part */
    uint32_t j = rng_below(&g->vr, i);
    const char *t = v->w[nf + i - 1];
    v->w[nf + i - 1] = v->w[nf + j];
    v->w[nf + j] = t;
  }
  for (uint32_t i = MIXED; i < NPSEUDO; i++) v->w[nf + nc + i] = ps[i];
  alias_zipf(&v->pick, n, 2.7, 1.05);

  /* Proper nouns: capitalized pseudo-words, some accented (Zaytóun), some
   * hyphenated (Al-Marsa, Bel-Orrin). */
  static const char *const prefixes[] = {"Al", "El", "Bel", "Abu", "Ben", "Saint", "Van", "Mac"};
  enum { NNAMES = 400, NSURNAMES = 300 };
  const char **raw = pseudo_words(g, NNAMES + NSURNAMES, &seen);
  g->names = xmalloc(NNAMES * sizeof *g->names);
  g->nnames = NNAMES;
  for (uint32_t i = 0; i < NNAMES; i++) {
    const char *s = capitalized(g->strings, raw[i]);
    double u = rng_unit(&g->vr);
    if (u < 0.15) {
      s = accented(g, s);
    } else if (u < 0.27) {
      s = arena_sprintf(g->strings, "%s-%s", prefixes[rng_below(&g->vr, COUNT(prefixes))], s);
    }
    g->names[i] = s;
  }
  alias_zipf(&g->name_pick, NNAMES, 1.0, 1.0);
  g->surnames = xmalloc(NSURNAMES * sizeof *g->surnames);
  g->nsurnames = NSURNAMES;
  for (uint32_t i = 0; i < NSURNAMES; i++) {
    const char *s = capitalized(g->strings, raw[NNAMES + i]);
    if (rng_chance(&g->vr, 0.1))
      s = arena_sprintf(g->strings, "%s-%s", s,
                        capitalized(g->strings, raw[rng_below(&g->vr, NNAMES)]));
    else if (rng_chance(&g->vr, 0.1)) s = accented(g, s);
    g->surnames[i] = s;
  }
  free(raw);
  free(ps);
  wt_free(&seen);
}

/* ---- outlets ---- */

void build_outlets(gen_t *g, uint32_t k, const double *weights) {
  g->noutlets = k;
  g->outlet = xmalloc(k * sizeof *g->outlet);
  g->outlet_variant = xmalloc(k * sizeof *g->outlet_variant);
  static const char *const kinds[] = {"Times",   "Post",     "Herald",   "Courier",
                                      "Wire",    "Review",   "Gazette",  "Daily",
                                      "Journal", "Observer", "Bulletin", "Signal"};
  for (uint32_t i = 0; i < k; i++) {
    if (i < n_outlet_names) {
      g->outlet[i] = outlet_names[i].name;
      g->outlet_variant[i] = outlet_names[i].variant;
    } else {
      char w[64];
      pseudo_word(&g->vr, w);
      const char *kind = kinds[rng_below(&g->vr, COUNT(kinds))];
      /* The outlet number keeps generated names distinct. */
      g->outlet[i] =
          arena_sprintf(g->strings, "The %s %s %" PRIu32, capitalized(g->strings, w), kind, i);
      g->outlet_variant[i] = g->outlet[i];
    }
  }
  if (weights) alias_build(&g->outlet_pick, weights, k);
  else alias_zipf(&g->outlet_pick, k, 1.0, 0.9);
}

/* ---- text ---- */

static void put_number(rng_t *r, buf_t *b) {
  switch (rng_below(r, 7)) {
    case 0:
      buf_printf(b, "%d", rng_range(r, 2, 99));
      break;
    case 1:
      buf_printf(b, "%d", rng_range(r, 1950, 2030));
      break;
    case 2:
      buf_printf(b, "%d,%03d", rng_range(r, 1, 999), rng_range(r, 0, 999));
      break;
    case 3:
      buf_printf(b, "%d,%03d,%03d", rng_range(r, 1, 99), rng_range(r, 0, 999),
                 rng_range(r, 0, 999));
      break;
    case 4:
      buf_printf(b, "%d.%d", rng_range(r, 0, 99), rng_range(r, 1, 9));
      break;
    case 5:
      buf_printf(b, "%d%%", rng_range(r, 1, 100));
      break;
    default:
      buf_printf(b, "%d,000", rng_range(r, 1, 999));
      break;
  }
}

static void put_cap(buf_t *b, const char *w) {
  if (w[0] >= 'a' && w[0] <= 'z') {
    buf_putc(b, (char)(w[0] - 'a' + 'A'));
    buf_puts(b, w + 1);
  } else {
    buf_puts(b, w);
  }
}

/* One word (or name, or number) of vocabulary v. */
static void put_word(gen_t *g, rng_t *r, const vocab_t *v, int cap, buf_t *b) {
  double u = rng_unit(r);
  if (u < g->p_name) {
    buf_puts(b, g->names[alias_pick(&g->name_pick, r)]);
    if (rng_chance(r, 0.12)) buf_puts(b, rng_chance(r, 0.5) ? "\xe2\x80\x99s" : "'s");
    return;
  }
  if (u < g->p_name + g->p_number) {
    put_number(r, b);
    return;
  }
  const char *w = v->w[alias_pick(&v->pick, r)];
  if (cap) put_cap(b, w);
  else buf_puts(b, w);
}

/* A sentence of n words ending in punctuation. */
static void put_sentence(gen_t *g, rng_t *r, const vocab_t *v, int n, buf_t *b) {
  int quote = rng_chance(r, g->p_quote) ? 1 + (int)rng_below(r, 3) : 0;
  if (quote == 1) buf_puts(b, "\xe2\x80\x9c");
  if (quote == 2) buf_putc(b, '"');
  if (quote == 3) buf_puts(b, "\xe2\x80\x98");
  for (int i = 0; i < n; i++) {
    if (i) buf_putc(b, ' ');
    put_word(g, r, v, i == 0, b);
    if (i + 1 < n && i > 1 && rng_chance(r, 0.07)) buf_putc(b, rng_chance(r, 0.9) ? ',' : ';');
  }
  double u = rng_unit(r);
  buf_putc(b, u < 0.92 ? '.' : u < 0.96 ? '?' : '!');
  if (quote == 1) buf_puts(b, "\xe2\x80\x9d");
  if (quote == 2) buf_putc(b, '"');
  if (quote == 3) buf_puts(b, "\xe2\x80\x99");
}

static void put_paragraph(gen_t *g, rng_t *r, const vocab_t *v, int words, buf_t *b) {
  int first = 1;
  while (words > 0) {
    int n = rng_range(r, 5, 24);
    if (n > words || words - n < 3) n = words;
    if (!first) buf_putc(b, ' ');
    put_sentence(g, r, v, n, b);
    words -= n;
    first = 0;
  }
}

static void put_title(gen_t *g, rng_t *r, const vocab_t *v, int words, buf_t *b) {
  int title_case = rng_chance(r, 0.3);
  for (int i = 0; i < words; i++) {
    if (i) buf_putc(b, ' ');
    put_word(g, r, v, i == 0 || title_case, b);
    if (i == words / 2 && words > 5 && rng_chance(r, 0.1)) buf_putc(b, ':');
  }
}

/* Lower-case ASCII letters and digits of s into out (at most max bytes
 * and the NUL), words joined by '-' if dashes, else run together. */
static void make_slug(char *out, size_t max, const char *s, int dashes) {
  size_t n = 0;
  int dash = 0;
  for (; *s && n + 2 < max; s++) {
    char c = *s;
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      if (dash && n && dashes) out[n++] = '-';
      out[n++] = c;
      dash = 0;
    } else if (c == ' ') {
      dash = 1;
    }
  }
  if (!n) out[n++] = 'x';
  out[n] = '\0';
}

/* ---- articles ---- */

static void put_field(buf_t *out, const char *key, const char *val, size_t len) {
  buf_json_key(out, key);
  buf_json_str(out, val, len);
}

static void gen_article(gen_t *g, uint64_t n) {
  rng_t r;
  rng_seed(&r, g->o.seed, n);
  buf_t *out = &g->out, *t = &g->text;

  uint32_t oi = alias_pick(&g->outlet_pick, &r);
  const char *outlet = rng_chance(&r, 0.03) ? g->outlet_variant[oi] : g->outlet[oi];
  const vocab_t *v = &g->en;
  const char *lang = rng_chance(&r, 0.8) ? "en" : NULL;
  if (g->o.lang_mix) {
    double u = rng_unit(&r);
    if (u < 0.10) {
      v = &g->fr;
      lang = "fr";
    } else if (u < 0.15) {
      v = &g->de;
      lang = "de";
    }
  }
  if (g->cal && !g->o.lang_mix) lang = "en";

  /* date */
  char date[64] = "";
  int y = 0, mo = 0, d = 0;
  if (!rng_chance(&r, g->undated)) {
    if (g->months.n) {
      int mi = g->month0 + (int)alias_pick(&g->months, &r);
      y = mi / 12;
      mo = mi % 12 + 1;
      d = rng_range(&r, 1, 28);
      if (rng_chance(&r, 0.1)) d = rng_range(&r, 29, 31);
      while (!doc_valid_day(y, mo, d)) d--;
    } else {
      uint32_t ymd = cal_from_days(g->start_day + (long)rng_below(&r, (uint32_t)g->days));
      y = (int)(ymd / 10000 % 10000), mo = (int)(ymd / 100 % 100), d = (int)(ymd % 100);
    }
    double u = rng_unit(&r);
    int h = rng_range(&r, 0, 23), mi = rng_range(&r, 0, 59), s = rng_range(&r, 0, 59);
    if (u < 0.80 || g->cal) {
      snprintf(date, sizeof date, "%04d-%02d-%02d", y, mo, d);
    } else if (u < 0.90) {
      snprintf(date, sizeof date, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, s);
    } else if (u < 0.95) {
      static const char *const offs[] = {"+02:00", "-05:00", "+05:30",
                                         "+00:00", "-03:00", "+09:00"};
      snprintf(date, sizeof date, "%04d-%02d-%02dT%02d:%02d%s", y, mo, d, h, mi,
               offs[rng_below(&r, 6)]);
    } else {
      snprintf(date, sizeof date, "%04d-%02d-%02d %02d:%02d:%02d+01:00", y, mo, d, h, mi, s);
    }
  }

  buf_json_open(out, '{');
  char id[64];
  snprintf(id, sizeof id, "gen-%" PRIu64 "-%" PRIu64, g->o.seed, n);
  put_field(out, "id", id, strlen(id));
  put_field(out, "outlet", outlet, strlen(outlet));
  if (date[0]) put_field(out, "date", date, strlen(date));

  /* title */
  buf_reset(t);
  int tw = g->cal ? (int)alias_pick(&g->title_words, &r) : rng_range(&r, 4, 12);
  if (tw < 1) tw = 1;
  put_title(g, &r, v, tw, t);
  put_field(out, "title", t->data, t->len);

  /* url */
  char slug[64], host[48];
  make_slug(slug, sizeof slug, t->data, 1);
  make_slug(host, sizeof host, g->outlet[oi], 0);
  buf_reset(t);
  buf_printf(t, "https://%s.example/", host);
  if (date[0]) buf_printf(t, "%04d/%02d/%02d/", y, mo, d);
  buf_printf(t, "%s-%" PRIu64, slug, n);
  put_field(out, "url", t->data, t->len);

  /* authors */
  int nauth = 0;
  if (g->cal) {
    nauth = rng_chance(&r, g->with_author) ? (rng_chance(&r, 0.2) ? 2 : 1) : 0;
  } else {
    double a = rng_unit(&r);
    nauth = a < 0.30 ? 0 : a < 0.85 ? 1 : 2;
  }
  if (nauth) {
    buf_reset(t);
    for (int i = 0; i < nauth; i++) {
      if (i) buf_puts(t, ", ");
      buf_puts(t, first_names[rng_below(&r, n_first_names)]);
      buf_putc(t, ' ');
      buf_puts(t, g->surnames[rng_below(&r, g->nsurnames)]);
    }
    put_field(out, "author", t->data, t->len);
  }
  if (lang) put_field(out, "lang", lang, strlen(lang));

  /* tags */
  int ntags = g->cal ? (int)alias_pick(&g->ntags, &r) : (int)rng_below(&r, 4);
  if (ntags) {
    buf_json_key(out, "tags");
    buf_json_open(out, '[');
    uint32_t used[CALIB_MAX_TAGS];
    for (int i = 0; i < ntags; i++) {
      uint32_t k = alias_pick(&g->topic_pick, &r);
      for (int j = 0; j < i; j++) {
        if (used[j] != k) continue;
        k = (k + 1) % (uint32_t)n_topics; /* taken: the next topic, and check again */
        j = -1;
      }
      used[i] = k;
      buf_json_cstr(out, topics[k]);
    }
    buf_json_close(out, ']');
  }

  /* body */
  buf_reset(t);
  int paras = g->cal ? (int)alias_pick(&g->paras, &r) : rng_range(&r, 3, 12);
  if (paras < 1) paras = 1;
  for (int p = 0; p < paras; p++) {
    if (p) buf_putc(t, '\n');
    int words = g->cal ? (int)alias_pick(&g->para_words, &r) : rng_range(&r, 20, 80);
    put_paragraph(g, &r, v, words < 1 ? 1 : words, t);
  }
  put_field(out, "body", t->data, t->len);
  buf_json_close(out, '}');
  buf_putc(out, '\n');
}

/* ---- bad lines ---- */

enum bad_fate { BAD_SKIPPED, BAD_KEPT, BAD_SILENT };

static const struct {
  const char *what;
  enum bad_fate fate;
} bad_kinds[] = {
    {"truncated JSON", BAD_SKIPPED},           {"missing id", BAD_SKIPPED},
    {"id is a number", BAD_SKIPPED},           {"title is a number", BAD_SKIPPED},
    {"tags is a string", BAD_SKIPPED},         {"invalid UTF-8 (repaired)", BAD_KEPT},
    {"impossible date (dropped)", BAD_KEPT},   {"empty id", BAD_SKIPPED},
    {"an array, not an object", BAD_SKIPPED},  {"NUL character (made a space)", BAD_KEPT},
    {"date in words (dropped)", BAD_KEPT},     {"blank line", BAD_SILENT},
    {"id longer than 240 bytes", BAD_SKIPPED}, {"not JSON at all", BAD_SKIPPED},
};

static void gen_bad(gen_t *g) {
  uint64_t k = ++g->bad_count;
  size_t kind = (size_t)((k - 1) % COUNT(bad_kinds));
  rng_t r;
  rng_seed(&r, g->o.seed ^ 0xBADBADBADull, k);
  buf_t *out = &g->out, *t = &g->text;
  buf_reset(t);
  put_title(g, &r, &g->en, rng_range(&r, 3, 6), t);
  char id[64];
  snprintf(id, sizeof id, "gen-%" PRIu64 "-bad-%" PRIu64, g->o.seed, k);
  switch (kind) {
    case 0: { /* a good record cut short */
      size_t start = out->len;
      buf_printf(out, "{\"id\":\"%s\",\"title\":", id);
      buf_json_str(out, t->data, t->len);
      buf_puts(out, ",\"body\":\"cut off");
      out->len = start + (out->len - start) * 2 / 3;
      break;
    }
    case 1:
      buf_puts(out, "{\"title\":");
      buf_json_str(out, t->data, t->len);
      buf_putc(out, '}');
      break;
    case 2:
      buf_printf(out, "{\"id\":%" PRIu64 ",\"title\":\"numbered\"}", k);
      break;
    case 3:
      buf_printf(out, "{\"id\":\"%s\",\"title\":42}", id);
      break;
    case 4:
      buf_printf(out, "{\"id\":\"%s\",\"tags\":\"harbor works\"}", id);
      break;
    case 5:
      buf_printf(out,
                 "{\"id\":\"%s\",\"title\":\"Caf\xe9 \xff\xfe news\",\"body\":\"bytes \xc3( and "
                 "\xed\xa0\x80 here\"}",
                 id);
      break;
    case 6:
      buf_printf(out, "{\"id\":\"%s\",\"date\":\"2023-02-30\",\"title\":", id);
      buf_json_str(out, t->data, t->len);
      buf_putc(out, '}');
      break;
    case 7:
      buf_puts(out, "{\"id\":\"\",\"title\":\"empty id\"}");
      break;
    case 8:
      buf_printf(out, "[\"%s\",\"not\",\"an\",\"object\"]", id);
      break;
    case 9:
      buf_printf(out, "{\"id\":\"%s\",\"title\":\"nul\\u0000inside\",\"body\":\"a\\u0000b\"}", id);
      break;
    case 10:
      buf_printf(out, "{\"id\":\"%s\",\"date\":\"last Tuesday\",\"title\":", id);
      buf_json_str(out, t->data, t->len);
      buf_putc(out, '}');
      break;
    case 11:
      buf_puts(out, "  \t ");
      break;
    case 12:
      buf_puts(out, "{\"id\":\"");
      for (int i = 0; i < 241; i++) buf_putc(out, (char)('a' + i % 26));
      buf_puts(out, "\"}");
      break;
    default:
      buf_puts(out, "this line is not JSON");
      break;
  }
  buf_putc(out, '\n');
}

/* ---- command line ---- */

static void usage(FILE *f) {
  fprintf(f,
          "usage: sift-gen [--docs N] [--seed S] [--start YYYY-MM-DD] [--days D]\n"
          "                [--outlets K] [--lang-mix] [--bad-lines] [--calibrate FILE]\n"
          "Writes a synthetic news corpus (SPEC.md JSON Lines) to standard output.\n"
          "  --docs N        articles to write (default 1000), ids gen-S-1 .. gen-S-N\n"
          "  --seed S        seed; the same options give the same bytes (default 1)\n"
          "  --start DATE    first publication day (default 2015-01-01)\n"
          "  --days D        days the dates spread over (default 3650); ~5%% are undated\n"
          "  --outlets K     number of outlets (default 20)\n"
          "  --lang-mix      ~10%% French and ~5%% German articles (\"lang\":\"fr\"/\"de\")\n"
          "  --bad-lines     after every %dth article, one bad line; the kinds cycle:\n",
          BAD_EVERY);
  for (size_t i = 0; i < COUNT(bad_kinds); i++)
    fprintf(f, "                    %2zu %-30s %s\n", i + 1, bad_kinds[i].what,
            bad_kinds[i].fate == BAD_KEPT     ? "indexed as gen-S-bad-K"
            : bad_kinds[i].fate == BAD_SILENT ? "skipped silently"
                                              : "skipped and reported");
  fprintf(f,
          "  --calibrate F   take lengths, outlet sizes, dates and the 20,000 most\n"
          "                  frequent words from the corpus F (.jsonl or .jsonl.zst)\n"
          "  --help, --version\n");
}

static int parse_args(int argc, char **argv, opts_t *o) {
  memset(o, 0, sizeof *o);
  o->docs = 1000;
  o->seed = 1;
  o->start_y = 2015;
  o->start_m = 1;
  o->start_d = 1;
  o->days = 3650;
  o->outlets = 20;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *val = NULL;
    char name[32];
    const char *eq = strchr(a, '=');
    if (eq && (size_t)(eq - a) < sizeof name) {
      snprintf(name, sizeof name, "%.*s", (int)(eq - a), a);
      val = eq + 1;
      a = name;
    }
    int takes = !strcmp(a, "--docs") || !strcmp(a, "--seed") || !strcmp(a, "--start") ||
                !strcmp(a, "--days") || !strcmp(a, "--outlets") || !strcmp(a, "--calibrate");
    if (takes && !val) {
      if (i + 1 >= argc) {
        fprintf(stderr, "sift-gen: %s needs a value\n", a);
        return -1;
      }
      val = argv[++i];
    } else if (!takes && val) {
      fprintf(stderr, "sift-gen: %s takes no value\n", a);
      return -1;
    }
    uint64_t v;
    char why[128];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      exit(0);
    } else if (!strcmp(a, "--version")) {
      printf("sift-gen %s\n", SIFT_VERSION);
      exit(0);
    } else if (!strcmp(a, "--docs")) {
      if (num_option(a, val, 0, UINT64_MAX / 2, &o->docs, why, sizeof why)) goto bad_number;
    } else if (!strcmp(a, "--seed")) {
      if (num_option(a, val, 0, UINT64_MAX, &o->seed, why, sizeof why)) goto bad_number;
    } else if (!strcmp(a, "--days")) {
      if (num_option(a, val, 1, 3000000, &v, why, sizeof why)) goto bad_number;
      o->days = (long)v;
      o->days_set = 1;
    } else if (!strcmp(a, "--outlets")) {
      if (num_option(a, val, 1, 100000, &v, why, sizeof why)) goto bad_number;
      o->outlets = (uint32_t)v;
      o->outlets_set = 1;
    } else if (!strcmp(a, "--start")) {
      char day[9], key[15];
      if (strlen(val) != 10 || doc_parse_date(val, day, key, NULL) != 0) goto bad;
      o->start_y = atoi(val);
      o->start_m = atoi(val + 5);
      o->start_d = atoi(val + 8);
      o->start_set = 1;
    } else if (!strcmp(a, "--calibrate")) {
      o->calibrate = val;
    } else if (!strcmp(a, "--lang-mix")) {
      o->lang_mix = 1;
    } else if (!strcmp(a, "--bad-lines")) {
      o->bad_lines = 1;
    } else {
      fprintf(stderr, "sift-gen: unknown option %s (see --help)\n", argv[i]);
      return -1;
    }
    continue;
  bad:
    fprintf(stderr, "sift-gen: bad value for %s: '%s'\n", a, val);
    return -1;
  bad_number:
    fprintf(stderr, "sift-gen: %s\n", why);
    return -1;
  }
  return 0;
}

static int flush(buf_t *out) {
  if (out->err) {
    fputs("sift-gen: out of memory\n", stderr);
    return -1;
  }
  if (out->len && fwrite(out->data, 1, out->len, stdout) != out->len) {
    fprintf(stderr, "sift-gen: write error: %s\n", strerror(errno));
    return -1;
  }
  buf_reset(out);
  return 0;
}

int main(int argc, char **argv) {
  static gen_t g;
  if (parse_args(argc, argv, &g.o)) return 2;
  g.strings = arena_new(1 << 20);
  if (!g.strings) die_nomem();
  rng_seed(&g.vr, g.o.seed, 0);
  build_vocab(&g);
  vocab_from_list(&g.fr, fr_words, n_fr_words);
  vocab_from_list(&g.de, de_words, n_de_words);
  alias_zipf(&g.topic_pick, n_topics, 1.0, 1.0);
  g.undated = 0.05;
  g.p_name = 0.05;
  g.p_number = 0.02;
  g.p_quote = 0.06;
  g.start_day = cal_days((uint32_t)(g.o.start_y * 10000 + g.o.start_m * 100 + g.o.start_d));
  g.days = g.o.days;
  if (g.o.calibrate) {
    free(g.en.w);
    alias_free(&g.en.pick);
    if (calibrate(&g, g.o.calibrate)) return 1;
    g.p_name = 0.0; /* the real vocabulary has its own names and numbers */
    g.p_number = 0.0;
    g.p_quote = 0.02;
  } else {
    build_outlets(&g, g.o.outlets, NULL);
  }
  buf_init(&g.out, 0);
  buf_init(&g.text, 0);
  for (uint64_t n = 1; n <= g.o.docs; n++) {
    gen_article(&g, n);
    if (g.o.bad_lines && n % BAD_EVERY == 0) gen_bad(&g);
    if (g.out.len >= OUT_FLUSH && flush(&g.out)) return 1;
  }
  if (flush(&g.out) || fflush(stdout) != 0) {
    if (!g.out.err) fprintf(stderr, "sift-gen: write error: %s\n", strerror(errno));
    return 1;
  }
  buf_fini(&g.out);
  buf_fini(&g.text);
  arena_free(g.strings);
  return 0;
}
