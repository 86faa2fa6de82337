/* xw.cc: the C wrapper over libxapian declared in xw.h; the only C++ in the
 * tree.  Called by eng.c (searching), the indexer (writing) and the tests.
 *
 * Invariants:
 * - Nothing thrown crosses into C.  Every extern "C" entry point runs its
 *   body through xw_try() (returns an ERR_* code) or xw_or() (returns a
 *   fallback: 0 or NULL), the only two places with a catch.  xw_fail() turns
 *   the exception in flight into a code, through the one table xw_errors[]
 *   keyed on Xapian's error type name.
 * - Handles own their C++ objects by value or unique_ptr, so unwinding or
 *   deleting a handle on any path frees everything.
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
/* err.h has no extern "C" of its own; xw.h includes it outside its block. */
extern "C" {
#include "err.h"
#include "hash.h"
}
#include "xw.h"

#include <xapian.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
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

/* One shard of a database opened for reading: a local glass directory or a
 * remote one.  name is the path, or "host:port" / the program of a remote. */
struct xw_shard {
  std::string name;
  bool remote;
  Xapian::Database db;
};

struct xw_db {
  Xapian::Database db;        /* reads go through it */
  Xapian::WritableDatabase w; /* the same database when writable */
  bool writable = false;
  bool txn = false; /* a transaction is open: commit ends it; freeing cancels it */
  /* Read-only handles: the shards db is made of, in Xapian's order (docid d
   * lives in shard (d - 1) % n), and the files whose change means the set
   * changed (stub files, each local shard's version file). */
  std::vector<xw_shard> shards;
  std::vector<std::string> watch;
  bool local = true; /* no remote shard */
  /* Terms' frequencies in the whole database, for ranking a subset of its
   * shards (xw_global_stats): exact for the revision open, so dropped when
   * xw_db_reopen moves it; at most XW_TF_CACHE terms. */
  std::unordered_map<std::string, Xapian::doccount> tf_cache;
};

enum { XW_TF_CACHE = 1 << 16 };

struct xw_doc {
  Xapian::Document d;
};

/* q is the query.  g is the same query for ranking a subset of the shards
 * with the whole collection's statistics (xw_global_bm25): each term's wqf
 * is replaced by xw_term_code(term), which is how the weight, told nothing
 * else by Xapian, knows which term it weighs.  g_ok is false where Xapian
 * weighs what is not one of our terms (a synonym group, a wildcard's
 * expansion, match-all, a wqf other than 1): such a query ranks on every
 * shard. */
struct xw_query {
  Xapian::Query q, g;
  bool g_ok = true;
};

typedef std::vector<std::pair<std::string, uint32_t>> xw_counts;

/* The names of facet values (xw_split_fn): which names each value holds,
 * in which spellings.  Values are added in order (value k is the k-th
 * added); finish() then settles the whole-string keys.  Counts and
 * spellings are settled per search from the values' counts
 * (xw_names_fold), so a column and a spy on the same matches agree. */
struct xw_namer {
  std::unordered_map<std::string, uint32_t> ids;       /* key -> name id */
  std::unordered_map<std::string, uint32_t> sids;      /* spelling -> id */
  std::vector<const std::string *> spelling;           /* spelling id -> it */
  std::vector<uint32_t> sole;                          /* name id -> its spelling id, or
                                                          XW_SPELLINGS when it has several */
  std::vector<std::vector<uint32_t>> of;               /* value -> its name ids */
  std::vector<std::vector<uint32_t>> whole;            /* value -> ids by its whole key */
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> spelled; /* value -> (name, spelling) */
  std::vector<std::pair<size_t, std::string>> wholes;  /* value, whole key (until finish) */

  void add(const std::string &val, xw_split_fn split);
  void finish();
  size_t bytes() const;
};

struct xw_column {
  std::vector<std::string> names; /* id -> value; id 0 is "no value" */
  std::vector<uint16_t> ids;      /* docid -> id */
  std::vector<uint32_t> totals;   /* id -> documents holding it */
  std::unique_ptr<xw_namer> namer; /* xw_column_names: counts read as names */

  size_t id_of(Xapian::docid d) const { return d < ids.size() ? ids[d] : 0; }
};

