/* test_ds.c: unit tests of ds.c, the stored-document codec: round trips
 * with and without a trained dictionary, and every kind of damaged or
 * mismatched stored data coming back as ERR_CORRUPT. */
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
#include <zstd.h>

#include "ds.h"

/* ---- helpers ---- */

static const char *full_tags[] = {"harbor works", "city", "caf\xc3\xa9"};

static doc_t full_doc(void) {
  doc_t d;
  memset(&d, 0, sizeof d);
  d.id = "gen-1-7";
  d.outlet = "Harbor & Hill Times";
  d.date = "2021-06-30T08:15:00+02:00";
  d.title = "Ferry \xe2\x80\x9cLantern\xe2\x80\x9d returns";
  d.url = "https://harborhill.example/2021/06/ferry";
  d.author = "Ada Quill, Bo Renn";
  d.lang = "en";
  d.body = "First paragraph of the story.\nSecond, with 1,000 people.";
  d.tags = full_tags;
  d.ntags = 3;
  return d;
}

static void assert_same_str(const char *a, const char *b) {
  if (!a || !b) {
    assert_ptr_equal(a, b);
    return;
  }
  assert_string_equal(a, b);
}

static void assert_same_doc(const doc_t *a, const doc_t *b) {
  assert_same_str(a->id, b->id);
  assert_same_str(a->outlet, b->outlet);
  assert_same_str(a->date, b->date);
  assert_same_str(a->title, b->title);
  assert_same_str(a->url, b->url);
  assert_same_str(a->author, b->author);
  assert_same_str(a->lang, b->lang);
  assert_same_str(a->body, b->body);
  assert_int_equal(a->ntags, b->ntags);
  for (size_t i = 0; i < a->ntags; i++) assert_string_equal(a->tags[i], b->tags[i]);
}

/* Deterministic little news-like records (own words) for training. */
static uint64_t rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static void make_doc(uint64_t seed, int n, arena_t *a, doc_t *d) {
  static const char *words[] = {"harbor", "council", "ferry",   "lantern", "vote",   "said",
                                "the",    "of",      "a",       "in",      "market", "river",
                                "bridge", "mayor",   "workers", "report",  "city",   "night",
                                "storm",  "school",  "budget",  "quarry",  "hill",   "tide"};
  static const char *outlets[] = {"The Daily Lantern", "Harbor & Hill Times",
                                  "Zayt\xc3\xb3un Wire"};
  uint64_t s = seed * 1000 + (uint64_t)n;
  buf_t b;
  buf_init(&b, 0);
  int paras = 2 + (int)(rng_next(&s) % 5);
  for (int p = 0; p < paras; p++) {
    if (p) buf_putc(&b, '\n');
    int w = 20 + (int)(rng_next(&s) % 60);
    for (int i = 0; i < w; i++) {
      if (i) buf_putc(&b, ' ');
      buf_puts(&b, words[rng_next(&s) % (sizeof words / sizeof *words)]);
    }
    buf_putc(&b, '.');
  }
  memset(d, 0, sizeof *d);
  d->id = arena_sprintf(a, "gen-%llu-%d", (unsigned long long)seed, n);
  d->outlet = outlets[rng_next(&s) % 3];
  d->date = arena_sprintf(a, "2022-%02d-%02d", 1 + (int)(rng_next(&s) % 12),
                          1 + (int)(rng_next(&s) % 28));
  d->title = arena_sprintf(a, "The %s of the %s", words[rng_next(&s) % 24], words[n % 24]);
  d->url = arena_sprintf(a, "https://news.example/%d", n);
  d->body = arena_strdup(a, b.data);
  buf_fini(&b);
}

static void train(uint64_t seed, size_t n, size_t cap, buf_t *dict) {
  arena_t *a = arena_new(0);
  buf_t samples;
  buf_init(&samples, 0);
  size_t *sizes = calloc(n, sizeof *sizes);
  assert_non_null(sizes);
  for (size_t i = 0; i < n; i++) {
    doc_t d;
    make_doc(seed, (int)i, a, &d);
    size_t before = samples.len;
    assert_int_equal(ds_record(&d, &samples), 0);
    sizes[i] = samples.len - before;
    arena_reset(a);
  }
  err_t err = {0};
  assert_int_equal(ds_train(samples.data, sizes, n, cap, dict, &err), 0);
  assert_true(dict->len > 0 && dict->len <= cap);
  free(sizes);
  buf_fini(&samples);
  arena_free(a);
}

