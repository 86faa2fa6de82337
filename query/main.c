/* sift-query: the client people and scripts use.
 *
 *   sift-query [--index DIR | --host H --port P | --unix PATH] [--json]
 *              [--timeline [--tsv]] [QUERY...]
 *
 * With a QUERY: one SEARCH, printed for a person (or raw with --json).
 * Without one, standard input decides: a terminal gets an interactive prompt
 * (line editing, and history in $XDG_STATE_HOME/sift/history, when built
 * with libedit; Ctrl-C drops the line being typed); otherwise batch mode
 * reads request lines and writes exactly one response line per request, in
 * order, pipelining up to --window requests over the network.
 * --index runs in-process through the protocol module the daemon uses, so
 * answers are the daemon's byte for byte; the default is the daemon at
 * 127.0.0.1:9412.
 *
 * Arguments: options are the long ones of the table below (--name VALUE or
 * --name=VALUE), anywhere; "--" ends them; every other argument is a word of
 * the query, including those that start with a single '-' (`-outlet:cnn`),
 * so a query never needs "--".
 *
 * Exit status (SPEC.md, like grep): 0 when the answer found something, 1
 * when it found nothing (a SEARCH or COUNT of 0), 2 on an error.  Batch mode:
 * 2 if any request failed, else 0 if any found something, else 1.  The
 * interactive prompt exits 0.
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef SIFT_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

#include "buf.h"
#include "client.h"
#include "num.h"
#include "proto.h"
#include "render.h"
#include "utf8.h"

enum { EXIT_FOUND = 0, EXIT_NOTHING = 1, EXIT_ERROR = 2 };

static void usage(FILE *f) {
  fprintf(f,
          "usage: sift-query [options] [QUERY...]\n"
          "Searches a Sift index: through sift-searchd (default 127.0.0.1:9412) or,\n"
          "with --index, in-process.\n"
          "\n"
          "  --index DIR    search the index at DIR directly (no daemon); DIR may be a\n"
          "                 Xapian stub file of shards; repeat to search several as one\n"
          "  --bm25 K1,B    with --index: BM25 parameters (default %g,%g)\n"
          "  --host HOST    daemon host (default 127.0.0.1)\n"
          "  --port PORT    daemon port (default 9412)\n"
          "  --unix PATH    daemon Unix socket\n"
          "  --auth-file F  send AUTH with the secret in F's first line first\n"
          "  --json         print raw response lines\n"
          "  --timeline     QUERY is counted over time (TIMELINE): a bar per period,\n"
          "                 scaled to the terminal's width\n"
          "  --tsv          with --timeline: tab-separated date, count, all, outlets\n"
          "  --window N     batch mode: requests in flight at once (default 64)\n"
          "  --help, --version\n"
          "\n"
          "Options are only the ones above; every other argument is part of the\n"
          "query, also one starting with '-': sift-query -outlet:cnn gaza.\n"
          "'--' ends the options.\n"
          "\n"
          "With QUERY: one search.  Without: an interactive prompt on a terminal,\n"
          "else batch mode: request lines in (SEARCH/COUNT/GET/EXPLAIN/STATS/...,\n"
          "or JSON objects), one response line out per request, in order.\n"
          "\n"
          "At the prompt a line is a search, unless its first word is a command\n"
          "followed by what that command takes: GET and AUTH exactly one word\n"
          "(GET some-id), STATS, PING, HELP and QUIT nothing, SEARCH, COUNT and\n"
          "EXPLAIN a query.  So 'get out the vote' is a search.  Ctrl-C drops the\n"
          "line being typed, Ctrl-D leaves; history is kept in\n"
          "$XDG_STATE_HOME/sift/history (default ~/.local/state/sift/history).\n"
          "\n"
          "Exit status: 0 found something, 1 found nothing, 2 error (batch mode:\n"
          "2 if any request failed, else 0 if any found something, else 1).\n",
          ENG_BM25_K1, ENG_BM25_B);
}

/* Batch mode: stream requests, keep up to window in flight. */
static int run_batch(client_t *c, size_t window) {
  buf_t resp;
  buf_init(&resp, 0);
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  err_t err = {0};
  int rc = 0, found = 0, failed = 0;
  while (!rc && (n = getline(&line, &cap, stdin)) >= 0) {
    if (n && line[n - 1] == '\n') n--;
    if ((rc = client_send(c, line, (size_t)n, &err))) break;
    while (!rc && client_pending(c) >= window) {
      buf_reset(&resp);
      if (!(rc = client_recv(c, &resp, &err))) {
        fwrite(resp.data, 1, resp.len, stdout);
        int st = render_status(resp.data, resp.len);
        found |= st == EXIT_FOUND;
        failed |= st == EXIT_ERROR;
      }
    }
  }
  while (!rc && client_pending(c) > 0) {
    buf_reset(&resp);
    if (!(rc = client_recv(c, &resp, &err))) {
      fwrite(resp.data, 1, resp.len, stdout);
      int st = render_status(resp.data, resp.len);
      found |= st == EXIT_FOUND;
      failed |= st == EXIT_ERROR;
    }
  }
  if (rc) fprintf(stderr, "sift-query: %s\n", err_message(&err));
  free(line);
  buf_fini(&resp);
  fflush(stdout);
  return rc || failed ? EXIT_ERROR : found ? EXIT_FOUND : EXIT_NOTHING;
}

