/* xw_par.cc: ranking the shards of a local set, or one local index cut in
 * docid ranges, on several threads, each part on its own Enquire, and
 * merging their hits (xw_search; see xw_int.h for the module).
 *
 * Xapian 1.4 matches a set of shards as one, on the calling thread: its
 * matcher merges every shard's posting lists into one stream, and opens
 * each term's posting (and for a phrase, position) lists in every shard, a
 * B-tree descent and a block read each.  A three-word phrase on 4 shards
 * read 42 postlist blocks where one index read 21, and took 1.5 times as
 * long.  Those reads and the matching after them are independent per
 * shard: matched apart, each shard weighted with the whole set's
 * statistics (xw_global_bm25), on the pool's threads, the hits merged in
 * Xapian's own order (weight, then the whole set's docid), the answers are
 * the ones the combined match gives, sooner on a machine with cores to
 * spare.
 *
 * When (XW_SHARDS_AUTO): a match with a phrase or NEAR (the position
 * lists it opens in every shard are read at once), or one that walks at
 * least XW_PAR_POSTINGS postings (xw_par_work).  Below that, handing
 * shards to another thread costs more than it saves.  4 shards of the kit
 * against one index, p50, five alternating rounds on this 2-core VM
 * (2026-12-04, helpers that spin before sleeping, xw_spin): a rare word
 * 1.50 on threads, 1.37 combined; a word within a few weeks 1.37 and 1.10;
 * but a common word 0.74 and 1.13, two common words 0.92 and 1.09, a
 * two-word phrase 0.86 and 1.16, a three-word one 0.90 and 1.41, a phrase
 * within an outlet 1.18 and 1.47.  Two common words at 8,192 postings and
 * more 1.09, at 2,048 0.95.  Matched apart on one thread (XW_SHARDS_APART)
 * the shards cost what the combined match costs; that plan is for
 * comparison.
 * And only while the process's searches, in progress (xw_par_busy) and
 * queued (xw_note_waiting), leave cores idle: sift-searchd on 4 shards
 * with 16 connections served 13-27% fewer phrases and common words a
 * second when every search took threads.
 *
 * One index: the same pool matches it in as many ranges of docids as it
 * has threads (xw_range_source), each on a handle of its own (xw_db.ranges)
 * with the index's own statistics, so the weights, hits and exact totals
 * are the combined match's.  Each range costs a little more than its share
 * (a one-word match walks its range through an AND), and there are no
 * block reads to overlap, so it pays later than shards do: at XW_PAR_RANGES
 * postings, a phrase or NEAR at XW_PAR_RANGE_PHRASE (its position checks
 * split well), and never for a ranked OR that Xapian stops early
 * (xw_prunes: each range would stop later).  The kit as one index, every
 * harness query forced to threads against the combined match, by the
 * postings xw_par_work counts (2026-12-04, this 2-core VM): plain 512-1k
 * 1.00-1.07, 2k 0.88, 4k 0.80, 8k 0.86; positional under 256 1.04-1.30,
 * 512 0.94, 1k 0.80, 2k 0.73, 8k and more 0.61-0.64; a ranked OR 1.00.
 * Under AUTO, p50 (six alternating rounds): two common words 0.86, a
 * common word 0.88, two- and three-word phrases 0.80 (means 0.67-0.68),
 * the other classes 0.96-1.02.  Facets from columns are counted range by
 * range in the same tasks (xw_par_hooks), a word's from its posting list
 * (a broad word with two facets 0.85-0.87), another query's by a spy of
 * each range's own.
 *
 * Threads: a process-wide pool of helpers (xw_set_shard_plan's count at
 * the first use, by default the machine's cores, less one and at most
 * XW_PAR_MAX - 1; none on one core, where AUTO is the combined match),
 * started at the first use and never stopped.  The calling thread takes
 * shards too, so a search never waits for a helper busy with another
 * search.  Xapian's handles are not thread-safe, and its reference counts
 * are not atomic: a task touches only its own shard's database and its own
 * copy of the query (unserialised from the caller's, xw_registry() for the
 * posting sources), and the caller touches neither until every task is
 * done.
 */