/* DS_FORMAT_ONE + a plain zstd frame of the given record bytes. */
static void stored_from_record(const void *rec, size_t n, buf_t *out) {
  size_t bound = ZSTD_compressBound(n);
  char *z = malloc(bound);
  assert_non_null(z);
  size_t k = ZSTD_compress(z, bound, rec, n, 3);
  assert_false(ZSTD_isError(k));
  buf_reset(out);
  buf_putc(out, DS_FORMAT_ONE);
  buf_append(out, z, k);
  free(z);
}

static int decode(ds_codec_t *c, const buf_t *b, arena_t *a, doc_t *d, err_t *err) {
  err_clear(err);
  return ds_decode(c, b->data, b->len, a, d, err);
}

/* ---- tests ---- */

static void test_ds_round_trip_without_dictionary(void **state) {
  (void)state;
  ds_codec_t *c;
  err_t err = {0};
  assert_int_equal(ds_codec_new(NULL, 0, 3, &c, &err), 0);
  arena_t *a = arena_new(0);
  doc_t in = full_doc(), out;
  buf_t b;
  buf_init(&b, 0);
  assert_int_equal(ds_encode(c, &in, &b, &err), 0);
  assert_int_equal((unsigned char)b.data[0], DS_FORMAT);
  assert_int_equal(decode(c, &b, a, &out, &err), 0);
  assert_same_doc(&in, &out);
  assert_string_equal(out.day, "20210630");
  assert_string_equal(out.sortkey, "20210630081500");
  buf_fini(&b);
  arena_free(a);
  ds_codec_free(c);
}

static void test_ds_round_trip_keeps_absent_fields_absent(void **state) {
  (void)state;
  ds_codec_t *c;
  err_t err = {0};
  assert_int_equal(ds_codec_new(NULL, 0, 0, &c, &err), 0);
  arena_t *a = arena_new(0);
  doc_t in, out;
  memset(&in, 0, sizeof in);
  in.id = "only-id";
  in.title = ""; /* present but empty stays present */
  buf_t b;
  buf_init(&b, 0);
  assert_int_equal(ds_encode(c, &in, &b, &err), 0);
  assert_int_equal(decode(c, &b, a, &out, &err), 0);
  assert_same_doc(&in, &out);
  assert_null(out.body);
  assert_null(out.tags);
  assert_string_equal(out.day, "");
  buf_fini(&b);
  arena_free(a);
  ds_codec_free(c);
}

static void test_ds_encode_appends_and_rejects_doc_without_id(void **state) {
  (void)state;
  ds_codec_t *c;
  err_t err = {0};
  assert_int_equal(ds_codec_new(NULL, 0, 1, &c, &err), 0);
  buf_t b;
  buf_init(&b, 0);
  buf_puts(&b, "prefix");
  doc_t in = full_doc();
  assert_int_equal(ds_encode(c, &in, &b, &err), 0);
  assert_memory_equal(b.data, "prefix", 6);
  arena_t *a = arena_new(0);
  doc_t out;
  assert_int_equal(ds_decode(c, b.data + 6, b.len - 6, a, &out, &err), 0);
  assert_same_doc(&in, &out);
  in.id = NULL;
  assert_int_equal(ds_encode(c, &in, &b, &err), ERR_INVAL);
  arena_free(a);
  buf_fini(&b);
  ds_codec_free(c);
}