/* One request, answered and printed.  Returns the exit status. */
static int run_one(client_t *c, const char *req, size_t len, int json, int color, int tsv) {
  buf_t resp;
  buf_init(&resp, 0);
  err_t err = {0};
  int rc = client_send(c, req, len, &err);
  if (!rc) rc = client_recv(c, &resp, &err);
  int status;
  if (rc) {
    fprintf(stderr, "sift-query: %s\n", err_message(&err));
    status = EXIT_ERROR;
  } else if (json) {
    fwrite(resp.data, 1, resp.len, stdout);
    status = render_status(resp.data, resp.len);
  } else if (tsv) {
    status = render_timeline(stdout, resp.data, resp.len, 0, 1);
  } else {
    status = render_response(stdout, resp.data, resp.len, color);
  }
  buf_fini(&resp);
  return status;
}

/* Length of the white-space-separated word at s. */
static size_t word_len(const char *s) {
  size_t n = 0;
  while (s[n] && s[n] != ' ' && s[n] != '\t') n++;
  return n;
}

static const char *skip_space(const char *s) {
  while (*s == ' ' || *s == '\t') s++;
  return s;
}

/* A line typed at the prompt is a request as it stands when it is a JSON
 * object, or when its first word is a command followed by the shape of
 * argument that command takes (see usage()); anything else is searched. */
static void interactive_request(const char *line, buf_t *req) {
  const char *s = skip_space(line);
  const proto_command_t *cmd = s[0] == '{' ? NULL : proto_find_command(s, word_len(s));
  int as_is = s[0] == '{';
  if (cmd) {
    const char *arg = skip_space(s + word_len(s));
    size_t words = 0;
    for (const char *w = arg; *w; w = skip_space(w + word_len(w))) words++;
    as_is = cmd->needs_arg < 0 || (size_t)cmd->needs_arg == words;
  }
  buf_reset(req);
  if (!as_is) buf_puts(req, "SEARCH ");
  buf_puts(req, s);
}

#ifdef SIFT_HAVE_LIBEDIT
static volatile sig_atomic_t interrupted;
static sigset_t sigint_only, waiting_mask;

static void on_interrupt(int sig) {
  (void)sig;
  interrupted = 1;
}

/* libedit's key reader, replaced so that no Ctrl-C is lost.  With libedit's
 * own, a SIGINT landing while libedit redraws (not blocked in read()) only
 * set the flag, and the prompt stayed until the next key.  Here SIGINT is
 * blocked except inside ppoll(), which unblocks it atomically: a signal
 * either came before the wait (the flag is seen first) or ends it.  An
 * interrupted read returns a newline, so libedit finishes the line in its
 * usual way and read_line() drops it.  The bytes of one UTF-8 character
 * are gathered into one code point (utf8.h; U+FFFD for a bad sequence), as
 * libedit's own reader does. */
