/* xw.cc: the C wrapper over libxapian declared in xw.h; with xw_count.cc,
 * xw_facet.cc, xw_filter.cc, xw_par.cc and xw_rank.cc (sharing xw_int.h)
 * the only C++ in the tree.
 * Called by eng.c (searching), the indexer (writing) and the tests.  This
 * file: errors, shard sets, databases, documents, queries, searching.
 *
 * Invariants:
 * - Nothing thrown crosses into C.  Every extern "C" entry point runs its
 *   body through xw_try() (returns an ERR_* code) or xw_or() (returns a
 *   fallback: 0 or NULL), the only two places with a catch.  xw_fail() turns
 *   the exception in flight into a code, through the one table xw_errors[]
 *   keyed on Xapian's error type name.  The one failure no catch can take,
 *   libxapian terminating inside a write (a full disk while a commit merges
 *   value streams), ends the process with one line and status 1
 *   (xw_on_terminate), never an abort.
 * - Handles own their C++ objects by value or unique_ptr, so unwinding or
 *   deleting a handle on any path frees everything.
 * - Xapian's file names (the stub file, the glass version file) are known
 *   here only: the indexer writes stubs through xw_stub_write().
 *
 * Choices worth knowing:
 * - Facets with a column (xw.h) are counted by xw_column_spy, or, for a
 *   query of one term or everything, from the posting list or the column's
 *   totals while the match only ranks.  Others ride on Xapian's own
 *   ValueCountMatchSpy, one per distinct slot, whose per-value counts are
 *   folded afterwards (split on '\x1f' when multi, cut to prefix_len, each
 *   key counted once per document); a remote shard can only run that one,
 *   since xapian-tcpsrv knows only the spies it registers.  Counts are exact
 *   because a search with facets checks every match (check_at_least raised
 *   to the doc count) unless the posting list counts them.
 * - Time limit: Xapian 1.4's Enquire::set_time_limit() only stops the match
 *   trying to be exact (check_at_least); it cannot end a match early.  xw
 *   sets it and also times get_mset() itself: a search that took time_limit
 *   or longer fails with ERR_TIMEOUT, so a result the limit may have cut
 *   short (estimated totals, partial facet counts) is never returned.
 *   Xapian's limit is a POSIX timer whose expiry runs on a thread glibc
 *   starts behind ThreadSanitizer's back (it crashes there): the TSan build
 *   defines XW_NO_XAPIAN_TIMER and keeps only the timing of its own.
 * - BM25 parameters left 0 take Xapian's own defaults: k1 1, b 0.5.
 * - Compaction writes Xapian's default compacted form (one file per table),
 *   which reopens like any glass database.
 */
extern "C" {
#include "file.h"
#include "hash.h"
}
#include "xw_int.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* ---- errors ---- */

/* Xapian error type -> code; msg replaces Xapian's message when set.
 * Anything not listed is ERR_XAPIAN. */
static const struct {
  const char *type;
  int code;
  const char *msg;
} xw_errors[] = {
    {"DatabaseModifiedError", ERR_MODIFIED, NULL},
    {"DatabaseNotFoundError", ERR_NO_INDEX, NULL},
    {"DatabaseOpeningError", ERR_NO_INDEX, NULL},
    {"DatabaseLockError", ERR_LOCKED, NULL},
    {"DatabaseCorruptError", ERR_CORRUPT, NULL},
    {"DatabaseVersionError", ERR_INDEX_FORMAT, NULL},
    {"DocNotFoundError", ERR_NOT_FOUND, NULL},
    {"NetworkTimeoutError", ERR_SHARD_TIMEOUT, NULL},
    {"NetworkError", ERR_SHARD, NULL},
    {"WildcardError", ERR_BAD_QUERY, "prefix matches too many words"},
};

/* A write that failed for want of space, whatever the error class. */
static bool xw_is_enospc(const Xapian::Error &e) {
  const char *nospace = std::strerror(ENOSPC);
  const char *es = e.get_error_string();
  return (es && std::strcmp(es, nospace) == 0) || e.get_msg().find(nospace) != std::string::npos;
}

/* Only inside a catch: record the exception in flight in err, return its
 * code. */
int xw_fail(err_t *err) noexcept {
  try {
    throw;
  } catch (const Xapian::Error &e) {
    const char *type = e.get_type();
    if (xw_is_enospc(e)) return err_set(err, ERR_DISK_FULL, 0, "%s", e.get_description().c_str());
    /* Xapian keeps the system's reason (errno) apart from its message. */
    const char *why = e.get_error_string();
    std::string msg;
    try {
      msg = e.get_msg() + (why && *why ? std::string(" (") + why + ")" : "");
    } catch (...) { /* out of memory: the type alone will do */
    }
    for (const auto &row : xw_errors) {
      if (std::strcmp(type, row.type) != 0) continue;
      if (row.msg) return err_set(err, row.code, 0, "%s", row.msg);
      return err_set(err, row.code, 0, "%s: %s", type, msg.c_str());
    }
    return err_set(err, ERR_XAPIAN, 0, "%s: %s", type, msg.c_str());
  } catch (const std::bad_alloc &) {
    return err_set(err, ERR_NOMEM, 0, "out of memory in the index library");
  } catch (const std::exception &e) {
    return err_set(err, ERR_XAPIAN, 0, "%s", e.what());
  } catch (...) {
    return err_set(err, ERR_XAPIAN, 0, "unknown exception in the index library");
  }
}

/* Copy s out as a malloc'ed NUL-terminated string. */
static int xw_copy_out(const std::string &s, char **out, size_t *len, err_t *err) {
  char *p = static_cast<char *>(std::malloc(s.size() + 1));
  if (!p) return err_set(err, ERR_NOMEM, 0, "out of memory copying %zu bytes", s.size());
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  *out = p;
  if (len) *len = s.size();
  return 0;
}

/* ---- a write Xapian cannot survive ----
 * libxapian 1.4 writes a commit's value streams from a destructor
 * (Glass::ValueUpdater in glass_values.cc: 1.4.22 here, the same through
 * 1.4.28).  A write failing there, on a full disk, throws out of a
 * destructor, and the C++ runtime calls std::terminate past every catch,
 * ours included: "terminate called after throwing an instance of
 * 'Xapian::DatabaseError'", or "... without an active exception" when it
 * fails again while a first failure of the same merge unwinds.  The process
 * cannot go on, but the index is safe: the commit had not written its
 * revision, so the index is what a kill at that moment leaves, its last
 * commit.  So each write through a writable handle marks its thread
 * (xw_write_scope), and a terminate inside one says so in one line and
 * exits 1 instead of aborting; any other terminate goes to the handler
 * installed before ours. */
static thread_local const char *xw_writing; /* the database being written */
static std::terminate_handler xw_prev_terminate;

