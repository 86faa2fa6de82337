/* xw.cc: the C wrapper over libxapian declared in xw.h; the only C++ in the
 * tree.  Called by eng.c (searching), the indexer (writing) and the tests.
 *
 * Invariants:
 * - Nothing thrown crosses into C.  Every extern "C" entry point runs its
 *   body in try { } and hands any exception to xw_fail(), the one place that
 *   turns exceptions into ERR_* codes (through xw_errors[], keyed on
 *   Xapian's error type name).  Entry points that return no error code
 *   (counts, accessors) return 0 or NULL on an exception instead.
 * - Handles own their C++ objects outright (no raw pointers into Xapian), so
 *   deleting a handle on any path releases everything.
 *
 * Choices worth knowing:
 * - Facets ride on Xapian's own ValueCountMatchSpy, one per distinct slot,
 *   and xw folds its per-value counts afterwards (split on '\x1f', cut to
 *   prefix_len, each key counted once per value).  A spy of our own class
 *   would fail on a remote shard: xapian-tcpsrv only knows its registered
 *   spies.  Counting is exact because a search with facets checks every
 *   match (check_at_least >= doccount).
 * - Time limit: Xapian 1.4's Enquire::set_time_limit() only stops trying to
 *   be exact; it cannot end a match early.  xw sets it (so a slow exact
 *   search gives up on exactness at the limit) and also times get_mset()
 *   itself: a search that took time_limit or longer fails with ERR_TIMEOUT,
 *   so a result that the limit may have made partial is never returned.
 * - Compaction uses Xapian's default form (one compacted file per table),
 *   which reopens like any glass database.
 */
#include "xw.h"

#include <xapian.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <sys/stat.h>

struct xw_db {
  Xapian::Database db;        /* always set: reads go through it */
  Xapian::WritableDatabase w; /* the same database when writable */
  bool writable;
};

struct xw_doc {
  Xapian::Document d;
};

struct xw_query {
  Xapian::Query q;
};

typedef std::vector<std::pair<std::string, uint32_t>> xw_counts;

struct xw_mset {
  Xapian::MSet m;
  std::vector<std::unique_ptr<std::string>> data; /* per hit, fetched lazily */
  std::vector<xw_counts> facets;                  /* per facet spec */
};

/* ---- errors ---- */

/* Xapian error type -> code; a NULL msg keeps Xapian's own message. */
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
    {"WildcardError", ERR_BAD_QUERY, "prefix matches too many words"},
};

static bool xw_is_enospc(const Xapian::Error &e) {
  const char *nospace = std::strerror(ENOSPC);
  const char *es = e.get_error_string();
  return (es && std::strcmp(es, nospace) == 0) || e.get_msg().find(nospace) != std::string::npos;
}

/* Call only inside a catch block: records the exception in err and returns
 * its code. */
