/* load.c: sift-bench-load, a closed-loop load generator for the line
 * protocol (SPEC.md "Line protocol") and for sift-searchd's HTTP front end
 * (SPEC.md "HTTP").
 *
 * It replays the peers harness's query set (bq.h) against a running
 * sift-searchd, or any server of the protocol, and reports what a client
 * sees.  With --http HOST:PORT every query is a keep-alive HTTP/1.1
 * GET /search (bq.h gives its form) instead of a line, and everything else
 * is the same code: the same query order, connections, threads, timing
 * and statistics, so that the two protocols' figures differ only by what
 * the protocols and the daemon's paths for them cost.  An HTTP answer is
 * framed by Content-Length, or chunked when the server sends it so; its
 * body is what a line answer is.
 *
 *   Phase 1, latency: one connection, one request at a time.  --warmup
 *   untimed passes over every query, then --passes timed passes; per pass
 *   and class the nearest-rank p50/p95/p99 (µs); reported is the median
 *   over passes, as the harness does (shared/peers/src/bench_main.cpp).
 *
 *   Phase 2, throughput: for each concurrency C of --conc, C connections,
 *   each driven by its own thread with blocking sockets (TCP_NODELAY),
 *   cycling through one class's queries from spread start offsets and
 *   keeping --depth requests in flight (1 = closed loop; more = pipelining,
 *   responses read in order).  Each run has --rampup untimed seconds, then a
 *   window of --seconds; QPS = responses completed inside the window /
 *   window length, and the latency under load is taken over those same
 *   responses (send to last byte, so with --depth > 1 it includes queueing
 *   behind the earlier requests of the batch).  --repeat runs per class and
 *   concurrency; the median run is reported with min and max.
 *
 * Every response must begin with {"ok":true (over HTTP, with status 200);
 * anything else is counted as an error (first one shown on stderr) and
 * makes the exit status 1.  A closed connection, a socket error or bytes
 * that are no answer are fatal (exit 2).
 *
 * The daemon's result cache must be off, or the figures measure the cache:
 * start sift-searchd with --cache-mb 0.  The tool asks STATS before it starts
 * and warns when the server reports "cache":{"enabled":true}; at the end it
 * reports the cache hits seen during the run.
 *
 * Output: a machine line, the settings, then a latency table and a
 * throughput table on stdout; --json FILE also writes every figure,
 * including the per-pass and per-run values and every query's time in each
 * latency pass, as one JSON object.  --answers FILE keeps the answers of
 * the first latency pass, one a line (an HTTP body is the line answer and
 * its '\n'), to compare the protocols' answers.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "bq.h"
#include "num.h"

#ifndef SIFT_VERSION
#define SIFT_VERSION "dev"
#endif

#define MAX_CONC 64
#define MAX_DEPTH 1024

/* ------------------------------------------------------------------ options */

typedef struct opts {
  const char *host, *port, *unix_path, *queries, *classes, *json_out, *answers_out;
  const char *http;    /* --http HOST:PORT as given (the Host header), or NULL */
  char http_host[256]; /* its host, brackets of an IPv6 address removed */
  bq_request_t req;    /* BQ_REQ_HTTP with --http */
  int conc[MAX_CONC];
  int nconc;
  int depth, passes, warmup, repeat;
  double seconds, rampup;
} opts_t;

static void usage(FILE *f) {
  fprintf(f,
          "usage: sift-bench-load [options]\n"
          "Replays the peers query set against a line-protocol server (sift-searchd),\n"
          "or its HTTP front end with --http, and prints per-class latency (1 connection)\n"
          "and throughput per concurrency.\n"
          "Start the daemon with its result cache off: sift-searchd ... --cache-mb 0\n"
          "\n"
          "  --host H          server address [127.0.0.1]\n"
          "  --port P          server port [9412]\n"
          "  --unix PATH       connect to a Unix socket instead of TCP\n"
          "  --http HOST:PORT  HTTP/1.1 instead: keep-alive GET /search with the JSON form's\n"
          "                    parameters; an answer must be 200 and {\"ok\":true\n"
          "  --queries FILE    query set in the peers format [%s]\n"
          "  --class LIST      only these classes (comma-separated) [all]\n"
          "  --request text|json  request form, as the harness's lineproto adapter [text]\n"
          "  --warmup N        untimed passes over all queries before phase 1 [1]\n"
          "  --passes N        timed latency passes, median reported; 0 skips phase 1 [3]\n"
          "  --conc LIST       connections for phase 2, e.g. 1,4,16; 0 skips it [1,4,16]\n"
          "  --depth N         requests in flight per connection in phase 2 [1]\n"
          "  --seconds S       timed window of one throughput run [3]\n"
          "  --rampup S        untimed start of each throughput run [1]\n"
          "  --repeat N        throughput runs per class and concurrency [3]\n"
          "  --json FILE       also write all figures as JSON to FILE (per query too)\n"
          "  --answers FILE    write the answers of the first timed pass to FILE, one a line\n"
          "  --help, --version\n"
          "Exit status: 0 all responses ok, 1 some error responses, 2 usage or I/O error.\n",
          BQ_DEFAULT_QUERIES);
}

static int parse_pos_double(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end || errno || !(v >= 0) || v > 1e6) return -1;
  *out = v;
  return 0;
}