[[noreturn]] static void xw_on_terminate() {
  const char *path = xw_writing;
  if (!path) {
    if (xw_prev_terminate) xw_prev_terminate();
    std::abort();
  }
  /* Nothing was caught since the failed write: its errno is still set
   * (so with 1.4.22), the only reason left when no exception is. */
  int saved = errno;
  std::string why;
  try {
    if (std::exception_ptr e = std::current_exception()) std::rethrow_exception(e);
    why = saved ? std::strerror(saved) : "no reason given";
  } catch (const Xapian::Error &e) {
    why = e.get_description();
  } catch (const std::exception &e) {
    why = e.what();
  } catch (...) {
    why = "an unknown exception";
  }
  struct statvfs fs;
  char line[1024], room[64] = "";
  if (statvfs(path, &fs) == 0)
    snprintf(room, sizeof room, " (%llu bytes free there)",
             (unsigned long long)fs.f_bavail * (unsigned long long)fs.f_frsize);
  int n = snprintf(line, sizeof line,
                   "%s: the index library stopped inside a write to %s: %s%s; the index keeps "
                   "its last commit\n",
                   program_invocation_short_name, path, why.c_str(), room);
  /* write(2), not stdio: another thread may hold stderr's lock; _exit, as
   * a kill would: no destructor may touch the broken handle. */
  if (n > 0 && write(STDERR_FILENO, line, std::min((size_t)n, sizeof line - 1)) < 0) {
    /* no stderr: the status alone tells */
  }
  _exit(1);
}

/* Marks the calling thread as writing the database at path (borrowed: it
 * must outlive the scope) for xw_on_terminate. */
class xw_write_scope {
 public:
  explicit xw_write_scope(const char *path) : prev(xw_writing) { xw_writing = path; }
  explicit xw_write_scope(const xw_db *db) : xw_write_scope(db->shards[0].name.c_str()) {}
  ~xw_write_scope() { xw_writing = prev; }
  xw_write_scope(const xw_write_scope &) = delete;
  xw_write_scope &operator=(const xw_write_scope &) = delete;

 private:
  const char *prev;
};

static int xw_need_writable(const xw_db *db, err_t *err) {
  return db->writable ? 0 : err_set(err, ERR_INVAL, 0, "the database is open read-only");
}

static Xapian::Query::op xw_xapian_op(xw_op op) {
  switch (op) {
    case XW_AND:
      return Xapian::Query::OP_AND;
    case XW_OR:
      return Xapian::Query::OP_OR;
    case XW_AND_NOT:
      return Xapian::Query::OP_AND_NOT;
    case XW_FILTER:
      return Xapian::Query::OP_FILTER;
    case XW_PHRASE:
      return Xapian::Query::OP_PHRASE;
    case XW_SYNONYM:
      return Xapian::Query::OP_SYNONYM;
    case XW_AND_MAYBE:
      return Xapian::Query::OP_AND_MAYBE;
    case XW_NEAR:
      return Xapian::Query::OP_NEAR;
  }
  throw Xapian::InvalidArgumentError("unknown xw_op");
}

/* ---- shard sets ----
 * Xapian opens a stub file itself, but then keeps its shards to itself: a
 * reader could neither ask one shard for its metadata (each shard carries
 * its own dictionary and languages, schema.h) nor tell which files to watch
 * for a new revision.  So stubs are read here, in Xapian's own format (one
 * shard a line: "auto PATH" or "glass PATH", relative to the stub's
 * directory; "remote HOST:PORT" over TCP; "remote :PROGRAM ARGS"; '#'
 * starts a comment), each shard opened on its own and added to one
 * combined Database.  This also sets the remote shards' timeouts, which a
 * stub line cannot. */
#define XW_STUB_FILE "XAPIANDB"
#define XW_VERSION_FILE "iamglass"
#define XW_MAX_STUB_DEPTH 8

static bool xw_exists(const std::string &f) {
  struct stat st;
  return stat(f.c_str(), &st) == 0;
}

static void xw_add_path(xw_db &x, const std::string &path, unsigned timeout_ms, int depth);

/* Open a remote shard; a failure names it. */
template <class F> static void xw_add_remote(xw_db &x, const std::string &name, F open) {
  try {
    x.shards.push_back({name, true, open()});
  } catch (const Xapian::NetworkTimeoutError &e) {
    throw Xapian::NetworkTimeoutError("remote shard " + name + ": " + e.get_msg());
  } catch (const Xapian::NetworkError &e) {
    throw Xapian::NetworkError("remote shard " + name + ": " + e.get_msg(), e.get_context(),
                               e.get_error_string());
  }
}

static void xw_add_stub(xw_db &x, const std::string &file, unsigned timeout_ms, int depth) {
  x.watch.push_back(file);
  std::ifstream in(file);
  if (!in) throw Xapian::DatabaseOpeningError("cannot read the stub file " + file, errno);
  std::string dir = file.substr(0, file.rfind('/') + 1), line;
  for (unsigned line_no = 1; std::getline(in, line); line_no++) {
    if (line.empty() || line[0] == '#') continue;
    size_t sp = line.find(' ');
    std::string type = line.substr(0, sp),
                rest = sp == std::string::npos ? "" : line.substr(sp + 1);
    if ((type == "auto" || type == "glass") && !rest.empty()) {
      xw_add_path(x, rest[0] == '/' ? rest : dir + rest, timeout_ms, depth + 1);
      continue;
    }
    if (type == "remote" && rest.size() > 1) {
      useconds_t t = timeout_ms ? timeout_ms : 10000;
      if (rest[0] == ':') { /* a program and its arguments */
        size_t a = rest.find(' ');
        std::string prog = rest.substr(1, a == std::string::npos ? a : a - 1);
        std::string args = a == std::string::npos ? "" : rest.substr(a + 1);
        xw_add_remote(x, rest.substr(1), [&] { return Xapian::Remote::open(prog, args, t); });
        continue;
      }
      size_t colon = rest.rfind(':');
      if (colon != std::string::npos && colon > 0) {
        std::string host = rest.substr(0, colon);
        if (host.size() > 2 && host.front() == '[' && host.back() == ']')
          host = host.substr(1, host.size() - 2);
        unsigned port = (unsigned)std::atoi(rest.c_str() + colon + 1);
        xw_add_remote(x, rest, [&] { return Xapian::Remote::open(host, port, t, t); });
        continue;
      }
    }
    throw Xapian::DatabaseOpeningError(
        file + ":" + std::to_string(line_no) +
        ": not a shard line (auto PATH, glass PATH, remote HOST:PORT)");
  }
}

/* A glass directory is one shard; a directory with a stub file, or a stub
 * file, lists shards. */
