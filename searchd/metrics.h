/* metrics.h: the daemon's figures in Prometheus text format (exposition
 * format 0.0.4), for GET /metrics.
 *
 * The figures are STATS's (stats.h, proto.c), read back from a STATS answer
 * a worker wrote, so /metrics and STATS can never disagree; the latency
 * histogram comes from st directly, and the HTTP front end adds its
 * responses by status.  Names: sift_index_articles, sift_index_revision,
 * sift_uptime_seconds, sift_worker_threads, sift_connections,
 * sift_connections_accepted_total, sift_connections_rejected_total,
 * sift_requests_total{command}, sift_errors_total{code},
 * sift_request_duration_seconds (histogram), sift_cache_{hits,misses}_total,
 * sift_cache_{entries,bytes,max_bytes}, sift_reloads_total,
 * sift_answered_on_loop_total, sift_matched_on_threads_total,
 * sift_http_responses_total{code}.
 *
 * Loop thread; appends to the caller's buffer (buf.h's sticky error).
 */
#ifndef SIFT_SEARCHD_METRICS_H
#define SIFT_SEARCHD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "stats.h"

/* stats: one STATS answer line ({"ok":true,...}).  Figures it lacks are
 * left out. */
void metrics_write(buf_t *out, const char *stats, size_t len, st_t *st);
/* sift_http_responses_total: counts[i] responses with statuses[i], and
 * counts[n] with any other status. */
void metrics_http_statuses(buf_t *out, const int *statuses, const uint64_t *counts, size_t n);

#endif