static int parse_opts(int argc, char **argv, opts_t *o) {
  enum {
    O_HOST = 256,
    O_PORT,
    O_UNIX,
    O_QUERIES,
    O_CLASS,
    O_REQUEST,
    O_WARMUP,
    O_PASSES,
    O_CONC,
    O_DEPTH,
    O_SECONDS,
    O_RAMPUP,
    O_REPEAT,
    O_JSON,
    O_HTTP,
    O_ANSWERS,
    O_HELP,
    O_VERSION
  };
  static const struct option lo[] = {{"host", required_argument, NULL, O_HOST},
                                     {"port", required_argument, NULL, O_PORT},
                                     {"unix", required_argument, NULL, O_UNIX},
                                     {"queries", required_argument, NULL, O_QUERIES},
                                     {"class", required_argument, NULL, O_CLASS},
                                     {"request", required_argument, NULL, O_REQUEST},
                                     {"warmup", required_argument, NULL, O_WARMUP},
                                     {"passes", required_argument, NULL, O_PASSES},
                                     {"conc", required_argument, NULL, O_CONC},
                                     {"depth", required_argument, NULL, O_DEPTH},
                                     {"seconds", required_argument, NULL, O_SECONDS},
                                     {"rampup", required_argument, NULL, O_RAMPUP},
                                     {"repeat", required_argument, NULL, O_REPEAT},
                                     {"json", required_argument, NULL, O_JSON},
                                     {"http", required_argument, NULL, O_HTTP},
                                     {"answers", required_argument, NULL, O_ANSWERS},
                                     {"help", no_argument, NULL, O_HELP},
                                     {"version", no_argument, NULL, O_VERSION},
                                     {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof *o);
  o->host = "127.0.0.1";
  o->port = "9412";
  o->queries = BQ_DEFAULT_QUERIES;
  o->req = BQ_REQ_TEXT;
  o->conc[0] = 1, o->conc[1] = 4, o->conc[2] = 16;
  o->nconc = 3;
  o->depth = 1, o->passes = 3, o->warmup = 1, o->repeat = 3;
  o->seconds = 3, o->rampup = 1;
  int c, line_target = 0, request = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    const char *bad = NULL;
    switch (c) {
      case O_HOST:
        o->host = optarg;
        line_target = 1;
        break;
      case O_PORT:
        o->port = optarg;
        line_target = 1;
        break;
      case O_UNIX:
        o->unix_path = optarg;
        line_target = 1;
        break;
      case O_HTTP:
        o->http = optarg;
        break;
      case O_ANSWERS:
        o->answers_out = optarg;
        break;
      case O_QUERIES:
        o->queries = optarg;
        break;
      case O_CLASS:
        o->classes = optarg;
        break;
      case O_JSON:
        o->json_out = optarg;
        break;
      case O_REQUEST:
        bq_parse_request(optarg, &o->req, &bad);
        request = 1;
        break;
      case O_WARMUP:
        if (bq_parse_int(optarg, 0, 1000, &o->warmup)) bad = "--warmup needs 0..1000";
        break;
      case O_PASSES:
        if (bq_parse_int(optarg, 0, 1000, &o->passes)) bad = "--passes needs 0..1000";
        break;
      case O_REPEAT:
        if (bq_parse_int(optarg, 1, 1000, &o->repeat)) bad = "--repeat needs 1..1000";
        break;
      case O_DEPTH:
        if (bq_parse_int(optarg, 1, MAX_DEPTH, &o->depth)) bad = "--depth needs 1..1024";
        break;
      case O_CONC:
        o->nconc = bq_parse_int_list(optarg, o->conc, MAX_CONC);
        if (o->nconc < 0) bad = "--conc needs a list like 1,4,16 (at most 64 entries)";
        break;
      case O_SECONDS:
        if (parse_pos_double(optarg, &o->seconds) || o->seconds <= 0)
          bad = "--seconds needs a positive number";
        break;
      case O_RAMPUP:
        if (parse_pos_double(optarg, &o->rampup)) bad = "--rampup needs a number >= 0";
        break;
      case O_HELP:
        usage(stdout);
        exit(0);
      case O_VERSION:
        printf("sift-bench-load %s\n", SIFT_VERSION);
        exit(0);
      default:
        fprintf(stderr, "sift-bench-load: unknown or incomplete option %s (see --help)\n",
                argv[optind - 1]);
        return -1;
    }
    if (bad) {
      fprintf(stderr, "sift-bench-load: %s\n", bad);
      return -1;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "sift-bench-load: unexpected argument %s (see --help)\n", argv[optind]);
    return -1;
  }
  if (o->http && (line_target || request)) {
    fprintf(stderr,
            "sift-bench-load: --http names the server and the request form: no --host, --port, "
            "--unix or --request beside it\n");
    return -1;
  }
  if (o->http) {
    /* HOST:PORT, the host of an IPv6 address in brackets */
    const char *colon = strrchr(o->http, ':');
    size_t hlen = colon ? (size_t)(colon - o->http) : 0;
    const char *h = o->http;
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') h++, hlen -= 2;
    if (!colon || hlen == 0 || hlen >= sizeof o->http_host || !colon[1]) {
      fprintf(stderr, "sift-bench-load: --http needs HOST:PORT, got '%s'\n", o->http);
      return -1;
    }
    memcpy(o->http_host, h, hlen);
    o->http_host[hlen] = '\0';
    o->host = o->http_host;
    o->port = colon + 1;
    o->req = BQ_REQ_HTTP;
  }
  for (int i = 0; i < o->nconc; i++)
    if (o->conc[i] > MAX_CONC) {
      fprintf(stderr, "sift-bench-load: --conc at most %d\n", MAX_CONC);
      return -1;
    }
  return 0;
}

/* -------------------------------------------------------------- connection */

#define MAX_HEAD (64 * 1024) /* an HTTP answer's status line and headers */