static void xw_add_path(xw_db &x, const std::string &path, unsigned timeout_ms, int depth) {
  if (depth > XW_MAX_STUB_DEPTH)
    throw Xapian::DatabaseOpeningError("stub files nest too deep at " + path);
  struct stat st;
  if (stat(path.c_str(), &st) != 0)
    throw Xapian::DatabaseNotFoundError("no index at " + path, errno);
  if (S_ISDIR(st.st_mode)) {
    std::string version = path + "/" XW_VERSION_FILE, stub = path + "/" XW_STUB_FILE;
    x.watch.push_back(version); /* a stub directory may become one database */
    if (!xw_exists(version) && xw_exists(stub)) return xw_add_stub(x, stub, timeout_ms, depth);
    x.shards.push_back({path, false, Xapian::Database(path)});
    return;
  }
  std::ifstream in(path, std::ios::binary);
  char magic[9] = {0};
  in.read(magic, sizeof magic);
  if (std::memcmp(magic, "\x0f\x0dXapian ", 9) == 0) { /* a single-file database */
    x.watch.push_back(path);
    x.shards.push_back({path, false, Xapian::Database(path)});
    return;
  }
  xw_add_stub(x, path, timeout_ms, depth);
}

extern "C" {

/* ---- databases ---- */

int xw_db_open(const char *path, xw_db **out, err_t *err) {
  return xw_db_open_set(&path, 1, 0, out, err);
}

int xw_stub_exists(const char *dir) {
  char f[4096];
  return snprintf(f, sizeof f, "%s/" XW_STUB_FILE, dir) < (int)sizeof f && access(f, F_OK) == 0;
}

int xw_stub_write(const char *dir, const char *const *names, size_t n, err_t *err) {
  return xw_try(err, [&] {
    std::string text;
    for (size_t k = 0; k < n; k++) text += std::string("auto ") + names[k] + "\n";
    std::string f = std::string(dir) + "/" XW_STUB_FILE;
    return file_write_atomic(f.c_str(), text.data(), text.size(), err);
  });
}

/* Xapian keeps several files open per shard, and an archive by month of
 * decades has hundreds of shards, opened by every reader: the soft limit on
 * descriptors (often 1024) is raised to the hard one, once. */
static void xw_raise_fd_limit() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  });
}

int xw_db_open_set(const char *const *paths, size_t n, unsigned remote_timeout_ms, xw_db **out,
                   err_t *err) {
  *out = NULL;
  xw_raise_fd_limit();
  if (!paths || !n) return err_set(err, ERR_INVAL, 0, "no index path");
  for (size_t i = 0; i < n; i++)
    if (!paths[i]) return err_set(err, ERR_INVAL, 0, "no index path");
  return xw_try(err, [&] {
    std::unique_ptr<xw_db> x(new xw_db);
    for (size_t i = 0; i < n; i++) xw_add_path(*x, paths[i], remote_timeout_ms, 0);
    for (const auto &sh : x->shards) {
      x->db.add_database(sh.db);
      x->local = x->local && !sh.remote;
    }
    *out = x.release();
    return 0;
  });
}

int xw_db_open_writable(const char *path, int create, xw_db **out, err_t *err) {
  *out = NULL;
  if (!path) return err_set(err, ERR_INVAL, 0, "no index path");
  static std::once_flag handler;
  std::call_once(handler, [] { xw_prev_terminate = std::set_terminate(xw_on_terminate); });
  return xw_try(err, [&] {
    Xapian::WritableDatabase w(path, create ? Xapian::DB_CREATE_OR_OPEN : Xapian::DB_OPEN);
    std::unique_ptr<xw_db> x(new xw_db);
    x->db = w;
    x->w = w;
    x->writable = true;
    x->shards.push_back({path, false, w});
    *out = x.release();
    return 0;
  });
}

size_t xw_db_nshards(const xw_db *db) { return db->shards.size(); }

const char *xw_db_shard_name(const xw_db *db, size_t k) {
  return k < db->shards.size() ? db->shards[k].name.c_str() : NULL;
}

int xw_db_shard_remote(const xw_db *db, size_t k) {
  return k < db->shards.size() && db->shards[k].remote;
}

int xw_db_local(const xw_db *db) { return db->local; }

size_t xw_db_shard_of(const xw_db *db, xw_docid d) {
  return d && !db->shards.empty() ? (size_t)(d - 1) % db->shards.size() : 0;
}

int xw_db_shard_metadata(xw_db *db, size_t k, const char *key, char **val, size_t *len,
                         err_t *err) {
  *val = NULL;
  if (len) *len = 0;
  if (!key || k >= db->shards.size()) return err_set(err, ERR_INVAL, 0, "no such shard or key");
  return xw_try(err, [&] {
    std::string v = db->shards[k].db.get_metadata(key);
    return v.empty() ? 0 : xw_copy_out(v, val, len, err);
  });
}

int xw_db_shard_has_positions(xw_db *db, size_t k) {
  if (k >= db->shards.size()) return 0;
  return xw_or<int>(0, [&] { return db->shards[k].db.has_positions() ? 1 : 0; });
}

uint64_t xw_db_stamp(const xw_db *db, uint64_t *newest_ns) {
  uint64_t h = 1469598103934665603ull, newest = 0;
  for (const auto &f : db->watch) {
    struct stat st;
    uint64_t parts[3] = {0, 0, 0};
    if (stat(f.c_str(), &st) == 0) {
      parts[0] = 1;
      parts[1] = (uint64_t)st.st_ino;
      parts[2] = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
      newest = std::max(newest, parts[2]);
    }
    for (uint64_t p : parts) h = (h ^ p) * 1099511628211ull;
  }
  if (newest_ns) *newest_ns = newest;
  return h;
}

/* Freeing a writable handle commits what is pending, or cancels the open
 * transaction (Xapian's behaviour), a write: the path is copied first, as
 * the handle's own copy goes before Xapian's destructor runs. */
void xw_db_free(xw_db *db) {
  if (!db || !db->writable) {
    delete db;
    return;
  }
  std::string path = db->shards[0].name;
  xw_write_scope writing(path.c_str());
  delete db;
}

int xw_db_reopen(xw_db *db, int *changed, err_t *err) {
  return xw_try(err, [&] {
    bool moved = db->db.reopen();
    if (moved) {
      db->tf_cache.clear();
      db->holders_cache.clear();
      db->prefix_cache.clear();
      db->prefix_terms = 0;
    }
    if (changed) *changed = moved;
    return 0;
  });
}

uint32_t xw_db_doccount(xw_db *db) {
  return xw_or<uint32_t>(0, [&] { return db->db.get_doccount(); });
}

xw_docid xw_db_lastdocid(xw_db *db) {
  return xw_or<xw_docid>(0, [&] { return db->db.get_lastdocid(); });
}

/* Xapian throws for anything but one local shard: 0 then. */
uint64_t xw_db_revision(xw_db *db) {
  return xw_or<uint64_t>(0, [&] { return db->db.get_revision(); });
}

double xw_db_avlength(xw_db *db) {
  return xw_or<double>(0, [&] { return db->db.get_avlength(); });
}

