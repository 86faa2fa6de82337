/* log.c: see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static atomic_int log_level_now = LOG_INFO;

static const char *const log_names[] = {"error", "warn", "info", "debug"};

void log_set_level(log_level_t level) { atomic_store(&log_level_now, (int)level); }

int log_enabled(log_level_t level) { return (int)level <= atomic_load(&log_level_now); }

const char *log_level_name(log_level_t level) {
  return (unsigned)level < sizeof log_names / sizeof log_names[0] ? log_names[level] : "?";
}

int log_parse_level(const char *name) {
  for (int i = 0; i < (int)(sizeof log_names / sizeof log_names[0]); i++)
    if (strcmp(name, log_names[i]) == 0) return i;
  return -1;
}

size_t log_timestamp(char *out, size_t n) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t len = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
  int k = snprintf(out + len, n - len, ".%03dZ", (int)(ts.tv_nsec / 1000000L));
  return k > 0 ? len + (size_t)k : len;
}

void log_msg(log_level_t level, const char *fmt, ...) {
  if (!log_enabled(level)) return;
  char line[1024];
  size_t n = log_timestamp(line, 64);
  int k = snprintf(line + n, sizeof line - n, " %s ", log_names[level]);
  if (k > 0) n += (size_t)k;
  va_list ap;
  va_start(ap, fmt);
  k = vsnprintf(line + n, sizeof line - n, fmt, ap);
  va_end(ap);
  if (k > 0) n += (size_t)k;
  if (n > sizeof line - 2) n = sizeof line - 2; /* truncated: keep one line */
  for (size_t i = 0; i < n; i++)
    if (line[i] == '\n' || line[i] == '\r') line[i] = ' ';
  line[n++] = '\n';
  fwrite(line, 1, n, stderr);
}
