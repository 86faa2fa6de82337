/* xw_int.h: what the files of the Xapian wrapper share behind xw.h: the
 * handles' C++ structs, the exception firewall (xw_try, xw_or), the docid
 * bitmaps, the facet column spy and the whole-database BM25.  C++ only; no
 * caller outside shared/xw*.cc includes it, but the unit test of what the
 * wrapper's threads may share (tests/unit/test_xw_par.cc).
 *
 * The wrapper is xw.cc (errors, shard sets, databases, documents, queries,
 * searching, term lists), xw_count.cc (counting matches as sets of docids),
 * xw_facet.cc (facet names and columns), xw_filter.cc (filters answered
 * from a column in memory), xw_par.cc (ranking shards on several threads)
 * and xw_rank.cc (ranking a subset of the shards as the whole database
 * would, cost estimates).  xw.cc's top
 * comment has the invariants every file keeps.
 */
#ifndef SIFT_XW_INT_H
#define SIFT_XW_INT_H

/* err.h has no extern "C" of its own; xw.h includes it outside its block. */
extern "C" {
#include "err.h"
}

#include "xw.h"

#include <xapian.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

/* One shard of a database opened for reading: a local glass directory or a
 * remote one.  name is the path, or "host:port" / the program of a remote. */
struct xw_shard {
  std::string name;
  bool remote;
  Xapian::Database db;
};

/* One walk of the lexicon by xw_db_prefix_each: the terms, and whether
 * there were more than it asked for. */
struct xw_prefix_walk {
  std::vector<std::string> terms;
  bool over = false;
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
  /* Terms' frequencies in the whole database (xw_termfreq), for ranking a
   * subset of its shards (xw_global_stats) and for xw_db_termfreq: exact
   * for the revision open, so dropped when xw_db_reopen moves it; at most
   * XW_TF_CACHE terms. */
  std::unordered_map<std::string, Xapian::doccount> tf_cache;
  /* Which shards hold a term (xw_rank.cc, bit k for shard k): kept as
   * tf_cache is, for a read-only set of local shards. */
  std::unordered_map<std::string, std::vector<uint64_t>> holders_cache;
  /* xw_db_prefix_each's walks of the lexicon, by prefix and maximum: kept
   * as tf_cache is; prefix_terms counts their terms (one more a walk), at
   * most XW_PREFIX_CACHE. */
  std::unordered_map<std::string, xw_prefix_walk> prefix_cache;
  size_t prefix_terms = 0;
  /* Each shard's UUID -> its place (xw_filter.cc), at first use; empty
   * when two shards share a UUID. */
  std::shared_ptr<const std::unordered_map<std::string, size_t>> shard_of_uuid;
  /* More read-only handles on a database of one local shard, for matching
   * its docid ranges on threads (xw_par.cc): task 0 takes shards[0].db,
   * task k ranges[k - 1]; each is moved to db's revision before use. */
  std::vector<Xapian::Database> ranges;
};

enum { XW_TF_CACHE = 1 << 16, XW_PREFIX_CACHE = 1 << 17 };

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
  /* What xw_query_cost cannot read from the tree: the documents of its
   * filters answered from memory (xw_filter.cc), summed. */
  uint64_t extra_cost = 0;
};

typedef std::vector<std::pair<std::string, uint32_t>> xw_counts;

/* The names of facet values (xw_split_fn): which names each value holds,
 * in which spellings.  Values are added in order (value k is the k-th
 * added); finish() then settles the whole-string keys.  Counts and
 * spellings are settled per search from the values' counts
 * (xw_names_fold), so a column and a spy on the same matches agree. */
struct xw_namer {
  std::unordered_map<std::string, uint32_t> ids;  /* key -> name id */
  std::unordered_map<std::string, uint32_t> sids; /* spelling -> id */
  std::vector<const std::string *> spelling;      /* spelling id -> it */
  std::vector<uint32_t> sole;                     /* name id -> its spelling id, or
                                                          XW_SPELLINGS when it has several */
  std::vector<std::vector<uint32_t>> of;          /* value -> its name ids */
  std::vector<std::vector<uint32_t>> whole;       /* value -> ids by its whole key */
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> spelled; /* value -> (name, spelling) */
  std::vector<std::pair<size_t, std::string>> wholes; /* value, whole key (until finish) */

  void add(const std::string &val, xw_split_fn split);
  void finish();
};

struct xw_docset; /* xw_filter.cc */

/* A column's documents by value, for filters (xw_filter.cc), built at the
 * first filter asked of it: value ids in their values' byte order; id k's
 * docids, ascending, are docs[start[k] .. start[k + 1]).  kept: the sets
 * of xw_query_column_ids, by their ids (ascending), kept_docs docids in
 * all. */
struct xw_column_postings {
  bool built = false;
  std::vector<uint16_t> order;
  std::vector<uint32_t> start;
  std::vector<Xapian::docid> docs;
  std::map<std::vector<uint16_t>, std::shared_ptr<const xw_docset>> kept;
  uint64_t kept_docs = 0;
};

