/* opts.c: see opts.h.  The table below is the one place a setting's name,
 * default, range and help are written. */
#include "opts.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "num.h"
#include "qp.h"

typedef enum opts_type {
  T_STR,   /* any non-empty text */
  T_LIST,  /* text, repeatable (up to max values; count_off counts them) */
  T_NUM,   /* decimal integer in [min, max] */
  T_SIZE,  /* like T_NUM, with an optional K, M or G suffix (binary) */
  T_OCTAL, /* octal permissions */
  T_FLAG,  /* no value on the command line; yes/no in a file */
  T_LEVEL, /* a log level name */
  T_ACTION /* --help and the like: command line only */
} opts_type_t;

typedef struct opts_def {
  const char *name;
  opts_type_t type;
  size_t off;      /* of the member in opts_t */
  const char *def; /* default, as a user would write it; NULL: unset */
  uint64_t min, max;
  const char *arg; /* the value's name in --help */
  const char *help;
  size_t count_off; /* T_LIST: of the member counting the values */
} opts_def_t;

#define F(m) offsetof(opts_t, m)
#define STR_(x) #x
#define STR(x) STR_(x)

static const opts_def_t opts_table[] = {
    {"index", T_LIST, F(index), NULL, 0, OPTS_MAX_INDEX, "DIR",
     "the index: a directory, or a Xapian stub file listing shards, local and remote "
     "(xapian-tcpsrv); repeat it to serve several indexes as one; required",
     F(nindex)},
    {"listen", T_LIST, F(listen), "127.0.0.1:9412", 0, OPTS_MAX_LISTEN, "HOST:PORT",
     "line-protocol TCP address, repeatable; port 0 picks one, logged as \"listening on HOST:PORT\"",
     F(nlisten)},
    {"unix", T_STR, F(unix_path), NULL, 0, 0, "PATH",
     "also listen on a Unix socket (a stale socket file is removed)", 0},
    {"unix-mode", T_OCTAL, F(unix_mode), "0600", 0, 0777, "OCTAL", "permissions of the socket file",
     0},
    {"http", T_STR, F(http), NULL, 0, 0, "HOST:PORT",
     "also serve HTTP and the web page there; port 0 picks one, logged as \"http listening on "
     "HOST:PORT\"",
     0},
    {"auth-file", T_STR, F(auth_file), NULL, 0, 0, "FILE",
     "require the secret in FILE's first line (8 characters or more): \"AUTH <secret>\" first on "
     "the line protocol, \"Authorization: Bearer <secret>\" over HTTP",
     0},
    {"insecure-bind", T_FLAG, F(insecure_bind), "no", 0, 1, NULL,
     "allow a non-loopback --listen or --http address without --auth-file", 0},
    {"threads", T_NUM, F(threads), "0", 0, 1024, "N", "worker threads (0: one per CPU)", 0},
    {"shard-threads", T_NUM, F(shard_threads), "0", 0, 8, "N",
     "threads matching one query at once (a stub's local shards, or one index cut in as many "
     "ranges of documents), for a phrase or a query that reads many postings, while the workers "
     "leave cores idle (0: one per CPU; 1: Xapian's one match)",
     0},
    {"max-line", T_SIZE, F(max_line), "64K", 16, 64u << 20, "BYTES",
     "longest request line, URL or HTTP body; longer is too_long (HTTP 413), and a line-protocol "
     "connection is closed",
     0},
    {"max-pipeline", T_NUM, F(max_pipeline), "128", 1, 1000000, "N",
     "unanswered requests per connection before reading it pauses", 0},
    {"max-output", T_SIZE, F(max_output), "8M", 1024, 1u << 30, "BYTES",
     "buffered answer bytes per connection before its requests pause", 0},
    {"max-connections", T_NUM, F(max_connections), "1024", 1, 1000000, "N",
     "connections per protocol; past it a new one gets busy (HTTP 503) and is closed", 0},
    {"idle-timeout", T_NUM, F(idle_timeout_s), "0", 0, 604800, "SEC",
     "close line-protocol connections idle that long (0: never); over HTTP a request must arrive "
     "within it and a keep-alive connection idles at most that long (0: 10 s)",
     0},
    {"query-timeout", T_NUM, F(query_timeout_ms), "5000", 0, 3600000, "MS",
     "time limit of one query, answered timeout (HTTP 504) past it (0: none)", 0},
    {"max-limit", T_NUM, F(max_limit), STR(QP_MAX_LIMIT), 1, QP_MAX_LIMIT, "N",
     "largest page size (limit:)", 0},
    {"max-offset", T_NUM, F(max_offset), "100000", 0, UINT32_MAX, "N", "largest result offset", 0},
    {"bm25", T_STR, F(bm25), "2,0.75", 0, 0, "K1,B",
     "BM25 parameters of relevance ranking (0 < K1, 0 < B <= 1)", 0},
    {"max-expansion", T_NUM, F(max_expansion), "0", 0, UINT32_MAX, "N",
     "words one prefix (a*) may expand to (0: no cap)", 0},
    {"reload-interval", T_NUM, F(reload_interval_s), "2", 0, 86400, "SEC",
     "look for a new index revision that often (0: only on SIGHUP)", 0},
    {"cache-mb", T_NUM, F(cache_mb), "64", 0, 1u << 20, "MB", "result cache size (0: no cache)", 0},
    {"inline-budget", T_NUM, F(inline_budget), "50000", 0, UINT64_MAX / 2, "N",
     "when no worker is busy, the event-loop thread answers a request itself if its estimated "
     "work (postings, plus a cost per hit) is at most N (0: never)",
     0},
    {"spin-us", T_NUM, F(spin_us), "200", 0, 100000, "US",
     "when a request comes within US microseconds of the answer before it, the event loop "
     "polls for the next one that long after answering instead of sleeping (0: always sleep): "
     "a client that sends request after request pays no thread wake-up each time",
     0},
    {"shutdown-timeout", T_NUM, F(shutdown_timeout_s), "30", 0, 86400, "SEC",
     "after SIGTERM, close connections still busy after that long (0: wait for them)", 0},
    {"log-level", T_LEVEL, F(log_level), "info", 0, 0, "LEVEL", "error, warn, info or debug", 0},
    {"query-log", T_STR, F(query_log), NULL, 0, 0, "FILE",
     "append one JSON line per request (time, command, query, total, took_us); reopened on "
     "SIGHUP",
     0},
    {"slow-ms", T_NUM, F(slow_ms), "0", 0, 3600000, "MS",
     "log only requests that took at least that long", 0},
    {"config", T_STR, F(config), NULL, 0, 0, "FILE",
     "read settings from FILE: \"name = value\" lines named as these flags, '#' comments; the "
     "command line wins",
     0},
    {"check-config", T_ACTION, F(check_config), NULL, 0, 0, NULL,
     "check the settings and the index, print the effective settings as a config file, exit", 0},
    {"help", T_ACTION, F(help), NULL, 0, 0, NULL, "this help", 0},
    {"man", T_ACTION, F(man), NULL, 0, 0, NULL, "the manual page (roff)", 0},
    {"version", T_ACTION, F(version), NULL, 0, 0, NULL, "the version", 0},
};
#define OPTS_N (sizeof opts_table / sizeof opts_table[0])

