/* qlog.c: see qlog.h. */
#include "qlog.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

struct qlog {
  char *path;
  int fd;
  uint64_t slow_us;
  buf_t line;
};

static int qlog_open_fd(const char *path) {
  return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

int qlog_open(const char *path, uint64_t slow_us, qlog_t **out, err_t *err) {
  *out = NULL;
  qlog_t *q = calloc(1, sizeof *q);
  if (!q || !(q->path = strdup(path))) {
    free(q);
    return err_set(err, ERR_NOMEM, 0, NULL);
  }
  q->fd = qlog_open_fd(path);
  if (q->fd < 0) {
    int e = errno;
    free(q->path);
    free(q);
    return err_set(err, ERR_IO, 0, "cannot open %s: %s", path, strerror(e));
  }
  q->slow_us = slow_us;
  buf_init(&q->line, 0);
  *out = q;
  return 0;
}

void qlog_reopen(qlog_t *q) {
  int fd = qlog_open_fd(q->path);
  if (fd < 0) {
    log_warn("query log: cannot reopen %s: %s; still writing the old file", q->path,
             strerror(errno));
    return;
  }
  close(q->fd);
  q->fd = fd;
}

void qlog_close(qlog_t *q) {
  if (!q) return;
  close(q->fd);
  buf_fini(&q->line);
  free(q->path);
  free(q);
}

/* The query text of a request (the text argument, or the JSON form's "q"
 * or "id"), written as a JSON member. */
static void qlog_query(buf_t *b, const proto_req_t *req) {
  json_t *q = json_object_get(req->json, "q");
  if (req->json && !json_is_string(q)) q = json_object_get(req->json, "id");
  if (json_is_string(q)) {
    buf_json_key(b, "query");
    buf_json_str(b, json_string_value(q), json_string_length(q));
  } else if (!req->json && req->len) {
    buf_json_key(b, "query");
    buf_json_str(b, req->arg, req->len);
  }
}

/* "total" of a SEARCH answer or "count" of a COUNT answer: both come
 * right after "ok":true (proto.c writes them first). */
static int qlog_total(const buf_t *a, long long *total) {
  static const char *const keys[] = {"{\"ok\":true,\"total\":", "{\"ok\":true,\"count\":"};
  for (size_t k = 0; k < 2; k++) {
    size_t n = strlen(keys[k]);
    if (a->len > n && memcmp(a->data, keys[k], n) == 0) {
      *total = strtoll(a->data + n, NULL, 10);
      return 1;
    }
  }
  return 0;
}

void qlog_request(qlog_t *q, const proto_req_t *req, const buf_t *answer, int rc, uint64_t took_us,
                  int http) {
  const proto_command_t *cmd = req->cmd;
  if (!q || took_us < q->slow_us) return;
  buf_t *b = &q->line;
  buf_reset(b);
  char when[64];
  log_timestamp(when, sizeof when);
  buf_json_open(b, '{');
  buf_json_key(b, "time");
  buf_json_cstr(b, when);
  char name[24] = "other";
  if (cmd) {
    size_t k = 0;
    for (; cmd->name[k] && k < sizeof name - 1; k++)
      name[k] = (char)tolower((unsigned char)cmd->name[k]);
    name[k] = '\0';
  }
  buf_json_key(b, "command");
  buf_json_cstr(b, name);
  if (cmd && !(cmd->flags & PROTO_CMD_AUTH) &&
      (cmd->flags & PROTO_CMD_QUERY || cmd->needs_arg == 1))
    qlog_query(b, req);
  long long total;
  if (!rc && qlog_total(answer, &total)) {
    buf_json_key(b, "total");
    buf_json_int(b, total);
  }
  buf_json_key(b, "took_us");
  buf_json_int(b, (int64_t)took_us);
  if (rc) {
    buf_json_key(b, "code");
    buf_json_cstr(b, err_proto_code(rc));
  }
  buf_json_key(b, "proto");
  buf_json_cstr(b, http ? "http" : "line");
  buf_json_close(b, '}');
  buf_putc(b, '\n');
  if (b->err) return;
  ssize_t w;
  do w = write(q->fd, b->data, b->len);
  while (w < 0 && errno == EINTR);
  if (w < 0) log_debug("query log: write: %s", strerror(errno));
}