/* The empty term means "every document" to Xapian: 0 here. */
uint32_t xw_db_termfreq(xw_db *db, const char *term, size_t len) {
  if (!term || !len) return 0;
  return xw_or<uint32_t>(0, [&] { return xw_termfreq(*db, std::string(term, len)); });
}

int xw_db_has_positions(xw_db *db) {
  return xw_or<int>(0, [&] { return db->db.has_positions() ? 1 : 0; });
}

static int xw_bounds(const Xapian::Database &db, unsigned slot, char *lo, char *hi, size_t cap,
                     err_t *err) {
  if (!cap) return err_set(err, ERR_INVAL, 0, "no room for the bounds");
  lo[0] = hi[0] = '\0';
  return xw_try(err, [&] {
    std::string l = db.get_value_lower_bound(slot), h = db.get_value_upper_bound(slot);
    snprintf(lo, cap, "%s", l.c_str());
    snprintf(hi, cap, "%s", h.c_str());
    return 0;
  });
}

int xw_db_value_bounds(xw_db *db, unsigned slot, char *lo, char *hi, size_t cap, err_t *err) {
  return xw_bounds(db->db, slot, lo, hi, cap, err);
}

uint32_t xw_db_value_freq(xw_db *db, unsigned slot) {
  return xw_or<uint32_t>(0, [&] { return db->db.get_value_freq(slot); });
}

int xw_db_shard_value_bounds(xw_db *db, size_t k, unsigned slot, char *lo, char *hi, size_t cap,
                             err_t *err) {
  if (k >= db->shards.size()) return err_set(err, ERR_INVAL, 0, "no shard %zu", k);
  return xw_bounds(db->shards[k].db, slot, lo, hi, cap, err);
}

/* Xapian keeps no empty metadata (setting "" deletes the key), so an empty
 * value reads as absent. */
int xw_db_get_metadata(xw_db *db, const char *key, char **val, size_t *len, err_t *err) {
  *val = NULL;
  if (len) *len = 0;
  if (!key) return err_set(err, ERR_INVAL, 0, "no metadata key");
  return xw_try(err, [&] {
    std::string v = db->db.get_metadata(key);
    return v.empty() ? 0 : xw_copy_out(v, val, len, err);
  });
}

int xw_db_set_metadata(xw_db *db, const char *key, const char *val, size_t len, err_t *err) {
  if (!key || (!val && len)) return err_set(err, ERR_INVAL, 0, "no metadata key or value");
  if (int rc = xw_need_writable(db, err)) return rc;
  xw_write_scope writing(db);
  return xw_try(err, [&] {
    db->w.set_metadata(key, std::string(val ? val : "", len));
    return 0;
  });
}

int xw_db_find_term(xw_db *db, const char *term, size_t len, xw_docid *out, err_t *err) {
  *out = 0;
  if (!term || !len) return err_set(err, ERR_INVAL, 0, "empty id term");
  return xw_try(err, [&] {
    std::string t(term, len);
    auto p = db->db.postlist_begin(t);
    if (p == db->db.postlist_end(t))
      return err_set(err, ERR_NOT_FOUND, 0, "no document has term %.*s",
                     (int)std::min(len, (size_t)200), term);
    *out = *p;
    return 0;
  });
}

int xw_db_get_data(xw_db *db, xw_docid id, char **data, size_t *len, err_t *err) {
  *data = NULL;
  if (len) *len = 0;
  if (!id) return err_set(err, ERR_NOT_FOUND, 0, "no document 0");
  return xw_try(err,
                [&] { return xw_copy_out(db->db.get_document(id).get_data(), data, len, err); });
}

int xw_db_get_value(xw_db *db, xw_docid id, unsigned slot, char **val, size_t *len, err_t *err) {
  *val = NULL;
  if (len) *len = 0;
  if (!id) return err_set(err, ERR_NOT_FOUND, 0, "no document 0");
  return xw_try(
      err, [&] { return xw_copy_out(db->db.get_document(id).get_value(slot), val, len, err); });
}

int xw_db_replace(xw_db *db, const char *idterm, xw_doc *doc, int *replaced, err_t *err) {
  if (replaced) *replaced = 0;
  if (!idterm || !*idterm || !doc) return err_set(err, ERR_INVAL, 0, "no id term or document");
  if (int rc = xw_need_writable(db, err)) return rc;
  xw_write_scope writing(db);
  return xw_try(err, [&] {
    bool existed = db->w.get_termfreq(idterm) > 0;
    doc->d.add_boolean_term(idterm); /* or find_term could never find it */
    db->w.replace_document(idterm, doc->d);
    if (replaced) *replaced = existed;
    return 0;
  });
}

int xw_db_delete(xw_db *db, const char *idterm, err_t *err) {
  if (!idterm || !*idterm) return err_set(err, ERR_INVAL, 0, "no id term");
  if (int rc = xw_need_writable(db, err)) return rc;
  xw_write_scope writing(db);
  return xw_try(err, [&] {
    db->w.delete_document(idterm);
    return 0;
  });
}

int xw_db_commit(xw_db *db, err_t *err) {
  if (int rc = xw_need_writable(db, err)) return rc;
  xw_write_scope writing(db);
  return xw_try(err, [&] {
    if (db->txn) {
      db->txn = false; /* ended, committed or not */
      db->w.commit_transaction();
    } else {
      db->w.commit();
    }
    return 0;
  });
}

int xw_db_begin(xw_db *db, err_t *err) {
  if (int rc = xw_need_writable(db, err)) return rc;
  if (db->txn) return 0;
  xw_write_scope writing(db); /* it commits what is pending */
  return xw_try(err, [&] {
    db->w.begin_transaction(true);
    db->txn = true;
    return 0;
  });
}

int xw_compact(const char *src, const char *dst, err_t *err) {
  if (!src || !dst) return err_set(err, ERR_INVAL, 0, "no source or destination");
  struct stat st;
  if (stat(dst, &st) == 0) return err_set(err, ERR_INVAL, 0, "%s already exists", dst);
  return xw_try(err, [&] {
    Xapian::Database(src).compact(dst);
    return 0;
  });
}

/* ---- documents under construction ---- */

xw_doc *xw_doc_new(void) {
  return xw_or<xw_doc *>(NULL, [] { return new xw_doc; });
}

void xw_doc_free(xw_doc *d) { delete d; }

int xw_doc_add_posting(xw_doc *d, const char *term, size_t len, uint32_t pos, err_t *err) {
  if (!term) return err_set(err, ERR_INVAL, 0, "no term");
  return xw_try(err, [&] {
    d->d.add_posting(std::string(term, len), pos, 1);
    return 0;
  });
}

int xw_doc_add_term(xw_doc *d, const char *term, size_t len, uint32_t wdf_inc, err_t *err) {
  if (!term) return err_set(err, ERR_INVAL, 0, "no term");
  return xw_try(err, [&] {
    d->d.add_term(std::string(term, len), wdf_inc);
    return 0;
  });
}

