/* opts.h: sift-searchd's settings, from one table.
 *
 * Every setting is one row of the table in opts.c: {name, type, where it
 * goes, default, range, argument name, help}.  From that table come the
 * command line (--NAME VALUE), the config file (--config FILE: "NAME =
 * VALUE" lines, '#' comments; the command line wins, and a repeatable
 * setting given on the command line replaces the file's list), --help,
 * the man page's OPTIONS section (--man) and --check-config's listing of
 * the effective settings.  A default is written once, in the table, as the
 * text a user would write, and goes through the same parser.
 *
 * Errors (unknown name, bad value, out of range) come back as one line
 * naming the flag, or the file and line.
 *
 * Ownership: strings in opts_t point into argv or into the config file's
 * text, which opts_parse keeps until opts_free.
 */
#ifndef SIFT_SEARCHD_OPTS_H
#define SIFT_SEARCHD_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define OPTS_MAX_LISTEN 8
#define OPTS_MAX_INDEX 256

typedef struct opts {
  const char *index[OPTS_MAX_INDEX]; /* served as one (eng_open_set) */
  size_t nindex;
  const char *listen[OPTS_MAX_LISTEN];
  size_t nlisten;
  const char *unix_path;
  uint64_t unix_mode;
  const char *http;
  uint64_t insecure_bind;
  const char *auth_file;
  uint64_t threads;       /* 0: the number of CPUs */
  uint64_t shard_threads; /* eng_set_shard_threads */
  uint64_t max_line, max_pipeline, max_output, max_connections;
  uint64_t idle_timeout_s, query_timeout_ms;
  uint64_t max_limit, max_offset, max_expansion;
  const char *bm25; /* "K1,B" (eng_parse_bm25) */
  uint64_t reload_interval_s, shutdown_timeout_s;
  uint64_t cache_mb, inline_budget, spin_us;
  uint64_t log_level;
  const char *query_log;
  uint64_t slow_ms;
  const char *config;
  /* Actions rather than settings. */
  int help, man, version, check_config;
  char *config_text; /* the config file's bytes (owned) */
} opts_t;

/* Defaults, then the config file (when --config is given), then the command
 * line.  0, or -1 with a one-line reason in why (n bytes). */
int opts_parse(int argc, char **argv, opts_t *o, char *why, size_t n);
void opts_free(opts_t *o);

/* --help text. */
void opts_usage(FILE *f, const char *prog);
/* The man page (roff), its OPTIONS section from the table. */
void opts_man(FILE *f, const char *prog, const char *version);
/* Every setting as a config line "name = value" (what --check-config
 * prints), so the output is itself a valid config file. */
void opts_dump(FILE *f, const opts_t *o);

#endif