static const opts_def_t *opts_find(const char *name, size_t len) {
  for (size_t i = 0; i < OPTS_N; i++)
    if (strlen(opts_table[i].name) == len && memcmp(opts_table[i].name, name, len) == 0)
      return &opts_table[i];
  return NULL;
}

static int opts_fail(char *why, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int opts_fail(char *why, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, n, fmt, ap);
  va_end(ap);
  return -1;
}

static uint64_t *opts_num(opts_t *o, const opts_def_t *d) {
  return (uint64_t *)((char *)o + d->off);
}
static const char **opts_str(opts_t *o, const opts_def_t *d) {
  return (const char **)((char *)o + d->off);
}

/* Set d from text (where: "--name" or "FILE:LINE" for messages). */
static int opts_set(opts_t *o, const opts_def_t *d, const char *v, const char *where, char *why,
                    size_t n) {
  uint64_t x = 0;
  char *end = NULL;
  switch (d->type) {
    case T_STR:
      if (!*v) return opts_fail(why, n, "%s: empty value", where);
      *opts_str(o, d) = v;
      return 0;
    case T_LIST: {
      size_t *count = (size_t *)((char *)o + d->count_off);
      if (!*v) return opts_fail(why, n, "%s: empty value", where);
      if (*count == d->max)
        return opts_fail(why, n, "%s: at most %llu values", where, (unsigned long long)d->max);
      ((const char **)((char *)o + d->off))[(*count)++] = v;
      return 0;
    }
    case T_FLAG:
      if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on")) x = 1;
      else if (strcmp(v, "no") && strcmp(v, "false") && strcmp(v, "0") && strcmp(v, "off"))
        return opts_fail(why, n, "%s: expected yes or no, got '%s'", where, v);
      *opts_num(o, d) = x;
      return 0;
    case T_LEVEL: {
      int l = log_parse_level(v);
      if (l < 0)
        return opts_fail(why, n, "%s: expected error, warn, info or debug, got '%s'", where, v);
      *opts_num(o, d) = (uint64_t)l;
      return 0;
    }
    case T_OCTAL:
      errno = 0;
      x = strtoull(v, &end, 8);
      if (errno || end == v || *end || v[0] == '-' || x > d->max)
        return opts_fail(why, n, "%s: expected octal permissions such as 0600, got '%s'", where, v);
      *opts_num(o, d) = x;
      return 0;
    case T_NUM:
    case T_SIZE: {
      const char *unit = v + strspn(v, "0123456789"); /* a size's unit follows its digits */
      if (num_parse(v, (size_t)(unit - v), 0, UINT64_MAX, &x))
        return opts_fail(why, n, "%s: expected a number, got '%s'", where, v);
      if (d->type == T_SIZE && *unit) {
        unsigned shift = *unit == 'k' || *unit == 'K'   ? 10
                         : *unit == 'm' || *unit == 'M' ? 20
                         : *unit == 'g' || *unit == 'G' ? 30
                                                        : 0;
        if (!shift)
          return opts_fail(why, n, "%s: bad size '%s' (a number, optionally K, M or G)", where, v);
        unit++;
        if (*unit == 'i') unit++;
        if (*unit == 'B' || *unit == 'b') unit++;
        if (x > (UINT64_MAX >> shift)) return opts_fail(why, n, "%s: '%s' is too large", where, v);
        x <<= shift;
      }
      if (*unit) return opts_fail(why, n, "%s: expected a number, got '%s'", where, v);
      if (x < d->min || x > d->max)
        return opts_fail(why, n, "%s: %s is out of range (%llu..%llu)", where, v,
                         (unsigned long long)d->min, (unsigned long long)d->max);
      *opts_num(o, d) = x;
      return 0;
    }
    case T_ACTION:
      *(int *)((char *)o + d->off) = 1;
      return 0;
  }
  return opts_fail(why, n, "%s: unhandled setting", where);
}

