/* doc.c: the article model: parsing corpus records (SPEC.md "Corpus
 * format") into doc_t, dates, and the GET form of an article.
 *
 * Called by the indexer for every input record (doc_parse_json for JSON
 * Lines, doc_from_text for a directory's .txt files), by the doc store when
 * it decodes a stored article (doc_parse_date, to derive day/sortkey), and by
 * searchd for GET (doc_write_json).
 *
 * Invariants of a doc_t filled here:
 *   - id is 1..SCHEMA_MAX_ID bytes with no control character;
 *   - every string is valid UTF-8 (invalid input bytes were replaced by
 *     U+FFFD before jansson saw them), NUL-terminated and free of NUL
 *     characters (a \u0000 in the input becomes a space);
 *   - an optional field given as null or as "" is absent (NULL), and tags
 *     holds only non-empty strings (ntags 0 and tags NULL when none);
 *   - date is non-NULL only when doc_parse_date understood it, and then day
 *     and sortkey are filled; otherwise both are "" and, if a date was given,
 *     date_warning says why it was dropped.
 * Error details never carry FILE:LINE; the caller knows the position.
 */
#include "doc.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cal.h"
#include "schema.h"

/* The longest excerpt of a bad date quoted in date_warning. */
#define DOC_DATE_QUOTE 64

/* ---- dates ---- */

int doc_valid_day(int y, int m, int d) {
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return 0;
  return (unsigned)d <= cal_month_days((unsigned)y, (unsigned)m);
}

/* n decimal digits at s into *v; 0 if any is not a digit. */
static int doc__digits(const char *s, int n, int *v) {
  int x = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    x = x * 10 + (s[i] - '0');
  }
  *v = x;
  return 1;
}

static int doc__fail(const char **why, const char *reason) {
  if (why) *why = reason;
  return -1;
}

/* Accepted:  YYYY-MM-DD
 *            YYYY-MM-DD{T|t| }hh:mm[:ss[{.|,}frac]][Z|z|±hh[:mm]|±hhmm]
 * The day and time are taken as written; an offset is checked, not applied. */
int doc_parse_date(const char *s, char day[9], char sortkey[15], const char **why) {
  int y, mo, d, h = 0, mi = 0, se = 0;
  day[0] = '\0';
  sortkey[0] = '\0';
  if (!s || !*s) return doc__fail(why, "empty");
  if (!doc__digits(s, 4, &y) || s[4] != '-' || !doc__digits(s + 5, 2, &mo) || s[7] != '-' ||
      !doc__digits(s + 8, 2, &d))
    return doc__fail(why, "not YYYY-MM-DD");
  if (y < 1) return doc__fail(why, "year out of range");
  if (mo < 1 || mo > 12) return doc__fail(why, "month out of range");
  if (!doc_valid_day(y, mo, d)) return doc__fail(why, "no such day");
  const char *p = s + 10;
  if (*p) {
    if (*p != 'T' && *p != 't' && *p != ' ') return doc__fail(why, "unexpected text after the day");
    p++;
    if (!doc__digits(p, 2, &h) || p[2] != ':' || !doc__digits(p + 3, 2, &mi))
      return doc__fail(why, "time is not hh:mm");
    if (h > 23) return doc__fail(why, "hour out of range");
    if (mi > 59) return doc__fail(why, "minute out of range");
    p += 5;
    if (*p == ':') {
      if (!doc__digits(p + 1, 2, &se)) return doc__fail(why, "seconds are not ss");
      if (se > 60) return doc__fail(why, "second out of range");
      p += 3;
      if (*p == '.' || *p == ',') {
        p++;
        if (*p < '0' || *p > '9') return doc__fail(why, "empty fraction of a second");
        while (*p >= '0' && *p <= '9') p++;
      }
    }
    if (*p == 'Z' || *p == 'z') {
      p++;
    } else if (*p == '+' || *p == '-') {
      int oh, om = 0;
      p++;
      if (!doc__digits(p, 2, &oh)) return doc__fail(why, "bad UTC offset");
      p += 2;
      if (*p == ':') {
        if (!doc__digits(p + 1, 2, &om)) return doc__fail(why, "bad UTC offset");
        p += 3;
      } else if (*p >= '0' && *p <= '9') {
        if (!doc__digits(p, 2, &om)) return doc__fail(why, "bad UTC offset");
        p += 2;
      }
      if (oh > 23 || om > 59) return doc__fail(why, "UTC offset out of range");
    }
    if (*p) return doc__fail(why, "unexpected text after the time");
  }
  memcpy(day, s, 4);
  memcpy(day + 4, s + 5, 2);
  memcpy(day + 6, s + 8, 2);
  day[8] = '\0';
  memcpy(sortkey, day, 8);
  const int hms[3] = {h, mi, se};
  for (int i = 0; i < 3; i++) {
    sortkey[8 + 2 * i] = (char)('0' + hms[i] / 10);
    sortkey[9 + 2 * i] = (char)('0' + hms[i] % 10);
  }
  sortkey[14] = '\0';
  return 0;
}

