/* fuzz_ds.c: libFuzzer target for ds_decode (the stored-document codec).
 *
 * Input: byte 0 picks the mode, the rest is the payload.
 *   mode % 3 == 0  payload is stored data, decoded without a dictionary
 *   mode % 3 == 1  payload is stored data, decoded with a dictionary trained
 *                  here on synthetic records
 *   mode % 3 == 2  payload is a raw record; it is put in a valid zstd frame
 *                  first, so the record parser sees arbitrary bytes (a fuzzer
 *                  rarely gets past zstd's own checks otherwise)
 * Invariants: no crash; a failure is ERR_CORRUPT (or ERR_NOMEM) and leaves
 * the doc zeroed; a success gives an id and clean UTF-8 strings, and
 * encoding that doc again decodes to the same fields; ds_open succeeds
 * wherever ds_decode does, and its blocks, each decoded alone, give the
 * same body.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "ds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ds_codec_t *plain, *withdict;
static arena_t *arena;

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz_ds: invariant violated: %s\n", what);
    abort();
  }
}

/* A dictionary from 300 small synthetic records (deterministic). */
static void init(void) {
  arena = arena_new(0);
  buf_t samples, dict;
  buf_init(&samples, 0);
  buf_init(&dict, 0);
  size_t sizes[300];
  static const char *words[] = {"harbor", "ferry",  "council", "the",   "of",      "said",
                                "vote",   "market", "bridge",  "river", "lantern", "storm"};
  uint64_t x = 12345;
  for (int i = 0; i < 300; i++) {
    char body[600];
    size_t n = 0;
    for (int w = 0; w < 60; w++) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      n += (size_t)snprintf(body + n, sizeof body - n, "%s ", words[(x >> 33) % 12]);
    }
    char id[32];
    snprintf(id, sizeof id, "gen-9-%d", i);
    doc_t d;
    memset(&d, 0, sizeof d);
    d.id = id;
    d.outlet = i % 2 ? "The Daily Lantern" : "Harbor & Hill Times";
    d.date = "2022-03-04";
    d.title = "Ferry council vote";
    d.body = body;
    size_t before = samples.len;
    ds_record(&d, &samples);
    sizes[i] = samples.len - before;
  }
  err_t err = {0};
  if (ds_train(samples.data, sizes, 300, 4096, &dict, &err) ||
      ds_codec_new(dict.data, dict.len, 3, &withdict, &err) ||
      ds_codec_new(NULL, 0, 3, &plain, &err)) {
    fprintf(stderr, "fuzz_ds: setup failed: %s\n", err_message(&err));
    abort();
  }
  buf_fini(&samples);
  buf_fini(&dict);
}

static const char *field(const doc_t *d, int i) {
  const char *f[8] = {d->id, d->outlet, d->date, d->title, d->url, d->author, d->lang, d->body};
  return f[i];
}

static void check_doc(const doc_t *d) {
  check(d->id && *d->id, "decoded doc has an id");
  /* Fields are not checked for UTF-8: ds_decode trusts text the indexer
   * repaired (the frame checksum guards it), and every consumer copes with
   * bad bytes anyway (the JSON writer writes U+FFFD, the tokenizer skips). */
  for (int i = 0; i < 8; i++) {
    const char *s = field(d, i);
    if (s) check(strlen(s) < (64u << 20), "decoded strings are bounded");
  }
  for (size_t i = 0; i < d->ntags; i++) check(d->tags[i] != NULL, "tags are set");
  check(d->day[0] == '\0' || strlen(d->day) == 8, "day is empty or YYYYMMDD");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!arena) init();
  if (size < 1) return 0;
  int mode = data[0] % 3;
  const char *payload = (const char *)data + 1;
  size_t n = size - 1;
  ds_codec_t *c = mode == 1 ? withdict : plain;
  char *framed = NULL;
  if (mode == 2) {
    size_t bound = ZSTD_compressBound(n);
    framed = malloc(1 + bound);
    if (!framed) return 0;
    framed[0] = DS_FORMAT_ONE;
    size_t k = ZSTD_compress(framed + 1, bound, payload, n, 1);
    check(!ZSTD_isError(k), "zstd compresses");
    payload = framed;
    n = 1 + k;
  }
  doc_t d;
  err_t err = {0};
  int rc = ds_decode(c, payload, n, arena, &d, &err);
  /* Block by block, from the last: whenever the whole decodes, so does
   * each block alone, into the same body. */
  doc_t h;
  ds_body_t body;
  int orc = ds_open(c, payload, n, arena, &h, &body, &err), hrc = orc;
  check(!orc || (h.id == NULL && body.text == NULL), "a failed open leaves the doc zeroed");
  for (size_t i = body.nblocks; !hrc && i > 0; i--) hrc = ds_block(c, &body, i - 1, &err);
  if (!rc) {
    check(hrc == 0, "the blocks decode when the whole does");
    check((!d.body && !body.text) || (d.body && body.text && strcmp(d.body, body.text) == 0),
          "the blocks make the body");
  }
  if (rc) {
    check(rc == ERR_CORRUPT || rc == ERR_NOMEM, "failure is ERR_CORRUPT");
    check(d.id == NULL && d.ntags == 0 && d.body == NULL, "failure leaves the doc zeroed");
  } else {
    check_doc(&d);
    buf_t again;
    buf_init(&again, 0);
    check(ds_encode(c, &d, &again, &err) == 0, "a decoded doc encodes");
    doc_t d2;
    check(ds_decode(c, again.data, again.len, arena, &d2, &err) == 0, "re-encoded doc decodes");
    for (int i = 0; i < 8; i++) {
      const char *a = field(&d, i), *b = field(&d2, i);
      check((!a && !b) || (a && b && strcmp(a, b) == 0), "round trip keeps fields");
    }
    check(d.ntags == d2.ntags, "round trip keeps tags");
    for (size_t i = 0; i < d.ntags; i++) check(!strcmp(d.tags[i], d2.tags[i]), "tag text");
    buf_fini(&again);
  }
  free(framed);
  arena_reset(arena);
  return 0;
}
