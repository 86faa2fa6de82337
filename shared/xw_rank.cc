/* xw_rank.cc: what a search costs and where it may run (see xw_int.h for
 * the module).
 *
 * Cost estimates (xw_query_cost): the postings a query would read, for the
 * engine's choice of plan.
 *
 * Shards that cannot match (xw_narrow_shards): a shard that holds none of
 * a term every match must hold is left out, as one outside a query's dates
 * is; on an archive by period a rare word lives in a few periods' shards.
 *
 * Ranking a subset of the shards as the whole database would:
 * A date-bounded query on an archive laid out by period matches in a few
 * shards, but its scores depend on every shard's statistics (a term's
 * document frequency, the collection's size and average length).  Asking
 * every shard for them on each query cost 14 us per shard (60 shards: 0.9 ms
 * of a 1.5 ms query).  Instead the match runs on the shards that can match,
 * weighted by xw_global_bm25 with the whole database's statistics, which
 * are kept per term for the revision open: the same scores, bit for bit, as
 * Xapian's BM25Weight on the whole database (its formula, step for step,
 * Xapian 1.4 bm25weight.cc).
 */
#include "xw_int.h"

extern "C" {

static uint64_t xw_add_sat(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t xw_cost(xw_db &x, const Xapian::Query &q, uint64_t cap) {
  switch (q.get_type()) {
    case Xapian::Query::LEAF_TERM:
      return xw_termfreq(x, *q.get_terms_begin());
    case Xapian::Query::LEAF_MATCH_NOTHING:
      return 0;
    case Xapian::Query::LEAF_MATCH_ALL:
    case Xapian::Query::OP_VALUE_RANGE:
    case Xapian::Query::OP_VALUE_GE:
    case Xapian::Query::OP_VALUE_LE:
      return x.db.get_doccount();
    case Xapian::Query::LEAF_POSTING_SOURCE: /* ours: counted in extra_cost */
      return 0;
    case Xapian::Query::OP_WILDCARD:
      return UINT64_MAX;
    default:
      break;
  }
  uint64_t sum = 0;
  for (size_t i = 0, n = q.get_num_subqueries(); i < n && sum <= cap; i++)
    sum = xw_add_sat(sum, xw_cost(x, q.get_subquery(i), cap));
  bool positional =
      q.get_type() == Xapian::Query::OP_PHRASE || q.get_type() == Xapian::Query::OP_NEAR;
  return positional ? xw_add_sat(sum, sum) : sum;
}

uint64_t xw_query_cost(xw_db *db, const xw_query *q, uint64_t cap) {
  if (!q) return UINT64_MAX;
  return xw_or<uint64_t>(UINT64_MAX,
                         [&] { return xw_add_sat(xw_cost(*db, q->q, cap), q->extra_cost); });
}

} /* extern "C" */

Xapian::doccount xw_termfreq(xw_db &x, const std::string &term) {
  if (x.writable) return x.db.get_termfreq(term);
  auto hit = x.tf_cache.find(term);
  if (hit != x.tf_cache.end()) return hit->second;
  Xapian::doccount tf = x.db.get_termfreq(term);
  if (x.tf_cache.size() >= XW_TF_CACHE) x.tf_cache.clear();
  x.tf_cache.emplace(term, tf);
  return tf;
}

/* The whole database's statistics for g's terms; false when two of them
 * share a code (g cannot tell them apart: rank on every shard). */
bool xw_global_stats_of(xw_db &x, const Xapian::Query &g, xw_global_stats &s) {
  Xapian::doccount n = x.db.get_doccount();
  s.collection_size = n;
  s.average_length = n ? double(x.db.get_total_length()) / n : 0;
  for (auto t = g.get_unique_terms_begin(); t != g.get_unique_terms_end(); ++t)
    if (!s.tf.emplace(xw_term_code(*t), xw_termfreq(x, *t)).second) return false;
  return true;
}

/* Which shards hold term: bit k of the result, kept per term for the
 * revision open beside its frequency (the same reads give both). */
static const xw_bits &xw_term_holders(xw_db &x, const std::string &term) {
  auto hit = x.holders_cache.find(term);
  if (hit != x.holders_cache.end()) return hit->second;
  size_t n = x.shards.size();
  xw_bits bits(n / 64 + 1, 0);
  Xapian::doccount tf = 0;
  for (size_t k = 0; k < n; k++) {
    Xapian::doccount f = x.shards[k].db.get_termfreq(term);
    if (f) bits[k / 64] |= (uint64_t)1 << (k % 64);
    tf += f;
  }
  if (x.holders_cache.size() >= XW_TF_CACHE) x.holders_cache.clear();
  if (x.tf_cache.size() < XW_TF_CACHE) x.tf_cache.emplace(term, tf);
  return x.holders_cache.emplace(term, std::move(bits)).first->second;
}

/* The shards where q can match: those holding each term that every match
 * must hold (under AND, FILTER, PHRASE, NEAR; the left of AND_NOT and
 * AND_MAYBE; any of an OR's branches).  Anything else may match anywhere. */
static xw_bits xw_holders(xw_db &x, const Xapian::Query &q) {
  size_t n = x.shards.size(), words = n / 64 + 1;
  switch (q.get_type()) {
    case Xapian::Query::LEAF_TERM:
      return xw_term_holders(x, *q.get_terms_begin());
    case Xapian::Query::LEAF_MATCH_NOTHING:
      return xw_bits(words, 0);
    case Xapian::Query::OP_AND:
    case Xapian::Query::OP_FILTER:
    case Xapian::Query::OP_PHRASE:
    case Xapian::Query::OP_NEAR: {
      xw_bits all(words, ~(uint64_t)0);
      for (size_t i = 0; i < q.get_num_subqueries(); i++) {
        xw_bits sub = xw_holders(x, q.get_subquery(i));
        for (size_t w = 0; w < words; w++) all[w] &= sub[w];
      }
      return all;
    }
    case Xapian::Query::OP_OR:
    case Xapian::Query::OP_SYNONYM:
    case Xapian::Query::OP_XOR:
    case Xapian::Query::OP_ELITE_SET:
    case Xapian::Query::OP_MAX: {
      xw_bits any(words, 0);
      for (size_t i = 0; i < q.get_num_subqueries(); i++) {
        xw_bits sub = xw_holders(x, q.get_subquery(i));
        for (size_t w = 0; w < words; w++) any[w] |= sub[w];
      }
      return any;
    }
    case Xapian::Query::OP_AND_NOT:
    case Xapian::Query::OP_AND_MAYBE:
    case Xapian::Query::OP_SCALE_WEIGHT:
      return xw_holders(x, q.get_subquery(0));
    default:
      return xw_bits(words, ~(uint64_t)0);
  }
}

bool xw_narrow_shards(xw_db &x, const Xapian::Query &q, const unsigned char *mask,
                      std::vector<unsigned char> &out) {
  size_t n = x.shards.size();
  if (n < 2 || !x.local || x.writable) return false;
  xw_bits holders = xw_holders(x, q);
  bool narrower = false;
  out.assign(n, 0);
  for (size_t k = 0; k < n; k++) {
    bool flagged = !mask || mask[k];
    out[k] = flagged && (holders[k / 64] >> (k % 64) & 1);
    narrower = narrower || (flagged && !out[k]);
  }
  return narrower;
}

/* The shards flagged in mask (xw_search_opts.shards) as one database, and
 * their places in x.shards into subset; the whole database, subset empty,
 * when every shard is flagged.  Xapian needs one shard: the last, where the
 * query's own date conditions match nothing, when none is flagged. */
Xapian::Database xw_subset(const xw_db &x, const unsigned char *mask, std::vector<size_t> &subset) {
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
Xapian::docid xw_subset_docid(const std::vector<size_t> &subset, size_t nshards, Xapian::docid d) {
  if (subset.empty()) return d;
  size_t j = (size_t)(d - 1) % subset.size();
  return xw_whole_docid((Xapian::docid)((d - 1) / subset.size() + 1), subset[j], nshards);
}

/* Can q be ranked on the shards of mask alone?  Yes when no weight needs
 * the statistics of those left out (unweighted), or when xw_global_bm25
 * supplies them (*global filled); never with a remote shard. */
bool xw_subset_ok(xw_db &x, const xw_query &q, const unsigned char *mask, bool unweighted,
                  xw_global_stats *global) {
  if (!mask || x.shards.size() < 2) return false;
  return unweighted || (x.local && q.g_ok && xw_global_stats_of(x, q.g, *global));
}