static void test_ds_round_trip_with_trained_dictionary(void **state) {
  (void)state;
  buf_t dict;
  buf_init(&dict, 0);
  train(1, 600, 16 * 1024, &dict);
  err_t err = {0};
  ds_codec_t *plain, *withd;
  assert_int_equal(ds_codec_new(NULL, 0, 3, &plain, &err), 0);
  assert_int_equal(ds_codec_new(dict.data, dict.len, 3, &withd, &err), 0);
  arena_t *a = arena_new(0), *b = arena_new(0);
  size_t plain_bytes = 0, dict_bytes = 0;
  buf_t s;
  buf_init(&s, 0);
  for (int i = 1000; i < 1200; i++) {
    doc_t in, out;
    make_doc(1, i, a, &in);
    buf_reset(&s);
    assert_int_equal(ds_encode(plain, &in, &s, &err), 0);
    plain_bytes += s.len;
    buf_reset(&s);
    assert_int_equal(ds_encode(withd, &in, &s, &err), 0);
    dict_bytes += s.len;
    assert_int_equal(decode(withd, &s, b, &out, &err), 0);
    assert_same_doc(&in, &out);
    arena_reset(a);
    arena_reset(b);
  }
  /* The point of the dictionary: documents come out smaller. */
  assert_true(dict_bytes < plain_bytes * 9 / 10);
  buf_fini(&s);
  buf_fini(&dict);
  arena_free(a);
  arena_free(b);
  ds_codec_free(plain);
  ds_codec_free(withd);
}

static void test_ds_wrong_dictionary_is_corrupt(void **state) {
  (void)state;
  buf_t d1, d2;
  buf_init(&d1, 0);
  buf_init(&d2, 0);
  train(1, 400, 8 * 1024, &d1);
  train(2, 400, 8 * 1024, &d2);
  err_t err = {0};
  ds_codec_t *c1, *c2, *none;
  assert_int_equal(ds_codec_new(d1.data, d1.len, 3, &c1, &err), 0);
  assert_int_equal(ds_codec_new(d2.data, d2.len, 3, &c2, &err), 0);
  assert_int_equal(ds_codec_new(NULL, 0, 3, &none, &err), 0);
  arena_t *a = arena_new(0);
  doc_t in = full_doc(), out;
  buf_t s;
  buf_init(&s, 0);
  assert_int_equal(ds_encode(c1, &in, &s, &err), 0);
  assert_int_equal(decode(c2, &s, a, &out, &err), ERR_CORRUPT);
  assert_null(out.id);
  assert_int_equal(decode(none, &s, a, &out, &err), ERR_CORRUPT);
  assert_int_equal(decode(c1, &s, a, &out, &err), 0);
  assert_same_doc(&in, &out);
  buf_fini(&s);
  buf_fini(&d1);
  buf_fini(&d2);
  arena_free(a);
  ds_codec_free(c1);
  ds_codec_free(c2);
  ds_codec_free(none);
}

static void test_ds_codec_rejects_bad_dictionary_and_level(void **state) {
  (void)state;
  ds_codec_t *c = (ds_codec_t *)&c;
  err_t err = {0};
  assert_int_equal(ds_codec_new("not a dictionary at all", 23, 3, &c, &err), ERR_CORRUPT);
  assert_null(c);
  buf_t d;
  buf_init(&d, 0);
  train(3, 300, 8 * 1024, &d);
  /* A dictionary header with damaged tables. */
  memset(d.data + 8, 0xFF, 64);
  err_clear(&err);
  assert_int_equal(ds_codec_new(d.data, d.len, 3, &c, &err), ERR_CORRUPT);
  err_clear(&err);
  assert_int_equal(ds_codec_new(NULL, 0, ZSTD_maxCLevel() + 1, &c, &err), ERR_INVAL);
  buf_fini(&d);
}

static void test_ds_train_needs_samples(void **state) {
  (void)state;
  buf_t dict;
  buf_init(&dict, 0);
  err_t err = {0};
  size_t sizes[2] = {3, 3};
  assert_int_equal(ds_train("abcdef", sizes, 2, 4096, &dict, &err), ERR_INVAL);
  assert_non_null(strstr(err.msg, "zstd"));
  err_clear(&err);
  assert_int_equal(ds_train("", sizes, 0, 4096, &dict, &err), ERR_INVAL);
  assert_int_equal(dict.len, 0);
  buf_fini(&dict);
}