static int opts_read_file(opts_t *o, const char *path, char *why, size_t n) {
  FILE *f = fopen(path, "rb");
  if (!f) return opts_fail(why, n, "--config %s: %s", path, strerror(errno));
  size_t cap = 4096, len = 0;
  char *text = malloc(cap);
  size_t got;
  while (text && (got = fread(text + len, 1, cap - len - 1, f)) > 0) {
    len += got;
    if (len + 1 == cap) {
      char *t = cap < (1u << 20) ? realloc(text, cap * 2) : NULL;
      if (!t) {
        free(text);
        text = NULL;
        break;
      }
      text = t;
      cap *= 2;
    }
  }
  fclose(f);
  if (!text) return opts_fail(why, n, "--config %s: too large or out of memory", path);
  text[len] = '\0';
  o->config_text = text;
  if (memchr(text, '\0', len)) return opts_fail(why, n, "%s: contains a NUL byte", path);
  unsigned lineno = 0;
  for (char *line = text; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    lineno++;
    char where[300];
    snprintf(where, sizeof where, "%s:%u", path, lineno);
    char *s = line;
    line = nl ? nl + 1 : NULL;
    size_t l = strlen(s);
    while (l && (s[l - 1] == '\r' || s[l - 1] == ' ' || s[l - 1] == '\t')) s[--l] = '\0';
    while (*s == ' ' || *s == '\t') s++;
    if (!*s || *s == '#') continue;
    char *eq = strchr(s, '=');
    if (!eq) return opts_fail(why, n, "%s: expected \"name = value\"", where);
    char *k = s, *ke = eq;
    while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t')) ke--;
    char *v = eq + 1;
    while (*v == ' ' || *v == '\t') v++;
    size_t vl = strlen(v);
    if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
      v[vl - 1] = '\0';
      v++;
    }
    const opts_def_t *d = opts_find(k, (size_t)(ke - k));
    if (!d) return opts_fail(why, n, "%s: unknown setting '%.*s'", where, (int)(ke - k), k);
    if (d->type == T_ACTION || !strcmp(d->name, "config"))
      return opts_fail(why, n, "%s: '%s' is not a setting a file can hold", where, d->name);
    if (opts_set(o, d, v, where, why, n)) return -1;
  }
  return 0;
}