#include "xw_int.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <system_error>
#include <thread>

enum {
  XW_PAR_MAX = 8,
  XW_PAR_POSTINGS = 1 << 11,
  XW_PAR_RANGES = 1 << 11,
  XW_PAR_RANGE_PHRASE = 1 << 9,
  XW_PAR_HITS = 1 << 17
};

namespace {

/* One parallel loop: tasks 0 .. n-1, claimed through next by whoever is
 * free; done counts those finished. */
struct xw_job {
  size_t n;
  const std::function<void(size_t)> *fn;
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};
};

struct xw_pool {
  std::mutex mu;
  std::condition_variable work, finished;
  std::deque<xw_job *> jobs;     /* jobs with tasks left to claim */
  std::atomic<size_t> queued{0}; /* jobs.size(), read without the lock */
  unsigned spinning = 0;         /* helpers spinning for a job (under mu) */
  unsigned helpers = 0;
};

std::atomic<unsigned> xw_par_threads{0}; /* xw_set_shard_plan; 0: the cores */
std::atomic<int> xw_par_plan{XW_SHARDS_AUTO};
std::atomic<unsigned> xw_par_searching{0}; /* searches in progress (xw_par_busy) */
std::atomic<int> xw_par_waiting{0};        /* searches queued (xw_note_waiting) */
std::atomic<uint64_t> xw_par_count{0};     /* xw_par_matched */

/* Do the process's searches, in progress and queued for a thread (a
 * daemon's), leave cores idle?  Each search on threads needs two cores or
 * more, and shards apart cost more CPU in all. */
bool xw_par_idle(unsigned helpers) {
  int waiting = std::max(xw_par_waiting.load(std::memory_order_relaxed), 0);
  return helpers &&
         2 * (xw_par_searching.load(std::memory_order_relaxed) + (unsigned)waiting) <= helpers + 1;
}

/* Spin before sleeping, yielding the core to anything runnable, for at
 * most this long, and only while cores are idle (a spinning thread takes
 * CPU from the searches of a busy daemon): waking a sleeping thread cost
 * 30-60 us a search on this 2-core VM (the wake-up's interrupt and two
 * context switches), as much as matching a rare word's 4 shards. */
const std::chrono::microseconds XW_PAR_SPIN{200};

