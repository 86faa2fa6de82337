/* xw_filter.cc: filters answered from a column in memory (xw.h's
 * xw_query_column_range; see xw_int.h for the module).
 *
 * A date range is, as terms, the OR of the day, month and year terms that
 * cover it, and Xapian opens each of those posting lists in every shard: a
 * B-tree descent and a block read per term per shard, whatever the range
 * holds.  On 4 shards a three-week range cost 29 block reads a query where
 * one index took 9, and 1.75 times one index's time.  The day column
 * already knows every document's day, so the filter's documents come from
 * it instead: the column's documents per value (built at its first range)
 * give the range's docids, and a posting source hands each shard its own.
 */
#include "xw_int.h"

#include <algorithm>
#include <cstring>

/* The column's index for ranges, once: value ids in their values' byte
 * order, and each id's docids, ascending. */
static const xw_column_postings &xw_postings_of(const xw_column &c) {
  xw_column_postings &p = c.postings;
  if (p.built) return p;
  size_t nv = c.names.size();
  p.order.resize(nv);
  for (size_t id = 0; id < nv; id++) p.order[id] = (uint16_t)id;
  std::sort(p.order.begin(), p.order.end(),
            [&](uint16_t a, uint16_t b) { return c.names[a] < c.names[b]; });
  p.start.assign(nv + 1, 0);
  for (size_t id = 0; id < nv; id++) p.start[id + 1] = p.start[id] + c.totals[id];
  p.docs.resize(p.start[nv]);
  std::vector<uint32_t> fill(p.start.begin(), p.start.end() - 1);
  for (size_t d = 0; d < c.ids.size(); d++) p.docs[fill[c.ids[d]]++] = (Xapian::docid)d;
  p.built = true;
  return p;
}

/* The documents of a range, shard by shard: shard k's, as its own docids
 * (ascending), are docs[start[k] .. start[k + 1]). */
struct xw_docset : std::enable_shared_from_this<xw_docset> {
  std::vector<Xapian::docid> docs;
  std::vector<uint32_t> start;
  std::shared_ptr<const std::unordered_map<std::string, size_t>> shard_of; /* uuid -> k */
};

/* Split the whole database's docids (ascending) among n shards (docid d
 * lives in shard (d - 1) % n as (d - 1) / n + 1): one pass, each shard's
 * list staying in order. */
static void xw_docset_split(xw_docset &s, const std::vector<Xapian::docid> &all, size_t n) {
  s.start.assign(n + 1, 0);
  for (Xapian::docid d : all) s.start[(d - 1) % n + 1]++;
  for (size_t k = 0; k < n; k++) s.start[k + 1] += s.start[k];
  s.docs.resize(all.size());
  std::vector<uint32_t> fill(s.start.begin(), s.start.end() - 1);
  for (Xapian::docid d : all) s.docs[fill[(d - 1) % n]++] = (Xapian::docid)((d - 1) / n + 1);
}

/* Xapian 1.4 clones a posting source for each shard and hands init() that
 * shard alone, without its place in the database: its UUID tells which it
 * is (xw_db_uuids), and so which of the set's docids are its own.
 *
 * Serialised, a source is the address of its set: the form only copies a
 * query within this process (xw_par.cc), while the query it is copied from
 * keeps the set alive. */
class xw_docset_source : public Xapian::PostingSource {
 public:
  explicit xw_docset_source(std::shared_ptr<const xw_docset> s) : set(std::move(s)) {}
  xw_docset_source *clone() const override { return new xw_docset_source(set); }
  void init(const Xapian::Database &db) override {
    size_t k = 0;
    if (set->start.size() > 2) {
      auto it = set->shard_of->find(db.get_uuid());
      if (it == set->shard_of->end())
        throw Xapian::InvalidOperationError("a shard the filter was not built for");
      k = it->second;
    }
    begin = set->docs.data() + set->start[k];
    end = set->docs.data() + set->start[k + 1];
    pos = begin;
    started = false;
  }
  Xapian::doccount get_termfreq_min() const override { return (Xapian::doccount)(end - begin); }
  Xapian::doccount get_termfreq_est() const override { return (Xapian::doccount)(end - begin); }
  Xapian::doccount get_termfreq_max() const override { return (Xapian::doccount)(end - begin); }
  void next(double) override {
    if (started) pos++;
    started = true;
  }
  void skip_to(Xapian::docid did, double) override {
    started = true;
    if (pos < end && *pos < did) pos = std::lower_bound(pos, end, did);
  }
  bool at_end() const override { return started && pos >= end; }
  Xapian::docid get_docid() const override { return *pos; }
  std::string get_description() const override {
    return "xw_docset(" + std::to_string(set->docs.size()) + " documents)";
  }
  std::string name() const override { return "xw_docset"; }
  std::string serialise() const override {
    const xw_docset *p = set.get();
    return std::string((const char *)&p, sizeof p);
  }
  xw_docset_source *unserialise(const std::string &s) const override {
    const xw_docset *p = nullptr;
    if (s.size() != sizeof p) throw Xapian::SerialisationError("not an xw_docset in this process");
    std::memcpy(&p, s.data(), sizeof p);
    return new xw_docset_source(p->shared_from_this());
  }

 private:
  std::shared_ptr<const xw_docset> set;
  const Xapian::docid *begin = nullptr, *end = nullptr, *pos = nullptr; /* this shard's */
  bool started = false;
};

/* Each shard's UUID and place, once per handle; empty when two shards
 * share one (a shard listed twice, or copied): they cannot be told apart. */