int xw_doc_add_boolean(xw_doc *d, const char *term, size_t len, err_t *err) {
  if (!term) return err_set(err, ERR_INVAL, 0, "no term");
  return xw_try(err, [&] {
    d->d.add_boolean_term(std::string(term, len));
    return 0;
  });
}

int xw_doc_set_value(xw_doc *d, unsigned slot, const char *val, size_t len, err_t *err) {
  if (!val && len) return err_set(err, ERR_INVAL, 0, "no value");
  return xw_try(err, [&] {
    d->d.add_value(slot, std::string(val ? val : "", len));
    return 0;
  });
}

int xw_doc_set_data(xw_doc *d, const char *data, size_t len, err_t *err) {
  if (!data && len) return err_set(err, ERR_INVAL, 0, "no data");
  return xw_try(err, [&] {
    d->d.set_data(std::string(data ? data : "", len));
    return 0;
  });
}

/* ---- queries ---- */

/* The wqf that stands for a term in xw_query.g: FNV-1a, top bit set, so
 * that no real wqf (ours are 1) is ever read as a code. */
Xapian::termcount xw_term_code(const std::string &t) {
  return (Xapian::termcount)(hash_fnv32(HASH_FNV32_START, t.data(), t.size()) | 0x80000000u);
}

/* A query the same as q and g, except where g cannot stand in for it. */
static xw_query *xw_query_same(Xapian::Query q, bool g_ok) { return new xw_query{q, q, g_ok}; }

/* The empty term would match every document: it matches none here. */
xw_query *xw_query_term(const char *term, size_t len, uint32_t wqf) {
  if (!term) return NULL;
  return xw_or<xw_query *>(NULL, [&] {
    if (!len) return xw_query_same(Xapian::Query(), true);
    std::string t(term, len);
    return new xw_query{Xapian::Query(t, wqf), Xapian::Query(t, xw_term_code(t)), wqf == 1};
  });
}

/* window: OP_NEAR's and OP_PHRASE's, 0 for the number of subs. */
static xw_query *xw_combine(xw_op op, xw_query *const *subs, size_t n, uint32_t window) {
  if (!subs && n) return NULL;
  for (size_t i = 0; i < n; i++)
    if (!subs[i]) return NULL;
  return xw_or<xw_query *>(NULL, [&] {
    std::vector<Xapian::Query> v, g;
    v.reserve(n);
    g.reserve(n);
    bool g_ok = op != XW_SYNONYM; /* Xapian weighs the group, not a term */
    for (size_t i = 0; i < n; i++) {
      v.push_back(subs[i]->q);
      g.push_back(subs[i]->g);
      g_ok = g_ok && subs[i]->g_ok;
    }
    if (!window && (op == XW_PHRASE || op == XW_NEAR)) window = (uint32_t)n;
    Xapian::Query::op xop = xw_xapian_op(op);
    auto *x = new xw_query{Xapian::Query(xop, v.begin(), v.end(), window),
                           Xapian::Query(xop, g.begin(), g.end(), window), g_ok};
    for (size_t i = 0; i < n; i++) x->extra_cost += subs[i]->extra_cost;
    return x;
  });
}

xw_query *xw_query_combine(xw_op op, xw_query *const *subs, size_t n) {
  return xw_combine(op, subs, n, 0);
}

xw_query *xw_query_near(xw_query *const *subs, size_t n, uint32_t window) {
  return xw_combine(XW_NEAR, subs, n, window);
}

xw_query *xw_query_wildcard(const char *prefix, size_t len, uint32_t max_expansion) {
  if (!prefix) return NULL;
  return xw_or<xw_query *>(NULL, [&] {
    return xw_query_same(
        Xapian::Query(Xapian::Query::OP_WILDCARD, std::string(prefix, len), max_expansion,
                      Xapian::Query::WILDCARD_LIMIT_ERROR, Xapian::Query::OP_SYNONYM),
        false);
  });
}

int xw_query_prefix_terms(xw_db *db, const char *prefix, size_t len, uint32_t max_expansion,
                          xw_query **out, err_t *err) {
  *out = NULL;
  return xw_try(err, [&] {
    std::string p(prefix, len);
    std::vector<Xapian::Query> terms;
    for (auto t = db->db.allterms_begin(p); t != db->db.allterms_end(p); ++t) {
      if (max_expansion && terms.size() >= max_expansion)
        return err_set(err, ERR_BAD_QUERY, 0, "prefix matches too many words");
      terms.emplace_back(*t);
    }
    /* weighed as an expansion, like a wildcard's: ranked on every shard */
    *out = xw_query_same(terms.empty()
                             ? Xapian::Query::MatchNothing
                             : Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end()),
                         false);
    return 0;
  });
}

/* Only documents with a value in slot match, even with both ends open:
 * Xapian reads OP_VALUE_GE "" as every document, so the floor is "\0". */
xw_query *xw_query_value_range(unsigned slot, const char *lo, const char *hi) {
  return xw_or<xw_query *>(NULL, [&] {
    if (lo && hi)
      return xw_query_same(Xapian::Query(Xapian::Query::OP_VALUE_RANGE, slot, lo, hi), true);
    if (hi) return xw_query_same(Xapian::Query(Xapian::Query::OP_VALUE_LE, slot, hi), true);
    std::string floor = lo && *lo ? lo : std::string(1, '\0');
    return xw_query_same(Xapian::Query(Xapian::Query::OP_VALUE_GE, slot, floor), true);
  });
}

/* A negative factor is an error (NULL), as in Xapian. */
xw_query *xw_query_scale(xw_query *q, double factor) {
  if (!q) return NULL;
  return xw_or<xw_query *>(NULL, [&] {
    return new xw_query{Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, q->q, factor),
                        Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, q->g, factor), q->g_ok,
                        q->extra_cost};
  });
}

xw_query *xw_query_match_all(void) {
  return xw_or<xw_query *>(NULL, [] { return xw_query_same(Xapian::Query::MatchAll, false); });
}

xw_query *xw_query_match_nothing(void) {
  return xw_or<xw_query *>(NULL, [] { return xw_query_same(Xapian::Query::MatchNothing, true); });
}

void xw_query_free(xw_query *q) { delete q; }

char *xw_query_describe(const xw_query *q) {
  if (!q) return NULL;
  return xw_or<char *>(NULL, [&] {
    char *s = NULL;
    return xw_copy_out(q->q.get_description(), &s, NULL, NULL) ? NULL : s;
  });
}

/* The query under any weight scaling (filter-only queries are scaled by 0). */
static Xapian::Query xw_unscaled(Xapian::Query q) {
  while (q.get_type() == Xapian::Query::OP_SCALE_WEIGHT) q = q.get_subquery(0);
  return q;
}

/* A match spy that hands every match's docid to a C callback. */
class xw_each_spy : public Xapian::MatchSpy {
 public:
  xw_each_spy(void (*f)(void *, xw_docid, double), void *u) : fn(f), ud(u) {}
  void operator()(const Xapian::Document &doc, double wt) override { fn(ud, doc.get_docid(), wt); }

