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

#ifndef SIFT_VERSION
#define SIFT_VERSION "dev"
#endif

#define BAD_EVERY 20
#define CAL_TOP_WORDS 20000
#define CAL_MAX_PARAS 400
#define CAL_MAX_PARA_WORDS 1500
#define CAL_MAX_TITLE_WORDS 60
#define CAL_MAX_TAGS 8
#define CAL_MAX_WORD 40 /* longer tokens (URLs, junk) are not vocabulary */
#define OUT_FLUSH ((size_t)4 << 20)

/* ---- random numbers: splitmix64 seeding xoshiro256** ---- */

typedef struct {
  uint64_t s[4];
} rng_t;

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* A stream for (seed, stream): articles use stream n >= 1. */
static void rng_seed(rng_t *r, uint64_t seed, uint64_t stream) {
  uint64_t x = seed * 0xD1342543DE82EF95ull ^ (stream + 0x632BE59BD9B4E019ull);
  for (int i = 0; i < 4; i++) r->s[i] = splitmix(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng_t *r) {
  uint64_t *s = r->s;
  uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return out;
}

/* Uniform in [0, n) (Lemire's multiply; the tiny bias is irrelevant here). */
static uint32_t rng_below(rng_t *r, uint32_t n) {
  return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static double rng_unit(rng_t *r) {
  return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static int rng_chance(rng_t *r, double p) { return rng_unit(r) < p; }

/* lo..hi inclusive */
static int rng_range(rng_t *r, int lo, int hi) {
  return lo + (int)rng_below(r, (uint32_t)(hi - lo + 1));
}

/* ---- weighted choice: Vose's alias method, O(1) per draw ---- */

typedef struct {
  uint32_t n;
  double *prob;
  uint32_t *alias;
} alias_t;

static void die_nomem(void) {
  fputs("sift-gen: out of memory\n", stderr);
  exit(1);
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) die_nomem();
  return p;
}

static void alias_build(alias_t *t, const double *w, uint32_t n) {
  double sum = 0;
  for (uint32_t i = 0; i < n; i++) sum += w[i];
  t->n = n;
  t->prob = xmalloc(n * sizeof *t->prob);
  t->alias = xmalloc(n * sizeof *t->alias);
  uint32_t *small = xmalloc(n * sizeof *small), *large = xmalloc(n * sizeof *large);
  uint32_t ns = 0, nl = 0;
  for (uint32_t i = 0; i < n; i++) {
    t->prob[i] = sum > 0 ? w[i] * n / sum : 1.0;
    t->alias[i] = i;
    if (t->prob[i] < 1.0)
      small[ns++] = i;
    else
      large[nl++] = i;
  }
  while (ns && nl) {
    uint32_t s = small[--ns], l = large[--nl];
    t->alias[s] = l;
    t->prob[l] -= 1.0 - t->prob[s];
    if (t->prob[l] < 1.0)
      small[ns++] = l;
    else
      large[nl++] = l;
  }
  while (nl) t->prob[large[--nl]] = 1.0;
  while (ns) t->prob[small[--ns]] = 1.0;
  free(small);
  free(large);
}

static uint32_t alias_pick(const alias_t *t, rng_t *r) {
  uint64_t x = rng_next(r);
  uint32_t i = (uint32_t)(((x >> 32) * (uint64_t)t->n) >> 32);
  double coin = (double)(x & 0xFFFFFFFFu) * (1.0 / 4294967296.0);
  return coin < t->prob[i] ? i : t->alias[i];
}

static void alias_free(alias_t *t) {
  free(t->prob);
  free(t->alias);
}

/* Zipf-like weights 1 / (rank + q)^s for n ranks. */
static void alias_zipf(alias_t *t, uint32_t n, double q, double s) {
  double *w = xmalloc(n * sizeof *w);
  for (uint32_t i = 0; i < n; i++) w[i] = 1.0 / pow(i + 1 + q, s);
  alias_build(t, w, n);
  free(w);
}

/* ---- a string -> count table (open addressing, FNV-1a) ---- */

typedef struct {
  const char *key;
  uint32_t len;
  uint64_t count;
} wt_entry_t;

typedef struct {
  wt_entry_t *e;
  size_t cap, n;
  arena_t *keys;
} wordtab_t;

static void wt_init(wordtab_t *t, size_t cap) {
  t->cap = cap;
  t->n = 0;
  t->e = calloc(cap, sizeof *t->e);
  t->keys = arena_new(1 << 20);
  if (!t->e || !t->keys) die_nomem();
}

static uint64_t wt_hash(const char *s, size_t n) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001B3ull;
  return h;
}

static wt_entry_t *wt_find(wordtab_t *t, const char *s, size_t n) {
  size_t i = wt_hash(s, n) & (t->cap - 1);
  while (t->e[i].key) {
    if (t->e[i].len == n && memcmp(t->e[i].key, s, n) == 0) return &t->e[i];
    i = (i + 1) & (t->cap - 1);
  }
  return NULL;
}

static void wt_grow(wordtab_t *t) {
  wt_entry_t *old = t->e;
  size_t oldcap = t->cap;
  t->cap *= 2;
  t->e = calloc(t->cap, sizeof *t->e);
  if (!t->e) die_nomem();
  for (size_t i = 0; i < oldcap; i++) {
    if (!old[i].key) continue;
    size_t j = wt_hash(old[i].key, old[i].len) & (t->cap - 1);
    while (t->e[j].key) j = (j + 1) & (t->cap - 1);
    t->e[j] = old[i];
  }
  free(old);
}

/* Adds count to s's entry, creating it; returns 1 if it was new. */
static int wt_add(wordtab_t *t, const char *s, size_t n, uint64_t count) {
  if ((t->n + 1) * 10 > t->cap * 7) wt_grow(t);
  size_t i = wt_hash(s, n) & (t->cap - 1);
  while (t->e[i].key) {
    if (t->e[i].len == n && memcmp(t->e[i].key, s, n) == 0) {
      t->e[i].count += count;
      return 0;
    }
    i = (i + 1) & (t->cap - 1);
  }
  char *k = arena_strndup(t->keys, s, n);
  if (!k) die_nomem();
  t->e[i].key = k;
  t->e[i].len = (uint32_t)n;
  t->e[i].count = count;
  t->n++;
  return 1;
}

static void wt_free(wordtab_t *t) {
  free(t->e);
  arena_free(t->keys);
}

/* ---- our own word lists ---- */

static const char *const en_function[] = {
    "the",   "of",     "and",     "to",     "a",     "in",    "that",    "is",    "for",  "on",
    "was",   "with",   "said",    "he",     "it",    "as",    "at",      "by",    "from", "his",
    "be",    "have",   "has",     "are",    "an",    "they",  "not",     "this",  "but",  "who",
    "were",  "had",    "their",   "been",   "after", "would", "which",   "will",  "she",  "also",
    "about", "more",   "her",     "its",    "we",    "there", "or",      "than",  "into", "over",
    "when",  "one",    "two",     "other",  "some",  "could", "up",      "out",   "all",  "new",
    "if",    "them",   "what",    "last",   "year",  "can",   "people",  "no",    "so",   "while",
    "most",  "before", "between", "during", "under", "since", "because", "three", "four", "our"};

/* Content words, with inflections side by side so stemming is exercised. */
static const char *const en_content[] = {"hospital",
                                         "hospitals",
                                         "hospitalized",
                                         "cross",
                                         "crosses",
                                         "crossing",
                                         "crossed",
                                         "crossings",
                                         "report",
                                         "reports",
                                         "reported",
                                         "reporting",
                                         "reporter",
                                         "reporters",
                                         "city",
                                         "cities",
                                         "vote",
                                         "votes",
                                         "voted",
                                         "voting",
                                         "voter",
                                         "voters",
                                         "negotiate",
                                         "negotiated",
                                         "negotiations",
                                         "negotiator",
                                         "negotiators",
                                         "run",
                                         "runs",
                                         "running",
                                         "ran",
                                         "attack",
                                         "attacks",
                                         "attacked",
                                         "attacking",
                                         "government",
                                         "governments",
                                         "governor",
                                         "governing",
                                         "minister",
                                         "ministers",
                                         "ministry",
                                         "election",
                                         "elections",
                                         "elected",
                                         "electing",
                                         "court",
                                         "courts",
                                         "judge",
                                         "judges",
                                         "judged",
                                         "ruling",
                                         "rulings",
                                         "ruled",
                                         "law",
                                         "laws",
                                         "lawmaker",
                                         "lawmakers",
                                         "police",
                                         "policing",
                                         "officer",
                                         "officers",
                                         "official",
                                         "officials",
                                         "officially",
                                         "school",
                                         "schools",
                                         "schooling",
                                         "student",
                                         "students",
                                         "teacher",
                                         "teachers",
                                         "teaching",
                                         "taught",
                                         "child",
                                         "children",
                                         "family",
                                         "families",
                                         "worker",
                                         "workers",
                                         "work",
                                         "worked",
                                         "working",
                                         "works",
                                         "strike",
                                         "strikes",
                                         "striking",
                                         "market",
                                         "markets",
                                         "price",
                                         "prices",
                                         "priced",
                                         "pricing",
                                         "tax",
                                         "taxes",
                                         "taxed",
                                         "budget",
                                         "budgets",
                                         "bridge",
                                         "bridges",
                                         "harbor",
                                         "harbors",
                                         "ferry",
                                         "ferries",
                                         "road",
                                         "roads",
                                         "river",
                                         "rivers",
                                         "flood",
                                         "floods",
                                         "flooded",
                                         "flooding",
                                         "storm",
                                         "storms",
                                         "fire",
                                         "fires",
                                         "fired",
                                         "firefighter",
                                         "firefighters",
                                         "water",
                                         "waters",
                                         "power",
                                         "powers",
                                         "powered",
                                         "energy",
                                         "plant",
                                         "plants",
                                         "planted",
                                         "farm",
                                         "farms",
                                         "farmer",
                                         "farmers",
                                         "farming",
                                         "fish",
                                         "fishing",
                                         "fishermen",
                                         "village",
                                         "villages",
                                         "town",
                                         "towns",
                                         "country",
                                         "countries",
                                         "border",
                                         "borders",
                                         "aid",
                                         "aids",
                                         "aided",
                                         "truck",
                                         "trucks",
                                         "convoy",
                                         "convoys",
                                         "ceasefire",
                                         "ceasefires",
                                         "talk",
                                         "talks",
                                         "talked",
                                         "talking",
                                         "agree",
                                         "agreed",
                                         "agreement",
                                         "agreements",
                                         "plan",
                                         "plans",
                                         "planned",
                                         "planning",
                                         "build",
                                         "builds",
                                         "building",
                                         "buildings",
                                         "built",
                                         "house",
                                         "houses",
                                         "housing",
                                         "housed",
                                         "rent",
                                         "rents",
                                         "renting",
                                         "tenant",
                                         "tenants",
                                         "protest",
                                         "protests",
                                         "protested",
                                         "protesters",
                                         "march",
                                         "marches",
                                         "marched",
                                         "rally",
                                         "rallies",
                                         "leader",
                                         "leaders",
                                         "leadership",
                                         "lead",
                                         "leading",
                                         "led",
                                         "party",
                                         "parties",
                                         "study",
                                         "studies",
                                         "studied",
                                         "studying",
                                         "scientist",
                                         "scientists",
                                         "research",
                                         "researchers",
                                         "health",
                                         "healthy",
                                         "doctor",
                                         "doctors",
                                         "nurse",
                                         "nurses",
                                         "patient",
                                         "patients",
                                         "vaccine",
                                         "vaccines",
                                         "vaccinated",
                                         "disease",
                                         "diseases",
                                         "week",
                                         "weeks",
                                         "month",
                                         "months",
                                         "day",
                                         "days",
                                         "night",
                                         "nights",
                                         "morning",
                                         "evening",
                                         "statement",
                                         "statements",
                                         "spokesman",
                                         "spokeswoman",
                                         "spokesperson",
                                         "council",
                                         "councils",
                                         "councillor",
                                         "mayor",
                                         "mayors",
                                         "district",
                                         "districts",
                                         "region",
                                         "regional",
                                         "regions",
                                         "national",
                                         "nation",
                                         "nations",
                                         "international",
                                         "local",
                                         "locally",
                                         "public",
                                         "publicly",
                                         "private",
                                         "company",
                                         "companies",
                                         "firm",
                                         "firms",
                                         "bank",
                                         "banks",
                                         "banking",
                                         "loan",
                                         "loans",
                                         "debt",
                                         "debts",
                                         "trade",
                                         "trades",
                                         "traded",
                                         "trading",
                                         "museum",
                                         "museums",
                                         "festival",
                                         "festivals",
                                         "library",
                                         "libraries",
                                         "team",
                                         "teams",
                                         "match",
                                         "matches",
                                         "season",
                                         "seasons",
                                         "coach",
                                         "coaches",
                                         "coached",
                                         "win",
                                         "wins",
                                         "winning",
                                         "won",
                                         "lose",
                                         "loses",
                                         "losing",
                                         "lost",
                                         "make",
                                         "makes",
                                         "making",
                                         "made",
                                         "say",
                                         "says",
                                         "saying",
                                         "tell",
                                         "told",
                                         "telling",
                                         "show",
                                         "shows",
                                         "showed",
                                         "shown",
                                         "find",
                                         "found",
                                         "finding",
                                         "findings",
                                         "move",
                                         "moved",
                                         "moves",
                                         "moving",
                                         "close",
                                         "closed",
                                         "closing",
                                         "closure",
                                         "open",
                                         "opened",
                                         "opening",
                                         "reopened",
                                         "expect",
                                         "expected",
                                         "expects",
                                         "increase",
                                         "increased",
                                         "increases",
                                         "decline",
                                         "declined",
                                         "declines",
                                         "rise",
                                         "rises",
                                         "rising",
                                         "rose",
                                         "fall",
                                         "falls",
                                         "falling",
                                         "fell",
                                         "caf\xc3\xa9",
                                         "caf\xc3\xa9s",
                                         "na\xc3\xafve",
                                         "fa\xc3\xa7"
                                         "ade",
                                         "r\xc3\xa9sum\xc3\xa9",
                                         "d\xc3\xa9j\xc3\xa0",
                                         "co\xc3\xb6perate",
                                         "pi\xc3\xb1"
                                         "ata",
                                         "don't",
                                         "can't",
                                         "won't",
                                         "isn\xe2\x80\x99t",
                                         "it's",
                                         "it\xe2\x80\x99s",
                                         "didn't",
                                         "wasn\xe2\x80\x99t"};

static const char *const fr_words[] = {"le",
                                       "la",
                                       "les",
                                       "de",
                                       "des",
                                       "du",
                                       "et",
                                       "un",
                                       "une",
                                       "dans",
                                       "pour",
                                       "avec",
                                       "sur",
                                       "est",
                                       "sont",
                                       "pas",
                                       "plus",
                                       "qui",
                                       "que",
                                       "a",
                                       "\xc3\xa9t\xc3\xa9",
                                       "au",
                                       "aux",
                                       "par",
                                       "h\xc3\xb4pital",
                                       "h\xc3\xb4pitaux",
                                       "ville",
                                       "villes",
                                       "gouvernement",
                                       "gouvernements",
                                       "ministre",
                                       "ministres",
                                       "\xc3\xa9lection",
                                       "\xc3\xa9lections",
                                       "\xc3\xa9lecteurs",
                                       "port",
                                       "ports",
                                       "pont",
                                       "ponts",
                                       "travailleurs",
                                       "travail",
                                       "gr\xc3\xa8ve",
                                       "gr\xc3\xa8ves",
                                       "march\xc3\xa9",
                                       "march\xc3\xa9s",
                                       "prix",
                                       "\xc3\xa9"
                                       "cole",
                                       "\xc3\xa9"
                                       "coles",
                                       "\xc3\xa9l\xc3\xa8ves",
                                       "enfants",
                                       "famille",
                                       "familles",
                                       "m\xc3\xa9"
                                       "decin",
                                       "m\xc3\xa9"
                                       "decins",
                                       "rapport",
                                       "rapports",
                                       "selon",
                                       "d\xc3\xa9"
                                       "clar\xc3\xa9",
                                       "annonc\xc3\xa9",
                                       "c\xe2\x80\x99"
                                       "est",
                                       "l\xe2\x80\x99"
                                       "arm\xc3\xa9"
                                       "e",
                                       "l'\xc3\xa9quipe",
                                       "aujourd'hui",
                                       "fran\xc3\xa7"
                                       "ais",
                                       "fran\xc3\xa7"
                                       "aise",
                                       "tr\xc3\xa8s",
                                       "d\xc3\xa9j\xc3\xa0",
                                       "apr\xc3\xa8s",
                                       "avant",
                                       "pendant",
                                       "nuit",
                                       "jour",
                                       "jours",
                                       "semaine",
                                       "ann\xc3\xa9"
                                       "e"};

static const char *const de_words[] = {"der",
                                       "die",
                                       "das",
                                       "und",
                                       "in",
                                       "den",
                                       "von",
                                       "zu",
                                       "mit",
                                       "sich",
                                       "des",
                                       "auf",
                                       "f\xc3\xbcr",
                                       "ist",
                                       "im",
                                       "dem",
                                       "nicht",
                                       "ein",
                                       "eine",
                                       "als",
                                       "auch",
                                       "es",
                                       "an",
                                       "werden",
                                       "aus",
                                       "\xc3\xbc"
                                       "ber",
                                       "Krankenhaus",
                                       "Krankenh\xc3\xa4user",
                                       "Krankenhauses",
                                       "Stadt",
                                       "St\xc3\xa4"
                                       "dte",
                                       "Regierung",
                                       "Regierungen",
                                       "Minister",
                                       "Ministerin",
                                       "Wahl",
                                       "Wahlen",
                                       "W\xc3\xa4hler",
                                       "Hafen",
                                       "H\xc3\xa4"
                                       "fen",
                                       "Br\xc3\xbc"
                                       "cke",
                                       "Br\xc3\xbc"
                                       "cken",
                                       "Arbeiter",
                                       "Streik",
                                       "Streiks",
                                       "Markt",
                                       "M\xc3\xa4rkte",
                                       "Preis",
                                       "Preise",
                                       "Schule",
                                       "Schulen",
                                       "Sch\xc3\xbcler",
                                       "Kinder",
                                       "Familie",
                                       "Familien",
                                       "Arzt",
                                       "\xc3\x84rzte",
                                       "Bericht",
                                       "Berichte",
                                       "berichtet",
                                       "sagte",
                                       "erkl\xc3\xa4rte",
                                       "Stra\xc3\x9f"
                                       "e",
                                       "Stra\xc3\x9f"
                                       "en",
                                       "gr\xc3\xb6\xc3\x9f"
                                       "te",
                                       "heute",
                                       "nach",
                                       "vor",
                                       "w\xc3\xa4hrend",
                                       "Nacht",
                                       "Tag",
                                       "Tage",
                                       "Woche",
                                       "Jahr",
                                       "Jahre"};

static const char *const topics[] = {
    "elections", "harbor works", "public health",   "transport",  "housing",      "weather",
    "courts",    "energy",       "schools",         "culture",    "markets",      "farming",
    "fisheries", "science",      "sports",          "water",      "labor",        "budget",
    "policing",  "migration",    "heritage",        "technology", "city council", "rivers",
    "aid",       "border",       "ceasefire talks", "strikes",    "museums",      "trade",
    "taxes",     "bridges",      "floods",          "festivals",  "libraries",    "research"};

/* Each outlet with a variant that tok_key() folds to the same key (case,
 * accents, punctuation), used now and then as real feeds do. */
static const struct {
  const char *name, *variant;
} outlet_names[] = {
    {"The Daily Lantern", "THE DAILY LANTERN"},
    {"Harbor & Hill Times", "Harbor&Hill Times"},
    {"\xc3\x91"
     "and\xc3\xba Wire",
     "Nandu Wire"},
    {"Northgate Courier", "northgate courier"},
    {"The Quarry Ledger", "The Quarry-Ledger"},
    {"Saltmarsh Gazette", "SALTMARSH GAZETTE"},
    {"Riverbend Post", "Riverbend  Post"},
    {"Al-Marjan Daily", "Al Marjan Daily"},
    {"O\xe2\x80\x99Malley\xe2\x80\x99s Dispatch", "O'Malley's Dispatch"},
    {"Zayt\xc3\xb3un Chronicle", "Zaytoun Chronicle"},
    {"Kestrel News Service", "Kestrel News-Service"},
    {"Fj\xc3\xa4llby Posten", "Fjallby Posten"},
    {"Eastwind Radio (Online)", "Eastwind Radio Online"},
    {"the morning crier", "The Morning Crier"},
    {"Lakeshore Bulletin", "Lakeshore Bulletin."},
    {"Mesa Verde Sentinel", "Mesa-Verde Sentinel"},
    {"The Tidewater Observer", "the tidewater observer"},
    {"Pinecrest Weekly", "PineCrest Weekly"},
    {"Marlowe & Finch", "MARLOWE & FINCH"},
    {"Sunfield Standard", "SUNFIELD Standard"},
    {"The Lark", "THE LARK"},
    {"Orchard Street Journal", "Orchard Street Journal."},
    {"Westmarch Signal", "West-March Signal"},
    {"Ironbridge Press", "Iron-bridge Press"},
    {"Cloudberry Digest", "cloudberry digest"},
    {"Citadel Report", "Citadel Report!"},
    {"Global Ember", "global ember"},
    {"Copper Kettle Review", "Copper-Kettle Review"},
    {"S\xc3\xa3o Brando Not\xc3\xad"
     "cias",
     "Sao Brando Noticias"},
    {"Brightwater Herald", "BRIGHTWATER HERALD"},
};

static const char *const first_names[] = {
    "Ada",   "Bo",         "Cleo",        "Dario",       "Edda",         "Farid", "Greta", "Hugo",
    "Ines",  "Jonah",      "Kaia",        "Luca",        "Mira",         "Nils",  "Oona",  "Pia",
    "Quinn", "Rafa",       "Sanne",       "Tomas",       "Ulla",         "Vera",  "Wren",  "Xavi",
    "Yara",  "Zo\xc3\xab", "Jos\xc3\xa9", "In\xc3\xa9s", "S\xc3\xb8ren", "Ama",   "Chidi", "Noor",
    "Ravi",  "Mei",        "Tariq",       "Lena"};

/* ---- options and state ---- */

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

/* ---- building words ---- */

static const char *const onsets[] = {"b", "br", "c",  "ch", "d",  "dr", "f",  "g",  "gr",
                                     "h", "j",  "k",  "l",  "m",  "n",  "p",  "pl", "r",
                                     "s", "sh", "st", "t",  "th", "tr", "v",  "w",  "z",
                                     "",  "",   "kr", "sl", "qu", "y",  "bl", "fr", "sk"};
static const char *const nuclei[] = {"a", "e",  "i",  "o",  "u",  "a",  "e",
                                     "o", "ai", "ea", "ou", "io", "ee", "ua"};
static const char *const codas[] = {"",  "",   "",   "n",  "r",  "l", "s", "m",
                                    "t", "nd", "st", "rk", "ng", "x", "ll"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

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
  for (size_t i = 0; i < COUNT(en_function); i++)
    wt_add(&seen, en_function[i], strlen(en_function[i]), 1);
  for (size_t i = 0; i < COUNT(en_content); i++)
    wt_add(&seen, en_content[i], strlen(en_content[i]), 1);
  const char **ps = pseudo_words(g, NPSEUDO, &seen);
  uint32_t nf = COUNT(en_function), nc = COUNT(en_content);
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
    else if (rng_chance(&g->vr, 0.1))
      s = accented(g, s);
    g->surnames[i] = s;
  }
  free(raw);
  free(ps);
  wt_free(&seen);
}