static std::shared_ptr<const std::unordered_map<std::string, size_t>> xw_db_uuids(xw_db &x) {
  if (x.shard_of_uuid) return x.shard_of_uuid;
  auto m = std::make_shared<std::unordered_map<std::string, size_t>>();
  for (size_t k = 0; k < x.shards.size(); k++)
    if (!m->emplace(x.shards[k].db.get_uuid(), k).second) {
      m->clear();
      break;
    }
  x.shard_of_uuid = m;
  return m;
}

const Xapian::Registry &xw_registry() {
  static const Xapian::Registry *reg = [] {
    auto *r = new Xapian::Registry;
    r->register_posting_source(xw_docset_source(nullptr));
    return r;
  }();
  return *reg;
}

/* How many documents value ids ids[0 .. n) hold (id 0, no value, none). */
static uint64_t xw_docset_count(const xw_column &c, const uint16_t *ids, size_t n) {
  uint64_t total = 0;
  for (size_t i = 0; i < n; i++)
    if (ids[i]) total += c.totals[ids[i]];
  return total;
}

/* The documents of value ids ids[0 .. n) (count of them), split among db's
 * shards; NULL when two shards cannot be told apart.  The column's
 * postings are built. */
static std::shared_ptr<const xw_docset> xw_docset_make(xw_db &db, const xw_column &c,
                                                       const uint16_t *ids, size_t n,
                                                       uint64_t count) {
  const xw_column_postings &p = c.postings;
  auto set = std::make_shared<xw_docset>();
  size_t nshards = std::max<size_t>(db.shards.size(), 1);
  if (nshards > 1) {
    set->shard_of = xw_db_uuids(db);
    if (set->shard_of->empty()) return nullptr;
  }
  /* Gather the values' lists and order them: by sorting when the set is
   * small against the database, else by a pass over a bitmap. */
  size_t words = c.ids.size() / 64 + 1;
  std::vector<Xapian::docid> all;
  all.reserve(count);
  if (count * 16 < words || n == 1) {
    for (size_t i = 0; i < n; i++)
      if (ids[i])
        all.insert(all.end(), p.docs.begin() + p.start[ids[i]],
                   p.docs.begin() + p.start[ids[i] + 1]);
    if (n > 1) std::sort(all.begin(), all.end());
  } else {
    xw_bits bits(words, 0);
    for (size_t i = 0; i < n; i++)
      if (ids[i])
        for (uint32_t j = p.start[ids[i]]; j < p.start[ids[i] + 1]; j++)
          bits[p.docs[j] / 64] |= (uint64_t)1 << (p.docs[j] % 64);
    xw_bits_each(bits, [&](Xapian::docid d) { all.push_back(d); });
  }
  if (nshards == 1) {
    set->docs = std::move(all);
    set->start = {0, (uint32_t)set->docs.size()};
  } else {
    xw_docset_split(*set, all, nshards);
  }
  return set;
}

/* A filter matching set's documents. */
static xw_query *xw_docset_query(std::shared_ptr<const xw_docset> set) {
  uint64_t n = set->docs.size();
  Xapian::Query q((new xw_docset_source(std::move(set)))->release());
  xw_query *x = new xw_query{q, q, true};
  x->extra_cost = n;
  return x;
}

extern "C" {

int xw_query_column_range(xw_db *db, const xw_column *c, const char *lo, const char *hi,
                          uint32_t max, xw_query **out, uint32_t *count, err_t *err) {
  *out = NULL;
  if (count) *count = 0;
  if (!db || !c || !lo || !hi) return err_set(err, ERR_INVAL, 0, "no database, column or bounds");
  return xw_try(err, [&] {
    const xw_column_postings &p = xw_postings_of(*c);
    std::string l(lo), h(hi);
    auto first =
        std::lower_bound(p.order.begin(), p.order.end(), l,
                         [&](uint16_t id, const std::string &v) { return c->names[id] < v; });
    auto last = std::upper_bound(first, p.order.end(), h, [&](const std::string &v, uint16_t id) {
      return v < c->names[id];
    });
    const uint16_t *ids = p.order.data() + (first - p.order.begin());
    size_t nids = (size_t)(last - first);
    uint64_t n = xw_docset_count(*c, ids, nids);
    if (count) *count = (uint32_t)std::min<uint64_t>(n, UINT32_MAX);
    if (n > max || !db->local) return 0;
    auto set = xw_docset_make(*db, *c, ids, nids, n);
    if (set) *out = xw_docset_query(std::move(set));
    return 0;
  });
}

int xw_query_column_ids(xw_db *db, const xw_column *c, const uint32_t *ids, size_t n,
                        xw_query **out, err_t *err) {
  *out = NULL;
  if (!db || !c || (!ids && n)) return err_set(err, ERR_INVAL, 0, "no database, column or ids");
  return xw_try(err, [&] {
    if (!db->local) return 0;
    std::vector<uint16_t> key;
    for (size_t i = 0; i < n; i++)
      if (ids[i] && ids[i] < c->names.size()) key.push_back((uint16_t)ids[i]);
    std::sort(key.begin(), key.end());
    key.erase(std::unique(key.begin(), key.end()), key.end());
    xw_column_postings &p = c->postings;
    auto it = p.kept.find(key);
    if (it == p.kept.end()) {
      xw_postings_of(*c);
      uint64_t count = xw_docset_count(*c, key.data(), key.size());
      auto set = xw_docset_make(*db, *c, key.data(), key.size(), count);
      if (!set) return 0;
      /* Sets of distinct values hold each document once: past as many
       * docids as the column has documents, the ids asked overlap. */
      if (p.kept_docs + count > c->ids.size()) {
        p.kept.clear();
        p.kept_docs = 0;
      }
      p.kept_docs += count;
      it = p.kept.emplace(std::move(key), std::move(set)).first;
    }
    *out = xw_docset_query(it->second);
    return 0;
  });
}

} /* extern "C" */