typedef struct conn {
  int fd;
  int http; /* answers are HTTP/1.1 responses, else lines */
  char *rbuf;
  size_t rcap, roff, rlen; /* unread bytes are rbuf[roff..rlen) */
  size_t scan;             /* rbuf[roff..scan) holds no end of the next answer's head */
  char *body;              /* a chunked answer's body, put together */
  size_t bcap;
  const char *bad; /* why the last answer could not be read (a protocol error) */
} conn_t;

/* One answer: the line (without its '\n') or the HTTP body, valid until
 * the next read on its connection; status is the HTTP status, 0 for a
 * line. */
typedef struct answer {
  const char *body;
  size_t len;
  int status;
} answer_t;

static int conn_open(const opts_t *o, conn_t *c, char *why, size_t whylen) {
  memset(c, 0, sizeof *c);
  c->fd = -1;
  c->http = o->req == BQ_REQ_HTTP;
  if (o->unix_path) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(o->unix_path) >= sizeof sa.sun_path) {
      snprintf(why, whylen, "unix socket path too long");
      return -1;
    }
    strcpy(sa.sun_path, o->unix_path);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
      snprintf(why, whylen, "connect %s: %s", o->unix_path, strerror(errno));
      goto fail;
    }
  } else {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int g = getaddrinfo(o->host, o->port, &hints, &ai);
    if (g) {
      snprintf(why, whylen, "%s:%s: %s", o->host, o->port, gai_strerror(g));
      return -1;
    }
    int err = 0;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
      c->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (c->fd < 0) {
        err = errno;
        continue;
      }
      if (connect(c->fd, a->ai_addr, a->ai_addrlen) == 0) break;
      err = errno;
      close(c->fd);
      c->fd = -1;
    }
    freeaddrinfo(ai);
    if (c->fd < 0) {
      snprintf(why, whylen, "connect %s:%s: %s", o->host, o->port, strerror(err));
      return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  c->rcap = 1 << 16;
  if (!(c->rbuf = malloc(c->rcap))) {
    snprintf(why, whylen, "out of memory");
    goto fail;
  }
  return 0;
fail:
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  return -1;
}

static void conn_close(conn_t *c) {
  if (c->fd >= 0) close(c->fd);
  free(c->rbuf);
  free(c->body);
  memset(c, 0, sizeof *c);
  c->fd = -1;
}

