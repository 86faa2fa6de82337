/* listen.h: the daemon's listening sockets, and the addresses they are
 * given on the command line.
 *
 * Both front ends (the line protocol, server.h; HTTP, http.h) bind and
 * listen through lsn_tcp, so they log and report faults alike; the line
 * protocol's Unix socket goes through lsn_unix, which owns the socket
 * file's life: a stale file left by a dead server is removed, a live one is
 * an error, and the file is private from its creation on.
 *
 * Ownership: the caller owns the handles (their storage and their closing);
 * lsn_tcp and lsn_unix initialize the handle whatever they return, so the
 * caller closes it either way.  Loop thread only (main.c parses addresses
 * before the loop runs).
 */
#ifndef SIFT_SEARCHD_LISTEN_H
#define SIFT_SEARCHD_LISTEN_H

#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

#include "err.h"

/* A stream handle of either kind: a TCP or Unix-socket listener, or a
 * connection one of them accepted. */
typedef union lsn_stream {
  uv_handle_t handle;
  uv_stream_t stream;
  uv_tcp_t tcp;
  uv_pipe_t pipe;
} lsn_stream_t;

/* "HOST:PORT" or "[V6]:PORT" -> address (numeric host, or a name looked up
 * with getaddrinfo).  0, or -1 with a reason in why. */
int lsn_parse_addr(const char *text, struct sockaddr_storage *out, const char **why);
/* 1 if the address is a loopback one (127/8, ::1, ::ffff:127/104). */
int lsn_addr_is_loopback(const struct sockaddr_storage *a);
/* "127.0.0.1:9412" / "[::1]:9412"; "?" for another family. */
void lsn_format_addr(const struct sockaddr *a, char *out, size_t n);

/* Initialize h (its data set to data), bind it to addr and listen with cb;
 * logs "<what>listening on ADDR" with the port bound (for port 0). */
int lsn_tcp(uv_loop_t *loop, uv_tcp_t *h, void *data, const struct sockaddr_storage *addr,
            uv_connection_cb cb, const char *what, err_t *err);
/* The same on a Unix socket at path with permission bits mode; *bound is
 * set once the file exists (the caller unlinks it when it stops). */
int lsn_unix(uv_loop_t *loop, uv_pipe_t *h, void *data, const char *path, unsigned mode,
             uv_connection_cb cb, int *bound, err_t *err);

#endif