/* ---- outlets ---- */

static void build_outlets(gen_t *g, uint32_t k, const double *weights) {
  g->noutlets = k;
  g->outlet = xmalloc(k * sizeof *g->outlet);
  g->outlet_variant = xmalloc(k * sizeof *g->outlet_variant);
  static const char *const kinds[] = {"Times",   "Post",     "Herald",   "Courier",
                                      "Wire",    "Review",   "Gazette",  "Daily",
                                      "Journal", "Observer", "Bulletin", "Signal"};
  for (uint32_t i = 0; i < k; i++) {
    if (i < COUNT(outlet_names)) {
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
  if (weights)
    alias_build(&g->outlet_pick, weights, k);
  else
    alias_zipf(&g->outlet_pick, k, 1.0, 0.9);
}

/* ---- calibration ---- */

/* Length of the UTF-8 character at s (1..4; 1 for a bad byte) and whether it
 * is part of a word (a letter or digit, loosely: everything non-ASCII that
 * is not punctuation or a symbol in the common blocks). */
static size_t cal_char(const unsigned char *s, size_t n, int *word, uint32_t *cp) {
  unsigned c = s[0];
  if (c < 0x80) {
    *cp = c;
    *word = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
    return 1;
  }
  size_t k = utf8_seq_len(s, n);
  if (!k) {
    *cp = 0xFFFD;
    *word = 0;
    return 1;
  }
  uint32_t v = k == 2 ? (c & 0x1F) : k == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t i = 1; i < k; i++) v = (v << 6) | (s[i] & 0x3F);
  *cp = v;
  *word = !((v >= 0x80 && v <= 0xBF) || v == 0xD7 || v == 0xF7 || (v >= 0x2000 && v <= 0x2BFF) ||
            (v >= 0x3000 && v <= 0x303F) || (v >= 0xFE00 && v <= 0xFE6F) ||
            (v >= 0xFF00 && v <= 0xFF20) || v >= 0x1F000);
  return k;
}

typedef struct {
  wordtab_t words, outlets;
  uint64_t hist_paras[CAL_MAX_PARAS + 1], hist_pw[CAL_MAX_PARA_WORDS + 1];
  uint64_t hist_title[CAL_MAX_TITLE_WORDS + 1], hist_tags[CAL_MAX_TAGS + 1];
  uint32_t *months; /* y * 12 + m - 1 */
  uint64_t docs, dated, with_author;
} cal_t;

/* Counts the words of s into c->words; returns how many there were. */
static uint64_t cal_words(cal_t *c, const char *text, size_t n) {
  const unsigned char *s = (const unsigned char *)text;
  uint64_t count = 0;
  size_t i = 0;
  while (i < n) {
    int w;
    uint32_t cp;
    size_t k = cal_char(s + i, n - i, &w, &cp);
    if (!w) {
      i += k;
      continue;
    }
    size_t b = i, e = i + k;
    int digit_last = cp < 0x80 && cp >= '0' && cp <= '9';
    while (e < n) {
      size_t k2 = cal_char(s + e, n - e, &w, &cp);
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
      cal_char(s + e + k2, n - e - k2, &w2, &cp2);
      if (!w2 || ((cp == ',' || cp == '.') && !(cp2 >= '0' && cp2 <= '9'))) break;
      e += k2;
    }
    if (e - b <= CAL_MAX_WORD) wt_add(&c->words, text + b, e - b, 1);
    count++;
    i = e;
  }
  return count;
}

static void cal_doc(cal_t *c, const doc_t *d) {
  c->docs++;
  if (d->title) {
    uint64_t tw = cal_words(c, d->title, strlen(d->title));
    c->hist_title[tw < CAL_MAX_TITLE_WORDS ? tw : CAL_MAX_TITLE_WORDS]++;
  }
  uint64_t paras = 0;
  const char *p = d->body ? d->body : "";
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    uint64_t w = cal_words(c, p, len);
    if (w) {
      paras++;
      c->hist_pw[w < CAL_MAX_PARA_WORDS ? w : CAL_MAX_PARA_WORDS]++;
    }
    p += len + (nl != NULL);
  }
  c->hist_paras[paras < CAL_MAX_PARAS ? paras : CAL_MAX_PARAS]++;
  c->hist_tags[d->ntags < CAL_MAX_TAGS ? d->ntags : CAL_MAX_TAGS]++;
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

static int cmp_count_desc(const void *a, const void *b) {
  const wt_entry_t *x = a, *y = b;
  if (x->count != y->count) return x->count < y->count ? 1 : -1;
  if (x->len != y->len) return x->len < y->len ? -1 : 1;
  return memcmp(x->key, y->key, x->len);
}

/* Entries of t, most frequent first (ties in a fixed order). */
static wt_entry_t *wt_sorted(const wordtab_t *t) {
  wt_entry_t *v = xmalloc(t->n * sizeof *v);
  size_t k = 0;
  for (size_t i = 0; i < t->cap; i++)
    if (t->e[i].key && t->e[i].count) v[k++] = t->e[i];
  qsort(v, k, sizeof *v, cmp_count_desc);
  return v;
}

static size_t wt_live(const wordtab_t *t) {
  size_t k = 0;
  for (size_t i = 0; i < t->cap; i++) k += t->e[i].key && t->e[i].count;
  return k;
}

/* Fold "The" into "the" when the lower-case form is at least as common, so
 * sentence-initial capitals do not become vocabulary of their own. */
static void cal_fold_case(wordtab_t *t) {
  for (size_t i = 0; i < t->cap; i++) {
    wt_entry_t *e = &t->e[i];
    if (!e->key || !e->count || !(e->key[0] >= 'A' && e->key[0] <= 'Z')) continue;
    if (e->len > 1 && e->key[1] >= 'A' && e->key[1] <= 'Z') continue; /* acronym */
    char low[CAL_MAX_WORD + 1];
    memcpy(low, e->key, e->len);
    low[0] = (char)(low[0] - 'A' + 'a');
    wt_entry_t *l = wt_find(t, low, e->len);
    if (l && l->count >= e->count) {
      l->count += e->count;
      e->count = 0;
    }
  }
}

static void alias_hist(alias_t *t, const uint64_t *h, uint32_t n) {
  double *w = xmalloc(n * sizeof *w);
  int any = 0;
  for (uint32_t i = 0; i < n; i++) any |= (w[i] = (double)h[i]) > 0;
  if (!any) w[n > 1 ? 1 : 0] = 1;
  alias_build(t, w, n);
  free(w);
}

static int calibrate(gen_t *g, const char *path) {
  cal_t c;
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
    if (doc_parse_json(rec.data, rec.len, a, &d, &err) == 0) cal_doc(&c, &d);
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
  cal_fold_case(&c.words);
  size_t nw = wt_live(&c.words);
  wt_entry_t *words = wt_sorted(&c.words);
  uint32_t top = nw < CAL_TOP_WORDS ? (uint32_t)nw : CAL_TOP_WORDS;
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

  alias_hist(&g->paras, c.hist_paras, CAL_MAX_PARAS + 1);
  alias_hist(&g->para_words, c.hist_pw, CAL_MAX_PARA_WORDS + 1);
  alias_hist(&g->title_words, c.hist_title, CAL_MAX_TITLE_WORDS + 1);
  alias_hist(&g->ntags, c.hist_tags, CAL_MAX_TAGS + 1);
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
  if (cap)
    put_cap(b, w);
  else
    buf_puts(b, w);
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
      buf_puts(t, first_names[rng_below(&r, COUNT(first_names))]);
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
    uint32_t used[CAL_MAX_TAGS];
    for (int i = 0; i < ntags; i++) {
      uint32_t k = alias_pick(&g->topic_pick, &r);
      for (int j = 0; j < i; j++) {
        if (used[j] != k) continue;
        k = (k + 1) % (uint32_t)COUNT(topics); /* taken: the next topic, and check again */
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

static int parse_u64(const char *s, uint64_t max, uint64_t *v) {
  char *end;
  errno = 0;
  if (!s || !*s || *s == '-') return -1;
  unsigned long long x = strtoull(s, &end, 10);
  if (errno || *end || x > max) return -1;
  *v = x;
  return 0;
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
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      exit(0);
    } else if (!strcmp(a, "--version")) {
      printf("sift-gen %s\n", SIFT_VERSION);
      exit(0);
    } else if (!strcmp(a, "--docs")) {
      if (parse_u64(val, UINT64_MAX / 2, &o->docs)) goto bad;
    } else if (!strcmp(a, "--seed")) {
      if (parse_u64(val, UINT64_MAX, &o->seed)) goto bad;
    } else if (!strcmp(a, "--days")) {
      if (parse_u64(val, 3000000, &v) || v == 0) goto bad;
      o->days = (long)v;
      o->days_set = 1;
    } else if (!strcmp(a, "--outlets")) {
      if (parse_u64(val, 100000, &v) || v == 0) goto bad;
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
  vocab_from_list(&g.fr, fr_words, COUNT(fr_words));
  vocab_from_list(&g.de, de_words, COUNT(de_words));
  alias_zipf(&g.topic_pick, COUNT(topics), 1.0, 1.0);
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
