/* bq.c: the benchmark tools' query set, request lines, percentiles and
 * machine line; see bq.h.
 *
 * The request lines must stay byte-identical to what the peers harness's
 * lineproto adapter sends (its json_escape: ", \, \n, \r, \t as two-byte
 * escapes, other control bytes as \u00XX, everything else verbatim), so the
 * two measure the same work.
 */
#include "bq.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "num.h"

int bq_parse_request(const char *s, bq_request_t *out, const char **why) {
  if (strcmp(s, "text") == 0) *out = BQ_REQ_TEXT;
  else if (strcmp(s, "json") == 0) *out = BQ_REQ_JSON;
  else {
    *why = "--request must be text or json";
    return -1;
  }
  return 0;
}

const char *bq_request_name(bq_request_t req) {
  return req == BQ_REQ_JSON ? "json" : req == BQ_REQ_HTTP ? "http" : "text";
}

/* A growable string; the first failed append sticks in err. */
typedef struct sb {
  char *p;
  size_t len, cap;
  int err;
} sb_t;

static void sb_add(sb_t *b, const char *s, size_t n) {
  if (b->err) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 128;
    while (cap < b->len + n + 1) cap *= 2;
    char *q = realloc(b->p, cap);
    if (!q) {
      b->err = ENOMEM;
      return;
    }
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void sb_puts(sb_t *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_printf(sb_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sb_t *b, const char *fmt, ...) {
  char tmp[64];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof tmp) {
    b->err = EINVAL;
    return;
  }
  sb_add(b, tmp, (size_t)n);
}

/* The harness's json_escape, byte for byte. */
static void sb_json_escaped(sb_t *b, const char *s) {
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    switch (*c) {
      case '"':
        sb_puts(b, "\\\"");
        break;
      case '\\':
        sb_puts(b, "\\\\");
        break;
      case '\n':
        sb_puts(b, "\\n");
        break;
      case '\r':
        sb_puts(b, "\\r");
        break;
      case '\t':
        sb_puts(b, "\\t");
        break;
      default:
        if (*c < 0x20) sb_printf(b, "\\u%04x", *c);
        else sb_add(b, (const char *)c, 1);
    }
  }
}

/* Form encoding: every byte but the unreserved ones as %XX (so a space is
 * %20, never '+'). */
static void sb_url_escaped(sb_t *b, const char *s) {
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
        *c == '-' || *c == '.' || *c == '_' || *c == '~')
      sb_add(b, (const char *)c, 1);
    else sb_printf(b, "%%%02X", *c);
  }
}

/* "&name=value", the value form-encoded, when value is not empty. */
static void sb_param(sb_t *b, const char *name, const char *value) {
  if (!*value) return;
  sb_puts(b, "&");
  sb_puts(b, name);
  sb_puts(b, "=");
  sb_url_escaped(b, value);
}

/* The string member key of o, or "" when absent, null or not a string. */
static const char *str_member(json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : "";
}