template <class Ready> bool xw_spin(unsigned helpers, Ready ready) {
  auto until = std::chrono::steady_clock::now() + XW_PAR_SPIN;
  while (!ready()) {
    if (!xw_par_idle(helpers) || std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::yield();
  }
  return true;
}

/* A helper: claims tasks of the oldest job until none is left, then spins
 * a while for the next job before sleeping.  A job stays alive while it is
 * queued (its caller unqueues it under the lock before waiting) or while a
 * task of it a helper claimed is unfinished (done < n): a helper touches
 * it no more once its task is counted done. */
void xw_helper(xw_pool *p) {
  std::unique_lock<std::mutex> lk(p->mu);
  for (;;) {
    if (p->jobs.empty()) {
      p->spinning++;
      lk.unlock();
      xw_spin(p->helpers, [&] { return p->queued.load(std::memory_order_relaxed) != 0; });
      lk.lock();
      p->spinning--;
      p->work.wait(lk, [&] { return !p->jobs.empty(); });
    }
    xw_job *j = p->jobs.front();
    size_t k = j->next.fetch_add(1);
    if (k >= j->n) {
      p->jobs.pop_front();
      p->queued.store(p->jobs.size());
      continue;
    }
    size_t n = j->n; /* j may be gone once this task is counted */
    lk.unlock();
    (*j->fn)(k);
    bool last = j->done.fetch_add(1) + 1 == n;
    lk.lock();
    if (last) p->finished.notify_all();
  }
}

/* The pool, started at first use; leaked on purpose: its threads wait on
 * it until the process ends. */
xw_pool *xw_pool_get() {
  static xw_pool *pool = [] {
    xw_pool *p = new xw_pool;
    unsigned want = xw_par_threads.load();
    if (!want) want = std::thread::hardware_concurrency();
    p->helpers = std::min<unsigned>(std::max(want, 1u), XW_PAR_MAX) - 1;
    for (unsigned i = 0; i < p->helpers; i++) {
      try {
        std::thread(xw_helper, p).detach();
      } catch (const std::system_error &) { /* no more threads: fewer helpers */
        p->helpers = i;
        break;
      }
    }
    return p;
  }();
  return pool;
}

/* Run fn(k) for every k < n, on the calling thread and the pool's helpers;
 * returns when all have run.  fn must not throw. */
void xw_par_each(size_t n, const std::function<void(size_t)> &fn) {
  xw_pool *p = xw_pool_get();
  xw_job j;
  j.n = n;
  j.fn = &fn;
  if (p->helpers && n > 1) {
    bool wake;
    {
      std::lock_guard<std::mutex> lk(p->mu);
      p->jobs.push_back(&j);
      p->queued.store(p->jobs.size());
      /* Spinning helpers see the job unwoken: wake the others when too
       * few spin for its tasks. */
      wake = p->spinning < std::min<size_t>(n - 1, p->helpers);
    }
    if (wake) p->work.notify_all();
  }
  size_t mine = 0;
  for (size_t k; (k = j.next.fetch_add(1)) < n; mine++) fn(k);
  std::unique_lock<std::mutex> lk(p->mu);
  auto it = std::find(p->jobs.begin(), p->jobs.end(), &j);
  if (it != p->jobs.end()) p->jobs.erase(it);
  p->queued.store(p->jobs.size());
  lk.unlock();
  /* Every task is claimed: wait for the helpers' last ones. */
  if (j.done.fetch_add(mine) + mine == n || xw_spin(p->helpers, [&] { return j.done.load() == n; }))
    return;
  lk.lock();
  p->finished.wait(lk, [&] { return j.done.load() == n; });
}

/* A hit of one shard's match, placed in the whole set. */
struct xw_ref {
  double w;
  Xapian::docid d;
  uint32_t k, i;
  std::string key; /* a value sort's key */
};

} /* namespace */

/* The postings a match of q walks, roughly: a conjunction walks about its
 * rarest part (the others are skipped along it), a disjunction all of its
 * parts, a phrase its positions too.  A filter of ours (a posting source)
 * counts its documents (xw_query.extra_cost, all such filters'). */
static uint64_t xw_par_work(xw_db &x, const xw_query &xq, const Xapian::Query &q) {
  switch (q.get_type()) {
    case Xapian::Query::LEAF_TERM:
      return xw_termfreq(x, *q.get_terms_begin());
    case Xapian::Query::LEAF_MATCH_NOTHING:
      return 0;
    case Xapian::Query::LEAF_POSTING_SOURCE:
      return xq.extra_cost;
    case Xapian::Query::LEAF_MATCH_ALL:
    case Xapian::Query::OP_VALUE_RANGE:
    case Xapian::Query::OP_VALUE_GE:
    case Xapian::Query::OP_VALUE_LE:
    case Xapian::Query::OP_WILDCARD:
      return x.db.get_doccount();
    case Xapian::Query::OP_AND:
    case Xapian::Query::OP_FILTER:
    case Xapian::Query::OP_PHRASE:
    case Xapian::Query::OP_NEAR: {
      uint64_t least = UINT64_MAX;
      for (size_t i = 0; i < q.get_num_subqueries(); i++)
        least = std::min(least, xw_par_work(x, xq, q.get_subquery(i)));
      bool positional =
          q.get_type() == Xapian::Query::OP_PHRASE || q.get_type() == Xapian::Query::OP_NEAR;
      return least == UINT64_MAX ? 0 : positional ? 2 * least : least;
    }
    case Xapian::Query::OP_AND_NOT:
    case Xapian::Query::OP_AND_MAYBE:
    case Xapian::Query::OP_SCALE_WEIGHT:
      return xw_par_work(x, xq, q.get_subquery(0));
    default: { /* OR and its kin */
      uint64_t sum = 0;
      for (size_t i = 0; i < q.get_num_subqueries(); i++)
        sum += std::min<uint64_t>(xw_par_work(x, xq, q.get_subquery(i)), UINT32_MAX);
      return sum;
    }
  }
}