/* ---- strings ---- */

/* Arena copy of s[0..n) with each NUL replaced by a space. */
static char *doc__copy(arena_t *a, const char *s, size_t n) {
  char *p = arena_strndup(a, s, n);
  if (!p) return NULL;
  for (char *q = memchr(p, '\0', n); q; q = memchr(q, '\0', n - (size_t)(q - p))) *q = ' ';
  return p;
}

int doc_check_id(const char *s, size_t n, err_t *err) {
  if (n == 0) return err_set(err, ERR_BAD_INPUT, 0, "id is empty");
  if (n > SCHEMA_MAX_ID)
    return err_set(err, ERR_BAD_INPUT, 0, "id longer than %d bytes", SCHEMA_MAX_ID);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c < 0x20 && c != 0) || c == 0x7F)
      return err_set(err, ERR_BAD_INPUT, 0, "id contains a control character");
  }
  return 0;
}

/* The field `key` of o as an optional string: 0 with *out NULL when absent,
 * null or ""; ERR_BAD_INPUT when it is not a string. */
static int doc__opt_str(json_t *o, const char *key, arena_t *a, const char **out, err_t *err) {
  *out = NULL;
  json_t *v = json_object_get(o, key);
  if (!v || json_is_null(v)) return 0;
  if (!json_is_string(v)) return err_set(err, ERR_BAD_INPUT, 0, "field '%s' must be a string", key);
  size_t n = json_string_length(v);
  if (n == 0) return 0;
  *out = doc__copy(a, json_string_value(v), n);
  return *out ? 0 : err_set(err, ERR_NOMEM, 0, NULL);
}

static int doc__tags(json_t *o, arena_t *a, doc_t *d, err_t *err) {
  json_t *v = json_object_get(o, "tags");
  if (!v || json_is_null(v)) return 0;
  if (!json_is_array(v))
    return err_set(err, ERR_BAD_INPUT, 0, "field 'tags' must be an array of strings");
  size_t n = json_array_size(v);
  for (size_t i = 0; i < n; i++)
    if (!json_is_string(json_array_get(v, i)))
      return err_set(err, ERR_BAD_INPUT, 0, "field 'tags' must be an array of strings");
  if (n == 0) return 0;
  const char **tags = arena_calloc(a, n, sizeof *tags);
  if (!tags) return err_set(err, ERR_NOMEM, 0, NULL);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *t = json_array_get(v, i);
    size_t len = json_string_length(t);
    if (len == 0) continue;
    if (!(tags[k++] = doc__copy(a, json_string_value(t), len)))
      return err_set(err, ERR_NOMEM, 0, NULL);
  }
  d->tags = k ? tags : NULL;
  d->ntags = k;
  return 0;
}

/* Quote at most DOC_DATE_QUOTE bytes of a bad date, cut on a character
 * boundary, control characters shown as '?'. */
static const char *doc__date_warning(arena_t *a, const char *date, const char *why) {
  char q[DOC_DATE_QUOTE * 2 + 4];
  size_t n = 0, len = strlen(date);
  const unsigned char *s = (const unsigned char *)date;
  for (size_t i = 0; i < len && n < DOC_DATE_QUOTE;) {
    size_t k = utf8_seq_len(s + i, len - i);
    if (!k) k = 1; /* cannot happen: strings are repaired */
    if (s[i] < 0x20 || s[i] == 0x7F) {
      q[n++] = '?';
    } else {
      memcpy(q + n, s + i, k);
      n += k;
    }
    i += k;
    if (i < len && n >= DOC_DATE_QUOTE) {
      memcpy(q + n, "...", 3);
      n += 3;
    }
  }
  q[n] = '\0';
  return arena_sprintf(a, "bad date '%s': %s", q, why);
}