static int xw_fail(err_t *err) noexcept {
  try {
    throw;
  } catch (const Xapian::Error &e) {
    const char *type = e.get_type();
    if (xw_is_enospc(e)) return err_set(err, ERR_DISK_FULL, 0, "%s", e.get_description().c_str());
    for (const auto &row : xw_errors) {
      if (std::strcmp(type, row.type) != 0) continue;
      if (row.msg) return err_set(err, row.code, 0, "%s", row.msg);
      return err_set(err, row.code, 0, "%s: %s", type, e.get_msg().c_str());
    }
    return err_set(err, ERR_XAPIAN, 0, "%s: %s", type, e.get_msg().c_str());
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

static int xw_need_writable(const xw_db *db, err_t *err) {
  if (db->writable) return 0;
  return err_set(err, ERR_INVAL, 0, "the database is open read-only");
}

extern "C" {

/* ---- databases ---- */

int xw_db_open(const char *path, xw_db **out, err_t *err) {
  *out = NULL;
  if (!path) return err_set(err, ERR_INVAL, 0, "no index path");
  try {
    *out = new xw_db{Xapian::Database(path), Xapian::WritableDatabase(), false};
    return 0;
  } catch (...) {
    return xw_fail(err);
  }
}

int xw_db_open_writable(const char *path, int create, xw_db **out, err_t *err) {
  *out = NULL;
  if (!path) return err_set(err, ERR_INVAL, 0, "no index path");
  try {
    Xapian::WritableDatabase w(path, create ? Xapian::DB_CREATE_OR_OPEN : Xapian::DB_OPEN);
    *out = new xw_db{w, w, true};
    return 0;
  } catch (...) {
    return xw_fail(err);
  }
}

/* A writable handle commits pending changes here (Xapian's behaviour). */
void xw_db_free(xw_db *db) {
  delete db;
}

int xw_db_reopen(xw_db *db, int *changed, err_t *err) {
  try {
    bool moved = db->db.reopen();
    if (changed) *changed = moved;
    return 0;
  } catch (...) {
    return xw_fail(err);
  }
}

uint32_t xw_db_doccount(xw_db *db) {
  try {
    return db->db.get_doccount();
  } catch (...) {
    return 0;
  }
}

xw_docid xw_db_lastdocid(xw_db *db) {
  try {
    return db->db.get_lastdocid();
  } catch (...) {
    return 0;
  }
}

/* get_revision() throws for anything but one local shard: then 0. */
uint64_t xw_db_revision(xw_db *db) {
  try {
    return db->db.get_revision();
  } catch (...) {
    return 0;
  }
}

double xw_db_avlength(xw_db *db) {
  try {
    return db->db.get_avlength();
  } catch (...) {
    return 0;
  }
}

/* The empty term would mean "every document" to Xapian: 0 here. */
uint32_t xw_db_termfreq(xw_db *db, const char *term, size_t len) {
  if (!term || !len) return 0;
  try {
    return db->db.get_termfreq(std::string(term, len));
  } catch (...) {
    return 0;
  }
}

/* limit 0: no limit. */
uint32_t xw_db_count_prefix(xw_db *db, const char *prefix, uint32_t limit) {
  if (!prefix) return 0;
  try {
    uint32_t n = 0;
    for (auto t = db->db.allterms_begin(prefix); t != db->db.allterms_end(prefix); ++t)
      if (++n == limit) break;
    return n;
  } catch (...) {
    return 0;
  }
}

/* Xapian stores no empty metadata (setting "" deletes the key), so an empty
 * value reads as absent. */
int xw_db_get_metadata(xw_db *db, const char *key, char **val, size_t *len, err_t *err) {
  *val = NULL;
  if (len) *len = 0;
  if (!key) return err_set(err, ERR_INVAL, 0, "no metadata key");
  try {
    std::string v = db->db.get_metadata(key);
    return v.empty() ? 0 : xw_copy_out(v, val, len, err);
  } catch (...) {
    return xw_fail(err);
  }
}

int xw_db_set_metadata(xw_db *db, const char *key, const char *val, size_t len, err_t *err) {
  if (!key || (!val && len)) return err_set(err, ERR_INVAL, 0, "no metadata key or value");
  int rc = xw_need_writable(db, err);
  if (rc) return rc;
  try {
    db->w.set_metadata(key, std::string(val ? val : "", len));
    return 0;
  } catch (...) {
    return xw_fail(err);
  }
}

int xw_db_find_term(xw_db *db, const char *term, size_t len, xw_docid *out, err_t *err) {
  *out = 0;
  if (!term || !len) return err_set(err, ERR_INVAL, 0, "empty id term");
  try {
    std::string t(term, len);
    auto p = db->db.postlist_begin(t);
    if (p == db->db.postlist_end(t))
      return err_set(err, ERR_NOT_FOUND, 0, "no document has term %.*s", (int)std::min(len, (size_t)200), term);
    *out = *p;
    return 0;
  } catch (...) {
    return xw_fail(err);
  }
}

int xw_db_get_data(xw_db *db, xw_docid id, char **data, size_t *len, err_t *err) {
  *data = NULL;
  if (len) *len = 0;
  if (!id) return err_set(err, ERR_NOT_FOUND, 0, "no document 0");
  try {
    return xw_copy_out(db->db.get_document(id).get_data(), data, len, err);
  } catch (...) {
    return xw_fail(err);
  }
}

int xw_db_get_value(xw_db *db, xw_docid id, unsigned slot, char **val, size_t *len, err_t *err) {
  *val = NULL;
  if (len) *len = 0;
  if (!id) return err_set(err, ERR_NOT_FOUND, 0, "no document 0");
  try {
    return xw_copy_out(db->db.get_document(id).get_value(slot), val, len, err);
  } catch (...) {
    return xw_fail(err);
  }
}

int xw_db_replace(xw_db *db, const char *idterm, xw_doc *doc, int *replaced, err_t *err) {
  if (replaced) *replaced = 0;
  if (!idterm || !*idterm || !doc) return err_set(err, ERR_INVAL, 0, "no id term or document");
  int rc = xw_need_writable(db, err);
  if (rc) return rc;
  try {
    bool existed = db->w.get_termfreq(idterm) > 0;
    db->w.replace_document(idterm, doc->d);
    if (replaced) *replaced = existed;
    return 0;
  } catch (...) {
    return xw_fail(err);
  }
}

int xw_db_delete(xw_db *db, const char *idterm, err_t *err) {
  if (!idterm || !*idterm) return err_set(err, ERR_INVAL, 0, "no id term");
  int rc = xw_need_writable(db, err);
  if (rc) return rc;
  try {
    db->w.delete_document(idterm);
    return 0;
  } catch (...) {
    return xw_fail(err);
  }
}

int xw_db_commit(xw_db *db, err_t *err) {
  int rc = xw_need_writable(db, err);
  if (rc) return rc;
  try {
    db->w.commit();
    return 0;
  } catch (...) {
    return xw_fail(err);
  }
}

int xw_compact(const char *src, const char *dst, err_t *err) {
  if (!src || !dst) return err_set(err, ERR_INVAL, 0, "no source or destination");
  struct stat st;
  if (stat(dst, &st) == 0) return err_set(err, ERR_INVAL, 0, "%s already exists", dst);
  try {
    Xapian::Database(src).compact(dst);
    return 0;
  } catch (...) {
    return xw_fail(err);
  }
}

/* ---- documents under construction ---- */

xw_doc *xw_doc_new(void) {
  try {
    return new xw_doc;
  } catch (...) {
    return NULL;
  }
}

void xw_doc_free(xw_doc *d) {
  delete d;
}

int xw_doc_add_posting(xw_doc *d, const char *term, size_t len, uint32_t pos, err_t *err) {
  if (!term) return err_set(err, ERR_INVAL, 0, "no term");
  try {
    d->d.add_posting(std::string(term, len), pos, 1);
    return 0;
  } catch (...) {
    return xw_fail(err);
  }
}

int xw_doc_add_term(xw_doc *d, const char *term, size_t len, uint32_t wdf_inc, err_t *err) {
  if (!term) return err_set(err, ERR_INVAL, 0, "no term");
  try {
    d->d.add_term(std::string(term, len), wdf_inc);
    return 0;
  } catch (...) {
    return xw_fail(err);
  }
}

int xw_doc_add_boolean(xw_doc *d, const char *term, size_t len, err_t *err) {
  if (!term) return err_set(err, ERR_INVAL, 0, "no term");
  try {
    d->d.add_boolean_term(std::string(term, len));
    return 0;
  } catch (...) {
    return xw_fail(err);
  }
}

int xw_doc_set_value(xw_doc *d, unsigned slot, const char *val, size_t len, err_t *err) {
  if (!val && len) return err_set(err, ERR_INVAL, 0, "no value");
  try {
    d->d.add_value(slot, std::string(val ? val : "", len));
    return 0;
  } catch (...) {
    return xw_fail(err);
  }
}

int xw_doc_set_data(xw_doc *d, const char *data, size_t len, err_t *err) {
  if (!data && len) return err_set(err, ERR_INVAL, 0, "no data");
  try {
    d->d.set_data(std::string(data ? data : "", len));
    return 0;
  } catch (...) {
    return xw_fail(err);
  }
}

/* ---- queries ---- */

static xw_query *xw_wrap(Xapian::Query q) {
  return new xw_query{std::move(q)};
}

/* The empty term would match every document: it matches none here. */
xw_query *xw_query_term(const char *term, size_t len, uint32_t wqf) {
  if (!term) return NULL;
  try {
    return xw_wrap(len ? Xapian::Query(std::string(term, len), wqf) : Xapian::Query());
  } catch (...) {
    return NULL;
  }
}

xw_query *xw_query_combine(xw_op op, xw_query *const *subs, size_t n) {
  static const Xapian::Query::op ops[] = {
      [XW_AND] = Xapian::Query::OP_AND,
      [XW_OR] = Xapian::Query::OP_OR,
      [XW_AND_NOT] = Xapian::Query::OP_AND_NOT,
      [XW_FILTER] = Xapian::Query::OP_FILTER,
      [XW_PHRASE] = Xapian::Query::OP_PHRASE,
      [XW_SYNONYM] = Xapian::Query::OP_SYNONYM,
      [XW_AND_MAYBE] = Xapian::Query::OP_AND_MAYBE,
  };
  if ((!subs && n) || (unsigned)op >= sizeof ops / sizeof *ops) return NULL;
  try {
    std::vector<Xapian::Query> v;
    v.reserve(n);
    for (size_t i = 0; i < n; i++) {
      if (!subs[i]) return NULL;
      v.push_back(subs[i]->q);
    }
    Xapian::termcount window = op == XW_PHRASE ? (Xapian::termcount)n : 0;
    return xw_wrap(Xapian::Query(ops[op], v.begin(), v.end(), window));
  } catch (...) {
    return NULL;
  }
}

xw_query *xw_query_wildcard(const char *prefix, size_t len, uint32_t max_expansion) {
  if (!prefix) return NULL;
  try {
    return xw_wrap(Xapian::Query(Xapian::Query::OP_WILDCARD, std::string(prefix, len), max_expansion,
                                 Xapian::Query::WILDCARD_LIMIT_ERROR, Xapian::Query::OP_SYNONYM));
  } catch (...) {
    return NULL;
  }
}

/* Both ends open: every document with a value in slot. */
xw_query *xw_query_value_range(unsigned slot, const char *lo, const char *hi) {
  try {
    if (lo && hi) return xw_wrap(Xapian::Query(Xapian::Query::OP_VALUE_RANGE, slot, lo, hi));
    if (hi) return xw_wrap(Xapian::Query(Xapian::Query::OP_VALUE_LE, slot, hi));
    return xw_wrap(Xapian::Query(Xapian::Query::OP_VALUE_GE, slot, lo ? lo : ""));
  } catch (...) {
    return NULL;
  }
}

/* A negative factor is an error (NULL), as in Xapian. */
xw_query *xw_query_scale(xw_query *q, double factor) {
  if (!q) return NULL;
  try {
    return xw_wrap(Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, q->q, factor));
  } catch (...) {
    return NULL;
  }
}

xw_query *xw_query_match_all(void) {
  try {
    return xw_wrap(Xapian::Query::MatchAll);
  } catch (...) {
    return NULL;
  }
}

xw_query *xw_query_match_nothing(void) {
  try {
    return xw_wrap(Xapian::Query::MatchNothing);
  } catch (...) {
    return NULL;
  }
}

void xw_query_free(xw_query *q) {
  delete q;
}

char *xw_query_describe(const xw_query *q) {
  if (!q) return NULL;
  try {
    char *s = NULL;
    return xw_copy_out(q->q.get_description(), &s, NULL, NULL) ? NULL : s;
  } catch (...) {
    return NULL;
  }
}

/* ---- searching ---- */

/* Fold the spy's counts of whole values into the counts spec asks for. */
static xw_counts xw_facet_fold(const Xapian::ValueCountMatchSpy &spy, const xw_facet_spec &spec) {
  std::unordered_map<std::string, uint32_t> counts;
  std::set<std::string> keys;
  for (auto v = spy.values_begin(); v != spy.values_end(); ++v) {
    std::string whole = *v;
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
  std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  return out;
}

int xw_search(xw_db *db, const xw_query *q, const xw_search_opts *opts, xw_mset **out,
              err_t *err) {
  *out = NULL;
  if (!db || !q || !opts || (opts->nfacets && !opts->facets))
    return err_set(err, ERR_INVAL, 0, "no database, query or options");
  xw_mset *m = NULL;
  try {
    std::map<unsigned, std::unique_ptr<Xapian::ValueCountMatchSpy>> spies; /* outlive enq */
    Xapian::Enquire enq(db->db);
    enq.set_query(q->q);
    enq.set_weighting_scheme(Xapian::BM25Weight(opts->bm25_k1 ? opts->bm25_k1 : 1.0, 0, 1,
                                                opts->bm25_b ? opts->bm25_b : 0.5, 0.5));
    if (opts->sort != XW_SORT_RELEVANCE)
      enq.set_sort_by_value(opts->sort_slot, opts->sort == XW_SORT_VALUE_DESC);
    Xapian::doccount check = opts->check_at_least;
    for (size_t f = 0; f < opts->nfacets; f++) {
      auto &spy = spies[opts->facets[f].slot];
      if (!spy) {
        spy.reset(new Xapian::ValueCountMatchSpy(opts->facets[f].slot));
        enq.add_matchspy(spy.get());
      }
    }
    if (opts->nfacets) check = std::max(check, db->db.get_doccount());
    if (opts->time_limit > 0) enq.set_time_limit(opts->time_limit);

    m = new xw_mset;
    auto t0 = std::chrono::steady_clock::now();
    m->m = enq.get_mset(opts->offset, opts->limit, check);
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
    enq.clear_matchspies();
    if (opts->time_limit > 0 && took.count() >= opts->time_limit) {
      delete m;
      return err_set(err, ERR_TIMEOUT, 0, "search took %.3f s, limit %.3f s", took.count(),
                     opts->time_limit);
    }
    m->data.resize(m->m.size());
    m->facets.reserve(opts->nfacets);
    for (size_t f = 0; f < opts->nfacets; f++)
      m->facets.push_back(xw_facet_fold(*spies[opts->facets[f].slot], opts->facets[f]));
    *out = m;
    return 0;
  } catch (...) {
    delete m;
    return xw_fail(err);
  }
}

void xw_mset_free(xw_mset *m) {
  delete m;
}

uint32_t xw_mset_size(const xw_mset *m) {
  return m->m.size();
}

uint32_t xw_mset_matches_lower(const xw_mset *m) {
  return m->m.get_matches_lower_bound();
}

uint32_t xw_mset_matches_estimated(const xw_mset *m) {
  return m->m.get_matches_estimated();
}

uint32_t xw_mset_matches_upper(const xw_mset *m) {
  return m->m.get_matches_upper_bound();
}

xw_docid xw_mset_docid(const xw_mset *m, uint32_t i) {
  try {
    return i < m->m.size() ? *m->m[i] : 0;
  } catch (...) {
    return 0;
  }
}

double xw_mset_weight(const xw_mset *m, uint32_t i) {
  try {
    return i < m->m.size() ? m->m[i].get_weight() : 0;
  } catch (...) {
    return 0;
  }
}

int xw_mset_data(xw_mset *m, uint32_t i, const char **data, size_t *len, err_t *err) {
  *data = NULL;
  if (len) *len = 0;
  if (i >= m->data.size()) return err_set(err, ERR_INVAL, 0, "hit %u out of range", (unsigned)i);
  try {
    if (!m->data[i]) m->data[i].reset(new std::string(m->m[i].get_document().get_data()));
    *data = m->data[i]->data();
    if (len) *len = m->data[i]->size();
    return 0;
  } catch (...) {
    return xw_fail(err);
  }
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
  try {
    std::string t(term, len);
    size_t k = 0;
    for (auto p = db->db.positionlist_begin(id, t); p != db->db.positionlist_end(id, t); ++p, ++k)
      if (k < cap) pos[k] = *p;
    *n = k;
    return 0;
  } catch (...) {
    return xw_fail(err);
  }
}

} /* extern "C" */
