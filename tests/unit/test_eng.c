/* test_eng.c: the engine over an index written here through idx.h, end to
 * end in one process: counts, a phrase, filters, facets, GET, sort order
 * and removal, each checked against what the test computes itself from the
 * articles it wrote (ASCII words split at non-letters, no Sift code), never
 * against what the engine printed.  The articles are made up here, so the
 * words are chosen to be their own stems (harbor, crane, river).
 * Everything lives in a fresh temporary directory. */
/* cmocka.h needs these first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "doc.h"
#include "eng.h"
#include "idx.h"
#include "qp.h"

#define NDOCS 40

static const char *const outlets[] = {"Harbor Post", "Valley Times", "Quarry Wire"};

typedef struct art {
  char id[8], date[16], title[48], url[48], body[256];
  const char *outlet;
  int removed;
} art_t;

static art_t arts[NDOCS];
static char tmpdir[64], path[96];

/* Article i: which phrases its body holds depends on i, so every query
 * below matches a different subset. */
static void make_article(int i, art_t *a) {
  snprintf(a->id, sizeof a->id, "a%02d", i);
  snprintf(a->date, sizeof a->date, "2023-%02d-%02d", 10 + i % 3, 1 + i % 28);
  snprintf(a->title, sizeof a->title, "Council report %d", i);
  snprintf(a->url, sizeof a->url, "https://example.org/%d", i);
  a->outlet = outlets[i % 3];
  snprintf(a->body, sizeof a->body, "The council met today.%s%s%s The meeting ended.",
           i % 2 == 0 ? " The harbor crane moved." : "",
           i % 3 == 0 ? " A crane stood near the harbor." : "",
           i % 5 == 0 ? " The quiet river rose." : "");
  a->removed = 0;
}

/* Whether text holds word (lower-case ASCII, as the test writes it) between
 * non-letters. */
static int has_word(const char *text, const char *word) {
  size_t n = strlen(word);
  for (const char *p = text; (p = strstr(p, word)) != NULL; p++) {
    int before = p == text || !((p[-1] | 0x20) >= 'a' && (p[-1] | 0x20) <= 'z');
    int after = !((p[n] | 0x20) >= 'a' && (p[n] | 0x20) <= 'z');
    if (before && after) return 1;
  }
  return 0;
}