static int read_key(FILE *in) {
  int fd = fileno(in);
  unsigned char b[4];
  size_t n = 0, want = 1;
  while (n < want) {
    if (interrupted) return '\n';
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = ppoll(&p, 1, NULL, &waiting_mask);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || read(fd, b + n, 1) != 1) return EOF;
    if (n++ == 0) want = b[0] < 0xC0 ? 1 : b[0] < 0xE0 ? 2 : b[0] < 0xF0 ? 3 : 4;
    else if ((b[n - 1] & 0xC0) != 0x80) return 0xFFFD; /* not a continuation */
  }
  int32_t cp;
  return utf8_decode(b, want, &cp) ? (int)cp : 0xFFFD;
}

/* $XDG_STATE_HOME/sift/history, else ~/.local/state/sift/history, its
 * directory created; NULL (no history kept) when there is no home. */
static char *history_path(void) {
  const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
  buf_t p;
  buf_init(&p, 0);
  if (state && state[0] == '/') {
    buf_puts(&p, state);
  } else if (home && *home) {
    buf_puts(&p, home);
    buf_puts(&p, "/.local");
    mkdir(p.data, 0700);
    buf_puts(&p, "/state");
  } else {
    buf_fini(&p);
    return NULL;
  }
  mkdir(p.data, 0700);
  buf_puts(&p, "/sift");
  mkdir(p.data, 0700);
  buf_puts(&p, "/history");
  if (p.err) {
    buf_fini(&p);
    return NULL;
  }
  return p.data; /* the buffer's bytes, now the caller's */
}
#endif

/* The next line typed, without its end (malloc'ed), or NULL at end of
 * input.  With libedit, Ctrl-C interrupts the read: the line is dropped and
 * an empty one returned, so the prompt comes back. */
static char *read_line(void) {
#ifdef SIFT_HAVE_LIBEDIT
  /* A Ctrl-C pressed while the last request ran is spent: it must not drop
   * the line about to be typed. */
  static const struct timespec now = {0, 0};
  while (sigtimedwait(&sigint_only, NULL, &now) == SIGINT) {
  }
  interrupted = 0;
  char *line = readline("sift> ");
  if (interrupted) {
    free(line);
    return strdup("");
  }
  return line;
#else
  char *line = NULL;
  size_t cap = 0;
  fputs("sift> ", stderr);
  if (getline(&line, &cap, stdin) < 0) {
    free(line);
    return NULL;
  }
  line[strcspn(line, "\n")] = '\0';
  return line;
#endif
}

static int run_interactive(client_t *c, int json) {
  buf_t req;
  buf_init(&req, 0);
#ifdef SIFT_HAVE_LIBEDIT
  /* Our handler, without SA_RESTART, so that Ctrl-C ends the read; libedit
   * must not install its own (it would re-raise the signal and kill us). */
  /* Queries are UTF-8 whatever the locale says: in the C locale libedit
   * drops every byte past ASCII when it encodes the line ("café" became
   * "caf"). */
  setlocale(LC_CTYPE, "");
  if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0) setlocale(LC_CTYPE, "C.UTF-8");
  rl_catch_signals = 0;
  rl_getc_function = read_key;
  struct sigaction sa = {0}, old;
  sa.sa_handler = on_interrupt;
  sigaction(SIGINT, &sa, &old);
  sigemptyset(&sigint_only);
  sigaddset(&sigint_only, SIGINT);
  sigset_t before;
  sigprocmask(SIG_BLOCK, &sigint_only, &before);
  waiting_mask = before;
  sigdelset(&waiting_mask, SIGINT);
  char *hist = history_path();
  using_history();
  stifle_history(1000);
  if (hist) read_history(hist);