struct xw_column {
  std::vector<std::string> names;  /* id -> value; id 0 is "no value" */
  std::vector<uint16_t> ids;       /* docid -> id */
  std::vector<uint32_t> totals;    /* id -> documents holding it */
  std::unique_ptr<xw_namer> namer; /* xw_column_names: counts read as names */
  /* Built by a reader of a const column: a column serves one engine, read
   * by one thread at a time (an engine's, eng.h). */
  mutable xw_column_postings postings;

  size_t id_of(Xapian::docid d) const { return d < ids.size() ? ids[d] : 0; }
};

/* Docid d of shard k, of n, as the whole database's (Xapian interleaves
 * shards: whole docid w lives in shard (w - 1) % n). */
inline Xapian::docid xw_whole_docid(Xapian::docid d, size_t k, size_t n) {
  return (Xapian::docid)((d - 1) * n + k + 1);
}

struct xw_mset {
  Xapian::MSet m;
  /* The match ran on these shards of n alone (empty: all of them): its
   * docids are mapped back to the whole database's. */
  std::vector<size_t> subset;
  size_t nshards = 1;
  /* Or it ran shard by shard (xw_par.cc): parts[k] is shard k's match (its
   * own docids), and hit i is parts[hits[i].k][hits[i].i], docid hits[i].d
   * in the whole database. */
  struct hit {
    uint32_t k, i;
    Xapian::docid d;
  };
  std::vector<Xapian::MSet> parts;
  std::vector<hit> hits;
  Xapian::doccount lower = 0, estimated = 0, upper = 0; /* the match's counts */
  int64_t total = -1;                             /* exact total known without checking, or -1 */
  std::vector<std::unique_ptr<std::string>> data; /* hit i's data, once fetched */
  std::vector<xw_counts> facets;                  /* one per facet spec */
};

/* Hit i of m, and its docid in the whole database. */
Xapian::MSetIterator xw_mset_at(const xw_mset &m, uint32_t i);
uint32_t xw_mset_count(const xw_mset &m);

/* ---- the firewall (xw.cc) ---- */

/* Only inside a catch: record the exception in flight in err, return its
 * code. */
int xw_fail(err_t *err) noexcept;
/* The code standing for term t in xw_query.g (its wqf); defined among
 * xw.cc's C entry points, hence its linkage. */
extern "C" Xapian::termcount xw_term_code(const std::string &t);

/* Run f, which returns 0 or an ERR_* code; an exception becomes its code. */
template <class F> int xw_try(err_t *err, F f) noexcept {
  try {
    return f();
  } catch (...) {
    return xw_fail(err);
  }
}

/* Run f; an exception gives fallback instead. */
template <class T, class F> T xw_or(T fallback, F f) noexcept {
  try {
    return f();
  } catch (...) {
    return fallback;
  }
}

/* ---- docid bitmaps (xw_count.cc) ---- */

typedef std::vector<uint64_t> xw_bits;

/* Every docid in b, ascending. */
template <class F> void xw_bits_each(const xw_bits &b, F f) {
  for (size_t i = 0; i < b.size(); i++)
    for (uint64_t w = b[i]; w; w &= w - 1) f((Xapian::docid)(i * 64 + (size_t)__builtin_ctzll(w)));
}

/* f(docid) for each posting of term (every document for "", Xapian's
 * match-all), in the combined database's docids.  Several shards are walked
 * one by one, mapping their docids: Xapian's merged posting list of a stub
 * costs several times more per posting. */
template <class F> void xw_each_posting(const xw_db &x, const std::string &term, F f) {
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
template <class F> void xw_each_value(const xw_db &x, unsigned slot, F f) {
  size_t n = x.shards.size();
  for (size_t k = 0; k < (n ? n : 1); k++) {
    const Xapian::Database &sh = n > 1 ? x.shards[k].db : x.db;
    for (auto v = sh.valuestream_begin(slot); v != sh.valuestream_end(slot); ++v)
      f(n > 1 ? (Xapian::docid)((v.get_docid() - 1) * n + k + 1) : v.get_docid(), *v);
  }
}

/* ---- facet columns (xw_facet.cc) ---- */

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
    Xapian::docid d = xw_whole_docid(doc.get_docid(), shard, nshards);
    for (size_t f = 0; f < opts->nfacets; f++) (*counts)[f][opts->facets[f].column->id_of(d)]++;
  }

 private:
  const xw_search_opts *opts;
  xw_idcounts *counts;
  size_t shard, nshards;
};

/* Xapian's BM25 with our parameters (0: its defaults, k1 1 and b 0.5). */
inline Xapian::BM25Weight xw_bm25(double k1, double b) {
  return Xapian::BM25Weight(k1 ? k1 : 1, 0, 1, b ? b : 0.5, 0.5);
}