static int setup(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/sift-test-eng-XXXXXX");
  if (!mkdtemp(tmpdir)) return -1;
  snprintf(path, sizeof path, "%s/index", tmpdir);
  idx_t *x = NULL;
  err_t err = {0};
  if (idx_open(path, NULL, &x, &err)) return -1;
  int rc = idx_created(x) ? 0 : -1;
  for (int i = 0; i < NDOCS && !rc; i++) {
    make_article(i, &arts[i]);
    art_t *a = &arts[i];
    static const char *const tags[] = {"ports", "weather"};
    doc_t d = {.id = a->id,
               .outlet = a->outlet,
               .date = a->date,
               .title = a->title,
               .url = a->url,
               .author = "Ada Lovelace",
               .body = a->body,
               .tags = (const char **)tags,
               .ntags = (size_t)(i % 2 ? 2 : 1)};
    const char *why;
    rc = doc_parse_date(a->date, d.day, d.sortkey, &why);
    const char *warning;
    if (!rc) rc = idx_add(x, &d, &warning, &err);
    if (i == NDOCS / 2 && !rc) rc = idx_commit(x, &err); /* two commits */
  }
  if (!rc) rc = idx_commit(x, &err);
  if (!rc && idx_doccount(x) != NDOCS) rc = -1;
  idx_free(x);
  return rc;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

/* Each test's engine, opened afresh, and its arena. */
typedef struct fx {
  eng_t *e;
  arena_t *a;
} fx_t;

static int open_fx(void **state) {
  static fx_t fx;
  err_t err = {0};
  fx.a = arena_new(0);
  *state = &fx;
  return fx.a && eng_open(path, NULL, &fx.e, &err) == 0 ? 0 : -1;
}

static int close_fx(void **state) {
  fx_t *fx = *state;
  eng_free(fx->e);
  arena_free(fx->a);
  return 0;
}

static const qp_query_t *parse(arena_t *a, const char *q) {
  qp_query_t *query = NULL;
  err_t err = {0};
  assert_int_equal(qp_parse(q, strlen(q), a, &query, &err), 0);
  return query;
}

static void search(fx_t *fx, const char *q, eng_result_t *r) {
  err_t err = {0};
  assert_int_equal(eng_search(fx->e, parse(fx->a, q), fx->a, r, &err), 0);
}

/* Articles still in the index whose body holds every word of words[] (NULL-
 * terminated) and, when phrase is set, the phrase itself as written. */
static uint32_t expect_matches(const char *const *words, const char *phrase, const char *outlet) {
  uint32_t n = 0;
  for (int i = 0; i < NDOCS; i++) {
    const art_t *a = &arts[i];
    int ok = !a->removed && (!outlet || strcmp(a->outlet, outlet) == 0);
    for (size_t w = 0; ok && words[w]; w++) ok = has_word(a->body, words[w]);
    if (ok && phrase) ok = strstr(a->body, phrase) != NULL;
    n += ok;
  }
  return n;
}

static uint32_t count(eng_t *e, arena_t *a, const char *q) {
  uint32_t c = UINT32_MAX;
  err_t err = {0};
  assert_int_equal(eng_count(e, parse(a, q), &c, &err), 0);
  return c;
}

static void test_eng_counts_words_and_phrases_as_written(void **state) {
  fx_t *fx = *state;
  eng_t *e = fx->e;
  arena_t *a = fx->a;
  eng_stats_t st;
  assert_int_equal(eng_stats(e, &st), 0);
  assert_int_equal(st.docs, NDOCS);

  static const char *const harbor[] = {"harbor", NULL}, *const river[] = {"river", NULL},
                           *const both[] = {"harbor", "river", NULL}, *const none[] = {NULL};
  assert_int_equal(count(e, a, "harbor"), expect_matches(harbor, NULL, NULL));
  assert_int_equal(count(e, a, "river"), expect_matches(river, NULL, NULL));
  assert_int_equal(count(e, a, "harbor river"), expect_matches(both, NULL, NULL));
  /* "harbor crane" as a phrase, not "crane ... harbor" */
  uint32_t phrase = expect_matches(none, "harbor crane", NULL);
  assert_int_equal(count(e, a, "\"harbor crane\""), phrase);
  assert_true(phrase < expect_matches(harbor, NULL, NULL)); /* the test can tell them apart */
  assert_int_equal(count(e, a, "harbor outlet:\"Valley Times\""),
                   expect_matches(harbor, NULL, "Valley Times"));
  uint32_t november = 0;
  for (int i = 0; i < NDOCS; i++) november += strncmp(arts[i].date, "2023-11", 7) == 0;
  assert_int_equal(count(e, a, "date:2023-11"), november);
  assert_int_equal(count(e, a, ""), NDOCS); /* the empty query: every article */
}

/* Articles dated in [lo, hi] (ISO days; "" for an open end), holding word
 * when set, or (when negate) the others. */
static uint32_t expect_dated(const char *lo, const char *hi, const char *word, int negate) {
  uint32_t n = 0;
  for (int i = 0; i < NDOCS; i++) {
    const art_t *a = &arts[i];
    int in = (!*lo || strcmp(a->date, lo) >= 0) && (!*hi || strcmp(a->date, hi) <= 0);
    if (negate) in = !in;
    n += in && (!word || has_word(a->body, word));
  }
  return n;
}

/* Ranges of days: the engine filters the short ones from the day column
 * rather than as terms (eng_date_column); both must count as written. */
static void test_eng_date_ranges_count_as_written(void **state) {
  fx_t *fx = *state;
  static const char *const ranges[][2] = {
      {"2023-10-03", "2023-10-12"}, {"2023-10-20", "2023-11-05"}, {"2023-11-27", "2023-12-02"},
      {"2023-12-10", ""},           {"", "2023-10-04"},           {"2023-10-01", "2023-12-31"}};
  for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
    const char *lo = ranges[i][0], *hi = ranges[i][1];
    char q[128];
    snprintf(q, sizeof q, "date:%s..%s", lo, hi);
    assert_int_equal(count(fx->e, fx->a, q), expect_dated(lo, hi, NULL, 0));
    assert_true(expect_dated(lo, hi, NULL, 0) > 0); /* each range holds some */
    snprintf(q, sizeof q, "harbor date:%s..%s", lo, hi);
    assert_int_equal(count(fx->e, fx->a, q), expect_dated(lo, hi, "harbor", 0));
    snprintf(q, sizeof q, "harbor -date:%s..%s", lo, hi);
    assert_int_equal(count(fx->e, fx->a, q), expect_dated(lo, hi, "harbor", 1));
  }
}

static void test_eng_facets_count_each_outlet_of_the_matches(void **state) {
  fx_t *fx = *state;
  eng_result_t r;
  search(fx, "harbor facets:outlet limit:0", &r);
  assert_int_equal(r.nfacets, 1);
  assert_int_equal(r.facets[0].facet, QP_FACET_OUTLET);
  static const char *const harbor[] = {"harbor", NULL};
  size_t seen = 0;
  for (size_t o = 0; o < sizeof outlets / sizeof *outlets; o++) {
    uint32_t want = expect_matches(harbor, NULL, outlets[o]);
    for (size_t v = 0; v < r.facets[0].nvalues; v++) {
      if (strcmp(r.facets[0].values[v].value, outlets[o]) != 0) continue;
      assert_int_equal(r.facets[0].values[v].count, want);
      seen++;
    }
  }
  assert_int_equal(seen, r.facets[0].nvalues); /* no value the test did not write */
  assert_int_equal(seen, 3);
  assert_int_equal(r.total, expect_matches(harbor, NULL, NULL));
  assert_int_equal(r.nhits, 0);
}

