/* listen.c: see listen.h. */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

void lsn_format_addr(const struct sockaddr *a, char *out, size_t n) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (a->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)a;
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    snprintf(out, n, "%s:%u", host, (unsigned)ntohs(in->sin_port));
  } else if (a->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a;
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    snprintf(out, n, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
  } else {
    snprintf(out, n, "?");
  }
}

int lsn_addr_is_loopback(const struct sockaddr_storage *a) {
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)a;
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (a->ss_family == AF_INET6) {
    const struct in6_addr *ad = &((const struct sockaddr_in6 *)a)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(ad)) return 1;
    return IN6_IS_ADDR_V4MAPPED(ad) && ad->s6_addr[12] == 127;
  }
  return 0;
}

int lsn_parse_addr(const char *text, struct sockaddr_storage *out, const char **why) {
  char host[256];
  const char *port;
  size_t hlen;
  if (text[0] == '[') {
    const char *end = strchr(text, ']');
    if (!end || end[1] != ':') {
      *why = "expected [IPV6]:PORT";
      return -1;
    }
    hlen = (size_t)(end - text - 1);
    memcpy(host, text + 1, hlen < sizeof host ? hlen : 0);
    port = end + 2;
  } else {
    const char *colon = strrchr(text, ':');
    if (!colon) {
      *why = "expected HOST:PORT";
      return -1;
    }
    hlen = (size_t)(colon - text);
    if (hlen < sizeof host) memcpy(host, text, hlen);
    port = colon + 1;
  }
  if (hlen == 0 || hlen >= sizeof host) {
    *why = "missing or overlong host";
    return -1;
  }
  host[hlen] = '\0';
  if (!*port || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port) ||
      atoi(port) > 65535) {
    *why = "the port must be a number from 0 to 65535";
    return -1;
  }
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0 || !res) {
    *why = rc ? gai_strerror(rc) : "no address";
    return -1;
  }
  memset(out, 0, sizeof *out);
  memcpy(out, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  return 0;
}

int lsn_tcp(uv_loop_t *loop, uv_tcp_t *h, void *data, const struct sockaddr_storage *addr,
            uv_connection_cb cb, const char *what, err_t *err) {
  char text[96];
  lsn_format_addr((const struct sockaddr *)addr, text, sizeof text);
  uv_tcp_init(loop, h);
  h->data = data;
  int rc = uv_tcp_bind(h, (const struct sockaddr *)addr, 0);
  if (!rc) rc = uv_listen((uv_stream_t *)h, 511, cb);
  if (rc) return err_set(err, ERR_IO, 0, "cannot listen on %s: %s", text, uv_strerror(rc));
  struct sockaddr_storage bound;
  int len = sizeof bound;
  if (uv_tcp_getsockname(h, (struct sockaddr *)&bound, &len) == 0)
    lsn_format_addr((const struct sockaddr *)&bound, text, sizeof text);
  log_info("%slistening on %s", what, text);
  return 0;
}

/* A socket file left by a server that died is removed; one that still
 * answers belongs to a running server and is an error. */
static int lsn_clear_unix_path(const char *path, err_t *err) {
  struct stat st;
  if (lstat(path, &st) != 0) return 0;
  if (!S_ISSOCK(st.st_mode))
    return err_set(err, ERR_IO, 0, "cannot listen on %s: it exists and is not a socket", path);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd >= 0) {
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path));
    int live = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    if (live)
      return err_set(err, ERR_IO, 0, "cannot listen on %s: another server answers there", path);
  }
  if (unlink(path) != 0)
    return err_set(err, ERR_IO, 0, "cannot remove the stale socket %s: %s", path, strerror(errno));
  log_info("removed stale socket %s", path);
  return 0;
}

int lsn_unix(uv_loop_t *loop, uv_pipe_t *h, void *data, const char *path, unsigned mode,
             uv_connection_cb cb, int *bound, err_t *err) {
  struct sockaddr_un sa;
  uv_pipe_init(loop, h, 0);
  h->data = data;
  if (strlen(path) >= sizeof sa.sun_path)
    return err_set(err, ERR_IO, 0, "cannot listen on %s: path longer than %zu bytes", path,
                   sizeof sa.sun_path - 1);
  int rc = lsn_clear_unix_path(path, err);
  if (rc) return rc;
  /* The umask keeps the socket private from its creation on; chmod then
   * sets the mode asked for. */
  mode_t old = umask(0177);
  rc = uv_pipe_bind(h, path);
  umask(old);
  if (rc) return err_set(err, ERR_IO, 0, "cannot listen on %s: %s", path, uv_strerror(rc));
  *bound = 1;
  if (chmod(path, (mode_t)mode) != 0)
    return err_set(err, ERR_IO, 0, "cannot set the mode of %s: %s", path, strerror(errno));
  rc = uv_listen((uv_stream_t *)h, 511, cb);
  if (rc) return err_set(err, ERR_IO, 0, "cannot listen on %s: %s", path, uv_strerror(rc));
  log_info("listening on unix:%s", path);
  return 0;
}
