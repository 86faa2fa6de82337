/* stats.c: see stats.h.
 *
 * Members written into STATS (after the index's own):
 *   "uptime_s":N,"threads":N,"connections_current":N,"connections_total":N,
 *   "connections_rejected":N,"requests_total":N,
 *   "requests":{"search":N,...,"other":N},      one key per command, lower case
 *   "errors":{"bad_request":N,...},              one key per protocol code
 *   "latency_us":{"p50":N,"p90":N,"p99":N,"max":N,"window":N},
 *   "cache":{"enabled":B,"hits":N,"misses":N,"hit_rate":F,"entries":N,
 *            "bytes":N,"max_bytes":N},
 *   "reloads":N,
 *   "answered_on_loop":N      requests the loop thread ran on its own engine
 *                             (workers.h, "Answers on the loop thread"),
 *   "matched_on_threads":N    searches matched in parts on several threads
 *                             (eng_set_shard_threads),
 *   "loop_polls":N            times the loop polled for the next request
 *                             instead of sleeping (server.c, --spin-us),
 *   "loop_poll_hits":N        requests that came while it polled
 */
#include "stats.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "eng.h"
#include "err.h"

const uint32_t st_bucket_us[ST_NBUCKETS] = {100,   250,   500,    1000,   2500,   5000,    10000,
                                            25000, 50000, 100000, 250000, 500000, 1000000, 5000000};

struct st {
  pthread_mutex_t mu;
  uint64_t start_ns;
  unsigned threads;
  cache_t *cache;
  uint64_t conn_current, conn_total, conn_rejected;
  uint64_t requests_total;
  const proto_command_t *cmds;
  size_t ncmds;
  uint64_t *by_cmd;               /* ncmds + 1 ("other") */
  uint64_t by_code[ERR_P__COUNT]; /* by err_proto_t (err.h lists them) */
  uint32_t window[ST_WINDOW];
  size_t wpos, wlen;
  uint64_t reloads;
  uint64_t on_loop;
  uint64_t polls, poll_hits;
  uint64_t buckets[ST_NBUCKETS + 1];
  uint64_t sum_us;
};

st_t *st_new(unsigned threads, cache_t *cache) {
  st_t *st = calloc(1, sizeof *st);
  if (!st) return NULL;
  st->cmds = proto_commands(&st->ncmds);
  st->by_cmd = calloc(st->ncmds + 1, sizeof *st->by_cmd);
  if (!st->by_cmd || pthread_mutex_init(&st->mu, NULL) != 0) {
    free(st->by_cmd);
    free(st);
    return NULL;
  }
  st->start_ns = uv_hrtime();
  st->threads = threads;
  st->cache = cache;
  return st;
}

void st_free(st_t *st) {
  if (!st) return;
  pthread_mutex_destroy(&st->mu);
  free(st->by_cmd);
  free(st);
}

void st_conn_open(st_t *st) {
  pthread_mutex_lock(&st->mu);
  st->conn_current++;
  st->conn_total++;
  pthread_mutex_unlock(&st->mu);
}

void st_conn_close(st_t *st) {
  pthread_mutex_lock(&st->mu);
  if (st->conn_current) st->conn_current--;
  pthread_mutex_unlock(&st->mu);
}

void st_conn_rejected(st_t *st) {
  pthread_mutex_lock(&st->mu);
  st->conn_rejected++;
  pthread_mutex_unlock(&st->mu);
}

void st_request(st_t *st, const proto_command_t *cmd, int rc, uint64_t latency_us, int on_loop) {
  size_t ci = st->ncmds; /* "other" */
  if (cmd && cmd >= st->cmds && cmd < st->cmds + st->ncmds) ci = (size_t)(cmd - st->cmds);
  pthread_mutex_lock(&st->mu);
  st->requests_total++;
  st->on_loop += on_loop != 0;
  st->by_cmd[ci]++;
  if (rc) st->by_code[err_proto(rc)]++;
  size_t b = 0;
  while (b < ST_NBUCKETS && latency_us > st_bucket_us[b]) b++;
  st->buckets[b]++;
  st->sum_us += latency_us;
  st->window[st->wpos] = latency_us > UINT32_MAX ? UINT32_MAX : (uint32_t)latency_us;
  st->wpos = (st->wpos + 1) % ST_WINDOW;
  if (st->wlen < ST_WINDOW) st->wlen++;
  pthread_mutex_unlock(&st->mu);
}

void st_reload(st_t *st) {
  pthread_mutex_lock(&st->mu);
  st->reloads++;
  pthread_mutex_unlock(&st->mu);
}

void st_poll(st_t *st, int hit) {
  pthread_mutex_lock(&st->mu);
  if (hit) st->poll_hits++;
  else st->polls++;
  pthread_mutex_unlock(&st->mu);
}