#endif
  fprintf(stderr, "Type a query (e.g. \"gaza city\" outlet:reuters sort:newest), HELP, or QUIT.\n");
  char *line;
  while ((line = read_line())) {
    int quit = 0;
    if (*skip_space(line)) {
#ifdef SIFT_HAVE_LIBEDIT
      add_history(line);
      if (hist) write_history(hist); /* libedit's append_history rewrites it all anyway */
#endif
      interactive_request(line, &req);
      quit = strncasecmp(req.data, "QUIT", 4) == 0;
      run_one(c, req.data, req.len, json, isatty(1), 0);
    }
    free(line);
    if (quit) break;
  }
#ifdef SIFT_HAVE_LIBEDIT
  free(hist);
  sigprocmask(SIG_SETMASK, &before, NULL);
  sigaction(SIGINT, &old, NULL);
#endif
  buf_fini(&req);
  return EXIT_FOUND;
}

/* AUTH with the secret in the first line of path; 0 when accepted. */
static int authenticate(client_t *c, const char *path) {
  char secret[256] = "", line[300];
  FILE *f = fopen(path, "r");
  if (!f || !fgets(secret, sizeof secret, f)) {
    fprintf(stderr, "sift-query: --auth-file %s: cannot read a secret from it\n", path);
    if (f) fclose(f);
    return -1;
  }
  fclose(f);
  secret[strcspn(secret, "\r\n")] = '\0';
  int n = snprintf(line, sizeof line, "AUTH %s", secret);
  buf_t resp;
  buf_init(&resp, 0);
  err_t err = {0};
  int rc = client_send(c, line, (size_t)n, &err);
  if (!rc) rc = client_recv(c, &resp, &err);
  if (rc) fprintf(stderr, "sift-query: %s\n", err_message(&err));
  else if (strncmp(resp.data, "{\"ok\":true", 10) != 0) {
    fprintf(stderr, "sift-query: the server refused the secret\n");
    rc = -1;
  }
  buf_fini(&resp);
  return rc;
}

typedef enum opt_id {
  OPT_INDEX,
  OPT_HOST,
  OPT_PORT,
  OPT_UNIX,
  OPT_AUTH_FILE,
  OPT_JSON,
  OPT_WINDOW,
  OPT_BM25,
  OPT_TIMELINE,
  OPT_TSV,
  OPT_HELP,
  OPT_VERSION
} opt_id_t;

static const struct {
  const char *name;
  int takes_value;
} opt_table[] = {
    [OPT_INDEX] = {"index", 1},     [OPT_HOST] = {"host", 1},           [OPT_PORT] = {"port", 1},
    [OPT_UNIX] = {"unix", 1},       [OPT_AUTH_FILE] = {"auth-file", 1}, [OPT_JSON] = {"json", 0},
    [OPT_WINDOW] = {"window", 1},   [OPT_BM25] = {"bm25", 1},           [OPT_HELP] = {"help", 0},
    [OPT_VERSION] = {"version", 0}, [OPT_TIMELINE] = {"timeline", 0},   [OPT_TSV] = {"tsv", 0},
};
#define NOPTS (sizeof opt_table / sizeof opt_table[0])

/* The option argv[*i] names ("--name" or "--name=value"), its value in
 * *value; -1 with a one-line message when it is unknown or lacks a value.
 * getopt would read "-outlet:cnn" as the short options o, u, t ...: here
 * only "--" starts an option. */
static int next_option(int argc, char **argv, int *i, const char **value) {
  const char *a = argv[*i] + 2, *eq = strchr(a, '=');
  size_t n = eq ? (size_t)(eq - a) : strlen(a);
  for (size_t k = 0; k < NOPTS; k++) {
    if (strlen(opt_table[k].name) != n || strncmp(opt_table[k].name, a, n) != 0) continue;
    if (!opt_table[k].takes_value && eq) break;
    if (opt_table[k].takes_value) {
      if (eq) *value = eq + 1;
      else if (*i + 1 < argc) *value = argv[++*i];
      else {
        fprintf(stderr, "sift-query: --%s needs a value (see --help)\n", opt_table[k].name);
        return -1;
      }
    }
    return (int)k;
  }
  fprintf(stderr, "sift-query: bad option '%s' (see --help)\n", argv[*i]);
  return -1;
}

