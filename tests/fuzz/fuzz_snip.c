/* fuzz_snip.c: the snippet builder.  The first line of the input is a query,
 * the rest an article body.  The snippet must be valid UTF-8 when the body
 * is, show at most 240 bytes of the body whatever its passages, and have
 * balanced marks; and it must equal the snippet of the full scan, which
 * tokenizes every word instead of skipping those that cannot match, and the
 * snippet built from the body's first half alone (unless that one asks for
 * more) or resumed with the rest.  The body marked as a title is all of
 * it, escaped, with balanced marks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "qp.h"
#include "snip.h"
#include "tok.h"

/* The body taken as a title: all of it, escaped, marks balanced. */
static void snip_title_check(snip_matcher_t *m, const char *body, size_t blen, arena_t *a) {
  const char *t = NULL;
  if (snip_title(m, 0, body, blen, a, &t)) abort();
  if (!t) return;
  size_t opens = 0, closes = 0, want = blen, n = strlen(t);
  for (size_t i = 0; i < blen; i++)
    want += body[i] == '&' ? 4 : body[i] == '<' || body[i] == '>' ? 3 : 0;
  for (const char *p = t; (p = strstr(p, SNIP_OPEN)); p++) opens++;
  for (const char *p = t; (p = strstr(p, SNIP_CLOSE)); p++) closes++;
  if (!opens || opens != closes || n != want + opens * (strlen(SNIP_OPEN) + strlen(SNIP_CLOSE)))
    abort();
  if (utf8_valid(body, blen) && !utf8_valid(t, n)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static tok_stemmer_t *st;
  static arena_t *a;
  if (!st && tok_stemmer_new("en", &st) != 0) abort();
  if (!a && !(a = arena_new(0))) abort();
  arena_reset(a);
  const char *s = (const char *)data;
  const char *nl = memchr(s, '\n', size);
  size_t qlen = nl ? (size_t)(nl - s) : size;
  const char *body = nl ? nl + 1 : s + size;
  size_t blen = size - (size_t)(body - s);
  qp_query_t *q = NULL;
  err_t err = {0};
  if (qp_parse(s, qlen, a, &q, &err) != 0) return 0;
  snip_matcher_t *m = snip_matcher_new(a, q, &st, 1);
  if (!m) abort();
  const char *out = snip_build(m, 0, body, blen, 240, a);
  if (!out) abort();
  size_t n = strlen(out);
  /* 240 bytes of text, each byte escaped to at most 5, plus marks and "…". */
  if (n > 240 * 5 + 64 * 7 * 8 + 6) abort();
  if (utf8_valid(body, blen) && !utf8_valid(out, n)) abort();
  size_t opens = 0, closes = 0;
  for (const char *p = out; (p = strstr(p, SNIP_OPEN)); p++) opens++;
  for (const char *p = out; (p = strstr(p, SNIP_CLOSE)); p++) closes++;
  if (opens != closes) abort();
  /* Body bytes shown: an entity or a mark is none, "…" none (so a body's
   * own "…" is undercounted, never over), each join's two spaces one each. */
  size_t shown = 0;
  for (const char *p = out; *p; p++) {
    if (*p == '&' || *p == '<') p = strchr(p, *p == '&' ? ';' : '>');
    else if (strncmp(p, "\xE2\x80\xA6", 3) == 0) p += 2;
    else shown++;
  }
  if (shown > 240 + 2 * (SNIP_MAX_PASSAGES - 1)) abort();
  snip_title_check(m, body, blen, a);
  snip_matcher_t *full = snip_matcher_new(a, q, &st, 1);
  if (!full) abort();
  snip_matcher_full_scan(full);
  const char *ref = snip_build(full, 0, body, blen, 240, a);
  if (!ref || strcmp(out, ref) != 0) abort();
  /* The body's start, cut after a white-space byte past its middle (as a
   * stored head is): a snippet built from it alone is the same one, unless
   * it asks for more. */
  size_t cut = blen / 2;
  while (cut < blen && body[cut] != ' ' && body[cut] != '\n') cut++;
  if (cut + 1 < blen) {
    int more = 0;
    const char *part = snip_build_part(m, 0, body, cut + 1, blen, 240, a, &more);
    if (part ? more || strcmp(part, out) != 0 : !more) abort();
    if (more) { /* resumed with the whole body: the same snippet again */
      part = snip_build_part(m, 0, body, blen, blen, 240, a, &more);
      if (!part || more || strcmp(part, out) != 0) abort();
    }
  }
  return 0;
}
