/* log.h: searchd's diagnostics: one line per event on stderr, with a level.
 *
 * Called from the loop thread and from worker threads.  Each call formats
 * the whole line first and writes it with one fwrite(), so lines from
 * different threads never interleave.  Line format:
 *
 *   2024-05-01T12:00:00.123Z info listening on 127.0.0.1:9412
 *
 * Messages below the level set with log_set_level() are dropped before
 * they are formatted.
 */
#ifndef SIFT_SEARCHD_LOG_H
#define SIFT_SEARCHD_LOG_H

#include <stddef.h>

typedef enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG } log_level_t;

void log_set_level(log_level_t level);
/* 1 when messages of this level are written (to skip costly formatting). */
int log_enabled(log_level_t level);
/* "error" "warn" "info" "debug" -> level; -1 for anything else. */
int log_parse_level(const char *name);
/* Now as "2024-05-01T12:00:00.123Z" (UTC, milliseconds) into out (>= 32
 * bytes); the length. */
size_t log_timestamp(char *out, size_t n);
/* The name of a level ("info"). */
const char *log_level_name(log_level_t level);

void log_msg(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) \
  do { \
    if (log_enabled(LOG_DEBUG)) log_msg(LOG_DEBUG, __VA_ARGS__); \
  } while (0)

#endif