static void build_line(sb_t *b, bq_request_t req, const char *host, const char *text,
                       const char *outlet, const char *from, const char *to, long limit,
                       int f_outlet, int f_month) {
  if (req == BQ_REQ_HTTP) {
    sb_puts(b, "GET /search?q=");
    sb_url_escaped(b, text);
    sb_param(b, "outlet", outlet);
    sb_param(b, "from", from);
    sb_param(b, "to", to);
    sb_printf(b, "&limit=%ld", limit);
    if (f_outlet || f_month) {
      sb_puts(b, "&facets=");
      if (f_outlet) sb_puts(b, "outlet");
      if (f_month) sb_puts(b, f_outlet ? ",month" : "month");
    }
    sb_puts(b, " HTTP/1.1\r\nHost: ");
    sb_puts(b, host);
    sb_puts(b, "\r\n\r\n");
  } else if (req == BQ_REQ_JSON) {
    sb_puts(b, "{\"op\":\"search\",\"q\":\"");
    sb_json_escaped(b, text);
    sb_puts(b, "\"");
    if (*outlet) {
      sb_puts(b, ",\"outlet\":[\"");
      sb_json_escaped(b, outlet);
      sb_puts(b, "\"]");
    }
    /* the harness writes the dates unescaped; they are YYYY-MM-DD */
    if (*from) {
      sb_puts(b, ",\"from\":\"");
      sb_puts(b, from);
      sb_puts(b, "\"");
    }
    if (*to) {
      sb_puts(b, ",\"to\":\"");
      sb_puts(b, to);
      sb_puts(b, "\"");
    }
    sb_printf(b, ",\"limit\":%ld", limit);
    if (f_outlet || f_month) {
      sb_puts(b, ",\"facets\":[");
      if (f_outlet) sb_puts(b, "\"outlet\"");
      if (f_month) sb_puts(b, f_outlet ? ",\"month\"" : "\"month\"");
      sb_puts(b, "]");
    }
    sb_puts(b, "}\n");
  } else {
    sb_puts(b, "SEARCH ");
    sb_puts(b, text);
    if (*outlet) {
      sb_puts(b, " outlet:\"");
      sb_puts(b, outlet);
      sb_puts(b, "\"");
    }
    if (*from || *to) {
      sb_puts(b, " date:");
      sb_puts(b, from);
      sb_puts(b, "..");
      sb_puts(b, to);
    }
    sb_printf(b, " limit:%ld", limit);
    if (f_outlet || f_month) {
      sb_puts(b, " facets:");
      if (f_outlet) sb_puts(b, "outlet");
      if (f_month) sb_puts(b, f_outlet ? ",month" : "month");
    }
    sb_puts(b, "\n");
  }
}

/* Is name in the comma-separated list only (NULL or "": everything is)? */
static int class_wanted(const char *only, const char *name) {
  if (!only || !*only) return 1;
  size_t n = strlen(name);
  for (const char *p = only; *p;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == n && memcmp(p, name, n) == 0) return 1;
    if (!e) break;
    p = e + 1;
  }
  return 0;
}

static int add_to_class(bq_set_t *s, const char *name, size_t qi, size_t *cls) {
  size_t c;
  for (c = 0; c < s->nclasses; c++)
    if (strcmp(s->classes[c].name, name) == 0) break;
  if (c == s->nclasses) {
    bq_class_t *nc = realloc(s->classes, (s->nclasses + 1) * sizeof *nc);
    if (!nc) return -1;
    s->classes = nc;
    memset(&nc[c], 0, sizeof nc[c]);
    if (!(nc[c].name = strdup(name))) return -1;
    s->nclasses++;
  }
  bq_class_t *k = &s->classes[c];
  size_t *nq = realloc(k->queries, (k->n + 1) * sizeof *nq);
  if (!nq) return -1;
  k->queries = nq;
  k->queries[k->n++] = qi;
  *cls = c;
  return 0;
}

int bq_load(const char *path, const char *only, bq_request_t req, const char *host, bq_set_t *out,
            char *why, size_t whylen) {
  int rc = -1;
  char *line = NULL;
  size_t cap = 0, lineno = 0, idx = 0;
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  ssize_t got;
  while ((got = getline(&line, &cap, f)) >= 0) {
    lineno++;
    while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r')) line[--got] = '\0';
    if (got == 0) continue;
    json_error_t jerr;
    json_t *o = json_loadb(line, (size_t)got, 0, &jerr);
    if (!o || !json_is_object(o)) {
      snprintf(why, whylen, "%s:%zu: not a JSON object%s%s", path, lineno, o ? "" : ": ",
               o ? "" : jerr.text);
      json_decref(o);
      goto out;
    }
    const char *cls = str_member(o, "class"), *text = str_member(o, "text");
    if (!*cls || !*text) {
      snprintf(why, whylen, "%s:%zu: \"class\" and \"text\" are required", path, lineno);
      json_decref(o);
      goto out;
    }
    size_t this_idx = idx++;
    if (!class_wanted(only, cls)) {
      json_decref(o);
      continue;
    }
    long limit = 10;
    json_t *l = json_object_get(o, "limit");
    if (json_is_integer(l)) limit = (long)json_integer_value(l);
    int f_outlet = 0, f_month = 0;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(o, "facets"), i, v) {
      const char *fn = json_string_value(v);
      if (fn && strcmp(fn, "outlet") == 0) f_outlet = 1;
      if (fn && strcmp(fn, "month") == 0) f_month = 1;
    }
    sb_t b = {0};
    build_line(&b, req, host, text, str_member(o, "outlet"), str_member(o, "from"),
               str_member(o, "to"), limit, f_outlet, f_month);
    bq_query_t *nq = realloc(out->queries, (out->n + 1) * sizeof *nq);
    if (nq) out->queries = nq;
    char *t = strdup(text);
    if (b.err || !nq || !t) {
      free(b.p);
      free(t);
      json_decref(o);
      snprintf(why, whylen, "out of memory");
      goto out;
    }
    bq_query_t *q = &out->queries[out->n];
    q->idx = this_idx;
    q->text = t;
    q->line = b.p;
    q->line_len = b.len;
    out->n++;
    int added = add_to_class(out, cls, out->n - 1, &q->cls);
    json_decref(o);
    if (added) {
      snprintf(why, whylen, "out of memory");
      goto out;
    }
  }
  if (ferror(f)) {
    snprintf(why, whylen, "reading %s: %s", path, strerror(errno));
    goto out;
  }
  if (out->n == 0) {
    snprintf(why, whylen, "%s: no queries%s%s", path, only && *only ? " of class " : "",
             only && *only ? only : "");
    goto out;
  }
  rc = 0;
