/* render.c: a response line shown to a person (sift-query without --json).
 *
 * SEARCH answers become a numbered list (title, outlet, date, id, snippet;
 * the matched words in bold in the snippet and underlined in the title on a
 * terminal, between *stars* when piped; a snippet's passages joined by " … ")
 * followed by facet counts; TIMELINE answers a bar chart (render_timeline);
 * other answers are printed as indented JSON;
 * errors as one "error:" line.
 */
#include "render.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

static const char *str(json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : "";
}

/* A marked string (a snippet, a title_html): on a terminal the marks become
 * open / close, else stars; entities become characters. */
static void render_marked(FILE *f, const char *s, int color, const char *open, const char *close) {
  const struct {
    const char *from, *tty, *plain;
  } subs[] = {{"<b>", open, "*"},
              {"</b>", close, "*"},
              {"&lt;", "<", "<"},
              {"&gt;", ">", ">"},
              {"&amp;", "&", "&"}};
  while (*s) {
    size_t k = 0, n = sizeof subs / sizeof subs[0];
    while (k < n && strncmp(s, subs[k].from, strlen(subs[k].from)) != 0) k++;
    if (k < n) {
      fputs(color ? subs[k].tty : subs[k].plain, f);
      s += strlen(subs[k].from);
    } else {
      fputc(*s++, f);
    }
  }
}

static void render_search(FILE *f, json_t *r, int color) {
  json_t *hits = json_object_get(r, "hits");
  long long total = json_integer_value(json_object_get(r, "total"));
  int exact = json_is_true(json_object_get(r, "total_exact"));
  long long offset = json_integer_value(json_object_get(r, "offset"));
  fprintf(f, "%s%lld article%s%s, %.1f ms\n", exact ? "" : "about ", total, total == 1 ? "" : "s",
          json_array_size(hits) ? "" : " (no hits on this page)",
          (double)json_integer_value(json_object_get(r, "took_us")) / 1000.0);
  if (json_is_true(json_object_get(r, "relaxed")))
    fputs("(no article has all the words: these have some of them)\n", f);
  size_t i;
  json_t *h;
  json_array_foreach(hits, i, h) {
    const char *b = color ? "\033[1m" : "", *e = color ? "\033[0m" : "";
    /* The title in bold on a terminal, its matched words underlined too. */
    fprintf(f, "\n%lld. %s", offset + (long long)i + 1, b);
    if (*str(h, "title_html")) render_marked(f, str(h, "title_html"), color, "\033[4m", "\033[24m");
    else fputs(str(h, "title"), f);
    fprintf(f, "%s\n", e);
    fprintf(f, "   %s%s%s  [%s]\n", str(h, "outlet"), *str(h, "date") ? " · " : "", str(h, "date"),
            str(h, "id"));
    if (*str(h, "snippet")) {
      fputs("   ", f);
      render_marked(f, str(h, "snippet"), color, "\033[1m", "\033[0m");
      fputc('\n', f);
    }
  }
  json_t *facets = json_object_get(r, "facets");
  const char *name;
  json_t *vals;
  if (json_object_size(facets)) fputc('\n', f);
  json_object_foreach(facets, name, vals) {
    fprintf(f, "%s:", name);
    json_t *v;
    json_array_foreach(vals, i, v) {
      fprintf(f, "%s %s (%lld)", i ? "," : "", str(v, "value"),
              json_integer_value(json_object_get(v, "count")));
    }
    fputc('\n', f);
  }
}

int render_width(int fd) {
  struct winsize ws;
  if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) return ws.ws_col;
  const char *c = getenv("COLUMNS");
  int n = c ? atoi(c) : 0;
  return n >= 20 && n <= 1000 ? n : 80;
}

