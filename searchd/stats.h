/* stats.h: the daemon's own figures for STATS: uptime, connections,
 * requests by command, errors by protocol code, latency percentiles over a
 * recent window, cache and reload counts.
 *
 * The loop thread records connections and finished requests; worker threads
 * record reloads and read everything when they answer STATS (through
 * st_proto_hook, installed as proto_hooks_t.stats).  One mutex guards it all:
 * every operation is a few stores, so contention is negligible.
 *
 * Latency is the time from the moment a request line was framed to the
 * moment its response was ready, in microseconds; percentiles are computed
 * over the last ST_WINDOW requests, and a histogram since start is kept for
 * /metrics.
 *
 * Ownership: st_new() copies nothing from outside but the cache pointer,
 * which is borrowed and must outlive the st_t (it may be NULL).
 */
#ifndef SIFT_SEARCHD_STATS_H
#define SIFT_SEARCHD_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cache.h"
#include "proto.h"

#define ST_WINDOW 4096
/* Latency histogram for /metrics: upper bounds in microseconds, then +Inf. */
#define ST_NBUCKETS 14
extern const uint32_t st_bucket_us[ST_NBUCKETS];

typedef struct st st_t;

st_t *st_new(unsigned threads, cache_t *cache); /* NULL on ENOMEM */
void st_free(st_t *st);                         /* accepts NULL */

void st_conn_open(st_t *st);
void st_conn_close(st_t *st);
void st_conn_rejected(st_t *st);
/* One answered request: cmd NULL when the line named no command (or was
 * never parsed, e.g. too_long); rc the ERR_* answered (0: success); on_loop
 * set when the loop thread answered it itself. */
void st_request(st_t *st, const proto_command_t *cmd, int rc, uint64_t latency_us, int on_loop);
/* A worker moved to a new index revision. */
void st_reload(st_t *st);
/* The loop began polling for the next request instead of sleeping (hit 0),
 * or a request came while it polled (hit 1): server.c. */
void st_poll(st_t *st, int hit);

/* Since start: requests per bucket (not cumulative; counts[ST_NBUCKETS] is
 * over the last bound) and the sum of their latencies. */
void st_histogram(st_t *st, uint64_t counts[ST_NBUCKETS + 1], uint64_t *sum_us);

/* proto_hooks_t.stats: append the server members to a STATS response. */
void st_proto_hook(void *ud, buf_t *out);

#endif
