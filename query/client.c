/* client.c: the two transports of client.h.  Local: requests are answered at
 * once into a queue of response lines.  Network: a blocking socket; sends are
 * buffered and flushed when a response is awaited or the buffer is large. */
#include "client.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "eng.h"
#include "proto.h"

#define CLIENT_SEND_FLUSH (64 * 1024)

struct client {
  /* local */
  eng_t *eng;
  proto_ctx_t *ctx;
  /* network */
  int fd;
  buf_t out;     /* requests not yet written */
  buf_t in;      /* bytes read, not yet returned */
  size_t in_off; /* start of unread bytes in in */
  /* both */
  buf_t answers; /* local: responses not yet received */
  size_t answers_off;
  size_t pending;
};

int client_open_local(const char *const *index, size_t n, const eng_limits_t *lim, client_t **out,
                      err_t *err) {
  client_t *c = calloc(1, sizeof *c);
  if (!c) return err_set(err, ERR_NOMEM, 0, NULL);
  c->fd = -1;
  buf_init(&c->answers, 0);
  int rc = eng_open_set(index, n, lim, &c->eng, err);
  if (!rc && !(c->ctx = proto_ctx_new(c->eng, NULL))) rc = err_set(err, ERR_NOMEM, 0, NULL);
  if (rc) {
    client_free(c);
    return rc;
  }
  *out = c;
  return 0;
}

static int client_connect(const char *host, int port, const char *unix_path, err_t *err) {
  if (unix_path) {
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(unix_path) >= sizeof sun.sun_path)
      return err_set(err, ERR_INVAL, 0, "socket path too long: %s", unix_path);
    strcpy(sun.sun_path, unix_path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
      int e = errno;
      if (fd >= 0) close(fd);
      return err_set(err, ERR_IO, 0, "cannot connect to %s: %s", unix_path, strerror(e));
    }
    return fd;
  }
  char ports[16];
  snprintf(ports, sizeof ports, "%d", port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
  int g = getaddrinfo(host, ports, &hints, &res);
  if (g != 0) return err_set(err, ERR_IO, 0, "cannot resolve %s: %s", host, gai_strerror(g));
  int fd = -1, e = 0;
  for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      e = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) {
    return err_set(err, ERR_IO, 0, "cannot connect to %s:%d: %s (is sift-searchd running?)", host,
                   port, strerror(e));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int client_open_net(const char *host, int port, const char *unix_path, client_t **out, err_t *err) {
  int fd = client_connect(host, port, unix_path, err);
  if (fd < 0) return fd;
  client_t *c = calloc(1, sizeof *c);
  if (!c) {
    close(fd);
    return err_set(err, ERR_NOMEM, 0, NULL);
  }
  c->fd = fd;
  buf_init(&c->out, 0);
  buf_init(&c->in, 0);
  buf_init(&c->answers, 0);
  *out = c;
  return 0;
}

void client_free(client_t *c) {
  if (!c) return;
  proto_ctx_free(c->ctx);
  eng_free(c->eng);
  if (c->fd >= 0) close(c->fd);
  buf_fini(&c->out);
  buf_fini(&c->in);
  buf_fini(&c->answers);
  free(c);
}

static int client_flush(client_t *c, err_t *err) {
  size_t off = 0;
  while (off < c->out.len) {
    ssize_t n = write(c->fd, c->out.data + off, c->out.len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return err_set(err, ERR_IO, 0, "write to server failed: %s", strerror(errno));
    off += (size_t)n;
  }
  buf_reset(&c->out);
  return 0;
}

int client_send(client_t *c, const char *line, size_t len, err_t *err) {
  c->pending++;
  if (c->ctx) {
    unsigned flags;
    if (len > PROTO_MAX_LINE) { /* as the daemon answers it */
      char msg[96];
      snprintf(msg, sizeof msg, "request line longer than %d bytes", PROTO_MAX_LINE);
      proto_write_error(&c->answers, ERR_TOO_LONG, msg, 0);
      return 0;
    }
    proto_handle(c->ctx, line, len, &c->answers, &flags);
    return c->answers.err ? err_set(err, c->answers.err, 0, NULL) : 0;
  }
  buf_append(&c->out, line, len);
  buf_putc(&c->out, '\n');
  if (c->out.err) return err_set(err, c->out.err, 0, NULL);
  return c->out.len >= CLIENT_SEND_FLUSH ? client_flush(c, err) : 0;
}

/* Move the first line of src (from *off) to out; 1 if there was one. */
static int client_take_line(buf_t *src, size_t *off, buf_t *out) {
  const char *start = src->data + *off;
  const char *nl = src->len > *off ? memchr(start, '\n', src->len - *off) : NULL;
  if (!nl) return 0;
  size_t n = (size_t)(nl - start) + 1;
  buf_append(out, start, n);
  *off += n;
  if (*off == src->len) {
    buf_reset(src);
    *off = 0;
  }
  return 1;
}

int client_recv(client_t *c, buf_t *out, err_t *err) {
  if (c->pending == 0) return err_set(err, ERR_INVAL, 0, "no request in flight");
  if (c->ctx) {
    client_take_line(&c->answers, &c->answers_off, out);
    c->pending--;
    return 0;
  }
  int rc = client_flush(c, err);
  if (rc) return rc;
  while (!client_take_line(&c->in, &c->in_off, out)) {
    if (c->in_off > 0 && c->in_off > c->in.len / 2) {
      memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
      c->in.len -= c->in_off;
      c->in_off = 0;
    }
    if (buf_reserve(&c->in, 64 * 1024)) return err_set(err, c->in.err, 0, NULL);
    ssize_t n = read(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return err_set(err, ERR_IO, 0, "read from server failed: %s", strerror(errno));
    if (n == 0) return err_set(err, ERR_IO, 0, "the server closed the connection");
    c->in.len += (size_t)n;
  }
  c->pending--;
  return 0;
}

size_t client_pending(const client_t *c) { return c->pending; }