static void render_series(FILE *f, json_t *r, int width) {
  json_t *series = json_object_get(r, "series"), *p;
  long long most = 0, total = json_integer_value(json_object_get(r, "total"));
  size_t i, label = 4;
  json_array_foreach(series, i, p) {
    long long c = json_integer_value(json_object_get(p, "count"));
    if (c > most) most = c;
    if (strlen(str(p, "date")) > label) label = strlen(str(p, "date"));
  }
  fprintf(f, "%lld article%s by %s, %s .. %s\n", total, total == 1 ? "" : "s", str(r, "by"),
          json_is_string(json_object_get(r, "from")) ? str(r, "from") : "-",
          json_is_string(json_object_get(r, "to")) ? str(r, "to") : "-");
  /* label, bar, then "  count  share%  outlets" in at most 34 columns */
  int bar = width - (int)label - 36;
  if (bar < 10) bar = 10;
  json_array_foreach(series, i, p) {
    long long c = json_integer_value(json_object_get(p, "count"));
    long long all = json_integer_value(json_object_get(p, "all"));
    int n = most ? (int)((c * bar + most - 1) / most) : 0;
    fprintf(f, "%-*s ", (int)label, str(p, "date"));
    for (int k = 0; k < bar; k++) fputs(k < n ? "\u2588" : " ", f);
    fprintf(f, " %7lld %6.2f%% %4lld outlet%s\n", c, all ? 100.0 * (double)c / (double)all : 0.0,
            json_integer_value(json_object_get(p, "outlets")),
            json_integer_value(json_object_get(p, "outlets")) == 1 ? "" : "s");
  }
  json_t *first = json_object_get(r, "first");
  if (json_array_size(first)) fputs("\nfirst by outlet:\n", f);
  json_array_foreach(first, i, p) {
    fprintf(f, "  %-10.10s  %s: %s  [%s]\n", str(p, "date"), str(p, "outlet"), str(p, "title"),
            str(p, "id"));
  }
}

int render_timeline(FILE *f, const char *line, size_t len, int width, int tsv) {
  json_t *r = json_loadb(line, len, 0, NULL);
  if (!r || !json_is_true(json_object_get(r, "ok")) || !json_object_get(r, "series")) {
    json_decref(r);
    return render_response(f, line, len, 0);
  }
  if (tsv) {
    json_t *p;
    size_t i;
    fputs("date\tcount\tall\toutlets\n", f);
    json_array_foreach(json_object_get(r, "series"), i, p) {
      fprintf(f, "%s\t%lld\t%lld\t%lld\n", str(p, "date"),
              json_integer_value(json_object_get(p, "count")),
              json_integer_value(json_object_get(p, "all")),
              json_integer_value(json_object_get(p, "outlets")));
    }
  } else {
    render_series(f, r, width);
  }
  json_decref(r);
  return render_status(line, len);
}

/* proto.c writes "ok" first and then, in a SEARCH or TIMELINE answer,
 * "total", in a COUNT answer "count": a look at the start of the line is
 * enough, and batch mode calls this for every answer. */
int render_status(const char *line, size_t len) {
  static const char ok[] = "{\"ok\":true", total0[] = ",\"total\":0,", count0[] = ",\"count\":0}";
  size_t n = sizeof ok - 1;
  if (len < n || memcmp(line, ok, n) != 0) return 2;
  line += n;
  len -= n;
  if ((len >= sizeof total0 - 1 && memcmp(line, total0, sizeof total0 - 1) == 0) ||
      (len >= sizeof count0 - 1 && memcmp(line, count0, sizeof count0 - 1) == 0))
    return 1;
  return 0;
}

int render_response(FILE *f, const char *line, size_t len, int color) {
  json_t *r = json_loadb(line, len, 0, NULL);
  if (!r) {
    fwrite(line, 1, len, f);
    return 2;
  }
  int ok = json_is_true(json_object_get(r, "ok"));
  if (!ok) {
    json_t *e = json_object_get(r, "error");
    fprintf(f, "error: %s: %s\n", str(e, "code"), str(e, "message"));
  } else if (json_object_get(r, "hits")) {
    render_search(f, r, color);
  } else if (json_object_get(r, "series")) {
    render_series(f, r, render_width(1));
  } else {
    json_dumpf(r, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', f);
  }
  json_decref(r);
  return render_status(line, len);
}