static int doc__date(arena_t *a, doc_t *d, err_t *err) {
  if (!d->date) return 0;
  const char *why = NULL;
  if (doc_parse_date(d->date, d->day, d->sortkey, &why) == 0) return 0;
  d->date_warning = doc__date_warning(a, d->date, why);
  d->date = NULL;
  if (!d->date_warning) return err_set(err, ERR_NOMEM, 0, NULL);
  return 0;
}

/* ---- JSON Lines records ---- */

int doc_parse_json(const char *line, size_t len, arena_t *a, doc_t *d, err_t *err) {
  int rc = 0;
  json_t *root = NULL;
  buf_t fixed;
  buf_init(&fixed, 0);
  memset(d, 0, sizeof *d);

  const char *text = line;
  if (!utf8_valid(line, len)) {
    if (utf8_repair(&fixed, line, len)) {
      rc = err_set(err, ERR_NOMEM, 0, NULL);
      goto out;
    }
    text = fixed.data;
    len = fixed.len;
  }

  json_error_t je;
  root = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
  if (!root) {
    int col = je.column > 0 ? je.column : 1;
    int pos = je.position > 0 ? je.position : 1;
    rc = err_set(err, ERR_BAD_INPUT, pos, "not valid JSON: %s at column %d", je.text, col);
    goto out;
  }
  if (!json_is_object(root)) {
    rc = err_set(err, ERR_BAD_INPUT, 1, "line is not a JSON object");
    goto out;
  }

  json_t *id = json_object_get(root, "id");
  if (!id || json_is_null(id)) {
    rc = err_set(err, ERR_BAD_INPUT, 0, "missing id");
    goto out;
  }
  if (!json_is_string(id)) {
    rc = err_set(err, ERR_BAD_INPUT, 0, "id must be a string");
    goto out;
  }
  if ((rc = doc_check_id(json_string_value(id), json_string_length(id), err))) goto out;
  if (!(d->id = doc__copy(a, json_string_value(id), json_string_length(id)))) {
    rc = err_set(err, ERR_NOMEM, 0, NULL);
    goto out;
  }

  static const struct {
    const char *key;
    size_t off;
  } fields[] = {
      {"title", offsetof(doc_t, title)},   {"outlet", offsetof(doc_t, outlet)},
      {"date", offsetof(doc_t, date)},     {"url", offsetof(doc_t, url)},
      {"author", offsetof(doc_t, author)}, {"lang", offsetof(doc_t, lang)},
      {"body", offsetof(doc_t, body)},
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    const char **slot = (const char **)((char *)d + fields[i].off);
    if ((rc = doc__opt_str(root, fields[i].key, a, slot, err))) goto out;
  }
  if ((rc = doc__tags(root, a, d, err))) goto out;
  rc = doc__date(a, d, err);

out:
  json_decref(root);
  buf_fini(&fixed);
  if (rc) memset(d, 0, sizeof *d);
  return rc;
}

/* ---- .txt articles ---- */

static int doc__blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\f' && s[i] != '\v') return 0;
  return 1;
}

static int doc__space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