int opts_parse(int argc, char **argv, opts_t *o, char *why, size_t n) {
  memset(o, 0, sizeof *o);
  for (size_t i = 0; i < OPTS_N; i++)
    if (opts_table[i].def && opts_table[i].type != T_LIST &&
        opts_set(o, &opts_table[i], opts_table[i].def, "default", why, n))
      return -1; /* a bad default is our bug; say so rather than abort */
  /* The config file first (its name comes from the command line). */
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--config") && i + 1 < argc) o->config = argv[i + 1];
    else if (!strncmp(argv[i], "--config=", 9)) o->config = argv[i] + 9;
  }
  if (o->config && opts_read_file(o, o->config, why, n)) return -1;
  int replaced[OPTS_N] = {0}; /* a list the command line has started anew */
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2) != 0 || !a[2]) return opts_fail(why, n, "unexpected argument '%s'", a);
    const char *eq = strchr(a + 2, '=');
    const opts_def_t *d = opts_find(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
    if (!d) return opts_fail(why, n, "unknown option '%s'", a);
    char where[64];
    snprintf(where, sizeof where, "--%s", d->name);
    const char *v;
    if (d->type == T_FLAG || d->type == T_ACTION) {
      if (eq) return opts_fail(why, n, "%s takes no value", where);
      v = "yes";
    } else if (eq) {
      v = eq + 1;
    } else if (i + 1 < argc) {
      v = argv[++i];
    } else {
      return opts_fail(why, n, "%s needs a value", where);
    }
    if (d->type == T_LIST && !replaced[d - opts_table]) { /* the command line's list
                                                               replaces the file's */
      *(size_t *)((char *)o + d->count_off) = 0;
      replaced[d - opts_table] = 1;
    }
    if (opts_set(o, d, v, where, why, n)) return -1;
  }
  if (o->help || o->man || o->version) return 0;
  if (!o->nindex) return opts_fail(why, n, "--index DIR is required");
  for (size_t i = 0; i < OPTS_N; i++) {
    const opts_def_t *d = &opts_table[i];
    if (d->type == T_LIST && d->def && *(size_t *)((char *)o + d->count_off) == 0 &&
        opts_set(o, d, d->def, "default", why, n))
      return -1;
  }
  return 0;
}

void opts_free(opts_t *o) {
  free(o->config_text);
  o->config_text = NULL;
}

/* Write text wrapped at width, every line after the first indented. */
static void opts_wrap(FILE *f, const char *text, size_t col, size_t indent, size_t width) {
  const char *p = text;
  while (*p) {
    const char *sp = strchr(p, ' ');
    size_t wl = sp ? (size_t)(sp - p) : strlen(p);
    if (col > indent && col + 1 + wl > width) {
      fprintf(f, "\n%*s", (int)indent, "");
      col = indent;
    } else if (col > indent) {
      fputc(' ', f);
      col++;
    }
    fwrite(p, 1, wl, f);
    col += wl;
    p += wl;
    while (*p == ' ') p++;
  }
  fputc('\n', f);
}

void opts_usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage: %s --index DIR [options]\n"
          "Serve a Sift index over the line protocol and, with --http, HTTP (SPEC.md).\n"
          "Every option may also be set in a --config file as \"name = value\".\n\n",
          prog);
  for (size_t i = 0; i < OPTS_N; i++) {
    const opts_def_t *d = &opts_table[i];
    char head[64], text[600];
    snprintf(head, sizeof head, "  --%s%s%s", d->name, d->arg ? " " : "", d->arg ? d->arg : "");
    if (d->def && d->type != T_FLAG)
      snprintf(text, sizeof text, "%s (default %s)", d->help, d->def);
    else snprintf(text, sizeof text, "%s", d->help);
    fprintf(f, "%-26s", head);
    size_t col = strlen(head) < 26 ? 26 : strlen(head);
    if (strlen(head) >= 26) {
      fprintf(f, "\n%26s", "");
      col = 26;
    }
    opts_wrap(f, text, col, 26, 79);
  }
  fprintf(f,
          "\nSignals: SIGHUP reloads the index now and reopens the query log; SIGTERM/SIGINT\n"
          "answer the requests in hand, close the connections and exit 0.\n");
}

/* roff text: backslashes and hyphens escaped, no line starting with '.'. */
static void opts_roff(FILE *f, const char *s) {
  if (*s == '.' || *s == '\'') fputs("\\&", f);
  for (; *s; s++) {
    if (*s == '\\') fputs("\\e", f);
    else if (*s == '-') fputs("\\-", f);
    else fputc(*s, f);
  }
}