 private:
  void (*fn)(void *, xw_docid, double);
  void *ud;
};

/* The cursor's tie rule (xw_search_opts.after_key): of the documents whose
 * sort key equals the cursor's, only those after its docid. */
class xw_after_decider : public Xapian::MatchDecider {
 public:
  xw_after_decider(unsigned s, std::string k, Xapian::docid d)
      : slot(s), key(std::move(k)), did(d) {}
  bool operator()(const Xapian::Document &doc) const override {
    return doc.get_docid() > did || doc.get_value(slot) != key;
  }

 private:
  unsigned slot;
  std::string key;
  Xapian::docid did;
};

int xw_values_each(xw_db *db, unsigned slot,
                   void (*fn)(void *ud, xw_docid d, const char *v, size_t len), void *ud,
                   err_t *err) {
  if (!db || !fn) return err_set(err, ERR_INVAL, 0, "no database or callback");
  return xw_try(err, [&] {
    xw_each_value(*db, slot, [&](Xapian::docid d, const std::string &val) {
      fn(ud, d, val.data(), val.size());
    });
    return 0;
  });
}

/* The caller's term filter, as Xapian's expand decider. */
class xw_keep_decider : public Xapian::ExpandDecider {
 public:
  explicit xw_keep_decider(int (*k)(const char *, size_t)) : keep(k) {}
  bool operator()(const std::string &term) const override { return keep(term.data(), term.size()); }

 private:
  int (*keep)(const char *, size_t);
};

int xw_query_like(xw_db *db, xw_docid d, size_t n, int (*keep)(const char *term, size_t len),
                  xw_query **out, err_t *err) {
  *out = NULL;
  if (!db || !keep) return err_set(err, ERR_INVAL, 0, "no database or term filter");
  return xw_try(err, [&] {
    db->db.get_document(d); /* DocNotFoundError when there is none */
    Xapian::Enquire enq(db->db);
    Xapian::RSet rset;
    rset.add_document(d);
    xw_keep_decider decider(keep);
    Xapian::ESet eset = enq.get_eset((Xapian::termcount)n, rset, &decider);
    std::vector<Xapian::Query> terms, coded;
    for (auto t = eset.begin(); t != eset.end(); ++t) {
      terms.emplace_back(*t);
      coded.emplace_back(*t, xw_term_code(*t));
    }
    if (!terms.empty())
      *out = new xw_query{Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end()),
                          Xapian::Query(Xapian::Query::OP_OR, coded.begin(), coded.end()), true};
    return 0;
  });
}

/* ---- searching ---- */

int xw_match_each(xw_db *db, const xw_query *q, int weighted, double bm25_k1, double bm25_b,
                  double time_limit, const unsigned char *shards,
                  void (*fn)(void *ud, xw_docid d, double weight), void *ud, err_t *err) {
  if (!db || !q || !fn) return err_set(err, ERR_INVAL, 0, "no database, query or callback");
  return xw_try(err, [&] {
    auto t0 = std::chrono::steady_clock::now();
    if (db->local && !weighted && xw_countable(q->q)) {
      xw_bits bits((size_t)db->db.get_lastdocid() / 64 + 1, 0);
      xw_bits_eval(*db, q->q, bits);
      xw_bits_each(bits, [&](Xapian::docid d) { fn(ud, d, 0); });
    } else {
      xw_global_stats global;
      std::vector<size_t> subset;
      Xapian::Database ranked = db->db;
      std::vector<unsigned char> narrowed;
      if (xw_narrow_shards(*db, q->q, shards, narrowed)) shards = narrowed.data();
      if (xw_subset_ok(*db, *q, shards, !weighted, &global))
        ranked = xw_subset(*db, shards, subset);
      Xapian::Enquire enq(ranked);
      enq.set_query(subset.empty() || !weighted ? q->q : q->g);
      if (!weighted) enq.set_weighting_scheme(Xapian::BoolWeight());
      else if (subset.empty()) enq.set_weighting_scheme(xw_bm25(bm25_k1, bm25_b));
      else enq.set_weighting_scheme(xw_global_bm25(bm25_k1, bm25_b, &global));
      if (db->local && db->shards.size() == 1) {
        xw_each_spy spy(fn, ud);
        enq.add_matchspy(&spy);
        enq.get_mset(0, weighted ? 1 : 0, db->db.get_doccount());
        enq.clear_matchspies();
      } else { /* a spy sees a shard's own docids (see xw_column_spy), and a
                  remote shard no spy of ours: take the matches whole */
        Xapian::MSet all = enq.get_mset(0, ranked.get_doccount());
        for (auto it = all.begin(); it != all.end(); ++it)
          fn(ud, xw_subset_docid(subset, db->shards.size(), *it), it.get_weight());
      }
    }
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
    if (time_limit > 0 && took.count() >= time_limit)
      return err_set(err, ERR_TIMEOUT, 0, "match took %.3f s, over the limit of %.3f s",
                     took.count(), time_limit);
    return 0;
  });
}