/* The docids lo..hi of one index: a task's range when one index is
 * matched on threads.  Filtered by it, Xapian's AND skips every list to lo
 * and stops past hi, so each task walks its own part of the postings.
 * Deleted docids are passed over by the lists it is ANDed with. */
class xw_range_source : public Xapian::PostingSource {
 public:
  xw_range_source(Xapian::docid lo_, Xapian::docid hi_) : lo(lo_), hi(hi_) {}
  xw_range_source *clone() const override { return new xw_range_source(lo, hi); }
  void init(const Xapian::Database &db) override {
    Xapian::doccount span = hi >= lo ? hi - lo + 1 : 0, live = db.get_doccount();
    Xapian::docid last = db.get_lastdocid();
    Xapian::doccount gone = last > live ? last - live : 0;
    fmax = span;
    fmin = span > gone ? span - gone : 0;
    fest = last ? (Xapian::doccount)((double)span * live / last) : 0;
    cur = lo;
    started = false;
  }
  Xapian::doccount get_termfreq_min() const override { return fmin; }
  Xapian::doccount get_termfreq_est() const override { return fest; }
  Xapian::doccount get_termfreq_max() const override { return fmax; }
  void next(double) override {
    if (started) cur++;
    started = true;
  }
  void skip_to(Xapian::docid did, double) override {
    started = true;
    cur = std::max(cur, did);
  }
  bool at_end() const override { return started && cur > hi; }
  Xapian::docid get_docid() const override { return cur; }
  std::string get_description() const override {
    return "xw_range(" + std::to_string(lo) + ".." + std::to_string(hi) + ")";
  }

 private:
  Xapian::docid lo, hi, cur = 0;
  Xapian::doccount fmin = 0, fest = 0, fmax = 0;
  bool started = false;
};

/* Handles for n ranges of x, one index, at x.db's revision: false (and
 * the match stays combined) when one cannot be moved there, e.g. x.db is
 * behind a writer's commit until xw_db_reopen moves it. */
static bool xw_ranges_ready(xw_db &x, size_t n) {
  try {
    Xapian::rev want = x.db.get_revision();
    while (x.ranges.size() + 1 < n) x.ranges.emplace_back(x.shards[0].name);
    for (auto &h : x.ranges) {
      if (h.get_revision() != want) h.reopen();
      if (h.get_revision() != want) return false;
    }
    return true;
  } catch (const Xapian::Error &) {
    x.ranges.clear();
    return false;
  }
}

/* Whether q holds a phrase or NEAR: each opens its terms' position lists
 * in every shard, a block read each, which threads read at once. */
static bool xw_positional(const Xapian::Query &q) {
  Xapian::Query::op t = q.get_type();
  if (t == Xapian::Query::OP_PHRASE || t == Xapian::Query::OP_NEAR) return true;
  for (size_t i = 0; i < q.get_num_subqueries(); i++)
    if (xw_positional(q.get_subquery(i))) return true;
  return false;
}

/* x is one read-only local index, and the plan may match it on threads. */
static bool xw_one_index(const xw_db &x) {
  return x.local && !x.writable && x.shards.size() == 1 && xw_par_plan.load() != XW_SHARDS_COMBINED;
}

/* The threads a search of q on one index takes now, the caller's
 * included, their handles ready; 0: it stays on one thread.  Under AUTO
 * only from least postings (before anything of the pool is asked: a
 * one-shot process starts no thread for a light query), and only while
 * cores are idle. */