/* ---- whole-database BM25 (xw_rank.cc) ---- */

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
  double get_sumpart(Xapian::termcount wdf, Xapian::termcount len,
                     Xapian::termcount) const override {
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

/* xw_count.cc: counting matches as sets of docids */
bool xw_countable(const Xapian::Query &q);
bool xw_prunes(const Xapian::Query &q);
size_t xw_bits_count(const xw_bits &b);
void xw_bits_eval(const xw_db &x, const Xapian::Query &q, xw_bits &out);

/* xw_facet.cc: facet names and columns */
xw_counts xw_facet_fold(const Xapian::ValueCountMatchSpy &spy, const xw_facet_spec &spec);
int64_t xw_count_by_shard(const xw_db *db, const Xapian::Query &q, const xw_search_opts *opts,
                          const unsigned char *shards, bool columns, xw_idcounts *counts);
xw_counts xw_column_fold(const xw_column &c, const std::vector<uint32_t> &counts);

/* xw_rank.cc: ranking a subset of the shards, cost estimates */
/* term's frequency in the whole database, from xw_db.tf_cache on a
 * read-only handle (asking every shard of a stub costs a B-tree lookup in
 * each; a writable handle is asked, as its counts move with every write). */
Xapian::doccount xw_termfreq(xw_db &x, const std::string &term);
bool xw_global_stats_of(xw_db &x, const Xapian::Query &g, xw_global_stats &s);
Xapian::Database xw_subset(const xw_db &x, const unsigned char *mask, std::vector<size_t> &subset);
Xapian::docid xw_subset_docid(const std::vector<size_t> &subset, size_t nshards, Xapian::docid d);
bool xw_subset_ok(xw_db &x, const xw_query &q, const unsigned char *mask, bool unweighted,
                  xw_global_stats *global);
/* The shards of mask (NULL: all) where q can match, as a mask into out:
 * true when that leaves out a shard mask flags (on a read-only set of
 * local shards only). */
bool xw_narrow_shards(xw_db &x, const Xapian::Query &q, const unsigned char *mask,
                      std::vector<unsigned char> &out);

/* xw_filter.cc: the posting sources of our queries, for unserialising a
 * query within this process (xw_par.cc) */
const Xapian::Registry &xw_registry();

/* xw_par.cc: ranking a set of local shards, or one local index cut in
 * docid ranges, on several threads.
 * xw_par_ok: x is such a set, with more than one shard of mask (NULL:
 * all), or one read-only local index, and the plan (xw_set_shard_plan)
 * ranks q on it apart, for a page that ends at hit page_end (offset +
 * limit), up to XW_PAR_HITS hits held in all.
 * xw_par_match: on a set, rank q.g, weighted with the whole database's
 * statistics (global, xw_global_stats_of), on the shards of mask, each
 * apart; on one index, rank q.q in each range; into m (parts, hits,
 * counts); check as Enquire::get_mset's.  By relevance or by a value
 * (o.sort), without a cursor.  hooks, on one index only: the caller's
 * work on each range's documents, in its task (xw_par_nparts(x) tasks, k =
 * 0 ...). */
bool xw_par_ok(xw_db &x, const xw_query &q, const unsigned char *mask, uint64_t page_end);
/* Counts a search in progress for as long as it lives (xw_search): under
 * XW_SHARDS_AUTO, shards go to threads only while searches leave cores
 * idle. */
struct xw_par_busy {
  xw_par_busy();
  ~xw_par_busy();
  xw_par_busy(const xw_par_busy &) = delete;
  xw_par_busy &operator=(const xw_par_busy &) = delete;
};
struct xw_par_hooks {
  /* Before the range's match, given its Enquire: e.g. a match spy of its
   * own.  After it, given its handle and docids lo..hi: e.g. a walk of a
   * posting list.  Either may be empty. */
  std::function<void(size_t k, Xapian::Enquire &enq)> before;
  std::function<void(size_t k, const Xapian::Database &h, Xapian::docid lo, Xapian::docid hi)>
      after;
};
size_t xw_par_nparts(const xw_db &x);
/* On one index, when the plan lets q take threads: run match() and
 * count(view, own) at once, view reading the index through a handle of
 * its own and own a copy of q.q that shares nothing with it (a ranked OR
 * stops early; its exact count walks every posting apart, xw_bits_eval),
 * and return true; false, running neither, when it may not.  An exception
 * of either is thrown once both are done.  Xapian's objects count their
 * references without atomics, so the two threads may share no handle:
 * count must not touch q.q, nor match the view. */
bool xw_par_pair(xw_db &x, const xw_query &q, const std::function<void()> &match,
                 const std::function<void(const xw_db &view, const Xapian::Query &own)> &count);
void xw_par_match(xw_db &x, const xw_query &q, const unsigned char *mask,
                  const xw_global_stats &global, const xw_search_opts &o, Xapian::doccount check,
                  xw_mset &m, const xw_par_hooks &hooks = xw_par_hooks());

#endif