static void test_ds_decode_rejects_damaged_frames(void **state) {
  (void)state;
  ds_codec_t *c;
  err_t err = {0};
  assert_int_equal(ds_codec_new(NULL, 0, 3, &c, &err), 0);
  arena_t *a = arena_new(0);
  doc_t in = full_doc(), out;
  buf_t good, bad;
  buf_init(&good, 0);
  buf_init(&bad, 0);
  assert_int_equal(ds_encode(c, &in, &good, &err), 0);

  /* empty, unknown format byte */
  assert_int_equal(ds_decode(c, "", 0, a, &out, &err), ERR_CORRUPT);
  buf_append(&bad, good.data, good.len);
  bad.data[0] = 9;
  assert_int_equal(decode(c, &bad, a, &out, &err), ERR_CORRUPT);
  /* every truncation */
  for (size_t n = 1; n < good.len; n++) {
    err_clear(&err);
    assert_int_equal(ds_decode(c, good.data, n, a, &out, &err), ERR_CORRUPT);
  }
  /* every single-byte change after the format byte is caught (the plain
   * part's checksum, a frame's header, its compressed data or checksum) */
  for (size_t i = 1; i < good.len; i++) {
    buf_reset(&bad);
    buf_append(&bad, good.data, good.len);
    bad.data[i] ^= 0x5A;
    int rc = decode(c, &bad, a, &out, &err);
    if (rc != ERR_CORRUPT) fail_msg("byte %zu changed: rc %d", i, rc);
  }
  /* trailing bytes after the frame */
  buf_reset(&bad);
  buf_append(&bad, good.data, good.len);
  buf_puts(&bad, "xyz");
  assert_int_equal(decode(c, &bad, a, &out, &err), ERR_CORRUPT);
  /* a frame without its content size */
  {
    buf_t rec;
    buf_init(&rec, 0);
    assert_int_equal(ds_record(&in, &rec), 0);
    ZSTD_CCtx *z = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(z, ZSTD_c_contentSizeFlag, 0);
    char frame[4096];
    ZSTD_inBuffer ib = {rec.data, rec.len, 0};
    ZSTD_outBuffer ob = {frame, sizeof frame, 0};
    assert_int_equal(ZSTD_compressStream2(z, &ob, &ib, ZSTD_e_end), 0);
    assert_true(ZSTD_isError(ZSTD_getFrameContentSize(frame, ob.pos)) ||
                ZSTD_getFrameContentSize(frame, ob.pos) == ZSTD_CONTENTSIZE_UNKNOWN);
    buf_reset(&bad);
    buf_putc(&bad, DS_FORMAT_ONE);
    buf_append(&bad, frame, ob.pos);
    assert_int_equal(decode(c, &bad, a, &out, &err), ERR_CORRUPT);
    ZSTD_freeCCtx(z);
    buf_fini(&rec);
  }
  buf_fini(&good);
  buf_fini(&bad);
  arena_free(a);
  ds_codec_free(c);
}