int xw_search(xw_db *db, const xw_query *q, const xw_search_opts *opts, xw_mset **out, err_t *err) {
  *out = NULL;
  if (!db || !q || !opts || (opts->nfacets && !opts->facets))
    return err_set(err, ERR_INVAL, 0, "no database, query or options");
  return xw_try(err, [&] {
    xw_par_busy busy;
    std::map<unsigned, std::unique_ptr<Xapian::ValueCountMatchSpy>> spies; /* outlive enq */
    bool columns = opts->nfacets > 0;
    for (size_t f = 0; f < opts->nfacets; f++) columns = columns && opts->facets[f].column;
    xw_idcounts idcounts;
    if (columns)
      for (size_t f = 0; f < opts->nfacets; f++)
        idcounts.emplace_back(opts->facets[f].column->names.size(), 0);
    xw_column_spy colspy(opts, &idcounts);

    /* One term, or everything: the exact total is known, and facets with
     * columns are counted from the posting list, so the match only ranks. */
    std::unique_ptr<xw_mset> m(new xw_mset);
    Xapian::Query inner = xw_unscaled(q->q);
    Xapian::Query::op type = inner.get_type();
    std::unique_ptr<xw_after_decider> after;
    if (opts->after_key)
      after.reset(new xw_after_decider(
          opts->sort_slot, std::string(opts->after_key, opts->after_key_len), opts->after_docid));
    bool shortcut = (type == Xapian::Query::LEAF_TERM || type == Xapian::Query::LEAF_MATCH_ALL) &&
                    (columns || opts->nfacets == 0) && !after;
    std::string term;
    if (shortcut && type == Xapian::Query::LEAF_TERM) {
      term = *inner.get_terms_begin();
      m->total = xw_termfreq(*db, term);
    } else if (shortcut) {
      m->total = db->db.get_doccount();
    }

    /* Shards that cannot match are left out of the ranking when no weight
     * needs the statistics of the shards left out (rank_shards), or when
     * xw_global_bm25 supplies them (xw_search_opts.shards): those outside
     * the query's dates (the caller's mask) and those without a term every
     * match needs (xw_narrow_shards). */
    std::vector<unsigned char> narrowed;
    const unsigned char *shards = opts->shards;
    if (xw_narrow_shards(*db, inner, shards, narrowed)) shards = narrowed.data();
    Xapian::Database ranked = db->db;
    xw_global_stats global;
    /* (Not with a cursor: its docid is the whole database's.) */
    if (!opts->after_key && xw_subset_ok(*db, *q, shards, opts->rank_shards, &global)) {
      ranked = xw_subset(*db, shards, m->subset);
      m->nshards = db->shards.size();
    }
    Xapian::Enquire enq(ranked);
    if (!m->subset.empty() && !opts->rank_shards) {
      enq.set_query(q->g);
      enq.set_weighting_scheme(xw_global_bm25(opts->bm25_k1, opts->bm25_b, &global));
    } else {
      enq.set_query(q->q);
      enq.set_weighting_scheme(xw_bm25(opts->bm25_k1, opts->bm25_b));
    }
    if (opts->sort != XW_SORT_RELEVANCE)
      enq.set_sort_by_value(opts->sort_slot, opts->sort == XW_SORT_VALUE_DESC);
    Xapian::doccount check = opts->check_at_least;
    if (shortcut) {
      check = 0;
    } else if (columns) {
      enq.add_matchspy(&colspy);
    } else {
      for (size_t f = 0; f < opts->nfacets; f++) {
        auto &spy = spies[opts->facets[f].slot];
        if (spy) continue;
        spy.reset(new Xapian::ValueCountMatchSpy(opts->facets[f].slot));
        enq.add_matchspy(spy.get());
      }
    }
    if (opts->nfacets && !shortcut) check = std::max(check, db->db.get_doccount());
    /* Counted as a set (see above): the match need not check every doc. */
    bool sets = !shortcut && !after && check && db->local && (columns || opts->nfacets == 0) &&
                xw_prunes(q->q) && xw_countable(q->q);
    /* Several local shards: a spy on the combined match cannot tell where
     * a docid comes from (above), so facets with columns are counted shard
     * by shard (exact totals alone come from the combined match itself). */
    bool by_shard = !sets && !shortcut && check && db->local && db->shards.size() > 1 && columns;
    if (sets || by_shard) {
      check = 0;
      enq.clear_matchspies();
    }
#ifndef XW_NO_XAPIAN_TIMER
    if (opts->time_limit > 0) enq.set_time_limit(opts->time_limit);
#endif

    /* On a set of local shards: shard by shard on several threads when the
     * plan says so (xw_par.cc), weighted with the whole set's statistics
     * as the combined match weighs it (an unweighted query's weights are 0
     * either way); on one index, in docid ranges so.  A cursor, or facets
     * counted by Xapian's value spies, need the combined match. */
    xw_global_stats whole;
    bool one = db->shards.size() == 1;
    bool par = !after && (columns || !opts->nfacets) && (one || q->g_ok) &&
               xw_par_ok(*db, *q, shards, (uint64_t)opts->offset + opts->limit) &&
               (one || xw_global_stats_of(*db, q->g, whole));

    /* One index in ranges: facets from columns are counted range by range
     * in the same tasks, a term's from its posting list, another query's
     * by a spy of each range's own; summed after. */
    auto count_ids = [&](xw_idcounts &c, Xapian::docid d) {
      for (size_t f = 0; f < opts->nfacets; f++) c[f][opts->facets[f].column->id_of(d)]++;
    };
    bool walk = shortcut && columns && type == Xapian::Query::LEAF_TERM;
    bool spied = columns && !shortcut && !sets && !by_shard;
    std::vector<xw_idcounts> part_counts;
    std::vector<std::unique_ptr<xw_column_spy>> part_spies; /* outlive the tasks */
    xw_par_hooks hooks;
    if (par && one && (walk || spied)) {
      part_counts.assign(xw_par_nparts(*db), idcounts);
      if (spied) {
        for (auto &c : part_counts) part_spies.emplace_back(new xw_column_spy(opts, &c));
        hooks.before = [&](size_t k, Xapian::Enquire &e) { e.add_matchspy(part_spies[k].get()); };
      } else {
        hooks.after = [&](size_t k, const Xapian::Database &h, Xapian::docid lo, Xapian::docid hi) {
          auto p = h.postlist_begin(term), end = h.postlist_end(term);
          for (p.skip_to(lo); p != end && *p <= hi; ++p) count_ids(part_counts[k], *p);
        };
      }
    }

    auto match = [&] {
      m->m = enq.get_mset(opts->offset, opts->limit, check, NULL, after.get());
      m->lower = m->m.get_matches_lower_bound();
      m->estimated = m->m.get_matches_estimated();
      m->upper = m->m.get_matches_upper_bound();
    };
    xw_bits bits;
    auto count = [&](const xw_db &x, const Xapian::Query &query) {
      bits.assign((size_t)x.db.get_lastdocid() / 64 + 1, 0);
      xw_bits_eval(x, query, bits);
    };

    auto t0 = std::chrono::steady_clock::now();
    /* A set counted beside the match, on one index: its ranked OR stops
     * early (xw_prunes), so ranges would not pay (xw_par_ok says so under
     * AUTO; under the other plans the pair goes first, and is tested). */
    bool counted = sets && xw_par_pair(*db, *q, match, count);
    if (counted) {
      /* matched and counted */
    } else if (par) {
      xw_par_match(*db, *q, shards, whole, *opts, check, *m, hooks);
      for (auto &c : part_counts)
        for (size_t f = 0; f < opts->nfacets; f++)
          for (size_t id = 0; id < c[f].size(); id++) idcounts[f][id] += c[f][id];
    } else {
      match();
    }
    if (sets) {
      if (!counted) count(*db, q->q);
      m->total = (int64_t)xw_bits_count(bits);
      if (columns) xw_bits_each(bits, [&](Xapian::docid d) { count_ids(idcounts, d); });
    }
    if (by_shard) m->total = xw_count_by_shard(db, q->q, opts, shards, columns, &idcounts);
    if (shortcut && columns) {
      if (type == Xapian::Query::LEAF_MATCH_ALL) {
        for (size_t f = 0; f < opts->nfacets; f++) idcounts[f] = opts->facets[f].column->totals;
      } else if (part_counts.empty()) {
        xw_each_posting(*db, term, [&](Xapian::docid d) { count_ids(idcounts, d); });
      }
    }
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
    enq.clear_matchspies();
    if (opts->time_limit > 0 && took.count() >= opts->time_limit)
      return err_set(err, ERR_TIMEOUT, 0, "search took %.3f s, over the limit of %.3f s",
                     took.count(), opts->time_limit);
    m->data.resize(xw_mset_count(*m));
    for (size_t f = 0; f < opts->nfacets; f++)
      m->facets.push_back(columns ? xw_column_fold(*opts->facets[f].column, idcounts[f])
                                  : xw_facet_fold(*spies[opts->facets[f].slot], opts->facets[f]));
    *out = m.release();
    return 0;
  });
}