static int send_all(conn_t *c, const char *p, size_t n) {
  while (n) {
    ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Where "\r\n\r\n" begins in p[0..n), or NULL. */
static const char *find_blank_line(const char *p, size_t n) {
  for (const char *e = p + n, *r; (r = memchr(p, '\r', (size_t)(e - p))); p = r + 1)
    if (e - r >= 4 && memcmp(r, "\r\n\r\n", 4) == 0) return r;
  return NULL;
}

/* Does header line h (n bytes, without its line end) name header name
 * (lower case)?  Then *value, *vlen: its value without surrounding blanks. */
static int header_is(const char *h, size_t n, const char *name, const char **value, size_t *vlen) {
  size_t k = strlen(name);
  if (n <= k || h[k] != ':' || strncasecmp(h, name, k) != 0) return 0;
  const char *v = h + k + 1, *e = h + n;
  while (v < e && (*v == ' ' || *v == '\t')) v++;
  while (e > v && (e[-1] == ' ' || e[-1] == '\t')) e--;
  *value = v;
  *vlen = (size_t)(e - v);
  return 1;
}

/* A chunked body that begins at p, with n bytes buffered: 1, the body put
 * together in c->body (*len bytes) and *used, the bytes it took; 0 when it
 * is not all buffered yet; -1 when malformed (c->bad says why). */
static int dechunk(conn_t *c, const char *p, size_t n, size_t *len, size_t *used) {
  size_t at = 0, blen = 0;
  for (;;) {
    const char *eol = memchr(p + at, '\n', n - at);
    if (!eol) return 0;
    size_t size = 0, digits = 0;
    for (const char *h = p + at; h < eol; h++, digits++) {
      int d = *h >= '0' && *h <= '9'   ? *h - '0'
              : *h >= 'a' && *h <= 'f' ? *h - 'a' + 10
              : *h >= 'A' && *h <= 'F' ? *h - 'A' + 10
                                       : -1;
      if (d < 0) break; /* a chunk extension or the '\r' */
      if (size > (SIZE_MAX >> 4) - 1) goto bad;
      size = size * 16 + (size_t)d;
    }
    if (!digits) goto bad;
    at = (size_t)(eol - p) + 1;
    if (size == 0) { /* the last chunk: trailers, if any, then a blank line */
      for (;;) {
        const char *e = memchr(p + at, '\n', n - at);
        if (!e) return 0;
        size_t line = (size_t)(e - (p + at));
        at = (size_t)(e - p) + 1;
        if (line == 0 || (line == 1 && e[-1] == '\r')) break;
      }
      *len = blen;
      *used = at;
      return 1;
    }
    if (n - at < size + 2) return 0;
    if (memcmp(p + at + size, "\r\n", 2) != 0) goto bad;
    if (blen + size > c->bcap) {
      size_t cap = c->bcap ? c->bcap : 4096;
      while (cap < blen + size) cap *= 2;
      char *nb = realloc(c->body, cap);
      if (!nb) {
        c->bad = "out of memory";
        return -1;
      }
      c->body = nb;
      c->bcap = cap;
    }
    memcpy(c->body + blen, p + at, size);
    blen += size;
    at += size + 2;
  }
bad:
  c->bad = "a malformed chunked body";
  return -1;
}

/* The next HTTP answer, if it is all buffered (see take_answer).  Its
 * length comes from Content-Length or chunked framing; an answer framed by
 * the end of the connection is refused, as the connection must live on. */
static int take_http(conn_t *c, answer_t *a) {
  const char *head = c->rbuf + c->roff;
  size_t from = c->scan > c->roff + 3 ? c->scan - 3 : c->roff;
  const char *blank = find_blank_line(c->rbuf + from, c->rlen - from);
  if (!blank) {
    c->scan = c->rlen;
    if (c->rlen - c->roff <= MAX_HEAD) return 0;
    c->bad = "an HTTP answer's head is over 64 KiB";
    return -1;
  }
  const char *body = blank + 4, *end = c->rbuf + c->rlen;
  if ((size_t)(blank - head) < 12 || memcmp(head, "HTTP/1.", 7) != 0 || head[8] != ' ' ||
      head[9] < '1' || head[9] > '5' || head[10] < '0' || head[10] > '9' || head[11] < '0' ||
      head[11] > '9') {
    c->bad = "not an HTTP/1.x status line";
    return -1;
  }
  a->status = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
  int chunked = 0, have_length = 0;
  size_t length = 0;
  for (const char *h = memchr(head, '\n', (size_t)(blank + 2 - head)) + 1; h < blank;) {
    const char *eol = memchr(h, '\r', (size_t)(blank + 2 - h));
    const char *v;
    size_t vlen;
    if (header_is(h, (size_t)(eol - h), "content-length", &v, &vlen)) {
      uint64_t x;
      if (num_parse(v, vlen, 0, SIZE_MAX, &x)) {
        c->bad = "a bad Content-Length";
        return -1;
      }
      length = (size_t)x;
      have_length = 1;
    } else if (header_is(h, (size_t)(eol - h), "transfer-encoding", &v, &vlen)) {
      chunked = vlen == 7 && strncasecmp(v, "chunked", 7) == 0;
      if (!chunked) {
        c->bad = "a transfer coding other than chunked";
        return -1;
      }
    }
    h = eol + 2;
  }
  size_t used;
  if (chunked) {
    int r = dechunk(c, body, (size_t)(end - body), &a->len, &used);
    if (r <= 0) return r;
    a->body = c->body;
  } else if (have_length) {
    if ((size_t)(end - body) < length) return 0;
    a->body = body;
    a->len = used = length;
  } else {
    c->bad = "an HTTP answer with neither Content-Length nor chunked framing";
    return -1;
  }
  c->roff = c->scan = (size_t)(body - c->rbuf) + used;
  return 1;
}

/* The next answer if it is all buffered, without reading: 1 and *a; 0 when
 * more must be read; -1 when the bytes are not an answer (c->bad says
 * why). */
static int take_answer(conn_t *c, answer_t *a) {
  if (c->http) return take_http(c, a);
  size_t from = c->scan > c->roff ? c->scan : c->roff;
  char *nl = memchr(c->rbuf + from, '\n', c->rlen - from);
  if (!nl) {
    c->scan = c->rlen;
    return 0;
  }
  a->body = c->rbuf + c->roff;
  a->len = (size_t)(nl - a->body);
  a->status = 0;
  c->roff = c->scan = (size_t)(nl - c->rbuf) + 1;
  return 1;
}

/* Block until more bytes are buffered.  Returns 0, or -1 with errno (0:
 * closed by the server). */
static int read_more(conn_t *c) {
  if (c->rlen == c->rcap) {
    if (c->roff > 0) { /* compact: move the partial answer to the front */
      memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
      c->rlen -= c->roff;
      c->scan -= c->roff;
      c->roff = 0;
    } else {
      char *nb = realloc(c->rbuf, c->rcap * 2);
      if (!nb) {
        errno = ENOMEM;
        return -1;
      }
      c->rbuf = nb;
      c->rcap *= 2;
    }
  }
  for (;;) {
    ssize_t r = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      if (r == 0) errno = 0;
      return -1;
    }
    c->rlen += (size_t)r;
    return 0;
  }
}

/* Block until the next answer is buffered: 0 and *a, or -1 with errno (0:
 * closed by the server; EPROTO: c->bad says what was wrong). */
static int next_answer(conn_t *c, answer_t *a) {
  for (;;) {
    int r = take_answer(c, a);
    if (r > 0) return 0;
    if (r < 0) {
      errno = EPROTO;
      return -1;
    }
    if (read_more(c)) return -1;
  }
}

/* One request, one answer (phase 1 and STATS).  Returns 0 and *a, or -1. */
static int roundtrip(conn_t *c, const char *req, size_t n, answer_t *a) {
  if (send_all(c, req, n)) return -1;
  return next_answer(c, a);
}

/* A success: HTTP 200 (for HTTP) and a body that begins {"ok":true. */
static int answer_ok(const answer_t *a) {
  return (a->status == 0 || a->status == 200) && bq_ok(a->body, a->len);
}

static void io_fatal(const conn_t *c, const char *what) {
  fprintf(stderr, "sift-bench-load: %s: %s\n", what,
          errno == EPROTO && c && c->bad ? c->bad
          : errno                        ? strerror(errno)
                                         : "connection closed by the server");
  exit(2);
}

/* ------------------------------------------------------------------ errors */

static pthread_mutex_t err_mu = PTHREAD_MUTEX_INITIALIZER;
static long err_total;
static int err_shown;

static void note_error(const answer_t *a) {
  pthread_mutex_lock(&err_mu);
  err_total++;
  if (!err_shown) {
    err_shown = 1;
    char status[32] = "";
    if (a->status) snprintf(status, sizeof status, "HTTP %d ", a->status);
    fprintf(stderr, "sift-bench-load: error response: %s%.*s\n", status,
            (int)(a->len > 300 ? 300 : a->len), a->body);
  }
  pthread_mutex_unlock(&err_mu);
}

/* ------------------------------------------------------------- STATS probe */

typedef struct server_info {
  int have;
  long long docs;
  int cache_enabled;
  long long cache_hits;
  long long requests, on_loop; /* requests_total, answered_on_loop */
} server_info_t;

/* STATS, or GET /stats over HTTP (the same answer). */
static void probe_stats(const opts_t *o, conn_t *c, server_info_t *si) {
  char req[512];
  int n = o->http ? snprintf(req, sizeof req, "GET /stats HTTP/1.1\r\nHost: %s\r\n\r\n", o->http)
                  : snprintf(req, sizeof req, "STATS\n");
  answer_t a;
  memset(si, 0, sizeof *si);
  if (n < 0 || (size_t)n >= sizeof req) {
    fprintf(stderr, "sift-bench-load: --http address too long\n");
    exit(2);
  }
  if (roundtrip(c, req, (size_t)n, &a)) io_fatal(c, "STATS");
  json_t *v = json_loadb(a.body, a.len, 0, NULL);
  if (v && json_is_true(json_object_get(v, "ok"))) {
    si->have = 1;
    si->docs = json_integer_value(json_object_get(v, "docs"));
    json_t *cache = json_object_get(v, "cache");
    si->cache_enabled = json_is_true(json_object_get(cache, "enabled"));
    si->cache_hits = json_integer_value(json_object_get(cache, "hits"));
    si->requests = json_integer_value(json_object_get(v, "requests_total"));
    si->on_loop = json_integer_value(json_object_get(v, "answered_on_loop"));
  }
  json_decref(v);
}

/* ----------------------------------------------------------------- phase 1 */

typedef struct lat_class {
  double p50, p95, p99, mean;         /* median over passes, µs */
  double *p50s, *p95s, *p99s, *means; /* per pass */
  long errors;
} lat_class_t;

static double mean_of(const double *v, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += v[i];
  return n ? s / (double)n : NAN;
}

/* Median of v[0..n) without reordering v. */
static double median_copy(const double *v, size_t n) {
  double *t = malloc((n ? n : 1) * sizeof *t);
  if (!t) {
    fprintf(stderr, "sift-bench-load: out of memory\n");
    exit(2);
  }
  memcpy(t, v, n * sizeof *t);
  double m = bq_median(t, n);
  free(t);
  return m;
}

/* Phase 1 into out (per class); *us_out gets every query's time in every
 * pass ([pass][query], µs) and *bad_out which queries had an error answer
 * (the caller frees both).  answers: NULL, or where the first timed pass's
 * answers go, one a line, in query order. */
static void phase_latency(const opts_t *o, const bq_set_t *qs, conn_t *c, FILE *answers,
                          lat_class_t *out, double **us_out, char **bad_out) {
  answer_t a;
  for (int w = 0; w < o->warmup; w++)
    for (size_t i = 0; i < qs->n; i++)
      if (roundtrip(c, qs->queries[i].line, qs->queries[i].line_len, &a)) io_fatal(c, "warm-up");
  double *us = calloc(qs->n * (size_t)o->passes, sizeof *us); /* [pass][query] */
  char *bad = calloc(qs->n, 1);
  if (!us || !bad) {
    fprintf(stderr, "sift-bench-load: out of memory\n");
    exit(2);
  }
  for (int p = 0; p < o->passes; p++) {
    for (size_t i = 0; i < qs->n; i++) {
      uint64_t t0 = bq_now_ns();
      if (roundtrip(c, qs->queries[i].line, qs->queries[i].line_len, &a))
        io_fatal(c, "latency pass");
      us[(size_t)p * qs->n + i] = (double)(bq_now_ns() - t0) / 1e3;
      if (!answer_ok(&a)) {
        note_error(&a);
        bad[i] = 1;
        out[qs->queries[i].cls].errors++;
      }
      if (answers && p == 0) { /* an HTTP body ends with the line's '\n' */
        fwrite(a.body, 1, a.len, answers);
        if (!a.len || a.body[a.len - 1] != '\n') fputc('\n', answers);
      }
    }
    fprintf(stderr, "  latency pass %d/%d done\n", p + 1, o->passes);
  }
  double *v = malloc(qs->n * sizeof *v);
  for (size_t k = 0; k < qs->nclasses; k++) {
    const bq_class_t *cl = &qs->classes[k];
    lat_class_t *lc = &out[k];
    lc->p50s = calloc((size_t)o->passes, sizeof(double));
    lc->p95s = calloc((size_t)o->passes, sizeof(double));
    lc->p99s = calloc((size_t)o->passes, sizeof(double));
    lc->means = calloc((size_t)o->passes, sizeof(double));
    if (!v || !lc->p50s || !lc->p95s || !lc->p99s || !lc->means) {
      fprintf(stderr, "sift-bench-load: out of memory\n");
      exit(2);
    }
    for (int p = 0; p < o->passes; p++) {
      size_t n = 0;
      for (size_t j = 0; j < cl->n; j++)
        if (!bad[cl->queries[j]]) v[n++] = us[(size_t)p * qs->n + cl->queries[j]];
      lc->means[p] = mean_of(v, n);
      lc->p50s[p] = bq_pct(v, n, 50);
      lc->p95s[p] = bq_pct(v, n, 95);
      lc->p99s[p] = bq_pct(v, n, 99);
    }
    size_t np = (size_t)o->passes;
    lc->p50 = median_copy(lc->p50s, np);
    lc->p95 = median_copy(lc->p95s, np);
    lc->p99 = median_copy(lc->p99s, np);
    lc->mean = median_copy(lc->means, np);
  }
  free(v);
  *us_out = us;
  *bad_out = bad;
}

/* ----------------------------------------------------------------- phase 2 */

typedef struct dvec {
  double *v;
  size_t n, cap;
} dvec_t;

static void dvec_push(dvec_t *d, double x) {
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 4096;
    double *nv = realloc(d->v, cap * sizeof *nv);
    if (!nv) {
      fprintf(stderr, "sift-bench-load: out of memory\n");
      exit(2);
    }
    d->v = nv;
    d->cap = cap;
  }
  d->v[d->n++] = x;
}

