/* hreq.c: see hreq.h.
 *
 * The query string is decoded pair by pair into one scratch buffer; the
 * pairs (offsets into it) are then written out grouped by name, in order of
 * first appearance, so the JSON request is the same whatever order repeated
 * names come in relative to each other.
 */
#include "hreq.h"

#include <stdlib.h>
#include <string.h>

static const char *const hreq_endpoints[] = {"search", "count", "timeline", "explain", "get",
                                             "stats",  "ping",  "help",     NULL};

typedef struct hreq_pair {
  size_t name, nlen; /* offsets into the scratch buffer */
  size_t val, vlen;
  int done; /* written out with an earlier pair of the same name */
} hreq_pair_t;

static int hreq_hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decode s[0..n) (form encoding) onto the end of scratch; base is the
 * offset of s in the whole query string, for error columns. */
static int hreq_decode(const char *s, size_t n, size_t base, buf_t *scratch, err_t *err) {
  size_t start = scratch->len;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    size_t at = base + i + 1; /* this byte's column, for errors */
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      int hi = i + 2 < n ? hreq_hex(s[i + 1]) : -1;
      int lo = hi >= 0 ? hreq_hex(s[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        return err_set(err, ERR_BAD_REQUEST, (int)(base + i) + 1,
                       "bad %%-escape at byte %zu of the query string", base + i + 1);
      c = (char)(hi * 16 + lo);
      i += 2;
    }
    /* No request line may carry a NUL (the line protocol's JSON cannot). */
    if (c == '\0')
      return err_set(err, ERR_BAD_REQUEST, (int)at, "NUL byte at byte %zu of the query string", at);
    buf_putc(scratch, c);
  }
  if (scratch->err) return err_set(err, ERR_NOMEM, 0, NULL);
  if (!utf8_valid(scratch->data + start, scratch->len - start))
    return err_set(err, ERR_BAD_REQUEST, (int)base + 1,
                   "parameter at byte %zu of the query string is not valid UTF-8", base + 1);
  return 0;
}

static int hreq_is(const char *s, size_t n, const char *word) {
  return strlen(word) == n && memcmp(s, word, n) == 0;
}

static int hreq_digits(const char *s, size_t n) {
  if (n == 0 || n > 10) return 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9') return 0;
  return 1;
}

/* facets=outlet,month -> ["outlet","month"]; facets=outlet:20,tag:all ->
 * {"outlet":20,"tag":"all"}; an item that is neither stays a string for
 * proto.c to name. */
static void hreq_facets(buf_t *out, const char *s, size_t n) {
  int object = memchr(s, ':', n) != NULL;
  buf_json_open(out, object ? '{' : '[');
  size_t i = 0;
  while (i <= n) {
    const char *item = s + i;
    const char *comma = memchr(item, ',', n - i);
    size_t len = comma ? (size_t)(comma - item) : n - i;
    if (object) {
      const char *colon = memchr(item, ':', len);
      size_t klen = colon ? (size_t)(colon - item) : len;
      buf_json_str(out, item, klen);
      buf_putc(out, ':');
      const char *v = colon ? colon + 1 : item + len;
      size_t vlen = colon ? len - klen - 1 : 0;
      if (hreq_digits(v, vlen)) buf_json_int(out, strtoll(v, NULL, 10));
      else buf_json_str(out, v, vlen);
    } else {
      buf_json_str(out, item, len);
    }
    i += len + 1;
  }
  buf_json_close(out, object ? '}' : ']');
}

static void hreq_value(buf_t *out, const char *name, size_t nlen, const char *v, size_t vlen) {
  /* The JSON form's booleans: a form field can only send text. */
  int boolean = hreq_is(name, nlen, "exact") || hreq_is(name, nlen, "relax");
  if ((hreq_is(name, nlen, "limit") || hreq_is(name, nlen, "offset")) && hreq_digits(v, vlen)) {
    buf_json_int(out, strtoll(v, NULL, 10));
  } else if (boolean &&
             (hreq_is(v, vlen, "true") || hreq_is(v, vlen, "yes") || hreq_is(v, vlen, "1"))) {
    buf_json_bool(out, 1);
  } else if (boolean &&
             (hreq_is(v, vlen, "false") || hreq_is(v, vlen, "no") || hreq_is(v, vlen, "0"))) {
    buf_json_bool(out, 0);
  } else if (hreq_is(name, nlen, "facets")) {
    hreq_facets(out, v, vlen);
  } else {
    buf_json_str(out, v, vlen);
  }
}