void st_histogram(st_t *st, uint64_t counts[ST_NBUCKETS + 1], uint64_t *sum_us) {
  pthread_mutex_lock(&st->mu);
  memcpy(counts, st->buckets, sizeof st->buckets);
  *sum_us = st->sum_us;
  pthread_mutex_unlock(&st->mu);
}

static int st_cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static uint32_t st_percentile(const uint32_t *v, size_t n, unsigned pct) {
  if (!n) return 0;
  size_t rank = (n * pct + 99) / 100;
  if (rank < 1) rank = 1;
  return v[rank - 1];
}

void st_proto_hook(void *ud, buf_t *out) {
  st_t *st = ud;
  uint32_t *sorted = malloc(sizeof st->window);
  pthread_mutex_lock(&st->mu);
  uint64_t now = uv_hrtime();
  buf_json_key(out, "uptime_s");
  buf_json_int(out, (int64_t)((now - st->start_ns) / 1000000000u));
  buf_json_key(out, "threads");
  buf_json_int(out, st->threads);
  buf_json_key(out, "connections_current");
  buf_json_int(out, (int64_t)st->conn_current);
  buf_json_key(out, "connections_total");
  buf_json_int(out, (int64_t)st->conn_total);
  buf_json_key(out, "connections_rejected");
  buf_json_int(out, (int64_t)st->conn_rejected);
  buf_json_key(out, "requests_total");
  buf_json_int(out, (int64_t)st->requests_total);
  buf_json_key(out, "requests");
  buf_json_open(out, '{');
  for (size_t i = 0; i < st->ncmds; i++) {
    char name[32];
    size_t k = 0;
    for (const char *p = st->cmds[i].name; *p && k < sizeof name - 1; p++)
      name[k++] = (char)tolower((unsigned char)*p);
    name[k] = '\0';
    buf_json_key(out, name);
    buf_json_int(out, (int64_t)st->by_cmd[i]);
  }
  buf_json_key(out, "other");
  buf_json_int(out, (int64_t)st->by_cmd[st->ncmds]);
  buf_json_close(out, '}');
  buf_json_key(out, "errors");
  buf_json_open(out, '{');
  for (int i = 0; i < ERR_P__COUNT; i++) {
    buf_json_key(out, err_proto_name((err_proto_t)i));
    buf_json_int(out, (int64_t)st->by_code[i]);
  }
  buf_json_close(out, '}');
  size_t n = st->wlen;
  if (sorted) memcpy(sorted, st->window, n * sizeof *sorted);
  uint64_t reloads = st->reloads, on_loop = st->on_loop, polls = st->polls,
           poll_hits = st->poll_hits;
  pthread_mutex_unlock(&st->mu);

  buf_json_key(out, "latency_us");
  buf_json_open(out, '{');
  if (sorted) {
    qsort(sorted, n, sizeof *sorted, st_cmp_u32);
    buf_json_key(out, "p50");
    buf_json_int(out, st_percentile(sorted, n, 50));
    buf_json_key(out, "p90");
    buf_json_int(out, st_percentile(sorted, n, 90));
    buf_json_key(out, "p99");
    buf_json_int(out, st_percentile(sorted, n, 99));
    buf_json_key(out, "max");
    buf_json_int(out, n ? sorted[n - 1] : 0);
  }
  buf_json_key(out, "window");
  buf_json_int(out, (int64_t)n);
  buf_json_close(out, '}');
  free(sorted);

  cache_stats_t cs;
  cache_stats(st->cache, &cs);
  buf_json_key(out, "cache");
  buf_json_open(out, '{');
  buf_json_key(out, "enabled");
  buf_json_bool(out, st->cache != NULL);
  buf_json_key(out, "hits");
  buf_json_int(out, (int64_t)cs.hits);
  buf_json_key(out, "misses");
  buf_json_int(out, (int64_t)cs.misses);
  buf_json_key(out, "hit_rate");
  buf_json_double(out, cs.hits + cs.misses ? (double)cs.hits / (double)(cs.hits + cs.misses) : 0);
  buf_json_key(out, "entries");
  buf_json_int(out, (int64_t)cs.entries);
  buf_json_key(out, "bytes");
  buf_json_int(out, (int64_t)cs.bytes);
  buf_json_key(out, "max_bytes");
  buf_json_int(out, (int64_t)cs.max_bytes);
  buf_json_close(out, '}');
  buf_json_key(out, "reloads");
  buf_json_int(out, (int64_t)reloads);
  buf_json_key(out, "answered_on_loop");
  buf_json_int(out, (int64_t)on_loop);
  buf_json_key(out, "matched_on_threads");
  buf_json_int(out, (int64_t)eng_matched_on_threads());
  buf_json_key(out, "loop_polls");
  buf_json_int(out, (int64_t)polls);
  buf_json_key(out, "loop_poll_hits");
  buf_json_int(out, (int64_t)poll_hits);
}
