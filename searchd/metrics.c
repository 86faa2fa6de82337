/* metrics.c: see metrics.h. */
#include "metrics.h"

#include <jansson.h>
#include <string.h>

static void metrics_head(buf_t *out, const char *name, const char *type, const char *help) {
  buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One unlabelled figure from a member of o (absent: nothing). */
static void metrics_one(buf_t *out, json_t *o, const char *key, const char *name, const char *type,
                        const char *help) {
  json_t *v = json_object_get(o, key);
  if (!json_is_number(v)) return;
  metrics_head(out, name, type, help);
  if (json_is_integer(v)) buf_printf(out, "%s %lld\n", name, (long long)json_integer_value(v));
  else buf_printf(out, "%s %.17g\n", name, json_number_value(v));
}

/* A counter labelled by the keys of an object of numbers. */
static void metrics_labelled(buf_t *out, json_t *o, const char *name, const char *label,
                             const char *help) {
  if (!json_is_object(o)) return;
  metrics_head(out, name, "counter", help);
  const char *key;
  json_t *v;
  json_object_foreach(o, key, v) {
    if (json_is_integer(v))
      buf_printf(out, "%s{%s=\"%s\"} %lld\n", name, label, key, (long long)json_integer_value(v));
  }
}

static void metrics_histogram(buf_t *out, st_t *st) {
  uint64_t counts[ST_NBUCKETS + 1], sum_us, cum = 0;
  st_histogram(st, counts, &sum_us);
  const char *name = "sift_request_duration_seconds";
  metrics_head(out, name, "histogram", "Time from a request's arrival to its answer being ready.");
  for (size_t b = 0; b < ST_NBUCKETS; b++) {
    cum += counts[b];
    buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, st_bucket_us[b] / 1e6,
               (unsigned long long)cum);
  }
  cum += counts[ST_NBUCKETS];
  buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
  buf_printf(out, "%s_sum %.6f\n%s_count %llu\n", name, sum_us / 1e6, name,
             (unsigned long long)cum);
}

/* The unlabelled figures: STATS member (in "cache" when in_cache), name,
 * type, help. */
static const struct {
  int in_cache;
  const char *key, *name, *type, *help;
} metrics_figures[] = {
    {0, "docs", "sift_index_articles", "gauge", "Articles in the index served."},
    {0, "revision", "sift_index_revision", "gauge", "Revision of the index served."},
    {0, "uptime_s", "sift_uptime_seconds", "gauge", "Seconds since start."},
    {0, "threads", "sift_worker_threads", "gauge", "Worker threads."},
    {0, "connections_current", "sift_connections", "gauge",
     "Open client connections (line protocol and HTTP)."},
    {0, "connections_total", "sift_connections_accepted_total", "counter",
     "Client connections accepted."},
    {0, "connections_rejected", "sift_connections_rejected_total", "counter",
     "Connections refused as busy (over --max-connections)."},
    {1, "hits", "sift_cache_hits_total", "counter", "Result cache hits."},
    {1, "misses", "sift_cache_misses_total", "counter", "Result cache misses."},
    {1, "entries", "sift_cache_entries", "gauge", "Answers in the cache."},
    {1, "bytes", "sift_cache_bytes", "gauge", "Bytes the cache holds."},
    {1, "max_bytes", "sift_cache_max_bytes", "gauge", "The cache's size."},
    {0, "reloads", "sift_reloads_total", "counter", "Moves to a new index revision."},
    {0, "answered_on_loop", "sift_answered_on_loop_total", "counter",
     "Requests the event-loop thread answered itself."},
    {0, "matched_on_threads", "sift_matched_on_threads_total", "counter",
     "Searches matched in parts on several threads (shards, or one index's ranges)."},
    {0, "loop_polls", "sift_loop_polls_total", "counter",
     "Times the event loop polled for a quick client's next request instead of sleeping."},
    {0, "loop_poll_hits", "sift_loop_poll_hits_total", "counter",
     "Requests that came while the event loop polled for them."},
};

void metrics_write(buf_t *out, const char *stats, size_t len, st_t *st) {
  json_t *o = json_loadb(stats, len, 0, NULL);
  json_t *cache = json_object_get(o, "cache");
  for (size_t i = 0; i < sizeof metrics_figures / sizeof metrics_figures[0]; i++)
    metrics_one(out, metrics_figures[i].in_cache ? cache : o, metrics_figures[i].key,
                metrics_figures[i].name, metrics_figures[i].type, metrics_figures[i].help);
  metrics_labelled(out, json_object_get(o, "requests"), "sift_requests_total", "command",
                   "Requests answered, by command (other: none could be read).");
  metrics_labelled(out, json_object_get(o, "errors"), "sift_errors_total", "code",
                   "Requests answered with an error, by protocol error code.");
  metrics_histogram(out, st);
  json_decref(o);
}

void metrics_http_statuses(buf_t *out, const int *statuses, const uint64_t *counts, size_t n) {
  const char *name = "sift_http_responses_total";
  metrics_head(out, name, "counter", "HTTP responses, by status (other: any status not listed).");
  for (size_t i = 0; i < n; i++)
    buf_printf(out, "%s{code=\"%d\"} %llu\n", name, statuses[i], (unsigned long long)counts[i]);
  buf_printf(out, "%s{code=\"other\"} %llu\n", name, (unsigned long long)counts[n]);
}