static void test_ds_decode_rejects_malformed_records(void **state) {
  (void)state;
  static const struct {
    const char *what;
    const char *bytes;
    size_t n;
  } recs[] = {
      {"empty record", "", 0},
      {"no id", "\0\0\0\0\0\0\0\0\0", 9},
      {"empty id", "\1\0\0\0\0\0\0\0\0", 9},
      {"id runs past the end",
       "\x09"
       "abc",
       4},
      {"truncated before tags", "\2a\0\0\0\0\0\0\0", 9},
      {"tag count lie", "\2a\0\0\0\0\0\0\0\x7f", 10},
      {"tag runs past the end", "\2a\0\0\0\0\0\0\0\1\5ab", 12},
      {"bytes after the record", "\2a\0\0\0\0\0\0\0\0zz", 12},
      {"NUL inside a field", "\4a\0b\0\0\0\0\0\0\0\0", 12},
      {"varint over 64 bits", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10},
      {"varint never ends", "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80", 12},
      {"huge length", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10},
  };
  ds_codec_t *c;
  err_t err = {0};
  assert_int_equal(ds_codec_new(NULL, 0, 3, &c, &err), 0);
  arena_t *a = arena_new(0);
  buf_t b;
  buf_init(&b, 0);
  for (size_t i = 0; i < sizeof recs / sizeof *recs; i++) {
    doc_t out;
    stored_from_record(recs[i].bytes, recs[i].n, &b);
    int rc = decode(c, &b, a, &out, &err);
    if (rc != ERR_CORRUPT) fail_msg("%s: rc %d", recs[i].what, rc);
    assert_null(out.id);
  }
  /* UTF-8 is not checked again (ds.c): a bad byte comes back as stored */
  doc_t out;
  stored_from_record("\3a\xff\0\0\0\0\0\0\0\0", 11, &b);
  assert_int_equal(decode(c, &b, a, &out, &err), 0);
  assert_string_equal(out.id, "a\xff");
  /* and a well-formed one decodes */
  stored_from_record("\2a\0\0\0\0\0\0\0\1\1t", 12, &b);
  assert_int_equal(decode(c, &b, a, &out, &err), 0);
  assert_string_equal(out.id, "a");
  assert_int_equal(out.ntags, 1);
  assert_string_equal(out.tags[0], "t");
  buf_fini(&b);
  arena_free(a);
  ds_codec_free(c);
}

/* A body of about n bytes of words, lines and, where `spaces` is 0, no
 * white space at all. */
static char *long_body(size_t n, int spaces) {
  static const char *words[] = {"harbor", "ferry", "caf\xc3\xa9", "vote", "1,000", "river"};
  char *b = malloc(n + 16);
  assert_non_null(b);
  size_t k = 0;
  for (unsigned i = 0; k < n; i++) {
    const char *w = words[i % 6];
    memcpy(b + k, w, strlen(w));
    k += strlen(w);
    if (spaces) b[k++] = i % 17 == 16 ? '\n' : ' ';
  }
  b[k] = '\0';
  return b;
}

/* Words of text[0..n) counted apart from tok.h: runs of ASCII letters and
 * digits and of bytes >= 0x80 (the bodies here have no other punctuation
 * inside a word, and their non-ASCII letters are whole characters). */
static uint32_t count_words(const char *text, size_t n) {
  uint32_t k = 0;
  int in = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)text[i];
    int w = ch >= 0x80 || (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z');
    if (w && !in) k++;
    in = w;
  }
  return k;
}

/* A long body is stored in blocks cut after white space, each decodable
 * alone, with the index of its first word; the fields come without one. */
