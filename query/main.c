/* sift-query: the client people and scripts use.
 *
 *   sift-query [--index DIR | --host H --port P | --unix PATH] [--json] [QUERY...]
 *
 * With a QUERY: one SEARCH, printed for a person (or raw with --json).
 * Without one, standard input decides: a terminal gets an interactive prompt
 * (line editing and history when built with libedit; a line that starts with
 * a command word is sent as is, anything else is searched); otherwise batch
 * mode reads request lines and writes exactly one response line per request,
 * in order, pipelining up to --window requests over the network.
 * --index runs in-process through the protocol module the daemon uses, so
 * answers are the daemon's byte for byte; the default is the daemon at
 * 127.0.0.1:9412.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef SIFT_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

#include "buf.h"
#include "client.h"
#include "proto.h"
#include "render.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: sift-query [options] [QUERY...]\n"
          "Searches a Sift index: through sift-searchd (default 127.0.0.1:9412) or,\n"
          "with --index, in-process.\n"
          "\n"
          "  --index DIR    search the index at DIR directly (no daemon); DIR may be a\n"
          "                 Xapian stub file of shards; repeat to search several as one\n"
          "  --host HOST    daemon host (default 127.0.0.1)\n"
          "  --port PORT    daemon port (default 9412)\n"
          "  --unix PATH    daemon Unix socket\n"
          "  --auth-file F  send AUTH with the secret in F's first line first\n"
          "  --json         print raw response lines\n"
          "  --window N     batch mode: requests in flight at once (default 64)\n"
          "  --help, --version\n"
          "\n"
          "With QUERY: one search.  Without: an interactive prompt on a terminal,\n"
          "else batch mode: request lines in (SEARCH/COUNT/GET/EXPLAIN/STATS/...,\n"
          "or JSON objects), one response line out per request, in order.\n");
}

/* Batch mode: stream requests, keep up to window in flight. */
static int run_batch(client_t *c, size_t window) {
  buf_t resp;
  buf_init(&resp, 0);
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  err_t err = {0};
  int rc = 0;
  while (!rc && (n = getline(&line, &cap, stdin)) >= 0) {
    if (n && line[n - 1] == '\n') n--;
    if ((rc = client_send(c, line, (size_t)n, &err))) break;
    while (!rc && client_pending(c) >= window) {
      buf_reset(&resp);
      if (!(rc = client_recv(c, &resp, &err))) fwrite(resp.data, 1, resp.len, stdout);
    }
  }
  while (!rc && client_pending(c) > 0) {
    buf_reset(&resp);
    if (!(rc = client_recv(c, &resp, &err))) fwrite(resp.data, 1, resp.len, stdout);
  }
  if (rc) fprintf(stderr, "sift-query: %s\n", err_message(&err));
  free(line);
  buf_fini(&resp);
  fflush(stdout);
  return rc ? 1 : 0;
}

/* One request, answered and printed.  Returns the exit status. */
static int run_one(client_t *c, const char *req, size_t len, int json, int color) {
  buf_t resp;
  buf_init(&resp, 0);
  err_t err = {0};
  int rc = client_send(c, req, len, &err);
  if (!rc) rc = client_recv(c, &resp, &err);
  int status;
  if (rc) {
    fprintf(stderr, "sift-query: %s\n", err_message(&err));
    status = 1;
  } else if (json) {
    fwrite(resp.data, 1, resp.len, stdout);
    status = strncmp(resp.data, "{\"ok\":true", 10) == 0 ? 0 : 1;
  } else {
    status = render_response(stdout, resp.data, resp.len, color);
  }
  buf_fini(&resp);
  return status;
}

/* A line typed at the prompt: a command as is, anything else a search. */
static void interactive_request(const char *line, buf_t *req) {
  buf_reset(req);
  if (line[0] != '{' && !proto_lookup(line, strlen(line))) buf_puts(req, "SEARCH ");
  buf_puts(req, line);
}

