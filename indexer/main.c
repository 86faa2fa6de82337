/* sift-indexer: turns corpus files into a Sift index (SPEC.md "Corpus format").
 *
 *   sift-indexer --index DIR [--lang LANG] [--batch N] [--jobs N] [--layout month|year]
 *                [--format 1|2|3]
 *                [--strict] FILE_OR_DIR...
 *   sift-indexer --index DIR --delete FILE|- [--batch N] [--strict]
 *
 * Reads every source in order (corpus.h), parses each record (doc.h), adds it
 * (idx.h), and commits every --batch articles, so an interrupted run leaves the
 * index at its last commit.  A run that creates the index writes it in --jobs
 * shards on as many threads (shards.h) and merges them as it compacts; a run
 * that adds to an index has one writer.  An archive laid out by time
 * (--layout, periods.h) routes each article to its period's shard and builds
 * the periods on --jobs threads.  Bad records are reported as FILE:LINE: reason and
 * skipped; they never stop the run.  SIGINT/SIGTERM stop reading, commit what
 * was read, and exit 130/143.  On a terminal, a progress line shows the rate;
 * at the end a summary line gives the counts and the speed.
 *
 * --delete reads a list of ids (idx_ids_parse) and removes those articles
 * (idx_delete), committing every --batch ids; it takes no corpus files (a
 * run either adds or removes, so what a kill leaves stays simple), and
 * --strict makes an id not found an error.  docs/deleting.md.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "corpus.h"
#include "doc.h"
#include "err.h"
#include "idx.h"
#include "num.h"
#include "periods.h"
#include "schema.h"
#include "shards.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

typedef struct run {
  idx_t *idx;     /* one writer, or */
  sh_build_t *sh; /* the shards of a new index, or */
  pd_build_t *pd; /* an archive laid out by time */
  /* progress over all sources: sizes of the sources before the current one,
   * of all of them, and the current reader */
  uint64_t bytes_before, bytes_all;
  corpus_t *cur;
  uint32_t batch;
  int progress; /* stderr is a terminal */
  int quiet;
  uint64_t added, skipped, warned, since_commit;
  double t0, last_progress;
  /* The current source's problem reports, held until it yields its first
   * article: a source that yields none (random bytes, a binary file) is
   * then one line, not a report for every "line" of it.  Past
   * RUN_HOLD_MAX reports they are let out as they come. */
  buf_t held;
  uint64_t nheld;
  int holding;
  char *no_article; /* the first source that yielded no article (fails the run) */
} run_t;

#define RUN_HOLD_MAX 1000

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: sift-indexer --index DIR [options] FILE_OR_DIR...\n"
          "       sift-indexer --index DIR --delete FILE|- [--batch N] [--strict]\n"
          "Adds the articles of each source to the index at DIR (created if absent).\n"
          "A source is a JSON Lines file (.jsonl, or zstd-compressed .jsonl.zst),\n"
          "'-' for standard input, or a directory of .txt articles.\n"
          "\n"
          "  --index DIR   the index to create or add to (required)\n"
          "  --lang LANG   default language of a new index (ISO 639-1 or Snowball name;\n"
          "                default en); articles pick theirs with their \"lang\" field\n"
          "  --batch N     commit every N articles (default 1000)\n"
          "  --jobs N      build a new index in N shards on N threads, merged at the\n"
          "                end (default: the number of cores, at most 4; 1: one writer)\n"
          "  --layout U    lay a new index out by time: one shard per period, U being\n"
          "                month or year, each article in its period's (a later run\n"
          "                adds to the periods it touches); a search bounded by date\n"
          "                reads only the periods it needs; --jobs periods at a time\n"
          "  --format N    write a new index in the older format N (1 or 2: the word\n"
          "                rules before hyphen closed forms and accented stems; 3:\n"
          "                articles stored as the release before blocks did), for\n"
          "                daemons of a release that reads only those; one writer\n"
          "  --strict      exit 1 if any record was skipped (with --delete: any id not found)\n"
          "  --delete FILE remove the articles whose ids FILE lists, one per line ('-':\n"
          "                standard input); commits every --batch ids; DIR may be a\n"
          "                stub of local shards, such as a --layout archive\n"
          "  --compact     compact the index at the end (default when this run\n"
          "                created it; --no-compact to skip)\n"
          "  --quiet       no progress line and no summary\n"
          "  --help, --version\n");
}