typedef struct worker {
  pthread_t th;
  conn_t *conn;
  const bq_set_t *qs;
  const bq_class_t *cls;
  size_t start; /* first query (offset into cls->queries) */
  int depth;
  pthread_barrier_t *go;
  const uint64_t *t0; /* set by the main thread before the barrier */
  uint64_t rampup_ns, window_ns;
  long done, errors; /* inside the window */
  dvec_t lat_us;     /* latencies of the responses inside the window */
  const char *fatal;
  int fatal_errno;
} worker_t;

static void *worker_main(void *arg) {
  worker_t *w = arg;
  conn_t *c = w->conn;
  uint64_t sent_at[MAX_DEPTH];
  size_t head = 0, inflight = 0; /* ring of send times, oldest at head */
  size_t k = w->start;
  char *batch = NULL;
  size_t bcap = 0;
  pthread_barrier_wait(w->go);
  const uint64_t from = *w->t0 + w->rampup_ns, until = from + w->window_ns;
  int stopping = 0;
  for (;;) {
    /* top up to depth requests in flight, in one send */
    if (!stopping && inflight < (size_t)w->depth) {
      size_t blen = 0, nnew = 0;
      while (inflight + nnew < (size_t)w->depth) {
        const bq_query_t *q = &w->qs->queries[w->cls->queries[k % w->cls->n]];
        k++;
        if (blen + q->line_len > bcap) {
          size_t nc = bcap ? bcap * 2 : 4096;
          while (nc < blen + q->line_len) nc *= 2;
          char *nb = realloc(batch, nc);
          if (!nb) {
            w->fatal = "out of memory";
            goto out;
          }
          batch = nb;
          bcap = nc;
        }
        memcpy(batch + blen, q->line, q->line_len);
        blen += q->line_len;
        nnew++;
      }
      uint64_t now = bq_now_ns();
      for (size_t i = 0; i < nnew; i++) sent_at[(head + inflight + i) % MAX_DEPTH] = now;
      inflight += nnew;
      if (send_all(c, batch, blen)) {
        w->fatal = "send";
        w->fatal_errno = errno;
        goto out;
      }
    }
    if (inflight == 0) break;
    /* wait for at least one response, then take every one buffered */
    answer_t a;
    int r = next_answer(c, &a) ? -1 : 1;
    while (r > 0) {
      uint64_t now = bq_now_ns();
      uint64_t t_sent = sent_at[head];
      head = (head + 1) % MAX_DEPTH;
      inflight--;
      int ok = answer_ok(&a);
      if (!ok) note_error(&a);
      if (now >= from && now <= until) {
        if (ok) {
          w->done++;
          dvec_push(&w->lat_us, (double)(now - t_sent) / 1e3);
        } else {
          w->errors++;
        }
      }
      if (now > until) stopping = 1;
      if (inflight == 0) break;
      if ((r = take_answer(c, &a)) < 0) errno = EPROTO;
    }
    if (r < 0) {
      w->fatal = "receive";
      w->fatal_errno = errno;
      goto out;
    }
  }
out:
  free(batch);
  return NULL;
}