static void test_ds_long_body_is_in_blocks(void **state) {
  (void)state;
  ds_codec_t *c;
  err_t err = {0};
  assert_int_equal(ds_codec_new(NULL, 0, 3, &c, &err), 0);
  arena_t *a = arena_new(0);
  doc_t in = full_doc(), out;
  char *body = long_body(20000, 1);
  size_t blen = strlen(body);
  in.body = body;
  buf_t b;
  buf_init(&b, 0);
  assert_int_equal(ds_encode(c, &in, &b, &err), 0);
  assert_int_equal((unsigned char)b.data[0], DS_FORMAT);
  assert_int_equal(decode(c, &b, a, &out, &err), 0);
  assert_same_doc(&in, &out);
  ds_body_t body3;
  assert_int_equal(ds_open(c, b.data, b.len, a, &out, &body3, &err), 0);
  assert_null(out.body);
  assert_string_equal(out.title, in.title);
  assert_string_equal(out.url, in.url);
  assert_int_equal(out.ntags, in.ntags);
  assert_int_equal(body3.len, blen);
  assert_true(body3.words);
  assert_int_equal(body3.title_words, count_words(in.title, strlen(in.title)));
  assert_in_range(body3.nblocks, blen / (DS_BLOCK + DS_BLOCK / 2), blen / (DS_BLOCK / 2));
  size_t at = 0;
  for (size_t i = 0; i < body3.nblocks; i++) {
    const ds_block_t *k = &body3.blocks[i];
    assert_int_equal(k->start, at);
    assert_false(k->ready);
    assert_int_equal(k->word, count_words(body, at));
    if (i + 1 < body3.nblocks)
      assert_true(body[at + k->len - 1] == ' ' || body[at + k->len - 1] == '\n');
    at += k->len;
  }
  assert_int_equal(at, blen);
  /* one block decoded alone: its bytes; of the others, the last byte of
   * each but the body's last is a space */
  size_t two = ds_block_at(&body3, body3.blocks[2].start + 5);
  assert_int_equal(two, 2);
  assert_int_equal(ds_block_at(&body3, 0), 0);
  assert_int_equal(ds_block_at(&body3, blen - 1), body3.nblocks - 1);
  assert_int_equal(ds_block(c, &body3, 2, &err), 0);
  const ds_block_t *k2 = &body3.blocks[2];
  assert_true(k2->ready);
  assert_memory_equal(body3.text + k2->start, body + k2->start, k2->len);
  for (size_t i = 0; i + 1 < body3.nblocks; i++) {
    const ds_block_t *k = &body3.blocks[i];
    if (i != 2) assert_int_equal(body3.text[k->start + k->len - 1], ' ');
  }
  assert_int_equal(body3.text[blen], '\0');
  /* every truncation fails the whole decode */
  for (size_t n = 1; n < b.len; n++) {
    err_clear(&err);
    assert_int_equal(ds_decode(c, b.data, n, a, &out, &err), ERR_CORRUPT);
    assert_null(out.id);
  }
  /* damage in the last block: the fields and the other blocks still read */
  b.data[b.len - 8] ^= 0x21;
  assert_int_equal(decode(c, &b, a, &out, &err), ERR_CORRUPT);
  assert_null(out.body);
  assert_int_equal(ds_open(c, b.data, b.len, a, &out, &body3, &err), 0);
  assert_int_equal(ds_block(c, &body3, 0, &err), 0);
  err_clear(&err);
  assert_int_equal(ds_block(c, &body3, body3.nblocks - 1, &err), ERR_CORRUPT);
  const ds_block_t *last = &body3.blocks[body3.nblocks - 1];
  for (size_t i = last->start; i < blen; i++) assert_int_equal(body3.text[i], ' ');
  /* a body without white space is one block */
  char *solid = long_body(20000, 0);
  in.body = solid;
  buf_reset(&b);
  assert_int_equal(ds_encode(c, &in, &b, &err), 0);
  assert_int_equal(ds_open(c, b.data, b.len, a, &out, &body3, &err), 0);
  assert_int_equal(body3.nblocks, 1);
  assert_int_equal(ds_block(c, &body3, 0, &err), 0);
  assert_string_equal(body3.text, solid);
  /* no body, and an empty one */
  in.body = NULL;
  buf_reset(&b);
  assert_int_equal(ds_encode(c, &in, &b, &err), 0);
  assert_int_equal(ds_open(c, b.data, b.len, a, &out, &body3, &err), 0);
  assert_null(body3.text);
  in.body = "";
  buf_reset(&b);
  assert_int_equal(ds_encode(c, &in, &b, &err), 0);
  assert_int_equal(ds_open(c, b.data, b.len, a, &out, &body3, &err), 0);
  assert_string_equal(body3.text, "");
  assert_int_equal(body3.nblocks, 0);
  free(solid);
  free(body);
  buf_fini(&b);
  arena_free(a);
  ds_codec_free(c);
}

/* Format 2, written on request for indexes of older formats: a head frame
 * with the fields and the body's start, and a tail frame. */