int doc_from_text(const char *relpath, const char *text, size_t len, arena_t *a, doc_t *d,
                  err_t *err) {
  int rc = 0;
  buf_t fixed;
  buf_init(&fixed, 0);
  memset(d, 0, sizeof *d);

  if ((rc = doc_check_id(relpath, strlen(relpath), err))) goto out;
  if (!(d->id = arena_strdup(a, relpath))) goto nomem;

  /* Repaired, NUL-free text with CRLF (and lone CR) line ends made LF. */
  if (utf8_repair(&fixed, text, len)) goto nomem;
  char *t = fixed.data ? fixed.data : (char *)"";
  size_t n = fixed.len, w = 0;
  if (n >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0) { /* byte order mark */
    memmove(t, t + 3, n - 3);
    n -= 3;
  }
  for (size_t r = 0; r < n; r++) {
    char c = t[r];
    if (c == '\r') {
      if (r + 1 < n && t[r + 1] == '\n') continue;
      c = '\n';
    }
    t[w++] = c ? c : ' ';
  }
  n = w;

  /* Title: the first line that is not blank, trimmed. */
  size_t pos = 0;
  const char *title = NULL;
  size_t tlen = 0;
  while (pos < n) {
    const char *nl = memchr(t + pos, '\n', n - pos);
    size_t end = nl ? (size_t)(nl - t) : n;
    if (!doc__blank(t + pos, end - pos)) {
      size_t b = pos, e = end;
      while (b < e && doc__space(t[b])) b++;
      while (e > b && doc__space(t[e - 1])) e--;
      title = t + b;
      tlen = e - b;
      pos = end < n ? end + 1 : n;
      break;
    }
    pos = end < n ? end + 1 : n;
  }
  if (!title) {
    rc = err_set(err, ERR_BAD_INPUT, 0, "file has no text");
    goto out;
  }
  if (!(d->title = arena_strndup(a, title, tlen))) goto nomem;

  /* Body: the rest, without leading and trailing blank lines (nor trailing
   * white space). */
  size_t b = pos, e = n;
  while (b < n) {
    const char *nl = memchr(t + b, '\n', n - b);
    size_t end = nl ? (size_t)(nl - t) : n;
    if (!doc__blank(t + b, end - b)) break;
    b = end < n ? end + 1 : n;
  }
  while (e > b && doc__space(t[e - 1])) e--;
  if (e > b && !(d->body = arena_strndup(a, t + b, e - b))) goto nomem;
  goto out;

nomem:
  rc = err_set(err, ERR_NOMEM, 0, NULL);
out:
  buf_fini(&fixed);
  if (rc) memset(d, 0, sizeof *d);
  return rc;
}

/* ---- output ---- */

void doc_write_json(const doc_t *d, buf_t *out) {
  const struct {
    const char *key, *val;
  } fields[] = {
      {"id", d->id},   {"title", d->title},   {"outlet", d->outlet}, {"date", d->date},
      {"url", d->url}, {"author", d->author}, {"lang", d->lang},
  };
  buf_json_open(out, '{');
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    if (!fields[i].val) continue;
    buf_json_key(out, fields[i].key);
    buf_json_cstr(out, fields[i].val);
  }
  if (d->ntags) {
    buf_json_key(out, "tags");
    buf_json_open(out, '[');
    for (size_t i = 0; i < d->ntags; i++) buf_json_cstr(out, d->tags[i] ? d->tags[i] : "");
    buf_json_close(out, ']');
  }
  if (d->body) {
    buf_json_key(out, "body");
    buf_json_cstr(out, d->body);
  }
  buf_json_close(out, '}');
}

/* ---- copies ---- */

static size_t doc_len(const char *s) { return s ? strlen(s) + 1 : 0; }

static const char *doc_put(char **p, const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *dst = memcpy(*p, s, n);
  *p += n;
  return dst;
}

doc_t *doc_clone(const doc_t *d, size_t *bytes) {
  const char *const *f[] = {&d->id,  &d->outlet, &d->date, &d->title,
                            &d->url, &d->author, &d->lang, &d->body};
  size_t size = sizeof(doc_t) + d->ntags * sizeof(char *);
  for (size_t i = 0; i < sizeof f / sizeof *f; i++) size += doc_len(*f[i]);
  for (size_t i = 0; i < d->ntags; i++) size += doc_len(d->tags[i]);
  doc_t *c = malloc(size);
  if (!c) return NULL;
  *c = *d;
  c->date_warning = NULL;
  const char **tags = (const char **)(c + 1);
  char *p = (char *)(tags + d->ntags);
  c->tags = d->ntags ? tags : NULL;
  for (size_t i = 0; i < d->ntags; i++) tags[i] = doc_put(&p, d->tags[i]);
  c->id = doc_put(&p, d->id);
  c->outlet = doc_put(&p, d->outlet);
  c->date = doc_put(&p, d->date);
  c->title = doc_put(&p, d->title);
  c->url = doc_put(&p, d->url);
  c->author = doc_put(&p, d->author);
  c->lang = doc_put(&p, d->lang);
  c->body = doc_put(&p, d->body);
  if (bytes) *bytes = size;
  return c;
}