typedef struct tp_result {
  int conc;
  size_t cls;
  double *qps; /* per run */
  double qps_med, qps_min, qps_max;
  double p50, p95, p99; /* µs, median over runs */
  long errors;
} tp_result_t;

static void phase_throughput(const opts_t *o, const bq_set_t *qs, int conc, tp_result_t *res) {
  conn_t conns[MAX_CONC];
  worker_t ws[MAX_CONC];
  char why[256];
  for (int t = 0; t < conc; t++)
    if (conn_open(o, &conns[t], why, sizeof why)) {
      fprintf(stderr, "sift-bench-load: %s\n", why);
      exit(2);
    }
  for (size_t k = 0; k < qs->nclasses; k++) {
    const bq_class_t *cl = &qs->classes[k];
    tp_result_t *r = &res[k];
    r->conc = conc;
    r->cls = k;
    r->qps = calloc((size_t)o->repeat, sizeof(double));
    double *p50s = calloc((size_t)o->repeat, sizeof(double));
    double *p95s = calloc((size_t)o->repeat, sizeof(double));
    double *p99s = calloc((size_t)o->repeat, sizeof(double));
    if (!r->qps || !p50s || !p95s || !p99s) {
      fprintf(stderr, "sift-bench-load: out of memory\n");
      exit(2);
    }
    for (int rep = 0; rep < o->repeat; rep++) {
      pthread_barrier_t go;
      uint64_t t0 = 0;
      pthread_barrier_init(&go, NULL, (unsigned)conc + 1);
      for (int t = 0; t < conc; t++) {
        worker_t *w = &ws[t];
        memset(w, 0, sizeof *w);
        w->conn = &conns[t];
        w->qs = qs;
        w->cls = cl;
        w->start = (size_t)t * cl->n / (size_t)conc + (size_t)rep;
        w->depth = o->depth;
        w->go = &go;
        w->t0 = &t0;
        w->rampup_ns = (uint64_t)(o->rampup * 1e9);
        w->window_ns = (uint64_t)(o->seconds * 1e9);
        if (pthread_create(&w->th, NULL, worker_main, w)) {
          fprintf(stderr, "sift-bench-load: cannot start a thread\n");
          exit(2);
        }
      }
      t0 = bq_now_ns();
      pthread_barrier_wait(&go);
      dvec_t all = {0};
      long done = 0;
      for (int t = 0; t < conc; t++) {
        worker_t *w = &ws[t];
        pthread_join(w->th, NULL);
        if (w->fatal) {
          errno = w->fatal_errno;
          io_fatal(w->conn, w->fatal);
        }
        done += w->done;
        r->errors += w->errors;
        for (size_t i = 0; i < w->lat_us.n; i++) dvec_push(&all, w->lat_us.v[i]);
        free(w->lat_us.v);
      }
      pthread_barrier_destroy(&go);
      r->qps[rep] = (double)done / o->seconds;
      p50s[rep] = bq_pct(all.v, all.n, 50);
      p95s[rep] = bq_pct(all.v, all.n, 95);
      p99s[rep] = bq_pct(all.v, all.n, 99);
      free(all.v);
    }
    double *tmp = malloc((size_t)o->repeat * sizeof *tmp);
    if (!tmp) exit(2);
    memcpy(tmp, r->qps, (size_t)o->repeat * sizeof *tmp);
    r->qps_med = bq_median(tmp, (size_t)o->repeat);
    r->qps_min = tmp[0];
    r->qps_max = tmp[o->repeat - 1];
    free(tmp);
    r->p50 = bq_median(p50s, (size_t)o->repeat);
    r->p95 = bq_median(p95s, (size_t)o->repeat);
    r->p99 = bq_median(p99s, (size_t)o->repeat);
    free(p50s);
    free(p95s);
    free(p99s);
    fprintf(stderr, "  conc %d %s: median qps %.0f\n", conc, cl->name, r->qps_med);
  }
  for (int t = 0; t < conc; t++) conn_close(&conns[t]);
}