void xw_mset_free(xw_mset *m) { delete m; }

} /* extern "C" */

uint32_t xw_mset_count(const xw_mset &m) {
  return m.parts.empty() ? m.m.size() : (uint32_t)m.hits.size();
}

Xapian::MSetIterator xw_mset_at(const xw_mset &m, uint32_t i) {
  if (m.parts.empty()) return m.m[i];
  return m.parts[m.hits[i].k][m.hits[i].i];
}

extern "C" {

uint32_t xw_mset_size(const xw_mset *m) {
  return xw_or<uint32_t>(0, [&] { return xw_mset_count(*m); });
}

uint32_t xw_mset_matches_lower(const xw_mset *m) {
  return m->total >= 0 ? (uint32_t)m->total : m->lower;
}

uint32_t xw_mset_matches_estimated(const xw_mset *m) {
  return m->total >= 0 ? (uint32_t)m->total : m->estimated;
}

uint32_t xw_mset_matches_upper(const xw_mset *m) {
  return m->total >= 0 ? (uint32_t)m->total : m->upper;
}

xw_docid xw_mset_docid(const xw_mset *m, uint32_t i) {
  return xw_or<xw_docid>(0, [&] {
    if (i >= xw_mset_count(*m)) return (xw_docid)0;
    if (!m->parts.empty()) return (xw_docid)m->hits[i].d;
    return (xw_docid)xw_subset_docid(m->subset, m->nshards, *m->m[i]);
  });
}

double xw_mset_weight(const xw_mset *m, uint32_t i) {
  return xw_or<double>(0,
                       [&] { return i < xw_mset_count(*m) ? xw_mset_at(*m, i).get_weight() : 0; });
}

int xw_mset_data(xw_mset *m, uint32_t i, const char **data, size_t *len, err_t *err) {
  *data = NULL;
  if (len) *len = 0;
  if (i >= m->data.size()) return err_set(err, ERR_INVAL, 0, "hit %u out of range", (unsigned)i);
  return xw_try(err, [&] {
    auto &d = m->data[i];
    if (!d) d.reset(new std::string(xw_mset_at(*m, i).get_document().get_data()));
    *data = d->data();
    if (len) *len = d->size();
    return 0;
  });
}

int xw_mset_value(xw_mset *m, uint32_t i, unsigned slot, char **val, size_t *len, err_t *err) {
  *val = NULL;
  if (len) *len = 0;
  if (i >= m->data.size()) return err_set(err, ERR_INVAL, 0, "hit %u out of range", (unsigned)i);
  return xw_try(err, [&] {
    return xw_copy_out(xw_mset_at(*m, i).get_document().get_value(slot), val, len, err);
  });
}

size_t xw_mset_facet_size(const xw_mset *m, size_t f) {
  return f < m->facets.size() ? m->facets[f].size() : 0;
}

void xw_mset_facet_get(const xw_mset *m, size_t f, size_t k, const char **val, size_t *len,
                       uint32_t *count) {
  bool ok = f < m->facets.size() && k < m->facets[f].size();
  if (val) *val = ok ? m->facets[f][k].first.c_str() : NULL;
  if (len) *len = ok ? m->facets[f][k].first.size() : 0;
  if (count) *count = ok ? m->facets[f][k].second : 0;
}

/* ---- term lists ---- */

int xw_db_positions(xw_db *db, xw_docid id, const char *term, size_t len, uint32_t *pos, size_t cap,
                    size_t *n, err_t *err) {
  *n = 0;
  if (!term || (!pos && cap)) return err_set(err, ERR_INVAL, 0, "no term or buffer");
  if (!id || !len) return 0;
  return xw_try(err, [&] {
    std::string t(term, len);
    size_t k = 0;
    for (auto p = db->db.positionlist_begin(id, t); p != db->db.positionlist_end(id, t); ++p, ++k)
      if (k < cap) pos[k] = *p;
    *n = k;
    return 0;
  });
}

/* ---- a hit's words, for the snippet's window (win.h) ---- */

int xw_db_wdfs(xw_db *db, const char *term, size_t len, const xw_docid *ids, size_t n,
               uint32_t *wdf, err_t *err) {
  for (size_t i = 0; i < n; i++) wdf[i] = 0;
  if (!len || !n) return 0;
  return xw_try(err, [&] {
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; i++) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a] < ids[b]; });
    std::string t(term, len);
    Xapian::PostingIterator p = db->db.postlist_begin(t), end = db->db.postlist_end(t);
    for (size_t i : order) {
      if (!ids[i]) continue;
      if (p == end) break;
      p.skip_to(ids[i]);
      if (p != end && *p == ids[i]) wdf[i] = p.get_wdf();
    }
    return 0;
  });
}

/* The walk itself: terms beginning with p, at most max. */
static xw_prefix_walk xw_walk_prefix(const Xapian::Database &db, const std::string &p, size_t max) {
  xw_prefix_walk w;
  for (auto t = db.allterms_begin(p); t != db.allterms_end(p); ++t) {
    if (w.terms.size() == max) {
      w.over = true;
      break;
    }
    w.terms.push_back(*t);
  }
  return w;
}

int xw_db_prefix_each(xw_db *db, const char *prefix, size_t len, size_t max,
                      void (*fn)(void *ud, const char *term, size_t n), void *ud, int *over,
                      err_t *err) {
  *over = 0;
  return xw_try(err, [&] {
    std::string p(prefix, len);
    xw_prefix_walk fresh;
    const xw_prefix_walk *w = &fresh;
    if (db->writable) {
      fresh = xw_walk_prefix(db->db, p, max);
    } else {
      /* A reader's walks are kept for the revision: a stub's lexicon is
       * every shard's, and each walk descends every shard's B-tree. */
      std::string key = p;
      key.append((const char *)&max, sizeof max);
      auto hit = db->prefix_cache.find(key);
      if (hit == db->prefix_cache.end()) {
        fresh = xw_walk_prefix(db->db, p, max);
        db->prefix_terms += fresh.terms.size() + 1;
        if (db->prefix_terms > XW_PREFIX_CACHE) {
          db->prefix_cache.clear();
          db->prefix_terms = fresh.terms.size() + 1;
        }
        hit = db->prefix_cache.emplace(std::move(key), std::move(fresh)).first;
      }
      w = &hit->second;
    }
    for (const std::string &s : w->terms) fn(ud, s.data(), s.size());
    *over = w->over;
    return 0;
  });
}

} /* extern "C" */