static void progress(run_t *r, int force) {
  if (!r->progress) return;
  double t = now_s();
  if (!force && t - r->last_progress < 0.5) return;
  r->last_progress = t;
  double el = t - r->t0;
  char eta[32] = "";
  uint64_t done = 0, total = 0;
  if (r->cur) corpus_progress(r->cur, &done, &total);
  double frac = r->bytes_all ? (double)(r->bytes_before + done) / (double)r->bytes_all : 0;
  if (frac > 0.01 && frac <= 1) {
    int left = (int)(el / frac - el);
    snprintf(eta, sizeof eta, ", %d%%, ETA %d:%02d", (int)(frac * 100), left / 60, left % 60);
  }
  fprintf(stderr, "\r%llu articles, %.0f/s, %llu skipped%s   ", (unsigned long long)r->added,
          el > 0 ? (double)r->added / el : 0.0, (unsigned long long)r->skipped, eta);
  fflush(stderr);
}

static int commit(run_t *r, err_t *err) {
  r->since_commit = 0;
  return idx_commit(r->idx, err);
}

static void release_held(run_t *r) {
  if (r->held.len) fwrite(r->held.data, 1, r->held.len, stderr);
  buf_reset(&r->held);
  r->holding = 0;
}

/* Report a record problem as FILE:LINE (or FILE for a .txt article). */
static void report(run_t *r, const corpus_rec_t *rec, const char *what) {
  char line[1024];
  if (rec->line)
    snprintf(line, sizeof line, "%s:%llu: %s\n", rec->file, (unsigned long long)rec->line, what);
  else
    snprintf(line, sizeof line, "%s/%s: %s\n", rec->file, rec->relpath ? rec->relpath : "", what);
  if (!r->holding) {
    fputs(line, stderr);
    return;
  }
  buf_puts(&r->held, line);
  if (++r->nheld >= RUN_HOLD_MAX || r->held.err) release_held(r);
}

/* Index one source.  Returns 0, or a fatal error code (already reported). */
static int index_source(run_t *r, const char *path, arena_t *a) {
  err_t err = {0};
  corpus_t *c = NULL;
  int rc = corpus_open(path, 0, &c, &err);
  if (rc) {
    fprintf(stderr, "sift-indexer: %s\n", err_message(&err));
    return rc;
  }
  corpus_rec_t rec;
  r->cur = c;
  r->holding = 1;
  r->nheld = 0;
  uint64_t records = 0, objects = 0;
  buf_reset(&r->held);
  while (!stop_signal) {
    err_clear(&err);
    arena_reset(a);
    rc = corpus_next(c, &rec, &err);
    if (rc == 0) break;
    records++;
    if (rc == ERR_TOO_LONG) {
      report(r, &rec, err_message(&err));
      r->skipped++;
      continue;
    }
    if (rc < 0) {
      fprintf(stderr, "sift-indexer: %s\n", err_message(&err));
      break;
    }
    doc_t d;
    rc = rec.relpath ? doc_from_text(rec.relpath, rec.data, rec.len, a, &d, &err)
                     : doc_parse_json(rec.data, rec.len, a, &d, &err);
    if (rc == ERR_NOMEM) break;
    if (!rc || rec.relpath || err.column == 0) objects++;
    if (rc) {
      report(r, &rec, err_message(&err));
      r->skipped++;
      rc = 0;
      continue;
    }
    if (r->holding) release_held(r);
    if (d.date_warning) {
      char msg[400];
      snprintf(msg, sizeof msg, "%s; indexed without a date", d.date_warning);
      report(r, &rec, msg);
      r->warned++;
    }
    const char *warning = NULL;
    if ((rc = r->sh   ? sh_add(r->sh, &d, &warning, &err)
              : r->pd ? pd_add(r->pd, &d, &warning, &err)
                      : idx_add(r->idx, &d, &warning, &err))) {
      fprintf(stderr, "sift-indexer: %s: %s\n", path, err_message(&err));
      break;
    }
    if (warning) {
      report(r, &rec, warning);
      r->warned++;
    }
    r->added++;
    if (r->idx && ++r->since_commit >= r->batch && (rc = commit(r, &err))) {
      fprintf(stderr, "sift-indexer: commit failed: %s\n", err_message(&err));
      break;
    }
    progress(r, 0);
  }
  if (r->holding && records && !objects && !stop_signal && rc >= 0) {
    /* Not a corpus at all (no record is even a JSON object: a binary or
     * text file): one line, with the first reason as a sample.  A corpus
     * whose every record is bad by its fields gets the report of each and
     * does not fail the run (SPEC.md: bad input never aborts a run). */
    const char *first = r->held.len ? r->held.data : "";
    int first_len = (int)strcspn(first, "\n");
    if (r->progress) fprintf(stderr, "\r%*s\r", 60, "");
    fprintf(stderr, "sift-indexer: %s: no article in it (%llu record%s, none usable%s%.*s)\n", path,
            (unsigned long long)records, records == 1 ? "" : "s", first_len ? "; first: " : "",
            first_len > 200 ? 200 : first_len, first);
    if (!r->no_article) r->no_article = strdup(path);
    buf_reset(&r->held);
  }
  release_held(r);
  uint64_t done, total;
  corpus_progress(c, &done, &total);
  r->bytes_before += total;
  r->cur = NULL;
  corpus_free(c);
  return rc < 0 ? rc : 0;
}