static void test_ds_writes_and_reads_the_second_format(void **state) {
  (void)state;
  ds_codec_t *c;
  err_t err = {0};
  assert_int_equal(ds_codec_new(NULL, 0, 3, &c, &err), 0);
  assert_int_equal(ds_codec_set_format(c, 5, &err), ERR_INVAL);
  assert_int_equal(ds_codec_set_format(c, DS_FORMAT_TWO, &err), 0);
  arena_t *a = arena_new(0);
  doc_t in = full_doc(), out;
  char *body = long_body(20000, 1);
  in.body = body;
  buf_t b;
  buf_init(&b, 0);
  assert_int_equal(ds_encode(c, &in, &b, &err), 0);
  assert_int_equal((unsigned char)b.data[0], DS_FORMAT_TWO);
  assert_int_equal(decode(c, &b, a, &out, &err), 0);
  assert_same_doc(&in, &out);
  ds_body_t two;
  assert_int_equal(ds_open(c, b.data, b.len, a, &out, &two, &err), 0);
  assert_false(two.words);
  assert_int_equal(two.nblocks, 2);
  assert_true(two.blocks[0].ready);
  assert_false(two.blocks[1].ready);
  assert_in_range(two.blocks[0].len, DS_HEAD_BODY / 2, DS_HEAD_BODY);
  assert_memory_equal(two.text, body, two.blocks[0].len);
  assert_int_equal(ds_block(c, &two, 1, &err), 0);
  assert_string_equal(two.text, body);
  for (size_t n = 1; n < b.len; n++) {
    err_clear(&err);
    assert_int_equal(ds_decode(c, b.data, n, a, &out, &err), ERR_CORRUPT);
  }
  free(body);
  buf_fini(&b);
  arena_free(a);
  ds_codec_free(c);
}

/* Stored data of the first format (one frame of the whole record), as
 * indexes built by earlier versions hold it, still decodes. */
static void test_ds_reads_the_first_format(void **state) {
  (void)state;
  ds_codec_t *c;
  err_t err = {0};
  assert_int_equal(ds_codec_new(NULL, 0, 3, &c, &err), 0);
  arena_t *a = arena_new(0);
  doc_t in = full_doc(), out;
  char *body = long_body(9000, 1);
  in.body = body;
  buf_t rec, b;
  buf_init(&rec, 0);
  buf_init(&b, 0);
  assert_int_equal(ds_record(&in, &rec), 0);
  stored_from_record(rec.data, rec.len, &b);
  assert_int_equal(decode(c, &b, a, &out, &err), 0);
  assert_same_doc(&in, &out);
  ds_body_t one;
  assert_int_equal(ds_open(c, b.data, b.len, a, &out, &one, &err), 0);
  assert_int_equal(one.nblocks, 1);
  assert_true(one.blocks[0].ready);
  assert_string_equal(one.text, body);
  free(body);
  buf_fini(&rec);
  buf_fini(&b);
  arena_free(a);
  ds_codec_free(c);
}

static void test_ds_decode_reports_out_of_memory(void **state) {
  (void)state;
  ds_codec_t *c;
  err_t err = {0};
  assert_int_equal(ds_codec_new(NULL, 0, 3, &c, &err), 0);
  doc_t in = full_doc(), out;
  char body[8192];
  memset(body, 'w', sizeof body - 1);
  body[sizeof body - 1] = '\0';
  in.body = body;
  buf_t b;
  buf_init(&b, 0);
  assert_int_equal(ds_encode(c, &in, &b, &err), 0);
  arena_t *a = arena_new(1024);
  arena_set_cap(a, 4096);
  assert_int_equal(decode(c, &b, a, &out, &err), ERR_NOMEM);
  arena_free(a);
  buf_fini(&b);
  ds_codec_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ds_round_trip_without_dictionary),
      cmocka_unit_test(test_ds_round_trip_keeps_absent_fields_absent),
      cmocka_unit_test(test_ds_encode_appends_and_rejects_doc_without_id),
      cmocka_unit_test(test_ds_round_trip_with_trained_dictionary),
      cmocka_unit_test(test_ds_wrong_dictionary_is_corrupt),
      cmocka_unit_test(test_ds_codec_rejects_bad_dictionary_and_level),
      cmocka_unit_test(test_ds_train_needs_samples),
      cmocka_unit_test(test_ds_decode_rejects_damaged_frames),
      cmocka_unit_test(test_ds_decode_rejects_malformed_records),
      cmocka_unit_test(test_ds_long_body_is_in_blocks),
      cmocka_unit_test(test_ds_writes_and_reads_the_second_format),
      cmocka_unit_test(test_ds_reads_the_first_format),
      cmocka_unit_test(test_ds_decode_reports_out_of_memory),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