/* ------------------------------------------------------------------ output */

static json_t *jarr(const double *v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, json_real(v[i]));
  return a;
}

int main(int argc, char **argv) {
  opts_t o;
  if (parse_opts(argc, argv, &o)) return 2;
  bq_set_t qs;
  char why[512];
  if (bq_load(o.queries, o.classes, o.req, o.http, &qs, why, sizeof why)) {
    fprintf(stderr, "sift-bench-load: %s\n", why);
    return 2;
  }
  bq_machine_t m;
  bq_machine(&m);

  conn_t c;
  if (conn_open(&o, &c, why, sizeof why)) {
    fprintf(stderr, "sift-bench-load: %s\n", why);
    return 2;
  }
  server_info_t si0, si1;
  probe_stats(&o, &c, &si0);
  if (si0.have && si0.cache_enabled)
    fprintf(stderr,
            "sift-bench-load: warning: the server's result cache is on, so repeated "
            "queries measure the cache; start sift-searchd with --cache-mb 0\n");

  bq_machine_print(&m, stdout);
  printf("\n# target: %s%s%s request=%s depth=%d queries=%s (%zu queries, %zu classes)\n",
         o.unix_path ? o.unix_path : o.host, o.unix_path ? "" : ":", o.unix_path ? "" : o.port,
         bq_request_name(o.req), o.depth, o.queries, qs.n, qs.nclasses);
  if (si0.have)
    printf("# server: docs=%lld result-cache=%s\n", si0.docs, si0.cache_enabled ? "ON" : "off");
  fflush(stdout);

  lat_class_t *lat = calloc(qs.nclasses, sizeof *lat);
  tp_result_t *tp = calloc(qs.nclasses * (size_t)(o.nconc ? o.nconc : 1), sizeof *tp);
  if (!lat || !tp) return 2;
  double *us = NULL; /* phase 1's times, [pass][query] */
  char *bad = NULL;

  if (o.passes > 0) {
    FILE *answers = o.answers_out ? fopen(o.answers_out, "w") : NULL;
    if (o.answers_out && !answers) {
      fprintf(stderr, "sift-bench-load: cannot write %s: %s\n", o.answers_out, strerror(errno));
      return 2;
    }
    phase_latency(&o, &qs, &c, answers, lat, &us, &bad);
    if (answers && fclose(answers)) {
      fprintf(stderr, "sift-bench-load: cannot write %s\n", o.answers_out);
      return 2;
    }
    printf(
        "\nlatency, 1 connection, closed loop (us; nearest rank per pass, median of %d "
        "passes after %d warm-up)\n",
        o.passes, o.warmup);
    printf("%-16s %5s %9s %9s %9s %9s %6s\n", "class", "n", "p50", "p95", "p99", "mean", "errors");
    for (size_t k = 0; k < qs.nclasses; k++)
      printf("%-16s %5zu %9.0f %9.0f %9.0f %9.0f %6ld\n", qs.classes[k].name, qs.classes[k].n,
             lat[k].p50, lat[k].p95, lat[k].p99, lat[k].mean, lat[k].errors);
    fflush(stdout);
  }
  for (int i = 0; i < o.nconc; i++)
    phase_throughput(&o, &qs, o.conc[i], tp + (size_t)i * qs.nclasses);
  if (o.nconc > 0) {
    printf(
        "\nthroughput (QPS: responses in a %.3g s window after %.3g s ramp-up, median of %d "
        "runs [min-max]; latency under load in us, median of runs; depth %d)\n",
        o.seconds, o.rampup, o.repeat, o.depth);
    printf("%-16s %4s %9s %19s %9s %9s %9s %6s\n", "class", "conc", "qps", "[min-max]", "p50",
           "p95", "p99", "errors");
    for (size_t k = 0; k < qs.nclasses; k++)
      for (int i = 0; i < o.nconc; i++) {
        tp_result_t *r = &tp[(size_t)i * qs.nclasses + k];
        char range[64];
        snprintf(range, sizeof range, "[%.0f-%.0f]", r->qps_min, r->qps_max);
        printf("%-16s %4d %9.0f %19s %9.0f %9.0f %9.0f %6ld\n", qs.classes[k].name, r->conc,
               r->qps_med, range, r->p50, r->p95, r->p99, r->errors);
      }
  }

  probe_stats(&o, &c, &si1);
  if (si0.have && si1.have && si1.cache_hits > si0.cache_hits)
    printf("# warning: %lld result-cache hits during the run\n", si1.cache_hits - si0.cache_hits);
  /* where the daemon answered (workers.h): on the loop thread, or a worker */
  long long nreq = si1.requests - si0.requests, nloop = si1.on_loop - si0.on_loop;
  if (si0.have && si1.have)
    printf("# server: %lld of %lld requests answered on the loop thread\n", nloop, nreq);
  printf("# errors: %ld error responses\n", err_total);
  conn_close(&c);

  if (o.json_out) {
    json_t *root = json_object();
    json_object_set_new(root, "tool", json_string("sift-bench-load"));
    json_object_set_new(root, "machine", bq_machine_json(&m));
    char target[512];
    snprintf(target, sizeof target, "%s%s%s", o.unix_path ? o.unix_path : o.host,
             o.unix_path ? "" : ":", o.unix_path ? "" : o.port);
    json_t *jconc = json_array();
    for (int i = 0; i < o.nconc; i++) json_array_append_new(jconc, json_integer(o.conc[i]));
    json_object_set_new(
        root, "settings",
        json_pack("{s:s, s:s, s:s, s:o, s:i, s:i, s:i, s:i, s:f, s:f, s:b}", "target", target,
                  "queries", o.queries, "request", bq_request_name(o.req), "conc", jconc, "depth",
                  o.depth, "passes", o.passes, "warmup", o.warmup, "repeat", o.repeat, "seconds",
                  o.seconds, "rampup", o.rampup, "result_cache", si0.have && si0.cache_enabled));
    json_t *jl = json_object();
    for (size_t k = 0; o.passes > 0 && k < qs.nclasses; k++) {
      lat_class_t *l = &lat[k];
      size_t np = (size_t)o.passes;
      json_object_set_new(
          jl, qs.classes[k].name,
          json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I}", "n",
                    (json_int_t)qs.classes[k].n, "p50_us", bq_json_num(l->p50), "p95_us",
                    bq_json_num(l->p95), "p99_us", bq_json_num(l->p99), "mean_us",
                    bq_json_num(l->mean), "p50_passes", jarr(l->p50s, np), "p95_passes",
                    jarr(l->p95s, np), "p99_passes", jarr(l->p99s, np), "errors",
                    (json_int_t)l->errors));
    }
    json_object_set_new(root, "latency", jl);
    /* every query's time per pass: a difference between two runs can be
     * followed to the queries that make it */
    json_t *jq = json_array();
    for (size_t i = 0; o.passes > 0 && i < qs.n; i++) {
      const bq_query_t *q = &qs.queries[i];
      json_t *t = json_array();
      for (int p = 0; p < o.passes; p++)
        json_array_append_new(t, json_real(us[(size_t)p * qs.n + i]));
      json_array_append_new(
          jq, json_pack("{s:I, s:s, s:s, s:o, s:b}", "idx", (json_int_t)q->idx, "class",
                        qs.classes[q->cls].name, "text", q->text, "us_passes", t, "error", bad[i]));
    }
    json_object_set_new(root, "queries", jq);
    json_t *jt = json_array();
    for (int i = 0; i < o.nconc; i++)
      for (size_t k = 0; k < qs.nclasses; k++) {
        tp_result_t *r = &tp[(size_t)i * qs.nclasses + k];
        json_array_append_new(
            jt, json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I}", "conc", r->conc,
                          "class", qs.classes[k].name, "qps_median", bq_json_num(r->qps_med),
                          "qps_min", bq_json_num(r->qps_min), "qps_max", bq_json_num(r->qps_max),
                          "qps_runs", jarr(r->qps, (size_t)o.repeat), "p50_us", bq_json_num(r->p50),
                          "p95_us", bq_json_num(r->p95), "p99_us", bq_json_num(r->p99), "errors",
                          (json_int_t)r->errors));
      }
    json_object_set_new(root, "throughput", jt);
    json_object_set_new(root, "errors", json_integer(err_total));
    if (si0.have && si1.have)
      json_object_set_new(root, "server",
                          json_pack("{s:I, s:I}", "requests", (json_int_t)nreq, "answered_on_loop",
                                    (json_int_t)nloop));
    if (json_dump_file(root, o.json_out, JSON_INDENT(1))) {
      fprintf(stderr, "sift-bench-load: cannot write %s\n", o.json_out);
      json_decref(root);
      return 2;
    }
    json_decref(root);
  }

  for (size_t k = 0; k < qs.nclasses; k++) {
    free(lat[k].p50s);
    free(lat[k].p95s);
    free(lat[k].p99s);
    free(lat[k].means);
  }
  for (size_t i = 0; i < qs.nclasses * (size_t)o.nconc; i++) free(tp[i].qps);
  free(us);
  free(bad);
  free(lat);
  free(tp);
  bq_set_free(&qs);
  return err_total ? 1 : 0;
}