static unsigned xw_one_index_threads(xw_db &x, const xw_query &q, uint64_t least) {
  bool aut = xw_par_plan.load() == XW_SHARDS_AUTO;
  if (aut && xw_par_work(x, q, q.q) < least) return 0;
  unsigned helpers = xw_pool_get()->helpers;
  if (!helpers || (aut && !xw_par_idle(helpers)) || !xw_ranges_ready(x, helpers + 1)) return 0;
  return helpers + 1;
}

bool xw_par_ok(xw_db &x, const xw_query &q, const unsigned char *mask, uint64_t page_end) {
  int plan = xw_par_plan.load();
  if (!x.local || x.writable || x.shards.empty() || plan == XW_SHARDS_COMBINED) return false;
  if (x.shards.size() == 1) { /* one index, in ranges */
    if ((mask && !mask[0]) || (plan == XW_SHARDS_AUTO && xw_prunes(q.q))) return false;
    unsigned n =
        xw_one_index_threads(x, q, xw_positional(q.q) ? XW_PAR_RANGE_PHRASE : XW_PAR_RANGES);
    return n && page_end * n <= XW_PAR_HITS;
  }
  size_t flagged = 0;
  for (size_t k = 0; k < x.shards.size(); k++) flagged += !mask || mask[k];
  /* Each shard returns the page's first page_end hits, not the set: a deep
   * page over many shards stays on the combined match, whose memory is one
   * page's. */
  if (flagged < 2 || page_end * flagged > XW_PAR_HITS) return false;
  if (plan != XW_SHARDS_AUTO) return true;
  return xw_par_idle(xw_pool_get()->helpers) &&
         (xw_positional(q.q) || xw_par_work(x, q, q.q) >= XW_PAR_POSTINGS);
}

/* task(0) .. task(n - 1), on the pool's threads (counted in xw_par_matched)
 * unless the plan is APART; once all are done, the first exception a task
 * threw is thrown again. */
static void xw_par_run(size_t n, const std::function<void(size_t)> &task) {
  std::vector<std::exception_ptr> errs(n);
  std::function<void(size_t)> caught = [&](size_t k) {
    try {
      task(k);
    } catch (...) {
      errs[k] = std::current_exception();
    }
  };
  if (xw_par_plan.load() != XW_SHARDS_APART) {
    xw_par_count.fetch_add(1, std::memory_order_relaxed);
    xw_par_each(n, caught);
  } else {
    for (size_t k = 0; k < n; k++) caught(k);
  }
  for (auto &e : errs)
    if (e) std::rethrow_exception(e);
}

bool xw_par_pair(xw_db &x, const xw_query &q, const std::function<void()> &match,
                 const std::function<void(const xw_db &view, const Xapian::Query &own)> &count) {
  if (!xw_one_index(x) || !xw_one_index_threads(x, q, XW_PAR_RANGES)) return false;
  xw_db view; /* the index through ranges[0]: xw_bits_eval reads view.db alone */
  view.db = x.ranges[0];
  /* The count's own query, rebuilt from its wire form on its thread: a
   * copy of q.q would share the nodes whose counts the match changes. */
  std::string wire = q.q.serialise();
  xw_par_run(2, [&](size_t k) {
    if (k) count(view, Xapian::Query::unserialise(wire, xw_registry()));
    else match();
  });
  return true;
}

size_t xw_par_nparts(const xw_db &x) {
  return x.shards.size() == 1 ? x.ranges.size() + 1 : x.shards.size();
}