int hreq_from_query(const char *path, size_t plen, const char *query, size_t qlen, buf_t *out,
                    err_t *err) {
  int rc = 0;
  buf_t scratch;
  buf_init(&scratch, 0);
  hreq_pair_t pairs[HREQ_MAX_PARAMS];
  size_t np = 0;

  const char *op = plen && path[0] == '/' ? path + 1 : path;
  size_t oplen = plen && path[0] == '/' ? plen - 1 : plen;
  size_t k = 0;
  while (hreq_endpoints[k] && !hreq_is(op, oplen, hreq_endpoints[k])) k++;
  if (!hreq_endpoints[k]) {
    rc = err_set(err, ERR_UNKNOWN_COMMAND, 0, "no such endpoint '%.*s'",
                 (int)(plen > 60 ? 60 : plen), path);
    goto out;
  }

  for (size_t i = 0; i < qlen;) {
    const char *p = query + i;
    const char *amp = memchr(p, '&', qlen - i);
    size_t len = amp ? (size_t)(amp - p) : qlen - i;
    size_t at = i;
    i += len + 1;
    if (len == 0) continue; /* "a=1&&b=2" */
    const char *eq = memchr(p, '=', len);
    size_t nraw = eq ? (size_t)(eq - p) : len;
    if (nraw == 0) {
      rc = err_set(err, ERR_BAD_REQUEST, (int)at + 1,
                   "parameter without a name at byte %zu of the query string", at + 1);
      goto out;
    }
    if (!eq || len == nraw + 1) continue; /* empty value: as if absent */
    if (np == HREQ_MAX_PARAMS) {
      rc = err_set(err, ERR_BAD_REQUEST, (int)at + 1, "more than %d parameters", HREQ_MAX_PARAMS);
      goto out;
    }
    hreq_pair_t *pr = &pairs[np++];
    memset(pr, 0, sizeof *pr);
    pr->name = scratch.len;
    if ((rc = hreq_decode(p, nraw, at, &scratch, err))) goto out;
    pr->nlen = scratch.len - pr->name;
    if (hreq_is(scratch.data + pr->name, pr->nlen, "op")) { /* the path names it */
      rc = err_set(err, ERR_BAD_REQUEST, (int)at + 1,
                   "parameter 'op' at byte %zu: the path names the request", at + 1);
      goto out;
    }
    pr->val = scratch.len;
    if ((rc = hreq_decode(eq + 1, len - nraw - 1, at + nraw + 1, &scratch, err))) goto out;
    pr->vlen = scratch.len - pr->val;
  }

  buf_json_open(out, '{');
  buf_json_key(out, "op");
  buf_json_str(out, op, oplen);
  const char *sc = scratch.data;
  for (size_t a = 0; a < np; a++) {
    if (pairs[a].done) continue;
    const char *name = sc + pairs[a].name;
    size_t nlen = pairs[a].nlen, same = 0;
    for (size_t b = a; b < np; b++)
      same += pairs[b].nlen == nlen && memcmp(sc + pairs[b].name, name, nlen) == 0;
    buf_json_str(out, name, nlen); /* the separators are buf.h's */
    buf_putc(out, ':');
    if (same > 1) buf_json_open(out, '[');
    for (size_t b = a; b < np; b++) {
      if (pairs[b].nlen != nlen || memcmp(sc + pairs[b].name, name, nlen) != 0) continue;
      pairs[b].done = 1;
      hreq_value(out, name, nlen, sc + pairs[b].val, pairs[b].vlen);
    }
    if (same > 1) buf_json_close(out, ']');
  }
  buf_json_close(out, '}');
  if (out->err) rc = err_set(err, out->err, 0, NULL);
out:
  buf_fini(&scratch);
  return rc;
}
