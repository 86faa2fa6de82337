/* client.h: how sift-query reaches an index: in-process (--index DIR,
 * through the same proto module the daemon runs, so answers are the
 * daemon's byte for byte) or over the network to sift-searchd (TCP or a Unix
 * socket).  Either way a request is one line and its answer one line.
 *
 * Ownership: responses are appended to the caller's buf_t.
 */
#ifndef SIFT_QUERY_CLIENT_H
#define SIFT_QUERY_CLIENT_H

#include <stddef.h>

#include "buf.h"
#include "eng.h"
#include "err.h"

typedef struct client client_t;

/* Several paths answer as one index (eng_open_set).  lim: the engine's
 * limits and ranking (NULL: eng_default_limits). */
int client_open_local(const char *const *index, size_t n, const eng_limits_t *lim, client_t **out,
                      err_t *err);
/* host:port over TCP, or unix_path when not NULL. */
int client_open_net(const char *host, int port, const char *unix_path, client_t **out, err_t *err);
void client_free(client_t *c);

/* Send one request line (no '\n').  Over the network the request is only
 * queued for writing, so that many can be in flight (pipelining). */
int client_send(client_t *c, const char *line, size_t len, err_t *err);
/* Receive the next response line (with its '\n') into out. */
int client_recv(client_t *c, buf_t *out, err_t *err);
/* Requests sent and not yet answered. */
size_t client_pending(const client_t *c);

#endif