struct xw_mset {
  Xapian::MSet m;
  /* The match ran on these shards of n alone (empty: all of them): its
   * docids are mapped back to the whole database's. */
  std::vector<size_t> subset;
  size_t nshards = 1;
  int64_t total = -1; /* exact total known without checking, or -1 */
  std::vector<std::unique_ptr<std::string>> data; /* hit i's data, once fetched */
  std::vector<xw_counts> facets;                  /* one per facet spec */
};

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
static int xw_fail(err_t *err) noexcept {
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

/* Run f, which returns 0 or an ERR_* code; an exception becomes its code. */
template <class F> static int xw_try(err_t *err, F f) noexcept {
  try {
    return f();
  } catch (...) {
    return xw_fail(err);
  }
}

/* Run f; an exception gives fallback instead. */
template <class T, class F> static T xw_or(T fallback, F f) noexcept {
  try {
    return f();
  } catch (...) {
    return fallback;
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

static int xw_need_writable(const xw_db *db, err_t *err) {
  return db->writable ? 0 : err_set(err, ERR_INVAL, 0, "the database is open read-only");
}

static Xapian::Query::op xw_xapian_op(xw_op op) {
  switch (op) {
    case XW_AND: return Xapian::Query::OP_AND;
    case XW_OR: return Xapian::Query::OP_OR;
    case XW_AND_NOT: return Xapian::Query::OP_AND_NOT;
    case XW_FILTER: return Xapian::Query::OP_FILTER;
    case XW_PHRASE: return Xapian::Query::OP_PHRASE;
    case XW_SYNONYM: return Xapian::Query::OP_SYNONYM;
    case XW_AND_MAYBE: return Xapian::Query::OP_AND_MAYBE;
    case XW_NEAR: return Xapian::Query::OP_NEAR;
  }
  throw Xapian::InvalidArgumentError("unknown xw_op");
}

/* Most frequent first, then by value. */
static void xw_sort_counts(xw_counts &out) {
  std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
}

#define XW_SPELLINGS UINT32_MAX

struct xw_namer_ctx {
  xw_namer *nm;
  size_t value;
  bool failed;
};

/* xw_name_fn for xw_namer::add.  Nothing may be thrown through split(),
 * which is C: a failure is noted and thrown again once split returns. */
static void xw_namer_emit(void *c, const char *key, size_t klen, const char *shown, size_t slen,
                          int whole) {
  xw_namer_ctx *x = (xw_namer_ctx *)c;
  try {
    xw_namer &nm = *x->nm;
    std::string k(key, klen);
    if (whole) {
      nm.wholes.emplace_back(x->value, std::move(k));
      return;
    }
    auto nid = nm.ids.emplace(std::move(k), (uint32_t)nm.ids.size());
    uint32_t id = nid.first->second;
    auto sp = nm.sids.emplace(std::string(shown, slen), (uint32_t)nm.sids.size());
    if (sp.second) nm.spelling.push_back(&sp.first->first);
    if (nid.second) nm.sole.push_back(sp.first->second);
    else if (nm.sole[id] != sp.first->second) nm.sole[id] = XW_SPELLINGS;
    std::vector<uint32_t> &of = nm.of[x->value];
    if (std::find(of.begin(), of.end(), id) == of.end()) of.push_back(id);
    auto &sd = nm.spelled[x->value];
    std::pair<uint32_t, uint32_t> p(id, sp.first->second);
    if (std::find(sd.begin(), sd.end(), p) == sd.end()) sd.push_back(p);
  } catch (...) {
    x->failed = true;
  }
}

void xw_namer::add(const std::string &val, xw_split_fn split) {
  xw_namer_ctx ctx{this, of.size(), false};
  of.emplace_back();
  whole.emplace_back();
  spelled.emplace_back();
  split(val.data(), val.size(), xw_namer_emit, &ctx);
  if (ctx.failed) throw std::bad_alloc();
}

void xw_namer::finish() {
  for (auto &w : wholes) {
    auto it = ids.find(w.second);
    const std::vector<uint32_t> &o = of[w.first];
    if (it != ids.end() && std::find(o.begin(), o.end(), it->second) == o.end())
      whole[w.first].push_back(it->second);
  }
  wholes.clear();
}

size_t xw_namer::bytes() const {
  size_t n = (ids.size() + sids.size()) * 64; /* hash nodes, roughly */
  for (const auto &e : sids) n += e.first.capacity();
  for (size_t v = 0; v < of.size(); v++)
    n += 3 * sizeof of[v] + (of[v].capacity() + whole[v].capacity()) * sizeof(uint32_t) +
         spelled[v].capacity() * 2 * sizeof(uint32_t);
  return n;
}

/* Name counts from the counts per value (indexed like nm.of): a name's
 * count is that of the matches naming it, or whose whole string is its key
 * (author: matches both); a name no match names is left out.  Its spelling
 * is the one most of those matches use (ties: the first in byte order). */
template <typename C>
static xw_counts xw_names_fold(const xw_namer &nm, const std::vector<C> &counts) {
  size_t n = nm.ids.size();
  std::vector<uint64_t> c(n, 0), named(n, 0), best(n, 0);
  std::vector<uint32_t> shown(nm.sole);
  /* Votes only for names spelled several ways (few: a hash map per search
   * for every name cost a millisecond on the kit). */
  std::unordered_map<uint64_t, uint64_t> votes; /* name << 32 | spelling -> matches */
  for (size_t v = 0; v < counts.size() && v < nm.of.size(); v++) {
    if (!counts[v]) continue;
    for (uint32_t id : nm.of[v]) c[id] += counts[v], named[id] += counts[v];
    for (uint32_t id : nm.whole[v]) c[id] += counts[v];
    for (const auto &p : nm.spelled[v])
      if (nm.sole[p.first] == XW_SPELLINGS) votes[(uint64_t)p.first << 32 | p.second] += counts[v];
  }
  for (const auto &e : votes) {
    uint32_t id = (uint32_t)(e.first >> 32), sp = (uint32_t)e.first;
    if (e.second > best[id] ||
        (e.second == best[id] && shown[id] != XW_SPELLINGS &&
         *nm.spelling[sp] < *nm.spelling[shown[id]])) {
      best[id] = e.second;
      shown[id] = sp;
    }
  }
  xw_counts out;
  for (size_t id = 0; id < n; id++)
    if (named[id]) out.emplace_back(*nm.spelling[shown[id]], (uint32_t)c[id]);
  xw_sort_counts(out);
  return out;
}

/* Fold a spy's counts of whole values into the keys spec asks for. */
static xw_counts xw_facet_fold(const Xapian::ValueCountMatchSpy &spy, const xw_facet_spec &spec) {
  if (spec.split) { /* names (xw_names_fold) */
    xw_namer nm;
    std::vector<uint32_t> counts;
    for (auto v = spy.values_begin(); v != spy.values_end(); ++v) {
      nm.add(*v, spec.split);
      counts.push_back(v.get_termfreq());
    }
    nm.finish();
    return xw_names_fold(nm, counts);
  }
  std::unordered_map<std::string, uint32_t> counts;
  std::set<std::string> keys;
  for (auto v = spy.values_begin(); v != spy.values_end(); ++v) {
    const std::string whole = *v;
    keys.clear();
    for (size_t at = 0; at <= whole.size();) {
      size_t end = spec.multi ? whole.find('\x1f', at) : std::string::npos;
      if (end == std::string::npos) end = whole.size();
      std::string key = whole.substr(at, end - at);
      if (spec.prefix_len && key.size() > spec.prefix_len) key.resize(spec.prefix_len);
      if (!key.empty()) keys.insert(std::move(key));
      at = end + 1;
    }
    for (const auto &k : keys) counts[k] += v.get_termfreq();
  }
  xw_counts out(counts.begin(), counts.end());
  xw_sort_counts(out);
  return out;
}

/* ---- counting matches as sets of docids ----
 * Exact totals and facets need every match; Xapian's matcher finds them by
 * running the whole weighted match to the end.  For a query of terms joined
 * by AND, OR, NOT, FILTER and SYNONYM the same set comes from the posting
 * lists alone, as a bitmap over docids: a term's postings are set, AND
 * intersects (a small set probes a long list with skip_to instead of
 * walking it), OR unites, AND_NOT removes.  Phrases, wildcards and value
 * ranges are left to the matcher. */
typedef std::vector<uint64_t> xw_bits;

static bool xw_countable(const Xapian::Query &q) {
  switch (q.get_type()) {
    case Xapian::Query::LEAF_TERM:
    case Xapian::Query::LEAF_MATCH_ALL:
    case Xapian::Query::LEAF_MATCH_NOTHING:
      return true;
    case Xapian::Query::OP_AND:
    case Xapian::Query::OP_OR:
    case Xapian::Query::OP_AND_NOT:
    case Xapian::Query::OP_FILTER:
    case Xapian::Query::OP_SYNONYM:
    case Xapian::Query::OP_AND_MAYBE:
    case Xapian::Query::OP_SCALE_WEIGHT:
      for (size_t i = 0; i < q.get_num_subqueries(); i++)
        if (!xw_countable(q.get_subquery(i))) return false;
      return q.get_num_subqueries() > 0;
    default:
      return false;
  }
}

/* Is it worth it?  Only where the ranking match can stop early, which is
 * when its weighted part is an OR: Xapian then skips documents that cannot
 * reach the top (measured on the kit: OR of 3 common words 2.7 -> 1.3 ms).
 * An AND has to step through its rarest list either way, so counting it
 * apart would only add work. */
static bool xw_prunes(const Xapian::Query &q) {
  switch (q.get_type()) {
    case Xapian::Query::OP_OR:
      return true;
    case Xapian::Query::OP_SCALE_WEIGHT:
    case Xapian::Query::OP_FILTER:
    case Xapian::Query::OP_AND_NOT:
    case Xapian::Query::OP_AND_MAYBE:
      return xw_prunes(q.get_subquery(0));
    default:
      return false;
  }
}

static void xw_bits_set(xw_bits &b, Xapian::docid d) {
  if (d / 64 < b.size()) b[d / 64] |= (uint64_t)1 << (d % 64);
}

static size_t xw_bits_count(const xw_bits &b) {
  size_t n = 0;
  for (uint64_t w : b) n += (size_t)__builtin_popcountll(w);
  return n;
}

/* Every docid in b, ascending. */
template <class F> static void xw_bits_each(const xw_bits &b, F f) {
  for (size_t i = 0; i < b.size(); i++)
    for (uint64_t w = b[i]; w; w &= w - 1) f((Xapian::docid)(i * 64 + (size_t)__builtin_ctzll(w)));
}

/* f(docid) for each posting of term (every document for "", Xapian's
 * match-all), in the combined database's docids.  Several shards are walked
 * one by one, mapping their docids: Xapian's merged posting list of a stub
 * costs several times more per posting. */
template <class F> static void xw_each_posting(const xw_db &x, const std::string &term, F f) {
  size_t n = x.shards.size();
  if (n <= 1) {
    for (auto p = x.db.postlist_begin(term); p != x.db.postlist_end(term); ++p) f(*p);
    return;
  }
  for (size_t k = 0; k < n; k++) {
    const Xapian::Database &sh = x.shards[k].db;
    for (auto p = sh.postlist_begin(term); p != sh.postlist_end(term); ++p)
      f((Xapian::docid)((*p - 1) * n + k + 1));
  }
}

/* f(docid, value) for every document with a value in slot, in the combined
 * database's docids: each shard's values are read from the shard itself
 * (Xapian 1.4's value stream of several shards gives their own docids). */
template <class F> static void xw_each_value(const xw_db &x, unsigned slot, F f) {
  size_t n = x.shards.size();
  for (size_t k = 0; k < (n ? n : 1); k++) {
    const Xapian::Database &sh = n > 1 ? x.shards[k].db : x.db;
    for (auto v = sh.valuestream_begin(slot); v != sh.valuestream_end(slot); ++v)
      f(n > 1 ? (Xapian::docid)((v.get_docid() - 1) * n + k + 1) : v.get_docid(), *v);
  }
}

static void xw_bits_add_term(const xw_db &x, const std::string &term, xw_bits &b) {
  xw_each_posting(x, term, [&](Xapian::docid d) { xw_bits_set(b, d); });
}

/* b &= the postings of term: walk the list, or, when b holds far fewer
 * documents than the list, probe it with skip_to. */
static void xw_bits_and_term(const xw_db &x, const std::string &term, xw_bits &b) {
  const Xapian::Database &db = x.db;
  size_t have = xw_bits_count(b);
  if (have == 0) return;
  if ((uint64_t)have * 16 < db.get_termfreq(term)) {
    auto p = db.postlist_begin(term), end = db.postlist_end(term);
    xw_bits keep(b.size(), 0);
    xw_bits_each(b, [&](Xapian::docid d) {
      if (p == end) return;
      p.skip_to(d);
      if (p != end && *p == d) xw_bits_set(keep, d);
    });
    b.swap(keep);
    return;
  }
  xw_bits t(b.size(), 0);
  xw_bits_add_term(x, term, t);
  for (size_t i = 0; i < b.size(); i++) b[i] &= t[i];
}

static std::string xw_leaf_term(const Xapian::Query &q) {
  return q.get_type() == Xapian::Query::LEAF_TERM ? *q.get_terms_begin() : std::string();
}

/* out (zeroed, sized for the last docid) gets the documents q matches;
 * q must be xw_countable. */
static void xw_bits_eval(const xw_db &x, const Xapian::Query &q, xw_bits &out) {
  const Xapian::Database &db = x.db;
  size_t n = q.get_num_subqueries();
  switch (q.get_type()) {
    case Xapian::Query::LEAF_TERM:
    case Xapian::Query::LEAF_MATCH_ALL:
      xw_bits_add_term(x, xw_leaf_term(q), out);
      return;
    case Xapian::Query::LEAF_MATCH_NOTHING:
      return;
    case Xapian::Query::OP_OR:
    case Xapian::Query::OP_SYNONYM:
      for (size_t i = 0; i < n; i++) {
        Xapian::Query sub = q.get_subquery(i);
        if (sub.get_type() == Xapian::Query::LEAF_TERM) {
          xw_bits_add_term(x, xw_leaf_term(sub), out);
        } else {
          xw_bits t(out.size(), 0);
          xw_bits_eval(x, sub, t);
          for (size_t k = 0; k < out.size(); k++) out[k] |= t[k];
        }
      }
      return;
    case Xapian::Query::OP_AND:
    case Xapian::Query::OP_FILTER: {
      /* Start from the rarest term (or the first subquery when none is a
       * term), so probing can take over early. */
      size_t first = 0;
      Xapian::doccount best = 0;
      bool any_term = false;
      for (size_t i = 0; i < n; i++) {
        Xapian::Query sub = q.get_subquery(i);
        if (sub.get_type() != Xapian::Query::LEAF_TERM) continue;
        Xapian::doccount tf = db.get_termfreq(xw_leaf_term(sub));
        if (!any_term || tf < best) first = i, best = tf, any_term = true;
      }
      xw_bits_eval(x, q.get_subquery(first), out);
      for (size_t i = 0; i < n; i++) {
        if (i == first) continue;
        Xapian::Query sub = q.get_subquery(i);
        if (sub.get_type() == Xapian::Query::LEAF_TERM) {
          xw_bits_and_term(x, xw_leaf_term(sub), out);
        } else {
          xw_bits t(out.size(), 0);
          xw_bits_eval(x, sub, t);
          for (size_t k = 0; k < out.size(); k++) out[k] &= t[k];
        }
      }
      return;
    }
    case Xapian::Query::OP_AND_NOT: {
      xw_bits_eval(x, q.get_subquery(0), out);
      xw_bits t(out.size(), 0);
      for (size_t i = 1; i < n; i++) xw_bits_eval(x, q.get_subquery(i), t);
      for (size_t k = 0; k < out.size(); k++) out[k] &= ~t[k];
      return;
    }
    default: /* AND_MAYBE and SCALE_WEIGHT match what their first subquery does */
      xw_bits_eval(x, q.get_subquery(0), out);
      return;
  }
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
    std::string type = line.substr(0, sp), rest = sp == std::string::npos ? "" : line.substr(sp + 1);
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
    throw Xapian::DatabaseOpeningError(file + ":" + std::to_string(line_no) +
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

/* Freeing a writable handle commits what is pending (Xapian's behaviour);
 * Xapian's destructors do not throw. */
void xw_db_free(xw_db *db) {
  delete db;
}

int xw_db_reopen(xw_db *db, int *changed, err_t *err) {
  return xw_try(err, [&] {
    bool moved = db->db.reopen();
    if (moved) db->tf_cache.clear();
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
  return xw_or<uint32_t>(0, [&] { return db->db.get_termfreq(std::string(term, len)); });
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

int xw_db_shard_value_bounds(xw_db *db, size_t k, unsigned slot, char *lo, char *hi, size_t cap,
                             err_t *err) {
  if (k >= db->shards.size()) return err_set(err, ERR_INVAL, 0, "no shard %zu", k);
  return xw_bounds(db->shards[k].db, slot, lo, hi, cap, err);
}

/* limit 0: no limit. */
uint32_t xw_db_count_prefix(xw_db *db, const char *prefix, uint32_t limit) {
  if (!prefix) return 0;
  return xw_or<uint32_t>(0, [&] {
    uint32_t n = 0;
    for (auto t = db->db.allterms_begin(prefix); t != db->db.allterms_end(prefix); ++t)
      if (++n == limit) break;
    return n;
  });
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
  return xw_try(err, [&] {
    return xw_copy_out(db->db.get_document(id).get_data(), data, len, err);
  });
}

int xw_db_get_value(xw_db *db, xw_docid id, unsigned slot, char **val, size_t *len, err_t *err) {
  *val = NULL;
  if (len) *len = 0;
  if (!id) return err_set(err, ERR_NOT_FOUND, 0, "no document 0");
  return xw_try(err, [&] {
    return xw_copy_out(db->db.get_document(id).get_value(slot), val, len, err);
  });
}

int xw_db_replace(xw_db *db, const char *idterm, xw_doc *doc, int *replaced, err_t *err) {
  if (replaced) *replaced = 0;
  if (!idterm || !*idterm || !doc) return err_set(err, ERR_INVAL, 0, "no id term or document");
  if (int rc = xw_need_writable(db, err)) return rc;
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
  return xw_try(err, [&] {
    db->w.delete_document(idterm);
    return 0;
  });
}

int xw_db_commit(xw_db *db, err_t *err) {
  if (int rc = xw_need_writable(db, err)) return rc;
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

void xw_doc_free(xw_doc *d) {
  delete d;
}

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
static Xapian::termcount xw_term_code(const std::string &t) {
  return (Xapian::termcount)(hash_fnv32(HASH_FNV32_START, t.data(), t.size()) | 0x80000000u);
}

/* A query the same as q and g, except where g cannot stand in for it. */
static xw_query *xw_query_same(Xapian::Query q, bool g_ok) {
  return new xw_query{q, q, g_ok};
}

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
    return new xw_query{Xapian::Query(xop, v.begin(), v.end(), window),
                        Xapian::Query(xop, g.begin(), g.end(), window), g_ok};
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
    return xw_query_same(Xapian::Query(Xapian::Query::OP_WILDCARD, std::string(prefix, len),
                                       max_expansion, Xapian::Query::WILDCARD_LIMIT_ERROR,
                                       Xapian::Query::OP_SYNONYM),
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
    *out = xw_query_same(terms.empty() ? Xapian::Query::MatchNothing
                                       : Xapian::Query(Xapian::Query::OP_OR, terms.begin(),
                                                       terms.end()),
                         false);
    return 0;
  });
}

/* Only documents with a value in slot match, even with both ends open:
 * Xapian reads OP_VALUE_GE "" as every document, so the floor is "\0". */
xw_query *xw_query_value_range(unsigned slot, const char *lo, const char *hi) {
  return xw_or<xw_query *>(NULL, [&] {
    if (lo && hi) return xw_query_same(Xapian::Query(Xapian::Query::OP_VALUE_RANGE, slot, lo, hi), true);
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
                        Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, q->g, factor), q->g_ok};
  });
}

xw_query *xw_query_match_all(void) {
  return xw_or<xw_query *>(NULL, [] { return xw_query_same(Xapian::Query::MatchAll, false); });
}

xw_query *xw_query_match_nothing(void) {
  return xw_or<xw_query *>(NULL, [] { return xw_query_same(Xapian::Query::MatchNothing, true); });
}

void xw_query_free(xw_query *q) {
  delete q;
}

char *xw_query_describe(const xw_query *q) {
  if (!q) return NULL;
  return xw_or<char *>(NULL, [&] {
    char *s = NULL;
    return xw_copy_out(q->q.get_description(), &s, NULL, NULL) ? NULL : s;
  });
}

static uint64_t xw_add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

static uint64_t xw_cost(Xapian::Database &db, const Xapian::Query &q, uint64_t cap) {
  switch (q.get_type()) {
    case Xapian::Query::LEAF_TERM:
      return db.get_termfreq(*q.get_terms_begin());
    case Xapian::Query::LEAF_MATCH_NOTHING:
      return 0;
    case Xapian::Query::LEAF_MATCH_ALL:
    case Xapian::Query::OP_VALUE_RANGE:
    case Xapian::Query::OP_VALUE_GE:
    case Xapian::Query::OP_VALUE_LE:
      return db.get_doccount();
    case Xapian::Query::OP_WILDCARD:
    case Xapian::Query::LEAF_POSTING_SOURCE:
      return UINT64_MAX;
    default:
      break;
  }
  uint64_t sum = 0;
  for (size_t i = 0, n = q.get_num_subqueries(); i < n && sum <= cap; i++)
    sum = xw_add_sat(sum, xw_cost(db, q.get_subquery(i), cap));
  bool positional = q.get_type() == Xapian::Query::OP_PHRASE || q.get_type() == Xapian::Query::OP_NEAR;
  return positional ? xw_add_sat(sum, sum) : sum;
}

uint64_t xw_query_cost(xw_db *db, const xw_query *q, uint64_t cap) {
  if (!q) return UINT64_MAX;
  return xw_or<uint64_t>(UINT64_MAX, [&] { return xw_cost(db->db, q->q, cap); });
}

/* ---- columns ---- */

int xw_column_load(xw_db *db, unsigned slot, unsigned prefix_len, xw_column **out, err_t *err) {
  *out = NULL;
  return xw_try(err, [&] {
    std::unique_ptr<xw_column> c(new xw_column);
    c->names.emplace_back();
    c->ids.assign((size_t)db->db.get_lastdocid() + 1, 0);
    std::unordered_map<std::string, uint16_t> dict;
    bool full = false;
    xw_each_value(*db, slot, [&](Xapian::docid d, std::string val) {
      if (prefix_len && val.size() > prefix_len) val.resize(prefix_len);
      if (full || val.empty() || d >= c->ids.size()) return;
      auto it = dict.find(val);
      if (it == dict.end()) {
        if (c->names.size() > XW_COLUMN_MAX_VALUES) {
          full = true;
          return;
        }
        it = dict.emplace(val, (uint16_t)c->names.size()).first;
        c->names.push_back(std::move(val));
      }
      c->ids[d] = it->second;
    });
    if (full) return 0; /* too many values: *out stays NULL */
    c->totals.assign(c->names.size(), 0);
    for (uint16_t id : c->ids) c->totals[id]++;
    *out = c.release();
    return 0;
  });
}

void xw_column_free(xw_column *c) {
  delete c;
}

int xw_column_names(xw_column *c, xw_split_fn split, err_t *err) {
  if (!c || !split) return err_set(err, ERR_INVAL, 0, "no column or split function");
  return xw_try(err, [&] {
    std::unique_ptr<xw_namer> nm(new xw_namer);
    for (size_t id = 0; id < c->names.size(); id++)
      nm->add(id ? c->names[id] : std::string(), split);
    nm->finish();
    c->namer = std::move(nm);
    return 0;
  });
}

size_t xw_column_bytes(const xw_column *c) {
  if (!c) return 0;
  size_t n = c->ids.capacity() * sizeof(uint16_t) + c->totals.capacity() * sizeof(uint32_t);
  if (c->namer) n += c->namer->bytes();
  for (const auto &s : c->names) n += sizeof s + s.capacity();
  return n;
}

uint32_t xw_column_nvalues(const xw_column *c) { return (uint32_t)c->names.size(); }

uint32_t xw_column_id(const xw_column *c, xw_docid d) { return c->id_of(d); }

const char *xw_column_name(const xw_column *c, uint32_t id, size_t *len) {
  bool ok = id < c->names.size();
  if (len) *len = ok ? c->names[id].size() : 0;
  return ok ? c->names[id].c_str() : "";
}

uint32_t xw_column_total(const xw_column *c, uint32_t id) {
  return id < c->totals.size() ? c->totals[id] : 0;
}

/* Counts per value id, one vector per facet spec, filled from columns. */
typedef std::vector<std::vector<uint32_t>> xw_idcounts;

/* A match spy of our own: each match is one increment per column.  Xapian
 * 1.4 gives a spy the docid within the shard, so a spy serves one shard
 * (k of n) at a time and maps it to the combined database's. */
class xw_column_spy : public Xapian::MatchSpy {
 public:
  xw_column_spy(const xw_search_opts *o, xw_idcounts *c, size_t k = 0, size_t n = 1)
      : opts(o), counts(c), shard(k), nshards(n) {}
  void operator()(const Xapian::Document &doc, double) override {
    Xapian::docid d = (Xapian::docid)((doc.get_docid() - 1) * nshards + shard + 1);
    for (size_t f = 0; f < opts->nfacets; f++) (*counts)[f][opts->facets[f].column->id_of(d)]++;
  }

 private:
  const xw_search_opts *opts;
  xw_idcounts *counts;
  size_t shard, nshards;
};

/* Count q's matches shard by shard, unweighted, with a column spy on each
 * when columns is set: the exact total and facets of a local database of
 * several shards, which a spy on the combined match could not place. */
static int64_t xw_count_by_shard(const xw_db *db, const Xapian::Query &q, const xw_search_opts *opts,
                                 bool columns, xw_idcounts *counts) {
  int64_t total = 0;
  size_t n = db->shards.size();
  for (size_t k = 0; k < n; k++) {
    if (opts->shards && !opts->shards[k]) continue;
    const Xapian::Database &sh = db->shards[k].db;
    Xapian::Enquire enq(sh);
    enq.set_query(q);
    enq.set_weighting_scheme(Xapian::BoolWeight());
    xw_column_spy spy(opts, counts, k, n);
    if (columns) enq.add_matchspy(&spy);
    total += enq.get_mset(0, 0, sh.get_doccount()).get_matches_lower_bound();
    enq.clear_matchspies();
  }
  return total;
}

/* Column counts to the keys and counts the caller reads ("no value" left
 * out), sorted like xw_facet_fold's. */
static xw_counts xw_column_fold(const xw_column &c, const std::vector<uint32_t> &counts) {
  if (c.namer) return xw_names_fold(*c.namer, counts);
  xw_counts out;
  for (size_t id = 1; id < counts.size(); id++)
    if (counts[id]) out.emplace_back(c.names[id], counts[id]);
  xw_sort_counts(out);
  return out;
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

/* BM25 as Sift ranks: k1 and b 0 take Xapian's defaults (1, 0.5). */
static Xapian::BM25Weight xw_bm25(double k1, double b) {
  return Xapian::BM25Weight(k1 ? k1 : 1, 0, 1, b ? b : 0.5, 0.5);
}

/* ---- ranking a subset of the shards as the whole database would ----
 * A date-bounded query on an archive laid out by period matches in a few
 * shards, but its scores depend on every shard's statistics (a term's
 * document frequency, the collection's size and average length).  Asking
 * every shard for them on each query cost 14 us per shard (60 shards: 0.9 ms
 * of a 1.5 ms query).  Instead the match runs on the shards that can match,
 * weighted by xw_global_bm25 with the whole database's statistics, which
 * are kept per term for the revision open: the same scores, bit for bit, as
 * Xapian's BM25Weight on the whole database (its formula, step for step,
 * Xapian 1.4 bm25weight.cc). */
struct xw_global_stats {
  double collection_size = 0, average_length = 0;
  std::unordered_map<Xapian::termcount, Xapian::doccount> tf; /* code -> termfreq */
};

class xw_global_bm25 : public Xapian::Weight {
 public:
  xw_global_bm25(double k1_, double b_, const xw_global_stats *s)
      : k1(k1_ ? k1_ : 1), b(b_ ? b_ : 0.5), stats(s) {
    need_stat(WQF);
    need_stat(WDF);
    need_stat(WDF_MAX);
    need_stat(DOC_LENGTH);
    need_stat(DOC_LENGTH_MIN);
  }
  xw_global_bm25 *clone() const override { return new xw_global_bm25(k1, b, stats); }
  void init(double factor) override {
    auto it = stats->tf.find(get_wqf());
    /* xw_global_stats holds every term of xw_query.g (xw_search) */
    double tf = it == stats->tf.end() ? 0 : it->second;
    double tw = (stats->collection_size - tf + 0.5) / (tf + 0.5);
    if (tw < 2) tw = tw * 0.5 + 1;
    /* Xapian then multiplies by (k3 + 1) wqf / (k3 + wqf), exactly 1 for
     * k3 = 1 and wqf = 1 (xw_query.g holds only terms of wqf 1) */
    termweight = std::log(tw) * factor;
    termweight *= (k1 + 1);
    len_factor = stats->average_length != 0 ? 1 / stats->average_length : 0;
  }
  double get_sumpart(Xapian::termcount wdf, Xapian::termcount len, Xapian::termcount) const override {
    double normlen = std::max(len * len_factor, 0.5);
    double wdf_double = wdf;
    double denom = k1 * (normlen * b + (1 - b)) + wdf_double;
    return termweight * (wdf_double / denom);
  }
  double get_maxpart() const override {
    double normlen_lb =
        std::max(std::max(get_wdf_upper_bound(), get_doclength_lower_bound()) * len_factor, 0.5);
    double denom = k1 * (normlen_lb * b + (1 - b));
    double wdf_max = get_wdf_upper_bound();
    denom += wdf_max;
    return termweight * (wdf_max / denom);
  }
  double get_sumextra(Xapian::termcount, Xapian::termcount) const override { return 0; }
  double get_maxextra() const override { return 0; }

 private:
  double k1, b;
  const xw_global_stats *stats;
  double termweight = 0, len_factor = 0;
};

/* The whole database's statistics for g's terms; false when two of them
 * share a code (g cannot tell them apart: rank on every shard). */
static bool xw_global_stats_of(xw_db &x, const Xapian::Query &g, xw_global_stats &s) {
  Xapian::doccount n = x.db.get_doccount();
  s.collection_size = n;
  s.average_length = n ? double(x.db.get_total_length()) / n : 0;
  for (auto t = g.get_unique_terms_begin(); t != g.get_unique_terms_end(); ++t) {
    const std::string &term = *t;
    auto hit = x.tf_cache.find(term);
    Xapian::doccount tf;
    if (hit != x.tf_cache.end()) {
      tf = hit->second;
    } else {
      tf = x.db.get_termfreq(term);
      if (x.tf_cache.size() >= XW_TF_CACHE) x.tf_cache.clear();
      x.tf_cache.emplace(term, tf);
    }
    if (!s.tf.emplace(xw_term_code(term), tf).second) return false;
  }
  return true;
}

/* The shards flagged in mask (xw_search_opts.shards) as one database, and
 * their places in x.shards into subset; the whole database, subset empty,
 * when every shard is flagged.  Xapian needs one shard: the last, where the
 * query's own date conditions match nothing, when none is flagged. */
static Xapian::Database xw_subset(const xw_db &x, const unsigned char *mask,
                                  std::vector<size_t> &subset) {
  Xapian::Database sub;
  for (size_t k = 0; k < x.shards.size(); k++) {
    if (!mask[k] && (k + 1 < x.shards.size() || !subset.empty())) continue;
    sub.add_database(x.shards[k].db);
    subset.push_back(k);
  }
  if (subset.size() < x.shards.size()) return sub;
  subset.clear();
  return x.db;
}

/* A docid of xw_subset's database as the whole database's. */
static Xapian::docid xw_subset_docid(const std::vector<size_t> &subset, size_t nshards,
                                     Xapian::docid d) {
  if (subset.empty()) return d;
  size_t j = (size_t)(d - 1) % subset.size(), local = (size_t)(d - 1) / subset.size();
  return (Xapian::docid)(local * nshards + subset[j] + 1);
}

/* Can q be ranked on the shards of mask alone?  Yes when no weight needs
 * the statistics of those left out (unweighted), or when xw_global_bm25
 * supplies them (*global filled); never with a remote shard. */
static bool xw_subset_ok(xw_db &x, const xw_query &q, const unsigned char *mask, bool unweighted,
                         xw_global_stats *global) {
  if (!mask || x.shards.size() < 2) return false;
  return unweighted || (x.local && q.g_ok && xw_global_stats_of(x, q.g, *global));
}

/* The cursor's tie rule (xw_search_opts.after_key): of the documents whose
 * sort key equals the cursor's, only those after its docid. */
class xw_after_decider : public Xapian::MatchDecider {
 public:
  xw_after_decider(unsigned s, std::string k, Xapian::docid d) : slot(s), key(std::move(k)), did(d) {}
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
      if (xw_subset_ok(*db, *q, shards, !weighted, &global)) ranked = xw_subset(*db, shards, subset);
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

int xw_search(xw_db *db, const xw_query *q, const xw_search_opts *opts, xw_mset **out,
              err_t *err) {
  *out = NULL;
  if (!db || !q || !opts || (opts->nfacets && !opts->facets))
    return err_set(err, ERR_INVAL, 0, "no database, query or options");
  return xw_try(err, [&] {
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
      after.reset(new xw_after_decider(opts->sort_slot,
                                       std::string(opts->after_key, opts->after_key_len),
                                       opts->after_docid));
    bool shortcut = (type == Xapian::Query::LEAF_TERM || type == Xapian::Query::LEAF_MATCH_ALL) &&
                    (columns || opts->nfacets == 0) && !after;
    std::string term;
    if (shortcut && type == Xapian::Query::LEAF_TERM) {
      term = *inner.get_terms_begin();
      m->total = db->db.get_termfreq(term);
    } else if (shortcut) {
      m->total = db->db.get_doccount();
    }

    /* Shards that cannot match are left out of the ranking when no weight
     * needs the statistics of the shards left out (rank_shards), or when
     * xw_global_bm25 supplies them (xw_search_opts.shards). */
    Xapian::Database ranked = db->db;
    xw_global_stats global;
    /* (Not with a cursor: its docid is the whole database's.) */
    if (!opts->after_key && xw_subset_ok(*db, *q, opts->shards, opts->rank_shards, &global)) {
      ranked = xw_subset(*db, opts->shards, m->subset);
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

    auto t0 = std::chrono::steady_clock::now();
    m->m = enq.get_mset(opts->offset, opts->limit, check, NULL, after.get());
    if (sets) {
      xw_bits bits((size_t)db->db.get_lastdocid() / 64 + 1, 0);
      xw_bits_eval(*db, q->q, bits);
      m->total = (int64_t)xw_bits_count(bits);
      if (columns)
        xw_bits_each(bits, [&](Xapian::docid d) {
          for (size_t f = 0; f < opts->nfacets; f++) idcounts[f][opts->facets[f].column->id_of(d)]++;
        });
    }
    if (by_shard) m->total = xw_count_by_shard(db, q->q, opts, columns, &idcounts);
    if (shortcut && columns) {
      if (type == Xapian::Query::LEAF_MATCH_ALL) {
        for (size_t f = 0; f < opts->nfacets; f++) idcounts[f] = opts->facets[f].column->totals;
      } else {
        xw_each_posting(*db, term, [&](Xapian::docid d) {
          for (size_t f = 0; f < opts->nfacets; f++) idcounts[f][opts->facets[f].column->id_of(d)]++;
        });
      }
    }
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
    enq.clear_matchspies();
    if (opts->time_limit > 0 && took.count() >= opts->time_limit)
      return err_set(err, ERR_TIMEOUT, 0, "search took %.3f s, over the limit of %.3f s",
                     took.count(), opts->time_limit);
    m->data.resize(m->m.size());
    for (size_t f = 0; f < opts->nfacets; f++)
      m->facets.push_back(columns ? xw_column_fold(*opts->facets[f].column, idcounts[f])
                                  : xw_facet_fold(*spies[opts->facets[f].slot], opts->facets[f]));
    *out = m.release();
    return 0;
  });
}

void xw_mset_free(xw_mset *m) {
  delete m;
}

uint32_t xw_mset_size(const xw_mset *m) {
  return xw_or<uint32_t>(0, [&] { return m->m.size(); });
}

uint32_t xw_mset_matches_lower(const xw_mset *m) {
  return xw_or<uint32_t>(0, [&] { return m->total >= 0 ? (uint32_t)m->total : m->m.get_matches_lower_bound(); });
}

uint32_t xw_mset_matches_estimated(const xw_mset *m) {
  return xw_or<uint32_t>(0, [&] { return m->total >= 0 ? (uint32_t)m->total : m->m.get_matches_estimated(); });
}

uint32_t xw_mset_matches_upper(const xw_mset *m) {
  return xw_or<uint32_t>(0, [&] { return m->total >= 0 ? (uint32_t)m->total : m->m.get_matches_upper_bound(); });
}

xw_docid xw_mset_docid(const xw_mset *m, uint32_t i) {
  return xw_or<xw_docid>(0, [&] {
    if (i >= m->m.size()) return (xw_docid)0;
    return (xw_docid)xw_subset_docid(m->subset, m->nshards, *m->m[i]);
  });
}

double xw_mset_weight(const xw_mset *m, uint32_t i) {
  return xw_or<double>(0, [&] { return i < m->m.size() ? m->m[i].get_weight() : 0; });
}

int xw_mset_data(xw_mset *m, uint32_t i, const char **data, size_t *len, err_t *err) {
  *data = NULL;
  if (len) *len = 0;
  if (i >= m->data.size()) return err_set(err, ERR_INVAL, 0, "hit %u out of range", (unsigned)i);
  return xw_try(err, [&] {
    auto &d = m->data[i];
    if (!d) d.reset(new std::string(m->m[i].get_document().get_data()));
    *data = d->data();
    if (len) *len = d->size();
    return 0;
  });
}

int xw_mset_value(xw_mset *m, uint32_t i, unsigned slot, char **val, size_t *len, err_t *err) {
  *val = NULL;
  if (len) *len = 0;
  if (i >= m->data.size()) return err_set(err, ERR_INVAL, 0, "hit %u out of range", (unsigned)i);
  return xw_try(err, [&] { return xw_copy_out(m->m[i].get_document().get_value(slot), val, len, err); });
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

int xw_db_positions(xw_db *db, xw_docid id, const char *term, size_t len, uint32_t *pos,
                    size_t cap, size_t *n, err_t *err) {
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

} /* extern "C" */