static int run_interactive(client_t *c, int json) {
  buf_t req;
  buf_init(&req, 0);
  fprintf(stderr, "Type a query (e.g. \"gaza city\" outlet:reuters sort:newest), HELP, or QUIT.\n");
  for (;;) {
#ifdef SIFT_HAVE_LIBEDIT
    char *line = readline("sift> ");
    if (!line) break;
    if (*line) add_history(line);
#else
    static char *line;
    static size_t cap;
    fputs("sift> ", stderr);
    if (getline(&line, &cap, stdin) < 0) break;
    line[strcspn(line, "\n")] = '\0';
#endif
    if (*line) {
      interactive_request(line, &req);
      int quit = strncasecmp(req.data, "QUIT", 4) == 0;
      run_one(c, req.data, req.len, json, isatty(1));
      if (quit) break;
    }
#ifdef SIFT_HAVE_LIBEDIT
    free(line);
#endif
  }
  buf_fini(&req);
  return 0;
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

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"index", required_argument, NULL, 'i'}, {"host", required_argument, NULL, 'H'},
      {"port", required_argument, NULL, 'p'},  {"unix", required_argument, NULL, 'u'},
      {"json", no_argument, NULL, 'j'},        {"window", required_argument, NULL, 'w'},
      {"help", no_argument, NULL, 'h'},        {"version", no_argument, NULL, 'V'},
      {"auth-file", required_argument, NULL, 'a'},
      {NULL, 0, NULL, 0}};
  const char *index[256], *host = "127.0.0.1", *unix_path = NULL, *auth_file = NULL;
  size_t nindex = 0;
  int port = 9412, json = 0, c;
  long window = 64;
  opterr = 0; /* our own one-line message */
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    char *end;
    switch (c) {
      case 'i':
        if (nindex == sizeof index / sizeof *index) {
          fprintf(stderr, "sift-query: --index: at most %zu indexes\n", nindex);
          return 2;
        }
        index[nindex++] = optarg;
        break;
      case 'H': host = optarg; break;
      case 'p':
        port = (int)strtol(optarg, &end, 10);
        if (*end || port < 1 || port > 65535) {
          fprintf(stderr, "sift-query: --port takes a number from 1 to 65535\n");
          return 2;
        }
        break;
      case 'u': unix_path = optarg; break;
      case 'a': auth_file = optarg; break;
      case 'j': json = 1; break;
      case 'w':
        window = strtol(optarg, &end, 10);
        if (*end || window < 1 || window > 4096) {
          fprintf(stderr, "sift-query: --window takes a number from 1 to 4096\n");
          return 2;
        }
        break;
      case 'h': usage(stdout); return 0;
      case 'V': printf("sift-query %s\n", SIFT_VERSION); return 0;
      default: fprintf(stderr, "sift-query: bad option (see --help)\n"); return 2;
    }
  }
  err_t err = {0};
  client_t *cl = NULL;
  int rc = nindex ? client_open_local(index, nindex, &cl, &err) : client_open_net(host, port, unix_path, &cl, &err);
  if (rc) {
    fprintf(stderr, "sift-query: %s\n", err_message(&err));
    return 1;
  }
  if (auth_file && !nindex && authenticate(cl, auth_file) != 0) {
    client_free(cl);
    return 1;
  }
  int status;
  if (optind < argc) {
    buf_t req;
    buf_init(&req, 0);
    buf_puts(&req, "SEARCH");
    for (int i = optind; i < argc; i++) {
      buf_putc(&req, ' ');
      buf_puts(&req, argv[i]);
    }
    status = run_one(cl, req.data, req.len, json, isatty(1));
    buf_fini(&req);
  } else if (isatty(0)) {
    status = run_interactive(cl, json);
  } else {
    status = run_batch(cl, nindex ? 1 : (size_t)window);
  }
  client_free(cl);
  return status;
}