void xw_par_match(xw_db &x, const xw_query &q, const unsigned char *mask,
                  const xw_global_stats &global, const xw_search_opts &o, Xapian::doccount check,
                  xw_mset &m, const xw_par_hooks &hooks) {
  bool ranges = x.shards.size() == 1;
  size_t n = xw_par_nparts(x);
  Xapian::docid last = ranges ? x.db.get_lastdocid() : 0;
  std::string wire = ranges ? q.q.serialise() : q.g.serialise();
  std::vector<Xapian::MSet> parts(n);
  Xapian::doccount want = o.offset + o.limit;
  if (want < o.offset) want = Xapian::doccount(-1);
  bool by_value = o.sort != XW_SORT_RELEVANCE, desc = o.sort == XW_SORT_VALUE_DESC;
  xw_par_run(n, [&](size_t k) {
    if (!ranges && mask && !mask[k]) return;
    Xapian::Query part = Xapian::Query::unserialise(wire, xw_registry());
    /* A range (one index): equal spans of docids, over which articles are
     * spread alike. */
    auto lo = (Xapian::docid)((uint64_t)last * k / n + 1);
    auto hi = (Xapian::docid)((uint64_t)last * (k + 1) / n);
    if (ranges)
      part = Xapian::Query(Xapian::Query::OP_FILTER, part,
                           Xapian::Query((new xw_range_source(lo, hi))->release()));
    const Xapian::Database &h = ranges && k ? x.ranges[k - 1] : x.shards[k].db;
    Xapian::Enquire enq(h);
    enq.set_query(part);
    if (ranges) enq.set_weighting_scheme(xw_bm25(o.bm25_k1, o.bm25_b));
    else enq.set_weighting_scheme(xw_global_bm25(o.bm25_k1, o.bm25_b, &global));
    if (by_value) enq.set_sort_by_value(o.sort_slot, desc);
#ifndef XW_NO_XAPIAN_TIMER
    if (o.time_limit > 0) enq.set_time_limit(o.time_limit);
#endif
    if (ranges && hooks.before) hooks.before(k, enq);
    parts[k] = enq.get_mset(0, want, check);
    if (ranges && hooks.after) hooks.after(k, h, lo, hi);
  });

  /* Xapian's order (matcher/msetcmp.cc): the weight descending, or the
   * value either way; then the docid ascending. */
  std::vector<xw_ref> refs;
  m.lower = m.estimated = m.upper = 0;
  for (size_t k = 0; k < n; k++) {
    m.lower += parts[k].get_matches_lower_bound();
    m.estimated += parts[k].get_matches_estimated();
    m.upper += parts[k].get_matches_upper_bound();
    for (auto it = parts[k].begin(); it != parts[k].end(); ++it)
      refs.push_back({it.get_weight(), ranges ? *it : xw_whole_docid(*it, k, n), (uint32_t)k,
                      (uint32_t)it.get_rank(), by_value ? it.get_sort_key() : std::string()});
  }
  auto before = [&](const xw_ref &a, const xw_ref &b) {
    if (by_value) {
      int c = a.key.compare(b.key);
      if (c) return desc ? c > 0 : c < 0;
    } else if (a.w != b.w) {
      return a.w > b.w;
    }
    return a.d < b.d;
  };
  size_t keep = std::min<size_t>(refs.size(), want);
  std::partial_sort(refs.begin(), refs.begin() + keep, refs.end(), before);
  for (size_t i = std::min<size_t>(o.offset, keep); i < keep; i++)
    m.hits.push_back({refs[i].k, refs[i].i, refs[i].d});
  m.parts = std::move(parts);
  m.nshards = ranges ? 1 : n;
}

xw_par_busy::xw_par_busy() { xw_par_searching.fetch_add(1); }
xw_par_busy::~xw_par_busy() { xw_par_searching.fetch_sub(1); }

extern "C" void xw_note_waiting(int delta) { xw_par_waiting.fetch_add(delta); }

extern "C" uint64_t xw_par_matched(void) { return xw_par_count.load(std::memory_order_relaxed); }

/* Out of memory here only leaves the handles to the first search. */
extern "C" void xw_db_ready_threads(xw_db *db) {
  if (!xw_one_index(*db)) return;
  xw_or<bool>(false, [&] {
    unsigned helpers = xw_pool_get()->helpers;
    return helpers && xw_ranges_ready(*db, helpers + 1);
  });
}

extern "C" void xw_set_shard_plan(xw_shard_plan plan, unsigned threads) {
  xw_par_plan.store(plan);
  xw_par_threads.store(threads);
}