void opts_man(FILE *f, const char *prog, const char *version) {
  char name[64];
  size_t k = 0;
  for (const char *p = prog; *p && k + 3 < sizeof name; p++) {
    if (*p == '-') name[k++] = '\\';
    name[k++] = *p;
  }
  name[k] = '\0';
  prog = name; /* as roff text: sift\-searchd */
  fprintf(f,
          ".TH SIFT\\-SEARCHD 1 \"\" \"sift %s\" \"User Commands\"\n"
          ".SH NAME\n%s \\- serve a Sift index over a line protocol and HTTP\n"
          ".SH SYNOPSIS\n.B %s\n.B \\-\\-index\n.I DIR\n[\\fIoptions\\fR]\n"
          ".SH DESCRIPTION\n"
          "Answers full\\-text queries on an index built by \\fBsift\\-indexer\\fR(1): one JSON "
          "line per request over TCP or a Unix socket, and with \\fB\\-\\-http\\fR the same "
          "answers over HTTP/1.1 (GET /search?q=..., /count, /get?id=..., /explain, /stats, "
          "/ping, POST / with a JSON request), Prometheus figures at /metrics and a search page "
          "at /.  Queries run on worker threads; a new index revision is picked up without a "
          "restart.\n"
          ".PP\nEvery option can also be set in a configuration file given with "
          "\\fB\\-\\-config\\fR, one \\fIname\\fR = \\fIvalue\\fR line per setting, named as the "
          "long options below (without the dashes); '#' starts a comment line. The command line "
          "wins over the file.\n"
          ".SH OPTIONS\n",
          version, prog, prog);
  for (size_t i = 0; i < OPTS_N; i++) {
    const opts_def_t *d = &opts_table[i];
    fputs(".TP\n.B \\-\\-", f);
    opts_roff(f, d->name);
    if (d->arg) {
      fputs(" \\fI", f);
      opts_roff(f, d->arg);
      fputs("\\fR", f);
    }
    fputc('\n', f);
    opts_roff(f, d->help);
    if (d->def && d->type != T_FLAG) {
      fputs(" (default ", f);
      opts_roff(f, d->def);
      fputc(')', f);
    }
    fputs(".\n", f);
  }
  fputs(
      ".SH SIGNALS\n.TP\n.B SIGHUP\nreopen the index now and reopen the query log "
      "(for log rotation).\n.TP\n.B SIGTERM, SIGINT\nstop accepting, answer the requests in "
      "hand, exit 0.\n"
      ".SH EXIT STATUS\n0 after SIGTERM, 1 when the index cannot be opened or an address "
      "bound, 2 on a usage or configuration error.\n"
      ".SH FILES\n.TP\n.I /etc/sift/searchd.conf\nthe configuration file of the packaged "
      "systemd unit \\fBsift\\-searchd.service\\fR.\n"
      ".SH SEE ALSO\n\\fBsift\\-indexer\\fR(1), \\fBsift\\-query\\fR(1)\n",
      f);
}

void opts_dump(FILE *f, const opts_t *o) {
  opts_t *m = (opts_t *)o; /* read only: opts_num/opts_str take the offset */
  for (size_t i = 0; i < OPTS_N; i++) {
    const opts_def_t *d = &opts_table[i];
    if (d->type == T_ACTION || !strcmp(d->name, "config")) continue;
    switch (d->type) {
      case T_STR: {
        const char *v = *opts_str(m, d);
        if (v) fprintf(f, "%s = %s\n", d->name, v);
        else fprintf(f, "# %s =\n", d->name);
        break;
      }
      case T_LIST: {
        size_t count = *(const size_t *)((const char *)o + d->count_off);
        const char *const *v = (const char *const *)((const char *)o + d->off);
        for (size_t k = 0; k < count; k++) fprintf(f, "%s = %s\n", d->name, v[k]);
        break;
      }
      case T_FLAG:
        fprintf(f, "%s = %s\n", d->name, *opts_num(m, d) ? "yes" : "no");
        break;
      case T_LEVEL:
        fprintf(f, "%s = %s\n", d->name, log_level_name((log_level_t)*opts_num(m, d)));
        break;
      case T_OCTAL:
        fprintf(f, "%s = 0%llo\n", d->name, (unsigned long long)*opts_num(m, d));
        break;
      default:
        fprintf(f, "%s = %llu\n", d->name, (unsigned long long)*opts_num(m, d));
        break;
    }
  }
}