static void test_eng_get_returns_the_article_as_written(void **state) {
  fx_t *fx = *state;
  eng_t *e = fx->e;
  arena_t *a = fx->a;
  err_t err = {0};
  for (int i = 0; i < NDOCS; i += 7) {
    doc_t d;
    assert_int_equal(eng_get(e, arts[i].id, strlen(arts[i].id), a, &d, &err), 0);
    assert_string_equal(d.id, arts[i].id);
    assert_string_equal(d.title, arts[i].title);
    assert_string_equal(d.outlet, arts[i].outlet);
    assert_string_equal(d.date, arts[i].date);
    assert_string_equal(d.url, arts[i].url);
    assert_string_equal(d.body, arts[i].body);
    assert_string_equal(d.author, "Ada Lovelace");
    assert_int_equal(d.ntags, i % 2 ? 2 : 1);
    assert_string_equal(d.tags[0], "ports");
  }
  doc_t d;
  assert_int_equal(eng_get(e, "nope", 4, a, &d, &err), ERR_NOT_FOUND);
}

static void test_eng_sort_newest_orders_hits_by_date(void **state) {
  fx_t *fx = *state;
  eng_result_t r;
  search(fx, "crane sort:newest limit:100", &r);
  static const char *const crane[] = {"crane", NULL};
  assert_int_equal(r.nhits, expect_matches(crane, NULL, NULL));
  assert_int_equal(r.total, r.nhits);
  for (size_t h = 0; h < r.nhits; h++) {
    int i = atoi(r.hits[h].id + 1);
    assert_true(has_word(arts[i].body, "crane")); /* each hit really matches */
    assert_string_equal(r.hits[h].outlet, arts[i].outlet);
    assert_string_equal(r.hits[h].date, arts[i].date);
    if (h) assert_true(strcmp(r.hits[h - 1].date, r.hits[h].date) >= 0);
  }
}

/* Last: removes articles, then every count above must follow. */
static void test_eng_sees_removed_articles_gone_after_reopen(void **state) {
  fx_t *fx = *state;
  eng_t *e = fx->e;
  arena_t *a = fx->a;
  err_t err = {0};
  char list[NDOCS * 8] = "";
  for (int i = 0; i < NDOCS; i += 4) {
    strcat(list, arts[i].id);
    strcat(list, "\n");
    arts[i].removed = 1;
  }
  idx_ids_t ids;
  idx_ids_init(&ids);
  size_t bad = 0, batches = 0;
  assert_int_equal(idx_ids_parse(&ids, list, strlen(list), &bad, &err), 0);
  idx_delete_opts_t o = {.batch = 3};
  assert_int_equal(idx_delete(path, &ids, &o, &batches, &err), 0);
  assert_int_equal(batches, (NDOCS / 4 + 2) / 3);
  for (size_t k = 0; k < ids.n; k++) assert_int_equal(ids.removed[k], 1);
  idx_ids_fini(&ids);

  int changed = 0;
  assert_int_equal(eng_reopen(e, &changed, &err), 0);
  assert_int_equal(changed, 1);
  static const char *const harbor[] = {"harbor", NULL}, *const none[] = {NULL};
  assert_int_equal(count(e, a, ""), NDOCS - (NDOCS + 3) / 4);
  assert_int_equal(count(e, a, "harbor"), expect_matches(harbor, NULL, NULL));
  assert_int_equal(count(e, a, "\"harbor crane\""), expect_matches(none, "harbor crane", NULL));
  doc_t d;
  assert_int_equal(eng_get(e, arts[0].id, strlen(arts[0].id), a, &d, &err), ERR_NOT_FOUND);
  assert_int_equal(eng_get(e, arts[1].id, strlen(arts[1].id), a, &d, &err), 0);
}

/* Every test gets an engine opened afresh on the index as it stands. */
#define ENG_TEST(f) cmocka_unit_test_setup_teardown(f, open_fx, close_fx)

int main(void) {
  const struct CMUnitTest tests[] = {
      ENG_TEST(test_eng_counts_words_and_phrases_as_written),
      ENG_TEST(test_eng_date_ranges_count_as_written),
      ENG_TEST(test_eng_facets_count_each_outlet_of_the_matches),
      ENG_TEST(test_eng_get_returns_the_article_as_written),
      ENG_TEST(test_eng_sort_newest_orders_hits_by_date),
      ENG_TEST(test_eng_sees_removed_articles_gone_after_reopen),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
