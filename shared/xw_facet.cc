/* xw_facet.cc: facet counts for the wrapper's searches (see xw_int.h for
 * the module): folding a value-count spy's whole values into the keys a
 * facet asks for, the names of author and tag values (xw_namer), and facet
 * columns (xw.h's xw_column_*: docid -> value id, loaded once per reader)
 * with the spy that counts a match into them.
 */
#include "xw_int.h"

#include <algorithm>
#include <set>

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
    if (e.second > best[id] || (e.second == best[id] && shown[id] != XW_SPELLINGS &&
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
xw_counts xw_facet_fold(const Xapian::ValueCountMatchSpy &spy, const xw_facet_spec &spec) {
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

extern "C" {

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

void xw_column_free(xw_column *c) { delete c; }

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

} /* extern "C" */

/* Count q's matches shard by shard (those flagged in shards, NULL: all),
 * unweighted, with a column spy on each when columns is set: the exact
 * total and facets of a local database of several shards, which a spy on
 * the combined match could not place. */
int64_t xw_count_by_shard(const xw_db *db, const Xapian::Query &q, const xw_search_opts *opts,
                          const unsigned char *shards, bool columns, xw_idcounts *counts) {
  int64_t total = 0;
  size_t n = db->shards.size();
  for (size_t k = 0; k < n; k++) {
    if (shards && !shards[k]) continue;
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
xw_counts xw_column_fold(const xw_column &c, const std::vector<uint32_t> &counts) {
  if (c.namer) return xw_names_fold(*c.namer, counts);
  xw_counts out;
  for (size_t id = 1; id < counts.size(); id++)
    if (counts[id]) out.emplace_back(c.names[id], counts[id]);
  xw_sort_counts(out);
  return out;
}