out:
  free(line);
  fclose(f);
  if (rc) bq_set_free(out);
  return rc;
}

void bq_set_free(bq_set_t *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n; i++) {
    free(s->queries[i].text);
    free(s->queries[i].line);
  }
  for (size_t c = 0; c < s->nclasses; c++) {
    free(s->classes[c].name);
    free(s->classes[c].queries);
  }
  free(s->queries);
  free(s->classes);
  memset(s, 0, sizeof *s);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double bq_pct(double *v, size_t n, double p) {
  if (n == 0) return NAN;
  qsort(v, n, sizeof *v, cmp_double);
  size_t rank = (size_t)ceil(p / 100.0 * (double)n);
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return v[rank - 1];
}

double bq_median(double *v, size_t n) { return bq_pct(v, n, 50); }

int bq_ok(const char *line, size_t len) {
  static const char ok[] = "{\"ok\":true";
  return len >= sizeof ok - 1 && memcmp(line, ok, sizeof ok - 1) == 0;
}

json_t *bq_json_num(double x) { return isnan(x) ? json_null() : json_real(x); }

uint64_t bq_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bq_machine(bq_machine_t *m) {
  memset(m, 0, sizeof *m);
  snprintf(m->cpu, sizeof m->cpu, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (f) {
    char line[512];
    while (fgets(line, sizeof line, f)) {
      if (strncmp(line, "model name", 10) != 0) continue;
      const char *c = strchr(line, ':');
      if (!c) continue;
      c++;
      while (*c == ' ' || *c == '\t') c++;
      snprintf(m->cpu, sizeof m->cpu, "%s", c);
      m->cpu[strcspn(m->cpu, "\n")] = '\0';
      break;
    }
    fclose(f);
  }
  m->cores = sysconf(_SC_NPROCESSORS_ONLN);
  struct utsname u;
  if (uname(&u) == 0) snprintf(m->kernel, sizeof m->kernel, "%s %s", u.sysname, u.release);
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(m->date, sizeof m->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void bq_machine_print(const bq_machine_t *m, FILE *f) {
  fprintf(f, "# machine: cpu=\"%s\" cores=%ld kernel=\"%s\" date=%s", m->cpu, m->cores, m->kernel,
          m->date);
}

json_t *bq_machine_json(const bq_machine_t *m) {
  return json_pack("{s:s, s:I, s:s, s:s}", "cpu", m->cpu, "cores", (json_int_t)m->cores, "kernel",
                   m->kernel, "date", m->date);
}

int bq_parse_int(const char *s, int lo, int hi, int *out) {
  uint64_t v;
  if (lo < 0 || num_parse(s, strlen(s), (uint64_t)lo, (uint64_t)hi, &v)) return -1;
  *out = (int)v;
  return 0;
}

int bq_parse_int_list(const char *s, int *out, int max) {
  int n = 0;
  const char *p = s;
  while (*p) {
    size_t len = strcspn(p, ",");
    uint64_t v;
    if (num_parse(p, len, 0, 100000, &v)) return -1;
    if (v > 0) {
      if (n == max) return -1;
      out[n++] = (int)v;
    }
    p += len;
    if (*p == ',') p++;
  }
  return n;
}