int main(int argc, char **argv) {
  const char *index[256], *host = "127.0.0.1", *unix_path = NULL, *auth_file = NULL;
  size_t nindex = 0;
  int port = 9412, json = 0, timeline = 0, tsv = 0;
  long window = 64;
  eng_limits_t lim = eng_default_limits;
  /* The query's words are gathered at the front of argv (argv[1] on), which
   * the scan has always passed already. */
  int nwords = 0, options_done = 0, bm25 = 0;
  for (int i = 1; i < argc; i++) {
    const char *v = NULL;
    uint64_t num;  /* a number option's value */
    char why[128]; /* why it is not one */
    if (options_done || strncmp(argv[i], "--", 2) != 0) {
      argv[++nwords] = argv[i];
      continue;
    }
    if (argv[i][2] == '\0') {
      options_done = 1;
      continue;
    }
    switch (next_option(argc, argv, &i, &v)) {
      case OPT_INDEX:
        if (nindex == sizeof index / sizeof *index) {
          fprintf(stderr, "sift-query: --index: at most %zu indexes\n", nindex);
          return EXIT_ERROR;
        }
        index[nindex++] = v;
        break;
      case OPT_HOST:
        host = v;
        break;
      case OPT_PORT:
        if (num_option("--port", v, 1, 65535, &num, why, sizeof why)) {
          fprintf(stderr, "sift-query: %s\n", why);
          return EXIT_ERROR;
        }
        port = (int)num;
        break;
      case OPT_UNIX:
        unix_path = v;
        break;
      case OPT_AUTH_FILE:
        auth_file = v;
        break;
      case OPT_JSON:
        json = 1;
        break;
      case OPT_TIMELINE:
        timeline = 1;
        break;
      case OPT_TSV:
        tsv = 1;
        break;
      case OPT_WINDOW:
        if (num_option("--window", v, 1, 4096, &num, why, sizeof why)) {
          fprintf(stderr, "sift-query: %s\n", why);
          return EXIT_ERROR;
        }
        window = (long)num;
        break;
      case OPT_BM25:
        if (eng_parse_bm25(v, &lim.bm25_k1, &lim.bm25_b)) {
          fprintf(stderr,
                  "sift-query: --bm25 takes K1,B with K1 > 0 and 0 < B <= 1 (e.g. 1.2,0.75)\n");
          return EXIT_ERROR;
        }
        bm25 = 1;
        break;
      case OPT_HELP:
        usage(stdout);
        return 0;
      case OPT_VERSION:
        printf("sift-query %s\n", SIFT_VERSION);
        return 0;
      default:
        return EXIT_ERROR;
    }
  }
  if (tsv && !timeline) {
    fprintf(stderr, "sift-query: --tsv goes with --timeline\n");
    return EXIT_ERROR;
  }
  if (bm25 && !nindex) {
    fprintf(stderr, "sift-query: --bm25 goes with --index (the daemon has its own --bm25)\n");
    return EXIT_ERROR;
  }
  err_t err = {0};
  client_t *cl = NULL;
  int rc = nindex ? client_open_local(index, nindex, &lim, &cl, &err)
                  : client_open_net(host, port, unix_path, &cl, &err);
  if (rc) {
    fprintf(stderr, "sift-query: %s\n", err_message(&err));
    return EXIT_ERROR;
  }
  if (auth_file && !nindex && authenticate(cl, auth_file) != 0) {
    client_free(cl);
    return EXIT_ERROR;
  }
  buf_t query;
  buf_init(&query, 0);
  buf_puts(&query, timeline ? "TIMELINE" : "SEARCH");
  for (int i = 1; i <= nwords; i++) {
    buf_putc(&query, ' ');
    buf_puts(&query, argv[i]);
  }
  int status;
  if (nwords) status = run_one(cl, query.data, query.len, json, isatty(1), tsv && timeline);
  else if (isatty(0)) status = run_interactive(cl, json);
  else status = run_batch(cl, nindex ? 1 : (size_t)window);
  client_free(cl);
  buf_fini(&query);
  return status;
}