/* The whole of a file ('-': standard input) in *out. */
static int read_all(const char *path, buf_t *out, err_t *err) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (!f) return err_set(err, ERR_IO, 0, "cannot read %s: %s", path, strerror(errno));
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_append(out, chunk, n);
  int rc = ferror(f)  ? err_set(err, ERR_IO, 0, "cannot read %s: %s", path, strerror(errno))
           : out->err ? err_set(err, out->err, 0, NULL)
                      : 0;
  if (f != stdin) fclose(f);
  return rc;
}

#define NOT_FOUND_SHOWN 10

/* --delete: remove the articles FILE lists.  Returns the exit status. */
static int run_delete(const char *index, const char *file, uint32_t batch, int strict, int quiet) {
  err_t err = {0};
  buf_t text;
  idx_ids_t ids;
  size_t bad_line = 0, batches = 0;
  buf_init(&text, 0);
  idx_ids_init(&ids);
  double t0 = now_s();
  int rc = read_all(file, &text, &err);
  if (rc) {
    fprintf(stderr, "sift-indexer: %s\n", err_message(&err));
  } else if ((rc = idx_ids_parse(&ids, text.data, text.len, &bad_line, &err))) {
    fprintf(stderr, "sift-indexer: %s:%zu: %s; nothing was removed\n",
            strcmp(file, "-") ? file : "(stdin)", bad_line, err_message(&err));
  } else {
    idx_delete_opts_t o = {.batch = batch, .stop = &stop_signal};
    if ((rc = idx_delete(index, &ids, &o, &batches, &err)))
      fprintf(stderr, "sift-indexer: %s\n", err_message(&err));
  }
  buf_fini(&text);
  /* Batches run in list order: the ids of the batches done were tried, and
   * those of them not removed were not found. */
  size_t removed = 0, shown = 0;
  size_t tried = ids.n < batches * (size_t)batch ? ids.n : batches * (size_t)batch;
  for (size_t i = 0; i < ids.n; i++) removed += ids.removed[i];
  size_t missing = tried - removed;
  uint32_t docs = 0;
  err_clear(&err);
  /* A summary whenever the index was reached, so a fault after some batches
   * still says what they removed. */
  if (!quiet && (!rc || batches) && idx_stat(index, &docs, &err) == 0) {
    buf_t line;
    buf_init(&line, 0);
    buf_printf(&line, "sift-indexer: %s: removed %zu of %zu ids", index, removed, ids.n);
    if (ids.dups)
      buf_printf(&line, " (%zu repeated line%s ignored)", ids.dups, ids.dups == 1 ? "" : "s");
    buf_printf(&line, " in %zu batch%s; %zu not found", batches, batches == 1 ? "" : "es", missing);
    if (missing > NOT_FOUND_SHOWN) buf_printf(&line, ", the first %d", NOT_FOUND_SHOWN);
    for (size_t i = 0; i < tried && shown < NOT_FOUND_SHOWN; i++) {
      if (ids.removed[i]) continue;
      buf_puts(&line, shown++ ? " \"" : ": \""); /* quoted: an id may hold spaces */
      buf_json_escape(&line, ids.ids[i], strlen(ids.ids[i]));
      buf_putc(&line, '"');
    }
    if (tried < ids.n) buf_printf(&line, "; %zu not tried", ids.n - tried);
    buf_printf(&line, "; %u articles in the index, %.1f s\n", docs, now_s() - t0);
    if (!line.err) fputs(line.data, stderr);
    buf_fini(&line);
  }
  idx_ids_fini(&ids);
  if (stop_signal) {
    fprintf(stderr, "sift-indexer: interrupted; the index holds every batch committed\n");
    return 128 + stop_signal;
  }
  if (rc) return 1;
  return strict && missing ? 1 : 0;
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"index", required_argument, NULL, 'i'},  {"lang", required_argument, NULL, 'l'},
      {"batch", required_argument, NULL, 'b'},  {"strict", no_argument, NULL, 's'},
      {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
      {"compact", no_argument, NULL, 'c'},      {"no-compact", no_argument, NULL, 'C'},
      {"jobs", required_argument, NULL, 'j'},   {"version", no_argument, NULL, 'V'},
      {"layout", required_argument, NULL, 'L'}, {"delete", required_argument, NULL, 'd'},
      {"format", required_argument, NULL, 'F'}, {NULL, 0, NULL, 0}};
  const char *index = NULL, *lang = NULL, *delete = NULL, *adding_only = NULL;
  pd_unit_t layout = PD_NONE;
  run_t r = {.batch = 1000};
  buf_init(&r.held, 0);
  int strict = 0, compact = -1, c; /* -1: when the run created the index */
  int format = 0;                  /* --format: 0 for the newest */
  uint64_t v;                      /* a number option's value */
  char why[128];                   /* why it is not one */
  long jobs = sysconf(_SC_NPROCESSORS_ONLN);
  jobs = jobs < 1 ? 1 : jobs > 4 ? 4 : jobs;
  opterr = 0; /* our own one-line message */
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
      case 'i':
        index = optarg;
        break;
      case 'l':
        lang = optarg;
        adding_only = "--lang";
        break;
      case 'd':
        delete = optarg;
        break;
      case 'b':
        if (num_option("--batch", optarg, 1, 10000000, &v, why, sizeof why)) {
          fprintf(stderr, "sift-indexer: %s\n", why);
          return 2;
        }
        r.batch = (uint32_t)v;
        break;
      case 'j':
        adding_only = "--jobs";
        if (num_option("--jobs", optarg, 1, SH_MAX_SHARDS, &v, why, sizeof why)) {
          fprintf(stderr, "sift-indexer: %s\n", why);
          return 2;
        }
        jobs = (long)v;
        break;
      case 'L':
        if ((layout = pd_unit_parse(optarg)) == PD_NONE) {
          fprintf(stderr, "sift-indexer: --layout takes month or year\n");
          return 2;
        }
        adding_only = "--layout";
        break;
      case 'F':
        if (num_option("--format", optarg, SCHEMA_FORMAT_OLDEST, SCHEMA_FORMAT, &v, why,
                       sizeof why)) {
          fprintf(stderr, "sift-indexer: %s\n", why);
          return 2;
        }
        format = (int)v;
        adding_only = "--format";
        break;
      case 's':
        strict = 1;
        break;
      case 'c':
        compact = 1;
        adding_only = "--compact";
        break;
      case 'C':
        compact = 0;
        adding_only = "--no-compact";
        break;
      case 'q':
        r.quiet = 1;
        break;
      case 'h':
        usage(stdout);
        return 0;
      case 'V':
        printf("sift-indexer %s\n", SIFT_VERSION);
        return 0;
      default:
        fprintf(stderr, "sift-indexer: bad option (see --help)\n");
        return 2;
    }
  }
  if (!index) {
    fprintf(stderr, "sift-indexer: --index DIR is required (see --help)\n");
    return 2;
  }
  if (delete &&(optind < argc || adding_only)) {
    fprintf(stderr, "sift-indexer: --delete takes no %s (remove and add in separate runs)\n",
            optind < argc ? "corpus files" : adding_only);
    return 2;
  }
  if (!delete &&optind >= argc) {
    fprintf(stderr, "sift-indexer: no input given (a file, a directory, or - for stdin)\n");
    return 2;
  }
  /* Commits are ours alone: Xapian must not flush a partial batch on its own,
   * so the index always holds whole batches. */
  setenv("XAPIAN_FLUSH_THRESHOLD", "100000000", 1);
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  if (delete) return run_delete(index, delete, r.batch, strict, r.quiet);

  err_t err = {0};
  uint64_t before, after;
  int by_time = layout != PD_NONE || pd_unit_of(index) != PD_NONE;
  if (format && (by_time || !idx_path_is_free(index))) {
    fprintf(stderr, "sift-indexer: --format is for a new index without --layout (%s %s)\n", index,
            by_time ? "is laid out by time" : "exists: it keeps its format");
    return 2;
  }
  if (!by_time && idx_is_stub(index)) { /* left by a parallel build that did not finish */
    if (!r.quiet)
      fprintf(stderr, "sift-indexer: %s holds the shards of an unfinished build; merging them\n",
              index);
    if (idx_compact(index, &before, &after, &err)) {
      fprintf(stderr, "sift-indexer: cannot merge the shards of %s (they are intact): %s\n", index,
              err_message(&err));
      return 1;
    }
  }
  /* Shards are merged by the compaction, so --no-compact means one writer. */
  int rc = by_time
               ? pd_open(index, layout, lang, (unsigned)jobs, r.batch, &stop_signal, &r.pd, &err)
           : jobs > 1 && compact != 0 && !format && idx_path_is_free(index)
               ? sh_open(index, lang, (unsigned)jobs, r.batch, &r.sh, &err)
               : idx_open(index, lang, &r.idx, &err);
  if (!rc && format && format != SCHEMA_FORMAT) rc = idx_set_format(r.idx, format, &err);
  if (rc) {
    fprintf(stderr, "sift-indexer: %s\n", err_message(&err));
    idx_free(r.idx);
    return 1;
  }
  arena_t *a = arena_new(1 << 20);
  if (!a) {
    fprintf(stderr, "sift-indexer: out of memory\n");
    idx_free(r.idx);
    sh_free(r.sh);
    pd_free(r.pd);
    return 1;
  }
  r.progress = !r.quiet && isatty(2);
  r.t0 = now_s();
  uint32_t docs_before = r.sh ? 0 : r.pd ? pd_doccount_before(r.pd) : idx_doccount(r.idx);
  for (int i = optind; i < argc; i++) { /* sizes for the ETA: regular files only */
    struct stat st;
    if (strcmp(argv[i], "-") == 0 || stat(argv[i], &st) != 0 || !S_ISREG(st.st_mode)) {
      r.bytes_all = 0;
      break;
    }
    r.bytes_all += (uint64_t)st.st_size;
  }
  for (int i = optind; i < argc && !rc && !stop_signal; i++) rc = index_source(&r, argv[i], a);
  err_clear(&err);
  int crc = r.sh ? sh_finish(r.sh, &err) : r.pd ? pd_finish(r.pd, &err) : commit(&r, &err);
  if (crc) fprintf(stderr, "sift-indexer: commit failed: %s\n", err_message(&err));
  double el = now_s() - r.t0;
  uint32_t docs = r.sh ? sh_doccount(r.sh) : r.pd ? pd_doccount(r.pd) : idx_doccount(r.idx);
  uint32_t grown = docs - docs_before;
  uint64_t written = r.sh ? sh_committed(r.sh) : r.pd ? pd_committed(r.pd) : r.added;
  if (r.progress) fprintf(stderr, "\r%*s\r", 60, "");
  if (!r.quiet) {
    fprintf(stderr,
            "sift-indexer: %s: added %llu, replaced %llu, skipped %llu, warnings %llu, "
            "%u articles in the index, %.1f s, %.0f articles/s\n",
            index, (unsigned long long)grown, (unsigned long long)(written - grown),
            (unsigned long long)r.skipped, (unsigned long long)r.warned, docs, el,
            el > 0 ? (double)written / el : 0.0);
  }
  /* An archive by time compacts the periods it creates as it builds them. */
  if (compact < 0) compact = r.sh || (r.idx && idx_created(r.idx));
  if (r.pd) compact = 0;
  idx_free(r.idx);
  sh_free(r.sh);
  pd_free(r.pd);
  arena_free(a);
  if (compact && !stop_signal && !rc && !crc) {
    double t = now_s();
    err_clear(&err);
    if ((crc = idx_compact(index, &before, &after, &err)))
      fprintf(stderr, "sift-indexer: compaction failed (the index is intact): %s\n",
              err_message(&err));
    else if (!r.quiet)
      fprintf(stderr, "sift-indexer: compacted %.1f MB to %.1f MB in %.1f s\n",
              (double)before / 1e6, (double)after / 1e6, now_s() - t);
  }
  buf_fini(&r.held);
  int failed = rc || crc || r.no_article;
  free(r.no_article);
  if (stop_signal) {
    fprintf(stderr, "sift-indexer: interrupted; the index holds everything committed\n");
    return 128 + stop_signal;
  }
  if (failed) return 1;
  return strict && r.skipped ? 1 : 0;
}
